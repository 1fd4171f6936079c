/*
 * httpserve.h: libhttpserve, Python's http.server classes for C programs.
 *
 * A server (HTTPServer with one worker, ThreadingHTTPServer with several) accepts
 * connections and hands each request to a handler: a struct of do_GET-style function
 * slots, the C form of a BaseHTTPRequestHandler subclass. A slot answers through the
 * connection with the helpers Python has (send_response, send_header, end_headers,
 * send_error, write...). The two built-in handlers, static files with listings
 * (SimpleHTTPRequestHandler) and CGI (CGIHTTPRequestHandler), embed struct hs_handler as
 * their first member and use nothing but this API.
 *
 * Conventions: actions return 0 or a negative errno; lookups return a pointer or NULL.
 * The zero value of every options struct is the default. Nothing here exits the process.
 *
 * Versions: the shared library's soname is libhttpserve.so.MAJOR (HS_VERSION_MAJOR). A
 * program built against this header runs with every later library of the same major
 * version: within one, functions and fields are only ever added. Fields grow in two
 * ways. struct hs_options grows at its end: hs_server_new passes the caller's
 * sizeof(struct hs_options), and the library takes the fields the caller does not have
 * as zero. The structs that are embedded in others (hs_handler, hs_tls_options,
 * hs_static, hs_cgi) keep their size: a new field takes the place of reserved members,
 * which stay zero (as in the zero value) and are never named. Only the names declared
 * here are exported; hs__ names are the library's own.
 *
 * Threads. A server runs its handler on every worker at once (workers > 1), so state a
 * handler shares between requests needs a lock. A connection belongs to one thread at a
 * time: its worker, which runs the slots of a handler that does not block, the
 * log_message and handle_expect_100 hooks, the deferred callbacks and the watches made
 * for it; or, while a blocking slot runs (hs_handler.blocking, hs_run_blocking), the pool
 * thread running it, several such slots running at once. Every call taking a struct
 * hs_conn is made from the thread that owns the connection now, never another, and a
 * deferred response is completed on its worker. From any thread: hs_server_shutdown
 * (also from a signal handler) and hs_server_reload_tls. To wake a worker from another
 * thread (libuv's uv_async_send), watch an eventfd(2) with hs_watch_new from a slot or
 * callback on that worker and write(2) to it from anywhere: the watch's function then
 * runs on the worker, where it may call hs_write and hs_finish for a deferred response.
 */
#ifndef HTTPSERVE_H
#define HTTPSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#define HS__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define HS__PRINTF(fmt, args)
#endif

/* The one statement of the version (the build reads it from here). MAJOR changes when
 * a program built against an earlier header could break; MINOR when names are added;
 * PATCH for fixes alone. */
#define HS_VERSION_MAJOR 0
#define HS_VERSION_MINOR 1
#define HS_VERSION_PATCH 0
#define HS__STRING(x) #x
#define HS__VERSION_TEXT(a, b, c) HS__STRING(a) "." HS__STRING(b) "." HS__STRING(c)
#define HS_VERSION HS__VERSION_TEXT(HS_VERSION_MAJOR, HS_VERSION_MINOR, HS_VERSION_PATCH)

struct hs_server; /* HTTPServer / ThreadingHTTPServer (opaque) */
struct hs_conn;   /* one connection: the handler's "self" for I/O (opaque) */
struct hs_handler;

struct hs_header {
	const char *name;  /* as the client spelled it */
	const char *value; /* leading and trailing spaces removed */
};

/* What the handler knows of the current request (Python's attributes of the same names).
 * Read-only; every pointer stays valid until the slot returns. */
struct hs_request {
	const char *command;          /* "GET" */
	const char *path;             /* the request target, a leading "//" reduced to "/" */
	const char *request_version;  /* "HTTP/1.1"; "HTTP/0.9" for a two-word request */
	const char *requestline;      /* the first line without its CR LF */
	size_t requestline_len;       /* its length: a line refused for a NUL holds one */
	const struct hs_header *headers;
	size_t nheaders;
	const char *client_address;   /* bare IP, as address_string() */
	int client_port;
	long long content_length;     /* the body's length (0 when there is none) */
};

typedef int hs_method_fn(const struct hs_handler *self, struct hs_conn *c,
                         const struct hs_request *req);

