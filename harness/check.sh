#!/usr/bin/env bash
# The test command, then one summary.
#   check.sh quick   self-tests, series/tree agreement, checkpatch,
#                    kernel-doc, the callers' compile and W=1, and the x86_64
#                    KUnit kernel booted with the IOMMU on and off and under
#                    the callers (make check)
#   check.sh all     every check the project has (make check-all, .ci/run)
# Keeps going after a failure so the summary is complete; exits non-zero if
# anything failed.  Final line: 'N passed, N failed[, N skipped]'.
. "$(dirname "$0")/lib.sh"

tier=${1:-all}
case $tier in
quick|all) ;;
*) die "usage: check.sh quick|all" ;;
esac
# full: the checks of the full tier alone run
full() {
	[ "$tier" = all ]
}

summary=()
total_pass=0 total_fail=0 total_skip=0
# every failed check's own line, repeated just above the final count: CI
# shows only the tail of the output, which must say what failed
failed=()

# Packages, tree, base step and series: nothing else can run without them.
# A failure here (a base step that no longer finds what it removes, a patch
# that no longer applies on a new package revision) still ends in a summary
# whose one line says what broke, and the final count.
prepare_times=()
prepare() {
	local step err t0
	for step in deps tree apply; do
		t0=$(date +%s)
		if ! "$TOP/harness/$step.sh" 2>"$LOGS/prepare-$step.err"; then
			cat "$LOGS/prepare-$step.err" >&2
			# the sentence that says what broke: the harness's 'error:'
			# line, else the last thing the step said (the base step's)
			err=$(grep '^error: ' "$LOGS/prepare-$step.err" | tail -n 1 || true)
			[ -n "$err" ] || err=$(grep -v '^[[:space:]]*$' "$LOGS/prepare-$step.err" | tail -n 1 || true)
			summary+=("$(printf '%-12s FAIL %s' "$step" "${err:-$step.sh failed (log: $LOGS/prepare-$step.err)}")")
			return 1
		fi
		cat "$LOGS/prepare-$step.err" >&2
		prepare_times+=("$step $(($(date +%s) - t0)) s")
	done
}
if ! prepare; then
	echo
	echo "== summary =="
	printf '%s\n' "${summary[@]}"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The build folders of the last run, from the cache (harness/outcache.py):
# kbuild rebuilds what differs from what they were built from.
t0=$(date +%s)
mkdir -p "$CACHE"
outcache=$(flock "$CACHE/out.lock" python3 "$TOP/harness/outcache.py" restore 2>&1) ||
	outcache="outcache: restore failed: $(echo "$outcache" | tail -n 1)"
echo "$outcache"
prepare_times+=("build folders $(($(date +%s) - t0)) s")
summary+=("$(printf 'prepare      %s' "$(IFS=,; echo "${prepare_times[*]}" | sed 's/,/, /g')")")
summary+=("             ${outcache#outcache: }")
notice=$(base_notice)
[ -z "$notice" ] || summary+=("$notice")

