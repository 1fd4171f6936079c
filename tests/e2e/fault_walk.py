#!/usr/bin/env python3
"""fault_walk.py: fails every allocation of a scripted run, one at a time.

`make faults` builds httpserve with -DHS_FAULT_INJECTION and ASan+UBSan into build-fault/ and
runs this: `python3 tests/e2e/fault_walk.py --build build-fault`. In that build the variable
HTTPSERVE_FAIL_ALLOC=N makes the Nth allocation of the process (every hs__malloc, hs__calloc,
hs__realloc, hs__strdup, and the opendir/realpath/fopen that allocate) fail once with ENOMEM,
and the server says so on stderr. For N = 1, 2, ... this starts the server, runs the same
script of requests (static files, a listing, a 404, keep-alive, pipelining, ranges, a 304, a
large head, a CGI POST with a chunked body, a GET with a body), and checks:

- when the failure hits start-up, the server exits non-zero with one "httpserve: ..." line;
- otherwise every answer in the script is the expected one, a 500 or 503, or the connection
  closes early (over TLS, also in the middle of a file's body, see Walk); the server is still running afterwards and serves a final request whole;
- it stops cleanly on SIGINT (exit 0), so LeakSanitizer found no leak, and no sanitizer
  report appears anywhere in its output.

The walk ends at the first N that the run no longer reaches (no fault line on stderr). Then
a second walk does the same over HTTPS (--tls-cert with a certificate made by the openssl
command, skipped with a message without it): a file larger than one TLS record, a listing and
a 404 kept alive, a HEAD and a range, so that the allocations of the TLS paths (the context,
each connection's TLS state, the file chunk) fail in turn too; a handshake cut short by the
failure counts as a closed connection. A third walk does the same over
tests/progs/pool_server (mixed mode, 2 pool threads), whose slow endpoints run as blocking
slots on the handler pool: a file, a sleeping slot, uploads with a chunked body and with a
Content-Length, a streamed response, a file sent from a pool thread, a deferred file, and
keep-alive across pool and worker requests, both pipelined and one request at a time; its
start-up failures say "pool_server: ...". A fourth walk runs that script over HTTPS (the
pool threads then read and write through TLS; a self-signed certificate made at start). One worker thread keeps the order of allocations
the same from run to run (the pool threads add a little play: which of them takes a slot).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_RUNS = 3000          # the walk never goes beyond this N
WALK_SECONDS = 600       # nor runs longer than this
ACCEPTABLE_FAILURES = (500, 503)

BIG_FILE_SIZE = 40000     # bytes: more than two TLS records
CGI_SCRIPT = b"""#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
cat
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build-fault",
                        help="the build directory holding an -DHS_FAULT_INJECTION httpserve")
    parser.add_argument("--first", type=int, default=1, help="the first N to fail")
    parser.add_argument("--last", type=int, default=MAX_RUNS, help="the last N to fail")
    parser.add_argument("--walk", action="append",
                        choices=("HTTP", "HTTPS", "pool", "pool HTTPS"),
                        help="only this walk (may be repeated; default: all four)")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line for every N")
    parser.add_argument("--trace", action="store_true",
                        help="show the server's stderr, with the failed allocation's stack, "
                             "for every run with a problem")
    return parser.parse_args(argv)


class Outcome:
    """What one run saw: the problems found, and whether the injected fault was reached."""

    def __init__(self):
        self.problems = []
        self.reached = False
        self.failed_answers = 0
        self.cut_short = 0
        self.stderr = ""


