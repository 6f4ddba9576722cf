/*
 * race: a kernel with a real bug to hunt with reverse execution.
 *
 * The journal is a doubly linked list of records, appended to by the main loop and
 * by the PIT interrupt handler.  list_insert() is correct only with interrupts off:
 * the handler calls it that way (interrupt gate), but the main loop's
 * journal_append() forgets the cli/sti.  list_insert() reads the tail, then reads the
 * PIT to timestamp the record (port I/O: under rrvm that is a sync point where IRQ0
 * can be injected), then links the record after the tail it read.  If the interrupt
 * lands in that window, the handler links its record after the same old tail and the
 * main loop's store to old_tail->next overwrites that link: the handler's record is
 * lost from the forward chain, with nothing else visibly wrong.
 *
 * Nothing notices until journal_audit(), run every AUDIT_EVERY appends, counts the
 * reachable records.  It then prints a PANIC line naming the lost record and the
 * link that was overwritten, and exits with EXIT_PANIC (QEMU status 33).
 *
 * Hunting it: the PANIC line ends "overwritten link: journal_pool[P].next -> ...".
 * That link is never written again after the bad store (journal_pool[P] is no longer
 * the tail; the first record is appended before interrupts are enabled, so a lost
 * record always has a predecessor), so
 *     watch journal_pool[P].next
 *     reverse-continue
 * stops right after the culprit store `*link = rec;` in list_insert(), called from
 * journal_append() in main_loop(): the backtrace shows the missing cli.  One more
 * reverse-continue stops on the same line called from timer_irq(), the link that
 * was lost.
 */
#include "runtime.h"

#define RACE_PIT_HZ   2000
#define JOURNAL_CAP   8192
#define MAIN_APPENDS  6000          /* bounds the main loop: ~0.5 M ring-0 instructions */
#define AUDIT_EVERY   2048

enum record_source { SRC_MAIN = 1, SRC_IRQ = 2 };

struct record {
	struct record *next;
	struct record *prev;
	uint32_t seq;             /* index in journal_pool */
	uint32_t tick;            /* timer ticks when appended */
	uint16_t stamp;           /* PIT counter when linked */
	uint8_t source;           /* enum record_source */
	uint8_t audit_mark;       /* generation of the last audit that reached it */
};

struct journal {
	struct record *head;
	struct record *tail;
	uint32_t len;             /* records linked */
	uint32_t allocated;       /* records taken from journal_pool */
	uint32_t dropped;         /* handler appends refused because the pool was full */
	uint32_t audits;
};

struct journal journal;
struct record journal_pool[JOURNAL_CAP];
static volatile uint32_t ticks;

static struct record *record_alloc(enum record_source src)
{
	uint64_t flags = irq_save();
	struct record *rec = NULL;

	if (journal.allocated < JOURNAL_CAP) {
		rec = &journal_pool[journal.allocated];
		rec->seq = journal.allocated++;
		rec->source = (uint8_t)src;
		rec->tick = ticks;
	}
	irq_restore(flags);
	return rec;
}

/* Appends rec at the tail.  Caller must have interrupts disabled. */
__attribute__((noinline)) void list_insert(struct journal *j, struct record *rec)
{
	struct record *old_tail = j->tail;

	rec->prev = old_tail;
	rec->next = NULL;
	rec->stamp = pit_read_counter();
	struct record **link = old_tail ? &old_tail->next : &j->head;
	*link = rec;                      /* the culprit store when IRQ0 hit the window */
	j->tail = rec;
	j->len++;
}

/* The bug: list_insert() with interrupts enabled. */
__attribute__((noinline)) static void journal_append(void)
{
	struct record *rec = record_alloc(SRC_MAIN);

	if (rec)
		list_insert(&journal, rec);
}

static void timer_irq(struct regs *r)
{
	ticks++;
	struct record *rec = record_alloc(SRC_IRQ);

	if (rec)
		list_insert(&journal, rec);
	else
		journal.dropped++;
}

/* Walks the list with interrupts off; panics if a record cannot be reached. */
__attribute__((noinline)) static void journal_audit(uint32_t iteration)
{
	uint64_t flags = irq_save();
	uint8_t gen = (uint8_t)(++journal.audits);
	uint32_t reachable = 0;
	struct record *prev = NULL;

	for (struct record *r = journal.head; r; prev = r, r = r->next) {
		if (r->prev != prev)
			panic("journal audit %u at iteration %u: journal_pool[%u].prev -> %d "
			      "but reached from %d", gen, iteration, r->seq,
			      r->prev ? (int)r->prev->seq : -1, prev ? (int)prev->seq : -1);
		r->audit_mark = gen;
		reachable++;
	}
	if (prev != journal.tail)
		panic("journal audit %u at iteration %u: forward walk ends at %d, tail is %d",
		      gen, iteration, prev ? (int)prev->seq : -1,
		      journal.tail ? (int)journal.tail->seq : -1);
	if (reachable != journal.len) {
		for (uint32_t i = 0; i < journal.allocated; i++) {
			struct record *lost = &journal_pool[i];
			char link[40];

			if (lost->audit_mark == gen)
				continue;
			if (lost->prev)
				snprintf(link, sizeof(link), "journal_pool[%u].next",
					 lost->prev->seq);
			else
				snprintf(link, sizeof(link), "journal.head");
			struct record *now = lost->prev ? lost->prev->next : journal.head;
			panic("journal audit %u at iteration %u: %u records linked but %u "
			      "reachable; journal_pool[%u] (appended by %s at tick %u) is lost; "
			      "overwritten link: %s -> journal_pool[%d]",
			      gen, iteration, journal.len, reachable, i,
			      lost->source == SRC_IRQ ? "irq" : "main", lost->tick, link,
			      now ? (int)now->seq : -1);
		}
		panic("journal audit %u: %u records linked but %u reachable", gen,
		      journal.len, reachable);
	}
	irq_restore(flags);
}

/* Cheap work with a port read outside the window: poll the UART as a console would. */
static unsigned uart_polls;

__attribute__((noinline)) static void main_loop(void)
{
	for (uint32_t i = 1; i <= MAIN_APPENDS; i++) {
		journal_append();
		uart_polls += serial_tx_ready();
		if (i % AUDIT_EVERY == 0 || i == MAIN_APPENDS)
			journal_audit(i);
	}
}

void kmain(uint32_t mb_magic, uint32_t mb_info);
void kmain(uint32_t mb_magic, uint32_t mb_info)
{
	serial_init();
	idt_init();
	pic_init();
	idt_set_handler(IRQ_BASE + 0, timer_irq);
	printf("race: journal shared by main loop and IRQ0 (PIT %u Hz), %u appends, "
	       "audit every %u\n", RACE_PIT_HZ, MAIN_APPENDS, AUDIT_EVERY);
	journal_append();                 /* journal_pool[0], before any interrupt */
	pit_init_periodic(RACE_PIT_HZ, PIT_MODE_RATE);
	pic_unmask(0);
	irq_enable();

	main_loop();

	irq_disable();
	pic_mask(0);
	printf("race: no corruption in %u appends\n", MAIN_APPENDS);
}
