#define LOG_MODULE "vmm"
#include "vmm/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vmm/device.h"
#include "vmm/machine.h"

#define SNAP_MSR_TSC 0x10

/* ---- probing ---- */

/* One MSR through KVM_GET_MSRS or KVM_SET_MSRS; true when KVM took it. */
static bool snap_msr_io(int fd, unsigned long req, uint32_t index, uint64_t *value)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} u;
	struct kvm_msr_entry e = { .index = index, .data = *value };

	memset(&u, 0, sizeof(u));
	u.hdr.nmsrs = 1;
	memcpy(u.bytes + sizeof(struct kvm_msrs), &e, sizeof(e));
	if (ioctl(fd, req, &u) != 1)
		return false;
	memcpy(&e, u.bytes + sizeof(struct kvm_msrs), sizeof(e));
	*value = e.data;
	return true;
}

/* KVM_GET_MSR_INDEX_LIST names the MSRs KVM migrates; some of them this
 * backend cannot read or take back (PVM differs from VT-x here), so each
 * is tried once: read it, write the same value back. */
static int snap_probe_msrs(struct snap_ctx *c)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;
	int sys = c->m->kvm.sys_fd;

	if (ioctl(sys, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(sys, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return -errno;
	}
	c->nmsrs = 0;
	for (uint32_t i = 0; i < list->nmsrs; i++) {
		uint64_t v = 0;
		uint32_t idx = list->indices[i];

		if (!snap_msr_io(c->m->vcpu.fd, KVM_GET_MSRS, idx, &v) ||
		    !snap_msr_io(c->m->vcpu.fd, KVM_SET_MSRS, idx, &v))
			continue;
		if (c->nmsrs == SNAP_MAX_MSRS) {
			log_warn("snapshot: KVM lists more than %u MSRs; MSR %#x and later ones "
				 "are not saved in checkpoints", SNAP_MAX_MSRS, idx);
			break;
		}
		c->msr_index[c->nmsrs++] = idx;
	}
	log_debug("snapshot: %u of %u MSRs readable and writable", c->nmsrs, list->nmsrs);
	free(list);
	return 0;
}

static void snap_probe_xsave(struct snap_ctx *c)
{
	int x2 = kvm_cap(&c->m->kvm, KVM_CAP_XSAVE2);

	if (x2 >= (int)sizeof(struct kvm_xsave))
		c->xsave_size = (size_t)x2; /* AMX and friends: larger than 4 KiB */
	else if (kvm_cap(&c->m->kvm, KVM_CAP_XSAVE))
		c->xsave_size = sizeof(struct kvm_xsave);
	else
		c->xsave_size = 0;
}

bool snap_msr_volatile(uint32_t index)
{
	return index == SNAP_MSR_TSC;
}

/* ---- dirty logging: the machine's tracker ---- */

int snap_mem_collect(struct snap_ctx *c)
{
	return dirty_collect(&c->m->dirty);
}

void snap_mem_mark(struct snap_ctx *c, uint64_t gpa, uint64_t len)
{
	dirty_mark(&c->m->dirty, gpa, len);
}

void snap_mem_clear(struct snap_ctx *c)
{
	dirty_clear(&c->m->dirty, c->dirty_user);
}

/* ---- context ---- */

int snap_ctx_init(struct snap_ctx *c, struct machine *m)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->npages = m->mem.size / SNAP_PAGE;
	r = snap_probe_msrs(c);
	if (r < 0)
		return r;
	/* Every page counts as dirty until the first collect. */
	r = dirty_add_user(&m->dirty, true, true);
	if (r < 0)
		return r;
	c->dirty_user = r;
	c->dirty = dirty_bits(&m->dirty, r);
	snap_probe_xsave(c);
	for (unsigned i = 0; i < m->ndevs; i++)
		c->dev_size += m->devs[i].ops->state_size;
	return 0;
}

void snap_ctx_free(struct snap_ctx *c)
{
	if (c->dirty)
		dirty_remove_user(&c->m->dirty, c->dirty_user);
	c->dirty = NULL;
}

int snap_state_alloc(const struct snap_ctx *c, struct snap_state *st)
{
	memset(st, 0, sizeof(*st));
	st->xsave = c->xsave_size ? calloc(1, c->xsave_size) : NULL;
	st->dev = calloc(1, c->dev_size ? c->dev_size : 1);
	st->lm_dirty = calloc(c->m->dirty.words ? c->m->dirty.words : 1, sizeof(uint64_t));
	if ((c->xsave_size && !st->xsave) || !st->dev || !st->lm_dirty) {
		snap_state_free(st);
		return -ENOMEM;
	}
	return 0;
}

