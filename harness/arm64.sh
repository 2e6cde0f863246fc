#!/usr/bin/env bash
# The KUnit suite on arm64: cross-build (aarch64-linux-gnu-) the KUnit
# kernel (kunit_frags in lib.sh: config/arm64-qemu.config, bisect.config,
# the tree's .kunitconfig), boot it
# under qemu-system-aarch64 -machine virt with an SMMUv3 (IOMMU on) and
# without (off), both with the edu device, and judge each log like the
# x86_64 runs (judge-log.py).  One 'kunit-arm64-MODE: ...' line per run.
#   arm64.sh [on] [off]          (default: both)
#   NO_BUILD=1 arm64.sh ...      boot the kernel already built
. "$(dirname "$0")/lib.sh"

name=arm64-kunit
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(on off)
if [ -z "${NO_BUILD:-}" ]; then
	if ! ARCH=arm64 "$TOP/harness/build.sh" "$name" >&2; then
		echo "kunit-arm64: FAIL build (log: $LOGS/build-$name.log)"
		exit 1
	fi
fi
initrd=$BUILD/out/$name/kunit-init.cpio.gz
ARCH=arm64 "$TOP/harness/kunit-initramfs.sh" "$initrd"
status=0
for mode in "${modes[@]}"; do
	log=$LOGS/kunit-arm64-$mode.log
	stage boot "arm64, IOMMU $mode: booting the KUnit kernel under QEMU" >&2
	QEMU_ARCH=arm64 QEMU_INITRD=$initrd "$TOP/harness/qemu.sh" "$BUILD/out/$name/arch/arm64/boot/Image" \
		"$mode" "$log" || true
	"$TOP/harness/judge-log.py" "$TREE" "$log" "arm64-$mode" || status=1
done
exit $status
