#!/bin/bash
# Hostile control lines: the 4096-byte limit exactly, overlong lines
# (ERROR TOOLONG, the rest discarded, session usable), repeated overlong
# lines and one huge line (ERROR FLOOD + disconnect), NUL and other
# control bytes, binary garbage, and a pipeline big enough to need
# output back-pressure.  Other sessions never notice.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/victim" 100
assert_exit 0 "put victim" ftx put "$src/victim"

# A bystander session opened before all this, checked at the end.
raw_bg "$TMPD/bystander.out" -w 100 -t 30 ctl 'ok:^OK FTX/1' line:NOOP 'ok:^OK$' \
    "waitfile:$TMPD/go" line:NOOP 'ok:^OK$' 'line:HASH victim' 'ok:^OK 100 '
bystander=$BG_PID

# 4096 bytes including the LF is a line (here: a name too long);
# 4097 is one byte too many.
name4090=$(printf 'x%.0s' $(seq 1 4090))
raw "line of exactly 4096 bytes is parsed" ctl \
    "line:HASH $name4090" 'ok:^ERROR BADNAME ' \
    "line:HASH ${name4090}y" 'ok:^ERROR TOOLONG ' \
    line:NOOP 'ok:^OK$'

# What follows the first 4096 bytes of an overlong line is discarded up
# to its LF, even when it looks like a command.
raw "tail of an overlong line is not executed" ctl \
    'rep:5000:A' 'raw: DELETE victim\n' read 'ok:^ERROR TOOLONG ' \
    line:NOOP 'ok:^OK$' \
    'rep:4200:B' 'raw:\nDELETE nothere\n' read 'ok:^ERROR TOOLONG ' read 'ok:^ERROR NOTFOUND ' \
    'line:HASH victim' 'ok:^OK 100 '
assert_file "$ROOT/victim" "victim survived the overlong lines"

# Three overlong lines, each followed by a good command, are tolerated;
# the fourth is a flood: ERROR FLOOD and the server hangs up.
raw "three overlong lines tolerated, the fourth is a flood" ctl \
    'rep:4500:C' 'raw:\n' read 'ok:^ERROR TOOLONG ' line:NOOP 'ok:^OK$' \
    'rep:4500:D' 'raw:\n' read 'ok:^ERROR TOOLONG ' line:NOOP 'ok:^OK$' \
    'rep:4500:E' 'raw:\n' read 'ok:^ERROR TOOLONG ' line:NOOP 'ok:^OK$' \
    'rep:4500:F' 'raw:\n' drain:5 'has:^ERROR FLOOD ' 'has:^(EOF|RESET)$' 'no:^OK$'
assert_alive "four overlong lines"

# One line of more than 64 KiB is a flood on its own.
raw "one 70 KB line is a flood" ctl line:NOOP 'ok:^OK$' \
    'rep:70000:G' drain:5 'has:^ERROR FLOOD ' 'has:^(EOF|RESET)$'
assert_alive "a 70 KB line"
# Even without ever sending an LF, and in small pieces.
steps=(ctl)
for i in $(seq 1 20); do steps+=('rep:4000:H'); done
steps+=(drain:5 'has:^ERROR (FLOOD|TOOLONG) ' 'has:^ERROR FLOOD ' 'has:^(EOF|RESET)$')
raw "80 KB in pieces without LF is a flood" "${steps[@]}"
assert_alive "80 KB without LF"

# Control bytes, NUL, empty lines, bytes >= 0x80 in the verb.
raw "NUL and control bytes make a line invalid, nothing more" ctl \
    'raw:NO\0OP\n' read 'ok:^ERROR SYNTAX ' \
    'raw:NOOP\x01\n' read 'ok:^ERROR SYNTAX ' \
    'raw:HASH \x7fvictim\n' read 'ok:^ERROR SYNTAX ' \
    'raw:HASH victim\x1b[2J\n' read 'ok:^ERROR SYNTAX ' \
    'raw:\xff\xfe\xfd\n' read 'ok:^ERROR (UNKNOWN|SYNTAX) ' \
    'raw:\n' 'raw:\r\n' 'raw:   \n' 'line:HASH zz' drain:1 'has:^ERROR NOTFOUND ' \
    line:NOOP 'ok:^OK$'
# An embedded NUL must not cut the line short: "DELETE victim\0junk" is
# not "DELETE victim".
raw "a NUL does not truncate a command" ctl 'raw:DELETE victim\0junk\n' read 'ok:^ERROR SYNTAX ' \
    'raw:HASH victim\0\n' read 'ok:^ERROR SYNTAX ' line:NOOP 'ok:^OK$'
assert_file "$ROOT/victim" "victim survived DELETE with an embedded NUL"

# A line may arrive a few bytes at a time.
raw "a command in slow pieces" ctl 'raw:NO' sleep:0.4 'raw:O' sleep:0.4 'raw:P' sleep:0.4 'raw:\n' \
    read 'ok:^OK$' 'raw:HASH vic' sleep:0.3 'raw:tim\r' sleep:0.3 'raw:\n' read 'ok:^OK 100 '

# A CR in the middle of a line is a control character, too.
raw "a CR inside a line" ctl 'raw:HASH vic\rtim\n' read 'ok:^ERROR SYNTAX ' line:NOOP 'ok:^OK$'

# 64 KiB of random binary garbage: answered with errors, never a crash.
head -c 65536 /dev/urandom | tr -d '\n' | fold -b -w 200 >"$src/garbage"
raw "binary garbage on the control connection" -t 3 ctl "csend:$src/garbage" drain:3
if grep -a '^< OK' "$RAW_OUT" | grep -aqv '^< OK FTX/1 '; then
	fail "garbage got an OK reply: $(grep -a '^< OK' "$RAW_OUT" | grep -av '^< OK FTX/1 ' | head -n 1)"
else
	pass "garbage got no OK reply"
fi
assert_alive "binary garbage"

# 5000 pipelined HELPs without reading: far more output than the
# server's per-session buffer.  The server must throttle, not drop or
# disconnect; everything arrives once we read.
raw "5000 pipelined HELP commands" -t 5 -w 100 ctl 'rep:5000:HELP\n' line:NOOP drain:3
assert_eq 5000 "$(grep -c '^< DONE$' "$RAW_OUT")" "every pipelined HELP was answered"
assert_eq 1 "$(grep -c '^< OK$' "$RAW_OUT")" "the NOOP after them was answered"
assert_eq "OK" "$(grep '^< OK$' "$RAW_OUT" | cut -c3-)" "NOOP answered after the pipeline"
assert_match '^< OK$' "$(grep '^< ' "$RAW_OUT" | grep -v '^< EOF$' | grep -v '^< TIMEOUT$' | tail -n 1)" "NOOP's reply came last"

# The bystander session saw none of this.
touch "$TMPD/go"
wait_pid "$bystander" 30
assert_eq 0 "$WAIT_RC" "bystander session still works"
[ "$WAIT_RC" -eq 0 ] || sed 's/^/    /' "$TMPD/bystander.out" >&2
assert_alive "hostile control lines"
finish
