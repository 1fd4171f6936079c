"""test_differential.py: httpserve against `python3 -m http.server`, byte for byte.

Each test sends the same bytes to both servers, which serve the same document root, and compares
what comes back: status lines, header lines (names, order, case and values; the values of Date
and Server masked, Last-Modified compared), bodies, and log lines with the time masked. Where
httpserve differs on purpose, the difference is one named entry of KNOWN_DIFFERENCES, applied as a
transformation of the responses before the comparison, never by skipping it. With
--reference-only, python3 plays both parts and no known difference is applied: every exchange
must then match exactly, which checks the suite itself.
"""

import email.utils
import html
import http
import http.server
import posixpath
import re
import unittest
import urllib.parse

import harness
from harness import get, request

# ----------------------------------------------------------------- known differences
#
# name: what differs and how the transformation bridges it.
# Each transformation is a function of the same name in lower case, below.
KNOWN_DIFFERENCES = {
    "SERVER_HEADER": (
        "Server is httpserve/<version>, not SimpleHTTP/0.6 Python/3.x. The value is masked on "
        "both sides in every comparison; ours must read httpserve/N.N.N."),
    "EARLY_ERROR_HEAD": (
        "An error found before the version is known (bad version word, version 2.0 or more, "
        "wrong word count, a two-word request other than GET) gets a full HTTP/1.0 response; "
        "Python sends the bare error page. The reference's bare page is given the status "
        "line and headers Python's send_error writes once it knows the version."),
    "REASON_PHRASES_3_13": (
        "The reference here is Python 3.11, which names 413, 414, 416 and 422 as before "
        "RFC 9110; its phrases and explanations are renamed to 3.13's in status lines, error "
        "pages and log lines."),
    "LISTING_TITLE_WITHOUT_QUERY": (
        "A listing's title and h1 show the URL path without query or fragment (Python 3.14); "
        "Python 3.11 shows them, so they are cut from the reference's title and h1."),
    "BUILTIN_MIME_TABLE": (
        "The extensions in BUILTIN_MIME_TYPES take their type from our built-in table, not "
        "from this machine's mimetypes; the reference's Content-type is set to that value."),
    "STRICT_FRAMING": (
        "An HTTP/1.1 request without Host, or any request with a Host value that is not "
        "uri-host [\":\" port], is 400 for us; Python serves it. The reference's "
        "answer is replaced by the 400 response Python's send_error writes, with our message."),
    "REQUEST_LINE_GARBAGE": (
        "A request line holding a control byte other than HTAB (NUL, CR, VT, ESC, DEL...), "
        "or whose first word begins with a byte no method begins with, is 400 \"Bad request "
        "syntax (%r)\" as a full HTTP/1.0 response; Python serves it, splits words on VT, FF "
        "and 0x1c-0x1f, answers 501, or drops the connection on a NUL. The reference's "
        "answer is replaced by the response Python's send_error writes for that message."),
    "ABSOLUTE_FORM": (
        "An http or https absolute-form target (GET http://host/a.txt) is served as its path "
        "(RFC 9112 3.2.2); Python answers 404. Bridged on the request side: the reference is "
        "sent the origin-form target, ours the absolute form, and the responses compared."),
    "SYMLINK_INSIDE": (
        "A symlink resolving outside the root is 404 for us (--symlinks inside); Python "
        "follows it. The reference's answer is replaced by the 404 response Python's "
        "send_error writes, with our message."),
    "FILE_VALIDATORS": (
        "A file's 200 (GET or HEAD) carries ETag (strong, \"INODE-SIZE-SECONDS.NANOSECONDS\") and "
        "Accept-Ranges: bytes right after Python's Last-Modified, and a 304 carries "
        "Last-Modified and ETag (RFC 9110 15.4.5); Python sends none of them. The lines are "
        "added to the reference where they are due, with our ETag once its size and seconds "
        "are checked against the response and the file's mtime."),
    "CLOSE_ANNOUNCED": (
        "A server speaking HTTP/1.1 that closes because the request said so (Connection: "
        "close, or HTTP/1.0 without keep-alive) adds Connection: close as the last header "
        "line (RFC 9112 9.6 SHOULD); Python adds nothing. The line is added to the "
        "reference's response to such a request when it has no Connection header."),
    "BANNER_HOST_WITHOUT_BIND": (
        "With no -b we listen on :: dual stack and the banner says ::, where Python shows "
        "its first getaddrinfo answer. Not exercised: these tests never listen beyond "
        "loopback, so every server is given -b."),
}

