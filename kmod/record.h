/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DTLS 1.2 record header codec, nonce and AAD construction, and datagram
 * classification.  Pure functions: no allocation, no locking, no kernel
 * state; built into kdtls.ko and into the host unit tests.
 */
#ifndef _KDTLS_RECORD_H
#define _KDTLS_RECORD_H

#include "pure.h"

/*
 * RFC 6347 §4.1:
 *
 *   0      1      2      3      4      5      6      7      8      ...  12
 *  +------+------+------+------+------+------+------+------+------+----+----+
 *  | type | version     | epoch       | sequence_number (48 bits)  | length  |
 *  +------+------+------+------+------+------+------+------+------+----+----+
 *
 * An AEAD record (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1) then carries:
 *
 *   [explicit nonce, 8 bytes: GCM and CCM only] [ciphertext] [tag, 16 or 8]
 *
 * and authenticates the 13-byte additional data
 *
 *   epoch(2) || sequence_number(6) || type(1) || version(2) || plaintext length(2)
 */
#define KDTLS_HDR_LEN		13
#define KDTLS_AAD_LEN		13
#define KDTLS_NONCE_LEN		12
#define KDTLS_EXPLICIT_LEN	8
#define KDTLS_MAX_TAG		16
#define KDTLS_SEQ_MAX		((1ULL << 48) - 1)
#define KDTLS_MAX_PLAINTEXT_LEN	16384
/* RFC 6347 §4.1.2.1 / RFC 5246 §6.2.3: at most 2^14 + 2048 after protection */
#define KDTLS_MAX_RECORD_LEN	(KDTLS_MAX_PLAINTEXT_LEN + 2048)

struct kdtls_hdr {
	u8 type;
	u16 version;
	u16 epoch;
	u64 seq;	/* 48 bits */
	u16 length;	/* bytes after the header */
};

/* Per-cipher constants; index with enum kdtls_cipher. */
struct kdtls_cipher_info {
	const char *alg;	/* crypto API name */
	u8 key_len;
	u8 salt_len;		/* implicit nonce part */
	u8 explicit_len;	/* explicit nonce in the record */
	u8 tag_len;
	bool ccm;		/* kernel ccm() wants the CCM IV format */
};

const struct kdtls_cipher_info *kdtls_cipher_info(unsigned int cipher);

/* Result of parsing or classifying; also used as a drop reason. */
enum kdtls_parse {
	KDTLS_PARSE_OK = 0,
	KDTLS_PARSE_TRUNCATED,	/* shorter than a header, or length overruns */
	KDTLS_PARSE_VERSION,	/* not DTLS 1.2 (or 1.0 on epoch 0) */
	KDTLS_PARSE_TYPE,	/* content type unknown */
	KDTLS_PARSE_TOO_BIG,	/* length above 2^14 + 2048 */
};

int kdtls_hdr_parse(const u8 *buf, size_t len, struct kdtls_hdr *hdr);
void kdtls_hdr_build(u8 *buf, const struct kdtls_hdr *hdr);
void kdtls_aad_build(u8 *aad, const struct kdtls_hdr *hdr, u16 plain_len);
void kdtls_nonce_build(u8 *nonce, const struct kdtls_cipher_info *ci,
		       const u8 *salt, u16 epoch, u64 seq);
void kdtls_ccm_iv_build(u8 *iv, const u8 *nonce);

/* Record overhead after the header: explicit nonce + tag. */
static inline unsigned int kdtls_overhead(const struct kdtls_cipher_info *ci)
{
	return ci->explicit_len + ci->tag_len;
}

/*
 * Where a received datagram goes.  DATA: one application_data record that
 * fills the datagram exactly, under an epoch the association holds keys for;
 * it is opened in recvmsg.  SEALED: one record of another type under such an
 * epoch (an encrypted alert or handshake); also opened in recvmsg, then
 * handed to the agent.  AGENT: anything the handshake agent must see —
 * epoch 0 from anyone, epoch 1 from a peer without an association (its
 * Finished, before the keys reach the kernel), and the epoch after the
 * newest key of an association (a Finished racing a rekey).  DROP: counted
 * under @reason.
 */
enum kdtls_class {
	KDTLS_CLASS_DATA,
	KDTLS_CLASS_SEALED,
	KDTLS_CLASS_AGENT,
	KDTLS_CLASS_DROP,
};

enum kdtls_drop {
	KDTLS_DROP_NONE,
	KDTLS_DROP_MALFORMED,
	KDTLS_DROP_VERSION,
	KDTLS_DROP_TYPE,
	KDTLS_DROP_EPOCH,
	KDTLS_DROP_TOO_BIG,
};

/*
 * @rx_epochs: epochs the association can open now (0 = none), at most two.
 * @has_assoc: false when the sender has no association.
 */
enum kdtls_class kdtls_classify(const u8 *buf, size_t len, bool has_assoc,
				const u16 *rx_epochs, unsigned int n_epochs,
				struct kdtls_hdr *hdr, enum kdtls_drop *reason);

#endif /* _KDTLS_RECORD_H */
