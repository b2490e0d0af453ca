// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching UDP sockets and the record data path.
 *
 * Attach works the kTLS way: the socket's sk_prot is switched to a copy of
 * udp_prot (or of the live udpv6_prot, learnt from the first IPv6 socket,
 * since it is not exported) whose sendmsg, recvmsg, setsockopt and close
 * are kdtls's; everything else calls the original.  Send seals one record
 * per datagram in process context.
 *
 * Receive is split in two, the way ESP-in-UDP and L2TP split it:
 *
 *  - softirq, kdtls_encap_rcv() (the socket's UDP encap hook): a datagram
 *    that is not under an epoch the peer's association holds keys for is
 *    handed to the handshake agent right away, as a netlink notification,
 *    so handshakes progress whether or not the application is reading;
 *  - process context, kdtls_recvmsg(): everything else sits in the socket's
 *    receive queue (charged to its rcvbuf) until the application reads;
 *    there it is classified again, replay-checked, opened in place and
 *    copied out.  Bad records are dropped and counted, never reported as
 *    socket errors (RFC 6347 §4.1.2.7).
 *
 * No crypto runs in softirq: the AEAD transforms may be asynchronous, and
 * the reader pays for its own records.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/rhashtable.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <linux/uio.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/transp_v6.h>
#include <net/udp.h>
#include <linux/kdtls.h>
#include "compat.h"
#include "netlink.h"
#include "sock.h"
#include "userbuf.h"

/* any nonzero value enables the encap hook; this one is kdtls's own */
#define KDTLS_ENCAP_TYPE	0x4b

enum { KDTLS_V4, KDTLS_V6, KDTLS_NPROTS };

/*
 * kdtls_prots[KDTLS_V6] is built from the first AF_INET6 UDP socket that is
 * attached (udpv6_prot is not exported); kdtls_base_v6 is published with
 * smp_store_release() once the copy is complete.
 */
static struct proto kdtls_prots[KDTLS_NPROTS];
static const struct proto *kdtls_base_v6;
static DEFINE_MUTEX(kdtls_prot_lock);	/* builds kdtls_prots[KDTLS_V6] */

static bool kdtls_is_ours(const struct sock *sk)
{
	const struct proto *p = READ_ONCE(sk->sk_prot);

	return p == &kdtls_prots[KDTLS_V4] || p == &kdtls_prots[KDTLS_V6];
}

/* the stock proto an attached socket came from */
static const struct proto *kdtls_base_prot(const struct sock *sk)
{
	return sk->sk_family == AF_INET ? &udp_prot :
					  smp_load_acquire(&kdtls_base_v6);
}

static void kdtls_sock_free_assoc(void *ptr, void *arg)
{
	kdtls_assoc_put(ptr);
}

static void kdtls_sock_free_work(struct work_struct *work)
{
	struct kdtls_sock *ks = container_of(to_rcu_work(work),
					     struct kdtls_sock, free_work);

	/* a grace period has passed since the last RCU reader */
	rhashtable_free_and_destroy(&ks->assocs, kdtls_sock_free_assoc, NULL);
	kdtls_scratch_destroy(&ks->tx_scratch);
	kdtls_scratch_destroy(&ks->rx_scratch);
	consume_skb(ks->split_skb);
	mutex_destroy(&ks->split_lock);
	mutex_destroy(&ks->gro_lock);
	free_percpu(ks->stats);
	kfree(ks);
}

/**
 * kdtls_sock_put() - drop a reference to an attached socket's state
 * @ks: state, may be NULL
 */
void kdtls_sock_put(struct kdtls_sock *ks)
{
	if (ks && refcount_dec_and_test(&ks->refcnt))
		queue_rcu_work(kdtls_wq, &ks->free_work);
}

/**
 * kdtls_sock_get() - the kdtls state of a socket, with a reference
 * @sk: any socket
 *
 * sk_user_data belongs to kdtls only while sk_prot is one of kdtls's
 * copies, so that is checked first.
 *
 * Return: the state (put it with kdtls_sock_put()), or NULL if @sk is not
 * attached.
 */
struct kdtls_sock *kdtls_sock_get(struct sock *sk)
{
	struct kdtls_sock *ks = NULL;

	rcu_read_lock();
	if (kdtls_is_ours(sk)) {
		ks = rcu_dereference_sk_user_data(sk);
		if (ks && !refcount_inc_not_zero(&ks->refcnt))
			ks = NULL;
	}
	rcu_read_unlock();
	return ks;
}

/**
 * kdtls_sock_get_by_id() - find an attached socket by its sock-id
 * @net: namespace the id belongs to
 * @id: sock-id
 *
 * Return: the state with a reference, or NULL.
 */
struct kdtls_sock *kdtls_sock_get_by_id(struct net *net, u32 id)
{
	struct kdtls_net *kn = kdtls_net(net);
	struct kdtls_sock *ks;

	mutex_lock(&kn->lock);
	ks = idr_find(&kn->ids, id);
	if (ks && !refcount_inc_not_zero(&ks->refcnt))
		ks = NULL;
	mutex_unlock(&kn->lock);
	return ks;
}

/**
 * kdtls_count() - add to a counter of the namespace, socket and association
 * @ks: socket
 * @a: association, or NULL for an event without one
 * @i: counter
 * @n: amount
 */
void kdtls_count(struct kdtls_sock *ks, struct kdtls_assoc *a,
		 enum kdtls_stat i, u64 n)
{
	kdtls_stat_add(kdtls_net(sock_net(ks->sk))->stats, i, n);
	kdtls_stat_add(ks->stats, i, n);
	if (a)
		kdtls_assoc_stat_add(&a->stats, i, n);
}


/* ---- peers ---------------------------------------------------------- */

static void kdtls_peer_from_skb(const struct sock *sk,
				const struct sk_buff *skb,
				struct kdtls_peer *peer)
{
	memset(peer, 0, sizeof(*peer));
	peer->port = udp_hdr(skb)->source;
	if (skb->protocol == htons(ETH_P_IP)) {
		if (sk->sk_family == AF_INET) {
			peer->family = AF_INET;
			peer->addr[0] = ip_hdr(skb)->saddr;
		} else {
			peer->family = AF_INET6;
			peer->addr[2] = htonl(0x0000ffff);
			peer->addr[3] = ip_hdr(skb)->saddr;
		}
	} else {
		peer->family = AF_INET6;
		memcpy(peer->addr, &ipv6_hdr(skb)->saddr, 16);
	}
}

/**
 * kdtls_sock_peer_check() - normalise a peer for a socket's family
 * @ks: socket
 * @peer: an AF_INET or AF_INET6 peer; IPv4 peers of an AF_INET6 socket are
 *	turned into IPv4-mapped addresses
 *
 * Return: 0, or -EAFNOSUPPORT for an IPv6 peer of an AF_INET socket.
 */
int kdtls_sock_peer_check(struct kdtls_sock *ks, struct kdtls_peer *peer)
{
	if (ks->sk->sk_family == AF_INET) {
		if (peer->family != AF_INET)
			return -EAFNOSUPPORT;
		return 0;
	}
	if (peer->family == AF_INET) {
		peer->family = AF_INET6;
		peer->addr[3] = peer->addr[0];
		peer->addr[0] = 0;
		peer->addr[1] = 0;
		peer->addr[2] = htonl(0x0000ffff);
	}
	return 0;
}

static int kdtls_peer_from_msg(struct sock *sk, struct msghdr *msg,
			       struct kdtls_peer *peer)
{
	memset(peer, 0, sizeof(*peer));

	if (!msg->msg_name) {
		if (sk->sk_state != TCP_ESTABLISHED)
			return -EDESTADDRREQ;
		peer->port = inet_sk(sk)->inet_dport;
		if (sk->sk_family == AF_INET) {
			peer->family = AF_INET;
			peer->addr[0] = inet_sk(sk)->inet_daddr;
		} else {
			peer->family = AF_INET6;
			memcpy(peer->addr, &sk->sk_v6_daddr, 16);
		}
		return 0;
	}

	if (sk->sk_family == AF_INET || msg->msg_namelen < SIN6_LEN_RFC2133) {
		DECLARE_SOCKADDR(struct sockaddr_in *, sin, msg->msg_name);

		if (msg->msg_namelen < sizeof(*sin) ||
		    sin->sin_family != AF_INET)
			return -EINVAL;
		peer->family = AF_INET;
		peer->port = sin->sin_port;
		peer->addr[0] = sin->sin_addr.s_addr;
	} else {
		DECLARE_SOCKADDR(struct sockaddr_in6 *, sin6, msg->msg_name);

		if (sin6->sin6_family == AF_INET) {
			DECLARE_SOCKADDR(struct sockaddr_in *, sin,
					 msg->msg_name);

			peer->family = AF_INET;
			peer->port = sin->sin_port;
			peer->addr[0] = sin->sin_addr.s_addr;
		} else if (sin6->sin6_family == AF_INET6) {
			peer->family = AF_INET6;
			peer->port = sin6->sin6_port;
			memcpy(peer->addr, &sin6->sin6_addr, 16);
		} else {
			return -EAFNOSUPPORT;
		}
	}
	if (!peer->port)
		return -EINVAL;
	return 0;
}

static int kdtls_peer_to_sockaddr(const struct kdtls_peer *peer,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (peer->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = peer->port;
		sin->sin_addr.s_addr = peer->addr[0];
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = peer->port;
		memcpy(&sin6->sin6_addr, peer->addr, 16);
		return sizeof(*sin6);
	}
}

/* ---- send ------------------------------------------------------------ */

/* the UDP_SEGMENT cmsg of a send, if it has one UDP would accept */
static struct cmsghdr *kdtls_msg_gso_cmsg(struct msghdr *msg)
{
	struct cmsghdr *cmsg;

	if (!msg->msg_controllen || msg->msg_control_is_user)
		return NULL;
	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			break;
		if (cmsg->cmsg_level == SOL_UDP &&
		    cmsg->cmsg_type == UDP_SEGMENT &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(u16)))
			return cmsg;
	}
	return NULL;
}

