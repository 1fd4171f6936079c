"""harness.py: what the end-to-end tests share.

It starts servers (the httpserve binary, or `python3 -m http.server` as the reference) on
loopback with port 0, reads the port from the banner, keeps their log (stderr) and stops them by
PID, never by name; it speaks HTTP over raw sockets so that tests see exact bytes (status line,
header lines in order with their case, body by Content-Length, chunks or close); and it builds
throw-away document roots. Every wait is bounded in time, every loop in count.

Configuration comes from the environment, which run.py sets: HTTPSERVE_E2E_BUILD names the build
directory (holding `httpserve` and `examples/`), and HTTPSERVE_E2E_REFERENCE_ONLY=1 makes python3
stand in for httpserve so the suite itself can be checked before the binary exists.
"""

import atexit
import dataclasses
import faulthandler
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

# ------------------------------------------------------------------ configuration

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("HTTPSERVE_E2E_BUILD") or os.path.join(REPO, "build"))
REFERENCE_ONLY = os.environ.get("HTTPSERVE_E2E_REFERENCE_ONLY") == "1"
# The command runs under ASan/UBSan or valgrind: slower, and its memory is the tool's.
VALGRIND = bool(os.environ.get("HTTPSERVE_E2E_WRAPPER"))
INSTRUMENTED = os.environ.get("HTTPSERVE_E2E_SANITIZED") == "1" or VALGRIND
# What a browser sees is checked on the plain and sanitized runs; under valgrind its
# requests (GETs, ranges, preflights) would repeat what the other tests already send.
BROWSER_UNDER_VALGRIND = "a browser's requests are covered under valgrind by the other tests"

# httpserve's options beyond Python's command line, as `httpserve -h` lists them.
# If the command line spells one differently, change it here and nowhere else.
OPT_HEADER_TIMEOUT = "--header-timeout"    # SECONDS to receive a whole request head
OPT_IDLE_TIMEOUT = "--idle-timeout"        # SECONDS a persistent connection may wait idle
OPT_SEND_TIMEOUT = "--send-timeout"        # SECONDS the client may accept no bytes
OPT_WORKERS = "--workers"                  # N event-loop threads
OPT_MAX_CONNECTIONS = "--max-connections"  # N open connections; the next one gets a 503
OPT_QUIET = "-q"                           # no per-request log lines (also --quiet)
OPT_VERSION = "--version"                  # prints the version on stdout, exits 0

# Bounds, in seconds unless named otherwise.
BANNER_TIMEOUT = 10.0   # from exec to the banner line
STOP_TIMEOUT = 5.0      # from SIGINT/SIGTERM to exit, before SIGKILL
KILL_TIMEOUT = 5.0      # from SIGKILL to exit
IO_TIMEOUT = 5.0        # one recv or send
READ_DEADLINE = 30.0    # one whole response, however large
LOG_TIMEOUT = 3.0       # a log line shows within this of its response ("a fraction of a second")
MAX_READ = 64 << 20     # bytes read from one connection
MAX_LINE = 1 << 20      # bytes in one status or header line we accept from a server

LOOPBACK = ("127.0.0.1", "::1")

BANNER_RE = re.compile(r"Serving HTTPS? on (?P<host>\S+) port (?P<port>\d+) "
                       r"\(https?://(?P<url_host>\S+):(?P<url_port>\d+)/\) \.\.\.")
IMF_FIXDATE_RE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                            r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                            r"\d\d:\d\d:\d\d GMT")
LOG_LINE_RE = re.compile(r"(?P<addr>\S+) - - \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4} "
                         r"\d\d:\d\d:\d\d)\] (?P<message>.*)")


class ProtocolError(AssertionError):
    """The server broke HTTP or a bound: a test failure, not an error of the suite."""


# ------------------------------------------------------------------------ targets

@dataclasses.dataclass(frozen=True)
class Target:
    """One kind of server the tests can start."""
    command: tuple      # argv before the options
    prog: str           # the program name argparse-style errors start with
    is_python: bool
    env: tuple = ()     # extra environment, as (name, value) pairs

    def argv(self, args):
        return list(self.command) + list(args)

    def environ(self):
        env = dict(os.environ)
        env.update(self.env)
        return env


