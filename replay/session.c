#define LOG_MODULE "replay"
#include "replay/session.h"
#include "replay/session_int.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the stack: no allocation to fail */
#include <xxhash.h>

#include "util/log.h"
#include "vmm/elf.h"
#include "vmm/paging.h"
#include "vmm/x86.h"

#define RR_MAX_SEGS 32

/* Write-protects the code: the scanned regions (functions) when the ELF has
 * symbols, else its executable segments.  Data that shares a page with
 * code then exits on every write, which is correct, only slower. */
static int rr_protect_code(struct rr_session *s)
{
	struct gmem_range *r = calloc(s->tsc.nregion + 1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < s->tsc.nregion; i++)
		r[i] = (struct gmem_range){ s->tsc.region[i].gpa, s->tsc.region[i].len };
	e = gmem_protect(&s->m.mem, r, (unsigned)s->tsc.nregion);
	free(r);
	return e;
}

/* Hashes and scans the very bytes the machine loaded (not the file again,
 * which could have changed in between). */
static int rr_scan_kernel(struct rr_session *s, char *msg, size_t msglen)
{
	const struct machine *m = &s->m;
	int r;

	s->kernel_xxh64 = XXH64(m->kernel, m->kernel_len, 0);
	s->initrd_xxh64 = m->initrd ? XXH64(m->initrd, m->initrd_len, 0) : 0;
	for (unsigned i = 0; i < m->nmods; i++)
		s->mod_xxh64[i] = XXH64(m->mods[i].data, m->mods[i].len, 0);
	r = tsc_scan_kernel(&s->tsc, &s->m.mem, m->kernel, m->kernel_len);
	if (r < 0) {
		snprintf(msg, msglen, "%s: cannot scan for RDTSC: %s", m->cfg.kernel_path,
			 strerror(-r));
		return r;
	}
	log_info("%s: %d RDTSC/RDTSCP sites patched in %zu code regions (%u undecodable)",
		 m->cfg.kernel_path, r, s->tsc.nregion, s->tsc.undecodable);
	return 0;
}

#define RR_PAGE 4096u
#define RR_SPAN (2u << 20) /* pages asked about per mincore() */

/* True when a page the host never backed may still hold data (swap):
 * then residency says nothing and every page must be read. */
static bool rr_host_swaps(void)
{
	struct sysinfo si;

	return sysinfo(&si) < 0 || si.totalswap != 0;
}

/* XXH64 over (page number, contents) of every guest page that is not all
 * zeros, seeded with SEED.  Pages the guest never touched are never
 * backed by the host: mincore() finds them without faulting them in, which
 * makes hashing a mostly idle 64 MiB guest cost ~1 ms instead of ~20. */
uint64_t rr_mem_hash(struct rr_session *s, uint64_t seed)
{
	static const uint8_t zero[RR_PAGE];
	unsigned char vec[RR_SPAN / RR_PAGE];
	XXH64_state_t state, *st = &state;
	const uint8_t *base = s->m.mem.base;
	bool swaps = rr_host_swaps();
	uint64_t h;

	XXH64_reset(st, seed);
	for (uint64_t at = 0; at < s->m.mem.size; at += RR_SPAN) {
		uint64_t span = s->m.mem.size - at < RR_SPAN ? s->m.mem.size - at : RR_SPAN;

		if (swaps || mincore((void *)(uintptr_t)(base + at), span, vec) < 0)
			memset(vec, 1, sizeof(vec));
		for (uint64_t p = 0; p < span / RR_PAGE; p++) {
			const uint8_t *page = base + at + p * RR_PAGE;
			uint64_t index = (at / RR_PAGE) + p;

			if (!(vec[p] & 1) || !memcmp(page, zero, RR_PAGE))
				continue;
			XXH64_update(st, &index, sizeof(index));
			XXH64_update(st, page, RR_PAGE);
		}
	}
	h = XXH64_digest(st);
	return h;
}

