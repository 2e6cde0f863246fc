#!/usr/bin/env bash
# The series' suite as a test robot meets it on a machine of its own: a
# kernel configured with KUNIT_ALL_TESTS and nothing that names the suite
# (the platform's fragment and config/robot-kunit.config),
# booted with the IOMMU on, without edu, without an initramfs and so
# without the harness's modules or user space; KUnit powers the machine
# off.  The boot runs the suite's suites alone (kunit.filter_glob): the
# other suites KUNIT_ALL_TESTS brings in are not the series'.  Judged by
# judge-log.py against config/kunit-pins and config/kunit-cases as
# PLATFORM-robot: every case passes or skips with its reason, and no
# warning or DMA-API error but those the cases provoke; and the same boot
# with panic_on_warn=1 (PLATFORM-robot-pow), where the cases that warn on
# purpose must skip.  One line per boot; exits non-zero if any failed.
#   robot-kunit.sh [PLATFORM...]     (default: x86_64 arm64)
. "$(dirname "$0")/lib.sh"

platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(x86_64 arm64)
status=0
for p in "${platforms[@]}"; do
	load_platform "$p"
	name=$p-robot-kunit out=$BUILD/out/$name
	if ! PLATFORM=$p "$TOP/harness/build.sh" "$name" "$TOP/config/$P_config" \
		"$TOP/config/robot-kunit.config" >&2; then
		echo "robot-kunit-$p: FAIL build (log: $LOGS/build-$name.log)"
		status=1
		continue
	fi
	if ! grep -qx 'CONFIG_DMA_NONCONTIG_KUNIT_TEST=y' "$out/.config"; then
		echo "robot-kunit-$p: FAIL KUNIT_ALL_TESTS did not build the suite in ($out/.config)"
		status=1
		continue
	fi
	# then again under panic_on_warn, as robots boot: the cases that warn
	# on purpose must skip, or the machine panics
	for run in robot robot-pow; do
		log=$LOGS/kunit-$p-$run.log args=('kunit.filter_glob=dma_noncontig_*')
		[ $run = robot ] || args+=(panic_on_warn=1)
		rm -f "$log" "${log%.log}.result"
		stage boot "$p, IOMMU on, no edu, no initramfs${args[1]:+, ${args[1]}}: the suite as a robot runs it" >&2
		if ! PLATFORM=$p QEMU_NO_EDU=1 "$TOP/harness/qemu.sh" "$out/$P_image" on "$log" \
			"${args[@]}" 2>"$log.qemu-err" && [ ! -s "$log" ]; then
			echo "robot-kunit-$p-$run: FAIL QEMU did not start: $(tail -n 1 "$log.qemu-err")"
			status=1
			continue
		fi
		if result=$("$TOP/harness/judge-log.py" "$TREE" "$log" "$p-$run"); then
			echo "robot-kunit-$p-$run: ok   ${result#kunit-}"
		else
			echo "robot-kunit-$p-$run: FAIL ${result#kunit-}"
			status=1
		fi
	done
done
exit $status
