/*
 * path.c: from a request target to a file under the served directory, and the
 * Location of the "add a slash" redirect. translate_path is the security boundary:
 * whatever the target, its result is a relative path of plain words, with no "..",
 * no empty word and no leading "/", so joining it under the root cannot escape. The
 * redirect follows SimpleHTTPRequestHandler.send_head, which rebuilds the target with
 * urllib.parse.urlsplit and urlunsplit, but never names another site. A target is
 * bytes (Python's latin-1 text);
 * these functions are pure and allocate nothing but the output buffer.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* ASCII classes, independent of the C locale (a byte >= 0x80 is never a letter). */
static bool ascii_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool ascii_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* ------------------------------------------------------------ translate_path */

/* Python's str.isspace() for the code points 0-255 (what str.rstrip() removes). */
static bool py_space(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0;
}

/* Length of the target's path: Python splits at the first "?", then at the first "#",
 * which leaves everything before the first of either. */
static size_t path_length(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] != '?' && s[i] != '#')
		i++;
	return i;
}

/* Whether a percent escape "%XX" starts at s[i] and ends before s[end]. An escape is
 * recognised wherever it stands: "%" is not a hex digit, so escapes never overlap,
 * and a word can be decoded without looking at its neighbours. */
static bool escape_at(const char *s, size_t i, size_t end)
{
	return s[i] == '%' && i + 2 < end && ascii_hex((unsigned char)s[i + 1]) &&
	       ascii_hex((unsigned char)s[i + 2]);
}

/* Length of the separator ending just before s[j]: "/" is 1, the escape "%2f" or
 * "%2F" is 3 (Python unquotes before it splits), 0 when none ends there. */
static size_t separator_before(const char *s, size_t j)
{
	if (j >= 1 && s[j - 1] == '/')
		return 1;
	if (j >= 3 && s[j - 3] == '%' && s[j - 2] == '2' && (s[j - 1] == 'f' || s[j - 1] == 'F'))
		return 3;
	return 0;
}

enum word_kind { WORD_SKIP, WORD_PARENT, WORD_NAME };

/* Classifies the raw word s[a..b) by its decoded bytes: "" and "." are skipped,
 * ".." (also spelt "%2e%2E" and so on) cancels a name, anything else is a name. */
static enum word_kind word_kind(const char *s, size_t a, size_t b)
{
	char d[6]; /* a raw word longer than 6 bytes decodes to more than 2 */
	if (b - a > sizeof d)
		return WORD_NAME;
	size_t n = hs__url_unquote(d, s + a, b - a);
	if (n == 0 || (n == 1 && d[0] == '.'))
		return WORD_SKIP;
	if (n == 2 && d[0] == '.' && d[1] == '.')
		return WORD_PARENT;
	return WORD_NAME;
}

/* Decoded length of the raw word s[a..b). */
static size_t decoded_length(const char *s, size_t a, size_t b)
{
	size_t len = 0;
	for (size_t i = a; i < b; len++)
		i += escape_at(s, i, b) ? 3 : 1;
	return len;
}

/* Walks the words of the raw path s[0..n) from last to first. Each ".." cancels the
 * nearest name before it that is not already cancelled, which is what a forward walk
 * with a stack does (posixpath.normpath, then dropping the ".." left at the front);
 * walking backwards needs only a counter. Writes the names, "/"-separated, at the end
 * of out[0..size) as they are found, and returns where they start, or SIZE_MAX when
 * they do not fit. */
static size_t resolve_words(const char *s, size_t n, char *out, size_t size)
{
	size_t end = n, pending_parents = 0, pos = size;
	bool any = false, more = true;
	while (more) {
		size_t a = end, sep = 0;
		while (a > 0 && !(sep = separator_before(s, a)))
			a--;
		more = a > 0;
		enum word_kind k = word_kind(s, a, end);
		if (k == WORD_PARENT) {
			pending_parents++;
		} else if (k == WORD_NAME && pending_parents > 0) {
			pending_parents--;
		} else if (k == WORD_NAME) {
			size_t dn = decoded_length(s, a, end) + (any ? 1 : 0); /* with its "/" */
			if (dn > pos)
				return SIZE_MAX;
			pos -= dn;
			hs__url_unquote(out + pos, s + a, end - a);
			if (any)
				out[pos + dn - 1] = '/';
			any = true;
		}
		end = more ? a - sep : 0;
	}
	return pos;
}

/* Python unquotes to text (UTF-8, invalid sequences replaced by U+FFFD) and encodes
 * that text again for the file system; we keep the decoded bytes, as Linux file names
 * are bytes. The two agree for every target whose escapes decode to valid UTF-8 and
 * whose raw bytes are ASCII; for others Python's file name differs from the URL's
 * bytes (a raw latin-1 byte becomes two UTF-8 bytes, %FF becomes U+FFFD). */
int hs__translate_path(const char *target, size_t n, char *out, size_t out_size,
                       bool *trailing_slash)
{
	size_t plen = path_length(target, n), trimmed = plen, len;
	while (trimmed > 0 && py_space((unsigned char)target[trimmed - 1]))
		trimmed--;
	*trailing_slash = trimmed > 0 && target[trimmed - 1] == '/';
	size_t start = out_size ? resolve_words(target, plen, out, out_size - 1) : SIZE_MAX;
	if (start == SIZE_MAX)
		return -ENAMETOOLONG;
	len = out_size - 1 - start;
	memmove(out, out + start, len);
	out[len] = '\0';
	/* Python fails in open() on a NUL that reaches the file name ("/%00/.." is fine). */
	return memchr(out, '\0', len) ? -EINVAL : 0;
}

