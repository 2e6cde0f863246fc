#!/usr/bin/env bash
# Build the base and every patch of the series on its own (x86_64, the
# minimal test config), in build/out/x86_64-bisect.  One line per commit
# ('bisect: ok|FAIL SUBJECT'); exits non-zero if any build fails.
. "$(dirname "$0")/lib.sh"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them before 'make bisect'"
head=$(tgit symbolic-ref -q --short HEAD || tgit rev-parse HEAD)
trap 'tgit checkout -q "$head"' EXIT
status=0
n=0
for c in base $(tgit rev-list --reverse base..series); do
	subject=$(tgit log -1 --format=%s "$c")
	log=$LOGS/bisect-$n.log
	tgit checkout -q --detach "$c"
	if "$TOP/harness/build.sh" x86_64-bisect >"$log" 2>&1; then
		echo "bisect: ok   $subject"
	else
		cp "$LOGS/build-x86_64-bisect.log" "$log.build" 2>/dev/null || true
		echo "bisect: FAIL $subject (logs: $log*)"
		status=1
	fi
	n=$((n + 1))
done
exit $status
