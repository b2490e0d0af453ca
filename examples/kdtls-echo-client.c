// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls-echo-client -- a DTLS 1.2 echo client over libkdtls: the C
 * counterpart of Qt's secureudpclient example.
 *
 *   kdtls-echo-client --host A --port N [--name NAME] [--ca F]
 *                     [--psk ID:HEX] [--count N] [--size N]
 *
 * It hands a UDP socket to kdtlsd, which runs the handshake with the
 * server and installs the keys in kdtls.ko; then it sends COUNT datagrams
 * of SIZE bytes of plaintext and waits for each to come back, reading
 * plaintext.  It never sees a record.  Where Qt's example is driven by
 * signals, this one waits with poll(2) on two descriptors: kdtls_ctx_fd()
 * (kdtlsd's events) and the socket (the echoes).
 *
 * The server's certificate is verified against the CA certificates of
 * --ca (default: kdtlsd's own ca_file) for the name --name (default: the
 * --host argument, an address or a DNS name).  With --psk the client
 * offers pre-shared-key suites only, identity ID, key HEX.
 *
 * One line for the handshake result, one for the echoes.  Exit status: 0
 * when the handshake completed and every echo came back intact, 1
 * otherwise, 2 bad usage.  The connection is closed with close_notify.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kdtls-echo.h"

#define HANDSHAKE_TIMEOUT_MS	30000
#define ECHO_WAIT_MS		1000	/* per try */
#define ECHO_TRIES		3	/* UDP: a datagram may be lost */

struct client {
	struct kdtls_ctx *ctx;
	struct kdtls *d;
	int fd;
	struct sockaddr_storage server;	/* --host and --port */
	socklen_t server_len;
	struct echo_psk psk;
	bool ended;			/* handshake failed or peer closed */
	unsigned char *early;		/* an echo kdtlsd held (DATA event) */
	size_t early_len;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdtls-echo-client --host A --port N [--name NAME] [--ca F]\n"
		"                         [--psk ID:HEX] [--count N] [--size N]\n"
		"  --host A      server address or name\n"
		"  --port N      server UDP port\n"
		"  --name NAME   name to verify the server's certificate for\n"
		"                (default: the --host argument)\n"
		"  --ca F        trusted CA certificates, PEM (default: kdtlsd's)\n"
		"  --psk ID:HEX  pre-shared key suites only, identity ID, key HEX\n"
		"  --count N     datagrams to echo (default 5)\n"
		"  --size N      bytes each, 1-%d (default 64)\n"
		"kdtlsd must be running ($KDTLSD_SOCKET names its control socket).\n",
		ECHO_MAX_SIZE);
}

static int on_psk(struct kdtls *d, struct kdtls_psk_auth *auth, void *user)
{
	struct client *c = user;

	(void)d;
	snprintf(auth->out_identity, sizeof(auth->out_identity), "%s",
		 c->psk.id);
	memcpy(auth->key, c->psk.key, c->psk.key_len);
	auth->key_len = c->psk.key_len;
	return 0;
}