int rr_session_init(struct rr_session *s, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen)
{
	int r;

	memset(s, 0, sizeof(*s));
	tsc_sites_init(&s->tsc);
	r = machine_init(&s->m, cfg, kind, msg, msglen);
	if (r < 0)
		return r;
	*kind = MACHINE_INIT_KERNEL;
	r = rr_scan_kernel(s, msg, msglen);
	if (r < 0)
		goto fail;
	*kind = MACHINE_INIT_KVM;
	r = rr_protect_code(s);
	if (r < 0) {
		snprintf(msg, msglen, "cannot write-protect the kernel's code: %s", strerror(-r));
		goto fail;
	}
	r = machine_trap_rdmsr(&s->m, X86_MSR_TSC);
	if (r < 0)
		log_warn("RDMSR of the TSC cannot be trapped on this host (%s): a guest "
			 "reading it directly will not replay", strerror(-r));
	s->tsc_khz = vcpu_tsc_khz(&s->m.vcpu);
	s->initial_mem_xxh64 = rr_mem_hash(s, 0);
	return 0;
fail:
	rr_session_free(s);
	return r;
}

void rr_session_free(struct rr_session *s)
{
	machine_free(&s->m);
	tsc_sites_free(&s->tsc);
}

int rr_session_open(struct rr_session **out, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen)
{
	struct rr_session *s = malloc(sizeof(*s));
	int r;

	*out = NULL;
	if (!s) {
		*kind = MACHINE_INIT_KVM;
		snprintf(msg, msglen, "out of memory for the session");
		return -ENOMEM;
	}
	r = rr_session_init(s, cfg, kind, msg, msglen);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void rr_session_close(struct rr_session *s)
{
	if (!s)
		return;
	rr_session_free(s);
	free(s);
}

struct machine *rr_session_machine(struct rr_session *s)
{
	return &s->m;
}

void rr_session_set_tsc_khz(struct rr_session *s, uint32_t khz)
{
	s->tsc_khz = khz;
}

uint64_t rr_rip(struct rr_session *s)
{
	return machine_regs(&s->m)->rip;
}

/* The vCPU's segment and control registers as of the last exit: KVM's
 * synced copy where it keeps one (no ioctl), else KVM_GET_SREGS. */
static const struct kvm_sregs *rr_sregs(struct rr_session *s, struct kvm_sregs *buf)
{
	const struct kvm_run *run = s->m.vcpu.run;

	if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS)
		return &run->s.regs.sregs;
	return vcpu_get_sregs(&s->m.vcpu, buf) < 0 ? NULL : buf;
}

/* An OUT to the trap port: a site's when CS:RIP - 2 holds one. */
static int rr_tsc_out_site(struct rr_session *s, const struct kvm_sregs *sr)
{
	/* OUT imm8, AL is 2 bytes and RIP is already past it.  A 32-bit guest
	 * may give CS a base: the site lies at that base plus the offset. */
	uint64_t lin = paging_seg_lin(sr, &sr->cs, rr_rip(s) - 2), gpa = lin;
	struct rr_tsc_cache *c = &s->tsc_cache[(lin >> 1) % RR_TSC_CACHE];
	const struct tsc_site *site;

	/* A cached translation stands while that address still holds a
	 * patched site: the same in record and replay, so it cannot diverge. */
	if (c->lin == lin && (site = tsc_find(&s->tsc, c->gpa)))
		return site->kind;
	if (machine_translate(&s->m, lin, &gpa) < 0)
		return 0;
	site = tsc_find(&s->tsc, gpa);
	if (!site)
		return 0;
	*c = (struct rr_tsc_cache){ lin, gpa };
	return site->kind;
}

/* The HLT at the #GP handler: a site's fault from ring 3, or the guest's
 * own #GP, which goes on to the handler's first instruction. */
