// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls-echo-server -- a DTLS 1.2 echo server on one UDP socket for any
 * number of peers, event driven on io_uring: the C counterpart of Qt's
 * secureudpserver example, over libkdtls.
 *
 *   kdtls-echo-server --port N [--addr A] (--cert F --key F | --psk ID:HEX)
 *                     [--ca F]
 *
 * The program never sees a record: kdtlsd (the handshake daemon) runs the
 * handshakes on the socket the program hands it, kdtls.ko seals and opens
 * the records, and the program sends and receives plaintext.
 *
 *   io_uring ring
 *     POLL_ADD (multishot) on kdtls_ctx_fd()  -> kdtls_ctx_dispatch():
 *                                                new peers, failures, closes
 *     RECVMSG (multishot, provided buffers)   -> a peer's plaintext:
 *                                                SENDMSG it back to the peer
 *     POLL_ADD on a signalfd                  -> SIGINT/SIGTERM: stop
 *
 * One listener object (struct kdtls in server mode without a peer) serves
 * the socket; each peer that completes a handshake arrives as a new object
 * in a KDTLS_EV_NEW_PEER event, like a QDtls per client in Qt's example.
 * The kernel keys every record by its sender's address, so a datagram that
 * RECVMSG returns from address X is X's and was opened with X's keys.
 *
 * One line per handshake result and per closed peer; the first line says
 * the server is ready.  Exit status: 0 when stopped by SIGINT or SIGTERM,
 * 1 when it cannot start or loses kdtlsd or the socket, 2 bad usage.
 *
 * --ca F makes the server ask every client for a certificate signed by a
 * CA of F (mutual authentication); without it clients are not asked.
 * --psk ID:HEX serves pre-shared-key suites only, to the identity ID with
 * the key HEX (kdtlsd asks this program for the key of each client).
 *
 * Build: make -C examples (needs liburing-dev and userspace/libkdtls).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <kdtls.h>		/* after liburing.h: its io_uring helpers */

#include "kdtls-echo.h"

#define NBUFS		64	/* provided receive buffers, a power of two */
#define BGID		7
#define BUF_LEN		(sizeof(struct io_uring_recvmsg_out) + \
			 sizeof(struct sockaddr_storage) + KDTLS_CMSG_SPACE + \
			 ECHO_MAX_SIZE)

/* user_data of the long-lived requests; sends carry their struct echo */
#define TAG_CTL		1
#define TAG_RECV	2
#define TAG_SIGNAL	3

struct server {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	unsigned char *bufs;
	struct msghdr rx_msg;		/* the multishot RECVMSG's template */
	int fd, sigfd;
	struct kdtls_ctx *ctx;
	struct kdtls *listener;
	struct echo_psk psk;		/* --psk, or id NULL */
	unsigned long peers, failures, echoed;
	bool stop, fatal;
};

/* One echo in flight: SENDMSG needs its msghdr until it completes. */
struct echo {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage to;
	unsigned char data[];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdtls-echo-server --port N [--addr A]\n"
		"                         (--cert F --key F | --psk ID:HEX) [--ca F]\n"
		"  --port N      UDP port to serve\n"
		"  --addr A      local address (default 0.0.0.0; :: for IPv6 and\n"
		"                IPv4-mapped peers)\n"
		"  --cert F      certificate (chain), PEM\n"
		"  --key F       its private key, PEM\n"
		"  --psk ID:HEX  pre-shared key suites only, identity ID, key HEX\n"
		"  --ca F        ask clients for a certificate signed by a CA in F\n"
		"kdtlsd must be running ($KDTLSD_SOCKET names its control socket).\n");
}

/* ---- what kdtlsd tells: handshakes, closes --------------------------- */

static int on_psk(struct kdtls *d, struct kdtls_psk_auth *auth, void *user)
{
	struct server *s = user;
	char peer[ECHO_ADDRSTRLEN];

	if (!auth->identity || strcmp(auth->identity, s->psk.id)) {
		printf("%s: unknown PSK identity \"%s\": refused\n",
		       echo_peer_str(d, peer, sizeof(peer)),
		       auth->identity ? auth->identity : "");
		return -1;
	}
	memcpy(auth->key, s->psk.key, s->psk.key_len);
	auth->key_len = s->psk.key_len;
	return 0;
}

