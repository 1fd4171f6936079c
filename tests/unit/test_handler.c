/*
 * test_handler.c: the request handlers driven over socketpair(2), no network. Each case
 * builds a detached server (one worker, its log in a memfd), writes a whole request
 * into one end, shuts that end for writing, serves the other end on this thread until
 * the connection closes, then compares every byte the client got (Date values checked
 * against the clock, then written "DATE") and every log line (format and local time
 * checked, then the date written "D") with what Python sends and logs, or with what we
 * send instead where we differ on purpose or Python breaks: a user handler's
 * send_response/send_header/write, request bodies (Content-Length and chunked), Expect:
 * 100-continue, 501, send_error and its page, custom error formats, log_message,
 * pipelining and persistence; the request-line, header and framing errors with their
 * limits; and the static file handler (files, HEAD, redirects, index pages, listings,
 * 404s, If-Modified-Since, traversal attempts, a sendfile body).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"

#define SERVER "Server: httpserve/" HS_VERSION "\r\n"
#define DATE "Date: DATE\r\n"
/* A log line from a socketpair client (its address is empty): "ADDR - - [date] MSG". */
#define LOG(msg) " - - [D] " msg "\n"
/* The user handler's answer: text/plain with the given length and body. */
#define OK(ver, len, body) \
	ver " 200 OK\r\n" SERVER DATE "Content-Type: text/plain\r\nContent-Length: " len "\r\n\r\n" body
/* The same when the client asked to close and the server speaks HTTP/1.1: the response
 * says it too (RFC 9112 9.6). */
#define OK_CLOSE(len, body)                                                      \
	"HTTP/1.1 200 OK\r\n" SERVER DATE "Content-Type: text/plain\r\nContent-Length: " len \
	"\r\nConnection: close\r\n\r\n" body
#define HOST "Host: x\r\n"
#define NEXT "GET /next HTTP/1.1\r\n" HOST "\r\n" /* a pipelined request that must stay unanswered */

static void fail(const char *name, const char *what)
{
	check_count++;
	check_failures++;
	fprintf(stderr, "FAIL %s: %s\n", name, what);
}

/* CHECK_MEM with the case's name on failure. */
static void expect_mem(const char *name, const struct hs__buf *got, const char *want, size_t wn)
{
	int before = check_failures;
	CHECK_MEM(got->data ? got->data : "", got->len, want, wn);
	if (check_failures != before)
		fprintf(stderr, "  in case: %s\n", name);
}

static bool contains(const struct hs__buf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

/* ------------------------------------------------------------ dates */

/* Replaces each `prefix` + date + `suffix` whose date is fmt of a time in [t0, t1]
 * (gmt or local) with `prefix` + mark + `suffix`; a date that is not gets "BAD-DATE". */
static void normalize_dates(struct hs__buf *b, const char *prefix, const char *suffix,
                            size_t dlen, const char *fmt, bool gmt, time_t t0, time_t t1,
                            const char *mark)
{
	struct hs__buf out = {0};
	size_t pl = strlen(prefix), sl = strlen(suffix), i = 0;
	while (i < b->len) {
		const char *p = memmem(b->data + i, b->len - i, prefix, pl);
		size_t at = p ? (size_t)(p - b->data) : b->len;
		hs__buf_append(&out, b->data + i, at - i);
		if (!p)
			break;
		hs__buf_append(&out, prefix, pl);
		i = at + pl;
		bool ok = false;
		if (b->len - i >= dlen + sl && memcmp(b->data + i + dlen, suffix, sl) == 0) {
			for (time_t t = t0; t <= t1 && !ok; t++) {
				struct tm tm;
				char want[64];
				size_t n = strftime(want, sizeof want, fmt, gmt ? gmtime_r(&t, &tm)
				                                                : localtime_r(&t, &tm));
				ok = n == dlen && memcmp(want, b->data + i, dlen) == 0;
			}
		}
		hs__buf_puts(&out, ok ? mark : "BAD-DATE");
		if (ok)
			i += dlen;
	}
	hs__buf_free(b);
	*b = out;
}

/* ------------------------------------------------------------ one exchange */

struct result {
	struct hs__buf resp; /* what the client received, "Date: DATE" */
	struct hs__buf log;  /* the log, "[D]" */
};

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false; /* would block: the request does not fit the socket buffer */
		p += k;
		n -= (size_t)k;
	}
	return true;
}

static void read_all(const char *name, int fd, struct hs__buf *out)
{
	char buf[16384];
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0) {
			fail(name, "the response never ended");
			return;
		}
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		hs__buf_append(out, buf, (size_t)n);
	}
}