def python_target():
    """`python3 -m http.server`, unbuffered so the banner arrives at once."""
    return Target(command=(sys.executable, "-u", "-m", "http.server"),
                  prog="server.py", is_python=True,
                  env=(("PYTHONUTF8", "1"), ("PYTHONDONTWRITEBYTECODE", "1")))


def httpserve_path():
    return os.path.join(BUILD, "httpserve")


def httpserve_target():
    """The binary under test; python3 itself in --reference-only runs."""
    if REFERENCE_ONLY:
        return python_target()
    wrapper = tuple(os.environ.get("HTTPSERVE_E2E_WRAPPER", "").split())
    return Target(command=wrapper + (httpserve_path(),), prog="httpserve", is_python=False)


def example_path(name):
    return os.path.join(BUILD, "examples", name)


def beyond_python(what):
    """Marks a test of what only httpserve does, `what` saying briefly how it goes beyond
    Python's behaviour (e.g. "stricter framing than Python's"): skipped when python3 stands
    in for httpserve."""
    return unittest.skipIf(REFERENCE_ONLY, f"httpserve only ({what}); "
                                           "--reference-only runs python3 in its place")


def raise_nofile_limit(want):
    """Raises this process's soft RLIMIT_NOFILE to want (at most the hard limit), for tests
    that hold thousands of connections; servers started afterwards inherit it. Returns
    the limits to restore."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return soft, hard


def restore_nofile_limit(saved):
    import resource
    if saved:
        resource.setrlimit(resource.RLIMIT_NOFILE, saved)


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ------------------------------------------------------------- server processes

_LIVE = set()
_LIVE_LOCK = threading.Lock()


class _PipeReader:
    """Collects what a child writes to one pipe, on a daemon thread, until end of file."""

    def __init__(self, pipe):
        self._fd = pipe.fileno()
        self._pipe = pipe
        self._data = bytearray()
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while True:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    break
                with self._cond:
                    self._data += chunk
                    self._cond.notify_all()
        except OSError:
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def data(self):
        with self._cond:
            return bytes(self._data)

    def wait_for(self, predicate, timeout):
        """Waits until predicate(data) holds or the pipe closes; returns predicate(data)."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or predicate(bytes(self._data)), timeout)
            return predicate(bytes(self._data))

    def finish(self, timeout):
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._pipe.close()


@dataclasses.dataclass(frozen=True)
class Banner:
    line: str
    host: str
    port: int
    url_host: str
    url_port: int


def parse_banner(line):
    """The banner's fields, or None when line is not a banner."""
    m = BANNER_RE.fullmatch(line)
    if not m:
        return None
    return Banner(line, m["host"], int(m["port"]), m["url_host"], int(m["url_port"]))


def decode(data):
    return data.decode("utf-8", "surrogateescape")


