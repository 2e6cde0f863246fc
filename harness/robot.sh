#!/usr/bin/env bash
# The kernel test robot's checks on what the series touches, each run on
# the series and on its base (build/base-tree, the worktree callers.sh
# keeps at 'base'); a finding is new when the base does not have it (same
# file, same message, line numbers ignored).  One line per check and
# directory; exits non-zero on any new finding.
#   clang   LLVM=1 W=1 on x86_64 and arm64 (the platforms' minimal configs,
#           config/bisect.config, the suite's symbols on the series side)
#   sparse  C=2 on x86_64, in the callers' build folders (callers.sh runs
#           first: the objects are current, so the log holds sparse alone)
#   cocci   every script of scripts/coccinelle/ in report mode (what 'make
#           coccicheck MODE=report' runs, with each script's Options:) on
#           the touched C files and headers
# Only the series' directories are built; the headers it touches are
# judged through them (a finding in a header is reported under include/).
# The base's findings are kept in the cache (~/.cache/noncontig/
# robot-findings), as distro.sh keeps the Debian tree's: keyed by the base
# commit, what each check reads besides it (fragments, the touched files'
# names), the tool's version and these scripts.  The series side is
# checked and compared on every run.
. "$(dirname "$0")/lib.sh"

dirs=(kernel/dma/ drivers/iommu/ lib/tests/)
base_tree=$BUILD/base-tree
[ -d "$base_tree/kernel/dma" ] || die "no base worktree at $base_tree; run harness/callers.sh first"
git -C "$base_tree" checkout -q --detach base
status=0

# base_findings LOG KEYTEXT CMD...: cached_log (lib.sh) under
# robot-findings, with the base commit and build.sh in the key
cached=()
base_findings() {
	local log=$1 key=$2
	shift 2
	cached_log robot-findings "$log" "$key
$(tgit rev-parse base)
$(cat "$TOP/harness/build.sh")" "$@" || return 1
	[ "$LOG_FROM" = built ] || cached+=("$(basename "$log" .log)")
}

# (findings in lib.sh: a log's FILE: message lines under a directory)
# compare CHECK BASELOG SERIESLOG DIR...: one line per directory
compare() {
	local check=$1 blog=$2 slog=$3 d new from=
	shift 3
	[[ " ${cached[*]} " != *" $(basename "$blog" .log) "* ]] || from=", from the cache"
	for d in "$@"; do
		new=$(new_findings "$blog" "$slog" "$d")
		if [ -z "$new" ]; then
			echo "robot: ok   $check: $d: no new finding ($(findings "$blog" "$d" | wc -l) at the base$from)"
		else
			echo "robot: FAIL $check: $d: new findings:"
			echo "$new" | sed 's/^/    /'
			status=1
		fi
	done
}

# clang, W=1: both trees, the same config but for the suite's symbols
for p in x86_64 arm64; do
	load_platform "$p"
	mapfile -t sfrags < <(kunit_frags "$p")
	# the base has none of the series' own symbols
	mapfile -t frags < <(printf '%s\n' "${sfrags[@]}" |
		grep -vE '/\.kunitconfig$')
	# warnings are logged only for files that are compiled
	for d in "$p-clang-base" "$p-clang"; do
		for sub in "${dirs[@]}"; do
			[ -d "$BUILD/out/$d/$sub" ] && find "$BUILD/out/$d/$sub" -name '*.o' -delete
		done
	done
	if ! base_findings "$LOGS/build-$p-clang-base.log" "$(clang --version | head -n 1; cat "${frags[@]}")" \
		env NONCONTIG_TREE="$base_tree" PLATFORM="$p" LLVM=1 W=1 TARGETS="kernel/dma/ drivers/iommu/" \
		"$TOP/harness/build.sh" "$p-clang-base" "${frags[@]}" >/dev/null; then
		echo "robot: FAIL clang $p: build of the base (log: $LOGS/build-$p-clang-base.log)"
		status=1
		continue
	fi
	if ! PLATFORM=$p LLVM=1 W=1 TARGETS="${dirs[*]}" \
		"$TOP/harness/build.sh" "$p-clang" "${sfrags[@]}" >/dev/null; then
		echo "robot: FAIL clang $p: build (log: $LOGS/build-$p-clang.log)"
		status=1
		continue
	fi
	[ -f "$BUILD/out/$p-clang/lib/tests/dma_noncontig_kunit.o" ] ||
		{ echo "robot: FAIL clang $p: the suite was not compiled (config?)"; status=1; }
	compare "clang W=1 $p" "$LOGS/build-$p-clang-base.log" "$LOGS/build-$p-clang.log" "${dirs[@]}" include/
