// SPDX-License-Identifier: GPL-2.0
/*
 * DTLS 1.2 record header codec, nonce/AAD construction and datagram
 * classification (RFC 6347 §4.1, RFC 5288, RFC 6655, RFC 7905).
 *
 * Pure code: built into kdtls.ko and, unchanged, into the host unit tests.
 */
#include "record.h"
#include <linux/kdtls.h>

static const struct kdtls_cipher_info kdtls_ciphers[] = {
	[KDTLS_CIPHER_AES_128_GCM] = {
		.alg = "gcm(aes)", .key_len = 16, .salt_len = 4,
		.explicit_len = 8, .tag_len = 16,
	},
	[KDTLS_CIPHER_AES_256_GCM] = {
		.alg = "gcm(aes)", .key_len = 32, .salt_len = 4,
		.explicit_len = 8, .tag_len = 16,
	},
	[KDTLS_CIPHER_CHACHA20_POLY1305] = {
		.alg = "rfc7539(chacha20,poly1305)", .key_len = 32,
		.salt_len = 12, .explicit_len = 0, .tag_len = 16,
	},
	[KDTLS_CIPHER_AES_128_CCM] = {
		.alg = "ccm(aes)", .key_len = 16, .salt_len = 4,
		.explicit_len = 8, .tag_len = 16, .ccm = true,
	},
	[KDTLS_CIPHER_AES_128_CCM_8] = {
		.alg = "ccm(aes)", .key_len = 16, .salt_len = 4,
		.explicit_len = 8, .tag_len = 8, .ccm = true,
	},
};

/**
 * kdtls_cipher_info() - constants of a cipher
 * @cipher: enum kdtls_cipher value
 *
 * Return: the cipher's sizes and crypto API name, or NULL if unknown.
 */
const struct kdtls_cipher_info *kdtls_cipher_info(unsigned int cipher)
{
	if (cipher == KDTLS_CIPHER_UNSPEC || cipher >= __KDTLS_CIPHER_MAX)
		return NULL;
	return &kdtls_ciphers[cipher];
}

static u16 get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static u64 get_be48(const u8 *p)
{
	return (u64)p[0] << 40 | (u64)p[1] << 32 | (u64)p[2] << 24 |
	       (u64)p[3] << 16 | (u64)p[4] << 8 | p[5];
}

static void put_be48(u8 *p, u64 v)
{
	p[0] = v >> 40;
	p[1] = v >> 32;
	p[2] = v >> 24;
	p[3] = v >> 16;
	p[4] = v >> 8;
	p[5] = v;
}

/**
 * kdtls_hdr_parse() - parse the record header at the start of @buf
 * @buf: datagram bytes
 * @len: bytes available
 * @hdr: filled on success
 *
 * Checks that the header is complete, the version is DTLS 1.2 (DTLS 1.0 is
 * tolerated on epoch 0, where RFC 6347 §4.2.1 lets a ClientHello use it),
 * the content type is one of the four DTLS 1.2 types, and the record fits
 * in @len and in the protocol's maximum.
 *
 * Return: KDTLS_PARSE_OK or the reason the header is unusable.
 */
int kdtls_hdr_parse(const u8 *buf, size_t len, struct kdtls_hdr *hdr)
{
	if (len < KDTLS_HDR_LEN)
		return KDTLS_PARSE_TRUNCATED;

	hdr->type = buf[0];
	hdr->version = get_be16(buf + 1);
	hdr->epoch = get_be16(buf + 3);
	hdr->seq = get_be48(buf + 5);
	hdr->length = get_be16(buf + 11);

	if (hdr->version != KDTLS_VERSION_1_2 &&
	    !(hdr->version == 0xfeff && hdr->epoch == 0))
		return KDTLS_PARSE_VERSION;
	if (hdr->type < KDTLS_CT_CHANGE_CIPHER_SPEC ||
	    hdr->type > KDTLS_CT_APPLICATION_DATA)
		return KDTLS_PARSE_TYPE;
	if (hdr->length > KDTLS_MAX_RECORD_LEN)
		return KDTLS_PARSE_TOO_BIG;
	if (hdr->length > len - KDTLS_HDR_LEN)
		return KDTLS_PARSE_TRUNCATED;
	return KDTLS_PARSE_OK;
}

/**
 * kdtls_hdr_build() - write a record header
 * @buf: at least KDTLS_HDR_LEN bytes
 * @hdr: header fields; @hdr->seq must fit in 48 bits
 */
void kdtls_hdr_build(u8 *buf, const struct kdtls_hdr *hdr)
{
	buf[0] = hdr->type;
	put_be16(buf + 1, hdr->version);
	put_be16(buf + 3, hdr->epoch);
	put_be48(buf + 5, hdr->seq);
	put_be16(buf + 11, hdr->length);
}

/**
 * kdtls_aad_build() - additional data of an AEAD record (RFC 6347 §4.1.2.1)
 * @aad: KDTLS_AAD_LEN bytes
 * @hdr: the record's header (type, version, epoch, seq)
 * @plain_len: plaintext length (not the record length)
 */
void kdtls_aad_build(u8 *aad, const struct kdtls_hdr *hdr, u16 plain_len)
{
	put_be16(aad, hdr->epoch);
	put_be48(aad + 2, hdr->seq);
	aad[8] = hdr->type;
	put_be16(aad + 9, hdr->version);
	put_be16(aad + 11, plain_len);
}

