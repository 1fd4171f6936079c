"""test_server.py: httpserve on its own, as a user and a client see it.

The command line and its errors, persistent connections and pipelining, signals, framing
stricter than Python's, containment of paths, timeouts and connection limits, and large or many
concurrent transfers. Tests marked beyond_python check what Python does
not do; the others hold for python3 too, and run against it in --reference-only runs, which
checks the tests themselves.
"""

import functools
import os
import select
import signal
import socket
import threading
import time
import unittest

import harness
from harness import get, request, beyond_python, OPT_QUIET

TARGET = harness.httpserve_target()
H11 = ("-p", "HTTP/1.1")
BIG_SIZE = 20 << 20


@functools.lru_cache(maxsize=1)
def big_file():
    return harness.pseudo_random_bytes(BIG_SIZE, seed=20)


class ServerCase(harness.ServerTestCase):
    """One document root per class; with_big_file adds big.bin to it."""

    maxDiff = None
    with_big_file = False

    @classmethod
    def setUpClass(cls):
        cls.doc = cls.class_docroot({"big.bin": big_file()} if cls.with_big_file else {})

    def fetch(self, server, target, **kw):
        return harness.fetch(server.port, target, **kw)

    def assertBodyIs(self, resp, rel):
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, self.doc.files[rel], rel)

    def assertUsageError(self, status, out, err, prog):
        """Exit 2, nothing on stdout, a usage line (maybe wrapped) and a one-line error."""
        lines = err.splitlines()
        self.assertEqual(status, 2, err)
        self.assertEqual(out, "")
        self.assertGreaterEqual(len(lines), 2, err)
        self.assertTrue(lines[0].startswith("usage: "), err)
        self.assertTrue(all(line.startswith(" ") for line in lines[1:-1]), err)
        self.assertRegex(lines[-1], rf"^{prog}: error: \S", err)

    def assertOneLineError(self, status, out, err):
        """Exit 1, no banner, one line on stderr."""
        self.assertEqual(status, 1, err)
        self.assertNotIn("Serving HTTP", out)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertNotIn("Traceback", err)


# --------------------------------------------------------------- command line

