#!/usr/bin/env bash
# The longest interrupts-off section while noncontiguous buffers of
# IRQSOFF_KIB KiB (default 65536) are allocated and freed behind the
# Intel IOMMU, measured by the irqsoff tracer: ours with a flush queue
# (lazy mode, the default), ours in strict mode, and the previous version
# of the series (SERIES_PREV) in lazy mode.  The kernels are the benchmark
# kernel's config plus config/irqsoff.config, in build/out/irqsoff-ours
# and build/out/irqsoff-prev; the clock runs from the instruction count
# (QEMU -icount shift 2: 4 ns of guest time per instruction), so a figure
# in microseconds is a count of guest instructions, 250 per microsecond.
#   [IRQSOFF_KIB=N] irqsoff.sh        ('make irqsoff')
. "$(dirname "$0")/lib.sh"

kib=${IRQSOFF_KIB:-65536}
"$TOP/harness/deps.sh"
"$TOP/harness/tree.sh"
"$TOP/harness/apply.sh"
prev_series || die "no previous version of the series to compare with"
prev=$BUILD/prev-tree
tgit worktree prune
[ -d "$prev" ] || tgit worktree add -q --detach "$prev" "$PREV_REF"
git -C "$prev" checkout -q --detach "$PREV_REF"
stage irqsoff "previous version: $(git -C "$prev" log -1 --format=%s)"

export KCONFIG_BASE=olddefconfig
"$TOP/harness/build.sh" irqsoff-ours "$TOP/config/bench.config" "$TOP/config/irqsoff.config"
NONCONTIG_TREE=$prev "$TOP/harness/build.sh" irqsoff-prev "$TOP/config/bench.config" \
	"$TOP/config/irqsoff.config"

out=$BUILD/irqsoff
for kind in ours prev; do
	mkdir -p "$out/$kind"
	tree=$TREE
	[ "$kind" = prev ] && tree=$prev
	TREE=$tree bench_tool "$out/$kind"
	"$TOP/harness/initramfs.sh" "$out/$kind/initramfs.cpio.gz" \
		"$TOP/harness/guest/irqsoff-init.sh" "$out/$kind/dma_map_benchmark"
done

# boot KIND LABEL [KERNEL ARGS...]
boot() {
	local kind=$1 label=$2 log
	shift 2
	log=$LOGS/irqsoff-$label.log
	stage irqsoff "$label: booting"
	QEMU_INITRD=$out/$kind/initramfs.cpio.gz QEMU_TIMEOUT=900 QEMU_SMP=1 QEMU_ICOUNT=2 \
		"$TOP/harness/qemu.sh" "$BUILD/out/irqsoff-$kind/arch/x86/boot/bzImage" \
		on "$log" irqsoff_kib="$kib" "$@"
	grep -q "noncontig-irqsoff: done" "$log" || die "irqsoff boot did not finish; log: $log"
	grep "^noncontig-irqsoff: " "$log" | grep -v done | sed "s/^noncontig-irqsoff: /$label: /"
}
boot ours ours-lazy iommu.strict=0
boot ours ours-strict iommu.strict=1
boot prev prev-lazy iommu.strict=0
