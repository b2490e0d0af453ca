// SPDX-License-Identifier: GPL-2.0
/*
 * The "kdtls" generic netlink family: Documentation/netlink/specs/kdtls.yaml
 * is the source of truth; the policies below follow it attribute by
 * attribute.  Every operation runs under genl_mutex (parallel_ops is off),
 * which serialises attach, detach and association changes.
 *
 * Sockets are named by a file descriptor in the caller's fd table: the
 * handler runs in the caller's process, so sockfd_lookup() finds it there.
 * Mutating operations need CAP_NET_ADMIN over the namespace of the netlink
 * socket (GENL_UNS_ADMIN_PERM) and over the namespace of the UDP socket.
 *
 * Keys arrive in the request: they are wiped from it before the handler
 * returns, on every path, and never put in a reply.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/rhashtable.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <linux/kdtls.h>
#include "compat.h"
#include "netlink.h"
#include "sock.h"

static struct genl_family kdtls_family;

enum kdtls_mcgrp { KDTLS_MCGRP_EVENTS_ID };

static const struct genl_multicast_group kdtls_mcgrps[] = {
	[KDTLS_MCGRP_EVENTS_ID] = { .name = KDTLS_MCGRP_EVENTS },
};

/* not const: 6.1's NLA_POLICY_FULL_RANGE takes a plain pointer */
static struct netlink_range_validation kdtls_seq_range = {
	.min = 0,
	.max = KDTLS_SEQ_MAX,
};

static struct netlink_range_validation kdtls_grace_range = {
	.min = 0,
	.max = KDTLS_RX_GRACE_MS_MAX,
};

static const struct nla_policy kdtls_key_policy[KDTLS_A_KEY_MAX + 1] = {
	[KDTLS_A_KEY_EPOCH]	= NLA_POLICY_MIN(NLA_U16, 1),
	[KDTLS_A_KEY_SEQ]	= NLA_POLICY_FULL_RANGE(NLA_U64,
							&kdtls_seq_range),
	[KDTLS_A_KEY_KEY]	= { .type = NLA_BINARY, .len = 32 },
	[KDTLS_A_KEY_SALT]	= { .type = NLA_BINARY, .len = KDTLS_NONCE_LEN },
	[KDTLS_A_KEY_PAD]	= { .type = NLA_REJECT },
};

#define KDTLS_REPLY_ONLY { .type = NLA_REJECT, \
			   .reject_message = "reply-only attribute" }

static const struct nla_policy kdtls_policy[KDTLS_A_MAX + 1] = {
	[KDTLS_A_SOCK_FD]		= { .type = NLA_U32 },
	[KDTLS_A_SOCK_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[KDTLS_A_SOCK_FLAGS]		= NLA_POLICY_MASK(NLA_U32,
							  KDTLS_SOCK_F_ALL),
	[KDTLS_A_SOCK_MAX_ASSOCS]	= NLA_POLICY_MIN(NLA_U32, 1),
	[KDTLS_A_SOCK_FAMILY]		= KDTLS_REPLY_ONLY,
	[KDTLS_A_SOCK_NUM_ASSOCS]	= KDTLS_REPLY_ONLY,
	[KDTLS_A_SOCK_AGENT_PORTID]	= KDTLS_REPLY_ONLY,
	[KDTLS_A_SOCK_STATS]		= KDTLS_REPLY_ONLY,
	[KDTLS_A_SOCK_GRO]		= NLA_POLICY_MAX(NLA_U8, 1),
	[KDTLS_A_PEER_ADDR4]		= NLA_POLICY_EXACT_LEN(4),
	[KDTLS_A_PEER_ADDR6]		= NLA_POLICY_EXACT_LEN(16),
	[KDTLS_A_PEER_PORT]		= { .type = NLA_BE16 },
	[KDTLS_A_ASSOC_VERSION]		= { .type = NLA_U16 },
	[KDTLS_A_ASSOC_CIPHER]		= NLA_POLICY_RANGE(NLA_U16, 1,
						__KDTLS_CIPHER_MAX - 1),
	[KDTLS_A_ASSOC_TX]		= NLA_POLICY_NESTED(kdtls_key_policy),
	[KDTLS_A_ASSOC_RX]		= NLA_POLICY_NESTED(kdtls_key_policy),
	[KDTLS_A_ASSOC_REPLAY_WINDOW]	= NLA_POLICY_RANGE(NLA_U32, 1,
						KDTLS_REPLAY_WINDOW_MAX),
	[KDTLS_A_ASSOC_RX_GRACE_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							&kdtls_grace_range),
	[KDTLS_A_ASSOC_MAX_PAYLOAD]	= NLA_POLICY_RANGE(NLA_U32, 1,
						KDTLS_MAX_PLAINTEXT),
	[KDTLS_A_ASSOC_STATS]		= KDTLS_REPLY_ONLY,
	[KDTLS_A_RECORD_TYPE]		= NLA_POLICY_RANGE(NLA_U8,
						KDTLS_CT_CHANGE_CIPHER_SPEC,
						KDTLS_CT_APPLICATION_DATA),
	[KDTLS_A_RECORD_FLAGS]		= NLA_POLICY_MASK(NLA_U32,
						KDTLS_RECORD_F_SEAL),
	[KDTLS_A_RECORD_DATA]		= { .type = NLA_BINARY,
					    .len = KDTLS_MAX_PLAINTEXT },
	[KDTLS_A_RECORD_EPOCH]		= KDTLS_REPLY_ONLY,
	[KDTLS_A_RECORD_SEQ]		= KDTLS_REPLY_ONLY,
	[KDTLS_A_PAD]			= { .type = NLA_REJECT },
};

/* ---- helpers ---------------------------------------------------------- */

/*
 * GENL_REQ_ATTR_CHECK() marks the missing attribute but leaves no message;
 * say in words which one is missing, too.
 */
static bool kdtls_nl_missing(struct genl_info *info, int attr)
{
	static const char *const msgs[KDTLS_A_MAX + 1] = {
		[KDTLS_A_SOCK_FD]	= "missing sock-fd",
		[KDTLS_A_PEER_PORT]	= "missing peer-port",
		[KDTLS_A_ASSOC_CIPHER]	= "missing assoc-cipher",
		[KDTLS_A_ASSOC_TX]	= "missing assoc-tx",
		[KDTLS_A_ASSOC_RX]	= "missing assoc-rx",
		[KDTLS_A_RECORD_TYPE]	= "missing record-type",
		[KDTLS_A_RECORD_DATA]	= "missing record-data",
	};

	if (info->attrs[attr])
		return false;
	/* NL_SET_ERR_MSG() wants a literal; these are static strings too */
	if (info->extack)
		info->extack->_msg = msgs[attr] ?: "missing attribute";
	NL_SET_ERR_ATTR_MISS(info->extack, NULL, attr);
	return true;
}

/*
 * The socket named by KDTLS_A_SOCK_FD in the caller's fd table.  For
 * mutating operations the caller must also be CAP_NET_ADMIN over the
 * socket's own namespace, which may differ from the netlink socket's.
 */
static struct socket *kdtls_nl_sockfd(struct genl_info *info, bool admin,
				      int *err)
{
	struct socket *sock;

	if (kdtls_nl_missing(info, KDTLS_A_SOCK_FD)) {
		*err = -EINVAL;
		return NULL;
	}
	sock = sockfd_lookup(nla_get_u32(info->attrs[KDTLS_A_SOCK_FD]), err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KDTLS_A_SOCK_FD],
				    "not a socket in the caller's fd table");
		return NULL;
	}
	if (admin && !ns_capable(sock_net(sock->sk)->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KDTLS_A_SOCK_FD],
				    "need CAP_NET_ADMIN in the socket's namespace");
		sockfd_put(sock);
		*err = -EPERM;
		return NULL;
	}
	return sock;
}

