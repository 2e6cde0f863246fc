// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit test of noncontiguous DMA allocations under injected faults.
 *
 * Built out of tree against the patched kernel, with the harness's page
 * and IOVA counting next to it, and loaded by the hardened boot's /init,
 * which arms fault injection first: no place for it in a kernel test
 * robot's run.
 *
 * Load it as a module once user space has armed fault injection with
 * task-filter set: fail_page_alloc and failslab, each on every allocation
 * or narrowed to one step of the IOMMU path (failslab's cache filter on the
 * IOVA cache; fail_page_alloc on allocations that cannot sleep, which are
 * the IOMMU's page tables).  The test marks its own thread make-it-fail
 * around each call of the API, so faults hit the allocation at every step
 * and nothing else in the system.
 *
 * Each path runs a warm-up, a clean run as long as the faulted one (which
 * measures how much the counters move by themselves), many rounds of mixed
 * sizes and directions with faults, and a second clean run.  Every call must
 * either fail with NULL or give a buffer that is complete and zeroed and
 * carries data; afterwards no page, slab memory or IOVA space may be
 * missing: pages within a limit set from the clean run and small enough
 * that one page lost per failed call exceeds it, IOVA ranges exactly.
 * How many faults each point injected is for debugfs to tell, and leaks of
 * slab objects for kmemleak.
 *
 * Behind the IOMMU the IOVA ranges are counted exactly, which needs edu's
 * domain in strict mode (see dma_noncontig_iova_count.h): switch its IOMMU
 * group's type to DMA before loading the module.
 *
 * The test cannot tell which fault points are armed (in this kernel a KUnit
 * module runs before its parameters are parsed), so it reports how many
 * calls failed on each path, for whoever armed them to check that they
 * made some fail.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "dma_noncontig_iova_count.h"
#include "dma_noncontig_usage.h"

/* Faulted rounds per path, and clean ones before and after them. */
#define FAULTED_ROUNDS		500
#define CLEAN_ROUNDS		64

/*
 * Tolerance on top of what the clean run of the same length moved: pages
 * the rest of the system takes meanwhile: two clean runs under KASAN have
 * differed by up to 26 pages.  KASAN's quarantine moves slab usage by
 * about a MiB either way; a leaked table is kmemleak's to find.  IOVA
 * ranges are counted exactly (dma_noncontig_iova_count.h).
 */
#define PAGES_MARGIN		32
#define SLAB_SLACK		SZ_4M

static const size_t sizes[] = {
	SZ_4K, 3 * SZ_4K + 1, SZ_64K, SZ_256K + SZ_4K, SZ_1M, SZ_4M,
};

static const enum dma_data_direction dirs[] = {
	DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE,
};

struct faults_run {
	unsigned int calls, failed_allocs, failed_vmaps, bad_buffers;
};

static struct platform_device *faults_pdev;
static struct pci_dev *faults_edu;

/*
 * Pages in use (dma_noncontig_usage.h) and slab pages, once deferred frees
 * have run.
 */
static void settled_usage(long *pages, long *slab)
{
	int i;

	for (i = 0; i < 5; i++) {
		vm_unmap_aliases();
		msleep(40);
	}
	*pages = usage_pages_in_use();
	*slab = usage_slab_pages();
}

/* Every page of a new buffer is zero; then give each page its own value. */
static bool buffer_zero_then_fill(struct sg_table *sgt, size_t size)
{
	struct sg_page_iter piter;
	unsigned int n = 0;
	bool ok = true;

	for_each_sgtable_page(sgt, &piter, 0) {
		void *p = kmap_local_page(sg_page_iter_page(&piter));

		if (n < PAGE_ALIGN(size) >> PAGE_SHIFT) {
			ok &= !memchr_inv(p, 0, PAGE_SIZE);
			memset(p, n + 1, PAGE_SIZE);
		}
		kunmap_local(p);
		n++;
	}
	return ok && n >= PAGE_ALIGN(size) >> PAGE_SHIFT;
}

/* The kernel mapping shows the pages in table order. */
static bool vmap_shows_pages(const u8 *vaddr, size_t size)
{
	size_t off;

	for (off = 0; off < size; off += PAGE_SIZE)
		if (memchr_inv(vaddr + off, (u8)(off / PAGE_SIZE + 1),
			       min_t(size_t, PAGE_SIZE, size - off)))
			return false;
	return true;
}

static bool table_is_sane(struct sg_table *sgt, size_t size)
{
	struct scatterlist *sg;
	size_t total = 0;
	int i;

	for_each_sgtable_sg(sgt, sg, i)
		total += sg->length;
	return sgt->nents == 1 && sg_dma_len(sgt->sgl) >= size &&
	       total >= size;
}

/* One call of each kind; faults are armed only around the API calls. */
static void faults_round(struct device *dev, unsigned int i, bool faulty,
			 struct faults_run *run)
{
	size_t size = sizes[i % ARRAY_SIZE(sizes)];
	enum dma_data_direction dir = dirs[(i / ARRAY_SIZE(sizes)) %
					   ARRAY_SIZE(dirs)];
	unsigned long attrs = i & 8 ? DMA_ATTR_ALLOC_SINGLE_PAGES : 0;
	struct sg_table *sgt;
	void *vaddr;

	run->calls++;
	current->make_it_fail = faulty;
	sgt = dma_alloc_noncontiguous(dev, size, dir, GFP_KERNEL, attrs);
	current->make_it_fail = false;
	if (!sgt) {
		run->failed_allocs++;
		return;
	}
	if (!table_is_sane(sgt, size) || !buffer_zero_then_fill(sgt, size))
		run->bad_buffers++;
	dma_sync_sgtable_for_device(dev, sgt, dir);
	dma_sync_sgtable_for_cpu(dev, sgt, dir);

	current->make_it_fail = faulty;
	vaddr = dma_vmap_noncontiguous(dev, size, sgt);
	current->make_it_fail = false;
	if (vaddr) {
		if (!vmap_shows_pages(vaddr, size))
			run->bad_buffers++;
		dma_vunmap_noncontiguous(dev, vaddr);
	} else {
		run->failed_vmaps++;
	}
	dma_free_noncontiguous(dev, size, sgt, dir);
	cond_resched();
}

static void faults_run(struct device *dev, unsigned int n, bool faulty,
		       struct faults_run *run)
{
	unsigned int i;

	memset(run, 0, sizeof(*run));
	for (i = 0; i < n; i++)
		faults_round(dev, i, faulty, run);
}

static void faults_on(struct kunit *test, struct device *dev,
		      bool behind_iommu)
{
	struct faults_run warm, calm, faulted, clean;
	long pages, slab, pages_calm, slab_calm, pages_after, slab_after;
	const char *path = behind_iommu ? "iommu" : "direct";
	long noise, lost, limit, ranges;

	faults_run(dev, CLEAN_ROUNDS, false, &warm);
	KUNIT_ASSERT_EQ(test, warm.failed_allocs + warm.failed_vmaps, 0U);
	if (behind_iommu) {
		/* IOVA failures are counted only without a flush queue */
		KUNIT_ASSERT_EQ_MSG(test, iommu_get_domain_for_dev(dev)->type,
				    IOMMU_DOMAIN_DMA,
				    "edu's IOMMU domain must free at once (strict mode)");
		KUNIT_ASSERT_EQ(test, iova_count_start(true), 0);
	}
	settled_usage(&pages, &slab);
	faults_run(dev, FAULTED_ROUNDS, false, &calm);
	settled_usage(&pages_calm, &slab_calm);
	ranges = iova_count_outstanding();

	faults_run(dev, FAULTED_ROUNDS, true, &faulted);
	faults_run(dev, CLEAN_ROUNDS, false, &clean);
	settled_usage(&pages_after, &slab_after);
	ranges = iova_count_outstanding() - ranges;
	if (behind_iommu)
		iova_count_stop();

	noise = abs(pages_calm - pages);
	lost = pages_after - pages_calm;
	limit = noise + PAGES_MARGIN;
	kunit_info(test, "faults: %s: %u calls, %u allocations failed, %u vmaps failed, %u bad buffers\n",
		   path, faulted.calls, faulted.failed_allocs,
		   faulted.failed_vmaps, faulted.bad_buffers);
	kunit_info(test, "faults: %s: %ld pages and %ld KiB slab not back; the clean run moved %ld pages, limit %ld\n",
		   path, lost, (slab_after - slab_calm) << (PAGE_SHIFT - 10),
		   pages_calm - pages, limit);
	KUNIT_EXPECT_EQ(test, calm.failed_allocs + calm.failed_vmaps, 0U);
	KUNIT_EXPECT_EQ(test, faulted.bad_buffers + clean.bad_buffers, 0U);
	KUNIT_EXPECT_EQ(test, clean.failed_allocs + clean.failed_vmaps, 0U);
	KUNIT_EXPECT_LT(test, lost, limit);
	/* one page lost per failed call must exceed the limit */
	if (faulted.failed_allocs)
		KUNIT_EXPECT_LT(test, limit, (long)faulted.failed_allocs);
	KUNIT_EXPECT_LT(test, (slab_after - slab_calm) << PAGE_SHIFT,
			(long)SLAB_SLACK);
	if (!behind_iommu)
		return;
	kunit_info(test, "faults: iommu: %ld IOVA ranges not given back, %lu probe hits missed\n",
		   ranges, iova_count_missed());
	KUNIT_EXPECT_EQ(test, ranges, 0L);
	KUNIT_EXPECT_EQ(test, iova_count_missed(), 0UL);
}

static void faults_on_fallback(struct kunit *test)
{
	faults_on(test, &faults_pdev->dev, false);
}

static void faults_behind_iommu(struct kunit *test)
{
	struct iommu_domain *domain;

	if (!faults_edu)
		kunit_skip(test, "no edu PCI device");
	domain = iommu_get_domain_for_dev(&faults_edu->dev);
	if (!domain || !iommu_is_dma_domain(domain))
		kunit_skip(test, "edu is not behind a translating IOMMU");
	faults_on(test, &faults_edu->dev, true);
}

static int faults_suite_init(struct kunit_suite *suite)
{
	int ret;

	faults_pdev = platform_device_register_simple("dma-noncontig-faults",
						      PLATFORM_DEVID_NONE,
						      NULL, 0);
	if (IS_ERR(faults_pdev))
		return PTR_ERR(faults_pdev);
	ret = dma_coerce_mask_and_coherent(&faults_pdev->dev,
					   DMA_BIT_MASK(32));
	if (ret) {
		platform_device_unregister(faults_pdev);
		return ret;
	}
	/* Allocation needs no driver: borrow QEMU's edu device if present. */
	faults_edu = pci_get_device(0x1234, 0x11e8, NULL);
	return 0;
}

static void faults_suite_exit(struct kunit_suite *suite)
{
	pci_dev_put(faults_edu);
	platform_device_unregister(faults_pdev);
}

static struct kunit_case faults_cases[] = {
	KUNIT_CASE(faults_on_fallback),
	KUNIT_CASE(faults_behind_iommu),
	{}
};

static struct kunit_suite faults_suite = {
	.name = "dma_noncontig_faults",
	.suite_init = faults_suite_init,
	.suite_exit = faults_suite_exit,
	.test_cases = faults_cases,
};

kunit_test_suites(&faults_suite);

MODULE_DESCRIPTION("Noncontiguous DMA allocations under injected faults");
MODULE_LICENSE("GPL");
