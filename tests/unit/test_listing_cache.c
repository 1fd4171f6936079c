/*
 * test_listing_cache.c: the listing cache of listing_cache.c, which static.c consults
 * with one fstat per request. The racy rule on hand-made stamps and clocks (a
 * directory changed less than 2 s ago, or in the future, is never kept; no overflow on
 * absurd times), hits only under the exact stamp (a stale page is dropped), the bounds
 * on entries and bytes with the least recently used page out first, pages that stay
 * valid while a request holds them after the table let go, the spare scratch buffers,
 * the NULL cache that allocation failure leaves, and two threads sharing one cache.
 */
#include <pthread.h>

#include "internal.h"
#include "check.h"

static struct timespec ts(int64_t sec, long nsec)
{
	return (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = nsec};
}

static struct hs__lcache_stamp stamp(int64_t mtime, int64_t ctime, int64_t size)
{
	return (struct hs__lcache_stamp){.mtime = ts(mtime, 5), .ctime = ts(ctime, 7), .size = size};
}

static void test_racy_rule(void)
{
	struct timespec now = ts(1000, 500);
	struct hs__lcache_stamp s = stamp(990, 990, 4096);
	CHECK(hs__lcache_settled(&s, &now));
	/* exactly 2 s: settled; a nanosecond less: not */
	s = (struct hs__lcache_stamp){.mtime = ts(998, 500), .ctime = ts(998, 500)};
	CHECK(hs__lcache_settled(&s, &now));
	s.ctime = ts(998, 501);
	CHECK(!hs__lcache_settled(&s, &now));
	/* either time recent is enough to refuse: utime can set mtime back, not ctime */
	s = stamp(100, 999, 0);
	CHECK(!hs__lcache_settled(&s, &now));
	s = stamp(999, 100, 0);
	CHECK(!hs__lcache_settled(&s, &now));
	s = stamp(1000, 100, 0); /* this very second */
	CHECK(!hs__lcache_settled(&s, &now));
	s = stamp(5000, 100, 0); /* in the future (a clock set back, a remote file system) */
	CHECK(!hs__lcache_settled(&s, &now));
	/* absurd times neither overflow nor pass for settled when they are not */
	s = stamp(INT64_MIN, INT64_MIN, 0);
	CHECK(hs__lcache_settled(&s, &now));
	s = stamp(INT64_MAX, 0, 0);
	CHECK(!hs__lcache_settled(&s, &now));
	struct timespec late = ts(INT64_MAX, 0);
	s = stamp(INT64_MIN, INT64_MIN, 0);
	CHECK(hs__lcache_settled(&s, &late));
}

static const struct timespec later = {.tv_sec = 100000, .tv_nsec = 0};

/* A page of key (k, k) under stamp(k, k, size) holding text. */
static int put(struct hs__lcache *lc, uint64_t k, int64_t size, const char *text)
{
	struct hs__lcache_key key = {k, k, 0};
	struct hs__lcache_stamp s = stamp((int64_t)k, (int64_t)k, size);
	return hs__lcache_put(lc, &key, &s, &later, text, strlen(text));
}

/* Whether key (k, k) hits under stamp(k, k, size), and with text when want is given. */
static bool hits(struct hs__lcache *lc, uint64_t k, int64_t size, const char *want)
{
	struct hs__lcache_key key = {k, k, 0};
	struct hs__lcache_stamp s = stamp((int64_t)k, (int64_t)k, size);
	struct hs__span body;
	struct hs__lpage *p = hs__lcache_get(lc, &key, &s, &body);
	if (p && want)
		CHECK_MEM(body.p, body.n, want, strlen(want));
	hs__lpage_release(p);
	return p != NULL;
}

