/* Header, end record and index: C structs of trace.h <-> protobuf-c
 * messages of trace.proto.  Cold paths, so protobuf-c's own pack and
 * unpack (the latter bounded by the caller's length checks). */
#include "trace-format/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace-format/trace.pb-c.h"

/* ----------------------------------------------------------------- header */

static char *str_or_empty(const char *s)
{
	return (char *)(uintptr_t)(s ? s : "");
}

static int str_ok(const char *s)
{
	return !s || strlen(s) <= TRACE_STRING_MAX;
}

int trace_header_pack(const struct trace_header *h, uint8_t **out, size_t *len,
		      struct trace_error *err)
{
	Rrvmtrace__Header m;
	Rrvmtrace__FileHash *files = NULL, **filep = NULL;
	Rrvmtrace__CpuidEntry *cpuid = NULL, **cpuidp = NULL;
	Rrvmtrace__KeyValue *kv = NULL, **kvp = NULL;
	Rrvmtrace__Chaos chaos;
	int ret = -ENOMEM;

	rrvmtrace__header__init(&m);
	rrvmtrace__chaos__init(&chaos);
	if (h->nfiles > TRACE_LIST_MAX || h->ncpuid > TRACE_LIST_MAX ||
	    h->nhost_probe > TRACE_LIST_MAX || !h->guest_mem_bytes ||
	    !str_ok(h->rrvm_version) || !str_ok(h->cmdline) || !str_ok(h->irq_policy) ||
	    !str_ok(h->cpuid_rewritten) || !str_ok(h->irq_controller)) {
		snprintf(err->msg, sizeof(err->msg), "header: list too long, string too long or no memory size");
		return -EINVAL;
	}
	files = calloc(h->nfiles + 1, sizeof(*files));
	filep = calloc(h->nfiles + 1, sizeof(*filep));
	cpuid = calloc(h->ncpuid + 1, sizeof(*cpuid));
	cpuidp = calloc(h->ncpuid + 1, sizeof(*cpuidp));
	kv = calloc(h->nhost_probe + 1, sizeof(*kv));
	kvp = calloc(h->nhost_probe + 1, sizeof(*kvp));
	if (!files || !filep || !cpuid || !cpuidp || !kv || !kvp)
		goto out;
	m.format_major = TRACE_FORMAT_MAJOR;
	m.format_minor = TRACE_FORMAT_MINOR;
	m.rrvm_version = str_or_empty(h->rrvm_version);
	m.guest_mem_bytes = h->guest_mem_bytes;
	m.initial_memory_xxh64 = h->initial_memory_xxh64;
	m.cmdline = str_or_empty(h->cmdline);
	m.start_unix_ns = h->start_unix_ns;
	m.irq_policy = str_or_empty(h->irq_policy);
	m.irq_controller = str_or_empty(h->irq_controller);
	m.rtc_epoch_sec = h->rtc_epoch_sec;
	m.tsc_khz = h->tsc_khz;
	m.irq_window = h->irq_window;
	m.cpuid_rewritten = str_or_empty(h->cpuid_rewritten);
	m.fw_cfg = h->fw_cfg;
	m.host_cpu_xxh64 = h->host_cpu_hash;
	if (h->chaos.on) {
		chaos.seed = h->chaos.seed;
		chaos.irq_late_sync = h->chaos.irq_late_sync;
		chaos.irq_late_ns = h->chaos.irq_late_ns;
		chaos.clock_phase_ns = h->chaos.clock_phase_ns;
		chaos.serial_gap_sync = h->chaos.serial_gap_sync;
		chaos.kick_late_ns = h->chaos.kick_late_ns;
		m.chaos = &chaos;
	}
	ret = -EINVAL;
	for (uint32_t i = 0; i < h->nfiles; i++) {
		rrvmtrace__file_hash__init(&files[i]);
		if (!str_ok(h->files[i].path))
			goto bad;
		files[i].path = str_or_empty(h->files[i].path);
		files[i].xxh64 = h->files[i].xxh64;
		files[i].size_bytes = h->files[i].size_bytes;
		files[i].role = (Rrvmtrace__FileRole)h->files[i].role;
		if (!str_ok(h->files[i].cmdline))
			goto bad;
		files[i].cmdline = str_or_empty(h->files[i].cmdline);
		filep[i] = &files[i];
	}
	for (uint32_t i = 0; i < h->ncpuid; i++) {
		const struct trace_cpuid_entry *c = &h->cpuid[i];
		rrvmtrace__cpuid_entry__init(&cpuid[i]);
		cpuid[i].function = c->function;
		cpuid[i].index = c->index;
		cpuid[i].eax = c->eax;
		cpuid[i].ebx = c->ebx;
		cpuid[i].ecx = c->ecx;
		cpuid[i].edx = c->edx;
		cpuid[i].flags = c->flags;
		cpuidp[i] = &cpuid[i];
	}
	for (uint32_t i = 0; i < h->nhost_probe; i++) {
		rrvmtrace__key_value__init(&kv[i]);
		if (!h->host_probe[i].key || !*h->host_probe[i].key ||
		    !str_ok(h->host_probe[i].key) || !str_ok(h->host_probe[i].value))
			goto bad;
		kv[i].key = str_or_empty(h->host_probe[i].key);
		kv[i].value = str_or_empty(h->host_probe[i].value);
		kvp[i] = &kv[i];
	}
	m.n_files = h->nfiles;
	m.files = filep;
	m.n_cpuid = h->ncpuid;
	m.cpuid = cpuidp;
	m.n_host_probe = h->nhost_probe;
	m.host_probe = kvp;
	*len = rrvmtrace__header__get_packed_size(&m);
	if (*len > TRACE_HEADER_MAX) {
		snprintf(err->msg, sizeof(err->msg), "header: %zu bytes, more than %u", *len,
			 TRACE_HEADER_MAX);
		goto out;
	}
	ret = -ENOMEM;
	*out = malloc(*len ? *len : 1);
	if (!*out)
		goto out;
	rrvmtrace__header__pack(&m, *out);
	ret = 0;
	goto out;
bad:
	snprintf(err->msg, sizeof(err->msg), "header: file path or probe key/value invalid");
out:
	if (ret == -ENOMEM && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "header: out of memory");
	free(files);
	free(filep);
	free(cpuid);
	free(cpuidp);
	free(kv);
	free(kvp);
	return ret;
}