static void on_event(const struct kdtls_event *ev, void *user)
{
	struct client *c = user;

	switch (ev->type) {
	case KDTLS_EV_HANDSHAKE_COMPLETE:
		break;
	case KDTLS_EV_VERIFY_FAILED:
		printf("handshake failed: server certificate: %s\n",
		       kdtls_peer_verification_reasons(ev->dtls));
		kdtls_abort_handshake(ev->dtls);
		c->ended = true;
		break;
	case KDTLS_EV_HANDSHAKE_FAILED:
	case KDTLS_EV_HANDSHAKE_TIMEOUT:
		printf("handshake failed: %s\n", kdtls_error_string(ev->dtls));
		c->ended = true;
		break;
	case KDTLS_EV_PEER_CLOSED:
		printf("closed by the server\n");
		c->ended = true;
		break;
	case KDTLS_EV_ALERT:
		if (ev->alert_level == 2) {
			printf("fatal alert from the server: %s\n",
			       ev->reason ? ev->reason : "?");
			c->ended = true;
		}
		break;
	case KDTLS_EV_DATA:
		free(c->early);
		c->early = malloc(ev->len ? ev->len : 1);
		if (c->early)
			memcpy(c->early, ev->data, ev->len);
		c->early_len = ev->len;
		break;
	default:
		break;
	}
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Wait up to @ms for kdtlsd's events (dispatched) or, when @want_data, a
 * datagram on the socket.  1: the socket is readable, 0: timeout or an
 * event was handled, -1: kdtlsd is gone.
 */
static int wait_once(struct client *c, int ms, bool want_data)
{
	struct pollfd p[2] = {
		{ .fd = kdtls_ctx_fd(c->ctx), .events = POLLIN },
		{ .fd = c->fd, .events = POLLIN },
	};
	int n = poll(p, want_data ? 2 : 1, ms);

	if (n < 0 && errno != EINTR)
		return -1;
	if (n > 0 && p[0].revents &&
	    kdtls_ctx_dispatch(c->ctx) == -ECONNRESET) {
		printf("lost the connection to kdtlsd\n");
		c->ended = true;
		return -1;
	}
	return n > 0 && want_data && p[1].revents ? 1 : 0;
}

static int handshake(struct client *c)
{
	double deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
	char peer[ECHO_ADDRSTRLEN];

	if (kdtls_do_handshake(c->d, c->fd)) {
		printf("handshake failed: %s\n", kdtls_error_string(c->d));
		return -1;
	}
	while (kdtls_handshake_state(c->d) != KDTLS_HANDSHAKE_COMPLETE) {
		if (c->ended || wait_once(c, 200, false) < 0)
			return -1;
		if (now_ms() > deadline) {
			printf("handshake failed: no answer in %d s\n",
			       HANDSHAKE_TIMEOUT_MS / 1000);
			return -1;
		}
	}
	printf("handshake complete: %s, %s (kernel: %s), %s\n",
	       echo_peer_str(c->d, peer, sizeof(peer)),
	       kdtls_session_cipher(c->d), kdtls_session_kernel_cipher(c->d),
	       kdtls_session_protocol(c->d) == KDTLS_PROTO_DTLS1_2 ?
	       "DTLS 1.2" : "?");
	fflush(stdout);
	return 0;
}

/*
 * One plaintext datagram from the server, or -EAGAIN: QDtls's
 * decryptDatagram, except that the kernel already decrypted it.  Only the
 * server's datagrams are returned (the library holds any other sender's);
 * a close_notify or fatal alert is an error.
 */
static ssize_t recv_echo(struct client *c, unsigned char *in)
{
	return kdtls_read_datagram(c->d, c->fd, in, ECHO_MAX_SIZE);
}

/* Message @i: bytes that differ from every other message's. */
static void fill(unsigned char *buf, size_t size, unsigned int i)
{
	for (size_t j = 0; j < size; j++)
		buf[j] = (unsigned char)(i * 131 + j * 7 + 1);
}

/* Send message @i and wait for the same bytes to come back. */
static int echo_one(struct client *c, unsigned char *out, unsigned char *in,
		    size_t size, unsigned int i, double *rtt)
{
	fill(out, size, i);
	for (int try = 0; try < ECHO_TRIES; try++) {
		double t0 = now_ms(), left;
		ssize_t n;

		n = kdtls_write_datagram(c->d, c->fd, out, size);
		if (n < 0) {
			printf("send: %s\n", kdtls_error_string(c->d));
			return -1;
		}
		while ((left = t0 + ECHO_WAIT_MS - now_ms()) > 0) {
			if (c->early) {		/* held by kdtlsd */
				n = c->early_len;
				memcpy(in, c->early, n < (ssize_t)size ? n :
				       (ssize_t)size);
				free(c->early);
				c->early = NULL;
			} else {
				int r = wait_once(c, (int)left + 1, true);

				if (r < 0 || c->ended)
					return -1;
				if (!r)
					continue;
				n = recv_echo(c, in);
				if (n == -EAGAIN)
					continue;  /* spurious, or dropped */
				if (n < 0) {
					printf("receive: %s\n",
					       kdtls_error_string(c->d));
					return -1;
				}
			}
			if ((size_t)n == size && !memcmp(in, out, size)) {
				*rtt = now_ms() - t0;
				return 0;
			}
			/* an older message's late echo: keep waiting */
		}
	}
	printf("echo %u: no answer after %d tries\n", i + 1, ECHO_TRIES);
	return -1;
}

static int echoes(struct client *c, unsigned int count, size_t size)
{
	unsigned char *out = malloc(size), *in = malloc(ECHO_MAX_SIZE);
	double rtt = 0, sum = 0, max = 0;
	unsigned int i;
	int ret = 0;

	if (!out || !in) {
		printf("out of memory\n");
		ret = -1;
	}
	for (i = 0; !ret && i < count; i++) {
		ret = echo_one(c, out, in, size, i, &rtt);
		sum += rtt;
		if (rtt > max)
			max = rtt;
	}
	if (!ret)
		printf("%u echoes of %zu bytes: all came back, round trip "
		       "%.2f ms average, %.2f ms max\n", count, size,
		       count ? sum / count : 0, max);
	free(out);
	free(in);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host",  required_argument, NULL, 'H' },
		{ "port",  required_argument, NULL, 'p' },
		{ "name",  required_argument, NULL, 'n' },
		{ "ca",    required_argument, NULL, 'A' },
		{ "psk",   required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "size",  required_argument, NULL, 'z' },
		{ "help",  no_argument,       NULL, 'h' },
		{ }
	};
	const char *host = NULL, *name = NULL, *ca = NULL, *psk = NULL;
	struct client c = { .fd = -1 };
	long count = 5, size = 64;
	struct sockaddr_storage local;
	struct kdtls_config cfg;
	int opt, port = -1, ret = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'n': name = optarg; break;
		case 'A': ca = optarg; break;
		case 's': psk = optarg; break;
		case 'p':
			port = echo_parse_port(optarg);
			if (port < 0)
				return echo_usage_error("bad --port: %s", optarg);
			break;
		case 'c':
			count = echo_parse_num(optarg, 0, 1000000);
			if (count < 0)
				return echo_usage_error("bad --count: %s",
							optarg);
			break;
		case 'z':
			size = echo_parse_num(optarg, 1, ECHO_MAX_SIZE);
			if (size < 0)
				return echo_usage_error("bad --size: %s "
							"(1 to 16384)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return echo_usage_error("unexpected argument: %s",
					argv[optind]);
	if (!host || port < 0)
		return echo_usage_error("--host and --port are required%s", "");
	if (psk && echo_parse_psk(psk, &c.psk))
		return echo_usage_error("bad --psk %s (ID:HEX, a key of 1 to "
					"64 bytes)", psk);

	if (echo_resolve(host, (uint16_t)port, false, &c.server,
			 &c.server_len))
		return 1;
	c.fd = echo_udp_socket(c.server.ss_family == AF_INET6 ? "::" :
			       "0.0.0.0", 0, &local);
	if (c.fd < 0)
		return 1;
	ret = kdtls_ctx_new(&c.ctx, NULL);
	if (ret) {
		fprintf(stderr, "kdtls-echo-client: cannot reach kdtlsd: %s\n",
			strerror(-ret));
		return 1;
	}
	ret = 1;
	if (kdtls_new(c.ctx, KDTLS_MODE_CLIENT, &c.d)) {
		fprintf(stderr, "kdtls-echo-client: out of memory\n");
		goto out;
	}
	kdtls_config_init(&cfg);
	cfg.ca_file = ca;
	if (psk) {
		cfg.ciphers = ECHO_PSK_CIPHERS;
		kdtls_set_psk_cb(c.d, on_psk, &c);
	}
	kdtls_set_event_cb(c.d, on_event, &c);
	if (kdtls_set_peer(c.d, (struct sockaddr *)&c.server, c.server_len,
			   name ? name : host) ||
	    kdtls_set_configuration(c.d, &cfg)) {
		fprintf(stderr, "kdtls-echo-client: %s\n",
			kdtls_error_string(c.d));
		goto out;
	}
	if (handshake(&c) || echoes(&c, (unsigned int)count, (size_t)size))
		goto out;
	ret = 0;
out:
	if (c.d && kdtls_is_connection_encrypted(c.d))
		kdtls_shutdown(c.d);	/* close_notify */
	kdtls_ctx_free(c.ctx);
	close(c.fd);
	free(c.early);
	explicit_bzero(&c.psk, sizeof(c.psk));
	return ret;
}
