// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: QDtlsClientVerifier -- stateless cookies (RFC 6347 4.2.1).
 *
 *   cookie = HMAC(secret, family || address || port
 *                         || client_random || cipher_suites)
 *
 * exactly as kdtlsd computes it (userspace/kdtlsd/cookie.c): family is one
 * byte (AF_INET or AF_INET6), address and port in network order.  A
 * ClientHello whose cookie does not match gets a HelloVerifyRequest that
 * carries the right one, in a record with the ClientHello's sequence number
 * (RFC 6347 4.2.1) and version DTLS 1.0 (0xfeff, as the RFC recommends), no
 * larger than the ClientHello (no amplification).  Nothing is kept per
 * client.  Pure code apart from kdtls_verifier_verify_client()'s sendto():
 * table-tested on the host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "internal.h"

#define REC_HDR		13
#define HS_HDR		12

struct kdtls_verifier {
	struct kdtls_err err;
	enum kdtls_hash hash;
	uint8_t secret[KDTLS_MAX_SECRET];
	size_t secret_len;
	uint8_t *hello;
	size_t hello_len;
};

static const char *digest_name(enum kdtls_hash h)
{
	switch (h) {
	case KDTLS_HASH_SHA1: return "SHA1";
	case KDTLS_HASH_SHA256: return "SHA256";
	case KDTLS_HASH_SHA384: return "SHA384";
	case KDTLS_HASH_SHA512: return "SHA512";
	}
	return NULL;
}

KDTLS_EXPORT int kdtls_verifier_new(struct kdtls_verifier **vp)
{
	struct kdtls_verifier *v;

	if (!vp)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->hash = KDTLS_HASH_SHA256;
	v->secret_len = 32;
	if (getrandom(v->secret, v->secret_len, 0) != 32) {
		free(v);
		return -EIO;
	}
	*vp = v;
	return 0;
}

KDTLS_EXPORT void kdtls_verifier_free(struct kdtls_verifier *v)
{
	if (!v)
		return;
	explicit_bzero(v->secret, sizeof(v->secret));
	free(v->hello);
	free(v);
}

KDTLS_EXPORT int kdtls_verifier_set_cookie_generator_params(
	struct kdtls_verifier *v, const struct kdtls_generator_params *p)
{
	if (!v)
		return -EINVAL;
	if (!p || !digest_name(p->hash) || !p->secret || !p->secret_len ||
	    p->secret_len > KDTLS_MAX_SECRET)
		return kdtls_err_set(&v->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "invalid cookie generator parameters");
	v->hash = p->hash;
	memcpy(v->secret, p->secret, p->secret_len);
	v->secret_len = p->secret_len;
	kdtls_err_clear(&v->err);
	return 0;
}

KDTLS_EXPORT void kdtls_verifier_cookie_generator_params(
	const struct kdtls_verifier *v, struct kdtls_generator_params *p)
{
	if (!v || !p)
		return;
	p->hash = v->hash;
	p->secret = v->secret;
	p->secret_len = v->secret_len;
}

KDTLS_EXPORT enum kdtls_error kdtls_verifier_error(
	const struct kdtls_verifier *v)
{
	return v ? v->err.code : KDTLS_ERR_INVALID_INPUT;
}

KDTLS_EXPORT const char *kdtls_verifier_error_string(
	const struct kdtls_verifier *v)
{
	return v ? v->err.text : "no object";
}

KDTLS_EXPORT const void *kdtls_verifier_verified_hello(
	const struct kdtls_verifier *v, size_t *len)
{
	if (len)
		*len = v ? v->hello_len : 0;
	return v ? v->hello : NULL;
}

struct hello {
	const uint8_t *rec;		/* record header */
	const uint8_t *random;
	const uint8_t *cookie;
	size_t cookie_len;
	const uint8_t *suites;
	size_t suites_len;
};

/* The fields of a whole, unfragmented epoch-0 ClientHello; 0 or -1. */
static int parse_hello(const uint8_t *d, size_t len, struct hello *h)
{
	size_t rlen, mlen, off, n;
	const uint8_t *p;

	if (len < REC_HDR + HS_HDR || d[0] != 22 || d[1] != 0xfe ||
	    d[3] || d[4])
		return -1;
	rlen = d[11] << 8 | d[12];
	if (rlen < HS_HDR || rlen > len - REC_HDR)
		return -1;
	p = d + REC_HDR;
	mlen = p[1] << 16 | p[2] << 8 | p[3];
	if (p[0] != 1 || (p[6] | p[7] | p[8]) ||
	    (size_t)(p[9] << 16 | p[10] << 8 | p[11]) != mlen ||
	    mlen > rlen - HS_HDR)
		return -1;
	p += HS_HDR;
	h->rec = d;
	off = 2;
	if (off + 32 > mlen)
		return -1;
	h->random = p + off;
	off += 32;
	if (off + 1 > mlen || off + 1 + p[off] > mlen)
		return -1;
	off += 1 + p[off];			/* session_id */
	if (off + 1 > mlen || off + 1 + p[off] > mlen)
		return -1;
	h->cookie_len = p[off];
	h->cookie = p + off + 1;
	off += 1 + p[off];
	if (off + 2 > mlen)
		return -1;
	n = p[off] << 8 | p[off + 1];
	off += 2;
	if (off + n > mlen || !n || n % 2)
		return -1;
	h->suites = p + off;
	h->suites_len = n;
	return 0;
}

