#!/bin/bash
# Two ftxd nodes behind a real HAProxy (docs/SCALING.md, "Nodes behind
# HAProxy"): the balancer on 127.0.0.10, node 1 on 127.0.0.11, node 2 on
# 127.0.0.12, both serving ONE shared root directory (a shared POSIX
# root, partials and hash cache included), each trusting PROXY v2
# headers from 127.0.0.10 only and announcing the balancer's data port
# for it (--public-data-port).  Checks:
#  - the greeting health check (tcp-check with check-send-proxy, i.e. a
#    LOCAL header) marks both nodes up;
#  - ftx put through the balancer, ftx get through it on the other node
#    (round robin), byte-identical (sha256);
#  - the nodes log the client's real address (127.0.0.1), not the
#    balancer's, and WHOAMI says it too;
#  - per-IP limits count the real client: four sessions from 127.0.0.1
#    through the balancer fill --max-per-ip 2 on both nodes, and a
#    fifth is refused, while a different real address behind the same
#    balancer still gets in;
#  - a PROXY header from an untrusted address (127.0.0.1 directly, on
#    the control and the data port) is refused and the node keeps
#    serving; a trusted connection with a bad header, or none, is closed;
#  - a node killed (SIGKILL) in the middle of a slow upload (--max-rate):
#    the client (--retries) resumes through the balancer on the other
#    node, and the file is intact.
# Needs haproxy: SKIP (77) without it.
. "$(dirname "$0")/lib.sh"

HAPROXY=$(command -v haproxy 2>/dev/null || ls /usr/sbin/haproxy 2>/dev/null)
[ -n "$HAPROXY" ] && [ -x "$HAPROXY" ] ||
	skip "haproxy is not installed (install with make deps-cluster)"

LB=127.0.0.10
N1=127.0.0.11
N2=127.0.0.12
MiB=1048576
src=$TMPD/src
mkdir -p "$src"

