// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of kmod/record.c, compiled from the same file as the
 * module: header parse/build, every parse error, AAD and nonce construction
 * for the five ciphers, and datagram classification.
 */
#include "../harness.h"

#include "record.h"
#include <linux/kdtls.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void put_hdr(u8 *p, u8 type, u16 ver, u16 epoch, u64 seq, u16 len)
{
	struct kdtls_hdr h = {
		.type = type, .version = ver, .epoch = epoch, .seq = seq,
		.length = len,
	};

	kdtls_hdr_build(p, &h);
}

/* ---- cipher table ---- */

TEST(cipher_info_sizes)
{
	static const struct {
		unsigned int cipher;
		u8 key, salt, expl, tag;
		bool ccm;
	} want[] = {
		{ KDTLS_CIPHER_AES_128_GCM, 16, 4, 8, 16, false },
		{ KDTLS_CIPHER_AES_256_GCM, 32, 4, 8, 16, false },
		{ KDTLS_CIPHER_CHACHA20_POLY1305, 32, 12, 0, 16, false },
		{ KDTLS_CIPHER_AES_128_CCM, 16, 4, 8, 16, true },
		{ KDTLS_CIPHER_AES_128_CCM_8, 16, 4, 8, 8, true },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct kdtls_cipher_info *ci =
			kdtls_cipher_info(want[i].cipher);

		ASSERT_TRUE(ci != NULL);
		EXPECT_EQ(ci->key_len, want[i].key);
		EXPECT_EQ(ci->salt_len, want[i].salt);
		EXPECT_EQ(ci->explicit_len, want[i].expl);
		EXPECT_EQ(ci->tag_len, want[i].tag);
		EXPECT_EQ(ci->ccm, want[i].ccm);
		EXPECT_EQ(kdtls_overhead(ci),
			  (unsigned int)want[i].expl + want[i].tag);
		ASSERT_TRUE(ci->alg != NULL);
	}
	EXPECT_TRUE(kdtls_cipher_info(KDTLS_CIPHER_UNSPEC) == NULL);
	EXPECT_TRUE(kdtls_cipher_info(__KDTLS_CIPHER_MAX) == NULL);
	EXPECT_TRUE(kdtls_cipher_info(0xffff) == NULL);
	EXPECT_TRUE(kdtls_cipher_info(~0u) == NULL);
}

/* ---- header build and parse ---- */

TEST(hdr_build_bytes)
{
	static const u8 want[13] = {
		0x17, 0xfe, 0xfd, 0x12, 0x34, 0xab, 0xcd, 0xef, 0x01,
		0x23, 0x45, 0x40, 0x01,
	};
	u8 buf[16];

	memset(buf, 0x5a, sizeof(buf));
	put_hdr(buf, 23, 0xfefd, 0x1234, 0xabcdef012345ULL, 0x4001);
	ASSERT_MEMEQ(buf, want, 13);
	/* nothing written past the header */
	ASSERT_EQ(buf[13], 0x5a);
}

TEST(hdr_round_trip)
{
	static const struct kdtls_hdr v[] = {
		{ 20, 0xfefd, 1, 0, 0 },
		{ 21, 0xfefd, 2, 1, 2 },
		{ 22, 0xfefd, 0, 0, 0 },
		{ 22, 0xfeff, 0, 7, 100 },
		{ 23, 0xfefd, 0xffff, 0xffffffffffffULL, 18432 },
		{ 23, 0xfefd, 0x8000, 0x800000000000ULL, 1 },
		{ 23, 0xfefd, 0x00ff, 0x0000ff00ff00ULL, 0x100 },
	};
	static u8 buf[13 + 18432];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct kdtls_hdr h;

		memset(&h, 0xcc, sizeof(h));
		kdtls_hdr_build(buf, &v[i]);
		ASSERT_EQ(kdtls_hdr_parse(buf, 13 + v[i].length, &h),
			  KDTLS_PARSE_OK);
		EXPECT_EQ(h.type, v[i].type);
		EXPECT_EQ(h.version, v[i].version);
		EXPECT_EQ(h.epoch, v[i].epoch);
		EXPECT_EQ(h.seq, v[i].seq);
		EXPECT_EQ(h.length, v[i].length);
	}
}

