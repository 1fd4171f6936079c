/*
 * test_text.c: the text transformations of text.c against what CPython produces:
 * html.escape(quote=False), urllib.parse.quote and unquote, repr() of the latin-1
 * text, and the control-character table of log_message. Each table row is an input
 * and the exact bytes Python writes for it (the expected values were checked against
 * python3 over all 256 byte values and random strings). Also the character classes of
 * chars.h, the integer formatting of buf.c, and the client address text of net.c
 * against inet_ntop.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include "chars.h"
#include "internal.h"
#include "check.h"

/* Lengths are explicit so that rows may hold NUL bytes. */
struct row {
	const char *in;
	size_t in_len;
	const char *want;
	size_t want_len;
};

#define ROW(in, want) {in, sizeof(in) - 1, want, sizeof(want) - 1}

typedef int transform_fn(struct hs__buf *out, const char *s, size_t n);

static void check_table(transform_fn *fn, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct hs__buf b = {0};
		CHECK_INT(fn(&b, rows[i].in, rows[i].in_len), 0);
		CHECK_MEM(b.data ? b.data : "", b.len, rows[i].want, rows[i].want_len);
		hs__buf_free(&b);
	}
}

static const struct row html_rows[] = {
	ROW("", ""),
	ROW("plain text", "plain text"),
	ROW("a&b", "a&amp;b"),
	ROW("<script>", "&lt;script&gt;"),
	ROW("&amp;", "&amp;amp;"),
	ROW("\"quotes' stay\"", "\"quotes' stay\""), /* quote=False */
	ROW("\xc3\xa9\xff", "\xc3\xa9\xff"),
	/* runs between entities, at either end, and entities back to back */
	ROW("&start", "&amp;start"),
	ROW("end>", "end&gt;"),
	ROW("<<&&>>", "&lt;&lt;&amp;&amp;&gt;&gt;"),
	ROW("a long run before < and a long run after", "a long run before &lt; and a long run after"),
	ROW("nul\x00<\x00", "nul\x00&lt;\x00"),
};

static const struct row quote_rows[] = {
	ROW("", ""),
	ROW("AZaz09", "AZaz09"),
	ROW("_.-~/", "_.-~/"),
	ROW("a b", "a%20b"),
	ROW("100%", "100%25"),
	ROW("?#&=+;:@", "%3F%23%26%3D%2B%3B%3A%40"),
	ROW("\\", "%5C"),
	ROW("\x00\x1f\x7f", "%00%1F%7F"),
	ROW("\xc3\xa9", "%C3%A9"), /* "é" in UTF-8: uppercase hex */
	ROW("\xff", "%FF"),
	ROW("<a>\"'", "%3Ca%3E%22%27"),
	ROW("file-0001-with-a-longer-name.txt", "file-0001-with-a-longer-name.txt"),
	ROW("a b&c", "a%20b%26c"),
};

static const struct row repr_rows[] = {
	ROW("", "''"),
	ROW("GET", "'GET'"),
	ROW("it's", "\"it's\""),          /* a ' and no ": double quotes */
	ROW("say \"hi\"", "'say \"hi\"'"),
	ROW("'\"", "'\\'\"'"),            /* both: single quotes, ' escaped */
	ROW("a\\b", "'a\\\\b'"),
	ROW("\t\n\r", "'\\t\\n\\r'"),
	ROW("\x00\x01\x0b\x1f", "'\\x00\\x01\\x0b\\x1f'"),
	ROW(" ~", "' ~'"),
	ROW("\x7f\x80\x9f", "'\\x7f\\x80\\x9f'"),
	ROW("\xa0", "'\\xa0'"),           /* NO-BREAK SPACE is not printable */
	ROW("\xad", "'\\xad'"),           /* nor is SOFT HYPHEN */
	ROW("\xa1\xe9\xff", "'\xa1\xe9\xff'"), /* printable: kept, as latin-1 */
	ROW("\xc3\xa9", "'\xc3\xa9'"),          /* UTF-8 bytes are two latin-1 chars */
};

