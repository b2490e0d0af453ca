// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: the QDtls object.
 *
 * A struct kdtls is one DTLS connection as seen by the application: a peer,
 * a configuration, a handshake state and the last error.  The handshake
 * itself runs in kdtlsd; this file turns QDtls calls into control requests
 * (CONNECT, SERVE, RESUME, ABORT, SHUTDOWN) and kdtlsd's events into state
 * changes and callbacks:
 *
 *   event                 state                    callback
 *   handshake-complete    HANDSHAKE_COMPLETE       HANDSHAKE_COMPLETE / NEW_PEER
 *   verify-failed         PEER_VERIFICATION_FAILED VERIFY_FAILED (or RESUME
 *                                                  at once if preset-ignored)
 *   handshake-failed      NOT_STARTED              HANDSHAKE_FAILED
 *   timeout               NOT_STARTED              HANDSHAKE_TIMEOUT
 *   peer-closed           NOT_STARTED              PEER_CLOSED
 *   alert                 NOT_STARTED if fatal     ALERT
 *   data                  -                        DATA
 *   psk-required          -                        (the PSK callback)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include "internal.h"

#define CHECK(d)	do { if (!(d)) return -EINVAL; } while (0)

/* ---- life -------------------------------------------------------------- */

static struct kdtls *obj_new(struct kdtls_ctx *ctx, enum kdtls_mode mode)
{
	struct kdtls *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ctx = ctx;
	d->mode = mode;
	d->cfg.protocol = KDTLS_PROTO_DTLS1_2_OR_LATER;
	d->cfg.verify_mode = KDTLS_VERIFY_AUTO;
	d->cfg.verify_depth = -1;
	d->ck_hash = KDTLS_HASH_SHA256;
	d->ck_secret_len = 32;
	if (getrandom(d->ck_secret, d->ck_secret_len, 0) !=
	    (ssize_t)d->ck_secret_len) {
		free(d);
		return NULL;
	}
	d->next = ctx->objs;
	ctx->objs = d;
	return d;
}

KDTLS_EXPORT int kdtls_new(struct kdtls_ctx *ctx, enum kdtls_mode mode,
			   struct kdtls **dtlsp)
{
	if (!dtlsp)
		return -EINVAL;
	*dtlsp = NULL;
	if (!ctx || (mode != KDTLS_MODE_CLIENT && mode != KDTLS_MODE_SERVER))
		return -EINVAL;
	*dtlsp = obj_new(ctx, mode);
	return *dtlsp ? 0 : -ENOMEM;
}

static int peer_req(struct kdtls *d, const char *verb, const char *extra,
		    char *reply, size_t rlen)
{
	char peer[INET6_ADDRSTRLEN + 8];

	if (!d->sock)
		return -ENOTCONN;
	kdtls_addr_format((void *)&d->peer, peer, sizeof(peer));
	return kdtls_ctl_request(d->ctx, -1, reply, rlen, "%s sock=%u peer=%s%s",
				 verb, d->sock->id, peer, extra);
}

