// SPDX-License-Identifier: GPL-2.0
/*
 * AEAD keys, seal and open.
 *
 * Transforms come from the crypto API ("gcm(aes)", "ccm(aes)",
 * "rfc7539(chacha20,poly1305)") and may be asynchronous (aesni's GCM goes
 * through cryptd when the FPU is not usable); every call waits with
 * crypto_wait_req(), so seal and open run only in process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/kdtls.h>
#include "crypto.h"

/* frees keys and associations; drained at module exit */
struct workqueue_struct *kdtls_wq;

static void kdtls_key_free_work(struct work_struct *work)
{
	struct kdtls_key *k = container_of(to_rcu_work(work), struct kdtls_key,
					   free_work);

	crypto_free_aead(k->tfm);
	kfree_sensitive(k);
}

/**
 * kdtls_key_new() - build the key of one epoch in one direction
 * @ci: cipher
 * @key: @ci->key_len bytes
 * @salt: @ci->salt_len bytes
 * @epoch: epoch
 * @seq: TX: next sequence number; RX: lowest accepted sequence number
 * @window: RX replay window in records
 * @gfp: allocation flags
 *
 * The caller wipes its own copies of @key and @salt.
 *
 * Return: the key with one reference, or an ERR_PTR.
 */
struct kdtls_key *kdtls_key_new(const struct kdtls_cipher_info *ci,
				const u8 *key, const u8 *salt, u16 epoch,
				u64 seq, u32 window, gfp_t gfp)
{
	struct kdtls_key *k;
	int err;

	k = kzalloc(sizeof(*k), gfp);
	if (!k)
		return ERR_PTR(-ENOMEM);

	k->tfm = crypto_alloc_aead(ci->alg, 0, 0);
	if (IS_ERR(k->tfm)) {
		err = PTR_ERR(k->tfm);
		goto err_free_key;
	}
	err = crypto_aead_setkey(k->tfm, key, ci->key_len);
	if (err)
		goto err_free_tfm;
	err = crypto_aead_setauthsize(k->tfm, ci->tag_len);
	if (err)
		goto err_free_tfm;

	refcount_set(&k->refcnt, 1);
	k->ci = ci;
	k->epoch = epoch;
	memcpy(k->salt, salt, ci->salt_len);
	atomic64_set(&k->next_seq, seq);
	kdtls_replay_init(&k->replay, window, seq);
	INIT_RCU_WORK(&k->free_work, kdtls_key_free_work);
	return k;

err_free_tfm:
	crypto_free_aead(k->tfm);
err_free_key:
	kfree_sensitive(k);
	return ERR_PTR(err);
}

/**
 * kdtls_key_put() - drop a reference; the last one frees after a grace period
 * @k: key, may be NULL
 */
void kdtls_key_put(struct kdtls_key *k)
{
	if (k && refcount_dec_and_test(&k->refcnt))
		queue_rcu_work(kdtls_wq, &k->free_work);
}

/*
 * A record opened from an skb is read from at most this many pieces of its
 * head and page fragments (a segment of a coalesced datagram crosses a page
 * boundary at most once or twice); one spread wider is copied out first.
 */
#define KDTLS_SKB_PIECES	4

/*
 * Scratch space for one AEAD call: the request (with the transform's
 * private context), the AAD, the IV, a two-entry scatterlist (AAD and
 * record) and, for a record opened from an skb, the source scatterlist
 * (AAD and the pieces).  The caller provides it (kdtls_aead_ctx_size()
 * bytes; the socket keeps one per direction, see kdtls_scratch_get()), so
 * no record allocates.  It holds cipher state, so it is wiped after every
 * use.
 */
struct kdtls_aead_ctx {
	struct scatterlist sg[2];
	struct scatterlist src[1 + KDTLS_SKB_PIECES];
	u8 aad[KDTLS_AAD_LEN];
	u8 iv[16];
	struct aead_request req;	/* must be last: reqsize follows */
};

/**
 * kdtls_aead_ctx_size() - scratch bytes kdtls_seal() and kdtls_open() need
 * @k: key
 *
 * Return: the size, a multiple of the cache line.
 */
