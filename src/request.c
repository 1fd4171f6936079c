/*
 * request.c: from a complete request head to the handler's do_X slot. It builds the
 * read-only request view (copies of the words and headers, NUL-terminated, in the
 * worker's scratch), applies Python's request rules and our stricter framing
 * (keep-alive, Host, the Content-Length and Transfer-Encoding rules, Expect:
 * 100-continue, the body limit), answers the errors the parser found with Python's
 * messages, and dispatches by method.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include <unistd.h>

#include "chars.h"
#include "internal.h"

/* ------------------------------------------------------------ the view */


/* Copies the request line's words and the headers into the worker's scratch and points
 * the view at them. The copies survive the input buffer moving while a body arrives. */
static int build_view(struct hs_conn *c, const struct hs__reqline *rl, size_t nh)
{
	struct hs__worker *w = c->w;
	struct hs__buf *b = &w->words;
	size_t need = rl->line.n * 3 + 16;
	for (size_t i = 0; i < nh; i++)
		need += w->spans[i].name.n + w->spans[i].value.n + 2;
	b->len = 0;
	if (hs__buf_reserve(b, need) < 0)
		return -ENOMEM;
	size_t off_line = b->len;
	hs__buf_append(b, rl->line.p, rl->line.n);
	hs__buf_append(b, "", 1);
	size_t off_cmd = b->len;
	hs__buf_append(b, rl->method.p, rl->method.n);
	hs__buf_append(b, "", 1);
	struct hs__span t = rl->target, authority = {NULL, 0}, rest;
	size_t off_authority = SIZE_MAX;
	if (hs__target_split(t.p, t.n, &authority, &rest) == HS__TARGET_ABSOLUTE) {
		/* absolute-form: the handler sees the path, the authority is the Host */
		off_authority = b->len;
		hs__buf_append(b, authority.p, authority.n);
		hs__buf_append(b, "", 1);
		t = rest;
	}
	size_t off_path = b->len;
	if (t.n == 0 || t.p[0] == '?' || t.p[0] == '#') {
		if (off_authority != SIZE_MAX)
			hs__buf_append(b, "/", 1); /* "http://host?q" asks for "/?q" */
	} else if (t.n >= 2 && t.p[0] == '/' && t.p[1] == '/') {
		/* "//host/x" would read as a network-path reference, so Python makes it "/host/x" */
		while (t.n > 0 && t.p[0] == '/')
			t.p++, t.n--;
		hs__buf_append(b, "/", 1);
	}
	hs__buf_append(b, t.p, t.n);
	hs__buf_append(b, "", 1);
	size_t off_ver = b->len;
	if (rl->version.n)
		hs__buf_append(b, rl->version.p, rl->version.n);
	else
		hs__buf_puts(b, "HTTP/0.9");
	hs__buf_append(b, "", 1);
	for (size_t i = 0; i < nh; i++) {
		w->headers[i].name = (const char *)(uintptr_t)b->len;
		hs__buf_append(b, w->spans[i].name.p, w->spans[i].name.n);
		hs__buf_append(b, "", 1);
		w->headers[i].value = (const char *)(uintptr_t)b->len;
		hs__buf_append(b, w->spans[i].value.p, w->spans[i].value.n);
		hs__buf_append(b, "", 1);
	}
	for (size_t i = 0; i < nh; i++) {
		w->headers[i].name = b->data + (uintptr_t)w->headers[i].name;
		w->headers[i].value = b->data + (uintptr_t)w->headers[i].value;
	}
	w->headers[nh] = (struct hs_header){NULL, NULL};
	w->authority = off_authority == SIZE_MAX ? NULL : b->data + off_authority;
	w->req = (struct hs_request){
		.requestline = b->data + off_line,
		.requestline_len = rl->line.n,
		.command = b->data + off_cmd,
		.path = b->data + off_path,
		.request_version = b->data + off_ver,
		.headers = w->headers,
		.nheaders = nh,
		.client_address = c->addr,
		.client_port = c->port,
	};
	c->req = &w->req;
	return 0;
}

/* The view for errors found before a request line could be read: all empty. */
static void empty_view(struct hs_conn *c)
{
	struct hs__worker *w = c->w;
	w->headers[0] = (struct hs_header){NULL, NULL};
	w->req = (struct hs_request){
		.requestline = "", .command = "", .path = "", .request_version = "",
		.headers = w->headers, .client_address = c->addr, .client_port = c->port,
	};
	w->authority = NULL;
	c->req = &w->req;
}

