#!/bin/bash
# The client's security checks (issue 4, docs/SECURITY.md, attacker 5: "a
# malicious or impersonated server"), against tests/tools/ftxfake, a
# server that lies on purpose:
#  - TLS data connections: the token is sent only on a data connection
#    that resumed the control session (a full handshake gets nothing, a
#    session without a ticket gets no handshake at all), with an honest
#    TLS fake as the control case;
#  - STARTTLS: bytes injected after "OK begin TLS" end the session before
#    any TLS byte is sent; a refused STARTTLS ends it before any other
#    command (or password) is sent, also the one a client without --tls
#    tries by itself after a greeting that offers TLS;
#  - reply lines over 4096 bytes or with a NUL are refused cleanly;
#  - --insecure cannot be combined with --pin, --cacert or --accept-new,
#    and warns on every run;
#  - passwords (these fakes have no TLS, so the clients that must send a
#    password say --allow-plaintext-password; t_plainpass.sh tests that
#    they must): anonymous is never sent one; a password file others can
#    read is refused before connecting; FTX_PASSWORD is gone from
#    /proc/PID/environ, the LOGIN line is wiped from memory once sent, and
#    the only copy left lives in a locked, no-dump page;
#  - names typed into the menu are checked before anything is sent;
#  - a PARTIAL count beyond the local file restarts the upload from 0;
#  - a symlink or FIFO planted as the download partial is refused and its
#    target left alone.
. "$(dirname "$0")/lib.sh"

isolate_client
export FTX_RETRY_BASE_MS=20

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/payload" 300000
psha=$(sha256_of "$src/payload")

gen_cert
CERT=(-c "$TMPD/cert/ftxd.crt" -k "$TMPD/cert/ftxd.key")

# sfake MODE [FTXFAKE-ARGS...]: start the fake serving the payload; its
# transcript is $FAKE_LOG.
sfake() {
	start_fake "$1" "$src/payload" "${@:2}"
	FAKE_LOG=$FAKE_OUT
}

# fake ARGS...: the real client against the fake, bounded.
fake() {
	timeout -k 2 20 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" "$@"
}

# The fake's transcript has a line matching REGEX.
fake_has() {
	grep -Eq -- "$1" "$FAKE_LOG"
}

fake_count() {
	grep -Ec -- "$1" "$FAKE_LOG"
}

# An exit status that is a refusal, not a crash or a hang.
assert_clean_fail() {
	local rc=$1 desc=$2
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ]; then
		pass "$desc (exit $rc)"
	else
		fail "$desc: exit $rc"
		sed 's/^/    stderr: /' "$ERR" | head -n 10 >&2
	fi
}

# ---------------------------------------------------------------- TLS data connections

# The control case: an honest TLS fake.  The data connection resumes the
# control session and carries the token, so what fails below fails for
# the reason the check names.
sfake good "${CERT[@]}"
mkdir -p "$TMPD/dl.good"
assert_exit 0 "honest TLS fake: verified download over TLS" fake --pin "$FP" get payload -o "$TMPD/dl.good"
assert_file_same "$src/payload" "$TMPD/dl.good/payload" "the TLS download is intact"
stop_fake
if fake_has '^# control tls up$' && fake_has '^# data tls resumed=1$' &&
    fake_has '^# data: 33 bytes after the handshake$'; then
	pass "control case: the data connection resumed the session and carried the token"
else
	fail "control case: no resumed data connection with a token: $(cat "$FAKE_LOG")"
fi

# Another ticket key on the data port: the resumption fails, the
# handshake is a full one, and it could be anyone's.
sfake fullhs "${CERT[@]}"
mkdir -p "$TMPD/dl.fullhs"
assert_exit 6 "a data connection that did not resume: exit 6" fake --pin "$FP" get payload -o "$TMPD/dl.fullhs"
assert_match 'did not resume' "$(cat "$ERR")" "... and ftx says the data connection did not resume"
stop_fake
if fake_has '^# data tls resumed=0$' && fake_has '^# data: 0 bytes after the handshake$'; then
	pass "not a byte (no token) crossed the full-handshake data connection"
else
	fail "the full-handshake data connection: $(grep '^# data' "$FAKE_LOG")"
fi
assert_eq "" "$(ls -A "$TMPD/dl.fullhs")" "nothing was written locally"

# No ticket on the control connection: nothing to resume, no handshake.
sfake noticket "${CERT[@]}"
assert_exit 6 "no session ticket to resume: exit 6" fake --pin "$FP" get payload -o "$TMPD/dl.fullhs"
assert_match 'no TLS session ticket' "$(cat "$ERR")" "... and ftx says there was no ticket"
stop_fake
if fake_has '^# data: closed before any byte$' || fake_has '^# no data connection$'; then
	pass "without a ticket the data connection got no handshake and no token"
