/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_SCRATCH_H
#define _KDTLS_SCRATCH_H

#include <linux/mutex.h>
#include <linux/types.h>

/*
 * A buffer kept by a socket for one direction of its data path (the AEAD
 * request and, on send, the sealed records), so that sealing and opening
 * do not allocate per record.  It is used under @lock, taken with a
 * trylock: a second thread sending (or reading) on the same socket at the
 * same moment gets a buffer of its own instead of waiting.
 */
struct kdtls_scratch {
	struct mutex lock;
	void *buf;
	size_t size;
};

/* what kdtls_scratch_get() handed out: put it back with kdtls_scratch_put() */
struct kdtls_scratch_ref {
	struct kdtls_scratch *s;	/* NULL: @buf is a one-off allocation */
	void *buf;
	size_t size;
};

void kdtls_scratch_init(struct kdtls_scratch *s);
void kdtls_scratch_destroy(struct kdtls_scratch *s);
int kdtls_scratch_get(struct kdtls_scratch *s, size_t size, gfp_t gfp,
		      struct kdtls_scratch_ref *ref);
void kdtls_scratch_put(struct kdtls_scratch_ref *ref);

#endif /* _KDTLS_SCRATCH_H */
