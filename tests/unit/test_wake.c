/*
 * test_wake.c: the documented way to wake a worker from another thread (httpserve.h,
 * "Threads."). A real server on 127.0.0.1 (port "0") serves in its own thread; its slot
 * defers the response, watches an eventfd with hs_watch_new and starts a thread that
 * sleeps about 50 ms and writes a number to the eventfd. The watch's function must then
 * run on the worker that ran the slot, read that number, write the body and hs_finish.
 * A client checks every answer: several requests in a row on one keep-alive connection
 * and on new ones to one worker, then many at once on two workers. Every wait is
 * bounded; built with sanitizers, nothing may leak.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "httpserve.h"
#include "running.h"

#define WAIT_MS 5000   /* the bound on every single wait */
#define SLEEP_MS 50    /* how long the waking thread sleeps before it writes */
#define IN_A_ROW 5
#define AT_ONCE 16

/* ------------------------------------------------------------ the handler */

/* One deferred response: the eventfd, its watch, and the thread that writes to it. */
struct wake {
	struct hs_conn *c;
	int efd;
	struct hs_watch *watch;
	pthread_t thread;
	bool started;
	pthread_t worker; /* the thread that ran the slot */
	uint64_t value;   /* what the thread writes */
	char path[128];
};

/* What every watch function saw, for the checks after the server stopped. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static int seen_wrong_thread, seen_aborts, seen_woken;
static pthread_t seen_workers[2];
static int seen_nworkers;

static void note_worker(pthread_t self, bool on_worker)
{
	pthread_mutex_lock(&seen_lock);
	seen_woken++;
	seen_wrong_thread += !on_worker;
	bool known = false;
	for (int i = 0; i < seen_nworkers; i++)
		known |= pthread_equal(seen_workers[i], self) != 0;
	if (!known && seen_nworkers < 2)
		seen_workers[seen_nworkers++] = self;
	pthread_mutex_unlock(&seen_lock);
}

static void *waker(void *arg)
{
	struct wake *k = arg;
	struct timespec ts = {0, SLEEP_MS * 1000000L};
	nanosleep(&ts, NULL);
	if (write(k->efd, &k->value, sizeof k->value) != sizeof k->value)
		perror("test_wake: eventfd write");
	return NULL;
}

/* The thread has written, or is about to: it ends at once, and only then may its eventfd
 * close. */
static void wake_free(struct wake *k)
{
	if (k->started)
		pthread_join(k->thread, NULL);
	if (k->watch)
		hs_watch_free(k->watch);
	close(k->efd);
	free(k);
}

static void on_abort(struct hs_conn *c, void *arg)
{
	(void)c;
	pthread_mutex_lock(&seen_lock);
	seen_aborts++;
	pthread_mutex_unlock(&seen_lock);
	wake_free(arg);
}

static const struct hs_defer_ops wake_ops = {.on_abort = on_abort};

/* On the worker: the eventfd was written. The answer says what was read from it. */
static void on_wake(struct hs_watch *w, unsigned events, void *arg)
{
	struct wake *k = arg;
	(void)w;
	if (!(events & HS_WATCH_READ))
		return; /* closing: on_abort releases it */
	uint64_t got = 0;
	if (read(k->efd, &got, sizeof got) != sizeof got)
		return; /* not yet: the next edge brings it */
	struct hs_conn *c = k->c;
	note_worker(pthread_self(), pthread_equal(pthread_self(), k->worker) != 0);
	char body[192], len[24];
	int n = snprintf(body, sizeof body, "%s woken by %llu", k->path, (unsigned long long)got);
	snprintf(len, sizeof len, "%d", n);
	wake_free(k);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "text/plain");
	hs_send_header(c, "Content-Length", len);
	hs_end_headers(c);
	hs_write(c, body, (size_t)n);
	hs_finish(c);
}

static uint64_t next_value(void)
{
	static uint64_t n = 1000;
	return __atomic_add_fetch(&n, 1, __ATOMIC_RELAXED);
}

static int do_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	struct wake *k = calloc(1, sizeof *k);
	if (!k)
		return hs_send_error(c, 500, NULL, NULL);
	*k = (struct wake){.c = c, .worker = pthread_self(), .value = next_value()};
	snprintf(k->path, sizeof k->path, "%s", r->path);
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0 || hs_watch_new(c, k->efd, HS_WATCH_READ, on_wake, k, &k->watch) < 0 ||
	    hs_defer(c, &wake_ops, k) < 0) {
		if (k->efd >= 0)
			wake_free(k);
		else
			free(k);
		return hs_send_error(c, 500, NULL, NULL);
	}
	/* deferred from here: a failure to start the thread is answered from on_wake */
	k->started = pthread_create(&k->thread, NULL, waker, k) == 0;
	if (!k->started && write(k->efd, &k->value, sizeof k->value) != sizeof k->value)
		perror("test_wake: eventfd write");
	return 0;
}

static const struct hs_handler handler = {.protocol_version = "HTTP/1.1", .do_GET = do_GET};

/* ------------------------------------------------------------ a running server */

/* A fresh server, the counters of what the handler saw reset; a test cannot go on
 * without one. */
