/* The time-travel engine lands where a straight replay does.
 *
 *   test_timeline KERNEL ELF_WITH_SYMBOLS [OPERATIONS]
 *
 * Records KERNEL, then:
 *  1. a straight pass: a replay that only ever moves forward visits every
 *     position of a dozen stretches, one instruction at a time, and notes
 *     the full machine state hash at each (reporting progress);
 *  2. random operations (goto, step, step back) on a second replay, each
 *     checked against the straight pass's hash for the position it reached;
 *  3. step back then step forward returns to the identical state;
 *  4. breakpoints: continue forward twice to list_insert, then reverse-
 *     continue returns to the first hit, and once more to the start; then
 *     the same with the hardware's four spent elsewhere, so that the
 *     breakpoint is a patched trap instruction;
 *  5. the bug hunt (the kernel is recorded until the race strikes, at most
 *     10 times, or the test fails): from the panic at the end, a write
 *     watchpoint on the link the panic names and reverse-continue stop
 *     right before the culprit store, inside list_insert, which wrote the
 *     pointer the panic names;
 *  6. lazy placement: single steps after a breakpoint stop, and two
 *     breakpoints hit in one stretch, are placed where stepping puts them;
 *  7. what the engine refuses (state writes during replay, read
 *     watchpoints where data breakpoints never fire), an interrupted goto,
 *     and leaving replay: writes then work, the machine
 *     runs live to its end, and a goto comes back to the recording. */
#include <errno.h>
#include <linux/kvm.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay/checkpoint.h"
#include "replay/timeline.h"
#include "tests/replay/fixture.h"
#include "vmm/elf.h"
#include "vmm/mapfile.h"

#define T_STRETCHES 12
#define T_MAX_REF 8192

struct t_ref {
	struct tl_pos pos;
	uint64_t hash;
};

static struct t_ref refs[T_MAX_REF];
static unsigned nrefs;

static uint64_t t_hash(struct timeline *t)
{
	uint64_t h = 0;

	CHECK(tl_state_hash(t, &h) == 0, "state hash");
	return h;
}

static const struct t_ref *t_find(struct tl_pos p)
{
	for (unsigned i = 0; i < nrefs; i++)
		if (!tl_pos_cmp(refs[i].pos, p))
			return &refs[i];
	return NULL;
}

static void t_note(struct timeline *t)
{
	if (nrefs < T_MAX_REF && !t_find(tl_here(t)))
		refs[nrefs++] = (struct t_ref){ tl_here(t), t_hash(t) };
}

static int t_cmp_sync(const void *a, const void *b)
{
	sync_seq x = *(const sync_seq *)a, y = *(const sync_seq *)b;

	return x < y ? -1 : x > y;
}

static void t_progress(void *ctx, uint64_t done, uint64_t total)
{
	uint64_t *seen = ctx;

	CHECK(done <= total, "progress %llu of %llu", (unsigned long long)done,
	      (unsigned long long)total);
	seen[0]++;
	seen[1] = done;
	seen[2] = total;
}

/* 1. The straight pass. */
static void t_straight(struct timeline *t, unsigned *seed)
{
	sync_seq at[2 * T_STRETCHES];
	struct tl_stop st;

	for (unsigned i = 0; i < T_STRETCHES; i++) {
		at[2 * i] = 2 + (sync_seq)rand_r(seed) % (tl_end_sync(t) - 4);
		at[2 * i + 1] = at[2 * i] + 1;
	}
	qsort(at, 2 * T_STRETCHES, sizeof(at[0]), t_cmp_sync);
	for (unsigned i = 0; i < 2 * T_STRETCHES; i++) {
		if (tl_pos_cmp(tl_here(t), (struct tl_pos){ at[i], 0 }) > 0)
			continue; /* the previous stretch ran into this one */
		CHECK(tl_goto(t, (struct tl_pos){ at[i], 0 }) == 0, "%s", tl_error(t));
		t_note(t);
		while (tl_here(t).sync == at[i] && tl_step(t, false, &st) == 0 &&
		       st.why == TL_STOP_STEP)
			t_note(t);
	}
	printf("straight pass: %u positions in %d stretches\n", nrefs, 2 * T_STRETCHES);
}