/* the attached socket named by sock-fd, with a reference on its state */
static struct kdtls_sock *kdtls_nl_ks(struct genl_info *info, bool admin,
				      struct socket **sockp, int *err)
{
	struct kdtls_sock *ks;
	struct socket *sock;

	sock = kdtls_nl_sockfd(info, admin, err);
	if (!sock)
		return NULL;
	ks = kdtls_sock_get(sock->sk);
	if (!ks) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KDTLS_A_SOCK_FD],
				    "socket is not attached");
		sockfd_put(sock);
		*err = -ENOENT;
		return NULL;
	}
	*sockp = sock;
	return ks;
}

static int kdtls_nl_peer(struct genl_info *info, struct kdtls_sock *ks,
			 struct kdtls_peer *peer)
{
	struct nlattr **tb = info->attrs;
	int err;

	memset(peer, 0, sizeof(*peer));
	if (!!tb[KDTLS_A_PEER_ADDR4] == !!tb[KDTLS_A_PEER_ADDR6]) {
		NL_SET_ERR_MSG(info->extack,
			       "need exactly one of peer-addr4 and peer-addr6");
		return -EINVAL;
	}
	if (kdtls_nl_missing(info, KDTLS_A_PEER_PORT))
		return -EINVAL;
	peer->port = nla_get_be16(tb[KDTLS_A_PEER_PORT]);
	if (!peer->port) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_PEER_PORT],
				    "peer port 0");
		return -EINVAL;
	}
	if (tb[KDTLS_A_PEER_ADDR4]) {
		peer->family = AF_INET;
		memcpy(peer->addr, nla_data(tb[KDTLS_A_PEER_ADDR4]), 4);
	} else {
		peer->family = AF_INET6;
		memcpy(peer->addr, nla_data(tb[KDTLS_A_PEER_ADDR6]), 16);
	}
	err = kdtls_sock_peer_check(ks, peer);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_PEER_ADDR6],
				    "IPv6 peer for an AF_INET socket");
	return err;
}

static int kdtls_nl_put_peer(struct sk_buff *skb,
			     const struct kdtls_peer *peer)
{
	if (peer->family == AF_INET) {
		if (nla_put(skb, KDTLS_A_PEER_ADDR4, 4, peer->addr))
			return -EMSGSIZE;
	} else if (nla_put(skb, KDTLS_A_PEER_ADDR6, 16, peer->addr)) {
		return -EMSGSIZE;
	}
	return nla_put_be16(skb, KDTLS_A_PEER_PORT, peer->port);
}

/* wipe the key bytes of a request, whatever happened to it */
static void kdtls_nl_wipe_keys(struct genl_info *info)
{
	static const int nests[] = { KDTLS_A_ASSOC_TX, KDTLS_A_ASSOC_RX };
	struct nlattr *a;
	int i, rem;

	for (i = 0; i < ARRAY_SIZE(nests); i++) {
		if (!info->attrs[nests[i]])
			continue;
		nla_for_each_nested(a, info->attrs[nests[i]], rem) {
			if (nla_type(a) == KDTLS_A_KEY_KEY ||
			    nla_type(a) == KDTLS_A_KEY_SALT)
				memzero_explicit(nla_data(a), nla_len(a));
		}
	}
}

