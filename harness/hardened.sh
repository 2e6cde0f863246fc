#!/usr/bin/env bash
# The hardened variant: build the KUnit kernel with sanitizers and fault
# injection (config/hardened.config), boot it once with the IOMMU on and an
# initramfs whose /init (hardened-init.sh) runs the fault phases, and judge
# the log (judge-hardened.py).  One 'NAME: ok|FAIL' line per check.
#   hardened.sh            build, boot and judge
#   NO_BUILD=1 hardened.sh boot and judge the kernel already built
#   BUILD_ONLY=1 hardened.sh build it, no boot (make check boots it beside
#                            other work)
. "$(dirname "$0")/lib.sh"

name=x86_64-hardened
out=$BUILD/out/$name
log=$LOGS/hardened.log
frags=("$TOP/config/x86_64-qemu.config" "$TOP/config/kunit-needs.config"
       "$TREE/lib/tests/.kunitconfig" "$TOP/config/hardened.config")
if [ -z "${NO_BUILD:-}" ]; then
	if ! TARGETS="bzImage modules" "$TOP/harness/build.sh" "$name" "${frags[@]}" >&2 ||
	   ! MODULES_ONLY=1 "$TOP/harness/build.sh" "$name" >&2; then
		echo "hardened-build: FAIL (log: $LOGS/build-$name.log, $LOGS/build-$name-modules.log)"
		exit 1
	fi
	echo "hardened-build: ok   KASAN, kmemleak, lockdep, DEBUG_VM, fault injection"
fi
[ -z "${BUILD_ONLY:-}" ] || exit 0
modules=("$out"/noncontig-modules/dma_noncontig_{invasive,cache,faults}_kunit.ko)
for module in "${modules[@]}"; do
	[ -f "$module" ] || { echo "hardened-build: FAIL no $(basename "$module") in $out/noncontig-modules"; exit 1; }
done
"$TOP/harness/initramfs.sh" "$out/initramfs.cpio.gz" \
	"$TOP/harness/guest/hardened-init.sh" "${modules[@]}" >&2
stage boot "hardened kernel, IOMMU on, three NUMA nodes and DIMMs, KUnit suites then fault phases" >&2
# Two NUMA nodes of 512 MiB, one vCPU (socket) each: the node tests place a
# device on each node and check where its pages come from.
numa="-object memory-backend-ram,id=m0,size=512M -numa node,nodeid=0,memdev=m0"
numa+=" -object memory-backend-ram,id=m1,size=512M -numa node,nodeid=1,memdev=m1"
numa+=" -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1"
# Three DIMMs of 128 MiB that the kernel adds and onlines into ZONE_NORMAL
# at boot; QEMU places them above 4 GiB one after the other, on node 2 (a
# node without CPUs and without memory at boot: QEMU describes only its
# last node's PXM for memory added later), node 1, node 2 again.  Node 1's
# NORMAL zone then ends where node 2's third DIMM starts, with free pages
# on both sides: the only such place in this QEMU machine
# (iommu_no_entry_crosses_a_zone).  The page allocator hands out the lowest
# pages of a zone first: RAM present at boot is used at the bottom of each
# zone (early allocations, interleaved over the nodes) and at the top of
# each node (its memmap), and a node coming up takes its first DIMM's
# lowest pages, so no other seam has free pages on both sides.  Node 1
# falls back to node 2 first: the page allocator prefers nodes without
# CPUs.
numa+=" -numa node,nodeid=2"
for dimm in 2a:2 1:1 2b:2; do
	numa+=" -object memory-backend-ram,id=d${dimm%:*},size=128M"
	numa+=" -device pc-dimm,memdev=d${dimm%:*},node=${dimm#*:}"
done
# slub_debug=a,iommu_iova marks the IOVA allocator's cache for failslab's
# cache filter (hardened-init.sh narrows failslab to it; 6.1 has no other
# way to mark a cache), and keeps it from being merged with another.
QEMU_MEM=1G,slots=3,maxmem=2G QEMU_SMP=2,sockets=2 QEMU_EXTRA=$numa QEMU_INITRD=$out/initramfs.cpio.gz QEMU_TIMEOUT=${QEMU_TIMEOUT:-2400} \
	"$TOP/harness/qemu.sh" "$out/arch/x86/boot/bzImage" on "$log" slub_debug=a,iommu_iova || true
stage judge "console log: $log" >&2
"$TOP/harness/judge-hardened.py" "$TREE" "$log"
