// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls generic netlink client for the tests (libnl-genl-3).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kt_nl.h"
#include "kt_evp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* per thread: a thread (or a forked child) gets its own netlink socket */
static __thread struct nl_sock *kt_sk;
static __thread int kt_fam = -1;
static __thread pid_t kt_pid;
static __thread char kt_extack[512];
static __thread int kt_miss_type = -1;

const char *const kt_stat_names[KDTLS_STAT_MAX + 1] = {
	[KDTLS_STAT_TX_RECORDS] = "tx-records",
	[KDTLS_STAT_TX_BYTES] = "tx-bytes",
	[KDTLS_STAT_TX_ERRORS] = "tx-errors",
	[KDTLS_STAT_TX_NO_ASSOC] = "tx-no-assoc",
	[KDTLS_STAT_RX_RECORDS] = "rx-records",
	[KDTLS_STAT_RX_BYTES] = "rx-bytes",
	[KDTLS_STAT_RX_TO_AGENT] = "rx-to-agent",
	[KDTLS_STAT_RX_TO_APP] = "rx-to-app",
	[KDTLS_STAT_DROP_MALFORMED] = "drop-malformed",
	[KDTLS_STAT_DROP_VERSION] = "drop-version",
	[KDTLS_STAT_DROP_TYPE] = "drop-type",
	[KDTLS_STAT_DROP_EPOCH] = "drop-epoch",
	[KDTLS_STAT_DROP_REPLAY] = "drop-replay",
	[KDTLS_STAT_DROP_AUTH] = "drop-auth",
	[KDTLS_STAT_DROP_TOO_BIG] = "drop-too-big",
	[KDTLS_STAT_DROP_NO_AGENT] = "drop-no-agent",
	[KDTLS_STAT_DROP_AGENT_BUSY] = "drop-agent-busy",
	[KDTLS_STAT_DROP_NOMEM] = "drop-nomem",
	[KDTLS_STAT_REKEY_TX] = "rekey-tx",
	[KDTLS_STAT_REKEY_RX] = "rekey-rx",
};

