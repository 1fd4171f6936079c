#!/usr/bin/env python3
"""bench.py: the load benchmark, driven by bench/run.sh (see bench/README.md).

Generates a document root in a temp dir, starts every server on 127.0.0.1 (configs written
from bench/conf/*.in into the temp dir), runs each workload several times with wrk,
interleaving the servers within each repetition so that background load hits them alike,
stops every server by PID, writes the raw numbers to bench/results/<stamp>.tsv and prints
one table of medians, spread and ratio to nginx, then the performance targets.

Knobs (environment): BENCH_QUICK=1 (one short repetition, 1,000 idle connections: a smoke
test), BENCH_RUNS, BENCH_SECONDS, BENCH_ONLY=a,b,... (workloads; "tls" is the TLS group
t1-t4, "embed" the embedding group e1-e2, "large" the large-file group l1-l5, l7-l11, l15-l16 (l6, l12-l14,
with the 1 GiB file, only when named), each run only when named),
BENCH_SERVERS=nginx,... (rows), BENCH_HS_ARGS (more options for the httpserve rows, as
"--listing rich"), BENCH_EMBED_POOL (the blocking slot's handler_threads;
unset: the library's default), BENCH_IDLE (idle
connections for h), BENCH_IDLE_TLS (for t4), BENCH_PORT (first port), BENCH_KEEP=1 (keep
the temp dir). Every loop is bounded and every server listens on 127.0.0.1 only.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "1" if QUICK else "8"))
WARMUP = 0 if QUICK else 1
IDLE_N = int(os.environ.get("BENCH_IDLE", "1000" if QUICK else "10000"))
IDLE_TLS_N = int(os.environ.get("BENCH_IDLE_TLS", "1000"))
PORT0 = int(os.environ.get("BENCH_PORT", "18400"))
NCPU = os.cpu_count() or 1
PYTHON = os.environ.get("BENCH_PYTHON", "python3")

HS_BIN = os.environ.get("HTTPSERVE", os.path.join(REPO, "build", "httpserve"))
TOOLS = os.environ.get("BENCH_TOOLS", os.path.join(REPO, "build", "bench"))
REPORT_LUA = os.path.join(HERE, "report.lua")
# preloaded into wrk for the TLS group: a full handshake per connection, and the same
# protocol, cipher and group for every server (wrktls.c)
WRK_TLS = os.path.join(TOOLS, "wrktls.so")

# ------------------------------------------------------------------ rows and workloads

PEERS = ["nginx", "lighttpd", "h2o"]
HS = "httpserve -q"
HS_LOG = "httpserve log"
# HTTPSERVE_B=path adds a second httpserve, run like the first with -q, for A/B comparisons
# of two builds in one run (the rows take turns like every server)
HS_B = "httpserve B -q"
HS_B_BIN = os.environ.get("HTTPSERVE_B")
HS_ARGS = os.environ.get("BENCH_HS_ARGS", "").split()  # more options for every httpserve row
HS_ROWS = [HS, HS_B] if HS_B_BIN else [HS]
# the ceiling server in its file mode, for the large-file workloads: the file it always sends
CEILING_FILES = {"ceiling 1m": "1m.bin", "ceiling 100m": "100m.bin", "ceiling 1g": "1g.bin"}
ROWS = ["nginx", "lighttpd", "h2o"] + HS_ROWS + [HS_LOG, "ceiling"] + list(CEILING_FILES) + ["python"]
ALL_SERVED = ["nginx", "lighttpd", "h2o"] + HS_ROWS + [HS_LOG]
# over TLS: lighttpd would need its mod_openssl package, left out
TLS_ROWS = ["nginx", "h2o"] + HS_ROWS
# the embedding group: one 1 KiB hello handler (bench/embed/) on libhttpserve three ways,
# and on the two embeddable C servers it is compared with; "hs 1 worker" is the plain slot
# on one worker, what the own loop (one worker, the application's poll) is held to
EMB_PLAIN, EMB_BLOCKING, EMB_OWN, EMB_ONE = "hs plain", "hs blocking", "hs own loop", "hs 1 worker"
EMB_PEERS = ["libmicrohttpd", "civetweb"]
EMBED_ROWS = [EMB_PLAIN, EMB_BLOCKING, EMB_OWN, EMB_ONE] + EMB_PEERS
EMBED_CONNS = 64
EMBED_POOL = os.environ.get("BENCH_EMBED_POOL", "0")  # 0: the library's default

# key: (title, path, connections, wrk threads, extra headers, unit, rows)
WORKLOADS = {
    "a": ("1 KiB, keep-alive, 64 conns", "/1k.bin", 64, NCPU, [], "req/s",
          ALL_SERVED + ["ceiling", "python"]),
    "b": ("1 KiB, Connection: close, 64 conns", "/1k.bin", 64, NCPU, ["Connection: close"],
          "req/s", ALL_SERVED + ["ceiling"]),
    "c": ("1 MiB, keep-alive, 16 conns", "/1m.bin", 16, NCPU, [], "MB/s",
          ALL_SERVED + ["ceiling 1m"]),
    "d": ("100 MiB, one connection", "/100m.bin", 1, 1, [], "MB/s",
          ALL_SERVED + ["ceiling 100m"]),
    "e": ("1,000-entry listing, 16 conns", "/dir/", 16, NCPU, [], "req/s",
          ALL_SERVED + ["python"]),
    "f": ("404, 64 conns", "/no-such-file", 64, NCPU, [], "req/s", ALL_SERVED),
    "g": ("1 KiB, 1,000 conns (+ peak RSS)", "/1k.bin", 1000, NCPU, [], "req/s",
          ALL_SERVED + ["ceiling"]),
    "h": ("(a) while %d idle keep-alive conns are held" % IDLE_N, "/1k.bin", 64, NCPU, [],
          "req/s", HS_ROWS + ["nginx", "lighttpd", "h2o", "ceiling"]),
    # the TLS group: the same servers started a second time, serving HTTPS with one
    # ECDSA P-256 certificate, TLS 1.3 with TLS_AES_128_GCM_SHA256 and X25519 (wrktls.c)
    "t1": ("TLS: 1 KiB, keep-alive, 64 conns", "/1k.bin", 64, NCPU, [], "req/s", TLS_ROWS),
    "t2": ("TLS: 1 KiB, Connection: close, a full handshake per request, 64 conns",
           "/1k.bin", 64, NCPU, ["Connection: close"], "req/s", TLS_ROWS),
    "t3": ("TLS: 1 MiB, keep-alive, 16 conns", "/1m.bin", 16, NCPU, [], "MB/s", TLS_ROWS),
    "t4": ("TLS: memory per idle connection, %d held" % IDLE_TLS_N, "/1k.bin", 64, NCPU, [],
           "KiB", TLS_ROWS),
}
TLS_KEYS = ("t1", "t2", "t3", "t4")
WORKLOADS.update({
    "e1": ("embedding: GET / of a 1 KiB hello handler, keep-alive, %d conns" % EMBED_CONNS,
           "/", EMBED_CONNS, NCPU, [], "req/s", EMBED_ROWS),
    "e2": ("embedding: the same with Connection: close, %d conns" % EMBED_CONNS,
           "/", EMBED_CONNS, NCPU, ["Connection: close"], "req/s", EMBED_ROWS),
})
EMBED_KEYS = ("e1", "e2")
# the large-file group: whole files downloaded by the clients people use, one connection
# reused for N downloads in a row, or C clients at once each doing N in a row; key: (title,
# file, client, clients at once, downloads per client, rows). Run only when named ("large").
LARGE_PEERS = ["nginx", "lighttpd"]
LARGE = {
    "l1": ("100 MiB x 10 in a row, curl, 1 conn", "100m.bin", "curl", 1, 10, "ceiling 100m"),
    "l2": ("100 MiB, 16 curl at once", "100m.bin", "curl", 16, 1, "ceiling 100m"),
    "l3": ("1 MiB x 500 in a row, curl, 1 conn", "1m.bin", "curl", 1, 500, "ceiling 1m"),
    "l4": ("1 MiB x 100, 16 curl at once", "1m.bin", "curl", 16, 100, "ceiling 1m"),
    "l5": ("100 MiB x 10 in a row, wget, 1 conn", "100m.bin", "wget", 1, 10, "ceiling 100m"),
    "l6": ("1 GiB x 3 in a row, curl, 1 conn", "1g.bin", "curl", 1, 3, "ceiling 1g"),
    # over TLS ("large" includes them): the TLS group's servers, no ceiling row
    "l7": ("TLS: 100 MiB x 10 in a row, curl, 1 conn", "100m.bin", "curl", 1, 10, None),
    "l8": ("TLS: 1 MiB x 100, 16 curl at once", "1m.bin", "curl", 16, 100, None),
    "l9": ("TLS: 100 MiB, 16 curl at once", "100m.bin", "curl", 16, 1, None),
    "l10": ("TLS: 1 MiB x 500 in a row, curl, 1 conn", "1m.bin", "curl", 1, 500, None),
    "l11": ("TLS: 100 MiB x 10 in a row, wget, 1 conn", "100m.bin", "wget", 1, 10, None),
    "l12": ("TLS: 1 GiB x 3 in a row, curl, 1 conn", "1g.bin", "curl", 1, 3, None),
    "l13": ("1 GiB, 16 curl at once", "1g.bin", "curl", 16, 1, "ceiling 1g"),
    "l14": ("TLS: 1 GiB, 16 curl at once", "1g.bin", "curl", 16, 1, None),
    "l15": ("100 MiB, 16 wget at once", "100m.bin", "wget", 16, 1, "ceiling 100m"),
    "l16": ("TLS: 100 MiB, 16 wget at once", "100m.bin", "wget", 16, 1, None),
}
LARGE_KEYS = tuple(LARGE)
LARGE_TLS_KEYS = ("l7", "l8", "l9", "l10", "l11", "l12", "l14", "l16")
BIG_FILE_KEYS = ("l6", "l12", "l13", "l14")  # the 1 GiB file is made only for these
for _k, (_t, _f, _cl, _n, _per, _ceil) in LARGE.items():
    WORKLOADS[_k] = (_t, "/" + _f, _n, 1, [], "GB/s",
                     TLS_ROWS if _k in LARGE_TLS_KEYS else LARGE_PEERS + HS_ROWS + [_ceil])


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the document root

def make_root(root, big=False):
    os.makedirs(os.path.join(root, "dir"))
    sizes = {"0.bin": 0, "1k.bin": 1024, "64k.bin": 64 << 10, "1m.bin": 1 << 20}
    for name, size in sizes.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(os.urandom(size))
    chunk = os.urandom(1 << 20)
    with open(os.path.join(root, "100m.bin"), "wb") as f:
        for _ in range(100):
            f.write(chunk)
    if big:  # only for the large-file group's l6
        with open(os.path.join(root, "1g.bin"), "wb") as f:
            for _ in range(1024):
                f.write(chunk)
    # 1,000 entries: names of varied length and case, small files, a few subdirectories
    for i in range(1000):
        if i % 100 == 7:
            os.mkdir(os.path.join(root, "dir", "Folder-%04d" % i))
            continue
        name = "file-%04d%s.txt" % (i, "-with-a-longer-name" * (i % 3))
        with open(os.path.join(root, "dir", name), "w") as f:
            f.write("entry %d\n" % i)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)


# ------------------------------------------------------------------ processes and memory

def proc_children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    """pid and all its descendants."""
    kids = proc_children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def mem_kib(pids):
    """(RSS sum, PSS sum) in KiB over pids."""
    rss = pss = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                        break
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pass
    return rss, pss


class Sampler(threading.Thread):
    """Samples the memory of a process tree every 50 ms; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_pss = pid, 0, 0
        self.done = threading.Event()

    def run(self):
        pids, refreshed = tree(self.pid), time.monotonic()
        while not self.done.is_set():
            if time.monotonic() - refreshed > 1:
                pids, refreshed = tree(self.pid), time.monotonic()
            rss, pss = mem_kib(pids)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.join(5)
        return self.peak_rss, self.peak_pss


