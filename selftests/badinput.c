// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile and malformed datagrams at an attached socket.
 *
 *     R (plain UDP, has an association on B) ---- bad datagram ---> B
 *     N (plain UDP, no association)          ---- bad datagram ---> B
 *
 * B holds an association for R with TX/RX epoch 3, RX floor seq 10 and a
 * 64-record window.  Each case sends one datagram, checks that B's receive
 * returns nothing (non-blocking: EAGAIN), that exactly the expected counter
 * moved by one and no other drop/rx counter moved, and then that a valid
 * record still gets through.  Variants: the five ciphers.
 */
#include "harness.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)	((struct sockaddr *)&(s)->addr)
#define EPOCH	3
#define FLOOR	10

FIXTURE(bi) {
	struct kt_sock b, r, n;
	struct kt_key kbr, krb;
	uint64_t seq;
};

FIXTURE_VARIANT(bi) {
	unsigned int cipher;
};

FIXTURE_VARIANT_ADD(bi, aes_128_gcm) { .cipher = KDTLS_CIPHER_AES_128_GCM };
FIXTURE_VARIANT_ADD(bi, aes_256_gcm) { .cipher = KDTLS_CIPHER_AES_256_GCM };
FIXTURE_VARIANT_ADD(bi, chacha20_poly1305) { .cipher = KDTLS_CIPHER_CHACHA20_POLY1305 };
FIXTURE_VARIANT_ADD(bi, aes_128_ccm) { .cipher = KDTLS_CIPHER_AES_128_CCM };
FIXTURE_VARIANT_ADD(bi, aes_128_ccm_8) { .cipher = KDTLS_CIPHER_AES_128_CCM_8 };

FIXTURE_SETUP(bi)
{
	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_nl_init(), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->b), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->r), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->n), 0);
	ASSERT_EQ(kt_attach(self->b.fd, 0, NULL), 0);
	kt_key_make(&self->kbr, variant->cipher, EPOCH, 0, 5);
	kt_key_make(&self->krb, variant->cipher, EPOCH, FLOOR, 6);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->r), variant->cipher,
			       &self->kbr, &self->krb, 64), 0);
	self->seq = FLOOR;
}

FIXTURE_TEARDOWN(bi)
{
	close(self->b.fd);
	close(self->r.fd);
	close(self->n.fd);
}

static int seal(FIXTURE_DATA(bi) *self, unsigned int cipher, uint8_t type,
		uint16_t epoch, uint64_t seq, const void *pt, size_t len,
		uint8_t *out, size_t cap)
{
	struct kt_rec r = { .type = type, .epoch = epoch, .seq = seq };

	return kt_evp_seal(cipher, self->krb.key, self->krb.salt, &r, pt, len,
			   out, cap);
}

/* a valid record from R is delivered */
static void valid_gets_through(FIXTURE_DATA(bi) *self,
			       const FIXTURE_VARIANT(bi) *variant)
{
	uint8_t rec[256], buf[256];
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "valid %llu",
			   (unsigned long long)self->seq);
	int n = seal(self, variant->cipher, 23, EPOCH, self->seq++, msg, len,
		     rec, sizeof(rec));

	ASSERT_GT(n, 0);
	ASSERT_EQ(sendto(self->r.fd, rec, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), len);
	ASSERT_MEMEQ(buf, msg, len);
}

/* counters that must not move unless they are the expected one */
static const int watched[] = {
	KDTLS_STAT_RX_RECORDS, KDTLS_STAT_RX_BYTES, KDTLS_STAT_RX_TO_AGENT,
	KDTLS_STAT_RX_TO_APP, KDTLS_STAT_DROP_MALFORMED,
	KDTLS_STAT_DROP_VERSION, KDTLS_STAT_DROP_TYPE, KDTLS_STAT_DROP_EPOCH,
	KDTLS_STAT_DROP_REPLAY, KDTLS_STAT_DROP_AUTH, KDTLS_STAT_DROP_TOO_BIG,
	KDTLS_STAT_DROP_NO_AGENT, KDTLS_STAT_DROP_AGENT_BUSY,
	KDTLS_STAT_DROP_NOMEM,
};

