/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pages in use, for leak checks that the rest of the system must not move.
 * NR_FREE_PAGES alone does move: pages on the per-CPU lists are free but
 * not in it, and its per-CPU deltas lag by tens of pages.  So free pages
 * are the zones' counters with their deltas plus the per-CPU lists, and
 * the pages slab holds are taken out of the pages in use, because slab
 * grows and shrinks with every kmalloc() in the system (and keeps objects
 * in KASAN's quarantine): a leaked slab object is kmemleak's to find, a
 * leaked page shows here.  The page allocator's PGALLOC and PGFREE events
 * are no substitute: free_unref_page_list() gives a page back without
 * counting PGFREE when it cannot take the per-CPU lock (from a softirq
 * that interrupted an allocation, as the IOMMU flush queue's timer does).
 */
#ifndef _LIB_TESTS_DMA_NONCONTIG_USAGE_H
#define _LIB_TESTS_DMA_NONCONTIG_USAGE_H

#include <linux/cpumask.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/vmstat.h>

static long usage_node_pages(pg_data_t *pgdat, enum node_stat_item item)
{
	long pages = atomic_long_read(&pgdat->vm_stat[item]);
	int cpu;

	for_each_online_cpu(cpu)
		pages += per_cpu_ptr(pgdat->per_cpu_nodestats,
				     cpu)->vm_node_stat_diff[item];
	return pages;
}

/* Pages slab holds; the counters count whole slab pages, in pages. */
static long usage_slab_pages(void)
{
	long pages = 0;
	int nid;

	for_each_online_node(nid) {
		pages += usage_node_pages(NODE_DATA(nid),
					  NR_SLAB_RECLAIMABLE_B);
		pages += usage_node_pages(NODE_DATA(nid),
					  NR_SLAB_UNRECLAIMABLE_B);
	}
	return pages;
}

/* Free pages, on the buddy lists and on the per-CPU lists. */
static long usage_free_pages(void)
{
	struct zone *zone;
	long pages = 0;
	int nid, z, cpu;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			if (!populated_zone(zone))
				continue;
			pages += zone_page_state_snapshot(zone, NR_FREE_PAGES);
			for_each_online_cpu(cpu)
				pages += per_cpu_ptr(zone->per_cpu_pageset,
						     cpu)->count;
		}
	}
	return pages;
}

/*
 * Pages in use less slab, up to a constant: only differences between two
 * calls mean anything.
 */
static long usage_pages_in_use(void)
{
	return -usage_free_pages() - usage_slab_pages();
}

#endif /* _LIB_TESTS_DMA_NONCONTIG_USAGE_H */