static void read_file(int fd, struct hs__buf *out)
{
	char buf[16384];
	ssize_t n;
	for (off_t off = 0; (n = pread(fd, buf, sizeof buf, off)) > 0; off += n)
		hs__buf_append(out, buf, (size_t)n);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replaces each ETag value of the form the static handler makes ("INODE-SIZE-SEC.NSEC";
 * the inode differs per run) with ETAG, and any other value with BAD-ETAG. */
static void normalize_etags(struct hs__buf *b)
{
	static const char key[] = "\r\nETag: \"";
	struct hs__buf out = {0};
	size_t i = 0, kl = sizeof key - 1;
	while (i < b->len) {
		const char *p = memmem(b->data + i, b->len - i, key, kl);
		size_t at = p ? (size_t)(p - b->data) : b->len;
		hs__buf_append(&out, b->data + i, at - i);
		if (!p)
			break;
		size_t v = at + kl, e = v;
		while (e < b->len && strchr("0123456789abcdef-.", b->data[e]) && b->data[e])
			e++;
		bool ok = e + 3 <= b->len && memcmp(b->data + e, "\"\r\n", 3) == 0 && e - v >= 15;
		hs__buf_puts(&out, ok ? "\r\nETag: ETAG" : "\r\nETag: BAD-ETAG");
		i = ok ? e + 1 : v;
	}
	hs__buf_free(b);
	*b = out;
}

/* Serves the request bytes on a fresh detached server and collects the outcome. The
 * connection must close by itself, at once: the client has finished sending. */
static void run(const char *name, const struct hs_handler *h, const struct hs_options *o,
                const char *req, size_t n, struct result *r)
{
	struct hs_options opt = o ? *o : (struct hs_options){0};
	opt.workers = 1;
	opt.header_timeout_ms = opt.body_timeout_ms = opt.send_timeout_ms = 3000;
	opt.idle_timeout_ms = 3000;
	opt.log_fd = memfd_create("hs-log", MFD_CLOEXEC);
	*r = (struct result){0};
	int sv[2];
	struct hs_server *s = NULL;
	if (opt.log_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fail(name, "setup");
		return;
	}
	if (hs__server_new_detached(&s, &opt, h) < 0) {
		fail(name, "hs__server_new_detached");
		close(sv[0]);
		close(sv[1]);
		close(opt.log_fd);
		return;
	}
	time_t t0 = time(NULL) - 1; /* the coarse clock may lag a little */
	if (!send_all(sv[0], req, n))
		fail(name, "the request does not fit the socket buffer");
	shutdown(sv[0], SHUT_WR);
	int64_t start = now_ms();
	CHECK_INT(hs__server_serve_socket(s, sv[1]), 0);
	if (now_ms() - start > 1500)
		fail(name, "the connection did not close at once");
	read_all(name, sv[0], &r->resp);
	close(sv[0]);
	read_file(opt.log_fd, &r->log);
	close(opt.log_fd);
	hs_server_close(s);
	time_t t1 = time(NULL);
	normalize_dates(&r->resp, "\r\nDate: ", "\r\n", 29, "%a, %d %b %Y %H:%M:%S GMT", true,
	                t0, t1, "DATE");
	normalize_dates(&r->log, " - - [", "] ", 20, "%d/%b/%Y %H:%M:%S", false, t0, t1, "D");
	normalize_etags(&r->resp);
}

static void result_free(struct result *r)
{
	hs__buf_free(&r->resp);
	hs__buf_free(&r->log);
}

static int g_calls; /* handler slot calls */

/* Runs a request and compares the response and (unless NULL) the log exactly. */
static void exact(const char *name, const struct hs_handler *h, const struct hs_options *o,
                  const char *req, size_t n, const char *want, size_t wn, const char *log)
{
	struct result r;
	run(name, h, o, req, n, &r);
	expect_mem(name, &r.resp, want, wn);
	if (log)
		expect_mem(name, &r.log, log, strlen(log));
	result_free(&r);
}

/* ------------------------------------------------------------ the error page */

static const char page_format[] = /* Python's DEFAULT_ERROR_MESSAGE */
	"<!DOCTYPE HTML>\n"
	"<html lang=\"en\">\n"
	"    <head>\n"
	"        <meta charset=\"utf-8\">\n"
	"        <title>Error response</title>\n"
	"    </head>\n"
	"    <body>\n"
	"        <h1>Error response</h1>\n"
	"        <p>Error code: %d</p>\n"
	"        <p>Message: %s.</p>\n"
	"        <p>Error code explanation: %d - %s.</p>\n"
	"    </body>\n"
	"</html>\n";

/* The whole answer send_error gives: status line, Server, Date, Connection: close, and
 * for codes with a body Content-Type, Content-Length and (not for HEAD) the page. */
static void error_response(struct hs__buf *out, const char *status, const char *message,
                           const char *explain, bool head)
{
	int code = atoi(status + 9);
	struct hs__buf page = {0};
	hs__buf_printf(&page, page_format, code, message, code, explain);
	hs__buf_printf(out, "%s\r\n" SERVER DATE "Connection: close\r\n", status);
	if (code >= 200 && code != 204 && code != 205 && code != 304) {
		hs__buf_printf(out, "Content-Type: text/html;charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
		               page.len);
		if (!head)
			hs__buf_append(out, page.data, page.len);
	} else {
		hs__buf_puts(out, "\r\n");
	}
	hs__buf_free(&page);
}

struct error_case {
	const char *name;
	const char *request;
	const char *status;           /* the status line */
	const char *message, *explain; /* as the page shows them (HTML-escaped) */
	const char *log;
};

/* The same, for a request of n bytes that may hold a NUL. */
static void check_error_n(const struct error_case *e, size_t n, const struct hs_handler *h,
                          const struct hs_options *o, int calls)
{
	struct hs__buf want = {0};
	error_response(&want, e->status, e->message, e->explain, strncmp(e->request, "HEAD ", 5) == 0);
	g_calls = 0;
	exact(e->name, h, o, e->request, n, want.data, want.len, e->log);
	if (g_calls != calls)
		fail(e->name, "the handler slot was called, or not called, contrary to the case");
	hs__buf_free(&want);
}

static void check_error(const struct error_case *e, const struct hs_handler *h,
                        const struct hs_options *o, int calls)
{
	check_error_n(e, strlen(e->request), h, o, calls);
}

/* ------------------------------------------------------------ a user handler */

/* The rest of a text/plain answer after send_response. */
static int finish(struct hs_conn *c, const char *body)
{
	char len[24];
	size_t n = strlen(body);
	snprintf(len, sizeof len, "%zu", n);
	int rc = hs_send_header(c, "Content-Type", "text/plain");
	rc = rc ?: hs_send_header(c, "Content-Length", len);
	rc = rc ?: hs_end_headers(c);
	return rc ?: (hs_write(c, body, n) == (long)n ? 0 : -EIO);
}

static int reply(struct hs_conn *c, const char *body)
{
	return hs_send_response(c, 200, NULL) ?: finish(c, body);
}

/* Header text that would end the line early is refused and queues nothing. */
static int bad_headers(struct hs_conn *c)
{
	char body[64];
	hs_send_response(c, 200, NULL);
	snprintf(body, sizeof body, "%d %d %d %d", hs_send_header(c, "X-A", "1\r\nX-B: 2"),
	         hs_send_header(c, "X-A", "1\nX-B: 2"), hs_send_header(c, "X-A", "1\rX"),
	         hs_send_header(c, "X-A\r\nX-B", "2"));
	return finish(c, body);
}

static int user_get(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	g_calls++;
	const char *p = r->path;
	if (strcmp(p, "/close") == 0) {
		hs_send_response(c, 200, NULL);
		hs_send_header(c, "Connection", "close");
		hs_send_header(c, "Content-Length", "0");
		return hs_end_headers(c);
	}
	if (strcmp(p, "/404") == 0)
		return hs_send_error(c, 404, NULL, NULL);
	if (strcmp(p, "/custom") == 0)
		return hs_send_error(c, 400, "Bad <thing> & co", "Use <b>this</b>");
	if (strcmp(p, "/204") == 0)
		return hs_send_error(c, 204, NULL, NULL);
	if (strcmp(p, "/304") == 0)
		return hs_send_error(c, 304, NULL, NULL);
	if (strcmp(p, "/599") == 0)
		return hs_send_error(c, 599, NULL, NULL);
	if (strcmp(p, "/inject") == 0)
		return hs_send_error(c, 400, "x\r\nSet-Cookie: a=b", NULL);
	if (strcmp(p, "/crlf") == 0)
		return bad_headers(c);
	if (strcmp(p, "/keep") == 0) { /* keep-alive asked by the handler */
		hs_send_response(c, 200, NULL);
		hs_send_header(c, "Connection", "keep-alive");
		return finish(c, "kept");
	}
	if (strcmp(p, "/fail") == 0) { /* a negative return drops the connection after */
		reply(c, "failed");
		return -1;
	}
	if (strcmp(p, "/fail-silent") == 0) /* failed before queuing anything: a 500 */
		return -ENOMEM;
	if (strcmp(p, "/log") == 0) {
		hs_log_error(c, "note %d", 42);
		return reply(c, "logged");
	}
	if (strncmp(p, "/host", 5) == 0) { /* the Host the slot sees, and how many */
		size_t hosts = 0;
		for (size_t i = 0; i < r->nheaders; i++)
			hosts += strcasecmp(r->headers[i].name, "Host") == 0;
		char text[64];
		snprintf(text, sizeof text, "%zu %s", hosts, hs_header(r, "Host") ? hs_header(r, "Host") : "-");
		return reply(c, text);
	}
	if (strlen(p) > 64) {
		char body[32];
		snprintf(body, sizeof body, "long %zu", strlen(p));
		return reply(c, body);
	}
	return reply(c, p);
}

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 16777619u;
	return h;
}

/* rfile.read in small pieces: "cl=<content_length> body=<the body>", or for a long
 * body its length and FNV-1a hash. */
static int user_post(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	g_calls++;
	char piece[7], start[64] = "", out[128];
	size_t n = 0;
	uint32_t h = 2166136261u;
	long k;
	while ((k = hs_read_body(c, piece, n % 2 ? 3 : sizeof piece)) > 0) {
		if (n + (size_t)k < sizeof start)
			memcpy(start + n, piece, (size_t)k);
		h = fnv1a(h, piece, (size_t)k);
		n += (size_t)k;
	}
	if (n < sizeof start)
		snprintf(out, sizeof out, "cl=%lld body=%s", r->content_length, start);
	else
		snprintf(out, sizeof out, "cl=%lld n=%zu fnv=%08x", r->content_length, n, (unsigned)h);
	return reply(c, out);
}

static int user_other(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	g_calls++;
	char out[64];
	snprintf(out, sizeof out, "other %s", r->command);
	return reply(c, out);
}

static bool refuse_expect(const struct hs_handler *self, struct hs_conn *c,
                          const struct hs_request *r)
{
	(void)self;
	(void)r;
	hs_send_error(c, 417, NULL, NULL);
	return false;
}

static struct hs__buf g_msgs; /* what the log_message override received */

static void record_log(const struct hs_handler *self, struct hs_conn *c, const char *message,
                       size_t len)
{
	(void)self;
	(void)c;
	CHECK(message[len] == '\0');
	hs__buf_append(&g_msgs, message, len);
	hs__buf_puts(&g_msgs, "\n");
}

#define USER_SLOTS .do_GET = user_get, .do_POST = user_post, .do_other = user_other
static const struct hs_handler h11 = {.protocol_version = "HTTP/1.1", USER_SLOTS};
static const struct hs_handler h10 = {USER_SLOTS}; /* protocol_version NULL: HTTP/1.0 */
static const struct hs_handler h417 = {.protocol_version = "HTTP/1.1", USER_SLOTS,
                                       .handle_expect_100 = refuse_expect};
static const struct hs_handler hfmt = {
	.protocol_version = "HTTP/1.1", USER_SLOTS,
	.error_message_format = "%(code)d %(message)s: %(explain)s (100%%)\n",
	.error_content_type = "text/plain"};
static const struct hs_handler hlog = {.protocol_version = "HTTP/1.1", USER_SLOTS,
                                       .log_message = record_log};
