#!/usr/bin/env bash
# Side-by-side benchmark: ours against the implementation Linux 6.1 ships.
#   [BENCH_SECONDS=N] bench.sh [ROUNDS]   (defaults 1 s and 3 rounds;
#                                          'make bench [ROUNDS=N]')
# Builds the benchmark kernel twice with config/bench.config: build/linux
# (base + series) and build/upstream-tree (the unmodified Debian tree plus
# only the series' benchmark patch).  Then, ROUNDS times, boots both under
# the same QEMU setup with the IOMMU on and off, alternating, each timing
# dma_alloc/free_noncontiguous() through dma_map_benchmark bound to the edu
# device, and once more without the IOMMU for a caller that asks for
# __GFP_ZERO; ours also times the floor and the mapped floor.
# bench-report.py prints the table of medians and ratios and draws the
# plot of ratios (docs/bench.png).  Raw lines: build/bench/raw.txt.
. "$(dirname "$0")/lib.sh"

rounds=${1:-3}
seconds=${BENCH_SECONDS:-1}
"$TOP/harness/deps.sh"
"$TOP/harness/tree.sh"
"$TOP/harness/apply.sh"

patch=$(ls "$SERIES"/*-dma-mapping-benchmark-add-a-noncontiguous-*.patch 2>/dev/null | head -n 1)
[ -n "$patch" ] || die "no benchmark patch in $SERIES"
up=$BUILD/upstream-tree
tgit worktree prune
[ -d "$up" ] || tgit worktree add -q --detach "$up" pristine
git -C "$up" am --abort >/dev/null 2>&1 || true
git -C "$up" checkout -q --detach pristine
git -C "$up" am -q "$patch" ||
	die "$(basename "$patch") does not apply on the unmodified Debian tree"
stage bench "$(basename "$patch") applies on the unmodified Debian tree"

# every default on, as the README's figures were measured
export KCONFIG_BASE=olddefconfig
NONCONTIG_TREE=$up "$TOP/harness/build.sh" bench-upstream "$TOP/config/bench.config"
"$TOP/harness/build.sh" bench-ours "$TOP/config/bench.config"

out=$BUILD/bench
# The tool is the same on both trees: the patch brings it.
bench_tool "$out"
"$TOP/harness/initramfs.sh" "$out/initramfs.cpio.gz" "$TOP/harness/guest/bench-init.sh" \
	"$out/dma_map_benchmark"

# Upstream is asked for zeroed memory behind the IOMMU so that both do the
# same work; its direct path zeroes already.  CMA serves the fallback's
# buffers beyond MAX_ORDER.  The guest clock runs from the instruction count
# (QEMU -icount, which needs one vCPU here: APs do not come up under it), so
# the timings measure the guest's work and not the host's load; wall-clock
# TCG timings of the same runs moved by up to 30 % between rounds.
raw=$out/raw.txt
: > "$raw"
# boot KIND MODE ROW ROUND TAG SIZES [KERNEL ARGS...]
# ROW names the table's row: on, off, or zero (IOMMU off, both kinds asked
# for __GFP_ZERO, as a caller that wants zeroed memory would).
boot() {
	local kind=$1 mode=$2 row=$3 r=$4 tag=$5 sizes=$6 zero=0 floor=0 log
	shift 6
	[ "$kind" = upstream ] && [ "$mode" = on ] && zero=1
	[ "$row" = zero ] && zero=1
	[ "$kind" = ours ] && floor=1
	log=$LOGS/bench-$kind-$mode$tag-$r.log
	stage bench "round $r/$rounds: $kind, IOMMU $mode${tag:+ ($tag${*:+, $*})}"
	QEMU_INITRD=$out/initramfs.cpio.gz QEMU_TIMEOUT=600 \
		QEMU_SMP=1 QEMU_ICOUNT=2 \
		"$TOP/harness/qemu.sh" "$BUILD/out/bench-$kind/arch/x86/boot/bzImage" \
		"$mode" "$log" bench_kind="$kind" bench_zero=$zero \
		bench_floor=$floor bench_seconds="$seconds" bench_sizes="$sizes" "$@"
	grep -q "noncontig-bench: done" "$log" || die "benchmark boot did not finish; log: $log"
	grep "^noncontig-bench: " "$log" | grep -v done |
		sed "s/^noncontig-bench: /$r $row /" >> "$raw"
}

# Without the IOMMU, CMA would serve every size above a page once there is
# a CMA area, so only the sizes beyond MAX_ORDER boot with one.  The
# __GFP_ZERO caller's row stops at 4 MiB: CMA does not zero, so beyond it
# neither kind zeroes twice.
for r in $(seq 1 "$rounds"); do
	for kind in upstream ours; do
		boot "$kind" on on "$r" "" 4,64,1024,4096,16384,65536
		boot "$kind" off off "$r" "" 4,64,1024,4096
		boot "$kind" off off "$r" -cma 16384,65536 cma=256M
		boot "$kind" off zero "$r" -zero 4,64,1024,4096
	done
done
"$TOP/harness/bench-report.py" "$raw" "$TOP" "$rounds" "$seconds"
