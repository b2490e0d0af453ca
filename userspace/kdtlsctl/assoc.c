// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsctl: assoc add, assoc del, assoc rekey.
 *
 * Key material lives in one struct per command; it, the hex arguments it
 * was parsed from and the netlink message that carried it are wiped on
 * every exit path.
 */
#include <getopt.h>
#include <string.h>

#include "kdtlsctl.h"

enum {
	OPT_FD = 256,
	OPT_PEER,
	OPT_CIPHER,
	OPT_VERSION,
	OPT_REPLAY_WINDOW,
	OPT_RX_GRACE_MS,
	OPT_MAX_PAYLOAD,
	OPT_TX_EPOCH,
	OPT_TX_SEQ,
	OPT_TX_KEY,
	OPT_TX_SALT,
	OPT_RX_EPOCH,
	OPT_RX_SEQ,
	OPT_RX_KEY,
	OPT_RX_SALT,
};

#define KEY_OPTS(dir, base)					\
	{ dir "-epoch",	required_argument, NULL, base },	\
	{ dir "-seq",	required_argument, NULL, base + 1 },	\
	{ dir "-key",	required_argument, NULL, base + 2 },	\
	{ dir "-salt",	required_argument, NULL, base + 3 }

/* One direction's key state; a field is sent only if it was given. */
struct key_state {
	bool has_epoch, has_seq, has_key, has_salt;
	uint16_t epoch;
	uint64_t seq;
	size_t key_len, salt_len;
	uint8_t key[KCTL_KEY_MAX];
	uint8_t salt[KCTL_KEY_MAX];
};

struct assoc_args {
	bool has_fd, has_peer, has_cipher, has_window, has_grace, has_max;
	uint32_t fd;
	struct kctl_peer peer;
	uint16_t cipher, version;
	uint32_t window, grace, max_payload;
	struct key_state tx, rx;
};

static bool key_given(const struct key_state *k)
{
	return k->has_epoch || k->has_seq || k->has_key || k->has_salt;
}

/* Options shared by add, del and rekey.  1 handled, 0 not ours, 2 usage. */
static int common_opt(struct assoc_args *a, int opt, char *arg)
{
	struct key_state *k;

	switch (opt) {
	case OPT_FD:
		if (kctl_parse_u32(arg, &a->fd))
			return kctl_usage("--fd: bad number");
		a->has_fd = true;
		return 1;
	case OPT_PEER:
		if (kctl_parse_peer(arg, &a->peer))
			return kctl_usage("--peer: bad ADDR:PORT: %s", arg);
		a->has_peer = true;
		return 1;
	}
	if (opt < OPT_TX_EPOCH || opt > OPT_RX_SALT)
		return 0;
	k = opt < OPT_RX_EPOCH ? &a->tx : &a->rx;
	switch ((opt - OPT_TX_EPOCH) % 4) {
	case 0:
		if (kctl_parse_u16(arg, &k->epoch))
			return kctl_usage("bad epoch: %s", arg);
		k->has_epoch = true;
		break;
	case 1:
		if (kctl_parse_u64(arg, UINT64_MAX, &k->seq))
			return kctl_usage("bad sequence number: %s", arg);
		k->has_seq = true;
		break;
	case 2:
		if (kctl_parse_hex(arg, k->key, sizeof(k->key), &k->key_len)) {
			kctl_wipe_arg(arg);
			return kctl_usage("bad key: hex, at most %d bytes",
					  KCTL_KEY_MAX);
		}
		kctl_wipe_arg(arg);
		k->has_key = true;
		break;
	case 3:
		if (kctl_parse_hex(arg, k->salt, sizeof(k->salt),
				   &k->salt_len)) {
			kctl_wipe_arg(arg);
			return kctl_usage("bad salt: hex, at most %d bytes",
					  KCTL_KEY_MAX);
		}
		kctl_wipe_arg(arg);
		k->has_salt = true;
		break;
	}
	return 1;
}

static int put_key(struct nl_msg *msg, int type, const struct key_state *k)
{
	struct nlattr *nest;

	if (!key_given(k))
		return 0;
	nest = nla_nest_start(msg, type);
	if (!nest)
		return -1;
	if ((k->has_epoch && nla_put_u16(msg, KDTLS_A_KEY_EPOCH, k->epoch)) ||
	    (k->has_seq && nla_put_u64(msg, KDTLS_A_KEY_SEQ, k->seq)) ||
	    (k->has_key && nla_put(msg, KDTLS_A_KEY_KEY, k->key_len, k->key)) ||
	    (k->has_salt &&
	     nla_put(msg, KDTLS_A_KEY_SALT, k->salt_len, k->salt)))
		return -1;
	return nla_nest_end(msg, nest);
}

