#!/bin/bash
# LIST / DELETE / HASH through ftx and raw lines, a missing file, HELP,
# NOOP, QUIT, the grammar's error codes (unknown verb, bad sizes, bad
# parameters, BUSY), the menu, and ftx's exit codes.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/alpha.bin" 12345
mkrand "$src/beta.bin" 1
: >"$src/empty.bin"
printf 'hello world\n' >"$src/hello.txt"

assert_exit 0 "put four files" ftx put "$src/alpha.bin" "$src/beta.bin" "$src/empty.bin" "$src/hello.txt"

# ---------------------------------------------------------------- ls
assert_exit 0 "ls" ftx ls
for n in alpha.bin beta.bin empty.bin hello.txt; do
	assert_match "$n" "$(cat "$OUT")" "ls lists $n"
done
assert_match '12345' "$(grep alpha.bin "$OUT")" "ls shows the size of alpha.bin"
assert_exit 0 "ls --long" ftx ls --long
assert_match "$(sha256_of "$src/alpha.bin")" "$(grep alpha.bin "$OUT")" "ls --long shows the sha256 of alpha.bin"
assert_match "$(sha256_of "$src/empty.bin")" "$(grep empty.bin "$OUT")" "ls --long shows the sha256 of the empty file"

# Raw LIST: exact sizes, hashes and plausible mtimes.
now=$(date +%s)
raw "raw LIST" ctl line:LIST 'ok:^OK 4$' \
    "has:^FILE 12345 [0-9]+ $(sha256_of "$src/alpha.bin") alpha\\.bin$" \
    "has:^FILE 1 [0-9]+ $(sha256_of "$src/beta.bin") beta\\.bin$" \
    "has:^FILE 0 [0-9]+ $(sha256_of "$src/empty.bin") empty\\.bin$" \
    "has:^FILE 12 [0-9]+ a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447 hello\\.txt$" \
    'has:^DONE$'
mt=$(grep '^< FILE 12345 ' "$RAW_OUT" | awk '{print $4}')
if [ -n "$mt" ] && [ "$mt" -ge $((now - 120)) ] && [ "$mt" -le $((now + 120)) ]; then
	pass "LIST mtime is about now"
else
	fail "LIST mtime '$mt' is not within 2 minutes of $now"
fi
assert_eq "$(stat -c %Y "$ROOT/alpha.bin")" "$mt" "LIST mtime equals the stored file's mtime"

# ---------------------------------------------------------------- hash
assert_exit 0 "hash alpha.bin" ftx hash alpha.bin
assert_eq "$(sha256_of "$src/alpha.bin")  alpha.bin" "$(cat "$OUT")" "hash prints '<sha256>  <name>'"
if (cd "$src" && sha256sum -c --status <"$OUT"); then
	pass "ftx hash | sha256sum -c"
else
	fail "ftx hash output does not pass sha256sum -c: $(cat "$OUT")"
fi
assert_exit 0 "hash of several names" ftx hash alpha.bin hello.txt empty.bin
if (cd "$src" && sha256sum -c --strict <"$OUT" >/dev/null 2>&1); then
	pass "ftx hash of three names | sha256sum -c"
else
	fail "multi-name hash output does not verify: $(cat "$OUT")"
fi
assert_eq 3 "$(wc -l <"$OUT")" "one line per name"

assert_exit 0 "hash --md5" ftx hash --md5 hello.txt
assert_eq "$(sha256_of "$src/hello.txt")  hello.txt" "$(sed -n 1p "$OUT")" "--md5: first line is the sha256"
assert_eq "$(md5_of "$src/hello.txt")  hello.txt" "$(sed -n 2p "$OUT")" "--md5: second line matches md5sum"
if (cd "$src" && sed -n 2p "$OUT" | md5sum -c --status); then
	pass "md5 line verifies with md5sum -c"
else
	fail "md5 line does not verify with md5sum -c"
fi
raw "raw HASH with and without md5" ctl \
    'line:HASH hello.txt' 'ok:^OK 12 a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447 - hello\.txt$' \
    'line:HASH hello.txt md5' "ok:^OK 12 a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447 $(md5_of "$src/hello.txt") hello\\.txt$" \
    'line:HASH empty.bin md5' "ok:^OK 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 d41d8cd98f00b204e9800998ecf8427e empty\\.bin$" \
    'line:HASH nothere' 'ok:^ERROR NOTFOUND'

# ---------------------------------------------------------------- missing
assert_exit 4 "get of a missing file" ftx get no-such-file -o "$dl"
assert_match '.' "$(cat "$ERR")" "get of a missing file explains on stderr"
assert_eq "" "$(ls -A "$dl")" "a failed get leaves nothing in the download dir"
assert_exit 4 "hash of a missing file" ftx hash no-such-file
assert_exit 4 "rm of a missing file" ftx rm no-such-file
raw "raw DOWNLOAD/DELETE of a missing file" ctl \
    'line:DOWNLOAD missing.bin' 'ok:^ERROR NOTFOUND ' \
    'line:DELETE missing.bin' 'ok:^ERROR NOTFOUND ' \
    'line:NOOP' 'ok:^OK$'