/* 2 and 3. Random operations, each checked where the straight pass was. */
static void t_random(struct timeline *t, unsigned nops, unsigned *seed)
{
	unsigned checked = 0;
	struct tl_stop st;

	for (unsigned i = 0; i < nops; i++) {
		unsigned op = (unsigned)rand_r(seed) % 4;
		const struct t_ref *r;
		int e = 0;

		if (op == 0) {
			e = tl_goto(t, refs[(unsigned)rand_r(seed) % nrefs].pos);
		} else if (op == 3) {
			/* Step back, then forward: the identical state again. */
			struct tl_pos was = tl_here(t);
			uint64_t h = t_hash(t);

			if (was.sync == 0 && was.n == 0)
				continue;
			e = tl_step(t, true, &st);
			if (e == 0)
				e = tl_step(t, false, &st);
			CHECK(e || (!tl_pos_cmp(tl_here(t), was) && t_hash(t) == h),
			      "back and forth from %llu:%llu", (unsigned long long)was.sync,
			      (unsigned long long)was.n);
		} else {
			e = tl_step(t, op == 2, &st);
		}
		CHECK(e == 0, "operation %u: %s", op, tl_error(t));
		if (e || !(r = t_find(tl_here(t))))
			continue;
		checked++;
		CHECK(t_hash(t) == r->hash, "state at %llu:%llu differs from the straight replay",
		      (unsigned long long)r->pos.sync, (unsigned long long)r->pos.n);
	}
	printf("random operations: %u, %u checked against the straight pass\n", nops, checked);
	CHECK(checked >= nops / 3, "too few operations landed on known positions");
}

struct t_syms {
	uint64_t list_insert, list_insert_size, journal_pool;
};

static int t_symbol_cb(void *ctx, const struct elf_func *f)
{
	struct t_syms *y = ctx;

	if (strcmp(f->name, "list_insert"))
		return 0;
	y->list_insert = f->vaddr;
	y->list_insert_size = f->size;
	return 1;
}

static struct t_syms t_symbols(const char *path)
{
	struct t_syms y = { 0 };
	struct elf_file f;
	const uint8_t *buf;
	const char *why;
	char msg[300];
	size_t len;

	if (mapfile_open(path, &buf, &len, msg, sizeof(msg)) < 0)
		return y;
	if (elf_open(&f, buf, len, &why) == 0) {
		elf_functions(&f, t_symbol_cb, &y);
		elf_symbol(&f, "journal_pool", &y.journal_pool);
	}
	mapfile_close(buf, len);
	return y;
}

/* samples/race/race.c: its panic line, and how many recordings to try
 * for one that shows it (tests/e2e/recording.py record_until: 10). */
#define T_PANIC "overwritten link: journal_pool["
#define T_RACE_TRIES 10

/* samples/race/race.c: struct record is 32 bytes, its `next` at offset 0. */
#define T_RECORD_SIZE 32

