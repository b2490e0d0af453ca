// SPDX-License-Identifier: GPL-2.0
/*
 * libkctl: parsing of command-line values.
 *
 * Only syntax is checked here.  Key and salt sizes, epochs, cipher numbers
 * and the like are left to the kernel on purpose, so that its rejections
 * (and their extack messages) can be exercised from the command line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kctl.h"

/* Unsigned decimal, 0x-hex or 0-octal, at most @max. */
int kctl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int kctl_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (kctl_parse_u64(s, UINT32_MAX, &v))
		return -1;
	*out = v;
	return 0;
}

int kctl_parse_u16(const char *s, uint16_t *out)
{
	uint64_t v;

	if (kctl_parse_u64(s, UINT16_MAX, &v))
		return -1;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * An even number of hex digits, optionally with a 0x prefix and ':'
 * between bytes ("00112233", "0x00112233", "00:11:22:33").  The empty
 * string is zero bytes.
 */
int kctl_parse_hex(const char *s, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (*s) {
		if (n && *s == ':')
			s++;
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || n == cap)
			return -1;
		buf[n++] = hi << 4 | lo;
		s += 2;
	}
	*len = n;
	return 0;
}

/* Split "A.B.C.D:PORT" or "[V6]:PORT" into a host and a port string. */
static int split_hostport(const char *s, char *host, size_t cap,
			  const char **port)
{
	const char *colon, *h = s;
	size_t n;

	if (*s == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			return -1;
		h = s + 1;
		n = colon - h;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -1;
		n = colon - s;
	}
	if (!n || n >= cap)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* A peer for netlink: "A.B.C.D:PORT" or "[V6]:PORT", port 0 allowed. */
int kctl_parse_peer(const char *s, struct kctl_peer *peer)
{
	char host[INET6_ADDRSTRLEN];
	const char *port;

	memset(peer, 0, sizeof(*peer));
	if (split_hostport(s, host, sizeof(host), &port) ||
	    kctl_parse_u16(port, &peer->port))
		return -1;
	if (inet_pton(AF_INET, host, peer->addr) == 1) {
		if (*s == '[')
			return -1;
		peer->family = AF_INET;
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, peer->addr) == 1) {
		peer->family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * A local or remote socket address for the socket command.  @family 0
 * takes it from the address; AF_INET6 with an IPv4 address gives the
 * IPv4-mapped address.  "[fe80::1%eth0]:P" scope ids are accepted.
 */
int kctl_parse_sockaddr(const char *s, int family,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	struct addrinfo *ai;
	const char *port;
	uint16_t p;

	if (split_hostport(s, host, sizeof(host), &port) ||
	    kctl_parse_u16(port, &p))
		return -1;
	hints.ai_family = *s == '[' ? AF_INET6 : AF_INET;
	if (family == AF_INET6 && hints.ai_family == AF_INET)
		hints.ai_flags |= AI_V4MAPPED;
	if (family && family != hints.ai_family &&
	    !(hints.ai_flags & AI_V4MAPPED))
		return -1;
	if (hints.ai_flags & AI_V4MAPPED) {
		/* getaddrinfo only maps with AF_INET6 asked for */
		hints.ai_family = AF_INET6;
		if (strlen(host) + 8 > sizeof(host))
			return -1;
		memmove(host + 7, host, strlen(host) + 1);
		memcpy(host, "::ffff:", 7);
	}
	if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(p);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(p);
	return 0;
}

/* A cipher by its spec name or its enum number (unknown numbers pass). */
int kctl_parse_cipher(const char *s, uint16_t *out)
{
	unsigned int i;

	for (i = 1; i < __KDTLS_CIPHER_MAX; i++) {
		if (!strcasecmp(s, kctl_cipher_name(i))) {
			*out = i;
			return 0;
		}
	}
	return kctl_parse_u16(s, out);
}

static const struct {
	const char *name;
	uint8_t type;
} rtypes[] = {
	{ "change_cipher_spec", KDTLS_CT_CHANGE_CIPHER_SPEC },
	{ "ccs", KDTLS_CT_CHANGE_CIPHER_SPEC },
	{ "alert", KDTLS_CT_ALERT },
	{ "handshake", KDTLS_CT_HANDSHAKE },
	{ "application_data", KDTLS_CT_APPLICATION_DATA },
	{ "data", KDTLS_CT_APPLICATION_DATA },
};

/* A record content type by name or number. */
int kctl_parse_rtype(const char *s, uint8_t *out)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(rtypes) / sizeof(rtypes[0]); i++) {
		if (!strcasecmp(s, rtypes[i].name)) {
			*out = rtypes[i].type;
			return 0;
		}
	}
	if (kctl_parse_u64(s, UINT8_MAX, &v))
		return -1;
	*out = v;
	return 0;
}

/*
 * Wipe a secret argument once parsed: it no longer lingers in our memory,
 * and /proc/PID/cmdline stops showing it (it was visible until now, which
 * is why keys on the command line are for tests and debugging only).
 */
void kctl_wipe_arg(char *arg)
{
	explicit_bzero(arg, strlen(arg));
}
