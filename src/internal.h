/*
 * internal.h: the private structures and hs__ functions shared by the files in src/.
 * Nothing here is public; include/httpserve.h is the only contract with users. The
 * pure pieces (parser, path mapping, dates, MIME, text escaping, listing) are declared
 * first so they can be unit-tested and fuzzed without a network; the engine's
 * structures (loop, connection, worker, server) follow.
 */
#ifndef HS_INTERNAL_H
#define HS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "httpserve.h"

/* ------------------------------------------------------- allocation (alloc.c) */

/* Every allocation the library makes goes through these, and so does every libc call
 * that allocates behind our back (opendir, realpath, fopen). In the fault-injection
 * build (-DHS_FAULT_INJECTION, `make faults`) hs__alloc_fails() makes the Nth of them
 * fail with ENOMEM, N taken from the environment, so that a scripted run can walk
 * every failure path; in every other build it is a constant false and costs nothing. */
#ifdef HS_FAULT_INJECTION
bool hs__alloc_fails(void);
#else
static inline bool hs__alloc_fails(void) { return false; }
#endif

static inline void *hs__malloc(size_t n)
{
	if (hs__alloc_fails())
		return errno = ENOMEM, NULL;
	return malloc(n);
}

static inline void *hs__calloc(size_t n, size_t size)
{
	if (hs__alloc_fails())
		return errno = ENOMEM, NULL;
	return calloc(n, size);
}

static inline void *hs__realloc(void *p, size_t n)
{
	if (hs__alloc_fails())
		return errno = ENOMEM, NULL;
	return realloc(p, n);
}

static inline char *hs__strdup(const char *s)
{
	if (hs__alloc_fails())
		return errno = ENOMEM, NULL;
	return strdup(s);
}

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer. The zero value is an empty buffer. Appends return 0 or
 * -ENOMEM and leave the buffer unchanged on failure. */
struct hs__buf {
	char *data;
	size_t len, cap;
};

/* Room for extra more bytes. Inline, with the append: the hot path appends many short
 * pieces to buffers that already have room; growing is hs__buf_grow's. */
int hs__buf_grow(struct hs__buf *b, size_t extra);

static inline int hs__buf_reserve(struct hs__buf *b, size_t extra)
{
	return b->cap - b->len >= extra ? 0 : hs__buf_grow(b, extra);
}

