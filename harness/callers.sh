#!/usr/bin/env bash
# Build the in-tree callers and the series' directories with W=1 on the
# patched tree (x86_64, minimal config plus config/callers.config), and the
# same directories of the base in a worktree (build/base-tree): the series
# may add no W=1 warning.  One line per directory or caller.
. "$(dirname "$0")/lib.sh"

ours=(kernel/dma/ drivers/iommu/)
callers=(sound/core/ drivers/media/common/videobuf2/ drivers/media/usb/uvc/
	 drivers/media/usb/stk1160/)
mapfile -t frags < <(callers_frags)

# (findings in lib.sh: a log's warnings under a directory, without line
# numbers or the tree's path, so the base and the series compare equal)
base_tree=$BUILD/base-tree
if ! git -C "$base_tree" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$base_tree"
	tgit worktree prune
	tgit worktree add -q --detach "$base_tree" base
else
	git -C "$base_tree" checkout -q --detach base
fi
# Warnings are logged only for files that are compiled: compile the series'
# directories afresh in both builds (ccache replays the warnings cheaply).
for d in x86_64-w1-base x86_64-callers; do
	for sub in "${ours[@]}" lib/tests/; do
		[ -d "$BUILD/out/$d/$sub" ] && find "$BUILD/out/$d/$sub" -name '*.o' -delete
	done
done
if ! NONCONTIG_TREE=$base_tree TARGETS="${ours[*]}" W=1 "$TOP/harness/build.sh" x86_64-w1-base "${frags[@]}" >/dev/null; then
	echo "callers: FAIL W=1 build of the base (log: $LOGS/build-x86_64-w1-base.log)"
	exit 1
fi
if ! TARGETS="${ours[*]} lib/tests/ ${callers[*]}" W=1 "$TOP/harness/build.sh" x86_64-callers \
	"${frags[@]}" "$TREE/lib/tests/.kunitconfig" >/dev/null; then
	echo "callers: FAIL build (log: $LOGS/build-x86_64-callers.log)"
	exit 1
fi
status=0
# include/: a warning the series causes in a header it touches is reported
# under include/, not under the directory that included it
for d in "${ours[@]}" lib/tests/ include/; do
	new=$(new_findings "$LOGS/build-x86_64-w1-base.log" "$LOGS/build-x86_64-callers.log" "$d")
	if [ -z "$new" ]; then
		echo "callers: ok   $d adds no W=1 warning ($(findings "$LOGS/build-x86_64-w1-base.log" "$d" | wc -l) at the base)"
	else
		echo "callers: FAIL $d adds W=1 warnings:"
		echo "$new" | sed 's/^/    /'
		status=1
	fi
done
# The objects that call the API must have been built, not configured away.
for obj in sound/core/memalloc.o \
	   drivers/media/common/videobuf2/videobuf2-dma-contig.o \
	   drivers/media/usb/uvc/uvc_video.o \
	   drivers/media/usb/stk1160/stk1160-video.o; do
	if [ -f "$BUILD/out/x86_64-callers/$obj" ]; then
		echo "callers: ok   ${obj%.o}.c compiles against the series"
	else
		echo "callers: FAIL ${obj%.o}.c was not built (config?)"
		status=1
	fi
done
exit $status