/*
 * The control messages of a GSO send: the application's, with UDP_SEGMENT
 * in sealed-record bytes.  Its own UDP_SEGMENT cmsg (kernel memory, the
 * syscall's copy) is rewritten in place and restored by
 * kdtls_gso_ctl_done(), since io_uring may resend the same msghdr;
 * otherwise a cmsg is put in front of the application's ones.
 */
struct kdtls_gso_ctl {
	struct cmsghdr *app;		/* the application's cmsg, rewritten */
	u16 app_val;
	void *heap;			/* a copy too large for @buf */
	u8 buf[128] __aligned(sizeof(long));
};

static int kdtls_gso_ctl_make(struct kdtls_gso_ctl *c, struct msghdr *kmsg,
			      struct cmsghdr *app, u16 wire_seg)
{
	size_t hlen = CMSG_SPACE(sizeof(u16));
	struct cmsghdr *cmsg;
	u8 *p;

	c->app = app;
	c->heap = NULL;
	if (app) {
		memcpy(&c->app_val, CMSG_DATA(app), sizeof(u16));
		memcpy(CMSG_DATA(app), &wire_seg, sizeof(u16));
		return 0;
	}
	if (kmsg->msg_controllen && kmsg->msg_control_is_user)
		return -EOPNOTSUPP;	/* not reached: sendmsg copies it */
	if (hlen + kmsg->msg_controllen <= sizeof(c->buf)) {
		p = c->buf;
	} else {
		c->heap = kmalloc(hlen + kmsg->msg_controllen, GFP_KERNEL);
		if (!c->heap)
			return -ENOBUFS;
		p = c->heap;
	}
	memset(p, 0, hlen);
	cmsg = (struct cmsghdr *)p;
	cmsg->cmsg_level = SOL_UDP;
	cmsg->cmsg_type = UDP_SEGMENT;
	cmsg->cmsg_len = CMSG_LEN(sizeof(u16));
	memcpy(CMSG_DATA(cmsg), &wire_seg, sizeof(u16));
	if (kmsg->msg_controllen)
		memcpy(p + hlen, kmsg->msg_control, kmsg->msg_controllen);
	kmsg->msg_control = p;
	kmsg->msg_controllen += hlen;
	return 0;
}

static void kdtls_gso_ctl_done(struct kdtls_gso_ctl *c)
{
	if (c->app)
		memcpy(CMSG_DATA(c->app), &c->app_val, sizeof(u16));
	kfree(c->heap);
}

/*
 * Seal @len bytes from @from as records of at most @seg bytes of plaintext
 * each (@seg 0: one record) for @a and send them as one datagram, or as
 * one UDP GSO datagram whose every segment is one record, with @tmpl's
 * name, control messages and flags.  The sequence numbers are taken before
 * sealing and never given back, even if the send fails, so no (epoch,
 * sequence) pair is ever sealed twice (DESIGN.md invariant 1).  The
 * records are built in the socket's TX scratch buffer: no allocation per
 * record.  A batch's plaintext in user memory is read by the AEAD where it
 * is, its pages pinned for the call (struct kdtls_userbuf), instead of
 * being copied into the scratch buffer first.
 */
static int kdtls_xmit(struct kdtls_sock *ks, struct kdtls_assoc *a, u8 type,
		      struct iov_iter *from, size_t len, u16 seg,
		      struct msghdr *tmpl)
{
	size_t ovh = KDTLS_HDR_LEN + kdtls_overhead(a->ci);
	struct kdtls_scratch_ref scratch;
	struct kdtls_gso_ctl ctl;
	struct kdtls_userbuf *ub;
	struct cmsghdr *app_gso;
	struct sock *sk = ks->sk;
	size_t ctx_len, wire, off, plen, left;
	unsigned int n, i;
	struct msghdr kmsg;
	struct kdtls_key *k;
	struct kvec kv;
	u64 seq;
	int ret;

	app_gso = kdtls_msg_gso_cmsg(tmpl);
	n = seg && len > seg ? DIV_ROUND_UP(len, seg) : 1;
	/* max_payload <= KDTLS_MAX_PLAINTEXT_LEN: ovh + seg fits a u16 */
	if ((n > 1 ? seg : len) > a->max_payload)
		return -EMSGSIZE;
	if (n > UDP_MAX_SEGMENTS)
		return -EMSGSIZE;
	wire = len + n * ovh;
	if (wire > IP_MAX_MTU)
		return -EMSGSIZE;

	k = kdtls_assoc_tx_key(a);
	if (!k)
		return -ENOKEY;

	seq = atomic64_add_return(n, &k->next_seq) - n;
	if (seq + n - 1 > KDTLS_SEQ_MAX) {
		/* stay saturated: the counter must never wrap to 0 */
		atomic64_set(&k->next_seq, KDTLS_SEQ_MAX + 1);
		ret = -EKEYEXPIRED;
		goto out_put_key;
	}

	/* the AEAD request, the records, then the pinned pages' bookkeeping */
	ctx_len = kdtls_aead_ctx_size(k);
	ret = kdtls_scratch_get(&ks->tx_scratch,
				ctx_len + ALIGN(wire, sizeof(long)) +
				sizeof(*ub),
				sk->sk_allocation | __GFP_ACCOUNT, &scratch);
	if (ret) {
		kdtls_count(ks, a, KDTLS_STAT_TX_ERRORS, 1);
		goto out_put_key;
	}
	ub = scratch.buf + ctx_len + ALIGN(wire, sizeof(long));

	kdtls_userbuf_pin(ub, from, n > 1 ? len : 0);
	for (i = 0, off = ctx_len, left = len; i < n; i++, left -= plen) {
		bool pinned;

		plen = n > 1 ? min_t(size_t, left, seg) : len;
		pinned = ub->len && kdtls_userbuf_map(ub, plen);
		if (!pinned)	/* copy from here on */
			kdtls_userbuf_release(ub, from, false);
		ret = kdtls_seal(k, type, seq + i, from, pinned ? ub->sg : NULL,
				 plen, scratch.buf + off, scratch.buf);
		if (ret < 0) {
			kdtls_userbuf_release(ub, from, false);
			/* the buffer outlives the call: no plaintext left */
			memzero_explicit(scratch.buf + ctx_len, wire);
			kdtls_count(ks, a, KDTLS_STAT_TX_ERRORS, 1);
			goto out_put_scratch;
		}
		if (pinned)
			ub->used += plen;
		off += ret;
	}
	kdtls_userbuf_release(ub, from, false);

	/*
	 * The payload is now a kernel buffer: zerocopy and page splicing no
	 * longer apply to it.
	 */
	kmsg = *tmpl;
	kv.iov_base = scratch.buf + ctx_len;
	kv.iov_len = wire;
	iov_iter_kvec(&kmsg.msg_iter, ITER_SOURCE, &kv, 1, wire);
	kmsg.msg_flags &= ~(MSG_ZEROCOPY | MSG_SPLICE_PAGES);
	kmsg.msg_ubuf = NULL;
	kmsg.sg_from_iter = NULL;
	if (n > 1 || app_gso) {
		/*
		 * A batch: UDP segments at record boundaries.  One record:
		 * no GSO at all, the application's cmsg reads 0 meanwhile.
		 */
		ret = kdtls_gso_ctl_make(&ctl, &kmsg, app_gso,
					 n > 1 ? ovh + seg : 0);
		if (ret) {
			kdtls_count(ks, a, KDTLS_STAT_TX_ERRORS, 1);
			goto out_put_scratch;
		}
	}

