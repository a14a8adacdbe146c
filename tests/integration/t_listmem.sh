#!/bin/bash
# Unread LIST replies cannot exhaust the server's memory (issue 11,
# item 5).  A root of 10,000 files with 250-byte names; 256 sessions send
# LIST and never read.  The server must stay under 200 MB of resident
# memory (VmHWM, its peak), a LIST through the real client from another
# address must answer completely within 5 s meanwhile, and a slow reader
# must still get the whole listing.  With a directory that keeps
# changing (no snapshot can be reused), unread listings fill the output
# budget: the sessions that do not read are closed, memory stays
# bounded, a LIST still answers.  With --send-timeout, sessions that
# never read are reset while a slow reader that keeps reading is not.
. "$(dirname "$0")/lib.sh"

LISTHOG=$FTX_BUILD/tools/listhog
NFILES=10000
HOGS=256
RSS_MAX_KB=$((200 * 1024))
LS_MAX_S=5
READY_S=30
# A sanitizer's allocator keeps freed memory in quarantine and its shadow
# grows with every allocation: resident memory says nothing about ours
# there, and everything runs several times slower.
SANITIZED=
if ldd "$FTXD" 2>/dev/null | grep -Eq 'lib(a|t|ub)san'; then
	SANITIZED=1
	LS_MAX_S=30
	READY_S=90
fi

ROOT=$TMPD/root
mkdir -p "$ROOT"
pad=$(printf 'a%.0s' $(seq 1 243))
(
	cd "$ROOT" || exit 1
	for ((i = 0; i < NFILES; i++)); do
		printf -v f 'f%05d-%s' "$i" "$pad"
		: >"$f"
	done
)
ls "$ROOT" | LC_ALL=C sort >"$TMPD/expect"
assert_eq "$NFILES" "$(wc -l <"$TMPD/expect")" "root holds $NFILES files"
assert_eq 250 "$(head -n 1 "$TMPD/expect" | tr -d '\n' | wc -c)" "names are 250 bytes"

rss_kb() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }

check_rss() {
	if [ -n "$SANITIZED" ]; then
		echo "note: sanitizer build: peak RSS ($(($1 / 1024)) MB) not checked"
	elif [ "$1" -lt "$RSS_MAX_KB" ]; then
		pass "$2: peak RSS $(($1 / 1024)) MB < $((RSS_MAX_KB / 1024)) MB"
	else
		fail "$2: peak RSS $(($1 / 1024)) MB >= $((RSS_MAX_KB / 1024)) MB"
	fi
}

# Start the hogs: stdin is a FIFO, so they hold until we close it.
start_hogs() {
	local out=$1
	shift
	rm -f "$TMPD/hold"
	mkfifo "$TMPD/hold"
	"$LISTHOG" -p "$CTRL_PORT" "$@" hog "$HOGS" <"$TMPD/hold" >"$out" 2>&1 &
	HOG_PID=$!
	track_pid "$HOG_PID"
	exec 7>"$TMPD/hold"
	if wait_for "$READY_S" grep -q "^ready $HOGS" "$out"; then
		pass "$HOGS sessions sent LIST and stopped reading"
	else
		fail "hogs not ready: $(tail -n 3 "$out")"
	fi
}

release_hogs() {
	exec 7>&-
	wait_pid "$HOG_PID" 10
}

# A complete, correct listing through the real client (from 127.0.0.1;
# the hogs come from 127.0.0.2).
legit_ls() {
	local t0 t1 ms
	t0=$(date +%s%N)
	ftx ls >"$TMPD/ls.out" 2>"$TMPD/ls.err"
	assert_eq 0 "$?" "$1: ftx ls from 127.0.0.1 succeeds $(head -c 300 "$TMPD/ls.err")"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	awk '{ print $NF }' "$TMPD/ls.out" | LC_ALL=C sort >"$TMPD/ls.names"
	if cmp -s "${EXPECT:-$TMPD/expect}" "$TMPD/ls.names"; then
		pass "$1: the listing is complete and correct"
	else
		fail "$1: listing differs ($(wc -l <"$TMPD/ls.names") names)"
	fi
	if [ "$ms" -le $((LS_MAX_S * 1000)) ]; then
		pass "$1: LIST answered in $ms ms (<= ${LS_MAX_S} s)"
	else
		fail "$1: LIST took $ms ms (> ${LS_MAX_S} s)"
	fi
}

