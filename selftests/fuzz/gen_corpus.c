// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of the host fuzz targets (selftests/fuzz/corpus/),
 * sealed by the independent OpenSSL sealer (lib/kt_evp.c):
 *
 *   gen_corpus DIR     writes DIR/fuzz_record/, DIR/fuzz_classify/,
 *                      DIR/fuzz_replay/
 *
 * Deterministic: the same files every run (`make -C selftests fuzz-corpus`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/kdtls.h>
#include "lib/kt_evp.h"

static const char *dir;

static void put(const char *target, const char *name, const uint8_t *p,
		size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* the datagram as a fuzz_record seed, and as fuzz_classify seeds */
static void datagram(const char *name, const uint8_t *p, size_t len,
		     uint16_t epoch)
{
	static uint8_t buf[70000];
	char cname[300];

	put("fuzz_record", name, p, len);
	/* has an association, RX epochs {epoch, epoch - 1} */
	buf[0] = 1 | 2 << 1;
	buf[1] = epoch >> 8;
	buf[2] = epoch;
	buf[3] = (epoch - 1) >> 8;
	buf[4] = epoch - 1;
	memcpy(buf + 5, p, len);
	snprintf(cname, sizeof(cname), "%s.known", name);
	put("fuzz_classify", cname, buf, len + 5);
	/* no association */
	buf[0] = 0;
	snprintf(cname, sizeof(cname), "%s.noassoc", name);
	put("fuzz_classify", cname, buf, len + 5);
	/* association, one RX epoch: the record's epoch is the next one */
	buf[0] = 1 | 1 << 1;
	buf[1] = (epoch - 1) >> 8;
	buf[2] = epoch - 1;
	snprintf(cname, sizeof(cname), "%s.next", name);
	put("fuzz_classify", cname, buf, len + 5);
}

static const char *const cnames[] = {
	NULL, "aes128gcm", "aes256gcm", "chacha", "aes128ccm", "aes128ccm8",
};

int main(int argc, char **argv)
{
	static uint8_t rec[20000], two[40000], pt[16384];
	uint8_t key[32], salt[12];
	char name[128];
	unsigned int c, i;
	int n, m;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	for (i = 0; i < sizeof(key); i++)
		key[i] = 0x40 + i;
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = 0x90 + i;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);

	/* valid records of every cipher: data, alert, empty, 1 KiB, 16 KiB */
	for (c = 1; c < __KDTLS_CIPHER_MAX; c++) {
		static const struct { uint8_t type; size_t len; const char *n; }
		kinds[] = {
			{ 23, 5, "data" }, { 23, 0, "empty" },
			{ 21, 2, "alert" }, { 22, 40, "finished" },
			{ 23, 1024, "data1k" }, { 23, 16384, "data16k" },
		};
		size_t k;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct kt_rec r = { .type = kinds[k].type, .epoch = 1,
					    .seq = 1000 + k };

			n = kt_evp_seal(c, key, salt, &r, pt, kinds[k].len, rec,
					sizeof(rec));
			if (n < 0)
				return 1;
			if (kinds[k].len > 1024) {
				/* the big ones only as fuzz_record seeds */
				snprintf(name, sizeof(name), "%s-%s", cnames[c],
					 kinds[k].n);
				put("fuzz_record", name, rec, n);
				continue;
			}
			snprintf(name, sizeof(name), "%s-%s", cnames[c],
				 kinds[k].n);
			datagram(name, rec, n, 1);
		}
		/* two records in one datagram */
		struct kt_rec r1 = { .type = 23, .epoch = 1, .seq = 7 };
		struct kt_rec r2 = { .type = 23, .epoch = 1, .seq = 8 };

		n = kt_evp_seal(c, key, salt, &r1, pt, 10, two, sizeof(two));
		m = kt_evp_seal(c, key, salt, &r2, pt, 10, two + n,
				sizeof(two) - n);
		snprintf(name, sizeof(name), "%s-two-records", cnames[c]);
		datagram(name, two, n + m, 1);
		/* truncated by one byte, extended by one byte */
		snprintf(name, sizeof(name), "%s-truncated", cnames[c]);
		datagram(name, two, n - 1, 1);
		snprintf(name, sizeof(name), "%s-extended", cnames[c]);
		datagram(name, two, n + 1, 1);
	}

	/* handshake datagrams (epoch 0): a ClientHello-sized record, a
	 * DTLS 1.0 ClientHello, and a flight of three records */
	kt_hdr_put(rec, 22, 0xfefd, 0, 0, 120);
	memset(rec + 13, 0x01, 120);
	datagram("hs-clienthello", rec, 133, 1);
	kt_hdr_put(rec, 22, 0xfeff, 0, 0, 120);
	datagram("hs-clienthello-dtls10", rec, 133, 1);
	n = 0;
	for (i = 0; i < 3; i++) {
		kt_hdr_put(two + n, i == 1 ? 20 : 22, 0xfefd, 0, i, 30);
		memset(two + n + 13, (int)i, 30);
		n += 43;
	}
	datagram("hs-flight", two, n, 1);
	/* epoch 0 followed by epoch 1 (Finished after ChangeCipherSpec) */
	kt_hdr_put(two, 20, 0xfefd, 0, 3, 1);
	two[13] = 1;
	kt_hdr_put(two + 14, 22, 0xfefd, 1, 0, 40);
	datagram("hs-ccs-finished", two, 14 + 53, 1);

	/* edge cases */
	datagram("empty", rec, 0, 1);
	kt_hdr_put(rec, 23, 0xfefd, 1, 0, 0);
	datagram("header-only", rec, 13, 1);
	datagram("header-minus-one", rec, 12, 1);
	kt_hdr_put(rec, 23, 0xfefd, 0xffff, 0xffffffffffffULL, 16);
	datagram("epoch-ffff-seq-max", rec, 29, 0xffff);
	kt_hdr_put(rec, 23, 0xfefd, 1, 0, 16384 + 2048);
	put("fuzz_record", "length-max", rec, 13 + 16384 + 2048);
	kt_hdr_put(rec, 23, 0xfefd, 1, 0, 16384 + 2048 + 1);
	datagram("length-max-plus-one", rec, 13 + 100, 1);
	kt_hdr_put(rec, 24, 0xfefd, 1, 0, 0);
	datagram("type-24", rec, 13, 1);
	kt_hdr_put(rec, 19, 0xfefd, 1, 0, 0);
	datagram("type-19", rec, 13, 1);
	kt_hdr_put(rec, 23, 0x0303, 1, 0, 0);
	datagram("version-tls12", rec, 13, 1);
	kt_hdr_put(rec, 23, 0xfeff, 1, 0, 0);
	datagram("version-dtls10-epoch1", rec, 13, 1);
	kt_hdr_put(rec, 23, 0xfefc, 1, 0, 0);
	datagram("version-dtls13", rec, 13, 1);

	/* replay: window, floor, then ops */
	{
		static const struct { const char *n; uint16_t w; uint64_t fl;
				      const char *ops; } rs[] = {
			{ "in-order-64", 64, 0, "\x03\x00\x00\x00\x03\x00\x00\x01\x03\x00\x00\x02" },
			{ "replay-64", 64, 5, "\x01\x00\x00\x06\x01\x00\x00\x06\x00\x00\x00\x06" },
			{ "jump-1024", 1024, 0, "\x01\x00\x00\x01\x0d\x00\x10\x00\x05\x00\x03\xff\x07\x00\x00\x02" },
			{ "edge-128", 100, 10, "\x03\x00\x01\x00\x07\x00\x00\x00\x07\x00\x00\x01\x07\x00\x00\x04" },
			{ "seqmax-1", 1, 0, "\x0b\x00\x00\x00\x0b\x00\x00\x01\x0a\x00\x00\x00" },
			{ "floor-0", 0, 3, "\x09\x00\x00\x00\x09\x00\x00\x02\x09\x00\x00\x03" },
		};
		uint8_t b[64];

		for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			size_t ol = 12 + (i == 2 ? 4 : 0);

			b[0] = rs[i].w >> 8;
			b[1] = rs[i].w;
			for (c = 0; c < 6; c++)
				b[2 + c] = rs[i].fl >> (40 - 8 * c);
			memcpy(b + 8, rs[i].ops, ol);
			put("fuzz_replay", rs[i].n, b, 8 + ol);
		}
	}
	return 0;
}
