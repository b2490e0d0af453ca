// SPDX-License-Identifier: GPL-2.0
/*
 * hs-bare: the baseline of hs-bench.sh -- full DTLS 1.2 handshakes with
 * bare OpenSSL, both ends in one thread, over two loopback UDP sockets.
 *
 *   hs-bare -m ecdsa|psk -t SECS [-c CERT -k KEY -a CA] [-g GROUPS]
 *
 * The same handshakes kdtlsd runs in the bench: DTLS 1.2 only, the server
 * with a stateless-style cookie exchange (SSL_OP_COOKIE_EXCHANGE, an HMAC
 * cookie), no tickets or session cache (every handshake is full), the
 * client verifying the server's ECDSA certificate and name (ecdsa:
 * ECDHE-ECDSA-AES128-GCM-SHA256) or using a PSK (psk: PSK-AES128-GCM-SHA256).
 * Fresh SSL objects per handshake; no application data, no key install.
 * Prints its CPU time (user + system) per handshake, then
 * "bare-MODE: N handshakes in S s = R/s".
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

static const uint8_t psk_key[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static uint8_t cookie_secret[32];

static void die(const char *what)
{
	fprintf(stderr, "hs-bare: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* This process's CPU time, user + system, in seconds. */
static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* HMAC-SHA256 over the peer's address, as kdtlsd's cookie (cookie.c)
 * covers the peer; kdtlsd adds the ClientHello parameters. */
static int cookie_make(SSL *ssl, unsigned char *out, unsigned int *len)
{
	BIO_ADDR *peer = BIO_ADDR_new();
	unsigned char addr[32];
	size_t alen = 0;

	if (!peer)
		return 0;
	BIO_dgram_get_peer(SSL_get_rbio(ssl), peer);
	BIO_ADDR_rawaddress(peer, addr, &alen);
	addr[alen] = BIO_ADDR_rawport(peer) >> 8;
	addr[alen + 1] = BIO_ADDR_rawport(peer);
	BIO_ADDR_free(peer);
	return HMAC(EVP_sha256(), cookie_secret, sizeof(cookie_secret), addr,
		    alen + 2, out, len) != NULL;
}

static int cookie_gen(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	return cookie_make(ssl, cookie, len);
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie,
			 unsigned int len)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	unsigned int wl;

	return cookie_make(ssl, want, &wl) && wl == len &&
	       !CRYPTO_memcmp(want, cookie, len);
}

static unsigned int psk_srv(SSL *ssl, const char *id, unsigned char *psk,
			    unsigned int max)
{
	(void)ssl;
	if (!id || strcmp(id, "client1") || max < sizeof(psk_key))
		return 0;
	memcpy(psk, psk_key, sizeof(psk_key));
	return sizeof(psk_key);
}

static unsigned int psk_cli(SSL *ssl, const char *hint, char *id,
			    unsigned int max_id, unsigned char *psk,
			    unsigned int max_psk)
{
	(void)ssl;
	(void)hint;
	if (max_id < 8 || max_psk < sizeof(psk_key))
		return 0;
	strcpy(id, "client1");
	memcpy(psk, psk_key, sizeof(psk_key));
	return sizeof(psk_key);
}

static SSL_CTX *ctx(bool server, bool psk, const char *cert, const char *key,
		    const char *ca, const char *groups)
{
	SSL_CTX *c = SSL_CTX_new(server ? DTLS_server_method() :
					  DTLS_client_method());

	if (!c)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_QUERY_MTU);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if (!SSL_CTX_set_cipher_list(c, psk ? "PSK-AES128-GCM-SHA256" :
				     "ECDHE-ECDSA-AES128-GCM-SHA256") ||
	    !SSL_CTX_set1_groups_list(c, groups))
		die("ciphers/groups");
	if (psk) {
		if (server)
			SSL_CTX_set_psk_server_callback(c, psk_srv);
		else
			SSL_CTX_set_psk_client_callback(c, psk_cli);
	} else if (server) {
		if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)
			die("certificate/key");
	} else {
		if (SSL_CTX_load_verify_locations(c, ca, NULL) != 1)
			die("CA file");
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	}
	if (server) {
		SSL_CTX_set_options(c, SSL_OP_COOKIE_EXCHANGE);
		SSL_CTX_set_cookie_generate_cb(c, cookie_gen);
		SSL_CTX_set_cookie_verify_cb(c, cookie_verify);
	}
	return c;
}

static struct sockaddr_in addr[2];

