// SPDX-License-Identifier: GPL-2.0
/*
 * udp-echo-uring -- a UDP echo server and client on io_uring, for sockets
 * that kdtls.ko has attached.
 *
 * The program is plain UDP: it never sees a key, a record header or a tag.
 * Once kdtls has attached the socket and holds an association for the peer,
 * every datagram this program sends leaves as one DTLS 1.2 record and every
 * record that arrives is opened before the program reads it.  Datagrams that
 * are not application data (handshake, alert, or from a peer without an
 * association) are only ever delivered with a SOL_KDTLS control message, and
 * this program asks for no control messages, so it sees application data
 * only.
 *
 * Where the socket comes from:
 *   --fd N          an inherited socket, usually made and attached like this
 *                   (kdtlsctl must hold the fd, so the app runs under it):
 *
 *     kdtlsctl socket --bind 127.0.0.1:4433 -- sh -c '
 *         kdtlsctl attach --fd 3 &&
 *         kdtlsctl assoc add --fd 3 --peer 127.0.0.1:4434 ... &&
 *         exec udp-echo-uring server --fd 3'
 *
 *                   Without --fd and --bind: $KDTLSCTL_FD (set by kdtlsctl
 *                   socket), else fd 3.
 *   --bind A:P      a socket of its own, bound to A:P: plain UDP, handy to
 *                   compare with (nothing can attach it from outside).
 *
 * Server: one multishot RECVMSG with a ring of provided buffers; each
 * datagram is sent back from the buffer it arrived in (SENDMSG to the source
 * address), and the buffer goes back to the ring when that send completes.
 *
 * Client: for each of COUNT messages of SIZE bytes, one linked chain
 * SENDMSG -> RECVMSG -> LINK_TIMEOUT; the echo must come from the peer, have
 * the same length and the same bytes.  One line per message; exit status 1
 * if any message timed out or came back different.
 *
 * Build: make -C examples   (needs liburing-dev)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG		16384	/* KDTLS_MAX_PLAINTEXT */
#define NBUFS		32	/* provided buffers, a power of two */
#define BGID		1
#define RING_DEPTH	64

/* user_data: what completed, and for sends which buffer it used */
#define TAG_RECV	(1ULL << 32)
#define TAG_SEND	(2ULL << 32)
#define TAG_TIMEOUT	(3ULL << 32)
#define TAG_MASK	(0xffULL << 32)

struct opts {
	int fd;
	const char *bind;
	const char *peer;
	unsigned int count;
	unsigned int size;
	unsigned int timeout_ms;
	bool quiet;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: udp-echo-uring server [--fd N | --bind ADDR:PORT] [--count N] [--quiet]\n"
"       udp-echo-uring client [--fd N | --bind ADDR:PORT] [--peer ADDR:PORT]\n"
"                             [--count N] [--size BYTES] [--timeout MS]\n"
"  server  echo every datagram to its sender (until SIGINT/SIGTERM, or N)\n"
"  client  send N (5) messages of BYTES (64, at most %d) to the peer, wait\n"
"          MS (2000) for each echo, check it; exit 1 on any failure.\n"
"          Without --peer the socket must be connected.\n"
"  The socket: --fd N (default $KDTLSCTL_FD, else 3), or --bind for a\n"
"  plain UDP socket of the program's own.  ADDR:PORT is A.B.C.D:PORT or\n"
"  [IPV6]:PORT.\n", MAX_MSG);
}

static int parse_addr(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon || (size_t)(colon - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, colon - s - 1);
		host[colon - s - 1] = '\0';
		port_s = colon + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
		port_s = colon + 1;
	}
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || end == port_s || port > 65535)
		return -1;

	if (*s == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return 0;
}

