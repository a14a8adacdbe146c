#!/bin/bash
# docs/ARCHITECTURE.md, the map of the source tree, keeps up with the
# code: every file it names (a path such as `ftxd/xfer.c` or
# `shared/str.[ch]`, or a bare source name such as `hpipe.c`) exists,
# every function it writes as `name()` is defined somewhere in ftxd/,
# ftx/, shared/ or tests/tools/, and every link to a section
# (`DESIGN.md#...`, `#...`) leads to a heading that exists.  The
# extractors are checked first on a text whose answers are known, and
# the whole check is shown to fail on doctored copies of the map, so a
# broken test cannot pass by finding nothing.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$ITEST_DIR/../.." && pwd)
DOC=$REPO/docs/ARCHITECTURE.md
SRCDIRS=(ftxd ftx shared tests/tools)

# ---------------------------------------------------------------- extractors

# paths FILE: every path under a top-level directory of the repository,
# one per line, with "x.[ch]" expanded to x.c and x.h and trailing
# punctuation taken off.
paths() {
	grep -oE '(^|[^A-Za-z0-9_./<-])(ftxd|ftx|shared|tests|bench|deploy|docs)/[A-Za-z0-9_./-]*(\[ch\])?' "$1" |
	    sed -E 's/^[^a-z]//; s/[.]+$//' | grep -vE '/[0-9.]+$' |
	    while read -r p; do
		case $p in
		*'.[ch]') echo "${p%\[ch\]}c" && echo "${p%\[ch\]}h" ;;
		*) echo "$p" ;;
		esac
	    done | sort -u
}

# bare FILE: source file names without a directory ("hpipe.c").
bare() {
	grep -oE '(^|[^A-Za-z0-9_./[-])[a-z_][a-z0-9_]*\.[ch]([^A-Za-z0-9_[]|$)' "$1" |
	    sed -E 's/^[^a-z_]//; s/[^a-z0-9_.]$//' | LC_ALL=C sort -u
}

# functions FILE: every name written as "name()".
functions() {
	grep -oE '[A-Za-z_][A-Za-z0-9_]*\(\)' "$1" | sed 's/()$//' | LC_ALL=C sort -u
}

# anchors FILE: every link to a section, as "TARGET<TAB>ANCHOR"; TARGET
# is the linked .md file, or FILE itself for "(#anchor)".
anchors() {
	grep -oE '\]\([A-Za-z0-9_./-]*#[A-Za-z0-9_-]+\)' "$1" |
	    sed -E 's/^\]\(//; s/\)$//' |
	    while IFS='#' read -r target anchor; do
		[ -z "$target" ] && target=$(basename "$1")
		printf '%s\t%s\n' "$target" "$anchor"
	    done | sort -u
}

# slugs FILE: the anchor of every heading, as GitHub makes them: lower
# case, everything but letters, digits, spaces, '_' and '-' dropped,
# spaces made '-'.
slugs() {
	awk '/^```/ { code = !code; next }
	!code && /^#+ / {
		h = $0
		sub(/^#+ +/, "", h)
		h = tolower(h)
		gsub(/[^a-z0-9 _-]/, "", h)
		gsub(/ /, "-", h)
		print h
	}' "$1"
}

cat >"$TMPD/known.md" <<'EOF'
# Known

## The `loop` (`ftxd/loop.c`) — fast