static void test_hit_only_under_the_same_stamp(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 8, 4096), 0);
	CHECK(!hits(lc, 1, 10, NULL));
	CHECK_INT(put(lc, 1, 10, "<li>one</li>\n"), 0);
	CHECK(hits(lc, 1, 10, "<li>one</li>\n"));
	CHECK(hits(lc, 1, 10, "<li>one</li>\n"));
	CHECK(!hits(lc, 2, 10, NULL)); /* another directory */
	/* the same directory under another stamp: a miss, and the stale page is gone */
	CHECK(!hits(lc, 1, 11, NULL));
	CHECK(!hits(lc, 1, 10, NULL));
	/* every field of the stamp counts, nanoseconds included */
	CHECK_INT(put(lc, 3, 10, "three"), 0);
	struct hs__lcache_key key = {3, 3, 0};
	struct hs__lcache_stamp s = stamp(3, 3, 10);
	struct hs__span body;
	s.mtime.tv_nsec++;
	CHECK(hs__lcache_get(lc, &key, &s, &body) == NULL);
	CHECK_INT(put(lc, 3, 10, "three"), 0);
	s = stamp(3, 3, 10);
	s.ctime.tv_nsec++;
	CHECK(hs__lcache_get(lc, &key, &s, &body) == NULL);
	/* same (dev, ino) matters as a pair */
	CHECK_INT(put(lc, 4, 10, "four"), 0);
	key = (struct hs__lcache_key){4, 5, 0};
	s = stamp(4, 4, 10);
	CHECK(hs__lcache_get(lc, &key, &s, &body) == NULL);
	/* a second put of one directory replaces its page */
	CHECK_INT(put(lc, 4, 10, "four again"), 0);
	CHECK(hits(lc, 4, 10, "four again"));
	/* an empty directory's page is empty, and still a hit */
	CHECK_INT(put(lc, 6, 0, ""), 0);
	CHECK(hits(lc, 6, 0, ""));
	hs__lcache_free(lc);
}

static void test_racy_stamp_is_not_kept(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 8, 4096), 0);
	struct hs__lcache_key key = {7, 7, 0};
	struct hs__lcache_stamp s = stamp(later.tv_sec - 1, 7, 3);
	CHECK_INT(hs__lcache_put(lc, &key, &s, &later, "abc", 3), -EAGAIN);
	struct hs__span body;
	CHECK(hs__lcache_get(lc, &key, &s, &body) == NULL);
	hs__lcache_free(lc);
}

static void test_bounds(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 3, 400), 0);
	/* entries: the least recently used goes first, a hit counts as a use */
	CHECK_INT(put(lc, 1, 0, "a"), 0);
	CHECK_INT(put(lc, 2, 0, "b"), 0);
	CHECK_INT(put(lc, 3, 0, "c"), 0);
	CHECK(hits(lc, 1, 0, "a"));
	CHECK_INT(put(lc, 4, 0, "d"), 0); /* evicts 2 */
	CHECK(!hits(lc, 2, 0, NULL));
	CHECK(hits(lc, 1, 0, "a") && hits(lc, 3, 0, "c") && hits(lc, 4, 0, "d"));
	hs__lcache_free(lc);
	/* bytes: pages of up to a quarter of the bound, evicted to make room */
	char hundred[101], big[102];
	memset(hundred, 'x', 100), hundred[100] = '\0';
	memset(big, 'y', 101), big[101] = '\0';
	CHECK_INT(hs__lcache_new(&lc, 64, 400), 0);
	CHECK_INT(put(lc, 9, 0, big), -EFBIG);
	CHECK(!hits(lc, 9, 0, NULL));
	for (uint64_t k = 1; k <= 4; k++)
		CHECK_INT(put(lc, k, 0, hundred), 0);
	CHECK(hits(lc, 1, 0, hundred));
	CHECK_INT(put(lc, 5, 0, hundred), 0); /* 500 bytes > 400: the oldest (2) goes */
	CHECK(!hits(lc, 2, 0, NULL));
	CHECK(hits(lc, 1, 0, NULL) && hits(lc, 3, 0, NULL) && hits(lc, 4, 0, NULL) &&
	      hits(lc, 5, 0, NULL));
	hs__lcache_free(lc);
	/* no room at all: nothing is kept */
	CHECK_INT(hs__lcache_new(&lc, 0, 400), 0);
	CHECK_INT(put(lc, 1, 0, "a"), -EFBIG);
	hs__lcache_free(lc);
}

/* A page a request holds outlives its eviction and the table's replacement of it (ASan
 * would see a use after free). */
