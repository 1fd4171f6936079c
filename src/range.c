/*
 * range.c: the Range request header (RFC 9110 section 14) against a file of known size.
 * Pure: it reads the field value and nothing else, and decides between the four answers
 * a server can give: ignore the field (it is not a valid bytes range set), the whole file
 * (valid but not worth or not safe to split), 206 with disjoint ranges, or 416. Numbers
 * are compared as digit strings and valued with saturation, so no input can overflow:
 * a first position past the end is unsatisfiable, a last position or a suffix past it
 * is clamped. Where RFC 9110 leaves a choice this follows nginx, and is stricter where
 * that protects the server (overlapping ranges get the whole file).
 */
#include <string.h>
#include <strings.h>

#include "range.h"

/* A run of digits without its leading zeros (n == 0 is the number 0). */
struct digits {
	const char *p;
	size_t n;
};

struct spec {
	bool suffix;         /* "-N": the last N bytes */
	bool has_last;       /* "A-B" rather than "A-" */
	struct digits first; /* unused for a suffix */
	struct digits last;  /* the suffix length for a suffix */
};

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1*DIGIT at s[*i]; false (nothing consumed) when there is no digit. */
static bool read_digits(const char *s, size_t n, size_t *i, struct digits *d)
{
	size_t start = *i, z;
	while (*i < n && is_digit(s[*i]))
		(*i)++;
	for (z = start; z < *i && s[z] == '0'; z++)
		;
	d->p = s + z;
	d->n = *i - z;
	return *i > start;
}

/* The value, UINT64_MAX for anything at or above it. */
static uint64_t digits_value(struct digits d)
{
	uint64_t v = 0;
	for (size_t i = 0; i < d.n; i++) {
		unsigned dig = (unsigned)(d.p[i] - '0');
		if (v > (UINT64_MAX - dig) / 10)
			return UINT64_MAX;
		v = v * 10 + dig;
	}
	return v;
}

/* a < b exactly, whatever their lengths. */
static bool digits_less(struct digits a, struct digits b)
{
	if (a.n != b.n)
		return a.n < b.n;
	return a.n > 0 && memcmp(a.p, b.p, a.n) < 0;
}

/* One range-spec at s[*i]: first-last, first- or -suffix. False when it is not one, or
 * when last < first (RFC 9110 14.1.1: such a range-spec makes the whole set invalid). */
static bool read_spec(const char *s, size_t n, size_t *i, struct spec *sp)
{
	*sp = (struct spec){0};
	if (*i < n && s[*i] == '-') {
		(*i)++;
		sp->suffix = true;
		return read_digits(s, n, i, &sp->last);
	}
	if (!read_digits(s, n, i, &sp->first) || *i >= n || s[*i] != '-')
		return false;
	(*i)++;
	if (*i < n && is_digit(s[*i])) {
		sp->has_last = true;
		read_digits(s, n, i, &sp->last);
		return !digits_less(sp->last, sp->first);
	}
	return true;
}

/* The bytes sp selects in size bytes; false when it selects none (unsatisfiable). */
static bool resolve(const struct spec *sp, uint64_t size, struct hs__range *r)
{
	if (sp->suffix) {
		uint64_t len = digits_value(sp->last);
		if (len == 0 || size == 0)
			return false;
		r->first = len >= size ? 0 : size - len;
		r->last = size - 1;
		return true;
	}
	uint64_t first = digits_value(sp->first);
	if (first >= size)
		return false;
	uint64_t last = sp->has_last ? digits_value(sp->last) : UINT64_MAX;
	r->first = first;
	r->last = last < size - 1 ? last : size - 1;
	return true;
}

/* Whether any two of the n ranges share a byte. O(n^2), n <= HS__MAX_RANGES. */
static bool overlapping(const struct hs__range *r, size_t n)
{
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (r[a].first <= r[b].last && r[b].first <= r[a].last)
				return true;
	return false;
}

static void skip_separators(const char *s, size_t n, size_t *i)
{
	while (*i < n && (is_ows(s[*i]) || s[*i] == ','))
		(*i)++;
}

enum hs__range_status hs__range_parse(const char *s, size_t n, uint64_t size,
                                      struct hs__range *out, size_t *count)
{
	size_t i = 6, specs = 0, found = 0;
	bool whole = false;
	*count = 0;
	if (n < 6 || strncasecmp(s, "bytes=", 6) != 0)
		return HS__RANGE_IGNORE;
	for (skip_separators(s, n, &i); i < n; skip_separators(s, n, &i)) {
		struct spec sp;
		struct hs__range r;
		if (!read_spec(s, n, &i, &sp))
			return HS__RANGE_IGNORE;
		while (i < n && is_ows(s[i]))
			i++;
		if (i < n && s[i] != ',')
			return HS__RANGE_IGNORE;
		specs++;
		if (size == 0 && (sp.suffix || sp.first.n == 0))
			whole = true; /* nginx: "0-" or "-N" of an empty file is the (empty) file */
		else if (resolve(&sp, size, &r) && found++ < HS__MAX_RANGES)
			out[found - 1] = r;
	}
	if (specs == 0)
		return HS__RANGE_IGNORE;
	if (whole)
		return HS__RANGE_WHOLE;
	if (found == 0)
		return HS__RANGE_UNSATISFIABLE;
	/* Disjoint ranges inside the file never add up to more than the file. */
	if (found > HS__MAX_RANGES || overlapping(out, found))
		return HS__RANGE_WHOLE;
	*count = found;
	return HS__RANGE_PARTIAL;
}
