#!/usr/bin/env python3
"""Turn the side-by-side benchmark's raw lines into the table and the plot.

Usage: bench-report.py RAW TOP ROUNDS SECONDS

RAW lines: 'ROUND ROW LABEL KIB ALLOC_US FREE_US ENTRIES TABLE_BYTES', with
ROW on (behind the IOMMU), off (no IOMMU) or zero (no IOMMU, both asked for
__GFP_ZERO), and LABEL ours, upstream, floor (the same chunks from
alloc_pages() with __GFP_ZERO) or mapped (the floor mapped for the device
with dma_map_sgtable(), into a table allocated beforehand).  Latency is one
allocation plus its free; each figure is the median over the rounds, and
the ratios are taken between medians of the same invocation; a goal counts
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

SIZES = {"on": [4, 64, 1024, 4096, 16384, 65536],
         "off": [4, 64, 1024, 4096, 16384, 65536],
         "zero": [4, 64, 1024, 4096]}
ROWS = {"on": "on", "off": "off", "zero": "off, __GFP_ZERO"}
# ours / upstream goals beyond 1.00 everywhere: (row, KiB or None for all)
GOALS = {("on", 4): 0.90, ("on", 64): 0.90, ("zero", None): 0.55}


def human(kib):
    return f"{kib // 1024} MiB" if kib >= 1024 else f"{kib} KiB"


def goal(row, kib):
    return GOALS.get((row, kib), GOALS.get((row, None), 1.00))


def main():
    raw, top, rounds, seconds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    lat = defaultdict(list)
    table = {}
    failed = []
    for line in raw.read_text().splitlines():
        r, row, label, kib, alloc, free, entries, tbytes = line.split()
        kib = int(kib)
        if alloc == "fail" or free == "fail":
            failed.append(f"{label} {human(kib)} IOMMU {ROWS[row]} (round {r})")
            continue
        lat[row, label, kib].append(float(alloc) + float(free))
        table[row, label, kib] = (int(entries), int(tbytes))

    def med(row, label, kib):
        v = lat.get((row, label, kib))
        return statistics.median(v) if v else None

    def books(row, label, kib):
        entries, tbytes = table.get((row, label, kib), (0, 0))
        if label == "upstream" and row == "on":
            return tbytes + 8 + 8 * (kib // 4)
        return tbytes

    def ratio(a, b):
        return a / b if a and b else None

    fmt = lambda x: f"{x:.1f}" if x is not None else "n/a"
    rfmt = lambda x: f"{x:.2f}" if x is not None else "n/a"
    rows, misses = [], []
    out = ["| IOMMU | size | ours (us) | upstream (us) | floor (us) | mapped floor (us) | ours / upstream (goal) | ours / floor | ours / mapped floor | bookkeeping ours / upstream (bytes) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for row in SIZES:
        for kib in SIZES[row]:
            o, u = med(row, "ours", kib), med(row, "upstream", kib)
            f, m = med(row, "floor", kib), med(row, "mapped", kib)
            ru, rf, rm = ratio(o, u), ratio(o, f), ratio(o, m)
            g = goal(row, kib)
            bo, bu = books(row, "ours", kib), books(row, "upstream", kib)
            rows.append((row, kib, ru, rf, rm))
            out.append(f"| {ROWS[row]} | {human(kib)} | {fmt(o)} | {fmt(u)} | {fmt(f)} | {fmt(m)} | "
                       f"{rfmt(ru)} ({g:.2f}) | {rfmt(rf)} | {rfmt(rm)} | {bo} / {bu} |")
            if ru is None or round(ru, 2) > g:
                misses.append(f"ours / upstream = {rfmt(ru)} at {human(kib)}, IOMMU {ROWS[row]} (goal {g:.2f})")
            if row != "zero" and kib >= 1024 and (rf is None or round(rf, 2) > 1.10):
                misses.append(f"ours / floor = {rfmt(rf)} at {human(kib)}, IOMMU {ROWS[row]} (goal 1.10)")
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

    # The plot: ratios against size, one panel per row.
    data = bench / "plot.dat"
    with data.open("w") as fh:
        for row in SIZES:
            fh.write(f"# IOMMU {ROWS[row]}: KiB ours/upstream ours/floor ours/mapped\n")
            for rw, kib, ru, rf, rm in rows:
                if rw == row:
                    fh.write(f"{kib} {ru or 'NaN'} {rf or 'NaN'} {rm or 'NaN'}\n")
            fh.write("\n\n")
    png = top / "docs" / "bench.png"
    script = f"""
set terminal pngcairo noenhanced size 1400,450 font ",10"
set output "{png}"
set multiplot layout 1,3 title "dma_alloc_noncontiguous + free: ratios of medians, QEMU q35 TCG -icount shift=2, intel-iommu, edu ({rounds} rounds)"
set logscale x 2
set xlabel "buffer size (KiB)"
set ylabel "ratio (below 1: ours is cheaper)"
set yrange [0.4:1.8]
set key top right
set grid
array T[3] = ["IOMMU on", "IOMMU off", "IOMMU off, caller asks for __GFP_ZERO"]
do for [i=0:2] {{
  set title T[i + 1]
  plot "{data}" index i using 1:2 with linespoints title "ours / upstream (6.1)", \\
       "" index i using 1:3 with linespoints title "ours / floor (alloc_pages + zero)", \\
       "" index i using 1:4 with linespoints title "ours / mapped floor (+ dma_map_sg)", \\
       1 with lines dashtype 2 lc rgb "gray" notitle
}}
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    print(f"plot: {png}" if r.returncode == 0 else f"plot failed: {r.stderr.strip()}")


if __name__ == "__main__":
    main()
