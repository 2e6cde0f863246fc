#!/usr/bin/env bash
# The hardened variant: build the KUnit kernel with sanitizers and fault
# injection (config/hardened.config), boot it once with the IOMMU on and an
# initramfs whose /init (hardened-init.sh) runs the fault phases, and judge
# the log (judge-hardened.py).  One 'NAME: ok|FAIL' line per check.
#   hardened.sh            build, boot and judge
#   NO_BUILD=1 hardened.sh boot and judge the kernel already built
. "$(dirname "$0")/lib.sh"

name=x86_64-hardened
out=$BUILD/out/$name
log=$LOGS/hardened.log
frags=("$TOP/config/x86_64-qemu.config" "$TREE/lib/tests/.kunitconfig"
       "$TOP/config/hardened.config")
if [ -z "${NO_BUILD:-}" ]; then
	if ! TARGETS="bzImage modules" "$TOP/harness/build.sh" "$name" "${frags[@]}" >&2; then
		echo "hardened-build: FAIL (log: $LOGS/build-$name.log)"
		exit 1
	fi
fi
echo "hardened-build: ok   KASAN, kmemleak, lockdep, DEBUG_VM, fault injection"
module=$out/lib/tests/dma_noncontig_faults_kunit.ko
"$TOP/harness/initramfs.sh" "$out/initramfs.cpio.gz" \
	"$TOP/harness/hardened-init.sh" "$module" >&2
stage boot "hardened kernel, IOMMU on, two NUMA nodes, KUnit suites then fault phases" >&2
# Two NUMA nodes of 512 MiB, one vCPU (socket) each: the node tests place a
# device on each node and check where its pages come from.
numa="-object memory-backend-ram,id=m0,size=512M -numa node,nodeid=0,memdev=m0"
numa+=" -object memory-backend-ram,id=m1,size=512M -numa node,nodeid=1,memdev=m1"
numa+=" -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1"
QEMU_SMP=2,sockets=2 QEMU_EXTRA=$numa QEMU_INITRD=$out/initramfs.cpio.gz QEMU_TIMEOUT=${QEMU_TIMEOUT:-2400} \
	"$TOP/harness/qemu.sh" "$out/arch/x86/boot/bzImage" on "$log" || true
stage judge "console log: $log" >&2
"$TOP/harness/judge-hardened.py" "$TREE" "$log"
