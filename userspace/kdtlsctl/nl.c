// SPDX-License-Identifier: GPL-2.0
/*
 * libkctl: the generic netlink session, its requests and the events group.
 *
 * One netlink socket per process, opened on first use and shared by every
 * command a batch runs, so that a socket attached with --agent keeps this
 * process as its agent until the process exits.  Because of that, record
 * notifications may arrive between a request and its answer; they carry
 * sequence number 0 and are skipped here (only monitor prints them).
 *
 * The socket asks for extended ACKs (NETLINK_EXT_ACK), so errors carry the
 * kernel's message and the offset of the offending attribute, and for
 * capped ACKs (NETLINK_CAP_ACK), so that an error does not echo the
 * request back -- requests may carry keys.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

static struct {
	struct nl_sock *sk;
	int family;
} nl;

/* Enough for parsing replies safely; the kernel validates requests. */
static struct nla_policy kctl_policy[KDTLS_A_MAX + 1] = {
	[KDTLS_A_SOCK_FD]		= { .type = NLA_U32 },
	[KDTLS_A_SOCK_ID]		= { .type = NLA_U32 },
	[KDTLS_A_SOCK_FLAGS]		= { .type = NLA_U32 },
	[KDTLS_A_SOCK_MAX_ASSOCS]	= { .type = NLA_U32 },
	[KDTLS_A_SOCK_FAMILY]		= { .type = NLA_U16 },
	[KDTLS_A_SOCK_NUM_ASSOCS]	= { .type = NLA_U32 },
	[KDTLS_A_SOCK_AGENT_PORTID]	= { .type = NLA_U32 },
	[KDTLS_A_SOCK_STATS]		= { .type = NLA_NESTED },
	[KDTLS_A_PEER_ADDR4]		= { .minlen = 4 },
	[KDTLS_A_PEER_ADDR6]		= { .minlen = 16 },
	[KDTLS_A_PEER_PORT]		= { .type = NLA_U16 },
	[KDTLS_A_ASSOC_VERSION]		= { .type = NLA_U16 },
	[KDTLS_A_ASSOC_CIPHER]		= { .type = NLA_U16 },
	[KDTLS_A_ASSOC_TX]		= { .type = NLA_NESTED },
	[KDTLS_A_ASSOC_RX]		= { .type = NLA_NESTED },
	[KDTLS_A_ASSOC_REPLAY_WINDOW]	= { .type = NLA_U32 },
	[KDTLS_A_ASSOC_RX_GRACE_MS]	= { .type = NLA_U32 },
	[KDTLS_A_ASSOC_MAX_PAYLOAD]	= { .type = NLA_U32 },
	[KDTLS_A_ASSOC_STATS]		= { .type = NLA_NESTED },
	[KDTLS_A_RECORD_TYPE]		= { .type = NLA_U8 },
	[KDTLS_A_RECORD_FLAGS]		= { .type = NLA_U32 },
	[KDTLS_A_RECORD_EPOCH]		= { .type = NLA_U16 },
	[KDTLS_A_RECORD_SEQ]		= { .type = NLA_U64 },
};

struct nla_policy kctl_key_policy[KDTLS_A_KEY_MAX + 1] = {
	[KDTLS_A_KEY_EPOCH]	= { .type = NLA_U16 },
	[KDTLS_A_KEY_SEQ]	= { .type = NLA_U64 },
};

int kctl_nl_open(void)
{
	int one = 1, err;

	if (nl.sk)
		return 0;
	nl.sk = nl_socket_alloc();
	if (!nl.sk) {
		kctl_err("netlink: out of memory");
		return -1;
	}
	err = genl_connect(nl.sk);
	if (err) {
		kctl_err("netlink: %s", nl_geterror(err));
		goto free;
	}
	/* Best effort: kernels before 4.12 have no extended ACKs. */
	setsockopt(nl_socket_get_fd(nl.sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl.sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	/* Record notifications may be bigger than a page. */
	nl_socket_enable_msg_peek(nl.sk);

	nl.family = genl_ctrl_resolve(nl.sk, KDTLS_GENL_NAME);
	if (nl.family < 0) {
		if (nl.family == -NLE_OBJ_NOTFOUND)
			kctl_err("generic netlink family \"" KDTLS_GENL_NAME
				 "\" not found (is kdtls.ko loaded?)");
		else
			kctl_err("generic netlink family \"%s\": %s",
				 KDTLS_GENL_NAME, nl_geterror(nl.family));
		goto free;
	}
	return 0;
free:
	nl_socket_free(nl.sk);
	nl.sk = NULL;
	return -1;
}

struct nl_sock *kctl_nl_sock(void)
{
	return nl.sk;
}

int kctl_nl_family(void)
{
	return nl.family;
}

/* Command and attributes of a kdtls message; -1 if malformed. */
int kctl_nl_parse(struct nl_msg *msg, uint8_t *cmd, struct nlattr **tb)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (!genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_parse(nlh, 0, tb, KDTLS_A_MAX, kctl_policy))
		return -1;
	*cmd = genlmsg_hdr(nlh)->cmd;
	return 0;
}

/* A new request; opens the session on first use.  NULL: error printed. */
struct nl_msg *kctl_msg_new(uint8_t cmd, int flags)
{
	struct nl_msg *msg;

	if (kctl_nl_open())
		return NULL;
	msg = nlmsg_alloc();
	if (!msg) {
		kctl_err("out of memory");
		return NULL;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl.family, 0, flags,
			 cmd, KDTLS_GENL_VERSION)) {
		nlmsg_free(msg);
		kctl_err("out of memory");
		return NULL;
	}
	return msg;
}

