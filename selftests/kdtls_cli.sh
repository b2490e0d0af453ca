#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kdtls admin CLI (userspace/kdtls) in the VM (kdtls.ko loaded, root):
# TAP on stdout.
#
#   socket A 127.0.0.1:5101  <-- aes-128-gcm, 5 echoes -->  socket B :5102
#            \-- chacha20-poly1305 association for :5103 (no such peer:
#                a plain socket there sends one forged record -> drop-auth)
#   socket G 127.0.0.1:5110, attached by `kdtlsctl monitor --agent`
#
# Sockets, keys and associations are made with kdtlsctl (made-up mirrored
# keys, as the old demo did); a python3 helper holding A and B (fds 3 and
# 4) sends the traffic.  Then `kdtls show` (text, every field list,
# --json parsed by python3) must report exactly what happened, and two
# `kdtls monitor`s (text and --json) must print the association removal
# and the sockets' detach.

set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
[ -x "$REPO/userspace/kdtls/kdtls" ] || REPO=$(pwd)
KDTLS=$REPO/userspace/kdtls/kdtls
CTL=$REPO/userspace/kdtlsctl/kdtlsctl
A=127.0.0.1:5101 B=127.0.0.1:5102 C=127.0.0.1:5103 G=127.0.0.1:5110

# shellcheck source=lib/tap.sh
. "$REPO/selftests/lib/tap.sh"
tap_init cli

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# ---- usage errors ------------------------------------------------------
"$KDTLS" show nonsense > u1.out 2>&1; rc1=$?
"$KDTLS" show 1 nonsense > u2.out 2>&1; rc2=$?
"$KDTLS" --bogus > u3.out 2>&1; rc3=$?
"$KDTLS" show 1 peers --json > u4.out 2>&1; rc4=$?
[ $rc1 = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] && [ $rc4 = 2 ] &&
	grep -q "not all, sockets or a sock-id: nonsense" u1.out &&
	grep -q "unknown field nonsense" u2.out &&
	grep -q "unknown option --bogus" u3.out
check "bad arguments: exit 2 with a message naming the bad word" u?.out
"$KDTLS" show 4000000000 > u5.out 2>&1
[ $? = 1 ] && grep -q '^kdtls: sock-get: ' u5.out
check "unknown sock-id: exit 1, the kernel's error" u5.out
"$KDTLS" --help | grep -q '^usage: kdtls'
check "--help prints the usage"

# ---- monitors ----------------------------------------------------------
"$KDTLS" monitor > mon.txt 2> mon.err &
pids+=($!)
"$KDTLS" monitor --json > mon.json 2> monj.err &
pids+=($!)
wait_for mon.err 'listening for events' && wait_for monj.err 'listening'
check "kdtls monitor subscribes (\"listening for events\" on stderr)" \
	mon.err monj.err

# ---- sockets, associations, traffic -------------------------------------
k1=$(rand_hex 16) s1=$(rand_hex 4) k2=$(rand_hex 16) s2=$(rand_hex 4)
k3=$(rand_hex 32) s3=$(rand_hex 12) k4=$(rand_hex 32) s4=$(rand_hex 12)

cat > traffic.py <<'PY'
import select, socket, struct, sys
a = socket.socket(fileno=3)
b = socket.socket(fileno=4)
A = ("127.0.0.1", 5101)
for i in range(5):
    b.sendto(bytes([i]) * 100, A)
    a.settimeout(5)
    data, peer = a.recvfrom(2048)
    assert data == bytes([i]) * 100 and peer == ("127.0.0.1", 5102), (data, peer)
    a.sendto(data, peer)
    b.settimeout(5)
    back, _ = b.recvfrom(2048)
    assert back == data
# a forged record from the peer with the chacha association: type 23,
# DTLS 1.2, epoch 1, seq 0, 40 bytes that will not authenticate
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.1", 5103))
c.sendto(struct.pack("!BHH6sH", 23, 0xfefd, 1, b"\0" * 6, 40) + b"\x55" * 40, A)
select.select([a], [], [], 5)
a.setblocking(False)
try:
    print("unexpected", a.recvfrom(2048))
    sys.exit(1)
except BlockingIOError:
    pass
print("traffic done")
PY

cat > inner.sh <<'SH'
set -e
"$CTL" attach --fd 3 > a.id
"$CTL" attach --fd 4 > b.id
"$CTL" assoc add --fd 3 --peer "$B" --cipher aes-128-gcm \
	--tx-epoch 1 --tx-key "$k1" --tx-salt "$s1" \
	--rx-epoch 1 --rx-key "$k2" --rx-salt "$s2"
"$CTL" assoc add --fd 4 --peer "$A" --cipher aes-128-gcm \
	--tx-epoch 1 --tx-key "$k2" --tx-salt "$s2" \
	--rx-epoch 1 --rx-key "$k1" --rx-salt "$s1"
"$CTL" assoc add --fd 3 --peer "$C" --cipher chacha20-poly1305 \
	--tx-epoch 1 --tx-key "$k3" --tx-salt "$s3" \
	--rx-epoch 1 --rx-key "$k4" --rx-salt "$s4"
