/* Checkpoints restore bit-identical state: records a sample kernel, replays
 * it straight through while taking checkpoints and hashing the complete
 * state (vCPU from every KVM_GET_*, devices, machine fields, RAM, replayer
 * position) at many positions, then jumps around: restore the nearest
 * checkpoint, replay forward to each position, compare.  Also checks the
 * memory budget, eviction spread and page sharing, and prints the costs.
 *
 * usage: test_checkpoint KERNEL [POSITIONS]
 * Exit 77 without /dev/kvm, unless RRVM_REQUIRE_KVM=1. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/checkpoint.h"
#include "tests/replay/fixture.h"
#include "util/hostclock.h"

#define T_MAX_POS 1024

/* Replays up to sync point S (the machine stops at the top of its loop). */
static bool t_run_to(struct t_replay *t, sync_seq s)
{
	const struct machine_result *res;

	t->s.m.stop_after_sync = s;
	res = machine_run(&t->s.m, &t->p.hooks);
	if (res->why != MACHINE_STOP_SYNC_LIMIT || t->s.m.sync != s || t->p.div.hit) {
		fprintf(stderr, "run to %llu: %s\n", (unsigned long long)s,
			t->p.div.hit ? t->p.div.what : res->detail);
		return false;
	}
	return true;
}

static bool t_run_to_end(struct t_replay *t)
{
	const struct machine_result *res;
	char msg[400];

	t->s.m.stop_after_sync = MACHINE_NO_SYNC_LIMIT;
	res = machine_run(&t->s.m, &t->p.hooks);
	if (!rpl_compare_end(&t->p, res, msg, sizeof(msg))) {
		if (t->p.div.hit)
			rpl_report(&t->p, stderr);
		return false;
	}
	return true;
}

static int t_cmp_sync(const void *a, const void *b)
{
	sync_seq x = *(const sync_seq *)a, y = *(const sync_seq *)b;

	return x < y ? -1 : x > y;
}

struct t_ref {
	sync_seq pos[T_MAX_POS];
	uint64_t hash[T_MAX_POS];
	unsigned n;
};

/* Straight through, with checkpoints every K sync points, hashing the state
 * at every position of REF. */
static void t_pass_straight(struct t_replay *t, struct ckpt_store *st, struct t_ref *ref,
			    sync_seq k, sync_seq total)
{
	unsigned next = 0;

	CHECK(ckpt_take(st, &t->s) == 0, "checkpoint before the first run");
	for (sync_seq s = 1; s < total; s++) {
		bool at_pos = next < ref->n && ref->pos[next] == s;

		if (!at_pos && s % k)
			continue;
		if (!t_run_to(t, s)) {
			CHECK(0, "straight replay stopped early");
			return;
		}
		if (at_pos)
			CHECK(ckpt_state_hash(st, &ref->hash[next++]) == 0, "hash at %llu",
			      (unsigned long long)s);
		if (ckpt_due(st))
			CHECK(ckpt_take(st, &t->s) == 0, "take at %llu", (unsigned long long)s);
		CHECK(st->st.bytes <= st->opts.budget_bytes || st->n <= 2, "over budget");
	}
	CHECK(t_run_to_end(t), "straight replay with checkpoints matches the recording");
}

