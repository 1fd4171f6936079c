"""test_pool_more.py: more of the handler pool, through build/tests/progs/pool_server (its
header comment lists its endpoints): a blocking slot that sends several files one after the
other, each with its own hs_send_file; HTTPS through blocking slots (the pool thread reads
and writes the connection's TLS state: uploads, streamed responses, files, keep-alive across
pool and worker requests); and a streamed body a blocking slot leaves unread.
"""

import os
import unittest
import ssl
import zlib

import harness
from harness import request
import test_pool

PROGRAM = test_pool.PROGRAM
get = test_pool.get

FILES = {
    "one.txt": b"one\n",
    "two.bin": harness.pseudo_random_bytes(70000, seed=2),
    "three.bin": harness.pseudo_random_bytes(300000, seed=3),
    "empty.bin": b"",
}


def crc32(data):
    return f"{zlib.crc32(data):08x}"


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MoreCase(test_pool.PoolCase):
    """pool_server with FILES in its document root; tls=True serves HTTPS."""

    def start(self, *args, mode=None, tls=False):
        self.doc = self.docroot(FILES)
        wrapper = os.environ.get("HTTPSERVE_E2E_WRAPPER", "").split()
        extra = [str(a) for a in args]
        if tls:
            extra = (extra + ["16", "0", "0", "2"][len(extra):]) + ["tls"]
        argv = wrapper + [PROGRAM, self.doc.root, mode or self.mode] + extra
        self.server = self.start_program(argv)
        return self.server.port

    def connect_tls(self, port):
        client = self.connect(port, timeout=10 * test_pool.SLOW)
        client.sock = tls_context().wrap_socket(client.sock, server_hostname="localhost")
        return client


class SeveralFiles(MoreCase):
    def check_files(self, port, names):
        client = self.connect(port)
        want = b"".join(FILES[n] for n in names) + b"end\n"
        for _ in range(2):  # kept alive: the second answer is whole too
            client.send(get("/files?" + ",".join(names)))
            resp = client.read_response()
            self.assertEqual((resp.code, len(resp.body)), (200, len(want)), names)
            self.assertEqual(resp.body, want, names)

    def test_a_blocking_slot_sends_files_one_after_the_other(self):
        """Each hs_send_file of a blocking slot is sent before it returns, so the next one,
        of another file, is not refused as if the first were still queued."""
        port = self.start()
        for names in (["one.txt"], ["one.txt", "two.bin"], ["two.bin", "three.bin", "one.txt"],
                      ["three.bin", "three.bin"], ["empty.bin", "one.txt"],
                      ["one.txt", "empty.bin", "two.bin"]):
            self.check_files(port, names)

    def test_every_slot_blocking_sends_files_one_after_the_other(self):
        port = self.start(mode="blocking")
        self.check_files(port, ["two.bin", "one.txt"])


@unittest.skipUnless(hasattr(ssl, "SSLContext"), "no ssl module")
class HttpsThroughThePool(MoreCase):
    def test_https_slots_uploads_streams_and_files_kept_alive(self):
        """Over one TLS connection: a worker's file, a sleeping slot, uploads chunked and
        sized, a streamed response, a file from a pool thread, pipelined and one at a time."""
        port = self.start(tls=True)
        client = self.connect_tls(port)
        body = harness.pseudo_random_bytes(200000, seed=7)
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 30000]), body[i:i + 30000])
                           for i in range(0, len(body), 30000)) + b"0\r\n\r\n"
        up = f"{len(body)} {crc32(body)} ".encode()
        for _ in range(2):
            client.send(get("/one.txt"))
            self.assertEqual(client.read_response().body, FILES["one.txt"])
            client.send(get("/sleep?5"))
            self.assertEqual(client.read_response().body, b"slept 5\n")
            client.send(request("PUT", "/upload", "HTTP/1.1",
                                [("Host", "x"), ("Transfer-Encoding", "chunked")], chunked))
            self.assertTrue(client.read_response().body.startswith(up))
            client.send(request("POST", "/upload", "HTTP/1.1",
                                [("Host", "x"), ("Content-Length", str(len(body)))], body))
            self.assertTrue(client.read_response().body.startswith(up))
            client.send(get("/stream?4"))
            self.assertEqual(client.read_response().body, bytes(4 << 16))
            client.send(get("/file?three.bin"))
            self.assertEqual(client.read_response().body, FILES["three.bin"] + b"end\n")
            client.send(get("/files?two.bin,one.txt") + get("/one.txt") + get("/sleep?1"))
            self.assertEqual(client.read_response().body,
                             FILES["two.bin"] + FILES["one.txt"] + b"end\n")
            self.assertEqual(client.read_response().body, FILES["one.txt"])
            self.assertEqual(client.read_response().body, b"slept 1\n")

    def test_https_slots_on_many_connections_at_once(self):
        port = self.start(4, 64, tls=True)
        clients = [self.connect_tls(port) for _ in range(8)]
        for c in clients:
            c.send(get("/sleep?20") + get("/file?two.bin"))
        for c in clients:
            self.assertEqual(c.read_response().body, b"slept 20\n")
            self.assertEqual(c.read_response().body, FILES["two.bin"] + b"end\n")


class UnreadBody(MoreCase):
    def test_a_body_the_blocking_slot_leaves_unread_closes_after_the_answer(self):
        """A sleeping slot reads none of the body: its answer comes whole, then the
        connection closes (the next request cannot be found), and the server serves on."""
        port = self.start()
        for size, framing in ((100, "sized"), (300000, "sized"), (100, "chunked"),
                              (300000, "chunked")):
            body = b"u" * size
            if framing == "chunked":
                headers, data = [("Transfer-Encoding", "chunked")], b"%x\r\n%s\r\n0\r\n\r\n" % (
                    size, body)
            else:
                headers, data = [("Content-Length", str(size))], body
            client = self.connect(port)
            client.send_quietly(request("PUT", "/sleep?5", "HTTP/1.1", [("Host", "x")] + headers,
                                        data) + get("/one.txt"))
            resp = client.read_response()
            self.assertEqual((resp.code, resp.body), (200, b"slept 5\n"), (size, framing))
            closed, _, _ = client.wait_closed(5 * test_pool.SLOW)
            self.assertTrue(closed, (size, framing))
        self.assertEqual(self.fetch(port, "/sleep?1").body, b"slept 1\n")