# Applied to every exchange; each is a no-op where its condition does not hold. The others
# are named by the exchanges that expect them.
ALWAYS = ("SERVER_HEADER", "REASON_PHRASES_3_13", "LISTING_TITLE_WITHOUT_QUERY",
          "BUILTIN_MIME_TABLE", "FILE_VALIDATORS", "CLOSE_ANNOUNCED")

# Not a difference of httpserve but of how the reference must be asked: Python before 3.13.9
# reads header lines after an HTTP/0.9 request line (3.13.9 and later read none), so the
# python3 side (in --reference-only runs both sides) is sent an empty line after it. No
# headers are read for HTTP/0.9; the empty line is harmless to a server that reads none.
HTTP09_EMPTY_LINE_FOR_PYTHON = b"\r\n"

# Our built-in types for extensions where this machine's table may say otherwise.
BUILTIN_MIME_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
}

# CPython 3.13's names for the codes it renamed after RFC 9110: (phrase, explanation).
RFC9110_NAMES = {
    413: ("Content Too Large", "Content is too large"),
    414: ("URI Too Long", "URI is too long"),
    416: ("Range Not Satisfiable", "Cannot satisfy request range"),
    422: ("Unprocessable Content", ""),
}

MEDIUM = harness.pseudo_random_bytes(1 << 20, seed=7)
LAST_MODIFIED = email.utils.formatdate(harness.FIXED_MTIME, usegmt=True)


# ---------------------------------------------------------------- transformations

class Exchange:
    """What was sent, for transformations that depend on it: one target per request, and
    whether each request asked to close (Connection: close, or HTTP/1.0 without
    keep-alive)."""

    def __init__(self, data, methods):
        self.data = data
        self.methods = list(methods)
        self.targets = re.findall(rb"(?:^|\r?\n\r?\n)[A-Za-z]+ (\S+)", data)[:len(methods)]
        self.targets = [t.decode("latin-1") for t in self.targets]
        heads = re.findall(rb"(?:^|(?<=\n))([A-Za-z]+ \S+ (HTTP/\d\.\d)\r?\n(?:[^\r\n]+\r?\n)*)",
                           data)[:len(methods)]
        self.says_close = [asks_to_close(head, version) for head, version in heads]

    def paired(self, responses):
        """(target, response) for each final response, in order."""
        return pair_with_requests(self.targets, responses, None)

    def paired_close(self, responses):
        """(request said close, response) for each final response, in order."""
        return pair_with_requests(self.says_close, responses, False)


def pair_with_requests(values, responses, missing):
    """(values[i], response) with i the request each response answers (interim 1xx
    responses share their request's value); missing past the end of values."""
    i = 0
    for resp in responses:
        yield (values[i] if i < len(values) else missing), resp
        if resp.bare or not 100 <= resp.code < 200:
            i += 1


def asks_to_close(head, version):
    """Whether a request head (bytes) asks the server to close after its response."""
    conn = re.findall(rb"(?im)^connection:[ \t]*(\S*)[ \t]*\r?$", head)
    if conn and conn[-1].lower() == b"close":
        return True
    return version == b"HTTP/1.0" and not (conn and conn[-1].lower() == b"keep-alive")


def close_announced(ctx, ref, ours):
    """CLOSE_ANNOUNCED: Connection: close after the reference's last header line where
    an HTTP/1.1 response answers a request that asked to close and says nothing of it."""
    out = []
    for says_close, resp in ctx.paired_close(ref):
        if (says_close and not resp.bare and resp.status_line.startswith("HTTP/1.1 ")
                and resp.code >= 200 and resp.header("Connection") is None):
            resp = harness.Response(resp.status_line, resp.head_lines + ["Connection: close"],
                                    resp.body)
        out.append(resp)
    return out, ours


def server_header(ctx, ref, ours):
    """SERVER_HEADER: the values are masked by describe(); ours must name httpserve."""
    for resp in ours:
        value = resp.header("Server")
        if value is not None and not re.fullmatch(r"httpserve/\d+\.\d+\.\d+\S*", value):
            raise AssertionError(f"Server header {value!r} is not httpserve/N.N.N")
    return ref, ours


ERROR_CODE_RE = re.compile(rb"<p>Error code: (\d+)</p>")
ERROR_MESSAGE_RE = re.compile(rb"<p>Message: (.*)\.</p>")


def early_error_head(ctx, ref, ours):
    """EARLY_ERROR_HEAD: the reference's bare error pages get Python's error head."""
    return [_with_error_head(r) if r.bare and ERROR_CODE_RE.search(r.body) else r
            for r in ref], ours


def _with_error_head(bare):
    code = int(ERROR_CODE_RE.search(bare.body)[1])
    message = html.unescape(ERROR_MESSAGE_RE.search(bare.body)[1].decode("utf-8"))
    return error_response("HTTP/1.0", code, message, bare.body)


