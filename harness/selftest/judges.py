#!/usr/bin/env python3
"""Self-tests of the three judges (judge-log.py, judge-hardened.py and
judge-callers.py) on canned console logs.

Usage: judges.py KERNEL_TREE SCRATCH_DIR

Each case gives a judge a log and says what the judge must answer: its exit
status and lines it must print (its own line for the fault, not just any
non-zero exit: a Python traceback is not a caught fault).  The logs are
synthetic, built below, or real console logs of the harness's boots kept
in testdata/ (refresh them from build/logs/ when the suite's output
changes), some with one fault written into them.

Then the mutants: each check a judge makes is removed from a copy of the
judges, and the case written for that check must then go wrong.  A check
no case needs would pass that test on a broken judge: such a check cannot
fail, which is a defect of the self-tests.

Prints one 'selftest: ok|FAIL NAME' line per case and per mutant and exits
non-zero if any is wrong.
"""
import importlib.util
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "testdata"
# the judges themselves, in harness/
JUDGE_DIR = HERE.parent
JUDGES = ("judge-log.py", "judge-hardened.py", "judge-callers.py")
PINS, PINS_REAL_HARDENED = "pins", "pins-real-hardened"
CASES, CASES_REAL_HARDENED = "cases", "cases-real-hardened"
T = "[    2.000000] "

# ---------------------------------------------------------------------------
# judge-log.py: synthetic KUnit boots


def suite(n, name, cases, path="IOMMU"):
    """A suite of passing cases as 6.1 prints it with kunit.stats_enabled=2."""
    lines = ["    KTAP version 1", f"    # Subtest: {name}", f"    1..{len(cases)}"]
    for i, case in enumerate(cases, 1):
        if case == "edu_round_trip":
            lines.append(f"    # edu_round_trip: {path} path: 65536 byte buffer in 16 CPU "
                         "entries, one DMA segment 0xfff00000+0x10000; 8 device transfers "
                         "round-tripped")
        lines += [f"    # {case}: pass:1 fail:0 skip:0 total:1", f"    ok {i} {case}"]
    lines += [f"# {name}: pass:{len(cases)} fail:0 skip:0 total:{len(cases)}",
              f"# Totals: pass:{len(cases)} fail:0 skip:0 total:{len(cases)}",
              f"ok {n} {name}"]
    return lines


def ktap(skipped_params=False, path="IOMMU", totals=True, failing=False, extra=()):
    """A KUnit run: the args suite (two cases, one parameterised), edu's
    round trip, and EXTRA suites of (name, [cases])."""
    lines = ["KTAP version 1", f"1..{2 + len(extra)}",
             "    KTAP version 1", "    # Subtest: dma_noncontig_args", "    1..2",
             "        KTAP version 1", "        # Subtest: args_refused_behind_iommu",
             # 6.1 prints a skipped parameter as a plain 'ok'
             "        ok 1 size zero", "        ok 2 bad direction",
             "    # args_refused_behind_iommu: "
             + ("pass:0 fail:0 skip:2 total:2" if skipped_params else "pass:2 fail:0 skip:0 total:2"),
             "    ok 1 args_refused_behind_iommu" + (" # SKIP no IOMMU" if skipped_params else ""),
             "    # args_device_without_mask_is_refused: pass:1 fail:0 skip:0 total:1",
             ("    not ok" if failing else "    ok") + " 2 args_device_without_mask_is_refused",
             f"# dma_noncontig_args: pass:{1 if skipped_params else 2} fail:0 "
             f"skip:{1 if skipped_params else 0} total:2"]
    if totals:
        lines.append(f"# Totals: pass:{1 if skipped_params else 3} fail:0 "
                     f"skip:{2 if skipped_params else 0} total:3")
    lines.append("ok 1 dma_noncontig_args")
    lines += suite(2, "dma_noncontig_edu", ["edu_round_trip"], path)
    for n, (name, cases) in enumerate(extra, 3):
        lines += suite(n, name, cases)
    return [T + l for l in lines]


GENERIC_WARN = False


def warning(msg, site="kernel/dma/mapping.c:700 dma_noncontig_args_ok+0x10/0x20"):
    """A warning as the kernel prints it: the message before the 'WARNING:'
    line (x86, arm64, powerpc), or after it (GENERIC_WARN: 32-bit arm)."""
    if GENERIC_WARN:
        return [T + "------------[ cut here ]------------",
                T + f"WARNING: CPU: 0 PID: 1 at {site}", T + msg, T + "Modules linked in:"]
    return [T + "------------[ cut here ]------------", T + msg,
            T + f"WARNING: CPU: 0 PID: 1 at {site}", T + "Modules linked in:"]


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_")[:-3], JUDGE_DIR / name)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the warnings the suite provokes on purpose, as judge-log.py expects them
judge_log = load("judge-log.py")
EXPECTED = judge_log.EXPECTED_WARNINGS
WRONG_SIZE = ("DMA-API: platform dma-noncontig-test: device driver frees DMA memory with "
              "different size [device address=0x0] [map size=8192 bytes] [unmap size=4096 bytes]")
DEBUG_SUITE = ("dma_noncontig_debug", ["debug_reports_free_with_wrong_size"])
WRITE_SUITE = ("dma_noncontig_iommu", ["iommu_device_cannot_write_to_device_buffer"])
DMAR_FAULT = ("[    3.0] DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr "
              "0x3ffee000 [fault reason 0x05] PTE Write access is not set\n")
SMMU_FAULT = "[    3.0] arm-smmu-v3 9050000.smmuv3: event 0x13 received:\n"


