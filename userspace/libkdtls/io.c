// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: plaintext datagrams on the application's socket, and the
 * kdtls control messages (SOL_KDTLS, include/uapi/linux/kdtls.h) of a
 * receive, from recvmsg() or from an io_uring multishot RECVMSG buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/udp.h>
#include <linux/kdtls.h>
#include <linux/io_uring.h>

#include "internal.h"

KDTLS_EXPORT int kdtls_msg_parse(const struct msghdr *msg, ssize_t n,
				 struct kdtls_rx *rx)
{
	struct cmsghdr *cm;

	if (!msg || !rx || n < 0)
		return -EINVAL;
	memset(rx, 0, sizeof(*rx));
	rx->record_type = -1;
	rx->data = msg->msg_iovlen ? msg->msg_iov[0].iov_base : NULL;
	rx->len = n;
	rx->truncated = msg->msg_flags & MSG_TRUNC;
	if (msg->msg_name && msg->msg_namelen <= sizeof(rx->peer)) {
		memcpy(&rx->peer, msg->msg_name, msg->msg_namelen);
		rx->peer_len = msg->msg_namelen;
	}
	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (cm->cmsg_level == SOL_KDTLS &&
		    cm->cmsg_type == KDTLS_CMSG_RECORD_TYPE &&
		    cm->cmsg_len >= CMSG_LEN(1))
			rx->record_type = *(const uint8_t *)CMSG_DATA(cm);
	}
	/* No record-type cmsg means application data -- unless the control
	 * data was cut (MSG_CTRUNC): then the type is unknown (-1). */
	if (rx->record_type < 0 && !(msg->msg_flags & MSG_CTRUNC))
		rx->record_type = KDTLS_CT_APPLICATION_DATA;
	return 0;
}

/*
 * A multishot RECVMSG buffer (io_uring_recvmsg_out):
 *
 *   struct io_uring_recvmsg_out | name (msg_namelen) | control
 *   (msg_controllen) | payload
 */
KDTLS_EXPORT int kdtls_recvmsg_out_parse(const void *buf, size_t buf_len,
					 const struct msghdr *msg,
					 struct kdtls_rx *rx)
{
	const struct io_uring_recvmsg_out *o = buf;
	const uint8_t *ctl;
	size_t hdr, off, clen;

	if (!buf || !msg || !rx)
		return -EINVAL;
	hdr = sizeof(*o) + msg->msg_namelen + msg->msg_controllen;
	if (buf_len < hdr)
		return -EINVAL;
	memset(rx, 0, sizeof(*rx));
	/* as kdtls_msg_parse(): cut control data leaves the type unknown */
	rx->record_type = o->flags & MSG_CTRUNC ? -1 :
			  KDTLS_CT_APPLICATION_DATA;
	if (o->namelen <= msg->msg_namelen && o->namelen <= sizeof(rx->peer)) {
		memcpy(&rx->peer, (const uint8_t *)buf + sizeof(*o),
		       o->namelen);
		rx->peer_len = o->namelen;
	}
	rx->data = (const uint8_t *)buf + hdr;
	rx->len = buf_len - hdr < o->payloadlen ? buf_len - hdr :
						   o->payloadlen;
	rx->truncated = o->flags & MSG_TRUNC;
	ctl = (const uint8_t *)buf + sizeof(*o) + msg->msg_namelen;
	clen = o->controllen < msg->msg_controllen ? o->controllen :
						     msg->msg_controllen;
	for (off = 0; off + sizeof(struct cmsghdr) <= clen;) {
		struct cmsghdr cm;

		memcpy(&cm, ctl + off, sizeof(cm));
		if (cm.cmsg_len < sizeof(cm) || off + cm.cmsg_len > clen)
			break;
		if (cm.cmsg_level == SOL_KDTLS &&
		    cm.cmsg_type == KDTLS_CMSG_RECORD_TYPE &&
		    cm.cmsg_len >= CMSG_LEN(1))
			rx->record_type = ctl[off + CMSG_LEN(0)];
		off += CMSG_ALIGN(cm.cmsg_len);
	}
	return 0;
}

static bool on_sock(const struct kdtls *d, int fd)
{
	return d->sock && d->sock->fd == fd;
}

static socklen_t peer_len(const struct kdtls *d)
{
	return d->peer.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					      sizeof(struct sockaddr_in6);
}