def error_response(version, code, message, body, head_only=False):
    """The response Python's send_error writes, given its page."""
    lines = ["Server: (reference)", f"Date: {email.utils.formatdate(usegmt=True)}",
             "Connection: close", "Content-Type: text/html;charset=utf-8",
             f"Content-Length: {len(body)}"]
    return harness.Response(f"{version} {code} {message}", lines, b"" if head_only else body)


def python_error_page(code, message):
    """Python's error page for code with message and the standard explanation."""
    explain = http.server.BaseHTTPRequestHandler.responses[code][1]
    return (http.server.DEFAULT_ERROR_MESSAGE % {
        "code": code, "message": html.escape(message, quote=False),
        "explain": html.escape(explain, quote=False)}).encode("utf-8")


def _reference_becomes_error(code):
    """The reference's answer becomes Python's error response for code, with our message
    when ours is such an error (a placeholder otherwise, so the comparison fails)."""
    def transform(ctx, ref, ours):
        refused = len(ours) == 1 and not ours[0].bare and ours[0].code == code
        message = ours[0].reason if refused else f"(any message: a {code} error was due)"
        version = ref[0].version if ref and not ref[0].bare else "HTTP/1.0"
        body = python_error_page(code, message)
        return [error_response(version, code, message, body,
                               head_only=ctx.methods[0] == "HEAD")], ours
    return transform


strict_framing = _reference_becomes_error(400)
symlink_inside = _reference_becomes_error(404)


def request_line_garbage(ctx, ref, ours):
    """REQUEST_LINE_GARBAGE: the reference's answer becomes the HTTP/1.0 400 Python's
    send_error would write for "Bad request syntax (%r)" of the line as sent."""
    line = ctx.data.split(b"\n", 1)[0].rstrip(b"\r\n").decode("latin-1")
    message = "Bad request syntax (%r)" % line
    return [error_response("HTTP/1.0", 400, message, python_error_page(400, message))], ours


def reference_names(code):
    status = http.HTTPStatus(code)
    return status.phrase, status.description


def reason_phrases_3_13(ctx, ref, ours):
    """REASON_PHRASES_3_13: the reference's 3.11 names become 3.13's (no-op on 3.13)."""
    return [_renamed(r) for r in ref], ours


def _renamed(resp):
    if resp.bare or resp.code not in RFC9110_NAMES:
        return resp
    (old, old_explain), (new, new_explain) = reference_names(resp.code), RFC9110_NAMES[resp.code]
    if resp.reason != old:
        return resp
    body = resp.body.replace(f"Message: {old}.".encode(), f"Message: {new}.".encode())
    body = body.replace(f"{resp.code} - {old_explain}.".encode(),
                        f"{resp.code} - {new_explain}.".encode())
    renamed = harness.Response(f"{resp.version} {resp.code} {new}", resp.head_lines, resp.body)
    return renamed.with_body(body) if resp.body else renamed


def renamed_log_line(line):
    for code, (new, _) in RFC9110_NAMES.items():
        old = reference_names(code)[0]
        line = line.replace(f"code {code}, message {old}", f"code {code}, message {new}")
    return line


def listing_title_without_query(ctx, ref, ours):
    """LISTING_TITLE_WITHOUT_QUERY: the query and fragment leave the reference's title."""
    out = []
    for target, resp in ctx.paired(ref):
        if target and ("?" in target or "#" in target) and not resp.bare and resp.code == 200:
            shown, wanted = display_path(target), display_path(re.split("[?#]", target)[0])
            body = resp.body.replace(b"listing for %s</" % shown, b"listing for %s</" % wanted)
            resp = resp.with_body(body) if resp.body else resp
        out.append(resp)
    return out, ours


def display_path(target):
    """How a listing shows target (Python's list_directory), as bytes."""
    if target.startswith("//"):
        target = "/" + target.lstrip("/")
    shown = html.escape(urllib.parse.unquote(target, errors="surrogatepass"), quote=False)
    return shown.encode("utf-8", "surrogateescape")


def builtin_mime_table(ctx, ref, ours):
    """BUILTIN_MIME_TABLE: the reference's Content-type becomes our built-in type."""
    out = []
    for target, resp in ctx.paired(ref):
        ext = posixpath.splitext(urllib.parse.unquote(re.split("[?#]", target or "")[0]))[1]
        wanted = BUILTIN_MIME_TYPES.get(ext.lower())
        if wanted and not resp.bare and resp.code == 200 and resp.header("Content-type"):
            resp = resp.with_header("Content-type", wanted)
        out.append(resp)
    return out, ours


