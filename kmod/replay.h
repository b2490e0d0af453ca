/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Anti-replay window for one receive epoch (RFC 6347 §4.1.2.6).  Pure code:
 * the caller provides the locking.
 */
#ifndef _KDTLS_REPLAY_H
#define _KDTLS_REPLAY_H

#include "pure.h"

#define KDTLS_REPLAY_BITS_MAX	1024
#define KDTLS_REPLAY_WORDS	(KDTLS_REPLAY_BITS_MAX / BITS_PER_LONG)

/*
 * A ring of @size bits; bit (seq % size) says whether seq was received, for
 * seq in (top - size, top].  Sequence numbers below @floor were never
 * acceptable (they were consumed before the key reached the kernel).
 */
struct kdtls_replay {
	u64 top;		/* highest sequence number accepted */
	u64 floor;		/* lowest sequence number accepted */
	u32 size;		/* window in records, multiple of BITS_PER_LONG */
	bool any;		/* a record was accepted (top is valid) */
	unsigned long bits[KDTLS_REPLAY_WORDS];
};

u32 kdtls_replay_round(u32 window);
void kdtls_replay_init(struct kdtls_replay *r, u32 window, u64 floor);
bool kdtls_replay_check(const struct kdtls_replay *r, u64 seq);
bool kdtls_replay_update(struct kdtls_replay *r, u64 seq);

#endif /* _KDTLS_REPLAY_H */