/* BaseHTTPRequestHandler. A NULL slot or string is Python's default. A slot returns 0,
 * or a negative value to drop the connection after what it queued is sent. When a slot
 * queued nothing and fails, or a send_* call failed (out of memory) and every later one
 * then fails alike, the client gets a 500 in place of the response. A slot never
 * blocks: it queues its response and returns; the server sends it without stalling
 * other clients. */
struct hs_handler {
	const char *server_version;       /* NULL: "httpserve/" HS_VERSION */
	const char *sys_version;          /* NULL: none (there is no Python version) */
	const char *protocol_version;     /* NULL: "HTTP/1.0"; "HTTP/1.1" keeps connections */
	const char *error_message_format; /* NULL: Python's page; %(code)d, %(code)s,
	                                     %(message)s and %(explain)s are substituted */
	const char *error_content_type;   /* NULL: "text/html;charset=utf-8" */
	hs_method_fn *do_GET, *do_HEAD, *do_POST, *do_PUT, *do_DELETE, *do_OPTIONS, *do_PATCH;
	hs_method_fn *do_other;           /* any other method; NULL: 501 */
	/* Expect: 100-continue. NULL sends "100 Continue". Return false to refuse, after
	 * sending an error (417 in Python's example). */
	bool (*handle_expect_100)(const struct hs_handler *self, struct hs_conn *c,
	                          const struct hs_request *req);
	/* Receives every log message (already formatted, not yet escaped): len bytes and
	 * a NUL after them. The message holds a NUL byte of its own only when the client
	 * sent one in a request line (refused with 400, and logged whole). NULL writes
	 * Python's line "ADDR - - [date] MESSAGE" to the server's log. */
	void (*log_message)(const struct hs_handler *self, struct hs_conn *c,
	                    const char *message, size_t len);
	/* false: a request body is received whole (up to max_body) before the slot runs,
	 * and hs_read_body never waits. true (Python's rbufsize = 0, as the CGI handler
	 * sets it): the slot runs as soon as the head is read and reads the body as it
	 * arrives; hs_read_body then returns -EAGAIN when nothing has arrived yet (see
	 * hs_defer), and content_length is -1 for a chunked body. A body the slot leaves
	 * unread closes the connection after the response. */
	bool stream_body;
	/* true: the slots never read a request body (the static handler's GET and HEAD).
	 * It is still received, checked and limited by max_body before the slot runs, so
	 * the next request is found where it starts, but its bytes are dropped as they
	 * arrive instead of held; hs_read_body then finds nothing. */
	bool ignore_body;
	/* true (ThreadingHTTPServer's model): the slots may block. Each request is handed to
	 * a thread of the server's handler pool (hs_options.handler_threads) while the
	 * workers go on serving other connections. In such a slot hs_read_body waits for
	 * body bytes (under the body deadline), hs_write, hs_send_file and hs_flush_headers
	 * wait while the client is slow (under the send deadline) and return an error the
	 * slot sees (-EPIPE, -ECONNRESET, -ETIMEDOUT, -ECANCELED at shutdown) when the client
	 * is gone; hs_defer and hs_watch_new are refused (-EINVAL). When every pool thread is
	 * busy a request waits in a queue of handler_queue; past it, 503. */
	bool blocking;
	void *reserved[8];                /* zero: room for later fields */
};

/* HTTPSServer: TLS on every connection of the server, when cert_file, self_signed or
 * ssl_ctx is set (all unset: plain HTTP). TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers
 * for 1.2, ALPN "http/1.1", session tickets with keys made at start-up and rotated; no
 * renegotiation, compression or 0-RTT. */
struct hs_tls_options {
	const char *cert_file;     /* a PEM certificate chain */
	const char *key_file;      /* its private key (PEM); NULL: read from cert_file; set
	                              without a certificate, hs_server_new fails (-EINVAL) */
	const char *password;      /* the key's password, or NULL */
	bool self_signed;          /* a throwaway ECDSA P-256 certificate made in memory for
	                              "localhost", the bound address and the host name */
	void *ssl_ctx;             /* an SSL_CTX * the application made, for full control:
	                              used as it is (a reference is taken); the rest ignored */
	char *error;               /* where a failure is described in one line (may be NULL) */
	size_t error_size;
	void *reserved[4];         /* zero: room for later fields */
};

