// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: DTLS 1.2 record headers and the key block.
 *
 * OpenSSL 3.0 has no API returning record keys or sequence numbers, so the
 * key block is derived again from the session (RFC 5246 6.3):
 *
 *   key_block = PRF(master_secret, "key expansion",
 *                   server_random || client_random)
 *
 * with the suite's handshake digest, and split for AEAD suites (no MAC
 * keys) into
 *
 *   client_write_key | server_write_key | client_write_IV | server_write_IV
 *
 * where the IV is the 4-byte implicit salt (GCM, CCM; RFC 5288, 6655) or
 * the 12-byte IV (ChaCha20-Poly1305, RFC 7905).  Sequence numbers are
 * learned from the record headers the daemon's BIO sees (hs.c).
 *
 * The PRF is computed here over two SHA contexts keyed once (HMAC's inner
 * and outer pads) and copied for each HMAC, with the digest fetched once.
 * OpenSSL's TLS1-PRF KDF fetches and sets up the HMAC on every call, and
 * duplicating a keyed EVP_MAC context per HMAC (as cookie.c does for one
 * HMAC per cookie) copies three digest contexts each time: in the VM a key
 * block took 86-135 us with the KDF, 90-103 us with EVP_MAC and 37-51 us
 * with this, and key install is held to 5 % of a handshake's CPU.  The
 * host tests check it against the KDF (selftests/host/keys_test.c).
 *
 * Record header (RFC 6347 4.1):
 *   type(1) | version(2) | epoch(2) | sequence_number(6) | length(2)
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "kdtlsd.h"

int kd_rec_next(const uint8_t **p, size_t *left, struct kd_rec *r)
{
	const uint8_t *b = *p;
	int i;

	if (!*left)
		return 0;
	if (*left < KD_HDR_LEN)
		return -1;
	r->type = b[0];
	r->version = b[1] << 8 | b[2];
	r->epoch = b[3] << 8 | b[4];
	r->seq = 0;
	for (i = 5; i < 11; i++)
		r->seq = r->seq << 8 | b[i];
	r->len = b[11] << 8 | b[12];
	if (*left - KD_HDR_LEN < r->len)
		return -1;
	r->body = b + KD_HDR_LEN;
	*p += KD_HDR_LEN + r->len;
	*left -= KD_HDR_LEN + r->len;
	return 1;
}

void kd_rec_hdr_put(uint8_t *p, uint8_t type, uint16_t epoch, uint64_t seq,
		    uint16_t len)
{
	int i;

	p[0] = type;
	p[1] = KDTLS_VERSION_1_2 >> 8;
	p[2] = KDTLS_VERSION_1_2 & 0xff;
	p[3] = epoch >> 8;
	p[4] = epoch;
	for (i = 0; i < 6; i++)
		p[5 + i] = seq >> (8 * (5 - i));
	p[11] = len >> 8;
	p[12] = len;
}

uint16_t kd_cipher_of(const SSL_CIPHER *c)
{
	const char *name;

	if (!c || !SSL_CIPHER_is_aead(c))
		return KDTLS_CIPHER_UNSPEC;
	name = SSL_CIPHER_get_name(c);
	switch (SSL_CIPHER_get_cipher_nid(c)) {
	case NID_aes_128_gcm:
		return KDTLS_CIPHER_AES_128_GCM;
	case NID_aes_256_gcm:
		return KDTLS_CIPHER_AES_256_GCM;
	case NID_chacha20_poly1305:
		return KDTLS_CIPHER_CHACHA20_POLY1305;
	case NID_aes_128_ccm:
		/* OpenSSL names both CCM tags NID_aes_128_ccm */
		return strstr(name, "CCM8") ? KDTLS_CIPHER_AES_128_CCM_8 :
					      KDTLS_CIPHER_AES_128_CCM;
	}
	return KDTLS_CIPHER_UNSPEC;
}

const char *kd_cipher_name(uint16_t cipher)
{
	static const char *const n[] = {
		[KDTLS_CIPHER_AES_128_GCM] = "aes-128-gcm",
		[KDTLS_CIPHER_AES_256_GCM] = "aes-256-gcm",
		[KDTLS_CIPHER_CHACHA20_POLY1305] = "chacha20-poly1305",
		[KDTLS_CIPHER_AES_128_CCM] = "aes-128-ccm",
		[KDTLS_CIPHER_AES_128_CCM_8] = "aes-128-ccm-8",
	};

	return cipher < ARRAY_SIZE(n) && n[cipher] ? n[cipher] : "none";
}