# get of two names where the second is missing: the first still arrives.
assert_exit 4 "get with one missing name" ftx get alpha.bin no-such-file -o "$dl"
assert_file_same "$src/alpha.bin" "$dl/alpha.bin" "the present file of a partly failed get"

# ---------------------------------------------------------------- rm
assert_exit 0 "rm beta.bin" ftx rm beta.bin
assert_no_file "$ROOT/beta.bin" "rm removed the stored file"
assert_exit 0 "ls after rm" ftx ls
if grep -q beta.bin "$OUT"; then fail "ls still lists beta.bin"; else pass "ls no longer lists beta.bin"; fi
assert_exit 4 "get after rm" ftx get beta.bin -o "$dl"
assert_exit 0 "rm two names" ftx rm empty.bin hello.txt
assert_eq "alpha.bin" "$(visible_files "$ROOT")" "only alpha.bin remains"
raw "raw DELETE" ctl 'line:DELETE alpha.bin' 'ok:^OK deleted alpha\.bin$' 'line:LIST' 'ok:^OK 0$' 'has:^DONE$'
assert_exit 0 "put alpha again" ftx put "$src/alpha.bin"

# ---------------------------------------------------------------- grammar
raw "greeting, NOOP, HELP, case, CRLF, QUIT" ctl 'ok:^OK FTX/1 ' \
    line:NOOP 'ok:^OK$' \
    line:noop 'ok:^OK$' \
    line:NoOp 'ok:^OK$' \
    'raw:NOOP\r\n' read 'ok:^OK$' \
    'raw:   NOOP   \n' read 'ok:^(OK$|ERROR SYNTAX)' \
    'raw:NOOP\nNOOP\nNOOP\n' read 'ok:^OK$' read 'ok:^OK$' read 'ok:^OK$' \
    line:HELP 'ok:^OK [0-9]+$' 'has:^HELP UPLOAD' 'has:^HELP DOWNLOAD' 'has:^HELP LIST' \
    'has:^HELP DELETE' 'has:^HELP HASH' 'has:^HELP NOOP' 'has:^HELP QUIT' 'has:^DONE$' \
    'line:hash alpha.bin' 'ok:^OK 12345 ' \
    line:QUIT 'ok:^OK bye' read 'ok:^EOF$'
raw "unknown and reserved verbs" ctl \
    'line:FROB x' 'ok:^ERROR UNKNOWN ' \
    'line:STARTTLS' 'ok:^ERROR TLS not offered' \
    'line:LOGIN user pass' 'ok:^ERROR AUTH no accounts' \
    'line:STATS' 'ok:^OK uptime=' \
    'line:GET alpha.bin' 'ok:^ERROR UNKNOWN ' \
    'line:AVERYLONGVERBTHATISNOTAVERBATALL x' 'ok:^ERROR (UNKNOWN|SYNTAX) ' \
    $'line:\xc3\xa9t\xc3\xa9' 'ok:^ERROR (UNKNOWN|SYNTAX) ' \
    'line:NOOP' 'ok:^OK$'
raw "wrong argument counts and bad numbers" ctl \
    'line:UPLOAD a.txt' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt -1' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt +1' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt 01' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt 1x' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt 0x10' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt 18446744073709551616' 'ok:^ERROR (SYNTAX|TOOBIG) ' \
    'line:UPLOAD a.txt 99999999999999999999999' 'ok:^ERROR (SYNTAX|TOOBIG) ' \
    "line:UPLOAD a.txt $(((1 << 40) + 1))" 'ok:^ERROR TOOBIG ' \
    'line:UPLOAD a.txt 3 offset=5' 'ok:^ERROR RANGE ' \
    'line:UPLOAD a.txt 3 offset=x' 'ok:^ERROR SYNTAX ' \
    'line:UPLOAD a.txt 3 bogus=1' 'ok:^ERROR (SYNTAX|UNSUPPORTED) ' \
    'line:DOWNLOAD alpha.bin offset=99999999' 'ok:^ERROR RANGE ' \
    'line:DOWNLOAD alpha.bin extra' 'ok:^ERROR SYNTAX ' \
    'line:DELETE a b' 'ok:^ERROR SYNTAX ' \
    'line:HASH alpha.bin sha1' 'ok:^ERROR SYNTAX ' \
    'line:LIST extra' 'ok:^ERROR SYNTAX ' \
    'line:NOOP extra' 'ok:^ERROR SYNTAX ' \
    'line:NOOP a b c d e f g h i j k' 'ok:^ERROR SYNTAX ' \
    'line:NOOP' 'ok:^OK$' \
    'line:LIST' 'ok:^OK 1$' 'has:alpha\.bin'
