// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the KUnit boots (harness/boot.sh).  The built-in suites have
 * run by the time the kernel starts it.  When the initramfs holds the mmap
 * test module (harness/modules/dma_noncontig_mmap_test.c), load it with the
 * dma:dma_alloc_sgt event on and map its misc device from user space at
 * several page offsets, as a program maps a driver's buffer, checking every
 * byte; then print what the event saw (the judge tells the path from it:
 * an IOMMU gathers pages into several CPU entries, the fallback is one
 * chunk, at its physical address unless DMA ops translate it).  DMA-API
 * debug prints only its first
 * error, so at the end read how many it counted in all, print it for the
 * judge and power off.  First of all, load the harness's KUnit modules
 * that the initramfs holds (harness/modules/dma_noncontig_*_kunit.c: their
 * suites run as they load).  Built with the kernel tree's nolibc, for any architecture
 * it has, without a C library:
 *   CC -Os -static -nostdlib -I TREE/tools/include/nolibc -I HEADERS kunit-init.c -lgcc
 * and elsewhere statically against the platform's C library
 * (-DNONCONTIG_LIBC; harness/kunit-initramfs.sh decides).
 */
#ifdef NONCONTIG_LIBC
/* where 6.1's nolibc lacks the architecture (powerpc): a static C library */
#include <fcntl.h>
#include <linux/reboot.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#define my_syscall3(nr, a, b, c)	syscall(nr, a, b, c)
#else
#include "nolibc.h"
#endif

#include <linux/auxvec.h>

#define TAG "noncontig-kunit: "

static void say(const char *what, const char *value)
{
	write(1, TAG, sizeof(TAG) - 1);
	write(1, what, strlen(what));
	write(1, value, strlen(value));
	write(1, "\n", 1);
}

#define MMAP_MODULE	"/dma_noncontig_mmap_test.ko"
#define MMAP_NODE	"/dma-noncontig-mmap"
#define MMAP_PAGES	16	/* the module's buffer */

/* PAGE_SIZE: 4 KiB, 64 KiB on Debian's ppc64el; main() reads it */
static unsigned long mmap_page = 4096;

/*
 * The kernel's page size from the auxiliary vector, which follows the
 * environment's NULL on the initial stack (6.1's nolibc has no
 * getauxval() or getpagesize(); the C library passes the same envp).
 */
static void read_page_size(char **envp)
{
	unsigned long *aux;

	while (*envp)
		envp++;
	for (aux = (unsigned long *)(envp + 1); aux[0]; aux += 2)
		if (aux[0] == AT_PAGESZ)
			mmap_page = aux[1];
}

static long read_number(const char **p)
{
	long n = 0;

	while (**p >= '0' && **p <= '9')
		n = n * 10 + *(*p)++ - '0';
	return n;
}

#define TRACING		"/sys/kernel/debug/tracing/"
#define ALLOC_EVENT	TRACING "events/dma/dma_alloc_sgt/enable"
#define ALLOC_MARK	" dma_alloc_sgt: "

static int write_file(const char *path, const char *s)
{
	ssize_t n = -1;
	int fd;

	fd = open(path, O_WRONLY, 0);
	if (fd >= 0) {
		n = write(fd, s, strlen(s));
		close(fd);
	}
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Say what follows the event's name on each dma_alloc_sgt line. */
static void say_traced_allocs(void)
{
	static char buf[65536];
	size_t len = 0, mark = strlen(ALLOC_MARK);
	char *line, *end, *p;
	int fd, found = 0;
	ssize_t n;

	write_file(ALLOC_EVENT, "0");
	fd = open(TRACING "trace", O_RDONLY, 0);
	if (fd < 0) {
		say("alloc traced: FAIL no trace file", "");
		return;
	}
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	for (line = buf; line < buf + len; line = end + 1) {
		for (end = line; *end && *end != '\n'; end++)
			;
		*end = '\0';
		for (p = line; p + mark <= end; p++) {
			if (!memcmp(p, ALLOC_MARK, mark)) {
				say("alloc traced: ", p + mark);
				found++;
				break;
			}
		}
	}
	if (!found)
		say("alloc traced: none", "");
}

/* Map @pages pages from page @first and check page n holds n + 1. */
static int mmap_check(int fd, int first, int pages)
{
	unsigned char *p;
	unsigned long i;
	int bad = 0;

	p = mmap(NULL, pages * mmap_page, PROT_READ, MAP_SHARED, fd,
		 first * mmap_page);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < pages * mmap_page; i++)
		bad |= p[i] != first + i / mmap_page + 1;
	munmap(p, pages * mmap_page);
	return bad;
}