# count LABEL RC SECONDS NOTE: count the 'NAME: ok' and 'NAME: FAIL' lines
# of a check's output ($last_out), which exited with RC after SECONDS
count() {
	local label=$1 rc=$2 secs=$3 note=$4 pass fail skip
	echo "$last_out" | sed 's/^/  /'
	read -r pass fail skip < <(count_results "$last_out")
	# a script that failed without saying which check failed still counts
	[ "$rc" != 0 ] && [ "$fail" = 0 ] && fail=1 &&
		failed+=("$label: exited $rc without naming a failed check")
	while IFS= read -r line; do
		failed+=("$label: $line")
	done < <(echo "$last_out" | grep -E '^[A-Za-z0-9_.+-]+: FAIL' || true)
	summary+=("$(printf '%-12s %3d passed, %d failed%s  (%d s%s)' "$label" "$pass" "$fail" \
		"$([ "$skip" = 0 ] || echo ", $skip skipped")" "$secs" "$note")")
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

# Run a check script and count its lines.
tally() {
	local label=$1 rc t0
	shift
	t0=$(date +%s)
	stage check "$label"
	last_out=$("$@" 2>&1) && rc=0 || rc=$?
	count "$label" "$rc" $(($(date +%s) - t0)) ""
}

verify() {
	"$TOP/harness/verify-series.sh" >/dev/null && echo "verify: ok   series/ matches build/linux" ||
		echo "verify: FAIL series/ and build/linux differ (make verify)"
}

# The benchmark patch must also apply where upstream's implementation is:
# checked against the pristine tree in a scratch index, without a checkout.
bench_patch() {
	local patch idx
	patch=$(ls "$SERIES"/*-dma-mapping-benchmark-add-a-noncontiguous-*.patch | head -n 1)
	idx=$(mktemp -u)
	if GIT_INDEX_FILE=$idx tgit read-tree pristine &&
		GIT_INDEX_FILE=$idx tgit apply --cached --check "$patch"; then
		echo "bench-patch: ok   $(basename "$patch") applies on the unmodified Debian tree"
	else
		echo "bench-patch: FAIL $(basename "$patch") does not apply on the unmodified Debian tree"
	fi
	rm -f "$idx"
}

# The self-tests keep one core busy for a minute; the checks up to the
# bisect, which checks commits out, run beside them.
t0=$(date +%s)
stage check "selftest (beside the checks up to the bisect)"
{
	"$TOP/harness/selftest/selftest.sh" >"$LOGS/selftest.out" 2>&1 && rc=0 || rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$LOGS/selftest.rc"
} &
selftest_pid=$!
tally verify verify
tally bench-patch bench_patch
tally checkpatch "$TOP/harness/checkpatch.sh"
tally kernel-doc "$TOP/harness/kerneldoc.sh"
tally callers "$TOP/harness/callers.sh"
full && tally nodma "$TOP/harness/nodma.sh"
wait $selftest_pid || true
read -r rc secs < <(read_rc "$LOGS/selftest.rc")
last_out=$(cat "$LOGS/selftest.out")
count selftest "$rc" "$secs" ", beside the checks above"
# The bisect before the callers' boots: they boot the x86_64 KUnit kernel,
# which the bisect's last build is; the other way round, a cold run would
# build that kernel at the tip first and the bisect then rebuild half of
# it for the base.
full && tally bisect "$TOP/harness/bisect.sh"

# From here the tree stays at the tip and two lanes share the machine: the
# foreground compiles (the kernels the boots need, then distro and robot)
# while the boot lane boots each kernel under QEMU as soon as it is built,
# one boot at a time.  A TCG boot keeps about one core busy, and a warm
# build's serial steps (links, modpost, images) about one: taking turns,
# each left the other core idle.  When the foreground is done it boots
# what the lane has not started yet.  The boots' checks are counted at the
# end, in the order they were before.
lane=$LOGS/lane
rm -rf "$lane"
mkdir -p "$lane"
# ready NAME ok|fail: kernel NAME is built (or failed to build)
ready() {
	echo "$2" >"$lane/$1.tmp" && mv "$lane/$1.tmp" "$lane/$1.ready"
}
# await NAME: wait until kernel NAME is built; non-zero if it failed to.
# The lane ends with the foreground if that dies first.
await() {
	while [ ! -f "$lane/$1.ready" ]; do
		kill -0 $$ 2>/dev/null || exit 1
		sleep 1
	done
	[ "$(cat "$lane/$1.ready")" = ok ]
}
# the order kernels are built and booted in: x86_64 first, for the callers,
# then the hardened kernel, the longest boot, while the others build
# (the quick tier: x86_64 alone, no hardened kernel)
if full; then
	mapfile -t kunit_platforms < <(echo x86_64; platforms | grep -vx x86_64)
	jobs=(callers-run:x86_64-kunit kunit-x86_64:x86_64-kunit hardened:x86_64-hardened)
else
	kunit_platforms=(x86_64)
	jobs=(callers-run:x86_64-kunit kunit-x86_64:x86_64-kunit)
fi
for p in "${kunit_platforms[@]:1}"; do
	jobs+=("kunit-$p:$p-kunit")
done
# boot_job LABEL: the boot and judge of one job, its output and time kept
# for counting; a job whose kernel did not build fails (a KUnit job leaves
# no result, and its boots count as failed below)
boot_job() {
	local label=$1 t0 rc=0
	t0=$(date +%s)
	stage boot "$label"
	case $label in
	callers-run) NO_BUILD=1 "$TOP/harness/callers-run.sh" ;;
	hardened) NO_BUILD=1 "$TOP/harness/hardened.sh" ;;
	kunit-*) NO_BUILD=1 "$TOP/harness/boot.sh" "${label#kunit-}" ;;
	esac >"$lane/$label.out" 2>&1 || rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$lane/$label.rc"
}
# boot_jobs: take each job no one has taken yet (mkdir is the claim), in order
boot_jobs() {
	local job label kernel
	for job in "${jobs[@]}"; do
		label=${job%%:*} kernel=${job#*:}
		mkdir "$lane/$label.taken" 2>/dev/null || continue
		if await "$kernel"; then
			boot_job "$label"
		else
			echo "$label: FAIL no kernel (log: $LOGS/build-$kernel.log)" >"$lane/$label.out"
			echo "1 0" >"$lane/$label.rc"
		fi
	done
}
# count_lane LABEL: count what the lane's LABEL printed
count_lane() {
	local rc secs
	read -r rc secs < <(read_rc "$lane/$1.rc")
	last_out=$(cat "$lane/$1.out")
	count "$1" "$rc" "$secs" ", beside other work"
}

for p in "${kunit_platforms[@]}"; do
	platform_ok "$p" || continue
	load_platform "$p"
	for mode in $P_modes; do
		rm -f "$LOGS/kunit-$P_label-$mode.result"
	done
done
boot_jobs &
lane_pid=$!

# The kernels, in the order the lane boots them: x86_64's KUnit kernel
# (the bisect's last build), the hardened one, the other platforms'
# (arm64's is the bisect's, back from the commit it booted at).
times=()
for p in "${kunit_platforms[@]}"; do
	t0=$(date +%s)
	stage check "KUnit kernel, $p"
	if PLATFORM=$p "$TOP/harness/build.sh" "$p-kunit" >"$LOGS/kunit-build-$p.out" 2>&1; then
		ready "$p-kunit" ok
	else
		ready "$p-kunit" fail
		echo "  kunit-$p: FAIL build (log: $LOGS/build-$p-kunit.log)"
	fi
	times+=("$p $(($(date +%s) - t0)) s")
	[ "$p" = x86_64 ] && full || continue
	t0=$(date +%s)
	stage check "hardened kernel"
	last_out=$(BUILD_ONLY=1 "$TOP/harness/hardened.sh" 2>&1) && rc=0 || rc=$?
	[ $rc = 0 ] && ready x86_64-hardened ok || ready x86_64-hardened fail
	count hardened-build $rc $(($(date +%s) - t0)) ""
done
summary+=("$(printf 'kunit        builds: %s' "$(IFS=,; echo "${times[*]}" | sed 's/,/, /g')")")
full && tally distro "$TOP/harness/distro.sh"
full && tally robot "$TOP/harness/robot.sh"
full && tally robot-kunit "$TOP/harness/robot-kunit.sh"

t0=$(date +%s)
stage check "the boots the lane has not started"
boot_jobs
wait $lane_pid || true
summary+=("$(printf 'boots        %d s after the foreground' $(($(date +%s) - t0)))")

count_lane callers-run
summary+=("$(echo "$last_out" | grep -E '^callers-(hda-|vivid)' | sed 's/^/             /' || true)")

# The KUnit suite on every platform, IOMMU on and off where it has both,
# judged against config/kunit-pins; each boot's log checks count as one
# more check.
times=()
for p in "${kunit_platforms[@]}"; do
	if [ -f "$lane/kunit-$p.rc" ]; then
		read -r rc secs < <(read_rc "$lane/kunit-$p.rc")
		sed 's/^/  /' "$lane/kunit-$p.out"
		times+=("$p $secs s")
	fi
done
summary+=("$(printf 'kunit        boots: %s' "$(IFS=,; echo "${times[*]}" | sed 's/,/, /g')")")
for p in $(if full; then platforms; else echo x86_64; fi); do
	# a platform file that does not load is a failure with a reason, not
	# the end of the run: load_platform would exit under 'set -e'
	if ! platform_ok "$p"; then
		failed+=("kunit $p: config/platforms/$p does not load: $( (load_platform "$p") 2>&1 | tail -n 1)")
		summary+=("$(printf 'kunit %-9s does not load' "$p")")
		total_fail=$((total_fail + 1))
		continue
	fi
	load_platform "$p"
	for mode in $P_modes; do
		run=$P_label-$mode
		result=$LOGS/kunit-$run.result
		# a missing, empty or garbled result is a failure, not a stop
		read -r label total pass fail skip verdict < <(read_result "$result" "$run")
		summary+=("$(printf 'kunit %-10s %3d tests: %d passed, %d failed, %d skipped; log checks: %s' \
			"$run" "$total" "$pass" "$fail" "$skip" "$verdict")")
		# the run's log checks (expected warnings, no other warning or
		# DMA-API error, clean shutdown) count as one more check
		[ "$verdict" = ok ] && pass=$((pass + 1)) || fail=$((fail + 1))
		[ "$fail" = 0 ] || failed+=("$(printf 'kunit %s: %d failed (tests and log checks; log checks: %s; log: %s)' \
			"$run" "$fail" "$verdict" "$LOGS/kunit-$run.log")")
		total_pass=$((total_pass + pass))
		total_fail=$((total_fail + fail))
		total_skip=$((total_skip + skip))
	done
done

if full; then
	count_lane hardened
	# the fault and sanitizer figures, each already checked by the judge
	summary+=("$(echo "$last_out" | grep -E '^(hardened figures|kmemleak|sanitizers|dma-api-debug):' | sed 's/^/             /' || true)")
fi

# for the next run's clone; a folder whose last build failed is not kept
t0=$(date +%s)
outcache=$(flock "$CACHE/out.lock" python3 "$TOP/harness/outcache.py" save 2>&1) ||
	outcache="outcache: save failed: $(echo "$outcache" | tail -n 1)"
summary+=("$(printf 'build folders %s (%d s)' "${outcache#outcache: }" $(($(date +%s) - t0)))")
summary+=("$(printf 'total        %d min %d s' $((SECONDS / 60)) $((SECONDS % 60)))")
[ ${#failed[@]} = 0 ] || summary+=("failed checks:" "${failed[@]/#/  }")
echo
echo "== summary =="
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
