// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink fuzzer: malformed requests to every operation of the kdtls
 * generic netlink family, on a raw NETLINK_GENERIC socket.
 *
 * One test per operation (sock-attach ... record-send, and the dumps of
 * sock-get and assoc-get) sends KDTLS_FUZZ_NL_MESSAGES (default 100000)
 * requests for that command, and one more test ("any") as many with a
 * random command (unknown ones, notification commands), bad generic netlink
 * versions and reserved bytes, wrong nlmsg types and flags, and truncated
 * or overlong netlink headers.  Requests carry random attributes: the
 * right ones with the right types (so that some go deep, e.g. a real
 * assoc-add on an attached socket), wrong lengths, wrong types, unknown
 * types, NLA_F_NESTED/NLA_F_NET_BYTEORDER bits, and nests (assoc-tx/-rx,
 * stats) of garbage.  sock-fd is taken from a small pool: UDP sockets (v4,
 * v6, attached or not, with associations or not), a TCP socket, a netlink
 * socket, /dev/null, a closed descriptor, 0xffffffff.
 *
 * Checked: every request that asks for an answer (a well-formed netlink
 * header with NLM_F_REQUEST and NLM_F_ACK, or a dump) gets one within 5 s,
 * and it is an error code in [-4095, 0] or replies ended by an ack or
 * NLMSG_DONE; no kernel report (HARNESS_CHECK_DMESG); afterwards the state
 * is consistent: the sock-get dump lists exactly the pool sockets a
 * sock-get by fd finds attached, with distinct ids, each socket's
 * sock-num-assocs equals its assoc-get dump, closing the pool empties the
 * dump, and a fresh socket pair still passes a record.
 *
 * Runs in its own network namespace.  KDTLS_FUZZ_SEED seeds it (printed).
 * Prints "# figure: netlink-messages-fuzzed N".
 */
#include "harness.h"

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)		((struct sockaddr *)&(s)->addr)
#define MSG_CAP		(20 * 1024)
#define NPOOL_UDP	6

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static uint64_t fuzz_seed(void)
{
	const char *s = getenv("KDTLS_FUZZ_SEED");
	static uint64_t seed;
	struct timespec ts;

	if (seed)
		return seed;
	if (s && *s) {
		seed = strtoull(s, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)getpid() << 32;
	}
	return seed ? seed : 1;
}

static uint64_t fuzz_count(void)
{
	const char *s = getenv("KDTLS_FUZZ_NL_MESSAGES");

	return s && *s ? strtoull(s, NULL, 0) : 100000;
}

static int netns_fresh(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return 0;
}

/* ---- the pool of descriptors and peers ------------------------------ */

struct pool {
	struct kt_sock udp[NPOOL_UDP];	/* even: AF_INET, odd: AF_INET6 */
	struct kt_sock sink4, sink6;	/* peers that exist */
	int tcp, nl, devnull, closed;
	int fds[NPOOL_UDP + 5];
	int nfds;
};

static struct pool P;

static void pool_setup(void)
{
	int i, cipher;

	for (i = 0; i < NPOOL_UDP; i++)
		ASSERT_EQ(kt_udp_open(i & 1 ? AF_INET6 : AF_INET, &P.udp[i]), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &P.sink4), 0);
	ASSERT_EQ(kt_udp_open(AF_INET6, &P.sink6), 0);
	P.tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	P.nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	P.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	P.closed = dup(P.devnull);
	close(P.closed);
	P.nfds = 0;
	for (i = 0; i < NPOOL_UDP; i++)
		P.fds[P.nfds++] = P.udp[i].fd;
	P.fds[P.nfds++] = P.tcp;
	P.fds[P.nfds++] = P.nl;
	P.fds[P.nfds++] = P.devnull;
	P.fds[P.nfds++] = P.closed;
	P.fds[P.nfds++] = -1;
	/* half of the UDP sockets attached, some with associations, so that
	 * requests find something to work on */
	for (i = 0; i < NPOOL_UDP; i += 2) {
		struct kt_key tx, rx;

		ASSERT_EQ(kt_attach(P.udp[i].fd, 0, NULL), 0);
		cipher = 1 + i % 5;
		kt_key_make(&tx, cipher, 1, 0, 1);
		kt_key_make(&rx, cipher, 1, 0, 2);
		ASSERT_EQ(kt_assoc_add(P.udp[i].fd, SA(i & 1 ? &P.sink6 : &P.sink4),
				       cipher, &tx, &rx, 64), 0);
	}
}

