#!/usr/bin/env bash
# The harness's own tests: the base step's checks and the series round trip.
# One line per test ('selftest: ok|FAIL NAME'); exits non-zero on a failure.
# Every test runs whatever an earlier one did: a failing condition is turned
# into a status ('&& rc=0 || rc=1'), never left to 'set -e'.
. "$(dirname "$0")/../lib.sh"

step=$TOP/base/remove-upstream-noncontig.py
files=(kernel/dma/mapping.c include/linux/dma-mapping.h
       include/linux/dma-map-ops.h drivers/iommu/dma-iommu.c
       Documentation/core-api/dma-api.rst)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0

result() {
	if [ "$2" = 0 ]; then
		echo "selftest: ok   $1"
	else
		echo "selftest: FAIL $1${3:+ ($3)}"
		status=1
	fi
}

# A tree holding just the files the base step edits, from revision $2 of
# the repository $3 (default: build/linux).
mini_tree() {
	local dir=$1 rev=$2 repo=${3:-$TREE} f
	rm -rf "$dir"
	for f in "${files[@]}"; do
		mkdir -p "$dir/$(dirname "$f")"
		git -C "$repo" show "$rev:$f" > "$dir/$f"
	done
}

same_as() {
	local dir=$1 rev=$2 f
	for f in "${files[@]}"; do
		tgit show "$rev:$f" | cmp -s - "$dir/$f" || return 1
	done
}

# 1. not a kernel tree
mkdir -p "$scratch/empty"
out=$(python3 "$step" "$scratch/empty" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"not a Linux source tree"* ]] && rc=0 || rc=1
result base_refuses_non_kernel_tree $rc "$out"

# 2. the pristine tree becomes exactly the base commit
mini_tree "$scratch/t" pristine
python3 "$step" "$scratch/t" >/dev/null 2>&1 && same_as "$scratch/t" base && rc=0 || rc=1
result base_step_reproduces_base_commit $rc

# 3. idempotent
out=$(python3 "$step" "$scratch/t" 2>&1) && same_as "$scratch/t" base &&
	[[ $out == *"already removed"* ]] && rc=0 || rc=1
result base_step_is_idempotent $rc "$out"

# 4. part of the API missing: refuse and name what is missing
mini_tree "$scratch/t" pristine
sed -i '/dma_vmap_noncontiguous/,+2d' "$scratch/t/include/linux/dma-mapping.h"
out=$(python3 "$step" "$scratch/t" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"missing"*"dma_vmap_noncontiguous"* ]] && rc=0 || rc=1
result base_refuses_partial_api $rc "$out"

# 5. a leftover use in a file that must be clean afterwards
mini_tree "$scratch/t" base
echo "/* noncontiguous */" >> "$scratch/t/include/linux/dma-map-ops.h"
out=$(python3 "$step" "$scratch/t" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"still mentions 'noncontiguous'"* ]] && rc=0 || rc=1
result base_refuses_leftover_use $rc "$out"

# 6. a kept helper gone: the tree is not what the base expects
mini_tree "$scratch/t" pristine
sed -i 's/__iommu_dma_alloc_noncontiguous/__iommu_dma_gone/g' "$scratch/t/drivers/iommu/dma-iommu.c"
out=$(python3 "$step" "$scratch/t" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"__iommu_dma_alloc_noncontiguous"* ]] && rc=0 || rc=1
result base_refuses_missing_kept_helper $rc "$out"

# 7. apply + export on a scratch clone reproduces series/ byte for byte
# (a failure is reported by name; no test ends this script early)
out=$(git clone -q --shared "$TREE" "$scratch/b/linux" 2>&1 &&
      git -C "$scratch/b/linux" fetch -q origin 'refs/tags/*:refs/tags/*' 2>&1 &&
      git -C "$scratch/b/linux" checkout -q -B series base 2>&1 &&
      NONCONTIG_BUILD=$scratch/b "$TOP/harness/apply.sh" 2>&1 &&
      NONCONTIG_BUILD=$scratch/b "$TOP/harness/verify-series.sh" 2>&1) && rc=0 || rc=$?
