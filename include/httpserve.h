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
 */
#ifndef HTTPSERVE_H
#define HTTPSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HS_VERSION "0.1.0"

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
	const struct hs_header *headers;
	size_t nheaders;
	const char *client_address;   /* bare IP, as address_string() */
	int client_port;
	long long content_length;     /* the body's length (0 when there is none) */
};

typedef int hs_method_fn(const struct hs_handler *self, struct hs_conn *c,
                         const struct hs_request *req);

/* BaseHTTPRequestHandler. A NULL slot or string is Python's default. A slot returns 0,
 * or a negative value to drop the connection after what it queued is sent. A slot never
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
	/* Receives every log message (already formatted, not yet escaped). NULL writes
	 * Python's line "ADDR - - [date] MESSAGE" to the server's log. */
	void (*log_message)(const struct hs_handler *self, struct hs_conn *c,
	                    const char *message);
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
};

/* Creates a server listening as o says (NULL: defaults), answering with handler h,
 * which must outlive it. Returns 0 and *out, or a negative errno: -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES from bind; -ENOENT when the host does not resolve. */
int hs_server_new(struct hs_server **out, const struct hs_options *o,
                  const struct hs_handler *h);
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

/* ------------------------------------------------------- the request side */

/* The value of the first header named name (case-insensitive), or NULL. */
const char *hs_header(const struct hs_request *r, const char *name);
/* rfile.read: copies up to len bytes of the request body (already received and
 * de-chunked); returns the count, 0 at the end. */
long hs_read_body(struct hs_conn *c, void *buf, size_t len);

/* ------------------------------------------------------ the response side */

/* send_response: logs the request (log_request) and queues the status line, Server and
 * Date. message NULL: the standard reason phrase. */
int hs_send_response(struct hs_conn *c, int code, const char *message);
/* send_response_only: the status line alone, unlogged. */
int hs_send_response_only(struct hs_conn *c, int code, const char *message);
/* send_header: "Connection: close" / "keep-alive" also set close_connection. */
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
 * another fd while one is queued is -EBUSY. If the file shrinks meanwhile, the
 * connection is closed after what exists. */
int hs_send_file(struct hs_conn *c, int fd, long long offset, long long length);

/* close_connection */
bool hs_close_connection(const struct hs_conn *c);
void hs_set_close_connection(struct hs_conn *c, bool close);

/* ------------------------------------------------------------- logging */

/* log_request: "REQUESTLINE" CODE SIZE (size "-" when NULL). Silent when quiet. */
void hs_log_request(struct hs_conn *c, int code, const char *size);
/* log_error and log_message: printf-style, passed to the handler's log_message. */
void hs_log_error(struct hs_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hs_log_message(struct hs_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* ----------------------------------------------- SimpleHTTPRequestHandler */

struct hs_static;

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
	/* Which symlinks are served (SPEC 2); the default serves a link only when its
	 * target lies inside directory. A refused link is a 404, logged. */
	enum hs_symlinks { HS_SYMLINKS_INSIDE, HS_SYMLINKS_FOLLOW, HS_SYMLINKS_DENY } symlinks;
	/* Serve file.br or file.gz beside a requested file, as Accept-Encoding prefers, with
	 * Content-Encoding, the file's Content-Type and Vary: Accept-Encoding. A sibling
	 * older than the file is never used. Off by default (the bytes of a URL are its
	 * file's, as in Python); see README. */
	bool precompressed;
	/* private, owned by hs_static_init / hs_static_fini */
	int root_fd;
	char *root_real;
	struct hs__mime *mime;
};

/* SimpleHTTPRequestHandler(directory=...): directory NULL is the current directory.
 * Returns 0, or a negative errno when the directory cannot be opened. */
int hs_static_init(struct hs_static *st, const char *directory);
void hs_static_fini(struct hs_static *st);
/* translate_path: the file path for a request target, relative to directory ("" for
 * the directory itself). Returns 0 or a negative errno (-ENAMETOOLONG, -EINVAL). */
int hs_static_translate_path(const struct hs_static *st, const char *path, char *out,
                             size_t out_size);
/* guess_type for a file name. The string lives as long as st. */
const char *hs_static_guess_type(const struct hs_static *st, const char *path);

#ifdef __cplusplus
}
#endif
#endif