/* ---- building requests ---------------------------------------------- */

struct buf {
	uint8_t d[MSG_CAP];
	size_t len;
};

static bool room(struct buf *b, size_t n)
{
	return b->len + NLA_ALIGN(n) + NLA_HDRLEN <= MSG_CAP;
}

static void put_attr(struct buf *b, uint16_t type, const void *p, size_t len)
{
	struct nlattr *a;

	if (!room(b, len))
		return;
	a = (void *)(b->d + b->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, p, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	b->len += NLA_HDRLEN + NLA_ALIGN(len);
}

static void rand_bytes(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* a wrong or random length for an attribute whose right length is @ok */
static size_t bad_len(size_t ok)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15,
				       16, 17, 31, 32, 33, 64, 300 };
	size_t l;

	do
		l = lens[rn(sizeof(lens) / sizeof(lens[0]))];
	while (l == ok && rn(4));
	return l;
}

static void put_key_nest(struct buf *b, uint16_t type, bool sane)
{
	size_t start = b->len, n, k;
	uint8_t v[512];

	if (!room(b, 200))
		return;
	put_attr(b, type | (rn(8) ? NLA_F_NESTED : 0), NULL, 0);
	for (n = rn(6); n; n--) {
		uint16_t t = (uint16_t)(sane ? 1 + rn(4) : rn(8));

		switch (t) {
		case KDTLS_A_KEY_EPOCH: {
			uint16_t e = (uint16_t)(rn(3) ? 1 + rn(4) : rnd());

			if (sane || rn(2))
				put_attr(b, t, &e, 2);
			else
				goto garbage;
			break;
		}
		case KDTLS_A_KEY_SEQ: {
			uint64_t s = rn(2) ? rn(100) : rnd();

			if (sane || rn(2))
				put_attr(b, t, &s, 8);
			else
				goto garbage;
			break;
		}
		case KDTLS_A_KEY_KEY:
		case KDTLS_A_KEY_SALT:
			k = sane ? (t == KDTLS_A_KEY_KEY ?
				    (rn(2) ? 16 : 32) : (rn(2) ? 4 : 12)) :
			    bad_len(0);
			rand_bytes(v, k);
			put_attr(b, t, v, k);
			break;
		default:
garbage:
			k = bad_len(0);
			rand_bytes(v, k);
			put_attr(b, t | (rn(16) ? 0 : NLA_F_NESTED), v, k);
			break;
		}
	}
	((struct nlattr *)(b->d + start))->nla_len = (uint16_t)(b->len - start);
}

/* a key nest exactly right for @cipher */
static void put_good_key(struct buf *b, uint16_t type, unsigned int cipher)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	size_t start = b->len;
	uint16_t e = (uint16_t)(1 + rn(4));
	uint64_t seq = rn(2) ? 0 : rn(1000);
	uint8_t v[32];

	if (!c || !room(b, 100))
		return;
	put_attr(b, type | NLA_F_NESTED, NULL, 0);
	put_attr(b, KDTLS_A_KEY_EPOCH, &e, 2);
	if (rn(2))
		put_attr(b, KDTLS_A_KEY_SEQ, &seq, 8);
	rand_bytes(v, sizeof(v));
	put_attr(b, KDTLS_A_KEY_KEY, v, c->key_len);
	put_attr(b, KDTLS_A_KEY_SALT, v, c->salt_len);
	((struct nlattr *)(b->d + start))->nla_len = (uint16_t)(b->len - start);
}

