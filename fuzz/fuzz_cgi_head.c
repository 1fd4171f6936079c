/*
 * fuzz_cgi_head.c: the parser of the header block a CGI script prints,
 * hs__cgi_parse_head. The first two input bytes choose a split point; the rest,
 * expanded by fuzz_expand (so a block can pass HS__CGI_MAX_HEAD, 64 KiB), is the
 * script's output.
 *
 * The parser keeps no state: cgi.c calls it again on all the output gathered so far
 * each time more arrives, and acts on the first answer that is not 0. So the
 * property that matters is that a prefix never answers differently from the whole.
 * Every prefix tried (the split the fuzzer picks; just before and after each line end,
 * up to the one after the first that answers; the block's length and one less; and
 * around the 64 KiB cap), each in a fresh allocation of exactly its bytes so ASan sees
 * any read past the length, gives 0 or exactly the whole's result (length, error, and
 * every field by offset). The block's length less one byte gives 0: the block ends at
 * its first empty line, not before.
 *
 * The whole's result also equals a reading of the contract in cgi.h done here line by
 * line: LF or CR LF ends a line, the first empty line ends the block, and -1 comes for
 * the first line that is a continuation, has no colon or an empty or non-token name,
 * a CR, a control character (but HT) in its value, a second or bad Status (three
 * digits, 200 to 599, then nothing or a space and the reason), a Content-Length that
 * is not 1 to 18 digits or differs from an earlier one, or that would be the 101st
 * field passed on; or when 64 KiB pass without the block ending. And on its own:
 * the length never exceeds the input or the cap; -1 exactly when there is an error
 * message; 0 only below the cap; every span lies inside the block; names are tokens
 * followed by ":"; values are trimmed of SP/HT and free of control characters; Status
 * and the hop-by-hop fields are never passed on, and there are at most 100 fields;
 * location, content_type and content_length agree with the fields passed on.
 */
#include <stdbool.h>
#include <strings.h>

#include "cgi.h"

#define FUZZ_EXPAND_MAX (HS__CGI_MAX_HEAD + 4096) /* past the cap, no further */
#include "fuzz.h"

#define CAP HS__CGI_MAX_HEAD
#define MAXF HS__CGI_MAX_FIELDS

struct outcome {
	long r;
	const char *error;
	int status;
	size_t reason[2]; /* offset and length; {0, 0} when empty */
	long long content_length;
	bool location, content_type;
	size_t nfields;
	size_t off[MAXF][4]; /* name offset, name length, value offset, value length */
};

static const char *const hop[] = {"Connection", "Keep-Alive", "Transfer-Encoding",
                                  "TE", "Trailer", "Upgrade", NULL};

