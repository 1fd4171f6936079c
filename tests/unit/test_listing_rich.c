/*
 * test_listing_rich.c: the pure pieces of the rich listing (listing_rich.c): the view
 * read from the query string and Accept, the sort (directories first, each key both
 * ways, ties by name), human sizes at every unit's edges, ISO 8601 times with and
 * without nanoseconds, JSON string escaping (controls, HTML characters, invalid
 * UTF-8), the rows and the head (escaped names, links, markers, column links), and the
 * JSON array with caddy's fields.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static struct hs__rich_entry ent(const char *name, bool dir, bool link, int64_t size,
                                 time_t mtime)
{
	return (struct hs__rich_entry){.name = name, .name_len = strlen(name), .is_dir = dir,
	                               .is_link = link, .known = true, .size = size,
	                               .mtime = {mtime, 0},
	                               .mode = dir ? 040755u : link ? 0120777u : 0100644u};
}

static void test_view(void)
{
	static const struct {
		const char *target;
		enum hs__rich_sort sort;
		bool desc;
	} cases[] = {
		{"/", HS__RICH_BY_NAME, false},
		{"/?sort=size", HS__RICH_BY_SIZE, false},
		{"/?sort=size&order=desc", HS__RICH_BY_SIZE, true},
		{"/d/?order=desc&sort=time", HS__RICH_BY_TIME, true},
		{"/?sort=time&order=asc", HS__RICH_BY_TIME, false},
		{"/?sort=bogus&order=sideways", HS__RICH_BY_NAME, false},
		{"/?sort=SIZE", HS__RICH_BY_NAME, false},
		{"/?sort=sizes", HS__RICH_BY_NAME, false},
		{"/?xsort=size", HS__RICH_BY_NAME, false},
		{"/#?sort=size", HS__RICH_BY_NAME, false},
		{"/?sort=size#order=desc", HS__RICH_BY_SIZE, false},
		{"/?sort=size&sort=name", HS__RICH_BY_NAME, false},
		{"/?&&sort=time&&order=desc&", HS__RICH_BY_TIME, true},
		{"/?", HS__RICH_BY_NAME, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs__rich_view v = {HS__RICH_BY_TIME, true, true};
		hs__rich_view_parse(&v, cases[i].target, strlen(cases[i].target));
		CHECK_INT(v.sort, cases[i].sort);
		CHECK_INT(v.desc, cases[i].desc);
		CHECK(!v.json);
	}
	/* every view has its own cache variant, none of them Python's 0 */
	uint32_t seen[32] = {0};
	for (int s = 0; s < 3; s++)
		for (int d = 0; d < 2; d++)
			for (int j = 0; j < 2; j++) {
				struct hs__rich_view v = {(enum hs__rich_sort)s, d, j};
				uint32_t k = hs__rich_variant(&v);
				CHECK(k != 0 && k < 32);
				CHECK_INT(seen[k % 32], 0);
				seen[k % 32] = 1;
			}
}

static void test_accept(void)
{
	static const struct {
		const char *name, *value;
		bool json;
	} cases[] = {
		{"Accept", "application/json", true},
		{"accept", "text/html, Application/JSON;q=0.9", true},
		{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"Accept", "*/*", false},
		{"Content-Type", "application/json", false},
		{"Accept", "application/jso", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs_header h[2] = {{"Host", "x"}, {cases[i].name, cases[i].value}};
		CHECK_INT(hs__rich_accepts_json(h, 2), cases[i].json);
	}
	CHECK(!hs__rich_accepts_json(NULL, 0));
}

/* The names in e, joined by spaces. */
static void names_of(const struct hs__rich_entry *e, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + e[i].name_len + 2 < size; i++) {
		memcpy(out + o, e[i].name, e[i].name_len);
		o += e[i].name_len;
		out[o++] = ' ';
	}
	out[o ? o - 1 : 0] = '\0';
}

