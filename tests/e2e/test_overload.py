"""test_overload.py: httpserve when it cannot take more, and when it stops.

Out of descriptors: with the open-file limit below the connection cap, a server of one, two or
four workers is filled with parked connections, then keep-alive clients arrive in waves, and
a last wave once the workers have settled. Each must get a 503 (or another answer, or a
close) within ANSWER_BOUND seconds, the server must not spin on its listeners meanwhile (its
CPU time, from /proc/PID/stat, stays a small share of the time, in all and after the last
wave), and it must serve again once the parked clients leave. With several workers each
worker's spare descriptor can be taken by another between its close and its accept: the
waves make that happen (not on every run: it is a race), and the last wave finds out whether
a worker that lost it spins or leaves its clients waiting.

Shutdown: while a large download to a client that does not read holds the drain open, SIGTERM
or SIGINT must stop listening at once: a new connect() is refused within REFUSE_BOUND seconds,
one that raced the signal is answered (503) or closed rather than left waiting until the
exit, and the download in flight still completes whole.

The bounds are seconds where the work takes milliseconds, so a loaded machine does not fail
them, while a server that waits for a deadline or the end of the drain (10 s) still does.
Every loop is bounded in count and time, every address is loopback, and servers are stopped by
PID.
"""

import os
import select
import shutil
import signal
import socket
import time
import unittest

import harness
from harness import beyond_python, get
from test_hostile import open_fds, wait_fds

TARGET = harness.httpserve_target()
H11 = ("-p", "HTTP/1.1")
LIMIT = 160             # the server's open-file limit (soft and hard) in the descriptor tests
LONG = 60               # seconds: every connection timeout, so parked connections stay parked
DEFERRED = 3.0          # a silent connection reaches the server about 1 s after it connected
                        # (TCP_DEFER_ACCEPT, docs/design.md)
WAVES = 10              # waves of new clients while out of descriptors
WAVE_SIZE = 12          # clients per wave
WAVE_GAP = 0.25         # seconds between waves
SETTLE = 0.75           # seconds after the waves before the last one
TAIL = 1.5              # seconds after the last wave, over which CPU time is measured again
CPU_SHARE = 0.25        # the largest share of one CPU the server may use, in all and after the last wave
ANSWER_BOUND = 3.0      # seconds from connect to a 503, another answer, or a close
REFUSE_BOUND = 1.0      # seconds from the stop signal to a refused connect()
BIG_SIZE = 16 << 20     # a download that socket buffers cannot hold
if harness.INSTRUMENTED:
    ANSWER_BOUND *= 2
    REFUSE_BOUND *= 3
if harness.VALGRIND:
    REFUSE_BOUND *= 3


def cpu_seconds(pid):
    """User plus system CPU time of process pid so far, threads included (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(port, timeout=harness.IO_TIMEOUT):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
    except BaseException:
        s.close()
        raise
    return s


class Watch:
    """Client sockets waiting for an answer: each is answered when the server sends bytes,
    closes or resets it. Records, per socket, when it connected, when it was answered, and
    the first bytes."""

    def __init__(self):
        self.poller = select.poll()
        self.rows = {}      # fd -> [socket, connected at, answered at or None, bytes]

    def add(self, s, since):
        s.setblocking(False)
        self.poller.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
        self.rows[s.fileno()] = [s, since, None, b""]

    def poll(self, seconds):
        """Collects answers for up to seconds, or until every socket is answered."""
        deadline = time.monotonic() + seconds
        for _ in range(int(seconds / 0.01) + 100):
            left = deadline - time.monotonic()
            if left <= 0 or not self.waiting():
                return
            for fd, _ in self.poller.poll(min(10, max(1, int(left * 1000)))):
                row = self.rows[fd]
                try:
                    data = row[0].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                row[3] += data
                if row[2] is None:
                    row[2] = time.monotonic()
                self.poller.unregister(fd)

    def waiting(self):
        return [r for r in self.rows.values() if r[2] is None]

    def late(self, bound):
        """The rows not answered within bound of their connect: (waited, bytes)."""
        now = time.monotonic()
        return [(round((r[2] or now) - r[1], 2), r[3][:40]) for r in self.rows.values()
                if (r[2] or now) - r[1] > bound]

    def statuses(self):
        return [r[3].split(b"\r\n", 1)[0] if r[3] else b"(closed)" for r in self.rows.values()
                if r[2] is not None]

    def close(self):
        for r in self.rows.values():
            r[0].close()


@beyond_python("running out of descriptors without spinning, which Python does not promise")
@unittest.skipIf(harness.VALGRIND, "measures CPU time, which valgrind multiplies")
@unittest.skipUnless(shutil.which("prlimit"), "prlimit (util-linux) is not installed")
class OutOfDescriptors(harness.ServerTestCase):
    """The open-file limit reached before --max-connections, with one worker or several, each
    with its own listener: a worker must neither spin on a listener it cannot accept from nor
    leave its waiting clients unanswered."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot()

    def run_out(self, workers):
        argv = ["prlimit", f"--nofile={LIMIT}:{LIMIT}", *TARGET.argv(
            ["-b", "127.0.0.1", "-d", self.doc.root, *H11, harness.OPT_WORKERS, str(workers),
             harness.OPT_QUIET, "--header-timeout", str(LONG), "--body-timeout", str(LONG),
             "--send-timeout", str(LONG), "--idle-timeout", str(LONG),
             harness.OPT_MAX_CONNECTIONS, "1000", "0"])]
        server = self.start_program(argv, cwd=self.doc.root, env=TARGET.environ())
        parked = []
        self.addCleanup(lambda: [s.close() for s in parked])
        for _ in range(LIMIT):          # as many as the server has descriptors, and more
            parked.append(connect(server.port))
        count = wait_fds(server.pid, lambda n: n >= LIMIT, 2 + DEFERRED)
        self.assertGreaterEqual(count, LIMIT, "the parked connections did not fill the server")
        watch = Watch()
        self.addCleanup(watch.close)
        started = time.monotonic()
        used = cpu_seconds(server.pid)
        for wave in range(WAVES):
            self.wave(server, watch)
            watch.poll(started + (wave + 1) * WAVE_GAP - time.monotonic())
        # A last wave once the workers have settled: one that lost its reserve descriptor
        # to another must still answer its clients, and not spin meanwhile.
        watch.poll(SETTLE)
        tail_started, tail_used = time.monotonic(), cpu_seconds(server.pid)
        self.wave(server, watch)
        watch.poll(TAIL)
        time.sleep(max(0.0, tail_started + TAIL - time.monotonic()))
        ended = time.monotonic()
        share = (cpu_seconds(server.pid) - used) / (ended - started)
        tail_share = (cpu_seconds(server.pid) - tail_used) / (ended - tail_started)
        watch.poll(ANSWER_BOUND)
        late = watch.late(ANSWER_BOUND)
        statuses = watch.statuses()
        for s in parked:
            s.close()
        recovered = self.fetch_eventually(server, 2 + DEFERRED)
        for what, used_share in (("while out of descriptors", share), ("after it", tail_share)):
            self.assertLess(used_share, CPU_SHARE, f"{workers} workers used {used_share:.0%} of "
                                                   f"a CPU {what}")
        self.assertFalse(late, f"{len(late)} of {len(watch.rows)} new clients were not "
                               f"answered within {ANSWER_BOUND}s: {late[:8]}")
        refused = [st for st in statuses if b" 503 " in st]
        self.assertTrue(refused, f"no 503 among the answers: {statuses[:8]}")
        self.assertEqual(recovered.code, 200, "not serving once descriptors were free again")

    @staticmethod
    def wave(server, watch):
        for _ in range(WAVE_SIZE):
            s = connect(server.port)
            watch.add(s, time.monotonic())
            try:
                s.send(get("/a.txt", "HTTP/1.1"))   # kept alive once answered
            except OSError:
                pass                # reset already: answered, the poll sees it

    def fetch_eventually(self, server, seconds):
        deadline = time.monotonic() + seconds
        resp = None
        for _ in range(200):
            try:
                resp = harness.fetch(server.port, "/a.txt")
            except (OSError, harness.ProtocolError):
                resp = None
            if (resp and resp.code == 200) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIsNotNone(resp, "no answer once descriptors were free again")
        return resp

    def test_one_worker(self):
        self.run_out(1)

    def test_two_workers(self):
        self.run_out(2)

    def test_four_workers(self):
        self.run_out(4)


