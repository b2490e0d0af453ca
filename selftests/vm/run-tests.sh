#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/run-tests.sh -- run the VM test binaries, inside the test VM
# (make check does: scripts/vm-run -- selftests/vm/run-tests.sh).
#
#   run-tests.sh [-t SEC] [-f LISTFILE | BINARY...]
#
# The binaries come from the arguments, from LISTFILE (one path per line), or
# else from `make -s -C selftests list-vm`.  Relative paths are taken from the
# current directory, then from selftests/.  Each binary runs from the current
# directory (the repository root), with stdin from /dev/null and at most SEC
# seconds (KDTLS_TEST_TIMEOUT, default 300).
#
# Each binary is a TAP producer; its output passes through unchanged.  This
# runner adds a test point of its own when the binary says nothing of a
# failure it had:
#   not ok ... <bin>: timed out / killed by signal / exited N
#   not ok ... <bin>: planned N tests, reported M
#   not ok ... <bin>: dmesg: <first offending kernel line>
# and, for a binary that exits 4 (KSFT_SKIP) without a test point,
#   ok ... <bin> # SKIP
# The kernel log is checked before the first binary too (boot and module
# load).  At the end kdtls is unloaded (when loaded) and the log checked
# again, and where the kernel has kmemleak (the debug kernel,
# scripts/debug-kernel) a scan runs: any suspected leak fails the run.
#
# Everything printed is also appended to $KDTLS_VM_OUT/results.tap when set.
# Exit status: 0 when no "not ok" line was printed, 1 otherwise.

set -u

timeout=${KDTLS_TEST_TIMEOUT:-300}
list=
while getopts "t:f:" opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	f) list=$OPTARG ;;
	*) echo "usage: $0 [-t SEC] [-f LISTFILE | BINARY...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# Any kernel report: BUG: (KASAN, sleeping in atomic, ...), WARNING: (lockdep,
# suspicious RCU usage, ODEBUG, list corruption, WARN_ON), UBSAN:, kmemleak's
# "new suspected memory leaks", hung tasks, RCU stalls, and any stack dump.
# Not the bare words "kmemleak" and "lockdep": at boot the debug kernel logs
# "kmemleak: Kernel memory leak detector initialized" and "RCU lockdep checking
# is enabled".  lockdep's own reports start with "WARNING:" or "BUG:".
bad='BUG:|WARNING:|Oops|KASAN|UBSAN|suspected memory leak|kernel BUG|INFO: task|INFO: rcu|rcu: INFO|INFO: trying|DEBUG_LOCKS_WARN_ON|locking correctness validator|general protection|Call Trace'
log=/dev/null
[ -n "${KDTLS_VM_OUT:-}" ] && log=$KDTLS_VM_OUT/results.tap && : > "$log"
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say()
{
	printf '%s\n' "$*" | tee -a "$log"
	case "$*" in "not ok"*) failed=1 ;; esac
}

# The kernel log since the last marker written by mark().
mark()
{
	echo "kdtls-run-tests: $1" > /dev/kmsg 2>/dev/null
}
since_mark()
{
	dmesg 2>/dev/null | awk -v m="kdtls-run-tests: $1" \
		'index($0, m) { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'
}
check_dmesg()	# NAME MARK
{
	local hit
	hit=$(since_mark "$2" | grep -E -m 1 "$bad")
	if [ -n "$hit" ]; then
		say "not ok - $1: dmesg: $hit"
		since_mark "$2" | grep -E -B 2 -A 20 "$bad" | sed 's/^/# /' | head -n 60 | tee -a "$log"
		return 1
	fi
	return 0
}

# Which binaries.
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" > "$tmp/list"
elif [ -n "$list" ]; then
	cat "$list" > "$tmp/list" || exit 2
else
	make -s -C selftests list-vm > "$tmp/list" || {
		say "not ok - make -C selftests list-vm failed"
		exit 1
	}
fi

# Boot and module load (nothing marked yet: the whole log).
hit=$(dmesg 2>/dev/null | grep -E -m 1 "$bad")
if [ -n "$hit" ]; then
	say "not ok - boot and module load: dmesg: $hit"
else
	say "ok - boot and module load: dmesg clean"
fi

n=0
while read -r bin; do
	case "$bin" in ''|'#'*) continue ;; esac
	if [ "${bin#/}" = "$bin" ] && [ ! -e "$bin" ] && [ -e "selftests/$bin" ]; then
		bin=selftests/$bin
	fi
	name=${bin#selftests/}
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		say "not ok - $name: not found or not executable"
		continue
	fi

	say "# ---- $name"
	mark "$n $name"
	start=$(date +%s)
	timeout -k 5 "$timeout" "$bin" </dev/null 2>&1 | tee "$tmp/out" | tee -a "$log"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))

	pass=$(grep -cE '^ok( |$)' "$tmp/out")
	fail=$(grep -cE '^not ok( |$)' "$tmp/out")
	skip=$(grep -ciE '^(not )?ok( |$).*# *skip' "$tmp/out")
	plan=$(sed -n 's/^1\.\.\([0-9]\+\).*/\1/p' "$tmp/out" | tail -n 1)
	pass=$((pass - $(grep -ciE '^ok( |$).*# *skip' "$tmp/out")))
	fail=$((fail - $(grep -ciE '^not ok( |$).*# *skip' "$tmp/out")))
	[ $fail -gt 0 ] && failed=1

	if [ $rc = 124 ] || [ $rc = 137 ]; then
		say "not ok - $name: timed out after $timeout s"
	elif [ $rc -gt 128 ]; then
		say "not ok - $name: killed by signal $((rc - 128))"
	elif [ $rc = 4 ] && [ $fail = 0 ]; then	# KSFT_SKIP
		[ $((pass + skip)) = 0 ] && say "ok - $name # SKIP (exit 4)"
	elif [ $rc != 0 ] && [ $fail = 0 ]; then
		say "not ok - $name: exited $rc"
	elif [ -n "$plan" ] && [ "$plan" -ne $((pass + fail + skip)) ]; then
		say "not ok - $name: planned $plan tests, reported $((pass + fail + skip))"
	elif [ $((pass + fail + skip)) = 0 ]; then
		say "not ok - $name: no test point reported (exit $rc)"
	fi
	check_dmesg "$name" "$n $name"
	say "# ---- $name: $pass passed, $fail failed, $skip skipped, exit $rc, ${secs} s"
done < "$tmp/list"

[ $n = 0 ] && say "# no VM test binaries"

# Unload kdtls: what it still held is then unreferenced, for kmemleak to see.
if [ -d /sys/module/kdtls ]; then
	n=$((n + 1))
	mark "$n rmmod"
	if out=$(rmmod kdtls 2>&1); then
		say "ok - rmmod kdtls"
	else
		say "not ok - rmmod kdtls: $out"
	fi
	check_dmesg "rmmod kdtls" "$n rmmod"
fi

# kmemleak reports an object only when it is older than 5 s and a scan found
# no reference to it: wait, then scan twice (a debugfs file always has size
# 0: read it, do not test -s).
leaks=/sys/kernel/debug/kmemleak
if [ -w "$leaks" ]; then
	sleep 6
	echo scan > "$leaks"
	echo scan > "$leaks"
	report=$(cat "$leaks")
	if [ -n "$report" ]; then
		say "not ok - kmemleak: $(printf '%s\n' "$report" | grep -c unreferenced) suspected leaks"
		printf '%s\n' "$report" | head -n 80 | sed 's/^/# /' | tee -a "$log"
	else
		say "ok - kmemleak: no suspected leaks"
	fi
fi

exit $failed
