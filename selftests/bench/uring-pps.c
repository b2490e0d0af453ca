// SPDX-License-Identifier: GPL-2.0
/*
 * uring-pps -- one-way datagram rate between two UDP sockets over io_uring,
 * for `make bench` (selftests/bench.sh runs it; see there for the method).
 *
 *   uring-pps run --tx-fd N --rx-fd M [--gso K] [--gro] [--size B]
 *                 [--secs S] [--warmup S] [--window W] [--tx-cpu C]
 *                 [--rx-cpu C]
 *   uring-pps idle [--iters N] [--serve]
 *
 * run: the sockets are inherited (made by `kdtlsctl socket`, the TX one
 * connected to the RX one; attached by kdtlsctl or not -- this program cannot
 * tell and does the same either way).  Two threads with the flow control,
 * pinning and timing of flow.h:
 *
 *   sender    batches of up to 16 IORING_OP_SEND of B bytes, or with --gso K
 *             of K * B bytes with UDP_SEGMENT = B on the socket: one GSO
 *             datagram of K segments (K records when kdtls seals them)
 *   receiver  one multishot IORING_OP_RECV with a ring of 256 provided
 *             buffers; counts completions of exactly B bytes (plaintext:
 *             kdtls has opened the record).  With --gro, UDP_GRO on the
 *             socket and a multishot IORING_OP_RECVMSG instead: a completion
 *             with a UDP_GRO cmsg of B counts as bytes / B records, one
 *             without it as one record of B bytes.  Its completion queue
 *             holds 128 entries, 8 with --gro: a multishot receive keeps
 *             going in the kernel while the socket has data and the queue
 *             has room, and the receiver reports what it got to the sender
 *             only between waits.  With 128 completions of 20 records the
 *             receiver drained the whole window before reporting any of it,
 *             and sender and receiver took turns instead of overlapping:
 *             kdtls with GSO and GRO ran 5-8 % slower (2026-11-27).
 *
 * The receive buffer is raised to 4 MB (SO_RCVBUFFORCE; the kernel doubles
 * it) so a full window fits: 2048 datagrams of about 1.2 KB take about 5 MB
 * of truesize.  A window of 4096 did not fit and lost records.  One line of
 * output (flow.h):
 *   rate R sent N received N lost N bad N txerr N secs T
 * where every count is of records (B-byte segments), not of sends.
 *
 * idle: time a fixed integer loop (--iters, 20 M) on every CPU at once, three
 * times, and print the slowest CPU's median in ms.  Under TCG scalar code
 * runs near host speed, so this time grows when the host's CPUs are busy
 * with something else: bench.sh compares it with the quietest value seen in
 * the same boot.  With --serve it does that once per line read from stdin,
 * until EOF, so that a script can ask often without starting a process
 * each time (under TCG an exec costs about a second).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#ifndef UDP_GRO
#define UDP_GRO		104
#endif

#define TX_BATCH	16
#define NBUFS		256	/* power of two */
#define BUF_LEN		2048
#define GRO_BUF_LEN	(65536 + 256)	/* a coalesced datagram, header, cmsg */
#define MAX_GSO		128	/* UDP_MAX_SEGMENTS */
#define BGID		1
#define RCVBUF		(4 << 20)
#define RX_CQ		128	/* completions the receiver reaps at once */
#define RX_CQ_GRO	8	/* with --gro: 160 records with --gso 20 */

static int tx_fd = -1, rx_fd = -1;
static unsigned int gso;	/* records per send, 0: no UDP_SEGMENT */
static bool gro;

/* ---- sender ------------------------------------------------------------ */

static void *sender(void *arg)
{
	unsigned int unit = gso ? gso : 1;
	size_t len = (size_t)unit * flow.size;
	unsigned char *buf = malloc(len);
	struct io_uring ring;
	int ret;

	(void)arg;
	flow_pin(flow.tx_cpu);
	if (!buf)
		flow_die("sender buffer", ENOMEM);
	ret = io_uring_queue_init(2 * TX_BATCH, &ring, 0);
	if (ret)
		flow_die("io_uring_queue_init", -ret);
	memset(buf, 0xa5, len);
	flow_ready();

	for (;;) {
		unsigned int room = flow_room(unit), n, i, head, seen = 0;
		struct io_uring_cqe *cqe;

		if (!room)
			break;
		n = room / unit;
		if (n > TX_BATCH)
			n = TX_BATCH;
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_send(sqe, tx_fd, buf, len, 0);
		}
		ret = io_uring_submit_and_wait(&ring, n);
		if (ret < 0 && ret != -EINTR)
			flow_die("sender: io_uring_submit_and_wait", -ret);
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (cqe->res == (int)len)
				n += unit;
			else if (cqe->res < 0 && cqe->res != -ENOBUFS &&
				 cqe->res != -EAGAIN)
				flow_die("sender: send", -cqe->res);
			else
				flow_tx_error();
		}
		io_uring_cq_advance(&ring, seen);
		flow_sent(n);
	}
	io_uring_queue_exit(&ring);
	free(buf);
	return NULL;
}

