// SPDX-License-Identifier: GPL-2.0
/*
 * libkctl: error messages on stderr, "PROG: MESSAGE", after whatever
 * stdout holds so that the two interleave in order on a terminal.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kctl.h"

/* Set by the program before its first message. */
const char *kctl_prog = "kdtlsctl";

void kctl_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", kctl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