size_t kdtls_aead_ctx_size(const struct kdtls_key *k)
{
	return L1_CACHE_ALIGN(sizeof(struct kdtls_aead_ctx) +
			      crypto_aead_reqsize(k->tfm));
}

/*
 * @explicit: the record's explicit nonce when opening a GCM or CCM record
 * (RFC 5288 §3: the receiver uses the nonce the sender chose), or NULL to
 * use epoch || seq, which is what kdtls sends.
 */
static struct kdtls_aead_ctx *kdtls_aead_ctx_init(void *scratch,
						  struct kdtls_key *k,
						  u16 epoch, u64 seq,
						  const u8 *explicit)
{
	struct kdtls_aead_ctx *c = scratch;
	u8 nonce[KDTLS_NONCE_LEN];

	kdtls_nonce_build(nonce, k->ci, k->salt, epoch, seq);
	if (explicit && k->ci->explicit_len)
		memcpy(nonce + 4, explicit, KDTLS_EXPLICIT_LEN);
	if (k->ci->ccm)
		kdtls_ccm_iv_build(c->iv, nonce);
	else
		memcpy(c->iv, nonce, KDTLS_NONCE_LEN);
	memzero_explicit(nonce, sizeof(nonce));
	aead_request_set_tfm(&c->req, k->tfm);
	return c;
}

