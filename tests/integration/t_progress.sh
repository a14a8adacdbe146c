#!/bin/bash
# The progress display: on a terminal (a pty from script(1)) ftx shows
# percent, bytes done/total and ETA, at most 10 updates a second, each
# fitting the terminal width; not on a terminal, or with --quiet, there is
# no progress output at all.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null 2>&1 || skip "script(1) (util-linux) is not installed"

start_server
src=$TMPD/src
mkdir -p "$src" "$TMPD/dl"
mkrand "$src/p.bin" $((64 * 1024 * 1024))

# on_tty COLUMNS CMD: run the client on a pty of that width; the raw
# terminal output goes to $TMPD/tty.out, the seconds taken to $TMPD/tty.secs.
# script's stdin is /dev/null, never the terminal this suite may run
# from: script sets its stdin to raw mode, and under timeout(1) (a
# background process group) that stopped it with SIGTTOU.
on_tty() {
	local cols=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	timeout -k 2 60 script -q -e -c "stty cols $cols; $*" /dev/null </dev/null >"$TMPD/tty.out" 2>&1
	TTY_RC=$?
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >"$TMPD/tty.secs"
}

# Progress segments: the text between carriage returns that has a '%',
# without the erase-line escape.
segments() {
	tr '\r' '\n' <"$TMPD/tty.out" | sed 's/\x1b\[K//g' | grep -a '%'
}

for cols in 50 120; do
	on_tty "$cols" "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" put "$src/p.bin"
	assert_eq 0 "$TTY_RC" "put on a $cols-column terminal"
	n=$(segments | wc -l)
	secs=$(cat "$TMPD/tty.secs")
	if [ "$n" -ge 1 ]; then pass "$cols cols: progress shown ($n updates in $secs s)"; else fail "$cols cols: no progress on a terminal: $(head -c 300 "$TMPD/tty.out" | od -c | head -n 5)"; fi
	assert_eq 1 "$(awk -v n="$n" -v s="$secs" 'BEGIN { print (n <= 10 * s + 3) ? 1 : 0 }')" "$cols cols: at most 10 updates a second ($n in $secs s)"
	widest=$(segments | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
	if [ "$widest" -le "$cols" ]; then pass "$cols cols: updates fit the width ($widest)"; else fail "$cols cols: an update is $widest columns wide"; fi
	assert_match '[0-9]+%' "$(segments | tail -n 1)" "$cols cols: percent shown"
	assert_match 'ETA' "$(segments | tail -n 1)" "$cols cols: ETA shown"
	assert_match 'MiB' "$(segments | tail -n 1)" "$cols cols: bytes done/total shown"
	assert_match 'verified sha256' "$(tr '\r' '\n' <"$TMPD/tty.out")" "$cols cols: summary line at the end"
done

on_tty 100 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" get p.bin -o "$TMPD/dl"
assert_eq 0 "$TTY_RC" "get on a terminal"
if [ "$(segments | wc -l)" -ge 1 ]; then pass "download progress shown"; else fail "no download progress on a terminal"; fi
assert_file_same "$src/p.bin" "$TMPD/dl/p.bin" "download with progress"

# A slow download (4 MiB at 2 MiB/s from ftxfake): the display updates
# live, at most 10 times a second, with a current rate.
mkrand "$src/slow.bin" $((4 * 1024 * 1024))
start_fake good "$src/slow.bin" -r $((2 * 1024 * 1024))
mkdir -p "$TMPD/slow"
on_tty 80 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" get slow.bin -o "$TMPD/slow"
stop_fake
assert_eq 0 "$TTY_RC" "slow get on a terminal"
assert_file_same "$src/slow.bin" "$TMPD/slow/slow.bin" "slow download"
n=$(segments | wc -l)
secs=$(cat "$TMPD/tty.secs")
assert_eq 1 "$(awk -v n="$n" -v s="$secs" 'BEGIN { print (n >= 5 && n <= 10 * s + 3) ? 1 : 0 }')" "slow download: between 5 and 10/s updates ($n in $secs s)"
if segments | grep -aqE '[0-9.]+ ?[kKMG]i?B/s'; then pass "slow download shows a current rate"; else fail "no current rate in: $(segments | tail -n 2)"; fi
if segments | grep -aqE 'ETA +[0-9]'; then pass "slow download shows a numeric ETA"; else fail "no numeric ETA in: $(segments | tail -n 2)"; fi
widest=$(segments | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
if [ "$widest" -le 80 ]; then pass "slow download updates fit 80 columns ($widest)"; else fail "an update is $widest columns wide"; fi

on_tty 100 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --quiet put "$src/p.bin"
assert_eq 0 "$TTY_RC" "put --quiet on a terminal"
assert_eq 0 "$(segments | wc -l)" "--quiet shows no progress on a terminal"

# Not a terminal: no progress, no carriage returns.
assert_exit 0 "put to a pipe" ftx put "$src/p.bin"
if grep -aq $'\r' "$OUT" "$ERR"; then fail "carriage returns in non-terminal output"; else pass "no progress when not a terminal"; fi
assert_eq 0 "$(wc -l <"$OUT")" "nothing on stdout (it is for data and results)"
assert_eq 1 "$(wc -l <"$ERR")" "one summary line on stderr"
finish
