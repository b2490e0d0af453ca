// SPDX-License-Identifier: GPL-2.0
/*
 * libkdtls end to end, in the VM (root, kdtls.ko loaded): every public
 * function's normal use and documented errors, and what Qt's tst_qdtls
 * covers (construction, configuration, setPeer validation, handshakes with
 * certificates and PSK incl. pskRequired, verification errors ignored and
 * resumed, abort, timeouts, shutdown, protocol mismatch, cookies).
 *
 * Each test starts its own kdtlsd (userspace/kdtlsd/kdtlsd, control
 * socket in a temporary directory); certificates are generated once per
 * run with the openssl CLI.  Client and server are two contexts of the
 * same process on 127.0.0.1 (two UDP sockets), one daemon for both.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <openssl/x509_vfy.h>

#include "harness.h"
#include "../userspace/libkdtls/kdtls.h"

#define PSK_HEX	"00112233445566778899aabbccddeeff"
#define MAXEV	64

static char repo[512];
static char certs[256];

/* ---- events ------------------------------------------------------------ */

struct evlog {
	int n;
	struct {
		enum kdtls_event_type type;
		struct kdtls *d;
		char reason[128];
		char data[256];
		size_t len;
		int desc;
	} e[MAXEV];
	struct kdtls *peers[8];		/* NEW_PEER objects */
	int n_peers;
};

static void on_event(const struct kdtls_event *ev, void *user)
{
	struct evlog *l = user;

	if (l->n < MAXEV) {
		l->e[l->n].type = ev->type;
		l->e[l->n].d = ev->dtls;
		snprintf(l->e[l->n].reason, sizeof(l->e[0].reason), "%s",
			 ev->reason ? ev->reason : "");
		if (ev->data && ev->len <= sizeof(l->e[0].data)) {
			memcpy(l->e[l->n].data, ev->data, ev->len);
			l->e[l->n].len = ev->len;
		}
		l->e[l->n].desc = ev->alert_desc;
		l->n++;
	}
	if (ev->type == KDTLS_EV_NEW_PEER && l->n_peers < 8)
		l->peers[l->n_peers++] = ev->dtls;
}

static int count(const struct evlog *l, enum kdtls_event_type t)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->e[i].type == t;
	return n;
}

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* ---- fixture: kdtlsd, two contexts, two sockets ------------------------- */

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* once per run: CA + leaf (127.0.0.1, kdtls.test), a second CA + leaf */
static void make_certs(void)
{
	char cmd[4096];

	snprintf(certs, sizeof(certs), "/tmp/libkdtls-certs.%d", getppid());
	if (!access(certs, F_OK)) {
		char done[300];

		snprintf(done, sizeof(done), "%s/done", certs);
		for (int i = 0; i < 200 && access(done, F_OK); i++)
			usleep(50000);
		return;
	}
	if (mkdir(certs, 0700))
		return;
	snprintf(cmd, sizeof(cmd),
		 "cd %s && for ca in ca other; do "
		 "openssl ecparam -name prime256v1 -genkey -noout -out $ca.key && "
		 "openssl req -x509 -new -key $ca.key -subj /CN=$ca-test -days 2 -out $ca.pem && "
		 "openssl ecparam -name prime256v1 -genkey -noout -out $ca-leaf.key && "
		 "openssl req -new -key $ca-leaf.key -subj /CN=kdtls.test -out $ca-leaf.csr && "
		 "printf 'subjectAltName=DNS:kdtls.test,IP:127.0.0.1\\n' > ext && "
		 "openssl x509 -req -in $ca-leaf.csr -CA $ca.pem -CAkey $ca.key "
		 "-CAcreateserial -days 2 -extfile ext -out $ca-leaf.pem || exit 1; "
		 "done > log 2>&1 && touch done", certs);
	if (run(cmd))
		fprintf(stderr, "# certificate generation failed\n");
}

FIXTURE(lib) {
	char dir[64], ctl[128];
	pid_t kdtlsd;
	struct kdtls_ctx *cc, *sc;	/* client, server contexts */
	int cfd, sfd;			/* client, server UDP sockets */
	uint16_t sport, cport;
	struct evlog cev, sev;
};

static int udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) ||
	    getsockname(fd, (void *)&a, &l))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static pid_t start_kdtlsd(const char *dir, const char *ctl, const char *extra)
{
	char conf[256], bin[600], log[256];
	FILE *f;
	pid_t pid;
	int i;

	snprintf(conf, sizeof(conf), "%s/kdtlsd.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[daemon]\ncontrol_socket = %s\nlog_level = debug\n"
		"[tls]\ncertificate = %s/ca-leaf.pem\nprivate_key = %s/ca-leaf.key\n"
		"ca_file = %s/ca.pem\n%s\n[psk]\nclient1 = " PSK_HEX "\n"
		"[handshake]\nretransmit_initial_ms = 100\n"
		"retransmit_max_ms = 200\ntimeout_seconds = 4\n"
		"final_flight_seconds = 1\n",
		ctl, certs, certs, certs, extra ? extra : "");
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/userspace/kdtlsd/kdtlsd", repo);
	snprintf(log, sizeof(log), "%s/kdtlsd.log", dir);
	pid = fork();
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 2);
		execl(bin, "kdtlsd", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		struct stat st;

		if (!stat(ctl, &st) && S_ISSOCK(st.st_mode))
			return pid;
		usleep(25000);
	}
	return pid;
}

FIXTURE_SETUP(lib)
{
	int err;

	make_certs();
	snprintf(self->dir, sizeof(self->dir), "/tmp/libkdtls.XXXXXX");
	ASSERT_TRUE(mkdtemp(self->dir) != NULL);
	snprintf(self->ctl, sizeof(self->ctl), "%s/ctl", self->dir);
	self->kdtlsd = start_kdtlsd(self->dir, self->ctl, NULL);
	ASSERT_GT(self->kdtlsd, 0);
	/* the socket file exists from bind(), connect() works after listen() */
	for (int i = 0; i < 100; i++) {
		err = kdtls_ctx_new(&self->cc, self->ctl);
		if (err != -ECONNREFUSED)
			break;
		usleep(20000);
	}
	ASSERT_EQ(err, 0);
	err = kdtls_ctx_new(&self->sc, self->ctl);
	ASSERT_EQ(err, 0);
	self->cfd = udp_socket(&self->cport);
	self->sfd = udp_socket(&self->sport);
	ASSERT_GE(self->cfd, 0);
	ASSERT_GE(self->sfd, 0);
}

FIXTURE_TEARDOWN(lib)
{
	char cmd[300];

	kdtls_ctx_free(self->cc);
	kdtls_ctx_free(self->sc);
	if (self->kdtlsd > 0) {
		kill(self->kdtlsd, SIGTERM);
		waitpid(self->kdtlsd, NULL, 0);
	}
	if (getenv("LIBKDTLS_KEEP")) {
		fprintf(stderr, "# kept %s\n", self->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	run(cmd);
}

static void dump_log(const char *dir)
{
	char path[300], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kdtlsd.log", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# kdtlsd: %s", line);
	fclose(f);
}

/* Dispatch both contexts (and read the server's socket if @rbuf, so that
 * kdtls opens alerts) until @done or @timeout_ms. */
struct rx {
	char data[8][64];
	size_t len[8];
	struct sockaddr_storage from[8];
	int n;
};

static bool pump(FIXTURE_DATA(lib) *self, bool (*done)(FIXTURE_DATA(lib) *),
		 int timeout_ms, struct rx *srx, struct rx *crx)
{
	uint64_t end = ms() + timeout_ms;

	while (ms() < end) {
		struct pollfd p[4] = {
			{ kdtls_ctx_fd(self->cc), POLLIN, 0 },
			{ kdtls_ctx_fd(self->sc), POLLIN, 0 },
			{ self->sfd, POLLIN, 0 },
			{ self->cfd, POLLIN, 0 },
		};

		if (done && done(self))
			return true;
		poll(p, srx || crx ? 4 : 2, 20);
		kdtls_ctx_dispatch(self->cc);
		kdtls_ctx_dispatch(self->sc);
		for (int k = 0; k < 2; k++) {
			struct rx *r = k ? crx : srx;
			int fd = k ? self->cfd : self->sfd;
			socklen_t fl = sizeof(r->from[0]);
			char buf[64];
			int type;
			ssize_t n;

			if (!r)
				continue;
			n = kdtls_recv_any(fd, buf, sizeof(buf),
					   r->n < 8 ? &r->from[r->n] : NULL,
					   &fl, &type);
			if (n >= 0 && r->n < 8 && type == 23) {
				memcpy(r->data[r->n], buf, n);
				r->len[r->n++] = n;
			}
		}
	}
	return done ? done(self) : true;
}

static bool client_settled(FIXTURE_DATA(lib) *self)
{
	return count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE) +
	       count(&self->cev, KDTLS_EV_VERIFY_FAILED) +
	       count(&self->cev, KDTLS_EV_HANDSHAKE_FAILED) +
	       count(&self->cev, KDTLS_EV_HANDSHAKE_TIMEOUT) > 0;
}

