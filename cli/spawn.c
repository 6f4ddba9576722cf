/* Child processes for rrvm bisect: git, the build, the recordings. */
#define _GNU_SOURCE
#include "cli/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t spawn_sigs;
static volatile pid_t spawn_child;

static void spawn_on_signal(int sig)
{
	spawn_sigs++;
	if (spawn_child > 0)
		kill(-spawn_child, sig); /* the child ends cleanly, then so do we */
}

void cli_spawn_catch(bool on)
{
	struct sigaction sa = { .sa_handler = on ? spawn_on_signal : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_spawn(const char *const argv[], int fd, char *buf, size_t len, bool forward)
{
	union { const char *const *c; char *const *m; } args = { argv }; /* execvp's type */
	int p[2] = { -1, -1 }, st;
	size_t got = 0;
	pid_t pid;

	if (fd < 0 && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int o = fd < 0 ? p[1] : fd, nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(o, STDOUT_FILENO);
		dup2(o, STDERR_FILENO);
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		execvp(argv[0], args.m);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	setpgid(pid, pid); /* also here: no signal may find it in ours */
	if (forward)
		spawn_child = pid;
	if (spawn_sigs && forward)
		kill(-pid, SIGINT); /* it came before the child was known */
	if (fd < 0) {
		close(p[1]);
		for (;;) {
			char sink[512]; /* what does not fit in BUF is read and dropped */
			bool full = got + 1 >= len;
			ssize_t n = full ? read(p[0], sink, sizeof(sink))
					 : read(p[0], buf + got, len - 1 - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (!full)
				got += (size_t)n;
		}
		buf[got] = '\0';
		close(p[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			spawn_child = 0;
			return -1;
		}
	spawn_child = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int cli_spawn_signals(void)
{
	return spawn_sigs;
}
