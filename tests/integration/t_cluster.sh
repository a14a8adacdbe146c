#!/bin/bash
# The whole cluster (docs/SCALING.md): a real radosgw (a throwaway
# single-node Ceph, tests/cluster/rgw.sh), redis-server, HAProxy and
# ftxd nodes keeping their files in the bucket (--store s3://BUCKET/PREFIX)
# and sharing one chat room through Redis.
#
#	127.0.0.50  HAProxy: control frontend A (round robin over A1, A2),
#	            B (B1, B2) and C (C1, C2), one data port per node
#	127.0.0.51  radosgw          127.0.0.52  redis-server
#	127.0.0.53  node A1          127.0.0.54  node A2     (no accounts,
#	            --chat-redis, --max-rate so big uploads are mid-way long
#	            enough to break)
#	127.0.0.55  node B1          127.0.0.56  node B2     (accounts, a
#	            quota, the login lockout)
#	127.0.0.57  node C1          127.0.0.58  node C2     (one shared
#	            local root: the shared-directory leg, a round trip)
#	127.0.0.6x  clients with addresses of their own (ftxraw)
#
# Every node has a local --root of its own: whatever a node serves that
# another node stored came through the bucket.  Checks:
#  - an upload through the balancer, its download through the other
#    node, byte-identical; `ftx hash` equals sha256sum; the object is in
#    the bucket under PREFIX/NAME with x-amz-meta-ftx-sha256 and its bytes
#    (a multipart object's SHA-256 is its ftx-sha256 tag), no partial or
#    multipart upload left; the same round trip on two nodes sharing a
#    local directory;
#  - folders: put -r, ls -R, get -r, diff -r; mkdir, rmdir, mv, rm, rm -r,
#    and what each leaves in the bucket;
#  - per-user areas: a user's file is PREFIX/.users/USER/NAME and no
#    other user sees it or reaches it by a path; an upload over the quota
#    is refused and leaves nothing visible, and usage adds up over the
#    stored objects;
#  - chat across nodes: join notices, broadcast, @nick, /who, a nick
#    taken on one node refused on the other;
#  - redis-server killed: members on both nodes are told, files are
#    still served; restarted: "chat bus back", chat crosses nodes again;
#  - a PROXY header from an untrusted address refused; the login
#    lockout applied to the real client behind the balancer (another
#    address behind the same balancer still logs in);
#  - radosgw stopped in the middle of an upload: the client gets an
#    error naming the store, nothing is visible under the name, the node
#    keeps answering (LS and HASH: a clear ERROR); after radosgw is back
#    the same upload works;
#  - a node killed (SIGKILL) in the middle of a 64 MiB upload: the
#    client retries through the balancer and resumes on the other node
#    (fewer bytes sent), the file intact; its download, interrupted,
#    resumes (a ranged read of the object);
#  - start-up: a wrong S3 secret, a credentials file others can read, an
#    unreachable endpoint, a missing bucket: ftxd exits non-zero with a
#    clear message (never the secret).
# FTX_CLUSTER_STORE=dir runs the same checks on a shared local root
# instead of the bucket (object checks become file checks).
# Needs haproxy, redis-server, radosgw, ceph-mon, ceph-osd, ceph-common,
# curl: SKIP (77) without them (make deps-cluster), or a failure if
# FTX_REQUIRE_CLUSTER is set (.ci/run sets it).
. "$(dirname "$0")/lib.sh"

trap '' PIPE

MODE=${FTX_CLUSTER_STORE:-s3}
HAPROXY=$(command -v haproxy 2>/dev/null || ls /usr/sbin/haproxy 2>/dev/null)
missing=
[ -n "$HAPROXY" ] && [ -x "$HAPROXY" ] || missing="$missing haproxy"
REDIS_SERVER=$(command -v redis-server) || missing="$missing redis-server"
REDIS_CLI=$(command -v redis-cli) || missing="$missing redis-cli"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ "$MODE" = s3 ]; then
	for b in radosgw ceph-mon ceph-osd ceph radosgw-admin; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
			[ -x "/usr/bin/$b" ] || missing="$missing $b"
	done
fi
if [ -n "$missing" ]; then
	# CI (.ci/run) installs them: there, missing is a failure.
	if [ -n "${FTX_REQUIRE_CLUSTER:-}" ]; then
		fail "not installed:$missing (FTX_REQUIRE_CLUSTER is set; make deps-cluster)"
		exit 1
	fi
	skip "not installed:$missing (install with make deps-cluster)"
fi
PATH=$PATH:/usr/sbin
if [ "$MODE" = s3 ] && ! "$FTXD" --help 2>&1 | grep -q -- '--store'; then
	fail "this ftxd has no --store option (the S3 backend)"
	exit 1
fi

REPO=$(cd "$ITEST_DIR/../.." && pwd)
RGW_SH=$REPO/tests/cluster/rgw.sh
LB=127.0.0.50
RGW_ADDR=127.0.0.51
REDIS_ADDR=127.0.0.52
declare -A ADDR=([A1]=127.0.0.53 [A2]=127.0.0.54 [B1]=127.0.0.55 [B2]=127.0.0.56
    [C1]=127.0.0.57 [C2]=127.0.0.58)
MiB=1048576
BUCKET=ftxc
PREFIX=t$$
src=$TMPD/src
mkdir -p "$src"
isolate_client
T_START=$(date +%s)
stamp() { echo "---- $(($(date +%s) - T_START)) s: $*"; }

