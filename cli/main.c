/*
 * main.c: the httpserve command, a drop-in for `python -m http.server`. It parses the
 * command line as Python's argparse would (same usage, messages and exit status 2),
 * serves the directory with the static handler (over HTTPS with --tls-cert, as Python
 * 3.14, or --tls-self-signed), prints Python's banner, turns SIGINT and SIGTERM into a
 * graceful stop and, with TLS, SIGHUP into a reload of the certificate. The only code in
 * the project that exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpserve.h"

static const char usage_line[] =
	"usage: httpserve [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [-q] [OPTIONS] [port]\n";

static const char help_text[] =
	"\n"
	"Serve a directory over HTTP, as python -m http.server does.\n"
	"\n"
	"positional arguments:\n"
	"  port                  bind to this port (default: 8000)\n"
	"\n"
	"options:\n"
	"  -h, --help            show this help message and exit\n"
	"  --cgi                 run as CGI server\n"
	"  -b ADDRESS, --bind ADDRESS\n"
	"                        bind to this address (default: all interfaces)\n"
	"  -d DIRECTORY, --directory DIRECTORY\n"
	"                        serve this directory (default: current directory)\n"
	"  -p VERSION, --protocol VERSION\n"
	"                        conform to this HTTP version (default: HTTP/1.0)\n"
	"  -q, --quiet           do not log each request (errors are still logged)\n"
	"  --tls-cert PATH       path to the TLS certificate chain file\n"
	"  --tls-key PATH        path to the TLS key file\n"
	"  --tls-password-file PATH\n"
	"                        path to the password file for the TLS key\n"
	"  --tls-self-signed     serve HTTPS with a throwaway self-signed certificate for\n"
	"                        localhost (its fingerprint is printed)\n"
	"  --workers N           worker threads, each with its own event loop\n"
	"                        (default: online CPUs; 1 serves as HTTPServer)\n"
	"  --header-timeout SECONDS\n"
	"                        time allowed to receive a request head (default: 60)\n"
	"  --body-timeout SECONDS\n"
	"                        time allowed between request body reads (default: 60)\n"
	"  --send-timeout SECONDS\n"
	"                        time allowed between response writes (default: 60)\n"
	"  --idle-timeout SECONDS\n"
	"                        keep-alive wait for the next request (default: 75)\n"
	"  --max-connections N   open connections at most; more get 503 (default: from\n"
	"                        the open-file limit)\n"
	"  --max-body BYTES      largest request body accepted (default: 67108864)\n"
	"  --cgi-timeout SECONDS\n"
	"                        time a CGI script may run before it is killed\n"
	"                        (default: 60)\n"
	"  --symlinks POLICY     inside: serve a symlink only when its target lies in the\n"
	"                        directory (default); follow: every symlink, as Python;\n"
	"                        deny: no symlink\n"
	"  --serve-precompressed, --no-serve-precompressed\n"
	"                        serve file.br or file.gz in place of file when the\n"
	"                        client accepts that encoding (default: off)\n"
	"  --listing STYLE       python: the directory listing of Python (default); rich:\n"
	"                        sizes, times, sorting, JSON; off: 404 without an index\n"
	"  --version             show the version and exit\n"
	"  -H HEADER, --header HEADER\n"
	"                        add a custom response header of the form Header: value\n"
	"                        to files and listings (can be given several times)\n"
	"  --cors                Access-Control-Allow-Origin: * on every response, and\n"
	"                        answer CORS preflight requests\n"
	"  --cors-origin ORIGIN  allow only this origin (can be given several times;\n"
	"                        implies --cors)\n"
	"  --spa                 answer a path with no file and no extension with\n"
	"                        index.html (single-page applications)\n"
	"  --no-cache            Cache-Control: no-cache on every response\n";

struct cli {
	struct hs_options opt;
	const char *directory;
	const char *protocol;
	const char *port;
	enum hs_symlinks symlinks;
	bool cgi;
	int cgi_timeout_ms;
	bool precompressed;
	enum hs_listing listing;
	const char *tls_password_file;
	char *tls_password;
	char tls_error[512];
	const char **header_args; /* -H values as given, NULL-terminated */
	const char **headers;     /* name, value pairs, NULL-terminated */
	const char **origins;     /* --cors-origin values, or {"*"} for --cors */
	size_t nheader_args, norigins;
	bool cors, spa, no_cache;
};

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "httpserve: %s: %s\n", what, detail);
	exit(1);
}

