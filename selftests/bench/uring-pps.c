// SPDX-License-Identifier: GPL-2.0
/*
 * uring-pps -- one-way datagram rate between two UDP sockets over io_uring,
 * for `make bench` (selftests/bench.sh runs it; see there for the method).
 *
 *   uring-pps run --tx-fd N --rx-fd M [--size B] [--secs S] [--warmup S]
 *                 [--window W] [--tx-cpu C] [--rx-cpu C]
 *   uring-pps idle [--iters N]
 *
 * run: the sockets are inherited (made by `kdtlsctl socket`, the TX one
 * connected to the RX one; attached by kdtlsctl or not -- this program cannot
 * tell and does the same either way).  Two threads, each pinned:
 *
 *   sender   (--tx-cpu, 0)   batches of up to 16 IORING_OP_SEND of B bytes
 *   receiver (--rx-cpu, 1 or 0 with one CPU)  one multishot IORING_OP_RECV
 *            with a ring of 256 provided buffers; counts completions of
 *            exactly B bytes (plaintext: kdtls has opened the record)
 *
 * Flow control: the sender keeps at most W (256) datagrams in flight (sent
 * and not yet received) and sleeps on a futex when the window is full; the
 * receiver wakes it when half the window has drained.  The receive buffer is
 * raised to 4 MB (SO_RCVBUFFORCE) so a full window fits.  Without this a
 * sender that outruns the receiver -- always, when they share one CPU --
 * would spend its time sealing records the receive queue then drops, and the
 * result would measure the scheduler, not the data path.  Datagrams still
 * missing after 20 ms leave the window; "lost" is sent minus received.
 *
 * The rate is what the receiver counted between two snapshots taken S (2)
 * seconds apart, after a warm-up of 0.3 s.  One line of output:
 *   rate R sent N received N lost N bad N secs T
 *
 * idle: time a fixed integer loop (--iters, 20 M) on every CPU at once, three
 * times, and print the slowest CPU's median in ms.  Under TCG scalar code
 * runs near host speed, so this time grows when the host's CPUs are busy
 * with something else: bench.sh compares it with the quietest value seen in
 * the same boot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TX_BATCH	16
#define NBUFS		256	/* power of two */
#define BUF_LEN		2048
#define BGID		1
#define RCVBUF		(4 << 20)

struct cfg {
	int tx_fd, rx_fd;
	unsigned int size, window;
	int tx_cpu, rx_cpu;
	double secs, warmup;
};

static struct cfg cfg = {
	.tx_fd = -1, .rx_fd = -1, .size = 1200, .window = 256,
	.tx_cpu = -1, .rx_cpu = -1, .secs = 2.0, .warmup = 0.3,
};

static atomic_uint received;		/* futex word: receiver -> sender */
static atomic_uint sent;		/* sender -> receiver and main */
static atomic_bool sender_waiting;
static atomic_bool stop;
static atomic_bool rx_done;
static unsigned long tx_errors, rx_bad;
static pthread_barrier_t start;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "uring-pps: %s: %s\n", what, strerror(err));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
}

static long futex(atomic_uint *uaddr, int op, unsigned int val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* ---- sender ------------------------------------------------------------ */

static void *sender(void *arg)
{
	unsigned char *buf = malloc(cfg.size);
	unsigned int base = 0;	/* datagrams written off as lost */
	struct io_uring ring;
	int ret;

	(void)arg;
	pin(cfg.tx_cpu);
	ret = io_uring_queue_init(2 * TX_BATCH, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	memset(buf, 0xa5, cfg.size);
	pthread_barrier_wait(&start);

	while (!atomic_load(&stop)) {
		unsigned int s = atomic_load(&sent);
		unsigned int r = atomic_load(&received);
		unsigned int inflight = s - r - base, n, i, head, seen = 0;
		struct io_uring_cqe *cqe;

		if (inflight >= cfg.window) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			atomic_store(&sender_waiting, true);
			if (atomic_load(&received) == r &&
			    futex(&received, FUTEX_WAIT_PRIVATE, r, &ts) &&
			    errno == ETIMEDOUT && atomic_load(&received) == r) {
				/* nothing arrived for 20 ms: the rest is lost */
				base += inflight;
			}
			atomic_store(&sender_waiting, false);
			continue;
		}
		n = cfg.window - inflight;
		if (n > TX_BATCH)
			n = TX_BATCH;
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_send(sqe, cfg.tx_fd, buf, cfg.size, 0);
		}
		ret = io_uring_submit_and_wait(&ring, n);
		if (ret < 0 && ret != -EINTR)
			die("sender: io_uring_submit_and_wait", -ret);
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (cqe->res == (int)cfg.size)
				n++;
			else
				tx_errors++;
		}
		io_uring_cq_advance(&ring, seen);
		atomic_fetch_add(&sent, n);
	}
	io_uring_queue_exit(&ring);
	free(buf);
	return NULL;
}