/* Re-parses the head still held at the front of the input buffer. */
static int rebuild_view(struct hs_conn *c, bool with_headers)
{
	struct hs__reqline rl;
	if (hs__parse_request_line(c->in.data, c->line_len, &rl) != HS__RL_OK)
		return -EINVAL;
	size_t nh = 0;
	if (with_headers && !c->http09) {
		struct hs__head_scan scan = {0};
		if (hs__parse_headers(c->in.data + c->line_len, c->head_len - c->line_len, &scan,
		                      c->w->spans, &nh) <= 0)
			return -EINVAL;
	}
	return build_view(c, &rl, nh);
}

/* ------------------------------------------------------------ errors */

static void refuse(struct hs_conn *c, int code, const char *message, const char *explain)
{
	if (!hs__conn_in_pool(c)) /* a lent connection's state is its worker's to change */
		c->state = HS__WRITE;
	hs_send_error(c, code, message, explain);
	c->close_connection = true;
}

void hs__request_line_error(struct hs_conn *c, enum hs__reqline_status st,
                            const struct hs__reqline *rl)
{
	struct hs__buf *m = &c->w->scratch2;
	m->len = 0;
	int code = 400;
	int rc = 0;
	switch (st) {
	case HS__RL_BAD_VERSION:
		rc = hs__buf_puts(m, "Bad request version (") ?: hs__py_repr(m, rl->version.p, rl->version.n);
		break;
	case HS__RL_VERSION_TOO_HIGH:
		code = 505;
		rc = hs__buf_puts(m, "Invalid HTTP version (") ?:
		     hs__buf_append(m, rl->version_number.p, rl->version_number.n);
		break;
	case HS__RL_BAD_09_METHOD:
		rc = hs__buf_puts(m, "Bad HTTP/0.9 request type (") ?: hs__py_repr(m, rl->method.p, rl->method.n);
		break;
	default:
		rc = hs__buf_puts(m, "Bad request syntax (") ?: hs__py_repr(m, rl->line.p, rl->line.n);
		break;
	}
	rc = rc ?: hs__buf_append(m, ")", 2);
	/* Python has taken the version when the line has three or more words and the last
	 * is valid (a wrong word count after it): it answers in its own protocol. Otherwise
	 * the version is not known yet and Python sends a bare page, with no status line or
	 * headers; we answer in full, as HTTP/1.0. */
	bool version_known = st == HS__RL_BAD_SYNTAX && rl->version.n > 0;
	struct hs__reqline view = *rl;
	if (!version_known)
		view.version = (struct hs__span){"", 0};
	if (build_view(c, &view, 0) < 0)
		empty_view(c);
	c->w->req.command = "";
	if (!version_known)
		c->w->req.request_version = "";
	c->force_http10 = !version_known;
	refuse(c, code, rc ? NULL : m->data, NULL);
}

void hs__request_head_error(struct hs_conn *c, long err)
{
	if (err == 414 || rebuild_view(c, false) < 0) {
		empty_view(c);
		if (err != 414)
			c->force_http10 = true;
	}
	switch (err) {
	case 414:
		refuse(c, 414, NULL, NULL);
		break;
	case HS__HEAD_LINE_TOO_LONG:
		refuse(c, 431, "Line too long", "got more than 65536 bytes when reading header line");
		break;
	case HS__HEAD_TOO_MANY:
		refuse(c, 431, "Too many headers", "got more than 100 headers");
		break;
	case HS__HEAD_TOO_LARGE:
		refuse(c, 431, NULL, NULL);
		break;
	case 413:
		refuse(c, 413, NULL, NULL);
		break;
	case HS__HEAD_MALFORMED:
		refuse(c, 400, "Malformed header line", NULL);
		break;
	case HS__HEAD_PLAIN_HTTP:
		refuse(c, 400, "Plain HTTP request sent to the HTTPS port",
		       "This port speaks HTTPS: use an https:// URL");
		break;
	default:
		refuse(c, 400, "Malformed chunked body", NULL);
		break;
	}
}

/* ------------------------------------------------------------ policy */

static bool parse_length(const char *v, long long *out)
{
	long long n = 0;
	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (LLONG_MAX - 9) / 10)
			return false;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return true;
}

/* Content-Length and Transfer-Encoding per RFC 9112 6: a message has one framing. */
static const char *check_framing(struct hs_conn *c, const struct hs_request *r, bool v11)
{
	long long len = -1;
	int te_count = 0;
	const char *te = NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct hs_header *h = &r->headers[i];
		if (hs__ascii_ieq(h->name, "Content-Length")) {
			long long n;
			if (!parse_length(h->value, &n))
				return "Bad Content-Length";
			if (len >= 0 && n != len)
				return "Conflicting Content-Length";
			len = n;
		} else if (hs__ascii_ieq(h->name, "Transfer-Encoding")) {
			te_count++;
			te = h->value;
		}
	}
	if (te_count) {
		if (len >= 0)
			return "Both Content-Length and Transfer-Encoding";
		if (te_count > 1 || !hs__ascii_ieq(te, "chunked") || !v11)
			return "Unsupported Transfer-Encoding";
		c->chunked = true;
	}
	c->body_left = len > 0 ? len : 0;
	c->w->req.content_length = c->body_left;
	return NULL;
}