static bool both_complete(FIXTURE_DATA(lib) *self)
{
	return count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE) > 0 &&
	       self->sev.n_peers > 0;
}

static struct kdtls *make_listener(FIXTURE_DATA(lib) *self)
{
	struct kdtls *l;

	if (kdtls_new(self->sc, KDTLS_MODE_SERVER, &l))
		return NULL;
	kdtls_set_event_cb(l, on_event, &self->sev);
	return l;
}

static struct kdtls *make_client(FIXTURE_DATA(lib) *self, const char *name)
{
	struct kdtls *c;

	if (kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c))
		return NULL;
	kdtls_set_event_cb(c, on_event, &self->cev);
	if (kdtls_set_peer_str(c, "127.0.0.1", self->sport, name)) {
		kdtls_free(c);
		return NULL;
	}
	return c;
}

/* ---- construction, errors ---------------------------------------------- */

TEST(error_names)
{
	static const char *const qt[] = {
		"NoError", "InvalidInputParameters", "InvalidOperation",
		"UnderlyingSocketError", "RemoteClosedConnectionError",
		"PeerVerificationError", "TlsInitializationError",
		"TlsFatalError", "TlsNonFatalError",
	};

	for (int i = 0; i < 9; i++)
		EXPECT_EQ(strcmp(kdtls_error_name(i), qt[i]), 0);
	EXPECT_TRUE(kdtls_error_name(9) == NULL);
	EXPECT_TRUE(kdtls_error_name(-1) == NULL);
}

TEST(ctx_errors)
{
	struct kdtls_ctx *ctx = (void *)1;

	EXPECT_EQ(kdtls_ctx_new(NULL, "/nonexistent"), -EINVAL);
	EXPECT_EQ(kdtls_ctx_new(&ctx, "/nonexistent/kdtlsd.sock"), -ENOENT);
	EXPECT_TRUE(ctx == NULL);
	EXPECT_EQ(kdtls_ctx_fd(NULL), -EINVAL);
	EXPECT_EQ(kdtls_ctx_dispatch(NULL), -EINVAL);
	kdtls_ctx_free(NULL);
}

TEST_F(lib, construction)
{
	struct kdtls_generator_params gp;
	struct kdtls_config cfg;
	struct kdtls *c, *s, *x = (void *)1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c), 0);
	ASSERT_EQ(kdtls_new(self->sc, KDTLS_MODE_SERVER, &s), 0);
	EXPECT_EQ(kdtls_new(self->cc, 0, &x), -EINVAL);
	EXPECT_TRUE(x == NULL);
	EXPECT_EQ(kdtls_new(NULL, KDTLS_MODE_CLIENT, &x), -EINVAL);
	EXPECT_EQ(kdtls_mode(c), KDTLS_MODE_CLIENT);
	EXPECT_EQ(kdtls_mode(s), KDTLS_MODE_SERVER);
	EXPECT_TRUE(kdtls_ctx(c) == self->cc);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
	EXPECT_EQ(strcmp(kdtls_error_string(c), ""), 0);
	EXPECT_EQ(kdtls_mtu_hint(c), 0);
	EXPECT_EQ(kdtls_peer_port(c), 0);
	EXPECT_EQ(kdtls_peer_address(c, (void *)&ss, &sl), -ENOTCONN);
	EXPECT_EQ(strcmp(kdtls_peer_verification_name(c), ""), 0);
	EXPECT_FALSE(kdtls_is_connection_encrypted(c));
	EXPECT_TRUE(kdtls_session_cipher(c) == NULL);
	EXPECT_EQ(kdtls_session_protocol(c), KDTLS_PROTO_UNKNOWN);
	EXPECT_EQ(kdtls_peer_verification_errors(c, NULL, 0), 0);
	kdtls_configuration(c, &cfg);
	EXPECT_EQ(cfg.protocol, KDTLS_PROTO_DTLS1_2_OR_LATER);
	EXPECT_EQ(cfg.verify_mode, KDTLS_VERIFY_AUTO);
	EXPECT_EQ(cfg.verify_depth, -1);
	EXPECT_TRUE(cfg.cert_pem == NULL && cfg.ciphers == NULL);
	kdtls_cookie_generator_params(s, &gp);
	EXPECT_EQ(gp.hash, KDTLS_HASH_SHA256);
	EXPECT_EQ(gp.secret_len, 32);
	EXPECT_EQ(kdtls_handle_timeout(c), 0);
	kdtls_set_event_cb(c, on_event, &self->cev);
	EXPECT_TRUE(kdtls_user(c) == &self->cev);
	kdtls_free(c);
	kdtls_free(s);
	kdtls_free(NULL);
}

TEST_F(lib, set_peer_validation)
{
	static const char *bad4[] = { "0.0.0.0", "255.255.255.255",
				      "224.0.0.1", "239.1.2.3" };
	static const char *bad6[] = { "::", "ff02::1", "::ffff:224.0.0.1" };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(5) };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct kdtls *c;
	unsigned int i;

	ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c), 0);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(kdtls_set_peer_str(c, bad4[i], 443, NULL), -EINVAL);
		EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(kdtls_set_peer_str(c, bad6[i], 443, NULL), -EINVAL);
		EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	}
	EXPECT_EQ(kdtls_set_peer_str(c, "127.0.0.1", 0, NULL), -EINVAL);
	EXPECT_EQ(kdtls_set_peer_str(c, "kdtls.test", 443, NULL), -EINVAL);
	EXPECT_EQ(kdtls_set_peer(c, NULL, 0, NULL), -EINVAL);
	EXPECT_EQ(kdtls_set_peer(c, (void *)&in6, sizeof(in6) - 1, NULL),
		  -EINVAL);
	EXPECT_EQ(kdtls_set_peer_str(c, "127.0.0.1", 443, "bad name"),
		  -EINVAL);
	EXPECT_EQ(kdtls_peer_port(c), 0);	/* nothing was set */
	EXPECT_EQ(kdtls_set_peer_str(c, "127.0.0.1", 4433, "kdtls.test"), 0);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
	EXPECT_EQ(kdtls_peer_port(c), 4433);
	EXPECT_EQ(strcmp(kdtls_peer_verification_name(c), "kdtls.test"), 0);
	sl = 4;
	EXPECT_EQ(kdtls_peer_address(c, (void *)&ss, &sl), -ENOSPC);
	sl = sizeof(ss);
	ASSERT_EQ(kdtls_peer_address(c, (void *)&ss, &sl), 0);
	EXPECT_EQ(sl, sizeof(struct sockaddr_in));
	EXPECT_EQ(((struct sockaddr_in *)&ss)->sin_addr.s_addr,
		  htonl(INADDR_LOOPBACK));
	EXPECT_EQ(kdtls_set_peer_verification_name(c, "other.test"), 0);
	EXPECT_EQ(strcmp(kdtls_peer_verification_name(c), "other.test"), 0);
	EXPECT_EQ(kdtls_set_peer_str(c, "::1", 4434, NULL), 0);
	EXPECT_EQ(kdtls_peer_port(c), 4434);
	kdtls_free(c);
}

TEST_F(lib, configuration)
{
	struct kdtls_config cfg, got;
	char path[300];
	struct kdtls *c;

	ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c), 0);
	EXPECT_EQ(kdtls_set_configuration(c, NULL), -EINVAL);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	kdtls_config_init(&cfg);
	cfg.protocol = KDTLS_PROTO_DTLS1_0;
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EPROTONOSUPPORT);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	cfg.protocol = KDTLS_PROTO_DTLS1_2;
	cfg.verify_depth = 101;
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EINVAL);
	cfg.verify_depth = 3;
	cfg.verify_mode = 17;
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EINVAL);
	cfg.verify_mode = KDTLS_VERIFY_PEER;
	snprintf(path, sizeof(path), "%s/ca-leaf.pem", certs);
	cfg.cert_file = path;		/* without its key */
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EINVAL);
	cfg.cert_file = "/nonexistent.pem";
	cfg.key_file = "/nonexistent.key";
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -ENOENT);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	cfg.cert_file = NULL;
	cfg.key_file = NULL;
	cfg.ca_pem = "not a certificate";
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EINVAL);
	cfg.ca_pem = NULL;
	cfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256 x";
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EINVAL);
	cfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	cfg.ca_file = path;
	cfg.psk_identity_hint = "hint1";
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), 0);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
	kdtls_configuration(c, &got);
	EXPECT_EQ(got.protocol, KDTLS_PROTO_DTLS1_2);
	EXPECT_EQ(got.verify_mode, KDTLS_VERIFY_PEER);
	EXPECT_EQ(got.verify_depth, 3);
	EXPECT_EQ(strcmp(got.ciphers, cfg.ciphers), 0);
	EXPECT_EQ(strcmp(got.psk_identity_hint, "hint1"), 0);
	EXPECT_TRUE(got.ca_pem && strstr(got.ca_pem, "BEGIN CERTIFICATE"));
	EXPECT_TRUE(got.ca_file == NULL);
	kdtls_free(c);
}

