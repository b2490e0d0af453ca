/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtlsd: the kdtls handshake daemon -- shared declarations.
 *
 * main.c	arguments, init ladder, the epoll loop (concurrency model)
 * config.c	INI configuration file
 * log.c	stderr / syslog logging with levels
 * nl.c		generic netlink: agent socket, attach, assoc-add, record-send
 * ctl.c	control socket: protocol, clients, events
 * hs.c		handshakes: SSL objects, callbacks, key install, final flight
 * peers.c	the (socket, peer) table, handed-over sockets
 * bio.c	the datagram BIO, record-send helpers (hs.h: private header)
 * keys.c	DTLS record parsing, key block (TLS1-PRF), cipher mapping
 * cookie.c	stateless HMAC cookies with secret rotation
 * timer.c	one timerfd, a binary heap of deadlines
 * tlsopt.c	per-connection TLS options (SSL_CTX cache), psk=ask
 * keylog.c	the NSS key log ([tls] keylog_file, a debugging aid)
 */
#ifndef KDTLSD_H
#define KDTLSD_H

#include "ctlmsg.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <linux/kdtls.h>
#include <openssl/ssl.h>

#define KD_PROTO_VERSION	1
#define KD_CTL_MAX_MSG		65536

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- log.c ---- */
enum kd_log_level { KD_LOG_ERR, KD_LOG_WARN, KD_LOG_INFO, KD_LOG_DEBUG };
void kd_log_init(bool syslog, int level);
void kd_log_set_level(int level);
int kd_log_parse_level(const char *s);
void kd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kd_log_ssl(int level, const char *what);
#define kd_err(...)	kd_log(KD_LOG_ERR, __VA_ARGS__)
#define kd_warn(...)	kd_log(KD_LOG_WARN, __VA_ARGS__)
#define kd_info(...)	kd_log(KD_LOG_INFO, __VA_ARGS__)
#define kd_dbg(...)	kd_log(KD_LOG_DEBUG, __VA_ARGS__)

/* ---- config.c ---- */
#define KD_MAX_PSK	64
struct kd_psk {
	char identity[129];
	uint8_t key[64];
	size_t key_len;
};

struct kd_config {
	/* [daemon] */
	char ctl_path[108];
	unsigned int ctl_mode;
	char ctl_group[64];
	bool log_syslog;
	int log_level;
	/* [tls] */
	char cert[256], key[256], ca_file[256], ca_dir[256];
	char ciphers[1024];
	char groups[256];
	bool verify_client;		/* server: request and verify a cert */
	char psk_hint[129];
	char keylog[256];		/* NSS key log file, "" off */
	/* [psk] identity = hexkey */
	struct kd_psk psk[KD_MAX_PSK];
	int n_psk;
	/* [cookie] */
	bool cookie;
	char cookie_digest[32];
	uint8_t cookie_secret[64];
	size_t cookie_secret_len;	/* 0: random */
	unsigned int cookie_rotate_s;
	/* [handshake] */
	unsigned int timer_initial_ms, timer_max_ms;
	unsigned int hs_timeout_s;
	unsigned int linger_s;		/* RFC 6347 4.2.4 period */
	unsigned int mtu;
	unsigned int max_handshakes;
};

extern struct kd_config kd_cfg;
void kd_config_defaults(struct kd_config *c);
int kd_config_load(const char *path, struct kd_config *c);
int kd_hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *len);

/* ---- keylog.c ---- */
int kd_keylog_open(const char *path);	/* "" closes */
void kd_keylog_close(void);
bool kd_keylog_enabled(void);
void kd_keylog_cb(const SSL *ssl, const char *line);

/* ---- timer.c ---- */
struct kd_timer {
	uint64_t when_ms;	/* CLOCK_MONOTONIC */
	int idx;		/* heap slot, -1 when not armed */
	void (*fn)(struct kd_timer *t);
};
int kd_timer_init(void);
int kd_timer_fd(void);
uint64_t kd_now_ms(void);
void kd_timer_arm(struct kd_timer *t, uint64_t when_ms);
void kd_timer_cancel(struct kd_timer *t);
void kd_timer_run(void);	/* the timerfd fired: run expired timers */
size_t kd_timer_count(void);

