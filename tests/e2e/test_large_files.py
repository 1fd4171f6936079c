"""test_large_files.py: file bodies of every size class on kept connections, end to end.

The server bounds the socket's unsent queue while it sends a file range of moderate size
and not otherwise, switching per range on one connection. Each test mixes the classes on
one kept connection (below the bound, just above it, up to the largest paced size, just
beyond it, well beyond it), in ranges and in multipart/byteranges too, for a reader that
keeps up, a slow reader with a small receive buffer, and curl reusing its connection; every
body must arrive whole and in order, and the connection must stay usable.

The same tests run over HTTPS (LargeFilesTLS), where a file goes out as records gathered
four to a write and a file byte counts as sent only once its record is wholly in the
socket: a slow reader stops the server mid-batch. Ranges of one file and then another on
one connection start at offsets the previous range's buffer held; a long listing (a body
made in memory) reaches a slow reader whole; a file truncated while it is sent over TLS
ends the response short, as a prefix of the file, and closes.
"""

import hashlib
import os
import random
import shutil
import ssl
import subprocess
import time
import unittest

import harness

KIB, MIB = 1 << 10, 1 << 20
# around the bound (256 KiB) and the largest paced range (4 MiB)
SIZES = [1, 200 * KIB, 256 * KIB, 256 * KIB + 1, MIB, 4 * MIB, 4 * MIB + 1, 9 * MIB]
RNG = random.Random(20261205)
FILES = {"big/%d.bin" % n: RNG.randbytes(n) for n in SIZES}
# a listing of ~190 KB: a long body made in memory, not read from a file
NAMES = ["many/entry-%04d-%s.txt" % (i, "x" * 40) for i in range(1500)]
FILES.update({name: b"" for name in NAMES})


