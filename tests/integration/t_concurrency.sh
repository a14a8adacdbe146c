#!/bin/bash
# Many clients at once: 16 uploads in parallel, then 16 downloads and 16
# more uploads in parallel, all verified.  Two clients uploading the same
# name at once: the result is exactly one of the two versions (the last
# to finish), its cached hash matches it, and a downloader running all
# the while only ever gets complete versions.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"

N=16
for i in $(seq 1 $N); do
	mkrand "$src/c$i.bin" $((i * 200000 + i))
	mkrand "$src/d$i.bin" $((i * 150000 + 7))
done

# Phase 1: 16 uploads at once.
pids=()
for i in $(seq 1 $N); do
	ftx -q put "$src/c$i.bin" >"$TMPD/put$i.out" 2>&1 &
	pids+=("$!")
	track_pid $!
done
bad=0
for i in $(seq 1 $N); do
	wait_pid "${pids[$((i - 1))]}" 90
	if [ "$WAIT_RC" -ne 0 ]; then
		bad=$((bad + 1))
		echo "put c$i.bin: exit $WAIT_RC: $(cat "$TMPD/put$i.out")" >&2
	fi
done
assert_eq 0 "$bad" "16 parallel uploads all succeeded"
for i in $(seq 1 $N); do
	assert_file_same "$src/c$i.bin" "$ROOT/c$i.bin" "stored c$i.bin"
done

# Phase 2: 16 downloads of those and 16 uploads of new files, all at once.
pids=()
for i in $(seq 1 $N); do
	mkdir -p "$dl/$i"
	ftx -q get "c$i.bin" -o "$dl/$i" >"$TMPD/get$i.out" 2>&1 &
	pids+=("$!")
	track_pid $!
	ftx -q put "$src/d$i.bin" >"$TMPD/putd$i.out" 2>&1 &
	pids+=("$!")
	track_pid $!
done
bad=0
for pid in "${pids[@]}"; do
	wait_pid "$pid" 90
	[ "$WAIT_RC" -eq 0 ] || bad=$((bad + 1))
done
assert_eq 0 "$bad" "16 downloads + 16 uploads in parallel all succeeded"
[ "$bad" -eq 0 ] || cat "$TMPD"/get*.out "$TMPD"/putd*.out >&2
for i in $(seq 1 $N); do
	assert_file_same "$src/c$i.bin" "$dl/$i/c$i.bin" "downloaded c$i.bin"
	assert_file_same "$src/d$i.bin" "$ROOT/d$i.bin" "stored d$i.bin"
done
assert_eq "$((2 * N))" "$(visible_files "$ROOT" | wc -l)" "exactly 32 files stored"
if wait_for 5 no_temps "$ROOT"; then pass "no temporaries after the parallel phase"; else fail "temporaries left: $(temps_in "$ROOT")"; fi

# ---------------------------------------------------------------- 64 at once
# 64 uploads all half way at the same moment: 64 temporaries with data in
# them prove that 64 transfers run at once (none waits for another).  The
# server writes in batches of up to 64 chunks (256 KiB), so each sends
# 600 KB before pausing.  64 transfers from one IP are 128 connections:
# raise --max-per-ip for this.
stop_server
start_server --max-per-ip 200 --max-transfers-per-ip 64
mkrand "$src/sixtyfour" $((1024 * 1024))
sz64=$(stat -c %s "$src/sixtyfour")
sha64=$(sha256_of "$src/sixtyfour")
pids=()
for i in $(seq 1 64); do
	raw_bg "$TMPD/u64.$i.out" -t 30 -w 90 ctl "line:UPLOAD par$i.bin $sz64" 'ok:^OK ' \
	    data "dsend:$src/sixtyfour:600000" "touch:$TMPD/half64.$i" "waitfile:$TMPD/go64" \
	    "dsend:$src/sixtyfour" ddigest read "ok:^DONE $sha64\$"
	pids+=("$BG_PID")
done
all_half() {
	[ "$(find "$TMPD" -maxdepth 1 -name 'half64.*' | wc -l)" -eq 64 ]
}
if wait_for 30 all_half; then pass "64 uploads half way"; else fail "only $(find "$TMPD" -maxdepth 1 -name 'half64.*' | wc -l) of 64 uploads got half way"; fi
temps_with_data() {
	partials_with_data "$ROOT"
}
if wait_for 10 eval '[ "$(temps_with_data)" -eq 64 ]'; then
	pass "64 transfers in progress at once (64 temporaries receiving data)"
else
	fail "only $(temps_with_data) of 64 uploads are being received at once"
fi
assert_alive "64 transfers in progress"
touch "$TMPD/go64"
bad=0
for pid in "${pids[@]}"; do
	wait_pid "$pid" 60
	[ "$WAIT_RC" -eq 0 ] || bad=$((bad + 1))
done
assert_eq 0 "$bad" "all 64 parallel uploads finished with DONE"
okfiles=0
for i in $(seq 1 64); do
	cmp -s "$src/sixtyfour" "$ROOT/par$i.bin" && okfiles=$((okfiles + 1))
done
assert_eq 64 "$okfiles" "all 64 parallel uploads stored intact"
rm -f "$ROOT"/par*.bin