struct parse_vec {
	const char *what;
	u8 type;
	u16 version, epoch;
	u16 length;		/* header field */
	size_t avail;		/* bytes passed to parse */
	int want;
};

static const struct parse_vec parse_vecs[] = {
	{ "empty",			23, 0xfefd, 1, 0, 0, KDTLS_PARSE_TRUNCATED },
	{ "1 byte",			23, 0xfefd, 1, 0, 1, KDTLS_PARSE_TRUNCATED },
	{ "12 bytes",			23, 0xfefd, 1, 0, 12, KDTLS_PARSE_TRUNCATED },
	{ "header only, len 0",		23, 0xfefd, 1, 0, 13, KDTLS_PARSE_OK },
	{ "header only, len 1",		23, 0xfefd, 1, 1, 13, KDTLS_PARSE_TRUNCATED },
	{ "len = avail",		23, 0xfefd, 1, 40, 53, KDTLS_PARSE_OK },
	{ "len = avail + 1",		23, 0xfefd, 1, 41, 53, KDTLS_PARSE_TRUNCATED },
	{ "len < avail (more follows)",	23, 0xfefd, 1, 39, 53, KDTLS_PARSE_OK },
	{ "len 0xffff",			23, 0xfefd, 1, 0xffff, 13, KDTLS_PARSE_TOO_BIG },
	{ "len max",			23, 0xfefd, 1, 18432, 13 + 18432, KDTLS_PARSE_OK },
	{ "len max + 1",		23, 0xfefd, 1, 18433, 13 + 18433, KDTLS_PARSE_TOO_BIG },
	{ "len max + 1, short",		23, 0xfefd, 1, 18433, 20, KDTLS_PARSE_TOO_BIG },
	{ "len max, short",		23, 0xfefd, 1, 18432, 13 + 18431, KDTLS_PARSE_TRUNCATED },
	{ "len 16384",			23, 0xfefd, 1, 16384, 13 + 16384, KDTLS_PARSE_OK },
	{ "DTLS 1.0 epoch 0",		22, 0xfeff, 0, 4, 17, KDTLS_PARSE_OK },
	{ "DTLS 1.0 epoch 1",		23, 0xfeff, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "DTLS 1.0 epoch 0xffff",	23, 0xfeff, 0xffff, 4, 17, KDTLS_PARSE_VERSION },
	{ "TLS 1.2 version",		23, 0x0303, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "TLS 1.2 version epoch 0",	22, 0x0303, 0, 4, 17, KDTLS_PARSE_VERSION },
	{ "version 0xfefc (DTLS 1.3)",	23, 0xfefc, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "version 0xfefe",		23, 0xfefe, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "version 0xfefd byte-swapped",	23, 0xfdfe, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "version 0",			23, 0x0000, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "type 0",			0, 0xfefd, 1, 4, 17, KDTLS_PARSE_TYPE },
	{ "type 19",			19, 0xfefd, 1, 4, 17, KDTLS_PARSE_TYPE },
	{ "type 20",			20, 0xfefd, 1, 4, 17, KDTLS_PARSE_OK },
	{ "type 21",			21, 0xfefd, 1, 4, 17, KDTLS_PARSE_OK },
	{ "type 22",			22, 0xfefd, 1, 4, 17, KDTLS_PARSE_OK },
	{ "type 23",			23, 0xfefd, 1, 4, 17, KDTLS_PARSE_OK },
	{ "type 24 (heartbeat)",	24, 0xfefd, 1, 4, 17, KDTLS_PARSE_TYPE },
	{ "type 25 (tls12_cid)",	25, 0xfefd, 1, 4, 17, KDTLS_PARSE_TYPE },
	{ "type 255",			255, 0xfefd, 1, 4, 17, KDTLS_PARSE_TYPE },
	{ "bad version beats bad type",	24, 0x0303, 1, 4, 17, KDTLS_PARSE_VERSION },
	{ "bad type beats too big",	24, 0xfefd, 1, 0xffff, 17, KDTLS_PARSE_TYPE },
	{ "too big beats truncated",	23, 0xfefd, 1, 20000, 17, KDTLS_PARSE_TOO_BIG },
	{ "bad version, truncated",	23, 0x0303, 1, 100, 17, KDTLS_PARSE_VERSION },
};

