/*
 * conditional.c: validators and conditional requests (RFC 9110 sections 8.8 and 13) for
 * the static handler. It makes the strong ETag of a file version, matches entity-tag
 * lists (If-Match, If-None-Match), evaluates the preconditions of a GET or HEAD in the
 * order of RFC 9110 13.2.2, and judges If-Range. Pure: field values in, a decision out.
 * If-Modified-Since keeps Python's exact judgement so that requests Python already
 * answers get the same status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "internal.h"
#include "range.h"

size_t hs__etag_format(char out[HS__ETAG_MAX], uint64_t ino, uint64_t size, int64_t mtime_sec,
                       long mtime_nsec)
{
	int n = snprintf(out, HS__ETAG_MAX, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".%09ld\"", ino,
	                 size, (uint64_t)mtime_sec, mtime_nsec);
	return n < 0 ? 0 : (size_t)n;
}

/* ------------------------------------------------------------ entity-tag lists */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc: %x21 / %x23-7E / obs-text */
static bool is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* One entity-tag at s[*i]: [W/] DQUOTE *etagc DQUOTE. *tag and *len give the opaque
 * tag with its quotes. */
static bool read_etag(const char *s, size_t n, size_t *i, bool *weak, const char **tag,
                      size_t *len)
{
	*weak = n - *i >= 2 && s[*i] == 'W' && s[*i + 1] == '/';
	if (*weak)
		*i += 2;
	if (*i >= n || s[*i] != '"')
		return false;
	size_t start = (*i)++;
	while (*i < n && is_etagc((unsigned char)s[*i]))
		(*i)++;
	if (*i >= n || s[*i] != '"')
		return false;
	(*i)++;
	*tag = s + start;
	*len = *i - start;
	return true;
}

static void skip_ows(const char *s, size_t n, size_t *i)
{
	while (*i < n && is_ows(s[*i]))
		(*i)++;
}

static bool only_ows_left(const char *s, size_t n, size_t i)
{
	skip_ows(s, n, &i);
	return i == n;
}

enum hs__etag_match hs__etag_list_match(const char *s, size_t n, const char *etag, bool weak)
{
	size_t i = 0, elen = etag ? strlen(etag) : 0;
	bool matched = false;
	skip_ows(s, n, &i);
	if (i < n && s[i] == '*') /* any current representation: we have one */
		return only_ows_left(s, n, i + 1) ? HS__ETAG_MATCH : HS__ETAG_INVALID;
	for (;;) {
		while (i < n && (is_ows(s[i]) || s[i] == ','))
			i++;
		if (i == n)
			break;
		bool is_weak;
		const char *tag;
		size_t len;
		if (!read_etag(s, n, &i, &is_weak, &tag, &len))
			return HS__ETAG_INVALID;
		skip_ows(s, n, &i);
		if (i < n && s[i] != ',')
			return HS__ETAG_INVALID;
		/* ours is strong: strong comparison fails on a weak tag, weak ignores W/ */
		if (etag && len == elen && memcmp(tag, etag, len) == 0 && (weak || !is_weak))
			matched = true;
	}
	return matched ? HS__ETAG_MATCH : HS__ETAG_NO_MATCH;
}

/* ------------------------------------------------------------ preconditions */

/* Every field line named name as one list: invalid if one is, else a match if one
 * matches. *lines counts the field lines. */
static enum hs__etag_match match_lines(const struct hs_header *h, size_t nh, const char *name,
                                       const char *etag, bool weak, size_t *lines)
{
	enum hs__etag_match m = HS__ETAG_NO_MATCH;
	*lines = 0;
	for (size_t k = 0; k < nh; k++) {
		if (!hs__ascii_ieq(h[k].name, name))
			continue;
		(*lines)++;
		enum hs__etag_match one = hs__etag_list_match(h[k].value, strlen(h[k].value), etag, weak);
		if (one == HS__ETAG_INVALID || m == HS__ETAG_INVALID)
			m = HS__ETAG_INVALID;
		else if (one == HS__ETAG_MATCH)
			m = HS__ETAG_MATCH;
	}
	return m;
}

/* The value of the only field line named name; NULL when there is none, or several
 * (a list of dates is not a date). */
static const char *single(const struct hs_header *h, size_t nh, const char *name, bool first)
{
	const char *v = NULL;
	for (size_t k = 0; k < nh; k++) {
		if (!hs__ascii_ieq(h[k].name, name))
			continue;
		if (v)
			return first ? v : NULL;
		v = h[k].value;
	}
	return v;
}

/* A date as Python's send_head accepts one for If-Modified-Since: valid, and UTC (or
 * without a zone, which Python takes as UTC). */
static bool utc_date(const char *s, int64_t *t)
{
	bool utc;
	return s && hs__httpdate_parse(s, strlen(s), t, &utc) && utc;
}

enum hs__precondition hs__preconditions(const struct hs_header *h, size_t nh,
                                        const struct hs__validators *v)
{
	size_t lines;
	int64_t t;
	/* 1, 2: If-Match, else If-Unmodified-Since (ignored without a Last-Modified) */
	enum hs__etag_match m = match_lines(h, nh, "If-Match", v->etag, false, &lines);
	if (lines > 0) {
		if (m != HS__ETAG_MATCH)
			return HS__PRECOND_FAILED;
	} else if (v->has_mtime && utc_date(single(h, nh, "If-Unmodified-Since", false), &t) &&
	           v->mtime > t) {
		return HS__PRECOND_FAILED;
	}
	/* 3, 4: If-None-Match, else If-Modified-Since (Python reads the first line) */
	m = match_lines(h, nh, "If-None-Match", v->etag, true, &lines);
	if (lines > 0)
		return m == HS__ETAG_MATCH ? HS__PRECOND_NOT_MODIFIED : HS__PRECOND_PROCEED;
	if (v->has_mtime && utc_date(single(h, nh, "If-Modified-Since", true), &t) && v->mtime <= t)
		return HS__PRECOND_NOT_MODIFIED;
	return HS__PRECOND_PROCEED;
}

bool hs__if_range_holds(const char *s, size_t n, const struct hs__validators *v, int64_t now)
{
	size_t i = 0;
	if (n > 0 && (s[0] == '"' || (n > 1 && s[0] == 'W' && s[1] == '/'))) {
		bool weak;
		const char *tag;
		size_t len;
		if (!read_etag(s, n, &i, &weak, &tag, &len) || !only_ows_left(s, n, i))
			return false;
		return !weak && v->etag && len == strlen(v->etag) && memcmp(tag, v->etag, len) == 0;
	}
	int64_t t;
	bool utc;
	if (!v->has_mtime || !hs__httpdate_parse(s, n, &t, &utc) || !utc)
		return false;
	/* A date validates only if the file cannot have changed again within its second. */
	return t == v->mtime && v->mtime < now;
}
