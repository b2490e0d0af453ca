#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh -- kdtls in one minute: DTLS 1.2 echo server and clients,
# the handshakes in kdtlsd, the records in the kernel.  Runs as root with
# kdtls.ko loaded, from the repository root: `make demo` boots a VM for it,
# or
#   scripts/vm-run --kernel 6.12 -- scripts/demo.sh
#
#   kdtls-echo-client x3 (certificate) --\          /-- :4433 certificate
#   kdtls-echo-client x2 (PSK) ----------- DTLS 1.2 -- kdtls-echo-server
#   openssl s_client --------------------/  on lo   \-- :4434 PSK
#            \___ kdtlsd: every handshake; kdtls.ko: every record ___/
#
# A test CA and a certificate for kdtls.test are made here with openssl.
# A raw packet socket (a few lines of python3) captures the first
# application datagram sent to the server, to show that what crosses the
# wire is a DTLS record and not the plaintext.  `kdtls show` prints the
# server's sockets while openssl s_client is still connected.
#
# Exit status: 0 if every client's echoes came back intact, the line
# openssl s_client sent came back, the capture is a DTLS 1.2
# application_data record of epoch 1, and dmesg has no BUG/WARNING/Oops;
# 1 otherwise.

set -u

cd "$(dirname "$(readlink -f "$0")")/.." || exit 1
repo=$PWD
kdtlsd=$repo/userspace/kdtlsd/kdtlsd
kdtls=$repo/userspace/kdtls/kdtls
server=$repo/examples/kdtls-echo-server
client=$repo/examples/kdtls-echo-client
count=${KDTLS_DEMO_COUNT:-5}
size=${KDTLS_DEMO_SIZE:-64}
psk=demo:000102030405060708090a0b0c0d0e0f

