// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the kdtls handshake daemon -- arguments, init ladder, event loop.
 *
 * Concurrency model
 * -----------------
 * One thread, one epoll loop, nothing blocks except short netlink requests
 * to the kernel (answered without waiting on the network).  The loop
 * watches:
 *
 *   - the netlink agent socket: "record" notifications for every attached
 *     socket (hs.c feeds them to the handshake of (socket, peer));
 *   - the control socket listener and each control client (ctl.c);
 *   - a signalfd: SIGHUP reloads certificates, keys, PSKs, the cookie
 *     secret and timers (established associations are untouched: they
 *     live in the kernel), SIGTERM/SIGINT exit cleanly;
 *   - one timerfd carrying a heap of deadlines (timer.c): OpenSSL
 *     retransmissions, handshake timeouts, the end of each final-flight
 *     period and the cookie secret rotation.
 *
 * Every OpenSSL object belongs to exactly one handshake and is only ever
 * touched from this loop, so there are no locks.  A handshake is freed only
 * from its own event (record, timer, control request); nothing holds a
 * pointer to it across loop iterations except the hash table and the timer
 * heap, both of which hs_free() unlinks.
 *
 * The kernel never waits for us (DESIGN.md invariant 4): when this loop is
 * slow, records are dropped and counted by kdtls and the peers retransmit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <openssl/ssl.h>

#include "kdtlsd.h"

static struct {
	int epfd, sigfd;
	bool stop;
	const char *config;
	const char *socket_override;
	int level_override;
	struct kd_timer rotate;
} m = { .epfd = -1, .sigfd = -1, .level_override = -1,
	.rotate = { .idx = -1 } };

/* epoll tags for the fixed descriptors; anything else is a control client */
static char tag_nl, tag_listen, tag_sig, tag_timer;

