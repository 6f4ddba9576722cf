/* The kernel's symbols (from its ELF, when it has a symbol table) and a
 * capstone disassembler over the replayed guest's memory, for the console. */
#ifndef RRVM_CLI_DISAS_H
#define RRVM_CLI_DISAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/elf.h"

struct timeline;

struct cli_syms {
	const uint8_t *map;      /* the ELF file, mapped read-only (mapfile_open) */
	size_t len;
	struct elf_file f;
	struct elf_func *funcs;  /* function symbols, sorted by address */
	unsigned nfuncs;
};

/* Loads PATH's symbols.  0, or -errno with a reason in WHY; Y is then an
 * empty table that every lookup below accepts. */
int cli_syms_load(struct cli_syms *y, const char *path, char *why, size_t len);
void cli_syms_free(struct cli_syms *y);

/* "0x100300", "1049344", "list_insert", "journal_pool+64", "sym-8".
 * 0, or -EINVAL (-ENOENT for an unknown symbol). */
int cli_parse_addr(const struct cli_syms *y, const char *s, uint64_t *addr);
/* "0x100310 <list_insert+16>", or just the number outside any function. */
void cli_syms_format(const struct cli_syms *y, uint64_t addr, char *buf, size_t len);

/* Disassembles N instructions at ADDR in the guest's current CPU mode,
 * marking the one at RIP with "=>".  Returns how many it printed, or
 * -EFAULT when ADDR is unmapped, -EIO when capstone is unusable. */
int cli_disas(struct timeline *t, const struct cli_syms *y, uint64_t addr, unsigned n,
	      bool intel, FILE *out);

#endif
