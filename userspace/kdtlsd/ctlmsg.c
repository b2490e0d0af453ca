// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the control protocol's message codec.
 *
 * One message is one line: "VERB key=value ...".  Values are
 * percent-encoded where they hold a space, '%' or a byte outside
 * 0x21..0x7e.  Parsing works in place on the caller's buffer.
 */
#include <errno.h>
#include <string.h>

#include "ctlmsg.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * kd_ctl_escape() - percent-encode a value
 * @in: NUL-terminated value
 * @out: output buffer
 * @len: its size; output that does not fit is cut at a whole character
 */
void kd_ctl_escape(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!len)
		return;
	for (; *in && o + 4 < len; in++) {
		unsigned char c = *in;

		if (c <= 0x20 || c >= 0x7f || c == '%') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = c;
		}
	}
	out[o] = 0;
}

/**
 * kd_ctl_unescape() - decode a percent-encoded value in place
 * @s: NUL-terminated value
 *
 * Return: 0, or -EINVAL for a '%' not followed by two hex digits or one
 * that encodes NUL.
 */
int kd_ctl_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]);
			int lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || !(hi | lo))
				return -EINVAL;
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return 0;
}

/**
 * kd_ctl_parse() - split a request line into verb and key=value pairs
 * @line: the message, NUL-terminated; modified in place
 * @m: filled with pointers into @line
 * @why: on error, a message for the "ERR" reply
 *
 * Return: 0 or -EINVAL.
 */
int kd_ctl_parse(char *line, struct kd_ctl_msg *m, const char **why)
{
	char *save, *tok;

	memset(m, 0, sizeof(*m));
	line[strcspn(line, "\r\n")] = 0;
	m->verb = strtok_r(line, " ", &save);
	if (!m->verb) {
		*why = "empty request";
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || m->n == KD_CTL_MAX_ARGS) {
			*why = "expected key=value arguments";
			return -EINVAL;
		}
		*eq = 0;
		if (kd_ctl_unescape(eq + 1)) {
			*why = "bad percent-encoding";
			return -EINVAL;
		}
		m->key[m->n] = tok;
		m->val[m->n++] = eq + 1;
	}
	return 0;
}
