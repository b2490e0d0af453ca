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
 * with the suite's handshake digest (TLS1-PRF), and split for AEAD suites
 * (no MAC keys) into
 *
 *   client_write_key | server_write_key | client_write_IV | server_write_IV
 *
 * where the IV is the 4-byte implicit salt (GCM, CCM; RFC 5288, 6655) or
 * the 12-byte IV (ChaCha20-Poly1305, RFC 7905).  Sequence numbers are
 * learned from the record headers the daemon's BIO sees (hs.c).
 *
 * Record header (RFC 6347 4.1):
 *   type(1) | version(2) | epoch(2) | sequence_number(6) | length(2)
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
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

int kd_keys_derive(SSL *ssl, struct kd_keys *k)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	uint8_t ms[SSL_MAX_MASTER_KEY_LENGTH], block[2 * 32 + 2 * 12];
	uint8_t sr[SSL3_RANDOM_SIZE], cr[SSL3_RANDOM_SIZE];
	char label[] = "key expansion";
	OSSL_PARAM params[6], *p = params;
	EVP_KDF_CTX *kctx = NULL;
	EVP_KDF *kdf = NULL;
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
	md = SSL_CIPHER_get_handshake_digest(c);
	ms_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), ms,
					    sizeof(ms));
	if (!md || ms_len != SSL3_MASTER_SECRET_SIZE ||
	    SSL_get_server_random(ssl, sr, sizeof(sr)) != sizeof(sr) ||
	    SSL_get_client_random(ssl, cr, sizeof(cr)) != sizeof(cr)) {
		kd_err("keys: session has no master secret or randoms");
		goto out;
	}
	need = 2 * k->key_len + 2 * k->salt_len;

	kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!kctx) {
		kd_log_ssl(KD_LOG_ERR, "keys: TLS1-PRF unavailable");
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)EVP_MD_get0_name(md), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, ms,
						 ms_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, label,
						 strlen(label));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, sr,
						 sizeof(sr));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, cr,
						 sizeof(cr));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, block, need, params) <= 0) {
		kd_log_ssl(KD_LOG_ERR, "keys: TLS1-PRF failed");
		goto out;
	}
	p = NULL;
	memcpy(k->client_key, block, k->key_len);
	memcpy(k->server_key, block + k->key_len, k->key_len);
	memcpy(k->client_salt, block + 2 * k->key_len, k->salt_len);
	memcpy(k->server_salt, block + 2 * k->key_len + k->salt_len,
	       k->salt_len);
	ret = 0;
out:
	OPENSSL_cleanse(ms, sizeof(ms));
	OPENSSL_cleanse(block, sizeof(block));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	if (ret)
		kd_keys_wipe(k);
	return ret;
}
