/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kselftest-style test harness for kdtls (written for this project).
 *
 *   TEST(name) { ... }
 *   FIXTURE(f) { fields; };
 *   FIXTURE_SETUP(f) { self->... }        (self, variant available)
 *   FIXTURE_TEARDOWN(f) { ... }
 *   FIXTURE_VARIANT(f) { fields; };       (optional)
 *   FIXTURE_VARIANT_ADD(f, v) { .field = ..., };
 *   TEST_F(f, name) { self, variant }
 *   TEST_HARNESS_MAIN
 *
 * Every test runs in its own forked child (own process group) with a
 * timeout (TEST_TIMEOUT_DEFAULT seconds, or the TEST_F_TIMEOUT/TEST_TIMEOUT
 * forms).  ASSERT_* ends the test (teardown still runs once setup finished),
 * EXPECT_* records the failure and goes on.  SKIP(reason) ends the test as
 * skipped; use it only where the test truly cannot run.
 *
 * The comparison macros (EQ, NE, LT, GT, LE, GE) are for integers; they
 * compare as signed when either side is signed.  Use ASSERT_TRUE(p != NULL)
 * for pointers and ASSERT_MEMEQ(a, b, len) for memory.
 *
 * Output is TAP 13 on stdout; diagnostics are "# " lines.  The binary exits
 * 1 if any test failed.  Options: -l lists the tests, -t SUBSTR runs only
 * tests whose full name contains SUBSTR (may repeat).
 *
 * When built with -DHARNESS_CHECK_DMESG and /dev/kmsg is readable, any new
 * kernel log line containing BUG:, WARNING:, Oops, lockdep or KASAN (or
 * "possible circular locking", "UBSAN") while a test ran fails that test.
 */
#ifndef _KDTLS_HARNESS_H
#define _KDTLS_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	30
#endif

struct __th_fixture;

struct __th_variant {
	const char *name;
	const void *data;
	struct __th_variant *next;
};

struct __th_fixture {
	const char *name;
	struct __th_variant *variants, **vtail;
	struct __th_fixture *next;
};

struct __th_test {
	const char *name;
	struct __th_fixture *fixture;		/* NULL for TEST() */
	void (*fn)(const void *variant);
	int timeout;
	struct __th_test *next;
};

/* Shared with the parent through an anonymous MAP_SHARED page. */
struct __th_result {
	int failed;
	int skipped;
	char reason[256];
};

struct __th_state {
	struct __th_test *tests, **ttail;
	struct __th_fixture *fixtures;
	struct __th_result *res;	/* in the child */
	sigjmp_buf env;
	bool in_test;
};

static struct __th_state __th = { .ttail = &__th.tests };

static inline void __th_register_test(struct __th_test *t)
{
	*__th.ttail = t;
	__th.ttail = &t->next;
}

static inline void __th_register_fixture(struct __th_fixture *f)
{
	if (!f->vtail)
		f->vtail = &f->variants;
	f->next = __th.fixtures;
	__th.fixtures = f;
}

static inline void __th_register_variant(struct __th_fixture *f,
					 struct __th_variant *v)
{
	if (!f->vtail)
		f->vtail = &f->variants;
	*f->vtail = v;
	f->vtail = &v->next;
}

/* ---- diagnostics ---------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
static inline void th_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *line, *save = NULL;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
}

#define TH_LOG(fmt, ...) th_log("%s:%d: " fmt, __FILE__, __LINE__, ##__VA_ARGS__)

static inline void __th_abort(void)
{
	if (__th.in_test)
		siglongjmp(__th.env, 1);
	/* outside a test (should not happen): end the child */
	fflush(stdout);
	_exit(1);
}

static inline void __th_fail(bool fatal)
{
	if (__th.res)
		__th.res->failed = 1;
	if (fatal)
		__th_abort();
}

#define SKIP(fmt, ...) do {				\
	if (__th.res) {							\
		__th.res->skipped = 1;					\
		snprintf(__th.res->reason, sizeof(__th.res->reason),	\
			 fmt, ##__VA_ARGS__);		\
	}								\
	__th_abort();							\
} while (0)

/* ---- comparisons -------------------------------------------------------- */

#define __th_is_signed(x)	((__typeof__(x))-1 < (__typeof__(x))1)