static const struct hs_handler hign = {.protocol_version = "HTTP/1.1", USER_SLOTS,
                                       .ignore_body = true};

struct exact_case {
	const char *name;
	const struct hs_handler *h;
	const char *request;
	const char *response;
	const char *log; /* NULL: not checked */
};

static const struct exact_case user_cases[] = {
	{"send_response, headers, end_headers, write; Server then Date", &h11,
	 "GET /hello HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "6", "/hello"),
	 LOG("\"GET /hello HTTP/1.1\" 200 -")},
	{"the status line carries the server's version, not the request's", &h11,
	 "GET /hello HTTP/1.0\r\n\r\n", OK_CLOSE("6", "/hello"), NULL},
	{"a server speaking HTTP/1.0", &h10, "GET /hello HTTP/1.1\r\n" HOST "\r\n",
	 OK("HTTP/1.0", "6", "/hello"), NULL},
	{"pipelined requests are answered in order on one connection", &h11,
	 "GET /a HTTP/1.1\r\n" HOST "\r\nGET /bb HTTP/1.1\r\n" HOST "\r\nGET /c HTTP/1.1\r\n" HOST "\r\n",
	 OK("HTTP/1.1", "2", "/a") OK("HTTP/1.1", "3", "/bb") OK("HTTP/1.1", "2", "/c"),
	 LOG("\"GET /a HTTP/1.1\" 200 -") LOG("\"GET /bb HTTP/1.1\" 200 -")
	 LOG("\"GET /c HTTP/1.1\" 200 -")},
	{"send_header(Connection, close) closes after the response", &h11,
	 "GET /close HTTP/1.1\r\n" HOST "\r\n" NEXT,
	 "HTTP/1.1 200 OK\r\n" SERVER DATE "Connection: close\r\nContent-Length: 0\r\n\r\n",
	 LOG("\"GET /close HTTP/1.1\" 200 -")},
	{"send_header(Connection, keep-alive) keeps an HTTP/1.0 request's connection", &h11,
	 "GET /keep HTTP/1.0\r\n\r\n" NEXT,
	 "HTTP/1.1 200 OK\r\n" SERVER DATE "Connection: keep-alive\r\nContent-Type: text/plain\r\n"
	 "Content-Length: 4\r\n\r\nkept" OK("HTTP/1.1", "5", "/next"), NULL},
	{"a slot returning a negative value: sent, then closed", &h11,
	 "GET /fail HTTP/1.1\r\n" HOST "\r\n" NEXT, OK("HTTP/1.1", "6", "failed"), NULL},
	{"a request saying Connection: close", &h11,
	 "GET /a HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n" NEXT, OK_CLOSE("2", "/a"), NULL},
	{"an HTTP/1.0 request closes", &h11, "GET /a HTTP/1.0\r\n\r\n" NEXT,
	 OK_CLOSE("2", "/a"), NULL},
	{"an HTTP/1.0 request with keep-alive stays open on an HTTP/1.1 server", &h11,
	 "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" NEXT,
	 OK("HTTP/1.1", "2", "/a") OK("HTTP/1.1", "5", "/next"), NULL},
	{"an HTTP/1.0 server closes after every response, keep-alive or not", &h10,
	 "GET /a HTTP/1.1\r\n" HOST "Connection: keep-alive\r\n\r\n" NEXT,
	 OK("HTTP/1.0", "2", "/a"), NULL},
	{"hs_read_body with Content-Length; the next request after the body", &h11,
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello" NEXT,
	 OK("HTTP/1.1", "15", "cl=5 body=hello") OK("HTTP/1.1", "5", "/next"),
	 LOG("\"POST /up HTTP/1.1\" 200 -") LOG("\"GET /next HTTP/1.1\" 200 -")},
	{"hs_read_body with a chunked body, extension and trailer", &h11,
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	 "5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n" NEXT,
	 OK("HTTP/1.1", "22", "cl=11 body=hello world") OK("HTTP/1.1", "5", "/next"), NULL},
	{"ignore_body: a Content-Length body is dropped; the next request after it", &hign,
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello" NEXT,
	 OK("HTTP/1.1", "10", "cl=0 body=") OK("HTTP/1.1", "5", "/next"), NULL},
	{"ignore_body: a chunked body is dropped; the next request after it", &hign,
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	 "5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n" NEXT,
	 OK("HTTP/1.1", "10", "cl=0 body=") OK("HTTP/1.1", "5", "/next"), NULL},
	{"a repeated, equal Content-Length is one length", &h11,
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
	 OK("HTTP/1.1", "12", "cl=2 body=hi"), NULL},
	{"bare LF line ends are accepted, as Python does", &h11, "GET /lf HTTP/1.1\nHost: x\n\n",
	 OK("HTTP/1.1", "3", "/lf"), LOG("\"GET /lf HTTP/1.1\" 200 -")},
	{"an empty line before a request: close silently", &h11, "\r\n" NEXT, "", ""},
	{"a blank line of spaces: close silently", &h11, "  \t \r\n" NEXT, "", ""},
	{"end of stream before a request: close silently", &h11, "", "", ""},
	{"a POST without a body", &h11, "POST /up HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n",
	 OK("HTTP/1.1", "10", "cl=0 body="), NULL},
	{"Expect: 100-continue gets 100 Continue first, unlogged", &h11,
	 "POST /up HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
	 "HTTP/1.1 100 Continue\r\n\r\n" OK("HTTP/1.1", "15", "cl=5 body=hello"),
	 LOG("\"POST /up HTTP/1.1\" 200 -")},
	{"Expect from an HTTP/1.0 client: no 100", &h11,
	 "POST /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
	 OK_CLOSE("15", "cl=5 body=hello"), NULL},
	{"Expect to an HTTP/1.0 server: no 100", &h10,
	 "POST /up HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
	 OK("HTTP/1.0", "15", "cl=5 body=hello"), NULL},
	{"do_other takes a method without a slot of its own", &h11,
	 "BREW /pot HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "10", "other BREW"), NULL},
	{"hs_send_header refuses CR or LF in a name or value (-EINVAL)", &h11,
	 "GET /crlf HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "15", "-22 -22 -22 -22"), NULL},
	{"a path starting with // is reduced to one /", &h11, "GET //a//b HTTP/1.1\r\n" HOST "\r\n",
	 OK("HTTP/1.1", "5", "/a//b"), LOG("\"GET //a//b HTTP/1.1\" 200 -")},
	{"absolute-form: the slot sees the path", &h11,
	 "GET http://example.com:8000//a//b?q HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "7", "/a//b?q"),
	 LOG("\"GET http://example.com:8000//a//b?q HTTP/1.1\" 200 -")},
	{"absolute-form: the authority replaces Host", &h11,
	 "GET HTTPS://[::1]:8443/host HTTP/1.1\r\nHost: x y\r\n\r\n", OK("HTTP/1.1", "12", "1 [::1]:8443"), NULL},
	{"absolute-form in HTTP/1.0 without Host: the authority is the Host", &h10,
	 "GET http://h/host HTTP/1.0\r\n\r\n", OK("HTTP/1.0", "3", "1 h"), NULL},
	{"absolute-form with nothing after the authority asks for /", &h11,
	 "GET http://h?x=1 HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "5", "/?x=1"), NULL},
	{"a valid Host is kept", &h11,
	 "GET /host HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", OK("HTTP/1.1", "10", "1 [::1]:80"), NULL},
	{"an empty Host is valid", &h11, "GET /host HTTP/1.1\r\nHost:\r\n\r\n", OK("HTTP/1.1", "2", "1 "), NULL},
	{"///x is /x", &h11, "GET ///x HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "2", "/x"), NULL},
	{"HTTP/0.9: the body alone, no headers read, then close", &h11,
	 "GET /hello\r\n" HOST "\r\n" NEXT, "/hello", LOG("\"GET /hello\" 200 -")},
	{"log_error from a slot, then the request line", &h11, "GET /log HTTP/1.1\r\n" HOST "\r\n",
	 OK("HTTP/1.1", "6", "logged"), LOG("note 42") LOG("\"GET /log HTTP/1.1\" 200 -")},
	{"C1 bytes and backslashes in log messages are escaped", &h11,
	 "GET /\x9b\\\x9f HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "4", "/\x9b\\\x9f"),
	 LOG("\"GET /\\x9b\\\\\\x9f HTTP/1.1\" 200 -")},
	{"bytes from 0xa0 are logged as the UTF-8 of their latin-1 character", &h11,
	 "GET /\351 HTTP/1.1\r\n" HOST "\r\n", OK("HTTP/1.1", "2", "/\351"),
	 LOG("\"GET /\303\251 HTTP/1.1\" 200 -")},
	{"a custom error_message_format and error_content_type", &hfmt,
	 "GET /custom HTTP/1.1\r\n" HOST "\r\n",
	 "HTTP/1.1 400 Bad <thing> & co\r\n" SERVER DATE
	 "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: 67\r\n\r\n"
	 "400 Bad &lt;thing&gt; &amp; co: Use &lt;b&gt;this&lt;/b&gt; (100%)\n",
	 LOG("code 400, message Bad <thing> & co") LOG("\"GET /custom HTTP/1.1\" 400 -")},
};

static const struct error_case user_errors[] = {
	{"send_error(404): the standard texts", "GET /404 HTTP/1.1\r\n" HOST "\r\n" NEXT,
	 "HTTP/1.1 404 Not Found", "Not Found", "Nothing matches the given URI",
	 LOG("code 404, message Not Found") LOG("\"GET /404 HTTP/1.1\" 404 -")},
	{"send_error with its own message and explain, HTML-escaped in the page",
	 "GET /custom HTTP/1.1\r\n" HOST "\r\n", "HTTP/1.1 400 Bad <thing> & co",
	 "Bad &lt;thing&gt; &amp; co", "Use &lt;b&gt;this&lt;/b&gt;",
	 LOG("code 400, message Bad <thing> & co") LOG("\"GET /custom HTTP/1.1\" 400 -")},
	{"a slot failing before it queued anything: 500, then closed",
	 "GET /fail-silent HTTP/1.1\r\n" HOST "\r\n" NEXT, "HTTP/1.1 500 Internal Server Error",
	 "Internal Server Error", "Server got itself in trouble",
	 LOG("code 500, message Internal Server Error")
	 LOG("\"GET /fail-silent HTTP/1.1\" 500 -")},
	{"send_error(204): no body", "GET /204 HTTP/1.1\r\n" HOST "\r\n", "HTTP/1.1 204 No Content",
	 "", "", NULL},
	{"send_error(304): no body", "GET /304 HTTP/1.1\r\n" HOST "\r\n",
	 "HTTP/1.1 304 Not Modified", "", "", NULL},
	{"an unknown code: ???", "GET /599 HTTP/1.1\r\n" HOST "\r\n", "HTTP/1.1 599 ???", "???",
	 "???", LOG("code 599, message ???") LOG("\"GET /599 HTTP/1.1\" 599 -")},
	{"a message never splits the status line; the log escapes it",
	 "GET /inject HTTP/1.1\r\n" HOST "\r\n", "HTTP/1.1 400 x  Set-Cookie: a=b",
	 "x\r\nSet-Cookie: a=b", "Bad request syntax or unsupported method",
	 LOG("code 400, message x\\x0d\\x0aSet-Cookie: a=b") LOG("\"GET /inject HTTP/1.1\" 400 -")},
};

/* Errors the server answers without calling a slot. */
static const struct error_case server_errors[] = {
	{"a method with no slot: 501", "PUT /x HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nab" NEXT,
	 "HTTP/1.1 501 Unsupported method ('PUT')", "Unsupported method ('PUT')",
	 "Server does not support this operation",
	 LOG("code 501, message Unsupported method ('PUT')") LOG("\"PUT /x HTTP/1.1\" 501 -")},
	{"HEAD gets send_error's headers alone", "HEAD /x HTTP/1.1\r\n" HOST "\r\n",
	 "HTTP/1.1 501 Unsupported method ('HEAD')", "Unsupported method ('HEAD')",
	 "Server does not support this operation", NULL},
	{"bad version word, in Python's repr", "GET / HTTP/1x\r\n" HOST "\r\n" NEXT,
	 "HTTP/1.0 400 Bad request version ('HTTP/1x')", "Bad request version ('HTTP/1x')",
	 "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request version ('HTTP/1x')") LOG("\"GET / HTTP/1x\" 400 -")},
	{"bad version word with a quote: repr picks double quotes", "GET / HTTP/1'1\r\n\r\n",
	 "HTTP/1.0 400 Bad request version (\"HTTP/1'1\")", "Bad request version (\"HTTP/1'1\")",
	 "Bad request syntax or unsupported method", NULL},
	{"a control byte in the version word: bad syntax, before the version", "GET / HTTP/1.1\001\r\n\r\n",
	 "HTTP/1.0 400 Bad request syntax ('GET / HTTP/1.1\\x01')",
	 "Bad request syntax ('GET / HTTP/1.1\\x01')", "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request syntax ('GET / HTTP/1.1\\\\x01')")
	 LOG("\"GET / HTTP/1.1\\x01\" 400 -")},
	{"absolute-form with another scheme: 400", "GET ftp://h/x HTTP/1.1\r\n" HOST "\r\n\r\n",
	 "HTTP/1.1 400 Bad request target ('ftp://h/x')", "Bad request target ('ftp://h/x')",
	 "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request target ('ftp://h/x')") LOG("\"GET ftp://h/x HTTP/1.1\" 400 -")},
	{"absolute-form with userinfo: 400", "GET http://u@h/x HTTP/1.1\r\n" HOST "\r\n\r\n",
	 "HTTP/1.1 400 Bad request target ('http://u@h/x')", "Bad request target ('http://u@h/x')",
	 "Bad request syntax or unsupported method", NULL},
	{"an invalid Host: 400", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	 "HTTP/1.1 400 Invalid Host header", "Invalid Host header",
	 "Bad request syntax or unsupported method",
	 LOG("code 400, message Invalid Host header") LOG("\"GET / HTTP/1.1\" 400 -")},
	{"an invalid Host in HTTP/1.0 too", "GET / HTTP/1.0\r\nHost: a/b\r\n\r\n",
	 "HTTP/1.1 400 Invalid Host header", "Invalid Host header",
	 "Bad request syntax or unsupported method", NULL},
	{"version 2.0: 505", "GET / HTTP/2.0\r\n" HOST "\r\n" NEXT,
	 "HTTP/1.0 505 Invalid HTTP version (2.0)", "Invalid HTTP version (2.0)",
	 "Cannot fulfill request",
	 LOG("code 505, message Invalid HTTP version (2.0)") LOG("\"GET / HTTP/2.0\" 505 -")},
	/* Four words whose last is a valid version: Python has set request_version by then
	 * and answers in full with the server's version; nothing to repair (the status line
	 * carries the server's version, not the request's). */
	{"four words: bad syntax", "GET / x HTTP/1.1\r\n" HOST "\r\n" NEXT,
	 "HTTP/1.1 400 Bad request syntax ('GET / x HTTP/1.1')",
	 "Bad request syntax ('GET / x HTTP/1.1')", "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request syntax ('GET / x HTTP/1.1')")
	 LOG("\"GET / x HTTP/1.1\" 400 -")},
	{"0x85 splits words as Python's str.split(); repr and log escape it",
	 "GET /\205x HTTP/1.1\r\n" HOST "\r\n", "HTTP/1.1 400 Bad request syntax ('GET /\\x85x HTTP/1.1')",
	 "Bad request syntax ('GET /\\x85x HTTP/1.1')", "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request syntax ('GET /\\\\x85x HTTP/1.1')")
	 LOG("\"GET /\\x85x HTTP/1.1\" 400 -")},
	{"one word: bad syntax", "GET\r\n\r\n", "HTTP/1.0 400 Bad request syntax ('GET')",
	 "Bad request syntax ('GET')", "Bad request syntax or unsupported method", NULL},
	{"HTTP/0.9 allows GET only", "POST /\r\n\r\n" NEXT,
	 "HTTP/1.0 400 Bad HTTP/0.9 request type ('POST')", "Bad HTTP/0.9 request type ('POST')",
	 "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad HTTP/0.9 request type ('POST')") LOG("\"POST /\" 400 -")},
};

