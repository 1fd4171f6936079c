/*
 * test_listing.c: the directory listing of listing.c. The page must equal Python's
 * list_directory byte for byte (the first example is Python's page for a small
 * directory; the rest were checked against python3 on real directories), and the sort
 * must be list.sort(key=str.lower): case-insensitive and stable, which a property loop
 * checks on many generated lists.
 */
#include <stdlib.h>

#include "internal.h"
#include "check.h"

#define ENT(name, is_dir, is_link) {name, sizeof(name) - 1, is_dir, is_link}

static const char head_root[] = "<!DOCTYPE HTML>\n"
                                "<html lang=\"en\">\n"
                                "<head>\n"
                                "<meta charset=\"utf-8\">\n"
                                "<title>Directory listing for /</title>\n"
                                "</head>\n"
                                "<body>\n"
                                "<h1>Directory listing for /</h1>\n"
                                "<hr>\n"
                                "<ul>\n";
static const char tail[] = "</ul>\n<hr>\n</body>\n</html>\n";

static void check_page(const char *path, const struct hs__dirent *e, size_t n,
                       const char *want)
{
	struct hs__buf b = {0};
	CHECK_INT(hs__listing_render(&b, path, strlen(path), e, n), 0);
	CHECK_MEM(b.data, b.len, want, strlen(want));
	hs__buf_free(&b);
}

/* Python's page for "/" holding a.txt, a symlink "link" and a directory "sub". */
static void test_small_directory(void)
{
	struct hs__dirent e[] = {ENT("sub", true, false), ENT("link", false, true),
	                         ENT("a.txt", false, false)};
	hs__listing_sort(e, 3);
	char want[1024];
	snprintf(want, sizeof want, "%s%s%s", head_root,
	         "<li><a href=\"a.txt\">a.txt</a></li>\n"
	         "<li><a href=\"link\">link@</a></li>\n"
	         "<li><a href=\"sub/\">sub/</a></li>\n",
	         tail);
	check_page("/", e, 3, want);
}

static void test_empty(void)
{
	char want[1024];
	snprintf(want, sizeof want, "%s%s", head_root, tail);
	check_page("/", NULL, 0, want);
}

