#!/bin/bash
# Running ftxd for real: --config (every key, command-line precedence,
# errors with file:line), --daemon and --pidfile (start, stop, a live or
# stale pid file), signals (SIGHUP reopens a rotated log and reloads
# limits, a bad config on reload is refused, SIGUSR1 logs statistics,
# SIGTERM lets a running 256 MiB upload finish), --xferlog lines,
# --log-format json, STATS counters, --data-port ranges, --public-host
# and ftx --data-host.
. "$(dirname "$0")/lib.sh"

# A config file in /etc on this machine must not leak into the tests.
export FTXD_CONFIG=

src=$TMPD/src
mkdir -p "$src"
mkrand "$src/f1" 300000
mkrand "$src/f2" 70000

# PID of the ftxd that listens on control port $1 (for daemons, which
# are not our children): from its pid file $2.
pid_from() {
	local p
	p=$(cat "$1" 2>/dev/null)
	[[ "$p" =~ ^[0-9]+$ ]] && printf '%s' "$p"
}

# Field N of /proc/PID/stat (after the command name).
stat_field() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	echo "$s" | awk -v n="$(($2 - 2))" '{ print $n }'
}

gone() {
	! kill -0 "$1" 2>/dev/null || [ "$(stat_field "$1" 3)" = Z ]
}

# The ports of a "listening" line in FILE.
ports_from() {
	local line
	line=$(grep -h -m 1 'listening control=' "$1")
	CTRL_PORT=$(printf '%s\n' "$line" | sed -nE 's/.*control=[^ ]*:([0-9]+).*/\1/p')
	DATA_PORT=$(printf '%s\n' "$line" | sed -nE 's/.*data=[^ ]*:([0-9]+).*/\1/p')
	export CTRL_PORT DATA_PORT
}

# ================================================================ config

cfg=$TMPD/every.conf
cat >"$cfg" <<EOF
# Every key ftxd knows, none at its default.
[ftxd]
root = $TMPD/cfgroot
bind = 127.0.0.1
port = 0
data-port = 0
public-host = 127.0.0.1
workers = 8
max-clients = 50
max-per-ip = 20
chunk-size = 8192
idle-timeout = 100
data-timeout = 50
token-ttl = 25
log = $TMPD/cfg.log
; a json log would hide the listening line from the text checks below
log-format = text
xferlog = $TMPD/cfg.xferlog
chat-rate = 5
log-chat = yes
udp-echo = no
udp-rate = 10
daemon = no
pidfile = $TMPD/cfg.pid
EOF
"$FTXD" $ALLOW_ROOT --config "$cfg" >"$TMPD/cfg.out" 2>&1 &
cpid=$!
track_pid "$cpid"
if wait_for 5 grep -q 'listening control=' "$TMPD/cfg.log"; then
	pass "ftxd starts with every key in the config file"
else
	fail "ftxd did not start with $cfg: $(cat "$TMPD/cfg.out")"
	exit 1
fi
ports_from "$TMPD/cfg.log"
assert_match 'udp-echo=off' "$(grep listening "$TMPD/cfg.log")" "udp-echo = no applied"
assert_match "root=$TMPD/cfgroot\$" "$(grep listening "$TMPD/cfg.log")" "root from the file"
assert_match "config file $cfg" "$(cat "$TMPD/cfg.log")" "the log names the config file"
assert_eq "$cpid" "$(cat "$TMPD/cfg.pid" 2>/dev/null)" "pidfile from the file holds the server's pid"
raw "public-host from the file is advertised" ctl 'line:UPLOAD x 0' \
    'ok:^OK [0-9]+ [0-9a-f]{32} host=127\.0\.0\.1$'
assert_exit 0 "put with the config-file server" ftx put "$src/f2"
assert_file_same "$src/f2" "$TMPD/cfgroot/f2" "stored under the configured root"
if wait_for 5 test -s "$TMPD/cfg.xferlog"; then pass "xferlog from the file written"; else fail "no xferlog $TMPD/cfg.xferlog"; fi
kill -TERM "$cpid"
wait_pid "$cpid" 15
assert_eq 0 "$WAIT_RC" "config-file server stops with 0"
assert_no_file "$TMPD/cfg.pid" "pid file removed on a clean exit"