static int rr_tsc_gp_trap(struct rr_session *s, const struct kvm_sregs *sr)
{
	struct kvm_regs *r = machine_regs(&s->m);
	struct rr_tsc_pending *p = &s->tsc_pending;
	struct kvm_sregs ret = *sr;
	uint64_t gpa;
	const struct tsc_site *site;
	enum tsc_gp_verdict v = tsc_gp_judge(&s->tsc, &s->m.mem, sr, r->rsp, &p->f, &gpa);

	/* Ours only if the return can be made: segments IRET would accept
	 * (else the guest's handler gets its #GP, as a bad return would). */
	if (v == TSC_GP_OURS && (site = tsc_find(&s->tsc, gpa)) &&
	    tsc_gp_iret_segments(&s->m.mem, &ret, &p->f) == 0) {
		p->ring3 = true;
		p->len = site->len;
		return site->kind;
	}
	log_debug("#GP at %#llx is the guest's (%d): on to its handler",
		  (unsigned long long)p->f.rip, (int)v);
	tsc_gp_pass(&s->tsc, &s->m.mem, sr);
	r->rip--; /* onto the handler's first instruction, the guest's again */
	machine_regs_changed(&s->m);
	return 0;
}

/* Where the trap cannot be placed once the guest has an IDT with a #GP
 * gate (or runs ring 3), the sites ring 3 could run are left unpatched
 * rather than fault (checked again when CR3 changes), and a recording
 * says so once. */
static void rr_tsc_leave_ring3(struct rr_session *s, const struct kvm_sregs *sr)
{
	struct tsc_gp_trap *t = &s->tsc.gp;
	unsigned gate = sr->efer & X86_EFER_LMA ? 16 : 8, n;
	struct paging_mode pm;

	if (t->usable)
		t->left_cr3 = 0;
	if (t->usable || !s->tsc.n || t->left_cr3 == sr->cr3 + 1 ||
	    ((sr->cs.dpl & 3) != 3 && sr->idt.limit < TSC_GP_VECTOR * gate + gate - 1))
		return;
	t->left_cr3 = sr->cr3 + 1; /* + 1: CR3 0 is a value too */
	paging_mode_from_sregs(&pm, sr);
	n = tsc_leave_user_sites(&s->tsc, &s->m.mem, &pm);
	if (!n || !s->warn_tsc)
		return;
	fprintf(stderr, "rrvm: warning: %u RDTSC site%s open to ring 3 left unpatched: a trap "
		"there cannot be completed at the guest's #GP vector (%s); where ring 3 "
		"runs them, the TSC is read natively and the recording is not deterministic\n",
		n, n == 1 ? "" : "s", t->why);
}

int rr_tsc_trap(struct rr_session *s, struct vmm_exit *x)
{
	struct kvm_sregs buf;
	const struct kvm_sregs *sr;
	int kind = 0;

	if (!x->is_sync || !(sr = rr_sregs(s, &buf)))
		return 0;
	s->tsc_pending.ring3 = false;
	if (x->kind == VMM_EXIT_IO_OUT && x->addr == TSC_TRAP_PORT) {
		kind = rr_tsc_out_site(s, sr);
		s->tsc_pending.len = kind == TSC_INSN_RDTSCP ? 3 : 2;
	} else if (x->kind == VMM_EXIT_HLT &&
		   tsc_gp_is_trap(&s->tsc, &s->m.mem, sr, rr_rip(s))) {
		x->claimed = true;
		if (!(kind = rr_tsc_gp_trap(s, sr)))
			return 0; /* the guest's #GP: its handler runs first */
	} else if (x->kind == VMM_EXIT_HLT &&
		   tsc_gp_is_step(&s->tsc, &s->m.mem, sr, rr_rip(s))) {
		x->claimed = true; /* past the handler's first instruction */
		machine_regs(&s->m)->rip--;
		machine_regs_changed(&s->m);
	}
	tsc_gp_arm(&s->tsc, &s->m.mem, sr);
	rr_tsc_leave_ring3(s, sr);
	return kind;
}