class ServerProcess:
    """A started server: its banner, its log, and a stop that always ends it."""

    def __init__(self, argv, cwd=None, env=None):
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._stdout = _PipeReader(self.proc.stdout)
        self._stderr = _PipeReader(self.proc.stderr)
        self.banner = None
        self.returncode = None

    @property
    def pid(self):
        return self.proc.pid

    @property
    def port(self):
        return self.banner.port

    def stdout(self):
        return decode(self._stdout.data())

    def stderr(self):
        return decode(self._stderr.data())

    def log_lines(self):
        return self.stderr().splitlines()

    def describe(self):
        return (f"{' '.join(self.argv)} (pid {self.pid}, exit {self.proc.poll()})\n"
                f"--- stdout ---\n{self.stdout()}--- stderr ---\n{self.stderr()}")

    def wait_banner(self, timeout=BANNER_TIMEOUT):
        """Reads the first stdout line and parses it; fails if it is late or not a banner."""
        self._stdout.wait_for(lambda d: b"\n" in d, timeout)
        first, newline, _ = self.stdout().partition("\n")
        if not newline:
            status = self.proc.poll()
            why = (f"exited ({status}) before its banner" if status is not None
                   else f"no banner within {timeout}s")
            raise ProtocolError(f"{why}:\n{self.describe()}")
        banner = parse_banner(first)
        if banner is None:
            raise ProtocolError(f"first stdout line is not a banner: {first!r}\n"
                                f"{self.describe()}")
        self.banner = banner
        return banner

    def wait_log(self, predicate, timeout=LOG_TIMEOUT):
        """Waits until predicate(log lines) holds; returns the lines either way."""
        self._stderr.wait_for(lambda d: predicate(decode(d).splitlines()), timeout)
        return self.log_lines()

    def wait_log_count(self, count, timeout=LOG_TIMEOUT):
        return self.wait_log(lambda lines: len(lines) >= count, timeout)

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """The exit status, or None if the process is still running after timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._finish_pipes()
        return self.returncode

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT):
        """Stops the process by PID: sig, then SIGKILL after timeout. Returns the status."""
        if self.proc.poll() is None:
            self.send_signal(sig)
            if self.wait_exit(timeout) is None:
                self.kill()
        self.returncode = self.proc.wait(KILL_TIMEOUT)
        self._finish_pipes()
        return self.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(KILL_TIMEOUT)

    def _finish_pipes(self):
        self._stdout.finish(KILL_TIMEOUT)
        self._stderr.finish(KILL_TIMEOUT)
        with _LIVE_LOCK:
            _LIVE.discard(self)


def start_process(argv, cwd=None, env=None, banner_timeout=BANNER_TIMEOUT):
    """Starts any server program and waits for its banner. It must listen on loopback: a
    server that says it listens anywhere else is stopped at once and the test fails."""
    server = ServerProcess(argv, cwd=cwd, env=env)
    try:
        banner = server.wait_banner(banner_timeout)
    except BaseException:
        server.stop()
        raise
    if banner.host not in LOOPBACK:
        server.stop()
        raise ProtocolError(f"server listens on {banner.host}, not loopback:\n"
                            f"{server.describe()}")
    return server


def start_server(target, *args, root=None, bind="127.0.0.1", port="0", cwd=None):
    """Starts target with -b bind [-d root] args... port, and waits for its banner."""
    if bind not in LOOPBACK:
        raise ValueError(f"tests listen on loopback only, not {bind!r}")
    argv = target.argv(["-b", bind] + (["-d", root] if root else []) + list(args) + [port])
    return start_process(argv, cwd=cwd or root, env=target.environ())


def run_command(target, args, timeout=STOP_TIMEOUT):
    """Runs target to completion (a command line that must not serve): (status, out, err).
    A process still running after timeout is killed and the test fails."""
    argv = target.argv(args)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=target.environ(), start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise ProtocolError(f"{argv} still running after {timeout}s "
                            f"(stdout {exc.stdout!r}, stderr {exc.stderr!r})") from None
    return done.returncode, decode(done.stdout), decode(done.stderr)


def stop_all():
    """Kills every server still running (at exit, or when the watchdog fires)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for server in live:
        try:
            server.kill()
        except (OSError, subprocess.TimeoutExpired):
            pass


atexit.register(stop_all)


def start_watchdog(seconds):
    """Ends the whole run if it takes longer than seconds: dumps every thread's stack, kills
    the servers, exits 3. Returns a function that disarms it."""
    disarmed = threading.Event()

    def watch():
        if disarmed.wait(seconds):
            return
        sys.stderr.write(f"\nwatchdog: the suite ran longer than {seconds}s; stacks:\n")
        faulthandler.dump_traceback(all_threads=True)
        stop_all()
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()
    return disarmed.set


# ---------------------------------------------------------------- reading HTTP

