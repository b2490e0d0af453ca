// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: stateless cookies for the HelloVerifyRequest (RFC 6347 4.2.1).
 *
 *   cookie = HMAC(secret, family || address || port
 *                         || client_random || cipher_suites)
 *
 * over the ClientHello of the datagram being verified (the cookie itself
 * is excluded: it is what changes between the two ClientHellos).  The
 * digest is configurable ([cookie] digest, default SHA-256).  The secret is
 * random unless configured, and rotated every [cookie] rotate_seconds; the
 * previous secret stays valid for one period, so a cookie is accepted for
 * between one and two periods.  Comparison is constant-time
 * (CRYPTO_memcmp).  Nothing here allocates per peer: the daemon keeps no
 * state for a ClientHello until its cookie verifies (DESIGN.md invariant 6).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "kdtlsd.h"

#define SECRET_LEN	32

static struct {
	EVP_MAC *mac;
	/* HMAC contexts keyed with each secret: a cookie dups one rather
	 * than fetching the digest and keying again (OpenSSL 3.0 makes
	 * that the expensive part of a cookie) */
	EVP_MAC_CTX *keyed[2];
	uint8_t secret[2][64];	/* [0] current, [1] previous */
	size_t secret_len;
	bool have_prev;
	char digest[32];
} ck;

static int new_secret(uint8_t *s)
{
	if (RAND_priv_bytes(s, SECRET_LEN) != 1) {
		kd_log_ssl(KD_LOG_ERR, "cookie: RAND_priv_bytes");
		return -1;
	}
	return 0;
}

/* (Re)build the keyed contexts after the secrets or the digest changed. */
static int rekey(void)
{
	OSSL_PARAM params[2];
	int gen;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     ck.digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	for (gen = 0; gen < 2; gen++) {
		EVP_MAC_CTX_free(ck.keyed[gen]);
		ck.keyed[gen] = NULL;
		if (gen && !ck.have_prev)
			break;
		ck.keyed[gen] = EVP_MAC_CTX_new(ck.mac);
		if (!ck.keyed[gen] ||
		    !EVP_MAC_init(ck.keyed[gen], ck.secret[gen],
				  ck.secret_len, params)) {
			kd_log_ssl(KD_LOG_ERR, "cookie: HMAC key");
			EVP_MAC_CTX_free(ck.keyed[gen]);
			ck.keyed[gen] = NULL;
			return -1;
		}
	}
	return 0;
}

/* Take digest and secret from the configuration (start and SIGHUP). */
int kd_cookie_reload(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, kd_cfg.cookie_digest, NULL);

	if (!md || EVP_MD_get_size(md) > 255) {
		kd_err("cookie: digest %s unusable", kd_cfg.cookie_digest);
		EVP_MD_free(md);
		return -1;
	}
	EVP_MD_free(md);
	snprintf(ck.digest, sizeof(ck.digest), "%s", kd_cfg.cookie_digest);
	/* the running secret becomes the previous one: no cookie breaks */
	if (ck.secret_len) {
		memcpy(ck.secret[1], ck.secret[0], sizeof(ck.secret[0]));
		ck.have_prev = true;
	}
	if (kd_cfg.cookie_secret_len) {
		memcpy(ck.secret[0], kd_cfg.cookie_secret,
		       kd_cfg.cookie_secret_len);
		ck.secret_len = kd_cfg.cookie_secret_len;
	} else {
		if (new_secret(ck.secret[0]))
			return -1;
		ck.secret_len = SECRET_LEN;
	}
	return rekey();
}

int kd_cookie_init(void)
{
	ck.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!ck.mac) {
		kd_log_ssl(KD_LOG_ERR, "cookie: no HMAC");
		return -1;
	}
	return kd_cookie_reload();
}

void kd_cookie_exit(void)
{
	OPENSSL_cleanse(&ck.secret, sizeof(ck.secret));
	EVP_MAC_CTX_free(ck.keyed[0]);
	EVP_MAC_CTX_free(ck.keyed[1]);
	ck.keyed[0] = ck.keyed[1] = NULL;
	EVP_MAC_free(ck.mac);
	ck.mac = NULL;
}

/*
 * Rotation: a configured secret is a fixed key (tests, clusters sharing a
 * key); it is still moved to "previous" so that the period logic holds.
 */
void kd_cookie_rotate(void)
{
	memcpy(ck.secret[1], ck.secret[0], sizeof(ck.secret[0]));
	ck.have_prev = true;
	if (kd_cfg.cookie_secret_len) {
		memcpy(ck.secret[0], kd_cfg.cookie_secret,
		       kd_cfg.cookie_secret_len);
	} else if (new_secret(ck.secret[0])) {
		rekey();
		return;
	}
	rekey();
	kd_dbg("cookie: secret rotated");
}