static void start(struct running *r, int workers)
{
	seen_wrong_thread = seen_aborts = seen_woken = seen_nworkers = 0;
	if (!start_running(r, &handler, workers, 1000))
		give_up_running("test_wake", "cannot start the server");
}

static void stop(struct running *r)
{
	stop_running(r, "test_wake");
	close(r->log_fd);
}

/* ------------------------------------------------------------ a client */

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {WAIT_MS / 1000, 0};
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a GET of path on fd and reads its one response; true when it is a 200 whose
 * body reads "<path> woken by <number>". */
static bool ask(int fd, const char *path, bool last)
{
	char req[256], resp[1024];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
	                 last ? "Connection: close\r\n" : "");
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return false;
	size_t got = 0;
	const char *end = NULL;
	long want = -1;
	while (want < 0 || got < (size_t)(end + 4 - resp) + (size_t)want) {
		ssize_t k = recv(fd, resp + got, sizeof resp - 1 - got, 0);
		if (k <= 0 || got + (size_t)k >= sizeof resp - 1)
			return false;
		got += (size_t)k;
		resp[got] = '\0';
		end = strstr(resp, "\r\n\r\n");
		const char *cl = strstr(resp, "Content-Length: ");
		if (end && cl)
			want = atol(cl + 16);
	}
	char prefix[160];
	snprintf(prefix, sizeof prefix, "%s woken by ", path);
	const char *body = end + 4;
	bool ok = strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	          strncmp(body, prefix, strlen(prefix)) == 0 && atoll(body + strlen(prefix)) > 1000;
	if (!ok)
		fprintf(stderr, "test_wake: %s: unexpected answer:\n%s\n", path, resp);
	return ok;
}

/* ------------------------------------------------------------ the tests */

/* One worker: requests in a row on one keep-alive connection, then each on its own. */
static void test_in_a_row(void)
{
	struct running r;
	start(&r, 1);
	int fd = connect_to(r.port);
	CHECK(fd >= 0);
	for (int i = 0; fd >= 0 && i < IN_A_ROW; i++) {
		char path[32];
		snprintf(path, sizeof path, "/kept/%d", i);
		CHECK(ask(fd, path, i == IN_A_ROW - 1));
	}
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < IN_A_ROW; i++) {
		char path[32];
		snprintf(path, sizeof path, "/new/%d", i);
		int one = connect_to(r.port);
		CHECK(one >= 0 && ask(one, path, true));
		if (one >= 0)
			close(one);
	}
	stop(&r);
	CHECK_INT(seen_woken, 2 * IN_A_ROW);
	CHECK_INT(seen_wrong_thread, 0);
	CHECK_INT(seen_aborts, 0);
	CHECK_INT(seen_nworkers, 1);
}

struct client {
	int port, index;
	bool ok;
};

static void *client_run(void *arg)
{
	struct client *cl = arg;
	int fd = connect_to(cl->port);
	cl->ok = fd >= 0;
	for (int j = 0; fd >= 0 && j < 2; j++) {
		char path[32];
		snprintf(path, sizeof path, "/at-once/%d/%d", cl->index, j);
		cl->ok &= ask(fd, path, j == 1);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Two workers, many connections at once: each slot's watch wakes on its own worker,
 * several responses waiting on each worker at the same time. */
static void test_at_once(void)
{
	struct running r;
	start(&r, 2);
	struct client clients[AT_ONCE];
	pthread_t threads[AT_ONCE];
	int started = 0;
	for (int i = 0; i < AT_ONCE; i++) {
		clients[i] = (struct client){.port = r.port, .index = i};
		if (pthread_create(&threads[i], NULL, client_run, &clients[i]) != 0)
			break;
		started++;
	}
	CHECK_INT(started, AT_ONCE);
	for (int i = 0; i < started; i++) {
		pthread_join(threads[i], NULL); /* each client's waits are bounded */
		CHECK(clients[i].ok);
	}
	stop(&r);
	CHECK_INT(seen_woken, 2 * started);
	CHECK_INT(seen_wrong_thread, 0);
	CHECK_INT(seen_aborts, 0);
	/* the kernel spreads connections over the workers by address: with sixteen, both
	 * serve some (all on one is a chance of one in 32768) */
	CHECK_INT(seen_nworkers, 2);
}

/* A client that leaves before the wake-up: on_abort releases the eventfd and its thread
 * (joined), and the worker goes on serving. */
static void test_client_leaves(void)
{
	struct running r;
	start(&r, 1);
	int fd = connect_to(r.port);
	static const char req[] = "GET /gone HTTP/1.1\r\nHost: t\r\n\r\n";
	CHECK(fd >= 0 && send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == sizeof req - 1);
	if (fd >= 0)
		close(fd);
	int again = connect_to(r.port);
	CHECK(again >= 0 && ask(again, "/after", true));
	if (again >= 0)
		close(again);
	stop(&r);
	CHECK_INT(seen_woken + seen_aborts, 2);
	CHECK_INT(seen_wrong_thread, 0);
}

int main(void)
{
	alarm(120); /* a hang is a failure, never a stuck build */
	test_in_a_row();
	test_at_once();
	test_client_leaves();
	return check_done("test_wake");
}
