"""test_deadlines.py: no connection deadline can be stretched by a client that trickles bytes.

One test (or a pair) per row of the deadline table in docs/design.md: the head, the body
(read whole, and streamed to a CGI script), the send (a file, and a CGI script's output),
the idle wait and the lingering close. In each, the deadline under test is short (SHORT
seconds) and every other one long (LONG), and the client keeps sending something that is
not progress for that deadline (a byte of the next request while it does not read, a
byte of chunk framing, an urgent byte), one piece every TICK seconds for far longer than
the deadline; the server must close within SHORT + MARGIN. What legitimately moves a
deadline (body bytes) is shown to move it. The attacks with many connections at once are
in test_hostile.py; this file is about which events move each deadline.

Every loop is bounded in count and time, every address is loopback, servers are stopped by
PID (the harness).
"""

import os
import select
import socket
import time
import unittest

import harness
from harness import beyond_python, request

TARGET = harness.httpserve_target()
SHORT = 2               # seconds: the deadline under test
LONG = 60               # seconds: every other deadline
TICK = 0.3              # seconds between the trickled pieces
MARGIN = 2.0            # a deadline is met when the close comes within SHORT + MARGIN
if harness.INSTRUMENTED:
    MARGIN *= 3
TRICKLE = SHORT + MARGIN + 4.0  # how long a client trickles before the test gives up on a close
LINGER = 2.0            # the lingering close (docs/design.md)
BIG = 64 << 20          # a sparse file, far larger than any socket buffer
CGI_BIG = ("/cgi-bin/big.sh", b"#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\n"
                              b"exec head -c 67108864 /dev/zero\n")
CGI_SLURP = ("/cgi-bin/slurp.sh", b"#!/bin/sh\nbody=$(cat)\n"
                                  b"printf 'Content-Type: text/plain\\r\\n\\r\\n%s' \"$body\"\n")


def timeouts(**short):
    """The four timeouts, LONG unless named: timeouts(send=SHORT)."""
    args = []
    for name in ("header", "body", "send", "idle"):
        args += [f"--{name}-timeout", str(short.get(name, LONG))]
    return args


def gone(s, read):
    """Whether the server has closed s: end of stream or a reset when read (which also
    drains any answer such as a 408); without read, only a send can tell."""
    if not read:
        return False
    for _ in range(100):
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except OSError:
            return True
    return False


def trickle(s, piece, read=True, oob=False, seconds=TRICKLE):
    """Sends piece (bytes) one byte every TICK until the server closes s or seconds pass.
    Returns the seconds from the call to the close, or None if it stayed open. oob sends
    each byte as TCP urgent data, which never becomes part of the stream the server
    reads (the server reads past it)."""
    start = time.monotonic()
    for i in range(int(seconds / TICK) + 1):
        if time.monotonic() - start > seconds:
            break
        try:
            s.send(piece[i % len(piece):i % len(piece) + 1], socket.MSG_OOB if oob else 0)
        except OSError:
            return time.monotonic() - start
        deadline = time.monotonic() + TICK
        for _ in range(int(TICK / 0.02) + 2):
            if gone(s, read):
                return time.monotonic() - start
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if read:
                select.select([s], [], [], min(left, 0.02))
            else:
                time.sleep(min(left, 0.02))
    return None


