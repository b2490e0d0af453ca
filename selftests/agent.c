// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake agent path: "record" notifications delivered from softirq,
 * record-send, a gone or slow agent, and the "events" multicast group.
 *
 *   agent netlink socket  <--- record notifications (unicast) ---  kdtls
 *                          --- sock-attach (agent flag) --------->
 *   R (plain UDP, has an association on B) ---- datagrams ----> B (attached)
 *   N (plain UDP, no association)          ---- datagrams ----> B
 *
 * B is attached by the agent's own netlink socket (so that socket is B's
 * agent); every other request goes through the test's usual socket.  B
 * holds an association for R: TX epoch 1 (key kbr), RX epoch 1 (key krb).
 * Notifications are waited for with poll() on the agent's socket while
 * nobody calls recv() on B: they are produced in softirq.
 */
#include "harness.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <netlink/genl/genl.h>

#include "lib/kt_agent.h"
#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)	((struct sockaddr *)&(s)->addr)
#define CIPHER	KDTLS_CIPHER_AES_128_GCM

FIXTURE(ag) {
	struct nl_sock *agent;
	struct kt_sock b, r, n;
	struct kt_key kbr, krb;
	uint32_t id;
	uint64_t r_seq;		/* next seq R seals with */
};

static struct kt_ntf ntf;	/* large: not on the stack */

FIXTURE_SETUP(ag)
{
	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_nl_init(), 0);
	self->agent = kt_agent_new();
	ASSERT_TRUE(self->agent != NULL);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->b), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->r), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->n), 0);
	ASSERT_EQ(kt_attach_on(self->agent, self->b.fd, KDTLS_SOCK_F_AGENT,
			       &self->id), 0);
	ASSERT_NE(self->id, 0);
	kt_key_make(&self->kbr, CIPHER, 1, 0, 11);
	kt_key_make(&self->krb, CIPHER, 1, 0, 12);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->r), CIPHER, &self->kbr,
			       &self->krb, 0), 0);
}

FIXTURE_TEARDOWN(ag)
{
	close(self->b.fd);
	close(self->r.fd);
	close(self->n.fd);
	if (self->agent)
		nl_socket_free(self->agent);
}

/* a ClientHello-like epoch-0 datagram of @len bytes */
static size_t hello(uint8_t *d, uint16_t version, uint64_t seq, size_t len)
{
	size_t i;

	kt_hdr_put(d, KDTLS_CT_HANDSHAKE, version, 0, seq,
		   (uint16_t)(len - KT_HDR_LEN));
	for (i = KT_HDR_LEN; i < len; i++)
		d[i] = (uint8_t)(i * 13 + seq);
	return len;
}

static int r_seal_send(FIXTURE_DATA(ag) *self, const struct kt_key *k,
		       uint8_t type, uint16_t epoch, uint64_t seq,
		       const void *pt, size_t len, uint8_t *rec, size_t cap)
{
	struct kt_rec h = { .type = type, .epoch = epoch, .seq = seq };
	int n = kt_evp_seal(CIPHER, k->key, k->salt, &h, pt, len, rec, cap);

	if (n < 0)
		return n;
	if (sendto(self->r.fd, rec, n, 0, SA(&self->b), self->b.alen) != n)
		return -1;
	return n;
}

/* read @n datagrams from @fd, each within @ms; return how many came */
static int read_n(int fd, int n, int ms)
{
	uint8_t buf[2048];
	int i;

	for (i = 0; i < n; i++)
		if (kt_recv_timeout(fd, buf, sizeof(buf), ms) < 0)
			break;
	return i;
}

/* nothing reached the agent within @ms */
static void expect_no_ntf(FIXTURE_DATA(ag) *self, int ms)
{
	int r = kt_ntf_recv(self->agent, &ntf, ms);

	if (r > 0)
		TH_LOG("unexpected notification: cmd %u type %u, %d bytes",
		       ntf.cmd, ntf.type, ntf.data_len);
	EXPECT_EQ(r, 0);
}