# Free ports on an address (nothing listens there now).
free_ports() {
	python3 - "$@" <<'EOF'
import socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind((addr, 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# ---------------------------------------------------------------- radosgw

RGWD=$TMPD/rgw
_cluster_exit() {
	local rc=$?
	if [ -f "$RGWD/env" ]; then
		if [ "$FAILS" -gt 0 ] || [ "$rc" -ne 0 ]; then
			echo "---- last lines of the radosgw log:" >&2
			tail -n 5 "$RGWD/log/radosgw.log" 2>/dev/null >&2
		fi
		bash "$RGW_SH" stop "$RGWD" >&2
	fi
	(exit $rc)
	_cleanup
}
trap _cluster_exit EXIT

if [ "$MODE" = s3 ]; then
	read -r RGW_PORT < <(free_ports "$RGW_ADDR" 1)
	# argv[0] under tests/integration: the cleanup and run.sh know the
	# daemons for ours.
	t0=$(date +%s)
	if RGW_ARGV0=$ITEST_DIR bash "$RGW_SH" start "$RGWD" "$RGW_ADDR" "$RGW_PORT" "$BUCKET" \
	    >"$TMPD/rgw.start" 2>&1; then
		pass "radosgw up in $(($(date +%s) - t0)) s ($(tail -n 1 "$TMPD/rgw.start"))"
	else
		fail "rgw.sh start failed:"
		sed 's/^/    /' "$TMPD/rgw.start" >&2
		exit 1
	fi
	. "$RGWD/env"
	for p in "$MON_PID" "$OSD_PID" "$RGW_PID"; do
		track_pid "$p"
	done
	CRED=$TMPD/s3.credentials
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	    "$S3_ACCESS" "$S3_SECRET" >"$CRED"
	chmod 0600 "$CRED"
	STORE_ARGS=(--store "s3://$BUCKET/$PREFIX" --s3-endpoint "$S3_ENDPOINT"
	    --s3-credentials "$CRED")
fi

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
# s3curl CURL-ARGS... URL-PATH: a signed request to the bucket.  (curl
# 7.88 signs the payload hash but does not send x-amz-content-sha256.)
s3curl() {
	curl -s --max-time 20 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	    --user "$S3_ACCESS:$S3_SECRET" -H "x-amz-content-sha256: $EMPTY_SHA256" "$@"
}
# obj_status KEY: the HTTP status of a HEAD of KEY (relative to PREFIX);
# the headers in $TMPD/head.out.
obj_status() {
	s3curl -I -o "$TMPD/head.out" -w '%{http_code}' "$S3_ENDPOINT/$BUCKET/$PREFIX/$1"
}
# obj_meta KEY: its x-amz-meta-ftx-sha256 ("" if none or missing).
obj_meta() {
	obj_status "$1" >/dev/null
	tr -d '\r' <"$TMPD/head.out" | sed -n 's/^x-amz-meta-ftx-sha256: *//Ip' | head -n 1
}
# obj_tag KEY NAME: the value of its tag NAME ("" if none).  ftxd puts a
# multipart object's SHA-256 in a tag: a multipart upload's metadata is
# fixed when it begins, before the hash is known.
obj_tag() {
	s3curl "$S3_ENDPOINT/$BUCKET/$PREFIX/$1?tagging=" >"$TMPD/tags.xml"
	python3 - "$TMPD/tags.xml" "$2" <<'EOF2'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
try:
    root = ET.parse(sys.argv[1]).getroot()
except ET.ParseError:
    sys.exit(0)
for t in root.iter("{%s}Tag" % ns["s"]):
    if t.findtext("s:Key", "", ns) == sys.argv[2]:
        print(t.findtext("s:Value", "", ns))
EOF2
}
# obj_list SUB: every key under PREFIX/SUB, relative to PREFIX, with its
# size ("KEY SIZE" lines, sorted).  Bounded to 20 pages.
obj_list() {
	local p token='' i
	p=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="-_.~"))' "$PREFIX/$1")
	: >"$TMPD/list.txt"
	for i in $(seq 1 20); do
		s3curl "$S3_ENDPOINT/$BUCKET?${token:+continuation-token=$token&}list-type=2&prefix=$p" \
		    >"$TMPD/list.xml"
		# The keys go to list.txt, the next page's token to stderr.
		token=$(python3 - "$TMPD/list.xml" "$PREFIX/" 2>&1 >>"$TMPD/list.txt" <<'EOF'
import sys, urllib.parse, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
root = ET.parse(sys.argv[1]).getroot()
for c in root.findall("s:Contents", ns):
    k = c.find("s:Key", ns).text
    print(k[len(sys.argv[2]):] if k.startswith(sys.argv[2]) else k, c.find("s:Size", ns).text)
t = root.find("s:NextContinuationToken", ns)
if root.findtext("s:IsTruncated", "false", ns) == "true" and t is not None:
    sys.stderr.write(urllib.parse.quote(t.text, safe="") + "\n")
EOF
		)
		[ -n "$token" ] || break
	done
	LC_ALL=C sort "$TMPD/list.txt"
}

# uploads_list: the keys (relative to PREFIX) of the multipart uploads
# begun and neither completed nor aborted.  (curl signs the query as
# written: it must be sorted, "uploads=" with its "=".)
uploads_list() {
	local p
	p=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="-_.~"))' "$PREFIX/")
	s3curl "$S3_ENDPOINT/$BUCKET?prefix=$p&uploads=" >"$TMPD/uploads.xml"
	python3 - "$TMPD/uploads.xml" "$PREFIX/" <<'EOF2'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
root = ET.parse(sys.argv[1]).getroot()
if not root.tag.endswith("ListMultipartUploadsResult"):
    print("LIST-FAILED " + root.tag)
for u in root.findall("s:Upload", ns):
    k = u.find("s:Key", ns).text
    print(k[len(sys.argv[2]):] if k.startswith(sys.argv[2]) else k)
EOF2
}