static void usage_error(const char *fmt, const char *a, const char *b)
{
	fputs(usage_line, stderr);
	fputs("httpserve: error: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(2);
}

/* ------------------------------------------------------------ option table */

enum opt_id {
	OPT_HELP, OPT_CGI, OPT_BIND, OPT_DIR, OPT_PROTO, OPT_QUIET, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_TLS_PASSWORD_FILE, OPT_TLS_SELF_SIGNED, OPT_WORKERS,
	OPT_HEADER_TO, OPT_BODY_TO, OPT_SEND_TO, OPT_IDLE_TO, OPT_MAXCONN, OPT_MAXBODY,
	OPT_SYMLINKS, OPT_CGI_TIMEOUT, OPT_PRECOMPRESSED, OPT_NO_PRECOMPRESSED, OPT_VERSION,
	OPT_HEADER, OPT_CORS, OPT_CORS_ORIGIN, OPT_SPA, OPT_NO_CACHE,
	OPT_LISTING,
};

struct opt_def {
	enum opt_id id;
	char shortname;
	const char *longname;
	const char *metavar; /* NULL: takes no value */
};

static const struct opt_def opts[] = {
	{OPT_HELP, 'h', "--help", NULL},
	{OPT_CGI, 0, "--cgi", NULL},
	{OPT_BIND, 'b', "--bind", "ADDRESS"},
	{OPT_DIR, 'd', "--directory", "DIRECTORY"},
	{OPT_PROTO, 'p', "--protocol", "VERSION"},
	{OPT_QUIET, 'q', "--quiet", NULL},
	{OPT_TLS_CERT, 0, "--tls-cert", "PATH"},
	{OPT_TLS_KEY, 0, "--tls-key", "PATH"},
	{OPT_TLS_PASSWORD_FILE, 0, "--tls-password-file", "PATH"},
	{OPT_TLS_SELF_SIGNED, 0, "--tls-self-signed", NULL},
	{OPT_WORKERS, 0, "--workers", "N"},
	{OPT_HEADER_TO, 0, "--header-timeout", "SECONDS"},
	{OPT_BODY_TO, 0, "--body-timeout", "SECONDS"},
	{OPT_SEND_TO, 0, "--send-timeout", "SECONDS"},
	{OPT_IDLE_TO, 0, "--idle-timeout", "SECONDS"},
	{OPT_MAXCONN, 0, "--max-connections", "N"},
	{OPT_MAXBODY, 0, "--max-body", "BYTES"},
	{OPT_SYMLINKS, 0, "--symlinks", "POLICY"},
	{OPT_CGI_TIMEOUT, 0, "--cgi-timeout", "SECONDS"},
	{OPT_PRECOMPRESSED, 0, "--serve-precompressed", NULL},
	{OPT_NO_PRECOMPRESSED, 0, "--no-serve-precompressed", NULL},
	{OPT_VERSION, 0, "--version", NULL},
	{OPT_HEADER, 'H', "--header", "HEADER"},
	{OPT_CORS, 0, "--cors", NULL},
	{OPT_CORS_ORIGIN, 0, "--cors-origin", "ORIGIN"},
	{OPT_SPA, 0, "--spa", NULL},
	{OPT_NO_CACHE, 0, "--no-cache", NULL},
	{OPT_LISTING, 0, "--listing", "STYLE"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* "-b/--bind", as argparse names an option in its messages */
static const char *opt_name(const struct opt_def *d)
{
	static char name[64];
	if (d->shortname)
		snprintf(name, sizeof name, "-%c/%s", d->shortname, d->longname);
	else
		snprintf(name, sizeof name, "%s", d->longname);
	return name;
}

/* argparse accepts any unambiguous prefix of a long option. */
static const struct opt_def *find_long(const char *arg, size_t len)
{
	const struct opt_def *hit = NULL;
	char candidates[512] = "";
	int nhits = 0;
	for (size_t i = 0; i < NOPTS; i++) {
		if (strncmp(opts[i].longname, arg, len) != 0)
			continue;
		if (strlen(opts[i].longname) == len)
			return &opts[i];
		hit = &opts[i];
		nhits++;
		snprintf(candidates + strlen(candidates), sizeof candidates - strlen(candidates),
		         "%s%s", nhits > 1 ? ", " : "", opts[i].longname);
	}
	if (nhits > 1) {
		char what[256];
		snprintf(what, sizeof what, "%.*s", (int)len, arg);
		usage_error("ambiguous option: %s could match %s", what, candidates);
	}
	return hit;
}

static const struct opt_def *find_short(char ch)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].shortname == ch)
			return &opts[i];
	return NULL;
}

