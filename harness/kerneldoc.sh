#!/usr/bin/env bash
# scripts/kernel-doc -none -v (6.1's equivalent of -Wall) on the files the
# series touches: no warning may be new compared with the base.  The files
# carry some warnings of their own at the base; those are counted, not fixed.
. "$(dirname "$0")/lib.sh"
files=(kernel/dma/mapping.c kernel/dma/debug.c drivers/iommu/dma-iommu.c
       include/linux/dma-mapping.h include/linux/dma-map-ops.h)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# warnings without line numbers, so moved code compares equal
warnings() {
	(cd "$1" && "$TREE/scripts/kernel-doc" -none -v "${files[@]}" 2>&1) |
		grep -E ': (warning|error):' | sed -E 's/:[0-9]+: /: /' | sort
}
for f in "${files[@]}"; do
	mkdir -p "$tmp/base/$(dirname "$f")"
	tgit show "base:$f" > "$tmp/base/$f"
done
warnings "$tmp/base" > "$tmp/before"
warnings "$TREE" > "$tmp/after"
new=$(comm -13 "$tmp/before" "$tmp/after")
if [ -n "$new" ]; then
	echo "kernel-doc: FAIL new warnings:"
	echo "$new" | sed 's/^/    /'
	exit 1
fi
echo "kernel-doc: ok   no new warning in ${files[*]} ($(wc -l < "$tmp/before") at the base)"
