/*
 * test_stream_read.c: a body streamed to a deferred handler (stream_body) is read to its
 * real end however its chunk framing is cut up. The server is driven over a socketpair
 * of SOCK_SEQPACKET, so that each read of the socket returns one message: a body whose
 * framing (leading zeros of a chunk size, a chunk extension, a trailer) arrives as
 * thousands of one-byte messages makes hs_read_body read the socket thousands of times
 * without finding a body byte. It must then say -EAGAIN (on_body follows), never 0,
 * which the handler takes for the end of the body. The handler echoes what it read and
 * how the body ended; a request queued behind it must be answered too. A thread writes
 * the messages; when the socket buffer holds them all (a large SO_SNDBUF), they are all
 * queued before the server reads any, as a fast client's would be.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"

/* What the handler has read of the body being streamed. */
struct got {
	char data[64];
	size_t len;
	int calls; /* hs_read_body calls */
};

static void answer(struct hs_conn *c, const char *text)
{
	char len[32];
	snprintf(len, sizeof len, "%zu", strlen(text));
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Length", len);
	hs_end_headers(c);
	hs_write(c, text, strlen(text));
}

/* Reads what has arrived; at the end (or an error) answers "body=DATA end=RC". */
static void pump(struct hs_conn *c, void *arg)
{
	struct got *g = arg;
	for (int i = 0; i < 100000; i++) {
		char buf[16];
		long n = hs_read_body(c, buf, sizeof buf);
		g->calls++;
		if (n == -EAGAIN)
			return;
		if (n > 0 && g->len + (size_t)n <= sizeof g->data) {
			memcpy(g->data + g->len, buf, (size_t)n);
			g->len += (size_t)n;
			continue;
		}
		char text[128];
		snprintf(text, sizeof text, "body=%.*s end=%ld", (int)g->len, g->data, n);
		answer(c, text);
		hs_finish(c);
		return;
	}
}

static void aborted(struct hs_conn *c, void *arg)
{
	(void)c;
	(void)arg;
}

static const struct hs_defer_ops ops = {.on_body = pump, .on_abort = aborted};
static struct got g_got;

static int do_POST(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	(void)r;
	g_got = (struct got){0};
	if (hs_defer(c, &ops, &g_got) < 0)
		return hs_send_error(c, 500, NULL, NULL);
	pump(c, &g_got);
	return 0;
}

static int do_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	(void)r;
	answer(c, "next");
	return 0;
}

static bool send_msg(int fd, const char *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

struct writer {
	int fd;
	const char *const *pieces;
	bool sent;
};

/* The request head, the body's messages (each piece one message; a piece "c*N" stands
 * for N one-byte messages "c"), a GET behind it, then the end of the stream. */
static void *write_request(void *arg)
{
	struct writer *wr = arg;
	static const char head[] = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char next[] = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
	bool ok = send_msg(wr->fd, head, sizeof head - 1);
	for (size_t i = 0; ok && wr->pieces[i]; i++) {
		const char *p = wr->pieces[i];
		if (p[0] && p[1] == '*')
			for (int k = atoi(p + 2); ok && k > 0; k--)
				ok = send_msg(wr->fd, p, 1);
		else
			ok = send_msg(wr->fd, p, strlen(p));
	}
	wr->sent = ok && send_msg(wr->fd, next, sizeof next - 1);
	shutdown(wr->fd, SHUT_WR);
	return NULL;
}

static void serve(const char *name, const char *const *pieces, const char *want)
{
	struct hs_handler h = {.protocol_version = "HTTP/1.1", .stream_body = true,
	                       .do_POST = do_POST, .do_GET = do_GET};
	struct hs_options opt = {.workers = 1, .quiet = true, .header_timeout_ms = 3000,
	                         .body_timeout_ms = 3000, .send_timeout_ms = 3000,
	                         .idle_timeout_ms = 3000};
	opt.log_fd = memfd_create("hs-log", MFD_CLOEXEC);
	int sv[2];
	struct hs_server *s = NULL;
	if (opt.log_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    hs__server_new_detached(&s, &opt, &h) < 0) {
		fprintf(stderr, "FAIL %s: setup\n", name);
		check_failures++;
		return;
	}
	int size = 4 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	struct writer wr = {.fd = sv[0], .pieces = pieces};
	pthread_t t;
	CHECK(pthread_create(&t, NULL, write_request, &wr) == 0);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	bool joined = pthread_timedjoin_np(t, NULL, &until) == 0; /* all queued first, if it fits */
	CHECK_INT(hs__server_serve_socket(s, sv[1]), 0);
	if (!joined)
		pthread_join(t, NULL);
	CHECK(wr.sent);
	char resp[4096];
	size_t len = 0;
	for (int i = 0; i < 100 && len < sizeof resp - 1; i++) {
		ssize_t n = recv(sv[0], resp + len, sizeof resp - 1 - len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	resp[len] = '\0';
	close(sv[0]);
	close(opt.log_fd);
	hs_server_close(s);
	int before = check_failures;
	CHECK(strstr(resp, want) != NULL);
	CHECK(strstr(resp, "\r\n\r\nnext") != NULL); /* the request behind it was found */
	if (check_failures != before)
		fprintf(stderr, "  in case %s: got [%s]\n", name, resp);
}

int main(void)
{
	/* framing alone for thousands of reads, between two chunks of data */
	serve("leading zeros", (const char *const[]){"1\r\na\r\n", "0*1500", "1\r\nb\r\n0\r\n\r\n", NULL},
	      "body=ab end=0");
	serve("an extension", (const char *const[]){"1\r\na\r\n1;", "x*1500", "\r\nb\r\n0\r\n\r\n", NULL},
	      "body=ab end=0");
	serve("a trailer", (const char *const[]){"2\r\nab\r\n0\r\nX-T:", "v*1500", "\r\n\r\n", NULL},
	      "body=ab end=0");
	/* the same framing in one message: no yield needed */
	serve("one message", (const char *const[]){"1\r\na\r\n000000001;x\r\nb\r\n0\r\nX-T: v\r\n\r\n", NULL},
	      "body=ab end=0");
	return check_done("test_stream_read");
}
