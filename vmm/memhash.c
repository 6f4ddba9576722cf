#include "vmm/memhash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint64_t memhash_page(const uint8_t *base, uint64_t pg)
{
	return XXH3_64bits(base + pg * MEMHASH_PAGE, MEMHASH_PAGE) * (2 * pg + 1);
}

int memhash_init(struct memhash *h, uint64_t npages)
{
	static const uint8_t zero[MEMHASH_PAGE];
	uint64_t z = XXH3_64bits(zero, sizeof(zero));

	h->page = malloc((npages ? npages : 1) * sizeof(*h->page));
	if (!h->page)
		return -ENOMEM;
	h->npages = npages;
	for (uint64_t pg = 0; pg < npages; pg++)
		h->page[pg] = z * (2 * pg + 1);
	h->sum = z * npages * npages; /* the sum of 2P + 1 for P < N is N^2 */
	return 0;
}

void memhash_free(struct memhash *h)
{
	free(h->page);
	memset(h, 0, sizeof(*h));
}

/* The sum with the pages in WRITTEN looked at again; their new values go
 * to NEW_PAGE when given. */
static uint64_t memhash_sum(const struct memhash *h, const uint8_t *base, const uint64_t *written,
			    uint64_t *new_page)
{
	uint64_t sum = h->sum;

	for (uint64_t w = 0; w < (h->npages + 63) / 64; w++)
		for (uint64_t bits = written[w]; bits; bits &= bits - 1) {
			uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(bits), v;

			if (pg >= h->npages)
				break;
			v = memhash_page(base, pg);
			sum += v - h->page[pg];
			if (new_page)
				new_page[pg] = v;
		}
	return sum;
}

uint64_t memhash_peek(const struct memhash *h, const uint8_t *base, const uint64_t *written)
{
	return memhash_sum(h, base, written, NULL);
}

uint64_t memhash_commit(struct memhash *h, const uint8_t *base, const uint64_t *written)
{
	return h->sum = memhash_sum(h, base, written, h->page);
}