	ret = ks->orig_prot->sendmsg(sk, &kmsg, wire);
	if (n > 1 || app_gso)
		kdtls_gso_ctl_done(&ctl);
	if (ret == wire) {
		kdtls_count(ks, a, KDTLS_STAT_TX_RECORDS, n);
		kdtls_count(ks, a, KDTLS_STAT_TX_BYTES, len);
		ret = len;
	} else {
		kdtls_count(ks, a, KDTLS_STAT_TX_ERRORS, 1);
		if (ret >= 0)
			ret = -EIO;
	}

out_put_scratch:
	kdtls_scratch_put(&scratch);
out_put_key:
	kdtls_key_put(k);
	return ret;
}

/* plaintext bytes per record the send asks for: cmsg, else socket option */
static u16 kdtls_send_gso_size(struct kdtls_sock *ks, struct msghdr *msg)
{
	struct cmsghdr *cmsg = kdtls_msg_gso_cmsg(msg);
	u16 seg;

	if (!cmsg)
		return READ_ONCE(ks->gso_size);
	memcpy(&seg, CMSG_DATA(cmsg), sizeof(seg));
	return seg;
}

static int kdtls_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	struct kdtls_sock *ks;
	int ret;

	ks = kdtls_sock_get(sk);
	if (!ks)
		return -EPIPE;	/* detached under us: never send plaintext */

	/* one send is one record, or one GSO batch of them: no corking */
	if (msg->msg_flags & (MSG_MORE | MSG_OOB)) {
		ret = -EOPNOTSUPP;
		goto out_put_sock;
	}

	ret = kdtls_peer_from_msg(sk, msg, &peer);
	if (ret)
		goto out_put_sock;
	ret = kdtls_sock_peer_check(ks, &peer);
	if (ret)
		goto out_put_sock;

	a = kdtls_assoc_lookup(&ks->assocs, &peer);
	if (!a) {
		kdtls_count(ks, NULL, KDTLS_STAT_TX_NO_ASSOC, 1);
		ret = -ENOKEY;
		goto out_put_sock;
	}

	ret = kdtls_xmit(ks, a, KDTLS_CT_APPLICATION_DATA, &msg->msg_iter, len,
			 kdtls_send_gso_size(ks, msg), msg);
	kdtls_assoc_put(a);
out_put_sock:
	kdtls_sock_put(ks);
	return ret;
}

/**
 * kdtls_sock_send_sealed() - seal a record for the agent and send it
 * @ks: socket
 * @a: the peer's association
 * @type: content type
 * @data: plaintext
 * @len: plaintext length
 *
 * The record takes the association's next TX sequence number, like every
 * record the application sends.
 *
 * Return: @len or negative errno.
 */
int kdtls_sock_send_sealed(struct kdtls_sock *ks, struct kdtls_assoc *a,
			   u8 type, const u8 *data, size_t len)
{
	struct sockaddr_storage ss;
	struct msghdr msg = {};
	struct iov_iter from;
	struct kvec kv = { .iov_base = (void *)data, .iov_len = len };

	msg.msg_name = &ss;
	msg.msg_namelen = kdtls_peer_to_sockaddr(&a->peer, &ss);
	msg.msg_flags = MSG_DONTWAIT;
	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	return kdtls_xmit(ks, a, type, &from, len, 0, &msg);
}

/**
 * kdtls_sock_send_raw() - send a datagram of epoch-0 records verbatim
 * @ks: socket
 * @peer: destination (already normalised for the socket)
 * @data: the datagram, already checked to hold only epoch-0 records
 * @len: its length
 *
 * Return: @len or negative errno.
 */
int kdtls_sock_send_raw(struct kdtls_sock *ks, const struct kdtls_peer *peer,
			const u8 *data, size_t len)
{
	struct sockaddr_storage ss;
	struct msghdr msg = {};
	struct kvec kv = { .iov_base = (void *)data, .iov_len = len };
	int ret;

	msg.msg_name = &ss;
	msg.msg_namelen = kdtls_peer_to_sockaddr(peer, &ss);
	msg.msg_flags = MSG_DONTWAIT;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	ret = ks->orig_prot->sendmsg(ks->sk, &msg, len);
	if (ret >= 0 && ret != len)
		ret = -EIO;
	return ret;
}

#ifdef KDTLS_HAVE_SENDPAGE
/*
 * 6.1: with proto::sendpage NULL, inet_sendpage() falls back to
 * sock_no_sendpage(), which goes through sendmsg, so sendfile() and
 * splice() get sealed like any other send.
 */
#endif

/* ---- receive --------------------------------------------------------- */

static void kdtls_recv_name(struct sock *sk, struct sk_buff *skb,
			    struct msghdr *msg, int *addr_len)
{
	if (!msg->msg_name)
		return;

	if (sk->sk_family == AF_INET) {
		DECLARE_SOCKADDR(struct sockaddr_in *, sin, msg->msg_name);

		sin->sin_family = AF_INET;
		sin->sin_port = udp_hdr(skb)->source;
		sin->sin_addr.s_addr = ip_hdr(skb)->saddr;
		memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
		*addr_len = sizeof(*sin);
	} else {
		DECLARE_SOCKADDR(struct sockaddr_in6 *, sin6, msg->msg_name);

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = udp_hdr(skb)->source;
		sin6->sin6_flowinfo = 0;
		if (skb->protocol == htons(ETH_P_IP)) {
			ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr,
					       &sin6->sin6_addr);
			sin6->sin6_scope_id = 0;
		} else {
			sin6->sin6_addr = ipv6_hdr(skb)->saddr;
			sin6->sin6_scope_id =
				ipv6_iface_scope_id(&sin6->sin6_addr,
						    inet6_iif(skb));
		}
		*addr_len = sizeof(*sin6);
	}
}

/* the control messages plain UDP would give: timestamps, IP_PKTINFO, ... */
static void kdtls_recv_cmsgs(struct sock *sk, struct sk_buff *skb,
			     struct msghdr *msg)
{
	sock_recv_cmsgs(msg, sk, skb);
	if (skb->protocol == htons(ETH_P_IP)) {
		if (kdtls_inet_cmsg_flags(inet_sk(sk)))
			ip_cmsg_recv_offset(msg, sk, skb,
					    sizeof(struct udphdr), 0);
	} else if (inet6_sk(sk)->rxopt.all) {
		ip6_datagram_recv_ctl(sk, msg, skb);
	}
}

/* copy @plen bytes at @off of @skb to the reader; UDP truncation rules */
static int kdtls_recv_copy(struct sk_buff *skb, int off, int plen,
			   struct msghdr *msg, size_t len, int flags)
{
	int copied = plen;
	int err;

	if (copied > len) {
		copied = len;
		msg->msg_flags |= MSG_TRUNC;
	}
	err = skb_copy_datagram_msg(skb, off, msg, copied);
	if (err)
		return err;
	return flags & MSG_TRUNC ? plen : copied;
}

/*
 * A datagram for the handshake agent, found in the receive queue (it came
 * before the agent, or the agent is gone): give it to the agent if there is
 * one, else to an application that asked for record types.
 * Return: >= 0 bytes for the reader, -EAGAIN to go on reading.
 */
static int kdtls_recv_nondata(struct kdtls_sock *ks, struct kdtls_assoc *a,
			      struct sk_buff *skb, const struct kdtls_peer *peer,
			      u8 type, int off, int plen, bool opened,
			      const struct kdtls_hdr *hdr, struct msghdr *msg,
			      size_t len, int flags, int *addr_len)
{
	u32 portid = READ_ONCE(ks->agent_portid);
	int ret;

	if (portid) {
		ret = kdtls_nl_record(ks, portid, peer, type, skb->data + off,
				      plen, opened ? hdr : NULL, GFP_KERNEL);
		kdtls_count(ks, a, ret ? KDTLS_STAT_DROP_AGENT_BUSY :
					 KDTLS_STAT_RX_TO_AGENT, 1);
		return -EAGAIN;
	}
	/* without room for its type, the record must not look like data */
	if (!msg->msg_control ||
	    msg->msg_controllen < CMSG_SPACE(sizeof(type))) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_NO_AGENT, 1);
		return -EAGAIN;
	}
	ret = put_cmsg(msg, SOL_KDTLS, KDTLS_CMSG_RECORD_TYPE, sizeof(type),
		       &type);
	if (ret)
		return ret;
	ret = kdtls_recv_copy(skb, off, plen, msg, len, flags);
	if (ret < 0)
		return ret;
	msg->msg_flags |= MSG_EOR;
	kdtls_recv_name(ks->sk, skb, msg, addr_len);
	kdtls_count(ks, a, KDTLS_STAT_RX_TO_APP, 1);
	return ret;
}

/*
 * Where kdtls_recv_open() finds a record and puts its plaintext: in place
 * at its @data (no source), or read from @pos of @skb and decrypted into
 * the reader's pinned buffer @user (a record of data that fits; then
 * @in_user is set) or into @out, with @data holding only the header and
 * explicit nonce.
 */
struct kdtls_rx_src {
	struct sk_buff *skb;
	unsigned int pos;
	u8 *out;
	struct kdtls_userbuf *user;
	bool in_user;
};

