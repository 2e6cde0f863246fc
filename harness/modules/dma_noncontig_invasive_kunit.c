// SPDX-License-Identifier: GPL-2.0
/*
 * The noncontiguous DMA allocation tests that a test robot must not run on
 * a real machine, kept out of the kernel's suite (lib/tests/) and loaded by
 * the harness's QEMU boots after the built-in suites have run.  They take
 * the whole machine over: they fragment or pin most of free memory, fill
 * zones with page cache to drive reclaim, count leaked pages machine-wide,
 * kprobe the page allocator and the IOMMU driver's invalidations, and run
 * stress threads on every CPU.
 *
 *  - dma_noncontig_zones, first, before the others fragment memory: no
 *    table entry across a zone seam behind an IOMMU; vmap of highmem pages.
 *  - dma_noncontig_direct_memory: the fallback's leaks, refused calls and
 *    unservable sizes allocating nothing, a free with the wrong size
 *    freeing the whole buffer, the small table's alignment, __GFP_ZERO
 *    done once, its chunk's reclaim against dma_alloc_pages(), the
 *    device's NUMA node, and the chunk mapped decrypted only where
 *    dma-direct decrypted it (x86).
 *  - dma_noncontig_iommu_memory: behind an IOMMU, on fragmented memory,
 *    with the page allocator's orders seen by a kprobe: many CPU entries,
 *    single pages, the IOMMU's page sizes, maximal entries, chunks largest
 *    first, the table as the only bookkeeping, leaks, stale data in reused
 *    pages, every direction's access, running out part-way, invalidation
 *    before the pages go, and a round trip across entries.
 *  - dma_noncontig_misuse: a device without a DMA mask, refusal in hard
 *    interrupt context, and DMA-API debug's count for a free of a table the
 *    API never made and a sync in the wrong direction.
 *  - dma_noncontig_stress: two threads per CPU on each path for a second.
 *
 * Built against the patched tree (make M=) with its lib/tests/ on the
 * include path, for edu's register interface.
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/major.h>
#include <linux/memory_hotplug.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "dma_noncontig_devices.h"
#include "dma_noncontig_iova_count.h"
#include "dma_noncontig_usage.h"


/* Put this CPU's pages waiting to join an LRU list on it. */
static void drain_lru(void)
{
	if (lru_add_drain_fn)
		lru_add_drain_fn();
}

static int invasive_suite_init(struct kunit_suite *suite)
{
	find_kernel_functions();
	return devices_init(suite);
}

static unsigned long vmalloc_pages(void)
{
	return vmalloc_nr_pages_fn ? vmalloc_nr_pages_fn() : 0;
}

/* for_each_populated_zone() calls functions that mm/ does not export. */
static struct zone *zone_after(struct zone *zone)
{
	int nid = first_online_node;

	if (zone) {
		if (zone_idx(zone) < MAX_NR_ZONES - 1)
			return zone + 1;
		nid = next_online_node(zone->zone_pgdat->node_id);
	}
	return nid < MAX_NUMNODES ? NODE_DATA(nid)->node_zones : NULL;
}

#undef for_each_populated_zone
#define for_each_populated_zone(zone)					\
	for (zone = zone_after(NULL); zone; zone = zone_after(zone))	\
		if (!populated_zone(zone))				\
			;						\
		else


/* Repetitions that turn a one-page leak per cycle into a visible one. */
#define LEAK_CYCLES		16


/* Pages in use (dma_noncontig_usage.h) once deferred frees are done */
static long settled_pages_in_use(void)
{
	settle();
	return usage_pages_in_use();
}

/* Fewer than @slack pages may have stayed in use since @before was taken. */
static void expect_pages_back(struct kunit *test, long before, long slack)
{
	long lost = settled_pages_in_use() - before;

	kunit_info(test, "%ld pages not back\n", lost);
	KUNIT_EXPECT_LT(test, lost, slack);
}

/*
 * What this task asks the page allocator for, seen by a kprobe on
 * __alloc_pages(): the orders of its calls with __GFP_HIGHMEM, which the
 * IOMMU path adds and nothing else on the way uses; at one watched order,
 * how many calls there were and how many asked for __GFP_ZERO.
 */
static struct task_struct *orders_task;
static unsigned int orders_seen[MAX_ORDER];
static unsigned int watched_order = MAX_ORDER, watched_calls, watched_zeroed;

/*
 * The probes read the probed function's arguments with
 * regs_get_kernel_argument(), which only some architectures have (not
 * 32-bit arm or powerpc in 6.1): elsewhere the cases that need them skip.
 */
#if defined(CONFIG_KPROBES) && defined(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API)
#define ORDERS_SEEN	true

static int alloc_pages_hit(struct kprobe *kp, struct pt_regs *regs)
{
	gfp_t gfp = (__force gfp_t)regs_get_kernel_argument(regs, 0);
	unsigned long order = regs_get_kernel_argument(regs, 1);

	if (current != READ_ONCE(orders_task) || order >= MAX_ORDER)
		return 0;
	if (gfp & __GFP_HIGHMEM)
		orders_seen[order]++;
	if (order == READ_ONCE(watched_order)) {
		watched_calls++;
		watched_zeroed += !!(gfp & __GFP_ZERO);
	}
	return 0;
}

static struct kprobe alloc_pages_probe = {
	.symbol_name	= "__alloc_pages",
	.pre_handler	= alloc_pages_hit,
	.post_handler	= kprobe_not_optimized,
};
#else
#define ORDERS_SEEN	false
static struct kprobe alloc_pages_probe;
#endif

/* A kprobe keeps the address it resolved: clear it to register it again. */
static int watch_orders(void)
{
	alloc_pages_probe.addr = NULL;
	alloc_pages_probe.flags = 0;
	return register_kprobe(&alloc_pages_probe);
}


/* Whether the IOMMU in front of @dev has any of the page sizes @sizes. */
static bool iommu_has_page_size(struct device *dev, unsigned long sizes)
{
	return iommu_get_domain_for_dev(dev)->pgsize_bitmap & sizes;
}

/*
 * No entry crosses a zone, even where two zones meet page frame to page
 * frame: the kernel may use the linear address of a one-entry buffer only
 * if every page of it is in low memory, which it judges by the zone.  The
 * scene needs free pages on both sides of such a seam, which memory added
 * after boot to a node without CPUs, next to another node's, can give (the
 * case skips where no seam has them): every free 2 MiB
 * block is pinned by holding its first page, except the last block below
 * the seam and the first above it.  A 4 MiB buffer for a device on the
 * lower zone's node then gets the block below (its node's only one) and
 * the block above (the next node's only one), in that order: two chunks,
 * one ending where the other starts.  A round in which other allocations
 * took a block first is redone, up to 3.
 */
#define SEAM_ORDER	9
#define SEAM_BLOCK	BIT(SEAM_ORDER)
#define MAX_SEAMS	8

struct zone_seam {
	unsigned long pfn;		/* first page frame of the upper zone */
	struct zone *low, *high;
	struct page *below, *above;	/* the free blocks either side */
};

/*
 * Block boundaries where a zone the IOMMU path allocates from starts and the
 * page frame before is in another such zone (zones of two nodes may
 * interleave, so not only where one zone ends).
 */
static unsigned int find_seams(struct zone_seam *seams)
{
	enum zone_type top = gfp_zone(GFP_HIGHUSER);
	struct page *below, *above;
	struct zone *low, *high;
	unsigned int n = 0;
	unsigned long pfn;

	for_each_populated_zone(high) {
		if (zone_idx(high) > top)
			continue;
		for (pfn = ALIGN(high->zone_start_pfn, SEAM_BLOCK);
		     pfn < zone_end_pfn(high) && n < MAX_SEAMS;
		     pfn += SEAM_BLOCK) {
			above = pfn_to_online_page(pfn);
			below = pfn_to_online_page(pfn - 1);
			if (!above || !below || page_zone(above) != high)
				continue;
			low = page_zone(below);
			if (low == high || zone_idx(low) > top)
				continue;
			seams[n].pfn = pfn;
			seams[n].low = low;
			seams[n++].high = high;
		}
	}
	return n;
}

/* Hold the first page of a free block, giving the others back. */
static void pin_block(struct list_head *held, struct page *page)
{
	unsigned long i;

	split_page(page, SEAM_ORDER);
	list_add(&page->lru, held);
	for (i = 1; i < SEAM_BLOCK; i++)
		__free_page(page + i);
}

/*
 * Take every free block of SEAM_ORDER from every zone: the blocks either
 * side of a seam are kept whole on the seam, the others pinned.
 */
static void pin_free_blocks(struct list_head *held, struct zone_seam *seams,
			    unsigned int nr_seams)
{
	static const gfp_t zones[] = { __GFP_DMA, __GFP_DMA32, 0,
				       __GFP_HIGHMEM };
	struct page *page;
	unsigned long pfn;
	unsigned int z, s;

	for (s = 0; s < nr_seams; s++) {
		seams[s].below = NULL;
		seams[s].above = NULL;
	}
	for (z = 0; z < ARRAY_SIZE(zones); z++) {
		while ((page = alloc_pages(zones[z] | __GFP_NOWARN,
					   SEAM_ORDER))) {
			pfn = page_to_pfn(page);
			for (s = 0; s < nr_seams; s++) {
				if (pfn == seams[s].pfn - SEAM_BLOCK) {
					seams[s].below = page;
					break;
				}
				if (pfn == seams[s].pfn) {
					seams[s].above = page;
					break;
				}
			}
			if (s == nr_seams)
				pin_block(held, page);
		}
	}
}

/*
 * Set the scene at the first seam with free blocks on both sides; the
 * blocks of the others are pinned.  Returns the seam, or NULL.
 */
static struct zone_seam *seam_set_up(struct kunit *test,
				     struct list_head *held,
				     struct zone_seam *seams,
				     unsigned int nr_seams)
{
	struct zone_seam *found = NULL;
	unsigned int s;

	pin_free_blocks(held, seams, nr_seams);
	for (s = 0; s < nr_seams; s++) {
		if (!found && seams[s].below && seams[s].above) {
			found = &seams[s];
			continue;
		}
		if (seams[s].below)
			pin_block(held, seams[s].below);
		if (seams[s].above)
			pin_block(held, seams[s].above);
	}
	if (!found) {
		for (s = 0; s < nr_seams; s++)
			kunit_info(test, "seam at pfn %#lx, node %d %s | node %d %s: block below %s, block above %s\n",
				   seams[s].pfn, zone_to_nid(seams[s].low),
				   seams[s].low->name,
				   zone_to_nid(seams[s].high),
				   seams[s].high->name,
				   seams[s].below ? "free" : "in use",
				   seams[s].above ? "free" : "in use");
		return NULL;
	}
	__free_pages(found->below, SEAM_ORDER);
	__free_pages(found->above, SEAM_ORDER);
	return found;
}

/* Whether the buffer is the seam's block below followed by its block above */
static bool seam_crossed(struct sg_table *sgt, struct zone_seam *seam)
{
	unsigned long want = seam->pfn - SEAM_BLOCK;
	struct sg_page_iter piter;

	for_each_sgtable_page(sgt, &piter, 0)
		if (page_to_pfn(sg_page_iter_page(&piter)) != want++)
			return false;
	return want == seam->pfn + SEAM_BLOCK;
}

