#!/bin/busybox sh
# /init of a benchmark boot (see bench.sh): bind QEMU's edu device to
# dma_map_benchmark through driver_override, run the noncontiguous mode for
# each size, print one 'noncontig-bench:' line per run, power off.
# The kernel command line passes bench_kind (ours|upstream), bench_zero
# (1: ask for __GFP_ZERO), bench_floor (1: also run the floor and the floor
# mapped with dma_map_sgtable()), bench_sizes
# (KiB, comma-separated) and bench_seconds.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug

for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ] && edu=$d
done
echo dma_map_benchmark > $edu/driver_override
echo "${edu##*/}" > /sys/bus/pci/drivers_probe
[ -e /sys/kernel/debug/dma_map_benchmark ] || echo "noncontig-bench: edu not bound"

# run LABEL SIZE_KIB FLAGS...
run() {
	label=$1 kib=$2
	shift 2
	out=$(/dma_map_benchmark -a -t 1 -s ${bench_seconds:-1} -g $((kib / 4)) "$@" 2>&1)
	alloc=$(echo "$out" | sed -n 's/^average alloc latency(us):\([0-9.]*\).*/\1/p')
	free=$(echo "$out" | sed -n 's/^average free latency(us):\([0-9.]*\).*/\1/p')
	table=$(echo "$out" | sed -n 's/.* \([0-9]*\) bytes of sg_table.*/\1/p')
	entries=$(echo "$out" | sed -n 's/^noncontiguous buffer: \([0-9]*\) CPU.*/\1/p')
	echo "noncontig-bench: $label $kib ${alloc:-fail} ${free:-fail} ${entries:-0} ${table:-0}"
	[ -n "$alloc" ] || echo "$out"
}

for kib in $(echo "${bench_sizes:-4,64,1024,4096,16384,65536}" | tr , ' '); do
	if [ "${bench_zero:-0}" = 1 ]; then
		run "$bench_kind" $kib -z
	else
		run "$bench_kind" $kib
	fi
	if [ "${bench_floor:-0}" = 1 ]; then
		run floor $kib -f
		run mapped $kib -m
	fi
done
echo "noncontig-bench: done"
poweroff -f
