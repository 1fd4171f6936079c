"""test_manpages.py: the manual pages in docs/ render without a warning, and the library's
page stays complete.

Every docs/*.1 and docs/*.3 goes through groff (tbl and the man macros) with every warning
on, both as typeset and as man(1) shows it on terminals of several widths; mandoc's linter
checks them too where it is installed. libhttpserve.3 must name every public function of
include/httpserve.h and every Python name of http.server it maps, and its EXAMPLE must
compile against the built library. Without groff the rendering tests skip, saying so.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

DOCS = os.path.join(harness.REPO, "docs")
HEADER = os.path.join(harness.REPO, "include", "httpserve.h")
LIBPAGE = os.path.join(DOCS, "libhttpserve.3")
PAGES = sorted(glob.glob(os.path.join(DOCS, "*.1")) + glob.glob(os.path.join(DOCS, "*.3")))
TIMEOUT = 60

# The Python names the library page maps to C (http.server's documented classes, their
# attributes and methods, and the socketserver calls a program makes).
PYTHON_NAMES = [
    "HTTPServer", "ThreadingHTTPServer", "HTTPSServer", "server_address", "server_name",
    "server_port", "serve_forever()", "shutdown()", "server_close()", "handle_request()",
    "block_on_close", "daemon_threads",
    "BaseHTTPRequestHandler", "client_address", "server", "close_connection", "requestline",
    "command", "path", "request_version", "headers", "rfile.read", "wfile.write",
    "wfile.flush", "rbufsize", "server_version", "sys_version", "error_message_format",
    "error_content_type", "protocol_version", "MessageClass", "responses", "handle()",
    "handle_one_request()", "handle_expect_100()", "send_error()", "send_response()",
    "send_header()", "send_response_only()", "end_headers()", "flush_headers()",
    "log_request()", "log_error()", "log_message()", "version_string()",
    "date_time_string()", "log_date_time_string()", "address_string()", "do_SPAM()",
    "SimpleHTTPRequestHandler", "directory", "extensions_map", "index_pages",
    "do_GET(), do_HEAD()", "guess_type()", "translate_path()", "list_directory()",
    "send_head()", "copyfile()",
    "CGIHTTPRequestHandler", "cgi_directories", "do_POST()", "is_cgi()", "is_executable()",
    "is_python()", "run_cgi()",
]
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "PYTHON NAMES AND THEIR C COUNTERPARTS",
            "THREADING", "ERRORS", "EXAMPLE", "SEE ALSO"]


def roff_text(source):
    """The page's source with font changes and the common escapes undone, for searching."""
    text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", source)
    for escape, plain in (("\\-", "-"), ("\\e", "\\"), ("\\(aq", "'"), ("\\&", ""),
                          ("\\(bu", "*")):
        text = text.replace(escape, plain)
    return text


def public_functions():
    """The functions include/httpserve.h declares, in order."""
    with open(HEADER, encoding="utf-8") as f:
        header = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    names = []
    for line in header.splitlines():
        if not line[:1].isalpha() or line.startswith("typedef"):
            continue
        m = re.search(r"\b(hs_\w+)\s*\(", line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def run(argv, source=None):
    return subprocess.run(argv, input=source, capture_output=True, timeout=TIMEOUT)


@unittest.skipUnless(shutil.which("groff") and shutil.which("tbl"),
                     "groff is not installed (apt-get install groff-base)")
class ManPagesRender(unittest.TestCase):
    """groff formats every page without a single warning."""

    def test_pages_exist(self):
        names = [os.path.basename(p) for p in PAGES]
        self.assertIn("httpserve.1", names)
        self.assertIn("libhttpserve.3", names)

    def test_typeset_without_warnings(self):
        for page in PAGES:
            with self.subTest(page=os.path.basename(page)):
                out = run(["groff", "-t", "-man", "-ww", "-z", page])
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stderr.decode(errors="replace"), "")

    def test_terminal_rendering_without_warnings(self):
        """As man(1) does: tbl, then nroff in UTF-8, paged and continuous, several widths."""
        for page in PAGES:
            with open(page, "rb") as f:
                source = f.read()
            for width in (60, 80, 120):
                for continuous in ("0", "1"):
                    with self.subTest(page=os.path.basename(page), width=width,
                                      continuous=continuous):
                        out = run(["groff", "-t", "-man", "-Tutf8", "-ww", "-z",
                                   f"-rLL={width}n", f"-rLT={width}n", f"-rcR={continuous}"],
                                  source)
                        self.assertEqual(out.returncode, 0, out.stderr)
                        self.assertEqual(out.stderr.decode(errors="replace"), "")

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc is not installed")
    def test_mandoc_lint(self):
        for page in PAGES:
            with self.subTest(page=os.path.basename(page)):
                out = run(["mandoc", "-T", "lint", "-W", "warning", page])
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


class LibraryPageIsComplete(unittest.TestCase):
    """libhttpserve.3 covers the whole public API and every Python name it maps."""

    @classmethod
    def setUpClass(cls):
        with open(LIBPAGE, encoding="utf-8") as f:
            cls.source = f.read()
        cls.text = roff_text(cls.source)

    def test_man_macros_and_sections(self):
        self.assertTrue(self.source.startswith("'\\\" t\n.TH LIBHTTPSERVE 3 "))
        self.assertNotRegex(self.source, r"(?m)^\.(Dd|Dt|Nm|Sh) ", "mdoc macros in a man page")
        headings = re.findall(r"(?m)^\.SH (.*)$", self.source)
        self.assertEqual(headings, SECTIONS)

    def test_every_public_function_is_documented(self):
        functions = public_functions()
        self.assertGreater(len(functions), 40, "the header's functions were not found")
        missing = [f for f in functions if not re.search(rf"\b{f}\b", self.text)]
        self.assertEqual(missing, [], "functions of httpserve.h that libhttpserve.3 omits")

    def test_every_python_name_is_mapped(self):
        mapped = self.source.split(".SH PYTHON NAMES", 1)[1].split(".SH THREADING", 1)[0]
        mapped = roff_text(mapped)
        missing = [n for n in PYTHON_NAMES if not re.search(rf"(?<![\w.]){re.escape(n)}",
                                                            mapped)]
        self.assertEqual(missing, [])

    @unittest.skipUnless(shutil.which(os.environ.get("CC", "cc")), "no C compiler")
    def test_the_example_compiles(self):
        library = os.path.join(harness.BUILD, "libhttpserve.a")
        if not os.path.exists(library):
            self.skipTest(f"{library} is not built")
        example = self.source.split(".SH EXAMPLE", 1)[1]
        code = roff_text(example.split(".EX\n", 1)[1].split(".EE\n", 1)[0])
        self.assertIn("int main(", code)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "example.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write(code)
            sanitize = (["-fsanitize=address,undefined"]
                        if os.environ.get("HTTPSERVE_E2E_SANITIZED") == "1" else [])
            out = run([os.environ.get("CC", "cc"), "-std=c17", "-D_GNU_SOURCE", "-Wall",
                       "-Wextra", "-Werror", "-pthread", *sanitize, "-I",
                       os.path.join(harness.REPO, "include"), src, "-o",
                       os.path.join(tmp, "example"), library, "-lssl", "-lcrypto"])
            self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))


if __name__ == "__main__":
    unittest.main()
