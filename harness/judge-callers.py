#!/usr/bin/env python3
"""Judge one boot of the callers kernel (see callers-run.sh).

Usage: judge-callers.py LOG WAV on|off NOISE_DIR

Prints a 'callers-hda-MODE: ok|FAIL ...' line, and in the boot without the
IOMMU (the only one that runs vivid) a 'callers-vivid: ok|FAIL ...' line,
and exits non-zero on a failure.

HDA passes when both aplay runs (read/write and mmap) exited 0, the wav file
QEMU wrote holds each block of noise in order with every byte at its place
(one stretch dropped under TCG is reported, not failed: see find_noise), the
function trace shows
ALSA's noncontiguous allocator calling the API in aplay, the IOMMU path (on)
or the direct path (off) serving every allocation and every allocation
freed.  vivid passes when vivid-capture saw every frame of its non-coherent
buffers equal to the coherent reference, and the trace shows
videobuf2-dma-contig allocating, vmapping, mmapping and freeing each of its
buffers through the API on the direct path (vivid is a platform device: no
IOMMU in either mode, so it runs once).  Both fail when the log has a
warning, a kernel report, a DMA-API error or an allocation failure.
"""
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "judge_log", Path(__file__).with_name("judge-log.py"))
judge_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(judge_log)

TAG = "noncontig-callers: "
# each played file: 2 s of 44.1 kHz S16_LE stereo noise, then silence
NOISE_BYTES = 2 * 44100 * 4
# "aplay-70 [001] ..... 5.1: dma_alloc_noncontiguous <-snd_dma_noncontig_alloc"
TRACE = re.compile(r"trace\s+(\S+)-\d+\s+\[\d+\].*?:\s+(\w+) <-(\w+)")
# vivid-capture's buffers (vivid-capture.c's NBUFS)
VIVID_BUFS = 3
# the direct path's page allocation, reached from the API (the helpers
# between may be inlined)
DIRECT_PARENTS = ("dma_alloc_noncontiguous", "__dma_alloc_noncontiguous",
                  "dma_noncontig_alloc_chunk", "__dma_alloc_pages")


def wav_data(path):
    """The PCM bytes of a wav file: the payload of its 'data' chunk."""
    raw = path.read_bytes()
    pos = 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], "little")
        if cid == b"data":
            return raw[pos + 8:]
        pos += 8 + size
    return b""


# Under TCG the audio backend can drop a stretch of what the device read
# (seen once: 8192 bytes, mid-stream).  Timing drops what it skips, once; a
# wrong page behind the IOVA puts foreign bytes where the noise should be,
# or repeats the same gap on every lap of ALSA's ring buffer.  So: the noise
# must appear in order, every byte at its place; at most MAX_DROPS stretches
# of whole frames, MAX_DROPPED bytes in all, may be missing.
MAX_DROPS = 1
MAX_DROPPED = 16384
FRAME = 4
PROBE = 256


def common_prefix(a, i, b, j):
    """How many bytes a[i:] and b[j:] share from their start."""
    n, step = 0, 4096
    while step:
        while a[i + n:i + n + step] == b[j + n:j + n + step] and i + n + step <= len(a) \
                and j + n + step <= len(b):
            n += step
        step //= 2
    return n


def find_noise(data, block):
    """(drops, None) when BLOCK is in DATA in order with only whole-frame
    stretches missing, drops being [(offset in block, bytes)]; else (None,
    why)."""
    d = data.find(block[:PROBE])
    if d < 0:
        return None, "its start is not in the wav"
    b, drops = 0, []
    while True:
        n = common_prefix(data, d, block, b)
        d, b = d + n, b + n
        if b >= len(block):
            return drops, None
        if d + PROBE > len(data):
            return None, f"the wav ends at byte {b} of it"
        j = block.find(data[d:d + PROBE], b + 1)
        if j < 0 or (j - b) % FRAME:
            return None, f"byte {b} of it is not the noise (wav offset {d}): foreign data"
        drops.append((b, j - b))
        b = j