TEST_F(lib, cookie_params_and_mtu)
{
	static const uint8_t secret[] = "a secret of sorts";
	struct kdtls_generator_params p = { KDTLS_HASH_SHA384, secret, 17 }, g;
	struct kdtls *c, *s;

	ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c), 0);
	ASSERT_EQ(kdtls_new(self->sc, KDTLS_MODE_SERVER, &s), 0);
	EXPECT_EQ(kdtls_set_cookie_generator_params(c, &p), -EOPNOTSUPP);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_set_cookie_generator_params(s, &p), 0);
	kdtls_cookie_generator_params(s, &g);
	EXPECT_EQ(g.hash, KDTLS_HASH_SHA384);
	EXPECT_EQ(g.secret_len, 17);
	EXPECT_EQ(memcmp(g.secret, secret, 17), 0);
	p.secret_len = 0;
	EXPECT_EQ(kdtls_set_cookie_generator_params(s, &p), -EINVAL);
	EXPECT_EQ(kdtls_error(s), KDTLS_ERR_INVALID_INPUT);
	p.secret_len = 17;
	p.hash = 99;
	EXPECT_EQ(kdtls_set_cookie_generator_params(s, &p), -EINVAL);
	p.hash = KDTLS_HASH_SHA1;
	p.secret_len = KDTLS_MAX_SECRET + 1;
	EXPECT_EQ(kdtls_set_cookie_generator_params(s, &p), -EINVAL);
	EXPECT_EQ(kdtls_set_cookie_generator_params(s, NULL), -EINVAL);
	EXPECT_EQ(kdtls_set_mtu_hint(c, 100), -EINVAL);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	EXPECT_EQ(kdtls_set_mtu_hint(c, 65535), -EINVAL);
	EXPECT_EQ(kdtls_set_mtu_hint(c, 1200), 0);
	EXPECT_EQ(kdtls_mtu_hint(c), 1200);
	EXPECT_EQ(kdtls_set_mtu_hint(c, 0), 0);
	EXPECT_EQ(kdtls_ignore_verification_errors(c, NULL, 40), -E2BIG);
	EXPECT_EQ(kdtls_ignore_verification_errors(c, NULL, 0), 0);
	kdtls_free(c);
	kdtls_free(s);
}

TEST_F(lib, handshake_errors)
{
	struct kdtls *c, *s;
	int p[2];

	ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c), 0);
	EXPECT_EQ(kdtls_do_handshake(c, self->cfd), -EDESTADDRREQ);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	ASSERT_EQ(kdtls_set_peer_str(c, "127.0.0.1", self->sport, NULL), 0);
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(kdtls_do_handshake(c, p[0]), -ENOTSOCK);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_SOCKET);
	EXPECT_EQ(kdtls_do_handshake(c, -1), -ENOTSOCK);
	/* an IPv6 peer on an IPv4 socket: kdtlsd refuses */
	ASSERT_EQ(kdtls_set_peer_str(c, "::1", self->sport, NULL), 0);
	EXPECT_EQ(kdtls_do_handshake(c, self->cfd), -EAFNOSUPPORT);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	ASSERT_EQ(kdtls_set_peer_str(c, "127.0.0.1", self->sport, NULL), 0);
	EXPECT_EQ(kdtls_resume_handshake(c), -EBUSY);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_abort_handshake(c), -EBUSY);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_shutdown(c), -ENOTCONN);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_write_datagram(c, self->cfd, "x", 1), -ENOTCONN);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	{
		char b[8];

		EXPECT_EQ(kdtls_read_datagram(c, self->cfd, b, 8), -ENOTCONN);
	}
	/* a second listener on one socket */
	ASSERT_EQ(kdtls_new(self->sc, KDTLS_MODE_SERVER, &s), 0);
	ASSERT_EQ(kdtls_do_handshake(s, self->sfd), 0);
	{
		struct kdtls *s2;

		ASSERT_EQ(kdtls_new(self->sc, KDTLS_MODE_SERVER, &s2), 0);
		EXPECT_EQ(kdtls_do_handshake(s2, self->sfd), -EBUSY);
		EXPECT_EQ(kdtls_error(s2), KDTLS_ERR_INVALID_OPERATION);
		kdtls_free(s2);
	}
	EXPECT_EQ(kdtls_do_handshake(s, self->sfd), -EALREADY);
	close(p[0]);
	close(p[1]);
	kdtls_free(c);
	kdtls_free(s);
}

/* ---- handshakes ---------------------------------------------------------- */

TEST_F(lib, handshake_certificate_and_data)
{
	struct kdtls *l, *c, *peer;
	struct kdtls_config cfg;
	struct rx srx = { 0 }, crx = { 0 };
	char buf[64];
	ssize_t n;

	l = make_listener(self);
	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	EXPECT_EQ(kdtls_handshake_state(l), KDTLS_HANDSHAKE_IN_PROGRESS);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_IN_PROGRESS);
	/* configuration is frozen once started */
	kdtls_config_init(&cfg);
	EXPECT_EQ(kdtls_set_configuration(c, &cfg), -EBUSY);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_set_peer_str(c, "127.0.0.1", 9, NULL), -EBUSY);
	EXPECT_EQ(kdtls_set_peer_verification_name(c, "x"), -EBUSY);
	EXPECT_EQ(kdtls_do_handshake(c, self->cfd), -EALREADY);
	pump(self, both_complete, 10000, NULL, NULL);
	if (!both_complete(self))
		dump_log(self->dir);
	ASSERT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	ASSERT_EQ(self->sev.n_peers, 1);
	peer = self->sev.peers[0];
	EXPECT_TRUE(kdtls_is_connection_encrypted(c));
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_COMPLETE);
	EXPECT_TRUE(kdtls_session_cipher(c) != NULL);
	EXPECT_TRUE(strstr(kdtls_session_cipher(c), "ECDSA") != NULL);
	EXPECT_TRUE(kdtls_session_kernel_cipher(c) != NULL);
	EXPECT_EQ(kdtls_session_protocol(c), KDTLS_PROTO_DTLS1_2);
	EXPECT_EQ(kdtls_mode(peer), KDTLS_MODE_SERVER);
	EXPECT_TRUE(kdtls_is_connection_encrypted(peer));
	EXPECT_EQ(kdtls_peer_port(peer), self->cport);
	EXPECT_EQ(strcmp(kdtls_session_cipher(peer), kdtls_session_cipher(c)),
		  0);
	EXPECT_TRUE(kdtls_user(peer) == &self->sev);
	/* plaintext both ways, sealed by the kernel */
	EXPECT_EQ(kdtls_write_datagram(c, self->cfd, "hello", 5), 5);
	EXPECT_EQ(kdtls_write_datagram(c, self->sfd, "x", 1), -EINVAL);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	pump(self, NULL, 300, &srx, NULL);
	ASSERT_EQ(srx.n, 1);
	EXPECT_EQ(srx.len[0], 5);
	EXPECT_EQ(memcmp(srx.data[0], "hello", 5), 0);
	EXPECT_TRUE(kdtls_find_peer(l, (void *)&srx.from[0],
				    sizeof(struct sockaddr_in)) == peer);
	EXPECT_EQ(kdtls_write_datagram(peer, self->sfd, "world!", 6), 6);
	usleep(100000);
	n = kdtls_read_datagram(c, self->cfd, buf, sizeof(buf));
	ASSERT_EQ(n, 6);
	EXPECT_EQ(memcmp(buf, "world!", 6), 0);
	EXPECT_EQ(kdtls_read_datagram(c, self->cfd, buf, sizeof(buf)),
		  -EAGAIN);
	(void)crx;
	kdtls_free(c);
}

/* per-object certificate, key and CA reach kdtlsd (a CA the daemon's
 * configuration does not know) */
TEST_F(lib, handshake_inline_configuration)
{
	struct kdtls_config sc, cc;
	char cert[300], key[300], ca[300];
	struct kdtls *l, *c;

	snprintf(cert, sizeof(cert), "%s/other-leaf.pem", certs);
	snprintf(key, sizeof(key), "%s/other-leaf.key", certs);
	snprintf(ca, sizeof(ca), "%s/other.pem", certs);
	l = make_listener(self);
	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	kdtls_config_init(&sc);
	sc.cert_file = cert;
	sc.key_file = key;
	sc.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
	ASSERT_EQ(kdtls_set_configuration(l, &sc), 0);
	kdtls_config_init(&cc);
	cc.ca_file = ca;
	cc.verify_depth = 4;
	ASSERT_EQ(kdtls_set_configuration(c, &cc), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	if (!both_complete(self))
		dump_log(self->dir);
	ASSERT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	EXPECT_EQ(strcmp(kdtls_session_cipher(c),
			 "ECDHE-ECDSA-AES256-GCM-SHA384"), 0);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_VERIFY_FAILED), 0);
}

