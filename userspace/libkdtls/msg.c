// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: the control protocol's text codec (Documentation/kdtlsd.rst,
 * "Control protocol") and peer addresses.  Pure code, host-tested
 * (selftests/host/libkdtls_test.c).
 *
 *   OK key=value ...  |  ERR code=ERRNO-NAME msg=TEXT  |  EVENT name k=v ...
 *
 * Values are percent-encoded where they hold a space, '%' or a byte outside
 * 0x21..0x7e.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void kdtls_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

char *kdtls_msg_escape(const void *in, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = in;
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '%') {
			*o++ = '%';
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 15];
		} else {
			*o++ = p[i];
		}
	}
	*o = 0;
	return out;
}

int kdtls_msg_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]);
			int lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || !(hi | lo))
				return -EINVAL;
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return 0;
}

int kdtls_msg_parse_line(char *line, struct kdtls_msg *m)
{
	char *save, *tok;

	memset(m, 0, sizeof(*m));
	line[strcspn(line, "\r\n")] = 0;
	m->kind = strtok_r(line, " ", &save);
	if (!m->kind || (strcmp(m->kind, "OK") && strcmp(m->kind, "ERR") &&
			 strcmp(m->kind, "EVENT")))
		return -EINVAL;
	if (!strcmp(m->kind, "EVENT")) {
		m->name = strtok_r(NULL, " ", &save);
		if (!m->name || strchr(m->name, '='))
			return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || m->n == KDTLS_MSG_MAX_ARGS)
			return -EINVAL;
		*eq = 0;
		if (kdtls_msg_unescape(eq + 1))
			return -EINVAL;
		m->key[m->n] = tok;
		m->val[m->n++] = eq + 1;
	}
	return 0;
}

const char *kdtls_msg_get(const struct kdtls_msg *m, const char *key)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key))
			return m->val[i];
	return NULL;
}

int kdtls_errno_from_name(const char *name)
{
	int e;

	for (e = 1; e < 134; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, name))
			return e;
	}
	return EPROTO;
}

int kdtls_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		return snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port)) <
		       (int)len ? 0 : -ENOSPC;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		return snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port)) <
		       (int)len ? 0 : -ENOSPC;
	}
	return -EAFNOSUPPORT;
}

int kdtls_addr_parse(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || rb - s - 1 >= (long)sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, rb - s - 1);
		host[rb - s - 1] = 0;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon - s >= (long)sizeof(host))
			return -EINVAL;
		memcpy(host, s, colon - s);
		host[colon - s] = 0;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || !port || port > 65535)
		return -EINVAL;
	if (*s != '[' &&
	    inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host,
				&((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

/* v4 form of @ss (a v4-mapped v6 address becomes AF_INET) */
static void addr_v4(const struct sockaddr_storage *ss, struct sockaddr_storage *o)
{
	const struct sockaddr_in6 *in6 = (const void *)ss;

	*o = *ss;
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in *in = (void *)o;
		uint16_t port = in6->sin6_port;
		struct in_addr a;

		memcpy(&a, &in6->sin6_addr.s6_addr[12], 4);
		memset(o, 0, sizeof(*o));
		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr = a;
	}
}

bool kdtls_addr_equal(const struct sockaddr_storage *x,
		      const struct sockaddr_storage *y)
{
	struct sockaddr_storage a, b;

	addr_v4(x, &a);
	addr_v4(y, &b);
	if (a.ss_family != b.ss_family)
		return false;
	if (a.ss_family == AF_INET) {
		const struct sockaddr_in *p = (void *)&a, *q = (void *)&b;

		return p->sin_port == q->sin_port &&
		       p->sin_addr.s_addr == q->sin_addr.s_addr;
	}
	if (a.ss_family == AF_INET6) {
		const struct sockaddr_in6 *p = (void *)&a, *q = (void *)&b;

		return p->sin6_port == q->sin6_port &&
		       !memcmp(&p->sin6_addr, &q->sin6_addr, 16);
	}
	return false;
}

/* setPeer's rules: no null, broadcast or multicast address, no port 0 */
int kdtls_addr_check(const struct sockaddr *sa, socklen_t len,
		     const char **why)
{
	if (!sa) {
		*why = "no address";
		return -EINVAL;
	}
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		uint32_t a = ntohl(in->sin_addr.s_addr);

		if (a == INADDR_ANY) {
			*why = "null address";
			return -EINVAL;
		}
		if (a == INADDR_BROADCAST) {
			*why = "broadcast address";
			return -EINVAL;
		}
		if (IN_MULTICAST(a)) {
			*why = "multicast address";
			return -EINVAL;
		}
		if (!in->sin_port) {
			*why = "port 0";
			return -EINVAL;
		}
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			*why = "null address";
			return -EINVAL;
		}
		if (IN6_IS_ADDR_MULTICAST(&in6->sin6_addr)) {
			*why = "multicast address";
			return -EINVAL;
		}
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			struct sockaddr_in in = {
				.sin_family = AF_INET,
				.sin_port = in6->sin6_port,
			};

			memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
			return kdtls_addr_check((void *)&in, sizeof(in), why);
		}
		if (!in6->sin6_port) {
			*why = "port 0";
			return -EINVAL;
		}
		return 0;
	}
	*why = "not an IPv4 or IPv6 address";
	return -EINVAL;
}
