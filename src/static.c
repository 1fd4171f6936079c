/*
 * static.c: SimpleHTTPRequestHandler. Maps the URL to a file under the served directory
 * (translate_path), redirects directories missing their slash, serves index pages, the
 * listing (directory listing built with listing.c's renderer), or the file with
 * Python's headers and If-Modified-Since. Files are opened relative to a descriptor of
 * the root, never by a path joined as text. Small files travel in the same write as
 * their head; larger ones go by sendfile. Built only on the public handler API.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

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
	return hs__mime_guess(st->mime, path, strlen(path));
}

int hs_static_translate_path(const struct hs_static *st, const char *path, char *out,
                             size_t out_size)
{
	bool slash;
	(void)st;
	return hs__translate_path(path, strlen(path), out, out_size, &slash);
}

/* ------------------------------------------------------------ listing */

static int read_dir(int dfd, struct hs__buf *names, struct hs__buf *ents, size_t *count)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	names->len = ents->len = 0;
	*count = 0;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st, lst;
		struct hs__dirent e = {.name = (const char *)(uintptr_t)names->len,
		                       .name_len = strlen(de->d_name)};
		e.is_dir = fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
		e.is_link = de->d_type == DT_LNK ||
		            (de->d_type == DT_UNKNOWN &&
		             fstatat(dirfd(d), de->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
		             S_ISLNK(lst.st_mode));
		rc = hs__buf_append(names, de->d_name, e.name_len + 1);
		rc = rc ?: hs__buf_append(ents, &e, sizeof e);
		(*count)++;
	}
	closedir(d);
	struct hs__dirent *list = (struct hs__dirent *)(void *)ents->data;
	for (size_t i = 0; rc == 0 && i < *count; i++)
		list[i].name = names->data + (uintptr_t)list[i].name;
	return rc;
}

static int list_directory(struct hs_conn *c, const struct hs_request *r, int dfd)
{
	struct hs__worker *w = c->w;
	struct hs__buf names = {0}, ents = {0}, *page = &w->scratch;
	size_t n = 0;
	int rc = read_dir(dfd, &names, &ents, &n);
	if (rc < 0) {
		hs__buf_free(&names);
		hs__buf_free(&ents);
		return rc == -ENOMEM ? hs_send_error(c, 500, NULL, NULL)
		                     : hs_send_error(c, 404, "No permission to list directory", NULL);
	}
	struct hs__dirent *list = (struct hs__dirent *)(void *)ents.data;
	hs__listing_sort(list, n);
	/* the title shows the decoded path without query or fragment (Python 3.14) */
	size_t plen = strcspn(r->path, "?#");
	char *display = malloc(plen + 1);
	page->len = 0;
	if (!display)
		rc = -ENOMEM;
	else
		rc = hs__listing_render(page, display, hs__url_unquote(display, r->path, plen), list, n);
	free(display);
	hs__buf_free(&names);
	hs__buf_free(&ents);
	if (rc < 0)
		return hs_send_error(c, 500, NULL, NULL);
	char len_text[24];
	snprintf(len_text, sizeof len_text, "%zu", page->len);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-type", "text/html; charset=utf-8");
	hs_send_header(c, "Content-Length", len_text);
	hs_end_headers(c);
	if (strcmp(r->command, "GET") == 0)
		hs_write(c, page->data, page->len);
	return 0;
}

/* ------------------------------------------------------------ containment */

