// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: DTLS 1.2 handshakes with OpenSSL, and what follows them.
 *
 * One struct kd_hs per (socket, peer), from the first ClientHello whose
 * cookie verified (server) or CONNECT (client) until the association is
 * shut down.  Its life:
 *
 *   RUNNING        SSL_accept/SSL_connect driven by record notifications
 *                  (datagrams queue in hs->rxq, read by the BIO) and by
 *                  the retransmission timer (DTLSv1_handle_timeout);
 *   VERIFY_FAILED  OpenSSL finished but the peer is not trusted: nothing
 *                  is installed, the application ignores listed errors and
 *                  resumes, or aborts (close_notify from OpenSSL: no
 *                  association exists yet, so OpenSSL may still seal);
 *   ESTABLISHED    keys in the kernel.  For final_flight_seconds (RFC 6347
 *                  4.2.4) the SSL is kept to answer a retransmitted final
 *                  flight, with the BIO in "installed" mode: every record
 *                  OpenSSL writes is inspected and no epoch-1 record it
 *                  sealed ever leaves -- its Finished is replaced by the
 *                  captured plaintext sealed by the kernel (record-send +
 *                  seal, the kernel's next sequence number), its alerts
 *                  likewise; epoch-0 records (CCS) go out verbatim.  This
 *                  is DESIGN.md invariant 1.  Then the SSL is freed and
 *                  only a summary stays for STATUS and SHUTDOWN.
 *
 * The datagram BIO: one BIO_write is one datagram, sent with record-send
 * (verbatim); BIO_read takes one queued datagram (peek mode for
 * DTLSv1_listen).  Every record header crossing it is parsed, which is how
 * the sequence numbers for assoc-add are learnt:
 *   TX seq = 1 + highest epoch-1 seq OpenSSL wrote (its Finished, or a
 *            retransmission of it),
 *   RX seq = 1 + highest epoch-1 seq of the datagrams OpenSSL consumed.
 *
 * Server cookies: a ClientHello from an unknown peer goes through
 * DTLSv1_listen (cookie.c makes and checks the cookie) on the served
 * socket's listener SSL; when it answers with a HelloVerifyRequest that
 * SSL is kept for the socket's next ClientHello (listener_keep()) -- one
 * per socket, no per-peer state.  With a valid cookie the same SSL goes on
 * with SSL_accept, and the next ClientHello gets a new listener.
 *
 * Early data: epoch-1 application records that OpenSSL buffered, or that
 * reached the daemon before the association existed, are read with
 * SSL_read after the keys are installed and passed to the application as
 * "EVENT data" on the control socket (hex), after "handshake-complete".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "hs.h"

static void hs_drive(struct kd_hs *hs);

static const char *alert_name(int desc)
{
	const char *s = SSL_alert_desc_string_long(desc << 0);

	return s ? s : "unknown";
}

/* ---- OpenSSL callbacks --------------------------------------------- */

static struct kd_hs *hs_of(SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

static void msg_cb(int write_p, int version, int type, const void *buf,
		   size_t len, SSL *ssl, void *arg)
{
	struct kd_hs *hs = hs_of(ssl);
	const uint8_t *p = buf;

	(void)version;
	(void)arg;
	if (!hs)
		return;
	if (write_p && type == SSL3_RT_HANDSHAKE && len >= 12 &&
	    p[0] == SSL3_MT_FINISHED) {
		size_t mlen = p[1] << 16 | p[2] << 8 | p[3];

		if (mlen > len - 12 || 12 + mlen > sizeof(hs->fin))
			return;
		/* the whole message: fragment offset 0, length mlen */
		memcpy(hs->fin, p, 12 + mlen);
		memset(hs->fin + 6, 0, 3);
		hs->fin[9] = mlen >> 16;
		hs->fin[10] = mlen >> 8;
		hs->fin[11] = mlen;
		hs->fin_len = 12 + mlen;
	} else if (write_p && type == SSL3_RT_ALERT && len == 2) {
		memcpy(hs->alert, p, 2);
		hs->has_alert = true;
	} else if (!write_p && type == SSL3_RT_ALERT && len == 2) {
		hs->rcvd_alert = p[1];
	}
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx,
				SSL_get_ex_data_X509_STORE_CTX_idx());
	struct kd_hs *hs = ssl ? hs_of(ssl) : NULL;
	int e = X509_STORE_CTX_get_error(ctx), i;

	if (ok || !hs)
		return 1;
	for (i = 0; i < hs->n_errs; i++)
		if (hs->errs[i] == e)
			return 1;
	if (hs->n_errs < MAX_ERRS)
		hs->errs[hs->n_errs++] = e;
	/* decided after the handshake: reported, never silently accepted */
	return 1;
}

static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
	uint64_t next;

	(void)ssl;
	if (!prev_us)
		return kd_cfg.timer_initial_ms * 1000;
	next = (uint64_t)prev_us * 2;
	if (next > (uint64_t)kd_cfg.timer_max_ms * 1000)
		next = (uint64_t)kd_cfg.timer_max_ms * 1000;
	return next;
}

static int cookie_gen(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	struct kd_hs *hs = hs_of(ssl);

	/* DTLSv1_listen has consumed the datagram from the BIO by now */
	if (!hs || !hs->hello)
		return 0;
	if (hs->sock->ck_secret_len)	/* SERVE's own (tlsopt.c) */
		return kd_tlsopt_cookie_make(hs->sock, &hs->peer, hs->hello,
					     hs->hello_len, cookie, len) == 0;
	return kd_cookie_make(&hs->peer, hs->hello, hs->hello_len, 0,
			      cookie, len) == 0;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie,
			 unsigned int len)
{
	struct kd_hs *hs = hs_of(ssl);

	if (!hs || !hs->hello)
		return 0;
	if (hs->sock->ck_secret_len)
		return kd_tlsopt_cookie_check(hs->sock, &hs->peer, hs->hello,
					      hs->hello_len, cookie, len);
	return kd_cookie_check(&hs->peer, hs->hello, hs->hello_len,
			       cookie, len);
}

