/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkdtls: DTLS 1.2 over the kernel record layer, modelled on Qt's QDtls
 * and QDtlsClientVerifier (Documentation/libkdtls.rst has the user guide and
 * the parity table).
 *
 * The kernel (kdtls.ko) seals and opens the records, kdtlsd runs the
 * handshakes; this library is a client of kdtlsd's control socket.  The
 * application keeps its UDP socket and sends and receives plaintext on it
 * (directly, with the helpers below, or through io_uring).
 *
 *   struct kdtls_ctx       one control connection to kdtlsd; its fd is what
 *                          the application polls; kdtls_ctx_dispatch() reads
 *                          the pending events and runs the callbacks.
 *   struct kdtls           QDtls: one DTLS connection (one peer), client or
 *                          server mode.
 *   struct kdtls_verifier  QDtlsClientVerifier: stateless cookie check of a
 *                          ClientHello (pure logic, no kdtlsd).
 *
 * Conventions (as liburing): functions return 0 (or a documented
 * non-negative value) on success and a negative errno on failure; they
 * never abort and never block on the network (a control request is one
 * round trip to the local kdtlsd).  Every failure of a function that takes
 * a struct kdtls or struct kdtls_verifier sets that object's last error
 * (enum kdtls_error, QDtlsError) and a human-readable string; a success
 * resets them to KDTLS_ERR_NONE and "".  No threads are created; an object
 * must not be used from two threads at once.
 */
#ifndef KDTLS_H
#define KDTLS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KDTLS_LIB_VERSION_MAJOR	0
#define KDTLS_LIB_VERSION_MINOR	1

/* kdtlsd's control socket unless kdtls_ctx_new() is given another one;
 * the environment variable KDTLSD_SOCKET overrides it as well. */
#define KDTLS_DEFAULT_CTL_PATH	"/run/kdtlsd.sock"

struct kdtls_ctx;
struct kdtls;
struct kdtls_verifier;

/* ---- enumerations (values equal Qt's) -------------------------------- */

/* QDtls::HandshakeState */
enum kdtls_handshake_state {
	KDTLS_HANDSHAKE_NOT_STARTED = 0,	/* HandshakeNotStarted */
	KDTLS_HANDSHAKE_IN_PROGRESS = 1,	/* HandshakeInProgress */
	KDTLS_PEER_VERIFICATION_FAILED = 2,	/* PeerVerificationFailed */
	KDTLS_HANDSHAKE_COMPLETE = 3,		/* HandshakeComplete */
};

/* QDtlsError: exactly Qt's nine values */
enum kdtls_error {
	KDTLS_ERR_NONE = 0,			/* NoError */
	KDTLS_ERR_INVALID_INPUT = 1,		/* InvalidInputParameters */
	KDTLS_ERR_INVALID_OPERATION = 2,	/* InvalidOperation */
	KDTLS_ERR_SOCKET = 3,			/* UnderlyingSocketError */
	KDTLS_ERR_REMOTE_CLOSED = 4,		/* RemoteClosedConnectionError */
	KDTLS_ERR_PEER_VERIFICATION = 5,	/* PeerVerificationError */
	KDTLS_ERR_TLS_INIT = 6,			/* TlsInitializationError */
	KDTLS_ERR_TLS_FATAL = 7,		/* TlsFatalError */
	KDTLS_ERR_TLS_NON_FATAL = 8,		/* TlsNonFatalError */
};

/* QSslSocket::SslMode (client or server only) */
enum kdtls_mode {
	KDTLS_MODE_CLIENT = 1,			/* SslClientMode */
	KDTLS_MODE_SERVER = 2,			/* SslServerMode */
};

/* QSsl::SslProtocol, the DTLS subset.  kdtls does DTLS 1.2 only: the
 * 1.0 values are refused by kdtls_set_configuration() with
 * KDTLS_ERR_INVALID_INPUT; a peer that offers only DTLS 1.0 fails the
 * handshake (protocol_version alert). */
