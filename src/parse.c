/*
 * parse.c: the request-head parser, pure (no I/O, no allocation, no globals). It finds
 * the request line, classifies it exactly as BaseHTTPRequestHandler.parse_request does,
 * and splits the header block into name/value views of the caller's buffer, with
 * Python's limits (65536-byte lines, 100 lines) and RFC 9112's field syntax, stricter
 * than Python's on purpose. The head arrives in pieces; the callers keep how far they
 * searched, so bytes already examined are not searched again however slowly they come.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "chars.h"
#include "internal.h"

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------ request line */

long hs__find_line(const char *buf, size_t len, size_t *scanned)
{
	/* Python reads readline(65537) and refuses 65537 bytes, so an acceptable line
	 * has its "\n" within the first HS__MAX_LINE bytes. */
	size_t end = min_size(len, HS__MAX_LINE);
	if (*scanned < end) {
		const char *nl = memchr(buf + *scanned, '\n', end - *scanned);
		if (nl) {
			*scanned = (size_t)(nl - buf) + 1;
			return (long)*scanned;
		}
		*scanned = end;
	}
	return len > HS__MAX_LINE ? -1 : 0;
}

/* The words parse_request looks at: the first two, the last, and how many. */
struct words {
	struct hs__span first, second, last;
	size_t count;
};

static void split_words(const char *s, size_t n, struct words *w)
{
	size_t at = 0, start, len;
	while (hs__py_next_word(s, n, &at, &start, &len)) {
		struct hs__span word = { s + start, len };
		if (w->count == 0)
			w->first = word;
		else if (w->count == 1)
			w->second = word;
		w->last = word;
		w->count++;
	}
}

/* One side of the version number. Python 3.13 requires str.isdigit(), at most 10
 * characters, then int(); of latin-1 text only ASCII digits pass all three. */
static int version_part(const char *s, size_t n, unsigned long long *out)
{
	if (n == 0 || n > 10)
		return 0;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 1;
}

/* "HTTP/" then exactly one "." between two version parts; fills version_number,
 * major and minor as far as it gets. */
static int parse_version(struct hs__reqline *rl)
{
	const struct hs__span *v = &rl->version;
	if (v->n < 5 || memcmp(v->p, "HTTP/", 5) != 0)
		return 0;
	const char *num = v->p + 5;
	size_t nn = v->n - 5;
	rl->version_number = (struct hs__span){ num, nn };
	const char *dot = memchr(num, '.', nn);
	if (!dot)
		return 0;
	size_t a = (size_t)(dot - num), b = nn - a - 1;
	if (memchr(dot + 1, '.', b))
		return 0;
	return version_part(num, a, &rl->major) && version_part(dot + 1, b, &rl->minor);
}

/* RFC 9112 allows no control byte in a request line but HTAB (as whitespace): a NUL
 * or a CR there is an attack on whatever reads the line as a C string or as lines. */
static bool forbidden_in_line(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* The whitespace Python lets stand before the method that is not a control byte. */
static bool blank_before_method(unsigned char c)
{
	return c == ' ' || c == '\t' || c == 0x85 || c == 0xa0;
}

/* Whether a request line can never be HTTP: a forbidden control byte anywhere, or a
 * first word that does not begin with a token character, the first byte of any method.
 * Checked before Python's checks, so that the answer does not depend on whether the
 * line arrived whole (hs__line_start_refused decides on the same rules). */
static bool line_is_garbage(const char *line, size_t n)
{
	size_t i = 0;
	while (i < n && blank_before_method((unsigned char)line[i]))
		i++;
	if (i < n && !hs__is_tchar((unsigned char)line[i]))
		return true;
	for (; i < n; i++)
		if (forbidden_in_line((unsigned char)line[i]))
			return true;
	return false;
}

bool hs__line_start_refused(const char *buf, size_t len, struct hs__line_check *st)
{
	size_t end = min_size(len, HS__MAX_LINE);
	for (size_t i = st->checked + st->crs; i < end; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\r') { /* perhaps the line end's: decided by the next other byte */
			st->crs++;
			continue;
		}
		if (st->crs || forbidden_in_line(c))
			return true; /* a CR not followed by LF, or another control byte */
		if (!st->method_begun && !blank_before_method(c)) {
			if (!hs__is_tchar(c))
				return true;
			st->method_begun = true;
		}
		st->checked = i + 1;
	}
	return false;
}

