#!/bin/sh
# install.sh - build, test and install ftx as a systemd service on a
# Debian or Ubuntu machine.
#
#	deploy/install.sh [--dry-run] [--no-test] [--no-deps] [--no-start]
#
# Run it from a checkout, as root or as a user with sudo (it calls sudo
# for the steps that need root).  It is safe to run again: a second run
# rebuilds, reinstalls the binaries and the unit, and restarts the
# service (an in-place upgrade), but never touches an existing
# /etc/ftxd.conf, the stored files or the logs.
#
# Steps:
#   1. apt-get install build-essential pkg-config libssl-dev libcmocka-dev
#   2. make; make test (skip with --no-test)
#   3. make install PREFIX=/usr/local  (ftx, ftxd, man pages)
#   4. system user and group "ftx" (no login shell, no home directory)
#   5. /srv/ftx (the storage root) and /var/log/ftxd, owned by ftx, 0750
#   6. /etc/ftxd.conf from deploy/ftxd.conf.example, only if absent
#   7. /etc/systemd/system/ftxd.service and /etc/logrotate.d/ftxd
#   8. systemctl daemon-reload; enable ftxd; (re)start it
#
# --dry-run prints every command instead of running it (it still looks
# at the machine to decide, e.g. whether the ftx user exists).
set -eu

PREFIX=/usr/local
FTX_USER=ftx
FTX_ROOT=/srv/ftx
LOG_DIR=/var/log/ftxd
# FTXD_CONF moves the config (the test suite uses it with --dry-run).
CONF=${FTXD_CONF:-/etc/ftxd.conf}
UNIT_DIR=/etc/systemd/system
LOGROTATE_DIR=/etc/logrotate.d
BUILD=${BUILD:-build}
PACKAGES="build-essential pkg-config libssl-dev libcmocka-dev"

DRY_RUN=0
RUN_TESTS=1
INSTALL_DEPS=1
START=1

prog=install.sh

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--dry-run | -n) DRY_RUN=1 ;;
	--no-test) RUN_TESTS=0 ;;
	--no-deps) INSTALL_DEPS=0 ;;
	--no-start) START=0 ;;
	-h | --help) usage 0 ;;
	*)
		echo "$prog: unknown option '$1'" >&2
		usage 2 >&2
		;;
	esac
	shift
done

# set -e stops at the first failing command; say so in plain words.
on_exit() {
	rc=$?
	[ "$rc" -eq 0 ] ||
	    printf '%s: FAILED (exit %s) in the step above\n' "$prog" "$rc" >&2
}
trap on_exit EXIT

say() {
	printf '==> %s\n' "$*"
}

die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 1
}

# One argument quoted for the shell, so that a printed command can be
# pasted back into one.
quote() {
	case "$1" in
	'' | *[!A-Za-z0-9_./=:@%+,-]*)
		printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
		;;
	*) printf '%s' "$1" ;;
	esac
}

# Run a command, or only show it with --dry-run.  Every command that
# changes the machine goes through here.
run() {
	printf '+'
	for a in "$@"; do
		printf ' %s' "$(quote "$a")"
	done
	printf '\n'
	[ "$DRY_RUN" -eq 1 ] && return 0
	"$@"
}

# Run as root: directly if we are root, else through sudo.
root() {
	if [ -n "$SUDO" ]; then
		run "$SUDO" "$@"
	else
		run "$@"
	fi
}

# ---------------------------------------------------------------- checks

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
if [ ! -f "$src/Makefile" ] || [ ! -f "$here/ftxd.service" ]; then
	die "run me from an ftx checkout (no Makefile next to $here)"
fi
cd "$src"

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
	if [ "$DRY_RUN" -eq 0 ]; then
		say "some steps need root: sudo may ask for your password"
		sudo -v || die "sudo failed; run this as root or as a user with sudo"
	fi
else
	[ "$DRY_RUN" -eq 1 ] || die "run this as root, or install sudo"
	SUDO=sudo
fi

HAVE_SYSTEMD=0
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	HAVE_SYSTEMD=1
fi

[ "$DRY_RUN" -eq 1 ] && say "dry run: showing the commands, changing nothing"
say "installing ftx from $src"

# ---------------------------------------------------------------- 1. deps

if [ "$INSTALL_DEPS" -eq 1 ]; then
	command -v apt-get >/dev/null 2>&1 || [ "$DRY_RUN" -eq 1 ] ||
	    die "no apt-get: install $PACKAGES (or equivalents), then rerun with --no-deps"
	say "1/8 build dependencies: $PACKAGES"
	root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES
