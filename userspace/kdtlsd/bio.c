// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the datagram BIO between OpenSSL and the kernel, and the
 * record-send helpers.  See hs.c for how a handshake uses it: one
 * BIO_write is one datagram (record-send, verbatim), BIO_read takes one
 * queued record notification, and every record header crossing it is
 * parsed for the sequence numbers assoc-add needs.  Once the keys are
 * installed, write_installed() keeps every epoch-1 record OpenSSL sealed
 * from leaving (DESIGN.md invariant 1).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hs.h"


void kd_dgram_free_list(struct dgram **head)
{
	struct dgram *d;

	while ((d = *head)) {
		*head = d->next;
		OPENSSL_cleanse(d->data, d->len);
		free(d);
	}
}

struct dgram *kd_dgram_new(const void *data, size_t len)
{
	struct dgram *d = malloc(sizeof(*d) + len);

	if (d) {
		d->next = NULL;
		d->len = len;
		memcpy(d->data, data, len);
	}
	return d;
}

void kd_rxq_push(struct kd_hs *hs, const void *data, size_t len)
{
	struct dgram *d;

	if (hs->rxq_len >= RXQ_MAX) {	/* drop the oldest */
		d = hs->rxq;
		hs->rxq = d->next;
		if (!hs->rxq)
			hs->rxq_tail = &hs->rxq;
		hs->rxq_len--;
		free(d);
	}
	d = kd_dgram_new(data, len);
	if (!d)
		return;
	*hs->rxq_tail = d;
	hs->rxq_tail = &d->next;
	hs->rxq_len++;
}

static void track(const uint8_t *p, size_t len, int64_t *max0, int64_t *max1)
{
	struct kd_rec r;

	while (kd_rec_next(&p, &len, &r) == 1) {
		if (r.epoch == 0 && max0 && (int64_t)r.seq > *max0)
			*max0 = r.seq;
		if (r.epoch == 1 && (int64_t)r.seq > *max1)
			*max1 = r.seq;
	}
}

/* Any record under a non-zero epoch (the kernel would refuse it while the
 * peer has an association). */
static bool has_epoch(const uint8_t *p, size_t len)
{
	struct kd_rec r;

	while (kd_rec_next(&p, &len, &r) == 1)
		if (r.epoch)
			return true;
	return false;
}

static int bio_read(BIO *b, char *out, int outl)
{
	struct kd_hs *hs = BIO_get_data(b);
	struct dgram *d = hs->rxq;
	int n;

	BIO_clear_retry_flags(b);
	if (!d) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = d->len < (size_t)outl ? (int)d->len : outl;
	memcpy(out, d->data, n);
	if (!hs->peek) {
		track(d->data, d->len, NULL, &hs->rx_max1);
		hs->rxq = d->next;
		if (!hs->rxq)
			hs->rxq_tail = &hs->rxq;
		hs->rxq_len--;
		OPENSSL_cleanse(d->data, d->len);
		free(d);
	}
	return n;
}

void kd_send_verbatim(struct kd_hs *hs, const uint8_t *p, size_t len)
{
	int err;

	if (!len)
		return;
	err = kd_nl_record_send(hs->sock->fd, &hs->peer, p, len, false, 0);
	if (err)
		kd_dbg("record-send: %s %s", strerror(-err), kd_nl_extack());
}

void kd_send_sealed(struct kd_hs *hs, uint8_t type, const void *p,
			size_t len)
{
	int err = kd_nl_record_send(hs->sock->fd, &hs->peer, p, len, true,
				    type);

	if (err)
		kd_warn("record-send (seal, type %u): %s %s", type,
			strerror(-err), kd_nl_extack());
}

/*
 * After the keys are installed: epoch-0 records leave verbatim, OpenSSL's
 * sealed Finished and alerts are replaced by the kernel's sealing of the
 * same plaintext, anything else of epoch >= 1 is dropped.  No record
 * OpenSSL sealed under epoch 1 ever leaves once the kernel owns epoch 1.
 */
static void write_installed(struct kd_hs *hs, const uint8_t *data, size_t len)
{
	const uint8_t *p = data, *run = data;
	size_t left = len;
	struct kd_rec r;

	while (kd_rec_next(&p, &left, &r) == 1) {
		const uint8_t *start = r.body - KD_HDR_LEN;

		if (r.epoch == 0)
			continue;
		kd_send_verbatim(hs, run, start - run);
		run = p;
		if (r.type == KDTLS_CT_HANDSHAKE && hs->fin_len) {
			kd_send_sealed(hs, KDTLS_CT_HANDSHAKE, hs->fin, hs->fin_len);
			kd_dbg("final flight: Finished sealed by the kernel");
		} else if (r.type == KDTLS_CT_ALERT && hs->has_alert) {
			kd_send_sealed(hs, KDTLS_CT_ALERT, hs->alert, 2);
		} else {
			kd_warn("dropped an epoch-%u type-%u record OpenSSL wrote after key install",
				r.epoch, r.type);
		}
	}
	kd_send_verbatim(hs, run, data + len - run - left);
}

static int bio_write(BIO *b, const char *in, int inl)
{
	struct kd_hs *hs = BIO_get_data(b);
	const uint8_t *p = (const void *)in;

	BIO_clear_retry_flags(b);
	if (inl <= 0)
		return 0;
	if (hs->installed) {
		write_installed(hs, p, inl);
		return inl;
	}
	if (hs->old && has_epoch(p, inl) && kd_hs_takeover(hs))
		return -1;	/* a restart the old association outlives */
	track(p, inl, &hs->tx_max[0], &hs->tx_max[1]);
	kd_send_verbatim(hs, p, inl);
	return inl;		/* a lost datagram is a lost datagram */
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct kd_hs *hs = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_DGRAM_SET_PEEK_MODE:
		hs->peek = !!num;
		return 1;
	case BIO_CTRL_DGRAM_GET_PEER:
		if (ptr) {
			const struct sockaddr_storage *p = &hs->peer;

			if (p->ss_family == AF_INET) {
				const struct sockaddr_in *in = (const void *)p;

				BIO_ADDR_rawmake(ptr, AF_INET, &in->sin_addr, 4,
						 in->sin_port);
			} else {
				const struct sockaddr_in6 *in6 = (const void *)p;

				BIO_ADDR_rawmake(ptr, AF_INET6, &in6->sin6_addr,
						 16, in6->sin6_port);
			}
		}
		return 1;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		/* the link MTU we give OpenSSL is the UDP payload size */
		return 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return hs->sock->mtu;
	case BIO_CTRL_DGRAM_GET_MTU:
	case BIO_CTRL_DGRAM_SET_MTU:
		return -1;
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
	case BIO_CTRL_PENDING:
	case BIO_CTRL_WPENDING:
		return 0;
	case BIO_CTRL_DGRAM_SET_PEER:
	case BIO_CTRL_DGRAM_CONNECT:
	case BIO_CTRL_DGRAM_SET_CONNECTED:
	case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
	case BIO_CTRL_DGRAM_MTU_DISCOVER:
	case BIO_CTRL_DGRAM_SET_DONT_FRAG:
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_RESET:
		return 1;
	}
	return 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO_METHOD *kd_bio_method_new(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_DGRAM, "kdtlsd");

	if (!m || !BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}