/* One entry per row: its flags, then the exact <li> line Python writes. */
static void test_entries(void)
{
	static const struct {
		struct hs__dirent e;
		const char *li;
	} rows[] = {
		{ENT("plain", false, false), "<li><a href=\"plain\">plain</a></li>\n"},
		{ENT("dir", true, false), "<li><a href=\"dir/\">dir/</a></li>\n"},
		{ENT("ln", false, true), "<li><a href=\"ln\">ln@</a></li>\n"},
		/* a link to a directory shows "@" and links with "/" */
		{ENT("ld", true, true), "<li><a href=\"ld/\">ld@</a></li>\n"},
		{ENT("a b&c", false, false), "<li><a href=\"a%20b%26c\">a b&amp;c</a></li>\n"},
		{ENT("<x>", true, false), "<li><a href=\"%3Cx%3E/\">&lt;x&gt;/</a></li>\n"},
		{ENT("q?#%", false, false), "<li><a href=\"q%3F%23%25\">q?#%</a></li>\n"},
		{ENT("\"'", false, false), "<li><a href=\"%22%27\">\"'</a></li>\n"},
		{ENT("caf\xc3\xa9", false, false),
		 "<li><a href=\"caf%C3%A9\">caf\xc3\xa9</a></li>\n"},
		{ENT("_.-~", false, false), "<li><a href=\"_.-~\">_.-~</a></li>\n"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char want[1024];
		snprintf(want, sizeof want, "%s%s%s", head_root, rows[i].li, tail);
		check_page("/", &rows[i].e, 1, want);
	}
}

/* The title shows the decoded path, HTML-escaped; the caller has dropped the query. */
static void test_title(void)
{
	struct hs__buf b = {0};
	const char *path = "/a&b <c>/\xc3\xa9/";
	CHECK_INT(hs__listing_render(&b, path, strlen(path), NULL, 0), 0);
	const char *want = "<title>Directory listing for /a&amp;b &lt;c&gt;/\xc3\xa9/</title>\n"
	                   "</head>\n<body>\n<h1>Directory listing for /a&amp;b &lt;c&gt;/"
	                   "\xc3\xa9/</h1>\n";
	const char *at = memmem(b.data, b.len, want, strlen(want));
	CHECK(at != NULL);
	CHECK(memmem(b.data, b.len, "<meta charset=\"utf-8\">\n", 23) != NULL);
	hs__buf_free(&b);
}

/* The three parts (head, entries, tail) make the page that hs__listing_render makes, so
 * the cached entries and a title rendered per request give Python's bytes. */
static void test_parts(void)
{
	struct hs__dirent e[] = {ENT("a&b", false, false), ENT("d", true, false),
	                         ENT("l", true, true), ENT("<x y>", false, true)};
	const char *path = "/p&q/";
	struct hs__buf whole = {0}, parts = {0};
	CHECK_INT(hs__listing_render(&whole, path, strlen(path), e, 4), 0);
	CHECK_INT(hs__listing_render_head(&parts, path, strlen(path)), 0);
	CHECK(parts.len > 20 && memcmp(parts.data + parts.len - 5, "<ul>\n", 5) == 0);
	size_t head = parts.len;
	CHECK_INT(hs__listing_render_entries(&parts, e, 4), 0);
	static const char lines[] = "<li><a href=\"a%26b\">a&amp;b</a></li>\n"
	                            "<li><a href=\"d/\">d/</a></li>\n"
	                            "<li><a href=\"l/\">l@</a></li>\n"
	                            "<li><a href=\"%3Cx%20y%3E\">&lt;x y&gt;@</a></li>\n";
	CHECK_MEM(parts.data + head, parts.len - head, lines, sizeof lines - 1);
	CHECK_INT(hs__listing_render_tail(&parts), 0);
	CHECK_MEM(parts.data, parts.len, whole.data, whole.len);
	hs__buf_free(&whole);
	hs__buf_free(&parts);
	struct hs__buf empty = {0};
	CHECK_INT(hs__listing_render_entries(&empty, NULL, 0), 0);
	CHECK_INT(empty.len, 0);
	hs__buf_free(&empty);
}

/* Rendering appends to what the buffer holds. */
static void test_appends(void)
{
	struct hs__buf b = {0};
	CHECK_INT(hs__buf_puts(&b, "HEAD\r\n\r\n"), 0);
	CHECK_INT(hs__listing_render(&b, "/", 1, NULL, 0), 0);
	CHECK(b.len > 8 && memcmp(b.data, "HEAD\r\n\r\n<!DOCTYPE HTML>\n", 24) == 0);
	hs__buf_free(&b);
}

/* Both sorts (in place, and with a buffer) give the order want. */
static void check_order(struct hs__dirent *e, size_t n, const char *const *want)
{
	struct hs__dirent copy[16], tmp[16];
	memcpy(copy, e, n * sizeof *e);
	hs__listing_sort(e, n);
	hs__listing_sort_buf(copy, n, tmp);
	for (size_t i = 0; i < n; i++) {
		CHECK_MEM(e[i].name, e[i].name_len, want[i], strlen(want[i]));
		CHECK_MEM(copy[i].name, copy[i].name_len, want[i], strlen(want[i]));
	}
}

static void test_sort_table(void)
{
	/* case-insensitive; equal keys keep their order ("b" before "B" as given) */
	struct hs__dirent e1[] = {ENT("b", 0, 0), ENT("A", 0, 0), ENT("a", 0, 0),
	                          ENT("B", 0, 0), ENT("_x", 0, 0), ENT("Z", 0, 0)};
	check_order(e1, 6, (const char *const[]){"_x", "A", "a", "b", "B", "Z"});
	/* a prefix first; "." (0x2e) before letters; "[" (0x5b) before lower-cased "a" */
	struct hs__dirent e2[] = {ENT("abc", 0, 0), ENT("ab", 0, 0), ENT("a.txt", 0, 0),
	                          ENT("a", 0, 0), ENT("[", 0, 0), ENT("AB", 0, 0)};
	check_order(e2, 6, (const char *const[]){"[", "a", "a.txt", "ab", "AB", "abc"});
	/* bytes >= 0x80 after ASCII (Python would lower "É" too; we lower ASCII only) */
	struct hs__dirent e3[] = {ENT("\xc3\xa9", 0, 0), ENT("z", 0, 0), ENT("\xc3\x89", 0, 0)};
	check_order(e3, 3, (const char *const[]){"z", "\xc3\x89", "\xc3\xa9"});
	hs__listing_sort(NULL, 0);
}

static unsigned rand_below(unsigned long long *state, unsigned n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (unsigned)(*state % n);
}

/* Whether e[0..n) is ordered by the lower-cased name and, among equal keys, in input
 * order (the names live in one array in input order: the order of their addresses). */
static bool sorted_stably(const struct hs__dirent *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		char x[3], y[3];
		size_t xn = e[i - 1].name_len, yn = e[i].name_len;
		for (size_t k = 0; k < 3; k++) {
			x[k] = (char)(k < xn ? e[i - 1].name[k] | 0x20 : 0);
			y[k] = (char)(k < yn ? e[i].name[k] | 0x20 : 0);
		}
		int c = memcmp(x, y, 3);
		if (!(c < 0 || (c == 0 && e[i - 1].name < e[i].name)))
			return false;
	}
	return true;
}

/* Many generated lists of names over "aAbB", sorted both ways: each must come out
 * ordered and stable, and the two sorts must agree entry for entry. */
static void test_sort_property(void)
{
	static char names[4000][3];
	static struct hs__dirent e[4000], f[4000], tmp[4000];
	unsigned long long state = 42;
	int failures_before = check_failures;
	for (int iter = 0; iter < 400 && check_failures == failures_before; iter++) {
		size_t n = rand_below(&state, iter < 200 ? 70 : 4000);
		for (size_t i = 0; i < n; i++) {
			size_t len = 1 + rand_below(&state, 3);
			for (size_t k = 0; k < len; k++)
				names[i][k] = "aAbB"[rand_below(&state, 4)];
			e[i] = (struct hs__dirent){names[i], len, false, false};
		}
		memcpy(f, e, n * sizeof *e);
		hs__listing_sort(e, n);
		hs__listing_sort_buf(f, n, tmp);
		CHECK(sorted_stably(e, n));
		CHECK(sorted_stably(f, n));
		bool same = true;
		for (size_t i = 0; i < n; i++)
			same &= e[i].name == f[i].name && e[i].name_len == f[i].name_len;
		CHECK(same);
	}
}

int main(void)
{
	test_small_directory();
	test_empty();
	test_entries();
	test_title();
	test_appends();
	test_parts();
	test_sort_table();
	test_sort_property();
	return check_done("test_listing");
}
