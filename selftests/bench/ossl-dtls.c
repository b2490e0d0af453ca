// SPDX-License-Identifier: GPL-2.0
/*
 * ossl-dtls -- the userspace baseline of `make bench`: OpenSSL DTLS 1.2
 * records per second between two UDP sockets on loopback, measured exactly
 * as uring-pps measures kdtls (flow.h: sender and receiver threads, pinning,
 * window, warm-up, timing, result line).
 *
 *   ossl-dtls [--cipher LIST] [--mtu M] [--size B] [--secs S] [--warmup S]
 *             [--window W] [--tx-cpu C] [--rx-cpu C]
 *
 * Setup: a P-256 key generated at start and a self-signed certificate for
 * it (the server's), trusted by the client; two UDP sockets on 127.0.0.1
 * connected to each other; a full DTLS 1.2 handshake (client on the sender
 * thread, server on the receiver thread, each already pinned), cipher list
 * ECDHE-ECDSA-AES128-GCM-SHA256 unless --cipher says otherwise.  The link
 * MTU is fixed (--mtu, 1500) instead of queried from loopback's 64 KiB, so
 * records are what they would be on a network.
 *
 * Data: the sender SSL_write()s B-byte records (one record, one datagram,
 * one send(2) each); the receiver SSL_read()s them (one recvfrom(2) and one
 * AEAD open each) and counts reads of exactly B bytes.  This is what an
 * application using OpenSSL's DTLS over a UDP socket pays per record.
 *
 * Output, stdout:
 *   # handshake DTLSv1.2 CIPHER in T ms
 *   rate R sent N received N lost N bad N txerr N secs T
 *   # wire bytes per record W (sender, records after the handshake)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "flow.h"

#define BUF_LEN		16384
#define RCVBUF		(4 << 20)
#define TX_BATCH	16

struct side {
	SSL *ssl;
	int fd;
	unsigned long hs_bytes;	/* written by the end of the handshake */
};

static struct side client, server;	/* sender, receiver */
static const char *cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
static long mtu = 1500;
static double hs_start;
static unsigned long tx_records;	/* sender only */

static void ssl_die(const char *what)
{
	fprintf(stderr, "ossl-dtls: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* ---- key, certificate, contexts ---------------------------------------- */

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600) ||
	    !X509_set_pubkey(x, key))
		ssl_die("certificate");
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"kdtls-bench",
					-1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    !X509_sign(x, key, EVP_sha256()))
		ssl_die("certificate signature");
	return x;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx ||
	    !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION))
		ssl_die("SSL_CTX_new (DTLS 1.2)");
	if (!SSL_CTX_set_cipher_list(ctx, cipher_list))
		ssl_die("--cipher (SSL_CTX_set_cipher_list)");
	return ctx;
}

/* a UDP socket on 127.0.0.1, any port */
static int udp_bound(struct sockaddr_in *addr)
{
	socklen_t alen = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &alen))
		flow_die("UDP socket on 127.0.0.1", errno);
	return fd;
}

static void side_init(struct side *s, SSL_CTX *ctx, int fd,
		      struct sockaddr_in *peer)
{
	BIO *bio;

	if (connect(fd, (struct sockaddr *)peer, sizeof(*peer)))
		flow_die("connect", errno);
	s->fd = fd;
	s->ssl = SSL_new(ctx);
	bio = BIO_new_dgram(fd, BIO_NOCLOSE);
	if (!s->ssl || !bio)
		ssl_die("SSL_new");
	BIO_ctrl_set_connected(bio, peer);
	SSL_set_bio(s->ssl, bio, bio);
	SSL_set_options(s->ssl, SSL_OP_NO_QUERY_MTU);
	if (!DTLS_set_link_mtu(s->ssl, mtu))
		ssl_die("--mtu (DTLS_set_link_mtu)");
}

static void setup(void)
{
	struct sockaddr_in a_cli, a_srv;
	int fd_cli, fd_srv, buf = RCVBUF;
	SSL_CTX *sctx, *cctx;
	EVP_PKEY *key;
	X509 *cert;

	key = EVP_EC_gen("P-256");
	if (!key)
		ssl_die("P-256 key generation");
	cert = self_signed(key);

	sctx = ctx_new(DTLS_server_method());
	if (!SSL_CTX_use_certificate(sctx, cert) ||
	    !SSL_CTX_use_PrivateKey(sctx, key) ||
	    !SSL_CTX_check_private_key(sctx))
		ssl_die("server certificate");
	cctx = ctx_new(DTLS_client_method());
	if (!X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert))
		ssl_die("client trust store");
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);

	fd_cli = udp_bound(&a_cli);
	fd_srv = udp_bound(&a_srv);
	if (setsockopt(fd_srv, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) &&
	    setsockopt(fd_srv, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)))
		flow_die("SO_RCVBUF", errno);
	side_init(&client, cctx, fd_cli, &a_srv);
	side_init(&server, sctx, fd_srv, &a_cli);
	SSL_set_connect_state(client.ssl);
	SSL_set_accept_state(server.ssl);
	/* each SSL holds its own references */
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* ---- sender: the client ------------------------------------------------ */