def cpu_busy(seconds):
    """Share of all CPUs busy over `seconds`, from /proc/stat (what others are doing)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v), idle
    t0, i0 = snap()
    time.sleep(seconds)
    t1, i1 = snap()
    return 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))


# ------------------------------------------------------------------ servers

def render(template, dest, values):
    with open(os.path.join(HERE, "conf", template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    with open(dest, "w") as f:
        f.write(text)
    return dest


class Server:
    def __init__(self, name, port, run, root, nofile, tls=None):
        """tls: (certificate, key) to serve HTTPS (nginx, h2o, httpserve only)."""
        self.name, self.port, self.run, self.root, self.tls = name, port, run, root, tls
        self.proc, self.log_path = None, None
        slug = re.sub(r"[^a-z0-9]+", "-", name) + ("-tls" if tls else "")
        self.slug = slug
        conns = nofile - 500
        vals = {"PORT": port, "ROOT": root, "RUN": run, "WORKERS": NCPU, "NOFILE": nofile,
                "WORKER_CONNS": conns}
        sfx = "-tls" if tls else ""  # the TLS group's files and logs sit beside the plain ones
        if tls:
            vals.update(CERT=self.tls[0], KEY=self.tls[1])
        if name == "nginx":
            for d in ("nginx-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi"):
                os.makedirs(os.path.join(run, d), exist_ok=True)
            conf = render(f"nginx{sfx}.conf.in", os.path.join(run, f"nginx{sfx}.conf"), vals)
            self.cmd = ["nginx", "-p", run + "/", "-e", os.path.join(run, f"nginx{sfx}-error.log"),
                        "-c", conf]
        elif name == "h2o":
            hrun = os.path.join(run, "h2o" + sfx)  # h2o drops to nobody before writing these
            os.makedirs(hrun, exist_ok=True)
            os.chmod(hrun, 0o777)
            if tls:
                os.chmod(self.tls[1], 0o644)  # h2o reads the key after dropping to nobody
            vals["RUN"] = hrun
            conf = render(f"h2o{sfx}.conf.in", os.path.join(run, f"h2o{sfx}.conf"), vals)
            self.cmd = ["h2o", "-c", conf]
        elif name in (HS, HS_B) or (name == HS_LOG and not tls):
            self.cmd = [HS_B_BIN if name == HS_B else HS_BIN, "-b", "127.0.0.1", "-d", root, "-p", "HTTP/1.1",
                        "--max-connections", str(conns)] + HS_ARGS + [str(port)]
            if tls:
                self.cmd[-1:-1] = ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
            if name != HS_LOG:
                self.cmd.insert(1, "-q")
            else:
                self.log_path = os.path.join(run, "httpserve-requests.log")
        elif tls:
            raise ValueError(name + " over TLS")
        elif name in EMBED_ROWS:
            self.cmd = embed_cmd(name, port)
        elif name == "lighttpd":
            conf = render("lighttpd.conf.in", os.path.join(run, "lighttpd.conf"), vals)
            self.cmd = ["lighttpd", "-D", "-f", conf]
        elif name == "ceiling":
            self.cmd = [os.path.join(TOOLS, "ceiling"), str(port), str(NCPU)]
        elif name in CEILING_FILES:
            self.cmd = [os.path.join(TOOLS, "ceiling"), str(port), str(NCPU),
                        os.path.join(root, CEILING_FILES[name])]
        elif name == "python":
            self.cmd = [PYTHON, "-m", "http.server", "-b", "127.0.0.1", "-d", root, str(port)]
            self.log_path = os.path.join(run, "python-requests.log")
        else:
            raise ValueError(name)

    def start(self):
        out = open(os.path.join(self.run, self.slug + ".out"), "ab")
        err = open(self.log_path or os.path.join(self.run, self.slug + ".err"), "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     cwd=self.run, start_new_session=True)
        out.close()
        err.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s at start (see %s)"
                                   % (self.name, self.proc.returncode, self.run))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("%s did not listen on port %d within 15 s" % (self.name, self.port))

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        """SIGTERM to the server's PID, then SIGKILL to whatever of its tree is left."""
        if not self.proc or self.proc.poll() is not None:
            return
        pids = tree(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(12)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        time.sleep(0.2)
        for p in pids[1:]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self):
        """A fresh process, so that memory measured next owes nothing to earlier work."""
        self.stop()
        self.start()

    def truncate_log(self):
        if self.log_path:
            os.truncate(self.log_path, 0)

    def log_bytes(self):
        return os.path.getsize(self.log_path) if self.log_path else 0


