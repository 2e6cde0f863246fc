#!/bin/busybox sh
# /init of an irqsoff boot (see irqsoff.sh): bind QEMU's edu device to
# dma_map_benchmark, arm the irqsoff tracer (without function tracing, so
# that it costs only its two timestamps), allocate and free a noncontiguous
# buffer of irqsoff_kib KiB for a second, let the flush queue's timer run,
# and print the longest interrupts-off section with where it started and
# ended.  One 'noncontig-irqsoff:' line per fact, then power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/debug/tracing
say() { echo "noncontig-irqsoff: $*"; }

for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ] && edu=$d
done
echo dma_map_benchmark > $edu/driver_override
echo "${edu##*/}" > /sys/bus/pci/drivers_probe
[ -e /sys/kernel/debug/dma_map_benchmark ] || say "edu not bound"
say "iommu domain $(cat $edu/iommu_group/type)"

echo 0 > $T/options/function-trace
echo irqsoff > $T/current_tracer
echo 0 > $T/tracing_max_latency
/dma_map_benchmark -a -t 1 -s 1 -g $((${irqsoff_kib:-65536} / 4)) > /tmp/bench.txt 2>&1 ||
	say "benchmark failed: $(tail -n 1 /tmp/bench.txt)"
# the flush queue's timeout is 10 ms
sleep 1
say "max $(cat $T/tracing_max_latency) us"
sed -n 's/^#* *=> *\(started\|ended\) at: *\(.*\)/\1 \2/p' $T/trace | while read -r what where; do
	say "$what at $where"
done
say "done"
poweroff -f