static void iommu_no_entry_crosses_a_zone(struct kunit *test)
{
	size_t size = (2 * SEAM_BLOCK) << PAGE_SHIFT;
	struct zone_seam seams[MAX_SEAMS], *seam = NULL;
	struct sg_table *sgt = NULL;
	unsigned int nr_seams, try;
	struct scatterlist *sg;
	struct device *dev;
	int home, cpu, i;
	unsigned long n, foreign;
	LIST_HEAD(held);

	require_iommu(test);
	dev = &edu.pdev->dev;
	if (!iommu_has_page_size(dev, SZ_2M))
		kunit_skip(test, "the IOMMU has no 2 MiB pages");
	nr_seams = find_seams(seams);
	if (!nr_seams)
		kunit_skip(test, "no two usable zones meet on a 2 MiB boundary");
	home = dev_to_node(dev);
	/*
	 * Stay on one CPU: with THP the blocks freed for the scene wait on
	 * this CPU's per-CPU lists, which only this CPU allocates from.
	 */
	cpu = raw_smp_processor_id();
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(cpu)), 0);
	for (try = 1; try <= 3; try++) {
		seam = seam_set_up(test, &held, seams, nr_seams);
		if (!seam)
			break;
		set_dev_node(dev, zone_to_nid(seam->low));
		sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
					      GFP_KERNEL, 0);
		set_dev_node(dev, home);
		if (sgt && seam_crossed(sgt, seam))
			break;
		if (sgt)
			dma_free_noncontiguous(dev, size, sgt,
					       DMA_BIDIRECTIONAL);
		sgt = NULL;
		unfragment_memory(&held);
		settled_pages_in_use();
	}
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	if (!seam && try == 1) {
		unfragment_memory(&held);
		kunit_skip(test, "no seam has free blocks on both sides");
	}
	if (sgt) {
		kunit_info(test, "4 MiB across pfn %#lx in %u CPU entries (round %u)\n",
			   seam->pfn, sgt->orig_nents, try);
		for_each_sgtable_sg(sgt, sg, i) {
			foreign = 0;
			for (n = 1; n < sg->length >> PAGE_SHIFT; n++)
				foreign += page_zone(nth_page(sg_page(sg), n)) !=
					   page_zone(sg_page(sg));
			KUNIT_EXPECT_EQ_MSG(test, foreign, 0UL,
					    "pages of entry %d in another zone than its first",
					    i);
		}
		dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
	}
	unfragment_memory(&held);
	KUNIT_ASSERT_NOT_NULL_MSG(test, seam,
				  "the seam's blocks were not free again");
	KUNIT_EXPECT_NOT_NULL_MSG(test, sgt,
				  "no round put a chunk on each side of the seam");
}

/* Whether page @i of @sgt is what the CPU sees at @vaddr + @i pages. */
static bool vmap_shows_page(void *vaddr, struct sg_table *sgt,
			    unsigned int i)
{
	struct sg_page_iter piter;
	unsigned int n = 0;

	for_each_sgtable_page(sgt, &piter, 0)
		if (n++ == i)
			break;
	return vmalloc_to_page(vaddr + i * PAGE_SIZE) ==
	       sg_page_iter_page(&piter);
}

/*
 * The IOMMU path asks for __GFP_HIGHMEM, so on 32-bit kernels its pages
 * are mostly highmem, which the linear map does not cover: the CPU's view
 * must be a vmap() of every page, in order.
 */
static void vmap_of_highmem_buffer_maps_every_page(struct kunit *test)
{
	size_t size = SZ_1M;
	unsigned int i, high = 0, wrong = 0;
	struct sg_page_iter piter;
	struct sg_table *sgt;
	struct device *dev;
	u8 *vaddr, *kaddr;

	if (!IS_ENABLED(CONFIG_HIGHMEM))
		kunit_skip(test, "no highmem in a 64-bit kernel");
	require_iommu(test);
	dev = &edu.pdev->dev;
	sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
				      GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	for_each_sgtable_page(sgt, &piter, 0)
		high += PageHighMem(sg_page_iter_page(&piter));
	vaddr = dma_vmap_noncontiguous(dev, size, sgt);
	if (!high || !vaddr) {
		dma_vunmap_noncontiguous(dev, vaddr);
		dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
		KUNIT_ASSERT_NOT_NULL(test, vaddr);
		kunit_skip(test, "no page of the buffer is in highmem");
	}
	kunit_info(test, "%u of %zu pages in highmem, %u CPU entries\n",
		   high, size >> PAGE_SHIFT, sgt->orig_nents);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vaddr));
	for (i = 0; is_vmalloc_addr(vaddr) && i < size >> PAGE_SHIFT; i++)
		wrong += !vmap_shows_page(vaddr, sgt, i);
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0U, "pages mapped out of order");
	/* What the CPU writes there is in the pages themselves. */
	fill_pattern(vaddr, size, 5);
	i = 0;
	for_each_sgtable_page(sgt, &piter, 0) {
		kaddr = kmap_local_page(sg_page_iter_page(&piter));
		wrong += memcmp(kaddr, vaddr + i++ * PAGE_SIZE, PAGE_SIZE) != 0;
		kunmap_local(kaddr);
	}
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0U, "pages differ from the mapping");
	dma_vunmap_noncontiguous(dev, vaddr);
	dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
}

/*
 * The one-entry shortcut (the linear address) is right only if every page
 * of the entry is low memory, not just the first: an entry made by hand
 * across the seam where highmem starts must be vmap()ed.  The allocator
 * never makes such an entry; the shortcut must not depend on that.  The
 * two pages are only looked at, never written.
 */
static void vmap_shortcut_needs_every_page_low(struct kunit *test)
{
	struct zone *high = NULL, *zone;
	struct sg_table sgt;
	struct device *dev;
	unsigned long pfn;
	u8 *vaddr;

	if (!IS_ENABLED(CONFIG_HIGHMEM))
		kunit_skip(test, "no highmem in a 64-bit kernel");
	for_each_populated_zone(zone)
		if (is_highmem(zone) && pfn_valid(zone->zone_start_pfn - 1) &&
		    !PageHighMem(pfn_to_page(zone->zone_start_pfn - 1)))
			high = zone;
	if (!high)
		kunit_skip(test, "no highmem zone starts right after low memory");
	require_edu(test);
	dev = &edu.pdev->dev;
	pfn = high->zone_start_pfn - 1;
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, 1, GFP_KERNEL), 0);
	sg_set_page(sgt.sgl, pfn_to_page(pfn), 2 * PAGE_SIZE, 0);
	vaddr = dma_vmap_noncontiguous(dev, 2 * PAGE_SIZE, &sgt);
	KUNIT_EXPECT_NOT_NULL(test, vaddr);
	KUNIT_EXPECT_TRUE_MSG(test, is_vmalloc_addr(vaddr),
			      "the linear address of an entry whose second page (pfn %#lx) is highmem",
			      pfn + 1);
	if (is_vmalloc_addr(vaddr)) {
		KUNIT_EXPECT_TRUE(test, vmap_shows_page(vaddr, &sgt, 0));
		KUNIT_EXPECT_TRUE(test, vmap_shows_page(vaddr, &sgt, 1));
	}
	dma_vunmap_noncontiguous(dev, vaddr);
	sg_free_table(&sgt);
}

static struct kunit_case zone_cases[] = {
	KUNIT_CASE(iommu_no_entry_crosses_a_zone),
	KUNIT_CASE(vmap_of_highmem_buffer_maps_every_page),
	KUNIT_CASE(vmap_shortcut_needs_every_page_low),
	{}
};

/*
 * The first suite to run: memory allocated while other suites hold memory
 * fragmented stays where it landed, and this scene needs whole free blocks
 * on both sides of a seam.
 */
static struct kunit_suite zone_suite = {
	.name = "dma_noncontig_zones",
	.suite_init = invasive_suite_init,
	.suite_exit = devices_exit,
	.test_cases = zone_cases,
};

/* ---- the fallback: leaks, reclaim, zeroing, NUMA ---- */

/* Allocate, map, write and free in a loop; no page may stay in use. */
static void direct_free_returns_every_page(struct kunit *test)
{
	static const size_t sizes[] = {
		1, 4095, 4096, 4097, SZ_64K, SZ_1M + 1, SZ_4M,
	};
	struct device *dev = &test_pdev->dev;
	struct sg_table *sgt;
	unsigned int s;
	long before;
	void *vaddr;
	int i;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		before = settled_pages_in_use();
		for (i = 0; i < LEAK_CYCLES; i++) {
			sgt = dma_alloc_noncontiguous(dev, sizes[s],
						      DMA_TO_DEVICE, GFP_KERNEL,
						      0);
			KUNIT_ASSERT_NOT_NULL(test, sgt);
			vaddr = dma_vmap_noncontiguous(dev, sizes[s], sgt);
			KUNIT_ASSERT_NOT_NULL(test, vaddr);
			memset(vaddr, 0xa5, sizes[s]);
			dma_vunmap_noncontiguous(dev, vaddr);
			dma_sync_sgtable_for_device(dev, sgt, DMA_TO_DEVICE);
			dma_free_noncontiguous(dev, sizes[s], sgt,
					       DMA_TO_DEVICE);
		}
		kunit_info(test, "%zu bytes:\n", sizes[s]);
		expect_pages_back(test, before, (long)LEAK_CYCLES);
	}
}

/*
 * Refused calls and sizes that can never be served allocate nothing, on
 * @dev: each of them LEAK_CYCLES times, and not one page may stay in use.
 * Behind an IOMMU, also a size beyond the IOVA space under a 24-bit mask.
 */
static void expect_nothing_allocated(struct kunit *test, struct device *dev)
{
	const struct {
		size_t size;
		enum dma_data_direction dir;
		gfp_t gfp;
	} calls[] = {
		{ 0, DMA_TO_DEVICE, GFP_KERNEL },
		{ PAGE_SIZE, DMA_NONE, GFP_KERNEL },
		{ PAGE_SIZE, DMA_FROM_DEVICE, GFP_ATOMIC },
		{ PAGE_SIZE, DMA_TO_DEVICE, GFP_KERNEL | __GFP_HIGHMEM },
		{ PAGE_SIZE, DMA_TO_DEVICE, GFP_KERNEL | __GFP_NOFAIL },
		{ (size_t)(totalram_pages() + 1) << PAGE_SHIFT,
		  DMA_FROM_DEVICE, GFP_KERNEL },
		{ PAGE_SIZE << MAX_ORDER, DMA_FROM_DEVICE, GFP_KERNEL },
	};
	bool iommu = dma_domain_translates(dev);
	/* the last is served behind an IOMMU, and by CMA where there is one */
	unsigned int n = ARRAY_SIZE(calls) - (iommu || dev_get_cma_area(dev));
	struct sg_table *sgt = NULL;
	unsigned int c;
	long before;
	int i;

	before = settled_pages_in_use();
	for (i = 0; i < LEAK_CYCLES && !sgt; i++) {
		for (c = 0; c < n && !sgt; c++)
			sgt = dma_alloc_noncontiguous(dev, calls[c].size,
						      calls[c].dir,
						      calls[c].gfp, 0);
		if (iommu && !sgt) {
			KUNIT_ASSERT_EQ(test, dma_set_coherent_mask(dev,
					DMA_BIT_MASK(24)), 0);
			sgt = dma_alloc_noncontiguous(dev, SZ_32M,
						      DMA_FROM_DEVICE,
						      GFP_KERNEL, 0);
			dma_set_coherent_mask(dev, DMA_BIT_MASK(32));
		}
	}
	KUNIT_EXPECT_NULL_MSG(test, sgt, "a refused call was accepted");
	if (sgt)
		return;		/* its size is unknown: leave it */
	expect_pages_back(test, before, (long)LEAK_CYCLES);
}

