/*
 * hello_mhd.c: NOT PART OF HTTPSERVE. The embedding benchmark's libmicrohttpd server:
 * GET / answers 200 with the same 1024-byte text/plain body as hello_httpserve.c, on
 * 127.0.0.1, keep-alive when the client keeps alive (libmicrohttpd's own HTTP/1.1
 * handling). Configuration: MHD_USE_EPOLL_INTERNAL_THREAD with MHD_USE_TURBO and a
 * thread pool of THREADS epoll threads (MHD_OPTION_THREAD_POOL_SIZE; 1: no pool, the one
 * internal epoll thread), the mode libmicrohttpd's own benchmark example uses; one
 * response object built once (MHD_RESPMEM_PERSISTENT) and queued for every request; the
 * Date header kept, as the other servers send one.
 *
 *     hello_mhd PORT [THREADS]     (THREADS default 1; stop it with SIGTERM or SIGINT)
 */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_LEN 1024

static char body[BODY_LEN];

static enum MHD_Result hello(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **state)
{
	static int seen; /* any non-NULL mark: the request's head has been seen */
	struct MHD_Response *ok = cls;
	(void)version, (void)upload;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/") != 0)
		return MHD_NO;
	/* the first call comes with the head alone: answering there makes libmicrohttpd
	 * close the connection, so the response is queued on the second, as its
	 * documentation does */
	if (!*state) {
		*state = &seen;
		return MHD_YES;
	}
	*upload_size = 0;
	return MHD_queue_response(conn, MHD_HTTP_OK, ok);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
		return 2;
	}
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
	for (int i = 0; i < BODY_LEN - 1; i++)
		body[i] = (char)('a' + i % 26);
	body[BODY_LEN - 1] = '\n';
	struct MHD_Response *ok = MHD_create_response_from_buffer(BODY_LEN, body,
	                                                          MHD_RESPMEM_PERSISTENT);
	if (!ok || MHD_add_response_header(ok, "Content-Type", "text/plain") != MHD_YES)
		return 1;

	/* the signals are taken by sigwait below: blocked here, before any thread starts */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)atoi(argv[1]), NULL, NULL, hello, ok,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
		MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		MHD_OPTION_CONNECTION_LIMIT, 19500u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hello_mhd: MHD_start_daemon failed\n");
		return 1;
	}
	int sig;
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(ok);
	return 0;
}
