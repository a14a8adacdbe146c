#!/bin/bash
# Accounts and authorisation (issue 4, "Tests: Accounts"):
#  - `ftxd user add|del|passwd|list` manage a mode-0600 users file with
#    slow hashes only; a user added while the server runs logs in at once;
#  - login ok / fail (a failure is answered after ~1 s, with the same
#    text for an unknown user, a wrong password, an overlong one, and
#    anonymous while it is off); passwords need TLS unless
#    --allow-plaintext-login; passwords never reach the log;
#  - before login every verb but HELP, QUIT, NOOP, STARTTLS and LOGIN gets
#    ERROR AUTH (in plaintext and over TLS);
#  - per-user directories <root>/.users/<user>/ (mode 0700, never listed)
#    are created on first login;
#    users cannot read, list, hash, overwrite, delete or continue each
#    other's files, with every verb tried, and nothing in the root itself
#    is served;
#  - anonymous off / read-only / read-write; --chat-nick-is-user;
#  - the real client with --user, FTX_PASSWORD, --password-file, `login`.
# Lockout and quotas are in t_abuse.sh.
. "$(dirname "$0")/lib.sh"

need_ftxtls
isolate_client


# The seconds the reply to the N-th LOGIN of the last transcript took.
login_secs() {
	awk -v n="$1" '/^# LOGIN / { k++; want = (k == n) } want && /^# after / { print $3; exit }' "$TLS_OUT"
}

gen_cert
USERS=$TMPD/users
# Passwords with a space, '%', and a percent-escape look-alike: the
# encoding must survive both ways.
PW_A='Open sesame%20!'
PW_B='b0b-s3cret-pw'
PW_C='carol-pw-7913'
PW_A2='alice-new-pw-5521'
ALL_PW=("$PW_A" "$PW_B" "$PW_C" "$PW_A2")

# adduser NAME PASSWORD [ARGS...]
adduser() {
	local name=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | "$FTXD" user add "$name" --users "$USERS" "$@" >"$TMPD/useradd.out" 2>&1
}

# ---------------------------------------------------------------- the users file

if adduser alice "$PW_A" && adduser bob "$PW_B"; then
	pass "ftxd user add alice, bob (password from stdin)"
else
	fail "ftxd user add failed: $(cat "$TMPD/useradd.out")"
	exit 1
fi
assert_eq 600 "$(stat -c %a "$USERS")" "the users file is mode 0600"
if grep -qF -e "$PW_A" -e "$PW_B" "$USERS"; then fail "a password is in the users file"; else pass "no password in the users file"; fi
if grep -Eq '^alice:[0-9]+:(scrypt|pbkdf2)' "$USERS"; then pass "alice's password is stored as a slow hash"; else fail "no scrypt/pbkdf2 hash for alice: $(cat "$USERS")"; fi
if adduser alice other 2>/dev/null; then fail "a second alice was added"; else pass "an existing user is not added again"; fi
if adduser anonymous x; then fail "an account named anonymous was added"; else pass "the name anonymous is reserved"; fi
if adduser '../evil' x; then fail "a user named ../evil was added"; else pass "a user name with ../ is refused"; fi
list=$("$FTXD" user list --users "$USERS" 2>&1)
assert_match '^alice ' "$list" "ftxd user list shows alice"
assert_match '^bob ' "$list" "ftxd user list shows bob"

# ---------------------------------------------------------------- the gate

start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000
GATED=('UPLOAD x 1' 'DOWNLOAD x' LIST 'DELETE x' 'HASH x' 'PARTIAL x 1' 'JOIN n' LEAVE 'SAY hi'
    'MSG n hi' WHO WHOAMI TIME 'ECHO x' STATS)
gate=()
for c in "${GATED[@]}"; do
	gate+=("line:$c" 'ok:^ERROR AUTH login required$')
done
tlsc "greeting says login (no anonymous); before login, in plaintext: ERROR AUTH for every gated verb" \
    ctl 'ok:^OK FTX/1 .* login( |$)' 'not: anonymous( |$)' "${gate[@]}" \
    line:HELP 'ok:^OK [0-9]+$' line:NOOP 'ok:^OK$' \
    "login:alice:$PW_A" 'ok:^ERROR TLS login needs TLS: send STARTTLS first$' \
    line:LIST 'ok:^ERROR AUTH login required$' line:QUIT 'ok:^OK bye'
