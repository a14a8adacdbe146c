#!/bin/bash
# The logs under attack (issue 11, items 8 and 11):
#  - everything a peer sends that reaches a log (file names, user names,
#    chat text) is escaped by log_esc: a name full of shell syntax,
#    quotes, UTF-8, a C1 control or a tab shows as %XX in the text log,
#    the JSON log and the xferlog, and no log holds a byte outside
#    printable ASCII; the same names still upload, list and download;
#  - the xferlog names the logged-in user (access mode r, user alice);
#    an anonymous session is logged as before (a, user -);
#  - names with C1 controls (as UTF-8 and as raw bytes), malformed UTF-8
#    or bidi controls get ERROR BADNAME, on every verb, raw and encoded;
#  - a symlink, hard link or FIFO planted as the log file or xferlog is
#    refused at start-up (ftxd exits 1, saying why on stderr) and on
#    SIGHUP (the old file stays open and says why); the target is never
#    touched.  As root, the DEPLOY.md layout: --user nobody with the log
#    directory owned by nobody: the service user's symlink to a root
#    file is refused before and after the drop; a directory above the
#    log's own owned by the service user is refused too.
. "$(dirname "$0")/lib.sh"

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/f" 5000

# only_printable FILE DESC: every byte is printable ASCII or LF.
only_printable() {
	local bad
	bad=$(LC_ALL=C grep -c '[^ -~]' "$1")
	if [ "$bad" = 0 ]; then
		pass "$2: printable ASCII only"
	else
		fail "$2: $bad lines with other bytes:"
		LC_ALL=C grep -n '[^ -~]' "$1" | head -n 3 | od -c | head -n 8 >&2
	fi
}

# ================================================================ escaping

USERS=$TMPD/users
add_user alice 'pw-of-alice-123'
XLOG=$TMPD/x.xferlog
mkdir -p "$TMPD/root/.users/anonymous"
mkrand "$TMPD/root/.users/anonymous/pub" 3000
start_server --xferlog "$XLOG" --log-chat --users "$USERS" --allow-plaintext-login --anonymous read-only
hostile=$'semi;colon $(touch pwned) `id` \'q\' "dq" &|<>*?!#~ caf\xc3\xa9'
hostile_esc='semi%3Bcolon%20%24%28touch%20pwned%29%20%60id%60%20%27q%27%20%22dq%22%20%26%7C%3C%3E%2A%3F%21%23%7E%20caf%C3%A9'
FTX_PASSWORD=pw-of-alice-123 assert_exit 0 "put a name full of shell syntax" \
    ftx --allow-plaintext-password --user alice put "$src/f" --as "$hostile"
FTX_PASSWORD=pw-of-alice-123 assert_exit 0 "get it back" ftx --allow-plaintext-password --user alice get "$hostile" -o "$dl"
assert_file_same "$src/f" "$dl/$hostile" "the hostile name round-trips"
raw "hostile user names, chat text and names to log" -w 20 ctl \
    'line:LOGIN ev%C2%9Bil%3B$(id) wrong' 'ok:^ERROR AUTH ' \
    'line:LOGIN alice pw-of-alice-123' 'ok:^OK alice logged in' \
    'line:HASH c1%C2%9Bcsi' 'ok:^ERROR BADNAME ' \
    'line:HASH tab%09x;y' 'ok:^ERROR BADNAME ' \
    'line:JOIN rawr' 'ok:^OK rawr$' read 'ok:^JOIN ' \
    'raw:SAY hi $(touch pwned2); `id` caf%C3%A9 \xc3\xa9\n' read 'ok:^MSG ' read 'ok:^OK$'
wait_for 5 grep -q ' /semi' "$XLOG" || fail "no xferlog line"
wait_for 5 grep -q 'chat say' "$LOG" || fail "no chat line"
assert_match "xfer upload name=$hostile_esc bytes=5000 " "$(cat "$LOG")" "upload logged escaped"
assert_match "xfer download name=$hostile_esc bytes=5000 " "$(cat "$LOG")" "download logged escaped"
assert_match "cmd UPLOAD $hostile_esc" "$(cat "$LOG")" "the command logged escaped"
assert_match 'login user=ev%C2%9Bil%3B%24%28id%29 failed' "$(cat "$LOG")" "a hostile user name logged escaped"
assert_match 'cmd HASH c1%C2%9Bcsi' "$(cat "$LOG")" "a C1 name logged escaped"
assert_match 'cmd HASH tab%09x%3By' "$(cat "$LOG")" "a tab logged escaped"
assert_match 'text=hi%20%24%28touch%20pwned2%29%3B%20%60id%60%20caf%25C3%25A9%20%C3%A9' \
    "$(cat "$LOG")" "chat text logged escaped (--log-chat)"
