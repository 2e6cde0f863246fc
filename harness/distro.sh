#!/usr/bin/env bash
# Debian's own amd64 configuration (config.amd64_none_amd64.xz from the
# linux-config-6.1 package): build the series' directories and the in-tree
# callers with W=1 on the patched tree and on the unmodified Debian tree
# (build/debian-tree, a worktree at the 'pristine' tag), and require that
# the series adds no warning.  Two changes to the config, both stated in the
# result line: debug info off (it only slows the build; it changes no
# warning), and KUnit built in with the series' KUnit suite, since Debian
# ships without KUnit and lib/tests/ would otherwise compile nothing (the
# fault test needs FAULT_INJECTION, which Debian does not set).
. "$(dirname "$0")/lib.sh"

config=/usr/src/linux-config-6.1/config.amd64_none_amd64.xz
[ -f "$config" ] || die "no $config; run 'make deps' (linux-config-6.1)"
dirs=(kernel/dma/ drivers/iommu/ lib/tests/ sound/core/
      drivers/media/common/videobuf2/ drivers/media/usb/uvc/
      drivers/media/usb/stk1160/)

deb_tree=$BUILD/debian-tree
tgit worktree prune
[ -d "$deb_tree" ] || tgit worktree add -q --detach "$deb_tree" pristine
git -C "$deb_tree" checkout -q --detach pristine

cc="gcc"
command -v ccache >/dev/null && cc="ccache gcc"
# build TREE NAME: configure from Debian's config and build the directories
# that exist in TREE with W=1; the log is build-NAME.log
build() {
	local tree=$1 name=$2 out=$BUILD/out/$2 d todo=()
	local kmake=(make -C "$tree" O="$out" ARCH=x86_64 CC="$cc" HOSTCC="$cc")
	mkdir -p "$out"
	xz -dc "$config" > "$out/.config"
	"$tree/scripts/config" --file "$out/.config" \
		--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --enable DEBUG_INFO_NONE \
		--enable KUNIT --enable DMA_NONCONTIG_KUNIT_TEST
	logged "$LOGS/config-$name.log" "${kmake[@]}" olddefconfig
	for d in "${dirs[@]}"; do
		[ -d "$tree/$d" ] || continue
		todo+=("$d")
		# warnings are logged only for files that are compiled
		[ -d "$out/$d" ] && find "$out/$d" -name '*.o' -delete
	done
	stage build "$name: Debian's amd64 config, W=1, ${todo[*]}"
	logged "$LOGS/build-$name.log" "${kmake[@]}" -j"$(nproc)" W=1 "${todo[@]}"
}
build "$deb_tree" x86_64-distro-debian
build "$TREE" x86_64-distro-series

# W=1 warnings of a build log under directory $2, without line numbers and
# tree prefix (only the tree's own folder: include/linux/x.h keeps its path), so both trees compare equal where nothing changed
w1_warnings() {
	grep -E ": warning:" "$1" | sed -E -e 's#^(\.\./)+(linux|debian-tree)/##' -e 's#^/.*/build/(linux|debian-tree)/##' \
		-e 's#^(\.\./)+##' -e 's/:[0-9]+(:[0-9]+)?: /: /' |
		grep "^$2" | sort -u || true
}
status=0
# include/: warnings in headers are reported there, not under their includer
for d in "${dirs[@]}" include/; do
	before=$(w1_warnings "$LOGS/build-x86_64-distro-debian.log" "$d")
	new=$(comm -13 <(echo "$before") <(w1_warnings "$LOGS/build-x86_64-distro-series.log" "$d"))
	if [ -z "$new" ]; then
		echo "distro: ok   $d: no new W=1 warning ($(echo -n "$before" | grep -c . || true) in Debian's tree)"
	else
		echo "distro: FAIL $d: new W=1 warnings:"
		echo "$new" | sed 's/^/    /'
		status=1
	fi
done
# our tests were compiled, not configured away
for obj in lib/tests/dma_noncontig_kunit.o sound/core/memalloc.o \
	   drivers/media/common/videobuf2/videobuf2-dma-contig.o \
	   drivers/media/usb/uvc/uvc_video.o drivers/media/usb/stk1160/stk1160-video.o; do
	[ -f "$BUILD/out/x86_64-distro-series/$obj" ] ||
		{ echo "distro: FAIL $obj was not built"; status=1; }
done
exit $status