assert_no_file "$ROOT/.users/alice" "no directory for alice before she logs in"
tlsc "over TLS, before login: ERROR AUTH for every gated verb; then login works" \
    ctl starttls 'has:^TLS-UP' "${gate[@]}" line:HELP 'ok:^OK [0-9]+$' line:NOOP 'ok:^OK$' \
    "login:alice:$PW_A" 'ok:^OK alice logged in$' line:LIST 'ok:^OK 0$' \
    line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ alice$' \
    "login:alice:$PW_A" 'ok:^ERROR BUSY already logged in$' line:QUIT 'ok:^OK bye'
if [ -d "$ROOT/.users/alice" ]; then pass "<root>/.users/alice/ is created at the first login"; else fail "no $ROOT/.users/alice after login"; fi
assert_eq 700 "$(stat -c %a "$ROOT/.users" 2>&1)" "<root>/.users is mode 0700"
assert_eq 700 "$(stat -c %a "$ROOT/.users/alice" 2>&1)" "<root>/.users/alice is mode 0700"
assert_no_file "$ROOT/alice" "nothing at <root>/alice (the old layout)"
assert_no_file "$ROOT/.users/bob" "no directory for bob, who has not logged in"

tlsc "a wrong password, an unknown user and overlong credentials get the same ERROR AUTH" \
    ctl starttls "login:alice:$PW_B" 'ok:^ERROR AUTH login incorrect$' \
    "login:mallory:$PW_A" 'ok:^ERROR AUTH login incorrect$' \
    "login:alice:$(head -c 1100 /dev/zero | tr '\0' x)" 'ok:^ERROR AUTH login incorrect$' \
    "login:$(head -c 40 /dev/zero | tr '\0' a):x" 'ok:^ERROR AUTH login incorrect$' \
    line:LIST 'ok:^ERROR AUTH login required$' \
    "login:alice:$PW_A" 'ok:^OK alice logged in$'
for i in 1 2 3 4; do
	s=$(login_secs $i)
	if awk -v s="${s:-0}" 'BEGIN { exit !(s >= 0.95 && s < 5) }'; then
		pass "failed login $i answered after $s s (~1 s delay)"
	else
		fail "failed login $i answered after '$s' s, expected about 1 s"
	fi
done
# The password check itself (scrypt) takes the same time either way, and
# far longer under sanitizers: compare, do not use absolute times.
s=$(login_secs 5)
s1=$(login_secs 1)
if awk -v s="${s:-9}" -v f="${s1:-0}" 'BEGIN { exit !(f - s >= 0.6) }'; then
	pass "the successful login is not delayed ($s s against $s1 s)"
else
	fail "the successful login took '$s' s, the failed one '$s1' s"
fi
if log_has 'login user=alice failed' && log_has 'login user=mallory failed' && log_has 'login user=alice ok'; then
	pass "logins and failures are logged with the user name"
else
	fail "no 'login user=... failed/ok' lines in the log"
fi

# ---------------------------------------------------------------- isolation

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/A" 50000
mkrand "$src/B" 70000
mkrand "$src/H" 200000
mkrand "$ROOT/rootfile.txt" 1000
asha=$(sha256_of "$src/A")
hsha=$(sha256_of "$src/H")
tlsc "alice uploads secret.txt and leaves a half upload" \
    ctl starttls "login:alice:$PW_A" 'ok:^OK alice' "put:$src/A:secret.txt" "ok:^PUT-OK sha=$asha\$" \
    line:UPLOAD\ half.bin\ 200000 'ok:^OK ' data "dsend:$src/H:100000" 'ok:^SENT n=100000$' dclose \
    read 'ok:^ERROR (SHORT|TIMEOUT)' send:PARTIAL\ half.bin\ 200000 read 'ok:^OK 100000$' \
    line:DOWNLOAD\ rootfile.txt 'ok:^ERROR NOTFOUND' line:LIST 'ok:^OK 1$' 'has:^FILE 50000 .* secret\.txt$'
before=$(find "$ROOT/.users/alice" -type f -printf '%P %s\n' | LC_ALL=C sort | md5sum)

