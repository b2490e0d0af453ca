// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls generic netlink: every operation's success and its rejections.
 * Each rejection must carry a non-empty extack message.  Run as root in the
 * test VM with kdtls.ko loaded.
 */
#include "harness.h"

#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netlink/genl/genl.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

#define SA(s)	((struct sockaddr *)&(s)->addr)

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_nl_init(), 0);
}

/* send @m, expect -@err and a non-empty extack message */
#define EXPECT_REJECT(m, err) do {					\
	char __ext[512];						\
	int __r = kt_nl_raw(m, __ext, sizeof(__ext));			\
	TH_LOG("  -> %d (%s) extack \"%s\" miss-type %d", __r,		\
	       strerror(-__r), __ext, kt_nl_miss_type());		\
	EXPECT_EQ(__r, -(err));						\
	EXPECT_NE(__ext[0], '\0');					\
} while (0)

/* a value outside a policy range: EINVAL or ERANGE (netlink's own) */
#define EXPECT_REJECT_RANGE(m) do {					\
	char __ext[512];						\
	int __r = kt_nl_raw(m, __ext, sizeof(__ext));			\
	TH_LOG("  -> %d (%s) extack \"%s\"", __r, strerror(-__r), __ext); \
	EXPECT_TRUE(__r == -EINVAL || __r == -ERANGE);			\
	EXPECT_NE(__ext[0], '\0');					\
} while (0)

/* any error is accepted where the spec names none; extack still required */
#define EXPECT_REJECT_ANY(m) do {					\
	char __ext[512];						\
	int __r = kt_nl_raw(m, __ext, sizeof(__ext));			\
	TH_LOG("  -> %d (%s) extack \"%s\" miss-type %d", __r,		\
	       strerror(-__r), __ext, kt_nl_miss_type());		\
	EXPECT_LT(__r, 0);						\
	EXPECT_NE(__ext[0], '\0');					\
} while (0)

static struct nl_msg *attach_msg(int fd)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false);

	nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
	return m;
}

/* ---- sock-attach ---- */

TEST(attach_and_get)
{
	struct kt_sock s4, s6;
	struct kt_sock_info i4, i6, all[64];
	uint32_t id4 = 0, id6 = 0;
	int n, k, found = 0;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s4), 0);
	ASSERT_EQ(kt_udp_open(AF_INET6, &s6), 0);
	ASSERT_EQ(kt_attach(s4.fd, 0, &id4), 0);
	ASSERT_EQ(kt_attach_max(s6.fd, 0, 7, &id6), 0);
	ASSERT_NE(id4, 0);
	ASSERT_NE(id6, 0);
	ASSERT_NE(id4, id6);

	ASSERT_EQ(kt_sock_get(s4.fd, &i4), 0);
	EXPECT_EQ(i4.sock_id, id4);
	EXPECT_EQ(i4.family, AF_INET);
	EXPECT_EQ(i4.num_assocs, 0);
	EXPECT_EQ(i4.max_assocs, KDTLS_MAX_ASSOCS_DEFAULT);
	EXPECT_EQ(i4.agent_portid, 0);
	EXPECT_TRUE(i4.seen[KDTLS_A_SOCK_STATS]);
	ASSERT_EQ(kt_sock_get_by_id(id6, &i6), 0);
	EXPECT_EQ(i6.sock_id, id6);
	EXPECT_EQ(i6.family, AF_INET6);
	EXPECT_EQ(i6.max_assocs, 7);

	n = kt_sock_dump(all, 64);
	ASSERT_GE(n, 2);
	for (k = 0; k < n && k < 64; k++)
		found += all[k].sock_id == id4 || all[k].sock_id == id6;
	EXPECT_EQ(found, 2);
	close(s4.fd);
	close(s6.fd);
	/* closing detaches */
	ASSERT_NE(kt_sock_get_by_id(id4, &i4), 0);
}

TEST(attach_agent_flag)
{
	struct kt_sock s;
	struct kt_sock_info i;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_attach(s.fd, KDTLS_SOCK_F_AGENT, NULL), 0);
	ASSERT_EQ(kt_sock_get(s.fd, &i), 0);
	EXPECT_EQ(i.flags, KDTLS_SOCK_F_AGENT);
	EXPECT_NE(i.agent_portid, 0);
	close(s.fd);
}

/* sock-set with the agent flag from a process; returns its exit status */
static int set_agent_in_child(int fd, bool agent)
{
	struct nl_msg *m;
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (kt_nl_init())
			_exit(2);
		m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
		nla_put_u32(m, KDTLS_A_SOCK_FD, fd);
		nla_put_u32(m, KDTLS_A_SOCK_FLAGS, agent ? KDTLS_SOCK_F_AGENT : 0);
		_exit(kt_nl_request(m, NULL, NULL) ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST(sock_set_agent_and_limit)
{
	struct kt_sock s, p;
	struct kt_sock_info i;
	struct kt_key tx, rx;
	struct nl_msg *m;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &p), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);

	TH_LOG("take the socket as agent, then give it up");
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_FLAGS, KDTLS_SOCK_F_AGENT);
	ASSERT_EQ(kt_nl_request(m, NULL, NULL), 0);
	ASSERT_EQ(kt_sock_get(s.fd, &i), 0);
	EXPECT_EQ(i.flags, KDTLS_SOCK_F_AGENT);
	EXPECT_NE(i.agent_portid, 0);
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	ASSERT_EQ(kt_nl_request(m, NULL, NULL), 0);
	ASSERT_EQ(kt_sock_get(s.fd, &i), 0);
	EXPECT_EQ(i.flags, 0);
	EXPECT_EQ(i.agent_portid, 0);

	TH_LOG("an agent whose netlink socket closes is forgotten");
	ASSERT_EQ(set_agent_in_child(s.fd, true), 0);
	ASSERT_EQ(kt_sock_get(s.fd, &i), 0);
	EXPECT_EQ(i.agent_portid, 0);
	EXPECT_EQ(i.flags, 0);

	TH_LOG("max-assocs below the installed associations");
	kt_key_make(&tx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	kt_key_make(&rx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 2);
	ASSERT_EQ(kt_assoc_add(s.fd, SA(&p), KDTLS_CIPHER_AES_128_GCM, &tx,
			       &rx, 0), 0);
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, 1);
	ASSERT_EQ(kt_nl_request(m, NULL, NULL), 0);
	ASSERT_EQ(kt_sock_get(s.fd, &i), 0);
	EXPECT_EQ(i.max_assocs, 1);
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, 1);
	nla_put_u32(m, KDTLS_A_SOCK_FLAGS, 0x80);
	EXPECT_REJECT_ANY(m);
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, 3);
	ASSERT_EQ(kt_nl_request(m, NULL, NULL), 0);
	ASSERT_EQ(kt_assoc_add(s.fd, SA(&s), KDTLS_CIPHER_AES_128_GCM, &tx,
			       &rx, 0), 0);
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, 1);
	EXPECT_REJECT(m, EBUSY);

	TH_LOG("sock-set on an unattached socket");
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, p.fd);
	EXPECT_REJECT(m, ENOENT);
	close(s.fd);
	close(p.fd);
}

