#define LOG_MODULE "replay"
#include "replay/session.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <xxhash.h>

#include "util/log.h"
#include "vmm/elf.h"
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
	XXH64_state_t *st = XXH64_createState();
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
	XXH64_freeState(st);
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

uint64_t rr_rip(struct rr_session *s)
{
	return machine_regs(&s->m)->rip;
}

int rr_tsc_trap_site(struct rr_session *s, uint64_t *site_gpa)
{
	/* OUT imm8, AL is 2 bytes and RIP is already past it.  Code segments
	 * are flat (base 0) in every mode rrvm boots into. */
	uint64_t lin = rr_rip(s) - 2, gpa = lin;
	struct rr_tsc_cache *c = &s->tsc_cache[(lin >> 1) % RR_TSC_CACHE];
	const struct tsc_site *site;

	/* A cached translation stands while that address still holds a
	 * patched site: the same in record and replay, so it cannot diverge. */
	if (c->lin == lin && (site = tsc_find(&s->tsc, c->gpa))) {
		*site_gpa = c->gpa;
		return site->kind;
	}
	if (machine_translate(&s->m, lin, &gpa) < 0)
		return 0;
	site = tsc_find(&s->tsc, gpa);
	if (!site)
		return 0;
	*c = (struct rr_tsc_cache){ lin, gpa };
	*site_gpa = gpa;
	return site->kind;
}

void rr_tsc_trap_finish(struct rr_session *s, int kind, vtsc value, uint32_t aux)
{
	struct kvm_regs *r = machine_regs(&s->m);

	/* RDTSC and RDTSCP zero the upper halves of RAX and RDX (and RCX). */
	r->rax = (uint32_t)value;
	r->rdx = value >> 32;
	if (kind == TSC_INSN_RDTSCP) {
		r->rcx = aux;
		r->rip += 1; /* past the NOP that pads the 3-byte RDTSCP */
	}
	machine_regs_changed(&s->m);
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

uint64_t rr_state_hash(struct rr_session *s)
{
	return rr_mem_hash(s, XXH64(machine_regs(&s->m), sizeof(struct kvm_regs), 0));
}
