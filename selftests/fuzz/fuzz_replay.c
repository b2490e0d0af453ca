// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the anti-replay window of kmod/replay.c (the module's
 * own file, unchanged) against a trivially correct reference model: the
 * list of every sequence number ever accepted.
 *
 * Input: bytes 0-1 the requested window (any u16: clamped by the code under
 * test), bytes 2-7 the floor (48 bits, scaled down so that it matters),
 * then operations of 4 bytes: op (bit 0: update rather than check; bits
 * 1-3: how the sequence number is made) and a 24-bit operand.  Sequence
 * numbers are 48 bits, as on the wire; some are made near the top of the
 * window, its far edge, the floor and 2^48 - 1.
 *
 * The model: a record may be opened iff seq >= floor and either nothing was
 * accepted yet, or seq > the highest accepted, or (highest - seq < size and
 * seq was never accepted), where size is the window rounded up to a
 * multiple of BITS_PER_LONG within [BITS_PER_LONG, 1024].  check() must
 * agree with the model; update() must agree and, when true, add seq.
 */
#include <stdio.h>
#include <stdlib.h>

#include "replay.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define SEQ_MAX		((1ULL << 48) - 1)
#define MAX_OPS		4096

struct model {
	uint64_t floor, top, size;
	bool any;
	uint64_t seen[MAX_OPS];
	size_t n;
};

static bool model_ok(const struct model *m, uint64_t seq)
{
	size_t i;

	if (seq < m->floor)
		return false;
	if (!m->any || seq > m->top)
		return true;
	if (m->top - seq >= m->size)
		return false;
	for (i = 0; i < m->n; i++)
		if (m->seen[i] == seq)
			return false;
	return true;
}

static void model_add(struct model *m, uint64_t seq)
{
	if (!m->any || seq > m->top)
		m->top = seq;
	m->any = true;
	m->seen[m->n++] = seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t len)
{
	static struct kdtls_replay r;
	static struct model m;
	uint32_t window, want_size;
	uint64_t floor = 0, seq, arg;
	size_t off, i;

	if (len < 8)
		return 0;
	window = (uint32_t)(d[0] << 8 | d[1]);
	for (i = 2; i < 8; i++)
		floor = floor << 8 | d[i];
	/* mostly small floors, sometimes huge ones */
	if (!(d[2] & 0x80))
		floor &= 0xfff;

	want_size = window > 1024 ? 1024 : window < BITS_PER_LONG ?
		    BITS_PER_LONG : window;
	want_size = (want_size + BITS_PER_LONG - 1) / BITS_PER_LONG *
		    BITS_PER_LONG;
	CHECK(kdtls_replay_round(window) == want_size);

	kdtls_replay_init(&r, window, floor);
	CHECK(r.size == want_size);
	memset(&m, 0, sizeof(m));
	m.floor = floor;
	m.size = want_size;

	for (off = 8; off + 4 <= len && m.n < MAX_OPS; off += 4) {
		bool upd = d[off] & 1, got, want;

		arg = (uint64_t)d[off + 1] << 16 | d[off + 2] << 8 | d[off + 3];
		switch ((d[off] >> 1) & 7) {
		case 0:		/* absolute, small */
			seq = arg;
			break;
		case 1:		/* ahead of the top */
			seq = m.top + (arg & 0xffff);
			break;
		case 2:		/* behind the top, around the window */
			seq = m.top - (arg % (2 * m.size + 2));
			break;
		case 3:		/* around the far edge of the window */
			seq = m.top - m.size + (arg % 5) - 2;
			break;
		case 4:		/* around the floor */
			seq = floor + (arg % 5) - 2;
			break;
		case 5:		/* near 2^48 - 1 */
			seq = SEQ_MAX - (arg & 0xff);
			break;
		case 6:		/* a large jump */
			seq = m.top + (arg << 16);
			break;
		default:	/* absolute, 48 bits from operand and floor */
			seq = (arg << 24 | (floor & 0xffffff));
			break;
		}
		seq &= SEQ_MAX;

		want = model_ok(&m, seq);
		if (upd) {
			got = kdtls_replay_update(&r, seq);
			if (want)
				model_add(&m, seq);
		} else {
			got = kdtls_replay_check(&r, seq);
		}
		if (got != want)
			fprintf(stderr, "%s(%llu) = %d, model %d (top %llu, size %llu, floor %llu)\n",
				upd ? "update" : "check",
				(unsigned long long)seq, got, want,
				(unsigned long long)m.top,
				(unsigned long long)m.size,
				(unsigned long long)m.floor);
		CHECK(got == want);
		if (m.any) {
			CHECK(r.any);
			CHECK(r.top == m.top);
		}
		/* an update that succeeded cannot succeed twice */
		if (upd && got)
			CHECK(!kdtls_replay_check(&r, seq));
	}
	return 0;
}
