#!/usr/bin/env bash
# Prepare build/linux: the pristine Debian tree (from the machine-level
# cache) with the base step committed on top, tagged 'pristine' and 'base'.
. "$(dirname "$0")/lib.sh"

[ -f "$SRC_TAR" ] || die "$SRC_TAR is missing; run 'make deps' (installs $SRC_PKG)"
version=$(pkg_version "$SRC_PKG")
store=$CACHE/pristine-$version-f$CACHE_FORMAT
stamp=$store.ok

commit_all() {
	GIT_AUTHOR_DATE=$FIXED_DATE GIT_COMMITTER_DATE=$FIXED_DATE \
		git -C "$1" commit -q --no-verify -m "$2" -m "$3"
}

fill_cache() {
	stage unpack "unpacking $SRC_PKG $version into the cache ($store)"
	rm -rf "$store" "$stamp" "$store.tmp"
	mkdir -p "$store.tmp"
	tar -C "$store.tmp" -xf "$SRC_TAR"
	mv "$store.tmp/linux-source-6.1" "$store"
	rmdir "$store.tmp"
	git -C "$store" init -q
	# Debian's tree ignores most of itself; track everything as shipped.
	git -C "$store" add -f -A .
	commit_all "$store" "Debian $SRC_PKG $version" \
		"Unpacked from $SRC_TAR, unmodified."
	git -C "$store" tag pristine
	git -C "$store" rev-parse pristine > "$stamp"
}

if cache_is_valid "$store" "$stamp"; then
	stage unpack "cached pristine tree $SRC_PKG $version"
else
	[ -e "$stamp" ] || [ -e "$store" ] && stage unpack "cache entry is stale or corrupt; rebuilding it"
	fill_cache
fi
pristine=$(cat "$stamp")

if [ -d "$TREE/.git" ] && [ "$(tgit rev-parse -q --verify 'pristine^{commit}')" != "$pristine" ]; then
	stage unpack "build/linux holds another version; replacing it"
	rm -rf "$TREE"
fi
checkout_from_cache() {
	rm -rf "$TREE"
	git clone -q --no-checkout "$store" "$TREE" &&
		tgit fetch -q origin 'refs/tags/*:refs/tags/*' &&
		tgit checkout -q -B series pristine
}

if [ ! -d "$TREE/.git" ]; then
	stage unpack "checking out build/linux from the cache"
	# objects git cannot read show up here: rebuild the entry once
	if ! checkout_from_cache 2>"$LOGS/checkout.log"; then
		stage unpack "the cached tree is unreadable ($(head -n 1 "$LOGS/checkout.log")); rebuilding it"
		fill_cache
		checkout_from_cache
	fi
	[ -z "$DEV_NAME" ] || tgit config user.name "$DEV_NAME"
	[ -z "$DEV_EMAIL" ] || tgit config user.email "$DEV_EMAIL"
fi

# The base commit records which base step made it; redo it when that changes.
step=$TOP/base/remove-upstream-noncontig.py
step_sum=$(sha256sum "$step" | cut -c1-16)
if tgit rev-parse -q --verify 'base^{commit}' >/dev/null &&
   tgit log -1 --format=%B base | grep -q "base-step: $step_sum"; then
	stage base "base is current ($(tgit rev-parse --short base))"
	exit 0
fi
stage base "running the base step on the pristine tree"
if [ -n "$(tgit status --porcelain --untracked-files=no)" ]; then
	die "build/linux has uncommitted changes; commit or discard them first"
fi
tgit checkout -q --detach pristine
# A refusal leaves the tree as the package shipped it and says in one
# sentence what the step expected and which package revision lacked it.
if ! python3 "$step" "$TREE" 2>"$LOGS/base-step.err"; then
	tgit checkout -q -f pristine
	die "the base step refuses $SRC_PKG $version: $(tail -n 1 "$LOGS/base-step.err"); update base/remove-upstream-noncontig.py for it"
fi
tgit add -u
commit_all "$TREE" "base: remove upstream's noncontiguous DMA API" \
	"Made by base/remove-upstream-noncontig.py.

base-step: $step_sum"
tgit tag -f base >/dev/null
tgit checkout -q -B series base
stage base "base is $(tgit rev-parse --short base)"
