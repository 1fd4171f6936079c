#!/usr/bin/env python3
"""seeds.py: writes the seed corpora, fuzz/corpus/<target>/<name>, from the tables below.

Each file is the target's choice bytes (see the comment at the top of fuzz_<target>.c) then
hand-written input. run(count, byte) is fuzz_expand's marker for a long run of one byte.
Run it again after changing a table: `python3 fuzz/seeds.py`.
"""

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def run(count, byte):
    """fuzz_expand: 0xFF 0xFE, the count (2 bytes, big-endian), the byte."""
    return b"\xff\xfe" + count.to_bytes(2, "big") + byte


REQLINE = {  # after 1 split byte
    "get11": b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    "get10": b"GET / HTTP/1.0\r\n",
    "http09": b"GET /a.txt\r\n",
    "post09": b"POST /a.txt\n",
    "badver": b"GET / HTTP/1.1.1\r\n",
    "v2": b"GET / HTTP/2.0\r\n",
    "v10digits": b"GET / HTTP/0000000001.0000000001\r\n",
    "v11digits": b"GET / HTTP/00000000001.1\r\n",
    "fourwords": b"GET / x HTTP/1.1\r\n",
    "oneword": b"GET\r\n",
    "empty": b"\r\n",
    "spaces": b" \t\x0b\x0c\x1c\x85\xa0 GET\xa0/\x85HTTP/1.0\r\n",
    "bare_cr": b"GET / HTTP/1.1\rHost: x\r\n",
    "nul": b"GET /\x00 HTTP/1.1\r\n",
    "line_at_cap": b"GET /" + run(65536 - 16, b"a") + b" HTTP/1.1\n",
    "line_over_cap": b"GET /" + run(65536 - 15, b"a") + b" HTTP/1.1\n",
    "ctl_nul": b"GET /a.txt\x00.png HTTP/1.0\r\n",
    "tls_hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "absolute": b"http://127.0.0.1:8000/hello.txt",
    "absolute_v6": b"https://[::1]:8443/a?b",
    "host_v6_nul": b"[::\x00]",
    "bad_scheme": b"ftp://h/x",
}

HEADERS = {  # after 2 split bytes
    "simple": b"Host: example.com\r\nAccept: */*\r\n\r\nGET / HTTP/1.1\r\n",
    "bare_lf": b"Host: x\nX: y\n\nbody",
    "empty": b"\r\n",
    "ows": b"Host:\t x \t\r\nX:\r\nY:  \r\n\r\n",
    "space_before_colon": b"Host : x\r\n\r\n",
    "obs_fold": b"X: a\r\n b\r\n\r\n",
    "bare_cr": b"X: a\rb\r\n\r\n",
    "nul": b"X: a\x00b\r\n\r\n",
    "no_colon": b"Host x\r\n\r\n",
    "bad_name": b"X(y): z\r\n\r\n",
    "te_cl": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding : x\r\n\r\n",
    "many": b"".join(b"H%d: v\r\n" % i for i in range(99)) + b"\r\n",
    "too_many": b"".join(b"H%d: v\r\n" % i for i in range(100)) + b"\r\n",
    "line_at_cap": b"X: " + run(65536 - 5, b"a") + b"\r\n\r\n",
    "line_over_cap": b"X: " + run(65536 - 4, b"a") + b"\r\n\r\n",
    "head_over_cap": b"".join(b"X%d: " % i + run(60000, b"b") + b"\r\n" for i in range(5)) + b"\r\n",
}

