// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket scratch buffers for the data path.
 *
 * A record is sealed into a buffer and then copied into the skb by UDP's
 * own sendmsg, and opened in place with an AEAD request that needs a few
 * hundred bytes of state.  Allocating both per record costs more than the
 * crypto of a small record, and a 64 KiB GSO batch is an order-4 page
 * allocation.  So each socket keeps one buffer per direction, grown to the
 * largest size used and freed with the socket.  A thread that finds the
 * buffer busy (two threads sending on one socket) allocates a buffer of its
 * own for that call: the uncontended path never allocates and the
 * contended one never waits.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include "scratch.h"

/**
 * kdtls_scratch_init() - an empty scratch buffer
 * @s: buffer
 */
void kdtls_scratch_init(struct kdtls_scratch *s)
{
	mutex_init(&s->lock);
	s->buf = NULL;
	s->size = 0;
}

/**
 * kdtls_scratch_destroy() - free a scratch buffer (it held cipher state)
 * @s: buffer, not in use
 */
void kdtls_scratch_destroy(struct kdtls_scratch *s)
{
	kfree_sensitive(s->buf);
	s->buf = NULL;
	s->size = 0;
	mutex_destroy(&s->lock);
}

/**
 * kdtls_scratch_get() - at least @size bytes of scratch for one call
 * @s: the socket's buffer for this direction
 * @size: bytes needed
 * @gfp: allocation flags, should include __GFP_ACCOUNT
 * @ref: set to the buffer handed out
 *
 * Return: 0, or -ENOBUFS when no memory could be had.
 */
int kdtls_scratch_get(struct kdtls_scratch *s, size_t size, gfp_t gfp,
		      struct kdtls_scratch_ref *ref)
{
	void *buf;

	if (mutex_trylock(&s->lock)) {
		if (s->size < size) {
			size = kmalloc_size_roundup(size);
			buf = kmalloc(size, gfp | __GFP_NOWARN);
			if (!buf) {
				mutex_unlock(&s->lock);
				return -ENOBUFS;
			}
			kfree_sensitive(s->buf);
			s->buf = buf;
			s->size = size;
		}
		ref->s = s;
		ref->buf = s->buf;
		ref->size = s->size;
		return 0;
	}

	/* contended: a one-off buffer, never worth a compaction stall */
	buf = kmalloc(size, gfp | __GFP_NOWARN | __GFP_NORETRY);
	if (!buf)
		return -ENOBUFS;
	ref->s = NULL;
	ref->buf = buf;
	ref->size = size;
	return 0;
}

/**
 * kdtls_scratch_put() - give back what kdtls_scratch_get() handed out
 * @ref: the buffer
 */
void kdtls_scratch_put(struct kdtls_scratch_ref *ref)
{
	if (ref->s)
		mutex_unlock(&ref->s->lock);
	else
		kfree_sensitive(ref->buf);
}