/* ---- keys.c ---- */
#define KD_HDR_LEN	13
struct kd_rec {
	uint8_t type;
	uint16_t version;
	uint16_t epoch;
	uint64_t seq;
	const uint8_t *body;
	uint16_t len;
};
/* Walk the records of a datagram: 1 = one more in @r, 0 = end, -1 bad. */
int kd_rec_next(const uint8_t **p, size_t *left, struct kd_rec *r);
void kd_rec_hdr_put(uint8_t *p, uint8_t type, uint16_t epoch, uint64_t seq,
		    uint16_t len);

struct kd_keys {
	uint16_t cipher;		/* enum kdtls_cipher */
	uint8_t key_len, salt_len;
	uint8_t client_key[32], server_key[32];
	uint8_t client_salt[12], server_salt[12];
};
/* The kdtls cipher of a negotiated suite, or 0 if the kernel lacks it. */
uint16_t kd_cipher_of(const SSL_CIPHER *c);
const char *kd_cipher_name(uint16_t cipher);
/* Derive the key block (RFC 5246 6.3).  0 or -1; wipes on every path. */
int kd_keys_derive(SSL *ssl, struct kd_keys *k);
void kd_keys_wipe(struct kd_keys *k);
int kd_keys_prf(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
		const char *label, const uint8_t *seed1, size_t seed1_len,
		const uint8_t *seed2, size_t seed2_len, uint8_t *out,
		size_t out_len);
void kd_keys_exit(void);

/* ---- cookie.c ---- */
int kd_cookie_init(void);
int kd_cookie_reload(void);
void kd_cookie_rotate(void);
/* HMAC over peer and ClientHello parameters of @dgram with the secret of
 * generation @prev (0 current, 1 previous); 0 or -1. */
int kd_cookie_make(const struct sockaddr_storage *peer, const uint8_t *dgram,
		   size_t len, int prev, uint8_t *out, unsigned int *out_len);
bool kd_cookie_check(const struct sockaddr_storage *peer, const uint8_t *dgram,
		     size_t len, const uint8_t *cookie, unsigned int clen);
int kd_cookie_mac(EVP_MAC_CTX *ctx, const struct sockaddr_storage *peer,
		  const uint8_t *dgram, size_t len, uint8_t *out,
		  unsigned int *out_len);
void kd_cookie_exit(void);

/* ---- nl.c ---- */
struct kd_ntf {
	uint32_t sock_id;
	struct sockaddr_storage peer;
	uint8_t type;
	uint32_t flags;
	uint16_t epoch;
	uint64_t seq;
	const uint8_t *data;
	size_t len;
};
int kd_nl_init(void);
void kd_nl_exit(void);
int kd_nl_fd(void);
void kd_nl_event(void);		/* the agent socket is readable */
bool kd_nl_pending(void);
int kd_nl_attach(int fd, uint32_t *sock_id);
int kd_nl_release(int fd);	/* stop being the agent */
int kd_nl_assoc_add(int fd, const struct sockaddr_storage *peer,
		    const struct kd_keys *k, bool is_server,
		    uint64_t tx_seq, uint64_t rx_seq);
int kd_nl_assoc_del(int fd, const struct sockaddr_storage *peer);
int kd_nl_record_send(int fd, const struct sockaddr_storage *peer,
		      const void *data, size_t len, bool seal, uint8_t type);
const char *kd_nl_extack(void);

/* ---- hs.c ---- */
struct kd_client;

struct kd_sock {
	struct kd_sock *next;
	int fd;				/* our dup of the application's */
	uint32_t id;			/* kernel sock-id */
	int family;
	struct kd_client *owner;	/* gets the events */
	bool serving;
	bool cookie;
	bool verify_client;
	unsigned int mtu;
	SSL_CTX *ctx;			/* SERVE's own options (a reference), or NULL */
	char ck_digest[16];		/* SERVE's own cookie parameters, */
	uint8_t ck_secret[64];		/* used when ck_secret_len != 0 */
	size_t ck_secret_len;
	struct kd_hs *hs;		/* its handshakes and associations */
	struct kd_hs *listener;		/* served: the DTLSv1_listen object
					 * kept for the next ClientHello */
	unsigned long n_hs;
};

enum kd_hs_state {
	KD_HS_RUNNING,
	KD_HS_VERIFY_FAILED,	/* TLS done, peer not trusted: keys held */
	KD_HS_ESTABLISHED,	/* keys in the kernel */
	KD_HS_CLOSED,
};

