"""test_cgi.py: `httpserve --cgi`, with shell and Python scripts.

First against `python3 -m http.server --cgi`, byte for byte: the environment and argv a script
gets for many targets and headers, and the 404/403/501 error pages. Then httpserve alone: a
50 MiB POST streamed through a script without growing the server, an 8 MiB echo with
back-pressure, scripts that never end (killed at the timeout, or when the client leaves), a
script that prints garbage (502), RFC 3875 responses (Status, Location, Content-Length, chunked
on persistent connections, HEAD), stderr and exit codes in the log, running as nobody, httpoxy,
and many concurrent scripts while static files keep being served. After each test the server
must have no child left, zombie or alive, beyond a moment.
"""

import concurrent.futures
import dataclasses
import hashlib
import os
import re
import stat
import threading
import time
import unittest

import harness
from harness import request, beyond_python
import test_differential as diff

TARGET = harness.httpserve_target()
PYTHON = "/usr/bin/python3"  # scripts run as nobody under root: not a python under /root
H11 = ("-p", "HTTP/1.1")
# Under valgrind (run.py --valgrind) every fork and request is many times slower.
SLOWER = 10 if os.environ.get("HTTPSERVE_E2E_WRAPPER") else 1

ENV_NAMES = ["SERVER_SOFTWARE", "SERVER_NAME", "GATEWAY_INTERFACE", "SERVER_PROTOCOL",
             "SERVER_PORT", "REQUEST_METHOD", "PATH_INFO", "PATH_TRANSLATED", "SCRIPT_NAME",
             "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "AUTH_TYPE", "REMOTE_USER",
             "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_REFERER", "HTTP_ACCEPT", "HTTP_USER_AGENT",
             "HTTP_COOKIE", "HTTP_PROXY", "HTTP_HOST"]

ENV_PY = f"""#!{PYTHON}
import os, sys
out = sys.stdout.buffer
out.write(b"Content-Type: text/plain\\r\\n\\r\\n")
for name in {ENV_NAMES!r}:
    value = os.environb.get(name.encode())
    out.write(name.encode() + b"=" + (b"(unset)" if value is None else b"[" + value + b"]") + b"\\n")
out.write(b"argv=" + repr([os.fsencode(a) for a in sys.argv[1:]]).encode() + b"\\n")
out.write(b"uid=%d\\n" % os.getuid())
""".encode()

HASH_PY = f"""#!{PYTHON}
import hashlib, os, sys
h, n = hashlib.sha256(), 0
left = int(os.environ.get("CONTENT_LENGTH") or -1)  # Python's stdin is the socket: no EOF
while left:
    block = sys.stdin.buffer.read(1 << 16 if left < 0 else min(left, 1 << 16))
    left -= len(block) if left > 0 else 0
    if not block:
        break
    h.update(block)
    n += len(block)
sys.stdout.write("Content-Type: text/plain\\r\\n\\r\\n%d %s\\n" % (n, h.hexdigest()))
""".encode()

# Random bytes after a first line without a colon: random bytes alone begin with a line
# end once in 256 runs, an empty (not malformed) header block.
GARBAGE_PY = f"""#!{PYTHON}
import os, sys
sys.stdout.buffer.write(b"garbage without a colon\\n" + os.urandom(1 << 16))
""".encode()

BIG_PY = f"""#!{PYTHON}
import sys
block = bytes(range(256)) * 256
sys.stdout.buffer.write(b"Content-Type: application/octet-stream\\r\\n\\r\\n")
for _ in range(80):   # 20 MiB
    sys.stdout.buffer.write(block * 4)
""".encode()