#define __TH_CMP(a, b, op, fatal) do {					\
	__typeof__(a) __a = (a);					\
	__typeof__(b) __b = (b);					\
	bool __ok;							\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wsign-compare\"")		\
	_Pragma("GCC diagnostic ignored \"-Wtype-limits\"")		\
	_Pragma("GCC diagnostic ignored \"-Wbool-compare\"")		\
	if (__th_is_signed(__a) || __th_is_signed(__b))			\
		__ok = (long long)__a op (long long)__b;		\
	else								\
		__ok = (unsigned long long)__a op			\
		       (unsigned long long)__b;				\
	if (!__ok) {							\
		if (__th_is_signed(__a) || __th_is_signed(__b))		\
			th_log("%s:%d: expected %s (%lld) %s %s (%lld)",	\
			       __FILE__, __LINE__, #a, (long long)__a,	\
			       #op, #b, (long long)__b);		\
		else							\
			th_log("%s:%d: expected %s (%llu) %s %s (%llu)",	\
			       __FILE__, __LINE__, #a,			\
			       (unsigned long long)__a, #op, #b,	\
			       (unsigned long long)__b);		\
		__th_fail(fatal);					\
	}								\
	_Pragma("GCC diagnostic pop")					\
} while (0)

#define __TH_BOOL(x, want, fatal) do {					\
	if ((!!(x)) != (want)) {						\
		th_log("%s:%d: expected %s to be %s", __FILE__,	\
		       __LINE__, #x, (want) ? "true" : "false");	\
		__th_fail(fatal);					\
	}								\
} while (0)

static inline void __th_hexdump(const char *tag, const void *p, size_t len,
				size_t from)
{
	const unsigned char *b = p;
	char line[3 * 16 + 1];
	size_t i, end = from + 32 < len ? from + 32 : len;
	int n = 0;

	for (i = from; i < end; i++) {
		n += snprintf(line + n, sizeof(line) - n, "%02x ", b[i]);
		if ((i - from) % 16 == 15 || i + 1 == end) {
			th_log("  %s+%zu: %s", tag, i - (i - from) % 16, line);
			n = 0;
		}
	}
}

#define __TH_MEM(a, b, len, eq, fatal) do {				\
	const unsigned char *__pa = (const void *)(a);			\
	const unsigned char *__pb = (const void *)(b);			\
	size_t __len = (len), __i;					\
	for (__i = 0; __i < __len && __pa[__i] == __pb[__i]; __i++)	\
		;							\
	if ((__i == __len) != (eq)) {					\
		th_log("%s:%d: expected %s %s %s (%zu bytes)%s",	\
		       __FILE__, __LINE__, #a, (eq) ? "==" : "!=", #b,	\
		       __len, (eq) ? ", first difference:" : "");	\
		if (eq) {						\
			size_t __f = __i & ~(size_t)15;			\
			__th_hexdump("got ", __pa, __len, __f);		\
			__th_hexdump("want", __pb, __len, __f);		\
		}							\
		__th_fail(fatal);					\
	}								\
} while (0)

#define ASSERT_EQ(a, b)	__TH_CMP(a, b, ==, true)
#define ASSERT_NE(a, b)	__TH_CMP(a, b, !=, true)
#define ASSERT_LT(a, b)	__TH_CMP(a, b, <, true)
#define ASSERT_GT(a, b)	__TH_CMP(a, b, >, true)
#define ASSERT_LE(a, b)	__TH_CMP(a, b, <=, true)
#define ASSERT_GE(a, b)	__TH_CMP(a, b, >=, true)
#define ASSERT_TRUE(x)	__TH_BOOL(x, true, true)
#define ASSERT_FALSE(x)	__TH_BOOL(x, false, true)
#define ASSERT_MEMEQ(a, b, len)	__TH_MEM(a, b, len, true, true)
#define ASSERT_MEMNE(a, b, len)	__TH_MEM(a, b, len, false, true)

#define EXPECT_EQ(a, b)	__TH_CMP(a, b, ==, false)
#define EXPECT_NE(a, b)	__TH_CMP(a, b, !=, false)
#define EXPECT_LT(a, b)	__TH_CMP(a, b, <, false)
#define EXPECT_GT(a, b)	__TH_CMP(a, b, >, false)
#define EXPECT_LE(a, b)	__TH_CMP(a, b, <=, false)
#define EXPECT_GE(a, b)	__TH_CMP(a, b, >=, false)
#define EXPECT_TRUE(x)	__TH_BOOL(x, true, false)
#define EXPECT_FALSE(x)	__TH_BOOL(x, false, false)
#define EXPECT_MEMEQ(a, b, len)	__TH_MEM(a, b, len, true, false)
#define EXPECT_MEMNE(a, b, len)	__TH_MEM(a, b, len, false, false)

/* errno-style helpers: a syscall result and its errno in one line */
#define ASSERT_ERRNO(call, err) do {					\
	long __r;							\
	errno = 0;							\
	__r = (long)(call);						\
	if (__r != -1 || errno != (err)) {				\
		th_log("%s:%d: expected %s to fail with %s, got %ld (%s)",\
		       __FILE__, __LINE__, #call, strerror(err), __r,	\
		       strerror(errno));				\
		__th_fail(true);					\
	}								\
} while (0)

