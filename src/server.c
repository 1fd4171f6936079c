/*
 * server.c: the server object (HTTPServer / ThreadingHTTPServer). It owns the listening
 * sockets and the workers: one thread per worker, each with its own event loop and its
 * own listener of a SO_REUSEPORT group (the kernel spreads connections over them by
 * address), owning the connections it accepted, so the request path takes no lock. An
 * embedded server is one such worker whose turns the application's own loop takes
 * (hs_server_step), on the application's thread. Shutdown is an atomic flag and an
 * eventfd write per worker, safe from a signal handler or any thread; the eventfds stay
 * open until hs_server_close so that such a write never lands on a reused descriptor.
 * Each worker then closes its listener, so new connections are refused while responses
 * in flight finish. Out of descriptors, a worker answers 503 with a spare descriptor kept
 * for that, or rests its listener for a moment: never a busy loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define ACCEPTS_PER_WAKEUP 64
#define ACCEPT_PAUSE_MS 500   /* out of descriptors, how long a listener rests */
#define REFUSED_AT_STOP 1024  /* at most the backlog hs__listen asks for */
#define DRAIN_CHECK_MS 100    /* draining, how often a worker checks whether it is done */

static void fill_defaults(struct hs_options *o)
{
	if (!o->port)
		o->port = "8000";
	if (o->workers <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->workers = n > 0 ? (int)(n > 256 ? 256 : n) : 1;
	}
	if (o->header_timeout_ms <= 0)
		o->header_timeout_ms = 60000;
	if (o->body_timeout_ms <= 0)
		o->body_timeout_ms = 60000;
	if (o->send_timeout_ms <= 0)
		o->send_timeout_ms = 60000;
	if (o->idle_timeout_ms <= 0)
		o->idle_timeout_ms = 75000;
	if (o->drain_timeout_ms <= 0)
		o->drain_timeout_ms = 10000;
	if (o->max_body <= 0)
		o->max_body = 64LL << 20;
	if (o->log_fd <= 0)
		o->log_fd = 2;
	if (o->max_connections <= 0) {
		/* Each connection may hold a socket and a file: half the descriptors. */
		struct rlimit rl;
		rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
		if (n == RLIM_INFINITY || n > 2000000)
			n = 2000000;
		o->max_connections = n > 128 ? (int)((n - 64) / 2) : 32;
	}
}

static struct hs_server *server_alloc(const struct hs_options *o, const struct hs_handler *h)
{
	struct hs_server *s = hs__calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (o)
		s->opt = *o;
	fill_defaults(&s->opt);
	s->handler = h;
	snprintf(s->version_string, sizeof s->version_string, "%s%s%s",
	         h->server_version ? h->server_version : "httpserve/" HS_VERSION,
	         h->sys_version && *h->sys_version ? " " : "", h->sys_version ? h->sys_version : "");
	s->nworkers = s->opt.workers;
	size_t per = (size_t)s->opt.max_connections / (size_t)s->nworkers;
	s->max_conns_per_worker = per > 0 ? per : 1;
	return s;
}

/* HTTPSServer: the TLS context, made once the bound address is known (the self-signed
 * certificate names it). Its error line goes where the options say, if anywhere. */
static int start_tls(struct hs_server *s)
{
	const struct hs_tls_options *t = &s->opt.tls;
	char unused[256];
	if (!t->cert_file && !t->self_signed && !t->ssl_ctx) {
		if (!t->key_file && !t->password)
			return 0;
		/* a key or a password alone would silently serve plain HTTP */
		snprintf(t->error ? t->error : unused, t->error ? t->error_size : sizeof unused,
		         "a TLS key or password was given without a certificate");
		return -EINVAL;
	}
	return hs__tls_context_new(&s->tls, t, s->host, t->error ? t->error : unused,
	                           t->error ? t->error_size : sizeof unused);
}