static void send_bad(FIXTURE_DATA(bi) *self, int from_fd, const void *d,
		     size_t len, int stat)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	ssize_t got;
	size_t i;

	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
	ASSERT_EQ(sendto(from_fd, d, len, 0, SA(&self->b), self->b.alen),
		  (ssize_t)len);
	kt_expect_drop(self->b.fd, NULL, stat, before[stat] + 1, 2000, &got);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	kt_stats_log("B", before, after);
	EXPECT_EQ(got, -1);			/* nothing delivered */
	EXPECT_EQ(after[stat], before[stat] + 1);
	for (i = 0; i < KT_ARRAY_SIZE(watched); i++)
		if (watched[i] != stat)
			EXPECT_EQ(after[watched[i]], before[watched[i]]);
	ASSERT_EQ(kt_recv_nb(self->b.fd, (void *)after, sizeof(after)),
		  -EAGAIN);
}

enum bad_case {
	ZERO_LENGTH, ONE_BYTE, HEADER_MINUS_ONE, HEADER_ONLY,
	BODY_BELOW_OVERHEAD, LENGTH_PLUS_ONE, LENGTH_MINUS_ONE,
	TRAILING_GARBAGE, TWO_RECORDS, LENGTH_FFFF, LENGTH_MAX_PLUS_ONE,
	PLAINTEXT_16K_PLUS_ONE, VERSION_DTLS10, VERSION_TLS12,
	VERSION_DTLS13, TYPE_24, TYPE_255, TYPE_0, TYPE_19, FLIP_TAG,
	FLIP_CIPHERTEXT, FLIP_EXPLICIT_NONCE, SEQ_CHANGED, TYPE_CHANGED,
	EPOCH_CHANGED, WRONG_KEY, REPLAY, BELOW_FLOOR, TOO_OLD, OLD_EPOCH,
	FUTURE_EPOCH, EPOCH_FFFF, NEXT_EPOCH_NO_CBUF, EPOCH0_NO_CBUF,
	ALERT_NO_CBUF, NONPEER_GARBAGE, NONPEER_EPOCH3, NONPEER_TYPE_24,
	DTLS10_EPOCH1,
};

static void run_case(FIXTURE_DATA(bi) *self, const FIXTURE_VARIANT(bi) *variant,
		     enum bad_case bc)
{
	static uint8_t d[2 * 18500];
	const struct kt_cipher *c = kt_cipher(variant->cipher);
	const char *pt = "hostile input test";
	size_t ptl = strlen(pt), len = 0;
	int fd = self->r.fd, stat = KDTLS_STAT_DROP_MALFORMED, n;
	uint8_t buf[256];