int kt_nl_init(void)
{
	int one = 1, err;

	if (kt_sk && kt_pid == getpid())
		return 0;
	/* a forked child never shares its parent's socket */
	kt_sk = nl_socket_alloc();
	if (!kt_sk)
		return -ENOMEM;
	err = genl_connect(kt_sk);
	if (err) {
		nl_socket_free(kt_sk);
		kt_sk = NULL;
		return -ECONNREFUSED;
	}
	setsockopt(nl_socket_get_fd(kt_sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(kt_sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	kt_fam = genl_ctrl_resolve(kt_sk, KDTLS_GENL_NAME);
	if (kt_fam < 0) {
		nl_socket_free(kt_sk);
		kt_sk = NULL;
		return -ENOENT;
	}
	kt_pid = getpid();
	/* room for 16 KiB record-data (the default is one page) */
	nlmsg_set_default_size(64 * 1024);
	return 0;
}

const char *kt_nl_extack(void)
{
	return kt_extack;
}

int kt_nl_miss_type(void)
{
	return kt_miss_type;
}

int kt_nl_family(void)
{
	return kt_nl_init() ? -1 : kt_fam;
}

struct nl_msg *kt_msg_new(uint8_t cmd, bool dump)
{
	struct nl_msg *m;

	if (kt_nl_init())
		return NULL;
	m = nlmsg_alloc();
	if (!m)
		return NULL;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, kt_fam, 0,
			 dump ? NLM_F_DUMP : 0, cmd, KDTLS_GENL_VERSION)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

int kt_put_peer(struct nl_msg *m, const struct sockaddr *peer, bool as6)
{
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)peer;

		if (as6) {
			uint8_t a6[16] = { [10] = 0xff, [11] = 0xff };

			memcpy(a6 + 12, &in->sin_addr, 4);
			nla_put(m, KDTLS_A_PEER_ADDR6, 16, a6);
		} else {
			nla_put(m, KDTLS_A_PEER_ADDR4, 4, &in->sin_addr);
		}
		return nla_put_u16(m, KDTLS_A_PEER_PORT, in->sin_port);
	}
	{
		const struct sockaddr_in6 *in6 = (const void *)peer;

		nla_put(m, KDTLS_A_PEER_ADDR6, 16, &in6->sin6_addr);
		return nla_put_u16(m, KDTLS_A_PEER_PORT, in6->sin6_port);
	}
}

int kt_put_key(struct nl_msg *m, int attr, const struct kt_key *k)
{
	struct nlattr *n = nla_nest_start(m, attr);

	if (!n)
		return -ENOMEM;
	nla_put_u16(m, KDTLS_A_KEY_EPOCH, k->epoch);
	nla_put_u64(m, KDTLS_A_KEY_SEQ, k->seq);
	if (k->key_len >= 0)
		nla_put(m, KDTLS_A_KEY_KEY, k->key_len, k->key);
	if (k->salt_len >= 0)
		nla_put(m, KDTLS_A_KEY_SALT, k->salt_len, k->salt);
	nla_nest_end(m, n);
	return 0;
}

struct kt_req {
	kt_reply_cb cb;
	void *arg;
	int err;
	bool done;
};

static int kt_valid_cb(struct nl_msg *msg, void *arg)
{
	struct kt_req *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[KDTLS_A_MAX + 1];

	if (!r->cb)
		return NL_OK;
	memset(tb, 0, sizeof(tb));
	/* no policy: take what the kernel sent, including unknown types */
	if (genlmsg_parse(nlh, 0, tb, KDTLS_A_MAX, NULL) < 0)
		return NL_OK;
	if (r->cb(tb, nlh, r->arg) < 0)
		r->err = -EPROTO;
	return NL_OK;
}

static int kt_ack_cb(struct nl_msg *msg, void *arg)
{
	struct kt_req *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static int kt_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct kt_req *r = arg;
	int off, len;

	(void)nla;
	r->err = e->error;
	r->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - off;
	if (len > 0) {
		struct nlattr *a = (void *)((char *)nlh + off), *pos;
		int rem;

		nla_for_each_attr(pos, a, len, rem) {
			if (nla_type(pos) == NLMSGERR_ATTR_MSG)
				snprintf(kt_extack, sizeof(kt_extack), "%.*s",
					 nla_len(pos), (char *)nla_data(pos));
#ifdef NLMSGERR_ATTR_MISS_TYPE
			if (nla_type(pos) == NLMSGERR_ATTR_MISS_TYPE &&
			    nla_len(pos) >= 4)
				kt_miss_type = (int)nla_get_u32(pos);
#endif
		}
	}
	return NL_STOP;
}

struct nl_sock *kt_nl_sock_new(void)
{
	struct nl_sock *sk;
	int one = 1;

	if (kt_nl_init())
		return NULL;
	sk = nl_socket_alloc();
	if (!sk)
		return NULL;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return NULL;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	return sk;
}

int kt_nl_request(struct nl_msg *m, kt_reply_cb cb, void *arg)
{
	int err;

	kt_extack[0] = '\0';
	kt_miss_type = -1;
	if (!m)
		return -ENOMEM;
	err = kt_nl_init();
	if (err) {
		nlmsg_free(m);
		return err;
	}
	return kt_nl_request_on(kt_sk, m, cb, arg);
}

int kt_nl_request_on(struct nl_sock *sk, struct nl_msg *m, kt_reply_cb cb,
		     void *arg)
{
	struct kt_req r = { .cb = cb, .arg = arg };
	struct nl_cb *c;
	int err;

	kt_extack[0] = '\0';
	kt_miss_type = -1;
	if (!m)
		return -ENOMEM;
	c = nl_cb_alloc(NL_CB_DEFAULT);
	if (!c) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nl_cb_set(c, NL_CB_VALID, NL_CB_CUSTOM, kt_valid_cb, &r);
	nl_cb_set(c, NL_CB_ACK, NL_CB_CUSTOM, kt_ack_cb, &r);
	nl_cb_set(c, NL_CB_FINISH, NL_CB_CUSTOM, kt_ack_cb, &r);
	nl_cb_err(c, NL_CB_CUSTOM, kt_err_cb, &r);

	err = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (err < 0) {
		nl_cb_put(c);
		return -EIO;
	}
	while (!r.done) {
		err = nl_recvmsgs(sk, c);
		if (err < 0 && !r.done) {
			r.err = -EIO;
			break;
		}
	}
	nl_cb_put(c);
	return r.err;
}

int kt_nl_raw(struct nl_msg *m, char *extack, size_t len)
{
	int err = kt_nl_request(m, NULL, NULL);

	if (extack && len)
		snprintf(extack, len, "%s", kt_extack);
	return err;
}

/* ---- replies ---- */

static void kt_parse_stats(struct nlattr *nest, uint64_t *stats)
{
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nest, rem) {
		int t = nla_type(pos);

		if (t > 0 && t <= KDTLS_STAT_MAX && nla_len(pos) == 8)
			stats[t] = nla_get_u64(pos);
	}
}

