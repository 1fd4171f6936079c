/*
 * fuzz_range.c: the Range parser, hs__range_parse. The first eight input bytes choose
 * the representation's size (small sizes most of the time, any 64-bit size sometimes);
 * the rest is the field value, in an allocation of exactly its length.
 *
 * Properties: no crash, overflow or read past the value whatever its digits; a 206
 * answer has between 1 and HS__MAX_RANGES ranges, each inside the representation
 * (first <= last < size) and none overlapping another; the answer does not depend on
 * the bytes after the value (the parser is given the length, not a string).
 */
#include <stdbool.h>

#include "internal.h"
#include "range.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t pick = (uint64_t)fuzz_take(&data, &size, 4);
	pick |= (uint64_t)fuzz_take(&data, &size, 4) << 32;
	uint64_t file = (pick & 3) == 0 ? pick : (pick & 3) == 1 ? (pick >> 2) % 1000000 : (pick >> 2) % 64;

	static struct hs__range r1[HS__MAX_RANGES], r2[HS__MAX_RANGES];
	size_t n1 = 0, n2 = 0;
	char *value = fuzz_copy((const char *)data, size);
	enum hs__range_status st = hs__range_parse(value, size, file, r1, &n1);
	FUZZ_ASSERT(st == HS__RANGE_IGNORE || st == HS__RANGE_WHOLE || st == HS__RANGE_PARTIAL ||
	            st == HS__RANGE_UNSATISFIABLE);
	if (st == HS__RANGE_PARTIAL) {
		FUZZ_ASSERT(n1 >= 1 && n1 <= HS__MAX_RANGES);
		for (size_t i = 0; i < n1; i++) {
			FUZZ_ASSERT(r1[i].first <= r1[i].last && r1[i].last < file);
			for (size_t j = 0; j < i; j++)
				FUZZ_ASSERT(r1[i].last < r1[j].first || r1[j].last < r1[i].first);
		}
	}

	/* the same value followed by more bytes, given the same length */
	char *longer = malloc(size + 8);
	FUZZ_ASSERT(longer != NULL);
	memcpy(longer, data, size);
	memcpy(longer + size, ",0-0,9-", 8);
	enum hs__range_status st2 = hs__range_parse(longer, size, file, r2, &n2);
	FUZZ_ASSERT(st2 == st);
	if (st == HS__RANGE_PARTIAL)
		FUZZ_ASSERT(n2 == n1 && memcmp(r1, r2, n1 * sizeof r1[0]) == 0);
	free(longer);
	free(value);
	return 0;
}