int kd_hs_init(void);
int kd_hs_reload(void);
void kd_hs_exit(void);
void kd_hs_record(const struct kd_ntf *n);
struct kd_sock *kd_sock_find(uint32_t id);
struct kd_sock *kd_sock_first_of(struct kd_client *c);
struct kd_sock *kd_sock_new(int fd, uint32_t id, struct kd_client *owner);
void kd_sock_free(struct kd_sock *s);
int kd_hs_connect(struct kd_sock *s, const struct sockaddr_storage *peer,
		  const char *name, const char *psk_identity, bool verify,
		  SSL_CTX *ctx, bool psk_ask, char *err, size_t errlen);
/* kdtlsd's base context, from the configuration file */
SSL_CTX *kd_hs_ctx_new(bool server, bool own_cert);
/* the application's answer to "EVENT psk-required" */
int kd_hs_psk(struct kd_sock *s, const struct sockaddr_storage *peer,
	      const char *identity, const char *hexkey, bool refuse,
	      char *err, size_t errlen);
/* "state=... cipher=..." into @buf; -ENOENT if no such peer */
int kd_hs_status(struct kd_sock *s, const struct sockaddr_storage *peer,
		 char *buf, size_t len);
int kd_hs_abort(struct kd_sock *s, const struct sockaddr_storage *peer);
int kd_hs_shutdown(struct kd_sock *s, const struct sockaddr_storage *peer);
int kd_hs_resume(struct kd_sock *s, const struct sockaddr_storage *peer,
		 const char *ignore, char *err, size_t errlen);
unsigned long kd_hs_count(void);
/* " installs=N derive-ns=N install-ns=N" for INFO */
void kd_hs_install_stats(char *buf, size_t len);

/* ---- tlsopt.c ---- */
#define KDTLS_PSK_ID_MAX	128
#define KDTLS_PSK_KEY_MAX	64
/* CONNECT/SERVE options; NULL / -1 / false: kdtlsd's configuration */
struct kd_tlsopt {
	const char *cert, *key, *ca;	/* PEM text */
	const char *ciphers, *psk_hint;
	int verify_depth;
	bool psk_ask;
};
struct kd_hs;
bool kd_tlsopt_empty(const struct kd_tlsopt *o);
int kd_tlsopt_ctx(const struct kd_tlsopt *o, bool server, const void *owner,
		  SSL_CTX **out,
		  char *err, size_t errlen);
void kd_tlsopt_psk_client(SSL *ssl);
bool kd_tlsopt_psk_waiting(struct kd_hs *hs);
void kd_tlsopt_psk_cancel(struct kd_hs *hs);
int kd_tlsopt_psk_answer(struct kd_hs *hs, const char *identity,
			 const char *hexkey, bool refuse, char *err,
			 size_t errlen);
void kd_tlsopt_flush(void);
void kd_tlsopt_client_gone(const void *owner);
unsigned int kd_tlsopt_count(void);
void kd_tlsopt_exit(void);
int kd_tlsopt_cookie_set(struct kd_sock *s, const char *digest,
			 const char *hexsecret, char *err, size_t errlen);
int kd_tlsopt_cookie_make(const struct kd_sock *s,
			  const struct sockaddr_storage *peer,
			  const uint8_t *dgram, size_t len, uint8_t *out,
			  unsigned int *out_len);
bool kd_tlsopt_cookie_check(const struct kd_sock *s,
			    const struct sockaddr_storage *peer,
			    const uint8_t *dgram, size_t len,
			    const uint8_t *cookie, unsigned int clen);

/* ---- ctl.c ---- */
int kd_ctl_init(void);
void kd_ctl_exit(void);
int kd_ctl_listen_fd(void);
void kd_ctl_accept(void);
void kd_ctl_client_event(struct kd_client *c);
struct kd_client *kd_ctl_client_of_fd(int fd);
void kd_ctl_event(struct kd_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *kd_addr_str(const struct sockaddr_storage *ss, char *buf,
			size_t len);
int kd_addr_parse(const char *s, int family, struct sockaddr_storage *ss);

/* ---- main.c ---- */
int kd_loop_add(int fd, void *ptr);
void kd_loop_del(int fd);

#endif /* KDTLSD_H */
