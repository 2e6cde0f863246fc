#!/usr/bin/env bash
# Install the Debian packages the harness needs (we run as root), and bring
# the kernel source and config packages to the archive's current version,
# so that every machine tests what a new user gets.
. "$(dirname "$0")/lib.sh"

PKGS=(gcc libc6-dev make flex bison bc libelf-dev libssl-dev cpio kmod rsync xz-utils
      python3 python3-ply python3-git git ccache qemu-system-x86 busybox-static
      gnuplot-nox alsa-utils
      clang lld llvm sparse coccinelle ocaml-nox)
# and each platform's QEMU and C library (config/platforms/)
for p in $(platforms); do
	load_platform "$p"
	# shellcheck disable=SC2206 # a list of package names
	PKGS+=($P_packages)
done
# and the cross compilers of Debian's architectures (config/debian-arches)
# (the platforms' compilers among them)
for arch in $(debian_arches); do
	read -r _ cross _ < <(debian_arch "$arch")
	[ "$cross" = - ] || PKGS+=("gcc-${cross%-}")
done
# Kept at the archive's newest version, not merely present.
CURRENT=("$SRC_PKG" linux-config-6.1)

export DEBIAN_FRONTEND=noninteractive
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}
candidate() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^  Candidate: //p'
}

want=()
for p in "${PKGS[@]}"; do
	installed "$p" || want+=("$p")
done
if [ "$(id -u)" != 0 ]; then
	[ ${#want[@]} -eq 0 ] || die "missing packages (${want[*]}); run as root or install them"
	for p in "${CURRENT[@]}"; do
		installed "$p" || die "missing package $p; run as root or install it"
	done
	stage packages "not root: kept $SRC_PKG $(pkg_version "$SRC_PKG") as installed"
	exit 0
fi

# The archive's lists decide what 'current' is: refresh them every run (a
# few seconds).  Without the archive, test what is installed and say so.
if ! apt-get update -q >"$LOGS/apt.log" 2>&1; then
	stage packages "apt-get update failed (log: $LOGS/apt.log); using the installed versions"
fi
for p in "${CURRENT[@]}"; do
	cand=$(candidate "$p")
	[ -n "$cand" ] && [ "$cand" != "(none)" ] || die "the archive has no $p; is bookworm (with bookworm-security) in apt's sources?"
	[ "$(pkg_version "$p")" = "$cand" ] && continue
	installed "$p" && stage packages "$p $(pkg_version "$p") -> $cand (the archive's current version)"
	want+=("$p=$cand")
done
if [ ${#want[@]} -eq 0 ]; then
	stage packages "all present ($SRC_PKG $(pkg_version "$SRC_PKG"))"
	exit 0
fi
stage packages "installing ${want[*]}"
logged "$LOGS/apt-install.log" apt-get install -y -q --no-install-recommends --allow-downgrades "${want[@]}"
stage packages "done ($SRC_PKG $(pkg_version "$SRC_PKG"))"