void snap_state_free(struct snap_state *st)
{
	free(st->xsave);
	free(st->dev);
	free(st->lm_dirty);
	st->xsave = st->dev = NULL;
	st->lm_dirty = NULL;
}

/* ---- capture and restore ---- */

int snap_flush(struct snap_ctx *c)
{
	struct kvm_run *run = c->m->vcpu.run;
	uint8_t was = run->immediate_exit;
	int r;

	/* KVM finishes the pending operation, then sees immediate_exit and
	 * returns -EINTR before entering the guest (Documentation/virt/kvm/
	 * api.rst, KVM_EXIT_IO note). */
	run->immediate_exit = 1;
	r = ioctl(c->m->vcpu.fd, KVM_RUN, 0);
	r = r < 0 ? -errno : 0;
	run->immediate_exit = was;
	if (r == -EINTR || r == -EAGAIN)
		return 0;
	/* Under a debugger's single step, completing the instruction may end
	 * in the step's debug exit, still without entering the guest. */
	if (r == 0 && run->exit_reason == KVM_EXIT_DEBUG)
		return 0;
	return r < 0 ? r : -EPROTO; /* it ran the guest: a broken promise */
}

/* KVM_GET_MSRS or KVM_SET_MSRS of N entries IN; a get fills OUT. */
static int snap_msrs(struct snap_ctx *c, unsigned long req, const struct kvm_msr_entry *in,
		     unsigned n, struct kvm_msr_entry *out)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + SNAP_MAX_MSRS * sizeof(struct kvm_msr_entry)];
	} *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->hdr.nmsrs = n;
	memcpy(u->bytes + sizeof(struct kvm_msrs), in, n * sizeof(struct kvm_msr_entry));
	r = ioctl(c->m->vcpu.fd, req, u);
	if (r < 0) {
		r = -errno;
	} else if ((unsigned)r != n) {
		log_warn("snapshot: %s stopped at MSR %#x", req == KVM_GET_MSRS ? "get" : "set",
			 in[r].index);
		r = -EIO;
	} else if (out) {
		memcpy(out, u->bytes + sizeof(struct kvm_msrs), n * sizeof(struct kvm_msr_entry));
	}
	free(u);
	return r < 0 ? r : 0;
}

static int snap_get_msrs(struct snap_ctx *c, struct snap_state *st)
{
	for (unsigned i = 0; i < c->nmsrs; i++)
		st->msrs[i] = (struct kvm_msr_entry){ .index = c->msr_index[i] };
	st->nmsrs = c->nmsrs;
	return snap_msrs(c, KVM_GET_MSRS, st->msrs, st->nmsrs, st->msrs);
}

#define SNAP_IOCTL(c, req, arg) (ioctl((c)->m->vcpu.fd, (req), (arg)) < 0 ? -errno : 0)

static int snap_get_cpu(struct snap_ctx *c, struct snap_state *st)
{
	int r = SNAP_IOCTL(c, KVM_GET_REGS, &st->regs);

	if (!r)
		r = SNAP_IOCTL(c, KVM_GET_SREGS, &st->sregs);
	if (!r && c->xsave_size)
		r = SNAP_IOCTL(c, c->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2
									    : KVM_GET_XSAVE,
			       st->xsave);
	else if (!r)
		r = SNAP_IOCTL(c, KVM_GET_FPU, &st->fpu);
	if (!r && kvm_cap(&c->m->kvm, KVM_CAP_XCRS))
		r = SNAP_IOCTL(c, KVM_GET_XCRS, &st->xcrs);
	if (!r)
		r = snap_get_msrs(c, st);
	if (!r)
		r = SNAP_IOCTL(c, KVM_GET_MP_STATE, &st->mp);
	if (!r)
		r = SNAP_IOCTL(c, KVM_GET_VCPU_EVENTS, &st->events);
	if (!r)
		r = SNAP_IOCTL(c, KVM_GET_DEBUGREGS, &st->dregs);
	return r;
}

/* QEMU's order (kvm_arch_put_registers): SREGS before MSRS, because EFER
 * and CR4 decide which MSRs are valid; VCPU_EVENTS after SREGS, because
 * SET_SREGS queues the interrupt of interrupt_bitmap and SET_VCPU_EVENTS
 * then states exactly what is pending (the vector machine_deliver gave
 * KVM_INTERRUPT shows up there until the guest takes it). */