/* kdtlsd refuses a configuration OpenSSL cannot use: TlsInitializationError */
TEST_F(lib, configuration_refused_by_kdtlsd)
{
	struct kdtls_config cc;
	struct kdtls *c = make_client(self, NULL);

	ASSERT_TRUE(c != NULL);
	kdtls_config_init(&cc);
	cc.ciphers = "NO-SUCH-CIPHER";
	ASSERT_EQ(kdtls_set_configuration(c, &cc), 0);
	EXPECT_EQ(kdtls_do_handshake(c, self->cfd), -EINVAL);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_INIT);
	EXPECT_TRUE(strstr(kdtls_error_string(c), "cipher") != NULL);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
}

TEST_F(lib, verification_errors_ignored_and_resumed)
{
	struct kdtls *l = make_listener(self), *c;
	int codes[4], n, ign;

	c = make_client(self, "wrong.name");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, client_settled, 10000, NULL, NULL);
	ASSERT_EQ(count(&self->cev, KDTLS_EV_VERIFY_FAILED), 1);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_PEER_VERIFICATION_FAILED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_PEER_VERIFICATION);
	n = kdtls_peer_verification_errors(c, codes, 4);
	ASSERT_EQ(n, 1);
	EXPECT_EQ(codes[0], X509_V_ERR_HOSTNAME_MISMATCH);
	EXPECT_TRUE(strlen(kdtls_peer_verification_reasons(c)) > 0);
	EXPECT_FALSE(kdtls_is_connection_encrypted(c));
	/* resume without ignoring: refused */
	EXPECT_EQ(kdtls_resume_handshake(c), -EPERM);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_PEER_VERIFICATION);
	/* ignoring another error is not enough */
	ign = X509_V_ERR_CERT_HAS_EXPIRED;
	ASSERT_EQ(kdtls_ignore_verification_errors(c, &ign, 1), 0);
	EXPECT_EQ(kdtls_resume_handshake(c), -EPERM);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_PEER_VERIFICATION_FAILED);
	ASSERT_EQ(kdtls_ignore_verification_errors(c, codes, n), 0);
	EXPECT_EQ(kdtls_resume_handshake(c), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	EXPECT_TRUE(kdtls_is_connection_encrypted(c));
	EXPECT_EQ(self->sev.n_peers, 1);
}

TEST_F(lib, verification_errors_preset)
{
	struct kdtls *l = make_listener(self), *c;
	int ign = X509_V_ERR_HOSTNAME_MISMATCH;

	c = make_client(self, "wrong.name");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_ignore_verification_errors(c, &ign, 1), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_VERIFY_FAILED), 0);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	EXPECT_EQ(kdtls_peer_verification_errors(c, NULL, 0), 1);
}

TEST_F(lib, verify_none)
{
	struct kdtls *l = make_listener(self), *c;
	struct kdtls_config cc;

	c = make_client(self, "wrong.name");
	ASSERT_TRUE(l && c);
	kdtls_config_init(&cc);
	cc.verify_mode = KDTLS_VERIFY_NONE;
	ASSERT_EQ(kdtls_set_configuration(c, &cc), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
}

TEST_F(lib, abort_handshake)
{
	struct kdtls *l = make_listener(self), *c;

	c = make_client(self, "wrong.name");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, client_settled, 10000, NULL, NULL);
	ASSERT_EQ(kdtls_handshake_state(c), KDTLS_PEER_VERIFICATION_FAILED);
	EXPECT_EQ(kdtls_abort_handshake(c), 0);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
	EXPECT_EQ(kdtls_abort_handshake(c), -EBUSY);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	/* the same object can start again (the name fixed) */
	ASSERT_EQ(kdtls_set_peer_verification_name(c, "kdtls.test"), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	/* abort a listener: the socket is no longer served */
	EXPECT_EQ(kdtls_abort_handshake(l), 0);
	EXPECT_EQ(kdtls_handshake_state(l), KDTLS_HANDSHAKE_NOT_STARTED);
}

static bool client_timeout(FIXTURE_DATA(lib) *self)
{
	return count(&self->cev, KDTLS_EV_HANDSHAKE_TIMEOUT) > 0;
}

TEST_F_TIMEOUT(lib, handshake_timeout, 40)
{
	struct kdtls *c = make_client(self, "kdtls.test");

	/* the server socket is never served: nobody answers */
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	EXPECT_EQ(kdtls_handle_timeout(c), 0);
	pump(self, client_timeout, 15000, NULL, NULL);
	ASSERT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_TIMEOUT), 1);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_FATAL);
	EXPECT_TRUE(strstr(kdtls_error_string(c), "timeout") != NULL);
	/* handleTimeout: true once, and the handshake is running again */
	EXPECT_EQ(kdtls_handle_timeout(c), 1);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_IN_PROGRESS);
	EXPECT_EQ(kdtls_handle_timeout(c), 0);
	EXPECT_EQ(kdtls_abort_handshake(c), 0);
}

static bool server_peer_closed(FIXTURE_DATA(lib) *self)
{
	return count(&self->sev, KDTLS_EV_PEER_CLOSED) > 0;
}

TEST_F(lib, shutdown)
{
	struct kdtls *l = make_listener(self), *c, *peer;
	struct rx srx = { 0 };

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	ASSERT_EQ(self->sev.n_peers, 1);
	peer = self->sev.peers[0];
	EXPECT_EQ(kdtls_shutdown(c), 0);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_FALSE(kdtls_is_connection_encrypted(c));
	EXPECT_TRUE(kdtls_session_cipher(c) == NULL);
	EXPECT_EQ(kdtls_shutdown(c), -ENOTCONN);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_write_datagram(c, self->cfd, "x", 1), -ENOTCONN);
	/* the server reads its socket: kdtls opens the close_notify */
	pump(self, server_peer_closed, 5000, &srx, NULL);
	EXPECT_EQ(count(&self->sev, KDTLS_EV_PEER_CLOSED), 1);
	EXPECT_EQ(kdtls_handshake_state(peer), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(peer), KDTLS_ERR_REMOTE_CLOSED);
	/* and the client may connect again: a new NEW_PEER */
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, NULL, 100, NULL, NULL);
	{
		uint64_t end = ms() + 10000;

		while (ms() < end && count(&self->cev,
					   KDTLS_EV_HANDSHAKE_COMPLETE) < 2)
			pump(self, NULL, 50, NULL, NULL);
	}
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 2);
	pump(self, NULL, 200, NULL, NULL);
	EXPECT_EQ(count(&self->sev, KDTLS_EV_NEW_PEER), 2);
}

/* a server object with its peer set is that peer's connection (QDtls's
 * server-side pattern): no NEW_PEER, its own HANDSHAKE_COMPLETE */
