/*
 * static.c: SimpleHTTPRequestHandler. Maps the URL to a file under the served directory
 * (translate_path), redirects directories missing their slash, serves index pages, the
 * listing (Python's, listing.c; the rich one, listing_rich.c; or none), or the file with
 * Python's headers and If-Modified-Since, plus what Python lacks: ETag and the
 * conditions of RFC 9110 13 (conditional.c), Range with 206, multipart/byteranges and
 * 416 (range.c), and precompressed siblings chosen by Accept-Encoding (encoding.c).
 * Files are opened relative to a descriptor of the root, never by a path joined as
 * text. Small whole files travel in the same write as their head, and are kept for the
 * rest of the loop iteration (the small-file cache); larger ones and every range go by
 * sendfile from their offset.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chars.h"
#include "internal.h"
#include "range.h"

#define INLINE_FILE_MAX 16384

static const char *const default_index_pages[] = {"index.html", "index.htm", NULL};
static const char *const python_extensions_map[] = {
	".gz", "application/gzip", ".Z", "application/octet-stream",
	".bz2", "application/x-bzip2", ".xz", "application/x-xz", NULL,
};

static struct hs_static *self_of(const struct hs_handler *h)
{
	return (struct hs_static *)h;
}

/* ------------------------------------------------------------ guess_type */

static const char *ext_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	while (*base == '.')
		base++; /* posixpath.splitext: leading dots are not an extension */
	return strrchr(base, '.');
}

static const char *map_lookup(const char *const *map, const char *ext)
{
	for (size_t i = 0; map[i] && map[i + 1]; i += 2)
		if (strcmp(map[i], ext) == 0)
			return map[i + 1];
	return NULL;
}

const char *hs_static_guess_type(const struct hs_static *st, const char *path)
{
	if (st->guess_type)
		return st->guess_type(st, path);
	const char *const *map = st->extensions_map ? st->extensions_map : python_extensions_map;
	const char *ext = ext_of(path);
	if (ext) {
		const char *t = map_lookup(map, ext);
		if (!t) {
			char lower[32];
			size_t n = strlen(ext);
			if (n < sizeof lower) {
				for (size_t i = 0; i <= n; i++)
					lower[i] = (char)((ext[i] >= 'A' && ext[i] <= 'Z') ? ext[i] + 32 : ext[i]);
				t = map_lookup(map, lower);
			}
		}
		if (t)
			return t;
	}
	return hs__mime_guess(st->priv->mime, path, strlen(path));
}

int hs_static_translate_path(const struct hs_static *st, const char *path, char *out,
                             size_t out_size)
{
	bool slash;
	(void)st;
	return hs__translate_path(path, strlen(path), out, out_size, &slash);
}

/* ------------------------------------------------------------ listing */