TEST(hdr_parse_vectors)
{
	static u8 buf[13 + 18433];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(parse_vecs); i++) {
		const struct parse_vec *v = &parse_vecs[i];
		struct kdtls_hdr h;
		u8 *copy;
		int r;

		memset(buf, 0, sizeof(buf));
		put_hdr(buf, v->type, v->version, v->epoch, 5, v->length);
		/* an exact-size heap copy lets ASan catch any overread */
		copy = malloc(v->avail ? v->avail : 1);
		ASSERT_TRUE(copy != NULL);
		memcpy(copy, buf, v->avail);
		r = kdtls_hdr_parse(copy, v->avail, &h);
		free(copy);
		if (r != v->want)
			TH_LOG("vector %zu (%s): got %d want %d", i, v->what,
			       r, v->want);
		EXPECT_EQ(r, v->want);
	}
}

/* ---- AAD and nonces ---- */

TEST(aad_bytes)
{
	static const u8 want[13] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x17, 0xfe, 0xfd, 0x0a, 0x0b,
	};
	struct kdtls_hdr h = {
		.type = 23, .version = 0xfefd, .epoch = 0x0102,
		.seq = 0x030405060708ULL, .length = 0x9999,
	};
	u8 aad[KDTLS_AAD_LEN + 1];

	aad[13] = 0x77;
	/* the AAD carries the plaintext length, not the record length */
	kdtls_aad_build(aad, &h, 0x0a0b);
	ASSERT_MEMEQ(aad, want, 13);
	ASSERT_EQ(aad[13], 0x77);

	h.type = 21;
	h.epoch = 0xffff;
	h.seq = 0xffffffffffffULL;
	kdtls_aad_build(aad, &h, 0);
	{
		static const u8 w2[13] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0x15, 0xfe, 0xfd, 0x00, 0x00,
		};
		ASSERT_MEMEQ(aad, w2, 13);
	}
}

TEST(nonce_gcm_ccm_salt_epoch_seq)
{
	static const unsigned int ciphers[] = {
		KDTLS_CIPHER_AES_128_GCM, KDTLS_CIPHER_AES_256_GCM,
		KDTLS_CIPHER_AES_128_CCM, KDTLS_CIPHER_AES_128_CCM_8,
	};
	static const u8 salt[12] = {
		0xde, 0xad, 0xbe, 0xef, 0x11, 0x11, 0x11, 0x11,
		0x11, 0x11, 0x11, 0x11,
	};
	static const u8 want[12] = {
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ciphers); i++) {
		u8 nonce[13];

		nonce[12] = 0x42;
		kdtls_nonce_build(nonce, kdtls_cipher_info(ciphers[i]), salt,
				  3, 0x01020304);
		ASSERT_MEMEQ(nonce, want, 12);
		ASSERT_EQ(nonce[12], 0x42);
	}
}

TEST(nonce_chacha20_xor_rfc7905)
{
	const struct kdtls_cipher_info *ci =
		kdtls_cipher_info(KDTLS_CIPHER_CHACHA20_POLY1305);
	static const u8 iv[12] = {
		0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43,
		0x44, 0x45, 0x46, 0x47,
	};
	/* iv XOR (0^32 || epoch(16) || seq(48)) */
	static const u8 want1[12] = {
		0x07, 0x00, 0x00, 0x00, 0x40 ^ 0x00, 0x41 ^ 0x01,
		0x42 ^ 0x00, 0x43 ^ 0x00, 0x44 ^ 0x00, 0x45 ^ 0x00,
		0x46 ^ 0x00, 0x47 ^ 0x2a,
	};
	static const u8 want2[12] = {
		0x07, 0x00, 0x00, 0x00, 0x40 ^ 0xab, 0x41 ^ 0xcd,
		0x42 ^ 0x12, 0x43 ^ 0x34, 0x44 ^ 0x56, 0x45 ^ 0x78,
		0x46 ^ 0x9a, 0x47 ^ 0xbc,
	};
	u8 nonce[12];

	kdtls_nonce_build(nonce, ci, iv, 1, 42);
	ASSERT_MEMEQ(nonce, want1, 12);
	kdtls_nonce_build(nonce, ci, iv, 0xabcd, 0x123456789abcULL);
	ASSERT_MEMEQ(nonce, want2, 12);
	/* epoch 0, seq 0: the IV itself */
	kdtls_nonce_build(nonce, ci, iv, 0, 0);
	ASSERT_MEMEQ(nonce, iv, 12);
}