def script(h):
    """(name, request bytes, methods, expected codes) for every exchange of the script, each
    on a new connection; the requests of one exchange are pipelined."""
    big = "x" * 12000
    return [
        ("keep-alive file, listing, 404",
         h.get("/a.txt", "HTTP/1.1") + h.get("/listdir/", "HTTP/1.1") +
         h.get("/missing.txt", "HTTP/1.1"),
         ["GET"] * 3, [200, 200, 404]),
        ("pipelined HEAD, ranges, index page",
         h.request("HEAD", "/a.txt", "HTTP/1.1", [("Host", "x")]) +
         h.get("/a.txt", "HTTP/1.1", [("Range", "bytes=0-3,5-7")]) +
         h.get("/sub/", "HTTP/1.1", [("Connection", "close")]),
         ["HEAD", "GET", "GET"], [200, 206, 200]),
        ("redirect", h.get("/listdir", "HTTP/1.0"), ["GET"], [301]),
        ("large head", h.get("/a.txt", "HTTP/1.1", [("X-Big", big), ("Connection", "close")]),
         ["GET"], [200]),
        ("conditional", h.get("/a.txt", "HTTP/1.1", [
            ("If-Modified-Since", "Wed, 01 Jan 2025 00:00:00 GMT"), ("Connection", "close")]),
         ["GET"], [304]),
        ("GET with a body",
         h.request("GET", "/a.txt", "HTTP/1.1", [("Host", "x"), ("Content-Length", "5000"),
                                                 ("Connection", "close")], b"b" * 5000),
         ["GET"], [200]),
        ("CGI POST, chunked",
         h.request("POST", "/cgi-bin/echo.sh", "HTTP/1.1",
                   [("Host", "x"), ("Transfer-Encoding", "chunked"), ("Connection", "close")],
                   b"5\r\nhello\r\n0\r\n\r\n"),
         ["POST"], [200]),
    ]


def pool_script(h):
    """The pool_server run: as script(), but a list of requests is sent one at a time on
    one connection, each once the answer to the one before is read; an expected code may
    come with a test of the body."""
    text = h.DOCROOT_FILES["a.txt"]

    def put(method, headers, body):
        return h.request(method, "/upload", "HTTP/1.1", [("Host", "x")] + headers, body)

    def upload(data):
        crc = f"{len(data)} {zlib.crc32(data):08x} ".encode()
        return lambda body: body.startswith(crc)

    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    return [
        ("pool: pipelined file, sleep, stream, file slot, file",
         h.get("/a.txt", "HTTP/1.1") + h.get("/sleep?10", "HTTP/1.1") +
         h.get("/stream?2", "HTTP/1.1") + h.get("/file?a.txt", "HTTP/1.1") +
         h.get("/files?a.txt,a.txt", "HTTP/1.1") +
         h.get("/a.txt", "HTTP/1.1", [("Connection", "close")]),
         ["GET"] * 6,
         [(200, text), (200, b"slept 10\n"), (200, bytes(2 << 16)), (200, text + b"end\n"),
          (200, text + text + b"end\n"), (200, text)]),
        ("pool: uploads chunked and sized, a deferred file, kept alive one at a time",
         [put("PUT", [("Transfer-Encoding", "chunked")], chunked),
          h.get("/a.txt", "HTTP/1.1"),
          put("POST", [("Content-Length", "11")], b"hello world"),
          h.get("/deferfile?a.txt", "HTTP/1.1"),
          h.get("/sleep?1", "HTTP/1.1", [("Connection", "close")])],
         ["PUT", "GET", "POST", "GET", "GET"],
         [(200, upload(b"hello world")), (200, text), (200, upload(b"hello world")),
          (200, text + b"end\n"), (200, b"slept 1\n")]),
        ("pool: pipelined upload after a worker's file",
         h.get("/a.txt", "HTTP/1.1") +
         put("PUT", [("Transfer-Encoding", "chunked"), ("Connection", "close")], chunked),
         ["GET", "PUT"], [(200, text), (200, upload(b"hello world"))]),
    ]


def tls_script(h):
    """The HTTPS run: (name, request bytes, methods, expected codes), as script()."""
    return [
        ("HTTPS keep-alive large file, listing, 404",
         h.get("/big.bin", "HTTP/1.1") + h.get("/listdir/", "HTTP/1.1") +
         h.get("/missing.txt", "HTTP/1.1"),
         ["GET"] * 3, [200, 200, 404]),
        ("HTTPS HEAD and a range",
         h.request("HEAD", "/a.txt", "HTTP/1.1", [("Host", "x")]) +
         h.get("/big.bin", "HTTP/1.1", [("Range", "bytes=100-20099"), ("Connection", "close")]),
         ["HEAD", "GET"], [200, 206]),
    ]


