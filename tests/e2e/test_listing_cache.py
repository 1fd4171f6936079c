"""test_listing_cache.py: a cached directory listing never outlives the directory it shows.

httpserve keeps the rendered entries of a listing and serves them again while the directory's
(mtime, ctime, size) stay the same, except for a directory changed in the last 2 s (the racy
rule) or one holding a symlink (docs/design.md, "Listing cache"). Each test lists a directory
(twice, so the second answer is the cached one once the directory is settled), changes it the
way a user would, and checks that the very next listing shows the new state, byte for byte as
`python3 -m http.server` shows it on the same directory at the same moment. The class's
directories are made first and left to settle for 2 s, once, so their listings are cached; the
racy tests make fresh directories and change them within the same second. Everything here holds
for Python too (it never caches), so the tests run in --reference-only runs as well.
"""

import os
import shutil
import tempfile
import time

import harness

TARGET = harness.httpserve_target()
SETTLE = 2.2  # seconds after the last change before a listing may be cached


def populate(path, names=("a.txt", "B.txt", "c d&<e>.txt"), dirs=("sub",)):
    os.makedirs(path)
    for name in names:
        with open(os.path.join(path, name), "wb") as f:
            f.write(b"x\n")
    for name in dirs:
        os.makedirs(os.path.join(path, name))


