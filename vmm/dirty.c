#include "vmm/dirty.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/memory.h"

int dirty_init(struct dirty_tracker *d, struct guest_mem *mem, int vm_fd)
{
	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->vm_fd = vm_fd;
	d->npages = mem->size / DIRTY_PAGE;
	d->words = (d->npages + 63) / 64;
	d->scratch = calloc(d->words ? d->words : 1, sizeof(uint64_t));
	if (getenv("RRVM_DIRTY_NOISE") && *getenv("RRVM_DIRTY_NOISE"))
		d->noise = 0x9e3779b97f4a7c15ull;
	return d->scratch ? 0 : -ENOMEM;
}

/* RRVM_DIRTY_NOISE: pages nobody wrote, marked as KVM's log may. */
static void dirty_add_noise(struct dirty_tracker *d)
{
	for (int i = 0; i < 4 && d->npages; i++) {
		d->noise ^= d->noise << 13; /* xorshift64 */
		d->noise ^= d->noise >> 7;
		d->noise ^= d->noise << 17;
		dirty_mark(d, d->noise % d->npages * DIRTY_PAGE, 1);
	}
}

void dirty_free(struct dirty_tracker *d)
{
	for (unsigned i = 0; i < d->nusers; i++)
		free(d->user[i].bits);
	free(d->scratch);
	if (d->mem && d->mem->dirty == d)
		d->mem->dirty = NULL;
	memset(d, 0, sizeof(*d));
}

static void dirty_mark_user(struct dirty_tracker *d, struct dirty_user *u, uint64_t gpa,
			    uint64_t len)
{
	uint64_t end = (gpa + len + DIRTY_PAGE - 1) / DIRTY_PAGE;

	for (uint64_t p = gpa / DIRTY_PAGE; len && p < end && p < d->npages; p++)
		u->bits[p / 64] |= 1ull << (p % 64);
}

void dirty_mark(struct dirty_tracker *d, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; d && i < d->nusers; i++)
		if (d->user[i].bits)
			dirty_mark_user(d, &d->user[i], gpa, len);
}

void dirty_remove_user(struct dirty_tracker *d, int user)
{
	if (user < 0 || (unsigned)user >= d->nusers)
		return;
	free(d->user[user].bits);
	d->user[user].bits = NULL;
	while (d->nusers && !d->user[d->nusers - 1].bits)
		d->nusers--;
}

void dirty_clear(struct dirty_tracker *d, int user)
{
	memset(d->user[user].bits, 0, d->words * sizeof(uint64_t));
}

/* Turns logging on for the writable slots of the current layout.  What
 * KVM did not log is unknown: every user sees all of RAM written. */
static int dirty_enable(struct dirty_tracker *d, bool mark_all)
{
	int r = gmem_set_log_dirty(d->mem, true);

	if (r < 0)
		return r;
	d->mem->dirty = d;
	d->layout_gen = d->mem->layout_gen;
	d->logging = true;
	if (mark_all) {
		struct gmem_slot sl[GMEM_MAX_SLOTS];
		unsigned n = gmem_slots(d->mem, sl);

		dirty_mark(d, 0, d->mem->size);
		/* Drain what the logs already hold (covered by the mark), so
		 * that the next collect starts from here however we got here. */
		for (unsigned i = 0; i < n; i++) {
			struct kvm_dirty_log log = { .slot = sl[i].slot, .dirty_bitmap = d->scratch };

			if (!sl[i].ro)
				ioctl(d->vm_fd, KVM_GET_DIRTY_LOG, &log);
		}
	}
	return 0;
}

int dirty_add_user(struct dirty_tracker *d, bool all_dirty, bool read_only_too)
{
	struct dirty_user *u;
	int r;

	unsigned i = 0;

	while (i < d->nusers && d->user[i].bits)
		i++;
	if (i == DIRTY_MAX_USERS)
		return -ENOSPC;
	if (d->logging && (r = dirty_collect(d)) < 0) /* the others keep their bits */
		return r;
	u = &d->user[i];
	u->bits = calloc(d->words ? d->words : 1, sizeof(uint64_t));
	if (!u->bits)
		return -ENOMEM;
	u->read_only_too = read_only_too;
	if (i == d->nusers)
		d->nusers++;
	if (!d->logging && (r = dirty_enable(d, false)) < 0) {
		dirty_remove_user(d, (int)i);
		return r;
	}
	if (all_dirty)
		dirty_mark_user(d, u, 0, d->mem->size);
	return (int)i;
}

static int dirty_collect_slot(struct dirty_tracker *d, const struct gmem_slot *s)
{
	struct kvm_dirty_log log = { .slot = s->slot, .dirty_bitmap = d->scratch };
	uint64_t words = (s->len / DIRTY_PAGE + 63) / 64, base = s->gpa / DIRTY_PAGE;

	memset(d->scratch, 0, words * sizeof(uint64_t));
	if (ioctl(d->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	for (uint64_t w = 0; w < words; w++)
		for (uint64_t bits = d->scratch[w]; bits; bits &= bits - 1) {
			uint64_t p = base + w * 64 + (uint64_t)__builtin_ctzll(bits);

			for (unsigned i = 0; i < d->nusers; i++)
				if (d->user[i].bits)
					d->user[i].bits[p / 64] |= 1ull << (p % 64);
		}
	return 0;
}

int dirty_collect(struct dirty_tracker *d)
{
	struct gmem_slot sl[GMEM_MAX_SLOTS];
	unsigned n;
	int r = 0;

	if (!d->nusers)
		return 0;
	if (!d->logging || d->layout_gen != d->mem->layout_gen)
		return dirty_enable(d, true);
	n = gmem_slots(d->mem, sl);
	for (unsigned i = 0; i < n && r == 0; i++) {
		if (!sl[i].ro) {
			r = dirty_collect_slot(d, &sl[i]);
			continue;
		}
		for (unsigned u = 0; u < d->nusers; u++)
			if (d->user[u].bits && d->user[u].read_only_too)
				dirty_mark_user(d, &d->user[u], sl[i].gpa, sl[i].len);
	}
	if (r == -ENOENT) /* a slot lost its logging flag behind our back */
		return dirty_enable(d, true);
	if (r == 0 && d->noise)
		dirty_add_noise(d);
	return r;
}

bool dirty_relayout_begin(struct dirty_tracker *d)
{
	return d->logging && d->layout_gen == d->mem->layout_gen && dirty_collect(d) == 0;
}

void dirty_relayout_done(struct dirty_tracker *d)
{
	d->layout_gen = d->mem->layout_gen;
}
