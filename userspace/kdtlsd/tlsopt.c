// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: per-connection TLS options (Documentation/kdtlsd.rst,
 * "Per-connection TLS options") and PSKs asked from the application.
 *
 * CONNECT and SERVE may carry their own certificate, private key, CA
 * certificates (PEM text, percent-encoded: kdtlsd never opens a file an
 * unprivileged client names), cipher list, verify depth, PSK identity hint
 * and psk=ask.  Each distinct set gets one SSL_CTX, built on top of the
 * configuration file's and cached under the SHA-256 of the options (the
 * cache never holds key material in clear).  A context with cert= is built
 * without the configuration file's certificate and key, so that the peer
 * can only be shown the one given.
 *
 * The cache holds one reference on each context (SSL_CTX is refcounted);
 * kd_tlsopt_ctx() hands its caller another one, which a served socket
 * keeps and CONNECT drops once SSL_new() took its own.  So the cache may
 * forget a context at any time: at most KD_TLSOPT_MAX of them, least
 * recently used first, at most KD_TLSOPT_PER_CLIENT created by one control
 * connection (past it, that connection's own least recently used one goes),
 * and all of them on SIGHUP (kd_tlsopt_flush), so that a new CONNECT or
 * SERVE is built on the reloaded configuration.  A context that is gone
 * from the cache lives on in the handshakes and sockets that hold it.
 *
 * psk=ask: OpenSSL calls the PSK callbacks synchronously in the middle of
 * the handshake, but the answer comes from the application, later, on the
 * control socket.  The contexts of psk=ask run with SSL_MODE_ASYNC, so
 * SSL_do_handshake() runs inside an ASYNC job: the callback sends "EVENT
 * psk-required" and pauses the job (ASYNC_pause_job, SSL_ERROR_WANT_ASYNC
 * for hs.c), and the "PSK" request stores the answer and drives the
 * handshake again, which resumes the job in the callback.  The answer
 * lives in SSL ex_data and is wiped as soon as OpenSSL has it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/async.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hs.h"
#include "kdtlsd.h"

#define KD_TLSOPT_MAX		256	/* cached contexts, all clients */
#define KD_TLSOPT_PER_CLIENT	16	/* created by one control connection */

struct ctx_ent {
	struct ctx_ent *next;		/* most recently used first */
	uint8_t id[32];			/* SHA-256 of the options */
	const void *owner;		/* creator (struct kd_client), or NULL */
	SSL_CTX *ctx;			/* the cache's own reference */
};

static struct {
	struct ctx_ent *list;
	unsigned int n;
	int ex_idx;			/* struct psk_ask of an SSL */
} to = { .ex_idx = -1 };

enum { PSK_NONE, PSK_ASKED, PSK_ANSWERED, PSK_REFUSED };

struct psk_ask {
	int state;
	char identity[KDTLS_PSK_ID_MAX + 1];
	uint8_t key[KDTLS_PSK_KEY_MAX];
	size_t key_len;
};

/* ---- the PSK asked from the application ------------------------------ */

static void psk_ask_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			 int idx, long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (ptr) {
		OPENSSL_cleanse(ptr, sizeof(struct psk_ask));
		free(ptr);
	}
}

static int ex_init(void)
{
	if (to.ex_idx < 0)
		to.ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
						 psk_ask_free);
	return to.ex_idx < 0 ? -1 : 0;
}

static struct psk_ask *psk_of(SSL *ssl, bool create)
{
	struct psk_ask *p;

	if (ex_init())
		return NULL;
	p = SSL_get_ex_data(ssl, to.ex_idx);

	if (!p && create) {
		p = calloc(1, sizeof(*p));
		if (p && !SSL_set_ex_data(ssl, to.ex_idx, p)) {
			free(p);
			p = NULL;
		}
	}
	return p;
}

/* Wait in the ASYNC job for the application's answer: true if it came. */
static bool psk_wait(struct kd_hs *hs, struct psk_ask *p, const char *what)
{
	if (!ASYNC_get_current_job()) {
		kd_warn("psk=ask outside an ASYNC job: refused");
		return false;
	}
	while (p->state == PSK_NONE || p->state == PSK_ASKED) {
		if (p->state == PSK_NONE) {
			p->state = PSK_ASKED;
			EV(hs, "EVENT psk-required %s", what);
		}
		/* resumed by every hs_drive(); the answer sets p->state */
		if (!ASYNC_pause_job())
			return false;
	}
	return p->state == PSK_ANSWERED;
}