/*
 * The ClientHello parameters the cookie binds: the client random and the
 * cipher suites, found in the first record of @dgram (RFC 6347 4.2.1,
 * 4.3.2).  -1 if it is not a whole, unfragmented ClientHello.
 */
static int hello_params(const uint8_t *dgram, size_t len,
			const uint8_t **random, const uint8_t **suites,
			size_t *suites_len)
{
	const uint8_t *p = dgram;
	struct kd_rec r;
	size_t left = len, off, mlen, n;

	if (kd_rec_next(&p, &left, &r) != 1 || r.type != KDTLS_CT_HANDSHAKE ||
	    r.epoch != 0 || r.len < 12)
		return -1;
	p = r.body;
	mlen = p[1] << 16 | p[2] << 8 | p[3];
	/* ClientHello, frag_offset 0, frag_length = length */
	if (p[0] != 1 || (p[6] | p[7] | p[8]) ||
	    (size_t)(p[9] << 16 | p[10] << 8 | p[11]) != mlen ||
	    mlen > (size_t)r.len - 12)
		return -1;
	p += 12;
	off = 2;				/* client_version */
	if (off + 32 > mlen)
		return -1;
	*random = p + off;
	off += 32;
	if (off + 1 > mlen)
		return -1;
	off += 1 + p[off];			/* session_id */
	if (off + 1 > mlen)
		return -1;
	off += 1 + p[off];			/* cookie */
	if (off + 2 > mlen)
		return -1;
	n = p[off] << 8 | p[off + 1];
	off += 2;
	if (off + n > mlen)
		return -1;
	*suites = p + off;
	*suites_len = n;
	return 0;
}

/**
 * kd_cookie_mac() - the cookie of a ClientHello
 * @ctx: an HMAC context, keyed and ready for updates; it is consumed
 * @peer: the ClientHello's source
 * @dgram: the datagram holding the ClientHello
 * @len: its length
 * @out: 255 bytes
 * @out_len: set to the cookie's length
 *
 * HMAC(secret, family || address || port || client_random ||
 * cipher_suites): kdtlsd's own cookie (rotated secret), a served socket's
 * (tlsopt.c) and libkdtls's verifier all compute this.
 *
 * Return: 0, or -1 when @dgram holds no whole ClientHello or HMAC fails.
 */
int kd_cookie_mac(EVP_MAC_CTX *ctx, const struct sockaddr_storage *peer,
		  const uint8_t *dgram, size_t len, uint8_t *out,
		  unsigned int *out_len)
{
	const uint8_t *random, *suites;
	size_t suites_len, olen = 0;
	uint8_t fam = peer->ss_family;

	if (hello_params(dgram, len, &random, &suites, &suites_len) ||
	    !EVP_MAC_update(ctx, &fam, 1))
		return -1;
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)peer;

		if (!EVP_MAC_update(ctx, (const void *)&in->sin_addr, 4) ||
		    !EVP_MAC_update(ctx, (const void *)&in->sin_port, 2))
			return -1;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)peer;

		if (!EVP_MAC_update(ctx, (const void *)&in6->sin6_addr, 16) ||
		    !EVP_MAC_update(ctx, (const void *)&in6->sin6_port, 2))
			return -1;
	}
	if (!EVP_MAC_update(ctx, random, 32) ||
	    !EVP_MAC_update(ctx, suites, suites_len) ||
	    !EVP_MAC_final(ctx, out, &olen, 255))
		return -1;
	*out_len = olen;
	return 0;
}

int kd_cookie_make(const struct sockaddr_storage *peer, const uint8_t *dgram,
		   size_t len, int prev, uint8_t *out, unsigned int *out_len)
{
	EVP_MAC_CTX *ctx;
	int ret;

	if (!ck.keyed[prev])	/* no previous secret yet, or rekey failed */
		return -1;
	ctx = EVP_MAC_CTX_dup(ck.keyed[prev]);
	if (!ctx)
		return -1;
	ret = kd_cookie_mac(ctx, peer, dgram, len, out, out_len);
	EVP_MAC_CTX_free(ctx);
	return ret;
}

bool kd_cookie_check(const struct sockaddr_storage *peer, const uint8_t *dgram,
		     size_t len, const uint8_t *cookie, unsigned int clen)
{
	uint8_t want[255];
	unsigned int wlen;
	int gen;

	for (gen = 0; gen < 2; gen++) {
		if (kd_cookie_make(peer, dgram, len, gen, want, &wlen))
			continue;
		if (wlen == clen && !CRYPTO_memcmp(want, cookie, clen))
			return true;
	}
	return false;
}