[ $rc = 0 ] && [[ $out != *"base: series exported against"* ]] || rc=1
result series_round_trip_is_byte_identical $rc "$(echo "$out" | tail -n 3)"

# 8. a patch that does not apply is named, and the tree is left on the base
cp -r "$SERIES" "$scratch/series"
# the first patch after the first two with a context line the sed can break
victim=
for p in $(patch_list | tail -n +3); do
	if grep -q '^ static ' "$SERIES/$p"; then
		victim=$p
		break
	fi
done
sed -i '0,/^ static /s/^ static / static_broken /' "$scratch/series/$victim"
out=$(NONCONTIG_BUILD=$scratch/b NONCONTIG_SERIES=$scratch/series FORCE=1 \
      "$TOP/harness/apply.sh" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"patch $victim does not apply"* ]] && rc=0 || rc=1
result apply_names_the_failing_patch $rc "$(echo "$out" | tail -1)"

# Simulated Debian updates of the package, in the scratch clone: a new
# 'pristine' (the old one with FILE edited by the sed script EDIT) recorded
# as version VERSION, and its 'base' made by the real base step.
sg() {
	git -C "$scratch/b/linux" "$@"
}
orig_pristine=$(tgit rev-parse pristine)
moved_base() {
	local version=$1 file=$2 edit=$3 idx=$scratch/index f blob tree commit
	rm -f "$idx"
	GIT_INDEX_FILE=$idx sg read-tree "$orig_pristine" || return 1
	sg show "$orig_pristine:$file" > "$scratch/edited" || return 1
	sed -i "$edit" "$scratch/edited"
	sg show "$orig_pristine:$file" | cmp -s - "$scratch/edited" && return 1
	blob=$(sg hash-object -w "$scratch/edited")
	GIT_INDEX_FILE=$idx sg update-index --cacheinfo "100644,$blob,$file" || return 1
	tree=$(GIT_INDEX_FILE=$idx sg write-tree)
	commit=$(GIT_AUTHOR_DATE=$FIXED_DATE GIT_COMMITTER_DATE=$FIXED_DATE sg commit-tree \
		-p "$orig_pristine" -m "Debian $SRC_PKG $version" "$tree") || return 1
	sg tag -f pristine "$commit" >/dev/null
	# the base step edits only these files: run it on them
	mini_tree "$scratch/mt" pristine "$scratch/b/linux"
	python3 "$step" "$scratch/mt" >/dev/null || return 1
	for f in "${files[@]}"; do
		blob=$(sg hash-object -w "$scratch/mt/$f")
		GIT_INDEX_FILE=$idx sg update-index --cacheinfo "100644,$blob,$f" || return 1
	done
	tree=$(GIT_INDEX_FILE=$idx sg write-tree)
	commit=$(GIT_AUTHOR_DATE=$FIXED_DATE GIT_COMMITTER_DATE=$FIXED_DATE sg commit-tree \
		-p pristine -m "base: simulated on $version" "$tree") || return 1
	sg tag -f base "$commit" >/dev/null
}
exported=$(series_version)

# 8a. the package moved in a file the series does not touch: every patch
# applies, the run says so once, and the agreement check passes while it
# still catches a changed hunk, a changed message and a missing patch
v=$(tree_version)+sim-untouched
out=$(moved_base "$v" README 's/^Linux kernel$/Linux kernel (simulated update)/' 2>&1 &&
      NONCONTIG_BUILD=$scratch/b FORCE=1 "$TOP/harness/apply.sh" 2>&1 &&
      NONCONTIG_BUILD=$scratch/b "$TOP/harness/verify-series.sh" 2>&1) && rc=0 || rc=$?