static void put_peer(struct buf *b, int i)
{
	struct kt_sock *s = i & 1 ? &P.sink6 : &P.sink4;
	uint16_t port;

	if (rn(3)) {
		if (s->addr.ss_family == AF_INET) {
			struct sockaddr_in *in = (void *)&s->addr;

			put_attr(b, KDTLS_A_PEER_ADDR4, &in->sin_addr, 4);
			port = in->sin_port;
		} else {
			struct sockaddr_in6 *in6 = (void *)&s->addr;

			put_attr(b, KDTLS_A_PEER_ADDR6, &in6->sin6_addr, 16);
			port = in6->sin6_port;
		}
	} else {
		uint8_t a[16];

		rand_bytes(a, 16);
		if (rn(2))
			a[0] = 127;
		put_attr(b, rn(2) ? KDTLS_A_PEER_ADDR4 : KDTLS_A_PEER_ADDR6, a,
			 rn(4) ? (rn(2) ? 4 : 16) : bad_len(4));
		port = (uint16_t)rnd();
	}
	if (rn(8))
		put_attr(b, KDTLS_A_PEER_PORT, &port, rn(8) ? 2 : bad_len(2));
}

/* one attribute of the kdtls set, mostly well-typed */
static void put_random_attr(struct buf *b, int cmd)
{
	uint16_t t = (uint16_t)(rn(10) ? 1 + rn(KDTLS_A_MAX) : rn(KDTLS_A_MAX + 20));
	bool sane = rn(3) != 0;
	uint8_t v[2048];
	size_t len;
	uint32_t u;

	(void)cmd;
	switch (t) {
	case KDTLS_A_SOCK_FD:
		u = (uint32_t)P.fds[rn((uint32_t)P.nfds)];
		put_attr(b, t, &u, sane ? 4 : bad_len(4));
		return;
	case KDTLS_A_SOCK_ID:
	case KDTLS_A_SOCK_FLAGS:
	case KDTLS_A_SOCK_MAX_ASSOCS:
	case KDTLS_A_ASSOC_REPLAY_WINDOW:
	case KDTLS_A_ASSOC_RX_GRACE_MS:
	case KDTLS_A_ASSOC_MAX_PAYLOAD:
	case KDTLS_A_RECORD_FLAGS:
	case KDTLS_A_SOCK_NUM_ASSOCS:
	case KDTLS_A_SOCK_AGENT_PORTID:
		u = rn(2) ? rn(4) : rn(2) ? rn(70000) : (uint32_t)rnd();
		put_attr(b, t, &u, sane ? 4 : bad_len(4));
		return;
	case KDTLS_A_ASSOC_VERSION:
	case KDTLS_A_ASSOC_CIPHER:
	case KDTLS_A_SOCK_FAMILY:
	case KDTLS_A_RECORD_EPOCH: {
		uint16_t h = (uint16_t)(t == KDTLS_A_ASSOC_VERSION && rn(2) ?
					0xfefd : rn(2) ? rn(8) : rnd());

		put_attr(b, t, &h, sane ? 2 : bad_len(2));
		return;
	}
	case KDTLS_A_RECORD_TYPE:
		v[0] = (uint8_t)(rn(2) ? 20 + rn(4) : rnd());
		put_attr(b, t, v, sane ? 1 : bad_len(1));
		return;
	case KDTLS_A_RECORD_SEQ: {
		uint64_t s = rnd();

		put_attr(b, t, &s, sane ? 8 : bad_len(8));
		return;
	}
	case KDTLS_A_PEER_ADDR4:
	case KDTLS_A_PEER_ADDR6:
	case KDTLS_A_PEER_PORT:
		put_peer(b, (int)rn(2));
		return;
	case KDTLS_A_ASSOC_TX:
	case KDTLS_A_ASSOC_RX:
		put_key_nest(b, t, sane);
		return;
	case KDTLS_A_RECORD_DATA:
		if (rn(2)) {
			/* whole epoch-0 (or other) records */
			len = 13 + rn(100);
			kt_hdr_put(v, (uint8_t)(20 + rn(4)), 0xfefd,
				   (uint16_t)(rn(3) ? 0 : rn(3)), rn(10),
				   (uint16_t)(rn(8) ? len - 13 : rn(200)));
			rand_bytes(v + 13, len - 13);
		} else {
			len = rn(8) ? rn(200) : rn(sizeof(v));
			rand_bytes(v, len);
		}
		put_attr(b, t, v, len);
		return;
	case KDTLS_A_SOCK_STATS:
	case KDTLS_A_ASSOC_STATS:
		put_key_nest(b, t, false);
		return;
	default:	/* unspec, pad, unknown */
		len = bad_len(0);
		rand_bytes(v, len);
		put_attr(b, t | (rn(8) ? 0 : NLA_F_NESTED) |
			 (rn(8) ? 0 : NLA_F_NET_BYTEORDER), v, len);
		return;
	}
}

