#!/bin/bash
# The ftxd modules depend on each other one way (docs/ARCHITECTURE.md,
# "Dependencies"): no cycle among them, neither of includes nor of
# links.  A module is a basename: ftxd/cmd.c and ftxd/cmd.h are "cmd",
# and a module's header for its backends (ftxd/store_impl.h) is part of
# it ("store").
#  - includes: `#include "x.h"` in ftxd/m.[ch], where ftxd/x.h exists,
#    is an edge m -> x;
#  - links: a symbol the object of m uses and the object of x defines
#    (nm of $FTX_BUILD/obj/ftxd/*.o) is an edge m -> x.
# Any cycle fails the test and is printed.  The layers (each module above
# everything it uses) are printed for the record.  The table of layers
# in docs/ARCHITECTURE.md is the allowed order: every module must be in
# it, and every edge must go from a higher layer to a lower one.  The
# cycle finder is checked first on graphs whose answers are known, and
# the whole check is shown to fail on a copy of ftxd/ with one upward
# include added, and on a doctored copy of the table.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$ITEST_DIR/../.." && pwd)

# include_edges DIR: "m x" for every include of a module of DIR by
# another, sorted and unique.
include_edges() {
	local dir=$1 f m x
	for f in "$dir"/*.[ch]; do
		m=$(basename "$f")
		m=${m%.*}
		m=${m%_impl}
		# Only quoted includes at the start of a line: <...> ones are
		# the system's.
		sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"/]*\)\.h".*/\1/p' "$f" |
			while read -r x; do
				[ -f "$dir/$x.h" ] && [ "${x%_impl}" != "$m" ] &&
					echo "$m ${x%_impl}"
			done
	done | sort -u
}

