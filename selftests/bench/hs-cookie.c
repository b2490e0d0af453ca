// SPDX-License-Identifier: GPL-2.0
/*
 * hs-cookie: kdtlsd's cookie verification throughput, on the host (for
 * hs-bench.sh).  Links kdtlsd's own cookie.c (with config.c, log.c,
 * keys.c) and times kd_cookie_check on a real ClientHello datagram:
 *
 *   hs-cookie [-t SECS] [-d DIGEST]
 *
 *   valid     a cookie of the current secret (one HMAC);
 *   previous  a cookie of the previous secret, after one rotation (two);
 *   invalid   a forged cookie: both secrets tried (two HMACs, the cost a
 *             spoofed ClientHello with a garbage cookie imposes).
 * The secret is rotated once before, so that a previous secret exists.
 * Each check must give the expected answer, or the program fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "../../userspace/kdtlsd/kdtlsd.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A DTLS 1.2 ClientHello datagram (one record) with 8 suites. */
static size_t client_hello(uint8_t *d)
{
	static const uint8_t suites[] = {
		0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30,
		0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0xac, 0xc0, 0xae,
	};
	uint8_t *b = d + KD_HDR_LEN + 12;
	size_t n = 0, i;

	b[n++] = 0xfe;
	b[n++] = 0xfd;
	for (i = 0; i < 32; i++)
		b[n++] = i * 7;
	b[n++] = 0;			/* session id */
	b[n++] = 0;			/* cookie */
	b[n++] = 0;
	b[n++] = sizeof(suites);
	memcpy(b + n, suites, sizeof(suites));
	n += sizeof(suites);
	b[n++] = 1;
	b[n++] = 0;			/* null compression */
	b = d + KD_HDR_LEN;
	b[0] = 1;
	b[1] = b[9] = n >> 16;
	b[2] = b[10] = n >> 8;
	b[3] = b[11] = n;
	b[4] = b[5] = b[6] = b[7] = b[8] = 0;
	kd_rec_hdr_put(d, KDTLS_CT_HANDSHAKE, 0, 0, 12 + n);
	return KD_HDR_LEN + 12 + n;
}

static void run(const char *what, const struct sockaddr_storage *peer,
		const uint8_t *dg, size_t len, const uint8_t *cookie,
		unsigned int clen, bool want, double secs)
{
	unsigned long n = 0;
	double t0 = now(), t;

	do {
		int i;

		for (i = 0; i < 256; i++)
			if (kd_cookie_check(peer, dg, len, cookie, clen) != want) {
				fprintf(stderr, "hs-cookie: %s: wrong answer\n",
					what);
				exit(1);
			}
		n += 256;
	} while ((t = now() - t0) < secs);
	printf("cookie-verify %s: %.0f/s (%.2f us each)\n", what, n / t,
	       t * 1e6 / n);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage peer = { 0 };
	struct sockaddr_in *in = (void *)&peer;
	uint8_t dg[512], cookie[255], bad[255];
	unsigned int clen;
	double secs = 1;
	size_t len;
	int o;

	kd_log_init(false, KD_LOG_WARN);
	kd_config_defaults(&kd_cfg);
	while ((o = getopt(argc, argv, "t:d:")) != -1) {
		switch (o) {
		case 't': secs = atof(optarg); break;
		case 'd':
			snprintf(kd_cfg.cookie_digest,
				 sizeof(kd_cfg.cookie_digest), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: hs-cookie [-t SECS] [-d DIGEST]\n");
			return 2;
		}
	}
	if (secs <= 0 || kd_cookie_init())
		return 1;
	kd_cookie_rotate();	/* a previous secret exists from now on */
	in->sin_family = AF_INET;
	in->sin_port = htons(4433);
	in->sin_addr.s_addr = htonl(0x7f000001);
	len = client_hello(dg);
	if (kd_cookie_make(&peer, dg, len, 0, cookie, &clen)) {
		fprintf(stderr, "hs-cookie: kd_cookie_make failed\n");
		return 1;
	}
	memcpy(bad, cookie, clen);
	bad[0] ^= 1;
	printf("cookie digest %s, %u-byte cookies\n", kd_cfg.cookie_digest,
	       clen);
	run("valid", &peer, dg, len, cookie, clen, true, secs);
	run("invalid", &peer, dg, len, bad, clen, false, secs);
	kd_cookie_rotate();
	run("previous", &peer, dg, len, cookie, clen, true, secs);
	kd_cookie_exit();
	return 0;
}
