#!/usr/bin/env bash
# Boot the x86_64 KUnit kernel ('make build') with the IOMMU on and off and
# judge each run: KUnit results, expected warnings, no unexpected warning
# or DMA-API error (boot.sh x86_64 without its build step).  The
# initramfs's /init (kunit-init.c) prints DMA-API debug's error count after
# the suites and powers off.
#   kunit.sh [on] [off]      (default: both)
# Prints one 'kunit-iommu-<mode>: ...' result line per run and exits
# non-zero if any run failed.  Console logs stay in
# build/logs/kunit-iommu-<mode>.log.
NO_BUILD=1 exec "$(dirname "$0")/boot.sh" x86_64 "$@"
