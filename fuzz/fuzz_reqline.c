/*
 * fuzz_reqline.c: the request line, as conn.c reads it: hs__find_line over bytes that
 * arrive in two pieces (the first byte of the input picks the split, the rest is
 * expanded by fuzz_expand so lines can cross the 64 KiB limit), then
 * hs__parse_request_line over the line found and over the raw input.
 *
 * Properties: finding the line does not depend on how the bytes arrive, its result
 * is what the limit says (a line of at most HS__MAX_LINE bytes ending at the first
 * "\n", "need more" or 414); the classification equals an independent reading of
 * Python's parse_request (split on Python's whitespace, version word checked when
 * there are three words or more, then the count, then HTTP/0.9's GET rule), after the
 * rule that a line with a control byte or a first word no method begins with is bad
 * syntax; a line still arriving is refused early exactly when it is such a line; every
 * span lies inside the line, holds no whitespace, and says what its status promises.
 * The target splitter and the Host check are run over the same bytes: an absolute-form
 * target's parts lie inside it, and a valid Host holds no byte that could split a field.
 */
#include <stdbool.h>

#include "internal.h"

#define FUZZ_EXPAND_MAX (HS__MAX_LINE + 4096) /* a line just past its cap */
#include "fuzz.h"

static bool py_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f || c == 0x85 || c == 0xa0;
}

static bool inside(struct hs__span s, const char *p, size_t n)
{
	return s.p >= p && s.n <= n && (size_t)(s.p - p) <= n - s.n;
}

static bool no_space(struct hs__span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (py_space((unsigned char)s.p[i]))
			return false;
	return true;
}