python3 traffic.py > traffic.out 2>&1
a=$(sed -n 's/^sock-id //p' a.id)
b=$(sed -n 's/^sock-id //p' b.id)
"$KDTLS" show > show.txt 2>&1
"$KDTLS" > show-noargs.txt 2>&1
"$KDTLS" show "$a" > show-a.txt 2>&1
"$KDTLS" show "$a" -v > show-a-v.txt 2>&1
"$KDTLS" show --json > show.json 2>&1
"$KDTLS" show "$a" --json > show-a.json 2>&1
"$KDTLS" show sockets > f-sockets.txt 2>&1
for f in peers ciphers epochs transfer drops stats; do
	"$KDTLS" show "$a" $f > "f-a-$f.txt" 2>&1
	"$KDTLS" show all $f > "f-all-$f.txt" 2>&1
done
"$CTL" assoc del --fd 3 --peer "$C"
SH
export CTL KDTLS A B C k1 s1 k2 s2 k3 s3 k4 s4
"$CTL" socket --bind "$A" --fd 3 -- \
	"$CTL" socket --bind "$B" --fd 4 -- bash inner.sh > inner.out 2>&1
rc=$?
a=$(sed -n 's/^sock-id //p' a.id 2>/dev/null)
b=$(sed -n 's/^sock-id //p' b.id 2>/dev/null)
[ $rc = 0 ] && grep -q "traffic done" traffic.out && [ -n "$a" ] && [ -n "$b" ]
check "two attached sockets, three associations, 5 echoes, a forged record" \
	inner.out traffic.out

# ---- text ------------------------------------------------------------------
# block NAME FILE: the lines of the block "NAME" (up to the blank line)
block() { awk -v h="$1" '$0 == h { p = 1 } p && /^$/ { exit } p' "$2"; }

block "socket: $a" show-a.txt > a.blk
block "peer: $B" show-a.txt > ab.blk
block "peer: $C" show-a.txt > ac.blk
has_line a.blk "  family: IPv4" &&
	has_line a.blk "  agent: none (handshake records go to the application)" &&
	has_line a.blk "  associations: 2 (limit 262144)" &&
	has_line a.blk "  transfer: 500 B received, 500 B sent" &&
	has_line a.blk "  records: 5 received, 5 sent" &&
	has_line a.blk "  drops: 1 auth"
check "show ID: the socket block (family, agent, associations, transfer, drops)" \
	show-a.txt
has_line ab.blk "  cipher: aes-128-gcm, DTLS 1.2" &&
	has_line ab.blk "  tx: epoch 1, next seq 5" &&
	has_line ab.blk "  rx: epoch 1, next expected seq 5, replay window 64" &&
	has_line ab.blk "  transfer: 500 B received, 500 B sent" &&
	! grep -q "drops" ab.blk
check "show ID: the peer block (cipher, epochs, seq, transfer, no zero drops)" \
	show-a.txt
has_line ac.blk "  cipher: chacha20-poly1305, DTLS 1.2" &&
	has_line ac.blk "  drops: 1 auth" &&
	has_line ac.blk "  records: 0 received, 0 sent"
check "show ID: the forged record is counted as an auth drop of its peer" \
	show-a.txt
grep -q "drops: 0 malformed, 0 version, 0 type, 0 epoch, 0 replay, 1 auth," \
	show-a-v.txt && grep -q "rekeys: 0 tx, 0 rx" show-a-v.txt
check "show -v: every drop reason and zero counters" show-a-v.txt
has_line show.txt "socket: $a" && has_line show.txt "socket: $b" &&
	has_line show.txt "peer: $A" && cmp -s show.txt show-noargs.txt
check "show (= show all = no arguments): both sockets and their peers" \
	show.txt show-noargs.txt
