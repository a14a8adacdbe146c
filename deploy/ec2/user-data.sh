#!/bin/bash
# user-data.sh - EC2 first-boot script: install ftx and start ftxd.
#
# Paste this file into "Advanced details > User data" when launching an
# Ubuntu instance (or pass it with `aws ec2 run-instances --user-data
# file://deploy/ec2/user-data.sh`).  cloud-init runs it once, as root, on
# the first boot.  It clones the repository below, runs
# deploy/install.sh (build, tests, install, systemd unit) and logs
# everything to /var/log/ftx-install.log.  See deploy/ec2/README.md.

# ---- edit these ----------------------------------------------------------
# Where to get the source: any URL `git clone` accepts.
FTX_REPO_URL="https://github.com/YOUR-ACCOUNT/ftx.git"
# Branch or tag to install (empty: the repository's default branch).
FTX_REPO_REF=""
# Set to 1 to skip `make test` (faster first boot; the tests take a few
# minutes on a t2.micro).
FTX_SKIP_TESTS=0
# ---------------------------------------------------------------------------

FTX_SRC_DIR=/opt/ftx/src
LOG=/var/log/ftx-install.log

set -euo pipefail
# Everything from here on goes to the log (and the serial console, which
# you can read with "Actions > Monitor > Get system log").
exec > >(tee -a "$LOG") 2>&1
echo "==== ftx install started $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
trap 'echo "==== ftx install FAILED (exit $?) $(date -u +%FT%TZ); see $LOG"' ERR

# cloud-init runs us without a login environment.
export HOME=/root
export DEBIAN_FRONTEND=noninteractive

if [ "$FTX_REPO_URL" = "https://github.com/YOUR-ACCOUNT/ftx.git" ]; then
	echo "FTX_REPO_URL is still the placeholder: edit the top of user-data.sh" >&2
	exit 1
fi

apt-get update -q
apt-get install -y -q git ca-certificates

# A rerun (e.g. the script copied to the instance and run again by hand)
# updates the existing checkout instead of cloning a second one.
if [ -d "$FTX_SRC_DIR/.git" ]; then
	git -C "$FTX_SRC_DIR" fetch --depth 1 origin ${FTX_REPO_REF:+"$FTX_REPO_REF"}
	git -C "$FTX_SRC_DIR" reset --hard FETCH_HEAD
else
	mkdir -p "$(dirname "$FTX_SRC_DIR")"
	git clone --depth 1 ${FTX_REPO_REF:+--branch "$FTX_REPO_REF"} \
	    "$FTX_REPO_URL" "$FTX_SRC_DIR"
fi

cd "$FTX_SRC_DIR"
args=()
if [ "$FTX_SKIP_TESTS" = 1 ]; then
	args+=(--no-test)
fi
sh deploy/install.sh "${args[@]}"

echo "==== ftx install finished $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
systemctl --no-pager status ftxd.service || true
