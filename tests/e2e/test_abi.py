"""test_abi.py: the library as a packager and a C or C++ program see it.

The shared library exports exactly the functions httpserve.h declares (no hs__ name, nothing
missing); its soname and the build's version follow the header's version macros; the header
compiles alone as C99, C11, C17 and C++ with every warning an error; an installed copy's
pkg-config file gives what a static link of the archive needs and what a dynamic link needs;
and the command names a host that does not resolve in the resolver's words.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

INCLUDE = os.path.join(harness.REPO, "include")
HEADER = os.path.join(INCLUDE, "httpserve.h")
SHARED = os.path.join(harness.BUILD, "libhttpserve.so")
TOOL_TIMEOUT = 120

# A program using the header as a user would: every struct, the enum at file scope, the
# hs_server_new macro, the printf-checked logging calls.
USER_PROGRAM = r"""
#include <httpserve.h>
#include <stdio.h>
#include <string.h>

static int slot(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	(void)self;
	(void)r;
	hs_log_message(c, "%s %d", "x", 1);
	return hs_send_error(c, 404, NULL, NULL);
}

int main(void)
{
	struct hs_static st;
	struct hs_cgi cg;
	struct hs_options o;
	struct hs_handler h;
	struct hs_server *s = NULL;
	enum hs_symlinks policy = HS_SYMLINKS_FOLLOW;
	int rc;
	memset(&st, 0, sizeof st);
	memset(&cg, 0, sizeof cg);
	memset(&o, 0, sizeof o);
	h = st.base;
	h.do_GET = slot;
	o.handler_threads = cg.base.base.blocking ? 2 : 1;
	o.tls.self_signed = false;
	rc = hs_server_new(&s, &o, &h);
	st.symlinks = policy == HS_SYMLINKS_INSIDE ? HS_SYMLINKS_DENY : policy;
	printf("%s %d.%d.%d %d\\n", HS_VERSION, HS_VERSION_MAJOR, HS_VERSION_MINOR,
	       HS_VERSION_PATCH, rc);
	return 0;
}
"""

# Runs against the installed library: the version it was built with, and a set-up and
# tear-down that touch the private parts.
RUN_PROGRAM = r"""
#include <httpserve.h>
#include <stdio.h>

