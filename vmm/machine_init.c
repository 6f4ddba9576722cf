/* Building the machine: KVM, RAM, the vCPU and its CPUID, the kernel, and
 * the devices in table order.  The run loop is in machine.c. */
#define LOG_MODULE "vmm"
#include "vmm/machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vmm/device.h"
#include "vmm/linux_boot.h"
#include "vmm/machine_int.h"
#include "vmm/mapfile.h"
#include "vmm/mptable.h"

/* ISA interrupt lines of the PC devices. */
#define IRQ_COM1 4

/* The ordered device table: the port and MMIO maps, and the checkpoint
 * order. */
static const struct machine_device {
	const struct vmm_device_ops *ops;
	size_t offset; /* of the device state inside struct machine */
	size_t enabled; /* of the machine_config bool that puts it on the bus; 0: always */
} machine_devices[] = {
	{ .ops = &serial_ops, .offset = offsetof(struct machine, com1) },
	{ .ops = &pic_ops, .offset = offsetof(struct machine, pic) },
	{ .ops = &pit_ops, .offset = offsetof(struct machine, pit) },
	{ .ops = &rtc_ops, .offset = offsetof(struct machine, rtc) },
	{ .ops = &debugexit_ops, .offset = offsetof(struct machine, dbgexit) },
	{ .ops = &fwcfg_ops, .offset = offsetof(struct machine, fwcfg),
	  .enabled = offsetof(struct machine_config, fw_cfg) },
	{ .ops = &lapic_ops, .offset = offsetof(struct machine, lapic),
	  .enabled = offsetof(struct machine_config, apic) },
	{ .ops = &ioapic_ops, .offset = offsetof(struct machine, ioapic),
	  .enabled = offsetof(struct machine_config, apic) },
	{ .ops = &i8042_ops, .offset = offsetof(struct machine, kbc) },
	{ .ops = &postcode_ops, .offset = offsetof(struct machine, post) },
};

/* An ISA interrupt line goes to the 8259 and, as on a PC, to the IOAPIC. */
static int machine_msr_filter(struct machine *m);

static void machine_irq_cb(void *opaque, unsigned line, bool level)
{
	struct machine *m = opaque;

	pic_set_irq(&m->pic, line, level);
	if (m->cfg.apic)
		ioapic_set_irq(&m->ioapic, ioapic_isa_pin(line), level);
}

/* An IOAPIC message reaches the one local APIC if addressed to it. */
static void machine_apic_msg(void *opaque, const struct ioapic_msg *msg)
{
	struct machine *m = opaque;

	if (!lapic_match(&m->lapic, msg->dest, msg->logical))
		return;
	if (msg->mode == LAPIC_DM_FIXED || msg->mode == LAPIC_DM_LOWEST)
		lapic_accept(&m->lapic, msg->vector, msg->level);
	else if (msg->mode == LAPIC_DM_NMI)
		lapic_nmi(&m->lapic);
}

static void machine_apic_eoi(void *opaque, uint8_t vector)
{
	struct machine *m = opaque;

	ioapic_eoi(&m->ioapic, vector);
}

static void machine_serial_tx(void *opaque, uint8_t byte)
{
	struct machine *m = opaque;

	putc(byte, m->cfg.serial_out);
}

static void machine_debug_exit(void *opaque, int status)
{
	struct machine *m = opaque;

	m->result.status = status;
	machine_stop(m, MACHINE_STOP_DEBUG_EXIT, "guest exited with status %d", status);
}

/* The guest pulled the reset line: the run ends there (MACHINE_STOP_RESET).
 * There is no firmware to reboot into; a machine that started again would
 * be a new one, whose devices machine_init brings to their power-on state. */
static void machine_reset_req(void *opaque)
{
	struct machine *m = opaque;

	machine_stop(m, MACHINE_STOP_RESET, "guest reset the machine (i8042 reset line)");
}