def embed_cmd(name, port):
    """The command line of an embedding row (bench/embed/, built by run.sh --embed)."""
    hello = os.path.join(TOOLS, "hello_httpserve")
    return {EMB_PLAIN: [hello, "plain", str(NCPU), str(port)],
            EMB_BLOCKING: [hello, "blocking", str(NCPU), str(port), EMBED_POOL],
            EMB_OWN: [hello, "ownloop", "1", str(port)],
            EMB_ONE: [hello, "plain", "1", str(port)],
            "libmicrohttpd": [os.path.join(TOOLS, "hello_mhd"), str(port), str(NCPU)],
            "civetweb": [os.path.join(TOOLS, "hello_civetweb"), str(port), str(EMBED_CONNS)],
            }[name]


def http_get(port, path, timeout=30, tls=False):
    """One GET that closes the connection; returns (status, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
               % path).encode())
    data = b""
    while True:
        try:
            chunk = s.recv(1 << 20)
        except ssl.SSLError:  # a TLS peer that closed without close_notify
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


EMBED_BODY = bytes(ord("a") + i % 26 for i in range(1023)) + b"\n"


def read_response(s, buf):
    """One response with a Content-Length from socket s: (head, body, what follows)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("closed before a response head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("closed within a response body")
        rest += chunk
    return head.decode("latin-1"), rest[:n], rest[n:]


def sanity_embed(srv):
    """An embedding row must answer GET / with the 1,024 bytes as text/plain, keep the
    connection for a second request, and close it after one that says Connection: close."""
    req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        buf = b""
        for close in (False, False, True):
            s.sendall((req % ("Connection: close\r\n" if close else "")).encode())
            head, body, buf = read_response(s, buf)
            if not (head.startswith("HTTP/1.1 200") and body == EMBED_BODY
                    and re.search(r"\r\ncontent-type: *text/plain\r", head + "\r", re.I)):
                log("%s: wrong answer to GET /: %r" % (srv.name, head))
                return False
        if buf or s.recv(1):
            log("%s: the connection stayed open after Connection: close" % srv.name)
            return False
    return True


def embed_blocking_where(srv):
    """Where the blocking row's slot runs: "pool", or "worker" for a library without the
    handler pool (which would run it as a plain slot)."""
    st, body = http_get(srv.port, "/mode")
    return body.decode().strip() if st == 200 else "?"


def sanity(srv, root):
    """Refuse to benchmark a server that does not serve the right bytes."""
    if srv.name in EMBED_ROWS:
        return sanity_embed(srv)
    if srv.name == "ceiling":
        st, body = http_get(srv.port, "/1k.bin")
        return st == 200 and len(body) == 1024
    if srv.name in CEILING_FILES:  # curl counts the bytes: up to 1 GiB, not kept
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                              "http://127.0.0.1:%d/%s" % (srv.port, CEILING_FILES[srv.name])],
                             capture_output=True, text=True, timeout=60).stdout.split()
        size = os.path.getsize(os.path.join(root, CEILING_FILES[srv.name]))
        return out == ["200", str(size)]
    with open(os.path.join(root, "1k.bin"), "rb") as f:
        want = f.read()
    tls = srv.tls is not None
    st, body = http_get(srv.port, "/1k.bin", tls=tls)
    ok = st == 200 and body == want
    st, body = http_get(srv.port, "/dir/", tls=tls)
    ok = ok and st == 200 and b"file-0999" in body
    st, body = http_get(srv.port, "/no-such-file", tls=tls)
    return ok and st == 404


# ------------------------------------------------------------------ wrk

def stat_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


def tree_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                x = f.read()
            fields = x[x.rindex(")") + 2:].split()
            t += int(fields[11]) + int(fields[12])
        except (OSError, ValueError):
            pass
    return t


def wrk(port, path, conns, threads, headers, seconds, server_pid=None, tls=False):
    """Runs wrk; returns its counts, and with server_pid the CPU shares of the run: the
    server's, wrk's, and everything else's (other people's work on this machine)."""
    pids = tree(server_pid) if server_pid else []
    total0, idle0 = stat_ticks()
    srv0 = tree_ticks(pids)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run_wrk(port, path, conns, threads, headers, seconds, tls)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    total1, idle1 = stat_ticks()
    if r is not None and server_pid:
        clk = os.sysconf("SC_CLK_TCK")
        cap = max(1, total1 - total0)  # all CPUs' ticks over the run
        busy = (total1 - total0) - (idle1 - idle0)
        srv = tree_ticks(pids) - srv0
        wrk_t = (kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime) * clk
        r["cpu_server_pct"] = round(100.0 * srv / cap * NCPU, 1)  # % of one CPU
        r["cpu_wrk_pct"] = round(100.0 * wrk_t / cap * NCPU, 1)
        r["cpu_others_pct"] = round(100.0 * max(0, busy - srv - wrk_t) / cap * NCPU, 1)
    return r


def run_wrk(port, path, conns, threads, headers, seconds, tls=False):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", "%ds" % seconds,
           "--timeout", "10s", "-s", REPORT_LUA]
    for h in headers:
        cmd += ["-H", h]
    cmd.append("%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path))
    env = dict(os.environ, LD_PRELOAD=WRK_TLS) if tls else None
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, env=env)
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"^WRK (.*)$", p.stdout, re.M)
    if not m:
        log("wrk failed: %s %s" % (p.stdout[-500:], p.stderr[-500:]))
        return None
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def rate(r, unit):
    secs = r["duration_us"] / 1e6
    return r["requests"] / secs if unit == "req/s" else r["bytes"] / secs / 1e6