static bool named(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

static bool is_hop(const char *p, size_t n)
{
	for (size_t i = 0; hop[i]; i++)
		if (named(p, n, hop[i]))
			return true;
	return false;
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Records what the parser returned for buf[0..len), checking what holds on its own. */
static void record(struct outcome *o, long r, const char *buf, size_t len,
                   const struct hs__cgi_head *h)
{
	*o = (struct outcome){.r = r, .error = h->error};
	FUZZ_ASSERT(r >= -1 && r <= (long)len && r <= CAP);
	FUZZ_ASSERT((r == -1) == (h->error != NULL));
	if (r == 0)
		FUZZ_ASSERT(len < CAP);
	if (r <= 0)
		return;
	size_t end = (size_t)r;
	FUZZ_ASSERT(buf[end - 1] == '\n');
	FUZZ_ASSERT(h->nfields <= MAXF);
	FUZZ_ASSERT(h->status == 0 || (h->status >= 200 && h->status <= 599));
	FUZZ_ASSERT(h->content_length >= -1);
	o->status = h->status;
	o->content_length = h->content_length;
	o->location = h->location;
	o->content_type = h->content_type;
	o->nfields = h->nfields;
	if (h->reason.n) {
		FUZZ_ASSERT(h->status != 0);
		FUZZ_ASSERT(h->reason.p >= buf && h->reason.p + h->reason.n <= buf + end);
		o->reason[0] = (size_t)(h->reason.p - buf);
		o->reason[1] = h->reason.n;
	}
	bool location = false, content_type = false;
	size_t cl_fields = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		struct hs__span n = h->fields[i].name, v = h->fields[i].value;
		FUZZ_ASSERT(n.p >= buf && n.n > 0 && n.p + n.n < buf + end && n.p[n.n] == ':');
		FUZZ_ASSERT(v.p >= buf && v.p + v.n <= buf + end);
		for (size_t k = 0; k < n.n; k++)
			FUZZ_ASSERT(tchar((unsigned char)n.p[k]));
		for (size_t k = 0; k < v.n; k++)
			FUZZ_ASSERT(!ctl((unsigned char)v.p[k]));
		if (v.n)
			FUZZ_ASSERT(v.p[0] != ' ' && v.p[0] != '\t' && v.p[v.n - 1] != ' ' &&
			            v.p[v.n - 1] != '\t');
		FUZZ_ASSERT(!named(n.p, n.n, "Status") && !is_hop(n.p, n.n));
		location |= named(n.p, n.n, "Location");
		content_type |= named(n.p, n.n, "Content-Type");
		if (named(n.p, n.n, "Content-Length")) {
			cl_fields++;
			long long want = 0;
			for (size_t k = 0; k < v.n; k++)
				want = want * 10 + (v.p[k] - '0');
			FUZZ_ASSERT(want == h->content_length);
		}
		o->off[i][0] = (size_t)(n.p - buf);
		o->off[i][1] = n.n;
		o->off[i][2] = (size_t)(v.p - buf);
		o->off[i][3] = v.n;
	}
	FUZZ_ASSERT(location == h->location && content_type == h->content_type);
	FUZZ_ASSERT(cl_fields == (h->content_length >= 0 ? 1u : 0u));
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	if (a->r != b->r || (a->error == NULL) != (b->error == NULL))
		return false;
	if (a->error && strcmp(a->error, b->error) != 0)
		return false;
	if (a->r <= 0)
		return true;
	return a->status == b->status && a->reason[0] == b->reason[0] &&
	       a->reason[1] == b->reason[1] && a->content_length == b->content_length &&
	       a->location == b->location && a->content_type == b->content_type &&
	       a->nfields == b->nfields &&
	       memcmp(a->off, b->off, sizeof a->off[0] * a->nfields) == 0;
}

/* One field line l[0..n) at offset at, its line end removed: false when malformed. */
static bool expect_line(struct outcome *o, const char *buf, size_t at, size_t n)
{
	const char *l = buf + at;
	if (l[0] == ' ' || l[0] == '\t' || memchr(l, '\r', n))
		return false;
	size_t colon = 0;
	while (colon < n && l[colon] != ':')
		colon++;
	if (colon == 0 || colon == n)
		return false;
	for (size_t i = 0; i < colon; i++)
		if (!tchar((unsigned char)l[i]))
			return false;
	size_t vb = colon + 1, ve = n;
	for (size_t i = vb; i < ve; i++)
		if (ctl((unsigned char)l[i]))
			return false;
	while (vb < ve && (l[vb] == ' ' || l[vb] == '\t'))
		vb++;
	while (ve > vb && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;
	const char *v = l + vb;
	size_t vn = ve - vb;
	if (named(l, colon, "Status")) {
		if (o->status || vn < 3 || (vn > 3 && v[3] != ' '))
			return false;
		int code = 0;
		for (int i = 0; i < 3; i++) {
			if (v[i] < '0' || v[i] > '9')
				return false;
			code = code * 10 + (v[i] - '0');
		}
		if (code < 200 || code > 599)
			return false;
		o->status = code;
		if (vn > 4)
			o->reason[0] = at + vb + 4, o->reason[1] = vn - 4;
		return true;
	}
	if (named(l, colon, "Content-Length")) {
		if (vn == 0 || vn > 18)
			return false;
		long long len = 0;
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return false;
			len = len * 10 + (v[i] - '0');
		}
		if (o->content_length >= 0)
			return o->content_length == len; /* the same again is dropped */
		o->content_length = len;
	}
	if (is_hop(l, colon))
		return true;
	if (o->nfields == MAXF)
		return false;
	o->location |= named(l, colon, "Location");
	o->content_type |= named(l, colon, "Content-Type");
	size_t *f = o->off[o->nfields++];
	f[0] = at, f[1] = colon, f[2] = at + vb, f[3] = vn;
	return true;
}

/* The contract read line by line: the expected result for buf[0..len). */
static void expect(struct outcome *o, const char *buf, size_t len)
{
	*o = (struct outcome){.content_length = -1};
	size_t limit = len < CAP ? len : CAP, at = 0;
	for (;;) {
		size_t e = at;
		while (e < limit && buf[e] != '\n')
			e++;
		if (e == limit) {
			o->r = len < CAP ? 0 : -1;
			break;
		}
		size_t ce = e > at && buf[e - 1] == '\r' ? e - 1 : e;
		if (ce == at) {
			o->r = (long)(e + 1);
			break;
		}
		if (!expect_line(o, buf, at, ce - at)) {
			o->r = -1;
			break;
		}
		at = e + 1;
	}
	if (o->r <= 0) /* only the answer counts then */
		*o = (struct outcome){.r = o->r};
}

/* Parses a fresh copy of buf[0..k): 0 or exactly the whole's result. */
static long prefix(const char *buf, size_t k, const struct outcome *whole)
{
	static struct hs__cgi_head h;
	static struct outcome o;
	char *p = fuzz_copy(buf, k);
	long r = hs__cgi_parse_head(p, k, &h);
	record(&o, r, p, k, &h);
	FUZZ_ASSERT(r == 0 || same(&o, whole));
	free(p);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hs__cgi_head h;
	static struct outcome whole, want;
	size_t choice = fuzz_take(&data, &size, 2), len;
	char *buf = fuzz_expand(data, size, &len);

	long r = hs__cgi_parse_head(buf, len, &h);
	record(&whole, r, buf, len, &h);
	expect(&want, buf, len);
	FUZZ_ASSERT(want.r == whole.r);
	if (r > 0) {
		want.error = NULL;
		FUZZ_ASSERT(same(&want, &whole));
	}

	/* the fuzzer's split */
	prefix(buf, len ? (size_t)((unsigned long long)choice * len / 65535) : 0, &whole);
	/* the block and one byte less */
	if (r > 0) {
		FUZZ_ASSERT(prefix(buf, (size_t)r, &whole) == r);
		FUZZ_ASSERT(prefix(buf, (size_t)r - 1, &whole) == 0);
	}
	/* around the cap */
	for (size_t k = CAP - 1; k <= CAP + 1 && k <= len; k++)
		prefix(buf, k, &whole);
	/* just before and after each line end, up to the one after the first that gives
	 * an answer (past it every prefix holds the same lines), while the work stays
	 * within 1 MiB: a long block is slow to parse under the fuzzer's instrumentation */
	size_t budget = 1u << 20, answered = 0, limit = len < CAP ? len : CAP;
	for (size_t e = 0; e < limit && answered < 2; e++) {
		if (buf[e] != '\n')
			continue;
		if (budget < 2 * (e + 1))
			break;
		budget -= 2 * (e + 1);
		prefix(buf, e, &whole);
		answered += prefix(buf, e + 1, &whole) != 0;
	}

	free(buf);
	return 0;
}