/*
 * Parse a key nest.  @cfg points into the request (wiped later by
 * kdtls_nl_wipe_keys()).
 */
static int kdtls_nl_key(struct genl_info *info, int attr,
			const struct kdtls_cipher_info *ci,
			struct kdtls_key_cfg *cfg)
{
	struct nlattr *tb[KDTLS_A_KEY_MAX + 1];
	struct nlattr *nest = info->attrs[attr];
	int err;

	err = nla_parse_nested(tb, KDTLS_A_KEY_MAX, nest, kdtls_key_policy,
			       info->extack);
	if (err)
		return err;
	if (!tb[KDTLS_A_KEY_EPOCH] || !tb[KDTLS_A_KEY_KEY] ||
	    !tb[KDTLS_A_KEY_SALT]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "key state needs epoch, key and salt");
		return -EINVAL;
	}
	if (nla_len(tb[KDTLS_A_KEY_KEY]) != ci->key_len) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_KEY_KEY],
				    "key size does not match the cipher");
		return -EINVAL;
	}
	if (nla_len(tb[KDTLS_A_KEY_SALT]) != ci->salt_len) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_KEY_SALT],
				    "salt size does not match the cipher");
		return -EINVAL;
	}
	cfg->epoch = nla_get_u16(tb[KDTLS_A_KEY_EPOCH]);
	cfg->seq = tb[KDTLS_A_KEY_SEQ] ? nla_get_u64(tb[KDTLS_A_KEY_SEQ]) : 0;
	cfg->key = nla_data(tb[KDTLS_A_KEY_KEY]);
	cfg->salt = nla_data(tb[KDTLS_A_KEY_SALT]);
	return 0;
}

/* ---- sock-attach / sock-detach ---------------------------------------- */

static int kdtls_nl_sock_attach(struct sk_buff *skb, struct genl_info *info)
{
	u32 flags = 0, max = KDTLS_MAX_ASSOCS_DEFAULT, id;
	struct socket *sock;
	struct sk_buff *msg;
	void *hdr;
	int err;

	sock = kdtls_nl_sockfd(info, true, &err);
	if (!sock)
		return err;
	if (info->attrs[KDTLS_A_SOCK_FLAGS])
		flags = nla_get_u32(info->attrs[KDTLS_A_SOCK_FLAGS]);
	if (info->attrs[KDTLS_A_SOCK_MAX_ASSOCS])
		max = nla_get_u32(info->attrs[KDTLS_A_SOCK_MAX_ASSOCS]);

	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out_put_sock;

	err = kdtls_sock_attach(sock, flags, info->snd_portid, max, &id,
				info->extack);
	if (err)
		goto out_free_msg;
	if (info->attrs[KDTLS_A_SOCK_GRO] &&
	    nla_get_u8(info->attrs[KDTLS_A_SOCK_GRO])) {
		struct kdtls_sock *ks = kdtls_sock_get(sock->sk);

		/* UDP_GRO cannot fail; attached all the same if it did */
		if (ks)
			err = kdtls_sock_reader_gro(ks, true);
		kdtls_sock_put(ks);
		if (err) {
			NL_SET_ERR_MSG(info->extack,
				       "attached, but UDP GRO could not be turned on");
			goto out_free_msg;
		}
	}

	hdr = genlmsg_put_reply(msg, info, &kdtls_family, 0,
				KDTLS_CMD_SOCK_ATTACH);
	if (!hdr || nla_put_u32(msg, KDTLS_A_SOCK_ID, id)) {
		/* attached all the same; the caller can find it with get */
		err = -EMSGSIZE;
		goto out_free_msg;
	}
	genlmsg_end(msg, hdr);
	sockfd_put(sock);
	return genlmsg_reply(msg, info);

out_free_msg:
	nlmsg_free(msg);
out_put_sock:
	sockfd_put(sock);
	return err;
}

static int kdtls_nl_sock_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct socket *sock;
	int err;

	sock = kdtls_nl_sockfd(info, true, &err);
	if (!sock)
		return err;
	err = kdtls_sock_detach(sock->sk, info->extack);
	sockfd_put(sock);
	return err;
}

static int kdtls_nl_sock_set(struct sk_buff *skb, struct genl_info *info)
{
	u32 flags = 0, max = 0;
	struct kdtls_sock *ks;
	struct socket *sock;
	int err;

	ks = kdtls_nl_ks(info, true, &sock, &err);
	if (!ks)
		return err;
	if (info->attrs[KDTLS_A_SOCK_FLAGS])
		flags = nla_get_u32(info->attrs[KDTLS_A_SOCK_FLAGS]);
	if (info->attrs[KDTLS_A_SOCK_MAX_ASSOCS])
		max = nla_get_u32(info->attrs[KDTLS_A_SOCK_MAX_ASSOCS]);
	err = kdtls_sock_set(ks, flags, info->snd_portid, max, info->extack);
	/* absent: unchanged, so that an agent's sock-set keeps it */
	if (!err && info->attrs[KDTLS_A_SOCK_GRO]) {
		bool on = nla_get_u8(info->attrs[KDTLS_A_SOCK_GRO]);

		err = kdtls_sock_reader_gro(ks, on);
	}
	kdtls_sock_put(ks);
	sockfd_put(sock);
	return err;
}

/* ---- sock-get --------------------------------------------------------- */

