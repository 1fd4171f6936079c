"""test_ranges.py: caching, ranges and precompressed files (which Python lacks), end to end.

Range requests (single, suffix, open-ended, multipart/byteranges, 416, ignored when invalid, the
whole file for too many or overlapping ranges), validators (ETag stable across restarts,
If-None-Match over If-Modified-Since, If-Match and If-Unmodified-Since with 412, If-Range), the
precompressed siblings chosen by Accept-Encoding with Vary, HEAD parity for each, and the same
through curl (--range, -C - resume, --compressed); then a 100 MiB file fetched in random ranges,
some as multipart, that must reassemble to the same SHA-256. Raw sockets give exact bytes.
"""

import email.utils
import gzip
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import request

SIZE = 10240
TEXT = bytes(range(256)) * (SIZE // 256)
APP_JS = b"console.log('app');\n" * 50
APP_GZ = gzip.compress(APP_JS, mtime=0)
APP_BR = b"not really brotli, but the server never reads it\n" * 3
LAST_MODIFIED = email.utils.formatdate(harness.FIXED_MTIME, usegmt=True)
ETAG_RE = re.compile(r'"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\.\d{9}"')
BOUNDARY_RE = re.compile(r"multipart/byteranges; boundary=([0-9a-f]{32})")

EXTRA_FILES = {
    "r/text.bin": TEXT,
    "r/empty.bin": b"",
    "r/app.js": APP_JS,
    "r/app.js.gz": APP_GZ,
    "r/app.js.br": APP_BR,
    "r/only-gz.css": b"body{}\n" * 40,
    "r/only-gz.css.gz": gzip.compress(b"body{}\n" * 40, mtime=0),
    "r/stale.txt": b"new content\n",
    "r/stale.txt.gz": gzip.compress(b"old content\n", mtime=0),
    "r/plain.txt": b"no siblings\n",
}


def stale_sibling(doc):
    """stale.txt.gz is older than stale.txt: it must never be served."""
    path = os.path.join(doc.root, "r", "stale.txt.gz")
    os.utime(path, (harness.FIXED_MTIME - 60, harness.FIXED_MTIME - 60))


def get(port, target, headers=(), method="GET", version="HTTP/1.0"):
    return harness.fetch(port, target, method, version, headers)


def head_lines_without_date(resp):
    return [line for line in resp.head_lines if not line.lower().startswith("date:")]


def multipart_parts(resp):
    """[(content_range, body)] of a multipart/byteranges response, checking its framing."""
    m = BOUNDARY_RE.fullmatch(resp.header("Content-type") or "")
    if not m:
        raise AssertionError(f"not multipart/byteranges: {resp.header('Content-type')!r}")
    delim = b"\r\n--" + m[1].encode()
    body = resp.body
    if not body.startswith(delim + b"\r\n") or not body.endswith(delim + b"--\r\n"):
        raise AssertionError(f"multipart framing: {body[:80]!r} ... {body[-80:]!r}")
    parts = []
    for chunk in body[:-len(delim + b"--\r\n")].split(delim)[1:]:
        head, sep, data = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"part without a head: {chunk[:80]!r}")
        fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n"))
        parts.append((fields, data))
    return parts


class RangeCase(harness.ServerTestCase):
    """One httpserve over a document root with the range files, per class."""

    args = ()

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot(EXTRA_FILES)
        stale_sibling(cls.doc)
        cls.server = cls.class_start(harness.httpserve_target(), "-p", "HTTP/1.1", *cls.args,
                                     root=cls.doc.root)
        cls.port = cls.server.port

    def get(self, target, headers=(), method="GET", version="HTTP/1.0"):
        return get(self.port, target, headers, method, version)

    def etag(self, target="/r/text.bin"):
        return self.get(target, method="HEAD").header("ETag")