enum hs__reqline_status hs__parse_request_line(const char *line, size_t n,
                                               struct hs__reqline *rl)
{
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--; /* rstrip('\r\n') */
	struct hs__span empty = { line, 0 };
	*rl = (struct hs__reqline){ .line = { line, n }, .method = empty, .target = empty,
		                        .version = empty, .version_number = empty };
	if (line_is_garbage(line, n))
		return HS__RL_BAD_SYNTAX;
	struct words w = { empty, empty, empty, 0 };
	split_words(line, n, &w);
	if (w.count == 0)
		return HS__RL_EMPTY;
	rl->method = w.first;
	rl->target = w.second;
	if (w.count >= 3) { /* only then does Python look at the version */
		rl->version = w.last;
		if (!parse_version(rl))
			return HS__RL_BAD_VERSION;
		if (rl->major >= 2)
			return HS__RL_VERSION_TOO_HIGH;
	}
	if (w.count < 2 || w.count > 3)
		return HS__RL_BAD_SYNTAX;
	if (w.count == 2) {
		rl->major = 0;
		rl->minor = 9;
		if (rl->method.n != 3 || memcmp(rl->method.p, "GET", 3) != 0)
			return HS__RL_BAD_09_METHOD;
	}
	return HS__RL_OK;
}

/* The spans of struct hs__reqline, listed once for saving and loading. */
#define REQLINE_SPANS(X) X(line) X(method) X(target) X(version) X(version_number)
#define SAVE_SPAN(f) at->f = (struct hs__span_at){(size_t)(rl->f.p - line), rl->f.n};
#define LOAD_SPAN(f) rl->f = (struct hs__span){line + at->f.off, at->f.n};

void hs__reqline_save(struct hs__reqline_at *at, const struct hs__reqline *rl, const char *line)
{
	REQLINE_SPANS(SAVE_SPAN)
	at->major = rl->major;
	at->minor = rl->minor;
}

void hs__reqline_load(struct hs__reqline *rl, const struct hs__reqline_at *at, const char *line)
{
	REQLINE_SPANS(LOAD_SPAN)
	rl->major = at->major;
	rl->minor = at->minor;
}

/* ------------------------------------------------------------ header block */

/* Splits one field line, its line end removed, into a name and a value trimmed of
 * SP/HT. Fails unless the line is RFC 9112's field-line: a non-empty token directly
 * followed by ":" (so no space before the colon, and no obs-fold, whose first byte is
 * SP/HT), and a value without NUL or CR (the CR of a CRLF is already removed, so any
 * CR left is a bare one). Other control bytes are let through, as Python does. */
static int split_field(const char *s, size_t n, struct hs__header_span *h)
{
	size_t i = 0;
	while (i < n && hs__is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return 0;
	h->name = (struct hs__span){ s, i };
	size_t b = i + 1, e = n;
	for (size_t j = b; j < n; j++)
		if (s[j] == '\0' || s[j] == '\r')
			return 0;
	while (b < e && (s[b] == ' ' || s[b] == '\t'))
		b++;
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	h->value = (struct hs__span){ s + b, e - b };
	return 1;
}

/* The length of a line's content: a "\n" ends a line, and a "\r" just before it is
 * part of the line end (RFC 9112 section 2.2 lets a recipient accept a bare LF, and
 * Python does). `nl` is the offset of the "\n". */
static size_t content_end(const char *buf, size_t start, size_t nl)
{
	return nl > start && buf[nl - 1] == '\r' ? nl - 1 : nl;
}

/* Splits again the lines in buf[0..stop), which were validated by earlier calls:
 * the caller may have moved its buffer since, so their old views cannot be kept. */
static void resplit_lines(const char *buf, size_t stop, struct hs__header_span *h)
{
	size_t at = 0, k = 0;
	while (at < stop) {
		size_t nl = (size_t)((const char *)memchr(buf + at, '\n', stop - at) - buf);
		split_field(buf + at, content_end(buf, at, nl) - at, &h[k++]);
		at = nl + 1;
	}
}

/* Reached when no "\n" lies in buf[scanned..end): either more bytes are needed, or
 * the byte at `end` breaks a limit, the line's (checked first, as Python would meet
 * it) or the whole head's. */
static long no_line_end(struct hs__head_scan *st, size_t len, size_t end, size_t line_cap)
{
	if (st->scanned < end)
		st->scanned = end;
	if (len <= end)
		return 0;
	return end == line_cap ? HS__HEAD_LINE_TOO_LONG : HS__HEAD_TOO_LARGE;
}

/* Each line is searched for its "\n" once (from st->scanned), and the limits are
 * checked as bytes arrive, so an over-long line or head is refused at its first excess
 * byte. A complete line is then checked in Python's order: the line count (Python
 * refuses the 101st line, even the empty one that would end the block), the empty
 * line, then our field syntax. A bad byte is reported only once its line is complete:
 * until then a 431 for that same line, which Python would give first, is possible.
 * Lines completed in earlier calls (they end at entry_start) are split again once, at
 * the end, so every byte is looked at a bounded number of times however it arrives. */
long hs__parse_headers(const char *buf, size_t len, struct hs__head_scan *st,
                       struct hs__header_span *h, size_t *nh)
{
	size_t entry_start = st->line_start;
	*nh = 0;
	for (;;) {
		size_t ls = st->line_start, line_cap = ls + HS__MAX_LINE;
		size_t end = min_size(min_size(len, line_cap), HS__MAX_HEAD);
		const char *p = st->scanned < end
		                    ? memchr(buf + st->scanned, '\n', end - st->scanned)
		                    : NULL;
		if (!p)
			return no_line_end(st, len, end, line_cap);
		size_t nl = (size_t)(p - buf);
		st->scanned = nl + 1;
		if (st->lines >= HS__MAX_HEADERS)
			return HS__HEAD_TOO_MANY;
		size_t ce = content_end(buf, ls, nl);
		if (ce == ls) { /* the empty line: the block is complete */
			resplit_lines(buf, entry_start, h);
			*nh = st->lines;
			return (long)(nl + 1);
		}
		if (!split_field(buf + ls, ce - ls, &h[st->lines]))
			return HS__HEAD_MALFORMED;
		st->lines++;
		st->line_start = nl + 1;
	}
}

/* ------------------------------------------------------------ target and Host */

/* RFC 3986's unreserved and sub-delims: the characters of a reg-name besides "%XX". */
static bool host_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return true;
	return c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL;
}

