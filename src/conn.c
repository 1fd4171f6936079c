/*
 * conn.c: one connection as an explicit state machine, one function per state:
 *
 *     READ_HEAD -> (READ_BODY) -> WRITE -> READ_HEAD (keep-alive) | LINGER -> closed
 *
 * A connection runs at once when accepted (the listener hands it over only once its
 * first bytes are there), and its non-blocking socket joins the epoll set, edge-triggered
 * for both directions, the first time it has to wait; so every state simply works until
 * the kernel says EAGAIN, and a request answered at once and closed never touches epoll.
 * When a state finishes and the next can run now, it runs at once instead of going
 * round the loop. Every wait has a deadline, moved only by progress: the whole head
 * from its first byte, the time between body bytes, the time between bytes the client
 * accepts, the idle time between requests, and the lingering close. Closed
 * connections keep their buffers on a spare list, so a busy worker stops allocating
 * after warm-up.
 *
 * Two additions serve handlers that produce their response over time (CGI): a body
 * can be streamed to the slot instead of read whole (hs_read_body reads the socket),
 * and a slot can defer its response (HS__DEFERRED: the handler queues bytes from its
 * own callbacks, the connection sends them with back-pressure, and hs_finish ends it).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define IN_CHUNK 4096
#define MAX_SPARE 64
#define CONN_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define SPARE_BUF_MAX (64 * 1024) /* larger buffers are freed, not kept */
#define LINGER_MS 2000
#define SENDFILE_MAX (1LL << 30)
/* The unsent queue a file range of up to PACE_FILE_MAX bytes may leave in the kernel
 * (pace_file); PACE_FILE_MAX is the default ceiling of the send buffer's autotuning
 * (tcp_wmem), so the ranges paced are those one sendfile could otherwise queue whole. */
#ifndef PACE_LOWAT
#define PACE_LOWAT (256 * 1024)
#endif
#ifndef PACE_FILE_MAX
#define PACE_FILE_MAX (4LL << 20)
#endif

enum step { STEP_NEXT, STEP_WAIT, STEP_CLOSE, STEP_LENT };

static void on_conn_event(struct hs__io *io, uint32_t events);
static void conn_run(struct hs_conn *c);
static void on_timeout(struct hs__timer *t);
static int recv_into(struct hs_conn *c, struct hs__buf *b, size_t max);

/* ------------------------------------------------------------ idle buffers */

/* A keep-alive connection waiting for its next request holds no buffer: its input and
 * output buffers go to a small per-worker pool and come back when it wakes, so ten
 * thousand idle connections cost their struct alone, and a busy worker still does not
 * allocate per request. */
#define MAX_IDLE_BUFS 128

static void buf_to_pool(struct hs__worker *w, struct hs__buf *b)
{
	if (b->cap == IN_CHUNK && w->nidle_bufs < MAX_IDLE_BUFS) {
		*(void **)(void *)b->data = w->idle_bufs;
		w->idle_bufs = b->data;
		w->nidle_bufs++;
		*b = (struct hs__buf){0};
	} else {
		hs__buf_free(b);
	}
}

/* An empty b gets IN_CHUNK bytes, from the pool when it has some. On failure b stays
 * empty and the first append reports it. */
static void buf_from_pool(struct hs__worker *w, struct hs__buf *b)
{
	if (b->cap)
		return;
	if (!w->idle_bufs) {
		(void)hs__buf_reserve(b, IN_CHUNK);
		return;
	}
	b->data = w->idle_bufs;
	w->idle_bufs = *(void **)w->idle_bufs;
	w->nidle_bufs--;
	b->cap = IN_CHUNK;
	b->len = 0;
}

static void release_idle_buffers(struct hs_conn *c)
{
	hs__tls_idle(c);
	buf_to_pool(c->w, &c->in);
	c->out.len = c->out_off = 0;
	buf_to_pool(c->w, &c->out);
	hs__buf_free(&c->body);
}

/* ------------------------------------------------------------ lifecycle */

static struct hs_conn *conn_get(struct hs__worker *w)
{
	struct hs_conn *c = w->spare;
	if (c) {
		w->spare = c->next;
		w->nspare--;
		return c;
	}
	c = hs__calloc(1, sizeof *c);
	if (c)
		c->file_fd = -1;
	return c;
}

void hs__conn_refuse(int fd)
{
	static const char busy[] = "HTTP/1.0 503 Service Unavailable\r\n"
	                           "Connection: close\r\nContent-Length: 0\r\n\r\n";
	/* The request is usually there already (the listener defers accepting until it
	 * is): read it, so that the close is a FIN, not a reset that could destroy the 503
	 * on its way. Best effort: the socket buffer of a fresh connection has room. */
	char sink[8192];
	if (recv(fd, sink, sizeof sink, MSG_DONTWAIT) < 0) {
	}
	if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
	}
	close(fd);
}

/* A new connection, set up with what its socket already holds read: the listener
 * defers accepting until the request's first bytes are there (TCP_DEFER_ACCEPT). Its
 * socket joins the epoll set only when it first has to wait (conn_wait), which a
 * request answered at once with Connection: close never does. Returns NULL when the
 * connection was refused or has already ended; hs__conn_start runs it. */
struct hs_conn *hs__conn_open(struct hs__worker *w, int fd, const void *sa)
{
	struct hs_conn *c = w->nconns < w->srv->max_conns_per_worker ? conn_get(w) : NULL;
	if (!c) {
		hs__conn_refuse(fd);
		return NULL;
	}
	c->w = w;
	c->io = (struct hs__io){.fd = fd, .on_event = on_conn_event};
	c->timer = (struct hs__timer){.heap_index = SIZE_MAX, .fire = on_timeout};
	c->state = HS__READ_HEAD;
	c->file_fd = -1;
	c->drained = false;
	c->peer_done = false;
	c->paced = false;
	c->registered = false;
	hs__sockaddr_string(sa, c->addr, sizeof c->addr, &c->port);
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	buf_from_pool(w, &c->in);
	buf_from_pool(w, &c->out);
	if (w->srv->tls) { /* the handshake comes first, under the head's deadline */
		c->state = HS__HANDSHAKE;
		hs__timer_set(&w->loop, &c->timer, w->loop.now_ms + w->srv->opt.header_timeout_ms);
		return c;
	}
	int n = recv_into(c, &c->in, SIZE_MAX);
	if (n == -EAGAIN || n == -EWOULDBLOCK) {
		/* nothing yet (a silent client the kernel passed on): it comes with an event */
		c->drained = true;
		hs__timer_set(&w->loop, &c->timer, w->loop.now_ms + w->srv->opt.idle_timeout_ms);
		return c;
	}
	if (n <= 0) {
		hs__conn_close(c);
		return NULL;
	}
	hs__timer_set(&w->loop, &c->timer, w->loop.now_ms + w->srv->opt.header_timeout_ms);
	return c;
}

