/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the VM tests. */
#ifndef _KT_UTIL_H
#define _KT_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <linux/kdtls.h>

#define KT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic milliseconds. */
uint64_t kt_now_ms(void);

/*
 * Poll the socket's (peer == NULL) or the association's counter @stat until
 * it reaches @want or @ms pass; returns the last value seen (or -errno as
 * uint64_t when the get failed, which never equals a sane @want).
 */
uint64_t kt_wait_stat(int fd, const struct sockaddr *peer, int stat,
		      uint64_t want, int ms);

/* Does @hay contain @needle? */
bool kt_contains(const void *hay, size_t hlen, const void *needle, size_t nlen);

/* Print the counters that differ between two snapshots. */
void kt_stats_log(const char *what, const uint64_t *before,
		  const uint64_t *after);

/* Drop privileges to nobody (uid/gid 65534) and every capability. */
int kt_drop_to_nobody(void);

#endif

/*
 * Wait for a datagram sent to @fd to be dropped: call a non-blocking recv
 * on @fd (kdtls may classify in recvmsg) and poll the counter @stat of the
 * association with @peer (socket when NULL) until it reaches @want or @ms
 * pass.  *@delivered is set to the length of anything recv returned
 * instead (a failure for the caller), else -1.
 * Return: the last value of the counter.
 */
uint64_t kt_expect_drop(int fd, const struct sockaddr *peer, int stat,
			uint64_t want, int ms, ssize_t *delivered);