@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
class Ranges(RangeCase):
    """RFC 9110 14: single ranges, multipart/byteranges, 416, and when Range is ignored."""

    def assertPartial(self, resp, first, last, size=SIZE, content=TEXT):
        self.assertStatus(resp, 206)
        self.assertEqual(resp.header("Content-Range"), f"bytes {first}-{last}/{size}")
        self.assertEqual(resp.header("Content-Length"), str(last - first + 1))
        self.assertEqual(resp.body, content[first:last + 1])

    def test_single_ranges(self):
        cases = {"bytes=0-499": (0, 499), "bytes=500-999": (500, 999),
                 "bytes=-500": (SIZE - 500, SIZE - 1), "bytes=9500-": (9500, SIZE - 1),
                 "bytes=0-0": (0, 0), "bytes=0-": (0, SIZE - 1), "BYTES=1-2": (1, 2),
                 f"bytes={SIZE - 1}-": (SIZE - 1, SIZE - 1),
                 "bytes=100-99999999999999999999999999": (100, SIZE - 1),
                 "bytes=-18446744073709551615": (0, SIZE - 1),
                 "bytes=-99999999999999999999999999999": (0, SIZE - 1),
                 "bytes= 5-6 ,": (5, 6)}
        for value, (first, last) in cases.items():
            with self.subTest(value):
                self.assertPartial(self.get("/r/text.bin", [("Range", value)]), first, last)

    def test_a_206_carries_the_200s_validators(self):
        whole = self.get("/r/text.bin")
        part = self.get("/r/text.bin", [("Range", "bytes=1-2")])
        for name in ("ETag", "Last-Modified", "Accept-Ranges", "Content-type"):
            self.assertEqual(part.header(name), whole.header(name), name)
        self.assertEqual(part.header("Content-Length"), "2")

    def test_multipart_byteranges(self):
        spec = [(0, 9), (100, 199), (SIZE - 10, SIZE - 1)]
        value = "bytes=0-9, 100-199,-10"
        resp = self.get("/r/text.bin", [("Range", value)])
        self.assertStatus(resp, 206)
        self.assertIsNone(resp.header("Content-Range"))
        self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
        parts = multipart_parts(resp)
        self.assertEqual(len(parts), 3)
        for (fields, data), (first, last) in zip(parts, spec):
            self.assertEqual(fields, {"Content-Type": "application/octet-stream",
                                      "Content-Range": f"bytes {first}-{last}/{SIZE}"})
            self.assertEqual(data, TEXT[first:last + 1])
        other = self.get("/r/text.bin", [("Range", value)])
        self.assertNotEqual(resp.header("Content-type"), other.header("Content-type"),
                            "the boundary is random per response")

    def test_ranges_in_the_order_asked_and_adjacent(self):
        parts = multipart_parts(self.get("/r/text.bin", [("Range", "bytes=500-509,0-4,5-9")]))
        self.assertEqual([data for _, data in parts], [TEXT[500:510], TEXT[0:5], TEXT[5:10]])

    def test_unsatisfiable_is_416_with_the_size(self):
        for value in [f"bytes={SIZE}-", f"bytes={SIZE}-{SIZE + 5}", "bytes=-0",
                      "bytes=18446744073709551615-", "bytes=18446744073709551614-18446744073709551615",
                      f"bytes=-0,{SIZE + 1}-"]:
            with self.subTest(value):
                resp = self.get("/r/text.bin", [("Range", value)])
                self.assertStatus(resp, 416)
                self.assertEqual(resp.reason, "Range Not Satisfiable")
                self.assertEqual(resp.header("Content-Range"), f"bytes */{SIZE}")
                self.assertIn(b"<p>Error code: 416</p>", resp.body)

    def test_unsatisfiable_ranges_are_dropped_beside_satisfiable_ones(self):
        self.assertPartial(self.get("/r/text.bin", [("Range", f"bytes={SIZE}-,2-3,-0")]), 2, 3)

    def test_invalid_range_is_ignored(self):
        whole = self.get("/r/text.bin")
        for value in ["bytes=", "bytes=5-1", "bytes=a-b", "items=0-1", "bytes=0-1;x",
                      "bytes =0-1", "bytes=0 -1", "bytes=1-2-3", "0-1", f"bytes={SIZE}-,x",
                      "bytes=99999999999999999999999-99999999999999999999998", "bytes=--1"]:
            with self.subTest(value):
                resp = self.get("/r/text.bin", [("Range", value)])
                self.assertStatus(resp, 200)
                self.assertEqual(head_lines_without_date(resp), head_lines_without_date(whole))
                self.assertEqual(resp.body, TEXT)

    def test_two_range_fields_are_ignored(self):
        resp = self.get("/r/text.bin", [("Range", "bytes=0-1"), ("Range", "bytes=2-3")])
        self.assertStatus(resp, 200)

    def test_too_many_or_overlapping_ranges_get_the_whole_file(self):
        many = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(101))
        hundred = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(100))
        for value in [many, "bytes=0-,0-", "bytes=0-5,5-9", "bytes=-1,-1",
                      "bytes=0-" + ",5-,0-" * 2000]:
            with self.subTest(value[:40]):
                resp = self.get("/r/text.bin", [("Range", value)])
                self.assertStatus(resp, 200)
                self.assertEqual(resp.body, TEXT, "never more bytes than the file")
        parts = multipart_parts(self.get("/r/text.bin", [("Range", hundred)]))
        self.assertEqual(len(parts), 100)

    def test_zero_length_file(self):
        for value in ["bytes=0-", "bytes=-1", "bytes=0-0", "bytes=-0"]:
            with self.subTest(value):
                resp = self.get("/r/empty.bin", [("Range", value)])
                self.assertStatus(resp, 200)
                self.assertEqual((resp.header("Content-Length"), resp.body), ("0", b""))
        resp = self.get("/r/empty.bin", [("Range", "bytes=1-")])
        self.assertStatus(resp, 416)
        self.assertEqual(resp.header("Content-Range"), "bytes */0")

    def test_head_ignores_range_and_sends_gets_headers(self):
        # RFC 9110 14.2: GET is the only method with range handling; HEAD answers as GET
        # without Range would.
        head = self.get("/r/text.bin", [("Range", "bytes=0-9")], method="HEAD")
        whole = self.get("/r/text.bin")
        self.assertStatus(head, 200)
        self.assertEqual(head_lines_without_date(head), head_lines_without_date(whole))
        self.assertEqual(head.body, b"")

    def test_ranges_on_a_persistent_connection(self):
        client = self.connect(self.port)
        reqs = [request("GET", "/r/text.bin", "HTTP/1.1",
                        [("Host", "x"), ("Range", r)]) for r in
                ("bytes=0-9", "bytes=5-6,8-9", "bytes=-3", f"bytes={SIZE}-", "bytes=1-1")]
        responses = harness.pipeline(client, reqs[:3], ["GET"] * 3)
        self.assertEqual([r.code for r in responses], [206, 206, 206])
        self.assertEqual(responses[2].body, TEXT[-3:])
        self.assertEqual(len(multipart_parts(responses[1])), 2)
        client.send(reqs[3])
        self.assertStatus(client.read_response(), 416)
        self.assertTrue(client.wait_closed(harness.IO_TIMEOUT)[0], "416 closes, as send_error")

    def test_log_line_shows_206(self):
        self.get("/r/text.bin?log206", [("Range", "bytes=0-1")])
        lines = self.server.wait_log(lambda ls: any("log206" in line for line in ls))
        self.assertTrue(any(line.endswith('"GET /r/text.bin?log206 HTTP/1.0" 206 -')
                            for line in lines), lines[-3:])