/* Runs a connection hs__conn_open set up. The bytes it read were in the socket before
 * the caller began a new loop iteration: for the small-file cache they waited for it. */
void hs__conn_start(struct hs_conn *c)
{
	if (c->in.len > 0)
		c->woke_iteration = c->w->loop.iteration;
	conn_run(c);
}

static void reset_request(struct hs_conn *c)
{
	c->line_len = c->line_scan = c->head_len = 0;
	c->line_check = (struct hs__line_check){0};
	c->head_scan = (struct hs__head_scan){0};
	c->http09 = c->chunked = c->force_http10 = c->responded = c->client_done = false;
	c->said_connection = false;
	c->extra_all = c->extra_ok = NULL;
	c->extra_all_len = c->extra_ok_len = 0;
	c->status_code = 0;
	c->body_left = 0;
	c->chunk = (struct hs__chunked){0};
	c->body.len = c->body_off = 0;
	if (c->body.cap > SPARE_BUF_MAX)
		hs__buf_free(&c->body); /* a large upload's memory goes back at once */
	c->req = NULL;
	c->streaming = c->body_wanted = false;
	c->stream_error = c->out_error = 0;
	c->body_seen = 0;
	c->dropping = false;
	c->dops = NULL;
	c->darg = NULL;
	c->deferred = c->finished = c->failed = c->drain_wanted = false;
	c->events = 0;
	c->woke_iteration = 0;
	c->send_deadline_ms = c->body_deadline_ms = 0;
	c->pool_error = 0;
	c->out_dropped = c->out_start = 0;
	c->pool_slot = NULL;
}

static void free_conn(struct hs_conn *c)
{
	hs__buf_free(&c->in);
	hs__buf_free(&c->out);
	hs__buf_free(&c->body);
	hs__buf_free(&c->segs);
	hs__buf_free(&c->own_words);
	free(c->own_headers);
	free(c);
}