want="base: series exported against $exported, testing $v"
[ $rc = 0 ] && [ "$(echo "$out" | grep -cF "$want")" = 2 ] || rc=1
result moved_base_untouched_is_a_notice $rc "$(echo "$out" | tail -n 3)"
caught=0
for mutation in '0,/^+\t/s/^+\t/+\t \t/' 's/^Subject: \[PATCH [^]]*\] /&x/' delete; do
	rm -rf "$scratch/mut"
	cp -r "$SERIES" "$scratch/mut"
	victim=$(patch_list | sed -n 2p)
	if [ "$mutation" = delete ]; then
		rm "$scratch/mut/$victim"
		sed -i "/^$victim/d" "$scratch/mut/series"
	else
		sed -i "$mutation" "$scratch/mut/$victim"
	fi
	NONCONTIG_BUILD=$scratch/b NONCONTIG_SERIES=$scratch/mut \
		"$TOP/harness/verify-series.sh" --quiet 2>/dev/null && continue
	caught=$((caught + 1))
done
[ $caught = 3 ] && rc=0 || rc=1
result moved_base_verify_still_catches_real_differences $rc "$caught of 3 caught"

# 8b. the package moved in a line a patch removes: the failing patch is
# named with both versions and the command that starts the rebase
victim= line=
for p in $(patch_list); do
	line=$(awk '/^diff --git/ {file = substr($3, 3)} /^-[^-]/ && file != "" {print file "\t" substr($0, 2); exit}' "$SERIES/$p")
	[ -n "$line" ] && { victim=$p; break; }