static const struct kd_psk *psk_find(const char *identity)
{
	int i;

	for (i = 0; i < kd_cfg.n_psk; i++)
		if (!strcmp(kd_cfg.psk[i].identity, identity))
			return &kd_cfg.psk[i];
	return NULL;
}

static unsigned int psk_server_cb(SSL *ssl, const char *identity,
				  unsigned char *psk, unsigned int max)
{
	const struct kd_psk *p = identity ? psk_find(identity) : NULL;

	(void)ssl;
	if (!p || p->key_len > max) {
		kd_info("PSK: unknown identity");
		return 0;
	}
	memcpy(psk, p->key, p->key_len);
	return p->key_len;
}

static unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity,
				  unsigned int max_id, unsigned char *psk,
				  unsigned int max_psk)
{
	struct kd_hs *hs = hs_of(ssl);
	const struct kd_psk *p = hs ? psk_find(hs->psk_id) : NULL;

	(void)hint;
	if (!p || strlen(p->identity) + 1 > max_id || p->key_len > max_psk)
		return 0;
	memcpy(identity, p->identity, strlen(p->identity) + 1);
	memcpy(psk, p->key, p->key_len);
	return p->key_len;
}

/* ---- contexts ------------------------------------------------------ */

/* @own_cert: with the configuration file's certificate and key */
static SSL_CTX *ctx_new(bool server, bool own_cert)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() :
					    DTLS_client_method());

	if (!ctx) {
		kd_log_ssl(KD_LOG_ERR, "SSL_CTX_new");
		return NULL;
	}
	/* DTLS 1.2 only: 1.0 is refused with protocol_version */
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
	/*
	 * No tickets and no session cache: a full handshake always, so the
	 * server always sends the final flight.  No renegotiation: epoch 2
	 * would need a rekey protocol with the kernel.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_QUERY_MTU | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/*
	 * Send the certificate file's chain as it is.  Otherwise OpenSSL
	 * builds a chain from the trust store on every handshake that sends
	 * a certificate, checking its signature, and sends the trust anchor
	 * along for the peer to parse: a quarter of the OpenSSL instructions
	 * of an ECDHE-ECDSA handshake, and without a CA file a look-up in
	 * OpenSSL's default directory.  BoringSSL no longer builds one.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	if (kd_keylog_enabled())
		SSL_CTX_set_keylog_callback(ctx, kd_keylog_cb);
	if (!SSL_CTX_set_cipher_list(ctx, kd_cfg.ciphers)) {
		kd_log_ssl(KD_LOG_ERR, "ciphers");
		goto err;
	}
	if (!SSL_CTX_set1_groups_list(ctx, kd_cfg.groups)) {
		kd_log_ssl(KD_LOG_ERR, "groups");
		goto err;
	}
	if (*kd_cfg.ca_file || *kd_cfg.ca_dir) {
		if (!SSL_CTX_load_verify_locations(ctx,
				*kd_cfg.ca_file ? kd_cfg.ca_file : NULL,
				*kd_cfg.ca_dir ? kd_cfg.ca_dir : NULL)) {
			kd_log_ssl(KD_LOG_ERR, "CA file/dir");
			goto err;
		}
	} else {
		SSL_CTX_set_default_verify_paths(ctx);
	}
	if (*kd_cfg.cert && own_cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, kd_cfg.cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, *kd_cfg.key ? kd_cfg.key :
						kd_cfg.cert,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			kd_log_ssl(KD_LOG_ERR, "certificate/private key");
			goto err;
		}
	}
	if (server) {
		SSL_CTX_set_cookie_generate_cb(ctx, cookie_gen);
		SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
		if (kd_cfg.n_psk)
			SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
		if (*kd_cfg.psk_hint)
			SSL_CTX_use_psk_identity_hint(ctx, kd_cfg.psk_hint);
	}
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The PSK suites of the cipher list @sk, ':'-separated, into @out; a PSK
 * client offers only those (the certificate suites would be offered with
 * no certificate to check them against).  false when there are none.
 */
static bool psk_suites(STACK_OF(SSL_CIPHER) *sk, char *out, size_t len)
{
	int i;

	*out = 0;
	for (i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++) {
		const char *n = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));

		if (strstr(n, "PSK"))
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
				 *out ? ":" : "", n);
	}
	return *out;
}

/*
 * The client context of CONNECT psk=ID: kdtlsd's own with the PSK suites
 * only, built once, so that a handshake does not parse a cipher string
 * (SSL_set_cipher_list was a tenth of a PSK handshake's CPU in kdtlsd).
 * *@out is NULL when the configured list has no PSK suite.  0 or -1.
 */