void hs__conn_close(struct hs_conn *c)
{
	struct hs__worker *w = c->w;
	if (c->deferred && !c->finished) {
		c->finished = true; /* once */
		if (c->dops->on_abort)
			c->dops->on_abort(c, c->darg);
	}
	c->in_run = false;
	hs__timer_cancel(&w->loop, &c->timer);
	if (c->registered)
		hs__loop_del(&w->loop, &c->io);
	c->registered = false;
	hs__tls_close(c);
	close(c->io.fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	reset_request(c);
	c->in.len = c->out.len = c->out_off = 0;
	c->close_connection = false;
	c->file_left = 0;
	c->segs.len = c->seg_next = 0;
	/* a spare keeps no buffer: a burst of large requests must not pin memory */
	release_idle_buffers(c);
	if (w->nspare >= MAX_SPARE) {
		free_conn(c);
		return;
	}
	c->next = w->spare;
	w->spare = c;
	w->nspare++;
}

void hs__conn_free_spare(struct hs__worker *w)
{
	while (w->idle_bufs) {
		void *next = *(void **)w->idle_bufs;
		free(w->idle_bufs);
		w->idle_bufs = next;
	}
	w->nidle_bufs = 0;
	while (w->spare) {
		struct hs_conn *c = w->spare;
		w->spare = c->next;
		free_conn(c);
	}
	w->nspare = 0;
}

/* Shutdown: an idle connection closes now, a busy one after its current response. */
void hs__conn_drain(struct hs_conn *c)
{
	if (c->state == HS__POOL)
		return; /* lent: it closes when it comes back */
	if ((c->state == HS__READ_HEAD && c->in.len == 0) || c->state == HS__HANDSHAKE)
		hs__conn_close(c);
	else
		c->close_connection = true;
}

/* ------------------------------------------------------------ transport */

/* The connection's bytes go through its socket, or through TLS (tls.c) when c->tls is
 * set. Each returns bytes, 0 at the end of the stream (reads) or a file that ended
 * early (sendfile), or a negative errno: -EAGAIN to wait for the socket. */
static long transport_recv(struct hs_conn *c, void *buf, size_t len)
{
	if (c->tls)
		return hs__tls_read(c, buf, len);
	for (;;) {
		ssize_t n = recv(c->io.fd, buf, len, 0);
		if (n >= 0 || errno != EINTR)
			return n >= 0 ? n : -errno;
	}
}

static long transport_send(struct hs_conn *c, const void *buf, size_t len, int flags)
{
	if (c->tls)
		return hs__tls_write(c, buf, len);
	for (;;) {
		ssize_t n = send(c->io.fd, buf, len, MSG_NOSIGNAL | flags);
		if (n >= 0 || errno != EINTR)
			return n >= 0 ? n : -errno;
	}
}

static long transport_sendfile(struct hs_conn *c, off_t *off, size_t len)
{
	if (c->tls)
		return hs__tls_sendfile(c, c->file_fd, off, len);
	for (;;) {
		ssize_t n = sendfile(c->io.fd, c->file_fd, off, len);
		if (n >= 0 || errno != EINTR)
			return n >= 0 ? n : -errno;
	}
}

/* ------------------------------------------------------------ reading */

/* A read of got bytes where asked were asked for: less means the socket had no more
 * (nginx's rule), unless an end of stream was signalled, which must still be read.
 * Never so over TLS: a read returns one record at most, and a record OpenSSL already
 * holds would bring no event. */
static void note_read(struct hs_conn *c, size_t got, size_t asked)
{
	c->drained = got < asked && !c->peer_done && !c->tls;
}

static int recv_into(struct hs_conn *c, struct hs__buf *b, size_t max)
{
	if (b->cap - b->len < IN_CHUNK / 2 && hs__buf_reserve(b, b->cap ? b->cap : IN_CHUNK) < 0)
		return -ENOMEM;
	size_t room = b->cap - b->len;
	if (room > max)
		room = max;
	long n = transport_recv(c, b->data + b->len, room);
	if (n > 0) {
		b->len += (size_t)n;
		note_read(c, (size_t)n, room);
	}
	return (int)n;
}

/* A request line that can never be HTTP, refused before its end arrives (a TLS
 * handshake on the plain port gets its 400 at once, not at the head's deadline). The
 * same check of the whole line finds it too: its page shows what has arrived. */
static enum step refuse_line_start(struct hs_conn *c)
{
	struct hs__reqline rl;
	size_t n = c->in.len < HS__MAX_LINE ? c->in.len : HS__MAX_LINE;
	hs__parse_request_line(c->in.data, n, &rl);
	hs__request_line_error(c, HS__RL_BAD_SYNTAX, &rl);
	return STEP_NEXT;
}

/* Parses what is buffered. Returns STEP_NEXT when the request was answered or moved
 * on, STEP_WAIT when more bytes are needed, STEP_CLOSE to close silently. */
static enum step parse_head(struct hs_conn *c)
{
	struct hs__worker *w = c->w;
	if (!c->line_len) {
		long r = hs__find_line(c->in.data, c->in.len, &c->line_scan);
		if (r == 0 && hs__line_start_refused(c->in.data, c->in.len, &c->line_check))
			return refuse_line_start(c);
		if (r == 0)
			return STEP_WAIT;
		if (r < 0) {
			hs__request_head_error(c, 414);
			return STEP_NEXT;
		}
		c->line_len = (size_t)r;
		struct hs__reqline rl;
		enum hs__reqline_status st = hs__parse_request_line(c->in.data, c->line_len, &rl);
		if (st == HS__RL_EMPTY)
			return STEP_CLOSE;
		if (st != HS__RL_OK) {
			hs__request_line_error(c, st, &rl);
			return STEP_NEXT;
		}
		hs__reqline_save(&c->line, &rl, c->in.data);
		if (rl.version.n == 0) { /* two words: HTTP/0.9 */
			c->http09 = true;
			c->head_len = c->line_len;
			hs__request_dispatch(c);
			return STEP_NEXT;
		}
	}
	size_t nh = 0;
	long r = hs__parse_headers(c->in.data + c->line_len, c->in.len - c->line_len,
	                           &c->head_scan, w->spans, &nh);
	if (r == 0)
		return STEP_WAIT;
	if (r < 0) {
		hs__request_head_error(c, r);
		return STEP_NEXT;
	}
	c->head_len = c->line_len + (size_t)r;
	if (hs__request_prepare(c, nh) == 0 && c->state == HS__READ_HEAD)
		hs__request_dispatch(c);
	return STEP_NEXT;
}

static enum step read_head(struct hs_conn *c)
{
	if (c->in.len > 0) {
		enum step s = parse_head(c);
		if (s != STEP_WAIT)
			return s;
	}
	for (;;) {
		size_t had = c->in.len;
		/* The last read emptied the socket, so the next request's bytes will come with
		 * an event of their own: no read that could only say EAGAIN. */
		int n = -EAGAIN;
		if (!c->drained) {
			buf_from_pool(c->w, &c->in);
			buf_from_pool(c->w, &c->out);
			n = recv_into(c, &c->in, SIZE_MAX);
		}
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			if (had == 0 && c->out_off == c->out.len)
				release_idle_buffers(c);
			int64_t ms = had ? c->w->srv->opt.header_timeout_ms : c->w->srv->opt.idle_timeout_ms;
			if (c->timer.heap_index == SIZE_MAX) /* both deadlines are set where they start */
				hs__timer_set(&c->w->loop, &c->timer, c->w->loop.now_ms + ms);
			return STEP_WAIT;
		}
		if (n <= 0)
			return STEP_CLOSE;
		if (had == 0) /* the head's deadline runs from its first byte */
			hs__timer_set(&c->w->loop, &c->timer,
			              c->w->loop.now_ms + c->w->srv->opt.header_timeout_ms);
		else /* the request was not whole when the worker woke: it did not wait */
			c->woke_iteration = 0;
		enum step s = parse_head(c);
		if (s != STEP_WAIT)
			return s;
	}
}

/* Moves body bytes already in the input buffer (after the head) into the body. */
static int take_buffered_body(struct hs_conn *c)
{
	struct hs__buf *in = &c->in;
	char *start = in->data + c->head_len;
	size_t avail = in->len - c->head_len, used, data;
	if (c->chunked) {
		long r = hs__chunked_decode(&c->chunk, start, avail, &data);
		if (r < 0)
			return -EBADMSG;
		used = (size_t)r;
	} else {
		used = data = avail < (size_t)c->body_left ? avail : (size_t)c->body_left;
		c->body_left -= (long long)data;
	}
	if ((long long)(c->body.len + data) + c->body_seen > c->w->srv->opt.max_body)
		return -EFBIG;
	if (c->dropping)
		c->body_seen += (long long)data;
	else if (hs__buf_append(&c->body, start, data) < 0)
		return -ENOMEM;
	memmove(start, start + used, avail - used);
	in->len -= used;
	return 0;
}

static bool body_complete(const struct hs_conn *c)
{
	return c->chunked ? c->chunk.done : c->body_left == 0;
}

static enum step flush_out(struct hs_conn *c, int flags);

/* Body bytes received so far (kept, or counted when dropped): what moves the body
 * deadline. Chunk framing is not counted. */
static long long body_got(const struct hs_conn *c)
{
	return (long long)c->body.len + c->body_seen;
}

