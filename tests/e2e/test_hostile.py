"""test_hostile.py: httpserve against hostile clients.

Slow heads (slowloris), slow and stalled bodies, readers that stop reading, thousands of idle
connections, connection floods, the connection cap, request smuggling, memory kept after large
bodies, and descriptor leaks.
Each server here runs with every timeout at TIMEOUT seconds, and every attack is checked two
ways: the hostile connections are closed by their deadline (TIMEOUT, plus SLACK for scheduling),
and a well-behaved client measured alongside, in its own process so the attackers' Python
does not slow it down, is served every time within PROBE_BOUND seconds.

The bound: on loopback a small file is served in about a millisecond; PROBE_BOUND is a
thousand times that, so that a loaded CI machine does not fail the test while a server that
stalls for a deadline (TIMEOUT) still does.

Every loop is bounded in count and time, every address is loopback, and servers are stopped by
PID. Debian's slowhttptest runs when it is installed (skipped with a message otherwise).
A test marked expectedFailure names the bug it shows (see SECURITY.md).
"""

import os
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import beyond_python, get, request

TARGET = harness.httpserve_target()
H11 = ("-p", "HTTP/1.1")
TIMEOUT = 1             # seconds: --header-timeout, --body-timeout, --send-timeout, --idle-timeout
SLACK = 2.0             # a deadline is met when the close comes within TIMEOUT + SLACK
LINGER = 2.0            # how long the server may linger on a refused connection (docs/design.md)
DEFERRED = 3.0          # a client that sends nothing reaches the server only when the kernel's
                        # TCP_DEFER_ACCEPT lets it through, at the SYN-ACK retransmission it
                        # answers, about 1 s after it connected (docs/design.md)
PROBE_BOUND = 1.0       # seconds: the longest a well-behaved request may take under attack
if harness.INSTRUMENTED:
    PROBE_BOUND *= 3    # ASan makes every fork of a CGI script slow; valgrind everything
PROBE_INTERVAL = 0.05   # seconds between the well-behaved client's requests
BIG_SIZE = 4 << 20      # big.bin, for the slow readers
WANT_NOFILE = 16384     # the descriptor limit this module asks for (test process and servers)
SLOWHTTPTEST = shutil.which("slowhttptest")
SMUGGLED = b"SMUGGLED-7f3a9c: served out of frame\n"
# Under a wrapper (run.py --valgrind) the server is tens of times slower: the load tests, whose
# bounds are for the bare binary, are skipped; the others wait longer.
WRAPPED = bool(os.environ.get("HTTPSERVE_E2E_WRAPPER", "").strip())
if WRAPPED:
    SLACK *= 10
    LINGER *= 2


def load_test(cls):
    """Marks a test class whose timing bounds hold for the bare binary only."""
    return unittest.skipIf(WRAPPED, "a load test; its timing bounds are for the bare binary, "
                                    "not under a wrapper such as valgrind")(cls)


def timeouts(seconds=TIMEOUT, idle=None):
    return ("--header-timeout", str(seconds), "--body-timeout", str(seconds),
            "--send-timeout", str(seconds), "--idle-timeout", str(idle or seconds))


_saved_nofile = None


def setUpModule():
    """Raises RLIMIT_NOFILE (soft, up to the hard limit) for the thousands of connections;
    servers started here inherit it."""
    global _saved_nofile
    _saved_nofile = harness.raise_nofile_limit(WANT_NOFILE)


def tearDownModule():
    harness.restore_nofile_limit(_saved_nofile)


def nofile_limit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_fds(pid):
    """How many descriptors process pid has open (Linux /proc)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_fds(pid, predicate, timeout):
    """Polls pid's descriptor count until predicate(count) holds or timeout passes; returns
    the last count."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 2):
        count = open_fds(pid)
        if predicate(count) or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
    return open_fds(pid)