static void direct_refused_calls_allocate_nothing(struct kunit *test)
{
	expect_nothing_allocated(test, &test_pdev->dev);
}

/*
 * A free with the wrong size frees what the table holds: every page of the
 * buffer comes back (DMA-API debug's report of the size is the kernel
 * suite's to check).  Its stack traces may grow the stack depot by an
 * order-2 pool: 4 pages that are not the buffer's 16.
 */
static void direct_wrong_size_free_frees_the_buffer(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	size_t size = 16 * PAGE_SIZE;
	struct sg_table *sgt;
	long before;

	before = settled_pages_in_use();
	sgt = dma_alloc_noncontiguous(dev, size, DMA_TO_DEVICE, GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma_free_noncontiguous(dev, PAGE_SIZE, sgt, DMA_TO_DEVICE);
	expect_pages_back(test, before, 8L);
}

/*
 * Pages come from the device's NUMA node where it has memory the device
 * can use: with the device placed on each node with memory below @limit in
 * turn, every page of a 1 MiB buffer must be from that node.  Needs two
 * such nodes (memory above 4 GiB is out of reach of the fallback's 32-bit
 * device).
 */
static void expect_pages_from_device_node(struct kunit *test,
					  struct device *dev, u64 limit)
{
	int home = dev_to_node(dev), nid, nodes = 0;
	struct sg_page_iter piter;
	struct sg_table *sgt;
	unsigned int foreign;

	for_each_node_state(nid, N_MEMORY)
		nodes += PFN_PHYS(node_start_pfn(nid)) <= limit;
	if (nodes < 2)
		kunit_skip(test, "needs two NUMA nodes with memory the device can use");
	for_each_node_state(nid, N_MEMORY) {
		if (PFN_PHYS(node_start_pfn(nid)) > limit)
			continue;
		set_dev_node(dev, nid);
		sgt = dma_alloc_noncontiguous(dev, SZ_1M, DMA_BIDIRECTIONAL,
					      GFP_KERNEL, 0);
		set_dev_node(dev, home);
		KUNIT_ASSERT_NOT_NULL(test, sgt);
		foreign = 0;
		for_each_sgtable_page(sgt, &piter, 0)
			foreign += page_to_nid(sg_page_iter_page(&piter)) != nid;
		KUNIT_EXPECT_EQ_MSG(test, foreign, 0U, "device on node %d", nid);
		dma_free_noncontiguous(dev, SZ_1M, sgt, DMA_BIDIRECTIONAL);
	}
}

static void direct_pages_from_device_node(struct kunit *test)
{
	expect_pages_from_device_node(test, &test_pdev->dev,
				      test_pdev->dev.coherent_dma_mask);
}

/*
 * dma-direct zeroes the chunk it hands out (after decrypting it where it
 * must), so a caller's __GFP_ZERO must not reach the page allocator as
 * well: the buffer would be zeroed twice, which doubles the cost of a
 * 64 KiB allocation.  The chunk is still zero.
 */
static void direct_caller_zero_is_done_once(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	struct sg_table *sgt;

	if (!ORDERS_SEEN)
		kunit_skip(test, "needs kprobes and argument access to see the gfp");
	if (dev_get_cma_area(dev))
		kunit_skip(test, "CMA, not the page allocator, serves the chunk");
	KUNIT_ASSERT_EQ(test, watch_orders(), 0);
	watched_calls = 0;
	watched_zeroed = 0;
	WRITE_ONCE(watched_order, get_order(SZ_64K));
	WRITE_ONCE(orders_task, current);
	sgt = dma_alloc_noncontiguous(dev, SZ_64K, DMA_FROM_DEVICE,
				      GFP_KERNEL | __GFP_ZERO, 0);
	WRITE_ONCE(orders_task, NULL);
	WRITE_ONCE(watched_order, MAX_ORDER);
	unregister_kprobe(&alloc_pages_probe);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, watched_calls, 1U);
	KUNIT_EXPECT_EQ(test, watched_zeroed, 0U);
	KUNIT_EXPECT_TRUE(test, buffer_is_zero(sg_virt(sgt->sgl), SZ_64K));
	dma_free_noncontiguous(dev, SZ_64K, sgt, DMA_FROM_DEVICE);
}

/* Read pages [@first, @last) of the RAM disk into its page cache. */
static int read_page_cache(struct address_space *mapping, pgoff_t first,
			   pgoff_t last, int want_zone)
{
	struct page *page;
	int ret = 0;

	for (; first < last && !ret; first++) {
		page = read_mapping_page(mapping, first, NULL);
		if (IS_ERR(page))
			return PTR_ERR(page);
		if (want_zone >= 0 && page_zonenum(page) != want_zone)
			ret = -EXDEV;
		put_page(page);
	}
	drain_lru();
	return ret;
}

/*
 * Memory freed after fragment_memory() (page cache dropped, per-CPU lists
 * drained) merges back into large blocks: hold half of every block above
 * PAGE_ALLOC_COSTLY_ORDER, so that nothing free is larger than the
 * reserve's blocks.
 */
static void fragment_costly_orders(struct list_head *held)
{
	hold_alternate_runs(held, PAGE_ALLOC_COSTLY_ORDER + 1,
			    1U << PAGE_ALLOC_COSTLY_ORDER);
}

/*
 * Bring @zone's free pages to @want by giving back pages of @held or taking
 * more; the per-CPU lists are drained so that the count is what the
 * watermark checks see.
 */
static long set_zone_free(struct zone *zone, gfp_t zone_gfp, long want,
			  struct list_head *held)
{
	struct page *page;
	long free = 0;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		drain_pages(zone);
		free = zone_page_state_snapshot(zone, NR_FREE_PAGES);
		for (; free < want && !list_empty(held); free++) {
			page = list_first_entry(held, struct page, lru);
			list_del(&page->lru);
			__free_page(page);
		}
		for (; free > want; free--) {
			page = alloc_pages(zone_gfp | GFP_NOWAIT | __GFP_NOWARN,
					   0);
			if (!page)
				break;
			list_add(&page->lru, held);
		}
	}
	drain_pages(zone);
	return zone_page_state_snapshot(zone, NR_FREE_PAGES);
}

/* Reclaim and compaction done by direct reclaimers, from the event counters. */
struct reclaim_cost {
	unsigned long stalls, compactions, reclaimed;
};

static void reclaim_cost_add(struct reclaim_cost *cost, unsigned long *ev,
			     long sign)
{
	int z;

	all_vm_events(ev);
	for (z = 0; z < MAX_NR_ZONES; z++)
		cost->stalls += sign * ev[ALLOCSTALL_NORMAL - ZONE_NORMAL + z];
	if (IS_ENABLED(CONFIG_COMPACTION))
		cost->compactions += sign * ev[COMPACTSTALL];
	cost->reclaimed += sign * ev[PGSTEAL_DIRECT];
}

#define SCENE_CACHE_PAGES	8

/*
 * What a costly chunk costs in reclaim and compaction where 6.1's page
 * allocator would retry it with __GFP_RETRY_MAYFAIL: should_reclaim_retry()
 * goes round again while some zone of the request, counting its reclaimable
 * pages as free, would pass its watermark with a free block of the order.
 * ZONE_DMA below ZONE_DMA32 is such a zone on x86: unfragmented, its blocks
 * kept for GFP_DMA by the lowmem reserve, and holding a little page cache.
 * The scene: a free block of @order in ZONE_DMA, the zone's free pages one
 * short of what the lowmem reserve lets a ZONE_DMA32 request take, a few
 * pages of page cache there (reclaimed last, they are the newest), every
 * other zone fragmented with page cache to reclaim.  Reclaim never frees the
 * block, so the request fails; the question is after how many rounds.
 */
struct reclaim_scene {
	struct zone *dma, *dma32;
	struct block_device *bdev;
	struct page *block;
	struct list_head held, dma_held;
	unsigned int order;
	pgoff_t cache_pages;
};

/* 32-bit kernels and some 64-bit ones have no ZONE_DMA32, some no ZONE_DMA. */
static struct zone *dma32_zone(pg_data_t *pgdat)
{
#ifdef CONFIG_ZONE_DMA32
	return &pgdat->node_zones[ZONE_DMA32];
#else
	return NULL;
#endif
}

static struct zone *dma_zone(pg_data_t *pgdat)
{
#ifdef CONFIG_ZONE_DMA
	return &pgdat->node_zones[ZONE_DMA];
#else
	return NULL;
#endif
}

static int reclaim_scene_set_up(struct reclaim_scene *sc)
{
	struct address_space *mapping;
	gfp_t mapping_gfp;
	int ret;

	INIT_LIST_HEAD(&sc->held);
	INIT_LIST_HEAD(&sc->dma_held);
	sc->block = alloc_pages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN,
				sc->order);
	if (!sc->block)
		return -ENOMEM;
	drain_pages(NULL);
	fragment_memory(&sc->held);
	fragment_costly_orders(&sc->held);
	sc->bdev = blkdev_get_by_dev(MKDEV(RAMDISK_MAJOR, 0), FMODE_READ, sc);
	if (IS_ERR(sc->bdev))
		return PTR_ERR(sc->bdev);
	mapping = sc->bdev->bd_inode->i_mapping;
	sc->cache_pages = bdev_nr_bytes(sc->bdev) >> PAGE_SHIFT;
	ret = read_page_cache(mapping, 0, sc->cache_pages - SCENE_CACHE_PAGES,
			      -1);
	if (ret)
		return ret;
	/* Take ZONE_DMA, then give a few pages back for its page cache. */
	set_zone_free(sc->dma, GFP_DMA, 0, &sc->dma_held);
	set_zone_free(sc->dma, GFP_DMA,
		      min_wmark_pages(sc->dma) + SCENE_CACHE_PAGES,
		      &sc->dma_held);
	mapping_gfp = mapping_gfp_mask(mapping);
	mapping_set_gfp_mask(mapping, GFP_NOIO | GFP_DMA);
	ret = read_page_cache(mapping, sc->cache_pages - SCENE_CACHE_PAGES,
			      sc->cache_pages, zone_idx(sc->dma));
	mapping_set_gfp_mask(mapping, mapping_gfp);
	return ret;
}

/*
 * Refill the page cache, then free the block into ZONE_DMA one page short
 * of what a ZONE_DMA32 request may take; returns how far the zone's free
 * pages are from that.
 */