class CommandLine(ServerCase):
    """Python's command line, `httpserve [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY]
    [-p VERSION] [port]`, and its errors."""

    def test_banner_names_the_bound_address_and_real_port(self):
        server = self.start(TARGET, root=self.doc.root)
        banner = server.banner
        self.assertEqual(banner.line, f"Serving HTTP on 127.0.0.1 port {banner.port} "
                                      f"(http://127.0.0.1:{banner.port}/) ...")
        self.assertNotEqual(banner.port, 0)
        self.assertBodyIs(self.fetch(server, "/a.txt"), "/a.txt")

    @unittest.skipUnless(harness.have_ipv6_loopback(), "no IPv6 loopback here")
    def test_bind_ipv6_loopback(self):
        server = self.start(TARGET, root=self.doc.root, bind="::1")
        port = server.port
        self.assertEqual(server.banner.line,
                         f"Serving HTTP on ::1 port {port} (http://[::1]:{port}/) ...")
        self.assertBodyIs(self.fetch(server, "/a.txt", host="::1"), "/a.txt")
        lines = server.wait_log(lambda ls: any('"GET /a.txt HTTP/1.0" 200' in l for l in ls))
        self.assertRegex(lines[-1], r'^::1 - - \[')

    def test_directory_option(self):
        server = self.start(TARGET, root=self.doc.root)
        self.assertBodyIs(self.fetch(server, "/sub/inner.txt"), "/sub/inner.txt")

    def test_default_directory_is_the_current_one(self):
        server = self.start(TARGET, cwd=self.doc.root)
        self.assertBodyIs(self.fetch(server, "/a.txt"), "/a.txt")

    def test_sigint_prints_a_line_and_exits_0(self):
        server = self.start(TARGET, root=self.doc.root)
        self.assertStatus(self.fetch(server, "/a.txt"), 200)  # serving, past the banner
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        self.assertEqual(server.stdout(),
                         server.banner.line + "\n\nKeyboard interrupt received, exiting.\n")

    def test_help(self):
        status, out, err = harness.run_command(TARGET, ["-h"])
        self.assertEqual(status, 0, err)
        self.assertTrue(out.startswith("usage: "), out)
        for option in ("-b", "-d", "-p", "--cgi", "port"):
            self.assertIn(option, out)

    def test_bad_port_word_is_a_usage_error(self):
        status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", "abc"])
        self.assertUsageError(status, out, err, TARGET.prog)

    def test_unknown_option_is_a_usage_error(self):
        status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", "--no-such", "0"])
        self.assertUsageError(status, out, err, TARGET.prog)

    @beyond_python("a usage error, which Python does not give")
    def test_port_out_of_range_is_a_usage_error(self):
        for port in ("70000", "65536"):
            with self.subTest(port=port):
                status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", port])
                self.assertUsageError(status, out, err, TARGET.prog)

    @beyond_python("a usage error, which Python does not give")
    def test_protocol_other_than_1_0_or_1_1_is_a_usage_error(self):
        for version in ("HTTP/2", "HTTP/0.9", "http/1.1"):
            with self.subTest(version=version):
                status, out, err = harness.run_command(
                    TARGET, ["-b", "127.0.0.1", "-p", version, "0"])
                self.assertUsageError(status, out, err, TARGET.prog)

    @beyond_python("one clear line and exit 1, unlike Python")
    def test_port_in_use_is_one_line_and_exit_1(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", str(port)])
        self.assertOneLineError(status, out, err)

    @beyond_python("SO_REUSEPORT workers, which Python lacks")
    def test_a_second_server_on_the_same_port_is_refused(self):
        """The workers listen as a SO_REUSEPORT group; a second server of the same user
        must still find the port in use, as with Python, not join the group."""
        first = self.start(TARGET, "-b", "127.0.0.1", harness.OPT_WORKERS, "2",
                           root=self.doc.root)
        for workers in ("1", "2"):
            status, out, err = harness.run_command(
                TARGET, ["-b", "127.0.0.1", harness.OPT_WORKERS, workers, str(first.port)])
            self.assertOneLineError(status, out, err)
        self.assertEqual(self.fetch(first, "/a.txt").code, 200)

    @beyond_python("one clear line and exit 1, unlike Python")
    def test_missing_directory_is_one_line_and_exit_1(self):
        missing = os.path.join(self.doc.base, "no-such-dir")
        status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", "-d", missing, "0"])
        self.assertOneLineError(status, out, err)

    @beyond_python("one clear line and exit 1, unlike Python")
    @unittest.skipIf(harness.running_as_root(), "root reads every directory")
    def test_unreadable_directory_is_one_line_and_exit_1(self):
        noread = os.path.join(self.doc.root, "noread_dir")
        status, out, err = harness.run_command(TARGET, ["-b", "127.0.0.1", "-d", noread, "0"])
        self.assertOneLineError(status, out, err)

    @beyond_python("--version, which Python lacks")
    def test_version(self):
        status, out, err = harness.run_command(TARGET, [harness.OPT_VERSION])
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"\bhttpserve\b\S*\s*\S*\d+\.\d+\.\d+")

    @beyond_python("-q, which Python lacks")
    def test_quiet_silences_request_lines_but_not_errors(self):
        server = self.start(TARGET, OPT_QUIET, root=self.doc.root)
        self.assertStatus(self.fetch(server, "/a.txt"), 200)
        self.assertStatus(self.fetch(server, "/missing"), 404)
        lines = server.wait_log(lambda ls: any("code 404, message File not found" in l
                                               for l in ls))
        self.assertTrue(any("code 404, message File not found" in l for l in lines), lines)
        time.sleep(0.3)  # a request line, were there one, would be written by now
        self.assertFalse([l for l in server.log_lines() if '" 200 -' in l or '" 404 -' in l])


# ---------------------------------------------------------------- connections