# ------------------------------------------------------------------ the run

FIELDS = ["workload", "metric", "server", "rep", "value", "unit", "requests", "bytes",
          "seconds", "err_connect", "err_read", "err_write", "err_status", "err_timeout",
          "p50_us", "p99_us", "load1", "extra"]


class Results:
    def __init__(self, path):
        self.path, self.rows = path, []
        self.f = open(path, "w")

    def header(self, text):
        for line in text.splitlines():
            self.f.write("# %s\n" % line)
        self.f.write("\t".join(FIELDS) + "\n")
        self.f.flush()

    def add(self, workload, metric, server, rep, value, unit, r=None, extra=None):
        r = r or {}
        row = {"workload": workload, "metric": metric, "server": server, "rep": rep,
               "value": value, "unit": unit, "requests": r.get("requests", ""),
               "bytes": r.get("bytes", ""),
               "seconds": "%.3f" % (r["duration_us"] / 1e6) if "duration_us" in r else "",
               "err_connect": r.get("connect", ""), "err_read": r.get("read", ""),
               "err_write": r.get("write", ""), "err_status": r.get("status", ""),
               "err_timeout": r.get("timeout", ""), "p50_us": r.get("p50_us", ""),
               "p99_us": r.get("p99_us", ""), "load1": "%.2f" % os.getloadavg()[0],
               "extra": json.dumps(extra or {}, separators=(",", ":"))}
        self.rows.append(row)
        self.f.write("\t".join(str(row[k]) if not isinstance(row[k], float)
                               else "%.1f" % row[k] for k in FIELDS) + "\n")
        self.f.flush()


def run_plain(key, servers, res):
    title, path, conns, threads, headers, unit, rows = WORKLOADS[key]
    rows = [n for n in rows if n in servers]
    if not rows:
        return
    tls = key in TLS_KEYS
    log("== (%s) %s: %s" % (key, title, ", ".join(rows)))
    for n in rows:
        if key == "g":
            servers[n].restart()
        if WARMUP:
            wrk(servers[n].port, path, conns, threads, headers, WARMUP, tls=tls)
    for rep in range(RUNS):
        order = rows[rep % len(rows):] + rows[:rep % len(rows)]  # rotate: no fixed slot
        for n in order:
            srv = servers[n]
            srv.truncate_log()
            sampler = Sampler(srv.pid) if key == "g" else None
            if sampler:
                sampler.start()
            r = wrk(srv.port, path, conns, threads, headers, SECONDS, srv.pid, tls=tls)
            extra = {"log_bytes": srv.log_bytes()} if srv.log_path else {}
            if r is not None:
                extra.update({k: r.pop(k) for k in list(r) if k.startswith("cpu_")})
            if sampler:
                peak_rss, peak_pss = sampler.stop()
                extra.update(peak_rss_kib=peak_rss, peak_pss_kib=peak_pss)
            if r is None:
                res.add(key, unit, n, rep, float("nan"), unit, None, extra)
                continue
            v = rate(r, unit)
            res.add(key, unit, n, rep, v, unit, r, extra)
            if sampler:
                res.add(key, "peak RSS MiB", n, rep, peak_rss / 1024, "MiB", r, extra)
            log("  (%s) rep %d %-14s %10.1f %s  p99 %.1f ms  errors %s%s" % (
                key, rep + 1, n, v, unit, r["p99_us"] / 1000,
                {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]},
                "  peak RSS %.1f MiB" % (extra["peak_rss_kib"] / 1024) if sampler else ""))
            srv.truncate_log()


def large_cmd(client, port, path, per, tls=False):
    """One client downloading path per times in a row over one kept connection (over TLS
    without checking the run's self-signed certificate)."""
    url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path)
    if client == "wget":
        return (["wget", "-q", "-O", "/dev/null"] + (["--no-check-certificate"] if tls else [])
                + [url] * per)
    cmd = ["curl", "-s", "-w", "%{size_download} %{num_connects}\n"] + (["-k"] if tls else [])
    for _ in range(per):
        cmd += ["-o", "/dev/null", url]
    return cmd