static long reclaim_scene_arm(struct reclaim_scene *sc)
{
	long want = min_wmark_pages(sc->dma) +
		    sc->dma->lowmem_reserve[zone_idx(sc->dma32)] - 1;
	long free;

	if (!sc->block)
		return -1;
	read_page_cache(sc->bdev->bd_inode->i_mapping, 0,
			sc->cache_pages - SCENE_CACHE_PAGES, -1);
	/* Pages back from the per-CPU lists merge into blocks again. */
	drain_pages(NULL);
	fragment_costly_orders(&sc->held);
	free = set_zone_free(sc->dma, GFP_DMA, want, &sc->dma_held) - want;
	__free_pages(sc->block, sc->order);
	sc->block = NULL;
	return free;
}

/* Take the block back if the request left it free. */
static bool reclaim_scene_disarm(struct reclaim_scene *sc)
{
	sc->block = alloc_pages(GFP_DMA | GFP_NOWAIT | __GFP_NOWARN,
				sc->order);
	return sc->block;
}

/*
 * The scene leaves kswapd given up (its wakeups found nothing to reclaim
 * MAX_RECLAIM_RETRIES times, so it is woken no more) and the zones'
 * watermarks boosted (holding memory steals pageblocks across migrate
 * types, see boost_watermark()); only kswapd clears a boost.  A boosted min
 * watermark makes later tests run out of memory sooner: put both back as
 * reclaim progress and a balanced kswapd would.
 */
static void reclaim_scene_tear_down(struct reclaim_scene *sc)
{
	unsigned long flags;
	int nid;
	struct zone *zone;

	if (!IS_ERR_OR_NULL(sc->bdev))
		blkdev_put(sc->bdev, FMODE_READ);
	unfragment_memory(&sc->dma_held);
	unfragment_memory(&sc->held);
	if (sc->block)
		__free_pages(sc->block, sc->order);
	for_each_online_node(nid)
		WRITE_ONCE(NODE_DATA(nid)->kswapd_failures, 0);
	for_each_populated_zone(zone) {
		spin_lock_irqsave(&zone->lock, flags);
		zone->watermark_boost = 0;
		spin_unlock_irqrestore(&zone->lock, flags);
	}
}

/*
 * One round of the comparison: the same request through dma_alloc_pages()
 * and through the API, each on the scene just armed.  A round in which
 * dma_alloc_pages() was served (compaction found a block after all: memory
 * freed since the scene was set up, as KASAN's quarantine does) or in which
 * ZONE_DMA was not where the scene put it compares nothing and is redone.
 */
static bool reclaim_scene_round(struct kunit *test, struct reclaim_scene *sc,
				unsigned long *ev, struct reclaim_cost *ref,
				struct reclaim_cost *ours)
{
	size_t size = PAGE_SIZE << sc->order;
	struct device *dev = &test_pdev->dev;
	bool ref_failed, ours_failed;
	long off_ref, off_ours;
	struct sg_table *sgt;
	struct page *page;
	dma_addr_t dma;

	memset(ref, 0, sizeof(*ref));
	memset(ours, 0, sizeof(*ours));
	off_ref = reclaim_scene_arm(sc);
	reclaim_cost_add(ref, ev, -1);
	page = dma_alloc_pages(dev, size, &dma, DMA_FROM_DEVICE,
			       GFP_KERNEL | __GFP_NOWARN);
	reclaim_cost_add(ref, ev, 1);
	ref_failed = !page;
	if (page) {
		kunit_info(test, "dma_alloc_pages() served from node %d zone %d\n",
			   page_to_nid(page), page_zonenum(page));
		if (!dma_mapping_error(dev, dma))
			dma_free_pages(dev, size, page, dma, DMA_FROM_DEVICE);
	}
	ref_failed &= reclaim_scene_disarm(sc);

	off_ours = reclaim_scene_arm(sc);
	reclaim_cost_add(ours, ev, -1);
	sgt = dma_alloc_noncontiguous(dev, size, DMA_FROM_DEVICE, GFP_KERNEL,
				      0);
	reclaim_cost_add(ours, ev, 1);
	ours_failed = !sgt;
	if (sgt)
		dma_free_noncontiguous(dev, size, sgt, DMA_FROM_DEVICE);
	reclaim_scene_disarm(sc);

	kunit_info(test, "dma_alloc_pages(): %s, %lu reclaim, %lu compaction, %lu pages reclaimed (ZONE_DMA %+ld)\n",
		   ref_failed ? "failed" : "served", ref->stalls,
		   ref->compactions, ref->reclaimed, off_ref);
	kunit_info(test, "noncontiguous: %s, %lu reclaim, %lu compaction, %lu pages reclaimed (ZONE_DMA %+ld)\n",
		   ours_failed ? "failed" : "served", ours->stalls,
		   ours->compactions, ours->reclaimed, off_ours);
	return ref_failed && !off_ref && !off_ours;
}

/*
 * A fallback chunk above PAGE_ALLOC_COSTLY_ORDER costs no more reclaim and
 * compaction than the same request through dma_alloc_pages(): with
 * __GFP_RETRY_MAYFAIL the page allocator would go round reclaim and
 * compaction up to MAX_RECLAIM_RETRIES times before failing (uvc's 96 KiB
 * URB buffers, order 5), where dma_alloc_pages() fails after one round.
 */
static void direct_costly_chunk_reclaims_like_dma_alloc_pages(struct kunit *test)
{
	struct reclaim_scene sc = { .order = PAGE_ALLOC_COSTLY_ORDER + 2 };
	pg_data_t *pgdat = NODE_DATA(first_online_node);
	struct reclaim_cost ref, ours;
	unsigned long *ev;
	int ret, round;
	bool compared = false;

	if (!IS_ENABLED(CONFIG_BLK_DEV_RAM))
		kunit_skip(test, "needs a RAM disk for page cache");
	if (!drain_all_pages_fn)
		kunit_skip(test, "cannot find drain_all_pages() to count free pages");
	sc.dma = dma_zone(pgdat);
	sc.dma32 = dma32_zone(pgdat);
	if (!sc.dma || !sc.dma32 || !populated_zone(sc.dma) ||
	    !populated_zone(sc.dma32))
		kunit_skip(test, "needs ZONE_DMA below a populated ZONE_DMA32");
	ev = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ev);

	ret = reclaim_scene_set_up(&sc);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "scene not set up");
	for (round = 0; !ret && !compared && round < 3; round++) {
		compared = reclaim_scene_round(test, &sc, ev, &ref, &ours);
		if (!compared)
			kunit_info(test, "round %d discarded\n", round);
	}
	reclaim_scene_tear_down(&sc);
	if (ret)
		return;
	KUNIT_ASSERT_TRUE_MSG(test, compared, "no round kept the scene");
	/* without a stall in the reference the scene compares nothing */
	KUNIT_EXPECT_GT(test, ref.stalls, 0UL);
	KUNIT_EXPECT_LE(test, ours.stalls, ref.stalls);
	KUNIT_EXPECT_LE(test, ours.compactions, ref.compactions);
}

/*
 * The fallback's chunk must be mapped decrypted exactly when dma-direct
 * decrypted it, never when the ->alloc_pages of other ops allocated it.
 * Nothing under QEMU's TCG needs DMA unencrypted, so a kretprobe makes
 * force_dma_unencrypted() answer true for the platform device, and a kprobe
 * counts this task's calls to cc_mkdec(), which x86's pgprot_decrypted()
 * calls.  Only x86 with memory encryption support has both as functions.
 */
#if defined(CONFIG_X86) && defined(CONFIG_ARCH_HAS_CC_PLATFORM) && \
	defined(CONFIG_ARCH_HAS_FORCE_DMA_UNENCRYPTED) && \
	defined(CONFIG_KRETPROBES) && defined(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API)
static struct task_struct *decrypts_task;
static unsigned int decrypts_seen;

static int cc_mkdec_hit(struct kprobe *kp, struct pt_regs *regs)
{
	if (current == READ_ONCE(decrypts_task))
		decrypts_seen++;
	return 0;
}

static struct kprobe cc_mkdec_probe = {
	.symbol_name	= "cc_mkdec",
	.pre_handler	= cc_mkdec_hit,
	.post_handler	= kprobe_not_optimized,
};

/* Only the platform device's calls get the return handler. */
static int force_unencrypted_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	return regs_get_kernel_argument(regs, 0) !=
		(unsigned long)&test_pdev->dev;
}

static int force_unencrypted_ret(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	regs_set_return_value(regs, true);
	return 0;
}

static struct kretprobe force_unencrypted_probe = {
	.kp.symbol_name	= "force_dma_unencrypted",
	.entry_handler	= force_unencrypted_entry,
	.handler	= force_unencrypted_ret,
};

/* Registered: what the test's exit must unregister. */
static bool cc_mkdec_on, force_unencrypted_on;

struct decrypt_map {
	struct device *dev;
	struct sg_table *sgt;
};

static int decrypt_map_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct decrypt_map *map = file->private_data;

	return dma_mmap_noncontiguous(map->dev, vma, SZ_64K, map->sgt);
}

static const struct file_operations decrypt_map_fops = {
	.mmap = decrypt_map_mmap,
};

/* Pages for test ops without the noncontiguous methods. */
static struct page *plain_alloc_pages(struct device *dev, size_t size,
				      dma_addr_t *dma_handle,
				      enum dma_data_direction dir, gfp_t gfp)
{
	struct page *page = alloc_pages(gfp | __GFP_ZERO, get_order(size));

	if (page)
		*dma_handle = page_to_phys(page);
	return page;
}

static void plain_free_pages(struct device *dev, size_t size,
			     struct page *page, dma_addr_t dma_handle,
			     enum dma_data_direction dir)
{
	__free_pages(page, get_order(size));
}

static const struct dma_map_ops plain_ops = {
	.alloc_pages	= plain_alloc_pages,
	.free_pages	= plain_free_pages,
};

/*
 * Allocate a 64 KiB buffer for the platform device, map it into a scratch
 * mm and return how many decrypted protections this task asked for
 * meanwhile.
 */
static unsigned int mmap_decrypts(struct kunit *test)
{
	struct decrypt_map map = { .dev = &test_pdev->dev };
	struct mm_struct *mm;
	struct file *file;
	unsigned long addr;

	map.sgt = dma_alloc_noncontiguous(map.dev, SZ_64K, DMA_BIDIRECTIONAL,
					  GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, map.sgt);
	decrypts_seen = 0;
	mm = mm_alloc_fn();
	file = anon_inode_getfile("dma-noncontig-test", &decrypt_map_fops,
				  &map, O_RDWR);
	if (mm && !IS_ERR(file)) {
		arch_pick_mmap_layout_fn(mm, &current->signal->rlim[RLIMIT_STACK]);
		kthread_use_mm(mm);
		WRITE_ONCE(decrypts_task, current);
		addr = vm_mmap(file, 0, SZ_64K, PROT_READ | PROT_WRITE,
			       MAP_SHARED, 0);
		WRITE_ONCE(decrypts_task, NULL);
		KUNIT_EXPECT_FALSE(test, IS_ERR_VALUE(addr));
		if (!IS_ERR_VALUE(addr))
			vm_munmap(addr, SZ_64K);
		kthread_unuse_mm(mm);
	}
	KUNIT_EXPECT_NOT_NULL(test, mm);
	KUNIT_EXPECT_FALSE(test, IS_ERR(file));
	if (!IS_ERR(file))
		fput(file);
	if (mm)
		mmput(mm);
	dma_free_noncontiguous(map.dev, SZ_64K, map.sgt, DMA_BIDIRECTIONAL);
	return decrypts_seen;
}

