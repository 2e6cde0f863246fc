#!/usr/bin/env bash
# Debian's own configuration of every Debian 12 release architecture
# (config/debian-arches; harness/debian-config.sh fetches each one's
# linux-config-6.1 with apt's multiarch support): build the series'
# directories and the in-tree callers with W=1, cross-compiled with Debian's
# gcc-<triplet>, on the patched tree and on the unmodified Debian tree
# (build/debian-tree, a worktree at the 'pristine' tag), and require that
# the series adds no warning.  One line per architecture.
#   distro.sh [ARCH...]      (default: every architecture)
# Two changes to each config, both stated in the result line: debug info
# off (it only slows the build; it changes no warning), and KUnit built in
# with the series' KUnit suite, since Debian ships without KUnit and
# lib/tests/ would otherwise compile nothing.  A caller whose driver the
# architecture's config leaves out (no sound or media on s390x) is said so,
# not counted as built.  The unmodified tree's warnings are cached per
# architecture (~/.cache/noncontig/distro-findings), keyed by the pristine
# commit, the config, the compiler and this script.
. "$(dirname "$0")/lib.sh"

# The series' directories, built whole; of the callers' directories only the
# objects that call the API (below): the rest of sound/core/ and media/
# (about 95 objects an architecture and tree, over half of this stage's
# compile) uses nothing the series changes.
dirs=(kernel/dma/ drivers/iommu/ lib/tests/)
# the objects that call the API, and the option that builds each
callers=(sound/core/memalloc.o:SND drivers/media/common/videobuf2/videobuf2-dma-contig.o:VIDEOBUF2_DMA_CONTIG
	 drivers/media/usb/uvc/uvc_video.o:USB_VIDEO_CLASS drivers/media/usb/stk1160/stk1160-video.o:VIDEO_STK1160)
arches=("$@")
[ ${#arches[@]} -gt 0 ] || mapfile -t arches < <(debian_arches)

deb_tree=$BUILD/debian-tree
tgit worktree prune
[ -d "$deb_tree" ] || tgit worktree add -q --detach "$deb_tree" pristine
git -C "$deb_tree" checkout -q --detach pristine

# build TREE NAME CONFIG: configure from Debian's config and build the
# directories that exist in TREE and the callers' objects with W=1; the log
# is build-NAME.log
build() {
	local tree=$1 name=$2 config=$3 out=$BUILD/out/$2 d todo=() cc=${cross}gcc hostcc=gcc
	command -v ccache >/dev/null && cc="ccache $cc" hostcc="ccache gcc"
	local kmake=(make -C "$tree" O="$out" ARCH="$karch" CROSS_COMPILE="$cross" CC="$cc" HOSTCC="$hostcc"
		NM="$(kbuild_nm "$cross")")
	mkdir -p "$out"
	xz -dc "$config" > "$out/.config"
	"$tree/scripts/config" --file "$out/.config" \
		--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --disable DEBUG_INFO_DWARF4 \
		--disable DEBUG_INFO_DWARF5 --enable DEBUG_INFO_NONE \
		--enable KUNIT --enable DMA_NONCONTIG_KUNIT_TEST
	"${kmake[@]}" olddefconfig >"$LOGS/config-$name.log" 2>&1 || return 1
	for d in "${dirs[@]}"; do
		[ -d "$tree/$d" ] || continue
		todo+=("$d")
		# warnings are logged only for files that are compiled
		[ -d "$out/$d" ] && find "$out/$d" -name '*.o' -delete
	done
	# the callers' objects, where the config builds their drivers
	for c in "${callers[@]}"; do
		grep -qE "^CONFIG_${c##*:}=[ym]" "$out/.config" || continue
		todo+=("${c%%:*}")
		rm -f "$out/${c%%:*}"
	done
	stage build "$name: Debian's $arch config, W=1, ${#todo[@]} directories and objects" >&2
	"${kmake[@]}" -j"$(nproc)" W=1 "${todo[@]}" >"$LOGS/build-$name.log" 2>&1
}

status=0
for arch in "${arches[@]}"; do
	t0=$(date +%s)
	read -r karch cross flavour < <(debian_arch "$arch") ||
		{ echo "distro: FAIL $arch: not in config/debian-arches"; status=1; continue; }
	[ "$cross" = - ] && cross=
	if [ -n "$cross" ] && ! command -v "${cross}gcc" >/dev/null; then
		echo "distro: FAIL $arch: no ${cross}gcc (make deps)"
		status=1
		continue
	fi
	if ! read -r ver config < <("$TOP/harness/debian-config.sh" "$arch"); then
		echo "distro: FAIL $arch: no Debian config (log: $LOGS/apt-$arch.log)"
		status=1
		continue
	fi
	name=$arch-distro
	[ "$arch" = amd64 ] && name=x86_64-distro
	# The unmodified tree's warnings depend only on the pristine tree, the
	# config, the compiler and this script: kept in the cache under a key
	# of all four, they are built once per machine, not on every run.
	if ! cached_log distro-findings "$LOGS/build-$name-debian.log" \
		"$(tgit rev-parse pristine; sha256sum <"$config"; "${cross}gcc" --version | head -n 1)" \
		build "$deb_tree" "$name-debian" "$config"; then
		echo "distro: FAIL $arch: build of Debian's tree (log: $LOGS/build-$name-debian.log)"
		status=1
		continue
	fi
	if ! build "$TREE" "$name-series" "$config"; then
		echo "distro: FAIL $arch: build (log: $LOGS/build-$name-series.log)"
		status=1
		continue
	fi
	new= before=0
	# include/: warnings in headers are reported there, not under their
	# includer.  Not arch/: the series touches none of it, and what of it
	# is compiled (asm-offsets.c, in 'prepare') depends on whether the
	# build folder is new, which the cached side of the comparison is not.
	for d in "${dirs[@]}" "${callers[@]%%.o:*}" include/; do
		n=$(findings "$LOGS/build-$name-debian.log" "$d" | grep -c ': warning: ' || true)
		before=$((before + n))
		f=$(new_findings "$LOGS/build-$name-debian.log" "$LOGS/build-$name-series.log" "$d")
		[ -z "$f" ] || new+="$f"$'\n'
	done
	built=() left=()
	for c in "${callers[@]}"; do
		obj=${c%%:*} opt=${c##*:}
		if [ -f "$BUILD/out/$name-series/$obj" ]; then
			built+=("$(basename "$obj" .o)")
		elif ! grep -qE "^CONFIG_$opt=[ym]" "$BUILD/out/$name-series/.config"; then
			left+=("$(basename "$obj" .o)")
		else
			new+="$obj: configured (CONFIG_$opt) but not built"$'\n'
		fi
	done
	[ -f "$BUILD/out/$name-series/lib/tests/dma_noncontig_kunit.o" ] ||
		new+="lib/tests/dma_noncontig_kunit.o: not built"$'\n'
	what="Debian $ver $flavour, ${cross:+$cross}gcc, Debian's tree's warnings $LOG_FROM, $(($(date +%s) - t0)) s"
	[ "$ver" = "$(tree_version)" ] || what+=", the archive's index has no $(tree_version) for $arch"
	if [ -z "$new" ]; then
		echo "distro: ok   $arch: no new W=1 warning ($before in Debian's tree); callers built: ${built[*]:-none}${left:+; not in the config: ${left[*]}} ($what)"
	else
		echo "distro: FAIL $arch: ($what):"
		echo "$new" | sed '/^$/d; s/^/    /'
		status=1
	fi
done
exit $status
