/*
 * test_chunked.c: the chunked decoder against RFC 9112 section 7.1 and the request
 * smuggling classics. Every case is fed whole, one byte at a time and split in two at
 * every point, each piece in a fresh allocation of exactly its size; the decoded data,
 * the bytes consumed and whether the message ended must not depend on the pieces, and
 * bytes behind the message (a pipelined request) must be left unconsumed.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"

#define S(lit) lit, sizeof(lit) - 1 /* a literal and its length, NULs included */

enum feed { FEED_WHOLE, FEED_BYTES, FEED_SPLIT };

static size_t next_cut(enum feed f, size_t split, size_t n, size_t prev)
{
	if (f == FEED_WHOLE)
		return n;
	if (f == FEED_BYTES)
		return prev + 1;
	return prev < split ? split : n;
}

/* Feeds in[0..n) in pieces and renders "consumed done data", or "error". A piece
 * the decoder does not consume entirely while the message goes on is reported, and
 * so is an out_len larger than the piece. */
static void run(const char *in, size_t n, enum feed f, size_t split, struct hs__buf *out)
{
	struct hs__chunked st = { 0 };
	struct hs__buf data = { 0 };
	size_t k = 0, consumed = 0;
	while (!st.done && k < n) {
		size_t prev = k;
		k = next_cut(f, split, n, k);
		size_t len = k - prev, got;
		char *piece = malloc(len);
		memcpy(piece, in + prev, len);
		long r = hs__chunked_decode(&st, piece, len, &got);
		if (r >= 0 && got <= (size_t)r)
			hs__buf_append(&data, piece, got);
		free(piece);
		if (r < 0) {
			hs__buf_puts(out, "error");
			hs__buf_free(&data);
			return;
		}
		if ((size_t)r != len && !st.done)
			hs__buf_puts(out, "stalled! ");
		if (got > (size_t)r)
			hs__buf_puts(out, "more data than bytes! ");
		consumed += (size_t)r;
	}
	hs__buf_printf(out, "%zu %d ", consumed, st.done);
	hs__buf_append(out, data.data ? data.data : "", data.len);
	hs__buf_free(&data);
}

/* Inputs over 1 KiB (the caps) are split near their ends, near the caps and at a
 * sample of other points, which keeps the run short under the sanitizers. */
static int split_wanted(size_t s, size_t n)
{
	size_t e = s > HS__MAX_CHUNK_EXT ? s - HS__MAX_CHUNK_EXT : HS__MAX_CHUNK_EXT - s;
	size_t t = s > HS__MAX_TRAILER ? s - HS__MAX_TRAILER : HS__MAX_TRAILER - s;
	return n <= 1024 || s < 64 || n - s < 64 || e < 16 || t < 16 || s % 97 == 0;
}

static void all_feeds(const char *label, const char *in, size_t n, const char *want,
                      size_t want_len)
{
	for (size_t s = 0; s <= n + 1; s++) {
		enum feed f = s == 0 ? FEED_WHOLE : s == 1 ? FEED_BYTES : FEED_SPLIT;
		size_t split = s - 1;
		if (f == FEED_SPLIT && (split >= n || !split_wanted(split, n)))
			continue;
		struct hs__buf got = { 0 };
		run(in, n, f, split, &got);
		check_count++;
		if (got.len != want_len || memcmp(got.data, want, want_len) != 0) {
			check_failures++;
			fprintf(stderr, "%s (%s %zu): got [%.*s], want [%.*s]\n", label,
			        f == FEED_WHOLE ? "whole" : f == FEED_BYTES ? "bytes" : "split at",
			        split, (int)got.len, got.data, (int)want_len, want);
		}
		hs__buf_free(&got);
	}
}

enum { DONE, MORE, BAD }; /* the message ends / needs more bytes / is refused */