/* ------------------------------------------------------------ values */

static long parse_int(const struct opt_def *d, const char *what, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (!*v || *end || errno)
		usage_error("argument %s: invalid int value: '%s'", d ? opt_name(d) : what, v);
	if (n < lo || n > hi)
		usage_error("argument %s: value out of range: '%s'", d ? opt_name(d) : what, v);
	return n;
}

static int parse_seconds(const struct opt_def *d, const char *v)
{
	char *end;
	double s = strtod(v, &end);
	if (!*v || *end || !isfinite(s) || s <= 0 || s > 86400 * 7)
		usage_error("argument %s: invalid seconds value: '%s'", opt_name(d), v);
	double ms = s * 1000;
	return ms < 1 ? 1 : (int)ms;
}

static void apply(struct cli *cli, const struct opt_def *d, const char *v)
{
	switch (d->id) {
	case OPT_HELP:
		fputs(usage_line, stdout);
		fputs(help_text, stdout);
		exit(0);
	case OPT_VERSION:
		printf("httpserve %s\n", HS_VERSION);
		exit(0);
	case OPT_CGI: cli->cgi = true; break;
	case OPT_CGI_TIMEOUT: cli->cgi_timeout_ms = parse_seconds(d, v); break;
	case OPT_BIND: cli->opt.host = v; break;
	case OPT_DIR: cli->directory = v; break;
	case OPT_PROTO:
		if (strcmp(v, "HTTP/1.0") != 0 && strcmp(v, "HTTP/1.1") != 0)
			usage_error("argument -p/--protocol: invalid choice: '%s' "
			            "(choose from 'HTTP/1.0', 'HTTP/1.1')%s", v, "");
		cli->protocol = v;
		break;
	case OPT_QUIET: cli->opt.quiet = true; break;
	case OPT_TLS_CERT:
		if (cli->opt.tls.self_signed)
			usage_error("argument %s: not allowed with argument %s", d->longname,
			            "--tls-self-signed");
		cli->opt.tls.cert_file = v;
		break;
	case OPT_TLS_KEY: cli->opt.tls.key_file = v; break;
	case OPT_TLS_PASSWORD_FILE: cli->tls_password_file = v; break;
	case OPT_TLS_SELF_SIGNED:
		if (cli->opt.tls.cert_file)
			usage_error("argument %s: not allowed with argument %s", d->longname,
			            "--tls-cert");
		cli->opt.tls.self_signed = true;
		break;
	case OPT_PRECOMPRESSED: cli->precompressed = true; break;
	case OPT_NO_PRECOMPRESSED: cli->precompressed = false; break;
	case OPT_SYMLINKS:
		if (strcmp(v, "inside") == 0)
			cli->symlinks = HS_SYMLINKS_INSIDE;
		else if (strcmp(v, "follow") == 0)
			cli->symlinks = HS_SYMLINKS_FOLLOW;
		else if (strcmp(v, "deny") == 0)
			cli->symlinks = HS_SYMLINKS_DENY;
		else
			usage_error("argument --symlinks: invalid choice: '%s' "
			            "(choose from 'inside', 'follow', 'deny')%s", v, "");
		break;
	case OPT_LISTING:
		if (strcmp(v, "python") == 0)
			cli->listing = HS_LISTING_PYTHON;
		else if (strcmp(v, "rich") == 0)
			cli->listing = HS_LISTING_RICH;
		else if (strcmp(v, "off") == 0)
			cli->listing = HS_LISTING_OFF;
		else
			usage_error("argument --listing: invalid choice: '%s' "
			            "(choose from 'python', 'rich', 'off')%s", v, "");
		break;
	case OPT_WORKERS: cli->opt.workers = (int)parse_int(d, NULL, v, 1, 1024); break;
	case OPT_HEADER_TO: cli->opt.header_timeout_ms = parse_seconds(d, v); break;
	case OPT_BODY_TO: cli->opt.body_timeout_ms = parse_seconds(d, v); break;
	case OPT_SEND_TO: cli->opt.send_timeout_ms = parse_seconds(d, v); break;
	case OPT_IDLE_TO: cli->opt.idle_timeout_ms = parse_seconds(d, v); break;
	case OPT_MAXCONN: cli->opt.max_connections = (int)parse_int(d, NULL, v, 1, 10000000); break;
	case OPT_MAXBODY: cli->opt.max_body = parse_int(d, NULL, v, 1, LONG_MAX); break;
	case OPT_HEADER: cli->header_args[cli->nheader_args++] = v; break;
	case OPT_CORS: cli->cors = true; break;
	case OPT_CORS_ORIGIN: cli->origins[cli->norigins++] = v; break;
	case OPT_SPA: cli->spa = true; break;
	case OPT_NO_CACHE: cli->no_cache = true; break;
	}
}

