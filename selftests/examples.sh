#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DTLS echo examples (examples/kdtls-echo-server, kdtls-echo-client)
# in the VM (kdtls.ko loaded, root): TAP on stdout.
#
#   kdtls-echo-client x N --\                         /-- openssl s_client
#                            UDP 127.0.0.1, records   |
#   kdtls-echo-server <------ sealed/opened by -------+
#     (cert :4433, PSK :4434)  kdtls.ko               |
#   kdtls-echo-client --------------------------------+--> openssl s_server
#        \______ one kdtlsd runs every handshake ____/
#
# One kdtlsd (control socket in a temporary directory, named to the
# programs by $KDTLSD_SOCKET) is the agent of every kdtls socket here.
# Certificates (ECDSA P-256 CA + leaf for kdtls.test / 127.0.0.1) are made
# at run time with the openssl CLI.  KDTLS_EXAMPLES_CLIENTS (default 4)
# clients run at once; each echoes KDTLS_EXAMPLES_COUNT (default 20)
# datagrams.

set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
[ -x "$REPO/examples/kdtls-echo-server" ] || REPO=$(pwd)
SERVER=$REPO/examples/kdtls-echo-server
CLIENT=$REPO/examples/kdtls-echo-client
KDTLSD=$REPO/userspace/kdtlsd/kdtlsd
KDTLS=$REPO/userspace/kdtls/kdtls
PSK=echo-test:00112233445566778899aabbccddeeff
NCLIENTS=${KDTLS_EXAMPLES_CLIENTS:-4}
COUNT=${KDTLS_EXAMPLES_COUNT:-20}

# shellcheck source=lib/tap.sh
. "$REPO/selftests/lib/tap.sh"
# shellcheck source=lib/testca.sh
. "$REPO/selftests/lib/testca.sh"
tap_init examples

# ---- usage errors (no kdtlsd needed) ----------------------------------
"$SERVER" --port 4433 > u1 2>&1; r1=$?
"$SERVER" --port 4433 --cert a --key b --psk x:00 > u2 2>&1; r2=$?
"$CLIENT" --port 4433 > u3 2>&1; r3=$?
"$CLIENT" --host 127.0.0.1 --port 4433 --psk nokey > u4 2>&1; r4=$?
"$CLIENT" --host 127.0.0.1 --port 99999 > u5 2>&1; r5=$?
if [ $r1 = 2 ] && [ $r2 = 2 ] && [ $r3 = 2 ] && [ $r4 = 2 ] && [ $r5 = 2 ] &&
   grep -q "give --cert and --key, or --psk" u1 u2 &&
   grep -q "bad --psk nokey" u4 && grep -q "bad --port: 99999" u5; then
	ok "bad command lines: exit 2 with a message"
else
	not_ok "bad command lines ($r1 $r2 $r3 $r4 $r5)"; diag u1 u2 u3 u4 u5
fi
KDTLSD_SOCKET=$T/none.ctl "$CLIENT" --host 127.0.0.1 --port 4433 > u6 2>&1
if [ $? = 1 ] && grep -q "cannot reach kdtlsd" u6; then
	ok "no kdtlsd: the client says so and exits 1"
else
	not_ok "no kdtlsd"; diag u6
fi

# ---- certificates and kdtlsd -------------------------------------------
testca_make "$T" || { not_ok "certificates"; diag openssl.log; }

cat > kdtlsd.conf <<EOF
[daemon]
control_socket = $T/kdtlsd.ctl
log_level = ${KDTLS_EXAMPLES_LOG_LEVEL:-info}
[handshake]
timeout_seconds = 15
EOF
"$KDTLSD" -f -c kdtlsd.conf 2> kdtlsd.log &
pids+=($!)
wait_for kdtlsd.log . 1 >/dev/null
for ((i = 0; i < 100; i++)); do [ -S kdtlsd.ctl ] && break; nap 0.05; done
export KDTLSD_SOCKET=$T/kdtlsd.ctl
if [ -S kdtlsd.ctl ]; then
	ok "kdtlsd runs without [tls]: the examples bring their own"
else
	not_ok "kdtlsd start"; diag kdtlsd.log
fi

# ---- servers --------------------------------------------------------------
"$SERVER" --port 4433 --addr 127.0.0.1 --cert server.pem --key server.key \
	> srv-cert.log 2>&1 &
srv_cert=$!
pids+=("$srv_cert")
wait_for srv-cert.log '^listening'
"$SERVER" --port 4434 --addr 127.0.0.1 --psk "$PSK" > srv-psk.log 2>&1 &
srv_psk=$!
pids+=("$srv_psk")
if wait_for srv-cert.log '^listening on 127.0.0.1:4433 \(certificate\)' &&
   wait_for srv-psk.log '^listening on 127.0.0.1:4434 \(PSK\)'; then
	ok "two servers (certificate, PSK) listening"