/* Returns to ring 3 after the site, as the handler's IRET would. */
static int rr_tsc_gp_return(struct rr_session *s)
{
	const struct tsc_gp_frame *f = &s->tsc_pending.f;
	struct kvm_regs *r = machine_regs(&s->m);
	struct kvm_sregs sr;
	int e = vcpu_get_sregs(&s->m.vcpu, &sr);

	if (e == 0 && (e = tsc_gp_iret_segments(&s->m.mem, &sr, f)) == 0)
		e = vcpu_set_sregs(&s->m.vcpu, &sr);
	if (e < 0)
		return e;
	r->rip = f->rip;
	r->rsp = f->rsp;
	r->rflags = f->rflags | X86_RFLAGS_FIXED;
	if (s->tsc_step_tf) /* a step of the site itself (VT-x, AMD-V): TF was KVM's */
		r->rflags &= ~(uint64_t)X86_RFLAGS_TF;
	return 0;
}

int rr_tsc_trap_finish(struct rr_session *s, int kind, vtsc value, uint32_t aux)
{
	struct kvm_regs *r = machine_regs(&s->m);
	int e = s->tsc_pending.ring3 ? rr_tsc_gp_return(s) : 0;

	if (e < 0)
		return e;
	if (s->tsc_pending.ring3)
		r->rip += s->tsc_pending.len;
	else if (kind == TSC_INSN_RDTSCP)
		r->rip += 1; /* past the NOP that pads the 3-byte RDTSCP */
	/* RDTSC and RDTSCP zero the upper halves of RAX and RDX (and RCX). */
	r->rax = (uint32_t)value;
	r->rdx = value >> 32;
	if (kind == TSC_INSN_RDTSCP)
		r->rcx = aux;
	machine_regs_changed(&s->m);
	s->tsc_pending.ring3 = false;
	return 0;
}

bool rr_tsc_gp_here(struct rr_session *s)
{
	struct kvm_sregs sr;
	struct tsc_gp_frame f;
	uint64_t gpa;

	/* RIP at the handler's offset, about to run the HLT: cheap test
	 * first (tsc_gp_is_trap then checks CS:RIP, its linear address). */
	if (!s->tsc.gp.armed || rr_rip(s) != s->tsc.gp.entry_rip ||
	    vcpu_get_sregs(&s->m.vcpu, &sr) < 0)
		return false;
	return tsc_gp_is_trap(&s->tsc, &s->m.mem, &sr, rr_rip(s) + 1) &&
	       tsc_gp_judge(&s->tsc, &s->m.mem, &sr, machine_regs(&s->m)->rsp, &f, &gpa) ==
		       TSC_GP_OURS;
}

void rr_code_written(struct rr_session *s, const struct vmm_exit *x)
{
	int n = tsc_rescan(&s->tsc, &s->m.mem, x->addr, x->size);

	if (n > 0)
		log_info("guest wrote code at %#llx: %d new RDTSC sites patched",
			 (unsigned long long)x->addr, n);
}

vtsc rr_vtsc(const struct rr_session *s, vclock_ns t)
{
	/* kHz * ns / 1e6, split to stay exact without overflowing. */
	return (t / 1000000) * s->tsc_khz + (t % 1000000) * s->tsc_khz / 1000000;
}

uint64_t rr_reg_hash(struct rr_session *s)
{
	return XXH64(machine_regs(&s->m), sizeof(struct kvm_regs), 0);
}

void rr_regs_get(struct rr_session *s, uint64_t out[TRACE_NREGS])
{
	const struct kvm_regs *r = machine_regs(&s->m);
	const uint64_t v[TRACE_NREGS] = {
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp, r->r8,
		r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags,
	};

	memcpy(out, v, sizeof(v));
}

const char *rr_reg_name(unsigned i)
{
	static const char *const names[TRACE_NREGS] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
		"r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
	};

	return i < TRACE_NREGS ? names[i] : "?";
}

uint64_t rr_state_hash(struct rr_session *s)
{
	return rr_mem_hash(s, XXH64(machine_regs(&s->m), sizeof(struct kvm_regs), 0));
}