/* A record of getdents64 (the kernel's struct linux_dirent64). */
struct dirent_rec {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Every getdents64 record of the directory into raw, which keeps its capacity for the
 * next listing (a 1,000-entry directory is 2 or 3 calls). */
static int read_records(int dfd, struct hs__buf *raw)
{
	raw->len = 0;
	for (;;) {
		int rc = hs__buf_reserve(raw, 32768);
		if (rc < 0)
			return rc;
		ssize_t got = getdents64(dfd, raw->data + raw->len, raw->cap - raw->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : 0;
		raw->len += (size_t)got;
	}
}

/* Python's isdir (follows links) and islink for one entry. When the directory can be
 * searched (fast), d_type answers for everything but links and unknown types, without
 * a system call; otherwise each entry is stat'ed as Python does (and every stat fails
 * alike where Python's would). Returns whether the answer depends on the directory's
 * entries alone, which its stamp follows: not so for a symlink, whose target may
 * change while the directory does not. */
static bool classify(int dfd, const char *name, unsigned char type, bool fast,
                     struct hs__dirent *e)
{
	struct stat st;
	if (fast && type != DT_LNK && type != DT_UNKNOWN) {
		e->is_dir = type == DT_DIR;
		return true;
	}
	if (fast && type == DT_LNK) {
		e->is_link = true;
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return false; /* neither: where lstat fails, so does stat */
	} else if (!S_ISLNK(st.st_mode)) {
		e->is_dir = S_ISDIR(st.st_mode); /* a non-link's stat is its lstat */
		return fast;
	} else {
		e->is_link = true;
	}
	e->is_dir = fstatat(dfd, name, &st, 0) == 0 && S_ISDIR(st.st_mode);
	return false;
}

/* os.listdir with each name's isdir and islink: the entries into s->ents, their names
 * pointing into s->raw. *cacheable tells whether they depend on the directory alone.
 * A stat of "." tells whether the directory can be searched: Python's stat of each
 * entry needs that permission, d_type does not. */
int hs__static_read_dir(int dfd, struct hs__lscratch *s, size_t *count, bool *cacheable)
{
	struct stat st;
	int rc = read_records(dfd, &s->raw);
	bool fast = rc == 0 && fstatat(dfd, ".", &st, 0) == 0;
	*count = 0;
	*cacheable = fast;
	s->ents.len = 0;
	for (size_t off = 0; rc == 0 && off < s->raw.len;) {
		const struct dirent_rec *d = (const void *)(s->raw.data + off);
		off += d->d_reclen;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		struct hs__dirent e = {.name = d->d_name, .name_len = strlen(d->d_name)};
		*cacheable &= classify(dfd, d->d_name, d->d_type, fast, &e);
		rc = hs__buf_append(&s->ents, &e, sizeof e);
		*count += rc == 0;
	}
	return rc;
}

/* Sorts the n entries of s->ents, with the room after them as the merge's buffer when
 * there is memory for it, in place otherwise. */
static void sort_entries(struct hs__lscratch *s, size_t n)
{
	struct hs__dirent *list;
	if (n < 2)
		return;
	if (hs__buf_reserve(&s->ents, n * sizeof *list) < 0) {
		hs__listing_sort((struct hs__dirent *)(void *)s->ents.data, n);
		return;
	}
	list = (struct hs__dirent *)(void *)s->ents.data;
	hs__listing_sort_buf(list, n, list + n);
}

/* A listing has no validators: If-Match with a tag fails (412), If-None-Match "*" is
 * 304 (RFC 9110 13.1.1, 13.1.2); dates do not apply. */
static int listing_precondition(struct hs_conn *c, enum hs__precondition pc)
{
	if (pc == HS__PRECOND_FAILED)
		return hs_send_error(c, 412, NULL, NULL);
	hs_send_response(c, 304, NULL);
	return hs_end_headers(c);
}

/* The 200: the head (its title shows display), the entries' lines, the tail. */
static int send_listing(struct hs_conn *c, const struct hs_request *r, const char *display,
                        size_t dn, const char *body, size_t blen)
{
	struct hs__buf *page = &c->w->scratch;
	page->len = 0;
	if (hs__listing_render_head(page, display, dn) < 0)
		return hs_send_error(c, 500, NULL, NULL);
	size_t head = page->len;
	if (hs__listing_render_tail(page) < 0)
		return hs_send_error(c, 500, NULL, NULL);
	char len_text[HS__INT_TEXT_MAX];
	hs__int_text(len_text, (long long)(page->len + blen));
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-type", "text/html; charset=utf-8");
	hs_send_header(c, "Content-Length", len_text);
	if (c->extra_ok_len)
		hs__send_header_lines(c, c->extra_ok, c->extra_ok_len);
	hs_end_headers(c);
	if (strcmp(r->command, "GET") == 0) {
		hs_write(c, page->data, head);
		hs_write(c, body, blen);
		hs_write(c, page->data + head, page->len - head);
	}
	return 0;
}

/* The stamp of a directory as its fstat gives it (the cache's validator). */
static struct hs__lcache_stamp stamp_of(const struct stat *st)
{
	return (struct hs__lcache_stamp){.mtime = st->st_mtim, .ctime = st->st_ctim,
	                                 .size = (int64_t)st->st_size};
}

/* A listing the cache did not have: read, sort and render the entries, keep them when
 * they depend on the directory alone (and the racy rule allows), send. dfd is consumed.
 * The time is taken before reading, the stamp (dst) before that: a change made after
 * the stamp was read changes the stamp the next request sees. */
static int list_fresh(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                      int dfd, const struct stat *dst, const char *display, size_t dn)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct hs__lscratch *s = hs__lcache_take_scratch(self->priv->listing_cache);
	size_t n = 0;
	bool cacheable = false;
	int rc = s ? hs__static_read_dir(dfd, s, &n, &cacheable) : -ENOMEM;
	close(dfd);
	if (rc < 0) {
		hs__lcache_give_scratch(self->priv->listing_cache, s);
		return rc == -ENOMEM ? hs_send_error(c, 500, NULL, NULL)
		                     : hs_send_error(c, 404, "No permission to list directory", NULL);
	}
	sort_entries(s, n);
	struct hs__dirent *list = (struct hs__dirent *)(void *)s->ents.data;
	s->body.len = 0;
	rc = hs__listing_render_entries(&s->body, list, n);
	if (rc == 0 && cacheable) {
		struct hs__lcache_key key = {.dev = (uint64_t)dst->st_dev, .ino = (uint64_t)dst->st_ino};
		struct hs__lcache_stamp stamp = stamp_of(dst);
		/* not kept (racy, too large, out of memory): the next request renders again */
		(void)hs__lcache_put(self->priv->listing_cache, &key, &stamp, &now, s->body.data, s->body.len);
	}
	rc = rc < 0 ? hs_send_error(c, 500, NULL, NULL)
	            : send_listing(c, r, display, dn, s->body.data, s->body.len);
	hs__lcache_give_scratch(self->priv->listing_cache, s);
	return rc;
}

/* list_directory: the open directory dfd (consumed) whose fstat is dst. Its entries
 * come from the cache while dst's stamp is the one they were rendered under. */
static int list_directory(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                          int dfd, const struct stat *dst)
{
	static const struct hs__validators none = {0};
	enum hs__precondition pc = hs__preconditions(r->headers, r->nheaders, &none);
	if (pc != HS__PRECOND_PROCEED) {
		close(dfd);
		return listing_precondition(c, pc);
	}
	/* the title shows the decoded path without query or fragment (Python 3.14) */
	char small[512];
	size_t plen = strcspn(r->path, "?#");
	char *display = plen < sizeof small ? small : hs__malloc(plen + 1);
	if (!display) {
		close(dfd);
		return hs_send_error(c, 500, NULL, NULL);
	}
	size_t dn = hs__url_unquote(display, r->path, plen);
	if (self->listing == HS_LISTING_RICH) {
		int rc = hs__rich_list(self, c, r, dfd, dst, display, dn);
		if (display != small)
			free(display);
		return rc;
	}
	struct hs__lcache_key key = {.dev = (uint64_t)dst->st_dev, .ino = (uint64_t)dst->st_ino};
	struct hs__lcache_stamp stamp = stamp_of(dst);
	struct hs__span body;
	struct hs__lpage *hit = hs__lcache_get(self->priv->listing_cache, &key, &stamp, &body);
	int rc;
	if (hit) {
		close(dfd);
		rc = send_listing(c, r, display, dn, body.p, body.n);
		hs__lpage_release(hit);
	} else {
		rc = list_fresh(self, c, r, dfd, dst, display, dn);
	}
	if (display != small)
		free(display);
	return rc;
}

/* ------------------------------------------------------------ containment */

static bool inside_root(const struct hs_static *self, const char *real)
{
	size_t n = strlen(self->priv->root_real);
	if (n == 1) /* serving "/" */
		return true;
	return strncmp(real, self->priv->root_real, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* The slow way, for an absolute symlink (openat2 refuses those even when they lead
 * inside) or a kernel without openat2: resolve the whole path, check it lies under the
 * root, then open the resolved path refusing any symlink that appeared meanwhile. */
static int open_resolved(const struct hs_static *self, const char *rel, int flags)
{
	char via[PATH_MAX], real[PATH_MAX];
	if (snprintf(via, sizeof via, "/proc/self/fd/%d/%s", self->priv->root_fd, rel) >= (int)sizeof via)
		return -ENAMETOOLONG;
	if (!realpath(via, real))
		return -errno;
	if (!inside_root(self, real))
		return -EXDEV;
	if (self->symlinks == HS_SYMLINKS_DENY) {
		/* rel is lexically normal, so a path without links resolves to root/rel */
		char plain[PATH_MAX];
		bool root = strcmp(rel, ".") == 0;
		snprintf(plain, sizeof plain, "%s%s%s", self->priv->root_real, root ? "" : "/", root ? "" : rel);
		if (strcmp(plain, real) != 0)
			return -ELOOP;
	}
	struct open_how how = {.flags = (uint64_t)flags, .resolve = RESOLVE_NO_SYMLINKS};
	long fd = syscall(SYS_openat2, AT_FDCWD, real, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS)
		fd = open(real, flags | O_NOFOLLOW);
	return fd < 0 ? -errno : (int)fd;
}

/* Opens rel ("." for the root) under the served directory as the symlink policy allows.
 * Returns a descriptor, or a negative errno: -EXDEV (a link leads outside) and -ELOOP
 * (links are denied) are the policy's refusals. */
static int open_under_root(const struct hs_static *self, const char *rel, int flags)
{
	if (self->symlinks == HS_SYMLINKS_FOLLOW) {
		int fd = openat(self->priv->root_fd, rel, flags);
		return fd < 0 ? -errno : fd;
	}
	struct open_how how = {.flags = (uint64_t)flags,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	if (self->symlinks == HS_SYMLINKS_DENY)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	long fd = syscall(SYS_openat2, self->priv->root_fd, rel, &how, sizeof how);
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS || (errno == EXDEV && self->symlinks == HS_SYMLINKS_INSIDE))
		return open_resolved(self, rel, flags);
	return -errno;
}

static void log_refusal(struct hs_conn *c, const struct hs_request *r, int err)
{
	if (err == -EXDEV)
		hs_log_error(c, "refused %s: a symlink leads outside the served directory "
		                "(--symlinks inside; 'follow' would serve it)", r->path);
	else if (err == -ELOOP)
		hs_log_error(c, "refused %s: symlinks are not served (--symlinks deny)", r->path);
}

/* ------------------------------------------------------------ representations */

/* What is served for a file: the file itself or a precompressed sibling, with the
 * validators of what is served. */
struct variant {
	int fd;               /* -1 when the bytes are in mem */
	const char *mem;      /* the whole file, from the small-file cache */
	struct stat st;
	const char *encoding; /* Content-Encoding; NULL for the file itself */
	bool vary;            /* a sibling exists: the answer depends on Accept-Encoding */
	char etag[HS__ETAG_MAX];
	char last_modified[30];
	struct hs__validators val;
	const char *head;     /* a cached file's 200 header lines (file_fields); NULL: none */
	size_t head_len;
};

static const struct {
	const char *suffix, *name;
	enum hs__coding coding;
} siblings[] = {
	{".br", "br", HS__CODING_BR},
	{".gz", "gzip", HS__CODING_GZIP},
};

static bool older(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Opens rel + suffix when it is a regular file at least as new as the original (a stale
 * sibling would serve old content), under the same symlink policy. */
static int open_sibling(const struct hs_static *self, const char *rel, const char *suffix,
                        const struct stat *orig, struct stat *st)
{
	char path[4096 + 40];
	if (snprintf(path, sizeof path, "%s%s", rel, suffix) >= (int)sizeof path)
		return -ENAMETOOLONG;
	int fd = open_under_root(self, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	                older(&st->st_mtim, &orig->st_mtim))) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* --serve-precompressed: swaps v's file for the sibling Accept-Encoding prefers, if any. */
static void pick_encoding(const struct hs_static *self, const struct hs_request *r,
                          const char *rel, struct variant *v)
{
	int fds[2];
	struct stat sts[2];
	unsigned available = 0;
	for (size_t k = 0; k < 2; k++) {
		fds[k] = open_sibling(self, rel, siblings[k].suffix, &v->st, &sts[k]);
		if (fds[k] >= 0)
			available |= 1u << siblings[k].coding;
	}
	struct hs__accept_encoding ae;
	hs__accept_encoding_init(&ae);
	for (size_t i = 0; i < r->nheaders; i++)
		if (hs__ascii_ieq(r->headers[i].name, "Accept-Encoding"))
			hs__accept_encoding_add(&ae, r->headers[i].value, strlen(r->headers[i].value));
	enum hs__coding chosen = hs__accept_encoding_choose(&ae, available);
	v->vary = available != 0;
	for (size_t k = 0; k < 2; k++) {
		if (fds[k] < 0)
			continue;
		if (siblings[k].coding != chosen) {
			close(fds[k]);
			continue;
		}
		close(v->fd);
		v->fd = fds[k];
		v->st = sts[k];
		v->encoding = siblings[k].name;
	}
}

static void set_validators(struct variant *v)
{
	hs__etag_format(v->etag, (uint64_t)v->st.st_ino, (uint64_t)v->st.st_size,
	                (int64_t)v->st.st_mtim.tv_sec, v->st.st_mtim.tv_nsec);
	hs_date_time_string(v->last_modified, v->st.st_mtim.tv_sec);
	v->val = (struct hs__validators){.etag = v->etag, .has_mtime = true,
	                                 .mtime = (int64_t)v->st.st_mtim.tv_sec};
}

static void variant_close(struct variant *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

/* Queues len bytes of v from off: by sendfile (the descriptor is the connection's from
 * the first call), or copied from the cached bytes. */
static int send_bytes(struct hs_conn *c, struct variant *v, long long off, long long len)
{
	if (v->mem) {
		long rc = hs_write(c, v->mem + off, (size_t)len);
		return rc < 0 ? (int)rc : 0;
	}
	return hs_send_file(c, v->fd, off, len);
}

/* ------------------------------------------------------------ file heads */

/* The headers of a 200 or 206 after Date: Python's three first, in Python's order, so
 * a request without the new headers gets Python's bytes plus ETag and Accept-Ranges.
 * A NULL value is a header not sent. */
enum { FILE_FIELDS = 8 };

static void file_fields(const char *f[FILE_FIELDS][2], const char *type, const char *len_text,
                        const struct variant *v, const char *content_range)
{
	const char *const all[FILE_FIELDS][2] = {
		{"Content-type", type},
		{"Content-Length", len_text},
		{"Last-Modified", v->last_modified},
		{"Content-Range", content_range},
		{"Content-Encoding", v->encoding},
		{"ETag", v->etag},
		{"Accept-Ranges", "bytes"},
		{"Vary", v->vary ? "Accept-Encoding" : NULL},
	};
	memcpy(f, all, sizeof all);
}

static int file_head(struct hs_conn *c, int code, const char *type, long long length,
                     const struct variant *v, const char *content_range)
{
	hs_send_response(c, code, NULL);
	if (code == 200 && v->head) {
		hs__send_header_lines(c, v->head, v->head_len);
	} else {
		char len_text[HS__INT_TEXT_MAX];
		hs__int_text(len_text, length);
		const char *f[FILE_FIELDS][2];
		file_fields(f, type, len_text, v, content_range);
		for (size_t i = 0; i < FILE_FIELDS; i++)
			if (f[i][1])
				hs_send_header(c, f[i][0], f[i][1]);
	}
	if (c->extra_ok_len) /* response_headers, after Python's own (as Python 3.15) */
		hs__send_header_lines(c, c->extra_ok, c->extra_ok_len);
	return hs_end_headers(c);
}

/* 304 carries the validators and Vary (RFC 9110 15.4.5), no representation headers. */
static int send_not_modified(struct hs_conn *c, struct variant *v)
{
	variant_close(v);
	hs_send_response(c, 304, NULL);
	hs_send_header(c, "Last-Modified", v->last_modified);
	hs_send_header(c, "ETag", v->etag);
	if (v->vary)
		hs_send_header(c, "Vary", "Accept-Encoding");
	return hs_end_headers(c);
}

/* ------------------------------------------------------------ small-file cache */

/* Each worker keeps the last small files (up to INLINE_FILE_MAX) it read, with their
 * validators and type; no answer may be older than the file at the moment of its
 * request, and tests/e2e/test_races.py checks that under mutation. An entry
 * answers with no system call but the send a request that was already waiting when
 * the worker woke up for the iteration that read (or last checked) the entry: its
 * connection was reported readable, or accepted and read before the iteration began
 * (server.c's two-pass accept), and it is the first request read from it since, whole
 * in that read; so the entry was read after the request was sent. Any other request (a
 * pipelined one, one sent while the worker was busy, a later iteration)
 * may use the entry after one fstatat of the path finds the same file, size, mtime and
 * ctime, and only when that stat was settled when the bytes were read (mtime and
 * ctime 2 s old or more: a write in the same timestamp tick would leave them as they
 * were, git's "racily clean" rule); otherwise the file is opened and read again. The
 * path is resolved again by that stat: a link swapped to lead elsewhere finds another
 * file and misses. Nothing is held open. */
#define FILE_CACHE_ENTRIES 8
#define FILE_CACHE_PATH_MAX 256
#define SETTLED_SECONDS 2
#define FILE_HEAD_MAX 512

struct file_entry {
	uint64_t iteration; /* the loop iteration that read or last checked it; 0: empty */
	uint64_t used;      /* the last iteration it answered (least recently used goes) */
	bool checkable;     /* its stat was settled when read: fstatat can vouch for it */
	const struct hs_static *owner;
	char rel[FILE_CACHE_PATH_MAX];
	size_t rel_len;
	const char *type;
	struct variant v; /* fd -1, mem = data, head = head when it fits */
	char data[INLINE_FILE_MAX];
	char head[FILE_HEAD_MAX];
};

struct hs__file_cache {
	struct file_entry e[FILE_CACHE_ENTRIES];
};

static bool settled(const struct stat *st, time_t now)
{
	return now - st->st_mtim.tv_sec >= SETTLED_SECONDS &&
	       now - st->st_ctim.tv_sec >= SETTLED_SECONDS;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Whether rel is still the file e read, unchanged since. */
static bool still_the_same(const struct hs_static *self, const struct file_entry *e)
{
	struct stat st;
	const struct stat *was = &e->v.st;
	return fstatat(self->priv->root_fd, e->rel, &st, 0) == 0 && S_ISREG(st.st_mode) &&
	       st.st_dev == was->st_dev && st.st_ino == was->st_ino &&
	       st.st_size == was->st_size && same_time(&st.st_mtim, &was->st_mtim) &&
	       same_time(&st.st_ctim, &was->st_ctim);
}

/* rel's entry if it may answer this request (waited: the request was waiting when the
 * worker woke up for this iteration); NULL to read the file. */
static struct file_entry *cache_find(struct hs__worker *w, const struct hs_static *self,
                                     const char *rel, bool waited)
{
	struct hs__file_cache *fc = w->file_cache;
	size_t n = strlen(rel);
	if (!fc || n >= FILE_CACHE_PATH_MAX)
		return NULL;
	for (size_t i = 0; i < FILE_CACHE_ENTRIES; i++) {
		struct file_entry *e = &fc->e[i];
		if (e->iteration == 0 || e->owner != self || e->rel_len != n ||
		    memcmp(e->rel, rel, n) != 0)
			continue;
		if (!(waited && e->iteration == w->loop.iteration)) {
			if (!e->checkable || !still_the_same(self, e))
				return NULL;
			e->iteration = w->loop.iteration; /* as good as read now */
		}
		e->used = w->loop.iteration;
		return e;
	}
	return NULL;
}

/* A slot for a new entry: rel's own, an empty one, or the least recently used. */
static struct file_entry *cache_slot(struct hs__worker *w, const struct hs_static *self,
                                     const char *rel, size_t n)
{
	if (!w->file_cache && !(w->file_cache = hs__calloc(1, sizeof *w->file_cache)))
		return NULL;
	struct file_entry *best = NULL;
	for (size_t i = 0; i < FILE_CACHE_ENTRIES; i++) {
		struct file_entry *e = &w->file_cache->e[i];
		if (e->iteration && e->owner == self && e->rel_len == n && memcmp(e->rel, rel, n) == 0)
			return e;
		if (!best || (best->iteration && (!e->iteration || e->used < best->used)))
			best = e;
	}
	return best;
}

/* The lines file_head sends for the whole of a cached file, made once; none (NULL) when
 * they do not fit or one would be refused. */
static void keep_head(struct file_entry *e)
{
	char len_text[HS__INT_TEXT_MAX];
	hs__int_text(len_text, (long long)e->v.st.st_size);
	const char *f[FILE_FIELDS][2];
	file_fields(f, e->type, len_text, &e->v, NULL);
	size_t len = 0;
	e->v.head = NULL;
	for (size_t i = 0; i < FILE_FIELDS; i++) {
		if (!f[i][1])
			continue;
		size_t n = hs__header_line(e->head + len, sizeof e->head - len, f[i][0], f[i][1]);
		if (n == 0)
			return;
		len += n;
	}
	e->v.head = e->head;
	e->v.head_len = len;
}

/* Reads v's whole file into the cache as rel's entry. NULL when it cannot (no memory,
 * a path too long, a file that changed size meanwhile): v is then served from its fd. */
static struct file_entry *cache_fill(struct hs_conn *c, const struct hs_static *self,
                                     const char *rel, const char *type, const struct variant *v)
{
	size_t n = strlen(rel), size = (size_t)v->st.st_size, got = 0;
	struct file_entry *e = n < FILE_CACHE_PATH_MAX ? cache_slot(c->w, self, rel, n) : NULL;
	if (!e)
		return NULL;
	e->iteration = 0;
	while (got < size) {
		ssize_t k = pread(v->fd, e->data + got, size - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return NULL;
		got += (size_t)k;
	}
	memcpy(e->rel, rel, n + 1);
	e->rel_len = n;
	e->owner = self;
	e->type = type;
	e->v = *v;
	e->v.fd = -1;
	e->v.mem = e->data;
	e->v.val.etag = e->v.etag;
	keep_head(e);
	e->checkable = settled(&v->st, c->w->loop.wall_sec);
	e->iteration = e->used = c->w->loop.iteration;
	return e;
}

/* ------------------------------------------------------------ bodies */

static int send_inline(struct hs_conn *c, int fd, size_t size)
{
	char buf[INLINE_FILE_MAX];
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	long rc = hs_write(c, buf, got);
	if (got < size)
		hs_set_close_connection(c, true); /* shrank meanwhile: the length was announced */
	return rc < 0 ? (int)rc : 0;
}

/* 200: the whole file; small ones travel with the head. */
static int send_whole(struct hs_conn *c, const struct hs_request *r, struct variant *v,
                      const char *type)
{
	file_head(c, 200, type, (long long)v->st.st_size, v, NULL);
	if (strcmp(r->command, "GET") != 0) {
		variant_close(v);
		return 0;
	}
	if (v->fd >= 0 && v->st.st_size <= INLINE_FILE_MAX)
		return send_inline(c, v->fd, (size_t)v->st.st_size);
	return send_bytes(c, v, 0, v->st.st_size);
}

static int send_one_range(struct hs_conn *c, struct variant *v, const char *type,
                          const struct hs__range *rg)
{
	char cr[80];
	snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)rg->first,
	         (unsigned long long)rg->last, (unsigned long long)v->st.st_size);
	long long len = (long long)(rg->last - rg->first + 1);
	file_head(c, 206, type, len, v, cr);
	return send_bytes(c, v, (long long)rg->first, len); /* sendfile from the offset */
}

/* A boundary no file can contain by design: 128 random bits, fresh per response. */
static void make_boundary(char out[33], const struct hs_conn *c)
{
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uintptr_t)c;
		for (size_t i = 0; i < sizeof rnd; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			rnd[i] = (unsigned char)(x >> 56);
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

/* One part's head, as nginx writes it: CRLF, the boundary line, Content-Type and
 * Content-Range, an empty line. Returns its length (out NULL: only measured). */
static size_t part_head(struct hs__buf *out, const char *boundary, const char *type,
                        const struct hs__range *rg, uint64_t size)
{
	static const char fmt[] = "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n";
	unsigned long long a = rg->first, b = rg->last, n = size;
	if (!out)
		return (size_t)snprintf(NULL, 0, fmt, boundary, type, a, b, n);
	size_t before = out->len;
	return hs__buf_printf(out, fmt, boundary, type, a, b, n) < 0 ? 0 : out->len - before;
}

/* 206 multipart/byteranges: part heads from memory, each range by sendfile from the
 * file (no copy), the closing boundary. Content-Length is computed first, exactly. */
static int send_multipart(struct hs_conn *c, struct variant *v, const char *type,
                          const struct hs__range *rg, size_t n)
{
	char boundary[33], ctype[80], tail[48];
	make_boundary(boundary, c);
	snprintf(ctype, sizeof ctype, "multipart/byteranges; boundary=%s", boundary);
	int tail_len = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", boundary);
	long long total = tail_len;
	for (size_t k = 0; k < n; k++)
		total += (long long)part_head(NULL, boundary, type, &rg[k], (uint64_t)v->st.st_size) +
		         (long long)(rg[k].last - rg[k].first + 1);
	file_head(c, 206, ctype, total, v, NULL);
	struct hs__buf *heads = &c->w->scratch;
	heads->len = 0;
	for (size_t k = 0; k < n; k++) {
		size_t at = heads->len, hn = part_head(heads, boundary, type, &rg[k], (uint64_t)v->st.st_size);
		if (hn == 0 || hs_write(c, heads->data + at, hn) < 0) {
			if (k == 0)
				variant_close(v); /* not handed over yet */
			return -ENOMEM;
		}
		int rc = send_bytes(c, v, (long long)rg[k].first,
		                    (long long)(rg[k].last - rg[k].first + 1));
		if (rc < 0)
			return rc; /* the fd is the connection's or closed: never touch it again */
	}
	return hs_write(c, tail, (size_t)tail_len) < 0 ? -ENOMEM : 0;
}

/* The Range of a GET, judged against v (If-Range included); HEAD ignores Range as RFC
 * 9110 14.2 requires of every method but GET. */
static enum hs__range_status requested_ranges(const struct hs_request *r, const struct variant *v,
                                              struct hs__range *out, size_t *n)
{
	const char *range = NULL;
	*n = 0;
	if (strcmp(r->command, "GET") != 0)
		return HS__RANGE_IGNORE;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (!hs__ascii_ieq(r->headers[i].name, "Range"))
			continue;
		if (range)
			return HS__RANGE_IGNORE; /* two Range fields: not a valid ranges-specifier */
		range = r->headers[i].value;
	}
	const char *if_range = hs_header(r, "If-Range");
	if (!range || (if_range && !hs__if_range_holds(if_range, strlen(if_range), &v->val,
	                                               (int64_t)time(NULL))))
		return HS__RANGE_IGNORE;
	return hs__range_parse(range, strlen(range), (uint64_t)v->st.st_size, out, n);
}

/* v (its descriptor consumed): preconditions, then 304, 412, 416, 206 or 200. */
static int send_variant(struct hs_conn *c, const struct hs_request *r, struct variant *v,
                        const char *type)
{
	enum hs__precondition pc = hs__preconditions(r->headers, r->nheaders, &v->val);
	if (pc == HS__PRECOND_FAILED) {
		variant_close(v);
		return hs_send_error(c, 412, NULL, NULL);
	}
	if (pc == HS__PRECOND_NOT_MODIFIED)
		return send_not_modified(c, v);
	struct hs__range ranges[HS__MAX_RANGES];
	size_t n;
	switch (requested_ranges(r, v, ranges, &n)) {
	case HS__RANGE_UNSATISFIABLE: {
		char cr[40];
		snprintf(cr, sizeof cr, "bytes */%lld", (long long)v->st.st_size);
		variant_close(v);
		return hs__send_error_header(c, 416, NULL, NULL, "Content-Range", cr);
	}
	case HS__RANGE_PARTIAL:
		return n == 1 ? send_one_range(c, v, type, &ranges[0])
		              : send_multipart(c, v, type, ranges, n);
	default:
		return send_whole(c, r, v, type);
	}
}

/* A regular file (fd, consumed) found at path. A small one asked for by GET at the
 * request's own path (cacheable) goes into this iteration's small-file cache. */
static int send_file(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                     int fd, const struct stat *st, const char *path, bool cacheable)
{
	if (!S_ISREG(st->st_mode)) {
		close(fd); /* a FIFO or a device: never wait on it */
		return hs_send_error(c, 404, "File not found", NULL);
	}
	struct variant v = {.fd = fd, .st = *st};
	if (self->precompressed)
		pick_encoding(self, r, path, &v);
	set_validators(&v);
	const char *type = hs_static_guess_type(self, path); /* the original's, also when encoded */
	if (cacheable && !self->precompressed && st->st_size <= INLINE_FILE_MAX &&
	    strcmp(r->command, "GET") == 0) {
		struct file_entry *e = cache_fill(c, self, path, type, &v);
		if (e) {
			close(fd);
			v = e->v;
			v.val.etag = v.etag;
		}
	}
	return send_variant(c, r, &v, type);
}

static int redirect_to_slash(struct hs_conn *c, const struct hs_request *r)
{
	struct hs__buf *loc = &c->w->scratch;
	loc->len = 0;
	if (hs__redirect_location(loc, r->path, strlen(r->path)) < 0 ||
	    hs__buf_append(loc, "", 1) < 0)
		return hs_send_error(c, 500, NULL, NULL);
	hs_send_response(c, 301, NULL);
	hs_send_header(c, "Location", loc->data);
	hs_send_header(c, "Content-Length", "0");
	return hs_end_headers(c);
}

/* A directory with its slash: the first index page that is a regular file, else the
 * listing. dfd is the open directory (consumed), dst its fstat. The index pages are
 * probed before the listing cache is asked, so an index page wins as soon as it exists. */
static int send_directory(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                          int dfd, const struct stat *dst, char *rel, size_t rel_size)
{
	size_t base = strlen(rel);
	const char *const *pages = self->index_pages ? self->index_pages : default_index_pages;
	for (size_t i = 0; pages[i]; i++) {
		struct stat st;
		if (snprintf(rel + base, rel_size - base, "%s%s", base ? "/" : "", pages[i]) >=
		    (int)(rel_size - base))
			continue;
		int fd = open_under_root(self, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			close(dfd);
			return send_file(self, c, r, fd, &st, rel, false);
		}
		close(fd);
	}
	rel[base] = '\0';
	if (self->listing == HS_LISTING_OFF) {
		close(dfd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	return list_directory(self, c, r, dfd, dst);
}

/* ------------------------------------------------------------ optional settings */

bool hs__static_adds_headers(const struct hs_static *self)
{
	return self->response_headers || self->cors_origins || self->no_cache;
}

const struct hs__flags *hs__static_use_flags(struct hs_static *self, struct hs_conn *c,
                                             const struct hs_request *r)
{
	const struct hs__flags *f = hs__flags_get(self);
	if (!f)
		return NULL;
	int i = f->origin_list ? hs__cors_origin_index(self->cors_origins, hs_header(r, "Origin"))
	                       : -1;
	c->extra_all = f->all[i + 1].p;
	c->extra_all_len = f->all[i + 1].n;
	c->extra_ok = f->ok.p;
	c->extra_ok_len = f->ok.n;
	return f;
}

/* spa: the root's first index page that is a regular file, for a path that names
 * nothing; logged after the request line. Without one, the 404 it would have had. */
static int send_spa_index(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                          char *rel, size_t rel_size)
{
	const char *const *pages = self->index_pages ? self->index_pages : default_index_pages;
	for (size_t i = 0; pages[i]; i++) {
		struct stat st;
		if (snprintf(rel, rel_size, "%s", pages[i]) >= (int)rel_size)
			continue;
		int fd = open_under_root(self, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			int rc = send_file(self, c, r, fd, &st, rel, false);
			if (!c->w->srv->opt.quiet)
				hs_log_message(c, "--spa: %s answered with /%s", r->path, pages[i]);
			return rc;
		}
		close(fd);
	}
	return hs_send_error(c, 404, "File not found", NULL);
}

/* OPTIONS: with CORS on, a preflight (Origin and Access-Control-Request-Method) gets
 * 204 with what may be asked (nothing for an origin not listed), any other OPTIONS 204
 * with Allow; with CORS off, Python's 501. */
static int send_options(const struct hs_handler *h, struct hs_conn *c, const struct hs_request *r)
{
	struct hs_static *self = self_of(h);
	if (!self->cors_origins)
		return hs_send_error(c, 501, "Unsupported method ('OPTIONS')", NULL);
	const struct hs__flags *f = hs__static_use_flags(self, c, r);
	if (!f)
		return hs_send_error(c, 500, NULL, NULL);
	const char *origin = hs_header(r, "Origin");
	bool preflight = origin && hs_header(r, "Access-Control-Request-Method");
	hs_send_response(c, 204, NULL);
	if (!preflight) {
		hs_send_header(c, "Allow", f->allow);
		return hs_end_headers(c);
	}
	bool allowed = !f->origin_list || hs__cors_origin_index(self->cors_origins, origin) >= 0;
	const char *want = hs_header(r, "Access-Control-Request-Headers");
	if (allowed) {
		hs_send_header(c, "Access-Control-Allow-Methods", f->allow_methods);
		if (want && hs__token_list_ok(want))
			hs_send_header(c, "Access-Control-Allow-Headers", want);
		hs_send_header(c, "Access-Control-Max-Age", "600");
	}
	hs_send_header(c, "Vary", "Access-Control-Request-Method, Access-Control-Request-Headers");
	return hs_end_headers(c);
}

/* send_head: the directory redirect, index pages, listing, or the file. The target is
 * opened first and examined through its descriptor: one lookup, and what is checked is
 * what is served. */
static int send_head(const struct hs_handler *h, struct hs_conn *c, const struct hs_request *r)
{
	struct hs_static *self = self_of(h);
	char rel[4096 + 32];
	bool slash = false;
	if (hs__static_adds_headers(self) && !hs__static_use_flags(self, c, r))
		return hs_send_error(c, 500, NULL, NULL);
	if (hs__translate_path(r->path, strlen(r->path), rel, sizeof rel - 32, &slash) < 0)
		return hs_send_error(c, 404, "File not found", NULL);
	bool waited = c->woke_iteration == c->w->loop.iteration;
	struct file_entry *cached = slash ? NULL : cache_find(c->w, self, rel, waited);
	if (cached) {
		struct variant v = cached->v;
		v.val.etag = v.etag;
		if (!self->guess_type)
			return send_variant(c, r, &v, cached->type);
		/* a user's guess_type may answer in a buffer of its own, or differently: asked
		 * again, and the head made with its earlier answer is not used */
		v.head = NULL;
		return send_variant(c, r, &v, hs_static_guess_type(self, rel));
	}
	const char *at = rel[0] ? rel : ".";
	struct stat st;
	int fd = open_under_root(self, at, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -EXDEV || fd == -ELOOP) {
		log_refusal(c, r, fd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	if ((fd == -ENOENT || fd == -ENOTDIR) && self->spa && hs__spa_fallback(rel))
		return send_spa_index(self, c, r, rel, sizeof rel);
	if (fd == -ENOENT || fd == -ENOTDIR || fd == -ENAMETOOLONG)
		return hs_send_error(c, 404, "File not found", NULL);
	if (fd < 0) {
		/* Python tells an unreadable directory from a missing file */
		int pfd = open_under_root(self, at, O_PATH | O_CLOEXEC);
		bool dir = pfd >= 0 && fstat(pfd, &st) == 0 && S_ISDIR(st.st_mode);
		if (pfd >= 0)
			close(pfd);
		if (dir && !hs__url_path_ends_in_slash(r->path, strlen(r->path)))
			return redirect_to_slash(c, r);
		bool listing = dir && self->listing != HS_LISTING_OFF;
		return hs_send_error(c, 404, listing ? "No permission to list directory" : "File not found",
		                     NULL);
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	if (S_ISDIR(st.st_mode)) {
		if (!hs__url_path_ends_in_slash(r->path, strlen(r->path))) {
			close(fd);
			return redirect_to_slash(c, r);
		}
		return send_directory(self, c, r, fd, &st, rel, sizeof rel);
	}
	if (slash) {
		close(fd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	return send_file(self, c, r, fd, &st, rel, true);
}

int hs_static_init(struct hs_static *st, const char *directory)
{
	*st = (struct hs_static){0};
	st->directory = directory ? directory : ".";
	st->base.do_GET = send_head;
	st->base.do_HEAD = send_head;
	st->base.do_OPTIONS = send_options;
	st->base.ignore_body = true; /* GET and HEAD never read one */
	struct hs__static_private *p = hs__calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	st->priv = p;
	p->root_fd = open(st->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc = p->root_fd < 0 ? -errno : 0;
	if (rc == 0) {
		p->root_real = hs__alloc_fails() ? (errno = ENOMEM, NULL)
		                                 : realpath(st->directory, NULL);
		rc = p->root_real ? hs__mime_new(&p->mime, "/etc/mime.types") : -errno;
	}
	if (rc < 0)
		hs_static_fini(st);
	else if (hs__lcache_new(&p->listing_cache, HS__LCACHE_ENTRIES, HS__LCACHE_BYTES) < 0)
		p->listing_cache = NULL; /* no memory for it: every listing is rendered afresh */
	return rc;
}

void hs_static_fini(struct hs_static *st)
{
	struct hs__static_private *p = st->priv;
	if (!p)
		return;
	if (p->root_fd >= 0)
		close(p->root_fd);
	hs__mime_free(p->mime);
	hs__lcache_free(p->listing_cache);
	hs__flags_free(p->flags);
	free(p->root_real);
	free(p);
	st->priv = NULL;
}