@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
class Validators(RangeCase):
    """RFC 9110 8.8 and 13: ETag, If-None-Match, If-Modified-Since, If-Match,
    If-Unmodified-Since, If-Range; HEAD answers each as GET does."""

    def test_etag_is_strong_and_names_the_version(self):
        resp = self.get("/r/text.bin")
        etag = resp.header("ETag")
        self.assertRegex(etag, ETAG_RE)
        st = os.stat(os.path.join(self.doc.root, "r", "text.bin"))
        self.assertEqual(etag, f'"{st.st_ino:x}-{st.st_size:x}-{int(st.st_mtime):x}.'
                               f'{st.st_mtime_ns % 1000000000:09d}"')
        self.assertEqual(resp.header("Accept-Ranges"), "bytes")

    def test_if_none_match(self):
        etag = self.etag()
        for value in [etag, f"W/{etag}", f'"x", {etag}', "*", f' "a" ,, {etag} ']:
            with self.subTest(value):
                resp = self.get("/r/text.bin", [("If-None-Match", value)])
                self.assertStatus(resp, 304)
                # an HTTP/1.0 request to an HTTP/1.1 server: it closes, and says so
                self.assertEqual(head_lines_without_date(resp)[1:],
                                 [f"Last-Modified: {LAST_MODIFIED}", f"ETag: {etag}",
                                  "Connection: close"])
                self.assertRegex(resp.header("Date"), harness.IMF_FIXDATE_RE)
        for value in ['"x"', "garbage", f"{etag}, garbage", etag.upper()]:
            with self.subTest(value):
                self.assertStatus(self.get("/r/text.bin", [("If-None-Match", value)]), 200)

    def test_if_none_match_on_two_lines(self):
        resp = self.get("/r/text.bin", [("If-None-Match", '"x"'), ("If-None-Match", self.etag())])
        self.assertStatus(resp, 304)

    def test_if_none_match_wins_over_if_modified_since(self):
        etag = self.etag()
        self.assertStatus(self.get("/r/text.bin", [("If-None-Match", '"x"'),
                                                  ("If-Modified-Since", LAST_MODIFIED)]), 200)
        self.assertStatus(self.get("/r/text.bin", [
            ("If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"), ("If-None-Match", etag)]), 304)

    def test_if_modified_since_304_carries_the_validators(self):
        resp = self.get("/r/text.bin", [("If-Modified-Since", LAST_MODIFIED)])
        self.assertStatus(resp, 304)
        self.assertEqual(resp.header("ETag"), self.etag())
        self.assertEqual(resp.header("Last-Modified"), LAST_MODIFIED)

    def test_if_match_and_if_unmodified_since_give_412(self):
        etag = self.etag()
        earlier = email.utils.formatdate(harness.FIXED_MTIME - 1, usegmt=True)
        cases = [([("If-Match", '"x"')], 412), ([("If-Match", f"W/{etag}")], 412),
                 ([("If-Match", etag)], 200), ([("If-Match", "*")], 200),
                 ([("If-Match", f'"x", {etag}')], 200),
                 ([("If-Unmodified-Since", earlier)], 412),
                 ([("If-Unmodified-Since", LAST_MODIFIED)], 200),
                 ([("If-Unmodified-Since", "not a date")], 200),
                 ([("If-Match", etag), ("If-Unmodified-Since", earlier)], 200),
                 ([("If-Match", '"x"'), ("If-None-Match", etag)], 412)]
        for headers, code in cases:
            with self.subTest(headers):
                resp = self.get("/r/text.bin", headers)
                self.assertStatus(resp, code)
                if code == 412:
                    self.assertEqual(resp.reason, "Precondition Failed")

    def test_if_range(self):
        etag = self.etag()
        earlier = email.utils.formatdate(harness.FIXED_MTIME - 1, usegmt=True)
        cases = {etag: 206, LAST_MODIFIED: 206, f"W/{etag}": 200, '"x"': 200,
                 earlier: 200, "garbage": 200}
        for value, code in cases.items():
            with self.subTest(value):
                resp = self.get("/r/text.bin", [("Range", "bytes=0-9"), ("If-Range", value)])
                self.assertStatus(resp, code)
                self.assertEqual(resp.body, TEXT[:10] if code == 206 else TEXT)

    def test_etag_is_stable_across_restarts_and_changes_with_the_file(self):
        doc = self.docroot({"v.txt": b"version one\n"})
        first = self.start(harness.httpserve_target(), root=doc.root)
        etag = get(first.port, "/v.txt").header("ETag")
        first.stop()
        again = self.start(harness.httpserve_target(), root=doc.root)
        self.assertEqual(get(again.port, "/v.txt").header("ETag"), etag)
        path = os.path.join(doc.root, "v.txt")
        os.utime(path, ns=(harness.FIXED_MTIME * 10**9 + 1, harness.FIXED_MTIME * 10**9 + 1))
        changed = get(again.port, "/v.txt", [("If-None-Match", etag)])
        self.assertStatus(changed, 200, "one nanosecond later is another version")
        self.assertNotEqual(changed.header("ETag"), etag)

    def test_listing_has_no_etag_but_obeys_if_match(self):
        resp = self.get("/r/")
        self.assertIsNone(resp.header("ETag"))
        self.assertStatus(self.get("/r/", [("If-Match", '"x"')]), 412)
        self.assertStatus(self.get("/r/", [("If-None-Match", "*")]), 304)
        self.assertStatus(self.get("/r/", [("If-Match", "*")]), 200)

    def test_head_sends_the_headers_of_get(self):
        etag = self.etag()
        cases = [[], [("If-None-Match", etag)], [("If-Modified-Since", LAST_MODIFIED)],
                 [("If-Match", '"x"')], [("If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT")],
                 [("If-None-Match", '"x"')]]
        for target in ["/r/text.bin", "/r/empty.bin", "/r/", "/r/app.js"]:
            for headers in cases:
                with self.subTest(target=target, headers=headers):
                    got = self.get(target, headers)
                    head = self.get(target, headers, method="HEAD")
                    self.assertEqual(head.status_line, got.status_line)
                    self.assertEqual(head_lines_without_date(head), head_lines_without_date(got))
                    self.assertEqual(head.body, b"")


