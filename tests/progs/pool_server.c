/*
 * pool_server.c: the server the handler pool's end-to-end tests drive. It serves a
 * directory as SimpleHTTPRequestHandler does, on the workers, and runs a few slow
 * endpoints as blocking slots on the pool:
 *
 *     GET /sleep?MS        sleeps MS milliseconds, then answers "slept MS"
 *     GET /stream?N        writes N pieces of 64 KiB, logging the first write that fails
 *     GET /file?NAME       sends the file NAME of the directory with hs_send_file, then a
 *                          trailer line "end" written after it
 *     PUT or POST /upload  reads the body piece by piece (Content-Length or chunked) and
 *                          answers its length and CRC-32, with the peak resident
 *                          memory of the process
 *     GET /defer           tries hs_defer and hs_watch_new, answering what they returned
 *     GET /slowbody?MS     sends its head with hs_flush_headers, sleeps MS ms, then the body
 *     GET /files?A,B,...   sends the files A, B, ... one after the other, each with its own
 *                          hs_send_file, then "end"; a failed one is logged and ends it
 *
 * and two deferred responses, on the workers:
 *
 *     GET /deferfile?NAME  defers; 20 ms later queues the head, the file NAME and "end",
 *                          calls hs_flush, then hs_finish
 *     GET /deferhead?MS    defers; 20 ms later queues the head and calls hs_flush_headers;
 *                          MS ms after that writes the body and finishes
 *
 * Usage: pool_server DIR MODE [THREADS [QUEUE [DRAIN_MS [WORKERS [tls]]]]]. MODE "mixed" hands
 * the slow endpoints to the pool with hs_run_blocking; MODE "blocking" marks the whole
 * handler blocking, so every slot, files included, runs on the pool. SIGINT or SIGTERM
 * shuts the server down (responses in flight get DRAIN_MS). WORKERS (default 2) is the
 * number of event-loop threads: the fault walk runs one, for a repeatable order of
 * allocations. "tls" serves HTTPS with a self-signed certificate made at start. A failure
 * to start says "pool_server: ..." and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <httpserve.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct hs_server *server;
static struct hs_static files;
static hs_method_fn *static_GET;

static void stop(int sig)
{
	(void)sig;
	hs_server_shutdown(server);
}

static int reply(struct hs_conn *c, int code, const char *text)
{
	char length[32];
	snprintf(length, sizeof length, "%zu", strlen(text));
	hs_send_response(c, code, NULL);
	hs_send_header(c, "Content-Type", "text/plain");
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	return hs_write(c, text, strlen(text)) < 0 ? -1 : 0;
}

static const char *query(const struct hs_request *r)
{
	const char *q = strchr(r->path, '?');
	return q ? q + 1 : "";
}

static int sleep_slot(const struct hs_handler *self, struct hs_conn *c,
                      const struct hs_request *r)
{
	(void)self;
	long ms = atol(query(r));
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	char text[64];
	snprintf(text, sizeof text, "slept %ld\n", ms);
	return reply(c, 200, text);
}

static int stream_slot(const struct hs_handler *self, struct hs_conn *c,
                       const struct hs_request *r)
{
	static const char piece[65536];
	(void)self;
	long n = atol(query(r));
	char length[32];
	snprintf(length, sizeof length, "%lld", (long long)n * (long long)sizeof piece);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "application/octet-stream");
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	for (long i = 0; i < n; i++) {
		long rc = hs_write(c, piece, sizeof piece);
		if (rc < 0) {
			hs_log_message(c, "stream: write %ld of %ld failed: %s", i + 1, n, strerror((int)-rc));
			return -1;
		}
	}
	hs_log_message(c, "stream: %ld pieces written", n);
	return 0;
}

static int file_slot(const struct hs_handler *self, struct hs_conn *c,
                     const struct hs_request *r)
{
	(void)self;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", files.directory, query(r));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (size < 0) {
		if (fd >= 0)
			close(fd);
		return hs_send_error(c, 404, NULL, NULL);
	}
	char length[32];
	snprintf(length, sizeof length, "%lld", (long long)size + 4);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	int rc = hs_send_file(c, fd, 0, size);
	if (rc < 0) {
		hs_log_message(c, "file: send failed: %s", strerror(-rc));
		return -1;
	}
	return hs_write(c, "end\n", 4) < 0 ? -1 : 0;
}

/* The files named in the query, comma-separated: their total size, or -1 (404). */
static long long total_size(const char *names)
{
	long long total = 0;
	char path[4096];
	while (*names) {
		size_t n = strcspn(names, ",");
		snprintf(path, sizeof path, "%s/%.*s", files.directory, (int)n, names);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
		if (fd >= 0)
			close(fd);
		if (size < 0)
			return -1;
		total += size;
		names += n + (names[n] == ',');
	}
	return total;
}