enum kdtls_protocol {
	KDTLS_PROTO_UNKNOWN = -1,		/* UnknownProtocol */
	KDTLS_PROTO_DTLS1_0 = 0,		/* DtlsV1_0 */
	KDTLS_PROTO_DTLS1_0_OR_LATER,		/* DtlsV1_0OrLater */
	KDTLS_PROTO_DTLS1_2,			/* DtlsV1_2 */
	KDTLS_PROTO_DTLS1_2_OR_LATER,		/* DtlsV1_2OrLater (default) */
};

/* QSslSocket::PeerVerifyMode */
enum kdtls_verify_mode {
	KDTLS_VERIFY_NONE = 0,		/* VerifyNone: no verification */
	KDTLS_VERIFY_QUERY_PEER,	/* QueryPeer: server asks for no
					 * certificate, client does not verify */
	KDTLS_VERIFY_PEER,		/* VerifyPeer: verify, fail if none */
	KDTLS_VERIFY_AUTO,		/* AutoVerifyPeer (default): VERIFY_PEER
					 * for a client, QUERY_PEER for a server */
};

/* QCryptographicHash algorithms usable for cookies */
enum kdtls_hash {
	KDTLS_HASH_SHA1 = 1,
	KDTLS_HASH_SHA256,			/* default */
	KDTLS_HASH_SHA384,
	KDTLS_HASH_SHA512,
};

/* ---- configuration (QSslConfiguration, the parts DTLS uses) ----------- */

/*
 * A plain structure: fill it after kdtls_config_init() and hand it to
 * kdtls_set_configuration(), which copies every string (and reads the
 * *_file members, in the calling process, with its privileges: kdtlsd
 * never opens a file on the application's behalf).  A PEM member takes
 * precedence over the matching file member.  NULL or "" means "not set".
 */
struct kdtls_config {
	enum kdtls_protocol protocol;
	const char *ciphers;		/* OpenSSL cipher list; NULL: kdtlsd's */
	const char *cert_pem;		/* local certificate (chain), PEM */
	const char *cert_file;
	const char *key_pem;		/* its private key, PEM, unencrypted */
	const char *key_file;
	const char *ca_pem;		/* trusted CA certificates, PEM */
	const char *ca_file;
	enum kdtls_verify_mode verify_mode;
	int verify_depth;		/* -1: OpenSSL's default (100) */
	const char *psk_identity_hint;	/* server: hint sent to PSK clients */
	const char *keylog_file;	/* must be NULL, see below */
};

/* Defaults: DTLS1_2_OR_LATER, VERIFY_AUTO, depth -1, everything else
 * unset.  (QSslConfiguration::defaultDtlsConfiguration) */
void kdtls_config_init(struct kdtls_config *cfg);

/*
 * keylog_file: reserved.  The key log (NSS key log format, as
 * SSLKEYLOGFILE, so that Wireshark can decrypt a capture; a debugging aid,
 * off by default) is kdtlsd's [tls] keylog_file, for every connection;
 * kdtls_set_configuration() refuses a per-connection one with -EOPNOTSUPP
 * (KDTLS_ERR_INVALID_INPUT).
 */

/* ---- cookie generator parameters (GeneratorParameters) ---------------- */

struct kdtls_generator_params {
	enum kdtls_hash hash;
	const void *secret;		/* 1..KDTLS_MAX_SECRET bytes */
	size_t secret_len;
};
#define KDTLS_MAX_SECRET	64

/* ---- context: the control connection --------------------------------- */

/*
 * Connect to kdtlsd (ctl_path NULL: $KDTLSD_SOCKET or
 * KDTLS_DEFAULT_CTL_PATH) and say HELLO.  *ctxp is set on success.
 * -ENOENT/-ECONNREFUSED: no kdtlsd; -EPROTONOSUPPORT: incompatible kdtlsd.
 */
int kdtls_ctx_new(struct kdtls_ctx **ctxp, const char *ctl_path);

/* Destroy every struct kdtls of the context, then close the connection
 * (kdtlsd releases the sockets; associations stay in the kernel until the
 * sockets close). NULL is allowed. */
