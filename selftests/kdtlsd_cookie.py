#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Cookie rotation against a kdtlsd server, from the wire (kdtlsd tests).

  kdtlsd_cookie.py SERVER_PORT

The server's [cookie] rotate_seconds is short (2 s).  A rotation is seen as
a change of the cookie the server gives the same ClientHello (same source
address, port, random and suites) -- asking is stateless.  Then:
  1. a cookie obtained just before a rotation is still accepted after it
     (the server answers with a ServerHello, not a HelloVerifyRequest);
  2. a cookie obtained before two rotations is refused (HelloVerifyRequest).
Prints "ok"/"not ok" lines for the TAP script; exit 0 when both hold.
"""
import os
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])
EXT = (struct.pack("!HHH", 0x000a, 6, 4) + struct.pack("!HH", 0x001d, 0x0017) +
       struct.pack("!HHBB", 0x000b, 2, 1, 0) +
       struct.pack("!HHHH", 0x000d, 4, 2, 0x0403) +
       struct.pack("!HH", 0x0017, 0))


class Client:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(3)
        self.random = os.urandom(32)
        self.seq = 0

    def hello(self, cookie=b"", msg_seq=0):
        body = (b"\xfe\xfd" + self.random + b"\x00" + bytes([len(cookie)]) +
                cookie + struct.pack("!H", 2) + b"\xc0\x2b" + b"\x01\x00" +
                struct.pack("!H", len(EXT)) + EXT)
        ln = struct.pack("!I", len(body))[1:]
        hs = b"\x01" + ln + struct.pack("!H", msg_seq) + b"\x00\x00\x00" + ln + body
        rec = (b"\x16\xfe\xfd\x00\x00" + self.seq.to_bytes(6, "big") +
               struct.pack("!H", len(hs)) + hs)
        self.seq += 1
        self.s.sendto(rec, ("127.0.0.1", PORT))
        d = self.s.recv(4096)
        return d[13], d      # handshake message type of the first record

    def cookie(self):
        t, d = self.hello()
        if t != 3:
            raise SystemExit("not ok - expected a HelloVerifyRequest, got %d" % t)
        clen = d[13 + 12 + 2]
        return d[13 + 12 + 3:13 + 12 + 3 + clen]


def wait_rotations(c, n, first):
    cur, seen = first, 0
    end = time.time() + 20
    while seen < n and time.time() < end:
        time.sleep(0.1)
        now = c.cookie()
        if now != cur:
            seen, cur = seen + 1, now
    if seen < n:
        raise SystemExit("not ok - no rotation seen in 20 s")
    return cur


ok = True
# 1. accepted for one period after a rotation
a = Client()
old = a.cookie()
wait_rotations(a, 1, old)
t, _ = a.hello(old, msg_seq=1)
if t == 2:
    print("ok - cookie from before a rotation accepted after it (ServerHello)")
else:
    print("not ok - old-secret cookie refused right after a rotation (type %d)" % t)
    ok = False
# 2. refused after two rotations
b = Client()
old = b.cookie()
wait_rotations(b, 2, old)
t, _ = b.hello(old, msg_seq=1)
if t == 3:
    print("ok - cookie from before two rotations refused (HelloVerifyRequest)")
else:
    print("not ok - cookie still accepted after two rotations (type %d)" % t)
    ok = False
sys.exit(0 if ok else 1)
