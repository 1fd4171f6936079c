/*
 * watch.c: the event loop's public face for handlers that wait on something other than
 * their client (a CGI script's pipes and process, a timer). A watch is a descriptor
 * and/or a deadline on one worker's loop; it belongs to the worker, not to a
 * connection, so it can outlive the request that made it (to reap a process after the
 * client left). The worker keeps a list of its watches so that, when it stops, each
 * gets one HS_WATCH_CLOSING call to release what it holds, and none is leaked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "internal.h"

static void on_watch_io(struct hs__io *io, uint32_t events)
{
	struct hs_watch *w = (struct hs_watch *)((char *)io - offsetof(struct hs_watch, io));
	unsigned ev = 0;
	if (events & EPOLLIN)
		ev |= HS_WATCH_READ;
	if (events & EPOLLOUT)
		ev |= HS_WATCH_WRITE;
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		ev |= HS_WATCH_HUP;
	w->fn(w, ev, w->arg);
}

static void on_watch_timer(struct hs__timer *t)
{
	struct hs_watch *w = (struct hs_watch *)((char *)t - offsetof(struct hs_watch, timer));
	w->fn(w, HS_WATCH_TIMEOUT, w->arg);
}

int hs_watch_new(struct hs_conn *c, int fd, unsigned events, hs_watch_fn *fn, void *arg,
                 struct hs_watch **out)
{
	*out = NULL;
	if (hs__conn_in_pool(c))
		return -EINVAL; /* a pool thread has no event loop to watch on */
	struct hs_watch *w = hs__calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->io = (struct hs__io){.fd = fd, .on_event = on_watch_io};
	w->timer = (struct hs__timer){.heap_index = SIZE_MAX, .fire = on_watch_timer};
	w->w = c->w;
	w->fn = fn;
	w->arg = arg;
	if (fd >= 0) {
		uint32_t ep = EPOLLET | EPOLLRDHUP;
		if (events & HS_WATCH_READ)
			ep |= EPOLLIN;
		if (events & HS_WATCH_WRITE)
			ep |= EPOLLOUT;
		int rc = hs__loop_add(&c->w->loop, &w->io, ep);
		if (rc < 0) {
			free(w);
			return rc;
		}
		w->registered = true;
	}
	w->next = c->w->watches;
	if (w->next)
		w->next->prev = w;
	c->w->watches = w;
	*out = w;
	return 0;
}

int hs_watch_timeout(struct hs_watch *w, long ms)
{
	struct hs__loop *l = &w->w->loop;
	if (ms < 0) {
		hs__timer_cancel(l, &w->timer);
		return 0;
	}
	/* saturated: a deadline beyond the clock's range is never, not the past */
	int64_t deadline = (int64_t)ms > INT64_MAX - l->now_ms ? INT64_MAX : l->now_ms + ms;
	/* the loop's timers only move later lazily: an earlier deadline is set afresh */
	hs__timer_cancel(l, &w->timer);
	return hs__timer_set(l, &w->timer, deadline);
}

/* Takes w out of the loop and the worker's list, without freeing it. */
static void unlink_watch(struct hs_watch *w)
{
	struct hs__worker *wk = w->w;
	hs__timer_cancel(&wk->loop, &w->timer);
	if (w->registered)
		hs__loop_del(&wk->loop, &w->io);
	w->registered = false;
	if (w->prev)
		w->prev->next = w->next;
	else if (wk->watches == w)
		wk->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

void hs_watch_free(struct hs_watch *w)
{
	if (!w || w->closing)
		return;
	unlink_watch(w);
	free(w);
}

void hs__watch_close_all(struct hs__worker *wk)
{
	while (wk->watches) {
		struct hs_watch *w = wk->watches;
		unlink_watch(w);
		w->closing = true;
		w->fn(w, HS_WATCH_CLOSING, w->arg);
		free(w);
	}
}
