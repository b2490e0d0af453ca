// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the control socket (Documentation/kdtlsd.rst, "Control
 * protocol").
 *
 * A SOCK_SEQPACKET unix socket: one message is one line of text,
 *
 *   request:  VERB key=value ...            (the UDP fd by SCM_RIGHTS)
 *   reply:    OK key=value ...  |  ERR code=ERRNAME msg=text
 *   event:    EVENT name key=value ...      (at any time)
 *
 * Values are percent-encoded where they hold a space, '%' or a byte
 * outside 0x21..0x7e.  Every request gets exactly one reply, in order;
 * events are sent to the client that attached the socket and may come
 * before the reply of the request that caused them.  A client that does
 * not read its events loses them (the daemon never blocks on a client).
 * Garbage gets "ERR" and the connection stays usable.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctlmsg.h"
#include "kdtlsd.h"

#define MAX_ARGS	KD_CTL_MAX_ARGS

struct kd_client {
	struct kd_client *next;
	int fd;
	bool hello;
	unsigned long lost;		/* events dropped: client not reading */
};

static struct {
	int lfd;
	struct kd_client *clients;
	char path[108];
	uint8_t buf[KD_CTL_MAX_MSG + 1];
} ctl = { .lfd = -1 };

/* ---- text helpers --------------------------------------------------- */

const char *kd_addr_str(const struct sockaddr_storage *ss, char *buf,
			size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
	return buf;
}

/* "1.2.3.4:5" or "[::1]:5"; v4 for an AF_INET6 socket becomes v4-mapped
 * later (hs.c).  0 or -1. */
int kd_addr_parse(const char *s, int family, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	char *end;

	(void)family;
	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || rb - s - 1 >= (long)sizeof(host))
			return -1;
		memcpy(host, s + 1, rb - s - 1);
		host[rb - s - 1] = 0;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon - s >= (long)sizeof(host))
			return -1;
		memcpy(host, s, colon - s);
		host[colon - s] = 0;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || !port || port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
		      &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

/* ---- sending -------------------------------------------------------- */

static void client_send(struct kd_client *c, const char *msg)
{
	if (send(c->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    !c->lost++)
		kd_warn("control client %d: not reading, events lost (%s)",
			c->fd, strerror(errno));
}

static void reply(struct kd_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply(struct kd_client *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	client_send(c, buf);
}

static void reply_err(struct kd_client *c, int err, const char *msg)
{
	char esc[1024];

	kd_ctl_escape(msg, esc, sizeof(esc));
	reply(c, "ERR code=%s msg=%s", strerrorname_np(err) ?: "EINVAL", esc);
}

void kd_ctl_event(struct kd_client *c, const char *fmt, ...)
{
	char *buf;
	va_list ap;
	int n;

	if (!c)
		return;
	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > KD_CTL_MAX_MSG)
		kd_warn("event too large for the control socket, dropped");
	else
		client_send(c, buf);
	free(buf);
}

/* ---- requests ------------------------------------------------------- */

struct req {
	char *verb;
	char *key[MAX_ARGS], *val[MAX_ARGS];
	int n;
	int fd;			/* from SCM_RIGHTS, -1 none */
};

static const char *arg(struct req *r, const char *key)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NULL;
}