done
file=${line%%$'\t'*} text=${line#*$'\t'}
v=$(tree_version)+sim-touched
esc=$(printf '%s' "$text" | sed -e 's/[]\/$*.^[]/\\&/g')
out=$(moved_base "$v" "$file" "s/^$esc\$/\& \/* simulated update *\//" 2>&1 &&
      NONCONTIG_BUILD=$scratch/b FORCE=1 "$TOP/harness/apply.sh" 2>&1) && rc=0 || rc=$?
want="error: patch $victim no longer applies on $SRC_PKG $v (the series was exported against $exported); 'make rebase' starts the rebase in build/linux"
[ $rc != 0 ] && [[ $out == *"$want"* ]] && rc=0 || rc=1
result moved_base_touched_names_patch_and_rebase $rc "$(echo "$out" | tail -n 1)"
# ... and 'make rebase' starts it: a three-way am that stops at that
# patch's conflict, with the session left for 'git am --continue'
out=$(NONCONTIG_BUILD=$scratch/b "$TOP/harness/rebase.sh" 2>&1) && rc=0 || rc=$?
[ $rc != 0 ] && [[ $out == *"stopped at a conflict in build/linux"* ]] &&
	[ -d "$scratch/b/linux/.git/rebase-apply" ] &&
	[ "$(sg rev-list --count base..HEAD)" = "$(patch_list | grep -n -x "$victim" | cut -d: -f1 | xargs -I{} expr {} - 1)" ] &&
	rc=0 || rc=1
sg am --abort >/dev/null 2>&1 || true
result rebase_stops_at_the_conflict $rc "$(echo "$out" | tail -n 1)"

# 9. the machine-level cache: a stale stamp or a broken repository is noticed
store=$(ls -d "$CACHE"/pristine-*-f"$CACHE_FORMAT" 2>/dev/null | head -n 1)
if [ -n "$store" ]; then
	fake=$scratch/cache
	mkdir -p "$fake/store"
	ln -s "$store/.git" "$fake/store/.git"
	cp "$store.ok" "$fake/store.ok"
	ok=0
	cache_is_valid "$fake/store" "$fake/store.ok" || ok=1
	echo 0000000000000000000000000000000000000000 > "$fake/store.ok"
	cache_is_valid "$fake/store" "$fake/store.ok" && ok=1
	cp "$store.ok" "$fake/store.ok"
	rm "$fake/store/.git"
	mkdir -p "$fake/store/.git"
	cache_is_valid "$fake/store" "$fake/store.ok" 2>/dev/null && ok=1
	result cache_detects_stale_and_broken_entries $ok
else
	result cache_detects_stale_and_broken_entries 1 "no cache entry to test with"
fi

# 12. platforms are data: every file in config/platforms/ loads and names
# fragments that exist; a file with an unknown key, without a required
# one or of a Debian architecture config/debian-arches lacks is refused,
# naming it
why=
for p in $(platforms); do
	out=$( (load_platform "$p" && for f in $P_config $P_extra; do
		[ -f "$TOP/config/$f" ] || { echo "no config/$f"; exit 1; }; done) 2>&1) ||
		why+="$p: $out; "
done
mkdir -p "$scratch/platforms"
grep -v '^console' "$TOP/config/platforms/x86_64" >"$scratch/platforms/noconsole"
{ cat "$TOP/config/platforms/x86_64"; echo "colour = blue"; } >"$scratch/platforms/unknown"
out=$(NONCONTIG_PLATFORMS=$scratch/platforms bash -c ". '$TOP/harness/lib.sh'; load_platform noconsole" 2>&1) &&
	why+="a platform without 'console' loaded; " || [[ $out == *"no 'console'"* ]] || why+="noconsole: $out; "
out=$(NONCONTIG_PLATFORMS=$scratch/platforms bash -c ". '$TOP/harness/lib.sh'; load_platform unknown" 2>&1) &&
	why+="a platform with key 'colour' loaded; " || [[ $out == *"unknown key 'colour'"* ]] || why+="unknown: $out; "
sed 's/^debian .*/debian = sparc64/' "$TOP/config/platforms/x86_64" >"$scratch/platforms/nodebian"
out=$(NONCONTIG_PLATFORMS=$scratch/platforms bash -c ". '$TOP/harness/lib.sh'; load_platform nodebian" 2>&1) &&
	why+="a platform of an architecture not in config/debian-arches loaded; " ||
	[[ $out == *"'sparc64' is not in config/debian-arches"* ]] || why+="nodebian: $out; "
[ -z "$why" ] && rc=0 || rc=1
result platforms_load_and_bad_ones_are_refused $rc "$why"

# 13. the robot's comparison: a finding that moved lines is the same
# finding, one the series adds is new, and notes and other lines are not
# findings
mkdir -p "$scratch/robot"
printf '%s\n' "../../linux/kernel/dma/mapping.c:10:5: warning: old one [-Wfoo]" \
	"../../linux/kernel/dma/mapping.c:11:5: note: in expansion" "  CC kernel/dma/mapping.o" \
	>"$scratch/robot/base.log"
printf '%s\n' "../../linux/kernel/dma/mapping.c:12:5: warning: old one [-Wfoo]" \
	"kernel/dma/mapping.c:40:1-7: WARNING: new one" "../../linux/kernel/dma/mapping.c:13:5: note: other" \
	"../../linux/drivers/iommu/dma-iommu.c:3:1: warning: elsewhere" >"$scratch/robot/series.log"
# (new_findings in lib.sh, the comparison robot.sh, callers.sh and
# distro.sh all make, each through it)
new=$(new_findings "$scratch/robot/base.log" "$scratch/robot/series.log" kernel/dma/)
why=
[ "$new" = "kernel/dma/mapping.c: WARNING: new one" ] || why+="new: $new; "
for s in robot callers distro; do
	grep -q 'new_findings "' "$TOP/harness/$s.sh" || why+="$s.sh compares without new_findings; "
done
[ -z "$why" ] && rc=0 || rc=1
result new_findings_ignore_lines_and_notes $rc "$why"

# 14. kernels are configured from allnoconfig: the KUnit kernel's fragments
# configure, and without config/kunit-needs.config (what the suite needs
# that allnoconfig leaves off) the build refuses the config, naming an
# option that did not stick instead of building a kernel without the suite
why=
mapfile -t frags < <(kunit_frags x86_64)
mapfile -t lean < <(printf '%s\n' "${frags[@]}" | grep -v '/kunit-needs\.config$')
out=$(CONFIG_ONLY=1 "$TOP/harness/build.sh" selftest-allno "${frags[@]}" 2>&1) ||
	why+="the KUnit kernel's fragments did not configure: $(echo "$out" | tail -n 2); "
out=$(CONFIG_ONLY=1 "$TOP/harness/build.sh" selftest-allno "${lean[@]}" 2>&1) &&
	why+="a config without kunit-needs.config was accepted; " ||
	[[ $out == *"did not stick"*CONFIG_DMA_NONCONTIG_KUNIT_TEST=y* ]] ||
	why+="not refused for the suite: $(echo "$out" | tail -n 2); "
[ -z "$why" ] && rc=0 || rc=1
result allnoconfig_without_what_the_suite_needs_is_refused $rc "$why"
# a folder whose last build failed on purpose, left behind, would make the
# bisect's dating (outcache.py redate --others) date every file new for it
rm -rf "$BUILD/out/selftest-allno"

# 10-11. the three judges on canned boots, synthetic and real (testdata/):
# a good one passes, each fault fails with the judge's own line for it;
# then each check removed from a copy of its judge must make its case go
# wrong (one 'selftest:' line per case and per mutant)
python3 "$TOP/harness/selftest/judges.py" "$TREE" "$scratch/judges" || status=1

# 15. outcache.py dates a restored tree by what each folder was built from:
# a file the folder was built from at another content (b.h: changed then,
# pristine now) and one changed since (c.h) must get the current time, so
# kbuild rebuilds what includes them; an untouched file (a.c) an old one.
why=
oc=$scratch/outcache
mkdir -p "$oc/tree" "$oc/build/out/k"
(
	cd "$oc/tree" && git init -q && printf 'int a;\n' > a.c && echo v0 > b.h && echo v0 > c.h &&
	git add . && git commit -qm pristine && git tag pristine &&
	echo v1 > b.h && git commit -qam series && touch "$oc/build/out/k/.config"
) || why+="could not make the tree; "
ocpy() {
	NONCONTIG_TREE=$oc/tree NONCONTIG_BUILD=$oc/build NONCONTIG_CACHE=$oc/cache \
		python3 "$TOP/harness/outcache.py" "$@"
}
ocpy record "$oc/build/out/k" gcc && mv "$oc/build/out/k/.noncontig-state.new" "$oc/build/out/k/.noncontig-state" &&
	ocpy save >/dev/null || why+="record or save failed; "
rm -rf "$oc/build/out"
(cd "$oc/tree" && echo v0 > b.h && echo v2 > c.h && git commit -qam next) || why+="could not change the tree; "
out=$(ocpy restore) || why+="restore failed: $out; "
[[ $out == *"restored 1 build folders (k); 2 files differ"* ]] || why+="restore said: $out; "
for f in a.c b.h c.h; do
	age=$(($(date +%s) - $(stat -c %Y "$oc/tree/$f")))
	case $f in
	a.c) [ "$age" -gt 86400 ] || why+="$f is dated now; " ;;
	*) [ "$age" -lt 86400 ] || why+="$f kept an old date: kbuild would not rebuild from it; " ;;
	esac
