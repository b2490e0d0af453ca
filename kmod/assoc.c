// SPDX-License-Identifier: GPL-2.0
/*
 * Associations: one per peer of an attached socket, in the socket's
 * rhashtable keyed by peer address, so lookups stay O(1) at 100 000 peers.
 * Each holds the TX key and the newest and previous RX keys.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include "assoc.h"

const struct rhashtable_params kdtls_assoc_params = {
	.key_len		= sizeof(struct kdtls_peer),
	.key_offset		= offsetof(struct kdtls_assoc, peer),
	.head_offset		= offsetof(struct kdtls_assoc, node),
	.automatic_shrinking	= true,
};

static void kdtls_assoc_free_work(struct work_struct *work)
{
	struct kdtls_assoc *a = container_of(to_rcu_work(work),
					     struct kdtls_assoc, free_work);

	/* a grace period has passed: no RCU reader can see the slots */
	kdtls_key_put(rcu_dereference_protected(a->tx, 1));
	kdtls_key_put(rcu_dereference_protected(a->rx[0], 1));
	kdtls_key_put(rcu_dereference_protected(a->rx[1], 1));
	kfree(a);
}

/**
 * kdtls_assoc_new() - build an association (not yet in any table)
 * @peer: hash key
 * @cipher: enum kdtls_cipher, already validated
 * @tx: TX key state
 * @rx: RX key state
 * @window: replay window in records
 * @grace_ms: how long the previous RX epoch stays valid after a rekey
 * @max_payload: largest plaintext per record
 *
 * Return: the association with one reference, or an ERR_PTR.
 */
struct kdtls_assoc *kdtls_assoc_new(const struct kdtls_peer *peer, u16 cipher,
				    const struct kdtls_key_cfg *tx,
				    const struct kdtls_key_cfg *rx,
				    u32 window, u32 grace_ms, u32 max_payload)
{
	const struct kdtls_cipher_info *ci = kdtls_cipher_info(cipher);
	struct kdtls_key *txk, *rxk;
	struct kdtls_assoc *a;
	int err = -ENOMEM;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		goto err;

	txk = kdtls_key_new(ci, tx->key, tx->salt, tx->epoch, tx->seq, window,
			    GFP_KERNEL_ACCOUNT);
	if (IS_ERR(txk)) {
		err = PTR_ERR(txk);
		goto err_free_assoc;
	}
	rxk = kdtls_key_new(ci, rx->key, rx->salt, rx->epoch, rx->seq, window,
			    GFP_KERNEL_ACCOUNT);
	if (IS_ERR(rxk)) {
		err = PTR_ERR(rxk);
		goto err_put_tx;
	}

	a->peer = *peer;
	refcount_set(&a->refcnt, 1);
	a->cipher = cipher;
	a->ci = ci;
	a->replay_window = kdtls_replay_round(window);
	a->rx_grace_ms = grace_ms;
	a->max_payload = max_payload;
	spin_lock_init(&a->lock);
	RCU_INIT_POINTER(a->tx, txk);
	RCU_INIT_POINTER(a->rx[0], rxk);
	INIT_RCU_WORK(&a->free_work, kdtls_assoc_free_work);
	return a;

err_put_tx:
	kdtls_key_put(txk);
err_free_assoc:
	kfree(a);
err:
	return ERR_PTR(err);
}

/**
 * kdtls_assoc_put() - drop a reference; the last frees after a grace period
 * @a: association, may be NULL
 */
void kdtls_assoc_put(struct kdtls_assoc *a)
{
	if (a && refcount_dec_and_test(&a->refcnt))
		queue_rcu_work(kdtls_wq, &a->free_work);
}

/**
 * kdtls_assoc_lookup() - find a peer's association and take a reference
 * @ht: the socket's table
 * @peer: hash key
 *
 * Return: the association (put it with kdtls_assoc_put()) or NULL.
 */
struct kdtls_assoc *kdtls_assoc_lookup(struct rhashtable *ht,
				       const struct kdtls_peer *peer)
{
	struct kdtls_assoc *a;

	rcu_read_lock();
	a = rhashtable_lookup(ht, peer, kdtls_assoc_params);
	if (a && !refcount_inc_not_zero(&a->refcnt))
		a = NULL;
	rcu_read_unlock();
	return a;
}

/**
 * kdtls_assoc_rx_epochs() - the epochs the association can open now
 * @a: association
 * @epochs: two entries; newest first
 *
 * Call under rcu_read_lock().  The previous epoch is listed only until its
 * grace period ends.
 *
 * Return: the number of entries filled.
 */
unsigned int kdtls_assoc_rx_epochs(struct kdtls_assoc *a, u16 *epochs)
{
	struct kdtls_key *k;
	unsigned int n = 0;

	k = rcu_dereference(a->rx[0]);
	if (k)
		epochs[n++] = k->epoch;
	k = rcu_dereference(a->rx[1]);
	if (k && time_before(jiffies, READ_ONCE(k->expires)))
		epochs[n++] = k->epoch;
	return n;
}

