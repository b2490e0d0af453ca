// SPDX-License-Identifier: GPL-2.0
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kt_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int kt_udp_open(int family, struct kt_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s->fd < 0)
		return -errno;
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&s->addr;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->alen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&s->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		s->alen = sizeof(*in6);
	}
	if (bind(s->fd, (void *)&s->addr, s->alen) ||
	    getsockname(s->fd, (void *)&s->addr, &s->alen)) {
		int err = -errno;

		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

int kt_udp_connect(struct kt_sock *s, const struct kt_sock *to)
{
	return connect(s->fd, (const void *)&to->addr, to->alen) ? -errno : 0;
}

int kt_udp_disconnect(struct kt_sock *s)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	return connect(s->fd, &sa, sizeof(sa)) ? -errno : 0;
}

int kt_udp_pair(int family, bool conn, struct kt_sock *a, struct kt_sock *b)
{
	int err;

	err = kt_udp_open(family, a);
	if (err)
		return err;
	err = kt_udp_open(family, b);
	if (err)
		return err;
	if (conn) {
		err = kt_udp_connect(a, b);
		if (!err)
			err = kt_udp_connect(b, a);
	}
	return err;
}

int kt_wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

ssize_t kt_recv_nb(int fd, void *buf, size_t len)
{
	ssize_t r = recv(fd, buf, len, MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

ssize_t kt_recv_timeout(int fd, void *buf, size_t len, int ms)
{
	if (!kt_wait_readable(fd, ms))
		return -EAGAIN;
	return kt_recv_nb(fd, buf, len);
}

int kt_drain(int fd)
{
	char buf[64];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

bool kt_addr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
	struct sockaddr_in6 ma, mb;

	if (a->sa_family == AF_INET) {
		kt_addr_mapped((const void *)a, &ma);
		a = (void *)&ma;
	}
	if (b->sa_family == AF_INET) {
		kt_addr_mapped((const void *)b, &mb);
		b = (void *)&mb;
	}
	{
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
}

void kt_addr_mapped(const struct sockaddr_in *in, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = in->sin_port;
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
}

const char *kt_addr_str(const struct sockaddr *a)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)a;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(in->sin_port));
	} else if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)a;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "[%s]:%u", ip,
			 ntohs(in6->sin6_port));
	} else {
		snprintf(buf, sizeof(buf), "family %d", a->sa_family);
	}
	return buf;
}