ETAG_RE = re.compile(r'"(?P<ino>[0-9a-f]+)-(?P<size>[0-9a-f]+)-(?P<sec>[0-9a-f]+)\.\d{9}"')


def file_validators(ctx, ref, ours):
    """FILE_VALIDATORS: the reference's file 200s and 304s get the lines ours must add."""
    out = []
    for i, resp in enumerate(ref):
        mine = ours[i] if i < len(ours) else None
        if resp.bare or mine is None or mine.bare or mine.code != resp.code:
            out.append(resp)
        elif resp.code == 200 and resp.header("Last-Modified") is not None:
            etag = checked_etag(mine, resp.header("Content-Length"), resp.header("Last-Modified"))
            out.append(with_lines_after(resp, "Last-Modified",
                                        [f"ETag: {etag}", "Accept-Ranges: bytes"]))
        elif resp.code == 304:
            etag = checked_etag(mine, None, LAST_MODIFIED)
            out.append(harness.Response(resp.status_line, resp.head_lines + [
                f"Last-Modified: {LAST_MODIFIED}", f"ETag: {etag}"], resp.body))
        else:
            out.append(resp)
    return out, ours


def checked_etag(resp, length, last_modified):
    """Our ETag in resp, after checking its form, its size (length: Content-Length, or None)
    and its seconds (last_modified, as the file's Last-Modified)."""
    etag = resp.header("ETag")
    m = ETAG_RE.fullmatch(etag or "")
    if not m:
        raise AssertionError(f"ETag {etag!r} is not \"INODE-SIZE-SECONDS.NANOSECONDS\"")
    seconds = int(email.utils.parsedate_to_datetime(last_modified).timestamp())
    if int(m["sec"], 16) != seconds or (length is not None and int(m["size"], 16) != int(length)):
        raise AssertionError(f"ETag {etag} does not match size {length} and {last_modified}")
    return etag


def with_lines_after(resp, name, lines):
    """A copy of resp with lines inserted after its header line name."""
    at = [line.partition(":")[0].lower() for line in resp.head_lines].index(name.lower()) + 1
    return harness.Response(resp.status_line, resp.head_lines[:at] + lines + resp.head_lines[at:],
                            resp.body)


TRANSFORMS = {
    "SERVER_HEADER": server_header,
    "EARLY_ERROR_HEAD": early_error_head,
    "REASON_PHRASES_3_13": reason_phrases_3_13,
    "LISTING_TITLE_WITHOUT_QUERY": listing_title_without_query,
    "BUILTIN_MIME_TABLE": builtin_mime_table,
    "STRICT_FRAMING": strict_framing,
    "REQUEST_LINE_GARBAGE": request_line_garbage,
    "ABSOLUTE_FORM": None,
    "SYMLINK_INSIDE": symlink_inside,
    "FILE_VALIDATORS": file_validators,
    "CLOSE_ANNOUNCED": close_announced,
    "BANNER_HOST_WITHOUT_BIND": None,
}
assert TRANSFORMS.keys() == KNOWN_DIFFERENCES.keys()


def apply_known_differences(ctx, ref, ours, expect):
    """Bridges the known differences (none in --reference-only runs)."""
    for name in expect:
        if TRANSFORMS.get(name) is None:
            raise KeyError(f"{name} is not an applicable entry of KNOWN_DIFFERENCES")
    if harness.REFERENCE_ONLY:
        return ref, ours
    for name in ALWAYS + tuple(expect):
        ref, ours = TRANSFORMS[name](ctx, ref, ours)
    return ref, ours


# ---------------------------------------------------------------- comparison

def describe(responses):
    """The comparable form of responses: one string per line, Date and Server masked."""
    out = []
    for resp in responses:
        if resp.bare:
            out.append("(no status line, no headers)")
        else:
            out.append(resp.status_line)
            out += [mask_header(line) for line in resp.head_lines]
            out.append("")
        out += describe_body(resp.body)
    return out


def mask_header(line):
    name, _, value = line.partition(": ")
    if name.lower() == "date":
        if not harness.IMF_FIXDATE_RE.fullmatch(value):
            raise AssertionError(f"Date is not an IMF-fixdate: {line!r}")
        return f"{name}: (masked)"
    if name.lower() == "server":
        return f"{name}: (masked)"
    return line


def describe_body(body):
    if len(body) > 16384:
        return [f"({len(body)} bytes, sha256 {harness.sha256(body)})"]
    return [repr(line) for line in body.splitlines(keepends=True)]


