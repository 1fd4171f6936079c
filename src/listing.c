/*
 * listing.c: the directory listing page of SimpleHTTPRequestHandler.list_directory,
 * byte for byte: entries sorted as list.sort(key=str.lower), a directory marked "/"
 * in its text and link, a symbolic link marked "@" in its text, link text HTML-escaped
 * and hrefs percent-encoded. Pure: the caller reads the directory and passes the
 * entries; nothing here touches the file system. Names are bytes (a Linux file name):
 * the text is written as they are, which is what Python's surrogateescape gives back,
 * and the href quotes those bytes. For a name that is not valid UTF-8 Python's href
 * quotes the surrogate escapes instead (%ED%B2%80 for a byte 0x80), which does not
 * lead back to the file; ours does. The page is made in three parts (head, entries,
 * tail) so that static.c can cache the entries, which depend on the directory alone,
 * and write the title, which depends on the URL, for each request.
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
 * differ only in ASCII case, or not at all in case, sort as in Python. Equal bytes
 * (most of a common prefix) are passed over without lowering. */
static int key_cmp(const struct hs__dirent *x, const struct hs__dirent *y)
{
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == q[i])
			continue;
		unsigned char a = lower_byte(p[i]), b = lower_byte(q[i]);
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

/* Merges the sorted runs a[lo..mid) and a[mid..hi) into out[lo..hi), stably: on equal
 * keys the left run's entry goes first. */
static void merge_into(const struct hs__dirent *a, struct hs__dirent *out, size_t lo,
                       size_t mid, size_t hi)
{
	size_t i = lo, j = mid, k = lo;
	while (i < mid && j < hi)
		out[k++] = key_cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
	while (i < mid)
		out[k++] = a[i++];
	while (j < hi)
		out[k++] = a[j++];
}

/* The same order with room for n more entries in tmp: insertion-sorted runs of 16, then
 * merges back and forth between e and tmp. O(n log n) comparisons and moves, about
 * half the comparisons of the in-place merge and far fewer moves. */
void hs__listing_sort_buf(struct hs__dirent *e, size_t n, struct hs__dirent *tmp)
{
	const size_t run = 16;
	for (size_t a = 0; a < n; a += run)
		insertion_sort(e, a, n - a < run ? n : a + run);
	struct hs__dirent *src = e, *dst = tmp;
	for (size_t width = run; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = n - lo < width ? n : lo + width;
			merge_into(src, dst, lo, mid, n - mid < width ? n : mid + width);
		}
		struct hs__dirent *t = src;
		src = dst;
		dst = t;
	}
	if (src != e)
		memcpy(e, src, n * sizeof *e);
}

/* ---------------------------------------------------------------- rendering */

static const char page_tail[] = "</ul>\n<hr>\n</body>\n</html>\n";

/* One "<li>" line. The href is the name plus "/" for a directory (also one reached
 * through a link); the text is the name plus "@" for a link, else "/" for a
 * directory. The worst case (every byte escaped as "&amp;" or "%XX") is reserved
 * first, so the buffer grows at most once per line. The caller undoes a failure. */
static int render_entry(struct hs__buf *out, const struct hs__dirent *d)
{
	static const char open[] = "<li><a href=\"", close[] = "</a></li>\n";
	size_t n = d->name_len;
	if (n > (SIZE_MAX - 64) / 8)
		return -ENOMEM;
	return hs__buf_reserve(out, 8 * n + sizeof open + sizeof close + 4) ?:
	       hs__buf_append(out, open, sizeof open - 1) ?:
	       hs__url_quote(out, d->name, n) ?:
	       hs__buf_append(out, "/", d->is_dir ? 1 : 0) ?:
	       hs__buf_append(out, "\">", 2) ?:
	       hs__html_escape(out, d->name, n) ?:
	       hs__buf_append(out, d->is_link ? "@" : "/", d->is_link || d->is_dir ? 1 : 0) ?:
	       hs__buf_append(out, close, sizeof close - 1);
}

/* Appends "Directory listing for <escaped display_path>". */
static int render_title(struct hs__buf *out, const char *display_path, size_t dn)
{
	int rc = hs__buf_puts(out, "Directory listing for ");
	return rc ? rc : hs__html_escape(out, display_path, dn);
}

int hs__listing_render_head(struct hs__buf *out, const char *display_path, size_t dn)
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
	if (rc < 0)
		out->len = start;
	return rc;
}

int hs__listing_render_entries(struct hs__buf *out, const struct hs__dirent *e, size_t n)
{
	size_t start = out->len;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = render_entry(out, &e[i]);
	if (rc < 0)
		out->len = start;
	return rc;
}

int hs__listing_render_tail(struct hs__buf *out)
{
	return hs__buf_append(out, page_tail, sizeof page_tail - 1);
}

/* Python joins its lines with "\n" and ends the last with "\n". On failure out is
 * left as it was. */
int hs__listing_render(struct hs__buf *out, const char *display_path, size_t dn,
                       const struct hs__dirent *e, size_t n)
{
	size_t start = out->len;
	int rc = hs__listing_render_head(out, display_path, dn) ?:
	         hs__listing_render_entries(out, e, n) ?: hs__listing_render_tail(out);
	if (rc < 0)
		out->len = start;
	return rc;
}
