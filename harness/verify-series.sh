#!/usr/bin/env bash
# Check that series/ and the tree's commits agree.  Byte for byte when the
# tree is the package revision series/ was exported against; when the
# package moved (a Debian update), everything but the base's traces (base
# commit id, recorded version, blob ids, hunk line numbers): see
# normalize_series in lib.sh.
. "$(dirname "$0")/lib.sh"
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgit rev-parse -q --verify 'base^{commit}' >/dev/null || exit 1
mkdir -p "$tmp/series" "$tmp/export"
cp -r "$SERIES/." "$tmp/series"
rm -f "$tmp/series/cover-letter.txt"
export_to "$tmp/export"
notice=$(base_notice)
if [ -n "$notice" ]; then
	normalize_series "$tmp/series"
	normalize_series "$tmp/export"
fi
if diff -r "$tmp/series" "$tmp/export" >"$tmp/diff" 2>&1; then
	[ $quiet = 1 ] || stage verify "series/ matches the tree's commits${notice:+ ($notice)}"
	exit 0
fi
if [ $quiet = 0 ]; then
	head -n 40 "$tmp/diff" >&2
	echo "series/ and build/linux differ: 'make export' after editing the tree, or 'make apply' after editing series/" >&2
fi
exit 1
