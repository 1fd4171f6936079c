/*
 * cgi.c: CGIHTTPRequestHandler. A request whose path lies in a CGI directory runs the
 * script it names, as Python's run_cgi does (the same selection, errors, environment
 * and arguments), with what Python gets wrong put right: the script's header block is
 * read before anything is sent (RFC 3875), the body is framed so persistent
 * connections survive, and nothing blocks the worker. A running script is a job: its
 * stdin, stdout and stderr are non-blocking pipes and its exit a pidfd, all watched by
 * the worker's loop; the request body is streamed into stdin as it arrives, stdout is
 * relayed to the client with back-pressure (no more than OUT_HIGH_WATER queued), stderr
 * is logged line by line, and a deadline kills it. The connection's response is
 * deferred (hs_defer) and finished once stdout has ended and the process is reaped, so
 * the exit status can be logged with the request. If the client leaves first, the job
 * kills the script and lives on only to reap it. Built on the public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cgi.h"
#include "chars.h"

#define DEFAULT_TIMEOUT_MS 60000
#define KILL_GRACE_MS 5000          /* after SIGKILL, how long the response waits for the exit */
#define CLOSING_REAP_MS 2000        /* at worker stop, how long to wait for a killed script */
#define REAP_POLL_MS 50             /* without pidfd_open: how often waitpid is tried */
#define OUT_HIGH_WATER (256 * 1024) /* stdout is not read while this much waits for the client */
#define IO_SIZE 65536
#define STDERR_LINE_MAX 2048
#define STDERR_LOG_MAX (64 * 1024)  /* stderr logged per request; the rest is read and dropped */

extern char **environ;

static const char *const default_dirs[] = {"/cgi-bin", "/htbin", NULL};

/* What hs_cgi_init makes. */
struct hs__cgi_private {
	hs_method_fn *static_GET, *static_HEAD;
	char **environ_copy;   /* the environment at start-up, less HTTP_PROXY */
	bool drop_privileges;  /* scripts run as nobody: the server runs as root */
	unsigned long nobody_uid, nobody_gid;
	char server_name_buf[256];
};

enum framing { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE };

/* One running script. */
struct job {
	const struct hs_cgi *cg;
	struct hs_conn *c;   /* NULL once the response is finished or the client is gone */
	pid_t pid;
	int pidfd;           /* -1: reaped by polling */
	int fd_in, fd_out, fd_err;
	struct hs_watch *w_in, *w_out, *w_err, *w_pid, *w_timer;
	bool reaped, killed, grace_over;
	int exit_code;

	size_t in_off, in_len; /* request body bytes in inbuf not yet in the pipe */

	struct hs__buf head;   /* the script's output until its header block ends */
	bool head_sent, out_done;
	enum framing framing;
	bool discard;          /* HEAD, 204, 304: the script's body is read and dropped */
	long long remaining;   /* FRAME_LENGTH: bytes still due */
	bool overflow_logged;
	int error_code;        /* the error page due when no head was sent (0: 502) */
	const char *error_message;

	struct hs__buf err_line;
	size_t err_logged;
	char name[256];        /* SCRIPT_NAME as latin-1, for log lines */
	char inbuf[IO_SIZE], outbuf[IO_SIZE];
};

static void job_free(struct job *j);
static void maybe_finish(struct job *j);

static const struct hs_cgi *cgi_of(const struct hs_handler *h)
{
	return (const struct hs_cgi *)(const void *)h;
}

/* ------------------------------------------------------------ closing things */

static void close_fd(int *fd, struct hs_watch **w)
{
	hs_watch_free(*w);
	*w = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* SIGKILL to the script and its process group (its children), once, and never after the
 * reap. The rule: a process id, and the group id equal to it, stay reserved while the
 * process exists, a zombie included; once reaped, the group id is free as soon as the
 * group's last member leaves or dies, and nothing tells us when, so a signal could reach
 * an unrelated group that took the id. The script is therefore reaped only after its
 * stdout is closed (reap), which keeps the group killable for as long as the response
 * depends on it; a process that left the group escapes either way. */
static void kill_script(struct job *j)
{
	if (j->killed || j->reaped)
		return;
	j->killed = true;
	kill(j->pid, SIGKILL);
	kill(-j->pid, SIGKILL);
}

/* The response cannot go on as the script wanted: kill it, stop reading its output. */
static void job_fail(struct job *j, int code, const char *message)
{
	if (!j->error_code) {
		j->error_code = code;
		j->error_message = message;
	}
	kill_script(j);
	close_fd(&j->fd_in, &j->w_in);
	close_fd(&j->fd_out, &j->w_out);
	if (j->c && j->head_sent && !j->out_done)
		hs_set_close_connection(j->c, true); /* the body is cut: only closing says so */
}

/* ------------------------------------------------------------ stderr */

static void log_err_line(struct job *j)
{
	struct hs__buf *l = &j->err_line;
	if (l->len && l->data[l->len - 1] == '\r')
		l->len--;
	if (j->c && j->err_logged < STDERR_LOG_MAX) {
		hs_log_error(j->c, "CGI script %s: %.*s", j->name, (int)l->len, l->data ? l->data : "");
		j->err_logged += l->len + 1;
		if (j->err_logged >= STDERR_LOG_MAX)
			hs_log_error(j->c, "CGI script %s: more stderr output, not logged", j->name);
	}
	l->len = 0;
}

static void take_stderr(struct job *j, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || j->err_line.len >= STDERR_LINE_MAX) {
			log_err_line(j);
			if (p[i] == '\n')
				continue;
		}
		if (hs__buf_append(&j->err_line, p + i, 1) < 0)
			return;
	}
}