# link_edges OBJDIR: "m x" for every symbol the object m.o uses that
# x.o defines.
link_edges() {
	local dir=$1 o m
	for o in "$dir"/*.o; do
		m=$(basename "$o" .o)
		nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
	done | sort -k1,1 >"$TMPD/defs"
	for o in "$dir"/*.o; do
		m=$(basename "$o" .o)
		nm -u "$o" | awk -v m="$m" '{ print $NF, m }'
	done | sort -k1,1 >"$TMPD/uses"
	# symbol user, symbol definer -> "user definer"
	join "$TMPD/uses" "$TMPD/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u
}

# cycles: read "from to" edges on stdin; print each cycle found as
# "a -> b -> a" (one per back edge of a depth-first search), nothing if
# the graph is acyclic.
cycles() {
	awk '
	{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
	  if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
	  adj[$1, ++deg[$1]] = $2 }
	function dfs(u,    i, v, k, s) {
		color[u] = 1
		stack[++sp] = u
		for (i = 1; i <= deg[u]; i++) {
			v = adj[u, i]
			if (color[v] == 1) {
				for (k = sp; stack[k] != v; k--)
					;
				s = ""
				for (; k <= sp; k++)
					s = s stack[k] " -> "
				print s v
			} else if (color[v] == 0) {
				dfs(v)
			}
		}
		sp--
		color[u] = 2
	}
	END { for (i = 1; i <= n; i++) if (color[order[i]] == 0) dfs(order[i]) }'
}

# layers: read acyclic "from to" edges on stdin; print "N: a b c" for each
# layer, where a module with no edges out is layer 0 and every other is
# one above the highest module it uses.
layers() {
	awk '
	{ mods[$1] = 1; mods[$2] = 1; adj[$1, ++deg[$1]] = $2 }
	function level(u,    i, l, best) {
		if (u in memo)
			return memo[u]
		best = 0
		for (i = 1; i <= deg[u]; i++) {
			l = level(adj[u, i]) + 1
			if (l > best)
				best = l
		}
		memo[u] = best
		return best
	}
	END {
		for (m in mods) {
			l = level(m)
			line[l] = line[l] " " m
			if (l > top)
				top = l
		}
		for (l = 0; l <= top; l++)
			print l ":" line[l]
	}' | while IFS=: read -r l mods; do
		echo "$l: $(printf '%s\n' $mods | sort | tr '\n' ' ' | sed 's/ $//')"
	done
}

# doc_layers DOC: "module layer" for each module named in the table of the
# "## Dependencies" section: rows "| N | `a`, `b` |".
doc_layers() {
	awk '
	/^## / { in_sec = ($0 == "## Dependencies") }
	in_sec && /^\|[ \t]*[0-9]+[ \t]*\|/ {
		split($0, cell, "|")
		l = cell[2]
		gsub(/[ \t]/, "", l)
		n = split(cell[3], m, ",")
		for (i = 1; i <= n; i++) {
			gsub(/[` \t]/, "", m[i])
			if (m[i] != "")
				print m[i], l
		}
	}' "$1"
}

# downward LAYERS EDGES: print every edge that does not go from a higher
# layer of LAYERS ("module layer") to a lower one, and every module of an
# edge that LAYERS does not name.
downward() {
	awk '
	FILENAME == ARGV[1] { layer[$1] = $2 + 0; next }
	{
		for (i = 1; i <= 2; i++)
			if (!($i in layer) && !($i in told)) {
				told[$i] = 1
				print "module " $i " is not in the table"
			}
		if (($1 in layer) && ($2 in layer) && layer[$1] <= layer[$2])
			print $1 " (layer " layer[$1] ") uses " $2 " (layer " layer[$2] ")"
	}' "$1" "$2"
}

# ---------------------------------------------------------------- the finder

got=$(printf 'a b\nb c\na c\n' | cycles)
assert_eq "" "$got" "no cycle in a graph without one"
got=$(printf 'a b\nb c\nc a\nc d\n' | cycles)
assert_eq "a -> b -> c -> a" "$got" "a three-module cycle is found and printed"
got=$(printf 'x y\ny x\n' | cycles | wc -l)
assert_eq 1 "$got" "a two-module cycle is found"
got=$(printf 'a b\nb c\na c\nd a\n' | layers | tr '\n' '|')
assert_eq "0: c|1: b|2: a|3: d|" "$got" "layers put each module above what it uses"

# ---------------------------------------------------------------- includes

include_edges "$REPO/ftxd" >"$TMPD/inc"
n=$(wc -l <"$TMPD/inc")
if [ "$n" -ge 40 ]; then pass "$n include edges among ftxd modules"; else fail "only $n include edges found"; fi
cycles <"$TMPD/inc" >"$TMPD/inc.cycles"
if [ -s "$TMPD/inc.cycles" ]; then
	fail "include cycles among ftxd modules:"
	sed 's/^/    /' "$TMPD/inc.cycles" >&2
else
	pass "no include cycle among ftxd modules"
	echo "include layers (each module above what it includes):"
	layers <"$TMPD/inc" | sed 's/^/    /'
fi

# The check can fail: the session layer reaching up to the command layer
# (as it did before issue 12) is caught.
mkdir -p "$TMPD/ftxd"
cp "$REPO"/ftxd/*.[ch] "$TMPD/ftxd/"
sed -i '0,/^#include "session.h"/s//#include "cmd.h"\n&/' "$TMPD/ftxd/session.c"
include_edges "$TMPD/ftxd" | cycles >"$TMPD/doctored"
if grep -q 'session' "$TMPD/doctored"; then
	pass "an upward include (session.c including cmd.h) is caught: $(head -n 1 "$TMPD/doctored")"
else
	fail "an upward include was not caught"
fi

# ---------------------------------------------------------------- the documented order

DOC=$REPO/docs/ARCHITECTURE.md
doc_layers "$DOC" >"$TMPD/doc"
n=$(wc -l <"$TMPD/doc")
if [ "$n" -ge 10 ]; then pass "docs/ARCHITECTURE.md names $n modules in its layers"; else fail "docs/ARCHITECTURE.md names only $n modules in its layers"; fi
for f in "$REPO"/ftxd/*.[ch]; do
	m=$(basename "$f")
	m=${m%.*}
	echo "${m%_impl}"
done | sort -u >"$TMPD/mods"
missing=$(cut -d' ' -f1 "$TMPD/doc" | sort -u | comm -13 - "$TMPD/mods" | tr '\n' ' ')
assert_eq "" "$missing" "every ftxd module is in the layers of docs/ARCHITECTURE.md"
downward "$TMPD/doc" "$TMPD/inc" >"$TMPD/up"
if [ -s "$TMPD/up" ]; then
	fail "includes against the order of docs/ARCHITECTURE.md:"
	sed 's/^/    /' "$TMPD/up" >&2
else
	pass "every include goes down the layers of docs/ARCHITECTURE.md"
fi
# The check can fail: the session layer moved above the command layer.
sed '/^## Dependencies/,/^## /s/^| 2 | \(.*`session`\)/| 9 | \1/' "$DOC" >"$TMPD/doc.md"
doc_layers "$TMPD/doc.md" >"$TMPD/doc2"
if downward "$TMPD/doc2" "$TMPD/inc" | grep -q 'uses session '; then
	pass "a table that puts session above cmd is caught"
else
	fail "a doctored table was not caught"
fi

# ---------------------------------------------------------------- links

OBJ=$FTX_BUILD/obj/ftxd
if ! ls "$OBJ"/*.o >/dev/null 2>&1 || ! command -v nm >/dev/null; then
	skip "no objects in $OBJ or no nm: links not checked"
fi
# Objects older than their sources would check an old graph.
stale=
for f in "$REPO"/ftxd/*.c; do
	o=$OBJ/$(basename "$f" .c).o
	[ -f "$o" ] && [ "$o" -nt "$f" ] || stale="$stale $(basename "$f")"
done
if [ -n "$stale" ]; then
	fail "objects missing or older than their sources (run make):$stale"
	finish
fi
link_edges "$OBJ" >"$TMPD/link"
n=$(wc -l <"$TMPD/link")
if [ "$n" -ge 30 ]; then pass "$n link edges among ftxd objects"; else fail "only $n link edges found"; fi
cycles <"$TMPD/link" >"$TMPD/link.cycles"
if [ -s "$TMPD/link.cycles" ]; then
	fail "link cycles among ftxd objects (a uses a symbol b defines):"
	sed 's/^/    /' "$TMPD/link.cycles" >&2
else
	pass "no link cycle among ftxd objects"
fi
downward "$TMPD/doc" "$TMPD/link" >"$TMPD/linkup"
if [ -s "$TMPD/linkup" ]; then
	fail "links against the order of docs/ARCHITECTURE.md:"
	sed 's/^/    /' "$TMPD/linkup" >&2
else
	pass "every link goes down the layers of docs/ARCHITECTURE.md"
fi
# Every link edge is an include edge too: a module calls only what it
# includes (a stray extern declaration would hide a dependency).
comm -23 "$TMPD/link" "$TMPD/inc" >"$TMPD/hidden"
if [ -s "$TMPD/hidden" ]; then
	fail "modules that use a module they do not include:"
	sed 's/^/    /' "$TMPD/hidden" >&2
else
	pass "every module includes the modules it links against"
fi

finish
