// SPDX-License-Identifier: GPL-2.0
/*
 * DTLS 1.2 AEAD records with OpenSSL EVP, independent of kmod/record.c.
 *
 *   header: type(1) version(2) epoch(2) seq(6) length(2)
 *   body:   [explicit nonce(8), GCM/CCM] ciphertext tag
 *   AAD:    epoch(2) seq(6) type(1) version(2) plaintext_length(2)
 *   nonce:  GCM/CCM  salt(4) || explicit(8)
 *           ChaCha20 iv(12) XOR (0(4) || epoch(2) || seq(6))
 */
#include "kt_evp.h"

#include <string.h>
#include <linux/kdtls.h>
#include <openssl/evp.h>

static const struct kt_cipher kt_ciphers[] = {
	[KDTLS_CIPHER_AES_128_GCM] = { "aes-128-gcm", 16, 4, 8, 16 },
	[KDTLS_CIPHER_AES_256_GCM] = { "aes-256-gcm", 32, 4, 8, 16 },
	[KDTLS_CIPHER_CHACHA20_POLY1305] = { "chacha20-poly1305", 32, 12, 0, 16 },
	[KDTLS_CIPHER_AES_128_CCM] = { "aes-128-ccm", 16, 4, 8, 16 },
	[KDTLS_CIPHER_AES_128_CCM_8] = { "aes-128-ccm-8", 16, 4, 8, 8 },
};

const struct kt_cipher *kt_cipher(unsigned int cipher)
{
	if (cipher < 1 || cipher >= sizeof(kt_ciphers) / sizeof(kt_ciphers[0]))
		return NULL;
	return &kt_ciphers[cipher];
}

static const EVP_CIPHER *kt_evp_cipher(unsigned int cipher)
{
	switch (cipher) {
	case KDTLS_CIPHER_AES_128_GCM:
		return EVP_aes_128_gcm();
	case KDTLS_CIPHER_AES_256_GCM:
		return EVP_aes_256_gcm();
	case KDTLS_CIPHER_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	case KDTLS_CIPHER_AES_128_CCM:
	case KDTLS_CIPHER_AES_128_CCM_8:
		return EVP_aes_128_ccm();
	}
	return NULL;
}

static int is_ccm(unsigned int cipher)
{
	return cipher == KDTLS_CIPHER_AES_128_CCM ||
	       cipher == KDTLS_CIPHER_AES_128_CCM_8;
}

void kt_hdr_put(uint8_t *p, uint8_t type, uint16_t version, uint16_t epoch,
		uint64_t seq, uint16_t length)
{
	int i;

	p[0] = type;
	p[1] = version >> 8;
	p[2] = version & 0xff;
	p[3] = epoch >> 8;
	p[4] = epoch & 0xff;
	for (i = 0; i < 6; i++)
		p[5 + i] = (seq >> (8 * (5 - i))) & 0xff;
	p[11] = length >> 8;
	p[12] = length & 0xff;
}

/* epoch||seq, the 8 bytes DTLS uses as "sequence number" in AAD and nonces */
static void kt_epoch_seq(uint8_t *es, uint16_t epoch, uint64_t seq)
{
	uint64_t v = (uint64_t)epoch << 48 | (seq & 0xffffffffffffULL);
	int i;

	for (i = 0; i < 8; i++)
		es[i] = (v >> (8 * (7 - i))) & 0xff;
}