static void *sender(void *arg)
{
	unsigned char *buf = malloc(flow.size);

	(void)arg;
	flow_pin(flow.tx_cpu);
	if (!buf)
		flow_die("sender buffer", ENOMEM);
	memset(buf, 0xa5, flow.size);
	if (SSL_do_handshake(client.ssl) != 1)
		ssl_die("client handshake");
	if (SSL_version(client.ssl) != DTLS1_2_VERSION)
		ssl_die("DTLS 1.2 negotiation");
	printf("# handshake %s %s in %.1f ms\n", SSL_get_version(client.ssl),
	       SSL_get_cipher_name(client.ssl),
	       (flow_now() - hs_start) * 1e3);
	client.hs_bytes = BIO_number_written(SSL_get_wbio(client.ssl));
	flow_ready();

	for (;;) {
		unsigned int room = flow_room(1), i, n = 0;

		if (!room)
			break;
		if (room > TX_BATCH)
			room = TX_BATCH;
		for (i = 0; i < room; i++) {
			int ret = SSL_write(client.ssl, buf, flow.size);

			if (ret == (int)flow.size) {
				n++;
				continue;
			}
			if (SSL_get_error(client.ssl, ret) == SSL_ERROR_SSL)
				ssl_die("SSL_write");
			ERR_clear_error();
			flow_tx_error();
		}
		flow_sent(n);
		tx_records += n;
	}
	free(buf);
	return NULL;
}

/* ---- receiver: the server ---------------------------------------------- */

static void *receiver(void *arg)
{
	struct timeval tv = { 0, 50 * 1000 };
	unsigned char *buf = malloc(BUF_LEN);

	(void)arg;
	flow_pin(flow.rx_cpu);
	if (!buf)
		flow_die("receiver buffer", ENOMEM);
	if (SSL_do_handshake(server.ssl) != 1)
		ssl_die("server handshake");
	/* from now on a read gives up after 50 ms, to notice the end */
	if (setsockopt(server.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		flow_die("SO_RCVTIMEO", errno);
	flow_ready();

	for (;;) {
		int ret = SSL_read(server.ssl, buf, BUF_LEN);

		if (ret > 0) {
			flow_rx_done(false);
			if (ret == (int)flow.size)
				flow_received(1, 0);
			else
				flow_received(0, 1);
			continue;
		}
		switch (SSL_get_error(server.ssl, ret)) {
		case SSL_ERROR_WANT_READ:
			ERR_clear_error();
			if (flow_rx_done(true))
				goto out;
			break;
		case SSL_ERROR_ZERO_RETURN:
			goto out;
		default:
			ssl_die("SSL_read");
		}
	}
out:
	free(buf);
	return NULL;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: ossl-dtls [--cipher LIST] [--mtu M]\n"
"                 " FLOW_USAGE "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "cipher",	required_argument, NULL, 'c' },
		{ "mtu",	required_argument, NULL, 'm' },
		FLOW_OPTIONS,
		{ }
	};
	unsigned long wire;
	char *end;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cipher_list = optarg;
			break;
		case 'm':
			mtu = strtol(optarg, &end, 0);
			if (*end || end == optarg || mtu < 256 || mtu > 65535) {
				fprintf(stderr, "ossl-dtls: --mtu 256..65535\n");
				return 2;
			}
			break;
		default:
			if (!flow_option(opt, optarg))
				usage();
		}
	}
	if (optind != argc)
		usage();
	if (!flow.size || flow.size > BUF_LEN) {
		fprintf(stderr, "ossl-dtls: --size 1..%d\n", BUF_LEN);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	hs_start = flow_now();
	ret = flow_run(sender, receiver, NULL);
	if (ret)
		return ret;
	wire = BIO_number_written(SSL_get_wbio(client.ssl)) - client.hs_bytes;
	if (tx_records)
		printf("# wire bytes per record %.1f (sender, %lu bytes in %lu records)\n",
		       (double)wire / tx_records, wire, tx_records);
	SSL_free(client.ssl);
	SSL_free(server.ssl);
	close(client.fd);
	close(server.fd);
	return 0;
}
