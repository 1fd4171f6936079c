/*
 * test_parse.c: the request-head parser against Python's rules (request line as
 * BaseHTTPRequestHandler.parse_request, header lines as http.client._read_headers)
 * and RFC 9112's field syntax. Every streaming case is fed whole, one byte at a time
 * and split in two at every point, each piece in a fresh allocation of exactly the
 * bytes received so far (ASan then catches reads past the length, and views kept
 * from an earlier, freed, buffer); all ways must give the same rendered result.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"

#define S(lit) lit, sizeof(lit) - 1 /* a literal and its length, NULs included */

/* ------------------------------------------------------------ feeding */

enum feed { FEED_WHOLE, FEED_BYTES, FEED_SPLIT };

/* Inputs above this size are fed one byte at a time in place (copying a growing
 * prefix at every byte would be quadratic) and split at a sample of points. */
#define BIG 16384

static size_t next_cut(enum feed f, size_t split, size_t n, size_t prev)
{
	if (f == FEED_WHOLE)
		return n;
	if (f == FEED_BYTES)
		return prev + 1;
	return prev < split ? split : n;
}

static int split_wanted(size_t s, size_t n)
{
	size_t r = s % 65536;
	return n <= BIG || s < 64 || n - s < 64 || s % 4093 == 0 || r < 3 || r > 65533;
}

/* The first k bytes of in, in a fresh exact-size allocation (freed by the next call
 * or by prefix_free), or in itself for big inputs fed byte by byte. */
static const char *prefix(const char *in, size_t n, size_t k, enum feed f, char **owned)
{
	free(*owned);
	*owned = NULL;
	if (f == FEED_BYTES && n > BIG)
		return in;
	*owned = malloc(k ? k : 1);
	if (k)
		memcpy(*owned, in, k);
	return *owned;
}

/* Runs one way of feeding and renders the outcome as text into out. */
typedef void run_fn(const char *in, size_t n, enum feed f, size_t split, struct hs__buf *out);

static const char *feed_name(enum feed f)
{
	return f == FEED_WHOLE ? "whole" : f == FEED_BYTES ? "byte by byte" : "split";
}

/* Checks that every way of feeding renders want (wn bytes). */
static void all_feeds_n(const char *label, const char *in, size_t n, run_fn *run,
                        const char *want, size_t wn)
{
	for (size_t s = 0; s <= n + 1; s++) {
		enum feed f = s == 0 ? FEED_WHOLE : s == 1 ? FEED_BYTES : FEED_SPLIT;
		size_t split = s - 1;
		if (f == FEED_SPLIT && (split >= n || !split_wanted(split, n)))
			continue;
		struct hs__buf got = { 0 };
		run(in, n, f, split, &got);
		check_count++;
		if (got.len != wn || memcmp(got.data, want, wn) != 0) {
			check_failures++;
			fprintf(stderr, "%s (%s at %zu): got [%.*s], want [%.*s]\n", label,
			        feed_name(f), split, (int)got.len, got.data, (int)wn, want);
		}
		hs__buf_free(&got);
	}
}

static void all_feeds(const char *label, const char *in, size_t n, run_fn *run,
                      const char *want)
{
	all_feeds_n(label, in, n, run, want, strlen(want));
}

/* ------------------------------------------------------------ hs__find_line */

static void run_find_line(const char *in, size_t n, enum feed f, size_t split,
                          struct hs__buf *out)
{
	char *owned = NULL;
	size_t scanned = 0, k = 0;
	long r = 0;
	while (r == 0 && k < n) {
		k = next_cut(f, split, n, k);
		r = hs__find_line(prefix(in, n, k, f, &owned), k, &scanned);
	}
	free(owned);
	hs__buf_printf(out, "%ld", r);
}

static const struct line_case {
	const char *name;
	const char *in;
	size_t len;
	long want; /* the line's length with its "\n", 0 for more, -1 for 414 */
} line_cases[] = {
	{ "CRLF", S("GET / HTTP/1.1\r\n"), 16 },
	{ "LF only", S("GET / HTTP/1.1\n"), 15 },
	{ "no line end yet", S("GET / HTTP/1.1\r"), 0 },
	{ "nothing yet", S(""), 0 },
	{ "empty line, LF", S("\n"), 1 },
	{ "empty line, CRLF", S("\r\n"), 2 },
	{ "pipelined: only the first line", S("GET /a HTTP/1.1\r\nGET /b HTTP/1.1\r\n"), 17 },
	{ "headers behind the line", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 16 },
	{ "bare CR is not a line end", S("GET /\rx HTTP/1.1\n"), 17 },
	{ "NUL does not stop the search", S("GET /\0 HTTP/1.1\n"), 16 },
};

/* A line of `fill` bytes of 'a' followed by `end`. */
static void make_line(struct hs__buf *b, size_t fill, const char *end)
{
	hs__buf_reserve(b, fill + strlen(end));
	memset(b->data + b->len, 'a', fill);
	b->len += fill;
	hs__buf_puts(b, end);
}

