// SPDX-License-Identifier: GPL-2.0
/*
 * Datagram fuzzer: mutated DTLS records at attached sockets, then the books
 * must balance.
 *
 *   R4, N4 (plain UDP, 127.0.0.1) ---> B4 (attached, no agent, window 64)
 *   R6, N6 (plain UDP, ::1)       ---> B6 (attached, agent = our raw genl
 *                                          socket, window 1024)
 *
 * B4 and B6 hold an association for R4 resp. R6 (one cipher per test).
 * Each datagram is either a fresh valid record sealed by the independent
 * OpenSSL sealer (application data, or a sealed alert/handshake), a plain
 * epoch-0 handshake datagram, or a mutation of a record sent before
 * (header fields, lengths, epochs, sequence numbers, tags, explicit nonces,
 * truncations, extensions, splices, second records, oversizing, random
 * bytes, unchanged replays), from the peer or from a non-peer.  B's RX
 * epoch is rekeyed along the way, so old, current, next and retired epochs
 * are all hit.  Datagrams go out in batches (sendmmsg) and the receivers
 * are drained after each batch (recvmmsg, with and without a control
 * buffer; the agent's netlink socket too), so nothing should overflow.
 *
 * Afterwards, per test:
 *   - every datagram sent is accounted for exactly: the sum over B4 and B6
 *     of rx-records, rx-to-agent, rx-to-app and every drop-* counter, plus
 *     the UDP receive errors of the test's own network namespace
 *     (/proc/net/snmp InErrors, /proc/net/snmp6 Udp6InErrors), equals the
 *     datagrams sendmmsg accepted; per socket too when UDP dropped nothing;
 *   - every valid application record was delivered once, in order, with
 *     its plaintext, and nothing else was delivered as data;
 *   - /proc/net/kdtls/stat of the namespace equals B4 + B6;
 *   - no kernel report (harness, HARNESS_CHECK_DMESG).
 * The last test unloads kdtls.ko (delete_module) once the fuzzed sockets
 * are gone and loads it again (finit_module), so the module left behind is
 * a fresh one.
 *
 * Environment: KDTLS_FUZZ_SEED (printed by every run; same seed, same
 * datagrams), KDTLS_FUZZ_DATAGRAMS (total over the five ciphers, default
 * 1000000).  Prints "# figure: datagrams-fuzzed N".
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
#include <sys/utsname.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)		((struct sockaddr *)&(s)->addr)
#define BATCH		32
#define RING		64
#define MAXDG		40000
#define RECV_CAP	20000
#define REKEY_EVERY	20000
#define SEQ_MAX		((1ULL << 48) - 1)

/* ---- PRNG: xorshift64* ---------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t rn(uint32_t n)	/* [0, n) */
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
	if (!seed)
		seed = 1;
	return seed;
}

static uint64_t fuzz_total(void)
{
	const char *s = getenv("KDTLS_FUZZ_DATAGRAMS");

	return s && *s ? strtoull(s, NULL, 0) : 1000000;
}

/* ---- the network namespace ------------------------------------------ */

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

/* InErrors of "Udp:" in /proc/net/snmp plus Udp6InErrors */
static uint64_t udp_in_errors(void)
{
	char line[1024], hdr[1024] = "";
	uint64_t total = 0;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Udp: ", 5))
				continue;
			if (!hdr[0]) {
				strcpy(hdr, line);
				continue;
			}
			/* the value under the "InErrors" column */
			char *hs, *vs, *h = strtok_r(hdr + 5, " \n", &hs);
			char *v = strtok_r(line + 5, " \n", &vs);

			while (h && v) {
				if (!strcmp(h, "InErrors"))
					total += strtoull(v, NULL, 10);
				h = strtok_r(NULL, " \n", &hs);
				v = strtok_r(NULL, " \n", &vs);
			}
			break;
		}
		fclose(f);
	}
	f = fopen("/proc/net/snmp6", "r");
	if (f) {
		char name[128];
		unsigned long long v;

		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%127s %llu", name, &v) == 2 &&
			    !strcmp(name, "Udp6InErrors"))
				total += v;
		fclose(f);
	}
	return total;
}