# A client that reads C bytes every MS ms from 127.0.0.3.
slow_ls() {
	local what=$1
	shift
	"$LISTHOG" -p "$CTRL_PORT" -B 127.0.0.3 "$@" \
	    >"$TMPD/slow.names.raw" 2>"$TMPD/slow.err"
	assert_eq 0 "$?" "$what: the slow reader's reply is well formed ($(tail -n 1 "$TMPD/slow.err"))"
	LC_ALL=C sort "$TMPD/slow.names.raw" >"$TMPD/slow.names"
	if cmp -s "$TMPD/expect" "$TMPD/slow.names"; then
		pass "$what: the slow reader got every name once"
	else
		fail "$what: slow reader's names differ ($(wc -l <"$TMPD/slow.names"))"
	fi
}

# ------------------------------------------------- unread LISTs, memory
start_server --max-clients 2000 --max-per-ip 1000
base=$(rss_kb "$SERVER_PID" VmRSS)
start_hogs "$TMPD/hog.out" -B 127.0.0.2
# Give the server time to answer (or queue) every LIST.
sleep 2
legit_ls "under $HOGS unread LISTs"
slow_ls "under $HOGS unread LISTs" -r 65536 slow 32768 20
hwm=$(rss_kb "$SERVER_PID" VmHWM)
echo "ftxd RSS: at start ${base} kB, peak (VmHWM) ${hwm} kB with $HOGS unread LISTs of $NFILES entries"
check_rss "$hwm" "$HOGS unread LISTs"
release_hogs
assert_alive "unread LISTs"
stop_server

# ------------------------------- a changing directory: the output budget
# Names of 121 two-byte UTF-8 characters, every byte percent-encoded on
# the wire: a listing is about 7.5 MB.  The directory changes every
# 100 ms (hidden names, which LIST does not show), so no snapshot
# settles and none is reused; a snapshot is shared only by the LISTs
# already waiting when it is read, so each hog sends its LIST once the
# one before has its reply (--serial): 64 snapshots, however slow the
# build, far more than FTX_OUTPUT_BUDGET (64 MiB).  The non-readers
# holding the most are closed; memory stays bounded, and a LIST still
# answers.
ROOT=$TMPD/root2
mkdir -p "$ROOT"
wide=$(printf '\xc3\xa9%.0s' $(seq 1 121))
(
	cd "$ROOT" || exit 1
	for ((i = 0; i < NFILES; i++)); do
		printf -v f 'f%05d-%s' "$i" "$wide"
		: >"$f"
	done
)
EXPECT=$TMPD/expect2
ls "$ROOT" | LC_ALL=C sort >"$EXPECT"
start_server --max-clients 2000 --max-per-ip 1000
(
	i=0
	while [ ! -e "$TMPD/stop-churn" ]; do
		: >"$ROOT/.churn$((i % 2))"
		rm -f "$ROOT/.churn$(((i + 1) % 2))"
		i=$((i + 1))
		sleep 0.1
	done
) &
churn=$!
track_pid "$churn"
HOGS_SAVED=$HOGS
HOGS=64
start_hogs "$TMPD/hog3.out" -B 127.0.0.2 --serial 10
legit_ls "while the budget is full"
sleep 1
hwm=$(rss_kb "$SERVER_PID" VmHWM)
echo "ftxd RSS: peak (VmHWM) ${hwm} kB with $HOGS unread unshared LISTs"
check_rss "$hwm" "a changing directory"
assert_match 'output budget full: closing a session that does not read' "$(cat "$LOG")" \
    "over the budget, sessions that do not read are closed"
touch "$TMPD/stop-churn"
wait_pid "$churn" 5
release_hogs
HOGS=$HOGS_SAVED
assert_alive "the output budget"
stop_server
ROOT=$TMPD/root
EXPECT=

# ------------------------------------ --send-timeout: non-readers closed
start_server --max-clients 2000 --max-per-ip 1000 --send-timeout 2
# The hogs stay until the timeout has had time to act (12 s: four suites
# at once on two cores can slow the 256 listings several-fold); a sanitizer build
# takes several times longer to build and queue 256 listings.
HOLD=12
[ -n "$SANITIZED" ] && HOLD=30
"$LISTHOG" -p "$CTRL_PORT" -B 127.0.0.2 --hold $HOLD hog "$HOGS" >"$TMPD/hog2.out" 2>&1 &
hp=$!
track_pid "$hp"
# Reads 16 KiB every 20 ms: about 3.5 s for the 2.7 MB listing, longer
# than the timeout, and never 2 s without reading.
slow_ls "with --send-timeout 2" -r 65536 slow 16384 20
wait_pid "$hp" $((HOLD + 14))
assert_match "closed=$HOGS open=0" "$(cat "$TMPD/hog2.out")" "every session that never read was closed"
assert_match 'send timeout' "$(cat "$LOG")" "the log says why"
legit_ls "after the timeouts"
assert_alive "send timeout"
stop_server

finish