static int kdtls_nl_fill_sock(struct sk_buff *msg, struct kdtls_sock *ks,
			      u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &kdtls_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, KDTLS_A_SOCK_ID, ks->id) ||
	    nla_put_u16(msg, KDTLS_A_SOCK_FAMILY, ks->sk->sk_family) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, ks->flags) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_MAX_ASSOCS, ks->max_assocs) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_NUM_ASSOCS,
			atomic_read(&ks->num_assocs)) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_AGENT_PORTID,
			READ_ONCE(ks->agent_portid)) ||
	    nla_put_u8(msg, KDTLS_A_SOCK_GRO, READ_ONCE(ks->own_gro)) ||
	    kdtls_stats_put(msg, KDTLS_A_SOCK_STATS, ks->stats)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

/* sock-fd or sock-id, for get operations (no admin needed) */
static struct kdtls_sock *kdtls_nl_ks_any(struct net *net,
					  struct nlattr **tb,
					  struct netlink_ext_ack *extack,
					  int *err)
{
	struct kdtls_sock *ks = NULL;
	struct socket *sock;

	if (tb[KDTLS_A_SOCK_FD]) {
		sock = sockfd_lookup(nla_get_u32(tb[KDTLS_A_SOCK_FD]), err);
		if (!sock) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KDTLS_A_SOCK_FD],
					    "not a socket in the caller's fd table");
			return NULL;
		}
		ks = kdtls_sock_get(sock->sk);
		sockfd_put(sock);
	} else if (tb[KDTLS_A_SOCK_ID]) {
		ks = kdtls_sock_get_by_id(net, nla_get_u32(tb[KDTLS_A_SOCK_ID]));
	} else {
		NL_SET_ERR_MSG(extack, "need sock-fd or sock-id");
		*err = -EINVAL;
		return NULL;
	}
	if (!ks) {
		NL_SET_ERR_MSG(extack, "socket is not attached");
		*err = -ENOENT;
	}
	return ks;
}

static int kdtls_nl_sock_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kdtls_sock *ks;
	struct sk_buff *msg;
	int err;

	ks = kdtls_nl_ks_any(genl_info_net(info), info->attrs, info->extack,
			     &err);
	if (!ks)
		return err;
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out_put;
	err = kdtls_nl_fill_sock(msg, ks, info->snd_portid, info->snd_seq, 0,
				 KDTLS_CMD_SOCK_GET);
	if (err) {
		nlmsg_free(msg);
		goto out_put;
	}
	kdtls_sock_put(ks);
	return genlmsg_reply(msg, info);
out_put:
	kdtls_sock_put(ks);
	return err;
}

static int kdtls_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kdtls_net *kn = kdtls_net(sock_net(skb->sk));
	long skip = cb->args[0], idx = 0;
	struct kdtls_sock *ks;

	mutex_lock(&kn->lock);
	list_for_each_entry(ks, &kn->socks, node) {
		if (idx++ < skip)
			continue;
		if (kdtls_nl_fill_sock(skb, ks, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI,
				       KDTLS_CMD_SOCK_GET)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&kn->lock);
	cb->args[0] = idx;
	return skb->len;
}

/* ---- assoc-add / assoc-del / assoc-rekey ------------------------------- */

static int kdtls_nl_assoc_add(struct sk_buff *skb, struct genl_info *info)
{
	u32 window = KDTLS_REPLAY_WINDOW_DEFAULT;
	u32 grace = KDTLS_RX_GRACE_MS_DEFAULT;
	u32 max_payload = KDTLS_MAX_PLAINTEXT;
	const struct kdtls_cipher_info *ci;
	struct nlattr **tb = info->attrs;
	struct kdtls_key_cfg tx, rx;
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	struct kdtls_sock *ks;
	struct socket *sock;
	u16 cipher;
	int err;

	ks = kdtls_nl_ks(info, true, &sock, &err);
	if (!ks)
		goto out_wipe;

	err = kdtls_nl_peer(info, ks, &peer);
	if (err)
		goto out_put;
	if (tb[KDTLS_A_ASSOC_VERSION] &&
	    nla_get_u16(tb[KDTLS_A_ASSOC_VERSION]) != KDTLS_VERSION_1_2) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_ASSOC_VERSION],
				    "only DTLS 1.2 (0xfefd) is supported");
		err = -EPROTONOSUPPORT;
		goto out_put;
	}
	err = -EINVAL;
	if (kdtls_nl_missing(info, KDTLS_A_ASSOC_CIPHER) ||
	    kdtls_nl_missing(info, KDTLS_A_ASSOC_TX) ||
	    kdtls_nl_missing(info, KDTLS_A_ASSOC_RX))
		goto out_put;
	cipher = nla_get_u16(tb[KDTLS_A_ASSOC_CIPHER]);
	ci = kdtls_cipher_info(cipher);

	err = kdtls_nl_key(info, KDTLS_A_ASSOC_TX, ci, &tx);
	if (err)
		goto out_put;
	err = kdtls_nl_key(info, KDTLS_A_ASSOC_RX, ci, &rx);
	if (err)
		goto out_put;

	if (tb[KDTLS_A_ASSOC_REPLAY_WINDOW])
		window = nla_get_u32(tb[KDTLS_A_ASSOC_REPLAY_WINDOW]);
	if (tb[KDTLS_A_ASSOC_RX_GRACE_MS])
		grace = nla_get_u32(tb[KDTLS_A_ASSOC_RX_GRACE_MS]);
	if (tb[KDTLS_A_ASSOC_MAX_PAYLOAD])
		max_payload = nla_get_u32(tb[KDTLS_A_ASSOC_MAX_PAYLOAD]);

	a = kdtls_assoc_new(&peer, cipher, &tx, &rx, window, grace,
			    max_payload);
	if (IS_ERR(a)) {
		err = PTR_ERR(a);
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_ASSOC_CIPHER],
				    "cannot set up the cipher's transform");
		goto out_put;
	}
	err = kdtls_sock_assoc_add(ks, a, info->extack);
	if (err)
		kdtls_assoc_put(a);