@beyond_python("2")
@unittest.skipIf(harness.VALGRIND, "the deadlines are timed: plain and ASan builds only")
class Deadlines(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot({CGI_BIG[0].lstrip("/"): CGI_BIG[1],
                                     CGI_SLURP[0].lstrip("/"): CGI_SLURP[1]})
        with open(os.path.join(cls.doc.root, "big.bin"), "wb") as f:
            f.truncate(BIG)
        # run as root, the scripts run as nobody: they must reach and execute them
        cgi = os.path.join(cls.doc.root, "cgi-bin")
        for path in (cls.doc.base, cls.doc.root, cgi, *(os.path.join(cls.doc.root, p.lstrip("/"))
                                                        for p in (CGI_BIG[0], CGI_SLURP[0]))):
            os.chmod(path, 0o755)

    def serve(self, *args, **short):
        return self.start(TARGET, "-p", "HTTP/1.1", harness.OPT_WORKERS, "1", harness.OPT_QUIET,
                          *timeouts(**short), *args, root=self.doc.root)

    def raw(self, port, rcvbuf=None):
        client = self.connect(port, rcvbuf=rcvbuf)
        return client, client.sock

    def assertClosedInTime(self, took, bound, what):
        self.assertIsNotNone(took, f"{what}: still open after {TRICKLE:.0f}s of trickling "
                                   f"(the deadline is {SHORT}s)")
        self.assertLess(took, bound, f"{what}: closed after {took:.1f}s (bound {bound:.1f}s)")

    # ------------------------------------------------------------------ the head

    def test_header_deadline_is_not_moved_by_more_head_bytes(self):
        """A head trickled a byte at a time is cut SHORT after its first byte."""
        server = self.serve(header=SHORT)
        _, s = self.raw(server.port)
        head = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200
        took = trickle(s, head)
        self.assertClosedInTime(took, SHORT + MARGIN, "a trickled head")
        self.assertGreater(took, SHORT * 0.5, "the head was cut before its deadline")

    # ------------------------------------------------------------------ the body

    def body_start(self, port, framing):
        client, s = self.raw(port)
        hdr = ("Transfer-Encoding", "chunked") if framing == "chunked" else ("Content-Length", "100")
        client.send(request("GET", "/a.txt", "HTTP/1.1", [("Host", "x"), hdr]))
        client.send(b"3\r\nabc\r\n" if framing == "chunked" else b"abc")
        return s

    def test_body_deadline_is_not_moved_by_urgent_bytes(self):
        """Urgent bytes are no body bytes: a stalled body is cut SHORT after its last one,
        with Content-Length and chunked."""
        for framing in ("length", "chunked"):
            with self.subTest(framing=framing):
                server = self.serve(body=SHORT)
                s = self.body_start(server.port, framing)
                took = trickle(s, b"!", oob=True)
                self.assertClosedInTime(took, SHORT + MARGIN, f"a {framing} body stalled under "
                                                              f"urgent bytes")

    def test_body_deadline_is_not_moved_by_chunk_framing(self):
        """Bytes of a chunk-size line (leading zeros, an extension) or of a trailer carry no
        body: a body whose data stops is cut SHORT after its last data byte."""
        for framing in (b"0" * 64, b"1;" + b"e" * 64, b"0\r\nX-T: " + b"v" * 64):
            with self.subTest(framing=framing[:8]):
                server = self.serve(body=SHORT)
                s = self.body_start(server.port, "chunked")
                took = trickle(s, framing, seconds=min(TRICKLE, len(framing) * TICK))
                self.assertClosedInTime(took, SHORT + MARGIN, "chunk framing without data")

    def test_body_deadline_moves_with_chunk_data(self):
        """Chunk data is progress: a body whose chunks come TICK apart, for longer than the
        deadline in all, completes. (test_hostile.py's
        test_body_sent_in_slow_pieces_within_the_deadline_completes does it with
        Content-Length.)"""
        server = self.serve(body=SHORT)
        resp, _ = self.trickle_chunk_data(server.port, "GET", "/a.txt")
        self.assertStatus(resp, 200)

    def test_streamed_body_deadline_is_not_moved_by_chunk_framing(self):
        """The same for a body streamed to a CGI script (the deferred body deadline)."""
        for framing in (b"0" * 64, b"1;" + b"e" * 64):
            with self.subTest(framing=framing[:8]):
                server = self.serve("--cgi", "--cgi-timeout", str(LONG), body=SHORT)
                client, s = self.raw(server.port)
                client.send(request("POST", CGI_SLURP[0], "HTTP/1.1",
                                    [("Host", "x"), ("Transfer-Encoding", "chunked")]))
                client.send(b"3\r\nabc\r\n")
                took = trickle(s, framing, seconds=min(TRICKLE, len(framing) * TICK))
                self.assertClosedInTime(took, SHORT + MARGIN,
                                        "a streamed body: chunk framing without data")

    def test_streamed_body_deadline_moves_with_chunk_data(self):
        server = self.serve("--cgi", "--cgi-timeout", str(LONG), body=SHORT)
        resp, pieces = self.trickle_chunk_data(server.port, "POST", CGI_SLURP[0])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, b"x" * pieces)

    def trickle_chunk_data(self, port, method, target):
        """A chunked body of one-byte chunks TICK apart, longer than SHORT in all; the
        response and the number of chunks."""
        client, _ = self.raw(port)
        client.send(request(method, target, "HTTP/1.1",
                            [("Host", "x"), ("Transfer-Encoding", "chunked")]))
        pieces = int((SHORT + 1) / TICK) + 1
        for _ in range(pieces):
            client.send(b"1\r\nx\r\n")
            time.sleep(TICK)
        client.send(b"0\r\n\r\n")
        return client.read_response(), pieces

    # ------------------------------------------------------------------ sending

    def test_send_deadline_is_not_moved_by_client_bytes(self):
        """A client that accepts nothing (a 4 KiB window, never read) but sends a byte every
        TICK is cut SHORT after the last byte it accepted: a file, and a CGI script's
        output."""
        for target in ("/big.bin", CGI_BIG[0]):
            with self.subTest(target=target):
                server = self.serve("--cgi", "--cgi-timeout", str(LONG), send=SHORT)
                client, s = self.raw(server.port, rcvbuf=4096)
                client.send(request("GET", target, "HTTP/1.1", [("Host", "x")]))
                took = trickle(s, b"GET / HTTP/1.1\r\n", read=False)
                self.assertClosedInTime(took, SHORT + MARGIN, f"a reader that stopped ({target})")

    # ------------------------------------------------------------------ idle, linger

    def test_idle_deadline_is_not_moved_by_urgent_bytes(self):
        """Between requests only a head byte ends the idle wait (and starts the head
        deadline); urgent bytes are none."""
        server = self.serve(idle=SHORT, header=SHORT)
        client, s = self.raw(server.port)
        client.send(request("GET", "/a.txt", "HTTP/1.1", [("Host", "x")]))
        self.assertStatus(client.read_response(), 200)
        took = trickle(s, b"!", oob=True)
        self.assertClosedInTime(took, SHORT + TICK * 2 + MARGIN, "an idle connection")

    def test_linger_is_not_moved_by_more_input(self):
        """After a refusal the server discards input for LINGER seconds, however much more
        the client keeps sending."""
        server = self.serve()
        client, s = self.raw(server.port)
        client.send(request("POST", "/a.txt", "HTTP/1.1",
                            [("Host", "x"), ("Content-Length", "1000000")]) + b"abc")
        self.assertStatus(client.read_response(), 501)
        took = trickle(s, b"body", read=False)
        self.assertClosedInTime(took, LINGER + MARGIN, "a lingering close")


if __name__ == "__main__":
    unittest.main()
