/*
 * test_path.c: translate_path, the trailing-slash test and the redirect Location of
 * path.c, as SimpleHTTPRequestHandler computes them (rows checked against python3).
 * translate_path is the security boundary, so besides the tables a property loop
 * feeds it many generated hostile targets and checks that no result can escape the
 * served directory and that each equals a plain forward-walking reference. Another
 * checks that no Location, however hostile the target, leads a browser off this host;
 * there the rows differ from Python's where Python's would.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

#define S(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------ translate_path */

struct tp_row {
	const char *target;
	size_t n;
	int rc;
	const char *want; /* the path when rc is 0 */
	bool slash;
};

static const struct tp_row tp_rows[] = {
	{S(""), 0, "", false},
	{S("/"), 0, "", true},
	{S("/a/b/c"), 0, "a/b/c", false},
	{S("/a/b/"), 0, "a/b", true},
	{S("/a/./b/."), 0, "a/b", false},
	{S("//a///b//"), 0, "a/b", true},
	/* ".." never climbs above the root */
	{S("/.."), 0, "", false},
	{S("/../etc/passwd"), 0, "etc/passwd", false},
	{S("/a/../../b"), 0, "b", false},
	{S("/a/b/../../../../c/"), 0, "c", true},
	{S("a/../.."), 0, "", false},
	{S("/a/b/.."), 0, "a", false},
	/* escapes are decoded before the words are split and resolved */
	{S("/%2e%2e/%2E%2E/etc"), 0, "etc", false},
	{S("/.%2e/x"), 0, "x", false},
	{S("/%2e/x"), 0, "x", false},
	{S("/a%2fb"), 0, "a/b", false},
	{S("/a%2f..%2F..%2fb"), 0, "b", false},
	{S("/%2f%2f"), 0, "", false},
	{S("/a/b%2f"), 0, "a/b", false}, /* the raw path does not end in "/" */
	{S("/%41%42c"), 0, "ABc", false},
	{S("/%zz/%/%4"), 0, "%zz/%/%4", false},
	{S("/%252e%252e"), 0, "%2e%2e", false}, /* decoded once only */
	{S("/caf%C3%A9"), 0, "caf\xc3\xa9", false},
	/* names that merely contain dots */
	{S("/.../..a/a../.x"), 0, ".../..a/a../.x", false},
	/* query and fragment: the path ends at the first "?" or "#" */
	{S("/x?y/../z"), 0, "x", false},
	{S("/x/?q"), 0, "x", true},
	{S("/x#frag/"), 0, "x", false},
	{S("/x#a?b/"), 0, "x", false},
	{S("/x?a#b/"), 0, "x", false},
	{S("?/etc"), 0, "", false},
	/* trailing whitespace is ignored for the slash, kept in the name */
	{S("/x/ "), 0, "x/ ", true},
	{S("/x/\xa0"), 0, "x/\xa0", true},
	{S("/x/a "), 0, "x/a ", false},
	/* absolute form: Python maps it under the root too */
	{S("http://host/x"), 0, "http:/host/x", false},
	{S("http://host/../../x"), 0, "x", false},
	/* backslash is an ordinary byte on Linux */
	{S("/a\\b"), 0, "a\\b", false},
	{S("/..\\..\\etc"), 0, "..\\..\\etc", false},
	/* NUL: refused when it would reach the file name */
	{S("/%00"), -EINVAL, NULL, false},
	{S("/a%00b/c"), -EINVAL, NULL, false},
	{S("/a\0b"), -EINVAL, NULL, false},
	{S("/%00/.."), 0, "", false},
	{S("/x?%00"), 0, "x", false},
};

static void test_translate_table(void)
{
	for (size_t i = 0; i < sizeof tp_rows / sizeof tp_rows[0]; i++) {
		const struct tp_row *r = &tp_rows[i];
		char out[256];
		bool slash = !r->slash;
		int rc = hs__translate_path(r->target, r->n, out, sizeof out, &slash);
		CHECK_INT(rc, r->rc);
		if (rc == 0 && r->rc == 0) {
			CHECK_STR(out, r->want);
			CHECK_INT(slash, r->slash);
		}
	}
}

