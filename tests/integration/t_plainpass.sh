#!/bin/bash
# The client and plaintext passwords (issue 11, item 7; docs/SECURITY.md,
# "a password stripped of its TLS"), with tests/tools/ftxproxy between
# ftx and a real ftxd, recording every byte the client sends:
#  - a proxy that deletes "tls"/"tls-required" from the greeting gets no
#    password: ftx refuses before sending anything secret (exit 6) and
#    says why; with --tls it insists on STARTTLS and works through the
#    same stripper;
#  - without the stripper ftx upgrades to TLS by itself (no --tls), with
#    the usual trust rules (an unknown certificate without --accept-new
#    is refused, exit 6), and put/get/ls work, the password only inside
#    TLS;
#  - --allow-plaintext-password (or FTX_ALLOW_PLAINTEXT_PASSWORD=1) does
#    send it, with a warning, to a server without TLS started with
#    --allow-plaintext-login; anonymous needs no opt-in.
. "$(dirname "$0")/lib.sh"

isolate_client

FTXPROXY=$FTX_BUILD/tools/ftxproxy
if [ ! -x "$FTXPROXY" ]; then
	fail "$FTXPROXY is not built (make tools)"
	exit 1
fi

gen_cert
USERS=$TMPD/users
PW='pp-S3cret-4417'
KH=$TMPD/known_hosts
printf '%s\n' "$PW" | "$FTXD" user add alice --users "$USERS" >"$TMPD/useradd.out" 2>&1 || {
	fail "ftxd user add failed: $(cat "$TMPD/useradd.out")"
	exit 1
}
src=$TMPD/src
mkdir -p "$src" "$TMPD/dl"
mkrand "$src/f" 200000

# start_proxy [FTXPROXY-ARGS...]: a proxy on 127.0.0.1 for the server's
# control port (data connections go straight to the server), recording
# what the client sends into $REC.  Sets PROXY_PID, PROXY_PORT,
# PROXY_OUT; waits for its "ready" line (printed after listen(2)).
PROXY_N=0
start_proxy() {
	local i
	PROXY_N=$((PROXY_N + 1))
	PROXY_OUT=$TMPD/proxy.$PROXY_N.out
	REC=$TMPD/rec.$PROXY_N
	"$FTXPROXY" --listen 127.0.0.1:0 --to "127.0.0.1:$CTRL_PORT" --faulty 1000 \
	    --record "$REC" --lifetime 60 "$@" >"$PROXY_OUT" 2>&1 &
	PROXY_PID=$!
	track_pid "$PROXY_PID"
	for i in $(seq 1 100); do
		grep -q '^ready$' "$PROXY_OUT" 2>/dev/null && break
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.05
	done
	PROXY_PORT=$(sed -n -E 's/^port ([0-9]+)$/\1/p' "$PROXY_OUT" | head -n 1)
	if ! grep -q '^ready$' "$PROXY_OUT" || ! [[ $PROXY_PORT =~ ^[0-9]+$ ]]; then
		fail "ftxproxy did not start: $(cat "$PROXY_OUT")"
		exit 1
	fi
}

stop_proxy() {
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
}

# pftx ARGS...: the real client through the proxy, bounded, with the
# password in FTX_PASSWORD, and no terminal to ask on (also when the
# tests run on one).
pftx() {
	FTX_PASSWORD=$PW timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$PROXY_PORT" "$@" </dev/null
}

# no_password DESC: the password is not in what the client sent, in any
# form (raw, percent-encoded).
no_password() {
	if grep -aqF -e "$PW" -e "pp-S3cret" "$REC" 2>/dev/null; then
		fail "$1: the password crossed the proxy"
	else
		pass "$1: the password is not in the $(stat -c %s "$REC" 2>/dev/null || echo 0) bytes the client sent"
	fi
}

# ---------------------------------------------------------------- a stripper

start_server "${TLS[@]}" --users "$USERS" --login-max-fails 1000
start_proxy --strip-tls
if "$FTXRAW" -h 127.0.0.1 -p "$PROXY_PORT" -t 5 -w 10 ctl 'ok:^OK FTX/1 [^ ]+ ready login folders stream$' \
    >"$TMPD/greet.out" 2>&1; then
	pass "control: through the stripper the greeting has lost tls (login kept)"
else
	fail "the stripped greeting: $(cat "$TMPD/greet.out")"
fi
: >"$REC"

assert_exit 6 "stripped greeting: ftx --user alice ls refuses (exit 6)" pftx --user alice ls
assert_match 'offers no TLS: not sending the password of alice' "$(cat "$ERR")" "... and says it will not send the password"
assert_match 'allow-plaintext-password' "$(cat "$ERR")" "... and names the opt-in"
no_password "stripped greeting"
if grep -aq 'LOGIN' "$REC"; then fail "a LOGIN line was sent: $(cat -v "$REC")"; else pass "no LOGIN line was sent at all"; fi
if grep -q 'strip tls' "$PROXY_OUT"; then pass "control: the proxy deleted tls from the greeting ftx saw"; else fail "the proxy stripped nothing: $(cat "$PROXY_OUT")"; fi
if log_has 'login user=alice'; then fail "the server saw a login"; else pass "the server saw no login"; fi

