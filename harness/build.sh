#!/usr/bin/env bash
# Build a kernel from build/linux.
#   [ARCH=x86_64|arm64] [TARGETS=...] [W=1] build.sh [NAME [FRAGMENT...]]
# NAME defaults to x86_64-kunit, TARGETS to the architecture's boot image
# (bzImage, or Image for arm64, cross-compiled with aarch64-linux-gnu-)
# and the modules when the config has them.
# Output goes to build/out/NAME; the config is the fragments (default: the
# KUnit kernel's, see kunit_frags in lib.sh) run through
# olddefconfig, and every option a fragment sets is checked to have stuck.
. "$(dirname "$0")/lib.sh"

name=${1:-x86_64-kunit}
shift || true
frags=("$@")
if [ ${#frags[@]} -eq 0 ]; then
	mapfile -t frags < <(kunit_frags "${ARCH:-x86_64}")
fi
out=$BUILD/out/$name
mkdir -p "$out"
arch=${ARCH:-x86_64} cross=
image=bzImage
if [ "$arch" = arm64 ]; then
	cross=aarch64-linux-gnu- image=Image
	command -v ${cross}gcc >/dev/null || die "no ${cross}gcc; run 'make deps' (gcc-aarch64-linux-gnu)"
fi
cc="${cross}gcc" hostcc=gcc
command -v ccache >/dev/null && cc="ccache $cc" hostcc="ccache gcc"
kmake() {
	make -C "$TREE" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" CC="$cc" HOSTCC="$hostcc" "$@"
}

cat "${frags[@]}" > "$out/fragment.config"
if ! cmp -s "$out/fragment.config" "$out/.fragment.used" 2>/dev/null; then
	cp "$out/fragment.config" "$out/.config"
	logged "$LOGS/config-$name.log" kmake olddefconfig
	cp "$out/fragment.config" "$out/.fragment.used"
fi
# Every option a fragment sets must survive olddefconfig.
bad=$(grep -E '^(# )?CONFIG_' "$out/fragment.config" | while read -r line; do
	case $line in
	"# "*) opt=${line#\# }; opt=${opt%% *}; want="# $opt is not set" ;;
	*) opt=${line%%=*}; want=$line ;;
	esac
	grep -qxF "$want" "$out/.config" || echo "$line"
done)
[ -z "$bad" ] || { rm -f "$out/.fragment.used"; die "config $name: these options did not stick (missing dependency?): $bad"; }
stage configure "$name: $(wc -l < "$out/fragment.config") fragment lines, $(grep -c '=y' "$out/.config") options on"

# TARGETS (default the boot image, and the modules if the config has
# them) and W (extra warnings) come from the environment.
default=$image
grep -qx 'CONFIG_MODULES=y' "$out/.config" && default+=" modules"
targets=${TARGETS:-$default}
stage build "$name: building $targets ($(nproc) jobs${W:+, W=$W})"
logged "$LOGS/build-$name.log" kmake -j"$(nproc)" ${W:+W=$W} $targets
stage build "$name: done (log: $LOGS/build-$name.log)"
