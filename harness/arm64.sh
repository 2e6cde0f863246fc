#!/usr/bin/env bash
# The KUnit suite on arm64 (config/platforms/arm64): cross-build the KUnit
# kernel and boot it under qemu-system-aarch64 -machine virt with an SMMUv3
# (IOMMU on) and without (off); boot.sh arm64.
#   arm64.sh [on] [off]          (default: both)
#   NO_BUILD=1 arm64.sh ...      boot the kernel already built
exec "$(dirname "$0")/boot.sh" arm64 "$@"
