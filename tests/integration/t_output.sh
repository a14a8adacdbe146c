#!/bin/bash
# What ftx prints for scripts (issue 14, "Pipes and scripts"): ls -h
# (IEC sizes), and --json on ls (also -R, a glob, and an old server's
# LIST through tests/tools/ftxfake), hash, stat, stats, rtt and the tree
# summaries: JSON Lines, each line through `python3 -m json.tool`, and
# the values checked against the files themselves (size, sha256sum,
# md5sum); a name with a quote and spaces survives the round trip; the
# one unit system (IEC: MiB, MiB/s) in the human figures, never MB/s.
. "$(dirname "$0")/lib.sh"

isolate_client
if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is needed to read the JSON"
fi

start_server

src=$TMPD/src
mkdir -p "$src"
# 1.5 MiB exactly, and a name with a double quote and spaces.
QNAME='say "hi" there.bin'
mkrand "$src/$QNAME" 1572864
mkrand "$src/small" 512
printf 'abc' >"$src/three"

# json_ok DESC: every line of $OUT is one JSON object (json.tool reads
# it), and there is at least one.  (pycheck parses every line too: a
# python3 start costs about a second here, so json.tool is run on the
# outputs of ls, ls -R, hash, stat and stats only.)
json_ok() {
	if [ ! -s "$OUT" ]; then
		fail "$1: no output"
	elif python3 -m json.tool --json-lines <"$OUT" >/dev/null 2>"$TMPD/jt.err"; then
		pass "$1: json.tool reads every line"
	else
		fail "$1: not JSON Lines: $(head -c 300 "$TMPD/jt.err"); output: $(head -c 300 "$OUT")"
	fi
}

# pycheck DESC PYTHON [ARGS...]: the Python code, given the objects of
# $OUT as the list `objs` and ARGS as sys.argv[1:], must not raise.
pycheck() {
	local desc=$1 code=$2
	shift 2
	if python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
sys.argv = sys.argv[2:]
exec(sys.argv[0])
' "$OUT" "$code" "$@" 2>"$TMPD/py.err"; then
		pass "$desc"
	else
		fail "$desc: $(tail -n 3 "$TMPD/py.err"); output: $(head -c 400 "$OUT")"
	fi
}

sha_of() { sha256sum -- "$1" | cut -d' ' -f1; }
md5_of() { md5sum -- "$1" | cut -d' ' -f1; }
QSHA=$(sha_of "$src/$QNAME")
SSHA=$(sha_of "$src/small")

assert_exit 0 "put three files" ftx put "$src/$QNAME" "$src/small" "$src/three"
assert_exit 0 "mkdir d" ftx mkdir d
assert_exit 0 "put into d" ftx put "$src/three" --as d/inner

# ---------------------------------------------------------------- ls -h
assert_exit 0 "ls -h" ftx ls -h
assert_match '^ +1\.5 MiB  [0-9-]+ [0-9:]+  say "hi" there\.bin$' "$(cat "$OUT")" "ls -h: 1.5 MiB"
assert_match '^ +512 B  [0-9-]+ [0-9:]+  small$' "$(cat "$OUT")" "ls -h: 512 B below 1 KiB"
assert_match '^ +-  [0-9-]+ [0-9:]+  d/$' "$(cat "$OUT")" "ls -h: a directory still has -"
assert_exit 0 "ls --human-readable -l" ftx ls --human-readable -l
assert_match "^ +1\.5 MiB  [0-9-]+ [0-9:]+  $QSHA  say \"hi\" there\.bin\$" "$(cat "$OUT")" "ls --human-readable --long: size and SHA-256"
assert_exit 0 "plain ls" ftx ls
assert_match '^ +1572864  .*  say "hi" there\.bin$' "$(cat "$OUT")" "plain ls: bytes, as before"
assert_exit 0 "ls -h on a glob" ftx ls -h 'say*'
assert_match '^ +1\.5 MiB  .*  say "hi" there\.bin$' "$(cat "$OUT")" "ls -h 'say*'"

# ---------------------------------------------------------------- ls --json
# Every entry: exactly these keys; a file's size and SHA-256 are the
# local file's.
ENTRY_CHECK='
want = {"path", "type", "size", "mtime", "sha256"}
import os, hashlib
src = sys.argv[1]
by = {o["path"]: o for o in objs}
for o in objs:
    assert set(o) == want, o
    assert o["type"] in ("file", "dir"), o
    assert isinstance(o["size"], int) and isinstance(o["mtime"], int), o
