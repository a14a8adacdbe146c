#!/usr/bin/env bash
# bench/scale.sh - the load and scale benchmark of issue 6 (part of
# `make bench`; bench/run.sh calls it, or run it alone).
#
# Three rows, each the median of BENCH_RUNS runs, on loopback with the
# server's root and the client's files on /dev/shm (tmpfs), so that the
# rows measure ftxd and not the disk:
#  a. 10,000 idle control sessions held by tests/tools/ftxload while a
#     1 GiB verified download and upload run: ftxd's VmRSS (and the bytes
#     per session above an empty server's), and each transfer's
#     throughput against the same transfer without the sessions.
#     Targets: <= 64 MB RSS; >= 90% of the solo throughput.
#  b. 200 clients each doing 20 mixed operations (put, ls, hash, get, rm
#     of their own files with the real ftx, every one verified; see
#     ftxload's "ops" mode): operations per second, p99 latency per
#     command type, zero failures.
#  c. 64 concurrent 16 MiB verified downloads (64 ftx processes, 64
#     different files): aggregate throughput against one 1 GiB download.
# The markdown section goes to stdout; progress notes to stderr.
#
# Environment (defaults in brackets):
#   FTX_BUILD        build directory with ftxd, ftx, tools/ftxload [build]
#   BENCH_RUNS       runs per row, median reported [3]
#   BENCH_TIMEOUT    seconds allowed for one timed command [300]
#   BENCH_FTXD_ARGS  extra ftxd arguments
#   BENCH_PREFAULT   1 or 0: hand the runs freshly freed tmpfs pages, as
#                    bench/run.sh explains [1]
#   SCALE_ONLY       a comma-separated subset of rows: idle, ops, par [all]
#   SCALE_SESSIONS   idle sessions in row a [10000]
#   SCALE_NOOP       row a: seconds between NOOPs per session, 0 = none [0]
#   SCALE_SIZE_MIB   the big transfer of rows a and c, MiB [1024]
#   SCALE_CLIENTS, SCALE_OPS   row b [200, 20]
#   SCALE_OPS_SIZE   row b: largest file, bytes [262144]
#   SCALE_PAR, SCALE_PAR_MIB   row c [64, 16]
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
# start_daemon, stop_daemon: the throwaway servers, shared by the benches.
# shellcheck source=bench/daemon.sh
. bench/daemon.sh
BUILD=${FTX_BUILD:-build}
RUNS=${BENCH_RUNS:-3}
T_CMD=${BENCH_TIMEOUT:-300}
FTXD_EXTRA=${BENCH_FTXD_ARGS:-}
PREFAULT=${BENCH_PREFAULT:-1}
ONLY=${SCALE_ONLY:-idle,ops,par}
SESSIONS=${SCALE_SESSIONS:-10000}
NOOP=${SCALE_NOOP:-0}
SIZE_MIB=${SCALE_SIZE_MIB:-1024}
CLIENTS=${SCALE_CLIENTS:-200}
OPS=${SCALE_OPS:-20}
OPS_SIZE=${SCALE_OPS_SIZE:-262144}
PAR=${SCALE_PAR:-64}
PAR_MIB=${SCALE_PAR_MIB:-16}
T_DAEMON=7200
RSS_TARGET_MB=64
XFER_TARGET=0.90

exec 3>&2
die() {
	echo "bench: $*" >&3
	exit 1
}
note() {
	echo "bench: $*" >&3
}

[[ $PREFAULT == [01] ]] || die "BENCH_PREFAULT must be 0 or 1"
for v in RUNS T_CMD SESSIONS SIZE_MIB CLIENTS OPS OPS_SIZE PAR PAR_MIB; do
	if [[ ! ${!v} =~ ^[0-9]+$ ]] || ((${!v} == 0)); then
		die "$v must be a positive integer"
	fi