def mask_log_line(line):
    m = harness.LOG_LINE_RE.fullmatch(line)
    if not m:
        return f"(not a log line) {line}"
    return f"{m['addr']} - - [(time)] {m['message']}"


class DifferentialCase(harness.ServerTestCase):
    """A reference server and ours, started once per class on one document root."""

    protocol = None     # -p VERSION for both; None is Python's default, HTTP/1.0
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot({"medium.bin": MEDIUM})
        args = ["-p", cls.protocol] if cls.protocol else []
        cls.ref_target, cls.our_target = harness.python_target(), harness.httpserve_target()
        cls.ref = cls.class_start(cls.ref_target, *args, root=cls.doc.root)
        cls.ours = cls.class_start(cls.our_target, *args, root=cls.doc.root)

    def sides(self):
        return ((self.ref, self.ref_target), (self.ours, self.our_target))

    def compare(self, data, methods=("GET",), expect=(), http09=False):
        """Sends data to both on new connections, reads to the close, compares."""
        got = []
        for server, target in self.sides():
            sent = data + (HTTP09_EMPTY_LINE_FOR_PYTHON if http09 and target.is_python else b"")
            got.append(harness.exchange_responses(server.port, sent, methods))
        self.assertSameResponses(Exchange(data, methods), got[0], got[1], expect)

    def assertSameResponses(self, ctx, ref, ours, expect=()):
        ref, ours = apply_known_differences(ctx, ref, ours, expect)
        sent = ctx.data if len(ctx.data) <= 300 else ctx.data[:300] + b"..."
        self.assertEqual(describe(ref), describe(ours),
                         f"reference (first) and httpserve (second) differ; sent {sent!r}")

    def compare_each(self, targets, method="GET", version="HTTP/1.0", headers=(), expect=()):
        for target in targets:
            with self.subTest(method=method, target=target):
                data = request(method, target, version, harness.with_host(version, headers))
                self.compare(data, [method], expect)


# ------------------------------------------------------------------------ tests

class StaticFilesAsPython(DifferentialCase):
    """Static files: files, listings, redirects, paths, If-Modified-Since; HTTP/1.0."""

    FILES = ["/a.txt", "/empty.txt", "/page.html", "/style.css", "/app.js", "/mod.mjs",
             "/lib.wasm", "/data.json", "/image.png", "/icon.svg", "/archive.tar.gz",
             "/SHOUT.GZ", "/data.bz2", "/data.xz", "/old.Z", "/notes.TXT", "/README",
             "/blob.zzz", "/medium.bin", "/sub/inner.txt", "/listdir/nested/deep.txt"]

    def test_get_files_of_several_types(self):
        self.compare_each(self.FILES)

    def test_head_sends_the_headers_of_get(self):
        self.compare_each(self.FILES + ["/", "/listdir/", "/sub/", "/sub", "/missing"],
                          method="HEAD")

    def test_last_modified_is_the_files_mtime(self):
        resp = harness.fetch(self.ours.port, "/a.txt")
        self.assertEqual(resp.header("Last-Modified"), LAST_MODIFIED)

    def test_directory_listing(self):
        self.compare_each(["/", "/listdir/", "/listdir/nested/", "/listdir/Zeta/"])

    def test_directory_listing_with_query(self):
        self.compare_each(["/?x=1", "/listdir/?sort=name&a=%3Cb%3E", "/listdir/nested/?"])

    def test_directory_without_slash_redirects_keeping_the_query(self):
        self.compare_each(["/sub", "/listdir", "/listdir/nested", "/listdir?x=1",
                           "/listdir/nested?a=b&c=d", "/linkdir"])

    def test_index_pages(self):
        self.compare_each(["/sub/", "/sub/?q=1", "/dir.d/", "/linkdir/"])

    def test_not_found(self):
        self.compare_each(["/missing", "/missing/", "/a.txt/", "/sub/missing.html",
                           "/listdir/nested/deep.txt/", "/missing?x=1"])

    def test_percent_encoded_names(self):
        self.compare_each(["/a%20b%26%3Cc%3E.txt", "/caf%C3%A9.txt", "/caf%c3%a9.txt",
                           "/100%25.txt", "/%61.txt", "/hash%23.txt", "/question%3F.txt",
                           "/it%27s%20%22q%22.txt", "/bad%zz", "/%E9t%E9.txt",
                           "/a.txt%3Fx=1"])

    def test_query_and_fragment_are_not_part_of_the_path(self):
        self.compare_each(["/a.txt?x=1", "/a.txt#frag", "/a.txt?x=1#frag", "/sub/?a#b"])

    def test_dot_segments_stay_under_the_root(self):
        self.compare_each(["/sub/../a.txt", "/../a.txt", "/%2e%2e/a.txt", "/sub/%2E%2E/a.txt",
                           "/./a.txt", "/sub/./inner.txt", "/../../../etc/passwd",
                           "/%2e%2e/%2e%2e/etc/passwd", "/sub/..", "/sub/../"])

    def test_leading_double_slash_collapses(self):
        self.compare_each(["//a.txt", "///sub/", "//sub", "//listdir?x=1", "/sub//inner.txt",
                           "//"])

    def test_symlinks_inside_the_root(self):
        self.compare_each(["/link.txt", "/linkdir/", "/linkdir/inner.txt"])

    def test_symlink_leading_outside_the_root(self):
        self.compare_each(["/escape"], expect=("SYMLINK_INSIDE",))
        self.compare_each(["/escape"], method="HEAD", expect=("SYMLINK_INSIDE",))

    @unittest.skipIf(harness.running_as_root(), "root reads every file: no unreadable cases")
    def test_unreadable_file_and_directory(self):
        self.compare_each(["/noread.txt", "/noread_dir/", "/noread_dir"])

    def test_if_modified_since(self):
        cases = {
            "equal to the mtime": LAST_MODIFIED,
            "later": "Wed, 15 Nov 2023 00:00:00 GMT",
            "in the future": "Fri, 01 Jan 2100 00:00:00 GMT",
            "earlier": "Tue, 14 Nov 2023 22:13:19 GMT",
            "RFC 850": "Tuesday, 14-Nov-23 22:13:20 GMT",
            "asctime": "Tue Nov 14 22:13:20 2023",
            "other zone, same instant": "Tue, 14 Nov 2023 23:13:20 +0100",
            "zero offset": "Tue, 14 Nov 2023 22:13:20 +0000",
            "invalid": "yesterday",
            "empty": "",
        }
        for name, value in cases.items():
            with self.subTest(name):
                self.compare(get("/a.txt", headers=[("If-Modified-Since", value)]))

    def test_if_modified_since_is_ignored_with_if_none_match_and_for_listings(self):
        self.compare(get("/a.txt", headers=[("If-Modified-Since", LAST_MODIFIED),
                                            ("If-None-Match", '"no-such-tag"')]))
        self.compare(get("/listdir/", headers=[("If-Modified-Since", LAST_MODIFIED)]))

    def test_expect_100_continue_needs_http_1_1_on_both_sides(self):
        self.compare(get("/a.txt", "HTTP/1.1", [("Expect", "100-continue")]))


