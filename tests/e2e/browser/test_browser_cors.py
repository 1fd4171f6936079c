"""test_browser_cors.py: headless Chromium fetches across origins from httpserve's --cors.

A page served from http://127.0.0.1:A fetches a file from servers on another origin,
http://localhost:B (Chromium resolves localhost to loopback itself): once as a simple GET and
once with a custom header, which Chromium sends a preflight OPTIONS for. A server with --cors
and one whose --cors-origin names the page's origin answer both; one whose --cors-origin
names another origin, and one without CORS, are refused by the browser. The page reports
what it saw as /report?JSON on its own server, read back from the log.
"""

import json
import os
import unittest

import harness
from browser.test_browser import HeadlessChromium, REPORT_TIMEOUT, reports

PAGE = """<!DOCTYPE html>
<title>cors</title>
<script>
const servers = %s;
async function attempt(url, opts) {
  try {
    const r = await fetch(url, opts);
    return r.status + ":" + (await r.text()).trim();
  } catch (e) {
    return "refused";
  }
}
(async () => {
  const out = {};
  for (const [name, base] of Object.entries(servers)) {
    out[name + "/simple"] = await attempt(base + "/data.txt");
    out[name + "/preflight"] = await attempt(base + "/data.txt", {headers: {"X-Custom": "1"}});
  }
  await fetch("/report?" + encodeURIComponent(JSON.stringify(out)));
})();
</script>
"""


@harness.beyond_python("CORS, which Python lacks")
@unittest.skipIf(harness.VALGRIND, harness.BROWSER_UNDER_VALGRIND)
class CrossOriginFetch(harness.ServerTestCase):
    setUpClass = HeadlessChromium.__dict__["setUpClass"]
    start_browser = HeadlessChromium.start_browser
    stop_browser = HeadlessChromium.__dict__["stop_browser"]

    def test_allowed_and_refused_origins(self):
        page_doc = self.docroot()
        page_server = self.start(harness.httpserve_target(), root=page_doc.root)
        page_origin = f"http://127.0.0.1:{page_server.port}"
        data = self.docroot({"data.txt": b"shared\n"})
        flags = {
            "any": ["--cors"],
            "listed": ["--cors-origin", "http://other.example", "--cors-origin", page_origin],
            "unlisted": ["--cors-origin", "http://other.example"],
            "off": [],
        }
        servers = {name: self.start(harness.httpserve_target(), *args, root=data.root)
                   for name, args in flags.items()}
        bases = {name: f"http://localhost:{s.port}" for name, s in servers.items()}
        with open(os.path.join(page_doc.root, "cors.html"), "w", encoding="ascii") as f:
            f.write(PAGE % json.dumps(bases))
        self.start_browser(f"{page_origin}/cors.html")
        lines = page_server.wait_log(lambda ls: len(reports(ls)) >= 1, timeout=REPORT_TIMEOUT)
        got = reports(lines)
        if not got:
            self.fail(f"the page did not report within {REPORT_TIMEOUT}s")
        self.assertEqual(got[0], {
            "any/simple": "200:shared", "any/preflight": "200:shared",
            "listed/simple": "200:shared", "listed/preflight": "200:shared",
            "unlisted/simple": "refused", "unlisted/preflight": "refused",
            "off/simple": "refused", "off/preflight": "refused",
        })
        # the custom header made Chromium ask first: a 204 where CORS is on, 501 where off
        # (each server's log is read as it arrives: wait for the line, not just look)
        for name, code in (("any", 204), ("listed", 204), ("unlisted", 204), ("off", 501)):
            want = f'"OPTIONS /data.txt HTTP/1.1" {code} '
            lines = servers[name].wait_log(lambda ls: any(want in line for line in ls))
            self.assertIn(want, "\n".join(lines), name)


if __name__ == "__main__":
    unittest.main()