/* a request that makes sense for @cmd (@good: likely fully valid) */
static void put_plausible(struct buf *b, int cmd, bool good)
{
	int i = (int)rn(NPOOL_UDP);
	uint32_t fd = (uint32_t)(rn(6) ? P.udp[i].fd :
				 P.fds[rn((uint32_t)P.nfds)]);
	uint16_t c = (uint16_t)(1 + rn(5));

	if (rn(8))
		put_attr(b, KDTLS_A_SOCK_FD, &fd, 4);
	switch (cmd) {
	case KDTLS_CMD_SOCK_ATTACH:
		if (rn(2)) {
			uint32_t f = rn(4) ? 0 : rn(3);

			put_attr(b, KDTLS_A_SOCK_FLAGS, &f, 4);
		}
		break;
	case KDTLS_CMD_ASSOC_ADD:
		put_peer(b, i);
		put_attr(b, KDTLS_A_ASSOC_CIPHER, &c, 2);
		if (good) {
			put_good_key(b, KDTLS_A_ASSOC_TX, c);
			put_good_key(b, KDTLS_A_ASSOC_RX, c);
		} else {
			put_key_nest(b, KDTLS_A_ASSOC_TX, rn(2));
			put_key_nest(b, KDTLS_A_ASSOC_RX, rn(2));
		}
		break;
	case KDTLS_CMD_ASSOC_DEL:
	case KDTLS_CMD_ASSOC_GET:
		put_peer(b, i);
		break;
	case KDTLS_CMD_ASSOC_REKEY:
		put_peer(b, i);
		if (good) {
			/* the pool's associations use cipher 1 + i % 5 */
			if (rn(2))
				put_good_key(b, KDTLS_A_ASSOC_TX, 1 + (i & ~1) % 5);
			if (rn(2))
				put_good_key(b, KDTLS_A_ASSOC_RX, 1 + (i & ~1) % 5);
			break;
		}
		if (rn(2))
			put_key_nest(b, KDTLS_A_ASSOC_TX, rn(2));
		if (rn(2))
			put_key_nest(b, KDTLS_A_ASSOC_RX, rn(2));
		break;
	case KDTLS_CMD_RECORD_SEND: {
		uint32_t f = rn(2) ? KDTLS_RECORD_F_SEAL : rn(4);
		uint8_t t = (uint8_t)(20 + rn(4));

		put_peer(b, i);
		put_attr(b, KDTLS_A_RECORD_FLAGS, &f, 4);
		put_attr(b, KDTLS_A_RECORD_TYPE, &t, 1);
		if (good) {
			uint8_t v[64];
			size_t len = 13 + rn(40);

			kt_hdr_put(v, 22, 0xfefd, 0, rn(10),
				   (uint16_t)(len - 13));
			rand_bytes(v + 13, len - 13);
			put_attr(b, KDTLS_A_RECORD_DATA, v, len);
		} else {
			put_random_attr(b, cmd);
		}
		break;
	}
	}
}

/* ---- sending and answering ------------------------------------------- */

struct nlfz {
	int fd, fam;
	uint32_t seq;
	uint64_t sent, answered, errors, acks, replies, silent;
	uint64_t by_errno[4096];
	int bad;
};

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1, big = 4 << 20;

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		return -1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return fd;
}

