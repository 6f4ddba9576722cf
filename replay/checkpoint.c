#define LOG_MODULE "replay"
#include "replay/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "replay/replayer_int.h"
#include "replay/session_int.h"
#include "util/hostclock.h"
#include "util/log.h"

/* One page of guest RAM, stored once for every checkpoint that holds it. */
struct ckpt_page {
	uint64_t hash;
	uint32_t refs;
	struct ckpt_page *next; /* hash chain */
	uint8_t data[SNAP_PAGE];
};

/* What a session keeps outside the machine and must come back with it. */
struct ckpt_session {
	struct tsc_site *site;
	size_t nsite;
	struct tsc_region *region;
	size_t nregion;
	unsigned undecodable;
	struct tsc_gp_trap gp;
	struct rr_tsc_cache tsc_cache[RR_TSC_CACHE];
};

struct ckpt {
	sync_seq sync;
	struct snap_state cpu;
	struct ckpt_page **pages; /* one per guest page; NULL: all zeros */
	struct ckpt_session sess;
	uint64_t consumed;        /* the replayer's event count after SYNC */
};

/* ---- the page store ---- */

static bool ckpt_zero(const uint8_t *p)
{
	/* All zeros iff the first word is zero and each byte equals the one
	 * eight before it. */
	static const uint8_t z[8];

	return !memcmp(p, z, 8) && !memcmp(p, p + 8, SNAP_PAGE - 8);
}

/* The stored page with P's contents, one reference more; NULL for zeros. */
static struct ckpt_page *ckpt_intern(struct ckpt_store *st, const uint8_t *p)
{
	uint64_t h;
	struct ckpt_page **b, *e;

	if (ckpt_zero(p))
		return NULL;
	h = XXH64(p, SNAP_PAGE, 0);
	b = &st->bucket[h & (st->nbucket - 1)];
	for (e = *b; e; e = e->next)
		if (e->hash == h && !memcmp(e->data, p, SNAP_PAGE)) {
			e->refs++;
			return e;
		}
	e = malloc(sizeof(*e));
	if (!e)
		return (struct ckpt_page *)-1;
	e->hash = h;
	e->refs = 1;
	memcpy(e->data, p, SNAP_PAGE);
	e->next = *b;
	*b = e;
	st->st.pages++;
	st->st.bytes += sizeof(*e);
	return e;
}

static void ckpt_unref(struct ckpt_store *st, struct ckpt_page *e)
{
	struct ckpt_page **b;

	if (!e || --e->refs)
		return;
	for (b = &st->bucket[e->hash & (st->nbucket - 1)]; *b != e; b = &(*b)->next)
		;
	*b = e->next;
	free(e);
	st->st.pages--;
	st->st.bytes -= sizeof(*e);
}

/* ---- session state outside the machine ---- */

static int ckpt_session_save(struct ckpt_session *c, const struct rr_session *s)
{
	c->nsite = s->tsc.n;
	c->nregion = s->tsc.nregion;
	c->undecodable = s->tsc.undecodable;
	c->gp = s->tsc.gp;
	c->site = malloc((c->nsite ? c->nsite : 1) * sizeof(*c->site));
	c->region = malloc((c->nregion ? c->nregion : 1) * sizeof(*c->region));
	if (!c->site || !c->region)
		return -ENOMEM;
	/* memcpy from NULL is undefined even for 0 bytes (no sites at all). */
	if (c->nsite)
		memcpy(c->site, s->tsc.site, c->nsite * sizeof(*c->site));
	if (c->nregion)
		memcpy(c->region, s->tsc.region, c->nregion * sizeof(*c->region));
	memcpy(c->tsc_cache, s->tsc_cache, sizeof(c->tsc_cache));
	return 0;
}