static void test_find_line(void)
{
	char want[32];
	for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0]; i++) {
		const struct line_case *c = &line_cases[i];
		snprintf(want, sizeof want, "%ld", c->want);
		all_feeds(c->name, c->in, c->len, run_find_line, want);
	}
	/* readline(65537): 65536 bytes with the "\n" pass, 65537 are a 414, and a line
	 * is known to be too long as soon as its 65537th byte arrives. */
	static const struct {
		const char *name;
		size_t fill;
		const char *end;
		long want;
	} big[] = {
		{ "65536 with LF", 65535, "\n", 65536 },
		{ "65536 with CRLF", 65534, "\r\n", 65536 },
		{ "65537 with LF", 65536, "\n", -1 },
		{ "65537 with CRLF", 65535, "\r\n", -1 },
		{ "65536 without a line end yet", 65536, "", 0 },
		{ "65537 without a line end", 65537, "", -1 },
		{ "65536 then a pipelined line", 65535, "\nGET / HTTP/1.0\n", 65536 },
	};
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		struct hs__buf in = { 0 };
		make_line(&in, big[i].fill, big[i].end);
		snprintf(want, sizeof want, "%ld", big[i].want);
		all_feeds(big[i].name, in.data, in.len, run_find_line, want);
		hs__buf_free(&in);
	}
}

/* ------------------------------------------------- hs__parse_request_line */