# The store, either way: stored_sha NAME (the recorded SHA-256, "" if
# not stored), stored_get NAME FILE (its bytes), stored_keys SUB (names
# under SUB, directories with a trailing /).
stored_sha() {
	local m
	if [ "$MODE" = s3 ]; then
		[ "$(obj_status "$1")" = 200 ] || return 0
		m=$(obj_meta "$1")
		if [ -z "$m" ]; then
			m=$(obj_tag "$1" ftx-sha256)
			[ -n "$m" ] && echo "(the SHA-256 of $1 is in its tags, not in x-amz-meta-ftx-sha256)" >&2
		fi
		printf '%s\n' "$m"
	elif [ -f "$(dir_root "$1")/$1" ]; then
		sha256_of "$(dir_root "$1")/$1"
	fi
}
# dir_root NAME: with FTX_CLUSTER_STORE=dir, the shared root NAME is in
# (the users' areas are B's).
dir_root() {
	case $1 in
	.users/*) echo "$TMPD/shared-B" ;;
	*) echo "$SHARED_ROOT" ;;
	esac
}
stored_get() {
	if [ "$MODE" = s3 ]; then
		s3curl -o "$2" "$S3_ENDPOINT/$BUCKET/$PREFIX/$1"
	else
		cp "$(dir_root "$1")/$1" "$2"
	fi
}
stored_keys() {
	if [ "$MODE" = s3 ]; then
		obj_list "$1" | awk '{ print $1 }'
	else
		(cd "$(dir_root "$1")" && find "$1" -mindepth 1 \( -type d -printf '%p/\n' \) -o -printf '%p\n' 2>/dev/null |
		    LC_ALL=C sort)
	fi
}

# ---------------------------------------------------------------- start-up errors

if [ "$MODE" = s3 ]; then
	# ftxd_once ARGS...: a node that should not start; output in $TMPD/once.out.
	ftxd_once() {
		timeout 20 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 \
		    --root "$TMPD/once-root" --no-udp-echo "$@" >"$TMPD/once.out" 2>&1
	}
	printf 'aws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS" \
	    "wrong${S3_SECRET#wrong}x" >"$TMPD/bad.cred"
	chmod 0600 "$TMPD/bad.cred"
	ftxd_once --store "s3://$BUCKET/$PREFIX" --s3-endpoint "$S3_ENDPOINT" \
	    --s3-credentials "$TMPD/bad.cred"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'refused our credentials' "$TMPD/once.out"; then
		pass "a wrong S3 secret stops ftxd at start-up (exit $rc): $(grep -m 1 'refused our credentials' "$TMPD/once.out")"
	else
		fail "wrong S3 secret: exit $rc: $(head -c 400 "$TMPD/once.out")"
	fi
	if grep -q -- "${S3_SECRET}" "$TMPD/once.out"; then
		fail "ftxd printed the (wrong) secret"
	else
		pass "the secret is not printed"
	fi
	cp "$CRED" "$TMPD/open.cred"
	chmod 0644 "$TMPD/open.cred"
	ftxd_once "${STORE_ARGS[@]:0:4}" --s3-credentials "$TMPD/open.cred"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'open.cred' "$TMPD/once.out"; then
		pass "a credentials file others can read is refused (exit $rc)"
	else
		fail "0644 credentials file: exit $rc: $(head -c 400 "$TMPD/once.out")"
	fi
	read -r dead_port < <(free_ports "$RGW_ADDR" 1)
	ftxd_once --store "s3://$BUCKET/$PREFIX" --s3-endpoint "http://$RGW_ADDR:$dead_port" \
	    --s3-credentials "$CRED"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 's3:.*cannot reach' "$TMPD/once.out"; then
		pass "an unreachable endpoint stops ftxd at start-up (exit $rc)"
	else
		fail "unreachable endpoint: exit $rc: $(head -c 400 "$TMPD/once.out")"
	fi
	ftxd_once --store "s3://nosuchbucket$$" --s3-endpoint "$S3_ENDPOINT" --s3-credentials "$CRED"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "nosuchbucket$$" "$TMPD/once.out"; then
		pass "a missing bucket stops ftxd at start-up and is named (exit $rc)"
	else
		fail "missing bucket: exit $rc: $(head -c 400 "$TMPD/once.out")"
	fi
	stamp "start-up errors done"
fi

# ---------------------------------------------------------------- redis

read -r REDIS_PORT < <(free_ports "$REDIS_ADDR" 1)
REDIS_PID=
rcli() { timeout 5 "$REDIS_CLI" -h "$REDIS_ADDR" -p "$REDIS_PORT" "$@"; }
start_redis() {
	(exec -a "$ITEST_DIR/redis-server" "$REDIS_SERVER" --port "$REDIS_PORT" \
	    --bind "$REDIS_ADDR" --save '' --appendonly no \
	    --dir "$TMPD" --logfile "$TMPD/redis.log") &
	REDIS_PID=$!
	track_pid "$REDIS_PID"
	if wait_for 10 eval '[ "$(rcli ping 2>/dev/null)" = PONG ]'; then
		pass "redis-server up on $REDIS_ADDR:$REDIS_PORT"
	else
		fail "redis-server did not start: $(tail -n 5 "$TMPD/redis.log")"
		exit 1
	fi
}
start_redis

# ---------------------------------------------------------------- nodes

read -r LB_A LB_B LB_C LB_DA1 LB_DA2 LB_DB1 LB_DB2 LB_DC1 LB_DC2 < <(free_ports "$LB" 9)
[ -n "${LB_DC2:-}" ] || { fail "no free ports on $LB"; exit 1; }
declare -A LBD=([A1]=$LB_DA1 [A2]=$LB_DA2 [B1]=$LB_DB1 [B2]=$LB_DB2 [C1]=$LB_DC1 [C2]=$LB_DC2)
declare -A NPID NCTRL NDATA NLOG

SHARED_ROOT=
if [ "$MODE" = dir ]; then
	SHARED_ROOT=$TMPD/shared-A
	mkdir -p "$SHARED_ROOT" "$TMPD/shared-B"
fi
USERS=$TMPD/users
add_user alice 'alice-pw-3321' --quota 3M
add_user bob 'bob-pw-7789'

# start_node NAME ARGS...
start_node() {
	local n=$1
	shift
	local store=(${STORE_ARGS[@]+"${STORE_ARGS[@]}"})
	if [ "${n:0:1}" = C ]; then
		# The short shared-directory leg: C1 and C2 share one root.
		ROOT=$TMPD/shared-C
		store=()
	elif [ "$MODE" = s3 ]; then
		ROOT=$TMPD/local-$n
	else
		ROOT=$TMPD/shared-${n:0:1}
	fi
	mkdir -p "$ROOT"
	BIND=${ADDR[$n]} start_server --proxy-from "$LB" --public-data-port "${LBD[$n]}" \
	    --no-udp-echo ${store[@]+"${store[@]}"} "$@"
	NPID[$n]=$SERVER_PID NCTRL[$n]=$CTRL_PORT NDATA[$n]=$DATA_PORT NLOG[$n]=$LOG
}
# A: open, on the chat bus, 16 MiB/s per transfer (a 64 MiB upload
# takes 4 s: long enough to break it in the middle).
A_ARGS=(--chat-redis "redis://$REDIS_ADDR:$REDIS_PORT" --max-rate 16M)
start_node A1 "${A_ARGS[@]}" --node-id a1
start_node A2 "${A_ARGS[@]}" --node-id a2
B_ARGS=(--users "$USERS" --allow-plaintext-login --login-max-fails 3)
start_node B1 "${B_ARGS[@]}"
start_node B2 "${B_ARGS[@]}"
start_node C1
start_node C2
for n in A1 A2; do
	if wait_for 10 grep -q 'chat bus: up' "${NLOG[$n]}"; then
		pass "node $n is on the chat bus"
	else
		fail "node $n did not reach the chat bus: $(tail -n 3 "${NLOG[$n]}")"
	fi
done
stamp "nodes up"

# ---------------------------------------------------------------- haproxy

{
	cat <<EOF
global
	maxconn 512
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
EOF
	for c in A B C; do
		cat <<EOF

frontend ctl_$c
	bind $LB:$(eval echo "\$LB_$c")
	default_backend nodes_$c

backend nodes_$c
	balance roundrobin
	option tcp-check
	tcp-check expect string "OK FTX/1 "
EOF
		for n in ${c}1 ${c}2; do
			printf '\tserver %s %s:%s send-proxy-v2 check check-send-proxy inter 300ms fall 2 rise 1\n' \
			    "$n" "${ADDR[$n]}" "${NCTRL[$n]}"
		done
	done
	for n in A1 A2 B1 B2 C1 C2; do
		cat <<EOF

frontend data_$n
	bind $LB:${LBD[$n]}
	default_backend data_$n

backend data_$n
	server $n ${ADDR[$n]}:${NDATA[$n]} send-proxy-v2 track nodes_${n:0:1}/$n
EOF
	done
} >"$TMPD/haproxy.cfg"
if ! "$HAPROXY" -c -f "$TMPD/haproxy.cfg" >"$TMPD/haproxy.check" 2>&1; then
	fail "haproxy rejects the configuration: $(tail -n 5 "$TMPD/haproxy.check")"
	exit 1
fi
"$HAPROXY" -db -C "$FTX_BUILD" -f "$TMPD/haproxy.cfg" >"$TMPD/haproxy.out" 2>&1 &
HAPROXY_PID=$!
track_pid "$HAPROXY_PID"
checked() {
	local n
	for n in A1 A2 B1 B2 C1 C2; do
		grep -q "^[^ ]* $LB:[0-9]* connect" "${NLOG[$n]}" || return 1
	done
}
if wait_for 10 checked; then
	pass "the health check reached all six nodes"
else
	fail "no health check seen on every node: $(tail -n 5 "$TMPD/haproxy.out")"
fi
sleep 1 # one more check round: every node marked up

lbA() { timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$LB" --port "$LB_A" --retries 0 "$@"; }
lbC() { timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$LB" --port "$LB_C" --retries 0 "$@"; }
lbB() { timeout -k 2 "${FTX_TIMEOUT:-60}" "$FTX_BIN" --host "$LB" --port "$LB_B" --retries 0 "$@"; }
asA() {
	FTX_PASSWORD=$2 timeout -k 2 60 "$FTX_BIN" --host "$LB" --port "$LB_B" --retries 0 \
	    --user "$1" --allow-plaintext-password "${@:3}"
}
alice() { asA alice 'alice-pw-3321' "$@"; }
bob() { asA bob 'bob-pw-7789' "$@"; }

# node_of NAME VERB [NODES]: the nodes whose log has "cmd VERB NAME".
node_of() {
	local n out=
	for n in ${3:-A1 A2}; do
		grep -Eq "cmd $2 $1( |\$)" "${NLOG[$n]}" && out="${out:+$out }$n"
	done
	echo "$out"
}

# ---------------------------------------------------------------- round trip

stamp "round trip"
mkrand "$src/one.bin" $((3 * MiB + 4321))
SHA1=$(sha256_of "$src/one.bin")
assert_exit 0 "ftx put through the balancer" lbA -q put "$src/one.bin"
up=$(node_of one.bin UPLOAD)
assert_match '^A[12]$' "$up" "one node took the upload"
other=A1
[ "$up" = A1 ] && other=A2
for i in 1 2 3 4; do
	rm -rf "$TMPD/dl"
	assert_exit 0 "ftx get through the balancer ($i)" lbA -q get one.bin -o "$TMPD/dl"
	case " $(node_of one.bin DOWNLOAD) " in *" $other "*) break ;; esac
done
case " $(node_of one.bin DOWNLOAD) " in
*" $other "*) pass "node $other served the download of what $up stored" ;;
*) fail "node $other never served the download (round robin)" ;;
esac
assert_file_same "$src/one.bin" "$TMPD/dl/one.bin" "download through the other node identical"
assert_eq "$SHA1" "$(lbA hash one.bin 2>/dev/null | cut -c1-64)" "ftx hash equals sha256sum"
if [ "$MODE" = s3 ]; then
	assert_eq 200 "$(obj_status one.bin)" "the object is in the bucket as $PREFIX/one.bin"
	assert_eq "$SHA1" "$(obj_meta one.bin)" "the object carries x-amz-meta-ftx-sha256"
	len=$(tr -d '\r' <"$TMPD/head.out" | sed -n 's/^content-length: *//Ip')
	assert_eq $((3 * MiB + 4321)) "$len" "the object's length"
	stored_get one.bin "$TMPD/obj.bin"
	assert_file_same "$src/one.bin" "$TMPD/obj.bin" "the object's bytes are the file's"
	assert_eq "" "$(stored_keys .ftx/partial/ | head -n 3)" "no partial upload left"
	assert_eq "" "$(uploads_list | head -n 3)" "no multipart upload left open"
	# Nothing of it on the nodes' local disks.
	assert_eq "" "$(find "$TMPD"/local-* -name 'one.bin*' | head -n 3)" \
	    "the file is not on a node's local disk"
else
	assert_file_same "$src/one.bin" "$SHARED_ROOT/one.bin" "the file is in the shared root"
fi

# The same on two nodes sharing a local directory (balancer C).
mkrand "$src/c.bin" $((MiB + 999))
assert_exit 0 "shared directory: put through balancer C" lbC -q put "$src/c.bin"
cup=$(node_of c.bin UPLOAD "C1 C2")
assert_match '^C[12]$' "$cup" "shared directory: one node took the upload"
cother=C1
[ "$cup" = C1 ] && cother=C2
for i in 1 2 3 4; do
	rm -rf "$TMPD/dl"
	assert_exit 0 "shared directory: get through balancer C ($i)" lbC -q get c.bin -o "$TMPD/dl"
	case " $(node_of c.bin DOWNLOAD "C1 C2") " in *" $cother "*) break ;; esac
