#!/usr/bin/env bash
# The KUnit suite on one platform (config/platforms/PLATFORM): build its
# KUnit kernel (kunit_frags in lib.sh: the platform's fragment,
# bisect.config, the tree's .kunitconfig), boot it under QEMU with the
# IOMMU on and off (the platform's modes) and the edu device, and judge each
# log (judge-log.py against config/kunit-pins, as LABEL-MODE).  One result
# line per boot; exits non-zero if any failed.
#   boot.sh PLATFORM [on] [off]     (default: the platform's modes)
#   NO_BUILD=1 boot.sh ...          boot the kernel already built
. "$(dirname "$0")/lib.sh"

platform=${1:?usage: boot.sh PLATFORM [on] [off]}
shift
load_platform "$platform"
name=$platform-kunit
out=$BUILD/out/$name
modes=("$@")
# shellcheck disable=SC2206 # a list of words
[ ${#modes[@]} -gt 0 ] || modes=($P_modes)
if [ -z "${NO_BUILD:-}" ]; then
	if ! PLATFORM=$platform "$TOP/harness/build.sh" "$name" >&2; then
		echo "kunit-$P_label: FAIL build (log: $LOGS/build-$name.log)"
		exit 1
	fi
fi
initrd=$out/kunit-init.cpio.gz
if ! PLATFORM=$platform "$TOP/harness/kunit-initramfs.sh" "$initrd"; then
	# no initramfs (the harness's modules or /init did not build): every
	# boot of the platform fails, each with its line
	for mode in "${modes[@]}"; do
		echo "kunit-$P_label-$mode: FAIL no initramfs (log: $LOGS/build-$name-modules.log)"
	done
	exit 1
fi
status=0
for mode in "${modes[@]}"; do
	log=$LOGS/kunit-$P_label-$mode.log
	stage boot "$platform, IOMMU $mode: booting the KUnit kernel under QEMU" >&2
	# the previous run's log and result must not stand in for this run's
	rm -f "$log" "${log%.log}.result"
	rc=0
	PLATFORM=$platform QEMU_INITRD=$initrd "$TOP/harness/qemu.sh" "$out/$P_image" \
		"$mode" "$log" 2>"$log.qemu-err" || rc=$?
	cat "$log.qemu-err" >&2
	if [ $rc != 0 ] && [ ! -s "$log" ]; then
		echo "kunit-$P_label-$mode: FAIL QEMU did not start: $(tail -n 1 "$log.qemu-err")"
		status=1
		continue
	fi
	# a boot that ran and then failed (a timeout) is judged on what it printed
	"$TOP/harness/judge-log.py" "$TREE" "$log" "$P_label-$mode" || status=1
done
exit $status
