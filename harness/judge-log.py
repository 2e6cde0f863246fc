#!/usr/bin/env python3
"""Judge one QEMU console log of the KUnit kernel.

Usage: judge-log.py KERNEL_TREE LOG LABEL [MARKER]

With MARKER, KUnit results are read from the log up to the first line that
contains it (a boot whose /init runs more tests after the built-in suites);
everything else is still judged over the whole log.

Passes when KUnit ran tests and none failed, the kernel shut down cleanly,
every warning the tests provoke on purpose is there, and there is no other
warning, oops or DMA-API error.  Prints one result line and writes the counts
to LOG with '.result' in place of '.log'.
"""
import re
import subprocess
import sys
from pathlib import Path

# Refused arguments warn once each (dev_WARN_ONCE in the front end).
EXPECTED_WARNINGS = [
    "noncontiguous DMA allocation of invalid size",
    "noncontiguous DMA allocation with invalid direction",
    "noncontiguous DMA allocation with zone modifier",
    "noncontiguous DMA allocation may sleep, but gfp",
    "noncontiguous DMA allocation with unsupported attrs",
    "noncontiguous DMA allocation for a device without a DMA mask",
]
# The first DMA-API error the debug suite makes on purpose, last in the run.
# DMA-API debug prints only the first error, so any earlier one would replace
# it; the suite's second error (a free of a foreign table) is counted by the
# hardened boot, which reads dma-api/error_count.
EXPECTED_DMA_API = "device driver frees DMA memory with different size"
WARN_SITE = re.compile(r"WARNING: CPU: \d+ PID: \d+ at (\S+?):\d+ (\S+)")
# (file, functions): the argument checks may be inlined into the API call.
ALLOWED_SITES = [("kernel/dma/mapping.c", ("dma_noncontig_args_ok+", "dma_alloc_noncontiguous+")),
                 ("kernel/dma/debug.c", ("check_unmap+", "debug_dma_free_noncontiguous+"))]
DMA_API_ERR = re.compile(r"DMA-API: \S+ \S+: (.*)")
FATAL = re.compile(r"(BUG:|kernel BUG at|Oops|Kernel panic|general protection fault|KASAN:|UBSAN:"
                   r"|WARNING: (?:possible|suspicious|inconsistent)|inconsistent lock state)")


def main():
    # kunit.py changes into the kernel tree: use absolute paths
    tree, log = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    label = sys.argv[3]
    text = log.read_text(errors="replace")
    problems = []

    kunit_log, kunit_text = log, text
    if len(sys.argv) > 4:
        kunit_log = Path(str(log) + ".kunit")
        kunit_text = text.split(sys.argv[4], 1)[0]
        kunit_log.write_text(kunit_text)
    parse = subprocess.run(
        [sys.executable, str(tree / "tools/testing/kunit/kunit.py"), "parse", str(kunit_log)],
        capture_output=True, text=True)
    Path(str(log) + ".parsed").write_text(parse.stdout + parse.stderr)
    m = re.search(r"Ran (\d+) tests?: (.*)", parse.stdout)
    counts = {"passed": 0, "failed": 0, "skipped": 0, "crashed": 0, "errors": 0}
    total = 0
    if m:
        total = int(m.group(1))
        for k, v in re.findall(r"(\w+): (\d+)", m.group(2)):
            counts[k] = int(v)
    if total == 0:
        problems.append("KUnit ran no test")
    failed = counts["failed"] + counts["crashed"] + counts["errors"]
    if failed or parse.returncode:
        problems.append(f"{failed} test(s) failed (see {log}.parsed)")
    if "reboot: Power down" not in text:
        problems.append("the kernel did not power off at the end of the run")

    missing = [w for w in EXPECTED_WARNINGS if w not in text]
    if missing:
        problems.append("expected warnings missing: " + "; ".join(missing))
    sites = WARN_SITE.findall(text)
    unexpected = [f"{f} {fn}" for f, fn in sites
                  if not any(f.endswith(a) and fn.startswith(b)
                             for a, b in ALLOWED_SITES)]
    if unexpected:
        problems.append("unexpected warnings: " + "; ".join(unexpected[:5]))
    errs = DMA_API_ERR.findall(text)
    bad_errs = [e for e in errs if not e.startswith(EXPECTED_DMA_API)]
    if bad_errs:
        problems.append("DMA-API errors: " + "; ".join(bad_errs[:3]))
    if "dma_noncontig_debug" in text and not any(e.startswith(EXPECTED_DMA_API) for e in errs):
        problems.append("DMA-API debug did not report the free with a wrong size")
    # A device write into a DMA_TO_DEVICE buffer must have faulted in the
    # IOMMU; the IOMMU driver reports it in the log and nowhere else:
    # intel-iommu as a DMAR write fault, the SMMUv3 as event 0x13
    # (F_PERMISSION).
    if re.search(r"^\[[ 0-9.]*\]\s+ok \d+ iommu_device_cannot_write_to_device_buffer\s*$",
                 text, re.M) and not re.search(r"DMAR: \[DMA Write.*\n?.*PTE Write access is not set"
                                               r"|arm-smmu-v3 \S+: event 0x13 received", text):
        problems.append("no IOMMU fault logged for the device write into a DMA_TO_DEVICE buffer")
    # Sizes that cannot be served fail quietly: no allocation-failure splat
    # and no OOM kill while the suites run (injected faults come later).
    for what in ("page allocation failure", "invoked oom-killer"):
        if what in kunit_text:
            problems.append(f"'{what}' in the log: an unservable size was not quiet")
    fatal = FATAL.findall(text)
    if fatal:
        problems.append("kernel reported: " + ", ".join(sorted(set(fatal))))

    ok = not problems
    info = [l.split("# ", 1)[-1].strip() for l in text.splitlines()
            if "path:" in l and "round-tripped" in l]
    print(f"kunit-{label}: {total} tests: {counts['passed']} passed, "
          f"{failed} failed, {counts['skipped']} skipped; "
          f"{len(sites)} warnings ({len(unexpected)} unexpected), "
          f"{len(errs)} DMA-API errors ({len(bad_errs)} unexpected)"
          + ("" if ok else " -- FAILED"))
    for p in problems:
        print(f"  problem: {p}")
    Path(str(log).removesuffix(".log") + ".result").write_text(
        f"{label} {total} {counts['passed']} {failed} {counts['skipped']} "
        f"{'ok' if ok else 'fail'}\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