static void mmap_decrypts_only_what_dma_direct_decrypted(struct kunit *test)
{
	unsigned int plain, direct, ops;

	if (!mm_alloc_fn || !arch_pick_mmap_layout_fn)
		kunit_skip(test, "cannot find mm_alloc() and arch_pick_mmap_layout()");
	KUNIT_ASSERT_EQ(test, register_kprobe(&cc_mkdec_probe), 0);
	cc_mkdec_on = true;
	plain = mmap_decrypts(test);
	KUNIT_ASSERT_EQ(test, register_kretprobe(&force_unencrypted_probe), 0);
	force_unencrypted_on = true;
	direct = mmap_decrypts(test);
	set_dma_ops(&test_pdev->dev, &plain_ops);
	ops = mmap_decrypts(test);

	/* the probes see the decision: dma-direct decrypted, so must the map */
	KUNIT_EXPECT_GT(test, direct, plain);
	/* the ops never decrypt */
	KUNIT_EXPECT_EQ(test, ops, plain);
}

/* Undo the probes and the ops even when the test stopped at an assertion. */
static void memory_test_exit(struct kunit *test)
{
	set_dma_ops(&test_pdev->dev, NULL);
	if (force_unencrypted_on)
		unregister_kretprobe(&force_unencrypted_probe);
	if (cc_mkdec_on)
		unregister_kprobe(&cc_mkdec_probe);
	force_unencrypted_on = false;
	cc_mkdec_on = false;
}
#else
static void mmap_decrypts_only_what_dma_direct_decrypted(struct kunit *test)
{
	kunit_skip(test, "needs x86 memory encryption support, kprobes and kretprobes");
}

static void memory_test_exit(struct kunit *test)
{
}
#endif

/*
 * A small table shares its allocation with the sg_table, and its entries
 * must still be aligned for their dma_addr_t: with 64-bit DMA addresses on
 * a 32-bit kernel (ARM LPAE) a scatterlist needs 8 bytes of alignment, and
 * the 12-byte sg_table's end has only 4.
 */
static void direct_table_entries_are_aligned(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	struct sg_table *sgt;

	sgt = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_BIDIRECTIONAL,
				      GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, (unsigned long)sgt->sgl %
			      __alignof__(struct scatterlist), 0UL);
	dma_free_noncontiguous(dev, PAGE_SIZE, sgt, DMA_BIDIRECTIONAL);
}

static struct kunit_case direct_cases[] = {
	KUNIT_CASE(direct_free_returns_every_page),
	KUNIT_CASE(direct_refused_calls_allocate_nothing),
	KUNIT_CASE(direct_wrong_size_free_frees_the_buffer),
	KUNIT_CASE(direct_table_entries_are_aligned),
	KUNIT_CASE(direct_caller_zero_is_done_once),
	KUNIT_CASE(direct_costly_chunk_reclaims_like_dma_alloc_pages),
	KUNIT_CASE(direct_pages_from_device_node),
	KUNIT_CASE(mmap_decrypts_only_what_dma_direct_decrypted),
	{}
};

static struct kunit_suite direct_suite = {
	.name = "dma_noncontig_direct_memory",
	.suite_init = invasive_suite_init,
	.suite_exit = devices_exit,
	.exit = memory_test_exit,
	.test_cases = direct_cases,
};

static void iommu_fragmented_memory_gives_many_cpu_entries(struct kunit *test)
{
	struct sg_table *sgt;
	struct device *dev;
	LIST_HEAD(held);
	void *vaddr;

	require_iommu(test);
	dev = &edu.pdev->dev;
	fragment_memory(&held);
	sgt = dma_alloc_noncontiguous(dev, SZ_1M, DMA_FROM_DEVICE,
				      GFP_KERNEL, 0);
	if (sgt) {
		KUNIT_EXPECT_EQ(test, sgt->nents, 1U);
		KUNIT_EXPECT_GT(test, sgt->orig_nents, 1U);
		KUNIT_EXPECT_EQ(test, sg_dma_len(sgt->sgl), (unsigned int)SZ_1M);
		vaddr = dma_vmap_noncontiguous(dev, SZ_1M, sgt);
		KUNIT_EXPECT_NOT_NULL(test, vaddr);
		if (vaddr) {
			KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vaddr));
			KUNIT_EXPECT_TRUE(test, buffer_is_zero(vaddr, SZ_1M));
			dma_vunmap_noncontiguous(dev, vaddr);
		}
		kunit_info(test, "fragmented memory: 1 MiB buffer in %u CPU entries\n",
			   sgt->orig_nents);
		dma_free_noncontiguous(dev, SZ_1M, sgt, DMA_FROM_DEVICE);
	}
	unfragment_memory(&held);
	KUNIT_EXPECT_NOT_NULL(test, sgt);
}

static struct sg_table *alloc_watching_orders(struct device *dev, size_t size,
					      unsigned long attrs)
{
	struct sg_table *sgt;

	memset(orders_seen, 0, sizeof(orders_seen));
	WRITE_ONCE(orders_task, current);
	sgt = dma_alloc_noncontiguous(dev, size, DMA_TO_DEVICE, GFP_KERNEL,
				      attrs);
	WRITE_ONCE(orders_task, NULL);
	return sgt;
}

/*
 * DMA_ATTR_ALLOC_SINGLE_PAGES builds the buffer from order-0 pages only, even
 * where the IOMMU has a page size that would map a larger chunk, and still
 * gives one DMA segment.  Without the attribute the same size comes as one
 * 2 MiB chunk, which shows the probe sees the orders.
 */
static void iommu_single_pages_attr_allocates_single_pages(struct kunit *test)
{
	unsigned int i, higher = 0;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct device *dev;
	size_t total = 0;
	int ret;

	require_iommu(test);
	dev = &edu.pdev->dev;
	if (!ORDERS_SEEN)
		kunit_skip(test, "needs kprobes and argument access to see the orders allocated");
	if (!iommu_has_page_size(dev, SZ_2M))
		kunit_skip(test, "the IOMMU has no 2 MiB pages");
	ret = watch_orders();
	KUNIT_ASSERT_EQ(test, ret, 0);

	sgt = alloc_watching_orders(dev, SZ_2M, DMA_ATTR_ALLOC_SINGLE_PAGES);
	for (i = 1; i < MAX_ORDER; i++)
		higher += orders_seen[i];
	KUNIT_EXPECT_EQ(test, orders_seen[0], SZ_2M >> PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, higher, 0U);
	if (sgt) {
		KUNIT_EXPECT_EQ(test, sgt->nents, 1U);
		for_each_sgtable_sg(sgt, sg, i)
			total += sg->length;
		KUNIT_EXPECT_EQ(test, total, (size_t)SZ_2M);
		dma_free_noncontiguous(dev, SZ_2M, sgt, DMA_TO_DEVICE);
	}

	sgt = alloc_watching_orders(dev, SZ_2M, 0);
	unregister_kprobe(&alloc_pages_probe);
	KUNIT_EXPECT_EQ(test, orders_seen[get_order(SZ_2M)], 1U);
	KUNIT_EXPECT_EQ(test, orders_seen[0], 0U);
	if (sgt)
		dma_free_noncontiguous(dev, SZ_2M, sgt, DMA_TO_DEVICE);
	KUNIT_EXPECT_NOT_NULL(test, sgt);
}

/*
 * Only orders the IOMMU maps as one page are asked for, and order 0: behind
 * an IOMMU without page sizes from 8 KiB to 64 KiB a 64 KiB buffer is 16
 * single pages, and no order in between is tried, so that a buffer never
 * splits a free block it would map as single IOMMU pages anyway.
 */
static void iommu_only_page_size_orders(struct kunit *test)
{
	unsigned int i, other = 0;
	struct sg_table *sgt;
	struct device *dev;

	require_iommu(test);
	dev = &edu.pdev->dev;
	if (!ORDERS_SEEN)
		kunit_skip(test, "needs kprobes and argument access to see the orders allocated");
	if (iommu_has_page_size(dev, GENMASK(__ffs(SZ_64K), PAGE_SHIFT + 1)))
		kunit_skip(test, "the IOMMU has page sizes from 8 KiB to 64 KiB");
	KUNIT_ASSERT_EQ(test, watch_orders(), 0);

	sgt = alloc_watching_orders(dev, SZ_64K, 0);
	unregister_kprobe(&alloc_pages_probe);
	for (i = 1; i < MAX_ORDER; i++)
		other += orders_seen[i];
	KUNIT_EXPECT_EQ(test, orders_seen[0], SZ_64K >> PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, other, 0U);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma_free_noncontiguous(dev, SZ_64K, sgt, DMA_TO_DEVICE);
}

/*
 * Chunks come largest first, each a power of two at an IOVA offset aligned
 * like its physical address, so an IOMMU can use large pages for them.
 */
static void iommu_chunks_largest_first_and_aligned(struct kunit *test)
{
	size_t size = SZ_8M + SZ_2M + SZ_64K + SZ_4K, offset = 0, large = 0;
	bool small_seen = false;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct device *dev;
	dma_addr_t iova;
	int i;

	require_iommu(test);
	dev = &edu.pdev->dev;
	if (!iommu_has_page_size(dev, SZ_2M))
		kunit_skip(test, "the IOMMU has no 2 MiB pages");
	sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
				      GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	iova = sg_dma_address(sgt->sgl);
	for_each_sgtable_sg(sgt, sg, i) {
		/* An entry that starts with a 2 MiB chunk keeps its alignment. */
		if (IS_ALIGNED(sg_phys(sg), SZ_2M) && sg->length >= SZ_2M) {
			KUNIT_EXPECT_FALSE(test, small_seen);
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED(iova + offset, SZ_2M));
			large += round_down(sg->length, SZ_2M);
		} else {
			small_seen = true;
		}
		offset += sg->length;
	}
	KUNIT_EXPECT_EQ(test, offset, size);
	/*
	 * Memory is not fragmented this early in a boot: the 10 MiB of the
	 * size that 2 MiB pages can map must come as 2 MiB chunks.
	 */
	KUNIT_EXPECT_EQ(test, large, (size_t)(SZ_8M + SZ_2M));
	kunit_info(test, "%zu KiB in 2 MiB chunks over %u CPU entries\n",
		   large / SZ_1K, sgt->orig_nents);
	dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
}

/* Slab (kmalloc included) and vmalloc memory: where side arrays would live. */
static long side_memory_bytes(void)
{
	return (long)(global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) +
		      vmalloc_pages()) * PAGE_SIZE;
}

/*
 * The table is the only bookkeeping a buffer has.  A page array on the side
 * would cost 128 KiB for 64 MiB; the table of a buffer built from large
 * chunks costs a few hundred bytes, which allocates at most a slab page.
 */
