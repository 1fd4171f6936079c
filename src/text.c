/*
 * text.c: the small text transformations Python's http.server applies to what it
 * shows: html.escape for pages, urllib.parse.quote and unquote for URLs, repr() for
 * error messages and the control-character table of log_message. A request is bytes;
 * Python decodes the request line as latin-1, so byte b stands for code point b, and
 * what Python writes out as UTF-8 we write as the UTF-8 of that code point. Pure
 * functions: no I/O, no state; the buffer functions return 0 or -ENOMEM.
 */
#include <errno.h>
#include <string.h>

#include "chars.h"
#include "internal.h"

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Ends each function below: on failure, out is left as it was before the call. */
static int undo_on_error(struct hs__buf *out, size_t start, int rc)
{
	if (rc < 0)
		out->len = start;
	return rc;
}

/* Appends "\xNN" with lowercase hex, as repr() and log_message write it. */
static int put_hex_escape(struct hs__buf *out, unsigned char c)
{
	char esc[4] = {'\\', 'x', hex_lower[c >> 4], hex_lower[c & 15]};
	return hs__buf_append(out, esc, sizeof esc);
}

/* Appends the UTF-8 encoding of the latin-1 character c (c >= 0x80: two bytes). */
static int put_latin1_as_utf8(struct hs__buf *out, unsigned char c)
{
	if (c < 0x80)
		return hs__buf_append(out, &c, 1);
	char u[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};
	return hs__buf_append(out, u, sizeof u);
}

/* Bytes kept by quote(): A-Z a-z 0-9 "_.-~" (always safe) and "/" (quote's default). */
static bool url_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-' || c == '~' || c == '/';
}

/* The entity html.escape(quote=False) writes for c, or NULL when c stays. */
static const char *html_entity(unsigned char c)
{
	return c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : NULL;
}

int hs__html_escape_latin1(struct hs__buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *ent = html_entity((unsigned char)s[i]);
		rc = ent ? hs__buf_puts(out, ent) : put_latin1_as_utf8(out, (unsigned char)s[i]);
	}
	return undo_on_error(out, start, rc);
}

/* Bytes are copied in runs between the characters that need an entity; the worst case
 * (every byte an "&amp;") is reserved once, so nothing below can fail. */
int hs__html_escape(struct hs__buf *out, const char *s, size_t n)
{
	if (n == 0)
		return 0; /* out->data may still be NULL */
	if (n > SIZE_MAX / 5)
		return -ENOMEM;
	int rc = hs__buf_reserve(out, 5 * n);
	if (rc < 0)
		return rc;
	char *o = out->data + out->len;
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *ent = html_entity((unsigned char)s[i]);
		if (!ent)
			continue;
		memcpy(o, s + run, i - run);
		o += i - run;
		size_t en = strlen(ent);
		memcpy(o, ent, en);
		o += en;
		run = i + 1;
	}
	memcpy(o, s + run, n - run);
	out->len = (size_t)(o + (n - run) - out->data);
	return 0;
}

/* Works on bytes: Python's quote() first encodes its str as UTF-8, and the bytes it
 * then escapes are exactly the bytes we are given. The worst case (every byte %XX) is
 * reserved once; the bytes are then written directly. */
int hs__url_quote(struct hs__buf *out, const char *s, size_t n)
{
	if (n == 0)
		return 0; /* out->data may still be NULL */
	if (n > SIZE_MAX / 3)
		return -ENOMEM;
	int rc = hs__buf_reserve(out, 3 * n);
	if (rc < 0)
		return rc;
	char *o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (url_safe(c)) {
			*o++ = (char)c;
		} else {
			o[0] = '%';
			o[1] = hex_upper[c >> 4];
			o[2] = hex_upper[c & 15];
			o += 3;
		}
	}
	out->len = (size_t)(o - out->data);
	return 0;
}

/* "%" followed by two hex digits is an escape wherever it appears (a "%" is never
 * a hex digit, so escapes cannot overlap); anything else is copied. Python decodes
 * the resulting bytes as UTF-8; we keep them as bytes, which is what a Linux file
 * name is. Writing never overtakes reading, so out may be s. */
size_t hs__url_unquote(char *out, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int hi = s[i] == '%' && i + 2 < n ? hs__hex_value((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 ? hs__hex_value((unsigned char)s[i + 2]) : -1;
		if (lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* Python's str.isprintable() for code points 0x80-0xff: the C1 controls, NO-BREAK
 * SPACE (category Zs) and SOFT HYPHEN (Cf) are not printable. */
static bool latin1_printable(unsigned char c)
{
	return c > 0xa0 && c != 0xad;
}

/* Appends one character of repr()'s body, quote being the chosen quote character. */
static int repr_char(struct hs__buf *out, unsigned char c, char quote)
{
	if (c == (unsigned char)quote || c == '\\') {
		char esc[2] = {'\\', (char)c};
		return hs__buf_append(out, esc, sizeof esc);
	}
	if (c == '\t')
		return hs__buf_puts(out, "\\t");
	if (c == '\n')
		return hs__buf_puts(out, "\\n");
	if (c == '\r')
		return hs__buf_puts(out, "\\r");
	if (c < 0x20 || c == 0x7f)
		return put_hex_escape(out, c);
	if (c < 0x7f)
		return hs__buf_append(out, &c, 1);
	return latin1_printable(c) ? hs__buf_append(out, &c, 1) : put_hex_escape(out, c);
}

/* CPython's unicode_repr: single quotes unless the text holds a ' and no ". */
int hs__py_repr(struct hs__buf *out, const char *s, size_t n)
{
	bool has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
	char quote = has_single && !has_double ? '"' : '\'';
	size_t start = out->len;
	int rc = hs__buf_append(out, &quote, 1);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = repr_char(out, (unsigned char)s[i], quote);
	if (rc == 0)
		rc = hs__buf_append(out, &quote, 1);
	return undo_on_error(out, start, rc);
}

/* message.translate(_control_char_table), then written to a UTF-8 stderr. */
int hs__log_escape(struct hs__buf *out, const char *s, size_t n)
{
	size_t start = out->len;
	int rc = hs__buf_reserve(out, n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			rc = put_hex_escape(out, c);
		else if (c == '\\')
			rc = hs__buf_puts(out, "\\\\");
		else
			rc = put_latin1_as_utf8(out, c);
	}
	return undo_on_error(out, start, rc);
}
