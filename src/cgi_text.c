/*
 * cgi_text.c: the pure text work of the CGI handler. First the Python functions whose
 * exact results reach a script (SCRIPT_NAME, PATH_INFO, QUERY_STRING, REMOTE_USER) or a
 * client (the 404/403 messages): urllib.parse.unquote with CPython's UTF-8 'replace'
 * decoding, http.server._url_collapse_path, translate_path's normalisation, and
 * base64.decodebytes. Python holds these as str; we hold UTF-8, and convert from the
 * latin-1 Python decodes the request with. Then the parser of a script's header block
 * (RFC 3875 section 6), strict where a lenient reading would let a script's garbage
 * reach the client as headers.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cgi.h"
#include "chars.h"

/* ------------------------------------------------------------ encodings */

static int put_utf8(struct hs__buf *out, unsigned cp)
{
	char b[3];
	if (cp < 0x80) {
		b[0] = (char)cp;
		return hs__buf_append(out, b, 1);
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return hs__buf_append(out, b, 2);
	}
	b[0] = (char)(0xe0 | (cp >> 12));
	b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[2] = (char)(0x80 | (cp & 0x3f));
	return hs__buf_append(out, b, 3);
}

int hs__latin1_to_utf8(struct hs__buf *out, const char *s, size_t n)
{
	int rc = hs__buf_reserve(out, n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = put_utf8(out, (unsigned char)s[i]);
	return rc;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when the bytes
 * there are not one; *bad is then the maximal invalid subpart CPython replaces. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t need;
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		need = 1;
	else if (b >= 0xe0 && b <= 0xef)
		need = 2, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
	else if (b >= 0xf0 && b <= 0xf4)
		need = 3, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
	else
		return *bad = 1, 0;
	size_t k = 0;
	while (k < need && 1 + k < n) {
		unsigned char c = s[1 + k];
		if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xbf))
			break;
		k++;
	}
	if (k == need)
		return need + 1;
	*bad = k + 1;
	return 0;
}

/* bytes.decode('utf-8', 'replace') */
static int decode_utf8_replace(struct hs__buf *out, const char *s, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		size_t bad = 0, len = utf8_seq((const unsigned char *)s + i, n - i, &bad);
		if (len == 1 && s[i] == '\0') {
			rc = hs__buf_append(out, "\xff", 1); /* NUL: see hs__py_unquote */
			i++;
		} else if (len) {
			rc = hs__buf_append(out, s + i, len);
			i += len;
		} else {
			rc = hs__buf_append(out, "\xef\xbf\xbd", 3);
			i += bad;
		}
	}
	return rc;
}

int hs__utf8_to_latin1(struct hs__buf *out, const char *s, size_t n)
{
	int rc = hs__buf_reserve(out, n);
	for (size_t i = 0; i < n && rc == 0;) {
		size_t bad = 0, len = utf8_seq((const unsigned char *)s + i, n - i, &bad);
		unsigned char ch = (unsigned char)s[i];
		if (len == 2 && ch <= 0xc3)
			ch = (unsigned char)(((ch & 0x1f) << 6) | (s[i + 1] & 0x3f));
		else if (ch == 0xff)
			ch = '\0', len = 1; /* NUL as hs__py_unquote writes it */
		else if (len != 1)
			ch = '?';
		rc = hs__buf_append(out, &ch, 1);
		i += len ? len : bad;
	}
	return rc;
}

/* ------------------------------------------------------------ unquote */

/* unquote_to_bytes of an ASCII run, then its UTF-8 'replace' decoding. */
static int unquote_ascii_run(struct hs__buf *out, const char *s, size_t n)
{
	char small[256];
	struct hs__buf tmp = {0};
	char *bytes = n <= sizeof small ? small : NULL;
	if (!bytes) {
		if (hs__buf_reserve(&tmp, n) < 0)
			return -ENOMEM;
		bytes = tmp.data;
	}
	size_t m = hs__url_unquote(bytes, s, n);
	int rc = decode_utf8_replace(out, bytes, m);
	hs__buf_free(&tmp);
	return rc;
}