/*
 * Read the answer to @seq: returns 1 when complete (error/ack/done), 0 on
 * timeout.  Anything unexpected is logged as bad.
 */
static int wait_answer(struct nlfz *z, uint32_t seq, int ms, bool dump,
		       bool ack)
{
	static uint8_t rb[1 << 16];
	uint64_t end = kt_now_ms() + (uint64_t)ms;

	for (;;) {
		struct pollfd pfd = { .fd = z->fd, .events = POLLIN };
		int left = (int)(end - kt_now_ms());
		struct nlmsghdr *h;
		ssize_t r;

		if (left < 0 || poll(&pfd, 1, left) <= 0)
			return 0;
		r = recv(z->fd, rb, sizeof(rb), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS) {	/* lost replies */
				if (z->bad++ < 5)
					TH_LOG("netlink socket overrun");
				return 1;
			}
			return 0;
		}
		for (h = (void *)rb; NLMSG_OK(h, r); h = NLMSG_NEXT(h, r)) {
			if (h->nlmsg_seq != seq)
				continue;	/* a late answer to an earlier one */
			if (h->nlmsg_type == NLMSG_ERROR) {
				int e;

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int)) {
					if (z->bad++ < 5)
						TH_LOG("short NLMSG_ERROR");
					return 1;
				}
				e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				if (e > 0 || e < -4095) {
					if (z->bad++ < 5)
						TH_LOG("error code %d", e);
				}
				if (e) {
					z->errors++;
					if (e < 0 && e > -4096)
						z->by_errno[-e]++;
				}
				else
					z->acks++;
				return 1;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 1;
			/* ours, or (for a request sent to another family
			 * on purpose) the controller's or that family's */
			if (h->nlmsg_type == z->fam ||
			    h->nlmsg_type >= GENL_MIN_ID) {
				z->replies++;
				if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN &&
				    z->bad++ < 5)
					TH_LOG("reply without a genl header");
				/* a do without NLM_F_ACK: the reply is all */
				if (!dump && !ack)
					return 1;
				continue;
			}
			if (z->bad++ < 5)
				TH_LOG("unexpected message type %u", h->nlmsg_type);
		}
	}
}