KDTLS_EXPORT void kdtls_free(struct kdtls *d)
{
	struct kdtls **pp;
	struct kdtls *o;

	if (!d)
		return;
	if (!d->listener && d->sock &&
	    (d->state == KDTLS_HANDSHAKE_IN_PROGRESS ||
	     d->state == KDTLS_PEER_VERIFICATION_FAILED))
		peer_req(d, "ABORT", "", NULL, 0);
	if (d->listener && d->sock && d->sock->listener == d)
		d->sock->listener = NULL;
	for (o = d->ctx->objs; o; o = o->next)
		if (o->parent == d)
			o->parent = NULL;
	for (pp = &d->ctx->objs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	kdtls_cfg_free(&d->cfg);
	free(d->name);
	free(d->reasons);
	explicit_bzero(d->ck_secret, sizeof(d->ck_secret));
	free(d);
}

KDTLS_EXPORT enum kdtls_mode kdtls_mode(const struct kdtls *d)
{
	return d ? d->mode : 0;
}

KDTLS_EXPORT struct kdtls_ctx *kdtls_ctx(const struct kdtls *d)
{
	return d ? d->ctx : NULL;
}

KDTLS_EXPORT void kdtls_set_event_cb(struct kdtls *d, kdtls_event_cb cb,
				     void *user)
{
	if (!d)
		return;
	d->ev_cb = cb;
	d->ev_user = user;
}

KDTLS_EXPORT void kdtls_set_psk_cb(struct kdtls *d, kdtls_psk_cb cb,
				   void *user)
{
	if (!d)
		return;
	d->psk_cb = cb;
	d->psk_user = user;
}

KDTLS_EXPORT void *kdtls_user(const struct kdtls *d)
{
	return d ? d->ev_user : NULL;
}

KDTLS_EXPORT enum kdtls_error kdtls_error(const struct kdtls *d)
{
	return d ? d->err.code : KDTLS_ERR_INVALID_INPUT;
}

KDTLS_EXPORT const char *kdtls_error_string(const struct kdtls *d)
{
	return d ? d->err.text : "no object";
}

/* ---- before the handshake ---------------------------------------------- */

static int not_started(struct kdtls *d, const char *what)
{
	if (d->state == KDTLS_HANDSHAKE_NOT_STARTED)
		return 0;
	return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION, -EBUSY,
			     "%s: not allowed once the handshake started",
			     what);
}

static int set_name(struct kdtls *d, const char *name)
{
	char *n = NULL;

	if (name && *name) {
		if (strlen(name) > 255 || strpbrk(name, " \t\r\n"))
			return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT,
					     -EINVAL,
					     "invalid verification name");
		n = strdup(name);
		if (!n)
			return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT,
					     -ENOMEM, "out of memory");
	}
	free(d->name);
	d->name = n;
	return 0;
}

KDTLS_EXPORT int kdtls_set_peer(struct kdtls *d, const struct sockaddr *addr,
				socklen_t addrlen, const char *name)
{
	const char *why;
	int err;

	CHECK(d);
	err = not_started(d, "setPeer");
	if (err)
		return err;
	if (kdtls_addr_check(addr, addrlen, &why))
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "invalid peer: %s", why);
	err = set_name(d, name);
	if (err)
		return err;
	memset(&d->peer, 0, sizeof(d->peer));
	memcpy(&d->peer, addr, addr->sa_family == AF_INET ?
	       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	d->path_payload_ms = 0;		/* another path */
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT int kdtls_set_peer_str(struct kdtls *d, const char *addr,
				    uint16_t port, const char *name)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(port) };

	CHECK(d);
	if (addr && inet_pton(AF_INET, addr, &in.sin_addr) == 1)
		return kdtls_set_peer(d, (void *)&in, sizeof(in), name);
	if (addr && inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1)
		return kdtls_set_peer(d, (void *)&in6, sizeof(in6), name);
	return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
			     "invalid peer: not a numeric IPv4/IPv6 address");
}

KDTLS_EXPORT int kdtls_peer_address(const struct kdtls *d,
				    struct sockaddr *addr, socklen_t *addrlen)
{
	socklen_t need;

	if (!d || !addr || !addrlen)
		return -EINVAL;
	if (!d->peer.ss_family)
		return -ENOTCONN;
	need = d->peer.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					      sizeof(struct sockaddr_in6);
	if (*addrlen < need)
		return -ENOSPC;
	memcpy(addr, &d->peer, need);
	*addrlen = need;
	return 0;
}

KDTLS_EXPORT uint16_t kdtls_peer_port(const struct kdtls *d)
{
	if (!d)
		return 0;
	if (d->peer.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&d->peer)->sin_port);
	if (d->peer.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&d->peer)->sin6_port);
	return 0;
}

KDTLS_EXPORT int kdtls_set_peer_verification_name(struct kdtls *d,
						  const char *name)
{
	int err;

	CHECK(d);
	err = not_started(d, "setPeerVerificationName");
	if (!err)
		err = set_name(d, name);
	if (!err)
		kdtls_err_clear(&d->err);
	return err;
}

KDTLS_EXPORT const char *kdtls_peer_verification_name(const struct kdtls *d)
{
	return d && d->name ? d->name : "";
}

