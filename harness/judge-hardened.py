#!/usr/bin/env python3
"""Judge the console log of the hardened boot (see hardened.sh).

Usage: judge-hardened.py KERNEL_TREE LOG

Prints one 'NAME: ok ...' or 'NAME: FAIL ...' line per check, for check.sh
to count, and exits non-zero if any failed.  The checks:
 - the built-in KUnit suites under the sanitizers (judge-log.py up to /init);
 - DMA-API debug counted every error the suites make on purpose;
 - each fault phase: both fault tests ran and passed, and the armed fault
   point injected faults;
 - kmemleak initialized, never disabled itself and accepted every scan, and
   found nothing, after the KUnit suites and after the faults;
 - no sanitizer report (KASAN, lockdep, DEBUG_VM, sleeping in atomic).
"""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

# judge-log.py's pattern for kernel reports: the sanitizers report through it.
_spec = importlib.util.spec_from_file_location(
    "judge_log", Path(__file__).with_name("judge-log.py"))
judge_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(judge_log)

TAG = "noncontig-hardened: "
# phase -> the paths its armed fault points reach: calls must fail there
PHASES = {"page_alloc": ("direct", "iommu"), "slab": ("direct", "iommu"),
          "iova": ("iommu",), "map": ("iommu",), "all": ("direct", "iommu")}
# the deliberate errors: the debug suite's five (a free with the wrong size
# on the fallback and behind the IOMMU, with the wrong direction, through
# the wrong function, a second free) and the invasive module's three (a
# free with the wrong size whose pages are counted, a sync in the wrong
# direction, the free of a foreign table)
EXPECTED_DMA_API_ERRORS = 8
FAULTS = re.compile(r"faults: (\w+): (\d+) calls, (\d+) allocations failed, "
                    r"(\d+) vmaps failed, (\d+) bad buffers")
LOST = re.compile(r"faults: (\w+): (-?\d+) pages and (-?\d+) KiB slab not back; "
                  r"the clean run moved (-?\d+) pages, limit (-?\d+)")
IOVA = re.compile(r"faults: iommu: (-?\d+) IOVA ranges not given back")


def line(name, ok, text):
    print(f"{name}: {'ok  ' if ok else 'FAIL'} {text}")
    return ok


def said(text, what):
    m = re.search(re.escape(TAG + what) + r":? *(-?\d+)", text)
    return int(m.group(1)) if m else None


# A module's suite is numbered after the built-in ones, which kunit.py parse
# takes for a crash; its test lines are plain enough to count directly.
TEST_LINE = re.compile(r"^\[[ 0-9.]*\] {5}(ok|not ok) \d+ (\w+)(.*)$", re.M)


def parse_kunit(section):
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    for verdict, _, rest in TEST_LINE.findall(section):
        if "# SKIP" in rest:
            counts["skipped"] += 1
        elif verdict == "ok":
            counts["passed"] += 1
        else:
            counts["failed"] += 1
    if not re.search(r"^\[[ 0-9.]*\] ok \d+ dma_noncontig_faults\s*$", section, re.M):
        counts["errors"] += 1
    return counts


def first_failure(section):
    """The first failed expectation of a phase as one line: the test, where,
    and what KUnit printed of the values (the lines after the failure)."""
    lines = [re.sub(r"^\[[ 0-9.]*\]", "", l).strip() for l in section.splitlines()]
    for i, l in enumerate(lines):
        m = re.search(r"# (\w+): (?:EXPECTATION|ASSERTION) FAILED at (\S+)", l)
        if not m:
            continue
        detail = []
        for d in lines[i + 1:i + 5]:
            if not d or d.startswith(("#", "ok ", "not ok ")):
                break
            detail.append(d)
        return f"{m.group(1)} at {m.group(2)}: {' '.join(detail)}"
    return None


