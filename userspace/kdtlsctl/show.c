// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsctl: show.
 *
 *   show [--json]				sock-get dump: every socket
 *   show --fd N|--id N [--json]		sock-get, then assoc-get dump
 *   show --fd N|--id N --peer A:P [--json]	assoc-get of one peer
 *
 * JSON shapes: the dump is an array of socket objects; one socket is an
 * object with an "assocs" array; one association is an object.
 *
 *   socket: { "sock-id", "family" (4|6), "flags" [names], "max-assocs",
 *             "num-assocs", "agent-portid", "gro" (0|1), "stats" {name: n} }
 *   assoc:  { "peer" "A:P"|"[A]:P", "sock-id", "version", "cipher" name,
 *             "replay-window", "rx-grace-ms", "max-payload",
 *             "tx" {"epoch","seq"}, "rx" {"epoch","seq"}, "stats" {...} }
 *
 * Members the kernel did not send are left out.
 */
#include <getopt.h>
#include <sys/socket.h>

#include "kdtlsctl.h"

enum {
	OPT_FD = 256,
	OPT_ID,
	OPT_PEER,
	OPT_JSON,
};

static void out_attr_u32(const char *key, struct nlattr *a)
{
	if (a)
		out_u64(key, nla_get_u32(a));
}

static void out_attr_u16(const char *key, struct nlattr *a)
{
	if (a)
		out_u64(key, nla_get_u16(a));
}

/* Members of a socket object; the caller opens and closes it. */
static void print_sock(struct nlattr **tb)
{
	out_attr_u32("sock-id", tb[KDTLS_A_SOCK_ID]);
	if (tb[KDTLS_A_SOCK_FAMILY]) {
		uint16_t family = nla_get_u16(tb[KDTLS_A_SOCK_FAMILY]);

		out_u64("family", family == AF_INET ? 4 :
				  family == AF_INET6 ? 6 : family);
	}
	if (tb[KDTLS_A_SOCK_FLAGS])
		out_sock_flags("flags", nla_get_u32(tb[KDTLS_A_SOCK_FLAGS]));
	out_attr_u32("max-assocs", tb[KDTLS_A_SOCK_MAX_ASSOCS]);
	out_attr_u32("num-assocs", tb[KDTLS_A_SOCK_NUM_ASSOCS]);
	out_attr_u32("agent-portid", tb[KDTLS_A_SOCK_AGENT_PORTID]);
	if (tb[KDTLS_A_SOCK_GRO])
		out_u64("gro", nla_get_u8(tb[KDTLS_A_SOCK_GRO]));
	if (tb[KDTLS_A_SOCK_STATS])
		out_stats("stats", tb[KDTLS_A_SOCK_STATS]);
}

static void print_key(const char *key, struct nlattr *nest)
{
	struct nlattr *kb[KDTLS_A_KEY_MAX + 1];

	if (!nest || nla_parse_nested(kb, KDTLS_A_KEY_MAX, nest,
				      kctl_key_policy))
		return;
	out_begin(key);
	out_attr_u16("epoch", kb[KDTLS_A_KEY_EPOCH]);
	if (kb[KDTLS_A_KEY_SEQ])
		out_u64("seq", nla_get_u64(kb[KDTLS_A_KEY_SEQ]));
	out_end();
}

static int assoc_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	(void)cmd;
	(void)arg;
	out_begin(NULL);
	out_peer("peer", tb);
	out_attr_u32("sock-id", tb[KDTLS_A_SOCK_ID]);
	out_attr_u16("version", tb[KDTLS_A_ASSOC_VERSION]);
	if (tb[KDTLS_A_ASSOC_CIPHER]) {
		uint16_t c = nla_get_u16(tb[KDTLS_A_ASSOC_CIPHER]);
		const char *name = kctl_cipher_name(c);

		if (name)
			out_str("cipher", name);
		else
			out_u64("cipher", c);
	}
	out_attr_u32("replay-window", tb[KDTLS_A_ASSOC_REPLAY_WINDOW]);
	out_attr_u32("rx-grace-ms", tb[KDTLS_A_ASSOC_RX_GRACE_MS]);
	out_attr_u32("max-payload", tb[KDTLS_A_ASSOC_MAX_PAYLOAD]);
	print_key("tx", tb[KDTLS_A_ASSOC_TX]);
	print_key("rx", tb[KDTLS_A_ASSOC_RX]);
	if (tb[KDTLS_A_ASSOC_STATS])
		out_stats("stats", tb[KDTLS_A_ASSOC_STATS]);
	out_end();
	return KCTL_EXIT_OK;
}