static void test_user_handler(void)
{
	for (size_t i = 0; i < sizeof user_cases / sizeof user_cases[0]; i++) {
		const struct exact_case *e = &user_cases[i];
		exact(e->name, e->h, NULL, e->request, strlen(e->request), e->response,
		      strlen(e->response), e->log);
	}
	for (size_t i = 0; i < sizeof user_errors / sizeof user_errors[0]; i++)
		check_error(&user_errors[i], &h11, NULL, 1);
	for (size_t i = 0; i < sizeof server_errors / sizeof server_errors[0]; i++)
		check_error(&server_errors[i], &h11, NULL, 0);
	/* requests holding a NUL, given by length: never cut short, in the page or the log */
	static const struct error_case with_nul[] = {
		{"a NUL in the path: 400, the whole line in the log", "GET /a.txt\0.png HTTP/1.0\r\n\r\n",
		 "HTTP/1.0 400 Bad request syntax ('GET /a.txt\\x00.png HTTP/1.0')",
		 "Bad request syntax ('GET /a.txt\\x00.png HTTP/1.0')", "Bad request syntax or unsupported method",
		 LOG("code 400, message Bad request syntax ('GET /a.txt\\\\x00.png HTTP/1.0')")
		 LOG("\"GET /a.txt\\x00.png HTTP/1.0\" 400 -")},
		{"a TLS handshake: 400 before any line end", "\x16\x03\x01\x02\x00\x01",
		 "HTTP/1.0 400 Bad request syntax ('\\x16\\x03\\x01\\x02\\x00\\x01')",
		 "Bad request syntax ('\\x16\\x03\\x01\\x02\\x00\\x01')", "Bad request syntax or unsupported method",
		 LOG("code 400, message Bad request syntax ('\\\\x16\\\\x03\\\\x01\\\\x02\\\\x00\\\\x01')")
		 LOG("\"\\x16\\x03\\x01\\x02\\x00\\x01\" 400 -")},
	};
	check_error_n(&with_nul[0], sizeof "GET /a.txt\0.png HTTP/1.0\r\n\r\n" - 1, &h11, NULL, 0);
	check_error_n(&with_nul[1], 6, &h11, NULL, 0);

	static const struct error_case refused = {
		"handle_expect_100 refuses with 417; the slot never runs",
		"POST /up HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" NEXT,
		"HTTP/1.1 417 Expectation Failed", "Expectation Failed",
		"Expect condition could not be satisfied",
		LOG("code 417, message Expectation Failed") LOG("\"POST /up HTTP/1.1\" 417 -")};
	check_error(&refused, &h417, NULL, 0);
}

