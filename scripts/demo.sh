#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh -- kdtls in one minute: an io_uring echo over DTLS 1.2
# records, with the record layer in the kernel.  Runs as root with kdtls.ko
# loaded, from the repository root: `make demo` boots a VM for it, or
#   scripts/vm-run --kernel 6.1 -- scripts/demo.sh
#
#   server 127.0.0.1:4433  <--- DTLS records on lo --->  client 127.0.0.1:4434
#   udp-echo-uring server                                udp-echo-uring client
#        (plaintext)        kdtls.ko seals/opens           (plaintext)
#
# Until the handshake daemon exists the keys are made up here: random
# AES-128-GCM keys and salts from /dev/urandom, installed mirrored (the
# server's TX key is the client's RX key and the other way round) with
# `kdtlsctl assoc add`.  kdtlsctl must hold a socket to name it, so each
# socket is created by `kdtlsctl socket`, attached and given its association
# by kdtlsctl, and then handed to the echo program on fd 3.
#
# A raw AF_PACKET socket on lo (a few lines of python3) captures the first
# datagram the client sends, to show that what crosses the wire is a DTLS
# record and not the plaintext.  At the end, `kdtlsctl show` prints both
# sockets with their association's counters.  Exit status: 0 if every echo
# came back intact, the capture is a DTLS 1.2 application-data record of
# epoch 1, and dmesg has no BUG/WARNING/Oops; 1 otherwise.

set -u

cd "$(dirname "$(readlink -f "$0")")/.." || exit 1
ctl=$PWD/userspace/kdtlsctl/kdtlsctl
echo_prog=$PWD/examples/udp-echo-uring
server=127.0.0.1:4433
client=127.0.0.1:4434
count=${KDTLS_DEMO_COUNT:-5}
size=${KDTLS_DEMO_SIZE:-64}