/* 5. The bug hunt, from the end of the trace backwards. */
static void t_watch_hunt(struct timeline *t, const struct t_syms *y, FILE *serial)
{
	char out[4096] = "";
	const char *link;
	unsigned p = 0, n = 0;
	uint64_t addr, rip, v = 0;
	struct tl_stop st;

	CHECK(tl_goto(t, (struct tl_pos){ tl_end_sync(t), 0 }) == 0, "to the end: %s", tl_error(t));
	fflush(serial);
	rewind(serial);
	out[fread(out, 1, sizeof(out) - 1, serial)] = '\0';
	link = strstr(out, T_PANIC);
	if (!link || sscanf(link, "overwritten link: journal_pool[%u].next -> journal_pool[%u]", &p,
			    &n) != 2) {
		CHECK(0, "watch hunt: the replay did not panic with an overwritten link, "
		      "though its recording did");
		return;
	}
	addr = y->journal_pool + (uint64_t)p * T_RECORD_SIZE;
	CHECK(tl_watch_insert(t, addr, 8, TL_WATCH_WRITE) == 0, "watch: %s", tl_error(t));
	CHECK(tl_continue(t, true, &st) == 0 && st.why == TL_STOP_WATCH, "reverse watch: %s", tl_error(t));
	printf("watch journal_pool[%u].next: written at %llu:%llu, rip %#" PRIx64 ", %#" PRIx64
	       " -> %#" PRIx64 "\n", p, (unsigned long long)st.pos.sync, (unsigned long long)st.pos.n,
	       tl_rip(t), st.old_val, st.new_val);
	CHECK(tl_rip(t) > y->list_insert && tl_rip(t) < y->list_insert + y->list_insert_size,
	      "the culprit store is in list_insert");
	CHECK(st.new_val == y->journal_pool + (uint64_t)n * T_RECORD_SIZE,
	      "it stored the pointer the panic names");
	/* Positions do not depend on watchpoints: without it, the same
	 * position is the same instruction, and that instruction is the
	 * store (one step writes the new value). */
	rip = tl_rip(t);
	tl_watch_remove(t, addr, 8, TL_WATCH_WRITE);
	CHECK(tl_goto(t, (struct tl_pos){ 0, 0 }) == 0 && tl_goto(t, st.pos) == 0, "%s", tl_error(t));
	CHECK(tl_rip(t) == rip, "without the watch, %llu:%llu is at %#" PRIx64 ", not %#" PRIx64,
	      (unsigned long long)st.pos.sync, (unsigned long long)st.pos.n, tl_rip(t), rip);
	CHECK(tl_read_virt(t, addr, &v, 8) == 8 && v == st.old_val, "the old value before it");
	v = st.new_val;
	CHECK(tl_step(t, false, &st) == 0 && tl_read_virt(t, addr, &st.new_val, 8) == 8 &&
	      st.new_val == v, "one step writes the new value");
}

/* What a breakpoint pass saw, for the next pass to match. */
struct t_bp_pass {
	struct tl_pos a, b;
	uint64_t ha;
};

/* A breakpoint stop is placed lazily: tl_where gives its position, and
 * placing it (a replay of the stretch by single steps) must come back to
 * the very state the free run stopped in. */
static void t_place(struct timeline *t, struct tl_stop *st)
{
	uint64_t h = t_hash(t);

	CHECK(tl_where(t, &st->pos) == 0, "placing the stop: %s", tl_error(t));
	CHECK(t_hash(t) == h, "placing %llu:%llu changed the state", (unsigned long long)st->pos.sync,
	      (unsigned long long)st->pos.n);
}

/* 4. Breakpoints both ways.  With DATA, the four hardware breakpoints are
 * first spent on data addresses (which never execute), so the one at ADDR
 * is a patched trap: it must stop where the hardware one did (PREV), in the
 * same state, and reads through the engine never show the patch. */