/* out_size counts the NUL: the result must fit whole, or -ENAMETOOLONG. */
static void test_translate_length(void)
{
	char out[8];
	bool slash;
	CHECK_INT(hs__translate_path(S("/abc"), out, 3, &slash), -ENAMETOOLONG);
	CHECK_INT(hs__translate_path(S("/abc"), out, 4, &slash), 0);
	CHECK_STR(out, "abc");
	CHECK_INT(hs__translate_path(S("/"), out, 0, &slash), -ENAMETOOLONG);
	CHECK_INT(hs__translate_path(S("/"), out, 1, &slash), 0);
	CHECK_STR(out, "");
	/* what counts is the result, not the target */
	CHECK_INT(hs__translate_path(S("/%41%41%41%41%41%41%41"), out, 8, &slash), 0);
	CHECK_STR(out, "AAAAAAA");

	static char big[70000], res[4096];
	size_t n = 0;
	big[n++] = '/';
	while (n < 66000)
		big[n++] = 'a';
	CHECK_INT(hs__translate_path(big, n, res, sizeof res, &slash), -ENAMETOOLONG);
	memcpy(big + n, "/..", 3); /* the long word is cancelled: the result is empty */
	CHECK_INT(hs__translate_path(big, n + 3, res, sizeof res, &slash), 0);
	CHECK_STR(res, "");
}

/* ------------------------------------------- property: hostile targets */

/* xorshift64: a deterministic generator whose state the caller owns. */
static unsigned rand_below(unsigned long long *state, unsigned n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (unsigned)(*state % n);
}

/* Up to max_words tokens drawn at random, written into t (cap bytes); their length. */
static size_t random_words(unsigned long long *state, const char *const *tokens, size_t ntokens,
                           unsigned max_words, char *t, size_t cap)
{
	size_t n = 0, words = rand_below(state, max_words);
	for (size_t w = 0; w < words; w++) {
		const char *tok = tokens[rand_below(state, (unsigned)ntokens)];
		size_t k = strlen(tok);
		if (n + k > cap)
			break;
		memcpy(t + n, tok, k);
		n += k;
	}
	return n;
}

static size_t hostile_target(unsigned long long *state, char *t, size_t cap)
{
	static const char *const tokens[] = {
		"..", ".", "/", "//", "%2e", "%2E", "%2f", "%2F", "%2e%2e", ".%2e", "\\",
		"a", "b", "%", "%2", "%00", "?", "#", " ", "http:", "%252e", "...", "\xe9",
	};
	return random_words(state, tokens, sizeof tokens / sizeof tokens[0], 24, t, cap);
}

/* The reference: decode the whole path, then walk it forward with a stack of words. */
static size_t reference_translate(const char *t, size_t n, char *out)
{
	char dec[512];
	size_t plen = 0, len = 0;
	while (plen < n && t[plen] != '?' && t[plen] != '#')
		plen++;
	size_t dn = hs__url_unquote(dec, t, plen), starts[256], depth = 0;
	for (size_t i = 0; i <= dn;) {
		size_t j = i;
		while (j < dn && dec[j] != '/')
			j++;
		size_t k = j - i;
		if (k == 2 && dec[i] == '.' && dec[i + 1] == '.') {
			if (depth > 0)
				len = starts[--depth];
		} else if (k > 0 && !(k == 1 && dec[i] == '.')) {
			starts[depth++] = len;
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, dec + i, k);
			len += k;
		}
		i = j + 1;
	}
	out[len] = '\0';
	return len;
}

/* No ".", ".." or empty word, no leading "/": joined under the root, it stays there. */
static bool stays_inside(const char *p)
{
	if (*p == '\0')
		return true;
	for (const char *w = p;;) {
		const char *end = strchr(w, '/');
		size_t k = end ? (size_t)(end - w) : strlen(w);
		if (k == 0 || (k == 1 && w[0] == '.') || (k == 2 && w[0] == '.' && w[1] == '.'))
			return false;
		if (!end)
			return true;
		w = end + 1;
	}
}

static void test_translate_property(void)
{
	unsigned long long state = 0x9e3779b97f4a7c15ull;
	int failures_before = check_failures;
	for (int iter = 0; iter < 200000 && check_failures == failures_before; iter++) {
		char t[200], out[256], ref[512];
		size_t n = hostile_target(&state, t, sizeof t);
		size_t out_size = rand_below(&state, 4) ? sizeof out : rand_below(&state, 16);
		bool slash;
		int rc = hs__translate_path(t, n, out, out_size, &slash);
		size_t rn = reference_translate(t, n, ref);
		if (memchr(ref, '\0', rn)) {
			CHECK(rc == -EINVAL || rc == -ENAMETOOLONG);
		} else if (rn >= out_size) {
			CHECK_INT(rc, -ENAMETOOLONG);
		} else {
			CHECK_INT(rc, 0);
			CHECK_STR(out, ref);
			CHECK(stays_inside(out));
		}
	}
}

/* ------------------------------------------------- trailing slash, redirect */

struct slash_row {
	const char *target;
	size_t n;
	bool ends;
};