static unsigned int psk_ask_client_cb(SSL *ssl, const char *hint,
				      char *identity, unsigned int max_id,
				      unsigned char *psk, unsigned int max_psk)
{
	struct kd_hs *hs = SSL_get_app_data(ssl);
	struct psk_ask *p = psk_of(ssl, true);
	char what[KDTLS_PSK_ID_MAX * 3 + 16], esc[KDTLS_PSK_ID_MAX * 3 + 1];
	unsigned int n = 0;

	if (!hs || !p)
		return 0;
	if (hint && strlen(hint) > KDTLS_PSK_ID_MAX) {
		kd_warn("psk=ask: server's PSK identity hint of %zu bytes (%d at most): handshake refused",
			strlen(hint), KDTLS_PSK_ID_MAX);
		return 0;
	}
	kd_ctl_escape(hint ? hint : "", esc, sizeof(esc));
	snprintf(what, sizeof(what), "hint=%s", esc);
	if (psk_wait(hs, p, what) && strlen(p->identity) + 1 <= max_id &&
	    p->key_len <= max_psk) {
		memcpy(identity, p->identity, strlen(p->identity) + 1);
		memcpy(psk, p->key, p->key_len);
		n = p->key_len;
	}
	OPENSSL_cleanse(p->key, sizeof(p->key));
	return n;
}

static unsigned int psk_ask_server_cb(SSL *ssl, const char *identity,
				      unsigned char *psk, unsigned int max)
{
	struct kd_hs *hs = SSL_get_app_data(ssl);
	struct psk_ask *p = psk_of(ssl, true);
	char what[KDTLS_PSK_ID_MAX * 6 + 64], esc[KDTLS_PSK_ID_MAX * 3 + 1];
	const char *hint = SSL_get_psk_identity_hint(ssl);
	char hesc[KDTLS_PSK_ID_MAX * 3 + 1];
	unsigned int n = 0;

	if (!hs || !p)
		return 0;
	if ((identity && strlen(identity) > KDTLS_PSK_ID_MAX) ||
	    (hint && strlen(hint) > KDTLS_PSK_ID_MAX)) {
		kd_warn("psk=ask: client's PSK identity of %zu bytes (%d at most): handshake refused",
			identity ? strlen(identity) : 0, KDTLS_PSK_ID_MAX);
		return 0;
	}
	kd_ctl_escape(identity ? identity : "", esc, sizeof(esc));
	kd_ctl_escape(hint ? hint : "", hesc, sizeof(hesc));
	snprintf(what, sizeof(what), "identity=%s hint=%s", esc, hesc);
	if (psk_wait(hs, p, what) && p->key_len <= max) {
		memcpy(psk, p->key, p->key_len);
		n = p->key_len;
	}
	OPENSSL_cleanse(p->key, sizeof(p->key));
	return n;
}

bool kd_tlsopt_psk_waiting(struct kd_hs *hs)
{
	struct psk_ask *p = hs->ssl ? psk_of(hs->ssl, false) : NULL;

	return p && p->state == PSK_ASKED;
}

/* Before an SSL waiting for a PSK is freed: let the callback return (a
 * refusal), so that OpenSSL finishes the ASYNC job it is paused in. */
void kd_tlsopt_psk_cancel(struct kd_hs *hs)
{
	struct psk_ask *p = hs->ssl ? psk_of(hs->ssl, false) : NULL;

	if (!p || p->state != PSK_ASKED)
		return;
	p->state = PSK_REFUSED;
	SSL_do_handshake(hs->ssl);
	ERR_clear_error();
}

int kd_tlsopt_psk_answer(struct kd_hs *hs, const char *identity,
			 const char *hexkey, bool refuse, char *err,
			 size_t errlen)
{
	struct psk_ask *p = hs->ssl ? psk_of(hs->ssl, false) : NULL;

	if (!p || p->state != PSK_ASKED) {
		snprintf(err, errlen, "no PSK asked for this peer");
		return -ENOENT;
	}
	if (refuse) {
		p->state = PSK_REFUSED;
		return 0;
	}
	if (!hexkey || kd_hex_decode(hexkey, p->key, sizeof(p->key),
				     &p->key_len) || !p->key_len) {
		snprintf(err, errlen, "key=HEX missing or invalid (1-64 bytes)");
		return -EINVAL;
	}
	if (!hs->server) {
		if (!identity || !*identity ||
		    strlen(identity) > KDTLS_PSK_ID_MAX) {
			OPENSSL_cleanse(p->key, sizeof(p->key));
			snprintf(err, errlen,
				 "identity= missing or too long (128 at most)");
			return -EINVAL;
		}
		snprintf(p->identity, sizeof(p->identity), "%s", identity);
	}
	p->state = PSK_ANSWERED;
	return 0;
}

/* ---- a served socket's own cookie secret ------------------------------ */

/*
 * SERVE cookie-digest= cookie-secret=: QDtls setCookieGeneratorParameters.
 * The same cookie as kdtlsd's own (cookie.c) and libkdtls's verifier,
 * HMAC(secret, family || address || port || client_random ||
 * cipher_suites), with the socket's digest and secret, not rotated.
 */
