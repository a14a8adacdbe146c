#!/bin/bash
# The S3 store misbehaving (issue 15): ftxd --store s3://bucket/pfx
# against tests/tools/fakes3.py, an in-memory S3 endpoint on 127.0.0.3
# that can be told to answer wrongly (see its header).  NOTE: the fake
# checks no signatures, content hashes or keys; that ftxd's requests
# are signed right is t_cluster's business, against a real store.
# Every case asserts a clear error, that ftxd still answers afterwards
# (NOOP, ls), and that nothing half-made is visible:
#  - start-up: 403 SignatureDoesNotMatch -> exit non-zero, "refused our
#    credentials" (and not the secret); 404 NoSuchBucket -> "no bucket";
#    nothing listening -> "cannot reach";
#  - a listing answer over FTX_S3_XML_MAX (4 MiB): ls fails, server up;
#  - GETs that send more than the Range asked, a connection cut half
#    way, a 500 in the middle of a download, one byte changed: the
#    download fails (ERROR or the client's SHA-256 check), no file; an
#    honest short answer (half the range): the right file or none;
#  - a PUT, an UploadPart or a CompleteMultipartUpload answered 500:
#    the upload fails and the name is in neither LIST nor the bucket;
#  - a cut upload's record (PREFIX/.ftx/partial/KEY/state-OFFSET)
#    damaged -- wrong magic, bad hex, a target outside the prefix, more
#    ETags than the offset says, 10001 ETags, cut short -- the resume is
#    refused (ERROR RANGE "damaged"), the partial is kept, and the same
#    resume with the record intact completes the right file.
# 9. A partial's tail object larger than FTX_S3_PART (it once overflowed
#    the part buffer): the resume is refused and ftxd keeps serving.
. "$(dirname "$0")/lib.sh"

FAKES3=$ITEST_DIR/../tools/fakes3.py
command -v python3 >/dev/null 2>&1 || skip "python3 is needed for the fake S3 endpoint"
S3HOST=127.0.0.3
MiB=$((1024 * 1024))
PART=$((8 * MiB)) # FTX_S3_PART
export AWS_ACCESS_KEY_ID=AKIDFAKES3TEST
export AWS_SECRET_ACCESS_KEY=s3cr3t-never-in-a-message
OUT=$TMPD/cmd.out
ERR=$TMPD/cmd.err

# start_s3: the fake, bounded to 100 s of life, stopped by PID at the end
# (lib.sh's cleanup knows it: its command line names this directory).
S3_PID=
start_s3() {
	python3 "$FAKES3" --bind "$S3HOST" --port 0 --bucket bucket --lifetime 100 \
	    >"$TMPD/fakes3.out" 2>&1 &
	S3_PID=$!
	track_pid "$S3_PID"
	S3_PORT=
	for _ in $(seq 1 100); do
		S3_PORT=$(sed -n 's/^listening port=\([0-9]*\)$/\1/p' "$TMPD/fakes3.out")
		[ -n "$S3_PORT" ] && break
		kill -0 "$S3_PID" 2>/dev/null || break
		nap 0.05
	done
	if [ -z "$S3_PORT" ]; then
		fail "fakes3 did not start: $(cat "$TMPD/fakes3.out")"
		exit 1
	fi
	EP=http://$S3HOST:$S3_PORT
	CTL=$EP/_ctl
}

# ctl METHOD PATH: a control request to the fake; its answer on stdout.
ctl() {
	curl -sS --max-time 10 -X "$1" "$CTL/$2"
}

# fault QUERY: the next matching request(s) answered wrongly.
fault() {
	local r
	r=$(ctl POST "fault?$1")
	[ "$r" = ok ] || fail "fakes3 did not take the fault $1: $r"
}

keys() {
	ctl GET keys | awk '{ print $2 }'
}

# ---------------------------------------------------------------- start-up
start_s3
command -v curl >/dev/null 2>&1 || skip "curl is needed to steer the fake S3 endpoint"

# ftxd_once DESCRIPTION STORE ENDPOINT: ftxd must exit (not serve) with
# a non-zero status; its output is in $OUT.
ftxd_once() {
	local desc=$1 root=$TMPD/once.$RANDOM rc
	mkdir -p "$root"
	timeout -k 2 20 "$FTXD" $ALLOW_ROOT --bind 127.0.0.1 --port 0 --data-port 0 \
	    --root "$root" --store "$2" --s3-endpoint "$3" >"$OUT" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; then
		pass "$desc: ftxd exits $rc"
	else
		fail "$desc: ftxd exit $rc (124: it served instead of stopping)"
	fi
}

