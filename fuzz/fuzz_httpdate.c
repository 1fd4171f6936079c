/*
 * fuzz_httpdate.c: the date parser (hs__httpdate_parse, If-Modified-Since as
 * email.utils.parsedate_to_datetime reads it) and the formatter beside it.
 *
 * The first input byte picks a mode. Parse mode (even): the rest is a header value.
 * Properties: no crash or undefined behaviour whatever the bytes; an accepted date is
 * an instant Python's datetime can hold (years 1 to 9999, shifted by a zone offset of
 * less than a day); and when it is at or after the year 100 (Python reads smaller
 * years as two-digit ones), formatting it and parsing the text again gives the same
 * instant, as UTC. Round-trip mode (odd): the next 8 bytes are an instant, brought
 * into the years 100 to 9999; its IMF-fixdate is 29 bytes of the right shape and
 * parses back to it.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "internal.h"

#define FIRST_SECOND (-62135596800LL) /* 0001-01-01 00:00:00 UTC */
#define YEAR_100 (-59011459200LL)     /* 0100-01-01 00:00:00 UTC */
#define LAST_SECOND 253402300799LL    /* 9999-12-31 23:59:59 UTC */

static void round_trip(int64_t t)
{
	char text[HS__HTTPDATE_LEN + 1];
	FUZZ_ASSERT(hs__httpdate_format(text, (time_t)t) == HS__HTTPDATE_LEN);
	FUZZ_ASSERT(strlen(text) == HS__HTTPDATE_LEN);
	FUZZ_ASSERT(text[3] == ',' && text[4] == ' ' && memcmp(text + 25, " GMT", 4) == 0);
	int64_t back = 0;
	bool utc = false;
	char *copy = fuzz_copy(text, HS__HTTPDATE_LEN);
	FUZZ_ASSERT(hs__httpdate_parse(copy, HS__HTTPDATE_LEN, &back, &utc));
	free(copy);
	FUZZ_ASSERT(back == t && utc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mode = fuzz_take(&data, &size, 1);
	if (mode & 1) {
		uint64_t v = (uint64_t)fuzz_take(&data, &size, 4);
		v |= (uint64_t)fuzz_take(&data, &size, 4) << 32;
		round_trip(YEAR_100 + (int64_t)(v % (uint64_t)(LAST_SECOND - YEAR_100 + 1)));
		return 0;
	}
	char *s = fuzz_copy((const char *)data, size);
	int64_t t = 0;
	bool utc = false;
	if (hs__httpdate_parse(s, size, &t, &utc)) {
		FUZZ_ASSERT(t > FIRST_SECOND - 86400 && t < LAST_SECOND + 86400);
		if (t >= YEAR_100 && t <= LAST_SECOND)
			round_trip(t);
	}
	free(s);
	return 0;
}
