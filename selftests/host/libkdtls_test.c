// SPDX-License-Identifier: GPL-2.0
/*
 * libkdtls's pure parts on the host, with ASan/UBSan: the control-protocol
 * codec, peer addresses, error names, configuration checks, the cookie
 * verifier (tables), and the QDtls state machine against a scripted fake
 * kdtlsd (a forked child on a SOCK_SEQPACKET socket: no kernel, no
 * OpenSSL handshake).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/udp.h>

#include "harness.h"
#include "internal.h"
#include <linux/kdtls.h>

/*
 * Key material must be wiped before its buffer goes back to the allocator.
 * The test is linked with -Wl,--wrap=free,--wrap=realloc: every free() and
 * realloc() of the library (and of this file) comes here first, and a
 * block that still holds SECRET_MARK is counted (realloc() would leave
 * the old copy behind, so a secret must never be realloc()ed at all).
 */
#define SECRET_MARK	"KDTLSSECRETMARKxyzzy0123"
static bool secret_armed;
static int secret_leaks;

void __real_free(void *p);
void *__real_realloc(void *p, size_t n);

static void secret_check(void *p)
{
	if (p && secret_armed &&
	    memmem(p, malloc_usable_size(p), SECRET_MARK,
		   strlen(SECRET_MARK)))
		secret_leaks++;
}

void __wrap_free(void *p)
{
	secret_check(p);
	__real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
	secret_check(p);
	return __real_realloc(p, n);
}

/*
 * Scripted receives on one fd: the record-type cmsg the kernel adds (or
 * none, or a cut control buffer) without a kernel.  recvmsg() here takes
 * precedence over libc's for the whole test binary; other fds go to the
 * real one.
 */
struct scripted {
	uint32_t addr;		/* host order, port 4433 */
	int type;		/* the cmsg's type; -1 no cmsg */
	bool ctrunc;		/* MSG_CTRUNC, no cmsg */
	char data[16];
	size_t len;
};
static int script_fd = -1;
static struct scripted script[128];
static unsigned int script_n, script_pos;

static void script_add(uint32_t addr, int type, bool ctrunc, const void *data,
		       size_t len)
{
	struct scripted *e = &script[script_n++];

	e->addr = addr;
	e->type = type;
	e->ctrunc = ctrunc;
	memcpy(e->data, data, len);
	e->len = len;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(4433) };
	struct scripted *e;
	struct cmsghdr *cm;
	size_t n;

	if (script_fd < 0 || fd != script_fd) {
		if (!real)
			real = (ssize_t (*)(int, struct msghdr *, int))
				dlsym(RTLD_NEXT, "recvmsg");
		return real(fd, msg, flags);
	}
	if (script_pos == script_n) {
		errno = EAGAIN;
		return -1;
	}
	e = &script[script_pos++];
	sin.sin_addr.s_addr = htonl(e->addr);
	if (msg->msg_name && msg->msg_namelen >= sizeof(sin)) {
		memcpy(msg->msg_name, &sin, sizeof(sin));
		msg->msg_namelen = sizeof(sin);
	}
	n = e->len < msg->msg_iov[0].iov_len ? e->len : msg->msg_iov[0].iov_len;
	memcpy(msg->msg_iov[0].iov_base, e->data, n);
	msg->msg_flags = e->ctrunc ? MSG_CTRUNC : 0;
	if (e->type >= 0 && msg->msg_controllen >= CMSG_SPACE(1)) {
		cm = CMSG_FIRSTHDR(msg);
		cm->cmsg_level = SOL_KDTLS;
		cm->cmsg_type = KDTLS_CMSG_RECORD_TYPE;
		cm->cmsg_len = CMSG_LEN(1);
		*CMSG_DATA(cm) = e->type;
		msg->msg_controllen = CMSG_SPACE(1);
	} else {
		msg->msg_controllen = 0;
	}
	return n;
}

/* ---- codec ------------------------------------------------------------- */

static const struct {
	const char *line;
	int ret;
	const char *kind, *name, *key, *val;
} msg_tab[] = {
	{ "OK sock=3", 0, "OK", NULL, "sock", "3" },
	{ "OK", 0, "OK", NULL, NULL, NULL },
	{ "ERR code=EPERM msg=not%20ignored", 0, "ERR", NULL, "msg",
	  "not ignored" },
	{ "EVENT peer-closed sock=1 peer=1.2.3.4:5", 0, "EVENT",
	  "peer-closed", "peer", "1.2.3.4:5" },
	{ "EVENT data len=2 hex=6869\n", 0, "EVENT", "data", "hex", "6869" },
	{ "EVENT x reasons=a%25b", 0, "EVENT", "x", "reasons", "a%b" },
	{ "EVENT", -EINVAL, NULL, NULL, NULL, NULL },
	{ "EVENT k=v", -EINVAL, NULL, NULL, NULL, NULL },
	{ "HELLO version=1", -EINVAL, NULL, NULL, NULL, NULL },
	{ "OK novalue", -EINVAL, NULL, NULL, NULL, NULL },
	{ "OK =v", -EINVAL, NULL, NULL, NULL, NULL },
	{ "OK k=%zz", -EINVAL, NULL, NULL, NULL, NULL },
	{ "OK k=%00", -EINVAL, NULL, NULL, NULL, NULL },
	{ "", -EINVAL, NULL, NULL, NULL, NULL },
};

TEST(msg_parse_table)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(msg_tab); i++) {
		char line[256];
		struct kdtls_msg m;
		int ret;

		snprintf(line, sizeof(line), "%s", msg_tab[i].line);
		ret = kdtls_msg_parse_line(line, &m);
		EXPECT_EQ(ret, msg_tab[i].ret);
		if (ret || msg_tab[i].ret)
			continue;
		EXPECT_EQ(strcmp(m.kind, msg_tab[i].kind), 0);
		if (msg_tab[i].name)
			EXPECT_EQ(strcmp(m.name, msg_tab[i].name), 0);
		if (msg_tab[i].key) {
			const char *v = kdtls_msg_get(&m, msg_tab[i].key);

			ASSERT_TRUE(v != NULL);
			EXPECT_EQ(strcmp(v, msg_tab[i].val), 0);
		}
		EXPECT_TRUE(kdtls_msg_get(&m, "absent") == NULL);
	}
}

TEST(msg_too_many_args)
{
	char line[2048] = "OK";
	struct kdtls_msg m;

	for (int i = 0; i <= KDTLS_MSG_MAX_ARGS; i++)
		sprintf(line + strlen(line), " k%d=v", i);
	EXPECT_EQ(kdtls_msg_parse_line(line, &m), -EINVAL);
}