# The command line wins over the file, wherever --config stands.
cat >"$TMPD/over.conf" <<EOF
udp-echo = no
max-per-ip = 1
log-chat = yes
EOF
start_server --udp-echo --max-per-ip 2 --config "$TMPD/over.conf"
assert_match 'udp-echo=on' "$(grep listening "$LOG")" "--udp-echo overrides udp-echo = no"
raw "--max-per-ip 2 overrides max-per-ip = 1" ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1' \
    ctl 'ok:^ERROR LIMIT '
stop_server
assert_eq 0 "$SERVER_RC" "override server stops with 0"

# Bad configuration: exit 2, the message names the file and the line.
printf '# ftxd\n\nport = 5001\nprot = 5002\n' >"$TMPD/bad1.conf"
assert_exit 2 "unknown key: exit 2" "$FTXD" --config "$TMPD/bad1.conf"
assert_eq "ftxd: $TMPD/bad1.conf:4: unknown key 'prot'" "$(cat "$ERR")" "unknown key names file:line"
printf 'root = /tmp/x\nmax-per-ip = lots\n' >"$TMPD/bad2.conf"
assert_exit 2 "bad value: exit 2" "$FTXD" --config "$TMPD/bad2.conf"
assert_match "^ftxd: $TMPD/bad2\\.conf:2: bad value for 'max-per-ip': expected a number" \
    "$(cat "$ERR")" "bad value names file:line"
printf 'data-port = 5010-5002\n' >"$TMPD/bad3.conf"
assert_exit 2 "bad range: exit 2" "$FTXD" --config "$TMPD/bad3.conf"
assert_match ":1: bad value for 'data-port'" "$(cat "$ERR")" "bad range names the line"
assert_exit 2 "missing config file: exit 2" "$FTXD" --config "$TMPD/nonexistent.conf"
assert_match 'cannot open config file' "$(cat "$ERR")" "missing file explained"
assert_exit 2 "bad command-line value: exit 2" "$FTXD" --port 70000
assert_match "^ftxd: --port: expected a number from 0 to 65535, got '70000'" "$(cat "$ERR")" \
    "command-line error names the option"
assert_exit 2 "unknown option: exit 2" "$FTXD" --prot 1
# The default file comes from $FTXD_CONFIG (here: a bad one).
assert_exit 2 "FTXD_CONFIG names the default file" env FTXD_CONFIG="$TMPD/bad1.conf" "$FTXD"
assert_match 'bad1.conf:4' "$(cat "$ERR")" "default file read and reported"

# ================================================================ daemon

mkdir -p "$TMPD/run"
(cd "$TMPD/run" && "$FTXD" $ALLOW_ROOT --daemon --pidfile d.pid --log d.log --root droot \
    --xferlog d.xferlog --bind 127.0.0.1 --port 0 --data-port 0) >"$TMPD/d.out" 2>&1
drc=$?
assert_eq 0 "$drc" "ftxd --daemon returns 0 once serving"
dpid=$(pid_from "$TMPD/run/d.pid")
[ -n "$dpid" ] && track_pid "$dpid"
assert_match '^[0-9]+$' "$dpid" "pid file written by the daemon"
if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then pass "daemon alive"; else fail "daemon not running"; fi
assert_eq "/" "$(readlink "/proc/$dpid/cwd")" "daemon runs in /"
assert_eq "/dev/null" "$(readlink "/proc/$dpid/fd/0")" "daemon stdin is /dev/null"
assert_eq "/dev/null" "$(readlink "/proc/$dpid/fd/2")" "daemon stderr is /dev/null"
sid=$(stat_field "$dpid" 6)
if [ -n "$sid" ] && [ "$sid" != "$$" ] && [ "$sid" != "$dpid" ]; then
	pass "daemon is in its own session and not its leader (double fork)"
else
	fail "daemon session $sid (pid $dpid, test shell $$)"