fault "method=GET&key=^\$&kind=error&status=403&code=SignatureDoesNotMatch"
ftxd_once "403 at start-up" s3://bucket/pfx "$EP"
assert_match 'refused our credentials' "$(cat "$OUT")" "403: the message says the store refused our credentials"
assert_match 'SignatureDoesNotMatch' "$(cat "$OUT")" "403: the store's code is in the message"
if grep -q -- "$AWS_SECRET_ACCESS_KEY" "$OUT"; then
	fail "403: the secret appears in ftxd's output"
else
	pass "403: the secret is not in ftxd's output"
fi
ftxd_once "no such bucket" s3://nobucket/pfx "$EP"
assert_match 'no bucket' "$(cat "$OUT")" "404 NoSuchBucket: 'no bucket' in the message"
ftxd_once "nothing listening" s3://bucket/pfx "http://$S3HOST:1"
assert_match 's3:.*cannot reach' "$(cat "$OUT")" "no endpoint: 's3: ... cannot reach' in the message"
ctl POST clear >/dev/null

# ---------------------------------------------------------------- serving
start_server --store s3://bucket/pfx --s3-endpoint "$EP"
src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"
mkrand "$src/small" $((3 * MiB))
mkrand "$src/big" $((20 * MiB))
assert_exit 0 "put a small file (one PUT)" ftx put "$src/small"
assert_exit 0 "put a large file (multipart)" ftx put "$src/big"
assert_eq "pfx/big pfx/small" "$(keys | tr '\n' ' ' | sed 's/ $//')" "the bucket holds the two files under the prefix"