else
	fail "without a ticket: $(grep '^# data' "$FAKE_LOG")"
fi

# ---------------------------------------------------------------- STARTTLS

# "OK begin TLS" and a plaintext line in the same segment, as an attacker
# on the path would add it.  The client must not read the line as if it
# came through TLS, and must not go on with a handshake either.
sfake inject "${CERT[@]}"
assert_exit 6 "plaintext injected after OK begin TLS: exit 6" fake --pin "$FP" ls
assert_match 'plaintext after agreeing to STARTTLS' "$(cat "$ERR")" "... and ftx says why"
wait_for 5 fake_has '^# after STARTTLS the client sent'
stop_fake
if fake_has '^# after STARTTLS the client sent 0 bytes$'; then
	pass "after the injection the client sent nothing (no ClientHello, no command)"
else
	fail "after the injection: $(grep '^# after' "$FAKE_LOG")"
fi

# A greeting that offers tls, then ERROR to STARTTLS (a stripping
# attacker): with --tls the client stops; the password never crosses.
PW_STRIP='strip-me-pw-4471'
sfake refusetls "${CERT[@]}" -g login
assert_exit 6 "--tls and STARTTLS refused: exit 6" env FTX_PASSWORD="$PW_STRIP" \
    "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" --tls --pin "$FP" --user alice ls
stop_fake
assert_eq "STARTTLS" "$(sed -n 's/^C: //p' "$FAKE_LOG" | tr '\n' ' ' | sed 's/ $//')" \
    "STARTTLS refused: it was the only command sent"
if grep -qF -- "$PW_STRIP" "$FAKE_LOG"; then fail "the password was sent after STARTTLS failed"; else pass "no password after a refused STARTTLS"; fi

# A greeting that offers tls (and requires it) to a client without
# --tls: ftx tries STARTTLS by itself; refused, it stops there.
sfake good -g 'tls tls-required login'
assert_exit 6 "a tls-required greeting without --tls, STARTTLS refused: exit 6" env FTX_PASSWORD="$PW_STRIP" \
    "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" --user alice ls
assert_match 'does not offer TLS' "$(cat "$ERR")" "... and ftx says TLS failed"
stop_fake
assert_eq "STARTTLS" "$(sed -n 's/^C: //p' "$FAKE_LOG" | tr '\n' ' ' | sed 's/ $//')" \
    "tls-required: STARTTLS was the only command sent"

# ---------------------------------------------------------------- hostile reply lines

# The control case: an empty listing.
sfake good
assert_exit 0 "control: ls against the fake" fake ls
stop_fake
for mode in longline nul; do
	sfake "$mode"
	t0=$(date +%s%N)
	fake ls >"$OUT" 2>"$ERR"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	sanitizer_check "$mode"
	assert_clean_fail "$rc" "$mode: the reply to LIST is refused"
	case $mode in
	longline) assert_match 'longer than 4096 bytes' "$(cat "$ERR")" "$mode: ftx says the line is too long" ;;
	nul) assert_match 'NUL byte' "$(cat "$ERR")" "$mode: ftx names the NUL byte" ;;
	esac
	if [ "$ms" -lt 5000 ]; then pass "$mode: refused at once (${ms} ms)"; else fail "$mode: took ${ms} ms"; fi
	stop_fake
done

# ---------------------------------------------------------------- --insecure

sfake good "${CERT[@]}"
for extra in "--pin $FP" "--cacert $TMPD/cert/ftxd.crt" "--accept-new"; do
	label=${extra%% *}
	# shellcheck disable=SC2086
	assert_exit 2 "--insecure $label: usage error" fake --insecure $extra ls
	assert_match 'cannot be combined' "$(cat "$ERR")" "--insecure $label: ftx says why"
done
assert_eq 0 "$(fake_count '^# session$')" "the refused combinations never connected"
for run in 1 2; do
	assert_exit 0 "--insecure run $run works" fake --insecure ls
	if grep -q 'warning: --insecure' "$ERR" && grep -q 'NOT verified' "$ERR"; then
		pass "--insecure run $run warns on stderr"
	else
		fail "--insecure run $run printed no warning: $(cat "$ERR")"
	fi
done
stop_fake

# ---------------------------------------------------------------- passwords

PW_ANON='not-for-anonymous-8812'
sfake good -g 'login anonymous'
assert_exit 0 "--user anonymous with FTX_PASSWORD set" env FTX_PASSWORD="$PW_ANON" \
    "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" --user anonymous login