void kdtls_ctx_free(struct kdtls_ctx *ctx);

/* The descriptor to wait on (POLLIN) with poll/epoll or io_uring
 * IORING_OP_POLL_ADD; readable when kdtls_ctx_dispatch() has work. */
int kdtls_ctx_fd(const struct kdtls_ctx *ctx);

/*
 * Read every pending event from kdtlsd and run the callbacks.  Never
 * blocks.  Returns the number of events handled (0: nothing pending), or
 * -ECONNRESET when kdtlsd went away (every object then fails with
 * KDTLS_ERR_TLS_FATAL).
 */
int kdtls_ctx_dispatch(struct kdtls_ctx *ctx);

/* ---- events and callbacks (the two Qt signals and more) --------------- */

enum kdtls_event_type {
	KDTLS_EV_HANDSHAKE_COMPLETE = 1,/* state is now HANDSHAKE_COMPLETE */
	KDTLS_EV_VERIFY_FAILED,		/* PEER_VERIFICATION_FAILED: ignore +
					 * resume, or abort */
	KDTLS_EV_HANDSHAKE_FAILED,	/* back to NOT_STARTED, error set */
	KDTLS_EV_HANDSHAKE_TIMEOUT,	/* Qt handshakeTimeout(): call
					 * kdtls_handle_timeout() */
	KDTLS_EV_NEW_PEER,		/* server: ev->dtls is a new object for a
					 * peer that completed its handshake */
	KDTLS_EV_PEER_CLOSED,		/* close_notify: NOT_STARTED,
					 * KDTLS_ERR_REMOTE_CLOSED */
	KDTLS_EV_ALERT,			/* an alert from the peer (fatal ones
					 * end the connection) */
	KDTLS_EV_DATA,			/* early plaintext held by kdtlsd: treat
					 * it as a received datagram */
};

struct kdtls_event {
	enum kdtls_event_type type;
	struct kdtls *dtls;		/* the object concerned */
	const char *reason;		/* FAILED/TIMEOUT text, or NULL */
	const void *data;		/* KDTLS_EV_DATA */
	size_t len;
	int alert_level;		/* KDTLS_EV_ALERT: 1 warning, 2 fatal */
	int alert_desc;			/* RFC 5246 7.2 description, or -1 */
};

/* Called from kdtls_ctx_dispatch() (and never from anywhere else).  It may
 * call any function of the library, including kdtls_free(ev->dtls). */
typedef void (*kdtls_event_cb)(const struct kdtls_event *ev, void *user);

/* QSslPreSharedKeyAuthenticator */
#define KDTLS_PSK_MAX_IDENTITY	128
#define KDTLS_PSK_MAX_KEY	64
struct kdtls_psk_auth {
	const char *identity_hint;	/* from the server (client side) */
	const char *identity;		/* from the client (server side) */
	/* filled in by the callback: */
	char out_identity[KDTLS_PSK_MAX_IDENTITY + 1];	/* client only */
	unsigned char key[KDTLS_PSK_MAX_KEY];
	size_t key_len;			/* 0: refuse, the handshake fails */
};

/* Qt pskRequired(): called when a PSK suite is negotiated.  Return 0 with
 * the key (and, for a client, out_identity) filled in, or non-zero to
 * refuse.  The key is wiped by the library after use. */
typedef int (*kdtls_psk_cb)(struct kdtls *dtls, struct kdtls_psk_auth *auth,
			    void *user);

/* ---- QDtls ------------------------------------------------------------ */

/* QDtls(mode): -EINVAL (bad mode), -ENOMEM. */
int kdtls_new(struct kdtls_ctx *ctx, enum kdtls_mode mode,
	      struct kdtls **dtlsp);
/* ~QDtls: an established connection is left in the kernel until the
 * socket closes; call kdtls_shutdown() first to close it.  NULL allowed. */
void kdtls_free(struct kdtls *dtls);

