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
#  - per-user directories <root>/<user>/ are created on first login;
#    users cannot read, list, hash, overwrite, delete or continue each
#    other's files, with every verb tried, and nothing in the root itself
#    is served;
#  - anonymous off / read-only / read-write; --chat-nick-is-user;
#  - the real client with --user, FTX_PASSWORD, --password-file, `login`.
# Lockout and quotas are in t_abuse.sh.
. "$(dirname "$0")/lib.sh"

FTXTLS=$FTX_BUILD/tools/ftxtls
if [ ! -x "$FTXTLS" ]; then
	fail "$FTXTLS is not built (make tools)"
	exit 1
fi
export HOME=$TMPD/home
mkdir -p "$HOME"
unset FTX_TLS FTX_USER FTX_PASSWORD FTX_KNOWN_HOSTS FTX_HOST FTX_PORT
export FTX_RETRIES=0

TLS_N=0
TLS_OUT=
tlsc() {
	local desc=$1 rc
	shift
	TLS_N=$((TLS_N + 1))
	TLS_OUT=$TMPD/tls.$TLS_N.out
	"$FTXTLS" -h 127.0.0.1 -p "$CTRL_PORT" -t 10 -w 60 "$@" >"$TLS_OUT" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc (ftxtls exit $rc); transcript:"
		sed 's/^/    /' "$TLS_OUT" | tail -n 40 >&2
	fi
	return 0
}

# The seconds the reply to the N-th LOGIN of the last transcript took.
login_secs() {
	awk -v n="$1" '/^# LOGIN / { k++; want = (k == n) } want && /^# after / { print $3; exit }' "$TLS_OUT"
}

"$FTXD" --gen-cert "$TMPD/cert" >"$TMPD/gencert.out" 2>&1 || {
	fail "--gen-cert failed: $(cat "$TMPD/gencert.out")"
	exit 1
}
FP=$(grep -o -m 1 -E 'SHA256:[0-9a-f]{64}' "$TMPD/gencert.out")
TLS=(--tls-cert "$TMPD/cert/ftxd.crt" --tls-key "$TMPD/cert/ftxd.key")
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
assert_no_file "$ROOT/alice" "no directory for alice before she logs in"
tlsc "over TLS, before login: ERROR AUTH for every gated verb; then login works" \
    ctl starttls 'has:^TLS-UP' "${gate[@]}" line:HELP 'ok:^OK [0-9]+$' line:NOOP 'ok:^OK$' \
    "login:alice:$PW_A" 'ok:^OK alice logged in$' line:LIST 'ok:^OK 0$' \
    line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ alice$' \
    "login:alice:$PW_A" 'ok:^ERROR BUSY already logged in$' line:QUIT 'ok:^OK bye'
if [ -d "$ROOT/alice" ]; then pass "<root>/alice/ is created at the first login"; else fail "no $ROOT/alice after login"; fi
assert_no_file "$ROOT/bob" "no directory for bob, who has not logged in"

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
    read 'ok:^ERROR (SHORT|TIMEOUT)' line:PARTIAL\ half.bin\ 200000 'ok:^OK 100000$' \
    line:DOWNLOAD\ rootfile.txt 'ok:^ERROR NOTFOUND' line:LIST 'ok:^OK 1$' 'has:^FILE 50000 .* secret\.txt$'
before=$(find "$ROOT/alice" -type f -printf '%P %s\n' | LC_ALL=C sort | md5sum)

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
assert_file_same "$src/A" "$ROOT/alice/secret.txt" "alice's secret.txt is intact byte for byte"
assert_file_same "$src/B" "$TMPD/bobdl/s" "bob downloaded his own secret.txt"
after=$(find "$ROOT/alice" -type f -printf '%P %s\n' | LC_ALL=C sort | md5sum)
assert_eq "$before" "$after" "nothing under <root>/alice changed while bob worked"
assert_file "$ROOT/rootfile.txt" "the file in the root itself is untouched"
tlsc "alice still sees her file and continues her half upload" \
    ctl starttls "login:alice:$PW_A" 'ok:^OK alice' line:HASH\ secret.txt "ok:^OK 50000 $asha " \
    line:PARTIAL\ half.bin\ 200000 'ok:^OK 100000$' \
    line:UPLOAD\ half.bin\ 200000\ offset=100000 'ok:^OK ' data "dskip:$src/H:100000" "dsend:$src/H" \
    'ok:^SENT n=100000$' ddigest dshut read "ok:^DONE $hsha\$"
