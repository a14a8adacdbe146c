#!/bin/bash
# run.sh - run the ftx integration tests.
#
#	FTX_BUILD=build bash tests/integration/run.sh [NAME...]
#
# Runs every tests/integration/t_*.sh (or only those whose names are
# given, with or without "t_" and ".sh") in its own bash process, prints
# "PASS name", "FAIL name" or "SKIP name" for each, and ends with a line
# "N passed, N failed" (", N skipped" when some were skipped).  Exits 1 if
# any test failed.  Each test's full output is kept in
# $FTX_BUILD/integration-logs/NAME.log; a failing test's tail is printed.
#
# Environment: FTX_TEST_TIMEOUT (seconds per test, default 180),
# FTX_TEST_JOBS (suites run at once, default 2), FTX_KEEP_TMP=1 keeps
# each test's temporary directory.

set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${FTX_BUILD:=build}"
if ! FTX_BUILD=$(cd "$FTX_BUILD" 2>/dev/null && pwd); then
	echo "run.sh: build directory ${FTX_BUILD} does not exist (run make first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
export FTX_BUILD
per_test=${FTX_TEST_TIMEOUT:-180}

for b in ftxd ftx tools/ftxraw tools/ftxfake; do
	if [ ! -x "$FTX_BUILD/$b" ]; then
		echo "run.sh: $FTX_BUILD/$b is missing (make all tools)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

logdir=$FTX_BUILD/integration-logs
rm -rf "$logdir"
mkdir -p "$logdir"

tests=()
if [ $# -gt 0 ]; then
	for n in "$@"; do
		n=${n%.sh}
		n=${n#t_}
		if [ ! -f "$here/t_$n.sh" ]; then
			echo "run.sh: no such test: $here/t_$n.sh" >&2
			echo "0 passed, 1 failed"
			exit 1
		fi
		tests+=("$here/t_$n.sh")
	done
else
	for t in "$here"/t_*.sh; do
		tests+=("$t")
	done
fi

# Kill whatever a test left behind, by PID, and only processes that are
# still one of ours (their command line mentions the build directory or
# is timeout(1) wrapping one of ours).
reap() {
	local pidfile=$1 pid cmd
	[ -f "$pidfile" ] || return 0
	while read -r pid; do
		[ -n "$pid" ] || continue
		kill -0 "$pid" 2>/dev/null || continue
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
		case "$cmd" in
		*"$FTX_BUILD"*)
			echo "run.sh: killing leftover pid $pid: $cmd" >&2
			kill -KILL "$pid" 2>/dev/null
			;;
		esac
	done <"$pidfile"
}

passed=0
failed=0
skipped=0
t0=$(date +%s)

# run_one TEST: run one suite (in the background), leaving its exit
# status in $logdir/NAME.rc.
run_one() {
	local t=$1 name log pidfile s0 rc
	name=$(basename "$t" .sh)
	log=$logdir/$name.log
	pidfile=$logdir/$name.pids
	: >"$pidfile"
	s0=$(date +%s)
	FTX_PIDFILE=$pidfile timeout -k 10 "$per_test" bash "$t" >"$log" 2>&1
	rc=$?
	reap "$pidfile"
	echo "$name $(($(date +%s) - s0)) s rc=$rc" >>"$logdir/timings.txt"
	echo "$rc" >"$logdir/$name.rc"
}

# report TEST: print the result of a finished suite and count it.
report() {
	local name log rc
	name=$(basename "$1" .sh)
	log=$logdir/$name.log
	rc=$(cat "$logdir/$name.rc")
	case $rc in
	0)
		echo "PASS $name"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name ($(grep -m 1 '^SKIP:' "$log" | cut -c7-))"
		skipped=$((skipped + 1))
		;;
	*)
		echo "FAIL $name"
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "    (timed out after $per_test s)"
		fi
		grep -aE '^(FAIL|    )' "$log" | head -n 60 | cut -c1-300 | sed 's/^/    /'
		echo "    (full log: $log)"
		failed=$((failed + 1))
		;;
	esac
}

# Suites run FTX_TEST_JOBS at a time (default 2): most of a suite's time
# is spent waiting on timers and peers, not on a core.  Each suite has
# its own directory, its own servers on ports the kernel picks, and its
# own PID list, so they do not meet.  Results are printed as they end.
jobs_max=${FTX_TEST_JOBS:-2}
running=()
collect() {
	local t still=()
	for t in "${running[@]}"; do
		if [ -f "$logdir/$(basename "$t" .sh).rc" ]; then
			report "$t"
		else
			still+=("$t")
		fi
	done
	running=("${still[@]}")
}
for t in "${tests[@]}"; do
	while [ "${#running[@]}" -ge "$jobs_max" ]; do
		wait -n 2>/dev/null || true
		collect
	done
	rm -f "$logdir/$(basename "$t" .sh).rc"
	run_one "$t" &
	running+=("$t")
done
while [ "${#running[@]}" -gt 0 ]; do
	wait -n 2>/dev/null || true
	collect
done
echo "integration tests took $(($(date +%s) - t0)) s (per test: $logdir/timings.txt)"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