/* The initial CPU state of each boot protocol. */
static int machine_boot_cpu(struct machine *m)
{
	const struct boot_image *b = &m->boot;
	struct kvm_regs regs;
	int r;

	switch (b->protocol) {
	case BOOT_MULTIBOOT1:
		return vcpu_boot_protected(&m->vcpu, &m->mem, b->area, (uint32_t)b->entry,
					   MULTIBOOT_BOOT_MAGIC, b->mbi);
	case BOOT_LINUX_PVH:
		return vcpu_boot_protected(&m->vcpu, &m->mem, b->area, (uint32_t)b->entry, 0,
					   (uint32_t)b->boot_arg);
	case BOOT_LINUX64:
		r = vcpu_boot_long(&m->vcpu, &m->mem, b->area, b->entry, false);
		if (r == 0)
			r = vcpu_get_regs(&m->vcpu, &regs);
		if (r < 0)
			return r;
		regs.rsi = b->boot_arg; /* boot.rst, "64-bit boot protocol" */
		return vcpu_set_regs(&m->vcpu, &regs);
	case BOOT_ELF64:
		break;
	}
	return vcpu_boot_long(&m->vcpu, &m->mem, b->area, b->entry, false);
}

/* The module list: given one by one, or split from QEMU's -initrd syntax;
 * the strings copied into m->modstore either way. */
static int machine_module_list(struct machine *m, struct loader_modspec *items, unsigned *n,
			       char *msg, size_t msglen)
{
	size_t o = 0;
	int r;

	*n = 0;
	if (!m->cfg.modules) {
		r = m->cfg.initrd_path ? loader_split_modules(m->cfg.initrd_path, m->modstore,
							       sizeof(m->modstore), items,
							       MACHINE_MAX_MODULES, n)
				       : 0;
		if (r == -EINVAL)
			snprintf(msg, msglen, "--initrd '%s': a module without a file name",
				 m->cfg.initrd_path);
		else if (r < 0)
			snprintf(msg, msglen, "--initrd: more than %u modules or longer than %u bytes",
				 MACHINE_MAX_MODULES, MACHINE_MODSTORE / 2 - 1);
		return r;
	}
	if (m->cfg.nmodules > MACHINE_MAX_MODULES) {
		snprintf(msg, msglen, "more than %u multiboot modules", MACHINE_MAX_MODULES);
		return -E2BIG;
	}
	for (unsigned i = 0; i < m->cfg.nmodules; i++) {
		const char *str[2] = { m->cfg.modules[i].path, m->cfg.modules[i].cmdline };

		for (unsigned k = 0; k < 2; k++) {
			size_t l = strlen(str[k]) + 1;

			if (l > sizeof(m->modstore) - o) {
				snprintf(msg, msglen, "multiboot module names longer than %u bytes",
					 MACHINE_MODSTORE);
				return -E2BIG;
			}
			memcpy(m->modstore + o, str[k], l);
			if (k == 0)
				items[i].path = m->modstore + o;
			else
				items[i].cmdline = m->modstore + o;
			o += l;
		}
	}
	*n = m->cfg.nmodules;
	return 0;
}

/* Maps the multiboot modules (m->mods) and lists them for the loader. */
static int machine_map_modules(struct machine *m, struct loader_module *lm, char *msg,
			       size_t msglen)
{
	struct loader_modspec items[MACHINE_MAX_MODULES];
	unsigned n;
	int r = machine_module_list(m, items, &n, msg, msglen);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++) {
		struct machine_module *mod = &m->mods[i];

		if (strlen(items[i].cmdline) >= MACHINE_MODULE_CMDLINE_MAX) {
			snprintf(msg, msglen, "%s: module command line longer than %u bytes",
				 items[i].path, MACHINE_MODULE_CMDLINE_MAX - 1);
			return -E2BIG;
		}
		mod->path = items[i].path;
		mod->cmdline = items[i].cmdline;
		r = mapfile_open(mod->path, &mod->data, &mod->len, msg, msglen);
		if (r < 0)
			return r;
		m->nmods = i + 1;
		lm[i] = (struct loader_module){ mod->data, mod->len, mod->cmdline };
	}
	return (int)n;
}

static int machine_load_linux(struct machine *m, char *msg, size_t msglen, const char **why)
{
	struct linux_boot_files f = { m->kernel, m->kernel_len, NULL, 0, m->cmdline };
	int r;

	if (m->cfg.initrd_path) {
		r = mapfile_open(m->cfg.initrd_path, &m->initrd, &m->initrd_len, msg, msglen);
		if (r < 0)
			return r;
		f.initrd = m->initrd;
		f.initrd_len = m->initrd_len;
	}
	return linux_boot_load(&m->mem, &f, &m->boot, why);
}