static void t_breakpoints(struct timeline *t, uint64_t addr, uint64_t data, struct t_bp_pass *prev)
{
	struct tl_stop a, b, c, d;
	uint64_t ha;
	uint8_t code[16], seen[16];

	CHECK(addr != 0, "no list_insert symbol");
	CHECK(tl_goto(t, (struct tl_pos){ 0, 0 }) == 0, "%s", tl_error(t));
	CHECK(tl_read_virt(t, addr, code, sizeof(code)) == sizeof(code), "read list_insert");
	for (unsigned i = 0; data && i < TL_HW_BREAKPOINTS; i++)
		CHECK(tl_break_insert(t, data + i) == 0, "%s", tl_error(t));
	if (data && tl_break_insert(t, addr) < 0) {
		printf("patched breakpoints: %s\n", tl_error(t));
		CHECK(strstr(tl_error(t), "rrvm doctor") != NULL, "the refusal names the probe");
		goto out;
	}
	CHECK(data || tl_break_insert(t, addr) == 0, "%s", tl_error(t));
	CHECK(tl_continue(t, false, &a) == 0 && a.why == TL_STOP_BREAKPOINT, "first hit: %s",
	      tl_error(t));
	CHECK(tl_rip(t) == addr, "stopped at %#" PRIx64 ", not list_insert", tl_rip(t));
	t_place(t, &a);
	CHECK(tl_read_virt(t, addr, seen, sizeof(seen)) == sizeof(seen) &&
	      !memcmp(seen, code, sizeof(code)), "the code at the breakpoint reads as it was");
	ha = t_hash(t);
	CHECK(tl_continue(t, false, &b) == 0 && b.why == TL_STOP_BREAKPOINT, "second hit: %s",
	      tl_error(t));
	t_place(t, &b);
	CHECK(tl_pos_cmp(b.pos, a.pos) > 0 && tl_rip(t) == addr, "second hit after the first");
	CHECK(tl_continue(t, true, &c) == 0 && c.why == TL_STOP_BREAKPOINT, "reverse: %s",
	      tl_error(t));
	t_place(t, &c);
	CHECK(!tl_pos_cmp(c.pos, a.pos) && t_hash(t) == ha,
	      "reverse-continue from the second hit lands on the first");
	CHECK(tl_continue(t, true, &d) == 0 && d.why == TL_STOP_START,
	      "reverse-continue from the first hit reaches the start");
	printf("%s breakpoint at %#" PRIx64 ": hits at %llu:%llu and %llu:%llu\n",
	       data ? "patched" : "hardware", addr, (unsigned long long)a.pos.sync,
	       (unsigned long long)a.pos.n, (unsigned long long)b.pos.sync,
	       (unsigned long long)b.pos.n);
	if (data)
		CHECK(!tl_pos_cmp(a.pos, prev->a) && !tl_pos_cmp(b.pos, prev->b) && ha == prev->ha,
		      "the patched breakpoint stops where the hardware one did, in the same state");
	*prev = (struct t_bp_pass){ a.pos, b.pos, ha };
	tl_break_remove(t, addr);
out:
	for (unsigned i = 0; data && i < TL_HW_BREAKPOINTS; i++)
		tl_break_remove(t, data + i);
}

/* 6. Lazy positions: steps after a breakpoint stop, and chains of hits of
 * two breakpoints in one stretch. */
