/*
 * mime.c: the Content-type of a file, as SimpleHTTPRequestHandler.guess_type gives it
 * (Python 3.13), but from a table that does not depend on the machine. The order is
 * Python's: the handler's own map (.gz .Z .bz2 .xz), then what mimetypes does with the
 * path (.tgz and friends stand for .tar.gz, a trailing .br is an encoding and is
 * skipped), then the built-in table below, then the additions read from a mime.types
 * file (which never override the built-in table), else application/octet-stream. A
 * table is immutable once made, so workers share it without locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OCTET_STREAM "application/octet-stream"
#define MAX_SYSTEM_FILE (16u << 20) /* a mime.types larger than this is ignored */

struct mime_pair {
	const char *ext; /* without the dot */
	const char *type;
};

/* The built-in table: CPython's strict table (3.13's types for .wav and .avi, which
 * 3.14 renamed; 3.14's additions such as fonts, .7z and office formats), and entries
 * marked "ours" that Python's strict table lacks. Sorted by byte order of ext for binary search;
 * hs__mime_new refuses to work if an edit breaks the order. */
static const struct mime_pair builtin[] = {
	{"3g2",         "audio/3gpp2"},
	{"3gp",         "audio/3gpp"},
	{"3gpp",        "audio/3gpp"},
	{"3gpp2",       "audio/3gpp2"},
	{"7z",          "application/x-7z-compressed"},
	{"a",           "application/octet-stream"},
	{"aac",         "audio/aac"},
	{"adts",        "audio/aac"},
	{"ai",          "application/postscript"},
	{"aif",         "audio/x-aiff"},
	{"aifc",        "audio/x-aiff"},
	{"aiff",        "audio/x-aiff"},
	{"apng",        "image/apng"}, /* ours */
	{"ass",         "audio/aac"},
	{"atom",        "application/atom+xml"}, /* ours */
	{"au",          "audio/basic"},
	{"avi",         "video/x-msvideo"},
	{"avif",        "image/avif"},
	{"bat",         "text/plain"},
	{"bcpio",       "application/x-bcpio"},
	{"bin",         "application/octet-stream"},
	{"bmp",         "image/bmp"},
	{"c",           "text/plain"},
	{"cdf",         "application/x-netcdf"},
	{"cpio",        "application/x-cpio"},
	{"csh",         "application/x-csh"},
	{"css",         "text/css"},
	{"csv",         "text/csv"},
	{"deb",         "application/x-debian-package"},
	{"dll",         "application/octet-stream"},
	{"doc",         "application/msword"},
	{"docx",        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{"dot",         "application/msword"},
	{"dvi",         "application/x-dvi"},
	{"emf",         "image/emf"},
	{"eml",         "message/rfc822"},
	{"eot",         "application/vnd.ms-fontobject"},
	{"eps",         "application/postscript"},
	{"epub",        "application/epub+zip"},
	{"etx",         "text/x-setext"},
	{"exe",         "application/octet-stream"},
	{"fits",        "image/fits"},
	{"flac",        "audio/flac"},
	{"flv",         "video/x-flv"}, /* ours */
	{"g3",          "image/g3fax"},
	{"gif",         "image/gif"},
	{"glb",         "model/gltf-binary"},
	{"gltf",        "model/gltf+json"},
	{"gtar",        "application/x-gtar"},
	{"gz",          "application/gzip"},
	{"h",           "text/plain"},
	{"h5",          "application/x-hdf5"},
	{"hdf",         "application/x-hdf"},
	{"heic",        "image/heic"},
	{"heif",        "image/heif"},
	{"htm",         "text/html"},
	{"html",        "text/html"},
	{"ico",         "image/vnd.microsoft.icon"},
	{"ics",         "text/calendar"}, /* ours */
	{"ief",         "image/ief"},
	{"jar",         "application/java-archive"}, /* ours */
	{"jp2",         "image/jp2"},
	{"jpe",         "image/jpeg"},
	{"jpeg",        "image/jpeg"},
	{"jpg",         "image/jpeg"},
	{"jpm",         "image/jpm"},
	{"jpx",         "image/jpx"},
	{"js",          "text/javascript"},
	{"json",        "application/json"},
	{"jsonld",      "application/ld+json"}, /* ours */
	{"jxl",         "image/jxl"}, /* ours */
	{"ksh",         "text/plain"},
	{"latex",       "application/x-latex"},
	{"loas",        "audio/aac"},
	{"log",         "text/plain"}, /* ours */
	{"m1v",         "video/mpeg"},
	{"m3u",         "application/vnd.apple.mpegurl"},
	{"m3u8",        "application/vnd.apple.mpegurl"},
	{"m4a",         "audio/mp4"},
	{"m4v",         "video/x-m4v"},
	{"man",         "application/x-troff-man"},
	{"map",         "application/json"}, /* ours */
	{"markdown",    "text/markdown"},
	{"md",          "text/markdown"},
	{"me",          "application/x-troff-me"},
	{"mht",         "message/rfc822"},
	{"mhtml",       "message/rfc822"},
	{"mid",         "audio/midi"}, /* ours */
	{"midi",        "audio/midi"}, /* ours */
	{"mif",         "application/x-mif"},
	{"mjs",         "text/javascript"},
	{"mk3d",        "video/matroska-3d"},
	{"mka",         "audio/matroska"},
	{"mkv",         "video/matroska"},
	{"mov",         "video/quicktime"},
	{"movie",       "video/x-sgi-movie"},
	{"mp2",         "audio/mpeg"},
	{"mp3",         "audio/mpeg"},
	{"mp4",         "video/mp4"},
	{"mpa",         "video/mpeg"},
	{"mpd",         "application/dash+xml"}, /* ours */
	{"mpe",         "video/mpeg"},
	{"mpeg",        "video/mpeg"},
	{"mpg",         "video/mpeg"},
	{"ms",          "application/x-troff-ms"},
	{"n3",          "text/n3"},
	{"nc",          "application/x-netcdf"},
	{"nq",          "application/n-quads"},
	{"nt",          "application/n-triples"},
	{"nws",         "message/rfc822"},
	{"o",           "application/octet-stream"},
	{"obj",         "application/octet-stream"},
	{"oda",         "application/oda"},
	{"odg",         "application/vnd.oasis.opendocument.graphics"},
	{"odp",         "application/vnd.oasis.opendocument.presentation"},
	{"ods",         "application/vnd.oasis.opendocument.spreadsheet"},
	{"odt",         "application/vnd.oasis.opendocument.text"},
	{"oga",         "audio/ogg"}, /* ours */
	{"ogg",         "audio/ogg"},
	{"ogv",         "video/ogg"},
	{"ogx",         "application/ogg"},
	{"opus",        "audio/opus"},
	{"otf",         "font/otf"},
	{"p12",         "application/x-pkcs12"},
	{"p7c",         "application/pkcs7-mime"},
	{"pbm",         "image/x-portable-bitmap"},
	{"pdf",         "application/pdf"},
	{"pfx",         "application/x-pkcs12"},
	{"pgm",         "image/x-portable-graymap"},
	{"php",         "application/x-httpd-php"},
	{"pl",          "text/plain"},
	{"png",         "image/png"},
	{"pnm",         "image/x-portable-anymap"},
	{"pot",         "application/vnd.ms-powerpoint"},
	{"ppa",         "application/vnd.ms-powerpoint"},
	{"ppm",         "image/x-portable-pixmap"},
	{"pps",         "application/vnd.ms-powerpoint"},
	{"ppt",         "application/vnd.ms-powerpoint"},
	{"pptx",        "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	{"ps",          "application/postscript"},
	{"pwz",         "application/vnd.ms-powerpoint"},
	{"py",          "text/x-python"},
	{"pyc",         "application/x-python-code"},
	{"pyo",         "application/x-python-code"},
	{"qt",          "video/quicktime"},
	{"ra",          "audio/x-pn-realaudio"},
	{"ram",         "application/x-pn-realaudio"},
	{"rar",         "application/vnd.rar"},
	{"ras",         "image/x-cmu-raster"},
	{"rdf",         "application/xml"},
	{"rgb",         "image/x-rgb"},
	{"roff",        "application/x-troff"},
	{"rpm",         "application/x-rpm"},
	{"rss",         "application/rss+xml"}, /* ours */
	{"rst",         "text/x-rst"},
	{"rtf",         "text/rtf"},
	{"rtx",         "text/richtext"},
	{"sgm",         "text/x-sgml"},
	{"sgml",        "text/x-sgml"},
	{"sh",          "application/x-sh"},
	{"shar",        "application/x-shar"},
	{"snd",         "audio/basic"},
	{"so",          "application/octet-stream"},
	{"src",         "application/x-wais-source"},
	{"srt",         "text/plain"},
	{"stl",         "model/stl"},
	{"sv4cpio",     "application/x-sv4cpio"},
	{"sv4crc",      "application/x-sv4crc"},
	{"svg",         "image/svg+xml"},
	{"swf",         "application/x-shockwave-flash"},
	{"t",           "application/x-troff"},
	{"t38",         "image/t38"},
	{"tar",         "application/x-tar"},
	{"tcl",         "application/x-tcl"},
	{"tex",         "application/x-tex"},
	{"texi",        "application/x-texinfo"},
	{"texinfo",     "application/x-texinfo"},
	{"tfx",         "image/tiff-fx"},
	{"tif",         "image/tiff"},
	{"tiff",        "image/tiff"},
	{"toml",        "application/toml"}, /* ours */
	{"tr",          "application/x-troff"},
	{"trig",        "application/trig"},
	{"tsv",         "text/tab-separated-values"},
	{"ttf",         "font/ttf"},
	{"txt",         "text/plain"},
	{"ustar",       "application/x-ustar"},
	{"vcf",         "text/x-vcard"},
	{"vtt",         "text/vtt"},
	{"wasm",        "application/wasm"},
	{"wav",         "audio/x-wav"},
	{"weba",        "audio/webm"},
	{"webm",        "video/webm"},
	{"webmanifest", "application/manifest+json"},
	{"webp",        "image/webp"},
	{"wiz",         "application/msword"},
	{"wmf",         "image/wmf"},
	{"wmv",         "video/x-ms-wmv"},
	{"woff",        "font/woff"},
	{"woff2",       "font/woff2"},
	{"wsdl",        "application/xml"},
	{"xbm",         "image/x-xbitmap"},
	{"xhtml",       "application/xhtml+xml"}, /* ours */
	{"xlb",         "application/vnd.ms-excel"},
	{"xls",         "application/vnd.ms-excel"},
	{"xlsx",        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"xml",         "text/xml"},
	{"xpdl",        "application/xml"},
	{"xpm",         "image/x-xpixmap"},
	{"xsl",         "application/xml"},
	{"xwd",         "image/x-xwindowdump"},
	{"yaml",        "application/yaml"},
	{"yml",         "application/yaml"},
	{"zip",         "application/zip"},
	{"zst",         "application/zstd"}, /* ours */
};

/* A mime.types addition; ext and type point into the file's text (both end in a NUL,
 * but ext_len is what counts). seq is the line order: a later line wins, as in
 * Python's dict. */
struct sys_entry {
	const char *ext;
	size_t ext_len;
	const char *type;
	size_t seq;
};

struct hs__mime {
	char *text; /* the mime.types file, tokens cut in place */
	struct sys_entry *sys;
	size_t n_sys;
};

/* ------------------------------------------------------------ lookups */

/* The next character of k at *i, lower-cased when fold is set the way Python's
 * str.lower() reaches ASCII: A-Z, and KELVIN SIGN (UTF-8 e2 84 aa) to 'k'. */
static unsigned char next_char(const char *k, size_t n, size_t *i, bool fold)
{
	unsigned char c = (unsigned char)k[(*i)++];
	if (!fold)
		return c;
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	if (c == 0xe2 && n - *i >= 2 && (unsigned char)k[*i] == 0x84 &&
	    (unsigned char)k[*i + 1] == 0xaa) {
		*i += 2;
		return 'k';
	}
	return c;
}

/* Orders key k (folded if asked) against e in byte order, shorter first on a tie. */
static int cmp_key(const char *k, size_t n, bool fold, const char *e, size_t e_len)
{
	size_t i = 0, j = 0;
	while (i < n && j < e_len) {
		unsigned char a = next_char(k, n, &i, fold), b = (unsigned char)e[j++];
		if (a != b)
			return a < b ? -1 : 1;
	}
	return (i < n) - (j < e_len);
}

/* The built-in type for the lower-cased key, or NULL. */
static const char *builtin_find(const char *k, size_t n)
{
	size_t lo = 0, hi = sizeof builtin / sizeof builtin[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(k, n, true, builtin[mid].ext, strlen(builtin[mid].ext));
		if (c == 0)
			return builtin[mid].type;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The addition for the lower-cased key, or NULL. As in Python, whose lookup lower-cases
 * the extension, an entry spelled with capitals ("AMR") is never found. */
static const char *system_find(const struct hs__mime *m, const char *k, size_t n)
{
	size_t lo = 0, hi = m ? m->n_sys : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(k, n, true, m->sys[mid].ext, m->sys[mid].ext_len);
		if (c == 0)
			return m->sys[mid].type;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A linear table matched exactly, then lower-cased, as Python tries its dicts. */
static const char *small_find(const struct mime_pair *t, size_t nt, const char *k, size_t n)
{
	for (int fold = 0; fold < 2; fold++)
		for (size_t i = 0; i < nt; i++)
			if (cmp_key(k, n, fold, t[i].ext, strlen(t[i].ext)) == 0)
				return t[i].type;
	return NULL;
}

/* posixpath.splitext of p[0..n): the offset of the extension's dot, or n when there is
 * none. The dot is the last one of the last component, unless only dots precede it
 * there (".bashrc" and "..x" have no extension; "a." has "."). */
static size_t ext_start(const char *p, size_t n)
{
	size_t comp = n, dot = n;
	while (comp > 0 && p[comp - 1] != '/')
		comp--;
	for (size_t i = n; i > comp && dot == n; i--)
		if (p[i - 1] == '.')
			dot = i - 1;
	for (size_t i = comp; i < dot; i++)
		if (p[i] != '.')
			return dot;
	return n;
}

const char *hs__mime_guess(const struct hs__mime *m, const char *path, size_t n)
{
	/* SimpleHTTPRequestHandler.extensions_map, with the dot, exact then lower-cased. */
	static const struct mime_pair handler_map[] = {{".gz", "application/gzip"},
	                                               {".Z", "application/octet-stream"},
	                                               {".bz2", "application/x-bzip2"},
	                                               {".xz", "application/x-xz"}};
	/* mimetypes.suffix_map, reduced to what is left once the compression suffix it
	 * introduces is taken off as an encoding: .tgz is .tar.gz, so it is a .tar. */
	static const struct mime_pair suffix_map[] = {{"svgz", "svg"}, {"tgz", "tar"},
	                                              {"taz", "tar"},   {"tz", "tar"},
	                                              {"tbz2", "tar"},  {"txz", "tar"}};
	size_t dot = ext_start(path, n);
	if (dot == n)
		return OCTET_STREAM;
	const char *t = small_find(handler_map, 4, path + dot, n - dot);
	if (t)
		return t;

	const char *k = path + dot + 1;
	size_t kn = n - dot - 1;
	const char *inner = small_find(suffix_map, 6, k, kn);
	if (inner) {
		k = inner, kn = strlen(inner);
	} else if (kn == 2 && memcmp(k, "br", 2) == 0) { /* encodings_map is case-sensitive */
		size_t d2 = ext_start(path, dot);
		if (d2 == dot)
			return OCTET_STREAM;
		k = path + d2 + 1, kn = dot - d2 - 1;
	}
	if ((t = builtin_find(k, kn)) || (t = system_find(m, k, kn)))
		return t;
	return OCTET_STREAM;
}

/* ------------------------------------------------------------ the system file */

/* Reads the whole file into b with a NUL after it. -ENOMEM, or another negative errno
 * when the file cannot be read (the caller then does without it). */
static int read_file(const char *path, struct hs__buf *b)
{
	FILE *f = hs__alloc_fails() ? (errno = ENOMEM, NULL) : fopen(path, "rbe");
	if (!f)
		return errno == ENOMEM ? -ENOMEM : -EIO;
	int rc = 0;
	for (;;) {
		if ((rc = hs__buf_reserve(b, 65536)) < 0)
			break;
		size_t got = fread(b->data + b->len, 1, 65536, f);
		b->len += got;
		if (got < 65536) {
			rc = ferror(f) ? -EIO : 0;
			break;
		}
		if (b->len > MAX_SYSTEM_FILE) {
			rc = -EFBIG;
			break;
		}
	}
	fclose(f);
	if (rc == 0)
		rc = hs__buf_append(b, "", 1);
	return rc;
}

/* Python's str.split() separators within a line (lines end at \n or \r, as text mode's
 * universal newlines make them). */
static bool word_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

/* A type goes out in a header: visible ASCII only, or the line is skipped. */
static bool type_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static int push_entry(struct hs__mime *m, size_t *cap, struct sys_entry e)
{
	if (m->n_sys == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct sys_entry *p = hs__realloc(m->sys, ncap * sizeof *p);
		if (!p)
			return -ENOMEM;
		m->sys = p, *cap = ncap;
	}
	m->sys[m->n_sys++] = e;
	return 0;
}

/* Cuts one line "type ext ext ... # comment" into entries. Words are NUL-terminated in
 * place (each is followed by a separator or by the text's final NUL). */
static int parse_line(struct hs__mime *m, size_t *cap, char *line, size_t n)
{
	const char *type = NULL;
	size_t i = 0;
	while (i < n) {
		while (i < n && word_space(line[i]))
			i++;
		if (i == n || line[i] == '#') /* a word starting with # ends the line */
			break;
		size_t start = i;
		while (i < n && !word_space(line[i]))
			i++;
		line[i] = '\0'; /* a separator, the line's end or the final NUL */
		if (!type) {
			if (!type_ok(line + start, i - start))
				return 0;
			type = line + start;
		} else {
			struct sys_entry e = {line + start, i - start, type, m->n_sys};
			int rc = push_entry(m, cap, e);
			if (rc < 0)
				return rc;
		}
		i++;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct sys_entry *x = a, *y = b;
	int c = cmp_key(x->ext, x->ext_len, false, y->ext, y->ext_len);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the entries for binary search, keeps the last line's type for an extension
 * named twice, and drops those the built-in table answers first anyway. */
static void settle_entries(struct hs__mime *m)
{
	size_t kept = 0;
	qsort(m->sys, m->n_sys, sizeof *m->sys, cmp_entry);
	for (size_t i = 0; i < m->n_sys; i++) {
		const struct sys_entry *e = &m->sys[i];
		bool superseded = i + 1 < m->n_sys &&
		                  cmp_key(e->ext, e->ext_len, false, e[1].ext, e[1].ext_len) == 0;
		if (!superseded && !builtin_find(e->ext, e->ext_len))
			m->sys[kept++] = *e;
	}
	m->n_sys = kept;
}

/* Fills m's additions from path; an unreadable file leaves m with none. */
static int load_system_file(struct hs__mime *m, const char *path)
{
	struct hs__buf b = {0};
	size_t cap = 0;
	int rc = read_file(path, &b);
	if (rc < 0) {
		hs__buf_free(&b);
		return rc == -ENOMEM ? rc : 0;
	}
	m->text = b.data; /* m owns it from here */
	size_t len = b.len - 1, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && m->text[i] != '\n' && m->text[i] != '\r')
			continue;
		if ((rc = parse_line(m, &cap, m->text + start, i - start)) < 0)
			return rc;
		start = i + 1;
	}
	settle_entries(m);
	return 0;
}

static bool builtin_sorted(void)
{
	for (size_t i = 1; i < sizeof builtin / sizeof builtin[0]; i++)
		if (strcmp(builtin[i - 1].ext, builtin[i].ext) >= 0)
			return false;
	return true;
}

int hs__mime_new(struct hs__mime **out, const char *system_file)
{
	*out = NULL;
	if (!builtin_sorted()) /* a bad edit of the table: fail every test, loudly */
		return -EINVAL;
	struct hs__mime *m = hs__calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	int rc = system_file ? load_system_file(m, system_file) : 0;
	if (rc < 0) {
		hs__mime_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void hs__mime_free(struct hs__mime *m)
{
	if (!m)
		return;
	free(m->sys);
	free(m->text);
	free(m);
}