/* /proc/net/kdtls/stat of this namespace */
static int ns_stats(uint64_t st[KDTLS_STAT_MAX + 1])
{
	char name[64];
	unsigned long long v;
	FILE *f = fopen("/proc/net/kdtls/stat", "r");
	int i, n = 0;

	memset(st, 0, sizeof(uint64_t) * (KDTLS_STAT_MAX + 1));
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %llu", name, &v) == 2)
		for (i = 1; i <= KDTLS_STAT_MAX; i++)
			if (kt_stat_names[i] && !strcmp(name, kt_stat_names[i])) {
				st[i] = v;
				n++;
			}
	fclose(f);
	return n;
}

/* ---- the agent: a raw generic netlink socket ------------------------ */

static int agent_attach(int udp_fd)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		char attrs[64];
	} req;
	struct nlattr *a;
	char buf[4096];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, rcv = 1 << 20, fam = kt_nl_family();
	ssize_t r;

	if (fam < 0)
		return -ENOENT;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)))
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	memset(&req, 0, sizeof(req));
	req.n.nlmsg_type = (uint16_t)fam;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.n.nlmsg_seq = 1;
	req.g.cmd = KDTLS_CMD_SOCK_ATTACH;
	req.g.version = KDTLS_GENL_VERSION;
	a = (void *)req.attrs;
	a->nla_type = KDTLS_A_SOCK_FD;
	a->nla_len = NLA_HDRLEN + 4;
	memcpy((char *)a + NLA_HDRLEN, &udp_fd, 4);
	a = (void *)(req.attrs + 8);
	a->nla_type = KDTLS_A_SOCK_FLAGS;
	a->nla_len = NLA_HDRLEN + 4;
	*(uint32_t *)((char *)a + NLA_HDRLEN) = KDTLS_SOCK_F_AGENT;
	req.n.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 16;
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h = (void *)buf;

		r = recv(fd, buf, sizeof(buf), 0);
		if (r < (ssize_t)NLMSG_HDRLEN)
			return -EIO;
		for (; NLMSG_OK(h, r); h = NLMSG_NEXT(h, r))
			if (h->nlmsg_type == NLMSG_ERROR) {
				int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;

				if (e) {
					close(fd);
					return e;
				}
				return fd;
			}
	}
}

/* ---- the fuzzer ----------------------------------------------------- */

struct rx {
	struct kt_sock b;		/* the attached receiver */
	struct kt_sock r, n;		/* the peer, a non-peer */
	int agent;			/* agent netlink socket or -1 */
	struct kt_key rxk;		/* B's current RX key = R's TX key */
	uint16_t epoch;
	uint64_t seq;			/* R's next sequence number */
	uint64_t sent;			/* datagrams accepted by sendmmsg */
	uint64_t valid_sent, valid_got;	/* fresh application records */
	uint64_t to_app, to_agent;	/* seen by us */
	uint8_t ring[RING][RECV_CAP];	/* records sent before */
	uint16_t ring_len[RING];
	unsigned int ring_n, ring_pos;
};

static uint8_t dg[BATCH][MAXDG];
static size_t dg_len[BATCH];
static uint8_t rbuf[BATCH][RECV_CAP];
static char cbuf[BATCH][CMSG_SPACE(16)];

static const char *cipher_name(unsigned int c)
{
	static const char *const n[] = { "?", "aes-128-gcm", "aes-256-gcm",
		"chacha20-poly1305", "aes-128-ccm", "aes-128-ccm-8" };

	return c < 6 ? n[c] : "?";
}

/* a fresh valid record from R at @out; returns its length */
static size_t make_valid(struct rx *x, unsigned int cipher, uint8_t *out,
			 bool from_peer, bool *is_data)
{
	uint64_t idx = from_peer ? x->valid_sent : UINT64_MAX;
	static uint8_t pt[16384];
	struct kt_rec r = { .type = 23, .epoch = x->epoch, .seq = x->seq++ };
	size_t len;
	uint32_t p = rn(100);
	int n;

	len = p < 60 ? rn(64) : p < 90 ? rn(1400) : p < 97 ? rn(16385) :
	      16384;
	if (p >= 97 && rn(2))
		r.type = rn(2) ? 21 : 22;	/* a sealed alert/handshake */
	*is_data = r.type == 23;
	if (*is_data) {
		/* "V" and the index of the valid record, then filler */
		if (len < 9)
			len = 9;
		pt[0] = 'V';
		memcpy(pt + 1, &idx, 8);
		memset(pt + 9, 0x5a ^ (int)(idx & 0xff), len - 9);
	} else {
		memset(pt, 0x11, len);
	}
	n = kt_evp_seal(cipher, x->rxk.key, x->rxk.salt, &r, pt, len, out,
			MAXDG);
	if (n < 0)
		return 0;
	if (*is_data && from_peer)
		x->valid_sent++;
	return (size_t)n;
}

