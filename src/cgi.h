/*
 * cgi.h: the pure pieces of the CGI handler, in cgi_text.c, shared by cgi.c and the unit
 * tests: Python's string functions the handler's behaviour depends on (unquote with its
 * UTF-8 'replace' decoding, _url_collapse_path, translate_path's words, the Basic
 * credentials of REMOTE_USER) and the parser of a script's header block (RFC 3875 6).
 * No I/O, no globals; results are appended to caller's buffers.
 */
#ifndef HS_CGI_H
#define HS_CGI_H

#include "internal.h"

/* ------------------------------------------------ Python's text functions */

/* Appends the UTF-8 of n latin-1 bytes (the way Python decodes request lines and
 * headers, and then writes them into the environment). */
int hs__latin1_to_utf8(struct hs__buf *out, const char *s, size_t n);
/* Appends n bytes of UTF-8 as latin-1, '?' for characters above U+00FF and NUL for
 * 0xff: for messages that go into a status line and the log, which take latin-1. */
int hs__utf8_to_latin1(struct hs__buf *out, const char *s, size_t n);
/* urllib.parse.unquote(s): each run of ASCII is percent-decoded and the bytes decoded
 * as UTF-8 with errors='replace' (one U+FFFD per maximal invalid subpart, as CPython);
 * other characters are kept. latin1: s is latin-1 text (a raw request target), else
 * UTF-8. Appends UTF-8 to out, except that a NUL is written as 0xff, a byte UTF-8 never
 * uses, so the result stays a C string and a decoded NUL is still seen (and refused). */
int hs__py_unquote(struct hs__buf *out, const char *s, size_t n, bool latin1);
/* http.server._url_collapse_path(target), target being latin-1: the path part unquoted,
 * "." and ".." resolved, empty words dropped, the query kept after "?". Appends UTF-8
 * and a NUL to out. Returns 0, -EINVAL where Python raises IndexError (".." above the
 * root), or -ENOMEM. */
int hs__cgi_collapse_path(struct hs__buf *out, const char *target, size_t n);
/* is_cgi's search in a collapsed path: the length of the first prefix that ends before
 * a "/" (after the first character) and is one of dirs (NULL-terminated); 0 if none. */
size_t hs__cgi_find_dir(const char *collapsed, const char *const *dirs);
/* SimpleHTTPRequestHandler.translate_path(path) for a UTF-8 path, as the words joined
 * under the directory: "?" and "#" cut, unquoted again, normalised (".." never above
 * the root). Appends "a/b" ("" for the root) and a NUL to rel; *trailing_slash tells
 * whether Python adds a final "/". */
int hs__cgi_translate(struct hs__buf *rel, const char *path, size_t n, bool *trailing_slash);
/* The user name of Basic credentials as run_cgi finds it: base64.decodebytes (lenient:
 * other characters skipped), ASCII only, exactly one ":". Appends it and a NUL to user
 * and returns true, or returns false when Python sets no REMOTE_USER. */
bool hs__cgi_basic_user(const char *b64, size_t n, struct hs__buf *user);

/* ------------------------------------------------- the script's header block */

#define HS__CGI_MAX_HEAD 65536 /* bytes of header block accepted from a script */
#define HS__CGI_MAX_FIELDS 100

struct hs__cgi_field {
	struct hs__span name, value;
};

struct hs__cgi_head {
	int status;               /* from Status:, 0 when absent */
	struct hs__span reason;   /* Status's reason phrase; empty when absent */
	long long content_length; /* -1 when absent */
	bool location;            /* a Location field is present */
	bool content_type;        /* a Content-Type field is present */
	size_t nfields;           /* the fields to pass on, in order: all but Status and the
	                             hop-by-hop ones (Connection, Keep-Alive,
	                             Transfer-Encoding, TE, Trailer, Upgrade) */
	struct hs__cgi_field fields[HS__CGI_MAX_FIELDS];
	const char *error;        /* why the block is malformed */
};

/* Parses the header block at the start of a script's output (lines ended by LF or
 * CR LF, up to an empty line). Returns the block's length with its empty line (> 0) and
 * fills h (spans into buf); 0 when more output is needed; -1 when malformed or larger
 * than HS__CGI_MAX_HEAD, with h->error saying why: a line without a colon or with a bad
 * name, a continuation line, a control character, a bad or repeated Status, a bad or
 * conflicting Content-Length, too many fields. */
long hs__cgi_parse_head(const char *buf, size_t len, struct hs__cgi_head *h);

#endif