struct hs_options {
	const char *host;        /* NULL: all interfaces, dual stack (:: with v4 mapped) */
	const char *port;        /* NULL: "8000"; "0" picks a free port */
	int workers;             /* 0: online CPUs; 1: sequential, as HTTPServer */
	int max_connections;     /* 0: from the open-file limit; at the cap a new
	                            connection gets a 503 and is closed */
	int header_timeout_ms;   /* 0: 60000; receiving a request head */
	int body_timeout_ms;     /* 0: 60000; between body bytes */
	int send_timeout_ms;     /* 0: 60000; between bytes the client accepts */
	int idle_timeout_ms;     /* 0: 75000; keep-alive wait for the next request */
	int drain_timeout_ms;    /* 0: 10000; how long shutdown lets responses finish */
	long long max_body;      /* 0: 64 MiB; larger request bodies get 413 */
	bool quiet;              /* no per-request lines; errors are still logged */
	int log_fd;              /* 0: stderr (2); where default log lines go */
	struct hs_tls_options tls; /* zero: plain HTTP */
	int handler_threads;     /* 0: 16; the pool that runs blocking slots, made when the
	                            handler is blocking or this is set */
	int handler_queue;       /* 0: 4 per pool thread; requests waiting for a pool thread
	                            beyond this get 503 */
	/* later fields go here, at the end */
};

/* Creates a server listening as o says (NULL: defaults), answering with handler h,
 * which must outlive it. Returns 0 and *out, or a negative errno: -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES from bind; from name resolution -ENOENT (no such host),
 * -EAGAIN (the resolver could not answer now: worth a retry), -EINVAL (the port is
 * neither a number nor a service), -EIO (any other resolver failure). hs_server_new
 * is a macro over hs_server_new_sized, which takes the size of the caller's struct
 * hs_options: fields past it are taken as zero, and a caller's struct larger than the
 * library's is refused (-E2BIG) unless its extra bytes are zero. The function
 * hs_server_new, (hs_server_new)(...) or from another language, takes o as laid out by
 * this version of the header. */
int hs_server_new_sized(struct hs_server **out, const struct hs_options *o, size_t o_size,
                        const struct hs_handler *h);
int hs_server_new(struct hs_server **out, const struct hs_options *o,
                  const struct hs_handler *h);
#define hs_server_new(out, o, h) hs_server_new_sized(out, o, sizeof(struct hs_options), h)
/* The bound address (numeric) and port, for the banner. host_size >= 64 suffices. */
int hs_server_address(const struct hs_server *s, char *host, size_t host_size, int *port);
/* Serves until hs_server_shutdown; runs the workers (this thread is one of them).
 * Returns 0 after a shutdown, -EBUSY when called a second time on the same server, or
 * a negative errno if the workers could not start. */
int hs_server_serve_forever(struct hs_server *s);
/* Asks serve_forever to stop: listening stops at once, responses in flight get up to
 * drain_timeout_ms to finish. Async-signal-safe and callable from any thread; returns
 * at once. */
void hs_server_shutdown(struct hs_server *s);
/* Closes the sockets and frees the server (server_close). Not while serving. */
void hs_server_close(struct hs_server *s);
/* Whether the server speaks TLS (HTTPSServer). */
bool hs_server_is_tls(const struct hs_server *s);
/* The SHA-256 fingerprint of the server's certificate as "AB:CD:...:EF" (95 characters
 * and a NUL) into out; -ENOTSUP without TLS. */
int hs_server_tls_fingerprint(const struct hs_server *s, char out[96]);
/* Reads the certificate and key files again (after a renewal; the key's password is the
 * one given at start-up): new connections use them, open ones carry on. On failure the old ones stay, the reason is written to
 * why (one line) and a negative errno returned. Callable from any thread while
 * serving, not from a signal handler. */
int hs_server_reload_tls(struct hs_server *s, char *why, size_t why_size);

/* ------------------------------------------------------ your own event loop */