def main():
    log, wav, mode, noise = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    name = f"callers-hda-{mode}"
    text = log.read_text(errors="replace") if log.exists() else ""
    said = [l.split(TAG, 1)[1].strip() for l in text.splitlines() if TAG in l]
    problems, common = [], []

    for kind in ("rw", "mmap"):
        if f"aplay {kind} exit 0" not in said:
            problems.append(f"aplay {kind} did not exit 0")
    data = wav_data(wav) if wav.exists() else b""
    dropped = []
    for kind in ("rw", "mmap"):
        block = (noise / f"noise-{kind}.raw").read_bytes()[:NOISE_BYTES]
        drops, why = find_noise(data, block)
        if drops is None:
            problems.append(f"the {kind} noise is not in {wav} intact: {why}")
        elif len(drops) > MAX_DROPS or sum(n for _, n in drops) > MAX_DROPPED:
            problems.append(f"the {kind} noise misses {len(drops)} stretches "
                            f"({sum(n for _, n in drops)} bytes) in {wav}: more than dropped "
                            f"audio explains ({MAX_DROPS}, {MAX_DROPPED} bytes)")
        else:
            dropped += [f"{kind} {n} bytes at {at}" for at, n in drops]

    calls = Counter()
    for l in said:
        m = TRACE.match(l)
        if m:
            calls[(m.group(1), m.group(2), m.group(3))] += 1

    def count(fn, task=None, parent=lambda p: True):
        return sum(n for (t, f, p), n in calls.items()
                   if f == fn and (task is None or t == task) and parent(p))

    def paths(task):
        return (count("iommu_dma_alloc_noncontig", task),
                count("dma_direct_alloc_pages", task, lambda p: p in DIRECT_PARENTS))

    if "trace end" not in said:
        common.append("no trace printed")
    # ALSA's allocator calls the API; the frees and the mmap are tail calls
    # from it, so their parent is ALSA's caller one level up.  All in aplay.
    snd = lambda p: p.startswith("snd_")
    allocs = count("dma_alloc_noncontiguous", "aplay", lambda p: p == "snd_dma_noncontig_alloc")
    vmaps = count("dma_vmap_noncontiguous", "aplay", lambda p: p == "snd_dma_noncontig_alloc")
    frees, vunmaps, mmaps = (count(fn, "aplay", snd) for fn in (
        "dma_free_noncontiguous", "dma_vunmap_noncontiguous", "dma_mmap_noncontiguous"))
    if allocs < 2:
        problems.append(f"ALSA allocated {allocs} buffers with the API, expected one per aplay run")
    if (frees, vmaps, vunmaps) != (allocs, allocs, allocs):
        problems.append(f"{allocs} allocations but {vmaps} vmaps, {vunmaps} vunmaps, {frees} frees")
    if mmaps < 1:
        problems.append("aplay -M did not map the buffer with dma_mmap_noncontiguous")
    iommu, direct = paths("aplay")
    want = (allocs, 0) if mode == "on" else (0, allocs)
    if (iommu, direct) != want:
        problems.append(f"{iommu} allocations on the IOMMU path and {direct} on the direct "
                        f"path, expected {want[0]} and {want[1]}")

    # videobuf2-dma-contig allocates, maps to user space and frees in the
    # program's ioctls; vivid's kernel thread vmaps each buffer to draw in it.
    vp = []
    vb2 = lambda p: p.startswith("vb2_")
    v_allocs, v_mmaps, v_vunmaps, v_frees = (count(fn, "vivid-capture", vb2) for fn in (
        "dma_alloc_noncontiguous", "dma_mmap_noncontiguous",
        "dma_vunmap_noncontiguous", "dma_free_noncontiguous"))
    v_vmaps = count("dma_vmap_noncontiguous", None, lambda p: p == "vb2_dc_vaddr")
    if "vivid frames intact" not in said:
        vp.append("vivid-capture did not see every frame intact")
    if "vivid exit 0" not in said:
        vp.append("vivid-capture did not exit 0")
    got = (v_allocs, v_vmaps, v_mmaps, v_vunmaps, v_frees)
    if got != (VIVID_BUFS,) * 5:
        vp.append("videobuf2-dma-contig made %d allocations, %d vmaps, %d mmaps, %d vunmaps, "
                  "%d frees through the API, expected %d of each" % (got + (VIVID_BUFS,)))
    if paths("vivid-capture") != (0, v_allocs):
        vp.append("%d of vivid's allocations on the IOMMU path and %d on the direct path, "
                  "expected 0 and %d" % (paths("vivid-capture") + (v_allocs,)))

    if "DMA-API: debugging enabled" not in text:
        common.append("DMA-API debug is not on")
    # once it disables itself it counts nothing more: 0 errors then means
    # nothing
    if judge_log.DMA_API_OFF.search(text):
        common.append("DMA-API debug disabled itself")
    if not any(l.startswith("dma-api errors: 0") for l in said):
        common.append("DMA-API debug counted errors (or was not read)")
    for pat, what in ((judge_log.FATAL, "kernel report"),
                      (judge_log.DMA_API_ERR, "DMA-API error"),
                      (re.compile(r"WARNING:|page allocation failure|oom-killer"), "warning")):
        hits = [l for l in text.splitlines() if pat.search(l)]
        if hits:
            common.append(f"{len(hits)} {what} line(s), first: {hits[0].strip()}")
    if "done" not in said or "reboot: Power down" not in text:
        common.append("/init did not finish and power off")

    status = 0
    if problems or common:
        print(f"{name}: FAIL " + "; ".join(problems + common) + f" (log: {log})")
        status = 1
    else:
        print(f"{name}: ok   {allocs} buffers from ALSA through the API "
              f"({'IOMMU' if mode == 'on' else 'direct'} path), {mmaps} mmap, rw and mmap "
              f"noise intact in the wav ({len(data)} bytes"
              + (f"; audio dropped under TCG: {', '.join(dropped)}" if dropped else "")
              + "), 0 DMA-API errors, 0 warnings")
    if mode == "on":
        # vivid did not run: nothing of it may show
        if v_allocs or any(l.startswith("vivid") for l in said):
            print(f"callers-vivid: FAIL vivid ran in the IOMMU boot (log: {log})")
            return 1
        return status
    vname = "callers-vivid"
    if vp or common:
        print(f"{vname}: FAIL " + "; ".join(vp + common) + f" (log: {log})")
        return 1
    print(f"{vname}: ok   {v_allocs} non-coherent buffers from videobuf2-dma-contig through the "
          f"API (direct path), each vmapped by vivid and mmapped by user space, every frame "
          f"equal to the coherent reference, 0 DMA-API errors, 0 warnings")
    return status


if __name__ == "__main__":
    sys.exit(main())
