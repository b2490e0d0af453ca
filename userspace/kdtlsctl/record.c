// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsctl: send (record-send) and monitor.
 *
 * monitor joins the "events" multicast group and prints every
 * notification, one line each (one JSON object each with --json):
 *
 *   assoc-del sock-id N peer A:P
 *   sock-detach sock-id N
 *   record sock-id N peer A:P type T flags F [epoch E seq S] len L data HEX
 *
 * The last kind is unicast to a socket's agent, so it is seen only when
 * this process is the agent: "monitor --agent --fd N" attaches fd N with
 * the agent flag first (printing "sock-id N"), or a batch ran
 * "attach --agent" earlier on the same netlink socket.  Once subscribed it
 * prints "listening", so a test can wait for that line instead of sleeping.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdtlsctl.h"

enum {
	OPT_FD = 256,
	OPT_PEER,
	OPT_SEAL,
	OPT_TYPE,
	OPT_FLAGS,
	OPT_DATA,
	OPT_AGENT,
	OPT_JSON,
};

/* Generous, so the kernel's own limit (16384) can be tested. */
#define SEND_DATA_MAX	65000

int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "peer",	required_argument, NULL, OPT_PEER },
		{ "seal",	no_argument,	   NULL, OPT_SEAL },
		{ "type",	required_argument, NULL, OPT_TYPE },
		{ "flags",	required_argument, NULL, OPT_FLAGS },
		{ "data",	required_argument, NULL, OPT_DATA },
		{ }
	};
	bool has_fd = false, has_peer = false, has_type = false;
	uint32_t fd = 0, flags = 0, raw;
	const char *data_arg = NULL;
	struct kctl_peer peer;
	struct nl_msg *msg;
	uint8_t type = 0, *data;
	size_t len;
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FD:
			if (kctl_parse_u32(optarg, &fd))
				return kctl_usage("--fd: bad number");
			has_fd = true;
			break;
		case OPT_PEER:
			if (kctl_parse_peer(optarg, &peer))
				return kctl_usage("--peer: bad ADDR:PORT: %s",
						  optarg);
			has_peer = true;
			break;
		case OPT_SEAL:
			flags |= KDTLS_RECORD_F_SEAL;
			break;
		case OPT_TYPE:
			if (kctl_parse_rtype(optarg, &type))
				return kctl_usage("--type: bad type: %s",
						  optarg);
			has_type = true;
			break;
		case OPT_FLAGS:
			if (kctl_parse_u32(optarg, &raw))
				return kctl_usage("--flags: bad number");
			flags |= raw;
			break;
		case OPT_DATA:
			data_arg = optarg;
			break;
		default:
			return kctl_opt_err(argv, opt);
		}
	}
	if (optind < argc)
		return kctl_usage("unexpected argument: %s", argv[optind]);
	if (!has_fd || !has_peer || !data_arg)
		return kctl_usage("--fd, --peer and --data needed");
	data = malloc(SEND_DATA_MAX);
	if (!data) {
		kctl_err("out of memory");
		return KCTL_EXIT_FAIL;
	}
	if (kctl_parse_hex(data_arg, data, SEND_DATA_MAX, &len)) {
		free(data);
		return kctl_usage("--data: bad hex or longer than %d bytes",
				  SEND_DATA_MAX);
	}
	ret = KCTL_EXIT_FAIL;
	msg = kctl_msg_new(KDTLS_CMD_RECORD_SEND, 0);
	if (!msg)
		goto out;
	if (nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    kctl_put_peer(msg, &peer) ||
	    (has_type && nla_put_u8(msg, KDTLS_A_RECORD_TYPE, type)) ||
	    (flags && nla_put_u32(msg, KDTLS_A_RECORD_FLAGS, flags)) ||
	    nla_put(msg, KDTLS_A_RECORD_DATA, len, data)) {
		kctl_err("record-send: message too long");
		nlmsg_free(msg);
		goto out;
	}
	ret = kctl_request(msg, "record-send", NULL, NULL);
out:
	free(data);
	return ret;
}

static int event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KDTLS_A_MAX + 1];
	struct nlattr *data;
	uint8_t cmd;

	(void)arg;
	if (kctl_nl_parse(msg, &cmd, tb)) {
		kctl_err("monitor: malformed notification");
		return NL_SKIP;
	}
	out_begin(NULL);
	switch (cmd) {
	case KDTLS_CMD_ASSOC_DEL_NTF:
		out_str(out_json() ? "event" : NULL, "assoc-del");
		break;
	case KDTLS_CMD_SOCK_DETACH_NTF:
		out_str(out_json() ? "event" : NULL, "sock-detach");
		break;
	case KDTLS_CMD_RECORD:
		out_str(out_json() ? "event" : NULL, "record");
		break;
	default:
		out_str(out_json() ? "event" : NULL, "unknown");
		out_u64("cmd", cmd);
		break;
	}
	if (tb[KDTLS_A_SOCK_ID])
		out_u64("sock-id", nla_get_u32(tb[KDTLS_A_SOCK_ID]));
	out_peer("peer", tb);
	if (tb[KDTLS_A_RECORD_TYPE])
		out_u64("type", nla_get_u8(tb[KDTLS_A_RECORD_TYPE]));
	if (cmd == KDTLS_CMD_RECORD || tb[KDTLS_A_RECORD_FLAGS])
		out_record_flags("flags", tb[KDTLS_A_RECORD_FLAGS] ?
				 nla_get_u32(tb[KDTLS_A_RECORD_FLAGS]) : 0);
	if (tb[KDTLS_A_RECORD_EPOCH])
		out_u64("epoch", nla_get_u16(tb[KDTLS_A_RECORD_EPOCH]));
	if (tb[KDTLS_A_RECORD_SEQ])
		out_u64("seq", nla_get_u64(tb[KDTLS_A_RECORD_SEQ]));
	data = tb[KDTLS_A_RECORD_DATA];
	if (data) {
		out_u64("len", nla_len(data));
		out_hex("data", nla_data(data), nla_len(data));
	}
	out_end();
	return NL_OK;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent",	no_argument,	   NULL, OPT_AGENT },
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "json",	no_argument,	   NULL, OPT_JSON },
		{ }
	};
	bool agent = false, has_fd = false, json = false;
	uint32_t fd = 0;
	int opt, err;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_AGENT:
			agent = true;
			break;
		case OPT_FD:
			if (kctl_parse_u32(optarg, &fd))
				return kctl_usage("--fd: bad number");
			has_fd = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return kctl_opt_err(argv, opt);
		}
	}
	if (optind < argc)
		return kctl_usage("unexpected argument: %s", argv[optind]);
	if (agent != has_fd)
		return kctl_usage("--agent and --fd go together");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kctl_nl_open())
		return KCTL_EXIT_FAIL;
	if (agent) {
		err = kctl_attach(fd, KDTLS_SOCK_F_AGENT, false, 0, -1);
		if (err)
			return err;
	}
	if (kctl_nl_join_events())
		return KCTL_EXIT_FAIL;
	out_init(json);
	if (json)
		puts("{\"event\":\"listening\"}");
	else
		puts("listening");
	return kctl_nl_listen(event, NULL);
}
