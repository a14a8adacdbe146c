#!/bin/bash
# IPv6: ftxd bound to ::1 serves ftx over IPv6 (including the data
# channel's same-IP check), and bound to :: it serves IPv4 clients too
# (IPv4-mapped peers must still pass the same-IP check).
. "$(dirname "$0")/lib.sh"

if ! grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	skip "no IPv6 loopback (::1) on this machine"
fi

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/six.bin" $((1024 * 1024 + 3))

BIND=::1 HOST=::1 start_server
assert_match 'control=\[::1\]:' "$(grep -h 'listening' "$LOG" "$LOG.out")" "listening line shows [::1]"
HOST=::1
assert_exit 0 "put over IPv6" ftx put "$src/six.bin"
assert_file_same "$src/six.bin" "$ROOT/six.bin" "stored over IPv6"
assert_exit 0 "get over IPv6" ftx get six.bin -o "$dl"
assert_file_same "$src/six.bin" "$dl/six.bin" "downloaded over IPv6"
raw "raw session over IPv6" ctl 'ok:^OK FTX/1' 'line:DOWNLOAD six.bin' 'ok:^OK ' \
    data:bad drecv 'ok:^DATA n=0 ' data drecv "ok:^DATA n=$((1024 * 1024 + 3)) sha=$(sha256_of "$src/six.bin") end=EOF" read 'ok:^DONE '
assert_alive "IPv6"
stop_server
assert_eq 0 "$SERVER_RC" "ftxd exits 0"

# Dual stack: bound to ::, an IPv4 client arrives as ::ffff:127.0.0.1 on
# both connections.
BIND=:: start_server
HOST=127.0.0.1
rm -f "$dl/six.bin"
assert_exit 0 "get from a :: server over IPv4" ftx get six.bin -o "$dl"
assert_file_same "$src/six.bin" "$dl/six.bin" "downloaded over IPv4-mapped"
assert_exit 0 "put to a :: server over IPv4" ftx put "$src/six.bin" --as mapped.bin
assert_file_same "$src/six.bin" "$ROOT/mapped.bin" "uploaded over IPv4-mapped"
# Control over IPv4, data over IPv6 from the same machine: different
# addresses, so the data connection is refused.
raw "control over IPv4, data over IPv6" ctl 'line:DOWNLOAD six.bin' 'ok:^OK ' dhost:::1 \
    data drecv 'ok:^DATA n=0 .*end=(EOF|RESET)' dhost: data drecv 'ok:^DATA n=1048579 ' read 'ok:^DONE '
HOST=::1
assert_exit 0 "get from a :: server over IPv6" ftx get mapped.bin -o "$dl"
assert_alive "dual stack"
stop_server
finish