int hs_server_new(struct hs_server **out, const struct hs_options *o,
                  const struct hs_handler *h)
{
	*out = NULL;
	struct hs_server *s = server_alloc(o, h);
	if (!s)
		return -ENOMEM;
	s->listen_fds = hs__calloc((size_t)s->nworkers, sizeof *s->listen_fds);
	int rc = s->listen_fds ? hs__listen(s->opt.host, s->opt.port, 1024, s->listen_fds,
	                                    s->nworkers)
	                       : -ENOMEM;
	if (rc < 0) {
		free(s->listen_fds);
		free(s);
		return rc;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(s->listen_fds[0], (struct sockaddr *)&ss, &len) == 0)
		hs__sockaddr_string(&ss, s->host, sizeof s->host, &s->port);
	rc = start_tls(s);
	if (rc < 0) {
		hs_server_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

bool hs_server_is_tls(const struct hs_server *s)
{
	return s->tls != NULL;
}

int hs_server_tls_fingerprint(const struct hs_server *s, char out[96])
{
	return s->tls ? hs__tls_context_fingerprint(s->tls, out) : -ENOTSUP;
}

int hs_server_reload_tls(struct hs_server *s, char *why, size_t why_size)
{
	if (!s->tls) {
		snprintf(why, why_size, "the server does not speak TLS");
		return -ENOTSUP;
	}
	return hs__tls_context_reload(s->tls, why, why_size);
}

int hs__server_new_detached(struct hs_server **out, const struct hs_options *o,
                            const struct hs_handler *h)
{
	*out = server_alloc(o, h);
	return *out ? 0 : -ENOMEM;
}

int hs_server_address(const struct hs_server *s, char *host, size_t host_size, int *port)
{
	if (snprintf(host, host_size, "%s", s->host) >= (int)host_size)
		return -ENAMETOOLONG;
	*port = s->port;
	return 0;
}

/* ------------------------------------------------------------ accepting */

/* Takes the reserve descriptor back if another thread took the one it gave up. */
static bool take_reserve(struct hs__worker *w)
{
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return w->reserve_fd >= 0;
}

/* No descriptor left for a waiting connection: give up the reserve descriptor, take the
 * connection, answer it 503 and close it, then take the reserve back (libuv's and nginx's
 * remedy). False when the listener must pause instead: the reserve is gone (another worker
 * took the descriptor it freed), or the accept still failed for want of one. */
static bool refuse_without_descriptors(struct hs__worker *w)
{
	if (w->reserve_fd < 0)
		return false;
	close(w->reserve_fd);
	w->reserve_fd = -1;
	int fd = accept4(w->listen_io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	bool starved = fd < 0 && (errno == EMFILE || errno == ENFILE);
	if (fd >= 0)
		hs__conn_refuse(fd);
	return take_reserve(w) && !starved;
}

/* Out of descriptors with no reserve: a level-triggered listener would wake the worker at
 * once, again and again. Leave the epoll set and come back in ACCEPT_PAUSE_MS (nginx's
 * remedy). Without memory for the timer, keep listening: a busy loop, never a hang. */
static void pause_accepting(struct hs__worker *w)
{
	if (hs__timer_set(&w->loop, &w->accept_timer, w->loop.now_ms + ACCEPT_PAUSE_MS) < 0)
		return;
	hs__loop_del(&w->loop, &w->listen_io);
	w->accept_paused = true;
}

/* The oldest connection of w waiting for a request with nothing of it read: one a server
 * may close at any time (a drain closes them first). */
static struct hs_conn *oldest_idle(struct hs__worker *w)
{
	struct hs_conn *idle = NULL;
	for (struct hs_conn *c = w->conns; c; c = c->next)
		if (c->state == HS__READ_HEAD && c->in.len == 0)
			idle = c;
	return idle;
}

/* The pause is over: retake the reserve, if need be by closing an idle connection (as
 * nginx reuses its idle keep-alive connections when it runs short), so that a worker whose
 * reserve went to another one can answer its waiting clients again; then listen. */
static void on_accept_timer(struct hs__timer *t)
{
	struct hs__worker *w = (struct hs__worker *)((char *)t - offsetof(struct hs__worker, accept_timer));
	if (!w->accept_paused || w->listen_io.fd < 0)
		return;
	if (!take_reserve(w)) {
		struct hs_conn *idle = oldest_idle(w);
		if (idle) {
			hs__conn_close(idle);
			take_reserve(w);
		}
	}
	w->accept_paused = false;
	if (hs__loop_add(&w->loop, &w->listen_io, EPOLLIN) < 0)
		pause_accepting(w);
}

/* Accepts what is waiting, reading each connection's first bytes, then runs them. Every
 * byte read in the first pass was sent before the second begins; so the second begins a
 * new loop iteration, and the small-file cache lets an entry read or checked from then on
 * answer those requests without a stat (static.c): of a burst of new connections asking
 * for one file, only the first pays an fstatat. */
static void on_listen(struct hs__io *io, uint32_t events)
{
	struct hs__worker *w = (struct hs__worker *)((char *)io - offsetof(struct hs__worker, listen_io));
	struct hs_conn *opened[ACCEPTS_PER_WAKEUP];
	int n = 0;
	(void)events;
	for (int i = 0; i < ACCEPTS_PER_WAKEUP && !w->draining; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			if (refuse_without_descriptors(w))
				continue;
			pause_accepting(w);
			break;
		}
		if (fd < 0)
			break; /* EAGAIN, or a transient error (ECONNABORTED): the next wakeup */
		struct hs_conn *c = hs__conn_open(w, fd, &ss);
		if (c)
			opened[n++] = c;
	}
	if (n == 0)
		return;
	w->loop.iteration++;
	for (int i = 0; i < n; i++)
		hs__conn_start(opened[i]);
}

/* Shutdown stops listening at once: the socket closes, so a new connection is refused
 * rather than left in the queue until the process exits. What already waits in the queue
 * came before the shutdown and would be reset by the close: it is answered 503. The slot
 * in listen_fds is cleared, for hs_server_close not to close the number again. */
static void stop_listening(struct hs__worker *w)
{
	int fd = w->listen_io.fd;
	if (fd < 0)
		return;
	hs__timer_cancel(&w->loop, &w->accept_timer);
	if (!w->accept_paused)
		hs__loop_del(&w->loop, &w->listen_io);
	w->accept_paused = false;
	for (int i = 0; i < REFUSED_AT_STOP; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0)
			hs__conn_refuse(c);
		else if (errno == EMFILE || errno == ENFILE ? !refuse_without_descriptors(w)
		                                            : errno != ECONNABORTED)
			break;
	}
	close(fd);
	w->srv->listen_fds[w->index] = -1;
	w->listen_io.fd = -1;
}

static void begin_drain(struct hs__worker *w)
{
	if (w->draining)
		return;
	w->draining = true;
	w->drain_deadline_ms = w->loop.now_ms + w->srv->opt.drain_timeout_ms;
	stop_listening(w);
	struct hs_conn *c = w->conns;
	while (c) {
		struct hs_conn *next = c->next;
		hs__conn_drain(c);
		c = next;
	}
}

static bool stop_asked(const struct hs_server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST) != 0;
}

