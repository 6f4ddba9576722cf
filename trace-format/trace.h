/* The rrvm trace file: plain C structs in, plain C structs out.  Nothing
 * about KVM.  The messages are in trace-format/trace.proto; callers never
 * see protobuf-c.
 *
 * File layout (all integers little-endian):
 *
 *   offset 0
 *   +------------------------------------------------------------------+
 *   | preamble, 24 bytes                                               |
 *   |   0  magic  "\x89RRVMTR\n"  (high bit and \n catch 7-bit and     |
 *   |             text-mode copies)                                    |
 *   |   8  u16 major, u16 minor    (TRACE_FORMAT_MAJOR/_MINOR)         |
 *   |  12  u32 header_len          (<= TRACE_HEADER_MAX)               |
 *   |  16  u64 XXH64 of bytes 0..15 followed by the header message     |
 *   |  24  Header message (protobuf), header_len bytes                 |
 *   +------------------------------------------------------------------+
 *   | frame: chunk 0                                                   |
 *   |   48-byte frame header:                                          |
 *   |   0  u32 kind  'CHNK' | 'END_' | 'INDX' (ASCII, in file order)   |
 *   |   4  u32 stored_len  payload bytes that follow                   |
 *   |   8  u32 raw_len     payload bytes after decompression           |
 *   |  12  u32 count       events in the chunk (0 for END/INDX)        |
 *   |  16  u64 first_sync  sync point of the first event               |
 *   |  24  u64 last_sync   sync point of the last event                |
 *   |  32  u64 XXH64 of the stored payload                             |
 *   |  40  u16 codec       0 = none, 1 = zstd                          |
 *   |  42  u16 reserved, must be 0                                     |
 *   |  44  u32 XXH32 of header bytes 0..43                             |
 *   |   payload: zstd( varint len | Event | varint len | Event | ... ) |
 *   +------------------------------------------------------------------+
 *   | frame: chunk 1 ... chunk N-1                                     |
 *   +------------------------------------------------------------------+
 *   | frame 'END_': End message (clean close only)                    |
 *   | frame 'INDX': Index message (chunk offsets, sync ranges, counts) |
 *   +------------------------------------------------------------------+
 *   | footer, 32 bytes                                                 |
 *   |   0  u64 index_offset   u32 chunk_count   u32 reserved (0)       |
 *   |  16  u32 reserved (0)   u32 XXH32 of footer bytes 0..19          |
 *   |  24  magic "RRVMEND\n"                                           |
 *   +------------------------------------------------------------------+
 *
 * The writer puts the preamble and header down at open and each chunk with
 * one write(), so a recording killed at any moment (SIGKILL included) leaves
 * a prefix of whole frames plus at most one partial frame.  The reader uses
 * the footer and index when they check out, and otherwise rebuilds the index
 * by scanning frames from the header on, stopping cleanly at the first
 * incomplete or damaged one.
 *
 * Threads: a writer or a reader is used by one thread at a time.  Memory: a
 * writer holds one chunk (raw and compressed) plus 40 bytes per chunk
 * written for the index; a reader holds one decompressed chunk plus the
 * chunk table. */
#ifndef RRVM_TRACE_FORMAT_TRACE_H
#define RRVM_TRACE_FORMAT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/types.h"

/* Version rule (README.md): bump MINOR for changes an older reader of the
 * same MAJOR may ignore, MAJOR for anything it would misread. */
#define TRACE_FORMAT_MAJOR 2 /* 2.0: landmarks (a sync point an older replayer
			      * would skip), interrupt lateness, typed header facts,
			      * registers in RegCheckpoint, End.place, the chaos
			      * settings, the interrupt controller, FileHash.role,
			      * END_REASON_RESET */