int kctl_put_peer(struct nl_msg *msg, const struct kctl_peer *peer)
{
	int err;

	if (peer->family == AF_INET)
		err = nla_put(msg, KDTLS_A_PEER_ADDR4, 4, peer->addr);
	else
		err = nla_put(msg, KDTLS_A_PEER_ADDR6, 16, peer->addr);
	return err ?: nla_put_u16(msg, KDTLS_A_PEER_PORT, htons(peer->port));
}

struct kctl_req {
	const char *op;
	struct nl_msg *msg;	/* the request, to name a bad attribute */
	kctl_reply_fn fn;
	void *arg;
	uint32_t seq;
	bool done;
	int error;		/* positive errno from the kernel */
	int status;		/* exit status of a reply callback */
	char ext_msg[256];
	char ext_attr[64];	/* attribute at NLMSGERR_ATTR_OFFS */
	bool has_miss;
	uint32_t miss_type;
	bool miss_nest;
};

/*
 * Name of the attribute starting at byte @offs of our request, looking
 * one level into the key nests: "assoc-tx.key".
 */
static void name_attr(struct kctl_req *r, uint32_t offs)
{
	struct nlmsghdr *nlh = nlmsg_hdr(r->msg);
	struct nlattr *a, *k;
	int rem, krem;

	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		uint32_t at = (char *)a - (char *)nlh;
		const char *name = kctl_attr_name(nla_type(a), false);

		if (offs < at || offs >= at + nla_total_size(nla_len(a)))
			continue;
		if (!name)
			name = "?";
		if (offs == at || !(nla_type(a) == KDTLS_A_ASSOC_TX ||
				    nla_type(a) == KDTLS_A_ASSOC_RX)) {
			snprintf(r->ext_attr, sizeof(r->ext_attr), "%s", name);
			return;
		}
		nla_for_each_nested(k, a, krem) {
			const char *kname = kctl_attr_name(nla_type(k), true);

			if ((char *)k - (char *)nlh != offs)
				continue;
			snprintf(r->ext_attr, sizeof(r->ext_attr), "%s.%s",
				 name, kname ?: "?");
			return;
		}
		snprintf(r->ext_attr, sizeof(r->ext_attr), "%s", name);
		return;
	}
}

/* The extended ACK attributes (linux/netlink.h, enum nlmsgerr_attrs). */
static void parse_ext_ack(struct kctl_req *r, const struct nlmsghdr *nlh,
			  size_t off)
{
	struct nlattr *a;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len < off)
		return;
	nla_for_each_attr(a, (struct nlattr *)((char *)nlh + off),
			  nlh->nlmsg_len - off, rem) {
		switch (nla_type(a)) {
		case NLMSGERR_ATTR_MSG:
			nla_strlcpy(r->ext_msg, a, sizeof(r->ext_msg));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (nla_len(a) >= 4)
				name_attr(r, nla_get_u32(a));
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (nla_len(a) >= 4) {
				r->has_miss = true;
				r->miss_type = nla_get_u32(a);
			}
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			r->miss_nest = true;
			break;
		}
	}
}

static int req_seq(struct nl_msg *msg, void *arg)
{
	struct kctl_req *r = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == r->seq ? NL_OK : NL_SKIP;
}

static int req_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KDTLS_A_MAX + 1];
	struct kctl_req *r = arg;
	uint8_t cmd;

	if (!r->fn)
		return NL_OK;
	if (kctl_nl_parse(msg, &cmd, tb)) {
		kctl_err("%s: malformed reply", r->op);
		r->status = KCTL_EXIT_FAIL;
		r->done = true;
		return NL_STOP;
	}
	r->status = r->fn(cmd, tb, r->arg);
	if (r->status) {
		r->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

/* An error, or (error 0, via req_ack) an ACK that may carry a warning. */
static int req_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct kctl_req *r = arg;
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	(void)nla;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	parse_ext_ack(r, nlh, off);
	r->error = -e->error;
	r->done = true;
	return NL_STOP;
}