static int snap_set_cpu(struct snap_ctx *c, const struct snap_state *st)
{
	struct kvm_vcpu_events ev = st->events;
	int r = SNAP_IOCTL(c, KVM_SET_REGS, &st->regs);

	if (!r && c->xsave_size)
		r = SNAP_IOCTL(c, KVM_SET_XSAVE, st->xsave);
	else if (!r)
		r = SNAP_IOCTL(c, KVM_SET_FPU, &st->fpu);
	if (!r && kvm_cap(&c->m->kvm, KVM_CAP_XCRS))
		r = SNAP_IOCTL(c, KVM_SET_XCRS, &st->xcrs);
	if (!r)
		r = SNAP_IOCTL(c, KVM_SET_SREGS, &st->sregs);
	if (!r)
		r = snap_msrs(c, KVM_SET_MSRS, st->msrs, st->nmsrs, NULL);
	if (!r)
		r = SNAP_IOCTL(c, KVM_SET_MP_STATE, &st->mp);
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
	if (!r)
		r = SNAP_IOCTL(c, KVM_SET_VCPU_EVENTS, &ev);
	if (!r)
		r = SNAP_IOCTL(c, KVM_SET_DEBUGREGS, &st->dregs);
	return r;
}

static void snap_get_machine(struct snap_ctx *c, struct snap_state *st)
{
	struct machine *m = c->m;
	size_t at = 0;

	for (unsigned i = 0; i < m->ndevs; i++) {
		const struct portbus_slot *d = &m->devs[i];

		if (!d->ops->state_size)
			continue;
		d->ops->save(d->dev, st->dev + at);
		at += d->ops->state_size;
	}
	st->sync = m->sync;
	st->now = m->now;
	st->now_valid = m->now_valid;
	st->request_interrupt_window = m->vcpu.run->request_interrupt_window;
	st->irq_queued = m->irq_queued;
	st->irq_vector = m->irq_vector;
	memcpy(st->exits, m->stats.exits, sizeof(st->exits));
	st->injected = m->stats.injected;
	st->unassigned_reads = m->bus.unassigned_reads;
	st->unassigned_writes = m->bus.unassigned_writes;
	/* The pages a landmark's hash covers, in traces before 2.2, were
	 * counted since the previous landmark, which may lie before this
	 * capture (collected first by the caller, like the checkpoint's own
	 * pages).  The hash of all RAM needs no copy: a restore marks the
	 * pages it rewrites. */
	if (m->lm_user >= 0 && m->cfg.lm_hash_written)
		memcpy(st->lm_dirty, dirty_bits(&m->dirty, m->lm_user),
		       m->dirty.words * sizeof(uint64_t));
}

static int snap_set_machine(struct snap_ctx *c, const struct snap_state *st)
{
	struct machine *m = c->m;
	size_t at = 0;

	for (unsigned i = 0; i < m->ndevs; i++) {
		const struct portbus_slot *d = &m->devs[i];
		int r = d->ops->state_size ? d->ops->restore(d->dev, st->dev + at) : 0;

		if (r < 0) {
			log_warn("snapshot: device %s refused its saved state", d->ops->name);
			return r;
		}
		at += d->ops->state_size;
	}
	m->sync = st->sync;
	m->now = st->now;
	m->now_valid = st->now_valid;
	m->vcpu.run->request_interrupt_window = st->request_interrupt_window;
	m->irq_queued = st->irq_queued;
	m->irq_vector = st->irq_vector;
	memcpy(m->stats.exits, st->exits, sizeof(st->exits));
	m->stats.injected = st->injected;
	m->bus.unassigned_reads = st->unassigned_reads;
	m->bus.unassigned_writes = st->unassigned_writes;
	m->at_sync = true;
	if (m->lm_user >= 0 && m->cfg.lm_hash_written) {
		/* What KVM logged since is the abandoned future's: drop it. */
		int r = dirty_collect(&m->dirty);

		if (r < 0)
			return r;
		memcpy(dirty_bits(&m->dirty, m->lm_user), st->lm_dirty,
		       m->dirty.words * sizeof(uint64_t));
	}
	m->lm.stepover = false;
	m->lm.start_checked = 0; /* the stretch starts again */
	return 0;
}

int snap_capture(struct snap_ctx *c, struct snap_state *st)
{
	int r = snap_flush(c);

	if (r == 0)
		r = snap_get_cpu(c, st);
	if (r == 0)
		snap_get_machine(c, st);
	return r;
}

int snap_restore(struct snap_ctx *c, const struct snap_state *st)
{
	struct kvm_run *run = c->m->vcpu.run;
	int r = snap_flush(c);

	if (r == 0)
		r = snap_set_cpu(c, st);
	if (r < 0)
		return r;
	/* The machine reads the general registers from kvm_run (sync regs),
	 * which KVM refreshes only at the next exit: make them match now, and
	 * drop any edit still queued for KVM. */
	run->s.regs.regs = st->regs;
	run->kvm_dirty_regs = 0;
	/* Without an in-kernel APIC, KVM_RUN loads CR8 from kvm_run on entry,
	 * which would undo the restored sregs.cr8. */
	run->cr8 = st->sregs.cr8;
	return snap_set_machine(c, st);
}
