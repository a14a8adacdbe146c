#!/bin/bash
# TLS (issue 4, "Tests: TLS"):
#  - STARTTLS: the greeting offers it, the handshake runs TLS 1.3 with the
#    certificate --gen-cert made, commands work over TLS, a second
#    STARTTLS is refused; bytes pipelined in plaintext after STARTTLS are
#    dropped (and logged), never executed;
#  - transfers of 0 B .. 64 MiB over TLS, verified with sha256sum;
#  - the data connection must resume its control session's TLS session:
#    a valid token with a full handshake, with the ticket of another
#    control connection, or in plaintext is rejected (and logged) while
#    the legitimate transfer still works afterwards; a TLS data
#    connection for a plaintext session is rejected too;
#  - --require-tls refuses every command but STARTTLS and QUIT; STARTTLS
#    without a certificate is ERROR TLS; TLS 1.1 and weak ciphers are
#    refused, TLS 1.2 works (resumption too); handshake garbage is cut at
#    once, a handshake that never finishes after
#    FTX_TLS_HANDSHAKE_TIMEOUT_S;
#  - the real client: --tls with --accept-new, known_hosts, a changed
#    fingerprint (exit 6 and a WARNING), --pin, --cacert (right and wrong
#    CA), --insecure, FTX_TLS=1, no TLS offered; and a man in the middle
#    (tests/tools/tlsmitm presenting another certificate) is refused, with
#    no password or command crossing it.
# Hostile clients are tests/tools/ftxtls (see its header).
. "$(dirname "$0")/lib.sh"