/*
 * Classify, replay-check and open the record at @data (@dlen bytes: one
 * datagram, or one segment of a coalesced one) from @a's peer.
 * Return: KDTLS_CLASS_DATA or KDTLS_CLASS_SEALED with the plaintext at
 * @data (or @src->out) + *@off, *@plen bytes; KDTLS_CLASS_AGENT (not
 * opened); or KDTLS_CLASS_DROP, counted.
 */
static enum kdtls_class kdtls_recv_open(struct kdtls_sock *ks,
					struct kdtls_assoc *a,
					const u16 *epochs, unsigned int n,
					u8 *data, unsigned int dlen,
					struct kdtls_rx_src *src,
					struct kdtls_hdr *hdr, int *off,
					int *plen, void *ctx, size_t ctx_len)
{
	struct kdtls_scratch_ref scratch;
	enum kdtls_drop reason;
	enum kdtls_class cls;
	bool own_ctx = false;
	struct kdtls_key *k;
	int ret;

	cls = kdtls_classify(data, dlen, a != NULL, epochs, n, hdr, &reason);
	switch (cls) {
	case KDTLS_CLASS_DROP:
		kdtls_count(ks, a, kdtls_drop_stat(reason), 1);
		return cls;
	case KDTLS_CLASS_AGENT:
		return cls;
	case KDTLS_CLASS_DATA:
	case KDTLS_CLASS_SEALED:
		break;
	}

	k = kdtls_assoc_rx_key(a, hdr->epoch);
	if (!k) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_EPOCH, 1);
		return KDTLS_CLASS_DROP;
	}
	/* RFC 6347 §4.1.2.6: check before decrypting, update after */
	if (!kdtls_assoc_replay_check(a, k, hdr->seq)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_REPLAY, 1);
		goto drop;
	}
	*off = KDTLS_HDR_LEN + a->ci->explicit_len;
	if (!ctx || ctx_len < kdtls_aead_ctx_size(k)) {
		if (kdtls_scratch_get(&ks->rx_scratch, kdtls_aead_ctx_size(k),
				      GFP_KERNEL_ACCOUNT, &scratch)) {
			kdtls_count(ks, a, KDTLS_STAT_DROP_NOMEM, 1);
			goto drop;
		}
		ctx = scratch.buf;
		own_ctx = true;
	}
	if (src) {
		/* the plaintext's length, if the record is long enough */
		unsigned int pt = hdr->length - kdtls_overhead(a->ci);

		src->in_user = cls == KDTLS_CLASS_DATA && src->user->len &&
			       hdr->length >= kdtls_overhead(a->ci) &&
			       kdtls_userbuf_map(src->user, pt);
		ret = kdtls_open_skb(k, hdr, data + KDTLS_HDR_LEN, src->skb,
				     src->pos,
				     src->in_user ? src->user->sg : NULL,
				     src->out + *off, ctx);
		/* spread over too many pieces: copy it out, open it there */
		if (ret == -E2BIG) {
			src->in_user = false;
			ret = skb_copy_bits(src->skb, src->pos, src->out,
					    dlen) ?:
			      kdtls_open(k, hdr, src->out, dlen, ctx);
		}
		/* never leave unauthenticated plaintext for the reader */
		if (ret < 0 && src->in_user)
			sg_zero_buffer(src->user->sg + 1,
				       sg_nents(src->user->sg + 1), pt, 0);
	} else {
		ret = kdtls_open(k, hdr, data, dlen, ctx);
	}
	if (own_ctx)
		kdtls_scratch_put(&scratch);
	if (ret < 0) {
		kdtls_count(ks, a, ret == -EBADMSG ? KDTLS_STAT_DROP_AUTH :
			    ret == -EPROTO ? KDTLS_STAT_DROP_MALFORMED :
			    ret == -EMSGSIZE ? KDTLS_STAT_DROP_TOO_BIG :
			    KDTLS_STAT_DROP_NOMEM, 1);
		goto drop;
	}
	if (!kdtls_assoc_replay_update(a, k, hdr->seq)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_REPLAY, 1);
		goto drop;
	}
	kdtls_key_put(k);
	*plen = ret;
	return cls;

drop:
	kdtls_key_put(k);
	return KDTLS_CLASS_DROP;
}

/*
 * The first bytes of the segment at @pos of @skb (@dlen bytes) when it can
 * be opened where it lies: its length field says one whole record, under a
 * non-zero epoch the association can open (so kdtls_classify(), which
 * checks the rest, finds it sealed or drops it, never for the agent),
 * explicit nonce included.  NULL: copy the segment out first.
 */
static u8 *kdtls_recv_direct(struct sk_buff *skb, unsigned int pos,
			     unsigned int dlen, const u16 *epochs,
			     unsigned int n, u8 *head)
{
	const unsigned int hlen = KDTLS_HDR_LEN + KDTLS_EXPLICIT_LEN;
	unsigned int i;
	u16 epoch;
	u8 *h;

	if (dlen < hlen)
		return NULL;
	h = skb_header_pointer(skb, pos, hlen, head);
	if (!h || KDTLS_HDR_LEN + (h[11] << 8 | h[12]) != dlen)
		return NULL;
	epoch = (u16)(h[3] << 8 | h[4]);
	for (i = 0; epoch && i < n; i++)
		if (epochs[i] == epoch)
			return h;
	return NULL;
}

/* The AEAD request size for @a's current receive key, 0 without one */
static size_t kdtls_recv_ctx_len(struct kdtls_assoc *a, const u16 *epochs,
				 unsigned int n)
{
	struct kdtls_key *k = n ? kdtls_assoc_rx_key(a, epochs[0]) : NULL;
	size_t len = 0;

	if (k) {
		len = kdtls_aead_ctx_size(k);
		kdtls_key_put(k);
	}
	return len;
}

/*
 * A segment of a coalesced datagram that is not application data, in
 * @buf: to the agent (the whole segment, or the plaintext at @off of a
 * record opened under a known epoch), or dropped without one -- a read of
 * plaintext cannot carry a record type.
 */
static void kdtls_recv_seg_agent(struct kdtls_sock *ks, struct kdtls_assoc *a,
				 const struct kdtls_peer *peer,
				 enum kdtls_class cls,
				 const struct kdtls_hdr *hdr, const u8 *buf,
				 int off, unsigned int dlen, int plen)
{
	u32 portid = READ_ONCE(ks->agent_portid);
	bool raw = cls == KDTLS_CLASS_AGENT;
	int err;

	if (!portid) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_NO_AGENT, 1);
		return;
	}
	err = kdtls_nl_record(ks, portid, peer, hdr->type, buf + (raw ? 0 : off),
			      raw ? dlen : plen, raw ? NULL : hdr, GFP_KERNEL);
	kdtls_count(ks, a, err ? KDTLS_STAT_DROP_AGENT_BUSY :
		    KDTLS_STAT_RX_TO_AGENT, 1);
}

/*
 * A coalesced datagram (UDP_GRO on): each segment is one record of the same
 * peer.  Every record is opened in this one pass; the reader gets the
 * plaintexts back to back with their size in a UDP_GRO cmsg, as plain UDP
 * gives coalesced payloads.  A record under one of the association's
 * epochs is decrypted from the skb's head and page fragments straight into
 * the socket's RX scratch buffer (kdtls_open_skb()); anything else, and
 * every segment of an skb whose fragments userspace may still write
 * (spliced pages), is copied into that buffer first and handled there.  A
 * coalesced skb is up to 64 KiB of page fragments: making it linear would
 * take an atomic high-order allocation per read.  A record that fails is
 * dropped alone; a record for the agent goes to it (or, with no agent, is
 * dropped: a coalesced read cannot carry a record type).  Return: bytes for
 * the reader, -EAGAIN when nothing is left for it.
 */