TEST(escape_roundtrip)
{
	unsigned char all[255];
	char *e;

	for (int i = 0; i < 255; i++)
		all[i] = i + 1;
	e = kdtls_msg_escape(all, sizeof(all));
	ASSERT_TRUE(e != NULL);
	EXPECT_TRUE(strpbrk(e, " \n\r\t") == NULL);
	for (const char *p = e; *p; p++)
		EXPECT_TRUE(*p > 0x20 && *p < 0x7f);
	ASSERT_EQ(kdtls_msg_unescape(e), 0);
	EXPECT_EQ(strlen(e), sizeof(all));
	EXPECT_EQ(memcmp(e, all, sizeof(all)), 0);
	free(e);
}

static const struct {
	const char *s;
	int ret;
	int family;
	const char *back;
} addr_tab[] = {
	{ "127.0.0.1:4433", 0, AF_INET, "127.0.0.1:4433" },
	{ "[::1]:5", 0, AF_INET6, "[::1]:5" },
	{ "[::ffff:1.2.3.4]:9", 0, AF_INET6, "[::ffff:1.2.3.4]:9" },
	{ "1.2.3.4", -EINVAL, 0, NULL },
	{ "1.2.3.4:0", -EINVAL, 0, NULL },
	{ "1.2.3.4:65536", -EINVAL, 0, NULL },
	{ "1.2.3.4:x", -EINVAL, 0, NULL },
	{ "::1:5", -EINVAL, 0, NULL },
	{ "[::1]5", -EINVAL, 0, NULL },
	{ "host:5", -EINVAL, 0, NULL },
	{ "[1.2.3.4]:5", -EINVAL, 0, NULL },
};

TEST(addr_parse_format_table)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(addr_tab); i++) {
		struct sockaddr_storage ss;
		char back[64];

		EXPECT_EQ(kdtls_addr_parse(addr_tab[i].s, &ss),
			  addr_tab[i].ret);
		if (addr_tab[i].ret)
			continue;
		EXPECT_EQ(ss.ss_family, addr_tab[i].family);
		ASSERT_EQ(kdtls_addr_format((void *)&ss, back, sizeof(back)),
			  0);
		EXPECT_EQ(strcmp(back, addr_tab[i].back), 0);
	}
}

TEST(addr_equal_mapped)
{
	struct sockaddr_storage a, b, c;

	ASSERT_EQ(kdtls_addr_parse("1.2.3.4:9", &a), 0);
	ASSERT_EQ(kdtls_addr_parse("[::ffff:1.2.3.4]:9", &b), 0);
	ASSERT_EQ(kdtls_addr_parse("[::ffff:1.2.3.4]:10", &c), 0);
	EXPECT_TRUE(kdtls_addr_equal(&a, &b));
	EXPECT_FALSE(kdtls_addr_equal(&a, &c));
	EXPECT_FALSE(kdtls_addr_equal(&b, &c));
}

static const struct {
	const char *addr;
	uint16_t port;
	int ret;
} check_tab[] = {
	{ "127.0.0.1", 1, 0 },
	{ "0.0.0.0", 1, -EINVAL },
	{ "255.255.255.255", 1, -EINVAL },
	{ "224.0.0.251", 1, -EINVAL },
	{ "127.0.0.1", 0, -EINVAL },
	{ "::1", 1, 0 },
	{ "::", 1, -EINVAL },
	{ "ff05::2", 1, -EINVAL },
	{ "::ffff:0.0.0.0", 1, -EINVAL },
	{ "::ffff:10.0.0.1", 1, 0 },
	{ "::1", 0, -EINVAL },
};

TEST(addr_check_table)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(check_tab); i++) {
		struct sockaddr_in in = { .sin_family = AF_INET,
					  .sin_port = htons(check_tab[i].port) };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
					    .sin6_port = htons(check_tab[i].port) };
		const char *why = NULL;
		int ret;

		if (inet_pton(AF_INET, check_tab[i].addr, &in.sin_addr) == 1)
			ret = kdtls_addr_check((void *)&in, sizeof(in), &why);
		else if (inet_pton(AF_INET6, check_tab[i].addr,
				   &in6.sin6_addr) == 1)
			ret = kdtls_addr_check((void *)&in6, sizeof(in6), &why);
		else
			ret = 1;
		EXPECT_EQ(ret, check_tab[i].ret);
		if (ret)
			EXPECT_TRUE(why && *why);
	}
	{
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		const char *why;

		EXPECT_EQ(kdtls_addr_check((void *)&un, sizeof(un), &why),
			  -EINVAL);
	}
}

TEST(errno_names)
{
	EXPECT_EQ(kdtls_errno_from_name("EPERM"), EPERM);
	EXPECT_EQ(kdtls_errno_from_name("ENOENT"), ENOENT);
	EXPECT_EQ(kdtls_errno_from_name("EPROTONOSUPPORT"), EPROTONOSUPPORT);
	EXPECT_EQ(kdtls_errno_from_name("ENOPE"), EPROTO);
}

TEST(error_names)
{
	EXPECT_EQ(strcmp(kdtls_error_name(KDTLS_ERR_NONE), "NoError"), 0);
	EXPECT_EQ(strcmp(kdtls_error_name(KDTLS_ERR_TLS_NON_FATAL),
			 "TlsNonFatalError"), 0);
	EXPECT_TRUE(kdtls_error_name(9) == NULL);
	EXPECT_EQ(KDTLS_ERR_PEER_VERIFICATION, 5);
	EXPECT_EQ(KDTLS_HANDSHAKE_COMPLETE, 3);
}

TEST(config_checks)
{
	struct kdtls_cfg c = { 0 };
	struct kdtls_config cfg;
	const char *why = NULL;
	char *args;

	kdtls_config_init(&cfg);
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), 0);
	args = kdtls_cfg_args(&c, false);
	ASSERT_TRUE(args != NULL);
	EXPECT_EQ(strcmp(args, ""), 0);		/* defaults: nothing sent */
	free(args);
	cfg.protocol = KDTLS_PROTO_DTLS1_0_OR_LATER;
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), -EPROTONOSUPPORT);
	cfg.protocol = 42;
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), -EINVAL);
	cfg.protocol = KDTLS_PROTO_DTLS1_2;
	cfg.cert_pem = "-----BEGIN CERTIFICATE-----\nabc\n";
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), -EINVAL);
	EXPECT_TRUE(strstr(why, "private key") != NULL);
	cfg.key_pem = "-----BEGIN PRIVATE KEY-----\nk y\n";
	cfg.ciphers = "PSK-AES128-GCM-SHA256";
	cfg.verify_depth = 2;
	cfg.psk_identity_hint = "h i";
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), 0);
	args = kdtls_cfg_args(&c, true);
	ASSERT_TRUE(args != NULL);
	EXPECT_TRUE(strstr(args, " key=-----BEGIN%20PRIVATE%20KEY-----%0Ak%20y%0A"));
	EXPECT_TRUE(strstr(args, " ciphers=PSK-AES128-GCM-SHA256"));
	EXPECT_TRUE(strstr(args, " verify-depth=2"));
	EXPECT_TRUE(strstr(args, " psk-hint=h%20i"));
	free(args);
	args = kdtls_cfg_args(&c, false);	/* no hint from a client */
	EXPECT_TRUE(strstr(args, "psk-hint") == NULL);
	free(args);
	cfg.keylog_file = "/tmp/keys";
	EXPECT_EQ(kdtls_cfg_set(&c, &cfg, &why), -EOPNOTSUPP);
	kdtls_cfg_free(&c);
}