static void put_be16(uint8_t *p, unsigned int v) { p[0] = v >> 8; p[1] = v; }

static void put_be48(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 6; i++)
		p[i] = v >> (40 - 8 * i);
}

/* one mutation of the datagram at @d (length *@len) in place */
static void mutate_once(struct rx *x, const struct kt_cipher *c, uint8_t *d,
			size_t *len)
{
	static const uint8_t types[] = { 0, 19, 20, 21, 22, 23, 24, 255 };
	static const uint16_t versions[] = { 0xfefd, 0xfeff, 0xfefc, 0x0303,
					     0x0000, 0xffff, 0xfdfe };
	size_t l = *len, i, k;
	uint32_t m = rn(17);

	switch (m) {
	case 0:		/* flip bits anywhere */
		for (k = 1 + rn(3); k && l; k--)
			d[rn((uint32_t)l)] ^= (uint8_t)(1u << rn(8));
		break;
	case 1:		/* content type */
		if (l)
			d[0] = rn(4) ? types[rn(sizeof(types))] : (uint8_t)rnd();
		break;
	case 2:		/* version */
		if (l >= 3)
			put_be16(d + 1, versions[rn(sizeof(versions) / 2)]);
		break;
	case 3: {	/* epoch */
		uint16_t e[] = { 0, 1, x->epoch, (uint16_t)(x->epoch - 1),
				 (uint16_t)(x->epoch + 1),
				 (uint16_t)(x->epoch + 2), 0xffff,
				 (uint16_t)rnd() };

		if (l >= 5)
			put_be16(d + 3, e[rn(8)]);
		break;
	}
	case 4: {	/* sequence number */
		uint64_t s[] = { 0, x->seq, x->seq - 1, x->seq + 1,
				 x->seq - 64, x->seq - 1024, x->seq + 1000000,
				 SEQ_MAX, rnd() & SEQ_MAX };

		if (l >= 11)
			put_be48(d + 5, s[rn(9)]);
		break;
	}
	case 5: {	/* length field */
		unsigned int v[] = { 0, (unsigned int)l - 13,
				     (unsigned int)l - 12,
				     (unsigned int)l - 14, 0xffff, 16384 + 2048,
				     16384 + 2048 + 1, c->explicit_len + c->tag_len,
				     c->explicit_len + c->tag_len - 1, rn(65536) };

		if (l >= 13)
			put_be16(d + 11, v[rn(10)]);
		break;
	}
	case 6:		/* truncate */
		*len = rn(4) ? rn((uint32_t)l + 1) : rn(14);
		if (*len > l)
			*len = l;
		break;
	case 7:		/* extend with random bytes */
		k = 1 + rn(rn(8) ? 64 : 2000);
		if (l + k > MAXDG)
			k = MAXDG - l;
		for (i = 0; i < k; i++)
			d[l + i] = (uint8_t)rnd();
		*len = l + k;
		break;
	case 8:		/* tag */
		if (l > 13)
			for (k = 1 + rn(c->tag_len); k; k--)
				d[l - 1 - rn(c->tag_len < l - 13 ? c->tag_len :
					       (uint32_t)(l - 13))] ^= (uint8_t)(1 + rn(255));
		break;
	case 9:		/* explicit nonce (or first ciphertext bytes) */
		if (l > 21)
			d[13 + rn(8)] ^= (uint8_t)(1 + rn(255));
		break;
	case 10:	/* a second record: a copy of a record sent before */
		if (x->ring_n) {
			unsigned int j = rn(x->ring_n);

			k = x->ring_len[j];
			if (l + k <= MAXDG) {
				memcpy(d + l, x->ring[j], k);
				*len = l + k;
			}
		}
		break;
	case 11:	/* an epoch-0 record appended (handshake after data) */
		if (l + 13 + 20 <= MAXDG) {
			kt_hdr_put(d + l, 22, 0xfefd, 0, rn(100), 20);
			memset(d + l + 13, 0x22, 20);
			*len = l + 33;
		}
		break;
	case 12:	/* splice: this header on another record's body */
		if (x->ring_n && l >= 13) {
			unsigned int j = rn(x->ring_n);

			k = x->ring_len[j];
			if (k >= 13) {
				memcpy(d + 13, x->ring[j] + 13, k - 13);
				*len = k;
			}
		}
		break;
	case 13:	/* oversize: body up to and past 2^14 + 2048 */
		k = 16384 + 2048 - 2 + rn(6) + (rn(4) ? 0 : rn(4000));
		if (13 + k > MAXDG)
			k = MAXDG - 13;
		if (l < 13)
			l = 13;
		for (i = l; i < 13 + k; i++)
			d[i] = (uint8_t)i;
		put_be16(d + 11, rn(2) ? (unsigned int)k : rn(65536));
		*len = 13 + k;
		break;
	case 14:	/* random bytes */
		k = rn(8) ? rn(64) : rn(3000);
		for (i = 0; i < k; i++)
			d[i] = (uint8_t)rnd();
		*len = k;
		break;
	case 15:	/* random bytes behind a plausible header */
		k = rn(200);
		kt_hdr_put(d, types[rn(sizeof(types))], 0xfefd,
			   rn(2) ? x->epoch : (uint16_t)rn(4), rnd() & SEQ_MAX,
			   (uint16_t)(rn(4) ? k : rn(300)));
		for (i = 0; i < k; i++)
			d[13 + i] = (uint8_t)rnd();
		*len = 13 + k;
		break;
	default:	/* unchanged: a replay */
		break;
	}
}