SCRIPTS = {
    "cgi-bin/env.py": ENV_PY,
    "cgi-bin/sub/env.py": ENV_PY,
    "htbin/env.py": ENV_PY,
    "cgi-bin/hash.py": HASH_PY,
    "cgi-bin/garbage.py": GARBAGE_PY,
    "cgi-bin/big.py": BIG_PY,
    "cgi-bin/cat.sh": b"#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\n"
                      b"exec cat\n",
    "cgi-bin/status.sh": b"#!/bin/sh\necho 'first line on stderr' >&2\n"
                         b"printf 'Status: 404 Not Here\\r\\nContent-Type: text/plain\\r\\n\\r\\ngone\\n'\n"
                         b"echo 'second line on stderr' >&2\nexit 3\n",
    "cgi-bin/redirect.sh": b"#!/bin/sh\nprintf 'Location: /a.txt\\r\\n\\r\\n'\n",
    "cgi-bin/length.sh": b"#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\nContent-Length: 6\\r\\n"
                         b"\\r\\nhello\\n'\n",
    "cgi-bin/notype.sh": b"#!/bin/sh\nprintf 'X-Thing: 1\\r\\n\\r\\nbody\\n'\n",
    "cgi-bin/forever.sh": b"#!/bin/sh\nwhile :; do sleep 1; done\n",
    "cgi-bin/forever_out.sh": b"#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                              b"exec yes 'never ending output'\n",
    "cgi-bin/slow.sh": b"#!/bin/sh\nsleep 0.5\nprintf 'Content-Type: text/plain\\r\\n\\r\\n"
                       b"slow %s\\n' \"$QUERY_STRING\"\n",
    "cgi-bin/noexec.sh": b"#!/bin/sh\necho never\n",
}
NOT_EXECUTABLE = {"cgi-bin/noexec.sh"}
MIB = 1 << 20