# --tls insists: STARTTLS passes the stripper, and the session is TLS.
: >"$REC"
assert_exit 0 "stripped greeting, --tls --accept-new: works over TLS" \
    pftx --tls --accept-new --known-hosts "$KH" --user alice put "$src/f" --as tls.bin
assert_file_same "$src/f" "$ROOT/.users/alice/tls.bin" "the upload through the stripper arrived"
no_password "--tls through the stripper"
assert_match '^STARTTLS' "$(head -c 8 "$REC")" "STARTTLS was the first thing ftx sent"
stop_proxy

# ---------------------------------------------------------------- no stripper: TLS by itself

start_proxy
# An unknown certificate, non-interactive, no --accept-new: refused as
# with --tls, before LOGIN.
assert_exit 6 "auto-TLS, unknown certificate without --accept-new: exit 6" \
    pftx --known-hosts "$TMPD/kh.empty" --user alice ls
assert_match 'not known' "$(cat "$ERR")" "... and ftx says the certificate is not known"
no_password "unknown certificate"
assert_no_file "$TMPD/kh.empty" "nothing was trusted"
# Trust it once (--accept-new implies --tls), then go on without any
# TLS option: the greeting's offer is taken.
assert_exit 0 "trust the server once (--accept-new)" pftx --accept-new --known-hosts "$KH" --user alice ls
: >"$REC"
assert_exit 0 "no --tls: put upgrades to TLS by itself" \
    pftx --known-hosts "$KH" --user alice put "$src/f" --as auto.bin
assert_file_same "$src/f" "$ROOT/.users/alice/auto.bin" "the upload arrived"
assert_exit 0 "no --tls: get, verified" pftx --known-hosts "$KH" --user alice get auto.bin -o "$TMPD/dl"
assert_file_same "$src/f" "$TMPD/dl/auto.bin" "the download is intact"
assert_exit 0 "no --tls: ls" pftx --known-hosts "$KH" --user alice ls
assert_match 'auto\.bin' "$(cat "$OUT")" "ls lists the file"
if grep -q 'warning' "$ERR"; then fail "a warning on a TLS session: $(cat "$ERR")"; else pass "no plaintext warning"; fi
no_password "auto-TLS"
if [ "$(head -c 9 "$REC" | tr '\n' '|')" = 'STARTTLS|' ] && ! grep -aq -e LOGIN -e UPLOAD -e LIST "$REC"; then
	pass "the client's bytes: STARTTLS, then nothing readable (no LOGIN, UPLOAD or LIST)"
else
	fail "the client's bytes: $(head -c 200 "$REC" | cat -v)"
fi
if log_has ' tls TLSv1\.[23] '; then pass "the server logged TLS sessions"; else fail "no TLS in the server log"; fi
stop_proxy
stop_server

# ---------------------------------------------------------------- the opt-in

start_server --users "$USERS" --login-max-fails 1000 --allow-plaintext-login --anonymous read-only
start_proxy
assert_exit 6 "no TLS offered: refused without the opt-in" pftx --user alice ls
no_password "no TLS, no opt-in"
: >"$REC"
assert_exit 0 "--allow-plaintext-password: login works without TLS" pftx --allow-plaintext-password --user alice login
assert_match '^logged in as alice' "$(cat "$OUT")" "... logged in as alice"
assert_match 'warning: --allow-plaintext-password: sending the password of alice without TLS' "$(cat "$ERR")" \
    "... with a warning"
if grep -aqF "LOGIN alice $PW" "$REC"; then pass "the opt-in did send the password (as the recording shows)"; else fail "no LOGIN in: $(cat -v "$REC")"; fi
assert_exit 0 "FTX_ALLOW_PLAINTEXT_PASSWORD=1 does the same" env FTX_ALLOW_PLAINTEXT_PASSWORD=1 \
    FTX_PASSWORD="$PW" timeout -k 2 30 "$FTX_BIN" --host 127.0.0.1 --port "$PROXY_PORT" --user alice ls </dev/null
assert_exit 2 "FTX_ALLOW_PLAINTEXT_PASSWORD=yes is a usage error" env FTX_ALLOW_PLAINTEXT_PASSWORD=yes \
    "$FTX_BIN" --host 127.0.0.1 --port "$PROXY_PORT" ls
: >"$REC"
assert_exit 0 "anonymous needs no opt-in" pftx --user anonymous ls
assert_eq "" "$(grep -a 'LOGIN' "$REC" | grep -av '^LOGIN anonymous$')" "anonymous: LOGIN carries no password"
stop_proxy
assert_alive "the plaintext logins"
stop_server

finish
