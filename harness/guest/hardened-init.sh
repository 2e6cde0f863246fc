#!/bin/busybox sh
# /init of the hardened boot (see hardened.sh).  The built-in KUnit suites
# have run by now under the sanitizers; this script loads the invasive and
# cache test modules (their suites run under them too), reads what DMA-API debug and
# kmemleak found, then loads the fault test module once per fault point
# with that point armed, and powers off.  Every line the judge reads starts
# with "noncontig-hardened:".
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
D=/sys/kernel/debug
TIMES=1000000

say() { echo "noncontig-hardened: $*"; }

# kmemleak reports objects it saw unreferenced in two scans over 5 s old;
# the reports go to the console, their count to the judge.
# A kmemleak that disabled itself refuses the scan: say so, never a count.
leaks() {
	if ! echo scan > $D/kmemleak; then
		say "kmemleak $1: off (scan refused)"
		return
	fi
	sleep 6
	echo scan > $D/kmemleak
	cat $D/kmemleak
	say "kmemleak $1: $(grep -c '^unreferenced object' $D/kmemleak)"
}

say "init started"
insmod /dma_noncontig_invasive_kunit.ko || say "invasive: FAIL the module did not load"
insmod /dma_noncontig_cache_kunit.ko || say "cache: FAIL the module did not load"
say "invasive tests done"
say "dma-api errors after the KUnit suites: $(cat $D/dma-api/error_count)"
leaks "after the KUnit suites"
echo clear > $D/kmemleak
# Print every DMA-API error from here on, not only the first.
echo 1000 > $D/dma-api/num_errors

# Faults hit only tasks marked make-it-fail: the test's own thread, around
# each call of the API.  A point is POINT[/NARROWING]:PROBABILITY.  Plain,
# every allocation counts: order 0, sleeping, highmem.  Narrowed, a point
# reaches one step of the IOMMU path only: failslab/iova fails the IOVA
# allocator's own cache (its rbtree nodes; buffers over the per-CPU IOVA
# caches' largest size take one each), fail_page_alloc/atomic fails only
# allocations that cannot sleep, which on that path are the IOMMU's page
# tables (the buffer's pages may sleep and are highmem-capable, both
# ignored).
IOVA_CACHE=/sys/kernel/slab/iommu_iova/failslab
arm() {
	point=${1%%/*}
	dir=$D/$point
	echo Y > $dir/task-filter
	echo 0 > $dir/verbose
	echo 1 > $dir/interval
	echo $TIMES > $dir/times
	echo $2 > $dir/probability
	case $1 in
	fail_page_alloc)
		echo N > $dir/ignore-gfp-wait
		echo N > $dir/ignore-gfp-highmem
		echo 0 > $dir/min-order ;;
	fail_page_alloc/atomic)
		echo Y > $dir/ignore-gfp-wait
		echo Y > $dir/ignore-gfp-highmem
		echo 0 > $dir/min-order ;;
	failslab)
		echo N > $dir/cache-filter
		echo N > $dir/ignore-gfp-wait ;;
	failslab/iova)
		# the boot's slub_debug=a,iommu_iova marks the cache for it
		[ "$(cat $IOVA_CACHE)" = 1 ] ||
			say "cannot narrow failslab to the IOVA cache"
		echo Y > $dir/cache-filter
		echo N > $dir/ignore-gfp-wait ;;
	*)
		say "unknown fault point $1" ;;
	esac
}
disarm() {
	point=${1%%/*}
	echo 0 > $D/$point/probability
	[ "$1" != failslab/iova ] || echo N > $D/$point/cache-filter
	echo $((TIMES - $(cat $D/$point/times)))
}

# phase NAME "POINT:PROBABILITY...": arm the points, load the fault module
# once, disarm, and report how many faults the points injected together.
phase() {
	name=$1 points=$2
	for p in $points; do
		arm "${p%%:*}" "${p##*:}"
	done
	say "phase $name begin"
	insmod /dma_noncontig_faults_kunit.ko
	rmmod dma_noncontig_faults_kunit
	say "phase $name end"
	injected=0
	for p in $points; do
		injected=$((injected + $(disarm "${p%%:*}")))
	done
	say "phase $name injected $injected"
}

# The fault module counts edu's IOVA ranges exactly, failures included,
# which needs its domain to free them at once: no flush queue (strict
# mode).  Nothing is bound to edu any more, so its group's type can change.
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat $dev/vendor):$(cat $dev/device)" = 0x1234:0x11e8 ] || continue
	echo DMA > $dev/iommu_group/type 2>/dev/null
	say "edu's IOMMU domain: $(cat $dev/iommu_group/type)"
done

# The rates are high enough that the direct path, which fails only where
# the page and slab allocators do, sees more failed calls than the fault
# module's page limit: one page lost per failed call must show.
phase page_alloc fail_page_alloc:20
phase slab failslab:20
# Narrowed, every allocation the point reaches fails: each call that
# allocates an IOVA tree node or an IOMMU page table fails there, the
# others succeed.  At 30 % the map phase failed 26 calls of 500, fewer
# than the page limit (32), which one page lost per failed call must pass.
phase iova failslab/iova:100
phase map fail_page_alloc/atomic:100
# Everything at once, at lower rates.  At 6 % for the page and slab points
# the direct path failed 39 to 74 calls of 500 (12 runs), too close to the
# limit (32 to 37) for a check that must not fail by chance.  At 12 % it
# failed 106 to 126 (8 runs) and the IOMMU path still made 170 or more of
# its 500 calls.
phase all "fail_page_alloc:12 failslab:12"

leaks "after the fault phases"
say "dma-api errors at the end: $(cat $D/dma-api/error_count)"
say "done"
poweroff -f
