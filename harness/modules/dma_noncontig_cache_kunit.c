// SPDX-License-Identifier: GPL-2.0
/*
 * Cache maintenance of noncontiguous buffers for non-coherent devices,
 * counted with kprobes on the architecture's arch_sync_dma_for_device()
 * and arch_sync_dma_for_cpu(): every CPU entry maintained once at
 * allocation and at each sync, also for an untrusted device, and the data
 * still round-tripping through edu marked non-coherent.  A harness module,
 * as it probes the architecture and changes edu's coherence; loaded by the
 * KUnit boots, and on its own by the bisect's boot of the first commit that
 * makes dma-iommu's methods reachable.
 */

#include <kunit/test.h>
#include <linux/dma-map-ops.h>
#include <linux/module.h>
#include <linux/spinlock.h>

#include "dma_noncontig_devices.h"

#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) && \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) && defined(CONFIG_KPROBES) && \
	defined(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API)

/*
 * What the architecture was asked to maintain: the arguments of every call
 * of arch_sync_dma_for_device() (log 0) or arch_sync_dma_for_cpu() (log 1)
 * while recording is on.  Other devices may sync meanwhile; the checks look
 * only at calls that name the buffer's pages.
 */
#define SYNC_LOG_MAX		128

struct sync_call {
	phys_addr_t phys;
	size_t size;
};

struct sync_log {
	unsigned int n, dropped;
	struct sync_call calls[SYNC_LOG_MAX];
};

static DEFINE_SPINLOCK(sync_lock);	/* protects sync_logs, sync_on */
static struct sync_log sync_logs[2];
static bool sync_on;
static struct device *edu_dev;		/* edu, whose flags a test changes */
static bool edu_was_coherent;

static void sync_record(struct sync_log *log, struct pt_regs *regs)
{
	unsigned long flags;

	spin_lock_irqsave(&sync_lock, flags);
	if (sync_on && log->n < SYNC_LOG_MAX) {
		log->calls[log->n].phys = regs_get_kernel_argument(regs, 0);
		log->calls[log->n].size = regs_get_kernel_argument(regs, 1);
		log->n++;
	} else if (sync_on) {
		log->dropped++;
	}
	spin_unlock_irqrestore(&sync_lock, flags);
}

static int sync_for_device_hit(struct kprobe *kp, struct pt_regs *regs)
{
	sync_record(&sync_logs[0], regs);
	return 0;
}

static int sync_for_cpu_hit(struct kprobe *kp, struct pt_regs *regs)
{
	sync_record(&sync_logs[1], regs);
	return 0;
}

static struct kprobe sync_probes[] = {
	{ .symbol_name = "arch_sync_dma_for_device",
	  .pre_handler = sync_for_device_hit },
	{ .symbol_name = "arch_sync_dma_for_cpu",
	  .pre_handler = sync_for_cpu_hit },
};

static void sync_start(void)
{
	spin_lock_irq(&sync_lock);
	memset(sync_logs, 0, sizeof(sync_logs));
	sync_on = true;
	spin_unlock_irq(&sync_lock);
}

static void sync_stop(void)
{
	spin_lock_irq(&sync_lock);
	sync_on = false;
	spin_unlock_irq(&sync_lock);
}

/*
 * Since sync_start(), every CPU entry of @sgt was maintained exactly once,
 * whole, in the direction of log @which (0: for the device, 1: for the CPU).
 */
static void expect_entries_maintained(struct kunit *test, struct sg_table *sgt,
				      int which, const char *when)
{
	const struct sync_log *log = &sync_logs[which];
	struct scatterlist *sg;
	unsigned int i, hits, done = 0;
	int j;

	sync_stop();
	KUNIT_EXPECT_EQ(test, log->dropped, 0U);
	for_each_sgtable_sg(sgt, sg, j) {
		for (hits = 0, i = 0; i < log->n; i++)
			hits += log->calls[i].phys == sg_phys(sg) &&
				log->calls[i].size == sg->length;
		KUNIT_EXPECT_EQ_MSG(test, hits, 1U, "%s: CPU entry %d of %u",
				    when, j, sgt->orig_nents);
		done += hits == 1;
	}
	kunit_info(test, "%s: %u of %u CPU entries maintained once\n", when,
		   done, sgt->orig_nents);
}

static int cache_suite_init(struct kunit_suite *suite)
{
	int ret = devices_init(suite);

	if (ret)
		return ret;
	ret = register_kprobe(&sync_probes[0]);
	if (ret)
		goto out_exit;
	ret = register_kprobe(&sync_probes[1]);
	if (ret)
		goto out_unregister;
	return 0;

out_unregister:
	unregister_kprobe(&sync_probes[0]);
out_exit:
	devices_exit(suite);
	return ret;
}

static void cache_suite_exit(struct kunit_suite *suite)
{
	unregister_kprobe(&sync_probes[1]);
	unregister_kprobe(&sync_probes[0]);
	devices_exit(suite);
}

/* Undo what a test changed on edu, even when it stopped at an assertion. */
static void cache_test_exit(struct kunit *test)
{
	sync_stop();
	if (edu_dev) {
		edu_dev->dma_coherent = edu_was_coherent;
		edu.pdev->untrusted = 0;
		edu_dev = NULL;
	}
}

