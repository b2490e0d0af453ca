// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd_peer: a tiny application of kdtlsd, for the tests.
 *
 * Opens a UDP socket, hands it to kdtlsd over the control socket, then
 * either starts a client handshake (--connect) or serves (--serve), waits
 * for "handshake-complete", and exchanges plaintext through the kernel
 * (kdtls seals and opens; this program never sees a record):
 *
 *   kdtlsd_peer -C CTL -b ADDR:PORT --connect ADDR:PORT [--name N]
 *               [--psk ID] [--no-verify] [-s MSG] [-e MSG] [--shutdown]
 *   kdtlsd_peer -C CTL -b ADDR:PORT --serve [--no-cookie]
 *               [--verify-client] [-e MSG] [-s MSG] [--echo N]
 *
 * -s sends MSG to the peer, -e waits for a datagram containing MSG (early
 * data delivered as "EVENT data" counts).  Client: send, then expect.
 * Server: expect, then send.  --echo N (server): answer N datagrams with
 * "echo:" + the datagram.  --uring sends and receives the plaintext with
 * io_uring (IORING_OP_SENDMSG/RECVMSG) instead of sendto/recvfrom.  Every
 * control line is printed to stdout
 * prefixed with "ctl< " or "ctl> ", data with "data< "/"data> ".  Exit 0
 * on success, 1 on any failure (handshake failed, timeout, mismatch).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
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

#include <liburing.h>

static int ctl = -1, udp = -1, timeout_ms = 20000;
static bool survive;		/* go on when kdtlsd goes away */
static bool use_uring;			/* plaintext through io_uring */
static struct io_uring ring;
static const char *resume_codes;	/* RESUME ignore= on verify-failed */
static bool abort_on_vf;		/* ABORT on verify-failed */
static char events_seen[8192];		/* names of the events so far */
static bool complete_seen;
static unsigned int sock_id;
static struct sockaddr_storage peer;
static socklen_t peer_len;
static char peer_str[80];
static char early[65536];
static size_t early_len;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "FAIL: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char host[64];
	const char *colon;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb - s - 1 >= (long)sizeof(host))
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
	if (*colon != ':')
		return -1;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr)) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(atoi(colon + 1));
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr)) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(atoi(colon + 1));
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static void ctl_send(int fd_to_pass, const char *fmt, ...)
{
	char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	iov.iov_len = strlen(buf);
	if (fd_to_pass >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd_to_pass, sizeof(int));
	}
	printf("ctl> %s\n", buf);
	if (sendmsg(ctl, &mh, 0) < 0)
		die("control send: %s", strerror(errno));
}

static const char *val(const char *line, const char *key, char *out,
		       size_t len)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");

			if (n >= len)
				n = len - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = 0;
			return out;
		}
		p += kl;
	}
	return NULL;
}

static void on_data_event(const char *line)
{
	char hex[8192];
	size_t i, n;

	if (!val(line, "hex", hex, sizeof(hex)))
		return;
	n = strlen(hex) / 2;
	for (i = 0; i < n && early_len < sizeof(early) - 1; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		early[early_len++] = b;
	}
	early[early_len] = 0;
}

/* Read one control message into @buf; events are printed and handled. */
static int ctl_read(char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = ctl, .events = POLLIN };
	ssize_t n;

	if (ctl < 0 || poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(ctl, buf, len - 1, 0);
	if (n <= 0 && survive) {
		printf("kdtlsd went away: going on without it\n");
		close(ctl);
		ctl = -1;
		buf[0] = 0;
		return 0;
	}
	if (n <= 0)
		die("control socket closed");
	buf[n] = 0;
	printf("ctl< %s\n", buf);
	fflush(stdout);
	if (!strncmp(buf, "EVENT data ", 11))
		on_data_event(buf);
	if (!strncmp(buf, "EVENT ", 6)) {
		size_t l = strlen(events_seen), n = strcspn(buf + 6, " ");

		if (l + n + 2 < sizeof(events_seen))
			snprintf(events_seen + l, sizeof(events_seen) - l,
				 " %.*s", (int)n, buf + 6);
	}
	if (!strncmp(buf, "EVENT handshake-complete", 24)) {
		char p[80];

		complete_seen = true;
		if (val(buf, "peer", p, sizeof(p))) {
			snprintf(peer_str, sizeof(peer_str), "%s", p);
			parse_addr(p, &peer, &peer_len);
		}
	}
	return 1;
}

