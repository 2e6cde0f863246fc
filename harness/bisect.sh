#!/usr/bin/env bash
# Build the base and every patch of the series on its own, on x86_64 and on
# arm64, with the KUnit kernels' fragments at that commit (kunit_frags in
# lib.sh: the minimal QEMU configs, config/bisect.config and the tree's
# .kunitconfig once a patch adds it), images and modules.
# One line per commit and architecture ('bisect: ok|FAIL ARCH: SUBJECT');
# exits non-zero if any build fails.
# The builds from the first commit that changes a header under include/
# on go to the KUnit kernels' folders (build/out/ARCH-kunit): the last
# commit's config is the KUnit kernel's, so the KUnit runs after a bisect
# rebuild little, and a bisect after a KUnit run starts from a built tree.
# The base and the commits before that one read the base's headers and
# configs (no callers, no KUnit suites yet) and go to folders of their own
# (build/out/ARCH-bisect), kept between runs like the others: in the KUnit
# kernels' folders, going back to the base and forward again rebuilt most
# of both kernels twice a run.  Git dates every file a checkout rewrites
# now, which would rebuild all that includes a header in every folder, so
# before each commit's builds 'outcache.py redate' dates the files the
# series touches for the folders being built (old if as they were built),
# and at the end for every other folder again.
. "$(dirname "$0")/lib.sh"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them before 'make bisect'"
head=$(tgit symbolic-ref -q --short HEAD || tgit rev-parse HEAD)
trap 'tgit checkout -q "$head"; python3 "$TOP/harness/outcache.py" redate --others >>"$LOGS/bisect-dates.log"' EXIT
status=0
n=0
# REACH_ONLY=1 skips the builds and only boots (below).
commits=()
[ -n "${REACH_ONLY:-}" ] || mapfile -t commits < <(echo base; tgit rev-list --reverse base..series)
# build_at ARCH FOLDER LOG: the KUnit kernel of ARCH at the commit checked
# out, in build/out/ARCH-FOLDER
build_at() {
	local arch=$1 folder=$2 log=$3 frags
	mapfile -t frags < <(kunit_frags "$arch")
	load_platform "$arch"
	# modules too: the harness's modules build against the last one
	NONCONTIG_OWN_DATES=$([ "$folder" = kunit ] || echo 1) PLATFORM=$arch \
		TARGETS="${P_image##*/} modules" "$TOP/harness/build.sh" "$arch-$folder" \
		"${frags[@]}" >"$log" 2>&1
}
# (no pipe into head: rev-list killed by its SIGPIPE fails the assignment)
first_header=$(tgit rev-list --reverse base..series -- include/)
first_header=${first_header%%$'\n'*}
folder=bisect
[ -n "$first_header" ] || folder=kunit
rm -f "$LOGS/bisect-dates.log"

# Building is not enough: at the commit that first makes dma-iommu's
# methods reachable, boot the suites that drive that path on arm64 (SMMUv3),
# where a wrong cache maintenance faults: the edu round trip and the cache
# suite (the harness's cache module, which the boot's /init loads without
# the invasive one), whose untrusted non-coherent edu is the case a sync
# through an entry's missing DMA address gets wrong.  The test patches are
# picked onto that commit (the suites later patches add are filtered out;
# they test what the commit does not have yet).  The kernel is built in the arm64
# KUnit kernel's folder right after that commit's own build there, so that
# only the picked tests recompile (a folder of its own compiled a whole
# kernel more on a cold cache), and the walk then goes on from it: the
# folder ends at the tip, as the KUnit stage and the other folders' dating
# want it.
reach=
for c in $(tgit rev-list --reverse base..series); do
	if tgit grep -q '\.alloc_noncontiguous' "$c" -- drivers/iommu/dma-iommu.c; then
		reach=$c
		break
	fi
