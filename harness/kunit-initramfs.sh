#!/usr/bin/env bash
# The initramfs of the KUnit boots: one static /init (kunit-init.c, built
# with the tree's nolibc for the target architecture, so no C library or
# busybox of that architecture is needed) that prints DMA-API debug's error
# count after the built-in suites and powers off; and the harness's test
# modules when the kernel can load them, for /init to load.
#   [PLATFORM=x86_64|arm64|i386|...] [NO_INVASIVE=1] kunit-initramfs.sh OUT.cpio.gz
. "$(dirname "$0")/lib.sh"

out=$1
load_platform "${PLATFORM:-x86_64}"
arch=$P_arch cross=$P_cross
# the kernel's UAPI headers for that architecture, installed once
hdr=$BUILD/out/headers-$arch
if [ ! -f "$hdr/include/asm/unistd.h" ]; then
	logged "$LOGS/headers-$arch.log" make -C "$TREE" O="$BUILD/out/headers-$arch.obj" \
		ARCH="$arch" headers_install INSTALL_HDR_PATH="$hdr"
fi
init=$(dirname "$out")/kunit-init
if [ -z "$P_libc" ]; then
	# 6.1's nolibc types size_t as unsigned long everywhere, where 32-bit x86's
	# compiler has unsigned int: its declarations of memcpy() and the like do
	# not match the compiler's built-ins there (harmless: same size).
	"${cross}gcc" -Os -static -nostdlib -fno-stack-protector -fno-asynchronous-unwind-tables \
		-Wall -Wextra -Werror -Wno-builtin-declaration-mismatch -I "$TREE/tools/include/nolibc" \
		-I "$hdr/include" -o "$init" "$TOP/harness/guest/kunit-init.c" -lgcc ||
		die "kunit-init.c does not build for $arch"
else
	# an architecture 6.1's nolibc does not have: the platform's static C
	# library (P_libc, a Debian package) and the headers that come with it
	"${cross}gcc" -Os -static -DNONCONTIG_LIBC -Wall -Wextra -Werror -o "$init" \
		"$TOP/harness/guest/kunit-init.c" ||
		die "kunit-init.c does not build for $arch against its C library ($P_libc)"
fi
# the mmap test, cache test and (unless NO_INVASIVE is set) invasive test
# modules (harness/modules/; kunit-init.c loads them from the initramfs's
# root), built against the kernel next to OUT when that kernel
# loads modules and its tree has the API
extra=()
kdir=$(dirname "$out")
if grep -qx 'CONFIG_MODULES=y' "$kdir/.config" 2>/dev/null &&
	grep -q 'dma_mmap_noncontiguous(' "$TREE/include/linux/dma-mapping.h"; then
	MODULES_ONLY=1 PLATFORM=${PLATFORM:-x86_64} "$TOP/harness/build.sh" "$(basename "$kdir")" >&2
	extra+=("$kdir"/noncontig-modules/dma_noncontig_{mmap_test,cache_kunit}.ko)
	[ -n "${NO_INVASIVE:-}" ] || extra+=("$kdir/noncontig-modules/dma_noncontig_invasive_kunit.ko")
fi
INITRAMFS_BUSYBOX=0 "$TOP/harness/initramfs.sh" "$out" "$init" "${extra[@]}" >&2