int hs__py_unquote(struct hs__buf *out, const char *s, size_t n, bool latin1)
{
	int rc = 0;
	size_t i = 0;
	while (i < n && rc == 0) {
		size_t j = i;
		while (j < n && (unsigned char)s[j] < 0x80)
			j++;
		rc = unquote_ascii_run(out, s + i, j - i);
		for (i = j; i < n && (unsigned char)s[i] >= 0x80 && rc == 0; i++)
			rc = latin1 ? put_utf8(out, (unsigned char)s[i]) : hs__buf_append(out, s + i, 1);
	}
	return rc;
}

/* ------------------------------------------------------------ paths */

/* The words of a '/'-separated path as a stack of [start, end) offsets into p. */
struct words {
	size_t (*at)[2];
	size_t n, cap;
	struct hs__buf store;
};

static int words_push(struct words *w, size_t start, size_t end)
{
	if (w->n == w->cap) {
		size_t need = (w->cap ? w->cap * 2 : 16) * sizeof *w->at;
		w->store.len = w->n * sizeof *w->at;
		if (hs__buf_reserve(&w->store, need - w->store.len) < 0)
			return -ENOMEM;
		w->at = (size_t(*)[2])(void *)w->store.data;
		w->cap = w->store.cap / sizeof *w->at;
	}
	w->at[w->n][0] = start;
	w->at[w->n][1] = end;
	w->n++;
	return 0;
}

/* Appends the words, '/'-separated, with a leading '/' when lead. */
static int words_join(struct hs__buf *out, const char *p, const struct words *w, bool lead)
{
	int rc = 0;
	for (size_t i = 0; i < w->n && rc == 0; i++) {
		if (i > 0 || lead)
			rc = hs__buf_append(out, "/", 1);
		rc = rc ?: hs__buf_append(out, p + w->at[i][0], w->at[i][1] - w->at[i][0]);
	}
	return rc;
}

static bool word_is(const char *p, size_t start, size_t end, const char *s)
{
	return end - start == strlen(s) && memcmp(p + start, s, end - start) == 0;
}

/* The dot-segment walk both CGI paths use: the words of p[0..n) onto w, "." and empty
 * words dropped, ".." removing the word before it. _url_collapse_path (tail_start set)
 * walks all words but the last, whose start it returns, and fails on a ".." with nothing
 * before it (head_parts.pop() on an empty list); posixpath.normpath with translate_path's
 * filter (tail_start NULL) walks them all and drops such a "..". */
static int walk_words(struct words *w, const char *p, size_t n, size_t *tail_start)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n ? p[i] != '/' : tail_start != NULL)
			continue;
		if (word_is(p, start, i, "..")) {
			if (w->n == 0 && tail_start)
				return -EINVAL;
			if (w->n > 0)
				w->n--;
		} else if (i > start && !word_is(p, start, i, ".")) {
			if (words_push(w, start, i) < 0)
				return -ENOMEM;
		}
		start = i + 1;
	}
	if (tail_start)
		*tail_start = start;
	return 0;
}

int hs__cgi_collapse_path(struct hs__buf *out, const char *target, size_t n)
{
	const char *q = memchr(target, '?', n);
	size_t plen = q ? (size_t)(q - target) : n;
	struct hs__buf path = {0};
	struct words w = {0};
	size_t tail;
	int rc = hs__py_unquote(&path, target, plen, true);
	rc = rc ?: walk_words(&w, path.data ? path.data : "", path.len, &tail);
	if (rc == 0) {
		const char *p = path.data ? path.data : "";
		size_t tail_end = path.len;
		if (word_is(p, tail, tail_end, "..")) {
			if (w.n == 0)
				rc = -EINVAL;
			else
				w.n--;
			tail_end = tail;
		} else if (word_is(p, tail, tail_end, ".")) {
			tail_end = tail;
		}
		rc = rc ?: hs__buf_append(out, "/", 1);
		rc = rc ?: words_join(out, p, &w, false);
		rc = rc ?: hs__buf_append(out, "/", 1);
		rc = rc ?: hs__buf_append(out, p + tail, tail_end - tail);
		if (q && q + 1 < target + n) /* "if query:" - an empty query adds nothing */
			rc = rc ?: hs__buf_append(out, "?", 1) ?: hs__latin1_to_utf8(out, q + 1, n - plen - 1);
		rc = rc ?: hs__buf_append(out, "", 1);
	}
	hs__buf_free(&path);
	hs__buf_free(&w.store);
	return rc;
}