static int kdtls_recv_batch(struct kdtls_sock *ks, struct kdtls_assoc *a,
			    struct sk_buff *skb, unsigned int start,
			    const struct kdtls_peer *peer,
			    const u16 *epochs, unsigned int n,
			    struct msghdr *msg, size_t len, int flags,
			    int *addr_len)
{
	unsigned int seg = skb_shinfo(skb)->gso_size;
	unsigned int pos, dlen, records = 0;
	int copied = 0, total = 0, pt_seg = 0;
	struct kdtls_scratch_ref scratch;
	size_t ctx_len, data_len;
	u8 head[KDTLS_HDR_LEN + KDTLS_EXPLICIT_LEN];
	struct kdtls_rx_src src = { .skb = skb };
	struct kdtls_hdr hdr;
	enum kdtls_class cls;
	int off, plen, err = 0;
	void *ctx = NULL;
	bool direct;
	u8 *buf, *h;

	/*
	 * The segment, the AEAD request sized for the peer's keys, then the
	 * pinned pages' bookkeeping.
	 */
	ctx_len = kdtls_recv_ctx_len(a, epochs, n);
	data_len = L1_CACHE_ALIGN(seg);
	if (kdtls_scratch_get(&ks->rx_scratch,
			      data_len + ctx_len + sizeof(*src.user),
			      GFP_KERNEL_ACCOUNT, &scratch)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_NOMEM,
			    DIV_ROUND_UP(skb->len, seg));
		return -EAGAIN;
	}
	buf = scratch.buf;
	src.out = buf;
	src.user = scratch.buf + data_len + ctx_len;
	if (ctx_len)
		ctx = buf + data_len;
	direct = a && !skb_has_shared_frag(skb);
	kdtls_userbuf_pin(src.user, &msg->msg_iter,
			  direct ? min_t(size_t, len, skb->len) : 0);

	for (pos = start; pos < skb->len; pos += dlen) {
		dlen = min(seg, skb->len - pos);
		src.in_user = false;
		h = direct ? kdtls_recv_direct(skb, pos, dlen, epochs, n, head) :
			     NULL;
		if (h) {
			src.pos = pos;
			cls = kdtls_recv_open(ks, a, epochs, n, h, dlen, &src,
					      &hdr, &off, &plen, ctx, ctx_len);
		} else if (skb_copy_bits(skb, pos, buf, dlen)) {
			kdtls_count(ks, a, KDTLS_STAT_DROP_MALFORMED, 1);
			continue;
		} else {
			cls = kdtls_recv_open(ks, a, epochs, n, buf, dlen,
					      NULL, &hdr, &off, &plen, ctx,
					      ctx_len);
		}
		if (cls == KDTLS_CLASS_DROP)
			continue;
		if (cls != KDTLS_CLASS_DATA) {
			kdtls_recv_seg_agent(ks, a, peer, cls, &hdr, buf, off,
					     dlen, plen);
			continue;
		}
		if (!pt_seg)
			pt_seg = plen;
		total += plen;
		records++;
		kdtls_count(ks, a, KDTLS_STAT_RX_BYTES, plen);
		if (src.in_user) {
			src.user->used += plen;
			copied += plen;
			continue;
		}
		/* this one is in the scratch buffer: copy from here on */
		kdtls_userbuf_release(src.user, &msg->msg_iter, true);
		if (copied < len) {
			int c = min_t(size_t, plen, len - copied);

			err = memcpy_to_msg(msg, buf + off, c);
			if (err)
				break;
			copied += c;
		}
	}
	kdtls_userbuf_release(src.user, &msg->msg_iter, true);
	/* the buffer outlives the call: no plaintext left in it */
	memzero_explicit(buf, data_len);
	kdtls_scratch_put(&scratch);
	if (records)
		kdtls_count(ks, a, KDTLS_STAT_RX_RECORDS, records);
	if (err)
		return err;
	if (!records)
		return -EAGAIN;
	if (copied < total)
		msg->msg_flags |= MSG_TRUNC;
	kdtls_recv_name(ks->sk, skb, msg, addr_len);
	kdtls_recv_cmsgs(ks->sk, skb, msg);
	put_cmsg(msg, SOL_UDP, UDP_GRO, sizeof(pt_seg), &pt_seg);
	return flags & MSG_TRUNC ? total : copied;
}

/*
 * The sender of @skb, its association (a reference, or NULL) and the
 * epochs it can be read under (*@n of them).
 */
static struct kdtls_assoc *kdtls_recv_lookup(struct kdtls_sock *ks,
					     struct sk_buff *skb,
					     struct kdtls_peer *peer,
					     u16 *epochs, unsigned int *n)
{
	struct kdtls_assoc *a;

	*n = 0;
	kdtls_peer_from_skb(ks->sk, skb, peer);
	a = kdtls_assoc_lookup(&ks->assocs, peer);
	if (a) {
		rcu_read_lock();
		*n = kdtls_assoc_rx_epochs(a, epochs);
		rcu_read_unlock();
	}
	return a;
}

/*
 * sock-gro: the record at @pos of the coalesced @skb (*@dlen bytes on the
 * wire), for a reader that takes one datagram per read: opened in the RX
 * scratch buffer and copied out with UDP's truncation rules.  Return:
 * bytes for the reader, -EAGAIN when the record was not for it (dropped,
 * or handed to the agent), or another negative errno.
 */
static int kdtls_recv_segment(struct kdtls_sock *ks, struct sk_buff *skb,
			      unsigned int pos, unsigned int *dlen,
			      struct msghdr *msg, size_t len, int flags,
			      int *addr_len)
{
	unsigned int seg = skb_shinfo(skb)->gso_size, n;
	struct kdtls_scratch_ref scratch;
	size_t ctx_len, data_len;
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	struct kdtls_hdr hdr;
	enum kdtls_class cls;
	int off, plen, ret;
	u16 epochs[2];
	u8 *buf;

	*dlen = min(seg, skb->len - pos);
	a = kdtls_recv_lookup(ks, skb, &peer, epochs, &n);
	ctx_len = kdtls_recv_ctx_len(a, epochs, n);
	data_len = L1_CACHE_ALIGN(seg);
	ret = -EAGAIN;
	if (kdtls_scratch_get(&ks->rx_scratch, data_len + ctx_len,
			      GFP_KERNEL_ACCOUNT, &scratch)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_NOMEM, 1);
		goto out_put_assoc;
	}
	buf = scratch.buf;
	if (skb_copy_bits(skb, pos, buf, *dlen)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_MALFORMED, 1);
		goto out_put_scratch;
	}
	cls = kdtls_recv_open(ks, a, epochs, n, buf, *dlen, NULL, &hdr, &off,
			      &plen, ctx_len ? buf + data_len : NULL, ctx_len);
	if (cls == KDTLS_CLASS_AGENT || cls == KDTLS_CLASS_SEALED)
		kdtls_recv_seg_agent(ks, a, &peer, cls, &hdr, buf, off, *dlen,
				     plen);
	if (cls != KDTLS_CLASS_DATA)
		goto out_wipe;

	ret = min_t(size_t, plen, len);
	if (plen > len)
		msg->msg_flags |= MSG_TRUNC;
	if (memcpy_to_msg(msg, buf + off, ret)) {
		ret = -EFAULT;
		goto out_wipe;
	}
	if (flags & MSG_TRUNC)
		ret = plen;
	kdtls_recv_name(ks->sk, skb, msg, addr_len);
	kdtls_recv_cmsgs(ks->sk, skb, msg);
	kdtls_count(ks, a, KDTLS_STAT_RX_RECORDS, 1);
	kdtls_count(ks, a, KDTLS_STAT_RX_BYTES, plen);
out_wipe:
	/* the buffer outlives the call: no plaintext left in it */
	memzero_explicit(buf, data_len);
out_put_scratch:
	kdtls_scratch_put(&scratch);
out_put_assoc:
	kdtls_assoc_put(a);
	return ret;
}

/*
 * Handle one dequeued datagram (a coalesced one from its byte @start on).
 * Return: bytes for the reader, -EAGAIN to drop it and read the next one,
 * or another negative errno for the reader.
 */
static int kdtls_recv_one(struct kdtls_sock *ks, struct sk_buff *skb,
			  unsigned int start, struct msghdr *msg, size_t len,
			  int flags, int *addr_len)
{
	struct kdtls_assoc *a;
	enum kdtls_class cls;
	struct kdtls_peer peer;
	struct kdtls_hdr hdr;
	u16 epochs[2];
	unsigned int n;
	int off, plen, ret;

	a = kdtls_recv_lookup(ks, skb, &peer, epochs, &n);
	if (skb_is_gso(skb) && skb_shinfo(skb)->gso_size) {
		ret = kdtls_recv_batch(ks, a, skb, start, &peer, epochs, n,
				       msg, len, flags, addr_len);
		goto out;
	}

	/* the record is opened in place: own a linear, writable copy */
	if (skb_ensure_writable(skb, skb->len)) {
		kdtls_count(ks, a, KDTLS_STAT_DROP_NOMEM, 1);
		ret = -EAGAIN;
		goto out;
	}
	cls = kdtls_recv_open(ks, a, epochs, n, skb->data, skb->len, NULL,
			      &hdr, &off, &plen, NULL, 0);
	switch (cls) {
	case KDTLS_CLASS_DROP:
		ret = -EAGAIN;
		break;
	case KDTLS_CLASS_AGENT:
		ret = kdtls_recv_nondata(ks, a, skb, &peer, hdr.type, 0,
					 skb->len, false, &hdr, msg, len,
					 flags, addr_len);
		break;
	case KDTLS_CLASS_SEALED:
		ret = kdtls_recv_nondata(ks, a, skb, &peer, hdr.type, off, plen,
					 true, &hdr, msg, len, flags,
					 addr_len);
		break;
	case KDTLS_CLASS_DATA:
		ret = kdtls_recv_copy(skb, off, plen, msg, len, flags);
		if (ret < 0)
			break;
		kdtls_recv_name(ks->sk, skb, msg, addr_len);
		kdtls_recv_cmsgs(ks->sk, skb, msg);
		kdtls_count(ks, a, KDTLS_STAT_RX_RECORDS, 1);
		kdtls_count(ks, a, KDTLS_STAT_RX_BYTES, plen);
		break;
	}
out:
	kdtls_assoc_put(a);
	return ret;
}

