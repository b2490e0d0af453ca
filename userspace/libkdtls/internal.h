/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkdtls: private declarations.
 *
 * ctx.c	the control connection: requests, replies, the event queue,
 *		dispatch (the concurrency model is written there)
 * dtls.c	the QDtls object: peer, configuration, handshake, events
 * config.c	struct kdtls_config: validation, copies, files, encoding
 * io.c		plaintext send/receive, cmsg and recvmsg_out parsing
 * verifier.c	QDtlsClientVerifier: stateless HMAC cookies
 * msg.c	control-protocol text codec (pure, host-tested)
 * error.c	QDtlsError names and the per-object last error
 */
#ifndef KDTLS_INTERNAL_H
#define KDTLS_INTERNAL_H

#include <netinet/in.h>
#include <stdarg.h>

#include "kdtls.h"

#define KDTLS_EXPORT	__attribute__((visibility("default")))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KDTLS_MAX_IGNORE	32
#define KDTLS_MAX_ERRS		16
#define KDTLS_MSG_MAX		65536
#define KDTLS_REPLY_TIMEOUT_MS	20000

/* ---- msg.c: one control message ---- */
#define KDTLS_MSG_MAX_ARGS	24
struct kdtls_msg {
	char *kind;		/* "OK", "ERR", "EVENT" */
	char *name;		/* event name, or NULL */
	char *key[KDTLS_MSG_MAX_ARGS], *val[KDTLS_MSG_MAX_ARGS];
	int n;
};
int kdtls_msg_parse_line(char *line, struct kdtls_msg *m);
const char *kdtls_msg_get(const struct kdtls_msg *m, const char *key);
/* percent-encode @in[0..len) into a new string; NULL on ENOMEM */
char *kdtls_msg_escape(const void *in, size_t len);
int kdtls_msg_unescape(char *s);
/* "1.2.3.4:5" / "[::1]:5" */
int kdtls_addr_format(const struct sockaddr *sa, char *buf, size_t len);
int kdtls_addr_parse(const char *s, struct sockaddr_storage *ss);
/* the same peer?  (a v4-mapped v6 address equals its v4 form) */
bool kdtls_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b);
int kdtls_errno_from_name(const char *name);
/* 0 valid; -EINVAL with *why set */
int kdtls_addr_check(const struct sockaddr *sa, socklen_t len,
		     const char **why);

/* explicit_bzero() the NUL-terminated @s (NULL is fine), then free() it */
void kdtls_free_secret(char *s);

/* ---- error.c ---- */
struct kdtls_err {
	enum kdtls_error code;
	char text[256];
};
int kdtls_err_set(struct kdtls_err *e, enum kdtls_error code, int ret,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void kdtls_err_clear(struct kdtls_err *e);

/* ---- config.c ---- */
struct kdtls_cfg {
	enum kdtls_protocol protocol;
	char *ciphers, *cert, *key, *ca, *hint, *keylog;
	enum kdtls_verify_mode verify_mode;
	int verify_depth;
};
int kdtls_cfg_set(struct kdtls_cfg *dst, const struct kdtls_config *src,
		  const char **why);
void kdtls_cfg_get(const struct kdtls_cfg *c, struct kdtls_config *out);
int kdtls_cfg_copy(struct kdtls_cfg *dst, const struct kdtls_cfg *src);
void kdtls_cfg_free(struct kdtls_cfg *c);
/* " cert=... key=... ca=... ciphers=... verify-depth=N" for CONNECT/SERVE */
char *kdtls_cfg_args(const struct kdtls_cfg *c, bool server);

/* ---- ctx.c ---- */
/* a datagram kdtls_read_datagram() read for another peer's object */
struct kdtls_held {
	struct kdtls_held *next;
	struct sockaddr_storage from;
	int type;		/* 23 data or 21 alert */
	size_t len;
	uint8_t data[];
};
#define KDTLS_MAX_HELD		128	/* per socket */
#define KDTLS_MAX_HELD_PEER	16	/* per peer */
#define KDTLS_READ_BUDGET	64	/* datagrams per kdtls_read_datagram() */

struct kdtls_sock {
	struct kdtls_sock *next;
	struct kdtls_held *held, **held_tail;
	unsigned int n_held;
	uint8_t *rxbuf;			/* 64 KiB, kdtls_read_datagram() */
	int fd;			/* the application's */
	dev_t dev;
	ino_t ino;
	uint32_t id;		/* kdtlsd's sock= */
	struct kdtls *listener;	/* server mode */
	bool serving;
};

struct kdtls_qmsg {
	struct kdtls_qmsg *next;
	char line[];
};

struct kdtls_ctx {
	int fd;			/* SOCK_SEQPACKET to kdtlsd */
	int epfd;		/* what the application polls */
	int evfd;		/* readable while the queue is not empty */
	struct kdtls_qmsg *q, **q_tail;
	struct kdtls_sock *socks;
	struct kdtls *objs;
	bool dead;
	char *buf;		/* KDTLS_MSG_MAX + 1 */
};

/* Send one request (with @pass_fd by SCM_RIGHTS if >= 0) and wait for its
 * reply, queueing events that come first.  0 for OK (reply copied to
 * @reply), -errno for ERR (its msg= in @reply), -EPIPE/-ETIMEDOUT if kdtlsd
 * is gone or mute. */
int kdtls_ctl_request(struct kdtls_ctx *ctx, int pass_fd, char *reply,
		      size_t rlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Find or hand over (ATTACH) the application's socket. */
int kdtls_ctl_sock(struct kdtls_ctx *ctx, int fd, unsigned int mtu,
		   struct kdtls_sock **sp, char *why, size_t wlen);
struct kdtls_sock *kdtls_ctl_sock_by_id(struct kdtls_ctx *ctx, uint32_t id);

/* ---- dtls.c ---- */
struct kdtls {
	struct kdtls *next;		/* ctx->objs */
	struct kdtls_ctx *ctx;
	enum kdtls_mode mode;
	enum kdtls_handshake_state state;
	struct kdtls_err err;
	struct sockaddr_storage peer;	/* ss_family 0: none */
	char *name;
	struct kdtls_cfg cfg;
	enum kdtls_hash ck_hash;
	uint8_t ck_secret[KDTLS_MAX_SECRET];
	size_t ck_secret_len;
	bool ck_set;			/* set by the application: to SERVE */
	uint16_t mtu;
	struct kdtls_sock *sock;	/* while started */
	bool listener;			/* server without a peer */
	struct kdtls *parent;		/* the listener of a new peer */
	bool timed_out;			/* for kdtls_handle_timeout() */
	int errs[KDTLS_MAX_ERRS], n_errs;
	char *reasons;
	int ignore[KDTLS_MAX_IGNORE], n_ignore;
	char suite[64], kcipher[32];
	kdtls_event_cb ev_cb;
	void *ev_user;
	kdtls_psk_cb psk_cb;
	void *psk_user;
	bool announced;			/* NEW_PEER sent (server peers) */
	unsigned long long rx_dropped;	/* kdtls_dropped_datagrams() */
	uint16_t path_payload;		/* largest UDP payload to the peer */
	uint64_t path_payload_ms;	/* when it was read (CLOCK_MONOTONIC) */
};

void kdtls_dtls_event(struct kdtls_ctx *ctx, struct kdtls_msg *m);
void kdtls_dtls_ctx_dead(struct kdtls_ctx *ctx);

#endif /* KDTLS_INTERNAL_H */
