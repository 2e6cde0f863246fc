# Shared settings and helpers for the harness scripts; sourced, not run.
# shellcheck shell=bash
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${NONCONTIG_BUILD:-$TOP/build}
TREE=${NONCONTIG_TREE:-$BUILD/linux}
LOGS=$BUILD/logs
SERIES=${NONCONTIG_SERIES:-$TOP/series}
CACHE=${NONCONTIG_CACHE:-$HOME/.cache/noncontig}
# Debian's python3, whose modules deps.sh installs, ahead of any other in
# PATH: a pyenv shim there, where one is installed, costs about 0.9 s a
# start, and the harness starts Python a few hundred times a run.
if [ -x /usr/bin/python3 ] && [[ :$PATH: != *":$BUILD/bin:"* ]]; then
	mkdir -p "$BUILD/bin"
	[ "$(readlink "$BUILD/bin/python3" 2>/dev/null)" = /usr/bin/python3 ] ||
		ln -sfn /usr/bin/python3 "$BUILD/bin/python3"
	export PATH=$BUILD/bin:$PATH
fi
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
# The kernel is built with absolute paths; let ccache share hits between
# checkouts in different folders.
export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# Debian package the base tree comes from.
SRC_PKG=linux-source-6.1
SRC_TAR=/usr/src/linux-source-6.1.tar.xz

# Commits the harness makes itself (the pristine and base commits, and the
# committer side of applied patches) use a fixed identity and date, so the
# same input gives the same commit ids on every machine, whatever its git
# configuration.  Patches keep their authors; the developer's own commits in
# build/linux use the identity configured for this repo (DEV_NAME/DEV_EMAIL).
export GIT_AUTHOR_NAME="noncontig harness" GIT_AUTHOR_EMAIL="harness@noncontig.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
FIXED_DATE="2026-01-01T00:00:00Z"
DEV_NAME=$(git -C "$TOP" config user.name || true)
DEV_EMAIL=$(git -C "$TOP" config user.email || true)
# Bump when the cache's layout or its commits change.
CACHE_FORMAT=2

export NONCONTIG_T0=${NONCONTIG_T0:-$(date +%s)}
mkdir -p "$LOGS"

# One progress line per stage, with time since the front door was entered.
stage() {
	printf '[%5ss] %-9s %s\n' "$(($(date +%s) - NONCONTIG_T0))" "$1" "$2"
}

die() {
	echo "error: $*" >&2
	exit 1
}

# Run a noisy command with its output in a log; show the tail on failure.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "'$*' failed; full log: $log"
	fi
}

# checkout.workers=0: a whole tree's checkout (from the cache, a worktree)
# writes its 78k files from one worker per core; a single writer spent
# 30 to 45 s here, mostly in the kernel, where two took 10 to 18 s.
tgit() {
	git -C "$TREE" -c core.quotepath=off -c checkout.workers=0 "$@"
}

pkg_version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

# The series' patches in order, as named in series/series.
patch_list() {
	[ -f "$SERIES/series" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES/series" | awk '{print $1}'
}

# Write the tree's base..series as patches into $1 (format-patch, with the
# cover letter from series/cover-letter.txt, and a series file).
export_to() {
	local out=$1 n rd=()
	mkdir -p "$out"
	rm -f "$out"/*.patch "$out/series"
	n=$(tgit rev-list --count base..series)
	[ "$n" -gt 0 ] || return 0
	tgit config branch.series.description "$(cat "$SERIES/cover-letter.txt")"
	# creation factor 80: pairs the dma-iommu patch with its previous
	# version, which the default (60) shows as dropped and added anew
	prev_series && rd=(--range-diff=$PREV_REF-base..$PREV_REF --creation-factor=80)
	# the cover letter is from the series' author, not the harness
	GIT_COMMITTER_NAME=$(tgit log -1 --format=%an series) \
	GIT_COMMITTER_EMAIL=$(tgit log -1 --format=%ae series) \
	GIT_COMMITTER_DATE=$FIXED_DATE tgit -c core.abbrev=12 format-patch -q --zero-commit \
		--no-signature --cover-letter --cover-from-description=subject \
		--subject-prefix="PATCH v$SERIES_VERSION" "${rd[@]}" \
		--base=base -o "$out" base..series
	{
		echo "# Applied in this order on the base with 'make apply'; made by 'make export'."
		echo "# base: $SRC_PKG $(tree_version)"
		echo "# patch                                                      # meant for"
		for f in "$out"/0*.patch; do
			f=${f##*/}
			[ "$f" = 0000-cover-letter.patch ] && continue
			printf '%-60s # %s\n' "$f" "$(patch_target "$out/$f")"
		done
	} > "$out/series"
}

