#!/usr/bin/env bash
# Export the tree's commits (base..series) into series/.
#
# The cover letter's range-diff names the tree's commits by id.  Commits
# made, amended or rebased in build/linux carry the developer's committer
# and dates, which 'git am' on another machine does not reproduce, so
# 'make verify' there would fail.  When any commit is not as 'make apply'
# makes them (the harness as committer, committed at its author date),
# the exported patches are applied again on base and exported once more:
# the ids are then those every machine gets.  The tree's content does not
# change; if it would, the branch is put back and the export fails.
. "$(dirname "$0")/lib.sh"
[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"
export_to "$SERIES"

foreign=$(tgit log --format='%cn|%ce|%ct|%at' base..series |
	awk -F'|' -v n="$GIT_COMMITTER_NAME" -v e="$GIT_COMMITTER_EMAIL" \
		'$1 != n || $2 != e || $3 != $4' | wc -l)
if [ "$foreign" -gt 0 ]; then
	[ "$(tgit symbolic-ref -q --short HEAD)" = series ] ||
		die "build/linux is not on branch 'series'; check it out and export again"
	was=$(tgit rev-parse series)
	tgit checkout -q -f -B series base
	if ! "$TOP/harness/apply.sh" >&2 || ! tgit diff --quiet "$was" series; then
		tgit checkout -q -f -B series "$was"
		die "the exported patches do not give the tree back; build/linux is back at ${was:0:12}"
	fi
	export_to "$SERIES"
	stage export "re-applied $foreign commit(s) made here, so the range-diff's ids are those 'make apply' gives"
fi
stage export "wrote $(patch_list | wc -l) patches and the cover letter to series/"