# Three free ports on the balancer's address: control, node 1's data,
# node 2's data (the nodes must be told theirs before they start).
free_ports() {
	python3 - "$LB" <<'EOF'
import socket, sys
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind((sys.argv[1], 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
read -r LB_CTRL LB_D1 LB_D2 < <(free_ports)
[ -n "${LB_D2:-}" ] || { fail "no free ports on $LB"; exit 1; }

# ---------------------------------------------------------------- nodes

ROOT=$TMPD/shared-root
mkdir -p "$ROOT"
NODE_ARGS=(--proxy-from "$LB" --max-per-ip 2 --max-rate 2M --no-udp-echo)
BIND=$N1 start_server "${NODE_ARGS[@]}" --public-data-port "$LB_D1"
P1=$SERVER_PID C1=$CTRL_PORT D1=$DATA_PORT L1=$LOG
BIND=$N2 start_server "${NODE_ARGS[@]}" --public-data-port "$LB_D2"
P2=$SERVER_PID C2=$CTRL_PORT D2=$DATA_PORT L2=$LOG
if grep -q "PROXY headers required from $LB " "$L1"; then
	pass "node 1 says whom it trusts for PROXY headers"
else
	fail "node 1 does not log its --proxy-from"
fi

# ---------------------------------------------------------------- haproxy

REPO=$(cd "$ITEST_DIR/../.." && pwd)
if "$HAPROXY" -c -f "$REPO/deploy/haproxy.cfg.example" >"$TMPD/example.check" 2>&1; then
	pass "deploy/haproxy.cfg.example is a valid HAProxy configuration"
else
	fail "deploy/haproxy.cfg.example: $(tail -n 5 "$TMPD/example.check")"
fi

# The test's copy of deploy/haproxy.cfg.example, on its own addresses
# and with short check intervals.
cat >"$TMPD/haproxy.cfg" <<EOF
global
	maxconn 256
	log stdout format raw local0 info

defaults
	mode tcp
	log global
	option tcplog
	timeout connect 2s
	timeout client 120s
	timeout server 120s
	timeout check 2s
	retries 3
	option redispatch
	source $LB

frontend ftx_control
	bind $LB:$LB_CTRL
	default_backend ftx_nodes

backend ftx_nodes
	balance roundrobin
	option tcp-check
	tcp-check expect string "OK FTX/1 "
	server node1 $N1:$C1 send-proxy-v2 check check-send-proxy inter 300ms fall 2 rise 1
	server node2 $N2:$C2 send-proxy-v2 check check-send-proxy inter 300ms fall 2 rise 1

frontend ftx_data_node1
	bind $LB:$LB_D1
	default_backend ftx_data_node1

backend ftx_data_node1
	server node1 $N1:$D1 send-proxy-v2 track ftx_nodes/node1

frontend ftx_data_node2
	bind $LB:$LB_D2
	default_backend ftx_data_node2

backend ftx_data_node2
	server node2 $N2:$D2 send-proxy-v2 track ftx_nodes/node2
EOF
if ! "$HAPROXY" -c -f "$TMPD/haproxy.cfg" >"$TMPD/haproxy.check" 2>&1; then
	fail "haproxy rejects the configuration"
	cat "$TMPD/haproxy.check" >&2
	exit 1
fi
# -C names the build directory so that the cleanup (and run.sh) know the
# process for ours; the configuration uses absolute paths only.
"$HAPROXY" -db -C "$FTX_BUILD" -f "$TMPD/haproxy.cfg" >"$TMPD/haproxy.out" 2>&1 &
HAPROXY_PID=$!
track_pid "$HAPROXY_PID"

# Both nodes up: the health check read each greeting after a LOCAL
# header (a node's log then shows the balancer's own session).
checked() {
	grep -q "^[^ ]* $LB:[0-9]* connect" "$L1" && grep -q "^[^ ]* $LB:[0-9]* connect" "$L2"
}
if wait_for 10 checked; then
	pass "the greeting health check (LOCAL header) reached both nodes"
else
	fail "no health check seen on the nodes"
	cat "$TMPD/haproxy.out" >&2
fi
if wait_for 10 "$FTXRAW" -h "$LB" -p "$LB_CTRL" -t 2 ctl 'ok:^OK FTX/1 ' >/dev/null 2>&1; then
	pass "the balancer forwards control connections"
else
	fail "no greeting through the balancer"
	cat "$TMPD/haproxy.out" >&2
fi
sleep 1 # a check round more: both nodes marked up

lbftx() {
	timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$LB" --port "$LB_CTRL" "$@"
}

# node_of NAME VERB: which node's log has "cmd VERB NAME" (1, 2, or
# "1 2" if both).
node_of() {
	local n=
	grep -q "cmd $2 $1\$" "$L1" && n=1
	grep -q "cmd $2 $1\$" "$L2" && n="${n:+$n }2"
	echo "$n"
}

# ---------------------------------------------------------------- round trip

mkrand "$src/small" $((MiB / 2 + 12345))
assert_exit 0 "ftx put through the balancer" lbftx -q put "$src/small" --as small.bin
assert_file_same "$src/small" "$ROOT/small.bin" "upload stored in the shared root"
up=$(node_of small.bin UPLOAD)
assert_match '^[12]$' "$up" "one node took the upload"
# Round robin sends the next session to the other node; the health
# checks do not take turns, but allow a few tries anyway.
other=$((3 - ${up:-1}))
for i in 1 2 3 4; do
	rm -rf "$TMPD/dl"
	assert_exit 0 "ftx get through the balancer ($i)" lbftx -q get small.bin -o "$TMPD/dl"
	case " $(node_of small.bin DOWNLOAD) " in *" $other "*) break ;; esac
done
assert_file_same "$src/small" "$TMPD/dl/small.bin" "download through the balancer identical"
case " $(node_of small.bin DOWNLOAD) " in
*" $other "*) pass "the download was served by the other node ($other)" ;;
*) fail "node $other never served the download (round robin)" ;;
esac
assert_eq "$(sha256_of "$src/small")" "$(lbftx hash small.bin 2>/dev/null | cut -c1-64)" \
    "HASH through the balancer (shared hash cache)"

# ---------------------------------------------------------------- real addresses

if grep -q "^[^ ]* 127\.0\.0\.1:[0-9]* proxied control via $LB:" "$L1" &&
    grep -q "^[^ ]* 127\.0\.0\.1:[0-9]* proxied data via $LB:" "$L1" &&
    grep -q "^[^ ]* 127\.0\.0\.1:[0-9]* cmd UPLOAD\|^[^ ]* 127\.0\.0\.1:[0-9]* cmd DOWNLOAD" "$L1" &&
    grep -q "^[^ ]* 127\.0\.0\.1:[0-9]* cmd DOWNLOAD\|^[^ ]* 127\.0\.0\.1:[0-9]* cmd UPLOAD" "$L2"; then
	pass "both nodes log the client's real address (127.0.0.1)"