struct trace_header_store {
	Rrvmtrace__Header *msg;
	struct trace_header h;
	struct trace_file_hash *files;
	struct trace_cpuid_entry *cpuid;
	struct trace_kv *kv;
};

static const char *nonnull(const char *s)
{
	return s ? s : "";
}

/* A 1.x trace kept the typed facts of 2.0 as probe text: "irq_window=1",
 * "cpuid_rewritten=0x1,0x7" (or "none"). */
static void meta_v10_facts(struct trace_header *h)
{
	for (uint32_t i = 0; i < h->nhost_probe; i++) {
		const struct trace_kv *kv = &h->host_probe[i];

		if (!strcmp(kv->key, "irq_window"))
			h->irq_window = !strcmp(kv->value, "1");
		else if (!strcmp(kv->key, "cpuid_rewritten"))
			h->cpuid_rewritten = strcmp(kv->value, "none") ? kv->value : "";
	}
}

static int str_bad(const char *s)
{
	return s && strlen(s) > TRACE_STRING_MAX;
}

static const char *header_convert(struct trace_header_store *s)
{
	const Rrvmtrace__Header *m = s->msg;
	struct trace_header *h = &s->h;

	if (m->n_files > TRACE_LIST_MAX || m->n_cpuid > TRACE_LIST_MAX ||
	    m->n_host_probe > TRACE_LIST_MAX)
		return "header list too long";
	if (str_bad(m->rrvm_version) || str_bad(m->cmdline) || str_bad(m->irq_policy) ||
	    str_bad(m->cpuid_rewritten) || str_bad(m->irq_controller))
		return "header string too long";
	if (!m->guest_mem_bytes)
		return "header has no guest memory size";
	s->files = calloc(m->n_files + 1, sizeof(*s->files));
	s->cpuid = calloc(m->n_cpuid + 1, sizeof(*s->cpuid));
	s->kv = calloc(m->n_host_probe + 1, sizeof(*s->kv));
	if (!s->files || !s->cpuid || !s->kv)
		return "out of memory";
	for (size_t i = 0; i < m->n_files; i++) {
		if (str_bad(m->files[i]->path) || str_bad(m->files[i]->cmdline))
			return "header file path too long";
		s->files[i].path = nonnull(m->files[i]->path);
		s->files[i].xxh64 = m->files[i]->xxh64;
		s->files[i].size_bytes = m->files[i]->size_bytes;
		s->files[i].role = (enum trace_file_role)m->files[i]->role;
		s->files[i].cmdline = nonnull(m->files[i]->cmdline);
	}
	for (size_t i = 0; i < m->n_cpuid; i++) {
		const Rrvmtrace__CpuidEntry *c = m->cpuid[i];
		s->cpuid[i] = (struct trace_cpuid_entry){ c->function, c->index, c->eax,
							  c->ebx, c->ecx, c->edx, c->flags };
	}
	for (size_t i = 0; i < m->n_host_probe; i++) {
		const Rrvmtrace__KeyValue *kv = m->host_probe[i];
		if (!kv->key || !*kv->key || str_bad(kv->key) || str_bad(kv->value))
			return "header probe key/value invalid";
		s->kv[i].key = kv->key;
		s->kv[i].value = nonnull(kv->value);
	}
	h->format_major = m->format_major;
	h->format_minor = m->format_minor;
	h->rrvm_version = nonnull(m->rrvm_version);
	h->guest_mem_bytes = m->guest_mem_bytes;
	h->files = s->files;
	h->nfiles = (uint32_t)m->n_files;
	h->initial_memory_xxh64 = m->initial_memory_xxh64;
	h->cmdline = nonnull(m->cmdline);
	h->cpuid = s->cpuid;
	h->ncpuid = (uint32_t)m->n_cpuid;
	h->host_probe = s->kv;
	h->nhost_probe = (uint32_t)m->n_host_probe;
	h->start_unix_ns = m->start_unix_ns;
	h->irq_policy = nonnull(m->irq_policy);
	h->irq_controller = nonnull(m->irq_controller);
	h->rtc_epoch_sec = m->rtc_epoch_sec;
	h->tsc_khz = m->tsc_khz;
	h->irq_window = m->irq_window;
	h->cpuid_rewritten = nonnull(m->cpuid_rewritten);
	h->fw_cfg = m->fw_cfg;
	h->host_cpu_hash = m->host_cpu_xxh64;
	if (m->format_major == 1)
		meta_v10_facts(h);
	if (m->chaos) {
		if (m->chaos->clock_phase_ns >= 1000000000u)
			return "header chaos clock phase of a second or more";
		h->chaos = (struct trace_chaos){ true, m->chaos->seed, m->chaos->irq_late_sync,
						 m->chaos->irq_late_ns, m->chaos->clock_phase_ns,
						 m->chaos->serial_gap_sync, m->chaos->kick_late_ns };
	}
	return NULL;
}