static int arg_bool(struct req *r, const char *key, bool *out)
{
	const char *v = arg(r, key);

	if (!v)
		return 0;
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Only the keys in @allowed (space-separated) may appear. */
static int check_keys(struct kd_client *c, struct req *r, const char *allowed)
{
	int i;

	for (i = 0; i < r->n; i++) {
		const char *p = allowed;
		size_t kl = strlen(r->key[i]);
		bool ok = false;

		while (*p) {
			size_t l = strcspn(p, " ");

			if (l == kl && !strncmp(p, r->key[i], l))
				ok = true;
			p += l + (p[l] == ' ');
		}
		if (!ok) {
			char m[128];

			snprintf(m, sizeof(m), "unknown key %.64s", r->key[i]);
			reply_err(c, EINVAL, m);
			return -1;
		}
	}
	return 0;
}

/* sock=ID owned by this client (and peer=ADDR if @peer). */
static struct kd_sock *req_sock(struct kd_client *c, struct req *r,
				struct sockaddr_storage *peer)
{
	const char *v = arg(r, "sock");
	struct kd_sock *s;
	char *end;
	unsigned long id;

	if (!v) {
		reply_err(c, EINVAL, "sock= missing");
		return NULL;
	}
	id = strtoul(v, &end, 10);
	s = *end ? NULL : kd_sock_find(id);
	if (!s || s->owner != c) {
		reply_err(c, ENOENT, "no such socket on this connection");
		return NULL;
	}
	if (peer) {
		v = arg(r, "peer");
		if (!v || kd_addr_parse(v, s->family, peer)) {
			reply_err(c, EINVAL, "peer=ADDR:PORT missing or invalid");
			return NULL;
		}
		if (peer->ss_family == AF_INET6 && s->family == AF_INET) {
			reply_err(c, EAFNOSUPPORT, "IPv6 peer on an IPv4 socket");
			return NULL;
		}
	}
	return s;
}

static void do_hello(struct kd_client *c, struct req *r)
{
	const char *v = arg(r, "version");

	if (check_keys(c, r, "version"))
		return;
	if (v && strtoul(v, NULL, 10) != KD_PROTO_VERSION) {
		reply_err(c, EPROTONOSUPPORT, "protocol version 1 only");
		return;
	}
	c->hello = true;
	reply(c, "OK version=%d daemon=kdtlsd", KD_PROTO_VERSION);
}

static void do_attach(struct kd_client *c, struct req *r)
{
	const char *v = arg(r, "mtu");
	struct kd_sock *s;
	uint32_t id;
	int err;

	if (check_keys(c, r, "mtu"))
		return;
	if (r->fd < 0) {
		reply_err(c, EBADF, "ATTACH needs the UDP socket by SCM_RIGHTS");
		return;
	}
	if (v && (atoi(v) < 256 || atoi(v) > 65507)) {
		reply_err(c, EINVAL, "mtu out of range (256-65507)");
		return;
	}
	err = kd_nl_attach(r->fd, &id);
	if (err) {
		reply_err(c, -err, *kd_nl_extack() ? kd_nl_extack() :
			  "sock-attach failed");
		return;
	}
	if (kd_sock_find(id)) {
		reply_err(c, EEXIST, "socket already handed over");
		return;
	}
	s = kd_sock_new(r->fd, id, c);
	if (!s) {
		kd_nl_release(r->fd);
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	r->fd = -1;		/* the daemon's now */
	if (v)
		s->mtu = atoi(v);
	kd_info("socket %u attached", id);
	reply(c, "OK sock=%u", id);
}

/* The per-connection TLS options of CONNECT and SERVE (tlsopt.c) into
 * @ctx (NULL: kdtlsd's own context).  0, or -1 after an ERR reply. */
static int req_tlsopt(struct kd_client *c, struct req *r, bool server,
		      bool psk_ask, SSL_CTX **ctx)
{
	struct kd_tlsopt o = {
		.cert = arg(r, "cert"), .key = arg(r, "key"),
		.ca = arg(r, "ca"), .ciphers = arg(r, "ciphers"),
		.psk_hint = arg(r, "psk-hint"), .verify_depth = -1,
		.psk_ask = psk_ask,
	};
	const char *v = arg(r, "verify-depth");
	char err[128];
	int ret;

	if (v) {
		char *end;
		long d = strtol(v, &end, 10);

		if (*end || !*v || d < 0 || d > 100) {
			reply_err(c, EINVAL, "verify-depth takes 0-100");
			return -1;
		}
		o.verify_depth = d;
	}
	if (o.psk_hint && strlen(o.psk_hint) > KDTLS_PSK_ID_MAX) {
		reply_err(c, EINVAL, "psk-hint too long (128 at most)");
		return -1;
	}
	ret = kd_tlsopt_ctx(&o, server, c, ctx, err, sizeof(err));
	if (ret) {
		reply_err(c, -ret, err);
		return -1;
	}
	return 0;
}

static void do_serve(struct kd_client *c, struct req *r)
{
	const char *psk = arg(r, "psk");
	struct kd_sock *s;
	bool cookie, verify;
	SSL_CTX *ctx;

	if (check_keys(c, r, "sock cookie verify-client psk cert key ca "
			     "ciphers verify-depth psk-hint cookie-digest "
			     "cookie-secret"))
		return;
	s = req_sock(c, r, NULL);
	if (!s)
		return;
	if (psk && strcmp(psk, "ask")) {
		reply_err(c, EINVAL, "SERVE takes psk=ask only");
		return;
	}
	if (req_tlsopt(c, r, true, psk != NULL, &ctx))
		return;
	if (arg(r, "cookie-digest") || arg(r, "cookie-secret")) {
		char err[128];

		if (kd_tlsopt_cookie_set(s, arg(r, "cookie-digest"),
					 arg(r, "cookie-secret"), err,
					 sizeof(err))) {
			SSL_CTX_free(ctx);
			reply_err(c, EINVAL, err);
			return;
		}
	}
	cookie = s->cookie;
	verify = s->verify_client;
	if (arg_bool(r, "cookie", &cookie) ||
	    arg_bool(r, "verify-client", &verify)) {
		SSL_CTX_free(ctx);
		reply_err(c, EINVAL, "cookie= and verify-client= take on|off");
		return;
	}
	s->cookie = cookie;
	s->verify_client = verify;
	SSL_CTX_free(s->ctx);	/* served again: its old options */
	s->ctx = ctx;		/* our reference, freed with the socket */
	s->serving = true;
	reply(c, "OK sock=%u cookie=%s verify-client=%s", s->id,
	      cookie ? "on" : "off", verify ? "on" : "off");
}

static void do_connect(struct kd_client *c, struct req *r)
{
	struct sockaddr_storage peer;
	const char *psk = arg(r, "psk");
	bool verify = true, ask = psk && !strcmp(psk, "ask");
	struct kd_sock *s;
	SSL_CTX *ctx;
	char err[128];
	int ret;

	if (check_keys(c, r, "sock peer name psk verify cert key ca ciphers "
			     "verify-depth"))
		return;
	s = req_sock(c, r, &peer);
	if (!s)
		return;
	if (arg_bool(r, "verify", &verify)) {
		reply_err(c, EINVAL, "verify= takes on|off");
		return;
	}
	if (req_tlsopt(c, r, false, ask, &ctx))
		return;
	ret = kd_hs_connect(s, &peer, arg(r, "name"), ask ? NULL : psk, verify,
			    ctx, ask, err, sizeof(err));
	SSL_CTX_free(ctx);	/* the handshake's SSL holds its own */
	if (ret)
		reply_err(c, -ret, err);
	else
		reply(c, "OK");
}

static void do_peer_op(struct kd_client *c, struct req *r)
{
	struct sockaddr_storage peer;
	char buf[3000], err[128] = "";
	struct kd_sock *s;
	int ret;

	if (check_keys(c, r, strcmp(r->verb, "RESUME") ? "sock peer" :
			     "sock peer ignore"))
		return;
	s = req_sock(c, r, &peer);
	if (!s)
		return;
	if (!strcmp(r->verb, "STATUS")) {
		ret = kd_hs_status(s, &peer, buf, sizeof(buf));
		if (!ret) {
			reply(c, "OK %s", buf);
			return;
		}
	} else if (!strcmp(r->verb, "ABORT")) {
		ret = kd_hs_abort(s, &peer);
	} else if (!strcmp(r->verb, "SHUTDOWN")) {
		ret = kd_hs_shutdown(s, &peer);
	} else {
		const char *ign = arg(r, "ignore");

		ret = kd_hs_resume(s, &peer, ign ? ign : "", err, sizeof(err));
	}
	if (ret)
		reply_err(c, -ret, *err ? err : ret == -ENOENT ?
			  "no handshake or association with this peer" :
			  ret == -ENOTCONN ? "not established" : "failed");
	else
		reply(c, "OK");
}

static void do_psk(struct kd_client *c, struct req *r)
{
	struct sockaddr_storage peer;
	bool refuse = false;
	char err[128];
	struct kd_sock *s;
	int ret;

	if (check_keys(c, r, "sock peer identity key refuse"))
		return;
	s = req_sock(c, r, &peer);
	if (!s)
		return;
	if (arg_bool(r, "refuse", &refuse)) {
		reply_err(c, EINVAL, "refuse= takes on|off");
		return;
	}
	ret = kd_hs_psk(s, &peer, arg(r, "identity"), arg(r, "key"), refuse,
			err, sizeof(err));
	if (ret)
		reply_err(c, -ret, err);
	else
		reply(c, "OK");
}

static void do_detach(struct kd_client *c, struct req *r)
{
	struct kd_sock *s;

	if (check_keys(c, r, "sock"))
		return;
	s = req_sock(c, r, NULL);
	if (!s)
		return;
	kd_sock_free(s);
	reply(c, "OK");
}

static void do_info(struct kd_client *c, struct req *r)
{
	char stats[128];

	if (check_keys(c, r, ""))
		return;
	kd_hs_install_stats(stats, sizeof(stats));
	reply(c, "OK version=%d handshakes=%lu timers=%zu tls-contexts=%u%s",
	      KD_PROTO_VERSION, kd_hs_count(), kd_timer_count(),
	      kd_tlsopt_count(), stats);
}

static const struct {
	const char *verb;
	void (*fn)(struct kd_client *c, struct req *r);
} verbs[] = {
	{ "HELLO", do_hello },
	{ "ATTACH", do_attach },
	{ "SERVE", do_serve },
	{ "CONNECT", do_connect },
	{ "STATUS", do_peer_op },
	{ "ABORT", do_peer_op },
	{ "SHUTDOWN", do_peer_op },
	{ "RESUME", do_peer_op },
	{ "PSK", do_psk },
	{ "DETACH", do_detach },
	{ "INFO", do_info },
};

static void handle(struct kd_client *c, char *line, int fd)
{
	struct req r = { .fd = fd };
	struct kd_ctl_msg m;
	const char *why;
	unsigned int i;
	int k;

	if (kd_ctl_parse(line, &m, &why)) {
		reply_err(c, EINVAL, why);
		goto out;
	}
	r.verb = m.verb;
	r.n = m.n;
	for (k = 0; k < m.n; k++) {
		r.key[k] = m.key[k];
		r.val[k] = m.val[k];
	}
	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (!strcmp(verbs[i].verb, r.verb)) {
			verbs[i].fn(c, &r);
			goto out;
		}
	}
	reply_err(c, EOPNOTSUPP, "unknown request");
out:
	if (r.fd >= 0)
		close(r.fd);
}

/* ---- clients -------------------------------------------------------- */

static void client_free(struct kd_client *c)
{
	struct kd_client **pp;
	struct kd_sock *s;

	/* its sockets go with it (the application owns them) */
	while ((s = kd_sock_first_of(c))) {
		kd_info("socket %u released: control connection closed", s->id);
		kd_sock_free(s);
	}
	for (pp = &ctl.clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	kd_tlsopt_client_gone(c);	/* its cache quota */
	kd_loop_del(c->fd);
	close(c->fd);
	free(c);
}

void kd_ctl_client_event(struct kd_client *c)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { ctl.buf, KD_CTL_MAX_MSG };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd = -1, extra;
	ssize_t n;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm), i;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		extra = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < extra; i++) {
			if (fd < 0)
				fd = fds[i];
			else
				close(fds[i]);	/* one fd per request */
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fd >= 0)
			close(fd);
		reply_err(c, EMSGSIZE, "request too long");
		goto out;
	}
	ctl.buf[n] = 0;
	if (memchr(ctl.buf, 0, n)) {
		if (fd >= 0)
			close(fd);
		reply_err(c, EINVAL, "NUL byte in request");
		goto out;
	}
	handle(c, (char *)ctl.buf, fd);