static int sock_dump_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	(void)cmd;
	(void)arg;
	out_begin(NULL);
	print_sock(tb);
	out_end();
	return KCTL_EXIT_OK;
}

/* The socket object stays open for its associations. */
static int sock_do_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	(void)cmd;
	*(bool *)arg = true;
	out_begin(NULL);
	print_sock(tb);
	return KCTL_EXIT_OK;
}

static int put_sock(struct nl_msg *msg, bool has_fd, uint32_t fd,
		    bool has_id, uint32_t id)
{
	return (has_fd && nla_put_u32(msg, KDTLS_A_SOCK_FD, fd)) ||
	       (has_id && nla_put_u32(msg, KDTLS_A_SOCK_ID, id));
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "id",		required_argument, NULL, OPT_ID },
		{ "peer",	required_argument, NULL, OPT_PEER },
		{ "json",	no_argument,	   NULL, OPT_JSON },
		{ }
	};
	bool has_fd = false, has_id = false, has_peer = false, json = false;
	bool opened = false;
	struct kctl_peer peer;
	uint32_t fd = 0, id = 0;
	struct nl_msg *msg;
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FD:
			if (kctl_parse_u32(optarg, &fd))
				return kctl_usage("--fd: bad number");
			has_fd = true;
			break;
		case OPT_ID:
			if (kctl_parse_u32(optarg, &id))
				return kctl_usage("--id: bad number");
			has_id = true;
			break;
		case OPT_PEER:
			if (kctl_parse_peer(optarg, &peer))
				return kctl_usage("--peer: bad ADDR:PORT: %s",
						  optarg);
			has_peer = true;
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
	if (has_peer && !has_fd && !has_id)
		return kctl_usage("--peer needs --fd or --id");
	out_init(json);

	if (has_peer) {
		msg = kctl_msg_new(KDTLS_CMD_ASSOC_GET, 0);
		if (!msg)
			return KCTL_EXIT_FAIL;
		if (put_sock(msg, has_fd, fd, has_id, id) ||
		    kctl_put_peer(msg, &peer)) {
			nlmsg_free(msg);
			return KCTL_EXIT_FAIL;
		}
		return kctl_request(msg, "assoc-get", assoc_reply, NULL);
	}

	if (!has_fd && !has_id) {
		msg = kctl_msg_new(KDTLS_CMD_SOCK_GET, NLM_F_DUMP);
		if (!msg)
			return KCTL_EXIT_FAIL;
		out_list_begin(NULL);
		ret = kctl_request(msg, "sock-get", sock_dump_reply, NULL);
		out_list_end();
		return ret;
	}

	msg = kctl_msg_new(KDTLS_CMD_SOCK_GET, 0);
	if (!msg)
		return KCTL_EXIT_FAIL;
	if (put_sock(msg, has_fd, fd, has_id, id)) {
		nlmsg_free(msg);
		return KCTL_EXIT_FAIL;
	}
	ret = kctl_request(msg, "sock-get", sock_do_reply, &opened);
	if (ret || !opened) {
		if (opened)
			out_end();
		return ret ?: KCTL_EXIT_FAIL;
	}

	msg = kctl_msg_new(KDTLS_CMD_ASSOC_GET, NLM_F_DUMP);
	if (!msg) {
		out_end();
		return KCTL_EXIT_FAIL;
	}
	if (put_sock(msg, has_fd, fd, has_id, id)) {
		nlmsg_free(msg);
		out_end();
		return KCTL_EXIT_FAIL;
	}
	out_list_begin("assocs");
	ret = kctl_request(msg, "assoc-get", assoc_reply, NULL);
	out_list_end();
	out_end();
	return ret;
}
