"""test_browser_listing.py: headless Chromium looks at the rich listing (--listing rich).

A directory of 10,000 files and a few names in several scripts (Latin with accents, CJK,
Arabic, emoji, and HTML's special characters) is listed by httpserve; Chromium dumps the DOM
(--dump-dom) and takes screenshots (--screenshot) in light and dark mode
(--blink-settings=preferredColorScheme). The DOM must hold every name unescaped once, in the
order the query string asks; the light page's background must be light and the dark one's
dark (the page declares color-scheme: light dark, as Python 3.14's pages do); the 10,000-entry
page must render within a generous bound. Screenshots are kept in $HTTPSERVE_SCREENSHOTS when
set (else a temporary directory). Chromium runs as test_browser.py runs it, and the test is
skipped where it is missing.
"""

import html.parser
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

import harness
from browser.test_browser import FLAGS, chromium_path

RENDER_TIMEOUT = 120  # seconds for one Chromium run (instrumented servers are slow)
MANY = 10000
NAMES = ["Ünïcödé façade.txt", "漢字かな.txt", "العربية.txt", "😀 emoji.txt", "a&b <c> \"q\".txt"]


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, color {color}")
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def luminance(rgb):
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class Rows(html.parser.HTMLParser):
    """The link texts of the table's rows, in order, as the DOM holds them."""

    def __init__(self):
        super().__init__()
        self.names, self.in_cell_link, self.cell = [], False, 0

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.cell = 0
        elif tag == "td":
            self.cell += 1
        elif tag == "a" and self.cell == 1:
            self.in_cell_link = True
            self.names.append("")

    def handle_endtag(self, tag):
        if tag == "a":
            self.in_cell_link = False

    def handle_data(self, data):
        if self.in_cell_link:
            self.names[-1] += data


@harness.beyond_python("the rich listing is httpserve's")
@unittest.skipIf(harness.VALGRIND, harness.BROWSER_UNDER_VALGRIND)
class BrowserListing(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.chromium = chromium_path()
        if not cls.chromium:
            raise unittest.SkipTest("chromium is not installed and cannot be installed here")
        cls.base = tempfile.mkdtemp(prefix="httpserve-browser-listing-")
        cls.addClassCleanup(harness.remove_tree, cls.base)
        cls.shots = os.environ.get("HTTPSERVE_SCREENSHOTS") or os.path.join(cls.base, "shots")
        os.makedirs(cls.shots, exist_ok=True)
        root = os.path.join(cls.base, "root")
        os.makedirs(os.path.join(root, "many"))
        os.makedirs(os.path.join(root, "scripts", "a folder"))
        for i, name in enumerate(NAMES):
            with open(os.path.join(root, "scripts", name), "wb") as f:
                f.write(b"x" * (10 ** i))
        for i in range(MANY):
            open(os.path.join(root, "many", "file-%05d.txt" % i), "wb").close()
        cls.server = cls.class_start(harness.httpserve_target(), "--listing", "rich", root=root)

    def run_chromium(self, url, *args):
        """Runs Chromium once on url with args in a fresh profile; (stdout, seconds)."""
        profile = tempfile.mkdtemp(prefix="httpserve-chromium-", dir=self.base)
        argv = [self.chromium, *FLAGS, f"--user-data-dir={profile}", *args, url]
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True, cwd=profile)
        try:
            out, _ = proc.communicate(timeout=RENDER_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            self.fail(f"chromium did not finish {url} within {RENDER_TIMEOUT}s")
        shutil.rmtree(profile, ignore_errors=True)
        return out, time.monotonic() - started

    def url(self, path):
        return f"http://127.0.0.1:{self.server.port}{path}"

    def screenshot(self, path, name, scheme, size="1000,700"):
        out = os.path.join(self.shots, name)
        if os.path.exists(out):
            os.remove(out)
        self.run_chromium(self.url(path), f"--screenshot={out}", f"--window-size={size}",
                      "--hide-scrollbars", f"--blink-settings=preferredColorScheme={scheme}")
        self.assertTrue(os.path.exists(out), f"no screenshot {out}")
        return read_png(out)

    def test_dom_holds_every_name_in_order(self):
        for query, want in (("", ["../", "a folder/"] + sorted(NAMES, key=str.lower)),
                            ("?sort=size&order=desc", ["../", "a folder/"] + NAMES[::-1])):
            dom, _ = self.run_chromium(self.url("/scripts/" + query), "--dump-dom")
            rows = Rows()
            rows.feed(dom.decode("utf-8"))
            self.assertEqual(rows.names, want, query)
            self.assertIn("a&amp;b &lt;c&gt; \"q\".txt", dom.decode("utf-8"))

    def test_light_and_dark(self):
        # preferredColorScheme: 0 dark, 1 light (Blink's enumeration)
        _, _, light = self.screenshot("/scripts/", "listing-light.png", 1)
        _, _, dark = self.screenshot("/scripts/", "listing-dark.png", 0)
        corner_light, corner_dark = luminance(light[5][990]), luminance(dark[5][990])
        self.assertGreater(corner_light, 200, "light page background")
        self.assertLess(corner_dark, 60, "dark page background")
        # text is drawn in both: some pixels of each differ from their background
        for rows, bg in ((light, light[5][990]), (dark, dark[5][990])):
            self.assertTrue(any(px != bg for row in rows[:200] for px in row[:400]))

    def test_ten_thousand_entries(self):
        dom, seconds = self.run_chromium(self.url("/many/?sort=name&order=desc"), "--dump-dom")
        rows = Rows()
        rows.feed(dom.decode("utf-8"))
        self.assertEqual(len(rows.names), MANY + 1)
        self.assertEqual(rows.names[:3], ["../", "file-09999.txt", "file-09998.txt"])
        self.assertEqual(rows.names[-1], "file-00000.txt")
        self.assertLess(seconds, RENDER_TIMEOUT / 2, "the 10,000-entry page rendered too slowly")
        _, _, pixels = self.screenshot("/many/", "listing-many-dark.png", 0)
        self.assertLess(luminance(pixels[5][990]), 60)