fi
assert_eq 0 "$(($(stat -c %a "$TMPD/run/d.log" 2>/dev/null || echo 777) & 7))" "daemon log not world-accessible (umask)"
ports_from "$TMPD/run/d.log"
assert_exit 0 "put to the daemon" ftx put "$src/f1"
assert_file_same "$src/f1" "$TMPD/run/droot/f1" "relative --root resolved before chdir"
# A second ftxd on the same pid file refuses to start.
(cd "$TMPD/run" && "$FTXD" $ALLOW_ROOT --daemon --pidfile d.pid --log d2.log --root droot \
    --bind 127.0.0.1 --port 0 --data-port 0) >"$OUT" 2>"$ERR"
assert_eq 1 "$?" "second daemon with a live pid file: exit 1"
assert_match "already running as pid $dpid" "$(cat "$ERR")" "it names the running pid"
assert_exit 1 "foreground ftxd with a live pid file: exit 1" \
    "$FTXD" $ALLOW_ROOT --pidfile "$TMPD/run/d.pid" --bind 127.0.0.1 --port 0 --data-port 0 --root "$TMPD/x"
assert_eq "$dpid" "$(pid_from "$TMPD/run/d.pid")" "pid file untouched by the refused start"
# A daemon that cannot start says so and exits 1 (port in use).
assert_exit 1 "daemon on a port in use: exit 1" "$FTXD" $ALLOW_ROOT --daemon --bind 127.0.0.1 \
    --port "$CTRL_PORT" --data-port 0 --root "$TMPD/x" --log "$TMPD/x.log"
assert_match 'cannot listen|in use' "$(cat "$ERR")" "start-up error reaches the terminal"
# Stop by pid: graceful, pid file removed.
kill -TERM "$dpid"
if wait_for 15 gone "$dpid"; then pass "daemon stops on SIGTERM"; else fail "daemon still running"; fi
assert_no_file "$TMPD/run/d.pid" "daemon removed its pid file"
assert_match 'shutdown: done' "$(tail -n 1 "$TMPD/run/d.log")" "daemon logged a clean shutdown"

# Stale pid files: a dead pid, garbage, and a live process that is not
# an ftxd are all replaced.
dead=999999
while kill -0 "$dead" 2>/dev/null; do dead=$((dead - 1)); done
# A live process that is not an ftxd (argv[0] names the test directory
# so the cleanup may kill it; its command name stays "sleep").
(exec -a "$ITEST_DIR/not-ftxd" sleep 300) &
other=$!
track_pid "$other"
for content in "$dead" "not a pid" "$other"; do
	printf '%s\n' "$content" >"$TMPD/stale.pid"
	start_server --pidfile "$TMPD/stale.pid"
	assert_eq "$SERVER_PID" "$(pid_from "$TMPD/stale.pid")" "stale pid file ('$content') replaced"
	stop_server
	assert_eq 0 "$SERVER_RC" "server with a replaced pid file stops with 0"
	assert_no_file "$TMPD/stale.pid" "replaced pid file removed at exit"
done
kill "$other" 2>/dev/null

# ================================================================ signals

# SIGHUP reopens a rotated log (and xferlog).
start_server --xferlog "$TMPD/x.xferlog"
assert_exit 0 "put before rotation" ftx put "$src/f2"
mv "$LOG" "$LOG.1"
mv "$TMPD/x.xferlog" "$TMPD/x.xferlog.1"
kill -HUP "$SERVER_PID"
if wait_for 5 grep -q 'reload:' "$LOG"; then pass "after SIGHUP the log is recreated"; else fail "no new $LOG after SIGHUP"; fi
assert_exit 0 "put after rotation" ftx put "$src/f1"
wait_for 5 grep -q 'xfer upload name=f1' "$LOG"
if grep -q 'name=f1' "$LOG" && ! grep -q 'name=f1' "$LOG.1"; then
	pass "new lines go to the new log file"
else
	fail "after rotation: new=$(grep -c name=f1 "$LOG") old=$(grep -c name=f1 "$LOG.1")"
fi
assert_eq 1 "$(grep -c ' /f2 ' "$TMPD/x.xferlog.1")" "rotated xferlog keeps the old line"
assert_eq 1 "$(grep -c ' /f1 ' "$TMPD/x.xferlog" 2>/dev/null)" "new xferlog gets the new line"
assert_alive "SIGHUP"
stop_server
assert_eq 0 "$SERVER_RC" "server stops with 0 after SIGHUP"