static const char *addr_str(const void *sa, char *buf, size_t len)
{
	const struct sockaddr *s = sa;
	char a[INET6_ADDRSTRLEN];

	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *sin = sa;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

static bool same_addr(const struct sockaddr_storage *a, const void *bp)
{
	const struct sockaddr *b = bp;

	if (a->ss_family != b->sa_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = bp;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = bp;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	return false;
}

/* the socket to use: an inherited one, or one of our own */
static int get_socket(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, type;

	if (o->bind) {
		if (parse_addr(o->bind, &ss, &len)) {
			fprintf(stderr, "bad address '%s'\n", o->bind);
			return -1;
		}
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
			perror(o->bind);
			return -1;
		}
		return fd;
	}
	len = sizeof(type);
	if (getsockopt(o->fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    type != SOCK_DGRAM) {
		fprintf(stderr, "fd %d is not a UDP socket (use --fd or run under 'kdtlsctl socket')\n",
			o->fd);
		return -1;
	}
	return o->fd;
}

static int setup_ring(struct io_uring *ring)
{
	int ret = io_uring_queue_init(RING_DEPTH, ring, 0);

	if (ret < 0)
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
	return ret;
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {	/* the ring is full: flush it and try again */
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* ---- server ------------------------------------------------------------ */

/*
 * Each provided buffer receives, from the start:
 *
 *   struct io_uring_recvmsg_out | source address (namelen) | payload
 *
 * (no control messages: msg_controllen is 0).
 */
#define NAME_LEN	((socklen_t)sizeof(struct sockaddr_storage))
#define BUF_LEN		(sizeof(struct io_uring_recvmsg_out) + NAME_LEN + MAX_MSG)

struct server {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	unsigned char *bufs;
	struct msghdr rx_msg;		/* template of the multishot recvmsg */
	struct {			/* one send in flight per buffer */
		struct msghdr msg;
		struct iovec iov;
	} tx[NBUFS];
	int fd;
	unsigned long echoed, truncated, send_errors;
};

static void buf_recycle(struct server *s, unsigned int bid)
{
	io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * BUF_LEN, BUF_LEN,
			      bid, io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(s->br, 1);
}

static int server_setup_bufs(struct server *s)
{
	struct io_uring_buf_reg reg = { };
	size_t br_len = NBUFS * sizeof(struct io_uring_buf);
	unsigned int i;
	int ret;

	s->br = mmap(NULL, br_len, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	s->bufs = malloc((size_t)NBUFS * BUF_LEN);
	if (s->br == MAP_FAILED || !s->bufs) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	reg.ring_addr = (unsigned long)s->br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&s->ring, &reg, 0);
	if (ret) {
		fprintf(stderr, "io_uring_register_buf_ring: %s\n",
			strerror(-ret));
		return -1;
	}
	io_uring_buf_ring_init(s->br);
	for (i = 0; i < NBUFS; i++)
		buf_recycle(s, i);
	return 0;
}

static int server_arm_recv(struct server *s)
{
	struct io_uring_sqe *sqe = get_sqe(&s->ring);

	if (!sqe)
		return -1;
	s->rx_msg.msg_namelen = NAME_LEN;
	s->rx_msg.msg_controllen = 0;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &s->rx_msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, TAG_RECV);
	return 0;
}

/* a datagram arrived in buffer bid: send it back from there */
static int server_echo(struct server *s, struct io_uring_cqe *cqe, bool quiet)
{
	unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	void *buf = s->bufs + (size_t)bid * BUF_LEN;
	struct io_uring_recvmsg_out *out;
	struct io_uring_sqe *sqe;
	char from[INET6_ADDRSTRLEN + 8];
	unsigned int len;

	out = io_uring_recvmsg_validate(buf, cqe->res, &s->rx_msg);
	if (!out || (out->flags & MSG_TRUNC)) {
		s->truncated++;
		buf_recycle(s, bid);
		return 0;
	}
	len = io_uring_recvmsg_payload_length(out, cqe->res, &s->rx_msg);
	if (!quiet)
		printf("server: %u bytes from %s\n", len,
		       addr_str(io_uring_recvmsg_name(out), from,
				sizeof(from)));

	s->tx[bid].iov.iov_base = io_uring_recvmsg_payload(out, &s->rx_msg);
	s->tx[bid].iov.iov_len = len;
	s->tx[bid].msg = (struct msghdr) {
		.msg_name = io_uring_recvmsg_name(out),
		.msg_namelen = out->namelen,
		.msg_iov = &s->tx[bid].iov,
		.msg_iovlen = 1,
	};
	sqe = get_sqe(&s->ring);
	if (!sqe)
		return -1;
	io_uring_prep_sendmsg(sqe, s->fd, &s->tx[bid].msg, 0);
	io_uring_sqe_set_data64(sqe, TAG_SEND | bid);
	return 0;
}

static int run_server(const struct opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char name[INET6_ADDRSTRLEN + 8];
	bool armed = false;
	int ret = 1;

	if (!s)
		return 1;
	s->fd = get_socket(o);
	if (s->fd < 0 || setup_ring(&s->ring) < 0 || server_setup_bufs(s))
		return 1;
	if (getsockname(s->fd, (struct sockaddr *)&local, &llen) == 0)
		printf("server: echoing on %s\n",
		       addr_str(&local, name, sizeof(name)));
	fflush(stdout);

	while (!stop && (!o->count || s->echoed < o->count)) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		if (!armed) {
			if (server_arm_recv(s))
				goto out;
			armed = true;
		}
		ret = io_uring_submit_and_wait(&s->ring, 1);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			fprintf(stderr, "io_uring_submit_and_wait: %s\n",
				strerror(-ret));
			ret = 1;
			goto out;
		}
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			uint64_t tag = cqe->user_data & TAG_MASK;

			seen++;
			if (tag == TAG_SEND) {
				if (cqe->res < 0)
					s->send_errors++;
				else
					s->echoed++;
				buf_recycle(s, cqe->user_data & 0xffff);
				continue;
			}
			/* TAG_RECV */
			if (!(cqe->flags & IORING_CQE_F_MORE))
				armed = false;	/* re-armed above */
			if (cqe->res == -ENOBUFS)
				continue;	/* buffers return with sends */
			if (cqe->res < 0) {
				fprintf(stderr, "recvmsg: %s\n",
					strerror(-cqe->res));
				ret = 1;
				goto out;
			}
			if (server_echo(s, cqe, o->quiet))
				goto out;
		}
		io_uring_cq_advance(&s->ring, seen);
	}
	ret = 0;
out:
	printf("server: %lu echoed, %lu too long, %lu send errors\n",
	       s->echoed, s->truncated, s->send_errors);
	io_uring_queue_exit(&s->ring);
	return ret;
}

