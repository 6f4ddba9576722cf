/* A hash of all of guest RAM, kept current from the pages written.
 *
 * The hash is a sum over every page P of H(P) = XXH3(contents) * (2P + 1)
 * (mod 2^64): a change of one page changes it by that page's difference
 * alone, so it is brought up to date from the pages written since the last
 * commit, and a page counted as written but unchanged adds nothing.  That
 * is what landmarks need (vmm/landmark.h): KVM's dirty log over-counts the
 * pages written (a writable shadow PTE made for a read is logged as a
 * write, and when shadow PTEs are remade depends on the host), so a hash
 * over "the pages logged" depends on the host, while this one depends on
 * the contents alone.  The odd multiplier makes the page's place count:
 * two pages that swap contents change the sum.
 *
 * Cost: 8 bytes per page; a peek or a commit hashes each page given (~4 KiB
 * at XXH3 speed) and nothing else.  Starts as the hash of all-zero RAM, so
 * the first update is given every page (a tracker user that starts with
 * every page dirty). */
#ifndef RRVM_VMM_MEMHASH_H
#define RRVM_VMM_MEMHASH_H

#include <stdint.h>

#define MEMHASH_PAGE 4096u

struct memhash {
	uint64_t *page; /* H(P) as of the last commit */
	uint64_t sum;   /* the sum of page[] */
	uint64_t npages;
};

/* For NPAGES pages of zeros.  0 or -ENOMEM. */
int memhash_init(struct memhash *h, uint64_t npages);
void memhash_free(struct memhash *h);

/* The hash of RAM at BASE, where only the pages set in the bitmap WRITTEN
 * (one bit a page, NPAGES bits) may have changed since the last commit. */
uint64_t memhash_peek(const struct memhash *h, const uint8_t *base, const uint64_t *written);

/* The same, and makes it the state further peeks start from. */
uint64_t memhash_commit(struct memhash *h, const uint8_t *base, const uint64_t *written);

#endif