/* reg-name (an IPv4 address is one too): unreserved, sub-delims and "%" HEXDIG HEXDIG. */
static bool reg_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (n - i < 3 || hs__hex_value((unsigned char)s[i + 1]) < 0 ||
			    hs__hex_value((unsigned char)s[i + 2]) < 0)
				return false;
			i += 2;
		} else if (!host_char((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* The inside of an IP-literal: IPvFuture ("v" 1*HEXDIG "." 1*(unreserved / sub-delims /
 * ":")) or an IPv6 address as inet_pton reads it (no zone identifier). */
static bool ip_literal(const char *s, size_t n)
{
	if (n > 0 && (s[0] == 'v' || s[0] == 'V')) {
		size_t i = 1;
		while (i < n && hs__hex_value((unsigned char)s[i]) >= 0)
			i++;
		if (i == 1 || i == n || s[i] != '.' || i + 1 == n)
			return false;
		for (i++; i < n; i++)
			if (s[i] != ':' && !host_char((unsigned char)s[i]))
				return false;
		return true;
	}
	char text[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	if (n == 0 || n >= sizeof text)
		return false;
	for (size_t i = 0; i < n; i++) /* inet_pton reads a C string: no NUL may end it early */
		if (s[i] != ':' && s[i] != '.' && hs__hex_value((unsigned char)s[i]) < 0)
			return false;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, &addr) == 1;
}

bool hs__host_valid(const char *s, size_t n, bool empty_ok)
{
	size_t host_end;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || !ip_literal(s + 1, (size_t)(close - s) - 1))
			return false;
		host_end = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		host_end = colon ? (size_t)(colon - s) : n;
		if (!reg_name(s, host_end) || (host_end == 0 && !empty_ok))
			return false;
	}
	if (host_end == n)
		return true;
	if (s[host_end] != ':')
		return false;
	for (size_t i = host_end + 1; i < n; i++) /* port = *DIGIT */
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The length of the scheme at the start of t (ALPHA *( ALPHA / DIGIT / "+" / "-" /
 * "." ) then ":"), or 0 when t does not start with one. */
static size_t scheme_length(const char *t, size_t n)
{
	if (n == 0 || !((t[0] | 0x20) >= 'a' && (t[0] | 0x20) <= 'z'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == ':')
			return i;
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '+' && c != '-' && c != '.')
			return 0;
	}
	return 0;
}

static bool span_ieq(const char *s, size_t n, const char *lower)
{
	size_t i = 0;
	for (; i < n && lower[i]; i++)
		if (hs__ascii_lower((unsigned char)s[i]) != (unsigned char)lower[i])
			return false;
	return i == n && lower[i] == '\0';
}

enum hs__target_form hs__target_split(const char *t, size_t n, struct hs__span *authority,
                                      struct hs__span *rest)
{
	if (n > 0 && t[0] == '/')
		return HS__TARGET_ORIGIN; /* the form of almost every request: decided at once */
	size_t sn = scheme_length(t, n);
	if (sn == 0)
		return HS__TARGET_ORIGIN; /* "*", or a relative path Python would serve */
	if (!(span_ieq(t, sn, "http") || span_ieq(t, sn, "https")) || n - sn < 3 ||
	    memcmp(t + sn, "://", 3) != 0)
		return HS__TARGET_BAD_SCHEME;
	size_t a = sn + 3, e = a;
	while (e < n && t[e] != '/' && t[e] != '?' && t[e] != '#')
		e++;
	*authority = (struct hs__span){ t + a, e - a };
	*rest = (struct hs__span){ t + e, n - e };
	/* no userinfo (RFC 9110 4.2.4) and no empty host (4.2.1): the Host rules otherwise */
	if (!hs__host_valid(t + a, e - a, false))
		return HS__TARGET_BAD_AUTHORITY;
	return HS__TARGET_ABSOLUTE;
}
