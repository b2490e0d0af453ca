/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake agent's side of the kdtls family, for the tests: a netlink
 * socket of its own that attaches with the agent flag and then receives
 * unicast "record" notifications, and a listener of the "events" group.
 */
#ifndef _KT_AGENT_H
#define _KT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/kdtls.h>
#include <netlink/socket.h>

/* One notification, as parsed; absent attributes are marked. */
struct kt_ntf {
	uint8_t cmd;
	bool has_sock_id, has_peer, has_type, has_flags, has_epoch, has_seq;
	uint32_t sock_id;
	struct sockaddr_storage peer;
	uint8_t type;
	uint32_t flags;
	uint16_t epoch;
	uint64_t seq;
	int data_len;		/* -1: no record-data */
	uint8_t data[20480];
	int n_attrs;		/* top-level attributes seen */
};

/* A netlink socket for an agent (ext ack on), non-blocking reads. */
struct nl_sock *kt_agent_new(void);
/* A netlink socket subscribed to the "events" group. */
struct nl_sock *kt_events_new(void);
/*
 * Wait up to @ms for one notification on @sk and parse it into @n.
 * Return: 1 got one, 0 timeout, -errno (-ENOBUFS: messages were lost).
 */
int kt_ntf_recv(struct nl_sock *sk, struct kt_ntf *n, int ms);
/* Read and count every notification already queued on @sk (ENOBUFS skipped). */
int kt_ntf_drain(struct nl_sock *sk);

#endif
