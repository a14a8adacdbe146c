# lib.sh - helpers for the ftx integration tests.  Source it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# Every test runs in its own bash process with its own temporary
# directory ($TMPD).  Every process a test starts is recorded by PID and
# killed by PID when the test exits (and run.sh double-checks through
# $FTX_PIDFILE).  Assertions do not stop the test: they count failures,
# and the exit trap turns any failure into exit status 1.  `skip` exits
# 77.  Every wait is bounded.

set -u

if [ -z "${FTX_BUILD:-}" ]; then
	echo "lib.sh: FTX_BUILD is not set (run through tests/integration/run.sh)" >&2
	exit 2
fi
FTX_BUILD=$(cd "$FTX_BUILD" && pwd) || exit 2
# A suite run by hand from a terminal must not read it: what it starts
# under timeout(1) is in a background process group, and touching the
# terminal there stops it (SIGTTIN/SIGTTOU) until its timeout.  run.sh
# gives every suite /dev/null already.
if [ -t 0 ]; then
	exec </dev/null
fi
# A real /etc/ftxd.conf (after deploy/install.sh) must not leak into the
# tests: an empty FTXD_CONFIG turns the default config file off.
export FTXD_CONFIG=
FTXD=$FTX_BUILD/ftxd
# As root (CI), ftxd refuses to serve without --user or --allow-root.
ALLOW_ROOT=
[ "$(id -u)" = 0 ] && ALLOW_ROOT=--allow-root
FTX_BIN=$FTX_BUILD/ftx
FTXRAW=$FTX_BUILD/tools/ftxraw
FTXFAKE=$FTX_BUILD/tools/ftxfake
ITEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/ftx-$TEST_NAME.XXXXXX") || exit 2
FAILS=0
CHECKS=0
PIDS=()
SERVER_PID=
SERVER_N=0
RAW_N=0
ROOT=
LOG=
CTRL_PORT=
DATA_PORT=

# ---------------------------------------------------------------- naps

# nap SECONDS: sleep without starting a process.  The polls below run
# every 0.05-0.1 s in every suite at once; a sleep(1) per poll was a
# good part of a parallel run's CPU.  read -t on a pipe nobody writes
# (we hold its write end) times out; where that cannot be set up, sleep.
NAP_FD=
# (The braces: a bare `exec ... 2>/dev/null` would keep the stderr
# redirection for the rest of the suite.)
if { exec {NAP_FD}<> <(:); } 2>/dev/null; then
	nap() { read -r -t "$1" -u "$NAP_FD" _ 2>/dev/null || :; }
else
	nap() { sleep "$1"; }
fi

# ---------------------------------------------------------------- cleanup

# Record a PID we started so the exit trap (and run.sh) can kill it.
track_pid() {
	PIDS+=("$1")
	if [ -n "${FTX_PIDFILE:-}" ]; then
		echo "$1" >>"$FTX_PIDFILE"
	fi
}

SANITIZER_RE='(ERROR|WARNING): (Address|Leak|Thread|Memory)Sanitizer|runtime error:|ERROR SUMMARY: [1-9]'

# A recorded PID is still one of ours (not exited and reused by an
# unrelated process): its command line names our build or test directory.
ours() {
	local cmd
	kill -0 "$1" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case "$cmd" in
	*"$FTX_BUILD"* | *"$ITEST_DIR"*) return 0 ;;
	esac
	return 1
}

_cleanup() {
	local rc=$? pid i
	trap - EXIT
	# Ask politely first (timeout(1) forwards TERM to its child), then
	# insist.  Only PIDs we started ourselves.
	local live=()
	for pid in "${PIDS[@]}"; do
		if ours "$pid"; then
			live+=("$pid")
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	for i in $(seq 1 30); do
		local alive=0
		for pid in "${live[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then
				alive=1
			fi
		done
		[ $alive -eq 0 ] && break
		nap 0.1
	done
	for pid in "${live[@]}"; do
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	# Under `make asan` a sanitizer report in the server is a failure
	# even if every check passed.
	if grep -l -a -E "$SANITIZER_RE" "$TMPD"/ftxd.*.log.out >/dev/null 2>&1; then
		fail "sanitizer report in the server's stderr:"
		grep -h -a -E -A 15 "$SANITIZER_RE" "$TMPD"/ftxd.*.log.out | head -n 40 >&2
	fi
	if [ "$FAILS" -gt 0 ] && [ -n "$LOG" ] && [ -f "$LOG" ]; then
		echo "---- last lines of the server log $LOG:" >&2
		tail -n 25 "$LOG" >&2
	fi
	if [ -n "${FTX_KEEP_TMP:-}" ]; then
		echo "keeping $TMPD" >&2
	else
		rm -rf "$TMPD"
	fi
	if [ "$FAILS" -gt 0 ]; then
		echo "$TEST_NAME: $FAILS of $CHECKS checks failed" >&2
		exit 1
	fi
	if [ "$rc" -eq 77 ]; then
		exit 77
	fi
	if [ "$FINISHED" -ne 1 ]; then
		echo "$TEST_NAME: ended early (exit $rc) after $CHECKS checks" >&2
		exit 1
	fi
	echo "$TEST_NAME: all $CHECKS checks passed"
	exit 0
}

