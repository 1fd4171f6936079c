#!/usr/bin/env python3
"""profile.py: where the time goes for workloads (a) and (b) (bench/README.md), or with
PROFILE_TLS=1 (`run.sh --profile --tls`) for the TLS group's (t1), (t2), (t3), over TLS.

For each server and workload, on a fresh process with a short warm-up:
  - CPU per request: the server's user and system CPU time (/proc/PID/stat, all its
    processes and threads) over a plain wrk run, divided by the requests wrk completed;
  - system calls per request: `strace -c -f` attached to every process of the server
    during a wrk run, each count divided by the requests that run completed;
  - the profile: `perf record -g` (cpu-clock: this VM has no hardware counters) on the
    server during a wrk run, reported flat by symbol and by DSO;
  - instructions per request (httpserve and nginx, one worker each): valgrind callgrind
    with instrumentation switched on only around a wrk run; user-space instructions only.
Writes everything to bench/results/profile-<stamp>/ and prints a summary.

    bash bench/run.sh --profile        (or: python3 bench/profile.py after run.sh built the
                                        helpers; PROFILE_SECONDS, PROFILE_SERVERS,
                                        PROFILE_PARTS=run,callgrind, PROFILE_TLS=1)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SECS = int(os.environ.get("PROFILE_SECONDS", "5"))
PARTS = os.environ.get("PROFILE_PARTS", "run,callgrind").split(",")
SERVERS = os.environ.get("PROFILE_SERVERS", "httpserve -q,nginx,lighttpd,h2o,ceiling").split(",")
CG_SERVERS = [s for s in ("httpserve -q", "nginx") if s in SERVERS]
# workload: (path, headers, connections, wrk threads); d and e are not run on the ceiling
LOADS = {"a": ("/1k.bin", [], 64, bench.NCPU), "b": ("/1k.bin", ["Connection: close"], 64, bench.NCPU),
         "e": ("/dir/", [], 16, bench.NCPU), "d": ("/100m.bin", [], 1, 1)}
CG_LOADS = ("a", "b")
# over TLS (wrk preloaded with wrktls.so, as in bench.py): no callgrind, no ceiling
TLS = os.environ.get("PROFILE_TLS") == "1"
if TLS:
    SERVERS = [s for s in os.environ.get("PROFILE_SERVERS", "httpserve -q,nginx,h2o").split(",")
               if s in bench.TLS_ROWS]
    CG_SERVERS = []
    LOADS = {k: (w[1], w[4], w[2], w[3]) for k, w in bench.WORKLOADS.items()
             if k in ("t1", "t2", "t3")}
CLK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_ticks(pids):
    """(user, system) clock ticks summed over pids (each includes all its threads)."""
    u = s = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                x = f.read()
        except OSError:
            continue
        fields = x[x.rindex(")") + 2:].split()
        u += int(fields[11])
        s += int(fields[12])
    return u, s


def wrk_bg(port, path, headers, seconds, conns=64, threads=bench.NCPU):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", "%ds" % seconds, "--timeout", "10s",
           "-s", bench.REPORT_LUA]
    for h in headers:
        cmd += ["-H", h]
    cmd.append("%s://127.0.0.1:%d%s" % ("https" if TLS else "http", port, path))
    env = dict(os.environ, LD_PRELOAD=bench.WRK_TLS) if TLS else None
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wrk_result(p, seconds):
    out, _ = p.communicate(timeout=seconds + 60)
    m = re.search(r"^WRK (.*)$", out, re.M)
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())} if m else None


def parse_strace(path):
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                # % time, seconds, usecs/call, calls, [errors], syscall
                calls[parts[-1]] = int(parts[3])
    return calls


def profile_server(name, run, root, nofile, out, port, summary, tls=None):
    srv = bench.Server(name, port, run, root, nofile, tls)
    try:
        for wl, (path, headers, conns, threads) in LOADS.items():
            if name == "ceiling" and wl in ("d", "e"):
                continue
            srv.restart() if srv.proc else srv.start()
            bench.wrk(port, path, conns, threads, headers, 1, tls=TLS)
            pids = bench.tree(srv.pid)
            tag = "%s-%s" % (srv.slug, wl)

            # CPU per request, undisturbed
            t0 = cpu_ticks(pids)
            r = bench.wrk(port, path, conns, threads, headers, SECS, tls=TLS)
            t1 = cpu_ticks(pids)
            if r:
                us = [(t1[i] - t0[i]) * 1e6 / CLK / r["requests"] for i in (0, 1)]
                secs = r["duration_us"] / 1e6
                summary.append((wl, name, "unprofiled", "%.0f req/s, %.0f MB/s, CPU server %.0f%%"
                                % (r["requests"] / secs, r["bytes"] / secs / 1e6,
                                   100 * (sum(t1) - sum(t0)) / CLK / secs)))
                summary.append((wl, name, "CPU us/request user+sys", "%.2f + %.2f = %.2f"
                                % (us[0], us[1], us[0] + us[1])))

            # system calls per request
            sfile = os.path.join(out, "strace-%s.txt" % tag)
            cmd = ["strace", "-c", "-f", "-q", "-o", sfile]
            for p in pids:
                cmd += ["-p", str(p)]
            st = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            r = bench.wrk(port, path, conns, threads, headers, SECS, tls=TLS)
            st.send_signal(signal.SIGINT)
            st.wait(30)
            if r and r["requests"]:
                calls = parse_strace(sfile)
                n = r["requests"]
                per = sorted(((c / n, sc) for sc, c in calls.items()), reverse=True)
                total = sum(c for c in calls.values()) / n
                with open(sfile, "a") as f:
                    f.write("\nrequests completed (wrk): %d\nper request:\n" % n)
                    for v, sc in per:
                        f.write("  %-16s %.3f\n" % (sc, v))
                    f.write("  %-16s %.3f\n" % ("total", total))
                summary.append((wl, name, "syscalls/request", "%.2f: %s" % (
                    total, ", ".join("%s %.2f" % (sc, v) for v, sc in per if v >= 0.05))))

            # perf profile
            pfile = os.path.join(out, "perf-%s.data" % tag)
            w = wrk_bg(port, path, headers, SECS + 2, conns, threads)
            time.sleep(0.5)
            subprocess.run(["perf", "record", "-q", "-F", "1999", "-g", "-o", pfile, "-p",
                            ",".join(str(p) for p in pids), "--", "sleep", str(SECS)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=SECS + 60)
            wrk_result(w, SECS + 2)
            rep = os.path.join(out, "perf-%s.txt" % tag)
            with open(rep, "w") as f:
                for sort in ("dso", "dso,sym"):
                    f.write("==== perf report --no-children --sort %s\n" % sort)
                    p = subprocess.run(["perf", "report", "-i", pfile, "--no-children", "--sort",
                                        sort, "--stdio", "-g", "none", "--percent-limit", "0.7"],
                                       capture_output=True, text=True, timeout=300)
                    f.write("\n".join(x for x in p.stdout.splitlines()
                                      if x.strip() and not x.startswith("#")) + "\n\n")
                f.flush()
                dsos = re.findall(r"^\s+[\d.]+%\s+(\S+)\s*$", open(rep).read().split("====")[1], re.M)
                user = [d for d in dsos if not d.startswith("[")]
                if user:
                    f.write("==== user space only: --sort sym --dsos %s\n" % ",".join(user))
                    p = subprocess.run(["perf", "report", "-i", pfile, "--no-children", "--sort",
                                        "dso,sym", "--dsos", ",".join(user), "--stdio", "-g", "none",
                                        "--percent-limit", "0.3"],
                                       capture_output=True, text=True, timeout=300)
                    f.write("\n".join(x for x in p.stdout.splitlines()
                                      if x.strip() and not x.startswith("#")) + "\n\n")
                f.write("==== inclusive share of each system call's kernel side\n")
                p = subprocess.run(["perf", "report", "-i", pfile, "--children", "--sort", "sym",
                                    "--stdio", "-g", "none"],
                                   capture_output=True, text=True, timeout=300)
                f.write("\n".join(x for x in p.stdout.splitlines()
                                  if re.search(r"\] (__x64_sys_|__ia32_sys_)\w+\s*$", x)) + "\n\n")
                f.write("==== perf report --children (inclusive), top\n")
                p = subprocess.run(["perf", "report", "-i", pfile, "--children", "--sort", "sym",
                                    "--stdio", "-g", "none", "--percent-limit", "4"],
                                   capture_output=True, text=True, timeout=300)
                f.write("\n".join(x for x in p.stdout.splitlines()
                                  if x.strip() and not x.startswith("#")) + "\n")
            os.unlink(pfile)
    finally:
        srv.stop()


def callgrind(name, run, root, nofile, out, port, summary):
    """User-space instructions per request, one worker, instrumentation only around wrk."""
    srv = bench.Server(name, port, run, root, nofile)
    if name == "nginx":
        conf = os.path.join(run, "nginx.conf")
        with open(conf) as f:
            text = f.read()
        text = text.replace("master_process on;", "master_process off;")
        text = re.sub(r"worker_processes \d+;", "worker_processes 1;", text)
        with open(conf, "w") as f:
            f.write(text)
    else:
        # Valgrind 3.19 does not know openat2 (ENOSYS), which would send every request
        # through the realpath() fallback that real runs never take: use plain openat.
        srv.cmd[1:1] = ["--workers", "1", "--symlinks", "follow"]
    base = list(srv.cmd)
    for wl in CG_LOADS:
        path, headers = LOADS[wl][:2]
        cgout = os.path.join(run, "cg-%s-%s.out" % (srv.slug, wl))
        srv.cmd = ["valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
                   "--callgrind-out-file=" + cgout] + base
        r = None
        try:
            srv.start()
            bench.wrk(port, path, 16, 1, headers, 2)
            subprocess.run(["callgrind_control", "-i", "on", str(srv.pid)], capture_output=True,
                           timeout=60)
            r = bench.wrk(port, path, 64, 1, headers, SECS)
            subprocess.run(["callgrind_control", "-i", "off", str(srv.pid)], capture_output=True,
                           timeout=60)
            # dump now: a server that is slow to stop under valgrind may be killed undumped
            subprocess.run(["callgrind_control", "-d", str(srv.pid)], capture_output=True,
                           timeout=60)
        finally:
            srv.stop()
        files = sorted(f for f in os.listdir(run) if f.startswith(os.path.basename(cgout)))
        if not r or not files:
            summary.append((wl, name, "instructions/request", "failed"))
            continue
        # the explicit dump (.1) holds the instrumented window; callgrind_annotate reads one file
        dump = cgout + ".1" if os.path.exists(cgout + ".1") else cgout
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=90", dump],
                             capture_output=True, text=True, timeout=300).stdout
        tag = "%s-%s" % (srv.slug, wl)
        with open(os.path.join(out, "callgrind-%s.txt" % tag), "w") as f:
            f.write("requests completed (wrk, instrumented window): %d\n\n" % r["requests"])
            f.write(ann)
        m = re.search(r"^([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", ann, re.M) or \
            re.search(r"^\s*([\d,]+)\s+PROGRAM TOTALS", ann, re.M)
        if m:
            total = int(m.group(1).replace(",", ""))
            summary.append((wl, name, "instructions/request (user space)",
                            "%.0f (%d requests)" % (total / r["requests"], r["requests"])))
        for f in files:
            os.unlink(os.path.join(run, f))


def main():
    soft, hard = bench.resource.getrlimit(bench.resource.RLIMIT_NOFILE)
    bench.resource.setrlimit(bench.resource.RLIMIT_NOFILE, (hard, hard))
    nofile = min(hard, 65536)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(bench.HERE, "results", "profile-" + stamp)
    os.makedirs(out)
    tmp = tempfile.mkdtemp(prefix="httpserve-profile-")
    os.chmod(tmp, 0o755)
    root, run = os.path.join(tmp, "root"), os.path.join(tmp, "run")
    os.makedirs(run)
    bench.freeze_binary(tmp)
    summary = []
    try:
        bench.make_root(root)
        busy = bench.cpu_busy(3)
        head = bench.versions() + ["profile: %s, %d s per measurement; CPUs %.0f%% busy before start, "
                                   "loadavg %s" % (time.strftime("%Y-%m-%d %H:%M:%S"), SECS, busy,
                                                   " ".join("%.2f" % x for x in os.getloadavg()))]
        for line in head:
            log(line)
        port = bench.PORT0 + 100
        cert = bench.make_cert(run) if TLS else None
        for name in SERVERS if "run" in PARTS else []:
            log("profiling %s" % name)
            profile_server(name, run, root, nofile, out, port, summary, cert)
            port += 1
        for name in CG_SERVERS if "callgrind" in PARTS else []:
            log("callgrind %s" % name)
            callgrind(name, run, root, nofile, out, port, summary)
            port += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ["# " + x for x in head] + [""]
    for wl in LOADS:
        lines.append("(%s)" % wl)
        for w, name, what, val in summary:
            if w == wl:
                lines.append("  %-13s %-34s %s" % (name, what, val))
    text = "\n".join(lines)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    log("details: %s" % out)


if __name__ == "__main__":
    main()
