/*
 * test_server.c: the server over real loopback (127.0.0.1 only, port "0"), through the
 * public API alone. An HTTPServer (one worker) and a ThreadingHTTPServer (two workers)
 * run at the same time in this process, each with its own handler in its own thread
 * via hs_server_serve_forever, and answer client threads independently; a slow client
 * never delays another; a keep-alive connection carries two requests; hs_server_address
 * reports the port; the log lines carry the client's address; hs_server_shutdown from
 * another thread makes serve_forever return 0 promptly, even with an idle keep-alive
 * connection or a stalled half-sent request open, and hs_server_close frees the port. hs_server_new on a port in use
 * gives -EADDRINUSE and on a host that does not resolve -ENOENT, without exiting. Every
 * wait is bounded (poll with timeouts) and nothing is left running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "httpserve.h"
#include "running.h"

#define WAIT_MS 5000 /* the bound on every single wait */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ handlers */

/* Answers "<name> <path>" as text/plain; the name tells the servers apart. */
static int answer(struct hs_conn *c, const char *name, const struct hs_request *r)
{
	char body[256], len[24];
	int n = snprintf(body, sizeof body, "%s %s", name, r->path);
	snprintf(len, sizeof len, "%d", n);
	int rc = hs_send_response(c, 200, NULL);
	rc = rc ?: hs_send_header(c, "Content-Type", "text/plain");
	rc = rc ?: hs_send_header(c, "Content-Length", len);
	rc = rc ?: hs_end_headers(c);
	return rc ?: (hs_write(c, body, (size_t)n) == n ? 0 : -EIO);
}

static int get_a(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	return answer(c, "A", r);
}

static int get_b(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	return answer(c, "B", r);
}

static const struct hs_handler handler_a = {.protocol_version = "HTTP/1.1", .do_GET = get_a};
static const struct hs_handler handler_b = {.protocol_version = "HTTP/1.1", .do_GET = get_b};

/* ------------------------------------------------------------ a running server */

