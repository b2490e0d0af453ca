// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: struct kdtls_config (QSslConfiguration's DTLS part).
 *
 * The configuration travels to kdtlsd inline, in the CONNECT or SERVE
 * request (Documentation/kdtlsd.rst, "Per-connection TLS options"): PEM
 * contents percent-encoded, never a path (kdtlsd runs as root and must not
 * open files on an application's behalf).  Files named in the
 * configuration are read here, with the application's privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "internal.h"

#define PEM_MAX	(24 * 1024)	/* leaves room in a 64 KiB request */

KDTLS_EXPORT void kdtls_config_init(struct kdtls_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->protocol = KDTLS_PROTO_DTLS1_2_OR_LATER;
	cfg->verify_mode = KDTLS_VERIFY_AUTO;
	cfg->verify_depth = -1;
}

static int read_file(const char *path, char **out)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PEM_MAX) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	n = read(fd, buf, st.st_size);
	if (n < 0) {
		err = -errno;
		free(buf);
		goto out;
	}
	buf[n] = 0;
	*out = buf;
	err = 0;
out:
	close(fd);
	return err;
}

static int dup_str(char **dst, const char *s, size_t max)
{
	*dst = NULL;
	if (!s || !*s)
		return 0;
	if (strlen(s) > max)
		return -E2BIG;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* PEM from the string or, failing that, from the file */
static int take_pem(char **dst, const char *pem, const char *file,
		    const char **why, const char *what)
{
	static char msg[160];
	int err;

	if (pem && *pem) {
		err = dup_str(dst, pem, PEM_MAX);
	} else if (file && *file) {
		err = read_file(file, dst);
	} else {
		*dst = NULL;
		return 0;
	}
	if (!err && *dst && !strstr(*dst, "-----BEGIN ")) {
		kdtls_free_secret(*dst);	/* it may be a key all the same */
		*dst = NULL;
		err = -EINVAL;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s", what,
			 err == -EINVAL ? "not PEM" : strerror(-err));
		*why = msg;
	}
	return err;
}

void kdtls_cfg_free(struct kdtls_cfg *c)
{
	free(c->ciphers);
	free(c->cert);
	kdtls_free_secret(c->key);
	free(c->ca);
	free(c->hint);
	free(c->keylog);
	memset(c, 0, sizeof(*c));
}

int kdtls_cfg_set(struct kdtls_cfg *dst, const struct kdtls_config *src,
		  const char **why)
{
	struct kdtls_cfg c = {
		.protocol = src->protocol,
		.verify_mode = src->verify_mode,
		.verify_depth = src->verify_depth,
	};
	int err;

	switch (src->protocol) {
	case KDTLS_PROTO_DTLS1_2:
	case KDTLS_PROTO_DTLS1_2_OR_LATER:
		break;
	case KDTLS_PROTO_DTLS1_0:
	case KDTLS_PROTO_DTLS1_0_OR_LATER:
		*why = "DTLS 1.0 is not supported (kdtls does DTLS 1.2 only)";
		return -EPROTONOSUPPORT;
	default:
		*why = "unknown protocol";
		return -EINVAL;
	}
	if (src->verify_mode < KDTLS_VERIFY_NONE ||
	    src->verify_mode > KDTLS_VERIFY_AUTO) {
		*why = "unknown verify mode";
		return -EINVAL;
	}
	if (src->verify_depth < -1 || src->verify_depth > 100) {
		*why = "verify depth out of range (-1, 0-100)";
		return -EINVAL;
	}
	if (src->ciphers && strpbrk(src->ciphers, " \t\r\n")) {
		*why = "cipher list with white space (use ':')";
		return -EINVAL;
	}
	err = dup_str(&c.ciphers, src->ciphers, 1000);
	if (err) {
		*why = "cipher list too long";
		goto err;
	}
	err = dup_str(&c.hint, src->psk_identity_hint, KDTLS_PSK_MAX_IDENTITY);
	if (err) {
		*why = "PSK identity hint too long (128 bytes at most)";
		goto err;
	}
	if (src->keylog_file && *src->keylog_file) {
		/* kdtlsd's [tls] keylog_file does it, for every connection */
		*why = "no per-connection key log: set kdtlsd's [tls] keylog_file";
		err = -EOPNOTSUPP;
		goto err;
	}
	err = take_pem(&c.cert, src->cert_pem, src->cert_file, why,
		       "certificate");
	if (!err)
		err = take_pem(&c.key, src->key_pem, src->key_file, why,
			       "private key");
	if (!err)
		err = take_pem(&c.ca, src->ca_pem, src->ca_file, why, "CA");
	if (err)
		goto err;
	if (!!c.cert != !!c.key) {
		*why = "a certificate needs its private key and vice versa";
		err = -EINVAL;
		goto err;
	}
	kdtls_cfg_free(dst);
	*dst = c;
	return 0;
err:
	kdtls_cfg_free(&c);
	return err;
}

void kdtls_cfg_get(const struct kdtls_cfg *c, struct kdtls_config *out)
{
	kdtls_config_init(out);
	out->protocol = c->protocol ? c->protocol :
			KDTLS_PROTO_DTLS1_2_OR_LATER;
	out->ciphers = c->ciphers;
	out->cert_pem = c->cert;
	out->key_pem = c->key;
	out->ca_pem = c->ca;
	out->verify_mode = c->verify_mode;
	out->verify_depth = c->verify_depth;
	out->psk_identity_hint = c->hint;
	out->keylog_file = c->keylog;
}

int kdtls_cfg_copy(struct kdtls_cfg *dst, const struct kdtls_cfg *src)
{
	struct kdtls_config tmp;
	const char *why;

	kdtls_cfg_get(src, &tmp);
	memset(dst, 0, sizeof(*dst));
	return kdtls_cfg_set(dst, &tmp, &why);
}

/* The arguments may hold the private key: no realloc() (it would leave
 * the old copy behind), every buffer wiped before it is freed. */
static int append(char **s, size_t *len, const char *key, const char *val)
{
	char *esc = kdtls_msg_escape(val, strlen(val)), *n;
	size_t add;

	if (!esc)
		return -ENOMEM;
	add = strlen(key) + strlen(esc) + 2;
	n = malloc(*len + add + 1);
	if (!n) {
		kdtls_free_secret(esc);
		return -ENOMEM;
	}
	memcpy(n, *s, *len);
	sprintf(n + *len, " %s=%s", key, esc);
	kdtls_free_secret(*s);
	*len += add;
	*s = n;
	kdtls_free_secret(esc);
	return 0;
}

/* The request arguments of a configuration; "" when all is default.
 * Free with kdtls_free_secret(). */
char *kdtls_cfg_args(const struct kdtls_cfg *c, bool server)
{
	size_t len = 0;
	char *s = calloc(1, 1), depth[16];
	int err = 0;

	if (!s)
		return NULL;
	if (c->cert)
		err |= append(&s, &len, "cert", c->cert);
	if (c->key)
		err |= append(&s, &len, "key", c->key);
	if (c->ca)
		err |= append(&s, &len, "ca", c->ca);
	if (c->ciphers)
		err |= append(&s, &len, "ciphers", c->ciphers);
	if (c->verify_depth >= 0) {
		snprintf(depth, sizeof(depth), "%d", c->verify_depth);
		err |= append(&s, &len, "verify-depth", depth);
	}
	if (server && c->hint)
		err |= append(&s, &len, "psk-hint", c->hint);
	if (err) {
		kdtls_free_secret(s);
		return NULL;
	}
	return s;
}
