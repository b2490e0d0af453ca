// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the key log, a debugging aid ([tls] keylog_file, off by default).
 *
 * One line per handshake in the NSS key log format that Wireshark reads
 * ("CLIENT_RANDOM <client random> <master secret>", hex), written by
 * OpenSSL's keylog callback.  Whoever reads the file can decrypt every
 * record of the logged sessions: it defeats confidentiality and exists only
 * to debug interoperation.  The file is opened for appending, created 0600,
 * never followed through a symlink, and refused if it is not a regular file,
 * if group or others may access it, if kdtlsd's effective user does not own
 * it or if it has another hard link.  SIGHUP reopens it (or closes it when
 * the key is gone from the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdtlsd.h"

static int keylog_fd = -1;

int kd_keylog_open(const char *path)
{
	struct stat st;
	int fd;

	if (!*path) {
		kd_keylog_close();
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		kd_err("keylog_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		kd_err("keylog_file %s: not a regular file private to its owner (mode 0600)",
		       path);
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || st.st_nlink != 1) {
		kd_err("keylog_file %s: refused: owned by uid %u (not kdtlsd's %u) or with %lu links (1 only)",
		       path, (unsigned int)st.st_uid, (unsigned int)geteuid(),
		       (unsigned long)st.st_nlink);
		close(fd);
		return -1;
	}
	kd_keylog_close();
	keylog_fd = fd;
	kd_warn("keylog_file %s: session secrets are logged, confidentiality is void",
		path);
	return 0;
}

void kd_keylog_close(void)
{
	if (keylog_fd >= 0)
		close(keylog_fd);
	keylog_fd = -1;
}

bool kd_keylog_enabled(void)
{
	return keylog_fd >= 0;
}

/* SSL_CTX_set_keylog_callback: @line has no newline. */
void kd_keylog_cb(const SSL *ssl, const char *line)
{
	char buf[512];
	int n;

	(void)ssl;
	if (keylog_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    write(keylog_fd, buf, n) != n)
		kd_warn("keylog_file: %s", strerror(errno));
	OPENSSL_cleanse(buf, sizeof(buf));
}