KDTLS_EXPORT ssize_t kdtls_write_datagram(struct kdtls *d, int fd,
					  const void *buf, size_t len)
{
	ssize_t n;

	if (!d)
		return -EINVAL;
	if (d->state != KDTLS_HANDSHAKE_COMPLETE)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -ENOTCONN, "not encrypted");
	if (!on_sock(d, fd) || (len && !buf))
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "not the connection's socket or no data");
	n = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const void *)&d->peer, peer_len(d));
	if (n < 0) {
		int e = errno;

		if (e == EMSGSIZE)
			return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL,
					     -e, "datagram too large: %s",
					     strerror(e));
		return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET, -e, "send: %s",
				     strerror(e));
	}
	kdtls_err_clear(&d->err);
	return n;
}

/* ---- batches (UDP GSO) ------------------------------------------------ */

#define MAX_PLAINTEXT	16384	/* 2^14, RFC 6347 4.1 */
#define MAX_WIRE	65507	/* the largest UDP payload over IPv4 */
#define MAX_SEGMENTS	128	/* UDP_MAX_SEGMENTS, <linux/udp.h> */
#define PATH_FRESH_MS	1000

/* A record's expansion under the session's kernel cipher: the 13-byte
 * header, the 8-byte explicit nonce of the AES suites (RFC 5288, RFC
 * 6655; ChaCha20-Poly1305 has none, RFC 7905) and the tag. */
static size_t record_overhead(const struct kdtls *d)
{
	if (!strcmp(d->kcipher, "chacha20-poly1305"))
		return 13 + 16;
	if (!strcmp(d->kcipher, "aes-128-ccm-8"))
		return 13 + 8 + 8;
	return 13 + 8 + 16;
}

static bool peer_is_v4(const struct kdtls *d)
{
	const struct sockaddr_in6 *s6 = (const void *)&d->peer;

	return d->peer.ss_family == AF_INET ||
	       IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/*
 * The route's MTU to the peer (IP_MTU/IPV6_MTU, which include what path
 * MTU discovery learned) less the IP and UDP headers: from the
 * application's socket if it is connected, else from a socket of our own
 * connected to the peer (connect() on UDP sends nothing).  0 if unknown.
 */
static size_t path_payload(const struct kdtls *d, int fd)
{
	bool v6 = d->peer.ss_family == AF_INET6;
	int mtu = 0, s = -1;
	socklen_t l = sizeof(mtu);

	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       v6 ? IPV6_MTU : IP_MTU, &mtu, &l)) {
		s = socket(d->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		l = sizeof(mtu);
		if (s < 0 || connect(s, (const void *)&d->peer, peer_len(d)) ||
		    getsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			       v6 ? IPV6_MTU : IP_MTU, &mtu, &l))
			mtu = 0;
		if (s >= 0)
			close(s);
	}
	mtu -= peer_is_v4(d) ? 20 + 8 : 40 + 8;
	return mtu > 0 ? (mtu < MAX_WIRE ? mtu : MAX_WIRE) : 0;
}

/* The largest record plaintext to the peer; 0 if none fits.  @fresh: read
 * the path again whatever the cache says. */
static size_t max_payload(struct kdtls *d, bool fresh)
{
	size_t wire, ovh = record_overhead(d);
	uint64_t t = now_ms();

	if (d->mtu) {
		wire = d->mtu;
	} else {
		if (fresh || !d->path_payload_ms ||
		    t - d->path_payload_ms >= PATH_FRESH_MS) {
			d->path_payload = path_payload(d, d->sock->fd);
			d->path_payload_ms = t ? t : 1;
		}
		wire = d->path_payload;
	}
	if (wire <= ovh)
		return 0;
	return wire - ovh < MAX_PLAINTEXT ? wire - ovh : MAX_PLAINTEXT;
}

/* 0 if @d can send records, else -errno (and @d's error when there is a @d) */
static int check_encrypted(struct kdtls *d)
{
	if (!d)
		return -EINVAL;
	if (d->state != KDTLS_HANDSHAKE_COMPLETE || !d->sock)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -ENOTCONN, "not encrypted");
	return 0;
}

KDTLS_EXPORT ssize_t kdtls_max_record_payload(struct kdtls *d)
{
	size_t n;
	int err;

	err = check_encrypted(d);
	if (err)
		return err;
	n = max_payload(d, false);
	if (!n)
		return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET, -EHOSTUNREACH,
				     "no route to the peer");
	kdtls_err_clear(&d->err);
	return n;
}

KDTLS_EXPORT size_t kdtls_batch_max(const struct kdtls *d, size_t seg)
{
	size_t k;

	if (!d || d->state != KDTLS_HANDSHAKE_COMPLETE || !d->sock || !seg ||
	    seg > MAX_PLAINTEXT)
		return 0;
	k = MAX_WIRE / (seg + record_overhead(d));
	return (k < MAX_SEGMENTS ? k : MAX_SEGMENTS) * seg;
}