class _Reader:
    """A buffer over a byte source, with line and exact-length reads. Every _more either
    adds bytes (MAX_READ at most, in all), ends the stream or fails (for a Client: IO_TIMEOUT
    per recv, READ_DEADLINE per response), so every loop below ends."""

    def __init__(self):
        self._buf = bytearray()
        self.eof = False
        self.total = 0

    def _more(self):
        """Appends to _buf or sets eof."""
        raise NotImplementedError

    def _append(self, chunk):
        self.total += len(chunk)
        if self.total > MAX_READ:
            raise ProtocolError(f"more than {MAX_READ} bytes from one connection")
        self._buf += chunk

    def readline(self, limit=MAX_LINE):
        """One line with its LF; at end of stream whatever is left (maybe b"")."""
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0:
                return self._take(i + 1)
            if len(self._buf) > limit:
                raise ProtocolError(f"a line longer than {limit} bytes")
            if self.eof:
                return self._take(len(self._buf))
            start = len(self._buf)
            self._more()

    def read(self, n):
        """Exactly n bytes; the stream ending first is a protocol error."""
        while len(self._buf) < n and not self.eof:
            self._more()
        if len(self._buf) < n:
            raise ProtocolError(f"stream ended after {len(self._buf)} of {n} body bytes")
        return self._take(n)

    def read_all(self):
        """Everything until the end of the stream."""
        while not self.eof:
            self._more()
        return self._take(len(self._buf))

    def peek(self, n):
        """Up to n bytes from the front, left in place (fewer only at end of stream)."""
        while len(self._buf) < n and not self.eof:
            self._more()
        return bytes(self._buf[:n])

    def at_end(self):
        if not self._buf and not self.eof:
            self._more()
        return not self._buf and self.eof

    def _take(self, n):
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


class BytesReader(_Reader):
    """A _Reader over bytes already received."""

    def __init__(self, data):
        super().__init__()
        self._append(data)
        self.eof = True

    def _more(self):
        self.eof = True


