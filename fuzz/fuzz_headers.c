/*
 * fuzz_headers.c: the header block parser, hs__parse_headers. The first two bytes of
 * the input choose a split point; the rest, expanded by fuzz_expand (so lines and the
 * whole head can pass their 64 KiB and 256 KiB limits), is the block.
 *
 * Properties: the result (length, error, header count, and every name and value by
 * offset) is the same fed whole, in two pieces at the chosen split (each piece in a
 * fresh allocation of exactly the bytes received so far, as a growing input buffer
 * would be, so ASan sees any read past the length and any view kept from the first
 * buffer), and one byte at a time (in bigger steps past 8 KiB). A complete block
 * ends at an empty line within the head cap, every line within the line cap; each
 * name is a non-empty token followed directly by ":", each value is free of NUL and
 * CR and trimmed of SP/HT, and the names and values are exactly those of the block's
 * lines, in order.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "internal.h"

struct outcome {
	long r;
	size_t nh;
	size_t off[HS__MAX_HEADERS][4]; /* name offset, name length, value offset, length */
};

static void record(struct outcome *o, long r, const char *base,
                   const struct hs__header_span *h, size_t nh, size_t len)
{
	o->r = r;
	o->nh = nh;
	FUZZ_ASSERT(nh <= HS__MAX_HEADERS);
	FUZZ_ASSERT(r <= (long)len);
	if (r <= 0) {
		FUZZ_ASSERT(nh == 0);
		return;
	}
	for (size_t i = 0; i < nh; i++) {
		FUZZ_ASSERT(h[i].name.p >= base && h[i].name.p + h[i].name.n <= base + r);
		FUZZ_ASSERT(h[i].value.p >= base && h[i].value.p + h[i].value.n <= base + r);
		o->off[i][0] = (size_t)(h[i].name.p - base);
		o->off[i][1] = h[i].name.n;
		o->off[i][2] = (size_t)(h[i].value.p - base);
		o->off[i][3] = h[i].value.n;
	}
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	if (a->r != b->r || a->nh != b->nh)
		return false;
	return a->r <= 0 || memcmp(a->off, b->off, sizeof a->off[0] * a->nh) == 0;
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The properties of a complete block, read again line by line. */
static void check_block(const char *buf, const struct outcome *o)
{
	size_t r = (size_t)o->r, at = 0, k = 0;
	FUZZ_ASSERT(buf[r - 1] == '\n');
	FUZZ_ASSERT(r <= HS__MAX_HEAD);
	for (;;) {
		const char *nl = memchr(buf + at, '\n', r - at);
		FUZZ_ASSERT(nl != NULL);
		size_t end = (size_t)(nl - buf), ce = end;
		FUZZ_ASSERT(end + 1 - at <= HS__MAX_LINE);
		if (ce > at && buf[ce - 1] == '\r')
			ce--;
		if (ce == at) { /* the empty line ends the block, and only it */
			FUZZ_ASSERT(end + 1 == r);
			break;
		}
		FUZZ_ASSERT(k < o->nh);
		size_t no = o->off[k][0], nn = o->off[k][1], vo = o->off[k][2], vn = o->off[k][3];
		FUZZ_ASSERT(no == at && nn > 0 && buf[at + nn] == ':');
		for (size_t i = 0; i < nn; i++)
			FUZZ_ASSERT(tchar((unsigned char)buf[at + i]));
		size_t b = at + nn + 1, e = ce;
		while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
			b++;
		while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
			e--;
		FUZZ_ASSERT(vo == b && vn == e - b);
		for (size_t i = b; i < e; i++)
			FUZZ_ASSERT(buf[i] != '\0' && buf[i] != '\r');
		k++;
		at = end + 1;
	}
	FUZZ_ASSERT(k == o->nh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hs__header_span h[HS__MAX_HEADERS];
	static struct outcome whole, split, bytes;
	size_t choice = fuzz_take(&data, &size, 2), len, nh;
	char *buf = fuzz_expand(data, size, &len);
	size_t cut = len ? (size_t)((unsigned long long)choice * len / 65535) : 0;

	/* whole */
	struct hs__head_scan st = {0};
	long r = hs__parse_headers(buf, len, &st, h, &nh);
	record(&whole, r, buf, h, nh, len);
	if (r > 0)
		check_block(buf, &whole);

	/* two pieces, each in its own exact allocation */
	st = (struct hs__head_scan){0};
	char *a = fuzz_copy(buf, cut);
	r = hs__parse_headers(a, cut, &st, h, &nh);
	if (r != 0) {
		record(&split, r, a, h, nh, cut);
	} else {
		FUZZ_ASSERT(st.scanned <= cut && st.line_start <= cut);
		char *b = fuzz_copy(buf, len);
		free(a);
		a = NULL;
		r = hs__parse_headers(b, len, &st, h, &nh);
		record(&split, r, b, h, nh, len);
		free(b);
	}
	free(a);
	FUZZ_ASSERT(same(&whole, &split));

	/* one byte more at a time, in place (past 8 KiB, 4093 bytes more at a time: long
	 * inputs would otherwise take most of the fuzzer's time) */
	st = (struct hs__head_scan){0};
	r = 0;
	nh = 0;
	size_t k = 0;
	while (r == 0 && k < len) {
		k += k < 8192 ? 1 : 4093;
		if (k > len)
			k = len;
		r = hs__parse_headers(buf, k, &st, h, &nh);
	}
	record(&bytes, r, buf, h, nh, len);
	FUZZ_ASSERT(same(&whole, &bytes));

	free(buf);
	return 0;
}