/* ---- the cookie verifier ---------------------------------------------- */

static size_t client_hello(uint8_t *b, const uint8_t *cookie, size_t clen,
			   uint8_t seed)
{
	size_t body = 2 + 32 + 1 + 1 + clen + 2 + 4 + 2, n = 0, i;

	b[n++] = 22; b[n++] = 0xfe; b[n++] = 0xfd;
	memset(b + n, 0, 8); n += 8;
	b[10] = 1;
	b[n++] = (12 + body) >> 8; b[n++] = (12 + body) & 0xff;
	b[n++] = 1; b[n++] = 0; b[n++] = body >> 8; b[n++] = body & 0xff;
	b[n++] = 0; b[n++] = 0;
	b[n++] = 0; b[n++] = 0; b[n++] = 0;
	b[n++] = 0; b[n++] = body >> 8; b[n++] = body & 0xff;
	b[n++] = 0xfe; b[n++] = 0xfd;
	for (i = 0; i < 32; i++)
		b[n++] = i + seed;
	b[n++] = 0;
	b[n++] = clen;
	if (clen)
		memcpy(b + n, cookie, clen);
	n += clen;
	b[n++] = 0; b[n++] = 4;
	b[n++] = 0xc0; b[n++] = 0x2b; b[n++] = 0xc0; b[n++] = 0x2c;
	b[n++] = 1; b[n++] = 0;
	return n;
}

static const struct {
	enum kdtls_hash hash;
	size_t cookie_len;
} hash_tab[] = {
	{ KDTLS_HASH_SHA1, 20 }, { KDTLS_HASH_SHA256, 32 },
	{ KDTLS_HASH_SHA384, 48 }, { KDTLS_HASH_SHA512, 64 },
};

TEST(verifier_table)
{
	static const uint8_t secret[] = "0123456789abcdef";
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(4000) };
	uint8_t hello[256], hvr[128], cookie[64];
	size_t n, hl;

	a6.sin6_addr.s6_addr[15] = 1;
	for (unsigned int i = 0; i < ARRAY_SIZE(hash_tab); i++) {
		struct kdtls_generator_params p = { hash_tab[i].hash, secret,
						    16 };
		struct kdtls_verifier *v;

		ASSERT_EQ(kdtls_verifier_new(&v), 0);
		ASSERT_EQ(kdtls_verifier_set_cookie_generator_params(v, &p), 0);
		n = client_hello(hello, NULL, 0, 0);
		ASSERT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a6,
					       sizeof(a6), hvr, sizeof(hvr),
					       &hl), 0);
		EXPECT_EQ(hl, 28 + hash_tab[i].cookie_len);
		EXPECT_EQ(hvr[27], hash_tab[i].cookie_len);
		EXPECT_EQ(hvr[10], 1);		/* the ClientHello's seq */
		EXPECT_LE(hl, n + hash_tab[i].cookie_len);
		memcpy(cookie, hvr + 28, hash_tab[i].cookie_len);
		n = client_hello(hello, cookie, hash_tab[i].cookie_len, 0);
		EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a6,
					       sizeof(a6), hvr, sizeof(hvr),
					       &hl), 1);
		/* another client random: the cookie no longer matches */
		n = client_hello(hello, cookie, hash_tab[i].cookie_len, 1);
		EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a6,
					       sizeof(a6), hvr, sizeof(hvr),
					       &hl), 0);
		/* a cookie one byte off */
		cookie[0] ^= 1;
		n = client_hello(hello, cookie, hash_tab[i].cookie_len, 0);
		EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a6,
					       sizeof(a6), hvr, sizeof(hvr),
					       &hl), 0);
		kdtls_verifier_free(v);
	}
}

TEST(verifier_bad_input)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1),
				 .sin_addr.s_addr = htonl(0x0a000001) };
	struct kdtls_generator_params p = { 0 };
	struct kdtls_verifier *v;
	uint8_t hello[256], hvr[128];
	size_t n, hl;

	EXPECT_EQ(kdtls_verifier_new(NULL), -EINVAL);
	ASSERT_EQ(kdtls_verifier_new(&v), 0);
	EXPECT_EQ(kdtls_verifier_set_cookie_generator_params(v, &p), -EINVAL);
	EXPECT_EQ(kdtls_verifier_error(v), KDTLS_ERR_INVALID_INPUT);
	n = client_hello(hello, NULL, 0, 0);
	for (size_t cut = 0; cut < n; cut++)
		EXPECT_EQ(kdtls_verifier_check(v, hello, cut, (void *)&a,
					       sizeof(a), hvr, sizeof(hvr),
					       &hl), -EINVAL);
	hello[13] = 2;		/* ServerHello */
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	n = client_hello(hello, NULL, 0, 0);
	hello[4] = 1;		/* epoch 1 */
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	n = client_hello(hello, NULL, 0, 0);
	hello[21] = 1;		/* fragment_length != length: a fragment */
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	n = client_hello(hello, NULL, 0, 0);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, 27, &hl), -ENOSPC);
	EXPECT_EQ(kdtls_verifier_check(v, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), 0);
	EXPECT_EQ(kdtls_verifier_error(v), KDTLS_ERR_NONE);
	EXPECT_EQ(kdtls_verifier_check(NULL, hello, n, (void *)&a, sizeof(a),
				       hvr, sizeof(hvr), &hl), -EINVAL);
	kdtls_verifier_free(v);
}

