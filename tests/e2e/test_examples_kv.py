"""test_examples_kv.py: the example build/examples/kvstore, a key-value store (one file per
key in a directory) written as a blocking handler, driven over HTTP.

Its contract: `kvstore DIRECTORY [PORT]` listens on 127.0.0.1 with httpserve's banner;
PUT /KEY stores the body (201 when new, 204 when replaced), GET /KEY answers it (200,
application/octet-stream) or 404, DELETE /KEY removes it (204) or 404; a target that is not
"/KEY", KEY being 1 to 128 of [A-Za-z0-9._-] not starting with ".", is 400 and touches
nothing. The tests skip, saying why, when the binary has not been built.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import request

KVSTORE = harness.example_path("kvstore")


def kv_request(method, key, body=b"", close=True, chunks=None):
    """An HTTP/1.1 request for /key; a body with Content-Length, or chunked in chunks."""
    headers = [("Host", "localhost")] + ([("Connection", "close")] if close else [])
    if chunks is not None:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
        return request(method, key, "HTTP/1.1", headers + [("Transfer-Encoding", "chunked")],
                       framed)
    if method == "PUT":
        headers.append(("Content-Length", len(body)))
    return request(method, key, "HTTP/1.1", headers, body)


@unittest.skipUnless(os.access(KVSTORE, os.X_OK), f"{KVSTORE} is not built")
class KeyValueExample(harness.ServerTestCase):
    """The example answers as its contract says."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="httpserve-kv-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.kv = self.start_program([KVSTORE, self.dir, "0"])

    def call(self, method, key, body=b"", **kw):
        return harness.exchange_one(self.kv.port, kv_request(method, key, body, **kw), method)

    def files(self):
        return sorted(os.listdir(self.dir))

    def test_put_get_delete_round_trip(self):
        resp = self.call("PUT", "/greeting", b"hello")
        self.assertStatus(resp, 201)
        resp = self.call("GET", "/greeting")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, b"hello")
        self.assertEqual(resp.header("Content-Type"), "application/octet-stream")
        self.assertStatus(self.call("PUT", "/greeting", b"hello again"), 204)
        self.assertEqual(self.call("GET", "/greeting").body, b"hello again")
        self.assertEqual(self.files(), ["greeting"])
        self.assertStatus(self.call("DELETE", "/greeting"), 204)
        self.assertStatus(self.call("GET", "/greeting"), 404)
        self.assertStatus(self.call("DELETE", "/greeting"), 404)
        self.assertEqual(self.files(), [])

    def test_binary_bodies_of_many_sizes(self):
        bodies = {
            "empty": b"",
            "every-byte": bytes(range(256)) * 3,
            "nul-and-crlf": b"\0\r\n\r\n\0",
        }
        for size in (1, 65535, 65536, 65537, 1 << 20):
            bodies[f"random-{size}"] = harness.pseudo_random_bytes(size, seed=size)
        for key, body in bodies.items():
            with self.subTest(key=key):
                self.assertStatus(self.call("PUT", "/" + key, body), 201)
                resp = self.call("GET", "/" + key)
                self.assertStatus(resp, 200)
                self.assertEqual(resp.header("Content-Length"), str(len(body)))
                self.assertEqual(harness.sha256(resp.body), harness.sha256(body))
                with open(os.path.join(self.dir, key), "rb") as f:
                    self.assertEqual(f.read(), body)
        self.assertEqual(self.files(), sorted(bodies))

    def test_a_5_mib_body(self):
        body = harness.pseudo_random_bytes(5 << 20)
        self.assertStatus(self.call("PUT", "/big.bin", body), 201)
        resp = self.call("GET", "/big.bin")
        self.assertStatus(resp, 200)
        self.assertEqual(len(resp.body), len(body))
        self.assertEqual(harness.sha256(resp.body), harness.sha256(body))

    def test_a_chunked_put(self):
        chunks = [b"one ", b"", b"two " * 1000, harness.pseudo_random_bytes(70000)]
        raw = kv_request("PUT", "/chunked", chunks=chunks)
        self.assertStatus(harness.exchange_one(self.kv.port, raw, "PUT"), 201)
        self.assertEqual(self.call("GET", "/chunked").body, b"".join(chunks))

    def test_absent_keys_are_404(self):
        for key in ("/missing", "/a", "/Z_9-x.y"):
            for method in ("GET", "DELETE"):
                with self.subTest(key=key, method=method):
                    self.assertStatus(self.call(method, key), 404)

    def test_bad_keys_are_400_and_touch_nothing(self):
        outside = os.path.join(os.path.dirname(self.dir), "escape")
        bad = ["/", "/.hidden", "/..", "/../escape", "/a/b", "/a%2Fb", "/a%20b", "/a?x=1",
               "/a;b", "/a~", "/" + "k" * 129, "/.tmp-XXXXXX"]
        for key in bad:
            for method in ("GET", "PUT", "DELETE"):
                with self.subTest(key=key, method=method):
                    resp = self.call(method, key, b"data" if method == "PUT" else b"")
                    self.assertStatus(resp, 400)
        self.assertEqual(self.files(), [])
        self.assertFalse(os.path.exists(outside))
        # The longest key is accepted.
        self.assertStatus(self.call("PUT", "/" + "k" * 128, b"x"), 201)

    def test_concurrent_clients(self):
        errors = []
        clients, rounds = 8, 10

        def client(n):
            try:
                for i in range(rounds):
                    key = f"/c{n}-{i % 3}"
                    body = harness.pseudo_random_bytes(1000 + 997 * i, seed=n * 100 + i)
                    put = self.call("PUT", key, body)
                    got = self.call("GET", key)
                    if put.code not in (201, 204) or got.code != 200 or got.body != body:
                        errors.append((key, put.status_line, got.status_line))
                    shared = self.call("PUT", "/shared", body)
                    if shared.code not in (201, 204):
                        errors.append(("/shared", shared.status_line))
            except Exception as exc:  # reported below, with the others
                errors.append((n, repr(exc)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(harness.READ_DEADLINE * 2)
        self.assertFalse(any(t.is_alive() for t in threads), "a client did not finish")
        self.assertEqual(errors, [])
        expected = sorted([f"c{n}-{i}" for n in range(clients) for i in range(3)] + ["shared"])
        self.assertEqual(self.files(), expected)  # no temporary file left behind
        self.assertEqual(len(self.call("GET", "/shared").body) % 997, 1000 % 997)

    def test_keep_alive(self):
        client = self.connect(self.kv.port)
        steps = [("PUT", "/ka", b"first", 201), ("GET", "/ka", b"", 200),
                 ("PUT", "/ka", b"second", 204), ("GET", "/ka", b"", 200),
                 ("DELETE", "/ka", b"", 204), ("PUT", "/ka2", b"", 201)]
        responses = harness.keep_alive(
            client, [kv_request(m, k, b, close=False) for m, k, b, _ in steps],
            [m for m, _, _, _ in steps])
        self.assertEqual([r.code for r in responses], [code for _, _, _, code in steps])
        self.assertEqual(responses[1].body, b"first")
        self.assertEqual(responses[3].body, b"second")
        closed, _, _ = client.wait_closed(0.2)
        self.assertFalse(closed, "the connection closed after successful responses")
        # Pipelined too, in one write.
        steps = [("PUT", "/p", b"x" * 100000), ("GET", "/p", b""), ("DELETE", "/p", b"")]
        responses = harness.pipeline(
            client, [kv_request(m, k, b, close=False) for m, k, b in steps],
            [m for m, _, _ in steps])
        self.assertEqual([r.code for r in responses], [201, 200, 204])
        self.assertEqual(responses[1].body, b"x" * 100000)

    def test_sigint_exits_0(self):
        self.call("GET", "/x")
        self.assertEqual(self.kv.stop(signal.SIGINT), 0, self.kv.describe())


@unittest.skipUnless(os.access(KVSTORE, os.X_OK), f"{KVSTORE} is not built")
class KeyValueCommandLine(unittest.TestCase):
    """A directory that cannot be used is an error at start, not a server that fails."""

    def test_missing_directory_exits_1(self):
        with tempfile.TemporaryDirectory() as tmp:
            for path in (os.path.join(tmp, "absent"), os.path.join(tmp, "file")):
                if path.endswith("file"):
                    open(path, "w").close()
                with self.subTest(path=path):
                    proc = subprocess.run([KVSTORE, path, "0"], capture_output=True,
                                          timeout=harness.STOP_TIMEOUT)
                    self.assertEqual(proc.returncode, 1, proc.stderr)
                    self.assertIn(b"kvstore:", proc.stderr)


if __name__ == "__main__":
    unittest.main()
