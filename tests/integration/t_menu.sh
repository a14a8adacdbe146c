#!/bin/bash
# The menu as a person uses it: on a terminal (a pty from script(1), fed
# keystrokes, Tab included) the local-path prompts expand ~ and complete
# names with Tab (the common prefix; a second Tab lists the candidates),
# item 8 chooses the download folder (the current one is the default), a
# download says where the file went (its full path), and the chat asks
# for a nickname with $USER as the default.  From a pipe: ~ is expanded,
# the chosen folder is used, and the chat item takes $USER as its nick.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null 2>&1 || skip "script(1) (util-linux) is not installed"

isolate_client
start_server
mkdir -p "$HOME/docs" "$HOME/bin"
printf 'the report\n' >"$HOME/docs/report-2026.txt"
mkrand "$HOME/alpha-one.bin" 1000
mkrand "$HOME/alpha-two.bin" 2000
# A name with an escape sequence (it sets the window title) and one with
# a bidi override: never candidates, never on the terminal.
: >"$HOME/alpha-"$'\e]0;pwned\a'
: >"$HOME/alpha-"$'\u202e'"nib.exe"
mkdir -p "$TMPD/cwd"
cd "$TMPD/cwd" || exit 1

# on_tty OUT KEYS...: run the menu on a pty; each KEYS string (printf %b)
# is typed 0.3 s after the one before.  The raw terminal output goes to
# OUT; TTY_RC is script's exit status (the menu's).  script's own stdin
# is the pipe, never this script's: a suite run from a terminal must not
# touch it.
on_tty() {
	local out=$1 k
	shift
	{
		for k in "$@"; do
			sleep 0.3
			printf '%b' "$k"
		done
		sleep 0.3
	} | TZ=UTC timeout -k 2 40 script -q -e -c \
	    "$FTX_BIN --host 127.0.0.1 --port $CTRL_PORT $MENU_CMD" /dev/null >"$out" 2>&1
	TTY_RC=$?
}
# The screen's text: erase-line dropped, a carriage return starts a line.
screen() {
	sed 's/\x1b\[K//g' "$1" | tr '\r' '\n'
}
MENU_CMD=menu

# ---------------------------------------------------------------- Tab, ~
# "~/do<Tab>" -> "~/docs/" (one match, a directory), "re<Tab>" ->
# "report-2026.txt"; Enter; "Store as" left empty.
on_tty "$TMPD/t1.out" '1\n' '~/do\t' 're\t' '\n' '\n' '0\n'
assert_eq 0 "$TTY_RC" "menu on a terminal: upload by Tab completion, quit"
assert_file_same "$HOME/docs/report-2026.txt" "$ROOT/report-2026.txt" "~/do<Tab>re<Tab> uploaded ~/docs/report-2026.txt"
assert_match 'File to upload: ~/docs/report-2026\.txt$' "$(screen "$TMPD/t1.out" | grep -a 'File to upload' | tail -n 1)" \
    "the completed path is shown as typed (with ~)"

# Two candidates: Tab goes to their common prefix ("alpha-") with the
# bell, a second Tab lists both; then "t<Tab>" completes alpha-two.bin.
on_tty "$TMPD/t2.out" '1\n' '~/al\t' '\t' 't\t' '\n' '\n' '0\n'
assert_eq 0 "$TTY_RC" "menu: upload after a listing"
assert_file_same "$HOME/alpha-two.bin" "$ROOT/alpha-two.bin" "~/al<Tab><Tab>t<Tab> uploaded alpha-two.bin"
assert_no_file "$ROOT/alpha-one.bin" "the other candidate was not uploaded"
if screen "$TMPD/t2.out" | grep -aqE '^alpha-one\.bin +alpha-two\.bin$'; then
	pass "the second Tab lists the candidates"
else
	fail "no listing of alpha-one.bin alpha-two.bin in: $(screen "$TMPD/t2.out" | grep -a alpha | head -n 5)"
fi
if grep -aq $'\a' "$TMPD/t2.out"; then pass "an ambiguous first Tab rings the bell"; else fail "no bell on an ambiguous Tab"; fi
if grep -aqF -e $'\e]0;' -e $'\u202e' "$TMPD/t2.out"; then
	fail "a file name with an escape sequence or a bidi override reached the terminal"
