"""test_own_loop.py: build/examples/ownloop, a server embedded in the example's own poll()
loop beside its stdin, driven over HTTP and through a pipe on its stdin.

Requests are answered while stdin is idle; lines written to stdin show in the next GET;
keep-alive and several connections at once work; the idle timeout closes a connection with
no traffic at all (the loop sleeps on the server's deadline); closing stdin shuts the server
down, a response in flight still completes and the example exits 0, as it does on SIGTERM.
It runs under the same wrapper as httpserve (valgrind in `make valgrind`), and a sanitized
build's leak check makes a leak a non-zero exit.
"""

import os
import signal
import subprocess
import time
import unittest

import harness

OWNLOOP = harness.example_path("ownloop")
BIG_SIZE = 8 << 20
IDLE_MS = 600


class OwnLoopProcess(harness.ServerProcess):
    """A ServerProcess whose stdin is a pipe the test writes to."""

    def __init__(self, argv):
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        with harness._LIVE_LOCK:
            harness._LIVE.add(self)
        self._stdout = harness._PipeReader(self.proc.stdout)
        self._stderr = harness._PipeReader(self.proc.stderr)
        self.banner = None
        self.returncode = None

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close_stdin(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def _finish_pipes(self):
        self.close_stdin()
        super()._finish_pipes()


@unittest.skipUnless(os.access(OWNLOOP, os.X_OK), f"{OWNLOOP} is not built")
class OwnLoop(harness.ServerTestCase):

    def start_ownloop(self, *args):
        wrapper = os.environ.get("HTTPSERVE_E2E_WRAPPER", "").split()
        server = OwnLoopProcess(wrapper + [OWNLOOP, "0"] + [str(a) for a in args])
        self.addCleanup(server.stop)
        server.wait_banner()
        self.assertEqual(server.banner.host, "127.0.0.1")
        return server

    def lines(self, server):
        resp = harness.fetch(server.port, "/")
        self.assertStatus(resp, 200)
        return resp.body

    def wait_lines(self, server, want):
        """The GET body once it equals want (bounded), or the last one seen."""
        body = None
        for _ in range(100):
            body = self.lines(server)
            if body == want:
                break
            time.sleep(0.05)
        return body

    def assertExits0(self, server, timeout=harness.STOP_TIMEOUT):
        status = server.wait_exit(timeout * (4 if harness.INSTRUMENTED else 1))
        self.assertEqual(status, 0, server.describe())

    def test_answers_while_stdin_is_idle(self):
        server = self.start_ownloop()
        for _ in range(3):
            self.assertEqual(self.lines(server), b"")
        self.assertStatus(harness.fetch(server.port, "/nothing"), 404)

    def test_lines_typed_show_in_the_next_get(self):
        server = self.start_ownloop()
        typed = ""
        for text in ["one\n", "\n", "a longer line " * 200 + "\n", "caf\u00e9 \u2603\n",
                     "two\nthree\n"]:
            typed += text
            server.type(text)
            self.assertEqual(self.wait_lines(server, typed.encode()), typed.encode())

    def test_keep_alive_and_concurrent_connections(self):
        server = self.start_ownloop()
        server.type("shared\n")
        self.assertEqual(self.wait_lines(server, b"shared\n"), b"shared\n")
        clients = [self.connect(server.port) for _ in range(6)]
        for round_ in range(3):
            for c in clients:  # every request out before any answer is read
                c.send(harness.get("/", "HTTP/1.1"))
            for c in clients:
                resp = c.read_response()
                self.assertStatus(resp, 200)
                self.assertEqual(resp.body, b"shared\n")
                self.assertNotEqual((resp.header("Connection") or "").lower(), "close")

    def test_idle_timeout_fires_with_no_traffic(self):
        server = self.start_ownloop(IDLE_MS)
        client = self.connect(server.port)
        client.send(harness.get("/", "HTTP/1.1"))
        self.assertStatus(client.read_response(), 200)
        closed, waited, data = client.wait_closed(10.0)
        self.assertTrue(closed, f"the idle connection is still open after {waited:.1f}s")
        self.assertEqual(data, b"")
        self.assertGreater(waited, IDLE_MS / 1000 / 2)

    def test_closing_stdin_drains_a_response_in_flight(self):
        server = self.start_ownloop()
        client = self.connect(server.port, rcvbuf=4096)
        client.send(harness.get("/big", "HTTP/1.1"))
        head = client.read_head()
        self.assertStatus(head, 200)
        server.close_stdin()
        time.sleep(0.3)  # the shutdown is seen; listening has stopped
        with self.assertRaises(OSError):
            harness.Client(server.port, timeout=1.0).close()
        body = client.read_body(BIG_SIZE)
        self.assertEqual(body, b"x" * BIG_SIZE)
        self.assertExits0(server)

    def test_sigterm_exits_0(self):
        server = self.start_ownloop()
        self.assertEqual(self.lines(server), b"")
        self.assertEqual(server.stop(signal.SIGTERM), 0, server.describe())

    def test_end_of_stdin_at_once_exits_0(self):
        server = self.start_ownloop()
        server.type("last\n")
        self.assertEqual(self.wait_lines(server, b"last\n"), b"last\n")
        server.close_stdin()
        self.assertExits0(server)


if __name__ == "__main__":
    unittest.main()
