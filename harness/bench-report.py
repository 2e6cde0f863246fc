#!/usr/bin/env python3
"""Turn the side-by-side benchmark's raw lines into the table and the plot.

Usage: bench-report.py RAW TOP ROUNDS SECONDS

RAW lines: 'ROUND MODE LABEL KIB ALLOC_US FREE_US ENTRIES TABLE_BYTES', with
LABEL ours, upstream or floor and MODE on|off (the IOMMU).  Latency is one
allocation plus its free; each figure is the median over the rounds, and the
ratios are taken between medians of the same invocation, and a goal counts
as met when the ratio, rounded to two decimals, is within it.

Bookkeeping per buffer: ours is what the benchmark read from the table
itself (sg_table + entries).  Upstream's IOMMU path also keeps a page array
and a pointer to it next to its table (struct dma_sgt_handle), which the
public API cannot see, so it is added from upstream's code:
    upstream = 16 + 32 * entries (the table, as reported) + 8 + 8 * pages.
Its direct path keeps the table alone, like ours.
"""
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SIZES = [4, 64, 1024, 4096, 16384, 65536]


def human(kib):
    return f"{kib // 1024} MiB" if kib >= 1024 else f"{kib} KiB"


def main():
    raw, top, rounds, seconds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    lat = defaultdict(list)
    table = {}
    failed = []
    for line in raw.read_text().splitlines():
        r, mode, label, kib, alloc, free, entries, tbytes = line.split()
        kib = int(kib)
        if alloc == "fail" or free == "fail":
            failed.append(f"{label} {human(kib)} IOMMU {mode} (round {r})")
            continue
        lat[mode, label, kib].append(float(alloc) + float(free))
        table[mode, label, kib] = (int(entries), int(tbytes))

    def med(mode, label, kib):
        v = lat.get((mode, label, kib))
        return statistics.median(v) if v else None

    def books(mode, label, kib):
        entries, tbytes = table.get((mode, label, kib), (0, 0))
        if label == "upstream" and mode == "on":
            return tbytes + 8 + 8 * (kib // 4)
        return tbytes

    rows, misses = [], []
    out = [f"| IOMMU | size | ours (us) | upstream (us) | floor (us) | ours / upstream | ours / floor | bookkeeping ours / upstream (bytes) |",
           "|---|---|---|---|---|---|---|---|"]
    for mode in ("on", "off"):
        for kib in SIZES:
            o, u, f = med(mode, "ours", kib), med(mode, "upstream", kib), med(mode, "floor", kib)
            ratio = o / u if o and u else None
            fratio = o / f if o and f else None
            bo, bu = books(mode, "ours", kib), books(mode, "upstream", kib)
            rows.append((mode, kib, o, u, f))
            fmt = lambda x: f"{x:.1f}" if x is not None else "n/a"
            out.append(f"| {mode} | {human(kib)} | {fmt(o)} | {fmt(u)} | {fmt(f)} | "
                       + (f"{ratio:.2f}" if ratio else "n/a") + " | "
                       + (f"{fratio:.2f}" if fratio else "n/a") + f" | {bo} / {bu} |")
            if ratio is None or round(ratio, 2) > 1.00:
                misses.append(f"ours / upstream = {ratio:.2f} at {human(kib)}, IOMMU {mode}"
                              if ratio else f"no ratio at {human(kib)}, IOMMU {mode}")
            if kib >= 1024 and (fratio is None or round(fratio, 2) > 1.10):
                misses.append(f"ours / floor = {fratio:.2f} at {human(kib)}, IOMMU {mode}"
                              if fratio else f"no floor at {human(kib)}, IOMMU {mode}")
    bo, bu = books("on", "ours", 65536), books("on", "upstream", 65536)
    if not bo or not bu or bo * 50 > bu:
        misses.append(f"bookkeeping at 64 MiB: {bo} bytes against {bu} (goal <= 1/50)")

    text = "\n".join(out)
    print(text)
    print(f"\nmedians of {rounds} alternating rounds of {seconds} s per run; latency = one allocation + its free;"
          f" bookkeeping at 64 MiB behind the IOMMU: {bo} bytes against {bu}"
          + (f" (1/{bu // bo})" if bo else ""))
    for f in failed:
        print(f"failed run: {f}")
    print("goals: all met" if not misses else "goals missed: " + "; ".join(misses))
    bench = raw.parent
    (bench / "table.md").write_text(text + "\n")

    # The plot: latency against size, log-log, ours / upstream / floor.
    data = bench / "plot.dat"
    with data.open("w") as fh:
        for mode in ("on", "off"):
            fh.write(f"# IOMMU {mode}: KiB ours upstream floor\n")
            for m, kib, o, u, f in rows:
                if m == mode:
                    fh.write(f"{kib} {o or 'NaN'} {u or 'NaN'} {f or 'NaN'}\n")
            fh.write("\n\n")
    png = top / "bench.png"
    script = f"""
set terminal pngcairo noenhanced size 1000,450 font ",10"
set output "{png}"
set multiplot layout 1,2 title "dma_alloc_noncontiguous + free, QEMU q35 TCG -icount shift=2, intel-iommu, edu (median of {rounds} rounds)"
set logscale xy
set xlabel "buffer size (KiB)"
set ylabel "latency (us)"
set key top left
set grid
do for [i=0:1] {{
  set title (i == 0 ? "IOMMU on" : "IOMMU off")
  plot "{data}" index i using 1:2 with linespoints title "ours", \\
       "" index i using 1:3 with linespoints title "upstream (6.1)", \\
       "" index i using 1:4 with linespoints dashtype 2 title "floor (alloc_pages + zero)"
}}
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    print(f"plot: {png}" if r.returncode == 0 else f"plot failed: {r.stderr.strip()}")


if __name__ == "__main__":
    main()