/* every entry point survives NULL and reports it */
TEST(null_arguments)
{
	struct kdtls_generator_params gp = { 0 };
	struct kdtls_config cfg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t len = 1;
	int codes[1];

	EXPECT_EQ(kdtls_new(NULL, KDTLS_MODE_CLIENT, NULL), -EINVAL);
	kdtls_free(NULL);
	EXPECT_EQ(kdtls_mode(NULL), 0);
	EXPECT_TRUE(kdtls_ctx(NULL) == NULL);
	kdtls_set_event_cb(NULL, NULL, NULL);
	kdtls_set_psk_cb(NULL, NULL, NULL);
	EXPECT_TRUE(kdtls_user(NULL) == NULL);
	EXPECT_EQ(kdtls_set_peer(NULL, NULL, 0, NULL), -EINVAL);
	EXPECT_EQ(kdtls_set_peer_str(NULL, "1.2.3.4", 1, NULL), -EINVAL);
	EXPECT_EQ(kdtls_peer_address(NULL, (void *)&ss, &sl), -EINVAL);
	EXPECT_EQ(kdtls_peer_port(NULL), 0);
	EXPECT_EQ(kdtls_set_peer_verification_name(NULL, "x"), -EINVAL);
	EXPECT_EQ(strcmp(kdtls_peer_verification_name(NULL), ""), 0);
	EXPECT_EQ(kdtls_set_configuration(NULL, &cfg), -EINVAL);
	kdtls_configuration(NULL, &cfg);
	EXPECT_EQ(cfg.verify_depth, -1);
	EXPECT_EQ(kdtls_set_cookie_generator_params(NULL, &gp), -EINVAL);
	kdtls_cookie_generator_params(NULL, &gp);
	EXPECT_EQ(kdtls_set_mtu_hint(NULL, 0), -EINVAL);
	EXPECT_EQ(kdtls_mtu_hint(NULL), 0);
	EXPECT_EQ(kdtls_do_handshake(NULL, 0), -EINVAL);
	EXPECT_EQ(kdtls_handshake_state(NULL), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_FALSE(kdtls_is_connection_encrypted(NULL));
	EXPECT_EQ(kdtls_handle_timeout(NULL), -EINVAL);
	EXPECT_EQ(kdtls_peer_verification_errors(NULL, codes, 1), -EINVAL);
	EXPECT_EQ(strcmp(kdtls_peer_verification_reasons(NULL), ""), 0);
	EXPECT_EQ(kdtls_ignore_verification_errors(NULL, codes, 1), -EINVAL);
	EXPECT_EQ(kdtls_resume_handshake(NULL), -EINVAL);
	EXPECT_EQ(kdtls_abort_handshake(NULL), -EINVAL);
	EXPECT_TRUE(kdtls_session_cipher(NULL) == NULL);
	EXPECT_TRUE(kdtls_session_kernel_cipher(NULL) == NULL);
	EXPECT_EQ(kdtls_session_protocol(NULL), KDTLS_PROTO_UNKNOWN);
	EXPECT_EQ(kdtls_write_datagram(NULL, 0, "x", 1), -EINVAL);
	EXPECT_EQ(kdtls_read_datagram(NULL, 0, codes, 1), -EINVAL);
	EXPECT_EQ(kdtls_recv_any(-1, NULL, 1, NULL, NULL, NULL), -EINVAL);
	EXPECT_EQ(kdtls_recv_any(-1, codes, 1, NULL, NULL, NULL), -EBADF);
	EXPECT_TRUE(kdtls_find_peer(NULL, (void *)&ss, sl) == NULL);
	EXPECT_EQ(kdtls_shutdown(NULL), -EINVAL);
	EXPECT_EQ(kdtls_error(NULL), KDTLS_ERR_INVALID_INPUT);
	EXPECT_TRUE(strlen(kdtls_error_string(NULL)) > 0);
	EXPECT_EQ(kdtls_verifier_set_cookie_generator_params(NULL, &gp),
		  -EINVAL);
	kdtls_verifier_cookie_generator_params(NULL, &gp);
	EXPECT_TRUE(kdtls_verifier_verified_hello(NULL, &len) == NULL);
	EXPECT_EQ(len, 0);
	EXPECT_EQ(kdtls_verifier_error(NULL), KDTLS_ERR_INVALID_INPUT);
	EXPECT_TRUE(strlen(kdtls_verifier_error_string(NULL)) > 0);
	EXPECT_EQ(kdtls_msg_parse(NULL, 0, NULL), -EINVAL);
	EXPECT_EQ(kdtls_recvmsg_out_parse(NULL, 0, NULL, NULL), -EINVAL);
	kdtls_verifier_free(NULL);
	kdtls_ctx_free(NULL);
}

TEST(recvmsg_out_parse)
{
	/* io_uring_recvmsg_out | name (16) | control (24) | payload */
	struct msghdr msg = { .msg_namelen = 16, .msg_controllen = 24 };
	uint8_t buf[16 + 16 + 24 + 8] = { 0 };
	struct io_uring_recvmsg_out_ {
		uint32_t namelen, controllen, payloadlen, flags;
	} o = { 16, 24, 5, 0 };
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(99) };
	struct cmsghdr cm = { .cmsg_len = CMSG_LEN(1), .cmsg_level = 0x4b44,
			      .cmsg_type = 1 };
	struct kdtls_rx rx;

	memcpy(buf, &o, sizeof(o));
	memcpy(buf + 16, &in, sizeof(in));
	memcpy(buf + 32, &cm, sizeof(cm));
	buf[32 + sizeof(cm)] = 21;		/* an alert */
	memcpy(buf + 56, "hello", 5);
	ASSERT_EQ(kdtls_recvmsg_out_parse(buf, 61, &msg, &rx), 0);
	EXPECT_EQ(rx.len, 5);
	EXPECT_EQ(memcmp(rx.data, "hello", 5), 0);
	EXPECT_EQ(rx.record_type, 21);
	EXPECT_EQ(rx.peer_len, 16);
	EXPECT_EQ(((struct sockaddr_in *)&rx.peer)->sin_port, htons(99));
	/* payload cut by the buffer; too short for the header */
	ASSERT_EQ(kdtls_recvmsg_out_parse(buf, 58, &msg, &rx), 0);
	EXPECT_EQ(rx.len, 2);
	EXPECT_EQ(kdtls_recvmsg_out_parse(buf, 40, &msg, &rx), -EINVAL);
	/* no kdtls cmsg: application data */
	memset(buf + 32, 0, 24);
	ASSERT_EQ(kdtls_recvmsg_out_parse(buf, 61, &msg, &rx), 0);
	EXPECT_EQ(rx.record_type, 23);
	/* ... unless the control data was cut: unknown, not data */
	o.flags = MSG_CTRUNC;
	memcpy(buf, &o, sizeof(o));
	ASSERT_EQ(kdtls_recvmsg_out_parse(buf, 61, &msg, &rx), 0);
	EXPECT_EQ(rx.record_type, -1);
}

TEST(msg_parse_ctrunc)
{
	char cbuf[CMSG_SPACE(1)] = { 0 }, data[4] = "abc";
	struct iovec iov = { data, 3 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = 0 };
	struct cmsghdr *cm;
	struct kdtls_rx rx;

	ASSERT_EQ(kdtls_msg_parse(&mh, 3, &rx), 0);
	EXPECT_EQ(rx.record_type, KDTLS_CT_APPLICATION_DATA);
	mh.msg_flags = MSG_CTRUNC;
	ASSERT_EQ(kdtls_msg_parse(&mh, 3, &rx), 0);
	EXPECT_EQ(rx.record_type, -1);
	mh.msg_flags = 0;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_KDTLS;
	cm->cmsg_type = KDTLS_CMSG_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = 22;
	ASSERT_EQ(kdtls_msg_parse(&mh, 3, &rx), 0);
	EXPECT_EQ(rx.record_type, 22);
}