static void iommu_bookkeeping_is_the_table_alone(struct kunit *test)
{
	size_t size = SZ_64M;
	struct sg_table *sgt;
	struct device *dev;
	long used, least = LONG_MAX;
	int try;

	require_iommu(test);
	dev = &edu.pdev->dev;
	/*
	 * Slab grows a page or more at a time: the least growth over a few
	 * tries is the buffer's own, not a cache that happened to need a slab.
	 */
	for (try = 0; try < 3; try++) {
		used = side_memory_bytes();
		sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
					      GFP_KERNEL, 0);
		used = side_memory_bytes() - used;
		KUNIT_ASSERT_NOT_NULL(test, sgt);
		least = min(least, used);
		if (try == 2)
			kunit_info(test, "64 MiB buffer: %u CPU entries, %zu bytes of table; slab and vmalloc grew by %ld bytes\n",
				   sgt->orig_nents,
				   sizeof(*sgt) +
				   sgt->orig_nents * sizeof(struct scatterlist),
				   least);
		dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
	}
	/* upstream's page array alone is 128 KiB */
	KUNIT_EXPECT_LT(test, least, (long)SZ_64K);
}

static void iommu_free_returns_every_page(struct kunit *test)
{
	struct sg_table *sgt;
	struct device *dev;
	long before;
	int i;

	require_iommu(test);
	dev = &edu.pdev->dev;
	/* warm up: IOVA caches and IOMMU page tables stay allocated */
	sgt = dma_alloc_noncontiguous(dev, SZ_1M, DMA_TO_DEVICE, GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma_free_noncontiguous(dev, SZ_1M, sgt, DMA_TO_DEVICE);

	before = settled_pages_in_use();
	for (i = 0; i < LEAK_CYCLES; i++) {
		sgt = dma_alloc_noncontiguous(dev, SZ_1M, DMA_TO_DEVICE,
					      GFP_KERNEL,
					      i & 1 ? DMA_ATTR_ALLOC_SINGLE_PAGES : 0);
		KUNIT_ASSERT_NOT_NULL(test, sgt);
		dma_free_noncontiguous(dev, SZ_1M, sgt, DMA_TO_DEVICE);
	}
	expect_pages_back(test, before, (long)LEAK_CYCLES);
}

/*
 * Every access the direction allows still works: the device reads a
 * DMA_TO_DEVICE buffer, writes a DMA_FROM_DEVICE one, and both reads and
 * writes a DMA_BIDIRECTIONAL one.
 */
static void iommu_allowed_directions_work(struct kunit *test)
{
	struct sg_table *to, *from, *bidi;
	u8 *t, *f, *b, *want;
	struct device *dev;

	require_iommu(test);
	dev = &edu.pdev->dev;
	want = kunit_kmalloc(test, EDU_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	to = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_TO_DEVICE,
				     GFP_KERNEL, 0);
	from = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_FROM_DEVICE,
				       GFP_KERNEL, 0);
	bidi = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_BIDIRECTIONAL,
				       GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, to);
	KUNIT_ASSERT_NOT_NULL(test, from);
	KUNIT_ASSERT_NOT_NULL(test, bidi);
	t = dma_vmap_noncontiguous(dev, PAGE_SIZE, to);
	f = dma_vmap_noncontiguous(dev, PAGE_SIZE, from);
	b = dma_vmap_noncontiguous(dev, PAGE_SIZE, bidi);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_NOT_NULL(test, b);

	/* read the DMA_TO_DEVICE buffer, write it into DMA_FROM_DEVICE */
	fill_pattern(t, PAGE_SIZE, 33);
	dma_sync_sgtable_for_device(dev, to, DMA_TO_DEVICE);
	dma_sync_sgtable_for_device(dev, from, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(to->sgl), 0, EDU_XFER,
				      false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(from->sgl), 0, EDU_XFER,
				      true), 0);
	dma_sync_sgtable_for_cpu(dev, from, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, memcmp(f, t, EDU_XFER), 0);

	/* read the DMA_BIDIRECTIONAL buffer, then write it back over itself */
	fill_pattern(b, PAGE_SIZE, 44);
	memcpy(want, b, EDU_XFER);
	dma_sync_sgtable_for_device(dev, bidi, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(bidi->sgl), 0, EDU_XFER,
				      false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(bidi->sgl) + EDU_XFER, 0,
				      EDU_XFER, true), 0);
	dma_sync_sgtable_for_cpu(dev, bidi, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, memcmp(b + EDU_XFER, want, EDU_XFER), 0);

	dma_vunmap_noncontiguous(dev, b);
	dma_vunmap_noncontiguous(dev, f);
	dma_vunmap_noncontiguous(dev, t);
	dma_free_noncontiguous(dev, PAGE_SIZE, bidi, DMA_BIDIRECTIONAL);
	dma_free_noncontiguous(dev, PAGE_SIZE, from, DMA_FROM_DEVICE);
	dma_free_noncontiguous(dev, PAGE_SIZE, to, DMA_TO_DEVICE);
}

/*
 * A size below total memory that runs out part-way: ask behind the IOMMU
 * for up to two fifths of memory (halved until an allocation of that size
 * finds its IOVA range and its pages: on arm64's virt machine edu gets a
 * few hundred MiB of IOVA space), with memory held until only half of the
 * request is free.  The allocation must get its IOVA range and gather pages
 * before it fails: the kprobe on __alloc_pages() must see it ask for an
 * eighth of the request at least (not every free page is usable: lowmem
 * reserves, watermarks), or the test would pass on an early failure.  Then
 * it must fail with NULL, give every page back, and stay quiet (no
 * allocation warning and no OOM kill in the console log).
 */
static void iommu_running_out_part_way_fails_quietly(struct kunit *test)
{
	unsigned long total = totalram_pages(), i, asked = 0, free;
	struct page *page, *next;
	struct sg_table *sgt = NULL;
	LIST_HEAD(held);
	size_t size;
	long before;

	require_iommu(test);
	if (!ORDERS_SEEN)
		kunit_skip(test, "needs kprobes and argument access to see the allocation run out");
	for (size = (size_t)(total / 5 * 2) << PAGE_SHIFT; size >= SZ_16M;
	     size /= 2) {
		sgt = dma_alloc_noncontiguous(&edu.pdev->dev, size,
					      DMA_TO_DEVICE, GFP_KERNEL, 0);
		if (sgt)
			break;
	}
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma_free_noncontiguous(&edu.pdev->dev, size, sgt, DMA_TO_DEVICE);
	/* a flush queue gives the pages back later: not into the held ones */
	settle();
	KUNIT_ASSERT_EQ(test, watch_orders(), 0);
	/*
	 * Take every page the IOMMU path could have, highmem included, then
	 * give back the first ones taken, half the buffer's worth: those are
	 * from the zones it tries first, where the lowmem reserve does not
	 * keep it out as it would from low memory on a 32-bit kernel.
	 */
	while ((page = alloc_page(GFP_KERNEL | __GFP_HIGHMEM | __GFP_NORETRY |
				  __GFP_NOWARN)))
		list_add(&page->lru, &held);
	for (i = 0; i < size >> PAGE_SHIFT >> 1 && !list_empty(&held); i++) {
		page = list_last_entry(&held, struct page, lru);
		list_del(&page->lru);
		__free_page(page);
	}
	before = settled_pages_in_use();
	free = global_zone_page_state(NR_FREE_PAGES);
	sgt = alloc_watching_orders(&edu.pdev->dev, size, 0);
	unregister_kprobe(&alloc_pages_probe);
	for (i = 0; i < MAX_ORDER; i++)
		asked += (unsigned long)orders_seen[i] << i;
	kunit_info(test, "%lu pages free, %zu MiB asked for, %lu pages allocated before it failed\n",
		   free, size / SZ_1M, asked);
	KUNIT_EXPECT_NULL(test, sgt);
	if (sgt)
		dma_free_noncontiguous(&edu.pdev->dev, size, sgt,
				       DMA_TO_DEVICE);
	KUNIT_EXPECT_GT(test, asked, (unsigned long)(size >> PAGE_SHIFT) / 8);
	/* every chunk, down to a single page */
	expect_pages_back(test, before, 1L);
	list_for_each_entry_safe(page, next, &held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

static void iommu_pages_from_device_node(struct kunit *test)
{
	require_iommu(test);
	expect_pages_from_device_node(test, &edu.pdev->dev, U64_MAX);
}

/*
 * The IOTLB may translate a freed buffer's IOVA until it is invalidated, and
 * until then the pages must not go back to the page allocator, or a device
 * still writing to the buffer writes into someone else's memory.  In strict
 * mode the free invalidates the range itself; with a flush queue (lazy
 * mode) the pages wait for the queue's next flush.  An extra reference on
 * each page shows when the buffer lets go of it; kprobes on the IOMMU
 * driver's iotlb_sync and flush_iotlb_all note, at the first invalidation
 * of the device's domain after the free began, how many pages were already
 * let go.
 */
static struct iommu_domain *sync_domain;
static struct page **sync_pages;
static atomic_t syncs_seen;
static unsigned int let_go_at_sync;

#define HELD_PAGES	(SZ_64K >> PAGE_SHIFT)

/* Pages of @pages whose only reference left is the test's own. */
static unsigned int pages_let_go(struct page **pages)
{
	unsigned int i, n = 0;

	for (i = 0; i < HELD_PAGES; i++)
		n += page_ref_count(pages[i]) == 1;
	return n;
}

static int __maybe_unused iotlb_sync_hit(struct kprobe *kp,
					 struct pt_regs *regs)
{
#ifdef CONFIG_HAVE_FUNCTION_ARG_ACCESS_API
	/* pairs with the release that publishes sync_pages */
	struct iommu_domain *domain = smp_load_acquire(&sync_domain);

	if (!domain || regs_get_kernel_argument(regs, 0) != (unsigned long)domain)
		return 0;
	if (atomic_inc_return(&syncs_seen) == 1)
		let_go_at_sync = pages_let_go(sync_pages);
#endif
	return 0;
}

static bool register_sync_probes(struct kprobe *probes,
				 struct iommu_domain *domain)
{
#if defined(CONFIG_IOMMU_API) && defined(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API)
	struct kprobe *ptrs[2] = { &probes[0], &probes[1] };

	probes[0].addr = (kprobe_opcode_t *)domain->ops->iotlb_sync;
	probes[1].addr = (kprobe_opcode_t *)domain->ops->flush_iotlb_all;
	if (!probes[0].addr || !probes[1].addr)
		return false;
	return !register_kprobes(ptrs, 2);
#else
	return false;
#endif
}

static void unregister_sync_probes(struct kprobe *probes)
{
	struct kprobe *ptrs[2] = { &probes[0], &probes[1] };

	unregister_kprobes(ptrs, 2);
}

static void iommu_free_invalidates_before_pages_go(struct kunit *test)
{
	struct kprobe probes[2] = {
		{ .pre_handler = iotlb_sync_hit,
		  .post_handler = kprobe_not_optimized },
		{ .pre_handler = iotlb_sync_hit,
		  .post_handler = kprobe_not_optimized },
	};
	struct page *pages[HELD_PAGES];
	struct sg_page_iter piter;
	struct iommu_domain *domain;
	unsigned int n, released;
	struct sg_table *sgt;
	unsigned int early;
	struct device *dev;
	int waited;

	require_iommu(test);
	dev = &edu.pdev->dev;
	domain = iommu_get_domain_for_dev(dev);
	if (!IS_ENABLED(CONFIG_KPROBES) ||
	    !IS_ENABLED(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API))
		kunit_skip(test, "needs kprobes and their arguments to see the invalidations");
	if (!register_sync_probes(probes, domain))
		kunit_skip(test, "cannot probe the IOMMU driver's invalidations");
	sgt = dma_alloc_noncontiguous(dev, SZ_64K, DMA_FROM_DEVICE, GFP_KERNEL,
				      0);
	if (!sgt)
		unregister_sync_probes(probes);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	n = 0;
	for_each_sgtable_page(sgt, &piter, 0) {
		pages[n] = sg_page_iter_page(&piter);
		get_page(pages[n++]);
	}
	/* no flush left pending from earlier unmaps to race the free */
	settle();
	atomic_set(&syncs_seen, 0);
	let_go_at_sync = 0;
	sync_pages = pages;
	/* a probe that sees the domain sees the pages too */
	smp_store_release(&sync_domain, domain);
	dma_free_noncontiguous(dev, SZ_64K, sgt, DMA_FROM_DEVICE);
	/* no invalidation yet (lazy mode): no page may be let go either */
	early = pages_let_go(pages);
	/*
	 * Count first: a page let go after a later flush then shows that
	 * flush in syncs_seen, and the count is not used.  The probe counts
	 * the flush before the pages are released (after the flush, through
	 * the queue's lock and work item); this pairs with that.
	 */
	smp_rmb();
	if (atomic_read(&syncs_seen))
		early = 0;
	/* a flush queue flushes within 10 ms, then a work item frees */
	for (waited = 0; waited < 1000; waited += 20) {
		released = pages_let_go(pages);
		if (released == HELD_PAGES)
			break;
		msleep(20);
	}
	WRITE_ONCE(sync_domain, NULL);
	unregister_sync_probes(probes);
	kunit_info(test, "%s mode: %d invalidations, %u of %u pages let go before the first, %u after %d ms\n",
		   domain->type == IOMMU_DOMAIN_DMA_FQ ? "lazy" : "strict",
		   atomic_read(&syncs_seen), let_go_at_sync, HELD_PAGES,
		   released, waited);
	KUNIT_EXPECT_EQ(test, early, 0U);
	KUNIT_EXPECT_GT(test, atomic_read(&syncs_seen), 0);
	KUNIT_EXPECT_EQ(test, let_go_at_sync, 0U);
	KUNIT_EXPECT_EQ(test, released, HELD_PAGES);
	for (n = 0; n < HELD_PAGES; n++)
		put_page(pages[n]);
}

static void iommu_refused_calls_allocate_nothing(struct kunit *test)
{
	require_iommu(test);
	expect_nothing_allocated(test, &edu.pdev->dev);
}

/*
 * A round trip across CPU entries: only single pages are left free (and the
 * reserve's blocks, which cannot merge), so no two pages of the source are
 * physically contiguous; edu copies 2 KiB across each of its first entry
 * boundaries into its memory and from there into a second buffer.
 */
static void iommu_round_trip_across_entries(struct kunit *test)
{
	struct sg_table *src = NULL, *dst = NULL;
	size_t size = SZ_64K, end = 0, offs[4];
	u8 *s = NULL, *d = NULL;
	struct scatterlist *sg;
	struct device *dev;
	int i, n = 0;
	LIST_HEAD(held);

	require_iommu(test);
	dev = &edu.pdev->dev;
	fragment_memory(&held);
	src = dma_alloc_noncontiguous(dev, size, DMA_TO_DEVICE, GFP_KERNEL,
				      DMA_ATTR_ALLOC_SINGLE_PAGES);
	dst = dma_alloc_noncontiguous(dev, size, DMA_FROM_DEVICE, GFP_KERNEL,
				      0);
	unfragment_memory(&held);
	if (src && dst) {
		s = dma_vmap_noncontiguous(dev, size, src);
		d = dma_vmap_noncontiguous(dev, size, dst);
	}
	if (s && d) {
		KUNIT_EXPECT_GT(test, src->orig_nents, 1U);
		fill_pattern(s, size, 7);
		dma_sync_sgtable_for_device(dev, src, DMA_TO_DEVICE);
		dma_sync_sgtable_for_device(dev, dst, DMA_FROM_DEVICE);
		for_each_sgtable_sg(src, sg, i) {
			end += sg->length;
			if (end >= size || n == ARRAY_SIZE(offs))
				break;
			offs[n] = end - EDU_XFER / 2;
			KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(src->sgl) +
						      offs[n], 0, EDU_XFER, false), 0);
			KUNIT_EXPECT_EQ(test, edu_dma(&edu, sg_dma_address(dst->sgl) +
						      offs[n], 0, EDU_XFER, true), 0);
			n++;
		}
		/* a hung engine may still write: leave the buffers */
		KUNIT_ASSERT_FALSE(test, edu.stuck);
		dma_sync_sgtable_for_cpu(dev, dst, DMA_FROM_DEVICE);
		invalidate_kernel_vmap_range(d, size);
		for (i = 0; i < n; i++)
			KUNIT_EXPECT_EQ_MSG(test, memcmp(s + offs[i], d + offs[i],
							 EDU_XFER), 0,
					    "transfer at offset %zu", offs[i]);
		kunit_info(test, "%d transfers across the boundaries of %u CPU entries\n",
			   n, src->orig_nents);
	}
	KUNIT_EXPECT_NOT_NULL(test, s);
	KUNIT_EXPECT_NOT_NULL(test, d);
	if (d)
		dma_vunmap_noncontiguous(dev, d);
	if (s)
		dma_vunmap_noncontiguous(dev, s);
	if (dst)
		dma_free_noncontiguous(dev, size, dst, DMA_FROM_DEVICE);
	if (src)
		dma_free_noncontiguous(dev, size, src, DMA_TO_DEVICE);
}

