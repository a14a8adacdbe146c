#!/bin/bash
# docs/SECURITY.md keeps up with the code: every `SECURITY:` comment in
# shared/, ftxd/ and ftx/ has a row in the doc's table of checks, matched
# by file and function (one row per comment), every row names a file and
# a function that exist, and every test a row names exists (and so does
# every unit-test function it names).  The extractor is checked first on
# a file whose answers are known, and the whole check is shown to fail on
# a doctored copy of the doc, so a broken test cannot pass by finding
# nothing.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$ITEST_DIR/../.." && pwd)
DOC=$REPO/docs/SECURITY.md

# ---------------------------------------------------------------- the extractor

# extract FILE...: "FILE<TAB>FUNCTION<TAB>LINE" for every line with
# "SECURITY:".  FUNCTION is the function the comment is in (the house
# style puts a definition's name at column 0 and its braces "{" and "}"
# at column 0); for a comment outside every function, the thing declared
# right after the comment: a function or prototype, a macro, a struct or
# a variable; "(file)" for the file's opening comment.
extract() {
	awk '
	function after(start,    i, s, m, pre) {
		s = ""
		for (i = start; i <= n && i < start + 6; i++) {
			if (s == "" && lines[i] ~ /^[ \t]*$/)
				continue
			if (s == "" && lines[i] ~ /^[ \t]*(\/\*|\*|\/\/)/)
				continue
			if (s == "" && match(lines[i], /^[ \t]*#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
				m = substr(lines[i], RSTART, RLENGTH)
				sub(/^[ \t]*#[ \t]*define[ \t]+/, "", m)
				return m
			}
			s = s " " lines[i]
			if (s ~ /[(;={]/)
				break
		}
		# A function or a prototype: the first name followed by "(",
		# unless an initialiser or a body comes first.
		while (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
			m = substr(s, RSTART, RLENGTH)
			sub(/[ \t]*\($/, "", m)
			pre = substr(s, 1, RSTART - 1)
			if (pre ~ /[=;{]/)
				break
			if (m !~ /^(__attribute__|sizeof|defined|if|while|for|switch|return)$/)
				return m
			s = substr(s, RSTART + RLENGTH)
		}
		if (match(s, /(struct|enum|union)[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\{/)) {
			m = substr(s, RSTART, RLENGTH)
			sub(/^(struct|enum|union)[ \t]+/, "", m)
			sub(/[ \t]*\{$/, "", m)
			return m
		}
		if (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*(\[[^]]*\])*[ \t]*[=;]/)) {
			m = substr(s, RSTART, RLENGTH)
			sub(/[ \t]*(\[[^]]*\])*[ \t]*[=;]$/, "", m)
			return m
		}
		return "-"
	}
	FNR == 1 && NR > 1 { scan() }
	FNR == 1 { file = FILENAME; n = 0 }
	{ lines[++n] = $0 }
	END { if (NR > 0) scan() }
	# The name a top-level block opened on line l is about: the
	# variable of "... name[] = {", or the struct of "struct name {".
	function block(l,    m) {
		if (match(l, /[A-Za-z_][A-Za-z0-9_]*[ \t]*(\[[^]]*\])*[ \t]*=[ \t]*\{/)) {
			m = substr(l, RSTART, RLENGTH)
			sub(/[ \t]*(\[[^]]*\])*[ \t]*=[ \t]*\{$/, "", m)
			return m
		}
		if (match(l, /(struct|enum|union)[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\{/)) {
			m = substr(l, RSTART, RLENGTH)
			sub(/^(struct|enum|union)[ \t]+/, "", m)
			sub(/[ \t]*\{$/, "", m)
			return m
		}
		return ""
	}
	function scan(    i, l, cand, cur, infunc, a, b, k, hdr) {
		cand = ""; cur = ""; infunc = 0
		for (i = 1; i <= n; i++) {
			l = lines[i]
			if (match(l, /^[A-Za-z_][A-Za-z0-9_]*\(/))
				cand = substr(l, 1, RLENGTH - 1)
			else if (l ~ /^\{/) {
				cur = cand
				infunc = 1
			} else if (l ~ /^\}/) {
				infunc = 0
				cur = ""
			} else if (!infunc && l ~ /^[A-Za-z].*\{[ \t]*$/ && block(l) != "") {
				cur = block(l)
				infunc = 1
			}
			if (l !~ /SECURITY:/)
				continue
			if (infunc && cur != "") {
				print file "\t" cur "\t" i
				continue
			}
			# The comment runs from line a to line b.
			for (a = i; a > 1 && lines[a] !~ /\/\*/; a--)
				;
			for (b = i; b < n && lines[b] !~ /\*\//; b++)
				;
			hdr = 1
			for (k = 1; k < a; k++)
				if (lines[k] !~ /^[ \t]*$/)
					hdr = 0
			print file "\t" (hdr ? "(file)" : after(b + 1)) "\t" i
		}
	}' "$@"
}

# A file whose answers are known: every placement the sources use.
cat >"$TMPD/known.c" <<'EOF'
/*
 * known.c - a file header.  SECURITY: this one is about the whole file.
 */
#include <stdio.h>

/* SECURITY: a macro. */
#define KNOWN_LIMIT 10

/* SECURITY: above a prototype in a header. */
int known_proto(const char *s,
    int n);

/* SECURITY: above a definition. */
static int
known_def(int x)
{
	/* SECURITY: inside a definition. */
	if (x > KNOWN_LIMIT) {
		return 1;
	}
	return 0;
}

static void known_attr(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const int known_table[] = {
    1, 2, /* SECURITY: inside an initialiser. */
};

/*
 * SECURITY: a long comment above a definition
 * that spans lines.
 */
int
known_long(void)
{
	int y = 0; /* SECURITY: at the end of a line. */

	return y;
}
EOF
got=$(extract "$TMPD/known.c" | cut -f2,3 | tr '\t\n' ': ')
assert_eq "(file):2 KNOWN_LIMIT:6 known_proto:9 known_def:13 known_def:17 known_table:28 known_long:32 known_long:38 " \
    "$got" "the extractor finds the function of every kind of SECURITY comment"

# ---------------------------------------------------------------- the doc's table

# rows DOC: "FILE<TAB>FUNCTION<TAB>TESTS" for every table row whose first
# cell is a source file (backticks and a trailing "()" are taken off).
rows() {
	awk -F'|' '
	function clean(s) {
		gsub(/`/, "", s)
		gsub(/^[ \t]+|[ \t]+$/, "", s)
		return s
	}
	/^[ \t]*\|/ {
		f = clean($2)
		if (f !~ /^(shared|ftxd|ftx)\/[A-Za-z0-9_.-]+\.[ch]$/)
			next
		fn = clean($3)
		sub(/\(\)$/, "", fn)
		print f "\t" fn "\t" clean($5)
	}' "$1"
}

# check DOC: every SECURITY comment has a row, every row's file, function
# and tests exist.  Prints one line per problem; the count is returned in
# PROBLEMS.
check() {
	local doc=$1 file fn line tests t path unit
	PROBLEMS=0
	rows "$doc" >"$TMPD/rows"
	# A "|" inside a cell would shift the columns: four cells exactly.
	awk -F'|' '/^[ \t]*\|[ \t]*`?(shared|ftxd|ftx)\// && NF != 6 { print NR }' "$doc" >"$TMPD/badrows"
	while read -r line; do
		echo "$(basename "$doc"):$line: a table row without exactly four cells"
		PROBLEMS=$((PROBLEMS + 1))
	done <"$TMPD/badrows"
	# One row per comment: a function with three comments needs three.
	awk -F'\t' -v doc="$(basename "$doc")" '
	FILENAME == ARGV[1] { have[$1 "\t" $2]++; next }
	{ want[$1 "\t" $2]++; where[$1 "\t" $2] = $1 ":" $3 }
	END {
		for (k in want)
			if (have[k] + 0 < want[k]) {
				split(k, p, "\t")
				printf "%s: SECURITY comment in %s: %d of %d rows in %s\n", where[k], p[2], have[k], want[k], doc
			}
	}' "$TMPD/rows" "$TMPD/comments.rel" >"$TMPD/missing"
	while read -r line; do
		echo "$line"
		PROBLEMS=$((PROBLEMS + 1))
	done <"$TMPD/missing"
	# The rows' files, functions and tests, in one process: a grep per
	# row and test took two minutes on a loaded machine.
	python3 - "$REPO" "$TMPD/rows" >"$TMPD/rowprobs" <<'PY'
import os, re, sys
repo, rows = sys.argv[1], sys.argv[2]
cache = {}
def text(path):
    if path not in cache:
        with open(os.path.join(repo, path), errors="replace") as f:
            cache[path] = f.read()
    return cache[path]
for row in open(rows):
    file, fn, tests = (row.rstrip("\n").split("\t") + ["", ""])[:3]
    if not os.path.isfile(os.path.join(repo, file)):
        print(f"row for {file}: no such file")
        continue
    if fn != "(file)" and not re.search(r"(?<![A-Za-z0-9_])" + re.escape(fn) + r"(?![A-Za-z0-9_])", text(file)):
        print(f"row for {file}: no {fn} in it")
    if tests == "":
        print(f"row for {file} {fn}: the test cell is empty (write 'none yet')")
        continue
    # Test files: t_*.sh (integration), test_*.c (unit), fuzz_*.c, or
    # paths under tests/.  A bare test_name after a unit-test file is a
    # function of it.
    unit = None
    for t in re.findall(r"[A-Za-z0-9_./-]+", tests):
        t = t[:-1] if t.endswith(".") else t
        if t.startswith("tests/"):
            path = t
        elif t.startswith("t_") and t.endswith(".sh"):
            path = "tests/integration/" + t
        elif t.startswith("test_") and t.endswith(".c"):
            path = "tests/unit/" + t
        elif t.startswith("fuzz_") and t.endswith(".c"):
            path = "tests/fuzz/" + t
        elif t.startswith("test_"):
            if unit is not None and not re.search(r"^" + re.escape(t) + r"\(", text(unit), re.M):
                print(f"row for {file} {fn}: no unit test {t} in {unit}")
            continue
        else:
            continue
        if not os.path.isfile(os.path.join(repo, path)):
            print(f"row for {file} {fn}: no test file {path}")
        unit = path if path.endswith(".c") and os.path.isfile(os.path.join(repo, path)) else None
PY
	while read -r line; do
		echo "$line"
		PROBLEMS=$((PROBLEMS + 1))
	done <"$TMPD/rowprobs"
}

cd "$REPO" || exit 1
mapfile -t sources < <(find shared ftxd ftx -name '*.[ch]' | sort)
extract "${sources[@]}" >"$TMPD/comments.rel"
total=$(grep -rn 'SECURITY:' shared ftxd ftx | wc -l)
n=$(wc -l <"$TMPD/comments.rel")
assert_eq "$total" "$n" "every 'SECURITY:' line in shared/ ftxd/ ftx/ is extracted"
if [ "$n" -ge 50 ]; then pass "$n SECURITY comments found"; else fail "only $n SECURITY comments found"; fi
unnamed=$(awk -F'\t' '$2 == "-"' "$TMPD/comments.rel")
assert_eq "" "$unnamed" "every SECURITY comment is tied to a function, a declaration or its file"

if [ ! -f "$DOC" ]; then
	fail "$DOC does not exist"
	finish
fi
nrows=$(rows "$DOC" | wc -l)
if [ "$nrows" -ge "$n" ]; then pass "the table has $nrows rows for $n comments"; else fail "the table has $nrows rows for $n comments"; fi
check "$DOC" >"$TMPD/problems"
if [ "$PROBLEMS" -eq 0 ]; then
	pass "every SECURITY comment is in docs/SECURITY.md, and every file, function and test it names exists"
else
	fail "docs/SECURITY.md is out of date ($PROBLEMS problems):"
	sed 's/^/    /' "$TMPD/problems" >&2
fi
# The "none yet" rows, for whoever writes the next test.
none=$(rows "$DOC" | awk -F'\t' '$3 ~ /none yet/' | wc -l)
echo "note: $none of $nrows checks have no test yet"

# ---------------------------------------------------------------- the check can fail

# A row deleted, a test renamed, a unit-test function renamed: each caught.
first=$(rows "$DOC" | awk -F'\t' '$3 !~ /none yet/ && $3 ~ /test_[a-z0-9_]+\.c/ { print $1; exit }')
if [ -n "$first" ]; then
	awk -v f="$first" 'index($0, "`" f "`") && !done { done = 1; next } { print }' "$DOC" >"$TMPD/missing.md"
	check "$TMPD/missing.md" >/dev/null
	if [ "$PROBLEMS" -gt 0 ]; then pass "a missing row is caught"; else fail "a missing row was not caught"; fi
fi
sed -E 's/(t_[a-z0-9_]+)\.sh/\1_gone.sh/' "$DOC" >"$TMPD/renamed.md"
check "$TMPD/renamed.md" >/dev/null
if [ "$PROBLEMS" -gt 0 ]; then pass "a test file that does not exist is caught"; else fail "a missing test file was not caught"; fi
if grep -qE '`test_[a-z0-9_]+\.c`[^|]*`test_[a-z0-9_]+`' "$DOC"; then
	sed -E 's/(`test_[a-z0-9_]+\.c`[^|]*`test_[a-z0-9_]+)`/\1_gone`/' "$DOC" >"$TMPD/fn.md"
	check "$TMPD/fn.md" >/dev/null
	if [ "$PROBLEMS" -gt 0 ]; then pass "a unit-test function that does not exist is caught"; else fail "a missing unit-test function was not caught"; fi
fi
sed -E '0,/^(\| `(shared|ftxd|ftx)\/[^`]+` \| [^|]+\| )/s//\1an extra cell | /' "$DOC" >"$TMPD/cells.md"
check "$TMPD/cells.md" >/dev/null
if [ "$PROBLEMS" -gt 0 ]; then pass "a row with an extra cell is caught"; else fail "a row with an extra cell was not caught"; fi
printf '| `ftxd/cmd.c` | `no_such_function_here` | x | none yet |\n' >"$TMPD/stale.md"
cat "$DOC" >>"$TMPD/stale.md"
check "$TMPD/stale.md" >/dev/null
if [ "$PROBLEMS" -gt 0 ]; then pass "a row for a function that does not exist is caught"; else fail "a stale row was not caught"; fi

finish
