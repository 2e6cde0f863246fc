#!/usr/bin/env bash
# The initramfs of the KUnit boots: one static /init (kunit-init.c, built
# with the tree's nolibc for the target architecture, so no C library or
# busybox of that architecture is needed) that prints DMA-API debug's error
# count after the built-in suites and powers off; and the mmap test module
# when the kernel was built with it, for /init to load and map.
#   [ARCH=x86_64|arm64] kunit-initramfs.sh OUT.cpio.gz
. "$(dirname "$0")/lib.sh"

out=$1
arch=${ARCH:-x86_64} cross=
[ "$arch" = arm64 ] && cross=aarch64-linux-gnu-
# the kernel's UAPI headers for that architecture, installed once
hdr=$BUILD/out/headers-$arch
if [ ! -f "$hdr/include/asm/unistd.h" ]; then
	logged "$LOGS/headers-$arch.log" make -C "$TREE" O="$BUILD/out/headers-$arch.obj" \
		ARCH="$arch" headers_install INSTALL_HDR_PATH="$hdr"
fi
init=$(dirname "$out")/kunit-init
"${cross}gcc" -Os -static -nostdlib -fno-stack-protector -fno-asynchronous-unwind-tables \
	-Wall -Wextra -Werror -I "$TREE/tools/include/nolibc" -I "$hdr/include" \
	-o "$init" "$TOP/harness/kunit-init.c" -lgcc ||
	die "kunit-init.c does not build for $arch"
# the mmap test module, when the kernel next to OUT has it (kunit-init.c
# loads it from the initramfs's root)
extra=()
ko=$(dirname "$out")/lib/tests/dma_noncontig_mmap_test.ko
[ -f "$ko" ] && extra+=("$ko")
INITRAMFS_BUSYBOX=0 "$TOP/harness/initramfs.sh" "$out" "$init" "${extra[@]}" >&2
