/* What record and replay share: a machine booted from a kernel with its
 * determinism preparations done (RDTSC sites patched, code pages
 * write-protected, RDMSR of the TSC trapped), the facts a trace header
 * stores about it, and the TSC trap. */
#ifndef RRVM_REPLAY_SESSION_H
#define RRVM_REPLAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace-format/trace.h"
#include "util/types.h"
#include "vmm/machine.h"

struct vmm_exit;

/* Register-hash checkpoints every this many sync points by default. */
#define RR_REG_CHECK_DEFAULT 16

/* A session: open one with rr_session_open, hand it to one recorder,
 * replayer or time-travel engine, close it after them.  Its state
 * (replay/session_int.h) is replay's own. */
struct rr_session;

/* Boots CFG's kernel and prepares it for recording or replay: *OUT is the
 * session, or NULL on failure.  Same failure contract as machine_init
 * (KIND, one-line MSG). */
int rr_session_open(struct rr_session **out, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen);
/* Frees the machine and the session; NULL is fine. */
void rr_session_close(struct rr_session *s);

/* The session's machine, for what is the machine's own: a stop request
 * from a signal handler (machine_request_stop), its counters. */
struct machine *rr_session_machine(struct rr_session *s);

/* The virtual TSC's rate from now on (a replay takes the recording's, so
 * that a live TSC after leaving replay continues at it). */
void rr_session_set_tsc_khz(struct rr_session *s, uint32_t khz);

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
