#!/usr/bin/env bash
# bench/tree.sh - trees of small files (issue 13): ftx against rsync,
# lftp and scp, in one run on loopback (`make bench-tree`; `make bench`
# runs it too, through bench/run.sh).
#
# The tree comes from bench/gentree.c: BENCH_TREE_FILES files (10,000)
# in FILES/50 directories nested up to three deep, 100 B to 1 MiB each,
# most of them small (about 480 MB for 10,000), pseudo-random bytes from a
# fixed seed, so the same seed gives the same tree.  Everything (the tree,
# the servers' roots, the downloads) lives on tmpfs: /dev/shm, or a tmpfs
# this script mounts (as root) when /dev/shm is missing or too small.
#
# For every tool, each run does, timed one by one:
#   up      the whole tree to the server (into a fresh remote directory)
#   down    the whole tree back into a fresh local directory
#   sync0   the upload again with nothing changed
#   sync1   the upload again after FILES/100 files were rewritten (same
#           sizes, new bytes, mtime one day per run later; picked from
#           the seed, so every tool and run changes the same files)
# and checks every result with `diff -r` against the source (untimed).
# The tools ("tool:" names for BENCH_TREE_ONLY):
#   ftx       ftx put -r / get -r / sync DIR :REMOTE against ftxd
#   rsyncd    rsync -a push/pull to an `rsync --daemon` of our own
#   rsyncssh  rsync -a push/pull over ssh to an sshd of our own
#   lftp      lftp mirror -R / mirror against a vsftpd of our own
#             (re-mirrors are the default mirror -R: a file is sent when
#             its size or time differs)
#   scp       scp -r up and down against the same sshd (no sync rows)
# The runs are taken round-robin (run 1 of every tool, then run 2, ...),
# and each row reports the median of BENCH_RUNS runs: wall seconds, MB/s
# (10^6 bytes per second, of the tree for up/down and of the changed
# files for sync1) and, for the sync rows, the bytes on the wire where
# the tool tells (rsync --stats, ftx --json).
#
# Servers: every one is started by this script with a generated
# configuration in a temporary directory, on 127.0.0.1 and a free port,
# and stopped by PID: ftxd, rsync --daemon, sshd (generated host and user
# keys, StrictModes no), vsftpd (anonymous, writes allowed in pub/).
# Missing rsync, openssh-server, openssh-client, lftp or vsftpd are
# installed with apt-get when we are root (BENCH_NO_INSTALL=1: never);
# a tool that is still missing has its rows skipped, with the reason.
#
# Environment (defaults in brackets):
#   FTX_BUILD         build directory with ftxd and ftx [build]
#   BENCH_RUNS        runs per row, median reported [3]
#   BENCH_TREE_FILES  files in the tree [10000]; 1000 is the quick mode
#   BENCH_TREE_SEED   the tree's seed [13]
#   BENCH_TREE_ONLY   comma-separated tools [ftx,rsyncd,rsyncssh,lftp,scp]
#   BENCH_TREE_DOC    a markdown file whose section "Trees of small files
#                     (issue 13)" is replaced (or appended) with the
#                     results [docs/BENCHMARKS.md for a full default run,
#                     else none]; the section always goes to stdout and
#                     to $FTX_BUILD/bench/tree.md
#   BENCH_TIMEOUT     seconds allowed for one timed command [600]
#   BENCH_FTXD_ARGS   extra ftxd arguments
#   BENCH_NO_INSTALL  1: never apt-get install
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
# start_daemon, stop_daemon: the throwaway servers, shared by the benches.
# shellcheck source=bench/daemon.sh
. bench/daemon.sh
BUILD=${FTX_BUILD:-build}
RUNS=${BENCH_RUNS:-3}
NFILES=${BENCH_TREE_FILES:-10000}
SEED=${BENCH_TREE_SEED:-13}
ALL_TOOLS=(ftx rsyncd rsyncssh lftp scp)
ONLY=${BENCH_TREE_ONLY:-}
T_CMD=${BENCH_TIMEOUT:-600}
FTXD_EXTRA=${BENCH_FTXD_ARGS:-}
T_DAEMON=7200
CC=${CC:-cc}
SECTION='## Trees of small files (issue 13)'
if [[ -n ${BENCH_TREE_DOC+set} ]]; then
	DOC=$BENCH_TREE_DOC
elif [[ -z $ONLY && $NFILES == 10000 && -z ${BENCH_TREE_SEED:-} ]]; then
	DOC=docs/BENCHMARKS.md
else
	DOC=
fi

exec 3>&2
die() {
	echo "bench-tree: $*" >&3
	exit 1
}
note() {
	echo "bench-tree: $*" >&3
}

for v in RUNS NFILES T_CMD; do
	if [[ ! ${!v} =~ ^[0-9]+$ ]] || ((${!v} == 0)); then
		die "$v must be a positive integer"
	fi
done
[[ $SEED =~ ^[0-9]+$ ]] || die "BENCH_TREE_SEED must be a number"
((NFILES <= 1000000)) || die "BENCH_TREE_FILES must be at most 1000000"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is required (EPOCHREALTIME)"
for tool in timeout awk diff sort stat; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
TOOLS=()
if [[ -z $ONLY ]]; then
	TOOLS=("${ALL_TOOLS[@]}")