/* the notification for a datagram @d of @len bytes from @from, verbatim */
static void expect_verbatim_ntf(FIXTURE_DATA(ag) *self,
				const struct sockaddr *from, uint8_t type,
				const uint8_t *d, size_t len)
{
	ASSERT_EQ(kt_ntf_recv(self->agent, &ntf, 3000), 1);
	EXPECT_EQ(ntf.cmd, KDTLS_CMD_RECORD);
	ASSERT_TRUE(ntf.has_sock_id);
	EXPECT_EQ(ntf.sock_id, self->id);
	ASSERT_TRUE(ntf.has_peer);
	EXPECT_TRUE(kt_addr_eq((void *)&ntf.peer, from));
	EXPECT_EQ(ntf.peer.ss_family, AF_INET);	/* AF_INET socket */
	ASSERT_TRUE(ntf.has_type);
	EXPECT_EQ(ntf.type, type);
	ASSERT_TRUE(ntf.has_flags);
	EXPECT_EQ(ntf.flags, 0);
	EXPECT_FALSE(ntf.has_epoch);
	EXPECT_FALSE(ntf.has_seq);
	ASSERT_EQ(ntf.data_len, (int)len);
	ASSERT_MEMEQ(ntf.data, d, len);
}

TEST_F(ag, epoch0_from_nonpeer_goes_to_agent_in_softirq)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	uint8_t d[300], buf[512];
	size_t len = hello(d, 0xfeff, 0, sizeof(d));

	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
	ASSERT_EQ(sendto(self->n.fd, d, len, 0, SA(&self->b), self->b.alen),
		  (ssize_t)len);
	/* nobody reads B: the notification must come anyway */
	expect_verbatim_ntf(self, SA(&self->n), KDTLS_CT_HANDSHAKE, d, len);
	/* consumed in softirq: B has nothing queued */
	EXPECT_FALSE(kt_wait_readable(self->b.fd, 0));
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	kt_stats_log("B", before, after);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_APP], before[KDTLS_STAT_RX_TO_APP]);
	EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS], before[KDTLS_STAT_RX_RECORDS]);
	EXPECT_EQ(after[KDTLS_STAT_DROP_NO_AGENT],
		  before[KDTLS_STAT_DROP_NO_AGENT]);

	/* several in a row, none read by the application, order kept */
	{
		uint8_t e[5][64];
		int i;

		for (i = 0; i < 5; i++) {
			hello(e[i], 0xfefd, (uint64_t)i + 1, 40 + i);
			ASSERT_EQ(sendto(self->n.fd, e[i], 40 + i, 0,
					 SA(&self->b), self->b.alen), 40 + i);
		}
		for (i = 0; i < 5; i++)
			expect_verbatim_ntf(self, SA(&self->n),
					    KDTLS_CT_HANDSHAKE, e[i],
					    (size_t)(40 + i));
	}
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	expect_no_ntf(self, 100);
}

TEST_F(ag, epoch0_from_known_peer_goes_to_agent)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	uint8_t d[100], buf[128];
	size_t len = hello(d, 0xfefd, 7, sizeof(d));

	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), before), 0);
	ASSERT_EQ(sendto(self->r.fd, d, len, 0, SA(&self->b), self->b.alen),
		  (ssize_t)len);
	expect_verbatim_ntf(self, SA(&self->r), KDTLS_CT_HANDSHAKE, d, len);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT] + 1);
}