CHUNKED = {  # after the mode byte (even: raw) and 2 split bytes
    "simple": b"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    "two": b"3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n",
    "trailer": b"1\r\nx\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n",
    "upper": b"00aB\r\n" + b"z" * 171 + b"\r\n0\r\n\r\n",
    "bws": b"2 ;a=\"b;c\"\r\nxy\r\n0\r\n\r\n",
    "bare_lf": b"5\nhello\n0\n\n",
    "bare_cr": b"5\rhello\r\n0\r\n\r\n",
    "sign": b"+5\r\nhello\r\n0\r\n\r\n",
    "hex_prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "overflow": b"10000000000000000\r\nx\r\n",
    "max": b"7fffffffffffffff\r\nx",
    "space_before": b" 5\r\nhello\r\n0\r\n\r\n",
    "no_crlf_after_data": b"5\r\nhelloXX0\r\n\r\n",
    "ext_at_cap": b"1;" + run(4095, b"e") + b"\r\nx\r\n0\r\n\r\n",
    "ext_over_cap": b"1;" + run(4096, b"e") + b"\r\nx\r\n0\r\n\r\n",
    "trailer_over_cap": b"0\r\nX: " + run(8192, b"v") + b"\r\n\r\n",
    "zeros": run(4096, b"0") + b"\r\n\r\n",
    "obs_fold_trailer": b"0\r\nX: a\r\n b\r\n\r\n",
}
CHUNKED_ENCODE = {  # after the mode byte (odd: encode), 2 split bytes, 4 seed bytes
    "encode_text": b"\x11\x22\x33\x44hello, chunked world\r\n0\r\n\r\n",
    "encode_binary": b"\x01\x02\x03\x04" + bytes(range(256)),
}

PATH = {  # after 1 byte picking the output size (< 0x80: roomy)
    "root": b"/",
    "file": b"/a/b/c.txt?x=1#frag",
    "dotdot": b"/../../etc/passwd",
    "enc_dotdot": b"/%2e%2E/%2e%2e%2fetc/passwd",
    "slash_enc": b"/a%2fb%2F../c/",
    "mixed": b"//a/./b/../../../c//d/.",
    "nul": b"/a%00b",
    "nul_cancelled": b"/%00/..",
    "bad_escapes": b"/%%2f%2/%g0%",
    "trailing_space": b"/dir/ \x0b\xa0?q",
    "hash_first": b"/a#b?c/../..",
    "dots3": b"/.../..../. ./",
}

HTTPDATE = {  # after the mode byte (even: parse)
    "imf": b"Sun, 06 Nov 1994 08:49:37 GMT",
    "rfc850": b"Sunday, 06-Nov-94 08:49:37 GMT",
    "asctime": b"Sun Nov  6 08:49:37 1994",
    "zone": b"Sun, 06 Nov 1994 08:49:37 +0130",
    "zone_neg": b"Sun, 06 Nov 1994 08:49:37 -2359",
    "zone_name": b"6 Nov 1994 08:49 EST",
    "leap": b"Thu, 29 Feb 2024 23:59:59 GMT",
    "not_leap": b"Thu, 29 Feb 2023 23:59:59 GMT",
    "year1": b"Mon, 01 Jan 0001 00:00:00 GMT",
    "year9999": b"Fri, 31 Dec 9999 23:59:59 -0000",
    "two_digit": b"Mon, 01 Jan 69 00:00:00 GMT",
    "garbage": b"yesterday",
    "sec60": b"Sat, 31 Dec 2016 23:59:60 GMT",
    "dotted": b"Sun, 06 Nov 1994 08.49.37 GMT",
}


RANGE = {  # after 8 bytes choosing the size (low bits 01: size % 1000000; 10, 11: % 64)
    "simple": b"bytes=0-99",
    "suffix": b"bytes=-500",
    "open": b"bytes=9500-",
    "multi": b"bytes=0-0, 5-9 ,, 20-",
    "overlap": b"bytes=0-10,5-20",
    "unit_case": b"BYTES=1-2",
    "huge": b"bytes=0-99999999999999999999999999",
    "past_end": b"bytes=1000000000-",
    "bad": b"bytes=5-1",
    "not_bytes": b"items=0-1",
    "many": b"bytes=" + b",".join(b"%d-%d" % (i * 3, i * 3 + 1) for i in range(120)),
}