class RequestLineAsPython(DifferentialCase):
    """Request parsing: request lines, versions, methods, limits; HTTP/1.0."""

    def test_http_0_9_answers_with_the_body_alone(self):
        for line in [b"GET /a.txt\r\n", b"GET /\r\n", b"GET /missing\r\n", b"GET /sub\r\n"]:
            with self.subTest(line=line):
                self.compare(line, http09=True)

    def test_http_0_9_allows_only_get(self):
        for line in [b"POST /a.txt\r\n", b"HEAD /a.txt\r\n", b"get /a.txt\r\n"]:
            with self.subTest(line=line):
                self.compare(line, expect=("EARLY_ERROR_HEAD",))

    def test_bad_version_words(self):
        for version in ["HTTP/1", "HTTP/1.1.1", "HTTP/a.b", "HTTPS/1.0", "http/1.0",
                        "HTTP/1.", "HTTP/.1", "HTTP/1.0x", "FOO", "HTTP/", "HTTP/-1.0"]:
            with self.subTest(version=version):
                self.compare(f"GET / {version}\r\n\r\n".encode(), expect=("EARLY_ERROR_HEAD",))

    def test_version_2_or_more_is_505(self):
        for version in ["HTTP/2.0", "HTTP/3.0", "HTTP/2.1", "HTTP/10.0"]:
            with self.subTest(version=version):
                self.compare(f"GET / {version}\r\n\r\n".encode(), expect=("EARLY_ERROR_HEAD",))

    def test_bad_request_syntax(self):
        for line in [b"GET\r\n", b"/a.txt\r\n", b"\x01\r\n"]:
            with self.subTest(line=line):
                self.compare(line + b"\r\n", expect=("EARLY_ERROR_HEAD",))

    def test_control_bytes_and_lines_no_method_begins(self):
        for line in [b"GET /a.txt\x01 HTTP/1.0", b"GET /a.txt\x00.png HTTP/1.0",
                     b"GET /\x00 HTTP/1.0", b"GET\x0b/a.txt HTTP/1.0", b"GET /a.txt\rHTTP/1.0",
                     b"GET /a.txt HTTP/1.0\x7f", b"{x} /a.txt HTTP/1.0", b"<a> /a.txt HTTP/1.0",
                     b"\xe9T /a.txt HTTP/1.0", b"GET /\x1b[0m HTTP/2.0"]:
            with self.subTest(line=line):
                self.compare(line + b"\r\n\r\n", expect=("REQUEST_LINE_GARBAGE",))

    @harness.beyond_python("absolute-form targets, which Python answers 404")
    def test_absolute_form_is_served_as_its_path(self):
        for origin in ["/a.txt", "/sub", "/sub/", "/listdir/?x=1", "/missing", "/app.js"]:
            for scheme_host in ["http://localhost:8000", "https://example.com", "HTTP://h"]:
                with self.subTest(target=scheme_host + origin):
                    ref_data, our_data = get(origin), get(scheme_host + origin)
                    ref = harness.exchange_responses(self.ref.port, ref_data)
                    ours = harness.exchange_responses(self.ours.port, our_data)
                    self.assertSameResponses(Exchange(ref_data, ["GET"]), ref, ours)

    def test_invalid_host_values(self):
        for host in ["a b", "a/b", "user@h", "h:x", "[::1", "<h>"]:
            with self.subTest(host=host):
                self.compare(get("/a.txt", headers=[("Host", host)]), expect=("STRICT_FRAMING",))

    def test_four_words_with_a_good_version_get_a_full_response(self):
        # The version is known by then, so Python too answers with a status line.
        self.compare(b"GET / x HTTP/1.0\r\n\r\n")
        self.compare(b"GET /a.txt HTTP/1.0 HTTP/1.0\r\n\r\n")

    def test_whitespace_runs_and_bare_lf(self):
        self.compare(b"GET  /a.txt \t HTTP/1.0\r\n\r\n")
        self.compare(b"GET /a.txt HTTP/1.0\nUser-Agent: x\n\n")

    def test_versions_with_leading_zeros(self):
        self.compare(b"GET /a.txt HTTP/01.0\r\n\r\n")
        self.compare(b"GET /a.txt HTTP/1.00\r\n\r\n")

    def test_unsupported_methods_are_501(self):
        for method in ["PUT", "POST", "DELETE", "PATCH", "OPTIONS", "BREW", "get"]:
            with self.subTest(method=method):
                self.compare(request(method, "/a.txt", headers=[("Content-Length", "0")]),
                             [method])

    def test_an_empty_line_first_closes_silently(self):
        self.compare(b"\r\nGET /a.txt HTTP/1.0\r\n\r\n")
        self.compare(b"\r\n")

    def test_end_of_stream_first_closes_silently(self):
        got = [harness.exchange(server.port, b"", half_close=True) for server, _ in self.sides()]
        self.assertEqual(got, [b"", b""])

    def test_request_line_limit_is_65536_bytes(self):
        for size, name in [(65536, "at the limit"), (65537, "one byte over"),
                           (70000, "well over")]:
            with self.subTest(name):
                self.compare(request_line_of(size) + b"\r\n")

    def test_header_line_limit_is_65536_bytes(self):
        for size, name in [(65536, "at the limit"), (65537, "one byte over")]:
            with self.subTest(name):
                self.compare(b"GET /a.txt HTTP/1.0\r\n" + header_line_of(size) + b"\r\n")

    def test_header_count_limit(self):
        # Python counts the empty line ending the head among the 100 lines it allows.
        for count in (99, 100, 101):
            with self.subTest(headers=count):
                lines = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(count))
                self.compare(b"GET /a.txt HTTP/1.0\r\n" + lines + b"\r\n")


