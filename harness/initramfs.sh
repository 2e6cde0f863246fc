#!/usr/bin/env bash
# Build a small initramfs: Debian's static busybox, an /init script, and any
# extra files (kernel modules, test programs) at the root, and optionally a
# directory copied over the root as it is (programs with their libraries).
# INITRAMFS_BUSYBOX=0 leaves busybox out (an /init that needs nothing, for
# any architecture).
#   [INITRAMFS_ROOT=DIR] [INITRAMFS_BUSYBOX=0] initramfs.sh OUT.cpio.gz INIT [FILE...]
. "$(dirname "$0")/lib.sh"

out=$1 init=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
with=$(basename "$init")
if [ "${INITRAMFS_BUSYBOX:-1}" != 0 ]; then
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
		die "no static busybox; run 'make deps' (busybox-static)"
	cp /bin/busybox "$root/bin/busybox"
	with="busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null), $with"
fi
install -m 755 "$init" "$root/init"
for f in "$@"; do
	[ -f "$f" ] || die "initramfs: no file $f"
	cp "$f" "$root/"
done
[ -z "${INITRAMFS_ROOT:-}" ] || cp -a "$INITRAMFS_ROOT/." "$root/"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) |
	gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
stage initramfs "$(basename "$out"): $with, $# extra file(s)"