static const struct slash_row slash_rows[] = {
	{S("/dir/"), true},      {S("/dir"), false},        {S("/dir%2f"), true},
	{S("/dir%2F"), true},    {S("/dir%2"), false},      {S("/dir?x/"), false},
	{S("/dir#/"), false},    {S("/dir/?x"), true},      {S("/dir/#x"), true},
	{S(""), false},          {S("/"), true},            {S("//"), true},
	{S("http://h"), false},  {S("http://h/"), true},    {S("http://h/d"), false},
	{S("//h"), false},       {S("/d/ "), false}, /* urlsplit keeps trailing space */
};

struct redirect_row {
	const char *target;
	size_t n;
	const char *want;
};

/* An origin-form target keeps Python's bytes, except that "\" and control bytes in the
 * path, and control bytes anywhere, are percent-escaped; any other target keeps only its
 * path, made absolute. */
static const struct redirect_row redirect_rows[] = {
	{S("/dir"), "/dir/"},
	{S("/sub"), "/sub/"},
	{S("/sub?x=1"), "/sub/?x=1"},
	{S("/a%20b"), "/a%20b/"},
	{S("/dir?x=1"), "/dir/?x=1"},
	{S("/dir#f"), "/dir/#f"},
	{S("/dir?"), "/dir/"}, /* urlunsplit drops an empty query */
	{S("/dir#"), "/dir/"},
	{S("/dir?#"), "/dir/"},
	{S("/dir?a#b"), "/dir/?a#b"},
	{S("/dir#a?b"), "/dir/#a?b"},
	{S("/d%20ir?q=%41"), "/d%20ir/?q=%41"}, /* kept as sent */
	{S("/caf%c3%a9"), "/caf%c3%a9/"},
	{S("/\xe9t\xe9"), "/\xe9t\xe9/"}, /* obs-text is kept */
	{S("/a:b"), "/a:b/"},
	{S("/a//b"), "/a//b/"},
	{S("/sub/../listdir"), "/sub/../listdir/"},
	{S(""), "/"},
	{S("?x"), "/?x"},
	{S("/?x"), "/?x"}, /* already ends in "/": never "//?x" */
	{S("/dir/"), "/dir/"},
	/* never a network-path reference ("//host"), which would be an open redirect */
	{S("//evil.com"), "/evil.com/"},
	{S("///"), "/"},
	{S("///x"), "/x/"},
	{S("////evil.com/x?y"), "/evil.com/x/?y"},
	{S("\x01//evil.com"), "/evil.com/"}, /* Python: "//evil.com/" */
	{S(" /dir"), "/dir/"},
	{S("/./"), "/./"},
	{S("/.//evil.com"), "/.//evil.com/"}, /* a path: the authority is already given */
	/* "\" is "/" to a browser in an http(s) URL, anywhere in the path */
	{S("\\"), "/%5C/"},
	{S("/\\"), "/%5C/"},
	{S("\\/"), "/%5C/"},
	{S("\\\\"), "/%5C%5C/"},
	{S("/\\\\"), "/%5C%5C/"},
	{S("/\\evil.example.com/..%2f/subdir"), "/%5Cevil.example.com/..%2f/subdir/"},
	{S("/\\evil.com?x=1"), "/%5Cevil.com/?x=1"},
	{S("\\\\evil.com/../d?x#y"), "/%5C%5Cevil.com/../d/?x#y"},
	{S("\\/evil.com"), "/%5C/evil.com/"},
	{S("/./\\evil.com"), "/./%5Cevil.com/"},
	{S("/a\\b"), "/a%5Cb/"},
	{S("/%5Cevil.com"), "/%5Cevil.com/"}, /* already escaped */
	{S("/%5c%5Cevil.com?q"), "/%5c%5Cevil.com/?q"},
	{S("/d?a\\b#c\\d"), "/d/?a\\b#c\\d"}, /* not a separator in query or fragment */
	/* a browser deletes TAB, LF and CR anywhere and strips leading C0 controls and spaces */
	{S("/dir\t"), "/dir%09/"},
	{S("/\t/evil.com"), "/%09/evil.com/"},
	{S("/\t\t/evil.com?q"), "/%09%09/evil.com/?q"},
	{S("/\n/evil.com"), "/%0A/evil.com/"},
	{S("/\r\\evil.com"), "/%0D%5Cevil.com/"},
	{S("/d\r\n"), "/d%0D%0A/"},
	{S("\t//evil.com"), "/evil.com/"},
	{S("\x01\\evil.com"), "/%5Cevil.com/"},
	{S("/\x01/evil.com"), "/%01/evil.com/"},
	{S("/d\x7f\x1f"), "/d%7F%1F/"},
	{S("/%09/evil.com"), "/%09/evil.com/"}, /* already escaped */
	{S("/d?a\tb\x01#\n"), "/d/?a%09b%01#%0A"},
	/* a scheme or an authority is never echoed: the path is served from here */
	{S("http://host/dir"), "/dir/"},
	{S("HTTP://Host/dir?q"), "/dir/?q"},
	{S("http://host"), "/"},
	{S("http://evil.com/../../subdir"), "/../../subdir/"},
	{S("http://evil.com\\@host/d"), "/d/"},
	{S("http:////evil.com"), "/evil.com/"},
	{S("http:dir"), "/dir/"},
	{S("https:evil.com/../d"), "/evil.com/../d/"},
	{S("x:dir"), "/dir/"},
	{S("x:\\\\evil.com"), "/%5C%5Cevil.com/"},
	{S("1x:dir"), "/1x:dir/"}, /* not a scheme: starts with a digit */
};