/* ---- receiver ---------------------------------------------------------- */

/* records in one RECVMSG completion: see the header comment */
static void count_recvmsg(struct io_uring_cqe *cqe, struct msghdr *mh,
			  unsigned char *buf, unsigned int *got,
			  unsigned int *bad)
{
	struct io_uring_recvmsg_out *o;
	struct cmsghdr *cm;
	unsigned int len, seg = 0;

	o = io_uring_recvmsg_validate(buf, cqe->res, mh);
	if (!o || (o->flags & (MSG_TRUNC | MSG_CTRUNC))) {
		(*bad)++;
		return;
	}
	len = io_uring_recvmsg_payload_length(o, cqe->res, mh);
	for (cm = io_uring_recvmsg_cmsg_firsthdr(o, mh); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(o, mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			seg = v;
		}
	if (!seg && len == flow.size)
		(*got)++;
	else if (seg == flow.size && len && len % seg == 0)
		*got += len / seg;
	else
		(*bad)++;
}

static void *receiver(void *arg)
{
	struct io_uring_buf_reg reg = { };
	struct io_uring_buf_ring *br;
	unsigned int buf_len = gro ? GRO_BUF_LEN : BUF_LEN;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	unsigned char *bufs;
	struct io_uring_params params = {
		.flags = IORING_SETUP_CQSIZE,
		.cq_entries = gro ? RX_CQ_GRO : RX_CQ,
	};
	struct io_uring ring;
	bool armed = false;
	unsigned int i;
	int ret, on = gro, mask = io_uring_buf_ring_mask(NBUFS);

	(void)arg;
	flow_pin(flow.rx_cpu);
	if (setsockopt(rx_fd, SOL_UDP, UDP_GRO, &on, sizeof(on)))
		flow_die("setsockopt UDP_GRO", errno);
	ret = io_uring_queue_init_params(4, &ring, &params);
	if (ret)
		flow_die("io_uring_queue_init", -ret);
	br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc((size_t)NBUFS * buf_len);
	if (br == MAP_FAILED || !bufs)
		flow_die("receiver buffers", ENOMEM);
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&ring, &reg, 0);
	if (ret)
		flow_die("io_uring_register_buf_ring", -ret);
	io_uring_buf_ring_init(br);
	for (i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * buf_len, buf_len,
				      i, mask, i);
	io_uring_buf_ring_advance(br, NBUFS);
	flow_ready();

	for (;;) {
		struct __kernel_timespec ts = { 0, 50 * 1000 * 1000 };
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, got = 0, bad = 0, back = 0;

		if (!armed) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (gro)
				io_uring_prep_recvmsg_multishot(sqe, rx_fd,
								&mh, 0);
			else
				io_uring_prep_recv_multishot(sqe, rx_fd, NULL,
							     0, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = BGID;
			armed = true;
		}
		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts,
						       NULL);
		if (ret == -ETIME || ret == -EINTR) {
			if (flow_rx_done(true))
				break;
			continue;
		}
		if (ret < 0)
			flow_die("receiver: io_uring_submit_and_wait_timeout",
				 -ret);
		flow_rx_done(false);
		io_uring_for_each_cqe(&ring, head, cqe) {
			unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			unsigned char *buf = bufs + (size_t)bid * buf_len;

			seen++;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				armed = false;
			if (cqe->res == -ENOBUFS)
				continue;
			if (cqe->res < 0)
				flow_die("receiver: recv", -cqe->res);
			if (gro && (cqe->flags & IORING_CQE_F_BUFFER))
				count_recvmsg(cqe, &mh, buf, &got, &bad);
			else if (cqe->res == (int)flow.size)
				got++;
			else
				bad++;
			if (cqe->flags & IORING_CQE_F_BUFFER)
				io_uring_buf_ring_add(br, buf, buf_len, bid,
						      mask, back++);
		}
		io_uring_buf_ring_advance(br, back);
		io_uring_cq_advance(&ring, seen);
		flow_received(got, bad);
	}
	io_uring_queue_exit(&ring);
	free(bufs);
	return NULL;
}