static int machine_load_kernel(struct machine *m, enum machine_init_error *kind, char *msg,
			       size_t msglen)
{
	const char *why = "";
	char *cmdline = m->cmdline;
	const char *args = m->cfg.cmdline ? m->cfg.cmdline : "";
	bool is_linux;
	int r = mapfile_open(m->cfg.kernel_path, &m->kernel, &m->kernel_len, msg, msglen);

	*kind = MACHINE_INIT_KERNEL;
	if (r < 0)
		return r;
	is_linux = linux_boot_kind(m->kernel, m->kernel_len) != LINUX_NONE;
	/* QEMU's multiboot loader passes "<kernel path> <append>"; so does
	 * rrvm, so that a kernel prints the same line under both.  Linux gets
	 * the -append string alone, as from QEMU. */
	if (m->cfg.cmdline_verbatim || is_linux)
		snprintf(cmdline, sizeof(m->cmdline), "%s", args);
	else
		snprintf(cmdline, sizeof(m->cmdline), "%s%s%s", m->cfg.kernel_path,
			 *args ? " " : "", args);
	if (is_linux) {
		r = machine_load_linux(m, msg, msglen, &why);
		if (r < 0 && !why[0])
			return r; /* the initrd could not be read: MSG says why */
	} else {
		struct loader_module lm[MACHINE_MAX_MODULES];
		int n = machine_map_modules(m, lm, msg, msglen);

		if (n < 0) {
			if (n != -E2BIG && n != -EINVAL)
				return n; /* a module could not be read: MSG says why */
			*kind = MACHINE_INIT_CONFIG;
			return n;
		}
		r = loader_load(&m->mem, m->kernel, m->kernel_len, cmdline, lm, (unsigned)n,
				&m->boot, &why);
		if (r == 0 && m->boot.area)
			log_info("%s: rrvm's boot area (GDT, multiboot information) at %#x-%#x, "
				 "beside the kernel", m->cfg.kernel_path, m->boot.area,
				 m->boot.area + BOOT_AREA_SIZE - 1);
	}
	if (r < 0) {
		if (r == -EFBIG)
			*kind = MACHINE_INIT_NOFIT;
		else if (r == -E2BIG || r == -EINVAL)
			*kind = MACHINE_INIT_CONFIG;
		snprintf(msg, msglen, "%s: %s", m->cfg.kernel_path, why);
		return r;
	}
	*kind = MACHINE_INIT_KVM;
	r = machine_boot_cpu(m);
	/* Until the first exit, "the registers as of the last exit" are the
	 * boot state (KVM fills the synced copy only at exits). */
	if (r == 0)
		r = vcpu_get_regs(&m->vcpu, machine_regs(m));
	if (r < 0)
		snprintf(msg, msglen, "cannot set the initial CPU state: %s", strerror(-r));
	return r;
}

/* What a PC BIOS leaves for the OS, since rrvm boots kernels without one:
 * the local APIC in virtual wire mode, the IOAPIC's ID as the MP table
 * gives it, and the MP table itself. */
static void machine_apic_firmware(struct machine *m)
{
	const struct cpuid_entry *leaf1 = cpuid_find(&m->cpuid, 1, 0);
	uint8_t *ram = gmem_ptr(&m->mem, MPTABLE_GPA, MPTABLE_MAX);

	lapic_bios_handoff(&m->lapic);
	ioapic_ops.mmio_write(&m->ioapic, 0x00, 1, 0x00); /* IOREGSEL: ID */
	ioapic_ops.mmio_write(&m->ioapic, 0x10, 4, MPTABLE_IOAPIC_ID << 24);
	if (ram)
		mptable_build(ram, MPTABLE_MAX, MPTABLE_GPA, leaf1 ? leaf1->eax : 0,
			      leaf1 ? leaf1->edx : 0);
}