/* One Host field, required for HTTP/1.1 (RFC 9112 3.2), with a valid value; for an
 * absolute-form target the authority replaces whatever value it has (3.2.2). */
static const char *check_host(struct hs__worker *w, bool v11)
{
	struct hs_request *r = &w->req;
	size_t hosts = 0, at = 0;
	for (size_t i = 0; i < r->nheaders; i++)
		if (hs__ascii_ieq(r->headers[i].name, "Host"))
			hosts++, at = i;
	if (hosts > 1)
		return "More than one Host header";
	if (hosts == 0 && v11)
		return "Missing Host header";
	if (w->authority && hosts) {
		w->headers[at].value = w->authority;
	} else if (w->authority) { /* the array has room for this one more */
		w->headers[r->nheaders++] = (struct hs_header){"Host", w->authority};
		w->headers[r->nheaders] = (struct hs_header){NULL, NULL};
	} else if (hosts && !hs__host_valid(r->headers[at].value, strlen(r->headers[at].value),
	                                    true)) {
		return "Invalid Host header";
	}
	return NULL;
}

/* A target with a scheme other than http(s), or an http(s) one with a bad authority:
 * 400 "Bad request target ('ftp://x/')". CONNECT's authority-form ("host:443") looks
 * like a scheme, so it is left to the method's slot, which Python answers with 501. */
static bool refuse_target(struct hs_conn *c, const struct hs__reqline *rl)
{
	struct hs__span authority, rest;
	enum hs__target_form form = hs__target_split(rl->target.p, rl->target.n, &authority, &rest);
	if (form != HS__TARGET_BAD_SCHEME && form != HS__TARGET_BAD_AUTHORITY)
		return false;
	if (strcmp(c->req->command, "CONNECT") == 0)
		return false;
	struct hs__buf *m = &c->w->scratch2;
	m->len = 0;
	int rc = hs__buf_puts(m, "Bad request target (") ?:
	         hs__py_repr(m, rl->target.p, rl->target.n) ?: hs__buf_append(m, ")", 2);
	refuse(c, 400, rc ? NULL : m->data, NULL);
	return true;
}

static bool expect_100(struct hs_conn *c, const struct hs_request *r, bool v11)
{
	const char *e = hs_header(r, "Expect");
	if (!e || !hs__ascii_ieq(e, "100-continue") || !v11 || !hs__speaks_http11(c))
		return true;
	const struct hs_handler *h = c->w->srv->handler;
	if (h->handle_expect_100)
		return h->handle_expect_100(h, c, r);
	hs_send_response_only(c, 100, NULL);
	hs_end_headers(c);
	c->responded = false; /* the interim answer is not the response */
	return true;
}

static hs_method_fn *method_slot(const struct hs_handler *h, const char *m);
static void refuse_method(struct hs_conn *c);

