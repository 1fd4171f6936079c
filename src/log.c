/*
 * log.c: Python's log lines, "ADDR - - [DD/Mon/YYYY HH:MM:SS] MESSAGE", with control
 * characters in MESSAGE escaped. Each worker gathers whole lines and writes them when
 * its loop iteration ends (or sooner when many pile up), in writes of at most PIPE_BUF
 * bytes cut at line ends, so lines from concurrent workers never interleave, even on a
 * pipe, and logging stays cheap at full speed.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define LOG_FLUSH_AT 16384

char *hs_log_date_time_string(char out[21])
{
	hs__logdate_format(out, time(NULL));
	return out;
}

static const char *worker_logdate(struct hs__worker *w)
{
	if (w->pool_thread) /* no loop keeps its time: a slot may have slept */
		hs__loop_update_time(&w->loop);
	if (w->logdate_sec != w->loop.wall_sec || !w->logdate[0]) {
		w->logdate_sec = w->loop.wall_sec;
		hs__logdate_format(w->logdate, w->logdate_sec);
	}
	return w->logdate;
}

void hs__log_line(struct hs__worker *w, const char *addr, const char *msg, size_t n)
{
	struct hs__buf *b = &w->log;
	size_t mark = b->len;
	int rc = hs__buf_printf(b, "%s - - [%s] ", addr, worker_logdate(w));
	rc = rc ?: hs__log_escape(b, msg, n);
	rc = rc ?: hs__buf_append(b, "\n", 1);
	if (rc < 0)
		b->len = mark; /* never a partial line */
	if (b->len >= LOG_FLUSH_AT)
		hs__log_flush(w);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* the log is gone: drop rather than stall the server */
		p += k;
		n -= (size_t)k;
	}
}

void hs__log_flush(struct hs__worker *w)
{
	struct hs__buf *b = &w->log;
	int fd = w->srv->opt.log_fd;
	size_t off = 0;
	while (off < b->len) {
		size_t n = b->len - off;
		if (n > PIPE_BUF) {
			/* cut after the last whole line that fits; a longer line goes alone */
			const char *cut = memrchr(b->data + off, '\n', PIPE_BUF);
			const char *end = cut ? cut : memchr(b->data + off, '\n', n);
			n = end ? (size_t)(end - (b->data + off)) + 1 : n;
		}
		write_all(fd, b->data + off, n);
		off += n;
	}
	b->len = 0;
}

/* One formatted message, to the handler's log_message or to the server's log. */
static void log_text(struct hs_conn *c, const char *msg, size_t n)
{
	const struct hs_handler *h = c->w->srv->handler;
	if (h->log_message)
		h->log_message(h, c, msg, n);
	else
		hs__log_line(c->w, c->addr, msg, n);
}

static void log_vmessage(struct hs_conn *c, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	const char *msg = small;
	struct hs__buf big = {0};
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= sizeof small) {
		if (hs__buf_reserve(&big, (size_t)n + 1) < 0) {
			va_end(ap2);
			return;
		}
		vsnprintf(big.data, (size_t)n + 1, fmt, ap2);
		msg = big.data;
	}
	va_end(ap2);
	log_text(c, msg, (size_t)n);
	hs__buf_free(&big);
}

void hs_log_message(struct hs_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmessage(c, fmt, ap);
	va_end(ap);
}

void hs_log_error(struct hs_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmessage(c, fmt, ap);
	va_end(ap);
}

void hs_log_request(struct hs_conn *c, int code, const char *size)
{
	if (c->w->srv->opt.quiet)
		return;
	/* Built by length, not by "%s": the request line of a refused request may hold a
	 * NUL, and the log shows it whole, escaped. */
	const char *line = c->req ? c->req->requestline : "";
	size_t n = c->req ? c->req->requestline_len : 0;
	char code_text[HS__INT_TEXT_MAX];
	size_t code_len = hs__int_text(code_text, code);
	if (!size)
		size = "-";
	size_t size_len = strlen(size);
	char small[512];
	char *msg = small;
	size_t need = n + code_len + size_len + 5; /* "LINE" CODE SIZE and a NUL */
	if (need > sizeof small && !(msg = hs__malloc(need)))
		return;
	size_t at = 0;
	msg[at++] = '"';
	memcpy(msg + at, line, n), at += n;
	memcpy(msg + at, "\" ", 2), at += 2;
	memcpy(msg + at, code_text, code_len), at += code_len;
	msg[at++] = ' ';
	memcpy(msg + at, size, size_len + 1), at += size_len;
	log_text(c, msg, at);
	if (msg != small)
		free(msg);
}