else
	IFS=', ' read -r -a words <<<"$ONLY"
	for w in "${words[@]}"; do
		[[ " ${ALL_TOOLS[*]} " == *" $w "* ]] ||
			die "BENCH_TREE_ONLY: unknown tool '$w' (${ALL_TOOLS[*]})"
		TOOLS+=("$w")
	done
	((${#TOOLS[@]} > 0)) || die "BENCH_TREE_ONLY='$ONLY' selects no tool"
fi
want() {
	[[ " ${TOOLS[*]} " == *" $1 "* ]]
}

mkdir -p "$BUILD/bench"
BUILD_ABS=$(cd "$BUILD" && pwd)
FTXD=$BUILD_ABS/ftxd
FTX=$BUILD_ABS/ftx
GENTREE=$BUILD_ABS/bench/gentree
TCPRAW=$BUILD_ABS/bench/tcpraw
ALLOW_ROOT=
((EUID != 0)) || ALLOW_ROOT=--allow-root

# ---------------------------------------------------------------------------
# Cleanup: every process is stopped by PID, every directory removed.
# ---------------------------------------------------------------------------
TMP=
SHM=
MOUNTED=
MADE_RUN_SSHD=
DAEMON_PIDS=() # "timeout-pid:daemon-pid" pairs


cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${DAEMON_PIDS[@]}"; do
		stop_daemon "$p"
	done
	DAEMON_PIDS=()
	[[ -z $SHM ]] || rm -rf -- "$SHM"
	if [[ -n $MOUNTED ]]; then
		umount "$MOUNTED" 2>/dev/null || note "cannot unmount $MOUNTED"
		rmdir "$MOUNTED" 2>/dev/null || true
	fi
	[[ -z $MADE_RUN_SSHD ]] || rmdir "$MADE_RUN_SSHD" 2>/dev/null || true
	[[ -z $TMP ]] || rm -rf -- "$TMP"
	return 0
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM


# wait_banner PORT PREFIX PAIR: wait up to 5 s for a server on PORT whose
# first bytes start with PREFIX ("220", "@RSYNCD", "SSH-").
wait_banner() {
	local port=$1 prefix=$2 i got
	for ((i = 0; i < 50; i++)); do
		# shellcheck disable=SC2016 # expanded by the inner bash
		got=$(timeout 2 bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1" &&
			head -c "$2" <&4' _ "$port" "${#prefix}" 2>/dev/null || true)
		[[ $got == "$prefix" ]] && return 0
		kill -0 "${3%%:*}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

free_port() {
	"$TCPRAW" port
}

# ---------------------------------------------------------------------------
# Tools, packages, the tree.
# ---------------------------------------------------------------------------
for src in gentree tcpraw; do
	if [[ ! -x $BUILD_ABS/bench/$src || bench/$src.c -nt $BUILD_ABS/bench/$src ]]; then
		timeout 120 "$CC" -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread \
		    -o "$BUILD_ABS/bench/$src" "bench/$src.c" -lm ||
			die "cannot compile bench/$src.c"
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ftx-tree.XXXXXX")

# Packages: one apt-get for everything missing (refreshing the package
# lists once if the first try fails).
SSHD=$(command -v sshd || true)
[[ -n $SSHD || ! -x /usr/sbin/sshd ]] || SSHD=/usr/sbin/sshd
VSFTPD=$(command -v vsftpd || true)
[[ -n $VSFTPD || ! -x /usr/sbin/vsftpd ]] || VSFTPD=/usr/sbin/vsftpd
PKGS=()
if want rsyncd || want rsyncssh; then
	command -v rsync >/dev/null || PKGS+=(rsync)
fi
if want rsyncssh || want scp; then
	[[ -n $SSHD ]] || PKGS+=(openssh-server)
	command -v ssh >/dev/null && command -v scp >/dev/null &&
		command -v ssh-keygen >/dev/null || PKGS+=(openssh-client)
fi
if want lftp; then
	command -v lftp >/dev/null || PKGS+=(lftp)
	[[ -n $VSFTPD ]] || PKGS+=(vsftpd)
fi
INSTALL_REASON=
if ((${#PKGS[@]} > 0)); then
	if [[ ${BENCH_NO_INSTALL:-0} == 1 ]]; then
		INSTALL_REASON="not installed (BENCH_NO_INSTALL=1): ${PKGS[*]}"
	elif ((EUID != 0)); then
		INSTALL_REASON="not installed and not root (run: sudo apt-get install ${PKGS[*]})"
	elif ! command -v apt-get >/dev/null; then
		INSTALL_REASON="not installed and no apt-get: ${PKGS[*]}"
	else
		note "installing ${PKGS[*]} with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		if ! timeout 600 apt-get install -y -q "${PKGS[@]}" >"$TMP/apt.log" 2>&1; then
			timeout 600 apt-get update -q >>"$TMP/apt.log" 2>&1 || true
			timeout 600 apt-get install -y -q "${PKGS[@]}" >>"$TMP/apt.log" 2>&1 ||
				INSTALL_REASON="apt-get install ${PKGS[*]} failed: $(tail -n 1 "$TMP/apt.log")"
		fi
	fi
	[[ -z $INSTALL_REASON ]] || note "$INSTALL_REASON"
	SSHD=$(command -v sshd || true)
	[[ -n $SSHD || ! -x /usr/sbin/sshd ]] || SSHD=/usr/sbin/sshd
	VSFTPD=$(command -v vsftpd || true)
	[[ -n $VSFTPD || ! -x /usr/sbin/vsftpd ]] || VSFTPD=/usr/sbin/vsftpd
fi

# tmpfs for everything: the source, one tool's server copy, a download.
tree_mib=$(((NFILES * 60 / 1024) + 64)) # about 48 KB a file, generous
need=$((4 * tree_mib * 1024 * 1024))
shm_ok=0
if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] &&
    (($(stat -f -c '%a*%S' /dev/shm) > need)); then
	shm_ok=1
fi
if ((shm_ok)); then
	SHM=$(mktemp -d /dev/shm/ftx-tree.XXXXXX)
elif ((EUID == 0)); then
	MOUNTED=$(mktemp -d "${TMPDIR:-/tmp}/ftx-tree-tmpfs.XXXXXX")
	mount -t tmpfs -o "size=$((need >> 20))m,mode=0755" ftx-tree "$MOUNTED" ||
		die "cannot mount a tmpfs on $MOUNTED"
	SHM=$MOUNTED/t
	mkdir "$SHM"
else
	die "/dev/shm is not a tmpfs with $((need >> 20)) MiB free, and only root can mount one"
fi
chmod 0755 "$SHM"
SRC=$SHM/src
DL=$SHM/dl

note "generating the tree: $NFILES files, seed $SEED"
gen_out=$(timeout "$T_CMD" "$GENTREE" gen "$SRC" "$SEED" "$NFILES") ||
	die "gentree failed"
TREE_DIRS=${gen_out#*dirs=}
TREE_DIRS=${TREE_DIRS%% *}
TREE_BYTES=${gen_out##*bytes=}
[[ $TREE_BYTES =~ ^[0-9]+$ && $TREE_DIRS =~ ^[0-9]+$ ]] ||
	die "gentree printed '$gen_out'"
note "$gen_out"
# The changed files (and their bytes) of a sync1 run: the same every run.
timeout "$T_CMD" "$GENTREE" change "$SRC" "$SEED" "$NFILES" 0 \
    >"$TMP/changed.txt" 2>"$TMP/changed.err" || die "gentree change failed"
CHANGED_FILES=$(wc -l <"$TMP/changed.txt")
CHANGED_BYTES=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$TMP/changed.err")
[[ $CHANGED_BYTES =~ ^[0-9]+$ ]] || die "gentree change printed '$(cat "$TMP/changed.err")'"

# ---------------------------------------------------------------------------
# Servers.
# ---------------------------------------------------------------------------
declare -A REASON=()

# ftxd, on a root of its own.
FTX_PORT=
FTX_ROOT=$SHM/ftxroot
setup_ftx() {
	local log=$TMP/ftxd.log i line out rc
	[[ -x $FTXD && -x $FTX ]] || {
		REASON[ftx]="$BUILD/ftxd or $BUILD/ftx not built"
		return
	}
	mkdir -p "$FTX_ROOT"
	: >"$log"
	# shellcheck disable=SC2086 # FTXD_EXTRA is a word list on purpose.
	start_daemon "$log" "$FTXD" $ALLOW_ROOT --root "$FTX_ROOT" --bind 127.0.0.1 \
	    --port 0 --data-port 0 --log "$log" $FTXD_EXTRA
	for ((i = 0; i < 50; i++)); do
		line=$(grep -m1 -o 'listening control=[^ ]*' "$log" 2>/dev/null || true)
		[[ -z $line ]] || break
		kill -0 "${DAEMON%%:*}" 2>/dev/null || break
		sleep 0.1
	done
	FTX_PORT=${line##*:}
	[[ $FTX_PORT =~ ^[0-9]+$ ]] || {
		REASON[ftx]="ftxd did not start: $(tail -n 1 "$log")"
		return
	}
	# The tree commands: a rejected `put -r` (usage error) means a build
	# from before issue 13.
	mkdir -p "$TMP/probe"
	echo probe >"$TMP/probe/p.txt"
	rc=0
	out=$(timeout 60 "$FTX" --host 127.0.0.1 --port "$FTX_PORT" --quiet \
	    put -r "$TMP/probe" probe 2>&1) || rc=$?
	if ((rc == 2)) && [[ $out == *unknown* || $out == *usage* ]]; then
		REASON[ftx]="ftx tree commands not available ($out)"
	elif ((rc != 0)); then
		REASON[ftx]="ftx put -r of a one-file directory failed: $out"
	else
		timeout 60 "$FTX" --host 127.0.0.1 --port "$FTX_PORT" --quiet \
		    rm -r probe >/dev/null 2>&1 || rm -rf -- "${FTX_ROOT:?}/probe"
	fi
}

# rsync --daemon with one writable module.
RSYNCD_PORT=
RSYNCD_ROOT=$SHM/rsyncd
setup_rsyncd() {
	local d=$TMP/rsyncd
	command -v rsync >/dev/null || {
		REASON[rsyncd]="rsync ${INSTALL_REASON:-not installed}"
		return
	}
	mkdir -p "$d" "$RSYNCD_ROOT"
	RSYNCD_PORT=$(free_port) || {
		REASON[rsyncd]="no free port"
		return
	}
	cat >"$d/rsyncd.conf" <<-EOF
		address = 127.0.0.1
		port = $RSYNCD_PORT
		use chroot = no
		log file = $d/rsyncd.log
		[tree]
		path = $RSYNCD_ROOT
		read only = no
		uid = $(id -u)
		gid = $(id -g)
	EOF
	start_daemon "$d/stderr.log" rsync --daemon --no-detach --config="$d/rsyncd.conf"
	wait_banner "$RSYNCD_PORT" "@RSYNCD" "$DAEMON" ||
		REASON[rsyncd]="rsync --daemon did not start: $(tail -n 1 "$d/stderr.log" 2>/dev/null)"
}

# sshd with generated keys, for rsync over ssh and scp.
SSH_CFG=$TMP/ssh/ssh_config
SSH_ROOT=$SHM/ssh
SSH_REASON=
setup_sshd() {
	local d=$TMP/ssh port
	if [[ -z $SSHD ]] || ! command -v ssh >/dev/null || ! command -v scp >/dev/null; then
		SSH_REASON="sshd/ssh/scp ${INSTALL_REASON:-not installed}"
		return
	fi
	mkdir -p "$d/home" "$SSH_ROOT"
	chmod 0700 "$d"
	if ! ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$d/host" >/dev/null ||
	    ! ssh-keygen -q -t ed25519 -N '' -C bench-user -f "$d/id" >/dev/null; then
		SSH_REASON="ssh-keygen failed"
		return
	fi
	cp "$d/id.pub" "$d/authorized_keys"
	port=$(free_port) || {
		SSH_REASON="no free port"
		return
	}
	# The remote side runs in the account's shell, which bash makes read
	# ~/.bashrc when started by sshd; HOME is an empty directory of ours
	# so that the rows measure the tools, not the account's dotfiles
	# (here a pyenv init that adds 0.6 s to every connection).
	# sshd insists on its privilege separation directory.
	if [[ ! -d /run/sshd ]] && ((EUID == 0)); then
		mkdir -m 0755 /run/sshd && MADE_RUN_SSHD=/run/sshd
	fi
	cat >"$d/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $port
		HostKey $d/host
		PidFile none
		AuthorizedKeysFile $d/authorized_keys
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		StrictModes no
		UsePAM no
		UseDNS no
		MaxStartups 64
		LogLevel ERROR
		Subsystem sftp internal-sftp
		SetEnv HOME=$d/home
	EOF
	cat >"$SSH_CFG" <<-EOF
		Host bench
		HostName 127.0.0.1
		Port $port
		User $(id -un)
		IdentityFile $d/id
		IdentitiesOnly yes
		UserKnownHostsFile $d/known_hosts
		GlobalKnownHostsFile /dev/null
		StrictHostKeyChecking yes
		BatchMode yes
		LogLevel ERROR
	EOF
	echo "[127.0.0.1]:$port $(cat "$d/host.pub")" >"$d/known_hosts"
	start_daemon "$d/sshd.log" "$SSHD" -D -e -f "$d/sshd_config"
	if ! wait_banner "$port" "SSH-" "$DAEMON"; then
		SSH_REASON="sshd did not start: $(tail -n 1 "$d/sshd.log" 2>/dev/null)"
	elif ! out=$(timeout 30 ssh -F "$SSH_CFG" bench true 2>&1); then
		SSH_REASON="ssh login to the bench sshd failed: $out"
	fi
}

# vsftpd: anonymous, writes allowed under pub/ (the chroot itself must not
# be writable).
VSFTPD_PORT=
FTP_ROOT=$SHM/ftp
setup_vsftpd() {
	local d=$TMP/vsftpd base i busy
	if [[ -z $VSFTPD ]] || ! command -v lftp >/dev/null; then
		REASON[lftp]="vsftpd/lftp ${INSTALL_REASON:-not installed}"
		return
	fi
	id ftp >/dev/null 2>&1 || {
		REASON[lftp]="no 'ftp' user for vsftpd's anonymous sessions"
		return
	}
	mkdir -p "$d/empty" "$FTP_ROOT/pub"
	chmod 0755 "$d/empty"
	chmod 0555 "$FTP_ROOT"
	chmod 0777 "$FTP_ROOT/pub"
	VSFTPD_PORT=$(free_port) || {
		REASON[lftp]="no free port"
		return
	}
	# 1000 passive ports below the ephemeral range with no listener: one
	# data connection per file and per listing.
	for ((i = 0; i < 20; i++)); do
		base=$((10000 + (RANDOM % 18) * 1000))
		busy=$(ss -Htln 2>/dev/null | awk -v lo="$base" -v hi="$((base + 999))" '
			{ n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) c++ }
			END { print c + 0 }') || busy=0
		((busy != 0)) || break
	done
	cat >"$d/vsftpd.conf" <<-EOF
		listen=YES
		listen_ipv6=NO
		listen_address=127.0.0.1
		listen_port=$VSFTPD_PORT
		background=NO
		anonymous_enable=YES
		local_enable=NO
		write_enable=YES
		anon_upload_enable=YES
		anon_mkdir_write_enable=YES
		anon_other_write_enable=YES
		anon_world_readable_only=NO
		anon_umask=022
		anon_root=$FTP_ROOT
		no_anon_password=YES
		pasv_enable=YES
		pasv_address=127.0.0.1
		pasv_min_port=$base
		pasv_max_port=$((base + 999))
		connect_from_port_20=NO
		seccomp_sandbox=NO
		secure_chroot_dir=$d/empty
		xferlog_enable=NO
		syslog_enable=NO
		vsftpd_log_file=$d/vsftpd.log
	EOF
	chmod 0600 "$d/vsftpd.conf"
	start_daemon "$d/stderr.log" "$VSFTPD" "$d/vsftpd.conf"
	wait_banner "$VSFTPD_PORT" "220" "$DAEMON" ||
		REASON[lftp]="vsftpd did not start: $(tail -n 1 "$d/stderr.log" 2>/dev/null)"
}

! want ftx || setup_ftx
! want rsyncd || setup_rsyncd
if want rsyncssh || want scp; then
	setup_sshd
	if [[ -n $SSH_REASON ]]; then
		REASON[rsyncssh]=$SSH_REASON
		REASON[scp]=$SSH_REASON
	fi
	command -v rsync >/dev/null || REASON[rsyncssh]="rsync ${INSTALL_REASON:-not installed}"
fi
! want lftp || setup_vsftpd
for t in "${TOOLS[@]}"; do
	[[ -z ${REASON[$t]:-} ]] || note "$t rows skipped: ${REASON[$t]}"
done

# ---------------------------------------------------------------------------
# The commands.  Each tool has: ROOT (where the server keeps its copy, so
# that results can be checked on disk), up, down, sync (the upload again);
# sync prints "BYTES FILES" on fd 5: the bytes it says it sent and the
# files it sent, "-" for what the tool does not tell.
# ---------------------------------------------------------------------------
# ftx keeps local digests in $XDG_CACHE_HOME/ftx/hashes: ours, emptied at
# the start of every run, so each run's put -r hashes the tree afresh
# (as rsync's first push reads it all) and the syncs after it find the
# digests put -r left.
ftxc() {
	XDG_CACHE_HOME=$TMP/xdg-cache timeout "$T_CMD" "$FTX" --host 127.0.0.1 \
	    --port "$FTX_PORT" "$@"
}
ftx_root() { echo "$FTX_ROOT/tree"; }
ftx_up() { ftxc --quiet put -r "$SRC" tree; }
ftx_down() { ftxc --quiet get -r tree "$DL"; }
ftx_sync() {
	local out
	out=$(ftxc sync --json "$SRC" :tree) || {
		echo "$out"
		return 1
	}
	echo "$out"
	# {"files_sent":N,...,"bytes":N,...}: the file bytes sent.
	json_num "$out" bytes "$(json_num "$out" files_sent)" >&5
}
# json_num JSON KEY [SUFFIX]: KEY's number (or "-"), then SUFFIX.
json_num() {
	local v
	v=$(sed -n "s/.*\"$2\"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p" <<<"$1")
	echo "${v:--}${3:+ $3}"
}

# rsync --stats: the wire bytes are "Total bytes sent" + "received", the
# files "Number of regular files transferred".
rsync_wire() {
	awk -F: '/^Total bytes (sent|received)/ { gsub(/[ ,]/, "", $2); n += $2 }
		/^Number of regular files transferred/ { gsub(/[ ,]/, "", $2); f = $2 }
		END { print n + 0, (f == "" ? "-" : f) }' "$1"
}
rsyncd_root() { echo "$RSYNCD_ROOT/tree"; }
rsyncd_up() {
	timeout "$T_CMD" rsync -a "$SRC/" "rsync://127.0.0.1:$RSYNCD_PORT/tree/tree/"
}
rsyncd_down() {
	timeout "$T_CMD" rsync -a "rsync://127.0.0.1:$RSYNCD_PORT/tree/tree/" "$DL/"
}
rsyncd_sync() {
	timeout "$T_CMD" rsync -a --stats "$SRC/" \
	    "rsync://127.0.0.1:$RSYNCD_PORT/tree/tree/" >"$TMP/rsync.stats" &&
		rsync_wire "$TMP/rsync.stats" >&5
}

RSH="ssh -F $SSH_CFG"
rsyncssh_root() { echo "$SSH_ROOT/rs"; }
rsyncssh_up() { timeout "$T_CMD" rsync -a -e "$RSH" "$SRC/" "bench:$SSH_ROOT/rs/"; }
rsyncssh_down() { timeout "$T_CMD" rsync -a -e "$RSH" "bench:$SSH_ROOT/rs/" "$DL/"; }
rsyncssh_sync() {
	timeout "$T_CMD" rsync -a --stats -e "$RSH" "$SRC/" "bench:$SSH_ROOT/rs/" \
	    >"$TMP/rsync.stats" && rsync_wire "$TMP/rsync.stats" >&5
}

scp_root() { echo "$SSH_ROOT/scp"; }
scp_up() { timeout "$T_CMD" scp -q -r -F "$SSH_CFG" "$SRC" "bench:$SSH_ROOT/scp"; }
scp_down() { timeout "$T_CMD" scp -q -r -F "$SSH_CFG" "bench:$SSH_ROOT/scp" "$DL"; }

# lftp sets a remote file's time after each upload; with vsftpd that takes
# `MDTM time file` (SITE UTIME is refused), and without remote times equal
# to the local ones the 1% re-mirror would see the server's copies as
# newer and send nothing.  --no-perms: vsftpd refuses SITE CHMOD too.
lftpc() {
	timeout "$T_CMD" lftp -c "set cmd:fail-exit yes; set net:max-retries 1;
		set net:timeout 60; set ftp:passive-mode yes; set ftp:use-site-utime no;
		set ftp:use-site-utime2 no; set ftp:use-mdtm-overloaded yes;
		open -u anonymous,bench ftp://127.0.0.1:$VSFTPD_PORT; $1"
}
lftp_root() { echo "$FTP_ROOT/pub/tree"; }
lftp_up() { lftpc "mirror -R --no-perms $SRC /pub/tree"; }
lftp_down() { lftpc "mirror /pub/tree $DL"; }
# -v: one "Transferring file `NAME'" line per file sent.
lftp_sync() {
	lftpc "mirror -R -v --no-perms $SRC /pub/tree" >"$TMP/lftp.out" || return 1
	cat "$TMP/lftp.out"
	awk '/^Transferring file / { n++ } END { print "-", n + 0 }' "$TMP/lftp.out" >&5
}

# ---------------------------------------------------------------------------
# Runs.
# ---------------------------------------------------------------------------
STEPS=(up down sync0 sync1)
declare -A TIMES=() WIRE=() NSENT=() STATUS=()
for t in "${TOOLS[@]}"; do
	if [[ -n ${REASON[$t]:-} ]]; then
		STATUS[$t]="skipped: ${REASON[$t]}"
	else
		STATUS[$t]=ok
	fi
done

# timed VAR cmd...: run cmd (output to $TMP/step.log, fd 5 to
# $TMP/step.wire) and store its wall time in seconds in VAR.
timed() {
	local var=$1 t0 t1 us
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >"$TMP/step.log" 2>&1 5>"$TMP/step.wire" || return 1
	t1=${EPOCHREALTIME/./}
	us=$((t1 - t0))
	printf -v "$var" '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# check DIR: DIR holds exactly the source tree (contents, not times).
# ftxd keeps its hash cache in a .ftx directory in each directory; the
# source has no such names.
check() {
	local out
	out=$(timeout "$T_CMD" diff -r -q -x .ftx "$SRC" "$1" 2>&1 | head -n 3) || true
	[[ -z $out ]] || {
		out=${out//$SHM\//}
		echo "differs from the source: ${out//$'\n'/; }"
		return 1
	}
}

# step TOOL STEP CMD: one timed step, checked, recorded.
step() {
	local t=$1 s=$2 cmd=$3 secs where msg wb wf
	if ! timed secs "${t}_$cmd"; then
		echo "$s: $(tail -n 3 "$TMP/step.log" | tr '\n' ' ')"
		return 1
	fi
	if [[ $s == down ]]; then
		where=$DL
	else
		where=$("${t}_root")
	fi
	if ! msg=$(check "$where"); then
		echo "$s: ${where#"$SHM"/} $msg"
		return 1
	fi
	TIMES[$t.$s]+="${TIMES[$t.$s]:+ }$secs"
	if [[ -s $TMP/step.wire ]]; then
		read -r wb wf <"$TMP/step.wire" || true
		[[ ! ${wb:-} =~ ^[0-9]+$ ]] || WIRE[$t.$s]+="${WIRE[$t.$s]:+ }$wb"
		[[ ! ${wf:-} =~ ^[0-9]+$ ]] || NSENT[$t.$s]+="${NSENT[$t.$s]:+ }$wf"
	fi
	note "run $run $t $s: ${secs%???} s"
}

# one_run TOOL RUN: a fresh remote copy and download, then the four steps.
one_run() {
	local t=$1 run=$2 root
	root=$("${t}_root")
	timeout "$T_CMD" "$GENTREE" change "$SRC" "$SEED" "$NFILES" 0 >/dev/null 2>&1 ||
		{ echo "gentree change 0 failed"; return 1; }
	rm -rf -- "$root" "$DL" "$TMP/xdg-cache"
	step "$t" up up || return 1
	step "$t" down down || return 1
	rm -rf -- "$DL"
	[[ $t != scp ]] || return 0
	step "$t" sync0 sync || return 1
	timeout "$T_CMD" "$GENTREE" change "$SRC" "$SEED" "$NFILES" "$run" >/dev/null 2>&1 ||
		{ echo "gentree change $run failed"; return 1; }
	step "$t" sync1 sync || return 1
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 1; run <= RUNS; run++)); do
	for t in "${TOOLS[@]}"; do
		[[ ${STATUS[$t]} == ok ]] || continue
		# Not in a subshell: the steps record their times.
		if ! one_run "$t" "$run" >"$TMP/run.msg" 2>&1; then
			msg=$(tr '\n' ' ' <"$TMP/run.msg")
			STATUS[$t]="failed in run $run: ${msg% }"
			note "$t: ${STATUS[$t]}"
		fi
		# Keep one server copy at a time on the tmpfs.
		rm -rf -- "$("${t}_root")" "$DL"
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------
median() {
	tr ' ' '\n' <<<"$1" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A TLABEL=(
	[ftx]="ftx"
	[rsyncd]="rsync -a, daemon (rsync://)"
	[rsyncssh]="rsync -a over ssh"
	[lftp]="lftp mirror, vsftpd"
	[scp]="scp -r"
)
declare -A SLABEL=(
	[ftx.up]="put -r"
	[ftx.down]="get -r"
	[ftx.sync0]="sync, unchanged"
	[ftx.sync1]="sync, 1% changed"
	[lftp.up]="mirror -R"
	[lftp.down]="mirror"
	[lftp.sync0]="mirror -R again, unchanged"
	[lftp.sync1]="mirror -R again, 1% changed"
	[scp.up]="scp -r up"
	[scp.down]="scp -r down"
)
slabel() {
	local t=$1 s=$2
	if [[ -n ${SLABEL[$t.$s]:-} ]]; then
		echo "${SLABEL[$t.$s]}"
		return
	fi
	case $s in
	up) echo "push" ;;
	down) echo "pull" ;;
	sync0) echo "push again, unchanged" ;;
	sync1) echo "push again, 1% changed" ;;
	esac
}

fmt_bytes() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1e6) printf "%.1f MB", b / 1e6;
		else if (b >= 1e3) printf "%.1f kB", b / 1e3;
		else printf "%d B", b }'
}

table() {
	local t s m mbs wire nsent runs moved
	echo "| tool | step | seconds (median) | MB/s | bytes sent (tool's count) | files sent | runs (s) |"
	echo "|---|---|---:|---:|---:|---:|---|"
	for t in "${TOOLS[@]}"; do
		for s in "${STEPS[@]}"; do
			[[ $t != scp || $s == up || $s == down ]] || continue
			if [[ -z ${TIMES[$t.$s]:-} ]]; then
				echo "| ${TLABEL[$t]} | $(slabel "$t" "$s") | - | - | - | - | ${STATUS[$t]} |"
				continue
			fi
			m=$(median "${TIMES[$t.$s]}")
			case $s in
			up | down) moved=$TREE_BYTES ;;
			sync1) moved=$CHANGED_BYTES ;;
			*) moved=0 ;;
			esac
			mbs=$(awk -v b="$moved" -v s="$m" 'BEGIN {
				if (b == 0 || s <= 0) print "-"; else if (b / s < 1e7)
				printf "%.1f", b / s / 1e6; else printf "%.0f", b / s / 1e6 }')
			wire=-
			[[ -z ${WIRE[$t.$s]:-} ]] || wire=$(fmt_bytes "$(median "${WIRE[$t.$s]}")")
			nsent=-
			[[ -z ${NSENT[$t.$s]:-} ]] || nsent=$(median "${NSENT[$t.$s]}")
			runs=$(awk '{ for (i = 1; i <= NF; i++)
				printf "%s%.3f", (i > 1 ? ", " : ""), $i }' <<<"${TIMES[$t.$s]}")
			[[ ${STATUS[$t]} == ok ]] || runs+=" (${STATUS[$t]%%:*}, see below)"
			printf '| %s | %s | %.3f | %s | %s | %s | %s |\n' "${TLABEL[$t]}" \
			    "$(slabel "$t" "$s")" "$m" "$mbs" "$wire" "$nsent" "$runs"
		done
	done
}

versions() {
	local v
	if want ftx && [[ -x $FTXD ]]; then
		v=$("$FTXD" --version 2>&1 | head -n 1 || true)
		echo "- ftxd: $v, tree $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	fi
	if command -v rsync >/dev/null; then
		echo "- rsync: $(rsync --version 2>&1 | head -n 1 | sed 's/ *protocol/, protocol/; s/  */ /g')"
	fi
	if command -v ssh >/dev/null; then
		echo "- OpenSSH: $(ssh -V 2>&1 | head -n 1) (default cipher: the client's first choice, chacha20-poly1305@openssh.com unless configured)"
	fi
	if command -v lftp >/dev/null; then
		echo "- lftp: $(lftp --version 2>&1 | head -n 1 | sed 's/^LFTP | //; s/ |.*//')"
	fi
	if [[ -n $VSFTPD ]]; then
		v=$("$VSFTPD" -v 0>&1 2>&1 | head -n 1 || true)
		echo "- vsftpd: ${v#vsftpd: }"
	fi
}

report() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
	cat <<-EOF
		$SECTION

		Generated by \`bench/tree.sh\` (\`make bench-tree\`, and part of \`make bench\`).
		Run: $START, command: \`FTX_BUILD=$BUILD BENCH_RUNS=$RUNS BENCH_TREE_FILES=$NFILES${ONLY:+ BENCH_TREE_ONLY=$ONLY} bash bench/tree.sh\`.
		Machine: ${cpu:-unknown CPU}, nproc = $(nproc), $(uname -sr); load average $LOAD0 before, $LOAD1 after.

		Tree (\`bench/gentree.c\`, seed $SEED): $NFILES files in $TREE_DIRS directories
		(nested up to 3 deep), 100 B to 1 MiB, $TREE_BYTES bytes; the 1% change
		rewrites $CHANGED_FILES files, $CHANGED_BYTES bytes (same sizes, new contents,
		mtime a day later per run). Source, server copies and downloads all on
		tmpfs, over loopback (127.0.0.1). Median of $RUNS runs, taken round-robin;
		every result checked with \`diff -r\` against the source (untimed). MB/s:
		10^6 bytes per second of the tree (up/down) or of the changed files (1%
		changed). For the sync rows, what the tool says it sent (median), where it
		tells: bytes on the wire from rsync's \`--stats\` (sent + received,
		protocol included) and the file bytes of \`ftx sync --json\` ("bytes"); files
		sent from rsync's \`--stats\`, ftx's "files_sent" and the "Transferring
		file" lines of lftp's \`mirror -v\`.

	EOF
	table
	for t in "${TOOLS[@]}"; do
		[[ ${STATUS[$t]} == ok || ${STATUS[$t]} == skipped* ]] ||
			printf '\n%s: %s\n' "${TLABEL[$t]}" "${STATUS[$t]}"
	done
	cat <<-EOF

		Tools:

	EOF
	versions
	cat <<-'EOF'

		- ftx: `ftx put -r SRC tree`, `ftx get -r tree DL`, `ftx sync --json SRC :tree`,
		  against an ftxd with its root on tmpfs. Every file is SHA-256-verified end
		  to end. The client's hash cache (`XDG_CACHE_HOME`) is a temporary
		  directory emptied before each run: put -r hashes the whole tree, the
		  syncs use the digests it left (sizes, mtimes and inodes unchanged).
		- rsync daemon: `rsync --daemon` with a generated rsyncd.conf (one writable
		  module, `use chroot = no`); `rsync -a SRC/ rsync://127.0.0.1:PORT/tree/tree/`
		  and back; re-syncs are the same push (quick check: size and mtime).
		- rsync over ssh: `rsync -a -e ssh` to a throwaway sshd (generated ed25519
		  host and user keys, own config, `StrictModes no`, and `SetEnv HOME=` an
		  empty directory so that the remote shell reads no dotfiles); same commands.
		- lftp: `mirror -R SRC /pub/tree` (up) and `mirror /pub/tree DL` (down)
		  against a throwaway vsftpd (anonymous, writes allowed in pub/, passive
		  mode, one data connection per file, `--no-perms` up); the re-mirrors are
		  plain `mirror -R` again, lftp's default rule (a file is sent when its size
		  differs or the local copy is newer). lftp runs with
		  `ftp:use-mdtm-overloaded yes` (and SITE UTIME off), so that it sets each
		  uploaded file's time with vsftpd's `MDTM time file`: without it the
		  server's copies are newer than the sources and the 1% re-mirror sends
		  nothing.
		- scp: `scp -r` up and down against the same sshd (OpenSSH's scp speaks
		  SFTP underneath since 9.0); no sync rows, scp has none.
	EOF
}

out=$(report)
printf '%s\n' "$out" | tee "$BUILD_ABS/bench/tree.md"
if [[ -n $DOC ]]; then
	# Replace our section (up to the next "## " heading) or append it.
	mkdir -p "$(dirname "$DOC")"
	[[ -f $DOC ]] || : >"$DOC"
	doc_tmp=$(mktemp "$(dirname "$DOC")/.BENCHMARKS.XXXXXX")
	printf '%s\n' "$out" >"$TMP/section.md"
	awk -v sec="$SECTION" -v file="$TMP/section.md" '
		function put(  l) { while ((getline l < file) > 0) print l; done = 1 }
		$0 == sec { skip = 1; put(); next }
		skip && /^## / { skip = 0; print "" }
		!skip { print }
		END { if (!done) { print ""; put() } }' "$DOC" >"$doc_tmp"
	mv -f "$doc_tmp" "$DOC"
	chmod 0644 "$DOC"
	note "wrote the section to $DOC"
fi
for t in "${TOOLS[@]}"; do
	[[ ${STATUS[$t]} != failed* ]] || {
		note "some tree rows failed"
		exit 1
	}
done
