/*
 * hello_httpserve.c: NOT PART OF HTTPSERVE. The embedding benchmark's server on
 * libhttpserve: GET / answers 200 with the same 1024-byte text/plain body as
 * hello_mhd.c and hello_civetweb.c, over HTTP/1.1 (keep-alive when the client keeps
 * alive), quiet, on 127.0.0.1. The handler is the same in every mode; the mode says how
 * the library runs it:
 *
 *     plain     an ordinary slot, run on the server's workers (serve_forever)
 *     blocking  the same slot marked .blocking, run on the handler pool (POOL threads,
 *               0: the library's default)
 *     ownloop   one worker driven by this program's own poll() loop (hs_server_embed,
 *               hs_server_fd, hs_server_step, hs_server_next_timeout)
 *
 *     hello_httpserve MODE WORKERS PORT [POOL]     (stop it with SIGTERM or SIGINT)
 *
 * GET /mode answers where the slot ran: "pool" when the library refuses hs_watch_new
 * (as it does in a blocking slot), "worker" otherwise; the benchmark checks it so that
 * a build without the handler pool is not measured as one with it. Built with
 * -DHELLO_NO_OWNLOOP (a library without the own-loop calls yet), ownloop exits with 3.
 */
#define _GNU_SOURCE
#include <httpserve.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_LEN 1024

static char body[BODY_LEN];
static struct hs_server *server;

static void on_signal(int sig)
{
	(void)sig;
	hs_server_shutdown(server);
}

/* The benchmark's body: 'a'..'z' repeated, a newline last (the same in all three). */
static void make_body(void)
{
	for (int i = 0; i < BODY_LEN - 1; i++)
		body[i] = (char)('a' + i % 26);
	body[BODY_LEN - 1] = '\n';
}

static void ignore_watch(struct hs_watch *w, unsigned events, void *arg)
{
	(void)w, (void)events, (void)arg;
}

/* GET /mode: "pool" where the slot may block (hs_watch_new refused), else "worker". */
static int where(struct hs_conn *c)
{
	struct hs_watch *w = NULL;
	int rc = hs_watch_new(c, -1, 0, ignore_watch, NULL, &w);
	if (rc == 0)
		hs_watch_free(w);
	const char *text = rc == -EINVAL ? "pool\n" : "worker\n";
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "text/plain");
	hs_send_header(c, "Content-Length", rc == -EINVAL ? "5" : "7");
	hs_end_headers(c);
	return hs_write(c, text, strlen(text)) < 0 ? -1 : 0;
}

static int hello_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	if (r->path[1] != '\0')
		return strcmp(r->path, "/mode") == 0 ? where(c) : hs_send_error(c, 404, NULL, NULL);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "text/plain");
	hs_send_header(c, "Content-Length", "1024");
	hs_end_headers(c);
	return hs_write(c, body, BODY_LEN) < 0 ? -1 : 0;
}

#ifndef HELLO_NO_OWNLOOP
/* The application's event loop: poll() on the server's descriptor and its deadline. */
static int own_loop(struct hs_server *s)
{
	int rc = hs_server_embed(s);
	if (rc < 0)
		return rc;
	struct pollfd p = {.fd = hs_server_fd(s), .events = POLLIN};
	for (;;) {
		if (poll(&p, 1, hs_server_next_timeout(s)) < 0 && errno != EINTR)
			return -errno;
		rc = hs_server_step(s);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
}
#else
static int own_loop(struct hs_server *s)
{
	(void)s;
	fprintf(stderr, "hello_httpserve: built without the own-loop calls\n");
	exit(3);
}
#endif

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s plain|blocking|ownloop WORKERS PORT [POOL]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	bool own = strcmp(mode, "ownloop") == 0, blocking = strcmp(mode, "blocking") == 0;
	if (!own && !blocking && strcmp(mode, "plain") != 0) {
		fprintf(stderr, "hello_httpserve: unknown mode %s\n", mode);
		return 2;
	}
	make_body();
	struct hs_handler h = {.protocol_version = "HTTP/1.1", .do_GET = hello_GET,
	                       .ignore_body = true, .blocking = blocking};
	struct hs_options o = {.host = "127.0.0.1", .port = argv[3], .workers = atoi(argv[2]),
	                       .quiet = true, .handler_threads = argc > 4 ? atoi(argv[4]) : 0};
	int rc = hs_server_new(&server, &o, &h);
	if (rc < 0) {
		fprintf(stderr, "hello_httpserve: %s\n", strerror(-rc));
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = own ? own_loop(server) : hs_server_serve_forever(server);
	hs_server_close(server);
	if (rc < 0)
		fprintf(stderr, "hello_httpserve: %s\n", strerror(-rc));
	return rc < 0;
}