done
[ -f "$oc/build/out/k/.config" ] || why+="the folder was not restored; "
[ -z "$why" ] && rc=0 || rc=1
result outcache_dates_files_that_differ_from_what_a_folder_was_built_from $rc "$why"

# 16. The bisect skips a commit only when no build reads what it changes:
# .rst files and MAINTAINERS are skipped, Documentation/Kconfig (read by
# every kernel's Kconfig), other documentation and code are built.
why=
nb=$scratch/nobuild
mkdir -p "$nb/Documentation/core-api" "$nb/lib"
(
	cd "$nb" && git init -q && echo a > MAINTAINERS && echo a > Documentation/core-api/x.rst &&
	echo a > Documentation/Kconfig && echo a > Documentation/x.txt && echo a > lib/x.c &&
	git add . && git commit -qm 0 &&
	echo b > MAINTAINERS && echo b > Documentation/core-api/x.rst && git commit -qam docs &&
	echo c > Documentation/core-api/x.rst && echo b > Documentation/Kconfig && git commit -qam kconfig &&
	echo b > Documentation/x.txt && git commit -qam txt &&
	echo b > lib/x.c && git commit -qam code
) || why+="could not make the repository; "
for c in docs:skip kconfig:build txt:build code:build; do
	rev=$(git -C "$nb" log --format=%H --grep="^${c%%:*}\$")
	got=build
	no_build_input "$nb" "$rev" && got=skip
	[ "$got" = "${c##*:}" ] || why+="the ${c%%:*} commit: $got; "