/* For an application with an event loop of its own (poll, epoll, libuv, GLib): the
 * server runs as one worker in the caller's thread, and no worker thread is created
 * (a blocking handler still gets its pool). hs_server_embed prepares it instead of
 * hs_server_serve_forever (the server must have been made with workers 1, since 0 means
 * one listener per CPU; -EINVAL otherwise, -EBUSY when it already serves). Then: watch
 * hs_server_fd for reading, call hs_server_step whenever it is readable or
 * hs_server_next_timeout's milliseconds have passed (a step with nothing ready is
 * harmless). hs_server_step does what is ready and never blocks; it returns 0 while
 * serving, 1 once a shutdown has finished draining (and again if called after), or a
 * negative errno. hs_server_next_timeout is -1 when no deadline runs, 0 when a step is
 * due now; while draining it is at most 100. hs_server_shutdown works as with
 * serve_forever, from a slot as well; hs_server_close ends an embedded server whether
 * or not it was shut down. SIGPIPE raised by a step's writes is kept from the process.
 * hs_server_fd and hs_server_step return -EINVAL before hs_server_embed. These four are
 * called from the thread that runs the loop. */
int hs_server_embed(struct hs_server *s);
int hs_server_fd(const struct hs_server *s);
int hs_server_step(struct hs_server *s);
int hs_server_next_timeout(const struct hs_server *s);

/* ------------------------------------------------------- the request side */

/* Whether the connection is TLS (HTTPS), as the CGI handler's HTTPS=on says. */
bool hs_is_tls(const struct hs_conn *c);
/* The value of the first header named name (case-insensitive), or NULL. */
const char *hs_header(const struct hs_request *r, const char *name);
/* rfile.read: copies up to len bytes of the request body (de-chunked); returns the
 * count, 0 at the end. With stream_body it reads what has arrived and may also return
 * -EAGAIN (nothing yet: in a deferred response on_body follows), -EBADMSG (malformed
 * chunked coding), -EFBIG (more than max_body) or -ECONNRESET (the client left; the
 * connection closes). */
long hs_read_body(struct hs_conn *c, void *buf, size_t len);

/* ------------------------------------------------------ the response side */

/* send_response: logs the request (log_request) and queues the status line, Server and
 * Date. message NULL: the standard reason phrase. */
int hs_send_response(struct hs_conn *c, int code, const char *message);
/* send_response_only: the status line alone, unlogged. */
int hs_send_response_only(struct hs_conn *c, int code, const char *message);
/* send_header: "Connection: close" / "keep-alive" also set close_connection. A name or
 * value with CR or LF (or a name with ':') is refused: -EINVAL, nothing queued. */
int hs_send_header(struct hs_conn *c, const char *name, const char *value);
int hs_end_headers(struct hs_conn *c);
/* flush_headers: hands what is queued to the socket now. */
int hs_flush_headers(struct hs_conn *c);
/* send_error: Python's error response (closes the connection). message and explain
 * NULL: the standard texts; they are HTML-escaped into the page. */
int hs_send_error(struct hs_conn *c, int code, const char *message, const char *explain);
/* wfile.write: queues len bytes of body. Returns len or a negative errno. */
long hs_write(struct hs_conn *c, const void *buf, size_t len);
/* Queues length bytes of the open file fd from offset as the body, sent with sendfile
 * after what is queued before it. Takes ownership of fd (closed when sent or on error).
 * Called again with the same fd, it queues a further range of that file, and hs_write
 * queues bytes between and after ranges, all sent in order (multipart/byteranges);
 * another fd while ranges of one are
 * still queued is -EBUSY (once all are sent, in a blocking slot or after hs_flush, another
 * file may follow). If the file shrinks meanwhile, the
 * connection is closed after what exists. */
int hs_send_file(struct hs_conn *c, int fd, long long offset, long long length);

/* close_connection */
bool hs_close_connection(const struct hs_conn *c);
void hs_set_close_connection(struct hs_conn *c, bool close);

/* ------------------------------------------------------------- logging */

/* log_request: "REQUESTLINE" CODE SIZE (size "-" when NULL). Silent when quiet. */
void hs_log_request(struct hs_conn *c, int code, const char *size);
/* log_error and log_message: printf-style, passed to the handler's log_message. */
void hs_log_error(struct hs_conn *c, const char *fmt, ...) HS__PRINTF(2, 3);
void hs_log_message(struct hs_conn *c, const char *fmt, ...) HS__PRINTF(2, 3);

/* -------------------------------------------------------------- helpers */