/* The reply to the last request (events before it are printed). */
static void ctl_reply(char *buf, size_t len)
{
	long end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if (!ctl_read(buf, len, 100))
			continue;
		if (!strncmp(buf, "OK", 2) || !strncmp(buf, "ERR", 3))
			return;
	}
	die("no reply from kdtlsd");
}

/* Wait for handshake-complete; learn the peer from it. */
static void wait_complete(void)
{
	long end = now_ms() + timeout_ms;
	char buf[70000], p[80];

	(void)p;
	while (now_ms() < end) {
		if (complete_seen)
			return;
		if (!ctl_read(buf, sizeof(buf), 100))
			continue;
		if (complete_seen)
			return;
		if (!strncmp(buf, "EVENT verify-failed", 19) &&
		    (resume_codes || abort_on_vf)) {
			char reply[4096];

			if (abort_on_vf) {
				ctl_send(-1, "ABORT sock=%u peer=%s", sock_id,
					 peer_str);
				ctl_reply(reply, sizeof(reply));
				printf("ABORTED\n");
				exit(strncmp(reply, "OK", 2) ? 1 : 0);
			}
			ctl_send(-1, "RESUME sock=%u peer=%s ignore=%s",
				 sock_id, peer_str, resume_codes);
			ctl_reply(reply, sizeof(reply));
			if (strncmp(reply, "OK", 2))
				die("RESUME: %s", reply);
			continue;
		}
		if (!strncmp(buf, "EVENT handshake-failed", 22) ||
		    !strncmp(buf, "EVENT verify-failed", 19) ||
		    !strncmp(buf, "EVENT timeout", 13))
			die("handshake did not complete: %s", buf);
	}
	die("timeout waiting for handshake-complete");
}

/*
 * --uring: the plaintext goes through io_uring (IORING_OP_SENDMSG and
 * IORING_OP_RECVMSG on the kdtls socket), one request at a time; the
 * kernel seals and opens exactly as for sendto()/recvfrom().  Returns as
 * the syscalls do: bytes, or -1 with errno.
 */
static ssize_t uring_msg(bool tx, void *buf, size_t len,
			 struct sockaddr_storage *addr, socklen_t *alen,
			 int flags)
{
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_name = addr, .msg_namelen = *alen,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		die("io_uring: no sqe");
	if (tx)
		io_uring_prep_sendmsg(sqe, udp, &mh, flags);
	else
		io_uring_prep_recvmsg(sqe, udp, &mh, flags);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret < 0)
		die("io_uring_submit: %s", strerror(-ret));
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0)
		die("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	*alen = mh.msg_namelen;
	return ret;
}

static void send_data(const char *msg)
{
	ssize_t n;

	if (use_uring) {
		socklen_t l = peer_len;

		n = uring_msg(true, (void *)msg, strlen(msg), &peer, &l, 0);
	} else {
		n = sendto(udp, msg, strlen(msg), 0, (void *)&peer, peer_len);
	}
	if (n < 0)
		die("send: %s", strerror(errno));
	printf("data> %s\n", msg);
	fflush(stdout);
}