else
	fail "the nodes do not log the client's real address"
fi
if grep -E "^[^ ]* $LB:[0-9]+ cmd (UPLOAD|DOWNLOAD)" "$L1" "$L2" >/dev/null; then
	fail "a node logged a transfer under the balancer's address"
else
	pass "no transfer logged under the balancer's address"
fi
raw "WHOAMI through the balancer shows the client" -h "$LB" -p "$LB_CTRL" \
    ctl line:WHOAMI 'ok:^OK - 127\.0\.0\.1:[0-9]+ '

# ---------------------------------------------------------------- per-IP limit

# PROXY v2 headers as ftxraw escapes: LOCAL, and TCP4 from SRC (four
# decimal octets) to the balancer.
SIG='\r\n\r\n\0\r\nQUIT\n'
hdr4() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '%s\\x21\\x11\\x00\\x0c\\x%02x\\x%02x\\x%02x\\x%02x\\x7f\\x00\\x00\\x0a\\x9c\\x40\\x13\\x89' \
	    "$SIG" "$a" "$b" "$c" "$d"
}
H_CLIENT=$(hdr4 127.0.0.1)
H_OTHER=$(hdr4 127.0.0.77)

# --max-per-ip 2 on each node: four sessions of 127.0.0.1 fill both,
# the fifth and sixth are refused.  Without the PROXY header they would
# all be the balancer's, and the third would already be refused.
raw "per-IP limit: the real client's address is counted" -h "$LB" -p "$LB_CTRL" \
    ctl 'ok:^OK FTX/1 ' ctl 'ok:^OK FTX/1 ' ctl 'ok:^OK FTX/1 ' ctl 'ok:^OK FTX/1 ' \
    ctl 'ok:^ERROR LIMIT too many connections from your address' \
    ctl 'ok:^ERROR LIMIT too many connections from your address'
# On one node (directly, with trusted forged headers): two sessions of
# 127.0.0.1 fill it, another real address behind the balancer gets in.
raw "per-IP limit: another client behind the same balancer is not refused" -h "$N1" -p "$C1" \
    "ctl:$H_CLIENT@$LB" 'ok:^OK FTX/1 ' "ctl:$H_CLIENT@$LB" 'ok:^OK FTX/1 ' \
    "ctl:$H_CLIENT@$LB" 'ok:^ERROR LIMIT ' \
    "ctl:$H_OTHER@$LB" 'ok:^OK FTX/1 ' line:WHOAMI 'ok:^OK - 127\.0\.0\.77:40000 '

# ---------------------------------------------------------------- untrusted and bad headers

HOST=$N1 CTRL_PORT=$C1
raw "untrusted PROXY header on the control port refused, its QUIT not run" \
    "ctl:$H_OTHER" drain:2 'has:^ERROR PERM PROXY header not accepted' 'no:^OK'
if grep -q "^[^ ]* 127\.0\.0\.1:[0-9]* refused: PROXY header from an address not trusted" "$L1"; then
	pass "untrusted PROXY header logged"
else
	fail "untrusted PROXY header not logged"
fi
raw "untrusted PROXY header on the data port refused" \
    ctl 'line:UPLOAD u.bin 10' 'ok:^OK ' "dport:$D1" data:none "draw:$H_OTHER" sleep:0.5 \
    data dgen:10 ddigest read 'ok:^DONE '
if grep -q "data-reject reason=PROXY header from an untrusted address" "$L1"; then
	pass "untrusted PROXY header on a data connection logged"
else
	fail "untrusted data-connection PROXY header not logged"
fi
assert_alive "untrusted PROXY headers (node 1)"

n0=$(grep -c "proxy-reject control" "$L1")
raw "trusted connection without a header is closed" \
    "ctl:NOOP\n@$LB" 'ok:^(EOF|RESET)$'
raw "trusted connection with a version 1 header is closed" \
    "ctl:PROXY TCP4 127.0.0.9 127.0.0.10 1 2\r\nNOOP\n@$LB" 'ok:^(EOF|RESET)$'
raw "trusted connection with a bad version is closed" \
    "ctl:${SIG}\x11\x11\x00\x0c@$LB" 'ok:^(EOF|RESET)$'
raw "trusted connection with an AF_UNIX header is closed" \
    "ctl:${SIG}\x21\x31\x00\x00@$LB" 'ok:^(EOF|RESET)$'