void kd_keys_wipe(struct kd_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* The PRF digests of the offloaded suites, fetched once (kd_keys_exit). */
static EVP_MD *prf_mds[2];

static EVP_MD *prf_md(const EVP_MD *md)
{
	int i = md && EVP_MD_get_type(md) == NID_sha384;

	if (!i && (!md || EVP_MD_get_type(md) != NID_sha256))
		return NULL;
	if (!prf_mds[i])
		prf_mds[i] = EVP_MD_fetch(NULL, i ? "SHA384" : "SHA256", NULL);
	return prf_mds[i];
}

/**
 * kd_keys_exit() - free the digests kd_keys_derive() fetched
 */
void kd_keys_exit(void)
{
	EVP_MD_free(prf_mds[0]);
	EVP_MD_free(prf_mds[1]);
	prf_mds[0] = prf_mds[1] = NULL;
}

/* One part of an HMAC's message. */
struct part {
	const void *p;
	size_t len;
};

/* HMAC over the parts @m[0..3], from the keyed pads @in and @out */
static int hmac(EVP_MD_CTX *t, const EVP_MD_CTX *in, const EVP_MD_CTX *out,
		const struct part *m, uint8_t *mac)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen;
	int ok, i;

	ok = EVP_MD_CTX_copy_ex(t, in);
	for (i = 0; ok && i < 4; i++)
		ok = EVP_DigestUpdate(t, m[i].p, m[i].len);
	ok = ok && EVP_DigestFinal_ex(t, h, &hlen) &&
	     EVP_MD_CTX_copy_ex(t, out) && EVP_DigestUpdate(t, h, hlen) &&
	     EVP_DigestFinal_ex(t, mac, &hlen);
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/* @pad = @key (one block) XOR @x, hashed into a fresh @ctx */
static int pad_init(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *key,
		    uint8_t *pad, int bs, uint8_t x)
{
	int i;

	for (i = 0; i < bs; i++)
		pad[i] = key[i] ^ x;
	return EVP_DigestInit_ex(ctx, md, NULL) &&
	       EVP_DigestUpdate(ctx, pad, bs);
}

/**
 * kd_keys_prf() - the TLS 1.2 PRF, RFC 5246 section 5
 * @md: the HMAC's digest (SHA-256 or SHA-384 for the offloaded suites)
 * @secret: the secret
 * @secret_len: its length
 * @label: the ASCII label, without a terminating NUL
 * @seed1: the first part of the seed
 * @seed1_len: its length
 * @seed2: the second part
 * @seed2_len: its length
 * @out: where the output goes
 * @out_len: how much of it
 *
 * PRF(secret, label, seed) = P_hash(secret, label || seed), with seed =
 * @seed1 || @seed2, P_hash = HMAC(secret, A(1) || label || seed) ||
 * HMAC(secret, A(2) || label || seed) || ..., A(0) = label || seed and
 * A(i) = HMAC(secret, A(i - 1)).
 *
 * Return: 0, or -1 when OpenSSL failed (@out is then wiped).
 */
int kd_keys_prf(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
		const char *label, const uint8_t *seed1, size_t seed1_len,
		const uint8_t *seed2, size_t seed2_len, uint8_t *out,
		size_t out_len)
{
	uint8_t key[2 * EVP_MAX_MD_SIZE], pad[2 * EVP_MAX_MD_SIZE];
	uint8_t a[EVP_MAX_MD_SIZE], p[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *in = EVP_MD_CTX_new(), *o = EVP_MD_CTX_new();
	EVP_MD_CTX *t = EVP_MD_CTX_new();
	int bs = EVP_MD_get_block_size(md), hs = EVP_MD_get_size(md);
	struct part m[4] = {
		{ label, strlen(label) }, { seed1, seed1_len },
		{ seed2, seed2_len }, { NULL, 0 },
	};
	unsigned int klen;
	size_t off, n;
	int ok = 0;

	if (!in || !o || !t || bs <= 0 || hs <= 0 ||
	    (size_t)bs > sizeof(key) || (size_t)hs > sizeof(a))
		goto out;
	/* RFC 2104: a key longer than the block is hashed first */
	memset(key, 0, sizeof(key));
	if (secret_len > (size_t)bs) {
		if (!EVP_Digest(secret, secret_len, key, &klen, md, NULL))
			goto out;
	} else if (secret_len) {
		memcpy(key, secret, secret_len);
	}
	if (!pad_init(in, md, key, pad, bs, 0x36) ||
	    !pad_init(o, md, key, pad, bs, 0x5c))
		goto out;

	if (!hmac(t, in, o, m, a))			/* A(1) */
		goto out;
	for (off = 0; off < out_len; off += n) {
		struct part ma[4] = { { a, hs }, m[0], m[1], m[2] };
		struct part mn[4] = { { a, hs } };

		if (!hmac(t, in, o, ma, p))		/* HMAC(A(i) || seed) */
			goto out;
		n = out_len - off < (size_t)hs ? out_len - off : (size_t)hs;
		memcpy(out + off, p, n);
		if (off + n < out_len && !hmac(t, in, o, mn, a)) /* A(i + 1) */
			goto out;
	}
	ok = 1;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(p, sizeof(p));
	EVP_MD_CTX_free(in);
	EVP_MD_CTX_free(o);
	EVP_MD_CTX_free(t);
	if (!ok)
		OPENSSL_cleanse(out, out_len);
	return ok ? 0 : -1;
}

int kd_keys_derive(SSL *ssl, struct kd_keys *k)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	uint8_t ms[SSL_MAX_MASTER_KEY_LENGTH], block[2 * 32 + 2 * 12];
	uint8_t sr[SSL3_RANDOM_SIZE], cr[SSL3_RANDOM_SIZE];
	const EVP_MD *md;
	size_t ms_len, need;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	k->cipher = kd_cipher_of(c);
	switch (k->cipher) {
	case KDTLS_CIPHER_AES_128_GCM:
	case KDTLS_CIPHER_AES_128_CCM:
	case KDTLS_CIPHER_AES_128_CCM_8:
		k->key_len = 16;
		k->salt_len = 4;
		break;
	case KDTLS_CIPHER_AES_256_GCM:
		k->key_len = 32;
		k->salt_len = 4;
		break;
	case KDTLS_CIPHER_CHACHA20_POLY1305:
		k->key_len = 32;
		k->salt_len = 12;
		break;
	default:
		kd_err("keys: suite %s is not offloaded by kdtls",
		       c ? SSL_CIPHER_get_name(c) : "(none)");
		return -1;
	}
	md = prf_md(SSL_CIPHER_get_handshake_digest(c));
	ms_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), ms,
					    sizeof(ms));
	if (!md) {
		kd_log_ssl(KD_LOG_ERR, "keys: no SHA-256/384 for the PRF");
		goto out;
	}
	if (ms_len != SSL3_MASTER_SECRET_SIZE ||
	    SSL_get_server_random(ssl, sr, sizeof(sr)) != sizeof(sr) ||
	    SSL_get_client_random(ssl, cr, sizeof(cr)) != sizeof(cr)) {
		kd_err("keys: session has no master secret or randoms");
		goto out;
	}
	need = 2 * k->key_len + 2 * k->salt_len;

	if (kd_keys_prf(md, ms, ms_len, "key expansion", sr, sizeof(sr), cr,
			sizeof(cr), block, need)) {
		kd_log_ssl(KD_LOG_ERR, "keys: PRF failed");
		goto out;
	}
	memcpy(k->client_key, block, k->key_len);
	memcpy(k->server_key, block + k->key_len, k->key_len);
	memcpy(k->client_salt, block + 2 * k->key_len, k->salt_len);
	memcpy(k->server_salt, block + 2 * k->key_len + k->salt_len,
	       k->salt_len);
	ret = 0;
out:
	OPENSSL_cleanse(ms, sizeof(ms));
	OPENSSL_cleanse(block, sizeof(block));
	if (ret)
		kd_keys_wipe(k);
	return ret;
}