/* version_string: server_version, then a space and sys_version when set. */
const char *hs_version_string(const struct hs_conn *c);
/* date_time_string: the IMF-fixdate of t (t < 0: now) into out; returns out. */
char *hs_date_time_string(char out[30], time_t t);
/* log_date_time_string: "17/Mar/2025 14:03:07", local time, now. */
char *hs_log_date_time_string(char out[21]);
/* address_string: the client's bare IP. */
const char *hs_address_string(const struct hs_conn *c);
/* The request being handled, the handler and the server. */
const struct hs_request *hs_conn_request(const struct hs_conn *c);
const struct hs_handler *hs_conn_handler(const struct hs_conn *c);
struct hs_server *hs_conn_server(const struct hs_conn *c);
/* responses[code]: the reason phrase and explanation of CPython 3.13's HTTPStatus.
 * Returns false (and "???" for both) for a code it does not know. */
bool hs_responses(int code, const char **shortmsg, const char **longmsg);

/* ------------------------------------------------------ blocking slots */

/* In a slot of a handler that is not blocking: the rest of this request runs fn on a
 * thread of the handler pool, as a blocking slot (see hs_handler.blocking), and the slot
 * returns 0 at once. For a handler that answers some requests at once (files) and some
 * slowly (a database). Returns 0; -ENOTSUP without a pool (set handler_threads);
 * -EBUSY after hs_defer or a second call. In a blocking slot it calls fn at once. */
int hs_run_blocking(struct hs_conn *c, hs_method_fn *fn);

/* ------------------------------------------------------ deferred responses */

/* A slot that cannot answer at once (it waits on a process, a pipe, a timer) calls
 * hs_defer and returns; the response is then completed from callbacks on the same
 * worker, with the same hs_send_* and hs_write calls, and ended with hs_finish. Nothing
 * here blocks: the producer queues with hs_write, sends with hs_flush, and when
 * hs_pending grows past a bound of its choice it stops until on_drain (back-pressure).
 * The connection keeps its send and body deadlines meanwhile; the handler owns any
 * other deadline (a watch's timeout). Every callback runs on the connection's worker. */
struct hs_defer_ops {
	/* hs_read_body returned -EAGAIN, and more of the body (or its end, or an error)
	 * can now be read. NULL: not needed. */
	void (*on_body)(struct hs_conn *c, void *arg);
	/* hs_flush left bytes unsent, and now everything queued has been sent. */
	void (*on_drain)(struct hs_conn *c, void *arg);
	/* The connection closes before hs_finish: the client left or failed, a send or
	 * body deadline passed, or the server stopped. Release everything that refers to
	 * c; only hs_log_* may be called on c here, and c is gone when this returns. Never
	 * called from inside an hs_* call the handler makes. */
	void (*on_abort)(struct hs_conn *c, void *arg);
};

/* In a slot: the response continues after the slot returns. The request view is
 * copied, so hs_conn_request(c) stays valid until hs_finish. ops must outlive the
 * response. Returns 0, or -EBUSY (already deferred), -ENOMEM. */
int hs_defer(struct hs_conn *c, const struct hs_defer_ops *ops, void *arg);
/* wfile.flush() of a deferred response: sends what is queued as far as the socket
 * takes it now; the rest follows as the client accepts it, and on_drain reports when
 * all of it is out. Returns 0, or a negative errno when the connection has failed:
 * stop producing; on_abort follows from the event loop. Outside a deferred response
 * it does nothing (a slot's response is sent when the slot returns). */
int hs_flush(struct hs_conn *c);
/* Bytes queued and not yet sent. */
size_t hs_pending(const struct hs_conn *c);
/* The deferred response is complete: what is queued is sent, then the connection goes
 * on (the next request, or closing). Neither callback runs after this, and c must not
 * be used by the caller again. A response that queued nothing closes the connection. */
void hs_finish(struct hs_conn *c);

/* ------------------------------------------------------------------ watches */

/* What a watch reports (a bit set). */
enum {
	HS_WATCH_READ = 1,     /* fd readable, or at end of file */
	HS_WATCH_WRITE = 2,    /* fd writable */
	HS_WATCH_HUP = 4,      /* hang-up or error on fd (reported whether asked or not) */
	HS_WATCH_TIMEOUT = 8,  /* the deadline of hs_watch_timeout passed */
	HS_WATCH_CLOSING = 16, /* the worker stops: release fd now; the watch is freed when
	                          fn returns */
};