/* ---- receiver ---------------------------------------------------------- */

static void *receiver(void *arg)
{
	struct io_uring_buf_reg reg = { };
	struct io_uring_buf_ring *br;
	unsigned char *bufs;
	struct io_uring ring;
	bool armed = false;
	double idle_since = 0;
	unsigned int i;
	int ret, mask = io_uring_buf_ring_mask(NBUFS);

	(void)arg;
	pin(cfg.rx_cpu);
	ret = io_uring_queue_init(64, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc((size_t)NBUFS * BUF_LEN);
	if (br == MAP_FAILED || !bufs)
		die("receiver buffers", ENOMEM);
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = NBUFS;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&ring, &reg, 0);
	if (ret)
		die("io_uring_register_buf_ring", -ret);
	io_uring_buf_ring_init(br);
	for (i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_LEN, BUF_LEN,
				      i, mask, i);
	io_uring_buf_ring_advance(br, NBUFS);
	pthread_barrier_wait(&start);

	for (;;) {
		struct __kernel_timespec ts = { 0, 50 * 1000 * 1000 };
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, got = 0, back = 0;

		if (!armed) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_recv_multishot(sqe, cfg.rx_fd, NULL, 0,
						     0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = BGID;
			armed = true;
		}
		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts,
						       NULL);
		if (ret == -ETIME || ret == -EINTR) {
			/* after stop, 200 ms of silence ends the run */
			if (atomic_load(&stop)) {
				if (!idle_since)
					idle_since = now();
				else if (now() - idle_since > 0.2)
					break;
			}
			continue;
		}
		if (ret < 0)
			die("receiver: io_uring_submit_and_wait_timeout", -ret);
		idle_since = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				armed = false;
			if (cqe->res == -ENOBUFS)
				continue;
			if (cqe->res < 0)
				die("receiver: recv", -cqe->res);
			if (cqe->res == (int)cfg.size)
				got++;
			else
				rx_bad++;
			if (cqe->flags & IORING_CQE_F_BUFFER) {
				unsigned int bid = cqe->flags >>
						   IORING_CQE_BUFFER_SHIFT;

				io_uring_buf_ring_add(br, bufs +
						      (size_t)bid * BUF_LEN,
						      BUF_LEN, bid, mask,
						      back++);
			}
		}
		io_uring_buf_ring_advance(br, back);
		io_uring_cq_advance(&ring, seen);
		if (got) {
			unsigned int r = atomic_fetch_add(&received, got) + got;

			if (atomic_load(&sender_waiting) &&
			    atomic_load(&sent) - r <= cfg.window / 2)
				futex(&received, FUTEX_WAKE_PRIVATE, 1, NULL);
		}
	}
	atomic_store(&rx_done, true);
	io_uring_queue_exit(&ring);
	return NULL;
}