out_put:
	kdtls_sock_put(ks);
	sockfd_put(sock);
out_wipe:
	kdtls_nl_wipe_keys(info);
	return err;
}

static void kdtls_nl_assoc_deleted(struct kdtls_sock *ks,
				   const struct kdtls_peer *peer)
{
	struct net *net = sock_net(ks->sk);
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&kdtls_family, net, KDTLS_MCGRP_EVENTS_ID))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &kdtls_family, 0,
			  KDTLS_CMD_ASSOC_DEL_NTF);
	if (!hdr || nla_put_u32(msg, KDTLS_A_SOCK_ID, ks->id) ||
	    kdtls_nl_put_peer(msg, peer)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&kdtls_family, net, msg, 0,
				KDTLS_MCGRP_EVENTS_ID, GFP_KERNEL);
}

static int kdtls_nl_assoc_del(struct sk_buff *skb, struct genl_info *info)
{
	struct kdtls_peer peer;
	struct kdtls_sock *ks;
	struct socket *sock;
	int err;

	ks = kdtls_nl_ks(info, true, &sock, &err);
	if (!ks)
		return err;
	err = kdtls_nl_peer(info, ks, &peer);
	if (err)
		goto out_put;
	err = kdtls_sock_assoc_del(ks, &peer);
	if (err)
		NL_SET_ERR_MSG(info->extack, "peer has no association");
	else
		kdtls_nl_assoc_deleted(ks, &peer);
out_put:
	kdtls_sock_put(ks);
	sockfd_put(sock);
	return err;
}

static int kdtls_nl_assoc_rekey(struct sk_buff *skb, struct genl_info *info)
{
	struct kdtls_key_cfg tx, rx, *txp = NULL, *rxp = NULL;
	struct nlattr **tb = info->attrs;
	struct kdtls_peer peer;
	struct kdtls_assoc *a = NULL;
	struct kdtls_sock *ks;
	struct socket *sock;
	struct kdtls_key *k;
	u16 cur;
	int err;

	ks = kdtls_nl_ks(info, true, &sock, &err);
	if (!ks)
		goto out_wipe;
	err = kdtls_nl_peer(info, ks, &peer);
	if (err)
		goto out_put;
	if (!tb[KDTLS_A_ASSOC_TX] && !tb[KDTLS_A_ASSOC_RX]) {
		NL_SET_ERR_MSG(info->extack, "need assoc-tx or assoc-rx");
		err = -EINVAL;
		goto out_put;
	}
	a = kdtls_assoc_lookup(&ks->assocs, &peer);
	if (!a) {
		NL_SET_ERR_MSG(info->extack, "peer has no association");
		err = -ENOENT;
		goto out_put;
	}

	/* epochs only move forward; genl_mutex keeps them stable here */
	if (tb[KDTLS_A_ASSOC_TX]) {
		err = kdtls_nl_key(info, KDTLS_A_ASSOC_TX, a->ci, &tx);
		if (err)
			goto out_put;
		k = rcu_dereference_protected(a->tx, 1);
		cur = k->epoch;
		if (tx.epoch <= cur) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_ASSOC_TX],
					    "new TX epoch must be above the current one");
			err = -EINVAL;
			goto out_put;
		}
		txp = &tx;
	}
	if (tb[KDTLS_A_ASSOC_RX]) {
		err = kdtls_nl_key(info, KDTLS_A_ASSOC_RX, a->ci, &rx);
		if (err)
			goto out_put;
		k = rcu_dereference_protected(a->rx[0], 1);
		cur = k->epoch;
		if (rx.epoch <= cur) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[KDTLS_A_ASSOC_RX],
					    "new RX epoch must be above the current one");
			err = -EINVAL;
			goto out_put;
		}
		rxp = &rx;
	}
	err = kdtls_assoc_rekey(a, txp, rxp);
	if (err) {
		NL_SET_ERR_MSG(info->extack,
			       "cannot set up the cipher's transform");
	} else {
		if (txp)
			kdtls_count(ks, a, KDTLS_STAT_REKEY_TX, 1);
		if (rxp)
			kdtls_count(ks, a, KDTLS_STAT_REKEY_RX, 1);
	}

out_put:
	kdtls_assoc_put(a);
	kdtls_sock_put(ks);
	sockfd_put(sock);
out_wipe:
	kdtls_nl_wipe_keys(info);
	return err;
}

/* ---- assoc-get -------------------------------------------------------- */

static int kdtls_nl_put_key(struct sk_buff *msg, int attr,
			    struct kdtls_key *k, bool tx)
{
	struct nlattr *nest;
	u64 seq;

	if (!k)
		return 0;
	if (tx)
		seq = min_t(u64, atomic64_read(&k->next_seq),
			    KDTLS_SEQ_MAX + 1);
	else
		seq = k->replay.any ? k->replay.top + 1 : k->replay.floor;

	nest = nla_nest_start(msg, attr);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u16(msg, KDTLS_A_KEY_EPOCH, k->epoch) ||
	    nla_put_u64_64bit(msg, KDTLS_A_KEY_SEQ, seq, KDTLS_A_KEY_PAD)) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* called under rcu_read_lock() */
