#!/usr/bin/env bash
# Where a 4 KiB buffer's time goes behind the IOMMU, ours against the
# mapped floor: the benchmark's QEMU setup (-icount, one vCPU,
# intel-iommu, edu), a kernel of config/bench.config from allnoconfig with
# the function_graph tracer (config/bench-profile.config), and
# bench-profile-init.sh as /init.  Prints each traced function's self time
# (bench-profile.py).  Not part of 'make check'; 'make bench-profile'.
. "$(dirname "$0")/lib.sh"
"$TOP/harness/deps.sh"
"$TOP/harness/tree.sh"
"$TOP/harness/apply.sh"
"$TOP/harness/build.sh" bench-profile "$TOP/config/bench.config" "$TOP/config/bench-profile.config"
out=$BUILD/out/bench-profile
bench_tool "$out"
"$TOP/harness/initramfs.sh" "$out/profile-init.cpio.gz" "$TOP/harness/guest/bench-profile-init.sh" \
	"$out/dma_map_benchmark"
log=$LOGS/bench-profile.log
QEMU_INITRD=$out/profile-init.cpio.gz QEMU_TIMEOUT=600 QEMU_SMP=1 QEMU_ICOUNT=2 \
	"$TOP/harness/qemu.sh" "$out/arch/x86/boot/bzImage" on "$log"
grep -q "PROF-END mapped" "$log" || die "the profile boot did not finish; log: $log"
python3 "$TOP/harness/bench-profile.py" "$log"