/*
 * One read's worth of the datagram @head at the head of the receive queue
 * (peeked: the reference is ours), under split_lock.  A coalesced datagram
 * for a reader that has not set UDP_GRO gives one record and stays queued
 * until its last; anything else is dequeued and read as usual (a coalesced
 * one from the cursor on, should the reader have set UDP_GRO in between).
 */
static int kdtls_recv_head(struct kdtls_sock *ks, struct sk_buff *head,
			   struct msghdr *msg, size_t len, int flags,
			   int *addr_len)
{
	bool split = skb_is_gso(head) && skb_shinfo(head)->gso_size &&
		     !READ_ONCE(ks->app_gro);
	struct sock *sk = ks->sk;
	unsigned int start, dlen;
	struct sk_buff *skb;
	int off = 0, err = 0, e;

	if (head != ks->split_skb) {
		consume_skb(ks->split_skb);
		ks->split_skb = NULL;
		ks->split_pos = 0;
	}
	start = ks->split_pos;
	if (split) {
		if (!ks->split_skb)
			ks->split_skb = skb_get(head);
		err = kdtls_recv_segment(ks, head, start, &dlen, msg, len,
					 flags, addr_len);
		ks->split_pos += dlen;
		if (ks->split_pos < head->len) {
			consume_skb(head);
			return err;
		}
	}
	consume_skb(head);	/* the queue (and split_skb) still hold it */

	/* every dequeue is under split_lock: this takes @head */
	skb = __skb_recv_udp(sk, flags | MSG_DONTWAIT, &off, &e);
	if (!skb)
		return -EAGAIN;
	consume_skb(ks->split_skb);
	ks->split_skb = NULL;
	ks->split_pos = 0;
	if (WARN_ON_ONCE(skb != head)) {
		split = false;		/* read it whole, lose nothing */
		start = 0;
	}
	if (split) {
		skb_consume_udp(sk, skb, 0);
		return err;
	}
	err = kdtls_recv_one(ks, skb, start, msg, len, flags, addr_len);
	if (err == -EAGAIN)
		kfree_skb(skb);
	else
		skb_consume_udp(sk, skb, err > 0 ? err : 0);
	return err;
}

/*
 * sock-gro (kdtls_sock_reader_gro()): UDP coalesces datagrams for the
 * socket, and a reader that did not set UDP_GRO still gets one record per
 * read.  A coalesced datagram stays at the head of the receive queue,
 * where poll() sees it, until its last record has been read; split_pos is
 * where the next one starts.  Readers wait for data without a lock, then
 * take split_lock to read, so two threads never open one record and every
 * dequeue takes the datagram peeked at.  split_skb holds a reference, so
 * its address is not reused while the cursor points into it.
 */
static int kdtls_recv_split(struct kdtls_sock *ks, struct msghdr *msg,
			    size_t len, int flags, int *addr_len)
{
	struct sock *sk = ks->sk;
	struct sk_buff *skb;
	int off, err;

	for (;;) {
		off = 0;
		skb = __skb_recv_udp(sk, flags | MSG_PEEK, &off, &err);
		if (!skb)
			return err;
		consume_skb(skb);	/* only waited for it */

		mutex_lock(&ks->split_lock);
		off = 0;
		skb = __skb_recv_udp(sk, flags | MSG_PEEK | MSG_DONTWAIT, &off,
				     &err);
		if (skb)
			err = kdtls_recv_head(ks, skb, msg, len, flags,
					      addr_len);
		mutex_unlock(&ks->split_lock);
		if (err != -EAGAIN)
			return err;
		/* dropped, or another reader was first: read on */
	}
}

static int kdtls_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			 int flags, int *addr_len)
{
	struct kdtls_sock *ks;
	struct sk_buff *skb;
	int off = 0, err;

	if (flags & MSG_ERRQUEUE)
		return kdtls_base_prot(sk)->recvmsg(sk, msg, len, flags,
						    addr_len);
	/*
	 * A record can only be opened once: its replay bit is set when it
	 * is.  Peeking would need a second copy of every record; refuse it.
	 */
	if (flags & (MSG_PEEK | MSG_OOB))
		return -EOPNOTSUPP;

	ks = kdtls_sock_get(sk);
	if (!ks)
		return -EPIPE;

	if (READ_ONCE(ks->split_reads)) {
		err = kdtls_recv_split(ks, msg, len, flags, addr_len);
		kdtls_sock_put(ks);
		return err;
	}

	for (;;) {
		skb = __skb_recv_udp(sk, flags, &off, &err);
		if (!skb)
			break;
		err = kdtls_recv_one(ks, skb, 0, msg, len, flags, addr_len);
		if (err == -EAGAIN) {
			kfree_skb(skb);
			continue;	/* dropped: read the next datagram */
		}
		skb_consume_udp(sk, skb, err > 0 ? err : 0);
		break;
	}

	kdtls_sock_put(ks);
	return err;
}

/*
 * softirq, under rcu_read_lock() (udp_queue_rcv_one_skb).  @skb->data is at
 * the UDP header, the checksum is verified.  Return 1 to queue the datagram
 * on the socket as usual, 0 when consumed (handed to the agent or dropped).
 */
static int kdtls_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct kdtls_sock *ks = rcu_dereference_sk_user_data(sk);
	struct kdtls_peer peer;
	struct kdtls_assoc *a;
	u8 buf[KDTLS_HDR_LEN];
	const u8 *h;
	u16 epochs[2], epoch;
	unsigned int n = 0, i;
	enum kdtls_stat st;
	u32 portid;

	if (!ks || !kdtls_is_ours(sk))
		return 1;
	portid = READ_ONCE(ks->agent_portid);
	if (!portid)
		return 1;	/* no agent: the reader sorts it out */

	h = skb_header_pointer(skb, sizeof(struct udphdr), KDTLS_HDR_LEN, buf);
	if (!h)
		return 1;	/* too short: counted by the reader */
	epoch = (u16)(h[3] << 8 | h[4]);

	kdtls_peer_from_skb(sk, skb, &peer);
	a = rhashtable_lookup(&ks->assocs, &peer, kdtls_assoc_params);
	if (a && epoch) {
		n = kdtls_assoc_rx_epochs(a, epochs);
		for (i = 0; i < n; i++)
			if (epochs[i] == epoch)
				return 1;	/* a record for the reader */
	}

	st = kdtls_nl_record_skb(ks, portid, &peer, skb, sizeof(struct udphdr),
				 a != NULL, epochs, n);
	kdtls_count(ks, a, st, 1);
	if (st == KDTLS_STAT_RX_TO_AGENT)
		consume_skb(skb);
	else
		kfree_skb(skb);
	return 0;
}

/* ---- socket options and close ----------------------------------------- */

/*
 * UDP_GRO: a coalesced skb only reaches a socket without an encap hook
 * (udp_unexpected_gso() segments GSO skbs bound for a tunnel), so while
 * GRO is on the hook is off and datagrams for the agent wait in the
 * receive queue for the reader, which forwards them (kdtls_recv_nondata()).
 * Caller holds the socket lock.
 */