done
[[ $NOOP =~ ^[0-9]+$ ]] || die "SCALE_NOOP must be a whole number of seconds"
((RUNS >= 3)) || note "warning: BENCH_RUNS=$RUNS; the issue asks for at least 3"
for tool in timeout awk cmp head stat sort; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is required (EPOCHREALTIME)"
DO_IDLE=0
DO_OPS=0
DO_PAR=0
IFS=', ' read -r -a words <<<"$ONLY"
for w in "${words[@]}"; do
	case $w in
	idle) DO_IDLE=1 ;;
	ops) DO_OPS=1 ;;
	par) DO_PAR=1 ;;
	*) die "SCALE_ONLY: unknown row '$w' (idle, ops, par)" ;;
	esac
done
((DO_IDLE + DO_OPS + DO_PAR > 0)) || die "SCALE_ONLY='$ONLY' selects no rows"

SIZE=$((SIZE_MIB * 1024 * 1024))
PAR_SIZE=$((PAR_MIB * 1024 * 1024))
BUILD_ABS=$(cd "$BUILD" && pwd)
FTXD=$BUILD_ABS/ftxd
# As root, ftxd refuses to serve without --user or --allow-root.
ALLOW_ROOT=
[ "$(id -u)" = 0 ] && ALLOW_ROOT=--allow-root
FTX=$BUILD_ABS/ftx
FTXLOAD=$BUILD_ABS/tools/ftxload
for b in "$FTXD" "$FTX" "$FTXLOAD"; do
	[[ -x $b ]] || die "$b is not built (make all tools)"
done

# ---------------------------------------------------------------------------
# Cleanup: every process we start is recorded by PID and stopped by PID.
# ---------------------------------------------------------------------------
SHM_DIR=
DAEMON_PIDS=() # "timeout-pid:daemon-pid" pairs
LOAD_PID=

stop_load() {
	[[ -n $LOAD_PID ]] || return 0
	kill -TERM "$LOAD_PID" 2>/dev/null || true
	wait "$LOAD_PID" 2>/dev/null || true
	LOAD_PID=
}

