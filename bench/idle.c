/*
 * idle.c: NOT PART OF HTTPSERVE. Workload (h)'s helper: opens N keep-alive connections to
 * 127.0.0.1:PORT, sends one HTTP/1.1 request for PATH on each (a 0-byte file, so the answer is
 * a head alone), reads its answer, then holds every connection open and silent, the way
 * browsers park idle keep-alive connections.
 *
 *     idle PORT N HOLD_SECONDS [PATH]
 *
 * Prints "READY open=K answered=M" once the connections are parked (K may be below N if the
 * server refused some), then holds until HOLD_SECONDS have passed or SIGTERM/SIGINT arrives,
 * then prints "DONE still_open=K" (connections the server had not closed meanwhile) and
 * exits. Connects in batches so no listen backlog overflows. Every wait is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 250
#define STEP_TIMEOUT_MS 10000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every fd in the batch has `events` (or failed), bounded. Marks failures -1. */
static void wait_all(struct pollfd *p, int n, short events, int *fds)
{
	long long deadline = now_ms() + STEP_TIMEOUT_MS;
	int left = 0;
	for (int i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = events;
		p[i].revents = 0;
		left += fds[i] >= 0;
	}
	while (left > 0 && now_ms() < deadline) {
		int r = poll(p, (nfds_t)n, 200);
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && r > 0; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				fds[i] = -2 - fds[i]; /* failed: remember to close it */
			p[i].fd = -1;
			left--;
		}
	}
	for (int i = 0; i < n; i++)
		if (p[i].fd >= 0 && fds[i] >= 0)
			fds[i] = -2 - fds[i]; /* timed out */
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: idle PORT N HOLD_SECONDS [PATH]\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[2]), hold = atoi(argv[3]);
	const char *path = argc > 4 ? argv[4] : "/0.bin";
	char req[512];
	int req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	int *fds = calloc((size_t)n, sizeof *fds);
	struct pollfd *p = calloc(BATCH, sizeof *p);
	if (!fds || !p)
		return 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int open_n = 0, answered = 0;
	char buf[4096];
	for (int base = 0; base < n && !stop; base += BATCH) {
		int m = n - base < BATCH ? n - base : BATCH;
		int *b = fds + base;
		for (int i = 0; i < m; i++) {
			b[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (b[i] < 0) {
				perror("idle: socket");
				b[i] = -1;
				continue;
			}
			if (connect(b[i], (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
				close(b[i]);
				b[i] = -1;
			}
		}
		wait_all(p, m, POLLOUT, b);
		for (int i = 0; i < m; i++) {
			if (b[i] < 0)
				continue;
			if (send(b[i], req, (size_t)req_len, MSG_NOSIGNAL) != req_len)
				b[i] = -2 - b[i];
		}
		wait_all(p, m, POLLIN, b);
		for (int i = 0; i < m; i++) {
			if (b[i] < -1) { /* failed: close */
				close(-2 - b[i]);
				b[i] = -1;
				continue;
			}
			if (b[i] < 0)
				continue;
			/* the answer to a 0-byte file is a head alone; read what came */
			ssize_t r = recv(b[i], buf, sizeof buf, 0);
			if (r <= 0) {
				close(b[i]);
				b[i] = -1;
				continue;
			}
			open_n++;
			answered += memmem(buf, (size_t)r, "\r\n\r\n", 4) != NULL;
		}
	}
	printf("READY open=%d answered=%d\n", open_n, answered);
	fflush(stdout);

	long long end = now_ms() + (long long)hold * 1000;
	while (!stop && now_ms() < end)
		usleep(50000);

	int still = 0;
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		/* a server that closed the connection left EOF (or a reset) to read */
		ssize_t r = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
		still += r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
		close(fds[i]);
	}
	printf("DONE still_open=%d\n", still);
	return 0;
}