static void pump_stderr(struct job *j)
{
	char buf[4096];
	while (j->fd_err >= 0) {
		ssize_t n = read(j->fd_err, buf, sizeof buf);
		if (n > 0) {
			take_stderr(j, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (j->err_line.len)
			log_err_line(j);
		close_fd(&j->fd_err, &j->w_err);
	}
}

/* ------------------------------------------------------------ stdin */

/* The request body, as it arrives, into the script's stdin, until either runs out of
 * room or data. A script that closes its stdin early leaves the rest of the body unread,
 * and the connection then closes after the response. */
static void pump_stdin(struct job *j)
{
	while (j->fd_in >= 0 && j->c) {
		if (j->in_off == j->in_len) {
			long n = hs_read_body(j->c, j->inbuf, sizeof j->inbuf);
			if (n == -EAGAIN)
				return; /* on_body resumes */
			if (n == -EBADMSG)
				job_fail(j, 400, "Malformed chunked body");
			else if (n == -EFBIG)
				job_fail(j, 413, NULL);
			else if (n < 0)
				job_fail(j, 500, NULL); /* the client left: on_abort follows */
			if (n <= 0) {
				close_fd(&j->fd_in, &j->w_in);
				return;
			}
			j->in_off = 0;
			j->in_len = (size_t)n;
		}
		ssize_t w = write(j->fd_in, j->inbuf + j->in_off, j->in_len - j->in_off);
		if (w > 0)
			j->in_off += (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			return; /* the stdin watch resumes */
		else if (!(w < 0 && errno == EINTR))
			close_fd(&j->fd_in, &j->w_in); /* EPIPE: the script reads no more */
	}
}

/* ------------------------------------------------------------ the response head */

/* Python's 200 is "Script output follows"; a redirect without Status is a 302. */
static int send_head(struct job *j, struct hs__cgi_head *h)
{
	struct hs_conn *c = j->c;
	const struct hs_request *r = hs_conn_request(c);
	int status = h->status ? h->status : h->location ? 302 : 200;
	bool no_body = status == 204 || status == 304;
	if (!h->content_type && !h->location && !no_body) {
		hs_log_error(c, "CGI script %s: its header block has no Content-Type", j->name);
		job_fail(j, 502, NULL);
		return -1;
	}
	char reason[512] = "";
	if (h->status)
		snprintf(reason, sizeof reason, "%.*s", (int)h->reason.n, h->reason.p);
	else if (!h->location)
		snprintf(reason, sizeof reason, "Script output follows");
	hs_send_response(c, status, reason[0] ? reason : NULL);
	for (size_t i = 0; i < h->nfields; i++) {
		struct hs__cgi_field *f = &h->fields[i];
		((char *)f->name.p)[f->name.n] = '\0'; /* the ':' and the line end */
		((char *)f->value.p)[f->value.n] = '\0';
		hs_send_header(c, f->name.p, f->value.p);
	}
	bool chunkable = strcmp(r->request_version, "HTTP/1.1") >= 0 && hs__speaks_http11(c);
	j->discard = no_body || strcmp(r->command, "HEAD") == 0;
	if (h->content_length >= 0 || no_body) {
		j->framing = FRAME_LENGTH;
		j->remaining = h->content_length > 0 ? h->content_length : 0;
	} else if (chunkable) {
		j->framing = FRAME_CHUNKED;
		hs_send_header(c, "Transfer-Encoding", "chunked");
	} else {
		j->framing = FRAME_CLOSE;
		if (hs__speaks_http11(c))
			hs_send_header(c, "Connection", "close");
		hs_set_close_connection(c, true);
	}
	hs_end_headers(c);
	j->head_sent = true;
	return 0;
}

/* ------------------------------------------------------------ stdout */

static void relay(struct job *j, const char *p, size_t n)
{
	long rc = 0;
	if (j->discard || n == 0)
		return;
	if (j->framing == FRAME_LENGTH) {
		if ((long long)n > j->remaining) {
			if (!j->overflow_logged)
				hs_log_error(j->c, "CGI script %s: output beyond its Content-Length dropped",
				             j->name);
			j->overflow_logged = true;
			n = (size_t)j->remaining;
		}
		j->remaining -= (long long)n;
		rc = n ? hs_write(j->c, p, n) : 0;
	} else if (j->framing == FRAME_CHUNKED) {
		char size[24];
		int k = snprintf(size, sizeof size, "%zx\r\n", n);
		rc = hs_write(j->c, size, (size_t)k);
		rc = rc < 0 ? rc : hs_write(j->c, p, n);
		rc = rc < 0 ? rc : hs_write(j->c, "\r\n", 2);
	} else {
		rc = hs_write(j->c, p, n);
	}
	if (rc < 0)
		job_fail(j, 500, NULL);
}

/* Output before the end of the header block is gathered; then the head is sent and
 * the rest relayed. */
static void take_stdout(struct job *j, const char *p, size_t n)
{
	if (j->head_sent) {
		relay(j, p, n);
		return;
	}
	if (hs__buf_append(&j->head, p, n) < 0) {
		job_fail(j, 500, NULL);
		return;
	}
	struct hs__cgi_head h;
	long r = hs__cgi_parse_head(j->head.data, j->head.len, &h);
	if (r == 0)
		return;
	if (r < 0) {
		hs_log_error(j->c, "CGI script %s: malformed header block: %s", j->name, h.error);
		job_fail(j, 502, NULL);
		return;
	}
	if (send_head(j, &h) == 0)
		relay(j, j->head.data + r, j->head.len - (size_t)r);
	hs__buf_free(&j->head);
}

/* stdout has ended: the body is complete as far as the script is concerned. */
static void end_of_output(struct job *j)
{
	close_fd(&j->fd_out, &j->w_out);
	j->out_done = true;
	if (!j->head_sent) {
		if (!j->error_code)
			hs_log_error(j->c, "CGI script %s: output ended before its header block did",
			             j->name);
		return;
	}
	if (j->discard)
		return;
	if (j->framing == FRAME_CHUNKED && hs_write(j->c, "0\r\n\r\n", 5) < 0)
		hs_set_close_connection(j->c, true);
	if (j->framing == FRAME_LENGTH && j->remaining > 0) {
		hs_log_error(j->c, "CGI script %s: output ended %lld bytes short of its Content-Length",
		             j->name, j->remaining);
		hs_set_close_connection(j->c, true);
	}
}

/* Reads stdout while the client keeps up; on_drain resumes it. May finish the job. */
static void pump_stdout(struct job *j)
{
	while (j->fd_out >= 0 && j->c && hs_pending(j->c) < OUT_HIGH_WATER) {
		ssize_t n = read(j->fd_out, j->outbuf, sizeof j->outbuf);
		if (n > 0)
			take_stdout(j, j->outbuf, (size_t)n);
		else if (n < 0 && errno == EAGAIN)
			break;
		else if (!(n < 0 && errno == EINTR))
			end_of_output(j);
	}
	if (j->c && hs_flush(j->c) < 0)
		return; /* the client is gone: on_abort follows */
	maybe_finish(j);
}

/* ------------------------------------------------------------ the end */

/* Collects the script's exit, but not while its stdout is open (kill_script says why). */
static void reap(struct job *j)
{
	int st;
	pid_t r;
	if (j->reaped || j->fd_out >= 0)
		return;
	do
		r = waitpid(j->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	j->reaped = true;
	if (r == j->pid)
		j->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0;
	/* r < 0 (ECHILD): someone else reaped it (SIGCHLD ignored); nothing to report */
	hs_watch_free(j->w_pid);
	j->w_pid = NULL;
	if (j->pidfd >= 0)
		close(j->pidfd);
	j->pidfd = -1;
}

/* The response ends when stdout has ended and the script is reaped (or would not die);
 * this logs the exit as Python does, sends the error page if no head went out, and
 * hands the connection back. j may be freed: callers touch it no more. */
static void maybe_finish(struct job *j)
{
	if (!j->c || j->fd_out >= 0)
		return;
	reap(j);
	if (!(j->reaped || j->grace_over))
		return;
	struct hs_conn *c = j->c;
	pump_stderr(j);
	if (j->err_line.len)
		log_err_line(j);
	if (j->reaped && j->exit_code)
		hs_log_error(c, "CGI script exit code %d", j->exit_code);
	if (!j->head_sent)
		hs_send_error(c, j->error_code ? j->error_code : 502, j->error_message, NULL);
	j->c = NULL;
	close_fd(&j->fd_in, &j->w_in);
	close_fd(&j->fd_err, &j->w_err);
	hs_watch_free(j->w_timer);
	j->w_timer = NULL;
	if (j->reaped)
		job_free(j); /* else the pid watch keeps it, to reap later */
	hs_finish(c);
}

static void job_free(struct job *j)
{
	close_fd(&j->fd_in, &j->w_in);
	close_fd(&j->fd_out, &j->w_out);
	close_fd(&j->fd_err, &j->w_err);
	close_fd(&j->pidfd, &j->w_pid);
	hs_watch_free(j->w_timer);
	hs__buf_free(&j->head);
	hs__buf_free(&j->err_line);
	free(j);
}

/* The worker stops: the script was killed with its connection; wait a little for it so
 * no zombie is left, then let go. */
static void closing(struct job *j)
{
	kill_script(j);
	close_fd(&j->fd_out, &j->w_out);
	if (!j->reaped && j->pidfd >= 0) {
		struct pollfd p = {.fd = j->pidfd, .events = POLLIN};
		(void)poll(&p, 1, CLOSING_REAP_MS);
	}
	for (int waited = 0;; waited += 10) {
		reap(j);
		if (j->reaped || j->pidfd >= 0 || waited >= CLOSING_REAP_MS)
			break;
		usleep(10000);
	}
	job_free(j);
}

/* ------------------------------------------------------------ events */

static void on_in(struct hs_watch *w, unsigned ev, void *arg)
{
	(void)w;
	if (ev & HS_WATCH_CLOSING)
		closing(arg);
	else
		pump_stdin(arg);
}

static void on_out(struct hs_watch *w, unsigned ev, void *arg)
{
	(void)w;
	if (ev & HS_WATCH_CLOSING)
		closing(arg);
	else
		pump_stdout(arg);
}

static void on_err(struct hs_watch *w, unsigned ev, void *arg)
{
	(void)w;
	if (ev & HS_WATCH_CLOSING)
		closing(arg);
	else
		pump_stderr(arg);
}

static void on_pid(struct hs_watch *w, unsigned ev, void *arg)
{
	struct job *j = arg;
	if (ev & HS_WATCH_CLOSING) {
		closing(j);
		return;
	}
	reap(j);
	if (!j->reaped && j->pidfd < 0)
		hs_watch_timeout(w, REAP_POLL_MS);
	else if (j->reaped && !j->c)
		job_free(j); /* an orphan, now reaped */
	else
		maybe_finish(j);
}

static void on_timer(struct hs_watch *w, unsigned ev, void *arg)
{
	struct job *j = arg;
	if (ev & HS_WATCH_CLOSING) {
		closing(j);
		return;
	}
	if (!j->killed) {
		hs_log_error(j->c, "CGI script %s timed out after %d s and was killed", j->name,
		             (j->cg->timeout_ms > 0 ? j->cg->timeout_ms : DEFAULT_TIMEOUT_MS) / 1000);
		job_fail(j, 504, NULL);
		hs_watch_timeout(w, KILL_GRACE_MS);
		maybe_finish(j);
		return;
	}
	hs_log_error(j->c, "CGI script %s did not exit after SIGKILL; it is reaped later", j->name);
	j->grace_over = true;
	maybe_finish(j);
}

static void on_body(struct hs_conn *c, void *arg)
{
	(void)c;
	pump_stdin(arg);
}

static void on_drain(struct hs_conn *c, void *arg)
{
	(void)c;
	pump_stdout(arg);
}

/* The client is gone: kill the script; the job lives on only to reap it. */
static void on_abort(struct hs_conn *c, void *arg)
{
	struct job *j = arg;
	(void)c;
	j->c = NULL;
	kill_script(j);
	close_fd(&j->fd_in, &j->w_in);
	close_fd(&j->fd_out, &j->w_out);
	close_fd(&j->fd_err, &j->w_err);
	hs_watch_free(j->w_timer);
	j->w_timer = NULL;
	reap(j); /* it may have exited before: its pid watch would not report it again */
	if (j->reaped)
		job_free(j);
}

static const struct hs_defer_ops job_ops = {
	.on_body = on_body, .on_drain = on_drain, .on_abort = on_abort,
};

/* ------------------------------------------------------------ the environment */

#define MAX_VARS 32

/* The request's variables, "NAME=value" strings, and the argv, in one buffer. */
struct env {
	struct hs__buf text;
	size_t vars[MAX_VARS], nvars;
	size_t args[2], nargs;
	int rc;
};

static void env_set(struct env *e, const char *name, const char *v, size_t n, bool latin1)
{
	if (e->rc == 0 && e->nvars == MAX_VARS)
		e->rc = -ENOMEM;
	if (e->rc)
		return;
	size_t at = e->text.len, start = at + strlen(name) + 1;
	e->rc = hs__buf_puts(&e->text, name) ?: hs__buf_append(&e->text, "=", 1) ?:
	        (latin1 ? hs__latin1_to_utf8(&e->text, v, n) : hs__buf_append(&e->text, v, n)) ?:
	        hs__buf_append(&e->text, "", 1);
	if (e->rc)
		return;
	e->vars[e->nvars++] = at;
	for (size_t i = start; i + 1 < e->text.len; i++)
		if (e->text.data[i] == '\r' || e->text.data[i] == '\n')
			e->text.data[i] = ' '; /* never a raw line end in a value */
}

static void env_puts(struct env *e, const char *name, const char *v)
{
	env_set(e, name, v, strlen(v), false);
}

/* Whether entry ("NAME=value") has the name of var ("NAME=..."). */
static bool same_name(const char *entry, const char *var)
{
	size_t n = strcspn(var, "=");
	return strncmp(entry, var, n) == 0 && entry[n] == '=';
}

static bool env_has(const struct env *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->nvars; i++) {
		const char *v = e->text.data + e->vars[i];
		if (strncmp(v, name, n) == 0 && v[n] == '=')
			return true;
	}
	return false;
}

static bool inherited(const struct hs_cgi *cg, const char *name)
{
	size_t n = strlen(name);
	for (char **p = cg->priv->environ_copy; p && *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return true;
	return false;
}

/* AUTH_TYPE and REMOTE_USER from "Authorization: Basic <base64>", as run_cgi: the value
 * split on whitespace must give exactly two words. */
static void env_auth(struct env *e, const char *v)
{
	const char *w[3];
	size_t wn[3], k = 0;
	for (const char *p = v; *p && k < 3;) {
		while (*p && hs__py_space((unsigned char)*p))
			p++;
		if (!*p)
			break;
		w[k] = p;
		while (*p && !hs__py_space((unsigned char)*p))
			p++;
		wn[k] = (size_t)(p - w[k]);
		k++;
	}
	if (k != 2)
		return;
	env_set(e, "AUTH_TYPE", w[0], wn[0], true);
	struct hs__buf user = {0};
	if (wn[0] == 5 && strncasecmp(w[0], "basic", 5) == 0 && hs__cgi_basic_user(w[1], wn[1], &user)) {
		bool clean = true; /* a decoded control character never reaches the script */
		for (size_t i = 0; i + 1 < user.len; i++)
			clean &= (unsigned char)user.data[i] >= 0x20 && user.data[i] != 0x7f;
		if (clean)
			env_puts(e, "REMOTE_USER", user.data);
	}
	hs__buf_free(&user);
}

/* Every value of header name joined by sep, empty ones skipped when skip_empty. */
static void env_join(struct env *e, const char *var, const struct hs_request *r,
                     const char *name, const char *sep, bool skip_empty)
{
	struct hs__buf v = {0};
	int rc = 0;
	bool first = true;
	for (size_t i = 0; i < r->nheaders && rc == 0; i++) {
		if (!hs__ascii_ieq(r->headers[i].name, name) || (skip_empty && !*r->headers[i].value))
			continue;
		rc = (first ? 0 : hs__buf_puts(&v, sep)) ?: hs__buf_puts(&v, r->headers[i].value);
		first = false;
	}
	if (rc)
		e->rc = rc;
	else if (!skip_empty || v.len)
		env_set(e, var, v.data ? v.data : "", v.len, true);
	hs__buf_free(&v);
}

/* A header's value, when present and not empty, as run_cgi's "if referer:". */
static void env_header(struct env *e, const char *var, const struct hs_request *r,
                       const char *name)
{
	const char *v = hs_header(r, name);
	if (v && *v)
		env_set(e, var, v, strlen(v), true);
}

/* The path-derived values computed by run_cgi. */
struct cgi_paths {
	const char *script_name, *path_info, *path_translated, *query;
};

static void env_request(struct env *e, const struct hs_cgi *cg, struct hs_conn *c,
                        const struct hs_request *r, const struct cgi_paths *p)
{
	char host[64] = "", port[16];
	int portn = 0;
	hs_server_address(hs_conn_server(c), host, sizeof host, &portn);
	snprintf(port, sizeof port, "%d", portn);
	const char *proto = hs_conn_handler(c)->protocol_version;
	env_puts(e, "SERVER_SOFTWARE", hs_version_string(c));
	env_puts(e, "SERVER_NAME", cg->server_name ? cg->server_name : host);
	env_puts(e, "GATEWAY_INTERFACE", "CGI/1.1");
	env_puts(e, "SERVER_PROTOCOL", proto ? proto : "HTTP/1.0");
	env_puts(e, "SERVER_PORT", port);
	if (hs_is_tls(c))
		env_puts(e, "HTTPS", "on"); /* as Apache and nginx's fastcgi_params say it */
	env_set(e, "REQUEST_METHOD", r->command, strlen(r->command), true);
	env_puts(e, "PATH_INFO", p->path_info);
	env_puts(e, "PATH_TRANSLATED", p->path_translated);
	env_puts(e, "SCRIPT_NAME", p->script_name);
	env_puts(e, "QUERY_STRING", p->query);
	env_puts(e, "REMOTE_ADDR", hs_address_string(c));
	const char *auth = hs_header(r, "Authorization");
	if (auth && *auth)
		env_auth(e, auth);
	const char *type = hs_header(r, "Content-Type");
	env_set(e, "CONTENT_TYPE", type ? type : "text/plain", strlen(type ? type : "text/plain"), true);
	env_header(e, "CONTENT_LENGTH", r, "Content-Length");
	env_header(e, "HTTP_REFERER", r, "Referer");
	env_join(e, "HTTP_ACCEPT", r, "Accept", ",", false);
	env_header(e, "HTTP_USER_AGENT", r, "User-Agent");
	env_join(e, "HTTP_COOKIE", r, "Cookie", ", ", true);
	static const char *const defaults[] = {"QUERY_STRING", "REMOTE_HOST", "CONTENT_LENGTH",
	                                       "HTTP_USER_AGENT", "HTTP_COOKIE", "HTTP_REFERER"};
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if (!env_has(e, defaults[i]) && !inherited(cg, defaults[i]))
			env_puts(e, defaults[i], ""); /* env.setdefault(k, "") */
}

/* argv: the script's name, then the query with '+' as space when it has no '=' (and,
 * unlike Python, never when it starts with '-': it would read as an option). */
static void env_args(struct env *e, const char *script, const char *query)
{
	e->args[e->nargs++] = e->text.len;
	e->rc = e->rc ?: hs__buf_append(&e->text, script, strlen(script) + 1);
	if (strchr(query, '=') || query[0] == '-')
		return;
	e->args[e->nargs++] = e->text.len;
	size_t start = e->text.len;
	e->rc = e->rc ?: hs__buf_append(&e->text, query, strlen(query) + 1);
	for (size_t i = start; e->rc == 0 && i < e->text.len; i++)
		if (e->text.data[i] == '+')
			e->text.data[i] = ' ';
}

/* The argv and envp arrays for execve, in one allocation: the inherited environment
 * without the names this request sets, then the request's variables. */
static char **env_vectors(struct env *e, const struct hs_cgi *cg, char ***envp)
{
	size_t ninh = 0;
	for (char **p = cg->priv->environ_copy; p && *p; p++)
		ninh++;
	char **v = e->rc ? NULL : hs__malloc((e->nargs + 1 + ninh + e->nvars + 1) * sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < e->nargs; i++)
		v[k++] = e->text.data + e->args[i];
	v[k++] = NULL;
	*envp = v + k;
	for (char **p = cg->priv->environ_copy; p && *p; p++) {
		bool overridden = false;
		for (size_t i = 0; i < e->nvars && !overridden; i++)
			overridden = same_name(*p, e->text.data + e->vars[i]);
		if (!overridden)
			v[k++] = *p;
	}
	for (size_t i = 0; i < e->nvars; i++)
		v[k++] = e->text.data + e->vars[i];
	v[k] = NULL;
	return v;
}

/* ------------------------------------------------------------ the process */

static void child_say(const char *what, const char *path, int err)
{
	char num[16];
	size_t k = sizeof num;
	num[--k] = '\0';
	do
		num[--k] = (char)('0' + err % 10);
	while ((err /= 10) > 0 && k > 0);
	const char *parts[] = {what, path, ": errno ", num + k, "\n"};
	for (size_t i = 0; i < 5; i++)
		if (write(2, parts[i], strlen(parts[i])) < 0)
			break;
}

/* After fork: only async-signal-safe calls. stdin, stdout and stderr become the pipes
 * (moved above 2 first, in case a pipe end itself is 0, 1 or 2), signals return to
 * their defaults (the workers block or ignore some), the script leads its own process
 * group (so a timeout kills its children too), a root server drops to nobody, and the
 * script is killed if its worker thread dies (a server killed outright leaves none). */
__attribute__((noreturn)) static void child(const struct hs_cgi *cg, const char *path,
                                            char **argv, char **envp, const int fds[3],
                                            pid_t server)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
	(void)setpgid(0, 0);
	int moved[3];
	for (int i = 0; i < 3; i++)
		if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			_exit(127);
	for (int i = 0; i < 3; i++)
		if (dup2(moved[i], i) < 0)
			_exit(127);
	if (cg->priv->drop_privileges) {
		uid_t u = (uid_t)cg->priv->nobody_uid;
		gid_t g = (gid_t)cg->priv->nobody_gid;
		if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, g, g, g) < 0 ||
		    syscall(SYS_setresuid, u, u, u) < 0) {
			child_say("cannot run as nobody: ", path, errno);
			_exit(127);
		}
	}
	/* after the uid change, which clears it; then the server may already be gone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != server)
		_exit(127);
	(void)syscall(SYS_close_range, 3U, ~0U, 0U);
	execve(path, argv, envp);
	child_say("cannot execute ", path, errno);
	_exit(127);
}

static int make_pipes(int p[3][2])
{
	for (int i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			return -errno;
	/* our ends: stdin's write end, stdout's and stderr's read ends */
	int ours[3] = {p[0][1], p[1][0], p[2][0]};
	for (int i = 0; i < 3; i++)
		if (fcntl(ours[i], F_SETFL, O_NONBLOCK) < 0)
			return -errno;
	return 0;
}

static void close_pipes(int p[3][2])
{
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0)
				close(p[i][k]);
}

