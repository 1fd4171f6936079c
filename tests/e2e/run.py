#!/usr/bin/env python3
"""run.py: runs the end-to-end suite: `python3 tests/e2e/run.py --build build`.

It finds every tests/e2e/test_*.py, runs them with unittest, prints a summary and exits non-zero
when anything failed. A missing build/httpserve is a failure, not a skip, unless
--reference-only is given: then python3 stands in for httpserve (differential tests compare
python3 with itself, no known difference applied; tests of what only httpserve does are skipped),
which checks the suite itself before the binary exists. A watchdog ends a run that hangs.
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WATCHDOG_SECONDS = 300


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build",
                        help="the build directory holding httpserve and examples/ "
                             "(relative to the current directory or the repository)")
    parser.add_argument("--reference-only", action="store_true",
                        help="run python3 -m http.server in place of httpserve")
    parser.add_argument("-v", "--verbose", action="store_true", help="name every test")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only tests whose name contains this (repeatable)")
    parser.add_argument("-f", "--failfast", action="store_true", help="stop at the first failure")
    parser.add_argument("--sanitized", action="store_true",
                        help="the command is built with sanitizers: timing bounds are looser "
                             "and memory measurements are skipped")
    parser.add_argument("--valgrind", metavar="LOGDIR",
                        help="run httpserve under valgrind (memcheck, leaks), logs in LOGDIR; "
                             "any report fails the run")
    return parser.parse_args(argv)


def find_build(build):
    for candidate in (os.path.abspath(build), os.path.join(REPO, build)):
        if os.path.isdir(candidate):
            return candidate
    return os.path.abspath(build)


def configure(args):
    """Passes the configuration to harness.py through the environment (before it is imported)."""
    build = find_build(args.build)
    os.environ["HTTPSERVE_E2E_BUILD"] = build
    os.environ["HTTPSERVE_E2E_REFERENCE_ONLY"] = "1" if args.reference_only else "0"
    os.environ["HTTPSERVE_E2E_SANITIZED"] = "1" if args.sanitized else "0"
    if args.valgrind:
        os.makedirs(args.valgrind, exist_ok=True)
        os.environ["HTTPSERVE_E2E_WRAPPER"] = (
            "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "
            f"--log-file={os.path.abspath(args.valgrind)}/vg.%p")
    binary = os.path.join(build, "httpserve")
    if not args.reference_only and not os.access(binary, os.X_OK):
        sys.exit(f"e2e: FAIL: {binary} is missing or not executable; build it with `make`, "
                 "or pass --reference-only to check the suite against python3 alone")
    return build


def main(argv):
    args = parse_args(argv)
    build = configure(args)
    sys.path.insert(0, HERE)
    import harness  # after configure: it reads the environment

    mode = "python3 in place of httpserve (--reference-only)" if args.reference_only else \
        os.path.join(build, "httpserve")
    print(f"e2e: testing {mode}; reference {sys.executable} {sys.version.split()[0]}", flush=True)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    disarm = harness.start_watchdog(WATCHDOG_SECONDS)
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1,
                                     failfast=args.failfast).run(suite)
    disarm()
    harness.stop_all()
    print_summary(result, time.monotonic() - started)
    clean = valgrind_clean(args.valgrind) if args.valgrind else True
    return 0 if clean and result.wasSuccessful() and result.testsRun > 0 else 1


def valgrind_clean(logdir):
    """With -q valgrind writes only what it finds, on lines starting "==PID=="; its
    "--PID--" notes (such as a system call it does not know, openat2 in 3.19) are not
    findings."""
    reports = []
    for name in sorted(os.listdir(logdir)):
        with open(os.path.join(logdir, name), errors="replace") as f:
            found = [line for line in f if line.startswith("==")]
        if found:
            reports.append((name, "".join(found)))
    for name, text in reports[:5]:
        print(f"e2e: valgrind report {name}:\n{text[:4000]}")
    print(f"e2e: valgrind: {len(reports)} report(s)" if reports else "e2e: valgrind: clean")
    return not reports


def failing_tests(pairs):
    """The ids of the tests in (test, traceback) pairs; a failed subtest names its test."""
    return {getattr(test, "test_case", test).id() for test, _ in pairs}


def print_summary(result, seconds):
    failed, broken = failing_tests(result.failures), failing_tests(result.errors)
    bad = len(failed | broken) + len(result.unexpectedSuccesses)
    print(f"e2e: {result.testsRun} tests in {seconds:.1f}s: "
          f"{result.testsRun - bad - len(result.skipped)} passed, {len(failed)} failed, "
          f"{len(broken)} with errors, {len(result.skipped)} skipped")
    reasons = {}
    for _, reason in result.skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        print(f"e2e:   skipped {count}: {reason}")
    print("e2e: OK" if result.wasSuccessful() else "e2e: FAILED", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