KDTLS_EXPORT int kdtls_set_configuration(struct kdtls *d,
					 const struct kdtls_config *cfg)
{
	const char *why = "";
	int err;

	CHECK(d);
	err = not_started(d, "setDtlsConfiguration");
	if (err)
		return err;
	if (!cfg)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "no configuration");
	err = kdtls_cfg_set(&d->cfg, cfg, &why);
	if (err)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, err,
				     "invalid configuration: %s", why);
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT void kdtls_configuration(const struct kdtls *d,
				      struct kdtls_config *cfg)
{
	if (!cfg)
		return;
	if (!d) {
		kdtls_config_init(cfg);
		return;
	}
	kdtls_cfg_get(&d->cfg, cfg);
}

static bool hash_ok(enum kdtls_hash h)
{
	return h >= KDTLS_HASH_SHA1 && h <= KDTLS_HASH_SHA512;
}

KDTLS_EXPORT int kdtls_set_cookie_generator_params(struct kdtls *d,
				const struct kdtls_generator_params *p)
{
	int err;

	CHECK(d);
	if (d->mode != KDTLS_MODE_SERVER)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EOPNOTSUPP,
				     "cookie parameters are for a server");
	err = not_started(d, "setCookieGeneratorParameters");
	if (err)
		return err;
	if (!p || !hash_ok(p->hash) || !p->secret || !p->secret_len ||
	    p->secret_len > KDTLS_MAX_SECRET)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "invalid cookie generator parameters");
	d->ck_hash = p->hash;
	memcpy(d->ck_secret, p->secret, p->secret_len);
	d->ck_secret_len = p->secret_len;
	d->ck_set = true;
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT void kdtls_cookie_generator_params(const struct kdtls *d,
				struct kdtls_generator_params *p)
{
	if (!d || !p)
		return;
	p->hash = d->ck_hash;
	p->secret = d->ck_secret;
	p->secret_len = d->ck_secret_len;
}

KDTLS_EXPORT int kdtls_set_mtu_hint(struct kdtls *d, uint16_t mtu)
{
	CHECK(d);
	if (mtu && (mtu < 256 || mtu > 65507))
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "MTU hint out of range (0, 256-65507)");
	d->mtu = mtu;
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT uint16_t kdtls_mtu_hint(const struct kdtls *d)
{
	return d ? d->mtu : 0;
}

KDTLS_EXPORT int kdtls_ignore_verification_errors(struct kdtls *d,
						  const int *codes, size_t n)
{
	CHECK(d);
	if (n > KDTLS_MAX_IGNORE || (n && !codes))
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -E2BIG,
				     "at most %d errors to ignore",
				     KDTLS_MAX_IGNORE);
	if (n)
		memcpy(d->ignore, codes, n * sizeof(*codes));
	d->n_ignore = n;
	kdtls_err_clear(&d->err);
	return 0;
}

/* ---- the handshake ----------------------------------------------------- */

static int sock_err(struct kdtls *d, int err, const char *why)
{
	return kdtls_err_set(&d->err, err == -EPIPE || err == -ETIMEDOUT ?
			     KDTLS_ERR_TLS_INIT : KDTLS_ERR_SOCKET, err, "%s",
			     why);
}

static int start_client(struct kdtls *d, struct kdtls_sock *s)
{
	char peer[INET6_ADDRSTRLEN + 8], reply[512], *args, *name = NULL;
	bool verify = d->cfg.verify_mode == KDTLS_VERIFY_PEER ||
		      d->cfg.verify_mode == KDTLS_VERIFY_AUTO;
	int err;

	args = kdtls_cfg_args(&d->cfg, false);
	if (d->name)
		name = kdtls_msg_escape(d->name, strlen(d->name));
	if (!args || (d->name && !name)) {
		kdtls_free_secret(args);
		free(name);
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_INIT, -ENOMEM,
				     "out of memory");
	}
	kdtls_addr_format((void *)&d->peer, peer, sizeof(peer));
	d->sock = s;
	err = kdtls_ctl_request(d->ctx, -1, reply, sizeof(reply),
				"CONNECT sock=%u peer=%s%s%s verify=%s%s%s",
				s->id, peer, name ? " name=" : "",
				name ? name : "", verify ? "on" : "off",
				d->psk_cb ? " psk=ask" : "", args);
	free(name);
	kdtls_free_secret(args);	/* it holds the private key */
	if (err) {
		enum kdtls_error code = KDTLS_ERR_TLS_INIT;

		if (err == -EEXIST || err == -EBUSY)
			code = KDTLS_ERR_INVALID_OPERATION;
		else if (err == -EAFNOSUPPORT)
			code = KDTLS_ERR_INVALID_INPUT;
		return kdtls_err_set(&d->err, code, err,
				     "kdtlsd refused the handshake: %s", reply);
	}
	return 0;
}

