#!/bin/busybox sh
# /init of the callers boot (see callers-run.sh): play two blocks of noise
# through QEMU's HDA controller with ALSA's aplay, once with read/write
# transfers (the kernel copies through the buffer's vmap) and once through
# mmap (user space writes the buffer's pages through
# dma_mmap_noncontiguous); then, in the boot without the IOMMU, capture
# frames from vivid into non-coherent videobuf2-dma-contig buffers
# (vivid-capture.c); then print the function
# trace of the API.
# Every line the judge reads starts with "noncontig-callers:".
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/debug/tracing

say() { echo "noncontig-callers: $*"; }

say "init started"
i=0
while [ ! -e /dev/snd/pcmC0D0p ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e /dev/snd/pcmC0D0p ] || say "no PCM device"

# play MODE FILE [aplay flags]: 44.1 kHz S16_LE stereo, the format QEMU's
# wav backend writes, so the device's data reaches the file unchanged.
play() {
	mode=$1 file=$2
	shift 2
	aplay -q -D hw:0,0 -t raw -f S16_LE -c 2 -r 44100 --buffer-time=500000 "$@" "$file"
	say "aplay $mode exit $?"
}
play rw /noise-rw.raw
play mmap /noise-mmap.raw -M
# vivid is a platform device: its buffers take the direct path whatever the
# IOMMU does, so its scenario runs once, in the boot without the IOMMU.
if grep -q 'intel_iommu=off' /proc/cmdline; then
	/vivid-capture
	say "vivid exit $?"
fi

echo 0 > $T/tracing_on
say "trace begin"
grep -v '^#' $T/trace | sed 's/^/noncontig-callers: trace /'
say "trace end"
say "dma-api errors: $(cat /sys/kernel/debug/dma-api/error_count)"
say "done"
poweroff -f