/* ---- declarations ------------------------------------------------------- */

#define TEST_TIMEOUT(tname, secs)					\
	static void __th_fn_##tname(const void *__variant);		\
	static struct __th_test __th_t_##tname = {			\
		.name = #tname, .fn = __th_fn_##tname, .timeout = secs,	\
	};								\
	__attribute__((constructor)) static void __th_reg_##tname(void)	\
	{ __th_register_test(&__th_t_##tname); }				\
	static void __th_fn_##tname(const void *__variant __attribute__((unused)))

#define TEST(name)	TEST_TIMEOUT(name, TEST_TIMEOUT_DEFAULT)

#define FIXTURE_DATA(f)		struct __th_fdata_##f
#define FIXTURE_VARIANT(f)	struct __th_vdata_##f

#define FIXTURE(f)							\
	FIXTURE_VARIANT(f);						\
	static struct __th_fixture __th_f_##f = { .name = #f };		\
	__attribute__((constructor)) static void __th_regf_##f(void)	\
	{ __th_register_fixture(&__th_f_##f); }				\
	FIXTURE_DATA(f)

#define FIXTURE_SETUP(f)						\
	static void __th_setup_##f(					\
		FIXTURE_DATA(f) *self __attribute__((unused)),		\
		const FIXTURE_VARIANT(f) *variant __attribute__((unused)))

#define FIXTURE_TEARDOWN(f)						\
	static void __th_teardown_##f(					\
		FIXTURE_DATA(f) *self __attribute__((unused)),		\
		const FIXTURE_VARIANT(f) *variant __attribute__((unused)))

#define FIXTURE_VARIANT_ADD(f, v)					\
	static const FIXTURE_VARIANT(f) __th_vd_##f##_##v;		\
	static struct __th_variant __th_v_##f##_##v = {			\
		.name = #v, .data = &__th_vd_##f##_##v,			\
	};								\
	__attribute__((constructor)) static void __th_regv_##f##_##v(void) \
	{ __th_register_variant(&__th_f_##f, &__th_v_##f##_##v); }	\
	static const FIXTURE_VARIANT(f) __th_vd_##f##_##v =

#define TEST_F_TIMEOUT(f, tname, secs)					\
	static void __th_body_##f##_##tname(FIXTURE_DATA(f) *self,	\
		const FIXTURE_VARIANT(f) *variant);			\
	static void __th_fn_##f##_##tname(const void *__variant)		\
	{								\
		/* static: survives the longjmp of a failed ASSERT */	\
		static FIXTURE_DATA(f) self;				\
		static volatile int setup_done;				\
		const FIXTURE_VARIANT(f) *variant = __variant;		\
		memset(&self, 0, sizeof(self));				\
		setup_done = 0;						\
		if (!sigsetjmp(__th.env, 1)) {				\
			__th.in_test = true;				\
			__th_setup_##f(&self, variant);			\
			setup_done = 1;					\
			__th_body_##f##_##tname(&self, variant);		\
		}							\
		if (setup_done) {					\
			setup_done = 0;					\
			if (!sigsetjmp(__th.env, 1))			\
				__th_teardown_##f(&self, variant);	\
		}							\
		__th.in_test = false;					\
	}								\
	static struct __th_test __th_t_##f##_##tname = {			\
		.name = #tname, .fixture = &__th_f_##f,			\
		.fn = __th_fn_##f##_##tname, .timeout = secs,		\
	};								\
	__attribute__((constructor))					\
	static void __th_reg_##f##_##tname(void)				\
	{ __th_register_test(&__th_t_##f##_##tname); }			\
	static void __th_body_##f##_##tname(				\
		FIXTURE_DATA(f) *self __attribute__((unused)),		\
		const FIXTURE_VARIANT(f) *variant __attribute__((unused)))

#define TEST_F(f, name)	TEST_F_TIMEOUT(f, name, TEST_TIMEOUT_DEFAULT)

/* ---- dmesg watch -------------------------------------------------------- */

static int __th_kmsg = -1;

static inline void __th_kmsg_open(void)
{
#ifdef HARNESS_CHECK_DMESG
	__th_kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (__th_kmsg >= 0)
		lseek(__th_kmsg, 0, SEEK_END);
#endif
}

/* Returns the number of bad lines read since the last call. */
static inline int __th_kmsg_scan(void)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "lockdep", "KASAN", "UBSAN",
		"possible circular locking", "general protection",
	};
	char rec[8192];
	int n = 0;
	ssize_t r;
	size_t i;

	if (__th_kmsg < 0)
		return 0;
	for (;;) {
		r = read(__th_kmsg, rec, sizeof(rec) - 1);
		if (r < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			break;
		}
		if (r == 0)
			break;
		rec[r] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				char *semi = strchr(rec, ';');

				printf("# dmesg: %s", semi ? semi + 1 : rec);
				if (rec[r - 1] != '\n')
					printf("\n");
				n++;
				break;
			}
		}
	}
	return n;
}