struct hs_watch;
typedef void hs_watch_fn(struct hs_watch *w, unsigned events, void *arg);

/* Watches fd (or nothing when fd < 0: a timer alone) on the event loop of the worker
 * serving c, for events (HS_WATCH_READ | HS_WATCH_WRITE). Edge-triggered: fn runs when
 * fd becomes ready, and must then read or write until EAGAIN. The watch belongs to the
 * worker, not to c: it may outlive the connection (to reap a process, say) and lives
 * until hs_watch_free, or until the worker stops. fd stays the caller's, to close after
 * hs_watch_free. Returns 0 and *out, or a negative errno. */
int hs_watch_new(struct hs_conn *c, int fd, unsigned events, hs_watch_fn *fn, void *arg,
                 struct hs_watch **out);
/* Reports HS_WATCH_TIMEOUT once, ms milliseconds from now, replacing any earlier
 * deadline; ms < 0 cancels. Returns 0 or -ENOMEM. */
int hs_watch_timeout(struct hs_watch *w, long ms);
/* Stops watching and frees w; safe inside fn, ignored during HS_WATCH_CLOSING. */
void hs_watch_free(struct hs_watch *w);

/* ----------------------------------------------- SimpleHTTPRequestHandler */

/* Which symlinks hs_static serves (Python follows every one). */
enum hs_symlinks { HS_SYMLINKS_INSIDE, HS_SYMLINKS_FOLLOW, HS_SYMLINKS_DENY };

/* What hs_static answers for a directory without an index page: Python's listing, byte
 * for byte; the rich listing (sizes, times, sorting by the query string, JSON for
 * Accept: application/json); or 404. */
enum hs_listing { HS_LISTING_PYTHON, HS_LISTING_RICH, HS_LISTING_OFF };

struct hs_static;
struct hs__static_private;

/* Serves GET and HEAD from a directory as Python does. Fields may be changed after
 * hs_static_init and before serving; the hooks default to the built-in behaviour. */
struct hs_static {
	struct hs_handler base;
	const char *directory;            /* set by hs_static_init */
	const char *const *index_pages;   /* NULL: {"index.html", "index.htm", NULL} */
	/* extensions_map additions: pairs {".ext", "type", ..., NULL}, checked before the
	 * built-in table; NULL: Python's {.gz, .Z, .bz2, .xz} encodings map. */
	const char *const *extensions_map;
	/* guess_type override; NULL: the built-in table, then /etc/mime.types. */
	const char *(*guess_type)(const struct hs_static *self, const char *path);
	/* Which symlinks are served (Python follows every one); the default serves a link
	 * only when its target lies inside directory. A refused link is a 404, logged. */
	enum hs_symlinks symlinks;
	/* Serve file.br or file.gz beside a requested file, as Accept-Encoding prefers, with
	 * Content-Encoding, the file's Content-Type and Vary: Accept-Encoding. A sibling
	 * older than the file is never used. Off by default (the bytes of a URL are its
	 * file's, as in Python); see README. */
	bool precompressed;
	struct hs__static_private *priv;  /* the library's: made by hs_static_init */
	/* Python 3.15's response_headers: pairs {"Name", "value", ..., NULL} added to the
	 * 200 (and 206) of a file and the 200 of a listing, after the other headers. A
	 * pair hs_send_header would refuse (CR or LF, a colon in the name) is never sent. */
	const char *const *response_headers;
	/* CORS: NULL off; {"*", NULL} Access-Control-Allow-Origin: * on every response;
	 * a list of origins {"http://a.example:8080", ..., NULL} echoes the request's Origin
	 * when it is one of them (ASCII case ignored), with Vary: Origin on every response.
	 * With CORS on, OPTIONS answers a preflight 204 (GET and HEAD allowed, and POST when
	 * base.do_POST is set), any other OPTIONS 204 with Allow; off, OPTIONS is a 501. */
	const char *const *cors_origins;
	/* spa: a GET or HEAD for a path that is neither a file nor a directory and whose
	 * last segment has no '.' is answered with the root's index page, and logged. */
	bool spa;
	bool no_cache;                    /* Cache-Control: no-cache on every response */
	/* The directory listing (README, "Listings"); the default is Python's page. */
	enum hs_listing listing;
	void *reserved[1];                /* zero: room for later fields */
};