static void drain_if_asked(struct hs__worker *w)
{
	if (!w->draining && stop_asked(w->srv))
		begin_drain(w);
}

static void on_wake(struct hs__io *io, uint32_t events)
{
	struct hs__worker *w = (struct hs__worker *)((char *)io - offsetof(struct hs__worker, wake_io));
	uint64_t v;
	(void)events;
	if (read(io->fd, &v, sizeof v) < 0) {
		/* EAGAIN: a wake-up already taken; one read resets the whole counter */
	}
	hs__pool_collect(w);
	drain_if_asked(w);
}

/* ------------------------------------------------------------ workers */

/* The wake-up eventfd is stored atomically: hs_server_shutdown may read it meanwhile. */
static int worker_init(struct hs__worker *w, struct hs_server *s, int index)
{
	w->srv = s;
	w->index = index;
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	w->accept_timer = (struct hs__timer){.heap_index = SIZE_MAX, .fire = on_accept_timer};
	w->accept_paused = false;
	int rc = hs__loop_init(&w->loop);
	if (rc < 0)
		return rc;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	__atomic_store_n(&w->wake_io.fd, fd, __ATOMIC_SEQ_CST);
	w->wake_io.on_event = on_wake;
	rc = hs__loop_add(&w->loop, &w->wake_io, EPOLLIN);
	if (rc < 0)
		return rc;
	w->listen_io.fd = s->listen_fds ? s->listen_fds[index] : -1;
	w->listen_io.on_event = on_listen;
	if (w->listen_io.fd < 0)
		return 0;
	return hs__loop_add(&w->loop, &w->listen_io, EPOLLIN);
}

