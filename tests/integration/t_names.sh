#!/bin/bash
# File names: spaces, UTF-8, '%' and other odd but legal bytes travel
# intact through put/ls/hash/get/rm; the longest legal name works; every
# class of rejected name gets ERROR BADNAME (or SYNTAX where the grammar
# itself is broken) on raw control lines with the session still usable,
# and is refused by ftx; nothing is ever created outside the root.
. "$(dirname "$0")/lib.sh"

start_server

src=$TMPD/src
dl=$TMPD/dl
mkdir -p "$src" "$dl"

long255=$(printf 'n%.0s' $(seq 1 255))
# 127 two-byte characters + 1 byte = 255 bytes of UTF-8.
utf255="$(printf 'é%.0s' $(seq 1 127))x"
assert_eq 255 "$(printf '%s' "$utf255" | wc -c)" "UTF-8 test name is 255 bytes"

names=(
	"my file.txt"
	"  leading and trailing spaces  "
	"résumé.pdf"
	"日本語のファイル.txt"
	"emoji 😀 party.bin"
	"100%.txt"
	"a%20b"
	"%41%zz"
	"plus+hash#amp&semi;colon.txt"
	"quotes'\"\`\$(true).txt"
	"trailing.dot."
	"$long255"
	"$utf255"
)

i=0
for name in "${names[@]}"; do
	i=$((i + 1))
	mkrand "$src/$name" $((i * 777))
done

# Upload each under its own base name.
for name in "${names[@]}"; do
	assert_exit 0 "put '${name:0:40}'" ftx put "$src/$name"
	assert_file_same "$src/$name" "$ROOT/$name" "stored copy of '${name:0:40}'"
done

# ls shows every name (ftx prints names as they are, decoded).
assert_exit 0 "ls" ftx ls
for name in "${names[@]}"; do
	if grep -qF -- "$name" "$OUT"; then
		pass "ls lists '${name:0:40}'"
	else
		fail "ls does not list '${name:0:40}'"
	fi
done

# Raw LIST carries each name percent-encoded the way PROTOCOL.md says.
raw "raw LIST" ctl line:LIST 'ok:^OK [0-9]+$'
for name in "${names[@]}"; do
	enc=$(proto_encode "$name")
	size=$(stat -c %s "$src/$name")
	sha=$(sha256_of "$src/$name")
	line=$(grep '^< FILE ' "$RAW_OUT" | sed -E 's/%([0-9a-fA-F]{2})/%\U\1/g' |
	    awk -v e="$enc" '$NF == e')
	if [ -z "$line" ]; then
		fail "LIST has no line for encoded name '${enc:0:60}'"
		continue
	fi
	assert_match "^< FILE $size [0-9]+ ($sha|-) " "$line" "LIST line of '${name:0:40}' has size and hash"
done

# hash prints sha256sum -c lines; get returns the same bytes.
for name in "${names[@]}"; do
	assert_exit 0 "hash '${name:0:40}'" ftx hash "$name"
	if (cd "$src" && sha256sum -c --status <"$OUT"); then
		pass "ftx hash output of '${name:0:40}' verifies with sha256sum -c"
	else
		fail "ftx hash output of '${name:0:40}' does not verify with sha256sum -c: $(head -c 300 "$OUT")"
	fi
	assert_exit 0 "get '${name:0:40}'" ftx get "$name" -o "$dl"
	assert_file_same "$src/$name" "$dl/$name" "downloaded '${name:0:40}'"
done

# A raw UTF-8 name and its percent-encoded form are the same file.
raw "raw vs encoded UTF-8 name" ctl \
    'line:HASH r%C3%A9sum%C3%A9.pdf' "ok:^OK $(stat -c %s "$src/résumé.pdf") $(sha256_of "$src/résumé.pdf") - " \
    'line:HASH résumé.pdf' "ok:^OK $(stat -c %s "$src/résumé.pdf") $(sha256_of "$src/résumé.pdf") - " \
    'line:HASH my%20file.txt' "ok:^OK $(stat -c %s "$src/my file.txt") "
# '%' itself must be sent as %25; "100%.txt" raw is a malformed escape.
raw "a literal percent" ctl 'line:HASH 100%25.txt' 'ok:^OK ' \
    'line:HASH a%2520b' 'ok:^OK ' 'line:HASH a%20b' 'ok:^ERROR NOTFOUND' \
    'line:NOOP' 'ok:^OK$'