out:
	OPENSSL_cleanse(ctl.buf, n);	/* cert=/key= PEM, PSKs */
}

void kd_ctl_accept(void)
{
	struct kd_client *c;
	int fd;

	fd = accept4(ctl.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || kd_loop_add(fd, c)) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = ctl.clients;
	ctl.clients = c;
	kd_dbg("control client %d connected", fd);
}

int kd_ctl_listen_fd(void)
{
	return ctl.lfd;
}

int kd_ctl_init(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;

	if (strlen(kd_cfg.ctl_path) >= sizeof(sun.sun_path)) {
		kd_err("control socket path too long");
		return -1;
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", kd_cfg.ctl_path);
	memcpy(sun.sun_path, ctl.path, strlen(ctl.path) + 1);
	ctl.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (ctl.lfd < 0)
		return -1;
	unlink(ctl.path);	/* a stale socket of a previous run */
	old = umask(0177);	/* never reachable before chmod below */
	if (bind(ctl.lfd, (void *)&sun, sizeof(sun))) {
		umask(old);
		kd_err("control socket %s: %s", ctl.path, strerror(errno));
		goto err;
	}
	umask(old);
	if (*kd_cfg.ctl_group) {
		struct group *g = getgrnam(kd_cfg.ctl_group);

		if (!g || chown(ctl.path, -1, g->gr_gid)) {
			kd_err("control socket group %s: %s", kd_cfg.ctl_group,
			       g ? strerror(errno) : "no such group");
			goto err_unlink;
		}
	}
	if (chmod(ctl.path, kd_cfg.ctl_mode) || listen(ctl.lfd, 64)) {
		kd_err("control socket %s: %s", ctl.path, strerror(errno));
		goto err_unlink;
	}
	return 0;
err_unlink:
	unlink(ctl.path);
err:
	close(ctl.lfd);
	ctl.lfd = -1;
	return -1;
}

void kd_ctl_exit(void)
{
	while (ctl.clients)
		client_free(ctl.clients);
	if (ctl.lfd >= 0) {
		close(ctl.lfd);
		unlink(ctl.path);
		ctl.lfd = -1;
	}
}