/* ---- client ------------------------------------------------------------ */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* message i: its number, then bytes that depend on it and on the position */
static void fill(unsigned char *p, unsigned int size, uint32_t i)
{
	unsigned int k;

	for (k = 0; k < size; k++)
		p[k] = (unsigned char)(i * 131 + k * 7 + (k >> 8));
	if (size >= 4)
		memcpy(p, &i, 4);
}

static int run_client(const struct opts *o)
{
	static unsigned char tx_buf[MAX_MSG], rx_buf[MAX_MSG + 1];
	struct sockaddr_storage peer, from;
	socklen_t peer_len = 0;
	struct io_uring ring;
	unsigned int i, failed = 0;
	char name[INET6_ADDRSTRLEN + 8];
	int fd;

	fd = get_socket(o);
	if (fd < 0 || setup_ring(&ring) < 0)
		return 1;
	if (o->peer) {
		if (parse_addr(o->peer, &peer, &peer_len)) {
			fprintf(stderr, "bad address '%s'\n", o->peer);
			return 1;
		}
	} else {
		socklen_t len = sizeof(peer);

		if (getpeername(fd, (struct sockaddr *)&peer, &len)) {
			fprintf(stderr, "no --peer and the socket is not connected\n");
			return 1;
		}
	}
	printf("client: %u messages of %u bytes to %s\n", o->count, o->size,
	       addr_str(&peer, name, sizeof(name)));

	for (i = 1; i <= o->count && !stop; i++) {
		struct iovec tx_iov = { tx_buf, o->size };
		struct iovec rx_iov = { rx_buf, sizeof(rx_buf) };
		struct msghdr tx = {
			.msg_name = peer_len ? &peer : NULL,
			.msg_namelen = peer_len,
			.msg_iov = &tx_iov, .msg_iovlen = 1,
		};
		struct msghdr rx = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &rx_iov, .msg_iovlen = 1,
		};
		struct __kernel_timespec ts = {
			.tv_sec = o->timeout_ms / 1000,
			.tv_nsec = (o->timeout_ms % 1000) * 1000000L,
		};
		int send_res = 0, recv_res = 0, left = 3, ret;
		const char *why = NULL;
		struct io_uring_sqe *sqe;
		double t0;

		fill(tx_buf, o->size, i);
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_sendmsg(sqe, fd, &tx, 0);
		io_uring_sqe_set_data64(sqe, TAG_SEND);
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_recvmsg(sqe, fd, &rx, 0);
		io_uring_sqe_set_data64(sqe, TAG_RECV);
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_link_timeout(sqe, &ts, 0);
		io_uring_sqe_set_data64(sqe, TAG_TIMEOUT);

		t0 = now_us();
		ret = io_uring_submit(&ring);
		if (ret != 3) {
			fprintf(stderr, "io_uring_submit: %s\n",
				strerror(ret < 0 ? -ret : EIO));
			return 1;
		}
		while (left) {	/* all three complete, one way or another */
			struct io_uring_cqe *cqe;

			ret = io_uring_wait_cqe(&ring, &cqe);
			if (ret == -EINTR)
				continue;
			if (ret < 0) {
				fprintf(stderr, "io_uring_wait_cqe: %s\n",
					strerror(-ret));
				return 1;
			}
			if (cqe->user_data == TAG_SEND)
				send_res = cqe->res;
			else if (cqe->user_data == TAG_RECV)
				recv_res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			left--;
		}

		if (send_res < 0) {
			why = "send failed";
			errno = -send_res;
		} else if (recv_res == -ECANCELED) {
			why = "timeout";
		} else if (recv_res < 0) {
			why = "receive failed";
			errno = -recv_res;
		} else if (rx.msg_flags & MSG_TRUNC ||
			   (unsigned int)recv_res != o->size) {
			why = "wrong length";
		} else if (!same_addr(&peer, &from)) {
			why = "from someone else";
		} else if (memcmp(tx_buf, rx_buf, o->size)) {
			why = "content differs";
		}
		if (why) {
			failed++;
			printf("client: #%u %u bytes: FAIL %s", i, o->size,
			       why);
			if (send_res < 0 || (recv_res < 0 &&
					     recv_res != -ECANCELED))
				printf(" (%s)", strerror(errno));
			else if (recv_res >= 0)
				printf(" (got %d bytes from %s)", recv_res,
				       addr_str(&from, name, sizeof(name)));
			printf("\n");
		} else {
			printf("client: #%u %u bytes: echo ok, %.0f us\n", i,
			       o->size, now_us() - t0);
		}
		fflush(stdout);
	}
	printf("client: %u of %u ok\n", o->count - failed, o->count);
	io_uring_queue_exit(&ring);
	return failed || stop ? 1 : 0;
}

