/* What record and replay share: a machine booted from a kernel with its
 * determinism preparations done (RDTSC sites patched, code pages
 * write-protected, RDMSR of the TSC trapped), the facts a trace header
 * stores about it, and the TSC trap.  Owned by the recorder or replayer. */
#ifndef RRVM_REPLAY_SESSION_H
#define RRVM_REPLAY_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/tsc_sites.h"
#include "util/types.h"
#include "vmm/machine.h"

struct vmm_exit;

/* Register-hash checkpoints every this many sync points by default. */
#define RR_REG_CHECK_DEFAULT 16

/* Linear address -> site, so that a TSC trap costs no KVM_TRANSLATE (an
 * ioctl that reloads the vCPU, as expensive as the exit itself). */
#define RR_TSC_CACHE 64

struct rr_tsc_cache {
	uint64_t lin, gpa; /* lin == 0: empty */
};

struct rr_session {
	struct machine m;
	struct tsc_sites tsc;
	struct rr_tsc_cache tsc_cache[RR_TSC_CACHE];
	uint64_t kernel_xxh64;       /* of m.kernel, the file as loaded */
	uint64_t initrd_xxh64;       /* of m.initrd; 0 without one */
	uint64_t initial_mem_xxh64; /* guest RAM after loading and patching */
	uint32_t tsc_khz;           /* virtual TSC rate */
};

/* Boots CFG's kernel into S->m and prepares it for recording or replay.
 * Same failure contract as machine_init (KIND, one-line MSG). */
int rr_session_init(struct rr_session *s, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen);
void rr_session_free(struct rr_session *s);

/* An exit on TSC_TRAP_PORT: if it came from a patched site, fills in the
 * guest's registers with VALUE (and AUX for RDTSCP), moves RIP past the
 * original instruction and returns the site's kind; 0 if it was an
 * ordinary OUT to that port. */
int rr_tsc_trap_site(struct rr_session *s, uint64_t *site_gpa);
void rr_tsc_trap_finish(struct rr_session *s, int kind, vtsc value, uint32_t aux);

/* A guest write to code (an MMIO write exit that hit read-only RAM, already
 * applied): rescans the written range for RDTSC. */
void rr_code_written(struct rr_session *s, const struct vmm_exit *x);

/* The virtual TSC at virtual time T. */
vtsc rr_vtsc(const struct rr_session *s, vclock_ns t);

/* XXH64 of the general registers (as of the last exit). */
uint64_t rr_reg_hash(struct rr_session *s);
/* XXH64 of guest RAM (its non-zero pages), seeded with SEED. */
uint64_t rr_mem_hash(struct rr_session *s, uint64_t seed);
/* XXH64 of the registers and all guest RAM: the end-of-trace check. */
uint64_t rr_state_hash(struct rr_session *s);

/* The guest's RIP as of the last exit. */
uint64_t rr_rip(struct rr_session *s);

#endif