/* One send of @len bytes, records of @seg bytes: 0 or -errno */
static int send_batch(struct kdtls *d, int fd, const uint8_t *buf,
		      size_t len, uint16_t seg)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = {
		.msg_name = &d->peer, .msg_namelen = peer_len(d),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	struct cmsghdr *cm;

	if (len > seg) {		/* one record goes without GSO */
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	}
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

KDTLS_EXPORT ssize_t kdtls_write_batch(struct kdtls *d, int fd,
				       const void *buf, size_t len,
				       size_t seg)
{
	const uint8_t *p = buf;
	bool retried = false, auto_seg = !seg;
	size_t done = 0, max, path;
	int err;

	err = check_encrypted(d);
	if (err)
		return err;
	if (!on_sock(d, fd) || !len || !buf)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "not the connection's socket or no data");
	if (auto_seg)
		seg = max_payload(d, false);
	if (!seg || seg > MAX_PLAINTEXT || !kdtls_batch_max(d, seg))
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL, -EMSGSIZE,
				     "records of %zu bytes do not fit (at most %d)",
				     seg, MAX_PLAINTEXT);
	while (done < len) {
		max = kdtls_batch_max(d, seg);
		if (max > len - done)
			max = len - done;
		err = send_batch(d, fd, p + done, max, seg);
		if (!err) {
			done += max;
			continue;
		}
		/* UDP refuses GSO segments larger than the route's MTU with
		 * EINVAL: the path may have shrunk since it was read */
		if ((err == -EINVAL || err == -EMSGSIZE) && max > seg) {
			path = max_payload(d, true);
			if (auto_seg && !retried && path && path < seg) {
				seg = path;
				retried = true;
				continue;
			}
			if (path < seg)
				err = -EMSGSIZE;
		}
		break;
	}
	if (done) {
		kdtls_err_clear(&d->err);
		return done;
	}
	if (err == -EMSGSIZE)
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL, err,
				     "records of %zu bytes do not fit the path or the association",
				     seg);
	return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET, err, "send: %s",
			     strerror(-err));
}

KDTLS_EXPORT ssize_t kdtls_recv_any(int fd, void *buf, size_t len,
				    struct sockaddr_storage *from,
				    socklen_t *fromlen, int *record_type)
{
	char cbuf[KDTLS_CMSG_SPACE];
	struct sockaddr_storage ss;
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_name = &ss, .msg_namelen = sizeof(ss),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct kdtls_rx rx;
	ssize_t n;

	if (len && !buf)
		return -EINVAL;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	kdtls_msg_parse(&mh, n, &rx);
	if (from)
		*from = ss;
	if (fromlen)
		*fromlen = mh.msg_namelen;
	if (record_type)
		*record_type = rx.record_type;
	return n;
}

/* A record of @d's peer held earlier: its length (type in *type), or
 * -EAGAIN.  The whole record is copied to @tmp (64 KiB). */
static ssize_t take_held(struct kdtls *d, uint8_t *tmp, int *type)
{
	struct kdtls_sock *s = d->sock;
	struct kdtls_held **pp, *h;
	ssize_t n;

	for (pp = &s->held; (h = *pp); pp = &h->next) {
		if (!kdtls_addr_equal(&h->from, &d->peer))
			continue;
		*pp = h->next;
		if (s->held_tail == &h->next)
			s->held_tail = pp;
		s->n_held--;
		n = h->len;
		*type = h->type;
		memcpy(tmp, h->data, n);
		free(h);
		return n;
	}
	return -EAGAIN;
}

/* The object a datagram from @from is for: its peer's on the socket, else
 * the socket's listener (new peers are its), else NULL (a stranger). */
static struct kdtls *owner(struct kdtls *reader,
			   const struct sockaddr_storage *from)
{
	struct kdtls_sock *s = reader->sock;
	struct kdtls *o;

	for (o = reader->ctx->objs; o; o = o->next)
		if (o->sock == s && !o->listener &&
		    kdtls_addr_equal(&o->peer, from))
			return o;
	return s->listener;
}

/*
 * Keep another peer's record (data or alert) for its own object: at most
 * KDTLS_MAX_HELD_PEER per peer and KDTLS_MAX_HELD per socket.  Past either
 * bound the new record is dropped and counted (kdtls_dropped_datagrams()
 * of the owner()); nothing already held is discarded.  A stranger's (no
 * object, no listener: nobody would read it) is dropped at once, counted
 * by @reader.
 */
