#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/bench/hs-bench.sh -- kdtlsd handshake benchmark (issue 3).
#
#   hs-bench.sh            in the VM (root, kdtls.ko loaded), from
#                          selftests/bench.sh: handshakes/s and key install
#   hs-bench.sh --cookie   on the host: cookie verification throughput
#
# VM part, interleaved in one boot (KDTLS_HS_RUNS rounds, 3; each run
# KDTLS_HS_SECS seconds, 2):
#   kdtlsd ecdsa, bare ecdsa, kdtlsd psk, bare psk, kdtlsd ecdsa, ...
#  - kdtlsd: selftests/bench/hs-kdtlsd drives one kdtlsd that plays both
#    ends (a served socket and client sockets, 8 handshakes in flight):
#    full DTLS 1.2 handshakes with cookie exchange, ECDHE-ECDSA-AES128-GCM
#    (P-256 certificate, verified with its name) or PSK-AES128-GCM, keys
#    derived and installed in kdtls.ko on both ends, events to the driver.
#  - bare: selftests/bench/hs-bare, the same handshakes with bare OpenSSL,
#    both ends in one thread over loopback UDP, no key install.
#  The medians are compared: ratio = kdtlsd / bare (target >= 0.9).
#  - Key install: kdtlsd counts the CPU time (thread CPU clock, so the
#    kernel's assoc-add work done in its netlink sendmsg is included) of
#    key derivation and of assoc-add, reported by INFO; the share is that
#    time over kdtlsd's whole CPU time (utime + stime from /proc) in the
#    kdtlsd ECDHE-ECDSA runs (target <= 5 %).
# TCG makes absolute rates meaningless; ratios from the same boot are not.
# Exit status 1 only when a measurement could not be made.

set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 1
B=$PWD/selftests/bench
KDTLSD=$PWD/userspace/kdtlsd/kdtlsd
runs=${KDTLS_HS_RUNS:-3}
secs=${KDTLS_HS_SECS:-2}
CFLAGS="-O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I$PWD/include/uapi"

die()
{
	echo "hs-bench: $*" >&2
	exit 1
}

# build PROG SOURCES... LIBS: (re)build selftests/bench/PROG when stale
build()
{
	local prog=$B/$1 src=$B/$1.c

	shift
	if [ ! -x "$prog" ] || [ "$src" -nt "$prog" ]; then
		# shellcheck disable=SC2086
		gcc $CFLAGS -o "$prog" "$src" "$@" || die "building $prog failed"
	fi
}

if [ "${1:-}" = --cookie ]; then
	U=$PWD/userspace/kdtlsd
	for o in cookie config log keys; do
		[ -e "$U/$o.o" ] || die "$U/$o.o missing: make userspace"
	done
	build hs-cookie "$U/cookie.o" "$U/config.o" "$U/log.o" "$U/keys.o" \
		-lssl -lcrypto
	echo "# kdtlsd cookie verification on the host ($(nproc) CPUs, shared)"
	"$B/hs-cookie" -t "${KDTLS_HS_SECS:-1}" || die "hs-cookie failed"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root with kdtls.ko loaded (in the VM), or --cookie"
[ -d /sys/module/kdtls ] || die "kdtls.ko is not loaded"
[ -x "$KDTLSD" ] || die "$KDTLSD missing: make userspace"
build hs-bare -lssl -lcrypto
build hs-kdtlsd

