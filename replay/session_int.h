/* The session's state, for the files of replay/ (and its white-box
 * tests): everyone else holds a struct rr_session * from rr_session_open
 * and goes through replay/session.h. */
#ifndef RRVM_REPLAY_SESSION_INT_H
#define RRVM_REPLAY_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/session.h"
#include "replay/tsc_sites.h"
#include "vmm/machine.h"

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

/* rr_session_open and rr_session_close in the caller's storage: boots
 * CFG's kernel into S->m and prepares it; frees what S holds, not S. */
int rr_session_init(struct rr_session *s, const struct machine_config *cfg,
		    enum machine_init_error *kind, char *msg, size_t msglen);
void rr_session_free(struct rr_session *s);

#endif