TEST(attach_rejections)
{
	struct kt_sock s;
	struct nl_msg *m;
	int fd;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);

	TH_LOG("double attach");
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	EXPECT_REJECT(attach_msg(s.fd), EEXIST);

	TH_LOG("missing sock-fd");
	EXPECT_REJECT(kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false), EINVAL);

	TH_LOG("sock-fd as u8 / u64");
	m = kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false);
	nla_put_u8(m, KDTLS_A_SOCK_FD, 3);
	EXPECT_REJECT(m, EINVAL);
	m = kt_msg_new(KDTLS_CMD_SOCK_ATTACH, false);
	nla_put_u64(m, KDTLS_A_SOCK_FD, 3);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("sock-fd not open");
	EXPECT_REJECT(attach_msg(9999), EBADF);

	TH_LOG("not a socket");
	fd = open("/dev/null", O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_REJECT(attach_msg(fd), ENOTSOCK);
	close(fd);

	TH_LOG("TCP socket");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_REJECT(attach_msg(fd), EPROTONOSUPPORT);
	close(fd);

	TH_LOG("UDP-lite socket");
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	ASSERT_GE(fd, 0);
	EXPECT_REJECT(attach_msg(fd), EPROTONOSUPPORT);
	close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE);
	ASSERT_GE(fd, 0);
	EXPECT_REJECT(attach_msg(fd), EPROTONOSUPPORT);
	close(fd);

	TH_LOG("raw socket");
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	ASSERT_GE(fd, 0);
	EXPECT_REJECT(attach_msg(fd), EPROTONOSUPPORT);
	close(fd);

	TH_LOG("AF_UNIX datagram socket");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_GE(fd, 0);
	EXPECT_REJECT(attach_msg(fd), EPROTONOSUPPORT);
	close(fd);

	close(s.fd);
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);

	TH_LOG("unknown flag bits");
	m = attach_msg(s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_FLAGS, 1u << 5);
	EXPECT_REJECT(m, EINVAL);
	m = attach_msg(s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_FLAGS, ~0u);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("max-assocs 0");
	m = attach_msg(s.fd);
	nla_put_u32(m, KDTLS_A_SOCK_MAX_ASSOCS, 0);
	EXPECT_REJECT_RANGE(m);

	TH_LOG("unknown attribute");
	m = attach_msg(s.fd);
	nla_put_u32(m, KDTLS_A_MAX + 1, 0);
	EXPECT_REJECT(m, EINVAL);

	/* none of the above attached it */
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	close(s.fd);
}

TEST(attach_socket_of_another_user_of_sk_user_data)
{
	struct kt_sock s;
	int espinudp = 2;	/* UDP_ENCAP_ESPINUDP, on every kernel */

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	/* the socket belongs to xfrm now */
	ASSERT_EQ(setsockopt(s.fd, IPPROTO_UDP, 100 /* UDP_ENCAP */,
			     &espinudp, sizeof(espinudp)), 0);
	EXPECT_REJECT(attach_msg(s.fd), EBUSY);
	close(s.fd);
}

/* ---- sock-detach ---- */

