/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow -- the sender/receiver harness that every throughput program of
 * `make bench` shares (uring-pps, ossl-dtls), so that they measure with the
 * same threads, pinning, flow control and timing:
 *
 *   sender thread   pinned to flow.tx_cpu (0), sends records while the
 *                   window has room: flow_room() before, flow_sent() after
 *   receiver thread pinned to flow.rx_cpu (1, or 0 with one CPU), counts
 *                   what arrived with flow_received(), leaves when
 *                   flow_rx_done() says so
 *   main            flow_run(): starts both, waits until they are ready,
 *                   warms up, counts the receiver's records over flow.secs,
 *                   stops, joins and prints the one result line
 *
 *   rate R sent N received N lost N bad N txerr N secs T
 *
 * after a line with the receiver's slowest, median and fastest 0.1 s of the
 * measured time, which shows a host that took the CPU away for part of it:
 *
 *   # slices N of 100 ms: slowest R median R fastest R /s
 *
 * Flow control: at most flow.window records in flight (sent and not yet
 * received).  A full window puts the sender to sleep on a futex, which the
 * receiver wakes once half of it has drained; when nothing has arrived for
 * 200 ms, what is in flight leaves the window as lost (the sender says how
 * often on a '#' line), and records written off that arrive after all come
 * back into it.  Until 2026-11-27 that was 20 ms with no way back: a
 * receiver busy in the kernel for longer (a multishot receive draining a
 * fast queue, see uring-pps.c) got its records written off, and when it
 * reported them the window went negative, which stalled both threads for
 * another 20 ms each time.  Without flow control a sender that outruns the
 * receiver would spend its time sealing records that the receive queue then
 * drops, and the rate would measure the scheduler, not the data path.
 * Too small a window throttles instead: with GSO batches of 20 records, 256
 * records in flight left the sender asleep a fifth of the time, and kdtls
 * with GSO and GRO ran 8 % slower than with 4096 in a quiet boot
 * (2026-11-27).  2048 keeps the sender busy and still fits the receive
 * buffer (see uring-pps.c); 4096 did not.
 */
#ifndef _BENCH_FLOW_H
#define _BENCH_FLOW_H

#include <stdbool.h>

struct flow_cfg {
	unsigned int size;	/* plaintext bytes per record (1200) */
	unsigned int window;	/* records in flight (2048) */
	int tx_cpu, rx_cpu;	/* -1: 0 and 1 (0 with one CPU) */
	double secs;		/* measured time (2 s) */
	double warmup;		/* before it (0.3 s) */
};

extern struct flow_cfg flow;

/* exit(1) with "PROG: WHAT: strerror(ERR)" */
void flow_die(const char *what, int err) __attribute__((noreturn));
void flow_pin(int cpu);
double flow_now(void);

/*
 * Sender: wait until at least @unit records fit in the window and return
 * how many do (a multiple of @unit), or 0 once the run is over.
 */
unsigned int flow_room(unsigned int unit);
void flow_sent(unsigned int n);
void flow_tx_error(void);
bool flow_stopped(void);

/* Receiver: @n good records, @bad ones that were not what was sent */
void flow_received(unsigned int n, unsigned int bad);
/*
 * Receiver, after a wait that returned nothing (@idle) or something: true
 * once the run is over and the socket has been quiet for 200 ms.
 */
bool flow_rx_done(bool idle);

/*
 * Each thread, once set up (pinned, sockets ready, handshake done): wait
 * for the other one and for main.
 */
void flow_ready(void);

/* The whole run; prints the result line.  Return: 0, or 2 on a bad flow. */
int flow_run(void *(*sender)(void *), void *(*receiver)(void *), void *arg);

/* Option parsing: the common options, in getopt_long's table */
#define FLOW_OPTIONS \
	{ "size",	required_argument, NULL, 0x100 }, \
	{ "secs",	required_argument, NULL, 0x101 }, \
	{ "warmup",	required_argument, NULL, 0x102 }, \
	{ "window",	required_argument, NULL, 0x103 }, \
	{ "tx-cpu",	required_argument, NULL, 0x104 }, \
	{ "rx-cpu",	required_argument, NULL, 0x105 }
#define FLOW_USAGE \
	"[--size B] [--secs S] [--warmup S] [--window W] [--tx-cpu C] [--rx-cpu C]"
/* Return: true when @opt was one of FLOW_OPTIONS (exits on a bad value) */
bool flow_option(int opt, const char *arg);

#endif