/*
 * Entries are maximal: physically contiguous pages share one entry, so no
 * entry starts where the one before it ends.
 */
static void iommu_contiguous_pages_share_an_entry(struct kunit *test)
{
	struct scatterlist *sg, *prev = NULL;
	struct sg_table *sgt;
	struct device *dev;
	int i;

	require_iommu(test);
	dev = &edu.pdev->dev;
	sgt = dma_alloc_noncontiguous(dev, SZ_1M, DMA_BIDIRECTIONAL,
				      GFP_KERNEL, DMA_ATTR_ALLOC_SINGLE_PAGES);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	for_each_sgtable_sg(sgt, sg, i) {
		if (prev)
			KUNIT_EXPECT_NE(test, sg_phys(sg),
					sg_phys(prev) + prev->length);
		prev = sg;
	}
	kunit_info(test, "1 MiB of single pages in %u CPU entries\n",
		   sgt->orig_nents);
	dma_free_noncontiguous(dev, SZ_1M, sgt, DMA_BIDIRECTIONAL);
}

/*
 * Pages given back dirty must come back zeroed to the next allocation.  A
 * flush queue gives them back within 10 ms: wait for it between rounds, so
 * that the second round may get the first one's pages.
 */
static void iommu_reused_pages_are_zeroed(struct kunit *test)
{
	size_t size = SZ_4M;
	struct sg_table *sgt;
	struct device *dev;
	void *vaddr;
	int round;

	require_iommu(test);
	dev = &edu.pdev->dev;
	for (round = 0; round < 2; round++) {
		sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
					      GFP_KERNEL, 0);
		KUNIT_ASSERT_NOT_NULL(test, sgt);
		vaddr = dma_vmap_noncontiguous(dev, size, sgt);
		KUNIT_EXPECT_NOT_NULL(test, vaddr);
		if (vaddr) {
			KUNIT_EXPECT_TRUE(test, buffer_is_zero(vaddr, size));
			memset(vaddr, 0x5a, size);
			dma_vunmap_noncontiguous(dev, vaddr);
		}
		dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
		msleep(50);
	}
}

static struct kunit_case iommu_cases[] = {
	KUNIT_CASE(iommu_fragmented_memory_gives_many_cpu_entries),
	KUNIT_CASE(iommu_single_pages_attr_allocates_single_pages),
	KUNIT_CASE(iommu_only_page_size_orders),
	KUNIT_CASE(iommu_contiguous_pages_share_an_entry),
	KUNIT_CASE(iommu_reused_pages_are_zeroed),
	KUNIT_CASE(iommu_chunks_largest_first_and_aligned),
	KUNIT_CASE(iommu_bookkeeping_is_the_table_alone),
	KUNIT_CASE(iommu_free_returns_every_page),
	KUNIT_CASE(iommu_refused_calls_allocate_nothing),
	KUNIT_CASE(iommu_allowed_directions_work),
	KUNIT_CASE(iommu_running_out_part_way_fails_quietly),
	KUNIT_CASE(iommu_pages_from_device_node),
	KUNIT_CASE(iommu_free_invalidates_before_pages_go),
	KUNIT_CASE(iommu_round_trip_across_entries),
	{}
};

static struct kunit_suite iommu_suite = {
	.name = "dma_noncontig_iommu_memory",
	.suite_init = invasive_suite_init,
	.suite_exit = devices_exit,
	.test_cases = iommu_cases,
};

/*
 * A refusal may come from any context, hard interrupts included: a driver
 * may get its gfp wrong in an interrupt handler.  The same check refuses a
 * call in process context, with interrupts on, and then one in an hrtimer's
 * hard interrupt; under lockdep, any lock the refusal took would be reported
 * as taken both with interrupts on and in hard interrupt context.  The
 * kernel's suite has used each check's one warning already, so neither
 * call prints: what this case shows is that refusing takes no lock.
 */
struct hardirq_call {
	struct hrtimer timer;
	struct device *dev;
	struct sg_table *sgt;
	bool in_hardirq;
	struct completion done;
};

static enum hrtimer_restart refuse_in_hardirq(struct hrtimer *timer)
{
	struct hardirq_call *call = container_of(timer, struct hardirq_call,
						 timer);

	call->in_hardirq = in_hardirq();
	call->sgt = dma_alloc_noncontiguous(call->dev, 0, DMA_TO_DEVICE,
					    GFP_ATOMIC, 0);
	complete(&call->done);
	return HRTIMER_NORESTART;
}