TEST_F(lib, server_object_with_peer)
{
	struct evlog sev = { 0 };
	struct kdtls *s, *c;

	ASSERT_EQ(kdtls_new(self->sc, KDTLS_MODE_SERVER, &s), 0);
	kdtls_set_event_cb(s, on_event, &sev);
	ASSERT_EQ(kdtls_set_peer_str(s, "127.0.0.1", self->cport, NULL), 0);
	ASSERT_EQ(kdtls_do_handshake(s, self->sfd), 0);
	EXPECT_EQ(kdtls_handshake_state(s), KDTLS_HANDSHAKE_IN_PROGRESS);
	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	{
		uint64_t end = ms() + 10000;

		while (ms() < end && (!count(&sev, KDTLS_EV_HANDSHAKE_COMPLETE) ||
				      !count(&self->cev,
					     KDTLS_EV_HANDSHAKE_COMPLETE)))
			pump(self, NULL, 50, NULL, NULL);
	}
	EXPECT_EQ(count(&sev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	EXPECT_EQ(count(&sev, KDTLS_EV_NEW_PEER), 0);
	EXPECT_TRUE(kdtls_is_connection_encrypted(s));
	EXPECT_EQ(kdtls_write_datagram(s, self->sfd, "bound", 5), 5);
	usleep(100000);
	{
		char buf[16];

		EXPECT_EQ(kdtls_read_datagram(c, self->cfd, buf, sizeof(buf)), 5);
	}
	EXPECT_EQ(kdtls_shutdown(s), 0);
}

/* the server verifies clients (VerifyPeer): a client certificate from a
 * CA the server does not trust fails verification on the server side;
 * ignoring the errors on the new peer's object and resuming lets it in */
static bool server_verify_failed(FIXTURE_DATA(lib) *self)
{
	return count(&self->sev, KDTLS_EV_VERIFY_FAILED) > 0;
}

TEST_F(lib, server_verifies_client)
{
	struct kdtls *l = make_listener(self), *c, *peer;
	struct kdtls_config sc, cc;
	char cert[300], key[300];
	int codes[8], n;

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	kdtls_config_init(&sc);
	sc.verify_mode = KDTLS_VERIFY_PEER;
	ASSERT_EQ(kdtls_set_configuration(l, &sc), 0);
	snprintf(cert, sizeof(cert), "%s/other-leaf.pem", certs);
	snprintf(key, sizeof(key), "%s/other-leaf.key", certs);
	kdtls_config_init(&cc);
	cc.cert_file = cert;
	cc.key_file = key;
	ASSERT_EQ(kdtls_set_configuration(c, &cc), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, server_verify_failed, 10000, NULL, NULL);
	ASSERT_EQ(count(&self->sev, KDTLS_EV_VERIFY_FAILED), 1);
	peer = self->sev.e[0].d;
	ASSERT_TRUE(peer != NULL && peer != l);
	EXPECT_EQ(kdtls_mode(peer), KDTLS_MODE_SERVER);
	EXPECT_EQ(kdtls_handshake_state(peer), KDTLS_PEER_VERIFICATION_FAILED);
	n = kdtls_peer_verification_errors(peer, codes, 8);
	ASSERT_GE(n, 1);
	ASSERT_LE(n, 8);
	EXPECT_NE(codes[0], -1);		/* a certificate, untrusted */
	EXPECT_EQ(self->sev.n_peers, 0);
	EXPECT_EQ(kdtls_resume_handshake(peer), -EPERM);
	ASSERT_EQ(kdtls_ignore_verification_errors(peer, codes, n), 0);
	ASSERT_EQ(kdtls_resume_handshake(peer), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	EXPECT_EQ(self->sev.n_peers, 1);
	EXPECT_TRUE(self->sev.peers[0] == peer);
	EXPECT_TRUE(kdtls_is_connection_encrypted(peer));
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
}

/* ---- PSK (pskRequired) ---------------------------------------------------- */

struct psk_seen {
	char hint[200], identity[200];
	int calls;
	bool refuse;
};

static int psk_cb(struct kdtls *d, struct kdtls_psk_auth *a, void *user)
{
	struct psk_seen *s = user;
	static const uint8_t key[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	s->calls++;
	snprintf(s->hint, sizeof(s->hint), "%s",
		 a->identity_hint ? a->identity_hint : "(null)");
	snprintf(s->identity, sizeof(s->identity), "%s",
		 a->identity ? a->identity : "(null)");
	if (s->refuse)
		return -1;
	if (kdtls_mode(d) == KDTLS_MODE_CLIENT)
		snprintf(a->out_identity, sizeof(a->out_identity), "app-id");
	memcpy(a->key, key, sizeof(key));
	a->key_len = sizeof(key);
	return 0;
}

static void psk_run(FIXTURE_DATA(lib) *self, struct psk_seen *cs,
		    struct psk_seen *ss, struct kdtls **cp)
{
	struct kdtls *l = make_listener(self), *c;
	struct kdtls_config sc, cc;

	c = make_client(self, NULL);
	*cp = c;
	if (!l || !c)
		return;
	kdtls_config_init(&sc);
	sc.psk_identity_hint = "hint from the server";
	sc.ciphers = "PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305";
	kdtls_set_configuration(l, &sc);
	kdtls_set_psk_cb(l, psk_cb, ss);
	kdtls_config_init(&cc);
	cc.ciphers = "PSK-AES128-GCM-SHA256";
	kdtls_set_configuration(c, &cc);
	kdtls_set_psk_cb(c, psk_cb, cs);
	kdtls_do_handshake(l, self->sfd);
	kdtls_do_handshake(c, self->cfd);
	pump(self, client_settled, 10000, NULL, NULL);
	pump(self, NULL, 100, NULL, NULL);
}

TEST_F(lib, psk_required)
{
	struct psk_seen cs = { 0 }, ss = { 0 };
	struct kdtls *c;

	psk_run(self, &cs, &ss, &c);
	if (!count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE))
		dump_log(self->dir);
	ASSERT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 1);
	EXPECT_EQ(cs.calls, 1);
	EXPECT_EQ(ss.calls, 1);
	EXPECT_EQ(strcmp(cs.hint, "hint from the server"), 0);
	EXPECT_EQ(strcmp(ss.identity, "app-id"), 0);
	EXPECT_TRUE(strstr(kdtls_session_cipher(c), "PSK") != NULL);
	EXPECT_EQ(self->sev.n_peers, 1);
	EXPECT_EQ(kdtls_write_datagram(c, self->cfd, "psk!", 4), 4);
}

TEST_F(lib, psk_refused)
{
	struct psk_seen cs = { 0 }, ss = { .refuse = true };
	struct kdtls *c;

	psk_run(self, &cs, &ss, &c);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_COMPLETE), 0);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_FAILED), 1);
	EXPECT_EQ(ss.calls, 1);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_FATAL);
	EXPECT_EQ(self->sev.n_peers, 0);
}

/* ---- protocol mismatch: a DTLS 1.0 client ------------------------------- */

TEST_F(lib, protocol_mismatch)
{
	struct kdtls *l = make_listener(self);
	char cmd[600], out[300];
	int rc;

	ASSERT_TRUE(l != NULL);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	snprintf(out, sizeof(out), "%s/s_client.out", self->dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 10 openssl s_client -dtls1 -connect 127.0.0.1:%u "
		 "</dev/null >%s 2>&1", self->sport, out);
	{
		pid_t pid = fork();

		uint64_t end = ms() + 15000;

		if (!pid)
			_exit(run(cmd));
		/* dispatch while s_client runs; it ends on the alert */
		while (waitpid(pid, &rc, WNOHANG) == 0 && ms() < end)
			pump(self, NULL, 50, NULL, NULL);
	}
	EXPECT_NE(WEXITSTATUS(rc), 0);
	snprintf(cmd, sizeof(cmd), "grep -q 'Cipher is (NONE)\\|alert\\|error' %s",
		 out);
	EXPECT_EQ(run(cmd), 0);
	EXPECT_EQ(self->sev.n_peers, 0);
	/* the listener still serves DTLS 1.2 */
	{
		struct kdtls *c = make_client(self, "kdtls.test");

		ASSERT_TRUE(c != NULL);
		ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
		pump(self, both_complete, 10000, NULL, NULL);
		EXPECT_EQ(self->sev.n_peers, 1);
	}
}

/* ---- multi-peer server ------------------------------------------------------ */

TEST_F(lib, multi_peer)
{
	struct kdtls *l = make_listener(self), *c[3];
	struct evlog ev[3] = { 0 };
	int fd[3], i, got = 0;
	uint16_t port[3];
	char buf[64];
	uint64_t end;

	ASSERT_TRUE(l != NULL);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	for (i = 0; i < 3; i++) {
		fd[i] = udp_socket(&port[i]);
		ASSERT_GE(fd[i], 0);
		ASSERT_EQ(kdtls_new(self->cc, KDTLS_MODE_CLIENT, &c[i]), 0);
		kdtls_set_event_cb(c[i], on_event, &ev[i]);
		ASSERT_EQ(kdtls_set_peer_str(c[i], "127.0.0.1", self->sport,
					     "kdtls.test"), 0);
		ASSERT_EQ(kdtls_do_handshake(c[i], fd[i]), 0);
	}
	end = ms() + 15000;
	while (ms() < end && (self->sev.n_peers < 3 ||
			      !kdtls_is_connection_encrypted(c[0]) ||
			      !kdtls_is_connection_encrypted(c[1]) ||
			      !kdtls_is_connection_encrypted(c[2])))
		pump(self, NULL, 50, NULL, NULL);
	ASSERT_EQ(self->sev.n_peers, 3);
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(kdtls_is_connection_encrypted(c[i]));
		snprintf(buf, sizeof(buf), "from %d", i);
		ASSERT_EQ(kdtls_write_datagram(c[i], fd[i], buf,
					       strlen(buf)), 6);
	}
	usleep(200000);
	/* each datagram is attributed to its own peer's object */
	for (i = 0; i < 3; i++) {
		struct kdtls *p = self->sev.peers[i];
		uint16_t pp = kdtls_peer_port(p);
		int k = pp == port[0] ? 0 : pp == port[1] ? 1 :
			pp == port[2] ? 2 : -1;
		ssize_t n;

		ASSERT_GE(k, 0);
		for (int tries = 0; tries < 3; tries++) {
			n = kdtls_read_datagram(p, self->sfd, buf, sizeof(buf));
			if (n >= 0)
				break;
			/* another peer's datagram is first: not ours */
			EXPECT_EQ(n, -EAGAIN);
			EXPECT_EQ(kdtls_error(p), KDTLS_ERR_TLS_NON_FATAL);
			{
				struct sockaddr_storage from;
				socklen_t fl = sizeof(from);
				struct kdtls *o;
				char b2[64];
				ssize_t m;
				int type;

				m = kdtls_recv_any(self->sfd, b2, sizeof(b2),
						   &from, &fl, &type);
				ASSERT_GT(m, 0);
				o = kdtls_find_peer(l, (void *)&from, fl);
				ASSERT_TRUE(o != NULL && o != p);
				b2[m] = 0;
				EXPECT_EQ(b2[5] - '0', (kdtls_peer_port(o) ==
					  port[0] ? 0 : kdtls_peer_port(o) ==
					  port[1] ? 1 : 2));
				got++;
			}
		}
		if (n >= 0) {
			buf[n] = 0;
			EXPECT_EQ(buf[5] - '0', k);
			got++;
		}
	}
	EXPECT_EQ(got, 3);
	/* only peer 0 sent: peer 1's read holds it for peer 0 */
	{
		struct kdtls *p0 = NULL, *p1 = NULL;

		for (i = 0; i < 3; i++) {
			if (kdtls_peer_port(self->sev.peers[i]) == port[0])
				p0 = self->sev.peers[i];
			if (kdtls_peer_port(self->sev.peers[i]) == port[1])
				p1 = self->sev.peers[i];
		}
		ASSERT_TRUE(p0 && p1);
		ASSERT_EQ(kdtls_write_datagram(c[0], fd[0], "again0", 6), 6);
		usleep(100000);
		EXPECT_EQ(kdtls_read_datagram(p1, self->sfd, buf, sizeof(buf)),
			  -EAGAIN);
		EXPECT_EQ(kdtls_error(p1), KDTLS_ERR_TLS_NON_FATAL);
		EXPECT_EQ(kdtls_read_datagram(p0, self->sfd, buf, sizeof(buf)),
			  6);
		EXPECT_EQ(memcmp(buf, "again0", 6), 0);
		EXPECT_EQ(kdtls_read_datagram(p0, self->sfd, buf, sizeof(buf)),
			  -EAGAIN);
		EXPECT_EQ(kdtls_error(p0), KDTLS_ERR_NONE);
	}
	for (i = 0; i < 3; i++)
		close(fd[i]);
}

