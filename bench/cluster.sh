#!/usr/bin/env bash
# bench/cluster.sh - the cluster benchmark of issue 15 (`make bench-cluster`;
# not part of `make test`).  Measures, side by side in one run, on loopback
# addresses only:
#  1. a single-file verified upload and download with ftxd on the S3
#     backend (--store s3://, a throwaway radosgw from tests/cluster/rgw.sh)
#     against ftxd on the local disk (--root) and against curl --aws-sigv4
#     PUT / GET of the same file to the same radosgw: curl alone, and curl
#     plus a SHA-256 of the file (ftx verifies every byte; a verified curl
#     upload sends the file's SHA-256 as x-amz-content-sha256, which the
#     store checks).  The hash is `openssl dgst -sha256`, not coreutils'
#     sha256sum: on the reference machine sha256sum moves about 220 MiB/s,
#     openssl (SHA-NI) about 1100, and the faster tool is the fairer
#     baseline;
#  2. the HAProxy hop: the same upload and download through haproxy (mode
#     tcp, PROXY v2 to a node started with --proxy-from) against directly to
#     a node (local-disk backend, the same root), and the control round trip
#     (`ftx rtt`: ECHO on the control connection) through it against direct;
#  3. chat delivery p50/p99 across two nodes over Redis against within one
#     node: bench/chatbus.sh (bench/chatlat.c), run once after the rest.
# The transfer and RTT rows are medians of BENCH_CLUSTER_RUNS runs, taken
# round-robin so that drift in machine load hits every row alike.  Prints
# Markdown (the table, the ratios, the command and the load average); the
# numbers for docs/BENCHMARKS.md ("Cluster (issue 15)") are copied by hand
# from one real run.  Every process it starts is stopped by PID on exit.
#
# Environment:
#   FTX_BUILD             build directory holding ftxd and ftx (default build)
#   BENCH_CLUSTER_MIB     file size in MiB (default 256; the OSD started
#                         here keeps 4 GiB (RGW_STORE_BYTES) in memory and
#                         holds the stored file plus one upload at a time,
#                         so at most about 1500)
#   BENCH_CLUSTER_RUNS    runs per row, median reported (default 5)
#   BENCH_CLUSTER_RTT_N   round trips per `ftx rtt` run (default 2000)
#   BENCH_CLUSTER_CHAT_N  messages per chatbus.sh row (default 2000; 0 skips
#                         the chat rows)
#   BENCH_CLUSTER_RGW     the radosgw helper (default tests/cluster/rgw.sh):
#                         `rgw.sh start DIR ADDR PORT BUCKET` leaves
#                         S3_ENDPOINT, S3_ACCESS and S3_SECRET in DIR/env,
#                         `rgw.sh stop DIR` stops it
#   BENCH_TIMEOUT         seconds allowed for any one timed command (300)
#
# Rows that cannot run (no radosgw, no haproxy, no S3 support in this ftxd)
# are reported as skipped with the reason; the others still run.
set -uo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
# start_daemon, stop_daemon: the throwaway servers, shared by the benches.
# shellcheck source=bench/daemon.sh
. bench/daemon.sh
BUILD=${FTX_BUILD:-build}
MIB=${BENCH_CLUSTER_MIB:-256}
RUNS=${BENCH_CLUSTER_RUNS:-5}
RTT_N=${BENCH_CLUSTER_RTT_N:-2000}
CHAT_N=${BENCH_CLUSTER_CHAT_N:-2000}
RGW_SH=${BENCH_CLUSTER_RGW:-tests/cluster/rgw.sh}
[[ $RGW_SH == /* ]] || RGW_SH=$PWD/$RGW_SH
T_CMD=${BENCH_TIMEOUT:-300}
# shellcheck disable=SC2034 # daemon.sh's start_daemon reads it.
T_DAEMON=7200
BUCKET=ftxbench
FTXD=$BUILD/ftxd
FTX=$BUILD/ftx

# Loopback addresses of our own (never a private range): the balancer,
# the direct node, the node behind the balancer, the S3 node, radosgw.
LB=127.0.0.40
N_DIRECT=127.0.0.41
N_PROXIED=127.0.0.42
N_S3=127.0.0.43
RGW_ADDR=127.0.0.44

exec 3>&2
note() { echo "bench-cluster: $*" >&3; }
die() {
	note "$*"
	exit 1
}
for v in MIB RUNS RTT_N T_CMD; do
	[[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || die "$v must be a positive integer"
done
[[ $CHAT_N =~ ^[0-9]+$ ]] || die "BENCH_CLUSTER_CHAT_N must be a number"
((MIB <= 1500)) || note "warning: BENCH_CLUSTER_MIB=$MIB; the radosgw OSD holds 4 GiB, the S3 rows may fail"
((RUNS >= 3)) || note "warning: BENCH_CLUSTER_RUNS=$RUNS; medians want at least 3"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is required (EPOCHREALTIME)"
for tool in timeout curl openssl cmp awk python3; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
[[ -x $FTXD && -x $FTX ]] || die "$FTXD or $FTX not built (make all)"
SIZE=$((MIB * 1024 * 1024))
ALLOW_ROOT=
[[ $(id -u) != 0 ]] || ALLOW_ROOT=--allow-root

# Temporary space: the source file and every download on tmpfs (so the
# client side costs the same for every row), the local-disk root, the
# logs and radosgw's directory on the disk.
DAEMON_PIDS=()
RGW_DIR=
SHM=$(mktemp -d /dev/shm/ftx-cluster.XXXXXX) || die "mktemp on /dev/shm failed"
TMP=$(mktemp -d "${TMPDIR:-/var/tmp}/ftx-cluster.XXXXXX") || die "mktemp failed"
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${DAEMON_PIDS[@]}"; do
		stop_daemon "$p"
	done
	DAEMON_PIDS=()
	if [[ -n $RGW_DIR ]]; then
		timeout -k 5 60 bash "$RGW_SH" stop "$RGW_DIR" >>"$TMP/rgw.out" 2>&1 ||
			note "rgw.sh stop failed: $(tail -n 2 "$TMP/rgw.out" | tr '\n' ' ')"
	fi
	rm -rf -- "$SHM" "$TMP"
	return 0
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM

# free_ports ADDR N: N free TCP ports on ADDR.
free_ports() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind((sys.argv[1], 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# start_ftxd NAME ADDR ARGS...: an ftxd on ADDR; its ports in
# CPORT[NAME] and DPORT[NAME], its PID in FPID[NAME].
declare -A CPORT DPORT FPID
start_ftxd() {
	local name=$1 addr=$2 log=$TMP/ftxd-$1.log line='' i
	shift 2
	: >"$log"
	start_daemon "$log" "$FTXD" $ALLOW_ROOT --bind "$addr" --port 0 --data-port 0 \
	    --log "$log" --no-udp-echo "$@"
	for ((i = 0; i < 300; i++)); do
		line=$(grep -m1 'listening control=' "$log" 2>/dev/null)
		[[ -n $line ]] && break
		kill -0 "${DAEMON%%:*}" 2>/dev/null || break
		sleep 0.1
	done
	if [[ -z $line ]]; then
		note "ftxd $name did not start: $(grep -v '^$' "$log" | tail -n 3 | tr '\n' ' ')"
		return 1
	fi
	CPORT[$name]=$(sed -E 's/.*control=[^ ]*:([0-9]+).*/\1/' <<<"$line")
	DPORT[$name]=$(sed -E 's/.*data=[^ ]*:([0-9]+).*/\1/' <<<"$line")
	FPID[$name]=${DAEMON##*:}
}

# fx NAME ARGS...: ftx against node NAME (the balancer for "lb").
declare -A HOST=([direct]=$N_DIRECT [proxied]=$N_PROXIED [s3]=$N_S3 [lb]=$LB)
fx() {
	local name=$1
	shift
	timeout "$T_CMD" "$FTX" --host "${HOST[$name]}" --port "${CPORT[$name]}" --quiet "$@"
}

# s3curl ARGS...: curl signing for radosgw with the bench credentials.
# curl 7.88 signs but sends no x-amz-content-sha256, which radosgw wants
# on every request (403 without it): UNSIGNED-PAYLOAD, or the body's
# SHA-256 from S3_SHA, which the store then checks (400 on a mismatch).
s3curl() {
	timeout "$T_CMD" curl -sS --fail --max-time "$T_CMD" \
	    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS:$S3_SECRET" \
	    -H "x-amz-content-sha256: ${S3_SHA:-UNSIGNED-PAYLOAD}" "$@"
}

LOAD_BEFORE=$(uptime)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- the file
note "writing the ${MIB} MiB test file"
head -c "$SIZE" /dev/urandom >"$SHM/src.bin" || die "cannot write the test file"
# sha256 FILE: the file's SHA-256 in hex.
sha256() {
	local out
	out=$(timeout "$T_CMD" openssl dgst -sha256 -r "$1") || return 1
	echo "${out%% *}"
}
REF_SHA=$(sha256 "$SHM/src.bin")
mkdir -p "$SHM/dl" "$TMP/diskroot"

# ---------------------------------------------------------------- radosgw
RGW_REASON=
S3_REASON=
if [[ ! -f $RGW_SH ]]; then
	RGW_REASON="no $RGW_SH (radosgw helper)"
elif ! command -v radosgw >/dev/null; then
	RGW_REASON="radosgw is not installed"
else
	read -r RGW_PORT < <(free_ports "$RGW_ADDR" 1)
	note "starting radosgw on $RGW_ADDR:$RGW_PORT"
	RGW_DIR=$TMP/rgw
	# shellcheck disable=SC1091 # DIR/env is written by rgw.sh start
	# A 4 GiB memstore OSD (in memory, as filled): room for the stored
	# file, an upload and what the garbage collector has not freed yet.
	if ! RGW_STORE_BYTES=${RGW_STORE_BYTES:-4294967296} \
	    timeout -k 5 180 bash "$RGW_SH" start "$RGW_DIR" "$RGW_ADDR" "$RGW_PORT" "$BUCKET" \
	    >"$TMP/rgw.out" 2>&1; then
		RGW_REASON="rgw.sh start failed: $(tail -n 2 "$TMP/rgw.out" | tr '\n' ' ')"
	elif ! . "$RGW_DIR/env" || [[ -z ${S3_ENDPOINT:-} || -z ${S3_ACCESS:-} || -z ${S3_SECRET:-} ]]; then
		RGW_REASON="$RGW_DIR/env lacks S3_ENDPOINT/S3_ACCESS/S3_SECRET"
	fi
fi
if [[ -n $RGW_REASON ]]; then
	S3_REASON=$RGW_REASON
elif [[ $("$FTXD" --help 2>&1) != *--store* ]]; then
	# (Not "| grep -q": with pipefail, ftxd's SIGPIPE would fail the test.)
	S3_REASON="this ftxd has no --store (the S3 backend)"
else
	# The credentials go in a 0600 file, never on a command line.
	(umask 077 && printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	    "$S3_ACCESS" "$S3_SECRET" >"$TMP/s3.cred")
	mkdir -p "$TMP/s3root"
	start_ftxd s3 "$N_S3" --root "$TMP/s3root" --store "s3://$BUCKET/ftx" \
	    --s3-endpoint "$S3_ENDPOINT" --s3-credentials "$TMP/s3.cred" ||
		S3_REASON="ftxd --store s3:// did not start"
fi

# ---------------------------------------------------------------- local-disk nodes and haproxy
HAPROXY=$(command -v haproxy 2>/dev/null || ls /usr/sbin/haproxy 2>/dev/null)
LB_REASON=
DISK_REASON=
start_ftxd direct "$N_DIRECT" --root "$TMP/diskroot" || DISK_REASON="ftxd (local disk) did not start"
if [[ -z $HAPROXY ]]; then
	LB_REASON="haproxy is not installed (make deps-cluster)"
elif [[ -n $DISK_REASON ]]; then
	LB_REASON=$DISK_REASON
else
	read -r LB_CTRL LB_DATA < <(free_ports "$LB" 2)
	if ! start_ftxd proxied "$N_PROXIED" --root "$TMP/diskroot" --proxy-from "$LB" \
	    --public-data-port "$LB_DATA"; then
		LB_REASON="ftxd behind the balancer did not start"
	else
		# deploy/haproxy.cfg.example for one node, without health checks
		# (their connections would only add noise here).
		cat >"$TMP/haproxy.cfg" <<-EOF
			global
			    maxconn 256
			defaults
			    mode tcp
			    timeout connect 2s
			    timeout client 300s
			    timeout server 300s
			    source $LB
			frontend ftx_control
			    bind $LB:$LB_CTRL
			    default_backend ftx_nodes
			backend ftx_nodes
			    server node1 $N_PROXIED:${CPORT[proxied]} send-proxy-v2
			frontend ftx_data_node1
			    bind $LB:$LB_DATA
			    default_backend ftx_data_node1
			backend ftx_data_node1
			    server node1 $N_PROXIED:${DPORT[proxied]} send-proxy-v2
		EOF
		: >"$TMP/haproxy.log"
		if ! "$HAPROXY" -c -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1; then
			LB_REASON="haproxy rejects the configuration: $(tail -n 1 "$TMP/haproxy.log")"
		else
			start_daemon "$TMP/haproxy.log" "$HAPROXY" -db -f "$TMP/haproxy.cfg"
			HAP_PID=${DAEMON##*:}
			CPORT[lb]=$LB_CTRL
			for ((i = 0; i < 50; i++)); do
				fx lb ls >/dev/null 2>&1 && break
				sleep 0.1
			done
			fx lb ls >/dev/null 2>&1 || LB_REASON="no session through haproxy"
		fi
	fi
fi

# ---------------------------------------------------------------- the rows
ROWS=(s3_up s3_dl disk_up disk_dl curl_up curl_up_sha curl_dl curl_dl_sha lb_up lb_dl)
declare -A LABEL STATUS TIMES
LABEL[s3_up]="ftx put, ftxd --store s3:// (radosgw)"
LABEL[s3_dl]="ftx get, ftxd --store s3:// (radosgw)"
LABEL[disk_up]="ftx put, ftxd --root on local disk, direct"
LABEL[disk_dl]="ftx get, ftxd --root on local disk, direct"
LABEL[curl_up]="curl --aws-sigv4 PUT (UNSIGNED-PAYLOAD)"
LABEL[curl_up_sha]="openssl dgst -sha256 + curl PUT, x-amz-content-sha256 checked by the store"
LABEL[curl_dl]="curl --aws-sigv4 GET into a file"
LABEL[curl_dl_sha]="curl GET into a file + openssl dgst -sha256"
LABEL[lb_up]="ftx put through haproxy (PROXY v2), local disk"
LABEL[lb_dl]="ftx get through haproxy (PROXY v2), local disk"
for r in "${ROWS[@]}"; do
	STATUS[$r]=ok
done
for r in s3_up s3_dl; do
	[[ -z $S3_REASON ]] || STATUS[$r]="skipped: $S3_REASON"
done
for r in curl_up curl_up_sha curl_dl curl_dl_sha; do
	[[ -z $RGW_REASON ]] || STATUS[$r]="skipped: $RGW_REASON"
done
for r in disk_up disk_dl; do
	[[ -z $DISK_REASON ]] || STATUS[$r]="skipped: $DISK_REASON"
done
for r in lb_up lb_dl; do
	[[ -z $LB_REASON ]] || STATUS[$r]="skipped: $LB_REASON"
done

# The downloads' sources, stored untimed: through ftx (so the store has
# the file's SHA-256 as ftx leaves it) and with curl.
if [[ ${STATUS[s3_dl]} == ok ]] && ! fx s3 put "$SHM/src.bin" --as bench.bin >"$TMP/seed.log" 2>&1; then
	STATUS[s3_dl]="failed: seeding: $(tail -n 1 "$TMP/seed.log")"
fi
if [[ ${STATUS[disk_dl]} == ok ]] && ! fx direct put "$SHM/src.bin" --as bench.bin >"$TMP/seed.log" 2>&1; then
	STATUS[disk_dl]="failed: seeding: $(tail -n 1 "$TMP/seed.log")"
	STATUS[lb_dl]=${STATUS[disk_dl]}
fi
# curl GETs the very object ftx stored (key ftx/bench.bin); without the
# S3 node, curl stores it there itself.
if [[ ${STATUS[curl_dl]} == ok && ${STATUS[s3_dl]} != ok ]] &&
    ! S3_SHA=$REF_SHA s3curl -T "$SHM/src.bin" \
	"$S3_ENDPOINT/$BUCKET/ftx/bench.bin" >"$TMP/seed.log" 2>&1; then
	STATUS[curl_dl]="failed: seeding: $(tail -n 1 "$TMP/seed.log")"
	STATUS[curl_dl_sha]=${STATUS[curl_dl]}
fi

# check_file FILE RUN: the right size, and on the first run the same bytes.
check_file() {
	local sz
	sz=$(stat -c %s "$1" 2>/dev/null) || { echo "$1 missing"; return 1; }
	((sz == SIZE)) || { echo "$1 has $sz bytes, expected $SIZE"; return 1; }
	if (($2 == 1)); then
		cmp -s "$1" "$SHM/src.bin" || { echo "$1 differs from the source"; return 1; }
	fi
}
# check_object KEY RUN: the object has the right size (HEAD), and on the
# first run the right bytes (GET, untimed).
check_object() {
	local len
	len=$(s3curl -I "$S3_ENDPOINT/$BUCKET/$1" | tr -d '\r' |
	    awk -F': ' 'tolower($1) == "content-length" { print $2 }')
	[[ $len == "$SIZE" ]] || { echo "object $1: length '$len', expected $SIZE"; return 1; }
	if (($2 == 1)); then
		rm -f "$SHM/dl/check.bin"
		s3curl -o "$SHM/dl/check.bin" "$S3_ENDPOINT/$BUCKET/$1" &&
			check_file "$SHM/dl/check.bin" 1 && rm -f "$SHM/dl/check.bin"
	fi
}
# s3_gc: radosgw keeps a deleted object's data until its garbage collector
# runs (hours later by default), and the throwaway OSD holds 1 GiB in
# memory: collect right after each upload row's delete (untimed).
s3_gc() {
	timeout 60 radosgw-admin -c "$RGW_DIR/ceph.conf" -n client.admin \
	    gc process --include-all >/dev/null
}
clear_dl() {
	rm -rf "$SHM/dl" && mkdir "$SHM/dl"
}

# ftx uploads: a new name every run, removed after it.
up_body() { fx "$1" put "$SHM/src.bin" --as up.bin; }
dl_body() { fx "$1" get bench.bin -o "$SHM/dl"; }
row_s3_up_body() { up_body s3; }
row_s3_up_post() { check_object ftx/up.bin "$1" && fx s3 rm up.bin && s3_gc; }
row_s3_dl_pre() { clear_dl; }
row_s3_dl_body() { dl_body s3; }
row_s3_dl_post() { check_file "$SHM/dl/bench.bin" "$1"; }
row_disk_up_body() { up_body direct; }
row_disk_up_post() { check_file "$TMP/diskroot/up.bin" "$1" && fx direct rm up.bin; }
row_disk_dl_pre() { clear_dl; }
row_disk_dl_body() { dl_body direct; }
row_disk_dl_post() { check_file "$SHM/dl/bench.bin" "$1"; }
row_lb_up_body() { up_body lb; }
row_lb_up_post() { check_file "$TMP/diskroot/up.bin" "$1" && fx direct rm up.bin; }
row_lb_dl_pre() { clear_dl; }
row_lb_dl_body() { dl_body lb; }
row_lb_dl_post() { check_file "$SHM/dl/bench.bin" "$1"; }

# curl: the same key pattern, deleted after each run as ftx's are.
row_curl_up_body() {
	s3curl -T "$SHM/src.bin" "$S3_ENDPOINT/$BUCKET/curl/up.bin"
}
row_curl_up_post() {
	check_object curl/up.bin "$1" && s3curl -X DELETE "$S3_ENDPOINT/$BUCKET/curl/up.bin" &&
		s3_gc
}
row_curl_up_sha_body() {
	local sha
	sha=$(sha256 "$SHM/src.bin") &&
		S3_SHA=$sha s3curl -T "$SHM/src.bin" "$S3_ENDPOINT/$BUCKET/curl/up.bin"
}
row_curl_up_sha_post() { row_curl_up_post "$1"; }
row_curl_dl_pre() { clear_dl; }
row_curl_dl_body() { s3curl -o "$SHM/dl/bench.bin" "$S3_ENDPOINT/$BUCKET/ftx/bench.bin"; }
row_curl_dl_post() { check_file "$SHM/dl/bench.bin" "$1"; }
row_curl_dl_sha_pre() { clear_dl; }
row_curl_dl_sha_body() {
	local sha
	s3curl -o "$SHM/dl/bench.bin" "$S3_ENDPOINT/$BUCKET/ftx/bench.bin" &&
		sha=$(sha256 "$SHM/dl/bench.bin") &&
		[[ $sha == "$REF_SHA" ]]
}
row_curl_dl_sha_post() { check_file "$SHM/dl/bench.bin" "$1"; }

fail_row() {
	STATUS[$1]="failed: $2: $(grep -v '^[[:space:]]*$' "$3" 2>/dev/null | tail -n 1)"
	note "${LABEL[$1]}: ${STATUS[$1]}"
}

# CPU time: ticks (user + system) of processes, all their threads; the
# client's is what this shell's waited-for children used (cutime + cstime).
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# ticks "PID..." (one word list)
ticks() {
	local p st sum=0
	for p in $1; do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		# shellcheck disable=SC2086
		set -- $st
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}
child_ticks() {
	local st
	st=$(cat "/proc/$$/stat")
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo $((${14} + ${15}))
}
# Which server processes each row keeps busy: ftxd, haproxy, the store
# (radosgw and the OSD).  Filled in once the servers run.
declare -A P_FTXD P_HAP P_STORE CPU
cpu_cols=(client ftxd hap store)

run_row() {
	local r=$1 run=$2 log=$TMP/row-$1.log t0 t1 rc=0 c0 c1 f0 f1 h0 h1 s0 s1
	if declare -F "row_${r}_pre" >/dev/null && ! "row_${r}_pre" >"$log" 2>&1; then
		fail_row "$r" "preparation" "$log"
		return
	fi
	c0=$(child_ticks) f0=$(ticks "${P_FTXD[$r]:-}") h0=$(ticks "${P_HAP[$r]:-}")
	s0=$(ticks "${P_STORE[$r]:-}")
	t0=$EPOCHREALTIME
	"row_${r}_body" >"$log" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	c1=$(child_ticks) f1=$(ticks "${P_FTXD[$r]:-}") h1=$(ticks "${P_HAP[$r]:-}")
	s1=$(ticks "${P_STORE[$r]:-}")
	if ((rc != 0)); then
		fail_row "$r" "exit status $rc" "$log"
		return
	fi
	if ! "row_${r}_post" "$run" >>"$log" 2>&1; then
		fail_row "$r" "check after run $run" "$log"
		return
	fi
	TIMES[$r]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') "
	CPU[$r.client]+="$(((c1 - c0) * 1000 / CLK_TCK)) "
	[[ -z ${P_FTXD[$r]:-} ]] || CPU[$r.ftxd]+="$(((f1 - f0) * 1000 / CLK_TCK)) "
	[[ -z ${P_HAP[$r]:-} ]] || CPU[$r.hap]+="$(((h1 - h0) * 1000 / CLK_TCK)) "
	[[ -z ${P_STORE[$r]:-} ]] || CPU[$r.store]+="$(((s1 - s0) * 1000 / CLK_TCK)) "
	note "run $run/$RUNS  ${LABEL[$r]}: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s"
}

# RTT: `ftx rtt` (ECHO on the control connection) direct and through the
# balancer, to the node behind it and to the direct node.
RTT_ROWS=(rtt_direct rtt_lb)
LABEL[rtt_direct]="ftx rtt (control ECHO), direct to a node"
LABEL[rtt_lb]="ftx rtt (control ECHO), through haproxy"
declare -A VAL
STATUS[rtt_direct]=${STATUS[disk_up]}
STATUS[rtt_lb]=${STATUS[lb_up]}
json_num() {
	sed -n 's/.*"'"$2"'":\([0-9][0-9.]*\).*/\1/p' <<<"$1"
}
run_rtt() {
	local r=$1 node=$2 out p50 p99
	out=$(fx "$node" rtt -n "$RTT_N" --json 2>"$TMP/row-$r.log")
	p50=$(json_num "$out" median_ms)
	p99=$(json_num "$out" p99_ms)
	if [[ -z $p50 || -z $p99 ]]; then
		echo "${out:-no output}" >>"$TMP/row-$r.log"
		fail_row "$r" "ftx rtt" "$TMP/row-$r.log"
		return
	fi
	VAL[$r.p50]+="$(awk -v v="$p50" 'BEGIN { printf "%.1f", v * 1000 }') "
	VAL[$r.p99]+="$(awk -v v="$p99" 'BEGIN { printf "%.1f", v * 1000 }') "
	note "run $run/$RUNS  ${LABEL[$r]}: p50 ${p50} ms, p99 ${p99} ms"
}

STORE_PIDS="${RGW_PID:-} ${OSD_PID:-}"
for r in s3_up s3_dl; do
	P_FTXD[$r]=${FPID[s3]:-}
	P_STORE[$r]=$STORE_PIDS
done
for r in curl_up curl_up_sha curl_dl curl_dl_sha; do
	P_STORE[$r]=$STORE_PIDS
done
for r in disk_up disk_dl; do
	P_FTXD[$r]=${FPID[direct]:-}
done
for r in lb_up lb_dl; do
	P_FTXD[$r]=${FPID[proxied]:-}
	P_HAP[$r]=${HAP_PID:-}
done

for ((run = 1; run <= RUNS; run++)); do
	for r in "${ROWS[@]}"; do
		[[ ${STATUS[$r]} == ok ]] && run_row "$r" "$run"
	done
	[[ ${STATUS[rtt_direct]} == ok ]] && run_rtt rtt_direct direct
	[[ ${STATUS[rtt_lb]} == ok ]] && run_rtt rtt_lb lb
done

# ---------------------------------------------------------------- chat
CHAT_OUT=
CHAT_REASON=
if ((CHAT_N == 0)); then
	CHAT_REASON="BENCH_CLUSTER_CHAT_N=0"
elif ! command -v redis-server >/dev/null; then
	CHAT_REASON="redis-server is not installed (make deps-cluster)"
else
	note "chat: bench/chatbus.sh, $CHAT_N messages per row"
	# As a daemon of ours: on an interruption the cleanup sends TERM to
	# chatbus.sh itself (not to timeout(1)), whose own trap then stops
	# its redis-server and nodes.
	: >"$TMP/chat.out"
	start_daemon "$TMP/chat.out" env FTX_BUILD="$BUILD" CHATLAT_N="$CHAT_N" \
	    bash bench/chatbus.sh
	CHAT_PID=${DAEMON%%:*}
	for ((i = 0; i < T_CMD * 10; i++)); do
		kill -0 "$CHAT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CHAT_PID" 2>/dev/null; then
		stop_daemon "$DAEMON"
		CHAT_REASON="bench/chatbus.sh ran over ${T_CMD}s"
	elif ! wait "$CHAT_PID"; then
		CHAT_REASON="bench/chatbus.sh failed: $(tail -n 1 "$TMP/chat.out")"
	fi
	CHAT_OUT=$(grep '^|' "$TMP/chat.out")
	grep -q '| failed |' <<<"$CHAT_OUT" && CHAT_REASON="a chatbus.sh row failed"
fi

LOAD_AFTER=$(uptime)

# ---------------------------------------------------------------- report
median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2];
	          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A MED MIBS
for r in "${ROWS[@]}"; do
	[[ ${STATUS[$r]} == ok && -n ${TIMES[$r]:-} ]] || continue
	MED[$r]=$(median "${TIMES[$r]}")
	MIBS[$r]=$(awk -v m="$MIB" -v s="${MED[$r]}" 'BEGIN { printf "%.0f", m / s }')
done
# ratio A B: MiB/s of row A over row B (throughput ratio), or "-".
ratio() {
	if [[ -n ${MED[$1]:-} && -n ${MED[$2]:-} ]]; then
		awk -v a="${MED[$1]}" -v b="${MED[$2]}" 'BEGIN { printf "%.2f", b / a }'
	else
		echo -
	fi
}
verdict() {
	local v=$1
	[[ $v == - ]] && { echo "not measured"; return; }
	awk -v v="$v" 'BEGIN { print (v >= 0.80 ? "met" : "MISSED") }'
}

CMD="make bench-cluster (here: FTX_BUILD=$BUILD BENCH_CLUSTER_MIB=$MIB BENCH_CLUSTER_RUNS=$RUNS BENCH_CLUSTER_RTT_N=$RTT_N BENCH_CLUSTER_CHAT_N=$CHAT_N bash bench/cluster.sh)"
{
	echo "Command: \`$CMD\`"
	echo
	echo "Run: $START, tree $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "$("$FTXD" --version 2>/dev/null | head -n 1), $(curl --version | head -n 1 | cut -d' ' -f1-2),"
	echo "$("$HAPROXY" -v 2>/dev/null | head -n 1 | cut -d' ' -f1-3), $(radosgw --version 2>/dev/null | cut -d' ' -f1-3)."
	echo "Machine: $(nproc) cores, $(uname -sr). Load before: ${LOAD_BEFORE##*load average: }; after: ${LOAD_AFTER##*load average: }"
	echo
	echo "File: $MIB MiB of random bytes, source and downloads on tmpfs; radosgw"
	echo "on $RGW_ADDR (one memstore OSD), ftxd nodes on $N_S3 (S3), $N_DIRECT"
	echo "(local disk, direct) and $N_PROXIED (the same root, behind haproxy on $LB)."
	echo "Median of $RUNS runs per row, taken round-robin. MiB/s = $MIB / median seconds."
	echo "CPU s: medians of the CPU time (user + system) each side used during the run:"
	echo "the client (ftx, curl, openssl), the ftxd node, haproxy, radosgw + the OSD."
	echo
	echo "| row | seconds (median) | MiB/s | CPU s: client | ftxd | haproxy | radosgw + OSD | runs (s) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	for r in "${ROWS[@]}"; do
		if [[ -n ${MED[$r]:-} ]]; then
			cpus=
			for c in "${cpu_cols[@]}"; do
				if [[ -n ${CPU[$r.$c]:-} ]]; then
					cpus+=" $(median "${CPU[$r.$c]}" | awk '{ printf "%.2f", $1 / 1000 }') |"
				else
					cpus+=" - |"
				fi
			done
			echo "| ${LABEL[$r]} | ${MED[$r]} | ${MIBS[$r]} |$cpus $(sed 's/ $//; s/ /, /g' <<<"${TIMES[$r]}") |"
		else
			echo "| ${LABEL[$r]} | ${STATUS[$r]} | | | | | | |"
		fi
	done
	echo
	echo "| control round trip | p50 µs (median) | p99 µs (median) | runs p50 / p99 (µs) |"
	echo "|---|---:|---:|---|"
	for r in "${RTT_ROWS[@]}"; do
		if [[ ${STATUS[$r]} == ok && -n ${VAL[$r.p50]:-} ]]; then
			MED[$r.p50]=$(median "${VAL[$r.p50]}")
			MED[$r.p99]=$(median "${VAL[$r.p99]}")
			echo "| ${LABEL[$r]} ($RTT_N round trips a run) | ${MED[$r.p50]} | ${MED[$r.p99]} | $(sed 's/ $//; s/ /, /g' <<<"${VAL[$r.p50]}") / $(sed 's/ $//; s/ /, /g' <<<"${VAL[$r.p99]}") |"
		else
			echo "| ${LABEL[$r]} | ${STATUS[$r]} | | |"
		fi
	done
	echo
	echo "Chat delivery, one message's trip sender -> receiver (bench/chatbus.sh, $CHAT_N messages a row, one run):"
	echo
	if [[ -n $CHAT_OUT ]]; then
		printf '%s\n' "$CHAT_OUT"
	else
		echo "skipped: $CHAT_REASON"
	fi
	echo
	echo "Ratios (same run):"
	echo
	up=$(ratio s3_up curl_up)
	dl=$(ratio s3_dl curl_dl)
	echo "- ftx-S3 upload / curl PUT: **$up** (target >= 0.80: $(verdict "$up"))"
	echo "- ftx-S3 download / curl GET: **$dl** (target >= 0.80: $(verdict "$dl"))"
	echo "- ftx-S3 upload / openssl dgst + curl PUT (both verified): **$(ratio s3_up curl_up_sha)**"
	echo "- ftx-S3 download / curl GET + openssl dgst (both verified): **$(ratio s3_dl curl_dl_sha)**"
	echo "- ftx-S3 / ftx local disk: upload **$(ratio s3_up disk_up)**, download **$(ratio s3_dl disk_dl)**"
	echo "- through haproxy / direct: upload **$(ratio lb_up disk_up)**, download **$(ratio lb_dl disk_dl)**"
	if [[ -n ${MED[rtt_lb.p50]:-} && -n ${MED[rtt_direct.p50]:-} ]]; then
		echo "- control round trip through haproxy / direct: p50 **$(awk -v a="${MED[rtt_lb.p50]}" -v b="${MED[rtt_direct.p50]}" 'BEGIN { printf "%.2f", a / b }')**, p99 **$(awk -v a="${MED[rtt_lb.p99]}" -v b="${MED[rtt_direct.p99]}" 'BEGIN { printf "%.2f", a / b }')** (latency: higher is slower)"
	fi
	if [[ -n $CHAT_OUT ]]; then
		# | path | messages | p50 | p90 | p99 | max |
		awk -F' *[|] *' '
		    /one node, no bus/ { l50 = $4; l99 = $6 }
		    /one node, through Redis/ { s50 = $4; s99 = $6 }
		    /across nodes/ { x50 = $4; x99 = $6 }
		    END {
			if (l50 > 0 && s50 > 0 && x50 > 0)
				printf "- chat across nodes (Redis) / one node without the bus: p50 **%.2f**, p99 **%.2f**; / one node through Redis: p50 **%.2f**, p99 **%.2f** (latency: higher is slower)\n", x50 / l50, x99 / l99, x50 / s50, x99 / s99
		    }' <<<"$CHAT_OUT"
	fi
} >"$TMP/report.md"
cat "$TMP/report.md"
for r in "${ROWS[@]}" "${RTT_ROWS[@]}"; do
	[[ ${STATUS[$r]} != failed* ]] || { note "some rows failed"; exit 1; }
done
[[ -z $CHAT_REASON || $CHAT_N == 0 ]] || [[ $CHAT_REASON == *"not installed"* ]] || exit 1
exit 0
