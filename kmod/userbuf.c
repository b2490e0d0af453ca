// SPDX-License-Identifier: GPL-2.0
/*
 * The application's buffer, pinned for one GSO send or GRO read: see
 * userbuf.h.
 */
#include <linux/mm.h>
#include "userbuf.h"

/**
 * kdtls_userbuf_pin() - pin the first bytes of an iterator
 * @ub: the pinned buffer; @ub->len is 0 when nothing could be pinned
 * @iter: a user-backed iterator (anything else is left alone)
 * @want: how many bytes at most
 *
 * Pins at most KDTLS_USERBUF_PAGES pages, and only up to the end of the
 * first iovec.  @iter advances past what was pinned.
 */
void kdtls_userbuf_pin(struct kdtls_userbuf *ub, struct iov_iter *iter,
		       size_t want)
{
	ssize_t n;

	ub->len = 0;
	ub->used = 0;
	if (!want || !user_backed_iter(iter))
		return;
	n = iov_iter_get_pages2(iter, ub->pages, want, KDTLS_USERBUF_PAGES,
				&ub->start);
	if (n <= 0)
		return;
	ub->len = n;
	ub->npages = DIV_ROUND_UP(ub->start + n, PAGE_SIZE);
}

/**
 * kdtls_userbuf_map() - map the next bytes of a pinned buffer
 * @ub: the pinned buffer
 * @len: how many
 *
 * Fills @ub->sg[1..] (entry 0 is left for the AAD) with the @len bytes
 * after the @ub->used ones; the caller adds @len to @ub->used once it
 * keeps them.
 *
 * Return: false when they are not all pinned or need more than
 * KDTLS_USERBUF_SG pieces.
 */
bool kdtls_userbuf_map(struct kdtls_userbuf *ub, size_t len)
{
	size_t off = ub->start + ub->used, c;
	unsigned int n = 1;

	if (ub->used + len > ub->len)
		return false;
	sg_init_table(ub->sg, ARRAY_SIZE(ub->sg));
	while (len) {
		if (n == ARRAY_SIZE(ub->sg))
			return false;
		c = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		sg_set_page(&ub->sg[n++], ub->pages[off >> PAGE_SHIFT], c,
			    offset_in_page(off));
		off += c;
		len -= c;
	}
	sg_mark_end(&ub->sg[n - 1]);
	return true;
}

/**
 * kdtls_userbuf_release() - unpin, the iterator after the used bytes
 * @ub: the pinned buffer (nothing happens when nothing is pinned)
 * @iter: the iterator it was pinned from
 * @written: the used bytes were written (a read): mark their pages dirty
 */
void kdtls_userbuf_release(struct kdtls_userbuf *ub, struct iov_iter *iter,
			   bool written)
{
	unsigned int i, touched = DIV_ROUND_UP(ub->start + ub->used, PAGE_SIZE);

	if (!ub->len)
		return;
	iov_iter_revert(iter, ub->len - ub->used);
	for (i = 0; i < ub->npages; i++) {
		if (written && ub->used && i < touched)
			set_page_dirty_lock(ub->pages[i]);
		put_page(ub->pages[i]);
	}
	ub->len = 0;
}