/* ---- the state machine against a scripted kdtlsd --------------------- */

static void fake_reply(int fd, const char *fmt, const char *peer)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, peer);
	send(fd, buf, strlen(buf), MSG_NOSIGNAL);
}

/* The fake daemon: answers by verb; an EVENT may precede a reply. */
static void fake_kdtlsd(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	char line[70000];
	ssize_t n;

	while ((n = recv(fd, line, sizeof(line) - 1, 0)) > 0) {
		char peer[64] = "", *p;

		line[n] = 0;
		p = strstr(line, "peer=");
		if (p)
			sscanf(p + 5, "%63s", peer);
		if (!strncmp(line, "HELLO", 5)) {
			fake_reply(fd, "OK version=1 daemon=fake", peer);
		} else if (!strncmp(line, "ATTACH", 6)) {
			fake_reply(fd, "OK sock=7", peer);
		} else if (!strncmp(line, "CONNECT", 7) &&
			   strstr(line, "name=bad.name")) {
			fake_reply(fd, "OK", peer);
			fake_reply(fd, "EVENT verify-failed errors=62,10 "
				   "reasons=hostname%%20mismatch sock=7 peer=%s",
				   peer);
		} else if (!strncmp(line, "CONNECT", 7) &&
			   strstr(line, "name=timeout.name")) {
			fake_reply(fd, "OK", peer);
			fake_reply(fd, "EVENT timeout reason=retransmissions "
				   "sock=7 peer=%s", peer);
		} else if (!strncmp(line, "CONNECT", 7) &&
			   strstr(line, "psk=ask")) {
			fake_reply(fd, "OK", peer);
			fake_reply(fd, "EVENT psk-required hint=the%%20hint "
				   "sock=7 peer=%s", peer);
		} else if (!strncmp(line, "CONNECT", 7) &&
			   strstr(line, "ciphers=BAD")) {
			fake_reply(fd, "ERR code=EINVAL msg=no%%20usable%%20cipher",
				   peer);
		} else if (!strncmp(line, "CONNECT", 7)) {
			/* the event before the reply: queued by the library */
			fake_reply(fd, "EVENT handshake-complete cipher=aes-128-gcm "
				   "suite=ECDHE-ECDSA-AES128-GCM-SHA256 "
				   "protocol=DTLSv1.2 role=client sock=7 peer=%s",
				   peer);
			fake_reply(fd, "OK", peer);
		} else if (!strncmp(line, "PSK", 3)) {
			fake_reply(fd, "OK", peer);
			if (strstr(line, "identity=me") &&
			    strstr(line, "key=0102ff"))
				fake_reply(fd, "EVENT handshake-complete "
					   "cipher=aes-128-gcm suite=PSK-AES128-GCM-SHA256 "
					   "protocol=DTLSv1.2 role=client sock=7 peer=%s",
					   peer);
		} else if (!strncmp(line, "RESUME", 6)) {
			if (strstr(line, "ignore=62,10") ||
			    strstr(line, "ignore=10,62")) {
				fake_reply(fd, "OK", peer);
				fake_reply(fd, "EVENT handshake-complete "
					   "cipher=aes-128-gcm suite=S "
					   "protocol=DTLSv1.2 role=client sock=7 peer=%s",
					   peer);
			} else {
				fake_reply(fd, "ERR code=EPERM msg=not%%20ignored",
					   peer);
			}
		} else if (!strncmp(line, "SERVE", 5)) {
			fake_reply(fd, "OK", peer);
			fake_reply(fd, "EVENT handshake-complete cipher=aes-256-gcm "
				   "suite=X protocol=DTLSv1.2 role=server sock=7 "
				   "peer=%s", "[::ffff:10.1.1.1]:777");
			fake_reply(fd, "EVENT data len=2 hex=6869 sock=7 peer=%s",
				   "10.1.1.1:777");
			fake_reply(fd, "EVENT peer-closed sock=7 peer=%s",
				   "10.1.1.1:777");
			fake_reply(fd, "EVENT handshake-failed reason=x sock=7 "
				   "peer=%s", "10.9.9.9:1");
		} else if (!strncmp(line, "ABORT", 5) ||
			   !strncmp(line, "SHUTDOWN", 8)) {
			fake_reply(fd, "OK", peer);
		} else if (!strncmp(line, "QUIT", 4)) {
			break;
		} else {
			fake_reply(fd, "ERR code=EOPNOTSUPP msg=unknown", peer);
		}
	}
	_exit(0);
}

FIXTURE(fake) {
	char path[108];
	pid_t pid;
	struct kdtls_ctx *ctx;
	int udp;
	int events[16];
	int n;
	struct kdtls *last;
	char data[16];
};

static void ev_cb(const struct kdtls_event *ev, void *user)
{
	FIXTURE_DATA(fake) *self = user;

	if (self->n < 16)
		self->events[self->n++] = ev->type;
	self->last = ev->dtls;
	if (ev->type == KDTLS_EV_DATA && ev->len < sizeof(self->data))
		memcpy(self->data, ev->data, ev->len);
}

FIXTURE_SETUP(fake)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd;

	snprintf(self->path, sizeof(self->path), "/tmp/libkdtls-fake.%d",
		 getpid());
	strcpy(sun.sun_path, self->path);
	unlink(self->path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(bind(lfd, (void *)&sun, sizeof(sun)), 0);
	ASSERT_EQ(listen(lfd, 1), 0);
	self->pid = fork();
	if (!self->pid)
		fake_kdtlsd(lfd);
	close(lfd);
	ASSERT_EQ(kdtls_ctx_new(&self->ctx, self->path), 0);
	self->udp = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_GE(self->udp, 0);
}

FIXTURE_TEARDOWN(fake)
{
	kdtls_ctx_free(self->ctx);
	close(self->udp);
	kill(self->pid, SIGKILL);
	waitpid(self->pid, NULL, 0);
	unlink(self->path);
}

static struct kdtls *client(FIXTURE_DATA(fake) *self, const char *name)
{
	struct kdtls *d;

	if (kdtls_new(self->ctx, KDTLS_MODE_CLIENT, &d))
		return NULL;
	kdtls_set_event_cb(d, ev_cb, self);
	if (kdtls_set_peer_str(d, "192.0.2.1", 4433, name)) {
		kdtls_free(d);
		return NULL;
	}
	return d;
}

/* A client of 192.0.2.@host:4433, handshake complete on self->udp */
static struct kdtls *complete_client(FIXTURE_DATA(fake) *self, int host)
{
	char addr[32];
	struct kdtls *d;