die()
{
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root with kdtls.ko loaded (make demo does both)"
[ -d /sys/module/kdtls ] || die "kdtls.ko is not loaded"
[ -x "$ctl" ] || die "$ctl missing: make userspace"
if [ ! -x "$echo_prog" ] || [ "$echo_prog.c" -nt "$echo_prog" ]; then
	make -s -C examples >/dev/null || die "building examples/ failed"
fi

work=$(mktemp -d) || die "mktemp failed"
pids=()
cleanup()
{
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Wait up to 10 s for a file to appear (a background step is ready).
wait_for()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

rand_hex()
{
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

step()
{
	printf '\n== %s\n' "$*"
}

echo "kdtls demo on Linux $(uname -r): DTLS 1.2 records in the kernel, io_uring above"

# ---- 1. keys ---------------------------------------------------------------
# c2s: client -> server, s2c: server -> client.
c2s_key=$(rand_hex 16) c2s_salt=$(rand_hex 4)
s2c_key=$(rand_hex 16) s2c_salt=$(rand_hex 4)
step "1. random AES-128-GCM keys (epoch 1), one per direction"
echo "   client -> server  key ${c2s_key:0:8}...  salt $c2s_salt"
echo "   server -> client  key ${s2c_key:0:8}...  salt $s2c_salt"

# ---- 2. server ---------------------------------------------------------------
# The socket lives in this process chain: kdtlsctl socket -> sh -> server
# (each execs the next, so $! is the echo server's pid).
step "2. server socket $server: attach, association for $client, echo server"
"$ctl" socket --bind "$server" -- sh -c '
	set -e
	"$0" attach --fd 3 > "$1/server.id"
	"$0" assoc add --fd 3 --peer "$2" --cipher aes-128-gcm \
		--tx-epoch 1 --tx-key "$3" --tx-salt "$4" \
		--rx-epoch 1 --rx-key "$5" --rx-salt "$6"
	echo ready >> "$1/server.id"
	exec "$7" server --fd 3 --quiet' \
	"$ctl" "$work" "$client" "$s2c_key" "$s2c_salt" "$c2s_key" "$c2s_salt" \
	"$echo_prog" > "$work/server.log" 2>&1 &
pids+=($!)
server_pid=$!
wait_for "$work/server.id" && grep -q ready "$work/server.id" ||
	{ cat "$work/server.log"; die "server setup failed"; }
server_id=$(sed -n 's/^sock-id \([0-9]*\).*/\1/p' "$work/server.id")
echo "   attached as sock-id $server_id; $(head -1 "$work/server.log")"

# ---- 3. capture --------------------------------------------------------------
step "3. a raw packet socket on lo, waiting for the first datagram to port ${server##*:}"
python3 - "$work/wire" "${server##*:}" > "$work/capture.log" 2>&1 <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("lo", 0)); s.settimeout(20)
open(sys.argv[1] + ".ready", "w").write("ready\n")
while True:
    ip = s.recv(65535)[14:]                      # skip the Ethernet header
    if ip[9] != 17: continue                     # UDP only
    udp = ip[(ip[0] & 15) * 4:]
    if struct.unpack("!H", udp[2:4])[0] == int(sys.argv[2]): break
open(sys.argv[1], "w").write(udp[8:].hex() + "\n")
PY
pids+=($!)
wait_for "$work/wire.ready" || { cat "$work/capture.log"; die "capture did not start"; }
echo "   listening"

# ---- 4. client ---------------------------------------------------------------
step "4. client socket $client: attach, association for $server, $count echoes over io_uring"
"$ctl" socket --bind "$client" -- bash -c '
	"$0" attach --fd 3 > "$1/client.id" &&
	"$0" assoc add --fd 3 --peer "$2" --cipher aes-128-gcm \
		--tx-epoch 1 --tx-key "$3" --tx-salt "$4" \
		--rx-epoch 1 --rx-key "$5" --rx-salt "$6" || exit 1
	echo "   attached as $(cat "$1/client.id")"
	"$7" client --fd 3 --peer "$2" --count "$8" --size "$9" | sed "s/^/   /"
	rc=${PIPESTATUS[0]}
	"$0" show --fd 3 > "$1/client.show" 2>&1
	exit $rc' \
	"$ctl" "$work" "$server" "$c2s_key" "$c2s_salt" "$s2c_key" "$s2c_salt" \
	"$echo_prog" "$count" "$size"
client_rc=$?

# ---- 5. what was on the wire -------------------------------------------------
step "5. the first datagram the client sent, as captured on lo"
capture_ok=0
if wait_for "$work/wire"; then
	wire=$(cat "$work/wire")
	# DTLS 1.2 record header (RFC 6347 4.1), 13 bytes:
	#   type(1) version(2) epoch(2) sequence_number(6) length(2)
	type=$((16#${wire:0:2})) version=${wire:2:4} epoch=$((16#${wire:6:4}))
	seq=$((16#${wire:10:12})) len=$((16#${wire:22:4}))
	total=$((${#wire} / 2))
	echo "   $total bytes of UDP payload:"
	echo "     header   ${wire:0:2} ${wire:2:4} ${wire:6:4} ${wire:10:12} ${wire:22:4}"
	echo "              type $type (application_data), version 0x$version (DTLS 1.2)," \
	     "epoch $epoch, seq $seq, length $len"
	echo "     nonce    ${wire:26:16}   (explicit part of the GCM nonce: epoch and seq)"
	echo "     cipher   ${wire:42:32}...   ($((len - 24)) bytes, then a 16-byte tag)"
	echo "     (message #1's plaintext starts 01000000...; the programs never see these bytes)"
	if [ "$type" = 23 ] && [ "$version" = fefd ] && [ "$epoch" = 1 ] &&
	   [ $((len + 13)) = "$total" ] && [ $((len - 24)) = "$size" ]; then
		capture_ok=1
	else
		echo "   NOT the expected DTLS 1.2 record of $size bytes of plaintext"
	fi
else
	echo "   nothing captured"
	cat "$work/capture.log"
fi

# ---- 6. statistics -------------------------------------------------------------
# Counters that are zero are left out to keep the lines short.
shorten()
{
	sed -E '/stats/{ :a; s/ [a-z-]+ 0( |$)/\1/; ta; }; s/^/     /'
}
step "6. kdtlsctl show: both sockets and their associations (zero counters omitted)"
echo "   server (sock-id $server_id):"
"$ctl" show --id "$server_id" 2>&1 | shorten
echo "   client (shown by the client's shell before it closed the socket):"
shorten < "$work/client.show"

kill -TERM "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
echo "   $(tail -1 "$work/server.log")"

# ---- verdict -------------------------------------------------------------------
bad_dmesg=$(dmesg | grep -E 'BUG:|WARNING:|Oops|lockdep|KASAN' | head -5)
step "result"
rc=0
if [ $client_rc != 0 ]; then
	echo "   FAIL: the echo client failed (status $client_rc)"; rc=1
fi
if [ $capture_ok != 1 ]; then
	echo "   FAIL: the capture is not the expected record"; rc=1
fi
if [ -n "$bad_dmesg" ]; then
	echo "   FAIL: kernel log:"; echo "$bad_dmesg" | sed 's/^/     /'; rc=1
fi
[ $rc = 0 ] && echo "   ok: $count echoes of $size bytes, sealed and opened by kdtls.ko"
exit $rc