TEST(detach)
{
	struct kt_sock s;
	struct kt_sock_info i;
	struct nl_msg *m;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	TH_LOG("detach of an unattached socket");
	m = kt_msg_new(KDTLS_CMD_SOCK_DETACH, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	EXPECT_REJECT_ANY(m);
	TH_LOG("missing sock-fd");
	EXPECT_REJECT(kt_msg_new(KDTLS_CMD_SOCK_DETACH, false), EINVAL);

	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	ASSERT_EQ(kt_detach(s.fd), 0);
	ASSERT_NE(kt_sock_get(s.fd, &i), 0);
	TH_LOG("second detach");
	m = kt_msg_new(KDTLS_CMD_SOCK_DETACH, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	EXPECT_REJECT_ANY(m);
	/* attach again after detach */
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	close(s.fd);
}

TEST(sock_get_rejections)
{
	struct kt_sock s;
	struct nl_msg *m;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	TH_LOG("get of an unattached socket");
	m = kt_msg_new(KDTLS_CMD_SOCK_GET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	EXPECT_REJECT_ANY(m);
	TH_LOG("get of an unknown sock-id");
	m = kt_msg_new(KDTLS_CMD_SOCK_GET, false);
	nla_put_u32(m, KDTLS_A_SOCK_ID, 0xfffffff0);
	EXPECT_REJECT_ANY(m);
	TH_LOG("get with neither sock-fd nor sock-id");
	EXPECT_REJECT_ANY(kt_msg_new(KDTLS_CMD_SOCK_GET, false));
	close(s.fd);
}

/* ---- assoc-add ---- */

enum mut {
	M_NONE, M_NO_FD, M_NO_ADDR, M_NO_PORT, M_PORT_ZERO, M_ADDR4_LEN3,
	M_ADDR4_LEN5, M_ADDR6_LEN15, M_BOTH_ADDRS, M_NO_CIPHER, M_CIPHER_0,
	M_CIPHER_6, M_CIPHER_FFFF, M_CIPHER_U8, M_VERSION_FEFF,
	M_VERSION_0303, M_VERSION_U32, M_NO_TX, M_NO_RX, M_TX_EPOCH0,
	M_RX_EPOCH0, M_TX_NO_KEY, M_TX_NO_SALT, M_RX_NO_KEY, M_RX_NO_SALT,
	M_KEY_SHORT, M_KEY_LONG, M_KEY_33, M_KEY_EMPTY, M_SALT_SHORT,
	M_SALT_LONG, M_SALT_13, M_RX_KEY_SHORT, M_RX_SALT_LONG, M_SEQ_2_48,
	M_EPOCH_U32, M_TX_NOT_NEST, M_NEST_UNKNOWN, M_WINDOW_0,
	M_WINDOW_1025, M_GRACE_BIG, M_MAXPAY_0, M_MAXPAY_BIG, M_UNKNOWN_ATTR,
	M_FD_U16, M_PORT_U32, M_ADDR6_ON_V4, M__MAX,
};

static const char *const mut_names[M__MAX] = {
	"none", "no sock-fd", "no peer address", "no peer-port",
	"peer-port 0", "peer-addr4 of 3 bytes", "peer-addr4 of 5 bytes",
	"peer-addr6 of 15 bytes", "peer-addr4 and peer-addr6", "no cipher",
	"cipher 0 (unspec)", "cipher 6 (unknown)", "cipher 0xffff",
	"cipher as u8", "version 0xfeff (DTLS 1.0)", "version 0x0303 (TLS 1.2)",
	"version as u32", "no assoc-tx", "no assoc-rx", "tx epoch 0",
	"rx epoch 0", "tx without key", "tx without salt", "rx without key",
	"rx without salt", "tx key one byte short", "tx key one byte long",
	"tx key of 33 bytes", "tx key empty", "tx salt one byte short",
	"tx salt one byte long", "tx salt of 13 bytes",
	"rx key one byte short", "rx salt one byte long", "tx seq 2^48",
	"tx epoch as u32", "assoc-tx not nested", "unknown attr in assoc-tx",
	"replay window 0", "replay window 1025", "rx grace 600001 ms",
	"max payload 0", "max payload 16385", "unknown attribute",
	"sock-fd as u16", "peer-port as u32", "IPv6 peer on an IPv4 socket",
};

static struct nl_msg *add_msg(int fd, const struct sockaddr_in *peer,
			      unsigned int cipher, enum mut mu)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_ADD, false);
	struct kt_key tx, rx;
	struct nlattr *n;
	uint8_t a6[16] = { [15] = 1 };

	kt_key_make(&tx, cipher, 1, 0, 1);
	kt_key_make(&rx, cipher, 1, 0, 2);
	if (mu == M_FD_U16)
		nla_put_u16(m, KDTLS_A_SOCK_FD, (uint16_t)fd);
	else if (mu != M_NO_FD)
		nla_put_u32(m, KDTLS_A_SOCK_FD, fd);

	switch (mu) {
	case M_NO_ADDR:
		break;
	case M_ADDR4_LEN3:
		nla_put(m, KDTLS_A_PEER_ADDR4, 3, &peer->sin_addr);
		break;
	case M_ADDR4_LEN5: {
		uint8_t a5[5] = { 127, 0, 0, 1, 0 };

		nla_put(m, KDTLS_A_PEER_ADDR4, 5, a5);
		break;
	}
	case M_ADDR6_LEN15:
		nla_put(m, KDTLS_A_PEER_ADDR6, 15, a6);
		break;
	case M_BOTH_ADDRS:
		nla_put(m, KDTLS_A_PEER_ADDR4, 4, &peer->sin_addr);
		nla_put(m, KDTLS_A_PEER_ADDR6, 16, a6);
		break;
	case M_ADDR6_ON_V4:
		nla_put(m, KDTLS_A_PEER_ADDR6, 16, a6);
		break;
	default:
		nla_put(m, KDTLS_A_PEER_ADDR4, 4, &peer->sin_addr);
	}
	if (mu == M_PORT_ZERO)
		nla_put_u16(m, KDTLS_A_PEER_PORT, 0);
	else if (mu == M_PORT_U32)
		nla_put_u32(m, KDTLS_A_PEER_PORT, peer->sin_port);
	else if (mu != M_NO_PORT)
		nla_put_u16(m, KDTLS_A_PEER_PORT, peer->sin_port);

	if (mu == M_VERSION_FEFF)
		nla_put_u16(m, KDTLS_A_ASSOC_VERSION, 0xfeff);
	else if (mu == M_VERSION_0303)
		nla_put_u16(m, KDTLS_A_ASSOC_VERSION, 0x0303);
	else if (mu == M_VERSION_U32)
		nla_put_u32(m, KDTLS_A_ASSOC_VERSION, 0xfefd);
	else
		nla_put_u16(m, KDTLS_A_ASSOC_VERSION, KDTLS_VERSION_1_2);

	switch (mu) {
	case M_NO_CIPHER: break;
	case M_CIPHER_0: nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, 0); break;
	case M_CIPHER_6: nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, 6); break;
	case M_CIPHER_FFFF: nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, 0xffff); break;
	case M_CIPHER_U8: nla_put_u8(m, KDTLS_A_ASSOC_CIPHER, (uint8_t)cipher); break;
	default: nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, (uint16_t)cipher);
	}

	switch (mu) {
	case M_TX_EPOCH0: tx.epoch = 0; break;
	case M_RX_EPOCH0: rx.epoch = 0; break;
	case M_TX_NO_KEY: tx.key_len = -1; break;
	case M_TX_NO_SALT: tx.salt_len = -1; break;
	case M_RX_NO_KEY: rx.key_len = -1; break;
	case M_RX_NO_SALT: rx.salt_len = -1; break;
	case M_KEY_SHORT: tx.key_len = (int)c->key_len - 1; break;
	case M_KEY_LONG: tx.key_len = (int)c->key_len + 1; break;
	case M_KEY_33: tx.key_len = 33; break;
	case M_KEY_EMPTY: tx.key_len = 0; break;
	case M_SALT_SHORT: tx.salt_len = (int)c->salt_len - 1; break;
	case M_SALT_LONG: tx.salt_len = (int)c->salt_len + 1; break;
	case M_SALT_13: tx.salt_len = 13; break;
	case M_RX_KEY_SHORT: rx.key_len = (int)c->key_len - 1; break;
	case M_RX_SALT_LONG: rx.salt_len = (int)c->salt_len + 1; break;
	case M_SEQ_2_48: tx.seq = 1ULL << 48; break;
	default: break;
	}
	if (mu == M_TX_NOT_NEST) {
		nla_put_u32(m, KDTLS_A_ASSOC_TX, 1);
	} else if (mu == M_EPOCH_U32 || mu == M_NEST_UNKNOWN) {
		n = nla_nest_start(m, KDTLS_A_ASSOC_TX);
		if (mu == M_EPOCH_U32)
			nla_put_u32(m, KDTLS_A_KEY_EPOCH, 1);
		else
			nla_put_u16(m, KDTLS_A_KEY_EPOCH, 1);
		nla_put_u64(m, KDTLS_A_KEY_SEQ, 0);
		nla_put(m, KDTLS_A_KEY_KEY, tx.key_len, tx.key);
		nla_put(m, KDTLS_A_KEY_SALT, tx.salt_len, tx.salt);
		if (mu == M_NEST_UNKNOWN)
			nla_put_u32(m, KDTLS_A_KEY_MAX + 1, 0);
		nla_nest_end(m, n);
	} else if (mu != M_NO_TX) {
		kt_put_key(m, KDTLS_A_ASSOC_TX, &tx);
	}
	if (mu != M_NO_RX)
		kt_put_key(m, KDTLS_A_ASSOC_RX, &rx);

	if (mu == M_WINDOW_0)
		nla_put_u32(m, KDTLS_A_ASSOC_REPLAY_WINDOW, 0);
	if (mu == M_WINDOW_1025)
		nla_put_u32(m, KDTLS_A_ASSOC_REPLAY_WINDOW, 1025);
	if (mu == M_GRACE_BIG)
		nla_put_u32(m, KDTLS_A_ASSOC_RX_GRACE_MS, 600001);
	if (mu == M_MAXPAY_0)
		nla_put_u32(m, KDTLS_A_ASSOC_MAX_PAYLOAD, 0);
	if (mu == M_MAXPAY_BIG)
		nla_put_u32(m, KDTLS_A_ASSOC_MAX_PAYLOAD, 16385);
	if (mu == M_UNKNOWN_ATTR)
		nla_put_u32(m, KDTLS_A_MAX + 1, 0);
	return m;
}

