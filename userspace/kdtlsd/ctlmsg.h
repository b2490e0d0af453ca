/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtlsd: the control protocol's message codec (Documentation/kdtlsd.rst,
 * "Control protocol").  Pure code, no daemon state: built into kdtlsd and
 * into the host fuzz target selftests/fuzz/fuzz_ctl.c.
 */
#ifndef KDTLSD_CTLMSG_H
#define KDTLSD_CTLMSG_H

#include <stddef.h>

#define KD_CTL_MAX_ARGS	16

/* a parsed request: pointers into the caller's line, values unescaped */
struct kd_ctl_msg {
	char *verb;
	char *key[KD_CTL_MAX_ARGS], *val[KD_CTL_MAX_ARGS];
	int n;
};

int kd_ctl_parse(char *line, struct kd_ctl_msg *m, const char **why);
int kd_ctl_unescape(char *s);
void kd_ctl_escape(const char *in, char *out, size_t len);

#endif /* KDTLSD_CTLMSG_H */