done
case " $(node_of c.bin DOWNLOAD "C1 C2") " in
*" $cother "*) pass "shared directory: $cother served what $cup stored" ;;
*) fail "shared directory: $cother never served the download" ;;
esac
assert_file_same "$src/c.bin" "$TMPD/dl/c.bin" "shared directory: download identical"
assert_file_same "$src/c.bin" "$TMPD/shared-C/c.bin" "shared directory: the file is in the shared root"

# ---------------------------------------------------------------- folders

stamp "folders"
T=$src/tree
mkdir -p "$T/docs/old" "$T/img" "$T/empty"
for i in 1 2 3 4 5; do echo "note $i $RANDOM" >"$T/docs/n$i.txt"; done
echo "old" >"$T/docs/old/o.txt"
: >"$T/docs/zero"
mkrand "$T/img/pic.raw" $((MiB + 77))
mkrand "$T/img/small.raw" 5000
assert_exit 0 "put -r of a tree through the balancer" lbA -q put -r "$T"
lbA ls -R tree >"$TMPD/lsR.out" 2>"$TMPD/lsR.err"
for p in docs/n1.txt docs/old/o.txt docs/zero img/pic.raw img/small.raw empty; do
	if grep -q "tree/$p\b\|$p" "$TMPD/lsR.out"; then
		pass "ls -R shows $p"
	else
		fail "ls -R does not show $p: $(head -c 600 "$TMPD/lsR.out") $(cat "$TMPD/lsR.err")"
	fi
