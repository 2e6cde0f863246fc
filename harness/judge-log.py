#!/usr/bin/env python3
"""Judge one QEMU console log of the KUnit kernel.

Usage: [NONCONTIG_PINS=FILE] judge-log.py KERNEL_TREE LOG LABEL [MARKER]

With MARKER, KUnit results are read from the log up to the first line that
contains it (a boot whose /init runs more tests after the ones to judge
here); everything else is still judged over the whole log.  The suites of
the modules /init loads count with the built-in ones: kunit.py parse reads
the built-in run's plan and stops there, so their results come from the
counts below.

Passes when KUnit ran exactly the tests pinned for LABEL in
config/kunit-pins (how many, passed and skipped, and which path edu's round
trip took), none failed, the kernel shut down cleanly, every warning the
tests provoke on purpose is there, and there is no other warning, oops,
stall or DMA-API error.  Prints one result line and writes the counts to LOG
with '.result' in place of '.log'.

The counts are the kernel's own: every suite's '# Totals:' line (the boots
pass kunit.stats_enabled=2, so every suite prints one).  6.1 prints each
parameter of a parameterised test as a plain 'ok' even when it skipped, so
the leaves kunit.py counts would report skips as passes.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

# Refused arguments warn once per check (per boot), whoever the caller:
# the suite that provokes each, and the warnings it must have.
WARNINGS_BY_SUITE = {
    "dma_noncontig_args": [
        "noncontiguous DMA allocation of invalid size",
        "noncontiguous DMA allocation with invalid direction",
        "noncontiguous DMA allocation with zone modifier",
        "noncontiguous DMA allocation may sleep, but gfp",
        "noncontiguous DMA allocation may fail, but gfp",
        "noncontiguous DMA allocation with unsupported attrs",
    ],
    # the invasive module's
    "dma_noncontig_misuse": [
        "noncontiguous DMA allocation for a device without a DMA mask",
    ],
}
EXPECTED_WARNINGS = [w for ws in WARNINGS_BY_SUITE.values() for w in ws]
# The first DMA-API error the debug suite makes on purpose, last in the run.
# DMA-API debug prints only the first error, so any earlier one would replace
# it; the suite's second error (a free of a foreign table) is counted by the
# hardened boot, which reads dma-api/error_count.
EXPECTED_DMA_API = "device driver frees DMA memory with different size"
WARN_SITE = re.compile(r"WARNING: CPU: \d+ PID: \d+ at (\S+?):\d+ (\S+)")
# (file, functions, messages): a warning is allowed only where the refused
# argument (or the deliberate DMA-API error) is reported, and only with its
# own message, which the kernel prints on the line before 'WARNING:' (or
# after it, on 32-bit arm).  The
# argument checks may be inlined into the API call.
ALLOWED_SITES = [("kernel/dma/mapping.c", ("dma_noncontig_args_ok+", "dma_alloc_noncontiguous+"),
                  EXPECTED_WARNINGS),
                 ("kernel/dma/debug.c", ("check_unmap+", "debug_dma_free_noncontiguous+"),
                  [EXPECTED_DMA_API])]
DMA_API_ERR = re.compile(r"DMA-API: \S+ \S+: (.*)")
FATAL = re.compile(r"(BUG:|kernel BUG at|Oops|Kernel panic|general protection fault|KASAN:|UBSAN:"
                   r"|WARNING: (?:possible|suspicious|inconsistent)|inconsistent lock state"
                   r"|rcu: INFO: \S+ (?:self-)?detected stalls?|detected stalls on CPUs"
                   r"|INFO: task \S+ blocked for more than|soft lockup|hard LOCKUP)")
# Any other form of warning ('WARNING: at ...', a bare 'WARNING:') counts
# as a warning too, and is never an allowed one.
ANY_WARNING = re.compile(r"^\[[ 0-9.]*\] .*\bWARNING:", re.M)
# A suite's own count of its cases (parameters counted one by one).
TOTALS = re.compile(r"^\[[ 0-9.]*\] +# Totals: pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)\s*$", re.M)
SUITE_END = re.compile(r"^\[[ 0-9.]*\] (?:not )?ok \d+ (\w+)", re.M)
# edu's round trip says which path it took.
EDU_PATH = re.compile(r"# \w+: (IOMMU|ops|direct) path: \d+ byte buffer .* round-tripped")
# kunit-init.c's report: DMA-API debug's error count after the suites
DMA_API_COUNT = re.compile(r"noncontig-kunit: dma-api errors: (\S+)")
# kunit-init.c's report of the mmap module, and what the dma:dma_alloc_sgt
# event saw while /init loaded it (the module's buffer)
MMAP_INIT = re.compile(r"noncontig-kunit: mmap: (.*)")
ALLOC_TRACED = re.compile(r"noncontig-kunit: alloc traced: (.*)")
ALLOC_EVENT = re.compile(r"^(\S+) dir=\S+ dma_addr=([0-9a-f]+) size=\d+ phys_addrs=\{([^}]*)\} ")
# DMA-API debug switching itself off (out of entries, or by request)
DMA_API_OFF = re.compile(r"DMA-API: debugging out of memory|DMA-API: debugging disabled")
PINS = Path(os.environ.get("NONCONTIG_PINS")
            or Path(__file__).resolve().parent.parent / "config" / "kunit-pins")
# the names of the cases each boot runs, one 'suite.case' a line
# (harness/pin-cases.py writes them from a boot's log)
CASES = Path(os.environ.get("NONCONTIG_CASES")
             or Path(__file__).resolve().parent.parent / "config" / "kunit-cases")
# a KTAP line without its timestamp: its indentation and its text
KTAP_LINE = re.compile(r"^\[[ 0-9.]*\] ( *)(.*)$")
CASE_RESULT = re.compile(r"^(?:not )?ok \d+ (\S+)")


def warning_sites(text):
    """(file, function, allowed) for each 'WARNING: CPU: ...' line."""
    lines = text.splitlines()
    out = []
    for i, l in enumerate(lines):
        m = WARN_SITE.search(l)
        if not m:
            continue
        f, fn = m.groups()
        # the message is on the line before 'WARNING:' where the
        # architecture reports warnings through a trap (x86, arm64,
        # powerpc) and on the line after it on the generic path (32-bit arm)
        msg = (lines[i - 1] if i else "") + "\n" + (lines[i + 1] if i + 1 < len(lines) else "")
        allowed = any(f.endswith(a) and fn.startswith(fns) and any(w in msg for w in msgs)
                      for a, fns, msgs in ALLOWED_SITES)
        out.append((f, fn, allowed))
    return out


def traced_path(event):
    """The path a dma_alloc_sgt event's buffer took, by what built it: an
    IOMMU gathers pages into several CPU entries (IOMMU); the fallback is
    one chunk, which the device sees at its physical address (direct)
    unless DMA ops translate it (ops).  One entry with a translated address
    is 'ops' even behind an IOMMU: such a buffer crosses no entries."""
    m = ALLOC_EVENT.match(event)
    if not m:
        return f"unreadable event '{event}'"
    phys = [p for p in m.group(3).split(",") if p]
    if len(phys) > 1:
        return "IOMMU"
    if len(phys) == 1 and int(phys[0], 16) == int(m.group(2), 16):
        return "direct"
    return "ops" if phys else "no-entries"


def case_names(kunit_text):
    """'suite.case' for each case KUnit reported, in order: a suite's
    '# Subtest:' line and its cases' result lines are indented by four."""
    names, suite = [], None
    for line in kunit_text.splitlines():
        m = KTAP_LINE.match(line)
        if not m or len(m.group(1)) != 4:
            continue
        text = m.group(2)
        if text.startswith("# Subtest: "):
            suite = text.split(": ", 1)[1].strip()
        elif (r := CASE_RESULT.match(text)) and suite:
            names.append(f"{suite}.{r.group(1)}")
    return names