/* Build and send one request from @a; wipes @a. */
static int assoc_request(struct assoc_args *a, uint8_t cmd, const char *op)
{
	struct nl_msg *msg = kctl_msg_new(cmd, 0);
	int ret = KCTL_EXIT_FAIL;

	if (!msg)
		goto out;
	if (nla_put_u32(msg, KDTLS_A_SOCK_FD, a->fd) ||
	    kctl_put_peer(msg, &a->peer) ||
	    (cmd == KDTLS_CMD_ASSOC_ADD &&
	     nla_put_u16(msg, KDTLS_A_ASSOC_VERSION, a->version)) ||
	    (a->has_cipher &&
	     nla_put_u16(msg, KDTLS_A_ASSOC_CIPHER, a->cipher)) ||
	    put_key(msg, KDTLS_A_ASSOC_TX, &a->tx) ||
	    put_key(msg, KDTLS_A_ASSOC_RX, &a->rx) ||
	    (a->has_window &&
	     nla_put_u32(msg, KDTLS_A_ASSOC_REPLAY_WINDOW, a->window)) ||
	    (a->has_grace &&
	     nla_put_u32(msg, KDTLS_A_ASSOC_RX_GRACE_MS, a->grace)) ||
	    (a->has_max &&
	     nla_put_u32(msg, KDTLS_A_ASSOC_MAX_PAYLOAD, a->max_payload))) {
		kctl_err("%s: message too long", op);
		explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		goto out;
	}
	ret = kctl_request(msg, op, NULL, NULL);
out:
	explicit_bzero(a, sizeof(*a));
	return ret;
}

static int need_fd_peer(const struct assoc_args *a)
{
	if (!a->has_fd)
		return kctl_usage("--fd needed");
	if (!a->has_peer)
		return kctl_usage("--peer needed");
	return 0;
}

int cmd_assoc_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd",		   required_argument, NULL, OPT_FD },
		{ "peer",	   required_argument, NULL, OPT_PEER },
		{ "cipher",	   required_argument, NULL, OPT_CIPHER },
		{ "version",	   required_argument, NULL, OPT_VERSION },
		{ "replay-window", required_argument, NULL, OPT_REPLAY_WINDOW },
		{ "rx-grace-ms",   required_argument, NULL, OPT_RX_GRACE_MS },
		{ "max-payload",   required_argument, NULL, OPT_MAX_PAYLOAD },
		KEY_OPTS("tx", OPT_TX_EPOCH),
		KEY_OPTS("rx", OPT_RX_EPOCH),
		{ }
	};
	struct assoc_args a = { .version = KDTLS_VERSION_1_2 };
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		ret = common_opt(&a, opt, optarg);
		if (ret == 1)
			continue;
		if (ret)
			goto usage;
		switch (opt) {
		case OPT_CIPHER:
			if (kctl_parse_cipher(optarg, &a.cipher)) {
				ret = kctl_usage("bad cipher: %s", optarg);
				goto usage;
			}
			a.has_cipher = true;
			break;
		case OPT_VERSION:
			if (kctl_parse_u16(optarg, &a.version)) {
				ret = kctl_usage("bad version: %s", optarg);
				goto usage;
			}
			break;
		case OPT_REPLAY_WINDOW:
			a.has_window = !kctl_parse_u32(optarg, &a.window);
			if (!a.has_window) {
				ret = kctl_usage("bad --replay-window");
				goto usage;
			}
			break;
		case OPT_RX_GRACE_MS:
			a.has_grace = !kctl_parse_u32(optarg, &a.grace);
			if (!a.has_grace) {
				ret = kctl_usage("bad --rx-grace-ms");
				goto usage;
			}
			break;
		case OPT_MAX_PAYLOAD:
			a.has_max = !kctl_parse_u32(optarg, &a.max_payload);
			if (!a.has_max) {
				ret = kctl_usage("bad --max-payload");
				goto usage;
			}
			break;
		default:
			ret = kctl_opt_err(argv, opt);
			goto usage;
		}
	}
	if (optind < argc) {
		ret = kctl_usage("unexpected argument: %s", argv[optind]);
		goto usage;
	}
	ret = need_fd_peer(&a);
	if (ret)
		goto usage;
	return assoc_request(&a, KDTLS_CMD_ASSOC_ADD, "assoc-add");
usage:
	explicit_bzero(&a, sizeof(a));
	return ret;
}

static int del_or_rekey(int argc, char **argv, bool rekey)
{
	static const struct option del_opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "peer",	required_argument, NULL, OPT_PEER },
		{ }
	};
	static const struct option rekey_opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "peer",	required_argument, NULL, OPT_PEER },
		KEY_OPTS("tx", OPT_TX_EPOCH),
		KEY_OPTS("rx", OPT_RX_EPOCH),
		{ }
	};
	struct assoc_args a = { };
	int opt, ret;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:",
				  rekey ? rekey_opts : del_opts, NULL)) != -1) {
		ret = common_opt(&a, opt, optarg);
		if (ret == 1)
			continue;
		if (!ret)
			ret = kctl_opt_err(argv, opt);
		goto usage;
	}
	if (optind < argc) {
		ret = kctl_usage("unexpected argument: %s", argv[optind]);
		goto usage;
	}
	ret = need_fd_peer(&a);
	if (ret)
		goto usage;
	if (!rekey)
		return assoc_request(&a, KDTLS_CMD_ASSOC_DEL, "assoc-del");
	return assoc_request(&a, KDTLS_CMD_ASSOC_REKEY, "assoc-rekey");
usage:
	explicit_bzero(&a, sizeof(a));
	return ret;
}

int cmd_assoc_del(int argc, char **argv)
{
	return del_or_rekey(argc, argv, false);
}

int cmd_assoc_rekey(int argc, char **argv)
{
	return del_or_rekey(argc, argv, true);
}