CONDITIONAL = {  # after 1 byte picking the validators; lines "<name byte>value"
    "if_none_match": b"\x01\"1234-2a-6553f100.5\", W/\"x\"",
    "star": b"\x00*",
    "if_match_weak": b"\x00W/\"1234-2a-6553f100.5\"",
    "ims": b"\x02Tue, 14 Nov 2023 22:13:20 GMT",
    "ius": b"\x03Tue, 14 Nov 2023 22:13:20 GMT\n\x00\"a\", \"b\"",
    "if_range_date": b"\x04Tue, 14 Nov 2023 22:13:20 GMT",
    "if_range_tag": b"\x04\"1234-2a-6553f100.5\"",
    "invalid_list": b"\x01\"a\" \"b\"\n\x01,,\n\x01\"unterminated",
}

ACCEPT_ENCODING = {  # after 1 byte of available codings (bit 1 gzip, bit 2 br)
    "simple": b"gzip, deflate, br",
    "weights": b"br;q=0.5, gzip;q=1.0, identity;q=0",
    "star": b"*;q=0.1\nidentity;q=0",
    "x_gzip": b"x-gzip",
    "bad_q": b"gzip;q=2, br;q=0.1234, *;q=abc",
    "spaces": b" gzip ; q = 0.5 ,br;Q=1",
    "empty": b"",
}


CGI_HEAD = {  # after 2 split bytes
    "simple": b"Content-Type: text/html\r\n\r\n<html>",
    "bare_lf": b"Content-type: text/plain\n\nbody\n",
    "status": b"Status: 404 Not Found\nContent-Type: text/plain\n\nmissing",
    "status_code_only": b"Status: 201\r\nLocation: /new\r\n\r\n",
    "status_reason_spaces": b"Status:  302  Found  \nLocation: http://x/\n\n",
    "status_bad": b"Status: 20x OK\n\n",
    "status_low": b"Status: 199 Early\n\n",
    "status_high": b"Status: 600 Odd\n\n",
    "status_glued": b"Status: 200OK\n\n",
    "status_twice": b"Status: 200 OK\nstatus: 200 OK\n\n",
    "location": b"Location: /elsewhere\n\n",
    "content_length": b"Content-Length: 5\r\ncontent-length: 5\r\nContent-Type: a/b\r\n\r\nhello",
    "cl_conflict": b"Content-Length: 5\nContent-Length: 6\n\n",
    "cl_sign": b"Content-Length: -1\n\n",
    "cl_18": b"Content-Length: 123456789012345678\n\n",
    "cl_19": b"Content-Length: 1234567890123456789\n\n",
    "hop_by_hop": b"Connection: close\nTransfer-Encoding: chunked\nKeep-Alive: 5\nTE: x\n"
                  b"Trailer: y\nUpgrade: z\nX-Kept: 1\n\n",
    "continuation": b"X: a\n b\n\n",
    "tab_continuation": b"X: a\n\tb\n\n",
    "no_colon": b"Content-Type text/html\n\n",
    "empty_name": b": x\n\n",
    "bad_name": b"X Y: z\n\n",
    "space_before_colon": b"X : z\n\n",
    "control": b"X: a\x01b\n\n",
    "del": b"X: a\x7f\n\n",
    "tabs": b"X:\t a\tb \t\n\n",
    "empty_value": b"X:\nY:   \n\n",
    "nul": b"X: a\x00b\n\n",
    "bare_cr": b"X: a\rb\n\n",
    "cr_cr_lf": b"X: a\r\r\n\r\n",
    "mixed_ends": b"A: 1\r\nB: 2\n\r\n",
    "obs_text": b"X: caf\xe9\n\n",
    "empty": b"\n",
    "crlf": b"\r\n",
    "unfinished": b"Content-Type: text/html\r\n",
    "many": b"".join(b"H%d: v\n" % i for i in range(100)) + b"\n",
    "too_many": b"".join(b"H%d: v\n" % i for i in range(101)) + b"\n",
    "many_and_hop": b"".join(b"H%d: v\n" % i for i in range(100)) + b"TE: x\nConnection: y\n"
                    b"Content-Length: 0\n\n",
    "at_cap": b"X: " + run(65531, b"a") + b"\n\n",
    "over_cap": b"X: " + run(65532, b"a") + b"\n\n",
    "crlf_at_cap": b"X: " + run(65529, b"a") + b"\r\n\r\n",
    "no_line_end": run(65535, b"a") + b"a",
    "lines_to_cap": b"".join(b"A: " + run(16000, b"b") + b"\n"
                             for _ in range(4)) + b"\n",
}

