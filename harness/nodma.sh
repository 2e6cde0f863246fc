#!/usr/bin/env bash
# The !CONFIG_HAS_DMA stubs in include/linux/dma-mapping.h: UML has no DMA,
# so compiling driver-core files that include the header for UML type-checks
# them.  Fails on a build error or any warning from the header.
. "$(dirname "$0")/lib.sh"
out=$BUILD/out/um-nodma
log=$LOGS/build-um-nodma.log
cc="gcc"
command -v ccache >/dev/null && cc="ccache gcc"
mkdir -p "$out"
# recorded like build.sh's folders (outcache.py), so that the bisect's
# dating of the tree knows what this one was built from
outcache_record "$out" gcc ld
make -C "$TREE" O="$out" ARCH=um CC="$cc" defconfig >"$log" 2>&1 &&
	grep -qx "CONFIG_NO_DMA=y" "$out/.config" || {
	echo "nodma: FAIL UML defconfig is not a !CONFIG_HAS_DMA config (log: $log)"
	exit 1
}
# force the compile so its warnings are in the log
rm -f "$out"/drivers/base/platform.o
if ! make -C "$TREE" O="$out" ARCH=um CC="$cc" -j"$(nproc)" \
	drivers/base/platform.o >>"$log" 2>&1; then
	echo "nodma: FAIL the UML build of drivers/base/ failed (log: $log)"
	exit 1
fi
if grep -q "include/linux/dma-mapping.h.*warning" "$log"; then
	echo "nodma: FAIL warnings from the !CONFIG_HAS_DMA stubs (log: $log)"
	exit 1
fi
outcache_keep "$out"
echo "nodma: ok   the !CONFIG_HAS_DMA stubs compile (UML, drivers/base/platform.c)"
