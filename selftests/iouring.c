// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring on attached sockets (liburing).
 *
 *     A  <---- records ---->  B      both attached, connected to each other
 *     A  ---- records ---->   R      R: plain UDP, opens with EVP
 *
 * SEND, SENDMSG, RECV, RECVMSG, multishot RECV/RECVMSG with a provided
 * buffer ring all carry plaintext between A and B while the wire carries
 * records; SEND_ZC either seals or fails cleanly; closing a socket with a
 * receive in flight is clean (the harness fails on a bad dmesg line); a
 * multishot RECV on a sock-gro socket completes once per record.
 */
#include "harness.h"

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)	((struct sockaddr *)&(s)->addr)
#define CIPHER	KDTLS_CIPHER_AES_128_GCM
#define BGID	7
#define NBUF	8
#define BUFSZ	512

FIXTURE(ur) {
	struct io_uring ring;
	bool ring_ok;
	struct kt_sock a, b, r;
	struct kt_key kab, kba, kar;
};

FIXTURE_SETUP(ur)
{
	int err;

	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
	ASSERT_EQ(kt_nl_init(), 0);
	err = io_uring_queue_init(16, &self->ring, 0);
	ASSERT_EQ(err, 0);
	self->ring_ok = true;
	ASSERT_EQ(kt_udp_pair(AF_INET, true, &self->a, &self->b), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &self->r), 0);
	kt_key_make(&self->kab, CIPHER, 1, 0, 1);
	kt_key_make(&self->kba, CIPHER, 1, 0, 2);
	kt_key_make(&self->kar, CIPHER, 1, 0, 3);
	ASSERT_EQ(kt_attach(self->a.fd, 0, NULL), 0);
	ASSERT_EQ(kt_attach(self->b.fd, 0, NULL), 0);
	ASSERT_EQ(kt_assoc_add(self->a.fd, SA(&self->b), CIPHER, &self->kab,
			       &self->kba, 0), 0);
	ASSERT_EQ(kt_assoc_add(self->b.fd, SA(&self->a), CIPHER, &self->kba,
			       &self->kab, 0), 0);
	ASSERT_EQ(kt_assoc_add(self->a.fd, SA(&self->r), CIPHER, &self->kar,
			       &self->kba, 0), 0);
}

FIXTURE_TEARDOWN(ur)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->a.fd > 0)
		close(self->a.fd);
	if (self->b.fd > 0)
		close(self->b.fd);
	close(self->r.fd);
}

/* submit what is queued and wait for one completion (2 s) */
static int wait_one(struct io_uring *ring, struct io_uring_cqe *out)
{
	struct __kernel_timespec ts = { .tv_sec = 2 };
	struct io_uring_cqe *cqe;
	int err;

	io_uring_submit(ring);
	err = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (err)
		return err;
	*out = *cqe;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

static void uring_send(struct io_uring *ring, int fd, const void *buf,
		       size_t len, int *res)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe cqe;

	io_uring_prep_send(sqe, fd, buf, len, 0);
	ASSERT_EQ(wait_one(ring, &cqe), 0);
	*res = cqe.res;
}

/* R receives one datagram: a record A sealed, never the plaintext */
static void r_expect_record(FIXTURE_DATA(ur) *self, const char *msg)
{
	uint8_t wire[1024], pt[1024];
	size_t len = strlen(msg);
	ssize_t n = kt_recv_timeout(self->r.fd, wire, sizeof(wire), 2000);

	ASSERT_GT(n, 0);
	ASSERT_FALSE(kt_contains(wire, n, msg, len));
	ASSERT_EQ(kt_evp_open(CIPHER, self->kar.key, self->kar.salt, wire, n,
			      NULL, pt, sizeof(pt)), (int)len);
	ASSERT_MEMEQ(pt, msg, len);
}

TEST_F(ur, send_recv)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	char buf[128];
	int res;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recv(sqe, self->b.fd, buf, sizeof(buf), 0);
	sqe->user_data = 1;
	io_uring_submit(&self->ring);
	uring_send(&self->ring, self->a.fd, "uring send", 10, &res);
	/* the first completion may be the send or the recv */
	if (res == 10) {
		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
		ASSERT_EQ(cqe.user_data, 1);
		ASSERT_EQ(cqe.res, 10);
	} else {
		ASSERT_EQ(res, 10);
	}
	ASSERT_MEMEQ(buf, "uring send", 10);
}

