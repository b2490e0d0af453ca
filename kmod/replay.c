// SPDX-License-Identifier: GPL-2.0
/*
 * Anti-replay window (RFC 6347 §4.1.2.6, RFC 4303 §3.4.3).
 *
 * kdtls_replay_check() runs before decryption and only reads, so a forged
 * record cannot move the window; kdtls_replay_update() runs after the tag
 * verified, and checks again, because two readers may have opened the same
 * record concurrently: only the first one to update wins.
 *
 * Pure code: built into kdtls.ko and into the host unit tests.
 */
#include "replay.h"

#define WORD(r, seq)	(((seq) % (r)->size) / BITS_PER_LONG)
#define BIT_OF(seq)	(1UL << ((seq) % BITS_PER_LONG))

/**
 * kdtls_replay_round() - the window actually used for a requested size
 * @window: requested size in records, 1 to KDTLS_REPLAY_BITS_MAX
 *
 * Return: @window rounded up to a multiple of BITS_PER_LONG.
 */
u32 kdtls_replay_round(u32 window)
{
	if (window > KDTLS_REPLAY_BITS_MAX)
		window = KDTLS_REPLAY_BITS_MAX;
	if (window < BITS_PER_LONG)
		window = BITS_PER_LONG;
	return (window + BITS_PER_LONG - 1) / BITS_PER_LONG * BITS_PER_LONG;
}

/**
 * kdtls_replay_init() - an empty window
 * @r: window
 * @window: size in records (rounded with kdtls_replay_round())
 * @floor: lowest sequence number to accept
 */
void kdtls_replay_init(struct kdtls_replay *r, u32 window, u64 floor)
{
	memset(r, 0, sizeof(*r));
	r->size = kdtls_replay_round(window);
	r->floor = floor;
}

/**
 * kdtls_replay_check() - may a record with this sequence number be opened?
 * @r: window
 * @seq: the record's sequence number
 *
 * Return: false if @seq is below the floor, older than the window, or was
 * already received.
 */
bool kdtls_replay_check(const struct kdtls_replay *r, u64 seq)
{
	if (seq < r->floor)
		return false;
	if (!r->any || seq > r->top)
		return true;
	if (r->top - seq >= r->size)
		return false;
	return !(r->bits[WORD(r, seq)] & BIT_OF(seq));
}

/**
 * kdtls_replay_update() - record that @seq was received and authenticated
 * @r: window
 * @seq: the record's sequence number
 *
 * Return: false if @seq is no longer acceptable (a concurrent reader got
 * there first); the caller then drops the record as a replay.
 */
bool kdtls_replay_update(struct kdtls_replay *r, u64 seq)
{
	u64 s;

	if (!kdtls_replay_check(r, seq))
		return false;

	if (!r->any) {
		r->any = true;
		r->top = seq;
		memset(r->bits, 0, sizeof(r->bits));
	} else if (seq > r->top) {
		/* clear the bits of the sequence numbers we skip over */
		if (seq - r->top >= r->size) {
			memset(r->bits, 0, sizeof(r->bits));
		} else {
			for (s = r->top + 1; s < seq; s++)
				r->bits[WORD(r, s)] &= ~BIT_OF(s);
		}
		r->top = seq;
	}
	r->bits[WORD(r, seq)] |= BIT_OF(seq);
	return true;
}
