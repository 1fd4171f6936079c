"""test_redirect_location.py: a directory's 301 never sends a browser to another site.

A directory asked for without its trailing slash is redirected to the same path with "/" added.
Every target below names the directory `subdir` (the words before a ".." are cancelled), but
spells its path so that a Location copied from it naively would begin with "//", "/\\", "\\" or
a scheme, or would become such once a browser's URL parser (WHATWG) has stripped leading
control bytes and spaces, deleted TAB, LF and CR, and read "\\" as "/". Each Location is
resolved against the URL of its request twice: by a small Python model of those WHATWG rules,
and by headless Chromium's own `new URL(location, base)`; both must give back the server's
origin. Ordinary paths keep Python's exact Location.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
from browser.test_browser import FLAGS, chromium_path

CHROMIUM_TIMEOUT = 60

# Targets whose Location must stay on this server (each names the directory subdir).
HOSTILE = [
    "/\\evil.example.com/..%2f/subdir",
    "/\\evil.example.com/../subdir",
    "/\\evil.example.com/../subdir?x=1",
    "\\evil.example.com/../subdir",
    "\\\\evil.example.com/../subdir",
    "\\/evil.example.com/../../subdir",
    "/\\/evil.example.com/../../subdir",
    "/\\\\evil.example.com/../subdir",
    "//\\evil.example.com/../subdir",
    "///\\evil.example.com/../subdir",
    "/./\\evil.example.com/../subdir",
    "/%5Cevil.example.com/../subdir",
    "/%5C%5Cevil.example.com/../subdir",
    "/%09/evil.example.com/../../subdir",
    "//evil.example.com/../subdir",
    "///evil.example.com/../subdir?x=1",
    "/.//evil.example.com/../subdir",
    "/\xe9\\evil.example.com/../subdir",
    "/subdir?next=\\\\evil.example.com",
    "http://evil.example.com/../../subdir",
]

# Targets with a scheme but no "//" authority: refused as request targets (400), or, if a
# later change serves them, redirected with a Location that stays here.
SCHEMES = [
    "https:evil.example.com/../subdir",
    "http:\\\\evil.example.com/../subdir",
    "x:\\\\evil.example.com/../subdir",
]

# Control bytes in the request line: answered either with a 301 whose Location stays here, or
# refused with 400 (RFC 9112 forbids them; TAB even splits the line into more words).
CONTROL = [
    "\x01\\\\evil.example.com/../subdir",
    "\x01//evil.example.com/../../subdir",
    "/\x01/evil.example.com/../../subdir",
    "/\x1f\\evil.example.com/../subdir",
    "/\x7f\\evil.example.com/../subdir",
    "/\t/evil.example.com/../subdir",
    "/\t\\evil.example.com/../subdir",
]

# Ordinary paths: exactly Python's Location.
ORDINARY = {
    "/subdir": "/subdir/",
    "/subdir?x=1": "/subdir/?x=1",
    "/subdir?a=b&c=%2F#f": "/subdir/?a=b&c=%2F#f",
    "/a%20b": "/a%20b/",
    "/sub/../subdir": "/sub/../subdir/",
    "//subdir": "/subdir/",
}

SPECIAL_SCHEMES = {"http", "https", "ws", "wss", "ftp"}  # and file, whose origin is opaque


def request_url(port, target):
    """The URL a browser would have asked for: the origin, then the target as a path."""
    return f"http://127.0.0.1:{port}" + ("" if target.startswith("/") else "/") + target


def browser_origin(location, base):
    """The origin of location resolved against base (an http URL), as the WHATWG URL parser
    finds it: only the rules that can move a reference off its base's origin are modelled.
    Returns "scheme://host[:port]", or "null" (an opaque origin) for a scheme that is not
    special."""
    base_scheme, base_rest = base.split(":", 1)
    base_origin = base_scheme + "://" + re.split(r"[/\\?#]", base_rest[2:], maxsplit=1)[0]
    s = location.strip("".join(map(chr, range(0x21))))
    s = re.sub(r"[\t\n\r]", "", s)
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", s)
    if scheme:
        name = scheme.group()[:-1].lower()
        rest = s[scheme.end():]
        if name != base_scheme or name not in SPECIAL_SCHEMES:
            if name not in SPECIAL_SCHEMES:
                return "null"
            return name + "://" + authority(rest)
        if rest.startswith("//"):
            return name + "://" + authority(rest)
        s = rest  # "http:path" against an http base is relative
    if len(s) >= 2 and s[0] in "/\\" and s[1] in "/\\":
        return base_scheme + "://" + authority(s)
    return base_origin


def authority(s):
    """The host[:port] after any number of "/" or "\\" (special schemes), without userinfo."""
    s = s.lstrip("/\\")
    auth = re.split(r"[/\\?#]", s, maxsplit=1)[0]
    return auth.rpartition("@")[2].lower()


def chromium_origins(chromium, pairs):
    """new URL(location, base).origin in headless Chromium for each (location, base), or
    "error: ..." where it throws. Raises SkipTest when the browser cannot run here."""
    work = tempfile.mkdtemp(prefix="httpserve-chromium-")
    try:
        page = os.path.join(work, "resolve.html")
        data = json.dumps(pairs).replace("<", "\\u003c")
        with open(page, "w", encoding="ascii") as f:
            f.write("<!DOCTYPE html>\n<pre id=out></pre>\n<script>\n"
                    f"const pairs = {data};\n"
                    "document.getElementById('out').textContent = JSON.stringify(pairs.map("
                    "([loc, base]) => { try { return new URL(loc, base).origin; } "
                    "catch (e) { return 'error: ' + e.message; } }));\n</script>\n")
        argv = [chromium, *FLAGS, f"--user-data-dir={os.path.join(work, 'profile')}",
                "--dump-dom", "file://" + page]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=harness.KILL_TIMEOUT)
            raise AssertionError(f"chromium did not finish within {CHROMIUM_TIMEOUT}s")
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # helpers it may have left behind
            except ProcessLookupError:
                pass
        m = re.search(rb"<pre id=\"out\">(.*?)</pre>", out, re.S)
        if not m:
            raise AssertionError(f"chromium printed no results (exit {proc.returncode}):\n"
                                 f"{out[-2000:]!r}\n{err[-2000:].decode(errors='replace')}")
        text = m.group(1).decode()
        for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
            text = text.replace(entity, char)
        return json.loads(text)
    finally:
        shutil.rmtree(work, True)


@harness.beyond_python("a safe Location where Python's can lead off-site")
class RedirectLocationStaysHere(harness.ServerTestCase):
    """Every 301 for a directory names a place on this server, for browsers too."""

    @classmethod
    def setUpClass(cls):
        doc = cls.class_docroot({"subdir/inner.txt": b"inner\n", "a b/inner.txt": b"ab\n"})
        cls.server = cls.class_start(harness.httpserve_target(), root=doc.root)
        cls.port = cls.server.port
        cls.origin = f"http://127.0.0.1:{cls.port}"
        cls.answers = {t: harness.fetch(cls.port, t) for t in HOSTILE + SCHEMES + CONTROL}

    def redirects(self):
        """(target, Location, base URL) of every 301 among the answers."""
        return [(t, r.header("Location"), request_url(self.port, t))
                for t, r in self.answers.items() if r.code == 301]

    def test_each_target_is_redirected_or_refused(self):
        for target, resp in self.answers.items():
            with self.subTest(target=target):
                allowed = {301} if target in HOSTILE else {301, 400}
                self.assertIn(resp.code, allowed, resp.status_line)
                if resp.code == 301:
                    self.assertIsNotNone(resp.header("Location"))
                else:
                    self.assertIsNone(resp.header("Location"))

    def test_location_stays_on_this_origin_by_the_whatwg_rules(self):
        for target, location, base in self.redirects():
            with self.subTest(target=target, location=location):
                self.assertEqual(browser_origin(location, base), self.origin)
                self.assertFalse(re.match(r"[\x00-\x20]*[/\\][\t\n\r]*[/\\]", location))
                self.assertFalse(re.search(r"[\x00-\x1f\x7f]", location),
                                 "a control byte in the field value")

    def test_location_stays_on_this_origin_in_chromium(self):
        chromium = chromium_path()
        if not chromium:
            raise unittest.SkipTest("chromium is not installed and cannot be installed here "
                                    "(.ci/run installs it with apt-get)")
        cases = self.redirects()
        origins = chromium_origins(chromium, [[loc, base] for _, loc, base in cases])
        self.assertEqual(len(origins), len(cases))
        for (target, location, base), origin in zip(cases, origins):
            with self.subTest(target=target, location=location):
                self.assertEqual(origin, self.origin)
                # the Python model agrees with the browser
                self.assertEqual(browser_origin(location, base), origin)

    def test_the_model_agrees_with_chromium_on_unsafe_references(self):
        """The Python model is checked against the browser on references that do leave."""
        chromium = chromium_path()
        if not chromium:
            raise unittest.SkipTest("chromium is not installed and cannot be installed here "
                                    "(.ci/run installs it with apt-get)")
        base = self.origin + "/subdir"
        refs = ["//evil.example.com/x", "/\\evil.example.com/x", "\\/evil.example.com/x",
                "\\\\evil.example.com/x", " \x01//evil.example.com/", "/\t/evil.example.com/",
                "\t\\\n\\evil.example.com", "http:///evil.example.com/", "http:\\\\evil.example.com",
                "https:evil.example.com", "http:evil.example.com", "x:evil", "/%5Cevil/x",
                "/a\\b", "\\evil.example.com/x", "/./\\evil/x", "HTTP://u@Evil.Example.com/x"]
        origins = chromium_origins(chromium, [[ref, base] for ref in refs])
        for ref, origin in zip(refs, origins):
            with self.subTest(ref=ref):
                self.assertEqual(browser_origin(ref, base), origin)


class OrdinaryRedirectsAsPython(harness.ServerTestCase):
    """An ordinary path's Location is Python's, byte for byte (runs against python3 too)."""

    def test_ordinary_paths_keep_pythons_location(self):
        doc = self.docroot({"subdir/inner.txt": b"inner\n", "a b/inner.txt": b"ab\n"})
        server = self.start(harness.httpserve_target(), root=doc.root)
        for target, want in ORDINARY.items():
            with self.subTest(target=target):
                resp = harness.fetch(server.port, target)
                self.assertEqual(resp.code, 301, resp.status_line)
                self.assertEqual(resp.header("Location"), want)
                self.assertEqual(resp.header("Content-Length"), "0")


if __name__ == "__main__":
    unittest.main()
