/*
 * pool.c: the handler pool, where the slots of a blocking handler run (Python's
 * ThreadingHTTPServer). A worker that has read such a request lends its connection to the
 * pool and goes on serving others; a pool thread takes it from a bounded queue and runs
 * the slot, doing the connection's I/O itself and waiting for the client with poll(2)
 * under the connection's deadlines (conn.c, "lent to the pool"); then it gives the
 * connection back to its worker through the worker's wake-up eventfd, and the worker
 * sends what is left and reads the next request. A lent connection belongs to its pool
 * thread alone: its worker neither reads nor writes it until it comes back, so the
 * request path still takes no lock but the queue's. Each pool thread has a worker
 * structure of its own without an event loop, for what the helpers keep per thread (log
 * lines, dates, the error page), and the connection points to it while the slot runs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_THREADS 16
#define DEFAULT_QUEUE_PER_THREAD 4

struct hs__pool_thread {
	struct hs__worker w; /* the helpers' per-thread state; its loop keeps time only */
	struct hs__pool *pool;
	pthread_t thread;
	bool started;
};

struct hs__pool {
	struct hs_server *srv;
	pthread_mutex_t lock;
	pthread_cond_t ready;  /* a connection was queued, or the pool stops */
	struct hs_conn **queue; /* a ring of lent connections waiting for a thread */
	size_t cap, head, count; /* room for a request per thread and the queue's bound */
	size_t queue_max;      /* handler_queue */
	size_t busy;           /* threads running a slot */
	size_t running;        /* threads started */
	bool stopping;         /* the threads finish what is queued and end */
	bool cancelled;        /* past the drain: queued slots are not run */
	int cancel_fd;         /* an eventfd, readable once waits in slots must end */
	int nthreads;
	struct hs__pool_thread *threads;
};

/* ------------------------------------------------------------ giving back */

/* On the pool thread: the connection returns to its worker, which takes it from a
 * lock-free list when its eventfd wakes it (hs__pool_collect). Only the push that finds
 * the list empty writes the eventfd: the worker takes the whole list after reading it,
 * so a connection pushed onto a list not yet taken rides on that write. */
static void give_back(struct hs_conn *c)
{
	struct hs__worker *w = c->w;
	struct hs_conn *head = __atomic_load_n(&w->returned, __ATOMIC_RELAXED);
	do
		c->lent_next = head;
	while (!__atomic_compare_exchange_n(&w->returned, &head, c, true, __ATOMIC_ACQ_REL,
	                                    __ATOMIC_RELAXED));
	uint64_t one = 1;
	if (!head && write(w->wake_io.fd, &one, sizeof one) < 0) {
		/* the counter is already non-zero: the worker wakes anyway */
	}
}

void hs__pool_collect(struct hs__worker *w)
{
	struct hs_conn *c = __atomic_exchange_n(&w->returned, NULL, __ATOMIC_ACQUIRE);
	while (c) {
		struct hs_conn *next = c->lent_next;
		w->nlent--;
		hs__conn_given_back(c);
		c = next;
	}
}

/* ------------------------------------------------------------ the threads */

/* The next connection to run a slot for (NULL: the pool stops). done says this thread
 * has just finished one: it is counted idle again under the same lock. */
static struct hs_conn *take(struct hs__pool *p, bool done, bool *cancelled)
{
	pthread_mutex_lock(&p->lock);
	if (done)
		p->busy--;
	while (p->count == 0 && !p->stopping)
		pthread_cond_wait(&p->ready, &p->lock);
	struct hs_conn *c = NULL;
	if (p->count > 0) {
		c = p->queue[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		p->busy++;
	}
	*cancelled = p->cancelled;
	pthread_mutex_unlock(&p->lock);
	return c;
}

/* Runs the slot of c with c's helpers pointing to this thread's state. */
static void run_lent(struct hs__pool_thread *pt, struct hs_conn *c, bool cancelled)
{
	struct hs__worker *home = c->w;
	if (cancelled) {
		c->pool_error = -ECANCELED; /* the worker answers 503 */
		return;
	}
	c->w = &pt->w;
	c->pool_cancel_fd = pt->pool->cancel_fd;
	hs__loop_update_time(&pt->w.loop);
	hs__request_call_slot(c);
	hs__log_flush(&pt->w);
	c->w = home;
}

static void *pool_thread_run(void *arg)
{
	struct hs__pool_thread *pt = arg;
	/* a write to a socket the client closed must fail with EPIPE, not kill the process */
	sigset_t pipe_set;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	for (bool done = false;; done = true) {
		bool cancelled;
		struct hs_conn *c = take(pt->pool, done, &cancelled);
		if (!c)
			break;
		run_lent(pt, c, cancelled);
		give_back(c); /* the last touch of c on this thread */
	}
	return NULL;
}

/* ------------------------------------------------------------ the pool */

int hs_run_blocking(struct hs_conn *c, hs_method_fn *fn)
{
	if (hs__conn_in_pool(c))
		return fn(c->w->srv->handler, c, c->req);
	if (!c->w->srv->pool)
		return -ENOTSUP;
	if (c->deferred || c->pool_slot || !c->req)
		return -EBUSY;
	c->pool_slot = fn;
	return 0;
}

int hs__pool_submit(struct hs_conn *c)
{
	struct hs__pool *p = c->w->srv->pool;
	pthread_mutex_lock(&p->lock);
	/* every thread busy and the queue full: refused, whatever the threads' timing */
	bool room = p->count < p->cap && p->busy + p->count < p->running + p->queue_max &&
	            !p->stopping && !p->cancelled;
	if (room) {
		p->queue[(p->head + p->count) % p->cap] = c;
		p->count++;
		c->w->nlent++;
		pthread_cond_signal(&p->ready);
	}
	pthread_mutex_unlock(&p->lock);
	return room ? 0 : -EBUSY;
}

static void pool_free(struct hs__pool *p)
{
	for (int i = 0; i < p->nthreads; i++) {
		struct hs__worker *w = &p->threads[i].w;
		hs__log_flush(w);
		hs__buf_free(&w->log);
		hs__buf_free(&w->scratch);
		hs__buf_free(&w->scratch2);
		hs__buf_free(&w->errpage);
		hs__buf_free(&w->words);
	}
	if (p->cancel_fd >= 0)
		close(p->cancel_fd);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->queue);
	free(p);
}