static const char *hash_name(enum kdtls_hash h)
{
	switch (h) {
	case KDTLS_HASH_SHA1: return "SHA1";
	case KDTLS_HASH_SHA256: return "SHA256";
	case KDTLS_HASH_SHA384: return "SHA384";
	case KDTLS_HASH_SHA512: return "SHA512";
	}
	return "SHA256";
}

/* " cookie-digest=... cookie-secret=HEX" when the application set them */
static void cookie_args(const struct kdtls *d, char *buf, size_t len)
{
	size_t o, i;

	buf[0] = 0;
	if (!d->ck_set)
		return;
	o = snprintf(buf, len, " cookie-digest=%s cookie-secret=",
		     hash_name(d->ck_hash));
	for (i = 0; i < d->ck_secret_len && o + 3 <= len; i++)
		o += snprintf(buf + o, len - o, "%02x", d->ck_secret[i]);
}

static int start_server(struct kdtls *d, struct kdtls_sock *s)
{
	char reply[512], *args, ck[64 + 2 * KDTLS_MAX_SECRET];
	bool verify = d->cfg.verify_mode == KDTLS_VERIFY_PEER;
	int err;

	if (!d->peer.ss_family && s->listener && s->listener != d)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EBUSY, "the socket has a listener");
	if (!s->serving) {
		args = kdtls_cfg_args(&d->cfg, true);
		if (!args)
			return kdtls_err_set(&d->err, KDTLS_ERR_TLS_INIT,
					     -ENOMEM, "out of memory");
		cookie_args(d, ck, sizeof(ck));
		err = kdtls_ctl_request(d->ctx, -1, reply, sizeof(reply),
					"SERVE sock=%u cookie=on verify-client=%s%s%s%s",
					s->id, verify ? "on" : "off",
					d->psk_cb ? " psk=ask" : "", ck, args);
		explicit_bzero(ck, sizeof(ck));
		kdtls_free_secret(args);	/* it holds the private key */
		if (err)
			return kdtls_err_set(&d->err, err == -EPIPE ?
					     KDTLS_ERR_TLS_INIT :
					     KDTLS_ERR_TLS_INIT, err,
					     "kdtlsd refused to serve: %s",
					     reply);
		s->serving = true;
	}
	d->sock = s;
	if (!d->peer.ss_family) {
		d->listener = true;
		s->listener = d;
	}
	return 0;
}

KDTLS_EXPORT int kdtls_do_handshake(struct kdtls *d, int udp_fd)
{
	struct kdtls_sock *s;
	char why[300];
	int err;

	CHECK(d);
	if (d->state != KDTLS_HANDSHAKE_NOT_STARTED)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EALREADY, "the handshake was started");
	if (d->mode == KDTLS_MODE_CLIENT && !d->peer.ss_family)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EDESTADDRREQ, "no peer (setPeer)");
	if (d->ctx->dead)
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_INIT, -EPIPE,
				     "the connection to kdtlsd is lost");
	err = kdtls_ctl_sock(d->ctx, udp_fd, d->mtu, &s, why, sizeof(why));
	if (err)
		return sock_err(d, err, why);
	d->n_errs = 0;
	d->suite[0] = d->kcipher[0] = 0;
	d->timed_out = false;
	err = d->mode == KDTLS_MODE_CLIENT ? start_client(d, s) :
					      start_server(d, s);
	if (err)
		return err;
	d->state = KDTLS_HANDSHAKE_IN_PROGRESS;
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT enum kdtls_handshake_state kdtls_handshake_state(
	const struct kdtls *d)
{
	return d ? d->state : KDTLS_HANDSHAKE_NOT_STARTED;
}