TEST(nonce_unique_per_epoch_seq)
{
	unsigned int c;

	for (c = 1; c < __KDTLS_CIPHER_MAX; c++) {
		const struct kdtls_cipher_info *ci = kdtls_cipher_info(c);
		static const u8 salt[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
		u8 a[12], b[12];

		kdtls_nonce_build(a, ci, salt, 1, 0x10000);
		kdtls_nonce_build(b, ci, salt, 2, 0x10000);
		EXPECT_MEMNE(a, b, 12);
		kdtls_nonce_build(b, ci, salt, 1, 0x10001);
		EXPECT_MEMNE(a, b, 12);
		kdtls_nonce_build(b, ci, salt, 1, 0x10000 | (1ULL << 47));
		EXPECT_MEMNE(a, b, 12);
	}
}

TEST(ccm_iv_format)
{
	static const u8 nonce[12] = {
		0xa0, 0xa1, 0xa2, 0xa3, 0, 1, 0, 0, 0, 0, 0, 9,
	};
	u8 iv[17];

	memset(iv, 0xee, sizeof(iv));
	kdtls_ccm_iv_build(iv, nonce);
	ASSERT_EQ(iv[0], 2);		/* L' = L - 1, L = 15 - 12 */
	ASSERT_MEMEQ(iv + 1, nonce, 12);
	ASSERT_EQ(iv[13], 0);
	ASSERT_EQ(iv[14], 0);
	ASSERT_EQ(iv[15], 0);
	ASSERT_EQ(iv[16], 0xee);
}

/* ---- classify ---- */

struct cls_rec {
	u8 type;
	u16 version, epoch, length;	/* length = body bytes present */
	int short_by;			/* datagram ends this much early */
};

struct cls_vec {
	const char *what;
	bool has_assoc;
	u16 epochs[2];
	unsigned int n_epochs;
	struct cls_rec rec[3];
	int n_rec;
	size_t trailing;		/* garbage bytes after the records */
	enum kdtls_class want;
	enum kdtls_drop reason;
};

#define R(t, v, e, l)	{ t, v, e, l, 0 }
#define APP(e)		R(23, 0xfefd, e, 40)

static const struct cls_vec cls_vecs[] = {
	{ "app data, known epoch", true, { 1 }, 1, { APP(1) }, 1, 0,
	  KDTLS_CLASS_DATA, KDTLS_DROP_NONE },
	{ "handshake, known epoch", true, { 1 }, 1,
	  { R(22, 0xfefd, 1, 40) }, 1, 0, KDTLS_CLASS_SEALED, KDTLS_DROP_NONE },
	{ "alert, known epoch", true, { 1 }, 1,
	  { R(21, 0xfefd, 1, 26) }, 1, 0, KDTLS_CLASS_SEALED, KDTLS_DROP_NONE },
	{ "ccs, known epoch", true, { 1 }, 1,
	  { R(20, 0xfefd, 1, 25) }, 1, 0, KDTLS_CLASS_SEALED, KDTLS_DROP_NONE },
	{ "epoch 0 handshake", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 60) }, 1, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch 0 app data", true, { 1 }, 1, { APP(0) }, 1, 0,
	  KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch 0 DTLS 1.0 ClientHello", true, { 1 }, 1,
	  { R(22, 0xfeff, 0, 60) }, 1, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch 0 from a non-peer", false, { 0 }, 0,
	  { R(22, 0xfefd, 0, 60) }, 1, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch 0 flight of 3 records", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 20), R(22, 0xfefd, 0, 30), R(22, 0xfefd, 0, 1) },
	  3, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch 0 + epoch 1 Finished", false, { 0 }, 0,
	  { R(20, 0xfefd, 0, 1), R(22, 0xfefd, 1, 40) }, 2, 0,
	  KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "next epoch (newest + 1)", true, { 1 }, 1, { APP(2) }, 1, 0,
	  KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "next epoch, two records", true, { 1 }, 1, { APP(2), APP(2) }, 2, 0,
	  KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "epoch + 2", true, { 1 }, 1, { APP(3) }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "far epoch", true, { 1 }, 1, { APP(0x8001) }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "old epoch after grace", true, { 2 }, 1, { APP(1) }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "old epoch in grace", true, { 2, 1 }, 2, { APP(1) }, 1, 0,
	  KDTLS_CLASS_DATA, KDTLS_DROP_NONE },
	{ "new epoch in grace", true, { 2, 1 }, 2, { APP(2) }, 1, 0,
	  KDTLS_CLASS_DATA, KDTLS_DROP_NONE },
	{ "next epoch with grace", true, { 2, 1 }, 2, { APP(3) }, 1, 0,
	  KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "two behind with grace", true, { 3, 2 }, 2, { APP(1) }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "epoch 0xffff known", true, { 0xffff }, 1, { APP(0xffff) }, 1, 0,
	  KDTLS_CLASS_DATA, KDTLS_DROP_NONE },
	{ "epoch 0xfffe: next is 0xffff", true, { 0xfffe }, 1,
	  { APP(0xffff) }, 1, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "assoc without rx epochs", true, { 0 }, 0, { APP(1) }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "no assoc, epoch 1: a Finished before the keys", false, { 0 }, 0,
	  { APP(1) }, 1, 0, KDTLS_CLASS_AGENT, KDTLS_DROP_NONE },
	{ "no assoc, epoch 2 handshake", false, { 0 }, 0,
	  { R(22, 0xfefd, 2, 40) }, 1, 0, KDTLS_CLASS_DROP, KDTLS_DROP_EPOCH },
	{ "two app records, known epoch", true, { 1 }, 1, { APP(1), APP(1) },
	  2, 0, KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "app + alert, known epoch", true, { 1 }, 1,
	  { APP(1), R(21, 0xfefd, 1, 26) }, 2, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "known epoch + trailing garbage", true, { 1 }, 1, { APP(1) }, 1, 5,
	  KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "known epoch + 1 trailing byte", true, { 1 }, 1, { APP(1) }, 1, 1,
	  KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "epoch 0 + trailing garbage", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 20) }, 1, 12, KDTLS_CLASS_DROP,
	  KDTLS_DROP_MALFORMED },
	{ "epoch 0 + 2nd record truncated", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 20), { 22, 0xfefd, 0, 20, 1 } }, 2, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "epoch 0 + 2nd record bad version", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 20), R(22, 0x0303, 0, 20) }, 2, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_VERSION },
	{ "epoch 0 + 2nd record bad type", true, { 1 }, 1,
	  { R(22, 0xfefd, 0, 20), R(99, 0xfefd, 0, 20) }, 2, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_TYPE },
	{ "record longer than datagram", true, { 1 }, 1,
	  { { 23, 0xfefd, 1, 40, 1 } }, 1, 0,
	  KDTLS_CLASS_DROP, KDTLS_DROP_MALFORMED },
	{ "DTLS 1.0 on epoch 1", true, { 1 }, 1, { R(23, 0xfeff, 1, 40) }, 1,
	  0, KDTLS_CLASS_DROP, KDTLS_DROP_VERSION },
	{ "type 24 known epoch", true, { 1 }, 1, { R(24, 0xfefd, 1, 40) }, 1,
	  0, KDTLS_CLASS_DROP, KDTLS_DROP_TYPE },
	{ "type 255 no assoc", false, { 0 }, 0, { R(255, 0xfefd, 1, 40) }, 1,
	  0, KDTLS_CLASS_DROP, KDTLS_DROP_TYPE },
	{ "too big", true, { 1 }, 1, { { 23, 0xfefd, 1, 18433, 18433 - 40 } },
	  1, 0, KDTLS_CLASS_DROP, KDTLS_DROP_TOO_BIG },
	{ "max record length", true, { 1 }, 1, { R(23, 0xfefd, 1, 18432) }, 1, 0,
	  KDTLS_CLASS_DATA, KDTLS_DROP_NONE },
};