done
[ -z "$why" ] && rc=0 || rc=1
result bisect_skips_only_commits_no_build_reads $rc "$why"

# 17. outcache.py redate: the bisect builds a folder at another commit than
# it was last built at, right after a checkout that dated every file it
# rewrote now.  For that folder a header as it was built from it (h.h) must
# get an old date again, or the build rebuilds all that includes it, and a
# file built from another content (m.c) a new one; afterwards '--others'
# dates for every other folder, leaving out the folders whose builder
# dates the tree itself (NONCONTIG_OWN_DATES), and restore leaves them out
# of its dating too.
why=
rd=$scratch/redate
mkdir -p "$rd/tree" "$rd/build/out/k" "$rd/build/out/p"
(
	cd "$rd/tree" && git init -q && echo 0 > a.c && echo 0 > h.h && echo 0 > m.c &&
	git add . && git commit -qm pristine && git tag pristine && git checkout -qb series &&
	echo 1 > m.c && git commit -qam one && git tag one &&
	echo 1 > h.h && git commit -qam two && echo 2 > m.c && git commit -qam three &&
	touch "$rd/build/out/k/.config" "$rd/build/out/p/.config"
) || why+="could not make the tree; "
rdpy() {
	NONCONTIG_TREE=$rd/tree NONCONTIG_BUILD=$rd/build NONCONTIG_CACHE=$rd/cache \
		python3 "$TOP/harness/outcache.py" "$@"
}
# 'p' last built at pristine (the bisect's folder), 'k' at the tip
rdrec() {
	rdpy record "$rd/build/out/$1" gcc && mv "$rd/build/out/$1/.noncontig-state.new" "$rd/build/out/$1/.noncontig-state"
}
(cd "$rd/tree" && git checkout -q pristine && NONCONTIG_OWN_DATES=1 rdrec p &&
	git checkout -q series && rdrec k) || why+="could not record; "
# dates: each FILE=old|new
# rddates WHEN FILE=old|new...
rddates() {
	local when=$1 f age
	shift
	for f in "$@"; do
		age=$(($(date +%s) - $(stat -c %Y "$rd/tree/${f%%=*}")))
		case ${f##*=} in
		old) [ "$age" -gt 86400 ] || why+="$when: ${f%%=*} is dated now; " ;;
		new) [ "$age" -lt 86400 ] || why+="$when: ${f%%=*} kept an old date; " ;;
		esac
	done
}
git -C "$rd/tree" checkout -q one && rdpy redate p >/dev/null || why+="redate p failed; "
rddates 'redate p' h.h=old m.c=new
git -C "$rd/tree" checkout -q series && rdpy redate --others >/dev/null || why+="redate --others failed; "
rddates 'redate --others' h.h=old m.c=old
rdpy save >/dev/null && rm -rf "$rd/build/out" && out=$(rdpy restore) || why+="save or restore failed; "
[[ $out == *"restored 2 build folders (k p); 0 files differ"* ]] || why+="restore said: $out; "
rddates restore h.h=old m.c=old
[ -z "$why" ] && rc=0 || rc=1
result outcache_redates_for_the_folders_built_at_another_commit $rc "$why"