class ListingCache(harness.ServerTestCase):
    """One root, one httpserve (both workers share the cache) and one Python beside it."""

    maxDiff = None
    SETTLED = ["same", "add", "remove", "rename", "kind", "index", "links", "gone", "many", "again"]

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="httpserve-lcache-")
        cls.addClassCleanup(harness.remove_tree, cls.base)
        cls.root = os.path.join(cls.base, "root")
        for name in cls.SETTLED:
            populate(os.path.join(cls.root, name))
        os.makedirs(os.path.join(cls.root, "targets", "t"))  # what links/l points to
        os.symlink("../targets/t", os.path.join(cls.root, "links", "l"))
        for i in range(300):
            populate(os.path.join(cls.root, "many", "d%03d" % i), names=(), dirs=())
        cls.server = cls.class_start(TARGET, root=cls.root)
        cls.python = cls.class_start(harness.python_target(), root=cls.root)
        time.sleep(SETTLE)

    def path(self, *rel):
        return os.path.join(self.root, *rel)

    def listing(self, server, target):
        resp = harness.fetch(server.port, target)
        self.assertStatus(resp, 200, target)
        self.assertEqual(resp.header("Content-type"), "text/html; charset=utf-8")
        self.assertEqual(int(resp.header("Content-Length")), len(resp.body))
        return resp.body

    def assertListingAsPython(self, target, python_target=None):
        """Our listing of target is Python's (of python_target: a target with a query shows
        the path without it, as Python 3.14 does); returns it."""
        ours = self.listing(self.server, target)
        self.assertEqual(ours, self.listing(self.python, python_target or target), target)
        return ours

    def list_twice(self, target):
        """Lists target twice (the second from the cache when the directory is settled)."""
        first = self.assertListingAsPython(target)
        self.assertEqual(self.assertListingAsPython(target), first)
        return first

    # ------------------------------------------------------------ settled directories

    def test_cached_listing_is_pythons_under_every_spelling_of_its_url(self):
        self.list_twice("/same/")
        for target in ["/same/", "//same/", "/sa%6De/", "/./same/", "/same//", "/x/../same/"]:
            self.assertListingAsPython(target)
        self.assertListingAsPython("/same/?a=%3Cb%3E", python_target="/same/")
        head = harness.fetch(self.server.port, "/same/", method="HEAD")
        self.assertStatus(head, 200)
        self.assertEqual(int(head.header("Content-Length")),
                         len(self.listing(self.server, "/same/")))
        self.assertEqual(head.body, b"")

    def test_added_entry_shows_at_once(self):
        before = self.list_twice("/add/")
        with open(self.path("add", "new.txt"), "wb") as f:
            f.write(b"new\n")
        after = self.assertListingAsPython("/add/")
        self.assertNotIn(b"new.txt", before)
        self.assertIn(b'<a href="new.txt">new.txt</a>', after)

    def test_removed_entry_goes_at_once(self):
        self.assertIn(b"B.txt", self.list_twice("/remove/"))
        os.unlink(self.path("remove", "B.txt"))
        self.assertNotIn(b"B.txt", self.assertListingAsPython("/remove/"))

    def test_renamed_entry_shows_its_new_name_at_once(self):
        self.list_twice("/rename/")
        os.rename(self.path("rename", "a.txt"), self.path("rename", "z.txt"))
        after = self.assertListingAsPython("/rename/")
        self.assertNotIn(b'"a.txt"', after)
        self.assertIn(b'<a href="z.txt">z.txt</a>', after)

    def test_subdirectory_replaced_by_a_file_loses_its_slash(self):
        self.assertIn(b'<a href="sub/">sub/</a>', self.list_twice("/kind/"))
        os.rmdir(self.path("kind", "sub"))
        with open(self.path("kind", "sub"), "wb") as f:
            f.write(b"now a file\n")
        after = self.assertListingAsPython("/kind/")
        self.assertIn(b'<a href="sub">sub</a>', after)

    def test_index_page_appearing_wins_at_once(self):
        self.list_twice("/index/")
        with open(self.path("index", "index.html"), "wb") as f:
            f.write(b"<p>the index</p>\n")
        resp = harness.fetch(self.server.port, "/index/")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, b"<p>the index</p>\n")
        os.unlink(self.path("index", "index.html"))
        self.assertListingAsPython("/index/")

    def test_symlink_retargeted_shows_its_new_target(self):
        """links/ does not change: only what its link leads to does."""
        self.assertIn(b'<a href="l/">l@</a>', self.list_twice("/links/"))
        os.rmdir(self.path("targets", "t"))
        with open(self.path("targets", "t"), "wb") as f:
            f.write(b"now a file\n")
        self.assertIn(b'<a href="l">l@</a>', self.assertListingAsPython("/links/"))
        os.unlink(self.path("targets", "t"))
        os.makedirs(self.path("targets", "t"))
        self.assertIn(b'<a href="l/">l@</a>', self.assertListingAsPython("/links/"))

    def test_directory_replaced_under_the_same_name(self):
        self.list_twice("/gone/")
        shutil.rmtree(self.path("gone"))
        populate(self.path("gone"), names=("other.txt",), dirs=())
        self.assertIn(b"other.txt", self.assertListingAsPython("/gone/"))

    def test_large_listing_from_the_cache_is_pythons(self):
        self.assertEqual(self.list_twice("/many/").count(b"<li>"), 300 + 4)
        os.rmdir(self.path("many", "d150"))
        self.assertEqual(self.assertListingAsPython("/many/").count(b"<li>"), 299 + 4)

    # ------------------------------------------------------------ the racy rule

    def test_changes_within_the_same_second_all_show(self):
        """A fresh directory changed again and again between listings, with no pause: the
        changes may fall within one timestamp tick, which a cached page could not tell apart.
        (With multigrain timestamps, Linux 6.13+ on ext4, xfs, btrfs and tmpfs, a change made
        after a stat always gets a new ctime, so there this passes even without the racy rule;
        tests/unit/test_listing_cache.c checks the rule itself.)"""
        populate(self.path("racy"))
        for i in range(30):
            with open(self.path("racy", "f%02d" % i), "wb") as f:
                f.write(b"x")
            page = self.assertListingAsPython("/racy/")
            self.assertIn(b'<a href="f%02d">' % i, page)
            if i % 3 == 2:
                os.unlink(self.path("racy", "f%02d" % (i - 1)))
                self.assertNotIn(b'"f%02d"' % (i - 1), self.assertListingAsPython("/racy/"))

    def test_second_change_right_after_a_settled_directory_changed(self):
        """A cached directory changes: the listing after it must not be kept (the change is
        recent), or changes made in the same tick after it would never show."""
        self.list_twice("/again/")
        for name in ("one", "two", "three"):
            os.mkdir(self.path("again", name))
            self.assertIn(b'<a href="%s/">' % name.encode(), self.assertListingAsPython("/again/"))
        os.rename(self.path("again", "one"), self.path("again", "uno"))
        self.assertIn(b'<a href="uno/">', self.assertListingAsPython("/again/"))