# ls_has NAME...: `ftx ls` answers and lists exactly these names.
ls_is() {
	local want=$1 desc=$2 got
	got=$(ftx ls 2>"$ERR" | awk '{ print $NF }' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
	assert_eq "$want" "$got" "$desc"
}

# ---------------------------------------------------------------- listing too long
fault "method=GET&key=^\$&kind=huge"
assert_exit_in "1 2 3 4 5 6 7 8 9 10" "ls with a listing answer over 4 MiB fails" ftx ls
assert_match 's3 listing' "$(cat "$ERR")" "the listing error names the listing"
assert_alive "a listing answer over FTX_S3_XML_MAX"
ls_is "big small" "ls after it lists the files again"

# ---------------------------------------------------------------- hostile GETs
# get_fails DESC FAULT [FIRST]: the download fails and leaves no file
# (FIRST: a fault for the request before).
get_fails() {
	local desc=$1
	ctl POST clear >/dev/null
	[ -n "${3:-}" ] && fault "$3"
	fault "$2"
	rm -rf "$dl"
	mkdir -p "$dl"
	assert_exit_in "1 2 3 4 5 6 7 8 9 10" "$desc: ftx get fails" ftx --retries 0 get big -o "$dl"
	assert_eq "" "$(visible_files "$dl")" "$desc: no file in the download directory"
	assert_alive "$desc"
}
get_fails "GET with 1 KiB more than the object" "method=GET&key=pfx/big\$&q=^\$&kind=extra"
assert_match 'more than' "$(cat "$ERR")" "extra bytes: the error says so"
# A download is one streaming GET; a stream that breaks is started
# again where it broke, three times at most.
get_fails "every GET cut half way" "method=GET&key=pfx/big\$&q=^\$&kind=cut&count=5"
ctl POST clear >/dev/null
fault "method=GET&key=pfx/big\$&q=^\$&kind=cut&count=1"
rm -rf "$dl"
mkdir -p "$dl"
assert_exit 0 "a GET cut once is started again where it broke" ftx --retries 0 get big -o "$dl"
assert_file_same "$src/big" "$dl/big" "the download of a GET cut once is the right file"
get_fails "500 when a cut GET is started again" "method=GET&key=pfx/big\$&q=^\$&kind=error&status=500" \
    "method=GET&key=pfx/big\$&q=^\$&kind=cut&count=1"
assert_match '500' "$(cat "$ERR")" "500 mid-download: the status is in the error"
get_fails "one byte changed in the GET that goes on after a cut" "method=GET&key=pfx/big\$&q=^\$&kind=corrupt" \
    "method=GET&key=pfx/big\$&q=^\$&kind=cut&count=1"
assert_match 'integrity|INTEGRITY|sha256' "$(cat "$ERR")" "a changed byte: the SHA-256 check refuses the file"
get_fails "one byte changed in the first GET" "method=GET&key=pfx/big\$&q=^\$&kind=corrupt"
# An honest short answer (206 with half the range): a reader may go on
# from there; what it must never do is accept a wrong file.
ctl POST clear >/dev/null
fault "method=GET&key=pfx/big\$&q=^\$&kind=short&count=3"
rm -rf "$dl"
mkdir -p "$dl"
ftx --retries 0 get big -o "$dl" >"$OUT" 2>"$ERR"
rc=$?
if [ -e "$dl/big" ]; then
	assert_file_same "$src/big" "$dl/big" "short ranged answers: the file delivered is the right one (exit $rc)"
elif [ "$rc" -ne 0 ]; then
	pass "short ranged answers: no file, exit $rc"
else
	fail "short ranged answers: exit 0 without a file"
fi
assert_alive "short ranged answers"
ctl POST clear >/dev/null
rm -rf "$dl"
mkdir -p "$dl"
assert_exit 0 "with the store behaving again the download works" ftx get big -o "$dl"
assert_file_same "$src/big" "$dl/big" "and is the right file"

# ---------------------------------------------------------------- hostile PUTs
# put_fails DESC NAME SIZE FAULT
put_fails() {
	local desc=$1 name=$2
	ctl POST clear >/dev/null
	mkrand "$src/$name" "$3"
	fault "$4"
	assert_exit_in "1 2 3 4 5 6 7 8 9 10" "$desc: ftx put fails" ftx --retries 0 put "$src/$name"
	assert_match '500' "$(cat "$ERR")" "$desc: the store's status is in the error"
	ctl POST clear >/dev/null
	assert_alive "$desc"
	ls_is "big small" "$desc: $name is not listed"
	if keys | grep -qx "pfx/$name"; then
		fail "$desc: the bucket has an object pfx/$name"
	else
		pass "$desc: no object pfx/$name in the bucket"
	fi
}
put_fails "PUT answered 500" small2 $((2 * MiB)) "method=PUT&key=pfx/small2\$&status=500&code=InternalError"
put_fails "UploadPart answered 500" big2 $((18 * MiB)) "method=PUT&key=pfx/big2\$&status=500&code=InternalError&skip=1"
put_fails "CompleteMultipartUpload answered 500" big3 $((18 * MiB)) "method=POST&key=pfx/big3\$&status=500&code=InternalError&skip=1"

# ---------------------------------------------------------------- damaged records
ctl POST clear >/dev/null
SIZE=12000000
KEPT=$((PART + MiB / 2))
mkrand "$src/r" $SIZE
tail -c +$((KEPT + 1)) "$src/r" >"$src/r.tail"
rdigest=$(sha256sum "$src/r" | cut -c1-64 | sed 's/../\\x&/g')
raw "an upload cut after one part and a half" -t 20 -w 60 ctl \
    "line:UPLOAD cut.bin $SIZE" 'ok:^OK ' data "dsend:$src/r:$KEPT" dclose read 'ok:^ERROR ' \
    "send:PARTIAL cut.bin $SIZE" read "ok:^OK $KEPT\$"
pdir=$(keys | grep -o '^pfx/\.ftx/partial/[^/]*/' | head -n 1)
rec=${pdir}state-$(printf '%016x' $PART)
if ctl GET "obj/$rec" >"$TMPD/rec.good" && head -n 1 "$TMPD/rec.good" | grep -qx 'ftx-s3-partial 1'; then
	pass "the partial's record is $rec"
else
	fail "no partial record $rec; the bucket has: $(keys | tr '\n' ' ')"
fi

# damaged DESC: put $TMPD/rec.bad in place of the record; the resume is
# refused, nothing is lost or committed, the server answers.
damaged() {
	local desc=$1 r
	r=$(curl -sS --max-time 10 -X PUT --data-binary "@$TMPD/rec.bad" "$CTL/obj/$rec")
	[ "$r" = ok ] || fail "$desc: the fake did not take the record: $r"
	raw "record $desc: the resume is refused" -t 20 -w 60 ctl \
	    "line:UPLOAD cut.bin $SIZE offset=$KEPT" 'ok:^OK ' \
	    data "dsend:$src/r.tail" "draw:$rdigest" read "ok:^ERROR RANGE .*damaged" \
	    line:NOOP 'ok:^OK$' "send:PARTIAL cut.bin $SIZE" read "ok:^OK $KEPT\$"
	assert_alive "record $desc"
	if keys | grep -qx 'pfx/cut.bin'; then
		fail "record $desc: pfx/cut.bin exists"
	else
		pass "record $desc: nothing under the final name"
	fi
}
sed '1s/.*/ftx-s3-partial 2/' "$TMPD/rec.good" >"$TMPD/rec.bad"
damaged "with a wrong magic"
sed '4s/^../zz/' "$TMPD/rec.good" >"$TMPD/rec.bad"
damaged "with bad hex in the hash state"
sed '4s/^\(.\{86\}\)../\1ff/' "$TMPD/rec.good" >"$TMPD/rec.bad"
damaged "with a hash state no SHA-256 can be in"
sed '2s/.*/elsewhere\/cut.bin/' "$TMPD/rec.good" >"$TMPD/rec.bad"
damaged "with a target outside the prefix"
{ cat "$TMPD/rec.good"; echo '"0123456789abcdef0123456789abcdef"'; } >"$TMPD/rec.bad"
damaged "with one ETag more than the offset says"
{ head -n 4 "$TMPD/rec.good"; yes '"e"' | head -n 10001; } >"$TMPD/rec.bad"
damaged "with 10001 ETags"
head -c 100 "$TMPD/rec.good" >"$TMPD/rec.bad"
damaged "cut short"
printf '' >"$TMPD/rec.bad"
damaged "empty"
# The same resume with the record intact: the test can tell.
cp "$TMPD/rec.good" "$TMPD/rec.bad"
curl -sS --max-time 10 -X PUT --data-binary "@$TMPD/rec.bad" "$CTL/obj/$rec" >/dev/null
raw "the intact record resumes" -t 20 -w 60 ctl \
    "line:UPLOAD cut.bin $SIZE offset=$KEPT" 'ok:^OK ' \
    data "dsend:$src/r.tail" "draw:$rdigest" read "ok:^DONE $(sha256_of "$src/r")\$"
ctl GET obj/pfx/cut.bin >"$TMPD/cut.back"
assert_file_same "$src/r" "$TMPD/cut.back" "the resumed object is the whole file"
assert_eq "" "$(keys | grep '^pfx/\.ftx/partial/')" "the partial's objects are gone after the commit"
ls_is "big cut.bin small" "ls lists the resumed file"

# ---------------------------------------------------------------- a tail too large
# part_load reads the tail into a buffer of FTX_S3_PART bytes: a larger
# one is refused.
{
	mkrand "$src/r2" 20000000
	raw "a second upload cut after one part and a half" -t 20 -w 60 ctl \
	    "line:UPLOAD ovf.bin 20000000" 'ok:^OK ' data "dsend:$src/r2:$KEPT" dclose read 'ok:^ERROR '
	pdir=$(keys | grep -o '^pfx/\.ftx/partial/[^/]*/' | head -n 1)
	mkrand "$TMPD/bigtail" $((PART + 3 * MiB / 2))
	curl -sS --max-time 10 -X PUT --data-binary "@$TMPD/bigtail" "$CTL/obj/${pdir}tail" >/dev/null
	big=$((PART + PART + 3 * MiB / 2))
	raw "a tail larger than a part: the resume is refused" -t 20 -w 60 ctl \
	    "send:PARTIAL ovf.bin 20000000" read \
	    "line:UPLOAD ovf.bin 20000000 offset=$big" 'ok:^(OK|ERROR) ' \
	    data "dsend:$src/r2:0" read 'ok:^ERROR ' line:NOOP 'ok:^OK$'
	assert_alive "a tail larger than a part"
}

stop_server
kill -TERM "$S3_PID" 2>/dev/null
wait "$S3_PID" 2>/dev/null
finish
