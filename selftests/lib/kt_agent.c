// SPDX-License-Identifier: GPL-2.0
/* The handshake agent's netlink sockets, for the tests (see kt_agent.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kt_agent.h"
#include "kt_nl.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

struct nl_sock *kt_agent_new(void)
{
	struct nl_sock *sk = kt_nl_sock_new();

	if (sk)
		nl_socket_disable_seq_check(sk);
	return sk;
}

struct nl_sock *kt_events_new(void)
{
	struct nl_sock *sk = kt_nl_sock_new();
	int grp;

	if (!sk)
		return NULL;
	grp = genl_ctrl_resolve_grp(sk, KDTLS_GENL_NAME, KDTLS_MCGRP_EVENTS);
	if (grp < 0 || nl_socket_add_membership(sk, grp)) {
		nl_socket_free(sk);
		return NULL;
	}
	nl_socket_disable_seq_check(sk);
	return sk;
}

static void kt_ntf_parse(struct nlmsghdr *nlh, struct kt_ntf *n)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[KDTLS_A_MAX + 1];
	int t;

	memset(n, 0, offsetof(struct kt_ntf, data));
	n->data_len = -1;
	n->cmd = g->cmd;
	memset(tb, 0, sizeof(tb));
	if (genlmsg_parse(nlh, 0, tb, KDTLS_A_MAX, NULL) < 0)
		return;
	for (t = 1; t <= KDTLS_A_MAX; t++)
		n->n_attrs += tb[t] != NULL;
	if (tb[KDTLS_A_SOCK_ID]) {
		n->has_sock_id = true;
		n->sock_id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	}
	if (tb[KDTLS_A_PEER_ADDR4] && tb[KDTLS_A_PEER_PORT] &&
	    nla_len(tb[KDTLS_A_PEER_ADDR4]) == 4) {
		struct sockaddr_in *in = (void *)&n->peer;

		n->has_peer = true;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, nla_data(tb[KDTLS_A_PEER_ADDR4]), 4);
		in->sin_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
	} else if (tb[KDTLS_A_PEER_ADDR6] && tb[KDTLS_A_PEER_PORT] &&
		   nla_len(tb[KDTLS_A_PEER_ADDR6]) == 16) {
		struct sockaddr_in6 *in6 = (void *)&n->peer;

		n->has_peer = true;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, nla_data(tb[KDTLS_A_PEER_ADDR6]), 16);
		in6->sin6_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
	}
	if (tb[KDTLS_A_RECORD_TYPE]) {
		n->has_type = true;
		n->type = nla_get_u8(tb[KDTLS_A_RECORD_TYPE]);
	}
	if (tb[KDTLS_A_RECORD_FLAGS]) {
		n->has_flags = true;
		n->flags = nla_get_u32(tb[KDTLS_A_RECORD_FLAGS]);
	}
	if (tb[KDTLS_A_RECORD_EPOCH]) {
		n->has_epoch = true;
		n->epoch = nla_get_u16(tb[KDTLS_A_RECORD_EPOCH]);
	}
	if (tb[KDTLS_A_RECORD_SEQ]) {
		n->has_seq = true;
		n->seq = nla_get_u64(tb[KDTLS_A_RECORD_SEQ]);
	}
	if (tb[KDTLS_A_RECORD_DATA]) {
		int len = nla_len(tb[KDTLS_A_RECORD_DATA]);

		if (len > (int)sizeof(n->data))
			len = (int)sizeof(n->data);
		n->data_len = len;
		memcpy(n->data, nla_data(tb[KDTLS_A_RECORD_DATA]), len);
	}
}

/* one notification is one skb, so one recv() returns one message */
static int kt_ntf_read(int fd, struct kt_ntf *n)
{
	static __thread uint8_t buf[65536];
	struct nlmsghdr *nlh = (void *)buf;
	ssize_t r;

	do
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(nlh, (size_t)r))
		return -EPROTO;
	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EPROTO;
	if (n)
		kt_ntf_parse(nlh, n);
	return 1;
}

int kt_ntf_recv(struct nl_sock *sk, struct kt_ntf *n, int ms)
{
	struct pollfd p = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	r = kt_ntf_read(p.fd, n);
	return r == -EAGAIN ? 0 : r;
}

int kt_ntf_drain(struct nl_sock *sk)
{
	int n = 0, r;

	for (;;) {
		r = kt_ntf_read(nl_socket_get_fd(sk), NULL);
		if (r == -ENOBUFS)
			continue;
		if (r < 0)
			return n;
		n++;
	}
}
