// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: kdtlsd's control-message codec,
 * userspace/kdtlsd/ctlmsg.c (the daemon's own file, unchanged).
 *
 * Properties, beyond "no sanitizer report":
 *  - a parsed message has a non-empty verb, at most KD_CTL_MAX_ARGS pairs,
 *    non-empty keys without '=' or ' ', and every pointer inside the buffer;
 *  - re-encoding the parsed message (verb, then key=escape(value)) and
 *    parsing it again gives the same verb, keys and values;
 *  - escape() of any NUL-free string decodes back to it (when it fits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define MAX_IN	4096

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char line[MAX_IN + 1], again[8 * MAX_IN + 64];
	static char esc[3 * MAX_IN + 1], copy[MAX_IN + 1];
	struct kd_ctl_msg m, m2;
	const char *why;
	size_t len, o;
	int i;

	if (size > MAX_IN)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;

	/* escape round trip on the raw input (up to its first NUL) */
	memcpy(copy, line, size + 1);
	kd_ctl_escape(copy, esc, sizeof(esc));
	CHECK(strlen(esc) <= 3 * strlen(copy));
	for (o = 0; esc[o]; o++)
		CHECK(esc[o] > 0x20 && esc[o] < 0x7f);
	CHECK(kd_ctl_unescape(esc) == 0);
	CHECK(!strcmp(esc, copy));

	if (kd_ctl_parse(line, &m, &why)) {
		CHECK(why && *why);
		return 0;
	}
	CHECK(m.verb && *m.verb && !strchr(m.verb, ' '));
	CHECK(m.verb >= line && m.verb < line + size);
	CHECK(m.n >= 0 && m.n <= KD_CTL_MAX_ARGS);

	len = snprintf(again, sizeof(again), "%s", m.verb);
	for (i = 0; i < m.n; i++) {
		CHECK(m.key[i] >= line && m.key[i] < line + size);
		CHECK(m.val[i] >= line && m.val[i] <= line + size);
		CHECK(*m.key[i] && !strchr(m.key[i], '=') &&
		      !strchr(m.key[i], ' '));
		kd_ctl_escape(m.val[i], esc, sizeof(esc));
		len += snprintf(again + len, sizeof(again) - len, " %s=%s",
				m.key[i], esc);
		CHECK(len < sizeof(again));
	}

	CHECK(kd_ctl_parse(again, &m2, &why) == 0);
	CHECK(!strcmp(m.verb, m2.verb));
	CHECK(m.n == m2.n);
	for (i = 0; i < m.n; i++) {
		CHECK(!strcmp(m.key[i], m2.key[i]));
		CHECK(!strcmp(m.val[i], m2.val[i]));
	}
	return 0;
}