/**
 * kdtls_nonce_build() - 12-byte AEAD nonce of a record
 * @nonce: KDTLS_NONCE_LEN bytes
 * @ci: cipher
 * @salt: the implicit part (4 bytes for GCM/CCM, 12 for ChaCha20)
 * @epoch: record epoch
 * @seq: record sequence number
 *
 * GCM and CCM (RFC 5288 §3, RFC 6655 §3): salt(4) || explicit(8), with the
 * explicit part set to epoch || seq, which is unique per key (RFC 6347
 * §4.1.2.1 suggests exactly this).  ChaCha20-Poly1305 (RFC 7905 §2): the
 * 12-byte IV XORed with 0^32 || epoch || seq.
 */
void kdtls_nonce_build(u8 *nonce, const struct kdtls_cipher_info *ci,
		       const u8 *salt, u16 epoch, u64 seq)
{
	u8 es[8];
	int i;

	put_be16(es, epoch);
	put_be48(es + 2, seq);

	if (ci->explicit_len) {
		memcpy(nonce, salt, 4);
		memcpy(nonce + 4, es, 8);
		return;
	}
	memcpy(nonce, salt, KDTLS_NONCE_LEN);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= es[i];
}

/**
 * kdtls_ccm_iv_build() - the kernel ccm() template's 16-byte IV
 * @iv: 16 bytes
 * @nonce: the 12-byte CCM nonce
 *
 * ccm() takes iv[0] = L - 1 (L = 15 - 12 = 3 length bytes), the nonce, then
 * the counter, which starts at zero.
 */
void kdtls_ccm_iv_build(u8 *iv, const u8 *nonce)
{
	iv[0] = 2;
	memcpy(iv + 1, nonce, KDTLS_NONCE_LEN);
	iv[13] = 0;
	iv[14] = 0;
	iv[15] = 0;
}

static enum kdtls_drop kdtls_parse_to_drop(int err)
{
	switch (err) {
	case KDTLS_PARSE_VERSION:
		return KDTLS_DROP_VERSION;
	case KDTLS_PARSE_TYPE:
		return KDTLS_DROP_TYPE;
	case KDTLS_PARSE_TOO_BIG:
		return KDTLS_DROP_TOO_BIG;
	default:
		return KDTLS_DROP_MALFORMED;
	}
}

/**
 * kdtls_classify() - decide where a received datagram goes
 * @buf: the UDP payload
 * @len: its length
 * @has_assoc: the sender has an association on this socket
 * @rx_epochs: the epochs the association can open, newest first
 * @n_epochs: entries in @rx_epochs (0 to 2)
 * @hdr: the first record's header, filled when the header parsed
 * @reason: set when the result is KDTLS_CLASS_DROP
 *
 * Every record of the datagram must parse; the first decides the class.
 * See enum kdtls_class.  A datagram of several records under a known epoch
 * is dropped as malformed: kdtls opens one record per datagram, which is
 * what OpenSSL and GnuTLS send for application data.
 *
 * Return: the class.
 */
enum kdtls_class kdtls_classify(const u8 *buf, size_t len, bool has_assoc,
				const u16 *rx_epochs, unsigned int n_epochs,
				struct kdtls_hdr *hdr, enum kdtls_drop *reason)
{
	struct kdtls_hdr next;
	size_t off, rec_len;
	unsigned int i;
	int err;

	*reason = KDTLS_DROP_NONE;
	err = kdtls_hdr_parse(buf, len, hdr);
	if (err) {
		*reason = kdtls_parse_to_drop(err);
		return KDTLS_CLASS_DROP;
	}
	rec_len = KDTLS_HDR_LEN + hdr->length;

	/* every further record must be well formed too */
	for (off = rec_len; off < len; off += KDTLS_HDR_LEN + next.length) {
		err = kdtls_hdr_parse(buf + off, len - off, &next);
		if (err) {
			*reason = kdtls_parse_to_drop(err);
			return KDTLS_CLASS_DROP;
		}
	}

	if (hdr->epoch == 0)
		return KDTLS_CLASS_AGENT;
	if (!has_assoc) {
		/*
		 * Epoch 1 before the association exists: the peer's Finished
		 * (or data racing it), which the agent's TLS stack must see
		 * to complete the handshake.
		 */
		if (hdr->epoch == 1)
			return KDTLS_CLASS_AGENT;
		*reason = KDTLS_DROP_EPOCH;
		return KDTLS_CLASS_DROP;
	}

	for (i = 0; i < n_epochs; i++) {
		if (rx_epochs[i] != hdr->epoch)
			continue;
		if (rec_len != len) {
			*reason = KDTLS_DROP_MALFORMED;
			return KDTLS_CLASS_DROP;
		}
		return hdr->type == KDTLS_CT_APPLICATION_DATA ?
		       KDTLS_CLASS_DATA : KDTLS_CLASS_SEALED;
	}

	/* the epoch after the newest key: a Finished racing the key install */
	if (n_epochs && hdr->epoch == (u16)(rx_epochs[0] + 1) &&
	    rx_epochs[0] != 0xffff)
		return KDTLS_CLASS_AGENT;

	*reason = KDTLS_DROP_EPOCH;
	return KDTLS_CLASS_DROP;
}