static int cmd_run(void)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), buf = RCVBUF;
	unsigned int r0, r1;
	pthread_t tx, rx;
	double t0, t1;

	if (cfg.tx_fd < 0 || cfg.rx_fd < 0) {
		fprintf(stderr, "uring-pps run: --tx-fd and --rx-fd are required\n");
		return 2;
	}
	if (cfg.size > BUF_LEN || !cfg.size || cfg.window < 2) {
		fprintf(stderr, "uring-pps run: --size 1..%d, --window >= 2\n",
			BUF_LEN);
		return 2;
	}
	if (cfg.tx_cpu < 0)
		cfg.tx_cpu = 0;
	if (cfg.rx_cpu < 0)
		cfg.rx_cpu = ncpu > 1 ? 1 : 0;
	if (setsockopt(cfg.rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf,
		       sizeof(buf)))
		die("SO_RCVBUFFORCE", errno);

	pthread_barrier_init(&start, NULL, 3);
	if (pthread_create(&rx, NULL, receiver, NULL) ||
	    pthread_create(&tx, NULL, sender, NULL))
		die("pthread_create", EAGAIN);
	pthread_barrier_wait(&start);

	sleep_s(cfg.warmup);
	r0 = atomic_load(&received);
	t0 = now();
	sleep_s(cfg.secs);
	r1 = atomic_load(&received);
	t1 = now();
	atomic_store(&stop, true);
	futex(&received, FUTEX_WAKE_PRIVATE, 1, NULL);
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);

	printf("rate %.0f sent %u received %u lost %d bad %lu txerr %lu secs %.3f\n",
	       (r1 - r0) / (t1 - t0), atomic_load(&sent),
	       atomic_load(&received),
	       (int)(atomic_load(&sent) - atomic_load(&received)),
	       rx_bad, tx_errors, t1 - t0);
	return 0;
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

	pin(a->cpu);
	for (k = 0; k < 3; k++) {
		volatile uint64_t sink;
		uint64_t x = 88172645463325252ULL;
		unsigned long i;
		double t = now();

		for (i = 0; i < idle_iters; i++) {	/* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		sink = x;
		(void)sink;
		a->ms[k] = (now() - t) * 1e3;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmd_idle(void)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct idle_arg *a = calloc(ncpu, sizeof(*a));
	pthread_t *t = calloc(ncpu, sizeof(*t));
	double worst = 0;

	for (i = 0; i < ncpu; i++) {
		a[i].cpu = i;
		if (pthread_create(&t[i], NULL, idle_loop, &a[i]))
			die("pthread_create", EAGAIN);
	}
	for (i = 0; i < ncpu; i++) {
		pthread_join(t[i], NULL);
		qsort(a[i].ms, 3, sizeof(double), cmp_double);
		if (a[i].ms[1] > worst)
			worst = a[i].ms[1];
	}
	printf("%.1f\n", worst);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: uring-pps run --tx-fd N --rx-fd M [--size B] [--secs S] [--warmup S]\n"
"                     [--window W] [--tx-cpu C] [--rx-cpu C]\n"
"       uring-pps idle [--iters N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tx-fd",	required_argument, NULL, 't' },
		{ "rx-fd",	required_argument, NULL, 'r' },
		{ "size",	required_argument, NULL, 's' },
		{ "secs",	required_argument, NULL, 'd' },
		{ "warmup",	required_argument, NULL, 'w' },
		{ "window",	required_argument, NULL, 'W' },
		{ "tx-cpu",	required_argument, NULL, 'T' },
		{ "rx-cpu",	required_argument, NULL, 'R' },
		{ "iters",	required_argument, NULL, 'i' },
		{ }
	};
	bool run;
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
		case 't': cfg.tx_fd = atoi(optarg); break;
		case 'r': cfg.rx_fd = atoi(optarg); break;
		case 's': cfg.size = strtoul(optarg, NULL, 0); break;
		case 'd': cfg.secs = atof(optarg); break;
		case 'w': cfg.warmup = atof(optarg); break;
		case 'W': cfg.window = strtoul(optarg, NULL, 0); break;
		case 'T': cfg.tx_cpu = atoi(optarg); break;
		case 'R': cfg.rx_cpu = atoi(optarg); break;
		case 'i': idle_iters = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run ? cmd_run() : cmd_idle();
}