static inline int hs__buf_append(struct hs__buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	int rc = hs__buf_reserve(b, n);
	if (rc < 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int hs__buf_puts(struct hs__buf *b, const char *s);
int hs__buf_printf(struct hs__buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* v in decimal, as printf's %lld writes it, without printf: into out, NUL-terminated,
 * returning its length; or appended to b. */
#define HS__INT_TEXT_MAX 24
size_t hs__int_text(char out[HS__INT_TEXT_MAX], long long v);
int hs__buf_append_int(struct hs__buf *b, long long v);
void hs__buf_free(struct hs__buf *b);

/* ------------------------------------------------------------ text (text.c) */

/* html.escape(s, quote=False): & < > become entities. */
int hs__html_escape(struct hs__buf *out, const char *s, size_t n);
/* The same for latin-1 text (an error message), written as UTF-8. */
int hs__html_escape_latin1(struct hs__buf *out, const char *s, size_t n);
/* urllib.parse.quote(s): keeps A-Z a-z 0-9 _ . - ~ and /, the rest %XX uppercase. */
int hs__url_quote(struct hs__buf *out, const char *s, size_t n);
/* Percent-decodes n bytes of s into out (which may be s itself); malformed escapes are
 * kept literally, as urllib.parse.unquote does. Returns the decoded length. */
size_t hs__url_unquote(char *out, const char *s, size_t n);
/* Python's repr() of the latin-1 decoded string s, as latin-1: quotes, \\ \' \t \n \r,
 * \xNN for non-printable code points, printable ones >= 0xA0 kept as their byte. Error
 * messages are latin-1 text, as Python's status line is; the page and the log turn
 * them into UTF-8. */
int hs__py_repr(struct hs__buf *out, const char *s, size_t n);
/* A log message as BaseHTTPRequestHandler.log_message writes it: bytes 0x00-0x1f and
 * 0x7f-0x9f as \xNN (lowercase), \ as \\, bytes >= 0xa0 as the UTF-8 of the latin-1
 * character (Python decodes the request line as latin-1 and writes UTF-8). */
int hs__log_escape(struct hs__buf *out, const char *s, size_t n);

/* ------------------------------------------------------ dates (httpdate.c) */

#define HS__HTTPDATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HS__LOGDATE_LEN 20  /* "17/Mar/2025 14:03:07" */

/* Writes the IMF-fixdate of t (UTC) and a NUL into out; returns HS__HTTPDATE_LEN. */
size_t hs__httpdate_format(char out[HS__HTTPDATE_LEN + 1], time_t t);
/* Parses a date as Python's email.utils.parsedate_to_datetime does (IMF-fixdate, RFC 850,
 * asctime and the lenient variants Python accepts). On success stores seconds since the
 * epoch in *out and whether the zone is UTC (GMT, UT, UTC, Z, +0000, -0000 or no zone)
 * in *is_utc (an unknown zone name counts as no zone, as in Python), and returns true.
 * Returns false for anything Python would reject. */
bool hs__httpdate_parse(const char *s, size_t n, int64_t *out, bool *is_utc);
/* Writes "DD/Mon/YYYY HH:MM:SS" in local time and a NUL; returns HS__LOGDATE_LEN. */
size_t hs__logdate_format(char out[HS__LOGDATE_LEN + 1], time_t t);

/* ------------------------------------------------------------ MIME (mime.c) */

/* A table of extension -> content type: a built-in table that does not depend on the
 * machine, plus additions read from a mime.types file (never overriding the built-in
 * entries). Immutable after creation, so workers share it without locks. */
struct hs__mime;

/* Creates a table; system_file NULL or unreadable means the built-in table alone. */
int hs__mime_new(struct hs__mime **out, const char *system_file);
void hs__mime_free(struct hs__mime *m);
/* SimpleHTTPRequestHandler.guess_type: the type for path (n bytes), never NULL.
 * m may be NULL (built-in table only). The result lives as long as m. */
const char *hs__mime_guess(const struct hs__mime *m, const char *path, size_t n);

/* ------------------------------------------------------------ paths (path.c) */

/* translate_path: maps a request target to a path relative to the served directory:
 * drops "#..." then "?...", percent-decodes, resolves "." and ".." lexically without
 * ever climbing above the root, drops empty words. Writes "a/b/c" ("" for the root)
 * and a NUL to out; *trailing_slash tells whether the raw path ended in "/".
 * Returns 0, -ENAMETOOLONG when out is too small, -EINVAL for a NUL byte. */
int hs__translate_path(const char *target, size_t n, char *out, size_t out_size,
                       bool *trailing_slash);
/* Whether urlsplit(target).path ends in "/", "%2f" or "%2F" (a leading "//" collapsed as
 * parse_request does), the test send_head makes before redirecting a directory. */
bool hs__url_path_ends_in_slash(const char *target, size_t n);
/* The Location of the directory redirect: target with "/" added to its path, query and
 * fragment kept as urlunsplit keeps them, as a path-absolute reference (no scheme or
 * authority, one leading "/") with control bytes, and "\" in the path, percent-escaped.
 * Returns 0, or -ENOMEM with out as it was. */
int hs__redirect_location(struct hs__buf *out, const char *target, size_t n);

/* ------------------------------------------------------- listing (listing.c) */

struct hs__dirent {
	const char *name;
	size_t name_len;
	bool is_dir;  /* os.path.isdir (follows links) */
	bool is_link; /* os.path.islink */
};

/* Sorts entries as Python's list.sort(key=str.lower): stable, case-insensitive. In
 * place, so it cannot fail; hs__listing_sort_buf is faster given room for n entries. */
void hs__listing_sort(struct hs__dirent *e, size_t n);
void hs__listing_sort_buf(struct hs__dirent *e, size_t n, struct hs__dirent *tmp);
/* Renders Python's listing page for the decoded URL path display_path. */
int hs__listing_render(struct hs__buf *out, const char *display_path, size_t dn,
                       const struct hs__dirent *e, size_t n);
/* The same page in its three parts: the head up to "<ul>\n" (the title and h1 show
 * display_path), one "<li>" line per entry, and the tail. The entries depend on the
 * directory alone, so they can be cached apart from the title. Each returns 0 or
 * -ENOMEM, leaving out as it was on failure. */
int hs__listing_render_head(struct hs__buf *out, const char *display_path, size_t dn);
int hs__listing_render_entries(struct hs__buf *out, const struct hs__dirent *e, size_t n);
int hs__listing_render_tail(struct hs__buf *out);

/* ------------------------------------------- rich listing (listing_rich.c) */

/* What a request asks of the rich listing: the sort key and order from its query
 * string (?sort=name|size|time&order=asc|desc), and JSON from its Accept header. */
enum hs__rich_sort { HS__RICH_BY_NAME, HS__RICH_BY_SIZE, HS__RICH_BY_TIME };
struct hs__rich_view {
	enum hs__rich_sort sort;
	bool desc;
	bool json;
};

/* One entry with what lstat tells (a link's size is its target's, as caddy shows it). */
struct hs__rich_entry {
	const char *name;
	size_t name_len;
	bool is_dir;  /* follows links, as Python's isdir */
	bool is_link;
	bool known;   /* lstat answered: size, mtime and mode are set */
	int64_t size;
	struct timespec mtime;
	uint32_t mode; /* lstat's st_mode */
};

#define HS__RICH_SIZE_MAX 16 /* "1023.9 KiB" and a NUL, with room */
#define HS__RICH_TIME_MAX 48 /* "2025-03-17T14:03:07.123456789Z" and a NUL, with room */

/* The view the request target's query string asks for; name ascending by default. */
void hs__rich_view_parse(struct hs__rich_view *v, const char *target, size_t n);
/* Whether an Accept header names application/json (any case), as caddy's browse asks. */
bool hs__rich_accepts_json(const struct hs_header *h, size_t nh);
/* The listing cache's variant for a view: never 0, which is Python's page. */
uint32_t hs__rich_variant(const struct hs__rich_view *v);
/* Directories first, then the view's key, ties by name; desc reverses the key. */
void hs__rich_sort(struct hs__rich_entry *e, size_t n, const struct hs__rich_view *v);
/* "0 B" ... "1023 B", then "1.0 KiB" ... "8.0 EiB" (one decimal, rounded). */
size_t hs__rich_human_size(char out[HS__RICH_SIZE_MAX], int64_t size);
/* t in UTC as ISO 8601 ("2025-03-17T14:03:07Z"); with frac, the nanoseconds too, their
 * trailing zeros dropped, as RFC 3339 with Go's sub-second precision. 0 if t cannot
 * be shown (out is then ""). */
size_t hs__rich_iso_time(char out[HS__RICH_TIME_MAX], const struct timespec *t, bool frac);
/* The bytes of s as the body of a JSON string: " \ and controls escaped, < > & and
 * U+2028/U+2029 as \u escapes, each byte of invalid UTF-8 as U+FFFD. */
int hs__json_escape(struct hs__buf *out, const char *s, size_t n);
/* The page up to the entries' rows: title and heading (display), column heads linking
 * to the other orders, and a parent row unless display is "/". */
int hs__rich_render_head(struct hs__buf *out, const char *display, size_t dn,
                         const struct hs__rich_view *v);
/* One row per entry and the page's end: what the listing cache keeps. */
int hs__rich_render_rows(struct hs__buf *out, const struct hs__rich_entry *e, size_t n);
/* The entries as a JSON array of caddy's fields; entries lstat could not see are left
 * out, as caddy leaves them out. */
int hs__rich_render_json(struct hs__buf *out, const struct hs__rich_entry *e, size_t n);

/* ---------------------------------------------------------- parser (parse.c) */

/* Limits as Python's (request line and header lines 65536 bytes with their line end,
 * 100 header lines) plus a cap on the whole head. */
#define HS__MAX_LINE 65536
#define HS__MAX_HEADERS 100
#define HS__MAX_HEAD (256 * 1024)
#define HS__MAX_CHUNK_EXT 4096
#define HS__MAX_TRAILER 8192

struct hs__span {
	const char *p;
	size_t n;
};

/* Finds the end of the request line in buf. Returns the line's length including its
 * "\n" (> 0); 0 when more bytes are needed; -1 when the line, terminator included,
 * exceeds HS__MAX_LINE bytes (414). *scanned is how much of buf earlier calls already
 * searched (start at 0); it lets a slow client never cost a rescan. */
long hs__find_line(const char *buf, size_t len, size_t *scanned);

/* Progress of hs__line_start_refused over a request line still arriving; zero it
 * before the first call. */
struct hs__line_check {
	size_t checked;    /* bytes already examined, but for a run of CRs after them */
	size_t crs;        /* that run's length: the line's end, unless another byte follows */
	bool method_begun; /* a byte of the first word was seen */
};

/* Whether the request line begun in buf[0..len), whose "\n" has not arrived, can
 * already be refused with 400: it holds a control byte RFC 9112 forbids (a CR only once
 * the next byte shows it is not the line's end), or its first word begins with a byte
 * no method can begin with (a TLS handshake sent to a plain port). The same rules as
 * hs__parse_request_line's first check, so the answer does not depend on how the line
 * arrives; each byte is examined once however slowly it comes. */
bool hs__line_start_refused(const char *buf, size_t len, struct hs__line_check *st);

enum hs__reqline_status {
	HS__RL_OK,
	HS__RL_EMPTY,            /* no words: close silently */
	HS__RL_BAD_VERSION,      /* 400 "Bad request version (%r)" of version */
	HS__RL_VERSION_TOO_HIGH, /* 505 "Invalid HTTP version (%s)" of version_number */
	HS__RL_BAD_SYNTAX,       /* 400 "Bad request syntax (%r)" of line */
	HS__RL_BAD_09_METHOD,    /* 400 "Bad HTTP/0.9 request type (%r)" of method */
};

struct hs__reqline {
	struct hs__span line;           /* the line without its trailing CR and LF bytes */
	struct hs__span method, target; /* words 1 and 2 */
	struct hs__span version;        /* the last word ("HTTP/1.1"); empty for HTTP/0.9 */
	struct hs__span version_number; /* version after "HTTP/" ("1.1") */
	unsigned long long major, minor; /* 0.9 for a two-word line */
};

/* BaseHTTPRequestHandler.parse_request's checks of the request line (n bytes, its
 * "\n" included or not), after a check of our own: a control byte RFC 9112 forbids
 * (all but HTAB), or a first word that cannot begin a method, is HS__RL_BAD_SYNTAX.
 * Then in Python's order: words split on Python's whitespace
 * (str.split() of the latin-1 text), the version word checked when there are three or
 * more words, then the word count, then HTTP/0.9's GET-only rule. Fills *rl as far as
 * it got; the spans point into line. */
enum hs__reqline_status hs__parse_request_line(const char *line, size_t n,
                                               struct hs__reqline *rl);

/* A parsed request line kept while the rest of its head arrives: the same spans as
 * offsets from the line's start, as the buffer holding it may move meanwhile. */
struct hs__span_at {
	size_t off, n;
};

struct hs__reqline_at {
	struct hs__span_at line, method, target, version, version_number;
	unsigned long long major, minor;
};
void hs__reqline_save(struct hs__reqline_at *at, const struct hs__reqline *rl, const char *line);
void hs__reqline_load(struct hs__reqline *rl, const struct hs__reqline_at *at, const char *line);

/* The forms of a request target (RFC 9112 3.2) that a request may take here. */
enum hs__target_form {
	HS__TARGET_ORIGIN,         /* "/path?query", or anything without a scheme ("*") */
	HS__TARGET_ABSOLUTE,       /* "http://authority/path?query", or https */
	HS__TARGET_BAD_SCHEME,     /* a scheme other than http and https, or no "//" */
	HS__TARGET_BAD_AUTHORITY,  /* http(s) with an empty or invalid host, or userinfo */
};

/* Classifies the request target t (n bytes). For an absolute-form target, *authority
 * is its "host[:port]" and *rest what follows it, from the "/", "?" or "#" on (empty
 * when nothing follows); they are left alone otherwise. Pure. */
enum hs__target_form hs__target_split(const char *t, size_t n, struct hs__span *authority,
                                      struct hs__span *rest);
/* Whether s (n bytes) is RFC 9110's Host value, uri-host [ ":" port ]: a reg-name (an
 * IPv4 address is one), or "[" an IPv6 address or IPvFuture "]", then an optional ":"
 * and digits. An empty host is valid in a Host field (RFC 9112 3.2) but not in an
 * http URI: empty_ok says which. */
bool hs__host_valid(const char *s, size_t n, bool empty_ok);

struct hs__header_span {
	struct hs__span name, value; /* value without leading and trailing spaces/tabs */
};

enum hs__head_error {
	HS__HEAD_LINE_TOO_LONG = -1, /* 431 "Line too long" */
	HS__HEAD_TOO_MANY = -2,      /* 431 "Too many headers" */
	HS__HEAD_TOO_LARGE = -3,     /* 431: the head exceeds HS__MAX_HEAD */
	HS__HEAD_MALFORMED = -4,     /* 400: no colon, space before colon, bad name
	                                character, obs-fold, bare CR, NUL */
	HS__HEAD_PLAIN_HTTP = -5,    /* 400: plain HTTP sent to the HTTPS port */
};

/* Incremental state of a header block being received; zero it before the first call. */
struct hs__head_scan {
	size_t scanned;    /* bytes already examined */
	size_t line_start; /* offset where the current unfinished line starts */
	unsigned lines;    /* complete header lines seen so far */
};

/* Parses the header block that starts at buf (just after the request line) up to and
 * including its empty line ("\r\n" or "\n"). Returns the block's length (> 0) with
 * h[0..*nh) filled (h must hold HS__MAX_HEADERS entries), 0 when more bytes are needed,
 * or an hs__head_error as soon as one is certain, in the order Python would meet it
 * reading line by line. Pure: no I/O, no allocation, spans point into buf. */
long hs__parse_headers(const char *buf, size_t len, struct hs__head_scan *st,
                       struct hs__header_span *h, size_t *nh);

/* Incremental decoder of the chunked transfer coding; zero it before the first call. */
struct hs__chunked {
	int state;
	uint64_t remaining; /* bytes left in the current chunk */
	size_t side_len;    /* bytes of chunk extension or trailer seen, for the caps */
	bool done;          /* the last chunk and the trailer section are consumed */
};

/* Decodes buf[0..len) in place: the data bytes found are moved to the front of buf and
 * their count stored in *out_len. Returns the bytes consumed (every byte up to the end
 * of the message once done is set, never more), or -1 when the coding is malformed
 * (non-hex size, overflow, bare CR, missing CRLF after data, caps exceeded). */
long hs__chunked_decode(struct hs__chunked *st, char *buf, size_t len, size_t *out_len);

/* ------------------------------------------ listing cache (listing_cache.c) */

/* The rendered entries of directory listings, kept between requests by a struct
 * hs_static and shared by its workers (docs/design.md, "Listing cache"). A page is
 * found by the directory's identity and used only while the directory's stamp, read
 * by one fstat per request, is the one it was rendered under. */

#define HS__LCACHE_ENTRIES 64           /* directories at most */
#define HS__LCACHE_BYTES (8u << 20)     /* bytes of pages at most; one page a quarter */

struct hs__lcache_key {
	uint64_t dev, ino;
	uint32_t variant; /* 0: Python's page; else the rich listing's form (listing_rich.c) */
};

/* What a change to a directory's entries always changes, and an epoch the caller may
 * set: a page is used only within the epoch it was rendered in (0 for Python's page,
 * which holds nothing the directory's stamp does not follow). */
struct hs__lcache_stamp {
	struct timespec mtime, ctime;
	int64_t size;
	int64_t epoch;
};

struct hs__lcache;
struct hs__lpage; /* a cached page, shared by reference */

/* Buffers for reading and rendering one directory, reused from listing to listing. */
struct hs__lscratch {
	struct hs__buf raw;  /* getdents64 records */
	struct hs__buf ents; /* struct hs__dirent, names pointing into raw */
	struct hs__buf body; /* the rendered entries */
	struct hs__buf rich; /* struct hs__rich_entry, for the rich listing */
};

/* A cache of at most max_entries pages and max_bytes bytes. Returns 0 or -ENOMEM. */
int hs__lcache_new(struct hs__lcache **out, size_t max_entries, size_t max_bytes);
/* Frees the cache and its pages; pages still referenced are freed by their release. */
void hs__lcache_free(struct hs__lcache *lc);
/* The racy rule: whether a page read under stamp s at time now may be kept. A change
 * made in the same timestamp tick as the last one would not change the stamp, so a
 * directory changed (mtime or ctime) less than 2 s before now, or in the future, is
 * never cached (git's "racily clean" rule). */
bool hs__lcache_settled(const struct hs__lcache_stamp *s, const struct timespec *now);
/* The page of key if it was rendered under stamp s: a reference (hs__lpage_release it)
 * and its bytes in *body. A page of key under another stamp is dropped. NULL when
 * there is none; lc may be NULL (no cache). */
struct hs__lpage *hs__lcache_get(struct hs__lcache *lc, const struct hs__lcache_key *key,
                                 const struct hs__lcache_stamp *s, struct hs__span *body);
void hs__lpage_release(struct hs__lpage *p);
/* Keeps a copy of body as the page of key under stamp s, read at time now, evicting the
 * least recently used pages to stay within the bounds. Returns 0; -EAGAIN when the
 * stamp is not settled; -EFBIG for a page over a quarter of the bytes; -ENOMEM
 * (also when lc is NULL). Nothing is kept on failure. */
int hs__lcache_put(struct hs__lcache *lc, const struct hs__lcache_key *key,
                   const struct hs__lcache_stamp *s, const struct timespec *now,
                   const char *body, size_t len);
/* A set of scratch buffers, from the cache's spares or new (lc may be NULL); NULL when
 * out of memory. Give it back when done: a few are kept for the next listings. */
struct hs__lscratch *hs__lcache_take_scratch(struct hs__lcache *lc);
void hs__lcache_give_scratch(struct hs__lcache *lc, struct hs__lscratch *s);

/* ----------------------------------------------------- event loop (loop.c) */

struct epoll_event;

/* Something the loop watches: the epoll data pointer of every registered fd. */
struct hs__io {
	int fd;
	void (*on_event)(struct hs__io *io, uint32_t events);
};

/* A deadline in the loop's min-heap. Moving a deadline later costs nothing (the heap
 * key stays, the timer is re-queued when the old key expires); moving it earlier sifts. */
struct hs__timer {
	int64_t deadline_ms; /* when to fire */
	int64_t key_ms;      /* the deadline the heap is ordered by */
	size_t heap_index;   /* SIZE_MAX when not queued */
	void (*fire)(struct hs__timer *t);
};

struct hs__loop {
	int epfd;
	struct hs__timer **heap;
	size_t nheap, heap_cap;
	int64_t now_ms;  /* CLOCK_MONOTONIC, read once per iteration */
	time_t wall_sec; /* CLOCK_REALTIME seconds, read once per iteration */
	uint64_t iteration; /* epoll_wait returns and accept batches so far (server.c): what
	                     * lives "one iteration" checks */
	/* the events being dispatched: hs__loop_del forgets an io's pending entry, so a
	 * callback may free another io (a CGI pipe, a connection) safely */
	struct epoll_event *batch;
	int batch_n;
};

int hs__loop_init(struct hs__loop *l);
void hs__loop_fini(struct hs__loop *l);
int hs__loop_add(struct hs__loop *l, struct hs__io *io, uint32_t events);
void hs__loop_del(struct hs__loop *l, struct hs__io *io);
/* Re-registers io: an edge-triggered fd that still has input gets a new event, for a
 * reader that stopped before EAGAIN to be fair to others. */
int hs__loop_rearm(struct hs__loop *l, struct hs__io *io, uint32_t events);
/* Queues or moves t to fire at deadline_ms; -ENOMEM if the heap cannot grow. */
int hs__timer_set(struct hs__loop *l, struct hs__timer *t, int64_t deadline_ms);
void hs__timer_cancel(struct hs__loop *l, struct hs__timer *t);
/* Waits for events (no longer than the next deadline or max_wait_ms), dispatches them,
 * then fires expired timers. Returns the number of events, or a negative errno. */
int hs__loop_once(struct hs__loop *l, int max_wait_ms);
void hs__loop_update_time(struct hs__loop *l);
/* CLOCK_MONOTONIC in milliseconds, read now (the loop's now_ms is its value at the last
 * wake-up). */
int64_t hs__monotonic_ms(void);

/* ------------------------------------------------------- sockets (net.c) */

/* Resolves host/port (host NULL: dual-stack "::", else "0.0.0.0") and listens on n
 * sockets, fds[0..n): one plain socket, or a SO_REUSEPORT group of n (one per worker)
 * on a port that was free. Returns 0 or a negative errno (-ENOENT: does not resolve). */
int hs__listen(const char *host, const char *port, int backlog, int *fds, int n);
/* Numeric host and port of a socket address; "::ffff:1.2.3.4" kept as Python shows it. */
void hs__sockaddr_string(const void *sa, char *host, size_t host_size, int *port);

/* ------------------------------------------------------- the server engine */

struct hs__worker;

enum hs__conn_state {
	HS__READ_HEAD, /* waiting for or parsing a request head */
	HS__READ_BODY, /* receiving the request body before the handler runs */
	HS__WRITE,     /* sending a queued response */
	HS__DEFERRED,  /* the slot returned after hs_defer: the handler completes it later */
	HS__LINGER,    /* closing: response sent, discarding what the client still sends */
	HS__HANDSHAKE, /* TLS: the handshake, before the first head, under the head's deadline */
	HS__POOL,      /* lent to the handler pool: a pool thread runs the slot (pool.c) */
};

/* One file range of a response body: out.data up to out_end goes before it, so part
 * heads of a multipart/byteranges body can lie between ranges (hs_send_file). */
struct hs__file_seg {
	size_t out_end;
	long long off, len;
};

struct hs_conn {
	struct hs__io io;
	struct hs__timer timer;
	struct hs__worker *w;
	struct hs_conn *prev, *next; /* the worker's list of open connections */
	enum hs__conn_state state;
	struct hs__tls_conn *tls; /* the TLS transport (NULL: plain) */

	/* input: the current request starts at in.data[0] */
	struct hs__buf in;
	bool drained;      /* all the socket had is read: more input comes with an EPOLLIN event */
	bool peer_done;    /* an event said the peer shut down its side (or hung up) */
	bool paced;        /* TCP_NOTSENT_LOWAT is set on the socket (conn.c: pace_file) */
	bool registered;   /* io.fd is in the epoll set (from its first wait on) */
	size_t line_len;   /* request line length with its "\n", once found */
	struct hs__reqline_at line; /* its parse, once line_len is set (and it is valid) */
	size_t line_scan;  /* hs__find_line progress */
	struct hs__line_check line_check; /* hs__line_start_refused progress */
	struct hs__head_scan head_scan;
	size_t head_len;   /* line + header block, once complete */
	bool http09;

	/* request body, read whole before the handler runs */
	long long body_left;  /* Content-Length bytes still to receive */
	bool chunked;
	struct hs__chunked chunk;
	struct hs__buf body;
	size_t body_off;      /* hs_read_body position */

	/* output: out.data[out_off..] then the file */
	struct hs__buf out;
	size_t out_off;
	int file_fd;
	long long file_off, file_left; /* the file range being sent */
	struct hs__buf segs;           /* queued file ranges (struct hs__file_seg), in order */
	size_t seg_next;               /* the next of segs to send */

	/* the request being handled (valid while the handler runs) */
	const struct hs_request *req;
	bool close_connection;
	bool force_http10;  /* errors before the version is known: a full HTTP/1.0 answer */
	bool client_done;   /* the client will send nothing more: "close", or HTTP/1.0 */
	bool said_connection; /* the response has a Connection header */
	const char *extra_all; /* lines hs_end_headers adds to a final response (NULL: none) */
	size_t extra_all_len;
	const char *extra_ok;  /* lines a static 200/206 adds (NULL: none) */
	size_t extra_ok_len;
	int status_code;      /* of the response being written (1xx for an interim one) */
	uint64_t woke_iteration; /* the loop iteration that this request waited for (its
	                            epoll_wait reported it, or it was read when accepted
	                            before that iteration began); 0 once one request of it
	                            is done, or when it was not whole then */
	bool responded;     /* the handler queued something */
	int out_error;      /* sticky: building the response failed (negative errno) */

	/* a body streamed to the slot (handler->stream_body): hs_read_body reads the socket;
	 * `body` then holds only decoded chunk data not yet taken */
	bool streaming;
	bool body_wanted;    /* hs_read_body said -EAGAIN: on_body when more arrives */
	int stream_error;    /* sticky: the body stream failed (negative errno) */
	long long body_seen; /* decoded bytes of a streamed chunked or dropped body (max_body) */
	bool dropping;       /* handler->ignore_body: body bytes are counted, not kept */

	/* a deferred response (hs_defer) */
	const struct hs_defer_ops *dops;
	void *darg;
	bool deferred;       /* hs_defer was called for this request */
	bool finished;       /* hs_finish was called (or on_abort delivered) */
	bool failed;         /* the socket failed: close (and on_abort) from the timer */
	bool drain_wanted;   /* hs_flush left bytes: on_drain once all are sent */
	bool in_run;         /* conn_run is on the stack: it picks up hs_finish */
	uint32_t events;     /* what the wakeups since the last step reported */
	int64_t send_deadline_ms, body_deadline_ms; /* 0: none running */
	struct hs__buf own_words;      /* the request view, copied by hs_defer */
	struct hs_header *own_headers;
	size_t own_headers_cap;
	struct hs_request own_req;

	/* a blocking handler's slot, run by a pool thread (pool.c) */
	struct hs_conn *lent_next; /* the worker's list of connections given back */
	uint32_t lent_events; /* epoll events that came while lent (the worker's alone) */
	int pool_error;      /* sticky: the client is gone, or a wait failed (negative errno) */
	int pool_cancel_fd;  /* readable once the pool's waits must end */
	size_t out_dropped;  /* bytes of this response sent and dropped from out's front */
	size_t out_start;    /* out's length when the slot began: what the engine queued */
	hs_method_fn *pool_slot; /* what the pool thread runs (hs_run_blocking) */

	char addr[64];
	int port;
};

struct hs__file_cache; /* static.c */

/* Per-thread state: everything a worker touches on the request path is here, so the
 * request path takes no lock. */
struct hs__worker {
	struct hs_server *srv;
	int index;
	struct hs__loop loop;
	struct hs__io listen_io;
	struct hs__io wake_io; /* eventfd written by hs_server_shutdown */
	int reserve_fd;        /* kept open to be given up when descriptors run out (-1 when
	                        * another thread took the descriptor it freed) */
	struct hs__timer accept_timer; /* out of descriptors: when to listen again */
	bool accept_paused;    /* the listener is out of the epoll set until accept_timer */
	pthread_t thread;
	bool started;

	struct hs_conn *conns; /* open connections */
	struct hs_watch *watches; /* hs_watch_new's watches, which may outlive connections */
	size_t nconns;
	struct hs_conn *spare; /* closed connections kept for reuse, buffers included */
	size_t nspare;
	void *idle_bufs;       /* IN_CHUNK-sized buffers given back by idle connections */
	size_t nidle_bufs;

	bool draining;
	int64_t drain_deadline_ms;

	/* the handler pool (pool.c) */
	bool pool_thread;          /* this is a pool thread's state, not a worker */
	struct hs_conn *returned;  /* connections given back, pushed by pool threads */
	size_t nlent;              /* connections lent to the pool and not yet back */

	struct hs__buf log;           /* whole lines waiting for one write */
	char date[HS__HTTPDATE_LEN + 1];
	time_t date_sec;
	char logdate[HS__LOGDATE_LEN + 1];
	time_t logdate_sec;

	/* scratch for the request being dispatched */
	struct hs__header_span spans[HS__MAX_HEADERS];
	struct hs_header headers[HS__MAX_HEADERS + 2]; /* room for a Host from the target */
	struct hs__buf words;   /* "requestline\0command\0path\0version\0" */
	const char *authority;  /* in words: an absolute-form target's host[:port], or NULL */
	struct hs__buf scratch; /* for handlers: listings, messages */
	struct hs__buf scratch2; /* request.c's error messages */
	struct hs__buf errpage;  /* send_error's page */
	struct hs__file_cache *file_cache; /* static.c's small files of this iteration */
	struct hs_request req;
};

struct hs_server {
	const struct hs_handler *handler;
	struct hs_options opt; /* with defaults filled in */
	char port_text[8];
	int *listen_fds;       /* one per worker (NULL: a detached server, no listener); a
	                        * worker closes its own when the drain begins and sets it -1 */
	char host[64];
	int port;
	int nworkers;
	struct hs__worker *workers;
	size_t max_conns_per_worker;
	char version_string[128];
	int stopping;          /* set by hs_server_shutdown, read by workers: __atomic only */
	bool embedded;         /* hs_server_embed: workers[0] runs in the caller's steps */
	struct hs__tls_context *tls; /* NULL: plain HTTP */
	struct hs__pool *pool;       /* a blocking handler's threads (NULL: none) */
};

/* -------------------------------------------- TLS (tls_context.c and tls.c) */

/* The server's TLS context (tls_context.c): the SSL_CTX that new connections use, made
 * from hs_tls_options (files, a self-signed certificate, or the application's SSL_CTX)
 * with the protocol settings httpserve.h promises, and replaced whole by a reload. The
 * workers share it: hs__tls_context_get takes a reference under a lock, so a reload
 * never pulls a context from under a handshake. Only tls_context.c and tls.c include
 * OpenSSL; elsewhere an SSL_CTX is a void *. */
struct hs__tls_context;

/* Makes the context. bound_host is the numeric address the server is bound to (for the
 * self-signed certificate's names). On failure writes one line to why (which file and
 * why: missing, unreadable, not PEM, key does not match, wrong password) and returns a
 * negative errno. */
int hs__tls_context_new(struct hs__tls_context **out, const struct hs_tls_options *o,
                        const char *bound_host, char *why, size_t why_size);
void hs__tls_context_free(struct hs__tls_context *t);
/* hs_server_reload_tls: the files read again; on failure the old context stays. */
int hs__tls_context_reload(struct hs__tls_context *t, char *why, size_t why_size);
/* The SHA-256 fingerprint of the current certificate, "AB:CD:..." (95 chars + NUL). */
int hs__tls_context_fingerprint(struct hs__tls_context *t, char out[96]);
/* The current SSL_CTX with a reference taken; give it back with hs__tls_context_put. */
void *hs__tls_context_get(struct hs__tls_context *t);
void hs__tls_context_put(void *ssl_ctx);
/* The BIO_METHOD through which tls.c gathers a connection's records (made by tls.c,
 * one per context, living as long as the context). */
void *hs__tls_context_batch_method(struct hs__tls_context *t);
void *hs__tls_batch_method_new(void);
void hs__tls_batch_method_free(void *method);

/* One TLS connection (tls.c): conn.c reads, writes and sends files through these when
 * c->tls is set, and sees "want more" as -EAGAIN, as from a socket. */
struct hs__tls_conn;
/* Whether the first bytes waiting on fd are a TLS handshake record: 1 yes, 0 no (plain
 * HTTP sent to the HTTPS port), -EAGAIN nothing yet, another negative errno on error. */
int hs__tls_sniff(int fd);
/* Sets up c->tls for the connection's socket; -ENOMEM or -EIO. */
int hs__tls_open(struct hs_conn *c, struct hs__tls_context *t);
/* Advances the handshake: 1 done, -EAGAIN wants the socket, another negative errno when
 * it failed (logged by the caller, the connection closed). */
int hs__tls_handshake(struct hs_conn *c);
/* recv, send and sendfile over TLS: bytes (> 0), 0 at the end of the stream (read),
 * -EAGAIN, or a negative errno. A write refused with -EAGAIN is retried with the same
 * bytes at the same place (more after them is allowed). A write longer than a record,
 * and every file, goes out as a batch of records: a byte counts as sent only once its
 * record is wholly in the socket, and the records made beyond that wait in tls.c, so a
 * write or sendfile that did not finish is called again for the same bytes or range
 * before anything else is written (other writes wait behind the batch: -EAGAIN). */
long hs__tls_read(struct hs_conn *c, void *buf, size_t len);
long hs__tls_write(struct hs_conn *c, const void *buf, size_t len);
long hs__tls_sendfile(struct hs_conn *c, int fd, off_t *off, size_t len);
/* An idle connection gives back OpenSSL's read and write buffers. */
void hs__tls_idle(struct hs_conn *c);
/* close_notify (best effort, never waits), then frees c->tls. */
void hs__tls_close(struct hs_conn *c);

/* server.c: for the driven tests. A server that does not listen, and a way to serve
 * one connected socket (a socketpair end; ownership taken) on the calling thread until
 * the connection closes. */
int hs__server_new_detached(struct hs_server **out, const struct hs_options *o,
                            const struct hs_handler *h);
int hs__server_serve_socket(struct hs_server *s, int fd);

/* conn.c. A new connection is set up with what its socket holds read (NULL: refused or
 * ended), then run once the caller has begun a new loop iteration (server.c). */
struct hs_conn *hs__conn_open(struct hs__worker *w, int fd, const void *sa);
void hs__conn_start(struct hs_conn *c);
/* Answers a fresh connection 503 and closes it (the cap, or no descriptors left). */
void hs__conn_refuse(int fd);
void hs__conn_close(struct hs_conn *c);
void hs__conn_drain(struct hs_conn *c);
void hs__conn_free_spare(struct hs__worker *w);
/* hs_read_body of a streamed body: bytes, 0 at the end, -EAGAIN (on_body follows for a
 * deferred response), -EBADMSG (malformed chunks), -EFBIG (over max_body),
 * -ECONNRESET (the client left before the end). */
long hs__stream_read(struct hs_conn *c, void *buf, size_t len);

/* watch.c: a watch is an fd and/or a deadline on a worker's loop (hs_watch_new). */
struct hs_watch {
	struct hs__io io;
	struct hs__timer timer;
	struct hs__worker *w;
	hs_watch_fn *fn;
	void *arg;
	struct hs_watch *prev, *next; /* the worker's list */
	bool registered;              /* io.fd is in the epoll set */
	bool closing;                 /* inside its HS_WATCH_CLOSING callback */
};
/* The worker is stopping: every watch gets HS_WATCH_CLOSING once and is freed. */
void hs__watch_close_all(struct hs__worker *w);

/* request.c: from a complete head to the handler. Each leaves the connection in the
 * state that comes next (READ_BODY, or WRITE with a response queued). */
int hs__request_prepare(struct hs_conn *c, size_t nheaders);
void hs__request_dispatch(struct hs_conn *c);
void hs__request_line_error(struct hs_conn *c, enum hs__reqline_status st,
                            const struct hs__reqline *rl);
/* 414, 413, 400 (body), or an hs__head_error from the header parser. */
void hs__request_head_error(struct hs_conn *c, long err);

/* response.c */
const char *hs__worker_date(struct hs__worker *w);
const char *hs__protocol_version(const struct hs_conn *c);
/* Whether responses on c speak HTTP/1.1 or later (persistent connections, 100-continue,
 * chunked responses). */
bool hs__speaks_http11(const struct hs_conn *c);
/* send_error with one more header (name NULL: none), such as 416's Content-Range. */
int hs__send_error_header(struct hs_conn *c, int code, const char *message,
                          const char *explain, const char *name, const char *value);
/* The line hs_send_header would send, "name: value\r\n", written into out[0..cap):
 * its length, or 0 when the header would be refused or does not fit. */
size_t hs__header_line(char *out, size_t cap, const char *name, const char *value);
/* Lines made by hs__header_line, none of them Connection, queued in one copy. */
int hs__send_header_lines(struct hs_conn *c, const char *lines, size_t n);

/* The handler pool (pool.c). hs__pool_start makes and starts it when the handler
 * blocks (before the workers run), hs__pool_stop joins it (after they stopped); a worker
 * lends a connection with hs__pool_submit (-EBUSY: the queue is full), and takes back
 * the ones returned to it with hs__pool_collect when its eventfd wakes it; it stops only
 * when none is lent. hs__pool_cancel, past the drain deadline, ends the slots' waits. */
struct hs__pool;
int hs__pool_start(struct hs_server *s);
void hs__pool_stop(struct hs_server *s);
int hs__pool_submit(struct hs_conn *c);
void hs__pool_collect(struct hs__worker *w);
void hs__pool_cancel(struct hs_server *s);

/* conn.c, for the pool: a connection back from its pool thread resumes on its worker;
 * on the pool thread, the waiting forms of sending and reading (0, bytes, or a negative
 * errno, sticky once the client is gone). hs__conn_flush_now sends what is queued as far
 * as the socket takes it now (flush_headers in a slot that does not block). */
void hs__conn_given_back(struct hs_conn *c);
static inline bool hs__conn_in_pool(const struct hs_conn *c)
{
	return c->w->pool_thread;
}
int hs__conn_pool_flush(struct hs_conn *c);
long hs__conn_pool_write(struct hs_conn *c, const void *buf, size_t len);
long hs__conn_pool_read(struct hs_conn *c, void *buf, size_t len);
int hs__conn_flush_now(struct hs_conn *c);
/* request.c: runs the request's slot and settles what it left (the pool thread's part
 * of dispatching). */
void hs__request_call_slot(struct hs_conn *c);

/* log.c */
void hs__log_line(struct hs__worker *w, const char *addr, const char *msg, size_t n);
void hs__log_flush(struct hs__worker *w);

/* loop.c: milliseconds from the monotonic clock's present to the loop's earliest
 * deadline (0: due; -1: none), for a caller that waits outside hs__loop_once. */
int hs__loop_timeout(const struct hs__loop *l);

/* net.c: a getaddrinfo failure (rc, with errno err for EAI_SYSTEM) as a negative errno. */
int hs__gai_errno(int rc, int err);

/* server.c defines the function hs_server_new that the header's macro of that name hides
 * (abi.c: hs_server_new_sized). */
#undef hs_server_new

/* static.c: what hs_static_init makes, read by the CGI handler too. */
struct hs__static_private {
	int root_fd;
	char *root_real;
	struct hs__mime *mime;
	struct hs__lcache *listing_cache; /* rendered listings, shared by the workers */
	struct hs__flags *flags; /* the header lines of the optional settings, made once */
};

/* flags.c: the header lines of hs_static's optional settings (response_headers,
 * cors_origins, no_cache), made once from the settings and kept until hs_static_fini. */
struct hs__span_owned {
	char *p;
	size_t n;
};
struct hs__flags {
	struct hs__span_owned ok;  /* response_headers: a file's 200 or 206, a listing's 200 */
	struct hs__span_owned *all; /* every response: [0] any origin or none matching,
	                               [1 + i] when the Origin is cors_origins[i] */
	size_t nall;
	bool origin_list;          /* cors_origins names origins: choose by Origin */
	char allow_methods[32];    /* "GET, HEAD" or "GET, HEAD, POST" */
	char allow[40];            /* the same and OPTIONS, for Allow */
};
/* The settings' lines, made on first use (NULL: out of memory). */
const struct hs__flags *hs__flags_get(struct hs_static *st);
void hs__flags_free(struct hs__flags *f);
/* Whether any of those settings is on (static.c). */
bool hs__static_adds_headers(const struct hs_static *st);
/* Points c's response at the settings' lines: those of every response (the block for
 * the request's Origin when origins are listed) and those of a 200. NULL: no memory. */
const struct hs__flags *hs__static_use_flags(struct hs_static *st, struct hs_conn *c,
                                             const struct hs_request *r);
/* The index of origin in origins (ASCII case ignored), or -1. */
int hs__cors_origin_index(const char *const *origins, const char *origin);
/* Whether v is a comma-separated list of header names (tokens, optional whitespace),
 * as Access-Control-Request-Headers must be to be echoed. */
bool hs__token_list_ok(const char *v);
/* Whether a missing path (rel, translated) may fall back to the index page: its last
 * segment is not empty and has no '.'. */
bool hs__spa_fallback(const char *rel);

struct stat;

/* os.listdir with each name's isdir and islink (static.c): the entries into s->ents,
 * their names pointing into s->raw; *cacheable tells whether they depend on the
 * directory alone (no symlink among them, and it can be searched). */
int hs__static_read_dir(int dfd, struct hs__lscratch *s, size_t *count, bool *cacheable);
/* The rich listing of the open directory dfd (consumed), whose fstat is dst, for the
 * decoded URL path display (listing_rich.c). */
int hs__rich_list(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                  int dfd, const struct stat *dst, const char *display, size_t dn);

#endif
