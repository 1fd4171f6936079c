/*
 * range.h: the pure pieces of HTTP caching, ranges and content negotiation that the
 * static handler uses (none of it in Python; RFC 9110 sections 8.8, 12.5.3, 13 and 14):
 * the Range parser (range.c), entity tags and the precondition evaluation
 * (conditional.c), and the Accept-Encoding parser (encoding.c). No I/O, no allocation,
 * no globals: each takes field values as (pointer, length), never reads past them, and
 * is unit-tested and fuzzable on its own. Private to src/.
 */
#ifndef HS_RANGE_H
#define HS_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpserve.h"

/* ------------------------------------------------------------ Range (range.c) */

/* More satisfiable ranges than this in one request are answered with the whole file
 * (nginx's max_ranges is unlimited by default; Apache's is 200; 100 bounds the work). */
#define HS__MAX_RANGES 100

struct hs__range {
	uint64_t first, last; /* inclusive byte positions, first <= last < size */
};

enum hs__range_status {
	HS__RANGE_IGNORE,        /* no valid "bytes" range set: the Range field is ignored */
	HS__RANGE_WHOLE,         /* valid, but answered with the whole file (200): more than
	                            HS__MAX_RANGES, overlapping ranges, or a zero-length file */
	HS__RANGE_PARTIAL,       /* *count ranges in the order asked, disjoint: 206 */
	HS__RANGE_UNSATISFIABLE, /* valid, none satisfiable: 416 */
};

/* Parses a Range field value (RFC 9110 14.1.1 and 14.2) against a representation of
 * size bytes: "bytes=" (unit case-insensitive) then a comma-separated list of
 * first-last, first- and -suffix, with optional whitespace around the elements and
 * empty elements allowed. Numbers may have any number of digits: positions past the
 * end are clamped or unsatisfiable, never overflowed. Fills out[0..*count) for
 * HS__RANGE_PARTIAL (out holds HS__MAX_RANGES entries). */
enum hs__range_status hs__range_parse(const char *s, size_t n, uint64_t size,
                                      struct hs__range *out, size_t *count);

/* ------------------------------------------- entity tags and conditions (conditional.c) */

#define HS__ETAG_MAX 80 /* an ETag we generate, quotes and NUL included */

/* A strong entity tag for a file version: "INODE-SIZE-SECONDS.NANOSECONDS" in hex and
 * decimal, quoted. Only what identifies the content version goes in (no device number,
 * which can change across reboots), so it is stable across restarts. Returns the length. */
size_t hs__etag_format(char out[HS__ETAG_MAX], uint64_t ino, uint64_t size, int64_t mtime_sec,
                       long mtime_nsec);

enum hs__etag_match {
	HS__ETAG_NO_MATCH,
	HS__ETAG_MATCH,
	HS__ETAG_INVALID, /* not "*" nor a list of entity-tags: matches nothing; an empty
	                     list is valid and matches nothing too (RFC 9110 "#entity-tag") */
};

/* Matches the field value of If-Match or If-None-Match ("*" or a comma-separated list
 * of entity-tags, RFC 9110 8.8.3) against etag (quoted; NULL when the representation has
 * none). weak: weak comparison (W/ ignored on both sides), else strong (any W/ fails). */
enum hs__etag_match hs__etag_list_match(const char *s, size_t n, const char *etag, bool weak);

/* What the representation offers to the conditions. */
struct hs__validators {
	const char *etag; /* strong, quoted; NULL: none */
	bool has_mtime;
	int64_t mtime;    /* Last-Modified, whole seconds */
};

enum hs__precondition {
	HS__PRECOND_PROCEED,      /* serve as if there were no condition */
	HS__PRECOND_NOT_MODIFIED, /* 304 */
	HS__PRECOND_FAILED,       /* 412 */
};

/* RFC 9110 13.2.2 for GET and HEAD: If-Match (strong), else If-Unmodified-Since; then
 * If-None-Match (weak), else If-Modified-Since exactly as Python's send_head judges it.
 * Several field lines of a list header count as one list; invalid dates are ignored. */
enum hs__precondition hs__preconditions(const struct hs_header *h, size_t nh,
                                        const struct hs__validators *v);

/* If-Range (RFC 9110 13.1.5): true when the value is a strong entity-tag equal to the
 * representation's, or an HTTP-date equal to its Last-Modified that is a strong
 * validator (at least a second older than now). Anything else is false: the Range is
 * then ignored and the whole representation sent. */
bool hs__if_range_holds(const char *s, size_t n, const struct hs__validators *v, int64_t now);

/* ------------------------------------------------ Accept-Encoding (encoding.c) */

enum hs__coding { HS__CODING_IDENTITY, HS__CODING_GZIP, HS__CODING_BR, HS__CODINGS };

/* What a request's Accept-Encoding lines say: q in thousandths (0..1000) per coding,
 * -1 where the coding is not named; star is "*"'s. The first mention of a coding wins. */
struct hs__accept_encoding {
	int q[HS__CODINGS];
	int star;
	bool present; /* at least one Accept-Encoding field line was seen */
};

void hs__accept_encoding_init(struct hs__accept_encoding *ae);
/* Adds one field line (RFC 9110 12.5.3): codings with optional ";q=" weights. An element
 * that is not a token, or a malformed weight, gives that coding q=0 (refused), as nginx
 * does; "x-gzip" is gzip. */
void hs__accept_encoding_add(struct hs__accept_encoding *ae, const char *s, size_t n);
/* The acceptability of coding c (0..1000): its own q, else "*"'s, else 0 for a content
 * coding and 1 (acceptable, ranked last) for identity. */
int hs__accept_encoding_q(const struct hs__accept_encoding *ae, enum hs__coding c);
/* The coding to serve among those available (bit 1 << coding; identity is always
 * available): the highest q above 0, br before gzip on a tie, and identity unless the
 * client ranks it strictly higher. No field at all: identity. */
enum hs__coding hs__accept_encoding_choose(const struct hs__accept_encoding *ae,
                                           unsigned available);

#endif