struct trace_header_store *trace_header_unpack(const uint8_t *buf, size_t len,
					       const char **why)
{
	struct trace_header_store *s = calloc(1, sizeof(*s));

	if (!s) {
		*why = "out of memory";
		return NULL;
	}
	s->msg = rrvmtrace__header__unpack(NULL, len, buf);
	*why = s->msg ? header_convert(s) : "header message does not decode";
	if (*why) {
		trace_header_free(s);
		return NULL;
	}
	return s;
}

const struct trace_header *trace_header_get(const struct trace_header_store *s)
{
	return &s->h;
}

void trace_header_free(struct trace_header_store *s)
{
	if (!s)
		return;
	if (s->msg)
		rrvmtrace__header__free_unpacked(s->msg, NULL);
	free(s->files);
	free(s->cpuid);
	free(s->kv);
	free(s);
}

/* -------------------------------------------------------------------- end */

int trace_end_pack(const struct trace_end *e, uint8_t **out, size_t *len)
{
	Rrvmtrace__End m;

	rrvmtrace__end__init(&m);
	if (e->reason < TRACE_END_DEBUG_EXIT || e->reason > TRACE_END_LAST ||
	    !str_ok(e->message) || (unsigned)e->place > TRACE_PLACE_IN_STRETCH)
		return -EINVAL;
	m.reason = (Rrvmtrace__EndReason)e->reason;
	m.status = e->status;
	m.final_rip = e->final_rip;
	m.final_state_hash = e->final_state_hash;
	m.total_sync = e->total_sync;
	m.vclock_ns = e->duration;
	m.host_ns = e->host_duration;
	m.message = str_or_empty(e->message);
	m.total_events = e->total_events;
	m.place = (Rrvmtrace__EndPlace)e->place;
	*len = rrvmtrace__end__get_packed_size(&m);
	*out = malloc(*len ? *len : 1);
	if (!*out)
		return -ENOMEM;
	rrvmtrace__end__pack(&m, *out);
	return 0;
}