/* Serves no more: what is still open closes and the last log lines are written. */
static void worker_stop(struct hs__worker *w)
{
	struct hs_conn *c = w->conns;
	while (c) {
		struct hs_conn *next = c->next;
		if (c->state != HS__POOL) /* a lent one is a pool thread's until the pool stops */
			hs__conn_close(c);
		c = next;
	}
	hs__log_flush(w);
}

/* Frees what the worker holds but its wake-up eventfd: hs_server_shutdown may still be
 * about to write to it from another thread, so it stays open until hs_server_close
 * (closed, its number could be another file's by the time of the write). */
static void worker_fini(struct hs__worker *w)
{
	while (w->conns) /* after the pool has stopped: none is lent any more */
		hs__conn_close(w->conns);
	hs__watch_close_all(w);
	hs__log_flush(w);
	hs__conn_free_spare(w);
	hs__buf_free(&w->log);
	hs__buf_free(&w->words);
	hs__buf_free(&w->scratch);
	hs__buf_free(&w->scratch2);
	hs__buf_free(&w->errpage);
	free(w->file_cache);
	w->file_cache = NULL;
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	w->reserve_fd = -1;
	hs__loop_fini(&w->loop);
}

/* A draining worker is done when nothing is left to finish or its time is up; a
 * connection lent to the pool is the pool thread's until it comes back, whatever the
 * time. */
static bool worker_done(const struct hs__worker *w)
{
	return w->draining && w->nlent == 0 &&
	       (w->nconns == 0 || w->loop.now_ms >= w->drain_deadline_ms);
}

/* One turn of a worker's loop, shared by serve_forever's workers (wait_ms -1: until
 * something happens) and hs_server_step (0): what is ready handled, then the log lines
 * it made written. While draining, a turn waits at most DRAIN_CHECK_MS, to see whether
 * the worker is done. Returns 0, 1 once the worker has stopped, or a negative errno
 * (the worker stopped too). */
static int worker_step(struct hs__worker *w, int wait_ms)
{
	drain_if_asked(w);
	if (w->draining && w->loop.now_ms >= w->drain_deadline_ms)
		hs__pool_cancel(w->srv); /* slots still running stop waiting for clients */
	if (!worker_done(w)) {
		if (w->draining && (wait_ms < 0 || wait_ms > DRAIN_CHECK_MS))
			wait_ms = DRAIN_CHECK_MS;
		int rc = hs__loop_once(&w->loop, wait_ms);
		hs__log_flush(w);
		if (rc < 0) {
			worker_stop(w);
			return rc;
		}
		if (!worker_done(w))
			return 0;
	}
	worker_stop(w);
	return 1;
}

/* SIGPIPE from sendfile or a TLS write on a closed socket would kill the process: it is
 * blocked on this thread while a worker works, and one that became pending meanwhile is
 * discarded (unless the thread had it blocked already: then it may be the caller's). */
