/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_CRYPTO_H
#define _KDTLS_CRYPTO_H

#include <linux/refcount.h>
#include <linux/workqueue.h>
#include <linux/uio.h>
#include "record.h"
#include "replay.h"

struct crypto_aead;
struct scatterlist;
struct sk_buff;

extern struct workqueue_struct *kdtls_wq;

/*
 * The key of one epoch in one direction.  Immutable once published except
 * for @next_seq (TX, atomic) and @replay (RX, under the association's lock).
 *
 * Lifetime: the association's slot holds one reference; the data path takes
 * one for the length of a seal or open, because the AEAD call may sleep.
 * The last kdtls_key_put() queues an rcu_work, so RCU readers that found
 * the key in a slot (kdtls_classify's epoch list) are done before the
 * transform is freed and the salt wiped.
 */
struct kdtls_key {
	refcount_t refcnt;
	struct crypto_aead *tfm;
	const struct kdtls_cipher_info *ci;
	u16 epoch;
	u8 salt[KDTLS_NONCE_LEN];
	atomic64_t next_seq;		/* TX only */
	unsigned long expires;		/* RX previous epoch: jiffies */
	struct kdtls_replay replay;	/* RX only */
	struct rcu_work free_work;
};

struct kdtls_key *kdtls_key_new(const struct kdtls_cipher_info *ci,
				const u8 *key, const u8 *salt, u16 epoch,
				u64 seq, u32 window, gfp_t gfp);
void kdtls_key_put(struct kdtls_key *k);

static inline bool kdtls_key_hold(struct kdtls_key *k)
{
	return refcount_inc_not_zero(&k->refcnt);
}

size_t kdtls_aead_ctx_size(const struct kdtls_key *k);
int kdtls_seal(struct kdtls_key *k, u8 type, u64 seq, struct iov_iter *from,
	       struct scatterlist *src, size_t len, u8 *out, void *scratch);
int kdtls_open(struct kdtls_key *k, const struct kdtls_hdr *hdr, u8 *rec,
	       size_t rec_len, void *scratch);
int kdtls_open_skb(struct kdtls_key *k, const struct kdtls_hdr *hdr,
		   const u8 *explicit, struct sk_buff *skb, unsigned int off,
		   struct scatterlist *dst, u8 *out, void *scratch);

int kdtls_crypto_init(void);
void kdtls_crypto_exit(void);

#endif /* _KDTLS_CRYPTO_H */