size_t hs__cgi_find_dir(const char *collapsed, const char *const *dirs)
{
	const char *sep = collapsed[0] ? strchr(collapsed + 1, '/') : NULL;
	for (; sep; sep = strchr(sep + 1, '/')) {
		size_t len = (size_t)(sep - collapsed);
		for (size_t i = 0; dirs[i]; i++)
			if (strlen(dirs[i]) == len && memcmp(dirs[i], collapsed, len) == 0)
				return len;
	}
	return 0;
}

/* The length of the UTF-8 text p[0..n) once str.rstrip() has removed the whitespace
 * Python sees at its end: ASCII's, and U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
 * U+2029, U+202F, U+205F and U+3000 as their UTF-8 sequences (never a lone byte of
 * another character, as 0x85 ending "Å"). */
static size_t utf8_rstrip(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	while (n > 0) {
		unsigned char last = s[n - 1];
		if (last < 0x80 && hs__py_space(last)) {
			n--;
		} else if (n >= 2 && s[n - 2] == 0xc2 && (last == 0x85 || last == 0xa0)) {
			n -= 2;
		} else if (n >= 3) {
			unsigned char a = s[n - 3], b = s[n - 2];
			bool space = (a == 0xe1 && b == 0x9a && last == 0x80) ||
			             (a == 0xe2 && b == 0x80 && (last <= 0x8a || last == 0xa8 ||
			                                         last == 0xa9 || last == 0xaf)) ||
			             (a == 0xe2 && b == 0x81 && last == 0x9f) ||
			             (a == 0xe3 && b == 0x80 && last == 0x80);
			if (!space)
				break;
			n -= 3;
		} else {
			break;
		}
	}
	return n;
}

int hs__cgi_translate(struct hs__buf *rel, const char *path, size_t n, bool *trailing_slash)
{
	for (size_t i = 0; i < n; i++)
		if (path[i] == '?' || path[i] == '#') {
			n = i;
			break;
		}
	size_t end = utf8_rstrip(path, n); /* path.rstrip().endswith('/') */
	*trailing_slash = end > 0 && path[end - 1] == '/';
	struct hs__buf dec = {0};
	struct words w = {0};
	int rc = hs__py_unquote(&dec, path, n, false);
	rc = rc ?: walk_words(&w, dec.data ? dec.data : "", dec.len, NULL);
	rc = rc ?: words_join(rel, dec.data, &w, false);
	rc = rc ?: hs__buf_append(rel, "", 1);
	hs__buf_free(&dec);
	hs__buf_free(&w.store);
	return rc;
}

/* ------------------------------------------------------------ Basic credentials */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* binascii.a2b_base64 in its lenient mode: characters outside the alphabet skipped,
 * decoding stops at a complete pad; false for "Incorrect padding" and a lone digit. */
static bool a2b_base64(const char *s, size_t n, struct hs__buf *out)
{
	int quad = 0, pads = 0;
	unsigned left = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			if (quad >= 2 && quad + ++pads >= 4)
				return true;
			continue;
		}
		int v = b64_value(c);
		if (v < 0)
			continue;
		pads = 0;
		unsigned char byte;
		switch (quad) {
		case 0:
			left = (unsigned)v, quad = 1;
			continue;
		case 1:
			byte = (unsigned char)((left << 2) | ((unsigned)v >> 4)), left = (unsigned)v & 0xf;
			break;
		case 2:
			byte = (unsigned char)((left << 4) | ((unsigned)v >> 2)), left = (unsigned)v & 0x3;
			break;
		default:
			byte = (unsigned char)((left << 6) | (unsigned)v), left = 0;
			break;
		}
		quad = (quad + 1) % 4;
		if (hs__buf_append(out, &byte, 1) < 0)
			return false;
	}
	return quad == 0;
}