def request_line_of(size):
    """A GET request line of exactly size bytes, CR LF included."""
    fixed = len(b"GET / HTTP/1.0\r\n")
    return b"GET /" + b"a" * (size - fixed) + b" HTTP/1.0\r\n"


def header_line_of(size):
    """A header line of exactly size bytes, CR LF included."""
    return b"X-Long: " + b"v" * (size - len(b"X-Long: \r\n")) + b"\r\n"


class PersistentConnectionsAsPython(DifferentialCase):
    """Persistent connections and pipelining with -p HTTP/1.1."""

    protocol = "HTTP/1.1"

    def sequence(self):
        """Requests (data, method) answered on one connection, the last one closing it."""
        h11 = "HTTP/1.1"
        return [
            (get("/a.txt", h11), "GET"),
            (request("HEAD", "/page.html", h11, harness.with_host(h11, ())), "HEAD"),
            (get("/listdir/", h11), "GET"),
            (get("/sub", h11), "GET"),
            (get("/a.txt", h11, [("If-Modified-Since", LAST_MODIFIED)]), "GET"),
            (get("/a.txt", "HTTP/1.0", [("Connection", "keep-alive")]), "GET"),
            (get("/medium.bin", h11), "GET"),
            (get("/data.json", h11, [("Connection", "close")]), "GET"),
        ]

    def test_several_requests_on_one_connection(self):
        seq = self.sequence()
        got, closed = [], []
        for server, _ in self.sides():
            client = self.connect(server.port)
            got.append(harness.keep_alive(client, [d for d, _ in seq], [m for _, m in seq]))
            closed.append(client.wait_closed(harness.IO_TIMEOUT)[0])
        ctx = Exchange(b"".join(d for d, _ in seq), [m for _, m in seq])
        self.assertSameResponses(ctx, got[0], got[1])
        self.assertEqual(closed, [True, True], "both close after Connection: close")

    def test_pipelined_requests_are_answered_in_order(self):
        seq = self.sequence()
        self.compare(b"".join(d for d, _ in seq), [m for _, m in seq])

    def test_connection_close(self):
        self.compare(get("/a.txt", "HTTP/1.1", [("Connection", "close")]))
        self.compare(get("/a.txt", "HTTP/1.1", [("Connection", "CLOSE")]))

    def test_http_1_0_request_closes_unless_keep_alive(self):
        self.compare(get("/a.txt", "HTTP/1.0") + get("/page.html", "HTTP/1.0"), ["GET", "GET"])
        self.compare(get("/a.txt", "HTTP/1.0", [("Connection", "keep-alive")])
                     + get("/page.html", "HTTP/1.0"), ["GET", "GET"])

    def test_an_error_closes_the_connection(self):
        self.compare(get("/missing", "HTTP/1.1") + get("/a.txt", "HTTP/1.1"), ["GET", "GET"])
        self.compare(request("PUT", "/a.txt", "HTTP/1.1", [("Host", "x"), ("Content-Length", "0")])
                     + get("/a.txt", "HTTP/1.1"), ["PUT", "GET"])

    def test_expect_100_continue(self):
        self.compare(get("/a.txt", "HTTP/1.1", [("Expect", "100-continue"),
                                                ("Connection", "close")]))
        self.compare(get("/a.txt", "HTTP/1.0", [("Expect", "100-continue")]))

    def test_http_1_1_without_host(self):
        self.compare(b"GET /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n",
                     expect=("STRICT_FRAMING",))