/* Watches for every pipe and the process, and the deadline. */
static int watch_job(struct job *j, struct hs_conn *c)
{
	int rc = hs_watch_new(c, j->fd_in, HS_WATCH_WRITE, on_in, j, &j->w_in);
	rc = rc ?: hs_watch_new(c, j->fd_out, HS_WATCH_READ, on_out, j, &j->w_out);
	rc = rc ?: hs_watch_new(c, j->fd_err, HS_WATCH_READ, on_err, j, &j->w_err);
	rc = rc ?: hs_watch_new(c, j->pidfd, HS_WATCH_READ, on_pid, j, &j->w_pid);
	if (rc == 0 && j->pidfd < 0)
		rc = hs_watch_timeout(j->w_pid, REAP_POLL_MS);
	rc = rc ?: hs_watch_new(c, -1, 0, on_timer, j, &j->w_timer);
	int ms = j->cg->timeout_ms > 0 ? j->cg->timeout_ms : DEFAULT_TIMEOUT_MS;
	return rc ?: hs_watch_timeout(j->w_timer, ms);
}

/* Forks the script and hands the response to the job. */
static int start_job(const struct hs_cgi *cg, struct hs_conn *c, const char *path,
                     char **argv, char **envp, const char *name)
{
	struct job *j = hs__calloc(1, sizeof *j);
	int p[3][2];
	int rc = j ? make_pipes(p) : -ENOMEM;
	if (rc < 0) {
		if (j)
			close_pipes(p);
		free(j);
		hs_log_error(c, "cannot start CGI script %s: %s", name, strerror(-rc));
		return hs_send_error(c, 500, NULL, NULL);
	}
	j->cg = cg;
	snprintf(j->name, sizeof j->name, "%s", name);
	int child_fds[3] = {p[0][0], p[1][1], p[2][1]};
	pid_t server = getpid();
	pid_t pid = fork();
	if (pid == 0)
		child(cg, path, argv, envp, child_fds, server);
	for (int i = 0; i < 3; i++)
		close(child_fds[i]);
	j->fd_in = p[0][1], j->fd_out = p[1][0], j->fd_err = p[2][0];
	j->pidfd = -1;
	if (pid < 0) {
		rc = -errno;
		j->reaped = true;
		job_free(j);
		hs_log_error(c, "cannot start CGI script %s: %s", name, strerror(-rc));
		return hs_send_error(c, 500, NULL, NULL);
	}
	j->pid = pid;
	(void)setpgid(pid, pid); /* whichever of parent and child runs first */
	j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (j->pidfd < 0)
		j->pidfd = -1; /* an old kernel: waitpid is polled */
	rc = watch_job(j, c);
	rc = rc ?: hs_defer(c, &job_ops, j);
	if (rc < 0) {
		closing(j); /* kills it and waits (bounded) */
		return hs_send_error(c, 500, NULL, NULL);
	}
	j->c = c;
	pump_stdin(j);
	return 0;
}

