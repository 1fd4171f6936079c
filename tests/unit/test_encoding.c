/*
 * test_encoding.c: Accept-Encoding (RFC 9110 12.5.3) as encoding.c reads it, and the
 * choice of a precompressed sibling. Each case is fed whole, as every prefix from a
 * buffer of exactly that size (AddressSanitizer sees any read past it), and split into
 * two field lines at each comma outside quotes, which must not change the choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "range.h"

#define S(lit) lit, sizeof(lit) - 1
#define BOTH ((1u << HS__CODING_GZIP) | (1u << HS__CODING_BR))
#define GZ (1u << HS__CODING_GZIP)
#define BR (1u << HS__CODING_BR)
#define I HS__CODING_IDENTITY
#define G HS__CODING_GZIP
#define B HS__CODING_BR

struct ae_case {
	const char *in;
	size_t n;
	int q_gzip, q_br, q_identity; /* hs__accept_encoding_q */
	enum hs__coding both, gz_only;  /* the choice with both siblings, with file.gz alone */
};

static const struct ae_case cases[] = {
	{S("gzip"), 1000, 0, 1, G, G},
	{S("br"), 0, 1000, 1, B, I},
	{S("gzip, deflate, br, zstd"), 1000, 1000, 1, B, G}, /* Chromium's */
	{S("gzip, deflate"), 1000, 0, 1, G, G},              /* curl --compressed, older */
	{S("br;q=0.5, gzip"), 1000, 500, 1, G, G},
	{S("br;q=0.9, gzip;q=0.9"), 900, 900, 1, B, G}, /* a tie: br is smaller */
	{S("gzip;q=0"), 0, 0, 1, I, I},
	{S("gzip;q=0.000"), 0, 0, 1, I, I},
	{S("gzip;q=0.001"), 1, 0, 1, G, G},
	{S("gzip;q=1.000"), 1000, 0, 1, G, G},
	{S("gzip;q=1."), 1000, 0, 1, G, G},
	{S("gzip;q=0."), 0, 0, 1, I, I},
	{S("gzip;Q=0.5"), 500, 0, 1, G, G},
	{S("gzip ; q=0.5"), 500, 0, 1, G, G},
	{S("gzip;q=0.5"), 500, 0, 1, G, G}, /* identity unnamed: acceptable, ranked last */
	{S("identity;q=1, gzip;q=0.5"), 500, 0, 1000, I, I},
	{S("identity;q=0.5, gzip;q=0.5"), 500, 0, 500, G, G},
	{S("identity"), 0, 0, 1000, I, I},
	{S("*"), 1000, 1000, 1000, B, G},
	{S("*;q=0.3, gzip"), 1000, 300, 300, G, G},
	{S("*;q=0"), 0, 0, 0, I, I}, /* nothing acceptable: the file as it is */
	{S("*;q=0, br"), 0, 1000, 0, B, I},
	{S("x-gzip"), 1000, 0, 1, G, G},
	{S("GZIP, Br"), 1000, 1000, 1, B, G},
	{S("gzip;level=9;q=0.8"), 800, 0, 1, G, G},
	{S("gzip;x=\"a,b;q=0\";q=0.3"), 300, 0, 1, G, G},
	{S("gzip, gzip;q=0"), 1000, 0, 1, G, G}, /* the first mention wins */
	{S("gzip;q=0, gzip"), 0, 0, 1, I, I},
	{S("deflate, compress, zstd"), 0, 0, 1, I, I},
	{S(""), 0, 0, 1, I, I},
	{S(" , ,"), 0, 0, 1, I, I},
	/* malformed: the coding named is refused, the others still count */
	{S("gzip;q=1.001"), 0, 0, 1, I, I},
	{S("gzip;q=0.0001"), 0, 0, 1, I, I},
	{S("gzip;q=2"), 0, 0, 1, I, I},
	{S("gzip;q=-1"), 0, 0, 1, I, I},
	{S("gzip;q= 0.5"), 0, 0, 1, I, I},
	{S("gzip;q"), 0, 0, 1, I, I},
	{S("gzip;=1"), 0, 0, 1, I, I},
	{S("gzip;q=0.5;q"), 0, 0, 1, I, I},
	{S("gzip foo, br"), 0, 1000, 1, B, I},
	{S("gzip;x=\"unterminated, br"), 0, 0, 1, I, I},
	{S("\"gzip\", br"), 0, 1000, 1, B, I},
	{S("gzip\0, br"), 0, 1000, 1, B, I},
	{S("g\xffzip, gzip"), 1000, 0, 1, G, G},
};