# ---------------------------------------------------------------- same name
mkrand "$src/v0" $((4 * 1024 * 1024))
mkrand "$src/vA" $((8 * 1024 * 1024))
mkrand "$src/vB" $((8 * 1024 * 1024 + 5))
shaA=$(sha256_of "$src/vA")
shaB=$(sha256_of "$src/vB")
sha0=$(sha256_of "$src/v0")
assert_exit 0 "put the initial version" ftx put "$src/v0" --as race.bin

# A downloader loop runs during all the races below.
downloader() {
	local k=0 rc
	while [ ! -e "$TMPD/stop" ] && [ $k -lt 500 ]; do
		k=$((k + 1))
		mkdir -p "$dl/race$k"
		ftx -q get race.bin -o "$dl/race$k" >/dev/null 2>"$dl/race$k.err"
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "$(sha256_of "$dl/race$k/race.bin")"
		else
			echo "rc=$rc $(head -c 200 "$dl/race$k.err")"
		fi
		rm -rf "$dl/race$k"
	done >"$TMPD/downloads.txt"
}
downloader &
dlpid=$!
track_pid $dlpid

# Free-running races through the real client.
for round in 1 2 3 4 5; do
	ftx -q put "$src/vA" --as race.bin >"$TMPD/rA.out" 2>&1 &
	pa=$!
	track_pid $pa
	ftx -q put "$src/vB" --as race.bin >"$TMPD/rB.out" 2>&1 &
	pb=$!
	track_pid $pb
	wait_pid $pa 60
	ra=$WAIT_RC
	wait_pid $pb 60
	rb=$WAIT_RC
	assert_eq "0 0" "$ra $rb" "round $round: both racing uploads succeeded"
	got=$(sha256_of "$ROOT/race.bin")
	if [ "$got" = "$shaA" ] || [ "$got" = "$shaB" ]; then
		pass "round $round: stored version is one of the two"
	else
		fail "round $round: stored race.bin ($got) is neither version"
	fi
	assert_exit 0 "round $round: hash" ftx hash race.bin
	assert_eq "$got  race.bin" "$(cat "$OUT")" "round $round: HASH matches the stored bytes"
done

# A deterministic race with raw clients: both are half way through at
# the same time; B finishes first, then A.  A must win.
rm -f "$TMPD/goA" "$TMPD/goB"
raw_bg "$TMPD/rawA.out" -t 30 -w 60 ctl "line:UPLOAD race.bin $(stat -c %s "$src/vA")" 'ok:^OK ' \
    data "dsend:$src/vA:4000000" "touch:$TMPD/halfA" "waitfile:$TMPD/goA" "dsend:$src/vA" ddigest \
    read "ok:^DONE $shaA\$"
rawA=$BG_PID
raw_bg "$TMPD/rawB.out" -t 30 -w 60 ctl "line:UPLOAD race.bin $(stat -c %s "$src/vB")" 'ok:^OK ' \
    data "dsend:$src/vB:4000000" "touch:$TMPD/halfB" "waitfile:$TMPD/goB" "dsend:$src/vB" ddigest \
    read "ok:^DONE $shaB\$"
rawB=$BG_PID
if wait_for 20 test -e "$TMPD/halfA" -a -e "$TMPD/halfB"; then
	pass "both raw uploads half way"
else
	fail "raw uploads did not get half way"
fi
# While both are half way, the stored file is still one complete version.
cur=$(sha256_of "$ROOT/race.bin")
if [ "$cur" = "$shaA" ] || [ "$cur" = "$shaB" ] || [ "$cur" = "$sha0" ]; then
	pass "mid-race stored file is a complete version"
else
	fail "mid-race stored file is a mix ($cur)"
fi
assert_eq 2 "$(partials_with_data "$ROOT")" "two partial uploads while both are half way"
touch "$TMPD/goB"
wait_pid "$rawB" 30
assert_eq 0 "$WAIT_RC" "raw upload B finished"
assert_eq "$shaB" "$(sha256_of "$ROOT/race.bin")" "after B finished, B is stored"
touch "$TMPD/goA"
wait_pid "$rawA" 30
assert_eq 0 "$WAIT_RC" "raw upload A finished"
assert_eq "$shaA" "$(sha256_of "$ROOT/race.bin")" "the last to finish (A) wins"
assert_exit 0 "hash after the raw race" ftx hash race.bin
assert_eq "$shaA  race.bin" "$(cat "$OUT")" "HASH reports the winner"
for f in rawA rawB; do
	if grep -q 'CHECK FAILED\|FATAL' "$TMPD/$f.out"; then sed 's/^/    /' "$TMPD/$f.out" >&2; fi
done

touch "$TMPD/stop"
wait_pid "$dlpid" 60
total=$(wc -l <"$TMPD/downloads.txt")
good=$(grep -cE "^($sha0|$shaA|$shaB)\$" "$TMPD/downloads.txt")
if [ "$total" -ge 3 ]; then
	pass "the downloader ran $total times during the races"
else
	fail "the downloader only ran $total times"
fi
assert_eq "$total" "$good" "every concurrent download was one complete version"
[ "$total" = "$good" ] || grep -vE "^($sha0|$shaA|$shaB)\$" "$TMPD/downloads.txt" | head -n 5 >&2

if wait_for 5 no_temps "$ROOT"; then pass "no temporaries after the races"; else fail "temporaries left: $(temps_in "$ROOT")"; fi
assert_alive "concurrent clients"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"
finish