int hs__request_prepare(struct hs_conn *c, size_t nh)
{
	struct hs__reqline rl;
	hs__reqline_load(&rl, &c->line, c->in.data);
	if (build_view(c, &rl, nh) < 0) {
		empty_view(c);
		refuse(c, 500, NULL, NULL);
		return -ENOMEM;
	}
	const struct hs_request *r = c->req;
	bool v11 = rl.major > 1 || (rl.major == 1 && rl.minor >= 1);
	c->close_connection = !(v11 && hs__speaks_http11(c));
	const char *conn = hs_header(r, "Connection");
	bool says_close = conn && hs__ascii_ieq(conn, "close");
	c->client_done = says_close || (!v11 && !(conn && hs__ascii_ieq(conn, "keep-alive")));
	if (says_close)
		c->close_connection = true;
	else if (conn && hs__ascii_ieq(conn, "keep-alive") && hs__speaks_http11(c))
		c->close_connection = false;
	if (refuse_target(c, &rl))
		return -EINVAL;
	const char *why = check_host(c->w, v11);
	if (!why)
		why = check_framing(c, r, v11);
	if (why) {
		refuse(c, 400, why, NULL);
		return -EINVAL;
	}
	if (c->body_left > c->w->srv->opt.max_body) {
		refuse(c, 413, NULL, NULL);
		return -EFBIG;
	}
	if (!expect_100(c, r, v11)) {
		c->state = HS__WRITE;
		c->close_connection = true;
		return -ECANCELED;
	}
	if (!method_slot(c->w->srv->handler, r->command)) {
		/* answered before the body arrives, as Python does; the connection then
		 * closes, so the unread body is never taken for a request */
		refuse_method(c);
		return -ENOTSUP;
	}
	if (c->body_left > 0 || c->chunked) {
		if (c->w->srv->handler->stream_body) {
			c->streaming = true; /* the slot reads it as it arrives */
			if (c->chunked)
				c->w->req.content_length = -1;
		} else {
			c->state = HS__READ_BODY;
			c->dropping = c->w->srv->handler->ignore_body;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ dispatch */

static hs_method_fn *method_slot(const struct hs_handler *h, const char *m)
{
	static const struct {
		const char *name;
		size_t offset;
	} slots[] = {
		{"GET", offsetof(struct hs_handler, do_GET)},
		{"HEAD", offsetof(struct hs_handler, do_HEAD)},
		{"POST", offsetof(struct hs_handler, do_POST)},
		{"PUT", offsetof(struct hs_handler, do_PUT)},
		{"DELETE", offsetof(struct hs_handler, do_DELETE)},
		{"OPTIONS", offsetof(struct hs_handler, do_OPTIONS)},
		{"PATCH", offsetof(struct hs_handler, do_PATCH)},
	};
	for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
		if (strcmp(m, slots[i].name) == 0)
			return *(hs_method_fn *const *)((const char *)h + slots[i].offset);
	return h->do_other;
}

/* 501 "Unsupported method ('PUT')", as Python answers a method with no do_X. */
static void refuse_method(struct hs_conn *c)
{
	struct hs__buf *m = &c->w->scratch2;
	m->len = 0;
	int rc = hs__buf_puts(m, "Unsupported method (") ?:
	         hs__py_repr(m, c->req->command, strlen(c->req->command)) ?:
	         hs__buf_append(m, ")", 2);
	refuse(c, 501, rc ? NULL : m->data, NULL);
}

/* The slot failed before any of its response left, with nothing queued or with a
 * response spoiled by a failed append (out of memory, most often): what it queued is
 * dropped and a 500 goes in its place, so the client gets an answer rather than a
 * cut-off head or silence. */
static void answer_failure(struct hs_conn *c, size_t out_start)
{
	c->out.len = out_start;
	c->segs.len = 0;
	c->out_error = 0;
	if (c->file_fd >= 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	refuse(c, 500, NULL, NULL);
}

void hs__request_dispatch(struct hs_conn *c)
{
	bool had_body = c->state == HS__READ_BODY;
	if (c->http09 || had_body) {
		if (rebuild_view(c, true) < 0) {
			empty_view(c);
			refuse(c, 500, NULL, NULL);
			return;
		}
		if (had_body)
			c->w->req.content_length = c->dropping ? 0 : (long long)c->body.len;
	}
	if (c->http09) {
		struct hs__reqline rl;
		hs__reqline_load(&rl, &c->line, c->in.data);
		if (refuse_target(c, &rl))
			return;
		c->close_connection = true;
	}
	c->state = HS__WRITE;
	const struct hs_handler *h = c->w->srv->handler;
	if (!method_slot(h, c->req->command)) {
		refuse_method(c);
		return;
	}
	c->events &= EPOLLHUP | EPOLLERR; /* a client already gone stays noticed */
	c->out_start = c->out.len;
	c->out_dropped = 0;
	if (h->blocking && c->w->srv->pool) {
		c->pool_slot = method_slot(h, c->req->command);
		c->state = HS__POOL; /* conn.c lends it once the worker is done with it */
		return;
	}
	hs__request_call_slot(c);
}

/* Runs the request's slot (on a pool thread: the one it was lent for) and settles what
 * it left: a deferred or lent response goes on, a failed one becomes a 500 when none of
 * it has left. */
void hs__request_call_slot(struct hs_conn *c)
{
	const struct hs_handler *h = c->w->srv->handler;
	hs_method_fn *slot = c->pool_slot ? c->pool_slot : method_slot(h, c->req->command);
	size_t out_start = c->out_start;
	c->pool_slot = NULL;
	int rc = slot(h, c, c->req);
	if (c->pool_slot) {
		/* hs_run_blocking: the rest runs on a pool thread */
		if (rc < 0)
			c->close_connection = true;
		c->state = HS__POOL;
		return;
	}
	if (c->deferred && !c->finished) {
		/* hs_defer: the handler completes the response from its callbacks */
		if (rc < 0)
			c->close_connection = true;
		c->state = HS__DEFERRED;
		return;
	}
	c->deferred = false;
	/* bytes a blocking slot sent were dropped from out's front */
	size_t sent = c->out_dropped + c->out_off;
	if ((c->out_error || (rc < 0 && !c->responded)) && sent <= out_start)
		answer_failure(c, out_start - c->out_dropped);
	if (rc < 0 || !c->responded)
		c->close_connection = true;
}
