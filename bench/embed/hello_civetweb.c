/*
 * hello_civetweb.c: NOT PART OF HTTPSERVE. The embedding benchmark's civetweb server:
 * GET / answers 200 with the same 1024-byte text/plain body as hello_httpserve.c, on
 * 127.0.0.1, with keep-alive enabled (civetweb's enable_keep_alive is off by default).
 * civetweb serves a connection on one of its worker threads for as long as the
 * connection lives, so a keep-alive client with N connections needs N threads: THREADS
 * is the benchmark's connection count (civetweb's own default is 50). No access log, no
 * document root (every request goes to the handler).
 *
 *     hello_civetweb PORT [THREADS]     (THREADS default 64; stop it with SIGTERM or SIGINT)
 */
#define _GNU_SOURCE
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_LEN 1024

static char body[BODY_LEN];

static int hello(struct mg_connection *c, void *arg)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	(void)arg;
	if (strcmp(ri->request_method, "GET") != 0 || strcmp(ri->local_uri, "/") != 0) {
		mg_send_http_error(c, 404, "%s", "Not Found");
		return 404;
	}
	/* the head built header by header: mg_send_http_ok would add three cache headers
	 * the other servers do not send */
	mg_response_header_start(c, 200);
	mg_response_header_add(c, "Content-Type", "text/plain", -1);
	mg_response_header_add(c, "Content-Length", "1024", -1);
	mg_response_header_send(c);
	mg_write(c, body, BODY_LEN);
	return 200;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < BODY_LEN - 1; i++)
		body[i] = (char)('a' + i % 26);
	body[BODY_LEN - 1] = '\n';
	char ports[64], threads[16];
	snprintf(ports, sizeof ports, "127.0.0.1:%s", argv[1]);
	snprintf(threads, sizeof threads, "%s", argc > 2 ? argv[2] : "64");
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", "120000",
		"request_timeout_ms", "120000",
		"tcp_nodelay", "1",
		"listen_backlog", "4096",
		NULL,
	};

	/* the signals are taken by sigwait below: blocked here, before any thread starts */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	mg_init_library(0);
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	struct mg_context *ctx = mg_start(&cb, NULL, options);
	if (!ctx) {
		fprintf(stderr, "hello_civetweb: mg_start failed\n");
		return 1;
	}
	mg_set_request_handler(ctx, "/", hello, NULL);
	int sig;
	sigwait(&stop, &sig);
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
