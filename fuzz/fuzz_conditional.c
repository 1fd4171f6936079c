/*
 * fuzz_conditional.c: entity tags and preconditions (conditional.c): hs__etag_list_match,
 * hs__preconditions and hs__if_range_holds. The first input byte picks the
 * representation's validators (an ETag or none, a Last-Modified or none); the rest is
 * split at "\n" into field lines "Name: value" given to the evaluation, each value also
 * matched as an If-Match/If-None-Match list and tried as an If-Range. Every value is an
 * allocation of exactly its length.
 *
 * Properties: no crash or read past a value; whether a list is valid does not depend on
 * strong or weak comparison; a strong match is also a weak one; a list matches nothing
 * when there is no ETag unless it is "*"; If-Range holds only for the representation's
 * own strong ETag, byte for byte, or for a date that the date parser (as lenient as
 * Python's, see fuzz_httpdate.c) reads as exactly the Last-Modified time.
 */
#include <stdbool.h>

#include "internal.h"
#include "range.h"

#include "fuzz.h"

static const char *const names[] = {"If-Match", "If-None-Match", "If-Modified-Since",
                                    "If-Unmodified-Since", "If-Range", "X-Other"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pick = fuzz_take(&data, &size, 1);
	char etag[HS__ETAG_MAX];
	hs__etag_format(etag, 0x1234 + (pick >> 3), 42, 1700000000, 5);
	struct hs__validators v = {
		.etag = pick & 1 ? etag : NULL,
		.has_mtime = pick & 2,
		.mtime = pick & 4 ? 1700000000 : 0,
	};

	struct hs_header h[16];
	char *values[16];
	size_t nh = 0;
	const char *p = (const char *)data, *end = p + size;
	while (p < end && nh < 16) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t name = len ? (unsigned char)p[0] % 6 : 5;
		const char *val = len ? p + 1 : p;
		size_t vn = len ? len - 1 : 0;

		char *exact = fuzz_copy(val, vn);
		enum hs__etag_match strong = hs__etag_list_match(exact, vn, v.etag, false);
		enum hs__etag_match weak = hs__etag_list_match(exact, vn, v.etag, true);
		FUZZ_ASSERT((strong == HS__ETAG_INVALID) == (weak == HS__ETAG_INVALID));
		if (strong == HS__ETAG_MATCH)
			FUZZ_ASSERT(weak == HS__ETAG_MATCH);
		bool star = false;
		for (size_t i = 0; i < vn; i++)
			star |= val[i] == '*';
		if (!v.etag && !star)
			FUZZ_ASSERT(strong != HS__ETAG_MATCH && weak != HS__ETAG_MATCH);
		if (hs__if_range_holds(exact, vn, &v, 1800000000)) {
			if (vn > 0 && (val[0] == '"' || (vn > 1 && val[0] == 'W' && val[1] == '/'))) {
				size_t tn = vn;
				while (tn > 0 && (val[tn - 1] == ' ' || val[tn - 1] == '\t'))
					tn--;
				FUZZ_ASSERT(v.etag && tn == strlen(v.etag) && memcmp(val, v.etag, tn) == 0);
			} else {
				int64_t t;
				bool utc;
				FUZZ_ASSERT(v.has_mtime && hs__httpdate_parse(exact, vn, &t, &utc) && utc &&
				            t == v.mtime);
			}
		}
		free(exact);

		values[nh] = malloc(vn + 1); /* header values are NUL-terminated in the view */
		FUZZ_ASSERT(values[nh] != NULL);
		memcpy(values[nh], val, vn);
		values[nh][vn] = '\0';
		h[nh] = (struct hs_header){names[name], values[nh]};
		nh++;
		p += len + (nl ? 1 : 0);
	}
	enum hs__precondition pc = hs__preconditions(h, nh, &v);
	FUZZ_ASSERT(pc == HS__PRECOND_PROCEED || pc == HS__PRECOND_NOT_MODIFIED ||
	            pc == HS__PRECOND_FAILED);
	for (size_t i = 0; i < nh; i++)
		free(values[i]);
	return 0;
}