for name in sys.argv[2:]:
    rel = name.split("/")[-1] if "/" in name else name
    o = by[name]
    p = os.path.join(src, rel if rel != "inner" else "three")
    assert o["type"] == "file", o
    assert o["size"] == os.path.getsize(p), (o, os.path.getsize(p))
    assert o["sha256"] == hashlib.sha256(open(p, "rb").read()).hexdigest(), o
'
assert_exit 0 "ls --json" ftx ls --json
json_ok "ls --json"
pycheck "ls --json: keys, sizes and SHA-256 of the files; the quoted name round-trips; d is a dir" "$ENTRY_CHECK
assert len(objs) == 4, objs
assert 'say \"hi\" there.bin' in by, by.keys()
assert by['d']['type'] == 'dir' and by['d']['sha256'] is None, by['d']" "$src" "$QNAME" small three
assert_eq "" "$(cat "$ERR")" "ls --json: nothing on stderr"

assert_exit 0 "ls -R --json" ftx ls -R --json
json_ok "ls -R --json"
pycheck "ls -R --json: 5 entries, d/inner with its path below the top" "$ENTRY_CHECK
assert len(objs) == 5, objs" "$src" "$QNAME" d/inner
assert_exit 0 "ls --json d" ftx ls --json d
pycheck "ls --json d: inner, relative to d" 'assert [o["path"] for o in objs] == ["inner"], objs'
assert_exit 0 "ls --json on a glob" ftx ls --json 's*'
pycheck "ls --json 's*': the two files, sizes and SHA-256" "$ENTRY_CHECK
assert len(objs) == 2, objs" "$src" "$QNAME" small
assert_exit 0 "ls --json -h: JSON carries bytes anyway" ftx ls --json -h 'small'
pycheck "ls --json -h: size 512" 'assert objs[0]["size"] == 512, objs'
assert_exit 0 "ls --json of an empty directory" ftx mkdir empty
assert_exit 0 "ls --json empty" ftx ls --json empty
assert_eq "0" "$(wc -c <"$OUT")" "ls --json of an empty directory: no line at all"

# ---------------------------------------------------------------- hash --json
assert_exit 0 "hash --json --md5" ftx hash --json --md5 "$QNAME" small
json_ok "hash --json --md5"
pycheck "hash --json --md5: sha256sum's and md5sum's digests, the sizes" '
assert [set(o) for o in objs] == [{"path", "size", "sha256", "md5"}] * 2, objs
a, b = objs
assert a["path"] == "say \"hi\" there.bin" and a["size"] == 1572864, a
assert a["sha256"] == sys.argv[1] and a["md5"] == sys.argv[2], a
assert b["path"] == "small" and b["size"] == 512, b
assert b["sha256"] == sys.argv[3] and b["md5"] == sys.argv[4], b' \
    "$QSHA" "$(md5_of "$src/$QNAME")" "$SSHA" "$(md5_of "$src/small")"
assert_exit 0 "hash --json without --md5" ftx hash --json small
pycheck "hash --json: md5 is null" 'assert objs == [{"path": "small", "size": 512, "sha256": sys.argv[1], "md5": None}], objs' "$SSHA"
assert_exit 0 "hash --json on a glob" ftx hash --json 'd/*'
pycheck "hash --json 'd/*': d/inner" 'assert [o["path"] for o in objs] == ["d/inner"] and objs[0]["sha256"] == sys.argv[1], objs' "$(sha_of "$src/three")"
assert_exit 4 "hash --json of a missing file" ftx hash --json nope
assert_eq "0" "$(wc -c <"$OUT")" "hash --json of a missing file: nothing on stdout"
assert_exit 0 "plain hash still reads with sha256sum -c" ftx hash small
(cd "$src" && sha256sum -c --status "$OUT")
assert_eq 0 $? "sha256sum -c accepts plain hash's line"

# ---------------------------------------------------------------- stat --json
assert_exit 0 "stat --json" ftx stat --json "$QNAME" d d/inner
json_ok "stat --json"
pycheck "stat --json: one object per path, as ls --json" "$ENTRY_CHECK
assert [o['path'] for o in objs] == [sys.argv[2], 'd', 'd/inner'], objs
assert objs[1]['type'] == 'dir', objs" "$src" "$QNAME" d/inner

# ---------------------------------------------------------------- stats --json
assert_exit 0 "stats --raw" ftx stats --raw
cp "$OUT" "$TMPD/raw"
assert_exit 0 "stats --json" ftx stats --json
json_ok "stats --json"
pycheck "stats --json: one object, every --raw key, numbers as numbers" '
assert len(objs) == 1, objs
o = objs[0]
raw = dict(l.strip().split("=", 1) for l in open(sys.argv[1]))
assert set(o) == set(raw), (set(o) ^ set(raw))
assert all(type(v) is int for v in o.values()), o
for k in ("bytes_in", "xfers_ok"):
    assert o[k] == int(raw[k]), (k, o[k], raw[k])