def large_once(key, srv):
    """One run of a large-file workload: GB/s over the wall time of all the clients, with
    the CPU shares; None when a client failed or got fewer bytes than asked."""
    title, fname, client, n, per, _ = LARGE[key]
    size = os.path.getsize(os.path.join(srv.root, fname))
    pids = tree(srv.pid)
    total0, idle0 = stat_ticks()
    srv0 = tree_ticks(pids)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    procs = [subprocess.Popen(large_cmd(client, srv.port, "/" + fname, per, srv.tls is not None),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(n)]
    outs = []
    for p in procs:
        try:
            outs.append((p.communicate(timeout=300)[0], p.returncode))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            outs.append(("", -1))
    secs = time.monotonic() - t0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    total1, idle1 = stat_ticks()
    if any(rc != 0 for _, rc in outs):
        return None, {}
    conns = 0
    if client == "curl":
        got = [line.split() for out, _ in outs for line in out.splitlines()]
        if len(got) != n * per or any(int(g[0]) != size for g in got):
            return None, {}
        conns = sum(int(g[1]) for g in got)
    clk = os.sysconf("SC_CLK_TCK")
    cap = max(1, total1 - total0)
    busy = (total1 - total0) - (idle1 - idle0)
    srv_t = tree_ticks(pids) - srv0
    cli_t = (kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime) * clk
    extra = {"cpu_server_pct": round(100.0 * srv_t / cap * NCPU, 1),
             "cpu_wrk_pct": round(100.0 * cli_t / cap * NCPU, 1),
             "cpu_others_pct": round(100.0 * max(0, busy - srv_t - cli_t) / cap * NCPU, 1),
             "connects": conns}
    return {"bytes": size * n * per, "requests": n * per, "duration_us": int(secs * 1e6)}, extra


def run_large(key, servers, res):
    title, path, conns, threads, headers, unit, rows = WORKLOADS[key]
    rows = [r for r in rows if r in servers]
    if not rows:
        return
    log("== (%s) %s: %s" % (key, title, ", ".join(rows)))
    for n in rows:  # warm-up: the file in the page cache, each server's first request
        large_once(key, servers[n])
    for rep in range(RUNS):
        order = rows[rep % len(rows):] + rows[:rep % len(rows)]
        for n in order:
            r, extra = large_once(key, servers[n])
            if r is None:
                res.add(key, unit, n, rep, float("nan"), unit, None, extra)
                log("  (%s) rep %d %-14s failed" % (key, rep + 1, n))
                continue
            v = r["bytes"] / (r["duration_us"] / 1e6) / 1e9
            res.add(key, unit, n, rep, v, unit, r, extra)
            log("  (%s) rep %d %-14s %8.2f GB/s  server CPU %.0f%%, clients %.0f%%, others "
                "%.0f%%, connects %d" % (key, rep + 1, n, v, extra["cpu_server_pct"],
                                         extra["cpu_wrk_pct"], extra["cpu_others_pct"],
                                         extra["connects"]))


def run_idle(servers, res):
    title, path, conns, threads, headers, unit, rows = WORKLOADS["h"]
    rows = [n for n in rows if n in servers]
    reps = min(RUNS, 3)
    hold = SECONDS + 60
    log("== (h) %s: %s" % (title, ", ".join(rows)))
    for rep in range(reps):
        for n in rows:
            srv = servers[n]
            srv.restart()  # a fresh process, warmed by a short (a), is the baseline
            wrk(srv.port, path, conns, threads, headers, 1)
            # (a) on the same process just before: "its unloaded rate", paired per run, as
            # the machine's speed drifts between (a)'s turn and this one
            before = wrk(srv.port, path, conns, threads, headers, SECONDS)
            before_rate = rate(before, unit) if before else None
            time.sleep(0.5)
            base_rss, base_pss = mem_kib(tree(srv.pid))
            helper = subprocess.Popen([os.path.join(TOOLS, "idle"), str(srv.port), str(IDLE_N),
                                       str(hold), "/0.bin"], stdout=subprocess.PIPE, text=True)
            line, deadline = "", time.monotonic() + 90
            ready = threading.Event()
            holder = {}

            def read_ready(h=helper):
                holder["line"] = h.stdout.readline()
                ready.set()
            threading.Thread(target=read_ready, daemon=True).start()
            ready.wait(max(1, deadline - time.monotonic()))
            line = holder.get("line", "")
            m = re.match(r"READY open=(\d+) answered=(\d+)", line)
            if not m:
                helper.kill()
                helper.wait()
                log("  (h) %s: the idle helper did not get ready (%r)" % (n, line))
                continue
            opened = int(m.group(1))
            time.sleep(1)
            idle_rss, idle_pss = mem_kib(tree(srv.pid))
            r = wrk(srv.port, path, conns, threads, headers, SECONDS, srv.pid)
            after_rss, _ = mem_kib(tree(srv.pid))
            cpu = {k: r.pop(k) for k in list(r) if k.startswith("cpu_")} if r else {}
            helper.send_signal(signal.SIGTERM)
            try:
                out, _ = helper.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                helper.kill()
                out, _ = helper.communicate()
            m2 = re.search(r"DONE still_open=(\d+)", out or "")
            still = int(m2.group(1)) if m2 else -1
            per = (idle_rss - base_rss) / max(1, opened)
            per_pss = (idle_pss - base_pss) / max(1, opened)
            extra = {"idle_opened": opened, "idle_still_open": still, "base_rss_kib": base_rss,
                     "idle_rss_kib": idle_rss, "after_rss_kib": after_rss,
                     "per_conn_pss_kib": round(per_pss, 3), "unloaded_rate": before_rate}
            if r is not None and before_rate:
                extra["share_of_unloaded"] = round(rate(r, unit) / before_rate, 4)
            res.add("h", "KiB/idle conn", n, rep, per, "KiB", None, extra)
            if r is not None:
                res.add("h", unit, n, rep, rate(r, unit), unit, r, dict(extra, **cpu))
            log("  (h) rep %d %-14s %s idle (%d still open at the end): %.2f KiB each, "
                "(a) %s req/s" % (rep + 1, n, opened, still, per,
                                  "%.1f" % rate(r, unit) if r else "failed"))
            time.sleep(1)


def run_idle_tls(servers, res):
    """(t4): memory per idle TLS connection, as (h) measures it for plain ones, without
    the concurrent load: RSS with the connections held minus RSS of the fresh server warmed
    by 1 s of (t1), over the connections held. 3 repetitions, each on a fresh server."""
    title, path, conns, threads, headers, unit, rows = WORKLOADS["t4"]
    rows = [n for n in rows if n in servers]
    log("== (t4) %s: %s" % (title, ", ".join(rows)))
    for rep in range(min(RUNS, 3)):
        for n in rows:
            srv = servers[n]
            srv.restart()
            wrk(srv.port, path, conns, threads, headers, 1, tls=True)
            time.sleep(0.5)
            base_rss, base_pss = mem_kib(tree(srv.pid))
            helper = subprocess.Popen([os.path.join(TOOLS, "idletls"), str(srv.port),
                                       str(IDLE_TLS_N), "120", "/0.bin"],
                                      stdout=subprocess.PIPE, text=True)
            try:
                line = read_line(helper, 90)
                m = re.match(r"READY open=(\d+) answered=(\d+)", line)
                if not m:
                    log("  (t4) %s: the idle helper did not get ready (%r)" % (n, line))
                    continue
                opened = int(m.group(1))
                time.sleep(1)
                idle_rss, idle_pss = mem_kib(tree(srv.pid))
            finally:
                helper.send_signal(signal.SIGTERM)
                try:
                    out, _ = helper.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    helper.kill()
                    out, _ = helper.communicate()
            m2 = re.search(r"DONE still_open=(\d+)", out or "")
            per = (idle_rss - base_rss) / max(1, opened)
            extra = {"idle_opened": opened, "idle_still_open": int(m2.group(1)) if m2 else -1,
                     "base_rss_kib": base_rss, "idle_rss_kib": idle_rss,
                     "per_conn_pss_kib": round((idle_pss - base_pss) / max(1, opened), 3)}
            res.add("t4", "KiB/idle conn", n, rep, per, "KiB", None, extra)
            log("  (t4) rep %d %-14s %d idle TLS (%d still open at the end): %.2f KiB each"
                % (rep + 1, n, opened, extra["idle_still_open"], per))
            time.sleep(1)


def read_line(proc, timeout):
    """The first line of proc's stdout, or "" after timeout seconds."""
    holder, ready = {}, threading.Event()

    def reader():
        holder["line"] = proc.stdout.readline()
        ready.set()
    threading.Thread(target=reader, daemon=True).start()
    ready.wait(timeout)
    return holder.get("line", "")


# ------------------------------------------------------------------ the table

def summarize(res_rows):
    """{(workload, metric): {server: (median, min, max, n, extra-medians)}}"""
    groups = {}
    for row in res_rows:
        v = row["value"]
        if v != v:  # NaN: a failed run
            continue
        groups.setdefault((row["workload"], row["metric"]), {}).setdefault(
            row["server"], []).append(row)
    out = {}
    for key, per in groups.items():
        out[key] = {}
        for srv, rows in per.items():
            vals = [r["value"] for r in rows]
            p99 = [r["p99_us"] for r in rows if r["p99_us"] != ""]
            errs = sum(int(r[k] or 0) for r in rows
                       for k in ("err_connect", "err_read", "err_write", "err_timeout"))
            status = sum(int(r["err_status"] or 0) for r in rows)
            # The rate had the server and wrk had every CPU to themselves: value scaled by
            # the CPU they could use over the CPU they got (others' work took the rest).
            norm = []
            for r in rows:
                e = json.loads(r["extra"])
                used = e.get("cpu_server_pct", 0) + e.get("cpu_wrk_pct", 0)
                if used > 0 and r["unit"] in ("req/s", "MB/s", "GB/s"):
                    norm.append(r["value"] * NCPU * 100 / used)
            out[key][srv] = {"median": statistics.median(vals), "min": min(vals),
                             "norm": statistics.median(norm) if norm else None,
                             "unit": rows[0]["unit"],
                             "max": max(vals), "n": len(vals),
                             "p99_ms": statistics.median(p99) / 1000 if p99 else None,
                             "errors": errs, "status": status,
                             "extra": [json.loads(r["extra"]) for r in rows]}
    return out


ORDER = ROWS + EMBED_ROWS
METRIC_ORDER = ["a", "b", "c", "d", "e", "f", "g", "h", "t1", "t2", "t3", "t4", "e1", "e2"] + list(LARGE_KEYS)


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


SHORT = {("a", "req/s"): "1k keep-alive", ("b", "req/s"): "1k close",
         ("c", "MB/s"): "1m keep-alive", ("d", "MB/s"): "100m 1 conn",
         ("e", "req/s"): "listing 1000", ("f", "req/s"): "404",
         ("g", "req/s"): "1k 1000 conns", ("g", "peak RSS MiB"): "peak RSS sum",
         ("h", "req/s"): "(a) + idle conns", ("h", "KiB/idle conn"): "per idle conn",
         ("t1", "req/s"): "TLS 1k k-alive", ("t2", "req/s"): "TLS handshakes",
         ("t3", "MB/s"): "TLS 1m k-alive", ("t4", "KiB/idle conn"): "TLS per idle",
         ("e1", "req/s"): "hello k-alive", ("e2", "req/s"): "hello close",
         ("l1", "GB/s"): "100m x10 curl", ("l2", "GB/s"): "100m 16 curl",
         ("l3", "GB/s"): "1m x500 curl", ("l4", "GB/s"): "1m 16x100 curl",
         ("l5", "GB/s"): "100m x10 wget", ("l6", "GB/s"): "1g x3 curl",
         ("l7", "GB/s"): "TLS 100m x10", ("l8", "GB/s"): "TLS 1m 16x100",
         ("l9", "GB/s"): "TLS 100m 16", ("l10", "GB/s"): "TLS 1m x500",
         ("l11", "GB/s"): "TLS 100m wget", ("l12", "GB/s"): "TLS 1g x3",
         ("l13", "GB/s"): "1g 16 curl", ("l14", "GB/s"): "TLS 1g 16",
         ("l15", "GB/s"): "100m 16 wget", ("l16", "GB/s"): "TLS 100m 16 wget"}


def embed_best(per, field):
    """The better of libmicrohttpd and civetweb on field (median or norm): (value, name)."""
    vals = [(per[n][field], n) for n in EMB_PEERS if n in per and per[n][field]]
    return max(vals) if vals else (None, None)


def table(summary, embed=False):
    """The table; with embed (the embedding group) the ratio columns are to the better of
    libmicrohttpd and civetweb, on the medians and on the 2-core estimates."""
    lines = []
    base = "x best" if embed else "x nginx"
    hdr = "%-4s %-16s %-14s %10s %-6s %17s %6s %7s %10s %7s  %s" % (
        "", "metric", "server", "median", "unit", "min..max", "spread", base,
        "2-core est", base, "notes")
    lines += [hdr, "-" * len(hdr)]
    keys = sorted(summary, key=lambda k: (METRIC_ORDER.index(k[0]), k[1] != WORKLOADS[k[0]][5]))
    a_rate = summary.get(("a", "req/s"), {})
    for key in keys:
        per = summary[key]
        wl, metric = key
        nginx = per.get("nginx", {}).get("median")
        nginx_norm = per.get("nginx", {}).get("norm")
        if embed:
            nginx, nginx_norm = embed_best(per, "median")[0], embed_best(per, "norm")[0]
        label = SHORT.get(key, metric)
        for srv in ORDER:
            if srv not in per:
                continue
            s = per[srv]
            spread = 100 * (s["max"] - s["min"]) / s["median"] if s["median"] else 0
            ratio = s["median"] / nginx if nginx else None
            notes = []
            if s["p99_ms"] is not None and metric in ("req/s", "MB/s"):
                notes.append("p99 %s ms" % fmt(s["p99_ms"]))
            others = [e["cpu_others_pct"] for e in s["extra"] if "cpu_others_pct" in e]
            if others and metric in ("req/s", "MB/s", "GB/s"):
                notes.append("others %.0f%%" % statistics.median(others))
            if s["errors"]:
                notes.append("%d socket errors" % s["errors"])
            if s["status"] and wl != "f":
                notes.append("%d non-2xx" % s["status"])
            shares = [e["share_of_unloaded"] for e in s["extra"] if "share_of_unloaded" in e]
            if wl == "h" and metric == "req/s" and shares:
                notes.append("%.0f%% of its rate just before, unloaded" %
                             (100 * statistics.median(shares)))
            if wl == "h" and metric == "req/s" and srv in a_rate:
                notes.append("%.0f%% of its (a)" % (100 * s["median"] / a_rate[srv]["median"]))
                if s["norm"] and a_rate[srv]["norm"]:
                    notes.append("est %.0f%%" % (100 * s["norm"] / a_rate[srv]["norm"]))
            if wl in ("h", "t4") and metric == "KiB/idle conn":
                ex = s["extra"]
                notes.append("%d open, %d still open at end" % (
                    statistics.median(e["idle_opened"] for e in ex),
                    statistics.median(e["idle_still_open"] for e in ex)))
                notes.append("PSS %.2f KiB" % statistics.median(e["per_conn_pss_kib"] for e in ex))
            if wl == "g" and metric == "peak RSS MiB":
                notes.append("PSS %s MiB" % fmt(statistics.median(
                    e["peak_pss_kib"] / 1024 for e in s["extra"])))
            nr = s["norm"] / nginx_norm if s["norm"] and nginx_norm else None
            lines.append("%-4s %-16s %-14s %10s %-6s %17s %5.0f%% %7s %10s %7s  %s" % (
                "(%s)" % wl, label[:16], srv, fmt(s["median"]), s["unit"],
                "%s..%s" % (fmt(s["min"]), fmt(s["max"])), spread,
                "%.2fx" % ratio if ratio else "-", fmt(s["norm"]),
                "%.2fx" % nr if nr else "-", "; ".join(notes)))
        lines.append("")
    return "\n".join(lines)


def share_of_unloaded(summary, srv):
    """(h)'s rate over the same process's unloaded rate just before, median over runs."""
    s = summary.get(("h", "req/s"), {}).get(srv)
    shares = [e["share_of_unloaded"] for e in s["extra"] if "share_of_unloaded" in e] if s else []
    return statistics.median(shares) if shares else None


def targets(summary, field="median"):
    """The performance targets on the medians, or on the 2-core estimates (field="norm");
    memory is always the measured median."""
    def med(wl, metric, srv):
        f = field if metric in ("req/s", "MB/s", "GB/s") else "median"
        return summary.get((wl, metric), {}).get(srv, {}).get(f)

    out = []

    def check(label, ok, detail):
        out.append("  %-4s %-58s %s" % ("ok" if ok else "MISS", label, detail))

    def ratio(wl, metric, a, b):
        x, y = med(wl, metric, a), med(wl, metric, b)
        return x / y if x and y else None

    def best(wl, metric, names):
        vals = [(med(wl, metric, n), n) for n in names if med(wl, metric, n)]
        return max(vals) if vals else (None, None)

    r = ratio("a", "req/s", HS, "nginx")
    bv, bn = best("a", "req/s", ["lighttpd", "h2o"])
    rb = med("a", "req/s", HS) / bv if bv and med("a", "req/s", HS) else None
    rc = ratio("a", "req/s", HS, "ceiling")
    if r is not None:
        check("(a) >= 1.5x nginx and >= 1.1x best of lighttpd/h2o", r >= 1.5 and (rb or 0) >= 1.1,
              "%.2fx nginx, %.2fx %s, %.0f%% of ceiling" % (r, rb or 0, bn, 100 * (rc or 0)))
    ceilings = {"a": "ceiling", "b": "ceiling", "c": "ceiling 1m", "d": "ceiling 100m",
                "g": "ceiling"}

    def of_ceiling(wl, metric):
        rc = ratio(wl, metric, HS, ceilings.get(wl, ""))
        return ", %.0f%% of ceiling" % (100 * rc) if rc else ""

    for wl, metric in (("b", "req/s"), ("d", "MB/s")):
        bv, bn = best(wl, metric, PEERS)
        h = med(wl, metric, HS)
        if h and bv:
            check("(%s) >= the best peer" % wl, h >= bv,
                  "%.2fx %s%s" % (h / bv, bn, of_ceiling(wl, metric)))
    for wl, metric, want in (("c", "MB/s", 1.3), ("e", "req/s", 20)):
        r = ratio(wl, metric, HS, "nginx")
        if r is not None:
            check("(%s) >= %gx nginx" % (wl, want), r >= want, "%.2fx%s" % (r, of_ceiling(wl, metric)))
    # a 404 closes its connection, as Python's send_error does: (f) costs a new connection
    # per request, so its target is the same server's (b), within 10%
    fr, br = med("f", "req/s", HS), med("b", "req/s", HS)
    if fr and br:
        check("(f) at the rate of (b): >= 0.9x its own (b)", fr >= 0.9 * br,
              "%.2fx (b), %.2fx nginx" % (fr / br, ratio("f", "req/s", HS, "nginx") or 0))
    r = ratio("g", "req/s", HS, "nginx")
    m = med("g", "peak RSS MiB", HS)
    if r is not None and m is not None:
        check("(g) >= 1.5x nginx, peak memory <= 8 MiB", r >= 1.5 and m <= 8,
              "%.2fx, %.1f MiB%s" % (r, m, of_ceiling("g", "req/s")))
    per = med("h", "KiB/idle conn", HS)
    hr, ar = med("h", "req/s", HS), med("a", "req/s", HS)
    share = share_of_unloaded(summary, HS)
    if per is not None and share is not None:
        check("(h) <= 4 KiB per idle conn, (a) within 10%", per <= 4 and share >= 0.9,
              "%.2f KiB, %.0f%% of its unloaded rate just before" % (per, 100 * share))
    elif per is not None and hr and ar:
        check("(h) <= 4 KiB per idle conn, (a) within 10%", per <= 4 and hr >= 0.9 * ar,
              "%.2f KiB, %.0f%% of unloaded (a)" % (per, 100 * hr / ar))
    for wl in ("a", "e"):
        r = ratio(wl, "req/s", HS, "python")
        if r is not None:
            check("(i) %s: >= 50x python3 -m http.server" % wl, r >= 50, "%.0fx" % r)
    r = ratio("a", "req/s", HS_LOG, HS)
    if r is not None:
        check("log on: (a) within 15% of log off", r >= 0.85, "%.0f%%" % (100 * r))
    for wl, metric, want, what in (("t1", "req/s", 1.2, "1 KiB keep-alive"),
                                   ("t2", "req/s", 1.0, "handshakes/s"),
                                   ("t3", "MB/s", 1.0, "1 MiB keep-alive")):
        r = ratio(wl, metric, HS, "nginx")
        if r is not None:
            check("(%s) TLS %s >= %gx nginx" % (wl, what, want), r >= want,
                  "%.2fx nginx, %.2fx h2o" % (r, ratio(wl, metric, HS, "h2o") or 0))
    h, ng = med("t4", "KiB/idle conn", HS), med("t4", "KiB/idle conn", "nginx")
    if h is not None and ng:
        check("(t4) TLS memory per idle conn <= nginx's", h <= ng,
              "%.2f KiB, nginx %.2f KiB" % (h, ng))
    for wl in LARGE_KEYS:  # the ceiling: the best of the ceiling server and every peer
        bv, bn = best(wl, "GB/s", ["nginx", "h2o"] if wl in LARGE_TLS_KEYS
                      else LARGE_PEERS + [LARGE[wl][5]])
        h = med(wl, "GB/s", HS)
        if h and bv:
            check("(%s) %s >= best of peers, ceiling" % (wl, SHORT[(wl, "GB/s")]), h >= bv,
                  "%.2fx %s, %.2fx nginx" % (h / bv, bn, ratio(wl, "GB/s", HS, "nginx") or 0))
    for wl in EMBED_KEYS:
        bv, bn = best(wl, "req/s", EMB_PEERS)
        for row, want in ((EMB_PLAIN, 2.0), (EMB_BLOCKING, 1.0)):
            h = med(wl, "req/s", row)
            if (wl, "req/s") in summary:
                check("(%s) %s >= %gx best of libmicrohttpd, civetweb" % (wl, row, want),
                      bool(h and bv and h >= want * bv),
                      "%.2fx %s" % (h / bv, bn) if h and bv else "not measured")
        r = ratio(wl, "req/s", EMB_OWN, EMB_ONE)
        if (wl, "req/s") in summary:  # a row left out is a miss, not a silence
            check("(%s) %s within 10%% of %s" % (wl, EMB_OWN, EMB_ONE), (r or 0) >= 0.9,
                  "%.0f%%" % (100 * r) if r is not None else "not measured")
    return "\n".join(out)


# ------------------------------------------------------------------ main

def versions():
    def out(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        "machine: %d CPUs (%s), %s, kernel %s" % (NCPU, cpu, out(["sh", "-c", "grep MemTotal /proc/meminfo"]),
                                                    os.uname().release),
        "nginx: %s" % out(["nginx", "-v"]), "lighttpd: %s" % out(["lighttpd", "-v"]),
        "h2o: %s" % out(["h2o", "-v"]), "wrk: %s" % out(["wrk", "-v"]),
        "python: %s" % out([PYTHON, "--version"]), "httpserve: %s" % out([HS_BIN, "--version"]),
        "httpserve options added: %s" % (" ".join(HS_ARGS) or "none"),
        "httpserve binary: %s, built from %s" % (
            os.environ.get("HTTPSERVE", "build/httpserve"),
            os.environ.get("BENCH_HS_REV") or
            out(["git", "-C", REPO, "describe", "--always", "--dirty"])),
    ] + (["httpserve B binary (row %r): %s" % (HS_B, HS_B_BIN)] if HS_B_BIN else [])


def embed_info(started, names):
    """The embedding group's header lines: versions, configurations, and what is missing."""
    def pkg(name):
        try:
            return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                                  capture_output=True, text=True, timeout=10).stdout or "?"
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    lines = ["embedding: libhttpserve static from this tree (build/libhttpserve.a); "
             "libmicrohttpd %s (%d epoll threads, MHD_USE_EPOLL_INTERNAL_THREAD | "
             "MHD_USE_TURBO); civetweb %s (%d threads, keep-alive on); blocking slot's "
             "handler_threads %s" % (pkg("libmicrohttpd-dev"), NCPU, pkg("libcivetweb-dev"),
                                     EMBED_CONNS, EMBED_POOL if EMBED_POOL != "0" else
                                     "0 (the library's default)")]
    if EMB_BLOCKING in started:
        where = embed_blocking_where(started[EMB_BLOCKING])
        if where != "pool":
            lines.append("WARNING: the blocking slot runs on the %s, not on a handler pool: "
                         "this library has no pool yet, and its row measures a plain slot"
                         % where)
    for n in names:
        if n not in started:
            lines.append("WARNING: row %r not measured (it did not start or serve correctly%s)"
                         % (n, "; hello_httpserve built without the own-loop calls?"
                            if n == EMB_OWN else ""))
    return lines


