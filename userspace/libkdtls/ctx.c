// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: the control connection to kdtlsd.
 *
 * Concurrency model.  No threads.  A context is one SOCK_SEQPACKET
 * connection; every request is answered by exactly one reply, in order,
 * and kdtlsd answers at once (it never waits on the network before
 * replying), so a request is a local round trip: write the line, wait for
 * the reply (bounded by KDTLS_REPLY_TIMEOUT_MS for a hung daemon).  Events
 * may arrive at any time, also while a reply is awaited: those are queued,
 * and an eventfd is made readable so that the application, polling
 * kdtls_ctx_fd() (an epoll fd holding the control socket and the eventfd),
 * calls kdtls_ctx_dispatch() and gets them in order.  Callbacks run only
 * inside kdtls_ctx_dispatch().
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "internal.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static int send_line(struct kdtls_ctx *ctx, const char *line, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)line, strlen(line) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(ctx->fd, &mh, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = { ctx->fd, POLLOUT, 0 };

			if (poll(&p, 1, KDTLS_REPLY_TIMEOUT_MS) > 0)
				continue;
			return -ETIMEDOUT;
		}
		return -errno;
	}
}

static void queue(struct kdtls_ctx *ctx, const char *line, size_t len)
{
	struct kdtls_qmsg *q = malloc(sizeof(*q) + len + 1);
	uint64_t one = 1;

	if (!q)
		return;		/* as a client that does not read: lost */
	memcpy(q->line, line, len);
	q->line[len] = 0;
	q->next = NULL;
	*ctx->q_tail = q;
	ctx->q_tail = &q->next;
	if (write(ctx->evfd, &one, sizeof(one)) < 0)
		return;
}

/* One message into ctx->buf: its length, 0 if none pending, -errno */
static ssize_t recv_one(struct kdtls_ctx *ctx)
{
	ssize_t n;

	do {
		n = recv(ctx->fd, ctx->buf, KDTLS_MSG_MAX, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	ctx->buf[n] = 0;
	return n;
}

int kdtls_ctl_request(struct kdtls_ctx *ctx, int pass_fd, char *reply,
		      size_t rlen, const char *fmt, ...)
{
	uint64_t deadline;
	va_list ap;
	char *line;
	int err, n;

	if (ctx->dead)
		return -EPIPE;
	/* The line may hold a private key or a PSK: formatted once into a
	 * buffer of the right size (vasprintf() may leave grown copies
	 * behind), wiped on every path. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (n > KDTLS_MSG_MAX)
		return -EMSGSIZE;
	line = malloc(n + 1);
	if (!line)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(line, n + 1, fmt, ap);
	va_end(ap);
	err = send_line(ctx, line, pass_fd);
	kdtls_free_secret(line);
	if (err)
		goto dead;
	deadline = now_ms() + KDTLS_REPLY_TIMEOUT_MS;
	for (;;) {
		struct pollfd p = { ctx->fd, POLLIN, 0 };
		uint64_t t = now_ms();
		ssize_t len;

		if (t >= deadline) {
			err = -ETIMEDOUT;
			goto dead;
		}
		if (poll(&p, 1, deadline - t) < 0 && errno != EINTR) {
			err = -errno;
			goto dead;
		}
		len = recv_one(ctx);
		if (len < 0) {
			err = len;
			goto dead;
		}
		if (!len)
			continue;
		if (!strncmp(ctx->buf, "EVENT ", 6)) {
			queue(ctx, ctx->buf, len);
			continue;
		}
		break;
	}
	if (!strncmp(ctx->buf, "OK", 2)) {
		if (reply)
			snprintf(reply, rlen, "%s", ctx->buf);
		return 0;
	}
	{
		struct kdtls_msg m;
		const char *code, *msg;

		if (kdtls_msg_parse_line(ctx->buf, &m) ||
		    strcmp(m.kind, "ERR")) {
			if (reply)
				snprintf(reply, rlen, "bad reply from kdtlsd");
			return -EPROTO;
		}
		code = kdtls_msg_get(&m, "code");
		msg = kdtls_msg_get(&m, "msg");
		if (reply)
			snprintf(reply, rlen, "%s", msg ? msg : "kdtlsd error");
		return code ? -kdtls_errno_from_name(code) : -EPROTO;
	}
dead:
	/* a half-done exchange cannot be resynchronised */
	ctx->dead = true;
	if (reply)
		snprintf(reply, rlen, "kdtlsd connection lost: %s",
			 strerror(-err));
	return err == -ETIMEDOUT ? err : -EPIPE;
}

struct kdtls_sock *kdtls_ctl_sock_by_id(struct kdtls_ctx *ctx, uint32_t id)
{
	struct kdtls_sock *s;

	for (s = ctx->socks; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void sock_forget(struct kdtls_ctx *ctx, struct kdtls_sock *s)
{
	struct kdtls_sock **pp;
	struct kdtls *d;

	for (d = ctx->objs; d; d = d->next)
		if (d->sock == s)
			d->sock = NULL;
	for (pp = &ctx->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	while (s->held) {
		struct kdtls_held *h = s->held;

		s->held = h->next;
		free(h);
	}
	free(s->rxbuf);
	free(s);
}

int kdtls_ctl_sock(struct kdtls_ctx *ctx, int fd, unsigned int mtu,
		   struct kdtls_sock **sp, char *why, size_t wlen)
{
	struct kdtls_sock *s;
	char reply[256], mtu_arg[32] = "";
	struct kdtls_msg m;
	const char *id;
	struct stat st;
	int type, err;
	socklen_t tl = sizeof(type);

	if (fd < 0 || fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) ||
	    type != SOCK_DGRAM) {
		snprintf(why, wlen, "not a UDP socket");
		return -ENOTSOCK;
	}
	for (s = ctx->socks; s; s = s->next) {
		if (s->fd != fd)
			continue;
		if (s->dev == st.st_dev && s->ino == st.st_ino) {
			*sp = s;
			return 0;
		}
		/* the number was reused for another socket */
		kdtls_ctl_request(ctx, -1, NULL, 0, "DETACH sock=%u", s->id);
		sock_forget(ctx, s);
		break;
	}
	if (mtu)
		snprintf(mtu_arg, sizeof(mtu_arg), " mtu=%u", mtu);
	err = kdtls_ctl_request(ctx, fd, reply, sizeof(reply), "ATTACH%s",
				mtu_arg);
	if (err) {
		snprintf(why, wlen, "kdtlsd refused the socket: %s", reply);
		return err;
	}
	if (kdtls_msg_parse_line(reply, &m) ||
	    !(id = kdtls_msg_get(&m, "sock"))) {
		snprintf(why, wlen, "bad ATTACH reply");
		return -EPROTO;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, wlen, "out of memory");
		return -ENOMEM;
	}
	s->fd = fd;
	s->held_tail = &s->held;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->id = strtoul(id, NULL, 10);
	s->next = ctx->socks;
	ctx->socks = s;
	*sp = s;
	return 0;
}

KDTLS_EXPORT int kdtls_ctx_new(struct kdtls_ctx **ctxp, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct kdtls_ctx *ctx;
	char reply[128];
	int err;

	if (!ctxp)
		return -EINVAL;
	*ctxp = NULL;
	if (!path)
		path = getenv("KDTLSD_SOCKET");
	if (!path || !*path)
		path = KDTLS_DEFAULT_CTL_PATH;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fd = ctx->epfd = ctx->evfd = -1;
	ctx->q_tail = &ctx->q;
	ctx->buf = malloc(KDTLS_MSG_MAX + 1);
	if (!ctx->buf) {
		err = -ENOMEM;
		goto err;
	}
	ctx->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0);
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	ctx->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->fd < 0 || ctx->epfd < 0 || ctx->evfd < 0) {
		err = -errno;
		goto err;
	}
	if (connect(ctx->fd, (void *)&sun, sizeof(sun))) {
		err = -errno;
		goto err;
	}
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->fd, &ev) ||
	    epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->evfd, &ev)) {
		err = -errno;
		goto err;
	}
	err = kdtls_ctl_request(ctx, -1, reply, sizeof(reply),
				"HELLO version=1");
	if (err)
		goto err;
	*ctxp = ctx;
	return 0;
