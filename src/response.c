/*
 * response.c: the response side of BaseHTTPRequestHandler: send_response,
 * send_response_only, send_header, end_headers, send_error with Python's page, write and
 * send_file, plus the status table (CPython 3.13's HTTPStatus) and the Date string,
 * formatted once per second per worker. Everything is queued in the connection's output
 * buffer; the connection sends it, head and small body in one write, when the slot
 * returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chars.h"
#include "internal.h"

struct status {
	int code;
	const char *phrase, *explain;
};

static const struct status statuses[] = {
	{100, "Continue",
	      "Request received, please continue"},
	{101, "Switching Protocols",
	      "Switching to new protocol; obey Upgrade header"},
	{102, "Processing",
	      ""},
	{103, "Early Hints",
	      ""},
	{200, "OK",
	      "Request fulfilled, document follows"},
	{201, "Created",
	      "Document created, URL follows"},
	{202, "Accepted",
	      "Request accepted, processing continues off-line"},
	{203, "Non-Authoritative Information",
	      "Request fulfilled from cache"},
	{204, "No Content",
	      "Request fulfilled, nothing follows"},
	{205, "Reset Content",
	      "Clear input form for further input"},
	{206, "Partial Content",
	      "Partial content follows"},
	{207, "Multi-Status",
	      ""},
	{208, "Already Reported",
	      ""},
	{226, "IM Used",
	      ""},
	{300, "Multiple Choices",
	      "Object has several resources -- see URI list"},
	{301, "Moved Permanently",
	      "Object moved permanently -- see URI list"},
	{302, "Found",
	      "Object moved temporarily -- see URI list"},
	{303, "See Other",
	      "Object moved -- see Method and URL list"},
	{304, "Not Modified",
	      "Document has not changed since given time"},
	{305, "Use Proxy",
	      "You must use proxy specified in Location to access this resource"},
	{307, "Temporary Redirect",
	      "Object moved temporarily -- see URI list"},
	{308, "Permanent Redirect",
	      "Object moved permanently -- see URI list"},
	{400, "Bad Request",
	      "Bad request syntax or unsupported method"},
	{401, "Unauthorized",
	      "No permission -- see authorization schemes"},
	{402, "Payment Required",
	      "No payment -- see charging schemes"},
	{403, "Forbidden",
	      "Request forbidden -- authorization will not help"},
	{404, "Not Found",
	      "Nothing matches the given URI"},
	{405, "Method Not Allowed",
	      "Specified method is invalid for this resource"},
	{406, "Not Acceptable",
	      "URI not available in preferred format"},
	{407, "Proxy Authentication Required",
	      "You must authenticate with this proxy before proceeding"},
	{408, "Request Timeout",
	      "Request timed out; try again later"},
	{409, "Conflict",
	      "Request conflict"},
	{410, "Gone",
	      "URI no longer exists and has been permanently removed"},
	{411, "Length Required",
	      "Client must specify Content-Length"},
	{412, "Precondition Failed",
	      "Precondition in headers is false"},
	{413, "Content Too Large",
	      "Content is too large"},
	{414, "URI Too Long",
	      "URI is too long"},
	{415, "Unsupported Media Type",
	      "Entity body in unsupported format"},
	{416, "Range Not Satisfiable",
	      "Cannot satisfy request range"},
	{417, "Expectation Failed",
	      "Expect condition could not be satisfied"},
	{418, "I'm a Teapot",
	      "Server refuses to brew coffee because it is a teapot."},
	{421, "Misdirected Request",
	      "Server is not able to produce a response"},
	{422, "Unprocessable Content",
	      ""},
	{423, "Locked",
	      ""},
	{424, "Failed Dependency",
	      ""},
	{425, "Too Early",
	      ""},
	{426, "Upgrade Required",
	      ""},
	{428, "Precondition Required",
	      "The origin server requires the request to be conditional"},
	{429, "Too Many Requests",
	      "The user has sent too many requests in a given amount of time (\"rate limiting\")"},
	{431, "Request Header Fields Too Large",
	      "The server is unwilling to process the request because its header fields are too large"},
	{451, "Unavailable For Legal Reasons",
	      "The server is denying access to the resource as a consequence of a legal demand"},
	{500, "Internal Server Error",
	      "Server got itself in trouble"},
	{501, "Not Implemented",
	      "Server does not support this operation"},
	{502, "Bad Gateway",
	      "Invalid responses from another server/proxy"},
	{503, "Service Unavailable",
	      "The server cannot process the request due to a high load"},
	{504, "Gateway Timeout",
	      "The gateway server did not receive a timely response"},
	{505, "HTTP Version Not Supported",
	      "Cannot fulfill request"},
	{506, "Variant Also Negotiates",
	      ""},
	{507, "Insufficient Storage",
	      ""},
	{508, "Loop Detected",
	      ""},
	{510, "Not Extended",
	      ""},
	{511, "Network Authentication Required",
	      "The client needs to authenticate to gain network access"},
};

bool hs_responses(int code, const char **shortmsg, const char **longmsg)
{
	size_t lo = 0, hi = sizeof statuses / sizeof statuses[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (statuses[mid].code == code) {
			*shortmsg = statuses[mid].phrase;
			*longmsg = statuses[mid].explain;
			return true;
		}
		if (statuses[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	*shortmsg = *longmsg = "???";
	return false;
}

/* ------------------------------------------------------------ strings */

