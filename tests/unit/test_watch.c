/*
 * test_watch.c: far deadlines on the event loop. hs_watch_timeout must accept any
 * non-negative long, up to LONG_MAX, without the deadline wrapping into the past, and
 * the loop must wait for a deadline more than INT_MAX ms away (epoll_wait's limit)
 * instead of waking at once or at the wrong time. A far deadline is checked by letting
 * the loop wait on nothing else: only a SIGALRM from an interval timer may end that
 * wait, so a return without the alarm means the loop computed too short a wait.
 */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"
#include "internal.h"

#define ALARM_MS 50

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/* Repeats, so that an alarm that came before epoll_wait began is followed by another. */
static void arm_alarm(bool on)
{
	struct itimerval it = {0};
	if (on)
		it.it_value = it.it_interval = (struct timeval){0, ALARM_MS * 1000};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* One iteration of l with nothing to wait for but its timers; whether the alarm ended it. */
static bool waited_for_alarm(struct hs__loop *l)
{
	alarmed = 0;
	arm_alarm(true);
	int n = hs__loop_once(l, -1);
	arm_alarm(false);
	CHECK(n >= 0);
	return alarmed;
}

static int fired;

static void on_watch(struct hs_watch *w, unsigned ev, void *arg)
{
	(void)w;
	(void)arg;
	if (ev & HS_WATCH_TIMEOUT)
		fired++;
}

static void test_watch_timeout(struct hs__worker *wk)
{
	static struct hs_conn c;
	c.w = wk;
	struct hs__loop *l = &wk->loop;
	struct hs_watch *w = NULL;
	CHECK_INT(hs_watch_new(&c, -1, 0, on_watch, NULL, &w), 0);
	if (!w)
		return;
	const long far[] = {
		LONG_MAX, LONG_MAX - 1, LONG_MAX / 2 + 1,
		(long)(INT64_MAX - l->now_ms) + 1,   /* the first past INT64_MAX */
		(long)(INT64_MAX - l->now_ms),       /* INT64_MAX, until the clock moves on */
		LONG_MAX / 1000 + 1,                 /* seconds of a long, as milliseconds */
		(long)INT_MAX + 1, 1L << 32, (1L << 32) + 1, 1L << 40,
	};
	for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
		fired = 0;
		CHECK_INT(hs_watch_timeout(w, far[i]), 0);
		bool alarm = waited_for_alarm(l);
		if (fired || !alarm)
			fprintf(stderr, "hs_watch_timeout(%ld): %s\n", far[i],
			        fired ? "fired at once" : "the loop did not wait");
		CHECK_INT(fired, 0);
		CHECK(alarm);
		CHECK_INT(hs_watch_timeout(w, -1), 0);
	}
	/* near deadlines still fire, in order of time */
	fired = 0;
	CHECK_INT(hs_watch_timeout(w, 5), 0);
	arm_alarm(true);
	for (int i = 0; i < 100 && !fired; i++)
		CHECK(hs__loop_once(l, -1) >= 0);
	arm_alarm(false);
	CHECK_INT(fired, 1);
	hs_watch_free(w);
}

static int timer_fired;

static void on_timer(struct hs__timer *t)
{
	(void)t;
	timer_fired++;
}

/* The loop's own timers, at deadlines around and beyond epoll_wait's int of ms. */
static void test_loop_far_deadline(struct hs__loop *l)
{
	const int64_t ahead[] = {
		(int64_t)INT_MAX, (int64_t)INT_MAX + 1, (int64_t)UINT32_MAX, (int64_t)1 << 32,
		((int64_t)1 << 32) + 1, ((int64_t)1 << 32) + 20, (int64_t)3 << 31, (int64_t)1 << 50,
		INT64_MAX / 2,
	};
	for (size_t i = 0; i < sizeof ahead / sizeof ahead[0]; i++) {
		struct hs__timer t = {.heap_index = SIZE_MAX, .fire = on_timer};
		timer_fired = 0;
		CHECK_INT(hs__timer_set(l, &t, l->now_ms + ahead[i]), 0);
		bool alarm = waited_for_alarm(l);
		if (timer_fired || !alarm)
			fprintf(stderr, "a deadline %lld ms ahead: %s\n", (long long)ahead[i],
			        timer_fired ? "fired" : "the loop did not wait");
		CHECK_INT(timer_fired, 0);
		CHECK(alarm);
		hs__timer_cancel(l, &t);
	}
	struct hs__timer t = {.heap_index = SIZE_MAX, .fire = on_timer};
	timer_fired = 0;
	CHECK_INT(hs__timer_set(l, &t, INT64_MAX), 0);
	CHECK(waited_for_alarm(l));
	CHECK_INT(timer_fired, 0);
	hs__timer_cancel(l, &t);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends epoll_wait */
	sigaction(SIGALRM, &sa, NULL);
	static struct hs__worker wk;
	if (hs__loop_init(&wk.loop) < 0) {
		fprintf(stderr, "test_watch: epoll_create1 failed\n");
		return 1;
	}
	test_watch_timeout(&wk);
	test_loop_far_deadline(&wk.loop);
	hs__loop_fini(&wk.loop);
	return check_done("test_watch");
}