static void args_refused_in_hardirq(struct kunit *test)
{
	struct hardirq_call call = { .dev = &test_pdev->dev };
	struct sg_table *sgt;
	unsigned long done;

	sgt = dma_alloc_noncontiguous(call.dev, 0, DMA_TO_DEVICE, GFP_KERNEL,
				      0);
	KUNIT_EXPECT_NULL(test, sgt);

	init_completion(&call.done);
	hrtimer_init_on_stack(&call.timer, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_HARD);
	call.timer.function = refuse_in_hardirq;
	hrtimer_start(&call.timer, ns_to_ktime(100 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	done = wait_for_completion_timeout(&call.done, HZ);
	hrtimer_cancel(&call.timer);
	destroy_hrtimer_on_stack(&call.timer);
	KUNIT_ASSERT_NE_MSG(test, done, 0UL, "the hrtimer never ran");
	KUNIT_EXPECT_TRUE(test, call.in_hardirq);
	KUNIT_EXPECT_NULL(test, call.sgt);
}

/*
 * DMA-API debug's error count: the data behind its debugfs file, which
 * kernel_read() cannot read (no read_iter); -1 without DMA-API debug.
 */
static long dma_api_errors(void)
{
	struct dentry *dir = debugfs_lookup("dma-api", NULL), *file = NULL;
	long count = -1;

	if (!IS_ERR_OR_NULL(dir))
		file = debugfs_lookup("error_count", dir);
	if (!IS_ERR_OR_NULL(file))
		count = READ_ONCE(*(u32 *)d_inode(file)->i_private);
	if (!IS_ERR_OR_NULL(file))
		dput(file);
	if (!IS_ERR_OR_NULL(dir))
		dput(dir);
	return count;
}

/*
 * Free a table that did not come from dma_alloc_noncontiguous(): DMA-API
 * debug reports it.  The table is built like a fallback allocation, so the
 * free that follows the report is still correct.
 */
static void debug_reports_free_of_foreign_table(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	long errors = dma_api_errors();
	struct sg_table *sgt;
	struct page *page;

	if (errors < 0)
		kunit_skip(test, "needs DMA-API debug and debugfs");
	page = alloc_page(GFP_KERNEL | __GFP_DMA32);
	KUNIT_ASSERT_NOT_NULL(test, page);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt || sg_alloc_table(sgt, 1, GFP_KERNEL)) {
		kfree(sgt);
		__free_page(page);
		KUNIT_FAIL(test, "out of memory");
		return;
	}
	sg_set_page(sgt->sgl, page, PAGE_SIZE, 0);
	sg_dma_address(sgt->sgl) = phys_to_dma(dev, page_to_phys(page));
	sg_dma_len(sgt->sgl) = PAGE_SIZE;
	dma_free_noncontiguous(dev, PAGE_SIZE, sgt, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, dma_api_errors(), errors + 1);
}

/* A device nobody gave a DMA mask cannot be served. */
static void args_device_without_mask_is_refused(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	u64 mask = dev->coherent_dma_mask;
	struct sg_table *sgt;

	dev->coherent_dma_mask = 0;
	sgt = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_TO_DEVICE,
				      GFP_KERNEL, 0);
	dev->coherent_dma_mask = mask;
	KUNIT_EXPECT_NULL(test, sgt);
	if (sgt)
		dma_free_noncontiguous(dev, PAGE_SIZE, sgt, DMA_TO_DEVICE);
}

/* A sync in another direction than the buffer's is reported. */
static void debug_reports_sync_with_wrong_direction(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	long errors = dma_api_errors();
	struct sg_table *sgt;

	if (errors < 0)
		kunit_skip(test, "needs DMA-API debug and debugfs");

	sgt = dma_alloc_noncontiguous(dev, (16 * PAGE_SIZE), DMA_FROM_DEVICE,
				      GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_api_errors(), errors + 1);
	dma_free_noncontiguous(dev, (16 * PAGE_SIZE), sgt, DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_api_errors(), errors + 1);
}

static struct kunit_case misuse_cases[] = {
	KUNIT_CASE(args_device_without_mask_is_refused),
	KUNIT_CASE(args_refused_in_hardirq),
	KUNIT_CASE(debug_reports_free_of_foreign_table),
	KUNIT_CASE(debug_reports_sync_with_wrong_direction),
	{}
};

static struct kunit_suite misuse_suite = {
	.name = "dma_noncontig_misuse",
	.suite_init = invasive_suite_init,
	.suite_exit = devices_exit,
	.test_cases = misuse_cases,
};

struct stress {
	struct device *dev;
	bool edu;		/* the device is edu: round-trip through it */
	atomic_t started, rounds, transfers, errors;
};

static void stress_init(struct stress *st, struct device *dev)
{
	st->dev = dev;
	st->edu = edu.pdev && dev == &edu.pdev->dev;
	atomic_set(&st->started, 0);
	atomic_set(&st->transfers, 0);
	atomic_set(&st->rounds, 0);
	atomic_set(&st->errors, 0);
}

/*
 * What the CPU wrote at the start of the buffer goes out through edu and
 * comes back at its middle: a check of data the device wrote.  edu has one
 * DMA engine and each transfer takes about 100 ms of QEMU's virtual time,
 * so only the first thread does this, while the others load the allocator.
 */
static bool stress_edu_round_trip(struct stress *st, struct sg_table *sgt,
				  u8 *vaddr, size_t size, unsigned int i)
{
	dma_addr_t dma = sg_dma_address(sgt->sgl);
	size_t len = min_t(size_t, size / 2, EDU_XFER);
	bool ok;

	fill_pattern(vaddr, len, i);
	flush_kernel_vmap_range(vaddr, size);
	dma_sync_sgtable_for_device(st->dev, sgt, DMA_BIDIRECTIONAL);
	ok = !edu_dma(&edu, dma, 0, len, false) &&
	     !edu_dma(&edu, dma + size / 2, 0, len, true);
	dma_sync_sgtable_for_cpu(st->dev, sgt, DMA_BIDIRECTIONAL);
	invalidate_kernel_vmap_range(vaddr, size);
	return ok && !memcmp(vaddr, vaddr + size / 2, len);
}

/*
 * Allocate, map, check the zeroes, sync, round-trip through edu (the first
 * thread, where the device is edu), and free, in a loop until stopped.
 */
static int stress_thread(void *data)
{
	static const size_t sizes[] = { SZ_4K, SZ_64K + SZ_4K, SZ_256K };
	struct stress *st = data;
	bool use_edu = st->edu && atomic_inc_return(&st->started) == 1;
	unsigned int i = 0;

	while (!kthread_should_stop()) {
		size_t size = sizes[i % ARRAY_SIZE(sizes)];
		struct sg_table *sgt;
		u8 *vaddr;

		sgt = dma_alloc_noncontiguous(st->dev, size, DMA_BIDIRECTIONAL,
					      GFP_KERNEL, i & 4 ?
					      DMA_ATTR_ALLOC_SINGLE_PAGES : 0);
		vaddr = sgt ? dma_vmap_noncontiguous(st->dev, size, sgt) : NULL;
		if (vaddr) {
			if (!buffer_is_zero(vaddr, size))
				atomic_inc(&st->errors);
			if (!use_edu) {
				dma_sync_sgtable_for_device(st->dev, sgt,
							    DMA_BIDIRECTIONAL);
				dma_sync_sgtable_for_cpu(st->dev, sgt,
							 DMA_BIDIRECTIONAL);
			} else if (stress_edu_round_trip(st, sgt, vaddr, size, i)) {
				atomic_inc(&st->transfers);
			} else {
				atomic_inc(&st->errors);
			}
			dma_vunmap_noncontiguous(st->dev, vaddr);
		} else {
			atomic_inc(&st->errors);
		}
		if (sgt)
			dma_free_noncontiguous(st->dev, size, sgt,
					       DMA_BIDIRECTIONAL);
		atomic_inc(&st->rounds);
		i++;
		cond_resched();
	}
	return 0;
}

/* Run two threads per CPU for @ms; returns how many were started. */
static unsigned int run_stress(struct stress *st, unsigned int ms)
{
	struct task_struct *tasks[16];
	unsigned int n, i;

	n = min_t(unsigned int, 2 * num_online_cpus(), ARRAY_SIZE(tasks));
	for (i = 0; i < n; i++) {
		tasks[i] = kthread_run(stress_thread, st, "noncontig-%u", i);
		if (IS_ERR(tasks[i]))
			break;
	}
	n = i;
	msleep(ms);
	for (i = 0; i < n; i++)
		kthread_stop(tasks[i]);
	return n;
}

#define STRESS_MS		1000

/*
 * A probe hit is missed when a CPU takes it while one of its threads is in
 * a probe handler: optimized and ftrace-based kprobes run handlers with
 * interrupts on, and the flush queue's timer frees a batch of IOVA ranges
 * from a softirq.  A run with a missed hit has no exact IOVA count; it is
 * discarded and run again, at most this many times in all.
 */
#define STRESS_TRIES		3

/*
 * Two threads per CPU for a second: nothing fails and nothing is lost, pages
 * nor IOVA ranges.  An unmeasured run of the same length first fills the
 * caches that legitimately stay (per-CPU IOVA caches, vmap page tables).
 * The page limit is below what one page leaked per round would lose, and
 * the run must have done enough rounds for that to hold; IOVA ranges are
 * counted exactly.
 */
static void stress_concurrent_users(struct kunit *test, struct device *dev)
{
	long slack = 64L;
	bool iommu = dma_domain_translates(dev);
	unsigned long missed = 0;
	struct stress warm, st;
	long lost, ranges;
	unsigned int n;
	int rounds, try;

	stress_init(&warm, dev);
	run_stress(&warm, STRESS_MS);
	KUNIT_EXPECT_EQ(test, atomic_read(&warm.errors), 0);
	if (iommu)
		KUNIT_ASSERT_EQ(test, iova_count_start(false), 0);
	for (try = 1; try <= STRESS_TRIES; try++) {
		stress_init(&st, dev);
		missed = iommu ? iova_count_missed() : 0;
		lost = -settled_pages_in_use();
		ranges = iova_count_outstanding();
		n = run_stress(&st, STRESS_MS);
		lost += settled_pages_in_use();
		ranges = iova_count_outstanding() - ranges;
		missed = iommu ? iova_count_missed() - missed : 0;
		if (!missed)
			break;
		KUNIT_EXPECT_EQ(test, atomic_read(&st.errors), 0);
		kunit_info(test, "run %d discarded: %lu probe hits missed\n",
			   try, missed);
	}
	if (iommu)
		iova_count_stop();
	rounds = atomic_read(&st.rounds);
	KUNIT_EXPECT_EQ(test, n, min_t(unsigned int, 2 * num_online_cpus(), 16));
	kunit_info(test, "%u threads, %d rounds, %d edu round trips, %d errors, %ld pages not back\n",
		   n, rounds, atomic_read(&st.transfers),
		   atomic_read(&st.errors), lost);
	KUNIT_EXPECT_EQ(test, atomic_read(&st.errors), 0);
	if (st.edu)
		KUNIT_EXPECT_GT(test, atomic_read(&st.transfers), 0);
	KUNIT_EXPECT_GT(test, rounds, (int)slack);
	KUNIT_EXPECT_LT(test, lost, slack);
	if (!iommu)
		return;
	kunit_info(test, "%ld IOVA ranges not given back, %lu probe hits missed\n",
		   ranges, missed);
	KUNIT_EXPECT_EQ(test, ranges, 0L);
	KUNIT_EXPECT_EQ(test, missed, 0UL);
}

static void stress_concurrent_users_on_fallback(struct kunit *test)
{
	stress_concurrent_users(test, &test_pdev->dev);
}

static void stress_concurrent_users_behind_iommu(struct kunit *test)
{
	require_iommu(test);
	stress_concurrent_users(test, &edu.pdev->dev);
}

static struct kunit_case stress_cases[] = {
	KUNIT_CASE(stress_concurrent_users_on_fallback),
	KUNIT_CASE(stress_concurrent_users_behind_iommu),
	{}
};

static struct kunit_suite stress_suite = {
	.name = "dma_noncontig_stress",
	.suite_init = invasive_suite_init,
	.suite_exit = devices_exit,
	.test_cases = stress_cases,
};

kunit_test_suites(&zone_suite, &direct_suite, &iommu_suite, &misuse_suite,
		  &stress_suite);

MODULE_DESCRIPTION("The harness's invasive tests of noncontiguous DMA allocations");
MODULE_LICENSE("GPL");
