/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_USERBUF_H
#define _KDTLS_USERBUF_H

#include <linux/ip.h>
#include <linux/scatterlist.h>
#include <linux/uio.h>

/*
 * The application's buffer, pinned for one batch so that the AEAD reads a
 * GSO send's plaintext from it, or writes a GRO read's plaintext into it,
 * as kTLS does: the data is touched once, by the AEAD, instead of also
 * being copied through the socket's scratch buffer.  Only for buffers in
 * user memory (iov_iter_get_pages2() takes a page reference each).
 *
 * While pinned, the iterator stands after the pinned bytes;
 * kdtls_userbuf_release() puts it back after the @used ones, so the caller
 * can go on with the iterator from there (copying) at any point.
 */
#define KDTLS_USERBUF_PAGES	(DIV_ROUND_UP(IP_MAX_MTU, PAGE_SIZE) + 1)
#define KDTLS_USERBUF_SG	5	/* pieces of one record's plaintext */

struct kdtls_userbuf {
	struct page *pages[KDTLS_USERBUF_PAGES];
	size_t start;		/* offset of the first byte in pages[0] */
	size_t len;		/* bytes pinned; 0: nothing is */
	size_t used;		/* bytes consumed (mapped and kept) */
	unsigned int npages;
	struct scatterlist sg[1 + KDTLS_USERBUF_SG];	/* AAD, plaintext */
};

void kdtls_userbuf_pin(struct kdtls_userbuf *ub, struct iov_iter *iter,
		       size_t want);
bool kdtls_userbuf_map(struct kdtls_userbuf *ub, size_t len);
void kdtls_userbuf_release(struct kdtls_userbuf *ub, struct iov_iter *iter,
			   bool written);

#endif /* _KDTLS_USERBUF_H */
