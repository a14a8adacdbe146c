#!/bin/bash
# The data channel under attack: wrong tokens, reused tokens, a token
# from another IP, intruders connecting before the real client, a wrong
# digest (ERROR INTEGRITY, nothing committed), a short upload, a stalled
# peer (--data-timeout), and expired tokens (--token-ttl).  After each
# case the legitimate transfer (where there is one) still succeeds and the
# server still answers.
. "$(dirname "$0")/lib.sh"

start_server --data-timeout 3

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/f1" 100000
mkrand "$src/f2" $((3 * 1024 * 1024 + 17))
sha1=$(sha256_of "$src/f1")
sha2=$(sha256_of "$src/f2")
assert_exit 0 "put f1" ftx put "$src/f1"

rejects() {
	grep -c 'data-reject' "$LOG"
}

# ---------------------------------------------------------------- tokens
# In the background: a data connection that never says anything is
# closed after the 10 s hello timeout.
raw_bg "$TMPD/silent.out" -t 20 -w 40 ctl 'line:DOWNLOAD f1' 'ok:^OK 100000 ' \
    data:none drecv 'ok:^DATA n=0 .*end=(EOF|RESET)'
silent=$BG_PID

r0=$(rejects)
raw "download: wrong token rejected, then the right one works" ctl \
    'line:DOWNLOAD f1' "ok:^OK 100000 [0-9]+ [0-9a-f]{32} $sha1\$" \
    data:bad drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    data:short dshut drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    'data:hex:00000000000000000000000000000000' drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    'data:hex:not a token at all, just text!!!' drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    line:NOOP 'ok:^OK$' \
    data:tok drecv "ok:^DATA n=100000 sha=$sha1 end=EOF" \
    read "ok:^DONE $sha1\$"
r1=$(rejects)
if [ "$r1" -ge $((r0 + 4)) ]; then pass "four data-reject log lines"; else fail "expected 4 more data-reject log lines, got $((r1 - r0))"; fi

raw "download: a used token cannot be used again" ctl \
    'line:DOWNLOAD f1' 'ok:^OK 100000 ' \
    data:tok drecv "ok:^DATA n=100000 sha=$sha1 end=EOF" read "ok:^DONE $sha1\$" \
    data:tok drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    line:NOOP 'ok:^OK$'
# The same while the first transfer is still running: the second
# connection with the token is refused and the first finishes intact.
raw "upload: a second connection with the live token is refused" ctl \
    "line:UPLOAD reuse.bin $(stat -c %s "$src/f2")" 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data:tok "dsend:$src/f2:1000000" \
    data:tok "dsend:$src/f1" drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    dsel:0 "dsend:$src/f2" ddigest read "ok:^DONE $sha2\$"
assert_file_same "$src/f2" "$ROOT/reuse.bin" "upload with an intruding second connection stored intact"

# The hello may arrive in pieces (a slow or oddly buffered client).
raw "a hello in three pieces" ctl \
    'line:DOWNLOAD f1' 'ok:^OK 100000 ' data:none dpart:0:5 sleep:0.3 dpart:5:20 sleep:0.3 dpart:20:33 \
    drecv "ok:^DATA n=100000 sha=$sha1 end=EOF" read "ok:^DONE $sha1\$" \
    'line:UPLOAD pieces.bin 100000' 'ok:^OK ' data:none dpart:0:1 sleep:0.3 dpart:1:32 sleep:0.3 dpart:32:33 \
    "dsend:$src/f1" ddigest read "ok:^DONE $sha1\$"
assert_file_same "$src/f1" "$ROOT/pieces.bin" "upload after a hello in pieces"

# ---------------------------------------------------------------- intruders
# Intruders connect first: one says nothing at all, one sends a wrong
# token, one the right token from another IP (127.0.0.2 is loopback too).
# The real client must still get through promptly.
raw "upload: intruders before the real client" ctl \
    "line:UPLOAD intruded.bin $(stat -c %s "$src/f2")" 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data:none \
    data:bad drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    'data:tok@127.0.0.2' "dsend:$src/f1" drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    data:tok "dsend:$src/f2" ddigest read 'ok:^DONE ' "ok:^DONE $sha2\$" \
    line:NOOP 'ok:^OK$'
