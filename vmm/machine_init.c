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

/* ISA interrupt lines of the PC devices. */
#define IRQ_COM1 4

/* The ordered device table: the port map and, later, the checkpoint order. */
static const struct machine_device {
	const struct vmm_device_ops *ops;
	size_t offset; /* of the device state inside struct machine */
} machine_devices[] = {
	{ &serial_ops, offsetof(struct machine, com1) },
	{ &pic_master_ops, offsetof(struct machine, pic) },
	{ &pic_slave_ops, offsetof(struct machine, pic) },
	{ &pic_elcr_ops, offsetof(struct machine, pic) },
	{ &pit_ops, offsetof(struct machine, pit) },
	{ &pit_gate_ops, offsetof(struct machine, pit) },
	{ &rtc_ops, offsetof(struct machine, rtc) },
	{ &debugexit_ops, offsetof(struct machine, dbgexit) },
	{ &i8042_data_ops, offsetof(struct machine, kbc) },
	{ &i8042_cmd_ops, offsetof(struct machine, kbc) },
	{ &postcode_ops, offsetof(struct machine, post) },
};

static void machine_irq_cb(void *opaque, unsigned line, bool level)
{
	struct machine *m = opaque;

	pic_set_irq(&m->pic, line, level);
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

/* The initial CPU state of each boot protocol. */
static void machine_reset_req(void *opaque)
{
	struct machine *m = opaque;

	machine_stop(m, MACHINE_STOP_RESET, "guest reset the machine (i8042 reset line)");
}

static int machine_boot_cpu(struct machine *m)
{
	const struct boot_image *b = &m->boot;
	struct kvm_regs regs;
	int r;

	switch (b->protocol) {
	case BOOT_MULTIBOOT1:
		return vcpu_boot_protected(&m->vcpu, &m->mem, (uint32_t)b->entry,
					   MULTIBOOT_BOOT_MAGIC, b->mbi);
	case BOOT_LINUX_PVH:
		return vcpu_boot_protected(&m->vcpu, &m->mem, (uint32_t)b->entry, 0,
					   (uint32_t)b->boot_arg);
	case BOOT_LINUX64:
		r = vcpu_boot_long(&m->vcpu, &m->mem, b->entry, false);
		if (r == 0)
			r = vcpu_get_regs(&m->vcpu, &regs);
		if (r < 0)
			return r;
		regs.rsi = b->boot_arg; /* boot.rst, "64-bit boot protocol" */
		return vcpu_set_regs(&m->vcpu, &regs);
	case BOOT_ELF64:
		break;
	}
	return vcpu_boot_long(&m->vcpu, &m->mem, b->entry, false);
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
	} else if (m->cfg.initrd_path) {
		*kind = MACHINE_INIT_CONFIG;
		snprintf(msg, msglen, "%s: --initrd needs a Linux kernel (a bzImage or vmlinux)",
			 m->cfg.kernel_path);
		return -EINVAL;
	} else {
		r = loader_load(&m->mem, m->kernel, m->kernel_len, cmdline, &m->boot, &why);
	}
	if (r < 0) {
		if (r == -EFBIG)
			*kind = MACHINE_INIT_NOFIT;
		else if (r == -E2BIG)
			*kind = MACHINE_INIT_CONFIG;
		snprintf(msg, msglen, "%s: %s", m->cfg.kernel_path, why);
		return r;
	}
	*kind = MACHINE_INIT_KVM;
	r = machine_boot_cpu(m);
	if (r < 0)
		snprintf(msg, msglen, "cannot set the initial CPU state: %s", strerror(-r));
	return r;
}

static int machine_init_devices(struct machine *m)
{
	serial_init(&m->com1, machine_irq_cb, m, IRQ_COM1, machine_serial_tx, m);
	pic_init(&m->pic);
	pit_init(&m->pit, machine_clock_cb, m, machine_irq_cb, m);
	rtc_init(&m->rtc, m->cfg.rtc_epoch, m->cfg.ram_size, machine_clock_cb, m,
		 machine_irq_cb, m);
	debugexit_init(&m->dbgexit, machine_debug_exit, m);
	i8042_init(&m->kbc, machine_reset_req, m);
	portbus_init(&m->bus);
	for (size_t i = 0; i < sizeof(machine_devices) / sizeof(machine_devices[0]); i++) {
		const struct machine_device *d = &machine_devices[i];
		int r = portbus_add(&m->bus, d->ops, (char *)m + d->offset);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Creates the vCPU with rrvm's fixed CPUID table and records what the guest
 * will really see: some backends rewrite parts of it (vmm/cpuid.h). */
static int machine_init_cpu(struct machine *m)
{
	struct cpuid_table fixed;
	int r = cpuid_build(&fixed, &m->kvm);

	if (r == 0)
		r = vcpu_init(&m->vcpu, &m->kvm, &fixed);
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
	return 0;
fail:
	machine_free(m);
	return r;
}

void machine_free(struct machine *m)
{
	mapfile_close(m->kernel, m->kernel_len);
	m->kernel = NULL;
	mapfile_close(m->initrd, m->initrd_len);
	m->initrd = NULL;
	completer_free(&m->completer);
	vcpu_free(&m->vcpu);
	gmem_free(&m->mem);
	kvm_close(&m->kvm);
}

void machine_request_stop(struct machine *m)
{
	m->stop_requested++;
	if (m->vcpu.run)
		m->vcpu.run->immediate_exit = 1;
}

int machine_trap_rdmsr(struct machine *m, uint32_t index)
{
	/* One deny-read range of one MSR: its reads exit as KVM_EXIT_X86_RDMSR
	 * (KVM_MSR_EXIT_REASON_FILTER); every other MSR stays with KVM. */
	static uint8_t deny[1];
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = { KVM_MSR_EXIT_REASON_FILTER },
	};
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = { .flags = KVM_MSR_FILTER_READ, .nmsrs = 1, .base = index,
			       .bitmap = deny },
	};

	if (!kvm_cap(&m->kvm, KVM_CAP_X86_MSR_FILTER))
		return -ENOTSUP;
	if (ioctl(m->kvm.vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(m->kvm.vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return -errno;
	return 0;
}