static void test_held_page_outlives_the_table(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 1, 4096), 0);
	CHECK_INT(put(lc, 1, 0, "held page"), 0);
	struct hs__lcache_key key = {1, 1, 0};
	struct hs__lcache_stamp s = stamp(1, 1, 0);
	struct hs__span body;
	struct hs__lpage *p = hs__lcache_get(lc, &key, &s, &body);
	CHECK(p != NULL);
	CHECK_INT(put(lc, 2, 0, "evicts it"), 0);
	CHECK(!hits(lc, 1, 0, NULL)); /* the table let go */
	CHECK_MEM(body.p, body.n, "held page", 9);
	struct hs__lcache_key key2 = {2, 2, 0};
	struct hs__lcache_stamp s2 = stamp(2, 2, 0);
	struct hs__lpage *q = hs__lcache_get(lc, &key2, &s2, &body);
	CHECK(q != NULL);
	hs__lcache_free(lc); /* a page still held is freed by its last release */
	CHECK_MEM(body.p, body.n, "evicts it", 9);
	hs__lpage_release(q);
	hs__lpage_release(p);
}

/* Allocation failure at hs_static_init leaves no cache: every call still works. */
static void test_no_cache(void)
{
	struct hs__lcache_key key = {1, 1, 0};
	struct hs__lcache_stamp s = stamp(1, 1, 0);
	struct hs__span body;
	CHECK(hs__lcache_get(NULL, &key, &s, &body) == NULL);
	CHECK_INT(hs__lcache_put(NULL, &key, &s, &later, "x", 1), -ENOMEM);
	struct hs__lscratch *sc = hs__lcache_take_scratch(NULL);
	CHECK(sc != NULL);
	CHECK_INT(hs__buf_puts(&sc->body, "grown"), 0);
	hs__lcache_give_scratch(NULL, sc); /* freed: ASan/valgrind see no leak */
	hs__lcache_give_scratch(NULL, NULL);
	hs__lcache_free(NULL);
	hs__lpage_release(NULL);
}

static void test_scratch_is_reused(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 4, 4096), 0);
	struct hs__lscratch *a = hs__lcache_take_scratch(lc), *b = hs__lcache_take_scratch(lc);
	CHECK(a && b && a != b);
	CHECK_INT(hs__buf_puts(&a->raw, "kept capacity"), 0);
	hs__lcache_give_scratch(lc, a);
	CHECK(hs__lcache_take_scratch(lc) == a);
	CHECK(a->raw.cap > 0); /* buffers come back with their capacity */
	/* a set grown past the bound is freed, not kept */
	CHECK_INT(hs__buf_reserve(&b->body, 2u << 20), 0);
	hs__lcache_give_scratch(lc, b);
	struct hs__lscratch *c = hs__lcache_take_scratch(lc);
	CHECK(c != NULL && c->body.cap == 0);
	hs__lcache_give_scratch(lc, c);
	hs__lcache_give_scratch(lc, a);
	hs__lcache_free(lc); /* frees the spares */
}

/* Two threads on one small cache: puts, hits, misses under other stamps, evictions.
 * Each thread counts its own wrong pages (CHECK's counters are not for threads). */
static void *hammer(void *arg)
{
	struct hs__lcache *lc = arg;
	char text[64];
	size_t wrong = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		uint64_t k = i % 7;
		struct hs__lcache_key key = {k, k, 0};
		struct hs__lcache_stamp s = stamp((int64_t)k, (int64_t)k, (int64_t)(i % 2));
		int n = snprintf(text, sizeof text, "page of %llu", (unsigned long long)k);
		struct hs__span body;
		if (i % 3 == 0) {
			hs__lcache_put(lc, &key, &s, &later, text, (size_t)n);
			continue;
		}
		struct hs__lpage *p = hs__lcache_get(lc, &key, &s, &body);
		wrong += p && (body.n != (size_t)n || memcmp(body.p, text, body.n) != 0);
		hs__lpage_release(p);
	}
	return (void *)(uintptr_t)wrong;
}

static void test_threads(void)
{
	struct hs__lcache *lc;
	CHECK_INT(hs__lcache_new(&lc, 4, 1 << 20), 0);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, hammer, lc), 0);
	for (int i = 0; i < 2; i++) {
		void *wrong;
		pthread_join(t[i], &wrong);
		CHECK_INT((uintptr_t)wrong, 0);
	}
	hs__lcache_free(lc);
}

int main(void)
{
	test_racy_rule();
	test_hit_only_under_the_same_stamp();
	test_racy_stamp_is_not_kept();
	test_bounds();
	test_held_page_outlives_the_table();
	test_no_cache();
	test_scratch_is_reused();
	test_threads();
	return check_done("test_listing_cache");
}