else
	pass "file names with control or bidi characters are no candidates"
fi

# No match: the bell, the line unchanged; a ~ path that does not exist
# is reported, and the menu goes on.
on_tty "$TMPD/t3.out" '1\n' '~/zz\t' '\n' '\n' '0\n'
assert_eq 0 "$TTY_RC" "menu: a path that does not exist"
assert_match 'zz' "$(screen "$TMPD/t3.out" | grep -a '^ftx: ')" "...is reported"
assert_match "$HOME/zz" "$(screen "$TMPD/t3.out" | grep -a '^ftx: ')" "...with ~ expanded"
assert_eq 2 "$(screen "$TMPD/t3.out" | grep -ac '0) Quit')" "...and the menu is shown again"

# ---------------------------------------------------------------- the download folder
printf 'remote payload\n' >"$ROOT/payload.txt"
on_tty "$TMPD/t4.out" '8\n' '\n' '8\n' '~/dow\t' '\n' '2\n' 'payload.txt\n' '5\n' 'payload.txt\n' '0\n'
assert_eq 0 "$TTY_RC" "menu: choose a download folder, download, verify"
assert_match "Download folder \[$TMPD/cwd/client_downloads\]: \$" "$(screen "$TMPD/t4.out" | grep -a 'Download folder \[' | head -n 1)" \
    "the folder prompt shows the current folder (./client_downloads, as a full path)"
assert_file_same "$ROOT/payload.txt" "$HOME/dow/payload.txt" "the download went to the chosen folder (~/dow, completed with no match: typed as is)"
assert_no_file "$TMPD/cwd/client_downloads/payload.txt" "...not to ./client_downloads"
real=$(realpath "$HOME/dow")
assert_match "^saved to $real/payload\\.txt\$" "$(screen "$TMPD/t4.out" | grep -a '^saved to ')" "the menu says where the file went (full path)"
assert_match "^local copy $real/payload\\.txt matches\$" "$(screen "$TMPD/t4.out" | grep -a '^local copy ')" \
    "verify compares with the copy in the chosen folder"

# ---------------------------------------------------------------- from a pipe
printf '8\n~/piped\n2\npayload.txt\n0\n' | timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" menu >"$OUT" 2>"$ERR"
assert_eq 0 "$?" "menu from a pipe: folder, download, quit"
assert_file_same "$ROOT/payload.txt" "$HOME/piped/payload.txt" "from a pipe, ~/piped is expanded and used"
assert_match "^saved to $(realpath "$HOME/piped")/payload\\.txt\$" "$(grep '^saved to ' "$OUT")" "...and the full path is said"

# The chat item from a pipe: the nick is $USER, every line is a message.
printf '6\nhello-from-the-menu\n/quit\n3\n0\n' | USER=menuser TZ=UTC timeout -k 2 30 "$FTX_BIN" \
    --host 127.0.0.1 --port "$CTRL_PORT" menu >"$OUT" 2>"$ERR"
assert_eq 0 "$?" "menu from a pipe: chat, list, quit"
assert_match '<menuser> hello-from-the-menu$' "$(cat "$OUT")" "the menu's chat joins as \$USER and sends the first line"
assert_match 'payload\.txt' "$(cat "$OUT")" "the menu goes on after /quit (the list)"

# ---------------------------------------------------------------- chat on a terminal
# The nickname prompt offers $USER: Enter takes it.
MENU_CMD=chat
USER=ttyuser on_tty "$TMPD/t5.out" '\n' 'hi-from-tty\n' '/quit\n'
MENU_CMD=menu
assert_eq 0 "$TTY_RC" "chat on a terminal: Enter at the nickname prompt, a message, /quit"
assert_match 'nickname \[ttyuser\]: ' "$(screen "$TMPD/t5.out")" "the prompt offers \$USER"
assert_match '<ttyuser> hi-from-tty' "$(screen "$TMPD/t5.out")" "Enter took the default nick"

cd / || exit 1
finish
