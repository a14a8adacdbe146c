#!/bin/bash
# The manual pages match the programs: every --option that `ftxd --help`
# and `ftx --help` print appears in docs/ftxd.8 and docs/ftx.1, and both
# pages format without warnings.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$ITEST_DIR/../.." && pwd)

# The long options a help text mentions, and the short ones that start
# an option line ("  -o, --output DIR"), one per line.
help_options() {
	{
		grep -oE -- '--[a-z0-9][a-z0-9-]*' "$1" | sed 's/-*$//'
		grep -oE -- '^ +-[A-Za-z0-9]([ ,]|$)' "$1" | tr -d ' ,'
	} | sort -u
}

# check PROGRAM PAGE [COMMAND]: every option of `PROGRAM --help` (or of
# `PROGRAM help COMMAND`, a command's own help) is in PAGE's roff source
# (with the \- escapes and font changes taken out).
check() {
	local prog=$1 page=$2 cmd=${3:-} name src opts missing='' o n=0
	name=$(basename "$prog")${cmd:+ $cmd}
	if [ -n "$cmd" ]; then
		"$prog" help "$cmd" >"$TMPD/help.out" 2>&1
	else
		"$prog" --help >"$TMPD/help.out" 2>&1
	fi
	if [ $? -ne 0 ]; then
		fail "$name --help failed"
		return
	fi
	cp "$TMPD/help.out" "$TMPD/$(printf '%s' "$name" | tr ' ' _).help"
	opts=$(help_options "$TMPD/help.out")
	if [ -z "$opts" ] && [ -n "$cmd" ]; then
		pass "$name has no options of its own"
		return
	fi
	if [ -z "$opts" ]; then
		fail "no --options found in $name --help"
		return
	fi
	if [ ! -f "$page" ]; then
		fail "$page does not exist"
		return
	fi
	src=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' "$page")
	for o in $opts; do
		n=$((n + 1))
		# Whole option names only: --log must not be found in --log-chat.
		if ! printf '%s\n' "$src" | grep -qE -- "(^|[^a-z0-9-])$o([^a-z0-9-]|\$)"; then
			missing="$missing $o"
		fi
	done
	if [ -z "$missing" ]; then
		pass "all $n options of $name --help are in $(basename "$page")"
	else
		fail "$(basename "$page") lacks options of $name --help:$missing"
	fi
}

check "$FTXD" "$REPO/docs/ftxd.8"
check "$FTX_BIN" "$REPO/docs/ftx.1"
# Every command's own options (ftx help CMD) too.
ncmd=0
for c in $("$FTX_BIN" help --commands); do
	ncmd=$((ncmd + 1))
	check "$FTX_BIN" "$REPO/docs/ftx.1" "$c"
done
[ "$ncmd" -ge 15 ] && pass "checked the options of $ncmd commands" ||
	fail "ftx help --commands listed only $ncmd commands"

# The check itself can fail: an option missing from a page is reported.
printf '%s\n' '.TH X 1' '.SH OPTIONS' '.B \-\-root' >"$TMPD/short.8"
saved_fails=$FAILS saved_checks=$CHECKS
check "$FTXD" "$TMPD/short.8" 2>/dev/null
if [ "$FAILS" -gt "$saved_fails" ]; then
	FAILS=$saved_fails CHECKS=$saved_checks
	pass "an incomplete page is caught"
else
	FAILS=$saved_fails CHECKS=$saved_checks
	fail "an incomplete page was not caught"
fi

# Both pages format cleanly (groff -ww warns about bad macros/escapes).
if command -v groff >/dev/null 2>&1; then
	for page in "$REPO/docs/ftxd.8" "$REPO/docs/ftx.1"; do
		# -P -cbou: plain text, no overstriking, so it can be grepped.
		groff -man -Tutf8 -ww -P -cbou "$page" >"$TMPD/groff.out" 2>"$TMPD/groff.err"
		if [ -s "$TMPD/groff.err" ]; then
			fail "groff warnings for $(basename "$page"): $(head -n 5 "$TMPD/groff.err")"
		else
			pass "$(basename "$page") formats without warnings"
		fi
		for sec in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "SEE ALSO"; do
			if grep -q "^$sec\$" "$TMPD/groff.out"; then
				pass "$(basename "$page") has a $sec section"
			else
				fail "$(basename "$page") has no $sec section"
			fi
		done
	done
else
	echo "note: groff not installed: formatting check skipped"
fi
finish