#define TRACE_FORMAT_MINOR 2 /* 2.1: multiboot modules (FILE_ROLE_MODULE, FileHash.cmdline),
			      * Chaos.kick_late_ns, Header.host_cpu_xxh64;
			      * 2.2: Landmark.page_hash covers all of RAM (an older
			      * replayer's comparison would fail, not misread) */
/* The oldest major this reader still reads: 1.x traces have no landmarks
 * and no lateness (read as 0), and keep the typed facts as probe text. */
#define TRACE_FORMAT_MAJOR_OLDEST 1

/* Bounds enforced on write and checked on read before any allocation. */
#define TRACE_HEADER_MAX (1u << 20)     /* header message bytes */
#define TRACE_LIST_MAX 4096u            /* files, CPUID entries, probe pairs */
#define TRACE_STRING_MAX 4096u          /* any string in the header or end */
#define TRACE_DATA_MAX 4096u            /* serial input / code write bytes: a page */
#define TRACE_EVENT_MAX 8192u           /* one encoded event */
#define TRACE_NREGS 18                  /* registers of a RegCheckpoint */
#define TRACE_CHUNK_RAW_MAX (16u << 20) /* one chunk, decompressed */
#define TRACE_ERR_MAX 256

/* Event kinds.  Values are the Event oneof field numbers in trace.proto.
 * Changing this enum changes the file format: bump TRACE_FORMAT_MINOR for a
 * new kind an old replayer may skip, TRACE_FORMAT_MAJOR otherwise. */
enum trace_event_kind {
	TRACE_EV_UNKNOWN = 0, /* read only: a kind newer than this reader */
	TRACE_EV_PORT_READ = 3,
	TRACE_EV_MMIO_READ = 4,
	TRACE_EV_IRQ_INJECT = 5,
	TRACE_EV_TSC_READ = 6,
	TRACE_EV_MSR_READ = 7,
	TRACE_EV_SERIAL_INPUT = 8,
	TRACE_EV_CODE_WRITE = 9,
	TRACE_EV_REG_CHECKPOINT = 10,
	TRACE_EV_CLOCK = 11,
	TRACE_EV_LANDMARK = 12, /* 2.0: a sync point, so a major version */
	TRACE_EV__MAX = 13 /* array size for per-kind counters */
};

enum trace_tsc_source {
	TRACE_TSC_RDTSC = 1,
	TRACE_TSC_RDTSCP = 2,
	TRACE_TSC_RDMSR = 3,
};

/* Variable-length payload.  On write the caller owns DATA; on read it points
 * into the reader and stays valid until the next reader call. */
struct trace_bytes {
	const uint8_t *data;
	uint32_t len; /* 1..TRACE_DATA_MAX */
};

/* A landmark's registers: RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8-R15,
 * RFLAGS (RIP is the event's). */
#define TRACE_LANDMARK_NREGS 17

struct trace_event {
	enum trace_event_kind kind;
	sync_seq sync; /* non-decreasing over the trace */
	uint64_t rip;  /* guest RIP at the exit */
	union {
		struct { uint16_t port; uint8_t size; uint32_t value; } port_read;
		struct { uint64_t gpa; uint8_t size; uint64_t value; } mmio_read;
		struct {
			uint8_t vector;
			vclock_ns lateness; /* since the line rose (2.0; 0 before) */
			bool at_landmark;   /* injected at a landmark (2.0) */
		} irq_inject;
		struct { vtsc value; enum trace_tsc_source source; uint32_t aux; } tsc_read;
		struct { uint32_t index; uint64_t value; } msr_read;
		struct { struct trace_bytes bytes; } serial_input;
		struct { uint64_t gpa; struct trace_bytes bytes; } code_write;
		struct {
			uint64_t reg_hash;
			vclock_ns vclock;
			bool has_regs; /* false in 1.0 traces */
			uint64_t regs[TRACE_NREGS]; /* the order of trace.proto */
		} reg_checkpoint;
		struct { vclock_ns value; } clock;
		struct {
			uint64_t regs[TRACE_LANDMARK_NREGS]; /* RAX..R15, RFLAGS */
			uint64_t state_hash, page_hash;
		} landmark;
	} u;
};

enum trace_file_role {
	TRACE_FILE_UNSPECIFIED = 0, /* before 1.1: the first file is the kernel */
	TRACE_FILE_KERNEL = 1,
	TRACE_FILE_INITRD = 2,
	TRACE_FILE_MODULE = 3, /* 2.1: a multiboot module; any number, in load order */
};

struct trace_file_hash {
	const char *path;
	uint64_t xxh64;
	uint64_t size_bytes;
	enum trace_file_role role;
	const char *cmdline; /* TRACE_FILE_MODULE: its command line; may be NULL on write */
};


struct trace_cpuid_entry {
	uint32_t function, index, eax, ebx, ecx, edx, flags;
};

struct trace_kv {
	const char *key, *value;
};

/* How `rrvm record --chaos` varied the inputs (trace.proto, message Chaos). */
struct trace_chaos {
	bool on;                  /* false: no chaos (and the rest is 0) */
	uint64_t seed;
	uint32_t irq_late_sync;   /* most sync points an interrupt was held back */
	vclock_ns irq_late_ns;    /* ... and most virtual time */
	vclock_ns clock_phase_ns; /* where the virtual clock started */
	uint32_t serial_gap_sync; /* most sync points between two input bytes */
	host_ns kick_late_ns;     /* exit-free code: most delay of a landmark
				   * kick past the deadline (0: before 2.1) */
};

/* Strings may be NULL on write (stored empty); on read they are never NULL.
 * The format fields are ignored on write and filled in on read. */
struct trace_header {
	uint32_t format_major, format_minor;
	const char *rrvm_version;
	uint64_t guest_mem_bytes;
	const struct trace_file_hash *files;
	uint32_t nfiles;
	uint64_t initial_memory_xxh64;
	const char *cmdline;
	const struct trace_cpuid_entry *cpuid;
	uint32_t ncpuid;
	const struct trace_kv *host_probe;
	uint32_t nhost_probe;
	uint64_t start_unix_ns; /* host wall clock, ns since 1970 UTC */
	const char *irq_policy;
	int64_t rtc_epoch_sec;  /* guest RTC at start, s since 1970 */
	uint32_t tsc_khz;       /* virtual TSC rate */
	/* Since 2.0 (trace_header_fill reads them from a 1.x trace's probe
	 * text where it had them): */
	bool irq_window;        /* interrupt-window exits were sync points */
	const char *cpuid_rewritten; /* leaves KVM rewrote, "" for none */
	bool fw_cfg;            /* the fw_cfg device was there */
	struct trace_chaos chaos;
	uint64_t host_cpu_hash;     /* vmm/hostcpu.h: the recording's host CPU, 0 if none */
	const char *irq_controller; /* "pic" or "apic"; "" in 1.0 traces means "pic" */
};

/* The header's file of ROLE (a kernel also matches an old trace's first,
 * role-less file), or NULL. */
const struct trace_file_hash *trace_header_file(const struct trace_header *h,
						enum trace_file_role role);

enum trace_end_reason {
	TRACE_END_DEBUG_EXIT = 1,   /* status: value written to isa-debug-exit */
	TRACE_END_TRIPLE_FAULT = 2,
	TRACE_END_HALT = 3,         /* HLT with interrupts disabled */
	TRACE_END_SIGNAL = 4,       /* status: signal number */
	TRACE_END_ERROR = 5,        /* message says which */
	TRACE_END_RESET = 6,        /* the guest pulled the i8042 reset line */
	TRACE_END_LAST = TRACE_END_RESET,
};

/* Where the guest was at the end (trace.proto EndPlace). */
enum trace_end_place {
	TRACE_PLACE_AT_SYNC = 0,    /* sync point total_sync handled */
	TRACE_PLACE_IN_HLT = 1,     /* idling in the HLT of total_sync */
	TRACE_PLACE_CUT = 2,        /* cut in the stretch after it (left out); final_rip and
				     * final_state_hash: RIP and register hash at its exit */
	TRACE_PLACE_IN_STRETCH = 3, /* in the stretch after it, where replay runs on to */
};

struct trace_end {
	enum trace_end_reason reason;
	int32_t status;
	uint64_t final_rip;
	uint64_t final_state_hash;
	sync_seq total_sync;
	vclock_ns duration;     /* virtual */
	host_ns host_duration;  /* wall */
	const char *message;    /* may be NULL on write */
	uint64_t total_events;  /* filled in by the writer */
	enum trace_end_place place;
};

struct trace_error {
	char msg[TRACE_ERR_MAX]; /* one line, names chunk and byte offset */
};

/* ---------------------------------------------------------------- writer */

struct trace_writer;

struct trace_writer_opts {
	uint32_t chunk_bytes; /* flush when the raw chunk reaches this; 0 = 256 KiB */
	uint32_t chunk_ms;    /* flush a non-empty chunk this old; 0 = 1000 ms */
	int zstd_level;       /* 0 = 3 */
};

/* Creates (truncates) PATH and writes preamble and header at once.  OPTS
 * may be NULL.  Returns 0 or -errno, with ERR (may be NULL) filled in. */
int trace_writer_open(struct trace_writer **out, const char *path,
		      const struct trace_header *h,
		      const struct trace_writer_opts *opts, struct trace_error *err);
/* Appends one event; flushes a chunk when a threshold is reached.
 * -EINVAL for a malformed event or a sync point going backwards, -EIO etc.
 * for write errors (sticky: every later call fails the same way). */
int trace_writer_append(struct trace_writer *w, const struct trace_event *ev);
/* Flushes the current chunk when it is older than chunk_ms.  Call from the
 * recorder's idle path so a guest that stops producing inputs still gets
 * its last events on disk. */
int trace_writer_poll(struct trace_writer *w);
/* Writes the current chunk now, whatever its size. */
int trace_writer_flush(struct trace_writer *w);
/* Flushes, writes END, the index and the footer, fsyncs, closes and frees.
 * END may be NULL for a trace deliberately left without an end record.
 * Frees W even on failure. */
int trace_writer_close(struct trace_writer *w, const struct trace_end *end);
/* Closes and frees without flushing or finishing (the file reads as
 * truncated after its last flushed chunk). */
void trace_writer_abandon(struct trace_writer *w);
/* Last error as one line ("" when none). */
const char *trace_writer_error(const struct trace_writer *w);

struct trace_writer_stats {
	uint64_t events, chunks;
	uint64_t raw_bytes;    /* encoded events before compression */
	uint64_t stored_bytes; /* chunk payloads in the file */
	uint64_t file_bytes;   /* everything written so far */
};
void trace_writer_stats(const struct trace_writer *w, struct trace_writer_stats *st);

/* ---------------------------------------------------------------- reader */

struct trace_reader;

struct trace_chunk_info {
	uint64_t offset; /* of the frame header */
	sync_seq first_sync, last_sync;
	uint32_t events, stored_bytes, raw_bytes;
};

/* What open found, updated as reading finds more damage (corrupt, damage,
 * first_bad_chunk). */
struct trace_info {
	uint64_t file_bytes, header_bytes;
	uint32_t nchunks;
	uint64_t events;                   /* in complete chunks */
	uint64_t raw_bytes, stored_bytes;  /* chunk payloads */
	sync_seq first_sync, last_sync;    /* replayable range; 0, 0 if no chunk */
	bool has_end;    /* a valid end record is present */
	bool has_index;  /* footer and index checked out (else rebuilt by scan) */
	bool truncated;  /* ends inside a frame or without an end record */
	bool corrupt;    /* a damaged frame or payload was found */
	uint64_t stop_offset; /* byte where the scan stopped (file end if clean) */
	/* First chunk found damaged while reading (next/verify/count_kinds),
	 * UINT32_MAX if none: replay is good up to the chunk before it. */
	uint32_t first_bad_chunk;
	char damage[TRACE_ERR_MAX]; /* first problem found, "" if none */
};

/* Opens a trace file.  Fails (-errno, ERR filled in) only when the preamble
 * or header is unusable; a damaged or missing tail is reported through
 * trace_reader_info() and reading stops before it. */
int trace_reader_open(struct trace_reader **out, const char *path,
		      struct trace_error *err);
/* Same over a caller-owned buffer, which must outlive the reader. */
int trace_reader_open_mem(struct trace_reader **out, const void *buf, size_t len,
			  struct trace_error *err);
void trace_reader_close(struct trace_reader *r);

/* Owned by the reader, valid until trace_reader_close(). */
const struct trace_header *trace_reader_header(const struct trace_reader *r);
const struct trace_info *trace_reader_info(const struct trace_reader *r);
/* NULL when the trace has no (valid) end record. */
const struct trace_end *trace_reader_end(const struct trace_reader *r);
int trace_reader_chunk(const struct trace_reader *r, uint32_t i,
		       struct trace_chunk_info *out);
/* How far an incomplete (truncated or corrupt) trace replays: every event
 * at or before sync point *LAST lies in the chunks before the first one
 * missing or found damaged, *GOOD of them (the last sync point of the last
 * good chunk may have more events in the next).  False when nothing can be
 * replayed: no whole chunk, or one with events of sync point 0 only. */
bool trace_reader_replayable(const struct trace_reader *r, sync_seq *last, uint32_t *good);

/* Next event in file order: 1 and *EV filled in, 0 at the end of the
 * readable part, -EBADMSG (or -errno) on a damaged chunk with the message in
 * trace_reader_error().  Events of kinds newer than this reader are skipped
 * (counted in events_by_kind[TRACE_EV_UNKNOWN]). */
int trace_reader_next(struct trace_reader *r, struct trace_event *ev);
/* Positions so that the next event is the first with sync >= S.  O(log
 * chunks) plus decoding part of one chunk.  Clears a previous error. */
int trace_reader_seek(struct trace_reader *r, sync_seq s);
/* Reads every chunk payload and checks its checksum (no decompression).
 * Marks the trace corrupt on the first mismatch.  Returns 0 or -EBADMSG. */
int trace_reader_verify(struct trace_reader *r);
/* Events per kind, from the index when present, else by decoding every
 * chunk (which moves the read position back to the start). */
int trace_reader_count_kinds(struct trace_reader *r, uint64_t counts[TRACE_EV__MAX]);
const char *trace_reader_error(const struct trace_reader *r);

/* ----------------------------------------------------------------- names */

/* One event as a line of text, as `rrvm dump` prints it:
 * "SYNC rip=0xRIP KIND field=value ...".  Data bytes are printed in hex
 * and cut to fit LEN (TRACE_EVENT_TEXT_MAX holds any event but the longest
 * serial input or code write whole). */
#define TRACE_EVENT_TEXT_MAX 256
void trace_event_format(const struct trace_event *ev, char *buf, size_t len);

/* "port_read", ...; "unknown" for anything else.  Never NULL. */
const char *trace_event_kind_name(enum trace_event_kind k);
const char *trace_end_reason_name(enum trace_end_reason r);
/* "at sync point", "in HLT at sync point", "after sync point" (cut, or
 * in the stretch), for "... %s %llu" with total_sync. */
const char *trace_end_place_name(enum trace_end_place p);
const char *trace_tsc_source_name(enum trace_tsc_source s);

#endif
