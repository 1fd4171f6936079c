"""test_tls_cli.py: the command line of HTTPS, before and around any connection.

Python 3.14's --tls-cert, --tls-key and --tls-password-file: its usage errors word for word
(exit 2), the password file read as UTF-8 text and stripped as str.strip() does, and its
read errors; --tls-self-signed, which excludes --tls-cert. Certificate files that cannot
be used (missing, not PEM, a key that does not match, an encrypted key without or with the
wrong password) stop the command with one line and exit 1 before any banner. A server
that starts says HTTPS in its banner, prints a self-signed certificate's fingerprint, and
reloads its certificate on SIGHUP with one log line either way; without TLS, SIGHUP is
ignored. Certificates are made with the openssl command. No test here opens a TLS
connection.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness

TARGET = harness.httpserve_target()
USAGE_PREFIX = "usage: "
HTTPS_BANNER_RE = re.compile(r"Serving HTTPS on (?P<host>\S+) port (?P<port>\d+) "
                             r"\(https://(?P<url_host>\S+):(?P<url_port>\d+)/\) \.\.\.")
FINGERPRINT_RE = re.compile(r"Certificate SHA-256 fingerprint: [0-9A-F]{2}(:[0-9A-F]{2}){31}")
PYTHON_HAS_TLS = sys.version_info >= (3, 14)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, timeout=60,
                   stdin=subprocess.DEVNULL, capture_output=True)


def make_certs(d):
    """RSA and ECDSA pairs, an encrypted key (password "s3cret"), a DER file, text."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ec.key", "-out", "ec.crt", "-days", "2", "-subj", "/CN=localhost", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key",
            "-out", "rsa.crt", "-days", "2", "-subj", "/CN=localhost", cwd=d)
    openssl("pkey", "-in", "ec.key", "-aes256", "-passout", "pass:s3cret", "-out", "enc.key",
            cwd=d)
    openssl("x509", "-in", "ec.crt", "-outform", "DER", "-out", "ec.der", cwd=d)
    with open(os.path.join(d, "text.txt"), "w") as f:
        f.write("hello, world\n")
    with open(os.path.join(d, "combined.pem"), "w") as f:
        for name in ("ec.crt", "ec.key"):
            with open(os.path.join(d, name)) as part:
                f.write(part.read())