@beyond_python("a clean stop on SIGTERM, which kills Python")
class StopListening(harness.ServerTestCase):
    """hs_server_shutdown (SIGINT, SIGTERM) stops listening at once: new connections are
    refused, not queued until the process exits, while a response in flight completes."""

    @classmethod
    def setUpClass(cls):
        cls.big = harness.pseudo_random_bytes(BIG_SIZE, seed=11)
        cls.doc = cls.class_docroot({"big.bin": cls.big})

    def stop_during_download(self, workers, sig):
        server = self.start(TARGET, harness.OPT_WORKERS, str(workers), harness.OPT_QUIET,
                            root=self.doc.root)
        slow = self.connect(server.port, rcvbuf=65536)
        slow.send(get("/big.bin"))
        head = slow.read_head()
        self.assertEqual(head.header("Content-Length"), str(BIG_SIZE))
        first = slow.read_body(65536)   # then nothing: the rest waits in flight
        watch = Watch()
        self.addCleanup(watch.close)
        server.send_signal(sig)
        signalled = time.monotonic()
        refused_after = None
        for _ in range(int(REFUSE_BOUND / 0.02) + 10):
            if time.monotonic() - signalled > REFUSE_BOUND:
                break
            try:
                # short: a SYN that reached the listener as it closed is dropped, not
                # refused, and its retransmission would come only after a second
                s = connect(server.port, timeout=0.2)
            except ConnectionRefusedError:
                refused_after = time.monotonic() - signalled
                break
            except OSError:
                time.sleep(0.02)        # a connect timing out is neither refused nor answered
                continue
            watch.add(s, time.monotonic())
            try:
                s.send(get("/a.txt"))
            except OSError:
                pass
            time.sleep(0.02)
        watch.poll(ANSWER_BOUND)
        late = watch.late(ANSWER_BOUND)
        rest = slow.read_body(BIG_SIZE - len(first))
        status = server.wait_exit(harness.STOP_TIMEOUT)
        self.assertIsNotNone(refused_after, f"{len(watch.rows)} connections were accepted in "
                                            f"the {REFUSE_BOUND}s after the signal, none refused")
        self.assertFalse(late, f"connections made after the signal waited unanswered: {late}")
        self.assertTrue(harness.sha256(first + rest) == harness.sha256(self.big),
                        "the download in flight did not complete whole")
        self.assertEqual(status, 0, server.describe())

    def test_sigterm_one_worker(self):
        self.stop_during_download(1, signal.SIGTERM)

    def test_sigterm_four_workers(self):
        self.stop_during_download(4, signal.SIGTERM)

    def test_sigint_two_workers(self):
        self.stop_during_download(2, signal.SIGINT)


if __name__ == "__main__":
    unittest.main()