class Walk:
    """One walk: the server's extra arguments, its script, and how a client talks to it."""

    program = "httpserve"   # what its start-up failures begin with

    def __init__(self, h, name, args=(), ctx=None):
        self.h, self.name, self.args, self.ctx = h, name, list(args), ctx
        self.cut_short = 0   # responses cut short after their head, in the whole walk
        self.script = tls_script if ctx else script
        # Over TLS a file goes out through a chunk buffer taken after the head was sent:
        # when it cannot be had, the response ends short and the connection closes, as for a
        # file that shrank. A plain file goes out by sendfile, with nothing to allocate.
        self.cut_short_ok = bool(ctx)

    def argv(self, doc):
        return [self.h.httpserve_path(), "-b", "127.0.0.1", "-d", doc.root, "--cgi",
                "--workers", "1", "-p", "HTTP/1.1", *self.args, "0"]

    def finals(self, doc):
        """(target, body) of the requests that must be served whole after the script."""
        return [("/a.txt", doc.files["/a.txt"])]

    def keep_alive(self, port, requests, methods):
        """Sends each request once the answer to the one before is read; the responses
        read, fewer when the server closed the connection early."""
        h = self.h
        client = h.Client(port)
        out = []
        try:
            if self.ctx:
                try:
                    client.sock = self.ctx.wrap_socket(client.sock, server_hostname="localhost")
                except (ssl.SSLError, ConnectionError):
                    return out  # the handshake failed: the server closed the connection
            for data, method in zip(requests, methods):
                client.send_quietly(data)
                if client.at_end():
                    break  # closed after the last answer: an early close
                resp = client.read_final_response(method)[1]
                out.append(resp)
                if resp.code in ACCEPTABLE_FAILURES:
                    break
        finally:
            client.close()
        return out

    def exchange(self, port, data):
        """Sends data on a new connection and reads until the server closes it."""
        if not self.ctx:
            return self.h.exchange(port, data)
        client = self.h.Client(port)
        try:
            try:
                client.sock = self.ctx.wrap_socket(client.sock, server_hostname="localhost")
            except (ssl.SSLError, ConnectionError):
                return b""  # the handshake failed: the server closed the connection
            client.send_quietly(data)
            try:
                return client.read_until_close()
            except ssl.SSLError:  # a record cut short: what came before it is the answer
                return client._take(len(client._buf))
        finally:
            client.close()

    def fetch(self, port, target):
        if not self.ctx:
            return self.h.fetch(port, target)
        return self.h.only_response(self.exchange(port, self.h.get(target)))


class PoolWalk(Walk):
    """pool_server in mixed mode: one worker, two pool threads, the default queue; over
    HTTPS with a certificate it makes itself when ctx is given."""

    program = "pool_server"

    def __init__(self, h, ctx=None):
        super().__init__(h, "pool HTTPS" if ctx else "pool", ctx=ctx)
        self.script = pool_script

    def argv(self, doc):
        return [os.path.join(self.h.BUILD, "tests", "progs", "pool_server"), doc.root, "mixed",
                "2", "0", "0", "1"] + (["tls"] if self.ctx else [])

    def finals(self, doc):
        return super().finals(doc) + [("/sleep?1", b"slept 1\n")]


