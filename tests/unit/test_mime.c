/*
 * test_mime.c: content types as SimpleHTTPRequestHandler.guess_type gives them, from
 * our machine-independent table: the extension as posixpath.splitext takes it, the
 * handler's own map, mimetypes' suffix and encoding rules, the built-in table, then a
 * mime.types file whose lines only add. The rows were checked against Python 3.11's
 * code (the same as 3.13's) given the same tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"

#define OCTET "application/octet-stream"

struct guess_case {
	const char *path;
	const char *want;
};

static const struct guess_case builtin_cases[] = {
	/* The extension: last dot of the last component, leading dots are no extension */
	{"index.html", "text/html"},
	{"/srv/www/index.html", "text/html"},
	{"FILE.HTML", "text/html"},
	{"a.b/c", OCTET},
	{"a.b/c.txt", "text/plain"},
	{"dir.html/", OCTET},
	{".hidden", OCTET},
	{".html", OCTET},
	{"...", OCTET},
	{"..html", OCTET},
	{"a.", OCTET},
	{"a..txt", "text/plain"},
	{".a.txt", "text/plain"},
	{"noext", OCTET},
	{"", OCTET},
	{"/", OCTET},
	{"x.unknown", OCTET},
	/* The handler's map first, exact then lower-cased: .Z is upper-case only */
	{"x.tar.gz", "application/gzip"},
	{"x.GZ", "application/gzip"},
	{"x.Z", "application/octet-stream"},
	{"x.z", OCTET},
	{"x.bz2", "application/x-bzip2"},
	{"x.BZ2", "application/x-bzip2"},
	{"x.xz", "application/x-xz"},
	/* mimetypes: .tgz means .tar.gz (a .tar), .svgz an .svg; .br is an encoding
	 * (case-sensitive) and the extension before it decides */
	{"x.tgz", "application/x-tar"},
	{"x.TGZ", "application/x-tar"},
	{"x.taz", "application/x-tar"},
	{"x.tz", "application/x-tar"},
	{"x.tbz2", "application/x-tar"},
	{"x.txz", "application/x-tar"},
	{"x.svgz", "image/svg+xml"},
	{"x.css.br", "text/css"},
	{"x.br", OCTET},
	{".css.br", OCTET},
	{"x.css.BR", OCTET},
	/* Lower-casing is str.lower(): KELVIN SIGN becomes k */
	{"x.m\xe2\x84\xaav", "video/matroska"},
	/* The web's types */
	{"app.js", "text/javascript"},
	{"app.mjs", "text/javascript"},
	{"x.json", "application/json"},
	{"x.wasm", "application/wasm"},
	{"x.css", "text/css"},
	{"x.htm", "text/html"},
	{"x.svg", "image/svg+xml"},
	{"x.xml", "text/xml"},
	{"x.md", "text/markdown"},
	{"x.csv", "text/csv"},
	{"x.map", "application/json"},
	{"x.webmanifest", "application/manifest+json"},
	{"x.ics", "text/calendar"},
	/* Documents and archives */
	{"x.pdf", "application/pdf"},
	{"x.epub", "application/epub+zip"},
	{"x.doc", "application/msword"},
	{"x.xls", "application/vnd.ms-excel"},
	{"x.ppt", "application/vnd.ms-powerpoint"},
	{"x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{"x.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"x.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	{"x.odt", "application/vnd.oasis.opendocument.text"},
	{"x.zip", "application/zip"},
	{"x.tar", "application/x-tar"},
	{"x.7z", "application/x-7z-compressed"},
	{"x.rar", "application/vnd.rar"},
	/* Images and fonts */
	{"x.png", "image/png"},
	{"x.jpg", "image/jpeg"},
	{"x.JPEG", "image/jpeg"},
	{"x.gif", "image/gif"},
	{"x.webp", "image/webp"},
	{"x.avif", "image/avif"},
	{"x.ico", "image/vnd.microsoft.icon"},
	{"x.bmp", "image/bmp"},
	{"x.tiff", "image/tiff"},
	{"x.woff", "font/woff"},
	{"x.woff2", "font/woff2"},
	{"x.ttf", "font/ttf"},
	{"x.otf", "font/otf"},
	{"x.eot", "application/vnd.ms-fontobject"},
	/* Sound and video: .wav and .avi keep 3.13's names */
	{"x.mp3", "audio/mpeg"},
	{"x.ogg", "audio/ogg"},
	{"x.oga", "audio/ogg"},
	{"x.wav", "audio/x-wav"},
	{"x.flac", "audio/flac"},
	{"x.m4a", "audio/mp4"},
	{"x.aac", "audio/aac"},
	{"x.opus", "audio/opus"},
	{"x.mp4", "video/mp4"},
	{"x.m4v", "video/x-m4v"},
	{"x.webm", "video/webm"},
	{"x.ogv", "video/ogg"},
	{"x.mov", "video/quicktime"},
	{"x.avi", "video/x-msvideo"},
	{"x.mkv", "video/matroska"},
};