static int kdtls_nl_fill_assoc(struct sk_buff *msg, struct kdtls_sock *ks,
			       struct kdtls_assoc *a, u32 portid, u32 seq,
			       int flags)
{
	u64 v[__KDTLS_STAT_MAX];
	void *hdr;

	kdtls_assoc_stats_read(&a->stats, v);
	hdr = genlmsg_put(msg, portid, seq, &kdtls_family, flags,
			  KDTLS_CMD_ASSOC_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(msg, KDTLS_A_SOCK_ID, ks->id) ||
	    kdtls_nl_put_peer(msg, &a->peer) ||
	    nla_put_u16(msg, KDTLS_A_ASSOC_VERSION, KDTLS_VERSION_1_2) ||
	    nla_put_u16(msg, KDTLS_A_ASSOC_CIPHER, a->cipher) ||
	    kdtls_nl_put_key(msg, KDTLS_A_ASSOC_TX, rcu_dereference(a->tx),
			     true) ||
	    kdtls_nl_put_key(msg, KDTLS_A_ASSOC_RX, rcu_dereference(a->rx[0]),
			     false) ||
	    nla_put_u32(msg, KDTLS_A_ASSOC_REPLAY_WINDOW, a->replay_window) ||
	    nla_put_u32(msg, KDTLS_A_ASSOC_RX_GRACE_MS, a->rx_grace_ms) ||
	    nla_put_u32(msg, KDTLS_A_ASSOC_MAX_PAYLOAD, a->max_payload) ||
	    kdtls_stats_put_values(msg, KDTLS_A_ASSOC_STATS, v)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int kdtls_nl_assoc_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	struct kdtls_sock *ks;
	struct sk_buff *msg;
	int err;

	ks = kdtls_nl_ks_any(genl_info_net(info), info->attrs, info->extack,
			     &err);
	if (!ks)
		return err;
	err = kdtls_nl_peer(info, ks, &peer);
	if (err)
		goto out_put_sock;
	a = kdtls_assoc_lookup(&ks->assocs, &peer);
	if (!a) {
		NL_SET_ERR_MSG(info->extack, "peer has no association");
		err = -ENOENT;
		goto out_put_sock;
	}
	err = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out_put_assoc;
	rcu_read_lock();
	err = kdtls_nl_fill_assoc(msg, ks, a, info->snd_portid, info->snd_seq,
				  0);
	rcu_read_unlock();
	if (err) {
		nlmsg_free(msg);
		goto out_put_assoc;
	}
	err = genlmsg_reply(msg, info);
out_put_assoc:
	kdtls_assoc_put(a);
out_put_sock:
	kdtls_sock_put(ks);
	return err;
}

/*
 * Dump a socket's associations.  The walk keeps its place across the parts
 * of a dump (start/done own the walker and a reference on the socket), so a
 * dump of 100 000 associations is linear.  A table resized between two
 * parts may repeat or skip entries, as any rhashtable walk may.
 */
struct kdtls_nl_dump {
	struct kdtls_sock *ks;
	struct rhashtable_iter iter;
};

static int kdtls_nl_assoc_dump_start(struct netlink_callback *cb)
{
	struct nlattr **tb = kdtls_dump_attrs(cb);
	struct kdtls_nl_dump *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->ks = kdtls_nl_ks_any(sock_net(cb->skb->sk), tb, cb->extack, &err);
	if (!d->ks) {
		kfree(d);
		return err;
	}
	rhashtable_walk_enter(&d->ks->assocs, &d->iter);
	cb->args[0] = (long)d;
	return 0;
}

static int kdtls_nl_assoc_dump_done(struct netlink_callback *cb)
{
	struct kdtls_nl_dump *d = (struct kdtls_nl_dump *)cb->args[0];

	if (d) {
		rhashtable_walk_exit(&d->iter);
		kdtls_sock_put(d->ks);
		kfree(d);
	}
	return 0;
}

static int kdtls_nl_assoc_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kdtls_nl_dump *d = (struct kdtls_nl_dump *)cb->args[0];
	struct kdtls_assoc *a;

	rhashtable_walk_start(&d->iter);
	/* peek: the entry that did not fit last time comes first */
	for (a = rhashtable_walk_peek(&d->iter); a;
	     a = rhashtable_walk_next(&d->iter)) {
		if (IS_ERR(a)) {
			if (PTR_ERR(a) == -EAGAIN)
				continue;
			break;
		}
		if (kdtls_nl_fill_assoc(skb, d->ks, a,
					NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
	}
	rhashtable_walk_stop(&d->iter);
	return skb->len;
}

/* ---- record-send ------------------------------------------------------ */

/*
 * A datagram the agent may send verbatim: whole records, and once the peer
 * has an association, all of epoch 0.  Before that the agent's own TLS
 * stack owns every epoch (its Finished is the first epoch-1 record); from
 * then on only the kernel seals protected records, so no (epoch, sequence)
 * pair is ever sealed twice.  genl_mutex orders this against assoc-add.
 */
static int kdtls_nl_check_plain(const u8 *data, size_t len, bool has_assoc,
				struct netlink_ext_ack *extack)
{
	struct kdtls_hdr hdr;
	size_t off;

	for (off = 0; off < len; off += KDTLS_HDR_LEN + hdr.length) {
		if (kdtls_hdr_parse(data + off, len - off, &hdr)) {
			NL_SET_ERR_MSG(extack,
				       "record-data is not a sequence of DTLS records");
			return -EINVAL;
		}
		if (hdr.epoch && has_assoc) {
			NL_SET_ERR_MSG(extack,
				       "peer has an association: only epoch-0 records may be sent unsealed");
			return -EPERM;
		}
	}
	return 0;
}

static int kdtls_nl_record_send(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	struct kdtls_sock *ks;
	struct socket *sock;
	u32 flags = 0;
	const u8 *data;
	size_t len;
	int err;

	ks = kdtls_nl_ks(info, true, &sock, &err);
	if (!ks)
		return err;
	err = kdtls_nl_peer(info, ks, &peer);
	if (err)
		goto out_put;
	err = -EINVAL;
	if (kdtls_nl_missing(info, KDTLS_A_RECORD_DATA))
		goto out_put;
	data = nla_data(tb[KDTLS_A_RECORD_DATA]);
	len = nla_len(tb[KDTLS_A_RECORD_DATA]);
	if (tb[KDTLS_A_RECORD_FLAGS])
		flags = nla_get_u32(tb[KDTLS_A_RECORD_FLAGS]);

	if (!(flags & KDTLS_RECORD_F_SEAL)) {
		if (!len) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    tb[KDTLS_A_RECORD_DATA],
					    "empty datagram");
			goto out_put;
		}
		a = kdtls_assoc_lookup(&ks->assocs, &peer);
		err = kdtls_nl_check_plain(data, len, a != NULL, info->extack);
		kdtls_assoc_put(a);
		if (!err)
			err = kdtls_sock_send_raw(ks, &peer, data, len);
		goto out_put;
	}

	if (kdtls_nl_missing(info, KDTLS_A_RECORD_TYPE))
		goto out_put;
	a = kdtls_assoc_lookup(&ks->assocs, &peer);
	if (!a) {
		NL_SET_ERR_MSG(info->extack, "peer has no association");
		err = -ENOKEY;
		goto out_put;
	}
	err = kdtls_sock_send_sealed(ks, a, nla_get_u8(tb[KDTLS_A_RECORD_TYPE]),
				     data, len);
	kdtls_assoc_put(a);
out_put:
	kdtls_sock_put(ks);
	sockfd_put(sock);
	return err < 0 ? err : 0;
}