/* ---- kdtlsd goes away -------------------------------------------------------- */

TEST_F(lib, daemon_lost)
{
	struct kdtls *c = make_client(self, "kdtls.test");
	int ret;

	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	kill(self->kdtlsd, SIGKILL);
	waitpid(self->kdtlsd, NULL, 0);
	self->kdtlsd = 0;
	usleep(100000);
	ret = kdtls_ctx_dispatch(self->cc);
	EXPECT_EQ(ret, -ECONNRESET);
	EXPECT_EQ(kdtls_handshake_state(c), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_FATAL);
	EXPECT_EQ(count(&self->cev, KDTLS_EV_HANDSHAKE_FAILED), 1);
	EXPECT_EQ(kdtls_do_handshake(c, self->cfd), -EPIPE);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_INIT);
}

/*
 * With kdtlsd gone the socket has no agent: the kernel hands epoch-0
 * records to the application with their type (SOL_KDTLS cmsg).  Anyone
 * spoofing the peer can send those; kdtls_read_datagram() must drop them,
 * never return them as the peer's data.
 */
/* One UDP datagram from 127.0.0.1:@sport to 127.0.0.1:@dport on a raw
 * socket (anyone can spoof the peer): one epoch-0 record of @type (a
 * HelloRequest or a ChangeCipherSpec), sequence number @seq. */
static int spoof_record(int raw, uint16_t sport, uint16_t dport, uint8_t type,
			uint8_t seq)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t pkt[8 + 13 + 12] = { 0 }, *r = pkt + 8;
	size_t rlen = type == 22 ? 12 : 1, len = 8 + 13 + rlen;

	pkt[0] = sport >> 8;
	pkt[1] = sport & 0xff;
	pkt[2] = dport >> 8;
	pkt[3] = dport & 0xff;
	pkt[4] = len >> 8;
	pkt[5] = len & 0xff;
	r[0] = type;
	r[1] = 0xfe;
	r[2] = 0xfd;
	r[10] = seq;			/* epoch 0 */
	r[12] = rlen;
	r[13] = type == 22 ? 0 : 1;	/* hello_request / CCS */
	return sendto(raw, pkt, len, 0, (void *)&dst, sizeof(dst)) ==
	       (ssize_t)len ? 0 : -errno;
}

/*
 * With kdtlsd gone the socket has no agent: the kernel hands epoch-0
 * records to the application with their type (SOL_KDTLS cmsg).  Anyone
 * spoofing the peer can send those; kdtls_read_datagram() must drop them,
 * never return them as the peer's data.
 */
TEST_F(lib, no_agent_handshake_records_not_data)
{
	struct kdtls *l = make_listener(self);
	struct kdtls *c = make_client(self, "kdtls.test");
	static const uint8_t types[] = { 22, 20 };
	char buf[64];
	int raw;

	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	if (!both_complete(self))
		dump_log(self->dir);
	ASSERT_TRUE(kdtls_is_connection_encrypted(c));
	/* no dispatch from here: the object stays "encrypted" */
	kill(self->kdtlsd, SIGKILL);
	waitpid(self->kdtlsd, NULL, 0);
	self->kdtlsd = 0;
	usleep(200000);
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	ASSERT_GE(raw, 0);
	for (unsigned int i = 0; i < sizeof(types); i++) {
		struct pollfd p = { self->cfd, POLLIN, 0 };
		ssize_t n;
		int type = -2;

		/* the kernel does hand it to the application, typed */
		ASSERT_EQ(spoof_record(raw, self->sport, self->cport,
				       types[i], 40 + 2 * i), 0);
		ASSERT_EQ(poll(&p, 1, 2000), 1);
		n = kdtls_recv_any(self->cfd, buf, sizeof(buf), NULL, NULL,
				   &type);
		if (n < 0)
			TH_LOG("recv_any: %s", strerror(-n));
		ASSERT_GT(n, 0);
		EXPECT_EQ(type, types[i]);
		/* ... and the library drops it */
		ASSERT_EQ(spoof_record(raw, self->sport, self->cport,
				       types[i], 41 + 2 * i), 0);
		ASSERT_EQ(poll(&p, 1, 2000), 1);
		EXPECT_EQ(kdtls_read_datagram(c, self->cfd, buf, sizeof(buf)),
			  -EAGAIN);
		EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
		EXPECT_EQ(kdtls_recv_any(self->cfd, buf, sizeof(buf), NULL,
					 NULL, NULL), -EAGAIN);
	}
	close(raw);
	/* the established keys still carry application data */
	ASSERT_EQ(self->sev.n_peers, 1);
	EXPECT_EQ(kdtls_write_datagram(self->sev.peers[0], self->sfd, "still",
				       5), 5);
	usleep(100000);
	EXPECT_EQ(kdtls_read_datagram(c, self->cfd, buf, sizeof(buf)), 5);
	EXPECT_EQ(memcmp(buf, "still", 5), 0);
	EXPECT_EQ(kdtls_dropped_datagrams(c), 0);
	kdtls_free(c);
}

/* ---- QDtlsClientVerifier --------------------------------------------------- */

static size_t client_hello(uint8_t *b, const uint8_t *cookie, size_t clen)
{
	size_t body = 2 + 32 + 1 + 1 + clen + 2 + 4 + 2, n = 0, i;

	b[n++] = 22; b[n++] = 0xfe; b[n++] = 0xfd;
	memset(b + n, 0, 8); n += 8;		/* epoch 0, seq 0 */
	b[7] = 0; b[10] = 7;			/* seq 7 */
	b[n++] = (12 + body) >> 8; b[n++] = (12 + body) & 0xff;
	b[n++] = 1; b[n++] = 0; b[n++] = body >> 8; b[n++] = body & 0xff;
	b[n++] = 0; b[n++] = 0;
	b[n++] = 0; b[n++] = 0; b[n++] = 0;
	b[n++] = 0; b[n++] = body >> 8; b[n++] = body & 0xff;
	b[n++] = 0xfe; b[n++] = 0xfd;
	for (i = 0; i < 32; i++)
		b[n++] = i;
	b[n++] = 0;				/* session id */
	b[n++] = clen;
	if (clen)
		memcpy(b + n, cookie, clen);
	n += clen;
	b[n++] = 0; b[n++] = 4;
	b[n++] = 0xc0; b[n++] = 0x2b; b[n++] = 0xc0; b[n++] = 0x2c;
	b[n++] = 1; b[n++] = 0;			/* null compression */
	return n;
}