static int files_slot(const struct hs_handler *self, struct hs_conn *c,
                      const struct hs_request *r)
{
	(void)self;
	const char *names = query(r);
	long long total = total_size(names);
	if (total < 0)
		return hs_send_error(c, 404, NULL, NULL);
	char length[32], path[4096];
	snprintf(length, sizeof length, "%lld", total + 4);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	for (int i = 0; *names; i++) {
		size_t n = strcspn(names, ",");
		snprintf(path, sizeof path, "%s/%.*s", files.directory, (int)n, names);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
		int rc = size < 0 ? -errno : hs_send_file(c, fd, 0, size);
		if (rc < 0) {
			if (size < 0 && fd >= 0)
				close(fd);
			hs_log_message(c, "files: file %d: %s", i + 1, strerror(-rc));
			return -1;
		}
		names += n + (names[n] == ',');
	}
	return hs_write(c, "end\n", 4) < 0 ? -1 : 0;
}

/* Peak resident memory of the process, in KiB (VmHWM). */
static long peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

/* CRC-32 (zlib's), a byte at a time from a table made once. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
		crc_table[i] = c;
	}
}

static uint32_t crc32_update(uint32_t crc, const char *p, size_t n)
{
	pthread_once(&crc_once, crc_make_table);
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ (unsigned char)p[i]) & 0xff] ^ (crc >> 8);
	return crc;
}

static int upload_slot(const struct hs_handler *self, struct hs_conn *c,
                       const struct hs_request *r)
{
	(void)self;
	(void)r;
	char buf[16384];
	uint32_t crc = 0xffffffffu;
	long long total = 0;
	for (;;) {
		long n = hs_read_body(c, buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0) {
			hs_log_message(c, "upload: read failed: %s", strerror((int)-n));
			if (n == -ECONNRESET || n == -ETIMEDOUT)
				return -1;
			return hs_send_error(c, n == -ENOMEM ? 500 : 400, NULL, NULL);
		}
		crc = crc32_update(crc, buf, (size_t)n);
		total += n;
	}
	char text[128];
	snprintf(text, sizeof text, "%lld %08x %ld\n", total, (unsigned)~crc, peak_rss_kib());
	return reply(c, 200, text);
}

static int defer_slot(const struct hs_handler *self, struct hs_conn *c,
                      const struct hs_request *r)
{
	static const struct hs_defer_ops ops = {0};
	struct hs_watch *w;
	(void)self;
	(void)r;
	int d = hs_defer(c, &ops, NULL);
	int wn = hs_watch_new(c, -1, 0, NULL, NULL, &w);
	char text[64];
	snprintf(text, sizeof text, "defer %d watch %d\n", d, wn);
	return reply(c, 200, text);
}

static int slowbody_slot(const struct hs_handler *self, struct hs_conn *c,
                         const struct hs_request *r)
{
	(void)self;
	long ms = atol(query(r));
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Length", "5");
	hs_end_headers(c);
	if (hs_flush_headers(c) < 0)
		return -1;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	return hs_write(c, "body\n", 5) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ deferred responses */

struct later {
	struct hs_conn *c;
	struct hs_watch *timer;
	bool file;        /* /deferfile: everything at once; /deferhead: the head, then the body */
	bool head_sent;
	long ms;
	char name[256];
};

static void later_abort(struct hs_conn *c, void *arg)
{
	struct later *l = arg;
	(void)c;
	hs_watch_free(l->timer);
	free(l);
}

static const struct hs_defer_ops later_ops = {.on_abort = later_abort};

static void later_fire(struct hs_watch *w, unsigned events, void *arg)
{
	struct later *l = arg;
	struct hs_conn *c = l->c;
	(void)w;
	if (events & HS_WATCH_CLOSING)
		return;
	if (l->file) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", files.directory, l->name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
		char length[32];
		snprintf(length, sizeof length, "%lld", (long long)size + 4);
		hs_send_response(c, 200, NULL);
		hs_send_header(c, "Content-Length", length);
		hs_end_headers(c);
		if (fd >= 0)
			hs_send_file(c, fd, 0, size);
		hs_write(c, "end\n", 4);
		hs_flush(c);
	} else if (!l->head_sent) {
		l->head_sent = true;
		hs_send_response(c, 200, NULL);
		hs_send_header(c, "Content-Length", "5");
		hs_end_headers(c);
		hs_flush_headers(c);
		if (hs_watch_timeout(l->timer, l->ms) == 0)
			return;
	} else {
		hs_write(c, "body\n", 5);
	}
	hs_watch_free(l->timer);
	free(l);
	hs_finish(c);
}

