/*
 * chunked.c: the decoder of the chunked transfer coding (RFC 9112 section 7.1), pure
 * and incremental. It takes the body bytes as they arrive, in pieces of any size,
 * moves the chunk data to the front of the same buffer and stops exactly at the end
 * of the message, so a pipelined request behind it is left alone. Its state is a few
 * words (struct hs__chunked), so nothing is ever buffered or examined twice. It is
 * strict where a lenient reading could let a proxy and this server disagree on where
 * the body ends (request smuggling): every line ends in CRLF, no bare LF, no bare CR.
 */
#include <limits.h>
#include <string.h>

#include "chars.h"
#include "internal.h"

enum {
	CH_SIZE_FIRST,  /* the first hex digit of a chunk size (the zero state) */
	CH_SIZE,        /* more hex digits */
	CH_SIZE_BWS,    /* SP/HT after the size: only ";" may follow (BWS ";") */
	CH_EXT,         /* chunk extensions, up to the CR */
	CH_SIZE_LF,     /* the LF of the size line's CRLF */
	CH_DATA,        /* `remaining` bytes of chunk data */
	CH_DATA_CR,     /* the CRLF after chunk data */
	CH_DATA_LF,
	CH_TRAILER,     /* the start of a trailer field line, or the CR of the empty line */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,      /* the LF of the final empty line */
	CH_ERROR,       /* sticky: every later call fails too */
};

/* Sizes are refused from 2^63 on: the largest acceptable value before one more digit
 * is appended is (2^63 - 1) >> 4. */
#define CH_SIZE_MAX_BEFORE_DIGIT (INT64_MAX >> 4)

/* Appends one hex digit to the size; refuses sizes of 2^63 and more, and more than
 * HS__MAX_CHUNK_EXT digits (leading zeros would otherwise never end). */
static int size_digit(struct hs__chunked *st, int d)
{
	if (st->remaining > CH_SIZE_MAX_BEFORE_DIGIT || ++st->side_len > HS__MAX_CHUNK_EXT)
		return -1;
	st->remaining = st->remaining * 16 + (unsigned)d;
	st->state = CH_SIZE;
	return 0;
}

/* One byte of the size line: 1*HEXDIG [ BWS ";" extensions ] CRLF. The bytes after
 * the digits (BWS, ";", extensions) count against HS__MAX_CHUNK_EXT; extensions may
 * hold any byte but CR, LF and NUL, since none of those is valid in a token or a
 * quoted-string. */
static int size_step(struct hs__chunked *st, unsigned char c)
{
	int d = hs__hex_value(c);
	if (st->state == CH_SIZE_FIRST || (st->state == CH_SIZE && d >= 0))
		return d < 0 ? -1 : size_digit(st, d);
	if (st->state == CH_SIZE_LF) {
		if (c != '\n')
			return -1;
		st->side_len = 0;
		st->state = st->remaining ? CH_DATA : CH_TRAILER;
		return 0;
	}
	if (st->state == CH_SIZE)
		st->side_len = 0; /* the digits end; the extension count starts */
	if (c == '\r' && st->state != CH_SIZE_BWS) {
		st->state = CH_SIZE_LF;
		return 0;
	}
	if (++st->side_len > HS__MAX_CHUNK_EXT)
		return -1;
	if (st->state != CH_EXT && (c == ' ' || c == '\t'))
		st->state = CH_SIZE_BWS;
	else if (st->state != CH_EXT && c == ';')
		st->state = CH_EXT;
	else if (st->state != CH_EXT || c == '\r' || c == '\n' || c == '\0')
		return -1;
	return 0;
}

/* One byte of the trailer section: field lines "name:value" with a token name and a
 * value free of NUL and bare CR, then an empty line. The section, without its final
 * empty line, may not exceed HS__MAX_TRAILER bytes. The fields are dropped: nothing
 * in the server reads trailers. */
static int trailer_step(struct hs__chunked *st, unsigned char c)
{
	if (st->state == CH_END_LF) {
		if (c != '\n')
			return -1;
		st->done = true;
		return 0;
	}
	if (st->state == CH_TRAILER && c == '\r') {
		st->state = CH_END_LF;
		return 0;
	}
	if (++st->side_len > HS__MAX_TRAILER)
		return -1;
	switch (st->state) {
	case CH_TRAILER:
		st->state = CH_TRAILER_NAME;
		return hs__is_tchar(c) ? 0 : -1; /* SP/HT here would be obs-fold */
	case CH_TRAILER_NAME:
		if (c == ':')
			st->state = CH_TRAILER_VALUE;
		return c == ':' || hs__is_tchar(c) ? 0 : -1;
	case CH_TRAILER_VALUE:
		if (c == '\r')
			st->state = CH_TRAILER_LF;
		return c == '\n' || c == '\0' ? -1 : 0;
	default: /* CH_TRAILER_LF */
		st->state = CH_TRAILER;
		return c == '\n' ? 0 : -1;
	}
}

/* One byte outside chunk data. */
static int step(struct hs__chunked *st, unsigned char c)
{
	switch (st->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
	case CH_SIZE_BWS:
	case CH_EXT:
	case CH_SIZE_LF:
		return size_step(st, c);
	case CH_DATA_CR:
		st->state = CH_DATA_LF;
		return c == '\r' ? 0 : -1;
	case CH_DATA_LF:
		st->state = CH_SIZE_FIRST;
		st->remaining = 0;
		return c == '\n' ? 0 : -1;
	case CH_TRAILER:
	case CH_TRAILER_NAME:
	case CH_TRAILER_VALUE:
	case CH_TRAILER_LF:
	case CH_END_LF:
		return trailer_step(st, c);
	default:
		return -1;
	}
}

/* Chunk data is moved in one memmove per call and chunk; framing bytes go through
 * step() one at a time, which is cheap because they are few and capped. */
long hs__chunked_decode(struct hs__chunked *st, char *buf, size_t len, size_t *out_len)
{
	size_t i = 0, w = 0;
	if (len > LONG_MAX)
		len = LONG_MAX;
	*out_len = 0;
	while (i < len && !st->done) {
		if (st->state == CH_DATA) {
			size_t n = len - i;
			if (n > st->remaining)
				n = (size_t)st->remaining;
			if (w != i)
				memmove(buf + w, buf + i, n);
			w += n;
			i += n;
			st->remaining -= n;
			if (st->remaining == 0)
				st->state = CH_DATA_CR;
		} else if (step(st, (unsigned char)buf[i++]) < 0) {
			st->state = CH_ERROR;
			return -1;
		}
	}
	if (st->state == CH_ERROR)
		return -1;
	*out_len = w;
	return (long)i;
}