static void t_lazy(struct timeline *t, uint64_t addr, const struct t_bp_pass *prev)
{
	struct tl_stop a, b, c;
	struct tl_pos p;
	uint64_t second, h;

	CHECK(tl_goto(t, (struct tl_pos){ 0, 0 }) == 0 && tl_break_insert(t, addr) == 0, "%s",
	      tl_error(t));
	CHECK(tl_continue(t, false, &a) == 0 && a.why == TL_STOP_BREAKPOINT, "%s", tl_error(t));
	for (int i = 0; i < 3; i++)
		CHECK(tl_step(t, false, &b) == 0 && b.why == TL_STOP_STEP, "%s", tl_error(t));
	h = t_hash(t);
	CHECK(tl_where(t, &p) == 0 && p.sync == prev->a.sync && p.n == prev->a.n + 3 &&
	      t_hash(t) == h, "three steps after the first hit: %llu:%llu",
	      (unsigned long long)p.sync, (unsigned long long)p.n);
	/* A second breakpoint one instruction into the function. */
	CHECK(tl_goto(t, prev->a) == 0 && tl_step(t, false, &b) == 0, "%s", tl_error(t));
	second = tl_rip(t);
	CHECK(tl_break_insert(t, second) == 0 && tl_goto(t, (struct tl_pos){ 0, 0 }) == 0, "%s",
	      tl_error(t));
	CHECK(tl_continue(t, false, &a) == 0 && tl_rip(t) == addr, "chain: first");
	CHECK(tl_continue(t, false, &b) == 0 && tl_rip(t) == second, "chain: second");
	CHECK(tl_continue(t, false, &c) == 0 && tl_rip(t) == addr, "chain: third");
	h = t_hash(t);
	/* Backward from a stop not placed yet: found by free runs alone. */
	CHECK(tl_continue(t, true, &b) == 0 && tl_rip(t) == second, "chain: back to second");
	t_place(t, &b);
	CHECK(b.pos.sync == prev->a.sync && b.pos.n == prev->a.n + 1, "the second breakpoint's hit "
	      "is one instruction after the first's");
	CHECK(tl_continue(t, false, &c) == 0 && tl_rip(t) == addr, "chain: third again");
	t_place(t, &c);
	CHECK(!tl_pos_cmp(c.pos, prev->b) && t_hash(t) == h,
	      "the third hit is the function's second call");
	/* Interrupted while placing a stop, or stepping back: either way the
	 * engine stands at an exact position. */
	CHECK(tl_continue(t, false, &a) == 0 && a.why == TL_STOP_BREAKPOINT, "%s", tl_error(t));
	tl_interrupt(t);
	CHECK(tl_where(t, &p) == -EINTR && tl_where(t, &p) == 0, "an interrupted placement: %s",
	      tl_error(t));
	tl_interrupt(t);
	CHECK(tl_step(t, true, &b) == 0 && b.why == TL_STOP_INTERRUPTED &&
	      b.pos.n != TL_N_UNKNOWN, "an interrupted step back: %s", tl_error(t));
	printf("lazy placement: steps and a chain of two breakpoints in one stretch\n");
	tl_break_remove(t, addr);
	tl_break_remove(t, second);
}

/* 7. Refusals, interruption, progress, and a live excursion. */
static void t_refuse_and_live(struct timeline *t, const struct t_syms *y)
{
	struct kvm_regs regs;
	struct tl_stop st;
	struct tl_pos p, mid = { tl_end_sync(t) / 2, 0 };
	uint64_t h, v = 0x5eed, got = 0;

	CHECK(tl_goto(t, mid) == 0, "%s", tl_error(t));
	h = t_hash(t);
	CHECK(tl_get_regs(t, &regs) == 0, "registers");
	CHECK(tl_write_regs(t, &regs) == -EROFS && strstr(tl_error(t), "leave replay"),
	      "a register write during replay is refused: %s", tl_error(t));
	CHECK(tl_write_virt(t, y->journal_pool, &v, sizeof(v)) == -EROFS, "a memory write too");
	CHECK(tl_watch_insert(t, y->journal_pool, 8, TL_WATCH_READ) == -EOPNOTSUPP &&
	      strstr(tl_error(t), "watchpoints"), "a read watchpoint is refused: %s", tl_error(t));
	printf("refused: %s\n", tl_error(t));

	tl_interrupt(t);
	CHECK(tl_goto(t, (struct tl_pos){ tl_end_sync(t), 0 }) == -EINTR, "interrupted goto");
	CHECK(tl_where(t, &p) == 0 && p.n == 0 && p.sync <= tl_end_sync(t), "placed after it: %s",
	      tl_error(t));

	CHECK(tl_goto(t, mid) == 0 && tl_go_live(t) == 0 && tl_is_live(t, NULL), "go live: %s", tl_error(t));
	regs.rax = 0xfeedface;
	CHECK(tl_write_regs(t, &regs) == 0 && tl_get_regs(t, &regs) == 0 && regs.rax == 0xfeedface,
	      "a register write when live");
	CHECK(tl_write_virt(t, y->journal_pool, &v, sizeof(v)) == sizeof(v) &&
	      tl_read_virt(t, y->journal_pool, &got, sizeof(got)) == sizeof(got) && got == v,
	      "a memory write when live");
	/* Live stops cannot be placed: nothing recorded leads there. */
	CHECK(tl_break_insert(t, y->list_insert) == 0 && tl_continue(t, false, &st) == 0 &&
	      st.why == TL_STOP_BREAKPOINT && tl_rip(t) == y->list_insert, "a live breakpoint: %s",
	      tl_error(t));
	CHECK(tl_step(t, false, &st) == 0 && tl_where(t, &p) == -EAGAIN &&
	      strstr(tl_error(t), "left replay"), "a live position is not placed: %s", tl_error(t));
	tl_break_remove(t, y->list_insert);
	CHECK(tl_continue(t, false, &st) == 0 && st.why == TL_STOP_END, "live to the end: %s",
	      tl_error(t));
	CHECK(tl_goto(t, mid) == 0 && !tl_is_live(t, NULL) && t_hash(t) == h,
	      "a goto back in the recording is the recording's state again");
	printf("live excursion from %llu:0 to the guest's end and back\n",
	       (unsigned long long)mid.sync);
}

