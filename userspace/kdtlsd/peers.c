// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the table of handshakes and associations, keyed by (socket,
 * peer), and the sockets applications handed over.
 *
 * One chained hash table (2^14 buckets) over all sockets; a v4 peer of an
 * AF_INET6 socket is named by its v4-mapped address, as the kernel names
 * it.  Everything here runs in the single event loop (main.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hs.h"

struct kd_hs_globals kd_hs_g;

static unsigned int peer_hash(uint32_t id, const struct sockaddr_storage *p)
{
	uint32_t h = 2166136261u ^ id;
	const uint8_t *b;
	size_t n, i;

	if (p->ss_family == AF_INET) {
		b = (const void *)&((const struct sockaddr_in *)p)->sin_addr;
		n = 4;
		h = (h ^ ((const struct sockaddr_in *)p)->sin_port) * 16777619u;
	} else {
		b = (const void *)&((const struct sockaddr_in6 *)p)->sin6_addr;
		n = 16;
		h = (h ^ ((const struct sockaddr_in6 *)p)->sin6_port) * 16777619u;
	}
	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h & ((1u << HT_BITS) - 1);
}

static bool peer_eq(const struct sockaddr_storage *a,
		    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
}

/*
 * A v4 peer of an AF_INET6 socket: the kernel names it by its v4-mapped
 * address, and so do we, so that lookups match.
 */
void kd_peer_norm(const struct kd_sock *s, struct sockaddr_storage *p)
{
	struct sockaddr_in in;
	struct sockaddr_in6 *in6 = (void *)p;

	if (s->family != AF_INET6 || p->ss_family != AF_INET)
		return;
	memcpy(&in, p, sizeof(in));
	memset(p, 0, sizeof(*p));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = in.sin_port;
	in6->sin6_addr.s6_addr[10] = 0xff;
	in6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&in6->sin6_addr.s6_addr[12], &in.sin_addr, 4);
}

struct kd_hs *kd_hs_find(struct kd_sock *s,
			     const struct sockaddr_storage *peer)
{
	struct kd_hs *hs = kd_hs_g.ht[peer_hash(s->id, peer)];

	for (; hs; hs = hs->hnext)
		if (hs->sock == s && peer_eq(&hs->peer, peer))
			return hs;
	return NULL;
}

void kd_hs_link(struct kd_hs *hs)
{
	unsigned int h = peer_hash(hs->sock->id, &hs->peer);

	hs->hnext = kd_hs_g.ht[h];
	kd_hs_g.ht[h] = hs;
	kd_hs_g.n_hs++;
	hs->sock->n_hs++;
	hs->snext = hs->sock->hs;
	if (hs->snext)
		hs->snext->spprev = &hs->snext;
	hs->sock->hs = hs;
	hs->spprev = &hs->sock->hs;
}

void kd_hs_unlink(struct kd_hs *hs)
{
	struct kd_hs **pp = &kd_hs_g.ht[peer_hash(hs->sock->id, &hs->peer)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == hs) {
			*pp = hs->hnext;
			kd_hs_g.n_hs--;
			hs->sock->n_hs--;
			*hs->spprev = hs->snext;
			if (hs->snext)
				hs->snext->spprev = hs->spprev;
			return;
		}
	}
}

unsigned long kd_hs_count(void)
{
	return kd_hs_g.n_hs;
}

struct kd_sock *kd_sock_find(uint32_t id)
{
	struct kd_sock *s;

	for (s = kd_hs_g.socks; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

struct kd_sock *kd_sock_first_of(struct kd_client *c)
{
	struct kd_sock *s;

	for (s = kd_hs_g.socks; s; s = s->next)
		if (s->owner == c)
			return s;
	return NULL;
}

struct kd_sock *kd_sock_new(int fd, uint32_t id, struct kd_client *owner)
{
	struct kd_sock *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!s)
		return NULL;
	if (getsockname(fd, (void *)&ss, &len) == 0)
		s->family = ss.ss_family;
	s->fd = fd;
	s->id = id;
	s->owner = owner;
	s->cookie = kd_cfg.cookie;
	s->verify_client = kd_cfg.verify_client;
	s->mtu = kd_cfg.mtu;
	s->next = kd_hs_g.socks;
	kd_hs_g.socks = s;
	return s;
}

/*
 * Forget a socket: its handshakes are dropped, its associations stay in
 * the kernel (the application may still use them), and the kernel stops
 * sending us its records.
 */
void kd_sock_free(struct kd_sock *s)
{
	struct kd_sock **pp;

	/* its own list, not the whole table: a DETACH per short-lived
	 * client socket scanned 16384 buckets */
	while (s->hs)
		kd_hs_free(s->hs);
	if (s->listener)
		kd_hs_free(s->listener);
	kd_nl_release(s->fd);
	for (pp = &kd_hs_g.socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	close(s->fd);
	SSL_CTX_free(s->ctx);		/* SERVE's reference (tlsopt.c) */
	OPENSSL_cleanse(s->ck_secret, sizeof(s->ck_secret));
	free(s);
}