assert_match '^logged in as anonymous' "$(cat "$OUT")" "... logged in as anonymous"
# The control case: a real account gets the password, so the fake's log
# would show it (this fake has no TLS: --allow-plaintext-password).
assert_exit 0 "control: --user alice with FTX_PASSWORD" env FTX_PASSWORD="$PW_ANON" \
    "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" --allow-plaintext-password --user alice login
PWFILE=$TMPD/pwfile
printf 'from-the-file-6620\nsecond line\n' >"$PWFILE"
chmod 644 "$PWFILE"
assert_exit 2 "a password file others can read (0644) is refused" fake --allow-plaintext-password --user bob --password-file "$PWFILE" login
assert_match 'chmod 600' "$(cat "$ERR")" "... and ftx says chmod 600"
chmod 600 "$PWFILE"
assert_exit 0 "a 0600 password file is used" fake --allow-plaintext-password --user carol --password-file "$PWFILE" login
stop_fake
assert_eq "LOGIN anonymous" "$(grep -m 1 '^C: LOGIN anonymous' "$FAKE_LOG" | cut -c4-)" \
    "anonymous: LOGIN carries no password"
assert_eq 1 "$(grep -cF -- "$PW_ANON" "$FAKE_LOG")" "FTX_PASSWORD went to alice only, not to anonymous"
if fake_has '^C: LOGIN bob'; then fail "bob logged in with a 0644 password file"; else pass "nothing was sent for the 0644 password file"; fi
if fake_has '^C: LOGIN carol from-the-file-6620$'; then
	pass "the 0600 file's first line is the password"
else
	fail "carol's LOGIN: $(grep '^C: LOGIN carol' "$FAKE_LOG")"
fi

# While ftx waits for the LOGIN reply (the fake answers once the test
# has looked, i.e. once $TMPD/looked exists): FTX_PASSWORD
# is gone from its environment, the LOGIN line is gone from its memory,
# and the password itself is only in a locked page kept out of core dumps.

# mem_maps PID NEEDLE: the /proc/PID/maps lines of the writable mappings
# holding NEEDLE.  Mappings over 256 MiB are reservations (a sanitizer's
# shadow memory, say), not where a line or a password would be.
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
# vmflags PID RANGE: the VmFlags of that mapping in /proc/PID/smaps.
vmflags() {
	awk -v r="$2" '$1 == r { on = 1; next } /^[0-9a-f]+-[0-9a-f]+ / { on = 0 }
	    on && /^VmFlags:/ { sub(/^VmFlags:[ \t]*/, ""); print; exit }' "/proc/$1/smaps"
}
PW_MEM='mem pw 31337'
sfake good -g login -W "$TMPD/looked"
FTX_PASSWORD="$PW_MEM" FTX_MARKER=marker-8Qz "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" \
    --allow-plaintext-password --user dave login >"$TMPD/mem.out" 2>"$TMPD/mem.err" &
MEM_PID=$!
track_pid "$MEM_PID"
if wait_for 10 fake_has '^C: LOGIN dave ' && kill -0 "$MEM_PID" 2>/dev/null; then
	env_text=$(tr '\0' '\n' <"/proc/$MEM_PID/environ" 2>/dev/null)
	assert_match '^FTX_MARKER=marker-8Qz$' "$env_text" "control: ftx's environment is readable"
	if printf '%s\n' "$env_text" | grep -qF -- "$PW_MEM"; then
		fail "FTX_PASSWORD is still in /proc/PID/environ"
	else
		pass "FTX_PASSWORD is wiped from /proc/PID/environ once read"
	fi
	if [ -n "$(mem_maps "$MEM_PID" 'ftxfake/0 ready login')" ]; then
		pass "control: ftx's memory is readable (the greeting is found)"
		assert_eq "" "$(mem_maps "$MEM_PID" 'LOGIN dave mem%20pw%2031337')" \
		    "the sent LOGIN line is wiped from ftx's memory"
		# A sanitizer's allocator and mmap interceptors place (and
		# merge) mappings its own way; the layout checks need a
		# normal build.
		if ldd "$FTX_BIN" 2>/dev/null | grep -Eq 'lib(a|t|ub)san'; then
			echo "note: sanitizer build: the password page's mapping is not checked"
		else
			where=$(mem_maps "$MEM_PID" "$PW_MEM")
			assert_eq 1 "$(printf '%s' "$where" | grep -c .)" "one copy of the password is left (for a reconnect)"
			flags=$(vmflags "$MEM_PID" "$(printf '%s' "$where" | head -n 1 | cut -d' ' -f1)")
			assert_match '(^| )dd( |$)' "$flags" "... in a mapping kept out of core dumps (VmFlags: $flags)"
			if [ "$(ulimit -l)" = unlimited ] || [ "$(ulimit -l)" -gt 0 ]; then
				assert_match '(^| )lo( |$)' "$flags" "... that is locked in memory"
			else
				echo "note: RLIMIT_MEMLOCK is 0: the password page cannot be locked"
			fi
		fi
	else
		echo "note: cannot read /proc/$MEM_PID/mem (ptrace restrictions?); memory checks skipped"
	fi
