/*
 * test_embed.c: a server in the caller's own loop, driven here by poll() on
 * hs_server_fd with hs_server_next_timeout's wait, one thread for server and clients.
 * hs_server_embed wants one worker (-EINVAL with more) and serves once (-EBUSY after,
 * serve_forever too); the three calls refuse a server that is not embedded. Idle, no
 * deadline runs (-1); a connection brings one within its timeout, and that deadline
 * fires with no traffic (the idle connection closes). Requests are answered over
 * keep-alive and several connections at once. A shutdown before embedding, from this
 * thread, or from a slot makes hs_server_step return 1 after the drain (a response in
 * flight completes), and again after that; hs_server_close leaves no descriptor open.
 * 127.0.0.1 only; every wait is bounded.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "httpserve.h"

#define WAIT_MS 5000 /* the bound on every drive */

static struct hs_server *current; /* the server a slot may shut down */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET answers its path; /stop shuts the server down from the slot, then answers. */
static int get(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	char len[24];
	snprintf(len, sizeof len, "%zu", strlen(r->path));
	if (strcmp(r->path, "/stop") == 0)
		hs_server_shutdown(current);
	int rc = hs_send_response(c, 200, NULL);
	rc = rc ?: hs_send_header(c, "Content-Length", len);
	rc = rc ?: hs_end_headers(c);
	return rc ?: (hs_write(c, r->path, strlen(r->path)) >= 0 ? 0 : -EIO);
}

static const struct hs_handler handler = {.protocol_version = "HTTP/1.1", .do_GET = get};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static struct hs_server *make(int workers, int idle_ms, int *port)
{
	struct hs_options o = {.host = "127.0.0.1", .port = "0", .workers = workers,
	                       .quiet = true, .idle_timeout_ms = idle_ms,
	                       .drain_timeout_ms = 2000};
	struct hs_server *s = NULL;
	char host[64];
	if (hs_server_new(&s, &o, &handler) != 0)
		return NULL;
	if (port)
		hs_server_address(s, host, sizeof host, port);
	return s;
}

/* ------------------------------------------------------------ the driver */

struct client {
	int fd;
	char in[4096];
	size_t n;
	bool closed; /* the server closed it */
};

/* One turn of the caller's loop: poll the server's descriptor and the clients for at
 * most next_timeout (capped at 50 ms), step, read what the clients got. The step's
 * result, or 2 when this turn's wait was cut by the cap. */