static void test_sort(void)
{
	static const struct {
		enum hs__rich_sort sort;
		bool desc;
		const char *want;
	} cases[] = {
		{HS__RICH_BY_NAME, false, "B-dir c-dir a.txt B.txt c.txt d.txt"},
		{HS__RICH_BY_NAME, true, "c-dir B-dir d.txt c.txt B.txt a.txt"},
		{HS__RICH_BY_SIZE, false, "B-dir c-dir c.txt a.txt d.txt B.txt"},
		{HS__RICH_BY_SIZE, true, "B-dir c-dir B.txt a.txt d.txt c.txt"},
		{HS__RICH_BY_TIME, false, "c-dir B-dir B.txt d.txt a.txt c.txt"},
		{HS__RICH_BY_TIME, true, "B-dir c-dir c.txt a.txt d.txt B.txt"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs__rich_entry e[] = {
			ent("d.txt", false, false, 50, 300), ent("c-dir", true, false, 4096, 100),
			ent("a.txt", false, false, 50, 400), ent("B.txt", false, false, 900, 200),
			ent("B-dir", true, false, 4096, 200), ent("c.txt", false, false, 7, 500),
		};
		struct hs__rich_view v = {cases[i].sort, cases[i].desc, false};
		hs__rich_sort(e, sizeof e / sizeof e[0], &v);
		char got[128];
		names_of(e, sizeof e / sizeof e[0], got, sizeof got);
		CHECK_STR(got, cases[i].want);
	}
	/* a family: random sizes; directories first, sizes ordered both ways */
	srand(7);
	for (int round = 0; round < 200; round++) {
		struct hs__rich_entry e[40];
		char names[40][24];
		size_t n = (size_t)(rand() % 40);
		for (size_t i = 0; i < n; i++) {
			snprintf(names[i], sizeof names[i], "n%zu", i);
			e[i] = ent(names[i], rand() % 4 == 0, false, rand() % 5, rand() % 5);
		}
		bool desc = round % 2;
		struct hs__rich_view v = {round % 3 == 0 ? HS__RICH_BY_SIZE : HS__RICH_BY_TIME, desc,
		                          false};
		hs__rich_sort(e, n, &v);
		bool ok = true;
		for (size_t i = 1; i < n; i++) {
			ok &= !(e[i].is_dir && !e[i - 1].is_dir);
			if (e[i].is_dir || e[i - 1].is_dir)
				continue;
			int64_t a = v.sort == HS__RICH_BY_SIZE ? e[i - 1].size : e[i - 1].mtime.tv_sec;
			int64_t b = v.sort == HS__RICH_BY_SIZE ? e[i].size : e[i].mtime.tv_sec;
			ok &= desc ? a >= b : a <= b;
		}
		CHECK(ok);
	}
}

static void test_human_size(void)
{
	static const struct {
		int64_t size;
		const char *want;
	} cases[] = {
		{-5, "0 B"},
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1535, "1.5 KiB"},
		{1536, "1.5 KiB"},
		{1587, "1.5 KiB"},
		{1588, "1.6 KiB"},
		{10 * 1024 - 1, "10.0 KiB"},
		{1048524, "1023.9 KiB"},
		{1048525, "1.0 MiB"},
		{1048576, "1.0 MiB"},
		{5000, "4.9 KiB"},
		{(int64_t)3 << 30, "3.0 GiB"},
		{(int64_t)1 << 40, "1.0 TiB"},
		{(int64_t)1 << 50, "1.0 PiB"},
		{(int64_t)1 << 60, "1.0 EiB"},
		{INT64_MAX, "8.0 EiB"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[HS__RICH_SIZE_MAX];
		size_t n = hs__rich_human_size(out, cases[i].size);
		CHECK_STR(out, cases[i].want);
		CHECK_INT(n, strlen(cases[i].want));
	}
}

static void test_iso_time(void)
{
	static const struct {
		time_t sec;
		long nsec;
		bool frac;
		const char *want;
	} cases[] = {
		{0, 0, false, "1970-01-01T00:00:00Z"},
		{0, 0, true, "1970-01-01T00:00:00Z"},
		{981173106, 0, false, "2001-02-03T04:05:06Z"},
		{981173106, 500000000, false, "2001-02-03T04:05:06Z"},
		{981173106, 500000000, true, "2001-02-03T04:05:06.5Z"},
		{981173106, 123456789, true, "2001-02-03T04:05:06.123456789Z"},
		{981173106, 120, true, "2001-02-03T04:05:06.00000012Z"},
		{951782400, 0, false, "2000-02-29T00:00:00Z"},
		{253402300799, 0, false, "9999-12-31T23:59:59Z"},
		{-1, 0, false, "1969-12-31T23:59:59Z"},
		{253402300800, 0, false, ""}, /* year 10000: not shown */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[HS__RICH_TIME_MAX];
		struct timespec t = {cases[i].sec, cases[i].nsec};
		size_t n = hs__rich_iso_time(out, &t, cases[i].frac);
		CHECK_STR(out, cases[i].want);
		CHECK_INT(n, strlen(cases[i].want));
	}
}

static void check_json(const char *in, size_t n, const char *want)
{
	struct hs__buf b = {0};
	CHECK_INT(hs__json_escape(&b, in, n), 0);
	CHECK_MEM(b.data, b.len, want, strlen(want));
	hs__buf_free(&b);
}

static void test_json_escape(void)
{
	check_json("plain.txt", 9, "plain.txt");
	check_json("a\"b\\c", 5, "a\\\"b\\\\c");
	check_json("\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f");
	check_json("\x01\x1f\x7f", 3, "\\u0001\\u001f\x7f");
	check_json("<a&b>", 5, "\\u003ca\\u0026b\\u003e");
	check_json("\0x", 2, "\\u0000x");
	check_json("漢字 العربية 😀", strlen("漢字 العربية 😀"), "漢字 العربية 😀");
	check_json("\xe2\x80\xa8\xe2\x80\xa9", 6, "\\u2028\\u2029");
	/* not UTF-8: each bad byte a U+FFFD, the valid rest kept */
	check_json("a\x80z", 3, "a\\ufffdz");
	check_json("\xc3", 1, "\\ufffd");            /* truncated */
	check_json("\xc0\xaf", 2, "\\ufffd\\ufffd");  /* overlong */
	check_json("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"); /* a surrogate */
	check_json("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
	check_json("\xff\xc3\xa9", 3, "\\ufffd\xc3\xa9");
	/* every single byte gives valid output: no raw control or lone high byte */
	for (int c = 0; c < 256; c++) {
		char in = (char)c;
		struct hs__buf b = {0};
		CHECK_INT(hs__json_escape(&b, &in, 1), 0);
		bool clean = b.len > 0;
		for (size_t i = 0; i < b.len; i++)
			clean &= (unsigned char)b.data[i] >= 0x20 && (unsigned char)b.data[i] < 0x80;
		CHECK(clean);
		hs__buf_free(&b);
	}
}

static void test_rows(void)
{
	struct hs__rich_entry e[] = {
		ent("sub", true, false, 4096, 981173106),
		ent("a&b <c>.txt", false, false, 1536, 981173106),
		ent("ln", true, true, 4096, 0),
		ent("file\"q'", false, true, 3, 0),
	};
	e[3].mtime.tv_nsec = 999999999; /* not shown in HTML */
	struct hs__rich_entry unknown = {.name = "gone", .name_len = 4};
	struct hs__buf b = {0};
	CHECK_INT(hs__rich_render_rows(&b, e, 4), 0);
	CHECK_INT(hs__rich_render_rows(&b, &unknown, 1), 0);
	static const char want[] =
		"<tr><td><a href=\"sub/\">sub/</a><td>-<td>2001-02-03T04:05:06Z\n"
		"<tr><td><a href=\"a%26b%20%3Cc%3E.txt\">a&amp;b &lt;c&gt;.txt</a>"
		"<td title=\"1536 bytes\">1.5 KiB<td>2001-02-03T04:05:06Z\n"
		"<tr><td><a href=\"ln/\">ln@</a><td>-<td>1970-01-01T00:00:00Z\n"
		"<tr><td><a href=\"file%22q%27\">file\"q'@</a><td title=\"3 bytes\">3 B"
		"<td>1970-01-01T00:00:00Z\n"
		"</tbody>\n</table>\n<hr>\n</body>\n</html>\n"
		"<tr><td><a href=\"gone\">gone</a><td>-<td>-\n"
		"</tbody>\n</table>\n<hr>\n</body>\n</html>\n";
	CHECK_MEM(b.data, b.len, want, strlen(want));
	hs__buf_free(&b);
}

static void test_head(void)
{
	struct hs__buf b = {0};
	struct hs__rich_view v = {HS__RICH_BY_SIZE, true, false};
	CHECK_INT(hs__rich_render_head(&b, "/a<b>&/", 7, &v), 0);
	CHECK_INT(hs__buf_append(&b, "", 1), 0);
	CHECK(strstr(b.data, "<meta charset=\"utf-8\">\n"));
	CHECK(strstr(b.data, ":root {\ncolor-scheme: light dark;\n}\n"));
	CHECK(strstr(b.data, "<title>Directory listing for /a&lt;b&gt;&amp;/</title>"));
	CHECK(strstr(b.data, "<h1>Directory listing for /a&lt;b&gt;&amp;/</h1>"));
	CHECK(strstr(b.data, "<th><a href=\"?sort=name&amp;order=asc\">Name</a><th "));
	/* the sorted column links to its other order and is marked */
	CHECK(strstr(b.data, "<th aria-sort=\"descending\"><a href=\"?sort=size&amp;order=asc\">"
	                     "Size</a> &#9660;"));
	CHECK(strstr(b.data, "<a href=\"?sort=time&amp;order=asc\">"));
	CHECK(strstr(b.data, "<tr><td><a href=\"../\">../</a>"));
	CHECK(!strstr(b.data, "<script"));
	hs__buf_free(&b);

	b = (struct hs__buf){0};
	v = (struct hs__rich_view){HS__RICH_BY_NAME, false, false};
	CHECK_INT(hs__rich_render_head(&b, "/", 1, &v), 0);
	CHECK_INT(hs__buf_append(&b, "", 1), 0);
	CHECK(!strstr(b.data, "../")); /* no parent above the root */
	CHECK(strstr(b.data, "<th aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">"
	                     "Name</a> &#9650;"));
	hs__buf_free(&b);
}

static void test_json(void)
{
	struct hs__rich_entry e[] = {
		ent("sub", true, false, 4096, 981173106),
		ent("a:b \"q\".txt", false, false, 12, 981173106),
		ent("ln", false, true, 5, 0),
		{.name = "gone", .name_len = 4},
	};
	e[1].mtime.tv_nsec = 250000000;
	struct hs__buf b = {0};
	CHECK_INT(hs__rich_render_json(&b, e, 4), 0);
	static const char want[] =
		"[{\"name\":\"sub/\",\"size\":4096,\"url\":\"./sub/\",\"mod_time\":\"2001-02-03T04:05:06Z\","
		"\"mode\":2147484141,\"is_dir\":true,\"is_symlink\":false},"
		"{\"name\":\"a:b \\\"q\\\".txt\",\"size\":12,\"url\":\"./a%3Ab%20%22q%22.txt\","
		"\"mod_time\":\"2001-02-03T04:05:06.25Z\",\"mode\":420,\"is_dir\":false,"
		"\"is_symlink\":false},"
		"{\"name\":\"ln\",\"size\":5,\"url\":\"./ln\",\"mod_time\":\"1970-01-01T00:00:00Z\","
		"\"mode\":134218239,\"is_dir\":false,\"is_symlink\":true}]\n";
	CHECK_MEM(b.data, b.len, want, strlen(want));
	b.len = 0;
	CHECK_INT(hs__rich_render_json(&b, e, 0), 0);
	CHECK_MEM(b.data, b.len, "[]\n", 3);
	hs__buf_free(&b);
}

int main(void)
{
	test_view();
	test_accept();
	test_sort();
	test_human_size();
	test_iso_time();
	test_json_escape();
	test_rows();
	test_head();
	test_json();
	return check_done("test_listing_rich");
}
