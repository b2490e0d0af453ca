/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An independent DTLS 1.2 AEAD record sealer/opener on OpenSSL EVP.
 *
 * Written from the RFCs (RFC 6347 §4.1, RFC 5246 §6.2.3.3, RFC 5288,
 * RFC 6655, RFC 7905) without kmod/record.c, so that comparing the two is
 * a real cross-check of the wire format.
 */
#ifndef _KT_EVP_H
#define _KT_EVP_H

#include <stddef.h>
#include <stdint.h>

#define KT_HDR_LEN	13

struct kt_cipher {
	const char *name;
	unsigned int key_len;
	unsigned int salt_len;		/* implicit nonce: 4, or 12 for ChaCha20 */
	unsigned int explicit_len;	/* 8 for GCM/CCM, 0 for ChaCha20 */
	unsigned int tag_len;
};

/* NULL for an unknown cipher (enum kdtls_cipher values). */
const struct kt_cipher *kt_cipher(unsigned int cipher);

struct kt_rec {
	uint8_t type;
	uint16_t version;	/* 0 means 0xfefd */
	uint16_t epoch;
	uint64_t seq;
	/* GCM/CCM: explicit nonce to put in the record; NULL = epoch||seq */
	const uint8_t *explicit_nonce;
};

/*
 * Seal @pt into one record at @out (@cap bytes).
 * Return: record length, or -1.
 */
int kt_evp_seal(unsigned int cipher, const uint8_t *key, const uint8_t *salt,
		const struct kt_rec *r, const void *pt, size_t pt_len,
		uint8_t *out, size_t cap);

/*
 * Open the single record in @rec (@len bytes) into @pt (@cap bytes).  @r,
 * if not NULL, receives the header fields (explicit_nonce is left alone).
 * Return: plaintext length, -1 for a malformed record, -2 for a tag that
 * does not verify.
 */
int kt_evp_open(unsigned int cipher, const uint8_t *key, const uint8_t *salt,
		const uint8_t *rec, size_t len, struct kt_rec *r,
		uint8_t *pt, size_t cap);

/* Write a bare header (13 bytes). */
void kt_hdr_put(uint8_t *p, uint8_t type, uint16_t version, uint16_t epoch,
		uint64_t seq, uint16_t length);

#endif
