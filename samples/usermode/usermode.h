/*
 * The usermode sample's system-call ABI, shared by the kernel (usermode.c) and the
 * ring-3 tasks (tasks.c, linked into the user region).
 *
 * int 0x80: RAX = number, RDI/RSI/RDX = arguments, result in RAX; every other
 * register is preserved.
 */
#ifndef RRVM_SAMPLES_USERMODE_H
#define RRVM_SAMPLES_USERMODE_H

#include <stdint.h>

#define NTASKS 3

enum sys_nr {
	SYS_WRITE = 0,     /* (buf, len) -> len; buf must lie in the user region */
	SYS_YIELD = 1,     /* () -> 0; gives the CPU to the next task */
	SYS_CLOCK = 2,     /* () -> microseconds since the scheduler started (reads the PIT) */
	SYS_EXIT = 3,      /* (result) -> does not return */
	SYS_NEXITED = 4,   /* () -> number of tasks that have exited */
};

/* Results each task must compute (checked by the kernel, printed by the task). */
#define PRIMES_LIMIT     60000u          /* primes below */
#define PRIMES_EXPECTED  6057u
#define COLLATZ_LIMIT    60000u          /* longest Collatz chain starting below */
#define COLLATZ_EXPECTED 52527u
#define XORSHIFT_ROUNDS  (1u << 22)
#define XORSHIFT_EXPECTED 9008773258806421ull

/* Ring-3 entry points: void task_main(uint64_t id) on the stack user_stack_top(id). */
void task_main(uint64_t id);
extern uint8_t user_stacks[NTASKS][8192];

#endif