const char *hs__worker_date(struct hs__worker *w)
{
	if (w->pool_thread) /* no loop keeps its time: a slot may have slept */
		hs__loop_update_time(&w->loop);
	if (w->date_sec != w->loop.wall_sec || !w->date[0]) {
		w->date_sec = w->loop.wall_sec;
		hs__httpdate_format(w->date, w->date_sec);
	}
	return w->date;
}

const char *hs__protocol_version(const struct hs_conn *c)
{
	const char *v = c->w->srv->handler->protocol_version;
	return c->force_http10 || !v ? "HTTP/1.0" : v;
}

bool hs__speaks_http11(const struct hs_conn *c)
{
	return strcmp(hs__protocol_version(c), "HTTP/1.1") >= 0;
}

const char *hs_version_string(const struct hs_conn *c)
{
	return c->w->srv->version_string;
}

char *hs_date_time_string(char out[30], time_t t)
{
	hs__httpdate_format(out, t < 0 ? time(NULL) : t);
	return out;
}

const char *hs_address_string(const struct hs_conn *c)
{
	return c->addr;
}

const struct hs_request *hs_conn_request(const struct hs_conn *c)
{
	return c->req;
}

const struct hs_handler *hs_conn_handler(const struct hs_conn *c)
{
	return c->w->srv->handler;
}

struct hs_server *hs_conn_server(const struct hs_conn *c)
{
	return c->w->srv;
}

bool hs_close_connection(const struct hs_conn *c)
{
	return c->close_connection;
}

void hs_set_close_connection(struct hs_conn *c, bool close)
{
	c->close_connection = close;
}

/* ------------------------------------------------------------ request side */

