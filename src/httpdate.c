/*
 * httpdate.c: the three date strings the server deals in. hs__httpdate_format writes
 * the Date and Last-Modified value exactly as Python's email.utils.formatdate(t,
 * usegmt=True); hs__httpdate_parse reads If-Modified-Since exactly as
 * email.utils.parsedate_to_datetime does (with all of _parsedate_tz's leniency, and
 * failing wherever Python raises), so that the same requests get a 304; and
 * hs__logdate_format writes the local time of log lines as log_date_time_string. All
 * three are pure (no globals, no locale), so any thread may call them.
 */
#include <stdint.h>
#include <string.h>

#include "chars.h"
#include "internal.h"

static const char month_abbr[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 0001-01-01 of 1970-01-01, and the instants datetime can represent. */
#define DAYS_0001_TO_1970 719162
#define FIRST_SECOND (-62135596800LL) /* 0001-01-01 00:00:00 UTC */
#define LAST_SECOND 253402300799LL    /* 9999-12-31 23:59:59 UTC */

/* Days before the first of each month in a common year. */
static const int days_before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to the date y-m-d, for 1 <= y <= 9999 (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t py = y - 1; /* whole years before y */
	int64_t days = py * 365 + py / 4 - py / 100 + py / 400;
	days += days_before_month[m - 1] + (m > 2 && is_leap(y)) + d - 1;
	return days - DAYS_0001_TO_1970;
}

struct civil {
	int year, month, day, hour, min, sec, wday; /* wday 0 = Monday, as Python's */
};

/* Splits t (clamped to the years 1..9999, the range of Python's datetime) into UTC
 * calendar fields, without gmtime so no libc state is involved. */
static struct civil civil_from_time(int64_t t)
{
	if (t < FIRST_SECOND)
		t = FIRST_SECOND;
	if (t > LAST_SECOND)
		t = LAST_SECOND;
	int64_t secs = t - FIRST_SECOND; /* >= 0 from here on */
	int64_t days = secs / 86400, rem = secs % 86400;
	struct civil c = {.hour = (int)(rem / 3600), .min = (int)(rem / 60 % 60),
	                  .sec = (int)(rem % 60), .wday = (int)(days % 7)}; /* 0001-01-01: Mon */

	/* Peel off 400-, 100-, 4- and 1-year blocks; the last year of a 100- or 4-year
	 * block is the one with an extra day, hence the caps at 3. */
	int64_t n400 = days / 146097, d = days % 146097;
	int64_t n100 = d / 36524 < 3 ? d / 36524 : 3;
	d -= n100 * 36524;
	int64_t n4 = d / 1461;
	d -= n4 * 1461;
	int64_t n1 = d / 365 < 3 ? d / 365 : 3;
	d -= n1 * 365;
	int64_t year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;

	int m = 1;
	while (m < 12 && d >= days_before_month[m] + (m >= 2 && is_leap(year)))
		m++;
	c.year = (int)year;
	c.month = m;
	c.day = (int)(d - days_before_month[m - 1] - (m > 2 && is_leap(year))) + 1;
	return c;
}

/* Writes v as exactly width decimal digits (v must fit). */
static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

size_t hs__httpdate_format(char out[HS__HTTPDATE_LEN + 1], time_t t)
{
	static const char day_abbr[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	struct civil c = civil_from_time((int64_t)t);
	char *p = out;

	memcpy(p, day_abbr[c.wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put_digits(p, c.day, 2);
	*p++ = ' ';
	memcpy(p, month_abbr[c.month - 1], 3);
	p += 3;
	*p++ = ' ';
	p = put_digits(p, c.year, 4);
	*p++ = ' ';
	p = put_digits(p, c.hour, 2);
	*p++ = ':';
	p = put_digits(p, c.min, 2);
	*p++ = ':';
	p = put_digits(p, c.sec, 2);
	memcpy(p, " GMT", 5); /* with the NUL */
	return HS__HTTPDATE_LEN;
}

size_t hs__logdate_format(char out[HS__LOGDATE_LEN + 1], time_t t)
{
	struct tm tm;
	char *p = out;

	/* Python would raise past year 9999; we pin the fields so the length holds. */
	if (!localtime_r(&t, &tm) || tm.tm_year < -1900) {
		tm = (struct tm){.tm_year = -1900, .tm_mday = 1};
	} else if (tm.tm_year > 9999 - 1900) {
		tm = (struct tm){.tm_year = 9999 - 1900, .tm_mon = 11, .tm_mday = 31,
		                 .tm_hour = 23, .tm_min = 59, .tm_sec = 59};
	}
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = '/';
	memcpy(p, month_abbr[tm.tm_mon], 3);
	p += 3;
	*p++ = '/';
	p = put_digits(p, tm.tm_year + 1900, 4);
	*p++ = ' ';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2); /* 60 in a leap second, as Python prints it */
	*p = '\0';
	return HS__LOGDATE_LEN;
}

/* ---------------------------------------------------------------- parsing
 * The parser follows email._parseaddr._parsedate_tz step by step (the order of its
 * swaps is what decides which odd strings pass), then applies datetime's range
 * checks. The header value is Python's latin-1 decoding of the bytes, so "whitespace"
 * and "digit" below are Python's str.split() and str.isdigit() on latin-1. */

struct tok {
	const char *p;
	size_t n;
};

/* str.isdigit() of one latin-1 character: ASCII digits and the superscripts 2, 3, 1. */
static bool py_isdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == 0xb2 || c == 0xb3 || c == 0xb9;
}

/* Splits s into words as str.split() does, storing at most max of them; returns how
 * many there are, counting no further than max + 1. */
static size_t split_words(const char *s, size_t n, struct tok *w, size_t max)
{
	size_t count = 0, at = 0, start, len;
	while (count <= max && hs__py_next_word(s, n, &at, &start, &len)) {
		if (count < max)
			w[count] = (struct tok){s + start, len};
		count++;
	}
	return count;
}

static long tok_find(struct tok t, char c)
{
	const char *q = t.n ? memchr(t.p, c, t.n) : NULL;
	return q ? (long)(q - t.p) : -1;
}

static size_t tok_count(struct tok t, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < t.n; i++)
		k += t.p[i] == c;
	return k;
}

static bool tok_ends_with(struct tok t, char c)
{
	return t.n > 0 && t.p[t.n - 1] == c;
}

/* Case-insensitive equality with a lower-case ASCII literal. No latin-1 letter other
 * than ASCII lower-cases to ASCII, so ASCII folding is what Python's lower() gives. */
static bool tok_is(struct tok t, const char *lit)
{
	size_t n = strlen(lit);
	if (t.n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

static bool is_dayname(struct tok t)
{
	static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	for (size_t i = 0; i < 7; i++)
		if (tok_is(t, days[i]))
			return true;
	return false;
}

/* 1..12 for an abbreviated or full English month name in any case, else 0. */
static int month_number(struct tok t)
{
	static const char *const names[] = {
		"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
		"january", "february", "march", "april", "may", "june", "july", "august",
		"september", "october", "november", "december"};
	for (int i = 0; i < 24; i++)
		if (tok_is(t, names[i]))
			return i % 12 + 1;
	return 0;
}

/* int(t) for a str without whitespace: optional sign, ASCII digits, single underscores
 * between digits. Python's ints are unbounded; ours saturate, which every caller
 * rejects as out of range just as Python would. False where int() raises. */
static bool py_int(struct tok t, int64_t *out)
{
	size_t i = 0;
	bool neg = false, after_digit = false;
	int64_t v = 0;

	if (t.n > 0 && (t.p[0] == '+' || t.p[0] == '-'))
		neg = t.p[i++] == '-';
	for (; i < t.n; i++) {
		char c = t.p[i];
		if (c == '_' && after_digit) {
			after_digit = false;
			continue;
		}
		if (c < '0' || c > '9')
			return false;
		after_digit = true;
		v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (c - '0');
	}
	if (!after_digit) /* empty, a bare sign, or a trailing underscore */
		return false;
	*out = neg ? -v : v;
	return true;
}

/* The five words _parsedate_tz works on: day, month, year, time, zone. */
struct date_words {
	struct tok dd, mm, yy, tm, tz;
};

static void swap_tok(struct tok *a, struct tok *b)
{
	struct tok t = *a;
	*a = *b;
	*b = t;
}

/* Splits "dd-mm-yy" (RFC 850) into exactly three pieces, or returns false. */
static bool split_rfc850(struct tok t, struct tok piece[3])
{
	if (tok_count(t, '-') != 2)
		return false;
	long a = tok_find(t, '-');
	struct tok rest = {t.p + a + 1, t.n - (size_t)a - 1};
	long b = tok_find(rest, '-');
	piece[0] = (struct tok){t.p, (size_t)a};
	piece[1] = (struct tok){rest.p, (size_t)b};
	piece[2] = (struct tok){rest.p + b + 1, rest.n - (size_t)b - 1};
	return true;
}

/* The first half of _parsedate_tz: finds the five words, dropping a day name, taking
 * RFC 850's "06-Nov-94" apart, and splitting a zone glued to the time ("08:49+0100").
 * False where Python returns None. */
static bool pick_words(const char *s, size_t n, struct date_words *dw)
{
	struct tok w[6], d[5];
	size_t nw = split_words(s, n, w, 6);
	struct tok *data = w;

	if (nw == 0)
		return false;
	if (tok_ends_with(w[0], ',') || is_dayname(w[0])) {
		data++, nw--;
	} else {
		for (size_t i = w[0].n; i-- > 0;) /* keep what follows the last comma */
			if (w[0].p[i] == ',') {
				w[0] = (struct tok){w[0].p + i + 1, w[0].n - i - 1};
				break;
			}
	}
	for (size_t i = 0; i < nw && i < 5; i++)
		d[i] = data[i];
	if (nw == 3 && split_rfc850(data[0], d)) {
		d[3] = data[1], d[4] = data[2];
		nw = 5;
	}
	if (nw == 4) {
		struct tok t = d[3];
		long i = tok_find(t, '+');
		if (i == -1)
			i = tok_find(t, '-');
		if (i > 0) {
			d[3] = (struct tok){t.p, (size_t)i};
			d[4] = (struct tok){t.p + i, t.n - (size_t)i};
		} else {
			d[4] = (struct tok){t.p, 0}; /* no zone */
		}
		nw = 5;
	}
	if (nw < 5)
		return false;
	*dw = (struct date_words){d[0], d[1], d[2], d[3], d[4]};
	return true;
}

/* Splits the time word into hours, minutes and seconds ("0" when absent), on ":" or,
 * for clients that write "08.49.37", on ".". */
static bool split_time(struct tok tm, struct tok hms[3])
{
	char sep = ':';
	size_t parts = tok_count(tm, ':') + 1;

	if (parts == 1 && tok_find(tm, '.') >= 0) {
		sep = '.';
		parts = tok_count(tm, '.') + 1;
	}
	if (parts != 2 && parts != 3)
		return false;
	hms[2] = (struct tok){"0", 1};
	for (size_t i = 0; i < parts; i++) {
		long k = i + 1 < parts ? tok_find(tm, sep) : (long)tm.n;
		hms[i] = (struct tok){tm.p, (size_t)k};
		if (i + 1 < parts)
			tm = (struct tok){tm.p + k + 1, tm.n - (size_t)k - 1};
	}
	return true;
}

/* The zone: *has_zone false when Python's offset is None (an unknown name or -0000),
 * else *secs east of UTC. False where datetime.timezone would raise (24 h or more). */
static bool zone_offset(struct tok tz, bool *has_zone, int64_t *secs)
{
	static const struct {
		const char *name;
		int hhmm;
	} zones[] = {{"ut", 0},     {"utc", 0},    {"gmt", 0},    {"z", 0},      {"ast", -400},
	             {"adt", -300}, {"est", -500}, {"edt", -400}, {"cst", -600}, {"cdt", -500},
	             {"mst", -700}, {"mdt", -600}, {"pst", -800}, {"pdt", -700}};
	int64_t v = 0;
	bool known = false;

	for (size_t i = 0; i < sizeof zones / sizeof zones[0] && !known; i++)
		if (tok_is(tz, zones[i].name))
			v = zones[i].hhmm, known = true;
	if (!known && (!py_int(tz, &v) || (v == 0 && tz.p[0] == '-'))) {
		*has_zone = false;
		return true;
	}
	if (v <= -2400 || v >= 2400) /* 24 hours or more, whatever the minutes */
		return false;
	int64_t a = v < 0 ? -v : v;
	*secs = (v < 0 ? -1 : 1) * (a / 100 * 3600 + a % 100 * 60);
	*has_zone = true;
	return *secs > -86400 && *secs < 86400;
}

/* The second half of _parsedate_tz: puts the words in their places (Python swaps them
 * around to accept "Nov 06 1994", "08:49 1994" and zone-before-year orders), then
 * converts them with int(). The zone word is left in w->tz. */
static bool read_fields(struct date_words *w, int64_t f[6])
{
	struct tok hms[3];
	int month = month_number(w->mm);

	if (!w->dd.n || !w->mm.n || !w->yy.n)
		return false;
	if (!month) { /* "Nov 06": the month came first */
		month = month_number(w->dd);
		if (!month)
			return false;
		w->dd = w->mm;
	}
	if (tok_ends_with(w->dd, ','))
		w->dd.n--;
	if (tok_find(w->yy, ':') > 0) /* asctime: the time stands where the year should */
		swap_tok(&w->yy, &w->tm);
	if (!w->yy.n || (tok_ends_with(w->yy, ',') && --w->yy.n == 0))
		return false;
	if (!py_isdigit((unsigned char)w->yy.p[0])) /* zone before year */
		swap_tok(&w->yy, &w->tz);
	if (tok_ends_with(w->tm, ','))
		w->tm.n--;
	if (!split_time(w->tm, hms))
		return false;
	f[1] = month;
	if (!py_int(w->yy, &f[0]) || !py_int(w->dd, &f[2]) || !py_int(hms[0], &f[3]) ||
	    !py_int(hms[1], &f[4]) || !py_int(hms[2], &f[5]))
		return false;
	if (f[0] < 100) /* two-digit years, as POSIX: 69-99 are 19xx, 0-68 are 20xx */
		f[0] += f[0] > 68 ? 1900 : 2000;
	return true;
}

bool hs__httpdate_parse(const char *s, size_t n, int64_t *out, bool *is_utc)
{
	struct date_words w;
	int64_t f[6], offset = 0; /* year, month, day, hour, minute, second */
	bool has_zone;

	if (!pick_words(s, n, &w) || !read_fields(&w, f))
		return false;
	if (!zone_offset(w.tz, &has_zone, &offset))
		return false;
	/* datetime(...) raises ValueError outside these ranges. */
	if (f[0] < 1 || f[0] > 9999 || f[2] < 1 || f[2] > days_in_month(f[0], (int)f[1]) ||
	    f[3] < 0 || f[3] > 23 || f[4] < 0 || f[4] > 59 || f[5] < 0 || f[5] > 59)
		return false;
	*out = days_from_civil(f[0], (int)f[1], (int)f[2]) * 86400 + f[3] * 3600 + f[4] * 60 +
	       f[5] - offset;
	/* No zone is taken as UTC by send_head; offset 0 is datetime.timezone.utc itself. */
	*is_utc = !has_zone || offset == 0;
	return true;
}