static void parse_exact(struct hs__accept_encoding *ae, const char *in, size_t n)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, in, n);
	hs__accept_encoding_add(ae, copy, n);
	free(copy);
}

/* The offsets of commas outside quoted strings (where a sender may split the list). */
static bool splittable_at(const char *in, size_t k)
{
	bool quoted = false;
	for (size_t i = 0; i < k; i++)
		if (in[i] == '"')
			quoted = !quoted;
	return in[k] == ',' && !quoted;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ae_case *c = &cases[i];
		struct hs__accept_encoding ae;
		int before = check_failures;
		hs__accept_encoding_init(&ae);
		parse_exact(&ae, c->in, c->n);
		CHECK_INT(hs__accept_encoding_q(&ae, HS__CODING_GZIP), c->q_gzip);
		CHECK_INT(hs__accept_encoding_q(&ae, HS__CODING_BR), c->q_br);
		CHECK_INT(hs__accept_encoding_q(&ae, HS__CODING_IDENTITY), c->q_identity);
		CHECK_INT(hs__accept_encoding_choose(&ae, BOTH), c->both);
		CHECK_INT(hs__accept_encoding_choose(&ae, GZ), c->gz_only);
		CHECK_INT(hs__accept_encoding_choose(&ae, 0), HS__CODING_IDENTITY);
		for (size_t k = 0; k <= c->n; k++) { /* every prefix: no read past it */
			hs__accept_encoding_init(&ae);
			parse_exact(&ae, c->in, k);
			CHECK(hs__accept_encoding_choose(&ae, BOTH) < HS__CODINGS);
		}
		for (size_t k = 0; k < c->n; k++) { /* the same list on two lines */
			if (!splittable_at(c->in, k))
				continue;
			hs__accept_encoding_init(&ae);
			parse_exact(&ae, c->in, k);
			parse_exact(&ae, c->in + k + 1, c->n - k - 1);
			CHECK_INT(hs__accept_encoding_choose(&ae, BOTH), c->both);
			CHECK_INT(hs__accept_encoding_choose(&ae, GZ), c->gz_only);
		}
		if (check_failures != before)
			fprintf(stderr, "  in case %zu: [%.*s]\n", i, (int)c->n, c->in);
	}
}

static void test_absent_and_lines(void)
{
	struct hs__accept_encoding ae;
	hs__accept_encoding_init(&ae);
	CHECK_INT(hs__accept_encoding_choose(&ae, BOTH), HS__CODING_IDENTITY); /* no field */
	hs__accept_encoding_add(&ae, S("gzip;q=0.5"));
	hs__accept_encoding_add(&ae, S("br"));
	CHECK_INT(hs__accept_encoding_choose(&ae, BOTH), HS__CODING_BR);
	CHECK_INT(hs__accept_encoding_choose(&ae, GZ), HS__CODING_GZIP);
	CHECK_INT(hs__accept_encoding_choose(&ae, BR), HS__CODING_BR);
	/* a long field of unknown codings costs one pass */
	static char big[65536];
	size_t n = 0;
	while (n + 12 < sizeof big)
		n += (size_t)snprintf(big + n, sizeof big - n, "x%zu;q=0.5, ", n % 1000);
	hs__accept_encoding_init(&ae);
	hs__accept_encoding_add(&ae, big, n);
	hs__accept_encoding_add(&ae, S("gzip"));
	CHECK_INT(hs__accept_encoding_choose(&ae, BOTH), HS__CODING_GZIP);
}

int main(void)
{
	test_cases();
	test_absent_and_lines();
	return check_done("test_encoding");
}
