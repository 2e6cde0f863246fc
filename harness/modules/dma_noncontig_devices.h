/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harness's KUnit modules share: the platform device and edu, bound
 * through a driver of the module's own for each suite (the kernel's suite
 * has let it go by the time a module loads), and kprobes that are taken out
 * at once.
 */
#ifndef _DMA_NONCONTIG_DEVICES_H
#define _DMA_NONCONTIG_DEVICES_H

#include <linux/kprobes.h>

#include "dma_noncontig_kunit.h"

/*
 * A kprobe with a post handler is never optimized into a jump.  Undoing an
 * optimized probe is left to a worker that waits for an RCU-tasks grace
 * period; on x86_64 under QEMU's TCG an allocation made right after the
 * probe on __alloc_pages() was unregistered was seen stuck at the probed
 * instruction for good, holding that grace period off (2 boots of about
 * 30).  Probes that are not optimized are taken out at once.
 */
static void __maybe_unused kprobe_not_optimized(struct kprobe *kp,
						struct pt_regs *regs,
						unsigned long flags)
{
}

static struct platform_device *test_pdev;
static struct edu edu;

static inline int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return edu_init(&edu, pdev);
}

static inline void edu_remove(struct pci_dev *pdev)
{
	edu.pdev = NULL;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};

static struct pci_driver edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

/*
 * A module's suites run while it is still coming up (MODULE_STATE_COMING),
 * before its init function and before it has a kobject in sysfs: so the
 * driver is registered without an owner, which would link it under that
 * kobject.
 */
static inline int devices_init(struct kunit_suite *suite)
{
	int ret;

	test_pdev = noncontig_test_device();
	if (IS_ERR(test_pdev))
		return PTR_ERR(test_pdev);
	ret = __pci_register_driver(&edu_driver, NULL, NULL);
	if (ret)
		platform_device_unregister(test_pdev);
	return ret;
}

static inline void devices_exit(struct kunit_suite *suite)
{
	pci_unregister_driver(&edu_driver);
	platform_device_unregister(test_pdev);
}

static inline void require_edu(struct kunit *test)
{
	if (!edu.pdev)
		kunit_skip(test, "no edu PCI device (QEMU -device edu)");
}

static inline void require_iommu(struct kunit *test)
{
	require_edu(test);
	if (!dma_domain_translates(&edu.pdev->dev))
		kunit_skip(test, "edu is not in a DMA-translated IOMMU domain");
}

#endif /* _DMA_NONCONTIG_DEVICES_H */