class PersistentConnections(ServerCase):
    """With -p HTTP/1.1, one connection carries many requests, answered in order."""

    with_big_file = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.class_start(TARGET, *H11, root=cls.doc.root)

    FILES = ["/a.txt", "/page.html", "/sub/inner.txt", "/data.json", "/listdir/a.txt",
             "/caf\u00e9.txt"]

    def requests(self):
        return [get(harness.quote(rel), "HTTP/1.1") for rel in self.FILES]

    def test_several_requests_one_at_a_time(self):
        client = self.connect(self.server.port)
        for resp, rel in zip(harness.keep_alive(client, self.requests(), ["GET"] * 6),
                             self.FILES):
            self.assertEqual(resp.status_line, "HTTP/1.1 200 OK")
            self.assertBodyIs(resp, rel)
        client.send(get("/a.txt", "HTTP/1.1", [("Connection", "close")]))
        self.assertBodyIs(client.read_response(), "/a.txt")
        self.assertTrue(client.wait_closed(harness.IO_TIMEOUT)[0])

    def test_pipelined_requests_in_one_send_are_answered_in_order(self):
        client = self.connect(self.server.port)
        responses = harness.pipeline(client, self.requests(), ["GET"] * 6)
        for resp, rel in zip(responses, self.FILES):
            self.assertBodyIs(resp, rel)

    def test_pipelined_head_get_and_redirect(self):
        client = self.connect(self.server.port)
        reqs = [request("HEAD", "/a.txt", "HTTP/1.1", [("Host", "x")]), get("/sub", "HTTP/1.1"),
                get("/a.txt", "HTTP/1.1")]
        head, redirect, body = harness.pipeline(client, reqs, ["HEAD", "GET", "GET"])
        self.assertEqual((head.code, head.body, head.header("Content-Length")), (200, b"", "13"))
        self.assertEqual((redirect.code, redirect.header("Location")), (301, "/sub/"))
        self.assertBodyIs(body, "/a.txt")

    def test_a_request_sent_byte_by_byte(self):
        client = self.connect(self.server.port)
        for byte in get("/a.txt", "HTTP/1.1"):
            client.send(bytes([byte]))
            time.sleep(0.001)
        self.assertBodyIs(client.read_response(), "/a.txt")

    def test_an_error_with_nothing_after_it_closes_without_lingering(self):
        """send_error closes the connection, as Python's does. When the socket held nothing
        more, it closes at once (docs/design.md, LINGER): what the client sends afterwards meets
        a closed socket and a reset, where a lingering server would read and drop it."""
        client = self.connect(self.server.port)
        client.send(get("/missing.txt", "HTTP/1.1"))
        self.assertStatus(client.read_response(), 404)
        self.assertTrue(client.wait_closed(harness.IO_TIMEOUT)[0])
        reset = False
        for _ in range(50):
            try:
                client.sock.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.02)
                client.sock.recv(1)
            except (ConnectionResetError, BrokenPipeError):
                reset = True
                break
        self.assertTrue(reset, "the server was still reading after its error page")

    def test_an_error_with_a_request_behind_it_still_arrives(self):
        """With the next request already sent, the server lingers: its 404 is read
        whole, and the request behind it is never answered."""
        client = self.connect(self.server.port)
        client.send(get("/missing.txt", "HTTP/1.1") + get("/a.txt", "HTTP/1.1"))
        self.assertStatus(client.read_response(), 404)
        closed, _, rest = client.wait_closed(harness.IO_TIMEOUT)
        self.assertEqual((closed, rest), (True, b""))

    def test_large_file_then_small_on_one_connection(self):
        client = self.connect(self.server.port)
        big, small = harness.pipeline(client, [get("/big.bin", "HTTP/1.1"),
                                               get("/a.txt", "HTTP/1.1")], ["GET", "GET"])
        self.assertEqual(harness.sha256(big.body), harness.sha256(big_file()))
        self.assertBodyIs(small, "/a.txt")


# -------------------------------------------------------------------- signals

class Signals(ServerCase):
    """Ctrl-C, as with Python, and SIGTERM, which kills Python, stop the server cleanly."""

    with_big_file = True

    @beyond_python("a clean stop on SIGTERM, which kills Python")
    def test_sigterm_exits_0_after_an_inflight_download_finishes(self):
        server = self.start(TARGET, root=self.doc.root)
        client = self.connect(server.port, rcvbuf=65536)
        client.send(get("/big.bin"))
        head = client.read_head()
        self.assertEqual(head.header("Content-Length"), str(BIG_SIZE))
        first = client.read_body(65536)
        server.send_signal(signal.SIGTERM)
        rest = client.read_body(BIG_SIZE - len(first))
        self.assertEqual(harness.sha256(first + rest), harness.sha256(big_file()))
        self.assertEqual(server.wait_exit(harness.STOP_TIMEOUT), 0, server.describe())

    def test_sigint_with_idle_connections_open(self):
        server = self.start(TARGET, *H11, root=self.doc.root)
        client = self.connect(server.port)
        harness.keep_alive(client, [get("/a.txt", "HTTP/1.1")], ["GET"])
        server.send_signal(signal.SIGINT)
        self.assertEqual(server.wait_exit(harness.STOP_TIMEOUT), 0, server.describe())


# -------------------------------------------------------------------- framing

