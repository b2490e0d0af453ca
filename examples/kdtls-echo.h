/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kdtls-echo-server and kdtls-echo-client share (kdtls-echo-util.c):
 * argument parsing, the UDP socket, addresses as text.
 */
#ifndef KDTLS_ECHO_H
#define KDTLS_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <kdtls.h>

#define ECHO_MAX_SIZE		16384	/* largest DTLS record plaintext */
#define ECHO_ADDRSTRLEN		(46 + 8)	/* "[v6]:port" */
#define ECHO_RECORD_DATA	23	/* application_data (RFC 5246 6.2.1) */

/* PSK suites kdtls.ko offloads (AEAD), strongest first. */
#define ECHO_PSK_CIPHERS	"ECDHE-PSK-CHACHA20-POLY1305:" \
				"PSK-AES256-GCM-SHA384:" \
				"PSK-AES128-GCM-SHA256:" \
				"PSK-CHACHA20-POLY1305"

struct echo_psk {
	char id[KDTLS_PSK_MAX_IDENTITY + 1];
	unsigned char key[KDTLS_PSK_MAX_KEY];
	size_t key_len;
};

int echo_usage_error(const char *fmt, const char *arg);
int echo_parse_port(const char *s);
long echo_parse_num(const char *s, long min, long max);
int echo_parse_psk(const char *s, struct echo_psk *psk);
int echo_resolve(const char *host, uint16_t port, bool numeric,
		 struct sockaddr_storage *ss, socklen_t *len);
int echo_udp_socket(const char *addr, uint16_t port,
		    struct sockaddr_storage *local);
const char *echo_addr_str(const struct sockaddr *sa, char *buf, size_t len);
const char *echo_peer_str(const struct kdtls *d, char *buf, size_t len);

#endif /* KDTLS_ECHO_H */
