/*
 * test_conditional.c: validators and conditional requests of conditional.c (RFC 9110
 * sections 8.8 and 13). The ETag's form and stability; entity-tag lists for If-Match
 * (strong) and If-None-Match (weak), each fed whole, as every prefix from an exact-size
 * buffer, and split into field lines at every comma; the precondition order of 13.2.2
 * with Python's If-Modified-Since kept; and If-Range with tags and dates.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "range.h"

#define S(lit) lit, sizeof(lit) - 1
#define TAG "\"1f-6-6553f100.000000000\""

static void test_etag_format(void)
{
	char out[HS__ETAG_MAX];
	CHECK_INT(hs__etag_format(out, 0x1f, 6, 1700000000, 0), strlen(TAG));
	CHECK_STR(out, TAG);
	hs__etag_format(out, 0x1f, 6, 1700000000, 123456789);
	CHECK_STR(out, "\"1f-6-6553f100.123456789\"");
	/* the largest of everything still fits, quotes and NUL included */
	size_t n = hs__etag_format(out, UINT64_MAX, UINT64_MAX, INT64_MIN, 999999999);
	CHECK(n < HS__ETAG_MAX && out[0] == '"' && out[n - 1] == '"');
	CHECK_STR(out, "\"ffffffffffffffff-ffffffffffffffff-8000000000000000.999999999\"");
	/* the same version gives the same tag: nothing random or per-process goes in */
	char again[HS__ETAG_MAX];
	hs__etag_format(again, UINT64_MAX, UINT64_MAX, INT64_MIN, 999999999);
	CHECK_STR(again, out);
}

struct list_case {
	const char *in;
	size_t n;
	enum hs__etag_match weak, strong; /* against TAG */
};

