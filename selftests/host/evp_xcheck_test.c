// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-check of kmod/record.c's AAD and nonce helpers with OpenSSL EVP:
 * a record sealed from record.c's header/AAD/nonce with EVP must equal
 * the one from the independent sealer in lib/kt_evp.c and the checked-in
 * golden records, and must open with it.  The keystream checks tie each
 * nonce to the cipher's counter block (GCM J0+1, CCM A1 with iv[0] = 2,
 * ChaCha20 block 1), so the nonce layout is checked against the cipher
 * itself, not only against a second copy of the same idea.
 */
#include "../harness.h"

#include "record.h"
#include <linux/kdtls.h>
#include <openssl/evp.h>

#include "../lib/kt_evp.h"
#include "../golden.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

FIXTURE(xcheck) {
	int unused;
};

FIXTURE_VARIANT(xcheck) {
	unsigned int cipher;
};

FIXTURE_VARIANT_ADD(xcheck, aes_128_gcm) { .cipher = KDTLS_CIPHER_AES_128_GCM };
FIXTURE_VARIANT_ADD(xcheck, aes_256_gcm) { .cipher = KDTLS_CIPHER_AES_256_GCM };
FIXTURE_VARIANT_ADD(xcheck, chacha20_poly1305) { .cipher = KDTLS_CIPHER_CHACHA20_POLY1305 };
FIXTURE_VARIANT_ADD(xcheck, aes_128_ccm) { .cipher = KDTLS_CIPHER_AES_128_CCM };
FIXTURE_VARIANT_ADD(xcheck, aes_128_ccm_8) { .cipher = KDTLS_CIPHER_AES_128_CCM_8 };

FIXTURE_SETUP(xcheck) { (void)self; }
FIXTURE_TEARDOWN(xcheck) { (void)self; }

static const EVP_CIPHER *evp_of(unsigned int c)
{
	switch (c) {
	case KDTLS_CIPHER_AES_128_GCM: return EVP_aes_128_gcm();
	case KDTLS_CIPHER_AES_256_GCM: return EVP_aes_256_gcm();
	case KDTLS_CIPHER_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
	default: return EVP_aes_128_ccm();
	}
}

/* AEAD-seal with a given 12-byte nonce and 13-byte AAD */
static int aead_seal(unsigned int c, const u8 *key, const u8 *nonce,
		     const u8 *aad, const u8 *pt, int len, u8 *ct, u8 *tag,
		     int tag_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ccm = kdtls_cipher_info(c)->ccm;
	int outl, ok = 0;

	if (!EVP_EncryptInit_ex(ctx, evp_of(c), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) ||
	    (ccm && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len,
					 NULL)) ||
	    !EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) ||
	    (ccm && !EVP_EncryptUpdate(ctx, NULL, &outl, NULL, len)) ||
	    !EVP_EncryptUpdate(ctx, NULL, &outl, aad, 13) ||
	    !EVP_EncryptUpdate(ctx, ct, &outl, pt, len) ||
	    !EVP_EncryptFinal_ex(ctx, ct + len, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tag_len, tag))
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* a whole record from record.c's helpers + EVP; returns its length */
static int seal_with_record_c(unsigned int c, const u8 *key, const u8 *salt,
			      u8 type, u16 epoch, u64 seq, const u8 *pt,
			      int len, u8 *out)
{
	const struct kdtls_cipher_info *ci = kdtls_cipher_info(c);
	struct kdtls_hdr h = {
		.type = type, .version = KDTLS_VERSION_1_2, .epoch = epoch,
		.seq = seq,
		.length = (u16)(ci->explicit_len + len + ci->tag_len),
	};
	u8 aad[KDTLS_AAD_LEN], nonce[KDTLS_NONCE_LEN];
	u8 *body = out + KDTLS_HDR_LEN;

	kdtls_hdr_build(out, &h);
	kdtls_aad_build(aad, &h, (u16)len);
	kdtls_nonce_build(nonce, ci, salt, epoch, seq);
	/* GCM/CCM carry the nonce's explicit part in the record */
	memcpy(body, nonce + 4, ci->explicit_len);
	if (!aead_seal(c, key, nonce, aad, pt, len, body + ci->explicit_len,
		       body + ci->explicit_len + len, ci->tag_len))
		return -1;
	return KDTLS_HDR_LEN + h.length;
}