TEST_F(ur, sendmsg_recvmsg)
{
	char p1[] = "uring ", p2[] = "sendmsg";
	struct iovec iov[2] = { { p1, 6 }, { p2, 7 } };
	struct msghdr smh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct sockaddr_storage from;
	char buf[128];
	struct iovec riov = { buf, sizeof(buf) };
	struct msghdr rmh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &riov, .msg_iovlen = 1,
	};
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_sendmsg(sqe, self->a.fd, &smh, 0);
	ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
	ASSERT_EQ(cqe.res, 13);
	ASSERT_TRUE(kt_wait_readable(self->b.fd, 2000));
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recvmsg(sqe, self->b.fd, &rmh, 0);
	ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
	ASSERT_EQ(cqe.res, 13);
	ASSERT_MEMEQ(buf, "uring sendmsg", 13);
	ASSERT_TRUE(kt_addr_eq((void *)&from, SA(&self->a)));
}

TEST_F(ur, wire_carries_records)
{
	struct msghdr smh;
	struct iovec iov;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	char msg[] = "io_uring plaintext must not leak";
	int res;

	ASSERT_EQ(kt_udp_connect(&self->a, &self->r), 0);
	uring_send(&self->ring, self->a.fd, msg, strlen(msg), &res);
	ASSERT_EQ(res, (int)strlen(msg));
	r_expect_record(self, msg);

	iov.iov_base = msg;
	iov.iov_len = strlen(msg);
	memset(&smh, 0, sizeof(smh));
	smh.msg_iov = &iov;
	smh.msg_iovlen = 1;
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_sendmsg(sqe, self->a.fd, &smh, 0);
	ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
	ASSERT_EQ(cqe.res, (int)strlen(msg));
	r_expect_record(self, msg);
}

static struct io_uring_buf_ring *setup_buf_ring(struct io_uring *ring,
						char (*bufs)[BUFSZ])
{
	struct io_uring_buf_reg reg = { 0 };
	struct io_uring_buf_ring *br;
	int i;

	br = mmap(NULL, NBUF * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (br == MAP_FAILED)
		return NULL;
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = NBUF;
	reg.bgid = BGID;
	if (io_uring_register_buf_ring(ring, &reg, 0))
		return NULL;
	io_uring_buf_ring_init(br);
	for (i = 0; i < NBUF; i++)
		io_uring_buf_ring_add(br, bufs[i], BUFSZ, (unsigned short)i,
				      io_uring_buf_ring_mask(NBUF), i);
	io_uring_buf_ring_advance(br, NBUF);
	return br;
}

/*
 * A batch through io_uring: SENDMSG with a UDP_SEGMENT cmsg, then SEND
 * with the socket option.  Each leaves as records of 100 bytes of
 * plaintext that B reads one by one; the completion reports every
 * plaintext byte.
 */
TEST_F(ur, gso_batch_sendmsg_and_send)
{
	char payload[450], cbuf[CMSG_SPACE(sizeof(uint16_t))], in[256];
	struct iovec iov = { payload, sizeof(payload) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct cmsghdr *cm;
	int round, i, res, seg = 100;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 3 + 7);
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	*(uint16_t *)CMSG_DATA(cm) = 100;

	for (round = 0; round < 2; round++) {
		if (round == 0) {
			sqe = io_uring_get_sqe(&self->ring);
			io_uring_prep_sendmsg(sqe, self->a.fd, &mh, 0);
			ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
			res = cqe.res;
		} else {
			ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP,
					     UDP_SEGMENT, &seg, sizeof(seg)), 0);
			uring_send(&self->ring, self->a.fd, payload,
				   sizeof(payload), &res);
		}
		ASSERT_EQ(res, (int)sizeof(payload));
		for (i = 0; i < 5; i++) {
			int want = i < 4 ? 100 : 50;

			ASSERT_EQ(kt_recv_timeout(self->b.fd, in, sizeof(in),
						  2000), want);
			ASSERT_MEMEQ(in, payload + i * 100, want);
		}
		ASSERT_EQ(kt_recv_nb(self->b.fd, in, sizeof(in)), -EAGAIN);
	}
}