/* a peer's Finished before its keys reach the kernel (kdtls.rst table) */
TEST_F(ag, epoch1_from_nonpeer_goes_to_agent)
{
	uint8_t d[128], buf[128];
	struct kt_rec h = { .type = KDTLS_CT_HANDSHAKE, .epoch = 1, .seq = 0 };
	int n = kt_evp_seal(CIPHER, self->krb.key, self->krb.salt, &h,
			    "finished-msg", 12, d, sizeof(d));

	ASSERT_GT(n, 0);
	ASSERT_EQ(sendto(self->n.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	expect_verbatim_ntf(self, SA(&self->n), KDTLS_CT_HANDSHAKE, d, n);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
}

TEST_F(ag, next_epoch_to_agent_and_epoch_plus_two_dropped)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	struct kt_key k2, k3;
	uint8_t d[256], buf[256];
	int n;

	kt_key_make(&k2, CIPHER, 2, 0, 21);
	kt_key_make(&k3, CIPHER, 3, 0, 22);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), before), 0);

	/* epoch 2 = newest RX epoch (1) + 1: a Finished racing a rekey */
	n = r_seal_send(self, &k2, KDTLS_CT_HANDSHAKE, 2, 0, "fin2", 4, d,
			sizeof(d));
	ASSERT_GT(n, 0);
	expect_verbatim_ntf(self, SA(&self->r), KDTLS_CT_HANDSHAKE, d, n);
	/* early application data of the next epoch goes there too */
	n = r_seal_send(self, &k2, KDTLS_CT_APPLICATION_DATA, 2, 1, "early",
			5, d, sizeof(d));
	ASSERT_GT(n, 0);
	expect_verbatim_ntf(self, SA(&self->r), KDTLS_CT_APPLICATION_DATA, d,
			    n);

	/* epoch 3 = newest + 2: dropped, in softirq, without a reader */
	n = r_seal_send(self, &k3, KDTLS_CT_HANDSHAKE, 3, 0, "fin3", 4, d,
			sizeof(d));
	ASSERT_GT(n, 0);
	EXPECT_EQ(kt_wait_stat(self->b.fd, SA(&self->r), KDTLS_STAT_DROP_EPOCH,
			       before[KDTLS_STAT_DROP_EPOCH] + 1, 2000),
		  before[KDTLS_STAT_DROP_EPOCH] + 1);
	expect_no_ntf(self, 200);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	kt_stats_log("B/R", before, after);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT] + 2);
	EXPECT_EQ(after[KDTLS_STAT_DROP_EPOCH],
		  before[KDTLS_STAT_DROP_EPOCH] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS], before[KDTLS_STAT_RX_RECORDS]);

	/* the current epoch still reaches the application */
	n = r_seal_send(self, &self->krb, KDTLS_CT_APPLICATION_DATA, 1, 0,
			"data", 4, d, sizeof(d));
	ASSERT_GT(n, 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_MEMEQ(buf, "data", 4);
	expect_no_ntf(self, 100);
}

/* one hostile datagram from N: counted under @stat, never notified */
static void nonpeer_bad(FIXTURE_DATA(ag) *self, const void *d, size_t len,
			int stat, bool needs_reader)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	uint8_t buf[256];
	ssize_t got = -1;

	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
	ASSERT_EQ(sendto(self->n.fd, d, len, 0, SA(&self->b), self->b.alen),
		  (ssize_t)len);
	if (needs_reader) {
		/* shorter than a header: left for the reader to count */
		kt_expect_drop(self->b.fd, NULL, stat, before[stat] + 1, 2000,
			       &got);
		EXPECT_EQ(got, -1);
	} else {
		/* dropped in softirq: no recv needed */
		kt_wait_stat(self->b.fd, NULL, stat, before[stat] + 1, 2000);
		EXPECT_FALSE(kt_wait_readable(self->b.fd, 0));
	}
	expect_no_ntf(self, 100);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	kt_stats_log("B", before, after);
	EXPECT_EQ(after[stat], before[stat] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT]);
	EXPECT_EQ(after[KDTLS_STAT_DROP_AGENT_BUSY],
		  before[KDTLS_STAT_DROP_AGENT_BUSY]);
}

TEST_F(ag, nonpeer_garbage_dropped_not_notified)
{
	uint8_t d[128];

	TH_LOG("epoch 0, TLS 1.2 version 0x0303");
	hello(d, 0x0303, 0, 60);
	nonpeer_bad(self, d, 60, KDTLS_STAT_DROP_VERSION, false);

	TH_LOG("epoch 0, version 0xfefc");
	hello(d, 0xfefc, 0, 60);
	nonpeer_bad(self, d, 60, KDTLS_STAT_DROP_VERSION, false);

	TH_LOG("epoch 0, header says 100 bytes, 40 follow");
	hello(d, 0xfefd, 0, 53);
	kt_hdr_put(d, KDTLS_CT_HANDSHAKE, 0xfefd, 0, 0, 100);
	nonpeer_bad(self, d, 53, KDTLS_STAT_DROP_MALFORMED, false);

	TH_LOG("epoch 0, a whole record then 5 stray bytes");
	hello(d, 0xfefd, 0, 53);
	memset(d + 53, 0xee, 5);
	nonpeer_bad(self, d, 58, KDTLS_STAT_DROP_MALFORMED, false);

	TH_LOG("epoch 0, content type 99");
	hello(d, 0xfefd, 0, 40);
	d[0] = 99;
	nonpeer_bad(self, d, 40, KDTLS_STAT_DROP_TYPE, false);

	TH_LOG("epoch 2 from a peer without association");
	hello(d, 0xfefd, 0, 60);
	d[3] = 0;
	d[4] = 2;
	nonpeer_bad(self, d, 60, KDTLS_STAT_DROP_EPOCH, false);

	TH_LOG("7 bytes: shorter than a record header");
	memcpy(d, "\x16\xfe\xfd\x00\x00\x00\x00", 7);
	nonpeer_bad(self, d, 7, KDTLS_STAT_DROP_MALFORMED, true);

	TH_LOG("empty datagram");
	nonpeer_bad(self, d, 0, KDTLS_STAT_DROP_MALFORMED, true);
}

