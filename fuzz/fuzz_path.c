/*
 * fuzz_path.c: translate_path, the security boundary (hs__translate_path), and the
 * percent-decoder under it (hs__url_unquote). The first input byte picks the output
 * buffer: below 0x80 a roomy one, otherwise one of (byte - 0x80) bytes, so the
 * "too long" path is exercised too; the rest is the request target. Every buffer is
 * an allocation of exactly its size, so ASan sees any write past it.
 *
 * Properties: a result never starts or ends with "/", has no empty, "." or ".."
 * component and no NUL, so joining it under the root cannot leave the root; it
 * equals what Python's algorithm gives, computed here the straightforward way
 * (cut at "?" and "#", percent-decode the whole path, split on "/", then a stack:
 * a name is pushed, ".." pops, "" and "." and a ".." with nothing to pop are
 * dropped); trailing_slash is path.rstrip().endswith('/'); -ENAMETOOLONG exactly when
 * the result and its NUL do not fit, and -EINVAL exactly when it would hold a NUL.
 * hs__url_unquote decodes in place as it does into another buffer, never grows.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "internal.h"

static bool py_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f || c == 0x85 || c == 0xa0;
}

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* urllib.parse.unquote on bytes: "%XX" with two hex digits decodes, anything else is
 * kept. */
static size_t unquote(char *out, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex((unsigned char)s[i + 1]) >= 0 &&
		    hex((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hex((unsigned char)s[i + 1]) << 4 | hex((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* The expected result into out (room for n + 1 bytes); returns its length. */
static size_t reference(const char *t, size_t n, char *out, bool *slash)
{
	size_t plen = 0;
	while (plen < n && t[plen] != '?' && t[plen] != '#')
		plen++;
	size_t trimmed = plen;
	while (trimmed > 0 && py_space((unsigned char)t[trimmed - 1]))
		trimmed--;
	*slash = trimmed > 0 && t[trimmed - 1] == '/';

	char *dec = malloc(plen + 1);
	FUZZ_ASSERT(dec != NULL);
	size_t dn = unquote(dec, t, plen);
	/* the stack: cut[k] is the length of out before the k-th kept name (and its "/") */
	size_t *cut = malloc((dn / 2 + 2) * sizeof *cut), depth = 0, len = 0;
	FUZZ_ASSERT(cut != NULL);
	for (size_t a = 0; a <= dn;) {
		size_t b = a;
		while (b < dn && dec[b] != '/')
			b++;
		size_t wn = b - a;
		const char *w = dec + a;
		if (wn == 2 && w[0] == '.' && w[1] == '.') {
			if (depth > 0)
				len = cut[--depth];
		} else if (wn > 0 && !(wn == 1 && w[0] == '.')) {
			cut[depth++] = len;
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, w, wn);
			len += wn;
		}
		a = b + 1;
	}
	free(cut);
	free(dec);
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pick = fuzz_take(&data, &size, 1);
	size_t out_size = pick < 0x80 ? size + 1 : pick - 0x80;
	char *target = fuzz_copy((const char *)data, size);
	char *out = malloc(out_size ? out_size : 1);
	char *want = malloc(size + 1);
	FUZZ_ASSERT(out != NULL && want != NULL);

	bool slash = false, want_slash = false;
	int rc = hs__translate_path(target, size, out, out_size, &slash);
	size_t wn = reference(target, size, want, &want_slash);

	if (wn + 1 > out_size) {
		FUZZ_ASSERT(rc == -ENAMETOOLONG);
	} else if (memchr(want, '\0', wn)) {
		FUZZ_ASSERT(rc == -EINVAL);
	} else {
		FUZZ_ASSERT(rc == 0);
		size_t n = strlen(out);
		FUZZ_ASSERT(n == wn && memcmp(out, want, wn) == 0);
		FUZZ_ASSERT(slash == want_slash);
		/* the containment promise, stated on its own */
		FUZZ_ASSERT(n == 0 || (out[0] != '/' && out[n - 1] != '/'));
		for (size_t a = 0; a < n;) {
			const char *sep = memchr(out + a, '/', n - a);
			size_t b = sep ? (size_t)(sep - out) : n;
			FUZZ_ASSERT(b > a);
			FUZZ_ASSERT(!(b - a == 1 && out[a] == '.'));
			FUZZ_ASSERT(!(b - a == 2 && out[a] == '.' && out[a + 1] == '.'));
			a = b + 1;
		}
	}

	/* hs__url_unquote: in place as into another buffer, never longer */
	char *copy = fuzz_copy(target, size), *mine = fuzz_copy(target, size);
	size_t n1 = hs__url_unquote(want, target, size);
	size_t n2 = hs__url_unquote(copy, copy, size);
	size_t n3 = unquote(mine, target, size);
	FUZZ_ASSERT(n1 <= size && n1 == n2 && memcmp(want, copy, n1) == 0);
	FUZZ_ASSERT(n1 == n3 && memcmp(want, mine, n1) == 0);

	free(mine);
	free(copy);
	free(want);
	free(out);
	free(target);
	return 0;
}