def boot(wrong_size=True, fault="", module=(), without=(), **kw):
    """A KUnit boot: the warnings, the built-in suites (ktap(**kw)), /init,
    and the suites of MODULE, (name, [(case, ok)]), loaded by /init; the
    expected warnings but those in WITHOUT."""
    log = ["[    0.500000] DMA-API: debugging enabled by kernel config",
           "[    0.600000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)"]
    for w in EXPECTED:
        if w not in without:
            log += warning(f"platform dma-noncontig-test: expect_refused+0x1/0x2: {w} 0")
    if wrong_size:
        log += warning(WRONG_SIZE, "kernel/dma/debug.c:1000 check_unmap+0x1/0x2")
    log += [l.rstrip("\n") for l in [fault] if l]
    log += ktap(**kw)
    log += ["noncontig-kunit: init started"]
    for n, (name, cases) in enumerate(module, 10):
        good = sum(ok for _, ok in cases)
        log += [T + "    KTAP version 1", T + f"    # Subtest: {name}", T + f"    1..{len(cases)}"]
        for i, (case, ok) in enumerate(cases, 1):
            log += [T + f"    # {case}: pass:{int(ok)} fail:{int(not ok)} skip:0 total:1",
                    T + f"    {'ok' if ok else 'not ok'} {i} {case}"]
        log += [T + f"# {name}: pass:{good} fail:{len(cases) - good} skip:0 total:{len(cases)}",
                T + f"# Totals: pass:{good} fail:{len(cases) - good} skip:0 total:{len(cases)}",
                T + f"{'ok' if good == len(cases) else 'not ok'} {n} {name}",
                "noncontig-kunit: /dma_noncontig_invasive_kunit.ko: loaded"]
    log += ["[    4.000000] dma-noncontig-mmap: 64 KiB buffer in 3 CPU entries for 0000:00:03.0",
            "noncontig-kunit: mmap: ok offsets 0, 3 and 15, every byte; past the end refused",
            "noncontig-kunit: alloc traced: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=fff00000 "
            "size=65536 phys_addrs={0x10a000,0x10c000,0x110000} "
            "flags=GFP_KERNEL|__GFP_NOWARN|__GFP_RETRY_MAYFAIL attrs=",
            "noncontig-kunit: dma-api errors: 2",
            "[    5.000000] reboot: Power down"]
    return "\n".join(log) + "\n"


def before_init(text, line):
    """TEXT with LINE inserted where /init starts (inside the KUnit part)."""
    return text.replace("noncontig-kunit: init started", line + "\nnoncontig-kunit: init started", 1)


# ---------------------------------------------------------------------------
# judge-hardened.py: synthetic hardened boots

HTAG = "noncontig-hardened: "

# a failed expectation as KUnit 6.1 prints it, for the direct path's test
FAILED = ["[    3.000000]     # faults_direct: EXPECTATION FAILED at lib/tests/x.c:323",
          "[    3.000000]     Expected limit < (long)faulted.failed_allocs, but",
          "[    3.000000]         limit == 32",
          "[    3.000000]         (long)faulted.failed_allocs == 30"]


def hardened(kmemleak="0", init=True, failing_phase=None, injected=None, unhit=None,
             skip_phase=None, suite_fails=None, dma_api_end=8):
    """The hardened boot: the KUnit suites, then /init's fault phases; the
    direct path's test fails in FAILING_PHASE; INJECTED maps a phase to its
    count of injected faults; UNHIT is (phase, path) where no call failed;
    SKIP_PHASE never runs; the module suite of SUITE_FAILS says 'not ok'."""
    text = boot().replace("[    5.000000] reboot: Power down\n", "")
    if not init:
        text = text.replace("kmemleak: Kernel memory leak detector initialized", "kmemleak: other")
    out = [HTAG + "init started", HTAG + "invasive tests done",
           HTAG + "dma-api errors after the KUnit suites: 8",
           HTAG + f"kmemleak after the KUnit suites: {kmemleak}"]
    for phase, paths in (("page_alloc", ("direct", "iommu")), ("slab", ("direct", "iommu")),
                         ("iova", ("iommu",)), ("map", ("iommu",)), ("all", ("direct", "iommu"))):
        if phase == skip_phase:
            continue
        out.append(HTAG + f"phase {phase} begin")
        for i, p in enumerate(("direct", "iommu")):
            hit = p in paths and (phase, p) != unhit
            out += [f"[    3.000000]     # faults_{p}: faults: {p}: 500 calls, "
                    f"{100 if hit else 0} allocations failed, 0 vmaps failed, 0 bad buffers",
                    f"[    3.000000]     # faults_{p}: faults: {p}: 2 pages and 12 KiB slab not back; "
                    f"the clean run moved 5 pages, limit 21"]
            if p == "iommu":
                out.append("[    3.000000]     # faults_iommu: faults: iommu: 0 IOVA ranges not given back")
            if phase == failing_phase and p == "direct":
                out += FAILED + [f"[    3.000000]     not ok {i + 1} faults_{p}"]
            else:
                out.append(f"[    3.000000]     ok {i + 1} faults_{p}")
        out += ["[    3.000000] " + ("not ok" if phase == suite_fails else "ok")
                + " 3 dma_noncontig_faults", HTAG + f"phase {phase} end",
                HTAG + f"phase {phase} injected {(injected or {}).get(phase, 100)}"]
    out += [HTAG + f"kmemleak after the fault phases: {kmemleak}",
            HTAG + f"dma-api errors at the end: {dma_api_end}", HTAG + "done",
            "[    9.000000] reboot: Power down"]
    return text + "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# judge-callers.py: synthetic callers boots, the noise they play and wav
# files of what QEMU's audio device wrote

CT = "noncontig-callers: "


def make_audio(d):
    """noise-rw.raw and noise-mmap.raw as callers-run.sh makes them, and wav
    files: good, one byte wrong, one stretch dropped (seen under TCG on a
    loaded machine), two stretches (a wrong page repeats its gap on every
    lap of the ring buffer), one stretch longer than dropped audio."""
    pcm = b""
    for kind in ("rw", "mmap"):
        block = random.Random(kind).randbytes(2 * 44100 * 4)
        (d / f"noise-{kind}.raw").write_bytes(block + bytes(44100))
        pcm += block + bytes(1000)
    hdr = (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
           + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 176400, 4, 16) + b"data"
           + struct.pack("<I", len(pcm)))
    (d / "good.wav").write_bytes(hdr + pcm)
    bad = bytearray(hdr + pcm)
    bad[len(hdr) + 1000] ^= 1
    (d / "bad.wav").write_bytes(bytes(bad))

    def cut(raw, at, n):
        return raw[:len(hdr) + at] + raw[len(hdr) + at + n:]
    (d / "drop.wav").write_bytes(cut(hdr + pcm, 143088, 8192))
    (d / "twodrops.wav").write_bytes(cut(cut(hdr + pcm, 200000, 4096), 20000, 4096))
    (d / "longdrop.wav").write_bytes(cut(hdr + pcm, 143088, 20480))


