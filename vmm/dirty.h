/* The one tracker of guest pages written, for everyone who needs to know:
 * checkpoints (pages to copy) and landmarks (pages to hash).  Each user
 * has a bitmap of its own; a collect reads KVM's dirty log once and ORs it
 * into every user's, so that no user steals another's bits (KVM clears its
 * log as it hands it out).
 *
 * KVM logs only the guest's writes (and its own, such as a string IN).
 * The VMM's writes to guest RAM go through dirty_mark: guest_mem does that
 * for gmem_write, the machine for the code and watch writes it applies.
 * A re-layout of the memslots (guest_mem) collects first, so the logs of
 * the slots it deletes are not lost.
 *
 * Cost: a collect is one KVM_GET_DIRTY_LOG per writable slot plus a pass
 * over a bitmap of one bit per page (2 KiB for 64 MiB) per user.
 * Single-threaded, like the machine. */
#ifndef RRVM_VMM_DIRTY_H
#define RRVM_VMM_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define DIRTY_PAGE 4096u
#define DIRTY_MAX_USERS 4

struct dirty_user {
	uint64_t *bits;   /* pages written since the user last cleared them */
	bool read_only_too; /* also mark every read-only range at each collect */
};

struct dirty_tracker {
	struct guest_mem *mem;
	int vm_fd;
	uint64_t npages, words;
	struct dirty_user user[DIRTY_MAX_USERS];
	unsigned nusers;
	uint64_t *scratch;   /* one slot's KVM_GET_DIRTY_LOG */
	unsigned layout_gen; /* the memslot layout logging was enabled on */
	bool logging;
	uint64_t noise;      /* RRVM_DIRTY_NOISE (tests): each collect also
			      * marks 4 pages at random that nobody wrote, as
			      * KVM's log over-counts (vmm/memhash.h) */
};

/* Prepares D for MEM (on the VM VM_FD) without turning logging on. */
int dirty_init(struct dirty_tracker *d, struct guest_mem *mem, int vm_fd);
void dirty_free(struct dirty_tracker *d);

/* Adds a user, turning logging on with the first.  ALL_DIRTY: its bitmap
 * starts with every page marked (what happened before is unknown to it);
 * else empty.  READ_ONLY_TOO: see struct dirty_user.  Returns the user's
 * index or -errno. */
int dirty_add_user(struct dirty_tracker *d, bool all_dirty, bool read_only_too);

/* Drops a user (its slot is reused by the next add). */
void dirty_remove_user(struct dirty_tracker *d, int user);

/* ORs what KVM logged since the last collect into every user's bitmap.  A
 * memslot layout changed behind the tracker's back marks all of RAM. */
int dirty_collect(struct dirty_tracker *d);

/* The VMM wrote LEN bytes at GPA itself: marks them for every user. */
void dirty_mark(struct dirty_tracker *d, uint64_t gpa, uint64_t len);

/* A re-layout is about to delete the slots: collects their logs now.
 * True when nothing is lost, and then dirty_relayout_done takes the new
 * layout (whose slots start with clean logs) as logged. */
bool dirty_relayout_begin(struct dirty_tracker *d);
void dirty_relayout_done(struct dirty_tracker *d);

static inline uint64_t *dirty_bits(struct dirty_tracker *d, int user)
{
	return d->user[user].bits;
}

static inline bool dirty_test(const struct dirty_tracker *d, int user, uint64_t page)
{
	return d->user[user].bits[page / 64] >> (page % 64) & 1;
}

void dirty_clear(struct dirty_tracker *d, int user);

#endif