static int kt_aead(int enc, unsigned int cipher, const uint8_t *key,
		   const uint8_t *nonce, const uint8_t *aad,
		   const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
		   unsigned int tag_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok = 0, outl;

	if (!ctx)
		return 0;
	if (!EVP_CipherInit_ex(ctx, kt_evp_cipher(cipher), NULL, NULL, NULL,
			       enc))
		goto out;
	if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL))
		goto out;
	if (is_ccm(cipher) || !enc) {
		/* CCM wants the tag length (and, decrypting, the tag) first */
		if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag_len,
					 enc ? NULL : tag))
			goto out;
	}
	if (!EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc))
		goto out;
	if (is_ccm(cipher) &&
	    !EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len))
		goto out;
	if (!EVP_CipherUpdate(ctx, NULL, &outl, aad, 13))
		goto out;
	if ((len || is_ccm(cipher)) &&
	    !EVP_CipherUpdate(ctx, out, &outl, in, (int)len))
		goto out;
	if (is_ccm(cipher) && !enc) {
		ok = 1;		/* CCM verified the tag in the update */
		goto out;
	}
	if (!EVP_CipherFinal_ex(ctx, out + len, &outl))
		goto out;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tag_len,
					tag))
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static void kt_nonce(unsigned int cipher, const uint8_t *salt,
		     const uint8_t *explicit_nonce, uint16_t epoch,
		     uint64_t seq, uint8_t *nonce)
{
	uint8_t es[8];
	int i;

	kt_epoch_seq(es, epoch, seq);
	if (cipher == KDTLS_CIPHER_CHACHA20_POLY1305) {
		memcpy(nonce, salt, 12);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= es[i];
	} else {
		memcpy(nonce, salt, 4);
		memcpy(nonce + 4, explicit_nonce ? explicit_nonce : es, 8);
	}
}

static void kt_aad(uint8_t *aad, uint8_t type, uint16_t version,
		   uint16_t epoch, uint64_t seq, size_t pt_len)
{
	kt_epoch_seq(aad, epoch, seq);
	aad[8] = type;
	aad[9] = version >> 8;
	aad[10] = version & 0xff;
	aad[11] = (pt_len >> 8) & 0xff;
	aad[12] = pt_len & 0xff;
}

int kt_evp_seal(unsigned int cipher, const uint8_t *key, const uint8_t *salt,
		const struct kt_rec *r, const void *pt, size_t pt_len,
		uint8_t *out, size_t cap)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	uint16_t version = r->version ? r->version : 0xfefd;
	uint8_t nonce[12], aad[13], es[8];
	size_t body;

	if (!c)
		return -1;
	body = c->explicit_len + pt_len + c->tag_len;
	if (body > 0xffff || KT_HDR_LEN + body > cap)
		return -1;
	kt_hdr_put(out, r->type, version, r->epoch, r->seq, (uint16_t)body);
	kt_nonce(cipher, salt, r->explicit_nonce, r->epoch, r->seq, nonce);
	if (c->explicit_len) {
		kt_epoch_seq(es, r->epoch, r->seq);
		memcpy(out + KT_HDR_LEN,
		       r->explicit_nonce ? r->explicit_nonce : es, 8);
	}
	kt_aad(aad, r->type, version, r->epoch, r->seq, pt_len);
	if (!kt_aead(1, cipher, key, nonce, aad, pt, pt_len,
		     out + KT_HDR_LEN + c->explicit_len,
		     out + KT_HDR_LEN + c->explicit_len + pt_len, c->tag_len))
		return -1;
	return (int)(KT_HDR_LEN + body);
}

int kt_evp_open(unsigned int cipher, const uint8_t *key, const uint8_t *salt,
		const uint8_t *rec, size_t len, struct kt_rec *r,
		uint8_t *pt, size_t cap)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	uint8_t nonce[12], aad[13], tag[16];
	uint16_t version, epoch, rlen;
	uint64_t seq = 0;
	size_t pt_len;
	int i;

	if (!c || len < KT_HDR_LEN)
		return -1;
	version = rec[1] << 8 | rec[2];
	epoch = rec[3] << 8 | rec[4];
	for (i = 0; i < 6; i++)
		seq = seq << 8 | rec[5 + i];
	rlen = rec[11] << 8 | rec[12];
	if (r) {
		r->type = rec[0];
		r->version = version;
		r->epoch = epoch;
		r->seq = seq;
	}
	if (rlen != len - KT_HDR_LEN || rlen < c->explicit_len + c->tag_len)
		return -1;
	pt_len = rlen - c->explicit_len - c->tag_len;
	if (pt_len > cap)
		return -1;
	kt_nonce(cipher, salt, c->explicit_len ? rec + KT_HDR_LEN : NULL,
		 epoch, seq, nonce);
	kt_aad(aad, rec[0], version, epoch, seq, pt_len);
	memcpy(tag, rec + KT_HDR_LEN + c->explicit_len + pt_len, c->tag_len);
	if (!kt_aead(0, cipher, key, nonce, aad,
		     rec + KT_HDR_LEN + c->explicit_len, pt_len, pt, tag,
		     c->tag_len))
		return -2;
	return (int)pt_len;
}
