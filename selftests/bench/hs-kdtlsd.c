// SPDX-License-Identifier: GPL-2.0
/*
 * hs-kdtlsd: full DTLS 1.2 handshakes per second through kdtlsd, for
 * hs-bench.sh (in the VM, kdtls.ko loaded, a kdtlsd running).
 *
 *   hs-kdtlsd -C CTL -m ecdsa|psk -t SECS [-j PARALLEL] [-p PORT]
 *
 * One control connection to one kdtlsd, which plays both ends (as the
 * bare OpenSSL loop, hs-bare, does in one thread): a UDP socket on
 * 127.0.0.1:PORT attached and served (cookie exchange on), and client
 * sockets on ephemeral ports, each attached and CONNECTed (name=kdtls.test
 * or psk=client1), PARALLEL at a time.  A client handshake counts when its
 * "handshake-complete" arrives (keys in the kernel on both ends: the
 * server's event comes first); the client socket is then detached and
 * closed.  The served socket is replaced every 256 handshakes so that the
 * kernel's associations go with it.  Prints
 *   "kdtlsd-MODE: N handshakes in S s = R/s".
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAR		64
#define ROTATE		256

static int ctl;
static struct {
	int fd;
	unsigned int id;
	bool busy;
} cl[MAX_PAR];
static unsigned int srv_id;
static int srv_fd = -1, port = 4990;
static bool psk;
static unsigned long done, inflight, since_rotate;
/* Replies come in request order: which ones somebody waits for. */
#define QLEN		1024
static bool waited[QLEN];
static unsigned long q_head, q_tail;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "hs-kdtlsd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void ctl_send(bool wait, int fd, const char *fmt, ...)
{
	char buf[512], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	va_list ap;

	va_start(ap, fmt);
	iov.iov_len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (q_tail - q_head >= QLEN)
		die("too many requests in flight");
	waited[q_tail++ % QLEN] = wait;
	if (sendmsg(ctl, &mh, 0) < 0)
		die("control socket: %s", strerror(errno));
}

static void on_event(const char *m)
{
	const char *p = strstr(m, " sock=");
	unsigned int id;
	int i;

	if (!strncmp(m, "EVENT handshake-failed", 22) ||
	    !strncmp(m, "EVENT verify-failed", 19) ||
	    !strncmp(m, "EVENT timeout", 13))
		die("%s", m);
	if (strncmp(m, "EVENT handshake-complete", 24) || !p ||
	    !strstr(m, "role=client") || sscanf(p, " sock=%u", &id) != 1)
		return;
	for (i = 0; i < MAX_PAR; i++) {
		if (!cl[i].busy || cl[i].id != id)
			continue;
		ctl_send(false, -1, "DETACH sock=%u", id);
		close(cl[i].fd);
		cl[i].busy = false;
		inflight--;
		done++;
		since_rotate++;
		return;
	}
}

/*
 * One control message into @buf, events handled, replies nobody waits for
 * (the DETACHes sent on the way) skipped: 1 when @buf is the reply waited
 * for, 0 otherwise.
 */
static int ctl_msg(char *buf, size_t len, int flags)
{
	ssize_t n = recv(ctl, buf, len - 1, flags);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		die("control socket closed");
	buf[n] = 0;
	if (!strncmp(buf, "EVENT ", 6)) {
		on_event(buf);
		return 0;
	}
	if (!strncmp(buf, "ERR", 3))
		die("%s", buf);
	if (q_head == q_tail)
		die("reply to no request: %s", buf);
	return waited[q_head++ % QLEN];
}

static const char *reply(char *buf, size_t len)
{
	while (!ctl_msg(buf, len, 0))
		;
	return buf;
}

static int udp(int p)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(p),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)))
		die("UDP socket on port %d: %s", p, strerror(errno));
	return fd;
}

static unsigned int attach(int fd)
{
	char buf[4096];
	unsigned int id;

	ctl_send(true, fd, "ATTACH");
	if (sscanf(reply(buf, sizeof(buf)), "OK sock=%u", &id) != 1)
		die("ATTACH: %s", buf);
	return id;
}

static void serve(void)
{
	char buf[4096];

	if (srv_fd >= 0) {
		ctl_send(true, -1, "DETACH sock=%u", srv_id);
		reply(buf, sizeof(buf));
		close(srv_fd);
	}
	srv_fd = udp(port);
	srv_id = attach(srv_fd);
	ctl_send(true, -1, "SERVE sock=%u cookie=on", srv_id);
	reply(buf, sizeof(buf));
	since_rotate = 0;
}

static void start(int i)
{
	char buf[4096];

	cl[i].fd = udp(0);
	cl[i].id = attach(cl[i].fd);
	cl[i].busy = true;
	inflight++;
	if (psk)
		ctl_send(true, -1, "CONNECT sock=%u peer=127.0.0.1:%d psk=client1",
			 cl[i].id, port);
	else
		ctl_send(true, -1, "CONNECT sock=%u peer=127.0.0.1:%d name=kdtls.test",
			 cl[i].id, port);
	reply(buf, sizeof(buf));
}

int main(int argc, char **argv)
{
	const char *path = NULL, *mode = "ecdsa";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	double secs = 2, t0, end;
	char buf[70000];
	int par = 8, o, i;

	while ((o = getopt(argc, argv, "C:m:t:j:p:")) != -1) {
		switch (o) {
		case 'C': path = optarg; break;
		case 'm': mode = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'j': par = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: hs-kdtlsd -C CTL -m ecdsa|psk -t SECS [-j PARALLEL] [-p PORT]\n");
			return 2;
		}
	}
	psk = !strcmp(mode, "psk");
	if (!path || (!psk && strcmp(mode, "ecdsa")) || secs <= 0 ||
	    par < 1 || par > MAX_PAR || port < 1 || port > 65535) {
		fprintf(stderr, "hs-kdtlsd: needs -C CTL, -m ecdsa|psk, -t > 0, 1 <= -j <= %d\n",
			MAX_PAR);
		return 2;
	}
	ctl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (ctl < 0 || connect(ctl, (void *)&sun, sizeof(sun)))
		die("connect %s: %s", path, strerror(errno));
	serve();
	t0 = now();
	end = t0 + secs;
	for (;;) {
		bool stop = now() >= end;
		struct pollfd p = { .fd = ctl, .events = POLLIN };

		if (!stop && since_rotate + inflight >= ROTATE && !inflight)
			serve();
		for (i = 0; !stop && i < par; i++)
			if (!cl[i].busy && since_rotate + inflight < ROTATE)
				start(i);
		if (stop && !inflight)
			break;
		if (poll(&p, 1, 10000) <= 0)
			die("no event for 10 s (%lu in flight)", inflight);
		do {
			if (ctl_msg(buf, sizeof(buf), MSG_DONTWAIT))
				die("unexpected reply: %s", buf);
			p.revents = 0;
		} while (poll(&p, 1, 0) > 0);
	}
	t0 = now() - t0;
	printf("kdtlsd-%s: %lu handshakes in %.2f s = %.1f/s\n", mode, done,
	       t0, done / t0);
	return 0;
}