TLSMITM=$FTX_BUILD/tools/tlsmitm
need_ftxtls
MiB=$((1024 * 1024))
HS_TIMEOUT=$(sed -n -E 's/^#define FTX_TLS_HANDSHAKE_TIMEOUT_S ([0-9]+).*/\1/p' \
    "$ITEST_DIR"/../../shared/*limits.h | head -n 1)
[[ $HS_TIMEOUT =~ ^[0-9]+$ ]] || HS_TIMEOUT=10
HELLO_TIMEOUT=$(sed -n -E 's/^#define FTX_DATA_HELLO_TIMEOUT_S ([0-9]+).*/\1/p' \
    "$ITEST_DIR"/../../shared/*limits.h | head -n 1)
[[ $HELLO_TIMEOUT =~ ^[0-9]+$ ]] || HELLO_TIMEOUT=10

isolate_client



# tlsc_bg OUTFILE STEP...: the same in the background; sets BG_PID.
tlsc_bg() {
	local out=$1
	shift
	"$FTXTLS" -h 127.0.0.1 -p "$CTRL_PORT" -t 30 -w 60 "$@" >"$out" 2>&1 &
	BG_PID=$!
	track_pid "$BG_PID"
}

# log_count REGEX: lines of the server log matching.
log_count() {
	grep -Ec -- "$1" "$LOG"
}

# gen_cert DIR: a key and certificate; prints the fingerprint.
gen_cert() {
	"$FTXD" --gen-cert "$1" >"$TMPD/gencert.out" 2>&1 || {
		fail "ftxd --gen-cert $1 failed: $(cat "$TMPD/gencert.out")"
		exit 1
	}
	grep -o -m 1 -E 'SHA256:[0-9a-f]{64}' "$TMPD/gencert.out"
}

# ---------------------------------------------------------------- certificates

FP1=$(gen_cert "$TMPD/c1")
FP2=$(gen_cert "$TMPD/c2")
assert_match '^SHA256:[0-9a-f]{64}$' "$FP1" "--gen-cert prints a SHA-256 fingerprint"
if [ "$FP1" != "$FP2" ]; then pass "two --gen-cert runs make different certificates"; else fail "two --gen-cert runs made the same certificate"; fi
assert_eq 600 "$(stat -c %a "$TMPD/c1/ftxd.key")" "the private key is mode 0600"
if command -v openssl >/dev/null 2>&1; then
	ofp=$(openssl x509 -in "$TMPD/c1/ftxd.crt" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
	assert_eq "${FP1#SHA256:}" "$ofp" "the printed fingerprint is openssl's SHA-256 of the certificate"
else
	echo "note: openssl(1) not installed; fingerprint not cross-checked"
fi
keysum=$(cat "$TMPD/c1/ftxd.key" "$TMPD/c1/ftxd.crt" | sha256sum)
assert_exit_in "1 2" "--gen-cert does not replace an existing key" "$FTXD" --gen-cert "$TMPD/c1"
assert_eq "$keysum" "$(cat "$TMPD/c1/ftxd.key" "$TMPD/c1/ftxd.crt" | sha256sum)" \
    "the key and certificate are unchanged after the refused --gen-cert"

TLS1=(--tls-cert "$TMPD/c1/ftxd.crt" --tls-key "$TMPD/c1/ftxd.key")
TLS2=(--tls-cert "$TMPD/c2/ftxd.crt" --tls-key "$TMPD/c2/ftxd.key")

# ---------------------------------------------------------------- STARTTLS

start_server "${TLS1[@]}"

# A handshake that never finishes and one that stops half way are cut
# after FTX_TLS_HANDSHAKE_TIMEOUT_S; they run while the rest goes on.
tlsc_bg "$TMPD/stall1.out" ctl line:STARTTLS 'ok:^OK begin TLS' read:$((HS_TIMEOUT + 10)) \
    'ok:^(EOF|RESET)$'
STALL1_PID=$BG_PID
tlsc_bg "$TMPD/stall2.out" ctl line:STARTTLS 'ok:^OK begin TLS' \
    'rawsock:\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' read:$((HS_TIMEOUT + 10)) \
    'ok:^(EOF|RESET)$'
STALL2_PID=$BG_PID
# The same on a data connection: cut after FTX_DATA_HELLO_TIMEOUT_S, and
# the transfer's owner still gets through afterwards.
tlsc_bg "$TMPD/stall3.out" ctl starttls 'has:^TLS-UP' 'line:UPLOAD dstall.bin 5' 'ok:^OK ' \
    data:plain:none 'draw:\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' dprobe:$((HELLO_TIMEOUT + 10)) \
    'ok:^DATA-CLOSED' data:resume dgen:5 ddigest dshut read 'ok:^DONE'
STALL3_PID=$BG_PID

tlsc "greeting offers tls; STARTTLS runs TLS 1.3 with the --gen-cert certificate" \
    ctl 'ok:^OK FTX/1 ftxd/[^ ]+ ready( [a-z-]+)* tls( |$)' \
    starttls 'ok:^OK begin TLS$' "has:^TLS-UP TLSv1\\.3 TLS_[A-Z0-9_]+ $FP1\$"
tlsc "commands over TLS" ctl starttls 'has:^TLS-UP' \
    line:NOOP 'ok:^OK$' line:HELP 'ok:^OK [0-9]+$' 'has:^HELP STARTTLS$' \
    line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ -$' line:ECHO\ over-tls 'ok:^OK over-tls$' \
    line:STARTTLS 'ok:^ERROR TLS already active' line:NOOP 'ok:^OK$' line:QUIT 'ok:^OK bye'
if log_has 'tls TLSv1\.3 TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)'; then
	pass "the server logs the TLS version and cipher"
else
	fail "no 'tls TLSv1.3 <AEAD suite>' line in the log"
fi

# Command injection across the upgrade (CVE-2011-0411 style): the bytes
# after STARTTLS came in plaintext and must not run over TLS.
mkrand "$ROOT/victim" 1000
INJ='DELETE victim\nECHO injected\n'
before=$(log_count 'STARTTLS: dropped')
tlsc "pipelined plaintext after STARTTLS is dropped" ctl "starttls:$INJ" \
    'ok:^OK begin TLS$' 'has:^TLS-UP' line:NOOP 'ok:^OK$' line:ECHO\ after 'ok:^OK after$' \
    read:1 'ok:^TIMEOUT$'
assert_file "$ROOT/victim" "the injected DELETE did not run"
if log_has 'cmd DELETE'; then fail "the log shows the injected DELETE ran"; else pass "no DELETE in the log"; fi
if [ "$(log_count 'STARTTLS: dropped 28 pipelined bytes')" -gt 0 ] &&
    [ "$(log_count 'STARTTLS: dropped')" -gt "$before" ]; then
	pass "the server logs the 28 dropped bytes"
else
	fail "no 'STARTTLS: dropped 28 pipelined bytes' in the log: $(grep 'STARTTLS: dropped' "$LOG")"
fi
# The same with a plaintext line that arrives while the OK is on its way
# (a second write): it is TLS garbage to the server and ends the session.
tlsc "plaintext sent instead of a ClientHello ends the session" ctl line:STARTTLS \
    'ok:^OK begin TLS' 'rawsock:DELETE victim\n' read:5 'ok:^(EOF|RESET)$'
assert_file "$ROOT/victim" "a DELETE sent in plaintext after STARTTLS did not run"
if wait_for 3 log_has 'TLS handshake failed'; then pass "handshake garbage is logged"; else fail "no 'TLS handshake failed' in the log"; fi
tlsc "an HTTP request as a ClientHello is cut at once" ctl line:STARTTLS 'ok:^OK begin TLS' \
    'rawsock:GET / HTTP/1.1\r\nHost: x\r\n\r\n' read:3 'ok:^(EOF|RESET)$'

# ---------------------------------------------------------------- transfers

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
: >"$src/empty"
mkrand "$src/one" 1
mkrand "$src/m1" $((MiB + 7))
mkrand "$src/m64" $((64 * MiB))
for f in empty one m1 m64; do
	tlsc "TLS upload and download of $f ($(stat -c %s "$src/$f") bytes)" -t 30 ctl starttls \
	    'has:^TLS-UP' "put:$src/$f:$f" "ok:^PUT-OK sha=$(sha256_of "$src/$f")\$" \
	    "get:$f:$dl/$f" "ok:^GET-OK n=$(stat -c %s "$src/$f") sha=$(sha256_of "$src/$f") end=CLOSE_NOTIFY\$"
	assert_eq "$(sha256_of "$src/$f")" "$(sha256_of "$ROOT/$f")" "sha256sum of the stored $f"
	assert_eq "$(sha256_of "$src/$f")" "$(sha256_of "$dl/$f")" "sha256sum of the downloaded $f"
done
tlsc "several transfers on one TLS session (each resumes the same ticket)" ctl starttls \
    "put:$src/m1:a1" 'ok:^PUT-OK' "put:$src/one:a2" 'ok:^PUT-OK' "get:a1:$dl/a1" 'ok:^GET-OK' \
    "get:a2:$dl/a2" 'ok:^GET-OK' "get:m1:$dl/a3" 'ok:^GET-OK'

# ---------------------------------------------------------------- session binding

mkrand "$src/b" 300000
bsha=$(sha256_of "$src/b")
bsize=$(stat -c %s "$src/b")
cp "$src/b" "$ROOT/down.bin"
n0=$(log_count 'data-reject reason=no TLS session reuse')
tlsc "upload: a valid token with a full handshake is rejected; the owner's resume works after" \
    ctl starttls "line:UPLOAD full.bin $bsize" 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data:full 'ok:^DATA-CONNECTED tls=full$' dprobe:5 'ok:^DATA-CLOSED' \
    data:resume 'ok:^DATA-CONNECTED tls=resumed$' dprobe:1 'ok:^DATA-OPEN$' \
    "dsend:$src/b" ddigest dshut read "ok:^DONE $bsha\$"
tlsc "download: a valid token with a full handshake gets no byte; the owner's resume works after" \
    ctl starttls line:DOWNLOAD\ down.bin "ok:^OK $bsize [0-9]+ [0-9a-f]{32} $bsha\$" \
    data:full 'ok:^DATA-CONNECTED tls=full$' drecv 'ok:^DATA n=0 ' \
    data:resume 'ok:^DATA-CONNECTED tls=resumed$' drecv "ok:^DATA n=$bsize sha=$bsha end=CLOSE_NOTIFY\$" \
    read "ok:^DONE $bsha\$"
assert_eq "$bsha" "$(sha256_of "$ROOT/full.bin")" "the upload after the rejected connection is intact"
assert_eq $((n0 + 2)) "$(log_count 'data-reject reason=no TLS session reuse')" \
    "both full handshakes are logged: data-reject reason=no TLS session reuse"

n0=$(log_count 'reason=TLS session of another control connection')
tlsc "a ticket from another control connection is rejected (upload and download)" \
    ctl starttls line:NOOP 'ok:^OK$' \
    ctl starttls line:NOOP "line:UPLOAD other.bin $bsize" 'ok:^OK [0-9]+ [0-9a-f]{32}$' \
    data:ctl=0 'ok:^DATA-CONNECTED tls=resumed$' dprobe:5 'ok:^DATA-CLOSED' \
    data:resume 'ok:^DATA-CONNECTED tls=resumed$' "dsend:$src/b" ddigest dshut read "ok:^DONE $bsha\$" \
    line:DOWNLOAD\ down.bin 'ok:^OK ' data:ctl=0 drecv 'ok:^DATA n=0 ' \
    data:resume drecv "ok:^DATA n=$bsize sha=$bsha " read "ok:^DONE $bsha\$"
assert_eq $((n0 + 2)) "$(log_count 'reason=TLS session of another control connection')" \
    "logged: data-reject reason=TLS session of another control connection"

n0=$(log_count 'reason=plaintext data connection for a TLS session')
tlsc "a plaintext data connection for a TLS session is rejected" \
    ctl starttls "line:UPLOAD plain.bin $bsize" 'ok:^OK ' data:plain 'ok:^DATA-CONNECTED tls=off$' \
    dprobe:5 'ok:^DATA-CLOSED' data:resume "dsend:$src/b" ddigest dshut read "ok:^DONE $bsha\$" \
    line:DOWNLOAD\ down.bin 'ok:^OK ' data:plain drecv 'ok:^DATA n=0 ' \
    data:resume drecv "ok:^DATA n=$bsize sha=$bsha " read 'ok:^DONE'
assert_eq $((n0 + 2)) "$(log_count 'reason=plaintext data connection for a TLS session')" \
    "logged: data-reject reason=plaintext data connection for a TLS session"

n0=$(log_count 'reason=TLS data connection for a plaintext session')
tlsc "STARTTLS during a transfer: ERROR BUSY; a TLS data connection for a plaintext session is rejected" \
    ctl "line:UPLOAD tlsdata.bin $bsize" 'ok:^OK ' line:STARTTLS 'ok:^ERROR BUSY a transfer is in progress$' \
    data:full 'ok:^DATA-CONNECTED tls=full$' \
    dprobe:5 'ok:^DATA-CLOSED' data:plain "dsend:$src/b" ddigest dshut read "ok:^DONE $bsha\$"
assert_eq $((n0 + 1)) "$(log_count 'reason=TLS data connection for a plaintext session')" \
    "logged: data-reject reason=TLS data connection for a plaintext session"

tlsc "a garbage TLS record on the data port is rejected at once, the owner gets through" \
    ctl starttls 'line:UPLOAD garbage.bin 5' 'ok:^OK ' data:plain:none 'draw:\x16\x03\x01\x00\x05hello' \
    drecv 'ok:^DATA n=[0-9] .* end=(EOF|RESET)$' data:resume dgen:5 ddigest dshut read 'ok:^DONE'
if log_has 'data-reject reason=TLS handshake failed'; then pass "logged: data-reject reason=TLS handshake failed"; else fail "no 'data-reject reason=TLS handshake failed' in the log"; fi
tlsc "a wrong token over a resumed session is rejected, the right one works" \
    ctl starttls "line:UPLOAD tok.bin $bsize" 'ok:^OK ' data:resume:bad dprobe:5 'ok:^DATA-CLOSED' \
    data:resume "dsend:$src/b" ddigest dshut read "ok:^DONE $bsha\$"
assert_alive "the rejected data connections"

# ---------------------------------------------------------------- versions and ciphers

tlsc "TLS 1.1 is refused" ctl tlsver:1.1:1.1 starttls 'ok:^OK begin TLS' 'has:^TLS-FAILED' \
    'no:^TLS-UP'
tlsc "TLS 1.0 is refused" ctl tlsver:1.0:1.0 starttls 'ok:^OK begin TLS' 'has:^TLS-FAILED'
tlsc "TLS 1.2 works with an ECDHE AEAD cipher, and its data connections resume" \
    ctl tlsver:1.2:1.2 starttls \
    'has:^TLS-UP TLSv1\.2 ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305) ' \
    "put:$src/m1:v12" 'ok:^PUT-OK' "get:v12:$dl/v12" 'ok:^GET-OK' \
    line:UPLOAD\ v12b\ 1 'ok:^OK ' data:full 'ok:tls=full' dprobe:5 'ok:^DATA-CLOSED'
assert_file_same "$src/m1" "$dl/v12" "TLS 1.2 download"
tlsc "a TLS 1.2 client offering only CBC/RSA-kx ciphers is refused" \
    ctl tlsver:1.2:1.2 ciphers:AES128-SHA:AES256-SHA256 starttls 'ok:^OK begin TLS' 'has:^TLS-FAILED'
assert_eq 2 "$(log_count 'TLS handshake failed: .*unsupported protocol')" \
    "both old-version handshakes are logged as unsupported protocol"
assert_eq 1 "$(log_count 'TLS handshake failed: .*no shared cipher')" \
    "the weak-cipher handshake is logged as no shared cipher"

# ---------------------------------------------------------------- handshake timeouts

wait_pid "$STALL1_PID" $((HS_TIMEOUT + 15))
if [ "$WAIT_RC" -eq 0 ]; then
	pass "a client that never starts the handshake is cut"
else
	fail "a client that never starts the handshake: ftxtls exit $WAIT_RC"
	sed 's/^/    /' "$TMPD/stall1.out" >&2
fi
wait_pid "$STALL2_PID" 10
if [ "$WAIT_RC" -eq 0 ]; then
	pass "a client that stops half way through its ClientHello is cut"
else
	fail "a half ClientHello: ftxtls exit $WAIT_RC"
	sed 's/^/    /' "$TMPD/stall2.out" >&2
fi
wait_pid "$STALL3_PID" 10
if [ "$WAIT_RC" -eq 0 ]; then
	pass "a data connection that stops half way through its ClientHello is cut; the owner gets through"
else
	fail "a half ClientHello on the data port: ftxtls exit $WAIT_RC"
	sed 's/^/    /' "$TMPD/stall3.out" >&2
fi
secs=$(sed -n -E 's/^# after ([0-9.]+) s$/\1/p' "$TMPD/stall3.out" | sed -n 4p)
if awk -v s="${secs:-0}" -v t="$HELLO_TIMEOUT" 'BEGIN { exit !(s >= t - 1.5 && s <= t + 3) }'; then
	pass "stall3: the stalled data handshake was cut after $secs s (limit $HELLO_TIMEOUT s)"
else
	fail "stall3: the stalled data handshake was cut after '${secs}' s, expected about $HELLO_TIMEOUT s"
fi
# ftxtls notes how long each read waited.
for f in stall1 stall2; do
	secs=$(sed -n -E 's/^# after ([0-9.]+) s$/\1/p' "$TMPD/$f.out" | tail -n 1)
	if awk -v s="${secs:-0}" -v t="$HS_TIMEOUT" 'BEGIN { exit !(s >= t - 0.5 && s <= t + 3) }'; then
		pass "$f: the stalled handshake was cut after $secs s (limit $HS_TIMEOUT s)"
	else
		fail "$f: the stalled handshake was cut after '${secs}' s, expected about $HS_TIMEOUT s"
	fi
done
assert_eq 2 "$(log_count 'TLS handshake timeout')" "both handshake timeouts are logged"
assert_alive "handshake timeouts and garbage"

# ---------------------------------------------------------------- the real client

KH=$TMPD/known_hosts
mkrand "$src/c" 200000
csha=$(sha256_of "$src/c")
assert_exit 6 "ftx --tls, first contact, no terminal, no --accept-new: refused" \
    ftx --tls --known-hosts "$KH" ls </dev/null
assert_no_file "$KH" "nothing stored without --accept-new"
assert_exit 0 "ftx --tls --accept-new put" ftx --tls --accept-new --known-hosts "$KH" put "$src/c"
assert_eq "$csha" "$(sha256_of "$ROOT/c")" "the TLS put stored the file intact"
if grep -Eq "^127\\.0\\.0\\.1:$CTRL_PORT $FP1\$" "$KH" 2>/dev/null; then
	pass "known_hosts stores '127.0.0.1:$CTRL_PORT $FP1'"
else
	fail "known_hosts does not hold '127.0.0.1:$CTRL_PORT $FP1': $(cat "$KH" 2>&1)"
fi
assert_exit 0 "ftx --tls get with a known host" ftx --tls --known-hosts "$KH" get c -o "$dl/k"
assert_file_same "$src/c" "$dl/k/c" "TLS get of a known host"
assert_exit 0 "ftx --tls ls with a known host" ftx --tls --known-hosts "$KH" ls
assert_match '(^| )c$' "$(cat "$OUT")" "ls over TLS lists the file"
assert_exit 0 "ftx --tls put of two files in one session" \
    ftx --tls --known-hosts "$KH" put "$src/m1" "$src/one"
assert_exit 0 "FTX_TLS=1 with the default known_hosts (HOME) after --accept-new" \
    env FTX_TLS=1 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --accept-new ls
assert_file "$HOME/.config/ftx/known_hosts" "the default known_hosts is ~/.config/ftx/known_hosts"
sessions_tls=$(log_count ' tls TLSv1')
assert_exit 0 "FTX_TLS=1 turns TLS on" env FTX_TLS=1 FTX_KNOWN_HOSTS="$KH" \
    "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" ls
assert_eq $((sessions_tls + 1)) "$(log_count ' tls TLSv1')" "the FTX_TLS=1 session ran TLS"

assert_exit 0 "--pin with the right fingerprint" ftx --pin "$FP1" --known-hosts "$TMPD/kh.none" ls
assert_no_file "$TMPD/kh.none" "--pin stores nothing"
upper=$(printf '%s' "${FP1#SHA256:}" | tr 'a-f' 'A-F' | sed -E 's/(..)/\1:/g; s/:$//')
assert_exit 0 "--pin in the AB:CD:.. form" ftx --pin "$upper" --known-hosts "$TMPD/kh.none" ls
assert_exit 6 "--pin with another fingerprint" ftx --pin "$FP2" --known-hosts "$TMPD/kh.none" put "$src/c" --as pinned-wrong
assert_no_file "$ROOT/pinned-wrong" "nothing uploaded with a wrong --pin"
assert_exit 0 "--cacert with the server's own (self-signed, SAN IP:127.0.0.1) certificate" \
    ftx --cacert "$TMPD/c1/ftxd.crt" --known-hosts "$TMPD/kh.none" put "$src/c" --as ca-ok
assert_file "$ROOT/ca-ok" "the upload verified by --cacert arrived"
assert_exit 6 "--cacert with a wrong CA" ftx --cacert "$TMPD/c2/ftxd.crt" --known-hosts "$TMPD/kh.none" \
    put "$src/c" --as ca-wrong
assert_no_file "$ROOT/ca-wrong" "nothing uploaded with a wrong CA"
assert_exit 0 "--insecure works" ftx --insecure --known-hosts "$TMPD/kh.none" ls
if grep -qi 'warning.*insecure\|insecure.*not verified\|NOT verified' "$ERR"; then
	pass "--insecure warns on stderr"
else
	fail "--insecure printed no warning: $(cat "$ERR")"
fi

# A changed fingerprint: the same address and ports, a new certificate.
OLD_CTRL=$CTRL_PORT
OLD_DATA=$DATA_PORT
stop_server
start_server "${TLS2[@]}" --port "$OLD_CTRL" --data-port "$OLD_DATA"
if [ "$CTRL_PORT" = "$OLD_CTRL" ]; then
	cp "$KH" "$TMPD/kh.before"
	assert_exit 6 "a changed fingerprint aborts" ftx --tls --known-hosts "$KH" put "$src/c" --as changed
	if grep -q 'WARNING' "$ERR" && [ "$(wc -l <"$ERR")" -ge 3 ] && grep -q "$FP2" "$ERR"; then
		pass "a loud multi-line WARNING naming the new fingerprint"
	else
		fail "no multi-line WARNING with $FP2 on stderr: $(cat "$ERR")"
	fi
	assert_no_file "$ROOT/changed" "nothing uploaded to the changed server"
	if cmp -s "$KH" "$TMPD/kh.before"; then pass "known_hosts is unchanged"; else fail "known_hosts changed: $(cat "$KH")"; fi
	assert_exit 6 "a changed fingerprint aborts even with --accept-new" \
	    ftx --accept-new --known-hosts "$KH" ls
else
	fail "could not restart on port $OLD_CTRL"
fi

# No TLS offered.
stop_server
start_server
tlsc "STARTTLS without a certificate: ERROR TLS, the session goes on in plaintext" \
    ctl 'not:( tls( |$))' line:STARTTLS 'ok:^ERROR TLS not offered' line:NOOP 'ok:^OK$'
assert_exit 6 "ftx --tls against a server without TLS" ftx --tls --accept-new --known-hosts "$KH" ls

# ---------------------------------------------------------------- --require-tls

stop_server
start_server "${TLS1[@]}" --require-tls
steps=(ctl 'ok:^OK FTX/1 .* tls tls-required')
for c in 'UPLOAD x 1' 'DOWNLOAD x' LIST 'DELETE x' 'HASH x' HELP NOOP 'LOGIN a b' 'JOIN n' \
    LEAVE 'SAY hi' 'MSG n hi' WHO WHOAMI TIME 'ECHO x' STATS 'PARTIAL x 1'; do
	steps+=("line:$c" 'ok:^ERROR TLS TLS required: send STARTTLS first$')
done
tlsc "--require-tls: every command but STARTTLS and QUIT is refused before TLS" "${steps[@]}" \
    starttls 'has:^TLS-UP' line:NOOP 'ok:^OK$' line:LIST 'ok:^OK [0-9]+$' line:QUIT 'ok:^OK bye'
tlsc "--require-tls: QUIT works in plaintext" ctl line:QUIT 'ok:^OK bye'
if log_has 'cmd (LIST|DELETE|UPLOAD|DOWNLOAD)'; then
	n=$(log_count 'cmd (LIST|DELETE|UPLOAD|DOWNLOAD)')
else
	n=0
fi
assert_eq 1 "$n" "only the LIST over TLS ran"
assert_exit_in "1 4 6" "ftx without --tls against --require-tls fails" ftx ls
assert_exit 0 "ftx --tls against --require-tls works" ftx --tls --pin "$FP1" ls

# ---------------------------------------------------------------- man in the middle

if [ ! -x "$TLSMITM" ]; then
	fail "$TLSMITM is not built (make tools)"
	finish
fi
MITM_OUT=$TMPD/mitm.out
MITM_ERR=$TMPD/mitm.err
"$TLSMITM" 0 127.0.0.1 "$CTRL_PORT" "$TMPD/c2/ftxd.crt" "$TMPD/c2/ftxd.key" >"$MITM_OUT" 2>"$MITM_ERR" &
MITM_PID=$!
track_pid "$MITM_PID"
wait_for 5 grep -q '^ready ' "$MITM_OUT"
MITM_PORT=$(awk '/^ready /{ print $2 }' "$MITM_OUT")
if ! [[ $MITM_PORT =~ ^[0-9]+$ ]]; then
	fail "tlsmitm did not start: $(cat "$MITM_OUT" "$MITM_ERR")"
	finish
fi
# mftx ARGS...: the client through the proxy, with a password to steal.
mftx() {
	FTX_PASSWORD=mitm-secret-pw timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$MITM_PORT" "$@"
}
mitm_closed() {
	[ "$(grep -c 'connection closed' "$MITM_ERR")" -ge "$1" ]
}
# The client knew the real server under this address.
printf '127.0.0.1:%s %s\n' "$MITM_PORT" "$FP1" >"$TMPD/kh.mitm"
n=0
before=$(log_count 'cmd ')
for how in pin known_hosts cacert; do
	case $how in
	pin) args=(--pin "$FP1" --known-hosts "$TMPD/kh.none") ;;
	known_hosts) args=(--tls --known-hosts "$TMPD/kh.mitm") ;;
	cacert) args=(--cacert "$TMPD/c1/ftxd.crt" --known-hosts "$TMPD/kh.none") ;;
	esac
	n=$((n + 1))
	assert_exit 6 "man in the middle refused ($how)" mftx "${args[@]}" --user alice put "$src/c" --as mitm-$how
	cp "$ERR" "$TMPD/mitm.$how.err"
	wait_for 5 mitm_closed $n
	last=$(grep 'connection closed' "$MITM_ERR" | tail -n 1)
	assert_match 'up=0 ' "$last" "nothing crossed the man in the middle ($how)"
	assert_no_file "$ROOT/mitm-$how" "nothing uploaded through the man in the middle ($how)"