static int machine_init_devices(struct machine *m)
{
	serial_init(&m->com1, machine_irq_cb, m, IRQ_COM1, machine_serial_tx, m);
	pic_init(&m->pic);
	pit_init(&m->pit, machine_clock_cb, m, machine_irq_cb, m);
	rtc_init(&m->rtc, m->cfg.rtc_epoch, m->cfg.ram_size, machine_clock_cb, m,
		 machine_irq_cb, m);
	debugexit_init(&m->dbgexit, machine_debug_exit, m);
	fwcfg_init(&m->fwcfg, m->cfg.ram_size, 1, m->cmdline);
	lapic_init(&m->lapic, machine_clock_cb, m, machine_apic_eoi, m);
	ioapic_init(&m->ioapic, machine_apic_msg, m);
	i8042_init(&m->kbc, machine_reset_req, m);
	portbus_init(&m->bus);
	mmiobus_init(&m->mmio);
	m->ndevs = 0;
	for (size_t i = 0; i < sizeof(machine_devices) / sizeof(machine_devices[0]); i++) {
		const struct machine_device *d = &machine_devices[i];
		void *dev = (char *)m + d->offset;
		int r;

		if (d->enabled && !*(const bool *)((const char *)&m->cfg + d->enabled))
			continue;
		r = d->ops->mmio_len ? mmiobus_add(&m->mmio, d->ops, dev)
				     : portbus_add(&m->bus, d->ops, dev);
		if (r < 0)
			return r;
		m->devs[m->ndevs++] = (struct portbus_slot){ d->ops, dev };
	}
	if (m->cfg.apic)
		machine_apic_firmware(m);
	return 0;
}

/* Creates the vCPU with rrvm's fixed CPUID table and records what the guest
 * will really see: some backends rewrite parts of it (vmm/cpuid.h). */
static int machine_init_cpu(struct machine *m)
{
	struct cpuid_table fixed;
	int r = cpuid_build(&fixed, &m->kvm, m->cfg.apic);

	if (r == 0)
		r = vcpu_init(&m->vcpu, &m->kvm, &fixed);
	/* KVM shows CPUID's APIC bit only while its copy of IA32_APIC_BASE
	 * has the enable bit (as hardware does); without an in-kernel APIC
	 * that copy starts at 0.  The guest's own accesses go to rrvm's APIC
	 * through the MSR filter; this copy follows them. */
	if (r == 0 && m->cfg.apic)
		r = vcpu_set_msr(&m->vcpu, LAPIC_MSR_APIC_BASE,
				 LAPIC_DEFAULT_BASE | LAPIC_BASE_BSP | LAPIC_BASE_ENABLE);
	if (r == 0)
		r = cpuid_read(&m->cpuid, m->vcpu.fd);
	if (r < 0)
		return r;
	if (cpuid_diff(&fixed, &m->cpuid, m->cpuid_rewritten, sizeof(m->cpuid_rewritten)))
		log_info("KVM (%s) rewrote CPUID leaves %s of rrvm's fixed table: the guest "
			 "sees host CPU features there",
			 kvm_backend(), m->cpuid_rewritten);
	return 0;
}