/* "1*10DIGIT" */
static bool digits(const char *s, size_t n)
{
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A line that can never be HTTP: a control byte other than HTAB, or a first word
 * whose first byte is not an RFC 9110 tchar (blanks before it skipped as Python does). */
static bool garbage(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || (unsigned char)s[i] == 0x85 ||
	                 (unsigned char)s[i] == 0xa0))
		i++;
	static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
	                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	if (i < n && (s[i] == '\0' || !strchr(tchars, s[i])))
		return true;
	for (size_t j = 0; j < n; j++) {
		unsigned char c = (unsigned char)s[j];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* The expected status, computed another way: the garbage rule first, then the words
 * are collected and the rules applied in Python's order. */
static enum hs__reqline_status oracle(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (garbage(s, n))
		return HS__RL_BAD_SYNTAX;
	const char *first = NULL, *last = NULL;
	size_t first_n = 0, last_n = 0, count = 0;
	for (size_t i = 0; i < n;) {
		if (py_space((unsigned char)s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !py_space((unsigned char)s[j]))
			j++;
		if (count++ == 0)
			first = s + i, first_n = j - i;
		last = s + i, last_n = j - i;
		i = j;
	}
	if (count == 0)
		return HS__RL_EMPTY;
	if (count >= 3) {
		if (last_n < 5 || memcmp(last, "HTTP/", 5) != 0)
			return HS__RL_BAD_VERSION;
		const char *num = last + 5, *dot = memchr(num, '.', last_n - 5);
		if (!dot)
			return HS__RL_BAD_VERSION;
		size_t a = (size_t)(dot - num), b = last_n - 5 - a - 1;
		if (!digits(num, a) || !digits(dot + 1, b))
			return HS__RL_BAD_VERSION;
		unsigned long long major = strtoull(num, NULL, 10);
		if (major >= 2)
			return HS__RL_VERSION_TOO_HIGH;
	}
	if (count != 2 && count != 3)
		return HS__RL_BAD_SYNTAX;
	if (count == 2 && !(first_n == 3 && memcmp(first, "GET", 3) == 0))
		return HS__RL_BAD_09_METHOD;
	return HS__RL_OK;
}

static void check_line(const char *p, size_t n)
{
	struct hs__reqline rl;
	enum hs__reqline_status st = hs__parse_request_line(p, n, &rl);
	FUZZ_ASSERT(st == oracle(p, n));
	FUZZ_ASSERT(rl.line.p == p && rl.line.n <= n);
	FUZZ_ASSERT(rl.line.n == 0 || (p[rl.line.n - 1] != '\r' && p[rl.line.n - 1] != '\n'));
	const struct hs__span *spans[] = {&rl.method, &rl.target, &rl.version, &rl.version_number};
	for (size_t i = 0; i < 4; i++)
		FUZZ_ASSERT(inside(*spans[i], p, rl.line.n));
	FUZZ_ASSERT(no_space(rl.method) && no_space(rl.target) && no_space(rl.version));
	if (st == HS__RL_OK || st == HS__RL_BAD_09_METHOD)
		FUZZ_ASSERT(rl.method.n > 0 && rl.target.n > 0);
	if (st == HS__RL_OK && rl.version.n > 0) {
		FUZZ_ASSERT(rl.version.n >= 8 && memcmp(rl.version.p, "HTTP/", 5) == 0);
		FUZZ_ASSERT(rl.version_number.p == rl.version.p + 5);
		FUZZ_ASSERT(rl.version_number.n == rl.version.n - 5);
		FUZZ_ASSERT(rl.major < 2);
	}
	if (st == HS__RL_OK && rl.version.n == 0) {
		FUZZ_ASSERT(rl.method.n == 3 && memcmp(rl.method.p, "GET", 3) == 0);
		FUZZ_ASSERT(rl.major == 0 && rl.minor == 9);
	}
	if (st == HS__RL_VERSION_TOO_HIGH)
		FUZZ_ASSERT(rl.major >= 2);
}

/* hs__find_line over buf[0..len), first over a fresh copy of buf[0..split) then over
 * a fresh copy of the whole, keeping *scanned between the calls as conn.c does. */
static long find_in_two(const char *buf, size_t len, size_t split, size_t *scanned)
{
	*scanned = 0;
	char *a = fuzz_copy(buf, split);
	long r = hs__find_line(a, split, scanned);
	free(a);
	FUZZ_ASSERT(*scanned <= split);
	if (r != 0)
		return r;
	char *b = fuzz_copy(buf, len);
	r = hs__find_line(b, len, scanned);
	free(b);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t choice = fuzz_take(&data, &size, 1), len;
	char *buf = fuzz_expand(data, size, &len);
	size_t split = len ? (choice * len) / 255 : 0;

	size_t scanned = 0;
	long whole = hs__find_line(buf, len, &scanned);
	const char *nl = memchr(buf, '\n', len < HS__MAX_LINE ? len : HS__MAX_LINE);
	if (nl)
		FUZZ_ASSERT(whole == nl - buf + 1);
	else
		FUZZ_ASSERT(whole == (len > HS__MAX_LINE ? -1 : 0));
	size_t scanned2;
	FUZZ_ASSERT(find_in_two(buf, len, split, &scanned2) == whole);
	if (whole > 0)
		FUZZ_ASSERT(scanned2 == scanned && scanned == (size_t)whole);

	if (whole == 0) {
		/* a line still arriving is refused, in two pieces as in one, exactly when the
		 * same bytes ended there would be garbage (trailing CRs may be its line end) */
		size_t n = len;
		while (n > 0 && buf[n - 1] == '\r')
			n--;
		struct hs__line_check one = {0}, two = {0};
		bool refused = hs__line_start_refused(buf, len, &one);
		FUZZ_ASSERT(refused == garbage(buf, n));
		char *a = fuzz_copy(buf, split);
		bool early = hs__line_start_refused(a, split, &two);
		free(a);
		FUZZ_ASSERT((early || hs__line_start_refused(buf, len, &two)) == refused);
	}
	struct hs__span authority = {buf, 0}, rest = {buf, 0};
	enum hs__target_form form = hs__target_split(buf, len, &authority, &rest);
	if (form == HS__TARGET_ABSOLUTE) {
		FUZZ_ASSERT(inside(authority, buf, len) && inside(rest, buf, len));
		FUZZ_ASSERT(hs__host_valid(authority.p, authority.n, false));
		FUZZ_ASSERT(rest.p == authority.p + authority.n && rest.p + rest.n == buf + len);
	}
	if (hs__host_valid(buf, len, true))
		for (size_t i = 0; i < len; i++) /* never a byte that could end or split a field */
			FUZZ_ASSERT(buf[i] > 0x20 && buf[i] < 0x7f && buf[i] != '/' && buf[i] != '@');

	if (whole > 0) {
		char *line = fuzz_copy(buf, (size_t)whole);
		check_line(line, (size_t)whole);
		free(line);
	}
	check_line(buf, len);
	free(buf);
	return 0;
}