# SIGHUP reloads a changed limit; a bad file is refused and the old
# settings stay; restart-only keys are reported, not applied.
rl=$TMPD/reload.conf
printf 'max-per-ip = 1\n' >"$rl"
start_server --config "$rl"
raw "max-per-ip = 1 from the file" ctl 'ok:^OK FTX/1' ctl 'ok:^ERROR LIMIT '
sleep 0.3
printf 'max-per-ip = 3\nworkers = 9\n' >"$rl"
kill -HUP "$SERVER_PID"
if wait_for 5 grep -q 'reload: config=.* changed=max-per-ip' "$LOG"; then pass "reload applied max-per-ip"; else fail "no reload line for max-per-ip"; fi
assert_match 'reload: workers changed; it takes effect on restart' "$(cat "$LOG")" \
    "a restart-only key is reported"
raw "max-per-ip = 3 after SIGHUP" ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1' \
    ctl 'ok:^ERROR LIMIT '
sleep 0.3
printf 'max-per-ip = 1\nmax-per-ip = banana\n' >"$rl"
kill -HUP "$SERVER_PID"
if wait_for 5 grep -q "reload: $rl:2: bad value for 'max-per-ip'.*keeping the old settings" "$LOG"; then
	pass "a bad config on reload is logged with file:line"
else
	fail "no refusal in the log: $(grep reload: "$LOG" | tail -n 2)"
fi
raw "old limit kept after a bad reload" ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1' ctl 'ok:^OK FTX/1'
sleep 0.5
assert_alive "bad reload"
stop_server
assert_eq 0 "$SERVER_RC" "server stops with 0 after reloads"

# SIGUSR1: one stats line.
start_server
assert_exit 0 "a transfer to count" ftx put "$src/f2"
kill -USR1 "$SERVER_PID"
if wait_for 5 grep -q ' stats uptime=' "$LOG"; then pass "SIGUSR1 writes a stats line"; else fail "no stats line"; fi
assert_match '^[^ ]+ - stats uptime=[0-9]+ sessions=[0-9]+ sessions_total=[0-9]+ chat=[0-9]+ xfers_running=0 xfers_pending=0 xfers_ok=1 xfers_failed=0 bytes_in=70000 bytes_out=0 refused=0 rejected=0 errors=0$' \
    "$(grep ' stats ' "$LOG")" "stats line format and counts"
assert_eq 1 "$(grep -c ' stats ' "$LOG")" "exactly one stats line"
assert_alive "SIGUSR1"
stop_server

# SIGTERM during a 256 MiB upload: the upload finishes and verifies,
# then the server exits 0.
big=$TMPD/big
mkrand "$big" $((256 * 1024 * 1024))
bigsha=$(sha256_of "$big")
start_server
raw_bg "$TMPD/big.out" -t 60 -w 120 ctl "line:UPLOAD big $((256 * 1024 * 1024))" 'ok:^OK ' \
    data "dsend:$big:$((128 * 1024 * 1024))" "touch:$TMPD/half" "waitfile:$TMPD/go" \
    "dsend:$big" ddigest read:60 "ok:^DONE $bigsha\$"
bigpid=$BG_PID
if wait_for 60 test -e "$TMPD/half"; then pass "half of the upload sent"; else fail "upload did not start"; fi
ftx stats --raw >"$TMPD/stats.mid" 2>&1
assert_match '^xfers_running=1$' "$(cat "$TMPD/stats.mid")" "STATS shows the running transfer"
kill -TERM "$SERVER_PID"
if wait_for 5 grep -q 'shutdown: stopping, 1 transfers running' "$LOG"; then
	pass "SIGTERM arrived while the upload ran"
else
	fail "no shutdown line with a running transfer"
fi
touch "$TMPD/go"
wait_pid "$bigpid" 60
assert_eq 0 "$WAIT_RC" "the interrupted upload completed with DONE and the right sha256"
stop_server
assert_eq 0 "$SERVER_RC" "server exits 0 after the upload finished"
assert_eq "$bigsha" "$(sha256_of "$ROOT/big")" "stored upload verifies"
rm -f "$big" "$ROOT/big"