@dataclasses.dataclass
class Response:
    """One response as received. head_lines are the header lines exactly as sent (without
    CR LF), in order. A bare response (HTTP/0.9 style) has no status line and no head."""
    status_line: str
    head_lines: list
    body: bytes
    bare: bool = False

    @property
    def version(self):
        return self.status_line.split(" ", 1)[0]

    @property
    def code(self):
        return int(self.status_line.split(" ", 2)[1]) if not self.bare else None

    @property
    def reason(self):
        parts = self.status_line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def headers(self):
        """(name, value) pairs in order, names as sent, values without surrounding spaces."""
        pairs = []
        for line in self.head_lines:
            name, _, value = line.partition(":")
            pairs.append((name, value.strip(" \t")))
        return pairs

    def header(self, name):
        """The first value of header name (any case), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def with_header(self, name, value):
        """A copy with header name (any case) set to value, keeping its place and case."""
        lines = []
        for line in self.head_lines:
            key = line.partition(":")[0]
            lines.append(f"{key}: {value}" if key.lower() == name.lower() else line)
        return dataclasses.replace(self, head_lines=lines)

    def with_body(self, body):
        """A copy with another body, and Content-Length (when present) to match."""
        resp = dataclasses.replace(self, body=body)
        if resp.header("Content-Length") is not None:
            resp = resp.with_header("Content-Length", str(len(body)))
        return resp


def _body_is_empty(method, code):
    return method == "HEAD" or 100 <= code < 200 or code in (204, 304)


def _read_chunked(reader):
    body = bytearray()
    for _ in range(1 << 20):
        size_line = reader.readline().split(b";", 1)[0].strip()
        if not size_line:
            raise ProtocolError("chunked body ended without a last chunk")
        size = int(size_line, 16)
        if size == 0:
            break
        body += reader.read(size)
        if reader.read(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CR LF")
    for _ in range(1000):  # trailer section
        if reader.readline() in (b"\r\n", b""):
            break
    return bytes(body)


def read_head(reader):
    """Reads a status line and header lines; a Response without its body."""
    first = reader.readline()
    if not first:
        raise ProtocolError("stream ended before a response")
    status_line = _head_line(first)
    if not re.fullmatch(r"HTTP/\d\.\d \d{3} .*", status_line):
        raise ProtocolError(f"malformed status line {status_line!r}")
    lines = []
    for _ in range(1000):
        line = reader.readline()
        if line == b"\r\n":
            break
        if not line:
            raise ProtocolError(f"stream ended inside the head of {status_line!r}")
        lines.append(_head_line(line))
    else:
        raise ProtocolError("more than 1000 header lines")
    return Response(status_line, lines, b"")


def read_response(reader, method="GET"):
    """Reads one response: status line, header lines, then the body by the framing rules
    (no body for HEAD, 1xx, 204, 304; chunked; Content-Length; else until close). Bytes
    that do not start with "HTTP/" are a bare (HTTP/0.9 style) body, read to the close."""
    if reader.peek(5) not in (b"HTTP/", b""):
        return Response("", [], reader.read_all(), bare=True)
    resp = read_head(reader)
    if _body_is_empty(method, resp.code):
        return resp
    if (resp.header("Transfer-Encoding") or "").lower() == "chunked":
        resp.body = _read_chunked(reader)
    elif resp.header("Content-Length") is not None:
        resp.body = reader.read(int(resp.header("Content-Length")))
    else:
        resp.body = reader.read_all()
    return resp


def _head_line(raw):
    if not raw.endswith(b"\r\n"):
        raise ProtocolError(f"head line not ended by CR LF: {raw!r}")
    return raw[:-2].decode("latin-1")


def parse_stream(data, methods=("GET",)):
    """Every response in data (one connection's bytes, to its close), given the methods of
    the requests in order (HEAD matters). An interim 1xx keeps the same request."""
    reader = BytesReader(data)
    methods = list(methods) or ["GET"]
    out = []
    i = 0
    while not reader.at_end() and len(out) < 1000:
        resp = read_response(reader, methods[min(i, len(methods) - 1)])
        out.append(resp)
        if resp.bare or not 100 <= resp.code < 200:
            i += 1
    return out


# -------------------------------------------------------------- raw connections

_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Client(_Reader):
    """One TCP connection that sends exact bytes and reads exact responses."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT, rcvbuf=None,
                 deadline=READ_DEADLINE):
        super().__init__()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.deadline_seconds = deadline
        self._deadline = None
        try:
            self.sock.connect((host, port))
        except BaseException:
            self.sock.close()
            raise

    def send(self, data):
        self.sock.sendall(data)

    def send_quietly(self, data):
        """Sends what the server will take; False if it closed or reset first (a server may
        answer and close before reading everything, as Python does for 414)."""
        try:
            self.sock.sendall(data)
            return True
        except _GONE:
            return False

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _more(self):
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.deadline_seconds
        if now > self._deadline:
            raise ProtocolError(f"reading took longer than {self.deadline_seconds}s")
        try:
            chunk = self.sock.recv(262144)
        except socket.timeout:
            raise ProtocolError(f"no bytes from the server for {self.timeout}s") from None
        except _GONE:
            chunk = b""
        if chunk:
            self._append(chunk)
        else:
            self.eof = True

    def read_response(self, method="GET"):
        """The next response on this connection."""
        self._deadline = None
        return read_response(self, method)

    def read_head(self):
        """The status line and headers of the next response, leaving its body unread."""
        self._deadline = None
        return read_head(self)

    def read_body(self, n):
        """n bytes of body (after read_head)."""
        self._deadline = None
        return self.read(n)

    def read_final_response(self, method="GET"):
        """The next response that is not an interim 1xx; returns (interims, final)."""
        interims = []
        for _ in range(10):
            resp = self.read_response(method)
            if resp.bare or not 100 <= resp.code < 200:
                return interims, resp
            interims.append(resp)
        raise ProtocolError("more than 10 interim responses")

    def read_until_close(self):
        """Everything until the server closes (a timeout fails the test)."""
        self._deadline = None
        return self.read_all()

    def wait_closed(self, timeout):
        """Reads until the server closes or timeout passes, never failing:
        (closed, seconds waited, bytes read)."""
        start = time.monotonic()
        data = bytearray(self._take(len(self._buf)))
        for _ in range(100000):
            if self.eof:
                break
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                break
            self.sock.settimeout(min(left, self.timeout))
            try:
                chunk = self.sock.recv(262144)
            except socket.timeout:
                continue
            except _GONE:
                chunk = b""
            if chunk:
                data += chunk
            else:
                self.eof = True
        self.sock.settimeout(self.timeout)
        return self.eof, time.monotonic() - start, bytes(data)

    def close(self):
        self.sock.close()