/* ------------------------------------------------------------ TLS arguments */

/* Python's repr() of a file name, as an OSError message shows it. */
static void py_repr(char *out, size_t size, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	size_t n = 0;
	out[n++] = q;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 6 < size; p++) {
		if (*p == '\\' || *p == q)
			n += (size_t)snprintf(out + n, size - n, "\\%c", *p);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			n += (size_t)snprintf(out + n, size - n, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
		else if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", *p);
		else
			out[n++] = (char)*p;
	}
	out[n++] = q;
	out[n] = 0;
}

static void password_file_error(const char *path, int err, bool with_name)
{
	char name[PATH_MAX * 4 + 3] = "", detail[sizeof name + 128];
	py_repr(name, sizeof name, path);
	snprintf(detail, sizeof detail, "[Errno %d] %s%s%s", err, strerror(err),
	         with_name ? ": " : "", with_name ? name : "");
	usage_error("Failed to read TLS password file: %s%s", detail, "");
}

/* One code point of strict UTF-8 at s[0..n): its length, or 0 with why it is not. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp, const char **why)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 :
	             s[0] < 0xf5 ? 4 : 0;
	*why = "invalid start byte";
	if (len == 0)
		return 0;
	*cp = len == 1 ? s[0] : s[0] & (0x7f >> len);
	/* the second byte's range rules out overlong forms, surrogates and past U+10FFFF */
	unsigned char lo = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = s[0] == 0xed ? 0x9f : s[0] == 0xf4 ? 0x8f : 0xbf;
	for (size_t i = 1; i < len; i++) {
		*why = i >= n ? "unexpected end of data" : "invalid continuation byte";
		if (i >= n || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

/* str.isspace(), as str.strip() uses it */
static bool py_space(unsigned cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 ||
	       cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* open(path, encoding="utf-8").read().strip(): text mode turns \r\n and \r into \n. */
static char *py_text_strip(char *data, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\r' && i + 1 < n && data[i + 1] == '\n')
			continue;
		data[m++] = data[i] == '\r' ? '\n' : data[i];
	}
	size_t start = m, end = 0, len;
	unsigned cp = 0;
	const char *why;
	for (size_t i = 0; i < m; i += len) {
		len = utf8_next((unsigned char *)data + i, m - i, &cp, &why);
		if (len == 0) {
			char detail[128];
			snprintf(detail, sizeof detail, "'utf-8' codec can't decode byte 0x%02x in "
			         "position %zu: %s", (unsigned char)data[i], i, why);
			free(data); /* exiting, but leak checkers count what is left */
			usage_error("Failed to read TLS password file: %s%s", detail, "");
		}
		if (!py_space(cp)) {
			start = start < i ? start : i;
			end = i + len;
		}
	}
	if (memchr(data, 0, m) && (free(data), true))
		usage_error("Failed to read TLS password file: %s%s", "the password holds a NUL byte",
		            "");
	memmove(data, data + (start < end ? start : 0), start < end ? end - start : 0);
	data[start < end ? end - start : 0] = 0;
	return data;
}

static char *read_password_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		password_file_error(path, errno, true);
	if (S_ISDIR(st.st_mode))
		password_file_error(path, EISDIR, true);
	char *data = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 1 >= cap) {
			char *more = realloc(data, cap = cap ? cap * 2 : 256);
			if (!more && (free(data), true))
				password_file_error(path, ENOMEM, false);
			data = more;
		}
		ssize_t got = read(fd, data + n, cap - n - 1);
		if (got == 0)
			break;
		if (got < 0 && errno != EINTR) {
			int err = errno;
			free(data);
			password_file_error(path, err, false);
		}
		n += got > 0 ? (size_t)got : 0;
	}
	close(fd);
	return py_text_strip(data, n);
}