static void sigpipe_block(sigset_t *old)
{
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	if (!sigismember(old, SIGPIPE)) {
		sigset_t pipe_set;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
			;
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void *worker_run(void *arg)
{
	struct hs__worker *w = arg;
	sigset_t old;
	sigpipe_block(&old);
	while (worker_step(w, -1) == 0)
		;
	sigpipe_restore(&old);
	return NULL;
}

/* Makes the workers (published at once for hs_server_shutdown) and initialises them.
 * On failure s->workers is NULL, or holds workers that want worker_fini. */
static int workers_new(struct hs_server *s)
{
	struct hs__worker *ws = hs__calloc((size_t)s->nworkers, sizeof *ws);
	if (!ws)
		return -ENOMEM;
	for (int i = 0; i < s->nworkers; i++) {
		ws[i].wake_io.fd = -1;
		ws[i].loop.epfd = -1;
		ws[i].reserve_fd = -1;
	}
	__atomic_store_n(&s->workers, ws, __ATOMIC_SEQ_CST);
	int rc = 0;
	for (int i = 0; i < s->nworkers && rc == 0; i++)
		rc = worker_init(&ws[i], s, i);
	return rc;
}

int hs_server_serve_forever(struct hs_server *s)
{
	if (s->workers)
		return -EBUSY; /* serve_forever runs once per server */
	int rc = workers_new(s);
	if (!s->workers)
		return rc;
	if (rc == 0)
		rc = hs__pool_start(s);
	for (int i = 1; i < s->nworkers && rc == 0; i++) {
		rc = -pthread_create(&s->workers[i].thread, NULL, worker_run, &s->workers[i]);
		s->workers[i].started = rc == 0;
	}
	if (rc == 0)
		worker_run(&s->workers[0]);
	else
		hs_server_shutdown(s);
	for (int i = 1; i < s->nworkers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
	hs__pool_stop(s);
	for (int i = 0; i < s->nworkers; i++)
		worker_fini(&s->workers[i]);
	/* The array and its eventfds stay until hs_server_close, so a late
	 * hs_server_shutdown from another thread writes to no one else's descriptor. */
	return rc;
}

void hs_server_shutdown(struct hs_server *s)
{
	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
	struct hs__worker *ws = __atomic_load_n(&s->workers, __ATOMIC_SEQ_CST);
	if (!ws)
		return;
	uint64_t one = 1;
	for (int i = 0; i < s->nworkers; i++) {
		int fd = __atomic_load_n(&ws[i].wake_io.fd, __ATOMIC_SEQ_CST);
		if (fd >= 0 && write(fd, &one, sizeof one) < 0) {
			/* The counter is already non-zero: the worker will wake anyway. */
		}
	}
}

/* ------------------------------------------------------------ your own event loop */

int hs_server_embed(struct hs_server *s)
{
	if (s->nworkers != 1)
		return -EINVAL;
	if (s->workers)
		return -EBUSY;
	int rc = workers_new(s);
	if (rc == 0)
		rc = hs__pool_start(s);
	if (rc < 0 && s->workers)
		worker_fini(&s->workers[0]);
	s->embedded = rc == 0;
	return rc;
}

int hs_server_fd(const struct hs_server *s)
{
	return s->embedded ? s->workers[0].loop.epfd : -EINVAL;
}

int hs_server_step(struct hs_server *s)
{
	if (!s->embedded)
		return -EINVAL;
	sigset_t old;
	sigpipe_block(&old);
	int rc = worker_step(&s->workers[0], 0);
	sigpipe_restore(&old);
	return rc;
}

/* A shutdown asked before hs_server_embed woke no one: the next step must come now. */
int hs_server_next_timeout(const struct hs_server *s)
{
	if (!s->embedded)
		return -1;
	const struct hs__worker *w = &s->workers[0];
	if (worker_done(w) || (!w->draining && stop_asked(s)))
		return 0;
	int ms = hs__loop_timeout(&w->loop);
	return w->draining && (ms < 0 || ms > DRAIN_CHECK_MS) ? DRAIN_CHECK_MS : ms;
}

void hs_server_close(struct hs_server *s)
{
	if (!s)
		return;
	if (s->embedded) {
		sigset_t old;
		sigpipe_block(&old);
		hs__pool_stop(s);
		worker_fini(&s->workers[0]);
		sigpipe_restore(&old);
	}
	for (int i = 0; s->workers && i < s->nworkers; i++)
		if (s->workers[i].wake_io.fd >= 0)
			close(s->workers[i].wake_io.fd);
	for (int i = 0; s->listen_fds && i < s->nworkers; i++)
		if (s->listen_fds[i] >= 0)
			close(s->listen_fds[i]);
	free(s->listen_fds);
	free(s->workers);
	if (s->tls)
		hs__tls_context_free(s->tls);
	free(s);
}

/* The driven tests' way in: one connected socket served on this thread until it closes
 * (every connection state has a deadline, so this ends). */
int hs__server_serve_socket(struct hs_server *s, int fd)
{
	struct hs__worker w = {.wake_io.fd = -1};
	int rc = worker_init(&w, s, 0);
	rc = rc ?: hs__pool_start(s);
	if (rc == 0) {
		struct sockaddr_storage ss = {.ss_family = AF_UNIX};
		struct hs_conn *c = hs__conn_open(&w, fd, &ss);
		w.loop.iteration++;
		if (c)
			hs__conn_start(c);
		while (w.nconns > 0 && rc >= 0) {
			hs__log_flush(&w);
			rc = hs__loop_once(&w.loop, 1000);
		}
	} else {
		close(fd);
	}
	hs__pool_stop(s);
	worker_fini(&w);
	if (w.wake_io.fd >= 0)
		close(w.wake_io.fd);
	return rc < 0 ? rc : 0;
}