def pins_for(label):
    """(tests, passed, skipped, path, DMA-API errors or None, mmap module's
    path or None) pinned for LABEL, or None."""
    for line in PINS.read_text().splitlines():
        f = line.split("#", 1)[0].split()
        if f and f[0] == label:
            return (int(f[1]), int(f[2]), int(f[3]), f[4], None if f[5] == "-" else int(f[5]),
                    None if len(f) < 7 or f[6] == "-" else f[6])
    return None


def kernel_counts(kunit_text):
    """The suites' '# Totals:' lines summed, the number of suites that ran
    and the number that printed such a line."""
    totals = TOTALS.findall(kunit_text)
    suites = SUITE_END.findall(kunit_text)
    counts = {"passed": 0, "failed": 0, "skipped": 0, "total": 0}
    for p, f, sk, t in totals:
        counts["passed"] += int(p)
        counts["failed"] += int(f)
        counts["skipped"] += int(sk)
        counts["total"] += int(t)
    return counts, len(suites), len(totals)


def main():
    args = sys.argv[1:]
    # kunit.py changes into the kernel tree: use absolute paths
    tree, log = Path(args[0]).resolve(), Path(args[1]).resolve()
    label = args[2]
    text = log.read_text(errors="replace")
    problems = []

    kunit_log, kunit_text = log, text
    if len(args) > 3:
        kunit_log = Path(str(log) + ".kunit")
        kunit_text = text.split(args[3], 1)[0]
        kunit_log.write_text(kunit_text)
    parse = subprocess.run(
        [sys.executable, str(tree / "tools/testing/kunit/kunit.py"), "parse", str(kunit_log)],
        capture_output=True, text=True)
    Path(str(log) + ".parsed").write_text(parse.stdout + parse.stderr)
    m = re.search(r"Ran (\d+) tests?: (.*)", parse.stdout)
    parsed = {"failed": 0, "crashed": 0, "errors": 0}
    if m:
        for k, v in re.findall(r"(\w+): (\d+)", m.group(2)):
            parsed[k] = int(v)
    counts, suites, with_totals = kernel_counts(kunit_text)
    total = counts["total"]
    if suites == 0:
        problems.append("KUnit ran no suite")
    elif with_totals != suites:
        problems.append(f"{suites - with_totals} of {suites} suites printed no '# Totals:' "
                        "line (is kunit.stats_enabled=2 on the command line?)")
    failed = max(counts["failed"], parsed["failed"] + parsed["crashed"] + parsed["errors"])
    if failed or parse.returncode:
        problems.append(f"{failed} test(s) failed (see {log}.parsed)")
    pin = pins_for(label)
    paths = set(EDU_PATH.findall(kunit_text))
    if pin is None:
        problems.append(f"no counts pinned for '{label}' in {PINS}")
    else:
        want = dict(zip(("total", "passed", "skipped"), pin[:3]))
        got = {k: counts[k] for k in want}
        if got != want:
            problems.append("ran " + ", ".join(f"{got[k]} {k}" for k in want) + "; pinned "
                            + ", ".join(f"{want[k]} {k}" for k in want))
        if pin[4] is not None:
            m = DMA_API_COUNT.search(text)
            if not m:
                problems.append(f"no DMA-API error count at the end (from /init); pinned {pin[4]}")
            elif m.group(1) != str(pin[4]):
                problems.append(f"DMA-API debug counted {m.group(1)} errors by the end; "
                                f"pinned {pin[4]}")
        if pin[5] is not None:
            m = MMAP_INIT.search(text)
            traced = ALLOC_TRACED.findall(text)
            got_path = [traced_path(t) for t in traced]
            if not m or not m.group(1).startswith("ok"):
                problems.append("mmap module from user space: "
                                + (m.group(1) if m else "no report from /init"))
            elif got_path != [pin[5]]:
                problems.append("mmap module's buffer traced on "
                                f"{' and '.join(got_path) or 'no'} path; pinned {pin[5]}")
        # the counts hold when one case is swapped for another, or renamed
        # past a check that keys on its name: the names are pinned too
        pinned = CASES / label
        if not pinned.is_file():
            problems.append(f"no case names pinned for '{label}' in {CASES}")
        else:
            want_names = [l.strip() for l in pinned.read_text().splitlines()
                          if l.strip() and not l.startswith("#")]
            got_names = case_names(kunit_text)
            if got_names != want_names:
                gone = [n for n in want_names if n not in got_names]
                new = [n for n in got_names if n not in want_names]
                problems.append("cases differ from " + str(pinned) + ": "
                                + "; ".join(([f"missing {', '.join(gone[:5])}"] if gone else [])
                                            + ([f"not pinned {', '.join(new[:5])}"] if new else [])
                                            + ([] if gone or new else ["in another order"])))
        # '-': a boot without edu, where no round trip may run
        if paths != ({pin[3]} if pin[3] != "-" else set()):
            problems.append(f"edu's round trip took {' and '.join(sorted(paths)) or 'no'} path; "
                            f"pinned {pin[3]}")
    if "reboot: Power down" not in text:
        problems.append("the kernel did not power off at the end of the run")

    # The refused arguments come from the args suite and the invasive
    # module's misuse suite; a boot without them (the bisect's, the
    # robot's) is held to its pinned counts instead, and under
    # panic_on_warn the cases that would warn skip.
    pow_boot = re.search(r"Kernel command line:.* panic_on_warn=1", text)
    missing = [w for suite, ws in WARNINGS_BY_SUITE.items()
               if f"# Subtest: {suite}" in kunit_text and not pow_boot
               for w in ws if w not in text]
    if missing:
        problems.append("expected warnings missing: " + "; ".join(missing))
    # the args suite makes each check refuse many times, in process context
    # and in hard interrupt context: each must warn once
    repeated = [f"'{w}' {n} times" for w in EXPECTED_WARNINGS
                if (n := len(re.findall(r"\] .*" + re.escape(w), text))) > 1]
    if repeated:
        problems.append("warned more than once: " + "; ".join(repeated))
    sites = warning_sites(text)
    unexpected = [f"{f} {fn}" for f, fn, allowed in sites if not allowed]
    other = len(ANY_WARNING.findall(text)) - len(sites)
    if other > 0:
        unexpected.append(f"{other} warning(s) in another format")
    if unexpected:
        problems.append("unexpected warnings: " + "; ".join(unexpected[:5]))
    # DMA-API debug must be on and stay on: once it disables itself it
    # reports nothing, which must not read as "no DMA-API error".
    if "DMA-API: debugging enabled by kernel config" not in text:
        problems.append("DMA-API debug did not say it was enabled")
    if DMA_API_OFF.search(text):
        problems.append("DMA-API debug disabled itself")
    errs = DMA_API_ERR.findall(text)
    bad_errs = [e for e in errs if not e.startswith(EXPECTED_DMA_API)]
    if bad_errs:
        problems.append("DMA-API errors: " + "; ".join(bad_errs[:3]))
    if "dma_noncontig_debug" in text and not pow_boot and \
            not any(e.startswith(EXPECTED_DMA_API) for e in errs):
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
