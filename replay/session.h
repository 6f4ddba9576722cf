/* What record and replay share: a machine booted from a kernel with its
 * determinism preparations done (RDTSC sites patched, code pages
 * write-protected, RDMSR of the TSC trapped), the facts a trace header
 * stores about it, and the TSC trap.  Owned by the recorder or replayer. */
#ifndef RRVM_REPLAY_SESSION_H
#define RRVM_REPLAY_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/tsc_sites.h"
#include "trace-format/trace.h"
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

/* A patched RDTSC/RDTSCP site trapped, between rr_tsc_trap and
 * rr_tsc_trap_finish. */
struct rr_tsc_pending {
	bool ring3;              /* at the #GP trap: finish returns to ring 3 */
	uint8_t len;             /* the site's length */
	struct tsc_gp_frame f;   /* ... and the fault's frame */
};

struct rr_session {
	struct machine m;
	struct tsc_sites tsc;
	struct rr_tsc_cache tsc_cache[RR_TSC_CACHE];
	struct rr_tsc_pending tsc_pending;
	bool warn_tsc;               /* recording: say where ring-3 RDTSC cannot be trapped */
	bool tsc_step_tf;            /* a debugger's TF single step runs: TF in a fault
				      * frame is the debugger's, not the guest's */
	uint64_t kernel_xxh64;       /* of m.kernel, the file as loaded */
	uint64_t initrd_xxh64;       /* of m.initrd; 0 without one */
	uint64_t mod_xxh64[MACHINE_MAX_MODULES]; /* of m.mods[i], as loaded */
	uint64_t initial_mem_xxh64; /* guest RAM after loading and patching */
	uint32_t tsc_khz;           /* virtual TSC rate */
};

/* Boots CFG's kernel into S->m and prepares it for recording or replay.
 * Same failure contract as machine_init (KIND, one-line MSG). */
int rr_session_init(struct rr_session *s, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen);
void rr_session_free(struct rr_session *s);

/* Every sync exit of record, replay and the time-travel engine passes
 * here.  Keeps the #GP trap placed (tsc_gp.h) and says whether the exit is
 * a patched site's trap: an OUT to TSC_TRAP_PORT from a site (ring 0), or
 * the HLT at the guest's #GP handler for a site that ran in ring 3.  Then
 * it returns the site's kind, and the caller supplies the TSC value with
 * rr_tsc_trap_finish; 0 when the exit is the guest's own (a #GP of the
 * guest's own is sent on to its handler).  Sets X->claimed at the #GP
 * trap, which is no HLT of the guest's. */
int rr_tsc_trap(struct rr_session *s, struct vmm_exit *x);
/* Completes the trapped instruction: VALUE in EDX:EAX (AUX in ECX for
 * RDTSCP), RIP past the original instruction, and from ring 3 the return
 * there as the guest's IRET would.  0 or -errno (a KVM call failed). */
int rr_tsc_trap_finish(struct rr_session *s, int kind, vtsc value, uint32_t aux);

/* True while the machine stands at the #GP trap for a site of its own: an
 * arrival there is no arrival of the guest's (debuggers skip it). */
bool rr_tsc_gp_here(struct rr_session *s);

/* A guest write to code (an MMIO write exit that hit read-only RAM, already
 * applied): rescans the written range for RDTSC. */
void rr_code_written(struct rr_session *s, const struct vmm_exit *x);

/* The virtual TSC at virtual time T. */
vtsc rr_vtsc(const struct rr_session *s, vclock_ns t);

/* XXH64 of the general registers (as of the last exit). */
uint64_t rr_reg_hash(struct rr_session *s);
/* The general registers (as of the last exit) in a RegCheckpoint's order
 * (trace.proto), and the name of register I of that order. */
void rr_regs_get(struct rr_session *s, uint64_t out[TRACE_NREGS]);
const char *rr_reg_name(unsigned i);
/* XXH64 of guest RAM (its non-zero pages), seeded with SEED. */
uint64_t rr_mem_hash(struct rr_session *s, uint64_t seed);
/* XXH64 of the registers and all guest RAM: the end-of-trace check. */
uint64_t rr_state_hash(struct rr_session *s);

/* The guest's RIP as of the last exit. */
uint64_t rr_rip(struct rr_session *s);

#endif