/* log_message override: it receives every message, unescaped; nothing reaches log_fd. */
static void test_log_override(void)
{
	static const char req[] = "GET /\x9b HTTP/1.1\r\n" HOST "\r\nGET /404 HTTP/1.1\r\n" HOST "\r\n";
	static const char want[] = "\"GET /\x9b HTTP/1.1\" 200 -\n"
	                           "code 404, message Not Found\n"
	                           "\"GET /404 HTTP/1.1\" 404 -\n";
	g_msgs.len = 0;
	struct result r;
	run("log_message override", &hlog, NULL, req, sizeof req - 1, &r);
	CHECK_MEM(g_msgs.data ? g_msgs.data : "", g_msgs.len, want, sizeof want - 1);
	CHECK_INT(r.log.len, 0);
	CHECK(contains(&r.resp, "HTTP/1.1 404 Not Found\r\n"));
	result_free(&r);
	/* a NUL in a refused request line reaches the override whole, with its length */
	static const char nul_req[] = "GET /a\0b HTTP/1.1\r\n" HOST "\r\n";
	static const char nul_want[] = "code 400, message Bad request syntax ('GET /a\\x00b HTTP/1.1')\n"
	                               "\"GET /a\0b HTTP/1.1\" 400 -\n";
	g_msgs.len = 0;
	run("log_message override, NUL", &hlog, NULL, nul_req, sizeof nul_req - 1, &r);
	CHECK_MEM(g_msgs.data ? g_msgs.data : "", g_msgs.len, nul_want, sizeof nul_want - 1);
	CHECK(contains(&r.resp, "HTTP/1.0 400 Bad request syntax"));
	result_free(&r);
	hs__buf_free(&g_msgs);
}

/* ------------------------------------------------------------ limits */

/* "GET /aaa... HTTP/1.1\r\n" of exactly len bytes, then Host and the end of the head. */
static void long_line_request(struct hs__buf *b, size_t len)
{
	b->len = 0;
	hs__buf_puts(b, "GET /");
	while (b->len < len - strlen(" HTTP/1.1\r\n"))
		hs__buf_puts(b, "a");
	hs__buf_puts(b, " HTTP/1.1\r\n" HOST "\r\n");
}

/* A request with a header line of exactly len bytes (its CR LF included). */
static void long_header_request(struct hs__buf *b, size_t len)
{
	b->len = 0;
	hs__buf_puts(b, "GET /a HTTP/1.1\r\n" HOST);
	size_t start = b->len;
	hs__buf_puts(b, "X-Long: ");
	while (b->len - start < len - 2)
		hs__buf_puts(b, "b");
	hs__buf_puts(b, "\r\n\r\n");
}

/* A request with n header lines, Host among them. */
static void many_headers_request(struct hs__buf *b, int n)
{
	b->len = 0;
	hs__buf_puts(b, "GET /a HTTP/1.1\r\n" HOST);
	for (int i = 1; i < n; i++)
		hs__buf_printf(b, "X-%d: y\r\n", i);
	hs__buf_puts(b, "\r\n");
}

static void expect_error(const char *name, const struct hs__buf *req, const char *status,
                         const char *message, const char *explain, const char *log)
{
	struct hs__buf want = {0};
	error_response(&want, status, message, explain, false);
	exact(name, &h11, NULL, req->data, req->len, want.data, want.len, log);
	hs__buf_free(&want);
}

static void test_limits(void)
{
	struct hs__buf req = {0};
	static const char long_explain[] = "got more than 65536 bytes when reading header line";

	long_line_request(&req, 65536);
	exact("a request line of 65536 bytes is read", &h11, NULL, req.data, req.len,
	      OK("HTTP/1.1", "10", "long 65521"), strlen(OK("HTTP/1.1", "10", "long 65521")), NULL);
	long_line_request(&req, 65537);
	expect_error("a request line of 65537 bytes: 414", &req, "HTTP/1.1 414 URI Too Long",
	             "URI Too Long", "URI is too long",
	             LOG("code 414, message URI Too Long") LOG("\"\" 414 -"));

	long_header_request(&req, 65536);
	exact("a header line of 65536 bytes is read", &h11, NULL, req.data, req.len,
	      OK("HTTP/1.1", "2", "/a"), strlen(OK("HTTP/1.1", "2", "/a")), NULL);
	long_header_request(&req, 65537);
	expect_error("a header line of 65537 bytes: 431", &req, "HTTP/1.1 431 Line too long",
	             "Line too long", long_explain,
	             LOG("code 431, message Line too long") LOG("\"GET /a HTTP/1.1\" 431 -"));

	/* Python counts the empty line too: 99 headers pass, 100 do not. */
	many_headers_request(&req, 99);
	exact("99 headers are read", &h11, NULL, req.data, req.len, OK("HTTP/1.1", "2", "/a"),
	      strlen(OK("HTTP/1.1", "2", "/a")), NULL);
	for (int n = 100; n <= 101; n++) {
		many_headers_request(&req, n);
		expect_error(n == 100 ? "100 headers: 431 as Python" : "101 headers: 431", &req,
		             "HTTP/1.1 431 Too many headers", "Too many headers",
		             "got more than 100 headers",
		             LOG("code 431, message Too many headers") LOG("\"GET /a HTTP/1.1\" 431 -"));
	}
	hs__buf_free(&req);
}

/* ------------------------------------------- framing (RFC 9112, stricter than Python) */

