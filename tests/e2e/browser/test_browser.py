"""test_browser.py: headless Chromium against httpserve's ranges and validators.

Debian's chromium loads media.html from httpserve: it seeks and plays a two-minute WAV file
(Chromium fetches media by byte ranges, so seeking needs 206 answers), revalidates a cached page
with If-None-Match (304), then reloads the page itself (304 again). The page reports what it saw
by requesting /report?JSON, read back from the server's log. Chromium is installed with apt-get
here when missing (as root), as .ci/run installs it; it runs with the flags this machine needs
(no sandbox, no GPU, no background networking) and a fresh profile, and is killed by its own
process group at the end.
"""

import json
import math
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import wave

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "chromium"
INSTALL_TIMEOUT = 240
REPORT_TIMEOUT = 60
SECONDS = 120
RATE = 22050
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
CACHED_PAGE = b"<!DOCTYPE html>\n<title>cached</title>\n<p>revalidate me</p>\n"


def chromium_path():
    """The chromium binary, installed with apt-get first when missing and allowed."""
    found = shutil.which(CHROMIUM)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", CHROMIUM], env=env, timeout=INSTALL_TIMEOUT,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which(CHROMIUM)


def write_tone(path):
    """SECONDS of a 440 Hz tone, mono 16-bit PCM: large enough that Chromium fetches it in
    ranges rather than whole."""
    period = [int(8000 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(RATE)]
    second = struct.pack(f"<{RATE}h", *period)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(second * SECONDS)


def reports(lines):
    """The JSON objects the page requested as /report?..., in order."""
    out = []
    for line in lines:
        m = harness.LOG_LINE_RE.fullmatch(line)
        if m and m["message"].startswith('"GET /report?'):
            query = m["message"].split(" ", 2)[1].split("?", 1)[1]
            out.append(json.loads(urllib.parse.unquote(query)))
    return out


def request_codes(lines, target):
    """The status codes of the logged GETs of target, in order."""
    codes = []
    for line in lines:
        m = harness.LOG_LINE_RE.fullmatch(line)
        if m and m["message"].startswith(f'"GET {target} HTTP/'):
            codes.append(int(m["message"].rsplit(" ", 2)[1]))
    return codes


@harness.beyond_python("ranges and validators, which Python lacks")
@unittest.skipIf(harness.VALGRIND, harness.BROWSER_UNDER_VALGRIND)
class HeadlessChromium(harness.ServerTestCase):
    """A real browser seeks a media file and revalidates cached pages."""

    @classmethod
    def setUpClass(cls):
        cls.chromium = chromium_path()
        if not cls.chromium:
            raise unittest.SkipTest("chromium is not installed and cannot be installed here "
                                    "(.ci/run installs it with apt-get)")

    def start_browser(self, url):
        profile = tempfile.mkdtemp(prefix="httpserve-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        log = open(os.path.join(profile, "chromium.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([self.chromium, *FLAGS, f"--user-data-dir={profile}", url],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        self.addCleanup(self.stop_browser, proc)
        return proc, os.path.join(profile, "chromium.log")

    @staticmethod
    def stop_browser(proc):
        """Kills the browser's own process group (it was started as its leader)."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(harness.KILL_TIMEOUT)

    def test_seek_media_and_revalidate_with_304(self):
        with open(os.path.join(HERE, "media.html"), "rb") as f:
            page = f.read()
        doc = self.docroot({"media.html": page, "cached.html": CACHED_PAGE})
        write_tone(os.path.join(doc.root, "tone.wav"))
        server = self.start(harness.httpserve_target(), "-p", "HTTP/1.1", root=doc.root)
        proc, browser_log = self.start_browser(f"http://127.0.0.1:{server.port}/media.html")
        lines = server.wait_log(lambda ls: len(reports(ls)) >= 2, timeout=REPORT_TIMEOUT)
        got = reports(lines)
        if len(got) < 2:
            with open(browser_log, "rb") as f:
                tail = f.read()[-3000:].decode(errors="replace")
            self.fail(f"the page did not report twice within {REPORT_TIMEOUT}s: {got}\n"
                      f"server log:\n" + "\n".join(lines[-30:]) + f"\nchromium:\n{tail}")
        first = got[0]
        self.assertNotIn("media_error", first, first)
        media = first["media"]
        self.assertAlmostEqual(media["duration"], SECONDS, delta=0.1)
        self.assertAlmostEqual(media["seekable_end"], SECONDS, delta=0.1,
                               msg="the whole file is seekable: ranges are supported")
        self.assertAlmostEqual(media["after_seek"], media["target"], delta=0.5)
        self.assertNotIn("play_error", media, media)
        self.assertGreaterEqual(media["played_to"], media["target"] - 0.5)
        codes = request_codes(lines, "/tone.wav")
        # preload="metadata": the first range request stalls after the head of the file, so
        # the seek needs a second one; a range Chromium has cached is revalidated (304).
        self.assertTrue(codes.count(206) >= 2 and set(codes) <= {206, 304},
                        f"media requests answered {codes}")
        self.assertNotIn("cache_error", first, first)
        self.assertEqual(first["cache"], {"first": 200, "second": 200, "same_body": True,
                                          "length": len(CACHED_PAGE)})
        self.assertEqual(request_codes(lines, "/cached.html"), [200, 304],
                         "the second fetch revalidated the cached page")
        self.assertEqual(got[1], {"reloaded": True})
        self.assertEqual(request_codes(lines, "/media.html"), [200, 304],
                         "reloading revalidated the page itself")


if __name__ == "__main__":
    unittest.main()