# ================================================================ logs

# --xferlog: one line per finished transfer, success or failure.
ROOT=
start_server --xferlog "$TMPD/t.xferlog"
assert_exit 0 "put f1" ftx put "$src/f1"
assert_exit 0 "get f1" ftx get f1 -o "$TMPD/dl"
raw "an upload with a bad digest" ctl 'line:UPLOAD bad.bin 1000' data "dsend:$src/f2:1000" \
    ddigest:bad read:10 'ok:^ERROR INTEGRITY'
wait_for 5 eval '[ "$(wc -l <"$TMPD/t.xferlog")" -ge 3 ]'
assert_eq 3 "$(wc -l <"$TMPD/t.xferlog")" "three xferlog lines"
bad=$(awk 'NF != 18' "$TMPD/t.xferlog")
assert_eq "" "$bad" "every xferlog line has 18 fields"
bad=$(awk '!($1 ~ /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)$/ && $2 ~ /^[A-Z][a-z][a-z]$/ &&
    $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ && $5 ~ /^[0-9][0-9][0-9][0-9]$/ &&
    $6 ~ /^[0-9]+$/ && $7 == "127.0.0.1" && $10 == "b" && $11 == "_" &&
    $13 == "a" && $14 == "-" && $15 == "ftx" && $16 == "0" && $17 == "*")' "$TMPD/t.xferlog")
assert_eq "" "$bad" "xferlog fields: time, host, type b, flag _, mode a, user -, ftx 0 *"
assert_eq "300000 /f1 i c" "$(awk 'NR == 1 { print $8, $9, $12, $18 }' "$TMPD/t.xferlog")" \
    "upload line: size, name, direction i, complete"
assert_eq "300000 /f1 o c" "$(awk 'NR == 2 { print $8, $9, $12, $18 }' "$TMPD/t.xferlog")" \
    "download line: direction o, complete"
assert_eq "1000 /bad.bin i i" "$(awk 'NR == 3 { print $8, $9, $12, $18 }' "$TMPD/t.xferlog")" \
    "failed upload: status i (incomplete)"
stop_server

# --log-format json: one object per line, strings escaped.
ROOT=
start_server --log-format json
assert_exit 0 'put a name with quotes, spaces and UTF-8' \
    ftx put "$src/f2" --as 'say "hi" é.txt'
assert_exit 2 "a name that is not UTF-8 is refused by ftx" ftx put "$src/f2" --as $'raw\xffbyte'
raw "a few commands to log" ctl line:NOOP 'line:HASH nosuch' 'line:FROB' \
    'raw:HASH raw\xffbyte\n' read 'ok:^ERROR BADNAME '
sleep 0.3
json_re='^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z","peer":(null|"[^"\\]*"),"event":"[A-Za-z0-9_-]*","msg":"([^"\\]|\\["\\/bfnrt]|\\u[0-9a-f]{4})*"\}$'
n=$(wc -l <"$LOG")
good=$(LC_ALL=C grep -cE "$json_re" "$LOG")
if [ "$n" -gt 5 ] && [ "$n" = "$good" ]; then
	pass "all $n json log lines are well-formed objects"
else
	fail "json log: $good of $n lines well-formed"
	LC_ALL=C grep -vE "$json_re" "$LOG" | head -n 5 >&2
fi
assert_match '"event":"xfer","msg":"xfer upload name=say%20%22hi%22%20%C3%A9\.txt ' "$(cat "$LOG")" \
    "a name's quotes, spaces and UTF-8 escaped by log_esc in json"
assert_match '"msg":"cmd HASH raw%FFbyte"' "$(cat "$LOG")" "invalid UTF-8 escaped in json"
assert_match '"peer":"127\.0\.0\.1:[0-9]+","event":"connect"' "$(cat "$LOG")" "peer field"
assert_match '"peer":null,"event":"ftxd","msg":"ftxd [^"]* listening control=' "$(cat "$LOG")" \
    "server events have a null peer"
stop_server

# ================================================================ STATS