/* A datagram BIO on @fd, connected to the other socket of the pair. */
static BIO *dgram_bio(int fd, int other)
{
	BIO *b = BIO_new_dgram(fd, BIO_NOCLOSE);
	BIO_ADDR *peer = BIO_ADDR_new();

	if (!b || !peer ||
	    !BIO_ADDR_rawmake(peer, AF_INET, &addr[other].sin_addr, 4,
			      addr[other].sin_port))
		die("BIO");
	BIO_ctrl_set_connected(b, peer);
	BIO_ADDR_free(peer);
	return b;
}

static int udp_pair(int fd[2])
{
	struct sockaddr_in *a = addr;
	socklen_t l = sizeof(a[0]);
	int i;

	for (i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].sin_family = AF_INET;
		a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd[i] < 0 || bind(fd[i], (void *)&a[i], sizeof(a[i])) ||
		    getsockname(fd[i], (void *)&a[i], &l))
			return -1;
	}
	return connect(fd[0], (void *)&a[1], sizeof(a[1])) ||
	       connect(fd[1], (void *)&a[0], sizeof(a[0]));
}

/* Step one side: 1 done, 0 wants more, -1 failed. */
static int step(SSL *s)
{
	int r = SSL_do_handshake(s), e;

	if (r == 1)
		return 1;
	e = SSL_get_error(s, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	fprintf(stderr, "hs-bare: %s: SSL error %d, errno %d\n",
		SSL_is_server(s) ? "server" : "client", e, errno);
	return -1;
}

static void one(SSL_CTX *sc, SSL_CTX *cc, const int fd[2], bool psk)
{
	SSL *srv = SSL_new(sc), *cli = SSL_new(cc);
	BIO *bc, *bs;
	int ds = 0, dc = 0, spins = 0;

	if (!srv || !cli)
		die("SSL_new");
	bc = dgram_bio(fd[0], 1);
	bs = dgram_bio(fd[1], 0);
	SSL_set_bio(cli, bc, bc);
	SSL_set_bio(srv, bs, bs);
	/* kdtlsd's default: the UDP payload MTU, no path MTU queries */
	DTLS_set_link_mtu(cli, 1400);
	DTLS_set_link_mtu(srv, 1400);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	if (!psk) {
		SSL_set_tlsext_host_name(cli, "kdtls.test");
		SSL_set1_host(cli, "kdtls.test");
	}
	while (ds != 1 || dc != 1) {
		struct pollfd p[2] = { { fd[0], POLLIN, 0 },
				       { fd[1], POLLIN, 0 } };

		if (dc != 1)
			dc = step(cli);
		if (ds != 1)
			ds = step(srv);
		if (dc < 0 || ds < 0)
			die("handshake failed");
		if (ds == 1 && dc == 1)
			break;
		if (poll(p, 2, 1000) == 0) {
			DTLSv1_handle_timeout(cli);
			DTLSv1_handle_timeout(srv);
			if (++spins > 10)
				die("handshake stuck");
		}
	}
	if (SSL_get_verify_result(cli) != X509_V_OK)
		die("verification failed");
	SSL_free(cli);
	SSL_free(srv);
}

int main(int argc, char **argv)
{
	const char *mode = "ecdsa", *cert = NULL, *key = NULL, *ca = NULL;
	const char *groups = "X25519:P-256:P-384";
	double secs = 2, t0, c0;
	SSL_CTX *sc, *cc;
	unsigned long n = 0;
	int fd[2], o;
	bool psk;

	while ((o = getopt(argc, argv, "m:t:c:k:a:g:")) != -1) {
		switch (o) {
		case 'm': mode = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'g': groups = optarg; break;
		default:
			fprintf(stderr, "usage: hs-bare -m ecdsa|psk -t SECS [-c CERT -k KEY -a CA] [-g GROUPS]\n");
			return 2;
		}
	}
	psk = !strcmp(mode, "psk");
	if (!psk && (strcmp(mode, "ecdsa") || !cert || !key || !ca)) {
		fprintf(stderr, "hs-bare: -m ecdsa needs -c CERT -k KEY -a CA\n");
		return 2;
	}
	if (secs <= 0) {
		fprintf(stderr, "hs-bare: bad -t\n");
		return 2;
	}
	RAND_bytes(cookie_secret, sizeof(cookie_secret));
	sc = ctx(true, psk, cert, key, ca, groups);
	cc = ctx(false, psk, cert, key, ca, groups);
	if (udp_pair(fd))
		die("UDP sockets");
	one(sc, cc, fd, psk);	/* warm-up */
	t0 = now();
	c0 = cpu();
	do {
		one(sc, cc, fd, psk);
		n++;
	} while (now() - t0 < secs);
	t0 = now() - t0;
	c0 = cpu() - c0;
	printf("bare-%s: %.0f us CPU per handshake\n", mode, c0 / n * 1e6);
	printf("bare-%s: %lu handshakes in %.2f s = %.1f/s\n", mode, n, t0,
	       n / t0);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	return 0;
}