class StrictFraming(ServerCase):
    """Framing follows RFC 9112, stricter than Python's; a refused request closes the
    connection, and nothing sent after it is ever answered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.class_start(TARGET, *H11, root=cls.doc.root)

    FOLLOWER = get("/a.txt", "HTTP/1.1")

    def assertRefused(self, head):
        """head + a pipelined GET /a.txt: one 400 that closes, the GET never answered."""
        raw = harness.exchange(self.server.port, head + self.FOLLOWER)
        responses = harness.parse_stream(raw)
        self.assertEqual([r.code for r in responses], [400], raw[:2000])
        self.assertEqual(responses[0].header("Connection"), "close")
        self.assertNotIn(self.doc.files["/a.txt"], raw)

    def assertBothAnswered(self, head):
        client = self.connect(self.server.port)
        first, second = harness.pipeline(client, [head, self.FOLLOWER], ["GET", "GET"])
        self.assertStatus(first, 200)
        self.assertBodyIs(second, "/a.txt")

    def refused(self, *header_lines, body=b""):
        lines = b"".join(line + b"\r\n" for line in header_lines)
        return b"GET /page.html HTTP/1.1\r\n" + lines + b"\r\n" + body

    @beyond_python("stricter framing than Python's")
    def test_content_length_with_transfer_encoding(self):
        self.assertRefused(self.refused(b"Host: x", b"Content-Length: 5",
                                        b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"))

    @beyond_python("stricter framing than Python's")
    def test_two_different_content_lengths(self):
        self.assertRefused(self.refused(b"Host: x", b"Content-Length: 5", b"Content-Length: 6",
                                        body=b"abcdef"))

    @beyond_python("stricter framing than Python's")
    def test_content_length_that_is_not_digits(self):
        for value in (b"abc", b"1x", b"-1", b"+5", b"0x10", b"5 5", b""):
            with self.subTest(value=value):
                self.assertRefused(self.refused(b"Host: x", b"Content-Length: " + value))

    @beyond_python("stricter framing than Python's")
    def test_transfer_coding_other_than_chunked(self):
        self.assertRefused(self.refused(b"Host: x", b"Transfer-Encoding: gzip"))

    @beyond_python("stricter framing than Python's")
    def test_http_1_1_without_host(self):
        self.assertRefused(self.refused(b"Accept: */*"))

    @beyond_python("stricter framing than Python's")
    def test_http_1_1_with_two_hosts(self):
        self.assertRefused(self.refused(b"Host: a", b"Host: b"))

    @beyond_python("stricter framing than Python's")
    def test_whitespace_before_the_colon(self):
        self.assertRefused(self.refused(b"Host: x", b"X-Test : 1"))
        self.assertRefused(self.refused(b"Host: x", b"X-Test\t: 1"))

    @beyond_python("stricter framing than Python's")
    def test_obsolete_line_folding(self):
        self.assertRefused(self.refused(b"Host: x", b"X-Test: a", b"  b"))
        self.assertRefused(self.refused(b"Host: x", b"X-Test: a", b"\tb"))

    @beyond_python("stricter framing than Python's")
    def test_a_body_is_consumed_not_read_as_the_next_request(self):
        self.assertBothAnswered(self.refused(b"Host: x", b"Content-Length: 16",
                                             body=b"GET /x HTTP/1.1\n"))
        self.assertBothAnswered(self.refused(b"Host: x", b"Content-Length: 3",
                                             b"Content-Length: 3", body=b"abc"))
        self.assertBothAnswered(self.refused(b"Host: x", b"Transfer-Encoding: chunked",
                                             body=b"5\r\nhello\r\n0\r\n\r\n"))

    def test_http_1_0_needs_no_host(self):
        self.assertBodyIs(self.fetch(self.server, "/a.txt"), "/a.txt")

    @beyond_python("the ten-digit version limit, which python3 3.11 lacks")
    def test_version_numbers_of_more_than_ten_digits(self):
        resp = harness.exchange_one(self.server.port, b"GET / HTTP/12345678901.0\r\n\r\n")
        self.assertEqual(resp.status_line,
                         "HTTP/1.0 400 Bad request version ('HTTP/12345678901.0')")


# ---------------------------------------------------------------- containment

class Containment(ServerCase):
    """No request target reads outside the served directory, and odd ones get a
    proper answer, never a dropped connection. secret.txt lies beside the root."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.class_start(TARGET, root=cls.doc.root)

    ESCAPES = ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
               "/..%2fsecret.txt", "/..%2Fsecret.txt", "/sub/../../secret.txt",
               "/sub/%2e%2e/%2e%2e/secret.txt", "//../secret.txt", "/./../secret.txt",
               "/%2e%2e/%2e%2e/etc/passwd", "/../../../../../../../../etc/passwd",
               "/..\\secret.txt", "/%5c..%5csecret.txt", "/sub\\..\\..\\secret.txt",
               "http://127.0.0.1/../secret.txt", "http://localhost/%2e%2e/secret.txt",
               "/listdir/nested/../../../secret.txt", "/..;/secret.txt", "/.%2e/secret.txt",
               "/%252e%252e/secret.txt", "/%c0%ae%c0%ae/secret.txt"]

    def assertContained(self, raw, target):
        self.assertNotIn(harness.SECRET, raw, target)
        self.assertNotIn(b"root:x:0:0", raw, target)

    def test_dot_segments_never_leave_the_root(self):
        for target in self.ESCAPES:
            with self.subTest(target=target):
                raw = harness.exchange(self.server.port, get(target))
                self.assertContained(raw, target)
                self.assertIn(harness.only_response(raw).code, (400, 403, 404), raw[:500])

    @beyond_python("where Python drops the connection with a traceback")
    def test_nul_in_the_path_gets_an_error_page(self):
        for target in ["/a.txt%00", "/%00", "/sub%00/inner.txt", "/a.txt%00.html",
                       "/%00/../secret.txt"]:
            with self.subTest(target=target):
                raw = harness.exchange(self.server.port, get(target))
                self.assertContained(raw, target)
                resp = harness.only_response(raw)
                self.assertIn(resp.code, (400, 404), raw[:500])
                self.assertEqual(resp.header("Content-Type"), "text/html;charset=utf-8")
                self.assertIn(b"<h1>Error response</h1>", resp.body)

    @beyond_python("the symlink policy, where Python follows every link")
    def test_symlink_leading_outside_is_refused_and_logged(self):
        raw = harness.exchange(self.server.port, get("/escape"))
        self.assertContained(raw, "/escape")
        self.assertEqual(harness.only_response(raw).code, 404)
        lines = self.server.wait_log(lambda ls: any("--symlinks" in l for l in ls))
        self.assertTrue(any("--symlinks" in l for l in lines), lines)

    def test_symlink_inside_is_served(self):
        self.assertBodyIs(self.fetch(self.server, "/link.txt"), "/a.txt")