static int turn(struct hs_server *s, struct client *cl, int ncl)
{
	struct pollfd p[9] = {{.fd = hs_server_fd(s), .events = POLLIN}};
	for (int i = 0; i < ncl; i++)
		p[1 + i] = (struct pollfd){.fd = cl[i].closed ? -1 : cl[i].fd, .events = POLLIN};
	int wait = hs_server_next_timeout(s);
	(void)poll(p, (nfds_t)(1 + ncl), wait < 0 || wait > 50 ? 50 : wait);
	int rc = hs_server_step(s);
	for (int i = 0; i < ncl; i++) {
		if (cl[i].closed || !(p[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t k = recv(cl[i].fd, cl[i].in + cl[i].n, sizeof cl[i].in - 1 - cl[i].n, 0);
		if (k > 0)
			cl[i].n += (size_t)k;
		else if (k == 0 || (errno != EAGAIN && errno != EINTR))
			cl[i].closed = true;
		cl[i].in[cl[i].n] = '\0';
	}
	return rc;
}

/* Turns until every client holds want responses (or is closed, with until_closed), or
 * the step returns 1; the last step's result, or -ETIMEDOUT. */
static int drive(struct hs_server *s, struct client *cl, int ncl, int want, bool until_closed)
{
	int64_t end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		int rc = turn(s, cl, ncl), ready = 0;
		if (rc < 0 || rc == 1)
			return rc;
		for (int i = 0; i < ncl; i++) {
			int got = 0;
			for (const char *q = cl[i].in; (q = strstr(q, "HTTP/1.1 200 OK")); q++)
				got++;
			ready += until_closed ? cl[i].closed : got >= want;
		}
		if (ncl > 0 && ready == ncl)
			return 0;
	}
	return -ETIMEDOUT;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd; /* the listen queue takes it before anyone accepts */
}

static bool ask(struct client *c, const char *path)
{
	char req[128];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	return poll(&p, 1, WAIT_MS) == 1 && send(c->fd, req, (size_t)n, MSG_NOSIGNAL) == n;
}

/* ------------------------------------------------------------ cases */

static void refusals(void)
{
	struct hs_server *s = make(2, 0, NULL);
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(hs_server_embed(s), -EINVAL);
		CHECK_INT(hs_server_fd(s), -EINVAL);
		CHECK_INT(hs_server_step(s), -EINVAL);
		CHECK_INT(hs_server_next_timeout(s), -1);
		hs_server_close(s);
	}
	s = make(1, 0, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(hs_server_fd(s), -EINVAL);
	CHECK_INT(hs_server_step(s), -EINVAL);
	CHECK_INT(hs_server_embed(s), 0);
	CHECK_INT(hs_server_embed(s), -EBUSY);
	CHECK_INT(hs_server_embed(s), -EBUSY);
	CHECK_INT(hs_server_serve_forever(s), -EBUSY);
	CHECK(hs_server_fd(s) >= 0);
	CHECK_INT(hs_server_next_timeout(s), -1);
	CHECK_INT(hs_server_step(s), 0);
	CHECK_INT(hs_server_next_timeout(s), -1);
	hs_server_close(s); /* never shut down: close alone cleans up */
}

/* Requests over keep-alive on three connections at once; the idle deadline then fires
 * with no traffic; a shutdown from this thread ends the serving. */
static void serving(int idle_ms)
{
	int port = 0, fds = count_fds();
	struct hs_server *s = make(1, idle_ms, &port);
	CHECK(s != NULL && hs_server_embed(s) == 0);
	if (!s)
		return;
	struct client cl[3];
	for (int i = 0; i < 3; i++)
		cl[i] = (struct client){.fd = connect_to(port)};
	for (int round = 1; round <= 3; round++) {
		for (int i = 0; i < 3; i++) {
			char path[32];
			snprintf(path, sizeof path, "/c%d-r%d", i, round);
			CHECK(ask(&cl[i], path));
		}
		CHECK_INT(drive(s, cl, 3, round, false), 0);
		int t = hs_server_next_timeout(s);
		CHECK(t > 0 && t <= idle_ms);
	}
	CHECK(strstr(cl[2].in, "\r\n\r\n/c2-r3") != NULL);
	int64_t t0 = now_ms();
	CHECK_INT(drive(s, cl, 3, 0, true), 0); /* the idle timeout closes all three */
	CHECK(now_ms() - t0 >= idle_ms - 100);
	CHECK_INT(hs_server_next_timeout(s), -1);
	hs_server_shutdown(s);
	CHECK_INT(hs_server_next_timeout(s), 0);
	CHECK_INT(drive(s, NULL, 0, 0, false), 1);
	CHECK_INT(hs_server_step(s), 1);
	CHECK_INT(hs_server_next_timeout(s), 0);
	for (int i = 0; i < 3; i++)
		close(cl[i].fd);
	hs_server_close(s);
	CHECK_INT(count_fds(), fds);
}

/* A shutdown asked before hs_server_embed: the first step finishes. */
static void shutdown_first(void)
{
	int fds = count_fds();
	struct hs_server *s = make(1, 0, NULL);
	CHECK(s != NULL);
	if (!s)
		return;
	hs_server_shutdown(s);
	CHECK_INT(hs_server_embed(s), 0);
	CHECK_INT(hs_server_next_timeout(s), 0);
	CHECK_INT(hs_server_step(s), 1);
	hs_server_close(s);
	CHECK_INT(count_fds(), fds);
}

/* A slot shuts the server down: its response and another connection's request in
 * flight still complete, an idle keep-alive connection closes, then the step says 1. */
static void shutdown_from_slot(void)
{
	int port = 0, fds = count_fds();
	struct hs_server *s = make(1, 0, &port);
	current = s;
	CHECK(s != NULL && hs_server_embed(s) == 0);
	if (!s)
		return;
	struct client cl[2] = {{.fd = connect_to(port)}, {.fd = connect_to(port)}};
	CHECK(ask(&cl[1], "/first"));
	CHECK_INT(drive(s, cl + 1, 1, 1, false), 0);
	CHECK(ask(&cl[0], "/stop"));
	int rc = 0;
	for (int64_t end = now_ms() + WAIT_MS; rc == 0 && now_ms() < end;)
		rc = turn(s, cl, 2);
	CHECK_INT(rc, 1);
	for (int i = 0; i < 10 && !(cl[0].closed && cl[1].closed); i++)
		CHECK_INT(turn(s, cl, 2), 1); /* what the clients got, read */
	CHECK(strstr(cl[0].in, "\r\n\r\n/stop") != NULL);
	CHECK(cl[0].closed && cl[1].closed);
	close(cl[0].fd);
	close(cl[1].fd);
	hs_server_close(s);
	CHECK_INT(count_fds(), fds);
}

int main(void)
{
	refusals();
	serving(300);
	serving(700);
	shutdown_first();
	shutdown_from_slot();
	return check_done("test_embed");
}