/*
 * Fill dg[i] for receiver @x.  Fresh valid records from the peer are
 * remembered as bases for later mutations (and unchanged replays); those
 * "sent" by the non-peer are not, since the association never saw them.
 */
static void make_datagram(struct rx *x, unsigned int cipher, int i,
			  bool from_peer, bool *valid_data)
{
	const struct kt_cipher *c = kt_cipher(cipher);
	uint32_t p = rn(100);
	size_t len;
	int k;

	*valid_data = false;
	if (p < 12 || !x->ring_n) {
		/* a fresh valid record, remembered as a base */
		len = make_valid(x, cipher, dg[i], from_peer, valid_data);
		dg_len[i] = len;
		if (from_peer && len && len <= RECV_CAP) {
			memcpy(x->ring[x->ring_pos], dg[i], len);
			x->ring_len[x->ring_pos] = (uint16_t)len;
			x->ring_pos = (x->ring_pos + 1) % RING;
			if (x->ring_n < RING)
				x->ring_n++;
		}
		return;
	}
	if (p < 17) {
		/* a plain handshake datagram: epoch 0 (DTLS 1.0 or 1.2),
		 * or epoch 1 before keys */
		len = rn(300);
		kt_hdr_put(dg[i], rn(3) ? 22 : 20, rn(4) ? 0xfefd : 0xfeff,
			   rn(8) ? 0 : 1, rn(1000), (uint16_t)len);
		memset(dg[i] + 13, 0x16, len);
		dg_len[i] = 13 + len;
		return;
	}
	/* a mutation of a record sent before */
	k = rn(x->ring_n);
	memcpy(dg[i], x->ring[k], x->ring_len[k]);
	dg_len[i] = x->ring_len[k];
	for (k = 1 + (rn(3) ? 0 : rn(3)); k; k--)
		mutate_once(x, c, dg[i], &dg_len[i]);
}

