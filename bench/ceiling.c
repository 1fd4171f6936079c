/*
 * ceiling.c: NOT PART OF HTTPSERVE. The benchmark's ceiling row: the least a server can do
 * to answer the 1 KiB workloads, so the table shows how far each real server is from what
 * this machine's kernel and loopback allow.
 *
 * It answers every request, whatever it asks for, with the same 1 KiB response prebuilt in
 * memory: no file, no parsing beyond finding "\r\n\r\n" and a "Connection: close" header,
 * no Date, no log. One epoll loop per thread, one SO_REUSEPORT listener per thread,
 * level-triggered, pipelined requests answered in order with one send per read. The
 * listener defers accepting until a request's bytes are there (TCP_DEFER_ACCEPT), a new
 * connection is answered at once and joins epoll only if it has to wait, and a
 * Connection: close request is answered and closed with no shutdown or lingering.
 *
 * Given a FILE, it answers every request with that file instead, the way the large-file
 * workloads want it done at least cost: a prebuilt head sent with MSG_MORE, then one
 * sendfile of the whole file from a descriptor opened once, per request; pipelined
 * requests wait for the answer before them.
 *
 *     ceiling PORT [THREADS [FILE]]     (listens on 127.0.0.1; stop it with SIGTERM)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BODY_LEN 1024
#define IN_CAP 8192

struct conn {
	int fd;
	size_t in_len;
	char *out;        /* pending output (when the socket was full) */
	size_t out_len, out_off, out_cap;
	int close_after;  /* close once the pending output is sent */
	int registered;   /* in the epoll set */
	off_t file_off, file_end; /* FILE mode: the part of the file still to send */
	char in[IN_CAP];
};

static char keep_resp[512 + BODY_LEN], close_resp[512 + BODY_LEN];
static size_t keep_len, close_len;
static int port;
static int file_fd = -1; /* FILE mode */
static off_t file_size;

/* The two responses (keep-alive, close): in FILE mode their heads alone, the body being
 * the file; otherwise with the 1 KiB body. */
static void build_responses(void)
{
	long long body_len = file_fd >= 0 ? (long long)file_size : BODY_LEN;
	keep_len = (size_t)snprintf(keep_resp, sizeof keep_resp,
	                            "HTTP/1.1 200 OK\r\nServer: ceiling\r\n"
	                            "Content-Type: application/octet-stream\r\n"
	                            "Content-Length: %lld\r\n\r\n", body_len);
	close_len = (size_t)snprintf(close_resp, sizeof close_resp,
	                             "HTTP/1.1 200 OK\r\nServer: ceiling\r\nConnection: close\r\n"
	                             "Content-Type: application/octet-stream\r\n"
	                             "Content-Length: %lld\r\n\r\n", body_len);
	if (file_fd >= 0)
		return;
	memset(keep_resp + keep_len, 'x', BODY_LEN);
	keep_len += BODY_LEN;
	memset(close_resp + close_len, 'x', BODY_LEN);
	close_len += BODY_LEN;
}

static int listener(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		perror("ceiling: listen");
		exit(1);
	}
	return fd;
}

/* Watches c for events: adds it to the epoll set the first time. Returns -1 to close. */
static int watch(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(ep, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -1;
	c->registered = 1;
	return 0;
}

/* Nothing to do until the socket has more: make sure it is watched for input. */
static int wait_input(int ep, struct conn *c)
{
	return c->registered ? 0 : watch(ep, c, EPOLLIN);
}

/* FILE mode: a whole request is buffered, waiting for the file before it to be sent. */
static int request_buffered(const struct conn *c)
{
	return file_fd >= 0 && memmem(c->in, c->in_len, "\r\n\r\n", 4) != NULL;
}

static void conn_close(int ep, struct conn *c)
{
	if (c->registered)
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

static int queue(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = (c->out_len + n) * 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return -1;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Sends what is pending. Returns 1 when all is sent, 0 when the socket is full, -1 on error. */
static int flush(struct conn *c)
{
	int more = c->file_off < c->file_end ? MSG_MORE : 0;
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | more);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN ? 0 : -1;
	}
	c->out_off = c->out_len = 0;
	while (c->file_off < c->file_end) {
		ssize_t n = sendfile(c->fd, file_fd, &c->file_off, (size_t)(c->file_end - c->file_off));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN ? 0 : -1;
	}
	return 1;
}

static int is_close(const char *head, size_t n)
{
	static const char k[] = "\nconnection: close";
	for (size_t i = 0; i + sizeof k - 1 <= n; i++)
		if (strncasecmp(head + i, k, sizeof k - 1) == 0)
			return 1;
	return 0;
}

/* Reads what arrived and answers every complete request. Returns -1 to close. */
static int on_readable(int ep, struct conn *c)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
			if (!request_buffered(c))
				return wait_input(ep, c);
			n = 0; /* answer the buffered request */
		}
		c->in_len += (size_t)n;
		size_t start = 0;
		for (;;) {
			char *end = memmem(c->in + start, c->in_len - start, "\r\n\r\n", 4);
			if (!end)
				break;
			size_t hlen = (size_t)(end + 4 - (c->in + start));
			if (is_close(c->in + start, hlen)) {
				c->close_after = 1;
				if (queue(c, close_resp, close_len) < 0)
					return -1;
				c->file_end = file_fd >= 0 ? file_size : 0;
				c->file_off = 0;
				start = c->in_len; /* nothing after a close is answered */
				break;
			}
			if (queue(c, keep_resp, keep_len) < 0)
				return -1;
			start += hlen;
			if (file_fd >= 0) { /* one file at a time: the next request waits for it */
				c->file_off = 0;
				c->file_end = file_size;
				break;
			}
		}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		if (c->in_len == IN_CAP)
			return -1; /* a head larger than the buffer: not this benchmark's traffic */
		int f = flush(c);
		if (f < 0)
			return -1;
		if (f == 0)
			return watch(ep, c, EPOLLIN | EPOLLOUT);
		if (c->close_after)
			return -1;
		if ((size_t)n < IN_CAP && !request_buffered(c))
			return wait_input(ep, c); /* short read: drained */
	}
	return wait_input(ep, c);
}

static void *worker(void *arg)
{
	(void)arg;
	int lfd = listener();
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[256];
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				for (int k = 0; k < 256; k++) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0)
						break;
					struct conn *nc = calloc(1, sizeof *nc);
					if (!nc) {
						close(fd);
						continue;
					}
					nc->fd = fd;
					if (on_readable(ep, nc) < 0)
						conn_close(ep, nc);
				}
				continue;
			}
			int rc = 0;
			if (evs[i].events & EPOLLOUT) {
				rc = flush(c);
				if (rc == 1)
					rc = c->close_after ? -1 : watch(ep, c, EPOLLIN) < 0 ? -1 : 1;
			}
			int waiting = rc == 1 && request_buffered(c);
			if (rc >= 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) || waiting) &&
			    !c->close_after)
				rc = on_readable(ep, c);
			if (rc < 0)
				conn_close(ep, c);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ceiling PORT [THREADS [FILE]]\n");
		return 2;
	}
	port = atoi(argv[1]);
	long threads = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (argc > 3) {
		struct stat st;
		file_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (file_fd < 0 || fstat(file_fd, &st) < 0) {
			perror("ceiling: FILE");
			return 2;
		}
		file_size = st.st_size;
	}
	build_responses();
	pthread_t t;
	for (long i = 1; i < threads; i++)
		pthread_create(&t, NULL, worker, NULL);
	worker(NULL);
	return 0;
}
