#!/usr/bin/env bash
# Build a small initramfs: Debian's static busybox, an /init script, and any
# extra files (kernel modules, test programs) at the root, and optionally a
# directory copied over the root as it is (programs with their libraries).
#   [INITRAMFS_ROOT=DIR] initramfs.sh OUT.cpio.gz INIT [FILE...]
. "$(dirname "$0")/lib.sh"

out=$1 init=$2
shift 2
busybox=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
	die "no static busybox; run 'make deps' (busybox-static)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$init" "$root/init"
for f in "$@"; do
	[ -f "$f" ] || die "initramfs: no file $f"
	cp "$f" "$root/"
done
[ -z "${INITRAMFS_ROOT:-}" ] || cp -a "$INITRAMFS_ROOT/." "$root/"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) |
	gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
stage initramfs "$(basename "$out"): busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null), $(basename "$init"), $# extra file(s)"