KDTLS_EXPORT bool kdtls_is_connection_encrypted(const struct kdtls *d)
{
	return d && d->state == KDTLS_HANDSHAKE_COMPLETE;
}

KDTLS_EXPORT int kdtls_handle_timeout(struct kdtls *d)
{
	int err;

	CHECK(d);
	if (!d->timed_out)
		return 0;
	d->timed_out = false;
	if (d->mode == KDTLS_MODE_CLIENT && d->sock &&
	    d->state == KDTLS_HANDSHAKE_NOT_STARTED) {
		err = kdtls_do_handshake(d, d->sock->fd);
		if (err)
			return err;
	}
	return 1;
}

KDTLS_EXPORT int kdtls_peer_verification_errors(const struct kdtls *d,
						int *codes, size_t n)
{
	size_t i;

	if (!d || (n && !codes))
		return -EINVAL;
	for (i = 0; i < n && i < (size_t)d->n_errs; i++)
		codes[i] = d->errs[i];
	return d->n_errs;
}

KDTLS_EXPORT const char *kdtls_peer_verification_reasons(const struct kdtls *d)
{
	return d && d->reasons ? d->reasons : "";
}

static char *ignore_list(const int *codes, int n)
{
	char *s = malloc(n * 12 + 2);
	size_t o = 0;
	int i;

	if (!s)
		return NULL;
	s[0] = 0;
	for (i = 0; i < n; i++)
		o += sprintf(s + o, "%s%d", i ? "," : "", codes[i]);
	return s;
}

static int resume(struct kdtls *d, char *reply, size_t rlen)
{
	char *list = ignore_list(d->ignore, d->n_ignore), *extra;
	int err;

	if (!list)
		return -ENOMEM;
	if (asprintf(&extra, " ignore=%s", *list ? list : "none") < 0) {
		free(list);
		return -ENOMEM;
	}
	free(list);
	err = peer_req(d, "RESUME", extra, reply, rlen);
	free(extra);
	return err;
}

KDTLS_EXPORT int kdtls_resume_handshake(struct kdtls *d)
{
	char reply[300];
	int err;

	CHECK(d);
	if (d->state != KDTLS_PEER_VERIFICATION_FAILED)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EBUSY, "no verification failure to resume");
	if (!d->n_ignore)
		return kdtls_err_set(&d->err, KDTLS_ERR_PEER_VERIFICATION,
				     -EPERM, "no verification error ignored");
	err = resume(d, reply, sizeof(reply));
	if (err)
		return kdtls_err_set(&d->err, err == -EPERM ?
				     KDTLS_ERR_PEER_VERIFICATION :
				     KDTLS_ERR_TLS_FATAL, err,
				     "cannot resume: %s", reply);
	d->state = KDTLS_HANDSHAKE_IN_PROGRESS;
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT int kdtls_abort_handshake(struct kdtls *d)
{
	char reply[300];
	int err = 0;

	CHECK(d);
	if (d->state != KDTLS_HANDSHAKE_IN_PROGRESS &&
	    d->state != KDTLS_PEER_VERIFICATION_FAILED)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -EBUSY, "no handshake in progress");
	if (d->listener) {
		/* stop serving: kdtlsd forgets the socket */
		if (d->sock)
			err = kdtls_ctl_request(d->ctx, -1, reply,
						sizeof(reply), "DETACH sock=%u",
						d->sock->id);
		if (d->sock) {
			d->sock->listener = NULL;
			d->sock->serving = false;
			d->sock->id = 0;
		}
		d->listener = false;
	} else {
		err = peer_req(d, "ABORT", "", reply, sizeof(reply));
		if (err == -ENOENT)	/* it ended meanwhile */
			err = 0;
	}
	d->state = KDTLS_HANDSHAKE_NOT_STARTED;
	if (err)
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL, err,
				     "abort: %s", reply);
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT int kdtls_shutdown(struct kdtls *d)
{
	char reply[300];
	int err;

	CHECK(d);
	if (d->state != KDTLS_HANDSHAKE_COMPLETE)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -ENOTCONN, "not encrypted");
	err = peer_req(d, "SHUTDOWN", "", reply, sizeof(reply));
	d->state = KDTLS_HANDSHAKE_NOT_STARTED;
	d->suite[0] = d->kcipher[0] = 0;
	if (err)
		return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET, err,
				     "shutdown: %s", reply);
	kdtls_err_clear(&d->err);
	return 0;
}