assert_eq 1 "$(awk 'NF == 18 && $9 == "/'"$hostile_esc"'" && $12 == "i"' "$XLOG" | wc -l)" \
    "xferlog: the name is one escaped field, 18 fields"
# The xferlog names the account (access mode r, wu-ftpd's "real user");
# an anonymous session keeps the anonymous form (a, user -).
assert_eq "i r alice,o r alice," "$(awk '$9 == "/'"$hostile_esc"'" { printf "%s %s %s,", $12, $13, $14 }' "$XLOG")" \
    "xferlog: alice's upload and download are logged as real user alice"
FTX_PASSWORD=x assert_exit 0 "an anonymous download" ftx --allow-plaintext-password --user anonymous get pub -o "$dl"
wait_for 5 grep -q ' /pub ' "$XLOG" || fail "no xferlog line for the anonymous download"
assert_eq "3000 o a -" "$(awk 'NF == 18 && $9 == "/pub" { print $8, $12, $13, $14 }' "$XLOG")" \
    "xferlog: an anonymous download is logged as anonymous, user -"
for f in "$LOG" "$XLOG"; do
	only_printable "$f" "$(basename "$f")"
	if LC_ALL=C grep -qE '\$\(|;colon|`' "$f"; then
		fail "$(basename "$f") holds shell syntax verbatim"
	else
		pass "$(basename "$f"): no '\$(', ';' or backquote from a peer"
	fi
done
assert_no_file "$TMPD/pwned" "nothing ran"
stop_server

# The JSON log too.
ROOT=$TMPD/root2
mkdir -p "$ROOT"
start_server --log-format json
assert_exit 0 "put (json log)" ftx put "$src/f" --as "$hostile"
raw "a C1 name (json log)" ctl 'line:HASH c1%C2%9Bcsi' 'ok:^ERROR BADNAME '
wait_for 5 grep -q '"event":"xfer"' "$LOG" || fail "no json xfer line"
assert_match "\"msg\":\"xfer upload name=$hostile_esc " "$(cat "$LOG")" "json: name escaped"
assert_match '"msg":"cmd HASH c1%C2%9Bcsi"' "$(cat "$LOG")" "json: C1 name escaped"
only_printable "$LOG" "json log"
stop_server

# ================================================================ names

ROOT=$TMPD/root3
mkdir -p "$ROOT"
start_server
steps=(ctl 'ok:^OK FTX/1')
for name in c1%C2%9Bcsi nel%C2%85 %C2%80 raw%9Bbyte %80 latin%E9 \
    over%C0%AFlong %C0%80nul surr%ED%A0%80 big%F4%90%80%80 cut%E2%82 %F8%88%80%80%80 \
    rlo%E2%80%AEtxt.exe lre%E2%80%AA pdf%E2%80%AC lri%E2%81%A6x pdi%E2%81%A9; do
	steps+=("line:UPLOAD $name 3" 'ok:^ERROR BADNAME ' "line:DOWNLOAD $name" 'ok:^ERROR BADNAME '
	    "line:DELETE $name" 'ok:^ERROR BADNAME ' "line:HASH $name" 'ok:^ERROR BADNAME '
	    "line:PARTIAL $name 3" 'ok:^ERROR BADNAME ')
done
# The same bytes raw on the line, not percent-encoded.
steps+=('raw:UPLOAD c1\xc2\x9bcsi 3\n' read 'ok:^ERROR BADNAME '
    'raw:UPLOAD raw\x9bbyte 3\n' read 'ok:^ERROR BADNAME '
    'raw:UPLOAD rlo\xe2\x80\xaetxt.exe 3\n' read 'ok:^ERROR BADNAME '
    'raw:UPLOAD surr\xed\xa0\x80 3\n' read 'ok:^ERROR BADNAME ')