# The series is at version SERIES_VERSION; the cover letter carries the
# range-diff against the previous version, the series as the project's
# commit SERIES_PREV holds it.  prev_series rebuilds that version's commits
# on base from that commit's series/ (no worktree: each patch is applied to
# a scratch index), once per tree, under PREV_REF, and the base it was
# built on under PREV_REF-base (so that a later package update, which moves
# 'base', leaves the previous range intact).  Without the project's history
# (a tarball) there is no range-diff.
SERIES_VERSION=3
SERIES_PREV=eb50c9b869565a8d491886bbf1191bc2fa6d5223
PREV_REF=refs/noncontig/v$((SERIES_VERSION - 1))

prev_series() {
	local tmp parent tree f author email date subject applied=1
	tgit rev-parse -q --verify "$PREV_REF" >/dev/null &&
		tgit rev-parse -q --verify "$PREV_REF-base" >/dev/null && return 0
	git -C "$TOP" cat-file -e "$SERIES_PREV^{commit}" 2>/dev/null || return 1
	tmp=$(mktemp -d)
	parent=$(tgit rev-parse base)
	for f in $(git -C "$TOP" show "$SERIES_PREV:series/series" | sed -n 's/^\(0[0-9]*-[^ ]*\.patch\).*/\1/p'); do
		git -C "$TOP" show "$SERIES_PREV:series/$f" >"$tmp/patch"
		GIT_INDEX_FILE=$tmp/index tgit read-tree "$parent"
		GIT_INDEX_FILE=$tmp/index tgit apply --cached "$tmp/patch" 2>/dev/null || { applied=0; break; }
		tree=$(GIT_INDEX_FILE=$tmp/index tgit write-tree)
		tgit mailinfo "$tmp/msg" /dev/null <"$tmp/patch" >"$tmp/info"
		author=$(sed -n 's/^Author: //p' "$tmp/info")
		email=$(sed -n 's/^Email: //p' "$tmp/info")
		date=$(sed -n 's/^Date: //p' "$tmp/info")
		subject=$(sed -n 's/^Subject: //p' "$tmp/info")
		parent=$(printf '%s\n\n%s' "$subject" "$(cat "$tmp/msg")" |
			GIT_AUTHOR_NAME=$author GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date \
			GIT_COMMITTER_DATE=$FIXED_DATE tgit commit-tree "$tree" -p "$parent")
	done
	rm -rf "$tmp"
	[ $applied = 1 ] || return 1
	tgit update-ref "$PREV_REF" "$parent"
	tgit update-ref "$PREV_REF-base" base
}

# The package version build/linux was unpacked from (its pristine commit
# says "Debian linux-source-6.1 VERSION"), and the one series/ was
# exported against (its series file says "# base: linux-source-6.1 VERSION").
tree_version() {
	tgit log -1 --format=%s pristine 2>/dev/null | sed -n "s/^Debian $SRC_PKG //p"
}

series_version() {
	sed -n "s/^# base: $SRC_PKG //p" "$SERIES/series" 2>/dev/null | head -n 1
}