def raw_socket(port, rcvbuf=None, blocking=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(harness.IO_TIMEOUT)
    s.connect(("127.0.0.1", port))
    s.setblocking(blocking)
    return s


def reset_close(s):
    """Closes with a reset (SO_LINGER 0), as a client that vanishes does."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


# --------------------------------------------------------------- the probe

PROBE_CODE = r"""
import socket, sys, time
port, seconds, interval = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
want = sys.argv[4].encode("latin-1").decode("unicode_escape").encode("latin-1")
end = time.monotonic() + seconds
for _ in range(100000):
    if time.monotonic() >= end:
        break
    t0 = time.monotonic()
    t1 = t0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            t1 = time.monotonic()
            s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")
            data = b""
            while len(data) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        ok = data.startswith(b"HTTP/1.") and b" 200 " in data[:16] and data.endswith(want)
        print(("ok" if ok else "bad") + " %.4f connect %.4f %r" % (time.monotonic() - t0, t1 - t0,
                                                                 data[:40]), flush=True)
    except OSError as exc:
        print("error %.4f connect %.4f %r" % (time.monotonic() - t0, t1 - t0, exc), flush=True)
    time.sleep(interval)
"""


class Probe:
    """A well-behaved client in its own process: a new connection and a GET of /a.txt every
    PROBE_INTERVAL seconds for `seconds`, each timed."""

    def __init__(self, port, seconds):
        want = harness.DOCROOT_FILES["a.txt"].decode("latin-1").encode("unicode_escape")
        self.seconds = seconds
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROBE_CODE, str(port), str(seconds), str(PROBE_INTERVAL),
             want.decode("latin-1")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)

    def results(self):
        """[(ok, seconds, detail)], once the probe has finished."""
        try:
            out, err = self.proc.communicate(timeout=self.seconds + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=harness.KILL_TIMEOUT)
        rows = []
        for line in out.decode("latin-1").splitlines():
            word, secs, detail = (line.split(" ", 2) + ["", ""])[:3]
            rows.append((word == "ok", float(secs), detail))
        if not rows:
            rows.append((False, 0.0, f"the probe printed nothing; stderr {err!r}"))
        return rows

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(harness.KILL_TIMEOUT)


# A request body needs a handler that reads it: the static handler refuses POST at once
# (501, as Python). This CGI script reads its whole body before it answers, so a stalled
# body keeps the connection waiting on the body deadline.
SLURP_PATH = "/cgi-bin/slurp.sh"
SLURP_SH = (b"#!/bin/sh\nbody=$(cat)\n"
            b"printf 'Content-Type: text/plain\\r\\n\\r\\n%s' \"$body\"\n")


@unittest.skipIf(harness.VALGRIND, "attacks are timed: they run on the plain and ASan builds")
class HostileCase(harness.ServerTestCase):
    """Helpers shared by the attacks."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot({"big.bin": harness.pseudo_random_bytes(BIG_SIZE, seed=6),
                                     "smuggled.txt": SMUGGLED,
                                     SLURP_PATH.lstrip("/"): SLURP_SH})
        # run as root, the script runs as nobody: it must reach and execute it
        script = os.path.join(cls.doc.root, SLURP_PATH.lstrip("/"))
        for path in (cls.doc.base, cls.doc.root, os.path.dirname(script), script):
            os.chmod(path, 0o755)

    def serve(self, *args, timeout_args=None):
        """A server for one test: HTTP/1.1, two workers, quiet, every timeout TIMEOUT."""
        extra = timeouts() if timeout_args is None else timeout_args
        return self.start(TARGET, *H11, harness.OPT_WORKERS, "2", harness.OPT_QUIET,
                          *extra, *args, root=self.doc.root)

    def probe(self, server, seconds):
        p = Probe(server.port, seconds)
        self.addCleanup(p.stop)
        return p

    def assertProbeHealthy(self, probe, what):
        rows = probe.results()
        bad = [r for r in rows if not r[0]]
        slowest = max(r[1] for r in rows)
        self.assertFalse(bad, f"during {what}, {len(bad)} of {len(rows)} well-behaved requests "
                              f"failed: {bad[:5]}")
        slow = [r for r in rows if r[1] >= PROBE_BOUND]
        self.assertLess(slowest, PROBE_BOUND,
                        f"during {what}, a well-behaved request took {slowest:.3f}s "
                        f"(bound {PROBE_BOUND}s; {len(rows)} requests; the slow ones: {slow[:5]})")
        self.assertGreaterEqual(len(rows), 3, f"the probe made only {len(rows)} requests")

    def baseline_fds(self, server):
        """The server's descriptor count once it has served a request and is quiet."""
        self.assertStatus(harness.fetch(server.port, "/a.txt"), 200)
        return wait_fds(server.pid, lambda n: False, 0.3)

    def assertFdsReturn(self, server, baseline, timeout, what):
        count = wait_fds(server.pid, lambda n: n <= baseline, timeout)
        self.assertLessEqual(count, baseline, f"{what}: the server still holds {count} "
                                              f"descriptors {timeout:.1f}s later "
                                              f"(baseline {baseline})")


def watch_closes(socks, timeout, tick=None):
    """Waits up to timeout for the server to close each socket in socks (a dict: socket ->
    record with 'closed' None), calling tick() every 0.1s (it may send; a send refused
    marks the socket closed). A close is end of stream, a reset, or any bytes (a 408, or a
    response; the record keeps them)."""
    poller = select.poll()
    by_fd = {}
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
        by_fd[s.fileno()] = s
    deadline = time.monotonic() + timeout
    next_tick = time.monotonic()
    for _ in range(int(timeout / 0.01) + 100):
        now = time.monotonic()
        if now >= deadline or all(r["closed"] is not None for r in socks.values()):
            break
        if tick and now >= next_tick:
            tick()
            next_tick = now + 0.1
        for fd, _ in poller.poll(10):
            s = by_fd[fd]
            rec = socks[s]
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            rec["data"] = rec.get("data", b"") + data
            if rec["closed"] is None:
                rec["closed"] = time.monotonic()
            if not data:
                poller.unregister(s)
    return socks


def read_heads(socks, timeout):
    """Reads, on each socket of socks (blocking ones), one response head (an answer to
    HEAD); returns how many 200s arrived whole within timeout."""
    poller = select.poll()
    by_fd, got = {}, {}
    for s in socks:
        s.setblocking(False)
        poller.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
        got[s] = b""
    done = 0
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.01) + 100):
        if done == len(socks) or time.monotonic() >= deadline:
            break
        for fd, _ in poller.poll(10):
            s = by_fd[fd]
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            got[s] += data
            if not data or b"\r\n\r\n" in got[s]:
                poller.unregister(s)
                done += b"\r\n\r\n" in got[s] and got[s].startswith(b"HTTP/1.1 200 ")
    return done


# ------------------------------------------------------------------ slow heads

@beyond_python("deadlines, where Python waits forever")
@load_test
class SlowHeads(HostileCase):
    """Slowloris: heads sent a byte at a time on many connections are cut at the head
    deadline, which runs from the head's first byte and is not moved by later bytes."""

    CONNECTIONS = 300

    def test_slowloris_many_connections_a_byte_at_a_time(self):
        server = self.serve()
        baseline = self.baseline_fds(server)
        probe = self.probe(server, TIMEOUT + SLACK + 0.5)
        head = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-%d: %s\r\n" % (i, b"a" * 8) for i in range(90))
        socks = {}
        for _ in range(self.CONNECTIONS):
            s = raw_socket(server.port, blocking=False)
            self.addCleanup(s.close)
            socks[s] = {"closed": None, "sent": 0, "first": None}

        def tick():
            for s, rec in socks.items():
                if rec["closed"] is not None or rec["sent"] >= len(head):
                    continue
                try:
                    s.send(head[rec["sent"]:rec["sent"] + 1])
                except BlockingIOError:
                    continue
                except OSError:
                    rec["closed"] = time.monotonic()
                    continue
                if rec["first"] is None:
                    rec["first"] = time.monotonic()
                rec["sent"] += 1

        watch_closes(socks, TIMEOUT + SLACK + 1, tick)
        late = [r for r in socks.values() if r["closed"] is None]
        self.assertFalse(late, f"{len(late)} of {self.CONNECTIONS} slow heads still open "
                               f"{TIMEOUT + SLACK + 1}s after their first byte")
        waits = [r["closed"] - r["first"] for r in socks.values() if r["first"]]
        self.assertLess(max(waits), TIMEOUT + SLACK, "a slow head outlived its deadline")
        self.assertGreater(min(waits), TIMEOUT * 0.5, "a slow head was cut before its deadline")
        answered = [r["data"][:40] for r in socks.values() if r.get("data")]
        for data in answered:   # a server may say 408 before closing, nothing else
            self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data)
        self.assertProbeHealthy(probe, "slowloris")
        self.assertFdsReturn(server, baseline, SLACK, "after slowloris")

    def test_pipelined_head_after_a_response_has_the_head_deadline(self):
        """A head that starts in the same packet as the request before it is held to the head
        deadline once that request is answered, like any head whose first byte has arrived.

        Otherwise a slowloris that sends a whole request plus one byte, then a byte at a
        time, would keep its connection for --idle-timeout instead of --header-timeout."""
        idle = 4 * TIMEOUT
        server = self.serve(timeout_args=timeouts(TIMEOUT, idle=idle))
        client = self.connect(server.port)
        client.send(get("/a.txt", "HTTP/1.1") + b"G")
        self.assertStatus(client.read_response(), 200)
        started = time.monotonic()
        s = client.sock
        s.setblocking(False)
        rec = {s: {"closed": None}}

        def tick():
            try:
                s.send(b"E")
            except OSError:
                pass

        watch_closes(rec, idle + SLACK, tick)
        closed = rec[s]["closed"]
        self.assertIsNotNone(closed, "a trickling second head kept its connection")
        self.assertLess(closed - started, TIMEOUT + SLACK,
                        f"the second head was cut after {closed - started:.1f}s: the idle "
                        f"deadline ({idle}s), not the head deadline ({TIMEOUT}s)")