enum kdtls_mode kdtls_mode(const struct kdtls *dtls);		/* sslMode */
struct kdtls_ctx *kdtls_ctx(const struct kdtls *dtls);

/* Callbacks and the application's pointer; objects created for new peers
 * of a server inherit them. */
void kdtls_set_event_cb(struct kdtls *dtls, kdtls_event_cb cb, void *user);
void kdtls_set_psk_cb(struct kdtls *dtls, kdtls_psk_cb cb, void *user);
void *kdtls_user(const struct kdtls *dtls);

/*
 * setPeer: address (sockaddr_in or sockaddr_in6 with its port) and the
 * verification name (NULL: none; DNS name or IP address).  An unspecified
 * (0.0.0.0, ::), broadcast, multicast address or port 0 is
 * KDTLS_ERR_INVALID_INPUT (-EINVAL); during or after a handshake
 * KDTLS_ERR_INVALID_OPERATION (-EBUSY).
 */
int kdtls_set_peer(struct kdtls *dtls, const struct sockaddr *addr,
		   socklen_t addrlen, const char *verification_name);
/* Convenience: numeric address string ("192.0.2.1", "::1") and port. */
int kdtls_set_peer_str(struct kdtls *dtls, const char *addr, uint16_t port,
		       const char *verification_name);
/* peerAddress + peerPort: copies the address into *addr; -ENOTCONN (no
 * error set) if none, -ENOSPC if *addrlen is too small. */
int kdtls_peer_address(const struct kdtls *dtls, struct sockaddr *addr,
		       socklen_t *addrlen);
uint16_t kdtls_peer_port(const struct kdtls *dtls);	/* 0 if none */
/* setPeerVerificationName: before the handshake only (-EBUSY). */
int kdtls_set_peer_verification_name(struct kdtls *dtls, const char *name);
const char *kdtls_peer_verification_name(const struct kdtls *dtls); /* "" */

/* setDtlsConfiguration: before the handshake only (-EBUSY,
 * KDTLS_ERR_INVALID_OPERATION); bad values (-EINVAL,
 * KDTLS_ERR_INVALID_INPUT), unreadable files (-errno, INVALID_INPUT). */
int kdtls_set_configuration(struct kdtls *dtls, const struct kdtls_config *cfg);
/* dtlsConfiguration: the strings point into the object (valid until the
 * next kdtls_set_configuration() or kdtls_free()); the *_file members are
 * NULL (their contents are in the *_pem members). */
void kdtls_configuration(const struct kdtls *dtls, struct kdtls_config *cfg);

/* setCookieGeneratorParameters (server mode, before the handshake): an
 * unknown hash or an empty/too long secret is -EINVAL; a client's is
 * -EOPNOTSUPP (INVALID_OPERATION).  Once set, they go to kdtlsd with the
 * socket's SERVE and make its cookies (not rotated); unset, kdtlsd uses its
 * own rotated [cookie] secret. */
int kdtls_set_cookie_generator_params(struct kdtls *dtls,
				const struct kdtls_generator_params *params);
/* cookieGeneratorParameters: the secret points into the object.  Default:
 * SHA-256 and a random secret. */
void kdtls_cookie_generator_params(const struct kdtls *dtls,
				   struct kdtls_generator_params *params);

/* setMtuHint / mtuHint: largest UDP payload of handshake datagrams; 0
 * (default) lets kdtlsd choose; otherwise 256-65507 (-EINVAL).  Read when
 * the socket is handed to kdtlsd (first handshake on it).  Also the
 * datagram size kdtls_max_record_payload() works from, read at each call
 * (0: the route's MTU to the peer). */
int kdtls_set_mtu_hint(struct kdtls *dtls, uint16_t mtu);
uint16_t kdtls_mtu_hint(const struct kdtls *dtls);