static void hold(struct kdtls *reader, const struct sockaddr_storage *from,
		 int type, const void *buf, size_t len)
{
	struct kdtls *o = owner(reader, from);
	struct kdtls_sock *s = reader->sock;
	struct kdtls_held *h;
	unsigned int mine = 0;

	for (h = s->held; h; h = h->next)
		if (kdtls_addr_equal(&h->from, from))
			mine++;
	h = NULL;
	if (o && s->n_held < KDTLS_MAX_HELD && mine < KDTLS_MAX_HELD_PEER)
		h = malloc(sizeof(*h) + len);
	if (!h) {
		(o ? o : reader)->rx_dropped++;
		return;
	}
	h->from = *from;
	h->type = type;
	h->len = len;
	memcpy(h->data, buf, len);
	h->next = NULL;
	*s->held_tail = h;
	s->held_tail = &h->next;
	s->n_held++;
}

KDTLS_EXPORT unsigned long long kdtls_dropped_datagrams(const struct kdtls *d)
{
	return d ? d->rx_dropped : 0;
}

/* A record of @d's peer: the application data length, or an error. */
static ssize_t deliver(struct kdtls *d, int type, const uint8_t *tmp,
		       ssize_t n, void *buf, size_t len)
{
	if (type == KDTLS_CT_ALERT) {
		if (n >= 2 && (tmp[1] == 0 || tmp[0] == 2)) {
			d->state = KDTLS_HANDSHAKE_NOT_STARTED;
			if (tmp[1] == 0)
				return kdtls_err_set(&d->err,
					KDTLS_ERR_REMOTE_CLOSED, -ECONNRESET,
					"the peer closed the connection");
			return kdtls_err_set(&d->err, KDTLS_ERR_TLS_FATAL,
					     -ECONNRESET, "fatal alert %u",
					     tmp[1]);
		}
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL, -EAGAIN,
				     "warning alert from the peer");
	}
	if ((size_t)n > len)
		n = len;		/* as recv(): the rest is discarded */
	memcpy(buf, tmp, n);
	kdtls_err_clear(&d->err);
	return n;
}

/*
 * Only this object's peer's application data (record type 23): on a socket
 * shared by several peers (a server), a data or alert record of another
 * peer read here is held for that peer's object (its next
 * kdtls_read_datagram() returns it), never returned as this one's.
 * Anything else -- handshake, ChangeCipherSpec, unknown types, a record
 * whose type cmsg was cut (MSG_CTRUNC) -- is never application data: it is
 * dropped.  At most KDTLS_READ_BUDGET datagrams are read per call.
 */
KDTLS_EXPORT ssize_t kdtls_read_datagram(struct kdtls *d, int fd, void *buf,
					 size_t len)
{
	struct sockaddr_storage from;
	uint8_t *tmp;
	socklen_t fl = sizeof(from);
	bool held_other = false;
	unsigned int budget;
	ssize_t n;
	int type;

	if (!d)
		return -EINVAL;
	if (d->state != KDTLS_HANDSHAKE_COMPLETE)
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_OPERATION,
				     -ENOTCONN, "not encrypted");
	if (!on_sock(d, fd) || (len && !buf))
		return kdtls_err_set(&d->err, KDTLS_ERR_INVALID_INPUT, -EINVAL,
				     "not the connection's socket or no buffer");
	if (!d->sock->rxbuf) {
		d->sock->rxbuf = malloc(65536);
		if (!d->sock->rxbuf)
			return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET,
					     -ENOMEM, "out of memory");
	}
	tmp = d->sock->rxbuf;
	n = take_held(d, tmp, &type);
	if (n >= 0)
		return deliver(d, type, tmp, n, buf, len);
	for (budget = KDTLS_READ_BUDGET; budget; budget--) {
		fl = sizeof(from);
		n = kdtls_recv_any(fd, tmp, 65536, &from, &fl, &type);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return kdtls_err_set(&d->err, KDTLS_ERR_SOCKET, n,
					     "recv: %s", strerror(-n));
		if (type != KDTLS_CT_APPLICATION_DATA &&
		    type != KDTLS_CT_ALERT)
			continue;	/* not data: never returned, not held */
		if (kdtls_addr_equal(&from, &d->peer))
			return deliver(d, type, tmp, n, buf, len);
		hold(d, &from, type, tmp, n);
		held_other = true;
	}
	if (!budget)
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL, -EAGAIN,
				     "%u datagrams read, none of this peer's",
				     KDTLS_READ_BUDGET);
	if (held_other)
		return kdtls_err_set(&d->err, KDTLS_ERR_TLS_NON_FATAL, -EAGAIN,
				     "only other peers' datagrams (held for them)");
	kdtls_err_clear(&d->err);
	return -EAGAIN;
}
