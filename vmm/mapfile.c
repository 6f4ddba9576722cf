#include "vmm/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mapfile_open(const char *path, const uint8_t **buf, size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	void *p;

	if (fd < 0) {
		err = -errno;
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -ENOEXEC;
		snprintf(msg, msglen, "%s: %s", path,
			 err == -EISDIR ? "is a directory" : "empty or not a file");
		close(fd);
		return err;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err) {
		snprintf(msg, msglen, "%s: %s", path, strerror(-err));
		return err;
	}
	*buf = p;
	*len = (size_t)st.st_size;
	return 0;
}

void mapfile_close(const uint8_t *buf, size_t len)
{
	if (buf)
		munmap((void *)(uintptr_t)buf, len);
}