CGI_PATH = {  # after 1 byte choosing the CGI directories (0x03: /cgi-bin and /htbin)
    "script": b"/cgi-bin/test.py",
    "info_query": b"/cgi-bin/test.py/extra/path?a=1&b=/../..",
    "dir_only": b"/cgi-bin",
    "dir_slash": b"/cgi-bin/",
    "double_slash": b"//cgi-bin//x",
    "dots": b"/a/./b/../cgi-bin/./x/.",
    "dotdot_tail": b"/cgi-bin/x/..",
    "too_many_dotdot": b"/cgi-bin/../../x",
    "enc_slash": b"/cgi-bin%2fx%2F..%2fy",
    "enc_dots": b"/%2e%2e/cgi-bin/%2E/x",
    "enc_query": b"/cgi-bin/x%3Fy?z",
    "empty_query": b"/htbin/x?",
    "query_only": b"?q",
    "relative": b"x/../cgi-bin/y",
    "latin1": b"/cgi-bin/caf\xe9/\xa0",
    "utf8": b"/cgi-bin/%C3%A9%E2%82%AC%F0%9F%98%80",
    "bad_utf8": b"/cgi-bin/%E2%82/%C0%AF/%ED%A0%80/%F4%90%80%80/%FF",
    "mixed_run": b"/%C3\xe9%A9/%E2%82\x80%AC",
    "nul": b"/cgi-bin/a%00b?x\x00y",
    "raw_nul": b"/a\x00b/c",
    "hash": b"/cgi-bin/x#frag/..",
    "trailing_space": b"/cgi-bin/x/ \x0b",
    "bad_escapes": b"/%%2/%g0/%",
    "double_enc": b"/cgi-bin/%252e%252e/%25ED%25B2%2580",
    "nbsp_tail": b"/cgi-bin/x/%C2%A0",
}


def main():
    sets = {
        "reqline": {k: b"\x80" + v for k, v in REQLINE.items()},
        "headers": {k: b"\x00\x80" + v for k, v in HEADERS.items()},
        "chunked": {**{k: b"\x00\x00\x80" + v for k, v in CHUNKED.items()},
                    **{k: b"\x01\x00\x80" + v for k, v in CHUNKED_ENCODE.items()}},
        "path": {**{k: b"\x00" + v for k, v in PATH.items()},
                 "small_out": b"\x85/abc/def", "exact_out": b"\x88/abc/defg"},
        "httpdate": {**{k: b"\x00" + v for k, v in HTTPDATE.items()},
                     "roundtrip": b"\x01\x00\x10\x20\x30\x40\x50\x60\x70"},
        "range": {**{k: b"\x11\x27\x00\x00\x00\x00\x00\x00" + v for k, v in RANGE.items()},
                  "size_any": b"\x00\x00\x00\x00\x00\x00\x00\x80bytes=-1",
                  "size_small": b"\x02\x00\x00\x00\x00\x00\x00\x00bytes=0-3,5-"},
        "conditional": {k: b"\x07" + v for k, v in CONDITIONAL.items()},
        "encoding": {k: b"\x07" + v for k, v in ACCEPT_ENCODING.items()},
        "cgi_head": {k: b"\x00\x80" + v for k, v in CGI_HEAD.items()},
        "cgi_path": {**{k: b"\x03" + v for k, v in CGI_PATH.items()},
                     "all_dirs": b"\xff//a/b/cgi-bin/sub/x", "no_dirs": b"\x00/cgi-bin/x"},
    }
    for target, files in sets.items():
        d = os.path.join(HERE, "corpus", target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