cleanup() {
	local p
	trap - EXIT INT TERM
	stop_load
	for p in "${DAEMON_PIDS[@]}"; do
		stop_daemon "$p"
	done
	DAEMON_PIDS=()
	[[ -z $SHM_DIR ]] || rm -rf -- "$SHM_DIR"
	return 0
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM

# The daemon started last: stop it and forget it.
stop_last_daemon() {
	local last=$((${#DAEMON_PIDS[@]} - 1))
	stop_daemon "${DAEMON_PIDS[$last]}"
	unset "DAEMON_PIDS[$last]"
	DAEMON_PIDS=("${DAEMON_PIDS[@]}")
}

# start_ftxd ROOT LOG [ARGS...]: start ftxd; sets PORT and FTXD_PID.
start_ftxd() {
	local root=$1 log=$2 i line
	shift 2
	: >"$log"
	PORT=
	# shellcheck disable=SC2086 # FTXD_EXTRA is a word list on purpose.
	start_daemon "$log" "$FTXD" $ALLOW_ROOT --root "$root" --bind 127.0.0.1 --port 0 \
	    --data-port 0 --log "$log" --idle-timeout 3600 \
	    --max-clients $((SESSIONS + 1000)) --max-per-ip $((SESSIONS + 1000)) \
	    --max-transfers $((PAR + 8)) --max-transfers-per-ip $((PAR + 8)) \
	    $FTXD_EXTRA "$@"
	FTXD_PID=${DAEMON##*:}
	for ((i = 0; i < 50; i++)); do
		line=$(grep -m1 -o 'listening control=[^ ]*' "$log" 2>/dev/null || true)
		if [[ -n $line ]]; then
			PORT=${line##*:}
			break
		fi
		kill -0 "${DAEMON%%:*}" 2>/dev/null || break
		sleep 0.1
	done
	[[ $PORT =~ ^[0-9]+$ && -n $FTXD_PID ]] || {
		note "ftxd did not start: $(tail -n 3 "$log" 2>/dev/null)"
		return 1
	}
}

ftx() {
	timeout "$T_CMD" "$FTX" --host 127.0.0.1 --port "$PORT" --quiet "$@"
}

rss_kb() {
	awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"
}

# CPU seconds (user + system) a process has used so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
	    "/proc/$1/stat"
}

prefault() {
	((PREFAULT)) || return 0
	timeout "$T_CMD" dd if=/dev/zero of="$SHM_DIR/prefault" bs=1M \
	    count=$((SIZE_MIB + 64)) status=none
	rm -f "$SHM_DIR/prefault"
}

# timed VAR CMD...: run CMD and store its wall time in seconds in VAR.
timed() {
	local var=$1 t0 t1 rc=0
	shift
	t0=$EPOCHREALTIME
	"$@" || rc=$?
	t1=$EPOCHREALTIME
	printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
	return $rc
}

median() {
	tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) exit 1
		      if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
		      else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

calc() {
	awk "BEGIN { printf \"%.2f\", $1 }"
}

# mbps BYTES SECONDS
mbps() {
	awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'
}

# kv LINE KEY: a value from an ftxload key=value line.
kv() {
	sed -n -E "s/(^|.* )$2=([^ ]+).*/\2/p" <<<"$1" | head -n 1
}

# ---------------------------------------------------------------------------
# Files: everything on one tmpfs directory.
# ---------------------------------------------------------------------------
[[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] || die "/dev/shm is not a tmpfs"
need=0
((DO_IDLE)) && need=$((need + 4 * SIZE))
((DO_PAR)) && need=$((need + 3 * SIZE + 2 * PAR * PAR_SIZE))
((DO_OPS)) && need=$((need + 2 * CLIENTS * OPS_SIZE))
need=$((need + SIZE + 128 * 1024 * 1024)) # prefault
shm_free=$(($(stat -f -c '%a*%S' /dev/shm)))
((shm_free > need)) || die "/dev/shm has $((shm_free >> 20)) MiB free; need $((need >> 20)) MiB"
SHM_DIR=$(mktemp -d /dev/shm/ftx-scale.XXXXXX)
TMP=$SHM_DIR
mkdir -p "$SHM_DIR"/{src,root,dl,opsroot,ops}
SRC=$SHM_DIR/src/big.bin
if ((DO_IDLE || DO_PAR)); then
	note "creating a $SIZE_MIB MiB random file in $SHM_DIR"
	timeout "$T_CMD" head -c "$SIZE" /dev/urandom >"$SRC" || die "cannot create $SRC"
	cp "$SRC" "$SHM_DIR/root/big.bin"
fi
if ((DO_PAR)); then
	note "creating $PAR files of $PAR_MIB MiB"
	for ((i = 0; i < PAR; i++)); do
		head -c "$PAR_SIZE" /dev/urandom >"$SHM_DIR/root/par-$i.bin" ||
			die "cannot create par-$i.bin"
	done
fi

# Descriptors: ftxd needs one per session (it inherits our limit), and
# ftxload raises its own.
hard=$(ulimit -Hn)
IDLE_REASON=
if ((DO_IDLE)); then
	if [[ $hard != unlimited ]] && ((hard < SESSIONS + 256)); then
		IDLE_REASON="RLIMIT_NOFILE hard limit $hard is too low for $SESSIONS sessions"
	else
		ulimit -Sn "$hard" || IDLE_REASON="cannot raise the soft RLIMIT_NOFILE"
	fi
	[[ -z $IDLE_REASON ]] || note "row a skipped: $IDLE_REASON"
fi

# check_get FILE SIZE RUN ORIGINAL: a download has the right size, and on
# the first run the right bytes (ftx verified its SHA-256 already).
check_copy() {
	local f=$1 size=$2 run=$3 orig=$4 sz
	sz=$(stat -c %s "$f" 2>/dev/null) || {
		echo "$f missing"
		return 1
	}
	((sz == size)) || {
		echo "$f has $sz bytes, expected $size"
		return 1
	}
	if ((run == 1)); then
		timeout "$T_CMD" cmp -s "$f" "$orig" || {
			echo "$f differs from $orig"
			return 1
		}
	fi
}

T_XFER=
C_XFER=
# xfer DIR PORT PID RUN LOG: one timed, verified big transfer (DIR get or
# put) against the server on PORT; sets T_XFER (seconds) and C_XFER
# (that server's CPU seconds during it).
xfer() {
	local dir=$1 pid=$3 run=$4 log=$5 c0 PORT=$2
	rm -rf "$SHM_DIR/dl" && mkdir "$SHM_DIR/dl"
	prefault
	c0=$(cpu_s "$pid")
	if [[ $dir == get ]]; then
		timed T_XFER ftx get big.bin -o "$SHM_DIR/dl" >>"$log" 2>&1 || {
			echo "get failed: $(tail -n 1 "$log")"
			return 1
		}
		C_XFER=$(calc "$(cpu_s "$pid") - $c0")
		check_copy "$SHM_DIR/dl/big.bin" "$SIZE" "$run" "$SRC" || return 1
		rm -rf "$SHM_DIR/dl"
	else
		timed T_XFER ftx put "$SRC" --as up.bin >>"$log" 2>&1 || {
			echo "put failed: $(tail -n 1 "$log")"
			return 1
		}
		C_XFER=$(calc "$(cpu_s "$pid") - $c0")
		check_copy "$SHM_DIR/root/up.bin" "$SIZE" "$run" "$SRC" || return 1
		ftx rm up.bin >>"$log" 2>&1 || rm -f "$SHM_DIR/root/up.bin"
	fi
}

# ---------------------------------------------------------------------------
# Row a: idle sessions.  Two servers on the same root: L holds the
# sessions, S none.  The transfers alternate between them (L, S, S, L,
# then S, L, L, S on the next run), so that whatever else the machine
# does hits both sides alike.
# ---------------------------------------------------------------------------
A_STATUS=ok
[[ -z $IDLE_REASON ]] || A_STATUS="skipped: $IDLE_REASON"
((DO_IDLE)) || A_STATUS="not selected"
A_RSS0='' A_RSS='' A_HWM='' A_SETUP='' A_GET_SOLO='' A_GET_LOAD='' A_PUT_SOLO='' A_PUT_LOAD=''
A_CPU='' A_CPU_SOLO=''

row_idle() {
	local run=$1 out=$TMP/idle.out rss0 rss hwm i line l_port l_pid s_port s_pid
	local step order cpu_l=0 cpu_s_=0
	start_ftxd "$SHM_DIR/root" "$TMP/ftxd-idle-s.log" || return 1
	s_port=$PORT
	s_pid=$FTXD_PID
	start_ftxd "$SHM_DIR/root" "$TMP/ftxd-idle-l.log" || return 1
	l_port=$PORT
	l_pid=$FTXD_PID
	# The sidecar hash: the first run computes it, untimed.
	ftx hash big.bin >/dev/null 2>&1 || {
		echo "ftx hash big.bin failed"
		return 1
	}
	sleep 0.5
	rss0=$(rss_kb "$l_pid" VmRSS)
	local noop=()
	((NOOP == 0)) || noop=(--noop "$NOOP")
	"$FTXLOAD" -p "$l_port" idle "$SESSIONS" --hold 3600 --deadline 120 "${noop[@]}" \
	    >"$out" 2>"$TMP/idle.err" &
	LOAD_PID=$!
	for ((i = 0; i < 1300; i++)); do
		grep -q "^ready $SESSIONS\$" "$out" 2>/dev/null && break
		kill -0 "$LOAD_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "^ready $SESSIONS\$" "$out" || {
		echo "ftxload did not hold $SESSIONS sessions: $(tail -n 2 "$TMP/idle.err" "$out" | tr '\n' ' ')"
		return 1
	}
	sleep 0.5
	rss=$(rss_kb "$l_pid" VmRSS)
	if ((run % 2)); then
		order="get:L get:S put:S put:L"
	else
		order="get:S get:L put:L put:S"
	fi
	for step in $order; do
		if [[ ${step#*:} == L ]]; then
			xfer "${step%:*}" "$l_port" "$l_pid" "$run" "$TMP/xfer-load.log" || return 1
			cpu_l=$(calc "$cpu_l + $C_XFER")
			if [[ ${step%:*} == get ]]; then A_GET_LOAD+="$T_XFER "; else A_PUT_LOAD+="$T_XFER "; fi
		else
			xfer "${step%:*}" "$s_port" "$s_pid" "$run" "$TMP/xfer-solo.log" || return 1
			cpu_s_=$(calc "$cpu_s_ + $C_XFER")
			if [[ ${step%:*} == get ]]; then A_GET_SOLO+="$T_XFER "; else A_PUT_SOLO+="$T_XFER "; fi
		fi
	done
	hwm=$(rss_kb "$l_pid" VmHWM)
	stop_load
	line=$(grep '^idle ' "$out" || true)
	[[ $(kv "$line" lost) == 0 && $(kv "$line" connected) == "$SESSIONS" ]] || {
		echo "sessions were lost: $line $(head -n 3 "$TMP/idle.err" | tr '\n' ' ')"
		return 1
	}
	A_SETUP+="$(kv "$line" setup_s) "
	A_CPU+="$cpu_l "
	A_CPU_SOLO+="$cpu_s_ "
	A_RSS0+="$rss0 "
	A_RSS+="$rss "
	A_HWM+="$hwm "
	stop_last_daemon
	stop_last_daemon
}

# ---------------------------------------------------------------------------
# Row b: mixed operations.
# ---------------------------------------------------------------------------
B_STATUS=ok
((DO_OPS)) || B_STATUS="not selected"
B_RATE='' B_CPU='' B_FAIL=0 B_WHY=''
declare -A B_P50 B_P99
for op in put ls hash get rm; do
	B_P50[$op]=''
	B_P99[$op]=''
done

row_ops() {
	local run=$1 log=$TMP/ftxd-ops.log out=$TMP/ops.out line op c0 rc=0
	rm -rf "$SHM_DIR/opsroot" "$SHM_DIR/ops"
	mkdir -p "$SHM_DIR/opsroot" "$SHM_DIR/ops"
	start_ftxd "$SHM_DIR/opsroot" "$log" || {
		echo "ftxd did not start"
		return 1
	}
	c0=$(cpu_s "$FTXD_PID")
	timeout "$T_CMD" "$FTXLOAD" -p "$PORT" ops "$CLIENTS" "$OPS" --ftx "$FTX" \
	    --dir "$SHM_DIR/ops" --size "$OPS_SIZE" >"$out" 2>"$TMP/ops.err" || rc=$?
	line=$(grep '^ops ' "$out" || true)
	# A run whose operations all ran is measured even if some failed:
	# the failures are counted and reported (and fail the bench).
	if [[ -z $line || $(kv "$line" total) != $((CLIENTS * OPS)) ||
	    $(kv "$line" clients_died) != 0 ]]; then
		echo "ftxload ops exit $rc: $line $(head -n 3 "$TMP/ops.err" | tr '\n' ' ')"
		return 1
	fi
	if (($(kv "$line" failures) > 0)); then
		B_FAIL=$((B_FAIL + $(kv "$line" failures)))
		[[ -n $B_WHY ]] || B_WHY="first: run $run: $(head -n 1 "$TMP/ops.err")"
		note "row ops, run $run: $(kv "$line" failures) failures: $(head -n 3 "$TMP/ops.err" | tr '\n' ' ')"
	fi
	B_CPU+="$(calc "($(cpu_s "$FTXD_PID") - $c0) * 1000 / $(kv "$line" total)") "
	B_RATE+="$(kv "$line" ops_per_s) "
	for op in put ls hash get rm; do
		line=$(grep "^op=$op " "$out")
		B_P50[$op]+="$(kv "$line" p50_ms) "
		B_P99[$op]+="$(kv "$line" p99_ms) "
	done
	stop_last_daemon
}

# ---------------------------------------------------------------------------
# Row c: parallel downloads.
# ---------------------------------------------------------------------------
C_STATUS=ok
((DO_PAR)) || C_STATUS="not selected"
C_PAR='' C_ONE=''

par_get() {
	local i pids=() rc=0
	for ((i = 0; i < PAR; i++)); do
		ftx get "par-$i.bin" -o "$SHM_DIR/dl/$i" >"$TMP/par-$i.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || {
			echo "download $i failed: $(tail -n 1 "$TMP/par-$i.log")"
			rc=1
		}
	done
	return $rc
}

row_par() {
	local run=$1 log=$TMP/ftxd-par.log i t
	start_ftxd "$SHM_DIR/root" "$log" || {
		echo "ftxd did not start"
		return 1
	}
	for ((i = 0; i < PAR; i++)); do
		ftx hash "par-$i.bin" >/dev/null 2>&1 || {
			echo "ftx hash par-$i.bin failed"
			return 1
		}
	done
	ftx hash big.bin >/dev/null 2>&1 || return 1
	rm -rf "$SHM_DIR/dl" && mkdir "$SHM_DIR/dl"
	for ((i = 0; i < PAR; i++)); do
		mkdir "$SHM_DIR/dl/$i"
	done
	prefault
	timed t par_get || return 1
	for ((i = 0; i < PAR; i++)); do
		check_copy "$SHM_DIR/dl/$i/par-$i.bin" "$PAR_SIZE" "$run" \
		    "$SHM_DIR/root/par-$i.bin" || return 1
	done
	C_PAR+="$t "
	rm -rf "$SHM_DIR/dl" && mkdir "$SHM_DIR/dl"
	prefault
	timed t ftx get big.bin -o "$SHM_DIR/dl" >"$TMP/one.log" 2>&1 || {
		echo "get failed: $(tail -n 1 "$TMP/one.log")"
		return 1
	}
	check_copy "$SHM_DIR/dl/big.bin" "$SIZE" "$run" "$SRC" || return 1
	C_ONE+="$t "
	rm -rf "$SHM_DIR/dl"
	stop_last_daemon
}

# ---------------------------------------------------------------------------
# Runs, round-robin.
# ---------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for ((run = 1; run <= RUNS; run++)); do
	# Each row runs in the current shell (its results go to variables).
	for row in idle ops par; do
		case $row in
		idle) var=A_STATUS ;;
		ops) var=B_STATUS ;;
		par) var=C_STATUS ;;
		esac
		[[ ${!var} == ok ]] || continue
		note "run $run/$RUNS: row $row"
		# In this shell, not a subshell: the row stores its results in
		# variables.  Its commands check their own errors.
		if ! "row_$row" "$run" >"$TMP/row.out" 2>&1; then
			printf -v "$var" '%s' "failed: run $run: $(grep -v '^[[:space:]]*$' "$TMP/row.out" | tail -n 1)"
			note "row $row: ${!var}"
			stop_load
			while ((${#DAEMON_PIDS[@]} > 0)); do
				stop_last_daemon
			done
		fi
	done
done

# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------
# runs_list VALUES [SCALE]: "a, b, c" with two decimals.
runs_list() {
	awk -v s="${2:-1}" '{ for (i = 1; i <= NF; i++) printf "%s%.2f", (i > 1 ? ", " : ""), $i * s }' <<<"$1"
}

# verdict VALUE OP GOAL: "met" or "MISSED by N%".
verdict() {
	if awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN { exit !(op == "<=" ? v <= g : v >= g) }'; then
		echo "met"
	else
		echo "MISSED by $(awk -v v="$1" -v g="$3" 'BEGIN { d = (v - g) / g * 100; printf "%.1f", d < 0 ? -d : d }')%"
	fi
}

size_txt="$SIZE_MIB MiB"
((SIZE_MIB % 1024)) || size_txt="$((SIZE_MIB / 1024)) GiB"
cmdline="FTX_BUILD=$BUILD BENCH_RUNS=$RUNS BENCH_PREFAULT=$PREFAULT bash bench/scale.sh"
[[ -z ${SCALE_ONLY:-} ]] || cmdline="SCALE_ONLY=$SCALE_ONLY $cmdline"
((SESSIONS == 10000)) || cmdline="SCALE_SESSIONS=$SESSIONS $cmdline"
((NOOP == 0)) || cmdline="SCALE_NOOP=$NOOP $cmdline"
((SIZE_MIB == 1024)) || cmdline="SCALE_SIZE_MIB=$SIZE_MIB $cmdline"
((CLIENTS == 200 && OPS == 20)) || cmdline="SCALE_CLIENTS=$CLIENTS SCALE_OPS=$OPS $cmdline"
((PAR == 64 && PAR_MIB == 16)) || cmdline="SCALE_PAR=$PAR SCALE_PAR_MIB=$PAR_MIB $cmdline"

echo "## Load and scale"
echo
echo "Command: \`$cmdline\` (tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ), nproc = $(nproc), load average before: $LOAD_BEFORE)."
echo "Every row is the median of $RUNS runs taken round-robin; server root and client files on /dev/shm, loopback;"
echo "the load comes from \`tests/tools/ftxload\` (one epoll process for the sessions, real \`ftx\` processes for the operations)."
echo
echo "| row | result (median) | target | runs |"
echo "|---|---|---|---|"
FAILED=0
A_NOTE=
if [[ $A_STATUS == ok ]]; then
	rss0=$(median "$A_RSS0")
	rss=$(median "$A_RSS")
	hwm=$(median "$A_HWM")
	rss_mb=$(calc "$rss / 1024")
	per=$(calc "($rss - $rss0) / $SESSIONS")
	echo "| a. ftxd VmRSS, $SESSIONS idle sessions | **$rss_mb MB** ($(calc "$rss0 / 1024") MB empty + $per KB per session; peak during the transfers $(calc "$hwm / 1024") MB) | <= $RSS_TARGET_MB MB: $(verdict "$rss_mb" "<=" "$RSS_TARGET_MB") | $(runs_list "$A_RSS" 0.0009765625) MB; setup $(runs_list "$A_SETUP") s |"
	for dir in GET PUT; do
		sv=A_${dir}_SOLO
		lv=A_${dir}_LOAD
		solo=$(median "${!sv}")
		load=$(median "${!lv}")
		ratio=$(calc "$solo / $load")
		# The fastest run of each side: on a busy machine the median
		# carries other people's load, the minimum much less of it.
		best=$(calc "$(tr ' ' '\n' <<<"${!sv}" | awk 'NF' | sort -g | head -n 1) / $(tr ' ' '\n' <<<"${!lv}" | awk 'NF' | sort -g | head -n 1)")
		what="download"
		[[ $dir == GET ]] || what="upload"
		echo "| a. $size_txt verified $what with $SESSIONS idle sessions | $(mbps "$SIZE" "$load") MB/s (${load} s) = **$ratio** of solo, $(mbps "$SIZE" "$solo") MB/s (${solo} s); fastest runs: $best | >= $XFER_TARGET: $(verdict "$ratio" ">=" "$XFER_TARGET") | loaded $(runs_list "${!lv}") s; solo $(runs_list "${!sv}") s |"
	done
	A_NOTE="ftxd's own CPU time for one download + upload pair: $(runs_list "$A_CPU") s with the sessions, $(runs_list "$A_CPU_SOLO") s without."
else
	echo "| a. $SESSIONS idle sessions + $size_txt transfer | - | <= $RSS_TARGET_MB MB, >= $XFER_TARGET | $A_STATUS |"
	[[ $A_STATUS != failed* ]] || FAILED=1
fi
if [[ $B_STATUS == ok ]]; then
	rate=$(calc "$(median "$B_RATE")" | cut -d. -f1)
	p99s=""
	for op in put ls hash get rm; do
		p99s+="$op $(awk '{ printf "%.0f", $1 }' <<<"$(median "${B_P99[$op]}")"), "
	done
	if ((B_FAIL == 0)); then
		fails="0 failures"
		fverdict="met"
	else
		fails="**$B_FAIL failures** in $((RUNS * CLIENTS * OPS)) operations ($B_WHY)"
		fverdict="MISSED"
		FAILED=1
	fi
	echo "| b. $CLIENTS clients x $OPS mixed verified operations | **$rate ops/s**, $fails; p99 ms: ${p99s%, } | 0 failures: $fverdict | $(runs_list "$B_RATE" | sed -E 's/\.[0-9]+//g') ops/s; ftxd CPU $(runs_list "$B_CPU") ms/op |"
else
	echo "| b. $CLIENTS clients x $OPS mixed verified operations | - | 0 failures | $B_STATUS |"
	[[ $B_STATUS != failed* ]] || FAILED=1
fi
if [[ $C_STATUS == ok ]]; then
	par=$(median "$C_PAR")
	one=$(median "$C_ONE")
	total=$((PAR * PAR_SIZE))
	echo "| c. $PAR concurrent $PAR_MIB MiB verified downloads | aggregate $(mbps "$total" "$par") MB/s (${par} s) = **$(calc "($total / $par) / ($SIZE / $one)")** x one $size_txt download, $(mbps "$SIZE" "$one") MB/s (${one} s) | report | $PAR x: $(runs_list "$C_PAR") s; one: $(runs_list "$C_ONE") s |"
else
	echo "| c. $PAR concurrent $PAR_MIB MiB verified downloads | - | report | $C_STATUS |"
	[[ $C_STATUS != failed* ]] || FAILED=1
fi
if [[ $B_STATUS == ok ]]; then
	echo
	echo "Row b per command (latency of one \`ftx\` process, start to exit: exec, connect, greeting, command, verification; ms, median of the runs' percentiles):"
	echo
	echo "| command | p50 ms | p99 ms |"
	echo "|---|---:|---:|"
	for op in put ls hash get rm; do
		echo "| $op | $(awk '{ printf "%.1f", $1 }' <<<"$(median "${B_P50[$op]}")") | $(awk '{ printf "%.1f", $1 }' <<<"$(median "${B_P99[$op]}")") |"
	done
fi
echo
echo "Notes: in row a the sessions are truly idle (no NOOPs$( ((NOOP == 0)) || echo "; here a NOOP every $NOOP s per session")) and ftxd runs with \`--idle-timeout 3600\`;"
echo "the solo transfers go to a second ftxd on the same root without sessions, alternating with the loaded ones. Per-session memory is"
echo "(VmRSS with the sessions - VmRSS empty) / sessions. Row b files are 1..$OPS_SIZE random bytes; every put/get is"
echo "SHA-256-verified by ftx, every hash compared with ftxload's own SHA-256, every download byte for byte."
[[ -z $A_NOTE ]] || echo "Row a: $A_NOTE"
((FAILED == 0)) || exit 1
