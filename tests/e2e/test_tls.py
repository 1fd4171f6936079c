"""test_tls.py: HTTPS end to end, against the real binary with --tls-cert.

Certificates are made with the `openssl` command in a temporary directory (ECDSA P-256 for
localhost and 127.0.0.1, as a browser would be given). Clients: Python's ssl module (exact
bytes over TLS, with the harness's reader), curl and `openssl s_client`. Checked: files,
listings, ranges, 304s, keep-alive and pipelining, large files byte for byte, CGI's HTTPS=on,
the protocol versions and cipher suites refused and accepted, ALPN, session resumption, a
plain HTTP request on the HTTPS port, a ClientHello trickled a byte at a time (closed at
the head's deadline while another client is served), --tls-self-signed's fingerprint, and
SIGHUP with a renewed certificate. Every loop is bounded; servers are stopped by PID.
"""

import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness
import test_cgi as cgi
from test_request_hygiene import tls_client_hello
from harness import request

TARGET = harness.httpserve_target()
OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
BIG = harness.pseudo_random_bytes(3 << 20, seed=11)
SLOW = 3 if harness.INSTRUMENTED else 1


def make_cert(directory, name, cn="localhost", key="ec"):
    """A self-signed certificate and its key, PEM files named NAME.crt and NAME.key."""
    crt, pem = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else \
        ["-newkey", "rsa:2048"]
    subprocess.run([OPENSSL, "req", "-x509", *newkey, "-nodes", "-keyout", pem, "-out", crt,
                    "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return crt, pem


def ktls_tx_count():
    """Connections ever set up for kernel TLS transmission (/proc/net/tls_stat)."""
    counts = {}
    with open("/proc/net/tls_stat") as f:
        for line in f:
            name, _, value = line.partition(" ")
            counts[name] = int(value.split()[0]) if value.split() else 0
    return counts.get("TlsTxSw", 0) + counts.get("TlsTxDevice", 0)


def fingerprint(der):
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def client_context(cafile=None, **versions):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    for name, value in versions.items():
        setattr(ctx, name, value)
    return ctx


class TLSClient(harness.Client):
    """harness.Client over TLS: the same exact-bytes reader, the handshake done first."""

    def __init__(self, port, ctx, timeout=harness.IO_TIMEOUT, session=None):
        super().__init__(port, timeout=timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost", session=session)


@unittest.skipUnless(OPENSSL, "the openssl command is not installed (apt-get install openssl)")
@harness.beyond_python("HTTPS as Python 3.14 serves it, on the event loop")
class HTTPS(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = cgi.cgi_docroot(cls)
        with open(os.path.join(cls.doc.root, "big.bin"), "wb") as f:
            f.write(BIG)
        script = os.path.join(cls.doc.root, "cgi-bin", "https.sh")
        with open(script, "wb") as f:
            f.write(b"#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n"
                    b"HTTPS=[%s] SERVER_PORT=[%s]\\n' \"$HTTPS\" \"$SERVER_PORT\"\n")
        os.chmod(script, 0o755)
        cls.certs = tempfile.mkdtemp(prefix="httpserve-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.certs, True)
        cls.crt, cls.key = make_cert(cls.certs, "server")
        cls.server = cls.class_start(TARGET, "-p", "HTTP/1.1", "--cgi", "--tls-cert", cls.crt,
                                     "--tls-key", cls.key, "--header-timeout", "3",
                                     root=cls.doc.root)
        cls.port = cls.server.port
        cls.ctx = client_context(cls.crt)

    def tls(self, **kw):
        client = TLSClient(self.port, kw.pop("ctx", self.ctx), **kw)
        self.addCleanup(client.close)
        return client

    def get(self, target, headers=(), method="GET"):
        client = self.tls()
        client.send(request(method, target, "HTTP/1.1",
                            [("Host", "localhost"), ("Connection", "close"), *headers]))
        return client.read_response(method)

    def test_banner_says_https(self):
        self.assertTrue(self.server.banner.line.startswith("Serving HTTPS on 127.0.0.1 port "))
        self.assertIn(f"(https://127.0.0.1:{self.port}/)", self.server.banner.line)

    def test_files_listing_and_errors(self):
        resp = self.get("/a.txt")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, harness.DOCROOT_FILES["a.txt"])
        resp = self.get("/")
        self.assertStatus(resp, 200)
        self.assertIn(b"Directory listing for /", resp.body)
        self.assertStatus(self.get("/missing"), 404)
        self.assertStatus(self.get("/sub"), 301)

    def test_large_file_byte_for_byte_and_ranges(self):
        resp = self.get("/big.bin")
        self.assertStatus(resp, 200)
        self.assertEqual(hashlib.sha256(resp.body).hexdigest(), hashlib.sha256(BIG).hexdigest())
        resp = self.get("/big.bin", [("Range", "bytes=1000000-1999999")])
        self.assertStatus(resp, 206)
        self.assertEqual(resp.body, BIG[1000000:2000000])
        resp = self.get("/big.bin", [("Range", "bytes=0-9,-10")])
        self.assertStatus(resp, 206)
        self.assertIn(BIG[:10], resp.body)
        self.assertIn(BIG[-10:], resp.body)

    def test_files_go_through_ktls_where_the_kernel_has_it(self):
        """Where the kernel offers kTLS, files are sent by SSL_sendfile: its counters of
        connections the kernel encrypts grow. Elsewhere the user-space path serves them
        (every other test here)."""
        try:
            with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
                ulps = f.read().split()
        except OSError:
            ulps = []
        if "tls" not in ulps:
            raise unittest.SkipTest("this kernel offers no kTLS ('tls' is not in "
                                    "/proc/sys/net/ipv4/tcp_available_ulp)")
        before = ktls_tx_count()
        resp = self.get("/big.bin")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, BIG)
        self.assertGreater(ktls_tx_count(), before, "the file was not sent through kTLS")

    def test_validators_give_304(self):
        etag = self.get("/a.txt").header("ETag")
        resp = self.get("/a.txt", [("If-None-Match", etag)])
        self.assertStatus(resp, 304)
        self.assertEqual(resp.body, b"")

    def test_keep_alive_and_pipelining(self):
        client = self.tls()
        for _ in range(3):  # one at a time
            client.send(request("GET", "/a.txt", "HTTP/1.1", [("Host", "localhost")]))
            self.assertStatus(client.read_response(), 200)
        pipelined = b"".join(request("GET", t, "HTTP/1.1", [("Host", "localhost")])
                             for t in ("/a.txt", "/big.bin", "/missing.txt", "/a.txt"))
        client.send(pipelined)
        codes = [client.read_response().code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 404])  # the 404 closes, as send_error does

    def test_cgi_gets_https_on(self):
        resp = self.get("/cgi-bin/https.sh?x=1")
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, f"HTTPS=[on] SERVER_PORT=[{self.port}]\n".encode())

    def test_cgi_request_body_streamed_over_tls(self):
        body = harness.pseudo_random_bytes(1 << 20, seed=5)
        want = b"%d %s\n" % (len(body), hashlib.sha256(body).hexdigest().encode())
        client = self.tls()
        client.send(request("POST", "/cgi-bin/hash.py", "HTTP/1.1",
                            [("Host", "x"), ("Content-Length", str(len(body)))]) + body)
        resp = client.read_response()
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, want)
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                          for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
        client.send(request("POST", "/cgi-bin/hash.py", "HTTP/1.1",
                            [("Host", "x"), ("Transfer-Encoding", "chunked"),
                             ("Connection", "close")]) + chunks)
        resp = client.read_response()
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body, want)

    def test_versions_1_2_and_1_3_only(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                ctx = client_context(self.crt, minimum_version=version, maximum_version=version)
                client = self.tls(ctx=ctx)
                client.send(request("GET", "/a.txt", "HTTP/1.1",
                                    [("Host", "x"), ("Connection", "close")]))
                self.assertStatus(client.read_response(), 200)
                self.assertEqual(client.sock.version(), version.name.replace("v", "v", 1)
                                 .replace("TLSv1_", "TLSv1."))
        for flag in ("-tls1", "-tls1_1"):
            with self.subTest(flag=flag):
                self.assertFalse(self.s_client_handshakes([flag, "-cipher", "DEFAULT@SECLEVEL=0"]))

    def test_weak_and_rsa_key_exchange_suites_refused(self):
        for suite in ("AES128-GCM-SHA256", "AES256-SHA256", "DHE-RSA-AES128-GCM-SHA256",
                      "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256"):
            with self.subTest(suite=suite):
                self.assertFalse(self.s_client_handshakes(["-tls1_2", "-cipher", suite]))
        self.assertTrue(self.s_client_handshakes(["-tls1_2", "-cipher",
                                                  "ECDHE-ECDSA-AES128-GCM-SHA256"]))

    def s_client_handshakes(self, args):
        """Whether `openssl s_client` with args completes a handshake with the server."""
        proc = subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{self.port}",
                               "-servername", "localhost", *args], input=b"Q\n",
                              capture_output=True, timeout=20)
        out = proc.stdout.decode("latin-1")
        return "Cipher is (NONE)" not in out and ("New, TLS" in out or "Cipher    :" in out) \
            and proc.returncode == 0

    def test_alpn_is_http_1_1(self):
        ctx = client_context(self.crt)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        client = self.tls(ctx=ctx)
        self.assertEqual(client.sock.selected_alpn_protocol(), "http/1.1")

    def test_session_resumption(self):
        ctx = client_context(self.crt)
        first = self.tls(ctx=ctx)
        first.send(request("GET", "/a.txt", "HTTP/1.1", [("Host", "x"), ("Connection", "close")]))
        self.assertStatus(first.read_response(), 200)  # TLS 1.3 tickets come after the handshake
        session = first.sock.session
        self.assertIsNotNone(session)
        second = self.tls(ctx=ctx, session=session)
        self.assertTrue(second.sock.session_reused)

    def test_curl(self):
        if not CURL:
            raise unittest.SkipTest("curl is not installed")
        out = subprocess.run([CURL, "-sS", "--cacert", self.crt, "-o", "-", "-w", "\n%{http_code}",
                              f"https://localhost:{self.port}/a.txt",
                              "--resolve", f"localhost:{self.port}:127.0.0.1"],
                             capture_output=True, timeout=20)
        self.assertEqual(out.stdout, harness.DOCROOT_FILES["a.txt"] + b"\n200", out.stderr)

    def test_plain_http_on_the_https_port_gets_a_plain_400_at_once(self):
        started = time.monotonic()
        resp = harness.fetch(self.port, "/a.txt", version="HTTP/1.1")
        self.assertLess(time.monotonic() - started, 2.0 * SLOW)
        self.assertStatus(resp, 400)
        self.assertEqual(resp.reason, "Plain HTTP request sent to the HTTPS port")

    def test_a_trickled_client_hello_is_closed_at_the_deadline_and_delays_no_one(self):
        hello = tls_client_hello()
        slow = self.connect(self.port)
        started = time.monotonic()
        closed = False
        for byte in hello[:40]:  # a byte every 0.25 s: 10 s, far past the 3 s deadline
            try:
                slow.sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            fast_started = time.monotonic()
            resp = self.get("/a.txt")
            self.assertStatus(resp, 200)
            self.assertLess(time.monotonic() - fast_started, 1.0 * SLOW)
            if slow.wait_closed(0.25)[0]:
                closed = True
                break
        took = time.monotonic() - started
        self.assertTrue(closed, "the trickled handshake was never closed")
        self.assertGreater(took, 3 - 0.5, "closed before its deadline")
        self.assertLess(took, 3 + 2.0 * SLOW)