FIXTURE(add) {
	struct kt_sock s;
	struct sockaddr_in peer;
};

FIXTURE_VARIANT(add) {
	unsigned int cipher;
};

FIXTURE_VARIANT_ADD(add, aes_128_gcm) { .cipher = KDTLS_CIPHER_AES_128_GCM };
FIXTURE_VARIANT_ADD(add, aes_256_gcm) { .cipher = KDTLS_CIPHER_AES_256_GCM };
FIXTURE_VARIANT_ADD(add, chacha20_poly1305) { .cipher = KDTLS_CIPHER_CHACHA20_POLY1305 };
FIXTURE_VARIANT_ADD(add, aes_128_ccm) { .cipher = KDTLS_CIPHER_AES_128_CCM };
FIXTURE_VARIANT_ADD(add, aes_128_ccm_8) { .cipher = KDTLS_CIPHER_AES_128_CCM_8 };

FIXTURE_SETUP(add)
{
	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &self->s), 0);
	ASSERT_EQ(kt_attach(self->s.fd, 0, NULL), 0);
	self->peer.sin_family = AF_INET;
	self->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self->peer.sin_port = htons(4433);
}

FIXTURE_TEARDOWN(add)
{
	close(self->s.fd);
}

TEST_F(add, every_rejection)
{
	struct kt_sock_info si;
	int mu;

	for (mu = M_NONE + 1; mu < M__MAX; mu++) {
		TH_LOG("%s", mut_names[mu]);
		EXPECT_REJECT_ANY(add_msg(self->s.fd, &self->peer,
					  variant->cipher, mu));
	}
	ASSERT_EQ(kt_sock_get(self->s.fd, &si), 0);
	EXPECT_EQ(si.num_assocs, 0);
	/* and the unmutated request works */
	ASSERT_EQ(kt_nl_raw(add_msg(self->s.fd, &self->peer, variant->cipher,
				    M_NONE), NULL, 0), 0);
	ASSERT_EQ(kt_sock_get(self->s.fd, &si), 0);
	EXPECT_EQ(si.num_assocs, 1);
}

/* the errno of the rejections the spec pins down */
TEST_F(add, rejection_errnos)
{
	struct kt_sock u;

	TH_LOG("unknown cipher");
	EXPECT_REJECT_RANGE(add_msg(self->s.fd, &self->peer, variant->cipher,
				    M_CIPHER_6));
	TH_LOG("wrong key size");
	EXPECT_REJECT(add_msg(self->s.fd, &self->peer, variant->cipher,
			      M_KEY_SHORT), EINVAL);
	TH_LOG("wrong salt size");
	EXPECT_REJECT(add_msg(self->s.fd, &self->peer, variant->cipher,
			      M_SALT_SHORT), EINVAL);
	TH_LOG("version 0xfeff");
	EXPECT_REJECT_ANY(add_msg(self->s.fd, &self->peer, variant->cipher,
				  M_VERSION_FEFF));
	TH_LOG("epoch 0");
	EXPECT_REJECT_RANGE(add_msg(self->s.fd, &self->peer, variant->cipher,
				    M_TX_EPOCH0));
	EXPECT_REJECT_RANGE(add_msg(self->s.fd, &self->peer, variant->cipher,
				    M_RX_EPOCH0));
	TH_LOG("duplicate");
	ASSERT_EQ(kt_nl_raw(add_msg(self->s.fd, &self->peer, variant->cipher,
				    M_NONE), NULL, 0), 0);
	EXPECT_REJECT(add_msg(self->s.fd, &self->peer, variant->cipher,
			      M_NONE), EEXIST);
	TH_LOG("unattached socket");
	ASSERT_EQ(kt_udp_open(AF_INET, &u), 0);
	EXPECT_REJECT_ANY(add_msg(u.fd, &self->peer, variant->cipher, M_NONE));
	close(u.fd);
}