assert_file_same "$src/H" "$ROOT/alice/half.bin" "alice's resumed upload is complete"

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
assert_file "$ROOT/bob" "deleting a user keeps their directory"

# ---------------------------------------------------------------- the real client

assert_exit 0 "ftx --user with FTX_PASSWORD: put" env FTX_PASSWORD="$PW_A2" \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user alice put "$src/B" --as client.bin
assert_file_same "$src/B" "$ROOT/alice/client.bin" "the client's upload went to alice's directory"
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
mkdir -p "$ROOT/anonymous"
mkrand "$ROOT/anonymous/pub.txt" 12345
psha=$(sha256_of "$ROOT/anonymous/pub.txt")
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --anonymous read-only
tlsc "anonymous read-only: LIST, HASH and DOWNLOAD work; UPLOAD, DELETE, PARTIAL get ERROR PERM" \
    ctl 'ok:^OK FTX/1 .* login anonymous$' starttls login:anonymous:guest@example.org \
    'ok:^OK anonymous logged in read-only$' \
    line:LIST 'ok:^OK 1$' 'has:^FILE 12345 .* pub\.txt$' line:HASH\ pub.txt "ok:^OK 12345 $psha " \
    "get:pub.txt:$dl/pub.txt" "ok:^GET-OK n=12345 sha=$psha " \
    line:UPLOAD\ new.txt\ 10 'ok:^ERROR PERM anonymous access is read-only$' \
    line:DELETE\ pub.txt 'ok:^ERROR PERM anonymous access is read-only$' \
    line:PARTIAL\ pub.txt\ 10 'ok:^ERROR PERM anonymous access is read-only$' \
    line:DOWNLOAD\ secret.txt 'ok:^ERROR NOTFOUND' line:DOWNLOAD\ ..%2Falice%2Fsecret.txt 'ok:^ERROR BADNAME' \
    line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ anonymous$'
tlsc "anonymous read-only: LOGIN anonymous without a password works too" \
    ctl starttls line:LOGIN\ anonymous 'ok:^OK anonymous logged in read-only$'
assert_file "$ROOT/anonymous/pub.txt" "pub.txt survived the read-only session"
assert_eq "" "$(visible_files "$ROOT/anonymous" | grep -v '^pub\.txt$')" "nothing was added to the anonymous area"
assert_exit 0 "the real client downloads anonymously" env FTX_PASSWORD=x \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --pin "$FP" --user anonymous get pub.txt -o "$dl/anon"
assert_file_same "$ROOT/anonymous/pub.txt" "$dl/anon/pub.txt" "anonymous download through ftx"
tlsc "alice is unaffected by --anonymous" ctl starttls "login:alice:$PW_A2" 'ok:^OK alice logged in$' \
    line:DOWNLOAD\ pub.txt 'ok:^ERROR NOTFOUND'

stop_server
start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000 --anonymous read-write
tlsc "anonymous read-write: upload and delete" ctl starttls login:anonymous:x \
    'ok:^OK anonymous logged in read-write$' "put:$src/A:up.txt" "ok:^PUT-OK sha=$asha\$" \
    line:DELETE\ pub.txt 'ok:^OK deleted'
assert_file_same "$src/A" "$ROOT/anonymous/up.txt" "the anonymous upload went to <root>/anonymous/"
assert_no_file "$ROOT/anonymous/pub.txt" "the anonymous delete worked in <root>/anonymous/"
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
tlsc "without a users file: no login needed, LOGIN says so" ctl 'not: login' line:LIST 'ok:^OK [0-9]+$' \
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

finish
