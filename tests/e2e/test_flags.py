"""test_flags.py: the everyday options that add to Python's server, each off by default.

-H/--header (Python 3.15's): the headers go on a file's 200 (and 206) and a listing's 200,
after the others, also when the file comes from the small-file cache, and never on errors,
redirects or 304s; a malformed argument is Python's usage error, and one holding CR or LF is
refused rather than sent. --cors and --cors-origin: Access-Control-Allow-Origin on every
response, preflights answered 204, the origin list echoing only its own origins with Vary:
Origin; OPTIONS stays Python's 501 without them. --spa: a missing path without an extension
gets the root's index.html (logged), an asset path still 404. --no-cache: Cache-Control on
every response. With none of them, no response carries any of these headers.
"""

import unittest

import harness

SPA_INDEX = b"<!DOCTYPE html>\n<title>app</title>\n<div id=app></div>\n"
FILES = {"index.html": SPA_INDEX, "emptydir/.keep": b"", "assets/app.js": b"run()\n"}
CORS_NAMES = ("access-control-allow-origin", "access-control-allow-methods",
              "access-control-allow-headers", "access-control-max-age")


def names(resp):
    return [k.lower() for k, _ in resp.headers]


def values(resp, name):
    return [v for k, v in resp.headers if k.lower() == name.lower()]


class FlagsCase(harness.ServerTestCase):
    def serve(self, *args, files=None):
        doc = self.docroot(dict(FILES, **(files or {})))
        server = self.start(harness.httpserve_target(), *args, root=doc.root)
        return doc, server

    def fetch(self, server, target, method="GET", headers=(), version="HTTP/1.0"):
        return harness.fetch(server.port, target, method=method, headers=headers, version=version)

    def responses(self, server, headers=()):
        """A 200 file, a 200 listing, a 404, a 301, a 304, a 206 and a HEAD: name -> response."""
        out = {
            "file": self.fetch(server, "/a.txt", headers=headers),
            "listing": self.fetch(server, "/emptydir/", headers=headers),
            "missing": self.fetch(server, "/nothing.txt", headers=headers),
            "redirect": self.fetch(server, "/sub", headers=headers),
            "range": self.fetch(server, "/a.txt", headers=list(headers) + [("Range", "bytes=0-3")]),
            "head": self.fetch(server, "/a.txt", method="HEAD", headers=headers),
        }
        etag = out["file"].header("ETag")
        out["not_modified"] = self.fetch(server, "/a.txt",
                                         headers=list(headers) + [("If-None-Match", etag)])
        codes = {k: r.code for k, r in out.items()}
        self.assertEqual(codes, {"file": 200, "listing": 200, "missing": 404, "redirect": 301,
                                 "range": 206, "head": 200, "not_modified": 304})
        return out