static const struct list_case lists[] = {
	{S(TAG), HS__ETAG_MATCH, HS__ETAG_MATCH},
	{S("W/" TAG), HS__ETAG_MATCH, HS__ETAG_NO_MATCH},
	{S("\"x\", " TAG), HS__ETAG_MATCH, HS__ETAG_MATCH},
	{S("\"x\",W/" TAG ",\"y\""), HS__ETAG_MATCH, HS__ETAG_NO_MATCH},
	{S(" \t" TAG " \t"), HS__ETAG_MATCH, HS__ETAG_MATCH},
	{S(",," TAG ",,"), HS__ETAG_MATCH, HS__ETAG_MATCH},
	{S("\"x\""), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	{S("\"\""), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	{S("\"\x80\xff\""), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH}, /* obs-text */
	{S("\"1F-6-6553F100.000000000\""), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	{S("*"), HS__ETAG_MATCH, HS__ETAG_MATCH},
	{S("  *  "), HS__ETAG_MATCH, HS__ETAG_MATCH},
	/* "#entity-tag" allows an empty list: valid, matching nothing */
	{S(""), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	{S(" "), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	{S(", ,"), HS__ETAG_NO_MATCH, HS__ETAG_NO_MATCH},
	/* invalid lists match nothing, even when a good tag comes first */
	{S("*, " TAG), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S(TAG ", *"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("**"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("1f-6-6553f100.000000000"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("\"1f-6"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S(TAG " \"x\""), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S(TAG ", garbage"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S(TAG "x"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("w/" TAG), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("W/ " TAG), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("W/"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("W"), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("\"a b\""), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("\"a\"b\""), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("\"a\x7f\""), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S("\"a\0\""), HS__ETAG_INVALID, HS__ETAG_INVALID},
	{S(TAG "\0"), HS__ETAG_INVALID, HS__ETAG_INVALID},
};

static enum hs__etag_match match_exact(const char *in, size_t n, const char *etag, bool weak)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, in, n);
	enum hs__etag_match m = hs__etag_list_match(copy, n, etag, weak);
	free(copy);
	return m;
}

/* The list as several field lines, cut at each comma, combined as match_lines does. */
static enum hs__etag_match match_split(const char *in, size_t n, size_t cut, bool weak)
{
	enum hs__etag_match a = match_exact(in, cut, TAG, weak);
	enum hs__etag_match b = match_exact(in + cut + 1, n - cut - 1, TAG, weak);
	if (a == HS__ETAG_INVALID || b == HS__ETAG_INVALID)
		return HS__ETAG_INVALID;
	return a == HS__ETAG_MATCH || b == HS__ETAG_MATCH ? HS__ETAG_MATCH : HS__ETAG_NO_MATCH;
}

static void test_lists(void)
{
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		const struct list_case *c = &lists[i];
		int before = check_failures;
		CHECK_INT(match_exact(c->in, c->n, TAG, true), c->weak);
		CHECK_INT(match_exact(c->in, c->n, TAG, false), c->strong);
		/* no ETag at all (a listing): only "*" matches */
		enum hs__etag_match none = match_exact(c->in, c->n, NULL, true);
		CHECK_INT(none, c->weak == HS__ETAG_MATCH && c->in[strspn(c->in, " \t")] != '*'
		                    ? HS__ETAG_NO_MATCH : c->weak);
		for (size_t k = 0; k <= c->n; k++) /* every prefix: no read past it */
			CHECK(match_exact(c->in, k, TAG, true) <= HS__ETAG_INVALID);
		for (size_t k = 0; k < c->n; k++) /* one list on two lines is the same list */
			if (c->in[k] == ',' && c->in[strspn(c->in, " \t")] != '*' && c->weak != HS__ETAG_INVALID)
				CHECK_INT(match_split(c->in, c->n, k, true), c->weak);
		if (check_failures != before)
			fprintf(stderr, "  in list case %zu: [%.*s]\n", i, (int)c->n, c->in);
	}
}

/* ------------------------------------------------------------ preconditions */

#define MTIME 1700000000 /* Tue, 14 Nov 2023 22:13:20 GMT */
#define LM "Tue, 14 Nov 2023 22:13:20 GMT"
#define LATER "Wed, 15 Nov 2023 00:00:00 GMT"
#define EARLIER "Tue, 14 Nov 2023 22:13:19 GMT"

struct precond_case {
	const char *name;
	struct hs_header h[4];
	enum hs__precondition want;
};

static const struct precond_case preconds[] = {
	{"no condition", {{NULL, NULL}}, HS__PRECOND_PROCEED},
	{"If-Match: the tag", {{"If-Match", TAG}}, HS__PRECOND_PROCEED},
	{"If-Match: *", {{"if-match", "*"}}, HS__PRECOND_PROCEED},
	{"If-Match: another tag", {{"If-Match", "\"x\""}}, HS__PRECOND_FAILED},
	{"If-Match: weak tags never match", {{"If-Match", "W/" TAG}}, HS__PRECOND_FAILED},
	{"If-Match: invalid", {{"If-Match", "garbage"}}, HS__PRECOND_FAILED},
	{"If-Match on two lines", {{"If-Match", "\"x\""}, {"If-Match", TAG}}, HS__PRECOND_PROCEED},
	{"If-Match wins over If-Unmodified-Since",
	 {{"If-Match", TAG}, {"If-Unmodified-Since", EARLIER}}, HS__PRECOND_PROCEED},
	{"If-Unmodified-Since earlier", {{"If-Unmodified-Since", EARLIER}}, HS__PRECOND_FAILED},
	{"If-Unmodified-Since equal", {{"If-Unmodified-Since", LM}}, HS__PRECOND_PROCEED},
	{"If-Unmodified-Since later", {{"If-Unmodified-Since", LATER}}, HS__PRECOND_PROCEED},
	{"If-Unmodified-Since invalid: ignored", {{"If-Unmodified-Since", "x"}}, HS__PRECOND_PROCEED},
	{"If-Unmodified-Since as a list: ignored",
	 {{"If-Unmodified-Since", EARLIER}, {"If-Unmodified-Since", EARLIER}}, HS__PRECOND_PROCEED},
	{"If-None-Match: the tag", {{"If-None-Match", TAG}}, HS__PRECOND_NOT_MODIFIED},
	{"If-None-Match: weak compare", {{"If-None-Match", "W/" TAG}}, HS__PRECOND_NOT_MODIFIED},
	{"If-None-Match: *", {{"If-None-Match", "*"}}, HS__PRECOND_NOT_MODIFIED},
	{"If-None-Match: another", {{"If-None-Match", "\"x\""}}, HS__PRECOND_PROCEED},
	{"If-None-Match: invalid", {{"If-None-Match", "x"}}, HS__PRECOND_PROCEED},
	{"If-None-Match on a second line", {{"If-None-Match", "\"x\""}, {"If-None-Match", TAG}},
	 HS__PRECOND_NOT_MODIFIED},
	{"If-None-Match wins over If-Modified-Since",
	 {{"If-None-Match", "\"x\""}, {"If-Modified-Since", LM}}, HS__PRECOND_PROCEED},
	{"If-None-Match wins over If-Modified-Since, matching",
	 {{"If-Modified-Since", EARLIER}, {"If-None-Match", TAG}}, HS__PRECOND_NOT_MODIFIED},
	{"If-Modified-Since equal", {{"If-Modified-Since", LM}}, HS__PRECOND_NOT_MODIFIED},
	{"If-Modified-Since later", {{"If-Modified-Since", LATER}}, HS__PRECOND_NOT_MODIFIED},
	{"If-Modified-Since earlier", {{"If-Modified-Since", EARLIER}}, HS__PRECOND_PROCEED},
	{"If-Modified-Since in another zone: ignored, as Python",
	 {{"If-Modified-Since", "Tue, 14 Nov 2023 23:13:20 +0100"}}, HS__PRECOND_PROCEED},
	{"If-Modified-Since without a zone is UTC, as Python",
	 {{"If-Modified-Since", "Tue Nov 14 22:13:20 2023"}}, HS__PRECOND_NOT_MODIFIED},
	{"If-Modified-Since: the first line counts, as Python",
	 {{"If-Modified-Since", EARLIER}, {"If-Modified-Since", LM}}, HS__PRECOND_PROCEED},
	{"a failed If-Match wins over a matching If-None-Match",
	 {{"If-None-Match", TAG}, {"If-Match", "\"x\""}}, HS__PRECOND_FAILED},
	{"If-Unmodified-Since passes, If-None-Match matches",
	 {{"If-Unmodified-Since", LM}, {"If-None-Match", TAG}}, HS__PRECOND_NOT_MODIFIED},
};

static size_t count_headers(const struct hs_header *h)
{
	size_t n = 0;
	while (n < 4 && h[n].name)
		n++;
	return n;
}

static void test_preconditions(void)
{
	const struct hs__validators file = {.etag = TAG, .has_mtime = true, .mtime = MTIME};
	for (size_t i = 0; i < sizeof preconds / sizeof preconds[0]; i++) {
		const struct precond_case *c = &preconds[i];
		int before = check_failures;
		CHECK_INT(hs__preconditions(c->h, count_headers(c->h), &file), c->want);
		if (check_failures != before)
			fprintf(stderr, "  in precondition case: %s\n", c->name);
	}
	/* a listing has neither tag nor date: If-Match "*" passes, a tag fails, dates and
	 * If-Modified-Since are ignored, If-None-Match "*" is 304 */
	const struct hs__validators listing = {0};
	struct hs_header h[1];
	h[0] = (struct hs_header){"If-Match", "*"};
	CHECK_INT(hs__preconditions(h, 1, &listing), HS__PRECOND_PROCEED);
	h[0] = (struct hs_header){"If-Match", TAG};
	CHECK_INT(hs__preconditions(h, 1, &listing), HS__PRECOND_FAILED);
	h[0] = (struct hs_header){"If-Unmodified-Since", EARLIER};
	CHECK_INT(hs__preconditions(h, 1, &listing), HS__PRECOND_PROCEED);
	h[0] = (struct hs_header){"If-Modified-Since", LATER};
	CHECK_INT(hs__preconditions(h, 1, &listing), HS__PRECOND_PROCEED);
	h[0] = (struct hs_header){"If-None-Match", "*"};
	CHECK_INT(hs__preconditions(h, 1, &listing), HS__PRECOND_NOT_MODIFIED);
}

/* ------------------------------------------------------------ If-Range */

static void test_if_range(void)
{
	const struct hs__validators v = {.etag = TAG, .has_mtime = true, .mtime = MTIME};
	const int64_t now = MTIME + 3600;
	static const struct {
		const char *in;
		size_t n;
		bool want;
	} cases[] = {
		{S(TAG), true},
		{S(TAG " "), true},
		{S("W/" TAG), false}, /* If-Range compares strongly */
		{S("\"x\""), false},
		{S(TAG ", \"x\""), false}, /* one validator, not a list */
		{S("*"), false},
		{S(LM), true},
		{S("Tuesday, 14-Nov-23 22:13:20 GMT"), true},
		{S(EARLIER), false},
		{S(LATER), false},
		{S("Tue, 14 Nov 2023 23:13:20 +0100"), false},
		{S("garbage"), false},
		{S(""), false},
		{S("W/"), false},
		{S("Wed"), false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int before = check_failures;
		CHECK(hs__if_range_holds(cases[i].in, cases[i].n, &v, now) == cases[i].want);
		for (size_t k = 0; k <= cases[i].n; k++) {
			char *copy = malloc(k ? k : 1);
			memcpy(copy, cases[i].in, k);
			(void)hs__if_range_holds(copy, k, &v, now);
			free(copy);
		}
		if (check_failures != before)
			fprintf(stderr, "  in If-Range case [%s]\n", cases[i].in);
	}
	/* a date is weak while the file may still change within its second */
	CHECK(!hs__if_range_holds(S(LM), &v, MTIME));
	CHECK(hs__if_range_holds(S(LM), &v, MTIME + 1));
	const struct hs__validators none = {0};
	CHECK(!hs__if_range_holds(S(LM), &none, now));
	CHECK(!hs__if_range_holds(S(TAG), &none, now));
}

int main(void)
{
	test_etag_format();
	test_lists();
	test_preconditions();
	test_if_range();
	return check_done("test_conditional");
}