def main():
    tree, log = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    text = log.read_text(errors="replace").replace("\r", "")
    ok = True

    k = subprocess.run([sys.executable, str(Path(__file__).with_name("judge-log.py")),
                        str(tree), str(log), "hardened", TAG + "invasive tests done"],
                       capture_output=True, text=True)
    ok &= line("kunit-sanitizers", k.returncode == 0,
               k.stdout.strip().replace("\n", " |"))

    n = said(text, "dma-api errors after the KUnit suites")
    ok &= line("dma-api-debug", n == EXPECTED_DMA_API_ERRORS,
               f"{n} errors counted after the debug suite (expected {EXPECTED_DMA_API_ERRORS})")

    calls = failed = injected_total = 0
    worst_pages = worst_slab = 0
    widest = None
    for phase in PHASES:
        m = re.search(re.escape(TAG + f"phase {phase} begin") + r"(.*?)" +
                      re.escape(TAG + f"phase {phase} end"), text, re.S)
        if not m:
            ok &= line(f"faults-{phase}", False, "phase did not run")
            continue
        section = m.group(1)
        c = parse_kunit(section)
        injected = said(text, f"phase {phase} injected") or 0
        figs = FAULTS.findall(section)
        lost = LOST.findall(section)
        p_calls = sum(int(f[1]) for f in figs)
        p_failed = sum(int(f[2]) + int(f[3]) for f in figs)
        calls += p_calls
        failed += p_failed
        injected_total += injected
        for _, pages, slab, _, limit in lost:
            worst_pages = max(worst_pages, int(pages))
            worst_slab = max(worst_slab, int(slab))
            widest = int(limit) if widest is None else max(widest, int(limit))
        iova = IOVA.search(section)
        ranges = int(iova.group(1)) if iova else None
        failure = first_failure(section)
        unhit = [path for path in PHASES[phase]
                 if not any(f[0] == path and int(f[2]) + int(f[3]) for f in figs)]
        good = (c["passed"] == 2 and not (c["failed"] + c["errors"] + c["skipped"])
                and injected > 0 and len(figs) == 2 and len(lost) == 2 and iova is not None
                and not unhit)
        ok &= line(f"faults-{phase}", good,
                   f"{c['passed']}/2 tests passed, {p_calls} calls, {p_failed} failed, "
                   f"{injected} faults injected"
                   + (f", but no call failed on: {', '.join(unhit)}" if unhit else "")
                   + (f", {ranges} IOVA ranges not given back" if ranges is not None else "")
                   + (f"; first failure: {failure}" if failure else ""))

    # The checks for the absence of something (kmemleak switching itself
    # off, a sanitizer report) say nothing about a log cut short: they pass
    # only on a boot that ran to its end.
    finished = TAG + "done" in text and "reboot: Power down" in text
    cut = "" if finished else " (but the boot did not finish: the log covers part of the run)"

    # kmemleak must have started and stayed on: a disabled detector finds
    # nothing, which is not the same as finding no leak.
    started = "kmemleak: Kernel memory leak detector initialized" in text
    off = [l.strip() for l in text.splitlines()
           if re.search(r"kmemleak(: .*disabl| .*: off \(scan refused\))", l)]
    ok &= line("kmemleak-on", started and not off and finished,
               ("kmemleak initialized and never disabled" if started and not off else
                ("kmemleak never initialized" if not started else f"kmemleak off: {off[0]}"))
               + cut)
    for when in ("after the KUnit suites", "after the fault phases"):
        n = said(text, f"kmemleak {when}")
        ok &= line("kmemleak", n == 0, f"{n} unreferenced objects {when} (expected 0)")
    n = said(text, "dma-api errors at the end")
    ok &= line("dma-api-faults", n == EXPECTED_DMA_API_ERRORS,
               f"{n} DMA-API errors at the end (expected {EXPECTED_DMA_API_ERRORS}: none from the faults)")
    reports = judge_log.FATAL.findall(text)
    ok &= line("sanitizers", not reports and finished,
               f"{len(reports)} sanitizer reports (expected 0)"
               + (": " + "; ".join(sorted(set(reports))) if reports else "") + cut)
    ok &= line("hardened-boot", finished, "init finished and the kernel powered off")
    print(f"hardened figures: {calls} allocations tried under faults, {failed} failed cleanly, "
          f"{injected_total} faults injected; at most {worst_pages} pages and {worst_slab} KiB "
          f"slab not back per run (page limits set from each clean run, at most {widest}; "
          f"slab 4096 KiB; kmemleak is the exact check)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
