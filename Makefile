# noncontig: front door.  Each target runs one script in harness/
# (harness/README says which file does what).

H := harness
.PHONY: run check check-all deps tree apply rebase export verify boot robot robot-kunit checkpatch kerneldoc callers callers-run distro nodma bisect selftest hardened bench bench-profile irqsoff clean help

help:
	@sed -n 's/^## //p' Makefile

## The two commands:
## run        build the patched kernel, boot it with an IOMMU, show the API on a device
run:
	@$(H)/run.sh

## check      the quick tier: self-tests, verify, checkpatch, kernel-doc, the callers'
##            compile and W=1, the x86_64 KUnit boots (IOMMU on/off), the callers' boots
check:
	@$(H)/check.sh quick

## check-all  every test (.ci/run): the quick tier, the !HAS_DMA stubs, the bisect,
##            KUnit on every platform, the hardened kernel, Debian's configs (distro),
##            robot, the suite in KUNIT_ALL_TESTS kernels without edu (robot-kunit)
check-all:
	@$(H)/check.sh all

## The series:
## deps       install missing Debian packages
deps:
	@$(H)/deps.sh

## tree       unpack the Debian tree (cached) and commit the base step
tree: deps
	@$(H)/tree.sh

## apply      git am series/ on the base (FORCE=1 drops unexported tree commits)
apply: tree
	@$(H)/apply.sh

## rebase     start rebasing the series onto a moved base (git am -3 in build/linux)
rebase: tree
	@$(H)/rebase.sh

## export     write the tree's commits back into series/
export:
	@$(H)/export.sh

## verify     check that series/ and the tree's commits agree
verify:
	@$(H)/verify-series.sh

## One check at a time:
## boot       the KUnit suite on one platform, built and booted: make boot P=i386
##            (P: a file in config/platforms/, default x86_64; M=on or M=off for one
##            boot; NO_BUILD=1 boots the kernel already built)
boot: apply
	@$(H)/boot.sh $(or $(P),x86_64) $(M)

## checkpatch scripts/checkpatch.pl --strict on every patch
## kerneldoc  kernel-doc -none -v on the files with the API's kernel-doc: no new warning
## callers    build the in-tree callers and W=1 of the series' directories
## callers-run  ALSA's HDA driver and vivid's videobuf2 queues on the API at run time, IOMMU on and off
## distro     Debian's configs of nine architectures, W=1, against the unmodified Debian tree
## robot      the kernel test robot's checks against the base: clang W=1 (x86_64,
##            arm64), sparse C=2, coccicheck on the touched files (after callers)
## robot-kunit  the suite as a robot runs it: KUNIT_ALL_TESTS kernels (x86_64, arm64)
##            booted without edu and without user space
## nodma      compile the !CONFIG_HAS_DMA stubs (UML)
## bisect     build every patch of the series on its own
## hardened   KUnit under KASAN/kmemleak/lockdep, then the fault-injection phases
# Each of these needs the series applied and runs harness/<target>.sh.
ON_SERIES := checkpatch kerneldoc callers callers-run distro robot robot-kunit nodma bisect hardened
$(ON_SERIES): apply
	@$(H)/$@.sh

## selftest   the harness's own tests (harness/selftest/)
selftest: apply
	@$(H)/selftest/selftest.sh

## Measurements (not part of any tier):
## bench      side-by-side benchmark against the unmodified Debian tree (ROUNDS=3)
bench:
	@$(H)/bench.sh $(ROUNDS)

## irqsoff    longest interrupts-off section while 64 MiB buffers are freed: ours
##            (lazy and strict IOTLB modes) against the previous version (lazy)
irqsoff:
	@$(H)/irqsoff.sh

## bench-profile  where a 4 KiB buffer's time goes, ours against the mapped floor
bench-profile:
	@$(H)/bench-profile.sh

## clean      remove build/ (the machine-level cache stays)
clean:
	rm -rf build