	memset(d, 0, sizeof(d));
	switch (bc) {
	case ZERO_LENGTH:
		len = 0;
		break;
	case ONE_BYTE:
		d[0] = 23;
		len = 1;
		break;
	case HEADER_MINUS_ONE:
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq, 0);
		len = 12;
		break;
	case HEADER_ONLY:
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq, 0);
		len = 13;
		break;
	case BODY_BELOW_OVERHEAD:
		n = (int)(c->explicit_len + c->tag_len - 1);
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq, (uint16_t)n);
		len = 13 + (size_t)n;
		break;
	case LENGTH_PLUS_ONE:
	case LENGTH_MINUS_ONE:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq,
			   (uint16_t)(n - 13 + (bc == LENGTH_PLUS_ONE ? 1 : -1)));
		break;
	case TRAILING_GARBAGE:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		/* shorter than a header: unambiguously malformed (13 or
		 * more bytes would parse as a second record header) */
		memset(d + n, 0xee, 12);
		len = (size_t)n + 12;
		break;
	case TWO_RECORDS:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		n = seal(self, variant->cipher, 23, EPOCH, self->seq + 1, pt,
			 ptl, d + len, sizeof(d) - len);
		ASSERT_GT(n, 0);
		len += (size_t)n;
		break;
	case LENGTH_FFFF:
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq, 0xffff);
		len = 13 + 100;
		stat = KDTLS_STAT_DROP_TOO_BIG;
		break;
	case LENGTH_MAX_PLUS_ONE:
		kt_hdr_put(d, 23, 0xfefd, EPOCH, self->seq, 16384 + 2048 + 1);
		len = 13 + 16384 + 2048 + 1;
		stat = KDTLS_STAT_DROP_TOO_BIG;
		break;
	case PLAINTEXT_16K_PLUS_ONE: {
		static uint8_t big[16385];

		n = seal(self, variant->cipher, 23, EPOCH, self->seq, big,
			 sizeof(big), d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_TOO_BIG;
		break;
	}
	case VERSION_DTLS10:
	case VERSION_TLS12:
	case VERSION_DTLS13:
	case DTLS10_EPOCH1:
		n = seal(self, variant->cipher, 23,
			 bc == DTLS10_EPOCH1 ? 1 : EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		d[1] = bc == VERSION_TLS12 ? 0x03 : 0xfe;
		d[2] = bc == VERSION_TLS12 ? 0x03 :
		       bc == VERSION_DTLS13 ? 0xfc : 0xff;
		stat = KDTLS_STAT_DROP_VERSION;
		break;
	case TYPE_24:
	case TYPE_255:
	case TYPE_0:
	case TYPE_19:
	case NONPEER_TYPE_24:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		d[0] = bc == TYPE_255 ? 255 : bc == TYPE_0 ? 0 :
		       bc == TYPE_19 ? 19 : 24;
		stat = KDTLS_STAT_DROP_TYPE;
		if (bc == NONPEER_TYPE_24)
			fd = self->n.fd;
		break;
	case FLIP_TAG:
	case FLIP_CIPHERTEXT:
	case FLIP_EXPLICIT_NONCE:
	case SEQ_CHANGED:
	case TYPE_CHANGED:
	case EPOCH_CHANGED:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_AUTH;
		if (bc == FLIP_TAG)
			d[len - 1] ^= 0x80;
		else if (bc == FLIP_CIPHERTEXT)
			d[13 + c->explicit_len + 3] ^= 0x01;
		else if (bc == FLIP_EXPLICIT_NONCE)
			/* ChaCha20 has none: the first ciphertext byte */
			d[13 + (c->explicit_len ? 7 : 0)] ^= 0x01;
		else if (bc == SEQ_CHANGED)
			d[10] ^= 0x20;	/* a fresh, in-window seq */
		else if (bc == TYPE_CHANGED)
			d[0] = 22;	/* sealed handshake: opened, fails */
		break;
	case WRONG_KEY: {
		struct kt_key k;
		struct kt_rec r = { .type = 23, .epoch = EPOCH,
				    .seq = self->seq };

		kt_key_make(&k, variant->cipher, EPOCH, 0, 99);
		n = kt_evp_seal(variant->cipher, k.key, k.salt, &r, pt, ptl, d,
				sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_AUTH;
		break;
	}
	case REPLAY:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq++, pt,
			 ptl, d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		ASSERT_EQ(sendto(fd, d, len, 0, SA(&self->b), self->b.alen),
			  (ssize_t)len);
		ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000),
			  (ssize_t)ptl);
		stat = KDTLS_STAT_DROP_REPLAY;
		break;
	case BELOW_FLOOR:
		n = seal(self, variant->cipher, 23, EPOCH, FLOOR - 5, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_REPLAY;
		break;
	case TOO_OLD:
		/* accept seq 500, then send 400 (outside the 64 window) */
		self->seq = 500;
		valid_gets_through(self, variant);
		n = seal(self, variant->cipher, 23, EPOCH, 400, pt, ptl, d,
			 sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_REPLAY;
		break;
	case OLD_EPOCH:
	case FUTURE_EPOCH:
	case EPOCH_FFFF:
		n = seal(self, variant->cipher, 23,
			 bc == OLD_EPOCH ? EPOCH - 1 :
			 bc == FUTURE_EPOCH ? EPOCH + 2 : 0xffff,
			 self->seq, pt, ptl, d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_EPOCH;
		break;
	case NEXT_EPOCH_NO_CBUF:
		n = seal(self, variant->cipher, 23, EPOCH + 1, 0, pt, ptl, d,
			 sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_NO_AGENT;
		break;
	case EPOCH0_NO_CBUF:
		kt_hdr_put(d, 22, 0xfefd, 0, 0, 30);
		memset(d + 13, 0x01, 30);
		len = 43;
		stat = KDTLS_STAT_DROP_NO_AGENT;
		break;
	case ALERT_NO_CBUF:
		n = seal(self, variant->cipher, 21, EPOCH, self->seq, "\x02\x28",
			 2, d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		stat = KDTLS_STAT_DROP_NO_AGENT;
		break;
	case NONPEER_GARBAGE:
		memset(d, 0xaa, 5);
		len = 5;
		fd = self->n.fd;
		break;
	case NONPEER_EPOCH3:
		n = seal(self, variant->cipher, 23, EPOCH, self->seq, pt, ptl,
			 d, sizeof(d));
		ASSERT_GT(n, 0);
		len = (size_t)n;
		fd = self->n.fd;
		stat = KDTLS_STAT_DROP_EPOCH;
		break;
	}
	if (bc == EPOCH_CHANGED) {
		/* the epoch in the header is part of the AAD and nonce: a
		 * record moved to another known epoch fails to open; use
		 * the in-grace previous epoch after a rekey */
		struct kt_key k2;

		kt_key_make(&k2, variant->cipher, EPOCH + 1, 0, 77);
		ASSERT_EQ(kt_rekey(self->b.fd, SA(&self->r), NULL, &k2), 0);
		/* re-seal under the new epoch, then relabel it as EPOCH */
		{
			struct kt_rec r = { .type = 23, .epoch = EPOCH + 1,
					    .seq = self->seq };

			n = kt_evp_seal(variant->cipher, k2.key, k2.salt, &r,
					pt, ptl, d, sizeof(d));
			ASSERT_GT(n, 0);
			len = (size_t)n;
			d[4] = EPOCH;
		}
	}
	send_bad(self, fd, d, len, stat);
	self->seq++;
	if (bc == EPOCH_CHANGED) {
		/* EPOCH is the previous epoch now, still valid */
		valid_gets_through(self, variant);
		return;
	}
	valid_gets_through(self, variant);
}

#define BAD(name, bc)							\
	TEST_F(bi, name) { run_case(self, variant, bc); }

BAD(zero_length, ZERO_LENGTH)
BAD(one_byte, ONE_BYTE)
BAD(header_minus_one, HEADER_MINUS_ONE)
BAD(header_only_length_0, HEADER_ONLY)
BAD(body_below_nonce_plus_tag, BODY_BELOW_OVERHEAD)
BAD(record_len_above_datagram, LENGTH_PLUS_ONE)
BAD(record_len_below_datagram, LENGTH_MINUS_ONE)
BAD(trailing_garbage, TRAILING_GARBAGE)
BAD(two_records_one_datagram, TWO_RECORDS)
BAD(length_0xffff, LENGTH_FFFF)
BAD(length_max_plus_one, LENGTH_MAX_PLUS_ONE)
BAD(plaintext_16k_plus_one, PLAINTEXT_16K_PLUS_ONE)
BAD(version_dtls10_known_epoch, VERSION_DTLS10)
BAD(version_tls12, VERSION_TLS12)
BAD(version_0xfefc, VERSION_DTLS13)
BAD(dtls10_epoch1, DTLS10_EPOCH1)
BAD(type_24_heartbeat, TYPE_24)
BAD(type_255, TYPE_255)
BAD(type_0, TYPE_0)
BAD(type_19, TYPE_19)
BAD(flipped_tag_byte, FLIP_TAG)
BAD(flipped_ciphertext_byte, FLIP_CIPHERTEXT)
BAD(flipped_explicit_nonce_byte, FLIP_EXPLICIT_NONCE)
BAD(header_seq_changed, SEQ_CHANGED)
BAD(header_type_changed, TYPE_CHANGED)
BAD(header_epoch_changed, EPOCH_CHANGED)
BAD(wrong_key, WRONG_KEY)
BAD(replayed_record, REPLAY)
BAD(seq_below_floor, BELOW_FLOOR)
BAD(seq_older_than_window, TOO_OLD)
BAD(old_epoch, OLD_EPOCH)
BAD(future_epoch_plus_2, FUTURE_EPOCH)
BAD(epoch_0xffff, EPOCH_FFFF)
BAD(next_epoch_without_cmsg_buffer, NEXT_EPOCH_NO_CBUF)
BAD(epoch0_without_cmsg_buffer, EPOCH0_NO_CBUF)
BAD(sealed_alert_without_cmsg_buffer, ALERT_NO_CBUF)
BAD(nonpeer_garbage, NONPEER_GARBAGE)
BAD(nonpeer_epoch3_record, NONPEER_EPOCH3)
BAD(nonpeer_type_24, NONPEER_TYPE_24)

/* bad records queued before a good one: a blocking read returns the good one */
TEST_F(bi, bad_then_good_blocking_read)
{
	uint8_t d[256], buf[256];
	int n, i;

	for (i = 0; i < 5; i++) {
		n = seal(self, variant->cipher, 23, EPOCH, self->seq + i,
			 "bad", 3, d, sizeof(d));
		ASSERT_GT(n, 0);
		d[n - 1] ^= 1;
		ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b),
				 self->b.alen), n);
	}
	self->seq += 5;
	n = seal(self, variant->cipher, 23, EPOCH, self->seq++, "good", 4, d,
		 sizeof(d));
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(recv(self->b.fd, buf, sizeof(buf), 0), 4);
	ASSERT_MEMEQ(buf, "good", 4);
	/* no sticky error afterwards */
	ASSERT_EQ(kt_recv_nb(self->b.fd, buf, sizeof(buf)), -EAGAIN);
	valid_gets_through(self, variant);
}

/*
 * RFC 5288 §3: the explicit nonce is carried in the record and the receiver
 * uses it; a sender may use any unique value, not only epoch || seq.
 */
TEST_F(bi, peer_explicit_nonce_not_seq_accepted)
{
	static const uint8_t expl[8] = { 0x5a, 0x5a, 0, 0, 0, 0, 0x12, 0x34 };
	struct kt_rec r = { .type = 23, .epoch = EPOCH, .seq = self->seq,
			    .explicit_nonce = expl };
	uint8_t d[128], buf[128];
	int n;

	if (!kt_cipher(variant->cipher)->explicit_len)
		return;	/* ChaCha20-Poly1305 has no explicit nonce */
	n = kt_evp_seal(variant->cipher, self->krb.key, self->krb.salt, &r,
			"own nonce", 9, d, sizeof(d));
	ASSERT_GT(n, 0);
	self->seq++;
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 9);
	ASSERT_MEMEQ(buf, "own nonce", 9);
}

