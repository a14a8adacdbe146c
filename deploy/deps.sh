#!/bin/sh
# deps.sh - make sure ftx's build dependencies are present.
#
#	sh deploy/deps.sh [cluster]
#
# Checks for a C compiler, make, python3 (tests), pkg-config, OpenSSL 3
# (libssl-dev), hiredis (libhiredis-dev: ftxd's chat bus), libcurl
# (libcurl4-openssl-dev: ftxd's S3 store) and cmocka (libcmocka-dev);
# with "cluster" (make deps-cluster) also for what the cluster suites run
# (haproxy for t_balancer, redis-server and redis-cli for t_chatbus, all
# of those and a throwaway Ceph -- radosgw, ceph-mon, ceph-osd,
# ceph-common -- and curl for t_cluster), which otherwise skip.  Missing
# packages are installed
# with apt-get when we are root or have sudo; otherwise the exact command
# is printed.
set -u

missing=""
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
# The test suites build large trees and parse JSON with it.
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if ! command -v pkg-config >/dev/null 2>&1; then
	missing="$missing pkg-config libssl-dev libcmocka-dev libhiredis-dev libcurl4-openssl-dev"
else
	pkg-config --atleast-version=3.0 libcrypto 2>/dev/null || missing="$missing libssl-dev"
	pkg-config --exists cmocka 2>/dev/null || missing="$missing libcmocka-dev"
	pkg-config --exists hiredis 2>/dev/null || missing="$missing libhiredis-dev"
	pkg-config --exists libcurl 2>/dev/null || missing="$missing libcurl4-openssl-dev"
fi
if [ "${1:-}" = cluster ]; then
	command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
	command -v redis-cli >/dev/null 2>&1 || missing="$missing redis-tools"
fi
if [ "${1:-}" = cluster ]; then
	# Debian puts it in /usr/sbin, which a user's PATH may lack.
	command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] ||
		missing="$missing haproxy"
	# t_cluster's object store: a single-node Ceph with radosgw
	# (tests/cluster/rgw.sh), and curl to look into the bucket.
	for b in radosgw:radosgw ceph-mon:ceph-mon ceph-osd:ceph-osd \
		ceph:ceph-common curl:curl; do
		command -v "${b%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${b%%:*}" ] ||
			missing="$missing ${b#*:}"
	done
fi
[ -z "$missing" ] && exit 0

echo "deps: missing build dependencies:$missing" >&2
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: no apt-get here; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	echo "deps: run this as root, then retry:" >&2
	echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null || exit 1
echo "deps: installed$missing" >&2
