#!/bin/bash
# Shell completion (deploy/completion/ftx.bash, issue 14): the script is
# sourced in a non-interactive bash, COMP_WORDS/COMP_CWORD/COMP_LINE/
# COMP_POINT are set as bash sets them, _ftx is called and COMPREPLY is
# checked: command names and options scraped from the real ftx (asked
# once per shell), host aliases from the config file, local paths, and
# remote names from a real ftxd through `ftx ls -1` with the server
# options typed on the line, bounded by a timeout when the server hangs.
. "$(dirname "$0")/lib.sh"

SCRIPT=$ITEST_DIR/../../deploy/completion/ftx.bash
ZSCRIPT=$ITEST_DIR/../../deploy/completion/_ftx
[ -f "$SCRIPT" ] || {
	fail "$SCRIPT is missing"
	exit 1
}
isolate_client

if bash -n "$SCRIPT" 2>"$TMPD/n.err"; then
	pass "bash -n ftx.bash"
else
	fail "bash -n ftx.bash: $(cat "$TMPD/n.err")"
fi
if command -v zsh >/dev/null 2>&1; then
	if zsh -n "$ZSCRIPT" 2>"$TMPD/zn.err"; then
		pass "zsh -n _ftx"
	else
		fail "zsh -n _ftx: $(cat "$TMPD/zn.err")"
	fi
else
	echo "SKIP (part): zsh is not installed, _ftx not checked"
fi

# make install puts both scripts where bash-completion and zsh look, the
# zsh one naming where the bash one went; make uninstall removes them.
REPO=$(cd "$ITEST_DIR/../.." && pwd)
dest=$TMPD/dest
assert_exit 0 "make install DESTDIR=... PREFIX=/usr/local" \
    make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr/local BUILD="$FTX_BUILD" \
    -o "$FTX_BUILD/ftxd" -o "$FTX_BUILD/ftx"
assert_file_same "$SCRIPT" "$dest/usr/local/share/bash-completion/completions/ftx" \
    "installed share/bash-completion/completions/ftx"
assert_match "^local script='/usr/local/share/bash-completion/completions/ftx'" \
    "$(grep '^local script=' "$dest/usr/local/share/zsh/site-functions/_ftx" 2>&1)" \
    "installed share/zsh/site-functions/_ftx names the installed ftx.bash"
assert_exit 0 "make uninstall DESTDIR=..." \
    make -s -C "$REPO" uninstall DESTDIR="$dest" PREFIX=/usr/local BUILD="$FTX_BUILD"
assert_eq "" "$(find "$dest" -type f)" "uninstall removed every installed file"

# `ftx` on PATH is a wrapper that logs every run (arguments, and whether
# stdin is a terminal) and runs the real client.
mkdir -p "$TMPD/bin"
CALLS=$TMPD/calls
cat >"$TMPD/bin/ftx" <<EOF
#!/bin/bash
{ printf '%s ' "\$@"; [ -t 0 ] && printf 'STDIN-TTY'; echo; } >>"$CALLS"
exec "$FTX_BIN" "\$@"
EOF
chmod +x "$TMPD/bin/ftx"

