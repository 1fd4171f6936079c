"""test_tls_load.py: HTTPS under load and against clients that misbehave.

A thousand idle keep-alive TLS connections, each after a handshake and a request for a file
larger than one TLS record: the server's resident memory grows by a bounded amount per
connection (compared with as many plain idle connections in the same test), a new client is
still served within a second, and closing them all gives the descriptors back. A
client-initiated TLS 1.2 renegotiation (`openssl s_client`, its "R" command) is refused. A
large file truncated while it is sent over TLS never yields more bytes than announced, and
the connection closes. A TLS client that stops reading is closed at --send-timeout; garbage
sent after the handshake gets a 400; a handshake record of garbage is closed at once while
other clients are served. Certificates come from test_tls.make_cert (the openssl command).
Every loop is bounded in count and time, every address is loopback, servers are stopped by
PID.
"""

import os
import random
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness
import test_races as races
import test_tls as tls
from harness import request

TARGET = harness.httpserve_target()
SLOW = 3 if harness.INSTRUMENTED else 1
IDLE_CONNECTIONS = 1000
# Each idle connection first fetches this file: more than one 16 KiB record, so OpenSSL's
# write buffer and the connection's file chunk were both used whole before it went idle.
RECORD_FILE = harness.pseudo_random_bytes(48 << 10, seed=31)
# Resident memory an idle TLS connection may cost beyond a plain one, in KiB. Measured on
# OpenSSL 3.0: about 13 KiB (the SSL object and its session once the handshake is over). A
# read or write buffer kept while idle (about 17 KiB each once used) or the 16 KiB file
# chunk kept would each take it past the bound.
TLS_EXTRA_KIB = 22
PLAIN_KIB = 4           # an idle plain connection: its struct (docs/design.md), with margin
WANT_NOFILE = 8192
BIG_SIZE = 16 << 20     # far beyond both sockets' buffers: a reader that stops blocks it

_saved_nofile = None


def setUpModule():
    """Raises RLIMIT_NOFILE (soft, up to the hard limit) for the thousand connections."""
    global _saved_nofile
    _saved_nofile = harness.raise_nofile_limit(WANT_NOFILE)


def tearDownModule():
    harness.restore_nofile_limit(_saved_nofile)


def rss_kib(pid):
    """Resident memory of process pid, in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_fds(pid, predicate, timeout):
    """Polls pid's descriptor count until predicate(count) holds or timeout passes."""
    deadline = time.monotonic() + timeout
    count = open_fds(pid)
    for _ in range(int(timeout / 0.05) + 2):
        if predicate(count) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
        count = open_fds(pid)
    return count


class TLSConn(races.Conn):
    """test_races.Conn over TLS: keeps a body cut short, fails on a byte beyond the
    announced length. A small receive buffer keeps a large response in the server's hands."""

    def __init__(self, port, ctx, rcvbuf=1 << 16):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(harness.IO_TIMEOUT)
        sock.connect(("127.0.0.1", port))
        self.sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.buf = bytearray()
        self.eof = False
        self.total = 0

    def _more(self, deadline):
        try:
            super()._more(deadline)
        except ssl.SSLError:   # a reset in the middle of a record: the stream ends there
            self.eof = True