else
	fail "ftx did not send LOGIN to the slow fake: $(cat "$TMPD/mem.err")"
fi
touch "$TMPD/looked"
wait_pid "$MEM_PID" 10
assert_eq 0 "$WAIT_RC" "the slow login itself succeeded"
stop_fake

# ---------------------------------------------------------------- names and paths

# Menu answers are checked before anything is sent: they may become local
# paths (a download's name).
sfake good
mkdir -p "$TMPD/menu"
(cd "$TMPD/menu" && printf '2\n../escape\n.hidden\nsub/x\npayload\n0\n' |
    timeout -k 2 20 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" menu) >"$OUT" 2>"$ERR"
rc=$?
stop_fake
assert_eq 0 "$rc" "menu: bad names refused, a good one downloaded, quit"
assert_eq 3 "$(grep -c 'invalid name' "$ERR")" "menu: three invalid names reported"
assert_eq "DOWNLOAD payload" "$(sed -n 's/^C: //p' "$FAKE_LOG" | grep -v '^QUIT$' | tr '\n' ' ' | sed 's/ $//')" \
    "menu: only the valid name reached the server"
assert_file_same "$src/payload" "$TMPD/menu/client_downloads/payload" "menu: the valid download arrived"
assert_no_file "$TMPD/escape" "menu: nothing was written outside the download directory"

# put --resume: a PARTIAL count beyond the file restarts from 0.
sfake good
assert_exit 4 "control: put --resume against a server that kept half" fake put "$src/payload" --resume
stop_fake
if fake_has '^C: UPLOAD payload 300000 offset=150000$'; then
	pass "control: the upload resumes at the server's count"
else
	fail "control: $(grep '^C: UPLOAD' "$FAKE_LOG")"
fi
sfake bigpartial
assert_exit 4 "put --resume against a server claiming more than the file" fake put "$src/payload" --resume
stop_fake
if fake_has '^C: UPLOAD payload 300000$'; then
	pass "a PARTIAL count beyond the file's size: the upload starts from 0"
else
	fail "bigpartial: $(grep '^C: UPLOAD' "$FAKE_LOG")"
fi

# A symlink or a FIFO planted as the download's partial file.
PART_BYTES=$(sed -n -E 's/^#define PART_HASH_BYTES ([0-9]+).*/\1/p' "$ITEST_DIR/../../ftx/transfer.c")
if ! [[ $PART_BYTES =~ ^[0-9]+$ ]]; then
	fail "cannot read PART_HASH_BYTES from ftx/transfer.c"
	PART_BYTES=16
fi
part=.ftx-part-$(printf '%s' payload | sha256sum | cut -c1-$((PART_BYTES * 2)))
sfake good
d=$TMPD/dl.planted
mkdir -p "$d"
echo "not yours" >"$TMPD/victim"
vsha=$(sha256_of "$TMPD/victim")
ln -s ../victim "$d/$part"
assert_exit 1 "a symlink planted as the download partial is refused" fake get payload -o "$d"
assert_match 'symbolic links|not a regular file' "$(cat "$ERR")" "... as a symlink"
assert_eq "$vsha" "$(sha256_of "$TMPD/victim")" "the symlink's target is untouched"
assert_no_file "$d/payload" "nothing under the final name"
rm -f "$d/$part"
mkfifo "$d/$part"
t0=$(date +%s%N)
assert_exit 1 "a FIFO planted as the download partial is refused" fake get payload -o "$d"
ms=$((($(date +%s%N) - t0) / 1000000))
assert_match 'not a regular file' "$(cat "$ERR")" "... as not a regular file"
if [ "$ms" -lt 5000 ]; then pass "the FIFO did not block ftx (${ms} ms)"; else fail "the FIFO took ${ms} ms"; fi
rm -f "$d/$part"
# The same name, now free, works: the refusals were the planted files'.
assert_exit 0 "control: with the partial's name free the download works" fake get payload -o "$d"
assert_file_same "$src/payload" "$d/payload" "control: the download is intact"
stop_fake
assert_eq 1 "$(fake_count '^C: DOWNLOAD ')" "only the control download reached the server"

finish