/* ---- non-data records with no agent: to the app, with a cmsg ---- */

static ssize_t recv_cmsg(int fd, void *buf, size_t len, int *rtype,
			 int *flags, struct sockaddr_storage *from)
{
	char cbuf[CMSG_SPACE(16) + CMSG_SPACE(64)];
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_name = from, .msg_namelen = sizeof(*from),
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
	*flags = mh.msg_flags;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_KDTLS &&
		    cm->cmsg_type == KDTLS_CMSG_RECORD_TYPE &&
		    cm->cmsg_len == CMSG_LEN(1))
			*rtype = *(uint8_t *)CMSG_DATA(cm);
	return r;
}

TEST_F(bi, epoch0_to_app_with_cmsg)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	struct sockaddr_storage from;
	uint8_t d[64], buf[128];
	int rtype, flags, i;

	for (i = 0; i < 2; i++) {
		int fd = i ? self->n.fd : self->r.fd;	/* peer, non-peer */
		struct kt_sock *src = i ? &self->n : &self->r;

		kt_hdr_put(d, 22, 0xfeff, 0, (uint64_t)i, 40);
		memset(d + 13, 0x10 + i, 40);
		ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
		ASSERT_EQ(sendto(fd, d, 53, 0, SA(&self->b), self->b.alen), 53);
		ASSERT_EQ(recv_cmsg(self->b.fd, buf, sizeof(buf), &rtype,
				    &flags, &from), 53);
		ASSERT_MEMEQ(buf, d, 53);	/* verbatim */
		ASSERT_EQ(rtype, KDTLS_CT_HANDSHAKE);
		ASSERT_TRUE(kt_addr_eq((void *)&from, SA(src)));
		ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
		EXPECT_EQ(after[KDTLS_STAT_RX_TO_APP],
			  before[KDTLS_STAT_RX_TO_APP] + 1);
		EXPECT_EQ(after[KDTLS_STAT_RX_RECORDS],
			  before[KDTLS_STAT_RX_RECORDS]);
	}
	valid_gets_through(self, variant);
}