/* ------------------------------------------------------ urlsplit / urlunsplit */

struct url_parts {
	struct hs__span scheme, netloc, path, query, fragment;
};

static struct hs__span span(const char *s, size_t a, size_t b)
{
	return (struct hs__span){s + a, b - a};
}

/* Index of the first of the bytes in set within s[i..n), or n. */
static size_t find_any(const char *s, size_t i, size_t n, const char *set)
{
	while (i < n && (s[i] == '\0' || !strchr(set, s[i]))) /* strchr finds the NUL */
		i++;
	return i;
}

/* urlsplit's scheme test on s[a..c), the text before the first ":". */
static bool is_scheme(const char *s, size_t a, size_t c)
{
	if (c == a || !ascii_alpha((unsigned char)s[a]))
		return false;
	for (size_t i = a; i < c; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool digit = ch >= '0' && ch <= '9';
		if (!ascii_alpha(ch) && !digit && ch != '+' && ch != '-' && ch != '.')
			return false;
	}
	return true;
}

/* urlsplit(target) as Python 3.11+ splits it: leading C0 controls and spaces dropped,
 * an optional scheme (first char a letter), "//netloc", then "#fragment" at the first
 * "#" and "?query" at the first "?" before it. Before the scheme test, a run of
 * leading slashes is reduced to one, as BaseHTTPRequestHandler.parse_request does to
 * self.path against open redirects; we do it after the control characters are
 * dropped, so that "\x01//host" cannot become a netloc either. Unlike urlsplit this
 * does not remove \t \r \n (hs__redirect_location escapes them) nor raise on bad
 * brackets. */
static void url_split(const char *s, size_t n, struct url_parts *u)
{
	size_t i = 0;
	memset(u, 0, sizeof *u);
	while (i < n && (unsigned char)s[i] <= 0x20)
		i++;
	while (i + 1 < n && s[i] == '/' && s[i + 1] == '/')
		i++;
	size_t colon = find_any(s, i, n, ":");
	if (colon < n && is_scheme(s, i, colon)) {
		u->scheme = span(s, i, colon);
		i = colon + 1;
	}
	if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
		size_t end = find_any(s, i + 2, n, "/?#");
		u->netloc = span(s, i + 2, end);
		i = end;
	}
	size_t hash = find_any(s, i, n, "#");
	if (hash < n)
		u->fragment = span(s, hash + 1, n);
	size_t q = find_any(s, i, hash, "?");
	if (q < hash)
		u->query = span(s, q + 1, hash);
	u->path = span(s, i, q);
}

bool hs__url_path_ends_in_slash(const char *target, size_t n)
{
	struct url_parts u;
	url_split(target, n, &u);
	const char *p = u.path.p;
	size_t k = u.path.n;
	if (k >= 1 && p[k - 1] == '/')
		return true;
	return k >= 3 && p[k - 3] == '%' && p[k - 2] == '2' && (p[k - 1] == 'f' || p[k - 1] == 'F');
}

/* hs__buf_append unless an earlier append failed: lets a sequence of appends be
 * written plainly and checked once. */
static int put(struct hs__buf *out, int rc, const char *p, size_t n)
{
	return rc ? rc : hs__buf_append(out, p, n);
}

/* Appends s with each control byte, and each "\" when backslash is set, written as
 * "%XX": a browser deletes TAB, LF and CR from a URL and reads "\" in an http(s) path as
 * "/", and a field value may hold no control byte at all. */
static int put_escaped(struct hs__buf *out, int rc, struct hs__span s, bool backslash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t from = 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x20 && c != 0x7f && !(backslash && c == '\\'))
			continue;
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		rc = put(out, rc, s.p + from, i - from);
		rc = put(out, rc, esc, 3);
		from = i + 1;
	}
	return put(out, rc, s.p + from, s.n - from);
}

/* The Location of the directory redirect is always a path-absolute reference: a client
 * resolves it against the URL it asked for, so it stays on this server. An origin-form
 * target keeps Python's bytes (urlunsplit of the split with "/" added to the path), but
 * for control bytes, and "\" in the path, percent-escaped: unescaped, "/\host", or
 * "/<TAB>/host", reads to a browser as "//host". A scheme and an authority are dropped
 * (the file was found under our root whatever they said), and the path's leading run of
 * slashes becomes one. A path that already ends in "/" gets no second one. On failure
 * out is left as it was. */
int hs__redirect_location(struct hs__buf *out, const char *target, size_t n)
{
	struct url_parts u;
	url_split(target, n, &u);
	struct hs__span p = u.path;
	while (p.n > 0 && p.p[0] == '/')
		p.p++, p.n--;
	size_t start = out->len;
	int rc = put(out, 0, "/", 1);
	rc = put_escaped(out, rc, p, true);
	if (p.n > 0 && p.p[p.n - 1] != '/')
		rc = put(out, rc, "/", 1);
	if (u.query.n) {
		rc = put(out, rc, "?", 1);
		rc = put_escaped(out, rc, u.query, false);
	}
	if (u.fragment.n) {
		rc = put(out, rc, "#", 1);
		rc = put_escaped(out, rc, u.fragment, false);
	}
	if (rc < 0)
		out->len = start;
	return rc;
}