# Every test ends with `finish`; a test that stops before it fails.
FINISHED=0
finish() {
	FINISHED=1
	exit 0
}
trap _cleanup EXIT
# A TERM from run.sh's watchdog must still run the cleanup above.
trap 'FAILS=$((FAILS + 1)); echo "$TEST_NAME: interrupted" >&2; exit 1' TERM INT HUP

# ---------------------------------------------------------------- assertions

pass() {
	CHECKS=$((CHECKS + 1))
	echo "ok: $*"
}

fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	echo "FAIL: $*" >&2
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3: expected '$1', got '$2'"
	fi
}

# assert_match EXTENDED-REGEX STRING DESCRIPTION
assert_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$1"; then
		pass "$3"
	else
		fail "$3: '$2' does not match /$1/"
	fi
}

# assert_file_same EXPECTED ACTUAL DESCRIPTION: byte for byte and SHA-256.
assert_file_same() {
	if [ ! -f "$2" ]; then
		fail "$3: $2 does not exist"
	elif ! cmp -s -- "$1" "$2"; then
		fail "$3: $2 differs from $1 ($(cmp -- "$1" "$2" 2>&1 | head -n 1))"
	elif [ "$(sha256_of "$1")" != "$(sha256_of "$2")" ]; then
		fail "$3: sha256 differs"
	else
		pass "$3"
	fi
}

assert_file() {
	if [ -e "$1" ]; then pass "$2"; else fail "$2: $1 does not exist"; fi
}

assert_no_file() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		fail "$2: $1 exists"
	else
		pass "$2"
	fi
}

# A client run under a sanitizer must not report anything.
sanitizer_check() {
	if grep -q -a -E "$SANITIZER_RE" "$ERR" 2>/dev/null; then
		fail "$1: sanitizer report on stderr"
		grep -a -E -A 15 "$SANITIZER_RE" "$ERR" | head -n 30 >&2
	fi
}

# assert_exit CODE DESCRIPTION CMD... : run CMD, compare its exit status.
# Its stdout/stderr are kept in $OUT/$ERR.
OUT=$TMPD/cmd.out
ERR=$TMPD/cmd.err
assert_exit() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	sanitizer_check "$desc"
	if [ "$rc" = "$want" ]; then
		pass "$desc (exit $rc)"
	else
		fail "$desc: expected exit $want, got $rc from: $*"
		sed 's/^/    stdout: /' "$OUT" | head -n 20 >&2
		sed 's/^/    stderr: /' "$ERR" | head -n 20 >&2
	fi
	return 0
}

# assert_exit_in "CODE CODE..." DESCRIPTION CMD...
assert_exit_in() {
	local want=$1 desc=$2 rc c
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	sanitizer_check "$desc"
	for c in $want; do
		if [ "$rc" = "$c" ]; then
			pass "$desc (exit $rc)"
			return 0
		fi
	done
	fail "$desc: expected exit in {$want}, got $rc from: $*"
	sed 's/^/    stdout: /' "$OUT" | head -n 20 >&2
	sed 's/^/    stderr: /' "$ERR" | head -n 20 >&2
	return 0
}

# wait_for SECONDS CMD... : poll CMD every 0.1 s until it succeeds.
wait_for() {
	local secs=$1 i n
	shift
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	for ((i = 0; i <= n; i++)); do
		if "$@"; then
			return 0
		fi
		nap 0.1
	done
	return 1
}

# ---------------------------------------------------------------- files

sha256_of() {
	sha256sum -- "$1" | cut -c1-64
}

