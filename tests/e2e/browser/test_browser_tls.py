"""test_browser_tls.py: headless Chromium against httpserve over HTTPS.

httpserve serves a test certificate (ECDSA P-256 for localhost and 127.0.0.1, made with the
openssl command). Chromium trusts that one key only: --ignore-certificate-errors-spki-list
names the SHA-256 of its SubjectPublicKeyInfo (the flag takes effect with --user-data-dir,
which test_browser gives every run), so any other certificate would still be refused, unlike
--ignore-certificate-errors. The page, loaded from https://127.0.0.1, imports an ES module
(served as text/javascript, which module scripts require), seeks and plays the two-minute
WAV file of test_browser (byte ranges, over TLS), and fetches the directory listing of /dir/,
then reports what it saw by requesting /report?JSON, read back from the server's log. Skipped
with a message when chromium is missing and cannot be installed.
"""

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from browser import test_browser as plain

OPENSSL = shutil.which("openssl")
REPORT_TIMEOUT = plain.REPORT_TIMEOUT

PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>httpserve over HTTPS</title></head>
<body>
<audio id="media" preload="metadata" src="tone.wav"></audio>
<script type="module">
import { seekAndPlay, listing } from "./lib/page.mjs";

const out = {protocol: location.protocol, secure: window.isSecureContext, module: true};
try { out.media = await seekAndPlay(document.getElementById("media")); }
catch (e) { out.media_error = String(e); }
try { out.listing = await listing("/dir/"); } catch (e) { out.listing_error = String(e); }
await fetch("/report?" + encodeURIComponent(JSON.stringify(out)));
</script>
</body>
</html>
"""

MODULE = b"""// page.mjs: what the HTTPS page imports.
function event(target, name, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no " + name + " within " + ms + " ms")), ms);
    target.addEventListener(name, () => { clearTimeout(timer); resolve(); }, {once: true});
  });
}

export async function seekAndPlay(media) {
  if (media.readyState < 1)
    await event(media, "loadedmetadata", 20000);
  const out = {duration: media.duration,
               seekable_end: media.seekable.length ? media.seekable.end(0) : -1};
  out.target = media.duration - 2;
  const seeked = event(media, "seeked", 20000);
  media.currentTime = out.target;
  await seeked;
  out.after_seek = media.currentTime;
  try {
    await media.play();
    await event(media, "timeupdate", 10000);
    out.played_to = media.currentTime;
  } catch (e) {
    out.play_error = String(e);
  }
  media.pause();
  return out;
}

export async function listing(path) {
  const resp = await fetch(path);
  const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
  return {status: resp.status, type: resp.headers.get("Content-Type"),
          title: doc.title, names: [...doc.querySelectorAll("li a")].map(a => a.textContent)};
}
"""

LISTED = ["a b.txt", "one.txt", "sub/"]


def spki_sha256(crt):
    """The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium wants it."""
    pub = subprocess.run([OPENSSL, "x509", "-in", crt, "-noout", "-pubkey"], check=True,
                         capture_output=True, timeout=30).stdout
    der = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@unittest.skipUnless(OPENSSL, "the openssl command is not installed (apt-get install openssl)")
@harness.beyond_python("HTTPS with ranges, which Python lacks")
@unittest.skipIf(harness.VALGRIND, harness.BROWSER_UNDER_VALGRIND)
class HeadlessChromiumHTTPS(harness.ServerTestCase):
    """A real browser over HTTPS: a module import, a media seek, a listing."""

    setUpClass = plain.HeadlessChromium.__dict__["setUpClass"]
    stop_browser = plain.HeadlessChromium.__dict__["stop_browser"]

    def test_module_media_and_listing_over_https(self):
        import test_tls  # the certificate maker of the TLS tests
        certs = tempfile.mkdtemp(prefix="httpserve-tls-")
        self.addCleanup(shutil.rmtree, certs, True)
        crt, key = test_tls.make_cert(certs, "server")
        doc = self.docroot({"page.html": PAGE, "lib/page.mjs": MODULE,
                            "dir/one.txt": b"1\n", "dir/a b.txt": b"2\n", "dir/sub/x": b"3\n"})
        plain.write_tone(os.path.join(doc.root, "tone.wav"))
        server = self.start(harness.httpserve_target(), "-p", "HTTP/1.1", "--tls-cert", crt,
                            "--tls-key", key, root=doc.root)
        self.assertIn("Serving HTTPS", server.banner.line)
        flags = [f"--ignore-certificate-errors-spki-list={spki_sha256(crt)}"]
        browser_log = self.start_browser(flags, f"https://127.0.0.1:{server.port}/page.html")
        lines = server.wait_log(lambda ls: len(plain.reports(ls)) >= 1, timeout=REPORT_TIMEOUT)
        got = plain.reports(lines)
        if not got:
            with open(browser_log, "rb") as f:
                tail = f.read()[-3000:].decode(errors="replace")
            self.fail(f"the page did not report within {REPORT_TIMEOUT}s\nserver log:\n" +
                      "\n".join(lines[-30:]) + f"\nchromium:\n{tail}")
        out = got[0]
        self.assertEqual((out["protocol"], out["secure"], out["module"]), ("https:", True, True))
        self.assertEqual(plain.request_codes(lines, "/lib/page.mjs"), [200])
        self.assertNotIn("media_error", out, out)
        media = out["media"]
        self.assertAlmostEqual(media["duration"], plain.SECONDS, delta=0.1)
        self.assertAlmostEqual(media["seekable_end"], plain.SECONDS, delta=0.1,
                               msg="the whole file is seekable: ranges are supported")
        self.assertAlmostEqual(media["after_seek"], media["target"], delta=0.5)
        self.assertNotIn("play_error", media, media)
        self.assertGreaterEqual(media["played_to"], media["target"] - 0.5)
        codes = plain.request_codes(lines, "/tone.wav")
        self.assertTrue(codes.count(206) >= 2 and set(codes) <= {206, 304},
                        f"media requests answered {codes}")
        self.assertNotIn("listing_error", out, out)
        self.assertEqual(out["listing"], {"status": 200, "type": "text/html; charset=utf-8",
                                          "title": "Directory listing for /dir/",
                                          "names": LISTED})

    def start_browser(self, flags, url):
        """test_browser's Chromium, its flags and a fresh profile, with flags added."""
        profile = tempfile.mkdtemp(prefix="httpserve-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        log_path = os.path.join(profile, "chromium.log")
        log = open(log_path, "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([self.chromium, *plain.FLAGS, *flags,
                                 f"--user-data-dir={profile}", url],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        self.addCleanup(self.stop_browser, proc)
        return log_path


if __name__ == "__main__":
    unittest.main()
