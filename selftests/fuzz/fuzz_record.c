// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the record header codec of kmod/record.c (the module's
 * own file, unchanged), against a model written here from RFC 6347 §4.1,
 * RFC 5288, RFC 6655 and RFC 7905.
 *
 * Input: any bytes, taken as a received datagram.  Asserted, besides "no
 * crash, no read past @len" (ASan: libFuzzer's buffer is exactly @len):
 *   - kdtls_hdr_parse() returns what the model says, field by field;
 *   - a header that parses re-encodes (kdtls_hdr_build) to the same 13 bytes;
 *   - any header built from the input's fields parses back to those fields
 *     when the model says it is valid;
 *   - AAD, nonce (every cipher) and CCM IV equal the model's;
 *   - kdtls_cipher_info() knows exactly the five ciphers, with their sizes.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "record.h"
#include <linux/kdtls.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

static unsigned int be16(const uint8_t *p) { return p[0] << 8 | p[1]; }

static uint64_t be48(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

/* the model of kdtls_hdr_parse(), from the RFC and Documentation/kdtls.rst */
static int model_parse(const uint8_t *b, size_t len)
{
	unsigned int ver, epoch, rlen;

	if (len < 13)
		return KDTLS_PARSE_TRUNCATED;
	ver = be16(b + 1);
	epoch = be16(b + 3);
	rlen = be16(b + 11);
	if (!(ver == 0xfefd || (ver == 0xfeff && epoch == 0)))
		return KDTLS_PARSE_VERSION;
	if (b[0] < 20 || b[0] > 23)
		return KDTLS_PARSE_TYPE;
	if (rlen > 16384 + 2048)
		return KDTLS_PARSE_TOO_BIG;
	if (rlen > len - 13)
		return KDTLS_PARSE_TRUNCATED;
	return KDTLS_PARSE_OK;
}

static const struct { int key, salt, expl, tag; bool ccm; } model_ci[] = {
	[KDTLS_CIPHER_AES_128_GCM] = { 16, 4, 8, 16, false },
	[KDTLS_CIPHER_AES_256_GCM] = { 32, 4, 8, 16, false },
	[KDTLS_CIPHER_CHACHA20_POLY1305] = { 32, 12, 0, 16, false },
	[KDTLS_CIPHER_AES_128_CCM] = { 16, 4, 8, 16, true },
	[KDTLS_CIPHER_AES_128_CCM_8] = { 16, 4, 8, 8, true },
};

static void check_ciphers(void)
{
	unsigned int c;

	for (c = 0; c < 300; c++) {
		const struct kdtls_cipher_info *ci = kdtls_cipher_info(c);

		if (c == 0 || c >= __KDTLS_CIPHER_MAX) {
			CHECK(ci == NULL);
			continue;
		}
		CHECK(ci != NULL);
		CHECK(ci->key_len == model_ci[c].key);
		CHECK(ci->salt_len == model_ci[c].salt);
		CHECK(ci->explicit_len == model_ci[c].expl);
		CHECK(ci->tag_len == model_ci[c].tag);
		CHECK(ci->ccm == model_ci[c].ccm);
		CHECK(kdtls_overhead(ci) == (unsigned int)(model_ci[c].expl +
							   model_ci[c].tag));
	}
	/* a cipher value far out of range */
	CHECK(kdtls_cipher_info(0xffffffffu) == NULL);
}

/* the AAD, nonces and CCM IV of the header fields in @f (13+ bytes) */
static void check_crypto_inputs(const struct kdtls_hdr *h, const uint8_t *f,
				size_t flen)
{
	uint8_t aad[KDTLS_AAD_LEN], want[16], nonce[KDTLS_NONCE_LEN], iv[16];
	uint8_t salt[12] = { 0 };
	unsigned int plain = flen >= 15 ? be16(f + 13) : h->length;
	unsigned int c, i;

	kdtls_aad_build(aad, h, (u16)plain);
	/* epoch(2) || seq(6) || type(1) || version(2) || plaintext length(2) */
	want[0] = h->epoch >> 8;
	want[1] = h->epoch;
	for (i = 0; i < 6; i++)
		want[2 + i] = h->seq >> (40 - 8 * i);
	want[8] = h->type;
	want[9] = h->version >> 8;
	want[10] = h->version;
	want[11] = plain >> 8;
	want[12] = plain;
	CHECK(!memcmp(aad, want, KDTLS_AAD_LEN));

	for (i = 0; i < 12 && 15 + i < flen; i++)
		salt[i] = f[15 + i];
	for (c = 1; c < __KDTLS_CIPHER_MAX; c++) {
		const struct kdtls_cipher_info *ci = kdtls_cipher_info(c);
		uint8_t es[8];

		es[0] = h->epoch >> 8;
		es[1] = h->epoch;
		for (i = 0; i < 6; i++)
			es[2 + i] = h->seq >> (40 - 8 * i);
		memset(nonce, 0xa5, sizeof(nonce));
		kdtls_nonce_build(nonce, ci, salt, h->epoch, h->seq);
		if (model_ci[c].expl) {
			/* RFC 5288 §3 / RFC 6655 §3: salt(4) || epoch || seq */
			CHECK(!memcmp(nonce, salt, 4));
			CHECK(!memcmp(nonce + 4, es, 8));
		} else {
			/* RFC 7905 §2: iv(12) XOR (0^32 || epoch || seq) */
			for (i = 0; i < 12; i++)
				CHECK(nonce[i] ==
				      (uint8_t)(salt[i] ^ (i < 4 ? 0 : es[i - 4])));
		}
		if (ci->ccm) {
			memset(iv, 0x5a, sizeof(iv));
			kdtls_ccm_iv_build(iv, nonce);
			CHECK(iv[0] == 2);	/* L' = L - 1, L = 3 */
			CHECK(!memcmp(iv + 1, nonce, 12));
			CHECK(!iv[13] && !iv[14] && !iv[15]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static bool once;
	struct kdtls_hdr h, h2;
	uint8_t out[KDTLS_HDR_LEN];
	int r, want;

	if (!once) {
		check_ciphers();
		once = true;
	}

	memset(&h, 0xcc, sizeof(h));
	r = kdtls_hdr_parse(data, len, &h);
	want = model_parse(data, len);
	if (r != want)
		fprintf(stderr, "parse = %d, model = %d (len %zu)\n", r, want,
			len);
	CHECK(r == want);
	if (r == KDTLS_PARSE_OK) {
		CHECK(h.type == data[0]);
		CHECK(h.version == be16(data + 1));
		CHECK(h.epoch == be16(data + 3));
		CHECK(h.seq == be48(data + 5));
		CHECK(h.length == be16(data + 11));
		CHECK(KDTLS_HDR_LEN + (size_t)h.length <= len);
		CHECK(h.length <= KDTLS_MAX_RECORD_LEN);
		/* re-encodes identically */
		kdtls_hdr_build(out, &h);
		CHECK(!memcmp(out, data, KDTLS_HDR_LEN));
	}

	/* build from the input's fields, then parse the result back */
	if (len >= KDTLS_HDR_LEN) {
		static uint8_t buf[KDTLS_HDR_LEN + 16384 + 2048];
		size_t blen;

		h.type = data[0];
		h.version = (u16)be16(data + 1);
		h.epoch = (u16)be16(data + 3);
		h.seq = be48(data + 5);
		h.length = (u16)(be16(data + 11) % (16384 + 2048 + 1));
		kdtls_hdr_build(buf, &h);
		CHECK(be48(buf + 5) == h.seq);
		blen = KDTLS_HDR_LEN + h.length;
		r = kdtls_hdr_parse(buf, blen, &h2);
		CHECK(r == model_parse(buf, blen));
		if (r == KDTLS_PARSE_OK) {
			CHECK(h2.type == h.type && h2.version == h.version &&
			      h2.epoch == h.epoch && h2.seq == h.seq &&
			      h2.length == h.length);
		}
		/* one byte short: never OK */
		if (blen > KDTLS_HDR_LEN)
			CHECK(kdtls_hdr_parse(buf, blen - 1, &h2) !=
			      KDTLS_PARSE_OK);
		check_crypto_inputs(&h, data, len);
	}
	return 0;
}
