/* A VM exit as the rest of rrvm sees it, free of KVM types.  Every exit of
 * the vCPU passes through machine.c's single dispatch point, which fills one
 * of these and hands it to the installed hooks (the recorder logs it, the
 * replayer checks it and substitutes logged values).
 *
 * Bump the trace format version when this enum changes meaning. */
#ifndef RRVM_VMM_EXIT_H
#define RRVM_VMM_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/types.h"

enum vmm_exit_kind {
	VMM_EXIT_IO_IN,       /* sync point */
	VMM_EXIT_IO_OUT,      /* sync point */
	VMM_EXIT_MMIO_READ,   /* sync point */
	VMM_EXIT_MMIO_WRITE,  /* sync point */
	VMM_EXIT_HLT,         /* sync point */
	VMM_EXIT_IRQ_WINDOW,  /* sync point */
	VMM_EXIT_RDMSR,       /* sync point: addr = MSR index; hooks answer in data */
	VMM_EXIT_DEBUG,       /* single-step or breakpoint */
	VMM_EXIT_WATCH,       /* a guest write to a debugger's watched page, applied:
			       * not a sync point (the recording had no exit here) */
	VMM_EXIT_KICK,        /* KVM_RUN interrupted by a host signal: not a sync point */
	VMM_EXIT_LANDMARK,    /* sync point: a kick (record) or a breakpoint hit
			       * (replay) at a place the guest did not exit */
	VMM_EXIT_SHUTDOWN,    /* triple fault */
	VMM_EXIT_ERROR,       /* internal error, emulation failure, failed entry */
	VMM_EXIT_WRMSR,       /* sync point: addr = MSR index, data = the value */
	VMM_EXIT_KIND_COUNT,
};

struct vmm_exit {
	enum vmm_exit_kind kind;
	bool is_sync;   /* caused by the guest's own instruction stream */
	sync_seq sync;  /* this exit's sync point number when is_sync */
	uint64_t addr;  /* port, or guest-physical address for MMIO */
	unsigned size;  /* access size in bytes */
	uint64_t data;  /* value written, or value read: hooks may replace it */
	uint64_t old;   /* VMM_EXIT_WATCH: what the bytes held before */
	bool claimed;   /* a device answered the access; for MMIO writes: the write
			 * hit read-only RAM (code) and was applied; for HLT, set by
			 * a hook: the HLT was its trap, so the guest does not idle */
};

struct vmm_hooks {
	void *ctx;
	/* Called once per exit after the devices ran and before the guest
	 * resumes.  For reads, X->data is what the guest will receive.  A
	 * negative return stops the machine (MACHINE_STOP_HOOK). */
	int (*on_exit)(void *ctx, struct vmm_exit *x);
	/* Called at a sync point just before VECTOR is injected.  A negative
	 * return stops the machine. */
	int (*on_inject)(void *ctx, sync_seq sync, uint8_t vector);
};

const char *vmm_exit_kind_name(enum vmm_exit_kind k);

#endif