def request(method, target, version="HTTP/1.0", headers=(), body=b""):
    """The bytes of one request: request line, headers as given (name, value), empty line."""
    lines = [f"{method} {target} {version}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(target, version="HTTP/1.0", headers=()):
    """A GET; HTTP/1.1 requests get a Host header first unless headers name one."""
    return request("GET", target, version, with_host(version, headers))


def with_host(version, headers):
    headers = list(headers)
    if version == "HTTP/1.1" and not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", "localhost"))
    return headers


def exchange(port, data, host="127.0.0.1", half_close=False):
    """Sends data on a new connection and reads until the server closes it: the raw bytes."""
    client = Client(port, host)
    try:
        client.send_quietly(data)
        if half_close:
            client.shutdown_write()
        return client.read_until_close()
    finally:
        client.close()


def exchange_responses(port, data, methods=("GET",), **kw):
    """As exchange, parsed into responses."""
    return parse_stream(exchange(port, data, **kw), methods)


def only_response(raw, method="GET"):
    """The one response in raw (none, or more than one, fails the test)."""
    responses = parse_stream(raw, [method])
    if len(responses) != 1:
        raise ProtocolError(f"{len(responses)} responses where one was due: {raw[:2000]!r}")
    return responses[0]


def exchange_one(port, data, method="GET", **kw):
    """As exchange, for exactly one response."""
    return only_response(exchange(port, data, **kw), method)


def fetch(port, target, method="GET", version="HTTP/1.0", headers=(), host="127.0.0.1"):
    """One request on a new connection; the one response (the server must then close)."""
    data = request(method, target, version, with_host(version, headers))
    return exchange_one(port, data, method, host=host)


def pipeline(client, requests, methods):
    """Sends every request in one write, then reads one response per request, in order."""
    client.send(b"".join(requests))
    return [client.read_final_response(m)[1] for m in methods]


def keep_alive(client, requests, methods):
    """Sends the requests one at a time on one connection, reading each response first."""
    out = []
    for data, method in zip(requests, methods):
        client.send(data)
        out.append(client.read_final_response(method)[1])
    return out


def quote(path):
    """path percent-encoded for a request target ("/" kept)."""
    return urllib.parse.quote(path)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- document roots

FIXED_MTIME = 1700000000        # Tue, 14 Nov 2023 22:13:20 GMT: every file's mtime
SECRET = b"SECRET-9f1c2e: this file lies beside the root and must never be served\n"


@dataclasses.dataclass
class DocRoot:
    """A document root: root is served, secret_path lies beside it (outside), files maps
    each regular file's URL path (unencoded, from "/") to its content."""
    base: str
    root: str
    secret_path: str
    files: dict
    unreadable: bool    # whether noread.txt and noread_dir/ exist (not when running as root)


# URL path (as created on disk, unencoded) -> content. Extensions cover Python's guess_type
# rules and our built-in MIME table; names cover escaping in listings and in URLs.
DOCROOT_FILES = {
    "a.txt": b"hello, world\n",
    "empty.txt": b"",
    "page.html": b"<!DOCTYPE html>\n<title>page</title>\n<p>page</p>\n",
    "style.css": b"body { color: black; }\n",
    "app.js": b"console.log('app');\n",
    "mod.mjs": b"export const x = 1;\n",
    "lib.wasm": b"\x00asm\x01\x00\x00\x00",
    "data.json": b'{"a": 1}\n',
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "archive.tar.gz": b"\x1f\x8b\x08\x00fake",
    "SHOUT.GZ": b"\x1f\x8b\x08\x00fake",
    "data.bz2": b"BZh9fake",
    "data.xz": b"\xfd7zXZ\x00fake",
    "old.Z": b"\x1f\x9dfake",
    "notes.TXT": b"upper-case extension\n",
    "README": b"no extension\n",
    "blob.zzz": b"unknown extension\x00\xff\n",
    "a b&<c>.txt": b"escaped name\n",
    "caf\u00e9.txt": b"non-ASCII name\n",
    "100%.txt": b"percent\n",
    "hash#.txt": b"hash\n",
    "question?.txt": b"question\n",
    "it's \"q\".txt": b"quotes\n",
    "sub/index.html": b"<p>sub index</p>\n",
    "sub/inner.txt": b"inner\n",
    "dir.d/index.htm": b"<p>index.htm</p>\n",
    "listdir/a.txt": b"listdir a\n",
    "listdir/B.txt": b"listdir B\n",
    "listdir/.hidden": b"hidden\n",
    "listdir/nested/deep.txt": b"deep\n",
    "listdir/Zeta/z.txt": b"zeta\n",
}

# link name -> target, relative to the root; "escape" leads outside it, to the secret.
DOCROOT_LINKS = {
    "link.txt": "a.txt",
    "linkdir": "sub",
    "escape": "../secret.txt",
}


def pseudo_random_bytes(size, seed=20250317):
    """size deterministic bytes that do not compress."""
    return random.Random(seed).randbytes(size)


def running_as_root():
    return os.geteuid() == 0


def build_docroot(base, extra_files=None):
    """Fills base with root/ (DOCROOT_FILES, DOCROOT_LINKS, extra_files, and, unless running
    as root, an unreadable file and directory) and secret.txt beside it. Every mtime is
    FIXED_MTIME so Last-Modified is the same on every run."""
    root = os.path.join(base, "root")
    files = dict(DOCROOT_FILES)
    files.update(extra_files or {})
    for rel, content in files.items():
        _write(os.path.join(root, rel), content)
    for name, target in DOCROOT_LINKS.items():
        os.symlink(target, os.path.join(root, name))
    secret_path = os.path.join(base, "secret.txt")
    _write(secret_path, SECRET)
    unreadable = not running_as_root()
    if unreadable:
        _write(os.path.join(root, "noread.txt"), b"unreadable\n")
        os.makedirs(os.path.join(root, "noread_dir"))
    _set_mtimes(base)
    if unreadable:
        os.chmod(os.path.join(root, "noread.txt"), 0)
        os.chmod(os.path.join(root, "noread_dir"), 0)
    urls = {"/" + rel: content for rel, content in files.items()}
    return DocRoot(base, root, secret_path, urls, unreadable)


def _write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)