mkdir -p "$TMPD/bobdl"
tlsc "bob cannot list, hash, download, delete, continue or overwrite alice's files" \
    ctl starttls "login:bob:$PW_B" 'ok:^OK bob logged in$' \
    line:LIST 'ok:^OK 0$' 'no:secret' \
    line:HASH\ secret.txt 'ok:^ERROR NOTFOUND' \
    line:DOWNLOAD\ secret.txt 'ok:^ERROR NOTFOUND' \
    line:DELETE\ secret.txt 'ok:^ERROR NOTFOUND' \
    line:PARTIAL\ half.bin\ 200000 'ok:^OK 0$' \
    line:UPLOAD\ half.bin\ 200000\ offset=100000 'ok:^ERROR RANGE' \
    line:DOWNLOAD\ ../alice/secret.txt 'ok:^ERROR BADNAME' \
    line:DOWNLOAD\ ..%2Falice%2Fsecret.txt 'ok:^ERROR BADNAME' \
    line:HASH\ ../alice/secret.txt 'ok:^ERROR BADNAME' \
    line:DELETE\ ..%2Falice%2Fsecret.txt 'ok:^ERROR BADNAME' \
    line:UPLOAD\ ..%2Falice%2Fsecret.txt\ 5 'ok:^ERROR BADNAME' \
    line:DOWNLOAD\ .. 'ok:^ERROR BADNAME' \
    line:DOWNLOAD\ alice 'ok:^ERROR NOTFOUND' \
    line:DOWNLOAD\ rootfile.txt 'ok:^ERROR NOTFOUND' \
    "put:$src/B:secret.txt" "ok:^PUT-OK sha=$(sha256_of "$src/B")\$" \
    line:LIST 'ok:^OK 1$' 'has:^FILE 70000 .* secret\.txt$' \
    "get:secret.txt:$TMPD/bobdl/s" 'ok:^GET-OK n=70000 ' \
    line:DELETE\ secret.txt 'ok:^OK deleted secret\.txt$' line:LIST 'ok:^OK 0$'
assert_file_same "$src/A" "$ROOT/.users/alice/secret.txt" "alice's secret.txt is intact byte for byte"
assert_file_same "$src/B" "$TMPD/bobdl/s" "bob downloaded his own secret.txt"
after=$(find "$ROOT/.users/alice" -type f -printf '%P %s\n' | LC_ALL=C sort | md5sum)
assert_eq "$before" "$after" "nothing under <root>/.users/alice changed while bob worked"
assert_file "$ROOT/rootfile.txt" "the file in the root itself is untouched"
tlsc "alice still sees her file and continues her half upload" \
    ctl starttls "login:alice:$PW_A" 'ok:^OK alice' line:HASH\ secret.txt "ok:^OK 50000 $asha " \
    send:PARTIAL\ half.bin\ 200000 read 'ok:^OK 100000$' \
    line:UPLOAD\ half.bin\ 200000\ offset=100000 'ok:^OK ' data "dskip:$src/H:100000" "dsend:$src/H" \
    'ok:^SENT n=100000$' ddigest dshut read "ok:^DONE $hsha\$"
assert_file_same "$src/H" "$ROOT/.users/alice/half.bin" "alice's resumed upload is complete"

# ---------------------------------------------------------------- users added, changed, deleted while running

if adduser carol "$PW_C"; then pass "carol added while the server runs"; else fail "ftxd user add carol: $(cat "$TMPD/useradd.out")"; fi
tlsc "carol logs in at once" ctl starttls "login:carol:$PW_C" 'ok:^OK carol logged in$' line:LIST 'ok:^OK 0$'
if printf '%s\n' "$PW_A2" | "$FTXD" user passwd alice --users "$USERS" >"$TMPD/passwd.out" 2>&1; then
	pass "ftxd user passwd alice"
else
	fail "ftxd user passwd alice: $(cat "$TMPD/passwd.out")"
fi
tlsc "after passwd the old password fails and the new one works" \
    ctl starttls "login:alice:$PW_A" 'ok:^ERROR AUTH login incorrect$' "login:alice:$PW_A2" 'ok:^OK alice logged in$'
if "$FTXD" user del bob --users "$USERS" >"$TMPD/del.out" 2>&1; then pass "ftxd user del bob"; else fail "ftxd user del bob: $(cat "$TMPD/del.out")"; fi
tlsc "a deleted user cannot log in" ctl starttls "login:bob:$PW_B" 'ok:^ERROR AUTH login incorrect$'
assert_file "$ROOT/.users/bob" "deleting a user keeps their directory"

# ---------------------------------------------------------------- the real client

