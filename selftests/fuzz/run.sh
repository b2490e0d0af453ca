#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/fuzz/run.sh -- run the host libFuzzer targets, one TAP test
# point each (make check: a short run; make fuzz: a long one).
#
#   run.sh [-t SECONDS] [-w WORKDIR] TARGET_BINARY...
#
# Each target runs for SECONDS (default 20) from its seed corpus in
# selftests/fuzz/corpus/<target>/ (read only) plus a working corpus in
# WORKDIR/corpus/<target>/ (default selftests/build/fuzz/work, kept between
# runs, not in git).  A crash, leak, timeout or failed property leaves its
# input in WORKDIR/artifacts/ and fails the test point, which prints how to
# reproduce it.  Each test point reports the executions; the total is
# printed as "# figure: host-fuzz-executions N" for scripts/check.

set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
secs=20
work=$here/../build/fuzz/work
while getopts "t:w:" opt; do
	case $opt in
	t) secs=$OPTARG ;;
	w) work=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-w WORKDIR] TARGET..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

echo "TAP version 13"
echo "1..$#"
total=0 failed=0 i=0
for bin in "$@"; do
	i=$((i + 1))
	t=$(basename "$bin")
	seeds=$here/corpus/$t
	mkdir -p "$work/corpus/$t" "$work/artifacts"
	log=$work/$t.log
	start=$(date +%s)
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: the
	# default 2 GB; leaks are detected (LeakSanitizer is on with ASan)
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-artifact_prefix="$work/artifacts/$t-" \
		"$work/corpus/$t" "$seeds" >"$log" 2>&1
	rc=$?
	secs_run=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	execs=${execs:-0}
	total=$((total + execs))
	if [ $rc = 0 ] && [ "$execs" -gt 0 ]; then
		echo "ok $i - fuzz $t: $execs executions in $secs_run s" \
		     "($(ls "$seeds" | wc -l) seeds, $(ls "$work/corpus/$t" | wc -l) corpus)"
	else
		failed=1
		grep -E 'ERROR|property failed|SUMMARY|==[0-9]+==|Test unit written|runtime error|#[0-9]+ ' "$log" |
			grep -v '^#[0-9]* *\(NEW\|REDUCE\|pulse\|INITED\|RELOAD\)' | head -n 40 | sed 's/^/# /'
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		[ -n "$art" ] && echo "# reproduce: $bin $art"
		echo "not ok $i - fuzz $t: exit $rc after $execs executions (log: $log)"
	fi
done
echo "# figure: host-fuzz-executions $total"
exit $failed
