#!/bin/sh
# Run every cmocka unit test binary given; fail if any fails.
fail=0
for t in "$@"; do
	echo "== $t"
	"$t" || fail=1
done
exit $fail
