// SPDX-License-Identifier: GPL-2.0
/*
 * flow -- threads, pinning, flow control and timing shared by the
 * throughput programs of `make bench`; see flow.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"

#define WAIT_SLICE_NS	(20 * 1000 * 1000)
#define LOST_AFTER_NS	(200 * 1000 * 1000)
#define RX_QUIET_S	0.2
#define SLICE_S		0.1
#define SLICES_MAX	1000

struct flow_cfg flow = {
	.size = 1200, .window = 2048, .tx_cpu = -1, .rx_cpu = -1,
	.secs = 2.0, .warmup = 0.3,
};

static atomic_uint received;		/* futex word: receiver -> sender */
static atomic_uint sent;		/* sender -> receiver and main */
static atomic_bool sender_waiting;
static atomic_bool stop;
static atomic_ulong tx_errors, rx_bad;
static unsigned int lost_base;		/* sender only: written off as lost */
static unsigned int write_offs;		/* sender only: times it did */
static double rx_idle_since;		/* receiver only */
static pthread_barrier_t start;

void flow_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(err));
	exit(1);
}

double flow_now(void)
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

void flow_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		flow_die("sched_setaffinity", errno);
}

static long futex(atomic_uint *uaddr, int op, unsigned int val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* ---- sender ------------------------------------------------------------ */

unsigned int flow_room(unsigned int unit)
{
	long quiet_ns = 0;

	while (!atomic_load(&stop)) {
		unsigned int s = atomic_load(&sent);
		unsigned int r = atomic_load(&received);
		int inflight = (int)(s - r - lost_base);
		struct timespec ts = { 0, WAIT_SLICE_NS };

		if (inflight < 0) {
			/* written off too early: they arrived after all */
			lost_base += inflight;
			inflight = 0;
		}
		if (inflight + unit <= flow.window)
			return (flow.window - inflight) / unit * unit;
		atomic_store(&sender_waiting, true);
		if (atomic_load(&received) == r &&
		    futex(&received, FUTEX_WAIT_PRIVATE, r, &ts) &&
		    errno == ETIMEDOUT && atomic_load(&received) == r) {
			quiet_ns += WAIT_SLICE_NS;
			if (quiet_ns >= LOST_AFTER_NS) {
				/* nothing arrived for 200 ms: the rest is lost */
				lost_base += inflight;
				write_offs++;
				quiet_ns = 0;
			}
		} else {
			quiet_ns = 0;
		}
		atomic_store(&sender_waiting, false);
	}
	return 0;
}

void flow_sent(unsigned int n)
{
	atomic_fetch_add(&sent, n);
}

void flow_tx_error(void)
{
	atomic_fetch_add(&tx_errors, 1);
}

bool flow_stopped(void)
{
	return atomic_load(&stop);
}

/* ---- receiver ---------------------------------------------------------- */

void flow_received(unsigned int n, unsigned int bad)
{
	unsigned int r;

	if (bad)
		atomic_fetch_add(&rx_bad, bad);
	if (!n)
		return;
	r = atomic_fetch_add(&received, n) + n;
	if (atomic_load(&sender_waiting) &&
	    atomic_load(&sent) - r <= flow.window / 2)
		futex(&received, FUTEX_WAKE_PRIVATE, 1, NULL);
}

bool flow_rx_done(bool idle)
{
	if (!idle || !atomic_load(&stop)) {
		rx_idle_since = 0;
		return false;
	}
	if (!rx_idle_since)
		rx_idle_since = flow_now();
	return flow_now() - rx_idle_since > RX_QUIET_S;
}

/* ---- main -------------------------------------------------------------- */

void flow_ready(void)
{
	pthread_barrier_wait(&start);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * measure: count the receiver's records over flow.secs from now in slices
 * of SLICE_S, and print the slowest, median and fastest slice on a '#'
 * line.  A host that takes the CPU away for part of a run shows as slow
 * slices between fast ones, which the idle checks around the run miss.
 * The last slice counts only when it is at least half as long.
 */
static void measure(unsigned int *r0, double *t0, unsigned int *r1, double *t1)
{
	static double rate[SLICES_MAX];
	unsigned int r = atomic_load(&received);
	double t = flow_now(), end = t + flow.secs;
	int n = 0;

	*r0 = r;
	*t0 = t;
	while (t < end) {
		unsigned int rn;
		double tn;

		sleep_s(end - t < SLICE_S ? end - t : SLICE_S);
		rn = atomic_load(&received);
		tn = flow_now();
		if (tn - t >= SLICE_S / 2 && n < SLICES_MAX)
			rate[n++] = (rn - r) / (tn - t);
		r = rn;
		t = tn;
	}
	*r1 = r;
	*t1 = t;
	if (!n)
		return;
	qsort(rate, n, sizeof(rate[0]), cmp_double);
	printf("# slices %d of %.0f ms: slowest %.0f median %.0f fastest %.0f /s\n",
	       n, SLICE_S * 1000, rate[0], rate[n / 2], rate[n - 1]);
}

int flow_run(void *(*sender)(void *), void *(*receiver)(void *), void *arg)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int r0, r1;
	pthread_t tx, rx;
	double t0, t1;

	if (flow.size < 1 || flow.window < 2 || flow.secs <= 0 ||
	    flow.warmup < 0) {
		fprintf(stderr, "%s: --size >= 1, --window >= 2, --secs > 0, --warmup >= 0\n",
			program_invocation_short_name);
		return 2;
	}
	if (flow.tx_cpu < 0)
		flow.tx_cpu = 0;
	if (flow.rx_cpu < 0)
		flow.rx_cpu = ncpu > 1 ? 1 : 0;
	if (flow.tx_cpu >= ncpu || flow.rx_cpu >= ncpu) {
		fprintf(stderr, "%s: --tx-cpu and --rx-cpu below %d\n",
			program_invocation_short_name, ncpu);
		return 2;
	}

	pthread_barrier_init(&start, NULL, 3);
	if (pthread_create(&rx, NULL, receiver, arg) ||
	    pthread_create(&tx, NULL, sender, arg))
		flow_die("pthread_create", EAGAIN);
	pthread_barrier_wait(&start);

	sleep_s(flow.warmup);
	measure(&r0, &t0, &r1, &t1);
	atomic_store(&stop, true);
	futex(&received, FUTEX_WAKE_PRIVATE, 1, NULL);
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);

	if (write_offs)
		printf("# the sender wrote records off as lost %u times\n",
		       write_offs);

	printf("rate %.0f sent %u received %u lost %d bad %lu txerr %lu secs %.3f\n",
	       (r1 - r0) / (t1 - t0), atomic_load(&sent),
	       atomic_load(&received),
	       (int)(atomic_load(&sent) - atomic_load(&received)),
	       atomic_load(&rx_bad), atomic_load(&tx_errors), t1 - t0);
	return 0;
}

/* ---- options ----------------------------------------------------------- */

static double parse_double(const char *name, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end) {
		fprintf(stderr, "%s: %s: not a number: '%s'\n",
			program_invocation_short_name, name, arg);
		exit(2);
	}
	return v;
}

static long parse_long(const char *name, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < 0 || v > 1 << 30) {
		fprintf(stderr, "%s: %s: not a count: '%s'\n",
			program_invocation_short_name, name, arg);
		exit(2);
	}
	return v;
}

bool flow_option(int opt, const char *arg)
{
	switch (opt) {
	case 0x100: flow.size = parse_long("--size", arg); break;
	case 0x101: flow.secs = parse_double("--secs", arg); break;
	case 0x102: flow.warmup = parse_double("--warmup", arg); break;
	case 0x103: flow.window = parse_long("--window", arg); break;
	case 0x104: flow.tx_cpu = parse_long("--tx-cpu", arg); break;
	case 0x105: flow.rx_cpu = parse_long("--rx-cpu", arg); break;
	default: return false;
	}
	return true;
}
