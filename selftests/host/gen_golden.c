// SPDX-License-Identifier: GPL-2.0
/*
 * Prints selftests/golden.h: one DTLS 1.2 record per cipher, sealed with the
 * independent EVP sealer (lib/kt_evp.c) from fixed parameters.  Run once;
 * the output is checked in, and both the host cross-check and the VM
 * datapath test compare against it.
 */
#include <stdio.h>
#include <string.h>
#include "../lib/kt_evp.h"
#include "../golden_params.h"

int main(void)
{
	static const char *names[] = { NULL, "AES_128_GCM", "AES_256_GCM",
		"CHACHA20_POLY1305", "AES_128_CCM", "AES_128_CCM_8" };
	unsigned int c;

	printf("/* SPDX-License-Identifier: GPL-2.0 */\n");
	printf("/* Generated once by host/gen_golden.c; do not edit. */\n");
	printf("#ifndef _KT_GOLDEN_H\n#define _KT_GOLDEN_H\n\n");
	printf("#include \"golden_params.h\"\n\n");
	for (c = 1; c <= 5; c++) {
		struct kt_rec r = { .type = GOLDEN_TYPE, .epoch = GOLDEN_EPOCH,
				    .seq = GOLDEN_SEQ };
		uint8_t out[256];
		int n, i;

		n = kt_evp_seal(c, golden_key, golden_salt, &r,
				GOLDEN_PLAINTEXT, sizeof(GOLDEN_PLAINTEXT) - 1,
				out, sizeof(out));
		if (n < 0)
			return 1;
		printf("static const unsigned char golden_%s[%d] = {", names[c], n);
		for (i = 0; i < n; i++)
			printf("%s0x%02x,", i % 12 ? " " : "\n\t", out[i]);
		printf("\n};\n\n");
	}
	printf("static const struct { const unsigned char *rec; unsigned int len; }\n"
	       "golden_records[] = {\n\t[0] = { 0, 0 },\n");
	for (c = 1; c <= 5; c++)
		printf("\t[%u] = { golden_%s, sizeof(golden_%s) },\n", c,
		       names[c], names[c]);
	printf("};\n\n#endif\n");
	return 0;
}
