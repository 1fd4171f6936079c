/*
 * encoding.c: Accept-Encoding (RFC 9110 section 12.5.3), for choosing a precompressed
 * sibling (file.br, file.gz) of a static file. Pure: field lines go in one at a time (a
 * header sent on several lines is one list), a table of q-values comes out, and the
 * choice among the codings on disk follows the client's weights. Malformed elements
 * refuse the coding they name rather than guess, as nginx does.
 */
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "range.h"

void hs__accept_encoding_init(struct hs__accept_encoding *ae)
{
	for (int c = 0; c < HS__CODINGS; c++)
		ae->q[c] = -1;
	ae->star = -1;
	ae->present = false;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_ows(const char *s, size_t n, size_t *i)
{
	while (*i < n && is_ows(s[*i]))
		(*i)++;
}

static size_t read_token(const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	while (*i < n && hs__is_tchar((unsigned char)s[*i]))
		(*i)++;
	return *i - start;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if
 * s[0..n) is not one. */
static int parse_qvalue(const char *s, size_t n)
{
	if (n == 0 || (s[0] != '0' && s[0] != '1') || n > 5 || (n > 1 && s[1] != '.'))
		return -1;
	int q = (s[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q;
}

/* A parameter value: a token or a quoted-string; false if neither. */
static bool skip_param_value(const char *s, size_t n, size_t *i)
{
	if (*i < n && s[*i] == '"') {
		for ((*i)++; *i < n && s[*i] != '"'; (*i)++)
			if (s[*i] == '\\' && *i + 1 < n)
				(*i)++;
		return *i < n && s[(*i)++] == '"';
	}
	return read_token(s, n, i) > 0;
}

/* The parameters after a coding: returns its q (1000 by default), -1 when malformed. */
static int read_weight(const char *s, size_t n, size_t *i)
{
	int q = 1000;
	for (;;) {
		skip_ows(s, n, i);
		if (*i >= n || s[*i] != ';')
			return q;
		(*i)++;
		skip_ows(s, n, i);
		size_t name = *i, name_len = read_token(s, n, i);
		if (name_len == 0 || *i >= n || s[*i] != '=')
			return -1;
		size_t value = ++(*i);
		if (!skip_param_value(s, n, i))
			return -1;
		if (name_len == 1 && (s[name] == 'q' || s[name] == 'Q') &&
		    (q = parse_qvalue(s + value, *i - value)) < 0)
			return -1;
	}
}

static int coding_of(const char *s, size_t n)
{
	if (n == 4 && strncasecmp(s, "gzip", 4) == 0)
		return HS__CODING_GZIP;
	if (n == 6 && strncasecmp(s, "x-gzip", 6) == 0)
		return HS__CODING_GZIP;
	if (n == 2 && strncasecmp(s, "br", 2) == 0)
		return HS__CODING_BR;
	if (n == 8 && strncasecmp(s, "identity", 8) == 0)
		return HS__CODING_IDENTITY;
	if (n == 1 && s[0] == '*')
		return HS__CODINGS; /* stands for "*" */
	return -1;
}

void hs__accept_encoding_add(struct hs__accept_encoding *ae, const char *s, size_t n)
{
	size_t i = 0;
	ae->present = true;
	for (;;) {
		while (i < n && (is_ows(s[i]) || s[i] == ','))
			i++;
		if (i >= n)
			return;
		size_t name = i, name_len = read_token(s, n, &i);
		int q = name_len ? read_weight(s, n, &i) : -1;
		skip_ows(s, n, &i);
		if (i < n && s[i] != ',') {
			q = -1; /* trailing garbage: skip to the next element */
			while (i < n && s[i] != ',')
				i++;
		}
		int c = coding_of(s + name, name_len);
		int *slot = c == HS__CODINGS ? &ae->star : c >= 0 ? &ae->q[c] : NULL;
		if (slot && *slot < 0) /* the first mention wins */
			*slot = q < 0 ? 0 : q;
	}
}

int hs__accept_encoding_q(const struct hs__accept_encoding *ae, enum hs__coding c)
{
	if (ae->q[c] >= 0)
		return ae->q[c];
	if (ae->star >= 0)
		return ae->star;
	return c == HS__CODING_IDENTITY ? 1 : 0;
}

enum hs__coding hs__accept_encoding_choose(const struct hs__accept_encoding *ae,
                                           unsigned available)
{
	static const enum hs__coding preference[] = {HS__CODING_BR, HS__CODING_GZIP};
	enum hs__coding best = HS__CODING_IDENTITY;
	int best_q = 0;
	if (!ae->present)
		return HS__CODING_IDENTITY;
	for (size_t k = 0; k < sizeof preference / sizeof preference[0]; k++) {
		int q = hs__accept_encoding_q(ae, preference[k]);
		if ((available & (1u << preference[k])) && q > best_q) {
			best = preference[k];
			best_q = q;
		}
	}
	if (best != HS__CODING_IDENTITY && hs__accept_encoding_q(ae, HS__CODING_IDENTITY) > best_q)
		return HS__CODING_IDENTITY;
	return best;
}
