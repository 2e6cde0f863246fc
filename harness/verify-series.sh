#!/usr/bin/env bash
# Check that series/ and the tree's commits agree byte for byte.
. "$(dirname "$0")/lib.sh"
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgit rev-parse -q --verify 'base^{commit}' >/dev/null || exit 1
export_to "$tmp"
if diff -r -x cover-letter.txt "$SERIES" "$tmp" >"$tmp.diff" 2>&1; then
	[ $quiet = 1 ] || stage verify "series/ matches the tree's commits"
	rm -f "$tmp.diff"
	exit 0
fi
if [ $quiet = 0 ]; then
	head -n 40 "$tmp.diff" >&2
	echo "series/ and build/linux differ: 'make export' after editing the tree, or 'make apply' after editing series/" >&2
fi
rm -f "$tmp.diff"
exit 1
