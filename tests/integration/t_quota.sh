#!/bin/bash
# Quotas hold against parallel and broken uploads (issue 11, item 4):
#  - 8 sessions of one user send `UPLOAD raceN 900000` at the same moment
#    against a 1 MiB quota: exactly one gets OK, the rest ERROR QUOTA;
#  - 32 parallel 60,000-byte uploads: at most 16 fit, and what is stored
#    stays within the quota;
#  - 20 broken uploads: at most --max-partials partials are kept (the
#    newest), and kept partials count toward the quota;
#  - a user without a quota on the same server is not affected.
. "$(dirname "$0")/lib.sh"

QUOTA=1000000
USERS=$TMPD/users
add_user q q-pw-8812 --quota $QUOTA
add_user free free-pw-1
start_server --users "$USERS" --allow-plaintext-login --max-per-ip 100 \
    --max-transfers 64 --max-transfers-per-ip 64 --max-transfers-per-user 64 \
    --max-partials 4

# stored_bytes USER: bytes in the user's visible files.
stored_bytes() {
	find "$ROOT/.users/$1" -maxdepth 1 -type f ! -name '.*' -printf '%s\n' 2>/dev/null |
	    awk '{ s += $1 } END { print s + 0 }'
}

# race N SIZE PREFIX: N sessions of q upload SIZE bytes at the same moment;
# every one that gets OK sends its bytes.
race() {
	local n=$1 size=$2 prefix=$3 i src pids=()
	rm -f "$TMPD/go"
	for i in $(seq 1 "$n"); do
		# One address per session: LOGINs in flight are capped per
		# address, and the race is about one user, not one address.
		src=127.0.0.$((100 + i))
		raw_bg "$TMPD/$prefix.$i.out" -t 30 -w 60 "ctl@$src" \
		    'line:LOGIN q q-pw-8812' 'ok:^OK' "touch:$TMPD/$prefix.ready.$i" \
		    "waitfile:$TMPD/go" "line:UPLOAD $prefix$i $size" 'ok:^OK ' \
		    "data@$src" "dgen:$size" ddigest read 'ok:^DONE '
		pids+=("$BG_PID")
	done
	wait_for 20 eval "[ \$(find '$TMPD' -maxdepth 1 -name '$prefix.ready.*' | wc -l) -eq $n ]" ||
		fail "$prefix: not all $n sessions logged in"
	touch "$TMPD/go"
	for i in "${pids[@]}"; do
		wait_pid "$i" 60
	done
	RACE_OK=$(grep -l '^< DONE ' "$TMPD/$prefix".*.out | wc -l)
	RACE_QUOTA=$(grep -l '^< ERROR QUOTA' "$TMPD/$prefix".*.out | wc -l)
}

race 8 900000 race
assert_eq 1 "$RACE_OK" "8 parallel 900,000-byte uploads against a 1 MB quota: one stored"
assert_eq 7 "$RACE_QUOTA" "the other 7 got ERROR QUOTA"
used=$(stored_bytes q)
[ "$used" -le $QUOTA ] && pass "stored $used bytes <= quota" || fail "stored $used bytes > quota $QUOTA"
rm -f "$ROOT"/.users/q/race*

race 32 60000 par
echo "32 parallel: $RACE_OK stored, $RACE_QUOTA refused"
if [ "$RACE_OK" -ge 1 ] && [ "$RACE_OK" -le 16 ]; then
	pass "32 parallel 60,000-byte uploads: $RACE_OK stored (at most 16 fit)"
else
	fail "32 parallel uploads: $RACE_OK stored"
fi
assert_eq 32 $((RACE_OK + RACE_QUOTA)) "every other one got ERROR QUOTA"
used=$(stored_bytes q)
[ "$used" -le $QUOTA ] && pass "stored $used bytes <= quota" || fail "stored $used bytes > quota $QUOTA"
rm -f "$ROOT"/.users/q/par*
# The reservations were all released: the whole quota is free again.
raw "after the race the quota is whole again" ctl 'line:LOGIN q q-pw-8812' \
    'ok:^OK' "line:UPLOAD whole $QUOTA" 'ok:^OK ' data "dgen:$QUOTA" ddigest read 'ok:^DONE '
rm -f "$ROOT"/.users/q/whole

# ---------------------------------------------------------------- broken uploads

for i in $(seq 1 20); do
	"$FTXRAW" -h 127.0.0.1 -p "$CTRL_PORT" -t 10 -w 30 ctl 'line:LOGIN q q-pw-8812' \
	    'ok:^OK' "line:UPLOAD broken$i 250000" 'ok:^OK ' data dgen:200000 dclose \
	    'read:10' 'ok:^ERROR SHORT' >"$TMPD/broken.$i.out" 2>&1 ||
		fail "broken upload $i: $(tail -n 3 "$TMPD/broken.$i.out")"
done
kept=$(partials_in "$ROOT" | wc -l)
assert_eq 4 "$kept" "20 broken uploads: --max-partials 4 kept"
raw "the newest partial is kept" ctl 'line:LOGIN q q-pw-8812' 'ok:^OK' \
    'send:PARTIAL broken20 250000' read 'ok:^OK 200000$'
raw "the oldest partials were evicted" ctl 'line:LOGIN q q-pw-8812' 'ok:^OK' \
    'line:PARTIAL broken1 250000' 'ok:^OK 0$'
# 4 x 200,000 bytes are kept: 300,000 more would pass 1,000,000, so the
# oldest partial makes room (partials are a resume cache, counted in the
# quota but never in the way of a new upload).
raw "kept partials count toward the quota: the oldest makes room" ctl \
    'line:LOGIN q q-pw-8812' 'ok:^OK' 'line:UPLOAD more 300000' 'ok:^OK ' \
    data dgen:300000 ddigest read 'ok:^DONE '
raw "the oldest kept partial was evicted for it" ctl 'line:LOGIN q q-pw-8812' \
    'ok:^OK' 'line:PARTIAL broken17 250000' 'ok:^OK 0$'
raw "the newer ones are still kept" ctl 'line:LOGIN q q-pw-8812' 'ok:^OK' \
    'send:PARTIAL broken18 250000' read 'ok:^OK 200000$'
total=$(($(stored_bytes q) + $(find "$ROOT/.ftx/.partial" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')))
[ "$total" -le $QUOTA ] && pass "files + partials = $total <= quota" ||
	fail "files + partials = $total > quota $QUOTA"
raw "a stored file is never evicted: over the quota is refused" ctl \
    'line:LOGIN q q-pw-8812' 'ok:^OK' 'line:UPLOAD huge 800000' 'ok:^ERROR QUOTA'
# Resuming a kept partial is not counted twice (its own bytes become the file).
raw "resuming a kept partial is within the quota" ctl 'line:LOGIN q q-pw-8812' 'ok:^OK' \
    'line:UPLOAD broken20 250000 offset=200000' 'ok:^OK '
raw "a user without a quota is not limited by q's partials" ctl \
    'line:LOGIN free free-pw-1' 'ok:^OK' 'line:UPLOAD big 5000000' 'ok:^OK '
assert_alive "after the quota races"
finish
