/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOVA ranges handed out and given back, counted system wide by probes on
 * alloc_iova_fast() and free_iova_fast(): the two ends of every IOVA range
 * dma-iommu uses, whether the range comes from the per-CPU caches or the
 * tree and whether it is freed at once or after an IOTLB flush.  Once every
 * buffer of a run is freed and the flush queue has run, a range handed out
 * and not given back is a leak, exactly: no limit to tune, unlike the lowest
 * address handed out, which the IOVA caches and the tree's fragmentation
 * move by megabytes on clean runs.
 *
 * alloc_iova_fast() can fail (under failslab, for one).  Counting its
 * failures takes a return probe, and a probe that hits while another
 * probe's handler runs on the same CPU is missed: free_iova_fast() called
 * from the flush queue's timer during a return probe's handler is lost.
 * So failures are counted only when asked for, by a caller whose IOMMU
 * domain frees at once (strict mode, no flush queue); otherwise every call
 * counts as a range handed out, which is exact when no allocation fails.
 * Either way the count is exact only if no hit was missed.
 */
#ifndef _LIB_TESTS_DMA_NONCONTIG_IOVA_COUNT_H
#define _LIB_TESTS_DMA_NONCONTIG_IOVA_COUNT_H

#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>

static atomic_long_t iova_count_out, iova_count_failed, iova_count_back;
static bool iova_count_failures;

static int iova_count_alloc_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	atomic_long_inc(&iova_count_out);
	return 0;
}

static int iova_count_alloc_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	if (!regs_return_value(regs))
		atomic_long_inc(&iova_count_failed);
	return 0;
}

static int iova_count_alloc_hit(struct kprobe *kp, struct pt_regs *regs)
{
	atomic_long_inc(&iova_count_out);
	return 0;
}

static int iova_count_free_hit(struct kprobe *kp, struct pt_regs *regs)
{
	atomic_long_inc(&iova_count_back);
	return 0;
}

static struct kretprobe iova_count_alloc_ret_probe = {
	.kp.symbol_name	= "alloc_iova_fast",
	.entry_handler	= iova_count_alloc_entry,
	.handler	= iova_count_alloc_ret,
	.maxactive	= 64,
};

static struct kprobe iova_count_probes[] = {
	{ .symbol_name = "alloc_iova_fast", .pre_handler = iova_count_alloc_hit },
	{ .symbol_name = "free_iova_fast", .pre_handler = iova_count_free_hit },
};

static inline int iova_count_start(bool failures)
{
	int ret;

	iova_count_failures = failures;
	/* a probe keeps the address it resolved: clear it to register again */
	iova_count_alloc_ret_probe.kp.addr = NULL;
	iova_count_alloc_ret_probe.kp.flags = 0;
	iova_count_probes[0].addr = NULL;
	iova_count_probes[0].flags = 0;
	iova_count_probes[1].addr = NULL;
	iova_count_probes[1].flags = 0;
	ret = failures ? register_kretprobe(&iova_count_alloc_ret_probe) :
			 register_kprobe(&iova_count_probes[0]);
	if (ret)
		return ret;
	ret = register_kprobe(&iova_count_probes[1]);
	if (ret && failures)
		unregister_kretprobe(&iova_count_alloc_ret_probe);
	else if (ret)
		unregister_kprobe(&iova_count_probes[0]);
	return ret;
}

static inline void iova_count_stop(void)
{
	unregister_kprobe(&iova_count_probes[1]);
	if (iova_count_failures)
		unregister_kretprobe(&iova_count_alloc_ret_probe);
	else
		unregister_kprobe(&iova_count_probes[0]);
}

/* Ranges handed out less ranges given back since iova_count_start(). */
static inline long iova_count_outstanding(void)
{
	return atomic_long_read(&iova_count_out) -
	       atomic_long_read(&iova_count_failed) -
	       atomic_long_read(&iova_count_back);
}

/* Hits the probes missed since they were registered. */
static inline unsigned long iova_count_missed(void)
{
	unsigned long missed = iova_count_probes[1].nmissed;

	if (iova_count_failures)
		return missed + iova_count_alloc_ret_probe.nmissed +
		       iova_count_alloc_ret_probe.kp.nmissed;
	return missed + iova_count_probes[0].nmissed;
}

#endif /* _LIB_TESTS_DMA_NONCONTIG_IOVA_COUNT_H */
