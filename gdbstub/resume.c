/* Execution control: ?, c, s, vCont?, vCont, bs, bc (the stop reply
 * itself is built in dispatch.c).
 *
 * All-stop only: every resume runs the whole machine until one vCPU stops,
 * and the reply names that vCPU.  Reverse execution is the same call with
 * req.reverse set (STYLE.md 9). */
#include "gdbstub/handlers.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/dispatch.h"

#define LOG_MODULE "gdb"
#include "util/log.h"

bool gdb_cmd_query_stop(struct gdb_session *s, const char *args, size_t len)
{
	struct gdb_stop st = { .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	int rc = s->ops->get_stop(s->ops->ctx, &st);

	if (rc < 0)
		log_warn("get_stop failed (%d); reporting SIGTRAP", rc);
	if (st.cpu >= s->ops->thread_count(s->ops->ctx))
		st.cpu = 0;
	/* gdb reads registers of the thread that stopped next. */
	s->g_cpu = st.cpu;
	gdb_reply_stop(s, &st);
	return true;
}

/* Run the target and reply with where it stopped.  The interrupt flag is
 * cleared here, before the transport starts watching for 0x03, so only a
 * Ctrl-C sent during this resume can stop it. */
static bool do_resume(struct gdb_session *s, enum gdb_resume_action action,
		      bool reverse, unsigned cpu)
{
	struct gdb_resume_req req = {
		.action = action, .reverse = reverse, .cpu = cpu,
		.interrupted = &s->interrupted,
	};
	struct gdb_stop st = { .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP,
			       .cpu = cpu };
	int rc;

	atomic_store(&s->interrupted, 0);
	s->running = true;
	if (s->io.resume_begin)
		s->io.resume_begin(s->io.ctx);
	rc = s->ops->resume(s->ops->ctx, &req, &st);
	if (s->io.resume_end)
		s->io.resume_end(s->io.ctx);
	s->running = false;
	if (rc == -EOPNOTSUPP) {
		/* e.g. reverse execution while not replaying: the empty reply
		 * makes gdb say "Target ... does not support this command". */
		gdb_reply_err(s, rc);
		return true;
	}
	if (rc < 0) {
		/* gdb waits for a stop reply whatever happened. */
		log_err("resume failed (%d); reporting a stop where we are", rc);
		st = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL,
					.signal = GDB_SIGTRAP, .cpu = cpu };
		s->ops->get_stop(s->ops->ctx, &st);
	}
	if (st.cpu >= s->ops->thread_count(s->ops->ctx))
		st.cpu = cpu;
	s->g_cpu = st.cpu;
	gdb_reply_stop(s, &st);
	return true;
}

/* "c" / "s" with an address would resume elsewhere, which a recording
 * cannot do: refused with E22 (gdb itself never sends the address). */
bool gdb_cmd_continue(struct gdb_session *s, const char *args, size_t len)
{
	if (len) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	return do_resume(s, GDB_RESUME_CONTINUE, false, s->c_cpu);
}

bool gdb_cmd_step(struct gdb_session *s, const char *args, size_t len)
{
	if (len) {
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	return do_resume(s, GDB_RESUME_STEP, false, s->c_cpu);
}

bool gdb_cmd_reverse_continue(struct gdb_session *s, const char *args,
			      size_t len)
{
	return do_resume(s, GDB_RESUME_CONTINUE, true, s->c_cpu);
}

bool gdb_cmd_reverse_step(struct gdb_session *s, const char *args, size_t len)
{
	return do_resume(s, GDB_RESUME_STEP, true, s->c_cpu);
}

/* gdb uses vCont only if c, C, s and S are all offered.  C and S behave as
 * c and s: a replay cannot deliver a signal, so the signal is ignored. */
bool gdb_cmd_vcont_query(struct gdb_session *s, const char *args, size_t len)
{
	gdb_reply_str(s, "vCont;c;C;s;S;t");
	return true;
}

/* One vCont action "a[sig][:tid]" at *P.  Sets *STEP for s/S, *STOP for t,
 * and *CPU when a thread is named.  Advances *P past the action. */
static int vcont_action(struct gdb_session *s, const char **p, bool *step,
			bool *stop, long *cpu)
{
	const char *a = *p;
	char tid[24];
	size_t n;
	uint64_t sig;

	*step = *a == 's' || *a == 'S';
	*stop = *a == 't';
	if (!*step && !*stop && *a != 'c' && *a != 'C')
		return -EINVAL;
	a++;
	if ((a[-1] == 'C' || a[-1] == 'S') && gdb_hex_u64(&a, &sig) < 0)
		return -EINVAL;
	*cpu = -1;
	if (*a == ':') {
		n = strcspn(++a, ";");
		if (n == 0 || n >= sizeof(tid))
			return -EINVAL;
		memcpy(tid, a, n);
		tid[n] = 0;
		a += n;
		*cpu = gdb_parse_thread(s, tid);
		if (*cpu < -1)
			return -EINVAL;
	}
	if (*a && *a != ';')
		return -EINVAL;
	*p = a;
	return 0;
}

/* "vCont;s:1;c": all-stop, so the whole machine runs; a step action picks
 * the vCPU to step (it wins over continue actions for other threads,
 * which is what gdb means by "step this one, let the others run"). */
bool gdb_cmd_vcont(struct gdb_session *s, const char *args, size_t len)
{
	bool any_step = false, any_run = false;
	unsigned cpu = s->c_cpu;

	if (!*args) { /* "vCont;" names no action */
		gdb_reply_err(s, -EINVAL);
		return true;
	}
	while (*args) {
		bool step, stop;
		long c;

		if (vcont_action(s, &args, &step, &stop, &c) < 0) {
			gdb_reply_err(s, -EINVAL);
			return true;
		}
		if (step && !any_step) {
			any_step = true;
			cpu = c >= 0 ? (unsigned)c : s->c_cpu;
		} else if (!stop && !any_step && c >= 0) {
			cpu = (unsigned)c;
		}
		any_run |= !stop;
		if (*args == ';' && !*++args) { /* a trailing ';' names none either */
			gdb_reply_err(s, -EINVAL);
			return true;
		}
	}
	if (!any_run) {
		/* Only 't' actions: in all-stop everything is stopped. */
		gdb_reply_str(s, "OK");
		return true;
	}
	return do_resume(s, any_step ? GDB_RESUME_STEP : GDB_RESUME_CONTINUE,
			 false, cpu);
}