assert_exit 0 "ftx --user with FTX_PASSWORD: put" env FTX_PASSWORD="$PW_A2" \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user alice put "$src/B" --as client.bin
assert_file_same "$src/B" "$ROOT/.users/alice/client.bin" "the client's upload went to alice's directory"
assert_exit 0 "ftx ls as alice" env FTX_PASSWORD="$PW_A2" \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user alice ls
assert_match 'client\.bin' "$(cat "$OUT")" "ls shows alice's files"
if grep -q rootfile "$OUT"; then fail "ls shows the root's own file"; else pass "ls does not show the root's own file"; fi
printf '%s\n' "$PW_C" >"$TMPD/pwfile"
chmod 600 "$TMPD/pwfile"
assert_exit 0 "ftx login with --password-file" ftx --pin "$FP" --user carol --password-file "$TMPD/pwfile" login
assert_match '^logged in as carol$' "$(cat "$OUT")" "ftx login prints 'logged in as carol'"
assert_exit 0 "ftx ls as carol (FTX_USER) shows nothing of alice's" env FTX_USER=carol FTX_PASSWORD="$PW_C" \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" ls
if grep -q 'client\.bin\|secret' "$OUT"; then fail "carol sees alice's files: $(cat "$OUT")"; else pass "carol's ls is her own"; fi
assert_exit 7 "ftx with a wrong password exits 7" env FTX_PASSWORD=wrong-pw \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user alice ls
assert_exit 7 "ftx without --user against a login server exits 7" ftx --pin "$FP" ls </dev/null

# ---------------------------------------------------------------- anonymous

tlsc "anonymous off: LOGIN anonymous fails like a wrong password" \
    ctl starttls login:anonymous:x 'ok:^ERROR AUTH login incorrect$' line:LOGIN\ anonymous 'ok:^ERROR AUTH login incorrect$'
s=$(login_secs 1)
if awk -v s="${s:-0}" 'BEGIN { exit !(s >= 0.95) }'; then pass "... after the same delay ($s s)"; else fail "LOGIN anonymous (off) answered after '$s' s"; fi

stop_server
ANON=$ROOT/.users/anonymous
mkdir -p "$ANON"
mkrand "$ANON/pub.txt" 12345
psha=$(sha256_of "$ANON/pub.txt")
# The users' areas were moved (and that recorded) at the first start with
# accounts: a directory <root>/anonymous made since is the shared
# namespace's own, neither moved nor served to anonymous.
mkdir -p "$ROOT/anonymous"
echo decoy >"$ROOT/anonymous/decoy.txt"
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --anonymous read-only
tlsc "anonymous read-only: LIST, HASH and DOWNLOAD work; UPLOAD, DELETE, PARTIAL get ERROR PERM" \
    ctl 'ok:^OK FTX/1 .* login anonymous folders stream$' starttls login:anonymous:guest@example.org \
    'ok:^OK anonymous logged in read-only$' \
    line:LIST 'ok:^OK 1$' 'has:^FILE 12345 .* pub\.txt$' line:HASH\ pub.txt "ok:^OK 12345 $psha " \
    "get:pub.txt:$dl/pub.txt" "ok:^GET-OK n=12345 sha=$psha " \
    line:UPLOAD\ new.txt\ 10 'ok:^ERROR PERM anonymous access is read-only$' \
    line:DELETE\ pub.txt 'ok:^ERROR PERM anonymous access is read-only$' \
    line:PARTIAL\ pub.txt\ 10 'ok:^ERROR PERM anonymous access is read-only$' \
    line:DOWNLOAD\ secret.txt 'ok:^ERROR NOTFOUND' line:DOWNLOAD\ ..%2Falice%2Fsecret.txt 'ok:^ERROR BADNAME' \
    line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ anonymous$' \
    line:DOWNLOAD\ decoy.txt 'ok:^ERROR NOTFOUND'
assert_file "$ROOT/anonymous/decoy.txt" "<root>/anonymous, made after the move, is not moved"
assert_no_file "$ANON/decoy.txt" "... and not merged into the anonymous area"
tlsc "anonymous read-only: LOGIN anonymous without a password works too" \
    ctl starttls line:LOGIN\ anonymous 'ok:^OK anonymous logged in read-only$'