assert_file_same "$src/f2" "$ROOT/intruded.bin" "upload after intruders stored intact"
if log_has 'data-reject'; then pass "intruders are logged as data-reject"; else fail "no data-reject in the log"; fi

raw "download: the right token from another IP is refused and not burnt" ctl \
    'line:DOWNLOAD f1' 'ok:^OK 100000 ' \
    'data:tok@127.0.0.2' drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    'data:tok@127.0.0.2' drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    data:tok drecv "ok:^DATA n=100000 sha=$sha1 end=EOF" read "ok:^DONE $sha1\$"

# The same with the real client: an intruder flood on the data port
# while ftx transfers.
raw_bg "$TMPD/flood.out" -w 60 ctl 'line:DOWNLOAD f1' 'ok:^OK' \
    data:bad data:bad data:bad data:none data:none data:bad drecv sleep:1
floodpid=$BG_PID
mkdir -p "$TMPD/dl"
assert_exit 0 "ftx put while intruders knock" ftx put "$src/f2" --as during-flood.bin
assert_exit 0 "ftx get while intruders knock" ftx get during-flood.bin -o "$TMPD/dl"
assert_file_same "$src/f2" "$TMPD/dl/during-flood.bin" "download during intruder flood"
wait_pid "$floodpid" 20
assert_alive "wrong tokens and intruders"

# ---------------------------------------------------------------- integrity
raw "upload with a wrong digest is refused" ctl \
    "line:UPLOAD baddigest.bin $(stat -c %s "$src/f2")" 'ok:^OK ' \
    data "dsend:$src/f2" ddigest:bad read 'ok:^ERROR INTEGRITY ' \
    'line:HASH baddigest.bin' 'ok:^ERROR NOTFOUND ' line:NOOP 'ok:^OK$'
assert_no_file "$ROOT/baddigest.bin" "wrong-digest upload not committed"
if wait_for 5 no_temps "$ROOT"; then pass "wrong-digest temporary removed"; else fail "temporary left after a wrong digest: $(temps_in "$ROOT")"; fi
if log_has 'xfer upload .*result=INTEGRITY'; then pass "log records result=INTEGRITY"; else fail "no 'xfer upload ... result=INTEGRITY' log line"; fi

# A wrong digest must not replace an existing good file either.
raw "a wrong digest does not clobber the existing file" ctl \
    "line:UPLOAD f1 $(stat -c %s "$src/f2")" 'ok:^OK ' \
    data "dsend:$src/f2" ddigest:bad read 'ok:^ERROR INTEGRITY ' \
    'line:HASH f1' "ok:^OK 100000 $sha1 "
assert_file_same "$src/f1" "$ROOT/f1" "f1 unchanged after a failed overwrite"

raw "upload of 0 bytes with a wrong digest" ctl \
    'line:UPLOAD empty-bad 0' 'ok:^OK ' data ddigest:bad read 'ok:^ERROR INTEGRITY '
assert_no_file "$ROOT/empty-bad" "empty upload with a wrong digest not committed"
assert_eq "" "$(temps_in "$ROOT")" "uploads that failed INTEGRITY left no partial"

raw "short upload: the peer closes early" ctl \
    "line:UPLOAD short.bin $(stat -c %s "$src/f2")" 'ok:^OK ' \
    data "dsend:$src/f2:2000000" dclose read 'ok:^ERROR SHORT ' line:NOOP 'ok:^OK$'
assert_no_file "$ROOT/short.bin" "short upload not committed"

raw "all bytes but no digest" ctl \
    "line:UPLOAD nodigest.bin $(stat -c %s "$src/f1")" 'ok:^OK ' \
    data "dsend:$src/f1" dshut read 'ok:^ERROR (SHORT|INTEGRITY) ' line:NOOP 'ok:^OK$'
assert_no_file "$ROOT/nodigest.bin" "upload without digest not committed"

raw "too many bytes" ctl \
    'line:UPLOAD toomany.bin 1000' 'ok:^OK ' \
    data "dsend:$src/f1:1000" ddigest "dsend:$src/f1:5000" dshut read 'ok:^(DONE|ERROR) ' line:NOOP 'ok:^OK$'
if [ -e "$ROOT/toomany.bin" ]; then
	assert_eq 1000 "$(stat -c %s "$ROOT/toomany.bin")" "extra bytes after the digest never stored"
	assert_eq "$(head -c 1000 "$src/f1" | sha256sum | cut -c1-64)" "$(sha256_of "$ROOT/toomany.bin")" "only the announced bytes stored"