/* Python's checks after parsing, in its order. */
static void check_tls_args(struct cli *cli)
{
	struct hs_tls_options *t = &cli->opt.tls;
	if (!t->cert_file && t->key_file)
		usage_error("--tls-key requires --tls-cert to be set%s%s", "", "");
	if (cli->tls_password_file) {
		if (!t->cert_file)
			usage_error("--tls-password-file requires --tls-cert to be set%s%s", "", "");
		t->password = cli->tls_password = read_password_file(cli->tls_password_file);
	}
	t->error = cli->tls_error;
	t->error_size = sizeof cli->tls_error;
}

/* ------------------------------------------------------------ response headers */

/* str.strip(): the ASCII whitespace Python strips (and its \x1c-\x1f separators). */
static char *py_strip(char *s)
{
	while (*s && (strchr(" \t\n\r\v\f", *s) || (*s >= 0x1c && *s <= 0x1f)))
		s++;
	size_t n = strlen(s);
	while (n && (strchr(" \t\n\r\v\f", s[n - 1]) || (s[n - 1] >= 0x1c && s[n - 1] <= 0x1f)))
		s[--n] = '\0';
	return s;
}

/* -H "Name: value" as Python 3.15 splits it (at the first colon, both sides stripped),
 * with its messages; a name or value hs_send_header would refuse (CR or LF left inside)
 * is a usage error too, never sent. */
/* Splits one -H argument into pair[0] and pair[1], which point into a copy of arg that
 * the caller frees (returned). */
static char *parse_header_arg(const char *arg, const char **pair)
{
	char *copy = strdup(arg);
	if (!copy)
		fail("cannot parse the arguments", strerror(ENOMEM));
	char *colon = strchr(copy, ':');
	if (!colon)
		usage_error("Header %s must be of the form Header: value%s", arg, "");
	*colon = '\0';
	char *name = py_strip(copy), *value = py_strip(colon + 1);
	if (!*name)
		usage_error("Header %s must have a non-empty name%s", arg, "");
	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n")) {
		char shown[1024];
		py_repr(shown, sizeof shown, arg);
		usage_error("argument -H/--header: invalid header %s: %s", shown,
		            "a name or value holds CR or LF");
	}
	pair[0] = name;
	pair[1] = value;
	return copy;
}

/* What parse_args allocated for -H, --cors and --cors-origin (leak checkers count what is
 * left at exit). */
static void free_header_settings(struct cli *cli)
{
	for (size_t i = 0; i < cli->nheader_args; i++)
		free((char *)cli->header_args[i]);
	free(cli->header_args);
	free(cli->headers);
	free(cli->origins);
}

/* One option word at argv[*i]; returns false if it is not an option. */
static void parse_option(struct cli *cli, int argc, char **argv, int *i, char *extra,
                         size_t extra_size)
{
	char *arg = argv[*i];
	const struct opt_def *d;
	const char *inline_value = NULL;
	if (arg[1] == '-') {
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		d = find_long(arg, len);
		if (eq)
			inline_value = eq + 1;
	} else {
		d = find_short(arg[1]);
		if (d && arg[2])
			inline_value = arg + 2;
	}
	if (!d || (!d->metavar && inline_value && arg[1] != '-')) {
		snprintf(extra + strlen(extra), extra_size - strlen(extra), "%s%s", *extra ? " " : "", arg);
		return;
	}
	if (!d->metavar) {
		if (inline_value)
			usage_error("argument %s: ignored explicit argument '%s'", opt_name(d), inline_value);
		apply(cli, d, NULL);
		return;
	}
	if (!inline_value) {
		if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1]))
			usage_error("argument %s: expected one argument%s", opt_name(d), "");
		inline_value = argv[++*i];
	}
	apply(cli, d, inline_value);
}

