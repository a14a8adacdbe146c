#!/bin/sh
# ftxd-nohup.sh - run ftxd in the background without systemd.
#
#	deploy/ftxd-nohup.sh start|stop|status|restart|reload
#
# For a box where you have a shell but no root (or just want the server to
# outlive your SSH session): ftxd runs under nohup, its pid and log live
# in a state directory, and it is stopped by that pid, never by name.
# Every action is idempotent: `start` on a running server and `stop` on a
# stopped one succeed without doing anything.
#
# Environment:
#   FTXD_STATE_DIR  state directory (default $HOME/.local/state/ftxd); it
#                   holds ftxd.pid, ftxd.log (the server's log), nohup.out
#                   (its stdout/stderr: start-up errors, crashes) and lock
#   FTXD_BIN        the ftxd binary (default: ftxd on $PATH, else
#                   ../build/ftxd next to this script)
#   FTXD_ROOT       storage root (default $FTXD_STATE_DIR/files)
#   FTXD_LOG        log file (default $FTXD_STATE_DIR/ftxd.log)
#   FTXD_OPTS       more ftxd options, e.g. "--port 6001 --data-port 6002"
#                   (word-split; do not put --log or --daemon here)
#   FTXD_START_TIMEOUT  seconds to wait for the "listening" line (10)
#   FTXD_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (15)
#
# The script writes the pidfile itself ("nohup ftxd ... & echo $!"); it
# does not use ftxd's own --pidfile, so it works with any ftxd version.
#
# Exit status: 0 success; 1 failure; 2 usage.  `status` follows the LSB:
# 0 running, 1 not running but a stale pidfile exists, 3 not running.
set -u

prog=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start|stop|status|restart|reload" >&2
	exit 2
}

# ---------------------------------------------------------------- settings

STATE=${FTXD_STATE_DIR:-${HOME:-}/.local/state/ftxd}
[ -n "${FTXD_STATE_DIR:-}" ] || [ -n "${HOME:-}" ] ||
    die "neither FTXD_STATE_DIR nor HOME is set"
# Absolute paths: the log path also identifies our server (is_ours), so
# it must not depend on the directory the script is run from.
absdir() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}
STATE=$(absdir "$STATE")
PIDFILE=$STATE/ftxd.pid
OUTFILE=$STATE/nohup.out
LOCKFILE=$STATE/lock
LOGFILE=$(absdir "${FTXD_LOG:-$STATE/ftxd.log}")
ROOT=$(absdir "${FTXD_ROOT:-$STATE/files}")
# Sizes of the log and nohup.out before this start (see show_tail).
offset=0
out_offset=0
START_TIMEOUT=${FTXD_START_TIMEOUT:-10}
STOP_TIMEOUT=${FTXD_STOP_TIMEOUT:-15}
case "$START_TIMEOUT$STOP_TIMEOUT" in
*[!0-9]*) die "FTXD_START_TIMEOUT and FTXD_STOP_TIMEOUT must be whole seconds" ;;
esac

# An absolute path, resolving symlinks, so that it can be compared with
# /proc/PID/exe.
abspath() {
	readlink -f -- "$1" 2>/dev/null || echo "$1"
}

find_bin() {
	if [ -n "${FTXD_BIN:-}" ]; then
		[ -x "$FTXD_BIN" ] || die "FTXD_BIN=$FTXD_BIN is not an executable"
		abspath "$FTXD_BIN"
	elif command -v ftxd >/dev/null 2>&1; then
		abspath "$(command -v ftxd)"
	elif [ -x "$here/../build/ftxd" ]; then
		abspath "$here/../build/ftxd"
	else
		die "no ftxd found: set FTXD_BIN, put ftxd on PATH, or run make"
	fi
}

# ---------------------------------------------------------------- processes

# The pid recorded in the pidfile, if the file holds a plausible one.
read_pid() {
	pid=
	[ -f "$PIDFILE" ] || return 1
	pid=$(head -n 1 "$PIDFILE" 2>/dev/null | tr -cd '0-9')
	[ -n "$pid" ] && [ "$pid" -gt 1 ]
}

# PID is alive: kill -0 works and it is not a zombie (in a container
# whose init does not reap, a dead ftxd can linger as one).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	# The state follows the command name, which may contain spaces and
	# parentheses: take the first field after the last ") ".
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) in
	Z | X) return 1 ;;
	esac
	return 0
}

# SECURITY: PID is the ftxd this script started, not an unrelated process
# that inherited a recycled pid.  Its executable (or, if the binary was
# replaced by an upgrade since, its argv[0]) must be an ftxd, and its
# command line must name our log file, which only our instance has.
is_ours() {
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	cmd=$(tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline") || return 1
	arg0=$(printf '%s\n' "$cmd" | head -n 1)
	case "$(basename "$exe")" in
	ftxd*) ;;
	*)
		case "$(basename "$arg0")" in
		ftxd*) ;;
		*) return 1 ;;
		esac
		;;
	esac
	printf '%s\n' "$cmd" | grep -qxF -- "$LOGFILE"
}

# Sets pid to the running server's pid; false if none.
running() {
	read_pid || return 1
	alive "$pid" && is_ours "$pid"
}

# Serialise start/stop so that two concurrent starts make one server.
# The lock fd is closed for ftxd itself (9>&- below), or the server
# would hold the lock for its whole life.
lock() {
	mkdir -p "$STATE" || die "cannot create $STATE"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$LOCKFILE" || die "cannot open $LOCKFILE"
		flock -w 60 9 || die "another $prog is still running (lock $LOCKFILE)"
	fi
}

