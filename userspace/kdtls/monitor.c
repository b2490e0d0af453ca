// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls monitor: the kernel's "events" notifications of this network
 * namespace, one line each as they arrive, until killed:
 *
 *	09:50:01.123 socket 1: association with 127.0.0.1:40001 removed
 *	09:50:02.456 socket 1: detached
 *
 * or, with --json, one object per line:
 *
 *	{"time":"2026-11-26T09:50:01.123Z","event":"assoc-del",
 *	 "sock-id":1,"peer":"127.0.0.1:40001"}
 *
 * kdtls.ko announces an association's removal (assoc-del by the agent,
 * e.g. after a close_notify, or by an administrator) and a socket's
 * detach (sock-detach, or the socket closed).  Once subscribed, a line
 * "kdtls: listening for events" goes to stderr, so that a script can wait
 * for it instead of sleeping.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"

/* "09:50:01.123" (local time) or "2026-11-26T09:50:01.123Z" (UTC). */
static void stamp(char *buf, size_t len, bool iso)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	if (iso)
		gmtime_r(&tv.tv_sec, &tm);
	else
		localtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ld%s", (long)tv.tv_usec / 1000,
		 iso ? "Z" : "");
}

static int event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KDTLS_A_MAX + 1];
	char when[40], peer[KCTL_PEER_STRLEN];
	bool json = *(bool *)arg;
	uint32_t id = 0;
	uint8_t cmd;

	if (kctl_nl_parse(msg, &cmd, tb)) {
		kctl_err("monitor: malformed notification");
		return NL_SKIP;
	}
	stamp(when, sizeof(when), json);
	if (tb[KDTLS_A_SOCK_ID])
		id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	if (kctl_peer_str(tb, peer, sizeof(peer)))
		peer[0] = '\0';
	if (json) {
		out_begin(NULL);
		out_str("time", when);
		out_str("event", cmd == KDTLS_CMD_ASSOC_DEL_NTF ? "assoc-del" :
				 cmd == KDTLS_CMD_SOCK_DETACH_NTF ?
				 "sock-detach" : "unknown");
		if (cmd != KDTLS_CMD_ASSOC_DEL_NTF &&
		    cmd != KDTLS_CMD_SOCK_DETACH_NTF)
			out_u64("cmd", cmd);
		if (tb[KDTLS_A_SOCK_ID])
			out_u64("sock-id", id);
		if (peer[0])
			out_str("peer", peer);
		out_end();
		return NL_OK;
	}
	switch (cmd) {
	case KDTLS_CMD_ASSOC_DEL_NTF:
		printf("%s socket %u: association with %s removed\n", when, id,
		       peer[0] ? peer : "?");
		break;
	case KDTLS_CMD_SOCK_DETACH_NTF:
		printf("%s socket %u: detached\n", when, id);
		break;
	default:
		printf("%s socket %u: event %u%s%s\n", when, id, cmd,
		       peer[0] ? " peer " : "", peer);
		break;
	}
	return NL_OK;
}

int kcli_monitor(bool json)
{
	static bool mode;

	mode = json;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kctl_nl_join_events())
		return KCTL_EXIT_FAIL;
	out_init(json);
	fprintf(stderr, "%s: listening for events\n", kctl_prog);
	return kctl_nl_listen(event, &mode);
}