TEST(client_verifier)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(5555),
				 .sin_addr.s_addr = htonl(0x7f000001) };
	struct sockaddr_in wrong_port = a;
	struct kdtls_verifier *v, *fresh;
	uint8_t hello[200], hvr[128];
	const uint8_t *vh;
	size_t n, hl, vl;
	uint16_t sport;
	int fd;

	wrong_port.sin_port = htons(5556);
	ASSERT_EQ(kdtls_verifier_new(&v), 0);
	n = client_hello(hello, NULL, 0);
	ASSERT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), 0);
	ASSERT_EQ(hl, 13 + 12 + 3 + 32u);
	EXPECT_EQ(hvr[0], 22);
	EXPECT_EQ(hvr[13], 3);			/* hello_verify_request */
	EXPECT_EQ(hvr[10], 7);			/* the ClientHello's seq */
	EXPECT_EQ(hvr[27], 32);			/* SHA-256 cookie */
	vh = kdtls_verifier_verified_hello(v, &vl);
	EXPECT_EQ(vl, 0);
	n = client_hello(hello, hvr + 28, 32);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), 1);
	vh = kdtls_verifier_verified_hello(v, &vl);
	ASSERT_EQ(vl, n);
	EXPECT_EQ(memcmp(vh, hello, n), 0);
	/* a wrong port, a fresh verifier (another secret): not verified */
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&wrong_port,
				       sizeof(a), hvr, sizeof(hvr), &hl), 0);
	ASSERT_EQ(kdtls_verifier_new(&fresh), 0);
	EXPECT_EQ(kdtls_verifier_check(fresh, hello, n, (void *)&a,
				       sizeof(a), hvr, sizeof(hvr), &hl), 0);
	/* ... unless it gets the same parameters */
	{
		struct kdtls_generator_params p;

		kdtls_verifier_cookie_generator_params(v, &p);
		ASSERT_EQ(kdtls_verifier_set_cookie_generator_params(fresh,
								     &p), 0);
		EXPECT_EQ(kdtls_verifier_check(fresh, hello, n, (void *)&a,
					       sizeof(a), hvr, sizeof(hvr),
					       &hl), 1);
		p.secret_len = 0;
		EXPECT_EQ(kdtls_verifier_set_cookie_generator_params(fresh,
								     &p),
			  -EINVAL);
		EXPECT_EQ(kdtls_verifier_error(fresh),
			  KDTLS_ERR_INVALID_INPUT);
	}
	/* garbage, bad address, no room */
	EXPECT_EQ(kdtls_verifier_check(v, "xyz", 3, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	EXPECT_EQ(kdtls_verifier_error(v), KDTLS_ERR_INVALID_INPUT);
	EXPECT_TRUE(strlen(kdtls_verifier_error_string(v)) > 0);
	a.sin_addr.s_addr = htonl(0xe0000001);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	a.sin_addr.s_addr = htonl(0x7f000001);
	n = client_hello(hello, NULL, 0);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, 10, &hl), -ENOSPC);
	/* verifyClient sends the HelloVerifyRequest */
	fd = udp_socket(&sport);
	ASSERT_GE(fd, 0);
	{
		int rfd;
		uint16_t rport;
		struct sockaddr_in to = a;
		uint8_t got[128];

		rfd = udp_socket(&rport);
		to.sin_port = htons(rport);
		EXPECT_EQ(kdtls_verifier_verify_client(v, fd, hello, n,
						       (void *)&to,
						       sizeof(to)), 0);
		usleep(50000);
		EXPECT_EQ(recv(rfd, got, sizeof(got), MSG_DONTWAIT), 60);
		EXPECT_EQ(got[13], 3);
		close(rfd);
	}
	close(fd);
	kdtls_verifier_free(v);
	kdtls_verifier_free(fresh);
	kdtls_verifier_free(NULL);
}

/* setCookieGeneratorParameters of a listener reaches kdtlsd: its
 * HelloVerifyRequest carries the cookie a verifier with the same
 * parameters computes, and not the one of another secret */
TEST_F(lib, cookie_params_reach_kdtlsd)
{
	static const uint8_t secret[] = "listener cookie secret";
	struct kdtls_generator_params p = { KDTLS_HASH_SHA384, secret, 22 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(0x7f000001) };
	struct sockaddr_in me = to;
	struct kdtls_verifier *v, *other;
	uint8_t hello[200], hvr[128], got[256];
	struct kdtls *l = make_listener(self);
	uint16_t rport;
	size_t n, hl;
	ssize_t r;
	int rfd;

	ASSERT_TRUE(l != NULL);
	ASSERT_EQ(kdtls_set_cookie_generator_params(l, &p), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	rfd = udp_socket(&rport);
	ASSERT_GE(rfd, 0);
	me.sin_port = htons(rport);
	to.sin_port = htons(self->sport);
	n = client_hello(hello, NULL, 0);
	ASSERT_EQ(sendto(rfd, hello, n, 0, (void *)&to, sizeof(to)), (ssize_t)n);
	{
		struct pollfd pf = { rfd, POLLIN, 0 };

		ASSERT_EQ(poll(&pf, 1, 5000), 1);
	}
	r = recv(rfd, got, sizeof(got), 0);
	ASSERT_GT(r, 28);
	EXPECT_EQ(got[13], 3);			/* HelloVerifyRequest */
	EXPECT_EQ(got[27], 48);			/* a SHA-384 cookie */
	ASSERT_EQ(kdtls_verifier_new(&v), 0);
	ASSERT_EQ(kdtls_verifier_set_cookie_generator_params(v, &p), 0);
	ASSERT_EQ(kdtls_verifier_check(v, hello, n, (void *)&me, sizeof(me),
				       hvr, sizeof(hvr), &hl), 0);
	ASSERT_EQ((size_t)r, hl);
	EXPECT_EQ(memcmp(got + 28, hvr + 28, 48), 0);
	ASSERT_EQ(kdtls_verifier_new(&other), 0);
	ASSERT_EQ(kdtls_verifier_check(other, hello, n, (void *)&me,
				       sizeof(me), hvr, sizeof(hvr), &hl), 0);
	EXPECT_NE(memcmp(got + 28, hvr + 28, 32), 0);
	/* with kdtlsd's cookie the verifier accepts the second ClientHello */
	n = client_hello(hello, got + 28, 48);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&me, sizeof(me),
				       hvr, sizeof(hvr), &hl), 1);
	kdtls_verifier_free(v);
	kdtls_verifier_free(other);
	close(rfd);
}

/* ---- io_uring helpers --------------------------------------------------------- */

/* One plaintext datagram from @fd within 2 s: its length, or -errno */
static ssize_t recv_data(int fd, void *buf, size_t len)
{
	uint64_t end = ms() + 2000;
	ssize_t n;
	int type;

	do {
		struct pollfd p = { fd, POLLIN, 0 };

		poll(&p, 1, 20);
		n = kdtls_recv_any(fd, buf, len, NULL, NULL, &type);
		if (n >= 0 && type != 23)
			return -EPROTO;
	} while (n == -EAGAIN && ms() < end);
	return n;
}

/* @n records of @seg bytes (the last @len - (n - 1) * @seg) arrive on @fd,
 * each its own datagram, with @buf's bytes in order */
static int recv_batch(int fd, const uint8_t *buf, size_t len, size_t seg)
{
	static uint8_t got[16384];
	size_t off;
	ssize_t n;

	for (off = 0; off < len; off += n) {
		size_t want = len - off < seg ? len - off : seg;

		n = recv_data(fd, got, sizeof(got));
		if (n != (ssize_t)want || memcmp(got, buf + off, n)) {
			fprintf(stderr, "# record at %zu: %zd bytes, want %zu\n",
				off, n, want);
			return -1;
		}
	}
	n = recv_data(fd, got, sizeof(got));
	return n == -EAGAIN ? 0 : -1;
}

/*
 * kdtls_write_batch(): records of one size in GSO sends, each record its
 * own datagram that the peer's kernel opens alone; the default size
 * follows the path (the MTU hint here); more than 128 records take two
 * sends; kdtls_prep_send_batch() does the same through io_uring.
 */