md5_of() {
	md5sum -- "$1" | cut -c1-32
}

# mkrand PATH SIZE: SIZE random bytes.
mkrand() {
	head -c "$2" /dev/urandom >"$1"
}

# Visible (non-dot) entries of a directory, one per line, sorted.
visible_files() {
	find "$1" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\n' | LC_ALL=C sort
}

# Old-style upload temporaries in a root (ftxd removes them at start-up;
# uploads now go to partial files, see partials_in).
old_temps_in() {
	find "$1" -mindepth 1 -maxdepth 1 -name '.ftxtmp-*' -printf '%f\n'
}

# Every upload temporary: old-style ones and partial uploads.
temps_in() {
	old_temps_in "$1"
	partials_in "$1" | sed 's|^|.ftx/.partial/|'
}

no_temps() {
	[ -z "$(temps_in "$1")" ]
}

# Partial uploads (receiving now, or kept for a resume) under a root.
partials_in() {
	find "$1/.ftx/.partial" -mindepth 1 -maxdepth 1 -type f -printf '%f\n' 2>/dev/null
}

# Partial uploads that have received data.
partials_with_data() {
	find "$1/.ftx/.partial" -mindepth 1 -maxdepth 1 -type f -size +0 2>/dev/null | wc -l
}

has_temps() {
	[ -n "$(temps_in "$1")" ] || [ "$(partials_with_data "$1")" -gt 0 ]
}

# kill_tree PID: SIGKILL a process and all its descendants, children
# first.  A backgrounded shell function (timeout wrapping ftx) is several
# processes; killing only the outer one would leave the client running.
kill_tree() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		kill_tree "$c"
	done
	kill -KILL "$1" 2>/dev/null
}

# ---------------------------------------------------------------- server

# start_server [FTXD-ARGS...]: start ftxd on free loopback ports (on
# $BIND, default 127.0.0.1) serving $ROOT (a fresh directory unless ROOT
# is already set) and wait for its "listening" line.  Sets SERVER_PID,
# CTRL_PORT, DATA_PORT, ROOT, LOG.  Clients use $HOST (default 127.0.0.1).
start_server() {
	local line i
	if [ -z "$ROOT" ]; then
		ROOT=$TMPD/root
		mkdir -p "$ROOT"
	fi
	SERVER_N=$((SERVER_N + 1))
	LOG=$TMPD/ftxd.$SERVER_N.log
	# FTX_WRAP (e.g. valgrind, from `make valgrind`) runs the server
	# under a tool that execs it in the same process, so the PID holds.
	${FTX_WRAP:-} "$FTXD" $ALLOW_ROOT --bind "${BIND:-127.0.0.1}" --port 0 --data-port 0 --root "$ROOT" \
	    --log "$LOG" "$@" >"$LOG.out" 2>&1 &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
	line=
	for i in $(seq 1 100); do
		line=$(grep -h -m 1 'listening control=' "$LOG" "$LOG.out" 2>/dev/null | head -n 1)
		[ -n "$line" ] && break
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			break
		fi
		nap 0.05
	done
	if [ -z "$line" ]; then
		fail "ftxd did not report 'listening' within 5 s (args: $*)"
		cat "$LOG.out" "$LOG" 2>/dev/null | tail -n 20 >&2
		exit 1
	fi
	CTRL_PORT=$(printf '%s\n' "$line" | sed -E 's/.*control=[^ ]*:([0-9]+).*/\1/')
	DATA_PORT=$(printf '%s\n' "$line" | sed -E 's/.*data=[^ ]*:([0-9]+).*/\1/')
	if ! [[ "$CTRL_PORT" =~ ^[0-9]+$ && "$DATA_PORT" =~ ^[0-9]+$ ]]; then
		fail "cannot parse ports from: $line"
		exit 1
	fi
	export CTRL_PORT DATA_PORT ROOT LOG
	echo "started ftxd pid $SERVER_PID control=$CTRL_PORT data=$DATA_PORT root=$ROOT $*"
}

# stop_server [SIGNAL]: signal the server (TERM by default) and wait up to
# 15 s for it to exit.  Sets SERVER_RC (the exit status; 255 if it did not
# exit in time, in which case it is killed).
stop_server() {
	local sig=${1:-TERM} i
	SERVER_RC=255
	[ -n "$SERVER_PID" ] || return 0
	kill -"$sig" "$SERVER_PID" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		nap 0.1
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_RC=255
	else
		wait "$SERVER_PID" 2>/dev/null
		SERVER_RC=$?
	fi
	SERVER_PID=
	return 0
}

