#!/usr/bin/env bash
# Build a kernel from build/linux.
#   [PLATFORM=x86_64|arm64|i386|...] [TARGETS=...] [W=1] [C=2] [LLVM=1] build.sh [NAME [FRAGMENT...]]
#   CONFIG_ONLY=1 build.sh ...     configure and check the config, build nothing
#   MODULES_ONLY=1 build.sh NAME   build harness/modules/ against the kernel in NAME
# PLATFORM (config/platforms/, default x86_64) gives the architecture and
# the cross compiler; NAME defaults to PLATFORM-kunit, TARGETS to the
# platform's boot image and the modules when the config has them.
# Output goes to build/out/NAME; the config is allnoconfig with the
# fragments (default: the KUnit kernel's, see kunit_frags in lib.sh) as
# KCONFIG_ALLCONFIG, so a kernel has what its fragments ask for and what
# that needs, nothing that only defaults on (KCONFIG_BASE=olddefconfig: the
# fragments on top of every default instead, as the benchmark's kernels
# are measured); every option a fragment sets is checked to have stuck.
. "$(dirname "$0")/lib.sh"

platform=${PLATFORM:-x86_64}
load_platform "$platform"
name=${1:-$platform-kunit}
shift || true
frags=("$@")
if [ ${#frags[@]} -eq 0 ]; then
	mapfile -t frags < <(kunit_frags "$platform")
fi
out=$BUILD/out/$name
mkdir -p "$out"
arch=$P_arch cross=$P_cross image=${P_image##*/}
[ -z "$cross" ] || command -v "${cross}gcc" >/dev/null ||
	die "no ${cross}gcc; run 'make deps' (gcc-${cross%-})"
cc="${cross}gcc" hostcc=gcc llvm=()
tools=(NM="$(kbuild_nm "$cross")")
# the compiler and linker whose versions the folder's record keeps
recorded=("${cross}gcc" "${cross}ld")
# LLVM=1: clang and LLVM's tools, for the architecture from ARCH alone
if [ -n "${LLVM:-}" ]; then
	cc=clang hostcc=clang cross= llvm=(LLVM=1) tools=() recorded=(clang ld.lld)
fi
command -v ccache >/dev/null && cc="ccache $cc" hostcc="ccache $hostcc"
kmake() {
	make -C "$TREE" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" "${llvm[@]}" CC="$cc" \
		HOSTCC="$hostcc" "${tools[@]}" "$@"
}

# MODULES_ONLY=1: the harness's modules (harness/modules/) against the
# kernel already built in the folder, into NAME/noncontig-modules/; copied
# with their dates, so that an unchanged module is not rebuilt
if [ -n "${MODULES_ONLY:-}" ]; then
	grep -qx 'CONFIG_MODULES=y' "$out/.config" 2>/dev/null ||
		die "$name: no kernel with module support in $out"
	mods=$out/noncontig-modules
	mkdir -p "$mods"
	cp -p "$TOP"/harness/modules/* "$mods/"
	logged "$LOGS/build-$name-modules.log" kmake M="$mods" modules
	stage build "$name: harness modules built ($(cd "$mods" && echo *.ko))"
	exit 0
fi

# the tree as this build reads it, kept with the folder once the build
# succeeded: what harness/outcache.py needs to reuse the folder in a later
# run's clone, and what the bisect's dating of the tree (outcache.py redate)
# needs to know what the folder was built from; written before the
# configuration, which reads the tree's Kconfig files
outcache_record "$out" "${recorded[@]}"

base=${KCONFIG_BASE:-allnoconfig}
case $base in
allnoconfig|olddefconfig) ;;
*) die "KCONFIG_BASE=$base: allnoconfig or olddefconfig" ;;
esac
{ echo "# $name: $base with these fragments"; cat "${frags[@]}"; } > "$out/fragment.config"
if ! cmp -s "$out/fragment.config" "$out/.fragment.used" 2>/dev/null; then
	if [ "$base" = allnoconfig ]; then
		logged "$LOGS/config-$name.log" kmake KCONFIG_ALLCONFIG="$out/fragment.config" allnoconfig
	else
		cp "$out/fragment.config" "$out/.config"
		logged "$LOGS/config-$name.log" kmake olddefconfig
	fi
	cp "$out/fragment.config" "$out/.fragment.used"
fi
# Every option a fragment sets must survive the configuration.
bad=$(grep -E '^(# )?CONFIG_' "$out/fragment.config" | while read -r line; do
	case $line in
	"# "*) opt=${line#\# }; opt=${opt%% *}; want="# $opt is not set" ;;
	*) opt=${line%%=*}; want=$line ;;
	esac
	grep -qxF "$want" "$out/.config" || echo "$line"
done)
[ -z "$bad" ] || { rm -f "$out/.fragment.used"; die "config $name: these options did not stick (missing dependency?): $bad"; }
stage configure "$name: $(wc -l < "$out/fragment.config") fragment lines, $(grep -c '=y' "$out/.config") options on"
if [ -n "${CONFIG_ONLY:-}" ]; then
	outcache_keep "$out"
	exit 0
fi

# TARGETS (default the boot image, and the modules if the config has
# them), W (extra warnings) and C (sparse) come from the environment.
default=$image
grep -qx 'CONFIG_MODULES=y' "$out/.config" && default+=" modules"
targets=${TARGETS:-$default}
stage build "$name: building $targets ($(nproc) jobs${W:+, W=$W}${C:+, C=$C})"
logged "$LOGS/build-$name.log" kmake -j"$(nproc)" ${W:+W=$W} ${C:+C=$C} $targets
outcache_keep "$out"
stage build "$name: done (log: $LOGS/build-$name.log)"
