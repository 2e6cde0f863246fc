#!/usr/bin/env bash
# Apply series/*.patch on the base with git am, on branch 'series'.
# Refuses to drop commits in the tree that were never exported.  When the
# Debian package moved since the series was exported, says so once; when a
# patch no longer applies, names it, the package versions and the command
# that starts the rebase.
. "$(dirname "$0")/lib.sh"

notice=$(base_notice)
[ -z "$notice" ] || stage base "$notice"
if "$TOP/harness/verify-series.sh" --quiet; then
	stage apply "tree already carries the series ($(tgit rev-list --count base..series) patches)"
	exit 0
fi
if [ "${FORCE:-0}" != 1 ] && [ -n "$(tgit rev-list base..series 2>/dev/null)" ]; then
	die "build/linux has commits on 'series' that differ from series/; run 'make export' to keep them or 'make apply FORCE=1' to drop them"
fi
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	[ "${FORCE:-0}" = 1 ] ||
	die "build/linux has uncommitted changes; commit and 'make export', or 'make apply FORCE=1' to drop them"
tgit am --abort >/dev/null 2>&1 || true
tgit checkout -q -f -B series base
n=0
for p in $(patch_list); do
	if ! tgit am -q --committer-date-is-author-date "$SERIES/$p" >"$LOGS/am.log" 2>&1; then
		tgit am --abort >/dev/null 2>&1 || true
		tgit checkout -q -f -B series base
		cat "$LOGS/am.log" >&2
		if [ -n "$notice" ]; then
			die "patch $p no longer applies on $SRC_PKG $(tree_version) (the series was exported against $(series_version)); 'make rebase' starts the rebase in build/linux"
		fi
		die "patch $p does not apply on the base ($SRC_PKG $(tree_version)); fix it in build/linux and 'make export'"
	fi
	n=$((n + 1))
done
stage apply "applied $n patches on base"