def ctrace(task, f, p, pid=39):
    return f"{CT}trace            {task}-{pid}      [000] .....     1.0: {f} <-{p}"


def callers(mode, pids=(39, 40)):
    """A callers boot: two aplay runs (the second with -M: it mmaps), and
    without the IOMMU vivid-capture's three buffers."""
    log = ["[    0.7] DMA-API: debugging enabled by kernel config", CT + "init started",
           CT + "aplay rw exit 0", CT + "aplay mmap exit 0"]
    if mode == "off":
        log += [CT + "vivid frames intact", CT + "vivid exit 0"]
    log.append(CT + "trace begin")
    for pid in pids:
        log.append(ctrace("aplay", "dma_alloc_noncontiguous", "snd_dma_noncontig_alloc", pid))
        log.append(ctrace("aplay", "iommu_dma_alloc_noncontig", "dma_alloc_noncontiguous", pid)
                   if mode == "on" else
                   ctrace("aplay", "dma_direct_alloc_pages", "dma_alloc_noncontiguous", pid))
        log.append(ctrace("aplay", "dma_vmap_noncontiguous", "snd_dma_noncontig_alloc", pid))
        if pid == 40:
            log.append(ctrace("aplay", "dma_mmap_noncontiguous", "snd_pcm_mmap_data", pid))
        log += [ctrace("aplay", "dma_vunmap_noncontiguous", "snd_dma_noncontig_free", pid),
                ctrace("aplay", "dma_free_noncontiguous", "snd_pcm_lib_free_pages", pid)]
    for _ in range(3 if mode == "off" else 0):
        log += [ctrace("vivid-capture", "dma_alloc_noncontiguous", "vb2_dc_alloc", 50),
                ctrace("vivid-capture", "dma_direct_alloc_pages", "dma_alloc_noncontiguous", 50),
                ctrace("vivid-000-vid-c", "dma_vmap_noncontiguous", "vb2_dc_vaddr", 49),
                ctrace("vivid-capture", "dma_mmap_noncontiguous", "vb2_mmap", 50),
                ctrace("vivid-capture", "dma_vunmap_noncontiguous", "vb2_dc_put", 50),
                ctrace("vivid-capture", "dma_free_noncontiguous", "vb2_dc_put", 50)]
    log += [CT + "trace end", CT + "dma-api errors: 0", CT + "done", "[    5.0] reboot: Power down"]
    return "\n".join(log) + "\n"


def drop_line(text, needle):
    """TEXT without its first line containing NEEDLE."""
    lines = text.splitlines(keepends=True)
    i = next(i for i, l in enumerate(lines) if needle in l)
    return "".join(lines[:i] + lines[i + 1:])


# ---------------------------------------------------------------------------


