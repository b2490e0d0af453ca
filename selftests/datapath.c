// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls data path, run as root in the test VM with kdtls.ko loaded.
 *
 *            records (kdtls seals/opens)
 *     A  <-------------------------------->  B        attached
 *     |  \                                 /
 *     |   \ records (A seals, R captures  / records (R seals with EVP,
 *     |    \ and opens with EVP)         /   B opens)
 *     |     `-------------->  R  <------'
 *                           plain UDP, no kdtls: the "wire"
 *
 * A and B hold mirrored associations (A's TX key is B's RX key).  A and B
 * also hold an association for R's address, so R sees exactly the records
 * kdtls puts on the wire and can inject records of its own.  A's TX key for
 * R is the golden key (golden_params.h), starting at GOLDEN_SEQ, so A's
 * first record to R must equal the checked-in golden record.
 *
 * Variants: 5 ciphers x IPv4/IPv6 x connected/unconnected.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"
#include "golden.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
#ifndef UDP_CORK
#define UDP_CORK 1
#endif

#define SA(s)	((struct sockaddr *)&(s)->addr)

FIXTURE(dp) {
	struct kt_sock a, b, r;
	const struct kt_cipher *c;
	struct kt_key kab, kba, kar, kra, kbr, krb;
	uint64_t r_seq;		/* next seq R seals with for B */
	uint64_t a_seq;		/* next seq A uses towards R */
};

FIXTURE_VARIANT(dp) {
	unsigned int cipher;
	int family;
	bool connected;
};

#define DP_VARIANTS(name, cipher_)					\
	FIXTURE_VARIANT_ADD(dp, name##_ipv4) {				\
		.cipher = cipher_, .family = AF_INET,			\
	};								\
	FIXTURE_VARIANT_ADD(dp, name##_ipv6) {				\
		.cipher = cipher_, .family = AF_INET6,			\
	};								\
	FIXTURE_VARIANT_ADD(dp, name##_ipv4_connected) {		\
		.cipher = cipher_, .family = AF_INET, .connected = true,\
	};								\
	FIXTURE_VARIANT_ADD(dp, name##_ipv6_connected) {		\
		.cipher = cipher_, .family = AF_INET6, .connected = true,\
	}

DP_VARIANTS(aes_128_gcm, KDTLS_CIPHER_AES_128_GCM);
DP_VARIANTS(aes_256_gcm, KDTLS_CIPHER_AES_256_GCM);
DP_VARIANTS(chacha20_poly1305, KDTLS_CIPHER_CHACHA20_POLY1305);
DP_VARIANTS(aes_128_ccm, KDTLS_CIPHER_AES_128_CCM);
DP_VARIANTS(aes_128_ccm_8, KDTLS_CIPHER_AES_128_CCM_8);

FIXTURE_SETUP(dp)
{
	unsigned int cipher = variant->cipher;

	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_nl_init(), 0);
	self->c = kt_cipher(cipher);
	ASSERT_TRUE(self->c != NULL);
	ASSERT_EQ(kt_udp_pair(variant->family, variant->connected, &self->a,
			      &self->b), 0);
	ASSERT_EQ(kt_udp_open(variant->family, &self->r), 0);

	kt_key_make(&self->kab, cipher, 1, 0, 1);
	kt_key_make(&self->kba, cipher, 1, 0, 2);
	kt_key_make(&self->kar, cipher, GOLDEN_EPOCH, GOLDEN_SEQ, 3);
	memcpy(self->kar.key, golden_key, sizeof(golden_key));
	memcpy(self->kar.salt, golden_salt, sizeof(golden_salt));
	kt_key_make(&self->kra, cipher, 1, 0, 4);
	kt_key_make(&self->kbr, cipher, 1, 0, 5);
	kt_key_make(&self->krb, cipher, 1, 0, 6);
	self->a_seq = GOLDEN_SEQ;

	ASSERT_EQ(kt_attach(self->a.fd, 0, NULL), 0);
	ASSERT_EQ(kt_attach(self->b.fd, 0, NULL), 0);
	ASSERT_EQ(kt_assoc_add(self->a.fd, SA(&self->b), cipher, &self->kab,
			       &self->kba, 0), 0);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->a), cipher, &self->kba,
			       &self->kab, 0), 0);
	ASSERT_EQ(kt_assoc_add(self->a.fd, SA(&self->r), cipher, &self->kar,
			       &self->kra, 0), 0);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->r), cipher, &self->kbr,
			       &self->krb, 0), 0);
}

FIXTURE_TEARDOWN(dp)
{
	close(self->a.fd);
	close(self->b.fd);
	close(self->r.fd);
}

/* send from @from to @to, with send() when connected to it */
static ssize_t dp_send(const FIXTURE_VARIANT(dp) *variant,
		       struct kt_sock *from, struct kt_sock *to,
		       const void *buf, size_t len, int flags)
{
	if (variant->connected)
		return send(from->fd, buf, len, flags);
	return sendto(from->fd, buf, len, flags, SA(to), to->alen);
}

/* A sends to R: connect A to R first in the connected variants */
static void a_to_r_mode(FIXTURE_DATA(dp) *self,
			const FIXTURE_VARIANT(dp) *variant)
{
	if (variant->connected)
		ASSERT_EQ(kt_udp_connect(&self->a, &self->r), 0);
}

/* R's records reach B only if B is not connected elsewhere */
static void r_to_b_mode(FIXTURE_DATA(dp) *self,
			const FIXTURE_VARIANT(dp) *variant)
{
	if (variant->connected)
		ASSERT_EQ(kt_udp_connect(&self->b, &self->r), 0);
}

/* R seals a record with @k and sends it to @to; returns the record */
static int r_send_sealed(FIXTURE_DATA(dp) *self, unsigned int cipher,
			 const struct kt_key *k, uint16_t epoch, uint64_t seq,
			 uint8_t type, const void *pt, size_t len,
			 struct kt_sock *to, uint8_t *rec, size_t cap)
{
	struct kt_rec r = { .type = type, .epoch = epoch, .seq = seq };
	int n = kt_evp_seal(cipher, k->key, k->salt, &r, pt, len, rec, cap);

	if (n < 0)
		return n;
	if (sendto(self->r.fd, rec, n, 0, SA(to), to->alen) != n)
		return -1;
	return n;
}

/* R receives one datagram within 2 s and opens it with A's key for R */
static int r_capture_open(FIXTURE_DATA(dp) *self, unsigned int cipher,
			  const struct kt_key *k, uint8_t *wire, size_t *wlen,
			  struct kt_rec *hdr, uint8_t *pt, size_t cap)
{
	ssize_t n = kt_recv_timeout(self->r.fd, wire, *wlen, 2000);

	if (n < 0)
		return (int)n;
	*wlen = (size_t)n;
	return kt_evp_open(cipher, k->key, k->salt, wire, n, hdr, pt, cap);
}

TEST_F(dp, send_recv_both_ways)
{
	static const size_t sizes[] = { 1, 2, 100, 1400, 4096, 16384 };
	static uint8_t out[16384], in[16384 + 64];
	size_t i, j;

	for (i = 0; i < KT_ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < sizes[i]; j++)
			out[j] = (uint8_t)(j * 7 + i);
		ASSERT_EQ(dp_send(variant, &self->a, &self->b, out, sizes[i], 0),
			  (ssize_t)sizes[i]);
		ASSERT_EQ(kt_recv_timeout(self->b.fd, in, sizeof(in), 2000),
			  (ssize_t)sizes[i]);
		ASSERT_MEMEQ(in, out, sizes[i]);

		out[0] ^= 0xff;
		ASSERT_EQ(dp_send(variant, &self->b, &self->a, out, sizes[i], 0),
			  (ssize_t)sizes[i]);
		ASSERT_EQ(kt_recv_timeout(self->a.fd, in, sizeof(in), 2000),
			  (ssize_t)sizes[i]);
		ASSERT_MEMEQ(in, out, sizes[i]);
	}
}

TEST_F(dp, sendmsg_recvmsg_peer_name)
{
	char p1[] = "scatter ", p2[] = "gather";
	struct iovec iov[2] = {
		{ p1, strlen(p1) }, { p2, strlen(p2) },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct sockaddr_storage from;
	char buf[64];
	struct iovec riov = { buf, sizeof(buf) };
	struct msghdr rh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &riov, .msg_iovlen = 1,
	};

	if (!variant->connected) {
		mh.msg_name = SA(&self->b);
		mh.msg_namelen = self->b.alen;
	}
	ASSERT_EQ(sendmsg(self->a.fd, &mh, 0), 14);
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	ASSERT_EQ(recvmsg(self->b.fd, &rh, 0), 14);
	ASSERT_MEMEQ(buf, "scatter gather", 14);
	ASSERT_EQ(rh.msg_flags & MSG_TRUNC, 0);
	ASSERT_EQ(rh.msg_namelen, self->a.alen);
	ASSERT_TRUE(kt_addr_eq((struct sockaddr *)&from, SA(&self->a)));
	ASSERT_EQ(((struct sockaddr *)&from)->sa_family, variant->family);

	/* and back, B -> A */
	if (!variant->connected) {
		mh.msg_name = SA(&self->a);
		mh.msg_namelen = self->a.alen;
	}
	rh.msg_namelen = sizeof(from);
	ASSERT_EQ(sendmsg(self->b.fd, &mh, 0), 14);
	ASSERT_TRUE(kt_wait_readable(self->a.fd, 2000));
	ASSERT_EQ(recvmsg(self->a.fd, &rh, 0), 14);
	ASSERT_TRUE(kt_addr_eq((struct sockaddr *)&from, SA(&self->b)));
}

/* kernel -> OpenSSL: what A puts on the wire opens with EVP */
TEST_F(dp, wire_kernel_to_openssl)
{
	static const char *msgs[] = { "first record", "second", "x" };
	uint8_t wire[256], pt[256];
	struct kt_rec h;
	size_t i;

	a_to_r_mode(self, variant);
	for (i = 0; i < KT_ARRAY_SIZE(msgs); i++) {
		size_t len = strlen(msgs[i]), wlen = sizeof(wire);

		ASSERT_EQ(dp_send(variant, &self->a, &self->r, msgs[i], len, 0),
			  (ssize_t)len);
		ASSERT_EQ(r_capture_open(self, variant->cipher, &self->kar,
					 wire, &wlen, &h, pt, sizeof(pt)),
			  (int)len);
		ASSERT_MEMEQ(pt, msgs[i], len);
		ASSERT_EQ(wlen, KT_HDR_LEN + self->c->explicit_len + len +
				self->c->tag_len);
		ASSERT_EQ(h.type, KDTLS_CT_APPLICATION_DATA);
		ASSERT_EQ(h.version, KDTLS_VERSION_1_2);
		ASSERT_EQ(h.epoch, 1);
		ASSERT_EQ(h.seq, GOLDEN_SEQ + i);
		if (len > 3)
			ASSERT_FALSE(kt_contains(wire, wlen, msgs[i], len));
		if (self->c->explicit_len) {
			/* explicit nonce = epoch || seq */
			uint8_t es[8] = { 0, 1, 0, 0, 0, 0, 0,
					  (uint8_t)(GOLDEN_SEQ + i) };

			ASSERT_MEMEQ(wire + KT_HDR_LEN, es, 8);
		}
	}
}

/* the first record A seals for R is byte-identical to the golden record */
TEST_F(dp, golden_record)
{
	uint8_t wire[256];
	ssize_t n;

	a_to_r_mode(self, variant);
	ASSERT_EQ(dp_send(variant, &self->a, &self->r, GOLDEN_PLAINTEXT,
			  sizeof(GOLDEN_PLAINTEXT) - 1, 0),
		  (ssize_t)sizeof(GOLDEN_PLAINTEXT) - 1);
	n = kt_recv_timeout(self->r.fd, wire, sizeof(wire), 2000);
	ASSERT_EQ(n, (ssize_t)golden_records[variant->cipher].len);
	ASSERT_MEMEQ(wire, golden_records[variant->cipher].rec, n);
}

/* OpenSSL -> kernel: records R seals with EVP come out of B in plaintext */
TEST_F(dp, wire_openssl_to_kernel)
{
	uint8_t rec[256], buf[256];
	struct sockaddr_storage from;
	socklen_t flen;
	int i;

	r_to_b_mode(self, variant);
	for (i = 0; i < 3; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "from openssl %d", i);

		ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1,
					self->r_seq++, 23, msg, len, &self->b,
					rec, sizeof(rec)), 0);
		ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
		flen = sizeof(from);
		ASSERT_EQ(recvfrom(self->b.fd, buf, sizeof(buf), MSG_DONTWAIT,
				   (struct sockaddr *)&from, &flen), len);
		ASSERT_MEMEQ(buf, msg, len);
		ASSERT_TRUE(kt_addr_eq((struct sockaddr *)&from, SA(&self->r)));
	}
	/* out of order within the window is fine */
	ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1, 10, 23,
				"ten", 3, &self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 3);
	ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1, 7, 23,
				"seven", 5, &self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 5);
	ASSERT_MEMEQ(buf, "seven", 5);
}

/* no association: ENOKEY, counted, and nothing on the wire */
TEST_F(dp, send_without_assoc)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	struct kt_sock n;
	char buf[64];

	ASSERT_EQ(kt_udp_open(variant->family, &n), 0);
	ASSERT_EQ(kt_sock_get_stats(self->a.fd, before), 0);
	errno = 0;
	ASSERT_EQ(sendto(self->a.fd, "plaintext!", 10, 0, SA(&n), n.alen), -1);
	ASSERT_EQ(errno, ENOKEY);
	if (variant->connected) {
		ASSERT_EQ(kt_udp_connect(&self->a, &n), 0);
		errno = 0;
		ASSERT_EQ(send(self->a.fd, "plaintext!", 10, 0), -1);
		ASSERT_EQ(errno, ENOKEY);
	}
	/* the association for B deleted: B is a peer without one now */
	ASSERT_EQ(kt_assoc_del(self->a.fd, SA(&self->b)), 0);
	errno = 0;
	ASSERT_EQ(sendto(self->a.fd, "plaintext!", 10, 0, SA(&self->b),
			 self->b.alen), -1);
	ASSERT_EQ(errno, ENOKEY);

	ASSERT_EQ(kt_sock_get_stats(self->a.fd, after), 0);
	EXPECT_EQ(after[KDTLS_STAT_TX_NO_ASSOC],
		  before[KDTLS_STAT_TX_NO_ASSOC] + (variant->connected ? 3 : 2));
	EXPECT_EQ(after[KDTLS_STAT_TX_RECORDS], before[KDTLS_STAT_TX_RECORDS]);

	/* a sentinel from R is the first thing N receives */
	ASSERT_EQ(sendto(self->r.fd, "sentinel", 8, 0, SA(&n), n.alen), 8);
	ASSERT_EQ(kt_recv_timeout(n.fd, buf, sizeof(buf), 2000), 8);
	ASSERT_MEMEQ(buf, "sentinel", 8);
	close(n.fd);
	/* and B got nothing (the sentinel trick again, via A's peer R) */
	if (!variant->connected) {
		ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	}
}

/* short buffer: what fits, MSG_TRUNC, record consumed */
TEST_F(dp, short_buffer_truncates)
{
	char big[100], buf[16];
	struct iovec iov = { buf, 10 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int i;

	for (i = 0; i < 100; i++)
		big[i] = (char)('a' + i % 26);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, big, 100, 0), 100);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, "next", 4, 0), 4);
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	ASSERT_EQ(recvmsg(self->b.fd, &mh, 0), 10);
	ASSERT_TRUE(mh.msg_flags & MSG_TRUNC);
	ASSERT_MEMEQ(buf, big, 10);
	/* the truncated record is gone: the next read is the next record */
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_MEMEQ(buf, "next", 4);
	/* plain recv() with a short buffer behaves the same */
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, big, 100, 0), 100);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, 3, 2000), 3);
	ASSERT_MEMEQ(buf, big, 3);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
}

TEST_F(dp, msg_peek_refused)
{
	char buf[32];

	ASSERT_EQ(dp_send(variant, &self->a, &self->b, "peek", 4, 0), 4);
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	errno = 0;
	ASSERT_EQ(recv(self->b.fd, buf, sizeof(buf), MSG_PEEK), -1);
	ASSERT_EQ(errno, EOPNOTSUPP);
	/* the refused peek did not eat the record */
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_MEMEQ(buf, "peek", 4);
}

TEST_F(dp, msg_more_and_udp_options)
{
	int one = 1, zero = 0, seg = 100, val = -1;
	socklen_t vlen = sizeof(val);
	char buf[32];

	errno = 0;
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, "more", 4, MSG_MORE), -1);
	ASSERT_EQ(errno, EOPNOTSUPP);
	ASSERT_ERRNO(setsockopt(self->a.fd, IPPROTO_UDP, UDP_CORK, &one,
				sizeof(one)), EOPNOTSUPP);
	ASSERT_ERRNO(setsockopt(self->a.fd, IPPROTO_UDP, UDP_ENCAP, &one,
				sizeof(one)), EBUSY);
	/* UDP_SEGMENT is kept by kdtls, in plaintext bytes per record */
	ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
			     sizeof(seg)), 0);
	ASSERT_EQ(getsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &val,
			     &vlen), 0);
	ASSERT_EQ(val, 100);
	seg = 16385;
	ASSERT_ERRNO(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
				sizeof(seg)), EINVAL);
	ASSERT_ERRNO(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
				1), EINVAL);
	ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &zero,
			     sizeof(zero)), 0);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &one,
			     sizeof(one)), 0);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &zero,
			     sizeof(zero)), 0);
	/* still a working, uncorked socket: the next record is the first B sees */
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, "after", 5, 0), 5);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 5);
	ASSERT_MEMEQ(buf, "after", 5);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
}

/*
 * UDP GSO: a send of 1000 bytes with UDP_SEGMENT 300 (cmsg, then socket
 * option, then from two iovecs) leaves as records of 300, 300, 300 and 100
 * bytes of plaintext, each a whole record with the next sequence number,
 * opened by OpenSSL.  The batch's plaintext is sealed from the sender's
 * pinned pages; with two iovecs only the first (450 bytes) is pinned, so
 * the second record is where sealing goes on by copying, across the
 * iovecs' boundary.
 */
TEST_F(dp, gso_every_segment_is_a_record)
{
	char payload[1000], cbuf[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov[2] = { { payload, sizeof(payload) } };
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	uint8_t wire[512], pt[512];
	uint64_t seq0 = 0;
	struct cmsghdr *cm;
	struct kt_rec h;
	int round, i, seg = 300;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 13 + 1);
	a_to_r_mode(self, variant);
	if (!variant->connected) {
		mh.msg_name = SA(&self->r);
		mh.msg_namelen = self->r.alen;
	}
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	*(uint16_t *)CMSG_DATA(cm) = 300;

	for (round = 0; round < 3; round++) {
		if (round == 1) {
			/* the socket option, no cmsg */
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
			ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP,
					     UDP_SEGMENT, &seg, sizeof(seg)), 0);
		}
		if (round == 2) {
			iov[0].iov_len = 450;
			iov[1].iov_base = payload + 450;
			iov[1].iov_len = sizeof(payload) - 450;
			mh.msg_iovlen = 2;
		}
		ASSERT_EQ(sendmsg(self->a.fd, &mh, 0), (ssize_t)sizeof(payload));
		/* the application's cmsg is left as it gave it */
		if (round == 0)
			ASSERT_EQ(*(uint16_t *)CMSG_DATA(cm), 300);
		for (i = 0; i < 4; i++) {
			size_t wlen = sizeof(wire);
			int want = i < 3 ? 300 : 100;
			int n = r_capture_open(self, variant->cipher,
					       &self->kar, wire, &wlen, &h, pt,
					       sizeof(pt));

			ASSERT_EQ(n, want);
			ASSERT_MEMEQ(pt, payload + i * 300, want);
			ASSERT_FALSE(kt_contains(wire, wlen, payload + i * 300,
						 16));
			if (round == 0 && i == 0)
				seq0 = h.seq;
			ASSERT_EQ(h.seq, seq0 + round * 4 + i);
		}
	}
	ASSERT_EQ(kt_recv_nb(self->r.fd, wire, sizeof(wire)), -EAGAIN);
}

/*
 * A send that fits one record is one plain datagram, whatever UDP_SEGMENT
 * says: a segment size of 65535 (which would wrap once the record overhead
 * is added) or one larger than the association's max-payload must not cut
 * the record, and a batch with such a segment size is refused.
 */
TEST_F(dp, gso_single_record_is_never_cut)
{
	char payload[300], cbuf[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov = { payload, 200 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	static const uint16_t segs[] = { 65535, 16384, 200 };
	uint8_t wire[1024], pt[1024];
	struct cmsghdr *cm;
	struct kt_rec h;
	size_t i;

	memset(payload, 'S', sizeof(payload));
	a_to_r_mode(self, variant);
	if (!variant->connected) {
		mh.msg_name = SA(&self->r);
		mh.msg_namelen = self->r.alen;
	}
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	for (i = 0; i < KT_ARRAY_SIZE(segs); i++) {
		size_t wlen = sizeof(wire);

		memcpy(CMSG_DATA(cm), &segs[i], sizeof(segs[i]));
		ASSERT_EQ(sendmsg(self->a.fd, &mh, 0), 200);
		ASSERT_EQ(r_capture_open(self, variant->cipher, &self->kar,
					 wire, &wlen, &h, pt, sizeof(pt)), 200);
		ASSERT_EQ(memcmp(CMSG_DATA(cm), &segs[i], sizeof(segs[i])), 0);
	}
	/* a batch of records larger than max-payload: refused, nothing sent */
	{
		static char big[30000];
		uint16_t seg = 20000;

		iov.iov_base = big;
		iov.iov_len = sizeof(big);
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		errno = 0;
		ASSERT_EQ(sendmsg(self->a.fd, &mh, 0), -1);
		ASSERT_EQ(errno, EMSGSIZE);
	}
	ASSERT_EQ(kt_recv_nb(self->r.fd, wire, sizeof(wire)), -EAGAIN);
}

/*
 * UDP GRO: B turns UDP_GRO on and gets a GSO batch of A's records as one
 * read, plaintexts back to back, the plaintext segment size in UDP_GRO.
 * Loopback hands the GSO skb over whole, as a NIC's GRO would coalesce.
 */
TEST_F(dp, gro_reads_a_batch_in_one_pass)
{
	char payload[2000], in[4096];
	char cbuf[CMSG_SPACE(sizeof(int)) * 4];
	struct iovec iov = { in, sizeof(in) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	uint64_t s0[KDTLS_STAT_MAX + 1], s1[KDTLS_STAT_MAX + 1];
	int one = 1, seg = 400, gro = -1, i, n, got = 0, reads = 0;
	struct cmsghdr *cm;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 5 + 3);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &one,
			     sizeof(one)), 0);
	ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
			     sizeof(seg)), 0);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s0), 0);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, payload,
			  sizeof(payload), 0), (ssize_t)sizeof(payload));
	while (got < (int)sizeof(payload) && reads < 5) {
		ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(self->b.fd, &mh, MSG_DONTWAIT);
		ASSERT_GT(n, 0);
		ASSERT_MEMEQ(in, payload + got, n);
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_UDP &&
			    cm->cmsg_type == UDP_GRO)
				memcpy(&gro, CMSG_DATA(cm), sizeof(gro));
		got += n;
		reads++;
	}
	ASSERT_EQ(got, (int)sizeof(payload));
	TH_LOG("%d bytes in %d read(s), UDP_GRO %d", got, reads, gro);
	ASSERT_EQ(reads, 1);
	ASSERT_EQ(gro, 400);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s1), 0);
	ASSERT_EQ(s1[KDTLS_STAT_RX_RECORDS] - s0[KDTLS_STAT_RX_RECORDS], 5);
	ASSERT_EQ(s1[KDTLS_STAT_RX_BYTES] - s0[KDTLS_STAT_RX_BYTES], 2000);
}

/*
 * R (plain UDP, its own GSO) sends B one datagram of @n records sealed with
 * R's key for B, as one GSO batch: record i has sequence number @seqs[i]
 * and @lens[i] bytes of the letter @fill + i; record @bad (-1: none) gets a
 * bad tag.  Returns the bytes sent, or -1.
 */
static ssize_t r_send_batch(FIXTURE_DATA(dp) *self,
			    const FIXTURE_VARIANT(dp) *variant,
			    const uint64_t *seqs, const int *lens, int n,
			    char fill, int bad)
{
	uint8_t batch[8 * 256], rec[256];
	char cbuf[CMSG_SPACE(sizeof(uint16_t))], pt[64];
	struct iovec iov = { batch, 0 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		.msg_name = SA(&self->b), .msg_namelen = self->b.alen,
	};
	struct kt_rec h = { .type = KDTLS_CT_APPLICATION_DATA, .epoch = 1 };
	struct cmsghdr *cm;
	int i, len, seg = 0;
	size_t off = 0;

	if (n > 8)
		return -1;
	for (i = 0; i < n; i++) {
		memset(pt, fill + i, sizeof(pt));
		h.seq = seqs[i];
		len = kt_evp_seal(variant->cipher, self->krb.key,
				  self->krb.salt, &h, pt, lens[i], rec,
				  sizeof(rec));
		if (len <= 0)
			return -1;
		if (i == bad)
			rec[len - 1] ^= 0x80;
		if (!seg)
			seg = len;
		memcpy(batch + off, rec, len);
		off += len;
	}
	iov.iov_len = off;
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	*(uint16_t *)CMSG_DATA(cm) = (uint16_t)seg;
	return sendmsg(self->r.fd, &mh, 0) == (ssize_t)off ? (ssize_t)off : -1;
}

/* One read of B: its length, and the UDP_GRO cmsg's value in *@gro (0:
 * none) and the sender in @from */
static ssize_t b_read(FIXTURE_DATA(dp) *self, void *buf, size_t len,
		      int *gro, struct sockaddr_storage *from)
{
	char cbuf[CMSG_SPACE(sizeof(int)) * 4];
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		.msg_name = from, .msg_namelen = sizeof(*from),
	};
	struct cmsghdr *cm;
	ssize_t n;

	if (kt_wait_readable(self->b.fd, 2000) != 1)
		return -ETIMEDOUT;
	n = recvmsg(self->b.fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	*gro = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO)
			memcpy(gro, CMSG_DATA(cm), sizeof(*gro));
	return n;
}

/*
 * sock-gro: kdtls turns UDP GRO on for B, whose reader never set UDP_GRO.
 * R's GSO batch stays one coalesced datagram in B's queue (SIOCINQ gives
 * its whole length), yet B reads one record per read, in order, from R,
 * without a UDP_GRO cmsg, and poll() sees the records left; the one with a
 * bad tag is dropped alone.  When the reader sets UDP_GRO itself it gets
 * coalesced plaintexts; sock-gro off then leaves UDP's GRO to it, and with
 * UDP_GRO off too a batch is one datagram per record again.
 */
TEST_F(dp, sock_gro_reads_one_record_at_a_time)
{
	static const uint64_t seqs[5] = { 30, 31, 32, 33, 34 };
	static const int lens[5] = { 40, 40, 40, 40, 25 };
	static const uint64_t seqs2[3] = { 40, 41, 42 };
	static const int lens2[3] = { 30, 30, 30 };
	static const uint64_t seqs3[2] = { 50, 51 };
	uint64_t s0[KDTLS_STAT_MAX + 1], s1[KDTLS_STAT_MAX + 1];
	struct sockaddr_storage from;
	struct kt_sock_info si;
	socklen_t vl = sizeof(int);
	int val, gro, pending, i;
	uint8_t in[2048];
	ssize_t n;

	r_to_b_mode(self, variant);
	ASSERT_EQ(kt_sock_set_gro(self->b.fd, true), 0);
	ASSERT_EQ(kt_sock_get(self->b.fd, &si), 0);
	ASSERT_EQ(si.gro, 1);
	/* the application's own UDP_GRO is still off */
	ASSERT_EQ(getsockopt(self->b.fd, SOL_UDP, UDP_GRO, &val, &vl), 0);
	ASSERT_EQ(val, 0);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s0), 0);

	ASSERT_GT(r_send_batch(self, variant, seqs, lens, 5, 'k', 2), 0);
	ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
	ASSERT_EQ(ioctl(self->b.fd, SIOCINQ, &pending), 0);
	TH_LOG("first datagram in the queue: %d bytes", pending);
	ASSERT_GT(pending, 3 * 40);	/* a record is 40 + at most 37 */
	for (i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		n = b_read(self, in, sizeof(in), &gro, &from);
		ASSERT_EQ(n, lens[i]);
		ASSERT_EQ(gro, 0);
		ASSERT_TRUE(kt_addr_eq((struct sockaddr *)&from, SA(&self->r)));
		for (int j = 0; j < lens[i]; j++)
			ASSERT_EQ(in[j], 'k' + i);
		if (i < 4)	/* the rest is still there for poll() */
			ASSERT_EQ(kt_wait_readable(self->b.fd, 0), 1);
	}
	ASSERT_EQ(kt_recv_nb(self->b.fd, in, sizeof(in)), -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s1), 0);
	ASSERT_EQ(s1[KDTLS_STAT_RX_RECORDS] - s0[KDTLS_STAT_RX_RECORDS], 4);
	ASSERT_EQ(s1[KDTLS_STAT_RX_BYTES] - s0[KDTLS_STAT_RX_BYTES], 145);
	ASSERT_EQ(s1[KDTLS_STAT_DROP_AUTH] - s0[KDTLS_STAT_DROP_AUTH], 1);

	/* the reader asks for GRO: coalesced plaintexts, as plain UDP */
	val = 1;
	ASSERT_EQ(setsockopt(self->b.fd, SOL_UDP, UDP_GRO, &val, sizeof(val)),
		  0);
	ASSERT_GT(r_send_batch(self, variant, seqs2, lens2, 3, 'x', -1), 0);
	ASSERT_EQ(b_read(self, in, sizeof(in), &gro, &from), 90);
	ASSERT_EQ(gro, 30);

	/* sock-gro off: UDP_GRO stays the reader's; then the reader's off */
	ASSERT_EQ(kt_sock_set_gro(self->b.fd, false), 0);
	ASSERT_EQ(getsockopt(self->b.fd, SOL_UDP, UDP_GRO, &val, &vl), 0);
	ASSERT_EQ(val, 1);
	val = 0;
	ASSERT_EQ(setsockopt(self->b.fd, SOL_UDP, UDP_GRO, &val, sizeof(val)),
		  0);
	ASSERT_GT(r_send_batch(self, variant, seqs3, lens2, 2, 'p', -1), 0);
	ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
	ASSERT_EQ(ioctl(self->b.fd, SIOCINQ, &pending), 0);
	ASSERT_LT(pending, 100);	/* one record: UDP split the batch */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(b_read(self, in, sizeof(in), &gro, &from), 30);
		ASSERT_EQ(gro, 0);
		ASSERT_EQ(in[0], 'p' + i);
	}
}

/*
 * sock-gro with two readers: two processes read B while R sends 8 batches
 * of 8 records.  Each record is read exactly once: none is opened twice
 * (a second open would be a replay) and none is lost.
 */
TEST_F(dp, sock_gro_two_readers_share_the_records)
{
	static const int lens[8] = { 20, 20, 20, 20, 20, 20, 20, 20 };
	uint64_t s0[KDTLS_STAT_MAX + 1], s1[KDTLS_STAT_MAX + 1];
	uint64_t seqs[8];
	int pipefd[2], got = 0, c, b, i, status;
	pid_t pid[2];
	uint8_t in[256];

	r_to_b_mode(self, variant);
	ASSERT_EQ(kt_sock_set_gro(self->b.fd, true), 0);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s0), 0);
	ASSERT_EQ(pipe(pipefd), 0);
	for (c = 0; c < 2; c++) {
		pid[c] = fork();
		ASSERT_GE(pid[c], 0);
		if (!pid[c]) {
			int n = 0;

			while (kt_recv_timeout(self->b.fd, in, sizeof(in),
					       1000) == 20)
				n++;
			_exit(write(pipefd[1], &n, sizeof(n)) == sizeof(n) ?
			      0 : 1);
		}
	}
	for (b = 0; b < 8; b++) {
		for (i = 0; i < 8; i++)
			seqs[i] = 100 + b * 8 + i;
		ASSERT_GT(r_send_batch(self, variant, seqs, lens, 8, 'a', -1),
			  0);
	}
	for (c = 0; c < 2; c++) {
		int n;

		ASSERT_EQ(waitpid(pid[c], &status, 0), pid[c]);
		ASSERT_EQ(status, 0);
		ASSERT_EQ(read(pipefd[0], &n, sizeof(n)), sizeof(n));
		TH_LOG("reader %d: %d records", c, n);
		got += n;
	}
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(got, 64);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s1), 0);
	ASSERT_EQ(s1[KDTLS_STAT_RX_RECORDS] - s0[KDTLS_STAT_RX_RECORDS], 64);
	ASSERT_EQ(s1[KDTLS_STAT_DROP_REPLAY] - s0[KDTLS_STAT_DROP_REPLAY], 0);
}

/*
 * GRO with hostile segments: R (plain UDP, its own GSO) sends B one batch
 * of six records sealed with R's key for B: a good one, one with a bad
 * tag, a replay of the first, two good ones and a short last one.  B reads
 * the four good plaintexts in one read; the bad tag and the replay are
 * dropped alone and counted.  A reader with a short buffer gets MSG_TRUNC.
 */
TEST_F(dp, gro_drops_only_the_bad_records)
{
	static const uint64_t seqs[6] = { 10, 11, 10, 12, 13, 14 };
	static const int lens[6] = { 40, 40, 40, 40, 40, 20 };
	static const uint64_t seqs2[3] = { 20, 21, 22 };
	uint64_t s0[KDTLS_STAT_MAX + 1], s1[KDTLS_STAT_MAX + 1];
	uint8_t in[2048];
	int one = 1, i;

	r_to_b_mode(self, variant);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &one,
			     sizeof(one)), 0);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s0), 0);
	ASSERT_GT(r_send_batch(self, variant, seqs, lens, 6, 'a', 1), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, in, sizeof(in), 2000), 140);
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(in[i], 'a');
		ASSERT_EQ(in[40 + i], 'd');
		ASSERT_EQ(in[80 + i], 'e');
	}
	for (i = 0; i < 20; i++)
		ASSERT_EQ(in[120 + i], 'f');
	ASSERT_EQ(kt_recv_nb(self->b.fd, in, sizeof(in)), -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s1), 0);
	ASSERT_EQ(s1[KDTLS_STAT_RX_RECORDS] - s0[KDTLS_STAT_RX_RECORDS], 4);
	ASSERT_EQ(s1[KDTLS_STAT_DROP_AUTH] - s0[KDTLS_STAT_DROP_AUTH], 1);
	ASSERT_EQ(s1[KDTLS_STAT_DROP_REPLAY] - s0[KDTLS_STAT_DROP_REPLAY], 1);

	/* three records of 'x', 'y', 'z' read into 50 bytes: truncated */
	ASSERT_GT(r_send_batch(self, variant, seqs2, lens, 3, 'x', -1), 0);
	{
		struct iovec riov = { in, 50 };
		struct msghdr rmh = { .msg_iov = &riov, .msg_iovlen = 1 };

		ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
		ASSERT_EQ(recvmsg(self->b.fd, &rmh, MSG_DONTWAIT), 50);
		ASSERT_TRUE(rmh.msg_flags & MSG_TRUNC);
		ASSERT_EQ(in[39], 'x');
		ASSERT_EQ(in[49], 'y');
	}
}

/*
 * A GRO read decrypts records straight into the reader's pinned buffer
 * while they fit in it, then copies.  With two iovecs only the first is
 * pinned: the second record no longer fits there, so the rest of the
 * batch is copied through the iterator, across the iovec boundary, and
 * every byte still arrives in order.
 */
TEST_F(dp, gro_split_buffer_gets_every_byte_in_order)
{
	char payload[2000], in1[500], in2[3000];
	struct iovec iov[2] = { { in1, sizeof(in1) }, { in2, sizeof(in2) } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int one = 1, seg = 400, i;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 7 + 1);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &one,
			     sizeof(one)), 0);
	ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
			     sizeof(seg)), 0);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, payload,
			  sizeof(payload), 0), (ssize_t)sizeof(payload));
	ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
	ASSERT_EQ(recvmsg(self->b.fd, &mh, MSG_DONTWAIT),
		  (ssize_t)sizeof(payload));
	ASSERT_MEMEQ(in1, payload, sizeof(in1));
	ASSERT_MEMEQ(in2, payload + sizeof(in1),
		     sizeof(payload) - sizeof(in1));
}

/*
 * A record that fails to open inside a GRO batch leaves none of its
 * plaintext in the reader's buffer, even past the returned length: GCM and
 * CCM decrypt before they check the tag, straight into that buffer.  The
 * last record of the batch has a bad tag; its bytes ('c') must not appear.
 */
TEST_F(dp, gro_failed_record_leaves_no_plaintext)
{
	static const uint64_t seqs[3] = { 30, 31, 32 };
	static const int lens[3] = { 40, 40, 40 };
	uint64_t s0[KDTLS_STAT_MAX + 1], s1[KDTLS_STAT_MAX + 1];
	uint8_t in[2048];
	int one = 1, i;

	r_to_b_mode(self, variant);
	ASSERT_EQ(setsockopt(self->b.fd, IPPROTO_UDP, UDP_GRO, &one,
			     sizeof(one)), 0);
	memset(in, 0x5a, sizeof(in));
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s0), 0);
	ASSERT_GT(r_send_batch(self, variant, seqs, lens, 3, 'a', 2), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, in, sizeof(in), 2000), 80);
	ASSERT_EQ(in[0], 'a');
	ASSERT_EQ(in[79], 'b');
	for (i = 80; i < (int)sizeof(in); i++)
		ASSERT_NE(in[i], 'c');
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, s1), 0);
	ASSERT_EQ(s1[KDTLS_STAT_DROP_AUTH] - s0[KDTLS_STAT_DROP_AUTH], 1);
}

/* sendfile() and splice() never put plaintext on the wire */
TEST_F(dp, sendfile_splice_no_plaintext)
{
	static const char secret[] = "SECRET-PLAINTEXT-SENDFILE-0123456789";
	uint8_t wire[512], pt[512];
	int mfd, p[2];
	struct kt_rec h;
	ssize_t r;
	int records = 0;

	/* sendfile needs a connected socket: connect A to R in both modes */
	ASSERT_EQ(kt_udp_connect(&self->a, &self->r), 0);
	mfd = memfd_create("kdtls-sendfile", 0);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(write(mfd, secret, sizeof(secret) - 1),
		  (ssize_t)sizeof(secret) - 1);
	ASSERT_EQ(lseek(mfd, 0, SEEK_SET), 0);
	r = sendfile(self->a.fd, mfd, NULL, sizeof(secret) - 1);
	TH_LOG("sendfile: %zd (%s)", r, r < 0 ? strerror(errno) : "ok");

	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(write(p[1], secret, sizeof(secret) - 1),
		  (ssize_t)sizeof(secret) - 1);
	r = splice(p[0], NULL, self->a.fd, NULL, sizeof(secret) - 1, 0);
	TH_LOG("splice: %zd (%s)", r, r < 0 ? strerror(errno) : "ok");
	close(p[0]);
	close(p[1]);
	close(mfd);

	ASSERT_EQ(send(self->a.fd, "sentinel", 8, 0), 8);
	for (;;) {
		size_t wlen = sizeof(wire);
		int n;
		ssize_t got = kt_recv_timeout(self->r.fd, wire, sizeof(wire),
					      2000);

		ASSERT_GT(got, 0);
		wlen = (size_t)got;
		ASSERT_FALSE(kt_contains(wire, wlen, "SECRET", 6));
		n = kt_evp_open(variant->cipher, self->kar.key, self->kar.salt,
				wire, wlen, &h, pt, sizeof(pt));
		ASSERT_GE(n, 0);
		if (n == 8 && !memcmp(pt, "sentinel", 8))
			break;
		records++;
		/* a sealed copy of (part of) the file is fine */
		ASSERT_TRUE(n > 0 && !memcmp(pt, secret, (size_t)n));
	}
	TH_LOG("%d sealed records from sendfile/splice", records);
}

/* detach: the socket is plain UDP again */
TEST_F(dp, detach_makes_plain_udp)
{
	struct kt_sock_info si;
	char buf[256];

	ASSERT_EQ(kt_detach(self->a.fd), 0);
	ASSERT_EQ(kt_detach(self->b.fd), 0);
	ASSERT_NE(kt_sock_get(self->a.fd, &si), 0);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, "plain now", 9, 0), 9);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 9);
	ASSERT_MEMEQ(buf, "plain now", 9);
	/* on the wire too */
	ASSERT_EQ(sendto(self->a.fd, "wire plain", 10, 0, SA(&self->r),
			 self->r.alen), 10);
	ASSERT_EQ(kt_recv_timeout(self->r.fd, buf, sizeof(buf), 2000), 10);
	ASSERT_MEMEQ(buf, "wire plain", 10);
	/* MSG_PEEK works again */
	ASSERT_EQ(dp_send(variant, &self->b, &self->a, "peek", 4, 0), 4);
	ASSERT_TRUE(kt_wait_readable(self->a.fd, 2000));
	ASSERT_EQ(recv(self->a.fd, buf, sizeof(buf), MSG_PEEK), 4);
	ASSERT_EQ(recv(self->a.fd, buf, sizeof(buf), 0), 4);

	/* and it can be attached again */
	ASSERT_EQ(kt_attach(self->a.fd, 0, NULL), 0);
	ASSERT_EQ(kt_assoc_add(self->a.fd, SA(&self->r), variant->cipher,
			       &self->kar, &self->kra, 0), 0);
	ASSERT_EQ(sendto(self->a.fd, GOLDEN_PLAINTEXT,
			 sizeof(GOLDEN_PLAINTEXT) - 1, 0, SA(&self->r),
			 self->r.alen), (ssize_t)sizeof(GOLDEN_PLAINTEXT) - 1);
	ASSERT_EQ(kt_recv_timeout(self->r.fd, buf, sizeof(buf), 2000),
		  (ssize_t)golden_records[variant->cipher].len);
}

/* detach with records already queued: they are read as they arrived */
TEST_F(dp, detach_leaves_queued_ciphertext)
{
	uint8_t buf[256], pt[256];

	ASSERT_EQ(dp_send(variant, &self->b, &self->a, "queued", 6, 0), 6);
	ASSERT_TRUE(kt_wait_readable(self->a.fd, 2000));
	ASSERT_EQ(kt_detach(self->a.fd), 0);
	ASSERT_EQ(kt_recv_nb(self->a.fd, buf, sizeof(buf)),
		  (ssize_t)(KT_HDR_LEN + self->c->explicit_len + 6 +
			    self->c->tag_len));
	ASSERT_EQ(kt_evp_open(variant->cipher, self->kba.key, self->kba.salt,
			      buf, KT_HDR_LEN + self->c->explicit_len + 6 +
			      self->c->tag_len, NULL, pt, sizeof(pt)), 6);
	ASSERT_MEMEQ(pt, "queued", 6);
}

TEST_F(dp, rekey_tx_switches_epoch)
{
	struct kt_key k2;
	struct kt_assoc_info ai;
	uint8_t wire[256], pt[256];
	struct kt_rec h;
	size_t wlen = sizeof(wire);

	a_to_r_mode(self, variant);
	ASSERT_EQ(dp_send(variant, &self->a, &self->r, "epoch one", 9, 0), 9);
	ASSERT_EQ(r_capture_open(self, variant->cipher, &self->kar, wire,
				 &wlen, &h, pt, sizeof(pt)), 9);
	ASSERT_EQ(h.epoch, 1);

	kt_key_make(&k2, variant->cipher, 2, 0, 33);
	ASSERT_EQ(kt_rekey(self->a.fd, SA(&self->r), &k2, NULL), 0);
	ASSERT_EQ(dp_send(variant, &self->a, &self->r, "epoch two", 9, 0), 9);
	wlen = sizeof(wire);
	ASSERT_EQ(r_capture_open(self, variant->cipher, &k2, wire, &wlen, &h,
				 pt, sizeof(pt)), 9);
	ASSERT_MEMEQ(pt, "epoch two", 9);
	ASSERT_EQ(h.epoch, 2);
	ASSERT_EQ(h.seq, 0);
	ASSERT_EQ(kt_assoc_get(self->a.fd, SA(&self->r), &ai), 0);
	EXPECT_EQ(ai.tx_epoch, 2);
	EXPECT_EQ(ai.tx_seq, 1);
	EXPECT_EQ(ai.rx_epoch, 1);
	EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_TX], 1);
	EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_RX], 0);
	/* the new epoch must be greater */
	ASSERT_EQ(kt_rekey(self->a.fd, SA(&self->r), &k2, NULL), -EINVAL);
	k2.epoch = 1;
	ASSERT_EQ(kt_rekey(self->a.fd, SA(&self->r), &k2, NULL), -EINVAL);
}

TEST_F(dp, rekey_rx_keeps_old_epoch_in_grace)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	struct kt_key k2;
	uint8_t rec[256], buf[256];

	r_to_b_mode(self, variant);
	ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1, 0, 23,
				"e1s0", 4, &self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);

	kt_key_make(&k2, variant->cipher, 2, 0, 66);
	ASSERT_EQ(kt_rekey(self->b.fd, SA(&self->r), NULL, &k2), 0);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), before), 0);
	EXPECT_EQ(before[KDTLS_STAT_REKEY_RX], 1);

	ASSERT_GT(r_send_sealed(self, variant->cipher, &k2, 2, 0, 23,
				"e2s0", 4, &self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_MEMEQ(buf, "e2s0", 4);
	/* a late record of the old epoch still opens */
	ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1, 1, 23,
				"e1s1", 4, &self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_MEMEQ(buf, "e1s1", 4);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->r), after), 0);
	EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS],
		  before[KDTLS_STAT_RX_RECORDS] + 2);
}

TEST_F(dp, rekey_rx_old_epoch_expires)
{
	struct kt_assoc_opts o = { .grace_ms = 200 };
	uint64_t end, drops = 0, base;
	struct kt_key k2;
	uint8_t rec[256], buf[256];
	uint64_t seq = 0;
	bool expired = false;

	r_to_b_mode(self, variant);
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->r)), 0);
	ASSERT_EQ(kt_assoc_add_ex(self->b.fd, SA(&self->r), variant->cipher,
				  &self->kbr, &self->krb, &o), 0);
	kt_key_make(&k2, variant->cipher, 2, 0, 66);
	ASSERT_EQ(kt_rekey(self->b.fd, SA(&self->r), NULL, &k2), 0);
	base = kt_wait_stat(self->b.fd, SA(&self->r), KDTLS_STAT_DROP_EPOCH, 0, 0);

	/* poll: old-epoch records open until the grace period ends */
	end = kt_now_ms() + 5000;
	while (kt_now_ms() < end) {
		ssize_t n;

		ASSERT_GT(r_send_sealed(self, variant->cipher, &self->krb, 1,
					seq++, 23, "old", 3, &self->b, rec,
					sizeof(rec)), 0);
		n = kt_recv_timeout(self->b.fd, buf, sizeof(buf), 50);
		if (n == 3)
			continue;
		ASSERT_EQ(n, -EAGAIN);
		drops = kt_expect_drop(self->b.fd, SA(&self->r),
				       KDTLS_STAT_DROP_EPOCH, base + 1, 1000,
				       &n);
		ASSERT_EQ(n, -1);
		if (drops == base + 1) {
			expired = true;
			break;
		}
	}
	ASSERT_TRUE(expired);
	/* the new epoch works */
	ASSERT_GT(r_send_sealed(self, variant->cipher, &k2, 2, 0, 23, "new", 3,
				&self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 3);
}

TEST_F(dp, replay_dropped_and_counted)
{
	uint8_t rec[256], wire[256], buf[256];
	struct kt_key floor_key;
	int n;
	ssize_t w, got;

	r_to_b_mode(self, variant);
	/* an EVP record, sent twice */
	n = r_send_sealed(self, variant->cipher, &self->krb, 1, 7, 23, "once",
			  4, &self->b, rec, sizeof(rec));
	ASSERT_GT(n, 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 4);
	ASSERT_EQ(sendto(self->r.fd, rec, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(kt_expect_drop(self->b.fd, SA(&self->r),
				 KDTLS_STAT_DROP_REPLAY, 1, 2000, &got), 1);
	ASSERT_EQ(got, -1);

	/* a kernel-sealed record captured on the wire and replayed: B's
	 * association for R now expects A's key for R */
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->r)), 0);
	floor_key = self->kar;
	floor_key.seq = 0;
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->r), variant->cipher,
			       &self->kbr, &floor_key, 0), 0);
	ASSERT_EQ(sendto(self->a.fd, "captured", 8, 0, SA(&self->r),
			 self->r.alen), 8);
	w = kt_recv_timeout(self->r.fd, wire, sizeof(wire), 2000);
	ASSERT_GT(w, 0);
	ASSERT_EQ(sendto(self->r.fd, wire, w, 0, SA(&self->b), self->b.alen), w);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 8);
	ASSERT_MEMEQ(buf, "captured", 8);
	ASSERT_EQ(sendto(self->r.fd, wire, w, 0, SA(&self->b), self->b.alen), w);
	ASSERT_EQ(kt_expect_drop(self->b.fd, SA(&self->r),
				 KDTLS_STAT_DROP_REPLAY, 1, 2000, &got), 1);
	ASSERT_EQ(got, -1);
}

/* RX seq is the lowest sequence number accepted */
TEST_F(dp, rx_seq_floor)
{
	struct kt_key k = self->krb;
	uint8_t rec[256], buf[256];
	ssize_t got;

	r_to_b_mode(self, variant);
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->r)), 0);
	k.seq = 100;
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->r), variant->cipher,
			       &self->kbr, &k, 0), 0);
	ASSERT_GT(r_send_sealed(self, variant->cipher, &k, 1, 99, 23, "99", 2,
				&self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_expect_drop(self->b.fd, SA(&self->r),
				 KDTLS_STAT_DROP_REPLAY, 1, 2000, &got), 1);
	ASSERT_EQ(got, -1);
	ASSERT_GT(r_send_sealed(self, variant->cipher, &k, 1, 100, 23, "100", 3,
				&self->b, rec, sizeof(rec)), 0);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 3);
	ASSERT_MEMEQ(buf, "100", 3);
}

TEST_F(dp, stats_count_records_and_bytes)
{
	uint64_t a0[KDTLS_STAT_MAX + 1], b0[KDTLS_STAT_MAX + 1];
	uint64_t a1[KDTLS_STAT_MAX + 1], b1[KDTLS_STAT_MAX + 1];
	uint64_t sa0[KDTLS_STAT_MAX + 1], sa1[KDTLS_STAT_MAX + 1];
	char buf[64] = { 0 };
	int i;

	ASSERT_EQ(kt_assoc_get_stats(self->a.fd, SA(&self->b), a0), 0);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->a), b0), 0);
	ASSERT_EQ(kt_sock_get_stats(self->a.fd, sa0), 0);
	for (i = 1; i <= 3; i++) {
		ASSERT_EQ(dp_send(variant, &self->a, &self->b, buf, 10 * i, 0),
			  10 * i);
		ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000),
			  10 * i);
	}
	ASSERT_EQ(kt_assoc_get_stats(self->a.fd, SA(&self->b), a1), 0);
	ASSERT_EQ(kt_assoc_get_stats(self->b.fd, SA(&self->a), b1), 0);
	ASSERT_EQ(kt_sock_get_stats(self->a.fd, sa1), 0);
	kt_stats_log("A assoc(B)", a0, a1);
	kt_stats_log("B assoc(A)", b0, b1);
	EXPECT_EQ(a1[KDTLS_STAT_TX_RECORDS] - a0[KDTLS_STAT_TX_RECORDS], 3);
	EXPECT_EQ(a1[KDTLS_STAT_TX_BYTES] - a0[KDTLS_STAT_TX_BYTES], 60);
	EXPECT_EQ(b1[KDTLS_STAT_RX_RECORDS] - b0[KDTLS_STAT_RX_RECORDS], 3);
	EXPECT_EQ(b1[KDTLS_STAT_RX_BYTES] - b0[KDTLS_STAT_RX_BYTES], 60);
	EXPECT_EQ(sa1[KDTLS_STAT_TX_RECORDS] - sa0[KDTLS_STAT_TX_RECORDS], 3);
	EXPECT_EQ(sa1[KDTLS_STAT_TX_BYTES] - sa0[KDTLS_STAT_TX_BYTES], 60);
	for (i = KDTLS_STAT_DROP_MALFORMED; i <= KDTLS_STAT_DROP_NOMEM; i++)
		EXPECT_EQ(b1[i], b0[i]);
}

TEST_F(dp, oversized_send_emsgsize)
{
	static char big[16385];
	struct kt_assoc_opts o = { .max_payload = 100 };
	char buf[256];

	errno = 0;
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, big, 16385, 0), -1);
	ASSERT_EQ(errno, EMSGSIZE);
	ASSERT_EQ(kt_assoc_del(self->a.fd, SA(&self->b)), 0);
	ASSERT_EQ(kt_assoc_del(self->b.fd, SA(&self->a)), 0);
	ASSERT_EQ(kt_assoc_add_ex(self->a.fd, SA(&self->b), variant->cipher,
				  &self->kab, &self->kba, &o), 0);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->a), variant->cipher,
			       &self->kba, &self->kab, 0), 0);
	errno = 0;
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, big, 101, 0), -1);
	ASSERT_EQ(errno, EMSGSIZE);
	ASSERT_EQ(dp_send(variant, &self->a, &self->b, big, 100, 0), 100);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 100);
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
}

TEST_F(dp, nonblocking_empty_eagain)
{
	char buf[16];

	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
}

/* IPV6_ADDRFORM would put the stock proto back: refused */
TEST_F(dp, ipv6_addrform_refused)
{
	int v = AF_INET;

	if (variant->family != AF_INET6)
		return;	/* an IPv4 socket has no IPV6_ADDRFORM */
	ASSERT_ERRNO(setsockopt(self->a.fd, IPPROTO_IPV6, IPV6_ADDRFORM, &v,
				sizeof(v)), EBUSY);
}

/* ---- IPv4 peers of AF_INET6 sockets ---- */

FIXTURE(mapped) {
	struct kt_sock v4, v6;
	struct kt_key k46, k64;
};

FIXTURE_VARIANT(mapped) {
	bool as_addr6;		/* association by v4-mapped peer-addr6 */
};

FIXTURE_VARIANT_ADD(mapped, peer_addr4) { .as_addr6 = false };
FIXTURE_VARIANT_ADD(mapped, peer_addr6_mapped) { .as_addr6 = true };

FIXTURE_SETUP(mapped)
{
	struct sockaddr_in6 *in6 = (void *)&self->v6.addr;
	struct kt_assoc_opts o = { .peer_as_addr6 = variant->as_addr6 };
	int off = 0;

	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_udp_open(AF_INET, &self->v4), 0);
	self->v6.fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_GE(self->v6.fd, 0);
	ASSERT_EQ(setsockopt(self->v6.fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			     sizeof(off)), 0);
	memset(in6, 0, sizeof(*in6));
	in6->sin6_family = AF_INET6;
	self->v6.alen = sizeof(*in6);
	ASSERT_EQ(bind(self->v6.fd, SA(&self->v6), self->v6.alen), 0);
	ASSERT_EQ(getsockname(self->v6.fd, SA(&self->v6), &self->v6.alen), 0);

	kt_key_make(&self->k46, KDTLS_CIPHER_AES_128_GCM, 1, 0, 7);
	kt_key_make(&self->k64, KDTLS_CIPHER_AES_128_GCM, 1, 0, 8);
	ASSERT_EQ(kt_attach(self->v4.fd, 0, NULL), 0);
	ASSERT_EQ(kt_attach(self->v6.fd, 0, NULL), 0);
	{
		/* v4 sees v6 as 127.0.0.1:port */
		struct sockaddr_in to = {
			.sin_family = AF_INET, .sin_port = in6->sin6_port,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		};
		ASSERT_EQ(kt_assoc_add(self->v4.fd, (struct sockaddr *)&to,
				       KDTLS_CIPHER_AES_128_GCM, &self->k46,
				       &self->k64, 0), 0);
	}
	ASSERT_EQ(kt_assoc_add_ex(self->v6.fd, SA(&self->v4),
				  KDTLS_CIPHER_AES_128_GCM, &self->k64,
				  &self->k46, &o), 0);
}

FIXTURE_TEARDOWN(mapped)
{
	close(self->v4.fd);
	close(self->v6.fd);
}

TEST_F(mapped, v4_peer_of_v6_socket)
{
	struct sockaddr_in6 from, mapped;
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = ((struct sockaddr_in6 *)&self->v6.addr)->sin6_port,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t flen = sizeof(from);
	char buf[64];

	ASSERT_EQ(sendto(self->v4.fd, "to v6", 5, 0, (struct sockaddr *)&to,
			 sizeof(to)), 5);
	ASSERT_TRUE(kt_wait_readable(self->v6.fd, 2000));
	ASSERT_EQ(recvfrom(self->v6.fd, buf, sizeof(buf), 0,
			   (struct sockaddr *)&from, &flen), 5);
	ASSERT_MEMEQ(buf, "to v6", 5);
	ASSERT_EQ(flen, sizeof(struct sockaddr_in6));
	ASSERT_EQ(from.sin6_family, AF_INET6);
	kt_addr_mapped((struct sockaddr_in *)&self->v4.addr, &mapped);
	ASSERT_MEMEQ(&from.sin6_addr, &mapped.sin6_addr, 16);
	ASSERT_EQ(from.sin6_port, mapped.sin6_port);

	ASSERT_EQ(sendto(self->v6.fd, "to v4", 5, 0, (struct sockaddr *)&mapped,
			 sizeof(mapped)), 5);
	ASSERT_EQ(kt_recv_timeout(self->v4.fd, buf, sizeof(buf), 2000), 5);
	ASSERT_MEMEQ(buf, "to v4", 5);
}

/* an AF_INET6 socket connected to a v4-mapped address: ADDRFORM refused */
TEST_F(mapped, addrform_on_mapped_connection)
{
	struct sockaddr_in6 mapped;
	int v = AF_INET;
	uint8_t buf[128], pt[128];

	kt_addr_mapped((struct sockaddr_in *)&self->v4.addr, &mapped);
	ASSERT_EQ(connect(self->v6.fd, (struct sockaddr *)&mapped,
			  sizeof(mapped)), 0);
	ASSERT_ERRNO(setsockopt(self->v6.fd, IPPROTO_IPV6, IPV6_ADDRFORM, &v,
				sizeof(v)), EBUSY);
	/* still sealing: detach v4 so it can capture what v6 sends */
	ASSERT_EQ(kt_detach(self->v4.fd), 0);
	ASSERT_EQ(send(self->v6.fd, "still sealed", 12, 0), 12);
	ASSERT_EQ(kt_recv_timeout(self->v4.fd, buf, sizeof(buf), 2000),
		  KT_HDR_LEN + 8 + 12 + 16);
	ASSERT_EQ(kt_evp_open(KDTLS_CIPHER_AES_128_GCM, self->k64.key,
			      self->k64.salt, buf, KT_HDR_LEN + 8 + 12 + 16,
			      NULL, pt, sizeof(pt)), 12);
	ASSERT_MEMEQ(pt, "still sealed", 12);
}

TEST_HARNESS_MAIN