	snprintf(addr, sizeof(addr), "192.0.2.%d", host);
	if (kdtls_new(self->ctx, KDTLS_MODE_CLIENT, &d))
		return NULL;
	if (kdtls_set_peer_str(d, addr, 4433, "good.name") ||
	    kdtls_do_handshake(d, self->udp)) {
		kdtls_free(d);
		return NULL;
	}
	for (int i = 0; i < 100 && kdtls_handshake_state(d) !=
	     KDTLS_HANDSHAKE_COMPLETE; i++) {
		kdtls_ctx_dispatch(self->ctx);
		usleep(2000);
	}
	return d;
}

static void settle(FIXTURE_DATA(fake) *self)
{
	for (int i = 0; i < 20; i++) {
		kdtls_ctx_dispatch(self->ctx);
		usleep(5000);
	}
}

TEST_F(fake, event_before_reply_is_queued)
{
	struct kdtls *d = client(self, "good.name");
	struct pollfd p;

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_IN_PROGRESS);
	/* the event came before OK: the context fd must still wake us */
	p.fd = kdtls_ctx_fd(self->ctx);
	p.events = POLLIN;
	EXPECT_EQ(poll(&p, 1, 1000), 1);
	EXPECT_EQ(kdtls_ctx_dispatch(self->ctx), 1);
	EXPECT_EQ(self->n, 1);
	EXPECT_EQ(self->events[0], KDTLS_EV_HANDSHAKE_COMPLETE);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	EXPECT_EQ(strcmp(kdtls_session_cipher(d),
			 "ECDHE-ECDSA-AES128-GCM-SHA256"), 0);
	EXPECT_EQ(strcmp(kdtls_session_kernel_cipher(d), "aes-128-gcm"), 0);
	EXPECT_EQ(kdtls_session_protocol(d), KDTLS_PROTO_DTLS1_2);
	EXPECT_EQ(poll(&p, 1, 0), 0);		/* nothing left */
	EXPECT_EQ(kdtls_shutdown(d), 0);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_NOT_STARTED);
}

TEST_F(fake, verify_failed_resume)
{
	struct kdtls *d = client(self, "bad.name");
	int codes[4], ign[2] = { 10, 62 };

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	ASSERT_EQ(kdtls_handshake_state(d), KDTLS_PEER_VERIFICATION_FAILED);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_PEER_VERIFICATION);
	EXPECT_TRUE(strstr(kdtls_error_string(d), "hostname mismatch"));
	EXPECT_EQ(kdtls_peer_verification_errors(d, codes, 1), 2);
	EXPECT_EQ(codes[0], 62);
	EXPECT_EQ(kdtls_peer_verification_errors(d, codes, 4), 2);
	EXPECT_EQ(codes[1], 10);
	EXPECT_EQ(kdtls_resume_handshake(d), -EPERM);
	ASSERT_EQ(kdtls_ignore_verification_errors(d, ign, 1), 0);
	EXPECT_EQ(kdtls_resume_handshake(d), -EPERM);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_PEER_VERIFICATION);
	ASSERT_EQ(kdtls_ignore_verification_errors(d, ign, 2), 0);
	EXPECT_EQ(kdtls_resume_handshake(d), 0);
	settle(self);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
}

TEST_F(fake, preset_ignore_resumes_by_itself)
{
	struct kdtls *d = client(self, "bad.name");
	int ign[2] = { 62, 10 };

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_ignore_verification_errors(d, ign, 2), 0);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	EXPECT_EQ(self->n, 1);
	EXPECT_EQ(self->events[0], KDTLS_EV_HANDSHAKE_COMPLETE);
}

TEST_F(fake, timeout_and_handle_timeout)
{
	struct kdtls *d = client(self, "timeout.name");

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	ASSERT_EQ(self->n, 1);
	EXPECT_EQ(self->events[0], KDTLS_EV_HANDSHAKE_TIMEOUT);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_handle_timeout(d), 1);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_IN_PROGRESS);
	EXPECT_EQ(kdtls_handle_timeout(d), 0);
}

static int psk_cb(struct kdtls *d, struct kdtls_psk_auth *a, void *user)
{
	(void)d;
	strcpy(user, a->identity_hint);
	strcpy(a->out_identity, "me");
	a->key[0] = 1;
	a->key[1] = 2;
	a->key[2] = 0xff;
	a->key_len = 3;
	return 0;
}

TEST_F(fake, psk_required_answered)
{
	struct kdtls *d = client(self, NULL);
	char hint[64] = "";

	ASSERT_TRUE(d != NULL);
	kdtls_set_psk_cb(d, psk_cb, hint);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	EXPECT_EQ(strcmp(hint, "the hint"), 0);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	EXPECT_EQ(strcmp(kdtls_session_cipher(d), "PSK-AES128-GCM-SHA256"), 0);
}

TEST_F(fake, refused_configuration)
{
	struct kdtls *d = client(self, NULL);
	struct kdtls_config cfg;

	ASSERT_TRUE(d != NULL);
	kdtls_config_init(&cfg);
	cfg.ciphers = "BAD";
	ASSERT_EQ(kdtls_set_configuration(d, &cfg), 0);
	EXPECT_EQ(kdtls_do_handshake(d, self->udp), -EINVAL);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_TLS_INIT);
	EXPECT_TRUE(strstr(kdtls_error_string(d), "no usable cipher"));
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_NOT_STARTED);
}

TEST_F(fake, listener_new_peer_data_closed)
{
	struct kdtls *l, *peer;
	struct sockaddr_in from = { .sin_family = AF_INET,
				    .sin_port = htons(777),
				    .sin_addr.s_addr = htonl(0x0a010101) };

	ASSERT_EQ(kdtls_new(self->ctx, KDTLS_MODE_SERVER, &l), 0);
	kdtls_set_event_cb(l, ev_cb, self);
	ASSERT_EQ(kdtls_do_handshake(l, self->udp), 0);
	settle(self);
	/* NEW_PEER, DATA, PEER_CLOSED; another peer's failure is not ours */
	ASSERT_EQ(self->n, 3);
	EXPECT_EQ(self->events[0], KDTLS_EV_NEW_PEER);
	EXPECT_EQ(self->events[1], KDTLS_EV_DATA);
	EXPECT_EQ(memcmp(self->data, "hi", 2), 0);
	EXPECT_EQ(self->events[2], KDTLS_EV_PEER_CLOSED);
	peer = kdtls_find_peer(l, (void *)&from, sizeof(from));
	ASSERT_TRUE(peer != NULL);
	EXPECT_TRUE(peer == self->last);
	EXPECT_EQ(kdtls_peer_port(peer), 777);
	EXPECT_EQ(kdtls_error(peer), KDTLS_ERR_REMOTE_CLOSED);
	EXPECT_EQ(kdtls_handshake_state(peer), KDTLS_HANDSHAKE_NOT_STARTED);
	from.sin_port = htons(778);
	EXPECT_TRUE(kdtls_find_peer(l, (void *)&from, sizeof(from)) == NULL);
	kdtls_free(peer);
	kdtls_free(l);
}

