/*
 * idletls.c: NOT PART OF HTTPSERVE. The TLS twin of idle.c, for workload (t4): opens N
 * connections to 127.0.0.1:PORT one after the other, each with a full TLS 1.3 handshake
 * (TLS_AES_128_GCM_SHA256, X25519, no session resumed, as wrktls.c pins for wrk), sends one
 * HTTP/1.1 request for PATH (a 0-byte file, so the answer is a head alone), reads the
 * answer, then holds every connection open and silent.
 *
 *     idletls PORT N HOLD_SECONDS [PATH]
 *
 * Prints "READY open=K answered=M" once the connections are parked, holds until
 * HOLD_SECONDS have passed or SIGTERM/SIGINT arrives, then prints "DONE still_open=K"
 * (connections the server had not closed meanwhile) and exits. Sockets are blocking with
 * 10 s send and receive timeouts, so every step is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One connection: connect, handshake, one request, its head read. NULL if any step failed. */
static SSL *open_one(SSL_CTX *ctx, const struct sockaddr_in *a, const char *req, int *answered)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	SSL *ssl = NULL;
	if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0 || !(ssl = SSL_new(ctx)) ||
	    SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, req, (int)strlen(req)) <= 0)
		goto fail;
	char buf[4096];
	size_t got = 0;
	while (got < sizeof buf - 1) {
		int r = SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - got));
		if (r <= 0)
			goto fail;
		got += (size_t)r;
		buf[got] = 0;
		if (strstr(buf, "\r\n\r\n")) {
			++*answered;
			return ssl;
		}
	}
fail:
	SSL_free(ssl);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: idletls PORT N HOLD_SECONDS [PATH]\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[2]), hold = atoi(argv[3]);
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
	         argc > 4 ? argv[4] : "/0.bin", port);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL **conns = calloc((size_t)n, sizeof *conns);
	if (!ctx || !conns || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519"))
		return 1;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int open_n = 0, answered = 0;
	for (int i = 0; i < n && !stop; i++)
		open_n += (conns[i] = open_one(ctx, &a, req, &answered)) != NULL;
	printf("READY open=%d answered=%d\n", open_n, answered);
	fflush(stdout);

	struct timespec nap = {.tv_nsec = 50000000};
	for (long t = 0; !stop && t < (long)hold * 20; t++)
		nanosleep(&nap, NULL);

	int still = 0;
	char byte;
	for (int i = 0; i < n; i++) {
		if (!conns[i])
			continue;
		/* a server that closed the connection left close_notify, EOF or a reset to read */
		int fd = SSL_get_fd(conns[i]);
		ssize_t r = recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
		still += r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
		close(fd);
	}
	printf("DONE still_open=%d\n", still);
	return 0;
}