done
if grep -q 'WARNING' "$TMPD/mitm.known_hosts.err"; then
	pass "the known_hosts mismatch through the proxy prints a WARNING"
else
	fail "no WARNING for the proxy's certificate: $(cat "$TMPD/mitm.known_hosts.err")"
fi
if grep -q 'client accepted our certificate' "$MITM_ERR"; then
	fail "a client accepted the proxy's certificate"
else
	pass "no client accepted the proxy's certificate"
fi
after=$(log_count 'cmd ')
# Each refused session reached the server only with STARTTLS.
assert_eq $((before + 3)) "$after" "the server saw nothing but the 3 STARTTLS commands"
if log_has 'LOGIN|login user'; then fail "a login reached the server through the proxy"; else pass "no login reached the server"; fi
if grep -rq 'mitm-secret-pw' "$LOG" "$MITM_OUT"; then fail "the password shows up"; else pass "the password did not leak"; fi
# Control: the proxy does work against a client that verifies nothing.
assert_exit 0 "control: --insecure goes through the proxy" mftx --insecure ls
wait_for 5 mitm_closed 4
if grep -q 'client accepted our certificate' "$MITM_ERR"; then
	pass "control: the proxy intercepts a client that does not verify"
else
	fail "control: the proxy did not report the interception: $(cat "$MITM_ERR")"
