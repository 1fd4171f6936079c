/*
 * chars.h: character classes shared by the pure parsers: RFC 9110's tchar, hex digit
 * values, and the whitespace Python's str.split() sees in latin-1 text. Inline so the
 * parsers' inner loops stay tight.
 */
#ifndef HS_CHARS_H
#define HS_CHARS_H

#include <stdbool.h>
#include <string.h>

/* RFC 9110 tchar: the visible ASCII characters that are not delimiters. */
static inline bool hs__is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The value of a hex digit, or -1. */
static inline int hs__hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whitespace as Python's str.split() sees a latin-1 string: \t \n \v \f \r, the
 * separators 0x1c-0x1f, space, NEL (0x85) and NO-BREAK SPACE (0xa0). A table: the
 * request line is split byte by byte on every request. */
static const bool hs__py_space_table[256] = {
	[0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
	[0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, [0x20] = 1, [0x85] = 1, [0xa0] = 1,
};

static inline bool hs__py_space(unsigned char c)
{
	return hs__py_space_table[c];
}

/* ASCII case folding, as header names and the tokens of HTTP compare (RFC 9110 5.1):
 * what strcasecmp does in the C locale, whatever locale a program embedding the library
 * has set; inline, because the header lookups of every request mostly fail at the
 * first byte. */
static inline unsigned char hs__ascii_lower(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c + ('a' - 'A') : c);
}

static inline bool hs__ascii_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = hs__ascii_lower((unsigned char)*a);
		if (x != hs__ascii_lower((unsigned char)*b))
			return false;
		if (x == 0)
			return true;
	}
}

/* The next word of s[0..n) from *at, as str.split() finds the words of a latin-1
 * string: true with the word's start and length (and *at past it), false when only
 * whitespace is left. */
static inline bool hs__py_next_word(const char *s, size_t n, size_t *at, size_t *start,
                                    size_t *len)
{
	size_t i = *at;
	while (i < n && hs__py_space((unsigned char)s[i]))
		i++;
	*start = i;
	while (i < n && !hs__py_space((unsigned char)s[i]))
		i++;
	*len = i - *start;
	*at = i;
	return *len > 0;
}

#endif