static void test_slash_and_redirect(void)
{
	for (size_t i = 0; i < sizeof slash_rows / sizeof slash_rows[0]; i++)
		CHECK_INT(hs__url_path_ends_in_slash(slash_rows[i].target, slash_rows[i].n),
		          slash_rows[i].ends);
	for (size_t i = 0; i < sizeof redirect_rows / sizeof redirect_rows[0]; i++) {
		const struct redirect_row *r = &redirect_rows[i];
		struct hs__buf b = {0};
		CHECK_INT(hs__buf_puts(&b, "Location: "), 0);
		CHECK_INT(hs__redirect_location(&b, r->target, r->n), 0);
		CHECK_MEM(b.data + 10, b.len - 10, r->want, strlen(r->want));
		hs__buf_free(&b);
	}
}

/* Whether a browser resolving loc against an http URL keeps that URL's host: the WHATWG
 * URL parser strips leading and trailing C0 controls and spaces, deletes TAB, LF and CR,
 * then reads a scheme, or "//" with either slash spelt "\", as a new authority. */
static bool keeps_host(const char *loc, size_t n)
{
	char s[1024];
	size_t k = 0, a = 0, b = n;
	while (a < b && (unsigned char)loc[a] <= 0x20)
		a++;
	while (b > a && (unsigned char)loc[b - 1] <= 0x20)
		b--;
	for (size_t i = a; i < b && k < sizeof s; i++)
		if (loc[i] != '\t' && loc[i] != '\n' && loc[i] != '\r')
			s[k++] = loc[i];
	size_t i = 0;
	while (i < k && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
		i++;
	if (i > 0 && i < k && s[i] == ':')
		return false; /* "http:evil.com" has a scheme too, and so an authority */
	return !(k >= 2 && (s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\'));
}

/* Hostile targets for the Location: slashes, backslashes and control bytes between words,
 * schemes and authorities, escapes, queries and fragments. */
static size_t hostile_redirect_target(unsigned long long *state, char *t, size_t cap)
{
	static const char *const tokens[] = {
		"/", "//", "\\", "\t", "\n", "\r", "\x01", "\x1f", "\x7f", " ", "\xe9", "..",
		".", "%2f", "%5C", "%09", "evil.com", "http:", "https:", "x:", "?", "#", "@",
	};
	return random_words(state, tokens, sizeof tokens / sizeof tokens[0], 16, t, cap);
}

/* Whatever the target, the Location is a path-absolute reference a browser resolves on
 * the same host, with no control byte (a space, which the request line cannot hold, is
 * kept). */
static void test_redirect_property(void)
{
	unsigned long long state = 12345;
	for (int iter = 0; iter < 100000; iter++) {
		char t[200];
		size_t n = iter % 2 ? hostile_target(&state, t, sizeof t)
		                    : hostile_redirect_target(&state, t, sizeof t);
		if (rand_below(&state, 4) == 0)
			t[0] = (char)rand_below(&state, 0x21);
		struct hs__buf b = {0};
		CHECK_INT(hs__redirect_location(&b, t, n), 0);
		bool visible = true;
		for (size_t i = 0; i < b.len; i++)
			visible &= (unsigned char)b.data[i] >= 0x20 && b.data[i] != 0x7f;
		CHECK(b.len > 0 && b.data[0] == '/' && visible && keeps_host(b.data, b.len));
		if (b.len == 0 || b.data[0] != '/' || !visible || !keeps_host(b.data, b.len)) {
			fprintf(stderr, "  target [%.*s] -> [%.*s]\n", (int)n, t, (int)b.len, b.data);
			hs__buf_free(&b);
			break;
		}
		hs__buf_free(&b);
	}
}

int main(void)
{
	test_translate_table();
	test_translate_length();
	test_translate_property();
	test_slash_and_redirect();
	test_redirect_property();
	return check_done("test_path");
}