done
reach_boot() {
	local subject log picked t frags kernel result
	subject=$(tgit log -1 --format=%s "$reach")
	log=$LOGS/bisect-arm64-reach.log
	rm -f "$log.pick"
	tgit checkout -q --detach "$reach"
	picked=ok
	for t in $(tgit rev-list --reverse "$reach..series" -- lib/tests/); do
		tgit cherry-pick --allow-empty "$t" >>"$log.pick" 2>&1 || { picked=; tgit cherry-pick --abort 2>/dev/null; break; }
	done
	mapfile -t frags < <(kunit_frags arm64)
	kernel=$BUILD/out/arm64-kunit/arch/arm64/boot/Image
	if [ -z "$picked" ]; then
		echo "bisect: FAIL arm64 boot: the test patches do not apply on '$subject' (log: $log.pick)"
		status=1
	elif ! python3 "$TOP/harness/outcache.py" redate arm64-kunit >>"$LOGS/bisect-dates.log" ||
		! PLATFORM=arm64 "$TOP/harness/build.sh" arm64-kunit "${frags[@]}" >"$log.build" 2>&1; then
		echo "bisect: FAIL arm64 boot: build at '$subject' (log: $log.build, $LOGS/build-arm64-kunit.log)"
		status=1
	else
		PLATFORM=arm64 NO_INVASIVE=1 "$TOP/harness/kunit-initramfs.sh" "$BUILD/out/arm64-kunit/reach-init.cpio.gz" >>"$log.build" 2>&1
		result="QEMU failed"
		if PLATFORM=arm64 QEMU_INITRD=$BUILD/out/arm64-kunit/reach-init.cpio.gz \
			"$TOP/harness/qemu.sh" "$kernel" on "$log" 'kunit.filter_glob=dma_noncontig_[ce]*' &&
			result=$("$TOP/harness/judge-log.py" "$TREE" "$log" arm64-reach); then
			echo "bisect: ok   arm64 boot at '$subject': $result"
		else
			echo "bisect: FAIL arm64 boot at '$subject' (log: $log): $result"
			status=1
		fi
	fi
}
if [ -z "$reach" ]; then
	echo "bisect: FAIL arm64 boot: no commit makes dma-iommu's noncontiguous methods reachable"
	exit 1
fi
booted=

# Each commit's two builds run at once, in folders of their own from the
# same checkout: a build after a one-patch step spends most of its time in
# serial steps (the vmlinux links, kallsyms, modpost, the image), which
# leave the second core idle when the builds take turns.
arches=(x86_64 arm64)
for c in "${commits[@]}"; do
	subject=$(tgit log -1 --format=%s "$c")
	# what no build reads (a documentation patch, MAINTAINERS): the parent's
	# build already built every input of this commit; said as a skip
	if [ "$c" != base ] && no_build_input "$TREE" "$c"; then
		for arch in "${arches[@]}"; do
			echo "bisect: skip $arch: $subject (changes only $(tgit diff --name-only "$c^" "$c" | paste -sd' '), which no build reads)"
		done
		n=$((n + 1))
		continue
	fi
	[ "$c" != "$first_header" ] || folder=kunit
	tgit checkout -q --detach "$c"
	python3 "$TOP/harness/outcache.py" redate "${arches[@]/%/-$folder}" >>"$LOGS/bisect-dates.log"
	pids=()
	for arch in "${arches[@]}"; do
		build_at "$arch" "$folder" "$LOGS/bisect-$arch-$n.log" &
		pids+=($!)
	done
	for i in "${!arches[@]}"; do
		arch=${arches[i]} log=$LOGS/bisect-${arches[i]}-$n.log
		if wait "${pids[i]}"; then
			echo "bisect: ok   $arch: $subject"
		else
			cp "$LOGS/build-$arch-$folder.log" "$log.build" 2>/dev/null || true
			echo "bisect: FAIL $arch: $subject (logs: $log*)"
			status=1
		fi
	done
	n=$((n + 1))
	if [ "$c" = "$reach" ] && [ "$folder" = kunit ]; then
		reach_boot
		booted=1
	fi
done
# REACH_ONLY, or the reach commit built in the bisect's own folders
[ -n "$booted" ] || reach_boot
exit $status
