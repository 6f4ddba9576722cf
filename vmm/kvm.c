#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Every KVM since Linux 2.6.22 reports API version 12. */
#define KVM_EXPECTED_API 12

int kvm_open(struct kvm *k, const char *path, const char **why)
{
	int err;

	k->sys_fd = k->vm_fd = -1;
	k->nslots = 0;
	k->sys_fd = open(path ? path : "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		err = -errno;
		*why = "cannot open the KVM device";
		return err;
	}
	if (ioctl(k->sys_fd, KVM_GET_API_VERSION, 0) != KVM_EXPECTED_API) {
		*why = "unexpected KVM API version";
		err = -ENOTSUP;
		goto fail;
	}
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		err = -errno;
		*why = "KVM_CREATE_VM failed";
		goto fail;
	}
	k->run_size = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		err = -EINVAL;
		*why = "KVM_GET_VCPU_MMAP_SIZE failed";
		goto fail;
	}
	return 0;
fail:
	kvm_close(k);
	return err;
}

void kvm_close(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	k->sys_fd = k->vm_fd = -1;
}

int kvm_cap(const struct kvm *k, long cap)
{
	int r = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, cap);

	if (r < 0)
		r = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

int kvm_set_slot(struct kvm *k, unsigned slot, uint64_t gpa, uint64_t size, void *host,
		 uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int kvm_add_slot(struct kvm *k, uint64_t gpa, uint64_t size, void *host, uint32_t flags)
{
	int r = kvm_set_slot(k, k->nslots, gpa, size, host, flags);

	return r < 0 ? r : (int)k->nslots++;
}

const char *kvm_backend(void)
{
	static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	static const char *const paths[] = { "/sys/module/kvm_intel", "/sys/module/kvm_amd",
					     "/sys/module/kvm_pvm" };

	for (unsigned i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (access(paths[i], F_OK) == 0)
			return mods[i];
	return "unknown";
}
