/* Internal to gdbstub/: the packet handlers the command table in
 * dispatch.c points at, and the argument parsers they share.
 *
 * A handler gets ARGS, the payload after the command name (NUL-terminated;
 * LEN bytes, which matters only for the binary 'X'), builds its reply with
 * gdb_reply_*() and returns true when that reply must be sent (false only
 * for 'k', which gdb does not wait on).  An empty reply means "unsupported".
 * Files: data.c (registers, memory, breakpoints), query.c (queries,
 * threads, session control), resume.c (execution). */
#ifndef RRVM_GDBSTUB_HANDLERS_H
#define RRVM_GDBSTUB_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gdb_session;

typedef bool (*gdb_handler_fn)(struct gdb_session *s, const char *args,
			       size_t len);

/* "ADDR,LEN" then END (':' or '\0'); advances *P past END.  0 or -EINVAL. */
int gdb_parse_addr_len(const char **p, char end, uint64_t *addr,
		       uint64_t *len);
/* A GDB thread id ("-1", "0" or hex): the vCPU (0-based), -1 for "any" or
 * "all", or -EINVAL when it names no vCPU. */
long gdb_parse_thread(struct gdb_session *s, const char *p);

/* data.c */
bool gdb_cmd_read_regs(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_write_regs(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_read_reg(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_write_reg(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_read_mem(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_write_mem_hex(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_write_mem_bin(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_insert_bp(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_remove_bp(struct gdb_session *s, const char *args, size_t len);

/* query.c */
bool gdb_cmd_supported(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_no_ack(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_xfer_features(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_current_thread(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_thread_first(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_thread_next(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_attached(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_monitor(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_set_thread(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_thread_alive(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_detach(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_kill(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_vkill(struct gdb_session *s, const char *args, size_t len);

/* resume.c */
bool gdb_cmd_query_stop(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_continue(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_step(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_vcont_query(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_vcont(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_reverse_step(struct gdb_session *s, const char *args, size_t len);
bool gdb_cmd_reverse_continue(struct gdb_session *s, const char *args, size_t len);

#endif