static void check_guesses(const struct hs__mime *m, const struct guess_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK_STR(hs__mime_guess(m, c[i].path, strlen(c[i].path)), c[i].want);
}

static void test_builtin(void)
{
	struct hs__mime *m = NULL;
	size_t n = sizeof builtin_cases / sizeof builtin_cases[0];

	check_guesses(NULL, builtin_cases, n); /* no table object: built-in only */
	CHECK_INT(hs__mime_new(&m, NULL), 0);
	check_guesses(m, builtin_cases, n);
	hs__mime_free(m);
	/* The length rules, not a NUL: "x.html" cut to "x.ht" */
	CHECK_STR(hs__mime_guess(NULL, "x.html", 4), OCTET);
	CHECK_STR(hs__mime_guess(NULL, "x.htm\0l", 5), "text/html");
}

/* A mime.types file exercising Python's reading of it (MimeTypes.readfp). */
static const char system_text[] =
	"# a comment line\n"
	"text/x-one one two#x # three four\n" /* '#' starts a comment only at a word */
	"text/x-first dup\n"
	"application/x-second dup\n"     /* the later line wins */
	"\ttext/x-tabs\ttabs\vvt  \n"    /* any blank separates */
	"text/x-not-html html css\n"     /* never overrides the built-in table */
	"audio/AMR AMR\n"                /* Python lower-cases the key: never found */
	"text/x-cr cr\rtext/x-cr2 cr2\r" /* \r ends a line too */
	"text/\x01" "bad bad\n"          /* a type unfit for a header is skipped */
	"\n"
	"text/x-last last"; /* no final newline */

static const struct guess_case system_cases[] = {
	{"x.one", "text/x-one"},     {"x.two#x", "text/x-one"},  {"x.three", OCTET},
	{"x.four", OCTET},           {"x.dup", "application/x-second"},
	{"x.tabs", "text/x-tabs"},   {"x.vt", "text/x-tabs"},    {"x.html", "text/html"},
	{"x.css", "text/css"},       {"x.AMR", OCTET},           {"x.amr", OCTET},
	{"x.cr", "text/x-cr"},       {"x.cr2", "text/x-cr2"},    {"x.bad", OCTET},
	{"x.last", "text/x-last"},   {"x.LAST", "text/x-last"},  {"x.Last.br", "text/x-last"},
	{"x.unknown", OCTET},        {"x.tar.gz", "application/gzip"},
};

static void test_system_file(void)
{
	char path[] = "/tmp/test_mime_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, system_text, sizeof system_text - 1), sizeof system_text - 1);
	close(fd);

	struct hs__mime *m = NULL;
	CHECK_INT(hs__mime_new(&m, path), 0);
	check_guesses(m, system_cases, sizeof system_cases / sizeof system_cases[0]);
	check_guesses(m, builtin_cases, sizeof builtin_cases / sizeof builtin_cases[0]);
	hs__mime_free(m);
	unlink(path);
}

/* A file that is missing or cannot be read leaves the built-in table alone. */
static void test_unreadable(void)
{
	const char *paths[] = {"/nonexistent/mime.types", "/tmp", ""};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct hs__mime *m = NULL;
		CHECK_INT(hs__mime_new(&m, paths[i]), 0);
		CHECK(m != NULL);
		CHECK_STR(hs__mime_guess(m, "x.css", 5), "text/css");
		CHECK_STR(hs__mime_guess(m, "x.one", 5), OCTET);
		hs__mime_free(m);
	}
	hs__mime_free(NULL);
}

int main(void)
{
	test_builtin();
	test_system_file();
	test_unreadable();
	return check_done("test_mime");
}