TEST_F(fake, daemon_gone)
{
	struct kdtls *d = client(self, "bad.name");

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	kill(self->pid, SIGKILL);
	waitpid(self->pid, NULL, 0);
	EXPECT_EQ(kdtls_ctx_dispatch(self->ctx), -ECONNRESET);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_NOT_STARTED);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_TLS_FATAL);
	EXPECT_EQ(kdtls_resume_handshake(d), -EBUSY);
}

#define PEER1	0xc0000201	/* 192.0.2.1 */
#define PEER2	0xc0000202

/* Handshake (22), ChangeCipherSpec (20), unknown types and a receive with
 * a cut control buffer are never application data -- the kernel hands
 * out raw epoch-0 records when no agent serves the socket. */
TEST_F(fake, read_returns_only_application_data)
{
	struct kdtls *d = complete_client(self, 1);
	char buf[32];

	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	script_fd = self->udp;
	script_add(PEER2, 22, false, "hs2", 3);
	script_add(PEER1, 22, false, "hs1", 3);
	script_add(PEER1, 20, false, "\1", 1);
	script_add(PEER1, 99, false, "odd", 3);
	script_add(PEER1, -1, true, "cut", 3);
	script_add(PEER1, 23, false, "data", 4);
	script_add(PEER1, -1, false, "more", 4);
	EXPECT_EQ(kdtls_read_datagram(d, self->udp, buf, sizeof(buf)), 4);
	EXPECT_EQ(memcmp(buf, "data", 4), 0);
	EXPECT_EQ(kdtls_read_datagram(d, self->udp, buf, sizeof(buf)), 4);
	EXPECT_EQ(memcmp(buf, "more", 4), 0);
	script_add(PEER1, 22, false, "hs1", 3);
	EXPECT_EQ(kdtls_read_datagram(d, self->udp, buf, sizeof(buf)),
		  -EAGAIN);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_NONE);
	EXPECT_EQ(script_pos, script_n);
	/* the other peer's handshake record was not held for it either */
	EXPECT_EQ(d->sock->n_held, 0);
	EXPECT_EQ(kdtls_dropped_datagrams(d), 0);
	kdtls_free(d);
}

/* Another peer's alert read on the way is held for it, like its data. */
TEST_F(fake, other_peers_alert_held)
{
	struct kdtls *a = complete_client(self, 1);
	struct kdtls *b = complete_client(self, 2);
	char buf[32];

	ASSERT_TRUE(a && b);
	ASSERT_EQ(kdtls_handshake_state(b), KDTLS_HANDSHAKE_COMPLETE);
	script_fd = self->udp;
	script_add(PEER2, 23, false, "b0", 2);
	script_add(PEER2, 21, false, "\1\0", 2);	/* close_notify */
	script_add(PEER1, 23, false, "a0", 2);
	EXPECT_EQ(kdtls_read_datagram(a, self->udp, buf, sizeof(buf)), 2);
	EXPECT_EQ(memcmp(buf, "a0", 2), 0);
	EXPECT_EQ(kdtls_read_datagram(b, self->udp, buf, sizeof(buf)), 2);
	EXPECT_EQ(memcmp(buf, "b0", 2), 0);
	EXPECT_EQ(kdtls_read_datagram(b, self->udp, buf, sizeof(buf)),
		  -ECONNRESET);
	EXPECT_EQ(kdtls_error(b), KDTLS_ERR_REMOTE_CLOSED);
	EXPECT_EQ(kdtls_handshake_state(b), KDTLS_HANDSHAKE_NOT_STARTED);
	kdtls_free(a);
	kdtls_free(b);
}

/* A call reads at most KDTLS_READ_BUDGET datagrams; a peer keeps at most
 * KDTLS_MAX_HELD_PEER, the rest is dropped and counted, not silently
 * lost, and what is held stays in order. */
TEST_F(fake, read_bounded_drops_counted)
{
	struct kdtls *a = complete_client(self, 1);
	struct kdtls *b = complete_client(self, 2);
	char buf[32], want[16];
	unsigned int i;

	ASSERT_TRUE(a && b);
	ASSERT_EQ(kdtls_handshake_state(b), KDTLS_HANDSHAKE_COMPLETE);
	script_fd = self->udp;
	for (i = 0; i < KDTLS_READ_BUDGET + 6; i++) {
		snprintf(want, sizeof(want), "b%02u", i);
		script_add(PEER2, 23, false, want, 3);
	}
	script_add(PEER1, 23, false, "a0", 2);
	EXPECT_EQ(kdtls_read_datagram(a, self->udp, buf, sizeof(buf)),
		  -EAGAIN);
	EXPECT_EQ(kdtls_error(a), KDTLS_ERR_TLS_NON_FATAL);
	EXPECT_EQ(script_pos, KDTLS_READ_BUDGET);
	EXPECT_EQ(kdtls_dropped_datagrams(b),
		  KDTLS_READ_BUDGET - KDTLS_MAX_HELD_PEER);
	EXPECT_EQ(kdtls_read_datagram(a, self->udp, buf, sizeof(buf)), 2);
	EXPECT_EQ(memcmp(buf, "a0", 2), 0);
	EXPECT_EQ(kdtls_dropped_datagrams(a), 0);
	EXPECT_EQ(kdtls_dropped_datagrams(b),
		  KDTLS_READ_BUDGET + 6 - KDTLS_MAX_HELD_PEER);
	for (i = 0; i < KDTLS_MAX_HELD_PEER; i++) {
		snprintf(want, sizeof(want), "b%02u", i);
		ASSERT_EQ(kdtls_read_datagram(b, self->udp, buf, sizeof(buf)),
			  3);
		EXPECT_EQ(memcmp(buf, want, 3), 0);
	}
	EXPECT_EQ(kdtls_read_datagram(b, self->udp, buf, sizeof(buf)),
		  -EAGAIN);
	EXPECT_EQ(kdtls_error(b), KDTLS_ERR_NONE);
	/* a stranger's (no object, no listener) is not held: the reader
	 * counts it */
	script_add(0xc0000209, 23, false, "zz", 2);
	EXPECT_EQ(kdtls_read_datagram(a, self->udp, buf, sizeof(buf)),
		  -EAGAIN);
	EXPECT_EQ(a->sock->n_held, 0);
	EXPECT_EQ(kdtls_dropped_datagrams(a), 1);
	EXPECT_EQ(kdtls_dropped_datagrams(NULL), 0);
	kdtls_free(a);
	kdtls_free(b);
}

#define SECRET_PEM	"-----BEGIN PRIVATE KEY-----\n" SECRET_MARK \
			"\n-----END PRIVATE KEY-----\n"

/* No buffer that held the private key goes back to the allocator
 * unwiped: the configuration, the request arguments, the request line. */
