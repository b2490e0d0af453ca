// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: kdtls_classify() of kmod/record.c (the module's own
 * file, unchanged) against a model written from Documentation/kdtls.rst
 * ("Classification of one datagram") and record.h.
 *
 * Input: byte 0 = context (bit 0: the sender has an association, bits 1-2:
 * number of RX epochs, 0 to 2), bytes 1-4 = the RX epochs (big endian,
 * newest first), the rest = the datagram, in a buffer of exactly its size
 * (ASan catches any read past it).  Asserted:
 *   - class and drop reason equal the model's;
 *   - the reason is NONE exactly when the datagram is not dropped;
 *   - when the first header parses, @hdr holds exactly its fields, and the
 *     class agrees with it: DATA is application_data under a known epoch
 *     filling the datagram, SEALED another type under a known epoch, AGENT
 *     epoch 0 (from anyone), epoch 1 from a peer without an association, or
 *     the newest RX epoch + 1;
 *   - classify reads the same bytes whatever precedes them in memory (it is
 *     run twice, on two copies).
 */
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

/* 0 ok, else the drop reason of an unusable header at @b */
static enum kdtls_drop model_hdr(const uint8_t *b, size_t len, size_t *rec)
{
	unsigned int ver, epoch, rlen;

	if (len < 13)
		return KDTLS_DROP_MALFORMED;
	ver = be16(b + 1);
	epoch = be16(b + 3);
	rlen = be16(b + 11);
	if (!(ver == 0xfefd || (ver == 0xfeff && epoch == 0)))
		return KDTLS_DROP_VERSION;
	if (b[0] < 20 || b[0] > 23)
		return KDTLS_DROP_TYPE;
	if (rlen > 16384 + 2048)
		return KDTLS_DROP_TOO_BIG;
	if (rlen > len - 13)
		return KDTLS_DROP_MALFORMED;
	*rec = 13 + rlen;
	return KDTLS_DROP_NONE;
}

static enum kdtls_class model(const uint8_t *b, size_t len, bool has_assoc,
			      const uint16_t *ep, unsigned int n,
			      enum kdtls_drop *reason)
{
	size_t off = 0, rec = 0, first = 0;
	unsigned int epoch, i, records = 0;

	*reason = KDTLS_DROP_NONE;
	/* every record of the datagram must be well formed */
	do {
		*reason = model_hdr(b + off, len - off, &rec);
		if (*reason)
			return KDTLS_CLASS_DROP;
		if (!records++)
			first = rec;
		off += rec;
	} while (off < len);

	epoch = be16(b + 3);
	if (epoch == 0)
		return KDTLS_CLASS_AGENT;
	if (!has_assoc) {
		if (epoch == 1)	/* the peer's Finished before the keys */
			return KDTLS_CLASS_AGENT;
		*reason = KDTLS_DROP_EPOCH;
		return KDTLS_CLASS_DROP;
	}
	for (i = 0; i < n; i++) {
		if (ep[i] != epoch)
			continue;
		if (records != 1 || first != len) {
			*reason = KDTLS_DROP_MALFORMED;
			return KDTLS_CLASS_DROP;
		}
		return b[0] == 23 ? KDTLS_CLASS_DATA : KDTLS_CLASS_SEALED;
	}
	if (n && ep[0] != 0xffff && epoch == ep[0] + 1u)
		return KDTLS_CLASS_AGENT;
	*reason = KDTLS_DROP_EPOCH;
	return KDTLS_CLASS_DROP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum kdtls_drop reason, reason2, want_reason;
	enum kdtls_class cls, cls2, want;
	struct kdtls_hdr hdr, hdr2;
	uint16_t ep[2];
	unsigned int n, i;
	bool has_assoc, known = false;
	uint8_t *dg, *dg2;
	size_t len;

	if (size < 5)
		return 0;
	has_assoc = data[0] & 1;
	n = (data[0] >> 1) & 3;
	if (n > 2)
		n = 2;
	ep[0] = (uint16_t)be16(data + 1);
	ep[1] = (uint16_t)be16(data + 3);
	len = size - 5;
	/* exactly @len bytes on the heap: a read past the end is an ASan report */
	dg = malloc(len ? len : 1);
	dg2 = malloc(len + 64);
	CHECK(dg && dg2);
	memcpy(dg, data + 5, len);
	memset(dg2, 0x17, 64);
	memcpy(dg2 + 64, data + 5, len);

	memset(&hdr, 0xcc, sizeof(hdr));
	cls = kdtls_classify(dg, len, has_assoc, ep, n, &hdr, &reason);
	want = model(dg, len, has_assoc, ep, n, &want_reason);
	if (cls != want || reason != want_reason)
		fprintf(stderr, "classify = %d/%d, model = %d/%d\n", cls,
			reason, want, want_reason);
	CHECK(cls == want);
	CHECK(reason == want_reason);
	CHECK((reason == KDTLS_DROP_NONE) == (cls != KDTLS_CLASS_DROP));

	cls2 = kdtls_classify(dg2 + 64, len, has_assoc, ep, n, &hdr2, &reason2);
	CHECK(cls2 == cls && reason2 == reason);

	if (cls != KDTLS_CLASS_DROP) {
		/* the first header parsed: hdr is exactly it */
		CHECK(hdr.type == dg[0]);
		CHECK(hdr.version == be16(dg + 1));
		CHECK(hdr.epoch == be16(dg + 3));
		CHECK(hdr.length == be16(dg + 11));
		CHECK(13 + (size_t)hdr.length <= len);
		CHECK(!memcmp(&hdr, &hdr2, sizeof(hdr)) ||
		      (hdr.type == hdr2.type && hdr.version == hdr2.version &&
		       hdr.epoch == hdr2.epoch && hdr.seq == hdr2.seq &&
		       hdr.length == hdr2.length));
		for (i = 0; i < n; i++)
			known |= hdr.epoch == ep[i];
	}
	switch (cls) {
	case KDTLS_CLASS_DATA:
		CHECK(has_assoc && known && hdr.epoch != 0);
		CHECK(hdr.type == KDTLS_CT_APPLICATION_DATA);
		CHECK(13 + (size_t)hdr.length == len);
		CHECK(hdr.version == KDTLS_VERSION_1_2);
		break;
	case KDTLS_CLASS_SEALED:
		CHECK(has_assoc && known && hdr.epoch != 0);
		CHECK(hdr.type != KDTLS_CT_APPLICATION_DATA);
		CHECK(13 + (size_t)hdr.length == len);
		break;
	case KDTLS_CLASS_AGENT:
		CHECK(hdr.epoch == 0 || (!has_assoc && hdr.epoch == 1) ||
		      (has_assoc && !known && n &&
		       hdr.epoch == (uint16_t)(ep[0] + 1)));
		break;
	case KDTLS_CLASS_DROP:
		CHECK(reason != KDTLS_DROP_NONE);
		break;
	default:
		CHECK(!"unknown class");
	}
	free(dg);
	free(dg2);
	return 0;
}