# ------------------------------------------------------------------ slow bodies

@beyond_python("deadlines, where Python waits forever")
@load_test
class SlowBodies(HostileCase):
    """Bodies that stop arriving are cut at the body deadline (it runs between reads)."""

    CONNECTIONS = 100

    def test_stalled_bodies_are_closed_while_others_are_served(self):
        server = self.serve("--cgi")
        baseline = self.baseline_fds(server)
        probe = self.probe(server, TIMEOUT + SLACK + 0.5)
        socks = {}
        for i in range(self.CONNECTIONS):
            s = raw_socket(server.port)
            self.addCleanup(s.close)
            if i % 2:
                s.sendall(request("POST", SLURP_PATH, "HTTP/1.1",
                                  [("Host", "x"), ("Content-Length", "100000")]) + b"x" * 1000)
            else:
                s.sendall(request("POST", SLURP_PATH, "HTTP/1.1",
                                  [("Host", "x"), ("Transfer-Encoding", "chunked")]) +
                          b"400\r\n" + b"y" * 100)
            s.setblocking(False)
            socks[s] = {"closed": None, "last": time.monotonic()}
        watch_closes(socks, TIMEOUT + SLACK + 1)
        late = [r for r in socks.values() if r["closed"] is None]
        self.assertFalse(late, f"{len(late)} stalled bodies still open")
        waits = [r["closed"] - r["last"] for r in socks.values()]
        self.assertLess(max(waits), TIMEOUT + SLACK)
        self.assertGreater(min(waits), TIMEOUT * 0.5, "a stalled body was cut before its deadline")
        for rec in socks.values():   # a server may say 408 before closing, nothing else
            data = rec.get("data", b"")
            self.assertTrue(not data or data.startswith(b"HTTP/1.1 408 "), data[:60])
        self.assertProbeHealthy(probe, "stalled bodies")
        self.assertFdsReturn(server, baseline, SLACK, "after stalled bodies")

    def test_body_sent_in_slow_pieces_within_the_deadline_completes(self):
        """The deadline is per read: a slow but live upload is not cut (and is answered)."""
        server = self.serve("--cgi")
        s = raw_socket(server.port)
        self.addCleanup(s.close)
        s.sendall(request("POST", SLURP_PATH, "HTTP/1.1",
                          [("Host", "x"), ("Content-Length", "4"), ("Connection", "close")]))
        for byte in b"abcd":
            time.sleep(TIMEOUT * 0.4)
            s.sendall(bytes([byte]))
        client = harness.BytesReader(self._read_all(s))
        resp = harness.read_response(client, "POST")
        self.assertEqual(resp.code, 200)
        self.assertEqual(resp.body, b"abcd")   # every slow byte reached the script

    @staticmethod
    def _read_all(s):
        s.settimeout(harness.IO_TIMEOUT)
        data = b""
        for _ in range(1000):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


# ------------------------------------------------------------------ slow readers