static int ckpt_session_load(const struct ckpt_session *c, struct rr_session *s)
{
	struct tsc_site *site = malloc((c->nsite ? c->nsite : 1) * sizeof(*site));
	struct tsc_region *region = malloc((c->nregion ? c->nregion : 1) * sizeof(*region));

	if (!site || !region) {
		free(site);
		free(region);
		return -ENOMEM;
	}
	memcpy(site, c->site, c->nsite * sizeof(*site));
	memcpy(region, c->region, c->nregion * sizeof(*region));
	tsc_sites_free(&s->tsc);
	s->tsc.site = site;
	s->tsc.cap = c->nsite ? c->nsite : 1;
	s->tsc.n = c->nsite;
	s->tsc.region = region;
	s->tsc.region_cap = c->nregion ? c->nregion : 1;
	s->tsc.nregion = c->nregion;
	s->tsc.undecodable = c->undecodable;
	s->tsc.gp = c->gp;
	memcpy(s->tsc_cache, c->tsc_cache, sizeof(s->tsc_cache));
	return 0;
}

/* ---- the store ---- */

static uint64_t ckpt_table_bytes(const struct ckpt_store *st)
{
	return st->snap.npages * sizeof(struct ckpt_page *);
}

static uint64_t ckpt_fixed_bytes(const struct ckpt_store *st, const struct ckpt *c)
{
	return sizeof(*c) + ckpt_table_bytes(st) + st->snap.xsave_size + st->snap.dev_size +
	       c->sess.nsite * sizeof(struct tsc_site) +
	       c->sess.nregion * sizeof(struct tsc_region);
}

int ckpt_store_init(struct ckpt_store *st, struct rr_session *s, struct replayer *p,
		    const struct ckpt_opts *o)
{
	int r;

	memset(st, 0, sizeof(*st));
	st->s = s;
	st->p = p;
	if (o)
		st->opts = *o;
	else
		st->opts.every_ns = CKPT_DEFAULT_EVERY_NS;
	if (!st->opts.budget_bytes)
		st->opts.budget_bytes = 2 * s->m.mem.size;
	r = snap_ctx_init(&st->snap, &s->m);
	if (r < 0)
		return r;
	for (st->nbucket = 1; st->nbucket < st->snap.npages; st->nbucket <<= 1)
		;
	st->bucket = calloc(st->nbucket, sizeof(*st->bucket));
	st->cur = calloc(st->snap.npages, sizeof(*st->cur));
	r = st->bucket && st->cur ? snap_state_alloc(&st->snap, &st->scratch) : -ENOMEM;
	if (r < 0) {
		ckpt_store_free(st);
		return r;
	}
	/* The bookkeeping every store has, whatever it holds. */
	st->st.bytes = st->nbucket * sizeof(*st->bucket) + ckpt_table_bytes(st);
	st->last_time = host_now();
	return 0;
}

static void ckpt_drop(struct ckpt_store *st, struct ckpt *c)
{
	for (uint64_t i = 0; i < st->snap.npages; i++)
		if (c->pages[i]) {
			st->st.page_refs--;
			ckpt_unref(st, c->pages[i]);
		}
	st->st.bytes -= ckpt_fixed_bytes(st, c);
	free(c->pages);
	free(c->sess.site);
	free(c->sess.region);
	snap_state_free(&c->cpu);
}

void ckpt_store_free(struct ckpt_store *st)
{
	for (unsigned i = 0; i < st->n; i++)
		ckpt_drop(st, &st->ck[i]);
	if (st->cur)
		for (uint64_t i = 0; i < st->snap.npages; i++)
			ckpt_unref(st, st->cur[i]);
	free(st->ck);
	free(st->cur);
	free(st->bucket);
	snap_state_free(&st->scratch);
	snap_ctx_free(&st->snap);
	memset(st, 0, sizeof(*st));
}

sync_seq ckpt_sync_at(const struct ckpt_store *st, unsigned i)
{
	return st->ck[i].sync;
}

unsigned ckpt_count(const struct ckpt_store *st)
{
	return st->n;
}

uint64_t ckpt_budget(const struct ckpt_store *st)
{
	return st->opts.budget_bytes;
}

const struct ckpt_stats *ckpt_store_stats(const struct ckpt_store *st)
{
	return &st->st;
}