@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
class Precompressed(RangeCase):
    """--serve-precompressed: file.br and file.gz chosen by Accept-Encoding, with Vary."""

    args = ("--serve-precompressed",)

    def test_accept_encoding_chooses_the_sibling(self):
        cases = {"gzip": APP_GZ, "br": APP_BR, "gzip, deflate, br, zstd": APP_BR,
                 "br;q=0.5, gzip": APP_GZ, "x-gzip": APP_GZ, "*": APP_BR,
                 "gzip;q=0, br;q=0": APP_JS, "identity": APP_JS, "": APP_JS,
                 "identity;q=1, gzip;q=0.5": APP_JS, "*;q=0, gzip;q=0.1": APP_GZ}
        for value, body in cases.items():
            with self.subTest(value):
                resp = self.get("/r/app.js", [("Accept-Encoding", value)])
                self.assertStatus(resp, 200)
                self.assertEqual(resp.body, body)
                self.assertEqual(resp.header("Content-type"), "text/javascript")
                self.assertEqual(resp.header("Vary"), "Accept-Encoding")
                want = {APP_GZ: "gzip", APP_BR: "br", APP_JS: None}[body]
                self.assertEqual(resp.header("Content-Encoding"), want)

    def test_without_accept_encoding_the_file_itself_with_vary(self):
        resp = self.get("/r/app.js")
        self.assertEqual((resp.body, resp.header("Vary"), resp.header("Content-Encoding")),
                         (APP_JS, "Accept-Encoding", None))

    def test_each_sibling_has_its_own_etag(self):
        tags = {self.get("/r/app.js", [("Accept-Encoding", ae)]).header("ETag")
                for ae in ("gzip", "br", "identity")}
        self.assertEqual(len(tags), 3)

    def test_only_gz_beside(self):
        resp = self.get("/r/only-gz.css", [("Accept-Encoding", "br")])
        self.assertEqual((resp.header("Content-Encoding"), resp.header("Vary")),
                         (None, "Accept-Encoding"))
        resp = self.get("/r/only-gz.css", [("Accept-Encoding", "br, gzip")])
        self.assertEqual(resp.header("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(resp.body), b"body{}\n" * 40)

    def test_no_sibling_no_vary_and_a_stale_sibling_is_never_served(self):
        for target in ["/r/plain.txt", "/r/stale.txt"]:
            with self.subTest(target):
                resp = self.get(target, [("Accept-Encoding", "gzip")])
                self.assertIsNone(resp.header("Content-Encoding"))
                self.assertIsNone(resp.header("Vary"))
        self.assertEqual(self.get("/r/stale.txt", [("Accept-Encoding", "gzip")]).body,
                         b"new content\n")

    def test_ranges_apply_to_the_encoded_bytes(self):
        resp = self.get("/r/app.js", [("Accept-Encoding", "gzip"), ("Range", "bytes=0-9")])
        self.assertStatus(resp, 206)
        self.assertEqual(resp.body, APP_GZ[:10])
        self.assertEqual(resp.header("Content-Range"), f"bytes 0-9/{len(APP_GZ)}")
        self.assertEqual(resp.header("Content-Encoding"), "gzip")
        parts = multipart_parts(self.get("/r/app.js", [("Accept-Encoding", "br"),
                                                       ("Range", "bytes=0-1,-2")]))
        self.assertEqual([d for _, d in parts], [APP_BR[:2], APP_BR[-2:]])
        self.assertEqual(parts[0][0]["Content-Type"], "text/javascript")

    def test_304_and_head_carry_vary(self):
        etag = self.get("/r/app.js", [("Accept-Encoding", "gzip")]).header("ETag")
        resp = self.get("/r/app.js", [("Accept-Encoding", "gzip"), ("If-None-Match", etag)])
        self.assertStatus(resp, 304)
        self.assertEqual(resp.header("Vary"), "Accept-Encoding")
        self.assertEqual(resp.header("ETag"), etag)
        # the identity version's tag does not validate the gzip one
        self.assertStatus(self.get("/r/app.js", [("If-None-Match", etag)]), 200)
        for ae in ("gzip", "br", "identity"):
            got = self.get("/r/app.js", [("Accept-Encoding", ae)])
            head = self.get("/r/app.js", [("Accept-Encoding", ae)], method="HEAD")
            self.assertEqual(head_lines_without_date(head), head_lines_without_date(got))


@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
class NotPrecompressedByDefault(RangeCase):
    """Without the option a sibling is just another file: no Content-Encoding, no Vary."""

    def test_siblings_are_ignored(self):
        resp = self.get("/r/app.js", [("Accept-Encoding", "gzip, br")])
        self.assertEqual((resp.body, resp.header("Content-Encoding"), resp.header("Vary")),
                         (APP_JS, None, None))
        self.assertEqual(self.get("/r/app.js.gz").body, APP_GZ)


# ------------------------------------------------------------------------- curl

@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
@unittest.skipUnless(shutil.which("curl"), "curl is not installed (.ci/run installs it)")
class Curl(RangeCase):
    """The same through curl: --range, -C - to resume, --compressed."""

    args = ("--serve-precompressed",)

    def curl(self, *args):
        argv = ["curl", "-sS", "--max-time", "20", *args]
        done = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout, done.stderr.decode(errors="replace")

    def url(self, target):
        return f"http://127.0.0.1:{self.port}{target}"

    def test_range(self):
        rc, out, err = self.curl("--range", "100-199", self.url("/r/text.bin"))
        self.assertEqual((rc, out), (0, TEXT[100:200]), err)
        rc, out, err = self.curl("--range", "-16", "-w", "%{http_code}", self.url("/r/text.bin"))
        self.assertEqual((rc, out), (0, TEXT[-16:] + b"206"), err)

    def test_resume_with_c_dash(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "text.bin")
            with open(path, "wb") as f:
                f.write(TEXT[:3000])
            rc, code, err = self.curl("-C", "-", "-o", path, "-w", "%{http_code}",
                                      self.url("/r/text.bin"))
            self.assertEqual((rc, code), (0, b"206"), err)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), TEXT)
            # again, complete: 416, which curl takes as "already downloaded"
            rc, code, err = self.curl("-C", "-", "-o", path, "-w", "%{http_code}",
                                      self.url("/r/text.bin"))
            self.assertEqual((rc, code), (0, b"416"), err)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), TEXT)

    def test_compressed(self):
        rc, out, err = self.curl("--compressed", "-D", "-", "-H", "Accept-Encoding: gzip",
                                 self.url("/r/app.js"))
        self.assertEqual(rc, 0, err)
        head, _, body = out.partition(b"\r\n\r\n")
        head += b"\r\n"
        self.assertIn(b"\r\nContent-Encoding: gzip\r\n", head)
        self.assertIn(b"\r\nVary: Accept-Encoding\r\n", head)
        self.assertEqual(body, APP_JS, "curl decodes the gzip sibling to the file")