def cases():
    """(name, judge, log text, extra arguments, exit status, lines, pins)."""
    global GENERIC_WARN
    GENERIC_WARN = True
    generic = boot()
    generic_other = generic + "\n".join(warning(
        "platform x: something else went wrong",
        "kernel/dma/mapping.c:710 dma_alloc_noncontiguous+0x1/0x2")) + "\n"
    GENERIC_WARN = False
    good = boot()
    dbg = boot(extra=[DEBUG_SUITE])
    wr = boot(extra=[WRITE_SUITE])
    renamed = good.replace("edu_round_trip", "edu_round_trip_again")
    MASK = "noncontiguous DMA allocation for a device without a DMA mask"
    modboot = boot(module=[("dma_noncontig_misuse", [("m1", True)])])
    real = (DATA / "kunit-x86_64-on.log").read_text()
    real_h = (DATA / "hardened-x86_64.log").read_text()
    real_con = (DATA / "callers-x86_64-on.log").read_text()
    real_coff = (DATA / "callers-x86_64-off.log").read_text()
    con, coff = callers("on"), callers("off")

    def log(name, text, label, rc, *want):
        return (name, "judge-log.py", text, [label], rc, want, PINS)

    def hard(name, text, rc, *want):
        # the real hardened boot's KUnit part is held to its own counts
        pins = PINS_REAL_HARDENED if text.startswith(real_h[:200]) else PINS
        return (name, "judge-hardened.py", text, [], rc, want, pins)

    def call(name, text, wav, mode, rc, *want):
        return (name, "judge-callers.py", text, [wav, mode], rc, want, PINS)

    return [
        log("judge_log_passes_a_good_boot", good, "synthetic", 0, "kunit-synthetic: 4 tests: 4 passed"),
        log("judge_log_passes_a_real_boot", real, "real-on", 0,
            "kunit-real-on: 84 tests: 78 passed, 0 failed, 6 skipped; 8 warnings (0 unexpected)"),
        log("judge_log_counts_skipped_parameters_as_skips", boot(skipped_params=True), "synthetic", 1,
            "ran 4 total, 2 passed, 2 skipped; pinned 4 total, 4 passed, 0 skipped"),
        log("judge_log_requires_pinned_counts", good, "unpinned", 1, "no counts pinned for 'unpinned'"),
        log("judge_log_requires_the_pinned_path", boot(path="direct"), "synthetic", 1,
            "edu's round trip took direct path; pinned IOMMU"),
        # same counts, same path: only the names tell
        log("judge_log_requires_the_pinned_case_names", renamed, "synthetic", 1,
            "/synthetic: missing dma_noncontig_edu.edu_round_trip; "
            "not pinned dma_noncontig_edu.edu_round_trip_again"),
        log("judge_log_requires_the_pinned_case_names_in_a_real_boot",
            real.replace("iommu_only_page_size_orders", "iommu_any_order"), "real-on", 1,
            "/real-on: missing dma_noncontig_iommu_memory.iommu_only_page_size_orders; "
            "not pinned dma_noncontig_iommu_memory.iommu_any_order"),
        log("judge_log_requires_case_names_pinned", good, "synthetic-nocases", 1,
            "no case names pinned for 'synthetic-nocases'"),
        log("judge_log_requires_every_suites_totals", boot(totals=False), "synthetic", 1,
            "1 of 2 suites printed no '# Totals:' line"),
        log("judge_log_fails_a_boot_that_ran_no_suite",
            "\n".join(l for l in good.splitlines() if "KTAP" not in l and "ok " not in l
                      and "# " not in l) + "\n", "synthetic", 1, "KUnit ran no suite"),
        log("judge_log_fails_a_failed_test", boot(failing=True), "synthetic", 1, "test(s) failed"),
        log("judge_log_fails_an_rcu_stall",
            good + "[    4.0] rcu: INFO: rcu_sched self-detected stall on CPU\n",
            "synthetic", 1, "kernel reported: rcu: INFO: rcu_sched self-detected stall"),
        log("judge_log_fails_a_hung_task",
            good + "[    4.0] INFO: task kworker/0:1:12 blocked for more than 120 seconds.\n",
            "synthetic", 1, "kernel reported: INFO: task kworker/0:1:12 blocked for more than"),
        log("judge_log_fails_a_warning_in_another_format",
            good + "[    4.0] WARNING: at drivers/foo.c:12 foo()\n", "synthetic", 1,
            "1 warning(s) in another format"),
        log("judge_log_fails_another_warning_at_an_allowed_site",
            good + "\n".join(warning("platform x: something else went wrong",
                                     "kernel/dma/mapping.c:710 dma_alloc_noncontiguous+0x1/0x2")) + "\n",
            "synthetic", 1, "unexpected warnings: kernel/dma/mapping.c dma_alloc_noncontiguous+0x1/0x2"),
        log("judge_log_reads_a_warnings_message_after_it_on_32_bit_arm", generic, "synthetic", 0,
            "kunit-synthetic: 4 tests: 4 passed"),
        log("judge_log_fails_another_warning_at_an_allowed_site_on_32_bit_arm", generic_other,
            "synthetic", 1, "unexpected warnings: kernel/dma/mapping.c dma_alloc_noncontiguous+0x1/0x2"),
        # the suites of the modules /init loads count with the built-in ones
        log("judge_log_counts_the_modules_suites", modboot, "synthetic-module", 0,
            "kunit-synthetic-module: 5 tests: 5 passed, 0 failed"),
        log("judge_log_fails_a_failed_case_in_a_module",
            boot(module=[("dma_noncontig_misuse", [("m1", False)])]), "synthetic-module", 1,
            "1 test(s) failed"),
        log("judge_log_requires_the_module_suites_warning", boot(
            module=[("dma_noncontig_misuse", [("m1", True)])], without=[MASK]), "synthetic-module", 1,
            "expected warnings missing: " + MASK),
        # the robot's boot: no module, so no warning of its suites
        log("judge_log_needs_no_module_warning_without_the_module", boot(without=[MASK]),
            "synthetic", 0, "kunit-synthetic: 4 tests: 4 passed"),
        # under panic_on_warn the cases that would warn skip: no warning
        log("judge_log_requires_no_warning_under_panic_on_warn",
            "[    0.0] Kernel command line: console=ttyS0 panic_on_warn=1\n"
            + boot(without=EXPECTED, wrong_size=False, extra=[DEBUG_SUITE]), "synthetic-debug", 0,
            "kunit-synthetic-debug: 5 tests: 5 passed"),
        log("judge_log_requires_no_round_trip_without_edu", good, "synthetic-noedu", 1,
            "edu's round trip took IOMMU path; pinned -"),
        log("judge_log_fails_a_missing_expected_warning",
            good.replace("with zone modifier", "with zone"), "synthetic", 1,
            "expected warnings missing: noncontiguous DMA allocation with zone modifier"),
        log("judge_log_fails_a_check_that_warns_twice",
            good + "\n".join(warning("platform dma-noncontig-test: "
                                     "noncontiguous DMA allocation of invalid size 0")) + "\n",
            "synthetic", 1,
            "warned more than once: 'noncontiguous DMA allocation of invalid size' 2 times"),
        log("judge_log_fails_an_unexpected_dma_api_error",
            before_init(good, "[    3.0] DMA-API: pci 0000:00:03.0: device driver tries to free "
                              "DMA memory it has not allocated [device address=0x1000] [size=4096 bytes]"),
            "synthetic", 1, "DMA-API errors: device driver tries to free DMA memory it has not allocated"),
        log("judge_log_passes_the_debug_suites_wrong_size_report", dbg, "synthetic-debug", 0,
            "kunit-synthetic-debug: 5 tests: 5 passed"),
        log("judge_log_requires_the_wrong_size_report", boot(wrong_size=False, extra=[DEBUG_SUITE]),
            "synthetic-debug", 1, "DMA-API debug did not report the free with a wrong size"),
        log("judge_log_requires_the_wrong_size_report_in_a_real_boot",
            drop_line(real, "frees DMA memory with different size"), "real-on", 1,
            "DMA-API debug did not report the free with a wrong size"),
        log("judge_log_passes_a_write_fault_from_intel_iommu", boot(fault=DMAR_FAULT, extra=[WRITE_SUITE]),
            "synthetic-write", 0, "kunit-synthetic-write: 5 tests: 5 passed"),
        log("judge_log_passes_a_write_fault_from_the_smmuv3", boot(fault=SMMU_FAULT, extra=[WRITE_SUITE]),
            "synthetic-write", 0, "kunit-synthetic-write: 5 tests: 5 passed"),
        log("judge_log_requires_the_iommu_write_fault", wr, "synthetic-write", 1,
            "no IOMMU fault logged for the device write into a DMA_TO_DEVICE buffer"),
        log("judge_log_requires_the_iommu_write_fault_in_a_real_boot",
            drop_line(real, "PTE Write access is not set"), "real-on", 1,
            "no IOMMU fault logged for the device write into a DMA_TO_DEVICE buffer"),
        log("judge_log_fails_an_allocation_failure_report",
            before_init(good, "[    3.0] kunit_try_catch: page allocation failure: order:10, "
                              "mode:0x40cc0(GFP_KERNEL|__GFP_COMP)"),
            "synthetic", 1, "'page allocation failure' in the log"),
        log("judge_log_fails_an_oom_kill",
            before_init(good, "[    3.0] kunit_try_catch invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)"),
            "synthetic", 1, "'invoked oom-killer' in the log"),
        log("judge_log_fails_the_mmap_module",
            good.replace("mmap: ok offsets 0, 3 and 15, every byte; past the end refused",
                         "mmap: FAIL the last page alone"), "synthetic", 1,
            "mmap module from user space: FAIL the last page alone"),
        log("judge_log_requires_the_mmap_module",
            good.replace("noncontig-kunit: mmap: ok", "noncontig-kunit: other"), "synthetic", 1,
            "mmap module from user space: no report from /init"),
        log("judge_log_requires_the_mmap_modules_path",
            good.replace("dma_addr=fff00000", "dma_addr=10a000")
                .replace("{0x10a000,0x10c000,0x110000}", "{0x10a000}"),
            "synthetic", 1, "mmap module's buffer traced on direct path; pinned IOMMU"),
        log("judge_log_requires_several_entries_behind_the_iommu",
            good.replace("{0x10a000,0x10c000,0x110000}", "{0x10a000}"),
            "synthetic", 1, "mmap module's buffer traced on ops path; pinned IOMMU"),
        log("judge_log_requires_the_traced_allocation",
            good.replace("noncontig-kunit: alloc traced: ", "noncontig-kunit: other: "),
            "synthetic", 1, "mmap module's buffer traced on no path; pinned IOMMU"),
        log("judge_log_fails_an_unreadable_trace", good.replace("phys_addrs={", "phys_addrs=["),
            "synthetic", 1, "mmap module's buffer traced on unreadable event"),
        log("judge_log_fails_dma_api_debug_disabling_itself",
            good + "[    4.0] DMA-API: debugging out of memory - disabling\n", "synthetic", 1,
            "DMA-API debug disabled itself"),
        log("judge_log_fails_dma_api_debug_never_enabled",
            good.replace("DMA-API: debugging enabled by kernel config", "DMA-API: hello"), "synthetic", 1,
            "DMA-API debug did not say it was enabled"),
        log("judge_log_requires_the_pinned_dma_api_error_count",
            good.replace("dma-api errors: 2", "dma-api errors: 3"), "synthetic", 1,
            "DMA-API debug counted 3 errors by the end; pinned 2"),
        log("judge_log_requires_a_dma_api_error_count", good.replace("dma-api errors: 2", "hello"),
            "synthetic", 1, "no DMA-API error count at the end (from /init); pinned 2"),
        log("judge_log_fails_without_power_off", good.replace("reboot: Power down", "still running"),
            "synthetic", 1, "the kernel did not power off"),

        hard("judge_hardened_passes_a_good_boot", hardened(), 0, "kmemleak-on: ok"),
        hard("judge_hardened_passes_a_real_boot", real_h, 0, "faults-all: ok", "hardened-boot: ok"),
        hard("judge_hardened_fails_kmemleak_refusing_its_scan", hardened(kmemleak="off (scan refused)"),
             1, "kmemleak-on: FAIL kmemleak off: "),
        hard("judge_hardened_fails_kmemleak_disabled",
             hardened() + "[    4.0] kmemleak: Kernel memory leak detector disabled\n", 1,
             "kmemleak-on: FAIL kmemleak off: "),
        hard("judge_hardened_fails_kmemleak_never_started", hardened(init=False), 1,
             "kmemleak-on: FAIL kmemleak never initialized"),
        hard("judge_hardened_fails_a_kmemleak_report", hardened(kmemleak="3"), 1,
             "kmemleak: FAIL 3 unreferenced objects after the KUnit suites (expected 0)"),
        hard("judge_hardened_fails_a_kmemleak_report_in_a_real_boot",
             real_h.replace("kmemleak after the fault phases: 0", "kmemleak after the fault phases: 1"),
             1, "kmemleak: FAIL 1 unreferenced objects after the fault phases (expected 0)"),
        hard("judge_hardened_requires_the_leak_figures",
             hardened().replace("pages and 12 KiB slab not back", "pages and 12 KiB slab elsewhere"), 1,
             "faults-page_alloc: FAIL"),
        hard("judge_hardened_requires_the_iova_count",
             hardened().replace("IOVA ranges not given back", "IOVA ranges elsewhere"), 1,
             "faults-page_alloc: FAIL"),
        hard("judge_hardened_requires_injected_faults", hardened(injected={"iova": 0}), 1,
             "faults-iova: FAIL 2/2 tests passed, 1000 calls, 100 failed, 0 faults injected"),
        hard("judge_hardened_requires_a_failed_call_on_every_path",
             hardened(unhit=("page_alloc", "iommu")), 1,
             "faults-page_alloc: FAIL 2/2 tests passed, 1000 calls, 100 failed, 100 faults "
             "injected, but no call failed on: iommu"),
        hard("judge_hardened_requires_every_phase", hardened(skip_phase="map"), 1,
             "faults-map: FAIL phase did not run"),
        hard("judge_hardened_requires_every_phase_in_a_real_boot",
             real_h.replace(HTAG + "phase map begin", HTAG + "phase map started"), 1,
             "faults-map: FAIL phase did not run"),
        hard("judge_hardened_requires_the_module_suites_verdict", hardened(suite_fails="slab"), 1,
             "faults-slab: FAIL 2/2 tests passed"),
        hard("judge_hardened_requires_every_deliberate_dma_api_error",
             hardened().replace("dma-api errors after the KUnit suites: 8",
                                "dma-api errors after the KUnit suites: 7"), 1,
             "dma-api-debug: FAIL 7 errors counted after the debug suite (expected 8)"),
        hard("judge_hardened_fails_a_dma_api_error_under_faults", hardened(dma_api_end=9), 1,
             "dma-api-faults: FAIL 9 DMA-API errors at the end (expected 8: none from the faults)"),
        # a failed phase names its first failed expectation, values included
        hard("judge_hardened_names_a_failed_expectation", hardened(failing_phase="all"), 1,
             "faults-all: FAIL 1/2 tests passed, 1000 calls, 200 failed, 100 faults injected, "
             "0 IOVA ranges not given back; first failure: faults_direct at lib/tests/x.c:323: "
             "Expected limit < (long)faulted.failed_allocs, but limit == 32 "
             "(long)faulted.failed_allocs == 30"),
        # a boot cut short after the fault phases: no report in the part that
        # ran is no evidence about the rest
        hard("judge_hardened_fails_the_sanitizers_on_a_cut_boot", hardened().split(HTAG + "done")[0], 1,
             "sanitizers: FAIL 0 sanitizer reports (expected 0) (but the boot did not finish"),
        hard("judge_hardened_fails_kmemleak_on_a_cut_boot", hardened().split(HTAG + "done")[0], 1,
             "kmemleak-on: FAIL kmemleak initialized and never disabled (but the boot did not finish"),

        call("judge_callers_passes_a_good_boot_with_the_iommu", con, "good.wav", "on", 0,
             "callers-hda-on: ok"),
        call("judge_callers_passes_a_good_boot_without", coff, "good.wav", "off", 0,
             "callers-hda-off: ok", "callers-vivid: ok"),
        call("judge_callers_passes_a_real_boot_with_the_iommu", real_con, "good.wav", "on", 0,
             "callers-hda-on: ok   2 buffers from ALSA through the API (IOMMU path)"),
        call("judge_callers_passes_a_real_boot_without", real_coff, "good.wav", "off", 0,
             "callers-hda-off: ok", "callers-vivid: ok   3 non-coherent buffers"),
        call("judge_callers_fails_foreign_audio", con, "bad.wav", "on", 1,
             "callers-hda-on: FAIL the rw noise is not in", "byte 1000 of it is not the noise"),
        call("judge_callers_reports_one_stretch_of_dropped_audio", con, "drop.wav", "on", 0,
             "callers-hda-on: ok", "audio dropped under TCG: rw 8192 bytes at 143088"),
        call("judge_callers_fails_two_stretches_of_dropped_audio", con, "twodrops.wav", "on", 1,
             "callers-hda-on: FAIL the rw noise misses 2 stretches (8192 bytes)"),
        call("judge_callers_fails_a_long_stretch_of_dropped_audio", con, "longdrop.wav", "on", 1,
             "callers-hda-on: FAIL the rw noise misses 1 stretches (20480 bytes)"),
        call("judge_callers_requires_the_pinned_path", con, "good.wav", "off", 1,
             "callers-hda-off: FAIL 2 allocations on the IOMMU path and 0 on the direct path"),
        call("judge_callers_requires_the_mmap", con.replace("dma_mmap_noncontiguous", "other"),
             "good.wav", "on", 1, "callers-hda-on: FAIL aplay -M did not map the buffer"),
        call("judge_callers_fails_a_warning",
             con + "[    4.0] WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x0/0x1\n", "good.wav", "on", 1,
             "callers-hda-on: FAIL 1 warning line(s), first: [    4.0] WARNING:"),
        call("judge_callers_requires_vivids_frames",
             coff.replace(CT + "vivid frames intact\n", CT + "vivid FAIL\n"), "good.wav", "off", 1,
             "callers-hda-off: ok", "callers-vivid: FAIL vivid-capture did not see every frame intact"),
        call("judge_callers_requires_vivid_to_exit_0", coff.replace("vivid exit 0", "vivid exit 1"),
             "good.wav", "off", 1, "callers-hda-off: ok", "callers-vivid: FAIL vivid-capture did not exit 0"),
        call("judge_callers_requires_vivid_to_use_the_api",
             coff.replace("dma_alloc_noncontiguous <-vb2_dc_alloc", "dma_alloc_attrs <-vb2_dc_alloc", 1),
             "good.wav", "off", 1, "callers-hda-off: ok",
             "callers-vivid: FAIL videobuf2-dma-contig made 2 allocations"),
        call("judge_callers_requires_vivid_on_the_direct_path",
             coff.replace(ctrace("vivid-capture", "dma_direct_alloc_pages", "dma_alloc_noncontiguous", 50),
                          ctrace("vivid-capture", "iommu_dma_alloc_noncontig", "dma_alloc_noncontiguous", 50)),
             "good.wav", "off", 1, "callers-hda-off: ok",
             "callers-vivid: FAIL 3 of vivid's allocations on the IOMMU path and 0 on the direct path"),
        call("judge_callers_fails_vivid_in_the_iommu_boot",
             con.replace(CT + "trace begin\n", CT + "vivid exit 0\n" + CT + "trace begin\n"),
             "good.wav", "on", 1, "callers-hda-on: ok", "callers-vivid: FAIL vivid ran in the IOMMU boot"),
        call("judge_callers_requires_aplays_exit_status", con.replace("aplay rw exit 0", "aplay rw exit 1"),
             "good.wav", "on", 1, "callers-hda-on: FAIL aplay rw did not exit 0"),
        call("judge_callers_requires_both_aplay_runs",
             "".join(l for l in con.splitlines(keepends=True) if "aplay-39 " not in l),
             "good.wav", "on", 1, "callers-hda-on: FAIL ALSA allocated 1 buffers with the API"),
        call("judge_callers_requires_every_buffer_freed", drop_line(con, "dma_free_noncontiguous"),
             "good.wav", "on", 1, "callers-hda-on: FAIL 2 allocations but 2 vmaps, 2 vunmaps, 1 frees"),
        call("judge_callers_requires_every_buffer_freed_in_a_real_boot",
             drop_line(real_con, "dma_free_noncontiguous <-"), "good.wav", "on", 1,
             "callers-hda-on: FAIL 2 allocations but 2 vmaps, 2 vunmaps, 1 frees"),
        call("judge_callers_requires_the_whole_trace", con.replace(CT + "trace end", CT + "trace cut"),
             "good.wav", "on", 1, "callers-hda-on: FAIL no trace printed"),
        call("judge_callers_requires_dma_api_debug",
             con.replace("DMA-API: debugging enabled by kernel config", "DMA-API: hello"),
             "good.wav", "on", 1, "callers-hda-on: FAIL DMA-API debug is not on"),
        call("judge_callers_requires_no_dma_api_error", con.replace("dma-api errors: 0", "dma-api errors: 1"),
             "good.wav", "on", 1, "callers-hda-on: FAIL DMA-API debug counted errors (or was not read)"),
        call("judge_callers_fails_dma_api_debug_disabling_itself",
             real_con.replace(CT + "trace begin", "[    4.0] DMA-API: debugging out of memory - disabling\n"
                              + CT + "trace begin"),
             "good.wav", "on", 1, "callers-hda-on: FAIL DMA-API debug disabled itself"),
        call("judge_callers_requires_init_to_finish", con.replace(CT + "done", CT + "cut"),
             "good.wav", "on", 1, "callers-hda-on: FAIL /init did not finish and power off"),
        call("judge_callers_requires_power_off", con.replace("reboot: Power down", "still running"),
             "good.wav", "on", 1, "callers-hda-on: FAIL /init did not finish and power off"),
    ]