/* The body deadline runs from the last body bytes received (or the first wait for
 * them): a wake-up that brought none (chunk framing, an urgent byte) leaves it. */
static enum step body_wait(struct hs_conn *c, long long got)
{
	if (!c->body_deadline_ms || body_got(c) != got)
		c->body_deadline_ms = c->w->loop.now_ms + c->w->srv->opt.body_timeout_ms;
	hs__timer_set(&c->w->loop, &c->timer, c->body_deadline_ms);
	return STEP_WAIT;
}

static enum step read_body(struct hs_conn *c)
{
	long long got = body_got(c);
	/* An interim "100 Continue" goes out before the body is awaited. */
	if (c->out_off < c->out.len && flush_out(c, 0) == STEP_CLOSE)
		return STEP_CLOSE;
	for (;;) {
		int rc = take_buffered_body(c);
		if (rc < 0) {
			hs__request_head_error(c, rc == -EFBIG ? 413 : 400);
			return STEP_NEXT;
		}
		if (body_complete(c)) {
			hs__request_dispatch(c);
			return STEP_NEXT;
		}
		size_t max = c->chunked ? SIZE_MAX : (size_t)c->body_left;
		int n = c->chunked ? recv_into(c, &c->in, max) : recv_into(c, &c->body, max);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return body_wait(c, got);
		if (n <= 0)
			return STEP_CLOSE;
		if (!c->chunked) {
			c->body_left -= n;
			if (c->dropping) {
				c->body_seen += n;
				c->body.len = 0;
			}
			if ((long long)c->body.len + c->body_seen > c->w->srv->opt.max_body) {
				hs__request_head_error(c, 413);
				return STEP_NEXT;
			}
		}
	}
}

/* ------------------------------------------------------------ writing */

/* Sends out.data up to end. */
static enum step flush_until(struct hs_conn *c, size_t end, int flags)
{
	while (c->out_off < end) {
		long n = transport_send(c, c->out.data + c->out_off, end - c->out_off, flags);
		if (n > 0)
			c->out_off += (size_t)n;
		else
			return n == -EAGAIN ? STEP_WAIT : STEP_CLOSE;
	}
	return STEP_NEXT;
}

static enum step flush_out(struct hs_conn *c, int flags)
{
	return flush_until(c, c->out.len, flags);
}

/* A file range longer than PACE_LOWAT and at most PACE_FILE_MAX bytes is sent with the
 * socket's unsent queue bounded to PACE_LOWAT (TCP_NOTSENT_LOWAT): sendfile queues that
 * much beyond what is in flight, and EPOLLOUT comes when the queue runs low. Unbounded,
 * one call queues such a body whole and the client's acknowledgements drive the rest
 * out, on the client's CPU; bounded, the server's wake-ups push it, and with many
 * connections they take turns with small queues. Longer ranges keep the deep queue, so
 * that one long download never waits for the server to wake up (docs/design.md,
 * "Large files"). Plain sockets only; the option is set and cleared only on a change. */
static void pace_file(struct hs_conn *c, long long len)
{
	bool want = len > PACE_LOWAT && len <= PACE_FILE_MAX;
	if (want == c->paced || c->tls)
		return;
	int v = want ? PACE_LOWAT : 0; /* 0: the system's default, no bound */
	if (setsockopt(c->io.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v) == 0)
		c->paced = want;
}

static enum step send_file_body(struct hs_conn *c)
{
	while (c->file_left > 0) {
		off_t off = c->file_off;
		size_t len = (size_t)(c->file_left < SENDFILE_MAX ? c->file_left : SENDFILE_MAX);
		long n = transport_sendfile(c, &off, len);
		if (n > 0) {
			c->file_off = off;
			c->file_left -= n;
			continue;
		}
		/* 0: the file shrank: never send a short body and keep going */
		return n == -EAGAIN ? STEP_WAIT : STEP_CLOSE;
	}
	return STEP_NEXT;
}

/* The queued body in order: each file range after the bytes of out that precede it
 * (the part heads of multipart/byteranges lie between ranges), then the rest of out. */
static enum step send_body(struct hs_conn *c)
{
	const struct hs__file_seg *segs = (const struct hs__file_seg *)(const void *)c->segs.data;
	size_t nsegs = c->segs.len / sizeof *segs;
	for (;;) {
		enum step s = send_file_body(c);
		if (s != STEP_NEXT)
			return s;
		if (c->seg_next == nsegs)
			return flush_out(c, 0);
		s = flush_until(c, segs[c->seg_next].out_end, MSG_MORE);
		if (s != STEP_NEXT)
			return s;
		c->file_off = segs[c->seg_next].off;
		c->file_left = segs[c->seg_next].len;
		c->seg_next++;
		pace_file(c, c->file_left);
	}
}

