// SPDX-License-Identifier: GPL-2.0-only
/*
 * A misc device that maps a noncontiguous DMA buffer into user space the way
 * a driver does: its ->mmap() hands the VMA to dma_mmap_noncontiguous().
 *
 * The module binds a PCI driver to QEMU's edu device when there is one, so
 * that the buffer is allocated for a bound device, with the DMA operations
 * the platform sets up at bind (behind an IOMMU when one translates for
 * edu); without edu it uses a platform device of its own.  It allocates a
 * 64 KiB buffer, fills page n of it with the byte n + 1 through
 * dma_vmap_noncontiguous(), and registers /dev/dma-noncontig-mmap.  A
 * user-space program maps the device at page offsets and checks every byte
 * it reads: a wrong page, a wrong offset or a mapping past the end shows.
 * Which path built the buffer is for the dma:dma_alloc_sgt event to tell.
 * A mapping holds the file and the file holds the module, and the driver
 * cannot be unbound but by unloading the module, so the buffer, freed at
 * unbind, outlives every mapping of it.
 */

#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>

/* 16 pages (64 KiB with 4 KiB pages): user space maps them at page offsets */
#define MMAP_TEST_PAGES		16
#define MMAP_TEST_SIZE		(MMAP_TEST_PAGES * PAGE_SIZE)

static struct platform_device *mmap_test_pdev;
static struct device *mmap_test_dev;
static struct sg_table *mmap_test_sgt;

static int mmap_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	return dma_mmap_noncontiguous(mmap_test_dev, vma, MMAP_TEST_SIZE,
				      mmap_test_sgt);
}

static const struct file_operations mmap_test_fops = {
	.owner	= THIS_MODULE,
	.mmap	= mmap_test_mmap,
};

static struct miscdevice mmap_test_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "dma-noncontig-mmap",
	.fops	= &mmap_test_fops,
};

/*
 * Single pages from the per-CPU free lists are often neighbours, which one
 * CPU entry covers.  Free every other page of a short run just before the
 * allocation, holding the others, so that behind an IOMMU the buffer spans
 * several entries and user space reads across their seams.
 */
static struct sg_table *mmap_test_alloc(struct device *dev)
{
	struct page *page, *next;
	struct sg_table *sgt;
	LIST_HEAD(held);
	unsigned int i;

	for (i = 0; i < 2 * MMAP_TEST_PAGES; i++) {
		page = alloc_page(GFP_KERNEL | __GFP_HIGHMEM | __GFP_NOWARN);
		if (!page)
			break;
		list_add_tail(&page->lru, &held);
	}
	i = 0;
	list_for_each_entry_safe(page, next, &held, lru) {
		if (i++ & 1) {
			list_del(&page->lru);
			__free_page(page);
		}
	}
	sgt = dma_alloc_noncontiguous(dev, MMAP_TEST_SIZE, DMA_BIDIRECTIONAL,
				      GFP_KERNEL, 0);
	list_for_each_entry_safe(page, next, &held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return sgt;
}

static int mmap_test_fill(void)
{
	unsigned int i;
	u8 *vaddr;

	vaddr = dma_vmap_noncontiguous(mmap_test_dev, MMAP_TEST_SIZE,
				       mmap_test_sgt);
	if (!vaddr)
		return -ENOMEM;
	for (i = 0; i < MMAP_TEST_PAGES; i++)
		memset(vaddr + i * PAGE_SIZE, i + 1, PAGE_SIZE);
	/* user space reads through another alias of the pages */
	flush_kernel_vmap_range(vaddr, MMAP_TEST_SIZE);
	dma_vunmap_noncontiguous(mmap_test_dev, vaddr);
	return 0;
}

static int mmap_test_start(struct device *dev)
{
	int ret;

	mmap_test_sgt = mmap_test_alloc(dev);
	if (!mmap_test_sgt)
		return -ENOMEM;
	mmap_test_dev = dev;
	ret = mmap_test_fill();
	if (ret)
		goto out_free;
	ret = misc_register(&mmap_test_misc);
	if (ret)
		goto out_free;
	pr_info("dma-noncontig-mmap: %lu KiB buffer in %u CPU entries for %s\n",
		MMAP_TEST_SIZE / SZ_1K, mmap_test_sgt->orig_nents, dev_name(dev));
	return 0;

out_free:
	dma_free_noncontiguous(dev, MMAP_TEST_SIZE, mmap_test_sgt,
			       DMA_BIDIRECTIONAL);
	mmap_test_dev = NULL;
	return ret;
}

static void mmap_test_stop(void)
{
	misc_deregister(&mmap_test_misc);
	dma_free_noncontiguous(mmap_test_dev, MMAP_TEST_SIZE, mmap_test_sgt,
			       DMA_BIDIRECTIONAL);
	mmap_test_dev = NULL;
}

static int mmap_test_probe(struct pci_dev *pdev,
			   const struct pci_device_id *id)
{
	int ret;

	/* One buffer, one misc device: a second edu is left alone. */
	if (mmap_test_dev)
		return -EBUSY;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	return mmap_test_start(&pdev->dev);
}

static void mmap_test_remove(struct pci_dev *pdev)
{
	mmap_test_stop();
}

static const struct pci_device_id mmap_test_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },		/* QEMU's edu */
	{}
};

/*
 * Unbinding through sysfs would free the buffer under the mappings of it
 * that open files keep (the fallback chunk is mapped by page frame number,
 * without page references): only unloading the module, which no open file
 * allows, unbinds.
 */
static struct pci_driver mmap_test_driver = {
	.name		= "dma-noncontig-mmap",
	.id_table	= mmap_test_ids,
	.probe		= mmap_test_probe,
	.remove		= mmap_test_remove,
	.driver		= {
		.suppress_bind_attrs = true,
	},
};

/* Without edu, a platform device of our own, which dma-direct serves. */
static int mmap_test_platform_start(void)
{
	int ret;

	mmap_test_pdev = platform_device_register_simple("dma-noncontig-mmap",
							 PLATFORM_DEVID_NONE,
							 NULL, 0);
	if (IS_ERR(mmap_test_pdev))
		return PTR_ERR(mmap_test_pdev);
	ret = dma_coerce_mask_and_coherent(&mmap_test_pdev->dev,
					   DMA_BIT_MASK(32));
	if (!ret)
		ret = mmap_test_start(&mmap_test_pdev->dev);
	if (ret) {
		platform_device_unregister(mmap_test_pdev);
		mmap_test_pdev = NULL;
	}
	return ret;
}

static int __init mmap_test_init(void)
{
	int ret;

	/* PCI drivers probe the devices present before this returns. */
	ret = pci_register_driver(&mmap_test_driver);
	if (ret)
		return ret;
	if (mmap_test_dev)
		return 0;
	ret = mmap_test_platform_start();
	if (ret)
		pci_unregister_driver(&mmap_test_driver);
	return ret;
}

static void __exit mmap_test_exit(void)
{
	if (mmap_test_pdev) {
		mmap_test_stop();
		platform_device_unregister(mmap_test_pdev);
	}
	pci_unregister_driver(&mmap_test_driver);
}

module_init(mmap_test_init);
module_exit(mmap_test_exit);

MODULE_DESCRIPTION("A misc device that maps a noncontiguous DMA buffer into user space");
MODULE_LICENSE("GPL");