static void on_event(const struct kdtls_event *ev, void *user)
{
	struct server *s = user;
	char peer[ECHO_ADDRSTRLEN];

	echo_peer_str(ev->dtls, peer, sizeof(peer));
	switch (ev->type) {
	case KDTLS_EV_NEW_PEER:
		s->peers++;
		printf("%s: handshake complete, %s (kernel: %s)\n", peer,
		       kdtls_session_cipher(ev->dtls),
		       kdtls_session_kernel_cipher(ev->dtls));
		break;
	case KDTLS_EV_VERIFY_FAILED:
		s->failures++;
		printf("%s: handshake failed: client certificate: %s\n", peer,
		       kdtls_peer_verification_reasons(ev->dtls));
		kdtls_abort_handshake(ev->dtls);
		kdtls_free(ev->dtls);
		break;
	case KDTLS_EV_HANDSHAKE_FAILED:
	case KDTLS_EV_HANDSHAKE_TIMEOUT:
		s->failures++;
		printf("%s: handshake failed: %s\n", peer,
		       kdtls_error_string(ev->dtls));
		if (ev->dtls != s->listener)
			kdtls_free(ev->dtls);
		break;
	case KDTLS_EV_PEER_CLOSED:
		printf("%s: closed by the peer\n", peer);
		kdtls_free(ev->dtls);
		break;
	case KDTLS_EV_ALERT:
		printf("%s: %s alert %s\n", peer,
		       ev->alert_level == 2 ? "fatal" : "warning",
		       ev->reason ? ev->reason : "?");
		if (ev->alert_level == 2)
			kdtls_free(ev->dtls);
		break;
	case KDTLS_EV_DATA:
		/*
		 * A datagram that raced the key install and reached kdtlsd
		 * instead of the socket: echo it like any other.
		 */
		if (kdtls_write_datagram(ev->dtls, s->fd, ev->data,
					 ev->len) >= 0)
			s->echoed++;
		break;
	default:
		break;
	}
	fflush(stdout);
}

/* ---- the ring ----------------------------------------------------------- */

static struct io_uring_sqe *sqe_get(struct server *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	return sqe;
}

static int arm(struct server *s, uint64_t tag)
{
	struct io_uring_sqe *sqe = sqe_get(s);

	if (!sqe)
		return -EBUSY;
	switch (tag) {
	case TAG_CTL:
		io_uring_prep_poll_multishot(sqe, kdtls_ctx_fd(s->ctx), POLLIN);
		break;
	case TAG_RECV:
		kdtls_prep_recvmsg_multishot(sqe, s->fd, &s->rx_msg, BGID);
		break;
	case TAG_SIGNAL:
		io_uring_prep_poll_add(sqe, s->sigfd, POLLIN);
		break;
	}
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

static void buf_give(struct server *s, unsigned int bid)
{
	io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * BUF_LEN, BUF_LEN,
			      bid, io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(s->br, 1);
}

/* The receive buffers: a ring of NBUFS registered as group BGID. */
static int bufs_setup(struct server *s)
{
	struct io_uring_buf_reg reg = {
		.ring_entries = NBUFS,
		.bgid = BGID,
	};
	int ret;

	s->br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		     PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	s->bufs = malloc((size_t)NBUFS * BUF_LEN);
	if (s->br == MAP_FAILED || !s->bufs)
		return -ENOMEM;
	reg.ring_addr = (unsigned long)s->br;
	ret = io_uring_register_buf_ring(&s->ring, &reg, 0);
	if (ret)
		return ret;
	io_uring_buf_ring_init(s->br);
	for (unsigned int i = 0; i < NBUFS; i++)
		buf_give(s, i);
	return 0;
}

/*
 * A datagram from a peer: send the same bytes back.  Application data
 * (record type 23) comes only from a peer the kernel holds keys for: it
 * opened the record under that peer's association.  So it is echoed even
 * when kdtls_find_peer() does not know the peer yet: kdtlsd installs the
 * keys first and tells us second (KDTLS_EV_NEW_PEER), and a client that
 * writes right after its handshake can win that race.
 */
static void on_datagram(struct server *s, struct io_uring_cqe *cqe)
{
	unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	const void *buf = s->bufs + (size_t)bid * BUF_LEN;
	struct io_uring_sqe *sqe;
	struct kdtls_rx rx;
	struct echo *e;

	if (kdtls_cqe_parse(cqe, buf, BUF_LEN, &s->rx_msg, &rx) ||
	    rx.truncated || rx.record_type != ECHO_RECORD_DATA)
		goto out;	/* not application data of an established peer */
	e = malloc(sizeof(*e) + rx.len);
	sqe = e ? sqe_get(s) : NULL;
	if (!sqe) {
		free(e);
		goto out;	/* no memory: a lost datagram, as UDP may */
	}
	memcpy(e->data, rx.data, rx.len);
	memcpy(&e->to, &rx.peer, rx.peer_len);
	kdtls_prep_sendto(sqe, s->fd, &e->msg, &e->iov, e->data, rx.len,
			  (void *)&e->to, rx.peer_len);
	io_uring_sqe_set_data(sqe, e);
out:
	buf_give(s, bid);
}

static void on_cqe(struct server *s, struct io_uring_cqe *cqe)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	bool more = cqe->flags & IORING_CQE_F_MORE;
	int ret;

	switch (tag) {
	case TAG_CTL:
		ret = kdtls_ctx_dispatch(s->ctx);
		if (ret < 0) {
			fprintf(stderr, "kdtls-echo-server: kdtlsd: %s\n",
				strerror(-ret));
			s->fatal = true;
		} else if (!more && arm(s, TAG_CTL)) {
			s->fatal = true;
		}
		return;
	case TAG_RECV:
		if (cqe->res >= 0)
			on_datagram(s, cqe);
		else if (cqe->res != -ENOBUFS) {
			fprintf(stderr, "kdtls-echo-server: receive: %s\n",
				strerror(-cqe->res));
			s->fatal = true;
			return;
		}
		if (!more && arm(s, TAG_RECV))
			s->fatal = true;
		return;
	case TAG_SIGNAL:
		s->stop = true;
		return;
	}
	/* a send completed */
	if (cqe->res >= 0)
		s->echoed++;
	else
		fprintf(stderr, "kdtls-echo-server: send: %s\n",
			strerror(-cqe->res));
	free((void *)(uintptr_t)tag);
}