class LargeFiles(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot(FILES)
        cls.server = cls.class_start(harness.httpserve_target(), "-q", "-p", "HTTP/1.1",
                                     root=cls.doc.root)
        cls.port = cls.server.port

    scheme = "http"
    curl_args = ()

    def fetch_on(self, client, target, headers=()):
        client.send(harness.request("GET", target, "HTTP/1.1", [("Host", "x")] + list(headers)))
        return client.read_response()

    def check_sequence(self, client, order):
        for n in order:
            resp = self.fetch_on(client, "/big/%d.bin" % n)
            self.assertStatus(resp, 200)
            self.assertEqual(len(resp.body), n)
            self.assertTrue(resp.body == FILES["big/%d.bin" % n], "body of %d bytes differs" % n)

    def test_sizes_alternate_on_one_connection(self):
        client = self.connect(self.port)
        order = SIZES + [4 * MIB + 1, 1, MIB, 256 * KIB + 1, 4 * MIB, 200 * KIB, MIB]
        self.check_sequence(client, order)

    def test_slow_reader_with_a_small_receive_buffer(self):
        client = self.connect(self.port, rcvbuf=16 * KIB)
        n = MIB
        client.send(harness.request("GET", "/big/%d.bin" % n, "HTTP/1.1", [("Host", "x")]))
        time.sleep(0.5)  # the server fills what the socket takes and waits for EPOLLOUT
        resp = client.read_response()
        self.assertStatus(resp, 200)
        self.assertTrue(resp.body == FILES["big/%d.bin" % n])
        self.check_sequence(client, [4 * MIB, 256 * KIB + 1, 9 * MIB])

    def test_ranges_of_each_class(self):
        client = self.connect(self.port)
        data = FILES["big/%d.bin" % (9 * MIB)]
        for first, last in [(0, 300 * KIB), (MIB, 5 * MIB), (100, 100 + 4 * MIB - 1),
                            (2 * MIB, 9 * MIB - 1), (7, 7 + 256 * KIB)]:
            resp = self.fetch_on(client, "/big/%d.bin" % (9 * MIB),
                                 [("Range", "bytes=%d-%d" % (first, last))])
            self.assertStatus(resp, 206)
            self.assertTrue(resp.body == data[first:last + 1], "range %d-%d" % (first, last))
        # multipart: a paced part, an unpaced one, a small one, in one response
        resp = self.fetch_on(client, "/big/%d.bin" % (9 * MIB),
                             [("Range", "bytes=0-%d,%d-%d,%d-%d" % (
                                 MIB, MIB + 10, 6 * MIB + 20, 9 * MIB - 5, 9 * MIB - 1))])
        self.assertStatus(resp, 206)
        for part in (data[:MIB + 1], data[MIB + 10:6 * MIB + 21], data[9 * MIB - 5:]):
            self.assertIn(part, resp.body)
        self.check_sequence(client, [MIB, 1])

    def test_curl_reuses_one_connection(self):
        curl = shutil.which("curl")
        if not curl:
            self.skipTest("curl is not installed")
        order = [MIB, 9 * MIB, 256 * KIB + 1, 4 * MIB, MIB]
        cmd = [curl, "-s", *self.curl_args, "-w", "%{stderr}%{num_connects} %{size_download}\\n"]
        for n in order:
            cmd += ["-o", "-", "%s://127.0.0.1:%d/big/%d.bin" % (self.scheme, self.port, n)]
        out = subprocess.run(cmd, capture_output=True, timeout=120, check=True)
        want = b"".join(FILES["big/%d.bin" % n] for n in order)
        self.assertEqual(hashlib.sha256(out.stdout).hexdigest(), hashlib.sha256(want).hexdigest())
        lines = out.stderr.decode().split()
        # one connection made, the rest reused
        self.assertEqual(sum(int(x) for x in lines[0::2]), 1, lines)
        self.assertEqual([int(x) for x in lines[1::2]], order)


@harness.beyond_python("HTTPS as Python 3.14 serves it, on the event loop")
class LargeFilesTLS(LargeFiles):
    scheme = "https"
    curl_args = ("-k",)

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot(FILES)
        cls.server = cls.class_start(harness.httpserve_target(), "-q", "-p", "HTTP/1.1",
                                     "--tls-self-signed", root=cls.doc.root)
        cls.port = cls.server.port
        cls.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cls.ctx.check_hostname = False
        cls.ctx.verify_mode = ssl.CERT_NONE

    def connect(self, port, **kw):
        client = super().connect(port, **kw)
        client.sock = self.ctx.wrap_socket(client.sock, server_hostname="localhost")
        return client

    # Under a sanitizer or valgrind, encryption is slow: the whole-file sequences, which
    # take the same path as the slow reader's and as plain HTTP's, are left to plain runs.
    @unittest.skipIf(harness.INSTRUMENTED, "instrumented: covered by the slow reader")
    def test_sizes_alternate_on_one_connection(self):
        super().test_sizes_alternate_on_one_connection()

    @unittest.skipIf(harness.INSTRUMENTED, "instrumented: covered by the slow reader")
    def test_curl_reuses_one_connection(self):
        super().test_curl_reuses_one_connection()

    def test_pipelined_ranges_of_two_files_at_the_same_offsets(self):
        client = self.connect(self.port)
        big, mid = FILES["big/%d.bin" % (9 * MIB)], FILES["big/%d.bin" % (4 * MIB)]
        # each range starts inside the stretch of file the one before it read last; sent
        # together, so that the connection never goes idle between them
        ranges = [(9 * MIB, big, 0, 20000), (4 * MIB, mid, 16390, 70000),
                  (9 * MIB, big, 65540, 65550), (4 * MIB, mid, 65545, 99999)]
        client.send(b"".join(harness.request("GET", "/big/%d.bin" % name, "HTTP/1.1", [
            ("Host", "x"), ("Range", "bytes=%d-%d" % (first, last))])
            for name, _, first, last in ranges))
        for name, data, first, last in ranges:
            resp = client.read_response()
            self.assertStatus(resp, 206)
            self.assertTrue(resp.body == data[first:last + 1], "%d: %d-%d" % (name, first, last))

    def test_a_long_listing_reaches_a_slow_reader_whole(self):
        quick = self.fetch_on(self.connect(self.port), "/many/")
        self.assertStatus(quick, 200)
        self.assertGreater(len(quick.body), 150000)
        for name in NAMES:
            self.assertIn(name.split("/")[1].encode(), quick.body)
        client = self.connect(self.port, rcvbuf=16 * KIB)
        client.send(harness.request("GET", "/many/", "HTTP/1.1", [("Host", "x")]))
        time.sleep(0.5)  # the server fills what the socket takes and waits mid-batch
        slow = client.read_response()
        self.assertTrue(slow.body == quick.body, "the listing differs when read slowly")
        self.check_sequence(client, [MIB, 1])

    def test_a_file_truncated_while_sent_ends_short_and_closes(self):
        path = os.path.join(self.doc.root, "shrinking.bin")
        # more than any send buffer holds, so that the truncation comes mid-body
        data = FILES["big/%d.bin" % (9 * MIB)] * 4
        with open(path, "wb") as f:
            f.write(data)
        self.addCleanup(os.unlink, path)
        client = self.connect(self.port, rcvbuf=16 * KIB)
        client.send(harness.request("GET", "/shrinking.bin", "HTTP/1.1", [("Host", "x")]))
        head = client.read_head()
        self.assertStatus(head, 200)
        self.assertEqual(head.header("Content-Length"), str(len(data)))
        os.truncate(path, MIB)
        body = client.read_until_close()
        self.assertLess(len(body), len(data))
        self.assertTrue(body == data[:len(body)], "the body is not a prefix of the file")


if __name__ == "__main__":
    unittest.main()