static const char *const framing_cases[][2] = {
	{"HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n"},
	{"two Host headers", "GET /a HTTP/1.1\r\n" HOST "Host: y\r\n\r\n"},
	{"space between name and colon", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n"},
	{"obs-fold", "GET /a HTTP/1.1\r\n" HOST "X-A: 1\r\n 2\r\n\r\n"},
	{"Content-Length and Transfer-Encoding",
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	 "0\r\n\r\n"},
	{"Transfer-Encoding and Content-Length",
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	 "0\r\n\r\n"},
	{"conflicting Content-Length",
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
	{"Content-Length +5", "POST /up HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\nhello"},
	{"Content-Length -1", "POST /up HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\nhello"},
	{"Content-Length 0x5", "POST /up HTTP/1.1\r\n" HOST "Content-Length: 0x5\r\n\r\nhello"},
	{"Content-Length 5 5", "POST /up HTTP/1.1\r\n" HOST "Content-Length: 5 5\r\n\r\nhello"},
	{"Content-Length empty", "POST /up HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\nhello"},
	{"Content-Length too big for 64 bits",
	 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 99999999999999999999\r\n\r\nhello"},
	{"Transfer-Encoding gzip",
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n"},
	{"Transfer-Encoding gzip, chunked",
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
	{"Transfer-Encoding chunked from an HTTP/1.0 client",
	 "POST /up HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"a chunk size that is not hex",
	 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
};

static void test_framing(void)
{
	for (size_t i = 0; i < sizeof framing_cases / sizeof framing_cases[0]; i++) {
		const char *name = framing_cases[i][0];
		struct hs__buf req = {0};
		hs__buf_puts(&req, framing_cases[i][1]);
		hs__buf_puts(&req, NEXT);
		g_calls = 0;
		struct result r;
		run(name, &h11, NULL, req.data, req.len, &r);
		int before = check_failures;
		CHECK(r.resp.len > 13 && memcmp(r.resp.data, "HTTP/1.1 400 ", 13) == 0);
		CHECK(contains(&r.resp, "\r\nConnection: close\r\n"));
		CHECK(!contains(&r.resp, "/next"));       /* the next request is never answered */
		CHECK(!contains(&r.resp, "200 OK"));
		CHECK_INT(g_calls, 0);
		CHECK(contains(&r.log, " - - [D] code 400, message "));
		if (check_failures != before)
			fprintf(stderr, "  in case: %s\n", name);
		result_free(&r);
		hs__buf_free(&req);
	}
}

/* Bodies longer than one read: Content-Length and chunked, each followed by a
 * pipelined request, which must be answered after exactly the body is consumed. */
static void test_big_bodies(void)
{
	enum { N = 20000 };
	static char body[N];
	for (size_t i = 0; i < N; i++)
		body[i] = (char)('A' + (i * 13 + i / 97) % 26);
	char want_body[64], want[512];
	int bl = snprintf(want_body, sizeof want_body, "cl=%d n=%d fnv=%08x", N, N,
	                  (unsigned)fnv1a(2166136261u, body, N));
	snprintf(want, sizeof want,
	         OK("HTTP/1.1", "%d", "%s") OK("HTTP/1.1", "5", "/next"), bl, want_body);
	struct hs__buf req = {0};
	hs__buf_printf(&req, "POST /up HTTP/1.1\r\n" HOST "Content-Length: %d\r\n\r\n", N);
	hs__buf_append(&req, body, N);
	hs__buf_puts(&req, NEXT);
	exact("a 20000-byte body by Content-Length", &h11, NULL, req.data, req.len, want,
	      strlen(want), NULL);

	req.len = 0;
	hs__buf_puts(&req, "POST /up HTTP/1.1\r\n" HOST "Expect: 100-continue\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n");
	for (size_t off = 0, size = 1; off < N; off += size, size = size * 3 + 1) {
		if (size > N - off)
			size = N - off;
		hs__buf_printf(&req, "%zx\r\n", size);
		hs__buf_append(&req, body + off, size);
		hs__buf_puts(&req, "\r\n");
	}
	hs__buf_puts(&req, "0\r\n\r\n" NEXT);
	struct hs__buf want2 = {0};
	hs__buf_puts(&want2, "HTTP/1.1 100 Continue\r\n\r\n");
	hs__buf_puts(&want2, want);
	exact("a 20000-byte chunked body, growing chunks, after 100 Continue", &h11, NULL,
	      req.data, req.len, want2.data, want2.len, NULL);
	hs__buf_free(&want2);
	hs__buf_free(&req);
}

static void test_max_body(void)
{
	const struct hs_options small = {.max_body = 10};
	static const struct error_case too_large[] = {
		{"Content-Length over max_body: 413",
		 "POST /up HTTP/1.1\r\n" HOST "Content-Length: 11\r\n\r\n0123456789a" NEXT,
		 "HTTP/1.1 413 Content Too Large", "Content Too Large", "Content is too large",
		 LOG("code 413, message Content Too Large") LOG("\"POST /up HTTP/1.1\" 413 -")},
		{"a chunked body over max_body: 413",
		 "POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
		 "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n" NEXT,
		 "HTTP/1.1 413 Content Too Large", "Content Too Large", "Content is too large", NULL},
		{"too large with Expect: 413 and no 100 Continue",
		 "POST /up HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 11\r\n\r\n",
		 "HTTP/1.1 413 Content Too Large", "Content Too Large", "Content is too large", NULL},
	};
	for (size_t i = 0; i < sizeof too_large / sizeof too_large[0]; i++) {
		check_error(&too_large[i], &h11, &small, 0);
		check_error(&too_large[i], &hign, &small, 0); /* dropped bodies count alike */
	}
	static const struct error_case bad_chunks = {
		"ignore_body: a malformed chunked body is still a 400, before any answer",
		"GET /x HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
		NEXT, "HTTP/1.1 400 Malformed chunked body", "Malformed chunked body",
		"Bad request syntax or unsupported method", NULL};
	check_error(&bad_chunks, &hign, NULL, 0);
	static const char at_cl[] = "POST /up HTTP/1.1\r\n" HOST "Content-Length: 10\r\n\r\n0123456789";
	static const char at_chunked[] = "POST /up HTTP/1.1\r\n" HOST
	                                 "Transfer-Encoding: chunked\r\n\r\n"
	                                 "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n";
	static const char want[] = OK("HTTP/1.1", "21", "cl=10 body=0123456789");
	exact("Content-Length at max_body", &h11, &small, at_cl, sizeof at_cl - 1, want,
	      sizeof want - 1, NULL);
	exact("chunked at max_body", &h11, &small, at_chunked, sizeof at_chunked - 1, want,
	      sizeof want - 1, NULL);
}

/* ------------------------------------------------------------ the static handler */

#define MTIME 1700000000
#define LAST_MODIFIED "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
#define BIG_SIZE 40000

static char g_root[64];   /* the temporary tree */
static char g_www[128];   /* the served directory, inside it */
static bool g_can_lock;   /* a mode-0 directory is really unreadable to us */

static void tree_path(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", g_root, rel);
}

static bool put_file(const char *rel, const char *data, size_t n)
{
	char path[256];
	tree_path(path, sizeof path, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	bool ok = write(fd, data, n) == (ssize_t)n;
	struct timespec times[2] = {{MTIME, 0}, {MTIME, 0}};
	ok = ok && futimens(fd, times) == 0;
	return close(fd) == 0 && ok;
}

static bool make_dir(const char *rel)
{
	char path[256];
	tree_path(path, sizeof path, rel);
	return mkdir(path, 0755) == 0;
}

static char g_big[BIG_SIZE];

/* secret.txt beside www/; www/ holds a.txt, link -> a.txt and sub/ (ROOT_LISTING's tree);
 * sub/ holds index.html, big.txt, locked/ (mode 0), list/, and two links to the secret,
 * out (relative) and abs (absolute), which the default symlink policy refuses (Python
 * follows them). */
static bool make_tree(void)
{
	strcpy(g_root, "/tmp/hs-test-handler-XXXXXX");
	if (!mkdtemp(g_root))
		return false;
	snprintf(g_www, sizeof g_www, "%s/www", g_root);
	for (size_t i = 0; i < BIG_SIZE; i++)
		g_big[i] = i % 64 == 63 ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
	char path[256], link[256], out[256], abs_link[256], secret[256];
	tree_path(link, sizeof link, "www/link");
	tree_path(out, sizeof out, "www/sub/out");
	tree_path(abs_link, sizeof abs_link, "www/sub/abs");
	tree_path(secret, sizeof secret, "secret.txt");
	tree_path(path, sizeof path, "www/sub/locked");
	bool ok = put_file("secret.txt", "TOP SECRET\n", 11) && make_dir("www") &&
	          put_file("www/a.txt", "hello\n", 6) && symlink("a.txt", link) == 0 &&
	          make_dir("www/sub") && put_file("www/sub/index.html", "<p>index</p>\n", 13) &&
	          put_file("www/sub/big.txt", g_big, BIG_SIZE) && make_dir("www/sub/locked") &&
	          make_dir("www/sub/list") && put_file("www/sub/list/x&y.txt", "", 0) &&
	          symlink("../../secret.txt", out) == 0 && symlink(secret, abs_link) == 0 &&
	          put_file("www/sub/list/b c.txt", "", 0) && chmod(path, 0) == 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_can_lock = fd < 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void remove_tree(void)
{
	static const char *const files[] = {"www/sub/list/x&y.txt", "www/sub/list/b c.txt",
	                                    "www/sub/big.txt", "www/sub/index.html", "www/sub/out",
	                                    "www/sub/abs", "www/link",
	                                    "www/a.txt", "secret.txt"};
	static const char *const dirs[] = {"www/sub/list", "www/sub/locked", "www/sub", "www"};
	char path[256];
	tree_path(path, sizeof path, "www/sub/locked");
	chmod(path, 0755);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		tree_path(path, sizeof path, files[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		tree_path(path, sizeof path, dirs[i]);
		rmdir(path);
	}
	rmdir(g_root);
}

/* ETag and Accept-Ranges, which Python lacks, come after Python's headers */
#define FILE_HEAD(type, len) \
	"HTTP/1.0 200 OK\r\n" SERVER DATE "Content-type: " type "\r\nContent-Length: " len "\r\n" \
	LAST_MODIFIED "ETag: ETAG\r\nAccept-Ranges: bytes\r\n\r\n"
#define A_TXT FILE_HEAD("text/plain", "6")
#define LISTING_HEAD(len) \
	"HTTP/1.0 200 OK\r\n" SERVER DATE "Content-type: text/html; charset=utf-8\r\nContent-Length: " len "\r\n\r\n"
#define NOT_MODIFIED "HTTP/1.0 304 Not Modified\r\n" SERVER DATE LAST_MODIFIED "ETag: ETAG\r\n\r\n"

/* Python's listing of "/" holding a.txt, a symlink "link" and a directory "sub", byte for
 * byte. */
#define ROOT_LISTING \
	"<!DOCTYPE HTML>\n" \
	"<html lang=\"en\">\n" \
	"<head>\n" \
	"<meta charset=\"utf-8\">\n" \
	"<title>Directory listing for /</title>\n" \
	"</head>\n" \
	"<body>\n" \
	"<h1>Directory listing for /</h1>\n" \
	"<hr>\n" \
	"<ul>\n" \
	"<li><a href=\"a.txt\">a.txt</a></li>\n" \
	"<li><a href=\"link\">link@</a></li>\n" \
	"<li><a href=\"sub/\">sub/</a></li>\n" \
	"</ul>\n" \
	"<hr>\n" \
	"</body>\n" \
	"</html>\n"

#define LIST_PAGE \
	"<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" \
	"<title>Directory listing for /sub/list/</title>\n</head>\n<body>\n" \
	"<h1>Directory listing for /sub/list/</h1>\n<hr>\n<ul>\n" \
	"<li><a href=\"b%20c.txt\">b c.txt</a></li>\n" \
	"<li><a href=\"x%26y.txt\">x&amp;y.txt</a></li>\n" \
	"</ul>\n<hr>\n</body>\n</html>\n"

/* Python's error page for a 404, byte for byte. */
#define NOT_FOUND_PAGE \
	"<!DOCTYPE HTML>\n" \
	"<html lang=\"en\">\n" \
	"    <head>\n" \
	"        <meta charset=\"utf-8\">\n" \
	"        <title>Error response</title>\n" \
	"    </head>\n" \
	"    <body>\n" \
	"        <h1>Error response</h1>\n" \
	"        <p>Error code: 404</p>\n" \
	"        <p>Message: File not found.</p>\n" \
	"        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n" \
	"    </body>\n" \
	"</html>\n"

static const struct {
	const char *name, *request, *response, *log;
} static_cases[] = {
	{"a file: Content-type, Content-Length, Last-Modified in that order",
	 "GET /a.txt HTTP/1.1\r\n" HOST "\r\n", A_TXT "hello\n", LOG("\"GET /a.txt HTTP/1.1\" 200 -")},
	{"HEAD: the same headers, no body", "HEAD /a.txt HTTP/1.0\r\n\r\n", A_TXT,
	 LOG("\"HEAD /a.txt HTTP/1.0\" 200 -")},
	{"a symlink inside the directory; its type from its own name", "GET /link HTTP/1.0\r\n\r\n",
	 FILE_HEAD("application/octet-stream", "6") "hello\n", NULL},
	{"a directory without its slash: 301 keeping the query", "GET /sub?x=1 HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 301 Moved Permanently\r\n" SERVER DATE
	 "Location: /sub/?x=1\r\nContent-Length: 0\r\n\r\n",
	 LOG("\"GET /sub?x=1 HTTP/1.0\" 301 -")},
	{"query and fragment are not part of the file name", "GET /a.txt?x=1#f HTTP/1.0\r\n\r\n",
	 A_TXT "hello\n", NULL},
	{"a percent-encoded name", "GET /sub/list/b%20c.txt HTTP/1.0\r\n\r\n",
	 FILE_HEAD("text/plain", "0"), NULL},
	{"a trailing %2f is judged before decoding, as Python does", "GET /a.txt%2f HTTP/1.0\r\n\r\n",
	 A_TXT "hello\n", NULL},
	{"a trailing /. is normalised away", "GET /a.txt/. HTTP/1.0\r\n\r\n", A_TXT "hello\n", NULL},
	{"a directory reached through /.. without a slash: 301", "GET /a.txt/.. HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 301 Moved Permanently\r\n" SERVER DATE
	 "Location: /a.txt/../\r\nContent-Length: 0\r\n\r\n", NULL},
	{"a directory with a query: index.html", "GET /sub/?x=1 HTTP/1.0\r\n\r\n",
	 FILE_HEAD("text/html", "13") "<p>index</p>\n", NULL},
	{"a directory: index.html", "GET /sub/ HTTP/1.0\r\n\r\n",
	 FILE_HEAD("text/html", "13") "<p>index</p>\n", NULL},
	{"a directory ending in %2f: no redirect", "GET /sub%2f HTTP/1.0\r\n\r\n",
	 FILE_HEAD("text/html", "13") "<p>index</p>\n", NULL},
	{"the listing of a.txt, link and sub/", "GET / HTTP/1.0\r\n\r\n", LISTING_HEAD("289") ROOT_LISTING,
	 LOG("\"GET / HTTP/1.0\" 200 -")},
	{"HEAD of a listing: headers only", "HEAD / HTTP/1.0\r\n\r\n", LISTING_HEAD("289"), NULL},
	{"a listing: escaped text, quoted links, title without the query",
	 "GET /sub/list/?q=1 HTTP/1.0\r\n\r\n", LISTING_HEAD("291") LIST_PAGE, NULL},
	{"If-Modified-Since equal to the mtime: 304",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n",
	 NOT_MODIFIED, LOG("\"GET /a.txt HTTP/1.0\" 304 -")},
	{"If-Modified-Since later: 304",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT\r\n\r\n",
	 NOT_MODIFIED, NULL},
	{"If-Modified-Since -0000 counts as UTC",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 -0000\r\n\r\n",
	 NOT_MODIFIED, NULL},
	{"If-Modified-Since a second early: 200",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n\r\n",
	 A_TXT "hello\n", NULL},
	{"If-Modified-Since invalid: ignored",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: yesterday\r\n\r\n", A_TXT "hello\n", NULL},
	{"If-Modified-Since in another zone: ignored as Python does",
	 "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: Tue, 14 Nov 2023 23:13:20 +0100\r\n\r\n",
	 A_TXT "hello\n", NULL},
	{"If-Modified-Since with If-None-Match: ignored",
	 "GET /a.txt HTTP/1.0\r\nIf-None-Match: \"x\"\r\n"
	 "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n",
	 A_TXT "hello\n", NULL},
	{"HTTP/0.9: the error page alone", "GET /nope\r\n\r\n", NOT_FOUND_PAGE,
	 LOG("code 404, message File not found") LOG("\"GET /nope\" 404 -")},
};

static const struct error_case static_errors[] = {
	{"a missing file: 404, the code line before the request line", "GET /nope HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 404 File not found", "File not found", "Nothing matches the given URI",
	 LOG("code 404, message File not found") LOG("\"GET /nope HTTP/1.0\" 404 -")},
	{"HEAD of a missing file: headers only", "HEAD /nope HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 404 File not found", "File not found", "Nothing matches the given URI",
	 LOG("code 404, message File not found") LOG("\"HEAD /nope HTTP/1.0\" 404 -")},
	{"a file URL ending in /: 404", "GET /a.txt/ HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 404 File not found", "File not found", "Nothing matches the given URI", NULL},
	{"a C1 byte in the request line is logged escaped", "GET /\x9b HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 404 File not found", "File not found", "Nothing matches the given URI",
	 LOG("code 404, message File not found") LOG("\"GET /\\x9b HTTP/1.0\" 404 -")},
	{"a control byte in the request line: 400, logged escaped", "GET /\001 HTTP/1.0\r\n\r\n",
	 "HTTP/1.0 400 Bad request syntax ('GET /\\x01 HTTP/1.0')",
	 "Bad request syntax ('GET /\\x01 HTTP/1.0')", "Bad request syntax or unsupported method",
	 LOG("code 400, message Bad request syntax ('GET /\\\\x01 HTTP/1.0')")
	 LOG("\"GET /\\x01 HTTP/1.0\" 400 -")},
	{"POST: 501", "POST /a.txt HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
	 "HTTP/1.0 501 Unsupported method ('POST')", "Unsupported method ('POST')",
	 "Server does not support this operation", NULL},
};

/* A response body (after the head) never holds the secret; the status is 404 or 400. */
static const char *const traversal[] = {
	"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
	"/%2e%2e%2fsecret.txt", "/sub/..%2f..%2fsecret.txt", "/sub/../../secret.txt",
	"../secret.txt", "http://x/../secret.txt", "http://x/%2e%2e/secret.txt",
	"/secret.txt%00", "/%00/../secret.txt", "/a.txt%00.html", "/..\\secret.txt",
	"/sub/out", "/sub/abs",
};

/* The unreadable-directory case: as ourselves, or when we are root (who reads
 * everything) in a child running as nobody. */
static void check_as_nobody(const struct error_case *e, const struct hs_handler *h)
{
	if (g_can_lock) {
		check_error(e, h, NULL, 0);
		return;
	}
	pid_t pid = geteuid() == 0 ? fork() : -1;
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		check_failures = 0;
		check_error(e, h, NULL, 0);
		_exit(check_failures ? 1 : 0);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || WEXITSTATUS(status) == 2) {
		printf("test_handler: skipped \"%s\" (cannot drop privileges)\n", e->name);
		return;
	}
	check_count++;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail(e->name, "failed as nobody");
}

/* Waits (bounded, 3.5 s) until rel's mtime and ctime are 3 s old: settled, for the
 * small-file cache, which then may answer it again after one stat. */
static void wait_settled(const char *rel)
{
	char path[256];
	struct stat sb;
	tree_path(path, sizeof path, rel);
	for (int i = 0; i < 35 && stat(path, &sb) == 0 && time(NULL) - sb.st_ctime < 3; i++)
		usleep(100000);
}

static int g_type_calls;

static const char *alternating_type(const struct hs_static *self, const char *path)
{
	(void)self;
	(void)path;
	return g_type_calls++ % 2 ? "text/two" : "text/one";
}

/* A settled small file asked for twice on one connection: the second answer comes from
 * the worker's cache with the head kept there, and is byte for byte the first. A user's
 * guess_type is asked on every request all the same. */
static void test_cached_file(struct hs_static *st)
{
	wait_settled("www/a.txt");
	static const char twice[] = "GET /a.txt HTTP/1.1\r\n" HOST "\r\n"
	                            "GET /a.txt HTTP/1.1\r\n" HOST "\r\n";
	struct hs__buf one = {0}, want = {0};
	hs__buf_puts(&one, A_TXT "hello\n");
	memcpy(one.data, "HTTP/1.1", 8);
	hs__buf_append(&want, one.data, one.len);
	hs__buf_append(&want, one.data, one.len);
	st->base.protocol_version = "HTTP/1.1";
	exact("a cached file: the same head from the cache", &st->base, NULL, twice,
	      sizeof twice - 1, want.data, want.len, NULL);

	st->guess_type = alternating_type;
	g_type_calls = 0;
	want.len = 0;
	for (int i = 0; i < 2; i++) {
		hs__buf_printf(&want, "HTTP/1.1 200 OK\r\n" SERVER DATE "Content-type: text/%s\r\n"
		               "Content-Length: 6\r\n" LAST_MODIFIED "ETag: ETAG\r\n"
		               "Accept-Ranges: bytes\r\n\r\nhello\n", i ? "two" : "one");
	}
	exact("a cached file: a user's guess_type asked again", &st->base, NULL, twice,
	      sizeof twice - 1, want.data, want.len, NULL);
	st->guess_type = NULL;
	st->base.protocol_version = NULL;
	hs__buf_free(&one);
	hs__buf_free(&want);
}

static void test_static(void)
{
	struct hs_static st;
	if (!make_tree() || hs_static_init(&st, g_www) < 0) {
		fail("static", "cannot build the test tree");
		remove_tree();
		return;
	}
	const struct hs_handler *h = &st.base;
	for (size_t i = 0; i < sizeof static_cases / sizeof static_cases[0]; i++) {
		exact(static_cases[i].name, h, NULL, static_cases[i].request,
		      strlen(static_cases[i].request), static_cases[i].response,
		      strlen(static_cases[i].response), static_cases[i].log);
	}
	for (size_t i = 0; i < sizeof static_errors / sizeof static_errors[0]; i++)
		check_error(&static_errors[i], h, NULL, 0);

	static const struct error_case locked = {
		"an unreadable directory: 404 No permission to list directory",
		"GET /sub/locked/ HTTP/1.0\r\n\r\n", "HTTP/1.0 404 No permission to list directory",
		"No permission to list directory", "Nothing matches the given URI",
		LOG("code 404, message No permission to list directory")
		LOG("\"GET /sub/locked/ HTTP/1.0\" 404 -")};
	check_as_nobody(&locked, h);

	/* larger than 16 KiB: sent by sendfile, intact */
	struct hs__buf want = {0};
	hs__buf_printf(&want, FILE_HEAD("text/plain", "%d"), BIG_SIZE);
	hs__buf_append(&want, g_big, BIG_SIZE);
	static const char big_req[] = "GET /sub/big.txt HTTP/1.0\r\n\r\n";
	exact("a 40000-byte file", h, NULL, big_req, sizeof big_req - 1, want.data, want.len,
	      LOG("\"GET /sub/big.txt HTTP/1.0\" 200 -"));

	/* speaking HTTP/1.1: a sendfile body, then pipelined requests on the same connection */
	st.base.protocol_version = "HTTP/1.1";
	want.len = 0;
	hs__buf_printf(&want, FILE_HEAD("text/plain", "%d"), BIG_SIZE);
	hs__buf_append(&want, g_big, BIG_SIZE);
	hs__buf_printf(&want, FILE_HEAD("text/plain", "%d"), BIG_SIZE);
	hs__buf_puts(&want, A_TXT "hello\n");
	for (size_t i = 0; i + 9 <= want.len; i++) /* the same heads, in HTTP/1.1 */
		if (memcmp(want.data + i, "HTTP/1.0 ", 9) == 0)
			memcpy(want.data + i, "HTTP/1.1 ", 9);
	static const char keep_req[] = "GET /sub/big.txt HTTP/1.1\r\n" HOST "\r\n"
	                               "HEAD /sub/big.txt HTTP/1.1\r\n" HOST "\r\n"
	                               "GET /a.txt HTTP/1.1\r\n" HOST "\r\n";
	exact("persistent: a sendfile body, a HEAD, then a small file", h, NULL, keep_req,
	      sizeof keep_req - 1, want.data, want.len, NULL);
	st.base.protocol_version = NULL;
	hs__buf_free(&want);
	test_cached_file(&st);

	for (size_t i = 0; i < sizeof traversal / sizeof traversal[0]; i++) {
		struct hs__buf req = {0};
		hs__buf_printf(&req, "GET %s HTTP/1.0\r\n\r\n", traversal[i]);
		struct result r;
		run(traversal[i], h, NULL, req.data, req.len, &r);
		int before = check_failures;
		CHECK(!contains(&r.resp, "TOP SECRET"));
		CHECK(r.resp.len > 13 && (memcmp(r.resp.data, "HTTP/1.0 404 ", 13) == 0 ||
		                          memcmp(r.resp.data, "HTTP/1.0 400 ", 13) == 0));
		CHECK(contains(&r.resp, "<title>Error response</title>"));
		if (check_failures != before)
			fprintf(stderr, "  in traversal case: %s\n", traversal[i]);
		result_free(&r);
		hs__buf_free(&req);
	}
	hs_static_fini(&st);
	remove_tree();
}

int main(void)
{
	alarm(120); /* a hang is a failure, never a stuck build */
	test_user_handler();
	test_log_override();
	test_limits();
	test_framing();
	test_big_bodies();
	test_max_body();
	test_static();
	return check_done("test_handler");
}