static int run(struct server *s)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	int ret;

	if (arm(s, TAG_CTL) || arm(s, TAG_RECV) || arm(s, TAG_SIGNAL))
		return 1;
	while (!s->stop && !s->fatal) {
		ret = io_uring_submit_and_wait(&s->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "kdtls-echo-server: io_uring: %s\n",
				strerror(-ret));
			return 1;
		}
		n = 0;
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			on_cqe(s, cqe);
			n++;
		}
		io_uring_cq_advance(&s->ring, n);
	}
	printf("stopped: %lu peers, %lu failed handshakes, %lu datagrams "
	       "echoed\n", s->peers, s->failures, s->echoed);
	return s->fatal ? 1 : 0;
}

/* ---- setup ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key",  required_argument, NULL, 'k' },
		{ "psk",  required_argument, NULL, 's' },
		{ "ca",   required_argument, NULL, 'A' },
		{ "help", no_argument,       NULL, 'h' },
		{ }
	};
	const char *addr = "0.0.0.0", *cert = NULL, *key = NULL, *ca = NULL;
	const char *psk = NULL;
	struct server s = { .fd = -1, .sigfd = -1 };
	struct sockaddr_storage local;
	char name[ECHO_ADDRSTRLEN];
	struct kdtls_config cfg;
	int opt, ret, port = -1;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = echo_parse_port(optarg);
			if (port < 0)
				return echo_usage_error("bad --port: %s", optarg);
			break;
		case 'a': addr = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 's': psk = optarg; break;
		case 'A': ca = optarg; break;
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
	if (port < 0)
		return echo_usage_error("--port is required%s", "");
	if (!psk == !(cert || key) || (!cert != !key))
		return echo_usage_error("give --cert and --key, or --psk%s",
					"");
	if (psk && echo_parse_psk(psk, &s.psk))
		return echo_usage_error("bad --psk %s (ID:HEX, a key of 1 to "
					"64 bytes)", psk);

	/* the socket, and the signals as a descriptor the ring can poll */
	s.fd = echo_udp_socket(addr, (uint16_t)port, &local);
	if (s.fd < 0)
		return 1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	s.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	ret = io_uring_queue_init(64, &s.ring, 0);
	if (!ret)
		ret = bufs_setup(&s);
	if (ret || s.sigfd < 0) {
		fprintf(stderr, "kdtls-echo-server: io_uring: %s\n",
			strerror(ret ? -ret : errno));
		return 1;
	}

	/* kdtlsd, and the listener that serves the socket */
	ret = kdtls_ctx_new(&s.ctx, NULL);
	if (ret) {
		fprintf(stderr, "kdtls-echo-server: cannot reach kdtlsd: %s\n",
			strerror(-ret));
		return 1;
	}
	ret = kdtls_new(s.ctx, KDTLS_MODE_SERVER, &s.listener);
	if (ret) {
		fprintf(stderr, "kdtls-echo-server: %s\n", strerror(-ret));
		return 1;
	}
	kdtls_config_init(&cfg);
	cfg.cert_file = cert;
	cfg.key_file = key;
	cfg.ca_file = ca;
	if (ca)
		cfg.verify_mode = KDTLS_VERIFY_PEER;
	if (psk) {
		cfg.ciphers = ECHO_PSK_CIPHERS;
		kdtls_set_psk_cb(s.listener, on_psk, &s);
	}
	kdtls_set_event_cb(s.listener, on_event, &s);
	if (kdtls_set_configuration(s.listener, &cfg) ||
	    kdtls_do_handshake(s.listener, s.fd)) {
		fprintf(stderr, "kdtls-echo-server: %s\n",
			kdtls_error_string(s.listener));
		return 1;
	}
	printf("listening on %s (%s)\n",
	       echo_addr_str((void *)&local, name, sizeof(name)),
	       psk ? "PSK" : "certificate");
	fflush(stdout);

	ret = run(&s);
	kdtls_ctx_free(s.ctx);
	io_uring_queue_exit(&s.ring);
	close(s.fd);
	explicit_bzero(&s.psk, sizeof(s.psk));
	return ret;
}
