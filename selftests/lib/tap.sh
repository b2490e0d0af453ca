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
#   wait_for FILE REGEX [SECONDS]   poll until a line of FILE matches the
#                     extended REGEX, for at most SECONDS (default 10) of
#                     wall-clock time
#   match FILE REGEX  the first line of FILE matching REGEX: status 0 and
#                     the match in $match (else status 1, $match empty)
#   has_line FILE TEXT  FILE has a line that is exactly TEXT (grep -qxF)
#   count FILE REGEX  the number of lines of FILE matching REGEX, in $count
#   nap SECONDS       sleep (fractions too)
#   tap_done          the plan line; exits with the verdict
#
# wait_for, match, has_line, count and nap start no process.  Under the
# debug kernel in TCG every process a test starts costs about 0.4 s of CPU
# (exec, page faults, KASAN and kmemleak on each allocation): a poll loop of
# grep and sleep burnt more CPU than the daemons it waited for, slowing
# them down.

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

# A pipe nobody writes to: a read on it with a timeout is a sleep.
exec {tap_nap_fd}<> <(:)
nap()
{
	read -r -t "$1" -u "$tap_nap_fd" _
	return 0
}

match()
{
	local line

	match=
	[ -f "$1" ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line =~ $2 ]]; then
			match=${BASH_REMATCH[0]}
			return 0
		fi
	done < "$1"
	return 1
}

has_line()
{
	local line

	[ -f "$1" ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		[ "$line" = "$2" ] && return 0
	done < "$1"
	return 1
}

count()
{
	local line

	count=0
	[ -f "$1" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ $2 ]] && count=$((count + 1))
	done < "$1"
	return 0
}

# Reads FILE incrementally from one descriptor: each poll only looks at what
# was appended since the last one (a line still being written is kept until
# its newline, and tried as it is meanwhile, as grep would).
wait_for()
{
	local end=$((SECONDS + ${3:-10})) fd line part=

	until exec {fd}< "$1"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		nap 0.05
	done 2>/dev/null
	while :; do
		while IFS= read -r line <&"$fd"; do
			line=$part$line
			part=
			if [[ $line =~ $2 ]]; then
				exec {fd}<&-
				return 0
			fi
		done
		part+=$line
		if [ -n "$part" ] && [[ $part =~ $2 ]]; then
			exec {fd}<&-
			return 0
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			exec {fd}<&-
			return 1
		fi
		nap 0.05
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