TEST_F(lib, write_batch)
{
	struct kdtls *l = make_listener(self), *c;
	static uint8_t buf[24007];
	int rcvbuf = 1 << 20;
	ssize_t max;
	size_t i;

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i * 7 + i / 251;
	EXPECT_EQ(kdtls_write_batch(c, self->cfd, buf, 100, 10), -ENOTCONN);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_OPERATION);
	EXPECT_EQ(kdtls_max_record_payload(c), -ENOTCONN);
	EXPECT_EQ(kdtls_batch_max(c, 1200), 0);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	ASSERT_TRUE(both_complete(self));
	ASSERT_EQ(setsockopt(self->sfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			     sizeof(rcvbuf)), 0);

	/* 20 records of 1200 bytes and one of 7, in one send */
	ASSERT_EQ(kdtls_write_batch(c, self->cfd, buf, sizeof(buf), 1200),
		  (ssize_t)sizeof(buf));
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_NONE);
	EXPECT_EQ(recv_batch(self->sfd, buf, sizeof(buf), 1200), 0);

	/* the default size: the largest record the path takes (loopback:
	 * 2^14), else what the MTU hint leaves after the IP, UDP and record
	 * headers, the explicit nonce and the tag (AES-GCM: 28 + 37) */
	EXPECT_EQ(kdtls_max_record_payload(c), 16384);
	ASSERT_EQ(kdtls_set_mtu_hint(c, 1000), 0);
	max = kdtls_max_record_payload(c);
	EXPECT_EQ(max, 1000 - 37);
	ASSERT_EQ(kdtls_write_batch(c, self->cfd, buf, 5000, 0), 5000);
	EXPECT_EQ(recv_batch(self->sfd, buf, 5000, max), 0);
	ASSERT_EQ(kdtls_set_mtu_hint(c, 0), 0);

	/* 130 records: 128 in the first send (UDP_MAX_SEGMENTS), 2 more */
	EXPECT_EQ(kdtls_batch_max(c, 100), 128 * 100);
	EXPECT_EQ(kdtls_batch_max(c, 1200), 52 * 1200);	/* 52 x 1237 B */
	ASSERT_EQ(kdtls_write_batch(c, self->cfd, buf, 13000, 100), 13000);
	EXPECT_EQ(recv_batch(self->sfd, buf, 13000, 100), 0);

	/* one record goes as a plain datagram */
	ASSERT_EQ(kdtls_write_batch(c, self->cfd, buf, 900, 1200), 900);
	EXPECT_EQ(recv_batch(self->sfd, buf, 900, 1200), 0);

	/* bad input: nothing is sent */
	EXPECT_EQ(kdtls_write_batch(c, self->cfd, buf, 100, 16385), -EMSGSIZE);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_TLS_NON_FATAL);
	EXPECT_EQ(kdtls_write_batch(c, self->sfd, buf, 100, 10), -EINVAL);
	EXPECT_EQ(kdtls_error(c), KDTLS_ERR_INVALID_INPUT);
	EXPECT_EQ(kdtls_write_batch(c, self->cfd, buf, 0, 10), -EINVAL);
	EXPECT_EQ(kdtls_write_batch(c, self->cfd, NULL, 10, 10), -EINVAL);
	EXPECT_EQ(kdtls_batch_max(c, 0), 0);
	EXPECT_EQ(kdtls_batch_max(c, 16385), 0);
	EXPECT_EQ(recv_data(self->sfd, buf, sizeof(buf)), -EAGAIN);

	/* io_uring: three records in one GSO send */
	{
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(self->sport),
					  .sin_addr.s_addr = htonl(0x7f000001) };
		char control[KDTLS_BATCH_CMSG_SPACE];
		struct io_uring_cqe *cqe;
		struct io_uring ring;
		struct msghdr msg;
		struct iovec iov;

		ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
		kdtls_prep_send_batch(io_uring_get_sqe(&ring), self->cfd, &msg,
				      &iov, control, buf, 3 * 1200, 1200,
				      (void *)&to, sizeof(to));
		ASSERT_EQ(io_uring_submit_and_wait(&ring, 1), 1);
		ASSERT_EQ(io_uring_peek_cqe(&ring, &cqe), 0);
		EXPECT_EQ(cqe->res, 3 * 1200);
		io_uring_cqe_seen(&ring, cqe);
		io_uring_queue_exit(&ring);
	}
	EXPECT_EQ(recv_batch(self->sfd, buf, 3 * 1200, 1200), 0);
	kdtls_free(c);
}

TEST_F(lib, uring_multishot_recvmsg)
{
	struct kdtls *l = make_listener(self), *c;
	struct io_uring_buf_ring *br;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct msghdr msg, smsg;
	struct iovec iov;
	static uint8_t bufs[4][512];
	struct kdtls_rx rx;
	int err, i;

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	ASSERT_EQ(self->sev.n_peers, 1);
	ASSERT_EQ(io_uring_queue_init(8, &ring, 0), 0);
	/* io_uring_setup_buf_ring() where liburing has it (2.4+) */
	br = mmap(NULL, 4 * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		  MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	ASSERT_TRUE(br != MAP_FAILED);
	io_uring_buf_ring_init(br);
	{
		struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)br,
						.ring_entries = 4, .bgid = 7 };

		err = io_uring_register_buf_ring(&ring, &reg, 0);
		ASSERT_EQ(err, 0);
	}
	for (i = 0; i < 4; i++)
		io_uring_buf_ring_add(br, bufs[i], sizeof(bufs[i]), i,
				      io_uring_buf_ring_mask(4), i);
	io_uring_buf_ring_advance(br, 4);
	kdtls_prep_recvmsg_multishot(io_uring_get_sqe(&ring), self->sfd,
				     &msg, 7);
	/* the client sends through io_uring too */
	{
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(self->sport),
					  .sin_addr.s_addr = htonl(0x7f000001) };

		kdtls_prep_sendto(io_uring_get_sqe(&ring), self->cfd, &smsg,
				  &iov, "ring!", 5, (void *)&to, sizeof(to));
	}
	ASSERT_GE(io_uring_submit(&ring), 2);
	for (i = 0; i < 2; i++) {
		struct __kernel_timespec ts = { .tv_sec = 5 };

		ASSERT_EQ(io_uring_wait_cqe_timeout(&ring, &cqe, &ts), 0);
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

			ASSERT_EQ(kdtls_cqe_parse(cqe, bufs[bid], 512, &msg,
						  &rx), 0);
			EXPECT_EQ(rx.len, 5);
			EXPECT_EQ(memcmp(rx.data, "ring!", 5), 0);
			EXPECT_EQ(rx.record_type, 23);
			EXPECT_EQ(((struct sockaddr_in *)&rx.peer)->sin_port,
				  htons(self->cport));
			EXPECT_TRUE(kdtls_find_peer(l, (void *)&rx.peer,
						    rx.peer_len) ==
				    self->sev.peers[0]);
		} else {
			EXPECT_EQ(cqe->res, 5);		/* the send */
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
}

TEST_F(lib, uring_recvmsg)
{
	struct kdtls *l = make_listener(self), *c;
	char data[64], control[KDTLS_CMSG_SPACE];
	struct sockaddr_storage from;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct msghdr msg;
	struct iovec iov;
	struct kdtls_rx rx;
	struct __kernel_timespec ts = { .tv_sec = 5 };

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	ASSERT_EQ(io_uring_queue_init(4, &ring, 0), 0);
	kdtls_prep_recvmsg(io_uring_get_sqe(&ring), self->sfd, &msg, &iov,
			   data, sizeof(data), &from, control);
	ASSERT_EQ(io_uring_submit(&ring), 1);
	ASSERT_EQ(kdtls_write_datagram(c, self->cfd, "one", 3), 3);
	ASSERT_EQ(io_uring_wait_cqe_timeout(&ring, &cqe, &ts), 0);
	ASSERT_EQ(cqe->res, 3);
	ASSERT_EQ(kdtls_msg_parse(&msg, cqe->res, &rx), 0);
	EXPECT_EQ(memcmp(rx.data, "one", 3), 0);
	EXPECT_EQ(rx.record_type, 23);
	EXPECT_FALSE(rx.truncated);
	EXPECT_TRUE(kdtls_find_peer(l, (void *)&rx.peer, rx.peer_len) != NULL);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

TEST_F(lib, recvmsg_cmsg_parse)
{
	struct kdtls *l = make_listener(self), *c;
	char data[64], cbuf[KDTLS_CMSG_SPACE];
	struct sockaddr_storage from;
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct kdtls_rx rx;
	ssize_t n;

	c = make_client(self, "kdtls.test");
	ASSERT_TRUE(l && c);
	ASSERT_EQ(kdtls_do_handshake(l, self->sfd), 0);
	ASSERT_EQ(kdtls_do_handshake(c, self->cfd), 0);
	pump(self, both_complete, 10000, NULL, NULL);
	ASSERT_EQ(kdtls_write_datagram(c, self->cfd, "cmsg", 4), 4);
	usleep(100000);
	n = recvmsg(self->sfd, &mh, MSG_DONTWAIT);
	ASSERT_EQ(n, 4);
	ASSERT_EQ(kdtls_msg_parse(&mh, n, &rx), 0);
	EXPECT_EQ(rx.len, 4);
	EXPECT_EQ(rx.record_type, 23);
	EXPECT_EQ(((struct sockaddr_in *)&rx.peer)->sin_port,
		  htons(self->cport));
	EXPECT_EQ(kdtls_msg_parse(NULL, 0, &rx), -EINVAL);
}

int main(int argc, char **argv)
{
	char *p;

	if (!realpath(argv[0], repo))
		snprintf(repo, sizeof(repo), ".");
	/* selftests/build/libkdtls -> the repository */
	for (int i = 0; i < 3 && (p = strrchr(repo, '/')); i++)
		*p = 0;
	if (access("/sys/module/kdtls", F_OK) || geteuid()) {
		printf("TAP version 13\n1..0 # SKIP needs root and kdtls.ko\n");
		return 4;
	}
	return __th_main(argc, argv);
}