fi
kill -TERM "$MITM_PID" 2>/dev/null
wait "$MITM_PID" 2>/dev/null

# ---------------------------------------------------------------- the data connection of an intercepted session

# A client that accepted the man in the middle (--insecure) runs its
# control session through the proxy, but its data connection goes to the
# real server's data port, offering the ticket the *proxy* issued.  The
# real server cannot resume it, so the handshake is a full one, and ftx
# must not send the token over a connection it cannot tie to the session
# (ftx/chan.c chan_start_tls; the token would reach whoever answered).
# The first proxy's "ready PORT" must not be read for the second's: the
# background start truncates the file only when it gets to run.
: >"$MITM_OUT"
: >"$MITM_ERR"
"$TLSMITM" 0 127.0.0.1 "$CTRL_PORT" "$TMPD/c2/ftxd.crt" "$TMPD/c2/ftxd.key" >"$MITM_OUT" 2>"$MITM_ERR" &
MITM_PID=$!
track_pid "$MITM_PID"
wait_for 5 grep -q '^ready ' "$MITM_OUT"
MITM_PORT=$(awk '/^ready /{ print $2 }' "$MITM_OUT")
if [[ $MITM_PORT =~ ^[0-9]+$ ]]; then
	rejects=$(log_count 'data-reject')
	assert_exit 6 "--insecure through the proxy: the put stops at the data connection" \
	    mftx --insecure put "$src/c" --as via-mitm
	assert_match 'did not resume' "$(cat "$ERR")" "... which did not resume the control session"
	assert_no_file "$ROOT/via-mitm" "nothing was uploaded"
	wait_for 5 eval '[ "$(log_count data-reject)" -gt "$rejects" ]'
	last=$(grep 'data-reject' "$LOG" | tail -n 1)
	assert_match 'reason=closed before sending a token' "$last" \
	    "the real server saw a full handshake and then no token: $last"
	kill -TERM "$MITM_PID" 2>/dev/null
	wait "$MITM_PID" 2>/dev/null
else
	fail "tlsmitm did not start again: $(cat "$MITM_OUT" "$MITM_ERR")"
fi

finish