static int kt_sock_cb(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct kt_sock_info *i = arg;
	int t;

	(void)nlh;
	memset(i, 0, sizeof(*i));
	for (t = 1; t <= KDTLS_A_MAX; t++)
		i->seen[t] = tb[t] != NULL;
	if (tb[KDTLS_A_SOCK_ID])
		i->sock_id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	if (tb[KDTLS_A_SOCK_FLAGS])
		i->flags = nla_get_u32(tb[KDTLS_A_SOCK_FLAGS]);
	if (tb[KDTLS_A_SOCK_MAX_ASSOCS])
		i->max_assocs = nla_get_u32(tb[KDTLS_A_SOCK_MAX_ASSOCS]);
	if (tb[KDTLS_A_SOCK_NUM_ASSOCS])
		i->num_assocs = nla_get_u32(tb[KDTLS_A_SOCK_NUM_ASSOCS]);
	if (tb[KDTLS_A_SOCK_AGENT_PORTID])
		i->agent_portid = nla_get_u32(tb[KDTLS_A_SOCK_AGENT_PORTID]);
	if (tb[KDTLS_A_SOCK_FAMILY])
		i->family = nla_get_u16(tb[KDTLS_A_SOCK_FAMILY]);
	if (tb[KDTLS_A_SOCK_GRO])
		i->gro = nla_get_u8(tb[KDTLS_A_SOCK_GRO]);
	if (tb[KDTLS_A_SOCK_STATS])
		kt_parse_stats(tb[KDTLS_A_SOCK_STATS], i->stats);
	return 0;
}

static void kt_parse_key(struct nlattr *nest, uint16_t *epoch, uint64_t *seq,
			 int *key_attrs)
{
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nest, rem) {
		switch (nla_type(pos)) {
		case KDTLS_A_KEY_EPOCH:
			*epoch = nla_get_u16(pos);
			break;
		case KDTLS_A_KEY_SEQ:
			*seq = nla_get_u64(pos);
			break;
		case KDTLS_A_KEY_PAD:
			break;
		default:	/* KEY, SALT or anything unexpected */
			(*key_attrs)++;
		}
	}
}

static int kt_assoc_cb(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct kt_assoc_info *i = arg;
	int t;

	(void)nlh;
	memset(i, 0, sizeof(*i));
	for (t = 1; t <= KDTLS_A_MAX; t++)
		i->seen[t] = tb[t] != NULL;
	if (tb[KDTLS_A_SOCK_ID])
		i->sock_id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	if (tb[KDTLS_A_PEER_ADDR4] && tb[KDTLS_A_PEER_PORT]) {
		struct sockaddr_in *in = (void *)&i->peer;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, nla_data(tb[KDTLS_A_PEER_ADDR4]), 4);
		in->sin_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
	} else if (tb[KDTLS_A_PEER_ADDR6] && tb[KDTLS_A_PEER_PORT]) {
		struct sockaddr_in6 *in6 = (void *)&i->peer;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, nla_data(tb[KDTLS_A_PEER_ADDR6]), 16);
		in6->sin6_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
	}
	if (tb[KDTLS_A_ASSOC_VERSION])
		i->version = nla_get_u16(tb[KDTLS_A_ASSOC_VERSION]);
	if (tb[KDTLS_A_ASSOC_CIPHER])
		i->cipher = nla_get_u16(tb[KDTLS_A_ASSOC_CIPHER]);
	if (tb[KDTLS_A_ASSOC_TX])
		kt_parse_key(tb[KDTLS_A_ASSOC_TX], &i->tx_epoch, &i->tx_seq,
			     &i->key_attrs);
	if (tb[KDTLS_A_ASSOC_RX])
		kt_parse_key(tb[KDTLS_A_ASSOC_RX], &i->rx_epoch, &i->rx_seq,
			     &i->key_attrs);
	if (tb[KDTLS_A_ASSOC_REPLAY_WINDOW])
		i->window = nla_get_u32(tb[KDTLS_A_ASSOC_REPLAY_WINDOW]);
	if (tb[KDTLS_A_ASSOC_RX_GRACE_MS])
		i->grace_ms = nla_get_u32(tb[KDTLS_A_ASSOC_RX_GRACE_MS]);
	if (tb[KDTLS_A_ASSOC_MAX_PAYLOAD])
		i->max_payload = nla_get_u32(tb[KDTLS_A_ASSOC_MAX_PAYLOAD]);
	if (tb[KDTLS_A_ASSOC_STATS])
		kt_parse_stats(tb[KDTLS_A_ASSOC_STATS], i->stats);
	return 0;
}

