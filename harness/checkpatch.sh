#!/usr/bin/env bash
# scripts/checkpatch.pl --strict on every patch of the series.
# Prints one line per patch ('checkpatch: ok|FAIL NAME') and exits non-zero
# if any patch has an error, warning or check.
. "$(dirname "$0")/lib.sh"
status=0
# spdxcheck.py needs Debian's python3 (with python3-ply and python3-git)
export PATH=/usr/bin:$PATH
for p in $(patch_list); do
	# its exit status counts as much as its output
	out=$(cd "$TREE" && scripts/checkpatch.pl --strict --quiet --showfile "$SERIES/$p" 2>&1) && rc=0 || rc=$?
	if [ -z "$out" ] && [ $rc = 0 ]; then
		echo "checkpatch: ok   $p"
	else
		echo "checkpatch: FAIL $p (exit $rc)"
		echo "$out" | sed 's/^/    /'
		status=1
	fi
done
exit $status