# -------------------------------------------------------------------- timeouts

TIMEOUT = 1             # seconds, for every timeout option below
SLACK = 3.0             # how much later than the timeout a close may come


class Timeouts(ServerCase):
    """Every phase has a deadline, and a slow client never delays another (Python has none)."""

    with_big_file = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if harness.REFERENCE_ONLY:
            return
        cls.server = cls.class_start(
            TARGET, *H11, harness.OPT_HEADER_TIMEOUT, str(TIMEOUT), harness.OPT_IDLE_TIMEOUT,
            str(TIMEOUT), harness.OPT_SEND_TIMEOUT, str(TIMEOUT), root=cls.doc.root)

    def assertClosedInTime(self, client, started):
        closed, _, data = client.wait_closed(TIMEOUT + SLACK)
        waited = time.monotonic() - started
        self.assertTrue(closed, f"still open {waited:.1f}s later")
        self.assertGreaterEqual(waited, TIMEOUT * 0.5, "closed before the timeout")
        if data:   # a server may say 408 before closing
            self.assertEqual(harness.only_response(data).code, 408)

    def assertServedMeanwhile(self):
        started = time.monotonic()
        self.assertBodyIs(self.fetch(self.server, "/a.txt"), "/a.txt")
        self.assertLess(time.monotonic() - started, TIMEOUT * 0.5)

    @beyond_python("deadlines, where Python waits forever")
    def test_silent_client_is_closed_while_another_is_served(self):
        started = time.monotonic()
        silent = self.connect(self.server.port)
        self.assertServedMeanwhile()
        self.assertClosedInTime(silent, started)

    @beyond_python("deadlines, where Python waits forever")
    def test_unfinished_head_is_closed(self):
        started = time.monotonic()
        client = self.connect(self.server.port)
        client.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n")
        self.assertServedMeanwhile()
        self.assertClosedInTime(client, started)

    @beyond_python("deadlines, where Python waits forever")
    def test_head_trickling_in_is_closed_at_the_head_deadline(self):
        started = time.monotonic()
        client = self.connect(self.server.port)
        client.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        closed = False
        for _ in range(int((TIMEOUT + SLACK) / 0.1)):
            readable, _, _ = select.select([client.sock], [], [], 0.1)
            if readable or not client.send_quietly(b"a"):
                closed = True
                break
        waited = time.monotonic() - started
        self.assertTrue(closed, f"a client sending a byte every 0.1s kept its connection "
                                f"{waited:.1f}s")
        self.assertGreaterEqual(waited, TIMEOUT * 0.5)

    @beyond_python("deadlines, where Python waits forever")
    def test_idle_persistent_connection_is_closed(self):
        client = self.connect(self.server.port)
        harness.keep_alive(client, [get("/a.txt", "HTTP/1.1")], ["GET"])
        started = time.monotonic()
        self.assertServedMeanwhile()
        self.assertClosedInTime(client, started)

    @beyond_python("deadlines, where Python waits forever")
    def test_client_that_stops_reading_is_dropped(self):
        client = self.connect(self.server.port, rcvbuf=65536)
        client.send(get("/big.bin", "HTTP/1.1"))
        head = client.read_head()
        self.assertEqual(head.header("Content-Length"), str(BIG_SIZE))
        self.assertServedMeanwhile()
        time.sleep(TIMEOUT + 1.5)
        closed, _, data = client.wait_closed(SLACK)
        self.assertTrue(closed, "a stalled download is still open")
        self.assertLess(len(data), BIG_SIZE)