/*
 * doHandshake.  Client: hands udp_fd to kdtlsd (first use of the socket in
 * this context) and starts the handshake with the peer; returns at once
 * (state IN_PROGRESS), the outcome is an event.  Server: serves udp_fd with
 * this object's configuration; with a peer set, this object becomes that
 * peer's connection; without one, it is the socket's listener and each
 * peer that completes a handshake gets a new object in KDTLS_EV_NEW_PEER.
 * Errors: no peer (client) -EDESTADDRREQ, already started -EALREADY
 * (INVALID_OPERATION); a socket kdtlsd refuses -errno (SOCKET); a
 * configuration kdtlsd refuses -EINVAL (TLS_INIT).
 */
int kdtls_do_handshake(struct kdtls *dtls, int udp_fd);

enum kdtls_handshake_state kdtls_handshake_state(const struct kdtls *dtls);
bool kdtls_is_connection_encrypted(const struct kdtls *dtls);

/*
 * handleTimeout: returns 1 if a handshake timeout happened since the
 * previous call (KDTLS_EV_HANDSHAKE_TIMEOUT), 0 otherwise.  kdtlsd
 * retransmits by itself; after it gave up, a client's handshake is started
 * again here (the equivalent of Qt's retransmission).
 */
int kdtls_handle_timeout(struct kdtls *dtls);

/* peerVerificationErrors: OpenSSL X509_V_ERR_* codes (-1: no certificate)
 * into codes[0..n-1]; returns how many there are (may exceed n). */
int kdtls_peer_verification_errors(const struct kdtls *dtls, int *codes,
				   size_t n);
/* kdtlsd's text for them ("" if none). */
const char *kdtls_peer_verification_reasons(const struct kdtls *dtls);
/* ignoreVerificationErrors: replaces the list (n = 0 clears it).  Before
 * the handshake it is a preset: those errors never stop it. */
int kdtls_ignore_verification_errors(struct kdtls *dtls, const int *codes,
				     size_t n);
/* resumeHandshake: in PEER_VERIFICATION_FAILED only (-EBUSY); -EPERM
 * (PEER_VERIFICATION) if an error is not in the ignore list. */
int kdtls_resume_handshake(struct kdtls *dtls);
/* abortHandshake: in IN_PROGRESS or PEER_VERIFICATION_FAILED, else -EBUSY
 * (INVALID_OPERATION).  State back to NOT_STARTED. */
int kdtls_abort_handshake(struct kdtls *dtls);

/* sessionCipher: OpenSSL suite name ("ECDHE-ECDSA-AES128-GCM-SHA256") or
 * NULL if not encrypted; kdtls_session_kernel_cipher: kdtls's name
 * ("aes-128-gcm"). sessionProtocol: DTLS1_2 or UNKNOWN. */
const char *kdtls_session_cipher(const struct kdtls *dtls);
const char *kdtls_session_kernel_cipher(const struct kdtls *dtls);
enum kdtls_protocol kdtls_session_protocol(const struct kdtls *dtls);

/*
 * writeDatagramEncrypted: send one datagram of plaintext to the peer on
 * udp_fd (the kernel seals it).  Returns the bytes sent; -ENOTCONN
 * (INVALID_OPERATION) if not encrypted; a send error -errno (SOCKET;
 * -EAGAIN on a non-blocking socket that is full).
 */
ssize_t kdtls_write_datagram(struct kdtls *dtls, int udp_fd, const void *buf,
			     size_t len);

/*
 * A batch of records in as few sends as possible (UDP GSO, one sealed
 * record per GSO segment; Documentation/kdtls.rst, "Batches").
 *
 * kdtls_max_record_payload: the largest plaintext of one record that fits
 * one datagram to the peer: the MTU hint if set (kdtls_set_mtu_hint()),
 * else the route's MTU to the peer as the kernel knows it (path MTU
 * discovery included; read again after a second), less the IP and UDP
 * headers and the record's expansion under the session's cipher (29 to 37
 * bytes), at most 16384.  -ENOTCONN (INVALID_OPERATION) if not encrypted.
 *
 * kdtls_batch_max: how much plaintext one send of records of @seg bytes
 * carries at most: 128 records (UDP_MAX_SEGMENTS) and 65507 bytes on the
 * wire; 0 if not encrypted or if one record of @seg bytes does not fit.
 *
 * kdtls_write_batch: send @len bytes of plaintext as records of @seg bytes
 * each, the last one shorter if need be (@seg 0: kdtls_max_record_payload(),
 * read afresh once if the path shrank under it), in sends of at most
 * kdtls_batch_max() bytes.  Returns @len, or the bytes of the sends made
 * before one failed (then the error comes again on the next call); with
 * none made, the error of kdtls_write_datagram(), and -EMSGSIZE
 * (TLS_NON_FATAL) when a record of @seg bytes does not fit the path or the
 * association's max-payload.
 */