/* The response is out: close, linger, or get ready for the next request. */
static enum step finish_response(struct hs_conn *c)
{
	if (c->file_fd >= 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	c->out.len = c->out_off = 0;
	c->segs.len = c->seg_next = 0;
	size_t consumed = c->head_len <= c->in.len ? c->head_len : c->in.len;
	memmove(c->in.data, c->in.data + consumed, c->in.len - consumed);
	c->in.len -= consumed;
	/* a streamed body the handler left unread: the next request cannot be found */
	bool close_now = c->close_connection || c->http09 || c->w->draining ||
	                 (c->streaming && !body_complete(c));
	/* Lingering protects a response from the reset that unread input would cause. With
	 * the request read whole and nothing buffered, it is skipped when the client said it
	 * is done (RFC 9112 9.3, 9.6) or when the last read emptied the socket and no event
	 * came since: nginx's lingering_close heuristic. A client that sends more after that
	 * read gets a reset, as with nginx, and as with Python, which never lingers. */
	bool close_at_once = close_now && body_complete(c) && c->in.len == 0 &&
	                     (c->client_done || c->drained);
	reset_request(c);
	if (close_at_once)
		return STEP_CLOSE;
	if (close_now) {
		hs__tls_close(c); /* close_notify; what the client still sends is discarded raw */
		shutdown(c->io.fd, SHUT_WR);
		c->state = HS__LINGER;
		hs__timer_set(&c->w->loop, &c->timer, c->w->loop.now_ms + LINGER_MS);
		return STEP_NEXT;
	}
	c->state = HS__READ_HEAD;
	/* bytes of the next request already here: its head's deadline runs from now */
	int64_t ms = c->in.len ? c->w->srv->opt.header_timeout_ms : c->w->srv->opt.idle_timeout_ms;
	hs__timer_set(&c->w->loop, &c->timer, c->w->loop.now_ms + ms);
	return STEP_NEXT;
}

/* The send deadline runs from the last bytes the client accepted (or the first wait):
 * a wake-up that sent nothing (the client sending instead of reading) leaves it. */
static enum step write_response(struct hs_conn *c)
{
	size_t out_off = c->out_off, seg = c->seg_next;
	long long file_left = c->file_left;
	enum step s = send_body(c);
	if (s == STEP_WAIT) {
		if (!c->send_deadline_ms || c->out_off != out_off || c->file_left != file_left ||
		    c->seg_next != seg)
			c->send_deadline_ms = c->w->loop.now_ms + c->w->srv->opt.send_timeout_ms;
		hs__timer_set(&c->w->loop, &c->timer, c->send_deadline_ms);
		return STEP_WAIT;
	}
	if (s == STEP_CLOSE)
		return STEP_CLOSE;
	return finish_response(c);
}

/* After a refusal the client may still be sending: read and discard until it closes
 * (bounded), so that closing does not reset the connection and destroy the answer. */
static enum step linger(struct hs_conn *c)
{
	char sink[16384];
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(c->io.fd, sink, sizeof sink, 0);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return STEP_WAIT;
		return STEP_CLOSE;
	}
	/* More is waiting: let other connections run, and ask for another event (the socket
	 * is edge-triggered, and a sender blocked on a full window would send no new edge). */
	if (c->registered && hs__loop_rearm(&c->w->loop, &c->io, CONN_EVENTS) < 0)
		return STEP_CLOSE;
	return STEP_WAIT;
}

/* ------------------------------------------------------------ TLS handshake */

/* HS__HANDSHAKE: the first bytes say whether the client speaks TLS; a plain HTTP request
 * sent to the HTTPS port gets a plain 400 that says so, at once. Then the handshake runs
 * until done, and the connection waits for its first request as a new plain one does. */
static enum step handshake(struct hs_conn *c)
{
	if (!c->tls) {
		int tls = hs__tls_sniff(c->io.fd);
		if (tls == -EAGAIN)
			return STEP_WAIT;
		if (tls < 0)
			return STEP_CLOSE;
		if (tls == 0) {
			hs__request_head_error(c, HS__HEAD_PLAIN_HTTP);
			return STEP_NEXT;
		}
		if (hs__tls_open(c, c->w->srv->tls) < 0)
			return STEP_CLOSE;
	}
	int rc = hs__tls_handshake(c);
	if (rc == -EAGAIN)
		return STEP_WAIT;
	if (rc < 0)
		return STEP_CLOSE;
	c->state = HS__READ_HEAD;
	hs__timer_set(&c->w->loop, &c->timer, c->w->loop.now_ms + c->w->srv->opt.idle_timeout_ms);
	return STEP_NEXT;
}

bool hs_is_tls(const struct hs_conn *c)
{
	return c->w->srv->tls != NULL;
}

/* ------------------------------------------------------------ the machine */

static enum step deferred_step(struct hs_conn *c);
static enum step lend(struct hs_conn *c);

/* The connection waits for the kernel: the first time, its socket joins the epoll set
 * (edge-triggered; registering reports what is already readable or writable). */
static void conn_wait(struct hs_conn *c)
{
	if (c->registered)
		return;
	if (hs__loop_add(&c->w->loop, &c->io, CONN_EVENTS) < 0) {
		hs__conn_close(c);
		return;
	}
	c->registered = true;
}

static void conn_run(struct hs_conn *c)
{
	c->in_run = true;
	for (;;) {
		enum step s;
		switch (c->state) {
		case HS__READ_HEAD:
			s = read_head(c);
			break;
		case HS__READ_BODY:
			s = read_body(c);
			break;
		case HS__WRITE:
			s = write_response(c);
			break;
		case HS__DEFERRED:
			s = deferred_step(c);
			break;
		case HS__HANDSHAKE:
			s = handshake(c);
			break;
		case HS__POOL:
			s = lend(c);
			break;
		default:
			s = linger(c);
			break;
		}
		if (s == STEP_WAIT) {
			c->in_run = false;
			conn_wait(c);
			return;
		}
		if (s == STEP_CLOSE) {
			hs__conn_close(c);
			return;
		}
		if (s == STEP_LENT)
			return; /* a pool thread has it now: not another touch */
	}
}

/* What an epoll event tells of the socket. */
static void note_events(struct hs_conn *c, uint32_t events)
{
	c->events |= events;
	/* An edge without EPOLLIN (room to write, as at registration) brings no input:
	 * a read would only say EAGAIN. */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->drained = false;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		c->peer_done = true; /* sticky: no later event will say it again */
	if (events & EPOLLIN)
		c->woke_iteration = c->w->loop.iteration;
}

static void on_conn_event(struct hs__io *io, uint32_t events)
{
	struct hs_conn *c = (struct hs_conn *)((char *)io - offsetof(struct hs_conn, io));
	if (c->state == HS__POOL) {
		/* lent: kept for when it comes back (the pool thread never reads this field) */
		c->lent_events |= events;
		return;
	}
	note_events(c, events);
	conn_run(c);
}

static int64_t deferred_deadline(const struct hs_conn *c);

static void on_timeout(struct hs__timer *t)
{
	struct hs_conn *c = (struct hs_conn *)((char *)t - offsetof(struct hs_conn, timer));
	if (c->state == HS__DEFERRED) {
		/* one timer serves the send and body deadlines: fire only for a due one */
		int64_t d = deferred_deadline(c);
		if (d > c->w->loop.now_ms) {
			if (d != INT64_MAX)
				hs__timer_set(&c->w->loop, t, d);
			return;
		}
	}
	hs__conn_close(c);
}

