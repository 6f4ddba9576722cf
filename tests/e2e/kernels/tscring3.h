/* The part of tscring3 that both rings run: tscring3.c links it with the
 * kernel (every page user-accessible, as small kernels map themselves), and
 * tscring3u into the user region (like a vDSO that the kernel calls too). */
#ifndef TSCRING3_H
#define TSCRING3_H

#include "runtime.h"

#define RING3_N 1000000ull /* native: ~2 ms */
#define RING0_N 300ull     /* emulated ring 0 (~1.3 M instructions/s): ~50 ms in all */
#define TRIES 3
#define NREADS 64

/* Every TSC read, in order, from both rings. */
extern volatile uint64_t reads[NREADS];
extern volatile unsigned nreads;
extern uint64_t delta[2][2]; /* [ring 0, ring 3][N, 8N] */
extern uint8_t ustack[16384]; /* the task's stack */
extern volatile bool task_gp;  /* the task raises its one #GP (default) */

/* Called by kmain before the measurements: a variant's changes to the
 * machine (tscring3h); does nothing by default. */
void tscring3_setup(void);

uint64_t clock_cycles(void);
/* The least TSC delta of TRIES busy loops of N and of 8N iterations, into
 * delta[RING]. */
void measure(int ring, uint64_t n);
/* Ring 3: measure, one privileged instruction (HLT: #GP) if task_gp, one more read,
 * then back to the kernel through int 0x80. */
void task(void);

#endif
