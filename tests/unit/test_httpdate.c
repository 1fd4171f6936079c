/*
 * test_httpdate.c: the date strings of httpdate.c. Formatting must give the bytes of
 * Python's email.utils.formatdate(t, usegmt=True) and log_date_time_string; parsing
 * must accept and reject what email.utils.parsedate_to_datetime does, and report UTC
 * exactly when SimpleHTTPRequestHandler.send_head would compare the date. Every row of
 * the parse table was checked against Python 3.11 (same code as 3.13).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "internal.h"

#define S(lit) lit, sizeof(lit) - 1 /* a literal and its length, NULs included */

static const struct {
	int64_t t;
	const char *want;
} format_cases[] = {
	{0, "Thu, 01 Jan 1970 00:00:00 GMT"},
	{-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
	{784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
	{951782400, "Tue, 29 Feb 2000 00:00:00 GMT"}, /* 2000 is a leap year */
	{951868800, "Wed, 01 Mar 2000 00:00:00 GMT"},
	{4107456000, "Sun, 28 Feb 2100 00:00:00 GMT"}, /* 2100 is not */
	{4107542400, "Mon, 01 Mar 2100 00:00:00 GMT"},
	{1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
	{2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"}, /* 32-bit time_t ends */
	{2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},
	{-2147483648LL, "Fri, 13 Dec 1901 20:45:52 GMT"},
	{-62135596800LL, "Mon, 01 Jan 0001 00:00:00 GMT"}, /* datetime.min */
	{253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT"}, /* datetime.max, whole seconds */
	/* Python raises past datetime's range; we pin to its ends so the length holds. */
	{-62135596801LL, "Mon, 01 Jan 0001 00:00:00 GMT"},
	{253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT"},
	{INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},
	{INT64_MIN, "Mon, 01 Jan 0001 00:00:00 GMT"},
};

static void test_format(void)
{
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
		char out[HS__HTTPDATE_LEN + 1];
		CHECK_INT(hs__httpdate_format(out, (time_t)format_cases[i].t), HS__HTTPDATE_LEN);
		CHECK_STR(out, format_cases[i].want);
	}
}

struct parse_case {
	const char *in;
	size_t n;
	bool ok;     /* parsedate_to_datetime returns rather than raises */
	int64_t t;   /* the instant, offset applied */
	bool is_utc; /* send_head would compare it with the file's mtime */
};

static const struct parse_case parse_cases[] = {
	/* The three HTTP forms (RFC 9110 5.6.7) */
	{S("Sun, 06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("Sunday, 06-Nov-94 08:49:37 GMT"), true, 784111777, true},
	{S("Sun Nov  6 08:49:37 1994"), true, 784111777, true},
	/* Day name optional, comma and its space optional, any case */
	{S("06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("Sun,06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("Sun 06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("sun, 06 NOV 1994 08:49:37 gmt"), true, 784111777, true},
	{S("Foo, 06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("a,b,06 Nov 1994 08:49:37 GMT"), true, 784111777, true},
	{S("06 November 1994 08:49:37 GMT"), true, 784111777, true},
	{S("Nov 06 1994 08:49:37 GMT"), true, 784111777, true},
	/* Missing seconds, dotted times, words in odd orders */
	{S("06 Nov 1994 08:49 GMT"), true, 784111740, true},
	{S("06 Nov 1994 08.49.37 GMT"), true, 784111777, true},
	{S("06 Nov 1994 08.49 GMT"), true, 784111740, true},
	{S("06 Nov 08:49:37 1994 GMT"), true, 784111777, true},
	{S("06 Nov GMT 08:49:37 1994"), true, 784111777, true},
	{S("06 Nov 1994, 08:49:37, GMT"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 GMT extra words here"), true, 784111777, true},
	{S("6 Nov 94 8:9:7"), true, 784109347, true},
	{S("01 Jan 1994 8:49 PM"), true, 757414140, true}, /* "PM" is an unknown zone */
	/* Zones: names and offsets; no zone, -0000 and unknown names mean UTC */
	{S("06 Nov 1994 08:49:37 +0000"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 -0000"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 -0"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 UT"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 z"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 XYZ"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 +01:00"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 GMT\0x"), true, 784111777, true},
	{S("06 Nov 1994 08:49:37 +0100"), true, 784108177, false},
	{S("06 Nov 1994 08:49:37+0100"), true, 784108177, false},
	{S("06 Nov 1994 08:49:37-0130"), true, 784117177, false},
	{S("06 Nov 1994 08:49:37 EST"), true, 784129777, false},
	{S("06 Nov 1994 08:49:37 pdt"), true, 784136977, false},
	{S("06 Nov 1994 08:49:37 +0099"), true, 784105837, false}, /* 99 minutes */
	{S("06 Nov 1994 08:49:37 +2359"), true, 784025437, false},
	{S("06 Nov 1994 08:49:37 +1_00"), true, 784108177, false},
	{S("06 Nov 1994 08:49:37 +2400"), false, 0, false}, /* timezone() wants < 24 h */
	{S("06 Nov 1994 08:49:37 -2399"), false, 0, false},
	{S("06 Nov 1994 08:49:37 +99999999999999999999999"), false, 0, false},
	/* Two-digit years: 69-99 are 19xx, 0-68 20xx; signs and underscores as int() */
	{S("01 Jan 68 00:00:00 GMT"), true, 3092601600, true},
	{S("01 Jan 69 00:00:00 GMT"), true, -31536000, true},
	{S("01 Jan 99 00:00:00 GMT"), true, 915148800, true},
	{S("01 Jan 0 00:00:00 GMT"), true, 946684800, true},
	{S("01 Jan 0000 00:00:00 GMT"), true, 946684800, true},
	{S("01 Jan 0001 00:00:00 GMT"), true, 978307200, true},
	{S("01 Jan 100 00:00:00 GMT"), true, -59011459200, true},
	{S("01 Jan -5 00:00 -5"), true, 788918700, false}, /* year and zone both -5 */
	{S("01 Jan 19_94 0_0:0_0:0_0 GMT"), true, 757382400, true},
	{S("+01 Jan 1994 00:00:00 GMT"), true, 757382400, true},
	{S("01 Jan 1994_ 00:00:00 GMT"), false, 0, false},
	{S("01 Jan 19__94 00:00:00 GMT"), false, 0, false},
	/* Calendar limits: leap years, 1970, 2038, years 1 and 9999 */
	{S("29 Feb 2000 00:00:00 GMT"), true, 951782400, true},
	{S("29 Feb 2024 12:00:00 GMT"), true, 1709208000, true},
	{S("29 Feb 2100 00:00:00 GMT"), false, 0, false},
	{S("29 Feb 2023 00:00:00 GMT"), false, 0, false},
	{S("31 Feb 2020 00:00:00 GMT"), false, 0, false},
	{S("31 Apr 2020 00:00:00 GMT"), false, 0, false},
	{S("00 Jan 2020 00:00:00 GMT"), false, 0, false},
	{S("01 Jan 1970 00:00:00 GMT"), true, 0, true},
	{S("31 Dec 1969 23:59:59 GMT"), true, -1, true},
	{S("19 Jan 2038 03:14:07 GMT"), true, 2147483647, true},
	{S("19 Jan 2038 03:14:08 GMT"), true, 2147483648, true},
	{S("01 Jan XYZ 00:00 -1999"), true, -62135596800, true}, /* -1999 + 2000: year 1 */
	{S("01 Jan XYZ 00:00 -2000"), false, 0, false},         /* year 0 */
	{S("31 Dec 9999 23:59:59 GMT"), true, 253402300799, true},
	{S("31 Dec 9999 23:59:59 -0100"), true, 253402304399, false},
	{S("01 Jan 10000 00:00:00 GMT"), false, 0, false},
	/* Time fields out of range or malformed */
	{S("01 Jan 1994 24:00:00 GMT"), false, 0, false},
	{S("01 Jan 1994 23:60:00 GMT"), false, 0, false},
	{S("01 Jan 1994 23:59:60 GMT"), false, 0, false}, /* no leap seconds in datetime */
	{S("01 Jan 1994 -1:00:00 GMT"), false, 0, false},
	{S("01 Jan 1994 08 GMT"), false, 0, false},
	{S("01 Jan 1994 08:49:37:00 GMT"), false, 0, false},
	{S("01 Jan 1994 08.49.37.1 GMT"), false, 0, false},
	{S("01 Jan 1994 :49:37 GMT"), false, 0, false},
	/* Not dates */
	{S(""), false, 0, false},
	{S(" "), false, 0, false},
	{S("\t\r\n"), false, 0, false},
	{S("Sun,"), false, 0, false},
	{S("Sun, 06"), false, 0, false},
	{S("Sun, 06 Nov"), false, 0, false},
	{S("Sun, 06 Nov 1994"), false, 0, false},
	{S("06 Nov 1994 +0100"), false, 0, false},
	{S("06-Nov-1994 08:49:37"), false, 0, false},
	{S("-Nov-94 08:49:37 GMT"), false, 0, false},
	{S("06--94 08:49:37 GMT"), false, 0, false},
	{S("06 Xyz 1994 08:49:37 GMT"), false, 0, false},
	{S("06 Nov , 08:49:37 GMT"), false, 0, false},
	{S("9999999999999999999999 Nov 1994 08:49:37"), false, 0, false},
	/* Python splits on latin-1 whitespace (NBSP, NEL, \x1c-\x1f) and its isdigit()
	 * takes superscripts, which int() then refuses */
	{S("01\xa0Jan\x85" "1994\x1c" "00:00:00\x1fGMT"), true, 757382400, true},
	{S("01 Jan \xb2" "1994 00:00:00 GMT"), false, 0, false},
	{S("01 Jan 1994 00:00:00 \xb2"), true, 757382400, true},
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		int64_t t = -42;
		bool utc = false;
		bool ok = hs__httpdate_parse(c->in, c->n, &t, &utc);
		if (ok != c->ok)
			fprintf(stderr, "case %zu: [%s]\n", i, c->in);
		CHECK_INT(ok, c->ok);
		if (ok && c->ok) {
			CHECK_INT(t, c->t);
			CHECK_INT(utc, c->is_utc);
		}
	}
}

/* What we write, we read back: every day from 1970 to 2100 at a moving time of day,
 * and the end of datetime's range. Not its start: "0001" is a two-digit year to
 * Python (int() gives 1), so year 1 reads back as 2001, there as here. */
static void test_round_trip(void)
{
	int64_t ends[] = {253402300799LL, 0, 951782400};
	int bad = 0;
	for (int64_t t = 0; t < 4102444800LL; t += 86400 + 997) {
		char s[HS__HTTPDATE_LEN + 1];
		int64_t back;
		bool utc;
		hs__httpdate_format(s, (time_t)t);
		bad += !hs__httpdate_parse(s, HS__HTTPDATE_LEN, &back, &utc) || back != t || !utc;
	}
	CHECK_INT(bad, 0);
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		char s[HS__HTTPDATE_LEN + 1];
		int64_t back = 0;
		bool utc = false;
		hs__httpdate_format(s, (time_t)ends[i]);
		CHECK(hs__httpdate_parse(s, HS__HTTPDATE_LEN, &back, &utc) && utc);
		CHECK_INT(back, ends[i]);
	}
	char s[HS__HTTPDATE_LEN + 1];
	int64_t back = 0;
	bool utc = false;
	hs__httpdate_format(s, (time_t)-62135596800LL);
	CHECK(hs__httpdate_parse(s, HS__HTTPDATE_LEN, &back, &utc) && utc);
	CHECK_INT(back, 978307200); /* 2001-01-01 */
}

/* log_date_time_string: "%02d/%3s/%04d %02d:%02d:%02d" of time.localtime(). */
static void test_logdate(void)
{
	static const struct {
		const char *tz;
		int64_t t;
		const char *want;
	} cases[] = {
		{"UTC0", 0, "01/Jan/1970 00:00:00"},
		{"UTC0", 1742220187, "17/Mar/2025 14:03:07"},
		{"UTC0", 951782400, "29/Feb/2000 00:00:00"},
		{"UTC0", 2147483648, "19/Jan/2038 03:14:08"},
		{"EST5", 0, "31/Dec/1969 19:00:00"},       /* five hours west */
		{"IST-5:30", 0, "01/Jan/1970 05:30:00"},   /* five and a half east */
		{"UTC0", 253402300799LL, "31/Dec/9999 23:59:59"},
		{"IST-5:30", 253402300799LL, "31/Dec/9999 23:59:59"}, /* pinned, not year 10000 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[HS__LOGDATE_LEN + 1];
		setenv("TZ", cases[i].tz, 1);
		tzset();
		CHECK_INT(hs__logdate_format(out, (time_t)cases[i].t), HS__LOGDATE_LEN);
		CHECK_STR(out, cases[i].want);
	}
}

int main(void)
{
	test_format();
	test_parse();
	test_round_trip();
	test_logdate();
	return check_done("test_httpdate");
}