static const struct chunk_case {
	const char *name;
	const char *in;
	size_t len;
	const char *after; /* pipelined bytes, to be left alone */
	int want;
	const char *data; /* the decoded data */
	size_t data_len;
} cases[] = {
	/* chunked-body = *chunk last-chunk trailer-section CRLF */
	{ "one chunk", S("5\r\nhello\r\n0\r\n\r\n"), "", DONE, S("hello") },
	{ "two chunks", S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "", DONE, S("hello world") },
	{ "no chunks", S("0\r\n\r\n"), "", DONE, S("") },
	{ "hex sizes, both cases", S("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n"), "", DONE, S("0123456789abcdefghij") },
	{ "leading zeros", S("0005\r\nhello\r\n000\r\n\r\n"), "", DONE, S("hello") },
	{ "data holding CRLF and NUL", S("6\r\n\r\n\0\r\n\n\r\n0\r\n\r\n"), "", DONE, S("\r\n\0\r\n\n") },
	{ "pipelined request left alone", S("1\r\nx\r\n0\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n", DONE, S("x") },
	{ "pipelined chunked body left alone", S("0\r\n\r\n"), "5\r\nhello\r\n0\r\n\r\n", DONE, S("") },
	/* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ), bounded */
	{ "extension", S("5;name=value\r\nhello\r\n0\r\n\r\n"), "", DONE, S("hello") },
	{ "extensions with BWS", S("5 ; a = b ;\tc\r\nhello\r\n0\r\n\r\n"), "", DONE, S("hello") },
	{ "quoted extension", S("5;a=\"x; y\"\r\nhello\r\n0\r\n\r\n"), "", DONE, S("hello") },
	{ "extension on the last chunk", S("0;x=y\r\n\r\n"), "", DONE, S("") },
	{ "tab before the extension", S("1\t;x\r\nz\r\n0\r\n\r\n"), "", DONE, S("z") },
	/* trailer-section = *( field-line CRLF ) */
	{ "trailer", S("1\r\nx\r\n0\r\nExpires: never\r\n\r\n"), "", DONE, S("x") },
	{ "two trailers", S("0\r\nA: 1\r\nB:\r\n\r\n"), "", DONE, S("") },
	{ "trailer then pipelined", S("0\r\nA: 1\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n", DONE, S("") },
	/* Not finished yet: everything is consumed, data handed over as it comes. */
	{ "in the size", S("1"), "", MORE, S("") },
	{ "in the data", S("5\r\nhel"), "", MORE, S("hel") },
	{ "after the data", S("5\r\nhello\r"), "", MORE, S("hello") },
	{ "after the last chunk", S("0\r\n"), "", MORE, S("") },
	{ "in a trailer", S("0\r\nA: 1\r\n"), "", MORE, S("") },
	{ "before the final LF", S("0\r\n\r"), "", MORE, S("") },
	{ "largest size, 2^63 - 1", S("7fffffffffffffff\r\nab"), "", MORE, S("ab") },
	/* chunk-size = 1*HEXDIG: no prefix, sign or spaces; sizes from 2^63 refused */
	{ "empty size", S("\r\n"), "", BAD, S("") },
	{ "0x prefix", S("0x10\r\n"), "", BAD, S("") },
	{ "minus sign", S("-1\r\n"), "", BAD, S("") },
	{ "plus sign", S("+1\r\n"), "", BAD, S("") },
	{ "space before the size", S(" 1\r\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "space after the size", S("1 \r\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "space inside the size", S("1 0\r\n"), "", BAD, S("") },
	{ "not hex", S("g\r\n"), "", BAD, S("") },
	{ "size 2^63", S("8000000000000000\r\n"), "", BAD, S("") },
	{ "size 2^64 - 1", S("ffffffffffffffff\r\n"), "", BAD, S("") },
	{ "size 2^64 (wraps to 0)", S("10000000000000000\r\n\r\n"), "", BAD, S("") },
	{ "size 2^68", S("100000000000000000\r\n"), "", BAD, S("") },
	/* Line ends: CRLF only (see chunked.c) */
	{ "bare LF after the size", S("1\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare CR after the size", S("1\rx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare LF after an extension", S("1;a\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare CR in an extension", S("1;a\rb\r\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "NUL in an extension", S("1;a\0\r\nx\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare LF after the last chunk", S("0\n\n"), "", BAD, S("") },
	{ "bare LF as the final line", S("0\r\n\n"), "", BAD, S("") },
	{ "bare CR as the final line", S("0\r\n\rx"), "", BAD, S("") },
	/* chunk-data CRLF: exactly CRLF after the data */
	{ "missing CRLF after data", S("1\r\nxy\r\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare LF after data", S("1\r\nx\n0\r\n\r\n"), "", BAD, S("") },
	{ "bare CR after data", S("1\r\nx\r0\r\n\r\n"), "", BAD, S("") },
	{ "a byte too many, then LF", S("1\r\nxy\n0\r\n\r\n"), "", BAD, S("") },
	{ "CR then a byte, not LF", S("1\r\nx\ry0\r\n\r\n"), "", BAD, S("") },
	{ "data shorter than the size", S("3\r\nx\r\n0\r\n\r\n0\r\n\r\n"), "", BAD, S("") },
	/* Trailer fields are field lines: token name, ":" at once, no NUL or bare CR */
	{ "trailer obs-fold", S("0\r\nA: 1\r\n 2\r\n\r\n"), "", BAD, S("") },
	{ "trailer space before colon", S("0\r\nA : 1\r\n\r\n"), "", BAD, S("") },
	{ "trailer without colon", S("0\r\nA\r\n\r\n"), "", BAD, S("") },
	{ "trailer with empty name", S("0\r\n: 1\r\n\r\n"), "", BAD, S("") },
	{ "trailer NUL", S("0\r\nA: \0\r\n\r\n"), "", BAD, S("") },
	{ "trailer bare CR", S("0\r\nA: 1\r2\r\n\r\n"), "", BAD, S("") },
	{ "trailer bare LF", S("0\r\nA: 1\n\r\n"), "", BAD, S("") },
	{ "trailer starting with LF", S("0\r\n\n"), "", BAD, S("") },
};

static void check_case(const char *name, const char *in, size_t len, const char *after,
                       size_t after_len, int want, const char *data, size_t data_len)
{
	struct hs__buf all = { 0 }, w = { 0 };
	hs__buf_append(&all, in, len);
	hs__buf_append(&all, after, after_len);
	if (want == BAD)
		hs__buf_puts(&w, "error");
	else {
		hs__buf_printf(&w, "%zu %d ", len, want == DONE);
		hs__buf_append(&w, data, data_len);
	}
	all_feeds(name, all.data, all.len, w.data, w.len);
	hs__buf_free(&all);
	hs__buf_free(&w);
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct chunk_case *c = &cases[i];
		check_case(c->name, c->in, c->len, c->after, strlen(c->after), c->want, c->data,
		           c->data_len);
	}
}

/* "1" + head + `fill` bytes of 'e' + "\r\nx\r\n0\r\n\r\n" */
static void ext_case(const char *name, const char *head, size_t fill, int want)
{
	struct hs__buf in = { 0 };
	hs__buf_printf(&in, "1%s", head);
	hs__buf_reserve(&in, fill);
	memset(in.data + in.len, 'e', fill);
	in.len += fill;
	hs__buf_puts(&in, "\r\nx\r\n0\r\n\r\n");
	check_case(name, in.data, in.len, "", 0, want, "x", 1);
	hs__buf_free(&in);
}

/* "0\r\n" + trailer lines "T: vvv\r\n" making `size` bytes + "\r\n" */
static void trailer_case(const char *name, size_t size, int want)
{
	struct hs__buf in = { 0 };
	hs__buf_puts(&in, "0\r\n");
	while (size > 0) {
		size_t line = size > 1000 ? 1000 : size; /* the last may be as short as 5 */
		if (size - line < 5 && size > 1000)
			line -= 5;
		hs__buf_puts(&in, "T: ");
		hs__buf_reserve(&in, line);
		memset(in.data + in.len, 'v', line - 5);
		in.len += line - 5;
		hs__buf_puts(&in, "\r\n");
		size -= line;
	}
	hs__buf_puts(&in, "\r\n");
	check_case(name, in.data, in.len, "", 0, want, "", 0);
	hs__buf_free(&in);
}

static void test_caps(void)
{
	/* The bytes after the size digits (BWS, ";", extensions) up to the CR. */
	ext_case("extension of HS__MAX_CHUNK_EXT", ";", HS__MAX_CHUNK_EXT - 1, DONE);
	ext_case("extension of HS__MAX_CHUNK_EXT + 1", ";", HS__MAX_CHUNK_EXT, BAD);
	ext_case("BWS counts too", " ;", HS__MAX_CHUNK_EXT - 1, BAD);
	/* Size digits, leading zeros included, have the same cap. */
	struct hs__buf in = { 0 };
	for (int extra = 0; extra < 2; extra++) {
		in.len = 0;
		hs__buf_reserve(&in, HS__MAX_CHUNK_EXT + 16);
		memset(in.data, '0', HS__MAX_CHUNK_EXT - 1 + (size_t)extra);
		in.len = HS__MAX_CHUNK_EXT - 1 + (size_t)extra;
		hs__buf_puts(&in, "1\r\nx\r\n0\r\n\r\n");
		check_case(extra ? "HS__MAX_CHUNK_EXT + 1 digits" : "HS__MAX_CHUNK_EXT digits",
		           in.data, in.len, "", 0, extra ? BAD : DONE, "x", 1);
	}
	hs__buf_free(&in);
	/* The trailer section with its field lines' CRLFs, without the final CRLF. */
	trailer_case("trailer section of HS__MAX_TRAILER", HS__MAX_TRAILER, DONE);
	trailer_case("trailer section of HS__MAX_TRAILER + 1", HS__MAX_TRAILER + 1, BAD);
}

static void test_in_place(void)
{
	/* The data ends up at the front of the same buffer; the rest is framing. */
	char buf[] = "3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\nNEXT";
	struct hs__chunked st = { 0 };
	size_t got = 99;
	long r = hs__chunked_decode(&st, buf, sizeof buf - 1, &got);
	CHECK_INT(r, sizeof buf - 1 - 4);
	CHECK(st.done);
	CHECK_MEM(buf, got, "abcde", 5);
	CHECK_MEM(buf + r, 4, "NEXT", 4);
	/* Once done, nothing more is consumed. */
	CHECK_INT(hs__chunked_decode(&st, buf + r, 4, &got), 0);
	CHECK_INT(got, 0);
	/* An error sticks. */
	struct hs__chunked bad = { 0 };
	char junk[] = "z";
	char good[] = "0\r\n\r\n";
	CHECK_INT(hs__chunked_decode(&bad, junk, 1, &got), -1);
	CHECK_INT(hs__chunked_decode(&bad, good, 5, &got), -1);
	CHECK_INT(hs__chunked_decode(&bad, good, 0, &got), -1);
}

int main(void)
{
	test_table();
	test_caps();
	test_in_place();
	return check_done("test_chunked");
}