static int make_cookie(const struct kdtls_verifier *v,
		       const struct sockaddr *addr, const struct hello *h,
		       uint8_t *out, size_t *olen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	uint8_t fam = addr->sa_family;
	int ret = -1;

	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
				(char *)digest_name(v->hash), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, v->secret, v->secret_len, params) ||
	    !EVP_MAC_update(ctx, &fam, 1))
		goto out;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)addr;

		if (!EVP_MAC_update(ctx, (const void *)&in->sin_addr, 4) ||
		    !EVP_MAC_update(ctx, (const void *)&in->sin_port, 2))
			goto out;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)addr;

		if (!EVP_MAC_update(ctx, (const void *)&in6->sin6_addr, 16) ||
		    !EVP_MAC_update(ctx, (const void *)&in6->sin6_port, 2))
			goto out;
	}
	if (!EVP_MAC_update(ctx, h->random, 32) ||
	    !EVP_MAC_update(ctx, h->suites, h->suites_len) ||
	    !EVP_MAC_final(ctx, out, olen, 64))
		goto out;
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

KDTLS_EXPORT int kdtls_verifier_check(struct kdtls_verifier *v,
				      const void *dgram, size_t len,
				      const struct sockaddr *addr,
				      socklen_t addrlen, void *hvr,
				      size_t hvr_cap, size_t *hvr_len)
{
	uint8_t cookie[64], *o = hvr, *copy;
	size_t clen = 0, need, body;
	struct hello h;
	const char *why;

	if (!v)
		return -EINVAL;
	if (hvr_len)
		*hvr_len = 0;
	if (!dgram || parse_hello(dgram, len, &h))
		return kdtls_err_set(&v->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "not a whole DTLS ClientHello");
	if (kdtls_addr_check(addr, addrlen, &why))
		return kdtls_err_set(&v->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "invalid peer: %s", why);
	if (make_cookie(v, addr, &h, cookie, &clen))
		return kdtls_err_set(&v->err, KDTLS_ERR_TLS_INIT, -EIO,
				     "HMAC failed");
	if (h.cookie_len == clen && !CRYPTO_memcmp(h.cookie, cookie, clen)) {
		copy = malloc(len);
		if (!copy)
			return kdtls_err_set(&v->err, KDTLS_ERR_INVALID_INPUT,
					     -ENOMEM, "out of memory");
		memcpy(copy, dgram, len);
		free(v->hello);
		v->hello = copy;
		v->hello_len = len;
		kdtls_err_clear(&v->err);
		return 1;
	}
	/* HelloVerifyRequest: server_version(2) cookie<0..255> */
	body = 2 + 1 + clen;
	need = REC_HDR + HS_HDR + body;
	if (!hvr || !hvr_len || hvr_cap < need)
		return kdtls_err_set(&v->err, KDTLS_ERR_INVALID_INPUT, -ENOSPC,
				     "no room for the HelloVerifyRequest");
	memcpy(o, h.rec, REC_HDR);	/* type, epoch 0, the same seq */
	o[1] = 0xfe;
	o[2] = 0xff;
	o[11] = (HS_HDR + body) >> 8;
	o[12] = (HS_HDR + body) & 0xff;
	o += REC_HDR;
	o[0] = 3;			/* hello_verify_request */
	o[1] = 0;
	o[2] = body >> 8;
	o[3] = body & 0xff;
	o[4] = o[5] = 0;		/* message_seq 0 */
	o[6] = o[7] = o[8] = 0;		/* fragment_offset */
	o[9] = 0;
	o[10] = body >> 8;
	o[11] = body & 0xff;
	o += HS_HDR;
	o[0] = 0xfe;
	o[1] = 0xff;
	o[2] = clen;
	memcpy(o + 3, cookie, clen);
	*hvr_len = need;
	kdtls_err_clear(&v->err);
	return 0;
}

KDTLS_EXPORT int kdtls_verifier_verify_client(struct kdtls_verifier *v,
					      int fd, const void *dgram,
					      size_t len,
					      const struct sockaddr *addr,
					      socklen_t addrlen)
{
	uint8_t hvr[REC_HDR + HS_HDR + 3 + 64];
	size_t hlen;
	int ret;

	ret = kdtls_verifier_check(v, dgram, len, addr, addrlen, hvr,
				   sizeof(hvr), &hlen);
	if (ret != 0)
		return ret;
	if (sendto(fd, hvr, hlen, MSG_DONTWAIT | MSG_NOSIGNAL, addr,
		   addrlen) < 0)
		return kdtls_err_set(&v->err, KDTLS_ERR_SOCKET, -errno,
				     "sending the HelloVerifyRequest: %s",
				     strerror(errno));
	return 0;
}
