#!/usr/bin/env bash
# Export the tree's commits (base..series) into series/.
. "$(dirname "$0")/lib.sh"
[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
[ -z "$(tgit status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"
export_to "$SERIES"
stage export "wrote $(patch_list | wc -l) patches and the cover letter to series/"