static int cmd_run(void)
{
	int buf = RCVBUF, seg = flow.size;

	if (tx_fd < 0 || rx_fd < 0) {
		fprintf(stderr, "uring-pps run: --tx-fd and --rx-fd are required\n");
		return 2;
	}
	if (!flow.size || flow.size > BUF_LEN) {
		fprintf(stderr, "uring-pps run: --size 1..%d\n", BUF_LEN);
		return 2;
	}
	if (gso > MAX_GSO || (size_t)gso * flow.size > 65000) {
		fprintf(stderr, "uring-pps run: --gso K: K <= %d and K * size <= 65000\n",
			MAX_GSO);
		return 2;
	}
	if (gso && flow.window < 2 * gso) {
		fprintf(stderr, "uring-pps run: --window must be at least 2 x --gso\n");
		return 2;
	}
	if (setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		flow_die("SO_RCVBUFFORCE", errno);
	/* both set either way: bench.sh runs every mode on the same sockets */
	if (!gso)
		seg = 0;
	if (setsockopt(tx_fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)))
		flow_die("setsockopt UDP_SEGMENT", errno);
	return flow_run(sender, receiver, NULL);
}

/* ---- idle check -------------------------------------------------------- */

static unsigned long idle_iters = 20 * 1000 * 1000;

struct idle_arg {
	int cpu;
	double ms[3];
};

static void *idle_loop(void *p)
{
	struct idle_arg *a = p;
	int k;

	flow_pin(a->cpu);
	for (k = 0; k < 3; k++) {
		volatile uint64_t sink;
		uint64_t x = 88172645463325252ULL;
		unsigned long i;
		double t = flow_now();

		for (i = 0; i < idle_iters; i++) {	/* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		sink = x;
		(void)sink;
		a->ms[k] = (flow_now() - t) * 1e3;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void idle_once(int ncpu, struct idle_arg *a, pthread_t *t)
{
	double worst = 0;
	int i;

	for (i = 0; i < ncpu; i++) {
		a[i].cpu = i;
		if (pthread_create(&t[i], NULL, idle_loop, &a[i]))
			flow_die("pthread_create", EAGAIN);
	}
	for (i = 0; i < ncpu; i++) {
		pthread_join(t[i], NULL);
		qsort(a[i].ms, 3, sizeof(double), cmp_double);
		if (a[i].ms[1] > worst)
			worst = a[i].ms[1];
	}
	printf("%.1f\n", worst);
}

static int cmd_idle(bool serve)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct idle_arg *a = calloc(ncpu, sizeof(*a));
	pthread_t *t = calloc(ncpu, sizeof(*t));
	char line[64];

	if (!a || !t)
		flow_die("idle", ENOMEM);
	if (!serve) {
		idle_once(ncpu, a, t);
		return 0;
	}
	while (fgets(line, sizeof(line), stdin))
		idle_once(ncpu, a, t);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: uring-pps run --tx-fd N --rx-fd M [--gso K] [--gro]\n"
"                     " FLOW_USAGE "\n"
"       uring-pps idle [--iters N] [--serve]\n");
	exit(2);
}

static int parse_int(const char *name, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < 0 || v > 1 << 30) {
		fprintf(stderr, "uring-pps: %s: not a count: '%s'\n", name,
			arg);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tx-fd",	required_argument, NULL, 't' },
		{ "rx-fd",	required_argument, NULL, 'r' },
		{ "gso",	required_argument, NULL, 'g' },
		{ "gro",	no_argument,	   NULL, 'G' },
		{ "iters",	required_argument, NULL, 'i' },
		{ "serve",	no_argument,	   NULL, 'S' },
		FLOW_OPTIONS,
		{ }
	};
	bool run, serve = false;
	int opt;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "run"))
		run = true;
	else if (!strcmp(argv[1], "idle"))
		run = false;
	else
		usage();
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 't': tx_fd = parse_int("--tx-fd", optarg); break;
		case 'r': rx_fd = parse_int("--rx-fd", optarg); break;
		case 'g': gso = parse_int("--gso", optarg); break;
		case 'G': gro = true; break;
		case 'i': idle_iters = parse_int("--iters", optarg); break;
		case 'S': serve = true; break;
		default:
			if (!flow_option(opt, optarg))
				usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run ? cmd_run() : cmd_idle(serve);
}