@unittest.skipUnless(OPENSSL, "the openssl command is not installed (apt-get install openssl)")
@harness.beyond_python("a self-signed certificate and SIGHUP renewal, beyond Python 3.14")
class CertificateLifecycle(harness.ServerTestCase):

    def peer_fingerprint(self, port):
        client = TLSClient(port, client_context())
        try:
            return fingerprint(client.sock.getpeercert(binary_form=True))
        finally:
            client.close()

    def test_self_signed_fingerprint_is_what_the_client_sees(self):
        doc = self.docroot()
        server = self.start(TARGET, "--tls-self-signed", root=doc.root)
        line = ""
        server._stdout.wait_for(lambda d: d.count(b"\n") >= 2, harness.BANNER_TIMEOUT)
        for line in server.stdout().splitlines()[1:]:
            if "SHA-256" in line:
                break
        printed = line.rsplit(" ", 1)[-1]
        self.assertRegex(printed, r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertEqual(self.peer_fingerprint(server.port), printed)

    def test_sighup_loads_a_renewed_certificate_and_keeps_the_old_on_a_bad_one(self):
        doc = self.docroot()
        certs = tempfile.mkdtemp(prefix="httpserve-tls-")
        self.addCleanup(shutil.rmtree, certs, True)
        crt, key = make_cert(certs, "server", cn="first")
        server = self.start(TARGET, "--tls-cert", crt, "--tls-key", key, root=doc.root)
        old = self.peer_fingerprint(server.port)
        kept = TLSClient(server.port, client_context())  # an open connection carries on
        self.addCleanup(kept.close)
        new_crt, new_key = make_cert(certs, "renewed", cn="second")
        os.replace(new_crt, crt)
        os.replace(new_key, key)
        server.send_signal(signal.SIGHUP)
        new = old
        for _ in range(50):
            new = self.peer_fingerprint(server.port)
            if new != old:
                break
            time.sleep(0.1)
        self.assertNotEqual(new, old, "SIGHUP did not load the renewed certificate")
        kept.send(request("GET", "/a.txt", "HTTP/1.0"))
        self.assertStatus(kept.read_response(), 200)
        with open(crt, "wb") as f:
            f.write(b"not a certificate\n")
        server.send_signal(signal.SIGHUP)
        server.wait_log(lambda lines: any("TLS" in l and "reload" in l.lower() and "fail" in l.lower()
                                          for l in lines), timeout=5)
        self.assertEqual(self.peer_fingerprint(server.port), new)


if __name__ == "__main__":
    unittest.main()