KDTLS_EXPORT const char *kdtls_session_cipher(const struct kdtls *d)
{
	return d && d->state == KDTLS_HANDSHAKE_COMPLETE ? d->suite : NULL;
}

KDTLS_EXPORT const char *kdtls_session_kernel_cipher(const struct kdtls *d)
{
	return d && d->state == KDTLS_HANDSHAKE_COMPLETE ? d->kcipher : NULL;
}

KDTLS_EXPORT enum kdtls_protocol kdtls_session_protocol(const struct kdtls *d)
{
	return d && d->state == KDTLS_HANDSHAKE_COMPLETE ?
	       KDTLS_PROTO_DTLS1_2 : KDTLS_PROTO_UNKNOWN;
}

KDTLS_EXPORT struct kdtls *kdtls_find_peer(struct kdtls *listener,
					   const struct sockaddr *from,
					   socklen_t fromlen)
{
	struct sockaddr_storage ss = { 0 };
	struct kdtls *d;

	if (!listener || !from || fromlen > sizeof(ss))
		return NULL;
	memcpy(&ss, from, fromlen);
	for (d = listener->ctx->objs; d; d = d->next)
		if (d->parent == listener && kdtls_addr_equal(&d->peer, &ss))
			return d;
	return NULL;
}

/* ---- events ------------------------------------------------------------ */

static void emit(struct kdtls *d, enum kdtls_event_type type,
		 const char *reason)
{
	struct kdtls_event ev = { .type = type, .dtls = d, .reason = reason,
				  .alert_desc = -1 };

	if (d->ev_cb)
		d->ev_cb(&ev, d->ev_user);
}

static struct kdtls *child_new(struct kdtls *l,
			       const struct sockaddr_storage *peer)
{
	struct kdtls *d = obj_new(l->ctx, KDTLS_MODE_SERVER);

	if (!d)
		return NULL;
	d->peer = *peer;
	d->parent = l;
	d->sock = l->sock;
	d->state = KDTLS_HANDSHAKE_IN_PROGRESS;
	d->ev_cb = l->ev_cb;
	d->ev_user = l->ev_user;
	d->psk_cb = l->psk_cb;
	d->psk_user = l->psk_user;
	d->mtu = l->mtu;
	memcpy(d->ignore, l->ignore, sizeof(d->ignore));
	d->n_ignore = l->n_ignore;
	if (kdtls_cfg_copy(&d->cfg, &l->cfg)) {
		kdtls_free(d);
		return NULL;
	}
	return d;
}

static bool all_ignored(const struct kdtls *d)
{
	int i, j;

	if (!d->n_errs)
		return false;
	for (i = 0; i < d->n_errs; i++) {
		for (j = 0; j < d->n_ignore; j++)
			if (d->ignore[j] == d->errs[i])
				break;
		if (j == d->n_ignore)
			return false;
	}
	return true;
}

