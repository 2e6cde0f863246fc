/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the harness's KUnit modules share: the platform device and edu, bound
 * through a driver of the module's own for each suite (the kernel's suite
 * has let it go by the time a module loads), kprobes that are taken out at
 * once, the kernel functions a module cannot call, and memory fragmented
 * on purpose.
 */
#ifndef _DMA_NONCONTIG_DEVICES_H
#define _DMA_NONCONTIG_DEVICES_H

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kprobes.h>
#include <linux/vmalloc.h>
#include <linux/platform_device.h>

#include "dma_noncontig_edu.h"

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

static inline bool buffer_is_zero(const u8 *buf, size_t len)
{
	return !memchr_inv(buf, 0, len);
}

static inline void fill_pattern(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 7 + seed + (i >> 12));
}

/*
 * Offsets of 2 KiB transfers: the start, the end, and across the first
 * CPU entry boundaries (or page boundaries when the buffer is one chunk).
 */
static inline unsigned int round_trip_offsets(struct sg_table *sgt,
					      size_t size, size_t *offsets,
					      unsigned int max)
{
	struct scatterlist *sg;
	unsigned int n = 0;
	size_t end = 0;
	int i;

	offsets[n++] = 0;
	for_each_sgtable_sg(sgt, sg, i) {
		end += sg->length;
		if (end >= size || n == max - 1)
			break;
		offsets[n++] = end - EDU_XFER / 2;
	}
	for (end = PAGE_SIZE; n < max - 1 && end < size; end += PAGE_SIZE)
		offsets[n++] = end - EDU_XFER / 2;
	offsets[n++] = size - EDU_XFER;
	return n;
}

/* The harness starts QEMU's edu with dma_mask=0xffffffff. */
static inline int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return edu_init(&edu, pdev, 32);
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

	/* 32 bits: memory above 4 GiB (the hardened boot's DIMMs) is beyond it */
	test_pdev = platform_device_register_simple("dma-noncontig-test",
						    PLATFORM_DEVID_NONE,
						    NULL, 0);
	if (IS_ERR(test_pdev))
		return PTR_ERR(test_pdev);
	ret = dma_coerce_mask_and_coherent(&test_pdev->dev, DMA_BIT_MASK(32));
	if (!ret)
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
	if (edu.stuck)
		kunit_skip(test, "edu's DMA engine hung in an earlier case");
}

static inline void require_iommu(struct kunit *test)
{
	require_edu(test);
	if (!dma_domain_translates(&edu.pdev->dev))
		kunit_skip(test, "edu is not in a DMA-translated IOMMU domain");
}

/*
 * Kernel functions a module cannot call, found through kallsyms (whose
 * lookup is not exported either: a kprobe resolves its address).  Not on
 * powerpc64, where a kprobe's address skips the function's TOC set-up:
 * there the cases that need them skip, or do without.
 */
static void (*drain_all_pages_fn)(struct zone *zone);
static void (*lru_add_drain_fn)(void);
static unsigned long (*vmalloc_nr_pages_fn)(void);
static struct mm_struct *(*mm_alloc_fn)(void);
static void (*arch_pick_mmap_layout_fn)(struct mm_struct *mm,
					struct rlimit *rlim_stack);

static inline void find_kernel_functions(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long (*lookup)(const char *name);

	if (IS_ENABLED(CONFIG_PPC64) || drain_all_pages_fn ||
	    register_kprobe(&kp))
		return;
	lookup = (void *)kp.addr;
	unregister_kprobe(&kp);
	drain_all_pages_fn = (void *)lookup("drain_all_pages");
	lru_add_drain_fn = (void *)lookup("lru_add_drain");
	vmalloc_nr_pages_fn = (void *)lookup("vmalloc_nr_pages");
	mm_alloc_fn = (void *)lookup("mm_alloc");
	arch_pick_mmap_layout_fn = (void *)lookup("arch_pick_mmap_layout");
}

/* Give @zone's (or every zone's) per-CPU lists back to the buddy lists. */
static inline void drain_pages(struct zone *zone)
{
	if (drain_all_pages_fn)
		drain_all_pages_fn(zone);
}

/*
 * Let deferred frees happen: lazily unmapped vmap areas, and buffers and
 * IOMMU page tables waiting in the flush queue (its timer runs every
 * 10 ms).
 */
static inline void settle(void)
{
	vm_unmap_aliases();
	msleep(50);
}

/*
 * Take every free block of @min_order and up, hold every other run of @run
 * pages of it and give the rest back: what comes back cannot merge beyond
 * @run pages, since its buddies are held.  Returns whether anything was
 * free.
 */
static inline bool hold_alternate_runs(struct list_head *held,
				unsigned int min_order, unsigned int run)
{
	unsigned int order, i;
	struct page *page;
	bool took = false;

	for (order = MAX_ORDER - 1; order >= min_order; order--) {
		while ((page = alloc_pages(GFP_NOWAIT | __GFP_NOWARN, order))) {
			split_page(page, order);
			for (i = 0; i < (1U << order); i++) {
				if (i & run)
					list_add(&page[i].lru, held);
				else
					__free_page(page + i);
			}
			took = true;
		}
	}
	return took;
}

/*
 * Blocks of PAGE_ALLOC_COSTLY_ORDER (8 MiB of them) left free while memory
 * is fragmented: allocations of a few pages elsewhere in the kernel (KASAN's
 * stack depot takes order 2 without __GFP_NORETRY, slab caches and
 * kmemleak's metadata grow by order-3 slabs) must not find memory exhausted
 * and call the OOM killer.  Their buddies are held, so that they cannot
 * merge: the buffers under test, built from order 0 and from their
 * IOMMU's page sizes, get one entry per block they take from the reserve.
 */
#define FRAGMENT_RESERVE	256
#define RESERVE_ORDER		(PAGE_ALLOC_COSTLY_ORDER + 1)

/*
 * Hold every free block of order 1 and up, then give back every other page
 * of each: what is left free is single pages whose buddies we hold, and the
 * reserve above.  Pages freed later would merge into blocks again: first
 * let deferred frees happen and drain every CPU's lists of free pages.
 */
static inline void fragment_memory(struct list_head *held)
{
	struct page *page, *next;
	LIST_HEAD(reserve);
	unsigned int i;

	settle();
	drain_pages(NULL);
	for (i = 0; i < FRAGMENT_RESERVE; i++) {
		page = alloc_pages(GFP_NOWAIT | __GFP_NOWARN, RESERVE_ORDER);
		if (!page)
			break;
		list_add(&page->lru, &reserve);
	}
	while (hold_alternate_runs(held, 1, 1))
		;
	list_for_each_entry_safe(page, next, &reserve, lru) {
		list_del(&page->lru);
		split_page(page, RESERVE_ORDER);
		for (i = 0; i < BIT(RESERVE_ORDER); i++) {
			if (i < BIT(RESERVE_ORDER - 1))
				__free_page(page + i);
			else
				list_add(&page[i].lru, held);
		}
	}
}

/*
 * Give the held pages back and drain every CPU's lists of free pages, so
 * that they merge into large blocks again for the tests that follow.
 */
static inline void unfragment_memory(struct list_head *held)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	drain_pages(NULL);
}

#endif /* _DMA_NONCONTIG_DEVICES_H */