T=$(mktemp -d /tmp/hs-bench.XXXXXX)
kpid=
cleanup()
{
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

{
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
	openssl req -x509 -new -key ca.key -subj /CN=hs-bench-ca -days 2 \
		-out ca.pem &&
	openssl ecparam -name prime256v1 -genkey -noout -out leaf.key &&
	openssl req -new -key leaf.key -subj /CN=kdtls.test -out leaf.csr &&
	printf 'subjectAltName=DNS:kdtls.test\n' > ext &&
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 2 -extfile ext -out leaf.pem
} > certs.log 2>&1 || die "certificates: $(cat certs.log)"

cat > kdtlsd.conf <<EOF
[daemon]
control_socket = $T/kdtlsd.ctl
log_level = warning
[tls]
certificate = $T/leaf.pem
private_key = $T/leaf.key
ca_file = $T/ca.pem
ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:PSK-AES128-GCM-SHA256
groups = X25519:P-256:P-384
[psk]
client1 = 00112233445566778899aabbccddeeff
EOF
"$KDTLSD" -f -c kdtlsd.conf 2> kdtlsd.log &
kpid=$!
for _ in $(seq 100); do
	[ -S kdtlsd.ctl ] && break
	sleep 0.05
done
[ -S kdtlsd.ctl ] || die "kdtlsd did not start: $(cat kdtlsd.log)"

info()
{
	python3 - "$T/kdtlsd.ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1]); s.settimeout(30); s.send(b"INFO")
print(s.recv(4096).decode())
PY
}
field() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$kpid/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$kpid/stat"; }
rate() { sed -n 's/.* = \([0-9.]*\)\/s$/\1/p' "$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }'; }

hz=$(getconf CLK_TCK)
: > k-ecdsa; : > b-ecdsa; : > k-psk; : > b-psk; : > bcpu
inst_ns=0; der_ns=0; inst_n=0; cpu_t=0; sys_t=0; hs_n=0
echo "# kdtlsd handshakes vs bare OpenSSL: $runs rounds of ${secs} s runs, $(nproc) vCPUs"
for r in $(seq "$runs"); do
	for m in ecdsa psk; do
		i0=$(info); c0=$(cpu_ticks); s0=$(sys_ticks)
		"$B/hs-kdtlsd" -C kdtlsd.ctl -m $m -t "$secs" -j 8 > out 2>&1 ||
			die "hs-kdtlsd -m $m: $(cat out) $(tail -5 kdtlsd.log)"
		c1=$(cpu_ticks); s1=$(sys_ticks); i1=$(info)
		echo "# round $r: $(cat out)"
		rate out >> k-$m
		if [ $m = ecdsa ]; then
			inst_ns=$((inst_ns + $(field "$i1" install-ns) - $(field "$i0" install-ns)))
			der_ns=$((der_ns + $(field "$i1" derive-ns) - $(field "$i0" derive-ns)))
			inst_n=$((inst_n + $(field "$i1" installs) - $(field "$i0" installs)))
			cpu_t=$((cpu_t + c1 - c0))
			sys_t=$((sys_t + s1 - s0))
			hs_n=$((hs_n + $(sed -n 's/.*: \([0-9]*\) handshakes.*/\1/p' out)))
		fi
		if [ $m = ecdsa ]; then
			"$B/hs-bare" -m ecdsa -t "$secs" -c leaf.pem -k leaf.key \
				-a ca.pem > out 2>&1 || die "hs-bare: $(cat out)"
		else
			"$B/hs-bare" -m psk -t "$secs" > out 2>&1 ||
				die "hs-bare: $(cat out)"
		fi
		sed 's/^/# round '"$r"': /' out
		rate out >> b-$m
		[ $m = ecdsa ] && sed -n 's/.*: \([0-9]*\) us CPU.*/\1/p' out >> bcpu
	done
done

ke=$(median < k-ecdsa); be=$(median < b-ecdsa); bc=$(median < bcpu)
kp=$(median < k-psk); bp=$(median < b-psk)
[ "$inst_n" -gt 0 ] && [ "$cpu_t" -gt 0 ] || die "no key install measured"
awk -v ke="$ke" -v be="$be" -v kp="$kp" -v bp="$bp" -v ins="$inst_ns" \
    -v der="$der_ns" -v n="$inst_n" -v cpu="$cpu_t" -v hz="$hz" \
    -v hs="$hs_n" -v sys="$sys_t" -v bc="$bc" 'BEGIN {
	cpu_ns = cpu / hz * 1e9
	printf "ECDHE-ECDSA handshakes/s (median): kdtlsd %.1f, bare OpenSSL %.1f\n", ke, be
	printf "PSK handshakes/s (median):         kdtlsd %.1f, bare OpenSSL %.1f\n", kp, bp
	printf "kdtlsd CPU per ECDHE-ECDSA handshake (both ends): %.0f us (%.0f %% in the kernel); bare OpenSSL: %.0f us (median)\n", cpu_ns / hs / 1e3, sys / cpu * 100, bc
	printf "key install per end: derive %.1f us + assoc-add %.1f us (%d installs)\n", der / n / 1e3, ins / n / 1e3, n
	printf "key install share of kdtlsd CPU: %.2f %% (assoc-add alone %.2f %%; target <= 5 %%)\n", (ins + der) / cpu_ns * 100, ins / cpu_ns * 100
	printf "ratio = %.2f (ECDHE-ECDSA handshakes/s, kdtlsd / bare OpenSSL; target >= 0.9)\n", ke / be
	printf "ratio = %.2f (PSK handshakes/s, kdtlsd / bare OpenSSL; target >= 0.9)\n", kp / bp
}'