TEST(assoc_add_enospc)
{
	struct kt_sock s;
	struct sockaddr_in p = { .sin_family = AF_INET };
	struct kt_key k;
	struct nl_msg *m;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_attach_max(s.fd, 0, 2, NULL), 0);
	kt_key_make(&k, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	p.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.sin_port = htons(1000);
	ASSERT_EQ(kt_assoc_add(s.fd, (void *)&p, KDTLS_CIPHER_AES_128_GCM, &k,
			       &k, 0), 0);
	p.sin_port = htons(1001);
	ASSERT_EQ(kt_assoc_add(s.fd, (void *)&p, KDTLS_CIPHER_AES_128_GCM, &k,
			       &k, 0), 0);
	p.sin_port = htons(1002);
	m = kt_msg_new(KDTLS_CMD_ASSOC_ADD, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	nla_put_u16(m, KDTLS_A_ASSOC_VERSION, KDTLS_VERSION_1_2);
	nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, KDTLS_CIPHER_AES_128_GCM);
	kt_put_key(m, KDTLS_A_ASSOC_TX, &k);
	kt_put_key(m, KDTLS_A_ASSOC_RX, &k);
	EXPECT_REJECT(m, ENOSPC);
	/* deleting one makes room */
	p.sin_port = htons(1000);
	ASSERT_EQ(kt_assoc_del(s.fd, (void *)&p), 0);
	p.sin_port = htons(1002);
	ASSERT_EQ(kt_assoc_add(s.fd, (void *)&p, KDTLS_CIPHER_AES_128_GCM, &k,
			       &k, 0), 0);
	close(s.fd);
}

/* ---- assoc-get: fields, and never a key ---- */

struct keyscan {
	const uint8_t *key;
	int key_len;
	const uint8_t *salt;
	int salt_len;
	int hits, msgs;
};

static int keyscan_cb(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct keyscan *k = arg;

	(void)tb;
	k->msgs++;
	if (kt_contains(nlmsg_data(nlh), nlmsg_datalen(nlh), k->key,
			k->key_len))
		k->hits++;
	if (kt_contains(nlmsg_data(nlh), nlmsg_datalen(nlh), k->salt,
			k->salt_len))
		k->hits++;
	return 0;
}

TEST(assoc_get_fields_and_no_keys)
{
	struct kt_sock s4, s6;
	struct kt_key tx, rx;
	struct kt_assoc_opts o = { .window = 100, .max_payload = 1200 };
	struct sockaddr_in6 p6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(5555),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in p4 = { .sin_family = AF_INET,
				  .sin_port = htons(4444) };
	struct kt_assoc_info ai, all[8];
	struct keyscan ks;
	struct nl_msg *m;
	int n, i;

	need_root();
	p4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(kt_udp_open(AF_INET, &s4), 0);
	ASSERT_EQ(kt_udp_open(AF_INET6, &s6), 0);
	ASSERT_EQ(kt_attach(s4.fd, 0, NULL), 0);
	ASSERT_EQ(kt_attach(s6.fd, 0, NULL), 0);
	kt_key_make(&tx, KDTLS_CIPHER_CHACHA20_POLY1305, 3, 77, 0x11);
	kt_key_make(&rx, KDTLS_CIPHER_CHACHA20_POLY1305, 2, 5, 0x22);
	ASSERT_EQ(kt_assoc_add_ex(s4.fd, (void *)&p4,
				  KDTLS_CIPHER_CHACHA20_POLY1305, &tx, &rx, &o),
		  0);
	ASSERT_EQ(kt_assoc_add(s6.fd, (void *)&p6, KDTLS_CIPHER_AES_256_GCM,
			       &tx, &rx, 0), -EINVAL);	/* salt 12 for GCM */
	kt_key_make(&tx, KDTLS_CIPHER_AES_256_GCM, 3, 77, 0x11);
	kt_key_make(&rx, KDTLS_CIPHER_AES_256_GCM, 2, 5, 0x22);
	ASSERT_EQ(kt_assoc_add(s6.fd, (void *)&p6, KDTLS_CIPHER_AES_256_GCM,
			       &tx, &rx, 0), 0);

	ASSERT_EQ(kt_assoc_get(s4.fd, (void *)&p4, &ai), 0);
	EXPECT_EQ(ai.version, KDTLS_VERSION_1_2);
	EXPECT_EQ(ai.cipher, KDTLS_CIPHER_CHACHA20_POLY1305);
	EXPECT_EQ(ai.tx_epoch, 3);
	EXPECT_EQ(ai.tx_seq, 77);
	EXPECT_EQ(ai.rx_epoch, 2);
	EXPECT_EQ(ai.rx_seq, 5);
	EXPECT_EQ(ai.window, 128);	/* rounded up to a multiple of 64 */
	EXPECT_EQ(ai.grace_ms, KDTLS_RX_GRACE_MS_DEFAULT);
	EXPECT_EQ(ai.max_payload, 1200);
	EXPECT_TRUE(ai.seen[KDTLS_A_ASSOC_STATS]);
	EXPECT_TRUE(ai.seen[KDTLS_A_SOCK_ID]);
	EXPECT_TRUE(kt_addr_eq((void *)&ai.peer, (void *)&p4));
	EXPECT_EQ(ai.key_attrs, 0);

	ASSERT_EQ(kt_assoc_get(s6.fd, (void *)&p6, &ai), 0);
	EXPECT_EQ(ai.cipher, KDTLS_CIPHER_AES_256_GCM);
	EXPECT_EQ(ai.window, KDTLS_REPLAY_WINDOW_DEFAULT);
	EXPECT_EQ(ai.max_payload, KDTLS_MAX_PLAINTEXT);
	EXPECT_TRUE(kt_addr_eq((void *)&ai.peer, (void *)&p6));
	EXPECT_EQ(ai.key_attrs, 0);

	/* dump */
	p4.sin_port = htons(4445);
	kt_key_make(&tx, KDTLS_CIPHER_CHACHA20_POLY1305, 3, 77, 0x11);
	kt_key_make(&rx, KDTLS_CIPHER_CHACHA20_POLY1305, 2, 5, 0x22);
	ASSERT_EQ(kt_assoc_add(s4.fd, (void *)&p4,
			       KDTLS_CIPHER_CHACHA20_POLY1305, &tx, &rx, 0), 0);
	n = kt_assoc_dump(s4.fd, all, 8);
	ASSERT_EQ(n, 2);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(all[i].key_attrs, 0);
		EXPECT_EQ(all[i].cipher, KDTLS_CIPHER_CHACHA20_POLY1305);
	}

	/* the key and salt bytes appear nowhere in get or dump replies */
	memset(&ks, 0, sizeof(ks));
	ks.key = tx.key;
	ks.key_len = (int)sizeof(tx.key);
	ks.salt = tx.salt;
	ks.salt_len = 12;
	m = kt_msg_new(KDTLS_CMD_ASSOC_GET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s4.fd);
	kt_put_peer(m, (void *)&p4, false);
	ASSERT_EQ(kt_nl_request(m, keyscan_cb, &ks), 0);
	m = kt_msg_new(KDTLS_CMD_ASSOC_GET, true);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s4.fd);
	ASSERT_EQ(kt_nl_request(m, keyscan_cb, &ks), 0);
	ks.key = rx.key;
	ks.salt = rx.salt;
	m = kt_msg_new(KDTLS_CMD_ASSOC_GET, true);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s4.fd);
	ASSERT_EQ(kt_nl_request(m, keyscan_cb, &ks), 0);
	m = kt_msg_new(KDTLS_CMD_SOCK_GET, true);
	ASSERT_EQ(kt_nl_request(m, keyscan_cb, &ks), 0);
	EXPECT_GE(ks.msgs, 5);
	EXPECT_EQ(ks.hits, 0);

	/* get of a missing peer */
	TH_LOG("get of a missing association");
	p4.sin_port = htons(9);
	m = kt_msg_new(KDTLS_CMD_ASSOC_GET, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s4.fd);
	kt_put_peer(m, (void *)&p4, false);
	EXPECT_REJECT(m, ENOENT);
	close(s4.fd);
	close(s6.fd);
}