ROOT=
start_server --max-per-ip 3
raw "STATS on a fresh server" ctl line:STATS \
    'ok:^OK uptime=[0-9]+ sessions=1 sessions_total=1 chat=0 xfers_running=0 xfers_pending=0 xfers_ok=0 xfers_failed=0 bytes_in=0 bytes_out=0 refused=0 rejected=0 errors=0$'
assert_exit 0 "put f1 (300000)" ftx put "$src/f1"
assert_exit 0 "put f2 (70000)" ftx put "$src/f2"
assert_exit 0 "get f1" ftx get f1 -o "$TMPD/dl2"
raw "a failed upload and a rejected data connection" ctl 'line:UPLOAD bad.bin 1000' \
    data "dsend:$src/f2:1000" ddigest:bad read:10 'ok:^ERROR INTEGRITY' \
    'line:UPLOAD other 5' data:bad sleep:0.3 line:QUIT 'ok:^OK bye'
sleep 0.5
raw "a refused connection" ctl ctl ctl ctl 'ok:^ERROR LIMIT'
sleep 0.3
raw_bg "$TMPD/chat.out" -w 20 ctl 'line:JOIN statsbot' 'ok:^OK' "touch:$TMPD/joined" "waitfile:$TMPD/leave"
chatpid=$BG_PID
wait_for 5 test -e "$TMPD/joined"
assert_exit 0 "ftx stats --raw" ftx stats --raw
st=$(cat "$OUT")
sv() { printf '%s\n' "$st" | sed -n "s/^$1=//p"; }
assert_eq 3 "$(sv xfers_ok)" "STATS xfers_ok"
assert_eq 1 "$(sv xfers_failed)" "STATS xfers_failed"
assert_eq $((300000 + 70000 + 1000)) "$(sv bytes_in)" "STATS bytes_in"
assert_eq 300000 "$(sv bytes_out)" "STATS bytes_out"
assert_eq 1 "$(sv refused)" "STATS refused"
assert_eq 1 "$(sv rejected)" "STATS rejected"
assert_eq 3 "$(sv errors)" "STATS errors = failed + refused + rejected"
assert_eq 1 "$(sv chat)" "STATS chat members"
assert_eq 2 "$(sv sessions)" "STATS sessions (the chat one and ours)"
assert_match '^[0-9]+$' "$(sv uptime)" "STATS uptime"
if [ "$(sv sessions_total)" -ge 9 ]; then pass "STATS sessions_total counts every session"; else fail "sessions_total $(sv sessions_total)"; fi
assert_exit 0 "ftx stats (readable)" ftx stats
assert_match '^transfers +0 running, 0 waiting, 3 done, 1 failed$' "$(cat "$OUT")" "readable transfers line"
assert_match '^bytes out +293\.0 KiB \(300000 bytes\)$' "$(cat "$OUT")" "readable bytes line"
touch "$TMPD/leave"
wait_pid "$chatpid" 10
stop_server

# ================================================================ ports and hosts

# --data-port N-M: every port listens, replies go round-robin.
started=0
for try in 1 2 3 4 5; do
	base=$((20000 + RANDOM % 30000))
	ROOT=$TMPD/rroot
	mkdir -p "$ROOT"
	LOG=$TMPD/range.$try.log
	"$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port "$base-$((base + 3))" --root "$ROOT" \
	    --log "$LOG" >"$LOG.out" 2>&1 &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
	if wait_for 5 grep -q 'listening control=' "$LOG"; then
		started=1
		break
	fi
	wait "$SERVER_PID" 2>/dev/null # a port in the range was taken: try another
done
if [ "$started" = 1 ]; then pass "ftxd listens on a data-port range"; else fail "no free range"; exit 1; fi
ports_from "$LOG"
assert_match "data=127\\.0\\.0\\.1:$base data-ports=$base-$((base + 3)) " "$(grep listening "$LOG")" \
    "listening line: first port in data=, the range in data-ports="
raw "six uploads get the four ports in turn" ctl 'line:UPLOAD a 0' ctl 'line:UPLOAD b 0' \
    ctl 'line:UPLOAD c 0' ctl 'line:UPLOAD d 0' ctl 'line:UPLOAD e 0' ctl 'line:UPLOAD f 0'
