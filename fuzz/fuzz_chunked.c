/*
 * fuzz_chunked.c: the chunked decoder, hs__chunked_decode. The first input byte picks
 * a mode, the next two a split point.
 *
 * Raw mode (mode even): the rest, expanded by fuzz_expand (to reach the 4 KiB
 * extension and 8 KiB trailer caps), is a body as a client might send it. It is
 * decoded whole, in two pieces at the split, and one byte at a time, each piece in a
 * fresh allocation of exactly its size. Properties: the three agree on error or not,
 * on the bytes consumed, on whether the message ended and on the data; a call never
 * reports more consumed than it was given, nor more data than it consumed; while the
 * message goes on, a call consumes everything it is given; the message ends just
 * after a "\n"; and after an error every later call fails too.
 *
 * Encode mode (mode odd): the rest is data, framed here in chunks of sizes, spellings
 * (upper and lower case hex, leading zeros), extensions and trailer fields chosen by a
 * generator seeded from the input, followed by a pipelined request. Properties: the
 * decoder gives back exactly the data, ends the message exactly where the framing
 * ends, and leaves the pipelined request unconsumed.
 */
#include <stdbool.h>

#include "internal.h"

#define FUZZ_EXPAND_MAX (4 * HS__MAX_TRAILER) /* past the extension and trailer caps */
#include "fuzz.h"

struct outcome {
	bool error, done;
	size_t consumed;
	char *data;
	size_t data_len;
};

/* Feeds buf[0..len) in pieces ending at the offsets cuts[0..ncuts) (the last being
 * len), or one byte at a time when cuts is NULL. */
static void decode(const char *buf, size_t len, const size_t *cuts, size_t ncuts,
                   struct outcome *o)
{
	struct hs__chunked st = {0};
	*o = (struct outcome){.data = malloc(len ? len : 1)};
	FUZZ_ASSERT(o->data != NULL);
	/* Byte by byte, the pieces are views of one working copy (a fresh allocation per
	 * byte would make long inputs slow); the pieces of the other feeds are copies. */
	char *work = cuts ? NULL : fuzz_copy(buf, len);
	size_t at = 0;
	for (size_t i = 0; at < len && !st.done; i++) {
		size_t end = cuts ? (i < ncuts ? cuts[i] : len) : at + 1;
		if (end <= at)
			continue;
		size_t n = end - at, got = 12345;
		char *piece = work ? work + at : fuzz_copy(buf + at, n);
		long r = hs__chunked_decode(&st, piece, n, &got);
		if (r < 0) {
			if (!work)
				free(piece);
			free(work);
			o->error = true;
			/* sticky: the next call fails as well */
			char more[3] = {'0', '\r', '\n'};
			FUZZ_ASSERT(hs__chunked_decode(&st, more, sizeof more, &got) < 0);
			return;
		}
		FUZZ_ASSERT((size_t)r <= n);
		FUZZ_ASSERT(got <= (size_t)r);
		if (!st.done)
			FUZZ_ASSERT((size_t)r == n);
		else
			FUZZ_ASSERT(r > 0 && piece[r - 1] == '\n');
		memcpy(o->data + o->data_len, piece, got);
		o->data_len += got;
		o->consumed += (size_t)r;
		at += (size_t)r;
		if (!work)
			free(piece);
	}
	free(work);
	o->done = st.done;
}

static void same(const struct outcome *a, const struct outcome *b)
{
	FUZZ_ASSERT(a->error == b->error);
	if (a->error)
		return;
	FUZZ_ASSERT(a->done == b->done && a->consumed == b->consumed);
	FUZZ_ASSERT(a->data_len == b->data_len);
	FUZZ_ASSERT(memcmp(a->data, b->data, a->data_len) == 0);
}

static void raw_mode(const uint8_t *data, size_t size, size_t choice)
{
	size_t len;
	char *buf = fuzz_expand(data, size, &len);
	size_t cut = len ? (size_t)((unsigned long long)choice * len / 65535) : 0;
	struct outcome whole, two, bytes;
	size_t cuts[2] = {cut, len};
	decode(buf, len, cuts + 1, 1, &whole);
	decode(buf, len, cuts, 2, &two);
	decode(buf, len, NULL, 0, &bytes);
	same(&whole, &two);
	same(&whole, &bytes);
	free(whole.data);
	free(two.data);
	free(bytes.data);
	free(buf);
}

/* xorshift64: the framing choices of encode mode. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void encode_mode(const uint8_t *data, size_t size, size_t choice)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull ^ fuzz_take(&data, &size, 4);
	static const char pipelined[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* each chunk costs at most 16 (size) + 8 (leading zeros) + 16 (ext) + 4 (CRLFs) */
	size_t cap = size * 45 + 64 + 8 * 32 + sizeof pipelined;
	char *buf = malloc(cap);
	FUZZ_ASSERT(buf != NULL);
	size_t len = 0;
	for (size_t at = 0; at < size;) {
		size_t n = 1 + next(&seed) % (size - at < 300 ? size - at : 300);
		int zeros = (int)(next(&seed) % 4);
		size_t size_at = len;
		len += (size_t)snprintf(buf + len, cap - len, "%0*zx", zeros + 1, n);
		if (next(&seed) & 1) /* upper-case hex */
			for (size_t i = size_at; i < len; i++)
				if (buf[i] >= 'a' && buf[i] <= 'f')
					buf[i] = (char)(buf[i] - 'a' + 'A');
		if (next(&seed) % 4 == 0)
			len += (size_t)snprintf(buf + len, cap - len, "%s", next(&seed) & 1 ? ";a=b" : " ;q=\"x;y\"");
		len += (size_t)snprintf(buf + len, cap - len, "\r\n");
		memcpy(buf + len, data + at, n);
		len += n;
		at += n;
		len += (size_t)snprintf(buf + len, cap - len, "\r\n");
	}
	len += (size_t)snprintf(buf + len, cap - len, "%s\r\n", next(&seed) & 1 ? "0" : "000");
	for (int t = (int)(next(&seed) % 3); t > 0; t--)
		len += (size_t)snprintf(buf + len, cap - len, "X-T%d: v %d\r\n", t, t);
	len += (size_t)snprintf(buf + len, cap - len, "\r\n");
	size_t framed = len;
	memcpy(buf + len, pipelined, sizeof pipelined - 1);
	len += sizeof pipelined - 1;
	FUZZ_ASSERT(len <= cap);

	size_t cut = (size_t)((unsigned long long)choice * len / 65535);
	size_t cuts[2] = {cut, len};
	struct outcome whole, two, bytes;
	decode(buf, len, cuts + 1, 1, &whole);
	decode(buf, len, cuts, 2, &two);
	decode(buf, len, NULL, 0, &bytes);
	FUZZ_ASSERT(!whole.error && whole.done && whole.consumed == framed);
	FUZZ_ASSERT(whole.data_len == size && memcmp(whole.data, data, size) == 0);
	same(&whole, &two);
	same(&whole, &bytes);
	free(whole.data);
	free(two.data);
	free(bytes.data);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mode = fuzz_take(&data, &size, 1);
	size_t choice = fuzz_take(&data, &size, 2);
	if (mode & 1)
		encode_mode(data, size, choice);
	else
		raw_mode(data, size, choice);
	return 0;
}
