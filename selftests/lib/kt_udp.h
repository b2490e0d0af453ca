/* SPDX-License-Identifier: GPL-2.0 */
/* UDP socket helpers for the kdtls tests. */
#ifndef _KT_UDP_H
#define _KT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct kt_sock {
	int fd;
	struct sockaddr_storage addr;	/* bound address */
	socklen_t alen;
};

/* A UDP socket of @family bound to the loopback address, port 0.
 * Return: 0 or -errno. */
int kt_udp_open(int family, struct kt_sock *s);
/* Socket pair: both bound; connected to each other when @connect. */
int kt_udp_pair(int family, bool connect, struct kt_sock *a,
		struct kt_sock *b);
int kt_udp_connect(struct kt_sock *s, const struct kt_sock *to);
/* Undo connect() (AF_UNSPEC). */
int kt_udp_disconnect(struct kt_sock *s);

/* Wait up to @ms for @fd to be readable.  Return: 1 readable, 0 timeout. */
int kt_wait_readable(int fd, int ms);
/* Non-blocking receive, -errno on error. */
ssize_t kt_recv_nb(int fd, void *buf, size_t len);
/* Receive with a timeout (ms): length, -EAGAIN on timeout, -errno. */
ssize_t kt_recv_timeout(int fd, void *buf, size_t len, int ms);
/* Drain every queued datagram; return how many. */
int kt_drain(int fd);

/* Same address and port? (v4-mapped v6 equals the v4 address) */
bool kt_addr_eq(const struct sockaddr *a, const struct sockaddr *b);
const char *kt_addr_str(const struct sockaddr *a);
/* ::ffff:a.b.c.d form of an AF_INET address */
void kt_addr_mapped(const struct sockaddr_in *in, struct sockaddr_in6 *out);

#endif