/* An error message is latin-1 text; the page is UTF-8. */
static const struct row html_latin1_rows[] = {
	ROW("a<b>&", "a&lt;b&gt;&amp;"),
	ROW("\xe9\xff", "\xc3\xa9\xc3\xbf"),
	ROW("\xc3\xa9", "\xc3\x83\xc2\xa9"),
};

static const struct row log_rows[] = {
	ROW("GET / HTTP/1.1", "GET / HTTP/1.1"),
	ROW("\x00", "\\x00"),
	ROW("\x1b[31mred", "\\x1b[31mred"),
	ROW("a\tb\r\n", "a\\x09b\\x0d\\x0a"),
	ROW("\x1f \x7f", "\\x1f \\x7f"),
	ROW("\x80\x9f", "\\x80\\x9f"),
	ROW("\\", "\\\\"),
	ROW("\\x41", "\\\\x41"), /* an escaped backslash cannot fake an escape */
	ROW("\"'", "\"'"),
	ROW("\xa0\xad", "\xc2\xa0\xc2\xad"), /* >= 0xa0: UTF-8 of the latin-1 char */
	ROW("\xe9\xff", "\xc3\xa9\xc3\xbf"),
};

static void test_unquote(void)
{
	static const struct row rows[] = {
		ROW("", ""),
		ROW("abc", "abc"),
		ROW("%41%62", "Ab"),
		ROW("%2f%2F", "//"),
		ROW("%2e%2E", ".."),
		ROW("%e9%C3%a9", "\xe9\xc3\xa9"),
		ROW("%00", "\x00"),
		ROW("%", "%"),          /* malformed escapes stay as they are */
		ROW("%4", "%4"),
		ROW("a%", "a%"),
		ROW("%zz%4g", "%zz%4g"),
		ROW("%%41", "%A"),
		ROW("%%%", "%%%"),
		ROW("100%25", "100%"),
		ROW("%252f", "%2f"),    /* decoded once only */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[32];
		size_t n = hs__url_unquote(out, rows[i].in, rows[i].in_len);
		CHECK_MEM(out, n, rows[i].want, rows[i].want_len);
	}
	char in_place[] = "a%20b%2fc";
	size_t n = hs__url_unquote(in_place, in_place, sizeof in_place - 1);
	CHECK_MEM(in_place, n, "a b/c", 5);
}

/* Every byte value through log_escape: one output per Python's rule (0x00-0x1f and
 * 0x7f-0x9f as \xNN in lowercase hex, "\" as "\\"). */
static void test_log_all_bytes(void)
{
	for (int c = 0; c < 256; c++) {
		char in = (char)c, want[5];
		size_t wn;
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			wn = (size_t)snprintf(want, sizeof want, "\\x%02x", c);
		else if (c == '\\')
			wn = (size_t)snprintf(want, sizeof want, "\\\\");
		else if (c < 0x80)
			wn = (size_t)snprintf(want, sizeof want, "%c", c);
		else
			wn = (size_t)snprintf(want, sizeof want, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
		struct hs__buf b = {0};
		CHECK_INT(hs__log_escape(&b, &in, 1), 0);
		CHECK_MEM(b.data, b.len, want, wn);
		hs__buf_free(&b);
	}
}

/* Appending keeps what the buffer already holds. */
static void test_appends(void)
{
	struct hs__buf b = {0};
	CHECK_INT(hs__buf_puts(&b, "x="), 0);
	CHECK_INT(hs__py_repr(&b, "a", 1), 0);
	CHECK_INT(hs__url_quote(&b, " ", 1), 0);
	CHECK_MEM(b.data, b.len, "x='a'%20", 8);
	hs__buf_free(&b);
}

#define TABLE(fn, rows) check_table(fn, rows, sizeof rows / sizeof rows[0])

/* hs__buf_append_int writes what printf's %lld writes. */
static void test_append_int(void)
{
	static const long long values[] = {0, 7, -1, 10, 99, 100, 404, 1234567890123LL,
	                                   -9876543210LL, LLONG_MAX, LLONG_MIN};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct hs__buf b = {0};
		char want[32];
		snprintf(want, sizeof want, "%lld", values[i]);
		CHECK_INT(hs__buf_append_int(&b, values[i]), 0);
		CHECK_MEM(b.data, b.len, want, strlen(want));
		hs__buf_free(&b);
		char text[HS__INT_TEXT_MAX];
		CHECK_INT(hs__int_text(text, values[i]), strlen(want));
		CHECK_STR(text, want);
	}
}