def freeze_binary(tmp):
    """Run a copy of httpserve: others may rebuild build/httpserve while the bench runs."""
    global HS_BIN, HS_B_BIN
    copy = os.path.join(tmp, "httpserve")
    shutil.copy2(HS_BIN, copy)
    HS_BIN = copy
    if HS_B_BIN:
        copy = os.path.join(tmp, "httpserve-b")
        shutil.copy2(HS_B_BIN, copy)
        HS_B_BIN = copy


def make_cert(run):
    """One ECDSA P-256 certificate for every TLS server of the run: (cert, key) paths."""
    cert, key = os.path.join(run, "tls-cert.pem"), os.path.join(run, "tls-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key,
                    "-out", cert, "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost"], check=True, capture_output=True, timeout=30)
    return cert, key


def start_servers(names, into, port, run, root, nofile, tls):
    """Starts each named server on the next free port from `port` (HTTPS with tls) and
    keeps in `into` those that serve correctly; returns the next port to try."""
    for n in names:
        while True:  # next free port, bounded
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                    break
                except OSError:
                    port += 1
                    if port > PORT0 + 500:
                        raise RuntimeError("no free port near %d" % PORT0)
        srv = Server(n, port, run, root, nofile, tls)
        port += 1
        into[n] = srv  # from here on, main's finally stops it
        try:
            srv.start()
            ok = sanity(srv, root)
        except (RuntimeError, OSError, ValueError, IndexError, ssl.SSLError) as e:
            log("skipping %s: %s" % (n, e))
            ok = False
        if not ok:
            log("skipping %s%s: it did not serve %s correctly"
                % (n, " (TLS)" if tls else "", "GET / (the hello handler)" if n in EMBED_ROWS
                   else "/1k.bin, /dir/ and a 404"))
            srv.stop()
            del into[n]
            continue
        log("started %-14s pid %-7d port %d: %s" % (n + (" TLS" if tls else ""), srv.pid,
                                                    srv.port, " ".join(srv.cmd)))
    return port


