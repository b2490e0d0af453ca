# SPDX-License-Identifier: GPL-2.0
#
# selftests/lib/tap.sh -- what the shell VM tests share (sourced):
#
#   tap_init NAME     skip (exit 4, KSFT_SKIP) unless root with kdtls.ko
#                     loaded; a scratch directory $T, made the current one
#                     and removed on exit with every pid in $pids killed
#   ok / not_ok TEXT  one test point; not_ok makes tap_done fail.  A point
#                     that took 10 s or more (since the previous one) is
#                     followed by a "# took N s" line, to find slow ones
#   check TEXT FILE.. ok if the command just run succeeded, else not_ok
#                     and the files as diagnostics
#   diag FILE...      the files as "# " lines
#   wait_for FILE REGEX [SECONDS]   poll until FILE matches, for at most
#                     SECONDS (default 10) of wall-clock time: under the
#                     debug kernel a grep takes far longer than the 50 ms
#                     between polls, so the count of polls means nothing
#   tap_done          the plan line; exits with the verdict

n=0
failed=0
pids=()
tap_last=$SECONDS

tap_took()
{
	[ $((SECONDS - tap_last)) -ge 10 ] && echo "# took $((SECONDS - tap_last)) s"
	tap_last=$SECONDS
}
ok()     { n=$((n + 1)); echo "ok $n - $*"; tap_took; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; tap_took; }
diag()   { sed 's/^/# /' "$@"; }

check()
{
	local rc=$? name=$1

	shift
	if [ $rc = 0 ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "$@"
	fi
}

wait_for()
{
	local end=$((SECONDS + ${3:-10}))

	while :; do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

tap_cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}

tap_init()
{
	if [ "$(id -u)" != 0 ] || [ ! -d /sys/module/kdtls ]; then
		echo "ok 1 - $1 # SKIP needs root and kdtls.ko (run in the VM)"
		echo "1..1"
		exit 4
	fi
	T=$(mktemp -d "/tmp/kdtls-$1.XXXXXX") || exit 1
	trap tap_cleanup EXIT
	cd "$T" || exit 1
}

tap_done()
{
	echo "1..$n"
	exit $failed
}