def cgi_docroot(case):
    """A document root with the scripts, readable and executable by nobody."""
    doc = case.class_docroot(SCRIPTS)
    for top in (doc.base, doc.root):
        os.chmod(top, 0o755)
    for dirpath, dirnames, filenames in os.walk(doc.root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    for rel in SCRIPTS:
        mode = 0o644 if rel in NOT_EXECUTABLE else 0o755
        os.chmod(os.path.join(doc.root, rel), mode)
    return doc


def children(pid):
    """The pids of a process's children (every thread's), with their states."""
    out = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids = f.read().split()
        except OSError:
            continue
        for kid in kids:
            try:
                with open(f"/proc/{kid}/stat") as f:
                    out[int(kid)] = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                pass
    return out


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def env_of(resp):
    """The variables env.py printed: name -> bytes, or None when unset."""
    env = {}
    for line in resp.body.split(b"\n"):
        name, sep, value = line.partition(b"=")
        if sep and name.decode() in ENV_NAMES:
            env[name.decode()] = None if value == b"(unset)" else value[1:-1]
        elif sep:
            env[name.decode()] = value
    return env


# ------------------------------------------------------------------- as Python

@unittest.skipUnless(os.access(PYTHON, os.X_OK), f"the scripts need {PYTHON}")
class CgiAsPython(diff.DifferentialCase):
    """The same requests to python3 -m http.server --cgi and to httpserve --cgi."""

    @classmethod
    def setUpClass(cls):
        cls.doc = cgi_docroot(cls)
        cls.ref_target, cls.our_target = harness.python_target(), harness.httpserve_target()
        cls.ref = cls.class_start(cls.ref_target, "--cgi", root=cls.doc.root)
        cls.ours = cls.class_start(cls.our_target, "--cgi", root=cls.doc.root)

    def compare_env(self, target, method="GET", headers=(), body=b""):
        with self.subTest(method=method, target=target, headers=headers):
            data = request(method, target, "HTTP/1.0", headers, body)
            got = [harness.exchange_responses(server.port, data, [method])
                   for server, _ in self.sides()]
            ref, ours = got
            for (server, _), side in zip(self.sides(), got):
                for resp in side:
                    # SERVER_SOFTWARE names the server, as Server does (SERVER_HEADER)
                    body = re.sub(rb"SERVER_SOFTWARE=\[[^\]\n]*\]", b"SERVER_SOFTWARE=[masked]",
                                  resp.body)
                    port = b"SERVER_PORT=[%d]" % server.port
                    if b"SERVER_PORT=" in body:
                        self.assertIn(port, body)
                    resp.body = body.replace(port, b"SERVER_PORT=[(its port)]")
            self.assertSameResponses(diff.Exchange(data, [method]), ref, ours)

    def test_environment_and_argv(self):
        for target in ["/cgi-bin/env.py", "/cgi-bin/env.py?a=b&c=d", "/cgi-bin/env.py?x+y",
                       "/cgi-bin/env.py?", "/cgi-bin/env.py/extra/path", "/cgi-bin/env.py/x/",
                       "/cgi-bin/env.py/a%2541/%C3%A9?q=%41", "/cgi-bin/env.py/%E9t%E9",
                       "/cgi-bin/sub/env.py/more?k", "/htbin/env.py", "//cgi-bin/env.py",
                       "/a/../cgi-bin/env.py/x", "/cgi-bin/./env.py", "/cgi-bin/env.py/..%2F..",
                       "/cgi-bin/env.py/a/../b", "/cgi-bin/env.py/%2e%2e/%2e%2e/etc",
                       "/cgi-bin/env.py?a=%2F&b=%20", "/cgi-bin/caf\xe9/../env.py"]:
            self.compare_env(target)

    def test_environment_from_headers(self):
        basic = [("Authorization", "Basic dXNlcjpwYXNz")]
        for headers in [basic, [("Authorization", "Basic !!!")],
                        [("Authorization", "Bearer token")], [("Authorization", "Basic a b")],
                        [("Authorization", "Basic YTpiOmM=")], [("Authorization", "basic OnB3")],
                        [("Accept", "text/html"), ("Accept", "*/*"), ("Cookie", "a=1"),
                         ("Cookie", ""), ("Cookie", "b=2"), ("Referer", "http://r/"),
                         ("User-Agent", "t\xe9st/1.0"), ("Host", "example")],
                        [("Content-Type", "")], [("Referer", "")], [("Proxy", "http://evil/")]]:
            self.compare_env("/cgi-bin/env.py", headers=headers)

    def test_environment_of_a_post(self):
        self.compare_env("/cgi-bin/env.py?a=1", "POST",
                         [("Content-Type", "application/x-www-form-urlencoded"),
                          ("Content-Length", "3")], b"x=1")

    def test_body_reaches_the_script(self):
        body = harness.pseudo_random_bytes(100000, seed=3)
        data = request("POST", "/cgi-bin/hash.py", "HTTP/1.0",
                       [("Content-Length", str(len(body)))], body)
        self.compare(data, ["POST"])

    def test_error_pages(self):
        self.compare_each(["/cgi-bin/missing.py", "/cgi-bin/", "/cgi-bin/sub",
                           "/cgi-bin/sub/", "/cgi-bin/noexec.sh", "/htbin/missing",
                           "/cgi-bin/missing.py/extra?q", "/cgi-bin/a%00b"])
        self.compare_each(["/a.txt", "/", "/sub/"], method="POST",
                          headers=[("Content-Length", "0")])
        self.compare_each(["/cgi-bin", "/cgi-bin?x", "/a.txt"])


# --------------------------------------------------------------- httpserve alone

class CgiCase(harness.ServerTestCase):
    """One document root with the scripts per class; servers per test."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.doc = cgi_docroot(cls)

    def start_cgi(self, *args, target=TARGET):
        return self.start(target, "--cgi", *args, root=self.doc.root)

    def assertNoChildren(self, server, timeout=5.0):
        """Every script ends and is reaped: no child of the server, zombie or not."""
        deadline = time.monotonic() + timeout
        while children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(children(server.pid), {}, "children left (pid: state)")

    def assertLog(self, server, pattern):
        lines = server.wait_log(lambda ls: any(re.search(pattern, line) for line in ls))
        self.assertTrue(any(re.search(pattern, line) for line in lines),
                        f"no log line matches {pattern!r}:\n" + "\n".join(lines))


@unittest.skipUnless(os.access(PYTHON, os.X_OK), f"the scripts need {PYTHON}")
class CgiStreaming(CgiCase):

    def test_50_mib_post_streams_through_the_script(self):
        server = self.start_cgi(*(() if TARGET.is_python else (harness.OPT_WORKERS, "2")))
        body = harness.pseudo_random_bytes(50 * MIB, seed=50)
        want = f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode()
        before = peak_rss_kib(server.pid)
        data = request("POST", "/cgi-bin/hash.py", "HTTP/1.0",
                       [("Content-Length", str(len(body)))], body)
        resp = harness.exchange_one(server.port, data, "POST")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, want)
        if not TARGET.is_python:
            grown = peak_rss_kib(server.pid) - before
            self.assertLess(grown, 24 * 1024, "the body was held in memory (peak RSS, KiB)")
        self.assertNoChildren(server)

    @beyond_python("a chunked request body, which Python's CGI does not read")
    def test_50_mib_chunked_post_streams_through_the_script(self):
        server = self.start_cgi(*H11)
        body = harness.pseudo_random_bytes(50 * MIB, seed=51)
        want = f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + MIB]), body[i:i + MIB])
                          for i in range(0, len(body), MIB))
        before = peak_rss_kib(server.pid)
        data = request("POST", "/cgi-bin/hash.py", "HTTP/1.1",
                       [("Host", "h"), ("Transfer-Encoding", "chunked"),
                        ("Connection", "close")], chunks + b"0\r\n\r\n")
        resp = harness.exchange_one(server.port, data, "POST")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, want)
        self.assertLess(peak_rss_kib(server.pid) - before, 24 * 1024)
        self.assertNoChildren(server)

    @beyond_python("CGI bodies streamed with back-pressure")
    def test_8_mib_echo_while_the_client_sends_and_reads(self):
        server = self.start_cgi(*H11)
        body = harness.pseudo_random_bytes(8 * MIB, seed=8)
        client = self.connect(server.port, deadline=60)
        head = request("POST", "/cgi-bin/cat.sh", "HTTP/1.1",
                       [("Host", "h"), ("Content-Length", str(len(body)))])
        sender = threading.Thread(target=client.send, args=(head + body,), daemon=True)
        sender.start()
        resp = client.read_response("POST")
        sender.join(30)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.header("Transfer-Encoding"), "chunked")
        self.assertEqual(harness.sha256(resp.body), harness.sha256(body))
        # the connection stays usable: a second request on it
        client.send(request("GET", "/cgi-bin/length.sh", "HTTP/1.1", [("Host", "h")]))
        self.assertEqual(client.read_response().body, b"hello\n")
        self.assertNoChildren(server)

    @beyond_python("CGI bodies streamed with back-pressure")
    def test_20_mib_of_output_to_a_slow_reader(self):
        server = self.start_cgi()
        client = self.connect(server.port, rcvbuf=65536, deadline=60)
        client.send(request("GET", "/cgi-bin/big.py"))
        head = client.read_head()
        time.sleep(1.0)  # the server must hold back, not buffer 20 MiB
        self.assertLess(peak_rss_kib(server.pid), 64 * 1024)
        body = client.read_until_close()
        self.assertIn("Script output follows", head.status_line)
        self.assertEqual(len(body), 20 * MIB)
        self.assertEqual(body[:512], bytes(range(256)) * 2)
        self.assertNoChildren(server)


class CgiProcesses(CgiCase):

    @beyond_python("the CGI timeout, which Python lacks")
    def test_a_script_that_never_ends_is_killed_at_the_timeout(self):
        server = self.start_cgi("--cgi-timeout", "1")
        started = time.monotonic()
        resp = harness.fetch(server.port, "/cgi-bin/forever.sh")
        self.assertStatus(resp, 504)
        self.assertLess(time.monotonic() - started, 4 * SLOWER)
        self.assertLog(server, r"CGI script /cgi-bin/forever\.sh timed out after 1 s and was killed")
        self.assertLog(server, r"CGI script exit code -9$")
        self.assertNoChildren(server)

    @beyond_python("the CGI timeout, which Python lacks")
    def test_never_ending_output_is_cut_at_the_timeout(self):
        server = self.start_cgi("--cgi-timeout", "1")
        client = self.connect(server.port)
        client.send(request("GET", "/cgi-bin/forever_out.sh"))
        resp = client.read_head()
        self.assertEqual(resp.code, 200)
        closed, waited, data = client.wait_closed(10)
        self.assertTrue(closed, "the connection stayed open after the timeout")
        self.assertIn(b"never ending output\n", data)
        self.assertLog(server, r"timed out after 1 s")
        self.assertNoChildren(server)

    @beyond_python("a script is killed when its client leaves")
    def test_a_client_that_leaves_kills_its_script(self):
        server = self.start_cgi()
        client = self.connect(server.port)
        client.send(request("GET", "/cgi-bin/forever_out.sh", "HTTP/1.1", [("Host", "h")]))
        client.read_head()
        client.read_body(MIB)
        client.close()
        self.assertNoChildren(server)
        self.assertEqual(harness.fetch(server.port, "/a.txt").body, self.doc.files["/a.txt"])

    @beyond_python("the script's header block is checked, unlike Python's")
    def test_garbage_output_is_a_502(self):
        server = self.start_cgi()
        resp = harness.fetch(server.port, "/cgi-bin/garbage.py")
        self.assertStatus(resp, 502)
        self.assertLog(server, r"CGI script /cgi-bin/garbage\.py: malformed header block")
        resp = harness.fetch(server.port, "/cgi-bin/notype.sh")
        self.assertStatus(resp, 502)
        self.assertLog(server, r"CGI script /cgi-bin/notype\.sh: its header block has no "
                               r"Content-Type")
        self.assertNoChildren(server)

    def test_stderr_and_exit_code_are_logged(self):
        server = self.start_cgi()
        resp = harness.fetch(server.port, "/cgi-bin/status.sh")
        self.assertIn(b"gone\n", resp.body)
        self.assertLog(server, r"CGI script exit code 3$")
        if not TARGET.is_python:  # Python copies stderr as it is
            self.assertLog(server, r"\] CGI script /cgi-bin/status\.sh: first line on stderr$")
            self.assertLog(server, r"\] CGI script /cgi-bin/status\.sh: second line on stderr$")
        self.assertNoChildren(server)

    @unittest.skipUnless(harness.running_as_root(), "only root changes to nobody")
    @unittest.skipUnless(os.access(PYTHON, os.X_OK), f"the scripts need {PYTHON}")
    def test_root_runs_scripts_as_nobody(self):
        import pwd
        server = self.start_cgi()
        env = env_of(harness.fetch(server.port, "/cgi-bin/env.py"))
        self.assertEqual(int(env["uid"]), pwd.getpwnam("nobody").pw_uid)

    @beyond_python("httpoxy and option-like queries, where Python differs")
    @unittest.skipUnless(os.access(PYTHON, os.X_OK), f"the scripts need {PYTHON}")
    def test_httpoxy_and_option_like_queries(self):
        target = dataclasses.replace(TARGET, env=TARGET.env + (("HTTP_PROXY", "http://x/"),))
        server = self.start_cgi(target=target)
        resp = harness.fetch(server.port, "/cgi-bin/env.py?-rf", headers=[("Proxy", "http://y/")])
        env = env_of(resp)
        self.assertIsNone(env["HTTP_PROXY"])
        self.assertEqual(env["QUERY_STRING"], b"-rf")
        self.assertEqual(env["argv"], b"[]")
        env = env_of(harness.fetch(server.port, "/cgi-bin/env.py?a+b"))
        self.assertEqual(env["argv"], b"[b'a b']")


class CgiResponses(CgiCase):
    """RFC 3875 responses, framed for persistent connections (Python sends 200 first)."""

    @beyond_python("RFC 3875 responses, where Python sends 200 first")
    def test_status_location_and_length_on_one_persistent_connection(self):
        server = self.start_cgi(*H11)
        client = self.connect(server.port)
        reqs = [request(m, t, "HTTP/1.1", [("Host", "h")]) for m, t in
                [("GET", "/cgi-bin/status.sh"), ("GET", "/cgi-bin/redirect.sh"),
                 ("GET", "/cgi-bin/length.sh"), ("HEAD", "/cgi-bin/status.sh"),
                 ("GET", "/a.txt"), ("GET", "/cgi-bin/cat.sh")]]
        got = harness.keep_alive(client, reqs, ["GET", "GET", "GET", "HEAD", "GET", "GET"])
        status, redirect, length, head, static, cat = got
        self.assertEqual(status.status_line, "HTTP/1.1 404 Not Here")
        self.assertEqual(status.header("Transfer-Encoding"), "chunked")
        self.assertEqual(status.body, b"gone\n")
        self.assertEqual(redirect.status_line, "HTTP/1.1 302 Found")
        self.assertEqual(redirect.header("Location"), "/a.txt")
        self.assertEqual(length.header("Content-Length"), "6")
        self.assertIsNone(length.header("Transfer-Encoding"))
        self.assertEqual(length.body, b"hello\n")
        self.assertEqual(head.status_line, "HTTP/1.1 404 Not Here")
        self.assertEqual(head.body, b"")
        self.assertEqual(static.body, self.doc.files["/a.txt"])
        self.assertEqual(cat.body, b"")
        self.assertNoChildren(server)

    @beyond_python("RFC 3875 responses, where Python sends 200 first")
    def test_http_1_0_is_framed_by_closing(self):
        server = self.start_cgi()
        resp = harness.fetch(server.port, "/cgi-bin/status.sh")
        self.assertEqual(resp.status_line, "HTTP/1.0 404 Not Here")
        self.assertIsNone(resp.header("Transfer-Encoding"))
        self.assertEqual(resp.body, b"gone\n")

    def test_not_found_forbidden_and_post_elsewhere(self):
        server = self.start_cgi()
        cases = [("GET", "/cgi-bin/missing", 404, "No such CGI script ('/cgi-bin/missing')"),
                 ("GET", "/cgi-bin/", 403, "CGI script is not a plain file ('/cgi-bin/')"),
                 ("GET", "/cgi-bin/noexec.sh", 403,
                  "CGI script is not executable ('/cgi-bin/noexec.sh')"),
                 ("POST", "/a.txt", 501, "Can only POST to CGI scripts")]
        for method, target, code, reason in cases:
            with self.subTest(target=target):
                resp = harness.fetch(server.port, target, method,
                                     headers=[("Content-Length", "0")])
                self.assertEqual(resp.status_line, f"HTTP/1.0 {code} {reason}")

    @beyond_python("where Python's CGI breaks with a traceback")
    def test_dot_dot_above_the_root_is_a_404(self):
        server = self.start_cgi()
        for target in ["/../cgi-bin/cat.sh", "/cgi-bin/../../x", "/.."]:
            with self.subTest(target=target):
                self.assertStatus(harness.fetch(server.port, target), 404)


class CgiConcurrency(CgiCase):

    @beyond_python("worker threads, which Python lacks")
    def test_many_scripts_at_once_while_static_files_are_served(self):
        server = self.start_cgi("--workers", "2", "-q")
        n = 48
        stop = threading.Event()
        static_times = []

        def static_loop():
            while not stop.is_set():
                started = time.monotonic()
                resp = harness.fetch(server.port, "/a.txt")
                static_times.append(time.monotonic() - started)
                if resp.body != self.doc.files["/a.txt"]:
                    static_times.append(float("inf"))

        watcher = threading.Thread(target=static_loop, daemon=True)
        watcher.start()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(harness.fetch, server.port, f"/cgi-bin/slow.sh?{i}")
                       for i in range(n)]
            bodies = [f.result(timeout=30).body for f in futures]
        elapsed = time.monotonic() - started
        stop.set()
        watcher.join(10)
        self.assertEqual(bodies, [b"slow %d\n" % i for i in range(n)])
        self.assertLess(elapsed, 8 * SLOWER, "scripts ran one after another")
        self.assertGreater(len(static_times), 20 // SLOWER)
        self.assertLess(max(static_times), 0.5 * SLOWER, "a static file waited behind the scripts")
        self.assertNoChildren(server)


if __name__ == "__main__":
    unittest.main()