die()
{
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root with kdtls.ko loaded (make demo does both)"
[ -d /sys/module/kdtls ] || die "kdtls.ko is not loaded"
for p in "$kdtlsd" "$kdtls" "$server" "$client"; do
	[ -x "$p" ] || die "$p missing: make all"
done

work=$(mktemp -d) || die "mktemp failed"
pids=()
cleanup()
{
	local p
	exec 7>&- 2>/dev/null
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

# wait_for FILE REGEX: poll up to 20 s for a line (a background step is ready)
wait_for()
{
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

step()
{
	printf '\n== %s\n' "$*"
}

indent()
{
	sed "s/^/   ${1:-}/"
}

echo "kdtls demo on Linux $(uname -r): DTLS 1.2 for UDP sockets."
echo "Handshakes run in kdtlsd, records are sealed and opened by kdtls.ko,"
echo "and the programs send and receive plaintext only."

# ---- 1. kdtlsd and a certificate -------------------------------------------
step "1. a test CA and a certificate for kdtls.test (openssl), then kdtlsd"
# shellcheck source=../selftests/lib/testca.sh
. "$repo/selftests/lib/testca.sh"
testca_make "$work" || { cat openssl.log; die "openssl failed"; }
printf '[daemon]\ncontrol_socket = %s/kdtlsd.ctl\n' "$work" > kdtlsd.conf
"$kdtlsd" -f -c kdtlsd.conf 2> kdtlsd.log &
pids+=($!)
wait_for kdtlsd.log 'ready' || { cat kdtlsd.log; die "kdtlsd did not start"; }
export KDTLSD_SOCKET=$work/kdtlsd.ctl
echo "   kdtlsd runs; programs reach it through \$KDTLSD_SOCKET"

# ---- 2. the servers ---------------------------------------------------------
step "2. kdtls-echo-server: one UDP socket for all its peers, on io_uring"
"$server" --port 4433 --addr 127.0.0.1 --cert server.pem --key server.key \
	> srv-cert.log 2>&1 &
pids+=($!)
srv_cert=$!
wait_for srv-cert.log '^listening' ||
	{ cat srv-cert.log kdtlsd.log; die "the server did not start"; }
"$server" --port 4434 --addr 127.0.0.1 --psk "$psk" > srv-psk.log 2>&1 &
pids+=($!)
srv_psk=$!
wait_for srv-psk.log '^listening' ||
	{ cat srv-psk.log kdtlsd.log; die "the PSK server did not start"; }
head -1 srv-cert.log | indent
head -1 srv-psk.log | indent

# ---- 3. the capture -----------------------------------------------------------
python3 - wire 4433 > capture.log 2>&1 <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("lo", 0)); s.settimeout(60)
open(sys.argv[1] + ".ready", "w").write("ready\n")
while True:
    ip = s.recv(65535)[14:]                      # skip the Ethernet header
    if ip[9] != 17: continue                     # UDP only
    udp = ip[(ip[0] & 15) * 4:]
    if struct.unpack("!H", udp[2:4])[0] != int(sys.argv[2]): continue
    if udp[8] == 23: break                       # application_data
open(sys.argv[1], "w").write(udp[8:].hex() + "\n")
PY
pids+=($!)
wait_for wire.ready ready || { cat capture.log; die "capture did not start"; }

# ---- 4. the clients -------------------------------------------------------------
step "3. five clients at once: three with certificates, two with a pre-shared key"
cpids=()
for i in 1 2 3; do
	"$client" --host 127.0.0.1 --port 4433 --name kdtls.test --ca ca.pem \
		--count "$count" --size "$size" > "client$i.log" 2>&1 &
	cpids+=($!)
done
for i in 4 5; do
	"$client" --host 127.0.0.1 --port 4434 --psk "$psk" \
		--count "$count" --size "$size" > "client$i.log" 2>&1 &
	cpids+=($!)
done
clients_ok=1
for i in 1 2 3 4 5; do
	wait "${cpids[$((i - 1))]}" || clients_ok=0
	indent "client $i: " < "client$i.log"
done

# ---- 5. the wire ------------------------------------------------------------------
step "4. the first application datagram a client sent to port 4433, on lo"
capture_ok=0
if wait_for wire .; then
	wire=$(cat wire)
	# DTLS 1.2 record header (RFC 6347 4.1), 13 bytes:
	#   type(1) version(2) epoch(2) sequence_number(6) length(2)
	type=$((16#${wire:0:2})) version=${wire:2:4} epoch=$((16#${wire:6:4}))
	seq=$((16#${wire:10:12})) len=$((16#${wire:22:4}))
	total=$((${#wire} / 2))
	echo "   header   ${wire:0:2} ${wire:2:4} ${wire:6:4} ${wire:10:12} ${wire:22:4}"
	echo "            type $type (application_data), version 0x$version" \
	     "(DTLS 1.2), epoch $epoch, seq $seq, length $len"
	echo "   body     ${wire:26:32}...  ($len bytes: $size of ciphertext," \
	     "$((len - size)) of nonce and tag)"
	# the client's message 0 starts 01 08 0f 16 (kdtls-echo-client fill())
	if [ "$type" = 23 ] && [ "$version" = fefd ] && [ "$epoch" = 1 ] &&
	   [ $((len + 13)) = "$total" ] && [ "${wire:26:8}" != 01080f16 ] &&
	   [ $((len - size)) -ge 16 ] && [ $((len - size)) -le 24 ]; then
		capture_ok=1
	else
		echo "   NOT the expected DTLS 1.2 record of $size bytes of plaintext"
	fi
else
	echo "   nothing captured"
	cat capture.log
fi

# ---- 6. openssl s_client, kept connected -------------------------------------------
step "5. openssl s_client -dtls1_2 talks to the same server"
mkfifo sc.fifo
openssl s_client -dtls1_2 -connect 127.0.0.1:4433 -quiet -CAfile ca.pem \
	-verify_return_error -verify_hostname kdtls.test < sc.fifo \
	> s_client.log 2>&1 &
pids+=($!)
exec 7> sc.fifo
echo "hello from openssl s_client" >&7
openssl_ok=0
if wait_for s_client.log '^hello from openssl s_client'; then
	echo "   sent \"hello from openssl s_client\", the server sent it back"
	openssl_ok=1
else
	echo "   no echo"; indent < s_client.log
fi

# ---- 7. kdtls show -----------------------------------------------------------------------
step "6. kdtls show: the server's sockets (s_client still connected)"
"$kdtls" show 2>&1 | indent
exec 7>&-

step "7. what the certificate server printed"
kill -TERM "$srv_cert" "$srv_psk" 2>/dev/null
wait "$srv_cert" "$srv_psk" 2>/dev/null
indent < srv-cert.log

# ---- verdict -------------------------------------------------------------------------------
bad_dmesg=$(dmesg | grep -E 'BUG:|WARNING:|Oops|lockdep|KASAN' | head -5)
step "result"
rc=0
if [ $clients_ok != 1 ]; then
	echo "   FAIL: an echo client failed"; rc=1
fi
if [ $openssl_ok != 1 ]; then
	echo "   FAIL: openssl s_client's line did not come back"; rc=1
fi
if [ $capture_ok != 1 ]; then
	echo "   FAIL: the capture is not the expected record"; rc=1
fi
if [ -n "$bad_dmesg" ]; then
	echo "   FAIL: kernel log:"; echo "$bad_dmesg" | indent; rc=1
fi
[ $rc = 0 ] && echo "   ok: 5 clients x $count echoes of $size bytes and openssl's" \
	"line, sealed and opened by kdtls.ko"
exit $rc