# ------------------------------------------------------------ 100 MiB, random ranges

BIG = 100 << 20


@harness.beyond_python("caching, ranges and precompressed files, which Python lacks")
class RandomRangesOfABigFile(harness.ServerTestCase):
    """A 100 MiB file fetched as random pieces in random order, some several to a request
    (multipart/byteranges), must reassemble to the same SHA-256."""

    def test_reassembles_to_the_same_sha256(self):
        rng = random.Random(20251125)
        base = tempfile.mkdtemp(prefix="httpserve-e2e-big-")
        self.addCleanup(shutil.rmtree, base, True)
        digest = hashlib.sha256()
        with open(os.path.join(base, "big.bin"), "wb") as f:
            for _ in range(BIG >> 20):
                block = rng.randbytes(1 << 20)
                digest.update(block)
                f.write(block)
        server = self.start(harness.httpserve_target(), "-q", root=base)
        cuts = sorted(rng.sample(range(1, BIG), 60))
        pieces = list(zip([0] + cuts, [c - 1 for c in cuts] + [BIG - 1]))
        rng.shuffle(pieces)
        out = bytearray(BIG)
        requests = 0
        while pieces:
            batch = [pieces.pop() for _ in range(min(len(pieces), rng.choice([1, 1, 2, 3])))]
            value = "bytes=" + ",".join(f"{a}-{b}" for a, b in batch)
            resp = get(server.port, "/big.bin", [("Range", value)])
            self.assertStatus(resp, 206)
            got = ([(resp.header("Content-Range"), resp.body)] if len(batch) == 1 else
                   [(f["Content-Range"], d) for f, d in multipart_parts(resp)])
            for (first, last), (content_range, data) in zip(batch, got):
                self.assertEqual(content_range, f"bytes {first}-{last}/{BIG}")
                self.assertEqual(len(data), last - first + 1)
                out[first:last + 1] = data
            requests += 1
        self.assertEqual(hashlib.sha256(out).hexdigest(), digest.hexdigest(),
                         f"{requests} requests")


if __name__ == "__main__":
    unittest.main()
