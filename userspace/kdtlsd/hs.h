/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtlsd: the handshake object, shared by hs.c (OpenSSL, the handshake and
 * what follows it), peers.c (the (socket, peer) table and the sockets) and
 * bio.c (the datagram BIO and the record-send helpers).  Private to them.
 */
#ifndef KDTLSD_HS_H
#define KDTLSD_HS_H

#include <openssl/ssl.h>

#include "kdtlsd.h"

#define RXQ_MAX		64		/* datagrams queued per handshake */
#define EARLY_MAX	(64 * 1024)	/* early plaintext held per peer */
#define MAX_ERRS	16
#define HT_BITS		14
#define RTX_MIN_GAP_MS	100		/* own final-flight retransmissions */

struct dgram {
	struct dgram *next;
	size_t len;
	uint8_t data[];
};

struct kd_hs {
	struct kd_hs *hnext;		/* hash chain */
	struct kd_hs *snext, **spprev;	/* its socket's list (kd_sock.hs) */
	struct kd_sock *sock;
	struct sockaddr_storage peer;
	SSL *ssl;
	bool server;
	enum kd_hs_state state;
	bool installed;			/* keys in the kernel */
	bool peek;			/* BIO peek mode */
	bool listening;			/* transient DTLSv1_listen object */
	bool verify;			/* verify the peer's certificate */
	const uint8_t *hello;		/* datagram under DTLSv1_listen */
	size_t hello_len;
	struct dgram *rxq, **rxq_tail;
	unsigned int rxq_len;
	struct dgram *early, **early_tail;
	size_t early_bytes;
	struct kd_timer rtx;		/* OpenSSL's retransmission timer */
	struct kd_timer life;		/* handshake timeout / linger end */
	int64_t tx_max[2];		/* highest seq written, epoch 0 / 1 */
	int64_t rx_max1;		/* highest epoch-1 seq consumed */
	uint8_t fin[12 + 64];		/* our Finished, handshake message */
	size_t fin_len;
	uint8_t alert[2];		/* last alert OpenSSL wrote */
	bool has_alert;
	int rcvd_alert;			/* last alert received, -1 none */
	uint64_t last_rtx_ms;
	int errs[MAX_ERRS];
	int n_errs;
	char name[256];			/* verification name */
	char psk_id[129];
	uint16_t cipher;
	char suite[64];
	char peer_subject[256];
	/* RFC 6347 4.2.8: a new handshake of a peer that has an association */
	struct kd_hs *restart;		/* the new one, not in the table */
	struct kd_hs *old;		/* of a restart: what it replaces */
	uint8_t client_random[32];	/* server: of the established session */
};

struct kd_hs_globals {
	SSL_CTX *srv, *cli;
	SSL_CTX *cli_psk;		/* cli with its PSK suites only, or NULL */
	BIO_METHOD *bio;
	struct kd_hs *ht[1 << HT_BITS];
	unsigned long n_hs;
	unsigned long n_est;		/* of which established */
	struct kd_sock *socks;
	/* thread CPU time of key derivation and assoc-add (INFO, bench) */
	uint64_t derive_ns, install_ns, installs;
};
extern struct kd_hs_globals kd_hs_g;

#define EV(hs, fmt, ...) do {						\
	char _a[INET6_ADDRSTRLEN + 8];					\
	kd_ctl_event((hs)->sock->owner, fmt " sock=%u peer=%s",	\
		     ##__VA_ARGS__, (hs)->sock->id,			\
		     kd_addr_str(&(hs)->peer, _a, sizeof(_a)));		\
} while (0)

/* peers.c */
struct kd_hs *kd_hs_find(struct kd_sock *s,
			 const struct sockaddr_storage *peer);
void kd_hs_link(struct kd_hs *hs);
void kd_hs_unlink(struct kd_hs *hs);
void kd_peer_norm(const struct kd_sock *s, struct sockaddr_storage *p);

/* bio.c */
BIO_METHOD *kd_bio_method_new(void);
struct dgram *kd_dgram_new(const void *data, size_t len);
void kd_dgram_free_list(struct dgram **head);
void kd_rxq_push(struct kd_hs *hs, const void *data, size_t len);
void kd_send_verbatim(struct kd_hs *hs, const uint8_t *p, size_t len);
void kd_send_sealed(struct kd_hs *hs, uint8_t type, const void *p,
		    size_t len);

/* hs.c */
void kd_hs_free(struct kd_hs *hs);
/* A restart is about to send its first epoch-1 record: replace the old
 * association (0), or refuse (-1, the restart fails). */
int kd_hs_takeover(struct kd_hs *hs);

#endif /* KDTLSD_HS_H */
