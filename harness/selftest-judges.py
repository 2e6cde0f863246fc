#!/usr/bin/env python3
"""Self-tests of judge-log.py and judge-hardened.py on synthetic logs.

Usage: selftest-judges.py KERNEL_TREE SCRATCH_DIR

A good synthetic console log must pass; each mutation of it must fail with
the judge's own line for that fault (not just any non-zero exit: a Python
traceback is not a caught fault).  Prints one 'selftest: ok|FAIL NAME' line
per case and exits non-zero if any case is wrong.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
T = "[    2.000000] "


def ktap(skipped_params=False, path="IOMMU", totals=True, failing=False):
    """A two-suite KUnit run as 6.1 prints it with kunit.stats_enabled=2."""
    lines = ["KTAP version 1", "1..2",
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
    lines += ["ok 1 dma_noncontig_args",
              "    KTAP version 1", "    # Subtest: dma_noncontig_edu", "    1..1",
              f"    # edu_round_trip: {path} path: 65536 byte buffer in 16 CPU entries, one DMA "
              "segment 0xfff00000+0x10000; 8 device transfers round-tripped",
              "    # edu_round_trip: pass:1 fail:0 skip:0 total:1",
              "    ok 1 edu_round_trip",
              "# dma_noncontig_edu: pass:1 fail:0 skip:0 total:1",
              "# Totals: pass:1 fail:0 skip:0 total:1",
              "ok 2 dma_noncontig_edu"]
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


# the warnings the suite provokes on purpose, as judge-log.py expects them
_spec = importlib.util.spec_from_file_location("judge_log", HERE / "judge-log.py")
judge_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(judge_log)
EXPECTED = judge_log.EXPECTED_WARNINGS


def boot(**kw):
    log = ["[    0.500000] DMA-API: debugging enabled by kernel config",
           "[    0.600000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)"]
    for w in EXPECTED:
        log += warning(f"platform dma-noncontig-test: expect_refused+0x1/0x2: {w} 0")
    log += warning("DMA-API: platform dma-noncontig-test: device driver frees DMA memory with "
                   "different size [device address=0x0] [map size=8192 bytes] [unmap size=4096 bytes]",
                   "kernel/dma/debug.c:1000 check_unmap+0x1/0x2")
    log += ktap(**kw)
    log += ["noncontig-kunit: init started",
            "[    4.000000] dma-noncontig-mmap: 64 KiB buffer in 3 CPU entries for 0000:00:03.0",
            "noncontig-kunit: mmap: ok offsets 0, 3 and 15, every byte; past the end refused",
            "noncontig-kunit: alloc traced: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=fff00000 "
            "size=65536 phys_addrs={0x10a000,0x10c000,0x110000} "
            "flags=GFP_KERNEL|__GFP_NOWARN|__GFP_RETRY_MAYFAIL attrs=",
            "noncontig-kunit: dma-api errors: 2",
            "[    5.000000] reboot: Power down"]
    return "\n".join(log) + "\n"


HTAG = "noncontig-hardened: "


# a failed expectation as KUnit 6.1 prints it, for the direct path's test
FAILED = ["[    3.000000]     # faults_direct: EXPECTATION FAILED at lib/tests/x.c:323",
          "[    3.000000]     Expected limit < (long)faulted.failed_allocs, but",
          "[    3.000000]         limit == 32",
          "[    3.000000]         (long)faulted.failed_allocs == 30"]


def hardened(kmemleak="0", init=True, failing_phase=None):
    """The hardened boot: the KUnit suites, then /init's fault phases; the
    direct path's test fails in failing_phase."""
    text = boot().replace("[    5.000000] reboot: Power down\n", "")
    if not init:
        text = text.replace("kmemleak: Kernel memory leak detector initialized", "kmemleak: other")
    out = [HTAG + "init started", HTAG + "dma-api errors after the KUnit suites: 5",
           HTAG + f"kmemleak after the KUnit suites: {kmemleak}"]
    for phase, paths in (("page_alloc", ("direct", "iommu")), ("slab", ("direct", "iommu")),
                         ("iova", ("iommu",)), ("map", ("iommu",)), ("all", ("direct", "iommu"))):
        out.append(HTAG + f"phase {phase} begin")
        for i, p in enumerate(("direct", "iommu")):
            out += [f"[    3.000000]     # faults_{p}: faults: {p}: 500 calls, "
                    f"{100 if p in paths else 0} allocations failed, 0 vmaps failed, 0 bad buffers",
                    f"[    3.000000]     # faults_{p}: faults: {p}: 2 pages and 12 KiB slab not back; "
                    f"the clean run moved 5 pages, limit 21"]
            if p == "iommu":
                out.append("[    3.000000]     # faults_iommu: faults: iommu: 0 IOVA ranges not given back")
            if phase == failing_phase and p == "direct":
                out += FAILED + [f"[    3.000000]     not ok {i + 1} faults_{p}"]
            else:
                out.append(f"[    3.000000]     ok {i + 1} faults_{p}")
        out += ["[    3.000000] ok 3 dma_noncontig_faults", HTAG + f"phase {phase} end",
                HTAG + f"phase {phase} injected 100"]
    out += [HTAG + f"kmemleak after the fault phases: {kmemleak}",
            HTAG + "dma-api errors at the end: 5", HTAG + "done", "[    9.000000] reboot: Power down"]
    return text + "\n".join(out) + "\n"