ssize_t kdtls_max_record_payload(struct kdtls *dtls);
size_t kdtls_batch_max(const struct kdtls *dtls, size_t seg);
ssize_t kdtls_write_batch(struct kdtls *dtls, int udp_fd, const void *buf,
			  size_t len, size_t seg);

/*
 * decryptDatagram: receive one datagram of plaintext from udp_fd
 * (MSG_DONTWAIT).  Only this object's peer's application data (record
 * type 23) is returned; handshake, ChangeCipherSpec and records of unknown
 * type (also a receive whose control data was cut, MSG_CTRUNC) are
 * dropped, never returned as data.  A data or alert record of another peer
 * read on the way is held for that peer's object (its next
 * kdtls_read_datagram() returns it; at most 16 per peer and 128 per
 * socket: past that the new one is dropped and counted, see
 * kdtls_dropped_datagrams()).  At most 64 datagrams are read per call.
 * If nothing of this peer was read, -EAGAIN with KDTLS_ERR_TLS_NON_FATAL
 * is returned (-EAGAIN and KDTLS_ERR_NONE when the socket is simply
 * empty).  A close_notify makes -ECONNRESET (REMOTE_CLOSED).  Returns the
 * length.  On a busy server socket, kdtls_recv_any() + kdtls_find_peer()
 * is cheaper.
 */
ssize_t kdtls_read_datagram(struct kdtls *dtls, int udp_fd, void *buf,
			    size_t len);

/* How many records of this object's peer kdtls_read_datagram() dropped
 * because the peer's (or the socket's) held queue was full.  A listener
 * also counts those of peers that have no object yet; on a socket without
 * listener, a datagram of a sender no object has is not held: the object
 * whose read found it counts it.  0 for NULL. */
unsigned long long kdtls_dropped_datagrams(const struct kdtls *dtls);

/* Server side: receive one plaintext datagram from any peer, with its
 * address and the record type the kernel reports (23: application data;
 * 21: an alert, MSG_EOR; another type, or -1 if MSG_CTRUNC cut the control
 * data: not application data).  Returns the length or -errno. */
ssize_t kdtls_recv_any(int udp_fd, void *buf, size_t len,
		       struct sockaddr_storage *from, socklen_t *fromlen,
		       int *record_type);

/* The established object of this listener for @from (a server's peer), or
 * NULL.  Lets a server find the connection of a received datagram.  NULL
 * does not make an application-data datagram suspect: the kernel opened it
 * under @from's association, and kdtlsd installs the keys before it tells
 * the application, so a peer that writes right after its handshake can be
 * read before its KDTLS_EV_NEW_PEER is dispatched.  kdtls_read_datagram()
 * holds such records for the object; an io_uring reader keeps or answers
 * them by address (examples/kdtls-echo-server.c). */
struct kdtls *kdtls_find_peer(struct kdtls *listener,
			      const struct sockaddr *from, socklen_t fromlen);

/* shutdown: close_notify sealed by the kernel, association deleted, state
 * back to NOT_STARTED.  -ENOTCONN (INVALID_OPERATION) if not encrypted. */
int kdtls_shutdown(struct kdtls *dtls);

/* dtlsError / dtlsErrorString */
enum kdtls_error kdtls_error(const struct kdtls *dtls);
const char *kdtls_error_string(const struct kdtls *dtls);
/* The fixed name of an error value ("InvalidInputParameters"), or NULL. */
const char *kdtls_error_name(enum kdtls_error err);

