# ftx.bash - bash completion for ftx(1).
#
# Installed as $PREFIX/share/bash-completion/completions/ftx (loaded on
# demand by bash-completion), or sourced by hand:
#
#	. /path/to/ftx.bash
#
# Nothing here is a copy of ftx's own lists: the command names come from
# `ftx help --commands`, the options (and which of them take a value)
# from `ftx --help` and `ftx help CMD`, asked once per shell session, so
# a new command or option completes without touching this file.  Remote
# names come from the server: `ftx -q ls -1 DIR` with the server options
# typed on the line, bounded by `timeout 3`, never prompting.
#
# Needs bash 4.2 or newer (associative arrays, declare -g).

# What ftx told us, per binary: "BIN\tcmds", "BIN\topts\tCMD" (every
# option word), "BIN\tvals\tCMD" ("OPT=METAVAR" for options with a value).
# CMD is empty for the global options.
declare -gA _ftx_comp_cache

# The ftx binary being completed: the word the user typed, so that
# ./build/ftx completes against itself.
_ftx_comp_bin() {
	local b=${COMP_WORDS[0]:-ftx}

	if [[ $b == \~/* ]]; then
		b=$HOME/${b#"~/"}
	fi
	if ! type -P -- "$b" >/dev/null 2>&1 && [[ ! -x $b ]]; then
		b=ftx
	fi
	printf '%s\n' "$b"
}

# _ftx_comp_load BIN CMD: scrape the option lines of `ftx help CMD` (or
# `ftx --help` when CMD is empty) into the cache.  An option line starts
# with two spaces and '-': "  -o, --output DIR   where files go".  A
# word in capitals after an option is its value ("DIR").
_ftx_comp_load() {
	local bin=$1 cmd=$2 text line spec part opt meta
	local opts=() vals=()

	[[ -n ${_ftx_comp_cache["$bin	opts	$cmd"]+set} ]] && return 0
	if [[ -n $cmd ]]; then
		text=$("$bin" help "$cmd" </dev/null 2>/dev/null)
	else
		text=$("$bin" --help </dev/null 2>/dev/null)
	fi
	while IFS= read -r line; do
		[[ $line =~ ^\ \ -[-A-Za-z0-9] ]] || continue
		# The option part ends at the first run of two spaces; its
		# aliases are separated by ", " and the last one carries the
		# value name: "-o, --output DIR".
		spec=${line#  }
		spec=${spec%%  *}
		meta=
		[[ $spec =~ \ ([A-Z][A-Z0-9_:]*)$ ]] && meta=${BASH_REMATCH[1]}
		spec=${spec% "$meta"}
		while [[ -n $spec ]]; do
			part=${spec%%, *}
			if [[ $part == "$spec" ]]; then
				spec=
			else
				spec=${spec#*, }
			fi
			opt=${part%% *}
			[[ $opt =~ ^-(-[A-Za-z0-9][-A-Za-z0-9]*|[A-Za-z0-9])$ ]] || continue
			opts+=("$opt")
			[[ -n $meta ]] && vals+=("$opt=$meta")
		done
	done <<<"$text"
	_ftx_comp_cache["$bin	opts	$cmd"]=${opts[*]}
	_ftx_comp_cache["$bin	vals	$cmd"]=${vals[*]}
}

# _ftx_comp_meta BIN CMD OPT: does OPT take a value?  If so, _ftx_meta
# gets the value's name ("DIR", "H").  After a command, its own options
# come first (as in ftx: `mkdir -p` is not --port); _ftx_global is 1 when
# OPT is a global option.  Sets variables rather than printing: the
# cache must fill in this shell, not in a $(...) subshell.
_ftx_comp_meta() {
	local bin=$1 cmd=$2 opt=$3 v c vals

	_ftx_meta=
	_ftx_global=0
	for c in ${cmd:+"$cmd"} ""; do
		_ftx_comp_load "$bin" "$c"
		[[ " ${_ftx_comp_cache["$bin	opts	$c"]} " == *" $opt "* ]] ||
		    continue
		[[ -z $c ]] && _ftx_global=1
		read -ra vals <<<"${_ftx_comp_cache["$bin	vals	$c"]}"
		for v in "${vals[@]}"; do
			if [[ ${v%%=*} == "$opt" ]]; then
				_ftx_meta=${v#*=}
				return 0
			fi
		done
		return 1
	done
	return 1
}

# The command names, from the binary itself, into the array _ftx_cmds.
_ftx_comp_cmds() {
	local bin=$1

	if [[ -z ${_ftx_comp_cache["$bin	cmds"]+set} ]]; then
		_ftx_comp_cache["$bin	cmds"]=$("$bin" help --commands \
		    </dev/null 2>/dev/null | tr '\n' ' ')
	fi
	read -ra _ftx_cmds <<<"${_ftx_comp_cache["$bin	cmds"]}"
}

# Host aliases: the Host lines of the client configuration file, without
# patterns (a '*', '?', '[' or a '!' negation is no name one can type).
_ftx_comp_hosts() {
	local f=${FTX_CONFIG-${XDG_CONFIG_HOME:-$HOME/.config}/ftx/config}
	local line w words

	[[ -n $f && -r $f ]] || return 0
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*[Hh][Oo][Ss][Tt]([[:space:]]*=[[:space:]]*|[[:space:]]+)(.*)$ ]] || continue
		# Split, never glob: "Host *" must not list the current directory.
		read -ra words <<<"${BASH_REMATCH[2]}"
		for w in "${words[@]}"; do
			w=${w//\"/}
			[[ -z $w || $w == *[\*\?\[!]* ]] && continue
			printf '%s\n' "$w"
		done
	done <"$f"
}

# Rebuild the words bash split at ':' and '=' (COMP_WORDBREAKS), so that
# "--host=box" and ":docs/a" are one word each.  Sets _ftx_w (the words
# up to the cursor) and _ftx_cur (the word being completed).
_ftx_comp_words() {
	local line=${COMP_LINE:0:COMP_POINT} i w rest glued

	_ftx_w=()
	for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		rest=${line#"${line%%[![:space:]]*}"}
		glued=0
		if ((i > 0 && ${#rest} == ${#line})); then
			glued=1
		fi
		line=$rest
		if ((i == COMP_CWORD)) && ((${#w} > ${#line})); then
			w=${line}
		fi
		line=${line#"$w"}
		if ((glued && ${#_ftx_w[@]} > 0)) &&
		    [[ $w == [:=@]* || ${_ftx_w[-1]} == *[:=@] ]]; then
			_ftx_w[-1]+=$w
		else
			_ftx_w+=("$w")
		fi
	done
	_ftx_cur=${_ftx_w[-1]}
	unset '_ftx_w[-1]'
}

# _ftx_comp_reply PREFIX WORD...: COMPREPLY gets the WORDs that start
# with PREFIX, shell-quoted, less what bash does not replace (the text up
# to the last ':' or '=' of the word, which it treats as a separator).
# SECURITY: the words may be names from a server: they are only compared
# and quoted here, never expanded (compgen -W would run a "$(...)" in
# them), so a hostile name is inserted as text.
_ftx_comp_reply() {
	local pre=$1 w cut=
	shift

	if [[ $pre == *[:=@]* ]]; then
		cut=${pre%"${pre##*[:=@]}"}
		# Only the separators bash actually splits at.
		while [[ -n $cut ]]; do
			[[ $COMP_WORDBREAKS == *"${cut: -1}"* ]] && break
			cut=${cut%?}
			cut=${cut%"${cut##*[:=@]}"}
		done
	fi
	for w in "$@"; do
		[[ $w == "$pre"* ]] || continue
		w=${w#"$cut"}
		if ((!${_ftx_noquote:-0})) && [[ $w == *[!-A-Za-z0-9_./:=@+,%]* ]]; then
			printf -v w '%q' "$w"
		fi
		COMPREPLY+=("$w")
	done
}

# Local paths: DIR for directories only.
_ftx_comp_local() {
	local cur=$1 kind=$2

	compopt -o filenames 2>/dev/null
	if [[ $kind == DIR ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

# The word as the shell will read it, into _ftx_dq: backslashes and
# quotes removed (what Tab inserts is "with\ space").
_ftx_comp_dequote() {
	local s=$1 c q=""

	_ftx_dq=
	while [[ -n $s ]]; do
		c=${s:0:1}
		s=${s:1}
		if [[ -z $q && $c == [\'\"] ]]; then
			q=$c
		elif [[ -n $q && $c == "$q" ]]; then
			q=
		elif [[ $c == \\ && $q != "'" && -n $s ]]; then
			_ftx_dq+=${s:0:1}
			s=${s:1}
		else
			_ftx_dq+=$c
		fi
	done
}

# _ftx_comp_remote BIN CUR [LEAD]: remote names for CUR.  "dir/pa" asks
# the server for "dir" and keeps what starts with "dir/pa".  A URL
# (ftx://HOST/dir/pa) asks that server; LEAD (sync's ':') is a prefix
# that is not part of the path.  Directories end in '/' and take no
# space after them.
_ftx_comp_remote() {
	local bin=$1 cur=$2 base=${3:-} path dir line _ftx_dq _ftx_noquote=0
	local names=() to=() target=()

	_ftx_comp_dequote "$cur"
	cur=$_ftx_dq
	# After an opening quote, readline replaces what follows it: the
	# names go in as they are.
	[[ $2 == [\'\"]* ]] && _ftx_noquote=1

	path=${cur#"$base"}
	if [[ -z $base && $cur =~ ^(ftx://[^/]*/)(.*)$ ]]; then
		base=${BASH_REMATCH[1]}
		path=${BASH_REMATCH[2]}
	elif [[ -z $base && $cur == ftx:* ]]; then
		return 0 # still typing the host
	fi
	dir=
	[[ $path == */* ]] && dir=${path%/*}/
	# "dir/" is asked for as "dir" (ftx refuses a path ending in '/').
	[[ $base == ftx://* || -n $dir ]] && target=("${base#:}${dir%/}")
	command -v timeout >/dev/null 2>&1 && to=(timeout 3)
	# Never a prompt (stdin is not a terminal), never a retry loop, never
	# a message on the user's screen.
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		# `ls -1 DIR` prints names relative to DIR ("a", "deeper/").
		line=$dir$line
		names+=("$base$line")
	done < <(FTX_RETRIES=0 "${to[@]}" "$bin" "${_ftx_srv[@]}" --retries 0 \
	    -q ls -1 "${target[@]}" </dev/null 2>/dev/null)
	_ftx_comp_reply "$cur" "${names[@]}"
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ ]]; then
		compopt -o nospace 2>/dev/null
	fi
}

# Completion for the value of option OPT, whose value name is META.
_ftx_comp_value() {
	local bin=$1 opt=$2 meta=$3 cur=$4 words=()

	case $opt in
	-H | --host)
		mapfile -t words < <(_ftx_comp_hosts)
		_ftx_comp_reply "$cur" "${words[@]}"
		return 0
		;;
	--data-host)
		_ftx_comp_reply "$cur" control advertised
		return 0
		;;
	esac
	case $meta in
	FILE) _ftx_comp_local "$cur" FILE ;;
	DIR) _ftx_comp_local "$cur" DIR ;;
	PATH) _ftx_comp_remote "$bin" "$cur" ;;
	esac
	return 0
}

# Options: the global ones and, after the command, its own.
_ftx_comp_options() {
	local bin=$1 cmd=$2 cur=$3 words

	_ftx_comp_load "$bin" ""
	words=${_ftx_comp_cache["$bin	opts	"]}
	if [[ -n $cmd ]]; then
		_ftx_comp_load "$bin" "$cmd"
		words+=" ${_ftx_comp_cache["$bin	opts	$cmd"]}"
	fi
	# Split without globbing; compgen -W is not used anywhere because it
	# expands $(...) in its words.
	read -ra words <<<"$words"
	mapfile -t words < <(printf '%s\n' "${words[@]}" | LC_ALL=C sort -u)
	_ftx_comp_reply "$cur" "${words[@]}"
}

# An operand of CMD: local or remote, by command and position.
_ftx_comp_operand() {
	local bin=$1 cmd=$2 cur=$3 nops=$4 recursive=$5

	case $cmd in
	put)
		# put FILE... [URL]; put -r LOCALDIR [REMOTE]
		if [[ $cur == ftx://* ]] || ((recursive && nops == 1)); then
			_ftx_comp_remote "$bin" "$cur"
		else
			_ftx_comp_local "$cur" FILE
		fi
		;;
	get)
		# get PATH...; get -r REMOTE [LOCAL]
		if ((recursive && nops == 1)) && [[ $cur != ftx://* ]]; then
			_ftx_comp_local "$cur" FILE
		else
			_ftx_comp_remote "$bin" "$cur"
		fi
		;;
	sync)
		# ":PATH" (or a URL) is the remote side.
		if [[ $cur == :* ]]; then
			_ftx_comp_remote "$bin" "$cur" :
		elif [[ $cur == ftx://* ]]; then
			_ftx_comp_remote "$bin" "$cur"
		else
			_ftx_comp_local "$cur" FILE
		fi
		;;
	ls | rm | mkdir | rmdir | mv | stat | hash)
		_ftx_comp_remote "$bin" "$cur"
		;;
	help)
		if ((nops == 0)); then
			_ftx_comp_cmds "$bin"
			_ftx_comp_reply "$cur" "${_ftx_cmds[@]}"
		fi
		;;
	esac
}

_ftx() {
	local bin cmd="" i w o cur recursive=0 only_ops=0
	local _ftx_meta _ftx_global _ftx_cmds=() _ftx_w=() _ftx_cur
	local ops=() _ftx_srv=()

	COMPREPLY=()
	bin=$(_ftx_comp_bin)
	_ftx_comp_words
	cur=$_ftx_cur

	# Walk the line: the command is the first word that is neither an
	# option nor an option's value; the words after it are operands.
	# The global options (but --help, --quiet, --retries ...) go into
	# _ftx_srv: they pick the server that remote names come from.
	for ((i = 1; i < ${#_ftx_w[@]}; i++)); do
		w=${_ftx_w[i]}
		if ((only_ops)) || [[ $w != -?* ]]; then
			if [[ -z $cmd ]]; then
				cmd=$w
			else
				ops+=("$w")
			fi
			continue
		fi
		if [[ $w == -- ]]; then
			only_ops=1
			continue
		fi
		[[ $w == -r || $w == --recursive ]] && recursive=1
		o=${w%%=*}
		[[ $w == --*=* ]] || o=$w
		if _ftx_comp_meta "$bin" "$cmd" "$o" && [[ $o == "$w" ]]; then
			if ((i + 1 == ${#_ftx_w[@]})); then
				# The cursor is on this option's value.
				_ftx_comp_value "$bin" "$w" "$_ftx_meta" "$cur"
				return 0
			fi
			((i++))
			((_ftx_global)) && [[ $w != --retries ]] &&
			    _ftx_srv+=("$w" "${_ftx_w[i]}")
			continue
		fi
		if ((_ftx_global)); then
			case $o in
			-h | --help | -V | --version | -q | --quiet | --retries) ;;
			*) _ftx_srv+=("$w") ;;
			esac
		fi
	done

	if [[ $cur == --*=* ]]; then
		# --opt=VALUE: bash replaces only what follows the '=' when
		# '=' separates words (the default), else the whole word.
		if _ftx_comp_meta "$bin" "$cmd" "${cur%%=*}"; then
			_ftx_comp_value "$bin" "${cur%%=*}" "$_ftx_meta" "${cur#*=}"
			if [[ $COMP_WORDBREAKS != *=* ]]; then
				COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
			fi
		fi
	elif [[ $cur == -* ]] && ((!only_ops)); then
		_ftx_comp_options "$bin" "$cmd" "$cur"
	elif [[ -z $cmd ]]; then
		_ftx_comp_cmds "$bin"
		_ftx_comp_reply "$cur" "${_ftx_cmds[@]}"
	else
		_ftx_comp_operand "$bin" "$cmd" "$cur" "${#ops[@]}" "$recursive"
	fi
	return 0
}

# For zsh (deploy/completion/_ftx): complete one line in this bash child
# and print the result, so both shells complete alike.  Arguments: the
# index of the word at the cursor, then the words (that one cut at the
# cursor).  zsh does not split words at ':' or '=', so neither do we.
# Output: a first line "compopt:" with the compopt options asked for
# (filenames, nospace), then the replies, one per line.
_ftx_zsh_bridge() {
	local _ftx_zo=
	# shellcheck disable=SC2317 # called by _ftx
	compopt() { _ftx_zo+=" $*"; }
	COMP_CWORD=$1
	shift
	COMP_WORDS=("$@")
	COMP_LINE=${COMP_WORDS[*]}
	COMP_POINT=${#COMP_LINE}
	COMP_WORDBREAKS=$' \t\n'
	COMPREPLY=()
	_ftx
	printf 'compopt:%s\n' "$_ftx_zo"
	((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
}

complete -F _ftx ftx