static void kdtls_sock_set_gro(struct kdtls_sock *ks, bool on)
{
	struct sock *sk = ks->sk;

	write_lock_bh(&sk->sk_callback_lock);
	ks->gro = on;
	WRITE_ONCE(udp_sk(sk)->encap_rcv, on ? NULL : kdtls_encap_rcv);
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Make UDP's GRO what the application asked for (app_gro) or kdtls for
 * the reader (own_gro), then the encap hook follow it.  UDP's own handler
 * may lock the socket: called unlocked, under gro_lock.
 */
static int kdtls_sock_apply_gro(struct kdtls_sock *ks)
{
	int on = READ_ONCE(ks->app_gro) || READ_ONCE(ks->own_gro);
	struct sock *sk = ks->sk;
	int err = 0;

	lockdep_assert_held(&ks->gro_lock);
	if (udp_test_bit(GRO_ENABLED, sk) != on) {
		const struct proto *base = kdtls_base_prot(sk);

		err = base->setsockopt(sk, SOL_UDP, UDP_GRO, KERNEL_SOCKPTR(&on),
				       sizeof(on));
	}
	lock_sock(sk);
	if (udp_test_bit(GRO_ENABLED, sk) != ks->gro)
		kdtls_sock_set_gro(ks, !ks->gro);
	release_sock(sk);
	return err;
}

/**
 * kdtls_sock_reader_gro() - UDP GRO for a reader that did not ask for it
 * @ks: socket
 * @on: true to turn UDP's GRO on and serve coalesced datagrams one record
 *	per read (see kdtls_recv_split()); false to leave GRO to the
 *	application again
 *
 * Return: 0 or negative errno from UDP.
 */
int kdtls_sock_reader_gro(struct kdtls_sock *ks, bool on)
{
	int err;

	mutex_lock(&ks->gro_lock);
	WRITE_ONCE(ks->own_gro, on);
	if (on)
		WRITE_ONCE(ks->split_reads, true);
	err = kdtls_sock_apply_gro(ks);
	mutex_unlock(&ks->gro_lock);
	return err;
}

static int kdtls_setsockopt(struct sock *sk, int level, int optname,
			    sockptr_t optval, unsigned int optlen)
{
	const struct proto *base = kdtls_base_prot(sk);
	struct kdtls_sock *ks;
	int val = 0, err;

	if (level == SOL_IPV6 && optname == IPV6_ADDRFORM)
		return -EBUSY;	/* it would restore udp_prot behind our back */
	if (level != SOL_UDP)
		return base->setsockopt(sk, level, optname, optval, optlen);

	switch (optname) {
	case UDP_ENCAP:
		return -EBUSY;
	case UDP_CORK:
	case UDP_SEGMENT:
	case UDP_GRO:
		if (optlen < sizeof(int))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(int)))
			return -EFAULT;
		break;
	default:
		return base->setsockopt(sk, level, optname, optval, optlen);
	}

	if (optname == UDP_CORK) {
		/* one send is one record (or one GSO batch of records) */
		if (val)
			return -EOPNOTSUPP;
		return base->setsockopt(sk, level, optname, optval, optlen);
	}

	ks = kdtls_sock_get(sk);
	if (!ks)
		return -EPIPE;
	err = 0;
	if (optname == UDP_SEGMENT) {
		/*
		 * Kept here, in plaintext bytes per record: UDP's own
		 * gso_size stays 0 and each send passes the sealed record
		 * size as a UDP_SEGMENT cmsg (kdtls_xmit()).
		 */
		if (val < 0 || val > KDTLS_MAX_PLAINTEXT_LEN)
			err = -EINVAL;
		else
			WRITE_ONCE(ks->gso_size, val);
	} else {
		mutex_lock(&ks->gro_lock);
		WRITE_ONCE(ks->app_gro, !!val);
		err = kdtls_sock_apply_gro(ks);
		mutex_unlock(&ks->gro_lock);
	}
	kdtls_sock_put(ks);
	return err;
}

static int kdtls_getsockopt(struct sock *sk, int level, int optname,
			    char __user *optval, int __user *optlen)
{
	struct kdtls_sock *ks;
	int val, len;

	if (level != SOL_UDP || (optname != UDP_SEGMENT && optname != UDP_GRO))
		return kdtls_base_prot(sk)->getsockopt(sk, level, optname,
						       optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	ks = kdtls_sock_get(sk);
	if (!ks)
		return -EPIPE;
	/* UDP_GRO: the application's, not the one kdtls may add */
	val = optname == UDP_SEGMENT ? READ_ONCE(ks->gso_size) :
				       READ_ONCE(ks->app_gro);
	kdtls_sock_put(ks);
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

static void kdtls_sock_unpublish(struct kdtls_sock *ks)
{
	struct kdtls_net *kn = kdtls_net(sock_net(ks->sk));
	struct sock *sk = ks->sk;

	lock_sock(sk);
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(udp_sk(sk)->encap_rcv, NULL);
	WRITE_ONCE(udp_sk(sk)->encap_type, 0);
	WRITE_ONCE(udp_sk(sk)->gso_size, READ_ONCE(ks->gso_size));
	rcu_assign_sk_user_data(sk, NULL);
	WRITE_ONCE(sk->sk_prot, ks->orig_prot);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);

	mutex_lock(&kn->lock);
	idr_remove(&kn->ids, ks->id);
	list_del(&ks->node);
	mutex_unlock(&kn->lock);
	/*
	 * The associations stay until the last reference goes, but no
	 * longer count against the namespace: none can be added any more
	 * (assoc-add needs an attached socket, and runs under genl_mutex like
	 * detach; close cannot race with it, see kdtls_close()).
	 */
	atomic_sub(atomic_read(&ks->num_assocs), &kn->num_assocs);

	kdtls_nl_sock_detached(ks);
}

static void kdtls_close(struct sock *sk, long timeout)
{
	const struct proto *base = kdtls_base_prot(sk);
	struct kdtls_sock *ks;

	/*
	 * close runs when the last file reference is gone, so no netlink
	 * handler (which holds one through sockfd_lookup()) and no
	 * io_uring request can be using the socket now.
	 */
	rcu_read_lock();
	ks = rcu_dereference_sk_user_data(sk);
	rcu_read_unlock();
	if (ks) {
		kdtls_sock_unpublish(ks);
		kdtls_sock_put(ks);
	}
	base->close(sk, timeout);
	if (ks)
		module_put(THIS_MODULE);	/* the attachment's */
}

static void kdtls_prot_build(struct proto *p, const struct proto *base)
{
	*p = *base;
	p->close = kdtls_close;
	p->sendmsg = kdtls_sendmsg;
	p->recvmsg = kdtls_recvmsg;
	p->setsockopt = kdtls_setsockopt;
	p->getsockopt = kdtls_getsockopt;
#ifdef KDTLS_HAVE_SENDPAGE
	p->sendpage = NULL;	/* would bypass sendmsg: plaintext */
#endif
#ifdef CONFIG_BPF_SYSCALL
	p->psock_update_sk_prot = NULL;	/* no sockmap on top of us */
#endif
}

/* ---- attach and detach ------------------------------------------------ */

static int kdtls_sock_check(struct sock *sk, struct netlink_ext_ack *extack)
{
	const struct proto *base;
	bool busy;

	if (sk->sk_type != SOCK_DGRAM || sk->sk_protocol != IPPROTO_UDP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)) {
		NL_SET_ERR_MSG(extack, "not a UDP socket");
		return -EPROTONOSUPPORT;
	}
	if (kdtls_is_ours(sk)) {
		NL_SET_ERR_MSG(extack, "socket is already attached");
		return -EEXIST;
	}

	if (sk->sk_family == AF_INET6) {
		if (strcmp(sk->sk_prot->name, "UDPv6")) {
			NL_SET_ERR_MSG(extack, "not a UDP socket");
			return -EPROTONOSUPPORT;
		}
		mutex_lock(&kdtls_prot_lock);
		if (!kdtls_base_v6) {
			kdtls_prot_build(&kdtls_prots[KDTLS_V6], sk->sk_prot);
			smp_store_release(&kdtls_base_v6, sk->sk_prot);
		}
		mutex_unlock(&kdtls_prot_lock);
	}

	base = kdtls_base_prot(sk);
	if (sk->sk_prot != base) {
		NL_SET_ERR_MSG(extack,
			       "socket's protocol hooks are taken (sockmap?)");
		return -EBUSY;
	}
	rcu_read_lock();
	busy = rcu_dereference_sk_user_data(sk) ||
	       READ_ONCE(udp_sk(sk)->encap_type);
	rcu_read_unlock();
	if (busy) {
		NL_SET_ERR_MSG(extack,
			       "socket is used by a tunnel or sockmap");
		return -EBUSY;
	}
	if (udp_test_bit(CORK, sk) || READ_ONCE(udp_sk(sk)->pending)) {
		NL_SET_ERR_MSG(extack, "socket is corked (UDP_CORK)");
		return -EBUSY;
	}
	return 0;
}

/**
 * kdtls_sock_attach() - make a UDP socket a kdtls socket
 * @sock: the socket, from the caller's fd table
 * @flags: enum kdtls_sock_flags
 * @agent_portid: netlink port of the caller, the agent if asked for
 * @max_assocs: association limit
 * @id: set to the new sock-id
 * @extack: error message
 *
 * Return: 0 or negative errno.
 */