got=$(sed -nE 's/^< OK ([0-9]+) [0-9a-f]{32}$/\1/p' "$RAW_OUT" | tr '\n' ' ')
assert_eq "$base $((base + 1)) $((base + 2)) $((base + 3)) $base $((base + 1)) " "$got" "round-robin ports"
for i in 1 2 3 4 5; do
	assert_exit 0 "put #$i over the range" ftx put "$src/f2" --as "r$i"
done
assert_eq 5 "$(grep -c 'xfer upload name=r[0-9] .*result=ok' "$LOG")" "five uploads on range ports"
for p in $base $((base + 3)); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then pass "port $p of the range accepts"; else fail "port $p does not accept"; fi
done
stop_server
assert_eq 0 "$SERVER_RC" "range server stops with 0"

# --public-host: advertised in replies, used only with ftx --data-host.
ROOT=
start_server
raw "no host= without --public-host" ctl 'line:UPLOAD x 0' 'ok:^OK [0-9]+ [0-9a-f]{32}$'
stop_server
ROOT=
start_server --public-host 127.0.0.2
assert_exit 0 "put f1" ftx put "$src/f1"
raw "host= in UPLOAD and DOWNLOAD replies" ctl 'line:UPLOAD x 0' \
    'ok:^OK [0-9]+ [0-9a-f]{32} host=127\.0\.0\.2$' close ctl 'line:DOWNLOAD f1' \
    'ok:^OK 300000 [0-9]+ [0-9a-f]{32} [0-9a-f]{64} host=127\.0\.0\.2$'
# The server listens on 127.0.0.1 only, so the advertised 127.0.0.2 is
# unreachable: only a client that follows it fails.
assert_exit 0 "ftx ignores the advertised host by default" ftx get f1 -o "$TMPD/dl3"
assert_file_same "$src/f1" "$TMPD/dl3/f1" "download via the control host"
assert_exit 3 "ftx --data-host advertised follows it" \
    timeout 60 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --data-host advertised get f1 -o "$TMPD/dl4"
assert_match '127\.0\.0\.2' "$(cat "$ERR")" "the failed connection names the advertised host"
assert_exit 0 "ftx --data-host 127.0.0.1 (explicit)" \
    timeout 60 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --data-host 127.0.0.1 put "$src/f2"
stop_server
ROOT=
start_server --public-host 127.0.0.1
assert_exit 0 "put with --data-host advertised" \
    timeout 60 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --data-host advertised put "$src/f1"
assert_exit 0 "get with --data-host advertised" \
    timeout 60 "$FTX_BIN" --host 127.0.0.1 --port "$CTRL_PORT" --data-host advertised get f1 -o "$TMPD/dl5"
assert_file_same "$src/f1" "$TMPD/dl5/f1" "advertised-host round trip"
stop_server

# --daemon with a relative --config: SIGHUP after chdir("/") still finds it.
mkdir -p "$TMPD/run2"
printf 'max-per-ip = 2\nlog = d.log\nroot = droot\n' >"$TMPD/run2/rel.conf"
(cd "$TMPD/run2" && "$FTXD" $ALLOW_ROOT --daemon --config rel.conf --pidfile d.pid --bind 127.0.0.1 \
    --port 0 --data-port 0) >"$OUT" 2>"$ERR"
assert_eq 0 "$?" "daemon with a relative config starts"
dpid=$(pid_from "$TMPD/run2/d.pid")
[ -n "$dpid" ] && track_pid "$dpid"
assert_file "$TMPD/run2/d.log" "relative log path from the file resolved"
printf 'max-per-ip = 4\nlog = d.log\nroot = droot\n' >"$TMPD/run2/rel.conf"
kill -HUP "$dpid"
if wait_for 5 grep -q "reload: config=$TMPD/run2/rel.conf changed=max-per-ip" "$TMPD/run2/d.log"; then
	pass "daemon re-reads its relative config on SIGHUP"
else
	fail "daemon reload: $(grep reload: "$TMPD/run2/d.log")"
fi
kill -TERM "$dpid"
if wait_for 15 gone "$dpid"; then pass "second daemon stops"; else fail "second daemon still running"; fi
assert_no_file "$TMPD/run2/d.pid" "second daemon removed its pid file"

finish