raw "trusted connection with an oversized header is closed" \
    "ctl:${SIG}\x21\x11\xff\xff@$LB" 'ok:^(EOF|RESET)$'
raw "trusted connection with a PROXY header twice is refused" \
    "ctl:$H_OTHER$H_CLIENT@$LB" 'ok:^OK FTX/1 ' drain:2 'has:^ERROR PERM PROXY header' 'no:^OK'
raw "trusted LOCAL header: the balancer's own session" \
    "ctl:${SIG}\x20\x00\x00\x00@$LB" 'ok:^OK FTX/1 ' line:WHOAMI "ok:^OK - $LB:"
n1=$(grep -c "proxy-reject control" "$L1")
assert_eq 5 $((n1 - n0)) "each bad trusted header logged as proxy-reject"
grep "proxy-reject control" "$L1" | tail -n 5 | sed 's/^/    /'
raw "a trusted header on the data port must be a header too" \
    ctl 'line:UPLOAD u2.bin 10' 'ok:^OK ' "dport:$D1" "data:bad@$LB" sleep:0.3 \
    data dgen:10 ddigest read 'ok:^DONE '
if grep -q "proxy-reject data reason=no PROXY v2 signature" "$L1"; then
	pass "trusted data connection without a header refused"
else
	fail "trusted data connection without a header not refused"
fi
assert_alive "bad trusted headers (node 1)"
HOST=127.0.0.1

# ---------------------------------------------------------------- failover

# 6 MiB at 2 MiB/s: about 3 s, so the node serving it can be killed
# half way; the client retries through the balancer, which by then has
# marked the node down (or redispatches), and resumes on the other node
# from the partial both share.
mkrand "$src/big" $((6 * MiB))
FTX_RETRY_BASE_MS=300 lbftx --retries 8 put "$src/big" --as big.bin \
    >"$TMPD/big.out" 2>"$TMPD/big.err" &
cpid=$!
track_pid $cpid
partial_bytes() {
	find "$ROOT/.ftx" -mindepth 2 -type f -path '*partial*' ! -name '*.lock' \
	    -printf '%s\n' 2>/dev/null | sort -n | tail -n 1
}
big_started() { [ -n "$(node_of big.bin UPLOAD)" ] && [ "$(partial_bytes)" -ge $((MiB + MiB / 2)) ] 2>/dev/null; }
if wait_for 20 big_started; then
	pass "the slow upload is under way"
else
	fail "the slow upload did not start (partial $(partial_bytes))"
fi
victim=$(node_of big.bin UPLOAD)
if [ "$victim" = 1 ]; then vpid=$P1 survivor=2 SL=$L2; else vpid=$P2 survivor=1 SL=$L1; fi
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null
echo "killed node $victim (pid $vpid) at $(partial_bytes) bytes"
wait_pid $cpid 60
assert_eq 0 "$WAIT_RC" "ftx --retries finished the upload after node $victim died"
assert_file_same "$src/big" "$ROOT/big.bin" "the upload survived the node's death intact"
if grep -Eq "retry [0-9]+/8" "$TMPD/big.err"; then
	pass "the client reported its retry"
else
	fail "no retry reported: $(head -c 400 "$TMPD/big.err")"
fi
if grep -Eq "127\.0\.0\.1:[0-9]+ cmd (UPLOAD|PARTIAL) big\.bin" "$SL"; then
	pass "node $survivor finished the upload"
else
	fail "node $survivor did not take over the upload"
fi
# Resumed, not restarted: the client said so, and the survivor received
# less than the whole file.
if grep -q "resuming upload of big.bin at [0-9]" "$TMPD/big.err"; then
	pass "the client resumed from the shared partial"
else
	fail "the client did not resume: $(head -c 400 "$TMPD/big.err")"
fi
got=$(sed -nE 's/.* xfer upload name=big\.bin bytes=([0-9]+) .*result=ok$/\1/p' "$SL" | tail -n 1)
if [ -n "$got" ] && [ "$got" -lt $((6 * MiB)) ]; then
	pass "node $survivor received only the rest ($got bytes)"
else
	fail "node $survivor did not resume: '$got' bytes; $(grep big.bin "$SL" | tail -n 3 | tr '\n' ';')"
fi
rm -rf "$TMPD/dl"
assert_exit 0 "the file downloads through the balancer after the failover" \
    lbftx -q get big.bin -o "$TMPD/dl"
assert_file_same "$src/big" "$TMPD/dl/big.bin" "downloaded after the failover identical"

finish