class ResponseHeaders(FlagsCase):
    def test_headers_on_files_and_listings_only(self):
        _, server = self.serve("-H", "X-One: 1", "--header", "X-Two:  two words  ",
                               "-HX-Three:a:b", "--header=X-Empty:")
        want = [("X-One", "1"), ("X-Two", "two words"), ("X-Three", "a:b"), ("X-Empty", "")]
        for kind, resp in self.responses(server).items():
            got = [(k, v) for k, v in resp.headers if k.startswith("X-")]
            if kind in ("file", "listing", "range", "head"):
                self.assertEqual(got, want, kind)
                # after every header of the response (Python 3.15 sends them last)
                self.assertEqual(resp.head_lines[-len(want):][0].split(":")[0], "X-One", kind)
            else:
                self.assertEqual(got, [], kind)

    def test_cached_small_file_keeps_them(self):
        _, server = self.serve("-p", "HTTP/1.1", "-H", "X-Cached: yes")
        client = self.connect(server.port)
        reqs = [harness.get("/page.html", "HTTP/1.1")] * 6
        for resp in harness.keep_alive(client, reqs, ["GET"] * 6):
            self.assertStatus(resp, 200)
            self.assertEqual(values(resp, "X-Cached"), ["yes"])

    def test_bad_arguments_are_usage_errors(self):
        cases = {
            "no-colon": "Header no-colon must be of the form Header: value",
            "": "Header  must be of the form Header: value",
            ":value": "Header :value must have a non-empty name",
            "  : value": "Header   : value must have a non-empty name",
            "X: a\rb": "argument -H/--header: invalid header 'X: a\\rb': a name or value holds CR or LF",
            "X: a\nInjected: yes": "argument -H/--header: invalid header 'X: a\\nInjected: yes': "
                                   "a name or value holds CR or LF",
            "X\r\nY: z": "argument -H/--header: invalid header 'X\\r\\nY: z': "
                         "a name or value holds CR or LF",
        }
        for arg, message in cases.items():
            status, out, err = harness.run_command(harness.httpserve_target(), ["-H", arg, "0"])
            self.assertEqual(status, 2, arg)
            self.assertEqual(out, "")
            lines = err.splitlines()
            self.assertEqual(len(lines), 2, err)
            self.assertTrue(lines[0].startswith("usage: httpserve "), err)
            self.assertEqual(lines[1], "httpserve: error: " + message)

    def test_surrounding_line_breaks_are_stripped_as_python_does(self):
        _, server = self.serve("-H", "\nX-Strip: v\r\n")
        self.assertEqual(values(self.fetch(server, "/a.txt"), "X-Strip"), ["v"])

    def test_help_names_every_flag(self):
        status, out, _ = harness.run_command(harness.httpserve_target(), ["--help"])
        self.assertEqual(status, 0)
        for flag in ("-H HEADER, --header HEADER", "--cors ", "--cors-origin ORIGIN", "--spa ",
                     "--no-cache "):
            self.assertIn(flag, out)


class Cors(FlagsCase):
    def test_any_origin_on_every_response(self):
        _, server = self.serve("--cors")
        for origin in ((), (("Origin", "http://elsewhere.example"),)):
            for kind, resp in self.responses(server, origin).items():
                self.assertEqual(values(resp, "Access-Control-Allow-Origin"), ["*"], kind)
                self.assertNotIn("Origin", " ".join(values(resp, "Vary")), kind)

    def preflight(self, server, origin, headers="", method="PUT", target="/a.txt"):
        hdrs = [("Origin", origin), ("Access-Control-Request-Method", method)]
        if headers is not None:
            hdrs.append(("Access-Control-Request-Headers", headers))
        return self.fetch(server, target, method="OPTIONS", headers=hdrs)

    def test_preflight(self):
        _, server = self.serve("--cors")
        resp = self.preflight(server, "http://a.example", "x-custom, content-type")
        self.assertStatus(resp, 204)
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(resp.header("Access-Control-Allow-Methods"), "GET, HEAD")
        self.assertEqual(resp.header("Access-Control-Allow-Headers"), "x-custom, content-type")
        self.assertEqual(resp.header("Access-Control-Max-Age"), "600")
        self.assertIn("Access-Control-Request-Headers", resp.header("Vary"))
        self.assertEqual(resp.body, b"")
        for bad in ("x y", "a,,b;c", "caf\u00e9".encode().decode("latin-1"), "a\tb", "(x)", ""):
            resp = self.preflight(server, "http://a.example", bad)
            self.assertStatus(resp, 204)
            self.assertIsNone(resp.header("Access-Control-Allow-Headers"), bad)
        self.assertIsNone(self.preflight(server, "http://a", None).header(
            "Access-Control-Allow-Headers"))

    def test_preflight_allows_post_with_cgi(self):
        _, server = self.serve("--cors", "--cgi")
        resp = self.preflight(server, "http://a.example", method="POST", target="/cgi-bin/x")
        self.assertEqual(resp.header("Access-Control-Allow-Methods"), "GET, HEAD, POST")

    def test_plain_options(self):
        _, server = self.serve("--cors")
        resp = self.fetch(server, "/a.txt", method="OPTIONS")
        self.assertStatus(resp, 204)
        self.assertEqual(resp.header("Allow"), "GET, HEAD, OPTIONS")
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), "*")

    def test_options_without_cors_is_pythons_501(self):
        _, server = self.serve()
        resp = self.fetch(server, "/a.txt", method="OPTIONS",
                          headers=[("Origin", "http://a"), ("Access-Control-Request-Method", "GET")])
        self.assertStatus(resp, 501)
        self.assertIn(b"Message: Unsupported method ('OPTIONS').", resp.body)

    def test_origin_list(self):
        _, server = self.serve("--cors-origin", "http://a.example:8080",
                               "--cors-origin", "HTTPS://B.example")
        for origin, echoed in [("http://a.example:8080", "http://a.example:8080"),
                               ("https://b.example", "HTTPS://B.example"),
                               ("http://a.example", None), ("http://a.example:8080.evil", None),
                               ("null", None), (None, None)]:
            hdrs = [("Origin", origin)] if origin else []
            for kind, resp in self.responses(server, hdrs).items():
                got = values(resp, "Access-Control-Allow-Origin")
                self.assertEqual(got, [echoed] if echoed else [], (origin, kind))
                self.assertIn("Origin", values(resp, "Vary"), (origin, kind))
            pre = self.preflight(server, origin or "http://x", "x-h")
            self.assertStatus(pre, 204)
            if echoed:
                self.assertEqual(pre.header("Access-Control-Allow-Origin"), echoed)
                self.assertEqual(pre.header("Access-Control-Allow-Headers"), "x-h")
            else:
                for name in CORS_NAMES:
                    self.assertIsNone(pre.header(name), (origin, name))