/* ---- assoc-del ---- */

TEST(assoc_del)
{
	struct kt_sock s, u;
	struct sockaddr_in p = { .sin_family = AF_INET,
				 .sin_port = htons(4444) };
	struct kt_key k;
	struct nl_msg *m;

	need_root();
	p.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	kt_key_make(&k, KDTLS_CIPHER_AES_128_CCM, 1, 0, 1);
	ASSERT_EQ(kt_assoc_add(s.fd, (void *)&p, KDTLS_CIPHER_AES_128_CCM, &k,
			       &k, 0), 0);
	ASSERT_EQ(kt_assoc_del(s.fd, (void *)&p), 0);

	TH_LOG("del of a missing association");
	m = kt_msg_new(KDTLS_CMD_ASSOC_DEL, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	EXPECT_REJECT(m, ENOENT);

	TH_LOG("del without a peer");
	m = kt_msg_new(KDTLS_CMD_ASSOC_DEL, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("del without sock-fd");
	m = kt_msg_new(KDTLS_CMD_ASSOC_DEL, false);
	kt_put_peer(m, (void *)&p, false);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("del on an unattached socket");
	ASSERT_EQ(kt_udp_open(AF_INET, &u), 0);
	m = kt_msg_new(KDTLS_CMD_ASSOC_DEL, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, u.fd);
	kt_put_peer(m, (void *)&p, false);
	EXPECT_REJECT_ANY(m);
	close(u.fd);
	close(s.fd);
}

/* ---- assoc-rekey ---- */

TEST(assoc_rekey)
{
	struct kt_sock s;
	struct sockaddr_in p = { .sin_family = AF_INET,
				 .sin_port = htons(4444) };
	struct kt_key tx, rx, t2, r2;
	struct kt_assoc_info ai;
	struct nl_msg *m;

	need_root();
	p.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	kt_key_make(&tx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	kt_key_make(&rx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 2);
	ASSERT_EQ(kt_assoc_add(s.fd, (void *)&p, KDTLS_CIPHER_AES_128_GCM,
			       &tx, &rx, 0), 0);

	kt_key_make(&t2, KDTLS_CIPHER_AES_128_GCM, 2, 0, 3);
	kt_key_make(&r2, KDTLS_CIPHER_AES_128_GCM, 2, 0, 4);
	ASSERT_EQ(kt_rekey(s.fd, (void *)&p, &t2, NULL), 0);
	ASSERT_EQ(kt_rekey(s.fd, (void *)&p, NULL, &r2), 0);
	ASSERT_EQ(kt_assoc_get(s.fd, (void *)&p, &ai), 0);
	EXPECT_EQ(ai.tx_epoch, 2);
	EXPECT_EQ(ai.rx_epoch, 2);
	EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_TX], 1);
	EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_RX], 1);
	t2.epoch = 3;
	r2.epoch = 3;
	ASSERT_EQ(kt_rekey(s.fd, (void *)&p, &t2, &r2), 0);
	ASSERT_EQ(kt_assoc_get(s.fd, (void *)&p, &ai), 0);
	EXPECT_EQ(ai.tx_epoch, 3);
	EXPECT_EQ(ai.rx_epoch, 3);
	EXPECT_EQ(ai.key_attrs, 0);

	TH_LOG("rekey with neither tx nor rx");
	m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("tx epoch not greater");
	m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	kt_put_key(m, KDTLS_A_ASSOC_TX, &t2);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("wrong key size");
	t2.epoch = 4;
	t2.key_len = 15;
	m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	kt_put_key(m, KDTLS_A_ASSOC_TX, &t2);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("wrong salt size");
	t2.key_len = 16;
	t2.salt_len = 12;
	m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	kt_put_key(m, KDTLS_A_ASSOC_TX, &t2);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("rekey of a missing association");
	t2.salt_len = 4;
	p.sin_port = htons(4);
	m = kt_msg_new(KDTLS_CMD_ASSOC_REKEY, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, s.fd);
	kt_put_peer(m, (void *)&p, false);
	kt_put_key(m, KDTLS_A_ASSOC_TX, &t2);
	EXPECT_REJECT(m, ENOENT);
	close(s.fd);
}

/* ---- record-send ---- */