# A series exported against another package revision differs from a fresh
# export only where the base shows: the base commit id, the recorded
# version, blob ids, hunk line numbers and the commit ids in the cover
# letter's range-diff.  Strip exactly those; every hunk's text, every
# message and the set of patches still count.
normalize_series() {
	local dir=$1 f
	for f in "$dir"/*.patch "$dir/series"; do
		[ -f "$f" ] || continue
		sed -i -E -e '/^base-commit: [0-9a-f]+$/d' \
			-e "/^# base: $SRC_PKG /d" \
			-e '/^index [0-9a-f]+\.\.[0-9a-f]+( [0-7]+)?$/d' \
			-e 's/^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@/@@ @@/' \
			-e '/^ *[0-9-]+: +[-0-9a-f]{12} [<>=!] +[0-9-]+: +[-0-9a-f]{12} /s/\b[0-9a-f]{12}\b/commit/g' "$f"
	done
}

# One line when the tree is not the package revision series/ was exported
# against; empty when they agree.
base_notice() {
	local want have
	want=$(series_version)
	have=$(tree_version)
	[ -n "$have" ] && [ "$want" != "$have" ] || return 0
	echo "base: series exported against ${want:-an unrecorded version}, testing $have"
}

# Debian's release architectures: config/debian-arches names each one's
# kernel ARCH, cross compiler prefix and config flavour, once for both
# harness/distro.sh and the platforms.  debian_arch NAME prints
# 'ARCH CROSS FLAVOUR' as the file has them (CROSS '-' for the host's gcc)
# and fails for a name the file lacks.
DEBIAN_ARCHES=${NONCONTIG_DEBIAN_ARCHES:-$TOP/config/debian-arches}
debian_arch() {
	sed -e 's/#.*//' "$DEBIAN_ARCHES" |
		awk -v a="$1" '$1 == a { print $2, $3, $4; found = 1 } END { exit !found }'
}
debian_arches() {
	sed -e 's/#.*//' "$DEBIAN_ARCHES" | awk 'NF { print $1 }'
}

# Platforms are data: config/platforms/NAME describes one platform (its
# Debian architecture, boot image, config fragment, packages and QEMU
# command line) as 'key = value' lines; config/platforms/README lists the
# keys.  load_platform NAME sets P_<key> for each (empty when the file
# leaves it out), P_arch and P_cross from the Debian architecture
# (config/debian-arches), and P_name; adding a platform is adding a file.
PLATFORM_KEYS=(debian image config extra packages libc qemu machine machine_on cpu mem
	       devices console append_on append_off label modes)
PLATFORMS=${NONCONTIG_PLATFORMS:-$TOP/config/platforms}
# kbuild_nm CROSS: the nm for a kernel build with CROSS_COMPILE=CROSS,
# naming the compiler's own LTO plugin.  Without --plugin, GNU nm loads
# every plugin in /usr/lib/bfd-plugins on each run; once llvm is installed
# (robot.sh's clang builds) that includes LLVMgold, which maps all of
# libLLVM: 120 ms an nm where 30 ms do.  Kbuild runs nm on every object it
# compiles (scripts/check-local-export), ccache hit or not, so a warm
# kernel build spent more time in nm than in anything else.
kbuild_nm() {
	local plugin
	plugin=$("${1}gcc" -print-file-name=liblto_plugin.so)
	if [ -f "$plugin" ]; then
		echo "${1}nm --plugin $plugin"
	else
		echo "${1}nm"
	fi
}

load_platform() {
	local f=$PLATFORMS/$1 k v line
	[ -f "$f" ] && [ "$1" != README ] ||
		die "no platform '$1'; there are: $(platforms | tr '\n' ' ')"
	for k in "${PLATFORM_KEYS[@]}"; do
		printf -v "P_$k" '%s' ''
	done
	P_name=$1
	while IFS= read -r line; do
		line=${line%%#*}
		[[ $line =~ ^[[:space:]]*$ ]] && continue
		[[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]] ||
			die "$f: not 'key = value': $line"
		k=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]}
		[[ " ${PLATFORM_KEYS[*]} " == *" $k "* ]] || die "$f: unknown key '$k'"
		printf -v "P_$k" '%s' "$v"
	done < "$f"
	for k in debian image config qemu machine console label modes; do
		v=P_$k
		[ -n "${!v}" ] || die "$f: no '$k'"
	done
	read -r P_arch P_cross _ < <(debian_arch "$P_debian") ||
		die "$f: Debian architecture '$P_debian' is not in config/debian-arches"
	[ "$P_cross" = - ] && P_cross=
	return 0
}

platforms() {
	ls "$PLATFORMS" | grep -vx README
}

