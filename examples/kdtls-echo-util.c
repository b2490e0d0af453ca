// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls-echo-util.c -- argument parsing, the UDP socket and addresses as
 * text, for kdtls-echo-server and kdtls-echo-client.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdtls-echo.h"

/* "PROG: MESSAGE" and a hint, exit status 2. */
int echo_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", program_invocation_short_name);
	return 2;
}

/* A decimal number in [min, max], or -1. */
long echo_parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	return v;
}

int echo_parse_port(const char *s)
{
	return (int)echo_parse_num(s, 1, 65535);
}

/* "ID:HEX": an identity of 1-128 bytes, a key of 1-64 bytes in hex. */
int echo_parse_psk(const char *s, struct echo_psk *psk)
{
	const char *colon = strrchr(s, ':'), *hex;
	size_t idlen, n;

	memset(psk, 0, sizeof(*psk));
	if (!colon)
		return -1;
	idlen = colon - s;
	hex = colon + 1;
	n = strlen(hex);
	if (!idlen || idlen > KDTLS_PSK_MAX_IDENTITY || !n || n % 2 ||
	    n / 2 > KDTLS_PSK_MAX_KEY)
		return -1;
	memcpy(psk->id, s, idlen);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int byte;

		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &byte) != 1) {
			explicit_bzero(psk, sizeof(*psk));
			return -1;
		}
		psk->key[i] = byte;
	}
	psk->key_len = n / 2;
	return 0;
}

/* @host (a name unless @numeric) and @port as a socket address. */
int echo_resolve(const char *host, uint16_t port, bool numeric,
		 struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = numeric ? AI_NUMERICHOST | AI_PASSIVE : 0,
	};
	struct addrinfo *res;
	char svc[8];
	int err;

	snprintf(svc, sizeof(svc), "%u", port);
	err = getaddrinfo(host, svc, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name,
			host, gai_strerror(err));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * A UDP socket bound to @addr:@port (numeric address; port 0: any), its
 * bound address in @local.  -1 with the reason printed.
 */
int echo_udp_socket(const char *addr, uint16_t port,
		    struct sockaddr_storage *local)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (echo_resolve(addr, port, true, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
		fprintf(stderr, "%s: bind %s port %u: %s\n",
			program_invocation_short_name, addr, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	len = sizeof(*local);
	getsockname(fd, (struct sockaddr *)local, &len);
	return fd;
}

/* "192.0.2.1:4433" or "[2001:db8::1]:4433". */
const char *echo_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
	return buf;
}

/* The peer of a DTLS object, as text. */
const char *echo_peer_str(const struct kdtls *d, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!d || kdtls_peer_address(d, (struct sockaddr *)&ss, &sl)) {
		snprintf(buf, len, "?");
		return buf;
	}
	return echo_addr_str((struct sockaddr *)&ss, buf, len);
}