/* build and send one request for @cmd (-1: anything) */
static void fuzz_one(struct nlfz *z, int cmd)
{
	static struct buf b;
	struct nlmsghdr *n = (void *)b.d;
	struct genlmsghdr *g = (void *)(b.d + NLMSG_HDRLEN);
	bool any = cmd < 0, expect, dump, kdump, ack;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
	size_t send_len;
	int k;

	memset(&b, 0, sizeof(b.d) < 64 ? sizeof(b.d) : 64);
	b.len = NLMSG_HDRLEN + GENL_HDRLEN;
	if (any)
		cmd = rn(4) ? (int)rn(KDTLS_CMD_MAX + 1) : (int)rn(256);
	dump = cmd == KDTLS_CMD_SOCK_GET || cmd == KDTLS_CMD_ASSOC_GET ?
	       rn(3) == 0 : rn(16) == 0;
	if (dump)
		flags |= NLM_F_DUMP;
	if (!rn(16))
		flags &= (uint16_t)~NLM_F_ACK;
	n->nlmsg_type = (uint16_t)z->fam;
	n->nlmsg_seq = ++z->seq;
	g->cmd = (uint8_t)cmd;
	g->version = KDTLS_GENL_VERSION;
	if (any) {
		/* the genetlink header and the netlink flags */
		switch (rn(6)) {
		case 0:
			g->version = (uint8_t)(rn(2) ? 0 : rnd());
			break;
		case 1:
			g->reserved = (uint16_t)rnd();
			break;
		case 2:
			flags ^= (uint16_t)(1u << rn(16));
			break;
		}
	}
	switch (rn(3)) {
	case 0:		/* likely valid, with at most one thing wrong */
		put_plausible(&b, cmd, true);
		if (rn(2))
			put_random_attr(&b, cmd);
		break;
	case 1:		/* plausible, plus random attributes */
		put_plausible(&b, cmd, rn(2));
		for (k = (int)rn(5); k; k--)
			put_random_attr(&b, cmd);
		break;
	default:	/* random attributes */
		for (k = (int)rn(rn(4) ? 5 : 20); k; k--)
			put_random_attr(&b, cmd);
		break;
	}
	n->nlmsg_flags = flags;
	n->nlmsg_len = (uint32_t)b.len;
	send_len = b.len;
	/* what genetlink will make of the flags */
	kdump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
	ack = flags & NLM_F_ACK;
	expect = (flags & NLM_F_REQUEST) && (ack || kdump);
	if (any && !rn(8)) {
		/* truncated or lying netlink headers */
		switch (rn(4)) {
		case 0:	/* shorter than the genetlink header */
			send_len = NLMSG_HDRLEN + rn(GENL_HDRLEN);
			n->nlmsg_len = (uint32_t)send_len;
			break;
		case 1:	/* nlmsg_len beyond the datagram */
			n->nlmsg_len = (uint32_t)(b.len + 1 + rn(100));
			expect = false;
			break;
		case 2:	/* nlmsg_len below a netlink header */
			n->nlmsg_len = rn(NLMSG_HDRLEN);
			expect = false;
			break;
		default:	/* the last attribute cut */
			if (b.len > NLMSG_HDRLEN + GENL_HDRLEN + 1) {
				send_len = b.len - 1 - rn(3);
				n->nlmsg_len = (uint32_t)send_len;
			}
			break;
		}
	}
	if (any && !rn(32)) {
		n->nlmsg_type = (uint16_t)(rn(2) ? GENL_ID_CTRL : rnd());
		/* another family's (or no family's) answer: just don't hang */
		expect = false;
	}
	if (send(z->fd, b.d, send_len, 0) < 0) {
		if (z->bad++ < 5)
			TH_LOG("send: %s", strerror(errno));
		return;
	}
	z->sent++;
	if (!expect) {
		z->silent++;
		wait_answer(z, n->nlmsg_seq, 0, kdump, ack);
		return;
	}
	if (wait_answer(z, n->nlmsg_seq, 5000, kdump, ack)) {
		z->answered++;
	} else if (z->bad++ < 5) {
		TH_LOG("no answer within 5 s to cmd %d flags %#x len %zu", cmd,
		       flags, send_len);
	}
}

/* ---- afterwards: is the state consistent? ---------------------------- */

static void check_state(void)
{
	static struct kt_sock_info dump[64];
	static struct kt_assoc_info assocs[64];
	struct kt_sock_info si;
	int n, i, j, attached = 0, na;

	n = kt_sock_dump(dump, 64);
	ASSERT_GE(n, 0);
	for (i = 0; i < NPOOL_UDP; i++) {
		if (kt_sock_get(P.udp[i].fd, &si) != 0)
			continue;
		attached++;
		for (j = 0; j < n; j++)
			if (dump[j].sock_id == si.sock_id)
				break;
		EXPECT_LT(j, n);	/* in the dump */
		na = kt_assoc_dump(P.udp[i].fd, assocs, 64);
		EXPECT_EQ(na, (int)si.num_assocs);
	}
	th_log("state: %d sockets attached, dump lists %d", attached, n);
	EXPECT_EQ(n, attached);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			EXPECT_NE(dump[i].sock_id, dump[j].sock_id);
}