/* Jumps: restore-then-replay to each position in random order. */
static void t_pass_jumps(struct t_replay *t, struct ckpt_store *st, const struct t_ref *ref,
			 unsigned seed)
{
	unsigned order[T_MAX_POS], matched = 0;
	host_ns fwd = 0;

	for (unsigned i = 0; i < ref->n; i++)
		order[i] = i;
	for (unsigned i = ref->n; i > 1; i--) {
		unsigned j = (unsigned)rand_r(&seed) % i, x = order[i - 1];
		order[i - 1] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < ref->n; i++) {
		sync_seq p = ref->pos[order[i]], got = 0;
		uint64_t h = 0;
		host_ns t0;

		if (ckpt_restore(st, &t->s, p, &got) < 0 || got > p) {
			CHECK(0, "restore for %llu", (unsigned long long)p);
			continue;
		}
		t0 = host_now();
		if (!t_run_to(t, p)) {
			CHECK(0, "forward from %llu to %llu", (unsigned long long)got,
			      (unsigned long long)p);
			continue;
		}
		fwd += host_now() - t0;
		CHECK(ckpt_state_hash(st, &h) == 0 && h == ref->hash[order[i]],
		      "state at %llu (restored %llu): %016" PRIx64 " vs straight %016" PRIx64,
		      (unsigned long long)p, (unsigned long long)got, h, ref->hash[order[i]]);
		matched += h == ref->hash[order[i]];
		if (i % 4 == 0) /* takes after a restore work incrementally too */
			CHECK(ckpt_take(st, &t->s) == 0, "take after restore at %llu",
			      (unsigned long long)p);
	}
	printf("jumps: %u/%u positions bit-identical after restore + replay "
	       "(mean replay forward %.2f ms)\n",
	       matched, ref->n, ref->n ? fwd / 1e6 / ref->n : 0.0);
}

static void t_report(const char *what, const struct ckpt_store *st, uint64_t ram)
{
	const struct ckpt_stats *c = &st->st;
	uint64_t gpages = ram / SNAP_PAGE;

	printf("%s: %u checkpoints, %" PRIu64 " distinct pages (%.1f MiB) for %" PRIu64
	       " page references: sharing %.1fx; store %.1f MiB (peak %.1f, budget %.1f)\n",
	       what, c->count, c->pages, c->pages * 4096 / 1048576.0, c->page_refs,
	       c->pages ? (double)c->page_refs / (double)c->pages : 0.0, c->bytes / 1048576.0,
	       c->peak_bytes / 1048576.0, st->opts.budget_bytes / 1048576.0);
	printf("%s: take %.3f ms mean (%" PRIu64 " takes, %.1f pages hashed each), restore "
	       "%.3f ms mean (%" PRIu64 " restores, %.1f pages written each), %" PRIu64
	       " evictions\n",
	       what, c->takes ? c->take_ns / 1e6 / (double)c->takes : 0.0, c->takes,
	       c->takes ? (double)c->pages_hashed / (double)c->takes : 0.0,
	       c->restores ? c->restore_ns / 1e6 / (double)c->restores : 0.0, c->restores,
	       c->restores ? (double)c->pages_written / (double)c->restores : 0.0, c->evictions);
	CHECK(c->peak_bytes <= st->opts.budget_bytes, "peak %" PRIu64 " over budget", c->peak_bytes);
	CHECK(c->count < 2 || c->pages < (uint64_t)c->count * gpages, "pages are shared");
}

/* A tight budget: evictions keep the checkpoints spread, and restoring the
 * survivors still reaches the same states.  Runs on a second machine, whose
 * states are also compared with the first's (reported, not required: the
 * RTC reads the host clock once at machine init, before replay owns it). */