struct kt_dump {
	void *out;
	size_t size;
	int n, max;
	kt_reply_cb one;
};

static int kt_dump_cb(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct kt_dump *d = arg;

	if (d->n < d->max)
		d->one(tb, nlh, (char *)d->out + d->size * d->n);
	d->n++;
	return 0;
}

/* ---- operations ---- */

static int kt_attach_cb(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	if (tb[KDTLS_A_SOCK_ID])
		*(uint32_t *)arg = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	return 0;
}

int kt_attach_max(int fd, uint32_t flags, uint32_t max_assocs,
		  uint32_t *sock_id)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false);
	uint32_t id = 0;
	int err;

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	if (flags)
		nla_put_u32(m, KDTLS_A_SOCK_FLAGS, flags);
	if (max_assocs)
		nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, max_assocs);
	err = kt_nl_request(m, kt_attach_cb, &id);
	if (sock_id)
		*sock_id = id;
	return err;
}

int kt_attach_on(struct nl_sock *sk, int fd, uint32_t flags,
		 uint32_t *sock_id)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false);
	uint32_t id = 0;
	int err;

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	if (flags)
		nla_put_u32(m, KDTLS_A_SOCK_FLAGS, flags);
	err = kt_nl_request_on(sk, m, kt_attach_cb, &id);
	if (sock_id)
		*sock_id = id;
	return err;
}

int kt_attach(int fd, uint32_t flags, uint32_t *sock_id)
{
	return kt_attach_max(fd, flags, 0, sock_id);
}

int kt_detach(int fd)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_DETACH, false);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	return kt_nl_request(m, NULL, NULL);
}

int kt_sock_set_gro(int fd, bool on)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	nla_put_u8(m, KDTLS_A_SOCK_GRO, on);
	return kt_nl_request(m, NULL, NULL);
}

int kt_sock_get(int fd, struct kt_sock_info *info)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_GET, false);

	if (!m)
		return -ENOMEM;
	memset(info, 0, sizeof(*info));
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	return kt_nl_request(m, kt_sock_cb, info);
}

int kt_sock_get_by_id(uint32_t id, struct kt_sock_info *info)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_GET, false);

	if (!m)
		return -ENOMEM;
	memset(info, 0, sizeof(*info));
	nla_put_u32(m, KDTLS_A_SOCK_ID, id);
	return kt_nl_request(m, kt_sock_cb, info);
}

int kt_sock_dump(struct kt_sock_info *out, int max)
{
	struct kt_dump d = { out, sizeof(*out), 0, max, kt_sock_cb };
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_GET, true);
	int err;

	if (!m)
		return -ENOMEM;
	err = kt_nl_request(m, kt_dump_cb, &d);
	return err ? err : d.n;
}

int kt_sock_get_stats(int fd, uint64_t stats[KDTLS_STAT_MAX + 1])
{
	struct kt_sock_info i;
	int err = kt_sock_get(fd, &i);

	if (!err)
		memcpy(stats, i.stats, sizeof(i.stats));
	return err;
}