int kd_loop_add(int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(m.epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void kd_loop_del(int fd)
{
	epoll_ctl(m.epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void rotate_fire(struct kd_timer *t)
{
	kd_cookie_rotate();
	kd_timer_arm(t, kd_now_ms() + kd_cfg.cookie_rotate_s * 1000ull);
}

static void apply_overrides(struct kd_config *c)
{
	if (m.socket_override)
		snprintf(c->ctl_path, sizeof(c->ctl_path), "%s",
			 m.socket_override);
	if (m.level_override >= 0)
		c->log_level = m.level_override;
}

static void reload(void)
{
	struct kd_config *c = malloc(sizeof(*c)), old;

	if (!c)
		return;
	kd_info("SIGHUP: reloading %s", m.config ? m.config : "(no file)");
	kd_config_defaults(c);
	if (m.config && kd_config_load(m.config, c)) {
		kd_err("reload failed: keeping the running configuration");
		goto out;
	}
	apply_overrides(c);
	/* the control socket stays where it is until a restart */
	memcpy(c->ctl_path, kd_cfg.ctl_path, sizeof(c->ctl_path));
	c->ctl_mode = kd_cfg.ctl_mode;
	memcpy(c->ctl_group, kd_cfg.ctl_group, sizeof(c->ctl_group));
	old = kd_cfg;
	kd_cfg = *c;
	if (kd_hs_reload() || kd_cookie_reload()) {
		kd_err("reload failed: keeping the running configuration");
		kd_cfg = old;
		goto out;
	}
	kd_log_set_level(kd_cfg.log_level);
	kd_timer_arm(&m.rotate, kd_now_ms() + kd_cfg.cookie_rotate_s * 1000ull);
	kd_info("reloaded");
out:
	OPENSSL_cleanse(&old, sizeof(old));
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(m.sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload();
			break;
		case SIGTERM:
		case SIGINT:
			kd_info("signal %u: exiting", si.ssi_signo);
			m.stop = true;
			break;
		}
	}
}

static int loop(void)
{
	struct epoll_event ev[64];

	while (!m.stop) {
		int n, i;

		if (kd_nl_pending())
			kd_nl_event();
		n = epoll_wait(m.epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kd_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < n && !m.stop; i++) {
			void *p = ev[i].data.ptr;

			if (p == &tag_nl)
				kd_nl_event();
			else if (p == &tag_listen)
				kd_ctl_accept();
			else if (p == &tag_sig)
				on_signal();
			else if (p == &tag_timer)
				kd_timer_run();
			else
				kd_ctl_client_event(p);
			/* a client freed by event i may appear later in ev[]:
			 * handle one client event per round to stay safe */
			if (p != &tag_nl && p != &tag_listen && p != &tag_sig &&
			    p != &tag_timer)
				break;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: kdtlsd [options]\n"
"  -c, --config FILE    configuration file (INI, see etc/kdtlsd.conf)\n"
"  -f, --foreground     stay in the foreground, log to stderr\n"
"                       (unless the file says log = syslog)\n"
"  -s, --socket PATH    control socket path (overrides the file)\n"
"  -d, --debug          log level debug (overrides the file)\n"
"  -V, --version        print the control protocol version\n"
"  -h, --help           this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool foreground = false;
	sigset_t mask;
	int o, ret = 1;

	while ((o = getopt_long(argc, argv, "c:fs:dVh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': m.config = optarg; break;
		case 'f': foreground = true; break;
		case 's': m.socket_override = optarg; break;
		case 'd': m.level_override = KD_LOG_DEBUG; break;
		case 'V': printf("kdtlsd control protocol %d\n", KD_PROTO_VERSION);
			  return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	kd_config_defaults(&kd_cfg);
	if (m.config && kd_config_load(m.config, &kd_cfg))
		return 1;
	apply_overrides(&kd_cfg);
	kd_log_init(kd_cfg.log_syslog || !foreground, kd_cfg.log_level);
	if (!foreground && daemon(0, 0)) {
		kd_err("daemon: %s", strerror(errno));
		return 1;
	}

	/* init ladder: each step undone by the label of the same name */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	m.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	m.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m.sigfd < 0 || m.epfd < 0) {
		kd_err("signalfd/epoll: %s", strerror(errno));
		goto out_fds;
	}
	if (kd_timer_init()) {
		kd_err("timerfd: %s", strerror(errno));
		goto out_fds;
	}
	if (kd_cookie_init())
		goto out_timer;
	if (kd_hs_init())
		goto out_cookie;
	if (kd_nl_init())
		goto out_hs;
	if (kd_ctl_init())
		goto out_nl;
	if (kd_loop_add(m.sigfd, &tag_sig) ||
	    kd_loop_add(kd_timer_fd(), &tag_timer) ||
	    kd_loop_add(kd_nl_fd(), &tag_nl) ||
	    kd_loop_add(kd_ctl_listen_fd(), &tag_listen)) {
		kd_err("epoll_ctl: %s", strerror(errno));
		goto out_ctl;
	}
	m.rotate.fn = rotate_fire;
	kd_timer_arm(&m.rotate, kd_now_ms() + kd_cfg.cookie_rotate_s * 1000ull);
	kd_info("ready: control socket %s, protocol %d", kd_cfg.ctl_path,
		KD_PROTO_VERSION);

	ret = loop() ? 1 : 0;

	kd_timer_cancel(&m.rotate);
out_ctl:
	kd_ctl_exit();
out_nl:
	kd_hs_exit();		/* releases the sockets: needs netlink */
	kd_nl_exit();
	goto out_cookie;
out_hs:
	kd_hs_exit();
out_cookie:
	kd_cookie_exit();
out_timer:
	close(kd_timer_fd());
out_fds:
	if (m.epfd >= 0)
		close(m.epfd);
	if (m.sigfd >= 0)
		close(m.sigfd);
	OPENSSL_cleanse(&kd_cfg, sizeof(kd_cfg));
	return ret;
}