/* ------------------------------------------------------------ run_cgi */

/* os.path.isdir(self.translate_path(path[:n])) */
static bool is_dir(const struct hs_cgi *cg, const char *path, size_t n)
{
	struct hs__buf rel = {0};
	bool slash, dir = false;
	struct stat st;
	if (hs__cgi_translate(&rel, path, n, &slash) == 0 && !strchr(rel.data, '\xff'))
		dir = fstatat(cg->base.priv->root_fd, rel.data[0] ? rel.data : ".", &st, 0) == 0 &&
		      S_ISDIR(st.st_mode);
	hs__buf_free(&rel);
	return dir;
}

/* run_cgi's walk: while the next word is a directory, it belongs to dir. */
static size_t walk_dirs(const struct hs_cgi *cg, const char *path, size_t dirn)
{
	for (const char *next = strchr(path + dirn + 1, '/'); next; next = strchr(path + dirn + 1, '/')) {
		if (!is_dir(cg, path, (size_t)(next - path)))
			break;
		dirn = (size_t)(next - path);
	}
	return dirn;
}

/* os.path.exists and isfile of the script, with our symlink policy: a script is run
 * only from inside the served directory unless symlinks are followed. Returns 0 and
 * the path to execute in exe, -ENOENT (404) or -EISDIR (not a plain file, 403). */