TEST(record_send)
{
	struct kt_sock a, r;
	struct kt_key tx, rx;
	uint8_t hello[40], wire[512], pt[512];
	struct kt_rec h;
	struct nl_msg *m;
	ssize_t n;
	static uint8_t big[16385];

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &a), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &r), 0);
	ASSERT_EQ(kt_attach(a.fd, 0, NULL), 0);
	kt_key_make(&tx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	kt_key_make(&rx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 2);
	ASSERT_EQ(kt_assoc_add(a.fd, SA(&r), KDTLS_CIPHER_AES_128_GCM, &tx,
			       &rx, 0), 0);

	/* sealed alert: epoch 1, seq 0 */
	ASSERT_EQ(kt_record_send(a.fd, SA(&r), KDTLS_CT_ALERT,
				 KDTLS_RECORD_F_SEAL, "\x01\x00", 2), 0);
	n = kt_recv_timeout(r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(n, KT_HDR_LEN + 8 + 2 + 16);
	ASSERT_EQ(kt_evp_open(KDTLS_CIPHER_AES_128_GCM, tx.key, tx.salt, wire,
			      n, &h, pt, sizeof(pt)), 2);
	EXPECT_EQ(h.type, KDTLS_CT_ALERT);
	EXPECT_EQ(h.epoch, 1);
	EXPECT_EQ(h.seq, 0);
	EXPECT_MEMEQ(pt, "\x01\x00", 2);
	/* the next data record continues the sequence: no nonce reuse */
	ASSERT_EQ(sendto(a.fd, "data", 4, 0, SA(&r), r.alen), 4);
	n = kt_recv_timeout(r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(kt_evp_open(KDTLS_CIPHER_AES_128_GCM, tx.key, tx.salt, wire,
			      n, &h, pt, sizeof(pt)), 4);
	EXPECT_EQ(h.seq, 1);
	/* a sealed handshake record (e.g. a retransmitted Finished) */
	ASSERT_EQ(kt_record_send(a.fd, SA(&r), KDTLS_CT_HANDSHAKE,
				 KDTLS_RECORD_F_SEAL, "finished", 8), 0);
	n = kt_recv_timeout(r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(kt_evp_open(KDTLS_CIPHER_AES_128_GCM, tx.key, tx.salt, wire,
			      n, &h, pt, sizeof(pt)), 8);
	EXPECT_EQ(h.type, KDTLS_CT_HANDSHAKE);
	EXPECT_EQ(h.seq, 2);

	/* verbatim epoch-0 record */
	kt_hdr_put(hello, KDTLS_CT_HANDSHAKE, 0xfefd, 0, 9, 27);
	memset(hello + 13, 0x42, 27);
	ASSERT_EQ(kt_record_send(a.fd, SA(&r), KDTLS_CT_HANDSHAKE, 0, hello,
				 40), 0);
	n = kt_recv_timeout(r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(n, 40);
	ASSERT_MEMEQ(wire, hello, 40);

	TH_LOG("verbatim epoch-1 record");
	kt_hdr_put(hello, KDTLS_CT_APPLICATION_DATA, 0xfefd, 1, 9, 27);
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, 23);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, 0);
	nla_put(m, KDTLS_A_RECORD_DATA, 40, hello);
	EXPECT_REJECT_ANY(m);

	TH_LOG("verbatim epoch-1 record to a peer without association: sent");
	{
		struct kt_sock r2;

		ASSERT_EQ(kt_udp_open(AF_INET, &r2), 0);
		ASSERT_EQ(kt_record_send(a.fd, SA(&r2), KDTLS_CT_HANDSHAKE, 0,
					 hello, 40), 0);
		n = kt_recv_timeout(r2.fd, wire, sizeof(wire), 2000);
		ASSERT_EQ(n, 40);
		ASSERT_MEMEQ(wire, hello, 40);
		close(r2.fd);
	}

	TH_LOG("verbatim garbage (not a record)");
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, 22);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, 0);
	nla_put(m, KDTLS_A_RECORD_DATA, 5, "plain");
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("unknown record flags");
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, 21);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, 1u << 7);
	nla_put(m, KDTLS_A_RECORD_DATA, 2, "\x01\x00");
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("record-data over 16384 bytes");
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, 21);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, KDTLS_RECORD_F_SEAL);
	ASSERT_EQ(nla_put(m, KDTLS_A_RECORD_DATA, sizeof(big), big), 0);
	EXPECT_REJECT_RANGE(m);

	TH_LOG("missing record-data");
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u8(m, KDTLS_A_RECORD_TYPE, 21);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, KDTLS_RECORD_F_SEAL);
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("record-type as u32");
	m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
	nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
	kt_put_peer(m, SA(&r), false);
	nla_put_u32(m, KDTLS_A_RECORD_TYPE, 21);
	nla_put_u32(m, KDTLS_A_RECORD_FLAGS, KDTLS_RECORD_F_SEAL);
	nla_put(m, KDTLS_A_RECORD_DATA, 2, "\x01\x00");
	EXPECT_REJECT(m, EINVAL);

	TH_LOG("sealed send to a peer without association");
	{
		struct sockaddr_in p = *(struct sockaddr_in *)&r.addr;

		p.sin_port = htons(ntohs(p.sin_port) ^ 1);
		m = kt_msg_new(KDTLS_CMD_RECORD_SEND, false);
		nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
		kt_put_peer(m, (void *)&p, false);
		nla_put_u8(m, KDTLS_A_RECORD_TYPE, 21);
		nla_put_u32(m, KDTLS_A_RECORD_FLAGS, KDTLS_RECORD_F_SEAL);
		nla_put(m, KDTLS_A_RECORD_DATA, 2, "\x01\x00");
		EXPECT_REJECT_ANY(m);
	}
	/* none of the rejected sends reached the wire */
	ASSERT_EQ(kt_recv_nb(r.fd, wire, sizeof(wire)), -EAGAIN);
	close(a.fd);
	close(r.fd);
}