/* read everything queued on B (and the agent); check data records */
static void drain(struct rx *x, bool with_cbuf, int *bad)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	int n, i;

	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = rbuf[i];
			iov[i].iov_len = RECV_CAP;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			if (with_cbuf) {
				mm[i].msg_hdr.msg_control = cbuf[i];
				mm[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
			}
		}
		n = recvmmsg(x->b.fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				if ((*bad)++ < 5)
					TH_LOG("recvmmsg: %s", strerror(errno));
			}
			break;
		}
		for (i = 0; i < n; i++) {
			struct msghdr *h = &mm[i].msg_hdr;
			struct cmsghdr *cm;
			bool typed = false;

			for (cm = with_cbuf ? CMSG_FIRSTHDR(h) : NULL; cm;
			     cm = CMSG_NXTHDR(h, cm))
				if (cm->cmsg_level == SOL_KDTLS &&
				    cm->cmsg_type == KDTLS_CMSG_RECORD_TYPE)
					typed = true;
			if (typed) {
				x->to_app++;
				continue;
			}
			/* application data: the next valid record */
			if (mm[i].msg_len < 9 || rbuf[i][0] != 'V' ||
			    memcmp(rbuf[i] + 1, &x->valid_got, 8)) {
				if ((*bad)++ < 5) {
					uint64_t idx = 0;

					memcpy(&idx, rbuf[i] + 1, 8);
					TH_LOG("delivered %u bytes, not valid record %llu (got '%c' %llu)",
					       mm[i].msg_len,
					       (unsigned long long)x->valid_got,
					       rbuf[i][0], (unsigned long long)idx);
				}
			}
			x->valid_got++;
		}
	}
	if (x->agent >= 0) {
		static char nb[65536];

		while (recv(x->agent, nb, sizeof(nb), MSG_DONTWAIT) > 0)
			x->to_agent++;
	}
}

static uint64_t accounted(const uint64_t *st)
{
	return st[KDTLS_STAT_RX_RECORDS] + st[KDTLS_STAT_RX_TO_AGENT] +
	       st[KDTLS_STAT_RX_TO_APP] + st[KDTLS_STAT_DROP_MALFORMED] +
	       st[KDTLS_STAT_DROP_VERSION] + st[KDTLS_STAT_DROP_TYPE] +
	       st[KDTLS_STAT_DROP_EPOCH] + st[KDTLS_STAT_DROP_REPLAY] +
	       st[KDTLS_STAT_DROP_AUTH] + st[KDTLS_STAT_DROP_TOO_BIG] +
	       st[KDTLS_STAT_DROP_NO_AGENT] + st[KDTLS_STAT_DROP_AGENT_BUSY] +
	       st[KDTLS_STAT_DROP_NOMEM];
}