/* build the datagram of a vector; returns its length */
static size_t cls_build(const struct cls_vec *v, u8 *buf)
{
	size_t off = 0;
	int i;

	for (i = 0; i < v->n_rec; i++) {
		const struct cls_rec *r = &v->rec[i];

		put_hdr(buf + off, r->type, r->version, r->epoch,
			100 + i, r->length);
		memset(buf + off + 13, 0xa5, r->length);
		off += 13 + r->length - r->short_by;
	}
	memset(buf + off, 0x17, v->trailing);
	return off + v->trailing;
}

TEST(classify_vectors)
{
	static u8 buf[3 * (13 + 18433) + 64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cls_vecs); i++) {
		const struct cls_vec *v = &cls_vecs[i];
		enum kdtls_drop reason = 12345;
		struct kdtls_hdr h;
		enum kdtls_class c;
		size_t len = cls_build(v, buf);
		u8 *copy = malloc(len);

		ASSERT_TRUE(copy != NULL);
		memcpy(copy, buf, len);
		memset(&h, 0, sizeof(h));
		c = kdtls_classify(copy, len, v->has_assoc, v->epochs,
				   v->n_epochs, &h, &reason);
		free(copy);
		if (c != v->want || reason != v->reason)
			TH_LOG("vector %zu (%s): class %d reason %d, want %d %d",
			       i, v->what, c, reason, v->want, v->reason);
		EXPECT_EQ(c, v->want);
		EXPECT_EQ(reason, v->reason);
		if (c != KDTLS_CLASS_DROP ||
		    v->reason == KDTLS_DROP_EPOCH) {
			/* hdr is the first record's */
			EXPECT_EQ(h.type, v->rec[0].type);
			EXPECT_EQ(h.epoch, v->rec[0].epoch);
			EXPECT_EQ(h.seq, 100);
			EXPECT_EQ(h.length, v->rec[0].length);
		}
	}
}