else
	say "1/8 build dependencies: skipped (--no-deps)"
fi

# ---------------------------------------------------------------- 2. build

jobs=$(nproc 2>/dev/null || echo 1)
say "2/8 build (make BUILD=$BUILD)"
run make -j"$jobs" BUILD="$BUILD" all
if [ "$RUN_TESTS" -eq 1 ]; then
	say "2/8 tests (make test; skip with --no-test)"
	run make BUILD="$BUILD" test
else
	say "2/8 tests: skipped (--no-test)"
fi

# ---------------------------------------------------------------- 3. install

say "3/8 install binaries to $PREFIX"
root make BUILD="$BUILD" PREFIX="$PREFIX" install

# ---------------------------------------------------------------- 4. user

say "4/8 system user $FTX_USER"
if getent passwd "$FTX_USER" >/dev/null 2>&1; then
	say "user $FTX_USER exists: keeping it"
else
	nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/sbin/nologin
	[ -x "$nologin" ] || nologin=/bin/false
	root useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell "$nologin" \
	    --comment "ftx file-transfer daemon" "$FTX_USER"
fi

# ---------------------------------------------------------------- 5. dirs

# install -d also repairs owner and mode on a rerun; existing contents
# are left alone.
say "5/8 storage root $FTX_ROOT and log directory $LOG_DIR"
root install -d -o "$FTX_USER" -g "$FTX_USER" -m 0750 "$FTX_ROOT"
root install -d -o "$FTX_USER" -g "$FTX_USER" -m 0750 "$LOG_DIR"

# ---------------------------------------------------------------- 6. config

# The daemon re-reads its config on SIGHUP as user ftx: group-readable.
say "6/8 configuration $CONF"
if [ -e "$CONF" ]; then
	say "$CONF exists: keeping it (compare with deploy/ftxd.conf.example)"
else
	root install -o root -g "$FTX_USER" -m 0640 \
	    deploy/ftxd.conf.example "$CONF"
fi

# ---------------------------------------------------------------- 7. unit

# The unit is ours and is replaced on every run; local changes belong in
# a drop-in (systemctl edit ftxd).
say "7/8 systemd unit $UNIT_DIR/ftxd.service"
root install -m 0644 deploy/ftxd.service "$UNIT_DIR/ftxd.service"
if [ -d "$LOGROTATE_DIR" ] || [ "$DRY_RUN" -eq 1 ]; then
	root install -m 0644 deploy/ftxd.logrotate "$LOGROTATE_DIR/ftxd"
fi

# ---------------------------------------------------------------- 8. start

if [ "$START" -eq 0 ]; then
	say "8/8 service: not started (--no-start); start it with:"
	say "    sudo systemctl daemon-reload && sudo systemctl enable --now ftxd"
	exit 0
fi
if [ "$HAVE_SYSTEMD" -eq 0 ] && [ "$DRY_RUN" -eq 0 ]; then
	say "8/8 systemd is not running here: not starting the service."
	say "    Start ftxd by hand, e.g. deploy/ftxd-nohup.sh start (see docs/DEPLOY.md)"
	exit 0
fi
[ "$HAVE_SYSTEMD" -eq 1 ] || say "(systemd is not running here; on a systemd machine this runs:)"
say "8/8 enable and (re)start ftxd"
root systemctl daemon-reload
root systemctl enable ftxd.service
# restart starts a stopped service and replaces a running one with the
# freshly installed binary: the upgrade in place.
root systemctl restart ftxd.service
if [ "$DRY_RUN" -eq 1 ]; then
	say "dry run done"
	exit 0
fi

# A daemon that fails at once (say, a bad line in the config) shows as
# active for a moment, then as failed or auto-restarting: wait until it
# has been active for two checks in a row.
up=0
i=0
while [ $i -lt 20 ] && [ $up -lt 2 ]; do
	sleep 0.5
	if systemctl is-active --quiet ftxd.service; then
		up=$((up + 1))
	else
		up=0
	fi
	i=$((i + 1))
done
if [ $up -ge 2 ]; then
	say "ftxd is running:"
	systemctl --no-pager --lines=5 status ftxd.service || true
	say "done.  Logs: journalctl -u ftxd, $LOG_DIR/.  Try: ftx --host 127.0.0.1 ls"
else
	systemctl --no-pager --lines=20 status ftxd.service >&2 || true
	die "ftxd did not start; see journalctl -u ftxd"
fi