done
rm -rf "$TMPD/copy"
assert_exit 0 "get -r of the tree (another session, round robin)" lbA -q get -r tree "$TMPD/copy"
if diff -r "$T" "$TMPD/copy" >"$TMPD/diff.out" 2>&1; then
	pass "diff -r: the tree came back identical (the empty directory too)"
else
	fail "diff -r: $(head -n 10 "$TMPD/diff.out")"
fi
assert_eq "$(sha256_of "$T/img/pic.raw")" "$(stored_sha tree/img/pic.raw)" \
    "a tree file's recorded SHA-256 in the store"
assert_exit 0 "mkdir -p" lbA mkdir -p made/a/b
assert_match '(^|/)made/a/b/$' "$(stored_keys made/)" "mkdir -p: made/a/b/ is in the store"
assert_exit 0 "rmdir of an empty directory" lbA rmdir made/a/b
if stored_keys made/ | grep -q 'made/a/b/'; then
	fail "rmdir left made/a/b/ in the store: $(stored_keys made/)"
else
	pass "rmdir: made/a/b/ is gone from the store"
fi
assert_exit_in "1 4" "rmdir of a directory that is not empty refused" lbA rmdir tree/docs
assert_exit 0 "mv a file into another directory" lbA mv tree/docs/n1.txt tree/img/moved.txt
assert_eq "" "$(stored_sha tree/docs/n1.txt)" "mv: the old name is gone from the store"
assert_eq "$(sha256_of "$T/docs/n1.txt")" "$(stored_sha tree/img/moved.txt)" \
    "mv: the new name holds the file, its SHA-256 recorded"
rm -rf "$TMPD/dl"
assert_exit 0 "get the moved file" lbA -q get tree/img/moved.txt -o "$TMPD/dl"
assert_file_same "$T/docs/n1.txt" "$TMPD/dl/moved.txt" "the moved file is intact"
assert_exit 0 "rm a file" lbA rm tree/docs/n2.txt
assert_eq "" "$(stored_sha tree/docs/n2.txt)" "rm: gone from the store"
assert_exit 0 "rm -r a directory" lbA rm -r tree/docs
assert_eq "" "$(stored_keys tree/docs | head -n 5)" "rm -r: nothing left under tree/docs"
lbA ls tree >"$TMPD/ls.out" 2>&1
if grep -q 'docs' "$TMPD/ls.out"; then
	fail "ls still shows docs after rm -r: $(cat "$TMPD/ls.out")"
elif grep -q 'img' "$TMPD/ls.out"; then
	pass "ls after rm -r shows img, not docs"
else
	fail "ls tree: $(cat "$TMPD/ls.out")"
fi

# ---------------------------------------------------------------- per-user areas

stamp "per-user areas"
mkrand "$src/a-secret" 100000
assert_exit 0 "alice uploads through balancer B" alice -q put "$src/a-secret" --as secret.bin
if [ "$MODE" = s3 ]; then
	assert_eq "$(sha256_of "$src/a-secret")" "$(stored_sha .users/alice/secret.bin)" \
	    "alice's file is $PREFIX/.users/alice/secret.bin"
	assert_eq "" "$(stored_sha secret.bin)" "and not in the top area"
else
	assert_file_same "$src/a-secret" "$TMPD/shared-B/.users/alice/secret.bin" \
	    "alice's file is in .users/alice"
fi
for i in 1 2; do
	bob ls >"$TMPD/bob.ls" 2>&1
	if grep -q secret "$TMPD/bob.ls"; then
		fail "bob sees alice's file ($i): $(cat "$TMPD/bob.ls")"
	else
		pass "bob does not see alice's file ($i)"
	fi
	assert_exit_in "1 4" "bob cannot download alice's file ($i)" bob -q get secret.bin -o "$TMPD/bobdl"
done
assert_no_file "$TMPD/bobdl/secret.bin" "nothing of alice's reached bob"
# Names the client would not send: the server refuses them itself.
raw "bob cannot reach alice's file by a path either" -h "$LB" -p "$LB_B" -t 10 -w 20 \
    ctl 'line:LOGIN bob bob-pw-7789' 'ok:^OK bob' \
    'line:DOWNLOAD ../alice/secret.bin' 'ok:^ERROR' \
    'line:DOWNLOAD .users/alice/secret.bin' 'ok:^ERROR' \
    'line:HASH ../alice/secret.bin' 'ok:^ERROR' 