class ConnectionLimit(ServerCase):
    """hs_options.max_connections: at the cap a new connection gets a 503."""

    @beyond_python("the connection cap, which Python lacks")
    def test_connection_over_the_cap_gets_503(self):
        server = self.start(TARGET, *H11, harness.OPT_WORKERS, "1",
                            harness.OPT_MAX_CONNECTIONS, "2", root=self.doc.root)
        held = [self.connect(server.port) for _ in range(2)]
        for client in held:
            harness.keep_alive(client, [get("/a.txt", "HTTP/1.1")], ["GET"])
        extra = self.connect(server.port)
        extra.send_quietly(get("/a.txt", "HTTP/1.1"))
        closed, _, data = extra.wait_closed(harness.IO_TIMEOUT)
        self.assertTrue(closed)
        self.assertEqual(harness.only_response(data).code, 503)
        held[0].close()
        self.assertTrue(self.eventually_served(server), "no room after a connection closed")

    def eventually_served(self, server):
        for _ in range(30):
            resp = self.fetch(server, "/a.txt")
            if resp.code == 200:
                return True
            time.sleep(0.1)
        return False


# ------------------------------------------------------------------- transfers

class Transfers(ServerCase):
    """Bodies arrive whole, however large, and however many clients ask at once."""

    with_big_file = True

    CLIENTS = 32
    REQUESTS_EACH = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls.class_start(TARGET, root=cls.doc.root)

    def test_large_file_downloads_intact(self):
        resp = self.fetch(self.server, "/big.bin")
        self.assertEqual(resp.header("Content-Length"), str(BIG_SIZE))
        self.assertEqual(harness.sha256(resp.body), harness.sha256(big_file()))

    def test_head_of_a_large_file(self):
        resp = self.fetch(self.server, "/big.bin", method="HEAD")
        self.assertEqual((resp.code, resp.header("Content-Length"), resp.body),
                         (200, str(BIG_SIZE), b""))

    def test_many_concurrent_clients_get_correct_bodies(self):
        rels = sorted(rel for rel in self.doc.files if rel != "/big.bin")
        errors = []
        start = threading.Barrier(self.CLIENTS, timeout=harness.IO_TIMEOUT)

        def client(n):
            try:
                start.wait()
                for i in range(self.REQUESTS_EACH):
                    rel = rels[(n * self.REQUESTS_EACH + i) % len(rels)]
                    resp = self.fetch(self.server, harness.quote(rel))
                    if resp.code != 200 or resp.body != self.doc.files[rel]:
                        errors.append(f"{rel}: {resp.status_line}")
            except Exception as exc:  # collected, reported below
                errors.append(f"client {n}: {exc!r}")

        threads = [threading.Thread(target=client, args=(n,), daemon=True)
                   for n in range(self.CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + harness.READ_DEADLINE
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.assertFalse([t for t in threads if t.is_alive()], "clients still running")
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