TEST_F(ur, multishot_recvmsg_buffer_ring)
{
	static char bufs[NBUF][BUFSZ];
	struct msghdr mh = { .msg_namelen = sizeof(struct sockaddr_in) };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	int i;

	ASSERT_TRUE(setup_buf_ring(&self->ring, bufs) != NULL);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recvmsg_multishot(sqe, self->b.fd, &mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	sqe->user_data = 42;
	io_uring_submit(&self->ring);

	for (i = 0; i < 3; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "multishot %d", i);
		struct io_uring_recvmsg_out *o;
		struct sockaddr_in *name;

		ASSERT_EQ(send(self->a.fd, msg, len, 0), len);
		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
		ASSERT_EQ(cqe.user_data, 42);
		ASSERT_GT(cqe.res, 0);
		ASSERT_TRUE(cqe.flags & IORING_CQE_F_BUFFER);
		ASSERT_TRUE(cqe.flags & IORING_CQE_F_MORE);
		o = io_uring_recvmsg_validate(
			bufs[cqe.flags >> IORING_CQE_BUFFER_SHIFT], cqe.res,
			&mh);
		ASSERT_TRUE(o != NULL);
		ASSERT_EQ(io_uring_recvmsg_payload_length(o, cqe.res, &mh),
			  (unsigned int)len);
		ASSERT_MEMEQ(io_uring_recvmsg_payload(o, &mh), msg, len);
		ASSERT_EQ(o->flags & MSG_TRUNC, 0);
		name = io_uring_recvmsg_name(o);
		ASSERT_TRUE(kt_addr_eq((void *)name, SA(&self->a)));
	}
}

TEST_F(ur, multishot_recv_buffer_ring)
{
	static char bufs[NBUF][BUFSZ];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	int i;

	ASSERT_TRUE(setup_buf_ring(&self->ring, bufs) != NULL);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recv_multishot(sqe, self->b.fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_submit(&self->ring);
	for (i = 0; i < 3; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "recv multishot %d", i);

		ASSERT_EQ(send(self->a.fd, msg, len, 0), len);
		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
		ASSERT_EQ(cqe.res, len);
		ASSERT_TRUE(cqe.flags & IORING_CQE_F_BUFFER);
		ASSERT_MEMEQ(bufs[cqe.flags >> IORING_CQE_BUFFER_SHIFT], msg,
			     len);
	}
}

/*
 * sock-gro: A's GSO batch of five records reaches B as one coalesced
 * datagram, and a multishot RECV on B (which never set UDP_GRO) completes
 * once per record, in order: poll-driven retries see the records left.
 */
TEST_F(ur, multishot_recv_sock_gro)
{
	static char bufs[NBUF][BUFSZ];
	char payload[450];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	int i, seg = 100;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 7 + 1);
	ASSERT_EQ(kt_sock_set_gro(self->b.fd, true), 0);
	ASSERT_TRUE(setup_buf_ring(&self->ring, bufs) != NULL);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recv_multishot(sqe, self->b.fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_submit(&self->ring);
	ASSERT_EQ(setsockopt(self->a.fd, IPPROTO_UDP, UDP_SEGMENT, &seg,
			     sizeof(seg)), 0);
	ASSERT_EQ(send(self->a.fd, payload, sizeof(payload), 0),
		  (ssize_t)sizeof(payload));
	for (i = 0; i < 5; i++) {
		int want = i < 4 ? 100 : 50;

		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
		ASSERT_EQ(cqe.res, want);
		ASSERT_TRUE(cqe.flags & IORING_CQE_F_BUFFER);
		ASSERT_MEMEQ(bufs[cqe.flags >> IORING_CQE_BUFFER_SHIFT],
			     payload + i * 100, want);
	}
}

