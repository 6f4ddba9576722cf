/* Probe VMs: a fresh, tiny long-mode guest running a few bytes of machine
 * code in ring 0 or ring 3, with an IDT whose handlers report the vector on
 * a port.  Used by the host probe (vmm/probe.c) and by bench/.  Each VM costs
 * one KVM_CREATE_VM and 4 MiB of RAM. */
#ifndef RRVM_VMM_PROBE_VM_H
#define RRVM_VMM_PROBE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/cpuid.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

enum { PROBE_RING0, PROBE_RING3, PROBE_NRINGS };

/* Probe guest layout (guest physical = linear, identity mapped, user
 * accessible).  Below 0x8000 is the boot area of vcpu_boot_long(). */
#define PROBE_RAM (4u << 20)
#define PROBE_IDT 0xa000
#define PROBE_HANDLERS 0xb000 /* 8 bytes per vector */
#define PROBE_SYSCALL_ENTRY 0xb800
#define PROBE_STACK0 0xf000
#define PROBE_STACK3 0xe000
#define PROBE_CODE 0x20000
#define PROBE_DATA 0x30000
#define PROBE_TSS 0x40000 /* 104 bytes, then an I/O bitmap of 8 KiB + 1 */
#define PROBE_TSS_IOPERM_LIMIT (104 + 8192)
#define PROBE_RO_GPA 0x800000    /* probes add memslots here */
#define PROBE_DIRTY_GPA 0xa00000

/* Ports the probe guest reports through. */
#define PORT_TICK 0x80      /* the probed instruction stream ran on */
#define PORT_EXCEPTION 0x81 /* an exception handler ran; AL = vector */
#define PORT_SYSCALL 0x82   /* the SYSCALL entry ran */

/* Machine code, 64-bit mode.  UD2 marks "the guest ran on past the probed
 * instruction": its #UD reaches the ring-0 handler, which reports vector 6.
 * (OUT cannot mark it: ring 3 may not be allowed to do port I/O.) */
#define OUT_TICK 0xe6, PORT_TICK
#define UD2 0x0f, 0x0b
#define HLT 0xf4
#define NOP 0x90

struct probe_vm {
	struct kvm kvm;
	struct guest_mem mem;
	struct vcpu vcpu;
	struct cpuid_table cpuid;
	void *extra;
};

/* What the guest did first. */
struct probe_stop {
	unsigned reason;  /* KVM_EXIT_* or ~0u when KVM_RUN failed */
	uint64_t pc;      /* for KVM_EXIT_DEBUG */
	uint16_t port;
	uint8_t value;
	bool mmio_write;
	uint64_t mmio_addr;
};


/* A fresh VM in long mode at PROBE_CODE running CODE in RING.  IOPERM: ring
 * 3 may use every port through the TSS I/O bitmap. */
int probe_vm_open(struct probe_vm *p, const char *kvm_path, int ring, const uint8_t *code,
		  size_t len, bool ioperm);
void probe_vm_close(struct probe_vm *p);
/* KVM_SET_GUEST_DEBUG with CONTROL, DR0 and DR7. */
int probe_vm_debug(struct probe_vm *p, uint32_t control, uint64_t dr0, uint64_t dr7);
/* Runs until the first exit that is not a harmless kick. */
struct probe_stop probe_vm_step(struct probe_vm *p);

#endif
