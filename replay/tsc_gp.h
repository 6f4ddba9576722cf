/* RDTSC in ring 3, completed at the guest's #GP vector.
 *
 * A patched site (OUT 0xeb, AL: tsc_sites.h) that runs in ring 3 with
 * IOPL=0 and no I/O bitmap bit for the port raises #GP(0) on every host,
 * and nothing exits: on kvm_pvm ring 3 exits only for bitmap-allowed I/O
 * and MMIO, and on VT-x/AMD-V the fault is the guest's as well.  The fault
 * reaches the guest's ring-0 #GP handler, where a ring-0 trap does exit:
 * rrvm keeps a one-byte HLT over the first byte of the handler that the
 * guest's IDT names (placed and checked again at every sync point, so an
 * IDT, IDTR or page-table change moves it, and a guest that overwrote it
 * gets it back).  At that HLT exit, a frame saying "#GP(0) from ring 3 at a
 * patched site, with CR4.TSD clear" is rrvm's own: the VMM completes the
 * RDTSC (EDX:EAX = the virtual TSC, RIP past the site) and returns to ring
 * 3 as the handler's IRET would (RIP, CS, RFLAGS, RSP, SS from the frame).
 * Any other #GP is the guest's: the byte goes back, and the handler's first
 * instruction runs with a second HLT after it (when it does not branch),
 * which puts the trap back at once; else the trap returns at the next sync
 * point.  The trap's exits are sync points, in record and replay alike; a
 * ring-3 read's TSC_READ event carries the trap's RIP (the handler + 1).
 *
 * Why not the alternatives: DR0-3 at the handler would make every exit
 * ~1.7x dearer on kvm_pvm while armed (HOST.md) and take a debugger's
 * register; int3 exits neither in ring 0 nor ring 3 there; nothing but
 * I/O and MMIO exits from ring 3.
 *
 * What differs from a native RDTSC: the 24 or 48 bytes of the fault frame
 * stay written below the ring-0 stack top (dead stack, which any interrupt
 * from ring 3 overwrites too), and a guest reading its own handler's code
 * sees the HLT (as it sees the patched sites).  Single-stepping the site
 * itself with the guest's own TF is not modelled (the trap comes after
 * the next instruction).
 *
 * The decoders below are pure (unit-tested); tsc_gp_arm and tsc_gp_judge
 * read guest memory through the guest's page tables (vmm/paging.h). */
#ifndef RRVM_REPLAY_TSC_GP_H
#define RRVM_REPLAY_TSC_GP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct kvm_segment;
struct kvm_sregs;
struct tsc_sites;

#define TSC_GP_VECTOR 13
#define TSC_GP_HLT 0xf4

/* The trap's state: part of the session, saved in checkpoints. */
struct tsc_gp_trap {
	bool armed;
	uint64_t entry;   /* the handler's linear address when placed */
	uint64_t entry_rip; /* ... and its offset in the gate's CS: RIP there */
	uint64_t gpa;     /* where the HLT is */
	uint8_t orig;     /* the byte it replaced */
	uint8_t len;      /* the handler's first instruction's length; 0 when it
			   * branches (then the HLT returns at the next sync point) */
	bool usable;      /* the last check found a handler that can carry it */
	char why[64];     /* else why not (for the one warning) */
	uint64_t left_cr3; /* tsc_leave_user_sites ran for these page tables */
	/* A #GP of the guest's own: its handler's first instruction runs
	 * with a second HLT after it, which puts the first one back. */
	bool stepping;
	uint64_t step_gpa;
	uint8_t step_orig;
};

/* An interrupt frame as the CPU pushed it when #GP came from an outer ring
 * (SDM vol. 3, 6.12.1 and 6.14.2): same order in both widths. */
struct tsc_gp_frame {
	uint64_t err, rip, cs, rflags, rsp, ss;
};

/* Frame bytes: six 8-byte slots in long mode, six 4-byte ones otherwise. */
#define TSC_GP_FRAME_MAX 48
unsigned tsc_gp_frame_size(bool lm);
void tsc_gp_frame_decode(const uint8_t *raw, bool lm, struct tsc_gp_frame *f);

/* An IDT gate (16 bytes in long mode, 8 otherwise): 0 and the handler's
 * offset for a present interrupt or trap gate (32/64-bit), -ENOENT when not
 * present, -ENOTSUP for a task gate or anything else. */
int tsc_gp_gate_decode(const uint8_t *gate, bool lm, uint64_t *entry);

/* A GDT/LDT code or data descriptor as KVM holds a loaded segment
 * (accessed, as a load leaves it).  -EINVAL for a system or not-present
 * descriptor. */
int tsc_gp_segment(uint64_t desc, uint16_t sel, struct kvm_segment *seg);

/* Why a #GP frame is or is not a patched site's fault. */
enum tsc_gp_verdict {
	TSC_GP_OURS,
	TSC_GP_NOT_RING3, /* from ring 0-2: a patched OUT there exits instead */
	TSC_GP_ERRCODE,   /* #GP(selector): not what OUT raises */
	TSC_GP_V86,       /* virtual-8086 mode: not modelled */
	TSC_GP_TSD,       /* CR4.TSD: RDTSC in ring 3 faults natively too */
	TSC_GP_NO_SITE,   /* RIP is not at a patched site */
};

/* The pure part of the decision: everything but the site lookup. */
enum tsc_gp_verdict tsc_gp_frame_verdict(const struct tsc_gp_frame *f, uint64_t cr4);

/* At a sync point (SR: the vCPU as of this exit): puts the HLT at the
 * first byte of the #GP handler the IDT names now, moving it when that
 * changed, or takes it out when there is none that can carry it (then
 * t->usable is false and t->why says why). */
void tsc_gp_arm(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr);

/* Takes the HLT out. */
void tsc_gp_disarm(struct tsc_sites *s, struct guest_mem *m);

/* A #GP of the guest's own, at the trap: the HLT goes out so that the
 * handler's first instruction runs, with a HLT after it when it does not
 * branch (tsc_gp_is_step), which puts the trap back at once. */
void tsc_gp_pass(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr);
/* At a HLT exit: true when that HLT is the one after the first
 * instruction; then it is taken out (the caller moves RIP back onto it). */
bool tsc_gp_is_step(struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr,
		    uint64_t rip);

/* Length of the instruction in CODE (N bytes) for tsc_gp_trap.len: 0 when
 * it transfers control (jumps, calls, returns, interrupts) or does not
 * decode. */
uint8_t tsc_gp_insn_len(const uint8_t *code, size_t n, bool mode64);

/* At a HLT exit with RIP (an offset in SR's CS) past the HLT: true when
 * that HLT is the trap. */
bool tsc_gp_is_trap(const struct tsc_sites *s, struct guest_mem *m, const struct kvm_sregs *sr,
		    uint64_t rip);

/* At the trap (SS:RSP = the frame): the verdict, and for TSC_GP_OURS the frame
 * and the site's guest-physical address. */
enum tsc_gp_verdict tsc_gp_judge(const struct tsc_sites *s, struct guest_mem *m,
				 const struct kvm_sregs *sr, uint64_t rsp, struct tsc_gp_frame *f,
				 uint64_t *site_gpa);

/* The ring-3 segments the IRET would load: CS and SS of frame F from the
 * GDT (or LDT) of SR, into SR itself.  0 or -EFAULT/-EINVAL. */
int tsc_gp_iret_segments(struct guest_mem *m, struct kvm_sregs *sr, const struct tsc_gp_frame *f);

#endif