TEST_F(ag, encrypted_alert_opened_for_agent)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	uint8_t d[128], buf[128];
	int n;

	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), before), 0);
	n = r_seal_send(self, &self->krb, KDTLS_CT_ALERT, 1, 5, "\x02\x28", 2,
			d, sizeof(d));
	ASSERT_GT(n, 0);
	/* known epoch: stays in B's queue until a reader opens it */
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);

	ASSERT_EQ(kt_ntf_recv(self->agent, &ntf, 2000), 1);
	EXPECT_EQ(ntf.cmd, KDTLS_CMD_RECORD);
	EXPECT_EQ(ntf.sock_id, self->id);
	ASSERT_TRUE(ntf.has_peer);
	EXPECT_TRUE(kt_addr_eq((void *)&ntf.peer, SA(&self->r)));
	ASSERT_TRUE(ntf.has_type);
	EXPECT_EQ(ntf.type, KDTLS_CT_ALERT);
	ASSERT_TRUE(ntf.has_flags);
	EXPECT_EQ(ntf.flags, KDTLS_RECORD_F_OPENED);
	ASSERT_TRUE(ntf.has_epoch);
	EXPECT_EQ(ntf.epoch, 1);
	ASSERT_TRUE(ntf.has_seq);
	EXPECT_EQ(ntf.seq, 5);
	ASSERT_EQ(ntf.data_len, 2);
	EXPECT_MEMEQ(ntf.data, "\x02\x28", 2);

	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS], before[KDTLS_STAT_RX_RECORDS]);

	/* opening it set its replay bit: the same record again is a replay */
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	expect_no_ntf(self, 100);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	EXPECT_EQ(after[KDTLS_STAT_DROP_REPLAY],
		  before[KDTLS_STAT_DROP_REPLAY] + 1);

	/* a forged alert (bad tag, fresh seq) never reaches the agent */
	{
		struct kt_rec h = { .type = KDTLS_CT_ALERT, .epoch = 1,
				    .seq = 7 };

		n = kt_evp_seal(CIPHER, self->krb.key, self->krb.salt, &h,
				"\x02\x28", 2, d, sizeof(d));
		ASSERT_GT(n, 0);
		d[n - 1] ^= 0x80;
		ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b),
				 self->b.alen), n);
	}
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	expect_no_ntf(self, 100);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	EXPECT_EQ(after[KDTLS_STAT_DROP_AUTH], before[KDTLS_STAT_DROP_AUTH] + 1);
}

/* R receives one datagram and opens it with B's TX key @k */
static int r_open(FIXTURE_DATA(ag) *self, const struct kt_key *k,
		  struct kt_rec *h, uint8_t *pt, size_t cap)
{
	static uint8_t wire[20000];
	ssize_t n = kt_recv_timeout(self->r.fd, wire, sizeof(wire), 2000);

	if (n < 0)
		return (int)n;
	return kt_evp_open(CIPHER, k->key, k->salt, wire, n, h, pt, cap);
}