done

# sparse: the callers' folders, brought up to date first with their own
# flags, so that the C=2 pass compiles nothing and its log is sparse's
mapfile -t frags < <(callers_frags)
sparse_run() {
	local tree=$1 name=$2 targets=$3
	shift 3
	NONCONTIG_TREE=$tree TARGETS=$targets W=1 "$TOP/harness/build.sh" "$name" "$@" >/dev/null &&
		NONCONTIG_TREE=$tree TARGETS=$targets W=1 C=2 "$TOP/harness/build.sh" "$name" "$@" >/dev/null &&
		cp "$LOGS/build-$name.log" "$LOGS/sparse-$name.log"
}
if ! base_findings "$LOGS/sparse-x86_64-w1-base.log" "$(sparse --version; gcc --version | head -n 1; cat "${frags[@]}")" \
	sparse_run "$base_tree" x86_64-w1-base "kernel/dma/ drivers/iommu/" "${frags[@]}"; then
	echo "robot: FAIL sparse: the base (log: $LOGS/build-x86_64-w1-base.log)"
	status=1
elif ! sparse_run "$TREE" x86_64-callers "${dirs[*]}" "${frags[@]}" "$TREE/lib/tests/.kunitconfig"; then
	echo "robot: FAIL sparse: the series (log: $LOGS/build-x86_64-callers.log)"
	status=1
elif ! grep -q 'CHECK .*lib/tests/dma_noncontig_kunit.c' "$LOGS/sparse-x86_64-callers.log"; then
	echo "robot: FAIL sparse did not check the suite (log: $LOGS/sparse-x86_64-callers.log)"
	status=1
else
	compare "sparse C=2" "$LOGS/sparse-x86_64-w1-base.log" "$LOGS/sparse-x86_64-callers.log" \
		"${dirs[@]}" include/
fi

# coccinelle: each script over the touched files that exist in that tree,
# copied with their paths into a scratch folder that spatch walks with
# --dir, as 'make coccicheck' walks a tree: every file on its own (files
# named together on spatch's command line are matched as one unit, so a
# constant used as a bitmask in one file made a sum in another a finding)
mapfile -t touched < <(tgit diff --name-only base..series -- '*.c' '*.h')
cocci() {
	local tree=$1 log=$2 c opt f scr
	scr=$(mktemp -d)
	for f in "${touched[@]}"; do
		[ -f "$tree/$f" ] || continue
		mkdir -p "$scr/$(dirname "$f")"
		cp "$tree/$f" "$scr/$f"
	done
	: >"$log"
	for c in "$tree"/scripts/coccinelle/*/*.cocci "$tree"/scripts/coccinelle/*/*/*.cocci; do
		[ -f "$c" ] || continue
		opt=$(grep "Options:" "$c" | cut -d: -f2 || true)
		# shellcheck disable=SC2086 # the script's options are words
		(cd "$scr" && spatch -D report --no-show-diff --very-quiet --cocci-file "$c" $opt \
			-I "$tree/arch/x86/include" -I "$tree/include" -I "$tree/arch/x86/include/uapi" \
			-I "$tree/include/uapi" --include "$tree/include/linux/compiler-version.h" \
			--include "$tree/include/linux/kconfig.h" --dir . --jobs "$(nproc)" --chunksize 1) \
			>>"$log" 2>"$log.err" || echo "$c: spatch failed: $(tail -n 1 "$log.err")" >>"$log"
	done
	rm -rf "$scr"
	! grep -q 'spatch failed' "$log"
}
command -v spatch >/dev/null || die "no spatch; run 'make deps' (coccinelle)"
stage check "robot: coccinelle on ${#touched[@]} touched files, series and base"
# (a failed run is reported below, and not kept in the cache)
cocci "$TREE" "$LOGS/cocci-series.log" || true
base_findings "$LOGS/cocci-base.log" "$(spatch --version | head -n 1; printf '%s\n' "${touched[@]}")" \
	cocci "$base_tree" "$LOGS/cocci-base.log" || true
if grep -q 'spatch failed' "$LOGS/cocci-series.log" "$LOGS/cocci-base.log"; then
	echo "robot: FAIL cocci: spatch failed:"
	grep -h 'spatch failed' "$LOGS/cocci-series.log" "$LOGS/cocci-base.log" | sed 's/^/    /'
	status=1
fi
compare "coccicheck" "$LOGS/cocci-base.log" "$LOGS/cocci-series.log" "${dirs[@]}" include/
exit $status