assert_file "$ANON/pub.txt" "pub.txt survived the read-only session"
assert_eq "" "$(visible_files "$ANON" | grep -v '^pub\.txt$')" "nothing was added to the anonymous area"
assert_exit 0 "the real client downloads anonymously" env FTX_PASSWORD=x \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user anonymous get pub.txt -o "$dl/anon"
assert_file_same "$ANON/pub.txt" "$dl/anon/pub.txt" "anonymous download through ftx"
tlsc "alice is unaffected by --anonymous" ctl starttls "login:alice:$PW_A2" 'ok:^OK alice logged in$' \
    line:DOWNLOAD\ pub.txt 'ok:^ERROR NOTFOUND'

stop_server
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --anonymous read-write
tlsc "anonymous read-write: upload and delete" ctl starttls login:anonymous:x \
    'ok:^OK anonymous logged in read-write$' "put:$src/A:up.txt" "ok:^PUT-OK sha=$asha\$" \
    line:DELETE\ pub.txt 'ok:^OK deleted'
assert_file_same "$src/A" "$ANON/up.txt" "the anonymous upload went to <root>/.users/anonymous/"
assert_no_file "$ANON/pub.txt" "the anonymous delete worked in <root>/.users/anonymous/"
assert_no_file "$ROOT/up.txt" "nothing landed in the root itself"

# ---------------------------------------------------------------- chat nicks, plaintext logins

stop_server
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --chat-nick-is-user \
    --allow-plaintext-login
tlsc "--allow-plaintext-login: LOGIN works without TLS" ctl "login:carol:$PW_C" 'ok:^OK carol logged in$'
tlsc "--chat-nick-is-user: JOIN defaults to the user name, other nicks are refused" \
    ctl "login:carol:$PW_C" 'ok:^OK carol' send:JOIN\ mallory drain:0.3 \
    'has:^ERROR PERM your nick must be your user name$' send:JOIN drain:0.3 'has:^OK carol$' \
    line:WHOAMI 'ok:^OK carol 127\.0\.0\.1:[0-9]+ carol$'
stop_server
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --allow-plaintext-login
tlsc "without --chat-nick-is-user: JOIN defaults to the user name, another nick is allowed" \
    ctl "login:carol:$PW_C" 'ok:^OK carol' send:JOIN drain:0.3 'has:^OK carol$' send:LEAVE drain:0.3 \
    send:JOIN\ zed drain:0.3 'has:^OK zed$'

# ---------------------------------------------------------------- default users file, no accounts

stop_server
cp "$USERS" "$TMPD/ftxd.users"
start_server "${TLS[@]}"
tlsc "the default users file is <root>/../ftxd.users" ctl 'ok:^OK FTX/1 .* login' starttls \
    "login:carol:$PW_C" 'ok:^OK carol logged in$'
stop_server
rm -f "$TMPD/ftxd.users"
start_server "${TLS[@]}"
tlsc "without a users file: no login needed, LOGIN says so; the users' areas are not listed" \
    ctl 'not: login' line:LIST 'ok:^OK [0-9]+$' 'has:^FILE 1000 .* rootfile\.txt$' 'no:\.users' 'no:\.ftx' \
    'no: (alice|bob|carol|anonymous)$' line:DOWNLOAD\ .users 'ok:^ERROR BADNAME' \
    starttls "login:carol:$PW_C" 'ok:^ERROR AUTH no accounts on this server$'

# ---------------------------------------------------------------- secrets

leaks=0
for pw in "${ALL_PW[@]}" $(for p in "${ALL_PW[@]}"; do proto_encode "$p"; echo; done); do
	if grep -rqF -- "$pw" "$TMPD"/ftxd.*.log "$TMPD"/ftxd.*.log.out "$TMPD"/tls.*.out 2>/dev/null; then
		leaks=$((leaks + 1))
		echo "password '$pw' found in a log" >&2
	fi
done
assert_eq 0 "$leaks" "no password appears in the server logs or transcripts"

# ---------------------------------------------------------------- planted links, one writer per partial

# Passwords with spaces: the LOGIN line carries them percent-encoded, so
# the line and the password can be told apart in memory.
PW_D='dave pw 6610'
PW_E='erin-pw-6611'
PW_F='frank pw 9933'
PW_WRONG='wrong pw 4242'
for u in dave:"$PW_D" erin:"$PW_E" frank:"$PW_F"; do
	adduser "${u%%:*}" "${u#*:}" || fail "ftxd user add ${u%%:*}: $(cat "$TMPD/useradd.out")"