const char *hs_header(const struct hs_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (hs__ascii_ieq(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

long hs_read_body(struct hs_conn *c, void *buf, size_t len)
{
	if (c->streaming)
		return hs__conn_in_pool(c) ? hs__conn_pool_read(c, buf, len)
		                           : hs__stream_read(c, buf, len);
	size_t left = c->body.len - c->body_off;
	if (len > left)
		len = left;
	if (len == 0)
		return 0;
	memcpy(buf, c->body.data + c->body_off, len);
	c->body_off += len;
	return (long)len;
}

/* ------------------------------------------------------------ the head */

static bool is_http09(const struct hs_conn *c)
{
	return c->http09;
}

/* A status message or header text must not end the line early. */
static int append_line_safe(struct hs__buf *b, const char *s)
{
	size_t n = strlen(s);
	int rc = hs__buf_reserve(b, n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		b->data[b->len++] = (ch == '\r' || ch == '\n' || ch == '\0') ? ' ' : ch;
	}
	return 0;
}

/* A failed append spoils the response being built, as a stream error does a FILE: every
 * later call fails alike, so a handler that misses one error cannot send a head without
 * its status line, and the engine answers 500 in its place if none of it has left (or
 * else closes the connection). */
static int spoil(struct hs_conn *c, int rc)
{
	if (rc < 0 && rc != -EINVAL && c->out_error == 0) {
		c->out_error = rc;
		c->close_connection = true;
	}
	return rc;
}

int hs_send_response_only(struct hs_conn *c, int code, const char *message)
{
	c->responded = true;
	c->status_code = code;
	if (c->out_error)
		return c->out_error;
	if (is_http09(c))
		return 0;
	if (!message) {
		const char *explain;
		if (!hs_responses(code, &message, &explain))
			message = "";
	}
	int rc = hs__buf_puts(&c->out, hs__protocol_version(c)) ?:
	         hs__buf_append(&c->out, " ", 1) ?: hs__buf_append_int(&c->out, code) ?:
	         hs__buf_append(&c->out, " ", 1);
	rc = rc ?: append_line_safe(&c->out, message);
	return spoil(c, rc ?: hs__buf_append(&c->out, "\r\n", 2));
}

int hs_send_response(struct hs_conn *c, int code, const char *message)
{
	hs_log_request(c, code, NULL);
	int rc = hs_send_response_only(c, code, message);
	rc = rc ?: hs_send_header(c, "Server", hs_version_string(c));
	return rc ?: hs_send_header(c, "Date", hs__worker_date(c->w));
}

/* "name: value\r\n" at out, nl + vl + 4 bytes. */
static size_t put_header_line(char *out, const char *name, size_t nl, const char *value,
                              size_t vl)
{
	memcpy(out, name, nl);
	memcpy(out + nl, ": ", 2);
	memcpy(out + nl + 2, value, vl);
	memcpy(out + nl + 2 + vl, "\r\n", 2);
	return nl + vl + 4;
}

/* A name or value that would end the line early (CR, LF, or a colon in the name) is
 * refused: it could forge headers or end the head. Python's send_header writes it as
 * given; its http.client refuses it, as we do. */
static bool header_text_ok(const char *name, size_t *nl, const char *value, size_t *vl)
{
	*nl = strcspn(name, "\r\n:");
	*vl = strcspn(value, "\r\n");
	return !name[*nl] && !value[*vl];
}

size_t hs__header_line(char *out, size_t cap, const char *name, const char *value)
{
	size_t nl, vl;
	if (!header_text_ok(name, &nl, value, &vl) || nl + vl + 4 > cap)
		return 0;
	return put_header_line(out, name, nl, value, vl);
}

int hs__send_header_lines(struct hs_conn *c, const char *lines, size_t n)
{
	if (c->out_error)
		return c->out_error;
	return is_http09(c) ? 0 : spoil(c, hs__buf_append(&c->out, lines, n));
}

int hs_send_header(struct hs_conn *c, const char *name, const char *value)
{
	if (c->out_error)
		return c->out_error;
	size_t nl, vl;
	if (!header_text_ok(name, &nl, value, &vl))
		return -EINVAL;
	if (!is_http09(c)) {
		struct hs__buf *b = &c->out;
		int rc = hs__buf_reserve(b, nl + vl + 4);
		if (rc < 0)
			return spoil(c, rc);
		b->len += put_header_line(b->data + b->len, name, nl, value, vl);
	}
	if (nl == 10 && hs__ascii_ieq(name, "Connection")) {
		c->said_connection = true;
		if (hs__ascii_ieq(value, "close"))
			c->close_connection = true;
		else if (hs__ascii_ieq(value, "keep-alive"))
			c->close_connection = false;
	}
	return 0;
}

int hs_end_headers(struct hs_conn *c)
{
	if (c->out_error)
		return c->out_error;
	if (is_http09(c))
		return 0;
	/* RFC 9112 9.6: a server closing because the client said so SHOULDs say so too,
	 * which spares the client a request written into a closing connection. Python
	 * does not; an HTTP/1.0 status line says it already. */
	int rc = 0;
	if (c->status_code >= 200 && c->close_connection && c->client_done && !c->said_connection &&
	    hs__speaks_http11(c))
		rc = hs_send_header(c, "Connection", "close");
	if (c->extra_all_len && c->status_code >= 200)
		rc = rc ?: spoil(c, hs__buf_append(&c->out, c->extra_all, c->extra_all_len));
	return rc ?: spoil(c, hs__buf_append(&c->out, "\r\n", 2));
}

int hs_flush_headers(struct hs_conn *c)
{
	if (c->out_error)
		return c->out_error;
	if (hs__conn_in_pool(c))
		return hs__conn_pool_flush(c);
	if (c->deferred)
		return hs_flush(c);
	return hs__conn_flush_now(c);
}

/* ------------------------------------------------------------ the body */

long hs_write(struct hs_conn *c, const void *buf, size_t len)
{
	c->responded = true;
	if (c->out_error)
		return c->out_error;
	if (hs__conn_in_pool(c))
		return hs__conn_pool_write(c, buf, len);
	int rc = spoil(c, hs__buf_append(&c->out, buf, len));
	return rc < 0 ? rc : (long)len;
}

/* Whether every range of the response's file has been sent (by a blocking slot, whose
 * sends finish before they return, or by hs_flush): then another file may follow it. */
static bool file_sent(const struct hs_conn *c)
{
	return c->file_left == 0 && c->seg_next * sizeof(struct hs__file_seg) == c->segs.len;
}

int hs_send_file(struct hs_conn *c, int fd, long long offset, long long length)
{
	bool again = c->file_fd >= 0 && fd == c->file_fd; /* one more range of the same file */
	int rc = 0;
	c->responded = true;
	if (c->file_fd >= 0 && !again && file_sent(c)) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	if (c->out_error)
		rc = c->out_error;
	else if (c->file_fd >= 0 && !again)
		rc = -EBUSY;
	else if (offset < 0 || length < 0)
		rc = -EINVAL;
	else if (length > 0) {
		struct hs__file_seg seg = {.out_end = c->out.len, .off = offset, .len = length};
		rc = spoil(c, hs__buf_append(&c->segs, &seg, sizeof seg));
		if (rc == 0)
			c->file_fd = fd;
	}
	if (!again && c->file_fd != fd)
		close(fd); /* refused, or nothing to send: ours to close at once */
	if (rc == 0 && hs__conn_in_pool(c))
		rc = hs__conn_pool_flush(c);
	return rc;
}

/* ------------------------------------------------------------ send_error */

static const char default_error_format[] =
	"<!DOCTYPE HTML>\n"
	"<html lang=\"en\">\n"
	"    <head>\n"
	"        <meta charset=\"utf-8\">\n"
	"        <title>Error response</title>\n"
	"    </head>\n"
	"    <body>\n"
	"        <h1>Error response</h1>\n"
	"        <p>Error code: %(code)d</p>\n"
	"        <p>Message: %(message)s.</p>\n"
	"        <p>Error code explanation: %(code)s - %(explain)s.</p>\n"
	"    </body>\n"
	"</html>\n";

/* error_message_format % {code, message, explain}: the Python placeholders the template
 * uses, with message and explain HTML-escaped. */
static int render_error_page(struct hs__buf *out, const char *fmt, int code,
                             const char *message, const char *explain)
{
	int rc = 0;
	while (*fmt && rc == 0) {
		const char *pct = strchr(fmt, '%');
		if (!pct)
			return hs__buf_puts(out, fmt);
		rc = hs__buf_append(out, fmt, (size_t)(pct - fmt));
		fmt = pct;
		if (strncmp(fmt, "%(code)d", 8) == 0 || strncmp(fmt, "%(code)s", 8) == 0) {
			rc = rc ?: hs__buf_append_int(out, code);
			fmt += 8;
		} else if (strncmp(fmt, "%(message)s", 11) == 0) {
			rc = rc ?: hs__html_escape_latin1(out, message, strlen(message));
			fmt += 11;
		} else if (strncmp(fmt, "%(explain)s", 11) == 0) {
			rc = rc ?: hs__html_escape_latin1(out, explain, strlen(explain));
			fmt += 11;
		} else {
			rc = rc ?: hs__buf_append(out, "%", 1);
			fmt += fmt[1] == '%' ? 2 : 1;
		}
	}
	return rc;
}

int hs_send_error(struct hs_conn *c, int code, const char *message, const char *explain)
{
	return hs__send_error_header(c, code, message, explain, NULL, NULL);
}

int hs__send_error_header(struct hs_conn *c, int code, const char *message,
                          const char *explain, const char *name, const char *value)
{
	const struct hs_handler *h = c->w->srv->handler;
	const char *shortmsg, *longmsg;
	hs_responses(code, &shortmsg, &longmsg);
	if (!message)
		message = shortmsg;
	if (!explain)
		explain = longmsg;
	hs_log_error(c, "code %d, message %s", code, message);
	int rc = hs_send_response(c, code, message);
	rc = rc ?: hs_send_header(c, "Connection", "close");
	c->close_connection = true;
	struct hs__buf *page = &c->w->errpage;
	bool has_body = code >= 200 && code != 204 && code != 205 && code != 304;
	if (has_body && rc == 0) {
		char len_text[HS__INT_TEXT_MAX];
		page->len = 0;
		rc = spoil(c, render_error_page(page, h->error_message_format ? h->error_message_format
		                                                     : default_error_format,
		                       code, message, explain));
		hs__int_text(len_text, (long long)page->len);
		rc = rc ?: hs_send_header(c, "Content-Type", h->error_content_type
		                                                 ? h->error_content_type
		                                                 : "text/html;charset=utf-8");
		rc = rc ?: hs_send_header(c, "Content-Length", len_text);
		rc = rc ?: (name ? hs_send_header(c, name, value) : 0);
		rc = rc ?: hs_end_headers(c);
		if (rc == 0 && strcmp(c->req->command, "HEAD") != 0)
			rc = (int)hs_write(c, page->data, page->len);
		return rc < 0 ? rc : 0;
	}
	rc = rc ?: (name ? hs_send_header(c, name, value) : 0);
	return rc ?: hs_end_headers(c);
}
