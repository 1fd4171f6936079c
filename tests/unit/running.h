/*
 * running.h: a real server on 127.0.0.1 serving in a thread of its own, for the unit
 * tests that drive one over sockets. start_running makes it on a free port with its log
 * in a memfd; stop_running shuts it down and checks that serve_forever returned 0 within
 * the bound, or reports and leaves (a thread that never returns cannot be joined).
 * Included by one test file each: everything here is static, and inline so that a test
 * using only part of it builds without warnings.
 */
#ifndef HS_TEST_RUNNING_H
#define HS_TEST_RUNNING_H

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "httpserve.h"

#ifndef WAIT_MS
#define WAIT_MS 5000 /* the bound on every single wait */
#endif

struct running {
	struct hs_server *s;
	pthread_t thread;
	int done[2]; /* the serving thread writes a byte here when serve_forever returns */
	int rc;
	int log_fd;
	int port;
};

static inline void *serve_running(void *arg)
{
	struct running *r = arg;
	r->rc = hs_server_serve_forever(r->s);
	if (write(r->done[1], "x", 1) != 1)
		r->rc = -EIO;
	return NULL;
}

/* A server on 127.0.0.1, a free port, serving in its own thread. */
static inline bool start_running(struct running *r, const struct hs_handler *h, int workers,
                          int drain_ms)
{
	*r = (struct running){.log_fd = memfd_create("hs-log", MFD_CLOEXEC), .done = {-1, -1}};
	struct hs_options o = {.host = "127.0.0.1", .port = "0", .workers = workers,
	                       .log_fd = r->log_fd, .drain_timeout_ms = drain_ms};
	char host[64] = "";
	if (r->log_fd < 0 || hs_server_new(&r->s, &o, h) != 0)
		return false;
	CHECK_INT(hs_server_address(r->s, host, sizeof host, &r->port), 0);
	if (pipe2(r->done, O_CLOEXEC) < 0)
		return false;
	return pthread_create(&r->thread, NULL, serve_running, r) == 0;
}

/* A server thread that outlives every bound cannot be joined: report and leave. */
static inline void give_up_running(const char *test, const char *why)
{
	fprintf(stderr, "FAIL: %s\n", why);
	check_count++;
	check_failures++;
	check_done(test);
	_exit(1);
}

/* hs_server_shutdown from this thread; serve_forever must return 0 within a bound. The
 * log stays open for the caller to read and close. */
static inline void stop_running(struct running *r, const char *test)
{
	hs_server_shutdown(r->s);
	struct pollfd p = {.fd = r->done[0], .events = POLLIN};
	if (poll(&p, 1, WAIT_MS) != 1)
		give_up_running(test, "serve_forever did not return after hs_server_shutdown");
	pthread_join(r->thread, NULL);
	CHECK_INT(r->rc, 0);
	hs_server_close(r->s);
	close(r->done[0]);
	close(r->done[1]);
}

#endif