def _set_mtimes(top):
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    os.utime(top, (FIXED_MTIME, FIXED_MTIME))


def remove_tree(top):
    """Removes a tree this suite made, unreadable parts included."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
    shutil.rmtree(top, ignore_errors=True)


def make_docroot(extra_files=None):
    """A new temporary document root; the caller removes it with remove_tree(doc.base)."""
    base = tempfile.mkdtemp(prefix="httpserve-e2e-")
    try:
        return build_docroot(base, extra_files)
    except BaseException:
        remove_tree(base)
        raise


# --------------------------------------------------------------------- test cases

class ServerTestCase(unittest.TestCase):
    """A TestCase whose servers, connections and document roots are always cleaned up,
    even when the test fails."""

    def docroot(self, extra_files=None):
        doc = make_docroot(extra_files)
        self.addCleanup(remove_tree, doc.base)
        return doc

    def start(self, target, *args, **kw):
        server = start_server(target, *args, **kw)
        self.addCleanup(server.stop)
        return server

    def start_program(self, argv, **kw):
        server = start_process(argv, **kw)
        self.addCleanup(server.stop)
        return server

    def connect(self, port, **kw):
        client = Client(port, **kw)
        self.addCleanup(client.close)
        return client

    @classmethod
    def class_docroot(cls, extra_files=None):
        doc = make_docroot(extra_files)
        cls.addClassCleanup(remove_tree, doc.base)
        return doc

    @classmethod
    def class_start(cls, target, *args, **kw):
        server = start_server(target, *args, **kw)
        cls.addClassCleanup(server.stop)
        return server

    def assertStatus(self, resp, code, msg=None):
        self.assertFalse(resp.bare, msg or "expected a status line, got a bare body")
        self.assertEqual(resp.code, code, msg or f"status line {resp.status_line!r}")
