/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_SOCK_H
#define _KDTLS_SOCK_H

#include <linux/rhashtable-types.h>
#include <linux/refcount.h>
#include <net/sock.h>
#include "assoc.h"
#include "scratch.h"

struct netlink_ext_ack;

/*
 * An attached UDP socket.
 *
 * Lifetime: attach publishes it in sk_user_data (RCU) and holds one
 * reference, dropped by detach or by the socket's close.  The data path
 * (sendmsg, recvmsg) and netlink handlers take their own with
 * kdtls_sock_get().  softirq (kdtls_encap_rcv) uses it under RCU only.
 * The last reference queues an rcu_work that empties @assocs and frees it,
 * so an RCU reader that found it in sk_user_data is done by then.
 */
struct kdtls_sock {
	struct sock *sk;
	struct proto *orig_prot;	/* restored by detach */
	refcount_t refcnt;
	u32 id;				/* unique in the namespace */
	u32 flags;			/* enum kdtls_sock_flags */
	u32 agent_portid;		/* 0: no agent; READ_ONCE in softirq */
	u32 max_assocs;
	atomic_t num_assocs;
	struct rhashtable assocs;	/* struct kdtls_assoc, by peer */
	struct kdtls_stats __percpu *stats;
	struct kdtls_scratch tx_scratch;	/* sealed records, AEAD request */
	struct kdtls_scratch rx_scratch;	/* AEAD request */
	u16 gso_size;			/* UDP_SEGMENT: plaintext per record */
	bool gro;			/* UDP's GRO is on: encap hook off */
	bool app_gro;			/* the application set UDP_GRO */
	bool own_gro;			/* sock-gro: GRO for the reader */
	bool split_reads;		/* own_gro was ever on: reads split */
	struct mutex gro_lock;		/* app_gro, own_gro and UDP's GRO */
	/*
	 * sock-gro: the coalesced datagram at the head of the receive queue
	 * whose records are being read one by one (a reference of ours),
	 * and where the next one starts; under split_lock.
	 */
	struct mutex split_lock;
	struct sk_buff *split_skb;
	unsigned int split_pos;
	struct list_head node;		/* kdtls_net::socks, under its lock */
	struct rcu_work free_work;
};

int kdtls_sock_attach(struct socket *sock, u32 flags, u32 agent_portid,
		      u32 max_assocs, u32 *id, struct netlink_ext_ack *extack);
int kdtls_sock_detach(struct sock *sk, struct netlink_ext_ack *extack);
int kdtls_sock_set(struct kdtls_sock *ks, u32 flags, u32 agent_portid,
		   u32 max_assocs, struct netlink_ext_ack *extack);
int kdtls_sock_reader_gro(struct kdtls_sock *ks, bool on);
void kdtls_sock_agent_gone(struct net *net, u32 portid);
struct kdtls_sock *kdtls_sock_get(struct sock *sk);
struct kdtls_sock *kdtls_sock_get_by_id(struct net *net, u32 id);
void kdtls_sock_put(struct kdtls_sock *ks);

int kdtls_sock_assoc_add(struct kdtls_sock *ks, struct kdtls_assoc *a,
			 struct netlink_ext_ack *extack);
int kdtls_sock_assoc_del(struct kdtls_sock *ks, const struct kdtls_peer *peer);

void kdtls_count(struct kdtls_sock *ks, struct kdtls_assoc *a,
		 enum kdtls_stat i, u64 n);
int kdtls_sock_peer_check(struct kdtls_sock *ks, struct kdtls_peer *peer);
int kdtls_sock_send_raw(struct kdtls_sock *ks, const struct kdtls_peer *peer,
			const u8 *data, size_t len);
int kdtls_sock_send_sealed(struct kdtls_sock *ks, struct kdtls_assoc *a,
			   u8 type, const u8 *data, size_t len);

/* counter of a classification drop reason */
static inline enum kdtls_stat kdtls_drop_stat(enum kdtls_drop reason)
{
	switch (reason) {
	case KDTLS_DROP_VERSION:
		return KDTLS_STAT_DROP_VERSION;
	case KDTLS_DROP_TYPE:
		return KDTLS_STAT_DROP_TYPE;
	case KDTLS_DROP_EPOCH:
		return KDTLS_STAT_DROP_EPOCH;
	case KDTLS_DROP_TOO_BIG:
		return KDTLS_STAT_DROP_TOO_BIG;
	default:
		return KDTLS_STAT_DROP_MALFORMED;
	}
}

int kdtls_sock_init(void);
void kdtls_sock_exit(void);

#endif /* _KDTLS_SOCK_H */