static int t_open(struct t_replay *r, struct timeline *t, const struct t_env *e)
{
	/* Checkpoints by sync point, not by replay time: every run of the
	 * test takes the same ones, so a placement bug reproduces. */
	const struct ckpt_opts ck = { .every_sync = 64 };

	if (t_session_open(r, e) < 0)
		return -1;
	if (tl_open_opts(t, &r->s, r->rd, &ck) < 0) {
		fprintf(stderr, "timeline: %s\n", tl_error(t));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct t_replay r1, r2;
	struct timeline *straight = tl_new(), *engine = tl_new();
	unsigned nops = argc > 3 ? (unsigned)atoi(argv[3]) : 200, seed = 4242;
	struct t_env e;
	struct t_syms syms;
	struct t_bp_pass bp;
	uint64_t progress[3] = { 0 };
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s KERNEL ELF_WITH_SYMBOLS [OPERATIONS]\n", argv[0]);
		return 2;
	}
	seed = t_seed(seed);
	if ((rc = t_setup(&e, argv[1])) != 0)
		return rc;
	/* The replays' serial output, for the panic line the hunt starts from. */
	fclose(e.devnull);
	e.devnull = tmpfile();
	/* The hunt needs the race to strike (samples/race: in most recordings,
	 * not all): record until it does, or fail. */
	if (!straight || !engine || !e.devnull || (rc = t_record_until(&e, T_PANIC, T_RACE_TRIES)) < 0)
		return 1;
	CHECK(rc == 1, "the race did not strike in %u recordings", T_RACE_TRIES);
	if (t_open(&r1, straight, &e) < 0 || t_open(&r2, engine, &e) < 0)
		return 1;
	/* The straight pass's gotos are long replays forward: they report. */
	tl_set_progress(straight, t_progress, progress);
	t_straight(straight, &seed);
	CHECK(progress[0] > 0 && progress[1] == progress[2], "progress: %llu reports, last %llu of %llu",
	      (unsigned long long)progress[0], (unsigned long long)progress[1],
	      (unsigned long long)progress[2]);
	t_random(engine, nops, &seed);
	syms = t_symbols(argv[2]);
	t_breakpoints(engine, syms.list_insert, 0, &bp);
	t_breakpoints(engine, syms.list_insert, syms.journal_pool, &bp);
	t_watch_hunt(engine, &syms, e.devnull);
	t_lazy(engine, syms.list_insert, &bp);
	t_refuse_and_live(engine, &syms);
	tl_close(straight);
	tl_close(engine);
	t_replay_close(&r1);
	t_replay_close(&r2);
	t_teardown(&e);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