static void t_pass_budget(const struct t_env *e, const struct t_ref *ref, sync_seq total)
{
	struct t_replay *t = calloc(1, sizeof(*t));
	struct t_ref *mine = calloc(1, sizeof(*mine));
	struct ckpt_opts o = { .every_sync = total / 200 ? total / 200 : 1,
			       .budget_bytes = 6u << 20 };
	struct ckpt_store st;
	sync_seq gap = 0;
	unsigned same = 0;

	if (!t || !mine || t_replay_open(t, e) < 0 || ckpt_store_init(&st, &t->s, &t->p, &o) < 0) {
		CHECK(0, "budget pass setup");
		free(t);
		free(mine);
		return;
	}
	for (unsigned i = 0; i < ref->n; i += 5)
		mine->pos[mine->n++] = ref->pos[i];
	t_pass_straight(t, &st, mine, o.every_sync, total);
	for (unsigned i = 1; i < st.n; i++)
		if (ckpt_sync_at(&st, i) - ckpt_sync_at(&st, i - 1) > gap)
			gap = ckpt_sync_at(&st, i) - ckpt_sync_at(&st, i - 1);
	printf("budget: %u checkpoints kept over %llu sync points, largest gap %llu (even "
	       "spread: %llu)\n", st.n, (unsigned long long)total, (unsigned long long)gap,
	       (unsigned long long)(total / (st.n ? st.n : 1)));
	CHECK(st.st.evictions > 0, "the small budget forced evictions");
	CHECK(st.n > 2 && gap <= 4 * total / st.n, "coverage stays spread");
	for (unsigned i = 0; i < mine->n; i++) {
		sync_seq got;
		uint64_t h = 0;

		CHECK(ckpt_restore(&st, &t->s, mine->pos[i], &got) == 0 &&
		      t_run_to(t, mine->pos[i]) && ckpt_state_hash(&st, &h) == 0 &&
		      h == mine->hash[i], "state at %llu after eviction",
		      (unsigned long long)mine->pos[i]);
		same += h == ref->hash[5 * i];
	}
	printf("budget: %u/%u states equal to the first machine's\n", same, mine->n);
	t_report("budget", &st, t->s.m.mem.size);
	ckpt_store_free(&st);
	t_replay_close(t);
	free(t);
	free(mine);
}

static void t_pick_positions(struct t_ref *ref, unsigned n, sync_seq total, unsigned *seed)
{
	ref->n = 0;
	while (ref->n < n && ref->n + 1 < total) {
		sync_seq p = 1 + (sync_seq)rand_r(seed) % (total - 1);
		bool dup = false;

		for (unsigned i = 0; i < ref->n; i++)
			dup |= ref->pos[i] == p;
		if (!dup)
			ref->pos[ref->n++] = p;
	}
	qsort(ref->pos, ref->n, sizeof(ref->pos[0]), t_cmp_sync);
}

static int t_main(struct t_env *e, unsigned npos, unsigned seed)
{
	struct t_replay *t = calloc(1, sizeof(*t));
	struct t_ref *ref = calloc(1, sizeof(*ref));
	struct ckpt_store st;
	struct ckpt_opts o = { 0 };
	sync_seq total, got;

	if (!t || !ref || t_record(e) < 0 || t_replay_open(t, e) < 0)
		return 1;
	total = trace_reader_end(t->rd)->total_sync;
	o.every_sync = total / 40 ? total / 40 : 1;
	if (ckpt_store_init(&st, &t->s, &t->p, &o) < 0)
		return 1;
	printf("snapshot: %u MSRs, xsave %zu bytes, devices %zu bytes\n", st.snap.nmsrs,
	       st.snap.xsave_size, st.snap.dev_size);
	t_pick_positions(ref, npos, total, &seed);
	t_pass_straight(t, &st, ref, o.every_sync, total);
	t_pass_jumps(t, &st, ref, seed);
	CHECK(ckpt_restore(&st, &t->s, total / 3, &got) == 0 && t_run_to_end(t),
	      "restore at %llu then replay to the end matches the recording",
	      (unsigned long long)total / 3);
	t_report("default budget", &st, t->s.m.mem.size);
	ckpt_store_free(&st);
	t_replay_close(t);
	t_pass_budget(e, ref, total);
	free(t);
	free(ref);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct t_env e;
	unsigned npos = argc > 2 ? (unsigned)atoi(argv[2]) : 50, seed = 12345;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s KERNEL [POSITIONS]\n", argv[0]);
		return 2;
	}
	seed = t_seed(seed);
	if ((rc = t_setup(&e, argv[1])) != 0)
		return rc;
	rc = t_main(&e, npos > T_MAX_POS ? T_MAX_POS : npos, seed);
	t_teardown(&e);
	printf("%s\n", rc ? "FAILED" : "ok");
	return rc;
}
