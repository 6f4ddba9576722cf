/* What the time-travel engine tells its users about where it stands: the
 * position as known, the host's limits, the checkpoints, the vCPU.  Reads
 * only: every operation that moves or changes the machine lives in
 * timeline.c, tl_step.c and tl_continue.c. */
#include "replay/timeline.h"

#include "replay/timeline_int.h"

#include <errno.h>

#include "replay/session.h"

const char *tl_error(const struct timeline *t)
{
	return t->err;
}

void tl_error_clear(struct timeline *t)
{
	t->err[0] = '\0';
}

sync_seq tl_end_sync(const struct timeline *t)
{
	return t->end_sync;
}

struct tl_pos tl_here(const struct timeline *t)
{
	return t->pos;
}

bool tl_is_live(const struct timeline *t, struct tl_pos *at)
{
	if (t->live && at)
		*at = t->live_at;
	return t->live;
}

void tl_caps(const struct timeline *t, struct tl_caps *out)
{
	*out = (struct tl_caps){
		.step_ring3 = t->can_step_ring3,
		.break_ring3 = t->can_break_ring3,
		.watch_data = t->can_watch_data,
		.trap = t->trap,
	};
}

bool tl_warned_user_bp(const struct timeline *t)
{
	return t->warned_user_bp;
}

const struct ckpt_store *tl_checkpoints(const struct timeline *t)
{
	return &t->ck;
}

int tl_state_hash(struct timeline *t, uint64_t *hash)
{
	return ckpt_state_hash(&t->ck, hash);
}

const struct replayer *tl_replayer(const struct timeline *t)
{
	return &t->p;
}

void tl_set_progress(struct timeline *t, tl_progress_fn fn, void *ctx)
{
	t->progress = fn;
	t->progress_ctx = ctx;
}

int tl_watch_find(const struct timeline *t, uint64_t addr, enum tl_watch_kind *kind)
{
	for (unsigned i = 0; i < t->nwatch; i++)
		if (addr >= t->watch[i].lin && addr - t->watch[i].lin < t->watch[i].len) {
			*kind = t->watch[i].kind;
			return 0;
		}
	return -ENOENT;
}

uint64_t tl_rip(struct timeline *t)
{
	return rr_rip(t->s);
}

int tl_get_regs(struct timeline *t, struct kvm_regs *regs)
{
	return vcpu_get_regs(&t->s->m.vcpu, regs);
}

int tl_get_sregs(struct timeline *t, struct kvm_sregs *sregs)
{
	return vcpu_get_sregs(&t->s->m.vcpu, sregs);
}

int tl_get_fpu(struct timeline *t, struct kvm_fpu *fpu)
{
	return vcpu_get_fpu(&t->s->m.vcpu, fpu);
}