static void parse_args(struct cli *cli, int argc, char **argv)
{
	char extra[1024] = "";
	bool only_positional = false;
	/* each option word adds at most one of these; the rest stay NULL, the terminator */
	cli->header_args = calloc((size_t)argc + 1, sizeof *cli->header_args);
	cli->headers = calloc(2 * (size_t)argc + 1, sizeof *cli->headers);
	cli->origins = calloc((size_t)argc + 2, sizeof *cli->origins);
	if (!cli->header_args || !cli->headers || !cli->origins)
		fail("cannot parse the arguments", strerror(ENOMEM));
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		if (!only_positional && strcmp(arg, "--") == 0) {
			only_positional = true;
		} else if (!only_positional && arg[0] == '-' && arg[1]) {
			parse_option(cli, argc, argv, &i, extra, sizeof extra);
		} else if (!cli->port) {
			cli->port = arg;
			parse_int(NULL, "port", arg, 0, 65535);
		} else {
			snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s%s",
			         *extra ? " " : "", arg);
		}
	}
	if (*extra)
		usage_error("unrecognized arguments: %s%s", extra, "");
	check_tls_args(cli);
	for (size_t i = 0; i < cli->nheader_args; i++) /* the copy replaces the argument */
		cli->header_args[i] = parse_header_arg(cli->header_args[i], &cli->headers[2 * i]);
	if (cli->cors && cli->norigins == 0)
		cli->origins[0] = "*";
}

/* ------------------------------------------------------------ running */

static struct hs_server *running;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	if (stop_signal) {
		/* a second signal: stop waiting for responses in flight */
		static const char msg[] = "\nKeyboard interrupt received, exiting.\n";
		if (sig == SIGINT && write(1, msg, sizeof msg - 1) < 0) {
		}
		_exit(0);
	}
	stop_signal = sig;
	if (running)
		hs_server_shutdown(running);
}

static void raise_file_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The CGI handler. Python's directory defaults to os.getcwd(), which scripts see in
 * PATH_TRANSLATED, so the current directory is spelled out when -d is not given. */
static int init_cgi(struct hs_cgi *cgi, const struct cli *cli)
{
	static char cwd[PATH_MAX];
	const char *dir = cli->directory;
	if (!dir)
		dir = getcwd(cwd, sizeof cwd) ? cwd : ".";
	int rc = hs_cgi_init(cgi, dir);
	if (rc == 0)
		cgi->timeout_ms = cli->cgi_timeout_ms;
	return rc;
}

/* The directory must exist and be readable, or the command stops with one line. */
static void check_directory(const char *dir)
{
	char what[PATH_MAX + 64];
	snprintf(what, sizeof what, "cannot serve directory '%s'", dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		fail(what, strerror(errno));
	close(dfd);
	if (access(dir, R_OK | X_OK) < 0)
		fail(what, strerror(errno));
}

/* SIGHUP stays blocked in every thread (the workers inherit the mask) until
 * start_reloads decides what it means. */
static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
}

/* ------------------------------------------------------------ SIGHUP: reload */

static pthread_t reload_thread;
static bool reload_started;
static int reload_stop; /* atomic: set when serving is over */

/* One line on stderr in one write, as log lines are. */
static void log_line(const char *fmt, const char *arg)
{
	char line[1024];
	int n = snprintf(line, sizeof line, fmt, arg);
	if (n >= (int)sizeof line)
		n = sizeof line - 1, line[n - 1] = '\n';
	if (n > 0 && write(2, line, (size_t)n) < 0) {
	}
}

/* A thread that waits for SIGHUP and reloads the certificate, outside any signal
 * handler; a SIGHUP sent with reload_stop set ends it. */
static void *reload_on_sighup(void *arg)
{
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	(void)arg;
	for (;;) {
		int sig;
		if (sigwait(&hup, &sig) != 0)
			continue;
		if (__atomic_load_n(&reload_stop, __ATOMIC_SEQ_CST))
			return NULL;
		char why[512] = "";
		if (hs_server_reload_tls(running, why, sizeof why) < 0)
			log_line("httpserve: TLS reload failed: %s\n", why);
		else
			log_line("%s\n", "TLS certificate reloaded");
	}
}

