// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the KUnit boots (kunit.sh, arm64.sh).  The built-in suites have
 * run by the time the kernel starts it; DMA-API debug prints only its first
 * error, so read how many it counted in all, print it for the judge and
 * power off.  Built with the kernel tree's nolibc, for any architecture,
 * without a C library:
 *   CC -Os -static -nostdlib -I TREE/tools/include/nolibc -I HEADERS kunit-init.c -lgcc
 */
#include "nolibc.h"

#define TAG "noncontig-kunit: "

static void say(const char *what, const char *value)
{
	write(1, TAG, sizeof(TAG) - 1);
	write(1, what, strlen(what));
	write(1, value, strlen(value));
	write(1, "\n", 1);
}

int main(void)
{
	char buf[32], *count = "unreadable";
	ssize_t n = 0;
	int fd;

	say("init started", "");
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		say("cannot mount debugfs", "");
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