@beyond_python("deadlines, where Python waits forever")
@load_test
class SlowReaders(HostileCase):
    """Clients that ask for a large file and never read (a tiny receive window) are dropped at
    the send deadline, and their descriptors (socket and file) are released."""

    CONNECTIONS = 40

    def test_readers_that_stop_are_dropped(self):
        server = self.serve()
        baseline = self.baseline_fds(server)
        probe = self.probe(server, TIMEOUT + SLACK + 1)
        socks = []
        for _ in range(self.CONNECTIONS):
            s = raw_socket(server.port, rcvbuf=4096)
            self.addCleanup(s.close)
            s.sendall(get("/big.bin", "HTTP/1.1"))
            socks.append(s)
        busy = wait_fds(server.pid, lambda n: n >= baseline + self.CONNECTIONS, 2)
        self.assertGreaterEqual(busy, baseline + self.CONNECTIONS, "the downloads did not start")
        self.assertFdsReturn(server, baseline, TIMEOUT + SLACK + 1, "stalled downloads")
        self.assertProbeHealthy(probe, "stalled downloads")
        for s in socks[:5]:   # what the client still gets is a cut body, never more
            s.settimeout(harness.IO_TIMEOUT)
            data = b""
            try:
                for _ in range(10000):
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:40])
            self.assertLess(len(data), BIG_SIZE)

    @unittest.skipUnless(SLOWHTTPTEST, "slowhttptest is not installed (apt-get install "
                                       "slowhttptest); the slow-read attack with it is skipped")
    def test_slowhttptest_slow_read(self):
        self.run_slowhttptest(["-X", "-c", "100", "-r", "200", "-k", "3", "-n", "1", "-w", "1",
                               "-y", "8", "-z", "1"], "/big.bin", "slow read")

    @unittest.skipUnless(SLOWHTTPTEST, "slowhttptest is not installed (apt-get install "
                                       "slowhttptest); the slowloris attack with it is skipped")
    def test_slowhttptest_slow_headers(self):
        self.run_slowhttptest(["-H", "-c", "300", "-r", "300", "-i", "1"], "/a.txt",
                              "slow headers")

    @unittest.skipUnless(SLOWHTTPTEST, "slowhttptest is not installed (apt-get install "
                                       "slowhttptest); the slow-body attack with it is skipped")
    def test_slowhttptest_slow_body(self):
        # 80 connections: each runs a script, and forks are slow under ASan
        self.run_slowhttptest(["-B", "-c", "80", "-r", "80", "-i", str(3 * TIMEOUT),
                               "-s", "100000"], SLURP_PATH, "slow body", serve_args=("--cgi",))

    def run_slowhttptest(self, args, path, what, length=6, serve_args=()):
        """Runs slowhttptest against a server for at most `length` seconds, all its connections
        made within its first second (rate >= count). The server must drop every one of them by
        the deadline (its descriptor count back to the baseline), well before the tool would
        end them itself, and serve the probe throughout. slowhttptest ends early, with "No
        open connections left", when the server has closed them all."""
        server = self.serve(*serve_args)
        baseline = self.baseline_fds(server)
        out = tempfile.mkdtemp(prefix="httpserve-slowhttptest-")
        self.addCleanup(shutil.rmtree, out, True)
        argv = [SLOWHTTPTEST, *args, "-l", str(length), "-p", "2", "-g",
                "-o", os.path.join(out, "stats"), "-u", f"http://127.0.0.1:{server.port}{path}"]
        tool = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(lambda: tool.poll() is None and (tool.kill(), tool.wait(5)))
        started = time.monotonic()
        probe = self.probe(server, 1 + TIMEOUT + SLACK)
        peak = wait_fds(server.pid, lambda n: n >= baseline + 50, 2)
        self.assertGreaterEqual(peak, baseline + 50, f"{what}: slowhttptest never got connected")
        remaining = 1 + TIMEOUT + SLACK - (time.monotonic() - started)
        count = wait_fds(server.pid, lambda n: n <= baseline, max(remaining, 0.1))
        back = time.monotonic() - started
        self.assertLessEqual(count, baseline, f"{what}: the server holds {count - baseline} "
                                              f"attack descriptors {back:.1f}s in")
        self.assertLess(back, length - 0.5, f"{what}: dropped only when the tool stopped")
        self.assertProbeHealthy(probe, f"slowhttptest ({what})")
        try:
            tool.wait(length + 10)
        except subprocess.TimeoutExpired:
            tool.kill()
            tool.wait(5)


# ------------------------------------------------------------ many connections

