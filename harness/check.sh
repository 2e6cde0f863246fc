#!/usr/bin/env bash
# The test command: every check the project has, then one summary.
# Keeps going after a failure so the summary is complete; exits non-zero if
# anything failed.  Final line: 'N passed, N failed[, N skipped]'.
. "$(dirname "$0")/lib.sh"

summary=()
total_pass=0 total_fail=0 total_skip=0

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
summary+=("$(printf 'prepare      %s' "$(IFS=,; echo "${prepare_times[*]}" | sed 's/,/, /g')")")
notice=$(base_notice)
[ -z "$notice" ] || summary+=("$notice")

# Run a check script; count its 'NAME: ok' and 'NAME: FAIL' lines.
tally() {
	local label=$1 out pass fail rc t0
	shift
	t0=$(date +%s)
	stage check "$label"
	out=$("$@" 2>&1) && rc=0 || rc=$?
	last_out=$out
	echo "$out" | sed 's/^/  /'
	pass=$(echo "$out" | grep -c ': ok ' || true)
	fail=$(echo "$out" | grep -c ': FAIL' || true)
	# a script that failed without saying which check failed still counts
	[ $rc != 0 ] && [ "$fail" = 0 ] && fail=1
	summary+=("$(printf '%-12s %3d passed, %d failed  (%d s)' "$label" "$pass" "$fail" $(($(date +%s) - t0)))")
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
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

tally selftest "$TOP/harness/selftest.sh"
tally verify verify
tally bench-patch bench_patch
tally checkpatch "$TOP/harness/checkpatch.sh"
tally kernel-doc "$TOP/harness/kerneldoc.sh"
tally callers "$TOP/harness/callers.sh"
tally nodma "$TOP/harness/nodma.sh"
# The bisect before the callers' boots: they boot the x86_64 KUnit kernel,
# which the bisect's last build is; the other way round, a cold run built
# that kernel at the tip first and the bisect then rebuilt half of it for
# the base (263 s here).
tally bisect "$TOP/harness/bisect.sh"
tally callers-run "$TOP/harness/callers-run.sh"
summary+=("$(echo "$last_out" | grep -E '^callers-(hda-|vivid)' | sed 's/^/             /' || true)")
tally distro "$TOP/harness/distro.sh"
tally robot "$TOP/harness/robot.sh"

# The KUnit suite on every platform (config/platforms/), IOMMU on and off
# where it has both: one build and the boots each, judged against
# config/kunit-pins; each boot's log checks count as one more check.
times=()
for p in $(platforms); do
	load_platform "$p"
	for mode in $P_modes; do
		rm -f "$LOGS/kunit-$P_label-$mode.result"
	done
	t0=$(date +%s)
	stage check "KUnit kernel, $p"
	"$TOP/harness/boot.sh" "$p" || true
	times+=("$p $(($(date +%s) - t0)) s")
done
summary+=("$(printf 'kunit        build and boots: %s' "$(IFS=,; echo "${times[*]}" | sed 's/,/, /g')")")
for p in $(platforms); do
	load_platform "$p"
	for mode in $P_modes; do
		run=$P_label-$mode
		result=$LOGS/kunit-$run.result
		if [ -f "$result" ]; then
			read -r label total pass fail skip verdict < "$result"
		else
			label=$run total=0 pass=0 fail=0 skip=0 verdict=missing
		fi
		summary+=("$(printf 'kunit %-9s %3d tests: %d passed, %d failed, %d skipped; log checks: %s' \
			"${run#iommu-}" "$total" "$pass" "$fail" "$skip" "$verdict")")
		# the run's log checks (expected warnings, no other warning or
		# DMA-API error, clean shutdown) count as one more check
		[ "$verdict" = ok ] && pass=$((pass + 1)) || fail=$((fail + 1))
		total_pass=$((total_pass + pass))
		total_fail=$((total_fail + fail))
		total_skip=$((total_skip + skip))
	done
done

tally hardened "$TOP/harness/hardened.sh"
# the fault and sanitizer figures, each already checked by the judge
summary+=("$(echo "$last_out" | grep -E '^(hardened figures|kmemleak|sanitizers|dma-api-debug):' | sed 's/^/             /' || true)")

summary+=("$(printf 'total        %d min %d s' $((SECONDS / 60)) $((SECONDS % 60)))")
echo
echo "== summary =="
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