static int req_ack(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	req_err(NULL, nlmsg_data(nlh), arg);
	return NL_STOP;
}

/* End of a dump; since Linux 4.x it carries the dump's error, if any. */
static int req_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct kctl_req *r = arg;
	int err = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&err, nlmsg_data(nlh), sizeof(int));
	if (err < 0) {
		parse_ext_ack(r, nlh, NLMSG_HDRLEN + sizeof(int));
		r->error = -err;
	}
	r->done = true;
	return NL_STOP;
}

static void report(const struct kctl_req *r)
{
	char miss[80] = "";
	const char *what = r->ext_msg;

	if (!*what && r->has_miss) {
		const char *name = kctl_attr_name(r->miss_type, r->miss_nest);

		if (name)
			snprintf(miss, sizeof(miss), "missing attribute %s%s",
				 r->miss_nest ? "key." : "", name);
		else
			snprintf(miss, sizeof(miss), "missing attribute %u",
				 r->miss_type);
		what = miss;
	}
	if (*what && *r->ext_attr)
		kctl_err("%s: %s: %s (attribute %s)", r->op,
			 strerror(r->error), what, r->ext_attr);
	else if (*what)
		kctl_err("%s: %s: %s", r->op, strerror(r->error), what);
	else if (*r->ext_attr)
		kctl_err("%s: %s (attribute %s)", r->op, strerror(r->error),
			 r->ext_attr);
	else
		kctl_err("%s: %s", r->op, strerror(r->error));
}

/*
 * Send @msg, hand every reply to @fn (may be NULL), wait for the ACK or
 * the end of the dump.  @msg is wiped and freed in all cases: it may hold
 * keys.  Returns an exit status, errors printed.
 */
int kctl_request(struct nl_msg *msg, const char *op,
		 kctl_reply_fn fn, void *arg)
{
	struct kctl_req r = { .op = op, .msg = msg, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int err, ret = KCTL_EXIT_FAIL;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		kctl_err("%s: out of memory", op);
		goto out;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, req_seq, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_finish, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, req_err, &r);

	err = nl_send_auto(nl.sk, msg);
	if (err < 0) {
		kctl_err("%s: %s", op, nl_geterror(err));
		goto out;
	}
	r.seq = nlmsg_hdr(msg)->nlmsg_seq;
	while (!r.done) {
		err = nl_recvmsgs(nl.sk, cb);
		if (!r.done && err < 0) {
			kctl_err("%s: %s", op, nl_geterror(err));
			goto out;
		}
	}
	if (r.error) {
		report(&r);
	} else if (r.status) {
		ret = r.status;
	} else {
		if (*r.ext_msg)
			kctl_err("%s: warning: %s", op, r.ext_msg);
		ret = KCTL_EXIT_OK;
	}
out:
	nl_cb_put(cb);
	explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	return ret;
}

/*
 * Join the "events" multicast group (assoc-del and sock-detach
 * notifications of this network namespace).  Returns an exit status.
 */
int kctl_nl_join_events(void)
{
	int grp, err;

	if (kctl_nl_open())
		return KCTL_EXIT_FAIL;
	grp = genl_ctrl_resolve_grp(nl.sk, KDTLS_GENL_NAME,
				    KDTLS_MCGRP_EVENTS);
	if (grp < 0) {
		kctl_err("multicast group \"%s\": %s", KDTLS_MCGRP_EVENTS,
			 nl_geterror(grp));
		return KCTL_EXIT_FAIL;
	}
	err = nl_socket_add_membership(nl.sk, grp);
	if (err) {
		kctl_err("joining \"%s\": %s", KDTLS_MCGRP_EVENTS,
			 nl_geterror(err));
		return KCTL_EXIT_FAIL;
	}
	return KCTL_EXIT_OK;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/*
 * Hand every message arriving on the session (notifications carry
 * sequence number 0) to @fn until an error other than a lost
 * notification; never returns success.
 */
int kctl_nl_listen(nl_recvmsg_msg_cb_t fn, void *arg)
{
	struct nl_cb *cb;
	int err;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		kctl_err("out of memory");
		return KCTL_EXIT_FAIL;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	for (;;) {
		err = nl_recvmsgs(nl.sk, cb);
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the receive queue overflowed */
			kctl_err("notifications lost");
			continue;
		}
		if (err < 0 && err != -NLE_INTR && err != -NLE_AGAIN) {
			kctl_err("%s", nl_geterror(err));
			break;
		}
	}
	nl_cb_put(cb);
	return KCTL_EXIT_FAIL;
}
