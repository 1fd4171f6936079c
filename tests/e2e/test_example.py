"""test_example.py: the embedding example build/examples/echo, a JSON echo service built on
libhttpserve, driven over HTTP.

The example is being written while these tests are, so everything they assume of it is
gathered in ASSUMED CONTRACT below, to be adjusted in that one place. The tests skip, saying
why, when the binary has not been built.
"""

import json
import os
import signal
import unittest

import harness
from harness import request

# ------------------------------------------------------------ ASSUMED CONTRACT
# Command line: `echo [port]`; port 0 picks a free port. It listens on 127.0.0.1 only (the
# harness stops it and fails if its banner names any other address).
ECHO = harness.example_path("echo")
ECHO_ARGS = ["0"]
# Banner: the same line as httpserve's, "Serving HTTP on HOST port PORT (http://...) ...".
# GET of any path: 200, Content-Type application/json (parameters allowed), and a JSON object
# holding at least these members.
ECHO_CONTENT_TYPE = "application/json"


def echo_get_members(path):
    return {"method": "GET", "path": path}


# POST of any path: 200, Content-Type application/json, the request body back byte for byte,
# whether it came with Content-Length or chunked.
# SIGINT stops it with exit status 0.
# ------------------------------------------------------------------------------


def post(path, body, chunks=None):
    """An HTTP/1.1 POST of body, with Content-Length, or chunked in chunks when given."""
    headers = [("Host", "localhost"), ("Content-Type", "application/json"),
               ("Connection", "close")]
    if chunks is None:
        return request("POST", path, "HTTP/1.1", headers + [("Content-Length", len(body))], body)
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return request("POST", path, "HTTP/1.1", headers + [("Transfer-Encoding", "chunked")], framed)


@unittest.skipUnless(os.access(ECHO, os.X_OK), f"{ECHO} is not built")
class EchoExample(harness.ServerTestCase):
    """The example answers as its contract says."""

    maxDiff = None

    def setUp(self):
        self.echo = self.start_program([ECHO] + ECHO_ARGS)

    def send(self, data, method):
        return harness.exchange_one(self.echo.port, data, method)

    def assertJson(self, resp):
        self.assertStatus(resp, 200)
        media_type = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
        self.assertEqual(media_type, ECHO_CONTENT_TYPE, resp.head_lines)

    def test_banner_has_the_httpserve_format(self):
        self.assertEqual(self.echo.banner.host, "127.0.0.1")
        self.assertNotEqual(self.echo.port, 0)

    def test_get_answers_json_naming_method_and_path(self):
        for path in ("/anything", "/a/b/c"):
            with self.subTest(path=path):
                resp = self.send(harness.get(path, "HTTP/1.1", [("Connection", "close")]), "GET")
                self.assertJson(resp)
                members = json.loads(resp.body)
                self.assertEqual({k: members.get(k) for k in echo_get_members(path)},
                                 echo_get_members(path))

    def test_post_echoes_the_body(self):
        body = json.dumps({"hello": "world", "n": [1, 2, 3], "s": "\u00e9"}).encode()
        resp = self.send(post("/echo", body), "POST")
        self.assertJson(resp)
        self.assertEqual(resp.body, body)

    def test_post_of_a_larger_body(self):
        body = json.dumps({"data": "x" * 200000}).encode()
        resp = self.send(post("/echo", body), "POST")
        self.assertJson(resp)
        self.assertEqual(resp.body, body)

    def test_post_with_a_chunked_body(self):
        chunks = [b'{"parts": ', b'["one", ', b'"two"]}']
        resp = self.send(post("/echo", b"", chunks=chunks), "POST")
        self.assertJson(resp)
        self.assertEqual(resp.body, b"".join(chunks))

    def test_sigint_exits_0(self):
        # Serving (past the banner) first: the signal is only promised to a running server.
        self.send(harness.get("/", "HTTP/1.1", [("Connection", "close")]), "GET")
        self.assertEqual(self.echo.stop(signal.SIGINT), 0, self.echo.describe())


if __name__ == "__main__":
    unittest.main()