# 18. check.sh reads what the checks left without stopping before its
# summary, and counts only result lines: a FAIL's diagnostic that quotes a
# judge's 'ok' is one failure, not a pass as well; an empty or garbled
# .result, a missing .rc and a platform file that does not load are
# failures with a reason (each read under 'set -e' would have ended the
# run without a summary)
why=
got=$(count_results "$(printf '%s\n' "selftest: FAIL x (callers-hda-on: ok   2 buffers)" \
	"verify: ok   series/ matches" "  problem: mmap: ok offsets" "bisect: skip base" "robot: okay")")
[ "$got" = "1 1 1 " ] || why+="counted '$got' (pass fail skip), expected '1 1 1'; "
: >"$scratch/empty.result"
echo "x86_64-on 83 77 x 6 ok" >"$scratch/garbled.result"
echo "x86_64-on 83 77 0 6 ok" >"$scratch/good.result"
for c in empty:"x86_64-on 0 0 0 0 missing" garbled:"x86_64-on 0 0 0 0 unreadable" \
	good:"x86_64-on 83 77 0 6 ok" absent:"x86_64-on 0 0 0 0 missing"; do
	got=$(read_result "$scratch/${c%%:*}.result" x86_64-on) || why+="read_result stopped on ${c%%:*}; "
	[ "$got" = "${c#*:}" ] || why+="${c%%:*} result read as '$got'; "
done
got=$(read_rc "$scratch/absent.rc") && [ "$got" = "1 0" ] || why+="a missing .rc read as '$got'; "
mkdir -p "$scratch/brokenplat"
echo "colour = blue" >"$scratch/brokenplat/x"
NONCONTIG_PLATFORMS=$scratch/brokenplat bash -c ". '$TOP/harness/lib.sh'; platform_ok x && r=0 || r=\$?; echo went on \$r" \
	>"$scratch/plat.out" 2>&1 || true
grep -qx "went on 1" "$scratch/plat.out" || why+="platform_ok on a broken file: $(cat "$scratch/plat.out"); "
# check.sh reads through these, and nowhere directly
grep -qE '(grep -c .: ok|read -r [a-z ]+ *<[ ]*"\$)' "$TOP/harness/check.sh" &&
	why+="check.sh counts or reads without count_results/read_result/read_rc; "
[ -z "$why" ] && rc=0 || rc=1
result check_counts_results_and_reads_broken_files_to_the_summary $rc "$why"

# 19. boot.sh judges this run's console log: when QEMU never starts (no
# kernel here), the last run's good log left in place must not pass
why=
bb=$scratch/bootbuild
mkdir -p "$bb/logs" "$bb/out/x86_64-kunit"
[ -d "$BUILD/out/headers-x86_64" ] && ln -sfn "$BUILD/out/headers-x86_64" "$bb/out/headers-x86_64"
cp "$TOP/harness/selftest/testdata/kunit-x86_64-on.log" "$bb/logs/kunit-x86_64-on.log"
out=$(NONCONTIG_BUILD=$bb NONCONTIG_TREE=$TREE NO_BUILD=1 "$TOP/harness/boot.sh" x86_64 on 2>&1) &&
	why+="boot.sh passed without a kernel; "
[[ $out == *"kunit-x86_64-on: FAIL QEMU did not start: error: no kernel at"* ]] ||
	why+="said: $(echo "$out" | tail -n 2); "