/* ------------------------------------------------------------ streamed bodies */

static long stream_fail(struct hs_conn *c, int err)
{
	c->stream_error = err;
	c->close_connection = true;
	return err;
}

/* Decoded chunk data waiting in c->body. */
static long take_decoded(struct hs_conn *c, void *buf, size_t len)
{
	size_t n = c->body.len - c->body_off;
	if (n > len)
		n = len;
	memcpy(buf, c->body.data + c->body_off, n);
	c->body_off += n;
	if (c->body_off == c->body.len)
		c->body.len = c->body_off = 0;
	return (long)n;
}

static void deferred_arm(struct hs_conn *c);
static long recv_body(struct hs_conn *c, void *buf, size_t len);

/* Nothing for the handler now: on_body follows when more can be read. The body deadline
 * runs from the first such wait after the handler last got body bytes, so bytes that
 * carry none (chunk framing) do not move it. */
static long stream_wait(struct hs_conn *c)
{
	c->body_wanted = true;
	if (!c->body_deadline_ms)
		c->body_deadline_ms = c->w->loop.now_ms + c->w->srv->opt.body_timeout_ms;
	if (c->deferred && !c->in_run)
		deferred_arm(c);
	return -EAGAIN;
}

/* Body bytes already in the input buffer after the head. Returns the bytes copied to
 * buf (Content-Length), or 0 after decoding chunks into c->body, or an error. */
static long take_buffered(struct hs_conn *c, void *buf, size_t len)
{
	char *start = c->in.data + c->head_len;
	size_t avail = c->in.len - c->head_len, used, data;
	if (!c->chunked) {
		used = data = avail;
		if (data > len)
			used = data = len;
		if ((long long)data > c->body_left)
			used = data = (size_t)c->body_left;
		memcpy(buf, start, data);
		c->body_left -= (long long)data;
	} else {
		long r = hs__chunked_decode(&c->chunk, start, avail, &data);
		if (r < 0)
			return stream_fail(c, -EBADMSG);
		used = (size_t)r;
		if (used == 0 && data == 0) /* the decoder wants more bytes */
			return recv_body(c, buf, len);
		c->body_seen += (long long)data;
		if (c->body_seen > c->w->srv->opt.max_body)
			return stream_fail(c, -EFBIG);
		if (hs__buf_append(&c->body, start, data) < 0)
			return stream_fail(c, -ENOMEM);
		data = 0;
	}
	memmove(start, start + used, avail - used);
	c->in.len -= used;
	return (long)data;
}

/* Nothing buffered: read the socket, straight into buf for Content-Length. Returns
 * bytes, 0 when chunk bytes were added to the input buffer, or an error. */
static long recv_body(struct hs_conn *c, void *buf, size_t len)
{
	long n;
	if (!c->chunked) {
		if ((long long)len > c->body_left)
			len = (size_t)c->body_left;
		n = transport_recv(c, buf, len);
		if (n > 0) {
			note_read(c, (size_t)n, len);
			c->body_left -= n;
			return n;
		}
	} else {
		n = recv_into(c, &c->in, SIZE_MAX);
		if (n > 0)
			return 0;
	}
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return stream_wait(c);
	if (c->deferred) /* the client is gone or broken: on_abort from the timer */
		c->failed = true, deferred_arm(c);
	return stream_fail(c, n == -ENOMEM ? -ENOMEM : -ECONNRESET);
}

/* Steps (a read, or decoding what it read) one call may take without finding a body
 * byte: chunk framing that arrives in many small pieces. */
#define STREAM_STEPS_MAX 64

/* Returns body bytes, 0 at the end of the body (or for len 0), or a negative errno. */
long hs__stream_read(struct hs_conn *c, void *buf, size_t len)
{
	if (c->stream_error)
		return c->stream_error;
	for (int i = 0; len > 0; i++) {
		long n;
		if (c->body_off < c->body.len) {
			n = take_decoded(c, buf, len);
		} else if (body_complete(c)) {
			return 0;
		} else if (c->in.len > c->head_len) {
			n = take_buffered(c, buf, len);
		} else if (i >= STREAM_STEPS_MAX) {
			/* All read is decoded: let the worker serve others, and ask the (edge-
			 * triggered) socket for a fresh event, which brings on_body if more is
			 * there. Should that fail, the body deadline still ends the wait. */
			if (c->registered && !hs__conn_in_pool(c))
				(void)hs__loop_rearm(&c->w->loop, &c->io, CONN_EVENTS);
			return stream_wait(c);
		} else {
			n = recv_body(c, buf, len);
		}
		if (n > 0) {
			c->body_wanted = false;
			c->body_deadline_ms = 0; /* progress: the next wait starts a new deadline */
		}
		if (n != 0)
			return n;
	}
	return 0;
}

/* ------------------------------------------------------------ deferred responses */

/* Whether bytes or file ranges of the response wait to be sent. */
static bool output_pending(const struct hs_conn *c)
{
	return c->out_off < c->out.len || c->file_left > 0 ||
	       c->seg_next * sizeof(struct hs__file_seg) < c->segs.len;
}

/* The earliest deadline running for a deferred response (INT64_MAX: none). */
static int64_t deferred_deadline(const struct hs_conn *c)
{
	if (c->failed)
		return c->w->loop.now_ms;
	int64_t d = INT64_MAX;
	if (output_pending(c) && c->send_deadline_ms)
		d = c->send_deadline_ms;
	if (c->body_wanted && c->body_deadline_ms && c->body_deadline_ms < d)
		d = c->body_deadline_ms;
	return d;
}

static void deferred_arm(struct hs_conn *c)
{
	int64_t d = deferred_deadline(c);
	hs__timer_cancel(&c->w->loop, &c->timer);
	if (d != INT64_MAX)
		hs__timer_set(&c->w->loop, &c->timer, d);
}

/* Sends what the socket takes; the send deadline runs from the last progress. Returns
 * 0 (all sent, or EAGAIN) or a negative errno. */