static int find_script(const struct hs_cgi *cg, struct hs_conn *c, const char *rel,
                       bool slash, char *exe, size_t exe_size)
{
	struct stat st;
	char at[PATH_MAX];
	if (strchr(rel, '\xff') ||
	    snprintf(at, sizeof at, "%s%s", rel[0] ? rel : ".", slash ? "/" : "") >= (int)sizeof at ||
	    fstatat(cg->base.priv->root_fd, at, &st, 0) < 0)
		return -ENOENT;
	const char *root = cg->base.priv->root_real;
	bool at_root = strcmp(root, "/") == 0;
	if (snprintf(exe, exe_size, "%s%s%s", at_root ? "" : root, "/", rel) >= (int)exe_size)
		return -ENOENT;
	if (cg->base.symlinks != HS_SYMLINKS_FOLLOW && S_ISREG(st.st_mode)) {
		char real[PATH_MAX];
		size_t n = strlen(root);
		bool inside = realpath(exe, real) && (at_root || (strncmp(real, root, n) == 0 &&
		                                                   real[n] == '/'));
		if (inside && cg->base.symlinks == HS_SYMLINKS_DENY && strcmp(real, exe) != 0)
			inside = false;
		if (!inside) {
			hs_log_error(c, "refused CGI script %s: %s", rel,
			             cg->base.symlinks == HS_SYMLINKS_DENY
			                 ? "symlinks are not followed (--symlinks deny)"
			                 : "a symlink leads outside the served directory "
			                   "(--symlinks inside; 'follow' would run it)");
			return -ENOENT;
		}
		snprintf(exe, exe_size, "%s", real);
	}
	return S_ISREG(st.st_mode) ? 0 : -EISDIR;
}