static void on_verify_failed(struct kdtls *d, struct kdtls_msg *m)
{
	const char *codes = kdtls_msg_get(m, "errors");
	const char *reasons = kdtls_msg_get(m, "reasons");
	char *end;

	d->n_errs = 0;
	while (codes && *codes && d->n_errs < KDTLS_MAX_ERRS) {
		d->errs[d->n_errs++] = strtol(codes, &end, 10);
		codes = *end == ',' ? end + 1 : "";
	}
	free(d->reasons);
	d->reasons = reasons ? strdup(reasons) : NULL;
	if (all_ignored(d) && !resume(d, NULL, 0))
		return;		/* preset: handshake-complete follows */
	d->state = KDTLS_PEER_VERIFICATION_FAILED;
	kdtls_err_set(&d->err, KDTLS_ERR_PEER_VERIFICATION, 0,
		      "peer verification failed: %s", d->reasons ?
		      d->reasons : "?");
	emit(d, KDTLS_EV_VERIFY_FAILED, d->reasons);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void on_data(struct kdtls *d, struct kdtls_msg *m)
{
	const char *hex = kdtls_msg_get(m, "hex");
	struct kdtls_event ev = { .type = KDTLS_EV_DATA, .dtls = d,
				  .alert_desc = -1 };
	size_t n, i;
	uint8_t *buf;

	if (!hex || strlen(hex) % 2)
		return;
	n = strlen(hex) / 2;
	buf = malloc(n + 1);
	if (!buf)
		return;
	for (i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			return;
		}
		buf[i] = hi << 4 | lo;
	}
	ev.data = buf;
	ev.len = n;
	if (d->ev_cb)
		d->ev_cb(&ev, d->ev_user);
	free(buf);
}

static void on_psk(struct kdtls *d, struct kdtls_msg *m)
{
	struct kdtls_psk_auth a = {
		.identity_hint = kdtls_msg_get(m, "hint"),
		.identity = kdtls_msg_get(m, "identity"),
	};
	char hex[2 * KDTLS_PSK_MAX_KEY + 1], *id = NULL, reply[256];
	size_t i;

	if (!d->psk_cb || d->psk_cb(d, &a, d->psk_user) || !a.key_len ||
	    a.key_len > KDTLS_PSK_MAX_KEY) {
		peer_req(d, "PSK", " refuse=1", reply, sizeof(reply));
		goto out;
	}
	a.out_identity[KDTLS_PSK_MAX_IDENTITY] = 0;
	for (i = 0; i < a.key_len; i++)
		sprintf(hex + 2 * i, "%02x", a.key[i]);
	if (d->mode == KDTLS_MODE_CLIENT) {
		/* on the stack, wiped: asprintf() may leave copies of the key
		 * in buffers it grew and freed */
		char extra[sizeof(" identity= key=") +
			   3 * KDTLS_PSK_MAX_IDENTITY + sizeof(hex)];

		id = kdtls_msg_escape(a.out_identity, strlen(a.out_identity));
		if (id) {
			snprintf(extra, sizeof(extra), " identity=%s key=%s",
				 id, hex);
			peer_req(d, "PSK", extra, reply, sizeof(reply));
			explicit_bzero(extra, sizeof(extra));
		}
	} else {
		char extra[sizeof(hex) + 8];

		snprintf(extra, sizeof(extra), " key=%s", hex);
		peer_req(d, "PSK", extra, reply, sizeof(reply));
		explicit_bzero(extra, sizeof(extra));
	}
	free(id);
out:
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(&a, sizeof(a));
}