int main(void)
{
	struct hs_static st;
	if (hs_static_init(&st, ".") != 0)
		return 1;
	printf("%s %s\n", HS_VERSION, hs_static_guess_type(&st, "a.html"));
	hs_static_fini(&st);
	hs_static_fini(&st);
	return 0;
}
"""


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT, **kw)


def header_functions():
    """The function names httpserve.h declares, from its preprocessed text."""
    out = run(["cc", "-E", "-P", "-I", INCLUDE, HEADER])
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    names = set()
    for statement in out.stdout.split(";"):
        text = " ".join(statement.split())
        if text.startswith("typedef") or "{" in text:
            text = text.rsplit("}", 1)[-1]
        m = re.match(r"^(?:extern )?[A-Za-z_][\w\s\*]*?\b(hs_\w+)\s*\(", text.strip())
        if m and not text.startswith("typedef"):
            names.add(m.group(1))
    return names


def header_version():
    text = open(HEADER, encoding="utf-8").read()
    return tuple(int(re.search(rf"^#define HS_VERSION_{part} (\d+)$", text, re.M).group(1))
                 for part in ("MAJOR", "MINOR", "PATCH"))


def make_version():
    out = run(["make", "-s", "--no-print-directory", "-C", harness.REPO, "version"])
    return out.stdout.strip()


class Exports(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(SHARED):
            self.fail(f"{SHARED} is missing: `make all` builds it")

    def test_exports_match_header(self):
        out = run(["nm", "-D", "--defined-only", SHARED])
        self.assertEqual(out.returncode, 0, out.stderr)
        exported = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
        declared = header_functions()
        self.assertGreater(len(declared), 40, "the header's declarations were not found")
        self.assertEqual(sorted(exported - declared), [],
                         "exported but not declared in httpserve.h")
        self.assertEqual(sorted(declared - exported), [],
                         "declared in httpserve.h but not exported")

    def test_soname_and_version(self):
        major, minor, patch = header_version()
        self.assertEqual(make_version(), f"{major}.{minor}.{patch}")
        out = run(["readelf", "-d", SHARED])
        self.assertIn(f"[libhttpserve.so.{major}]", out.stdout)


class HeaderLanguages(unittest.TestCase):
    def compile(self, compiler, flags, source, suffix):
        if not shutil.which(compiler):
            self.skipTest(f"{compiler} is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "user" + suffix)
            with open(path, "w", encoding="utf-8") as f:
                f.write(source)
            out = run([compiler, *flags, "-I", INCLUDE, "-c", path, "-o",
                       os.path.join(tmp, "user.o")])
            self.assertEqual(out.returncode, 0, f"{compiler} {' '.join(flags)}:\n{out.stderr}")

    def test_c_standards(self):
        for compiler in ("gcc", "clang"):
            for std in ("c99", "c11", "c17"):
                with self.subTest(compiler=compiler, std=std):
                    self.compile(compiler, [f"-std={std}", "-Wall", "-Wextra", "-Werror",
                                            "-pedantic"],
                                 USER_PROGRAM, ".c")

    def test_cplusplus(self):
        for compiler in ("g++", "clang++"):
            for std in ("c++11", "c++17"):
                with self.subTest(compiler=compiler, std=std):
                    self.compile(compiler, [f"-std={std}", "-Wall", "-Wextra", "-Werror",
                                            "-pedantic"],
                                 USER_PROGRAM, ".cc")


class Installed(unittest.TestCase):
    """A staged `make install`, used through its pkg-config file."""

    @classmethod
    def setUpClass(cls):
        if harness.INSTRUMENTED:
            raise unittest.SkipTest("the instrumented library needs its sanitizers to link")
        if not shutil.which("pkg-config"):
            raise unittest.SkipTest("pkg-config is not installed")
        cls.stage = tempfile.mkdtemp(prefix="hs-stage-")
        out = run(["make", "-s", "--no-print-directory", "-C", harness.REPO, "install",
                   f"BUILD={os.path.relpath(harness.BUILD, harness.REPO)}", "PREFIX=/usr",
                   f"DESTDIR={cls.stage}"])
        if out.returncode != 0:
            shutil.rmtree(cls.stage)
            raise AssertionError(f"make install: {out.stderr}")
        cls.env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=cls.stage,
                       PKG_CONFIG_PATH=os.path.join(cls.stage, "usr/lib/pkgconfig"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stage, ignore_errors=True)

    def pkg_config(self, *args):
        out = run(["pkg-config", *args, "httpserve"], env=self.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.split()

    def test_version(self):
        self.assertEqual(" ".join(self.pkg_config("--modversion")), make_version())

    def test_libs(self):
        self.assertEqual([f for f in self.pkg_config("--libs") if f.startswith("-l")],
                         ["-lhttpserve"])
        static = self.pkg_config("--static", "--libs")
        for flag in ("-lhttpserve", "-lssl", "-lcrypto", "-pthread"):
            self.assertIn(flag, static)
        self.assertLess(static.index("-lhttpserve"), static.index("-lssl"))

    def test_static_link(self):
        """The archive and what --static names are the whole link: nothing else is given."""
        exe = os.path.join(self.stage, "echo-static")
        out = run(["cc", "-static", os.path.join(harness.REPO, "examples", "echo.c"), "-o", exe,
                   *self.pkg_config("--cflags", "--static", "--libs")])
        if out.returncode != 0 and "cannot find -lssl" in out.stderr:
            self.skipTest("OpenSSL's static libraries are not installed")
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_dynamic_link_runs(self):
        src = os.path.join(self.stage, "run.c")
        exe = os.path.join(self.stage, "run")
        with open(src, "w", encoding="utf-8") as f:
            f.write(RUN_PROGRAM)
        out = run(["cc", src, "-o", exe, *self.pkg_config("--cflags", "--libs")])
        self.assertEqual(out.returncode, 0, out.stderr)
        lib = os.path.join(self.stage, "usr", "lib")
        out = run([exe], env=dict(os.environ, LD_LIBRARY_PATH=lib), cwd=self.stage)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, f"{make_version()} text/html\n")


class Resolution(unittest.TestCase):
    def test_unresolvable_host(self):
        """A name under .invalid never resolves (RFC 6761): Python's words, or the
        resolver's for a temporary failure where there is no resolver to ask."""
        if harness.REFERENCE_ONLY:
            self.skipTest("python3 prints a traceback here")
        for name in ("nonexistent.invalid", "no-such-host.invalid"):
            with self.subTest(name=name):
                out = run([harness.httpserve_path(), "-b", name, "0"])
                self.assertEqual(out.returncode, 1)
                self.assertIn(out.stderr, [
                    f"httpserve: cannot resolve address '{name}': Name or service not known\n",
                    f"httpserve: cannot resolve address '{name}': "
                    "Temporary failure in name resolution\n"])


if __name__ == "__main__":
    unittest.main()