# rm removes each of them, in one command.
assert_exit 0 "rm all odd names" ftx rm "${names[@]}"
assert_eq "" "$(visible_files "$ROOT")" "root is empty after rm"

# ---------------------------------------------------------------- rejected

# ("a/b" and "a%2Fb" are paths since folders, see t_folders.sh; what
# a path may not be is below.)
bad_names=(
	"."
	".."
	"%2E"
	"%2E%2E"
	".hidden"
	".ftx"
	".ftxtmp-0123456789abcdef"
	"/"
	"a/"
	"a//b"
	"../escape"
	"..%2Fescape"
	"a%2F..%2F..%2Fb"
	"%2Fetc%2Fpasswd"
	"a\\b"
	"a%5Cb"
	"..\\escape"
	"ctl%01char"
	"ctl%1F"
	"%0Anewline"
	"del%7F"
	"c1%C2%9Bcsi"
	"raw%9Bbyte"
	"over%C0%AFlong"
	"rlo%E2%80%AEtxt.exe"
	"${long255}n"
	"${long255:1}%C3%A9"
)
steps=(ctl 'ok:^OK FTX/1')
for name in "${bad_names[@]}"; do
	steps+=("line:UPLOAD $name 3" 'ok:^ERROR BADNAME ')
	steps+=("line:DOWNLOAD $name" 'ok:^ERROR BADNAME ')
	steps+=("line:DELETE $name" 'ok:^ERROR BADNAME ')
	steps+=("line:HASH $name" 'ok:^ERROR BADNAME ')
	steps+=("line:HASH $name md5" 'ok:^ERROR BADNAME ')
done
# An empty name cannot even be written: a missing argument.
steps+=('line:UPLOAD' 'ok:^ERROR (SYNTAX|BADNAME) ' 'line:DOWNLOAD' 'ok:^ERROR (SYNTAX|BADNAME) '
	'line:DELETE' 'ok:^ERROR (SYNTAX|BADNAME) ' 'line:HASH' 'ok:^ERROR (SYNTAX|BADNAME) ')
# %00 and raw control characters break the line itself.
steps+=('line:HASH nul%00byte' 'ok:^ERROR SYNTAX ' 'line:DELETE nul%00' 'ok:^ERROR SYNTAX ')
steps+=($'line:HASH tab\tchar' 'ok:^ERROR SYNTAX ' $'line:HASH bell\achar' 'ok:^ERROR SYNTAX ')
steps+=($'line:UPLOAD esc\x1bchar 3' 'ok:^ERROR SYNTAX ' $'line:HASH del\x7fchar' 'ok:^ERROR SYNTAX ')
# The 255-byte names are fine (NOTFOUND, not BADNAME).
steps+=("line:HASH $long255" 'ok:^ERROR NOTFOUND' "line:HASH $utf255" 'ok:^ERROR NOTFOUND')
# Still the same, usable session.
steps+=('line:NOOP' 'ok:^OK$' 'line:LIST' 'ok:^OK 0$')
raw "every rejected name class on one session" "${steps[@]}"

# ftx refuses them too (usage error or server refusal), creating nothing.
mkrand "$src/payload" 100
for name in "${bad_names[@]}" ""; do
	# The client takes names decoded; turn the escapes into bytes.
	dec=$name
	if [[ "$name" == *%* ]]; then
		dec=$(printf '%b' "${name//%/\\x}")
	fi
	assert_exit_in "2 4" "ftx put --as '${dec:0:40}'" ftx put "$src/payload" --as "$dec"
	assert_exit_in "2 4" "ftx get '${dec:0:40}'" ftx get "$dec" -o "$dl"
	assert_exit_in "2 4" "ftx rm '${dec:0:40}'" ftx rm "$dec"
	assert_exit_in "2 4" "ftx hash '${dec:0:40}'" ftx hash "$dec"
done

assert_eq "" "$(visible_files "$ROOT")" "nothing visible was created in the root"
assert_eq "" "$(temps_in "$ROOT")" "no temporaries in the root"
for f in escape b etc passwd; do
	assert_no_file "$TMPD/$f" "nothing escaped the root ($f)"
done
assert_no_file "$dl/escape" "get of a bad name wrote nothing"
assert_alive "rejected names"
finish