static int psk_ctx_new(SSL_CTX *cli, SSL_CTX **out)
{
	char list[1024];
	SSL_CTX *ctx;

	*out = NULL;
	if (!psk_suites(SSL_CTX_get_ciphers(cli), list, sizeof(list)))
		return 0;
	ctx = ctx_new(false, true);
	if (!ctx)
		return -1;
	if (!SSL_CTX_set_cipher_list(ctx, list)) {
		kd_log_ssl(KD_LOG_ERR, "PSK ciphers");
		SSL_CTX_free(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

/* The base of the contexts of per-connection options (tlsopt.c). */
SSL_CTX *kd_hs_ctx_new(bool server, bool own_cert)
{
	return ctx_new(server, own_cert);
}

/* Build new contexts (start, SIGHUP); running handshakes keep theirs. */
int kd_hs_reload(void)
{
	SSL_CTX *srv, *cli, *cli_psk = NULL;

	if (kd_keylog_open(kd_cfg.keylog))
		return -1;
	srv = ctx_new(true, true);
	cli = srv ? ctx_new(false, true) : NULL;
	if (cli && psk_ctx_new(cli, &cli_psk)) {
		SSL_CTX_free(cli);
		cli = NULL;
	}
	if (!srv || !cli) {
		SSL_CTX_free(srv);
		return -1;
	}
	SSL_CTX_free(kd_hs_g.srv);
	SSL_CTX_free(kd_hs_g.cli);
	SSL_CTX_free(kd_hs_g.cli_psk);
	kd_hs_g.srv = srv;
	kd_hs_g.cli = cli;
	kd_hs_g.cli_psk = cli_psk;
	kd_tlsopt_flush();	/* per-connection contexts of the old config */
	return 0;
}

int kd_hs_init(void)
{
	kd_hs_g.bio = kd_bio_method_new();
	if (!kd_hs_g.bio)
		return -1;
	return kd_hs_reload();
}

void kd_hs_exit(void)
{
	while (kd_hs_g.socks)
		kd_sock_free(kd_hs_g.socks);
	SSL_CTX_free(kd_hs_g.srv);
	SSL_CTX_free(kd_hs_g.cli);
	SSL_CTX_free(kd_hs_g.cli_psk);
	kd_tlsopt_exit();
	kd_keys_exit();
	BIO_meth_free(kd_hs_g.bio);
	kd_keylog_close();
	memset(&kd_hs_g, 0, sizeof(kd_hs_g));
}

/* ---- one handshake ------------------------------------------------- */

static void rtx_fire(struct kd_timer *t);
static void life_fire(struct kd_timer *t);

/* CONNECT's own context (tlsopt.c) for the hs_new() it calls, or NULL */
static SSL_CTX *connect_ctx;

static struct kd_hs *hs_new(struct kd_sock *s,
			    const struct sockaddr_storage *peer, bool server)
{
	struct kd_hs *hs = calloc(1, sizeof(*hs));
	BIO *bio;

	if (!hs)
		return NULL;
	hs->sock = s;
	hs->peer = *peer;
	hs->server = server;
	hs->rxq_tail = &hs->rxq;
	hs->early_tail = &hs->early;
	hs->rtx.idx = hs->life.idx = -1;
	hs->rtx.fn = rtx_fire;
	hs->life.fn = life_fire;
	hs->tx_max[0] = hs->tx_max[1] = hs->rx_max1 = -1;
	hs->rcvd_alert = -1;
	hs->ssl = SSL_new(server ? (s->ctx ? s->ctx : kd_hs_g.srv) :
			  (connect_ctx ? connect_ctx : kd_hs_g.cli));
	bio = BIO_new(kd_hs_g.bio);
	if (!hs->ssl || !bio) {
		BIO_free(bio);
		SSL_free(hs->ssl);
		free(hs);
		return NULL;
	}
	BIO_set_data(bio, hs);
	SSL_set_bio(hs->ssl, bio, bio);
	SSL_set_app_data(hs->ssl, hs);
	if (server)
		SSL_set_accept_state(hs->ssl);
	else
		SSL_set_connect_state(hs->ssl);
	SSL_set_msg_callback(hs->ssl, msg_cb);
	DTLS_set_timer_cb(hs->ssl, timer_cb);
	SSL_set_options(hs->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(hs->ssl, s->mtu);
	return hs;
}

/*
 * A restart (RFC 6347 4.2.8) hangs off the established handshake of the
 * same peer: freeing either unties them, freeing the old one drops the
 * restart with it (the peer's association is being shut down anyway).
 */
static void restart_unlink(struct kd_hs *hs)
{
	struct kd_hs *r = hs->restart;

	if (r) {
		hs->restart = NULL;
		r->old = NULL;
		kd_hs_free(r);
	}
	if (hs->old) {
		hs->old->restart = NULL;
		hs->old = NULL;
	}
}

static void hs_free_ssl(struct kd_hs *hs)
{
	kd_timer_cancel(&hs->rtx);
	if (hs->ssl) {
		kd_tlsopt_psk_cancel(hs);	/* ends a paused ASYNC job */
		SSL_set_app_data(hs->ssl, NULL);
		SSL_free(hs->ssl);	/* frees the BIO */
		hs->ssl = NULL;
	}
	kd_dgram_free_list(&hs->rxq);
	hs->rxq_tail = &hs->rxq;
	hs->rxq_len = 0;
}

void kd_hs_free(struct kd_hs *hs)
{
	restart_unlink(hs);
	if (!hs->listening)
		kd_hs_unlink(hs);
	if (hs->state == KD_HS_ESTABLISHED)
		kd_hs_g.n_est--;
	kd_timer_cancel(&hs->life);
	hs_free_ssl(hs);
	kd_dgram_free_list(&hs->early);
	OPENSSL_cleanse(hs, sizeof(*hs));
	free(hs);
}

static void rtx_arm(struct kd_hs *hs)
{
	struct timeval tv;

	if (hs->ssl && DTLSv1_get_timeout(hs->ssl, &tv) == 1)
		kd_timer_arm(&hs->rtx, kd_now_ms() + tv.tv_sec * 1000 +
				       tv.tv_usec / 1000 + 1);
	else
		kd_timer_cancel(&hs->rtx);
}

static void verify_errors_str(struct kd_hs *hs, char *codes, size_t clen,
			      char *text, size_t tlen)
{
	size_t co = 0, to = 0;
	int i;

	codes[0] = text[0] = 0;
	for (i = 0; i < hs->n_errs; i++) {
		const char *s = hs->errs[i] < 0 ? "no peer certificate" :
				X509_verify_cert_error_string(hs->errs[i]);

		co += snprintf(codes + co, clen > co ? clen - co : 0, "%s%d",
			       i ? "," : "", hs->errs[i]);
		to += snprintf(text + to, tlen > to ? tlen - to : 0, "%s%s",
			       i ? "; " : "", s);
	}
}

static void hs_fail(struct kd_hs *hs, const char *why)
{
	char reason[256], esc[512];
	unsigned long e = ERR_peek_last_error();

	if (hs->rcvd_alert >= 0)
		snprintf(reason, sizeof(reason), "%s: alert %s", why,
			 alert_name(hs->rcvd_alert));
	else if (e)
		snprintf(reason, sizeof(reason), "%s: %s", why,
			 ERR_reason_error_string(e) ?: "error");
	else
		snprintf(reason, sizeof(reason), "%s", why);
	ERR_clear_error();
	kd_ctl_escape(reason, esc, sizeof(esc));
	kd_info("handshake failed: %s", reason);
	if (hs->rcvd_alert >= 0)
		EV(hs, "EVENT handshake-failed alert=%d reason=%s",
		   hs->rcvd_alert, esc);
	else
		EV(hs, "EVENT handshake-failed reason=%s", esc);
	kd_hs_free(hs);
}

/* Read what OpenSSL holds (early data) into hs->early. */
static void drain_app_data(struct kd_hs *hs)
{
	uint8_t buf[16384 + 64];
	int n, used = 0;		/* of buf, to wipe */

	while (hs->ssl) {
		struct dgram *d;

		n = SSL_read(hs->ssl, buf, sizeof(buf));
		if (n <= 0) {
			int e = SSL_get_error(hs->ssl, n);

			if (e == SSL_ERROR_ZERO_RETURN)
				hs->rcvd_alert = SSL_AD_CLOSE_NOTIFY;
			ERR_clear_error();
			break;
		}
		if (n > used)
			used = n;
		if (hs->early_bytes + n > EARLY_MAX) {
			kd_warn("early data over %d bytes dropped", EARLY_MAX);
			continue;
		}
		d = kd_dgram_new(buf, n);
		if (!d)
			break;
		*hs->early_tail = d;
		hs->early_tail = &d->next;
		hs->early_bytes += n;
	}
	OPENSSL_cleanse(buf, used);
}

static void deliver_early(struct kd_hs *hs)
{
	static const char hex[] = "0123456789abcdef";
	struct dgram *d;

	while ((d = hs->early)) {
		char *h = malloc(2 * d->len + 1);
		size_t i;

		hs->early = d->next;
		if (h) {
			for (i = 0; i < d->len; i++) {
				h[2 * i] = hex[d->data[i] >> 4];
				h[2 * i + 1] = hex[d->data[i] & 15];
			}
			h[2 * d->len] = 0;
			EV(hs, "EVENT data len=%zu hex=%s", d->len, h);
			OPENSSL_cleanse(h, 2 * d->len);
			free(h);
		}
		OPENSSL_cleanse(d->data, d->len);
		free(d);
	}
	hs->early_tail = &hs->early;
	hs->early_bytes = 0;
}

static void peer_closed(struct kd_hs *hs, int desc, bool fatal);

/* This thread's CPU time (user + kernel: assoc-add runs in the kernel
 * on our behalf, inside the netlink sendmsg). */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Key derivation took t1 - t0, assoc-add until now. */
static void install_account(uint64_t t0, uint64_t t1)
{
	kd_hs_g.derive_ns += t1 - t0;
	kd_hs_g.install_ns += cpu_ns() - t1;
	kd_hs_g.installs++;
}

void kd_hs_install_stats(char *buf, size_t len)
{
	snprintf(buf, len, " installs=%llu derive-ns=%llu install-ns=%llu",
		 (unsigned long long)kd_hs_g.installs,
		 (unsigned long long)kd_hs_g.derive_ns,
		 (unsigned long long)kd_hs_g.install_ns);
}

/* Keys to the kernel, then (only then) tell the application. */
static void hs_install(struct kd_hs *hs)
{
	struct kd_keys k;
	uint64_t tx_seq, rx_seq;
	int err;

	uint64_t t0, t1;

	drain_app_data(hs);
	tx_seq = hs->tx_max[1] + 1;
	rx_seq = hs->rx_max1 + 1;
	t0 = cpu_ns();
	if (kd_keys_derive(hs->ssl, &k)) {
		hs_fail(hs, "key derivation");
		return;
	}
	/* from here on OpenSSL's epoch-1 records never leave (bio_write) */
	hs->installed = true;
	t1 = cpu_ns();
	err = kd_nl_assoc_add(hs->sock->fd, &hs->peer, &k, hs->server,
			      tx_seq, rx_seq);
	kd_keys_wipe(&k);
	install_account(t0, t1);
	if (err) {
		char esc[300];

		kd_err("assoc-add: %s: %s", strerror(-err), kd_nl_extack());
		kd_ctl_escape(kd_nl_extack(), esc, sizeof(esc));
		EV(hs, "EVENT handshake-failed reason=assoc-add:%s:%s",
		   strerror(-err), esc);
		kd_hs_free(hs);
		return;
	}
	hs->state = KD_HS_ESTABLISHED;
	kd_hs_g.n_est++;
	kd_dbg("assoc-add: tx seq %llu, rx seq %llu",
	       (unsigned long long)tx_seq, (unsigned long long)rx_seq);
	EV(hs, "EVENT handshake-complete cipher=%s suite=%s protocol=DTLSv1.2 role=%s",
	   kd_cipher_name(hs->cipher), hs->suite,
	   hs->server ? "server" : "client");
	deliver_early(hs);
	kd_timer_cancel(&hs->rtx);
	kd_timer_arm(&hs->life, kd_now_ms() + kd_cfg.linger_s * 1000ull);
	if (hs->rcvd_alert == SSL_AD_CLOSE_NOTIFY)
		peer_closed(hs, SSL_AD_CLOSE_NOTIFY, false);
}

static void hs_complete(struct kd_hs *hs)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(hs->ssl);
	X509 *cert;

	if (SSL_version(hs->ssl) != DTLS1_2_VERSION) {
		hs_fail(hs, "not DTLS 1.2");
		return;
	}
	hs->cipher = kd_cipher_of(c);
	snprintf(hs->suite, sizeof(hs->suite), "%s",
		 c ? SSL_CIPHER_get_name(c) : "none");
	if (!hs->cipher) {
		hs_fail(hs, "suite not offloaded by kdtls");
		return;
	}
	if (hs->server)
		SSL_get_client_random(hs->ssl, hs->client_random,
				      sizeof(hs->client_random));
	cert = SSL_get1_peer_certificate(hs->ssl);
	if (cert) {
		X509_NAME_oneline(X509_get_subject_name(cert),
				  hs->peer_subject, sizeof(hs->peer_subject));
		X509_free(cert);
	} else if (hs->verify && !(SSL_CIPHER_get_auth_nid(c) == NID_auth_psk)) {
		if (hs->n_errs < MAX_ERRS)
			hs->errs[hs->n_errs++] = -1;	/* no peer certificate */
	}
	if (hs->verify && hs->n_errs) {
		char codes[128], text[1024], esc[2048];

		hs->state = KD_HS_VERIFY_FAILED;
		verify_errors_str(hs, codes, sizeof(codes), text, sizeof(text));
		kd_ctl_escape(text, esc, sizeof(esc));
		kd_info("peer verification failed: %s", text);
		EV(hs, "EVENT verify-failed errors=%s reasons=%s", codes, esc);
		rtx_arm(hs);
		return;
	}
	hs_install(hs);
}

static void hs_drive(struct kd_hs *hs)
{
	int r, e;

	if (hs->state == KD_HS_VERIFY_FAILED || hs->state == KD_HS_ESTABLISHED) {
		/* buffered data (held until resume, or delivered now), a
		 * retransmitted final flight answered through bio_write */
		drain_app_data(hs);
		if (hs->state == KD_HS_ESTABLISHED) {
			deliver_early(hs);
			if (hs->rcvd_alert == SSL_AD_CLOSE_NOTIFY)
				peer_closed(hs, SSL_AD_CLOSE_NOTIFY, false);
		}
		return;
	}
	r = SSL_do_handshake(hs->ssl);
	if (r == 1) {
		kd_timer_cancel(&hs->rtx);
		hs_complete(hs);
		return;
	}
	e = SSL_get_error(hs->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		rtx_arm(hs);
		return;
	}
	if (e == SSL_ERROR_WANT_ASYNC)
		return;		/* psk=ask: paused until "PSK" (tlsopt.c) */
	hs_fail(hs, "handshake");
}

static void rtx_fire(struct kd_timer *t)
{
	struct kd_hs *hs = (void *)((char *)t - offsetof(struct kd_hs, rtx));

	if (!hs->ssl)
		return;
	if (kd_tlsopt_psk_waiting(hs)) {
		/* OpenSSL is paused inside the PSK callback: not now */
		kd_timer_arm(&hs->rtx, kd_now_ms() + 1000);
		return;
	}
	if (DTLSv1_handle_timeout(hs->ssl) < 0) {
		if (hs->state == KD_HS_RUNNING) {
			EV(hs, "EVENT timeout reason=retransmissions");
			kd_hs_free(hs);
		}
		return;
	}
	rtx_arm(hs);
}

static void life_fire(struct kd_timer *t)
{
	struct kd_hs *hs = (void *)((char *)t - offsetof(struct kd_hs, life));

	switch (hs->state) {
	case KD_HS_RUNNING:
		EV(hs, "EVENT timeout reason=handshake");
		kd_hs_free(hs);
		break;
	case KD_HS_VERIFY_FAILED:
		EV(hs, "EVENT timeout reason=verification");
		kd_hs_free(hs);
		break;
	default:
		/* RFC 6347 4.2.4 period over: OpenSSL is no longer needed */
		kd_dbg("final-flight period over, SSL freed");
		hs_free_ssl(hs);
		break;
	}
}

/* ---- after the handshake ------------------------------------------- */

static void peer_closed(struct kd_hs *hs, int desc, bool fatal)
{
	int err = kd_nl_assoc_del(hs->sock->fd, &hs->peer);

	if (desc == SSL_AD_CLOSE_NOTIFY && !fatal)
		EV(hs, "EVENT peer-closed");
	else
		EV(hs, "EVENT alert level=%s desc=%d name=%s",
		   fatal ? "fatal" : "warning", desc, alert_name(desc));
	if (!err)
		EV(hs, "EVENT assoc-removed");
	kd_hs_free(hs);
}

/* Our final flight again: CCS (epoch 0, verbatim), Finished (sealed). */
static void final_flight(struct kd_hs *hs)
{
	uint8_t ccs[KD_HDR_LEN + 1];
	uint64_t now = kd_now_ms();

	if (!hs->fin_len || now - hs->last_rtx_ms < RTX_MIN_GAP_MS)
		return;
	hs->last_rtx_ms = now;
	kd_rec_hdr_put(ccs, KDTLS_CT_CHANGE_CIPHER_SPEC, 0, ++hs->tx_max[0], 1);
	ccs[KD_HDR_LEN] = 1;
	kd_send_verbatim(hs, ccs, sizeof(ccs));
	kd_send_sealed(hs, KDTLS_CT_HANDSHAKE, hs->fin, hs->fin_len);
	kd_dbg("final flight retransmitted (Finished sealed by the kernel)");
}

/* A record the kernel opened under the association's epoch. */
static void opened_record(struct kd_hs *hs, const struct kd_ntf *n)
{
	static const uint8_t no_reneg[2] = { 1, SSL_AD_NO_RENEGOTIATION };

	if (n->type == KDTLS_CT_ALERT && n->len >= 2) {
		if (n->data[1] == SSL_AD_CLOSE_NOTIFY || n->data[0] == 2)
			peer_closed(hs, n->data[1], n->data[0] == 2);
		else
			EV(hs, "EVENT alert level=warning desc=%d name=%s",
			   n->data[1], alert_name(n->data[1]));
		return;
	}
	if (n->type != KDTLS_CT_HANDSHAKE || !n->len)
		return;
	if (n->data[0] == SSL3_MT_FINISHED) {
		final_flight(hs);	/* the peer missed ours */
	} else if (n->data[0] == SSL3_MT_CLIENT_HELLO && hs->server) {
		/* RFC 5246 7.2.2: a server refuses renegotiation this way */
		kd_info("renegotiation refused: no_renegotiation warning");
		kd_send_sealed(hs, KDTLS_CT_ALERT, no_reneg, 2);
	} else if (n->data[0] == SSL3_MT_HELLO_REQUEST && !hs->server) {
		/*
		 * RFC 5246 7.4.1.1: a client MAY ignore a HelloRequest.  It
		 * does, rather than answer no_renegotiation, which OpenSSL
		 * (and BoringSSL) turn into a fatal handshake_failure that
		 * would end an association that works.
		 */
		kd_info("renegotiation refused: HelloRequest ignored");
	}
}

static bool has_type(const uint8_t *p, size_t len, uint8_t type)
{
	struct kd_rec r;

	while (kd_rec_next(&p, &len, &r) == 1)
		if (r.type == type)
			return true;
	return false;
}

/* ---- entry points -------------------------------------------------- */

/*
 * The object a ClientHello of an unknown peer goes through: the served
 * socket's listener when it has one (built on the context the socket is
 * served with now; SERVE and SIGHUP change that), else a new one.
 */
static struct kd_hs *listener_get(struct kd_sock *s,
				  const struct sockaddr_storage *peer)
{
	SSL_CTX *want = s->ctx ? s->ctx : kd_hs_g.srv;
	struct kd_hs *hs = s->listener;

	s->listener = NULL;
	if (hs && SSL_get_SSL_CTX(hs->ssl) != want) {
		kd_hs_free(hs);
		hs = NULL;
	}
	if (!hs)
		return hs_new(s, peer, true);
	hs->peer = *peer;
	return hs;
}

/*
 * DTLSv1_listen() answered with a HelloVerifyRequest: keep @hs (not in
 * the table, no timer, no datagram, no peer) for the socket's next
 * ClientHello.  Calling DTLSv1_listen() again on the same SSL is its
 * documented use (it starts with SSL_clear()), so a cookie-less
 * ClientHello costs no SSL_new()/SSL_free() and a full handshake one
 * SSL_new(), as SSL_accept() with SSL_OP_COOKIE_EXCHANGE does.  Per-peer
 * state is still nil: one object per served socket, whoever sends.
 */
static void listener_keep(struct kd_hs *hs)
{
	struct kd_sock *s = hs->sock;

	kd_dgram_free_list(&hs->rxq);
	hs->rxq_tail = &hs->rxq;
	hs->rxq_len = 0;
	hs->hello = NULL;
	hs->hello_len = 0;
	hs->tx_max[0] = hs->tx_max[1] = hs->rx_max1 = -1;
	hs->has_alert = false;
	hs->rcvd_alert = -1;
	memset(&hs->peer, 0, sizeof(hs->peer));
	if (s->listener)
		kd_hs_free(s->listener);
	s->listener = hs;
}

/*
 * A server handshake's ClientHello through DTLSv1_listen (stateless
 * cookie exchange).  Return: true when the cookie verified and @hs goes
 * on as a handshake (timer, MTU and client verification set again, since
 * DTLSv1_listen runs SSL_clear); false when a HelloVerifyRequest went out
 * (@hs is kept as the socket's listener) or the hello was bad (@hs is
 * freed): nothing is kept for the peer.
 */
static bool hs_listen(struct kd_hs *hs, const struct kd_ntf *n)
{
	struct kd_sock *s = hs->sock;
	BIO_ADDR *addr;
	int ret;

	hs->listening = true;
	hs->hello = n->data;
	hs->hello_len = n->len;
	addr = BIO_ADDR_new();
	ret = addr ? DTLSv1_listen(hs->ssl, addr) : -1;
	BIO_ADDR_free(addr);
	hs->peek = false;
	if (ret < 0)
		kd_log_ssl(KD_LOG_DEBUG, "DTLSv1_listen");
	ERR_clear_error();
	if (ret == 0)
		listener_keep(hs);
	else if (ret < 0)
		kd_hs_free(hs);
	if (ret <= 0)
		return false;
	hs->listening = false;
	DTLS_set_timer_cb(hs->ssl, timer_cb);
	DTLS_set_link_mtu(hs->ssl, s->mtu);
	return true;
}

/* client certificates, as the socket was served */
static void hs_set_verify(struct kd_hs *hs)
{
	hs->verify = hs->sock->verify_client;
	if (hs->verify)
		SSL_set_verify(hs->ssl, SSL_VERIFY_PEER |
			       SSL_VERIFY_CLIENT_ONCE, verify_cb);
}

static void server_hello(struct kd_sock *s, const struct kd_ntf *n)
{
	const uint8_t *p = n->data;
	size_t left = n->len;
	struct kd_rec r;
	struct kd_hs *hs;

	if (kd_rec_next(&p, &left, &r) != 1 || r.type != KDTLS_CT_HANDSHAKE ||
	    r.epoch != 0 || !r.len || r.body[0] != SSL3_MT_CLIENT_HELLO)
		return;
	if (kd_hs_g.n_hs - kd_hs_g.n_est >= kd_cfg.max_handshakes) {
		kd_warn("max_handshakes reached: ClientHello dropped");
		return;
	}
	hs = s->cookie ? listener_get(s, &n->peer) : hs_new(s, &n->peer, true);
	if (!hs)
		return;
	kd_rxq_push(hs, n->data, n->len);
	if (s->cookie) {
		/* stateless: nothing stays unless the cookie verifies */
		if (!hs_listen(hs, n))
			return;
		kd_dbg("ClientHello with a valid cookie");
	}
	hs_set_verify(hs);
	kd_hs_link(hs);
	kd_timer_arm(&hs->life, kd_now_ms() + kd_cfg.hs_timeout_s * 1000ull);
	/* SSL_accept checks the buffered ClientHello's cookie once more */
	hs_drive(hs);
	hs = kd_hs_find(s, &n->peer);
	if (hs)
		hs->hello = NULL;
}

/* ---- a peer that restarted (RFC 6347 4.2.8) -------------------------- */

/* The client random of a datagram whose first record is an epoch-0
 * ClientHello (first fragment), or NULL. */
static const uint8_t *client_hello_random(const struct kd_ntf *n)
{
	const uint8_t *p = n->data;
	size_t left = n->len;
	struct kd_rec r;

	if (kd_rec_next(&p, &left, &r) != 1 || r.type != KDTLS_CT_HANDSHAKE ||
	    r.epoch != 0 || r.len < 12 + 2 + 32 ||
	    r.body[0] != SSL3_MT_CLIENT_HELLO ||
	    r.body[6] || r.body[7] || r.body[8])	/* fragment offset 0 */
		return NULL;
	return r.body + 12 + 2;
}

/* A peer whose (client) certificate would end in verify-failed. */
static bool restart_untrusted(struct kd_hs *hs)
{
	const SSL_CIPHER *c = SSL_get_pending_cipher(hs->ssl);
	X509 *cert;

	if (!hs->verify)
		return false;
	if (hs->n_errs)
		return true;
	if (c && SSL_CIPHER_get_auth_nid(c) == NID_auth_psk)
		return false;
	cert = SSL_get1_peer_certificate(hs->ssl);
	X509_free(cert);
	return !cert;
}

/*
 * The restart verified the peer's Finished and is about to send its own
 * (the first epoch-1 record, which the kernel refuses while the old
 * association exists): the peer has proved it holds the new keys, so the
 * old association goes and the restart takes its place in the table.  An
 * untrusted peer cannot take an association over: verify-failed waits for
 * the application, but the old association would be gone by then.
 */
int kd_hs_takeover(struct kd_hs *hs)
{
	struct kd_hs *old = hs->old;
	int err;

	if (restart_untrusted(hs)) {
		kd_info("restart: peer not trusted, the association stays");
		return -1;
	}
	err = kd_nl_assoc_del(old->sock->fd, &old->peer);
	if (err && err != -ENOENT) {
		kd_err("restart: assoc-del: %s", strerror(-err));
		return -1;
	}
	kd_info("restart: the peer completed a new handshake, old association removed");
	if (!err)
		EV(old, "EVENT assoc-removed reason=peer-restart");
	old->restart = NULL;
	hs->old = NULL;
	kd_hs_free(old);
	kd_hs_link(hs);
	return 0;
}

/*
 * An epoch-0 ClientHello from a peer that has an association: the client
 * restarted on the same address and port.  Always with a cookie exchange
 * (a spoofer gets a HelloVerifyRequest and changes nothing), then a new
 * handshake beside the association, which keeps working until the new
 * one replaces it (kd_hs_takeover).
 */
static void restart_hello(struct kd_hs *old, const struct kd_ntf *n)
{
	struct kd_sock *s = old->sock;
	struct kd_hs *hs;

	if (kd_hs_g.n_hs - kd_hs_g.n_est >= kd_cfg.max_handshakes) {
		kd_warn("max_handshakes reached: ClientHello dropped");
		return;
	}
	hs = listener_get(s, &old->peer);
	if (!hs)
		return;
	kd_rxq_push(hs, n->data, n->len);
	if (!hs_listen(hs, n)) {
		kd_dbg("restart: ClientHello without a valid cookie from a peer with an association: HelloVerifyRequest, association kept");
		return;
	}
	kd_info("restart: ClientHello with a valid cookie from a peer with an association");
	hs_set_verify(hs);
	hs->old = old;
	old->restart = hs;
	kd_timer_arm(&hs->life, kd_now_ms() + kd_cfg.hs_timeout_s * 1000ull);
	/* the first flight has no epoch-1 record: @old outlives this call */
	hs_drive(hs);
	if (old->restart == hs)
		hs->hello = NULL;
}

/* A datagram (not opened by the kernel) of a peer kdtlsd has a handshake
 * or an association for: true when the restart logic took it. */
static bool restart_record(struct kd_hs *hs, const struct kd_ntf *n)
{
	const uint8_t *random;
	struct kd_hs *r = hs->restart;

	if (r) {
		/* the restart's flights; @hs may be freed by them */
		kd_rxq_push(r, n->data, n->len);
		hs_drive(r);
		return true;
	}
	if (hs->state != KD_HS_ESTABLISHED || !hs->server ||
	    !hs->sock->serving)
		return false;
	random = client_hello_random(n);
	if (!random)
		return false;
	/* a late retransmission of the ClientHello of this very session */
	if (!memcmp(random, hs->client_random, sizeof(hs->client_random)))
		return true;
	restart_hello(hs, n);
	return true;
}

void kd_hs_record(const struct kd_ntf *n)
{
	struct kd_sock *s = kd_sock_find(n->sock_id);
	struct kd_hs *hs;

	if (!s)
		return;
	kd_dbg("record: sock %u type %u flags %#x len %zu", n->sock_id,
	       n->type, n->flags, n->len);
	hs = kd_hs_find(s, &n->peer);
	if (!hs) {
		if (!(n->flags & KDTLS_RECORD_F_OPENED) && s->serving)
			server_hello(s, n);
		return;
	}
	if (!(n->flags & KDTLS_RECORD_F_OPENED) && restart_record(hs, n))
		return;
	if (n->flags & KDTLS_RECORD_F_OPENED) {
		if (hs->state == KD_HS_ESTABLISHED)
			opened_record(hs, n);
		return;
	}
	if (hs->state == KD_HS_ESTABLISHED && !hs->ssl) {
		/* past the final-flight period: the peer missed it all */
		if (has_type(n->data, n->len, KDTLS_CT_CHANGE_CIPHER_SPEC))
			final_flight(hs);
		return;
	}
	kd_rxq_push(hs, n->data, n->len);
	hs_drive(hs);
}

int kd_hs_connect(struct kd_sock *s, const struct sockaddr_storage *peer_in,
		  const char *name, const char *psk_identity, bool verify,
		  SSL_CTX *ctx, bool psk_ask, char *err, size_t errlen)
{
	struct sockaddr_storage peer = *peer_in;
	struct kd_hs *hs;

	kd_peer_norm(s, &peer);
	if (kd_hs_find(s, &peer)) {
		snprintf(err, errlen, "peer busy");
		return -EEXIST;
	}
	if (psk_identity && !psk_find(psk_identity)) {
		snprintf(err, errlen, "unknown PSK identity");
		return -ENOENT;
	}
	if (kd_hs_g.n_hs - kd_hs_g.n_est >= kd_cfg.max_handshakes) {
		snprintf(err, errlen, "max_handshakes reached");
		return -EBUSY;
	}
	if (psk_identity && !ctx && !kd_hs_g.cli_psk) {
		snprintf(err, errlen, "no PSK suite configured");
		return -EINVAL;
	}
	/* psk=ID on kdtlsd's own context: its PSK-only twin */
	connect_ctx = ctx ? ctx : psk_identity ? kd_hs_g.cli_psk : NULL;
	hs = hs_new(s, &peer, false);
	connect_ctx = NULL;
	if (!hs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (psk_identity || psk_ask) {
		char out[1024];

		if (psk_ask) {
			kd_tlsopt_psk_client(hs->ssl);
		} else {
			snprintf(hs->psk_id, sizeof(hs->psk_id), "%s",
				 psk_identity);
			SSL_set_psk_client_callback(hs->ssl, psk_client_cb);
		}
		/* a per-connection context: its PSK suites, parsed here */
		if (ctx && (!psk_suites(SSL_get_ciphers(hs->ssl), out,
					sizeof(out)) ||
			    !SSL_set_cipher_list(hs->ssl, out))) {
			snprintf(err, errlen, "no PSK suite configured");
			hs_free_ssl(hs);
			free(hs);
			return -EINVAL;
		}
	} else {
		hs->verify = verify;
		if (verify)
			SSL_set_verify(hs->ssl, SSL_VERIFY_PEER, verify_cb);
	}
	if (name && *name) {
		snprintf(hs->name, sizeof(hs->name), "%s", name);
		SSL_set_tlsext_host_name(hs->ssl, name);
		if (!SSL_set1_host(hs->ssl, name)) {
			snprintf(err, errlen, "bad verification name");
			hs_free_ssl(hs);
			free(hs);
			return -EINVAL;
		}
	}
	kd_hs_link(hs);
	kd_timer_arm(&hs->life, kd_now_ms() + kd_cfg.hs_timeout_s * 1000ull);
	hs_drive(hs);		/* may fail and free hs: reported as an event */
	return 0;
}

static const char *state_name(enum kd_hs_state st)
{
	switch (st) {
	case KD_HS_RUNNING: return "handshaking";
	case KD_HS_VERIFY_FAILED: return "verify-failed";
	case KD_HS_ESTABLISHED: return "established";
	default: return "closed";
	}
}

static struct kd_hs *lookup(struct kd_sock *s,
			    const struct sockaddr_storage *peer_in)
{
	struct sockaddr_storage peer = *peer_in;

	kd_peer_norm(s, &peer);
	return kd_hs_find(s, &peer);
}

int kd_hs_status(struct kd_sock *s, const struct sockaddr_storage *peer,
		 char *buf, size_t len)
{
	struct kd_hs *hs = lookup(s, peer);
	char codes[128], text[1024], esc[2048], subj[600];

	if (!hs)
		return -ENOENT;
	verify_errors_str(hs, codes, sizeof(codes), text, sizeof(text));
	kd_ctl_escape(text, esc, sizeof(esc));
	kd_ctl_escape(hs->peer_subject, subj, sizeof(subj));
	snprintf(buf, len,
		 "state=%s role=%s cipher=%s suite=%s protocol=%s "
		 "verify-errors=%s verify-reasons=%s peer-subject=%s",
		 state_name(hs->state), hs->server ? "server" : "client",
		 kd_cipher_name(hs->cipher), *hs->suite ? hs->suite : "none",
		 hs->state == KD_HS_RUNNING ? "none" : "DTLSv1.2",
		 *codes ? codes : "none", *esc ? esc : "none",
		 *subj ? subj : "none");
	return 0;
}

int kd_hs_abort(struct kd_sock *s, const struct sockaddr_storage *peer)
{
	struct kd_hs *hs = lookup(s, peer);

	if (!hs)
		return -ENOENT;
	if (hs->state == KD_HS_ESTABLISHED)
		return kd_hs_shutdown(s, peer);
	if (hs->state == KD_HS_VERIFY_FAILED && hs->ssl) {
		/* no association yet: OpenSSL may seal its close_notify */
		SSL_shutdown(hs->ssl);
		ERR_clear_error();
	}
	kd_hs_free(hs);
	return 0;
}

int kd_hs_shutdown(struct kd_sock *s, const struct sockaddr_storage *peer)
{
	static const uint8_t close_notify[2] = { 1, SSL_AD_CLOSE_NOTIFY };
	struct kd_hs *hs = lookup(s, peer);

	if (!hs)
		return -ENOENT;
	if (hs->state != KD_HS_ESTABLISHED)
		return -ENOTCONN;
	kd_send_sealed(hs, KDTLS_CT_ALERT, close_notify, 2);
	kd_nl_assoc_del(s->fd, &hs->peer);
	kd_hs_free(hs);
	return 0;
}

/* The application's answer to "EVENT psk-required" (tlsopt.c). */
int kd_hs_psk(struct kd_sock *s, const struct sockaddr_storage *peer,
	      const char *identity, const char *hexkey, bool refuse,
	      char *err, size_t errlen)
{
	struct kd_hs *hs = lookup(s, peer);
	int ret;

	if (!hs) {
		snprintf(err, errlen, "no handshake with this peer");
		return -ENOENT;
	}
	ret = kd_tlsopt_psk_answer(hs, identity, hexkey, refuse, err, errlen);
	if (!ret)
		hs_drive(hs);	/* resumes OpenSSL in the PSK callback */
	return ret;
}

int kd_hs_resume(struct kd_sock *s, const struct sockaddr_storage *peer,
		 const char *ignore, char *err, size_t errlen)
{
	struct kd_hs *hs = lookup(s, peer);
	int i;

	if (!hs)
		return -ENOENT;
	if (hs->state != KD_HS_VERIFY_FAILED) {
		snprintf(err, errlen, "not in verify-failed state");
		return -EINVAL;
	}
	for (i = 0; i < hs->n_errs; i++) {
		char want[16];
		const char *p = ignore;
		size_t wl = snprintf(want, sizeof(want), "%d", hs->errs[i]);
		bool found = false;

		while (p && *p) {
			size_t l = strcspn(p, ",");

			if (l == wl && !strncmp(p, want, l))
				found = true;
			p += l + (p[l] == ',');
		}
		if (!found) {
			snprintf(err, errlen, "error %d not ignored",
				 hs->errs[i]);
			return -EPERM;
		}
	}
	hs_install(hs);		/* events tell the outcome */
	return 0;
}
