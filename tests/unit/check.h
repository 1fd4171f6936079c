/*
 * check.h: the smallest test harness that reads well. CHECK(cond) records a failure
 * with file and line and goes on; CHECK_STR and CHECK_MEM compare and print both sides;
 * check_done() prints the tally and gives main's exit status. One test program per
 * source file; each is a table of cases that reads like the specification.
 */
#ifndef HS_CHECK_H
#define HS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                  \
	do {                                                                             \
		check_count++;                                                               \
		if (!(cond)) {                                                               \
			check_failures++;                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                            \
	} while (0)

#define CHECK_MEM(got, got_len, want, want_len)                                       \
	do {                                                                              \
		const char *g_ = (const char *)(got), *w_ = (const char *)(want);             \
		size_t gl_ = (got_len), wl_ = (want_len);                                     \
		check_count++;                                                                \
		if (gl_ != wl_ || memcmp(g_, w_, gl_) != 0) {                                 \
			check_failures++;                                                         \
			fprintf(stderr, "%s:%d: got  [%.*s] (%zu)\n%s:%d: want [%.*s] (%zu)\n",   \
			        __FILE__, __LINE__, (int)gl_, g_, gl_, __FILE__, __LINE__, (int)wl_, \
			        w_, wl_);                                                         \
		}                                                                             \
	} while (0)

#define CHECK_STR(got, want)                                                \
	do {                                                                    \
		const char *gs_ = (got), *ws_ = (want);                             \
		if (!gs_) gs_ = "(null)";                                           \
		if (!ws_) ws_ = "(null)";                                           \
		CHECK_MEM(gs_, strlen(gs_), ws_, strlen(ws_));                      \
	} while (0)

#define CHECK_INT(got, want)                                                          \
	do {                                                                              \
		long long gi_ = (long long)(got), wi_ = (long long)(want);                    \
		check_count++;                                                                \
		if (gi_ != wi_) {                                                             \
			check_failures++;                                                         \
			fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #got, \
			        gi_, wi_);                                                        \
		}                                                                             \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
