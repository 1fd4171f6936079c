/*
 * listing.c: the directory listing page of SimpleHTTPRequestHandler.list_directory,
 * byte for byte: entries sorted as list.sort(key=str.lower), a directory marked "/"
 * in its text and link, a symbolic link marked "@" in its text, link text HTML-escaped
 * and hrefs percent-encoded. Pure: the caller reads the directory and passes the
 * entries; nothing here touches the file system. Names are bytes (a Linux file name):
 * the text is written as they are, which is what Python's surrogateescape gives back,
 * and the href quotes those bytes. For a name that is not valid UTF-8 Python's href
 * quotes the surrogate escapes instead (%ED%B2%80 for a byte 0x80), which does not
 * lead back to the file; ours does.
 */
#include "internal.h"

/* ------------------------------------------------------------------ sorting */

static unsigned char lower_byte(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Compares the lower-cased names, a shorter prefix first, like Python comparing str.
 * We lower ASCII only, where Python lowers every Unicode letter ("É" sorts with "é"
 * there, after "z" here). Byte order of UTF-8 is code point order, so names that
 * differ only in ASCII case, or not at all in case, sort as in Python. */
static int key_cmp(const struct hs__dirent *x, const struct hs__dirent *y)
{
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = lower_byte((unsigned char)x->name[i]);
		unsigned char b = lower_byte((unsigned char)y->name[i]);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static void reverse(struct hs__dirent *e, size_t a, size_t b)
{
	while (a + 1 < b) {
		struct hs__dirent t = e[a];
		e[a++] = e[--b];
		e[b] = t;
	}
}

/* Rotates e[a..b) so that e[m..b) comes first, keeping each part's order. */
static void rotate(struct hs__dirent *e, size_t a, size_t m, size_t b)
{
	reverse(e, a, m);
	reverse(e, m, b);
	reverse(e, a, b);
}

static void insertion_sort(struct hs__dirent *e, size_t a, size_t b)
{
	for (size_t i = a + 1; i < b; i++)
		for (size_t j = i; j > a && key_cmp(&e[j], &e[j - 1]) < 0; j--) {
			struct hs__dirent t = e[j];
			e[j] = e[j - 1];
			e[j - 1] = t;
		}
}

/* Merges the sorted runs e[a..m) and e[m..b) in place, stably, by the SymMerge
 * scheme (Kim and Kutzner, 2004): find the cut where the runs' symmetric halves meet,
 * rotate the middle into place, and merge the two sides the same way. */
static void sym_merge(struct hs__dirent *e, size_t a, size_t m, size_t b)
{
	if (a == m || m == b)
		return;
	size_t mid = a + (b - a) / 2, n = mid + m, lo, hi;
	if (m > mid) {
		lo = n - b;
		hi = mid;
	} else {
		lo = a;
		hi = m;
	}
	/* Smallest c in [lo, hi) with e[n-1-c] < e[c]: left of it, the left run's
	 * elements stay; from it on, they move after the right run's. */
	while (lo < hi) {
		size_t c = lo + (hi - lo) / 2;
		if (key_cmp(&e[n - 1 - c], &e[c]) >= 0)
			lo = c + 1;
		else
			hi = c;
	}
	size_t start = lo, end = n - lo;
	if (start < m && m < end)
		rotate(e, start, m, end);
	sym_merge(e, a, start, mid);
	sym_merge(e, mid, end, b);
}

/* Stable and in place (no allocation, so it cannot fail): insertion-sorted runs of
 * 16 merged pairwise. O(n log n) comparisons, O(n log^2 n) moves. */
void hs__listing_sort(struct hs__dirent *e, size_t n)
{
	const size_t run = 16;
	for (size_t a = 0; a < n; a += run)
		insertion_sort(e, a, n - a < run ? n : a + run);
	for (size_t width = run; width < n; width *= 2)
		for (size_t a = 0; a + width < n; a += 2 * width)
			sym_merge(e, a, a + width, n - a - width < width ? n : a + 2 * width);
}

/* ---------------------------------------------------------------- rendering */

/* One "<li>" line. The href is the name plus "/" for a directory (also one reached
 * through a link); the text is the name plus "@" for a link, else "/" for a
 * directory. */
static int render_entry(struct hs__buf *out, const struct hs__dirent *d)
{
	int rc = hs__buf_puts(out, "<li><a href=\"");
	if (rc == 0)
		rc = hs__url_quote(out, d->name, d->name_len);
	if (rc == 0 && d->is_dir)
		rc = hs__buf_puts(out, "/");
	if (rc == 0)
		rc = hs__buf_puts(out, "\">");
	if (rc == 0)
		rc = hs__html_escape(out, d->name, d->name_len);
	if (rc == 0 && (d->is_link || d->is_dir))
		rc = hs__buf_puts(out, d->is_link ? "@" : "/");
	if (rc == 0)
		rc = hs__buf_puts(out, "</a></li>\n");
	return rc;
}

/* Appends "Directory listing for <escaped display_path>". */
static int render_title(struct hs__buf *out, const char *display_path, size_t dn)
{
	int rc = hs__buf_puts(out, "Directory listing for ");
	return rc ? rc : hs__html_escape(out, display_path, dn);
}

/* Python joins its lines with "\n" and ends the last with "\n". On failure out is
 * left as it was. */
int hs__listing_render(struct hs__buf *out, const char *display_path, size_t dn,
                       const struct hs__dirent *e, size_t n)
{
	size_t start = out->len;
	int rc = hs__buf_puts(out, "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n"
	                           "<meta charset=\"utf-8\">\n<title>");
	if (rc == 0)
		rc = render_title(out, display_path, dn);
	if (rc == 0)
		rc = hs__buf_puts(out, "</title>\n</head>\n<body>\n<h1>");
	if (rc == 0)
		rc = render_title(out, display_path, dn);
	if (rc == 0)
		rc = hs__buf_puts(out, "</h1>\n<hr>\n<ul>\n");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = render_entry(out, &e[i]);
	if (rc == 0)
		rc = hs__buf_puts(out, "</ul>\n<hr>\n</body>\n</html>\n");
	if (rc < 0)
		out->len = start;
	return rc;
}
