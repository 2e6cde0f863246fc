// SPDX-License-Identifier: GPL-2.0
/*
 * vivid-capture: capture frames from vivid (loaded with allocators=1, so its
 * queues use videobuf2-dma-contig, and cache_hints=1, so user space may ask
 * for non-coherent buffers) twice: once with V4L2_MEMORY_FLAG_NON_COHERENT,
 * which makes videobuf2-dma-contig allocate every buffer with
 * dma_alloc_noncontiguous(), fill it through dma_vmap_noncontiguous() and
 * map it to us with dma_mmap_noncontiguous(), and once without the flag
 * (dma_alloc_attrs(), the reference).  vivid draws a still test pattern
 * (colour bars, no moving parts, the on-screen text turned off), so every
 * frame of both runs must be the same bytes; a vmap or an mmap of the wrong
 * pages, or a missing sync, shows as a frame that differs.
 *
 * Prints "noncontig-callers: vivid ..." lines for judge-callers.py and exits
 * 0 only when every check passed.  Built static by callers-run.sh.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/videodev2.h>

#define NBUFS	3
#define FRAMES	8
/* vivid's "OSD Text Mode" control (vivid-ctrls.c); menu item 2 is "None" */
#define VIVID_CID_OSD_TEXT_MODE	(0x00f00000 | 0xf000 | 1)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("noncontig-callers: vivid ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		say("%s failed: %s", what, strerror(errno));
	return ret;
}

/* The first /dev/videoN that is vivid's video capture node. */
static int open_vivid(void)
{
	struct v4l2_capability cap;
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE)) {
			say("capture node %s", path);
			return fd;
		}
		close(fd);
	}
	say("no vivid capture node");
	return -1;
}

/*
 * Capture FRAMES frames into NBUFS mmap buffers, allocated non-coherent or
 * not, and check that each equals @ref (or becomes @ref, for the first).
 * Returns the number of frames that differed, or -1 on an error.
 */
static int capture(int fd, int noncoherent, unsigned char *ref, size_t size)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	const char *kind = noncoherent ? "non-coherent" : "coherent";
	struct v4l2_requestbuffers req;
	struct v4l2_buffer buf;
	void *map[NBUFS] = { NULL };
	size_t len[NBUFS] = { 0 };
	int i, bad = 0, ret = -1;

	memset(&req, 0, sizeof(req));
	req.count = NBUFS;
	req.type = type;
	req.memory = V4L2_MEMORY_MMAP;
	req.flags = noncoherent ? V4L2_MEMORY_FLAG_NON_COHERENT : 0;
	if (xioctl(fd, VIDIOC_REQBUFS, &req, "REQBUFS"))
		return -1;
	/* the flag comes back only when the queue honours it */
	if (noncoherent && !(req.flags & V4L2_MEMORY_FLAG_NON_COHERENT)) {
		say("the queue refused non-coherent buffers (caps 0x%x)",
		    req.capabilities);
		goto out_free;
	}
	if (req.count != NBUFS) {
		say("%u buffers instead of %d", req.count, NBUFS);
		goto out_free;
	}
	for (i = 0; i < NBUFS; i++) {
		memset(&buf, 0, sizeof(buf));
		buf.type = type;
		buf.memory = V4L2_MEMORY_MMAP;
		buf.index = i;
		if (xioctl(fd, VIDIOC_QUERYBUF, &buf, "QUERYBUF"))
			goto out_unmap;
		len[i] = buf.length;
		map[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, buf.m.offset);
		if (map[i] == MAP_FAILED) {
			say("mmap failed: %s", strerror(errno));
			map[i] = NULL;
			goto out_unmap;
		}
		/* a stale pattern must not pass for the device's */
		memset(map[i], 0x5a, len[i]);
		if (xioctl(fd, VIDIOC_QBUF, &buf, "QBUF"))
			goto out_unmap;
	}
	if (xioctl(fd, VIDIOC_STREAMON, &type, "STREAMON"))
		goto out_unmap;
	for (i = 0; i < FRAMES; i++) {
		memset(&buf, 0, sizeof(buf));
		buf.type = type;
		buf.memory = V4L2_MEMORY_MMAP;
		if (xioctl(fd, VIDIOC_DQBUF, &buf, "DQBUF"))
			goto out_streamoff;
		if (buf.bytesused != size || buf.index >= NBUFS) {
			say("frame %d: %u bytes in buffer %u, expected %zu",
			    i, buf.bytesused, buf.index, size);
			goto out_streamoff;
		}
		if (!ref[size]) {
			memcpy(ref, map[buf.index], size);
			ref[size] = 1;
		} else if (memcmp(ref, map[buf.index], size)) {
			bad++;
		}
		memset(map[buf.index], 0x5a, len[buf.index]);
		if (xioctl(fd, VIDIOC_QBUF, &buf, "QBUF"))
			goto out_streamoff;
	}
	say("%s: %d frames, %d differ from the first coherent frame",
	    kind, FRAMES, bad);
	ret = bad;
out_streamoff:
	xioctl(fd, VIDIOC_STREAMOFF, &type, "STREAMOFF");
out_unmap:
	for (i = 0; i < NBUFS; i++)
		if (map[i])
			munmap(map[i], len[i]);
out_free:
	req.count = 0;
	req.flags = 0;
	xioctl(fd, VIDIOC_REQBUFS, &req, "REQBUFS 0");
	return ret;
}

/* A frame of one byte value is a blank, not a test pattern. */
static int is_pattern(const unsigned char *p, size_t size)
{
	size_t i;

	for (i = 1; i < size; i++)
		if (p[i] != p[0])
			return 1;
	return 0;
}

int main(void)
{
	struct v4l2_control osd = { VIVID_CID_OSD_TEXT_MODE, 2 };
	struct v4l2_format fmt;
	unsigned char *ref;
	size_t size;
	int fd, coh, noncoh;

	fd = open_vivid();
	if (fd < 0)
		return 1;
	if (xioctl(fd, VIDIOC_S_CTRL, &osd, "S_CTRL OSD Text Mode"))
		return 1;
	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (xioctl(fd, VIDIOC_G_FMT, &fmt, "G_FMT"))
		return 1;
	size = fmt.fmt.pix.sizeimage;
	say("format %ux%u, %zu bytes a frame", fmt.fmt.pix.width,
	    fmt.fmt.pix.height, size);
	/* the byte after the frame says whether ref holds one yet */
	ref = calloc(1, size + 1);
	if (!ref)
		return 1;
	coh = capture(fd, 0, ref, size);
	noncoh = capture(fd, 1, ref, size);
	if (coh || noncoh || !is_pattern(ref, size)) {
		say("FAIL (coherent %d, non-coherent %d, pattern %d)",
		    coh, noncoh, is_pattern(ref, size));
		return 1;
	}
	say("frames intact");
	return 0;
}