/* send_error with "<what> (%r)" of the script name, as Python words it. */
static int script_error(struct hs_conn *c, int code, const char *what, const char *name)
{
	struct hs__buf l1 = {0}, msg = {0};
	int rc = hs__utf8_to_latin1(&l1, name, strlen(name)) ?: hs__buf_printf(&msg, "%s (", what) ?:
	         hs__py_repr(&msg, l1.data ? l1.data : "", l1.len) ?: hs__buf_append(&msg, ")", 2);
	rc = hs_send_error(c, code, rc ? NULL : msg.data, NULL);
	hs__buf_free(&l1);
	hs__buf_free(&msg);
	return rc;
}

/* PATH_TRANSLATED: translate_path(PATH_INFO), the words joined under directory. */
static int path_translated(struct hs__buf *out, const struct hs_cgi *cg, const char *info)
{
	struct hs__buf rel = {0};
	bool slash;
	const char *dir = cg->base.directory;
	size_t dn = strlen(dir);
	int rc = hs__cgi_translate(&rel, info, strlen(info), &slash) ?: hs__buf_puts(out, dir);
	if (rc == 0 && rel.data[0])
		rc = (dn && dir[dn - 1] == '/' ? 0 : hs__buf_append(out, "/", 1)) ?: hs__buf_puts(out, rel.data);
	rc = rc ?: (slash ? hs__buf_append(out, "/", 1) : 0) ?: hs__buf_append(out, "", 1);
	hs__buf_free(&rel);
	return rc;
}