err:
	kdtls_ctx_free(ctx);
	return err;
}

KDTLS_EXPORT void kdtls_ctx_free(struct kdtls_ctx *ctx)
{
	struct kdtls_qmsg *q;

	if (!ctx)
		return;
	while (ctx->objs)
		kdtls_free(ctx->objs);
	while (ctx->socks)
		sock_forget(ctx, ctx->socks);
	while ((q = ctx->q)) {
		ctx->q = q->next;
		free(q);
	}
	if (ctx->fd >= 0)
		close(ctx->fd);	/* kdtlsd releases our sockets */
	if (ctx->epfd >= 0)
		close(ctx->epfd);
	if (ctx->evfd >= 0)
		close(ctx->evfd);
	free(ctx->buf);
	free(ctx);
}

KDTLS_EXPORT int kdtls_ctx_fd(const struct kdtls_ctx *ctx)
{
	return ctx ? ctx->epfd : -EINVAL;
}

static void handle(struct kdtls_ctx *ctx, char *line)
{
	struct kdtls_msg m;

	if (kdtls_msg_parse_line(line, &m) || strcmp(m.kind, "EVENT"))
		return;		/* not for us: ignored */
	kdtls_dtls_event(ctx, &m);
}

KDTLS_EXPORT int kdtls_ctx_dispatch(struct kdtls_ctx *ctx)
{
	uint64_t cnt;
	int n = 0;

	if (!ctx)
		return -EINVAL;
	if (read(ctx->evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	for (;;) {
		struct kdtls_qmsg *q = ctx->q;
		ssize_t len;

		if (q) {
			ctx->q = q->next;
			if (!ctx->q)
				ctx->q_tail = &ctx->q;
			handle(ctx, q->line);
			free(q);
			n++;
			continue;
		}
		if (ctx->dead)
			break;
		len = recv_one(ctx);
		if (len == 0) {
			/* all read: no wake-up left behind by queue() */
			if (read(ctx->evfd, &cnt, sizeof(cnt)) < 0 &&
			    errno != EAGAIN)
				return -errno;
			return n;
		}
		if (len < 0) {
			ctx->dead = true;
			break;
		}
		if (strncmp(ctx->buf, "EVENT ", 6))
			continue;	/* a reply nobody waits for */
		/* a callback may make requests, which reuse ctx->buf */
		queue(ctx, ctx->buf, len);
	}
	kdtls_dtls_ctx_dead(ctx);
	return -ECONNRESET;
}