class Spa(FlagsCase):
    def test_missing_routes_get_the_index(self):
        _, server = self.serve("--spa")
        for target in ("/app", "/app/route", "/users/42/edit", "/app/route/", "/x?y=1.2",
                       "/deep/a/b/c/d", "/%C3%A9t%C3%A9"):
            for method in ("GET", "HEAD"):
                resp = self.fetch(server, target, method=method)
                self.assertStatus(resp, 200, target)
                self.assertEqual(resp.header("Content-type"), "text/html")
                self.assertEqual(resp.header("Content-Length"), str(len(SPA_INDEX)))
                self.assertEqual(resp.body, SPA_INDEX if method == "GET" else b"")
        server.wait_log(lambda line: "--spa: /app/route answered with /index.html" in line)

    def test_assets_and_real_paths_unchanged(self):
        _, server = self.serve("--spa")
        for target in ("/missing.js", "/assets/missing.css", "/app/v1.2", "/a.txt/x.y", "/.hidden"):
            self.assertStatus(self.fetch(server, target), 404, target)
        self.assertEqual(self.fetch(server, "/a.txt").body, b"hello, world\n")
        self.assertEqual(self.fetch(server, "/assets/app.js").body, b"run()\n")
        self.assertStatus(self.fetch(server, "/emptydir/"), 200)
        self.assertStatus(self.fetch(server, "/sub"), 301)

    def test_without_index_still_404(self):
        doc = self.docroot(FILES)
        server = self.start(harness.httpserve_target(), "--spa", root=doc.root + "/emptydir")
        self.assertStatus(self.fetch(server, "/route"), 404)
        self.assertStatus(self.fetch(server, "/"), 200)  # the listing, as before

    def test_off_by_default(self):
        _, server = self.serve()
        self.assertStatus(self.fetch(server, "/app/route"), 404)


class NoCache(FlagsCase):
    def test_every_response(self):
        _, server = self.serve("--no-cache")
        for kind, resp in self.responses(server).items():
            self.assertEqual(values(resp, "Cache-Control"), ["no-cache"], kind)

    def test_with_the_others(self):
        _, server = self.serve("--no-cache", "--cors", "-H", "X-A: 1", "-p", "HTTP/1.1")
        client = self.connect(server.port)
        reqs = [harness.get("/page.html", "HTTP/1.1")] * 4
        for resp in harness.keep_alive(client, reqs, ["GET"] * 4):
            self.assertEqual(values(resp, "Cache-Control"), ["no-cache"])
            self.assertEqual(values(resp, "Access-Control-Allow-Origin"), ["*"])
            self.assertEqual(values(resp, "X-A"), ["1"])


class AllOff(FlagsCase):
    def test_no_added_headers(self):
        _, server = self.serve()
        hdrs = [("Origin", "http://a.example")]
        for kind, resp in self.responses(server, hdrs).items():
            for name in CORS_NAMES + ("cache-control",):
                self.assertNotIn(name, names(resp), kind)


if __name__ == "__main__":
    unittest.main()