def tls_walk(h, doc):
    """The HTTPS walk, with a certificate made in doc.base; None without openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    crt, key = os.path.join(doc.base, "server.crt"), os.path.join(doc.base, "server.key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days",
                    "2", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=60)
    return Walk(h, "HTTPS", ["--tls-cert", crt, "--tls-key", key], tls_client_context())


def tls_client_context():
    """A client context that takes any certificate: the walks check answers, not trust."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def run_exchange(walk, port, name, data, methods, expected, outcome):
    """Sends one exchange and checks its answers; returns the responses read."""
    h = walk.h
    raw = b""
    try:
        if isinstance(data, list):
            responses = walk.keep_alive(port, data, methods)
        else:
            raw = walk.exchange(port, data)
            responses = h.parse_stream(raw, methods)
    except h.ProtocolError as exc:
        if walk.cut_short_ok and "stream ended after" in str(exc):
            outcome.cut_short += 1
            return []
        outcome.problems.append(f"{name}: unparsable answer {exc}: {raw[:300]!r}")
        return []
    except OSError as exc:
        outcome.problems.append(f"{name}: {exc}")
        return []
    for resp, want in zip(responses, expected):
        want, body_ok = want if isinstance(want, tuple) else (want, None)
        if resp.code in ACCEPTABLE_FAILURES:
            outcome.failed_answers += 1
            return responses  # the server closes after an error
        if resp.code != want:
            outcome.problems.append(f"{name}: {resp.code} where {want} (or 500/503) was due: "
                                    f"{raw[:300]!r}")
        elif body_ok is not None and not (body_ok(resp.body) if callable(body_ok)
                                          else resp.body == body_ok):
            outcome.problems.append(f"{name}: a {want} with the wrong body: {resp.body[:300]!r}")
    return responses


def check_final(walk, port, doc, outcome):
    """After the script the server must serve whole: the fault was one allocation."""
    h = walk.h
    for target, body in walk.finals(doc):
        for attempt in range(2):  # the fault may strike the first (a 5xx, or closed): again
            try:
                resp = walk.fetch(port, target)
            except (h.ProtocolError, OSError) as exc:
                if attempt == 0:
                    continue
                outcome.problems.append(f"final request {target}: {exc}")
                return
            if resp.code not in ACCEPTABLE_FAILURES:
                break
        if resp.code != 200 or resp.body != body:
            outcome.problems.append(f"final request {target}: {resp.code} {resp.body[:80]!r}")


def sanitizer_reports(text):
    return [line for line in text.splitlines()
            if "Sanitizer" in line or "runtime error:" in line or "LeakSanitizer" in line]


