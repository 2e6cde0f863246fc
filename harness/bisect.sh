#!/usr/bin/env bash
# Build the base and every patch of the series on its own, on x86_64 and on
# arm64, with the KUnit kernels' fragments at that commit (kunit_frags in
# lib.sh: the minimal QEMU configs, config/bisect.config, the fault module
# and the tree's .kunitconfig once a patch adds them), images and modules.
# One line per commit and architecture ('bisect: ok|FAIL ARCH: SUBJECT');
# exits non-zero if any build fails.
# The builds go to the KUnit kernels' folders (build/out/ARCH-kunit): the
# last commit's config is the KUnit kernel's, so the KUnit runs after a
# bisect rebuild nothing, and a bisect after a KUnit run starts from a
# built tree instead of a cold one.
. "$(dirname "$0")/lib.sh"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them before 'make bisect'"
head=$(tgit symbolic-ref -q --short HEAD || tgit rev-parse HEAD)
trap 'tgit checkout -q "$head"' EXIT
status=0
n=0
for c in base $(tgit rev-list --reverse base..series); do
	subject=$(tgit log -1 --format=%s "$c")
	tgit checkout -q --detach "$c"
	for arch in x86_64 arm64; do
		log=$LOGS/bisect-$arch-$n.log
		mapfile -t frags < <(kunit_frags "$arch")
		image=bzImage
		[ "$arch" = arm64 ] && image=Image
		# modules too: the fault test module is one from patch 10 on
		if ARCH=$arch TARGETS="$image modules" "$TOP/harness/build.sh" "$arch-kunit" \
			"${frags[@]}" >"$log" 2>&1; then
			echo "bisect: ok   $arch: $subject"
		else
			cp "$LOGS/build-$arch-kunit.log" "$log.build" 2>/dev/null || true
			echo "bisect: FAIL $arch: $subject (logs: $log*)"
			status=1
		fi
	done
	n=$((n + 1))
done
exit $status
