#!/bin/bash
# The command line as curl, ssh and git users expect it: options before
# or after the command, help per command, hosts as H:PORT and [v6]:PORT,
# ftx:// URLs wherever a remote path goes, and host aliases from the
# configuration file (ssh_config style), hostile files refused.
. "$(dirname "$0")/lib.sh"

isolate_client
start_server
F=$FTX_BIN
T() { timeout -k 2 30 "$F" "$@"; }
src=$TMPD/src
mkdir -p "$src"
mkrand "$src/a.bin" 5000
mkrand "$src/b.bin" 7000

# ---------------------------------------------------------------- options anywhere
assert_exit 0 "global options after the command" T put "$src/a.bin" --port "$CTRL_PORT" --host 127.0.0.1
assert_exit 0 "ls --host H:PORT after the command" T ls --host "127.0.0.1:$CTRL_PORT"
assert_match "a.bin" "$(cat "$OUT")" "ls lists a.bin"
assert_exit 0 "-q after the command" T get a.bin -o "$TMPD/dl" --quiet -H "127.0.0.1:$CTRL_PORT"
assert_file_same "$src/a.bin" "$TMPD/dl/a.bin" "the bytes arrived intact"
assert_eq "" "$(cat "$ERR")" "--quiet after the command silences the summary"
assert_exit 0 "-p short for --port" T -H 127.0.0.1 ls -p "$CTRL_PORT"
assert_exit 2 "an unknown option after the command" T ls --bogus -H "127.0.0.1:$CTRL_PORT"
assert_match "unknown option '--bogus'" "$(cat "$ERR")" "names the option"
assert_exit 2 "a global option's missing value" T ls --host
# "--" ends the options: "-q" is then an operand (a file that does not exist).
assert_exit 1 "-- ends the options" T put -H "127.0.0.1:$CTRL_PORT" -- -q
assert_match "-q" "$(cat "$ERR")" "the operand -q is a file name"

# --retries counts together with --port (a port given once lost it).
assert_exit 3 "--port and --retries together" T put "$src/a.bin" --port 1 --retries 1
assert_match "retry 1/1" "$(cat "$ERR")" "the retry count given with --port is used"

# ---------------------------------------------------------------- help
for c in $(T help --commands); do
	assert_exit 0 "ftx $c --help" T "$c" --help
	assert_match "^usage: ftx $c" "$(head -n 1 "$OUT")" "$c --help starts with its usage"
	assert_exit 0 "ftx help $c" T help "$c"
	assert_eq "" "$(cat "$ERR")" "help $c writes nothing on stderr"
done
n=$(T help --commands | wc -l)
[ "$n" -ge 15 ] && pass "help --commands lists $n commands" || fail "help --commands lists only $n"
assert_exit 0 "ftx get -h is get's help" T get -h
assert_match "--no-clobber" "$(cat "$OUT")" "get's help lists --no-clobber"
assert_exit 2 "ftx help of an unknown command" T help frobnicate
assert_exit 0 "ftx --help" T --help
assert_match "ftx help COMMAND" "$(cat "$OUT")" "the general help points to per-command help"

# ---------------------------------------------------------------- hosts
# The server listens on 127.0.0.1 only, so ::1 is refused: the point is
# that the bracketed form was parsed and tried as an address and port.
assert_exit 3 "--host [::1]:PORT (IPv6 literal with a port)" T --host "[::1]:$CTRL_PORT" ls
assert_match "connect to ::1 port $CTRL_PORT" "$(cat "$ERR")" "[::1]:PORT is an address and a port"
for bad in "127.0.0.1:0" "127.0.0.1:70000" "[::1" "bad host" "h:5x"; do
	assert_exit 2 "--host '$bad' is a usage error" T --host "$bad" ls
done