@unittest.skipUnless(tls.OPENSSL, "the openssl command is not installed (apt-get install openssl)")
@unittest.skipIf(harness.VALGRIND, "load and deadlines: run on the plain and ASan builds")
@harness.beyond_python("HTTPS on the event loop, with deadlines and bounded memory")
class TLSLoad(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot({"record.bin": RECORD_FILE})
        cls.certs = tempfile.mkdtemp(prefix="httpserve-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.certs, True)
        cls.crt, cls.key = tls.make_cert(cls.certs, "server")
        cls.ctx = tls.client_context(cls.crt)

    def serve(self, *args, tls_on=True, root=None):
        cert = ("--tls-cert", self.crt, "--tls-key", self.key) if tls_on else ()
        return self.start(TARGET, "-p", "HTTP/1.1", harness.OPT_QUIET, harness.OPT_WORKERS, "1",
                          *cert, *args, root=root or self.doc.root)

    def client(self, port, **kw):
        c = tls.TLSClient(port, self.ctx, **kw)
        self.addCleanup(c.close)
        return c

    def get_tls(self, port, target="/a.txt", close=True):
        c = self.client(port)
        headers = [("Host", "localhost")] + ([("Connection", "close")] if close else [])
        c.send(request("GET", target, "HTTP/1.1", headers))
        return c.read_response()

    # ------------------------------------------------------------ idle connections

    def park(self, port, use_tls, count):
        """count keep-alive connections, each having fetched record.bin whole; returned open."""
        held = []
        try:
            for _ in range(count):
                c = tls.TLSClient(port, self.ctx) if use_tls else harness.Client(port)
                held.append(c)
                c.send(request("GET", "/record.bin", "HTTP/1.1", [("Host", "localhost")]))
                resp = c.read_response()
                if resp.code != 200 or resp.body != RECORD_FILE:
                    raise AssertionError(f"connection {len(held)}: {resp.code}")
        except BaseException:
            for c in held:
                c.close()
            raise
        return held

    def idle_cost(self, use_tls):
        """(KiB of resident memory per idle connection, seconds a new client took)."""
        server = self.serve("--idle-timeout", "600", "--header-timeout", "30", tls_on=use_tls)
        fetch = (lambda: self.get_tls(server.port)) if use_tls else \
            (lambda: harness.fetch(server.port, "/a.txt"))
        for c in self.park(server.port, use_tls, 20):   # warm up: pools, arenas, caches
            c.close()
        self.assertStatus(fetch(), 200)
        baseline_fds = wait_fds(server.pid, lambda n: False, 0.3)
        before = rss_kib(server.pid)
        held = self.park(server.port, use_tls, IDLE_CONNECTIONS)
        try:
            count = wait_fds(server.pid, lambda n: n >= baseline_fds + IDLE_CONNECTIONS, 5)
            self.assertGreaterEqual(count, baseline_fds + IDLE_CONNECTIONS,
                                    "the server does not hold every idle connection")
            time.sleep(0.2)
            per_conn = (rss_kib(server.pid) - before) / IDLE_CONNECTIONS
            started = time.monotonic()
            resp = fetch()
            took = time.monotonic() - started
            self.assertStatus(resp, 200)
            self.assertEqual(resp.body, harness.DOCROOT_FILES["a.txt"])
        finally:
            for c in held:
                c.close()
        count = wait_fds(server.pid, lambda n: n <= baseline_fds, 5 * SLOW)
        self.assertLessEqual(count, baseline_fds, f"{count - baseline_fds} descriptors kept "
                                                  f"after the idle connections closed")
        self.assertStatus(fetch(), 200)
        return per_conn, took

    def test_a_thousand_idle_tls_connections_cost_little_memory(self):
        plain, plain_took = self.idle_cost(False)
        secure, secure_took = self.idle_cost(True)
        print(f"\n  idle connections: plain {plain:.1f} KiB each, TLS {secure:.1f} KiB each "
              f"({IDLE_CONNECTIONS} of each; a new client served in {plain_took * 1000:.0f} "
              f"and {secure_took * 1000:.0f} ms)", end=" ", flush=True)
        self.assertLess(plain_took, 1.0 * SLOW)
        self.assertLess(secure_took, 1.0 * SLOW, "a new client waited behind idle connections")
        if harness.INSTRUMENTED:
            return  # ASan's redzones and quarantine: the memory figures mean nothing there
        self.assertLess(plain, PLAIN_KIB)
        self.assertLess(secure - plain, TLS_EXTRA_KIB,
                        f"an idle TLS connection costs {secure:.1f} KiB, a plain one "
                        f"{plain:.1f} KiB: buffers are kept while idle")

    # ------------------------------------------------------------ renegotiation

    def test_client_initiated_renegotiation_is_refused(self):
        """s_client's "R" command starts a TLS 1.2 renegotiation: the server refuses it (a
        no_renegotiation alert, which s_client reports and ends on), so no second handshake
        happens and the request sent after it is never answered. Others are served."""
        server = self.serve()
        proc = subprocess.Popen([tls.OPENSSL, "s_client", "-tls1_2", "-connect",
                                 f"127.0.0.1:{server.port}", "-servername", "localhost",
                                 "-CAfile", self.crt],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait(5)))
        try:
            time.sleep(1.0 * SLOW)  # the first handshake
            proc.stdin.write(b"R\n")
            proc.stdin.flush()
            time.sleep(1.0 * SLOW)
            proc.stdin.write(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # s_client already ended on the refusal
        out, err = proc.communicate(timeout=10 * SLOW)
        out, err = out.decode("latin-1"), err.decode("latin-1")
        self.assertIn("RENEGOTIATING", err, err)
        self.assertIn("no renegotiation", err, err)
        self.assertEqual(err.count("verify return:1"), 1, f"a second handshake:\n{err}")
        self.assertNotIn("HTTP/1.1 200", out, "the connection went on after renegotiating")
        self.assertNotEqual(proc.returncode, 0)
        self.assertStatus(self.get_tls(server.port), 200)
        self.assertIsNone(server.proc.poll(), server.describe())

    # ------------------------------------------------------------ a file that shrinks

    def test_truncated_file_never_overruns_and_a_short_body_closes(self):
        """The plain test of test_races, over TLS: a file truncated while a client holds its
        response back ends short, never beyond Content-Length, and the connection closes. The
        bytes that come are the file's (read before the cut) or, in a read racing the cut,
        zeros; a cut far beyond what the sockets and the server can hold ends exactly there."""
        root = tempfile.mkdtemp(prefix="httpserve-tls-trunc-")
        self.addCleanup(shutil.rmtree, root, True)
        with open(os.path.join(root, "a.txt"), "wb") as f:
            f.write(harness.DOCROOT_FILES["a.txt"])
        server = self.serve(root=root)
        held = races.send_buffer_max() + (1 << 16) + 2 * 16384 + (1 << 20)  # sockets, chunk
        for case, cut in (("to 0", 0), ("inside the first chunks", 5000),
                          ("far past what is queued", BIG_SIZE - 4097)):
            with self.subTest(cut=case):
                name = f"big-{cut}"
                original = harness.pseudo_random_bytes(BIG_SIZE, seed=cut + 1)
                path = os.path.join(root, name)
                with open(path, "wb") as f:
                    f.write(original)
                conn = TLSConn(server.port, self.ctx)
                self.addCleanup(conn.close)
                conn.send_request(f"/{name}")
                time.sleep(0.5 * SLOW)   # the server fills the sockets and blocks
                os.truncate(path, cut)
                reply = conn.read_reply(f"/{name}")  # fails on a hang or an overrun
                self.assertEqual((reply.code, reply.length), (200, BIG_SIZE))
                self.assertLess(len(reply.body), BIG_SIZE, "a short body, not padding")
                self.assertTrue(reply.closes and conn.eof, "the connection closes")
                for off in range(0, len(reply.body), 4096):
                    got, want = reply.body[off:off + 4096], original[off:off + 4096]
                    if got != want:
                        self.assertTrue(all(g == w or g == 0 for g, w in zip(got, want)),
                                        f"bytes at {off} are neither the file's nor zeros")
                if cut > held:
                    self.assertEqual(reply.body, original[:cut], "the bytes the file still has")
        self.assertStatus(self.get_tls(server.port), 200)

    # ------------------------------------------------------------ misbehaving clients

    def test_a_tls_reader_that_stops_is_closed_at_the_send_timeout(self):
        root = self.docroot({"big.bin": harness.pseudo_random_bytes(BIG_SIZE, seed=3)}).root
        server = self.serve("--send-timeout", "1", "--idle-timeout", "30", root=root)
        self.assertStatus(self.get_tls(server.port), 200)
        baseline = wait_fds(server.pid, lambda n: False, 0.3)
        conn = TLSConn(server.port, self.ctx, rcvbuf=4096)
        self.addCleanup(conn.close)
        conn.send_request("/big.bin")
        started = time.monotonic()
        held = wait_fds(server.pid, lambda n: n > baseline, 2 * SLOW)
        self.assertGreater(held, baseline, "the server does not hold the stalled reader")
        count = wait_fds(server.pid, lambda n: n <= baseline, 1 + 4.0 * SLOW)
        took = time.monotonic() - started
        self.assertLessEqual(count, baseline, f"still held {took:.1f}s in (send timeout 1s)")
        self.assertGreater(took, 1 - 0.3, "closed before the send deadline")
        reply = conn.read_reply("/big.bin")
        self.assertEqual(reply.code, 200)
        self.assertLess(len(reply.body), BIG_SIZE)
        self.assertTrue(conn.eof)
        self.assertStatus(self.get_tls(server.port), 200)

    def test_garbage_after_the_handshake_gets_400(self):
        server = self.serve()
        rng = random.Random(5)
        cases = [b"\x00\x01\x02\x03\r\n\r\n", b"GARBAGE\r\n\r\n",
                 b"GET / HTTP/1.1 x\r\n\r\n", b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"\x16\x03\x01\x00\x05hello\r\n\r\n", b"GET / HTTP/1.1\r\nBad header\r\n\r\n",
                 bytes(rng.randrange(1, 256) for _ in range(300)) + b"\r\n\r\n"]
        for data in cases:
            with self.subTest(data=data[:40]):
                c = self.client(server.port)
                c.send(data)
                resp = c.read_response()
                self.assertEqual(resp.code, 400)
                closed, _, _ = c.wait_closed(2.0 * SLOW)
                self.assertTrue(closed, "the connection stays open after a 400")
        self.assertStatus(self.get_tls(server.port), 200)

    def test_a_garbage_handshake_is_closed_at_once_and_others_are_served(self):
        """A first byte 0x16 says TLS; what follows is not a ClientHello. Each is closed at
        once (well before the 10 s head deadline) and the server serves the next client."""
        server = self.serve("--header-timeout", "10")
        rng = random.Random(7)
        junk = [bytes(rng.randrange(256) for _ in range(n)) for n in (8, 100, 600, 5000)]
        hello = tls.tls_client_hello()
        cases = [b"\x16" + j for j in junk] + [
            b"\x16\x03\x01\x00\x05" + b"\xff" * 5,            # a record of a bogus message
            b"\x16\x03\x01\xff\xff" + b"\x00" * 200,          # a record too long
            b"\x16\xfe\xff\x00\x10" + b"\x01" * 16,           # a DTLS version
            b"\x16\x03\x03\x00\x04\x01\x00\x00\x00",          # a ClientHello of length 0
            hello[:9] + bytes(len(hello) - 9),                # a ClientHello zeroed
            hello[:9] + b"\xff" * (len(hello) - 9),          # and filled with ones
        ]
        for data in cases:
            with self.subTest(data=data[:12]):
                c = self.connect(server.port)
                c.send_quietly(data)
                started = time.monotonic()
                closed, waited, _ = c.wait_closed(3.0 * SLOW)
                self.assertTrue(closed, f"still open after {waited:.1f}s")
                self.assertLess(time.monotonic() - started, 2.0 * SLOW)
                self.assertStatus(self.get_tls(server.port), 200)
        self.assertIsNone(server.proc.poll(), server.describe())


if __name__ == "__main__":
    unittest.main()
