// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of kdtlsd's key expansion (userspace/kdtlsd/keys.c, compiled
 * from the daemon's file, with ASan/UBSan): the TLS 1.2 PRF against the
 * published SHA-256 and SHA-384 test vectors (the ones circulated on the
 * IETF TLS list, checked here against Python's hmac module when added),
 * then against OpenSSL's own TLS1-PRF KDF over a table of secret and
 * output lengths around the digests' block and output sizes.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "harness.h"
#include "kdtlsd.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && sscanf(h, "%2x", &b) == 1) {
		out[n++] = b;
		h += 2;
	}
	return n;
}

struct kat {
	const char *md, *secret, *seed, *out;
};

static const struct kat kats[] = {
	{ "SHA256", "9bbe436ba940f017b17652849a71db35",
	  "a0ba9f936cda311827a6f796ffd5198c",
	  "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
	  "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
	  "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
	  "87347b66" },
	{ "SHA384", "b80b733d6ceefcdc71566ea48e5567df",
	  "cd665cf6a8447dd6ff8b27555edb7465",
	  "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
	  "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
	  "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
	  "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
	  "91c8f3a26854308d5eaa3be85e0990703d73e56f" },
};

TEST(known_answers)
{
	uint8_t secret[64], seed[64], want[256], got[256];
	size_t i, sl, dl, n;

	for (i = 0; i < ARRAY_SIZE(kats); i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, kats[i].md, NULL);

		ASSERT_TRUE(md != NULL);
		sl = unhex(kats[i].secret, secret);
		dl = unhex(kats[i].seed, seed);
		n = unhex(kats[i].out, want);
		/* the seed split in two, as kd_keys_derive() passes it */
		memset(got, 0xaa, sizeof(got));
		ASSERT_EQ(kd_keys_prf(md, secret, sl, "test label", seed, 5,
				      seed + 5, dl - 5, got, n), 0);
		if (memcmp(got, want, n))
			TH_LOG("%s: PRF output differs", kats[i].md);
		EXPECT_MEMEQ(got, want, n);
		EXPECT_EQ(got[n], 0xaa);	/* nothing past out_len */
		EVP_MD_free(md);
	}
}

/* OpenSSL's TLS1-PRF KDF: the reference for the table below */
static int ossl_prf(const char *md, const uint8_t *secret, size_t sl,
		    const char *label, const uint8_t *s1, size_t l1,
		    const uint8_t *s2, size_t l2, uint8_t *out, size_t n)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[6];
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)md, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
						 (void *)secret, sl);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						 (void *)label, strlen(label));
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						 (void *)s1, l1);
	p[4] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						 (void *)s2, l2);
	p[5] = OSSL_PARAM_construct_end();
	ok = c && EVP_KDF_derive(c, out, n, p) > 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

TEST(against_openssl_kdf)
{
	static const char *const mds[] = { "SHA256", "SHA384" };
	/* around 48 (a master secret) and the block sizes, 64 and 128 */
	static const size_t secret_lens[] = { 1, 16, 48, 63, 64, 65, 127,
					      128, 129, 200 };
	/* the key blocks kdtls uses (40, 72, 88) and the digest sizes */
	static const size_t out_lens[] = { 1, 31, 32, 33, 40, 47, 48, 49,
					   72, 88, 96, 97, 200 };
	uint8_t secret[200], sr[32], cr[32], want[200], got[201];
	size_t m, i, j, k, cases = 0;

	for (k = 0; k < sizeof(secret); k++)
		secret[k] = k * 7 + 3;
	for (k = 0; k < 32; k++) {
		sr[k] = 0x40 + k;
		cr[k] = 0xc0 ^ k;
	}
	for (m = 0; m < ARRAY_SIZE(mds); m++) {
		EVP_MD *md = EVP_MD_fetch(NULL, mds[m], NULL);

		ASSERT_TRUE(md != NULL);
		for (i = 0; i < ARRAY_SIZE(secret_lens); i++) {
			for (j = 0; j < ARRAY_SIZE(out_lens); j++) {
				size_t sl = secret_lens[i], n = out_lens[j];

				ASSERT_EQ(ossl_prf(mds[m], secret, sl,
						   "key expansion", sr, 32, cr,
						   32, want, n), 0);
				memset(got, 0x5a, sizeof(got));
				ASSERT_EQ(kd_keys_prf(md, secret, sl,
						      "key expansion", sr, 32,
						      cr, 32, got, n), 0);
				if (memcmp(got, want, n))
					TH_LOG("%s secret %zu out %zu differs",
					       mds[m], sl, n);
				EXPECT_MEMEQ(got, want, n);
				EXPECT_EQ(got[n], 0x5a);
				cases++;
			}
		}
		EVP_MD_free(md);
	}
	EXPECT_EQ(cases, 2 * ARRAY_SIZE(secret_lens) * ARRAY_SIZE(out_lens));
}

TEST_HARNESS_MAIN