/*
 * Allocation cleans every CPU entry for the device (the zeroes reach memory),
 * a sync for the device cleans each entry again and a sync for the CPU
 * invalidates each one.  Behind an IOMMU the buffer is scattered over single
 * pages first, so that it has several entries, each of which must be
 * maintained on its own: the first is the only one with a DMA address.
 */
static void expect_buffer_maintained(struct kunit *test, struct device *dev,
				     struct sg_table **sgtp, size_t size,
				     unsigned long attrs)
{
	bool iommu = dma_domain_translates(dev);
	struct sg_table *sgt;
	LIST_HEAD(held);

	if (iommu)
		fragment_memory(&held);
	sync_start();
	sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL, GFP_KERNEL,
				      attrs);
	sync_stop();
	unfragment_memory(&held);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	*sgtp = sgt;
	if (iommu)
		KUNIT_ASSERT_GT(test, sgt->orig_nents, 1U);
	expect_entries_maintained(test, sgt, 0, "allocation");
	sync_start();
	dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL);
	expect_entries_maintained(test, sgt, 0, "sync for the device");
	sync_start();
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
	expect_entries_maintained(test, sgt, 1, "sync for the CPU");
}

/* The platform device is non-coherent here: the fallback's one chunk. */
static void cache_fallback_maintained(struct kunit *test)
{
	struct device *dev = &test_pdev->dev;
	struct sg_table *sgt = NULL;

	if (dev_is_dma_coherent(dev))
		kunit_skip(test, "the platform device is cache coherent here");
	expect_buffer_maintained(test, dev, &sgt, SZ_64K, 0);
	dma_free_noncontiguous(dev, SZ_64K, sgt, DMA_BIDIRECTIONAL);
}

/*
 * edu marked non-coherent (and untrusted, for the second parameter): its
 * caches are maintained over every CPU entry, and data written through the
 * kernel mapping goes out through the device and back intact, across the
 * entries, with the vmap alias flushed and invalidated as the API asks.
 */
static void cache_noncoherent_edu_round_trip(struct kunit *test)
{
	bool untrusted = *(const bool *)test->param_value;
	size_t size = SZ_64K, offsets[6], half = SZ_32K;
	struct sg_table *sgt = NULL;
	struct device *dev;
	unsigned int n, i;
	u8 *vaddr;

	require_edu(test);
	dev = &edu.pdev->dev;
	edu_was_coherent = dev->dma_coherent;
	edu_dev = dev;
	dev->dma_coherent = false;
	edu.pdev->untrusted = untrusted;

	expect_buffer_maintained(test, dev, &sgt, size,
				 DMA_ATTR_ALLOC_SINGLE_PAGES);
	vaddr = dma_vmap_noncontiguous(dev, size, sgt);
	KUNIT_ASSERT_NOT_NULL(test, vaddr);

	/* the first half goes out through the device into the second */
	fill_pattern(vaddr, half, 7);
	memset(vaddr + half, 0, half);
	flush_kernel_vmap_range(vaddr, size);
	dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL);
	n = round_trip_offsets(sgt, half, offsets, ARRAY_SIZE(offsets));
	for (i = 0; i < n; i++) {
		dma_addr_t dma = sg_dma_address(sgt->sgl) + offsets[i];

		KUNIT_EXPECT_EQ(test, edu_dma(&edu, dma, 0, EDU_XFER, false), 0);
		KUNIT_EXPECT_EQ(test, edu_dma(&edu, dma + half, 0, EDU_XFER, true), 0);
	}
	sync_start();
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
	expect_entries_maintained(test, sgt, 1, "sync after the transfers");
	invalidate_kernel_vmap_range(vaddr, size);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, memcmp(vaddr + offsets[i],
						 vaddr + half + offsets[i],
						 EDU_XFER), 0,
				    "transfer at offset %zu", offsets[i]);
	kunit_info(test, "%s path, %s: %u CPU entries, %u transfers round-tripped\n",
		   dma_path_name(dev), untrusted ? "untrusted" : "trusted",
		   sgt->orig_nents, n);

	dma_vunmap_noncontiguous(dev, vaddr);
	dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
}

static const bool cache_untrusted[] = { false, true };

static void cache_untrusted_desc(const bool *untrusted, char *desc)
{
	strscpy(desc, *untrusted ? "untrusted" : "trusted",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(cache_untrusted, cache_untrusted, cache_untrusted_desc);

static struct kunit_case cache_cases[] = {
	KUNIT_CASE(cache_fallback_maintained),
	KUNIT_CASE_PARAM(cache_noncoherent_edu_round_trip,
			 cache_untrusted_gen_params),
	{}
};

static struct kunit_suite cache_suite = {
	.name = "dma_noncontig_cache",
	.suite_init = cache_suite_init,
	.suite_exit = cache_suite_exit,
	.exit = cache_test_exit,
	.test_cases = cache_cases,
};

#else

static void cache_maintenance_not_here(struct kunit *test)
{
	kunit_skip(test, "needs DMA cache maintenance, kprobes and argument access");
}

static struct kunit_case cache_cases[] = {
	KUNIT_CASE(cache_maintenance_not_here),
	{}
};

static struct kunit_suite cache_suite = {
	.name = "dma_noncontig_cache",
	.test_cases = cache_cases,
};

#endif


kunit_test_suite(cache_suite);

MODULE_DESCRIPTION("Cache maintenance tests of noncontiguous DMA allocations");
MODULE_LICENSE("GPL");