/* a control buffer too small for the record type: dropped, not data */
TEST_F(bi, epoch0_with_short_control_buffer_dropped)
{
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	char cbuf[CMSG_LEN(0)];
	uint8_t d[64], buf[128];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};

	kt_hdr_put(d, 22, 0xfeff, 0, 7, 40);
	memset(d + 13, 0x33, 40);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, before), 0);
	ASSERT_EQ(sendto(self->r.fd, d, 53, 0, SA(&self->b), self->b.alen), 53);
	ASSERT_EQ(kt_wait_readable(self->b.fd, 2000), 1);
	errno = 0;
	ASSERT_EQ(recvmsg(self->b.fd, &mh, MSG_DONTWAIT), -1);
	ASSERT_EQ(errno, EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(self->b.fd, after), 0);
	EXPECT_EQ(after[KDTLS_STAT_DROP_NO_AGENT],
		  before[KDTLS_STAT_DROP_NO_AGENT] + 1);
	EXPECT_EQ(after[KDTLS_STAT_RX_TO_APP], before[KDTLS_STAT_RX_TO_APP]);
	valid_gets_through(self, variant);
}

TEST_F(bi, next_epoch_to_app_with_cmsg)
{
	struct sockaddr_storage from;
	uint8_t d[128], buf[128];
	int rtype, flags, n;

	n = seal(self, variant->cipher, 23, EPOCH + 1, 0, "early", 5, d,
		 sizeof(d));
	ASSERT_GT(n, 0);
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(recv_cmsg(self->b.fd, buf, sizeof(buf), &rtype, &flags,
			    &from), n);
	ASSERT_MEMEQ(buf, d, n);
	ASSERT_EQ(rtype, KDTLS_CT_APPLICATION_DATA);
	valid_gets_through(self, variant);
}