TEST_F(ur, send_zc_seals_or_fails)
{
	static char msg[] = "zero-copy plaintext must never leak";
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	uint8_t wire[512], pt[512];
	bool sent = false;
	int i;

	ASSERT_EQ(kt_udp_connect(&self->a, &self->r), 0);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_send_zc(sqe, self->a.fd, msg, strlen(msg), 0, 0);
	sqe->user_data = 9;
	ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
	TH_LOG("SEND_ZC: res %d flags %#x", cqe.res, cqe.flags);
	if (cqe.res == -EINVAL && !(cqe.flags & IORING_CQE_F_MORE))
		TH_LOG("SEND_ZC refused (EINVAL)");
	if (cqe.res >= 0) {
		ASSERT_EQ(cqe.res, (int)strlen(msg));
		sent = true;
	}
	/* wait for the buffer-release notification, if one is coming */
	for (i = 0; (cqe.flags & IORING_CQE_F_MORE) && i < 4; i++)
		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);

	/* sentinel via plain send: everything before it is a record */
	ASSERT_EQ(send(self->a.fd, "sentinel", 8, 0), 8);
	for (;;) {
		ssize_t n = kt_recv_timeout(self->r.fd, wire, sizeof(wire),
					    2000);
		int m;

		ASSERT_GT(n, 0);
		ASSERT_FALSE(kt_contains(wire, n, "plaintext", 9));
		m = kt_evp_open(CIPHER, self->kar.key, self->kar.salt, wire, n,
				NULL, pt, sizeof(pt));
		ASSERT_GE(m, 0);
		if (m == 8 && !memcmp(pt, "sentinel", 8))
			break;
		ASSERT_TRUE(sent);
		ASSERT_EQ(m, (int)strlen(msg));
		ASSERT_MEMEQ(pt, msg, m);
		sent = false;	/* exactly one record */
	}
	ASSERT_FALSE(sent);	/* a successful SEND_ZC put its record out */
}

TEST_F(ur, close_with_pending_recv)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	char buf[64];
	int r;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recv(sqe, self->b.fd, buf, sizeof(buf), 0);
	sqe->user_data = 5;
	io_uring_submit(&self->ring);
	/* the recv is armed; close the socket under it */
	close(self->b.fd);
	self->b.fd = -1;
	/* data still arrives for the request's reference of the socket */
	ASSERT_EQ(send(self->a.fd, "late", 4, 0), 4);
	r = wait_one(&self->ring, &cqe);
	TH_LOG("pending recv after close: wait %d res %d", r,
	       r ? 0 : cqe.res);
	if (!r && cqe.res >= 0) {
		ASSERT_EQ(cqe.res, 4);
		ASSERT_MEMEQ(buf, "late", 4);
	}
	/* tearing the ring down with whatever is in flight */
	io_uring_queue_exit(&self->ring);
	self->ring_ok = false;
}

TEST_F(ur, cancel_pending_recv_then_close)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	char buf[64];
	int i, seen_recv = 0;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recv(sqe, self->b.fd, buf, sizeof(buf), 0);
	sqe->user_data = 5;
	io_uring_submit(&self->ring);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 5, 0);
	sqe->user_data = 6;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(wait_one(&self->ring, &cqe), 0);
		if (cqe.user_data == 5) {
			seen_recv = 1;
			ASSERT_EQ(cqe.res, -ECANCELED);
		}
	}
	ASSERT_TRUE(seen_recv);
	/* the socket still works */
	ASSERT_EQ(send(self->a.fd, "after", 5, 0), 5);
	ASSERT_EQ(kt_recv_timeout(self->b.fd, buf, sizeof(buf), 2000), 5);
}

TEST_F(ur, exit_ring_with_pending_multishot)
{
	static char bufs[NBUF][BUFSZ];
	struct msghdr mh = { .msg_namelen = sizeof(struct sockaddr_in) };
	struct io_uring_sqe *sqe;

	ASSERT_TRUE(setup_buf_ring(&self->ring, bufs) != NULL);
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_recvmsg_multishot(sqe, self->b.fd, &mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_submit(&self->ring);
	ASSERT_EQ(kt_detach(self->b.fd), 0);	/* detach under it */
	close(self->b.fd);
	self->b.fd = -1;
	io_uring_queue_exit(&self->ring);
	self->ring_ok = false;
}

TEST_HARNESS_MAIN
