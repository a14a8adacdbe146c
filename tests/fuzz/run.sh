#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets and run each one for
# FUZZ_SECONDS seconds (`make fuzz`; see tests/fuzz/README.md).
#
#   FUZZ_SECONDS  seconds per target (default 60); the targets run one
#                 after the other, so the whole run takes three times that
#   FUZZ_CC       a clang with libFuzzer (default clang)
#   BUILD         build directory; everything goes to $BUILD/fuzz
#
# Each target fuzzes a copy of its seed corpus in $BUILD/fuzz/corpus-<t>
# (the seeds in tests/fuzz/corpus are never written to).  Exit status 0
# if no target found anything, 1 if one crashed, hung or broke an
# invariant (the reproducer's path is printed), 2 if the fuzzers could
# not be built.
set -u

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_CC=${FUZZ_CC:-clang}
BUILD=${BUILD:-build}
TARGETS="proto chat path"

cd "$(dirname "$0")/../.." || exit 2
out=$BUILD/fuzz

die() {
	echo "fuzz: $*" >&2
	exit 2
}

# The shared/ sources each target links (no libraries are needed).
sources() {
	case $1 in
	proto) echo shared/proto.c shared/utf8.c shared/str.c ;;
	chat) echo shared/chat.c shared/utf8.c shared/str.c ;;
	path) echo shared/path.c shared/proto.c shared/utf8.c shared/str.c ;;
	*) die "unknown target $1" ;;
	esac
}

case $FUZZ_SECONDS in
'' | *[!0-9]* | 0) die "FUZZ_SECONDS must be a positive number of seconds, not '$FUZZ_SECONDS'" ;;
esac
command -v "$FUZZ_CC" >/dev/null 2>&1 ||
	die "$FUZZ_CC not found: make fuzz needs clang with libFuzzer (Debian/Ubuntu: apt-get install clang), or FUZZ_CC=<a clang>"
mkdir -p "$out" || die "cannot create $out"

# libFuzzer ships with clang's runtime, which some packagings split off:
# try it on an empty target first, so its absence gets a clear message.
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$out/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined "$out/probe.c" \
	-o "$out/probe" >"$out/probe.log" 2>&1; then
	cat "$out/probe.log" >&2
	die "$FUZZ_CC cannot build libFuzzer targets (-fsanitize=fuzzer): install clang's compiler runtime (Debian/Ubuntu: apt-get install clang; on newer releases also libclang-rt-dev)"
fi

# -fno-sanitize-recover: an UBSan report must stop the run like a crash,
# not scroll past.
CFLAGS="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=c11 -D_GNU_SOURCE -iquote shared -g -O1 \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2"
for t in $TARGETS; do
	echo "fuzz: building $out/fuzz_$t"
	# shellcheck disable=SC2046,SC2086
	"$FUZZ_CC" $CFLAGS "tests/fuzz/fuzz_$t.c" $(sources "$t") \
		-o "$out/fuzz_$t" || die "building fuzz_$t failed"
done

# A fuzzer that hangs instead of finishing must not stall CI.
guard=
if command -v timeout >/dev/null 2>&1; then
	guard="timeout -k 10 $((FUZZ_SECONDS + 120))"
fi

status=0
for t in $TARGETS; do
	bin=$out/fuzz_$t
	work=$out/corpus-$t
	art=$out/artifacts-$t
	log=$out/fuzz_$t.log
	rm -rf "$work" "$art"
	mkdir -p "$work" "$art" || die "cannot create $work"
	cp tests/fuzz/corpus/"$t"/* "$work"/ || die "cannot copy the $t seeds"
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict=-dict=tests/fuzz/$t.dict
	echo "fuzz: running fuzz_$t for $FUZZ_SECONDS s ($(find "$work" -type f | wc -l) seeds; log $log)"
	# shellcheck disable=SC2086
	$guard "$bin" -max_len=8192 -max_total_time="$FUZZ_SECONDS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-error_exitcode=77 -timeout_exitcode=78 \
		-artifact_prefix="$art/" $dict "$work" >"$log" 2>&1
	rc=$?

	# The summary: runs, speed, and coverage (edges and features) at the
	# end, from libFuzzer's own last status line and final statistics.
	last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	cov=$(printf '%s\n' "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+')
	echo "fuzz_$t: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-no coverage line}, peak ${rss:-?} MB"

	if [ "$rc" -ne 0 ]; then
		status=1
		echo "fuzz_$t: FAILED (exit $rc)" >&2
		# The report: from the first sanitizer/invariant line on.
		awk '/invariant violated|ERROR: |runtime error|deadly signal|==[0-9]+==/ { on = 1 }
		     on && n < 80 { print; n++ }' "$log" >&2
		found=0
		for a in "$art"/*; do
			[ -f "$a" ] || continue
			found=1
			echo "fuzz_$t: reproducer: $a" >&2
			echo "fuzz_$t: reproduce with: $bin $a" >&2
		done
		[ "$found" = 1 ] || echo "fuzz_$t: no reproducer written; see $log" >&2
	fi
done
exit $status