int kd_tlsopt_cookie_make(const struct kd_sock *s,
			  const struct sockaddr_storage *peer,
			  const uint8_t *dgram, size_t len, uint8_t *out,
			  unsigned int *out_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	int ret = -1;

	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
				(char *)s->ck_digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, s->ck_secret, s->ck_secret_len, params))
		ret = kd_cookie_mac(ctx, peer, dgram, len, out, out_len);
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

bool kd_tlsopt_cookie_check(const struct kd_sock *s,
			    const struct sockaddr_storage *peer,
			    const uint8_t *dgram, size_t len,
			    const uint8_t *cookie, unsigned int clen)
{
	uint8_t want[255];
	unsigned int wlen;

	return !kd_tlsopt_cookie_make(s, peer, dgram, len, want, &wlen) &&
	       wlen == clen && !CRYPTO_memcmp(want, cookie, clen);
}

/* "SHA256" + hex secret into @s; -EINVAL with @err */
int kd_tlsopt_cookie_set(struct kd_sock *s, const char *digest,
			 const char *hexsecret, char *err, size_t errlen)
{
	uint8_t secret[sizeof(s->ck_secret)];
	EVP_MD *md;
	size_t len;

	if (!digest || !hexsecret) {
		snprintf(err, errlen, "cookie-digest= and cookie-secret= go together");
		return -EINVAL;
	}
	md = EVP_MD_fetch(NULL, digest, NULL);
	if (!md || EVP_MD_get_size(md) > 64 || strlen(digest) >=
	    sizeof(s->ck_digest)) {
		EVP_MD_free(md);
		snprintf(err, errlen, "cookie-digest: unknown digest");
		return -EINVAL;
	}
	EVP_MD_free(md);
	if (kd_hex_decode(hexsecret, secret, sizeof(secret), &len) || !len) {
		OPENSSL_cleanse(secret, sizeof(secret));
		snprintf(err, errlen, "cookie-secret: 1-64 bytes, hex");
		return -EINVAL;
	}
	snprintf(s->ck_digest, sizeof(s->ck_digest), "%s", digest);
	memcpy(s->ck_secret, secret, len);
	s->ck_secret_len = len;
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

/* ---- contexts --------------------------------------------------------- */

static int no_password(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw; (void)u;
	return -1;		/* an encrypted key is refused, never prompted */
}

static int use_cert(SSL_CTX *ctx, const char *pem, const char *keypem)
{
	BIO *b = BIO_new_mem_buf(pem, -1), *kb = NULL;
	X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, no_password, NULL) : NULL;
	EVP_PKEY *k = NULL;
	int ret = -1;

	if (!x || SSL_CTX_use_certificate(ctx, x) != 1)
		goto out;
	SSL_CTX_clear_chain_certs(ctx);
	for (;;) {
		X509 *c = PEM_read_bio_X509(b, NULL, no_password, NULL);

		if (!c)
			break;
		if (!SSL_CTX_add0_chain_cert(ctx, c)) {
			X509_free(c);
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the chain */
	kb = BIO_new_mem_buf(keypem, -1);
	k = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL) : NULL;
	if (!k || SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto out;
	ret = 0;
out:
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(b);
	BIO_free(kb);
	return ret;
}

static int use_ca(SSL_CTX *ctx, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_STORE *st = X509_STORE_new();
	int n = 0;

	if (!b || !st)
		goto err;
	for (;;) {
		X509 *c = PEM_read_bio_X509(b, NULL, no_password, NULL);

		if (!c)
			break;
		if (!X509_STORE_add_cert(st, c)) {
			X509_free(c);
			goto err;
		}
		X509_free(c);
		n++;
	}
	ERR_clear_error();
	if (!n)
		goto err;
	SSL_CTX_set_cert_store(ctx, st);	/* frees the old store */
	BIO_free(b);
	return 0;
err:
	X509_STORE_free(st);
	BIO_free(b);
	return -1;
}

static void digest_opt(EVP_MD_CTX *md, const char *tag, const char *v)
{
	uint32_t len = v ? strlen(v) + 1 : 0;

	EVP_DigestUpdate(md, tag, strlen(tag) + 1);
	EVP_DigestUpdate(md, &len, sizeof(len));
	if (v)
		EVP_DigestUpdate(md, v, len);
}

bool kd_tlsopt_empty(const struct kd_tlsopt *o)
{
	return !o->cert && !o->key && !o->ca && !o->ciphers && !o->psk_hint &&
	       o->verify_depth < 0 && !o->psk_ask;
}

static void ent_drop(struct ctx_ent **pp)
{
	struct ctx_ent *e = *pp;

	*pp = e->next;
	SSL_CTX_free(e->ctx);	/* its users keep their own references */
	free(e);
	to.n--;
}

/* Forget the least recently used entry (of @owner, or of anyone if NULL). */
static void evict_lru(const void *owner)
{
	struct ctx_ent **pp, **last = NULL;

	for (pp = &to.list; *pp; pp = &(*pp)->next)
		if (!owner || (*pp)->owner == owner)
			last = pp;
	if (last)
		ent_drop(last);
}

/*
 * The SSL_CTX for @o (NULL: kdtlsd's own, when @o is empty), a reference
 * of the caller's own (SSL_CTX_free it).  @owner: the control connection
 * asking, for its quota.  -errno with a message in @err for options
 * OpenSSL refuses.
 */
int kd_tlsopt_ctx(const struct kd_tlsopt *o, bool server, const void *owner,
		  SSL_CTX **out, char *err, size_t errlen)
{
	struct ctx_ent *e, **pp;
	unsigned int mine = 0;
	EVP_MD_CTX *md;
	uint8_t id[32];
	char depth[16];
	SSL_CTX *ctx;

	*out = NULL;
	if (kd_tlsopt_empty(o))
		return 0;
	if (!!o->cert != !!o->key) {
		snprintf(err, errlen, "cert= and key= go together");
		return -EINVAL;
	}
	snprintf(depth, sizeof(depth), "%d", o->verify_depth);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	digest_opt(md, "role", server ? "server" : "client");
	digest_opt(md, "cert", o->cert);
	digest_opt(md, "key", o->key);
	digest_opt(md, "ca", o->ca);
	digest_opt(md, "ciphers", o->ciphers);
	digest_opt(md, "depth", depth);
	digest_opt(md, "hint", o->psk_hint);
	digest_opt(md, "ask", o->psk_ask ? "1" : "0");
	EVP_DigestFinal_ex(md, id, NULL);
	EVP_MD_CTX_free(md);
	for (pp = &to.list; (e = *pp); pp = &e->next) {
		if (!memcmp(e->id, id, sizeof(id))) {
			if (!SSL_CTX_up_ref(e->ctx)) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			*pp = e->next;		/* most recently used */
			e->next = to.list;
			to.list = e;
			*out = e->ctx;
			return 0;
		}
		if (owner && e->owner == owner)
			mine++;
	}
	if (mine >= KD_TLSOPT_PER_CLIENT)
		evict_lru(owner);
	if (to.n >= KD_TLSOPT_MAX)
		evict_lru(NULL);
	/* cert=: the peer sees this certificate, never the daemon's own */
	ctx = kd_hs_ctx_new(server, !o->cert);
	if (!ctx) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return -ENOMEM;
	}
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) {
		snprintf(err, errlen, "no usable cipher in ciphers=");
		goto err;
	}
	if (o->cert && use_cert(ctx, o->cert, o->key)) {
		snprintf(err, errlen,
			 "cert=/key= unusable (PEM, unencrypted, matching)");
		goto err;
	}
	if (o->ca && use_ca(ctx, o->ca)) {
		snprintf(err, errlen, "ca= holds no usable PEM certificate");
		goto err;
	}
	if (o->verify_depth >= 0)
		SSL_CTX_set_verify_depth(ctx, o->verify_depth);
	if (o->psk_hint && server &&
	    !SSL_CTX_use_psk_identity_hint(ctx, o->psk_hint)) {
		snprintf(err, errlen, "psk-hint= refused");
		goto err;
	}
	if (o->psk_ask) {
		SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC);
		if (server)
			SSL_CTX_set_psk_server_callback(ctx, psk_ask_server_cb);
	}
	e = calloc(1, sizeof(*e));
	if (!e || !SSL_CTX_up_ref(ctx)) {
		free(e);
		snprintf(err, errlen, "out of memory");
		SSL_CTX_free(ctx);
		return -ENOMEM;
	}
	memcpy(e->id, id, sizeof(id));
	e->owner = owner;
	e->ctx = ctx;
	e->next = to.list;
	to.list = e;
	to.n++;
	*out = ctx;
	return 0;
err:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return -EINVAL;
}

/* The client side of psk=ask on one SSL. */
void kd_tlsopt_psk_client(SSL *ssl)
{
	SSL_set_psk_client_callback(ssl, psk_ask_client_cb);
	SSL_set_mode(ssl, SSL_MODE_ASYNC);
}

/* SIGHUP: new contexts are built on the reloaded configuration. */
void kd_tlsopt_flush(void)
{
	while (to.list)
		ent_drop(&to.list);
}

/* A control connection is gone: its entries stay, out of any quota. */
void kd_tlsopt_client_gone(const void *owner)
{
	struct ctx_ent *e;

	for (e = to.list; e; e = e->next)
		if (e->owner == owner)
			e->owner = NULL;
}

unsigned int kd_tlsopt_count(void)
{
	return to.n;
}

void kd_tlsopt_exit(void)
{
	kd_tlsopt_flush();
}
