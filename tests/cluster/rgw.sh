#!/bin/bash
# rgw.sh - a throwaway single-node Ceph cluster with radosgw, for tests
# and benchmarks of ftxd's S3 backend (--store s3://...).
#
#	rgw.sh start DIR ADDR PORT [BUCKET]
#	rgw.sh stop DIR
#	rgw.sh stop-rgw DIR
#	rgw.sh start-rgw DIR
#
# start: one ceph-mon, one ceph-osd (the memstore objectstore, 1 GiB, in
# memory) and radosgw (beast frontend on ADDR:PORT; ADDR a loopback
# address such as 127.0.0.20), no manager.  Everything -- ceph.conf,
# keyrings, monitor and OSD data, logs, pid files, admin sockets -- is
# under DIR (created if missing, must be empty of a previous cluster);
# /etc/ceph and /var/lib/ceph are never read or written.  An S3 user is
# created with random keys, one PUT+DELETE warms the data pool up (the
# first PUT of a fresh cluster creates it, about 2 s), and BUCKET, if
# given, is created.  DIR/env, sourceable by a shell, then holds:
#	S3_ENDPOINT=http://ADDR:PORT  S3_REGION=us-east-1
#	S3_ACCESS=...  S3_SECRET=...  S3_BUCKET=... (if given)
#	MON_PID=...  OSD_PID=...  RGW_PID=...
# Exits 0 once radosgw answers signed requests (bounded: 60 s for the
# whole start, RGW_START_TIMEOUT to change it); otherwise 1, after
# printing the tail of the log of any daemon that died or did not come
# up, and stopping what it had started.
#
# stop: every daemon in DIR/env (and DIR/run/*.pid), TERM, then KILL
# after 10 s; only processes whose command line names DIR.  Nothing is
# removed.
# stop-rgw / start-rgw: only radosgw (the "store goes down" tests);
# start-rgw waits until it answers again and updates RGW_PID.
#
# RGW_ARGV0: if set, every daemon runs with argv[0] = "$RGW_ARGV0/NAME"
# (e.g. a test harness's directory, so that its reaper recognises the
# processes as its own).
#
# Needs: ceph-mon ceph-osd radosgw ceph-common (ceph, ceph-authtool,
# monmaptool, radosgw-admin), curl 7.75 or later (--aws-sigv4), python3.
# Works as root and as an ordinary user (nothing needs privileges).

set -u
PATH=$PATH:/usr/sbin:/sbin