/* ---- permissions ---- */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* net.kdtls.max_assocs bounds all sockets of a namespace together */
TEST(namespace_association_limit)
{
	pid_t pid;
	int status;

	need_root();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct kt_sock a, b, p1, p2, p3;
		struct kt_key tx, rx;
		struct nl_msg *m;

		ASSERT_EQ(unshare(CLONE_NEWNET), 0);
		ASSERT_EQ(system("ip link set lo up"), 0);
		ASSERT_EQ(write_file("/proc/sys/net/kdtls/max_assocs", "2"), 0);
		ASSERT_EQ(kt_nl_init(), 0);
		ASSERT_EQ(kt_udp_open(AF_INET, &a), 0);
		ASSERT_EQ(kt_udp_open(AF_INET, &b), 0);
		ASSERT_EQ(kt_udp_open(AF_INET, &p1), 0);
		ASSERT_EQ(kt_udp_open(AF_INET, &p2), 0);
		ASSERT_EQ(kt_udp_open(AF_INET, &p3), 0);
		ASSERT_EQ(kt_attach(a.fd, 0, NULL), 0);
		ASSERT_EQ(kt_attach(b.fd, 0, NULL), 0);
		kt_key_make(&tx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
		kt_key_make(&rx, KDTLS_CIPHER_AES_128_GCM, 1, 0, 2);
		ASSERT_EQ(kt_assoc_add(a.fd, SA(&p1), KDTLS_CIPHER_AES_128_GCM,
				       &tx, &rx, 0), 0);
		ASSERT_EQ(kt_assoc_add(b.fd, SA(&p2), KDTLS_CIPHER_AES_128_GCM,
				       &tx, &rx, 0), 0);
		TH_LOG("a third association in the namespace");
		m = kt_msg_new(KDTLS_CMD_ASSOC_ADD, false);
		nla_put_u32(m, KDTLS_A_SOCK_FD, a.fd);
		kt_put_peer(m, SA(&p3), false);
		nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, KDTLS_CIPHER_AES_128_GCM);
		kt_put_key(m, KDTLS_A_ASSOC_TX, &tx);
		kt_put_key(m, KDTLS_A_ASSOC_RX, &rx);
		EXPECT_REJECT(m, ENOSPC);
		TH_LOG("deleting one makes room; closing a socket too");
		ASSERT_EQ(kt_assoc_del(b.fd, SA(&p2)), 0);
		ASSERT_EQ(kt_assoc_add(a.fd, SA(&p3), KDTLS_CIPHER_AES_128_GCM,
				       &tx, &rx, 0), 0);
		EXPECT_NE(kt_assoc_add(b.fd, SA(&p2), KDTLS_CIPHER_AES_128_GCM,
				       &tx, &rx, 0), 0);
		close(a.fd);
		ASSERT_EQ(kt_assoc_add(b.fd, SA(&p2), KDTLS_CIPHER_AES_128_GCM,
				       &tx, &rx, 0), 0);
		EXPECT_EQ(write_file("/proc/sys/net/kdtls/max_assocs", "0"),
			  -EINVAL);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

/*
 * A user namespace gives CAP_NET_ADMIN over itself only: not over the
 * initial network namespace (genetlink refuses), and not over a socket of
 * the initial namespace even from a namespace of its own (kdtls refuses).
 */
TEST(user_namespace_cannot_touch_outside_sockets)
{
	struct kt_sock s, t;
	struct kt_key k;
	pid_t pid;
	int status, i;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &t), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	kt_key_make(&k, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);

	for (i = 0; i < 2; i++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			struct kt_sock own;
			int flags = CLONE_NEWUSER | (i ? CLONE_NEWNET : 0);

			if (kt_drop_to_nobody())
				_exit(2);
			ASSERT_EQ(unshare(flags), 0);
			ASSERT_EQ(kt_nl_init(), 0);
			TH_LOG("user namespace%s", i ? " + network namespace" : "");
			EXPECT_EQ(kt_attach(t.fd, 0, NULL), -EPERM);
			EXPECT_EQ(kt_assoc_add(s.fd, SA(&t),
					       KDTLS_CIPHER_AES_128_GCM, &k, &k,
					       0), -EPERM);
			EXPECT_EQ(kt_detach(s.fd), -EPERM);
			if (i) {
				/*
				 * its own sockets are its own business (unbound:
				 * lo is down in a new namespace)
				 */
				own.fd = socket(AF_INET, SOCK_DGRAM, 0);
				ASSERT_GE(own.fd, 0);
				EXPECT_EQ(kt_attach(own.fd, 0, NULL), 0);
			}
			_exit(0);
		}
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(WEXITSTATUS(status), 0);
	}
	close(s.fd);
	close(t.fd);
}

TEST(unprivileged_gets_eperm)
{
	struct kt_sock s, t;
	struct kt_key k;
	pid_t pid;
	int status;

	need_root();
	ASSERT_EQ(kt_udp_open(AF_INET, &s), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &t), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, NULL), 0);
	kt_key_make(&k, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	ASSERT_EQ(kt_assoc_add(s.fd, SA(&t), KDTLS_CIPHER_AES_128_GCM, &k, &k,
			       0), 0);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct kt_sock_info si;
		struct kt_assoc_info ai;
		struct kt_key k2;

		if (kt_drop_to_nobody()) {
			TH_LOG("cannot drop privileges");
			_exit(2);
		}
		kt_key_make(&k2, KDTLS_CIPHER_AES_128_GCM, 2, 0, 2);
		EXPECT_EQ(kt_attach(t.fd, 0, NULL), -EPERM);
		EXPECT_EQ(kt_detach(s.fd), -EPERM);
		EXPECT_EQ(kt_assoc_add(s.fd, SA(&s), KDTLS_CIPHER_AES_128_GCM,
				       &k, &k, 0), -EPERM);
		EXPECT_EQ(kt_assoc_del(s.fd, SA(&t)), -EPERM);
		EXPECT_EQ(kt_rekey(s.fd, SA(&t), &k2, NULL), -EPERM);
		EXPECT_EQ(kt_record_send(s.fd, SA(&t), 21,
					 KDTLS_RECORD_F_SEAL, "\x01\x00", 2),
			  -EPERM);
		/* getters need no privilege, and still return no keys */
		EXPECT_EQ(kt_sock_get(s.fd, &si), 0);
		EXPECT_EQ(kt_assoc_get(s.fd, SA(&t), &ai), 0);
		EXPECT_EQ(ai.key_attrs, 0);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	/* nothing changed */
	{
		struct kt_assoc_info ai;

		ASSERT_EQ(kt_assoc_get(s.fd, SA(&t), &ai), 0);
		EXPECT_EQ(ai.tx_epoch, 1);
	}
	close(s.fd);
	close(t.fd);
}

/* ---- operations that do not exist ---- */

TEST(unknown_command)
{
	struct nl_msg *m;
	char ext[256];
	int r;

	need_root();
	m = kt_msg_new(KDTLS_CMD_RECORD, false);	/* notification only */
	r = kt_nl_raw(m, ext, sizeof(ext));
	TH_LOG("notification command as request: %d (%s)", r, strerror(-r));
	EXPECT_LT(r, 0);
	m = kt_msg_new(__KDTLS_CMD_MAX + 3, false);
	r = kt_nl_raw(m, ext, sizeof(ext));
	EXPECT_LT(r, 0);
}

TEST_HARNESS_MAIN