static void ecb_block(const EVP_CIPHER *e, const u8 *key, const u8 *in, u8 *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl;

	EVP_EncryptInit_ex(ctx, e, NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_EncryptUpdate(ctx, out, &outl, in, 16);
	EVP_CIPHER_CTX_free(ctx);
}

TEST_F(xcheck, golden_record)
{
	const struct kdtls_cipher_info *ci = kdtls_cipher_info(variant->cipher);
	const u8 *pt = (const u8 *)GOLDEN_PLAINTEXT;
	int len = sizeof(GOLDEN_PLAINTEXT) - 1;
	struct kt_rec r = { .type = GOLDEN_TYPE, .epoch = GOLDEN_EPOCH,
			    .seq = GOLDEN_SEQ };
	u8 a[256], b[256], back[256];
	int na, nb;

	na = seal_with_record_c(variant->cipher, golden_key, golden_salt,
				GOLDEN_TYPE, GOLDEN_EPOCH, GOLDEN_SEQ, pt, len,
				a);
	ASSERT_GT(na, 0);
	nb = kt_evp_seal(variant->cipher, golden_key, golden_salt, &r, pt,
			 len, b, sizeof(b));
	ASSERT_EQ(na, nb);
	ASSERT_EQ(na, 13 + len + (int)kdtls_overhead(ci));
	ASSERT_MEMEQ(a, b, na);
	ASSERT_EQ((unsigned int)na, golden_records[variant->cipher].len);
	ASSERT_MEMEQ(a, golden_records[variant->cipher].rec, na);

	memset(&r, 0, sizeof(r));
	ASSERT_EQ(kt_evp_open(variant->cipher, golden_key, golden_salt, a, na,
			      &r, back, sizeof(back)), len);
	ASSERT_MEMEQ(back, pt, len);
	ASSERT_EQ(r.type, GOLDEN_TYPE);
	ASSERT_EQ(r.version, 0xfefd);
	ASSERT_EQ(r.epoch, GOLDEN_EPOCH);
	ASSERT_EQ(r.seq, GOLDEN_SEQ);
}

/* many epochs, sequence numbers, types and lengths */
TEST_F(xcheck, sweep_record_c_vs_evp)
{
	static u8 pt[1500], a[1600], b[1600], back[1600];
	unsigned int i;
	u8 key[32], salt[12];

	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (u8)(i * 13 + 1);
	for (i = 0; i < 300; i++) {
		static const u64 seqs[] = { 0, 1, 0xff, 0x100, 0xffffffff,
			0x100000000ULL, 0xffffffffffffULL, 0x123456789abcULL };
		u16 epoch = (u16)(i % 3 == 0 ? 1 : i * 251);
		u64 seq = seqs[i % ARRAY_SIZE(seqs)] ^ (i / 8);
		u8 type = (u8)(20 + i % 4);
		int len = (int)((i * 37) % sizeof(pt));
		struct kt_rec r = { .type = type, .epoch = epoch,
				    .seq = seq & 0xffffffffffffULL };
		int na, nb, j;

		for (j = 0; j < 32; j++)
			key[j] = (u8)(i + j * 3);
		for (j = 0; j < 12; j++)
			salt[j] = (u8)(i * 7 + j);
		na = seal_with_record_c(variant->cipher, key, salt, type,
					epoch, r.seq, pt, len, a);
		nb = kt_evp_seal(variant->cipher, key, salt, &r, pt, len, b,
				 sizeof(b));
		ASSERT_GT(na, 0);
		ASSERT_EQ(na, nb);
		ASSERT_MEMEQ(a, b, na);
		ASSERT_EQ(kt_evp_open(variant->cipher, key, salt, a, na, NULL,
				      back, sizeof(back)), len);
		ASSERT_MEMEQ(back, pt, len);
		/* any flipped bit fails to open */
		a[(unsigned int)na - 1 - i % (unsigned int)(na - 13)] ^=
			(u8)(1 << (i % 8));
		ASSERT_EQ(kt_evp_open(variant->cipher, key, salt, a, na, NULL,
				      back, sizeof(back)), -2);
	}
}

/* the AAD covers type, version, epoch, seq and the plaintext length */
TEST_F(xcheck, header_fields_are_authenticated)
{
	static const int fields[] = { 0, 2, 4, 10 };	/* type ver epoch seq */
	u8 rec[256], back[256];
	const u8 *pt = (const u8 *)"authenticated header";
	int n, i;

	for (i = 0; i < (int)ARRAY_SIZE(fields); i++) {
		n = seal_with_record_c(variant->cipher, golden_key,
				       golden_salt, 23, 5, 77, pt, 20, rec);
		ASSERT_GT(n, 0);
		rec[fields[i]] ^= 0x01;
		EXPECT_EQ(kt_evp_open(variant->cipher, golden_key, golden_salt,
				      rec, n, NULL, back, sizeof(back)), -2);
	}
}

/* The nonce really is the cipher's nonce: compare the first keystream block. */
TEST_F(xcheck, nonce_drives_keystream)
{
	const struct kdtls_cipher_info *ci = kdtls_cipher_info(variant->cipher);
	u8 rec[256], nonce[12], ctr[16], ks[16], expect[16];
	u8 pt[16] = "0123456789abcdef";
	const u8 *ct;
	int n, i;

	n = seal_with_record_c(variant->cipher, golden_key, golden_salt, 23,
			       0x0102, 0x030405060708ULL, pt, 16, rec);
	ASSERT_GT(n, 0);
	ct = rec + 13 + ci->explicit_len;
	kdtls_nonce_build(nonce, ci, golden_salt, 0x0102, 0x030405060708ULL);

	switch (variant->cipher) {
	case KDTLS_CIPHER_AES_128_GCM:
	case KDTLS_CIPHER_AES_256_GCM:
		/* RFC 5288 / SP 800-38D: 96-bit IV, first data block J0 + 1 */
		memcpy(ctr, nonce, 12);
		ctr[12] = 0; ctr[13] = 0; ctr[14] = 0; ctr[15] = 2;
		ecb_block(variant->cipher == KDTLS_CIPHER_AES_128_GCM ?
			  EVP_aes_128_ecb() : EVP_aes_256_ecb(),
			  golden_key, ctr, ks);
		break;
	case KDTLS_CIPHER_AES_128_CCM:
	case KDTLS_CIPHER_AES_128_CCM_8:
		/* the kernel ccm() IV is A0: flags = L - 1 = 2, nonce, ctr 0;
		 * the first data block is A1 */
		kdtls_ccm_iv_build(ctr, nonce);
		ASSERT_EQ(ctr[0], 2);
		ctr[15] = 1;
		ecb_block(EVP_aes_128_ecb(), golden_key, ctr, ks);
		break;
	default: {
		/* RFC 7539: block counter 1 (little endian) || nonce */
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		u8 zero[16] = { 0 };
		int outl;

		ctr[0] = 1; ctr[1] = 0; ctr[2] = 0; ctr[3] = 0;
		memcpy(ctr + 4, nonce, 12);
		EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, golden_key, ctr);
		EVP_EncryptUpdate(ctx, ks, &outl, zero, 16);
		EVP_CIPHER_CTX_free(ctx);
		break;
	}
	}
	for (i = 0; i < 16; i++)
		expect[i] = pt[i] ^ ks[i];
	ASSERT_MEMEQ(ct, expect, 16);
	/* and the explicit nonce on the wire is epoch || seq */
	if (ci->explicit_len) {
		static const u8 es[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

		ASSERT_MEMEQ(rec + 13, es, 8);
	}
}

/* The independent opener honours a peer's own explicit nonce (RFC 5288). */
TEST_F(xcheck, explicit_nonce_from_record)
{
	const struct kdtls_cipher_info *ci = kdtls_cipher_info(variant->cipher);
	static const u8 expl[8] = { 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 9, 8, 7 };
	struct kt_rec r = { .type = 23, .epoch = 1, .seq = 3,
			    .explicit_nonce = expl };
	u8 rec[128], back[128];
	int n;

	if (!ci->explicit_len)
		return;	/* ChaCha20 has no explicit nonce: nothing to check */
	n = kt_evp_seal(variant->cipher, golden_key, golden_salt, &r, "hi", 2,
			rec, sizeof(rec));
	ASSERT_GT(n, 0);
	ASSERT_MEMEQ(rec + 13, expl, 8);
	ASSERT_EQ(kt_evp_open(variant->cipher, golden_key, golden_salt, rec, n,
			      NULL, back, sizeof(back)), 2);
}

TEST_HARNESS_MAIN