/* Load the module, make its device node, map it: one line for the judge. */
static void mmap_module(void)
{
	char dev[32];
	const char *p = dev;
	long major, minor;
	ssize_t n;
	int fd;

	fd = open(MMAP_MODULE, O_RDONLY, 0);
	if (fd < 0) {
		say("mmap: no module", "");
		return;
	}
	if (write_file(ALLOC_EVENT, "1"))
		say("alloc traced: FAIL cannot enable dma:dma_alloc_sgt", "");
	n = my_syscall3(__NR_finit_module, fd, "", 0);
	close(fd);
	if (n) {
		say("mmap: FAIL the module did not load", "");
		return;
	}
	fd = open("/sys/class/misc/dma-noncontig-mmap/dev", O_RDONLY, 0);
	n = fd < 0 ? -1 : read(fd, dev, sizeof(dev) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		say("mmap: FAIL no device number in sysfs", "");
		return;
	}
	dev[n] = '\0';
	major = read_number(&p);
	p++;
	minor = read_number(&p);
	if (mknod(MMAP_NODE, S_IFCHR | 0600, (major << 8) | minor) ||
	    (fd = open(MMAP_NODE, O_RDONLY, 0)) < 0) {
		say("mmap: FAIL cannot open the device", "");
		return;
	}
	if (mmap_check(fd, 0, MMAP_PAGES))
		say("mmap: FAIL the whole buffer at offset 0", "");
	else if (mmap_check(fd, 3, MMAP_PAGES - 3))
		say("mmap: FAIL from page 3 to the end", "");
	else if (mmap_check(fd, MMAP_PAGES - 1, 1))
		say("mmap: FAIL the last page alone", "");
	else if (mmap_check(fd, MMAP_PAGES - 1, 2) != -1)
		say("mmap: FAIL a mapping past the end was allowed", "");
	else
		say("mmap: ok offsets 0, 3 and 15, every byte; past the end refused", "");
	close(fd);
}

/*
 * Load a KUnit test module of the harness, if the initramfs has it: its
 * suites run before the call returns.  They bind edu for each suite and let
 * it go after, so they come before the mmap test module, which keeps it
 * (the kernel has no module unloading).
 */
static void test_module(const char *path)
{
	long ret;
	int fd;

	fd = open(path, O_RDONLY, 0);
	if (fd < 0)
		return;
	ret = my_syscall3(__NR_finit_module, fd, "", 0);
	close(fd);
	say(path, ret ? ": FAIL the module did not load" : ": loaded");
}

int main(int argc, char **argv, char **envp)
{
	char buf[32], *count = "unreadable";
	ssize_t n = 0;
	int fd;

	(void)argc;
	(void)argv;
	say("init started", "");
	read_page_size(envp);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		say("cannot mount debugfs", "");
	test_module("/dma_noncontig_invasive_kunit.ko");
	test_module("/dma_noncontig_cache_kunit.ko");
	mmap_module();
	say_traced_allocs();
	fd = open("/sys/kernel/debug/dma-api/error_count", O_RDONLY, 0);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0) {
		buf[n] = '\0';
		if (buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		count = buf;
	}
	say("dma-api errors: ", count);
	reboot(LINUX_REBOOT_CMD_POWER_OFF);
	return 0;
}