static int kdtls_aead_run(struct kdtls_aead_ctx *c, struct kdtls_key *k,
			  bool enc)
{
	DECLARE_CRYPTO_WAIT(wait);
	int err;

	aead_request_set_callback(&c->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	err = crypto_wait_req(enc ? crypto_aead_encrypt(&c->req) :
				    crypto_aead_decrypt(&c->req), &wait);
	memzero_explicit(c, kdtls_aead_ctx_size(k));
	return err;
}

/**
 * kdtls_seal() - build one protected record
 * @k: TX key
 * @type: content type
 * @seq: sequence number, already reserved by the caller
 * @from: plaintext source; @len bytes are consumed
 * @src: or, when not NULL, the plaintext itself: entry 0 left for the AAD,
 *	 then exactly @len bytes (the sender's pinned pages); @from is unused
 * @len: plaintext length, at most KDTLS_MAX_PLAINTEXT_LEN
 * @out: KDTLS_HDR_LEN + kdtls_overhead() + @len bytes
 * @scratch: kdtls_aead_ctx_size() bytes, not overlapping @out
 *
 * Writes header || explicit nonce || ciphertext || tag (RFC 6347 §4.1,
 * RFC 5246 §6.2.3.3).  From @src the AEAD reads the plaintext where it is,
 * once: the tag covers the ciphertext it wrote, whatever the sender does
 * to its buffer meanwhile.  Process context only.
 *
 * Return: the record length, or negative errno.
 */
int kdtls_seal(struct kdtls_key *k, u8 type, u64 seq, struct iov_iter *from,
	       struct scatterlist *src, size_t len, u8 *out, void *scratch)
{
	const struct kdtls_cipher_info *ci = k->ci;
	u8 *payload = out + KDTLS_HDR_LEN + ci->explicit_len;
	struct kdtls_hdr hdr = {
		.type = type,
		.version = KDTLS_VERSION_1_2,
		.epoch = k->epoch,
		.seq = seq,
		.length = ci->explicit_len + len + ci->tag_len,
	};
	struct kdtls_aead_ctx *c;
	int err;

	if (!src && copy_from_iter(payload, len, from) != len)
		return -EFAULT;

	c = kdtls_aead_ctx_init(scratch, k, hdr.epoch, seq, NULL);
	kdtls_hdr_build(out, &hdr);
	/* explicit nonce = the last 8 bytes of the GCM/CCM nonce */
	if (ci->explicit_len)
		memcpy(out + KDTLS_HDR_LEN, c->iv + (ci->ccm ? 5 : 4), 8);
	kdtls_aad_build(c->aad, &hdr, len);

	sg_init_table(c->sg, 2);
	sg_set_buf(&c->sg[0], c->aad, KDTLS_AAD_LEN);
	sg_set_buf(&c->sg[1], payload, len + ci->tag_len);
	if (src)
		sg_set_buf(&src[0], c->aad, KDTLS_AAD_LEN);
	aead_request_set_ad(&c->req, KDTLS_AAD_LEN);
	aead_request_set_crypt(&c->req, src ?: c->sg, c->sg, len, c->iv);

	err = kdtls_aead_run(c, k, true);
	return err ? err : KDTLS_HDR_LEN + hdr.length;
}

/* the plaintext length of the record @hdr heads, or -EPROTO / -EMSGSIZE */
static int kdtls_open_len(const struct kdtls_cipher_info *ci,
			  const struct kdtls_hdr *hdr)
{
	if (hdr->length < kdtls_overhead(ci))
		return -EPROTO;
	if (hdr->length - kdtls_overhead(ci) > KDTLS_MAX_PLAINTEXT_LEN)
		return -EMSGSIZE;
	return hdr->length - kdtls_overhead(ci);
}

/*
 * Authenticate and decrypt @plen bytes of plaintext and the tag from @src
 * into @dst, or into @out when @dst is NULL, or in place at @out when both
 * are NULL.  Entry 0 of @src and @dst is set to the AAD here; the rest of
 * @src maps the record's ciphertext and tag, the rest of @dst @plen bytes.
 */
static int kdtls_open_run(void *scratch, struct kdtls_key *k,
			  const struct kdtls_hdr *hdr, const u8 *explicit,
			  size_t plen, struct scatterlist *src,
			  struct scatterlist *dst, u8 *out)
{
	size_t clen = plen + k->ci->tag_len;
	struct kdtls_aead_ctx *c;
	int err;

	c = kdtls_aead_ctx_init(scratch, k, hdr->epoch, hdr->seq, explicit);
	kdtls_aad_build(c->aad, hdr, plen);

	sg_init_table(c->sg, 2);
	sg_set_buf(&c->sg[0], c->aad, KDTLS_AAD_LEN);
	sg_set_buf(&c->sg[1], out, clen);
	if (src)
		sg_set_buf(&src[0], c->aad, KDTLS_AAD_LEN);
	if (dst)
		sg_set_buf(&dst[0], c->aad, KDTLS_AAD_LEN);
	aead_request_set_ad(&c->req, KDTLS_AAD_LEN);
	aead_request_set_crypt(&c->req, src ?: c->sg, dst ?: c->sg, clen,
			       c->iv);

	err = kdtls_aead_run(c, k, false);
	return err ? err : (int)plen;
}

/**
 * kdtls_open() - authenticate and decrypt one record in place
 * @k: RX key of the record's epoch
 * @hdr: the parsed header
 * @rec: the whole record (header included), writable
 * @rec_len: KDTLS_HDR_LEN + @hdr->length
 * @scratch: kdtls_aead_ctx_size() bytes, not overlapping @rec
 *
 * On success the plaintext starts at @rec + KDTLS_HDR_LEN +
 * @k->ci->explicit_len.  GCM and CCM records are opened with the explicit
 * nonce they carry (RFC 5288 §3, RFC 6655 §3), whatever the sender chose;
 * uniqueness is the sender's duty, replay protection comes from the
 * authenticated sequence number.  Process context only.
 *
 * Return: the plaintext length, -EBADMSG (bad tag), -EPROTO (shorter than
 * nonce and tag), or another negative errno.
 */
int kdtls_open(struct kdtls_key *k, const struct kdtls_hdr *hdr, u8 *rec,
	       size_t rec_len, void *scratch)
{
	int plen = kdtls_open_len(k->ci, hdr);

	if (plen < 0)
		return plen;
	return kdtls_open_run(scratch, k, hdr, rec + KDTLS_HDR_LEN, plen, NULL,
			      NULL, rec + KDTLS_HDR_LEN + k->ci->explicit_len);
}

/*
 * Map @len bytes at @off of @skb's head and page fragments into @sg[1..],
 * leaving @sg[0] for the AAD.  Not skb_to_sgvec(): it writes as many
 * entries as the range needs, with no bound the caller can give.
 * Return: the entries used, 0 when the range needs more than
 * KDTLS_SKB_PIECES or reaches into a frag_list.
 */
static unsigned int kdtls_skb_to_sg(struct sk_buff *skb, unsigned int off,
				    unsigned int len, struct scatterlist *sg)
{
	unsigned int n = 1, head = skb_headlen(skb), i, c;

	sg_init_table(sg, 1 + KDTLS_SKB_PIECES);
	if (off < head) {
		c = min(len, head - off);
		sg_set_buf(&sg[n++], skb->data + off, c);
		len -= c;
		off = head;
	}
	off -= head;
	for (i = 0; len && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		unsigned int size = skb_frag_size(f);

		if (off >= size) {
			off -= size;
			continue;
		}
		if (n > KDTLS_SKB_PIECES)
			return 0;
		c = min(len, size - off);
		sg_set_page(&sg[n++], skb_frag_page(f), c,
			    skb_frag_off(f) + off);
		len -= c;
		off = 0;
	}
	if (len)
		return 0;
	sg_mark_end(&sg[n - 1]);
	return n;
}

/**
 * kdtls_open_skb() - authenticate and decrypt a record found in an skb
 * @k: RX key of the record's epoch
 * @hdr: the parsed header
 * @explicit: the record's explicit nonce (its bytes after the header)
 * @skb: the datagram; read only
 * @off: where the record starts in @skb's data
 * @dst: where the plaintext goes: entry 0 left for the AAD, then exactly
 *	 the plaintext's length (the reader's pinned pages); or NULL
 * @out: without @dst, room for the plaintext and the tag
 * @scratch: kdtls_aead_ctx_size() bytes
 *
 * As kdtls_open(), but the ciphertext is read where it lies, in @skb's head
 * and page fragments, and the plaintext written to @dst or @out: a segment
 * of a coalesced datagram is opened without first being copied out.  None
 * of @skb, @dst, @out and @scratch overlap.  The caller keeps @skb's
 * fragments stable (no shared fragments: see skb_has_shared_frag()).  On
 * failure the plaintext's room may hold garbage.  Process context only.
 *
 * Return: the plaintext length, -E2BIG when the record is spread too thin
 * over @skb to be mapped (the caller copies it out and uses kdtls_open()),
 * or kdtls_open()'s errors.
 */
int kdtls_open_skb(struct kdtls_key *k, const struct kdtls_hdr *hdr,
		   const u8 *explicit, struct sk_buff *skb, unsigned int off,
		   struct scatterlist *dst, u8 *out, void *scratch)
{
	struct kdtls_aead_ctx *c = scratch;
	int plen = kdtls_open_len(k->ci, hdr);

	if (plen < 0)
		return plen;
	if (!kdtls_skb_to_sg(skb, off + KDTLS_HDR_LEN + k->ci->explicit_len,
			     plen + k->ci->tag_len, c->src))
		return -E2BIG;
	return kdtls_open_run(scratch, k, hdr, explicit, plen, c->src, dst,
			      out);
}

/**
 * kdtls_crypto_init() - create the workqueue that frees keys and associations
 *
 * Return: 0 or -ENOMEM.
 */
int kdtls_crypto_init(void)
{
	kdtls_wq = alloc_workqueue("kdtls_key", WQ_UNBOUND, 0);
	return kdtls_wq ? 0 : -ENOMEM;
}

/**
 * kdtls_crypto_exit() - wait for every key to be freed
 */
void kdtls_crypto_exit(void)
{
	int level;

	/*
	 * Frees are chained: a socket's free puts its associations, whose
	 * frees put their keys, each level queued after a grace period.
	 * Wait out one grace period and flush the queue per level (not
	 * drain: an RCU callback queueing onto a draining queue warns).
	 */
	for (level = 0; level < 3; level++) {
		rcu_barrier();
		flush_workqueue(kdtls_wq);
	}
	destroy_workqueue(kdtls_wq);
}