TEST_F(ag, record_send_verbatim_and_sealed)
{
	struct kt_assoc_info ai;
	uint8_t d[200], wire[512], pt[512];
	struct kt_rec h;
	uint64_t s0;
	size_t len;
	ssize_t n;
	int i;

	/* verbatim epoch-0 flight (two records in one datagram) */
	len = hello(d, 0xfefd, 3, 60);
	len += hello(d + len, 0xfefd, 4, 50);
	ASSERT_EQ(kt_record_send(self->b.fd, SA(&self->r), KDTLS_CT_HANDSHAKE,
				 0, d, len), 0);
	n = kt_recv_timeout(self->r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(n, (ssize_t)len);
	ASSERT_MEMEQ(wire, d, len);
	/* and to a peer without association */
	ASSERT_EQ(kt_record_send(self->b.fd, SA(&self->n), KDTLS_CT_HANDSHAKE,
				 0, d, 60), 0);
	ASSERT_EQ(kt_recv_timeout(self->n.fd, wire, sizeof(wire), 2000), 60);
	ASSERT_MEMEQ(wire, d, 60);

	/* move the TX sequence on a little first */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(sendto(self->b.fd, "x", 1, 0, SA(&self->r),
				 self->r.alen), 1);
	ASSERT_EQ(read_n(self->r.fd, 3, 2000), 3);

	ASSERT_EQ(kt_assoc_get(self->b.fd, SA(&self->r), &ai), 0);
	s0 = ai.tx_seq;
	EXPECT_EQ(s0, 3);
	EXPECT_EQ(ai.tx_epoch, 1);

	/* sealed alert: epoch = TX epoch, seq = the next TX seq */
	ASSERT_EQ(kt_record_send(self->b.fd, SA(&self->r), KDTLS_CT_ALERT,
				 KDTLS_RECORD_F_SEAL, "\x01\x00", 2), 0);
	ASSERT_EQ(r_open(self, &self->kbr, &h, pt, sizeof(pt)), 2);
	EXPECT_EQ(h.type, KDTLS_CT_ALERT);
	EXPECT_EQ(h.epoch, 1);
	EXPECT_EQ(h.seq, s0);
	EXPECT_MEMEQ(pt, "\x01\x00", 2);

	/* the application's next send: seq + 1, no pair reused */
	ASSERT_EQ(sendto(self->b.fd, "after", 5, 0, SA(&self->r),
			 self->r.alen), 5);
	ASSERT_EQ(r_open(self, &self->kbr, &h, pt, sizeof(pt)), 5);
	EXPECT_EQ(h.type, KDTLS_CT_APPLICATION_DATA);
	EXPECT_EQ(h.epoch, 1);
	EXPECT_EQ(h.seq, s0 + 1);
	EXPECT_MEMEQ(pt, "after", 5);

	/* interleaved: a sealed handshake record, then data */
	ASSERT_EQ(kt_record_send(self->b.fd, SA(&self->r), KDTLS_CT_HANDSHAKE,
				 KDTLS_RECORD_F_SEAL, "finished", 8), 0);
	ASSERT_EQ(r_open(self, &self->kbr, &h, pt, sizeof(pt)), 8);
	EXPECT_EQ(h.type, KDTLS_CT_HANDSHAKE);
	EXPECT_EQ(h.seq, s0 + 2);
	ASSERT_EQ(sendto(self->b.fd, "d2", 2, 0, SA(&self->r), self->r.alen),
		  2);
	ASSERT_EQ(r_open(self, &self->kbr, &h, pt, sizeof(pt)), 2);
	EXPECT_EQ(h.seq, s0 + 3);
	ASSERT_EQ(kt_assoc_get(self->b.fd, SA(&self->r), &ai), 0);
	EXPECT_EQ(ai.tx_seq, s0 + 4);

	/* after a TX rekey, seal uses the new epoch and its own counter */
	{
		struct kt_key k2;

		kt_key_make(&k2, CIPHER, 2, 100, 31);
		ASSERT_EQ(kt_rekey(self->b.fd, SA(&self->r), &k2, NULL), 0);
		ASSERT_EQ(kt_record_send(self->b.fd, SA(&self->r),
					 KDTLS_CT_ALERT, KDTLS_RECORD_F_SEAL,
					 "\x01\x00", 2), 0);
		ASSERT_EQ(r_open(self, &k2, &h, pt, sizeof(pt)), 2);
		EXPECT_EQ(h.epoch, 2);
		EXPECT_EQ(h.seq, 100);
		ASSERT_EQ(sendto(self->b.fd, "d3", 2, 0, SA(&self->r),
				 self->r.alen), 2);
		ASSERT_EQ(r_open(self, &k2, &h, pt, sizeof(pt)), 2);
		EXPECT_EQ(h.epoch, 2);
		EXPECT_EQ(h.seq, 101);
	}
	/* record-send never produced a notification */
	expect_no_ntf(self, 50);
}

/* B and R exchange one record each way through B's association */
static void data_both_ways(FIXTURE_DATA(ag) *self, const char *tag)
{
	uint8_t d[256], buf[256], pt[256];
	struct kt_rec h;
	size_t len = strlen(tag);
	int n;

	ASSERT_EQ(sendto(self->b.fd, tag, len, 0, SA(&self->r), self->r.alen),
		  (ssize_t)len);
	ASSERT_EQ(r_open(self, &self->kbr, &h, pt, sizeof(pt)), (int)len);
	ASSERT_MEMEQ(pt, tag, len);
	n = r_seal_send(self, &self->krb, KDTLS_CT_APPLICATION_DATA, 1,
			self->r_seq++, tag, len, d, sizeof(d));
	ASSERT_GT(n, 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000),
		  (ssize_t)len);
	ASSERT_MEMEQ(buf, tag, len);
}