/* A receiving socket on 127.0.0.1 with UDP_GRO: one read per GSO send */
static int gro_socket(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t l = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0 || bind(fd, (void *)&sin, sizeof(sin)) ||
	    getsockname(fd, (void *)&sin, &l) ||
	    setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* One send as @fd got it: its length, the segment size in *seg (0 for a
 * plain datagram), or -errno */
static ssize_t gro_read(int fd, void *buf, size_t len, int *seg)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	for (int i = 0; i < 100; i++) {
		n = recvmsg(fd, &mh, 0);
		if (n >= 0 || errno != EAGAIN)
			break;
		usleep(2000);
	}
	if (n < 0)
		return -errno;
	*seg = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO)
			memcpy(seg, CMSG_DATA(cm), sizeof(*seg));
	return n;
}

/*
 * kdtls_write_batch() on the host: no kernel record layer, so the GSO
 * sends reach a UDP_GRO socket as they were made, and show how the library
 * cut the batch: the segment size it chose, the records per send (at most
 * 128 and 65507 bytes sealed), a single record without GSO, and the bad
 * input it refuses without sending.
 */
TEST_F(fake, write_batch_cuts)
{
	/* a batch, as the UDP_GRO socket reads its sends */
	static const struct cut {
		size_t len, seg;
		uint16_t hint;
		size_t sends[2];
		int gso;		/* segment size of each send; 0: none */
	} cuts[] = {
		/* 34 records of 1200: 52 fit a send, so one send */
		{ 40000, 1200, 0, { 40000 }, 1200 },
		/* 130 records of 100: 128, then 2 */
		{ 13000, 100, 0, { 12800, 200 }, 100 },
		/* the default size under an MTU hint: 1000 - 37 */
		{ 3000, 0, 1000, { 3000 }, 963 },
		/* one record: a plain datagram */
		{ 963, 0, 1000, { 963 }, 0 },
	};
	static uint8_t buf[40000], got[70000];
	struct kdtls *d;
	char addr[32];
	uint16_t port;
	int rfd, seg;
	size_t i;

	rfd = gro_socket(&port);
	ASSERT_GE(rfd, 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i * 13 + i / 256;
	ASSERT_EQ(kdtls_new(self->ctx, KDTLS_MODE_CLIENT, &d), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1");
	ASSERT_EQ(kdtls_set_peer_str(d, addr, port, "good.name"), 0);
	EXPECT_EQ(kdtls_write_batch(d, self->udp, buf, 10, 5), -ENOTCONN);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_INVALID_OPERATION);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	for (i = 0; i < 100 && kdtls_handshake_state(d) !=
	     KDTLS_HANDSHAKE_COMPLETE; i++) {
		kdtls_ctx_dispatch(self->ctx);
		usleep(2000);
	}
	ASSERT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	ASSERT_EQ(strcmp(kdtls_session_kernel_cipher(d), "aes-128-gcm"), 0);

	/* loopback's MTU is 65536: the 2^14 cap */
	EXPECT_EQ(kdtls_max_record_payload(d), 16384);
	/* the per-send limits, AES-GCM's 37 bytes per record */
	EXPECT_EQ(kdtls_batch_max(d, 100), 128 * 100);
	EXPECT_EQ(kdtls_batch_max(d, 1200), 52 * 1200);
	EXPECT_EQ(kdtls_batch_max(d, 16384), 3 * 16384);
	EXPECT_EQ(kdtls_batch_max(d, 0), 0);
	EXPECT_EQ(kdtls_batch_max(d, 16385), 0);

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const struct cut *c = &cuts[i];
		size_t off = 0;

		ASSERT_EQ(kdtls_set_mtu_hint(d, c->hint), 0);
		ASSERT_EQ(kdtls_write_batch(d, self->udp, buf, c->len, c->seg),
			  (ssize_t)c->len);
		for (int k = 0; k < 2 && c->sends[k]; k++) {
			ASSERT_EQ(gro_read(rfd, got, sizeof(got), &seg),
				  (ssize_t)c->sends[k]);
			EXPECT_EQ(seg, c->gso);
			EXPECT_EQ(memcmp(got, buf + off, c->sends[k]), 0);
			off += c->sends[k];
		}
	}
	EXPECT_EQ(kdtls_max_record_payload(d), 963);	/* 1000 - 37 */

	/* bad input: refused, nothing sent */
	EXPECT_EQ(kdtls_write_batch(d, self->udp, buf, 1000, 16385),
		  -EMSGSIZE);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_TLS_NON_FATAL);
	EXPECT_EQ(kdtls_write_batch(d, self->udp, buf, 0, 100), -EINVAL);
	EXPECT_EQ(kdtls_write_batch(d, self->udp, NULL, 10, 100), -EINVAL);
	EXPECT_EQ(kdtls_write_batch(d, rfd, buf, 10, 100), -EINVAL);
	EXPECT_EQ(kdtls_error(d), KDTLS_ERR_INVALID_INPUT);
	EXPECT_EQ(kdtls_write_batch(NULL, self->udp, buf, 10, 100), -EINVAL);
	EXPECT_EQ(kdtls_max_record_payload(NULL), -EINVAL);
	EXPECT_EQ(kdtls_batch_max(NULL, 100), 0);
	EXPECT_EQ(gro_read(rfd, got, sizeof(got), &seg), -EAGAIN);
	close(rfd);
	kdtls_free(d);
}

TEST_F(fake, private_key_wiped)
{
	struct kdtls_config cfg;
	struct kdtls *d = client(self, "good.name");
	static char big[20000];

	ASSERT_TRUE(d != NULL);
	secret_armed = true;
	kdtls_config_init(&cfg);
	cfg.key_pem = SECRET_PEM;
	cfg.cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n"
		       "-----END CERTIFICATE-----\n";
	cfg.ca_pem = cfg.cert_pem;	/* the key is not last: appended to */
	cfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	ASSERT_EQ(kdtls_set_configuration(d, &cfg), 0);
	ASSERT_EQ(kdtls_do_handshake(d, self->udp), 0);
	settle(self);
	EXPECT_EQ(kdtls_handshake_state(d), KDTLS_HANDSHAKE_COMPLETE);
	kdtls_free(d);
	EXPECT_EQ(secret_leaks, 0);

	/* a request too large for kdtlsd (-EMSGSIZE) holds the key too:
	 * cert and CA of 20 KB each, percent-encoded past 64 KiB */
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "-----BEGIN ", 11);
	d = client(self, "good.name");
	ASSERT_TRUE(d != NULL);
	cfg.cert_pem = big;
	cfg.ca_pem = big;
	ASSERT_EQ(kdtls_set_configuration(d, &cfg), 0);
	EXPECT_EQ(kdtls_do_handshake(d, self->udp), -EMSGSIZE);
	kdtls_free(d);
	EXPECT_EQ(secret_leaks, 0);
	secret_armed = false;
}

TEST_HARNESS_MAIN