alice ls >"$TMPD/alice.ls" 2>&1
assert_match 'secret\.bin' "$(cat "$TMPD/alice.ls")" "alice lists her file (through either node)"
# The quota: 3 MB.  An upload that does not fit is refused and leaves
# nothing visible, in her listing or the bucket.
mkrand "$src/huge" $((4 * MiB))
assert_exit 4 "an upload over alice's quota is refused" alice put "$src/huge" --as huge.bin
assert_match 'QUOTA|quota' "$(cat "$ERR")" "the refusal names the quota"
alice ls >"$TMPD/alice.ls" 2>&1
if grep -q huge "$TMPD/alice.ls"; then
	fail "the refused upload is visible: $(cat "$TMPD/alice.ls")"
else
	pass "the refused upload is not in alice's listing"
fi
assert_eq "" "$(stored_sha .users/alice/huge.bin)" "the refused upload is not in the store"
# Usage adds up over what is stored: 2 MiB fits next to the 100 kB
# file, a second 2 MiB does not (3 MB quota).
mkrand "$src/two" $((2 * MiB))
assert_exit 0 "2 MiB within alice's quota" alice -q put "$src/two" --as two-a.bin
assert_exit 4 "another 2 MiB over it refused (usage counts the stored objects)" \
    alice -q put "$src/two" --as two-b.bin
assert_eq "" "$(stored_sha .users/alice/two-b.bin)" "the second 2 MiB is not in the store"
assert_exit 0 "bob has no quota: the same 2 MiB twice" bob -q put "$src/two" --as two-a.bin
assert_exit 0 "(bob, second)" bob -q put "$src/two" --as two-b.bin
raw "without a login, balancer B serves nothing" -h "$LB" -p "$LB_B" -t 5 -w 10 \
    ctl line:LS 'ok:^ERROR' 

# ---------------------------------------------------------------- chat

stamp "chat"
declare -A CFD RPID
# client NAME HOST PORT: a raw control session; what it receives goes
# to $TMPD/NAME.out (see t_chatbus.sh).
client() {
	local name=$1 fd other
	exec {fd}<>"/dev/tcp/$2/$3" || {
		fail "cannot connect $name to $2:$3"
		return 1
	}
	(
		for other in "${CFD[@]}"; do
			exec {other}>&-
		done
		while IFS= read -r -t 120 line; do
			printf '%s\n' "${line%$'\r'}"
		done
	) <&"$fd" >"$TMPD/$name.out" &
	RPID[$name]=$!
	track_pid "$!"
	CFD[$name]=$fd
}
send() {
	local name=$1
	shift
	printf '%s\n' "$@" >&"${CFD[$name]}"
}
hangup() {
	local fd=${CFD[$1]}
	exec {fd}>&-
	unset "CFD[$1]"
	wait_pid "${RPID[$1]}" 5
}
out_of() { printf '%s' "$TMPD/$1.out"; }
seen() { grep -Eq -- "$2" "$(out_of "$1")"; }
expect() {
	if wait_for "$1" seen "$2" "$3"; then
		pass "$4"
	else
		fail "$4: /$3/ not in $2's output within $1 s; last lines:"
		tail -n 8 "$(out_of "$2")" | cut -c1-200 | sed 's/^/    /' >&2
	fi
}
never() {
	if ! seen "$1" "$2"; then
		pass "$3"
	else
		fail "$3: $(grep -E -- "$2" "$(out_of "$1")" | head -n 3 | cut -c1-200)"
	fi
}
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z'
# Members on the nodes directly (which node is which matters here),
# and one through the balancer.
client ann "${ADDR[A1]}" "${NCTRL[A1]}"
send ann "JOIN ann"
expect 5 ann '^OK ann$' "ann joins on A1"
client ben "${ADDR[A2]}" "${NCTRL[A2]}"
send ben "JOIN ben"
expect 5 ben '^OK ben$' "ben joins on A2"
client cyd "$LB" "$LB_A"
send cyd "JOIN cyd"
expect 5 cyd '^OK cyd$' "cyd joins through the balancer"
expect 5 ann "^JOIN $TS ben\$" "ann (A1) sees ben (A2) join"
expect 5 ben "^JOIN $TS cyd\$" "ben sees cyd join"
send ann "SAY hello from a1"
expect 5 ben "^MSG $TS ann hello from a1\$" "a broadcast from A1 reaches A2"
expect 5 cyd "^MSG $TS ann hello from a1\$" "and the member behind the balancer"
send ben "SAY hello from a2"
expect 5 ann "^MSG $TS ben hello from a2\$" "a broadcast from A2 reaches A1"
send ben "MSG ann psst"
expect 5 ann "^PRIV $TS ben ann psst\$" "@ann from A2 reaches ann on A1"
sleep 0.3
never cyd 'psst' "the private message reaches no one else"
HOST=${ADDR[A2]} CTRL_PORT=${NCTRL[A2]} raw "/who on A2 lists the members of both nodes" \
    ctl line:WHO 'ok:^OK 3$' 'has:^NICK ann$' 'has:^NICK ben$' 'has:^NICK cyd$'
HOST=${ADDR[A2]} CTRL_PORT=${NCTRL[A2]} raw "a nick taken on A1 is refused on A2" \
    ctl line:'JOIN Ann' 'ok:^ERROR NICKTAKEN'
HOST=${ADDR[A1]} CTRL_PORT=${NCTRL[A1]} raw "a nick taken on A2 is refused on A1" \
    ctl line:'JOIN BEN' 'ok:^ERROR NICKTAKEN'

# ---------------------------------------------------------------- redis lost

stamp "redis killed"
kill -KILL "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
LOST='^NOTICE [^ ]+ chat bus lost; messages are not delivered across nodes until it is back$'
expect 5 ann "$LOST" "ann (A1) is told the chat bus is lost"
expect 5 ben "$LOST" "ben (A2) is told the chat bus is lost"
mkrand "$src/during" 700000
ok=0
for i in 1 2; do
	rm -rf "$TMPD/dl"
	if lbA -q put "$src/during" --as "during$i.bin" 2>"$TMPD/during.err" &&
	    lbA -q get "during$i.bin" -o "$TMPD/dl" 2>>"$TMPD/during.err" &&
	    cmp -s "$src/during" "$TMPD/dl/during$i.bin"; then
		ok=$((ok + 1))
	fi
