/* Deterministic test traces: event I of a sequence covering every kind and
 * the edge values of every field. */
#ifndef RRVM_TESTS_TRACE_GEN_H
#define RRVM_TESTS_TRACE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "trace-format/trace.h"

/* Fills EV with event I; byte payloads point into BUF (TRACE_DATA_MAX). */
void gen_event(uint64_t i, struct trace_event *ev, uint8_t *buf);
/* A header with every list non-empty. */
const struct trace_header *gen_header(void);
const struct trace_end *gen_end(uint64_t nevents);
/* Writes N events to PATH and closes with an end record (unless !WITH_END).
 * Returns 0 or -errno. */
int gen_trace(const char *path, uint64_t n, uint32_t chunk_bytes, int with_end);
/* Field-by-field comparison; 0 when equal. */
int gen_event_cmp(const struct trace_event *a, const struct trace_event *b);
/* Reads PATH whole into a malloc'd buffer. */
uint8_t *gen_slurp(const char *path, size_t *len);

#endif