/* recv with a control buffer: the record type of a non-data datagram */
static ssize_t recv_rtype(int fd, void *buf, size_t len, int *rtype)
{
	char cbuf[CMSG_SPACE(16)];
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t r;

	*rtype = -1;
	if (!kt_wait_readable(fd, 2000))
		return -EAGAIN;
	r = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (r < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_KDTLS &&
		    cm->cmsg_type == KDTLS_CMSG_RECORD_TYPE &&
		    cm->cmsg_len == CMSG_LEN(1))
			*rtype = *(uint8_t *)CMSG_DATA(cm);
	return r;
}

/*
 * The agent's netlink socket closes (uapi.rst, sock-set): the kernel forgets
 * it, so the socket has no agent: handshake datagrams wait for the reader,
 * which gets them with their record type or drops them (drop-no-agent), and
 * a netlink socket that later gets the same port id receives nothing.  The
 * established association keeps carrying data both ways (invariant 4).
 */
TEST_F(ag, agent_gone_forgotten_keeps_data)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	struct kt_sock_info si;
	struct nl_sock *squat;
	uint8_t d[100], buf[128];
	uint32_t port;
	int i, rtype;

	data_both_ways(self, "before");
	ASSERT_EQ(kt_sock_get(self->b.fd, &si), 0);
	port = nl_socket_get_local_port(self->agent);
	EXPECT_EQ(si.agent_portid, port);
	EXPECT_EQ(si.flags, KDTLS_SOCK_F_AGENT);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
	nl_socket_free(self->agent);
	self->agent = NULL;

	ASSERT_EQ(kt_sock_get(self->b.fd, &si), 0);
	EXPECT_EQ(si.agent_portid, 0);
	EXPECT_EQ(si.flags, 0);

	/* someone else binds the old port id */
	squat = nl_socket_alloc();
	ASSERT_TRUE(squat != NULL);
	nl_socket_set_local_port(squat, port);
	ASSERT_EQ(genl_connect(squat), 0);
	ASSERT_EQ(nl_socket_get_local_port(squat), port);

	for (i = 0; i < 3; i++) {
		hello(d, 0xfefd, (uint64_t)i, sizeof(d));
		ASSERT_EQ(sendto(self->n.fd, d, sizeof(d), 0, SA(&self->b),
				 self->b.alen), (ssize_t)sizeof(d));
	}
	/* one to a reader without a control buffer: dropped, counted */
	EXPECT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000),
		  -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	EXPECT_EQ(after[KDTLS_STAT_DROP_NO_AGENT],
		  before[KDTLS_STAT_DROP_NO_AGENT] + 3);
	/* with a control buffer: to the application with its type */
	hello(d, 0xfefd, 9, sizeof(d));
	ASSERT_EQ(sendto(self->n.fd, d, sizeof(d), 0, SA(&self->b),
			 self->b.alen), (ssize_t)sizeof(d));
	ASSERT_EQ(recv_rtype(self->b.fd, buf, sizeof(buf), &rtype),
		  (ssize_t)sizeof(d));
	EXPECT_EQ(rtype, KDTLS_CT_HANDSHAKE);
	EXPECT_MEMEQ(buf, d, sizeof(d));
	/* and the squatter got none of it */
	{
		struct pollfd p = { .fd = nl_socket_get_fd(squat),
				    .events = POLLIN };

		EXPECT_EQ(poll(&p, 1, 100), 0);
	}
	nl_socket_free(squat);

	data_both_ways(self, "after the agent left");
	data_both_ways(self, "and again");
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	kt_stats_log("B", before, after);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT]);
	EXPECT_EQ(after[KDTLS_STAT_DROP_AGENT_BUSY],
		  before[KDTLS_STAT_DROP_AGENT_BUSY]);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_APP],
		  before[KDTLS_STAT_RX_TO_APP] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS],
		  before[KDTLS_STAT_RX_RECORDS] + 2);
	EXPECT_EQ(after[KDTLS_STAT_TX_RECORDS],
		  before[KDTLS_STAT_TX_RECORDS] + 2);
}