done
# Before dave's and erin's first login, someone with access to the root
# plants <root>/.users/dave -> alice (another user's area) and
# <root>/.users/erin -> a directory outside the root.
mkdir -p "$TMPD/outside"
echo "outside the root" >"$TMPD/outside/mine.txt"
ln -s alice "$ROOT/.users/dave"
ln -s ../../outside "$ROOT/.users/erin"
alice_before=$(find "$ROOT/.users/alice" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)
outside_before=$(find "$TMPD/outside" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)
stop_server
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --allow-plaintext-login
tlsc "dave's directory is a planted symlink to alice's: the login fails, nothing is served" \
    ctl starttls "login:dave:$PW_D" 'ok:^ERROR ' line:LIST 'ok:^ERROR AUTH login required$' \
    line:DOWNLOAD\ secret.txt 'ok:^ERROR AUTH login required$' line:QUIT 'ok:^OK bye'
tlsc "erin's directory is a planted symlink out of the root: the login fails" \
    ctl starttls "login:erin:$PW_E" 'ok:^ERROR ' line:LIST 'ok:^ERROR AUTH login required$' \
    "put:$src/A:planted.txt" 'ok:^PUT-REFUSED ERROR AUTH'
if log_has 'login error: .*(dave|erin)'; then pass "the refused directories are logged"; else fail "no 'login error' for dave or erin in the log"; fi
assert_eq "$alice_before" "$(find "$ROOT/.users/alice" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)" \
    "alice's directory is untouched"
if [ -L "$ROOT/.users/dave" ] && [ -L "$ROOT/.users/erin" ]; then
	pass "the planted links are left as they were"
else
	fail "a planted link under <root>/.users was replaced"
fi
assert_eq "$outside_before" "$(find "$TMPD/outside" -printf '%P %s %T@\n' | LC_ALL=C sort | md5sum)" \
    "the directory outside the root is untouched (no .ftx, no file)"
rm -f "$ROOT/.users/erin"
tlsc "control: without the link erin logs in and gets a directory of her own" \
    ctl starttls "login:erin:$PW_E" 'ok:^OK erin logged in$' "put:$src/A:mine.txt" 'ok:^PUT-OK'
if [ -d "$ROOT/.users/erin" ] && [ ! -L "$ROOT/.users/erin" ]; then
	pass "<root>/.users/erin is a real directory"
else
	fail "<root>/.users/erin is not a directory"
fi
assert_file_same "$src/A" "$ROOT/.users/erin/mine.txt" "erin's upload landed in her directory"

# Two resumable uploads of the same name and size by the same user: the
# second data connection gets ERROR BUSY while the first holds the
# partial, and the first finishes intact (no interleaved bytes).
mkrand "$src/P" 200000
raw "one writer per partial: the second upload of the same file by carol gets ERROR BUSY" -t 10 -w 60 \
    ctl "line:LOGIN carol $PW_C" 'ok:^OK carol logged in$' 'line:UPLOAD both.bin 200000' 'ok:^OK ' \
    data "dsend:$src/P:80000" 'ok:^SENT n=80000$' sleep:0.3 \
    ctl "line:LOGIN carol $PW_C" 'ok:^OK carol logged in$' 'line:UPLOAD both.bin 200000' 'ok:^OK ' \
    data dgen:5000 read 'ok:^ERROR BUSY' close \
    dsel:0 "dsend:$src/P" 'ok:^SENT n=120000$' ddigest dshut read "ok:^DONE $(sha256_of "$src/P")\$"
assert_file_same "$src/P" "$ROOT/.users/carol/both.bin" "the first upload committed intact"
if log_has 'xfer upload name=both\.bin .*result=BUSY'; then pass "the refused upload is logged as BUSY"; else fail "no result=BUSY for both.bin in the log"; fi

# ---------------------------------------------------------------- passwords in ftxd's memory