static void close_pool_and_check(void)
{
	static struct kt_sock_info dump[64];
	struct kt_sock a, b;
	struct kt_key k1, k2;
	uint8_t rec[256], buf[256];
	struct kt_rec r = { .type = 23, .epoch = 1, .seq = 0 };
	int i, n;

	for (i = 0; i < NPOOL_UDP; i++)
		close(P.udp[i].fd);
	close(P.sink4.fd);
	close(P.sink6.fd);
	close(P.tcp);
	close(P.nl);
	close(P.devnull);
	n = kt_sock_dump(dump, 64);
	EXPECT_EQ(n, 0);

	/* the family still works: attach, add, pass one record */
	ASSERT_EQ(kt_udp_open(AF_INET, &a), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &b), 0);
	ASSERT_EQ(kt_attach(b.fd, 0, NULL), 0);
	kt_key_make(&k1, KDTLS_CIPHER_AES_128_GCM, 1, 0, 1);
	kt_key_make(&k2, KDTLS_CIPHER_AES_128_GCM, 1, 0, 2);
	ASSERT_EQ(kt_assoc_add(b.fd, SA(&a), KDTLS_CIPHER_AES_128_GCM, &k1,
			       &k2, 64), 0);
	n = kt_evp_seal(KDTLS_CIPHER_AES_128_GCM, k2.key, k2.salt, &r, "ok", 2,
			rec, sizeof(rec));
	ASSERT_GT(n, 0);
	ASSERT_EQ(sendto(a.fd, rec, n, 0, SA(&b), b.alen), n);
	ASSERT_EQ(kt_recv_timeout(b.fd, buf, sizeof(buf), 2000), 2);
	close(a.fd);
	close(b.fd);
}

static void fuzz_cmd(int cmd, const char *name, unsigned int idx)
{
	struct nlfz z = { 0 };
	uint64_t i, count = fuzz_count(), t0, seed = fuzz_seed() + 1000 + idx;

	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	th_log("seed: KDTLS_FUZZ_SEED=%llu (this test: %llu), %llu messages",
	       (unsigned long long)fuzz_seed(), (unsigned long long)seed,
	       (unsigned long long)count);
	rng_state = seed;
	ASSERT_EQ(netns_fresh(), 0);
	ASSERT_EQ(kt_nl_init(), 0);
	z.fam = kt_nl_family();
	ASSERT_GT(z.fam, 0);
	z.fd = nl_open();
	ASSERT_GE(z.fd, 0);
	pool_setup();
	t0 = kt_now_ms();
	for (i = 0; i < count && z.bad <= 20; i++)
		fuzz_one(&z, cmd);
	th_log("%s: %llu messages in %.1f s: %llu answered (%llu errors, %llu acks, %llu replies), %llu not asking for one",
	       name, (unsigned long long)z.sent, (kt_now_ms() - t0) / 1000.0,
	       (unsigned long long)z.answered, (unsigned long long)z.errors,
	       (unsigned long long)z.acks, (unsigned long long)z.replies,
	       (unsigned long long)z.silent);
	{
		char line[512];
		int o = 0, e;

		for (e = 1; e < 4096; e++)
			if (z.by_errno[e])
				o += snprintf(line + o, sizeof(line) - (size_t)o,
					      " %s %llu", strerrorname_np(e) ?
					      strerrorname_np(e) : "?",
					      (unsigned long long)z.by_errno[e]);
		th_log("errors:%s", o ? line : " none");
	}
	EXPECT_EQ(z.bad, 0);
	EXPECT_EQ(z.answered + z.silent, z.sent);
	th_log("figure: netlink-messages-fuzzed %llu", (unsigned long long)z.sent);
	close(z.fd);
	check_state();
	close_pool_and_check();
}

#define NL_TEST(name, cmd, idx)					\
	TEST_TIMEOUT(name, 120) { fuzz_cmd(cmd, #name, idx); }

NL_TEST(sock_attach, KDTLS_CMD_SOCK_ATTACH, 0)
NL_TEST(sock_detach, KDTLS_CMD_SOCK_DETACH, 1)
NL_TEST(sock_get, KDTLS_CMD_SOCK_GET, 2)
NL_TEST(assoc_add, KDTLS_CMD_ASSOC_ADD, 3)
NL_TEST(assoc_del, KDTLS_CMD_ASSOC_DEL, 4)
NL_TEST(assoc_rekey, KDTLS_CMD_ASSOC_REKEY, 5)
NL_TEST(assoc_get, KDTLS_CMD_ASSOC_GET, 6)
NL_TEST(record_send, KDTLS_CMD_RECORD_SEND, 7)
NL_TEST(any, -1, 8)

TEST_HARNESS_MAIN