done
assert_eq 2 "$ok" "files are served through the balancer while Redis is down"
start_redis
expect 15 ann "^NOTICE $TS chat bus back\$" "ann is told the bus is back"
expect 15 ben "^NOTICE $TS chat bus back\$" "ben is told the bus is back"
send ann "SAY again across"
expect 5 ben "^MSG $TS ann again across\$" "chat crosses nodes again"
HOST=${ADDR[A2]} CTRL_PORT=${NCTRL[A2]} raw "nicks are claimed again after the restart" \
    ctl line:'JOIN ann' 'ok:^ERROR NICKTAKEN'
for who in ann ben cyd; do
	send "$who" QUIT
	hangup "$who"
done

# ---------------------------------------------------------------- PROXY and lockout

stamp "PROXY headers and lockout"
SIG='\r\n\r\n\0\r\nQUIT\n'
hdr4() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '%s\\x21\\x11\\x00\\x0c\\x%02x\\x%02x\\x%02x\\x%02x\\x7f\\x00\\x00\\x32\\x9c\\x40\\x13\\x89' \
	    "$SIG" "$a" "$b" "$c" "$d"
}
HOST=${ADDR[A1]} CTRL_PORT=${NCTRL[A1]} raw "a PROXY header from an untrusted address is refused" \
    "ctl:$(hdr4 127.0.0.99)@127.0.0.61" drain:2 'has:^ERROR PERM PROXY header not accepted' 'no:^OK'
if grep -q "127\.0\.0\.61:[0-9]* refused: PROXY header from an address not trusted" "${NLOG[A1]}"; then
	pass "the untrusted header is logged with the sender's real address"
else
	fail "untrusted PROXY header not logged on A1"
fi
HOST=${ADDR[B1]} CTRL_PORT=${NCTRL[B1]} raw "a PROXY header from an untrusted address is refused (B1)" \
    "ctl:$(hdr4 127.0.0.99)@127.0.0.61" drain:2 'has:^ERROR PERM' 'no:^OK'
# Lockout: --login-max-fails 3.  127.0.0.62 guesses bob's password
# through the balancer; then the right password from it is refused on
# that node, while 127.0.0.63 behind the same balancer logs in.
raw "three wrong passwords from 127.0.0.62 through the balancer lock it out" \
    -h "$LB" -p "$LB_B" -t 15 -w 60 "ctl@127.0.0.62" \
    'line:LOGIN bob guess1' 'ok:^ERROR AUTH' 'line:LOGIN bob guess2' 'ok:^ERROR AUTH' \
    'line:LOGIN bob guess3' 'ok:^ERROR AUTH' \
    'line:LOGIN bob bob-pw-7789' 'ok:^ERROR LOCKED'
locked_on=
for n in B1 B2; do
	grep -q 'lockout ip=127\.0\.0\.62 ' "${NLOG[$n]}" && locked_on=$n
done
assert_match '^B[12]$' "$locked_on" "a node logged the lockout of 127.0.0.62 (its real address)"
for n in B1 B2; do
	if grep -q "lockout ip=$LB " "${NLOG[$n]}"; then
		fail "$n locked the balancer's address out: $(grep "lockout ip=$LB " "${NLOG[$n]}" | head -n 2)"
	fi
done
raw "another client (127.0.0.63) behind the same balancer logs in" \
    -h "$LB" -p "$LB_B" -t 15 -w 30 "ctl@127.0.0.63" 'line:LOGIN bob bob-pw-7789' 'ok:^OK bob logged in' \
    "ctl@127.0.0.63" 'line:LOGIN bob bob-pw-7789' 'ok:^OK bob logged in'
# A new session of the locked address on the node that locked it is
# refused at once (straight through a trusted header: the balancer may
# send a new session to either node, and the count is per node).
if [ -n "$locked_on" ]; then
	raw "127.0.0.62 stays locked out on $locked_on, whichever session" \
	    -h "${ADDR[$locked_on]}" -p "${NCTRL[$locked_on]}" -t 15 -w 30 \
	    "ctl:$(hdr4 127.0.0.62)@$LB" 'ok:^ERROR LOCKED'
fi
assert_exit 0 "ftx (127.0.0.1) logs in through the balancer meanwhile" bob ls

# ---------------------------------------------------------------- store down

stamp "radosgw down mid-upload"
if [ "$MODE" = s3 ]; then
	# 64 MiB at 16 MiB/s: 4 s; radosgw is stopped after 1 s (its TERM
	# takes a second or so more), well before the end.
	mkrand "$src/gw.bin" $((64 * MiB))
	lbA put "$src/gw.bin" --as gw.bin >"$TMPD/gw.out" 2>"$TMPD/gw.err" &
	gpid=$!
	track_pid $gpid
	if wait_for 10 eval '[ -n "$(node_of gw.bin UPLOAD)" ]'; then
		pass "the upload is under way"
	else
		fail "the upload did not start: $(cat "$TMPD/gw.err")"
	fi
	gwnode=$(node_of gw.bin UPLOAD)
	nap 1
	t0=$(date +%s)
	bash "$RGW_SH" stop-rgw "$RGWD" >"$TMPD/rgw.stop" 2>&1
	wait_pid $gpid 90
	echo "client ended $(($(date +%s) - t0)) s after radosgw stopped: $(tail -n 2 "$TMPD/gw.err" | tr '\n' ' ')"
	if [ "$WAIT_RC" -ne 0 ] && [ "$WAIT_RC" -ne 124 ]; then
		pass "the client fails (exit $WAIT_RC)"
	else
		fail "the client did not fail cleanly (exit $WAIT_RC): $(tail -n 3 "$TMPD/gw.err")"
	fi
	assert_match 'store|s3|S3' "$(cat "$TMPD/gw.err")" "the client's error names the store"
	sed 's/^/    client: /' "$TMPD/gw.err" | tail -n 3
	grep -E 'gw\.bin|s3' "${NLOG[${gwnode:-A1}]}" | tail -n 4 | sed 's/^/    node: /'
	# It answers, and what needs the store is a clear ERROR (not an
	# empty listing, not a hang).
	HOST=${ADDR[$gwnode]} CTRL_PORT=${NCTRL[$gwnode]} raw "node $gwnode answers while the store is down; LS and HASH are an ERROR" \
	    -t 30 -w 60 ctl line:NOOP 'ok:^OK$' line:'LS .' ls 'has:^ERROR' 'no:^DONE' line:'HASH one.bin' 'ok:^ERROR' \
	    line:NOOP 'ok:^OK$'
	grep '^< ERROR' "$RAW_OUT" | sed 's/^/    /'
	kill -0 "${NPID[$gwnode]}" 2>/dev/null && pass "node $gwnode is still running" ||
		fail "node $gwnode died when the store went away"
	t0=$(date +%s)
	if bash "$RGW_SH" start-rgw "$RGWD" >"$TMPD/rgw.restart" 2>&1; then
		pass "radosgw restarted in $(($(date +%s) - t0)) s"
		. "$RGWD/env"
		track_pid "$RGW_PID"
	else
		fail "radosgw did not restart: $(tail -n 10 "$TMPD/rgw.restart")"
	fi
	assert_eq "" "$(stored_sha gw.bin)" "nothing is visible in the bucket under gw.bin"
	lbA ls >"$TMPD/ls.out" 2>&1
	if grep -q 'gw\.bin' "$TMPD/ls.out"; then
		fail "ls shows gw.bin: $(cat "$TMPD/ls.out")"
	else
		pass "ls does not show gw.bin"
	fi
	assert_exit 0 "after radosgw is back the same upload works" lbA --retries 3 put "$src/gw.bin" --as gw.bin
	echo "    the upload again: $(tr '\n' ' ' <"$ERR")"
	assert_eq "$(sha256_of "$src/gw.bin")" "$(stored_sha gw.bin)" "gw.bin stored, its SHA-256 recorded"
	# Its bytes straight from the bucket (an ftx get would take 4 s at
	# the nodes' --max-rate; the round trips above and below use ftx).
	stored_get gw.bin "$TMPD/gw.obj"
	assert_file_same "$src/gw.bin" "$TMPD/gw.obj" "the object gw.bin holds the file's bytes"
	rm -f "$TMPD/gw.obj"