# offset=0 is accepted; a second transfer on the session is BUSY; the
# pending one still works afterwards.
printf 'abc' >"$src/abc"
raw "offset=0, BUSY and a transfer after it" ctl \
    'line:UPLOAD abc.txt 3 offset=0' 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    'line:UPLOAD other.txt 3' 'ok:^ERROR BUSY ' \
    'line:DOWNLOAD alpha.bin' 'ok:^ERROR BUSY ' \
    'line:NOOP' 'ok:^OK$' \
    data "dsend:$src/abc" ddigest read 'ok:^DONE ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$' \
    'line:DOWNLOAD abc.txt offset=0' 'ok:^OK 3 [0-9]+ [0-9a-f]{32} ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$' \
    data drecv 'ok:^DATA n=3 sha=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad end=EOF' \
    read 'ok:^DONE ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$'
assert_file_same "$src/abc" "$ROOT/abc.txt" "raw upload stored"
# The token is 32 lowercase hex digits and differs each time.
raw "tokens differ" ctl 'line:DOWNLOAD abc.txt' 'ok:^OK 3 ' data drecv read 'ok:^DONE' \
    'line:DOWNLOAD abc.txt' 'ok:^OK 3 ' data drecv read 'ok:^DONE'
t1=$(grep -E '^< OK 3 ' "$RAW_OUT" | sed -n 1p | awk '{print $5}')
t2=$(grep -E '^< OK 3 ' "$RAW_OUT" | sed -n 2p | awk '{print $5}')
assert_match '^[0-9a-f]{32}$' "$t1" "token format"
if [ "$t1" != "$t2" ]; then pass "two tokens differ"; else fail "the same token was issued twice: $t1"; fi
assert_match "^< OK 3 $DATA_PORT " "$(grep -E '^< OK 3 ' "$RAW_OUT" | head -n 1)" "OK carries the data port ftxd reported"

# ---------------------------------------------------------------- logging
assert_match 'connect' "$(cat "$LOG")" "log has connect events"
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}' "$LOG"; then
	pass "log lines start with an ISO-8601 timestamp"
else
	fail "log lines do not start with an ISO-8601 timestamp: $(head -n 2 "$LOG")"
fi
if grep -E 'xfer upload' "$LOG" | grep -q "name=abc.txt.*bytes=3.*sha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.*result=ok"; then
	pass "log has the raw upload with name, bytes, sha256 and result"
else
	fail "no 'xfer upload name=abc.txt bytes=3 ... sha256=... result=ok' log line"
fi

# ---------------------------------------------------------------- menu
out=$(printf '3\n0\n' | ftx menu 2>&1)
rc=$?
assert_eq 0 "$rc" "menu: list then quit exits 0"
assert_match 'alpha\.bin' "$out" "menu item 3 lists the files"
out=$(printf 'bogus\n42\n\n3\n0\n' | ftx menu 2>&1)
rc=$?
assert_eq 0 "$rc" "menu re-prompts on bad input"
assert_match 'alpha\.bin' "$out" "menu still lists after bad input"
printf '' | ftx menu >/dev/null 2>&1
rc=$?
if [ "$rc" -lt 128 ] && [ "$rc" -ne 124 ]; then pass "menu on EOF exits cleanly (exit $rc)"; else fail "menu on EOF: exit $rc"; fi
printf '3\n' | ftx menu >/dev/null 2>&1
rc=$?
if [ "$rc" -lt 128 ] && [ "$rc" -ne 124 ]; then pass "menu on EOF after an item exits cleanly (exit $rc)"; else fail "menu on EOF after an item: exit $rc"; fi
# Menu download and hash of a file, then quit.
mkdir -p "$TMPD/menu"
out=$(cd "$TMPD/menu" && printf '2\nalpha.bin\n5\nalpha.bin\n0\n' | ftx menu 2>&1)
assert_file_same "$src/alpha.bin" "$TMPD/menu/client_downloads/alpha.bin" "menu item 2 downloads to ./client_downloads"
assert_match "$(sha256_of "$src/alpha.bin")" "$out" "menu item 5 shows the sha256"

# ---------------------------------------------------------------- exit codes
assert_exit 2 "no such command" ftx frobnicate
assert_exit 2 "put without files" ftx put
assert_exit 2 "get without names" ftx get
assert_exit 2 "unknown option" ftx --no-such-option ls
assert_exit 2 "bad port" timeout 10 "$FTX_BIN" --port notaport ls
assert_exit 2 "--as with two files" ftx put "$src/alpha.bin" "$src/abc" --as x
assert_exit 0 "--help" timeout 10 "$FTX_BIN" --help
assert_match '(^|[^0-9])5([^0-9]|$)' "$(cat "$OUT" "$ERR")" "--help documents the exit codes"
assert_exit_in "1 2" "put of a missing local file" ftx put "$TMPD/does-not-exist"
start_fake notftx "$src/abc"
assert_exit 3 "not an FTX/1 server" timeout 20 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" ls
stop_fake

assert_eq "" "$(temps_in "$ROOT")" "no upload temporaries left"
assert_alive "commands"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0 on SIGTERM"

# Nothing listens on the port of the server we just stopped.
assert_exit 3 "connection refused" timeout 20 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" ls
assert_match '.' "$(cat "$ERR")" "connection refused explains on stderr"
finish