# Their neighbours are fine: U+00A0, U+2029, U+202F, U+206A.
steps+=('line:HASH nb%C2%A0sp' 'ok:^ERROR NOTFOUND' 'line:HASH x%E2%80%AF%E2%81%AA%E2%80%A9' 'ok:^ERROR NOTFOUND')
steps+=('line:NOOP' 'ok:^OK$' 'line:LIST' 'ok:^OK 0$')
raw "C1, malformed UTF-8 and bidi names: ERROR BADNAME on every verb" "${steps[@]}"
assert_exit 2 "ftx refuses a C1 name" ftx put "$src/f" --as $'c1\xc2\x9bcsi'
assert_exit 2 "ftx refuses a bidi name" ftx put "$src/f" --as $'rlo\xe2\x80\xaetxt.exe'
assert_exit 0 "a legitimate UTF-8 name still uploads" ftx put "$src/f" --as $'nb\xc2\xa0sp \xe2\x80\xaf.bin'
assert_eq $'nb\xc2\xa0sp \xe2\x80\xaf.bin' "$(visible_files "$ROOT")" "only the legitimate name was stored"
stop_server

# ================================================================ planted files

victim=$TMPD/victim
printf 'precious\n' >"$victim"
chmod 0644 "$victim"
vsum=$(sha256sum <"$victim")
mkdir -p "$TMPD/lroot"
BASE_ARGS=(--bind 127.0.0.1 --port 0 --data-port 0 --root "$TMPD/lroot" --no-udp-echo)

# refuse_start DESC WHY ARGS...: ftxd exits 1 at once, naming WHY on stderr.
refuse_start() {
	local desc=$1 why=$2 rc
	shift 2
	timeout 10 "$FTXD" "${BASE_ARGS[@]}" "$@" >"$TMPD/refuse.out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "$why" "$TMPD/refuse.out"; then
		pass "$desc: refused at start ($(head -c 160 "$TMPD/refuse.out"))"
	else
		fail "$desc: exit $rc: $(head -c 300 "$TMPD/refuse.out")"
	fi
	assert_eq "$vsum" "$(sha256sum <"$victim")" "$desc: the target is untouched"
}

mkdir -p "$TMPD/plant"
ln -s "$victim" "$TMPD/plant/ftxd.log"
refuse_start "a symlink as the log" "symbolic link" $ALLOW_ROOT --log "$TMPD/plant/ftxd.log"
refuse_start "a symlink as the xferlog" "symbolic link" $ALLOW_ROOT --log "$TMPD/plant/ok.log" \
    --xferlog "$TMPD/plant/ftxd.log"
rm -f "$TMPD/plant/ftxd.log"
ln -s "$TMPD/plant/nosuch" "$TMPD/plant/ftxd.log"
refuse_start "a dangling symlink as the log" "symbolic link" $ALLOW_ROOT --log "$TMPD/plant/ftxd.log"
assert_no_file "$TMPD/plant/nosuch" "a dangling symlink's target is not created"
rm -f "$TMPD/plant/ftxd.log"
ln "$victim" "$TMPD/plant/ftxd.log"
refuse_start "a hard link as the log" "hard links" $ALLOW_ROOT --log "$TMPD/plant/ftxd.log"
rm -f "$TMPD/plant/ftxd.log"
mkfifo "$TMPD/plant/ftxd.log"
refuse_start "a FIFO as the log" "ftxd.log" $ALLOW_ROOT --log "$TMPD/plant/ftxd.log"
rm -f "$TMPD/plant/ftxd.log"
mkdir -m 0777 "$TMPD/open"
chmod 0777 "$TMPD/open"
refuse_start "a log in a world-writable directory" "writable by everyone" $ALLOW_ROOT \
    --log "$TMPD/open/ftxd.log"
assert_no_file "$TMPD/open/ftxd.log" "nothing created in the world-writable directory"

# start_logged LOGFILE ARGS...: start ftxd logging to LOGFILE (not lib's
# LOG) and wait for its listening line; sets SERVER_PID, CTRL_PORT.
start_logged() {
	local log=$1 line=
	shift
	"$FTXD" "${BASE_ARGS[@]}" --log "$log" "$@" >"$TMPD/logged.out" 2>&1 &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
	wait_for 5 grep -q 'listening control=' "$log" 2>/dev/null
	line=$(grep -h -m 1 'listening control=' "$log" 2>/dev/null)
	CTRL_PORT=$(printf '%s\n' "$line" | sed -E 's/.*control=[^ ]*:([0-9]+).*/\1/')
	if ! [[ "$CTRL_PORT" =~ ^[0-9]+$ ]]; then
		fail "ftxd did not start: $(cat "$TMPD/logged.out")"
		return 1
	fi
	export CTRL_PORT
}