int kt_assoc_add_ex(int fd, const struct sockaddr *peer, uint16_t cipher,
		    const struct kt_key *tx, const struct kt_key *rx,
		    const struct kt_assoc_opts *o)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_ADD, false);
	static const struct kt_assoc_opts none;

	if (!m)
		return -ENOMEM;
	if (!o)
		o = &none;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	if (peer)
		kt_put_peer(m, peer, o->peer_as_addr6);
	nla_put_u16(m, KDTLS_A_ASSOC_VERSION,
		    o->version ? o->version : KDTLS_VERSION_1_2);
	if (cipher)
		nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, cipher);
	if (tx)
		kt_put_key(m, KDTLS_A_ASSOC_TX, tx);
	if (rx)
		kt_put_key(m, KDTLS_A_ASSOC_RX, rx);
	if (o->window)
		nla_put_u32(m, KDTLS_A_ASSOC_REPLAY_WINDOW, o->window);
	if (o->grace_ms || o->set_grace)
		nla_put_u32(m, KDTLS_A_ASSOC_RX_GRACE_MS, o->grace_ms);
	if (o->max_payload)
		nla_put_u32(m, KDTLS_A_ASSOC_MAX_PAYLOAD, o->max_payload);
	return kt_nl_request(m, NULL, NULL);
}

int kt_assoc_add(int fd, const struct sockaddr *peer, uint16_t cipher,
		 const struct kt_key *tx, const struct kt_key *rx,
		 uint32_t window)
{
	struct kt_assoc_opts o = { .window = window };

	return kt_assoc_add_ex(fd, peer, cipher, tx, rx, &o);
}

int kt_assoc_del(int fd, const struct sockaddr *peer)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_DEL, false);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	kt_put_peer(m, peer, false);
	return kt_nl_request(m, NULL, NULL);
}

int kt_rekey(int fd, const struct sockaddr *peer, const struct kt_key *tx,
	     const struct kt_key *rx)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	kt_put_peer(m, peer, false);
	if (tx)
		kt_put_key(m, KDTLS_A_ASSOC_TX, tx);
	if (rx)
		kt_put_key(m, KDTLS_A_ASSOC_RX, rx);
	return kt_nl_request(m, NULL, NULL);
}

int kt_assoc_get(int fd, const struct sockaddr *peer,
		 struct kt_assoc_info *info)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_GET, false);

	if (!m)
		return -ENOMEM;
	memset(info, 0, sizeof(*info));
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	kt_put_peer(m, peer, false);
	return kt_nl_request(m, kt_assoc_cb, info);
}

int kt_assoc_dump(int fd, struct kt_assoc_info *out, int max)
{
	struct kt_dump d = { out, sizeof(*out), 0, max, kt_assoc_cb };
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_GET, true);
	int err;

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	err = kt_nl_request(m, kt_dump_cb, &d);
	return err ? err : d.n;
}

int kt_assoc_get_stats(int fd, const struct sockaddr *peer,
		       uint64_t stats[KDTLS_STAT_MAX + 1])
{
	struct kt_assoc_info i;
	int err = kt_assoc_get(fd, peer, &i);

	if (!err)
		memcpy(stats, i.stats, sizeof(i.stats));
	return err;
}

int kt_record_send(int fd, const struct sockaddr *peer, uint8_t type,
		   uint32_t flags, const void *data, size_t len)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);

	if (!m)
		return -ENOMEM;
	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	kt_put_peer(m, peer, false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, type);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, flags);
	if (data)
		nla_put(m, KDTLS_A_RECORD_DATA, (int)len, data);
	return kt_nl_request(m, NULL, NULL);
}

void kt_key_make(struct kt_key *k, unsigned int cipher, uint16_t epoch,
		 uint64_t seq, uint8_t tag)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	int i;

	memset(k, 0, sizeof(*k));
	k->epoch = epoch;
	k->seq = seq;
	k->key_len = c ? (int)c->key_len : 16;
	k->salt_len = c ? (int)c->salt_len : 4;
	for (i = 0; i < 32; i++)
		k->key[i] = (uint8_t)(tag * 31 + i * 7 + epoch);
	for (i = 0; i < 12; i++)
		k->salt[i] = (uint8_t)(tag * 17 + i * 3 + 0x80 + epoch);
}