assert o["bytes_in"] == 1572864 + 512 + 3 + 3, o' "$TMPD/raw"
assert_exit 2 "stats --raw --json is a usage error" ftx stats --raw --json

# ---------------------------------------------------------------- rtt --json
assert_exit 0 "rtt --json" ftx rtt -n 5 --warmup 1 --json
pycheck "rtt --json: its keys as before" '
o = objs[0]
for k in ("mode", "host", "port", "size", "warmup", "interval_ms", "connect_ms", "n", "min_ms", "avg_ms", "median_ms", "p90_ms", "p99_ms", "max_ms", "stddev_ms"):
    assert k in o, k
assert o["mode"] == "tcp" and o["n"] == 5 and o["size"] == 32, o'

# ---------------------------------------------------------------- units
# The tree summaries: IEC in the text, raw numbers in the JSON.
mkdir -p "$src/tree/x"
mkrand "$src/tree/x/a" 300000
assert_exit 0 "put -r" ftx put -r "$src/tree"
assert_match 'sent 1 files \(293\.0 KiB\) in [0-9.]+ s \([0-9.]+ (B|KiB|MiB|GiB)/s\)' \
    "$(cat "$OUT" "$ERR")" "put -r summary: KiB and an IEC rate"
if grep -q 'MB/s\| MB\b' "$OUT" "$ERR"; then
	fail "put -r summary still says MB: $(cat "$OUT" "$ERR")"
else
	pass "put -r summary: no decimal MB"
fi
assert_exit 0 "sync --json" ftx sync --json "$src/tree" :tree2
pycheck "sync --json: the keys, bytes and bytes_per_second" '
o = objs[-1]
assert set(o) == {"files_sent", "files_skipped", "files_deleted", "files_failed", "bytes", "seconds", "bytes_per_second"}, o
assert o["files_sent"] == 1 and o["bytes"] == 300000, o
assert type(o["bytes_per_second"]) is int and o["bytes_per_second"] > 0, o
# seconds has 3 decimals: the rate is bytes over a time within 0.5 ms.
s = o["seconds"]
assert o["bytes"] / (s + 0.0006) <= o["bytes_per_second"] <= o["bytes"] / max(s - 0.0006, 1e-6), o'
if grep -q 'MB/s' "$OUT" "$ERR"; then
	fail "sync --json printed a decimal rate"
else
	pass "sync --json: no MB/s anywhere"
fi

# ---------------------------------------------------------------- names
# A name cannot hold a backslash (docs/PROTOCOL.md): refused before any
# traffic, so JSON never needs one for a name (json.h escapes it anyway:
# tests/unit/test_json.c).
assert_exit 2 "a name with a backslash is refused" ftx put "$src/three" --as 'a\b'
assert_exit 0 "a name with spaces and quotes" ftx put "$src/three" --as "it's \"x\" y"
assert_exit 0 "ls --json of it" ftx ls --json "it*"
pycheck "the name survives the JSON round trip" 'assert [o["path"] for o in objs] == ["it'"'"'s \"x\" y"], objs'

# ---------------------------------------------------------------- old LIST
# A server without folders answers LIST only: the same keys.
if [ -x "$FTXFAKE" ]; then
	printf 'payload!' >"$TMPD/payload"
	start_fake hostile "$TMPD/payload" -n 'old "q" name'
	FP_SHA=$(sha_of "$TMPD/payload")
	oldftx() {
		timeout -k 2 20 "$FTX_BIN" --host 127.0.0.1 --port "$FAKE_PORT" "$@"
	}
	assert_exit 0 "ls --json against a LIST-only server" oldftx ls --json
	pycheck "ls --json (LIST): the same keys, the file, its size, no hash yet" '
assert objs == [{"path": "old \"q\" name", "type": "file", "size": 8, "mtime": 0, "sha256": None}], objs'
	assert_exit 0 "ls --json --long against a LIST-only server" oldftx ls --json --long
	pycheck "ls --json --long (LIST): the SHA-256 asked for" 'assert objs[0]["sha256"] == sys.argv[1], objs' "$FP_SHA"
	assert_exit 0 "ls -h against a LIST-only server" oldftx ls -h
	assert_match '^8 B  ([0-9-]+ [0-9:]+| *-)  old "q" name$' "$(cat "$OUT")" "ls -h (LIST): 8 B"
	stop_fake
else
	fail "$FTXFAKE is not built (make tools)"
fi

assert_alive "the output checks"
finish
