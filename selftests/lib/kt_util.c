// SPDX-License-Identifier: GPL-2.0
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kt_util.h"
#include "kt_nl.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

uint64_t kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t kt_wait_stat(int fd, const struct sockaddr *peer, int stat,
		      uint64_t want, int ms)
{
	uint64_t end = kt_now_ms() + (uint64_t)ms;
	uint64_t stats[KDTLS_STAT_MAX + 1];

	for (;;) {
		int err = peer ? kt_assoc_get_stats(fd, peer, stats) :
				 kt_sock_get_stats(fd, stats);

		if (err)
			return (uint64_t)(int64_t)err;
		if (stats[stat] >= want || kt_now_ms() >= end)
			return stats[stat];
		/* short pause between polls of the condition */
		poll(NULL, 0, 2);
	}
}

bool kt_contains(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
	return nlen && memmem(hay, hlen, needle, nlen) != NULL;
}

void kt_stats_log(const char *what, const uint64_t *before,
		  const uint64_t *after)
{
	int i;

	for (i = 1; i <= KDTLS_STAT_MAX; i++)
		if (before[i] != after[i])
			printf("# %s: %s %llu -> %llu\n", what,
			       kt_stat_names[i],
			       (unsigned long long)before[i],
			       (unsigned long long)after[i]);
	fflush(stdout);
}

int kt_drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

uint64_t kt_expect_drop(int fd, const struct sockaddr *peer, int stat,
			uint64_t want, int ms, ssize_t *delivered)
{
	uint64_t end = kt_now_ms() + (uint64_t)ms;
	uint64_t stats[KDTLS_STAT_MAX + 1];
	char buf[2048];

	*delivered = -1;
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int err;

		if (r >= 0) {
			*delivered = r;
			return 0;
		}
		err = peer ? kt_assoc_get_stats(fd, peer, stats) :
			     kt_sock_get_stats(fd, stats);
		if (err)
			return (uint64_t)(int64_t)err;
		if (stats[stat] >= want || kt_now_ms() >= end)
			return stats[stat];
		poll(NULL, 0, 2);
	}
}
