// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: logging to stderr (foreground) or syslog, with four levels.
 * Nothing here ever formats key material: callers pass none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <openssl/err.h>

#include "kdtlsd.h"

static struct {
	bool syslog;
	int level;
} lg = { .level = KD_LOG_INFO };

static const char *const names[] = { "error", "warning", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void kd_log_init(bool use_syslog, int level)
{
	if (use_syslog && !lg.syslog)
		openlog("kdtlsd", LOG_PID, LOG_DAEMON);
	lg.syslog = use_syslog;
	lg.level = level;
}

void kd_log_set_level(int level)
{
	lg.level = level;
}

int kd_log_parse_level(const char *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i]))
			return i;
	if (!strcasecmp(s, "err"))
		return KD_LOG_ERR;
	if (!strcasecmp(s, "warn"))
		return KD_LOG_WARN;
	return -1;
}

void kd_log(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (lg.syslog) {
		syslog(prio[level], "%s", buf);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "kdtlsd[%ld.%03ld] %s: %s\n", (long)ts.tv_sec,
			ts.tv_nsec / 1000000, names[level], buf);
	}
}

/* Log and clear OpenSSL's error queue. */
void kd_log_ssl(int level, const char *what)
{
	unsigned long e;
	char buf[256];
	bool any = false;

	while ((e = ERR_get_error())) {
		ERR_error_string_n(e, buf, sizeof(buf));
		kd_log(level, "%s: %s", what, buf);
		any = true;
	}
	if (!any)
		kd_log(level, "%s", what);
}