# ---------------------------------------------------------------- URLs
U=ftx://127.0.0.1:$CTRL_PORT
assert_exit 0 "put FILE URL/dir/" T put "$src/a.bin" "$src/b.bin" "$U/up/"
assert_file_same "$src/b.bin" "$ROOT/up/b.bin" "the bytes arrived intact"
assert_exit 0 "put FILE URL/name" T put "$src/a.bin" "$U/up/renamed.bin"
assert_file_same "$src/a.bin" "$ROOT/up/renamed.bin" "the bytes arrived intact"
assert_exit 0 "put --as URL" T put "$src/b.bin" --as "$U/up/as%20url.bin"
assert_file_same "$src/b.bin" "$ROOT/up/as url.bin" "the bytes arrived intact"
assert_exit 0 "get URL (percent-decoded)" T get "$U/up/as%20url.bin" -o "$TMPD/dl2"
assert_file_same "$src/b.bin" "$TMPD/dl2/as url.bin" "the bytes arrived intact"
assert_exit 0 "ls URL" T ls "$U/up"
assert_match "renamed.bin" "$(cat "$OUT")" "ls of a URL lists the directory"
assert_exit 0 "hash URL" T hash "$U/up/b.bin"
assert_eq "$(sha256sum <"$src/b.bin" | cut -c1-64)" "$(cut -c1-64 "$OUT")" "hash of a URL"
mkdir -p "$TMPD/tree"
assert_exit 0 "sync URL LOCAL" T sync "$U/up" "$TMPD/tree"
assert_file_same "$src/a.bin" "$TMPD/tree/renamed.bin" "the bytes arrived intact"
assert_exit 2 "two servers in one command" T get "$U/up/b.bin" "ftx://127.0.0.2:$CTRL_PORT/x"
assert_match "same server" "$(cat "$ERR")" "says why"
assert_exit 2 "a URL, then --host naming another server" T ls "$U/up" --host 127.0.0.8:1
assert_exit 2 "a URL's user, then another --user" T ls "ftx://alice@127.0.0.1:$CTRL_PORT/up" --user bob
assert_exit 2 "--port, then a URL with its own port" T --port 1 ls "$U/up"
assert_exit 2 "put with only a URL (no local FILE)" T put "$U/s9"
assert_exit 2 "a password in a URL is refused" T ls "ftx://u:secret@127.0.0.1:$CTRL_PORT/"
assert_exit 2 "%00 in a URL" T get "$U/a%00b"
assert_exit 2 "a URL path with .." T get "$U/up/../a.bin"
assert_exit 2 "put: several files to a URL that is not a directory" T put "$src/a.bin" "$src/b.bin" "$U/up/x"

# ---------------------------------------------------------------- the configuration file
cfg=$TMPD/ftxconfig
cat >"$cfg" <<EOC
# aliases for the test
Host box
    HostName 127.0.0.1
    Port $CTRL_PORT
Host wrongport
    HostName 127.0.0.1
    Port 1
Host *
    Retries 0
EOC
chmod 600 "$cfg"
export FTX_CONFIG=$cfg
assert_exit 0 "-H ALIAS from the configuration file" "$F" -H box ls up
assert_match "b.bin" "$(cat "$OUT")" "the alias reached the server"
assert_exit 0 "an alias in a URL" "$F" get ftx://box/up/b.bin -o "$TMPD/dl3"
assert_file_same "$src/b.bin" "$TMPD/dl3/b.bin" "the bytes arrived intact"
assert_exit 0 "--port on the command line beats the file's Port" "$F" -H wrongport --port "$CTRL_PORT" ls
assert_exit 3 "the file's Port is used" "$F" -H wrongport ls
FTX_PORT=1 assert_exit 0 "the file's Port beats FTX_PORT" "$F" -H box ls
chmod 622 "$cfg"
assert_exit 2 "a configuration others may write is refused" "$F" -H box ls
assert_match "writable" "$(cat "$ERR")" "says why"
chmod 600 "$cfg"
printf 'Host box\n    Colour blue\n' >"$cfg"
assert_exit 2 "an unknown keyword is an error naming the line" "$F" -H box ls
assert_match "line 2: unknown keyword" "$(cat "$ERR")" "names the line"
head -c 70000 /dev/zero | tr '\0' '#' >"$cfg"
assert_exit 2 "a configuration over 64 KiB is refused" "$F" -H box ls
FTX_CONFIG=$TMPD/missing assert_exit 2 "FTX_CONFIG naming a missing file" "$F" -H box ls
FTX_CONFIG= assert_exit 3 "FTX_CONFIG= turns the file off (box is not resolvable)" "$F" -H box --retries 0 ls
unset FTX_CONFIG
mkdir -p "$HOME/.config/ftx"
printf 'Host box\n HostName 127.0.0.1\n Port %s\n' "$CTRL_PORT" >"$HOME/.config/ftx/config"
chmod 600 "$HOME/.config/ftx/config"
assert_exit 0 "~/.config/ftx/config is read by default" "$F" -H box ls

finish
