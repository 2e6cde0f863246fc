#!/usr/bin/env bash
# The main job: prepare the tree, build the patched kernel, boot it under
# QEMU with an Intel IOMMU and show the API working on the edu device.
. "$(dirname "$0")/lib.sh"

"$TOP/harness/deps.sh"
"$TOP/harness/tree.sh"
"$TOP/harness/apply.sh"
ok=0
"$TOP/harness/boot.sh" x86_64 on || ok=1
log=$LOGS/kunit-x86_64-on.log

echo
echo "== what the booted kernel shows (full console: $log) =="
grep -E "DMAR: (IOMMU enabled|Intel\(R\) Virtualization)|DMA-API: debugging enabled" "$log" |
	sed 's/^\[ *[0-9.]*\] /  /'
grep -E "dma-noncontig-test-edu|iommu: Adding device 0000:00:0[0-9].0 to group|pci 0000:00:0[0-9].0: \[1234:11e8\]" "$log" |
	sed 's/^\[ *[0-9.]*\] /  /' | head -3
grep -E "# (edu_round_trip|iommu_fragmented)[a-z_]*: " "$log" | grep -v ': pass:[0-9]' |
	sed -e 's/^\[ *[0-9.]*\] *# /  /'
grep -E "noncontig-kunit: dma-api errors" "$log" | sed 's/^noncontig-kunit: /  after the suites, /'
grep -E "^\[[ 0-9.]*\] *ok [0-9]+ dma_noncontig_" "$log" | sed 's/^\[ *[0-9.]*\] /  suite /'
exit $ok