/* ---- QDtlsClientVerifier ---------------------------------------------- */

int kdtls_verifier_new(struct kdtls_verifier **vp);
void kdtls_verifier_free(struct kdtls_verifier *v);
int kdtls_verifier_set_cookie_generator_params(struct kdtls_verifier *v,
				const struct kdtls_generator_params *params);
void kdtls_verifier_cookie_generator_params(const struct kdtls_verifier *v,
				struct kdtls_generator_params *params);

/*
 * verifyClient, pure form: check the cookie of the ClientHello in
 * dgram[0..len) from peer @addr.  Returns 1 if the cookie is valid (the
 * datagram is then kept: kdtls_verifier_verified_hello()), 0 if not: a
 * HelloVerifyRequest for the peer is written to hvr (up to hvr_cap bytes,
 * its length in *hvr_len); -EINVAL (INVALID_INPUT) for a datagram that is
 * not a ClientHello or a bad address; -ENOSPC if hvr_cap is too small.
 * The cookie is HMAC(secret, family || address || port || client_random
 * || cipher_suites) as kdtlsd computes it.
 */
int kdtls_verifier_check(struct kdtls_verifier *v, const void *dgram,
			 size_t len, const struct sockaddr *addr,
			 socklen_t addrlen, void *hvr, size_t hvr_cap,
			 size_t *hvr_len);
/* verifyClient: the same, sending the HelloVerifyRequest on udp_fd to
 * addr (-errno, SOCKET, if that fails). */
int kdtls_verifier_verify_client(struct kdtls_verifier *v, int udp_fd,
				 const void *dgram, size_t len,
				 const struct sockaddr *addr,
				 socklen_t addrlen);
/* verifiedHello: the last verified ClientHello (len 0 if none). */
const void *kdtls_verifier_verified_hello(const struct kdtls_verifier *v,
					  size_t *len);
enum kdtls_error kdtls_verifier_error(const struct kdtls_verifier *v);
const char *kdtls_verifier_error_string(const struct kdtls_verifier *v);

/* ---- liburing helpers ------------------------------------------------- */

/*
 * Available when <liburing.h> is included before <kdtls.h> (they are
 * static inline: the library itself does not depend on liburing).
 *
 *   kdtls_prep_sendto()     one plaintext datagram to a peer (the kernel
 *                           seals it): io_uring_prep_sendmsg with the
 *                           address in msg (caller keeps msg, iov alive)
 *   kdtls_prep_send_batch() records of seg bytes in one GSO send (at most
 *                           kdtls_batch_max() bytes): as kdtls_prep_sendto()
 *                           with a UDP_SEGMENT cmsg in control (caller keeps
 *                           it alive too)
 *   kdtls_prep_recvmsg()    one datagram with room for the kdtls cmsg
 *   kdtls_prep_recvmsg_multishot()  multishot RECVMSG from a provided
 *                           buffer ring (io_uring_setup_buf_ring group)
 *   kdtls_cqe_parse()       decode a completion of either: payload, peer
 *                           address, record type (SOL_KDTLS cmsg)
 */
#define KDTLS_CMSG_SPACE	64	/* control room for the kdtls cmsgs */
#ifndef SOL_UDP
#define SOL_UDP			17	/* <netinet/udp.h> */
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT		103	/* <linux/udp.h>, <netinet/udp.h> */
#endif
/* control room for kdtls_prep_send_batch(): CMSG_SPACE(sizeof(uint16_t)) */
#define KDTLS_BATCH_CMSG_SPACE	24

struct kdtls_rx {
	const void *data;		/* payload */
	size_t len;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int record_type;		/* 23 data, 21 alert; -1 unknown
					 * (MSG_CTRUNC: not data) */
	bool truncated;			/* MSG_TRUNC */
};

/* Parse a struct msghdr filled by recvmsg() (n bytes returned): peer and
 * record type.  Also for plain recvmsg() users. 0 or -EINVAL. */
