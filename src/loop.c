/*
 * loop.c: the event loop. One epoll instance and one min-heap of deadlines per worker;
 * it knows file descriptors, events and times, never HTTP (the shape of redis's ae).
 * Each iteration reads the clocks once, so everything handled in that iteration shares
 * one notion of "now" and the hot path never asks the kernel for the time.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

#define MAX_EVENTS 256

int hs__loop_init(struct hs__loop *l)
{
	*l = (struct hs__loop){0};
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	hs__loop_update_time(l);
	return 0;
}

void hs__loop_fini(struct hs__loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->heap);
	*l = (struct hs__loop){.epfd = -1};
}

int64_t hs__monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hs__loop_update_time(struct hs__loop *l)
{
	struct timespec ts;
	l->now_ms = hs__monotonic_ms();
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	l->wall_sec = ts.tv_sec;
}

int hs__loop_add(struct hs__loop *l, struct hs__io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int hs__loop_rearm(struct hs__loop *l, struct hs__io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void hs__loop_del(struct hs__loop *l, struct hs__io *io)
{
	/* Failure means the fd is already gone from the set; nothing to undo. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	/* An event of io still waiting in this batch must not reach it: io may be freed. */
	for (int i = 0; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == io)
			l->batch[i].data.ptr = NULL;
}

/* ------------------------------------------------------------ the heap */

static void heap_place(struct hs__loop *l, size_t i, struct hs__timer *t)
{
	l->heap[i] = t;
	t->heap_index = i;
}

static void sift_up(struct hs__loop *l, size_t i)
{
	struct hs__timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->key_ms <= t->key_ms)
			break;
		heap_place(l, i, l->heap[parent]);
		i = parent;
	}
	heap_place(l, i, t);
}

static void sift_down(struct hs__loop *l, size_t i)
{
	struct hs__timer *t = l->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= l->nheap)
			break;
		if (child + 1 < l->nheap && l->heap[child + 1]->key_ms < l->heap[child]->key_ms)
			child++;
		if (t->key_ms <= l->heap[child]->key_ms)
			break;
		heap_place(l, i, l->heap[child]);
		i = child;
	}
	heap_place(l, i, t);
}

static void heap_remove_at(struct hs__loop *l, size_t i)
{
	struct hs__timer *t = l->heap[i];
	t->heap_index = SIZE_MAX;
	l->nheap--;
	if (i == l->nheap)
		return;
	heap_place(l, i, l->heap[l->nheap]);
	sift_down(l, i);
	sift_up(l, l->heap[i]->heap_index);
}

static int heap_push(struct hs__loop *l, struct hs__timer *t)
{
	if (l->nheap == l->heap_cap) {
		size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
		struct hs__timer **h = hs__realloc(l->heap, cap * sizeof *h);
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->heap_cap = cap;
	}
	t->key_ms = t->deadline_ms;
	heap_place(l, l->nheap++, t);
	sift_up(l, l->nheap - 1);
	return 0;
}

int hs__timer_set(struct hs__loop *l, struct hs__timer *t, int64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
	if (t->heap_index == SIZE_MAX)
		return heap_push(l, t);
	if (deadline_ms < t->key_ms) {
		t->key_ms = deadline_ms;
		sift_up(l, t->heap_index);
	}
	return 0;
}

void hs__timer_cancel(struct hs__loop *l, struct hs__timer *t)
{
	if (t->heap_index != SIZE_MAX)
		heap_remove_at(l, t->heap_index);
}

static void fire_expired(struct hs__loop *l)
{
	while (l->nheap > 0 && l->heap[0]->key_ms <= l->now_ms) {
		struct hs__timer *t = l->heap[0];
		if (t->deadline_ms > l->now_ms) {
			/* The deadline moved later since it was queued: re-key, do not fire. */
			t->key_ms = t->deadline_ms;
			sift_down(l, 0);
			continue;
		}
		heap_remove_at(l, 0);
		t->fire(t);
	}
}

/* ------------------------------------------------------------ the loop */

/* Milliseconds from now_ms to the earliest deadline: 0 when it is due, -1 when none
 * runs, INT_MAX at most (a wait takes an int: wake at its limit, wait again). */
static int until_first(const struct hs__loop *l, int64_t now_ms)
{
	if (l->nheap == 0)
		return -1;
	int64_t until = l->heap[0]->key_ms - now_ms;
	return until < 0 ? 0 : until > INT_MAX ? INT_MAX : (int)until;
}

int hs__loop_timeout(const struct hs__loop *l)
{
	return until_first(l, hs__monotonic_ms());
}

int hs__loop_once(struct hs__loop *l, int max_wait_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int wait = max_wait_ms, until = until_first(l, l->now_ms);
	if (until >= 0 && (wait < 0 || until < wait))
		wait = until;
	int n = epoll_wait(l->epfd, ev, MAX_EVENTS, wait);
	if (n < 0 && errno != EINTR)
		return -errno;
	hs__loop_update_time(l);
	l->iteration++;
	l->batch = ev;
	l->batch_n = n;
	for (int i = 0; i < n; i++) {
		struct hs__io *io = ev[i].data.ptr;
		if (io)
			io->on_event(io, ev[i].events);
	}
	l->batch = NULL;
	l->batch_n = 0;
	fire_expired(l);
	return n < 0 ? 0 : n;
}