/* The checks done, the environment built: runs the script. */
static int launch(const struct hs_cgi *cg, struct hs_conn *c, const struct hs_request *r,
                  const char *exe, const struct cgi_paths *p, const char *script)
{
	struct env e = {0};
	char **envp = NULL;
	env_request(&e, cg, c, r, p);
	env_args(&e, script, p->query);
	char **argv = env_vectors(&e, cg, &envp);
	struct hs__buf name = {0};
	int rc;
	if (!argv || hs__utf8_to_latin1(&name, p->script_name, strlen(p->script_name) + 1) < 0)
		rc = hs_send_error(c, 500, NULL, NULL);
	else
		rc = start_job(cg, c, exe, argv, envp, name.data);
	free(argv);
	hs__buf_free(&e.text);
	hs__buf_free(&name);
	return rc;
}

/* Python's run_cgi on cgi_info "dir/rest": the deeper directories, the script, PATH_INFO
 * and the query; then the 404 and 403 checks. */
static int run_cgi(const struct hs_cgi *cg, struct hs_conn *c, const struct hs_request *r,
                   char *info, size_t dir_len)
{
	size_t dirn = walk_dirs(cg, info, dir_len);
	char *rest = info + dirn + 1;
	size_t rest_len = strcspn(rest, "?");
	char *slash = memchr(rest, '/', rest_len);
	size_t script_len = slash ? (size_t)(slash - rest) : rest_len;
	struct hs__buf name = {0}, script = {0}, raw_info = {0}, uq = {0}, tr = {0}, rel = {0};
	struct cgi_paths p = {.query = rest[rest_len] ? rest + rest_len + 1 : ""};
	bool trailing;
	char exe[PATH_MAX];
	int rc = hs__buf_append(&name, info, dirn + 1 + script_len) ?: hs__buf_append(&name, "", 1);
	rc = rc ?: hs__buf_append(&script, rest, script_len) ?: hs__buf_append(&script, "", 1);
	rc = rc ?: hs__buf_append(&raw_info, rest + script_len, rest_len - script_len);
	rc = rc ?: hs__py_unquote(&uq, raw_info.data ? raw_info.data : "", raw_info.len, false) ?:
	     hs__buf_append(&uq, "", 1);
	rc = rc ?: path_translated(&tr, cg, uq.data);
	rc = rc ?: hs__cgi_translate(&rel, name.data, name.len - 1, &trailing);
	if (rc < 0) {
		rc = hs_send_error(c, 500, NULL, NULL);
		goto out;
	}
	int found = find_script(cg, c, rel.data, trailing, exe, sizeof exe);
	if (found == -ENOENT)
		rc = script_error(c, 404, "No such CGI script", name.data);
	else if (found < 0)
		rc = script_error(c, 403, "CGI script is not a plain file", name.data);
	else if (!(cg->is_executable ? cg->is_executable(cg, exe) : access(exe, X_OK) == 0))
		rc = script_error(c, 403, "CGI script is not executable", name.data);
	else if (strchr(uq.data, '\xff'))
		rc = hs_send_error(c, 400, "NUL byte in the CGI path", NULL); /* Python: the child
		                                                                  fails to exec */
	else {
		p.script_name = name.data, p.path_info = uq.data, p.path_translated = tr.data;
		rc = launch(cg, c, r, exe, &p, script.data);
	}
out:
	hs__buf_free(&name), hs__buf_free(&script), hs__buf_free(&raw_info);
	hs__buf_free(&uq), hs__buf_free(&tr), hs__buf_free(&rel);
	return rc;
}

/* ------------------------------------------------------------ the handler */

int hs_cgi_is_cgi(const struct hs_cgi *cg, const char *path, char *info, size_t info_size,
                  size_t *dir_len)
{
	struct hs__buf col = {0};
	int rc = hs__cgi_collapse_path(&col, path, strlen(path));
	size_t d = rc == 0 ? hs__cgi_find_dir(col.data, cg->cgi_directories ? cg->cgi_directories
	                                                                   : default_dirs)
	                   : 0;
	if (d && col.len > info_size)
		rc = -ENAMETOOLONG;
	else if (d)
		memcpy(info, col.data, col.len);
	*dir_len = d;
	hs__buf_free(&col);
	return rc < 0 ? rc : d > 0;
}

