#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A lossy UDP relay for the kdtlsd tests, and a record-number auditor.

  client --> LISTEN (this relay) --> SERVER       (one client, one server)

  kdtlsd_relay.py LISTEN_PORT SERVER_PORT LOG [--drop-final N] [--loss P]
                  [--seed S]

--drop-final N drops the first N server->client datagrams that carry an
epoch-1 handshake record (the server's final flight: CCS + Finished), so
the client retransmits its own final flight and the server must answer it
after its keys are in the kernel.  --loss P drops each handshake datagram
(first record not application data) with probability P, both directions:
the test applications do not retransmit their own data.  Every DTLS record header that passes is
logged as "dir epoch seq type len"; on SIGTERM the relay checks that no
(direction, epoch >= 1, seq) was forwarded twice with different bytes --
DESIGN.md invariant 1 as seen on the wire -- and exits 0 if so, 1 if not.
(Byte-identical duplicates would be a retransmission of the same record,
which AEAD tolerates; kdtls never produces them, and they are counted.)
"""
import random
import select
import signal
import socket
import struct
import sys

listen_port, server_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
args = sys.argv[4:]
drop_final = int(args[args.index("--drop-final") + 1]) if "--drop-final" in args else 0
loss = float(args[args.index("--loss") + 1]) if "--loss" in args else 0.0
rng = random.Random(int(args[args.index("--seed") + 1]) if "--seed" in args else 1)

front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", listen_port))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
back.bind(("127.0.0.1", 0))
server = ("127.0.0.1", server_port)
client = None
seen = {}
bad = []
log = open(log_path, "w", buffering=1)
stop = False


def records(d):
    off = 0
    while off + 13 <= len(d):
        typ = d[off]
        epoch = struct.unpack("!H", d[off + 3:off + 5])[0]
        seq = int.from_bytes(d[off + 5:off + 11], "big")
        ln = struct.unpack("!H", d[off + 11:off + 13])[0]
        yield typ, epoch, seq, d[off:off + 13 + ln]
        off += 13 + ln


def audit(direction, d):
    for typ, epoch, seq, rec in records(d):
        log.write("%s %d %d %d %d\n" % (direction, epoch, seq, typ, len(rec)))
        if epoch == 0:
            continue
        key = (direction, epoch, seq)
        if key in seen and seen[key] != rec:
            bad.append(key)
            log.write("REUSED %s %d %d\n" % key)
        seen[key] = rec


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
print("relay ready", flush=True)
while not stop:
    try:
        r, _, _ = select.select([front, back], [], [], 0.2)
    except InterruptedError:
        continue
    for s in r:
        d, addr = s.recvfrom(65536)
        if s is front:
            client = addr
            if loss and d[:1] != b"\x17" and rng.random() < loss:
                log.write("drop c2s\n")
                continue
            audit("c2s", d)
            back.sendto(d, server)
        else:
            if client is None:
                continue
            final = any(e == 1 and t == 22 for t, e, _, _ in records(d))
            if final and drop_final > 0:
                drop_final -= 1
                log.write("drop s2c final flight\n")
                continue
            if loss and d[:1] != b"\x17" and rng.random() < loss:
                log.write("drop s2c\n")
                continue
            audit("s2c", d)
            front.sendto(d, client)
log.write("records with a reused (epoch, seq): %d\n" % len(bad))
sys.exit(1 if bad else 0)
