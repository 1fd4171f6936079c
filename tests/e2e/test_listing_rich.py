"""test_listing_rich.py: --listing python|rich|off.

python (the default) is Python's page byte for byte, compared with python3 -m http.server on
the same directory. off answers a directory without an index page with 404, while index pages,
files and the directory redirect go on as before. rich lists names, sizes and times, sorted by
the query string both ways with directories first, with every name escaped, links marked as
Python marks them, a parent row below the root, and the same entries as JSON for
Accept: application/json; HEAD has GET's head. A rich page is cached like Python's, so the
very next listing after a change shows it, and a file grown in place shows its new size
within a second.
"""

import json
import os
import re
import shutil
import tempfile
import time

import harness

TARGET = harness.httpserve_target()
SETTLE = 2.2  # seconds after the last change before a listing may be cached

NAMES = {  # name: size
    "a.txt": 10,
    "B.txt": 3000,
    "c d&<e>\"q'.txt": 1,
    "Ünïcödé.txt": 200,
    "漢字.txt": 40,
    "العربية.txt": 5,
    "😀.txt": 2000000,
}
DIRS = ("sub", "Zdir")


def populate(root):
    os.makedirs(root)
    for i, (name, size) in enumerate(sorted(NAMES.items())):
        path = os.path.join(root, name)
        with open(path, "wb") as f:
            f.write(b"x" * size)
        os.utime(path, (1000000000 + i * 1000, 1000000000 + i * 1000))
    for name in DIRS:
        os.makedirs(os.path.join(root, name))
    os.symlink("a.txt", os.path.join(root, "link"))
    os.symlink("sub", os.path.join(root, "linkdir"))


def row_names(body):
    """The link texts of the rich page's rows, in order (the parent row left out)."""
    text = body.decode("utf-8")
    rows = re.findall(r'<tr><td><a href="([^"]*)">([^<]*)</a>', text)
    return [t for h, t in rows if h != "../"]


