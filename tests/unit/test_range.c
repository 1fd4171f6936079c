/*
 * test_range.c: the Range parser of range.c (RFC 9110 section 14). A table that reads
 * like the RFC and nginx's choices, the arithmetic edges (2^64-1, numbers of any length,
 * huge suffixes, a zero-length file, the largest sizes), the limits (100 ranges,
 * overlaps), every input fed whole and as each of its prefixes from a buffer of exactly
 * that size (so AddressSanitizer sees any read past the end), and a randomised
 * comparison with a reference written the obvious way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "range.h"

#define S(lit) lit, sizeof(lit) - 1
#define MAX64 UINT64_MAX

struct range_case {
	const char *in;
	size_t n;
	uint64_t size;
	enum hs__range_status want;
	size_t count;
	struct hs__range r[3];
};

static const struct range_case cases[] = {
	/* RFC 9110 14.1.2's examples, for a 10000-byte representation */
	{S("bytes=0-499"), 10000, HS__RANGE_PARTIAL, 1, {{0, 499}}},
	{S("bytes=500-999"), 10000, HS__RANGE_PARTIAL, 1, {{500, 999}}},
	{S("bytes=-500"), 10000, HS__RANGE_PARTIAL, 1, {{9500, 9999}}},
	{S("bytes=9500-"), 10000, HS__RANGE_PARTIAL, 1, {{9500, 9999}}},
	{S("bytes=0-0,-1"), 10000, HS__RANGE_PARTIAL, 2, {{0, 0}, {9999, 9999}}},
	{S("bytes=500-600,601-999"), 10000, HS__RANGE_PARTIAL, 2, {{500, 600}, {601, 999}}},
	{S("bytes=500-700,601-999"), 10000, HS__RANGE_WHOLE, 0, {{0, 0}}}, /* overlap */
	/* syntax: unit case, list whitespace, empty elements, order kept */
	{S("BYTES=0-1"), 10, HS__RANGE_PARTIAL, 1, {{0, 1}}},
	{S("Bytes=0-1 , 3-4"), 10, HS__RANGE_PARTIAL, 2, {{0, 1}, {3, 4}}},
	{S("bytes=0-1\t,\t3-4"), 10, HS__RANGE_PARTIAL, 2, {{0, 1}, {3, 4}}},
	{S("bytes=,0-1,,3-4,"), 10, HS__RANGE_PARTIAL, 2, {{0, 1}, {3, 4}}},
	{S("bytes= 0-1"), 10, HS__RANGE_PARTIAL, 1, {{0, 1}}},
	{S("bytes=5-6,0-1,8-"), 10, HS__RANGE_PARTIAL, 3, {{5, 6}, {0, 1}, {8, 9}}},
	{S("bytes=0-4,5-9"), 10, HS__RANGE_PARTIAL, 2, {{0, 4}, {5, 9}}}, /* adjacent */
	{S("bytes=5-5"), 10, HS__RANGE_PARTIAL, 1, {{5, 5}}},
	{S("bytes=0-"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=000005-0000007"), 10, HS__RANGE_PARTIAL, 1, {{5, 7}}},
	/* invalid anywhere: the field is ignored, even after a good range, never a 416 */
	{S(""), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes="), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=,"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes= "), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("items=0-1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes =0-1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes:0-1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0 -1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0- 1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=1-0"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0-1,5-4"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=a-b"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=-"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=--1"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=1--2"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=-1-2"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=+1-2"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0x1-2"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=1-2-3"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=1-2;x"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0-1 3-4"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0-1,x"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=20-30,x"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0-1\0"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=\xff"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=1.5-2"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	/* unsatisfiable: 416, unless another range is satisfiable */
	{S("bytes=10-"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=10-20"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=-0"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=-0,10-,11-12"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=-0,10-,2-3"), 10, HS__RANGE_PARTIAL, 1, {{2, 3}}},
	{S("bytes=9-"), 10, HS__RANGE_PARTIAL, 1, {{9, 9}}},
	/* numbers past 64 bits: clamped or unsatisfiable, compared exactly */
	{S("bytes=0-99999999999999999999999"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=0-18446744073709551615"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=0-18446744073709551616"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=18446744073709551615-"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=18446744073709551614-18446744073709551615"), 10, HS__RANGE_UNSATISFIABLE, 0,
	 {{0, 0}}},
	{S("bytes=18446744073709551616-"), 10, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=-18446744073709551615"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=-18446744073709551616"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=-999999999999999999999999999999999999999"), 10, HS__RANGE_PARTIAL, 1, {{0, 9}}},
	{S("bytes=99999999999999999999999-99999999999999999999998"), 10, HS__RANGE_IGNORE, 0,
	 {{0, 0}}},
	{S("bytes=99999999999999999999998-99999999999999999999999"), 10,
	 HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=18446744073709551616-18446744073709551615"), 10, HS__RANGE_IGNORE, 0, {{0, 0}}},
	{S("bytes=0000000000000000000000000000001-00000000000000000000000000000000002"), 10,
	 HS__RANGE_PARTIAL, 1, {{1, 2}}},
	/* the largest sizes: off_t's maximum and 2^64-1 */
	{S("bytes=9223372036854775806-"), INT64_MAX, HS__RANGE_PARTIAL, 1,
	 {{INT64_MAX - 1, INT64_MAX - 1}}},
	{S("bytes=-1"), INT64_MAX, HS__RANGE_PARTIAL, 1, {{INT64_MAX - 1, INT64_MAX - 1}}},
	{S("bytes=0-"), INT64_MAX, HS__RANGE_PARTIAL, 1, {{0, INT64_MAX - 1}}},
	{S("bytes=9223372036854775807-"), INT64_MAX, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=18446744073709551614-"), MAX64, HS__RANGE_PARTIAL, 1, {{MAX64 - 1, MAX64 - 1}}},
	{S("bytes=18446744073709551615-"), MAX64, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=-18446744073709551615"), MAX64, HS__RANGE_PARTIAL, 1, {{0, MAX64 - 1}}},
	{S("bytes=-18446744073709551614"), MAX64, HS__RANGE_PARTIAL, 1, {{1, MAX64 - 1}}},
	{S("bytes=0-18446744073709551615"), MAX64, HS__RANGE_PARTIAL, 1, {{0, MAX64 - 1}}},
	/* a zero-length file: "0-" and suffixes are the (empty) file, as nginx answers */
	{S("bytes=0-"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=0-0"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=000-5"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=-5"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=-0"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=-18446744073709551615"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=1-"), 0, HS__RANGE_UNSATISFIABLE, 0, {{0, 0}}},
	{S("bytes=1-2,0-"), 0, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=0-,x"), 0, HS__RANGE_IGNORE, 0, {{0, 0}}},
	/* overlaps get the whole file: never more bytes than the file */
	{S("bytes=0-,0-"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=-1,9-"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=0-5,5-9"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=5-9,0-5"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=2-3,0-9"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
	{S("bytes=0-0,2-2,0-0"), 10, HS__RANGE_WHOLE, 0, {{0, 0}}},
};

/* Parses from a heap copy of exactly n bytes. */
static enum hs__range_status parse_exact(const char *in, size_t n, uint64_t size,
                                         struct hs__range *out, size_t *count)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, in, n);
	enum hs__range_status st = hs__range_parse(copy, n, size, out, count);
	free(copy);
	return st;
}

/* What every answer must satisfy: ranges inside the file, disjoint, at most the limit. */
static bool sane(enum hs__range_status st, const struct hs__range *r, size_t count,
                 uint64_t size)
{
	if (st != HS__RANGE_PARTIAL)
		return count == 0;
	if (count == 0 || count > HS__MAX_RANGES)
		return false;
	uint64_t total = 0;
	for (size_t a = 0; a < count; a++) {
		if (r[a].first > r[a].last || r[a].last >= size)
			return false;
		total += r[a].last - r[a].first + 1;
		for (size_t b = a + 1; b < count; b++)
			if (r[a].first <= r[b].last && r[b].first <= r[a].last)
				return false;
	}
	return total <= size;
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct range_case *c = &cases[i];
		struct hs__range out[HS__MAX_RANGES];
		size_t count = 99;
		enum hs__range_status st = parse_exact(c->in, c->n, c->size, out, &count);
		int before = check_failures;
		CHECK_INT(st, c->want);
		CHECK_INT(count, c->count);
		for (size_t k = 0; k < c->count && k < count; k++) {
			CHECK(out[k].first == c->r[k].first);
			CHECK(out[k].last == c->r[k].last);
		}
		if (check_failures != before)
			fprintf(stderr, "  in case %zu: [%.*s] size %llu\n", i, (int)c->n, c->in,
			        (unsigned long long)c->size);
	}
}

/* Every prefix of every case, parsed from an exact-size buffer: no read past the end,
 * and a sane answer. */
static void test_prefixes(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (size_t k = 0; k <= cases[i].n; k++) {
			struct hs__range out[HS__MAX_RANGES];
			size_t count;
			enum hs__range_status st = parse_exact(cases[i].in, k, cases[i].size, out, &count);
			CHECK(sane(st, out, count, cases[i].size));
		}
}

/* n ranges "0-0,2-2,4-4,...", plus a tail. */
static char *many(size_t n, const char *tail)
{
	size_t cap = 16 + n * 24 + strlen(tail);
	char *s = malloc(cap);
	size_t len = (size_t)snprintf(s, cap, "bytes=");
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(s + len, cap - len, "%s%zu-%zu", k ? "," : "", 2 * k, 2 * k);
	snprintf(s + len, cap - len, "%s", tail);
	return s;
}

static void test_limits(void)
{
	struct hs__range out[HS__MAX_RANGES];
	size_t count;
	char *s = many(100, "");
	CHECK_INT(hs__range_parse(s, strlen(s), 1000, out, &count), HS__RANGE_PARTIAL);
	CHECK_INT(count, 100);
	CHECK(out[99].first == 198 && out[99].last == 198);
	free(s);
	s = many(101, "");
	CHECK_INT(hs__range_parse(s, strlen(s), 1000, out, &count), HS__RANGE_WHOLE);
	free(s);
	s = many(100, ",5000-6000,-0"); /* unsatisfiable ones do not count */
	CHECK_INT(hs__range_parse(s, strlen(s), 1000, out, &count), HS__RANGE_PARTIAL);
	CHECK_INT(count, 100);
	free(s);
	s = many(5000, ",x"); /* a long invalid field costs one pass and is ignored */
	CHECK_INT(hs__range_parse(s, strlen(s), 100000, out, &count), HS__RANGE_IGNORE);
	free(s);
	/* the "Apache killer": thousands of overlapping ranges */
	char big[64 * 1024];
	size_t len = (size_t)snprintf(big, sizeof big, "bytes=0-");
	while (len + 8 < sizeof big)
		len += (size_t)snprintf(big + len, sizeof big - len, ",5-,0-");
	CHECK_INT(hs__range_parse(big, len, 1 << 20, out, &count), HS__RANGE_WHOLE);
}

/* ------------------------------------------------------------ the reference */

static bool all_digits(const char *p, size_t n)
{
	return n > 0 && strspn(p, "0123456789") >= n;
}

/* The obvious reading of RFC 9110 14 with nginx's choices, on small numbers: split on
 * commas, trim, match each element against -N or A- or A-B, then decide. */
static enum hs__range_status reference(const char *s, uint64_t size, struct hs__range *out,
                                       size_t *count)
{
	char buf[256];
	size_t found = 0, specs = 0;
	bool whole = false;
	*count = 0;
	if (strncmp(s, "bytes=", 6) != 0)
		return HS__RANGE_IGNORE;
	snprintf(buf, sizeof buf, "%s", s + 6);
	for (char *save = NULL, *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		while (*e == ' ')
			e++;
		size_t n = strlen(e);
		while (n && e[n - 1] == ' ')
			e[--n] = '\0';
		if (n == 0)
			continue;
		const char *dash = strchr(e, '-');
		bool suffix = dash == e;
		size_t alen = dash ? (size_t)(dash - e) : 0, blen = dash ? n - alen - 1 : 0;
		if (!dash || (suffix ? !all_digits(e + 1, blen)
		                     : !all_digits(e, alen) || (blen && !all_digits(dash + 1, blen))))
			return HS__RANGE_IGNORE;
		unsigned long long a = suffix ? 0 : strtoull(e, NULL, 10);
		unsigned long long b = blen ? strtoull(dash + 1, NULL, 10) : 0;
		bool has_last = !suffix && blen > 0;
		if (has_last && b < a)
			return HS__RANGE_IGNORE;
		specs++;
		if (size == 0 && (suffix || a == 0)) {
			whole = true;
			continue;
		}
		if ((suffix && (b == 0 || size == 0)) || (!suffix && a >= size))
			continue;
		uint64_t first = suffix ? (b >= size ? 0 : size - b) : a;
		uint64_t last = suffix || !has_last || b >= size ? size - 1 : b;
		if (found < HS__MAX_RANGES)
			out[found] = (struct hs__range){first, last};
		found++;
	}
	if (specs == 0)
		return HS__RANGE_IGNORE;
	if (whole)
		return HS__RANGE_WHOLE;
	if (found == 0)
		return HS__RANGE_UNSATISFIABLE;
	if (found > HS__MAX_RANGES || !sane(HS__RANGE_PARTIAL, out, found, size))
		return HS__RANGE_WHOLE;
	*count = found;
	return HS__RANGE_PARTIAL;
}

static unsigned next_random(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* Random fields over a small alphabet, compared with the reference. */
static void test_against_reference(void)
{
	static const char alphabet[] = "0123456789--,, ";
	unsigned seed = 12345;
	int mismatches = 0;
	for (int iter = 0; iter < 200000; iter++) {
		char s[40] = "bytes=";
		size_t len = 6 + next_random(&seed) % 12;
		for (size_t k = 6; k < len; k++)
			s[k] = alphabet[next_random(&seed) % (sizeof alphabet - 1)];
		s[len] = '\0';
		uint64_t size = next_random(&seed) % 24;
		struct hs__range a[HS__MAX_RANGES], b[HS__MAX_RANGES];
		size_t na, nb;
		enum hs__range_status sa = parse_exact(s, len, size, a, &na);
		enum hs__range_status sb = reference(s, size, b, &nb);
		bool same = sa == sb && na == nb;
		for (size_t k = 0; same && k < na; k++)
			same = a[k].first == b[k].first && a[k].last == b[k].last;
		if (!same && mismatches++ < 10)
			fprintf(stderr, "reference differs on [%s] size %llu: %d/%zu vs %d/%zu\n", s,
			        (unsigned long long)size, sa, na, sb, nb);
		check_count++;
		if (!same)
			check_failures++;
	}
}

int main(void)
{
	test_table();
	test_prefixes();
	test_limits();
	test_against_reference();
	return check_done("test_range");
}
