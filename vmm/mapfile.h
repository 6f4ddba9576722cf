/* A whole file mapped read-only: the kernel the machine loads, an ELF file
 * read for its symbols.  One mmap, no copy; the caller unmaps. */
#ifndef RRVM_VMM_MAPFILE_H
#define RRVM_VMM_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

/* Maps PATH, a non-empty regular file: 0 with *BUF and *LEN, or -errno
 * (-EISDIR, -ENOEXEC when empty or not a file) with one line for the user,
 * naming PATH, in MSG. */
int mapfile_open(const char *path, const uint8_t **buf, size_t *len, char *msg, size_t msglen);
/* Unmaps what mapfile_open mapped (BUF may be NULL). */
void mapfile_close(const uint8_t *buf, size_t len);

#endif