/* SimpleHTTPRequestHandler(directory=...): directory NULL is the current directory.
 * Returns 0, or a negative errno when the directory cannot be opened. */
int hs_static_init(struct hs_static *st, const char *directory);
/* Releases what hs_static_init made; harmless on a zeroed struct, after a failed
 * hs_static_init, or a second time. */
void hs_static_fini(struct hs_static *st);
/* translate_path: the file path for a request target, relative to directory ("" for
 * the directory itself). Returns 0 or a negative errno (-ENAMETOOLONG, -EINVAL). */
int hs_static_translate_path(const struct hs_static *st, const char *path, char *out,
                             size_t out_size);
/* guess_type for a file name. The string lives as long as st. */
const char *hs_static_guess_type(const struct hs_static *st, const char *path);

/* ------------------------------------------------- CGIHTTPRequestHandler */

/* Runs scripts as Python's CGIHTTPRequestHandler does, and serves every other path as
 * hs_static. GET, HEAD and POST run a script; POST elsewhere is 501. The script gets
 * Python's environment (the server's own, taken at hs_cgi_init, minus HTTP_PROXY, plus
 * the CGI variables), the request body on stdin as it arrives, and runs as nobody when
 * the server runs as root. Unlike Python, its header block is read first: Status: sets
 * the status, Location: alone redirects (302), a block without Content-Type or that is
 * malformed gives 502, and the body is framed by the script's Content-Length, chunked
 * for HTTP/1.1, or by closing. stderr lines go to the log, a non-zero exit is logged,
 * and a script past the timeout is killed. Nothing blocks the worker: pipes and the
 * process are watched by its event loop. */
struct hs__cgi_private;
struct hs_cgi {
	struct hs_static base;
	/* cgi_directories: URL paths whose files are scripts. NULL: {"/cgi-bin", "/htbin",
	 * NULL}. */
	const char *const *cgi_directories;
	/* A script still running after this many milliseconds is killed with its process
	 * group and logged; one that has sent no header yet gets 504. 0: 60000. */
	int timeout_ms;
	/* SERVER_NAME. NULL: the server's numeric address; hs_cgi_server_bind sets
	 * Python's (socket.getfqdn of the bound address). */
	const char *server_name;
	/* is_cgi: whether path (the request target) names a script. Returns 1 and writes
	 * Python's cgi_info, "dir/rest" (the collapsed path, UTF-8), to info with the
	 * length of dir in *dir_len; 0 when it does not; a negative errno when the path is
	 * invalid (404). info_size is at least 3 * strlen(path) + 16. NULL: hs_cgi_is_cgi. */
	int (*is_cgi)(const struct hs_cgi *self, const char *path, char *info, size_t info_size,
	              size_t *dir_len);
	/* is_executable: NULL is access(path, X_OK), as Python. */
	bool (*is_executable)(const struct hs_cgi *self, const char *path);
	struct hs__cgi_private *priv; /* the library's: made by hs_cgi_init */
	void *reserved[4];            /* zero: room for later fields */
};

/* CGIHTTPRequestHandler(directory=...): hs_static_init, then the CGI slots. Returns 0,
 * or a negative errno. */
int hs_cgi_init(struct hs_cgi *cg, const char *directory);
/* Releases what hs_cgi_init made; harmless on a zeroed struct, after a failed
 * hs_cgi_init, or a second time. */
void hs_cgi_fini(struct hs_cgi *cg);
/* HTTPServer.server_bind's server_name: socket.getfqdn() of the address s is bound to,
 * for SERVER_NAME. May wait on name resolution: call it before serving. Returns 0, or
 * -EINVAL when cg was not initialised. */
int hs_cgi_server_bind(struct hs_cgi *cg, const struct hs_server *s);
/* The default is_cgi: _url_collapse_path, then the first directory prefix that is one
 * of cgi_directories. -EINVAL where Python raises IndexError ("/.." above the root). */
int hs_cgi_is_cgi(const struct hs_cgi *cg, const char *path, char *info, size_t info_size,
                  size_t *dir_len);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