# The driver: each argument is a command line, completed at its end (a
# line ending in a space completes an empty word).  Words are split as
# bash splits them: at blanks, and around ':' and '=' (COMP_WORDBREAKS).
# Prints, per line, "COMPREPLY:" and the replies one per line, then
# "COMPOPT:" and the compopt calls.
cat >"$TMPD/drive.sh" <<'EOF'
set -u
. "$1"
shift
compopt() { OPTS+=("$*"); }
for line in "$@"; do
	COMP_LINE=$line
	COMP_POINT=${#line}
	read -ra COMP_WORDS <<<"$(printf '%s' "$line" | sed -E 's/([:=]+)/ \1 /g')"
	if [[ $line == *[[:space:]] || $line == *[:=] ]]; then
		COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	OPTS=()
	_ftx
	echo "COMPREPLY:"
	for r in "${COMPREPLY[@]}"; do
		printf '%s\n' "$r"
	done
	echo "COMPOPT: ${OPTS[*]}"
done
EOF

# comp LINE...: complete the lines in one shell; $REPLY_FILE holds what
# the driver printed, $R the replies of the last line (sorted, one per
# line), $CO its compopt calls.
REPLY_FILE=$TMPD/replies
comp() {
	PATH=$TMPD/bin:$PATH timeout 20 bash "$TMPD/drive.sh" "$SCRIPT" "$@" \
	    >"$REPLY_FILE" 2>"$TMPD/drive.err" </dev/null
	R=$(awk '/^COMPREPLY:$/ { r = ""; next } /^COMPOPT:/ { next } { r = r $0 "\n" } END { printf "%s", r }' \
	    "$REPLY_FILE" | LC_ALL=C sort)
	CO=$(grep '^COMPOPT:' "$REPLY_FILE" | tail -n 1)
	if [ -s "$TMPD/drive.err" ]; then
		fail "completion wrote on stderr for '$*': $(head -c 300 "$TMPD/drive.err")"
	fi
}
# zb CWORD WORD...: what _ftx_zsh_bridge (the bash side of the zsh
# completion, deploy/completion/_ftx) prints, as _ftx runs it: into $ZB.
zb() {
	# shellcheck disable=SC2016 # expanded by the child bash
	ZB=$(PATH=$TMPD/bin:$PATH BASH_ENV="" timeout 20 bash -c \
	    '. "$1" && shift && _ftx_zsh_bridge "$@"' bash "$SCRIPT" "$@" \
	    </dev/null 2>"$TMPD/zb.err")
	if [ -s "$TMPD/zb.err" ]; then
		fail "the zsh bridge wrote on stderr for '$*': $(head -c 300 "$TMPD/zb.err")"
	fi
}
# zsh_comp LINE...: in an interactive zsh (under zpty, with _ftx on
# $fpath and compinit), type each LINE and complete it once; $ZO gets
# the buffers after completion, "[LINE]" one per line.  Returns 1 when
# zsh is not installed.
zsh_comp() {
	command -v zsh >/dev/null 2>&1 || return 1
	cat >"$TMPD/drive.zsh" <<'EOF'
zmodload zsh/zpty
out=$2
zpty -b z "PS1='>' TERM=dumb zsh -f -i"
zpty -w z "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'tst() { zle complete-word; print -r -- "[$BUFFER]" >>'"${(q)out}"'; BUFFER=; }'
zpty -w z 'zle -N tst; bindkey "^T" tst; print -r -- READY$((1+1))'
zpty -r -m z ignored '*READY2*'
shift 2
n=0
for l in "$@"; do
	n=$((n + 1))
	zpty -n -w z "$l"$'\C-t'
	for i in {1..100}; do
		[[ -f $out && $(wc -l <$out) -ge $n ]] && break
		sleep 0.1
	done
done
zpty -d z
EOF
	: >"$TMPD/zsh.out"
	PATH=$TMPD/bin:$PATH timeout 60 zsh -f "$TMPD/drive.zsh" \
	    "$(dirname "$ZSCRIPT")" "$TMPD/zsh.out" "$@" </dev/null >/dev/null 2>"$TMPD/zsh.err"
	ZO=$(cat "$TMPD/zsh.out")
	return 0
}
lines() {
	printf '%s\n' "$@" | LC_ALL=C sort
}

# ---------------------------------------------------------------- commands
: >"$CALLS"
comp 'ftx ' 'ftx pu' 'ftx '
assert_eq "$("$FTX_BIN" help --commands | LC_ALL=C sort)" "$(awk '/^COMPREPLY:$/ { n++; next } n == 1 && !/^COMPOPT/' "$REPLY_FILE" | LC_ALL=C sort)" \
    "ftx <TAB>: every command of 'ftx help --commands'"
assert_eq put "$(awk '/^COMPREPLY:$/ { n++; next } n == 2 && !/^COMPOPT/' "$REPLY_FILE")" "ftx pu<TAB>: put"
assert_eq 1 "$(grep -c -- '^help --commands' "$CALLS")" \
    "the command names are asked once per shell (3 completions)"
if grep -q STDIN-TTY "$CALLS"; then
	fail "ftx ran with stdin a terminal during completion"
else
	pass "ftx never runs with stdin a terminal during completion"
fi
comp 'ftx -q --port 1 st'
assert_eq "$(lines stat stats)" "$R" "ftx -q --port 1 st<TAB>: the command after options and a value"
zb 1 ftx pu
assert_eq "$(printf 'compopt:\nput')" "$ZB" "zsh bridge: ftx pu<TAB>: put"
comp 'ftx help g'
assert_eq get "$R" "ftx help g<TAB>: get"

# ---------------------------------------------------------------- options
comp 'ftx get --no-'
assert_match '(^|\n)--no-resume($|\n)' "$R" "ftx get --no-<TAB>: --no-resume"
assert_match '(^|\n)--no-clobber($|\n)' "$R" "ftx get --no-<TAB>: --no-clobber"
assert_eq "" "$(printf '%s\n' "$R" | grep -v -- '^--no-')" "ftx get --no-<TAB>: nothing else"
comp 'ftx get -'
for o in -o --output --skip-same --json -r --host -H --port --tls --quiet; do
	assert_match "(^|\n)$o($|\n)" "$R" "ftx get -<TAB>: $o (own and global)"
done
comp 'ftx -'
assert_match '(^|\n)--password-file($|\n)' "$R" "ftx -<TAB>: global options"
if printf '%s\n' "$R" | grep -qx -- '--skip-same'; then
	fail "ftx -<TAB> offers get's --skip-same before any command"
else
	pass "ftx -<TAB>: no command's own options before the command"
fi
comp 'ftx rtt --time'
assert_eq --timeout-ms "$R" "ftx rtt --time<TAB>: --timeout-ms"

# ---------------------------------------------------------------- hosts
mkdir -p "$TMPD/cfg"
cat >"$TMPD/cfg/config" <<'EOF'
# aliases
Host box backup
	HostName 127.0.0.1
host=other
Host *.example !bad web?
	Port 1
HOST  third
EOF
export FTX_CONFIG=$TMPD/cfg/config
# "Host *.example" is split, never globbed against the current directory.
: >"$TMPD/cfg/www.example"
cd "$TMPD/cfg" || exit 1
comp 'ftx -H '
assert_eq "$(lines backup box other third)" "$R" "ftx -H <TAB>: the aliases, no patterns (not globbed)"
cd "$TMPD" || exit 1
comp 'ftx get x --host b'
assert_eq "$(lines backup box)" "$R" "ftx get x --host b<TAB>: after the command too"
comp 'ftx --host=o'
assert_eq other "$R" "ftx --host=o<TAB>: other"
zb 1 ftx --host=o
assert_eq "$(printf 'compopt:\n--host=other')" "$ZB" "zsh bridge: --host=o<TAB>: the whole word (zsh does not split at '=')"
mkdir -p "$TMPD/xdg/ftx"
printf 'Host xdgbox\n' >"$TMPD/xdg/ftx/config"
unset FTX_CONFIG
export XDG_CONFIG_HOME=$TMPD/xdg
comp 'ftx -H '
assert_eq xdgbox "$R" "ftx -H <TAB>: \$XDG_CONFIG_HOME/ftx/config without FTX_CONFIG"
unset XDG_CONFIG_HOME

# ---------------------------------------------------------------- local paths
loc=$TMPD/local
mkdir -p "$loc/subdir" "$loc/other dir"
: >"$loc/a.txt"
: >"$loc/b.dat"
cd "$loc" || exit 1
comp 'ftx put '
assert_eq "$(lines a.txt b.dat 'other dir' subdir)" "$R" "ftx put <TAB>: local files and directories"
assert_match 'filenames' "$CO" "ftx put <TAB>: compopt -o filenames (bash quotes and marks dirs)"
comp 'ftx put a'
assert_eq a.txt "$R" "ftx put a<TAB>: a.txt"
comp 'ftx get x -o '
assert_eq "$(lines 'other dir' subdir)" "$R" "ftx get x -o <TAB>: directories only"
comp 'ftx --password-file b'
assert_eq b.dat "$R" "ftx --password-file b<TAB>: a local file"
comp 'ftx sync s'
assert_eq subdir "$R" "ftx sync s<TAB>: a local path"
zb 2 ftx put su
assert_eq "$(printf 'compopt: -o filenames\nsubdir')" "$ZB" "zsh bridge: a local path, marked as a file name"
if FTX_CONFIG=$TMPD/cfg/config zsh_comp 'ftx pu' 'ftx get --no-c' 'ftx put a' 'ftx --host=o'; then
	assert_eq "$(printf '%s\n' '[ftx put ]' '[ftx get --no-clobber ]' \
	    '[ftx put a.txt ]' '[ftx --host=other ]')" "$ZO" \
	    "zsh: a command, an option, a local file, a host alias"
fi
cd "$TMPD" || exit 1

# ---------------------------------------------------------------- remote names
if ! "$FTX_BIN" help ls 2>/dev/null | grep -qE '^  -1'; then
	echo "SKIP (part): this ftx has no 'ls -1' (remote-name completion needs it)"
	finish
fi
start_server
src=$TMPD/src
mkdir -p "$src"
printf 'a\n' >"$src/a.txt"
printf 'b\n' >"$src/with space.txt"
assert_exit 0 "upload the top files" ftx put "$src/a.txt" "$src/with space.txt"
assert_exit 0 "mkdir sub/deeper docs" ftx mkdir -p sub/deeper docs
for f in one two; do
	printf '%s\n' "$f" >"$src/$f"
	assert_exit 0 "upload sub/$f" ftx put "$src/$f" --as "sub/$f"
done
assert_exit 0 "upload sub/deeper/f" ftx put "$src/a.txt" --as sub/deeper/f
# SECURITY: a name from the server is data: never expanded by the shell
# (compgen -W would run the command substitution), inserted quoted.
assert_exit 0 "upload evil/\`touch PWNED\`" ftx put "$src/a.txt" --as 'evil/`touch PWNED`'
P=$CTRL_PORT

: >"$CALLS"
mkdir -p "$TMPD/evil"
cd "$TMPD/evil" || exit 1
comp "ftx --port $P get evil/"
cd "$TMPD" || exit 1
assert_eq 'evil/\`touch\ PWNED\`' "$R" "a hostile remote name comes back quoted"
assert_eq "" "$(ls "$TMPD/evil")" "a hostile remote name runs nothing"
comp "ftx --port $P get "
assert_eq "$(lines a.txt docs/ evil/ sub/ 'with\ space.txt')" "$R" \
    "ftx --port P get <TAB>: the top's names, directories with '/', quoted"
assert_match '(^| )--port '"$P"'( |.*)-q( |.*)ls -1' "$(grep -- 'ls -1' "$CALLS" | head -n 1)" \
    "the server is asked with the line's --port: ftx --port P ... -q ls -1"
comp "ftx ls --port $P sub/"
assert_eq "$(lines sub/deeper/ sub/one sub/two)" "$R" "ftx ls sub/<TAB>: sub's entries"
assert_match ' ls -1 sub $' "$(grep -- 'ls -1' "$CALLS" | tail -n 1)" "ftx ls sub/<TAB> asks for 'sub'"
comp "ftx -p $P rm sub/t"
assert_eq sub/two "$R" "ftx rm sub/t<TAB>: the prefix filters"
assert_eq "COMPOPT: " "$CO" "a file: a space follows (no nospace)"
comp "ftx -p $P stat sub/d"
assert_eq sub/deeper/ "$R" "ftx stat sub/d<TAB>: a directory"
assert_match 'nospace' "$CO" "a directory: compopt -o nospace"
comp "ftx -q -p $P mkdir -p sub/d"
assert_eq sub/deeper/ "$R" "ftx -p P mkdir -p sub/d<TAB>: mkdir's -p is its flag, not --port"
assert_match "^-p $P --retries 0 -q ls -1 sub \$" "$(grep -- 'ls -1' "$CALLS" | tail -n 1)" \
    "only the global options go to the server ask (not mkdir's -p, not --quiet)"
comp "ftx -H 127.0.0.1 --port=$P hash w"
assert_eq 'with\ space.txt' "$R" "--port=P and -H: a name with a space, quoted"
comp "ftx --port $P put a.txt --as s"
assert_eq sub/ "$R" "put --as <TAB>: remote (its value is a PATH)"
comp "ftx --port $P sync . :s"
assert_eq sub/ "$R" "ftx sync . :s<TAB>: remote, after the ':' bash keeps"
zb 5 ftx --port "$P" sync . :s
assert_eq "$(printf 'compopt: -o nospace\n:sub/')" "$ZB" "zsh bridge: sync :s<TAB>: ':sub/', whole"
zb 4 ftx -p "$P" get w
assert_eq "$(printf 'compopt:\nwith\\ space.txt')" "$ZB" "zsh bridge: a remote name, quoted"
zb 4 ftx -p "$P" get 'with\ s'
assert_eq "$(printf 'compopt:\nwith\\ space.txt')" "$ZB" "a typed 'with\\ s' matches 'with space.txt'"
zb 4 ftx -p "$P" get "'with s"
assert_eq "$(printf 'compopt:\nwith space.txt')" "$ZB" "after an opening quote: the name unquoted"
comp "ftx --port $P sync . :"
assert_eq "$(lines a.txt docs/ evil/ sub/ 'with\ space.txt')" "$R" "ftx sync . :<TAB>: the top"
comp "ftx get ftx://127.0.0.1:$P/sub/o"
assert_eq "$P/sub/one" "$R" "a URL: its server, the reply from the last ':' on"
cd "$src" || exit 1
if zsh_comp "ftx -p $P ls sub/d" "ftx -p $P sync . :s" "ftx -p $P get w" \
    "ftx -p $P get a"; then
	assert_eq "$(printf '%s\n' "[ftx -p $P ls sub/deeper/]" \
	    "[ftx -p $P sync . :sub/]" "[ftx -p $P get with\\ space.txt ]" \
	    "[ftx -p $P get a.txt ]")" "$ZO" \
	    "zsh: remote names (a directory without a space, a quoted name)"
fi
cd "$TMPD" || exit 1
comp "ftx --port 1 get "
assert_eq "" "$R" "a server that is not there: nothing, quietly"

# A server that accepts and never greets: bounded by timeout 3.
kill -STOP "$SERVER_PID"
t0=$(date +%s)
comp "ftx --port $P get "
t1=$(date +%s)
kill -CONT "$SERVER_PID"
assert_eq "" "$R" "a hung server: nothing"
if [ $((t1 - t0)) -le 15 ]; then
	pass "a hung server: completion returns in $((t1 - t0)) s"
else
	fail "a hung server: completion took $((t1 - t0)) s"
fi
finish
