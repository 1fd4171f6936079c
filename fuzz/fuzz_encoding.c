/*
 * fuzz_encoding.c: the Accept-Encoding parser (encoding.c). The first input byte picks
 * the codings available beside identity; the rest is split at "\n" into field lines,
 * each given to hs__accept_encoding_add in an allocation of exactly its length.
 *
 * Properties: no crash or read past a line; every weight is -1 (not named) or 0..1000;
 * the first mention of a coding wins, so giving every line a second time changes
 * nothing; the coding chosen is available (identity always is) and acceptable (its
 * weight above 0) unless it is identity.
 */
#include <stdbool.h>

#include "internal.h"
#include "range.h"

#include "fuzz.h"

static void add_lines(struct hs__accept_encoding *ae, const char *p, const char *end)
{
	for (int i = 0; p < end && i < 64; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = fuzz_copy(p, len);
		hs__accept_encoding_add(ae, line, len);
		free(line);
		p += len + (nl ? 1 : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned available = (unsigned)fuzz_take(&data, &size, 1) & 7;
	const char *p = (const char *)data, *end = p + size;
	struct hs__accept_encoding once, twice;
	hs__accept_encoding_init(&once);
	hs__accept_encoding_init(&twice);
	add_lines(&once, p, end);
	add_lines(&twice, p, end);
	add_lines(&twice, p, end);
	for (int c = 0; c < HS__CODINGS; c++) {
		FUZZ_ASSERT(once.q[c] == -1 || (once.q[c] >= 0 && once.q[c] <= 1000));
		FUZZ_ASSERT(once.q[c] == twice.q[c]);
		int q = hs__accept_encoding_q(&once, (enum hs__coding)c);
		FUZZ_ASSERT(q >= 0 && q <= 1000);
	}
	FUZZ_ASSERT(once.star == -1 || (once.star >= 0 && once.star <= 1000));
	FUZZ_ASSERT(once.star == twice.star && once.present == twice.present);
	enum hs__coding chosen = hs__accept_encoding_choose(&once, available);
	FUZZ_ASSERT(chosen == HS__CODING_IDENTITY || (available & (1u << chosen)));
	if (chosen != HS__CODING_IDENTITY)
		FUZZ_ASSERT(hs__accept_encoding_q(&once, chosen) > 0);
	FUZZ_ASSERT(chosen == hs__accept_encoding_choose(&twice, available));
	return 0;
}