else
	not_ok "servers"; diag srv-cert.log srv-psk.log kdtlsd.log
fi

# clients NAME COUNT ARGS...: run COUNT clients at once; all must exit 0
# with one "handshake complete" and one "all came back" line.
clients()
{
	local name=$1 k=$2 i bad=0 p=() suite

	shift 2
	for ((i = 1; i <= k; i++)); do
		"$CLIENT" "$@" --count "$COUNT" > "$name.$i" 2>&1 &
		p+=($!)
	done
	for ((i = 1; i <= k; i++)); do
		wait "${p[$((i - 1))]}" || bad=1
		match "$name.$i" '^handshake complete: 127\.0\.0\.1:443[34], ' &&
			match "$name.$i" "^$COUNT echoes of [0-9]* bytes: all came back" ||
			bad=1
	done
	if [ $bad = 0 ]; then
		suite=
		if match "$name.1" '^handshake complete: [^,]*, [^ ]*'; then
			suite=${match##* }
		fi
		ok "$name: $k clients at once, $COUNT echoes each ($suite)"
	else
		not_ok "$name"
		for ((i = 1; i <= k; i++)); do diag "$name.$i"; done
	fi
}

clients "certificate" 1 --host 127.0.0.1 --port 4433 --name kdtls.test \
	--ca ca.pem --size 1200
clients "certificate, several clients" "$NCLIENTS" --host 127.0.0.1 \
	--port 4433 --name kdtls.test --ca ca.pem
clients "PSK" 1 --host 127.0.0.1 --port 4434 --psk "$PSK" --size 16384
clients "PSK, several clients" "$NCLIENTS" --host 127.0.0.1 --port 4434 \
	--psk "$PSK" --size 100

# every client's handshake and close appear in the server's log, one
# line each: 1 + NCLIENTS per server
want=$((1 + NCLIENTS))
count srv-cert.log ': handshake complete, '
got_c=$count
count srv-psk.log ': handshake complete, '
got_p=$count
if [ "$got_c" = $want ] && [ "$got_p" = $want ]; then
	ok "servers: one \"handshake complete\" line per client ($want each)"
else
	not_ok "server lines: $got_c and $got_p handshakes, want $want"
	diag srv-cert.log srv-psk.log
fi
for ((i = 0; i < 50; i++)); do
	count srv-cert.log ': closed by the peer'
	closed=$count
	[ "$closed" = $want ] && break
	nap 0.1
done
if [ "$closed" = $want ]; then
	ok "clients close with close_notify: \"closed by the peer\" x $want"
else
	not_ok "closed lines: $closed of $want"; diag srv-cert.log
fi

# ---- failures the client reports ----------------------------------------
"$CLIENT" --host 127.0.0.1 --port 4433 --name wrong.example --ca ca.pem \
	> vf.out 2>&1
if [ $? = 1 ] && grep -q '^handshake failed: server certificate: ' vf.out; then
	ok "wrong name: $(head -1 vf.out)"
else
	not_ok "wrong name"; diag vf.out
fi
"$CLIENT" --host 127.0.0.1 --port 4434 \
	--psk echo-test:ffffffffffffffffffffffffffffffff > wk.out 2>&1
if [ $? = 1 ] && grep -q '^handshake failed: ' wk.out; then
	ok "wrong PSK key: $(head -1 wk.out)"
else
	not_ok "wrong PSK key"; diag wk.out
fi

# ---- kdtls show sees the server's socket --------------------------------
"$CLIENT" --host 127.0.0.1 --port 4433 --name kdtls.test --ca ca.pem \
	--count 3 > show-client.out 2>&1
"$KDTLS" show > show.txt 2>&1
if grep -q '^  agent: kdtlsd\[' show.txt && grep -q '^socket: ' show.txt; then
	ok "kdtls show: the sockets, with kdtlsd as their agent"
else
	not_ok "kdtls show"; diag show.txt
fi

# ---- openssl s_client -> kdtls-echo-server ----------------------------------
# s_client sends a line, the server echoes it, s_client prints it.
s_client()
{
	local name=$1 port=$2 srvlog=$3 fifo=$T/$2.sc
	shift 3

	mkfifo "$fifo"
	openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -quiet "$@" \
		< "$fifo" > "$name.oss" 2>&1 &
	pids+=($!)
	exec 7> "$fifo"
	echo "hello-from-s_client-$port" >&7
	wait_for "$name.oss" "^hello-from-s_client-$port" 30
	local rc=$?
	exec 7>&-
	if [ $rc = 0 ]; then
		ok "$name: the line came back"
	else
		not_ok "$name"; diag "$name.oss" "$srvlog"
		tail -n 30 kdtlsd.log | diag
	fi
}
s_client "openssl s_client (certificate) -> kdtls-echo-server" 4433 srv-cert.log \
	-CAfile ca.pem -verify_return_error -verify_hostname kdtls.test
s_client "openssl s_client (PSK) -> kdtls-echo-server" 4434 srv-psk.log \
	-psk 00112233445566778899aabbccddeeff -psk_identity echo-test \
	-cipher PSK-AES128-GCM-SHA256

# ---- --ca: the server asks for a client certificate -------------------------
# s_client shows one from the test CA (the server's own, which has no
# extended key usage to forbid it); kdtls-echo-client has none to show.
"$SERVER" --port 4435 --addr 127.0.0.1 --cert server.pem --key server.key \
	--ca ca.pem > srv-ca.log 2>&1 &
srv_ca=$!
pids+=("$srv_ca")
wait_for srv-ca.log '^listening'
s_client "openssl s_client with a client certificate -> kdtls-echo-server --ca" \
	4435 srv-ca.log -CAfile ca.pem -verify_return_error -cert server.pem \
	-key server.key
"$CLIENT" --host 127.0.0.1 --port 4435 --name kdtls.test --ca ca.pem \
	> noclientcert.out 2>&1
rc=$?
wait_for srv-ca.log 'handshake failed: client certificate' 5
# (the client may see its side complete, then the server's close_notify)
if [ $rc = 1 ] &&
   grep -qE '^(handshake failed|closed by the server)' noclientcert.out &&
   grep -q 'handshake failed: client certificate' srv-ca.log; then
	match srv-ca.log 'client certificate: .*'
	ok "--ca: a client without a certificate is refused: $match"
else
	not_ok "--ca: client without a certificate ($rc)"
	diag noclientcert.out srv-ca.log
fi
kill "$srv_ca"; wait "$srv_ca" 2>/dev/null

# ---- kdtls-echo-client -> openssl s_server -----------------------------------
# s_server does not echo: it sends what its stdin gives.  Once the
# handshake is complete the test writes the client's first message
# (examples/kdtls-echo-client.c, fill(): byte j of message 0 is j * 7 + 1)
# to s_server's stdin; the client reads it as the echo, and s_server's
# output must hold the same bytes, which the client sent.
msg0='import sys; sys.stdout.buffer.write(bytes((j * 7 + 1) & 255 for j in range(48)))'
s_server()
{
	local name=$1 port=$2 fifo=$T/$2.ss c rc
	shift 2

	mkfifo "$fifo"
	openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -naccept 1 \
		-quiet "${@:2}" < "$fifo" > "$name.oss" 2>&1 &
	pids+=($!)
	exec 7> "$fifo"
	nap 0.3	# s_server binds before it reads anything: nothing to poll
	# shellcheck disable=SC2086
	"$CLIENT" --host 127.0.0.1 --port "$port" $1 --count 1 --size 48 \
		> "$name.cli" 2>&1 &
	c=$!
	wait_for "$name.cli" "^handshake complete" 20 && python3 -c "$msg0" >&7
	wait $c
	rc=$?
	exec 7>&-
	if [ $rc = 0 ] &&
	   grep -q "^1 echoes of 48 bytes: all came back" "$name.cli" &&
	   python3 -c "$msg0" > msg0.bin && grep -qF -f msg0.bin "$name.oss"; then
		ok "$name: $(sed -n 's/^handshake complete: [^,]*, \([^ ]*\).*/\1/p' "$name.cli")"
	else
		not_ok "$name (client $rc)"; diag "$name.cli" "$name.oss"
	fi
}
s_server "kdtls-echo-client -> openssl s_server (certificate)" 4440 \
	"--name kdtls.test --ca ca.pem" -cert server.pem -key server.key
s_server "kdtls-echo-client -> openssl s_server (PSK)" 4442 \
	"--psk $PSK" -nocert -psk 00112233445566778899aabbccddeeff \
	-psk_identity echo-test

# ---- the server stops cleanly ---------------------------------------------------
kill -TERM "$srv_cert" "$srv_psk"
wait "$srv_cert"; rc_c=$?
wait "$srv_psk"; rc_p=$?
if [ $rc_c = 0 ] && [ $rc_p = 0 ] &&
   grep -qE '^stopped: [0-9]+ peers, [0-9]+ failed handshakes, [0-9]+ datagrams echoed' srv-cert.log; then
	ok "SIGTERM: servers exit 0 with a summary ($(tail -1 srv-cert.log))"
else
	not_ok "server exit ($rc_c, $rc_p)"; diag srv-cert.log srv-psk.log
fi

if [ $failed != 0 ]; then
	echo "# kdtlsd log (tail):"
	tail -n 40 kdtlsd.log | diag
fi
tap_done
