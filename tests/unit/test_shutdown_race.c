/*
 * test_shutdown_race.c: hs_server_shutdown from another thread, racing the end of
 * hs_server_serve_forever, never writes into a descriptor the process opened since. The
 * race is made deterministic: this program defines write(), so the library's calls come
 * here, and a shutdown on the "held" thread stops just before its write until the test
 * lets it go. Meanwhile a second shutdown stops the server, serve_forever returns, and
 * the test opens a pipe on the number the held write is about to use if that number was
 * closed (as any open in another thread could). Released, the held write must not reach
 * the pipe. Once per worker count; hs_server_close then leaves no descriptor behind.
 * Every wait is bounded; 127.0.0.1 only.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "httpserve.h"

#define WAIT_MS 5000 /* the bound on every single wait */

#include "running.h"

/* ------------------------------------------------------------ the held write */

static _Thread_local int hold_writes; /* set on the thread whose write is held */
static int held_fd = -1;              /* the descriptor the held write was given */
static int released;                  /* the test lets the held write go on */

static void pause_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (hold_writes) {
		hold_writes = 0;
		__atomic_store_n(&held_fd, fd, __ATOMIC_SEQ_CST);
		for (int i = 0; i < WAIT_MS && !__atomic_load_n(&released, __ATOMIC_SEQ_CST); i++)
			pause_ms(1);
	}
	return syscall(SYS_write, fd, buf, n);
}

/* Waits (bounded) until the held thread has reached its write. */
static bool wait_held(void)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (__atomic_load_n(&held_fd, __ATOMIC_SEQ_CST) >= 0)
			return true;
		pause_ms(1);
	}
	return false;
}

/* ------------------------------------------------------------ server and client */

static int get_any(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	(void)r;
	int rc = hs_send_response(c, 204, NULL);
	return rc ?: hs_end_headers(c);
}

static const struct hs_handler handler = {.do_GET = get_any};

static void *held_shutdown(void *arg)
{
	hold_writes = 1;
	hs_server_shutdown(arg);
	return NULL;
}

/* One HTTP/1.0 request answered: the server is serving (every worker initialised). */
static bool answered(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {WAIT_MS / 1000, 0};
	char buf[256];
	bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
	          connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	          send(fd, "GET / HTTP/1.0\r\n\r\n", 18, MSG_NOSIGNAL) == 18 &&
	          recv(fd, buf, sizeof buf, 0) > 12 && memcmp(buf, "HTTP/1.0 204", 12) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

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

/* ------------------------------------------------------------ the race */

static bool fail(const char *why)
{
	fprintf(stderr, "FAIL: %s\n", why);
	check_count++;
	check_failures++;
	return false;
}

static bool race_once(int workers)
{
	struct running r;
	int fds_before = count_fds();
	pthread_t held;
	held_fd = -1;
	released = 0;
	if (!start_running(&r, &handler, workers, 500))
		return fail("setting up the server");
	CHECK(answered(r.port));
	if (pthread_create(&held, NULL, held_shutdown, r.s) != 0 || !wait_held())
		return fail("the held shutdown did not reach its write");
	hs_server_shutdown(r.s);
	struct pollfd p = {.fd = r.done[0], .events = POLLIN};
	if (poll(&p, 1, WAIT_MS) != 1)
		return fail("serve_forever did not return");
	pthread_join(r.thread, NULL);
	CHECK_INT(r.rc, 0);

	/* the number the held write will use, taken by a new pipe if it was closed */
	int pipe_fds[2], fd = __atomic_load_n(&held_fd, __ATOMIC_SEQ_CST);
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return fail("pipe2");
	bool reused = fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
	              dup3(pipe_fds[1], fd, O_CLOEXEC) == fd;
	__atomic_store_n(&released, 1, __ATOMIC_SEQ_CST);
	pthread_join(held, NULL);
	char got[16];
	ssize_t n = read(pipe_fds[0], got, sizeof got);
	if (n > 0)
		fprintf(stderr, "workers %d: shutdown wrote %zd bytes into a reused descriptor %d\n",
		        workers, n, fd);
	CHECK(n < 0 && errno == EAGAIN);
	if (reused)
		close(fd);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	close(r.done[0]);
	close(r.done[1]);
	close(r.log_fd);
	hs_server_close(r.s);
	CHECK_INT(count_fds(), fds_before);
	return true;
}

int main(void)
{
	static const int workers[] = {1, 2, 4};
	for (size_t i = 0; i < sizeof workers / sizeof *workers; i++)
		race_once(workers[i]);
	return check_done("test_shutdown_race");
}