int machine_init(struct machine *m, const struct machine_config *cfg,
		 enum machine_init_error *kind, char *msg, size_t msglen)
{
	const char *why = "";
	int r;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->stop_after_sync = MACHINE_NO_SYNC_LIMIT;
	m->vcpu.fd = m->kvm.sys_fd = m->kvm.vm_fd = -1;
	*kind = MACHINE_INIT_CONFIG;
	if (cfg->ram_size < MACHINE_MIN_RAM || cfg->ram_size > MACHINE_MAX_RAM ||
	    cfg->ram_size % MACHINE_MIN_RAM) {
		snprintf(msg, msglen, "guest RAM must be a multiple of 2 MiB between 2 MiB and 3 GiB");
		return -EINVAL;
	}
	host_inputs_init(&m->host_in, cfg->serial_in_fd);
	m->in = cfg->inputs ? *cfg->inputs : host_inputs_ops(&m->host_in);
	*kind = MACHINE_INIT_KVM;
	r = kvm_open(&m->kvm, cfg->kvm_path, &why);
	if (r < 0) {
		snprintf(msg, msglen, "%s: %s (%s)", cfg->kvm_path ? cfg->kvm_path : "/dev/kvm",
			 strerror(-r), why);
		return r;
	}
	r = gmem_init(&m->mem, &m->kvm, cfg->ram_size);
	if (r < 0) {
		snprintf(msg, msglen, "cannot allocate %llu MiB of guest RAM: %s",
			 (unsigned long long)(cfg->ram_size >> 20), strerror(-r));
		goto fail;
	}
	r = completer_init(&m->completer);
	if (r == 0)
		r = machine_init_cpu(m);
	if (r == -ENOTSUP) {
		snprintf(msg, msglen, "cannot create the vCPU: this KVM lacks KVM_CAP_SYNC_REGS "
			 "(registers in kvm_run at every exit), which rrvm needs");
		goto fail;
	}
	if (r < 0) {
		snprintf(msg, msglen, "cannot create the vCPU: %s", strerror(-r));
		goto fail;
	}
	r = machine_load_kernel(m, kind, msg, msglen);
	if (r < 0)
		goto fail;
	/* Guest time is 0 until the first exit: devices that read the clock
	 * while they are built see 0, in every mode. */
	m->now = 0;
	m->now_valid = true;
	r = machine_init_devices(m);
	if (r < 0) {
		*kind = MACHINE_INIT_CONFIG;
		snprintf(msg, msglen, "device table: %s", strerror(-r));
		goto fail;
	}
	m->irq_rose = VCLOCK_NEVER;
	m->lm_user = -1;
	*kind = MACHINE_INIT_KVM;
	r = dirty_init(&m->dirty, &m->mem, m->kvm.vm_fd);
	/* The landmark hash over all of RAM starts from zeros with every page
	 * to look at; over the pages written (old traces) it counts the
	 * guest's writes from its first instruction on: the loader's are the
	 * same in record and replay. */
	if (r == 0 && (r = dirty_add_user(&m->dirty, !m->cfg.lm_hash_written, false)) >= 0)
		m->lm_user = r, r = memhash_init(&m->lm_mem, m->dirty.npages);
	if (r < 0) {
		snprintf(msg, msglen, "cannot track written guest pages: %s", strerror(-r));
		goto fail;
	}
	r = m->cfg.apic ? machine_msr_filter(m) : 0;
	if (r < 0) {
		snprintf(msg, msglen, "--apic on needs KVM's MSR filter for IA32_APIC_BASE: %s",
			 strerror(-r));
		goto fail;
	}
	return 0;
fail:
	machine_free(m);
	return r;
}

void machine_free(struct machine *m)
{
	mapfile_close(m->kernel, m->kernel_len);
	m->kernel = NULL;
	kick_free(&m->kick);
	dirty_free(&m->dirty);
	memhash_free(&m->lm_mem);
	mapfile_close(m->initrd, m->initrd_len);
	m->initrd = NULL;
	for (unsigned i = 0; i < m->nmods; i++)
		mapfile_close(m->mods[i].data, m->mods[i].len);
	m->nmods = 0;
	completer_free(&m->completer);
	vcpu_free(&m->vcpu);
	gmem_free(&m->mem);
	kvm_close(&m->kvm);
}

void machine_request_stop(struct machine *m)
{
	atomic_fetch_add(&m->stop_requested, 1);
	kick_now(&m->kick);
}

/* The MSR filter: one deny range of one MSR per trapped MSR, whose
 * accesses then exit as KVM_EXIT_X86_RDMSR/WRMSR (KVM_MSR_EXIT_REASON_FILTER);
 * every other MSR stays with KVM.  KVM_X86_SET_MSR_FILTER replaces the
 * whole filter, so it is rebuilt from the machine's list each time. */
static int machine_msr_filter(struct machine *m)
{
	static uint8_t deny[1];
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = { KVM_MSR_EXIT_REASON_FILTER },
	};
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
	unsigned n = 0;

	if (!kvm_cap(&m->kvm, KVM_CAP_X86_MSR_FILTER))
		return -ENOTSUP;
	for (unsigned i = 0; i < m->nrdmsr_traps; i++)
		f.ranges[n++] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ, .nmsrs = 1, .base = m->rdmsr_traps[i],
			.bitmap = deny,
		};
	if (m->cfg.apic)
		f.ranges[n++] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1,
			.base = LAPIC_MSR_APIC_BASE, .bitmap = deny,
		};
	if (!n)
		return 0;
	if (ioctl(m->kvm.vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(m->kvm.vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return -errno;
	return 0;
}

int machine_trap_rdmsr(struct machine *m, uint32_t index)
{
	if (m->nrdmsr_traps == MACHINE_MAX_MSR_TRAPS)
		return -ENOSPC;
	m->rdmsr_traps[m->nrdmsr_traps++] = index;
	return machine_msr_filter(m);
}

const char *machine_irq_controller(const struct machine *m)
{
	return m->cfg.apic ? "apic" : "pic";
}

const struct machine_stats *machine_get_stats(const struct machine *m)
{
	return &m->stats;
}