@unittest.skipUnless(shutil.which("openssl"), "no openssl command here")
class TLSCommandLine(harness.ServerTestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="httpserve-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        make_certs(cls.dir)
        cls.doc = cls.class_docroot()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run_args(self, *args):
        return harness.run_command(TARGET, ["-b", "127.0.0.1", "-d", self.doc.root, *args, "0"])

    def assertUsage(self, args, message):
        """Exit 2, nothing on stdout, the usage line and `prog: error: message`."""
        status, out, err = self.run_args(*args)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, "")
        lines = err.splitlines()
        self.assertTrue(lines[0].startswith(USAGE_PREFIX), err)
        self.assertEqual(lines[-1], f"{TARGET.prog}: error: {message}", err)

    def assertFails(self, args, line):
        """Exit 1, no banner, exactly `httpserve: line` on stderr."""
        status, out, err = self.run_args(*args)
        self.assertEqual((status, out, err), (1, "", f"httpserve: {line}\n"))

    def start_https(self, *args):
        """Starts the server and waits (bounded) for its HTTPS banner and what follows it."""
        argv = TARGET.argv(["-b", "127.0.0.1", "-d", self.doc.root, *args, "0"])
        server = harness.ServerProcess(argv, env=TARGET.environ())
        self.addCleanup(server.stop)
        deadline = time.monotonic() + harness.BANNER_TIMEOUT
        while "\n" not in server.stdout() and server.proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        first = server.stdout().partition("\n")[0]
        self.assertRegex(first, HTTPS_BANNER_RE, server.describe())
        return server

    # -------------------------------------------------------- Python's usage errors

    @unittest.skipIf(harness.REFERENCE_ONLY and not PYTHON_HAS_TLS, "python3 before 3.14")
    def test_key_or_password_file_without_cert(self):
        pw = self.write("pw-ok", b"s3cret\n")
        key_first = "--tls-key requires --tls-cert to be set"
        pw_needs = "--tls-password-file requires --tls-cert to be set"
        cases = [
            (["--tls-key", self.path("ec.key")], key_first),
            (["--tls-key=" + self.path("ec.key")], key_first),
            (["--tls-password-file", pw, "--tls-key", self.path("ec.key")], key_first),
            (["--tls-password-file", pw], pw_needs),
            (["--tls-password-file=" + self.path("missing")], pw_needs),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assertUsage(args, message)

    @unittest.skipIf(harness.REFERENCE_ONLY and not PYTHON_HAS_TLS, "python3 before 3.14")
    def test_unreadable_password_file(self):
        cert = ["--tls-cert", self.path("ec.crt")]
        missing = self.path("no-such-file")
        odd = self.path("it's")
        cases = [
            (missing, f"[Errno 2] No such file or directory: '{missing}'"),
            (self.dir, f"[Errno 21] Is a directory: '{self.dir}'"),
            (odd, f"[Errno 2] No such file or directory: \"{odd}\""),
        ]
        if os.geteuid() != 0:
            locked = self.write("pw-locked", b"s3cret")
            os.chmod(locked, 0)
            cases.append((locked, f"[Errno 13] Permission denied: '{locked}'"))
        for path, why in cases:
            with self.subTest(path=path):
                self.assertUsage(cert + ["--tls-password-file", path],
                                 f"Failed to read TLS password file: {why}")

    @harness.beyond_python("Python fails with a traceback on a password file that is not UTF-8")
    def test_password_file_not_utf8(self):
        cert = ["--tls-cert", self.path("ec.crt")]
        cases = [
            (b"\xffpw", "byte 0xff in position 0: invalid start byte"),
            (b"pw\xc3", "byte 0xc3 in position 2: unexpected end of data"),
            (b"pw\xe0\x80\x80", "byte 0xe0 in position 2: invalid continuation byte"),
            (b"\xed\xa0\x80", "byte 0xed in position 0: invalid continuation byte"),
        ]
        for i, (data, why) in enumerate(cases):
            with self.subTest(data=data):
                path = self.write(f"pw-bad{i}", data)
                self.assertUsage(cert + ["--tls-password-file", path],
                                 f"Failed to read TLS password file: 'utf-8' codec can't "
                                 f"decode {why}")

    @harness.beyond_python("--tls-self-signed is httpserve's")
    def test_self_signed_excludes_cert(self):
        cert = ["--tls-cert", self.path("ec.crt")]
        self.assertUsage(cert + ["--tls-self-signed"],
                         "argument --tls-self-signed: not allowed with argument --tls-cert")
        self.assertUsage(["--tls-self-signed"] + cert,
                         "argument --tls-cert: not allowed with argument --tls-self-signed")
        self.assertUsage(["--tls-self-signed", "--tls-key", self.path("ec.key")],
                         "--tls-key requires --tls-cert to be set")

    @unittest.skipIf(harness.REFERENCE_ONLY and not PYTHON_HAS_TLS, "python3 before 3.14")
    def test_help_lists_the_tls_options_in_order(self):
        status, out, err = harness.run_command(TARGET, ["-h"])
        self.assertEqual(status, 0, err)
        names = ["--tls-cert PATH", "--tls-key PATH", "--tls-password-file PATH"]
        if not TARGET.is_python:
            names.append("--tls-self-signed")
        at = [out.find("\n  " + n) for n in names]
        self.assertTrue(all(a >= 0 for a in at), out)
        self.assertEqual(at, sorted(at), out)
        self.assertIn("path to the TLS certificate chain file", out)

    # -------------------------------------------------------- files that do not work

    @harness.beyond_python("one line and exit 1, where Python prints a traceback")
    def test_unusable_certificate_files(self):
        d = self.dir
        pw = self.write("pw-wrong", b"wrong\n")
        cases = [
            (["--tls-cert", self.path("missing.crt")],
             f"cannot read TLS certificate '{d}/missing.crt': No such file or directory"),
            (["--tls-cert", self.path("ec.der"), "--tls-key", self.path("ec.key")],
             f"TLS certificate '{d}/ec.der' is not a PEM certificate chain"),
            (["--tls-cert", self.path("text.txt"), "--tls-key", self.path("ec.key")],
             f"TLS certificate '{d}/text.txt' is not a PEM certificate chain"),
            (["--tls-cert", self.path("ec.crt")],
             f"TLS key '{d}/ec.crt' holds no PEM private key"),
            (["--tls-cert", self.path("ec.crt"), "--tls-key", self.path("missing.key")],
             f"cannot read TLS key '{d}/missing.key': No such file or directory"),
            (["--tls-cert", self.path("ec.crt"), "--tls-key", self.path("rsa.key")],
             f"TLS key '{d}/rsa.key' does not match the certificate"),
            (["--tls-cert", self.path("ec.crt"), "--tls-key", self.path("enc.key")],
             f"TLS key '{d}/enc.key' is encrypted and needs a password"),
            (["--tls-cert", self.path("ec.crt"), "--tls-key", self.path("enc.key"),
              "--tls-password-file", pw],
             f"TLS key '{d}/enc.key': wrong password"),
        ]
        if harness.VALGRIND:  # a start under valgrind takes a second: one of each kind
            cases = [cases[0], cases[1], cases[5], cases[7]]
        for args, line in cases:
            with self.subTest(args=args):
                self.assertFails(args, line)

    # -------------------------------------------------------- servers that start

    @harness.beyond_python("Python 3.14 only")
    def test_password_file_is_stripped_text(self):
        """The right password with whitespace around it, as str.strip() removes it."""
        cases = [b"s3cret", b"s3cret\n", b"  s3cret \r\n", b"\ts3cret\n\n",
                 "\u3000s3cret\u00a0\n".encode(), b"\x1cs3cret\x0b"]
        if harness.VALGRIND:  # a start under valgrind takes a second: the widest case
            cases = cases[4:5]
        for i, data in enumerate(cases):
            with self.subTest(data=data):
                pw = self.write(f"pw-good{i}", data)
                server = self.start_https("--tls-cert", self.path("ec.crt"), "--tls-key",
                                          self.path("enc.key"), "--tls-password-file", pw)
                self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        # whitespace inside the password is kept: this one is wrong
        pw = self.write("pw-inner", b"s3 cret\n")
        self.assertFails(["--tls-cert", self.path("ec.crt"), "--tls-key", self.path("enc.key"),
                          "--tls-password-file", pw],
                         f"TLS key '{self.dir}/enc.key': wrong password")

    @harness.beyond_python("--tls-self-signed is httpserve's")
    def test_self_signed_banner_and_fingerprint(self):
        server = self.start_https("--tls-self-signed")
        deadline = time.monotonic() + harness.BANNER_TIMEOUT
        while server.stdout().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        lines = server.stdout().splitlines()
        self.assertEqual(len(lines), 2, server.describe())
        self.assertRegex(lines[1], FINGERPRINT_RE)
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        # a combined certificate-and-key file prints no fingerprint line
        server = self.start_https("--tls-cert", self.path("combined.pem"))
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        self.assertEqual(len(server.stdout().splitlines()), 3, server.describe())  # + "", KI

    @harness.beyond_python("certificate reload on SIGHUP is httpserve's")
    def test_sighup_reloads_the_certificate(self):
        live_crt, live_key = self.path("live.crt"), self.path("live.key")
        shutil.copy(self.path("ec.crt"), live_crt)
        shutil.copy(self.path("ec.key"), live_key)
        server = self.start_https("--tls-cert", live_crt, "--tls-key", live_key)
        steps = [
            (("rsa.crt", "rsa.key"), "TLS certificate reloaded"),
            (("text.txt", None), f"httpserve: TLS reload failed: TLS certificate '{live_crt}' "
                                 "is not a PEM certificate chain"),
            (("ec.crt", None), f"httpserve: TLS reload failed: TLS key '{live_key}' does not "
                               "match the certificate"),
            (("ec.crt", "ec.key"), "TLS certificate reloaded"),
        ]
        for n, ((crt, key), line) in enumerate(steps, 1):
            shutil.copy(self.path(crt), live_crt)
            if key:
                shutil.copy(self.path(key), live_key)
            server.send_signal(signal.SIGHUP)
            lines = server.wait_log(lambda ls, n=n: len(ls) >= n, timeout=harness.LOG_TIMEOUT * 2)
            self.assertEqual(lines[n - 1:n], [line], server.describe())
        self.assertIsNone(server.proc.poll(), server.describe())
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        self.assertEqual(len(server.log_lines()), len(steps), server.describe())

    @harness.beyond_python("certificate reload on SIGHUP is httpserve's")
    def test_sighup_without_reloadable_certificate(self):
        server = self.start_https("--tls-self-signed")
        server.send_signal(signal.SIGHUP)
        lines = server.wait_log(lambda ls: len(ls) >= 1)
        self.assertEqual(lines, ["httpserve: TLS reload failed: the TLS certificate was not "
                                 "read from a file: nothing to reload"], server.describe())
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())

    @harness.beyond_python("Python dies of SIGHUP")
    def test_sighup_ignored_without_tls(self):
        server = self.start(TARGET, root=self.doc.root)
        for _ in range(3):
            server.send_signal(signal.SIGHUP)
        self.assertStatus(harness.fetch(server.port, "/"), 200)
        self.assertIsNone(server.proc.poll(), server.describe())
        self.assertEqual(server.stop(signal.SIGINT), 0, server.describe())
        self.assertEqual(server.stderr().count("\n"), 1, server.describe())  # the GET's line


if __name__ == "__main__":
    unittest.main()
