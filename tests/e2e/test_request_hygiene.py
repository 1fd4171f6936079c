"""test_request_hygiene.py: request lines and targets an attacker would send.

Each class of input is tried as a family, end to end against the real binary: control
bytes in the request line (a NUL must never cut the line short, in the file lookup or in
the log), request lines that can never be HTTP (refused at once, before their end arrives),
absolute-form targets (served as their path, their authority the Host), and Host values
(validated as uri-host [":" port]). The pure functions deciding these have unit rows in
tests/unit/test_parse.c; here the socket, the page, the close and the log line are checked.
"""

import ssl
import time
import unittest

import harness
import test_cgi as cgi
from harness import request

TARGET = harness.httpserve_target()
H11 = ("-p", "HTTP/1.1")

# The control bytes RFC 9112 forbids in a request line: all but HTAB (LF ends the line).
FORBIDDEN = [b for b in range(0x20) if b not in (0x09, 0x0A)] + [0x7F]


def escaped(data):
    """How a log line shows bytes (Python's log_message): \\xNN for 0x00-0x1f and
    0x7f-0x9f, \\\\ for a backslash, latin-1 otherwise."""
    out = []
    for b in data:
        if b < 0x20 or 0x7F <= b < 0xA0:
            out.append(f"\\x{b:02x}")
        elif b == 0x5C:
            out.append("\\\\")
        else:
            out.append(chr(b))
    return "".join(out)


def tls_client_hello():
    """The first bytes a TLS client sends: a real ClientHello from Python's ssl module."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


@harness.beyond_python("stricter request lines and Host than Python's")
class ControlBytesInTheRequestLine(harness.ServerTestCase):
    """A NUL or another forbidden control byte anywhere in the request line: 400 "Bad
    request syntax" with Python's page, the connection closed, the whole line logged."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot()
        cls.server = cls.class_start(TARGET, root=cls.doc.root)

    def refused(self, line, quiet_log=False):
        raw = harness.exchange(self.server.port, line + b"\r\n\r\n")
        resp = harness.only_response(raw)
        self.assertEqual(resp.status_line.split(" ", 3)[:3], ["HTTP/1.0", "400", "Bad"], line)
        self.assertTrue(resp.reason.startswith("Bad request syntax ("), resp.status_line)
        self.assertIn(b"<p>Error code: 400</p>", resp.body)
        self.assertEqual(resp.header("Connection"), "close")
        self.assertNotIn(harness.DOCROOT_FILES["a.txt"], raw)
        want = f'"{escaped(line)}" 400 -'
        self.server.wait_log(lambda lines: any(l.endswith(want) for l in lines))

    def test_each_forbidden_byte_in_the_path(self):
        for b in FORBIDDEN:
            with self.subTest(byte=b):
                self.refused(b"GET /a.txt" + bytes([b]) + b".png HTTP/1.0")

    def test_nul_anywhere(self):
        for line in (b"GET /\x00 HTTP/1.0", b"GET /a.txt\x00 HTTP/1.0", b"GET\x00/a.txt HTTP/1.0",
                     b"GET /a.txt HTTP/1.0\x00", b"GET /a.txt?\x00 HTTP/1.0",
                     b"GET /a.txt#\x00x HTTP/1.0", b"GET /a.txt HTTP/1.0\x00\x00\x00"):
            with self.subTest(line=line):
                self.refused(line)

    def test_other_places_and_python_whitespace(self):
        # Python splits words on VT, FF, 0x1c-0x1f and a lone CR: they are refused now
        for line in (b"GET\x0b/a.txt HTTP/1.0", b"GET /a.txt\x0cHTTP/1.0", b"GET\x1c/a.txt HTTP/1.0",
                     b"GET /a.txt\rHTTP/1.0", b"GET /?\x1b[2J HTTP/1.0", b"GET /a.txt HTTP/1.\x7f"):
            with self.subTest(line=line):
                self.refused(line)

    def test_htab_and_obs_text_are_still_served_as_python(self):
        resp = harness.exchange_one(self.server.port, b"GET\t/a.txt\tHTTP/1.0\r\n\r\n")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, harness.DOCROOT_FILES["a.txt"])
        resp = harness.exchange_one(self.server.port, b"GET /caf\xe9.txt HTTP/1.0\r\n\r\n")
        self.assertStatus(resp, 404)
        resp = harness.exchange_one(self.server.port, b"GET /a.txt?\x9b HTTP/1.0\r\n\r\n")
        self.assertStatus(resp, 200)

    def test_percent_encoded_nul_stays_a_404(self):
        resp = harness.fetch(self.server.port, "/a.txt%00.png")
        self.assertStatus(resp, 404)