# After a plaintext login, right and wrong, no copy of the password or of
# the LOGIN line that carried it is left in ftxd's memory (the session's
# line buffer, the login job).  Plaintext: a TLS session's copies inside
# OpenSSL are out of reach (docs/SECURITY.md).
# mem_maps PID NEEDLE: the writable mappings of PID that hold NEEDLE
# (mappings over 256 MiB are reservations, e.g. a sanitizer's shadow).
mem_maps() {
	local pid=$1 needle=$2 range perms rest s e
	while read -r range perms rest; do
		case $perms in rw*) ;; *) continue ;; esac
		s=$((16#${range%-*}))
		e=$((16#${range#*-}))
		[ $((e - s)) -le $((256 * 1024 * 1024)) ] || continue
		if dd if="/proc/$pid/mem" bs=65536 iflag=skip_bytes,count_bytes skip="$s" \
		    count=$((e - s)) status=none 2>/dev/null | grep -a -q -F -- "$needle"; then
			echo "$range $perms $rest"
		fi
	done <"/proc/$pid/maps"
}
raw_bg "$TMPD/mem.raw" -t 10 -w 30 ctl "line:LOGIN frank $(proto_encode "$PW_WRONG")" 'ok:^ERROR AUTH' \
    "line:LOGIN frank $(proto_encode "$PW_F")" 'ok:^OK frank logged in$' line:WHOAMI sleep:20
MEMRAW_PID=$BG_PID
if wait_for 10 grep -q '^< OK - ' "$TMPD/mem.raw"; then
	if [ -n "${FTX_WRAP:-}" ]; then
		echo "note: the server runs under $FTX_WRAP; memory checks skipped"
	elif [ -z "$(mem_maps "$SERVER_PID" 'frank logged in')" ]; then
		echo "note: cannot read /proc/$SERVER_PID/mem (ptrace restrictions?); memory checks skipped"
	else
		pass "control: ftxd's memory is readable (the reply 'frank logged in' is found)"
		for needle in "$PW_F" "$(proto_encode "$PW_F")" "$PW_WRONG" "$(proto_encode "$PW_WRONG")"; do
			where=$(mem_maps "$SERVER_PID" "$needle")
			assert_eq "" "$where" "no '$needle' left in ftxd's memory after the logins"
		done
	fi
else
	fail "frank's logins did not complete: $(cat "$TMPD/mem.raw")"
fi
# The session was held open for the scan; it has served its purpose.
kill -TERM "$MEMRAW_PID" 2>/dev/null
wait_pid "$MEMRAW_PID" 5

# ---------------------------------------------------------------- the users file's edit lock

# A symlink planted as <users>.lock must not make `ftxd user` create or
# lock another file.
U2=$TMPD/users2
cp "$USERS" "$U2"
chmod 600 "$U2"
usum=$(sha256_of "$U2")
echo "precious" >"$TMPD/lock-target"
tsum=$(sha256_of "$TMPD/lock-target")
ln -s lock-target "$U2.lock"
if printf 'x\n' | "$FTXD" user add gina --users "$U2" >"$TMPD/lock.out" 2>&1; then
	fail "ftxd user add went through a symlinked lock file"
else
	pass "ftxd user add refuses a symlink as the lock file"
fi
assert_match 'lock' "$(cat "$TMPD/lock.out")" "... and says the lock file is the problem"
if "$FTXD" user del carol --users "$U2" >"$TMPD/lock.out" 2>&1; then
	fail "ftxd user del went through a symlinked lock file"
else
	pass "ftxd user del refuses it too"
fi
assert_eq "$tsum" "$(sha256_of "$TMPD/lock-target")" "the symlink's target is untouched"
assert_eq "$usum" "$(sha256_of "$U2")" "the users file is unchanged"
rm -f "$U2.lock"
ln -s no-such-file "$U2.lock"
if printf 'x\n' | "$FTXD" user add gina --users "$U2" >"$TMPD/lock.out" 2>&1; then
	fail "ftxd user add went through a dangling symlinked lock file"
else
	pass "a dangling symlink as the lock file is refused"
fi
assert_no_file "$TMPD/no-such-file" "the dangling symlink's target was not created"
rm -f "$U2.lock"
if printf 'x\n' | "$FTXD" user add gina --users "$U2" >"$TMPD/lock.out" 2>&1; then
	pass "control: without the symlink ftxd user add works"
else
	fail "control: ftxd user add gina: $(cat "$TMPD/lock.out")"
fi

# `ftxd user add` hashes the password before it takes the lock: while we
# hold the lock it waits there, and by then the password must be gone
# from its memory (usercmd.c new_hash).
PW_H='henry pw 5150'
if command -v flock >/dev/null 2>&1; then
	# -o: only flock itself holds the lock, not its sleep.
	flock -o "$U2.lock" sleep 20 &
	FLOCK_PID=$!
	track_pid "$FLOCK_PID"
	disown "$FLOCK_PID" # no "Killed" job notice when we end it
	wait_for 5 test -e "$U2.lock"
	printf '%s\n' "$PW_H" | "$FTXD" user add henry --users "$U2" >"$TMPD/henry.out" 2>&1 &
	HENRY_PID=$!
	track_pid "$HENRY_PID"
	if wait_for 5 grep -q lock "/proc/$HENRY_PID/wchan" 2>/dev/null; then
		if [ -z "$(mem_maps "$HENRY_PID" 'henry')" ]; then
			echo "note: cannot read /proc/$HENRY_PID/mem; the password wipe is not checked"
		else
			pass "control: the memory of the waiting ftxd user add is readable"
			assert_eq "" "$(mem_maps "$HENRY_PID" "$PW_H")" \
			    "the password is gone from ftxd user add's memory once hashed"
		fi
	else
		echo "note: cannot tell that ftxd user add waits for the lock (wchan: $(cat "/proc/$HENRY_PID/wchan" 2>&1))"
	fi
	kill_tree "$FLOCK_PID"
	wait_pid "$HENRY_PID" 10
	assert_eq 0 "$WAIT_RC" "ftxd user add went on once the lock was free"
else
	echo "note: flock(1) is not installed; the password wipe of ftxd user add is not checked"
fi

# ---------------------------------------------------------------- data connections without a token

# At most --max-per-ip silent data connections per address, and at the
# global cap (1024) the oldest is evicted, so a real transfer still gets
# through a flood.  The flood comes from tests/tools/ftxload.
FTXLOAD=$FTX_BUILD/tools/ftxload
hard=$(ulimit -Hn)
if [ ! -x "$FTXLOAD" ]; then
	fail "$FTXLOAD is not built (make tools)"
elif [ "$hard" != unlimited ] && [ "$hard" -lt 2400 ]; then
	echo "note: RLIMIT_NOFILE hard limit $hard is below 2400: data-connection caps not tested"
else
	ulimit -Sn "$hard"
	stop_server
	ROOT=$TMPD/root.caps
	mkdir -p "$ROOT"
	start_server --max-per-ip 5
	"$FTXLOAD" -p "$CTRL_PORT" slowloris 0 --data 8 --data-port "$DATA_PORT" --deadline 1 \
	    >"$TMPD/load1.out" 2>&1
	assert_match '^slowloris data n=8 connected=8 closed=3 ' "$(cat "$TMPD/load1.out")" \
	    "--max-per-ip 5: of 8 silent data connections from one address 3 are closed at once"
	mx=$(sed -n -E 's/^slowloris data .* max_s=([0-9.]+) .*/\1/p' "$TMPD/load1.out")
	if awk -v m="${mx:-9}" 'BEGIN { exit !(m < 1) }'; then pass "... within ${mx} s"; else fail "... after ${mx} s"; fi
	stop_server
	start_server --max-clients 2000 --max-per-ip 2000
	"$FTXLOAD" -p "$CTRL_PORT" slowloris 0 --data 1100 --data-port "$DATA_PORT" --deadline 8 \
	    >"$TMPD/load2.out" 2>&1 &
	LOAD_PID=$!
	track_pid "$LOAD_PID"
	evictions() { grep -c 'data-reject reason=evicted' "$LOG"; }
	if wait_for 8 eval '[ "$(evictions)" -ge 76 ]'; then
		pass "1100 silent data connections: the 76 over the cap of 1024 evicted the oldest"
	else
		fail "evictions: $(evictions) of 76"
	fi
	mkrand "$src/flood" 100000
	assert_exit 0 "a real upload gets through while 1024 silent data connections are held" \
	    ftx put "$src/flood"
	assert_file_same "$src/flood" "$ROOT/flood" "the upload during the flood is intact"
	assert_eq 77 "$(evictions)" "its data connection evicted one more silent one"
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait_pid "$LOAD_PID" 10
	assert_alive "the data-connection flood"
fi

leaks=0
for pw in "$PW_D" "$PW_E" "$PW_F" "$PW_H" "$PW_WRONG" "$(proto_encode "$PW_F")" "$(proto_encode "$PW_WRONG")"; do
	if grep -rqF -- "$pw" "$TMPD"/ftxd.*.log "$TMPD"/ftxd.*.log.out 2>/dev/null; then
		leaks=$((leaks + 1))
		echo "password '$pw' found in a server log" >&2
	fi
done
assert_eq 0 "$leaks" "no password of the sections above appears in the server logs"

finish
