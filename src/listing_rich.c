/*
 * listing_rich.c: the rich directory listing (hs_static.listing = HS_LISTING_RICH). A
 * table of names, sizes (human, the exact count in a tooltip) and modification times
 * (UTC, ISO 8601), directories first, sorted by name, size or time in either order as
 * the query string asks (?sort=size&order=desc; the column heads link to the other
 * orders, no script), dark mode by color-scheme as Python 3.14's pages declare it, a
 * parent link, directories and links marked as Python marks them ("/" and "@"), every
 * name HTML-escaped in text and percent-encoded in links. For Accept: application/json
 * the same entries as a JSON array with the fields of caddy's browse (name, size, url,
 * mod_time, mode, is_dir, is_symlink). Pages are kept in the listing cache as Python's
 * are, one per form (sort, order, HTML or JSON), behind the same stamp of the directory;
 * the head (title, column heads, parent row) is written per request. Sizes and times
 * change without the directory's stamp changing (a file written in place), so a rich
 * page is used only within the second it was rendered in: one fresh rendering per
 * directory and form per second at most, and nothing shown more than a second old.
 */
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ the request */

/* One query parameter, "key=value", as the view reads it. */
static void view_param(struct hs__rich_view *v, const char *p, size_t n)
{
	static const struct {
		const char *text;
		int sort, desc; /* -1: not this one */
	} known[] = {
		{"sort=name", HS__RICH_BY_NAME, -1}, {"sort=size", HS__RICH_BY_SIZE, -1},
		{"sort=time", HS__RICH_BY_TIME, -1}, {"order=asc", -1, 0}, {"order=desc", -1, 1},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strlen(known[i].text) != n || memcmp(known[i].text, p, n) != 0)
			continue;
		if (known[i].sort >= 0)
			v->sort = (enum hs__rich_sort)known[i].sort;
		if (known[i].desc >= 0)
			v->desc = known[i].desc;
	}
}

void hs__rich_view_parse(struct hs__rich_view *v, const char *target, size_t n)
{
	*v = (struct hs__rich_view){HS__RICH_BY_NAME, false, false};
	const char *q = memchr(target, '?', n), *hash = memchr(target, '#', n);
	if (!q || (hash && hash < q))
		return;
	const char *end = hash ? hash : target + n;
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		view_param(v, p, (size_t)(stop - p));
		p = stop + 1;
	}
}

/* Whether needle (lower case) occurs in s, in any case. */
static bool contains_nocase(const char *s, const char *needle)
{
	size_t n = strlen(needle);
	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

bool hs__rich_accepts_json(const struct hs_header *h, size_t nh)
{
	for (size_t i = 0; i < nh; i++)
		if (strcasecmp(h[i].name, "Accept") == 0 &&
		    contains_nocase(h[i].value, "application/json"))
			return true;
	return false;
}

uint32_t hs__rich_variant(const struct hs__rich_view *v)
{
	return 1u + (uint32_t)v->sort * 2u + (v->desc ? 1u : 0u) + (v->json ? 8u : 0u);
}

/* ------------------------------------------------------------ sorting */

/* Names as Python's listing compares them: ASCII letters without case, then bytes. */
static int name_cmp(const struct hs__rich_entry *x, const struct hs__rich_entry *y)
{
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	for (size_t i = 0; i < n; i++) {
		int a = (unsigned char)x->name[i], b = (unsigned char)y->name[i];
		a += a >= 'A' && a <= 'Z' ? 32 : 0;
		b += b >= 'A' && b <= 'Z' ? 32 : 0;
		if (a != b)
			return a < b ? -1 : 1;
	}
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, n);
}