@beyond_python("the connection cap and deadlines, which Python lacks")
@load_test
class ManyConnections(HostileCase):
    """Thousands of idle connections, floods of short ones, and the connection cap."""

    def test_thousands_of_idle_connections(self):
        """Parked keep-alive connections, as browsers leave them: each sent a request and
        read its answer. The server holds them all, stays responsive, and closes each at
        its idle deadline."""
        idle = 3 * TIMEOUT
        server = self.serve(timeout_args=timeouts(TIMEOUT, idle=idle))
        baseline = self.baseline_fds(server)
        count = max(100, min(3000, (nofile_limit() - 256) // 2))
        socks = {}
        try:
            for _ in range(count):
                s = raw_socket(server.port)
                s.sendall(b"HEAD /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                socks[s] = {"closed": None}
            answered = read_heads(socks, 10.0)
            self.assertEqual(answered, count, f"{answered} of {count} requests answered")
            opened_by = time.monotonic()
            held = wait_fds(server.pid, lambda n: n >= baseline + count, 2)
            self.assertGreaterEqual(held, baseline + count,
                                    f"the server holds {held - baseline} of {count}")
            probe = self.probe(server, 1.0)
            self.assertProbeHealthy(probe, f"{count} idle connections")
            watch_closes(socks, max(0.1, opened_by + idle + SLACK - time.monotonic()))
            late = sum(1 for r in socks.values() if r["closed"] is None)
            self.assertEqual(late, 0, f"{late} of {count} idle connections outlived the idle "
                                      f"deadline ({idle}s)")
            self.assertFdsReturn(server, baseline, SLACK, "after the idle connections")
        finally:
            for s in socks:
                s.close()

    def test_silent_connections_are_closed_too(self):
        """Connections that never send a byte reach the server late (the kernel holds them
        back, TCP_DEFER_ACCEPT) and are then closed at the idle deadline like any other."""
        idle = TIMEOUT
        server = self.serve(timeout_args=timeouts(TIMEOUT, idle=idle))
        baseline = self.baseline_fds(server)
        socks = {}
        try:
            for _ in range(50):
                socks[raw_socket(server.port, blocking=False)] = {"closed": None}
            opened_by = time.monotonic()
            probe = self.probe(server, 1.0)
            self.assertProbeHealthy(probe, "50 silent connections")
            watch_closes(socks, max(0.1, opened_by + DEFERRED + idle + SLACK - time.monotonic()))
            late = sum(1 for r in socks.values() if r["closed"] is None)
            self.assertEqual(late, 0, f"{late} of 50 silent connections were never closed")
            self.assertFdsReturn(server, baseline, SLACK, "after the silent connections")
        finally:
            for s in socks:
                s.close()

    def test_connection_flood(self):
        """Thousands of short connections, closed every way a client can (end of stream,
        reset, half a request, a whole one unread, garbage), from four threads at once."""
        server = self.serve()
        baseline = self.baseline_fds(server)
        seconds = 3.0
        most = 4000     # connections in all: each costs the client a port for a minute
        probe = self.probe(server, seconds)
        errors, made = [], [0]
        lock = threading.Lock()
        actions = [
            lambda s: s.close(),
            lambda s: reset_close(s),
            lambda s: (s.sendall(b"GET /a.txt HTTP/1.1\r\nHo"), s.close()),
            lambda s: (s.sendall(get("/big.bin", "HTTP/1.1")), reset_close(s)),
            lambda s: (s.sendall(get("/a.txt")), s.close()),
            lambda s: (s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10), s.close()),
            lambda s: (s.sendall(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200), reset_close(s)),
        ]

        def flood(n):
            end = time.monotonic() + seconds
            i = n
            for _ in range(most):
                if time.monotonic() >= end or made[0] >= most:
                    break
                try:
                    s = raw_socket(server.port)
                    actions[i % len(actions)](s)
                except OSError as exc:
                    with lock:
                        errors.append(repr(exc))
                i += 1
                with lock:
                    made[0] += 1

        threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 10)
        self.assertFalse([t for t in threads if t.is_alive()])
        self.assertGreater(made[0], 500, "the flood was too small to mean anything")
        self.assertLess(len(errors), made[0] // 100 + 1, f"connects failed: {errors[:5]}")
        self.assertProbeHealthy(probe, f"a flood of {made[0]} connections")
        self.assertIsNone(server.proc.poll(), "the server died")
        self.assertFdsReturn(server, baseline, LINGER + SLACK, "after the flood")

    def test_connection_cap_refuses_quickly_and_recovers(self):
        cap = 64
        idle = 4 * TIMEOUT  # the held connections must outlast the refusals below
        server = self.start(TARGET, *H11, harness.OPT_WORKERS, "1", harness.OPT_QUIET,
                            *timeouts(TIMEOUT, idle=idle), harness.OPT_MAX_CONNECTIONS, str(cap),
                            root=self.doc.root)
        baseline = self.baseline_fds(server)
        held = [raw_socket(server.port) for _ in range(cap)]
        for s in held:
            self.addCleanup(s.close)
        full = wait_fds(server.pid, lambda n: n >= baseline + cap, 2 + DEFERRED)
        self.assertGreaterEqual(full, baseline + cap, "the held connections were not accepted")
        slowest = slowest_silent = 0.0
        for i in range(30):
            started = time.monotonic()
            s = raw_socket(server.port)
            data = b""
            silent = i in (0, 15)   # one that sends nothing waits for the kernel to pass it on
            try:
                if not silent:
                    s.sendall(get("/a.txt"))
                for _ in range(100):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                pass    # a reset after the answer (the request was left unread) ends it too
            finally:
                s.close()
            took = time.monotonic() - started
            if silent:
                slowest_silent = max(slowest_silent, took)
            else:
                slowest = max(slowest, took)
            self.assertTrue(data.startswith(b"HTTP/1.0 503 ") or data.startswith(b"HTTP/1.1 503 "),
                            f"connection {i} over the cap got {data[:60]!r}")
        self.assertLess(slowest, 0.5, f"a refusal at the cap took {slowest:.2f}s")
        self.assertLess(slowest_silent, DEFERRED + 0.5,
                        f"a refusal of a silent client at the cap took {slowest_silent:.2f}s")
        # Load drops by itself: the held connections reach their idle deadline.
        time.sleep(idle)
        resp = self.fetch_eventually(server, SLACK)
        self.assertEqual(resp.code, 200, "no recovery once the idle connections timed out")
        # And again when clients leave: fill up, close a few, get served at once.
        again = [raw_socket(server.port) for _ in range(cap)]
        for s in again:
            self.addCleanup(s.close)
        wait_fds(server.pid, lambda n: n >= baseline + cap, 2 + DEFERRED)
        for s in again[:4]:
            s.close()
        resp = self.fetch_eventually(server, 1.0)
        self.assertEqual(resp.code, 200, "no recovery after clients closed")

    def fetch_eventually(self, server, seconds):
        deadline = time.monotonic() + seconds
        resp = None
        for _ in range(100):
            resp = harness.fetch(server.port, "/a.txt")
            if resp.code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return resp

    @unittest.skipUnless(shutil.which("prlimit"), "prlimit (util-linux) is not installed")
    def test_out_of_descriptors_new_clients_get_503_without_spinning(self):
        """When the open-file limit is reached before --max-connections (the option set above
        it, or CGI connections holding pipes and a pidfd besides their socket), accept()
        fails with EMFILE. The server must not retry at once in a loop (the listener stays
        readable): it answers the waiting client 503 and serves again once descriptors are
        free."""
        limit = 128
        argv = ["prlimit", f"--nofile={limit}:{limit}", *TARGET.argv(
            ["-b", "127.0.0.1", "-d", self.doc.root, *H11, harness.OPT_WORKERS, "1",
             harness.OPT_QUIET, *timeouts(10 * TIMEOUT), harness.OPT_MAX_CONNECTIONS, "1000",
             "0"])]
        server = self.start_program(argv, cwd=self.doc.root, env=TARGET.environ())
        held = []
        try:
            for _ in range(limit):   # as many as the server has descriptors, and more
                held.append(raw_socket(server.port))
            wait_fds(server.pid, lambda n: n >= limit, 2 + DEFERRED)
            started = time.monotonic()
            extra = raw_socket(server.port)
            held.append(extra)
            extra.settimeout(harness.IO_TIMEOUT)
            try:
                extra.sendall(get("/a.txt"))
                answer = extra.recv(4096)
            except OSError as exc:
                answer = repr(exc).encode()
            waited = time.monotonic() - started
            used = cpu_seconds(server.pid)
            time.sleep(1.0)
            share = cpu_seconds(server.pid) - used
        finally:
            for s in held:
                s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.0 503 ") or answer.startswith(b"HTTP/1.1 503 "),
                        f"out of descriptors, a new client got {answer[:60]!r}")
        self.assertLess(waited, 0.5, f"the 503 took {waited:.2f}s")
        self.assertLess(share, 0.2, f"the server used {share:.0%} of a CPU while out of "
                                    f"descriptors")
        self.assertEqual(self.fetch_eventually(server, SLACK).code, 200,
                         "not serving once descriptors were free again")


def cpu_seconds(pid):
    """User plus system CPU time of process pid so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ smuggling

SM = b"GET /smuggled.txt HTTP/1.1\r\nHost: x\r\n\r\n"      # must never be answered
FOLLOWER = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
START = b"GET /page.html HTTP/1.1\r\nHost: x\r\n"


def head(*lines, start=START):
    return start + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


def chunk(data, size=None):
    return (size if size is not None else b"%x" % len(data)) + b"\r\n" + data + b"\r\n"


N = str(len(SM)).encode()
END = b"0\r\n\r\n"

# (name, bytes of the first request, expectation). "refused": one response (400, or a 4xx
# or 5xx refusal), then the connection closes: nothing after the refused request is read as a
# request. "both": the first request is answered (its body, which holds SM, consumed), then the
# follower, and nothing else.
SMUGGLING = [
    # CL.TE and TE.CL: both framings at once is refused, whichever a proxy would pick.
    ("CL.TE", head(b"Content-Length: %d" % (len(END) + len(SM)),
                   b"Transfer-Encoding: chunked") + END + SM, "refused"),
    ("TE.CL", head(b"Transfer-Encoding: chunked", b"Content-Length: 4") + chunk(SM) + END,
     "refused"),
    ("CL.TE with CL 0", head(b"Content-Length: 0", b"Transfer-Encoding: chunked") + chunk(SM) +
     END, "refused"),
    # TE.TE: an obfuscated Transfer-Encoding is refused, never half-understood.
    ("TE xchunked", head(b"Transfer-Encoding: xchunked") + chunk(SM) + END, "refused"),
    ("TE chunked then other", head(b"Transfer-Encoding: chunked", b"Transfer-Encoding: cow") +
     chunk(SM) + END, "refused"),
    ("TE other then chunked", head(b"Transfer-Encoding: cow", b"Transfer-Encoding: chunked") +
     chunk(SM) + END, "refused"),
    ("TE list chunked, chunked", head(b"Transfer-Encoding: chunked, chunked") + chunk(SM) + END,
     "refused"),
    ("TE list identity, chunked", head(b"Transfer-Encoding: identity, chunked") + chunk(SM) +
     END, "refused"),
    ("TE space before colon", head(b"Transfer-Encoding : chunked") + chunk(SM) + END,
     "refused"),
    ("TE tab before colon", head(b"Transfer-Encoding\t: chunked") + chunk(SM) + END,
     "refused"),
    ("TE vertical tab in value", head(b"Transfer-Encoding: \x0bchunked") + chunk(SM) + END,
     "refused"),
    ("TE NUL in value", head(b"Transfer-Encoding: chunked\x00") + chunk(SM) + END, "refused"),
    ("TE in an obs-fold", head(b"X: a", b" Transfer-Encoding: chunked") + chunk(SM) + END,
     "refused"),
    ("TE folded value", head(b"Transfer-Encoding: identity", b" chunked") + chunk(SM) + END,
     "refused"),
    ("TE name with NUL", head(b"Transfer-Encoding\x00: chunked") + chunk(SM) + END,
     "refused"),
    ("TE in HTTP/1.0", head(b"Transfer-Encoding: chunked",
                                  start=b"GET /page.html HTTP/1.0\r\nConnection: keep-alive\r\n")
     + chunk(SM) + END, "refused"),
    ("TE after a bare CR", head(b"X: a\rTransfer-Encoding: chunked") + chunk(SM) + END,
     "refused"),
    ("TE after a bare CR, with CL", head(b"X: a\rTransfer-Encoding: chunked",
                                         b"Content-Length: " + N) + SM, "refused"),
    # Accepted spellings: the body is framed as chunked, SM is data.
    ("TE tab before value", head(b"Transfer-Encoding:\tchunked") + chunk(SM) + END, "both"),
    ("TE upper case", head(b"Transfer-Encoding: CHUNKED") + chunk(SM) + END, "both"),
    ("TE after a bare LF", head(b"X: a\nTransfer-Encoding: chunked") + chunk(SM) + END, "both"),
    ("TE_ is another header", head(b"Transfer_Encoding: chunked", b"Content-Length: " + N) + SM,
     "both"),
    # Content-Length: digits only, repeated values must agree.
    ("CL twice, different", head(b"Content-Length: " + N, b"Content-Length: 1") + SM,
     "refused"),
    ("CL twice, different, other order", head(b"Content-Length: 1", b"Content-Length: " + N) +
     SM, "refused"),
    ("CL twice, same", head(b"Content-Length: " + N, b"Content-Length: " + N) + SM, "both"),
    ("CL list", head(b"Content-Length: " + N + b", " + N) + SM, "refused"),
    ("CL plus sign", head(b"Content-Length: +" + N) + SM, "refused"),
    ("CL minus sign", head(b"Content-Length: -1") + SM, "refused"),
    ("CL inner space", head(b"Content-Length: " + N[:1] + b" " + N[1:]) + SM, "refused"),
    ("CL hex", head(b"Content-Length: 0x%x" % len(SM)) + SM, "refused"),
    ("CL vertical tab", head(b"Content-Length: " + N + b"\x0b") + SM, "refused"),
    ("CL empty", head(b"Content-Length:") + SM, "refused"),
    ("CL overflow", head(b"Content-Length: " + b"9" * 30) + SM, "refused"),
    ("CL space before colon", head(b"Content-Length : " + N) + SM, "refused"),
    ("CL with OWS", head(b"Content-Length: \t" + N + b" \t") + SM, "both"),
    ("CL leading zeros", head(b"Content-Length: 000" + N) + SM, "both"),
    # Chunk sizes: hex digits only, no prefix, no sign, no spaces, no overflow.
    ("chunk size 0x", head(b"Transfer-Encoding: chunked") + chunk(SM, b"0x%x" % len(SM)) + END,
     "refused"),
    ("chunk size plus", head(b"Transfer-Encoding: chunked") + chunk(SM, b"+%x" % len(SM)) + END,
     "refused"),
    ("chunk size leading space", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b" %x" % len(SM)) + END, "refused"),
    ("chunk size trailing space", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"%x " % len(SM)) + END, "refused"),
    ("chunk size overflow", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"1" + b"0" * 16 + b"%x" % len(SM)) + END, "refused"),
    ("chunk size 2^64 + n", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"10000000000000000%x" % len(SM)) + END, "refused"),
    ("chunk shorter than its size", head(b"Transfer-Encoding: chunked") +
     chunk(SM[:10], b"%x" % (len(SM) - 20)) + SM[10:] + END, "refused"),
    ("chunk longer than its size", head(b"Transfer-Encoding: chunked") +
     b"5\r\n" + SM + b"\r\n" + END, "refused"),
    ("chunk size line bare LF", head(b"Transfer-Encoding: chunked") +
     b"%x\n" % len(SM) + SM + b"\r\n" + END, "refused"),
    ("chunk data bare LF", head(b"Transfer-Encoding: chunked") +
     b"%x\r\n" % len(SM) + SM + b"\n" + END, "refused"),
    ("last chunk bare LF", head(b"Transfer-Encoding: chunked") + chunk(SM) + b"0\n\n",
     "refused"),
    ("chunk ext bare CR", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"%x;a\rb" % len(SM)) + END, "refused"),
    ("trailer obs-fold", head(b"Transfer-Encoding: chunked") + chunk(SM) +
     b"0\r\nX: a\r\n b\r\n\r\n", "refused"),
    ("trailer bare CR", head(b"Transfer-Encoding: chunked") + chunk(SM) +
     b"0\r\nX: a\rb\r\n\r\n", "refused"),
    ("chunk upper-case hex and zeros", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"00%X" % len(SM)) + END, "both"),
    ("chunk extensions", head(b"Transfer-Encoding: chunked") +
     chunk(SM, b"%x ;a=b;c=\"d;e\"" % len(SM)) + END, "both"),
    ("chunk trailer fields", head(b"Transfer-Encoding: chunked") + chunk(SM) +
     b"0\r\nX-T: 1\r\nContent-Length: 99\r\n\r\n", "both"),
    # The head itself: bare CR, obs-fold, whitespace, limits.
    ("request line bare CR", b"GET /page.html HTTP/1.1\rContent-Length: " + N + b"\r\n"
     b"Host: x\r\n\r\n" + SM, "refused"),
    ("first header folded", head(b" Content-Length: " + N) + SM, "refused"),
    ("CL in an obs-fold", head(b"X: a", b"\tContent-Length: " + N) + SM, "refused"),
    ("header name with space", head(b"Content Length: " + N) + SM, "refused"),
    ("CR CR LF ends a line", head(b"Content-Length: " + N + b"\r") + SM, "refused"),
    ("too many headers", head(*[b"X-%d: y" % i for i in range(101)], b"Content-Length: " + N)
     + SM, "refused"),
    ("header line too long", head(b"X: " + b"y" * 65536, b"Content-Length: " + N) + SM,
     "refused"),
    # Bodies that are data, framed right: consumed, never read as a request.
    ("GET with a body", head(b"Content-Length: " + N) + SM, "both"),
    ("GET with a chunked body", head(b"Transfer-Encoding: chunked") + chunk(SM[:7]) +
     chunk(SM[7:]) + END, "both"),
    ("bare LF head", b"GET /page.html HTTP/1.1\nHost: x\nContent-Length: " + N + b"\n\n" + SM,
     "both"),
]


@beyond_python("stricter framing than Python's")
class Smuggling(HostileCase):
    """Each classic payload followed by a second request in the same write: the server reads
    the stream exactly as RFC 9112 frames it; a request it refuses ends the connection, and
    the request hidden in a body (SM, for /smuggled.txt) is never answered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.class_start(TARGET, *H11, *timeouts(), root=cls.doc.root)

    def test_classic_payloads_then_a_second_request(self):
        for name, payload, expect in SMUGGLING:
            with self.subTest(name):
                raw = harness.exchange(self.server.port, payload + FOLLOWER)
                self.assertNotIn(SMUGGLED, raw, "the smuggled request was answered")
                responses = harness.parse_stream(raw, ["GET", "GET"])
                codes = [r.code for r in responses]
                if expect == "refused":
                    self.assertEqual(len(responses), 1, f"{codes}: more than the refusal")
                    self.assertIn(codes[0], (400, 413, 431, 501), raw[:200])
                    self.assertEqual(responses[0].header("Connection"), "close")
                else:
                    self.assertEqual(codes, [200, 200], raw[:300])
                    self.assertIn(b"<title>page</title>", responses[0].body)
                    self.assertEqual(responses[1].body, harness.DOCROOT_FILES["a.txt"])
        lines = self.server.wait_log(lambda lines: False, 0.3)
        self.assertFalse([line for line in lines if "/smuggled.txt" in line],
                         "a smuggled request reached the log")

    def test_a_payload_arriving_byte_by_byte_is_read_the_same(self):
        """The framing does not depend on how the bytes arrive."""
        for name, payload, expect in SMUGGLING[:3] + SMUGGLING[-3:]:
            with self.subTest(name):
                client = self.connect(self.server.port)
                for i in range(len(payload)):
                    if not client.send_quietly(payload[i:i + 1]):
                        break
                client.send_quietly(FOLLOWER)
                raw = client.read_until_close()
                responses = harness.parse_stream(raw, ["GET", "GET"])
                self.assertNotIn(SMUGGLED, raw)
                self.assertEqual(len(responses), 1 if expect == "refused" else 2, raw[:300])


# ------------------------------------------------------------------ memory

def rss_mib(pid):
    """Resident memory of process pid, in MiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


@beyond_python("the body limit and bounded memory, which Python lacks")
@load_test
class Memory(HostileCase):
    """Large request bodies cost memory only while they are needed."""

    BODY = 24 << 20     # bytes in each body
    CLIENTS = 6
    RETAINED_MIB = 64   # what the server may keep after the burst, beyond its baseline

    @unittest.skipIf(harness.INSTRUMENTED, "memory is measured on the plain build only "
                     "(ASan's quarantine and valgrind keep freed memory)")
    def test_memory_returns_after_a_burst_of_large_bodies(self):
        """After a burst of large uploads, every connection closed, the server gives the
        memory back: closed connections kept for reuse hold only small buffers."""
        echo_path = harness.example_path("echo")
        if not os.access(echo_path, os.X_OK):
            self.skipTest(f"{echo_path} is not built")
        echo = self.start_program([echo_path, "0"])
        baseline = rss_mib(echo.pid)
        body = b"x" * self.BODY
        data = request("POST", "/x", "HTTP/1.1", [("Host", "x"), ("Connection", "close"),
                                                  ("Content-Length", str(len(body)))], body)
        errors = []

        def upload():
            try:
                raw = harness.exchange(echo.port, data)
                if harness.only_response(raw, "POST").body != body:
                    errors.append("the echo differs")
            except Exception as exc:  # collected, reported below
                errors.append(repr(exc))

        threads = [threading.Thread(target=upload, daemon=True) for _ in range(self.CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(harness.READ_DEADLINE)
        self.assertEqual(errors, [])
        time.sleep(0.5)
        kept = rss_mib(echo.pid) - baseline
        self.assertLess(kept, self.RETAINED_MIB,
                        f"{kept} MiB still resident after {self.CLIENTS} uploads of "
                        f"{self.BODY >> 20} MiB, every connection closed")

    def test_method_without_a_handler_is_refused_before_its_body(self):
        """A request whose method has no slot (POST to the static handler) is answered 501
        at once, before its body arrives, as Python answers; the connection then closes
        (lingering), so the unread body is never read as a request."""
        server = self.serve()
        client = self.connect(server.port)
        client.send(request("POST", "/a.txt", "HTTP/1.1",
                            [("Host", "x"), ("Content-Length", str(self.BODY))]))
        started = time.monotonic()
        closed, waited, raw = client.wait_closed(TIMEOUT + SLACK)
        self.assertTrue(raw, f"no answer ({'closed' if closed else 'open'} after "
                             f"{waited:.1f}s) to a POST whose body was not sent")
        self.assertEqual(harness.only_response(raw, "POST").code, 501)
        self.assertLess(time.monotonic() - started, TIMEOUT * 0.5)

    @unittest.skipIf(harness.INSTRUMENTED, "memory is measured on the plain build only "
                     "(ASan's quarantine and valgrind keep freed memory)")
    def test_a_body_the_handler_ignores_is_not_buffered(self):
        """A body the handler never reads (a GET with a body, to the static handler) is
        consumed as it arrives, not held: memory does not grow with its size.

        Once a bug: every body was read into memory, up to --max-body (64 MiB), before the
        slot ran, so CLIENTS connections announcing BODY bytes made the server hold
        CLIENTS x BODY. The static handler now says ignore_body, and the engine drops those
        bytes as they arrive (framing and --max-body still checked)."""
        server = self.serve(harness.OPT_WORKERS, "1", timeout_args=timeouts(10 * TIMEOUT))
        baseline = rss_mib(server.pid)
        body = b"x" * self.BODY
        held = []
        for _ in range(self.CLIENTS):
            s = raw_socket(server.port)
            self.addCleanup(s.close)
            s.sendall(request("GET", "/a.txt", "HTTP/1.1",
                              [("Host", "x"), ("Connection", "close"),
                               ("Content-Length", str(len(body)))]))
            s.sendall(body[:-10])   # all but the end: the request waits, its body sent
            held.append(s)
        peak = 0
        for _ in range(20):
            peak = max(peak, rss_mib(server.pid) - baseline)
            time.sleep(0.05)
        for s in held:
            s.sendall(body[-10:])
            raw = b""
            for _ in range(100):
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
            self.assertEqual(harness.only_response(raw).code, 200)
        self.assertLess(peak, self.RETAINED_MIB,
                        f"{peak} MiB resident while {self.CLIENTS} GETs with bodies of "
                        f"{self.BODY >> 20} MiB, which the handler never reads, were in flight")


# ------------------------------------------------------------------ descriptors

@beyond_python("a hostile mix of requests, where Python breaks")
class Descriptors(HostileCase):
    """A long mixed run of good, bad, abandoned and hostile requests leaves the server with the
    descriptors it had before: every socket and every file it opened is closed."""

    SECONDS = 6.0

    def test_descriptors_return_to_the_baseline_after_a_mixed_run(self):
        server = self.serve()
        baseline = self.baseline_fds(server)
        port = server.port
        leftovers, errors = [], []
        lock = threading.Lock()

        def answered(data, *codes, method="GET"):
            responses = harness.parse_stream(data, [method])
            if [r.code for r in responses] != list(codes):
                raise AssertionError(f"{[r.code for r in responses]} != {list(codes)}")

        def exchange(data):
            return harness.exchange(port, data)

        def abandon_download(rst):
            s = raw_socket(port)
            s.sendall(get("/big.bin", "HTTP/1.1"))
            s.recv(10000)
            reset_close(s) if rst else s.close()

        def keep(s):
            with lock:
                leftovers.append(s)

        def partial_then_keep():
            s = raw_socket(port)
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Partial: y")
            keep(s)

        def stalled_reader():
            s = raw_socket(port, rcvbuf=4096)
            s.sendall(get("/big.bin", "HTTP/1.1"))
            keep(s)

        def pipelined():
            client = harness.Client(port)
            try:
                reqs = [get(p, "HTTP/1.1") for p in ("/a.txt", "/sub/", "/listdir/", "/nope")]
                harness.pipeline(client, reqs, ["GET"] * 4)
            finally:
                client.close()

        ims = harness.request("GET", "/a.txt", "HTTP/1.0",
                              [("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")])
        actions = [
            lambda: answered(exchange(get("/a.txt")), 200),
            lambda: answered(exchange(get("/listdir/")), 200),
            lambda: answered(exchange(get("/nope.txt")), 404),
            lambda: answered(exchange(get("/escape")), 404),
            lambda: answered(exchange(get("/sub")), 301),
            lambda: answered(exchange(ims), 304),
            lambda: answered(exchange(request("HEAD", "/big.bin")), 200, method="HEAD"),
            lambda: answered(exchange(b"GARBAGE\r\n\r\n"), 400),
            lambda: answered(exchange(SMUGGLING[0][1] + FOLLOWER), 400),
            lambda: answered(exchange(request("POST", "/a.txt", headers=[("Content-Length", "3")],
                                              body=b"abc")), 501),
            lambda: answered(exchange(head(*[b"X-%d: y" % i for i in range(101)])), 431),
            lambda: exchange(b"GET /a.txt\r\n"),
            pipelined,
            lambda: abandon_download(False),
            lambda: abandon_download(True),
            partial_then_keep,
            stalled_reader,
            lambda: keep(raw_socket(port)),
            lambda: reset_close(raw_socket(port)),
        ]

        def worker(n):
            end = time.monotonic() + self.SECONDS
            i = n * 7
            for _ in range(100000):
                if time.monotonic() >= end:
                    break
                try:
                    actions[i % len(actions)]()
                except (OSError, AssertionError) as exc:
                    with lock:
                        errors.append(f"action {i % len(actions)}: {exc!r}")
                i += 1

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.SECONDS + 30)
        try:
            self.assertFalse([t for t in threads if t.is_alive()])
            self.assertEqual(errors, [])
            self.assertIsNone(server.proc.poll(), "the server died")
            # The abandoned connections are the server's to end, by their deadlines.
            self.assertFdsReturn(server, baseline, TIMEOUT + LINGER + SLACK,
                                 f"after a mixed run ({len(leftovers)} connections abandoned "
                                 "open)")
        finally:
            for s in leftovers:
                s.close()
        self.assertFdsReturn(server, baseline, LINGER + SLACK, "after the clients closed")
        self.assertStatus(harness.fetch(port, "/a.txt"), 200)


if __name__ == "__main__":
    unittest.main()
