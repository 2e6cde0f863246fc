#!/usr/bin/env python3
"""Self time of each traced function in a profile boot's log
(bench-profile.sh), per mode, median over the calls.

Under -icount a traced call costs the tracer about 4.9 us of guest time:
2.44 us inside the call's own timestamps (an empty function shows 2.44 us)
and 2.48 us outside them, which its parent sees.  A function's self time
is its duration less its own 2.44 and less each traced child's duration
plus 2.48; the calibration is Debian 12's QEMU 7.2 and the profile
kernel's, measured on iommu_get_dma_domain() (empty) and on wrappers whose
only work is one traced call.
"""
import collections
import re
import sys

IN, OUT = 2.44, 2.48
text = open(sys.argv[1], errors="replace").read().replace("\r", "")
line_re = re.compile(r"\s*\d+\)\s+(?:[+!#*@$] )?\s*([\d.]+)?\s*(?:us)?\s*\|(\s*)(.*)$")
for mode in re.findall(r"PROF-BEGIN (\w+)", text):
    sec = text.split(f"PROF-BEGIN {mode}")[1].split(f"PROF-END {mode}")[0]
    selfs = collections.defaultdict(list)
    tops = collections.defaultdict(list)
    stack = []  # [name, children's durations plus their outside overhead]
    lines = [m for m in map(line_re.match, sec.splitlines()) if m]
    # the ring buffer keeps the newest entries: start at the first call
    # opened at the outermost depth, not inside one whose start was lost
    outer = min(len(m.group(2)) for m in lines)
    start = next(i for i, m in enumerate(lines) if len(m.group(2)) == outer and m.group(3).rstrip().endswith("{"))
    for m in lines[start:]:
        dur, body = m.group(1), m.group(3).strip()
        if body.endswith("{"):
            stack.append([body[:-1].strip().rstrip("()").strip(), 0.0])
        elif body.startswith("}"):
            if not stack or not dur:
                stack = []; continue
            name, csum = stack.pop()
            d = float(dur)
            selfs[name].append(d - IN - csum)
            if stack:
                stack[-1][1] += d + OUT
            else:
                tops[name].append(d - IN)
        elif body.endswith(";") and dur:
            name = body[:-1].strip().rstrip("()").strip()
            d = float(dur)
            selfs[name].append(d - IN)
            if stack:
                stack[-1][1] += d + OUT
            else:
                tops[name].append(d - IN)
    print(f"== {mode}")

    def med(v):
        return sorted(v)[len(v) // 2]
    for name, v in sorted(selfs.items(), key=lambda kv: -med(kv[1]) * len(kv[1])):
        print(f"{len(v):6d} calls  self {med(v):7.2f} us  {name}")
    pairs = max(len(v) for v in tops.values())
    total = sum(med(v) * len(v) for v in selfs.values()) / pairs
    print(f"  sum of the self times: {total:.2f} us per {' + '.join(sorted(tops))}")