/* a restarted agent takes the socket back with sock-set */
TEST_F(ag, new_agent_takes_over_with_sock_set)
{
	struct nl_sock *ag2 = kt_agent_new();
	struct kt_sock_info si;
	struct nl_msg *m;
	uint8_t d[80];

	ASSERT_TRUE(ag2 != NULL);
	nl_socket_free(self->agent);
	self->agent = NULL;
	m = kt_msg_new(KDTLS_CMD_SOCK_SET, false);
	ASSERT_TRUE(m != NULL);
	nla_put_u32(m, KDTLS_A_SOCK_FD, self->b.fd);
	nla_put_u32(m, KDTLS_A_SOCK_FLAGS, KDTLS_SOCK_F_AGENT);
	ASSERT_EQ(kt_nl_request_on(ag2, m, NULL, NULL), 0);
	ASSERT_EQ(kt_sock_get(self->b.fd, &si), 0);
	EXPECT_EQ(si.agent_portid, nl_socket_get_local_port(ag2));
	self->agent = ag2;
	hello(d, 0xfefd, 1, sizeof(d));
	ASSERT_EQ(sendto(self->n.fd, d, sizeof(d), 0, SA(&self->b),
			 self->b.alen), (ssize_t)sizeof(d));
	expect_verbatim_ntf(self, SA(&self->n), KDTLS_CT_HANDSHAKE, d,
			    sizeof(d));
}

#define FLOOD	300

TEST_F_TIMEOUT(ag, agent_rcvbuf_full_never_blocks, 90)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	uint64_t t0, took;
	int one = 1, i, got, fd = nl_socket_get_fd(self->agent);
	uint8_t d[600];
	socklen_t sl = sizeof(one);

	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, &sl), 0);
	TH_LOG("agent SO_RCVBUF now %d", one);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);

	t0 = kt_now_ms();
	for (i = 0; i < FLOOD; i++) {
		hello(d, 0xfefd, (uint64_t)i, sizeof(d));
		ASSERT_EQ(sendto(self->n.fd, d, sizeof(d), 0, SA(&self->b),
				 self->b.alen), (ssize_t)sizeof(d));
		/* the data path goes on meanwhile */
		if (i % 50 == 25)
			data_both_ways(self, "during the flood");
	}
	took = kt_now_ms() - t0;
	TH_LOG("%d datagrams + data exchanges in %llu ms", FLOOD,
	       (unsigned long long)took);
	kt_wait_stat(self->b.fd, NULL, KDTLS_STAT_DROP_AGENT_BUSY,
		     before[KDTLS_STAT_DROP_AGENT_BUSY] + 1, 2000);
	/* every flooded datagram is accounted for: to the agent or busy */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
		if (after[KDTLS_STAT_RX_TO_AGENT] +
		    after[KDTLS_STAT_DROP_AGENT_BUSY] >=
		    before[KDTLS_STAT_RX_TO_AGENT] +
		    before[KDTLS_STAT_DROP_AGENT_BUSY] + FLOOD)
			break;
		poll(NULL, 0, 20);
	}
	kt_stats_log("B", before, after);
	EXPECT_GT(after[KDTLS_STAT_DROP_AGENT_BUSY],
		  before[KDTLS_STAT_DROP_AGENT_BUSY]);
	EXPECT_GT(after[KDTLS_STAT_RX_TO_AGENT],
		  before[KDTLS_STAT_RX_TO_AGENT]);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_AGENT] -
		  before[KDTLS_STAT_RX_TO_AGENT] +
		  after[KDTLS_STAT_DROP_AGENT_BUSY] -
		  before[KDTLS_STAT_DROP_AGENT_BUSY], FLOOD);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_APP], before[KDTLS_STAT_RX_TO_APP]);
	ASSERT_EQ(kt_recv_nb(self->b.fd, d, sizeof(d)), -EAGAIN);
	data_both_ways(self, "after the flood");

	/* what was queued is all there; then the agent gets new ones again */
	got = kt_ntf_drain(self->agent);
	TH_LOG("agent had %d notifications queued", got);
	EXPECT_EQ((uint64_t)got, after[KDTLS_STAT_RX_TO_AGENT] -
				 before[KDTLS_STAT_RX_TO_AGENT]);
	hello(d, 0xfefd, 999, 80);
	ASSERT_EQ(sendto(self->n.fd, d, 80, 0, SA(&self->b), self->b.alen),
		  80);
	expect_verbatim_ntf(self, SA(&self->n), KDTLS_CT_HANDSHAKE, d, 80);
}

