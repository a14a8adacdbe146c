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
# FTX_TEST_JOBS (suites run at once, default 4; `make test JOBS=N`),
# FTX_KEEP_TMP=1 keeps each test's temporary directory.
#
# The longest suites start first (their times from the last run, kept in
# $FTX_BUILD/integration-times.txt; before any run, the list below), so
# the run is not left waiting on one long suite at the end.
#
# Each suite runs in a session of its own with no controlling terminal,
# stdin from /dev/null and default signal dispositions: run from an
# interactive terminal, from CI without stdin, in the background or
# under nohup, a suite sees the same world.  (A suite under timeout(1)
# is in a background process group: anything in it that touched the
# terminal -- script(1) setting its stdin to raw mode, a password prompt
# -- was stopped by SIGTTOU/SIGTTIN and hung until its timeout.)

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

# Longest first.  Known times: the last run's (seconds per suite name);
# without them, the long suites of a run on 2 cores, longest first.
times_file=$FTX_BUILD/integration-times.txt
slow_default="t_cluster t_deploy t_secdoc t_chat t_rtt t_folders t_quota t_accounts
t_slowloris t_listmem t_abuse t_tls t_deps t_data t_daemon t_faults
t_concurrency t_resume t_lockout t_folders_cli t_attack t_users t_crash"
order_tests() {
	local t name secs i=0
	for t in "${tests[@]}"; do
		name=$(basename "$t" .sh)
		secs=
		if [ -f "$times_file" ]; then
			secs=$(awk -v n="$name" '$1 == n { print $2; exit }' "$times_file")
		fi
		if [ -z "$secs" ]; then
			# Unknown: by its place in the default list, else short.
			secs=$(printf '%s\n' $slow_default | awk -v n="$name" '$1 == n { print 1000 - NR; exit }')
		fi
		printf '%s %d %s\n' "${secs:-0}" "$i" "$t"
		i=$((i + 1))
	done | sort -k1,1nr -k2,2n | cut -d' ' -f3-
}
mapfile -t tests < <(order_tests)

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
	local t=$1 name log pidfile s0 rc cpu
	name=$(basename "$t" .sh)
	log=$logdir/$name.log
	pidfile=$logdir/$name.pids
	: >"$pidfile"
	s0=$(date +%s)
	FTX_PIDFILE=$pidfile "${detach[@]}" timeout -k 10 "$per_test" \
	    bash "$t" </dev/null >"$log" 2>&1
	rc=$?
	reap "$pidfile"
	# The CPU time of the suite and everything it waited for.
	# (`times` itself, not in a pipe: a subshell has no children.)
	times >"$logdir/$name.times"
	cpu=$(tail -n 1 "$logdir/$name.times" | sed 's/[ms]/ /g' |
	    awk '{ printf "%.1f", $1 * 60 + $2 + $3 * 60 + $4 }')
	rm -f "$logdir/$name.times"
	echo "$name $(($(date +%s) - s0)) s cpu=${cpu}s rc=$rc" >>"$logdir/timings.txt"
	echo "$rc" >"$logdir/$name.rc"
}

# setsid: a new session without a controlling terminal (the suite can
# neither read the terminal nor get its SIGHUP); env --default-signal:
# SIGINT/SIGQUIT are ignored in a background job of a script and SIGHUP
# under nohup, and a test that interrupts a client must see them work.
detach=()
if command -v setsid >/dev/null 2>&1; then
	detach+=(setsid)
fi
if env --default-signal=INT true >/dev/null 2>&1; then
	detach+=(env --default-signal=HUP,INT,QUIT,PIPE,TERM)
fi

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

# Suites run FTX_TEST_JOBS at a time (default 4): most of a suite's time
# is spent waiting on timers and peers, not on a core.  Each suite has
# its own directory, its own servers on ports the kernel picks, and its
# own PID list, so they do not meet.  Results are printed as they end.
jobs_max=${FTX_TEST_JOBS:-4}
case $jobs_max in
'' | *[!0-9]* | 0)
	echo "run.sh: FTX_TEST_JOBS must be a number >= 1, not '$jobs_max'" >&2
	echo "0 passed, 1 failed"
	exit 1
	;;
esac
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
echo "integration tests took $(($(date +%s) - t0)) s with $jobs_max at once (per test: $logdir/timings.txt)"
# Keep this run's times for the next run's order (a suite that did not
# run this time keeps its old time).
if [ -f "$logdir/timings.txt" ]; then
	{
		awk '{ print $1, $2 }' "$logdir/timings.txt"
		[ -f "$times_file" ] && cat "$times_file"
	} | awk '!seen[$1]++' >"$times_file.tmp" && mv "$times_file.tmp" "$times_file"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
