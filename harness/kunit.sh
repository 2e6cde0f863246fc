#!/usr/bin/env bash
# Boot the KUnit kernel with the IOMMU on and off and judge each run:
# KUnit results, expected warnings, no unexpected warning or DMA-API error.
# The initramfs's /init (kunit-init.c) prints DMA-API debug's error count
# after the suites and powers off.
#   kunit.sh [on] [off]      (default: both)
# Prints one 'kunit-<mode>: ...' result line per run and exits non-zero if any
# run failed.  Console logs stay in build/logs/kunit-<mode>.log.
. "$(dirname "$0")/lib.sh"

kernel=$BUILD/out/x86_64-kunit/arch/x86/boot/bzImage
initrd=$BUILD/out/x86_64-kunit/kunit-init.cpio.gz
ARCH=x86_64 "$TOP/harness/kunit-initramfs.sh" "$initrd"
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(on off)
status=0
for mode in "${modes[@]}"; do
	log=$LOGS/kunit-iommu-$mode.log
	stage boot "IOMMU $mode: booting the KUnit kernel under QEMU"
	QEMU_INITRD=$initrd "$TOP/harness/qemu.sh" "$kernel" "$mode" "$log"
	if ! "$TOP/harness/judge-log.py" "$TREE" "$log" "iommu-$mode"; then
		status=1
	fi
done
exit $status