# count_results TEXT: 'PASS FAIL SKIP', the result lines of a check's
# output: 'NAME: ok|FAIL|skip ...' at the start of a line.  A result quoted
# inside another line (a FAIL's diagnostic that shows a judge's 'ok') or
# indented under it is not one.
count_results() {
	local name='^[A-Za-z0-9_.+-]+: ' n r
	for r in 'ok( |$)' 'FAIL' 'skip( |$)'; do
		n=$(grep -cE "$name$r" <<<"$1" || true)
		printf '%s ' "$n"
	done
	echo
}

# read_result FILE DEFAULT_LABEL: the six fields judge-log.py writes
# ('LABEL TOTAL PASSED FAILED SKIPPED ok|fail'), or, for a file that is
# missing, empty or not of that form, the label with zero counts and the
# verdict 'missing' or 'unreadable', so that a caller under 'set -e' goes on
# to its summary.
read_result() {
	local f=$1 fields
	if [ ! -s "$f" ]; then
		echo "$2 0 0 0 0 missing"
		return 0
	fi
	read -r -a fields <"$f" || true
	if [ ${#fields[@]} = 6 ] && [[ "${fields[*]:1:4}" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] &&
		[[ ${fields[5]} =~ ^(ok|fail)$ ]]; then
		echo "${fields[*]}"
	else
		echo "$2 0 0 0 0 unreadable"
	fi
}

# read_rc FILE: 'RC SECONDS' a job wrote, or '1 0' (a failure) when the
# file is missing or not of that form.
read_rc() {
	local rc secs
	read -r rc secs 2>/dev/null <"$1" || true
	[[ ${rc:-} =~ ^[0-9]+$ ]] && [[ ${secs:-} =~ ^[0-9]+$ ]] && echo "$rc $secs" || echo "1 0"
}

# platform_ok NAME: whether config/platforms/NAME loads (load_platform
# exits on a broken file; this asks in a subshell)
platform_ok() {
	(load_platform "$1") >/dev/null 2>&1
}

# Findings in a build or checker log under directory $2 (the compilers',
# sparse's and coccinelle's 'FILE:LINE:COL: message' lines, notes left
# out): file and message, without the line and column numbers or the
# tree's path (build/linux, build/base-tree, build/debian-tree), so two
# trees' logs compare equal where nothing changed.  harness/robot.sh.
findings() {
	grep -E '^\S+:[0-9]+:[0-9]+(-[0-9]+)?: ' "$1" | grep -vE '^\S+: note: ' |
		sed -E -e 's#^(\.\./)+(linux|base-tree|debian-tree)/##' \
			-e 's#^/.*/build/(linux|base-tree|debian-tree)/##' \
			-e 's#^(\.\./)+##' -e 's#^\./##' -e 's/:[0-9]+(:[0-9]+(-[0-9]+)?)?: /: /' |
		grep "^$2" | sort -u || true
}

# new_findings BASELOG SERIESLOG DIR: the findings under DIR the series'
# log has and the base's has not (robot.sh, callers.sh and distro.sh)
new_findings() {
	comm -13 <(findings "$1" "$3") <(findings "$2" "$3")
}

# cached_log DIR LOG KEYTEXT CMD...: the reference side of a comparison
# (the unmodified tree's warnings or findings), which depends only on what
# KEYTEXT names and on the calling script.  LOG comes from $CACHE/DIR under
# a key of both if it is there (LOG_FROM=cached), else CMD makes it
# (LOG_FROM=built) and it is kept only when CMD succeeded.  robot.sh and
# distro.sh; the series' side is never cached.
cached_log() {
	local dir=$CACHE/$1 log=$2 key store
	key=$({ echo "$3"; cat "$0"; } | sha256sum | cut -c1-16)
	store=$dir/$(basename "$log" .log)-$key.log
	shift 3
	# shellcheck disable=SC2034 # read by the caller
	LOG_FROM=cached
	if [ -f "$store" ]; then
		cp "$store" "$log"
		return 0
	fi
	# shellcheck disable=SC2034
	LOG_FROM=built
	"$@" || return 1
	mkdir -p "$dir"
	cp "$log" "$store.tmp" && mv "$store.tmp" "$store"
}

# no_build_input REPO COMMIT: true if COMMIT changes only files no kernel
# build reads (the documentation's .rst files, MAINTAINERS), so it builds
# exactly what its parent built.  Documentation/Kconfig and the like are
# read by every build: not on the list.
no_build_input() {
	local f
	while IFS= read -r f; do
		case $f in
		MAINTAINERS | Documentation/*.rst) ;;
		*) return 1 ;;
		esac
	done < <(git -C "$1" diff --no-renames --name-only "$2^" "$2")
}

# The KUnit kernel's config fragments for PLATFORM at the tree's current
# commit: the platform's fragment, what the KUnit kernels need on top of
# allnoconfig, config/bisect.config, the platform's extra fragments (what
# other stages that boot this kernel need: the in-tree callers, which do
# not compile before the series adds the API, so from that commit on), the
# fault module once a patch adds its symbol, and the suite's .kunitconfig
# once it exists.  The bisect builds every commit with these, so its last
# build is the KUnit kernel.
kunit_frags() {
	local f
	load_platform "$1"
	echo "$TOP/config/$P_config"
	echo "$TOP/config/kunit-needs.config"
	echo "$TOP/config/bisect.config"
	if grep -q 'dma_alloc_noncontiguous(' "$TREE/include/linux/dma-mapping.h"; then
		for f in $P_extra; do
			echo "$TOP/config/$f"
		done
	fi
	if [ -f "$TREE/lib/tests/.kunitconfig" ]; then
		echo "$TREE/lib/tests/.kunitconfig"
	fi
}

# The callers' compile-only config (callers.sh's W=1 builds, robot.sh's
# sparse in the same folders): the x86_64 KUnit kernel's fragments without
# the series' own symbols, and the drivers that call the API.
callers_frags() {
	echo "$TOP/config/x86_64-qemu.config"
	echo "$TOP/config/kunit-needs.config"
	echo "$TOP/config/bisect.config"
	echo "$TOP/config/callers.config"
}

# Where a patch is meant to go, from its subject prefix.
patch_target() {
	local subj
	subj=$(sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$1")
	case $subj in
	iommu*) echo "the iommu tree, after review on the iommu list" ;;
	MAINTAINERS*) echo "the dma-mapping tree, with the series" ;;
	*) echo "the dma-mapping tree" ;;
	esac
}

# A cache entry is usable when its stamp names the commit its 'pristine' tag
# points to and git can read that commit's tree.
cache_is_valid() {
	local store=$1 stamp=$2
	[ -f "$stamp" ] && [ -d "$store/.git" ] &&
		[ "$(git -C "$store" rev-parse -q --verify 'pristine^{commit}' 2>/dev/null)" = "$(cat "$stamp")" ] &&
		git -C "$store" cat-file -e 'pristine^{tree}' 2>/dev/null &&
		git -C "$store" ls-tree -r --name-only pristine kernel/dma/mapping.c >/dev/null 2>&1
}

# bench_tool DIR: the series' dma_map_benchmark tool, static, in DIR (the
# benchmark's and the profile's initramfs), from build/linux's copy of it
# and of its header
bench_tool() {
	mkdir -p "$1/inc/linux"
	cp "$TREE/include/linux/map_benchmark.h" "$1/inc/linux/"
	gcc -static -O2 -I"$1/inc" -o "$1/dma_map_benchmark" \
		"$TREE/tools/testing/selftests/dma/dma_map_benchmark.c" 2>"$LOGS/bench-tool.log" ||
		die "building dma_map_benchmark failed; log: $LOGS/bench-tool.log"
}

# outcache_record OUT TOOL... before a build in OUT, outcache_keep OUT once
# it succeeded: the record of the tree as the build read it and of the
# tools' versions (harness/outcache.py), which a folder without (a failed
# build) never has
outcache_record() {
	rm -f "$1/.noncontig-state" "$1/.noncontig-state.new"
	python3 "$TOP/harness/outcache.py" record "$@" || rm -f "$1/.noncontig-state.new"
}
outcache_keep() {
	[ ! -f "$1/.noncontig-state.new" ] || mv "$1/.noncontig-state.new" "$1/.noncontig-state"
}
