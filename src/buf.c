/*
 * buf.c: the growable byte buffer used for response heads, generated pages and logs.
 * Capacity doubles so appends are amortised O(1); a connection keeps its buffers
 * between requests, so the hot path allocates only while a buffer first grows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define BIG_BUFFER (1u << 20)

int hs__buf_grow(struct hs__buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	char *p = hs__realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int hs__buf_puts(struct hs__buf *b, const char *s)
{
	return hs__buf_append(b, s, strlen(s));
}

int hs__buf_printf(struct hs__buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	int rc = hs__buf_reserve(b, (size_t)n + 1);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

size_t hs__int_text(char out[HS__INT_TEXT_MAX], long long v)
{
	char digits[HS__INT_TEXT_MAX], *p = digits + sizeof digits;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(digits + sizeof digits - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

int hs__buf_append_int(struct hs__buf *b, long long v)
{
	char text[HS__INT_TEXT_MAX];
	return hs__buf_append(b, text, hs__int_text(text, v));
}

void hs__buf_free(struct hs__buf *b)
{
	bool big = b->cap >= BIG_BUFFER;
	free(b->data);
#ifdef __GLIBC__
	/* glibc keeps large freed blocks in its arenas once its mmap threshold has risen;
	 * after a large upload or response, give the memory back to the system. Rare: only
	 * buffers of a megabyte or more get here. */
	if (big)
		malloc_trim(0);
#else
	(void)big;
#endif
	b->data = NULL;
	b->len = b->cap = 0;
}