/**
 * kdtls_assoc_tx_key() - the current TX key, with a reference
 * @a: association
 *
 * Return: the key (put it with kdtls_key_put()) or NULL.
 */
struct kdtls_key *kdtls_assoc_tx_key(struct kdtls_assoc *a)
{
	struct kdtls_key *k;

	/*
	 * A rekey drops the old key's last reference right after it
	 * unpublishes it, so a failed hold means a->tx has already moved on:
	 * read it again instead of failing the send.
	 */
	rcu_read_lock();
	do {
		k = rcu_dereference(a->tx);
	} while (k && !kdtls_key_hold(k));
	rcu_read_unlock();
	return k;
}

/**
 * kdtls_assoc_rx_key() - the RX key of an epoch, with a reference
 * @a: association
 * @epoch: the record's epoch
 *
 * Return: the key (put it with kdtls_key_put()), or NULL when the epoch has
 * no key or its grace period is over.
 */
struct kdtls_key *kdtls_assoc_rx_key(struct kdtls_assoc *a, u16 epoch)
{
	struct kdtls_key *k;
	int i;

	rcu_read_lock();
	for (i = 0; i < 2; i++) {
		k = rcu_dereference(a->rx[i]);
		if (!k || k->epoch != epoch)
			continue;
		if (i == 1 && !time_before(jiffies, READ_ONCE(k->expires)))
			break;
		if (kdtls_key_hold(k)) {
			rcu_read_unlock();
			return k;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/**
 * kdtls_assoc_replay_check() - check a sequence number before decrypting
 * @a: association
 * @k: RX key of the record's epoch
 * @seq: the record's sequence number
 *
 * Return: true if the record may be opened.
 */
bool kdtls_assoc_replay_check(struct kdtls_assoc *a, struct kdtls_key *k,
			      u64 seq)
{
	bool ok;

	spin_lock_bh(&a->lock);
	ok = kdtls_replay_check(&k->replay, seq);
	spin_unlock_bh(&a->lock);
	return ok;
}

/**
 * kdtls_assoc_replay_update() - record an authenticated sequence number
 * @a: association
 * @k: RX key of the record's epoch
 * @seq: the record's sequence number
 *
 * Return: false if another reader accepted the same record first.
 */
bool kdtls_assoc_replay_update(struct kdtls_assoc *a, struct kdtls_key *k,
			       u64 seq)
{
	bool ok;

	spin_lock_bh(&a->lock);
	ok = kdtls_replay_update(&k->replay, seq);
	spin_unlock_bh(&a->lock);
	return ok;
}

/**
 * kdtls_assoc_rekey() - install a new TX and/or RX epoch
 * @a: association
 * @tx: new TX key state, or NULL
 * @rx: new RX key state, or NULL
 *
 * Both keys are built before anything is published, so a failure changes
 * nothing.  TX switches atomically: a sender holds either the old key or
 * the new one.  The previous RX key stays valid for @a->rx_grace_ms; the
 * one before it is retired now.  Epochs must increase (checked by the
 * caller, under the same serialization as this call).
 *
 * Return: 0 or negative errno.
 */
int kdtls_assoc_rekey(struct kdtls_assoc *a, const struct kdtls_key_cfg *tx,
		      const struct kdtls_key_cfg *rx)
{
	struct kdtls_key *txk = NULL, *rxk = NULL, *old_tx = NULL, *dead_rx;
	struct kdtls_key *prev_rx;

	if (tx) {
		txk = kdtls_key_new(a->ci, tx->key, tx->salt, tx->epoch, tx->seq,
				    a->replay_window, GFP_KERNEL_ACCOUNT);
		if (IS_ERR(txk))
			return PTR_ERR(txk);
	}
	if (rx) {
		rxk = kdtls_key_new(a->ci, rx->key, rx->salt, rx->epoch, rx->seq,
				    a->replay_window, GFP_KERNEL_ACCOUNT);
		if (IS_ERR(rxk)) {
			kdtls_key_put(txk);
			return PTR_ERR(rxk);
		}
	}

	spin_lock_bh(&a->lock);
	if (txk)
		old_tx = rcu_replace_pointer(a->tx, txk,
					     lockdep_is_held(&a->lock));
	dead_rx = NULL;
	if (rxk) {
		prev_rx = rcu_dereference_protected(a->rx[0],
						    lockdep_is_held(&a->lock));
		WRITE_ONCE(prev_rx->expires,
			   jiffies + msecs_to_jiffies(a->rx_grace_ms));
		dead_rx = rcu_replace_pointer(a->rx[1], prev_rx,
					      lockdep_is_held(&a->lock));
		rcu_assign_pointer(a->rx[0], rxk);
	}
	spin_unlock_bh(&a->lock);

	/* kdtls_key_put() defers the free past a grace period */
	kdtls_key_put(old_tx);
	kdtls_key_put(dead_rx);
	return 0;
}