class LogAsPython(harness.ServerTestCase):
    """The log lines, their order and escaping, with the time masked."""

    maxDiff = None

    # (request bytes, log lines it produces, whether it is HTTP/0.9)
    REQUESTS = [
        (get("/a.txt"), 1, False),
        (request("HEAD", "/sub"), 1, False),
        (get("/missing"), 2, False),
        (request("PUT", "/a.txt"), 2, False),
        (b"GET /a.txt\r\n", 1, True),
        (b"POST /a.txt\r\n", 2, False),
        (b"GET / HTTP/1.1.1\r\n\r\n", 2, False),
        (b"GET / HTTP/2.0\r\n\r\n", 2, False),
        (b"GET /ctl\x80\x9b\x9f\\x HTTP/1.0\r\n\r\n", 2, False),
        (get("/caf%C3%A9.txt?q=%00"), 1, False),
        (request_line_of(70000) + b"\r\n", 2, False),
        (b"GET /a.txt HTTP/1.0\r\n" + header_line_of(65537) + b"\r\n", 2, False),
    ]

    def test_log_lines_match_with_the_time_masked(self):
        doc = self.docroot()
        sides = [(self.start(target, root=doc.root), target)
                 for target in (harness.python_target(), harness.httpserve_target())]
        expected = 0
        for data, count, http09 in self.REQUESTS:
            expected += count
            for server, target in sides:
                extra = HTTP09_EMPTY_LINE_FOR_PYTHON if http09 and target.is_python else b""
                harness.exchange(server.port, data + extra)
                server.wait_log_count(expected)
        ref, ours = ([mask_log_line(line) for line in server.log_lines()] for server, _ in sides)
        if not harness.REFERENCE_ONLY:
            ref = [renamed_log_line(line) for line in ref]
        self.assertEqual(ref, ours)

    def test_banner_matches_with_the_port_masked(self):
        doc = self.docroot()
        banners = []
        for target in (harness.python_target(), harness.httpserve_target()):
            server = self.start(target, root=doc.root)
            banners.append(server.banner.line.replace(str(server.port), "(port)"))
        self.assertEqual(banners[0], banners[1])


if __name__ == "__main__":
    unittest.main()