/* ---- main -------------------------------------------------------------- */

static int parse_uint(const char *s, unsigned int max, unsigned int *v)
{
	unsigned long x;
	char *end;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x > max)
		return -1;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "fd",		required_argument, NULL, 'f' },
		{ "bind",	required_argument, NULL, 'b' },
		{ "peer",	required_argument, NULL, 'p' },
		{ "count",	required_argument, NULL, 'n' },
		{ "size",	required_argument, NULL, 's' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ }
	};
	struct opts o = { .fd = 3, .count = 5, .size = 64, .timeout_ms = 2000 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *env = getenv("KDTLSCTL_FD");
	bool server, count_set = false;
	unsigned int v;
	int opt;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "server")) {
		server = true;
	} else if (!strcmp(argv[1], "client")) {
		server = false;
	} else {
		usage(stderr);
		return 2;
	}
	if (env && parse_uint(env, 1 << 20, &v) == 0)
		o.fd = v;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "f:b:p:n:s:t:qh", lopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (parse_uint(optarg, 1 << 20, &v))
				goto bad;
			o.fd = v;
			break;
		case 'b':
			o.bind = optarg;
			break;
		case 'p':
			o.peer = optarg;
			break;
		case 'n':
			if (parse_uint(optarg, 1U << 30, &o.count))
				goto bad;
			count_set = true;
			break;
		case 's':
			if (parse_uint(optarg, MAX_MSG, &o.size) || !o.size)
				goto bad;
			break;
		case 't':
			if (parse_uint(optarg, 3600000, &o.timeout_ms))
				goto bad;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (server) {
		if (!count_set)
			o.count = 0;	/* forever */
		return run_server(&o);
	}
	return run_client(&o);
bad:
	usage(stderr);
	return 2;
}
