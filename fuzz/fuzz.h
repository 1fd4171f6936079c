/*
 * fuzz.h: what the libFuzzer targets share. FUZZ_ASSERT aborts with the failed
 * condition, so a broken property is a crash libFuzzer saves and minimises like any
 * sanitizer report. fuzz_expand turns a short input into a long one: the bytes 0xFF
 * 0xFE followed by two count bytes (big-endian) and a byte c stand for c repeated
 * count times, so a few bytes of corpus can reach the 64 KiB line and 256 KiB head limits
 * that plain inputs of libFuzzer's sizes never touch. The marker is two bytes, 0xFF
 * 0xFE, so that random mutations rarely make one (long inputs are slow to parse under
 * coverage instrumentation) while seeds and the dictionaries hold some to build on.
 * fuzz_copy makes an allocation
 * of exactly the bytes given, so AddressSanitizer sees any read past the length.
 */
#ifndef HS_FUZZ_H
#define HS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                            \
	do {                                                                             \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                            \
	} while (0)

/* Expanded inputs stop growing here: by default a little over HS__MAX_HEAD, so the
 * head cap is reachable and crossable; a target may define a smaller cap first. */
#ifndef FUZZ_EXPAND_MAX
#define FUZZ_EXPAND_MAX (300 * 1024)
#endif

/* One pass of the expansion: writes into out when it is not NULL, and returns the
 * expanded length either way. Runs are clipped so the whole stays within
 * FUZZ_EXPAND_MAX plus the literal bytes; a run marker cut short by the end of the
 * input is taken literally. */
static inline size_t fuzz_expand_pass(const uint8_t *d, size_t n, char *out)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == 0xFF && i + 4 < n && d[i + 1] == 0xFE) {
			size_t count = (size_t)d[i + 2] << 8 | d[i + 3];
			size_t room = len < FUZZ_EXPAND_MAX ? FUZZ_EXPAND_MAX - len : 0;
			if (count > room)
				count = room;
			if (out)
				memset(out + len, d[i + 4], count);
			len += count;
			i += 4;
		} else {
			if (out)
				out[len] = (char)d[i];
			len++;
		}
	}
	return len;
}

/* Expands d[0..n) as described above into a fresh allocation of exactly the expanded
 * length; *out_n is that length. */
static inline char *fuzz_expand(const uint8_t *d, size_t n, size_t *out_n)
{
	size_t len = fuzz_expand_pass(d, n, NULL);
	char *out = malloc(len ? len : 1);
	FUZZ_ASSERT(out != NULL);
	fuzz_expand_pass(d, n, out);
	*out_n = len;
	return out;
}

/* A fresh allocation holding exactly p[0..n) (one byte when n is 0, never read). */
static inline char *fuzz_copy(const char *p, size_t n)
{
	char *out = malloc(n ? n : 1);
	FUZZ_ASSERT(out != NULL);
	if (n)
		memcpy(out, p, n);
	return out;
}

/* Takes a little-endian number of `bytes` bytes from the front of the input (0 when
 * the input is shorter), for choices such as split points. */
static inline size_t fuzz_take(const uint8_t **d, size_t *n, size_t bytes)
{
	size_t v = 0;
	for (size_t i = 0; i < bytes && *n > 0; i++) {
		v |= (size_t)**d << (8 * i);
		(*d)++;
		(*n)--;
	}
	return v;
}

#endif