static int deferred_send(struct hs_conn *c)
{
	size_t before = c->out_off, seg = c->seg_next;
	long long file_left = c->file_left;
	enum step s = send_body(c); /* in order: queued file ranges lie between the bytes */
	if (s == STEP_CLOSE)
		return -EPIPE;
	if (s == STEP_NEXT) {
		c->out.len = c->out_off = 0;
		c->segs.len = c->seg_next = 0;
		c->send_deadline_ms = 0;
		return 0;
	}
	if (c->out_off != before || c->seg_next != seg || c->file_left != file_left ||
	    !c->send_deadline_ms)
		c->send_deadline_ms = c->w->loop.now_ms + c->w->srv->opt.send_timeout_ms;
	/* file ranges are placed by offsets into out: it moves only when none is left */
	bool segs_done = c->seg_next * sizeof(struct hs__file_seg) == c->segs.len &&
	                 c->file_left == 0;
	if (segs_done && c->out_off >= 65536 && c->out_off * 2 >= c->out.len) {
		/* keep the buffer from creeping forward while a producer streams */
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	return 0;
}

/* HS__DEFERRED: send, and tell the handler about body bytes and drained output, until
 * nothing more can happen now. */
static enum step deferred_step(struct hs_conn *c)
{
	for (;;) {
		if (c->failed || (c->events & (EPOLLERR | EPOLLHUP)))
			return STEP_CLOSE;
		if (c->finished) {
			c->deferred = false;
			c->state = HS__WRITE;
			return STEP_NEXT;
		}
		uint32_t ev = c->events;
		c->events = 0;
		if (c->body_wanted && (ev & (EPOLLIN | EPOLLRDHUP))) {
			c->body_wanted = false;
			if (c->dops->on_body)
				c->dops->on_body(c, c->darg);
			continue;
		}
		if (output_pending(c) && deferred_send(c) < 0)
			return STEP_CLOSE;
		if (!output_pending(c) && c->drain_wanted) {
			c->drain_wanted = false;
			if (c->dops->on_drain)
				c->dops->on_drain(c, c->darg);
			continue;
		}
		break;
	}
	deferred_arm(c);
	return STEP_WAIT;
}

/* Copies the request view into the connection: the worker's copy is reused by the
 * next request it dispatches, and a deferred response lives longer than its slot. */
static int own_request(struct hs_conn *c)
{
	const struct hs_request *r = c->req;
	struct hs__buf *b = &c->own_words;
	if (c->own_headers_cap < r->nheaders + 1) {
		struct hs_header *h = hs__realloc(c->own_headers, (r->nheaders + 1) * sizeof *h);
		if (!h)
			return -ENOMEM;
		c->own_headers = h;
		c->own_headers_cap = r->nheaders + 1;
	}
	const char *src[4] = {r->requestline, r->command, r->path, r->request_version};
	size_t len[4] = {r->requestline_len, strlen(r->command), strlen(r->path),
	                 strlen(r->request_version)};
	size_t off[4], need = 0;
	for (size_t i = 0; i < 4; i++)
		need += len[i] + 1;
	for (size_t i = 0; i < r->nheaders; i++)
		need += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 2;
	b->len = 0;
	if (hs__buf_reserve(b, need) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < 4; i++) {
		off[i] = b->len;
		hs__buf_append(b, src[i], len[i]);
		hs__buf_append(b, "", 1);
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		c->own_headers[i].name = b->data + b->len;
		hs__buf_append(b, r->headers[i].name, strlen(r->headers[i].name) + 1);
		c->own_headers[i].value = b->data + b->len;
		hs__buf_append(b, r->headers[i].value, strlen(r->headers[i].value) + 1);
	}
	c->own_headers[r->nheaders] = (struct hs_header){NULL, NULL};
	c->own_req = *r;
	c->own_req.requestline = b->data + off[0];
	c->own_req.command = b->data + off[1];
	c->own_req.path = b->data + off[2];
	c->own_req.request_version = b->data + off[3];
	c->own_req.headers = c->own_headers;
	c->req = &c->own_req;
	return 0;
}

int hs_defer(struct hs_conn *c, const struct hs_defer_ops *ops, void *arg)
{
	if (hs__conn_in_pool(c))
		return -EINVAL; /* a blocking slot simply waits */
	if (c->deferred || !c->req)
		return -EBUSY;
	int rc = own_request(c);
	if (rc < 0)
		return rc;
	c->dops = ops;
	c->darg = arg;
	c->deferred = true;
	c->finished = c->failed = c->drain_wanted = false;
	return 0;
}

int hs_flush(struct hs_conn *c)
{
	if (hs__conn_in_pool(c))
		return hs__conn_pool_flush(c);
	if (!c->deferred || c->finished)
		return 0;
	if (c->failed)
		return -EPIPE;
	if (deferred_send(c) < 0) {
		c->failed = true; /* closed (and on_abort) by the timer, not from here */
		c->close_connection = true;
		deferred_arm(c);
		return -EPIPE;
	}
	if (output_pending(c))
		c->drain_wanted = true;
	if (!c->in_run)
		deferred_arm(c);
	return 0;
}

size_t hs_pending(const struct hs_conn *c)
{
	const struct hs__file_seg *segs = (const struct hs__file_seg *)(const void *)c->segs.data;
	long long files = c->file_left;
	for (size_t i = c->seg_next; i < c->segs.len / sizeof *segs; i++)
		files += segs[i].len;
	return c->out.len - c->out_off + (size_t)files;
}

void hs_finish(struct hs_conn *c)
{
	if (!c->deferred || c->finished)
		return;
	c->finished = true;
	if (!c->responded)
		c->close_connection = true;
	if (!c->in_run && c->state == HS__DEFERRED)
		conn_run(c);
}

/* ------------------------------------------------------------ lent to the pool */

/* HS__POOL on the worker: the request is for a blocking handler. Its view is copied (the
 * worker's is reused by the next request) and the connection goes to the pool's queue;
 * from then on only the pool thread touches it, until hs__conn_given_back. A full queue
 * gets 503. The deadline timer stops: the pool thread keeps the deadlines itself. */
static enum step lend(struct hs_conn *c)
{
	c->state = HS__WRITE;
	if (own_request(c) < 0) {
		hs_send_error(c, 500, NULL, NULL);
		return STEP_NEXT;
	}
	hs__timer_cancel(&c->w->loop, &c->timer);
	c->in_run = false;
	c->state = HS__POOL;
	if (hs__pool_submit(c) == 0)
		return STEP_LENT;
	c->state = HS__WRITE;
	c->in_run = true;
	hs_send_error(c, 503, NULL, NULL);
	return STEP_NEXT;
}

/* On the worker again: what the slot queued is sent, then the connection goes on as
 * after any slot. A client that left, or a wait that failed, closes it; a slot the drain
 * cancelled before it ran is answered 503. The events that came while the connection was
 * away were kept, and count now: no edge of the (edge-triggered) socket is lost. */
void hs__conn_given_back(struct hs_conn *c)
{
	uint32_t events = c->lent_events;
	c->lent_events = 0;
	c->state = HS__WRITE;
	note_events(c, events);
	if (c->w->draining)
		c->close_connection = true;
	if (c->pool_error == -ECANCELED && !c->responded) {
		c->pool_error = 0;
		hs_send_error(c, 503, NULL, NULL);
	}
	if (c->pool_error) {
		hs__conn_close(c);
		return;
	}
	conn_run(c);
}

/* On the pool thread: fails the connection for good. Every later send or read of the
 * slot fails alike, and its worker closes it. */
static int pool_fail(struct hs_conn *c, int err)
{
	if (!c->pool_error)
		c->pool_error = err;
	c->close_connection = true;
	return c->pool_error;
}

/* Waits until the socket is ready for events or deadline_ms passes (-ETIMEDOUT), or the
 * server's drain ends (-ECANCELED). A hang-up or error is readiness: the I/O that
 * follows reports it. */
static int pool_wait(struct hs_conn *c, short events, int64_t deadline_ms)
{
	struct pollfd p[2] = {{.fd = c->io.fd, .events = events},
	                      {.fd = c->pool_cancel_fd, .events = POLLIN}};
	for (;;) {
		int64_t left = deadline_ms - hs__monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(p, 2, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[1].revents)
			return -ECANCELED;
		if (n > 0)
			return 0;
	}
}

/* Sends everything queued, bytes and file ranges, waiting while the client is slow: the
 * send deadline runs from the last bytes it accepted. */
int hs__conn_pool_flush(struct hs_conn *c)
{
	int64_t deadline = 0;
	while (!c->pool_error) {
		size_t out_off = c->out_off, seg = c->seg_next;
		long long file_left = c->file_left;
		enum step s = send_body(c);
		if (s == STEP_NEXT) {
			c->out_dropped += c->out.len;
			c->out.len = c->out_off = 0;
			c->segs.len = c->seg_next = 0;
			return 0;
		}
		if (s == STEP_CLOSE)
			return pool_fail(c, -EPIPE);
		if (!deadline || c->out_off != out_off || c->seg_next != seg || c->file_left != file_left)
			deadline = hs__monotonic_ms() + c->w->srv->opt.send_timeout_ms;
		int rc = pool_wait(c, POLLOUT, deadline);
		if (rc < 0)
			return pool_fail(c, rc);
	}
	return c->pool_error;
}

/* Python's wfile.write, unbuffered: the bytes are sent before it returns. A short write
 * joins what is queued (the head, most often) for one send; a long one goes from buf
 * itself, never copied whole. */
#define POOL_COALESCE_MAX (16 * 1024)

long hs__conn_pool_write(struct hs_conn *c, const void *buf, size_t len)
{
	if (c->pool_error)
		return c->pool_error;
	if (len <= POOL_COALESCE_MAX) {
		if (hs__buf_append(&c->out, buf, len) < 0)
			return -ENOMEM;
		int rc = hs__conn_pool_flush(c);
		return rc < 0 ? rc : (long)len;
	}
	int rc = hs__conn_pool_flush(c);
	const char *p = buf;
	size_t left = len;
	int64_t deadline = hs__monotonic_ms() + c->w->srv->opt.send_timeout_ms;
	while (rc == 0 && left > 0) {
		long n = transport_send(c, p, left, 0);
		if (n > 0) {
			p += n;
			left -= (size_t)n;
			c->out_dropped += (size_t)n;
			deadline = hs__monotonic_ms() + c->w->srv->opt.send_timeout_ms;
		} else if (n == -EAGAIN) {
			rc = pool_wait(c, POLLOUT, deadline);
		} else {
			rc = -EPIPE;
		}
	}
	return rc < 0 ? pool_fail(c, rc) : (long)len;
}

/* Python's rfile.read of a streamed body: waits for bytes under the body deadline. An
 * interim answer queued for the client ("100 Continue") goes out first. */
long hs__conn_pool_read(struct hs_conn *c, void *buf, size_t len)
{
	if (output_pending(c) && hs__conn_pool_flush(c) < 0)
		return c->pool_error;
	for (;;) {
		hs__loop_update_time(&c->w->loop);
		long n = hs__stream_read(c, buf, len);
		if (n != -EAGAIN)
			return n;
		c->body_wanted = false;
		int rc = pool_wait(c, POLLIN | POLLRDHUP, c->body_deadline_ms);
		if (rc < 0) {
			pool_fail(c, rc);
			return stream_fail(c, rc);
		}
	}
}

/* flush_headers in a slot that does not block: what the socket takes now, up to the
 * first file range still queued (the bytes after it must wait for it). */
int hs__conn_flush_now(struct hs_conn *c)
{
	const struct hs__file_seg *segs = (const struct hs__file_seg *)(const void *)c->segs.data;
	size_t end = c->out.len;
	if (c->file_left > 0)
		return 0;
	if (c->seg_next < c->segs.len / sizeof *segs)
		end = segs[c->seg_next].out_end;
	if (flush_until(c, end, 0) == STEP_CLOSE) {
		c->close_connection = true;
		return -EPIPE;
	}
	return 0;
}