static bool start(struct running *r, const struct hs_handler *h, int workers)
{
	char host[64] = "";
	if (!start_running(r, h, workers, 500))
		return false;
	CHECK_INT(hs_server_address(r->s, host, sizeof host, &r->port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK(r->port > 0 && r->port < 65536);
	return true;
}

static void give_up(const char *why)
{
	give_up_running("test_server", why);
}

/* serve_forever must also return within 3 s of the shutdown. */
static void stop(struct running *r)
{
	int64_t t0 = now_ms();
	stop_running(r, "test_server");
	CHECK(now_ms() - t0 < 3000);
}

/* ------------------------------------------------------------ a client */

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof err;
	if (poll(&p, 1, WAIT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_text(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, WAIT_MS) != 1)
			return false;
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return false;
		s += k;
		n -= (size_t)k;
	}
	return true;
}

/* Reads into out (NUL-terminated) until the server closes, or, with stop_after_body,
 * until one whole response (its Content-Length) is in. Returns the length or -1. */
static long receive(int fd, char *out, size_t size, bool stop_after_body)
{
	size_t n = 0;
	for (;;) {
		out[n] = '\0';
		const char *end = strstr(out, "\r\n\r\n"), *cl = strstr(out, "Content-Length: ");
		if (stop_after_body && end && cl && n >= (size_t)(end + 4 - out) + (size_t)atol(cl + 16))
			return (long)n;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (n + 1 >= size || poll(&p, 1, WAIT_MS) != 1)
			return -1;
		ssize_t k = recv(fd, out + n, size - 1 - n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			return stop_after_body ? -1 : (long)n;
		n += (size_t)k;
	}
}

/* One request with Connection: close; true when the body is exactly want. */
static bool fetch(int port, const char *path, const char *want)
{
	char req[256], resp[4096];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
	int fd = connect_to(port);
	if (fd < 0)
		return false;
	long n = send_text(fd, req) ? receive(fd, resp, sizeof resp, false) : -1;
	close(fd);
	const char *body = n > 0 ? strstr(resp, "\r\n\r\n") : NULL;
	return body && strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0 && strcmp(body + 4, want) == 0;
}

/* ------------------------------------------------------------ client threads */

#define CLIENTS 4
#define REQUESTS 10

struct client {
	int port_a, port_b, index;
	int ok_a, ok_b; /* answers that matched */
};

/* Alternates between the two servers; each must answer with its own handler. */
static void *client_run(void *arg)
{
	struct client *cl = arg;
	for (int j = 0; j < REQUESTS; j++) {
		char path[32], want[48];
		bool to_a = (j + cl->index) % 2 == 0;
		snprintf(path, sizeof path, "/c%d-%d", cl->index, j);
		snprintf(want, sizeof want, "%s %s", to_a ? "A" : "B", path);
		if (fetch(to_a ? cl->port_a : cl->port_b, path, want))
			(*(to_a ? &cl->ok_a : &cl->ok_b))++;
	}
	return NULL;
}

static int requests_to_a(int index)
{
	int n = 0;
	for (int j = 0; j < REQUESTS; j++)
		n += (j + index) % 2 == 0;
	return n;
}

/* Counts the log lines and checks each reads "127.0.0.1 - - [DD/Mon/YYYY HH:MM:SS] ". */
static int log_lines(int fd)
{
	static char log[65536];
	ssize_t n = pread(fd, log, sizeof log - 1, 0);
	int lines = 0;
	log[n > 0 ? n : 0] = '\0';
	for (char *line = log, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, lines++) {
		int dd, yyyy, hh, mm, ss, used = 0;
		char mon[4];
		bool ok = sscanf(line, "127.0.0.1 - - [%2d/%3[A-Za-z]/%4d %2d:%2d:%2d] %n", &dd, mon,
		                 &yyyy, &hh, &mm, &ss, &used) == 6 &&
		          used == 37 && strstr(line, "\" 200 -\n") == nl - 7;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  log line: %.*s\n", (int)(nl - line), line);
	}
	return lines;
}

/* ------------------------------------------------------------ the tests */

static void test_two_servers(void)
{
	struct running a, b;
	if (!start(&a, &handler_a, 1))
		give_up("cannot start the HTTPServer");
	if (!start(&b, &handler_b, 2))
		give_up("cannot start the ThreadingHTTPServer");
	CHECK(a.port != b.port);

	/* a port in use: -EADDRINUSE, and nothing exits */
	char port_text[16];
	snprintf(port_text, sizeof port_text, "%d", a.port);
	struct hs_server *dup = (struct hs_server *)&a;
	const struct hs_options same = {.host = "127.0.0.1", .port = port_text, .workers = 1};
	CHECK_INT(hs_server_new(&dup, &same, &handler_b), -EADDRINUSE);
	CHECK(dup == NULL);

	/* a slow client holding half a head delays nobody, even on one worker */
	int slow = connect_to(a.port);
	CHECK(slow >= 0 && send_text(slow, "GET /slow HTTP/1.1\r\nHost: t\r\n"));
	CHECK(fetch(a.port, "/while-slow", "A /while-slow"));

	struct client clients[CLIENTS];
	pthread_t threads[CLIENTS];
	int started = 0;
	for (int i = 0; i < CLIENTS; i++) {
		clients[i] = (struct client){.port_a = a.port, .port_b = b.port, .index = i};
		if (pthread_create(&threads[i], NULL, client_run, &clients[i]) != 0)
			break;
		started++;
	}
	CHECK_INT(started, CLIENTS);
	int served_a = 1;
	for (int i = 0; i < started; i++) {
		pthread_join(threads[i], NULL); /* each client's waits are bounded */
		CHECK_INT(clients[i].ok_a, requests_to_a(i));
		CHECK_INT(clients[i].ok_b, REQUESTS - requests_to_a(i));
		served_a += clients[i].ok_a;
	}

	/* a keep-alive connection carries two requests; it stays open, idle, over shutdown */
	char resp[4096];
	int keep = connect_to(b.port);
	CHECK(keep >= 0);
	CHECK(send_text(keep, "GET /k1 HTTP/1.1\r\nHost: t\r\n\r\n"));
	CHECK(receive(keep, resp, sizeof resp, true) > 0 && strstr(resp, "\r\n\r\nB /k1"));
	CHECK(send_text(keep, "GET /k2 HTTP/1.1\r\nHost: t\r\n\r\n"));
	CHECK(receive(keep, resp, sizeof resp, true) > 0 && strstr(resp, "\r\n\r\nB /k2"));

	stop(&a); /* within the bound, though the slow client still holds half a head */
	if (slow >= 0)
		close(slow);
	CHECK(fetch(b.port, "/after-a", "B /after-a")); /* B serves on without A */
	CHECK_INT(log_lines(a.log_fd), served_a);
	stop(&b);
	CHECK_INT(receive(keep, resp, sizeof resp, false), 0); /* closed by the shutdown */
	close(keep);

	/* after hs_server_close nothing listens on the ports any more */
	int fd = connect_to(a.port);
	CHECK(fd < 0);
	if (fd >= 0)
		close(fd);
	close(a.log_fd);
	close(b.log_fd);
}

static void test_bad_addresses(void)
{
	struct hs_server *s = (struct hs_server *)&s;
	const struct hs_options o = {.host = "no-such-host.invalid", .port = "0", .workers = 1};
	CHECK_INT(hs_server_new(&s, &o, &handler_a), -ENOENT);
	CHECK(s == NULL);
}

/* A TLS key or password without a certificate is refused, never served as plain HTTP;
 * a server without TLS says so. */
static void test_tls_half_set(void)
{
	char why[128] = "";
	struct hs_server *s = NULL;
	struct hs_options o = {.host = "127.0.0.1", .port = "0", .workers = 1,
	                       .tls = {.key_file = "key.pem", .error = why, .error_size = sizeof why}};
	CHECK_INT(hs_server_new(&s, &o, &handler_a), -EINVAL);
	CHECK(s == NULL);
	CHECK_STR(why, "a TLS key or password was given without a certificate");
	o.tls.key_file = NULL;
	o.tls.password = "secret";
	CHECK_INT(hs_server_new(&s, &o, &handler_a), -EINVAL);
	o.tls.password = NULL;
	CHECK_INT(hs_server_new(&s, &o, &handler_a), 0);
	if (s) {
		char fp[96];
		CHECK(!hs_server_is_tls(s));
		CHECK_INT(hs_server_tls_fingerprint(s, fp), -ENOTSUP);
		CHECK_INT(hs_server_reload_tls(s, why, sizeof why), -ENOTSUP);
		hs_server_close(s);
	}
}

int main(void)
{
	alarm(120); /* a hang is a failure, never a stuck build */
	test_two_servers();
	test_bad_addresses();
	test_tls_half_set();
	return check_done("test_server");
}