/* ---- notifications ---------------------------------------------------- */

/*
 * A record notification with room for @len bytes of data; *@typep points
 * at the record-type byte, for callers that learn it once the data is in.
 */
static struct sk_buff *kdtls_nl_record_new(struct kdtls_sock *ks,
					   const struct kdtls_peer *peer,
					   u8 type, size_t len,
					   const struct kdtls_hdr *opened,
					   struct nlattr **data, u8 **typep,
					   void **hdrp, gfp_t gfp)
{
	struct nlattr *type_attr;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(len) + 256, gfp);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, 0, 0, &kdtls_family, 0, KDTLS_CMD_RECORD);
	if (!hdr ||
	    nla_put_u32(msg, KDTLS_A_SOCK_ID, ks->id) ||
	    kdtls_nl_put_peer(msg, peer) ||
	    !(type_attr = nla_reserve(msg, KDTLS_A_RECORD_TYPE, sizeof(u8))) ||
	    nla_put_u32(msg, KDTLS_A_RECORD_FLAGS,
			opened ? KDTLS_RECORD_F_OPENED : 0) ||
	    (opened &&
	     (nla_put_u16(msg, KDTLS_A_RECORD_EPOCH, opened->epoch) ||
	      nla_put_u64_64bit(msg, KDTLS_A_RECORD_SEQ, opened->seq,
				KDTLS_A_PAD))))
		goto err_free;
	*(u8 *)nla_data(type_attr) = type;
	*data = nla_reserve(msg, KDTLS_A_RECORD_DATA, len);
	if (!*data)
		goto err_free;
	if (typep)
		*typep = nla_data(type_attr);
	*hdrp = hdr;
	return msg;

err_free:
	nlmsg_free(msg);
	return NULL;
}

/**
 * kdtls_nl_record() - hand a datagram or an opened record to the agent
 * @ks: socket it arrived on
 * @portid: the agent's netlink port
 * @peer: sender
 * @type: content type of the (first) record
 * @data: the bytes to pass
 * @len: their length
 * @opened: header of the record @data is the plaintext of, or NULL when
 *	@data is a datagram as received
 * @gfp: allocation flags
 *
 * Never waits for the agent: a full or closed agent socket loses the
 * message (DESIGN.md invariant 4).
 *
 * Return: 0 or negative errno.
 */
int kdtls_nl_record(struct kdtls_sock *ks, u32 portid,
		    const struct kdtls_peer *peer, u8 type, const u8 *data,
		    size_t len, const struct kdtls_hdr *opened, gfp_t gfp)
{
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;

	msg = kdtls_nl_record_new(ks, peer, type, len, opened, &attr, NULL,
				  &hdr, gfp);
	if (!msg)
		return -ENOMEM;
	memcpy(nla_data(attr), data, len);
	genlmsg_end(msg, hdr);
	return genlmsg_unicast(sock_net(ks->sk), msg, portid);
}

/**
 * kdtls_nl_record_skb() - hand a received datagram to the agent (softirq)
 * @ks: socket it arrived on
 * @portid: the agent's netlink port
 * @peer: sender
 * @skb: the datagram; not consumed
 * @offset: where the UDP payload starts in @skb
 * @has_assoc: @peer has an association
 * @epochs: its RX epochs, newest first
 * @n_epochs: entries in @epochs
 *
 * The payload is copied into the notification and classified there, so
 * malformed datagrams and unknown epochs are dropped before the agent
 * sees them.
 *
 * Return: KDTLS_STAT_RX_TO_AGENT, or the counter of the reason it was not.
 */
