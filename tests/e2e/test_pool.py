"""test_pool.py: blocking slots on the handler pool (ThreadingHTTPServer's model), driven
through build/tests/progs/pool_server (its header comment lists its endpoints): slots that
sleep while files are still served at once, the queue's bound, bodies read and responses
written by a blocking slot with bounded memory, a client that leaves or stalls mid-slot,
shutdown during slots; and two defects of deferred responses (a file among queued bytes,
hs_flush_headers) on the same program's deferred endpoints.
"""

import os
import signal
import socket
import statistics
import threading
import time
import unittest
import zlib

import harness
from harness import request

PROGRAM = os.path.join(harness.BUILD, "tests", "progs", "pool_server")
SLOW = 10.0 if harness.INSTRUMENTED else 1.0  # instrumented builds run several times slower


def get(target, headers=()):
    return request("GET", target, "HTTP/1.1", [("Host", "localhost")] + list(headers))


@unittest.skipUnless(os.access(PROGRAM, os.X_OK), f"{PROGRAM} is not built")
class PoolCase(harness.ServerTestCase):
    """Starts pool_server on a document root with a few files."""

    mode = "mixed"

    def start(self, *args, mode=None):
        self.doc = self.docroot({"big.bin": harness.pseudo_random_bytes(5 << 20)})
        wrapper = os.environ.get("HTTPSERVE_E2E_WRAPPER", "").split()
        argv = wrapper + [PROGRAM, self.doc.root, mode or self.mode] + [str(a) for a in args]
        self.server = self.start_program(argv)
        return self.server.port

    def expect_log(self, *parts, timeout=harness.LOG_TIMEOUT, count=1):
        """Waits for count log lines each holding every one of parts; fails without."""
        def found(lines):
            return sum(all(p in line for p in parts) for line in lines) >= count
        lines = self.server.wait_log(found, timeout)
        self.assertTrue(found(lines), f"not {count} log lines with {parts}:\n" + "\n".join(lines))

    def assert_head_comes_first(self, target):
        """target's head (flushed with hs_flush_headers) arrives well before its body,
        which comes 1.5 s later."""
        client = self.connect(self.start())
        client.send(get(target))
        start = time.monotonic()
        head = client.read_head()
        self.assertLess(time.monotonic() - start, 1.0 * SLOW)
        self.assertEqual(head.code, 200)
        self.assertEqual(client.read_body(5), b"body\n")

    def fetch(self, port, target, headers=()):
        client = self.connect(port)
        client.send(get(target, headers))
        return client.read_response()

    def concurrently(self, port, targets):
        """Sends each request on its own connection at once; (responses, seconds)."""
        clients = [self.connect(port, timeout=30, deadline=60) for _ in targets]
        start = time.monotonic()
        for client, target in zip(clients, targets):
            client.send(get(target))
        results = [None] * len(clients)

        def read(i):
            results[i] = clients[i].read_response()

        threads = [threading.Thread(target=read, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        return results, time.monotonic() - start


class SleepingSlots(PoolCase):
    def test_64_sleeping_slots_on_16_threads_while_files_stay_fast(self):
        """64 slots of 1 s on 16 threads take about 4 s, and files answered by the workers
        meanwhile keep a p99 under 50 ms."""
        port = self.start(16, 64)
        latencies = []
        stop = threading.Event()

        def files():
            for _ in range(2000):
                if stop.is_set():
                    break
                start = time.monotonic()
                resp = self.fetch(port, "/a.txt")
                latencies.append(time.monotonic() - start)
                self.assertEqual(resp.code, 200)
                time.sleep(0.01)

        prober = threading.Thread(target=files)
        prober.start()
        try:
            results, seconds = self.concurrently(port, ["/sleep?1000"] * 64)
        finally:
            stop.set()
            prober.join(30)
        self.assertEqual([r.code for r in results], [200] * 64)
        self.assertEqual({r.body for r in results}, {b"slept 1000\n"})
        self.assertGreaterEqual(seconds, 3.9)
        self.assertLess(seconds, 4 + 2 * SLOW)
        self.assertGreater(len(latencies), 50)
        p99 = statistics.quantiles(latencies, n=100)[98]
        self.assertLess(p99, 0.05 * SLOW, f"p99 of files during the slots: {p99 * 1000:.1f} ms")

    def test_past_the_queue_requests_get_503(self):
        """2 threads and a queue of 2: of 8 slots at once, 4 run and 4 get 503 at once."""
        port = self.start(2, 2)
        results, _ = self.concurrently(port, ["/sleep?1500"] * 8)
        codes = sorted(r.code for r in results)
        self.assertEqual(codes, [200] * 4 + [503] * 4)
        for r in results:
            if r.code == 503:
                self.assertEqual(r.header("Connection"), "close")

    def test_keep_alive_and_pipelining_through_the_pool(self):
        port = self.start()
        client = self.connect(port)
        for _ in range(3):
            client.send(get("/sleep?10"))
            self.assertEqual(client.read_response().body, b"slept 10\n")
        client.send(get("/sleep?20") + get("/") + get("/sleep?5"))
        bodies = [client.read_response().body for _ in range(3)]
        self.assertEqual(bodies[0], b"slept 20\n")
        self.assertEqual(bodies[2], b"slept 5\n")

    def test_defer_and_watches_are_refused_in_a_blocking_slot(self):
        port = self.start()
        self.assertEqual(self.fetch(port, "/defer").body, b"defer -22 watch -22\n")


class BlockingIO(PoolCase):
    def upload(self, port, target, body, chunk=None, expect=False):
        client = self.connect(port, timeout=30, deadline=120)
        headers = [("Host", "localhost")]
        if expect:
            headers.append(("Expect", "100-continue"))
        if chunk:
            head = request("PUT", target, "HTTP/1.1", headers + [("Transfer-Encoding", "chunked")])
            client.send(head)
            for i in range(0, len(body), chunk):
                piece = body[i:i + chunk]
                client.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            client.send(b"0\r\n\r\n")
        else:
            head = request("PUT", target, "HTTP/1.1", headers + [("Content-Length", len(body))])
            client.send(head)
            if expect:
                interim = client.read_response()
                self.assertEqual(interim.code, 100)
            client.send(body)
        return client.read_final_response()[1]

    def test_a_chunked_upload_is_read_piece_by_piece_with_bounded_memory(self):
        port = self.start()
        small = self.upload(port, "/upload", b"x" * 1000, chunk=100)
        _, _, rss_before = small.body.split()
        size = (8 if harness.INSTRUMENTED else 50) << 20
        body = harness.pseudo_random_bytes(size)
        resp = self.upload(port, "/upload", body, chunk=1 << 16)
        self.assertEqual(resp.code, 200)
        total, digest, rss_after = resp.body.split()
        self.assertEqual(int(total), size)
        self.assertEqual(digest.decode(), crc32(body))
        growth_mib = (int(rss_after) - int(rss_before)) / 1024
        self.assertLess(growth_mib, 16, f"resident memory grew {growth_mib:.1f} MiB")

    def test_uploads_with_content_length_and_100_continue(self):
        port = self.start()
        for size in (0, 1, 16383, 16384, 70000, 1 << 20):
            body = harness.pseudo_random_bytes(size, seed=size)
            resp = self.upload(port, "/upload", body, expect=size > 0)
            total, digest, _ = resp.body.split()
            self.assertEqual((int(total), digest.decode()), (size, crc32(body)))

    def test_a_stalled_upload_fails_the_read_at_the_body_deadline(self):
        port = self.start()
        client = self.connect(port, timeout=20, deadline=30)
        client.send(request("PUT", "/upload", "HTTP/1.1",
                            [("Host", "localhost"), ("Content-Length", 100)], b"abc"))
        closed, seconds, _ = client.wait_closed(15 * SLOW)
        self.assertTrue(closed)
        self.assertGreaterEqual(seconds, 2.5)
        self.expect_log("upload: read failed: Connection timed out", timeout=5 * SLOW)

    def test_a_slow_reader_makes_the_slot_wait_not_buffer(self):
        """64 pieces of 64 KiB to a client that reads slowly: all arrive, in order."""
        port = self.start()
        client = self.connect(port, rcvbuf=65536, timeout=20, deadline=60)
        client.send(get("/stream?64"))
        head = client.read_head()
        self.assertEqual(head.code, 200)
        got = 0
        for _ in range(100000):
            if got >= 64 * 65536:
                break
            got += len(client.read_body(min(65536, 64 * 65536 - got)))
            time.sleep(0.001)
        self.assertEqual(got, 64 * 65536)
        self.expect_log("stream: 64 pieces written")

    def test_a_client_that_leaves_mid_slot_fails_its_next_write(self):
        port = self.start()
        for _ in range(3):
            client = self.connect(port)
            client.send(get("/stream?2000"))
            client.read_head()
            client.read_body(100000)
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            client.close()
        self.expect_log("stream: write", "of 2000 failed", timeout=10 * SLOW, count=3)
        self.assertEqual(self.fetch(port, "/sleep?1").code, 200)

    def test_a_client_that_never_reads_fails_the_write_at_the_send_deadline(self):
        port = self.start()
        client = self.connect(port, rcvbuf=4096, timeout=30, deadline=60)
        client.send(get("/stream?1000"))
        self.expect_log("stream: write", "failed: Connection timed out", timeout=15 * SLOW)

    def test_a_file_and_bytes_after_it_from_a_blocking_slot(self):
        port = self.start()
        resp = self.fetch(port, "/file?big.bin")
        self.assertEqual(resp.body, self.doc.files["/big.bin"] + b"end\n")

    def test_flush_headers_sends_the_head_before_the_slot_goes_on(self):
        self.assert_head_comes_first("/slowbody?1500")


class WholeHandlerBlocking(PoolCase):
    mode = "blocking"

    def test_every_slot_runs_on_the_pool(self):
        port = self.start(4)
        results, seconds = self.concurrently(port, ["/sleep?500"] * 8 + ["/"] * 4)
        self.assertEqual([r.code for r in results], [200] * 12)
        self.assertGreaterEqual(seconds, 0.9)
        resp = self.fetch(port, "/big.bin")
        self.assertEqual(resp.body, self.doc.files["/big.bin"])


class Shutdown(PoolCase):
    def test_running_slots_finish_within_the_drain(self):
        port = self.start(4, 16, 10000)
        clients = [self.connect(port, timeout=20) for _ in range(4)]
        for c in clients:
            c.send(get("/sleep?1500"))
        time.sleep(0.3)
        self.server.send_signal(signal.SIGTERM)
        for c in clients:
            resp = c.read_response()
            self.assertEqual((resp.code, resp.body), (200, b"slept 1500\n"))
        self.assertEqual(self.server.wait_exit(10 * SLOW), 0)

    def test_past_the_drain_waits_end_and_queued_slots_get_503(self):
        port = self.start(1, 4, 500)
        stalled = self.connect(port, rcvbuf=4096, timeout=20)
        stalled.send(get("/stream?1000"))  # never read: its slot waits to write
        time.sleep(0.3)
        queued = [self.connect(port, timeout=20) for _ in range(2)]
        for c in queued:
            c.send(get("/sleep?10"))
        time.sleep(0.3)
        self.server.send_signal(signal.SIGTERM)
        for c in queued:
            self.assertEqual(c.read_response().code, 503)
        self.assertEqual(self.server.wait_exit(10 * SLOW), 0)
        self.assertIn("Operation canceled", self.server.stderr())


class DeferredResponses(PoolCase):
    """Deferred responses on the workers (not the pool): defects found by reading."""

    def test_a_file_queued_among_bytes_in_a_deferred_response(self):
        port = self.start()
        for name in ("big.bin", "a.txt", "empty.txt"):
            resp = self.fetch(port, f"/deferfile?{name}")
            self.assertEqual(resp.body, self.doc.files["/" + name] + b"end\n")

    def test_flush_headers_in_a_deferred_response(self):
        self.assert_head_comes_first("/deferhead?1500")


def crc32(data):
    return "%08x" % zlib.crc32(data)


if __name__ == "__main__":
    unittest.main()