def run_once(walk, doc, n, trace):
    """Starts the server failing allocation n, runs the script, stops it."""
    h = walk.h
    outcome = Outcome()
    env = dict(os.environ, HTTPSERVE_FAIL_ALLOC=str(n),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    if trace:
        env["HTTPSERVE_FAIL_ALLOC_TRACE"] = "1"
    server = h.ServerProcess(walk.argv(doc), cwd=doc.root, env=env)
    try:
        server.wait_banner()
    except h.ProtocolError:
        status = server.stop()
        check_startup_failure(walk, server, status, n, outcome)
        return outcome
    try:
        for name, data, methods, expected in walk.script(h):
            run_exchange(walk, server.port, name, data, methods, expected, outcome)
            if server.proc.poll() is not None:
                break
        else:
            check_final(walk, server.port, doc, outcome)
    finally:
        refused = any("Connection refused" in p for p in outcome.problems)
        exited_alone = (server.wait_exit(h.STOP_TIMEOUT) if refused else server.proc.poll()) \
            is not None
        status = server.stop()
    if exited_alone and not outcome.failed_answers and "Serving HTTP" in server.stdout():
        # serve_forever failed before serving anyone: a start-up failure after the banner
        outcome.problems = []
        check_startup_failure(walk, server, status, n, outcome)
        return outcome
    err = outcome.stderr = server.stderr()
    outcome.reached = f"allocation {n} fails" in err
    if status != 0:
        outcome.problems.append(f"exit status {status} after SIGINT")
    outcome.problems += sanitizer_reports(err)
    return outcome


def check_startup_failure(walk, server, status, n, outcome):
    err = outcome.stderr = server.stderr()
    outcome.reached = f"allocation {n} fails" in err
    lines = [l for l in err.splitlines() if "fault injection" not in l and "[0x" not in l]
    if not outcome.reached:
        outcome.problems.append(f"no banner, and the fault was not reached: {err[-500:]}")
    if status in (0, None) or status < 0:
        outcome.problems.append(f"start-up failure ended with status {status}")
    if len(lines) != 1 or not lines[0].startswith(f"{walk.program}: "):
        outcome.problems.append(f"start-up failure did not print one {walk.program}: line: "
                                f"{lines}")
    outcome.problems += sanitizer_reports(err)


def symbolize(text):
    """The backtrace lines of text, "binary(+0xOFFSET)", with addr2line's function:line."""
    out = []
    for line in text.splitlines():
        m = re.match(r"(\S+)\(\+(0x[0-9a-f]+)\)", line)
        if m and ("httpserve" in m[1] or "pool_server" in m[1]):
            where = subprocess.run(["addr2line", "-f", "-p", "-e", m[1], m[2]],
                                   capture_output=True, text=True).stdout.strip()
            line = f"    {where}"
        out.append(line)
    return "\n".join(out)


def make_root(h):
    doc = h.make_docroot({"cgi-bin/echo.sh": CGI_SCRIPT,
                          "big.bin": h.pseudo_random_bytes(BIG_FILE_SIZE, seed=4)})
    for top, dirs, files in os.walk(doc.base):
        os.chmod(top, 0o755)
        for name in files:
            os.chmod(os.path.join(top, name), 0o755)
    return doc


def walk_all(walk, doc, args, start):
    """Fails allocations args.first.. of walk's run in turn: (runs with problems, the last N,
    5xx answers, a verdict line when the walk was cut off)."""
    failures, n, failed_answers = 0, args.first, 0
    for n in range(args.first, args.last + 1):
        if time.monotonic() - start > WALK_SECONDS:
            return failures, n, failed_answers, f"still walking after {WALK_SECONDS}s at N={n}"
        outcome = run_once(walk, doc, n, args.trace)
        failed_answers += outcome.failed_answers
        walk.cut_short += outcome.cut_short
        if outcome.problems:
            failures += 1
            print(f"fault walk: {walk.name} N={n}: " + "\n    ".join(outcome.problems),
                  flush=True)
            if args.trace:
                print(symbolize(outcome.stderr), flush=True)
        elif args.verbose:
            print(f"fault walk: {walk.name} N={n}: ok ({outcome.failed_answers} 5xx)",
                  flush=True)
        if not outcome.reached:
            return failures, n, failed_answers, None
    if args.last == MAX_RUNS:
        return failures, n, failed_answers, f"the run still allocates after N={MAX_RUNS}"
    return failures, n, failed_answers, None


def main(argv):
    args = parse_args(argv)
    build = os.path.abspath(args.build)
    os.environ["HTTPSERVE_E2E_BUILD"] = build
    os.environ["HTTPSERVE_E2E_SANITIZED"] = "1"
    sys.path.insert(0, HERE)
    import harness as h
    doc = make_root(h)
    status = 0
    try:
        walks = [Walk(h, "HTTP")]
        secure = tls_walk(h, doc)
        if secure:
            walks.append(secure)
        else:
            print("fault walk: HTTPS skipped: the openssl command is not installed")
        walks.append(PoolWalk(h))
        walks.append(PoolWalk(h, tls_client_context()))
        walks = [w for w in walks if not args.walk or w.name in args.walk]
        for walk in walks:
            start = time.monotonic()
            failures, n, failed_answers, cut = walk_all(walk, doc, args, start)
            if cut:
                print(f"fault walk: {walk.name}: FAIL: {cut}")
                status = 1
                continue
            verdict = "FAIL" if failures else "ok"
            print(f"fault walk: {walk.name}: {verdict}: failed each of {n - 1} allocations in "
                  f"turn ({failed_answers} answers were 500/503, {walk.cut_short} cut short "
                  f"after their head; {failures} runs with problems) in "
                  f"{time.monotonic() - start:.0f}s", flush=True)
            status = status or (1 if failures else 0)
    finally:
        h.remove_tree(doc.base)
    return status


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