fi
# Broken-off uploads keep a hidden partial for a resume: short.bin, and
# nodigest.bin if the server saw it as SHORT.
n=$(partials_in "$ROOT" | wc -l)
if [ "$n" -ge 1 ] && [ "$n" -le 2 ]; then pass "broken-off uploads kept $n partial(s) for a resume"; else fail "expected 1 or 2 partials, found: $(temps_in "$ROOT")"; fi
assert_eq "" "$(old_temps_in "$ROOT")" "no temporaries in the root after failed uploads"
raw "partials are invisible" ctl line:LIST 'no:short\.bin' 'no:nodigest\.bin' 'no:partial'
rm -f "$ROOT"/.ftx/.partial/*

# ---------------------------------------------------------------- stall
# A peer that stops sending is cut off after --data-timeout (3 s); other
# sessions are served meanwhile.
raw_bg "$TMPD/stall.out" -t 15 -w 40 ctl "line:UPLOAD stalled.bin $(stat -c %s "$src/f2")" 'ok:^OK ' \
    data "dsend:$src/f2:500000" "touch:$TMPD/stalling" read:15 'ok:^ERROR TIMEOUT ' line:NOOP 'ok:^OK$'
stallpid=$BG_PID
wait_for 10 test -e "$TMPD/stalling"
t0=$(date +%s.%N)
raw "other sessions are served during a stall" -t 2 ctl line:NOOP 'ok:^OK$' 'line:HASH f1' 'ok:^OK '
t1=$(date +%s.%N)
assert_eq 1 "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a < 1.5) ? 1 : 0 }')" "answered within 1.5 s during the stall"
wait_pid "$stallpid" 30
assert_eq 0 "$WAIT_RC" "stalled upload got ERROR TIMEOUT and its session stayed usable"
[ "$WAIT_RC" -eq 0 ] || sed 's/^/    /' "$TMPD/stall.out" >&2
assert_no_file "$ROOT/stalled.bin" "stalled upload not committed"
assert_eq 1 "$(partials_with_data "$ROOT")" "the stalled upload's partial is kept for a resume"

# A downloader that never reads times out too (the file is large enough
# to fill the socket buffers).
mkrand "$src/f64" $((64 * 1024 * 1024))
assert_exit 0 "put 64 MiB" ftx put "$src/f64"
raw "a downloader that never reads" -t 15 -w 40 ctl 'line:DOWNLOAD f64' 'ok:^OK ' data sleep:1 read:15 'ok:^ERROR TIMEOUT ' line:NOOP 'ok:^OK$'
wait_pid "$silent" 30
assert_eq 0 "$WAIT_RC" "a silent data connection is closed (hello timeout)"
[ "$WAIT_RC" -eq 0 ] || sed 's/^/    /' "$TMPD/silent.out" >&2
assert_alive "stalled data peers"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"

# ---------------------------------------------------------------- expiry
start_server --token-ttl 2
raw "an unused download token expires" -t 10 ctl \
    'line:DOWNLOAD f1' 'ok:^OK 100000 ' read:6 'ok:^ERROR TIMEOUT ' \
    data:tok drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    line:NOOP 'ok:^OK$' \
    'line:DOWNLOAD f1' 'ok:^OK 100000 ' data:tok drecv "ok:^DATA n=100000 sha=$sha1 end=EOF" read "ok:^DONE $sha1\$"
raw "an unused upload token expires" -t 10 ctl \
    'line:UPLOAD expired.bin 100000' 'ok:^OK ' sleep:3.5 \
    data:tok "dsend:$src/f1" drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' \
    read 'ok:^ERROR TIMEOUT ' line:NOOP 'ok:^OK$'
assert_no_file "$ROOT/expired.bin" "nothing stored with an expired token"
# A token used in time keeps working past the TTL (a slow transfer).
raw "a transfer started in time may outlast the token TTL" -t 10 ctl \
    'line:UPLOAD slow.bin 100000' 'ok:^OK ' data "dsend:$src/f1:50000" sleep:3 "dsend:$src/f1" ddigest \
    read "ok:^DONE $sha1\$"
assert_file_same "$src/f1" "$ROOT/slow.bin" "slow upload stored"
assert_alive "expired tokens"
finish