TEST(classify_max_record)
{
	static u8 buf[13 + 18432];
	const u16 ep[1] = { 1 };
	enum kdtls_drop reason;
	struct kdtls_hdr h;

	put_hdr(buf, 23, 0xfefd, 1, 0, 18432);
	ASSERT_EQ(kdtls_classify(buf, sizeof(buf), true, ep, 1, &h, &reason),
		  KDTLS_CLASS_DATA);
	ASSERT_EQ(reason, KDTLS_DROP_NONE);
	ASSERT_EQ(kdtls_classify(buf, 12, true, ep, 1, &h, &reason),
		  KDTLS_CLASS_DROP);
	ASSERT_EQ(reason, KDTLS_DROP_MALFORMED);
	ASSERT_EQ(kdtls_classify(buf, 0, true, ep, 1, &h, &reason),
		  KDTLS_CLASS_DROP);
	ASSERT_EQ(reason, KDTLS_DROP_MALFORMED);
}

/* Every prefix of a valid datagram is dropped as malformed (never read past). */
TEST(classify_every_prefix)
{
	u8 full[13 + 40 + 13 + 20];
	const u16 ep[2] = { 1, 0 };
	size_t len;

	put_hdr(full, 22, 0xfefd, 0, 1, 40);
	memset(full + 13, 1, 40);
	put_hdr(full + 53, 22, 0xfefd, 0, 2, 20);
	memset(full + 66, 2, 20);
	for (len = 0; len <= sizeof(full); len++) {
		enum kdtls_drop reason;
		struct kdtls_hdr h;
		enum kdtls_class c;
		u8 *copy = malloc(len ? len : 1);

		ASSERT_TRUE(copy != NULL);
		memcpy(copy, full, len);
		c = kdtls_classify(copy, len, true, ep, 1, &h, &reason);
		free(copy);
		if (len == 53 || len == sizeof(full)) {
			EXPECT_EQ(c, KDTLS_CLASS_AGENT);
		} else {
			EXPECT_EQ(c, KDTLS_CLASS_DROP);
			EXPECT_EQ(reason, KDTLS_DROP_MALFORMED);
		}
	}
}

TEST_HARNESS_MAIN