/* With TLS, SIGHUP reloads the certificate; without, it is ignored. */
static void start_reloads(void)
{
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (hs_server_is_tls(running)) {
		reload_started = pthread_create(&reload_thread, NULL, reload_on_sighup, NULL) == 0;
		if (!reload_started)
			fail("cannot start the TLS reload thread", strerror(errno));
		return;
	}
	signal(SIGHUP, SIG_IGN);
	pthread_sigmask(SIG_UNBLOCK, &hup, NULL);
}

static void stop_reloads(void)
{
	if (!reload_started)
		return;
	__atomic_store_n(&reload_stop, 1, __ATOMIC_SEQ_CST);
	pthread_kill(reload_thread, SIGHUP);
	pthread_join(reload_thread, NULL);
	reload_started = false;
}

/* Listens, or stops with Python-like wording for the two usual failures. */
static void start_listening(struct cli *cli, const struct hs_handler *h)
{
	int rc = hs_server_new(&running, &cli->opt, h);
	if (rc >= 0)
		return;
	if (cli->tls_error[0]) {
		fprintf(stderr, "httpserve: %s\n", cli->tls_error);
		exit(1);
	}
	char what[512];
	bool unresolved = rc == -ENOENT || rc == -EAGAIN;
	if (unresolved)
		snprintf(what, sizeof what, "cannot resolve address '%s'", cli->opt.host);
	else
		snprintf(what, sizeof what, "cannot listen on %s port %s",
		         cli->opt.host ? cli->opt.host : "::", cli->port ? cli->port : "8000");
	/* the resolver's own words, as Python's socket.gaierror shows them */
	fail(what, rc == -ENOENT   ? "Name or service not known"
	           : rc == -EAGAIN ? "Temporary failure in name resolution"
	                           : strerror(-rc));
}

/* Python's banner; for a self-signed certificate, its fingerprint under it, so that a
 * client can check what it is about to trust. */
static void print_banner(const struct cli *cli)
{
	char host[64];
	int port;
	hs_server_address(running, host, sizeof host, &port);
	const char *lb = strchr(host, ':') ? "[" : "", *rb = *lb ? "]" : "";
	bool tls = hs_server_is_tls(running);
	printf("Serving %s on %s port %d (%s://%s%s%s:%d/) ...\n", tls ? "HTTPS" : "HTTP", host,
	       port, tls ? "https" : "http", lb, host, rb, port);
	char fp[96];
	if (cli->opt.tls.self_signed && hs_server_tls_fingerprint(running, fp) == 0)
		printf("Certificate SHA-256 fingerprint: %s\n", fp);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	parse_args(&cli, argc, argv);
	const char *dir = cli.directory ? cli.directory : ".";
	check_directory(dir);
	raise_file_limit();

	/* --cgi: CGIHTTPRequestHandler; else its static part alone, SimpleHTTPRequestHandler */
	struct hs_cgi cgi;
	struct hs_static *st = &cgi.base;
	int rc = cli.cgi ? init_cgi(&cgi, &cli) : hs_static_init(st, dir);
	if (rc < 0)
		fail("cannot serve directory", strerror(-rc));
	st->base.protocol_version = cli.protocol;
	st->symlinks = cli.symlinks;
	st->precompressed = cli.precompressed;
	st->response_headers = cli.nheader_args ? cli.headers : NULL;
	st->cors_origins = cli.cors || cli.norigins ? cli.origins : NULL;
	st->spa = cli.spa;
	st->no_cache = cli.no_cache;
	st->listing = cli.listing;
	cli.opt.port = cli.port;

	install_signals();
	start_listening(&cli, &st->base);
	if (cli.cgi)
		hs_cgi_server_bind(&cgi, running); /* SERVER_NAME, as HTTPServer.server_bind */
	start_reloads();
	print_banner(&cli);

	rc = hs_server_serve_forever(running);
	stop_reloads();
	if (stop_signal == SIGINT) {
		printf("\nKeyboard interrupt received, exiting.\n");
		fflush(stdout);
	}
	hs_server_close(running);
	running = NULL;
	if (cli.cgi)
		hs_cgi_fini(&cgi);
	else
		hs_static_fini(st);
	if (cli.tls_password)
		explicit_bzero(cli.tls_password, strlen(cli.tls_password));
	free(cli.tls_password);
	free_header_settings(&cli);
	if (rc < 0)
		fail("cannot serve", strerror(-rc));
	return 0;
}