/* ---- the events multicast group ---- */

static void expect_event(struct nl_sock *ev, uint8_t cmd, uint32_t id,
			 const struct sockaddr *peer)
{
	ASSERT_EQ(kt_ntf_recv(ev, &ntf, 2000), 1);
	EXPECT_EQ(ntf.cmd, cmd);
	ASSERT_TRUE(ntf.has_sock_id);
	EXPECT_EQ(ntf.sock_id, id);
	if (peer) {
		ASSERT_TRUE(ntf.has_peer);
		EXPECT_TRUE(kt_addr_eq((void *)&ntf.peer, peer));
	} else {
		EXPECT_FALSE(ntf.has_peer);
	}
	EXPECT_EQ(ntf.data_len, -1);	/* never any record data, or keys */
}

TEST_F(ag, events_assoc_del_and_sock_close)
{
	struct nl_sock *ev = kt_events_new();
	struct kt_sock s;
	uint32_t sid;

	ASSERT_TRUE(ev != NULL);
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->r)), 0);
	expect_event(ev, KDTLS_CMD_ASSOC_DEL_NTF, self->id, SA(&self->r));
	/* a failed delete says nothing */
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->r)), -ENOENT);
	ASSERT_EQ(kt_ntf_recv(ev, &ntf, 100), 0);

	/* closing the attached socket (no association left) */
	close(self->b.fd);
	self->b.fd = -1;
	expect_event(ev, KDTLS_CMD_SOCK_DETACH_NTF, self->id, NULL);
	ASSERT_EQ(kt_ntf_recv(ev, &ntf, 100), 0);

	/* sock-detach of another socket */
	ASSERT_EQ(kt_udp_open(AF_INET6, &s), 0);
	ASSERT_EQ(kt_attach(s.fd, 0, &sid), 0);
	ASSERT_EQ(kt_detach(s.fd), 0);
	expect_event(ev, KDTLS_CMD_SOCK_DETACH_NTF, sid, NULL);
	close(s.fd);
	ASSERT_EQ(kt_ntf_recv(ev, &ntf, 100), 0);
	nl_socket_free(ev);
}

/*
 * kdtls.yaml, assoc-del-ntf: "an association was deleted (also by socket
 * close)".  A close with associations says so for each, and the socket's
 * detach comes too.
 */
TEST_F(ag, events_close_with_assocs)
{
	struct nl_sock *ev = kt_events_new();
	struct kt_sock r2;
	bool seen_r = false, seen_r2 = false, seen_detach = false;
	int i, r;

	ASSERT_TRUE(ev != NULL);
	ASSERT_EQ(kt_udp_open(AF_INET, &r2), 0);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&r2), CIPHER, &self->kbr,
			       &self->krb, 0), 0);
	close(self->b.fd);
	self->b.fd = -1;
	for (i = 0; i < 4; i++) {
		r = kt_ntf_recv(ev, &ntf, 1000);
		if (r <= 0)
			break;
		TH_LOG("event: cmd %u sock-id %u%s%s", ntf.cmd, ntf.sock_id,
		       ntf.has_peer ? " peer " : "",
		       ntf.has_peer ? kt_addr_str((void *)&ntf.peer) : "");
		if (ntf.sock_id != self->id)
			continue;
		if (ntf.cmd == KDTLS_CMD_SOCK_DETACH_NTF)
			seen_detach = true;
		else if (ntf.cmd == KDTLS_CMD_ASSOC_DEL_NTF && ntf.has_peer) {
			seen_r |= kt_addr_eq((void *)&ntf.peer, SA(&self->r));
			seen_r2 |= kt_addr_eq((void *)&ntf.peer, SA(&r2));
		}
	}
	/*
	 * One sock-detach-ntf stands for all the socket's associations (a
	 * server may hold 100 000): no assoc-del-ntf per association.
	 */
	EXPECT_TRUE(seen_detach);
	EXPECT_FALSE(seen_r);
	EXPECT_FALSE(seen_r2);
	close(r2.fd);
	nl_socket_free(ev);
}

TEST_HARNESS_MAIN
