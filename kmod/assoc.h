/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_ASSOC_H
#define _KDTLS_ASSOC_H

#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/in6.h>
#include "crypto.h"
#include "stats.h"

/*
 * Hash key of an association: the peer as the socket sees it.  AF_INET
 * sockets use family AF_INET and addr[0]; AF_INET6 sockets always use
 * AF_INET6, with IPv4-mapped addresses for IPv4 peers.  Padding is zero.
 */
struct kdtls_peer {
	__be32 addr[4];
	__be16 port;
	u16 family;
};

/*
 * One peer's DTLS state: cipher, the TX key and up to two RX keys.
 *
 * Lifetime: the socket's table holds one reference from kdtls_assoc_add()
 * to kdtls_assoc_del() (or the socket's teardown).  The data path and the
 * netlink handlers take their own with kdtls_assoc_lookup(), under RCU.
 * softirq (kdtls_encap_rcv) reads @rx under RCU without a reference.  The
 * last put frees after a grace period (rcu_work), then puts the keys.
 */
struct kdtls_assoc {
	struct rhash_head node;
	struct kdtls_peer peer;
	refcount_t refcnt;
	u16 cipher;
	const struct kdtls_cipher_info *ci;
	u32 replay_window;
	u32 rx_grace_ms;
	u32 max_payload;

	/*
	 * @lock protects the RX replay windows and key replacement.  Keys are
	 * published with rcu_assign_pointer() under it; rx[0] is the newest
	 * RX epoch, rx[1] the previous one (valid until rx[1]->expires).
	 */
	spinlock_t lock;
	struct kdtls_key __rcu *tx;
	struct kdtls_key __rcu *rx[2];

	struct kdtls_assoc_stats stats;
	struct rcu_work free_work;
};

extern const struct rhashtable_params kdtls_assoc_params;

struct kdtls_key_cfg {
	u16 epoch;
	u64 seq;
	const u8 *key;
	const u8 *salt;
};

struct kdtls_assoc *kdtls_assoc_new(const struct kdtls_peer *peer, u16 cipher,
				    const struct kdtls_key_cfg *tx,
				    const struct kdtls_key_cfg *rx,
				    u32 window, u32 grace_ms, u32 max_payload);
void kdtls_assoc_put(struct kdtls_assoc *a);
struct kdtls_assoc *kdtls_assoc_lookup(struct rhashtable *ht,
				       const struct kdtls_peer *peer);
int kdtls_assoc_rekey(struct kdtls_assoc *a, const struct kdtls_key_cfg *tx,
		      const struct kdtls_key_cfg *rx);
unsigned int kdtls_assoc_rx_epochs(struct kdtls_assoc *a, u16 *epochs);
struct kdtls_key *kdtls_assoc_tx_key(struct kdtls_assoc *a);
struct kdtls_key *kdtls_assoc_rx_key(struct kdtls_assoc *a, u16 epoch);
bool kdtls_assoc_replay_check(struct kdtls_assoc *a, struct kdtls_key *k,
			      u64 seq);
bool kdtls_assoc_replay_update(struct kdtls_assoc *a, struct kdtls_key *k,
			       u64 seq);

#endif /* _KDTLS_ASSOC_H */