static bool inside_root(const struct hs_static *self, const char *real)
{
	size_t n = strlen(self->root_real);
	if (n == 1) /* serving "/" */
		return true;
	return strncmp(real, self->root_real, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* The slow way, for an absolute symlink (openat2 refuses those even when they lead
 * inside) or a kernel without openat2: resolve the whole path, check it lies under the
 * root, then open the resolved path refusing any symlink that appeared meanwhile. */
static int open_resolved(const struct hs_static *self, const char *rel, int flags)
{
	char via[PATH_MAX], real[PATH_MAX];
	if (snprintf(via, sizeof via, "/proc/self/fd/%d/%s", self->root_fd, rel) >= (int)sizeof via)
		return -ENAMETOOLONG;
	if (!realpath(via, real))
		return -errno;
	if (!inside_root(self, real))
		return -EXDEV;
	if (self->symlinks == HS_SYMLINKS_DENY) {
		/* rel is lexically normal, so a path without links resolves to root/rel */
		char plain[PATH_MAX];
		bool root = strcmp(rel, ".") == 0;
		snprintf(plain, sizeof plain, "%s%s%s", self->root_real, root ? "" : "/", root ? "" : rel);
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
		int fd = openat(self->root_fd, rel, flags);
		return fd < 0 ? -errno : fd;
	}
	struct open_how how = {.flags = (uint64_t)flags,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	if (self->symlinks == HS_SYMLINKS_DENY)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	long fd = syscall(SYS_openat2, self->root_fd, rel, &how, sizeof how);
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

/* ------------------------------------------------------------ files */

static bool not_modified(const struct hs_request *r, const struct stat *st)
{
	const char *ims = hs_header(r, "If-Modified-Since");
	int64_t t;
	bool utc;
	if (!ims || hs_header(r, "If-None-Match") || !hs__httpdate_parse(ims, strlen(ims), &t, &utc))
		return false;
	return utc && (int64_t)st->st_mtim.tv_sec <= t;
}

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

static int send_file(struct hs_static *self, struct hs_conn *c, const struct hs_request *r,
                     int fd, const struct stat *st, const char *path)
{
	if (!S_ISREG(st->st_mode)) {
		close(fd); /* a FIFO or a device: never wait on it */
		return hs_send_error(c, 404, "File not found", NULL);
	}
	if (not_modified(r, st)) {
		close(fd);
		hs_send_response(c, 304, NULL);
		return hs_end_headers(c);
	}
	char len_text[24], date[30];
	snprintf(len_text, sizeof len_text, "%lld", (long long)st->st_size);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-type", hs_static_guess_type(self, path));
	hs_send_header(c, "Content-Length", len_text);
	hs_send_header(c, "Last-Modified", hs_date_time_string(date, st->st_mtim.tv_sec));
	hs_end_headers(c);
	if (strcmp(r->command, "GET") != 0) {
		close(fd);
		return 0;
	}
	if (st->st_size <= INLINE_FILE_MAX)
		return send_inline(c, fd, (size_t)st->st_size);
	return hs_send_file(c, fd, 0, st->st_size);
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
 * listing. dfd is the open directory (consumed). */
static int send_directory(struct hs_static *self, struct hs_conn *c,
                          const struct hs_request *r, int dfd, char *rel, size_t rel_size)
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
			return send_file(self, c, r, fd, &st, rel);
		}
		close(fd);
	}
	rel[base] = '\0';
	return list_directory(c, r, dfd);
}

/* send_head: the directory redirect, index pages, listing, or the file. The target is
 * opened first and examined through its descriptor: one lookup, and what is checked is
 * what is served. */
static int send_head(const struct hs_handler *h, struct hs_conn *c, const struct hs_request *r)
{
	struct hs_static *self = self_of(h);
	char rel[4096 + 32];
	bool slash = false;
	if (hs__translate_path(r->path, strlen(r->path), rel, sizeof rel - 32, &slash) < 0)
		return hs_send_error(c, 404, "File not found", NULL);
	const char *at = rel[0] ? rel : ".";
	struct stat st;
	int fd = open_under_root(self, at, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -EXDEV || fd == -ELOOP) {
		log_refusal(c, r, fd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	if (fd < 0) {
		/* Python tells an unreadable directory from a missing file */
		int pfd = open_under_root(self, at, O_PATH | O_CLOEXEC);
		bool dir = pfd >= 0 && fstat(pfd, &st) == 0 && S_ISDIR(st.st_mode);
		if (pfd >= 0)
			close(pfd);
		if (dir && !hs__url_path_ends_in_slash(r->path, strlen(r->path)))
			return redirect_to_slash(c, r);
		return hs_send_error(c, 404, dir ? "No permission to list directory" : "File not found",
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
		return send_directory(self, c, r, fd, rel, sizeof rel);
	}
	if (slash) {
		close(fd);
		return hs_send_error(c, 404, "File not found", NULL);
	}
	return send_file(self, c, r, fd, &st, rel);
}

int hs_static_init(struct hs_static *st, const char *directory)
{
	*st = (struct hs_static){0};
	st->directory = directory ? directory : ".";
	st->base.do_GET = send_head;
	st->base.do_HEAD = send_head;
	st->root_fd = open(st->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0)
		return -errno;
	st->root_real = realpath(st->directory, NULL);
	int rc = st->root_real ? hs__mime_new(&st->mime, "/etc/mime.types") : -errno;
	if (rc < 0)
		hs_static_fini(st);
	return rc;
}

void hs_static_fini(struct hs_static *st)
{
	if (st->root_fd >= 0)
		close(st->root_fd);
	hs__mime_free(st->mime);
	free(st->root_real);
	st->root_fd = -1;
	st->root_real = NULL;
	st->mime = NULL;
}