# ---------------------------------------------------------------- actions

# What ftxd wrote since this start: its stdout/stderr (a command-line
# error comes first, before the usage text) and the end of its log.
show_tail() {
	if [ -s "$OUTFILE" ]; then
		echo "---- $OUTFILE:" >&2
		tail -c +$((out_offset + 1)) "$OUTFILE" | head -n 30 >&2
	fi
	if [ -s "$LOGFILE" ]; then
		echo "---- last lines of $LOGFILE:" >&2
		tail -c +$((offset + 1)) "$LOGFILE" | tail -n 20 >&2
	fi
}

do_start() {
	if running; then
		echo "ftxd is already running (pid $pid)"
		return 0
	fi
	if [ -f "$PIDFILE" ]; then
		echo "removing stale pidfile $PIDFILE (pid ${pid:-?} is not our ftxd)"
		rm -f "$PIDFILE"
	fi
	bin=$(find_bin) || exit 1
	mkdir -p "$ROOT" "$(dirname "$LOGFILE")" || die "cannot create $ROOT"
	: >>"$LOGFILE" || die "cannot write $LOGFILE"
	# Only log lines written after this point count as this start's.
	offset=$(wc -c <"$LOGFILE" | tr -d ' ')
	echo "$(date -u '+%Y-%m-%dT%H:%M:%SZ') $prog: starting $bin" >>"$OUTFILE"
	out_offset=$(wc -c <"$OUTFILE" | tr -d ' ')
	# --root and --log come first so FTXD_OPTS can add to them; nohup
	# makes the server ignore the SIGHUP of a closing terminal.
	# shellcheck disable=SC2086
	nohup "$bin" --root "$ROOT" --log "$LOGFILE" ${FTXD_OPTS:-} \
	    </dev/null >>"$OUTFILE" 2>&1 9>&- &
	pid=$!
	if ! { echo "$pid" >"$PIDFILE.tmp" && mv -f "$PIDFILE.tmp" "$PIDFILE"; }; then
		# Without a pidfile nobody could stop it by pid later.
		kill -TERM "$pid" 2>/dev/null
		die "cannot write $PIDFILE; stopped ftxd (pid $pid) again"
	fi

	# Wait for the "listening" line (ports are bound) or for its death.
	n=0
	while [ "$n" -lt $((START_TIMEOUT * 10)) ]; do
		line=$(tail -c +$((offset + 1)) "$LOGFILE" 2>/dev/null |
		    grep -m 1 'listening')
		if [ -n "$line" ]; then
			echo "ftxd started (pid $pid): ${line#* * }"
			return 0
		fi
		if ! alive "$pid"; then
			rm -f "$PIDFILE"
			echo "$prog: ftxd exited during start-up" >&2
			show_tail
			exit 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "$prog: ftxd (pid $pid) did not report 'listening' within" \
	    "$START_TIMEOUT s; stopping it" >&2
	show_tail
	do_stop >/dev/null
	exit 1
}

do_stop() {
	if ! running; then
		if [ -f "$PIDFILE" ]; then
			echo "ftxd is not running; removing stale pidfile" \
			    "(pid ${pid:-?})"
			rm -f "$PIDFILE"
		else
			echo "ftxd is not running"
		fi
		return 0
	fi
	# SIGTERM is ftxd's graceful stop: no new connections, running
	# transfers get up to 10 s to finish.
	kill -TERM "$pid" 2>/dev/null
	n=0
	while [ "$n" -lt $((STOP_TIMEOUT * 10)) ]; do
		alive "$pid" || break
		sleep 0.1
		n=$((n + 1))
	done
	if alive "$pid"; then
		# Checked again: never SIGKILL a pid that has been reused.
		if is_ours "$pid"; then
			echo "ftxd (pid $pid) still running after $STOP_TIMEOUT s;" \
			    "sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
			n=0
			while [ "$n" -lt 50 ] && alive "$pid"; do
				sleep 0.1
				n=$((n + 1))
			done
		fi
	fi
	if alive "$pid" && is_ours "$pid"; then
		die "ftxd (pid $pid) did not stop"
	fi
	rm -f "$PIDFILE"
	echo "ftxd stopped (pid $pid)"
}

do_status() {
	if running; then
		echo "ftxd is running (pid $pid)"
		return 0
	fi
	if [ -f "$PIDFILE" ]; then
		echo "ftxd is stopped (stale pidfile $PIDFILE, pid ${pid:-?})"
		return 1
	fi
	echo "ftxd is stopped"
	return 3
}

# SIGHUP makes ftxd reopen its log (after logrotate) and re-read its
# --config file.  Only an ftxd that handles SIGHUP should get it; under
# nohup an older one ignores it.
do_reload() {
	running || die "ftxd is not running"
	kill -HUP "$pid" || die "cannot signal pid $pid"
	echo "ftxd reloaded (pid $pid)"
}

[ $# -eq 1 ] || usage
case "$1" in
start)
	lock
	do_start
	;;
stop)
	lock
	do_stop
	;;
restart)
	lock
	do_stop
	do_start
	;;
status)
	do_status
	exit $?
	;;
reload)
	do_reload
	;;
-h | --help) usage ;;
*) usage ;;
esac
exit 0
