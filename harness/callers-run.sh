#!/usr/bin/env bash
# Unmodified in-tree callers at run time: ALSA's HDA driver allocates its PCM
# buffers with dma_alloc_noncontiguous() (sound/core/memalloc.c), and
# videobuf2-dma-contig allocates non-coherent buffers with it (vivid, when
# user space asks for them).  The kernel is the x86_64 KUnit kernel, which
# has the callers and the function tracer (config/callers-run.config, the
# x86_64 platform's extra fragment; its suite is not run here:
# kunit.enable=0); boot it with QEMU's intel-hda and hda-output (its sound
# goes to a wav file) with the IOMMU on (buffers behind one IOVA) and off
# (the direct path's one chunk), play noise through it with aplay, capture
# vivid's test pattern into non-coherent buffers (vivid-capture.c: every
# frame must equal the coherent buffers'; vivid is a platform device, so
# its buffers take the direct path in both modes), and judge
# (judge-callers.py) that the wav holds the noise byte for byte, that the
# trace shows the API did the work, and that the log has no warning or
# DMA-API error.
#   callers-run.sh [on] [off]          (default: both)
#   NO_BUILD=1 callers-run.sh ...      use the kernel already built
. "$(dirname "$0")/lib.sh"

name=x86_64-kunit
out=$BUILD/out/$name
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(on off)
if [ -z "${NO_BUILD:-}" ]; then
	if ! PLATFORM=x86_64 "$TOP/harness/build.sh" "$name" >&2; then
		echo "callers-run: FAIL build (log: $LOGS/build-$name.log)"
		exit 1
	fi
fi

# vivid-capture, static: no libraries to carry.
mkdir -p "$out"
gcc -static -O2 -Wall -Wextra -Werror -o "$out/vivid-capture" \
	"$TOP/harness/guest/vivid-capture.c" || die "callers-run: vivid-capture.c does not build"

# The initramfs: aplay with its libraries and ALSA's configuration, and two
# blocks of noise to play (2 s each, fixed seeds), each followed by 0.25 s
# of silence: QEMU drops the last few ms the device read when the stream
# stops, so the judge checks the noise and not the padding.
aplay=$(command -v aplay) || die "no aplay; run 'make deps' (alsa-utils)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/share"
cp "$aplay" "$root/usr/bin/"
ldd "$aplay" | grep -o '/[^ ]*' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp -a /usr/share/alsa "$root/usr/share/"
noise="$out/noise"
mkdir -p "$noise"
for kind in rw mmap; do
	python3 -c 'import random, sys
r = random.Random(sys.argv[1])
sys.stdout.buffer.write(r.randbytes(2 * 44100 * 4) + bytes(44100))' \
		"$kind" > "$noise/noise-$kind.raw"
done
INITRAMFS_ROOT=$root "$TOP/harness/initramfs.sh" "$out/callers-init.cpio.gz" \
	"$TOP/harness/guest/callers-init.sh" "$noise/noise-rw.raw" "$noise/noise-mmap.raw" \
	"$out/vivid-capture" >&2

# Trace the API and the two paths under it; the trace shows each caller.
funcs=dma_alloc_noncontiguous,dma_free_noncontiguous,dma_vmap_noncontiguous
funcs+=,dma_vunmap_noncontiguous,dma_mmap_noncontiguous
funcs+=,iommu_dma_alloc_noncontig,iommu_dma_free_noncontig
funcs+=,dma_direct_alloc_pages,dma_direct_free_pages
status=0
for mode in "${modes[@]}"; do
	log=$LOGS/callers-$mode.log wav=$LOGS/callers-$mode.wav
	rm -f "$wav"
	what="aplay through intel-hda"
	[ "$mode" = off ] && what+=", vivid"
	stage boot "callers kernel, IOMMU $mode, $what" >&2
	QEMU_INITRD=$out/callers-init.cpio.gz QEMU_TIMEOUT=${QEMU_TIMEOUT:-600} \
	QEMU_EXTRA="-audiodev wav,id=snd0,path=$wav,out.frequency=44100,out.channels=2,out.format=s16
		    -device intel-hda -device hda-output,audiodev=snd0,mixer=off" \
		"$TOP/harness/qemu.sh" "$out/arch/x86/boot/bzImage" "$mode" "$log" \
		kunit.enable=0 ftrace=function "ftrace_filter=$funcs" \
		vivid.node_types=0x1 vivid.allocators=1 vivid.cache_hints=1 || true
	"$TOP/harness/judge-callers.py" "$log" "$wav" "$mode" "$noise" || status=1
done
exit $status