# Each check removed from a copy of its judge (judge, text, replacement)
# and the case that must then go wrong.  The text must occur exactly once.
MUTANTS = [
    ("judge-log.py", 'if f"# Subtest: {suite}" in kunit_text and not pow_boot',
     'if False', "judge_log_requires_the_module_suites_warning"),
    ("judge-log.py", 'if f"# Subtest: {suite}" in kunit_text and not pow_boot',
     'if f"# Subtest: {suite}" in kunit_text', "judge_log_requires_no_warning_under_panic_on_warn"),
    ("judge-log.py", '({pin[3]} if pin[3] != "-" else set())', '({pin[3]} if pin[3] != "-" else paths)',
     "judge_log_requires_no_round_trip_without_edu"),
    ("judge-log.py", 'counts, suites, with_totals = kernel_counts(kunit_text)',
     'counts, suites, with_totals = kernel_counts(kunit_text.split("noncontig-kunit: init started")[0])',
     "judge_log_fails_a_failed_case_in_a_module"),
    ("judge-log.py", 'problems.append("KUnit ran no suite")', "pass",
     "judge_log_fails_a_boot_that_ran_no_suite"),
    ("judge-log.py", "bad_errs = [e for e in errs if not e.startswith(EXPECTED_DMA_API)]",
     "bad_errs = []", "judge_log_fails_an_unexpected_dma_api_error"),
    ("judge-log.py", 'if "dma_noncontig_debug" in text and not pow_boot and',
     "if False and", "judge_log_requires_the_wrong_size_report"),
    ("judge-log.py", 'if "dma_noncontig_debug" in text and not pow_boot and',
     "if False and", "judge_log_requires_the_wrong_size_report_in_a_real_boot"),
    ("judge-log.py", 'if "dma_noncontig_debug" in text and not pow_boot and',
     'if "dma_noncontig_debug" in text and', "judge_log_requires_no_warning_under_panic_on_warn"),
    ("judge-log.py", "text, re.M) and not re.search(", "text, re.M) and False and not re.search(",
     "judge_log_requires_the_iommu_write_fault"),
    ("judge-log.py", "text, re.M) and not re.search(", "text, re.M) and False and not re.search(",
     "judge_log_requires_the_iommu_write_fault_in_a_real_boot"),
    ("judge-log.py", 'for what in ("page allocation failure", "invoked oom-killer"):',
     'for what in ("invoked oom-killer",):', "judge_log_fails_an_allocation_failure_report"),
    ("judge-log.py", 'for what in ("page allocation failure", "invoked oom-killer"):',
     'for what in ("page allocation failure",):', "judge_log_fails_an_oom_kill"),
    ("judge-log.py", "if got_names != want_names:", "if False:",
     "judge_log_requires_the_pinned_case_names"),
    ("judge-log.py", "if got_names != want_names:", "if False:",
     "judge_log_requires_the_pinned_case_names_in_a_real_boot"),
    ("judge-log.py", "problems.append(f\"no case names pinned for '{label}' in {CASES}\")", "pass",
     "judge_log_requires_case_names_pinned"),
    ("judge-log.py", 'problems.append("DMA-API debug disabled itself")', "pass",
     "judge_log_fails_dma_api_debug_disabling_itself"),
    ("judge-log.py", 'problems.append("DMA-API debug did not say it was enabled")', "pass",
     "judge_log_fails_dma_api_debug_never_enabled"),
    ("judge-log.py", 'if "reboot: Power down" not in text:', "if False:",
     "judge_log_fails_without_power_off"),

    ("judge-hardened.py", "and injected > 0 and", "and", "judge_hardened_requires_injected_faults"),
    ("judge-hardened.py", "iova is not None\n                and not unhit)", "iova is not None)",
     "judge_hardened_requires_a_failed_call_on_every_path"),
    ("judge-hardened.py", 'ok &= line(f"faults-{phase}", False, "phase did not run")',
     'line(f"faults-{phase}", True, "phase did not run")', "judge_hardened_requires_every_phase"),
    ("judge-hardened.py", 'ok &= line(f"faults-{phase}", False, "phase did not run")',
     'line(f"faults-{phase}", True, "phase did not run")',
     "judge_hardened_requires_every_phase_in_a_real_boot"),
    ("judge-hardened.py", 'counts["errors"] += 1', "pass",
     "judge_hardened_requires_the_module_suites_verdict"),
    ("judge-hardened.py", 'ok &= line("kmemleak", n == 0,', 'ok &= line("kmemleak", True,',
     "judge_hardened_fails_a_kmemleak_report"),
    ("judge-hardened.py", 'ok &= line("kmemleak", n == 0,', 'ok &= line("kmemleak", True,',
     "judge_hardened_fails_a_kmemleak_report_in_a_real_boot"),
    ("judge-hardened.py", 'ok &= line("dma-api-faults", n == EXPECTED_DMA_API_ERRORS,',
     'ok &= line("dma-api-faults", True,', "judge_hardened_fails_a_dma_api_error_under_faults"),

    ("judge-callers.py", 'if "DMA-API: debugging enabled" not in text:', "if False:",
     "judge_callers_requires_dma_api_debug"),
    ("judge-callers.py", 'if not any(l.startswith("dma-api errors: 0") for l in said):', "if False:",
     "judge_callers_requires_no_dma_api_error"),
    ("judge-callers.py", "if judge_log.DMA_API_OFF.search(text):", "if False:",
     "judge_callers_fails_dma_api_debug_disabling_itself"),
    ("judge-callers.py", 'if "done" not in said or "reboot: Power down" not in text:',
     'if "reboot: Power down" not in text:', "judge_callers_requires_init_to_finish"),
    ("judge-callers.py", 'if "done" not in said or "reboot: Power down" not in text:',
     'if "done" not in said:', "judge_callers_requires_power_off"),
    ("judge-callers.py", 'if "trace end" not in said:', "if False:",
     "judge_callers_requires_the_whole_trace"),
    ("judge-callers.py", 'if f"aplay {kind} exit 0" not in said:', "if False:",
     "judge_callers_requires_aplays_exit_status"),
    ("judge-callers.py", 'if "vivid exit 0" not in said:', "if False:",
     "judge_callers_requires_vivid_to_exit_0"),
    ("judge-callers.py", "if (frees, vmaps, vunmaps) != (allocs, allocs, allocs):", "if False:",
     "judge_callers_requires_every_buffer_freed"),
    ("judge-callers.py", "if (frees, vmaps, vunmaps) != (allocs, allocs, allocs):", "if False:",
     "judge_callers_requires_every_buffer_freed_in_a_real_boot"),
    ("judge-callers.py", "if allocs < 2:", "if False:", "judge_callers_requires_both_aplay_runs"),
    ("judge-callers.py", 'if paths("vivid-capture") != (0, v_allocs):', "if False:",
     "judge_callers_requires_vivid_on_the_direct_path"),
    ("judge-callers.py", " or sum(n for _, n in drops) > MAX_DROPPED:", ":",
     "judge_callers_fails_a_long_stretch_of_dropped_audio"),
]


