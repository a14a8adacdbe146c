#!/bin/bash
# What ftx prints that came from the network is escaped (issue 11, item
# 11; docs/SECURITY.md, "escape sequences from the server"; the scheme is
# in docs/ftx.1, ESCAPED OUTPUT), against tests/tools/ftxfake in its
# hostile mode: a server whose file name (LIST, HASH) and texts (error
# reasons of rm/get, STATS, chat messages and notices) carry C1 controls
# (U+009B, CSI to many terminals, and the raw byte 0x9b), ESC sequences,
# bidi overrides and invalid UTF-8.  For every such server, nothing ftx
# writes to stdout or stderr holds a control byte other than LF or any
# byte >= 0x80 (the inputs have no printable non-ASCII), and the hostile
# characters are shown visibly (\u009b, \x9b, \u202e, \xff).  A name the
# client refuses outright ("bad file name from server") is a defence too.
# The control case: a name and a text with printable UTF-8 are printed
# unchanged.
. "$(dirname "$0")/lib.sh"

isolate_client

src=$TMPD/src
mkdir -p "$src"
printf 'abc' >"$src/payload"

# run_all LABEL NAME TEXT: every command against a hostile fake; the
# outputs of each in $TMPD/esc.LABEL.<cmd>.{out,err,rc}, all of them
# together in $TMPD/esc.LABEL.all.
run_all() {
	local label=$1 name=$2 text=$3 base=$TMPD/esc.$1 cmd
	start_fake hostile "$src/payload" -n "$name" -e "$text"
	mkdir -p "$TMPD/dl.$label"
	run_one "$base.ls" ls
	run_one "$base.lsl" ls --long
	run_one "$base.hash" hash -- "$name"
	# The fake refuses every DELETE and DOWNLOAD with TEXT as reason.
	run_one "$base.rm" rm gone.txt
	run_one "$base.get" get -o "$TMPD/dl.$label" gone.txt
	run_one "$base.stats" stats
	run_one "$base.chat" chat --nick bob
	stop_fake
	: >"$base.all"
	for cmd in ls lsl hash rm get stats chat; do
		cat "$base.$cmd.out" "$base.$cmd.err" >>"$base.all"
	done
}

# run_one BASE ARGS...: ftx ARGS against the fake into BASE.{out,err,rc}.
run_one() {
	local base=$1
	shift
	timeout -k 2 20 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" "$@" \
	    </dev/null >"$base.out" 2>"$base.err"
	echo $? >"$base.rc"
}

# clean LABEL: no byte of ftx's output is a control byte other than LF,
# nor >= 0x80: no ESC, no C1 (raw or as UTF-8), no bidi override, no
# invalid UTF-8 reached the terminal.
clean() {
	local all=$TMPD/esc.$1.all
	if [ ! -s "$all" ]; then
		fail "$1: ftx printed nothing at all"
	elif LC_ALL=C grep -aqP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$all"; then
		fail "$1: raw bytes reached the terminal:"
		LC_ALL=C grep -anP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$all" | head -n 5 | od -c | head -n 10 >&2
	else
		pass "$1: nothing raw in the $(wc -c <"$all") bytes ftx printed ($(wc -l <"$all") lines)"
	fi
}

# has LABEL CMD WHERE FIXED-STRING DESC
has() {
	if grep -qF -- "$4" "$TMPD/esc.$1.$2.$3"; then
		pass "$1: $5"
	else
		fail "$1: $5: '$4' not in $2's $3: $(cat "$TMPD/esc.$1.$2.$3")"
	fi
}

# listed LABEL ESCAPED: ls showed the name escaped, or refused it as a
# bad name (a stricter name check), and never crashed.
listed() {
	local rc
	rc=$(cat "$TMPD/esc.$1.ls.rc")
	if [ "$rc" = 0 ]; then
		has "$1" ls out "$2" "ls shows the name as $2"
	elif [ "$rc" = 1 ] && grep -q 'bad file name from server' "$TMPD/esc.$1.ls.err"; then
		pass "$1: ls refuses the name from the server"
	else
		fail "$1: ls exit $rc: $(cat "$TMPD/esc.$1.ls.err")"
	fi
}