bool hs__cgi_basic_user(const char *b64, size_t n, struct hs__buf *user)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)b64[i] >= 0x80)
			return false; /* .encode('ascii') */
	struct hs__buf raw = {0};
	bool ok = a2b_base64(b64, n, &raw);
	const char *p = raw.data ? raw.data : "";
	for (size_t i = 0; ok && i < raw.len; i++)
		ok = (unsigned char)p[i] < 0x80; /* .decode('ascii') */
	const char *colon = ok ? memchr(p, ':', raw.len) : NULL;
	ok = colon && !memchr(colon + 1, ':', raw.len - (size_t)(colon + 1 - p));
	if (ok) /* exactly two parts */
		ok = hs__buf_append(user, p, (size_t)(colon - p)) == 0 && hs__buf_append(user, "", 1) == 0;
	hs__buf_free(&raw);
	return ok;
}

/* ------------------------------------------------------------ the header block */

static const char *const hop_by_hop[] = {
	"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", NULL,
};

static bool span_is(struct hs__span s, const char *name)
{
	return s.n == strlen(name) && strncasecmp(s.p, name, s.n) == 0;
}

static bool parse_digits(struct hs__span s, long long *out)
{
	long long v = 0;
	if (s.n == 0 || s.n > 18)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	*out = v;
	return true;
}

/* Status: three digits, 200 to 599, then optionally a space and a reason phrase. */
static const char *take_status(struct hs__cgi_head *h, struct hs__span v)
{
	long long code;
	if (h->status)
		return "more than one Status field";
	if (v.n < 3 || !parse_digits((struct hs__span){v.p, 3}, &code) || code < 200 || code > 599 ||
	    (v.n > 3 && v.p[3] != ' '))
		return "Status is not a code from 200 to 599 and a reason";
	h->status = (int)code;
	h->reason = v.n > 4 ? (struct hs__span){v.p + 4, v.n - 4} : (struct hs__span){"", 0};
	return NULL;
}

/* One field line (its line end removed). */
static const char *take_field(struct hs__cgi_head *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		return "a continuation line";
	if (!colon || colon == p)
		return "a line that is not a header field";
	struct hs__span name = {p, (size_t)(colon - p)}, v = {colon + 1, n - name.n - 1};
	for (size_t i = 0; i < name.n; i++)
		if (!hs__is_tchar((unsigned char)name.p[i]))
			return "a header name with a character outside RFC 9110's token";
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "a control character in a header value";
	}
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t'))
		v.p++, v.n--;
	while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	if (span_is(name, "Status"))
		return take_status(h, v);
	if (span_is(name, "Content-Length")) {
		long long len;
		if (!parse_digits(v, &len))
			return "Content-Length is not a number";
		if (h->content_length >= 0 && h->content_length != len)
			return "two different Content-Length values";
		if (h->content_length >= 0)
			return NULL; /* the same value again: send it once */
		h->content_length = len;
	}
	h->location |= span_is(name, "Location");
	h->content_type |= span_is(name, "Content-Type");
	for (size_t i = 0; hop_by_hop[i]; i++)
		if (span_is(name, hop_by_hop[i]))
			return NULL; /* the framing is ours to choose */
	if (h->nfields == HS__CGI_MAX_FIELDS)
		return "more than 100 header fields";
	h->fields[h->nfields++] = (struct hs__cgi_field){name, v};
	return NULL;
}

long hs__cgi_parse_head(const char *buf, size_t len, struct hs__cgi_head *h)
{
	*h = (struct hs__cgi_head){.content_length = -1};
	size_t limit = len < HS__CGI_MAX_HEAD ? len : HS__CGI_MAX_HEAD;
	size_t start = 0;
	for (;;) {
		const char *nl = memchr(buf + start, '\n', limit - start);
		if (!nl) {
			if (len < HS__CGI_MAX_HEAD)
				return 0;
			h->error = "a header block larger than 64 KiB";
			return -1;
		}
		size_t end = (size_t)(nl - buf), line = end;
		if (line > start && buf[line - 1] == '\r')
			line--;
		if (line == start)
			return (long)(end + 1);
		if (memchr(buf + start, '\r', line - start)) {
			h->error = "a bare CR in a header line";
			return -1;
		}
		h->error = take_field(h, buf + start, line - start);
		if (h->error)
			return -1;
		start = end + 1;
	}
}