/* ---- runner ------------------------------------------------------------- */

static inline int __th_wait(pid_t pid, int timeout, int *status)
{
	struct timespec start, now;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int r;

		do
			r = poll(&pfd, 1, timeout * 1000);
		while (r < 0 && errno == EINTR);
		close(pidfd);
		if (r == 0)
			return -1;
		return waitpid(pid, status, 0) == pid ? 0 : -1;
	}
	/* no pidfd: poll waitpid against the clock */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout)
			return -1;
		nanosleep(&ts, NULL);
	}
}

static inline bool __th_selected(const char *full, int argc, char **argv)
{
	bool any = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			any = true;
			if (strstr(full, argv[++i]))
				return true;
		}
	}
	return !any;
}

static inline void __th_fullname(char *buf, size_t len, struct __th_test *t,
				 struct __th_variant *v)
{
	if (!t->fixture)
		snprintf(buf, len, "%s", t->name);
	else if (v)
		snprintf(buf, len, "%s.%s.%s", t->fixture->name, v->name,
			 t->name);
	else
		snprintf(buf, len, "%s.%s", t->fixture->name, t->name);
}

static __attribute__((noinline)) void
__th_run_child(struct __th_test *t, const void *data)
{
	if (t->fixture) {
		/* TEST_F bodies do their own jumps */
		t->fn(data);
	} else if (!sigsetjmp(__th.env, 1)) {
		__th.in_test = true;
		t->fn(NULL);
	}
	__th.in_test = false;
}

static inline int __th_main(int argc, char **argv)
{
	struct __th_result *res;
	struct __th_test *t;
	struct __th_variant *v;
	int total = 0, n = 0, pass = 0, fail = 0, skip = 0, i;
	bool list = false;
	char full[256];

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l"))
			list = true;

	/* count (and list) */
	for (t = __th.tests; t; t = t->next) {
		v = t->fixture ? t->fixture->variants : NULL;
		do {
			__th_fullname(full, sizeof(full), t, v);
			if (__th_selected(full, argc, argv)) {
				total++;
				if (list)
					printf("%s\n", full);
			}
			v = v ? v->next : NULL;
		} while (v);
	}
	if (list)
		return 0;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", total);
	fflush(stdout);
	__th_kmsg_open();
	__th_kmsg_scan();

	for (t = __th.tests; t; t = t->next) {
		v = t->fixture ? t->fixture->variants : NULL;
		do {
			struct __th_variant *cur = v;
			int status = 0, bad;
			pid_t pid;

			v = v ? v->next : NULL;
			__th_fullname(full, sizeof(full), t, cur);
			if (!__th_selected(full, argc, argv))
				continue;
			n++;
			memset(res, 0, sizeof(*res));
			printf("# RUN %s\n", full);
			fflush(stdout);
			fflush(stderr);
			pid = fork();
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				setpgid(0, 0);
				__th.res = res;
				__th_run_child(t, cur ? cur->data : NULL);
				fflush(stdout);
				fflush(stderr);
				_exit(res->failed ? 1 : 0);
			}
			setpgid(pid, pid);
			if (__th_wait(pid, t->timeout, &status)) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				printf("# %s: timeout after %d s\n", full,
				       t->timeout);
				res->failed = 1;
			} else if (WIFSIGNALED(status)) {
				printf("# %s: killed by signal %d\n", full,
				       WTERMSIG(status));
				res->failed = 1;
			} else if (WEXITSTATUS(status) && !res->failed) {
				printf("# %s: exited with %d\n", full,
				       WEXITSTATUS(status));
				res->failed = 1;
			}
			/* whatever the test forked is done with now */
			kill(-pid, SIGKILL);
			bad = __th_kmsg_scan();
			if (bad) {
				printf("# %s: %d bad kernel log line(s)\n",
				       full, bad);
				res->failed = 1;
			}
			if (res->failed) {
				fail++;
				printf("not ok %d %s\n", n, full);
			} else if (res->skipped) {
				skip++;
				printf("ok %d %s # SKIP %s\n", n, full,
				       res->reason);
			} else {
				pass++;
				printf("ok %d %s\n", n, full);
			}
			fflush(stdout);
		} while (v);
	}
	printf("# Totals: pass:%d fail:%d skip:%d\n", pass, fail, skip);
	return fail ? 1 : 0;
}

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return __th_main(argc, argv);				\
	}

#endif /* _KDTLS_HARNESS_H */
