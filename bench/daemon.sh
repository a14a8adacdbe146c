# shellcheck shell=bash
# bench/daemon.sh - the benchmarks' throwaway servers, sourced by run.sh,
# scale.sh and tree.sh.  A daemon runs under timeout(1), so it cannot
# outlive a bench killed without its cleanup, and is named by
# "timeout-pid:daemon-pid" in DAEMON (and DAEMON_PIDS, for the cleanup).
# The caller sets T_DAEMON (seconds) and DAEMON_PIDS=().

# start_daemon LOG cmd...: run cmd in the background under timeout(1).
start_daemon() {
	local log=$1 tpid dpid='' i
	shift
	timeout -k 10 "$T_DAEMON" "$@" </dev/null >>"$log" 2>&1 3>&- &
	tpid=$!
	# The daemon is timeout's only child; find it by parent PID.
	for ((i = 0; i < 50; i++)); do
		dpid=$(cat "/proc/$tpid/task/$tpid/children" 2>/dev/null || true)
		dpid=${dpid%% *}
		[[ -n $dpid ]] && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.02
	done
	DAEMON="$tpid:$dpid"
	DAEMON_PIDS+=("$DAEMON")
}

# stop_daemon "timeout-pid:daemon-pid": TERM, up to 15 s, then KILL.
stop_daemon() {
	local tpid=${1%%:*} dpid=${1##*:} i
	kill -TERM "${dpid:-$tpid}" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$tpid" 2>/dev/null; then
		[[ -z $dpid ]] || kill -KILL "$dpid" 2>/dev/null || true
		kill -KILL "$tpid" 2>/dev/null || true
	fi
	wait "$tpid" 2>/dev/null || true
}
