// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the configuration file.
 *
 * INI style: "[section]" lines, "key = value" lines, '#' or ';' starts a
 * comment line, blank lines ignored, values are taken verbatim after
 * trimming (no quotes, no escapes).  Unknown sections or keys and bad
 * values are errors: a typo must not silently weaken the daemon.  Every
 * key is listed, with its default, in etc/kdtlsd.conf.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "kdtlsd.h"

struct kd_config kd_cfg;

#define KD_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-CCM8:" \
	"ECDHE-PSK-CHACHA20-POLY1305:PSK-AES128-GCM-SHA256:" \
	"PSK-AES256-GCM-SHA384:PSK-CHACHA20-POLY1305:PSK-AES128-CCM:" \
	"PSK-AES128-CCM8"

void kd_config_defaults(struct kd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ctl_path, sizeof(c->ctl_path), "/run/kdtlsd.sock");
	c->ctl_mode = 0660;
	c->log_level = KD_LOG_INFO;
	snprintf(c->ciphers, sizeof(c->ciphers), "%s", KD_DEFAULT_CIPHERS);
	snprintf(c->groups, sizeof(c->groups), "X25519:P-256:P-384");
	c->cookie = true;
	snprintf(c->cookie_digest, sizeof(c->cookie_digest), "SHA256");
	c->cookie_rotate_s = 3600;
	c->timer_initial_ms = 1000;
	c->timer_max_ms = 60000;
	c->hs_timeout_s = 60;
	c->linger_s = 240;		/* 2 x MSL, RFC 6347 4.2.4 */
	c->mtu = 1400;
	c->max_handshakes = 10000;
}

int kd_hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = OPENSSL_hexchar2int(s[2 * i]);
		int lo = OPENSSL_hexchar2int(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = hi << 4 | lo;
	}
	*len = n / 2;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		 !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_uint(const char *v, unsigned int min, unsigned int max,
		      int base, unsigned int *out)
{
	unsigned long x;
	char *end;

	errno = 0;
	x = strtoul(v, &end, base);
	if (errno || !*v || *end || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static int copy_str(const char *v, char *dst, size_t cap)
{
	if (strlen(v) >= cap)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

#define STR(sec, k, field) \
	if (!strcmp(section, sec) && !strcmp(key, k)) \
		return copy_str(v, c->field, sizeof(c->field))
#define UINT(sec, k, field, min, max) \
	if (!strcmp(section, sec) && !strcmp(key, k)) \
		return parse_uint(v, min, max, 10, &c->field)
#define BOOL(sec, k, field) \
	if (!strcmp(section, sec) && !strcmp(key, k)) \
		return parse_bool(v, &c->field)

static int set_key(struct kd_config *c, const char *section, const char *key,
		   const char *v)
{
	if (!strcmp(section, "psk")) {
		struct kd_psk *p;

		if (c->n_psk >= KD_MAX_PSK || strlen(key) >= sizeof(p->identity))
			return -1;
		p = &c->psk[c->n_psk];
		if (kd_hex_decode(v, p->key, sizeof(p->key), &p->key_len) ||
		    !p->key_len)
			return -1;
		memcpy(p->identity, key, strlen(key) + 1);
		c->n_psk++;
		return 0;
	}
	STR("daemon", "control_socket", ctl_path);
	if (!strcmp(section, "daemon") && !strcmp(key, "control_mode"))
		return parse_uint(v, 0, 0777, 8, &c->ctl_mode);
	STR("daemon", "control_group", ctl_group);
	if (!strcmp(section, "daemon") && !strcmp(key, "log")) {
		if (!strcmp(v, "syslog"))
			c->log_syslog = true;
		else if (!strcmp(v, "stderr"))
			c->log_syslog = false;
		else
			return -1;
		return 0;
	}
	if (!strcmp(section, "daemon") && !strcmp(key, "log_level")) {
		c->log_level = kd_log_parse_level(v);
		return c->log_level < 0 ? -1 : 0;
	}
	STR("tls", "certificate", cert);
	STR("tls", "private_key", key);
	STR("tls", "ca_file", ca_file);
	STR("tls", "ca_dir", ca_dir);
	STR("tls", "ciphers", ciphers);
	STR("tls", "groups", groups);
	BOOL("tls", "verify_client", verify_client);
	STR("tls", "psk_identity_hint", psk_hint);
	STR("tls", "keylog_file", keylog);
	BOOL("cookie", "enabled", cookie);
	STR("cookie", "digest", cookie_digest);
	if (!strcmp(section, "cookie") && !strcmp(key, "secret")) {
		if (!*v) {
			c->cookie_secret_len = 0;
			return 0;
		}
		return kd_hex_decode(v, c->cookie_secret,
				     sizeof(c->cookie_secret),
				     &c->cookie_secret_len);
	}
	UINT("cookie", "rotate_seconds", cookie_rotate_s, 1, 86400 * 30);
	UINT("handshake", "retransmit_initial_ms", timer_initial_ms, 10, 60000);
	UINT("handshake", "retransmit_max_ms", timer_max_ms, 10, 600000);
	UINT("handshake", "timeout_seconds", hs_timeout_s, 1, 3600);
	UINT("handshake", "final_flight_seconds", linger_s, 0, 3600);
	UINT("handshake", "mtu", mtu, 256, 65507);
	UINT("handshake", "max_handshakes", max_handshakes, 1, 10000000);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int kd_config_load(const char *path, struct kd_config *c)
{
	char line[2048], section[32] = "";
	int lineno = 0, ret = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		kd_err("config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *key, *v;

		lineno++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || end[1] || end - s - 1 >= (long)sizeof(section)) {
				kd_err("%s:%d: bad section line", path, lineno);
				goto out;
			}
			*end = 0;
			snprintf(section, sizeof(section), "%s", s + 1);
			if (strcmp(section, "daemon") && strcmp(section, "tls") &&
			    strcmp(section, "psk") && strcmp(section, "cookie") &&
			    strcmp(section, "handshake")) {
				kd_err("%s:%d: unknown section [%s]", path,
				       lineno, section);
				goto out;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq || !*section) {
			kd_err("%s:%d: expected key = value in a section",
			       path, lineno);
			goto out;
		}
		*eq = 0;
		key = trim(s);
		v = trim(eq + 1);
		if (set_key(c, section, key, v)) {
			/* never echo the value: it may be a key */
			kd_err("%s:%d: unknown key or bad value for [%s] %s",
			       path, lineno, section, key);
			goto out;
		}
	}
	if (c->timer_max_ms < c->timer_initial_ms) {
		kd_err("%s: retransmit_max_ms < retransmit_initial_ms", path);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return ret;
}