die() {
	echo "rgw.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: rgw.sh start DIR ADDR PORT [BUCKET] | stop DIR | stop-rgw DIR | start-rgw DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2
case $DIR in
/*) ;;
*) DIR=$(pwd)/$DIR ;;
esac
CONF=$DIR/ceph.conf
ENVF=$DIR/env
LOGD=$DIR/log
RUND=$DIR/run
: "${RGW_START_TIMEOUT:=60}"
T0=$(date +%s)

# ---------------------------------------------------------------- helpers

elapsed() { echo $(($(date +%s) - T0)); }

# Our process: alive and its command line names DIR.
ours() {
	local cmdline
	[ -n "$1" ] || return 1
	kill -0 "$1" 2>/dev/null || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case "$cmdline" in
	*"$DIR"*) return 0 ;;
	esac
	return 1
}

# ceph ARGS...: the ceph CLI on this cluster only, bounded.
cephc() {
	timeout 20 ceph -c "$CONF" --connect-timeout 10 "$@"
}

# show_log NAME: the tail of a daemon's log and its stdout/stderr.
show_log() {
	local f
	for f in "$LOGD/$1.log" "$LOGD/$1.out"; do
		[ -s "$f" ] || continue
		echo "---- last lines of $f:" >&2
		tail -n 25 "$f" >&2
	done
}

# check_alive NAME PID: the daemon is still running; if not, say so
# with its log.
check_alive() {
	if ! kill -0 "$2" 2>/dev/null; then
		echo "rgw.sh: $1 (pid $2) died" >&2
		show_log "$1"
		return 1
	fi
	return 0
}

# run_daemon NAME BINARY ARGS...: start BINARY in the foreground mode
# (-f) in the background, stdout/stderr to $LOGD/NAME.out; sets DPID.
run_daemon() {
	local name=$1 bin=$2 argv0
	shift 2
	argv0=$bin
	[ -n "${RGW_ARGV0:-}" ] && argv0=$RGW_ARGV0/$bin
	# (A background job of a script ignores SIGINT: a Ctrl-C in the
	# caller's terminal does not reach the daemons.)
	(exec -a "$argv0" "$(command -v "$bin")" "$@" </dev/null \
		>>"$LOGD/$name.out" 2>&1) &
	DPID=$!
	echo "$DPID" >"$RUND/$name.pid"
}

# put_env KEY VALUE: set KEY in DIR/env (replacing an old value).
put_env() {
	local tmp=$ENVF.tmp
	{
		[ -f "$ENVF" ] && grep -v "^$1=" "$ENVF"
		printf '%s=%s\n' "$1" "$2"
	} >"$tmp" && mv "$tmp" "$ENVF"
}

# s3 METHOD PATH [FILE]: a signed request to radosgw, FILE the body;
# prints the HTTP status, the response body is in DIR/s3.last.  (curl
# 7.88 signs the payload's SHA-256 but does not send the
# x-amz-content-sha256 header S3 requires: we send it.)
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3() {
	local method=$1 path=$2 body=${3:-} sha=$EMPTY_SHA256
	local args=()
	if [ -n "$body" ]; then
		sha=$(sha256sum <"$body" | cut -c1-64)
		args=(--data-binary "@$body")
	fi
	curl -s -o "$DIR/s3.last" -w '%{http_code}' --max-time 20 \
		--aws-sigv4 "aws:amz:${S3_REGION}:s3" --user "$S3_ACCESS:$S3_SECRET" \
		-H "x-amz-content-sha256: $sha" -X "$method" "${args[@]}" "$S3_ENDPOINT$path"
}

# Wait until radosgw answers (any HTTP status) or DEADLINE (epoch s).
wait_rgw() {
	local deadline=$1 pid=$2 code
	while [ "$(date +%s)" -lt "$deadline" ]; do
		check_alive radosgw "$pid" || return 1
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$S3_ENDPOINT/" 2>/dev/null)
		case $code in
		2?? | 3?? | 4??) return 0 ;;
		esac
		sleep 0.2
	done
	echo "rgw.sh: radosgw did not answer on $S3_ENDPOINT within the time limit" >&2
	show_log radosgw
	return 1
}

start_radosgw() {
	run_daemon radosgw radosgw -f -c "$CONF" -n client.rgw.a
	RGW_PID=$DPID
	put_env RGW_PID "$RGW_PID"
}

load_env() {
	[ -f "$ENVF" ] || die "$ENVF does not exist (no cluster started in $DIR)"
	# shellcheck disable=SC1090
	. "$ENVF"
}

# stop_pid NAME PID: TERM, up to 10 s, then KILL; only if ours.
stop_pid() {
	local name=$1 pid=$2 _n
	ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for _n in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	if ours "$pid"; then
		echo "rgw.sh: $name (pid $pid) did not stop on TERM in 10 s: KILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	for _n in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 0
}

# A free TCP port on ADDR.
free_port() {
	python3 -c 'import socket,sys
s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# ---------------------------------------------------------------- start

do_start() {
	local addr=$3 port=$4 bucket=${5:-} fsid monport osduuid code deadline
	[[ $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || $addr = ::1 ]] ||
		die "ADDR must be a loopback address (127.x.y.z), not '$addr'"
	[[ $port =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] ||
		die "bad PORT '$port'"
	for b in ceph-mon ceph-osd radosgw ceph ceph-authtool monmaptool radosgw-admin curl python3; do
		command -v "$b" >/dev/null 2>&1 ||
			die "$b is not installed (apt-get install radosgw ceph-mon ceph-osd ceph-common curl; make deps-cluster)"
	done
	# Something already answering there would pass for our radosgw.
	if (exec 9<>"/dev/tcp/$addr/$port") 2>/dev/null; then
		die "$addr:$port is in use already"
	fi
	mkdir -p "$DIR" || die "cannot create $DIR"
	[ -e "$DIR/mon.a" ] && die "$DIR already holds a cluster (rgw.sh stop it, then remove it)"
	mkdir -p "$LOGD" "$RUND" "$DIR/mon.a" "$DIR/osd.0" "$DIR/rgw.a" "$DIR/crash" || exit 1
	: >"$ENVF"
	deadline=$((T0 + RGW_START_TIMEOUT))

	fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	osduuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
	monport=$(free_port "$addr") || die "no free port on $addr"
	S3_ENDPOINT=http://$addr:$port
	[ "$addr" = ::1 ] && S3_ENDPOINT="http://[::1]:$port"
	S3_REGION=us-east-1
	S3_ACCESS=$(tr -dc 'A-Z0-9' </dev/urandom | head -c 20)
	S3_SECRET=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)

	# Every path Ceph would otherwise take from /etc/ceph, /var/lib/ceph,
	# /var/log/ceph or /var/run/ceph is set here.
	cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:$addr:$monport]
mon initial members = a
public addr = $addr
cluster addr = $addr
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring
log file = $LOGD/\$name.log
mon cluster log file = $LOGD/cluster.log
run dir = $RUND
admin socket = $RUND/\$cluster-\$name.asok
pid file = $RUND/\$name.ceph.pid
crash dir = $DIR/crash
mon data = $DIR/mon.\$id
osd data = $DIR/osd.\$id
mgr data = $DIR/mgr.\$id
rgw data = $DIR/rgw.\$id
exporter sock dir = $RUND
# One OSD: one copy, few placement groups, and no failure domain above it.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
# A disk that is nearly full on the test machine must not stop the monitor.
mon data avail crit = 1
mon data avail warn = 2
# The OSD keeps its objects in memory: nothing on disk, 1 GiB at most.
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
osd memory target = 939524096
debug ms = 0
mon osd full ratio = 0.97
mon osd nearfull ratio = 0.95

[osd]
osd op num threads per shard = 1
osd op num shards = 2

[client.rgw.a]
# tcp_nodelay: otherwise a small answer (a listing, a partial's record)
# waits ~40 ms for the client's delayed ACK (Nagle on the server side):
# put -r of one-line files took 150 ms a file instead of 13.
rgw frontends = beast endpoint=$addr:$port tcp_nodelay=1
rgw init timeout = 60
rgw dns name =
rgw thread pool size = 64
rgw enable usage log = false
log file = $LOGD/radosgw.log
debug rgw = ${RGW_DEBUG:-1}
EOF
	# Keys: the monitor's, the admin's, the OSD's and radosgw's, all
	# in one keyring that every daemon of this cluster reads (its own
	# entry only); the monitor imports all of them at --mkfs, so the
	# OSD's key exists before ceph-osd --mkfs.
	ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. \
		--cap mon 'allow *' >/dev/null || die "ceph-authtool failed"
	ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' \
		--cap mds 'allow *' >/dev/null || die "ceph-authtool failed"
	ceph-authtool "$DIR/keyring" --gen-key -n osd.0 \
		--cap mon 'allow profile osd' --cap osd 'allow *' \
		--cap mgr 'allow profile osd' >/dev/null || die "ceph-authtool failed"
	ceph-authtool "$DIR/keyring" --gen-key -n client.rgw.a \
		--cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' \
		>/dev/null || die "ceph-authtool failed"
	chmod 0600 "$DIR/keyring"

	monmaptool --create --fsid "$fsid" --addv a "[v2:$addr:$monport]" \
		"$DIR/monmap" >"$LOGD/monmaptool.out" 2>&1 ||
		{ cat "$LOGD/monmaptool.out" >&2; die "monmaptool failed"; }
	ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" \
		--keyring "$DIR/keyring" >"$LOGD/mon-mkfs.out" 2>&1 ||
		{ tail -n 20 "$LOGD/mon-mkfs.out" >&2; die "ceph-mon --mkfs failed"; }

	run_daemon mon.a ceph-mon -f -c "$CONF" -i a
	MON_PID=$DPID
	put_env MON_PID "$MON_PID"

	# The monitor answers.
	while :; do
		check_alive mon.a "$MON_PID" || { do_stop; exit 1; }
		cephc mon stat >"$LOGD/wait-mon.out" 2>&1 && break
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "rgw.sh: the monitor did not answer in time" >&2
			cat "$LOGD/wait-mon.out" >&2
			show_log mon.a
			do_stop
			exit 1
		fi
		sleep 0.2
	done
	echo "rgw.sh: monitor up on $addr:$monport after $(elapsed) s" >&2

	# The OSD: its id in the OSD map, its store made, then running.
	cephc osd new "$osduuid" 0 >"$LOGD/osd-new.out" 2>&1 ||
		{ cat "$LOGD/osd-new.out" >&2; do_stop; die "ceph osd new failed"; }
	ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osduuid" \
		>"$LOGD/osd-mkfs.out" 2>&1 ||
		{ tail -n 20 "$LOGD/osd-mkfs.out" >&2; show_log osd.0; do_stop; die "ceph-osd --mkfs failed"; }
	run_daemon osd.0 ceph-osd -f -c "$CONF" -i 0
	OSD_PID=$DPID
	put_env OSD_PID "$OSD_PID"
	while :; do
		check_alive osd.0 "$OSD_PID" || { do_stop; exit 1; }
		if cephc osd dump 2>/dev/null | grep -q '^osd\.0 up '; then
			break
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "rgw.sh: the OSD did not come up in time" >&2
			show_log osd.0
			do_stop
			exit 1
		fi
		sleep 0.2
	done
	echo "rgw.sh: OSD up after $(elapsed) s" >&2

	put_env S3_ENDPOINT "$S3_ENDPOINT"
	put_env S3_REGION "$S3_REGION"
	start_radosgw
	wait_rgw "$deadline" "$RGW_PID" || { do_stop; exit 1; }
	echo "rgw.sh: radosgw answers on $S3_ENDPOINT after $(elapsed) s" >&2

	timeout 30 radosgw-admin -c "$CONF" -n client.admin user create --uid=ftx \
		--display-name="ftx tests" --access-key="$S3_ACCESS" \
		--secret="$S3_SECRET" >"$LOGD/user-create.out" 2>&1 ||
		{ tail -n 20 "$LOGD/user-create.out" >&2; do_stop; die "radosgw-admin user create failed"; }
	put_env S3_ACCESS "$S3_ACCESS"
	put_env S3_SECRET "$S3_SECRET"
	chmod 0600 "$ENVF"

	# A signed request works (the user is known to radosgw), then the
	# warm-up bucket: one PUT and DELETE creates the data pool.
	while :; do
		code=$(s3 GET /)
		[ "$code" = 200 ] && break
		if [ "$(date +%s)" -ge "$deadline" ] || ! check_alive radosgw "$RGW_PID"; then
			echo "rgw.sh: signed GET / answers $code" >&2
			cat "$DIR/s3.last" >&2 2>/dev/null
			show_log radosgw
			do_stop
			exit 1
		fi
		sleep 0.2
	done
	warm=ftx-warmup-$$
	code=$(s3 PUT "/$warm")
	[ "$code" = 200 ] || { echo "rgw.sh: creating bucket $warm: HTTP $code" >&2; cat "$DIR/s3.last" >&2; do_stop; exit 1; }
	printf 'warm-up' >"$DIR/warm-up"
	code=$(s3 PUT "/$warm/x" "$DIR/warm-up")
	[ "$code" = 200 ] || { echo "rgw.sh: warm-up PUT: HTTP $code" >&2; cat "$DIR/s3.last" >&2; do_stop; exit 1; }
	s3 DELETE "/$warm/x" >/dev/null
	s3 DELETE "/$warm" >/dev/null
	if [ -n "$bucket" ]; then
		code=$(s3 PUT "/$bucket")
		if [ "$code" != 200 ]; then
			echo "rgw.sh: creating bucket $bucket: HTTP $code" >&2
			cat "$DIR/s3.last" >&2
			do_stop
			exit 1
		fi
		put_env S3_BUCKET "$bucket"
	fi
	echo "rgw.sh: ready after $(elapsed) s: $S3_ENDPOINT (env in $ENVF)" >&2
}

# ---------------------------------------------------------------- stop

do_stop() {
	local name pid f
	# shellcheck disable=SC1090
	[ -f "$ENVF" ] && . "$ENVF"
	# radosgw first, then the OSD, then the monitor.
	stop_pid radosgw "${RGW_PID:-}"
	stop_pid osd.0 "${OSD_PID:-}"
	stop_pid mon.a "${MON_PID:-}"
	# Anything else a pid file names (a start that failed half way).
	for f in "$RUND"/*.pid; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .pid)
		pid=$(cat "$f" 2>/dev/null)
		stop_pid "$name" "$pid"
	done
	return 0
}

case $cmd in
start)
	[ $# -ge 4 ] || usage
	do_start "$@"
	;;
stop)
	[ -d "$DIR" ] || die "no such directory: $DIR"
	do_stop
	;;
stop-rgw)
	load_env
	stop_pid radosgw "${RGW_PID:-}"
	;;
start-rgw)
	load_env
	if ours "${RGW_PID:-}"; then
		echo "rgw.sh: radosgw is already running (pid $RGW_PID)" >&2
		exit 0
	fi
	start_radosgw
	wait_rgw $((T0 + RGW_START_TIMEOUT)) "$RGW_PID" || exit 1
	# Answers signed requests again (the user's keys are loaded).
	while [ "$(s3 GET /)" != 200 ]; do
		if [ "$(elapsed)" -ge "$RGW_START_TIMEOUT" ] || ! check_alive radosgw "$RGW_PID"; then
			echo "rgw.sh: radosgw does not answer signed requests" >&2
			show_log radosgw
			exit 1
		fi
		sleep 0.2
	done
	echo "rgw.sh: radosgw back after $(elapsed) s" >&2
	;;
*)
	usage
	;;
esac