/* do_GET, do_HEAD and do_POST: is_cgi, then run_cgi, the static handler, or 501. */
static int cgi_slot(const struct hs_handler *h, struct hs_conn *c, const struct hs_request *r)
{
	const struct hs_cgi *cg = cgi_of(h);
	/* the static handler's added lines go on a script's responses as well */
	if (hs__static_adds_headers(&cg->base) &&
	    !hs__static_use_flags((struct hs_static *)&cg->base, c, r))
		return hs_send_error(c, 500, NULL, NULL);
	size_t size = 3 * strlen(r->path) + 16, dir_len = 0;
	char *info = hs__malloc(size);
	if (!info)
		return hs_send_error(c, 500, NULL, NULL);
	int is = cg->is_cgi ? cg->is_cgi(cg, r->path, info, size, &dir_len)
	                    : hs_cgi_is_cgi(cg, r->path, info, size, &dir_len);
	int rc;
	if (is == -ENOMEM)
		rc = hs_send_error(c, 500, NULL, NULL);
	else if (is < 0) /* Python: IndexError, a traceback and a dropped connection */
		rc = hs_send_error(c, 404, "File not found", NULL);
	else if (is > 0)
		rc = run_cgi(cg, c, r, info, dir_len);
	else if (strcmp(r->command, "POST") == 0)
		rc = hs_send_error(c, 501, "Can only POST to CGI scripts", NULL);
	else if (strcmp(r->command, "HEAD") == 0)
		rc = cg->priv->static_HEAD(h, c, r);
	else
		rc = cg->priv->static_GET(h, c, r);
	free(info);
	return rc;
}

/* A copy of the environment at start-up, without HTTP_PROXY (httpoxy: a script cannot
 * tell it from a Proxy: header, and CGI libraries trust it). */
static int copy_environ(struct hs__cgi_private *p)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	p->environ_copy = hs__calloc(n + 1, sizeof *p->environ_copy);
	if (!p->environ_copy)
		return -ENOMEM;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		if (!strchr(*e, '=') || strncmp(*e, "HTTP_PROXY=", 11) == 0)
			continue;
		if (!(p->environ_copy[k++] = hs__strdup(*e)))
			return -ENOMEM;
	}
	return 0;
}

/* nobody_uid(): nobody's uid, else one more than the largest uid, as Python. */
static void find_nobody(struct hs__cgi_private *p)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	p->drop_privileges = geteuid() == 0;
	if (!p->drop_privileges)
		return;
	if (getpwnam_r("nobody", &pw, buf, sizeof buf, &res) == 0 && res) {
		p->nobody_uid = res->pw_uid;
		p->nobody_gid = res->pw_gid;
		return;
	}
	unsigned long max = 0;
	setpwent();
	while (getpwent_r(&pw, buf, sizeof buf, &res) == 0 && res)
		if (res->pw_uid > max && res->pw_uid != (uid_t)-1)
			max = res->pw_uid;
	endpwent();
	p->nobody_uid = p->nobody_gid = max + 1;
}

int hs_cgi_init(struct hs_cgi *cg, const char *directory)
{
	*cg = (struct hs_cgi){0};
	int rc = hs_static_init(&cg->base, directory);
	if (rc < 0)
		return rc;
	struct hs__cgi_private *p = hs__calloc(1, sizeof *p);
	if (!p) {
		hs_static_fini(&cg->base);
		return -ENOMEM;
	}
	cg->priv = p;
	p->static_GET = cg->base.base.do_GET;
	p->static_HEAD = cg->base.base.do_HEAD;
	cg->base.base.do_GET = cgi_slot;
	cg->base.base.do_HEAD = cgi_slot;
	cg->base.base.do_POST = cgi_slot;
	cg->base.base.stream_body = true; /* Python's rbufsize = 0: the body goes to stdin */
	rc = copy_environ(p);
	if (rc < 0) {
		hs_cgi_fini(cg);
		return rc;
	}
	find_nobody(p);
	return 0;
}

void hs_cgi_fini(struct hs_cgi *cg)
{
	struct hs__cgi_private *p = cg->priv;
	if (p) {
		for (char **e = p->environ_copy; e && *e; e++)
			free(*e);
		free(p->environ_copy);
		free(p);
		cg->priv = NULL;
	}
	hs_static_fini(&cg->base);
}

/* socket.getfqdn(name): the name from a reverse lookup, preferring one with a dot. */
static void getfqdn(const char *name, char *out, size_t size)
{
	char host[256];
	if (!*name || strcmp(name, "0.0.0.0") == 0 || strcmp(name, "::") == 0) {
		if (gethostname(host, sizeof host) == 0) {
			host[sizeof host - 1] = '\0';
			name = host;
		}
	}
	snprintf(out, size, "%s", name);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(name, NULL, &hints, &ai) != 0)
		return;
	const void *addr = ai->ai_family == AF_INET6
	                       ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
	                       : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
	socklen_t len = ai->ai_family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
	struct hostent he, *res = NULL;
	char buf[8192];
	int herr;
	if (gethostbyaddr_r(addr, len, ai->ai_family, &he, buf, sizeof buf, &res, &herr) == 0 && res) {
		const char *pick = res->h_name;
		for (char **a = res->h_aliases; !strchr(pick, '.') && a && *a; a++)
			if (strchr(*a, '.'))
				pick = *a;
		snprintf(out, size, "%s", pick);
	}
	freeaddrinfo(ai);
}

int hs_cgi_server_bind(struct hs_cgi *cg, const struct hs_server *s)
{
	char host[64];
	int port;
	if (!cg->priv)
		return -EINVAL;
	if (hs_server_address(s, host, sizeof host, &port) < 0)
		host[0] = '\0';
	getfqdn(host, cg->priv->server_name_buf, sizeof cg->priv->server_name_buf);
	cg->server_name = cg->priv->server_name_buf;
	return 0;
}