def main():
    # workloads: letters, t1..t4, e1..e2, "tls" for the whole TLS group and "embed" for
    # the embedding group
    only = re.findall(r"l\d+|[te]\d|[a-h]", os.environ.get("BENCH_ONLY", "abcdefgh").replace(
        "tls", "t1t2t3t4").replace("embed", "e1e2").replace("large", "l1l2l3l4l5l7l8l9l10l11l15l16"))
    want = os.environ.get("BENCH_SERVERS")
    plain = [k for k in only if k not in TLS_KEYS + EMBED_KEYS + LARGE_TLS_KEYS]
    names = [n for n in ROWS if (not want or n in want.split(",")) and plain
             and (n != "ceiling 1g" or any(k in only for k in BIG_FILE_KEYS))]
    tls_names = [n for n in TLS_ROWS if (not want or n in want.split(","))
                 and any(k in TLS_KEYS + LARGE_TLS_KEYS for k in only)]
    embed_names = [n for n in EMBED_ROWS if (not want or n in want.split(","))
                   and any(k in EMBED_KEYS for k in only)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = min(hard, 65536)
    if nofile < IDLE_N + 2000 and "h" in only:
        log("note: open-file limit %d is low for %d idle connections" % (nofile, IDLE_N))

    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    res = Results(os.path.join(HERE, "results", stamp + ".tsv"))
    tmp = tempfile.mkdtemp(prefix="httpserve-bench-")
    os.chmod(tmp, 0o755)
    root = os.path.join(tmp, "root")
    run = os.path.join(tmp, "run")
    os.makedirs(run)
    freeze_binary(tmp)
    servers, tls_servers, embed_servers = {}, {}, {}
    interrupted = []
    info = []

    def on_term(sig, frame):
        interrupted.append(sig)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        log("document root in %s" % root)
        make_root(root, big=any(k in only for k in BIG_FILE_KEYS))
        busy = cpu_busy(3)
        info = versions() + [
            "started: %s; runs %d x %d s per workload and server (warm-up %d s), %d idle conns for (h), "
            "%d for (t4); workloads %s"
            % (time.strftime("%Y-%m-%d %H:%M:%S"), RUNS, SECONDS, WARMUP, IDLE_N, IDLE_TLS_N,
               ",".join(only)),
            "load before start: loadavg %s, CPUs %.0f%% busy over 3 s with no server running"
            % (" ".join("%.2f" % x for x in os.getloadavg()), busy)]
        for line in info:
            log(line)
        port = PORT0
        port = start_servers(names, servers, port, run, root, nofile, None)
        if tls_names:
            port = start_servers(tls_names, tls_servers, port, run, root, nofile, make_cert(run))
        if embed_names:
            start_servers(embed_names, embed_servers, port, run, root, nofile, None)
            more = embed_info(embed_servers, embed_names)
            for line in more:
                log(line)
            info += more
        res.header("\n".join(info))
        for key in only:
            if key == "h":
                run_idle(servers, res)
            elif key == "t4":
                run_idle_tls(tls_servers, res)
            elif key in LARGE_KEYS:
                run_large(key, tls_servers if key in LARGE_TLS_KEYS else servers, res)
            elif key in WORKLOADS:
                run_plain(key, tls_servers if key in TLS_KEYS else
                          embed_servers if key in EMBED_KEYS else servers, res)
    except KeyboardInterrupt:
        log("interrupted: stopping the servers")
    finally:
        for srv in list(servers.values()) + list(tls_servers.values()) + list(embed_servers.values()):
            srv.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        res.f.write("# finished: %s, loadavg %s\n" % (
            time.strftime("%Y-%m-%d %H:%M:%S"), " ".join("%.2f" % x for x in os.getloadavg())))
        res.f.close()
    summary = summarize(res.rows)
    embed = {k: v for k, v in summary.items() if k[0] in EMBED_KEYS}
    summary = {k: v for k, v in summary.items() if k[0] not in EMBED_KEYS}
    text = ""
    if summary or not embed:
        text = (table(summary) + "\nTargets (httpserve -q unless said), on the medians:\n"
                + targets(summary) + "\n\nThe same on the 2-core estimates:\n"
                + targets(summary, "norm"))
    if embed:
        text += ("\n\n" if text else "") + (
            table(embed, embed=True) + "\nTargets of the embedding group, on the medians:\n"
            + targets(embed) + "\n\nThe same on the 2-core estimates:\n"
            + targets(embed, "norm"))
        text += "".join("\n" + x for x in info if x.startswith("WARNING"))
    with open(os.path.join(HERE, "results", stamp + ".txt"), "w") as f:
        f.write("\n".join("# " + x for x in info) + "\n\n" + text + "\n")
    print(text)
    log("raw numbers: %s" % res.path)
    return 1 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