# The server process is alive and a fresh session gets OK to NOOP.
server_alive() {
	[ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null &&
	    "$FTXRAW" -h "${HOST:-127.0.0.1}" -p "$CTRL_PORT" -t 5 -w 10 ctl 'ok:^OK FTX/1( |$)' \
		line:NOOP 'ok:^OK$' >"$TMPD/alive.out" 2>&1
}

assert_alive() {
	if server_alive; then
		pass "server still answers after: $1"
	else
		fail "server does not answer after: $1"
		sed 's/^/    /' "$TMPD/alive.out" >&2 2>/dev/null
	fi
}

# ---------------------------------------------------------------- disk full
# small_tmpfs_root SIZE: as root, mount a tmpfs of SIZE (e.g. 8m) and make
# ROOT a directory on it, for disk-full cases.  It is unmounted by
# unmount_tmpfs, or on exit after killing a server that still has it
# open.  Returns 1, with a SKIP line, when that is not possible.
MNT=$TMPD/tmpfs
MOUNTED=0
unmount_tmpfs() {
	if [ "$MOUNTED" -eq 1 ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
		MOUNTED=0
	fi
}
_tmpfs_exit() {
	local rc=$?
	if [ "$MOUNTED" -eq 1 ] && [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	unmount_tmpfs
	(exit $rc)
	_cleanup
}
small_tmpfs_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP (part): disk full needs root to mount a tmpfs"
		return 1
	fi
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o "size=$1,mode=0755" tmpfs "$MNT" 2>"$TMPD/mount.err"; then
		echo "SKIP (part): cannot mount a tmpfs: $(cat "$TMPD/mount.err")"
		return 1
	fi
	MOUNTED=1
	# lib.sh's exit trap removes $TMPD: unmount first.
	trap _tmpfs_exit EXIT
	ROOT=$MNT/root
	mkdir -p "$ROOT"
}

# ---------------------------------------------------------------- security suites
# isolate_client: ftx must not read or write the real ~/.config/ftx, nor
# take settings from the environment of whoever runs the tests.
isolate_client() {
	export HOME=$TMPD/home
	mkdir -p "$HOME"
	unset FTX_TLS FTX_USER FTX_PASSWORD FTX_KNOWN_HOSTS FTX_HOST FTX_PORT \
	    FTX_ALLOW_PLAINTEXT_PASSWORD FTX_CONFIG XDG_CONFIG_HOME
	export FTX_RETRIES=0
}

# need_ftxtls: the hostile TLS client (tests/tools/ftxtls.c) is built.
FTXTLS=$FTX_BUILD/tools/ftxtls
need_ftxtls() {
	if [ ! -x "$FTXTLS" ]; then
		fail "$FTXTLS is not built (make tools)"
		exit 1
	fi
}

# tlsc DESCRIPTION STEP...: an ftxtls script against the current server;
# every check in it must pass.  The transcript is in $TLS_OUT.
TLS_N=0
TLS_OUT=
tlsc() {
	local desc=$1 rc
	shift
	TLS_N=$((TLS_N + 1))
	TLS_OUT=$TMPD/tls.$TLS_N.out
	"$FTXTLS" -h 127.0.0.1 -p "$CTRL_PORT" -t 10 -w 60 "$@" >"$TLS_OUT" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc (ftxtls exit $rc); transcript:"
		sed 's/^/    /' "$TLS_OUT" | tail -n 40 >&2
	fi
	return 0
}

# ---------------------------------------------------------------- clients

# gen_cert: a self-signed key and certificate in $TMPD/cert (ftxd
# --gen-cert); sets TLS (ftxd's options for them) and FP (the SHA256
# fingerprint).  A failure ends the test.
gen_cert() {
	if ! "$FTXD" --gen-cert "$TMPD/cert" >"$TMPD/gencert.out" 2>&1; then
		fail "ftxd --gen-cert failed: $(cat "$TMPD/gencert.out")"
		exit 1
	fi
	FP=$(grep -o -m 1 -E 'SHA256:[0-9a-f]{64}' "$TMPD/gencert.out")
	TLS=(--tls-cert "$TMPD/cert/ftxd.crt" --tls-key "$TMPD/cert/ftxd.key")
}

# add_user NAME PASSWORD [ftxd user add OPTIONS...]: add an account to
# $USERS (default $TMPD/users), the password on stdin.  A failure ends
# the test.
add_user() {
	local name=$1 pw=$2
	shift 2
	: "${USERS:=$TMPD/users}"
	if ! printf '%s\n' "$pw" | "$FTXD" user add "$name" --users "$USERS" "$@" \
	    >"$TMPD/useradd.out" 2>&1; then
		fail "ftxd user add $name: $(cat "$TMPD/useradd.out")"
		exit 1
	fi
}

# ftx ARGS...: the real client against the current server, bounded.
ftx() {
	timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "${HOST:-127.0.0.1}" \
	    --port "$CTRL_PORT" "$@"
}

# raw DESCRIPTION STEP...: run an ftxraw script against the current
# server; its checks (ok:, has:, ...) must all pass.  The transcript is in
# $RAW_OUT.
RAW_OUT=
raw() {
	local desc=$1 rc
	shift
	RAW_N=$((RAW_N + 1))
	RAW_OUT=$TMPD/raw.$RAW_N.out
	"$FTXRAW" -h "${HOST:-127.0.0.1}" -p "$CTRL_PORT" "$@" >"$RAW_OUT" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc (ftxraw exit $rc); transcript:"
		sed 's/^/    /' "$RAW_OUT" | tail -n 60 >&2
	fi
	return 0
}

# raw_bg OUTFILE STEP...: the same in the background; sets BG_PID.
raw_bg() {
	local out=$1
	shift
	"$FTXRAW" -h "${HOST:-127.0.0.1}" -p "$CTRL_PORT" "$@" >"$out" 2>&1 &
	BG_PID=$!
	track_pid "$BG_PID"
}

# wait_pid PID SECONDS: wait for a background child; sets WAIT_RC (124 if
# it did not finish in time, after which it is killed).
wait_pid() {
	local pid=$1 secs=$2
	if wait_for "$secs" eval "! kill -0 $pid 2>/dev/null"; then
		wait "$pid" 2>/dev/null
		WAIT_RC=$?
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		WAIT_RC=124
	fi
}

# start_fake MODE FILE [FTXFAKE-ARGS...]: start tests/tools/ftxfake (a
# lying server, see its header) serving FILE; sets FAKE_PID, FAKE_PORT
# and FAKE_OUT (its transcript).  The fake prints its "listening" line
# after listen(2); every start has a transcript of its own, so the line
# waited for is this fake's, never an earlier one's (a reused file was
# read before the new process had truncated it: "Connection refused").
FAKE_N=0
start_fake() {
	local out line i mode=$1 file=$2
	shift 2
	FAKE_N=$((FAKE_N + 1))
	out=$TMPD/fake.$FAKE_N.$mode.out
	FAKE_OUT=$out
	"$FTXFAKE" -m "$mode" -f "$file" -w 60 "$@" >"$out" 2>&1 &
	FAKE_PID=$!
	track_pid "$FAKE_PID"
	line=
	for i in $(seq 1 100); do
		line=$(grep -m 1 'listening control=' "$out" 2>/dev/null)
		[ -n "$line" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		nap 0.05
	done
	FAKE_PORT=$(printf '%s\n' "$line" | sed -E 's/.*control=[^ ]*:([0-9]+).*/\1/')
	if ! [[ "$FAKE_PORT" =~ ^[0-9]+$ ]]; then
		fail "ftxfake did not start: $(cat "$out")"
		exit 1
	fi
}

stop_fake() {
	kill -TERM "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}

# The server log has a line matching REGEX.
log_has() {
	grep -Eq -- "$1" "$LOG"
}

# The percent-encoding servers use for names on control lines.
proto_encode() {
	local s=$1 out='' i c LC_ALL=C
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		# Byte-wise in the C locale: '%', space, < 0x21 and 0x7f.
		if [[ "$c" == '%' || "$c" < '!' || "$c" == $'\x7f' ]]; then
			out+=$(printf '%%%02X' "'$c")
		else
			out+=$c
		fi
	done
	printf '%s' "$out"
}

# Fail early and clearly if the binaries are missing.
for _b in "$FTXD" "$FTX_BIN" "$FTXRAW"; do
	if [ ! -x "$_b" ]; then
		echo "lib.sh: $_b not built (run make all tools)" >&2
		exit 2
	fi
done
unset _b
