// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: one timerfd for every deadline of the daemon.
 *
 * A binary min-heap of struct kd_timer (embedded in their owners) ordered
 * by deadline; the timerfd is armed (absolute, CLOCK_MONOTONIC) for the
 * root (or for an earlier deadline, see rearm()).  Arm, cancel and re-arm
 * are O(log n), so thousands of concurrent handshakes with their
 * retransmission deadlines cost one fd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "kdtlsd.h"

static struct {
	int fd;
	struct kd_timer **heap;
	size_t n, cap;
	uint64_t armed;		/* deadline the timerfd holds, 0 none;
				 * never later than the root's */
} tm = { .fd = -1 };

uint64_t kd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kd_timer_init(void)
{
	tm.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return tm.fd < 0 ? -errno : 0;
}

int kd_timer_fd(void)
{
	return tm.fd;
}

size_t kd_timer_count(void)
{
	return tm.n;
}

/*
 * The timerfd only ever moves earlier: when the root's deadline is later
 * than the armed one (its timer was cancelled or re-armed later, as every
 * handshake's retransmission timer is after each flight) the timerfd stays
 * as it is, fires early once, and kd_timer_run() arms it for the root then.
 * One spurious wakeup instead of a timerfd_settime() per cancel and per
 * re-arm (about seven per handshake).
 */
static void rearm(void)
{
	struct itimerspec its = { 0 };
	uint64_t when = tm.n ? tm.heap[0]->when_ms : 0;

	if (!when || (tm.armed && tm.armed <= when))
		return;
	tm.armed = when;
	its.it_value.tv_sec = when / 1000;
	its.it_value.tv_nsec = (when % 1000) * 1000000;
	timerfd_settime(tm.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void place(size_t i, struct kd_timer *t)
{
	tm.heap[i] = t;
	t->idx = i;
}

static void sift_up(size_t i)
{
	struct kd_timer *t = tm.heap[i];

	while (i) {
		size_t p = (i - 1) / 2;

		if (tm.heap[p]->when_ms <= t->when_ms)
			break;
		place(i, tm.heap[p]);
		i = p;
	}
	place(i, t);
}

static void sift_down(size_t i)
{
	struct kd_timer *t = tm.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= tm.n)
			break;
		if (c + 1 < tm.n && tm.heap[c + 1]->when_ms < tm.heap[c]->when_ms)
			c++;
		if (tm.heap[c]->when_ms >= t->when_ms)
			break;
		place(i, tm.heap[c]);
		i = c;
	}
	place(i, t);
}

static void heap_remove(struct kd_timer *t)
{
	size_t i = t->idx;
	struct kd_timer *last = tm.heap[--tm.n];

	t->idx = -1;
	if (i == tm.n)
		return;
	place(i, last);
	sift_down(i);
	sift_up(last->idx);
}

void kd_timer_cancel(struct kd_timer *t)
{
	if (t->idx < 0)
		return;
	heap_remove(t);
	rearm();
}

/* (Re)arm @t; a deadline of 0 is moved to 1 (0 means "not armed"). */
void kd_timer_arm(struct kd_timer *t, uint64_t when_ms)
{
	if (!when_ms)
		when_ms = 1;
	if (t->idx >= 0)
		heap_remove(t);
	if (tm.n == tm.cap) {
		size_t cap = tm.cap ? tm.cap * 2 : 64;
		void *h = realloc(tm.heap, cap * sizeof(*tm.heap));

		if (!h) {
			kd_err("timer: out of memory");
			abort();	/* a lost deadline would leak a handshake */
		}
		tm.heap = h;
		tm.cap = cap;
	}
	t->when_ms = when_ms;
	place(tm.n++, t);
	sift_up(tm.n - 1);
	rearm();
}

void kd_timer_run(void)
{
	uint64_t exp, now;

	if (read(tm.fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		kd_warn("timerfd read: %s", strerror(errno));
	tm.armed = 0;
	now = kd_now_ms();
	while (tm.n && tm.heap[0]->when_ms <= now) {
		struct kd_timer *t = tm.heap[0];

		heap_remove(t);
		t->fn(t);	/* may arm or cancel any timer, itself too */
	}
	rearm();
}
