#!/bin/sh
# Run every cmocka unit test binary given, each with a time limit (a hung
# test fails instead of stalling CI); fail if any fails.
fail=0
for t in "$@"; do
	echo "== $t"
	timeout 120 "$t" || { echo "FAILED: $t (exit $?)"; fail=1; }
done
exit $fail