# sighup_attack DIR AS: with ftxd logging to DIR/ftxd.log, rotate it and
# plant a symlink to the victim as the new log (as user AS), SIGHUP:
# the reopen is refused, said in the old file, and ftxd goes on.
sighup_attack() {
	local dir=$1 as=$2
	mv "$dir/ftxd.log" "$dir/ftxd.log.1"
	if [ "$as" = root ]; then
		ln -s "$victim" "$dir/ftxd.log"
	else
		su -s /bin/sh "$as" -c "ln -s '$victim' '$dir/ftxd.log'"
	fi
	kill -HUP "$SERVER_PID"
	if wait_for 5 grep -q 'reload: refusing log .*symbolic link' "$dir/ftxd.log.1"; then
		pass "SIGHUP: the planted log symlink is refused, said in the old log"
	else
		fail "SIGHUP: no refusal in the old log: $(grep reload "$dir/ftxd.log.1" | tail -n 3)"
	fi
	assert_eq "$vsum" "$(sha256sum <"$victim")" "SIGHUP: the target is untouched"
	assert_exit 0 "a client is still served after the refused reopen" ftx put "$src/f" --as after-hup
	wait_for 5 grep -q 'name=after-hup' "$dir/ftxd.log.1" ||
		fail "later lines do not go to the old log"
	assert_eq "$vsum" "$(sha256sum <"$victim")" "the target is still untouched"
}

rm -rf "$TMPD/plant"
mkdir -p "$TMPD/plant"
start_logged "$TMPD/plant/ftxd.log" $ALLOW_ROOT && {
	assert_alive "started with a checked log"
	sighup_attack "$TMPD/plant" root
	stop_server
}

# As root: the DEPLOY.md layout, --user nobody with the log directory
# owned by nobody, and the service user plants the symlink.
if [ "$IS_ROOT" = 1 ] && id nobody >/dev/null 2>&1 && command -v su >/dev/null 2>&1; then
	chmod 0711 "$TMPD"
	chmod 0644 "$victim"
	mkdir -p "$TMPD/svc/log" "$TMPD/svc/root"
	chown nobody "$TMPD/svc/log" "$TMPD/svc/root"
	chmod 0750 "$TMPD/svc/log"
	BASE_ARGS=(--bind 127.0.0.1 --port 0 --data-port 0 --root "$TMPD/svc/root" --no-udp-echo)
	su -s /bin/sh nobody -c "ln -s '$victim' '$TMPD/svc/log/ftxd.log'"
	refuse_start "--user nobody: nobody's symlink as the log" "symbolic link" \
	    --user nobody --log "$TMPD/svc/log/ftxd.log"
	refuse_start "--user nobody: nobody's symlink as the xferlog" "symbolic link" \
	    --user nobody --log "$TMPD/svc/log/other.log" --xferlog "$TMPD/svc/log/ftxd.log"
	rm -f "$TMPD/svc/log/ftxd.log"
	# A file of nobody's is fine (logrotate creates them so); another
	# user's is not.
	su -s /bin/sh nobody -c "umask 027; : >'$TMPD/svc/log/ftxd.log'"
	start_logged "$TMPD/svc/log/ftxd.log" --user nobody && {
		assert_eq nobody "$(stat -c %U /proc/$SERVER_PID)" "serving as nobody"
		assert_exit 0 "a client is served (log owned by nobody)" ftx put "$src/f" --as legit
		sighup_attack "$TMPD/svc/log" nobody
		stop_server
	}
	rm -f "$TMPD/svc/log/"*
	: >"$TMPD/svc/log/ftxd.log"
	chown daemon "$TMPD/svc/log/ftxd.log"
	refuse_start "--user nobody: a log file of another user" "belongs to uid" \
	    --user nobody --log "$TMPD/svc/log/ftxd.log"
	rm -f "$TMPD/svc/log/"*
	# Only the log's own directory may be the service user's.
	mkdir "$TMPD/svc/log/sub"
	refuse_start "--user nobody: a directory above the log's owned by nobody" "belongs to uid" \
	    --user nobody --log "$TMPD/svc/log/sub/ftxd.log"
else
	echo "SKIP (part): not root, or no user nobody / su: the --user layout is not tested"
fi
finish