@harness.beyond_python("stricter request lines and Host than Python's")
class LinesThatCanNeverBeHttp(harness.ServerTestCase):
    """A request line whose first word cannot begin a method is refused with 400 as soon
    as its first bytes show it, without waiting for its end or the head's deadline."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot()
        cls.server = cls.class_start(TARGET, *H11, "--header-timeout", "60", root=cls.doc.root)

    def answered_at_once(self, data):
        client = self.connect(self.server.port)
        started = time.monotonic()
        client.send(data)  # no line end: the server must not wait for one
        raw = client.read_until_close()
        took = time.monotonic() - started
        resp = harness.only_response(raw)
        self.assertStatus(resp, 400)
        self.assertTrue(resp.reason.startswith("Bad request syntax ("), resp.status_line)
        self.assertEqual(resp.version, "HTTP/1.0")
        self.assertLess(took, 5.0 if harness.INSTRUMENTED else 2.0,
                        "refused only at a deadline, not at once")
        return resp

    def test_tls_client_hello_on_the_plain_port(self):
        hello = tls_client_hello()
        self.assertEqual(hello[0], 0x16)
        self.answered_at_once(hello)

    def test_first_bytes_no_method_begins_with(self):
        for data in (b"\x16\x03\x01", b"\x00", b"{\"a\": ", b"<html>", b"\x80GET",
                     b"  (GET / HTTP/1.1", b"\xc3\xa9T /", b"@", b"[", b"/index.html"):
            with self.subTest(data=data):
                self.answered_at_once(data)

    def test_a_control_byte_before_the_line_end(self):
        for data in (b"GET /a.txt\x00", b"GET /\x01", b"GET / HTTP/1.1\r\x00", b"GE\x7f"):
            with self.subTest(data=data):
                self.answered_at_once(data)

    def test_a_slow_good_line_still_waits(self):
        client = self.connect(self.server.port)
        for piece in (b"  G", b"ET /a", b".txt HTTP/1.1\r", b"\r", b"\nHost: x\r\n"):
            client.send(piece)
            time.sleep(0.05)
        client.send(b"Connection: close\r\n\r\n")
        _, resp = client.read_final_response()
        self.assertStatus(resp, 200)


@harness.beyond_python("stricter request lines and Host than Python's")
class AbsoluteFormTargets(harness.ServerTestCase):
    """RFC 9112 3.2.2: http and https absolute-form targets are served as their path, the
    authority replaces Host, the log keeps the line as sent; other schemes are 400."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cgi.cgi_docroot(cls)
        cls.server = cls.class_start(TARGET, *H11, "--cgi", root=cls.doc.root)

    def get(self, target, version="HTTP/1.1", headers=(("Host", "localhost"),)):
        data = request("GET", target, version, list(headers) + [("Connection", "close")])
        return harness.exchange_one(self.server.port, data)

    def test_served_as_the_path(self):
        port = self.server.port
        for target in (f"http://127.0.0.1:{port}/a.txt", "http://example.com/a.txt",
                       "https://localhost/a.txt", "HTTP://LOCALHOST:1/a.txt?x=1",
                       f"http://[::1]:{port}/a.txt", "http://h//a.txt"):
            with self.subTest(target=target):
                resp = self.get(target)
                self.assertStatus(resp, 200)
                self.assertEqual(resp.body, harness.DOCROOT_FILES["a.txt"])
                self.server.wait_log(lambda lines, t=target: any(
                    l.endswith(f'"GET {t} HTTP/1.1" 200 -') for l in lines))

    def test_http10_and_without_host(self):
        resp = self.get("http://localhost/a.txt", "HTTP/1.0", headers=())
        self.assertStatus(resp, 200)

    def test_directory_redirect_uses_the_path(self):
        resp = self.get("http://example.com/sub?x=1")
        self.assertStatus(resp, 301)
        self.assertEqual(resp.header("Location"), "/sub/?x=1")
        resp = self.get("http://example.com?x=1")
        self.assertStatus(resp, 200)  # "/" with its query: the root listing

    def test_cgi_gets_the_path_and_the_authority_as_host(self):
        resp = self.get("http://example.com:8080/cgi-bin/env.py/extra?q=1",
                        headers=(("Host", "other.example"),))
        self.assertStatus(resp, 200)
        self.assertIn(b"SCRIPT_NAME=[/cgi-bin/env.py]\n", resp.body)
        self.assertIn(b"PATH_INFO=[/extra]\n", resp.body)
        self.assertIn(b"QUERY_STRING=[q=1]\n", resp.body)
        self.assertIn(b"HTTP_HOST=(unset)\n", resp.body)  # Python passes no Host either

    def test_other_schemes_and_bad_authorities_are_400(self):
        for target in ("ftp://h/a.txt", "file:///etc/passwd", "javascript:alert(1)",
                       "httpx://h/a.txt", "http:/a.txt", "http:///a.txt", "http://",
                       "http://user@h/a.txt", "http://u:p@h/a.txt", "http://h:x/a.txt",
                       "http://a%/a.txt", "http://[::1/a.txt", "http://\\evil/a.txt"):
            with self.subTest(target=target):
                resp = self.get(target)
                self.assertStatus(resp, 400)
                self.assertTrue(resp.reason.startswith("Bad request target ("), resp.status_line)
                self.assertEqual(resp.header("Connection"), "close")


@harness.beyond_python("stricter request lines and Host than Python's")
class HostValues(harness.ServerTestCase):
    """RFC 9112 3.2: a Host field with an invalid value is 400, for HTTP/1.0 too."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot()
        cls.server = cls.class_start(TARGET, *H11, root=cls.doc.root)

    def get(self, host, version):
        data = request("GET", "/a.txt", version, [("Host", host), ("Connection", "close")])
        return harness.exchange_one(self.server.port, data)

    def test_invalid_hosts(self):
        for host in ("a b", "a/b", "a?b", "a@b", "user:pw@h", "h:x", "h:80:80", "[::1",
                     "::1", "[::1]x", "a%zz", "a\\b", "<h>", "caf\u00e9", "a\x01b", "h:80 x"):
            for version in ("HTTP/1.1", "HTTP/1.0"):
                with self.subTest(host=host, version=version):
                    resp = self.get(host, version)
                    self.assertStatus(resp, 400)
                    self.assertEqual(resp.reason, "Invalid Host header")
                    self.assertEqual(resp.header("Connection"), "close")

    def test_valid_hosts(self):
        for host in ("localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:80", "[::1]",
                     "[::1]:8000", "xn--caf-dma.example", "a-b.example.", "h:", ""):
            with self.subTest(host=host):
                resp = self.get(host, "HTTP/1.1")
                self.assertStatus(resp, 200)


if __name__ == "__main__":
    unittest.main()