static void rx_setup(struct rx *x, int family, unsigned int cipher,
		     bool agent, uint32_t window)
{
	struct kt_key tx;
	int big = 4 << 20;

	memset(x, 0, sizeof(*x));
	x->agent = -1;
	ASSERT_EQ(kt_udp_open(family, &x->b), 0);
	ASSERT_EQ(kt_udp_open(family, &x->r), 0);
	ASSERT_EQ(kt_udp_open(family, &x->n), 0);
	setsockopt(x->b.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(x->r.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	setsockopt(x->n.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (agent) {
		x->agent = agent_attach(x->b.fd);
		ASSERT_GE(x->agent, 0);
	} else {
		ASSERT_EQ(kt_attach(x->b.fd, 0, NULL), 0);
	}
	x->epoch = 1;
	x->seq = 0;
	kt_key_make(&tx, cipher, 1, 0, 1);
	kt_key_make(&x->rxk, cipher, 1, 0, 2);
	ASSERT_EQ(kt_assoc_add(x->b.fd, SA(&x->r), cipher, &tx, &x->rxk,
			       window), 0);
}

static void rekey(struct rx *x, unsigned int cipher)
{
	struct kt_key k;
	int err;

	kt_key_make(&k, cipher, (uint16_t)(x->epoch + 1), 0,
		    (uint8_t)(2 + x->epoch));
	err = kt_rekey(x->b.fd, SA(&x->r), NULL, &k);
	if (err) {
		TH_LOG("rekey to epoch %u: %s (%s)", x->epoch + 1,
		       strerror(-err), kt_nl_extack());
		return;
	}
	x->rxk = k;
	x->epoch++;
	x->seq = 0;
}

static void fuzz_cipher(unsigned int cipher, unsigned int idx)
{
	static struct rx rxs[2];
	uint64_t seed = fuzz_seed() + idx, total = fuzz_total() / 5, done = 0;
	uint64_t st[2][KDTLS_STAT_MAX + 1], ns[KDTLS_STAT_MAX + 1];
	uint64_t udp0, udp1, sum = 0, t0;
	uint64_t batches = 0;
	int bad = 0, i, j, err;

	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	if (idx == 0)
		total += fuzz_total() % 5;
	th_log("seed: KDTLS_FUZZ_SEED=%llu (this test: %llu), %llu datagrams",
	       (unsigned long long)fuzz_seed(), (unsigned long long)seed,
	       (unsigned long long)total);
	rng_state = seed;
	ASSERT_EQ(netns_fresh(), 0);
	ASSERT_EQ(kt_nl_init(), 0);
	rx_setup(&rxs[0], AF_INET, cipher, false, 64);
	rx_setup(&rxs[1], AF_INET6, cipher, true, 1024);
	udp0 = udp_in_errors();
	t0 = kt_now_ms();

	while (done < total) {
		struct rx *x = &rxs[rn(2)];
		struct mmsghdr mm[BATCH];
		struct iovec iov[BATCH];
		bool from_peer = rn(8) != 0, vd[BATCH];
		int n = BATCH, sent;

		if (total - done < BATCH)
			n = (int)(total - done);
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < n; i++) {
			make_datagram(x, cipher, i, from_peer, &vd[i]);
			iov[i].iov_base = dg[i];
			iov[i].iov_len = dg_len[i];
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &x->b.addr;
			mm[i].msg_hdr.msg_namelen = x->b.alen;
		}
		/* a valid record "from" the non-peer used a sequence number
		 * of R's: harmless, the association never accepted it */
		for (i = 0; i < n; i += sent) {
			sent = sendmmsg(from_peer ? x->r.fd : x->n.fd, mm + i,
					n - i, 0);
			if (sent <= 0) {
				/* count the datagram as not sent; skip it */
				if (bad++ < 5)
					TH_LOG("sendmmsg (%zu bytes): %s",
					       dg_len[i], strerror(errno));
				sent = 1;
				continue;
			}
			x->sent += (uint64_t)sent;
			done += (uint64_t)sent;
		}
		drain(x, rn(4) != 0, &bad);
		batches++;
		if (x->sent / REKEY_EVERY != (x->sent - (uint64_t)n) / REKEY_EVERY)
			rekey(x, cipher);
		if (bad > 20)
			break;
	}

	/* everything that was sent is accounted for, within 10 s */
	for (j = 0; j < 100; j++) {
		sum = 0;
		for (i = 0; i < 2; i++) {
			drain(&rxs[i], true, &bad);
			ASSERT_EQ(kt_sock_get_stats(rxs[i].b.fd, st[i]), 0);
			sum += accounted(st[i]);
		}
		udp1 = udp_in_errors();
		if (sum + (udp1 - udp0) >= rxs[0].sent + rxs[1].sent)
			break;
		usleep(100 * 1000);
	}
	th_log("%s: %llu datagrams in %.1f s (%llu batches), udp drops %llu",
	       cipher_name(cipher), (unsigned long long)done,
	       (kt_now_ms() - t0) / 1000.0, (unsigned long long)batches,
	       (unsigned long long)(udp1 - udp0));
	for (i = 0; i < 2; i++) {
		struct rx *x = &rxs[i];
		int s;
		char line[1024];
		int o = 0;

		o += snprintf(line + o, sizeof(line) - o,
			      "B%d: sent %llu, accounted %llu, valid %llu/%llu, epoch %u:",
			      i ? 6 : 4, (unsigned long long)x->sent,
			      (unsigned long long)accounted(st[i]),
			      (unsigned long long)x->valid_got,
			      (unsigned long long)x->valid_sent, x->epoch);
		for (s = KDTLS_STAT_RX_RECORDS; s <= KDTLS_STAT_DROP_NOMEM; s++)
			if (st[i][s] && s != KDTLS_STAT_RX_BYTES)
				o += snprintf(line + o, sizeof(line) - o,
					      " %s %llu", kt_stat_names[s],
					      (unsigned long long)st[i][s]);
		th_log("%s", line);
		if (udp1 == udp0) {
			EXPECT_EQ(accounted(st[i]), x->sent);
			EXPECT_EQ(x->valid_got, x->valid_sent);
			EXPECT_EQ(st[i][KDTLS_STAT_RX_RECORDS], x->valid_sent);
		} else {
			EXPECT_LE(x->valid_got, x->valid_sent);
		}
		EXPECT_EQ(st[i][KDTLS_STAT_RX_RECORDS], x->valid_got);
		/* what we saw is what the kernel says it passed on */
		EXPECT_EQ(st[i][KDTLS_STAT_RX_TO_APP], x->to_app);
		EXPECT_GE(st[i][KDTLS_STAT_RX_TO_AGENT], x->to_agent);
	}
	EXPECT_EQ(sum + (udp1 - udp0), rxs[0].sent + rxs[1].sent);
	/* the namespace's counters are the two sockets' */
	err = ns_stats(ns);
	EXPECT_GT(err, 0);
	for (i = KDTLS_STAT_RX_RECORDS; i <= KDTLS_STAT_DROP_NOMEM; i++)
		if (ns[i] != st[0][i] + st[1][i]) {
			TH_LOG("/proc/net/kdtls/stat %s = %llu, sockets %llu",
			       kt_stat_names[i], (unsigned long long)ns[i],
			       (unsigned long long)(st[0][i] + st[1][i]));
			EXPECT_EQ(ns[i], st[0][i] + st[1][i]);
		}
	EXPECT_EQ(bad, 0);
	th_log("figure: datagrams-fuzzed %llu", (unsigned long long)done);

	for (i = 0; i < 2; i++) {
		close(rxs[i].b.fd);
		close(rxs[i].r.fd);
		close(rxs[i].n.fd);
		if (rxs[i].agent >= 0)
			close(rxs[i].agent);
	}
}

TEST_TIMEOUT(aes_128_gcm, 150) { fuzz_cipher(KDTLS_CIPHER_AES_128_GCM, 0); }
TEST_TIMEOUT(aes_256_gcm, 150) { fuzz_cipher(KDTLS_CIPHER_AES_256_GCM, 1); }
TEST_TIMEOUT(chacha20_poly1305, 150) { fuzz_cipher(KDTLS_CIPHER_CHACHA20_POLY1305, 2); }
TEST_TIMEOUT(aes_128_ccm, 150) { fuzz_cipher(KDTLS_CIPHER_AES_128_CCM, 3); }
TEST_TIMEOUT(aes_128_ccm_8, 150) { fuzz_cipher(KDTLS_CIPHER_AES_128_CCM_8, 4); }

/* ---- afterwards: the module unloads cleanly, and is loaded again ----- */

static bool module_path(char *path, size_t len)
{
	const char *e = getenv("KDTLS_VM_MODULE"), *out = getenv("KDTLS_VM_OUT");
	struct utsname u;
	char line[1024];
	FILE *f;

	if (e && *e) {
		snprintf(path, len, "%s", e);
		return access(path, R_OK) == 0;
	}
	/* scripts/vm-run's guest configuration names the module it loaded */
	if (out) {
		snprintf(line, sizeof(line), "%s/.conf", out);
		f = fopen(line, "r");
		if (f) {
			while (fgets(line, sizeof(line), f)) {
				char *v;

				if (strncmp(line, "KDTLS_VM_MODULE='", 17))
					continue;
				v = line + 17;
				v[strcspn(v, "'\n")] = '\0';
				snprintf(path, len, "%s", v);
			}
			fclose(f);
			if (path[0] && access(path, R_OK) == 0)
				return true;
		}
	}
	uname(&u);
	snprintf(path, len, "build/%s/kmod/kdtls.ko", u.release);
	return access(path, R_OK) == 0;
}

TEST_TIMEOUT(module_unload_reload, 60)
{
	char path[1024] = "";
	int fd, err = 0, i;

	if (geteuid() != 0 || access("/sys/module/kdtls", F_OK))
		SKIP("needs root and kdtls.ko loaded: run in the VM");
	ASSERT_TRUE(module_path(path, sizeof(path)));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	/* the fuzzed sockets and namespaces go away asynchronously */
	for (i = 0; i < 200; i++) {
		err = (int)syscall(SYS_delete_module, "kdtls", O_NONBLOCK);
		if (!err || (errno != EBUSY && errno != EAGAIN))
			break;
		usleep(100 * 1000);
	}
	if (err)
		TH_LOG("delete_module(kdtls): %s after %d tries", strerror(errno), i);
	EXPECT_EQ(err, 0);
	EXPECT_TRUE(access("/sys/module/kdtls", F_OK) != 0 || err);
	if (!err) {
		err = (int)syscall(SYS_finit_module, fd, "", 0);
		if (err)
			TH_LOG("finit_module(%s): %s", path, strerror(errno));
		ASSERT_EQ(err, 0);
		th_log("kdtls.ko unloaded after %d tries and loaded again from %s",
		       i + 1, path);
	}
	close(fd);
	ASSERT_EQ(access("/sys/module/kdtls", F_OK), 0);
}

TEST_HARNESS_MAIN