/* hs__ascii_ieq and hs__py_space against the C library's strcasecmp (C locale) and
 * Python's str.split() whitespace, over every byte value. */
static void test_char_classes(void)
{
	static const char *const python_space = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0";
	for (int a = 1; a < 256; a++) {
		CHECK_INT(hs__py_space((unsigned char)a), strchr(python_space, a) != NULL);
		for (int b = 1; b < 256; b++) {
			char x[3] = {(char)a, 'k', 0}, y[3] = {(char)b, 'K', 0};
			if (hs__ascii_ieq(x, y) != (strcasecmp(x, y) == 0))
				CHECK_INT(a * 256 + b, -1);
		}
	}
	CHECK_INT(hs__py_space(0), 0);
	CHECK(hs__ascii_ieq("Content-Length", "content-length"));
	CHECK(hs__ascii_ieq("", ""));
	CHECK(!hs__ascii_ieq("Host", "Hos"));
	CHECK(!hs__ascii_ieq("Hos", "Host"));
	CHECK(!hs__ascii_ieq("connection", "Connectio\xee"));
}

/* hs__sockaddr_string writes what inet_ntop writes: IPv4, IPv4-mapped IPv6 (a dual-stack
 * listener's IPv4 clients), other IPv6; every byte value in every position, and more. */
static void check_address(const void *sa, int family, const void *addr, int port)
{
	char got[64], want[64];
	int got_port = -1;
	hs__sockaddr_string(sa, got, sizeof got, &got_port);
	inet_ntop(family, addr, want, sizeof want);
	CHECK_STR(got, want);
	CHECK_INT(got_port, port);
}

static void test_sockaddr_string(void)
{
	unsigned seed = 12345;
	for (int i = 0; i < 4 * 256 + 2000; i++) {
		unsigned char q[4];
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			q[k] = (unsigned char)(seed >> 16);
		}
		if (i < 4 * 256)
			q[i / 256] = (unsigned char)(i % 256);
		int port = (int)(seed % 65536);
		struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		memcpy(&in.sin_addr, q, 4);
		check_address(&in, AF_INET, &in.sin_addr, port);
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
		in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(in6.sin6_addr.s6_addr + 12, q, 4);
		check_address(&in6, AF_INET6, &in6.sin6_addr, port);
		in6.sin6_addr.s6_addr[10] = 0xfe; /* not mapped: inet_ntop's own path */
		check_address(&in6, AF_INET6, &in6.sin6_addr, port);
	}
	struct sockaddr_in6 loop6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	check_address(&loop6, AF_INET6, &loop6.sin6_addr, 0);
	struct sockaddr_storage unix_peer = {.ss_family = AF_UNIX};
	char got[64] = "x";
	int port = -1;
	hs__sockaddr_string(&unix_peer, got, sizeof got, &port);
	CHECK_STR(got, "");
	CHECK_INT(port, 0);
}

int main(void)
{
	test_append_int();
	test_sockaddr_string();
	test_char_classes();
	TABLE(hs__html_escape, html_rows);
	TABLE(hs__html_escape_latin1, html_latin1_rows);
	TABLE(hs__url_quote, quote_rows);
	TABLE(hs__py_repr, repr_rows);
	TABLE(hs__log_escape, log_rows);
	test_unquote();
	test_log_all_bytes();
	test_appends();
	return check_done("test_text");
}
