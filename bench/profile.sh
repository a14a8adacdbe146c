#!/usr/bin/env bash
# bench/profile.sh - where does a 1 GiB ftx transfer spend its CPU?
#
# Starts ftxd on loopback with its root on /dev/shm, then profiles one
# verified download and one verified upload (tmpfs -> tmpfs) with
# `perf record`: the client as perf's child, the server by PID.  Prints,
# per transfer and process, the CPU split by DSO (kernel, libcrypto, the
# binary itself) and the top symbols.  Not part of `make bench`; run it
# when bench/run.sh shows a target missed:
#
#   make BUILD=build all && FTX_BUILD=build bash bench/profile.sh
#
# Environment: FTX_BUILD (default build), BENCH_SIZE_MIB (default 1024),
# PROFILE_TOP (symbols per report, default 20), PROFILE_OUT (directory for
# the perf.data files and reports, default $FTX_BUILD/bench/profile).
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
BUILD=${FTX_BUILD:-build}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
TOP=${PROFILE_TOP:-20}
T_CMD=300

die() {
	echo "profile: $*" >&2
	exit 1
}

[[ $SIZE_MIB =~ ^[0-9]+$ && $TOP =~ ^[0-9]+$ ]] || die "bad BENCH_SIZE_MIB or PROFILE_TOP"
command -v perf >/dev/null ||
	die "perf not found (Debian: apt-get install linux-perf)"
timeout 20 perf stat -e task-clock -o /dev/null -- true 2>/dev/null ||
	die "perf cannot profile here (perf_event_paranoid or no PMU access)"
BUILD_ABS=$(cd "$BUILD" && pwd)
FTXD=$BUILD_ABS/ftxd
# As root, ftxd refuses to serve without --user or --allow-root.
ALLOW_ROOT=
[ "$(id -u)" = 0 ] && ALLOW_ROOT=--allow-root
FTX=$BUILD_ABS/ftx
[[ -x $FTXD && -x $FTX ]] || die "$BUILD/ftxd and $BUILD/ftx must be built"
OUT=${PROFILE_OUT:-$BUILD_ABS/bench/profile}
mkdir -p "$OUT"

SHM_DIR=
FTXD_PID=
PERF_PID=
cleanup() {
	local i
	trap - EXIT INT TERM
	for pid in $PERF_PID $FTXD_PID; do
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[[ -n $SHM_DIR ]] && rm -rf -- "$SHM_DIR"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SHM_DIR=$(mktemp -d /dev/shm/ftx-profile.XXXXXX)
mkdir -p "$SHM_DIR"/{src,root,dl}
SRC=$SHM_DIR/src/bench.bin
timeout "$T_CMD" head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$SRC"
timeout "$T_CMD" cp "$SRC" "$SHM_DIR/root/bench.bin"

# ftxd runs directly in the background (not under timeout(1)) so that its
# PID is the one perf attaches to; the EXIT trap stops it.
"$FTXD" $ALLOW_ROOT --root "$SHM_DIR/root" --bind 127.0.0.1 --port 0 --data-port 0 \
    --log "$SHM_DIR/ftxd.log" </dev/null >/dev/null 2>&1 &
FTXD_PID=$!
PORT=
for ((i = 0; i < 50; i++)); do
	line=$(grep -m1 -o 'listening control=[^ ]*' "$SHM_DIR/ftxd.log" 2>/dev/null || true)
	[[ -z $line ]] || {
		PORT=${line##*:}
		break
	}
	sleep 0.1
done
[[ -n $PORT ]] || die "ftxd did not start"
ftx() {
	timeout "$T_CMD" "$FTX" --host 127.0.0.1 --port "$PORT" --quiet "$@"
}
# Prime the server's cached hash, as run.sh does.
ftx hash bench.bin >/dev/null

# profile NAME CMD...: perf the server by PID and the client as a child.
profile() {
	local name=$1 i t0 t1
	shift
	perf record -q -F 999 -p "$FTXD_PID" -o "$OUT/$name-ftxd.data" \
	    >/dev/null 2>&1 &
	PERF_PID=$!
	# Like run.sh: hand the transfer recently freed pages (see there).
	timeout "$T_CMD" dd if=/dev/zero of="$SHM_DIR/prefault" bs=1M \
	    count=$((SIZE_MIB + 64)) status=none
	rm -f "$SHM_DIR/prefault"
	sleep 0.3 # let perf attach before the transfer starts
	t0=$EPOCHREALTIME
	timeout "$T_CMD" perf record -q -F 999 -o "$OUT/$name-ftx.data" -- \
	    "$FTX" --host 127.0.0.1 --port "$PORT" --quiet "$@" >/dev/null
	t1=$EPOCHREALTIME
	echo "=== $name: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s under perf ==="
	sleep 0.2 # let the server finish its commit
	kill -INT "$PERF_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$PERF_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
	for who in ftx ftxd; do
		report "$name" "$who" | tee "$OUT/$name-$who.txt"
	done
}

# report NAME WHO: the CPU split by thread and DSO, then the top symbols.
# libcrypto's SHA-256 assembly has no exported symbols, so its samples
# are summed into one line instead of flooding the list with addresses.
report() {
	local data=$OUT/$1-$2.data
	echo "=== $1: $2: CPU by thread (pid:thread) and DSO; samples at 999 Hz ~ ms ==="
	timeout 120 perf report -i "$data" --stdio --no-children -n \
	    --sort pid,dso 2>/dev/null | grep -v '^#' | awk 'NF' |
		head -n 12 || true
	echo "=== $1: $2: top $TOP symbols (libcrypto summed) ==="
	timeout 120 perf report -i "$data" --stdio --no-children \
	    --sort dso,sym 2>/dev/null | grep -v '^#' | awk '
		NF == 0 { next }
		$2 == "libcrypto.so.3" { crypto += $1; next }
		{ print }
		END { printf "    %.2f%%  libcrypto.so.3 (all samples: SHA-256 et al.)\n", crypto }' |
		sort -t% -k1 -gr | head -n "$TOP" || true
	echo
}

profile download get bench.bin -o "$SHM_DIR/dl"
profile upload put "$SRC" --as up.bin
echo "profile: perf data and reports in $OUT"