static const struct reqline_case {
	const char *name;
	const char *in;
	size_t len;
	enum hs__reqline_status want;
	const char *method, *target, *version, *number;
	unsigned long long major, minor;
} reqline_cases[] = {
	/* Python's order: words, then the version (3+ words), then the count, then 0.9. */
	{ "HTTP/1.1", S("GET / HTTP/1.1\r\n"), HS__RL_OK, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "HTTP/1.0, LF", S("GET / HTTP/1.0\n"), HS__RL_OK, "GET", "/", "HTTP/1.0", "1.0", 1, 0 },
	{ "no line end", S("PUT /x HTTP/1.1"), HS__RL_OK, "PUT", "/x", "HTTP/1.1", "1.1", 1, 1 },
	{ "rstrip any CR/LF mix", S("GET / HTTP/1.1\r\r\n\n"), HS__RL_OK, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "outer whitespace", S("  GET   /  HTTP/1.1 \t\r\n"), HS__RL_OK, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "tab separates", S("GET\t/\tHTTP/1.1\t"), HS__RL_OK, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "NEL and NBSP separate", S("GET\x85/\xa0HTTP/1.1"), HS__RL_OK, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "leading zeros", S("GET / HTTP/01.010"), HS__RL_OK, "GET", "/", "HTTP/01.010", "01.010", 1, 10 },
	{ "10 digits", S("GET / HTTP/0000000001.9999999999"), HS__RL_OK, "GET", "/", "HTTP/0000000001.9999999999", "0000000001.9999999999", 1, 9999999999ULL },
	{ "HTTP/0.9 spelt out", S("GET / HTTP/0.9"), HS__RL_OK, "GET", "/", "HTTP/0.9", "0.9", 0, 9 },
	{ "//path is kept", S("GET //x HTTP/1.1"), HS__RL_OK, "GET", "//x", "HTTP/1.1", "1.1", 1, 1 },
	/* Bad versions (400 "Bad request version"), whatever the word count. */
	{ "11 digits", S("GET / HTTP/00000000001.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/00000000001.1", "00000000001.1", 0, 0 },
	{ "lowercase http", S("GET / http/1.1"), HS__RL_BAD_VERSION, "GET", "/", "http/1.1", "", 0, 0 },
	{ "two dots", S("GET / HTTP/1.1.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/1.1.1", "1.1.1", 0, 0 },
	{ "no dot", S("GET / HTTP/1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/1", "1", 0, 0 },
	{ "empty minor", S("GET / HTTP/1."), HS__RL_BAD_VERSION, "GET", "/", "HTTP/1.", "1.", 0, 0 },
	{ "empty major", S("GET / HTTP/.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/.1", ".1", 0, 0 },
	{ "just HTTP/", S("GET / HTTP/"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/", "", 0, 0 },
	{ "sign (3.13 isdigit)", S("GET / HTTP/+1.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/+1.1", "+1.1", 0, 0 },
	{ "minus", S("GET / HTTP/1.-1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/1.-1", "1.-1", 1, 0 },
	{ "underscore (3.13 isdigit)", S("GET / HTTP/1_0.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/1_0.1", "1_0.1", 0, 0 },
	{ "superscript two", S("GET / HTTP/\xb2.1"), HS__RL_BAD_VERSION, "GET", "/", "HTTP/\xb2.1", "\xb2.1", 0, 0 },
	{ "last of 4 words is the version", S("GET / HTTP/1.1 x"), HS__RL_BAD_VERSION, "GET", "/", "x", "", 0, 0 },
	/* 505 "Invalid HTTP version", checked before the word count. */
	{ "2.0", S("GET / HTTP/2.0"), HS__RL_VERSION_TOO_HIGH, "GET", "/", "HTTP/2.0", "2.0", 2, 0 },
	{ "10 digit major", S("GET / HTTP/9999999999.0"), HS__RL_VERSION_TOO_HIGH, "GET", "/", "HTTP/9999999999.0", "9999999999.0", 9999999999ULL, 0 },
	{ "505 beats 4 words", S("A B C HTTP/3.0"), HS__RL_VERSION_TOO_HIGH, "A", "B", "HTTP/3.0", "3.0", 3, 0 },
	/* 400 "Bad request syntax": a good version but the wrong word count. */
	{ "4 words", S("GET / x HTTP/1.1"), HS__RL_BAD_SYNTAX, "GET", "/", "HTTP/1.1", "1.1", 1, 1 },
	{ "1 word", S("GET\r\n"), HS__RL_BAD_SYNTAX, "GET", "", "", "", 0, 0 },
	/* HTTP/0.9: two words, GET only, case-sensitive. */
	{ "0.9 GET", S("GET /\r\n"), HS__RL_OK, "GET", "/", "", "", 0, 9 },
	{ "0.9 GET of HTTP/1.1", S("GET HTTP/1.1"), HS__RL_OK, "GET", "HTTP/1.1", "", "", 0, 9 },
	{ "0.9 POST", S("POST /"), HS__RL_BAD_09_METHOD, "POST", "/", "", "", 0, 9 },
	{ "0.9 get", S("get /"), HS__RL_BAD_09_METHOD, "get", "/", "", "", 0, 9 },
	/* No words: close silently. */
	{ "nothing", S(""), HS__RL_EMPTY, "", "", "", "", 0, 0 },
	{ "CRLF", S("\r\n"), HS__RL_EMPTY, "", "", "", "", 0, 0 },
	{ "whitespace", S(" \t\x85\xa0\r\n"), HS__RL_EMPTY, "", "", "", "", 0, 0 },
	/* Ours: a control byte RFC 9112 forbids (all but HTAB), or a first word that no
	 * method can begin with, is "Bad request syntax" before Python's checks; no word
	 * is taken from such a line. Python splits on VT, FF, 0x1c-0x1f and CR. */
	{ "VT, FF (Python's whitespace)", S("GET\t/\x0bHTTP/1.1\x0c"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "0x1c-0x1f (Python's whitespace)", S("GET\x1c\x1d/\x1e\x1fHTTP/1.1"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "inner CR", S("GET\r/ HTTP/1.1\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "NUL in the path", S("GET /a.txt\0.png HTTP/1.0\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "NUL alone as the path", S("GET /\0 HTTP/1.0\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "NUL in the method", S("GET\0/ HTTP/1.1"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "DEL in the version", S("GET / HTTP/1.1\x7f"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "control byte beats 505", S("GET /\x01 HTTP/2.0"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "ESC in the query", S("GET /?\x1b[2J HTTP/1.1"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "only control bytes", S("\x01\x02\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "TLS ClientHello", S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "JSON", S("{\"a\": 1}\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "HTML", S("<html> / HTTP/1.1\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "obs-text first", S("\xc3\xa9T / HTTP/1.1\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	{ "blank then a bad byte", S("  (GET / HTTP/1.1\r\n"), HS__RL_BAD_SYNTAX, "", "", "", "", 0, 0 },
	/* still Python's: obs-text and C1 bytes after the first, HTAB, token methods */
	{ "obs-text in the path", S("GET /caf\xe9\x9b HTTP/1.1"), HS__RL_OK, "GET", "/caf\xe9\x9b", "HTTP/1.1", "1.1", 1, 1 },
	{ "odd token method", S("M-SEARCH * HTTP/1.1"), HS__RL_OK, "M-SEARCH", "*", "HTTP/1.1", "1.1", 1, 1 },
	{ "method with a non-token after its first byte", S("G(T / HTTP/1.1"), HS__RL_OK, "G(T", "/", "HTTP/1.1", "1.1", 1, 1 },
};

static void test_request_line(void)
{
	for (size_t i = 0; i < sizeof reqline_cases / sizeof reqline_cases[0]; i++) {
		const struct reqline_case *c = &reqline_cases[i];
		struct hs__reqline rl;
		/* An exact copy, so a read past the length trips ASan. */
		char *line = malloc(c->len ? c->len : 1);
		memcpy(line, c->in, c->len);
		enum hs__reqline_status st = hs__parse_request_line(line, c->len, &rl);
		if (st != c->want)
			fprintf(stderr, "case: %s\n", c->name);
		CHECK_INT(st, c->want);
		CHECK_MEM(rl.method.p, rl.method.n, c->method, strlen(c->method));
		CHECK_MEM(rl.target.p, rl.target.n, c->target, strlen(c->target));
		CHECK_MEM(rl.version.p, rl.version.n, c->version, strlen(c->version));
		CHECK_MEM(rl.version_number.p, rl.version_number.n, c->number, strlen(c->number));
		if (st != HS__RL_BAD_VERSION) {
			CHECK_INT(rl.major, c->major);
			CHECK_INT(rl.minor, c->minor);
		}
		size_t stripped = c->len;
		while (stripped && (c->in[stripped - 1] == '\r' || c->in[stripped - 1] == '\n'))
			stripped--;
		CHECK(rl.line.p == line && rl.line.n == stripped);
		/* kept while the buffer moves: the same words, found in the new place */
		struct hs__reqline_at at;
		hs__reqline_save(&at, &rl, line);
		char *moved = malloc(c->len ? c->len : 1);
		memcpy(moved, line, c->len);
		free(line);
		struct hs__reqline back;
		hs__reqline_load(&back, &at, moved);
		CHECK(back.line.p == moved && back.line.n == stripped);
		CHECK_MEM(back.method.p, back.method.n, c->method, strlen(c->method));
		CHECK_MEM(back.target.p, back.target.n, c->target, strlen(c->target));
		CHECK_MEM(back.version.p, back.version.n, c->version, strlen(c->version));
		CHECK_MEM(back.version_number.p, back.version_number.n, c->number, strlen(c->number));
		CHECK(back.major == rl.major && back.minor == rl.minor);
		free(moved);
	}
}

/* Every byte value in the target and as the first byte: the forbidden control bytes
 * (all but HTAB) make the line garbage wherever they are; a first byte must be a token
 * character or blank. A garbage line is BAD_SYNTAX with no method taken. */
static bool forbidden_byte(unsigned c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool garbage(const char *line, size_t n)
{
	struct hs__reqline rl;
	return hs__parse_request_line(line, n, &rl) == HS__RL_BAD_SYNTAX && rl.method.n == 0;
}

static void test_request_line_bytes(void)
{
	for (unsigned b = 0; b < 256; b++) {
		char in_target[] = "GET /a?b HTTP/1.1";
		in_target[6] = (char)b;
		CHECK_INT(garbage(in_target, sizeof in_target - 1), forbidden_byte(b));
		char first[] = "xET / HTTP/1.1\r\n";
		first[0] = (char)b;
		bool blank = b == ' ' || b == '\t' || b == 0x85 || b == 0xa0;
		bool tchar = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
		             (b >= 'a' && b <= 'z') || (b && strchr("!#$%&'*+-.^_`|~", (int)b));
		/* a leading CR or LF is rstripped only at the end, so it is forbidden here */
		CHECK_INT(garbage(first, sizeof first - 1), !blank && !tchar);
	}
}

/* hs__line_start_refused on a line still arriving agrees with the whole line's check,
 * however the line is cut: refused at some point if and only if the line, once ended,
 * is garbage. Lines are drawn from bytes that matter to either check. */
static bool refused_when_fed(const char *line, size_t n, size_t cut)
{
	struct hs__line_check st = {0};
	if (cut < n && hs__line_start_refused(line, cut, &st))
		return true;
	return hs__line_start_refused(line, n, &st);
}

static void test_line_start(void)
{
	static const char alphabet[] = "G/ \t\r\0\x16{a\x85\xa0\x7f\x01(";
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		char line[12];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof line;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			line[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		bool want = garbage(line, n);
		for (size_t cut = 0; cut <= n; cut++)
			CHECK_INT(refused_when_fed(line, n, cut), want);
		struct hs__line_check st = {0};
		bool any = false;
		for (size_t k = 1; k <= n && !any; k++)
			any = hs__line_start_refused(line, k, &st);
		CHECK_INT(any, want);
	}
	/* a run of CRs waits for the byte after it, however long, then decides */
	struct hs__buf in = {0};
	hs__buf_puts(&in, "GET / HTTP/1.1");
	struct hs__line_check st = {0};
	for (int i = 0; i < 1000; i++) {
		hs__buf_append(&in, "\r", 1);
		CHECK(!hs__line_start_refused(in.data, in.len, &st));
	}
	hs__buf_append(&in, "x", 1);
	CHECK(hs__line_start_refused(in.data, in.len, &st));
	hs__buf_free(&in);
	/* the first bytes of a TLS handshake are enough */
	CHECK(hs__line_start_refused(S("\x16"), &(struct hs__line_check){0}));
	CHECK(!hs__line_start_refused(S("  GE"), &(struct hs__line_check){0}));
}

/* ------------------------------------------------------ hs__parse_headers */

/* Renders the result and the fields, as "ret name=value|name=value|". */
static void render_head(struct hs__buf *out, long r, const struct hs__header_span *h,
                        size_t nh)
{
	hs__buf_printf(out, "%ld ", r);
	for (size_t i = 0; r > 0 && i < nh; i++) {
		hs__buf_append(out, h[i].name.p, h[i].name.n);
		hs__buf_puts(out, "=");
		hs__buf_append(out, h[i].value.p, h[i].value.n);
		hs__buf_puts(out, "|");
	}
}

static void run_headers(const char *in, size_t n, enum feed f, size_t split,
                        struct hs__buf *out)
{
	static struct hs__header_span h[HS__MAX_HEADERS];
	struct hs__head_scan st = { 0 };
	char *owned = NULL;
	const char *buf = NULL;
	size_t k = 0, nh = 0;
	long r = 0;
	while (r == 0 && k < n) {
		k = next_cut(f, split, n, k);
		buf = prefix(in, n, k, f, &owned);
		r = hs__parse_headers(buf, k, &st, h, &nh);
		if (r == 0 && nh != 0)
			hs__buf_puts(out, "fields before the end! ");
	}
	if (n == 0)
		r = hs__parse_headers("", 0, &st, h, &nh);
	render_head(out, r, h, nh); /* the views point into the last buffer */
	free(owned);
}

#define HEAD_OK 1 /* the whole of .head is the block */

static const struct head_case {
	const char *name;
	const char *head;
	size_t len;
	const char *after; /* pipelined bytes behind the block */
	long want;         /* HEAD_OK, 0 for more, or an hs__head_error */
	const char *fields;
} head_cases[] = {
	/* The block ends at the first empty line; a CR before an LF is part of it. */
	{ "no fields, CRLF", S("\r\n"), "", HEAD_OK, "" },
	{ "no fields, LF", S("\n"), "", HEAD_OK, "" },
	{ "one field", S("Host: example.com\r\n\r\n"), "", HEAD_OK, "Host=example.com|" },
	{ "LF only", S("Host: a\nAccept: */*\n\n"), "", HEAD_OK, "Host=a|Accept=*/*|" },
	{ "mixed line ends", S("A: 1\r\nB: 2\n\r\n"), "", HEAD_OK, "A=1|B=2|" },
	{ "pipelined request behind", S("Host: a\r\n\r\n"), "GET /b HTTP/1.1\r\nHost: b\r\n\r\n", HEAD_OK, "Host=a|" },
	{ "pipelined, LF only", S("Host: a\n\n"), "GET /b HTTP/1.0\n\n", HEAD_OK, "Host=a|" },
	/* Values lose leading and trailing SP/HT only. */
	{ "OWS trimmed", S("X: \t a  b \t \r\n\r\n"), "", HEAD_OK, "X=a  b|" },
	{ "no OWS", S("X:a\r\n\r\n"), "", HEAD_OK, "X=a|" },
	{ "empty value", S("X:\r\n\r\n"), "", HEAD_OK, "X=|" },
	{ "blank value", S("X: \t \r\n\r\n"), "", HEAD_OK, "X=|" },
	{ "colon in value", S("Host: a:80\r\n\r\n"), "", HEAD_OK, "Host=a:80|" },
	{ "every tchar in a name", S("!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n"), "", HEAD_OK, "!#$%&'*+-.^_`|~09AZaz=v|" },
	{ "obs-text in value", S("X: caf\xe9\r\n\r\n"), "", HEAD_OK, "X=caf\xe9|" },
	{ "other controls in value, as Python", S("X: a\x01\x7f\x0b\r\n\r\n"), "", HEAD_OK, "X=a\x01\x7f\x0b|" },
	{ "repeated names kept in order", S("A: 1\r\nA: 2\r\n\r\n"), "", HEAD_OK, "A=1|A=2|" },
	/* Not yet complete. */
	{ "nothing yet", S(""), "", 0, "" },
	{ "no empty line yet", S("Host: a\r\n"), "", 0, "" },
	{ "half a line end", S("Host: a\r\n\r"), "", 0, "" },
	{ "half a line", S("Host: a"), "", 0, "" },
	/* RFC 9112 field syntax (Python lets these through; we refuse them on purpose). */
	{ "no colon", S("Host example.com\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "space before colon", S("Host : a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "Transfer-Encoding : chunked", S("Transfer-Encoding : chunked\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "tab before colon", S("Content-Length\t: 5\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "empty name", S(": a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "obs-fold, SP", S("A: b\r\n c\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "obs-fold, HT", S("A: b\r\n\tc\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "whitespace before the first field", S(" Host: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "bare CR in value", S("X: a\rb\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "CR CR LF", S("X: a\r\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "CR CR LF as the empty line", S("X: a\r\n\r\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "bare CR in name", S("X\r: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "NUL in value", S("X: a\0b\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "NUL in name", S("X\0: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "delimiter in name", S("X(y): a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "slash in name", S("X/y: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "non-ASCII name", S("X\xe9: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	{ "DEL in name", S("X\x7f: a\r\n\r\n"), "", HS__HEAD_MALFORMED, "" },
	/* A bad line is reported when it is complete (a 431 for that very line would come
	 * first, as Python reads it), and before anything in later lines. */
	{ "bad line, then more to come", S("X y\r\nHost: a"), "", HS__HEAD_MALFORMED, "" },
	{ "bad line not complete yet", S("Host example"), "", 0, "" },
	{ "bad line behind good ones", S("A: 1\r\nB: 2\r\nC 3\r\n"), "", HS__HEAD_MALFORMED, "" },
};

/* fields: fn bytes of "name=value|" expected when want > 0 */
static void check_head(const char *label, const char *in, size_t n, long want,
                       const char *fields, size_t fn)
{
	struct hs__buf w = { 0 };
	hs__buf_printf(&w, "%ld ", want);
	if (want > 0)
		hs__buf_append(&w, fields, fn);
	all_feeds_n(label, in, n, run_headers, w.data, w.len);
	hs__buf_free(&w);
}

static void test_header_table(void)
{
	for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++) {
		const struct head_case *c = &head_cases[i];
		struct hs__buf in = { 0 };
		hs__buf_append(&in, c->head, c->len);
		hs__buf_puts(&in, c->after);
		long want = c->want == HEAD_OK ? (long)c->len : c->want;
		check_head(c->name, in.data ? in.data : "", in.len, want, c->fields,
		           strlen(c->fields));
		hs__buf_free(&in);
	}
}

/* n lines "H<i>: v\r\n"; their names and values rendered into fields. */
static void make_fields(struct hs__buf *in, struct hs__buf *fields, int n)
{
	for (int i = 0; i < n; i++) {
		hs__buf_printf(in, "H%d: v\r\n", i);
		hs__buf_printf(fields, "H%d=v|", i);
	}
}

/* _read_headers counts every line it reads, the empty one included, and refuses
 * the 101st: 99 fields pass, 100 do not. */
static void test_header_count(void)
{
	static const struct {
		const char *name;
		int fields;
		const char *then;
		long want;
	} cases[] = {
		{ "99 fields", 99, "\r\n", HEAD_OK },
		{ "100 fields: the empty line is the 101st", 100, "\r\n", HS__HEAD_TOO_MANY },
		{ "101 fields", 101, "\r\n", HS__HEAD_TOO_MANY },
		{ "100 fields, the 101st line not complete", 100, "X: y", 0 },
		{ "100 fields, the 101st line too long first", 100, NULL, HS__HEAD_LINE_TOO_LONG },
		{ "100 fields, a bad 100th", 99, "bad\r\n\r\n", HS__HEAD_MALFORMED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs__buf in = { 0 }, fields = { 0 };
		make_fields(&in, &fields, cases[i].fields);
		if (cases[i].then)
			hs__buf_puts(&in, cases[i].then);
		else
			make_line(&in, 65537, "");
		long want = cases[i].want == HEAD_OK ? (long)in.len : cases[i].want;
		check_head(cases[i].name, in.data, in.len, want, fields.data, fields.len);
		hs__buf_free(&in);
		hs__buf_free(&fields);
	}
}

/* A field line "X: aaa...a" + end that is `total` bytes long with its end. */
static void make_field(struct hs__buf *in, size_t total, const char *end)
{
	hs__buf_puts(in, "X: ");
	make_line(in, total - 3 - strlen(end), end);
}

/* 65536 bytes per line with its line end (65537 refused, as soon as it is certain),
 * and HS__MAX_HEAD for the whole block with its empty line. */
static void test_header_sizes(void)
{
	static const struct {
		const char *name;
		size_t sizes[5]; /* field line lengths, 0 ends */
		const char *end, *then;
		size_t fill; /* bytes of 'a' after then */
		long want;
	} cases[] = {
		{ "65536 with CRLF", { 65536 }, "\r\n", "\r\n", 0, HEAD_OK },
		{ "65536 with LF", { 65536 }, "\n", "\n", 0, HEAD_OK },
		{ "65537 with CRLF", { 65537 }, "\r\n", "\r\n", 0, HS__HEAD_LINE_TOO_LONG },
		{ "65537 with LF", { 65537 }, "\n", "\n", 0, HS__HEAD_LINE_TOO_LONG },
		{ "65537 without its LF yet", { 65537 }, "", "", 0, HS__HEAD_LINE_TOO_LONG },
		{ "65536 without its LF yet", { 65536 }, "", "", 0, 0 },
		{ "head of exactly MAX_HEAD", { 65536, 65536, 65536, 65534 }, "\r\n", "\r\n", 0, HEAD_OK },
		{ "head of MAX_HEAD + 1", { 65536, 65536, 65536, 65535 }, "\r\n", "\r\n", 0, HS__HEAD_TOO_LARGE },
		{ "too large while a line is unfinished", { 65536, 65536, 65536, 65536 }, "\r\n", "X: y", 0, HS__HEAD_TOO_LARGE },
		{ "too large before too long", { 65536, 65536, 65536, 6 }, "\r\n", "", 65537, HS__HEAD_TOO_LARGE },
		{ "too long before too large", { 65536, 65536, 65536 }, "\r\n", "", 65537, HS__HEAD_LINE_TOO_LONG },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs__buf in = { 0 }, fields = { 0 };
		for (size_t j = 0; j < 5 && cases[i].sizes[j]; j++) {
			make_field(&in, cases[i].sizes[j], cases[i].end);
			hs__buf_puts(&fields, "X=");
			make_line(&fields, cases[i].sizes[j] - 3 - strlen(cases[i].end), "|");
		}
		hs__buf_puts(&in, cases[i].then);
		make_line(&in, cases[i].fill, "");
		long want = cases[i].want == HEAD_OK ? (long)in.len : cases[i].want;
		check_head(cases[i].name, in.data, in.len, want, fields.data, fields.len);
		hs__buf_free(&in);
		hs__buf_free(&fields);
	}
}

/* ------------------------------------------------------- whole requests */

/* What a connection does with a stream: find the line, classify it, read the header
 * block unless it is HTTP/0.9, and start over behind it. Logs each request. */
struct stream {
	size_t off, scanned;
	int in_head;
	struct hs__head_scan hs;
	struct hs__reqline rl; /* valid while in_head: views into the current buffer */
	size_t line_len;
};

static int stream_step(struct stream *s, const char *buf, size_t len, struct hs__buf *log)
{
	static struct hs__header_span h[HS__MAX_HEADERS];
	size_t nh;
	if (!s->in_head) {
		long r = hs__find_line(buf + s->off, len - s->off, &s->scanned);
		if (r <= 0)
			return r == 0 ? 0 : (hs__buf_puts(log, "414;"), -1);
		s->line_len = (size_t)r;
		enum hs__reqline_status st = hs__parse_request_line(buf + s->off, (size_t)r, &s->rl);
		hs__buf_printf(log, "%d %.*s %.*s %llu.%llu", (int)st, (int)s->rl.method.n,
		               s->rl.method.p, (int)s->rl.target.n, s->rl.target.p, s->rl.major,
		               s->rl.minor);
		s->off += (size_t)r;
		s->scanned = 0;
		s->in_head = st == HS__RL_OK && s->rl.version.n > 0;
		if (!s->in_head)
			hs__buf_puts(log, ";");
		return st == HS__RL_OK ? 1 : -1;
	}
	long r = hs__parse_headers(buf + s->off, len - s->off, &s->hs, h, &nh);
	if (r <= 0)
		return r == 0 ? 0 : (hs__buf_printf(log, " %ld;", r), -1);
	hs__buf_puts(log, " ");
	render_head(log, r, h, nh);
	hs__buf_puts(log, ";");
	s->off += (size_t)r;
	s->in_head = 0;
	s->hs = (struct hs__head_scan){ 0 };
	return 1;
}

static void run_stream(const char *in, size_t n, enum feed f, size_t split,
                       struct hs__buf *out)
{
	struct stream s = { 0 };
	char *owned = NULL;
	size_t k = 0;
	int r = 0;
	while (r >= 0 && k < n) {
		k = next_cut(f, split, n, k);
		const char *buf = prefix(in, n, k, f, &owned);
		while ((r = stream_step(&s, buf, k, out)) > 0)
			;
	}
	free(owned);
}

static void test_pipelined(void)
{
	static const char in[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	                         "POST /b HTTP/1.0\nA: 1\nB:  2 \n\n"
	                         "GET /c\r\n"
	                         "HEAD /d HTTP/1.1\r\n\r\n"
	                         "GET /e HTTP/1.1\r\nBad : x\r\n\r\n"
	                         "GET /never HTTP/1.1\r\n\r\n";
	all_feeds("pipelined requests", in, sizeof in - 1, run_stream,
	          "0 GET /a 1.1 11 Host=x|;"
	          "0 POST /b 1.0 13 A=1|B=2|;"
	          "0 GET /c 0.9;"
	          "0 HEAD /d 1.1 2 ;"
	          "0 GET /e 1.1 -4;");
	static const char bad[] = "GET / HTTP/1.1\r\n\r\nPOST /\r\nGET /x HTTP/1.1\r\n\r\n";
	all_feeds("0.9 POST stops the stream", bad, sizeof bad - 1, run_stream,
	          "0 GET / 1.1 2 ;5 POST / 0.9;");
}

/* The resume state means what internal.h says: bytes before *scanned were searched
 * already and are not searched again; the head scan remembers the unfinished line. */
static void test_resume_state(void)
{
	size_t scanned = 3;
	CHECK_INT(hs__find_line("a\nb\n", 4, &scanned), 4); /* the "\n" at 1 is not seen again */
	struct hs__head_scan st = { 0 };
	struct hs__header_span h[HS__MAX_HEADERS];
	size_t nh = 7;
	CHECK_INT(hs__parse_headers("Host: a\r\nX: b", 14, &st, h, &nh), 0);
	CHECK_INT(nh, 0);
	CHECK_INT(st.scanned, 14);
	CHECK_INT(st.line_start, 9);
	CHECK_INT(st.lines, 1);
}

/* ------------------------------------------------- request targets and Host */

static const struct host_case {
	const char *in;
	bool valid;
} host_cases[] = {
	{"example.com", true}, {"example.com:8000", true}, {"EXAMPLE.com:", true},
	{"127.0.0.1", true}, {"127.0.0.1:80", true}, {"localhost:0", true},
	{"[::1]", true}, {"[::1]:8000", true}, {"[2001:db8::7]:443", true},
	{"[::ffff:127.0.0.1]", true}, {"[v1.fe80::a+en1]", true}, {"xn--caf-dma.example", true},
	{"a%20b", true}, {"sub_domain.example", true}, {"a!$&'()*+,;=b", true},
	{"", true}, /* RFC 9112 3.2: a client with no authority sends an empty Host */
	{"a b", false}, {" a", false}, {"a\tb", false}, {"a/b", false}, {"a?b", false},
	{"a#b", false}, {"a@b", false}, {"user:pw@host", false}, {"a:b", false},
	{"a:80:80", false}, {"a:8x", false}, {"a%2", false}, {"a%zz", false},
	{"[::1", false}, {"::1", false}, {"[::1]x", false}, {"[::1]:x", false},
	{"[fe80::1%25eth0]", false}, {"[127.0.0.1]", false}, {"[]", false}, {"[v.x]", false},
	{"[v1.]", false}, {"[vz.x]", false}, {"caf\xc3\xa9", false}, {"a\x7f", false},
	{"a\"b", false}, {"<a>", false}, {"a\\b", false}, {"a[b]", false},
};

static void test_host(void)
{
	for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++) {
		const struct host_case *c = &host_cases[i];
		size_t n = strlen(c->in);
		char *copy = malloc(n ? n : 1); /* exact size: ASan catches a read past it */
		memcpy(copy, c->in, n);
		if (hs__host_valid(copy, n, true) != c->valid)
			fprintf(stderr, "case: host [%s]\n", c->in);
		CHECK_INT(hs__host_valid(copy, n, true), c->valid);
		free(copy);
	}
	CHECK(!hs__host_valid("", 0, false));
	CHECK(!hs__host_valid(":80", 3, false));
	CHECK(hs__host_valid(":80", 3, true));
	CHECK(hs__host_valid("[::1]", 5, false));
	CHECK(!hs__host_valid("[::\0]", 5, true)); /* a NUL must not end the address early */
	CHECK(!hs__host_valid("[::1\0x]", 7, true));
}

static const struct target_case {
	const char *in;
	enum hs__target_form form;
	const char *authority, *rest;
} target_cases[] = {
	{"/hello.txt", HS__TARGET_ORIGIN, "", ""},
	{"//x/y", HS__TARGET_ORIGIN, "", ""},
	{"*", HS__TARGET_ORIGIN, "", ""},
	{"hello.txt", HS__TARGET_ORIGIN, "", ""},
	{"%2fa:b", HS__TARGET_ORIGIN, "", ""},
	{"http://127.0.0.1:8000/hello.txt", HS__TARGET_ABSOLUTE, "127.0.0.1:8000", "/hello.txt"},
	{"https://example.com/a?b=c", HS__TARGET_ABSOLUTE, "example.com", "/a?b=c"},
	{"HTTP://Example.COM", HS__TARGET_ABSOLUTE, "Example.COM", ""},
	{"hTtPs://h?q", HS__TARGET_ABSOLUTE, "h", "?q"},
	{"http://h#f", HS__TARGET_ABSOLUTE, "h", "#f"},
	{"http://[::1]:8000//x", HS__TARGET_ABSOLUTE, "[::1]:8000", "//x"},
	{"http://h:/", HS__TARGET_ABSOLUTE, "h:", "/"},
	{"ftp://h/x", HS__TARGET_BAD_SCHEME, "", ""},
	{"javascript:alert(1)", HS__TARGET_BAD_SCHEME, "", ""},
	{"file:///etc/passwd", HS__TARGET_BAD_SCHEME, "", ""},
	{"http:/x", HS__TARGET_BAD_SCHEME, "", ""},
	{"http:", HS__TARGET_BAD_SCHEME, "", ""},
	{"https", HS__TARGET_ORIGIN, "", ""},
	{"httpx://h/", HS__TARGET_BAD_SCHEME, "", ""},
	{"a+b.c-d://h/", HS__TARGET_BAD_SCHEME, "", ""},
	{"http:///x", HS__TARGET_BAD_AUTHORITY, "", "/x"},
	{"http://", HS__TARGET_BAD_AUTHORITY, "", ""},
	{"http://user@h/x", HS__TARGET_BAD_AUTHORITY, "user@h", "/x"},
	{"http://a b/", HS__TARGET_BAD_AUTHORITY, "a b", "/"},
	{"http://h:x/", HS__TARGET_BAD_AUTHORITY, "h:x", "/"},
	{"http://\\evil/", HS__TARGET_BAD_AUTHORITY, "\\evil", "/"},
	{"http://:80/", HS__TARGET_BAD_AUTHORITY, ":80", "/"},
};

static void test_target(void)
{
	for (size_t i = 0; i < sizeof target_cases / sizeof target_cases[0]; i++) {
		const struct target_case *c = &target_cases[i];
		size_t n = strlen(c->in);
		char *copy = malloc(n ? n : 1);
		memcpy(copy, c->in, n);
		struct hs__span auth = {"", 0}, rest = {"", 0};
		enum hs__target_form form = hs__target_split(copy, n, &auth, &rest);
		if (form != c->form)
			fprintf(stderr, "case: target [%s]\n", c->in);
		CHECK_INT(form, c->form);
		CHECK_MEM(auth.p, auth.n, c->authority, strlen(c->authority));
		CHECK_MEM(rest.p, rest.n, c->rest, strlen(c->rest));
		free(copy);
	}
}

int main(void)
{
	test_line_start();
	test_request_line_bytes();
	test_host();
	test_target();
	test_resume_state();
	test_find_line();
	test_request_line();
	test_header_table();
	test_header_count();
	test_header_sizes();
	test_pipelined();
	return check_done("test_parse");
}
