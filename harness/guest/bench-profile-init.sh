#!/bin/busybox sh
# /init of the profile boot (bench-profile.sh): bind edu to dma_map_benchmark,
# then for a 4 KiB buffer trace ours (dma_alloc/free_noncontiguous) and the
# mapped floor (dma_map_sgtable/dma_unmap_sg_attrs) with function_graph,
# each limited to the functions named below (set_ftrace_filter: no other
# function pays the tracer), and print each trace between PROF- lines.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/debug/tracing
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ] && edu=$d
done
echo dma_map_benchmark > $edu/driver_override
echo "${edu##*/}" > /sys/bus/pci/drivers_probe
echo 8192 > $T/buffer_size_kb
for mode in api mapped; do
	echo nop > $T/current_tracer
	echo > $T/trace
	case $mode in
	api)
		graph="dma_alloc_noncontiguous dma_free_noncontiguous" flags=
		funcs="$graph iommu_dma_alloc_noncontig iommu_dma_free_noncontig
		       iommu_dma_alloc_iova __alloc_pages dma_noncontig_alloc_table
		       __kmalloc iommu_map_sg __iommu_dma_unmap_pages iommu_unmap_fast
		       dma_noncontig_free_table kfree fq_ring_free
		       iommu_dma_table_pages iommu_dma_chunk_follows iommu_get_dma_domain" ;;
	mapped)
		graph="dma_map_sgtable dma_unmap_sg_attrs" flags=-m
		funcs="$graph __dma_map_sg_attrs iommu_dma_map_sg iommu_dma_alloc_iova
		       iommu_map_sg_atomic iommu_dma_sync_sg_for_device __finalise_sg.isra.0
		       iommu_dma_unmap_sg iommu_dma_sync_sg_for_cpu
		       iommu_unmap_fast fq_ring_free iommu_get_dma_domain" ;;
	esac
	echo "$graph" > $T/set_graph_function
	echo > $T/set_ftrace_filter
	for f in $funcs; do echo $f >> $T/set_ftrace_filter || echo "PROF: no function $f"; done
	echo 0 > $T/max_graph_depth
	echo nofuncgraph-irqs > $T/trace_options
	echo function_graph > $T/current_tracer
	echo 1 > $T/tracing_on
	/dma_map_benchmark -a -t 1 -s 1 -g 1 $flags
	# tracing off before reading: changing the tracer would empty the buffer
	echo 0 > $T/tracing_on
	echo "PROF-BEGIN $mode"
	grep -v "^#" $T/trace | head -c 3000000
	echo "PROF-END $mode"
done
poweroff -f
