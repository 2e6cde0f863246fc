#!/usr/bin/env bash
# scripts/kernel-doc -none -Wall on the files the series touches.
. "$(dirname "$0")/lib.sh"
files=(kernel/dma/mapping.c kernel/dma/debug.c drivers/iommu/dma-iommu.c
       include/linux/dma-mapping.h include/linux/dma-map-ops.h)
out=$(cd "$TREE" && scripts/kernel-doc -none -Wall "${files[@]}" 2>&1)
if [ -n "$out" ]; then
	echo "kernel-doc: FAIL"
	echo "$out" | sed 's/^/    /'
	exit 1
fi
echo "kernel-doc: ok   ${files[*]}"