| `shared/str.[ch]`, `shared/buf.[ch]` | str | `str_err()` |
- `tests/unit/` (cmocka), `tests/tools/ftxraw.c`; see (`hpipe.c`) and
  sess_read() in session.c, then `cmd_dispatch()`, `proto_find_line()`.
  Not files: `<root>/.ftx/<name>`, `.ftx/.partial`, `ftx put`, a.b.
  Not functions: `loop_add(fd, events)`, write(2).
  [map](ARCHITECTURE.md#the-pieces), [here](#the-loop-ftxdloopc-fast).
EOF
assert_eq "ftxd/loop.c shared/buf.c shared/buf.h shared/str.c shared/str.h tests/tools/ftxraw.c tests/unit/" \
    "$(paths "$TMPD/known.md" | tr '\n' ' ' | sed 's/ $//')" "the path extractor finds paths and expands [ch]"
assert_eq "hpipe.c session.c" "$(bare "$TMPD/known.md" | tr '\n' ' ' | sed 's/ $//')" \
    "the bare-name extractor finds source names without a directory"
assert_eq "cmd_dispatch proto_find_line sess_read str_err" "$(functions "$TMPD/known.md" | tr '\n' ' ' | sed 's/ $//')" \
    "the function extractor finds name() and nothing else"
assert_eq "ARCHITECTURE.md:the-pieces known.md:the-loop-ftxdloopc-fast" \
    "$(anchors "$TMPD/known.md" | tr '\t\n' ': ' | sed 's/ $//')" "the anchor extractor finds section links"
assert_eq "known the-loop-ftxdloopc--fast" "$(slugs "$TMPD/known.md" | tr '\n' ' ' | sed 's/ $//')" \
    "headings become GitHub anchors"

# ---------------------------------------------------------------- the check

# index: what the sources define, once: $TMPD/defs holds every function
# (the house style puts a definition's name at column 0) and
# function-like macro, $TMPD/files every file name.  Run in $REPO.
index() {
	{
		grep -rhoE --include='*.c' --include='*.h' '^[A-Za-z_][A-Za-z0-9_]*\(' "${SRCDIRS[@]}"
		grep -rhoE --include='*.c' --include='*.h' '^#[[:space:]]*define[[:space:]]+[A-Za-z_][A-Za-z0-9_]*\(' \
		    "${SRCDIRS[@]}" | sed -E 's/^#[[:space:]]*define[[:space:]]+//'
	} | sed 's/($//' | LC_ALL=C sort -u >"$TMPD/defs"
	find "${SRCDIRS[@]}" -type f -printf '%f\n' | LC_ALL=C sort -u >"$TMPD/files"
}

# check DOC [DIR]: prints one line per problem; the count goes to
# PROBLEMS.  Links to other documents are resolved in DIR (default: the
# directory DOC is in).
check() {
	local doc=$1 dir=${2:-$(dirname "$1")} p f target anchor
	PROBLEMS=0
	while read -r p; do
		if [ ! -e "$REPO/$p" ]; then
			echo "no such file or directory: $p"
			PROBLEMS=$((PROBLEMS + 1))
		fi
	done < <(paths "$doc")
	while read -r f; do
		echo "no source file $f in ${SRCDIRS[*]}"
		PROBLEMS=$((PROBLEMS + 1))
	done < <(bare "$doc" | LC_ALL=C comm -23 - "$TMPD/files")
	while read -r f; do
		echo "function $f() is not defined in ${SRCDIRS[*]}"
		PROBLEMS=$((PROBLEMS + 1))
	done < <(functions "$doc" | LC_ALL=C comm -23 - "$TMPD/defs")
	while IFS=$'\t' read -r target anchor; do
		if [ "$target" = "$(basename "$doc")" ]; then
			target=$doc
		else
			target=$dir/$target
		fi
		if [ ! -f "$target" ]; then
			echo "link to $(basename "$target")#$anchor: no such file"
			PROBLEMS=$((PROBLEMS + 1))
		elif ! slugs "$target" | grep -qxF -- "$anchor"; then
			echo "link to $(basename "$target")#$anchor: no such section"
			PROBLEMS=$((PROBLEMS + 1))
		fi
	done < <(anchors "$doc")
}

cd "$REPO" || exit 1
index
if [ "$(wc -l <"$TMPD/defs")" -ge 500 ]; then pass "$(wc -l <"$TMPD/defs") definitions indexed"; else fail "only $(wc -l <"$TMPD/defs") definitions indexed"; fi
if [ ! -f "$DOC" ]; then
	fail "$DOC does not exist"
	finish
fi
np=$(paths "$DOC" | wc -l)
nf=$(functions "$DOC" | wc -l)
na=$(anchors "$DOC" | wc -l)
if [ "$np" -ge 40 ]; then pass "$np paths found"; else fail "only $np paths found"; fi
if [ "$nf" -ge 40 ]; then pass "$nf functions found"; else fail "only $nf functions found"; fi
if [ "$na" -ge 5 ]; then pass "$na section links found"; else fail "only $na section links found"; fi
check "$DOC" >"$TMPD/problems"
if [ "$PROBLEMS" -eq 0 ]; then
	pass "every file, function and section docs/ARCHITECTURE.md names exists"
else
	fail "docs/ARCHITECTURE.md is out of date ($PROBLEMS problems):"
	sed 's/^/    /' "$TMPD/problems" >&2
fi

# ---------------------------------------------------------------- the check can fail

# doctor NAME SED-EXPR: a copy of the map with one thing broken must
# fail the check (its links still resolved in docs/).
doctor() {
	local name=$1 expr=$2
	sed -E "$expr" "$DOC" >"$TMPD/ARCHITECTURE.md"
	if cmp -s "$DOC" "$TMPD/ARCHITECTURE.md"; then
		fail "$name: the sed expression changed nothing"
		return
	fi
	check "$TMPD/ARCHITECTURE.md" "$REPO/docs" >/dev/null
	if [ "$PROBLEMS" -gt 0 ]; then pass "$name is caught"; else fail "$name was not caught"; fi
}
doctor "a file that does not exist" '0,/`ftxd\/xfer\.c`/s//`ftxd\/xfer_gone.c`/'
doctor "a module that does not exist" '0,/`shared\/hpipe\.\[ch\]`/s//`shared\/hpipe_gone.[ch]`/'
doctor "a bare file name that does not exist" '0,/\(loop\.c,/s//(loop_gone.c,/'
doctor "a function that does not exist" '0,/`sess_read\(\)`/s//`sess_read_gone()`/'
doctor "a link to a section that does not exist" '0,/DESIGN\.md#transfers-and-threads/s//DESIGN.md#transfers-and-threads-gone/'

finish