else
	echo "SKIP (part): radosgw down: FTX_CLUSTER_STORE=dir"
fi

# ---------------------------------------------------------------- node killed

stamp "node killed mid-upload"
if [ -f "$src/gw.bin" ]; then
	mv "$src/gw.bin" "$src/big"
else
	mkrand "$src/big" $((64 * MiB))
fi
FTX_RETRY_BASE_MS=300 timeout -k 2 120 "$FTX_BIN" --host "$LB" --port "$LB_A" --retries 8 \
    put "$src/big" --as big.bin >"$TMPD/big.out" 2>"$TMPD/big.err" &
cpid=$!
track_pid $cpid
if wait_for 15 eval '[ -n "$(node_of big.bin UPLOAD)" ]'; then
	pass "the 64 MiB upload is under way"
else
	fail "the 64 MiB upload did not start: $(cat "$TMPD/big.err")"
fi
victim=$(node_of big.bin UPLOAD)
victim=${victim%% *}
# 16 MiB/s: after 1.5 s about 24 MiB are in.
nap 1.5
if [ "$victim" = A1 ]; then survivor=A2; else victim=A2 survivor=A1; fi
kill -KILL "${NPID[$victim]}"
wait "${NPID[$victim]}" 2>/dev/null
echo "killed $victim (pid ${NPID[$victim]})"
wait_pid $cpid 100
assert_eq 0 "$WAIT_RC" "ftx --retries finished the upload after $victim died"
sed 's/^/    client: /' "$TMPD/big.err" | grep -v '^\s*$' | tail -n 6
if grep -Eq "retry [0-9]+/8" "$TMPD/big.err"; then
	pass "the client reported its retry"
else
	fail "no retry reported: $(head -c 400 "$TMPD/big.err")"
fi
if grep -q "resuming upload of big.bin at [1-9]" "$TMPD/big.err"; then
	pass "the client resumed: $(grep -o 'resuming upload of big.bin at [^;(]*' "$TMPD/big.err" | head -n 1)"
else
	fail "the client did not resume: $(head -c 600 "$TMPD/big.err")"
fi
got=$(sed -nE 's/.* xfer upload name=big\.bin bytes=([0-9]+) .*result=ok$/\1/p' "${NLOG[$survivor]}" | tail -n 1)
if [ -n "$got" ] && [ "$got" -lt $((64 * MiB)) ]; then
	pass "$survivor received only the rest ($got of $((64 * MiB)) bytes)"
else
	fail "$survivor did not resume: '$got' bytes; $(grep big.bin "${NLOG[$survivor]}" | tail -n 3 | tr '\n' ';')"
fi
assert_eq "$(sha256_of "$src/big")" "$(stored_sha big.bin)" "big.bin stored with its SHA-256"
# Downloaded through the balancer (the surviving node), interrupted
# (SIGINT) a second in and run again: it resumes (a ranged GET on the
# object) and the file is intact.
rm -rf "$TMPD/dl"
timeout --preserve-status -k 10 -s INT 1.2 "$FTX_BIN" --host "$LB" --port "$LB_A" --retries 0 get big.bin -o "$TMPD/dl" \
    >"$TMPD/dl1.out" 2>&1
assert_eq 130 "$?" "a download of big.bin interrupted by SIGINT (exit 130)"
assert_exit 0 "the same download again" lbA get big.bin -o "$TMPD/dl"
if grep -q 'resuming download of big.bin at [1-9]' "$ERR"; then
	pass "the download resumed: $(grep -o 'resuming download of big.bin at [^;(]*' "$ERR")"
else
	fail "the download did not resume: $(head -c 300 "$ERR") (first run: $(head -c 300 "$TMPD/dl1.out"))"
fi
assert_file_same "$src/big" "$TMPD/dl/big.bin" "big.bin intact after the failover and a resumed download"
rm -f "$TMPD/dl/big.bin" "$src/big"
if [ "$MODE" = s3 ]; then
	assert_eq "" "$(stored_keys .ftx/partial/ | grep 'big\.bin' | head -n 3)" \
	    "no partial of big.bin left in the bucket"
	assert_eq "" "$(uploads_list | grep -E 'big\.bin|LIST-FAILED' | head -n 3)" \
	    "no multipart upload of big.bin left open"
	echo "multipart uploads still open at the end: $(uploads_list | tr '\n' ' ')"
	echo "partial objects at the end: $(stored_keys .ftx/partial/ | tr '\n' ' ')"
fi

stamp "done"
finish
