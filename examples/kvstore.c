/*
 * kvstore.c: a key-value store over HTTP, one file per key in a directory, ported line
 * for line from this Python program (BaseHTTPRequestHandler, blocking file I/O):
 *
 *     KEY = re.compile(r"/([A-Za-z0-9_-][A-Za-z0-9._-]{0,127})")
 *     class KV(BaseHTTPRequestHandler):
 *         protocol_version = "HTTP/1.1"
 *         def key(self):
 *             m = KEY.fullmatch(self.path)
 *             if not m:
 *                 self.send_error(400, "Bad key")
 *             return m and os.path.join(DIR, m[1])
 *         def do_GET(self):
 *             if not (path := self.key()): return
 *             try: f = open(path, "rb")
 *             except (FileNotFoundError, IsADirectoryError): return self.send_error(404)
 *             with f:
 *                 self.send_response(200)
 *                 self.send_header("Content-Type", "application/octet-stream")
 *                 self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
 *                 self.end_headers()
 *                 shutil.copyfileobj(f, self.wfile)
 *         def do_PUT(self):
 *             if not (path := self.key()): return
 *             fd, tmp = tempfile.mkstemp(dir=DIR, prefix=".tmp-")
 *             with os.fdopen(fd, "wb") as f:
 *                 f.write(self.rfile.read(int(self.headers["Content-Length"])))
 *                 f.flush(); os.fsync(f.fileno())
 *             existed = os.path.exists(path)
 *             os.rename(tmp, path)
 *             self.send_response(204 if existed else 201)
 *             if not existed:
 *                 self.send_header("Content-Length", "0")
 *             self.end_headers()
 *         def do_DELETE(self):
 *             if not (path := self.key()): return
 *             try: os.unlink(path)
 *             except FileNotFoundError: return self.send_error(404)
 *             self.send_response(204)
 *             self.end_headers()
 *     ThreadingHTTPServer(("127.0.0.1", PORT), KV).serve_forever()
 *
 * The handler is blocking (.blocking = true): its slots run on the server's handler pool
 * and may wait on the disk and on the client, as Python's threads do. A key is 1 to 128
 * of [A-Za-z0-9._-], not starting with '.', so no key names a temporary file or leaves
 * the directory. Usage: kvstore DIRECTORY [PORT] (port 0 picks a free one); it listens on
 * 127.0.0.1 until SIGINT or SIGTERM. Build:
 *     cc kvstore.c $(pkg-config --cflags --libs httpserve) -o kvstore
 */
#include <httpserve.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The handler "subclass": the base slots and the directory they serve. */
struct kv {
	struct hs_handler base;
	const char *directory;
};

static struct hs_server *server;

static void stop(int sig)
{
	(void)sig;
	hs_server_shutdown(server);
}

/* KEY.fullmatch(path) and os.path.join: the key's file into out; false (and a 400 sent)
 * for a target that is not "/KEY". */
static bool key_path(const struct hs_handler *self, struct hs_conn *c, const char *target,
                     char *out, size_t out_size)
{
	const struct kv *kv = (const struct kv *)self;
	const char *key = target + 1;
	size_t n = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	if (target[0] != '/' || n == 0 || n > 128 || key[n] != '\0' || key[0] == '.') {
		hs_send_error(c, 400, "Bad key", NULL);
		return false;
	}
	snprintf(out, out_size, "%s/%s", kv->directory, key);
	return true;
}

static int kv_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	char path[PATH_MAX], length[32], buf[65536];
	struct stat st;
	if (!key_path(self, c, r->path, path, sizeof path))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hs_send_error(c, errno == ENOENT ? 404 : 500, NULL, NULL);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hs_send_error(c, 404, NULL, NULL);
	}
	snprintf(length, sizeof length, "%lld", (long long)st.st_size);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "application/octet-stream");
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	/* shutil.copyfileobj(f, self.wfile); a failed write means the client is gone. */
	long long left = st.st_size;
	int rc = 0;
	while (left > 0 && rc == 0) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0 || hs_write(c, buf, (size_t)n) < 0)
			rc = -1;
		else
			left -= n;
	}
	close(fd);
	return rc;
}

/* f.write(self.rfile.read(...)): the whole body into fd, then fsync. Returns 0, or the
 * HTTP status to answer with. */
static int copy_body(struct hs_conn *c, int fd)
{
	char buf[65536];
	for (;;) {
		long n = hs_read_body(c, buf, sizeof buf);
		if (n == 0)
			return fsync(fd) < 0 ? 500 : 0;
		if (n < 0)
			return n == -EFBIG ? 413 : 400;
		for (long off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				return 500;
			off += w > 0 ? w : 0;
		}
	}
}

static int kv_PUT(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	const struct kv *kv = (const struct kv *)self;
	char path[PATH_MAX], tmp[PATH_MAX];
	if (!key_path(self, c, r->path, path, sizeof path))
		return 0;
	snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", kv->directory);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return hs_send_error(c, 500, NULL, NULL);
	int status = copy_body(c, fd);
	if (close(fd) < 0 && status == 0)
		status = 500;
	bool existed = access(path, F_OK) == 0;
	if (status == 0 && rename(tmp, path) < 0)
		status = 500;
	if (status != 0) {
		unlink(tmp);
		return hs_send_error(c, status, NULL, NULL);
	}
	hs_send_response(c, existed ? 204 : 201, NULL);
	if (!existed)
		hs_send_header(c, "Content-Length", "0");
	return hs_end_headers(c);
}

static int kv_DELETE(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	char path[PATH_MAX];
	if (!key_path(self, c, r->path, path, sizeof path))
		return 0;
	if (unlink(path) < 0)
		return hs_send_error(c, errno == ENOENT ? 404 : 500, NULL, NULL);
	hs_send_response(c, 204, NULL);
	return hs_end_headers(c);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: kvstore DIRECTORY [PORT]\n");
		return 2;
	}
	struct stat st;
	if (stat(argv[1], &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kvstore: %s is not a directory\n", argv[1]);
		return 1;
	}
	struct kv kv = {
		.base = {
			.protocol_version = "HTTP/1.1",
			.blocking = true,
			.do_GET = kv_GET,
			.do_PUT = kv_PUT,
			.do_DELETE = kv_DELETE,
		},
		.directory = argv[1],
	};
	struct hs_options opt = {.host = "127.0.0.1", .port = argc > 2 ? argv[2] : "8000"};
	int rc = hs_server_new(&server, &opt, &kv.base);
	if (rc < 0) {
		fprintf(stderr, "kvstore: cannot listen on port %s: %s\n", opt.port, strerror(-rc));
		return 1;
	}
	char host[64];
	int port;
	hs_server_address(server, host, sizeof host, &port);
	printf("Serving HTTP on %s port %d (http://%s:%d/) ...\n", host, port, host, port);
	fflush(stdout);
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	rc = hs_server_serve_forever(server);
	hs_server_close(server);
	return rc < 0 ? 1 : 0;
}