const char *trace_end_unpack(const uint8_t *buf, size_t len, struct trace_end *e,
			     char *msgbuf, size_t msgcap)
{
	Rrvmtrace__End *m = rrvmtrace__end__unpack(NULL, len, buf);
	const char *why = NULL;

	if (!m)
		return "end record does not decode";
	if (m->reason < RRVMTRACE__END_REASON__END_REASON_DEBUG_EXIT ||
	    m->reason > RRVMTRACE__END_REASON__END_REASON_RESET) {
		why = "end record reason invalid";
	} else if ((unsigned)m->place > RRVMTRACE__END_PLACE__END_PLACE_IN_STRETCH) {
		why = "end record place invalid";
	} else {
		e->place = (enum trace_end_place)m->place;
		e->reason = (enum trace_end_reason)m->reason;
		e->status = m->status;
		e->final_rip = m->final_rip;
		e->final_state_hash = m->final_state_hash;
		e->total_sync = m->total_sync;
		e->duration = m->vclock_ns;
		e->host_duration = m->host_ns;
		e->total_events = m->total_events;
		snprintf(msgbuf, msgcap, "%s", nonnull(m->message));
		e->message = msgbuf;
	}
	rrvmtrace__end__free_unpacked(m, NULL);
	return why;
}

/* ------------------------------------------------------------------ index */

int trace_index_pack(const struct trace_chunk_info *chunks, uint32_t n,
		     const uint64_t counts[TRACE_EV__MAX], uint64_t end_offset,
		     uint8_t **out, size_t *len)
{
	Rrvmtrace__Index m;
	Rrvmtrace__ChunkEntry *e = calloc(n + 1, sizeof(*e));
	Rrvmtrace__ChunkEntry **ep = calloc(n + 1, sizeof(*ep));
	uint64_t cnt[TRACE_EV__MAX];
	int ret = -ENOMEM;

	rrvmtrace__index__init(&m);
	if (!e || !ep)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		rrvmtrace__chunk_entry__init(&e[i]);
		e[i].offset = chunks[i].offset;
		e[i].first_sync = chunks[i].first_sync;
		e[i].last_sync = chunks[i].last_sync;
		e[i].events = chunks[i].events;
		e[i].stored_bytes = chunks[i].stored_bytes;
		e[i].raw_bytes = chunks[i].raw_bytes;
		ep[i] = &e[i];
	}
	memcpy(cnt, counts, sizeof(cnt));
	m.n_chunks = n;
	m.chunks = ep;
	m.n_events_by_kind = TRACE_EV__MAX;
	m.events_by_kind = cnt;
	m.end_offset = end_offset;
	*len = rrvmtrace__index__get_packed_size(&m);
	*out = malloc(*len ? *len : 1);
	if (!*out)
		goto out;
	rrvmtrace__index__pack(&m, *out);
	ret = 0;
out:
	free(e);
	free(ep);
	return ret;
}

const char *trace_index_unpack(const uint8_t *buf, size_t len, uint32_t max_chunks,
			       struct trace_chunk_info **chunks, uint32_t *n,
			       uint64_t counts[TRACE_EV__MAX], bool *have_counts,
			       uint64_t *end_offset)
{
	Rrvmtrace__Index *m = rrvmtrace__index__unpack(NULL, len, buf);
	const char *why = NULL;

	*chunks = NULL;
	if (!m)
		return "index does not decode";
	if (m->n_chunks > max_chunks) {
		why = "index lists more chunks than fit in the file";
		goto out;
	}
	if (m->n_events_by_kind > 64) {
		why = "index kind counters out of bounds";
		goto out;
	}
	*chunks = calloc(m->n_chunks + 1, sizeof(**chunks));
	if (!*chunks) {
		why = "out of memory";
		goto out;
	}
	for (size_t i = 0; i < m->n_chunks; i++) {
		const Rrvmtrace__ChunkEntry *e = m->chunks[i];
		(*chunks)[i] = (struct trace_chunk_info){ e->offset, e->first_sync, e->last_sync,
							  e->events, e->stored_bytes, e->raw_bytes };
	}
	*n = (uint32_t)m->n_chunks;
	memset(counts, 0, sizeof(uint64_t) * TRACE_EV__MAX);
	for (size_t k = 0; k < m->n_events_by_kind; k++)
		counts[k < TRACE_EV__MAX ? k : TRACE_EV_UNKNOWN] += m->events_by_kind[k];
	*have_counts = m->n_events_by_kind > 0;
	*end_offset = m->end_offset;
out:
	if (why) {
		free(*chunks);
		*chunks = NULL;
	}
	rrvmtrace__index__free_unpacked(m, NULL);
	return why;
}

const struct trace_file_hash *trace_header_file(const struct trace_header *h,
						enum trace_file_role role)
{
	for (uint32_t i = 0; i < h->nfiles; i++)
		if (h->files[i].role == role ||
		    (role == TRACE_FILE_KERNEL && i == 0 && h->files[i].role == TRACE_FILE_UNSPECIFIED))
			return &h->files[i];
	return NULL;
}
