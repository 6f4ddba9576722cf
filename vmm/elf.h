/* A bounds-checked view of an ELF32 or ELF64 x86 file: load segments and
 * function symbols.  Every offset and count from the file is checked
 * against its length before use; nothing is allocated. */
#ifndef RRVM_VMM_ELF_H
#define RRVM_VMM_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file {
	const uint8_t *buf;
	size_t len;
	bool is64;
	uint16_t machine; /* EM_386 or EM_X86_64 */
	uint64_t entry;
};

struct elf_seg {
	uint64_t off, filesz, vaddr, paddr, memsz;
	uint32_t flags; /* PF_X, PF_W, PF_R */
};

struct elf_func {
	uint64_t vaddr, size;
	const char *name; /* NUL-terminated inside the file, or "" */
};

/* -ENOEXEC with *WHY set unless BUF holds an x86 ELF header. */
int elf_open(struct elf_file *f, const uint8_t *buf, size_t len, const char **why);

/* The PT_LOAD segments, at most MAX of them. */
int elf_segments(const struct elf_file *f, struct elf_seg *segs, unsigned max, unsigned *n,
		 const char **why);

/* Calls FN for each function symbol (STT_FUNC, size > 0) of .symtab, in
 * file order, until FN returns non-zero.  Returns how many it visited; 0
 * when the file has no symbol table. */
unsigned elf_functions(const struct elf_file *f, int (*fn)(void *ctx, const struct elf_func *s),
		       void *ctx);

/* The descriptor of the first note called NAME of TYPE (ELF_NOTE_ANY: any
 * type) in a PT_NOTE segment; -ENOENT when there is none. */
#define ELF_NOTE_ANY UINT32_MAX
int elf_note(const struct elf_file *f, const char *name, uint32_t type, const uint8_t **desc,
	     uint32_t *desc_len);

/* The value (address) of symbol NAME of any type, or -ENOENT. */
int elf_symbol(const struct elf_file *f, const char *name, uint64_t *value);

#endif