static int later_slot(struct hs_conn *c, const struct hs_request *r, bool file)
{
	struct later *l = calloc(1, sizeof *l);
	if (!l)
		return hs_send_error(c, 500, NULL, NULL);
	l->c = c;
	l->file = file;
	snprintf(l->name, sizeof l->name, "%s", query(r));
	l->ms = atol(query(r));
	if (hs_watch_new(c, -1, 0, later_fire, l, &l->timer) < 0 ||
	    hs_watch_timeout(l->timer, 20) < 0 || hs_defer(c, &later_ops, l) < 0) {
		if (l->timer)
			hs_watch_free(l->timer);
		free(l);
		return hs_send_error(c, 500, NULL, NULL);
	}
	return 0;
}

static hs_method_fn *slow_slot(const struct hs_request *r)
{
	static const struct {
		const char *prefix;
		hs_method_fn *fn;
	} routes[] = {{"/sleep", sleep_slot}, {"/stream", stream_slot}, {"/file", file_slot},
	              {"/upload", upload_slot}, {"/defer", defer_slot},
	              {"/slowbody", slowbody_slot}, {"/files", files_slot}};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		size_t n = strlen(routes[i].prefix);
		if (strncmp(r->path, routes[i].prefix, n) == 0 && strchr("?", r->path[n]))
			return routes[i].fn;
	}
	return NULL;
}

/* Slow paths go to the pool (at once when the whole handler is blocking); the rest are
 * files. */
static int route(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	hs_method_fn *fn = slow_slot(r);
	if (!self->blocking && strncmp(r->path, "/deferfile?", 11) == 0)
		return later_slot(c, r, true);
	if (!self->blocking && strncmp(r->path, "/deferhead?", 11) == 0)
		return later_slot(c, r, false);
	if (!fn)
		return strcmp(r->command, "GET") == 0 ? static_GET(self, c, r)
		                                      : hs_send_error(c, 405, NULL, NULL);
	if (self->blocking)
		return fn(self, c, r);
	int rc = hs_run_blocking(c, fn);
	return rc < 0 ? hs_send_error(c, 500, "hs_run_blocking failed", strerror(-rc)) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pool_server DIR mixed|blocking [THREADS [QUEUE [DRAIN_MS "
		                "[WORKERS]]]]\n");
		return 2;
	}
	if (hs_static_init(&files, argv[1]) < 0) {
		fprintf(stderr, "pool_server: cannot open %s\n", argv[1]);
		return 1;
	}
	static_GET = files.base.do_GET;
	files.base.protocol_version = "HTTP/1.1";
	files.base.do_GET = route;
	files.base.do_PUT = route;
	files.base.do_POST = route;
	files.base.stream_body = true;
	files.base.ignore_body = false;
	files.base.blocking = strcmp(argv[2], "blocking") == 0;
	struct hs_options opt = {
		.host = "127.0.0.1",
		.port = "0",
		.workers = argc > 6 ? atoi(argv[6]) : 2,
		.handler_threads = argc > 3 ? atoi(argv[3]) : 16,
		.handler_queue = argc > 4 ? atoi(argv[4]) : 0,
		.drain_timeout_ms = argc > 5 ? atoi(argv[5]) : 0,
		.body_timeout_ms = 3000,
		.send_timeout_ms = 3000,
	};
	opt.tls.self_signed = argc > 7 && strcmp(argv[7], "tls") == 0;
	int rc = hs_server_new(&server, &opt, &files.base);
	if (rc < 0) {
		fprintf(stderr, "pool_server: cannot listen: %s\n", strerror(-rc));
		hs_static_fini(&files);
		return 1;
	}
	char host[64];
	int port;
	hs_server_address(server, host, sizeof host, &port);
	const char *s = hs_server_is_tls(server) ? "s" : "";
	printf("Serving HTTP%s on %s port %d (http%s://%s:%d/) ...\n", s[0] ? "S" : "", host, port, s,
	       host, port);
	fflush(stdout);
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	rc = hs_server_serve_forever(server);
	if (rc < 0)
		fprintf(stderr, "pool_server: cannot serve: %s\n", strerror(-rc));
	hs_server_close(server);
	hs_static_fini(&files);
	return rc < 0 ? 1 : 0;
}
