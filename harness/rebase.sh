#!/usr/bin/env bash
# Start a rebase of the series onto the current base (after a Debian update
# moved the package under it): git am -3 of every patch on branch 'series'.
# Stops at the first conflict with what to do next; the tree then holds the
# am session, which 'git am --continue' carries on.
. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit or discard them first"
if [ -n "$(tgit rev-list base..series 2>/dev/null)" ] && ! "$TOP/harness/verify-series.sh" --quiet; then
	die "build/linux has commits on 'series' that differ from series/; 'make export' them first"
fi
tgit am --abort >/dev/null 2>&1 || true
tgit checkout -q -f -B series base
stage rebase "series exported against $SRC_PKG $(series_version), rebasing onto $(tree_version)"
mapfile -t patches < <(patch_list | sed "s|^|$SERIES/|")
if tgit am -3 -q "${patches[@]}"; then
	stage rebase "every patch applied (with three-way merges where needed); 'make export' records the new base"
	exit 0
fi
die "stopped at a conflict in build/linux: resolve it, 'git -C build/linux add' the files, 'git -C build/linux am --continue' (repeat), then 'make export' and 'make check'"