int kdtls_sock_attach(struct socket *sock, u32 flags, u32 agent_portid,
		      u32 max_assocs, u32 *id, struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	struct kdtls_net *kn = kdtls_net(sock_net(sk));
	struct kdtls_sock *ks;
	int err;

	if (!try_module_get(THIS_MODULE))
		return -ENODEV;

	err = -ENOMEM;
	ks = kzalloc(sizeof(*ks), GFP_KERNEL_ACCOUNT);
	if (!ks)
		goto err_put_module;
	ks->stats = alloc_percpu_gfp(struct kdtls_stats, GFP_KERNEL_ACCOUNT);
	if (!ks->stats)
		goto err_free_sock;
	err = rhashtable_init(&ks->assocs, &kdtls_assoc_params);
	if (err)
		goto err_free_stats;

	ks->sk = sk;
	refcount_set(&ks->refcnt, 1);
	ks->flags = flags;
	ks->agent_portid = flags & KDTLS_SOCK_F_AGENT ? agent_portid : 0;
	ks->max_assocs = max_assocs;
	atomic_set(&ks->num_assocs, 0);
	kdtls_scratch_init(&ks->tx_scratch);
	kdtls_scratch_init(&ks->rx_scratch);
	mutex_init(&ks->gro_lock);
	mutex_init(&ks->split_lock);
	INIT_RCU_WORK(&ks->free_work, kdtls_sock_free_work);

	mutex_lock(&kn->lock);
	err = idr_alloc_cyclic(&kn->ids, ks, 1, INT_MAX, GFP_KERNEL);
	if (err < 0) {
		mutex_unlock(&kn->lock);
		goto err_destroy_table;
	}
	ks->id = err;

	lock_sock(sk);
	err = kdtls_sock_check(sk, extack);
	if (err) {
		release_sock(sk);
		goto err_remove_id;
	}
	ks->orig_prot = sk->sk_prot;
	/*
	 * A UDP_SEGMENT set before attach was in plaintext bytes: kdtls
	 * takes it over (UDP's own must stay 0, see kdtls_setsockopt()).
	 */
	ks->gso_size = READ_ONCE(udp_sk(sk)->gso_size);
	WRITE_ONCE(udp_sk(sk)->gso_size, 0);
	ks->gro = udp_test_bit(GRO_ENABLED, sk);
	ks->app_gro = ks->gro;

	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, ks);
	WRITE_ONCE(udp_sk(sk)->encap_rcv, ks->gro ? NULL : kdtls_encap_rcv);
	WRITE_ONCE(udp_sk(sk)->encap_type, KDTLS_ENCAP_TYPE);
	WRITE_ONCE(sk->sk_prot, sk->sk_family == AF_INET ?
		   &kdtls_prots[KDTLS_V4] : &kdtls_prots[KDTLS_V6]);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);

	list_add_tail(&ks->node, &kn->socks);
	mutex_unlock(&kn->lock);
	*id = ks->id;
	return 0;

err_remove_id:
	idr_remove(&kn->ids, ks->id);
	mutex_unlock(&kn->lock);
err_destroy_table:
	mutex_destroy(&ks->split_lock);
	mutex_destroy(&ks->gro_lock);
	rhashtable_destroy(&ks->assocs);
err_free_stats:
	free_percpu(ks->stats);
err_free_sock:
	kfree(ks);
err_put_module:
	module_put(THIS_MODULE);
	return err;
}

/**
 * kdtls_sock_detach() - make an attached socket plain UDP again
 * @sk: the socket
 * @extack: error message
 *
 * Associations are deleted and their keys wiped once no reader can see
 * them.  Datagrams already in the receive queue stay there and are read as
 * plain UDP (ciphertext).  A send or receive that raced with the detach
 * finishes under kdtls's rules.
 *
 * Return: 0, or -ENOENT if @sk is not attached.
 */
int kdtls_sock_detach(struct sock *sk, struct netlink_ext_ack *extack)
{
	struct kdtls_sock *ks = kdtls_sock_get(sk);

	if (!ks) {
		NL_SET_ERR_MSG(extack, "socket is not attached");
		return -ENOENT;
	}
	/* UDP's GRO back to what the application set */
	if (READ_ONCE(ks->own_gro))
		kdtls_sock_reader_gro(ks, false);
	kdtls_sock_unpublish(ks);
	kdtls_sock_put(ks);	/* ours */
	kdtls_sock_put(ks);	/* the attachment's */
	module_put(THIS_MODULE);
	return 0;
}

/**
 * kdtls_sock_set() - change an attached socket's agent and limit
 * @ks: socket
 * @flags: enum kdtls_sock_flags; KDTLS_SOCK_F_AGENT makes @agent_portid
 *	the agent, its absence leaves the socket without one
 * @agent_portid: netlink port of the caller
 * @max_assocs: new limit, or 0 to keep the current one
 * @extack: error message
 *
 * Callers are serialised by genetlink.
 *
 * Return: 0, or -EBUSY when @max_assocs is below the associations installed.
 */
int kdtls_sock_set(struct kdtls_sock *ks, u32 flags, u32 agent_portid,
		   u32 max_assocs, struct netlink_ext_ack *extack)
{
	if (max_assocs) {
		if (max_assocs < atomic_read(&ks->num_assocs)) {
			NL_SET_ERR_MSG(extack,
				       "more associations installed than the new limit");
			return -EBUSY;
		}
		WRITE_ONCE(ks->max_assocs, max_assocs);
	}
	WRITE_ONCE(ks->flags, flags);
	WRITE_ONCE(ks->agent_portid,
		   flags & KDTLS_SOCK_F_AGENT ? agent_portid : 0);
	return 0;
}

/**
 * kdtls_sock_agent_gone() - forget an agent whose netlink socket closed
 * @net: the netlink socket's namespace
 * @portid: its port
 *
 * Another process may get the same port later: it must not receive the
 * records (some of them opened plaintext) meant for the old agent.  The
 * sockets stay attached, without agent, until a new agent takes them with
 * sock-set; meanwhile handshake records go to the application with their
 * record type, or are dropped and counted.
 */
void kdtls_sock_agent_gone(struct net *net, u32 portid)
{
	struct kdtls_net *kn = kdtls_net(net);
	struct kdtls_sock *ks;

	mutex_lock(&kn->lock);
	list_for_each_entry(ks, &kn->socks, node) {
		if (READ_ONCE(ks->agent_portid) != portid)
			continue;
		WRITE_ONCE(ks->agent_portid, 0);
		WRITE_ONCE(ks->flags, ks->flags & ~KDTLS_SOCK_F_AGENT);
	}
	mutex_unlock(&kn->lock);
}

/**
 * kdtls_sock_assoc_add() - insert an association in a socket's table
 * @ks: socket
 * @a: association; on success the table owns the caller's reference
 * @extack: error message
 *
 * Return: 0, -EEXIST, -ENOSPC, or another negative errno.
 */
int kdtls_sock_assoc_add(struct kdtls_sock *ks, struct kdtls_assoc *a,
			 struct netlink_ext_ack *extack)
{
	struct kdtls_net *kn = kdtls_net(sock_net(ks->sk));
	int err;

	if (atomic_inc_return(&ks->num_assocs) > READ_ONCE(ks->max_assocs)) {
		atomic_dec(&ks->num_assocs);
		NL_SET_ERR_MSG(extack, "socket's association limit reached");
		return -ENOSPC;
	}
	if (atomic_inc_return(&kn->num_assocs) > READ_ONCE(kn->max_assocs)) {
		atomic_dec(&kn->num_assocs);
		atomic_dec(&ks->num_assocs);
		NL_SET_ERR_MSG(extack,
			       "namespace's association limit reached (net.kdtls.max_assocs)");
		return -ENOSPC;
	}
	err = rhashtable_lookup_insert_fast(&ks->assocs, &a->node,
					    kdtls_assoc_params);
	if (err) {
		atomic_dec(&kn->num_assocs);
		atomic_dec(&ks->num_assocs);
		if (err == -EEXIST)
			NL_SET_ERR_MSG(extack,
				       "peer already has an association");
		else
			NL_SET_ERR_MSG(extack, "association table is full");
	}
	return err;
}

/**
 * kdtls_sock_assoc_del() - remove a peer's association
 * @ks: socket
 * @peer: peer
 *
 * Callers are serialised (genetlink), so lookup and removal cannot race
 * with another removal.
 *
 * Return: 0 or -ENOENT.
 */
int kdtls_sock_assoc_del(struct kdtls_sock *ks, const struct kdtls_peer *peer)
{
	struct kdtls_assoc *a;
	int err = -ENOENT;

	rcu_read_lock();
	a = rhashtable_lookup(&ks->assocs, peer, kdtls_assoc_params);
	if (a && !rhashtable_remove_fast(&ks->assocs, &a->node,
					 kdtls_assoc_params)) {
		atomic_dec(&kdtls_net(sock_net(ks->sk))->num_assocs);
		atomic_dec(&ks->num_assocs);
		err = 0;
	}
	rcu_read_unlock();
	if (!err)
		kdtls_assoc_put(a);	/* the table's reference */
	return err;
}

/**
 * kdtls_sock_init() - build the IPv4 proto copy
 *
 * Return: 0.
 */
int kdtls_sock_init(void)
{
	kdtls_prot_build(&kdtls_prots[KDTLS_V4], &udp_prot);
	/* the encap hooks run only once this static key is on */
	udp_encap_enable();
#if IS_ENABLED(CONFIG_IPV6)
	udpv6_encap_enable();
#endif
	return 0;
}

/**
 * kdtls_sock_exit() - undo kdtls_sock_init()
 *
 * No socket can be attached: each holds a module reference.  The IPv6
 * encap key has no exported disable; it stays on, which only costs plain
 * UDP sockets a test of encap_type.
 */
void kdtls_sock_exit(void)
{
	udp_encap_disable();
}