/* Index of the last checkpoint at or before S, or -1. */
static int ckpt_find(const struct ckpt_store *st, sync_seq s)
{
	unsigned lo = 0, hi = st->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (st->ck[mid].sync <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo - 1;
}

int ckpt_nearest(const struct ckpt_store *st, sync_seq target, sync_seq *at)
{
	int i = ckpt_find(st, target);

	if (i < 0)
		return -ENOENT;
	*at = st->ck[i].sync;
	return 0;
}

bool ckpt_due(const struct ckpt_store *st)
{
	sync_seq now = st->s->m.sync;
	int i = ckpt_find(st, now);

	if (i >= 0 && st->ck[i].sync == now)
		return false;
	if (st->opts.every_sync && (i < 0 || now - st->ck[i].sync >= st->opts.every_sync))
		return true;
	return st->opts.every_ns && host_now() - st->last_time >= st->opts.every_ns;
}

/* Evicts interior checkpoints, closest neighbours first, to the budget. */
static void ckpt_evict(struct ckpt_store *st)
{
	while (st->st.bytes > st->opts.budget_bytes && st->n > 2) {
		unsigned best = 1;

		for (unsigned i = 2; i + 1 < st->n; i++)
			if (st->ck[i + 1].sync - st->ck[i - 1].sync <
			    st->ck[best + 1].sync - st->ck[best - 1].sync)
				best = i;
		ckpt_drop(st, &st->ck[best]);
		memmove(&st->ck[best], &st->ck[best + 1], (st->n - best - 1) * sizeof(*st->ck));
		st->n--;
		st->st.evictions++;
	}
	st->st.count = st->n;
}

static int ckpt_intern_dirty(struct ckpt_store *st)
{
	struct snap_ctx *c = &st->snap;

	for (uint64_t w = 0; w < (c->npages + 63) / 64; w++)
		for (uint64_t bits = c->dirty[w]; bits; bits &= bits - 1) {
			uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(bits);
			struct ckpt_page *e = ckpt_intern(st, c->m->mem.base + pg * SNAP_PAGE);

			if (e == (struct ckpt_page *)-1)
				return -ENOMEM; /* cur stays consistent: pages not yet
						 * seen stay marked dirty below */
			ckpt_unref(st, st->cur[pg]);
			st->cur[pg] = e;
			c->dirty[w] &= ~(1ull << (pg % 64));
			st->st.pages_hashed++;
		}
	return 0;
}

/* Brings st->cur up to date with RAM as the guest has it (a debugger's
 * breakpoints taken out): the pages written since the last take or restore
 * are hashed and interned. */
static int ckpt_sync_cur(struct ckpt_store *st)
{
	struct snap_ctx *c = &st->snap;
	int r = snap_mem_collect(c);

	if (r < 0)
		return r;
	machine_show_guest_bytes(c->m, true);
	r = ckpt_intern_dirty(st);
	machine_show_guest_bytes(c->m, false);
	return r;
}

/* Makes room for one more checkpoint at index AT. */
static struct ckpt *ckpt_insert(struct ckpt_store *st, unsigned at)
{
	if (st->n == st->cap) {
		unsigned ncap = st->cap ? 2 * st->cap : 64;
		struct ckpt *n = realloc(st->ck, ncap * sizeof(*n));

		if (!n)
			return NULL;
		st->ck = n;
		st->cap = ncap;
	}
	memmove(&st->ck[at + 1], &st->ck[at], (st->n - at) * sizeof(*st->ck));
	st->n++;
	memset(&st->ck[at], 0, sizeof(st->ck[at]));
	return &st->ck[at];
}

static int ckpt_fill(struct ckpt_store *st, struct ckpt *c)
{
	int r = snap_state_alloc(&st->snap, &c->cpu);

	if (r == 0)
		r = snap_capture(&st->snap, &c->cpu);
	if (r == 0)
		r = ckpt_session_save(&c->sess, st->s);
	c->pages = r == 0 ? malloc(ckpt_table_bytes(st)) : NULL;
	if (r == 0 && !c->pages)
		r = -ENOMEM;
	if (r < 0)
		return r;
	memcpy(c->pages, st->cur, ckpt_table_bytes(st));
	for (uint64_t i = 0; i < st->snap.npages; i++)
		if (c->pages[i]) {
			c->pages[i]->refs++;
			st->st.page_refs++;
		}
	c->sync = st->s->m.sync;
	c->consumed = st->p ? st->p->consumed : 0;
	st->st.bytes += ckpt_fixed_bytes(st, c);
	return 0;
}

int ckpt_take(struct ckpt_store *st, struct rr_session *s)
{
	host_ns t0 = host_now();
	unsigned at = (unsigned)(ckpt_find(st, s->m.sync) + 1);
	struct ckpt *c;
	int r;

	if (s != st->s)
		return -EINVAL;
	if (at > 0 && st->ck[at - 1].sync == s->m.sync)
		return 0;
	/* All of this sync point's events must be behind the replayer: a
	 * restore puts it on the first event of the next one. */
	if (st->p && (st->p->div.hit || (st->p->next_state == 1 && st->p->next.sync <= s->m.sync)))
		return -EBUSY;
	r = snap_flush(&st->snap); /* may write RAM: before the dirty log */
	if (r == 0)
		r = ckpt_sync_cur(st);
	if (r < 0)
		return r;
	c = ckpt_insert(st, at);
	if (!c)
		return -ENOMEM;
	r = ckpt_fill(st, c);
	if (r < 0) {
		free(c->pages);
		c->pages = NULL;
		free(c->sess.site);
		free(c->sess.region);
		snap_state_free(&c->cpu);
		memmove(c, c + 1, (st->n - at - 1) * sizeof(*c));
		st->n--;
		return r;
	}
	st->st.takes++;
	st->last_time = host_now();
	ckpt_evict(st);
	if (st->st.bytes > st->st.peak_bytes)
		st->st.peak_bytes = st->st.bytes;
	st->st.take_ns += host_now() - t0;
	return 0;
}

/* Rewrites the guest pages that differ from checkpoint C: those written
 * since the last take or restore, and those where C and cur disagree. */
static int ckpt_restore_mem(struct ckpt_store *st, const struct ckpt *c)
{
	struct snap_ctx *sc = &st->snap;
	uint64_t written = st->st.pages_written;
	int r = snap_mem_collect(sc);

	if (r < 0)
		return r;
	for (uint64_t pg = 0; pg < sc->npages; pg++) {
		struct ckpt_page *want = c->pages[pg];
		uint8_t *ram = sc->m->mem.base + pg * SNAP_PAGE;

		if (want == st->cur[pg] && !snap_page_dirty(sc, pg))
			continue;
		/* For every other user of the written pages (the landmark
		 * hash): this page changed. */
		snap_mem_mark(sc, pg * SNAP_PAGE, SNAP_PAGE);
		if (want)
			memcpy(ram, want->data, SNAP_PAGE);
		else
			memset(ram, 0, SNAP_PAGE);
		if (want)
			want->refs++;
		ckpt_unref(st, st->cur[pg]);
		st->cur[pg] = want;
		st->st.pages_written++;
	}
	/* The VMM's own writes are not logged: what KVM logs from here on is
	 * the guest's, on top of exactly C. */
	snap_mem_clear(sc);
	/* KVM's shadow page tables (kvm_pvm) may still translate through
	 * guest page tables as the abandoned future had them. */
	return written == st->st.pages_written ? 0 : gmem_rewritten(&sc->m->mem);
}

int ckpt_restore(struct ckpt_store *st, struct rr_session *s, sync_seq target,
		 sync_seq *restored)
{
	host_ns t0 = host_now();
	int i = ckpt_find(st, target), r;
	const struct ckpt *c;

	if (s != st->s)
		return -EINVAL;
	if (st->unusable)
		return -EIO;
	if (i < 0)
		return -ENOENT;
	c = &st->ck[i];
	/* Pending I/O of the current position completes first: it may write
	 * RAM, and must not land on the restored registers later. */
	if ((r = snap_flush(&st->snap)) < 0)
		return r; /* nothing changed yet */
	/* From here a failure leaves RAM of one position and a CPU or
	 * devices of another: no state to go on from. */
	st->unusable = true;
	r = ckpt_restore_mem(st, c);
	if (r == 0)
		r = snap_restore(&st->snap, &c->cpu);
	if (r == 0)
		r = ckpt_session_load(&c->sess, s);
	if (r == 0 && st->p)
		r = rpl_seek(st->p, c->sync, c->consumed);
	if (r < 0)
		return r;
	st->unusable = false;
	*restored = c->sync;
	st->st.restores++;
	st->last_time = host_now();
	st->st.restore_ns += host_now() - t0;
	return 0;
}

/* ---- comparing positions ---- */

static void ckpt_hash_cpu(XXH64_state_t *h, const struct snap_ctx *c, const struct snap_state *s)
{
	XXH64_update(h, &s->regs, sizeof(s->regs));
	XXH64_update(h, &s->sregs, sizeof(s->sregs));
	if (c->xsave_size > SNAP_XSAVE_HDR_END) {
		/* Not the XSAVE header: its XSTATE_BV says which components
		 * are in their initial state, which KVM_SET_XSAVE and running
		 * change without changing a register (and KVM_GET_XSAVE writes
		 * the initial values of those components out in full). */
		XXH64_update(h, s->xsave, SNAP_XSAVE_HDR);
		XXH64_update(h, s->xsave + SNAP_XSAVE_HDR_END, c->xsave_size - SNAP_XSAVE_HDR_END);
	} else if (c->xsave_size) {
		XXH64_update(h, s->xsave, c->xsave_size);
	} else
		XXH64_update(h, &s->fpu, sizeof(s->fpu));
	XXH64_update(h, &s->xcrs, sizeof(s->xcrs));
	XXH64_update(h, &s->events, sizeof(s->events));
	XXH64_update(h, &s->dregs, sizeof(s->dregs));
	XXH64_update(h, &s->mp, sizeof(s->mp));
	/* Index and value only: the entry's reserved word is not ours. */
	for (unsigned i = 0; i < s->nmsrs; i++)
		if (!snap_msr_volatile(s->msrs[i].index)) {
			XXH64_update(h, &s->msrs[i].index, sizeof(s->msrs[i].index));
			XXH64_update(h, &s->msrs[i].data, sizeof(s->msrs[i].data));
		}
	XXH64_update(h, s->dev, c->dev_size);
	XXH64_update(h, &s->sync, sizeof(s->sync));
	XXH64_update(h, &s->now, sizeof(s->now));
	XXH64_update(h, &s->now_valid, sizeof(s->now_valid));
	XXH64_update(h, &s->request_interrupt_window, sizeof(s->request_interrupt_window));
	XXH64_update(h, &s->irq_queued, sizeof(s->irq_queued));
	XXH64_update(h, &s->irq_vector, sizeof(s->irq_vector));
	/* Not the exit statistics: single-steps and breakpoints add exits, and
	 * they are the VMM's bookkeeping, not the guest's state. */
}

int ckpt_state_hash(struct ckpt_store *st, uint64_t *hash)
{
	XXH64_state_t *h = XXH64_createState();
	struct rr_session *s = st->s;
	uint64_t mem;
	int r;

	if (!h)
		return -ENOMEM;
	r = snap_capture(&st->snap, &st->scratch);
	if (r == 0) {
		XXH64_reset(h, 0);
		ckpt_hash_cpu(h, &st->snap, &st->scratch);
		mem = rr_state_hash(s);
		XXH64_update(h, &mem, sizeof(mem));
		/* Field by field: the struct has padding. */
		for (size_t i = 0; i < s->tsc.n; i++) {
			const struct tsc_site *t = &s->tsc.site[i];

			XXH64_update(h, &t->gpa, sizeof(t->gpa));
			XXH64_update(h, &t->kind, sizeof(t->kind));
			XXH64_update(h, t->orig, t->len);
			XXH64_update(h, &t->native, sizeof(t->native));
		}
		XXH64_update(h, &s->tsc.gp.armed, sizeof(s->tsc.gp.armed));
		XXH64_update(h, &s->tsc.gp.gpa, sizeof(s->tsc.gp.gpa));
		XXH64_update(h, &s->tsc.gp.orig, sizeof(s->tsc.gp.orig));
		/* Where replay stands in the trace: the next event's identity
		 * (not the count of events consumed, which is bookkeeping). */
		if (st->p) {
			XXH64_update(h, &st->p->next_state, sizeof(st->p->next_state));
			if (st->p->next_state == 1) {
				XXH64_update(h, &st->p->next.sync, sizeof(st->p->next.sync));
				XXH64_update(h, &st->p->next.kind, sizeof(st->p->next.kind));
				XXH64_update(h, &st->p->next.rip, sizeof(st->p->next.rip));
			}
		}
		*hash = XXH64_digest(h);
	}
	XXH64_freeState(h);
	return r;
}