TEST_F(bi, sealed_alert_to_app_opened)
{
	struct sockaddr_storage from;
	uint8_t d[128], buf[128];
	int rtype, flags, n;

	n = seal(self, variant->cipher, KDTLS_CT_ALERT, EPOCH, self->seq++,
		 "\x01\x00", 2, d, sizeof(d));
	ASSERT_GT(n, 0);
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(recv_cmsg(self->b.fd, buf, sizeof(buf), &rtype, &flags,
			    &from), 2);
	ASSERT_MEMEQ(buf, "\x01\x00", 2);
	ASSERT_EQ(rtype, KDTLS_CT_ALERT);
	ASSERT_TRUE(flags & MSG_EOR);
	valid_gets_through(self, variant);
}

/* application data with a control buffer carries no record-type cmsg */
TEST_F(bi, app_data_without_cmsg)
{
	struct sockaddr_storage from;
	uint8_t d[128], buf[128];
	int rtype, flags, n;

	n = seal(self, variant->cipher, 23, EPOCH, self->seq++, "data", 4, d,
		 sizeof(d));
	ASSERT_EQ(sendto(self->r.fd, d, n, 0, SA(&self->b), self->b.alen), n);
	ASSERT_EQ(recv_cmsg(self->b.fd, buf, sizeof(buf), &rtype, &flags,
			    &from), 4);
	ASSERT_EQ(rtype, -1);
	ASSERT_FALSE(flags & MSG_EOR);
}

TEST_HARNESS_MAIN