/* A datagram containing @want (or any, if NULL) into @out. */
static void expect_data(const char *want, char *out, size_t len)
{
	long end = now_ms() + timeout_ms;
	char buf[70000];

	if (early_len && (!want || strstr(early, want))) {
		printf("data< (early) %s\n", early);
		snprintf(out, len, "%s", early);
		early_len = 0;
		return;
	}
	while (now_ms() < end) {
		struct pollfd p[2] = { { .fd = udp, .events = POLLIN },
				       { .fd = ctl, .events = POLLIN } };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(p, 2, 100) <= 0)
			continue;
		if (p[1].revents) {
			buf[0] = 0;
			ctl_read(buf, sizeof(buf), 0);
			if (!strncmp(buf, "EVENT peer-closed", 17) ||
			    !strncmp(buf, "EVENT alert", 11))
				die("peer went away: %s", buf);
			if (early_len && (!want || strstr(early, want))) {
				printf("data< (early) %s\n", early);
				snprintf(out, len, "%s", early);
				early_len = 0;
				return;
			}
			continue;
		}
		if (use_uring)
			n = uring_msg(false, buf, sizeof(buf) - 1, &from, &fl,
				      MSG_DONTWAIT);
		else
			n = recvfrom(udp, buf, sizeof(buf) - 1, MSG_DONTWAIT,
				     (void *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			die("recv: %s", strerror(errno));
		}
		buf[n] = 0;
		printf("data< %s\n", buf);
		fflush(stdout);
		if (!want || strstr(buf, want)) {
			snprintf(out, len, "%s", buf);
			peer = from;
			peer_len = fl;
			return;
		}
	}
	die("timeout waiting for data \"%s\"", want ? want : "(any)");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'C' },
		{ "bind", required_argument, NULL, 'b' },
		{ "connect", required_argument, NULL, 'c' },
		{ "serve", no_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'n' },
		{ "psk", required_argument, NULL, 'p' },
		{ "no-verify", no_argument, NULL, 'N' },
		{ "no-cookie", no_argument, NULL, 'K' },
		{ "verify-client", no_argument, NULL, 'v' },
		{ "send", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "echo", required_argument, NULL, 'E' },
		{ "shutdown", no_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "survive", no_argument, NULL, 'Z' },
		{ "resume", required_argument, NULL, 'R' },
		{ "abort-on-verify-fail", no_argument, NULL, 'A' },
		{ "wait-event", required_argument, NULL, 'w' },
		{ "wait-file", required_argument, NULL, 'W' },
		{ "send2", required_argument, NULL, '2' },
		{ "expect2", required_argument, NULL, '3' },
		{ "uring", no_argument, NULL, 'U' },
		{ 0 }
	};
	const char *ctl_path = "/run/kdtlsd.sock", *bind_s = NULL;
	const char *connect_s = NULL, *name = NULL, *psk = NULL;
	const char *send_s = NULL, *expect_s = NULL, *mtu = NULL;
	const char *wait_file = NULL, *send2 = NULL, *expect2 = NULL;
	const char *wait_event = NULL;
	bool serve = false, verify = true, cookie = true, vclient = false;
	bool shut = false;
	int echo = 0, o;
	struct sockaddr_storage ss;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sl;
	char buf[70000], cmd[1024] = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((o = getopt_long(argc, argv,
				"C:b:c:Sn:p:NKvs:e:E:Dt:m:ZW:2:3:R:Aw:", opts,
				NULL)) != -1) {
		switch (o) {
		case 'C': ctl_path = optarg; break;
		case 'b': bind_s = optarg; break;
		case 'c': connect_s = optarg; break;
		case 'S': serve = true; break;
		case 'n': name = optarg; break;
		case 'p': psk = optarg; break;
		case 'N': verify = false; break;
		case 'K': cookie = false; break;
		case 'v': vclient = true; break;
		case 's': send_s = optarg; break;
		case 'e': expect_s = optarg; break;
		case 'E': echo = atoi(optarg); break;
		case 'D': shut = true; break;
		case 't': timeout_ms = atoi(optarg) * 1000; break;
		case 'm': mtu = optarg; break;
		case 'Z': survive = true; break;
		case 'R': resume_codes = optarg; break;
		case 'A': abort_on_vf = true; break;
		case 'w': wait_event = optarg; break;
		case 'W': wait_file = optarg; break;
		case '2': send2 = optarg; break;
		case '3': expect2 = optarg; break;
		case 'U': use_uring = true; break;
		default: return 2;
		}
	}
	if (!bind_s || (!!connect_s == serve)) {
		fprintf(stderr, "usage: see the comment at the top\n");
		return 2;
	}
	if (parse_addr(bind_s, &ss, &sl))
		die("bad --bind");
	if (use_uring) {
		int ret = io_uring_queue_init(8, &ring, 0);

		if (ret < 0)
			die("io_uring_queue_init: %s", strerror(-ret));
		printf("data path: io_uring\n");
	}
	udp = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (udp < 0 || bind(udp, (void *)&ss, sl))
		die("udp socket: %s", strerror(errno));
	ctl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl_path);
	if (ctl < 0 || connect(ctl, (void *)&sun, sizeof(sun)))
		die("connect %s: %s", ctl_path, strerror(errno));

	ctl_send(-1, "HELLO version=1");
	ctl_reply(buf, sizeof(buf));
	if (strncmp(buf, "OK", 2))
		die("HELLO: %s", buf);
	if (mtu)
		ctl_send(udp, "ATTACH mtu=%s", mtu);
	else
		ctl_send(udp, "ATTACH");
	ctl_reply(buf, sizeof(buf));
	if (strncmp(buf, "OK", 2) || sscanf(buf, "OK sock=%u", &sock_id) != 1)
		die("ATTACH: %s", buf);

	if (serve) {
		ctl_send(-1, "SERVE sock=%u cookie=%s verify-client=%s", sock_id,
			 cookie ? "on" : "off", vclient ? "on" : "off");
		ctl_reply(buf, sizeof(buf));
		if (strncmp(buf, "OK", 2))
			die("SERVE: %s", buf);
		printf("serving\n");
		wait_complete();
		printf("complete %s\n", peer_str);
		if (expect_s)
			expect_data(expect_s, buf, sizeof(buf));
		if (send_s)
			send_data(send_s);
		while (echo-- > 0) {
			char out[70016];

			expect_data(NULL, buf, sizeof(buf));
			snprintf(out, sizeof(out), "echo:%s", buf);
			send_data(out);
		}
	} else {
		if (parse_addr(connect_s, &peer, &peer_len))
			die("bad --connect");
		snprintf(peer_str, sizeof(peer_str), "%s", connect_s);
		snprintf(cmd, sizeof(cmd), "CONNECT sock=%u peer=%s%s%s%s%s%s",
			 sock_id, connect_s, name ? " name=" : "",
			 name ? name : "", psk ? " psk=" : "", psk ? psk : "",
			 verify ? "" : " verify=off");
		ctl_send(-1, "%s", cmd);
		ctl_reply(buf, sizeof(buf));
		if (strncmp(buf, "OK", 2))
			die("CONNECT: %s", buf);
		wait_complete();
		printf("complete %s\n", peer_str);
		if (send_s)
			send_data(send_s);
		if (expect_s)
			expect_data(expect_s, buf, sizeof(buf));
		if (wait_file) {
			long end = now_ms() + timeout_ms;

			printf("waiting for %s\n", wait_file);
			while (access(wait_file, F_OK) && now_ms() < end)
				usleep(20000);
		}
		if (send2)
			send_data(send2);
		if (expect2)
			expect_data(expect2, buf, sizeof(buf));
	}
	if (ctl < 0) {
		printf("PASS\n");
		return 0;
	}
	ctl_send(-1, "STATUS sock=%u peer=%s", sock_id, peer_str);
	ctl_reply(buf, sizeof(buf));
	if (shut) {
		ctl_send(-1, "SHUTDOWN sock=%u peer=%s", sock_id, peer_str);
		ctl_reply(buf, sizeof(buf));
		if (strncmp(buf, "OK", 2))
			die("SHUTDOWN: %s", buf);
	}
	if (wait_event) {
		long end = now_ms() + timeout_ms;
		size_t wl = strlen(wait_event);
		char name[128];

		snprintf(name, sizeof(name), " %s", wait_event);
		for (;;) {
			const char *hit = strstr(events_seen, name);

			if (hit && (hit[wl + 1] == ' ' || !hit[wl + 1]))
				break;
			if (now_ms() > end)
				die("timeout waiting for EVENT %s", wait_event);
			/*
			 * Keep reading the socket: kdtls opens a sealed alert
			 * in recvmsg, and only then passes it to kdtlsd.
			 */
			if (recv(udp, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				printf("data< (while waiting)\n");
			if (!ctl_read(buf, sizeof(buf), 100))
				continue;
			if (!strncmp(buf, "EVENT ", 6) &&
			    !strncmp(buf + 6, wait_event, wl) &&
			    buf[6 + wl] == ' ')
				break;
		}
	}
	printf("PASS\n");
	return 0;
}
