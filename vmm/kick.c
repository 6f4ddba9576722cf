#define _GNU_SOURCE
#include "vmm/kick.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A real-time signal nobody else in rrvm uses (the CLI catches SIGINT and
 * SIGTERM only). */
#define KICK_SIGNAL (SIGRTMIN + 2)

static void kick_handler(int sig, siginfo_t *si, void *uc)
{
	struct vmm_kick *k = si->si_value.sival_ptr;

	(void)sig;
	(void)uc;
	if ((si->si_code == SI_TIMER || si->si_code == SI_QUEUE) && k && k->run)
		k->run->immediate_exit = 1;
}

static int kick_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kick_handler;
	/* SA_RESTART: other system calls a kick lands in go on (a write of
	 * serial output); KVM_RUN returns -EINTR, which is never restarted. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int kick_bind(struct vmm_kick *k, struct kvm_run *run)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct sigevent ev;
	int r;

	k->run = run;
	if (k->tid == tid)
		return 0;
	kick_free(k);
	k->run = run;
	if ((r = kick_install()) < 0)
		return r;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = KICK_SIGNAL;
	ev.sigev_value.sival_ptr = k;
	ev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &ev, &k->timer) < 0)
		return -errno;
	k->tid = tid;
	k->thread = pthread_self();
	k->armed = 0;
	return 0;
}

void kick_free(struct vmm_kick *k)
{
	if (k->tid)
		timer_delete(k->timer);
	k->tid = 0;
	k->armed = 0;
}

int kick_at(struct vmm_kick *k, host_ns when)
{
	struct itimerspec its;

	if (!k->tid || when == k->armed)
		return 0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(when / 1000000000u);
	its.it_value.tv_nsec = (long)(when % 1000000000u);
	if (when && !its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (timer_settime(k->timer, TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	k->armed = when;
	return 0;
}

void kick_now(struct vmm_kick *k)
{
	union sigval v = { .sival_ptr = k };

	if (k->run)
		k->run->immediate_exit = 1;
	if (k->tid)
		pthread_sigqueue(k->thread, KICK_SIGNAL, v);
}