int kdtls_msg_parse(const struct msghdr *msg, ssize_t n, struct kdtls_rx *rx);

/* Parse the buffer of a multishot RECVMSG completion (struct
 * io_uring_recvmsg_out layout; msg gives msg_namelen/msg_controllen as
 * armed).  0 or -EINVAL (-ENOBUFS... are the cqe's res, not checked
 * here). */
int kdtls_recvmsg_out_parse(const void *buf, size_t buf_len,
			    const struct msghdr *msg, struct kdtls_rx *rx);

#ifdef LIB_URING_H
#include <string.h>

static inline void kdtls_prep_sendto(struct io_uring_sqe *sqe, int udp_fd,
				     struct msghdr *msg, struct iovec *iov,
				     const void *buf, size_t len,
				     const struct sockaddr *to,
				     socklen_t tolen)
{
	iov->iov_base = (void *)buf;
	iov->iov_len = len;
	memset(msg, 0, sizeof(*msg));
	msg->msg_name = (void *)to;
	msg->msg_namelen = tolen;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	io_uring_prep_sendmsg(sqe, udp_fd, msg, 0);
}

static inline void kdtls_prep_send_batch(struct io_uring_sqe *sqe,
					 int udp_fd, struct msghdr *msg,
					 struct iovec *iov,
					 void *control /* KDTLS_BATCH_CMSG_SPACE */,
					 const void *buf, size_t len,
					 uint16_t seg,
					 const struct sockaddr *to,
					 socklen_t tolen)
{
	struct cmsghdr *cm = (struct cmsghdr *)control;

	kdtls_prep_sendto(sqe, udp_fd, msg, iov, buf, len, to, tolen);
	msg->msg_control = control;
	msg->msg_controllen = CMSG_SPACE(sizeof(seg));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	*(uint16_t *)CMSG_DATA(cm) = seg;	/* CMSG_DATA is aligned */
}

static inline void kdtls_prep_recvmsg(struct io_uring_sqe *sqe, int udp_fd,
				      struct msghdr *msg, struct iovec *iov,
				      void *buf, size_t len,
				      struct sockaddr_storage *from,
				      void *control /* KDTLS_CMSG_SPACE */)
{
	iov->iov_base = buf;
	iov->iov_len = len;
	memset(msg, 0, sizeof(*msg));
	msg->msg_name = from;
	msg->msg_namelen = sizeof(*from);
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = control;
	msg->msg_controllen = KDTLS_CMSG_SPACE;
	io_uring_prep_recvmsg(sqe, udp_fd, msg, 0);
}

/* msg must stay alive while the request is armed; buf_group is the group
 * id of a ring made with io_uring_setup_buf_ring(). */
static inline void kdtls_prep_recvmsg_multishot(struct io_uring_sqe *sqe,
						int udp_fd,
						struct msghdr *msg,
						int buf_group)
{
	memset(msg, 0, sizeof(*msg));
	msg->msg_namelen = sizeof(struct sockaddr_storage);
	msg->msg_controllen = KDTLS_CMSG_SPACE;
	io_uring_prep_recvmsg_multishot(sqe, udp_fd, msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = buf_group;
}

/* Decode the completion of a multishot RECVMSG armed with
 * kdtls_prep_recvmsg_multishot(): buf is the provided buffer
 * (cqe->flags >> IORING_CQE_BUFFER_SHIFT selects it). */
static inline int kdtls_cqe_parse(const struct io_uring_cqe *cqe,
				  const void *buf, size_t buf_len,
				  const struct msghdr *msg,
				  struct kdtls_rx *rx)
{
	if (cqe->res < 0)
		return cqe->res;
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return -ENOBUFS;
	return kdtls_recvmsg_out_parse(buf, (size_t)cqe->res < buf_len ?
				       (size_t)cqe->res : buf_len, msg, rx);
}
#endif /* LIB_URING_H */

#ifdef __cplusplus
}
#endif

#endif /* KDTLS_H */