enum kdtls_stat kdtls_nl_record_skb(struct kdtls_sock *ks, u32 portid,
				    const struct kdtls_peer *peer,
				    struct sk_buff *skb, int offset,
				    bool has_assoc, const u16 *epochs,
				    unsigned int n_epochs)
{
	int len = skb->len - offset;
	enum kdtls_drop reason;
	struct kdtls_hdr rh;
	struct nlattr *attr;
	struct sk_buff *msg;
	u8 *type;
	void *hdr;

	if (len <= 0)
		return KDTLS_STAT_DROP_MALFORMED;
	if (len > KDTLS_MAX_RECORD_LEN + KDTLS_HDR_LEN)
		return KDTLS_STAT_DROP_TOO_BIG;

	/* the type is filled in below, once the data is in and parsed */
	msg = kdtls_nl_record_new(ks, peer, 0, len, NULL, &attr, &type, &hdr,
				  GFP_ATOMIC);
	if (!msg)
		return KDTLS_STAT_DROP_NOMEM;
	if (skb_copy_bits(skb, offset, nla_data(attr), len))
		goto drop_malformed;
	if (kdtls_classify(nla_data(attr), len, has_assoc, epochs, n_epochs,
			   &rh, &reason) != KDTLS_CLASS_AGENT) {
		nlmsg_free(msg);
		return kdtls_drop_stat(reason);
	}
	*type = rh.type;
	genlmsg_end(msg, hdr);
	if (genlmsg_unicast(sock_net(ks->sk), msg, portid))
		return KDTLS_STAT_DROP_AGENT_BUSY;
	return KDTLS_STAT_RX_TO_AGENT;

drop_malformed:
	nlmsg_free(msg);
	return KDTLS_STAT_DROP_MALFORMED;
}

/**
 * kdtls_nl_sock_detached() - tell "events" listeners a socket went away
 * @ks: the socket, detached or closing
 */
void kdtls_nl_sock_detached(struct kdtls_sock *ks)
{
	struct net *net = sock_net(ks->sk);
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&kdtls_family, net, KDTLS_MCGRP_EVENTS_ID))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &kdtls_family, 0,
			  KDTLS_CMD_SOCK_DETACH_NTF);
	if (!hdr || nla_put_u32(msg, KDTLS_A_SOCK_ID, ks->id)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&kdtls_family, net, msg, 0,
				KDTLS_MCGRP_EVENTS_ID, GFP_KERNEL);
}

/* ---- family ----------------------------------------------------------- */

static const struct genl_small_ops kdtls_ops[] = {
	{
		.cmd	= KDTLS_CMD_SOCK_ATTACH,
		.doit	= kdtls_nl_sock_attach,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_SOCK_DETACH,
		.doit	= kdtls_nl_sock_detach,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_SOCK_GET,
		.doit	= kdtls_nl_sock_get,
		.dumpit	= kdtls_nl_sock_dump,
	},
	{
		.cmd	= KDTLS_CMD_ASSOC_ADD,
		.doit	= kdtls_nl_assoc_add,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_ASSOC_DEL,
		.doit	= kdtls_nl_assoc_del,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_ASSOC_REKEY,
		.doit	= kdtls_nl_assoc_rekey,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_RECORD_SEND,
		.doit	= kdtls_nl_record_send,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= KDTLS_CMD_SOCK_SET,
		.doit	= kdtls_nl_sock_set,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

/* assoc-get needs start/done for its dump, which small ops lack */
static const struct genl_ops kdtls_full_ops[] = {
	{
		.cmd	= KDTLS_CMD_ASSOC_GET,
		.doit	= kdtls_nl_assoc_get,
		.start	= kdtls_nl_assoc_dump_start,
		.dumpit	= kdtls_nl_assoc_dump,
		.done	= kdtls_nl_assoc_dump_done,
	},
};

static struct genl_family kdtls_family __ro_after_init = {
	.name		= KDTLS_GENL_NAME,
	.version	= KDTLS_GENL_VERSION,
	.maxattr	= KDTLS_A_MAX,
	.policy		= kdtls_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= kdtls_full_ops,
	.n_ops		= ARRAY_SIZE(kdtls_full_ops),
	.small_ops	= kdtls_ops,
	.n_small_ops	= ARRAY_SIZE(kdtls_ops),
	.resv_start_op	= KDTLS_CMD_MAX + 1,	/* strict for every op */
	.mcgrps		= kdtls_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kdtls_mcgrps),
};

/* an agent's netlink socket closed: its sockets lose their agent */
static int kdtls_nl_notify(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	struct netlink_notify *n = data;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		kdtls_sock_agent_gone(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block kdtls_nl_notifier = {
	.notifier_call = kdtls_nl_notify,
};

/**
 * kdtls_nl_init() - register the generic netlink family
 *
 * Return: 0 or negative errno.
 */
int kdtls_nl_init(void)
{
	int err;

	err = netlink_register_notifier(&kdtls_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&kdtls_family);
	if (err)
		netlink_unregister_notifier(&kdtls_nl_notifier);
	return err;
}

/**
 * kdtls_nl_exit() - unregister the generic netlink family
 */
void kdtls_nl_exit(void)
{
	genl_unregister_family(&kdtls_family);
	netlink_unregister_notifier(&kdtls_nl_notifier);
}