# peers sorted by address then port: 5102 before 5103
[ "$(grep '^peer:' show-a.txt)" = "peer: $B
peer: $C" ]
check "associations sorted by address and port" show-a.txt

# ---- field lists -------------------------------------------------------------
tab=$'\t'
has_line f-sockets.txt "$a" && has_line f-sockets.txt "$b"
check "show sockets: one sock-id per line" f-sockets.txt
[ "$(cat f-a-peers.txt)" = "$B
$C" ]
check "show ID peers" f-a-peers.txt
has_line f-a-ciphers.txt "$B${tab}aes-128-gcm" &&
	has_line f-a-ciphers.txt "$C${tab}chacha20-poly1305" &&
	has_line f-all-ciphers.txt "$b$tab$A${tab}aes-128-gcm" &&
	has_line f-all-ciphers.txt "$a$tab$B${tab}aes-128-gcm"
check "show ciphers: PEER CIPHER, prefixed with the sock-id for all" \
	f-a-ciphers.txt f-all-ciphers.txt
has_line f-a-epochs.txt "$B${tab}1${tab}5${tab}1${tab}5" &&
	has_line f-a-epochs.txt "$C${tab}1${tab}0${tab}1${tab}0"
check "show ID epochs: PEER TX-EPOCH TX-SEQ RX-EPOCH RX-SEQ" f-a-epochs.txt
has_line f-a-transfer.txt "$B${tab}500${tab}500" &&
	has_line f-a-transfer.txt "$C${tab}0${tab}0"
check "show ID transfer: PEER RX-BYTES TX-BYTES" f-a-transfer.txt
[ "$(cat f-a-drops.txt)" = "socket${tab}auth${tab}1
$C${tab}auth${tab}1" ]
check "show ID drops: only the non-zero reasons, socket and peer" f-a-drops.txt
has_line f-a-stats.txt "socket${tab}rx-records${tab}5" &&
	has_line f-a-stats.txt "$B${tab}tx-records${tab}5" &&
	has_line f-a-stats.txt "$C${tab}drop-replay${tab}0" &&
	has_line f-all-stats.txt "$a${tab}socket${tab}drop-auth${tab}1"
check "show stats: every counter by its spec name" f-a-stats.txt

# ---- JSON ----------------------------------------------------------------------
python3 - "$a" "$b" show.json show-a.json > json.out 2>&1 <<'PY'
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
every = json.load(open(sys.argv[3]))
one = json.load(open(sys.argv[4]))
assert isinstance(every, list) and isinstance(one, list) and len(one) == 1
socks = {s["sock-id"]: s for s in every}
sa, sb = socks[a], socks[b]
assert one[0]["sock-id"] == a
assert sa["family"] == 4 and sa["flags"] == [] and sa["agent-portid"] == 0
assert sa["num-assocs"] == 2 and sa["max-assocs"] == 262144
assert sa["stats"]["rx-records"] == 5 and sa["stats"]["tx-bytes"] == 500
assert sa["stats"]["drop-auth"] == 1 and sa["stats"]["drop-replay"] == 0
peers = {p["peer"]: p for p in sa["peers"]}
assert list(peers) == ["127.0.0.1:5102", "127.0.0.1:5103"]
pb, pc = peers["127.0.0.1:5102"], peers["127.0.0.1:5103"]
assert pb["cipher"] == "aes-128-gcm" and pb["version"] == 0xfefd
assert pb["tx"] == {"epoch": 1, "seq": 5} and pb["rx"] == {"epoch": 1, "seq": 5}
assert pc["tx"] == {"epoch": 1, "seq": 0} and pc["rx"] == {"epoch": 1, "seq": 0}
assert pb["replay-window"] == 64 and pb["stats"]["rx-bytes"] == 500
assert pc["cipher"] == "chacha20-poly1305" and pc["stats"]["drop-auth"] == 1
assert [p["peer"] for p in sb["peers"]] == ["127.0.0.1:5101"]
assert sb["peers"][0]["tx"]["seq"] == 5
print("json ok")
PY
check "show --json: parsed, every value as sent (sockets, peers, keys, stats)" \
	json.out show.json

# ---- monitor output ------------------------------------------------------------
wait_for mon.txt "socket $b: detached" 5 &&
	grep -qE "^[0-9:.]+ socket $a: association with $C removed$" mon.txt &&
	grep -qE "^[0-9:.]+ socket $a: detached$" mon.txt
check "monitor: the association removal and both detaches, one line each" \
	mon.txt mon.err
wait_for mon.json "\"sock-id\":$b" 5
python3 - "$a" "$b" mon.json > monj.out 2>&1 <<'PY'
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
ev = [json.loads(l) for l in open(sys.argv[3])]
dels = [e for e in ev if e["event"] == "assoc-del"]
dets = {e["sock-id"] for e in ev if e["event"] == "sock-detach"}
assert dels[0]["sock-id"] == a and dels[0]["peer"] == "127.0.0.1:5103", dels
assert {a, b} <= dets, dets
assert all(e["time"].endswith("Z") and "T" in e["time"] for e in ev)
print("monitor json ok")
PY
check "monitor --json: one object per event with time, event, sock-id, peer" \
	monj.out mon.json

# ---- the agent, by process -------------------------------------------------------
"$CTL" socket --bind "$G" -- "$CTL" monitor --agent --fd 3 > agent.out 2>&1 &
gpid=$!
pids+=("$gpid")
if wait_for agent.out '^listening'; then
	g=$(sed -n 's/^sock-id //p' agent.out)
	"$KDTLS" show "$g" > show-g.txt 2>&1
	"$KDTLS" show "$g" --json > show-g.json 2>&1
	grep -qE "^  agent: kdtlsctl\[$gpid\] \(netlink port [0-9]+\)$" \
		show-g.txt &&
		grep -q "\"agent\":\"kdtlsctl\[$gpid\]\"" show-g.json &&
		grep -q '"flags":\["agent"\]' show-g.json
	check "agent shown as the process that holds its netlink port" \
		show-g.txt show-g.json
else
	not_ok "kdtlsctl monitor --agent"; diag agent.out
fi
kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null

tap_done