def main():
    tree, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    scratch.mkdir(parents=True, exist_ok=True)
    pins = scratch / "pins"
    pins.write_text("synthetic 4 4 0 IOMMU 2 IOMMU\nhardened 4 4 0 IOMMU -\n")
    env = dict(os.environ, NONCONTIG_PINS=str(pins))
    global GENERIC_WARN
    GENERIC_WARN = True
    generic = boot()
    generic_other = generic + "\n".join(warning("platform x: something else went wrong",
                                                "kernel/dma/mapping.c:710 dma_alloc_noncontiguous+0x1/0x2")) + "\n"
    GENERIC_WARN = False
    good = boot()
    cases = [
        # name, log text, label, exit status, line the judge must print
        ("judge_log_passes_a_good_boot", good, "synthetic", 0, "kunit-synthetic: 4 tests: 4 passed"),
        ("judge_log_counts_skipped_parameters_as_skips", boot(skipped_params=True), "synthetic", 1,
         "ran 4 total, 2 passed, 2 skipped; pinned 4 total, 4 passed, 0 skipped"),
        ("judge_log_requires_pinned_counts", good, "unpinned", 1, "no counts pinned for 'unpinned'"),
        ("judge_log_requires_the_pinned_path", boot(path="direct"), "synthetic", 1,
         "edu's round trip took direct path; pinned IOMMU"),
        ("judge_log_requires_every_suites_totals", boot(totals=False), "synthetic", 1,
         "1 of 2 suites printed no '# Totals:' line"),
        ("judge_log_fails_a_failed_test", boot(failing=True), "synthetic", 1, "test(s) failed"),
        ("judge_log_fails_an_rcu_stall", good + "[    4.0] rcu: INFO: rcu_sched self-detected stall on CPU\n",
         "synthetic", 1, "kernel reported: rcu: INFO: rcu_sched self-detected stall"),
        ("judge_log_fails_a_hung_task",
         good + "[    4.0] INFO: task kworker/0:1:12 blocked for more than 120 seconds.\n",
         "synthetic", 1, "kernel reported: INFO: task kworker/0:1:12 blocked for more than"),
        ("judge_log_fails_a_warning_in_another_format",
         good + "[    4.0] WARNING: at drivers/foo.c:12 foo()\n", "synthetic", 1,
         "1 warning(s) in another format"),
        ("judge_log_fails_another_warning_at_an_allowed_site",
         good + "\n".join(warning("platform x: something else went wrong",
                                  "kernel/dma/mapping.c:710 dma_alloc_noncontiguous+0x1/0x2")) + "\n",
         "synthetic", 1, "unexpected warnings: kernel/dma/mapping.c dma_alloc_noncontiguous+0x1/0x2"),
        ("judge_log_reads_a_warnings_message_after_it_on_32_bit_arm", generic, "synthetic", 0,
         "kunit-synthetic: 4 tests: 4 passed"),
        ("judge_log_fails_another_warning_at_an_allowed_site_on_32_bit_arm", generic_other,
         "synthetic", 1, "unexpected warnings: kernel/dma/mapping.c dma_alloc_noncontiguous+0x1/0x2"),
        ("judge_log_fails_a_missing_expected_warning",
         good.replace("with zone modifier", "with zone"), "synthetic", 1,
         "expected warnings missing: noncontiguous DMA allocation with zone modifier"),
        ("judge_log_fails_a_check_that_warns_twice",
         good + "\n".join(warning("platform dma-noncontig-test: "
                                  "noncontiguous DMA allocation of invalid size 0")) + "\n",
         "synthetic", 1,
         "warned more than once: 'noncontiguous DMA allocation of invalid size' 2 times"),
        ("judge_log_fails_the_mmap_module",
         good.replace("mmap: ok offsets 0, 3 and 15, every byte; past the end refused",
                      "mmap: FAIL the last page alone"), "synthetic", 1,
         "mmap module from user space: FAIL the last page alone"),
        ("judge_log_requires_the_mmap_module",
         good.replace("noncontig-kunit: mmap: ok", "noncontig-kunit: other"), "synthetic", 1,
         "mmap module from user space: no report from /init"),
        ("judge_log_requires_the_mmap_modules_path",
         good.replace("dma_addr=fff00000", "dma_addr=10a000")
             .replace("{0x10a000,0x10c000,0x110000}", "{0x10a000}"),
         "synthetic", 1, "mmap module's buffer traced on direct path; pinned IOMMU"),
        ("judge_log_requires_several_entries_behind_the_iommu",
         good.replace("{0x10a000,0x10c000,0x110000}", "{0x10a000}"),
         "synthetic", 1, "mmap module's buffer traced on ops path; pinned IOMMU"),
        ("judge_log_requires_the_traced_allocation",
         good.replace("noncontig-kunit: alloc traced: ", "noncontig-kunit: other: "),
         "synthetic", 1, "mmap module's buffer traced on no path; pinned IOMMU"),
        ("judge_log_fails_an_unreadable_trace",
         good.replace("phys_addrs={", "phys_addrs=["),
         "synthetic", 1, "mmap module's buffer traced on unreadable event"),
        ("judge_log_fails_dma_api_debug_disabling_itself",
         good + "[    4.0] DMA-API: debugging out of memory - disabling\n", "synthetic", 1,
         "DMA-API debug disabled itself"),
        ("judge_log_fails_dma_api_debug_never_enabled",
         good.replace("DMA-API: debugging enabled by kernel config", "DMA-API: hello"), "synthetic", 1,
         "DMA-API debug did not say it was enabled"),
        ("judge_log_requires_the_pinned_dma_api_error_count",
         good.replace("dma-api errors: 2", "dma-api errors: 3"), "synthetic", 1,
         "DMA-API debug counted 3 errors by the end; pinned 2"),
        ("judge_log_requires_a_dma_api_error_count",
         good.replace("dma-api errors: 2", "hello"), "synthetic", 1,
         "no DMA-API error count at the end (from /init); pinned 2"),
        ("judge_log_fails_without_power_off", good.replace("reboot: Power down", "still running"),
         "synthetic", 1, "the kernel did not power off"),
    ]
    hcases = [
        ("judge_hardened_passes_a_good_boot", hardened(), 0, "kmemleak-on: ok"),
        ("judge_hardened_fails_kmemleak_refusing_its_scan", hardened(kmemleak="off (scan refused)"), 1,
         "kmemleak-on: FAIL kmemleak off: "),
        ("judge_hardened_fails_kmemleak_disabled",
         hardened() + "[    4.0] kmemleak: Kernel memory leak detector disabled\n", 1,
         "kmemleak-on: FAIL kmemleak off: "),
        ("judge_hardened_fails_kmemleak_never_started", hardened(init=False), 1,
         "kmemleak-on: FAIL kmemleak never initialized"),
        ("judge_hardened_requires_the_leak_figures",
         hardened().replace("pages and 12 KiB slab not back", "pages and 12 KiB slab elsewhere"), 1,
         "faults-page_alloc: FAIL"),
        ("judge_hardened_requires_the_iova_count",
         hardened().replace("IOVA ranges not given back", "IOVA ranges elsewhere"), 1,
         "faults-page_alloc: FAIL"),
        ("judge_hardened_requires_every_deliberate_dma_api_error",
         hardened().replace("dma-api errors after the KUnit suites: 5",
                            "dma-api errors after the KUnit suites: 4"), 1,
         "dma-api-debug: FAIL 4 errors counted after the debug suite (expected 5)"),
        # a failed phase names its first failed expectation, values included
        ("judge_hardened_names_a_failed_expectation", hardened(failing_phase="all"), 1,
         "faults-all: FAIL 1/2 tests passed, 1000 calls, 200 failed, 100 faults injected, "
         "0 IOVA ranges not given back; first failure: faults_direct at lib/tests/x.c:323: "
         "Expected limit < (long)faulted.failed_allocs, but limit == 32 "
         "(long)faulted.failed_allocs == 30"),
        # a boot cut short after the fault phases: no report in the part that
        # ran is no evidence about the rest
        ("judge_hardened_fails_the_sanitizers_on_a_cut_boot",
         hardened().split(HTAG + "done")[0], 1,
         "sanitizers: FAIL 0 sanitizer reports (expected 0) (but the boot did not finish"),
        ("judge_hardened_fails_kmemleak_on_a_cut_boot",
         hardened().split(HTAG + "done")[0], 1,
         "kmemleak-on: FAIL kmemleak initialized and never disabled (but the boot did not finish"),
    ]
    status = 0
    runs = [(n, t, [str(HERE / "judge-log.py"), str(tree), None, label], rc, want)
            for n, t, label, rc, want in cases]
    runs += [(n, t, [str(HERE / "judge-hardened.py"), str(tree), None], rc, want)
             for n, t, rc, want in hcases]
    for name, text, argv, want_rc, want in runs:
        log = scratch / f"{name}.log"
        log.write_text(text)
        argv[2] = str(log)
        r = subprocess.run([sys.executable] + argv, capture_output=True, text=True, env=env)
        out = r.stdout + r.stderr
        good_case = r.returncode == want_rc and want in out and "Traceback" not in out
        print(f"selftest: {'ok  ' if good_case else 'FAIL'} {name}"
              + ("" if good_case else f" (exit {r.returncode}, expected {want_rc} and "
                 f"'{want}': {out.strip()[-400:]})"))
        status |= not good_case
    return status


if __name__ == "__main__":
    sys.exit(main())