# reason LABEL ESCAPED: rm and get print the server's reason escaped.
reason() {
	has "$1" rm err "$2" "rm shows the server's reason as '$2'"
	has "$1" get err "$2" "get shows the server's reason as '$2'"
	assert_eq 4 "$(cat "$TMPD/esc.$1.rm.rc")" "$1: rm: exit 4 (refused)"
}

# The control case first: printable UTF-8 travels unchanged.
run_all plain 'ok-é.txt' 'plain reason é'
assert_eq 0 "$(cat "$TMPD/esc.plain.ls.rc")" "plain: ls works"
assert_match '^ *3  ([0-9-]+ [0-9:]+| *-)  ok-é\.txt$' "$(cat "$TMPD/esc.plain.ls.out")" "plain: the name is printed as it is"
has plain hash out 'ok-é.txt' "hash prints the name as it is"
reason plain 'plain reason é (NOTFOUND)'
has plain chat out '<mallory> plain reason é' "a chat message is printed as it is"
if LC_ALL=C grep -aqP '[\x00-\x09\x0b-\x1f\x7f]' "$TMPD/esc.plain.all"; then
	fail "plain: control bytes in the output"
else
	pass "plain: no control bytes in the output"
fi

# C1 CSI as UTF-8 (U+009B) and NEL (U+0085).
run_all c1 $'csi\xc2\x9b31mred' $'why \xc2\x9b2J \xc2\x85next'
clean c1
listed c1 'csi\u009b31mred'
reason c1 'why \u009b2J \u0085next'

# The raw byte 0x9b (not UTF-8; CSI to an 8-bit terminal).
run_all raw $'raw\x9b31mred' $'why \x9b2J raw'
clean raw
listed raw 'raw\x9b31mred'
reason raw 'why \x9b2J raw'
has raw stats err 'malformed STATS field' "stats refuses the reply without echoing it"

# Bidi overrides and isolates: "txt.exe" that would read "exe.txt".
run_all bidi $'evil\xe2\x80\xaetxt.exe' $'why \xe2\x80\xae RLO \xe2\x81\xa6 LRI \xe2\x81\xa9'
clean bidi
listed bidi 'evil\u202etxt.exe'
reason bidi 'why \u202e RLO \u2066 LRI \u2069'
if [ "$(cat "$TMPD/esc.bidi.hash.rc")" = 0 ]; then
	has bidi hash out '  evil\u202etxt.exe' "hash shows the name escaped"
fi
if grep -qF 'bad text in MSG push' "$TMPD/esc.bidi.chat.out"; then
	pass "bidi: the chat message was refused"
else
	has bidi chat out '<mallory> why \u202e RLO \u2066 LRI \u2069' "a chat message shows the overrides escaped"
fi

# Invalid UTF-8.
run_all utf8 $'bad\xff\xfe' $'why \xff\xc0\xaf'
clean utf8
listed utf8 'bad\xff\xfe'
reason utf8 'why \xff\xc0\xaf'

# ESC sequences (a title change, a screen clear): names with control
# bytes are refused by the name check, reasons show them.
run_all esc $'esc\x1b[2Jx' $'why \x1b]0;pwned\x07 \x1b[2J'
clean esc
assert_eq 1 "$(cat "$TMPD/esc.esc.ls.rc")" "esc: ls refuses a name with ESC"
has esc ls err 'bad file name from server' "ls says why"
has esc hash err "invalid name 'esc\\x1b[2Jx'" "hash refuses the name, quoting it escaped"
assert_match 'why .\]0;pwned. .\[2J \(NOTFOUND\)' "$(cat "$TMPD/esc.esc.rm.err")" "esc: rm shows the reason, ESC made visible"

finish
