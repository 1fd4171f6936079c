/*
 * ownloop.c: a server inside the application's own poll() loop, which also reads stdin.
 * GET / answers the lines read from stdin so far (text/plain); GET /big answers 8 MiB,
 * for a response that takes a while. The server is embedded (hs_server_embed): the loop
 * watches hs_server_fd beside stdin, sleeps at most hs_server_next_timeout, and calls
 * hs_server_step; no thread is made. The end of stdin, SIGINT or SIGTERM shuts the
 * server down; the loop goes on until the responses in flight are done, then exits 0.
 * Usage: ownloop [port [idle-timeout-ms]], on 127.0.0.1 (port 0: a free one). Build:
 *     cc ownloop.c $(pkg-config --cflags --libs httpserve) -o ownloop
 */
#include <errno.h>
#include <httpserve.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG_SIZE (8 << 20)

static struct hs_server *server;

/* What stdin has given so far: the lines, and how much of it. */
struct lines {
	char *text;
	size_t len, cap;
};

static void stop(int sig)
{
	(void)sig;
	hs_server_shutdown(server);
}

static int reply(struct hs_conn *c, const char *body, size_t len)
{
	char length[32];
	snprintf(length, sizeof length, "%zu", len);
	int rc = hs_send_response(c, 200, NULL);
	rc = rc ?: hs_send_header(c, "Content-Type", "text/plain; charset=utf-8");
	rc = rc ?: hs_send_header(c, "Content-Length", length);
	rc = rc ?: hs_end_headers(c);
	return rc ?: (hs_write(c, body, len) < 0 ? -1 : 0);
}

static int big(struct hs_conn *c)
{
	static char block[65536];
	char length[32];
	memset(block, 'x', sizeof block);
	snprintf(length, sizeof length, "%d", BIG_SIZE);
	int rc = hs_send_response(c, 200, NULL);
	rc = rc ?: hs_send_header(c, "Content-Length", length);
	rc = rc ?: hs_end_headers(c);
	for (int i = 0; rc == 0 && i < BIG_SIZE / (int)sizeof block; i++)
		rc = hs_write(c, block, sizeof block) < 0 ? -1 : 0;
	return rc;
}

/* The handler with the lines it serves: the struct starts with hs_handler. */
struct handler {
	struct hs_handler base;
	struct lines *lines;
};

static int do_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	const struct lines *l = ((const struct handler *)self)->lines;
	if (strcmp(r->path, "/big") == 0)
		return big(c);
	if (strcmp(r->path, "/") != 0)
		return hs_send_error(c, 404, NULL, NULL);
	return reply(c, l->text ? l->text : "", l->len);
}

/* Reads what stdin has; 0 at its end (or on an error), 1 otherwise. */
static int read_stdin(struct lines *l)
{
	if (l->cap - l->len < 4096) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		char *text = realloc(l->text, cap);
		if (!text)
			return 0;
		l->text = text;
		l->cap = cap;
	}
	ssize_t n = read(0, l->text + l->len, l->cap - l->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	l->len += (size_t)n;
	return 1;
}

/* The application's loop: stdin and the server in one poll(). Returns main's status. */
static int run(struct lines *l)
{
	bool reading = true;
	for (;;) {
		struct pollfd p[2] = {
			{.fd = hs_server_fd(server), .events = POLLIN},
			{.fd = reading ? 0 : -1, .events = POLLIN},
		};
		if (poll(p, 2, hs_server_next_timeout(server)) < 0 && errno != EINTR) {
			perror("ownloop: poll");
			return 1;
		}
		if (p[1].revents && !read_stdin(l)) {
			reading = false;
			hs_server_shutdown(server);
		}
		/* A step with nothing ready costs one epoll_wait: simplest is to step each turn. */
		int rc = hs_server_step(server);
		if (rc == 1)
			return 0;
		if (rc < 0) {
			fprintf(stderr, "ownloop: %s\n", strerror(-rc));
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct lines lines = {0};
	struct handler h = {
		.base = {.protocol_version = "HTTP/1.1", .do_GET = do_GET},
		.lines = &lines,
	};
	struct hs_options opt = {
		.host = "127.0.0.1",
		.port = argc > 1 ? argv[1] : "8000",
		.workers = 1,
		.idle_timeout_ms = argc > 2 ? atoi(argv[2]) : 0,
	};
	int rc = hs_server_new(&server, &opt, &h.base);
	if (rc == 0 && (rc = hs_server_embed(server)) < 0)
		hs_server_close(server);
	if (rc < 0) {
		fprintf(stderr, "ownloop: cannot serve on port %s: %s\n", opt.port, strerror(-rc));
		return 1;
	}
	char host[64];
	int port;
	hs_server_address(server, host, sizeof host, &port);
	printf("Serving HTTP on %s port %d (http://%s:%d/) ...\n", host, port, host, port);
	fflush(stdout);
	struct sigaction sa = {.sa_handler = stop};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run(&lines);
	hs_server_close(server);
	free(lines.text);
	return rc;
}