[ -f "$bb/logs/kunit-x86_64-on.result" ] && why+="a result was left for check.sh; "
[ -z "$why" ] && rc=0 || rc=1
result boot_judges_only_this_runs_log $rc "$why"

# 20. harness/README names every file of harness/ (its test data as the
# folder), and the repository speaks of itself: nothing points outside it
# or tells how it was made.  Each check is also shown catching a planted
# fault.
unnamed_in_readme() { # README, file names on stdin: those it does not name
	local f
	while read -r f; do
		case $f in harness/README | harness/selftest/testdata/*) continue ;; esac
		grep -qwF -- "$(basename "$f")" "$1" || echo "$f"
	done
}
outside_words() { # FILE...: lines that point outside or speak of the work
	grep -nHiE '\.\./shared|\b(SPEC|STYLE)\.md|\bissues? #?[0-9]|\bwork periods?\b|\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth) sess[i]on|\bmachine kinds?\b|\bkinds? of machines?\b|\bthese machines\b' "$@" || true
}
why=
mapfile -t tracked < <(git -C "$TOP" ls-files | grep -vE '\.(png|log)$')
new=$(git -C "$TOP" ls-files harness | unnamed_in_readme "$TOP/harness/README")
[ -z "$new" ] || why+="harness/README does not name: $(echo $new); "
[ -n "$( (git -C "$TOP" ls-files harness; echo harness/planted.sh) | unnamed_in_readme "$TOP/harness/README")" ] ||
	why+="a harness file the README does not name went unseen; "
new=$(cd "$TOP" && outside_words "${tracked[@]}")
[ -z "$new" ] || why+="$(echo "$new" | head -n 3 | tr '\n' ' ')"
printf 'as ../%s/%s.md says\nthe README of issue %d\n' shared SPEC 34 >"$scratch/planted.md"
[ "$(outside_words "$scratch/planted.md" | wc -l)" = 2 ] ||
	why+="a line pointing outside or naming an issue went unseen; "
[ -z "$why" ] && rc=0 || rc=1
result the_repository_speaks_of_itself_and_harness_readme_names_every_file $rc "$why"

# 21. make export of a commit amended here (another committer, another
# date) writes the series that 'make apply' and 'make export' give on any
# machine: the range-diff's ids too, so 'make verify' holds in a clone
why=
b21=$scratch/b21
mkdir -p "$b21"
cp -r "$SERIES" "$b21/series"
out=$(git clone -q --shared "$TREE" "$b21/linux" 2>&1 &&
      git -C "$b21/linux" fetch -q origin 'refs/tags/*:refs/tags/*' 2>&1 &&
      git -C "$b21/linux" checkout -q -B series base 2>&1 &&
      NONCONTIG_BUILD=$b21 NONCONTIG_SERIES=$b21/series "$TOP/harness/apply.sh" 2>&1 &&
      GIT_COMMITTER_NAME="Someone Else" GIT_COMMITTER_EMAIL=else@example.invalid \
      GIT_COMMITTER_DATE="2026-02-02T00:00:00Z" git -C "$b21/linux" commit -q --amend --no-edit 2>&1 &&
      NONCONTIG_BUILD=$b21 NONCONTIG_SERIES=$b21/series "$TOP/harness/export.sh" 2>&1) ||
	why+="export failed: $(echo "$out" | tail -n 2); "
if ! diff -r -q "$SERIES" "$b21/series" >"$scratch/diff21" 2>&1; then
	why+="series/ differs after exporting an amended commit: $(head -n 2 "$scratch/diff21" | tr '\n' ' '); "
fi
[ -z "$(git -C "$b21/linux" log --format=%cn base..series | grep -vx "$GIT_COMMITTER_NAME")" ] ||
	why+="a commit made here was left in the tree; "
[ -z "$why" ] && rc=0 || rc=1
result export_of_a_commit_made_here_gives_the_ids_every_machine_gets $rc "$why"

exit $status