static int three_way(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* The view's key alone; directories have no meaningful size, so they go by name. */
static int key_cmp(const struct hs__rich_entry *x, const struct hs__rich_entry *y,
                   enum hs__rich_sort by)
{
	if (by == HS__RICH_BY_SIZE && !x->is_dir)
		return three_way(x->size, y->size);
	if (by == HS__RICH_BY_TIME) {
		int c = three_way(x->mtime.tv_sec, y->mtime.tv_sec);
		return c ? c : three_way(x->mtime.tv_nsec, y->mtime.tv_nsec);
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b, void *arg)
{
	const struct hs__rich_entry *x = a, *y = b;
	const struct hs__rich_view *v = arg;
	if (x->is_dir != y->is_dir)
		return x->is_dir ? -1 : 1;
	int c = key_cmp(x, y, v->sort);
	if (c == 0 && v->sort != HS__RICH_BY_NAME)
		return name_cmp(x, y); /* ties in the order of names, whichever the direction */
	if (c == 0)
		c = name_cmp(x, y);
	return v->desc ? -c : c;
}

void hs__rich_sort(struct hs__rich_entry *e, size_t n, const struct hs__rich_view *v)
{
	if (n > 1)
		qsort_r(e, n, sizeof *e, entry_cmp, (void *)v);
}

/* ------------------------------------------------------------ fields */

size_t hs__rich_human_size(char out[HS__RICH_SIZE_MAX], int64_t size)
{
	static const char units[] = "KMGTPE";
	uint64_t v = size < 0 ? 0 : (uint64_t)size, unit = 1024;
	if (v < 1024)
		return (size_t)snprintf(out, HS__RICH_SIZE_MAX, "%u B", (unsigned)v);
	for (unsigned k = 0;; k++, unit <<= 10) {
		/* tenths of the unit, rounded half up, without overflowing */
		uint64_t tenths = v / unit * 10 + (v % unit * 10 + unit / 2) / unit;
		if (tenths < 10240 || k == 5)
			return (size_t)snprintf(out, HS__RICH_SIZE_MAX, "%llu.%u %ciB",
			                        (unsigned long long)(tenths / 10),
			                        (unsigned)(tenths % 10), units[k]);
	}
}

size_t hs__rich_iso_time(char out[HS__RICH_TIME_MAX], const struct timespec *t, bool frac)
{
	struct tm tm;
	out[0] = '\0';
	if (!gmtime_r(&t->tv_sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return 0;
	int n = snprintf(out, HS__RICH_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec);
	long ns = t->tv_nsec;
	if (frac && ns > 0 && ns < 1000000000) {
		int digits = 9;
		while (ns % 10 == 0) {
			ns /= 10;
			digits--;
		}
		n += snprintf(out + n, HS__RICH_TIME_MAX - (size_t)n, ".%0*ld", digits, ns);
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return (size_t)n;
}

/* The length of the well-formed UTF-8 sequence at s (at most n bytes), its code point
 * in *cp; 0 when the byte at s does not start one. */
static size_t utf8_sequence(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 :
	             (s[0] & 0xf0) == 0xe0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t c = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return 0;
	*cp = c;
	return len;
}

int hs__json_escape(struct hs__buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = out->len;
	int rc = n > SIZE_MAX / 6 ? -ENOMEM : hs__buf_reserve(out, 6 * n);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n && rc == 0;) {
		uint32_t cp = 0;
		size_t len = utf8_sequence(p + i, n - i, &cp);
		const char *esc = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n" :
		                  cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b" :
		                  cp == '\f' ? "\\f" : NULL;
		if (len == 0) {
			rc = hs__buf_puts(out, "\\ufffd"); /* one byte that is not UTF-8 */
			len = 1;
		} else if (len == 1 && esc) {
			rc = hs__buf_puts(out, esc);
		} else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 ||
		           cp == 0x2029) {
			char u[6] = {'\\', 'u', hex[cp >> 12], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
			             hex[cp & 15]};
			rc = hs__buf_append(out, u, sizeof u);
		} else {
			rc = hs__buf_append(out, p + i, len);
		}
		i += len;
	}
	if (rc < 0)
		out->len = start;
	return rc;
}

/* ------------------------------------------------------------ the page */

static const char page_style[] =
	"<style type=\"text/css\">\n:root {\ncolor-scheme: light dark;\n}\n"
	"body{font-family:system-ui,sans-serif;margin:1em 2em}\n"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
	"th,td{padding:.2em .8em;text-align:left}\n"
	"td:first-child{unicode-bidi:plaintext;text-align:left}\n"
	"td+td,th+th{white-space:nowrap}\n"
	"td:nth-child(2),th:nth-child(2){text-align:right}\n"
	"tbody tr:nth-child(odd){background:rgba(128,128,128,.12)}\n"
	"th a{color:inherit}\n"
	"</style>\n";

static const char page_tail[] = "</tbody>\n</table>\n<hr>\n</body>\n</html>\n";

/* "Directory listing for <escaped display>", as Python's title says it. */
static int put_title(struct hs__buf *out, const char *display, size_t dn)
{
	return hs__buf_puts(out, "Directory listing for ") ?: hs__html_escape(out, display, dn);
}

/* One column head: a link to this column's ascending order, or the other order of the
 * column that is sorted now, which is marked. */
static int put_column(struct hs__buf *out, const struct hs__rich_view *v,
                      enum hs__rich_sort by, const char *key, const char *label)
{
	bool now = v->sort == by, desc = now && !v->desc;
	const char *aria = !now ? "" : v->desc ? " aria-sort=\"descending\"" :
	                                         " aria-sort=\"ascending\"";
	return hs__buf_printf(out, "<th%s><a href=\"?sort=%s&amp;order=%s\">%s</a>%s", aria,
	                      key, desc ? "desc" : "asc", label,
	                      !now ? "" : v->desc ? " &#9660;" : " &#9650;");
}

int hs__rich_render_head(struct hs__buf *out, const char *display, size_t dn,
                         const struct hs__rich_view *v)
{
	size_t start = out->len;
	bool root = dn == 1 && display[0] == '/';
	int rc = hs__buf_puts(out, "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n"
	                           "<meta charset=\"utf-8\">\n"
	                           "<meta name=\"viewport\" content=\"width=device-width\">\n") ?:
	         hs__buf_puts(out, page_style) ?: hs__buf_puts(out, "<title>") ?:
	         put_title(out, display, dn) ?: hs__buf_puts(out, "</title>\n</head>\n<body>\n<h1>") ?:
	         put_title(out, display, dn) ?: hs__buf_puts(out, "</h1>\n<hr>\n<table>\n<thead><tr>") ?:
	         put_column(out, v, HS__RICH_BY_NAME, "name", "Name") ?:
	         put_column(out, v, HS__RICH_BY_SIZE, "size", "Size") ?:
	         put_column(out, v, HS__RICH_BY_TIME, "time", "Modified (UTC)") ?:
	         hs__buf_puts(out, "</thead>\n<tbody>\n") ?:
	         hs__buf_puts(out, root ? "" : "<tr><td><a href=\"../\">../</a><td><td>\n");
	if (rc < 0)
		out->len = start;
	return rc;
}

/* One row; cells end where the next begins (HTML needs no </td> or </tr>). The link
 * is the name plus "/" for a directory; the text adds "@" for a link, else "/" for a
 * directory, as Python's page does. */
static int render_row(struct hs__buf *out, const struct hs__rich_entry *e)
{
	char size[HS__RICH_SIZE_MAX], when[HS__RICH_TIME_MAX];
	bool show_size = e->known && !e->is_dir;
	if (show_size)
		hs__rich_human_size(size, e->size);
	if (!e->known || hs__rich_iso_time(when, &e->mtime, false) == 0)
		strcpy(when, "-");
	int rc = hs__buf_puts(out, "<tr><td><a href=\"") ?: hs__url_quote(out, e->name, e->name_len) ?:
	         hs__buf_append(out, "/", e->is_dir ? 1 : 0) ?: hs__buf_append(out, "\">", 2) ?:
	         hs__html_escape(out, e->name, e->name_len) ?:
	         hs__buf_append(out, e->is_link ? "@" : "/", e->is_link || e->is_dir ? 1 : 0);
	if (rc == 0 && show_size)
		rc = hs__buf_printf(out, "</a><td title=\"%lld bytes\">%s<td>%s\n",
		                    (long long)e->size, size, when);
	else if (rc == 0)
		rc = hs__buf_printf(out, "</a><td>-<td>%s\n", when);
	return rc;
}

int hs__rich_render_rows(struct hs__buf *out, const struct hs__rich_entry *e, size_t n)
{
	size_t start = out->len;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = render_row(out, &e[i]);
	if (rc == 0)
		rc = hs__buf_append(out, page_tail, sizeof page_tail - 1);
	if (rc < 0)
		out->len = start;
	return rc;
}

/* ------------------------------------------------------------ JSON */

/* Go's os.FileMode of an lstat mode, which caddy writes as "mode": the permission
 * bits, and the type and special bits where Go keeps them. */
static uint32_t go_file_mode(uint32_t m)
{
	uint32_t go = m & 0777;
	go |= S_ISDIR(m) ? 1u << 31 : S_ISLNK(m) ? 1u << 27 : S_ISFIFO(m) ? 1u << 25 :
	      S_ISSOCK(m) ? 1u << 24 : S_ISBLK(m) ? 1u << 26 : S_ISCHR(m) ? 1u << 26 | 1u << 21 : 0;
	go |= (m & S_ISUID ? 1u << 23 : 0) | (m & S_ISGID ? 1u << 22 : 0) |
	      (m & S_ISVTX ? 1u << 20 : 0);
	return go;
}

/* One object. The name and url of a directory end in "/"; url is "./" and the name
 * percent-encoded, so a name with a ":" stays a relative reference. */
static int render_object(struct hs__buf *out, const struct hs__rich_entry *e, bool first)
{
	char when[HS__RICH_TIME_MAX];
	bool dated = hs__rich_iso_time(when, &e->mtime, true) > 0;
	const char *slash = e->is_dir ? "/" : "";
	return hs__buf_puts(out, first ? "{\"name\":\"" : ",{\"name\":\"") ?:
	       hs__json_escape(out, e->name, e->name_len) ?:
	       hs__buf_printf(out, "%s\",\"size\":%lld,\"url\":\"./", slash, (long long)e->size) ?:
	       hs__url_quote(out, e->name, e->name_len) ?:
	       hs__buf_printf(out, "%s\",\"mod_time\":%s%s%s,\"mode\":%u,\"is_dir\":%s,"
	                      "\"is_symlink\":%s}", slash, dated ? "\"" : "", dated ? when : "null",
	                      dated ? "\"" : "", (unsigned)go_file_mode(e->mode),
	                      e->is_dir ? "true" : "false", e->is_link ? "true" : "false");
}

int hs__rich_render_json(struct hs__buf *out, const struct hs__rich_entry *e, size_t n)
{
	size_t start = out->len;
	bool first = true;
	int rc = hs__buf_puts(out, "[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!e[i].known)
			continue;
		rc = render_object(out, &e[i], first);
		first = false;
	}
	if (rc == 0)
		rc = hs__buf_puts(out, "]\n");
	if (rc < 0)
		out->len = start;
	return rc;
}

/* ------------------------------------------------------------ serving */

/* Each entry's lstat (and a link's target's size) into s->rich, beside its name and
 * type from s->ents. An entry lstat cannot see (an unsearchable directory, a name
 * removed meanwhile) is listed without size or time. */
static int collect(int dfd, struct hs__lscratch *s, size_t n)
{
	s->rich.len = 0;
	if (n > SIZE_MAX / (2 * sizeof(struct hs__rich_entry)))
		return -ENOMEM;
	int rc = hs__buf_reserve(&s->rich, n * sizeof(struct hs__rich_entry));
	if (rc < 0)
		return rc;
	const struct hs__dirent *d = (const struct hs__dirent *)(void *)s->ents.data;
	struct hs__rich_entry *e = (struct hs__rich_entry *)(void *)s->rich.data;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		e[i] = (struct hs__rich_entry){.name = d[i].name, .name_len = d[i].name_len,
		                               .is_dir = d[i].is_dir, .is_link = d[i].is_link};
		if (fstatat(dfd, d[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		e[i].known = true;
		e[i].size = (int64_t)st.st_size;
		e[i].mtime = st.st_mtim;
		e[i].mode = (uint32_t)st.st_mode;
		if (S_ISLNK(st.st_mode) && fstatat(dfd, d[i].name, &st, 0) == 0)
			e[i].size = (int64_t)st.st_size;
	}
	s->rich.len = n * sizeof(struct hs__rich_entry);
	return 0;
}

/* The 200: for HTML the head made here (title, column heads, parent row) and the rows
 * of body; for JSON body alone. Vary: Accept, since the URL has both forms. */
static int send_rich(struct hs_conn *c, const struct hs_request *r,
                     const struct hs__rich_view *v, const char *display, size_t dn,
                     const char *body, size_t blen)
{
	struct hs__buf *head = &c->w->scratch;
	head->len = 0;
	if (!v->json && hs__rich_render_head(head, display, dn, v) < 0)
		return hs_send_error(c, 500, NULL, NULL);
	char len_text[HS__INT_TEXT_MAX];
	hs__int_text(len_text, (long long)(head->len + blen));
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-type", v->json ? "application/json" : "text/html; charset=utf-8");
	hs_send_header(c, "Content-Length", len_text);
	hs_send_header(c, "Vary", "Accept");
	hs_end_headers(c);
	if (strcmp(r->command, "GET") == 0) {
		hs_write(c, head->data, head->len);
		hs_write(c, body, blen);
	}
	return 0;
}

/* A listing the cache did not have: read, stat, sort and render, keep it when the
 * entries depend on the directory alone (and the racy rule allows), send. */
static int rich_fresh(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                      int dfd, const struct hs__rich_view *v,
                      const struct hs__lcache_key *key, const struct hs__lcache_stamp *stamp,
                      const struct timespec *now, const char *display, size_t dn)
{
	struct hs__lcache *lc = self->priv->listing_cache;
	struct hs__lscratch *s = hs__lcache_take_scratch(lc);
	size_t n = 0;
	bool cacheable = false;
	int rc = s ? hs__static_read_dir(dfd, s, &n, &cacheable) : -ENOMEM;
	if (rc == 0)
		rc = collect(dfd, s, n);
	close(dfd);
	if (rc < 0) {
		hs__lcache_give_scratch(lc, s);
		return rc == -ENOMEM ? hs_send_error(c, 500, NULL, NULL)
		                     : hs_send_error(c, 404, "No permission to list directory", NULL);
	}
	struct hs__rich_entry *e = (struct hs__rich_entry *)(void *)s->rich.data;
	hs__rich_sort(e, n, v);
	s->body.len = 0;
	rc = v->json ? hs__rich_render_json(&s->body, e, n) : hs__rich_render_rows(&s->body, e, n);
	if (rc == 0 && cacheable) /* not kept (racy, too large, no memory): rendered again */
		(void)hs__lcache_put(lc, key, stamp, now, s->body.data, s->body.len);
	rc = rc < 0 ? hs_send_error(c, 500, NULL, NULL)
	            : send_rich(c, r, v, display, dn, s->body.data, s->body.len);
	hs__lcache_give_scratch(lc, s);
	return rc;
}

/* The page of this directory and form from the cache while the directory's stamp is
 * the one it was rendered under, within the same second; else rendered afresh. The
 * time is read before the directory is, so a page never outlives the second in which
 * its sizes and times were read. */
int hs__rich_list(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                  int dfd, const struct stat *dst, const char *display, size_t dn)
{
	struct hs__rich_view v;
	struct timespec now;
	hs__rich_view_parse(&v, r->path, strlen(r->path));
	v.json = hs__rich_accepts_json(r->headers, r->nheaders);
	clock_gettime(CLOCK_REALTIME, &now);
	struct hs__lcache_key key = {(uint64_t)dst->st_dev, (uint64_t)dst->st_ino,
	                             hs__rich_variant(&v)};
	struct hs__lcache_stamp stamp = {.mtime = dst->st_mtim, .ctime = dst->st_ctim,
	                                 .size = (int64_t)dst->st_size, .epoch = now.tv_sec};
	struct hs__span body;
	struct hs__lpage *hit = hs__lcache_get(self->priv->listing_cache, &key, &stamp, &body);
	if (!hit)
		return rich_fresh(self, c, r, dfd, &v, &key, &stamp, &now, display, dn);
	close(dfd);
	int rc = send_rich(c, r, &v, display, dn, body.p, body.n);
	hs__lpage_release(hit);
	return rc;
}