def unescape(text):
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@harness.beyond_python("--listing is httpserve's")
class RichListing(harness.ServerTestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="httpserve-rich-")
        cls.addClassCleanup(harness.remove_tree, cls.base)
        cls.root = os.path.join(cls.base, "root")
        populate(cls.root)
        os.makedirs(os.path.join(cls.root, "withindex"))
        with open(os.path.join(cls.root, "withindex", "index.html"), "wb") as f:
            f.write(b"<p>index</p>\n")
        cls.rich = cls.class_start(TARGET, "--listing", "rich", root=cls.root)

    def get(self, target, headers=(), method="GET", server=None):
        return harness.fetch((server or self.rich).port, target, method=method, headers=headers)

    # ------------------------------------------------------------ python and off

    def test_python_is_the_default_and_pythons_page(self):
        python = self.start(harness.python_target(), root=self.root)
        default = self.start(TARGET, root=self.root)
        named = self.start(TARGET, "--listing", "python", root=self.root)
        for target in ("/", "/sub/", "/?sort=size&order=desc"):
            want = self.get(target.split("?")[0], server=python)
            self.assertStatus(want, 200)
            for server in (default, named):
                got = self.get(target, server=server)
                self.assertStatus(got, 200)
                self.assertEqual(got.body, want.body, target)
                self.assertIsNone(got.header("Vary"))
                json_asked = self.get(target, headers=[("Accept", "application/json")],
                                      server=server)
                self.assertEqual(json_asked.body, want.body, "python mode has no JSON")

    def test_off_answers_404_for_a_listing_only(self):
        off = self.start(TARGET, "--listing", "off", root=self.root)
        for target in ("/", "/sub/", "/Zdir/", "/?sort=size", "/linkdir/"):
            for method in ("GET", "HEAD"):
                resp = self.get(target, method=method, server=off)
                self.assertStatus(resp, 404, f"{method} {target}")
                self.assertNotIn(b"<li>", resp.body)
        resp = self.get("/withindex/", server=off)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, b"<p>index</p>\n")
        self.assertStatus(self.get("/a.txt", server=off), 200)
        redirect = self.get("/sub", server=off)
        self.assertStatus(redirect, 301)
        self.assertEqual(redirect.header("Location"), "/sub/")

    def test_bad_value_is_a_usage_error(self):
        for value in ("fancy", "", "RICH"):
            status, _, err = harness.run_command(TARGET, ["--listing", value])
            self.assertEqual(status, 2, value)
            self.assertIn(f"argument --listing: invalid choice: '{value}' "
                          "(choose from 'python', 'rich', 'off')", err)

    # ------------------------------------------------------------ rich HTML

    def test_rich_page(self):
        resp = self.get("/")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.header("Content-type"), "text/html; charset=utf-8")
        self.assertEqual(resp.header("Vary"), "Accept")
        self.assertEqual(int(resp.header("Content-Length")), len(resp.body))
        text = resp.body.decode("utf-8")
        self.assertIn("<title>Directory listing for /</title>", text)
        self.assertIn("color-scheme: light dark;", text)
        self.assertNotIn("<script", text)
        self.assertNotIn('href="../"', text, "no parent above the root")
        # every name escaped in text and link; links marked as Python marks them
        self.assertIn('<a href="c%20d%26%3Ce%3E%22q%27.txt">c d&amp;&lt;e&gt;"q\'.txt</a>', text)
        self.assertIn('<a href="%E6%BC%A2%E5%AD%97.txt">漢字.txt</a>', text)
        self.assertIn('<a href="link">link@</a>', text)
        self.assertIn('<a href="linkdir/">linkdir@</a>', text)
        self.assertIn('<a href="sub/">sub/</a><td>-<td>', text)
        self.assertIn('<td title="3000 bytes">2.9 KiB<td>', text)
        self.assertIn('<td title="2000000 bytes">1.9 MiB<td>', text)
        self.assertRegex(text, r'<a href="a.txt">a.txt</a><td title="10 bytes">10 B'
                               r"<td>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n")
        sub = self.get("/sub/")
        self.assertIn(b'<tr><td><a href="../">../</a>', sub.body)

    def expected_order(self, sort, desc):
        """Directories (links to one included) first, by name; then files by the key."""
        root = self.root
        entries = []
        for name in os.listdir(root):
            path = os.path.join(root, name)
            st = os.stat(path)
            entries.append((os.path.isdir(path), name, st.st_size, os.lstat(path).st_mtime_ns,
                            os.path.islink(path)))
        dirs = sorted((e for e in entries if e[0]), key=lambda e: e[1].lower(),
                      reverse=desc and sort == "name")
        if sort == "time":
            dirs = sorted(dirs, key=lambda e: e[3], reverse=desc)
        files = sorted((e for e in entries if not e[0]), key=lambda e: e[1].lower())
        if sort == "name":
            files = sorted(files, key=lambda e: e[1].lower(), reverse=desc)
        else:
            files = sorted(files, key=lambda e: e[2] if sort == "size" else e[3], reverse=desc)
        return [e[1] + ("@" if e[4] else "/" if e[0] else "") for e in dirs + files]

    def test_sorting_by_the_query_string(self):
        for sort in ("name", "size", "time"):
            for order in ("asc", "desc"):
                target = f"/?sort={sort}&order={order}"
                resp = self.get(target)
                self.assertStatus(resp, 200, target)
                got = [unescape(n) for n in row_names(resp.body)]
                self.assertEqual(got, self.expected_order(sort, order == "desc"), target)
                # the sorted column's head links to its other order
                other = "asc" if order == "desc" else "desc"
                self.assertIn(f'<a href="?sort={sort}&amp;order={other}">'.encode(), resp.body)
        # no query, or an unknown one: by name, ascending
        for target in ("/", "/?sort=nope&order=up", "/?order=asc"):
            names = [unescape(n) for n in row_names(self.get(target).body)]
            self.assertEqual(names, self.expected_order("name", False), target)

    def test_head_has_the_get_head(self):
        for target in ("/", "/?sort=time&order=desc", "/sub/"):
            for headers in ((), (("Accept", "application/json"),)):
                got = self.get(target, headers=headers)
                head = self.get(target, headers=headers, method="HEAD")
                self.assertStatus(head, 200)
                self.assertEqual(head.body, b"")
                for name in ("Content-type", "Content-Length", "Vary"):
                    self.assertEqual(head.header(name), got.header(name), (target, name))

    # ------------------------------------------------------------ JSON

    def test_json(self):
        resp = self.get("/", headers=[("Accept", "application/json")])
        self.assertStatus(resp, 200)
        self.assertEqual(resp.header("Content-type"), "application/json")
        self.assertEqual(resp.header("Vary"), "Accept")
        items = json.loads(resp.body)
        by_name = {item["name"]: item for item in items}
        want = set(NAMES) | {"sub/", "Zdir/", "link", "linkdir/", "withindex/"}
        self.assertLessEqual(want, set(by_name))
        for extra in set(by_name) - want:  # what other tests add: directories alone
            self.assertTrue(by_name[extra]["is_dir"], extra)
        for item in items:
            self.assertEqual(set(item), {"name", "size", "url", "mod_time", "mode", "is_dir",
                                         "is_symlink"})
            self.assertRegex(item["mod_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        for name, size in NAMES.items():
            self.assertEqual(by_name[name]["size"], size)
            self.assertEqual(by_name[name]["url"], "./" + harness.quote(name).replace("/", "%2F"))
            self.assertFalse(by_name[name]["is_dir"])
        self.assertTrue(by_name["sub/"]["is_dir"])
        self.assertEqual(by_name["sub/"]["url"], "./sub/")
        self.assertEqual(by_name["link"]["size"], NAMES["a.txt"])  # the target's
        self.assertTrue(by_name["link"]["is_symlink"])
        self.assertTrue(by_name["linkdir/"]["is_dir"] and by_name["linkdir/"]["is_symlink"])
        # in the order the query asks
        resp = self.get("/?sort=size&order=desc", headers=[("Accept", "text/html, application/json")])
        names = [i["name"].rstrip("/") + ("@" if i["is_symlink"] else "/" if i["is_dir"] else "")
                 for i in json.loads(resp.body)]
        self.assertEqual(names, self.expected_order("size", True))
        # every url leads to its entry
        for item in items:
            if not item["is_dir"]:
                self.assertStatus(self.get("/" + item["url"][2:]), 200, item["url"])

    # ------------------------------------------------------------ the cache

    def test_changes_show_at_once(self):
        d = os.path.join(self.base, "root", "changing")
        os.makedirs(d)
        with open(os.path.join(d, "first.txt"), "wb") as f:
            f.write(b"1")
        time.sleep(SETTLE)
        forms = [("/changing/", ()), ("/changing/?sort=time&order=desc", ()),
                 ("/changing/", (("Accept", "application/json"),))]
        for target, headers in forms:  # twice: the second from the cache
            self.assertEqual(self.get(target, headers=headers).body,
                             self.get(target, headers=headers).body)
        with open(os.path.join(d, "second.txt"), "wb") as f:
            f.write(b"22")
        for target, headers in forms:
            body = self.get(target, headers=headers).body
            self.assertIn(b"second.txt", body, target)
        os.remove(os.path.join(d, "first.txt"))
        for target, headers in forms:
            self.assertNotIn(b"first.txt", self.get(target, headers=headers).body, target)
        # a file written in place leaves the directory's stamp alone: shown within a second
        time.sleep(SETTLE)
        self.get("/changing/")
        self.get("/changing/")
        with open(os.path.join(d, "second.txt"), "ab") as f:
            f.write(b"x" * 5000)
        deadline = time.monotonic() + 5
        while b'title="5002 bytes"' not in self.get("/changing/").body:
            self.assertLess(time.monotonic(), deadline, "the new size never showed")
            time.sleep(0.1)

    def test_ten_thousand_entries(self):
        d = os.path.join(self.base, "root", "many")
        os.makedirs(d)
        for i in range(10000):
            open(os.path.join(d, "f%05d.txt" % i), "wb").close()
        resp = self.get("/many/?sort=name&order=desc")
        names = row_names(resp.body)
        self.assertEqual(len(names), 10000)
        self.assertEqual(names[0], "f09999.txt")
        self.assertEqual(names[-1], "f00000.txt")
        items = json.loads(self.get("/many/", headers=[("Accept", "application/json")]).body)
        self.assertEqual(len(items), 10000)
