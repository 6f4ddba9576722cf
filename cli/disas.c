#include "cli/disas.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "replay/timeline.h"
#include "vmm/mapfile.h"
#include "vmm/x86.h"

/* The longest x86 instruction. */
#define CLI_INSN_MAX 15

static int cli_syms_add(void *ctx, const struct elf_func *fn)
{
	struct cli_syms *y = ctx;

	if (fn->name[0])
		y->funcs[y->nfuncs++] = *fn;
	return 0;
}

static int cli_syms_cmp(const void *a, const void *b)
{
	const struct elf_func *x = a, *z = b;

	return x->vaddr < z->vaddr ? -1 : x->vaddr > z->vaddr;
}

static int cli_count(void *ctx, const struct elf_func *fn)
{
	(*(unsigned *)ctx)++;
	return 0;
}

int cli_syms_load(struct cli_syms *y, const char *path, char *why, size_t len)
{
	const char *bad;
	unsigned n = 0;
	int r;

	memset(y, 0, sizeof(*y));
	if ((r = mapfile_open(path, &y->map, &y->len, why, len)) < 0)
		return r;
	if ((r = elf_open(&y->f, y->map, y->len, &bad)) < 0) {
		snprintf(why, len, "%s: %s", path, bad);
		goto out;
	}
	elf_functions(&y->f, cli_count, &n);
	if (n && !(y->funcs = calloc(n, sizeof(*y->funcs)))) {
		r = -ENOMEM;
		goto out;
	}
	elf_functions(&y->f, cli_syms_add, y);
	qsort(y->funcs, y->nfuncs, sizeof(*y->funcs), cli_syms_cmp);
out:
	if (r < 0)
		cli_syms_free(y);
	return r;
}

void cli_syms_free(struct cli_syms *y)
{
	mapfile_close(y->map, y->len);
	free(y->funcs);
	memset(y, 0, sizeof(*y));
}

/* The function containing ADDR, or NULL. */
static const struct elf_func *cli_syms_at(const struct cli_syms *y, uint64_t addr)
{
	unsigned lo = 0, hi = y->nfuncs;

	while (lo < hi) { /* first function starting above ADDR */
		unsigned mid = lo + (hi - lo) / 2;

		if (y->funcs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= y->funcs[lo - 1].vaddr + y->funcs[lo - 1].size)
		return NULL;
	return &y->funcs[lo - 1];
}

void cli_syms_format(const struct cli_syms *y, uint64_t addr, char *buf, size_t len)
{
	const struct elf_func *fn = cli_syms_at(y, addr);

	if (!fn)
		snprintf(buf, len, "%#" PRIx64, addr);
	else if (addr == fn->vaddr)
		snprintf(buf, len, "%#" PRIx64 " <%s>", addr, fn->name);
	else
		snprintf(buf, len, "%#" PRIx64 " <%s+%" PRIu64 ">", addr, fn->name, addr - fn->vaddr);
}

static int cli_parse_num(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

int cli_parse_addr(const struct cli_syms *y, const char *s, uint64_t *addr)
{
	const char *op = strpbrk(s, "+-");
	char name[256];
	uint64_t off = 0;
	size_t n = op ? (size_t)(op - s) : strlen(s);

	if (cli_parse_num(s, addr) == 0)
		return 0;
	if (!n || n >= sizeof(name) || (op && cli_parse_num(op + 1, &off) < 0))
		return -EINVAL;
	memcpy(name, s, n);
	name[n] = '\0';
	if (!y->map || elf_symbol(&y->f, name, addr) < 0)
		return -ENOENT;
	*addr = op && *op == '-' ? *addr - off : *addr + off;
	return 0;
}

/* Capstone's mode for the code the guest runs now. */
static cs_mode cli_cpu_mode(const struct kvm_sregs *s)
{
	if ((s->efer & X86_EFER_LMA) && s->cs.l) /* and a 64-bit code segment */
		return CS_MODE_64;
	return s->cs.db ? CS_MODE_32 : CS_MODE_16;
}

/* Prints up to N instructions of CODE (LEN bytes from ADDR); how many. */
static unsigned cli_disas_buf(csh cs, const struct cli_syms *y, const uint8_t *code, size_t len,
			      uint64_t addr, uint64_t rip, unsigned n, FILE *out)
{
	cs_insn *insn = cs_malloc(cs);
	char where[300];
	unsigned done = 0;

	while (insn && done < n && cs_disasm_iter(cs, &code, &len, &addr, insn)) {
		cli_syms_format(y, insn->address, where, sizeof(where));
		fprintf(out, "%s %s:\t%s\t%s\n", insn->address == rip ? "=>" : "  ", where,
			insn->mnemonic, insn->op_str);
		done++;
	}
	if (insn)
		cs_free(insn, 1);
	return done;
}

int cli_disas(struct timeline *t, const struct cli_syms *y, uint64_t addr, unsigned n,
	      bool intel, FILE *out)
{
	struct kvm_sregs sr;
	uint8_t code[CLI_INSN_MAX * 64];
	size_t want = (size_t)n * CLI_INSN_MAX;
	unsigned done;
	long got;
	csh cs;

	if (tl_get_sregs(t, &sr) < 0)
		return -EIO;
	got = tl_read_virt(t, addr, code, want < sizeof(code) ? want : sizeof(code));
	if (got <= 0)
		return -EFAULT;
	if (cs_open(CS_ARCH_X86, cli_cpu_mode(&sr), &cs) != CS_ERR_OK)
		return -EIO;
	cs_option(cs, CS_OPT_SYNTAX, intel ? CS_OPT_SYNTAX_INTEL : CS_OPT_SYNTAX_ATT);
	done = cli_disas_buf(cs, y, code, (size_t)got, addr, tl_rip(t), n, out);
	cs_close(&cs);
	return done ? (int)done : -EFAULT;
}