def run(case, judges, tree, scratch, env):
    """Run CASE with the judges in JUDGES; (as wanted, what it printed)."""
    name, judge, text, extra, want_rc, want, pins = case
    env = dict(env, NONCONTIG_PINS=str(scratch / pins),
               NONCONTIG_CASES=str(scratch / (CASES_REAL_HARDENED if pins == PINS_REAL_HARDENED
                                              else CASES)))
    log = scratch / f"{name}.log"
    log.write_text(text)
    if judge == "judge-callers.py":
        wav, mode = extra
        argv = [str(log), str(scratch / wav), mode, str(scratch)]
    else:
        argv = [str(tree), str(log)] + extra
    r = subprocess.run([sys.executable, str(judges / judge)] + argv,
                       capture_output=True, text=True, env=env)
    out = r.stdout + r.stderr
    good = r.returncode == want_rc and all(w in out for w in want) and "Traceback" not in out
    return good, f"exit {r.returncode}, expected {want_rc} and {want}: {out.strip()[-400:]}"


def main():
    tree, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / PINS).write_text("synthetic 4 4 0 IOMMU 2 IOMMU\nsynthetic-debug 5 5 0 IOMMU 2 IOMMU\n"
                                "synthetic-write 5 5 0 IOMMU 2 IOMMU\n"
                                "synthetic-nocases 4 4 0 IOMMU 2 IOMMU\nhardened 4 4 0 IOMMU -\n"
                                "synthetic-module 5 5 0 IOMMU 2 IOMMU\n"
                                "synthetic-noedu 4 4 0 - 2 IOMMU\n"
                                # the real boots' pins when their logs were taken
                                "real-on 84 78 6 IOMMU 8 IOMMU\n")
    (scratch / PINS_REAL_HARDENED).write_text("hardened 84 81 3 IOMMU -\n")
    # the case names each label's boot runs (the real boots' as pinned
    # when their logs were taken)
    base = ["dma_noncontig_args.args_refused_behind_iommu",
            "dma_noncontig_args.args_device_without_mask_is_refused", "dma_noncontig_edu.edu_round_trip"]
    names = {"synthetic": base, "hardened": base,
             "synthetic-debug": base + [f"{DEBUG_SUITE[0]}.{DEBUG_SUITE[1][0]}"],
             "synthetic-write": base + [f"{WRITE_SUITE[0]}.{WRITE_SUITE[1][0]}"],
             "synthetic-module": base + ["dma_noncontig_misuse.m1"], "synthetic-noedu": base}
    for d in (CASES, CASES_REAL_HARDENED):
        (scratch / d).mkdir(exist_ok=True)
        for label, n in names.items():
            (scratch / d / label).write_text("\n".join(n) + "\n")
    shutil.copy(DATA / "kunit-x86_64-on.cases", scratch / CASES / "real-on")
    shutil.copy(DATA / "hardened-x86_64.cases", scratch / CASES_REAL_HARDENED / "hardened")
    env = dict(os.environ)
    make_audio(scratch)
    status = 0
    all_cases = cases()
    by_name = {c[0]: c for c in all_cases}
    for case in all_cases:
        good, why = run(case, JUDGE_DIR, tree, scratch, env)
        print(f"selftest: {'ok  ' if good else 'FAIL'} {case[0]}" + ("" if good else f" ({why})"))
        status |= not good
    for i, (judge, old, new, name) in enumerate(MUTANTS):
        copy = scratch / f"mutant-{i}"
        copy.mkdir(exist_ok=True)
        for j in JUDGES:
            shutil.copy(JUDGE_DIR / j, copy / j)
        src = (copy / judge).read_text()
        label = f"mutant_{judge[:-3].replace('-', '_')}_{i}_is_caught_by_{name}"
        if src.count(old) != 1 or name not in by_name:
            print(f"selftest: FAIL {label} ('{old}' occurs {src.count(old)} times in {judge}"
                  + ("" if name in by_name else f"; no case '{name}'") + ")")
            status = 1
            continue
        (copy / judge).write_text(src.replace(old, new))
        good, _ = run(by_name[name], copy, tree, scratch, env)
        print(f"selftest: {'FAIL' if good else 'ok  '} {label}"
              + (f" (without '{old}' the case still passes)" if good else ""))
        status |= good
    return status


if __name__ == "__main__":
    sys.exit(main())
