/* VMM benchmark: port I/O exits per second (ring 0 and ring 3) and a ring-3
 * loop in the guest against the very same machine code run natively.  Prints
 * ratios measured in one run, so a noisy machine affects both sides alike.
 *
 *   vmm_bench [--kvm PATH] [--iterations N] [--seconds S]
 */
#include <errno.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/hostclock.h"
#include "vmm/probe_vm.h"

/* mov ecx, N; xor eax, eax; 1: add eax, ecx; rol eax, 5; dec ecx; jnz 1b */
#define LOOP_BYTES(n)                                                                      \
	0xb9, (n) & 0xff, ((n) >> 8) & 0xff, ((n) >> 16) & 0xff, ((n) >> 24) & 0xff, 0x31, 0xc0, \
		0x01, 0xc8, 0xc1, 0xc0, 0x05, 0xff, 0xc9, 0x75, 0xf7

typedef uint32_t (*bench_loop_fn)(void);

static double bench_native(uint32_t n, uint32_t *result)
{
	const uint8_t code[] = { LOOP_BYTES(n), 0xc3 /* ret */ };
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bench_loop_fn fn;
	host_ns t0;

	if (page == MAP_FAILED)
		return -1;
	memcpy(page, code, sizeof(code));
	fn = (bench_loop_fn)page;
	t0 = host_now();
	*result = fn();
	t0 = host_now() - t0;
	munmap(page, 4096);
	return (double)t0 / 1e9;
}

static double bench_guest(const char *kp, uint32_t n)
{
	const uint8_t code[] = { LOOP_BYTES(n), 0xe6, PORT_TICK /* out: done */ };
	struct probe_vm p;
	struct probe_stop st;
	host_ns t0;

	if (probe_vm_open(&p, kp, PROBE_RING3, code, sizeof(code), true) < 0)
		return -1;
	t0 = host_now();
	st = probe_vm_step(&p);
	t0 = host_now() - t0;
	probe_vm_close(&p);
	return st.reason == KVM_EXIT_IO && st.port == PORT_TICK ? (double)t0 / 1e9 : -1;
}

static double bench_exits(const char *kp, int ring, double seconds)
{
	static const uint8_t code[] = { 0xe6, PORT_TICK, 0xeb, 0xfc }; /* 1: out; jmp 1b */
	struct probe_vm p;
	host_ns t0, end;
	uint64_t n = 0;

	if (probe_vm_open(&p, kp, ring, code, sizeof(code), true) < 0)
		return -1;
	t0 = host_now();
	end = t0 + (host_ns)(seconds * 1e9);
	while (host_now() < end) {
		for (int i = 0; i < 100; i++, n++)
			if (probe_vm_step(&p).reason != KVM_EXIT_IO)
				goto out;
	}
out:
	t0 = host_now() - t0;
	probe_vm_close(&p);
	return (double)n / ((double)t0 / 1e9);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kvm", required_argument, NULL, 'k' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *kp = NULL;
	uint32_t n = 400000000u, result;
	double seconds = 1.0, native, guest, ex0, ex3;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'k')
			kp = optarg;
		else if (opt == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 0);
		else if (opt == 's')
			seconds = strtod(optarg, NULL);
		else
			return 2;
	}
	ex0 = bench_exits(kp, PROBE_RING0, seconds);
	ex3 = bench_exits(kp, PROBE_RING3, seconds);
	native = bench_native(n, &result);
	guest = bench_guest(kp, n);
	if (ex0 < 0 || ex3 < 0 || native <= 0 || guest <= 0) {
		fprintf(stderr, "vmm_bench: cannot run the probe guests on %s\n",
			kp ? kp : "/dev/kvm");
		return 1;
	}
	printf("port I/O exits per second, ring 0:   %.0f (%.1f us each)\n", ex0, 1e6 / ex0);
	printf("port I/O exits per second, ring 3:   %.0f (%.1f us each)\n", ex3, 1e6 / ex3);
	printf("ring-3 loop of %u iterations: guest %.3f s, native %.3f s\n", n, guest, native);
	printf("ratio guest/native ring-3 loop time: %.3f\n", guest / native);
	return 0;
}