void kdtls_dtls_event(struct kdtls_ctx *ctx, struct kdtls_msg *m)
{
	const char *sid = kdtls_msg_get(m, "sock");
	const char *speer = kdtls_msg_get(m, "peer");
	struct sockaddr_storage peer;
	struct kdtls_sock *s;
	struct kdtls *d;

	if (!sid || !speer || kdtls_addr_parse(speer, &peer))
		return;
	s = kdtls_ctl_sock_by_id(ctx, strtoul(sid, NULL, 10));
	if (!s)
		return;
	for (d = ctx->objs; d; d = d->next)
		if (d->sock == s && !d->listener && d->peer.ss_family &&
		    kdtls_addr_equal(&d->peer, &peer))
			break;
	if (!d || (d->state == KDTLS_HANDSHAKE_NOT_STARTED && d->parent &&
		   strcmp(m->name, "handshake-complete") == 0)) {
		/* a peer that comes back after a close is announced again */
		/* a new peer of a listener */
		if (!s->listener || (strcmp(m->name, "handshake-complete") &&
				     strcmp(m->name, "verify-failed") &&
				     strcmp(m->name, "psk-required")))
			return;
		if (d && d->parent) {
			d->state = KDTLS_HANDSHAKE_IN_PROGRESS;
			d->announced = false;
		} else {
			d = child_new(s->listener, &peer);
		}
		if (!d)
			return;
	}
	if (!strcmp(m->name, "handshake-complete")) {
		const char *suite = kdtls_msg_get(m, "suite");
		const char *cipher = kdtls_msg_get(m, "cipher");

		d->state = KDTLS_HANDSHAKE_COMPLETE;
		snprintf(d->suite, sizeof(d->suite), "%s", suite ? suite : "");
		snprintf(d->kcipher, sizeof(d->kcipher), "%s",
			 cipher ? cipher : "");
		kdtls_err_clear(&d->err);
		if (d->parent && !d->announced) {
			struct kdtls_event ev = { .type = KDTLS_EV_NEW_PEER,
						  .dtls = d, .alert_desc = -1 };

			d->announced = true;
			if (d->parent->ev_cb)
				d->parent->ev_cb(&ev, d->parent->ev_user);
			return;
		}
		emit(d, KDTLS_EV_HANDSHAKE_COMPLETE, NULL);
	} else if (!strcmp(m->name, "verify-failed")) {
		on_verify_failed(d, m);
	} else if (!strcmp(m->name, "handshake-failed")) {
		const char *r = kdtls_msg_get(m, "reason");

		d->state = KDTLS_HANDSHAKE_NOT_STARTED;
		kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL, 0,
			      "handshake failed: %s", r ? r : "?");
		emit(d, KDTLS_EV_HANDSHAKE_FAILED, r);
	} else if (!strcmp(m->name, "timeout")) {
		const char *r = kdtls_msg_get(m, "reason");

		d->state = KDTLS_HANDSHAKE_NOT_STARTED;
		d->timed_out = true;
		kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL, 0,
			      "handshake timeout (%s)", r ? r : "?");
		emit(d, KDTLS_EV_HANDSHAKE_TIMEOUT, r);
	} else if (!strcmp(m->name, "peer-closed")) {
		if (d->state != KDTLS_HANDSHAKE_COMPLETE)
			return;
		d->state = KDTLS_HANDSHAKE_NOT_STARTED;
		kdtls_err_set(&d->err, KDTLS_ERR_REMOTE_CLOSED, 0,
			      "the peer closed the connection");
		emit(d, KDTLS_EV_PEER_CLOSED, NULL);
	} else if (!strcmp(m->name, "alert")) {
		const char *lv = kdtls_msg_get(m, "level");
		const char *desc = kdtls_msg_get(m, "desc");
		const char *name = kdtls_msg_get(m, "name");
		struct kdtls_event ev = { .type = KDTLS_EV_ALERT, .dtls = d,
					  .reason = name };

		ev.alert_level = lv && !strcmp(lv, "fatal") ? 2 : 1;
		ev.alert_desc = desc ? atoi(desc) : -1;
		if (ev.alert_level == 2) {
			d->state = KDTLS_HANDSHAKE_NOT_STARTED;
			kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL, 0,
				      "fatal alert from the peer: %s",
				      name ? name : "?");
		}
		if (d->ev_cb)
			d->ev_cb(&ev, d->ev_user);
	} else if (!strcmp(m->name, "assoc-removed")) {
		if (d->state == KDTLS_HANDSHAKE_COMPLETE)
			d->state = KDTLS_HANDSHAKE_NOT_STARTED;
	} else if (!strcmp(m->name, "data")) {
		on_data(d, m);
	} else if (!strcmp(m->name, "psk-required")) {
		on_psk(d, m);
	}
}

void kdtls_dtls_ctx_dead(struct kdtls_ctx *ctx)
{
	struct kdtls *d, *next;

	for (d = ctx->objs; d; d = next) {
		next = d->next;
		if (d->state == KDTLS_HANDSHAKE_IN_PROGRESS ||
		    d->state == KDTLS_PEER_VERIFICATION_FAILED) {
			d->state = KDTLS_HANDSHAKE_NOT_STARTED;
			kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL, 0,
				      "the connection to kdtlsd is lost");
			emit(d, KDTLS_EV_HANDSHAKE_FAILED, "kdtlsd lost");
		}
	}
}