/* Stops the threads that started, after what is queued has run, and frees the pool. */
static void pool_join(struct hs__pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		if (p->threads[i].started)
			pthread_join(p->threads[i].thread, NULL);
	pool_free(p);
}

static int pool_new(struct hs__pool **out, struct hs_server *s)
{
	struct hs__pool *p = hs__calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->srv = s;
	p->cancel_fd = -1;
	/* an adaptive mutex spins a moment before sleeping: the queue is held for a few
	 * instructions, and a futex call per contended lock costs more than the wait */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&p->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_cond_init(&p->ready, NULL);
	int n = s->opt.handler_threads > 0 ? s->opt.handler_threads : DEFAULT_THREADS;
	size_t cap = s->opt.handler_queue > 0 ? (size_t)s->opt.handler_queue
	                                      : (size_t)n * DEFAULT_QUEUE_PER_THREAD;
	p->queue_max = cap;
	p->cap = cap + (size_t)n; /* threads not yet awake to take theirs */
	p->queue = hs__calloc(p->cap, sizeof *p->queue);
	p->threads = hs__calloc((size_t)n, sizeof *p->threads);
	p->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!p->queue || !p->threads || p->cancel_fd < 0) {
		int rc = p->cancel_fd < 0 && p->queue && p->threads ? -errno : -ENOMEM;
		pool_free(p);
		return rc;
	}
	p->nthreads = n;
	for (int i = 0; i < n; i++) {
		struct hs__pool_thread *pt = &p->threads[i];
		pt->pool = p;
		pt->w.srv = s;
		pt->w.index = -1 - i;
		pt->w.pool_thread = true;
		pt->w.loop.epfd = -1;
		pt->w.wake_io.fd = -1;
		pt->w.listen_io.fd = -1;
		pt->w.reserve_fd = -1;
	}
	*out = p;
	return 0;
}

/* The pool of a server whose handler blocks, made and started before the workers run.
 * Threads that cannot start make it smaller; none at all is an error. */
int hs__pool_start(struct hs_server *s)
{
	if ((!s->handler->blocking && s->opt.handler_threads <= 0) || s->pool)
		return 0;
	struct hs__pool *p = NULL;
	int rc = pool_new(&p, s);
	if (rc < 0)
		return rc;
	int started = 0;
	for (int i = 0; i < p->nthreads; i++) {
		rc = -pthread_create(&p->threads[i].thread, NULL, pool_thread_run, &p->threads[i]);
		p->threads[i].started = rc == 0;
		started += rc == 0;
	}
	if (started == 0) {
		pool_join(p);
		return rc;
	}
	p->running = (size_t)started;
	s->pool = p;
	return 0;
}

/* After every worker has stopped: no connection is lent any more. */
void hs__pool_stop(struct hs_server *s)
{
	if (!s->pool)
		return;
	pool_join(s->pool);
	s->pool = NULL;
}

/* Past the drain deadline: slots still waiting for a client stop waiting (-ECANCELED),
 * and queued ones are not run (their clients get 503). Idempotent; any thread. */
void hs__pool_cancel(struct hs_server *s)
{
	struct hs__pool *p = s->pool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	bool first = !p->cancelled;
	p->cancelled = true;
	pthread_mutex_unlock(&p->lock);
	uint64_t one = 1;
	if (first && write(p->cancel_fd, &one, sizeof one) < 0) {
		/* an eventfd write fails only when its counter is full: readable anyway */
	}
}
