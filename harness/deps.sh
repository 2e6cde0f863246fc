#!/usr/bin/env bash
# Install the Debian packages the harness needs (we run as root).
. "$(dirname "$0")/lib.sh"

PKGS=(gcc libc6-dev make flex bison bc libelf-dev libssl-dev cpio kmod rsync xz-utils
      python3 python3-ply python3-git git ccache qemu-system-x86 busybox-static
      gnuplot-nox alsa-utils linux-config-6.1 gcc-aarch64-linux-gnu
      qemu-system-arm
      "$SRC_PKG")

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	stage packages "all present ($SRC_PKG $(pkg_version "$SRC_PKG"))"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
stage packages "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
logged "$LOGS/apt.log" apt-get update -q
logged "$LOGS/apt.log" apt-get install -y -q --no-install-recommends "${missing[@]}"
stage packages "done ($SRC_PKG $(pkg_version "$SRC_PKG"))"
