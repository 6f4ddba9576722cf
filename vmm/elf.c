#include "vmm/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

static int elf_fail(const char **why, const char *msg)
{
	*why = msg;
	return -ENOEXEC;
}

/* True when [off, off + n * size) lies inside the file. */
static bool elf_fits(const struct elf_file *f, uint64_t off, uint64_t n, uint64_t size)
{
	return off <= f->len && (size == 0 || n <= (f->len - off) / size);
}

int elf_open(struct elf_file *f, const uint8_t *buf, size_t len, const char **why)
{
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->len = len;
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) || buf[EI_DATA] != ELFDATA2LSB ||
	    (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64))
		return elf_fail(why, "not a little-endian ELF file");
	f->is64 = buf[EI_CLASS] == ELFCLASS64;
	if (f->is64) {
		Elf64_Ehdr e;
		if (len < sizeof(e))
			return elf_fail(why, "truncated ELF header");
		memcpy(&e, buf, sizeof(e));
		f->machine = e.e_machine;
		f->entry = e.e_entry;
		if (e.e_machine != EM_X86_64)
			return elf_fail(why, "ELF64 file is not for x86-64");
	} else {
		Elf32_Ehdr e;
		if (len < sizeof(e))
			return elf_fail(why, "truncated ELF header");
		memcpy(&e, buf, sizeof(e));
		f->machine = e.e_machine;
		f->entry = e.e_entry;
		if (e.e_machine != EM_386 && e.e_machine != EM_X86_64)
			return elf_fail(why, "ELF32 file is not for x86");
	}
	return 0;
}

/* The header fields both classes share, widened. */
struct elf_hdr {
	uint64_t phoff, shoff;
	uint16_t phentsize, phnum, shentsize, shnum;
};

static struct elf_hdr elf_hdr(const struct elf_file *f)
{
	struct elf_hdr h;

	if (f->is64) {
		Elf64_Ehdr e;
		memcpy(&e, f->buf, sizeof(e));
		h = (struct elf_hdr){ e.e_phoff, e.e_shoff, e.e_phentsize, e.e_phnum,
				      e.e_shentsize, e.e_shnum };
	} else {
		Elf32_Ehdr e;
		memcpy(&e, f->buf, sizeof(e));
		h = (struct elf_hdr){ e.e_phoff, e.e_shoff, e.e_phentsize, e.e_phnum,
				      e.e_shentsize, e.e_shnum };
	}
	return h;
}

static struct elf_seg elf_seg_at(const struct elf_file *f, const uint8_t *p, uint32_t *type)
{
	if (f->is64) {
		Elf64_Phdr ph;
		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		return (struct elf_seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr, ph.p_paddr,
					 ph.p_memsz, ph.p_flags };
	} else {
		Elf32_Phdr ph;
		memcpy(&ph, p, sizeof(ph));
		*type = ph.p_type;
		return (struct elf_seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr, ph.p_paddr,
					 ph.p_memsz, ph.p_flags };
	}
}

int elf_segments(const struct elf_file *f, struct elf_seg *segs, unsigned max, unsigned *n,
		 const char **why)
{
	struct elf_hdr h = elf_hdr(f);
	size_t want = f->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	*n = 0;
	if (h.phentsize != want)
		return elf_fail(why, "bad ELF program header size");
	if (!elf_fits(f, h.phoff, h.phnum, h.phentsize))
		return elf_fail(why, "ELF program headers lie outside the file");
	for (unsigned i = 0; i < h.phnum; i++) {
		uint32_t type;
		struct elf_seg s = elf_seg_at(f, f->buf + h.phoff + (uint64_t)i * h.phentsize, &type);

		if (type != PT_LOAD)
			continue;
		if (*n == max)
			return elf_fail(why, "too many ELF load segments");
		segs[(*n)++] = s;
	}
	if (!*n)
		return elf_fail(why, "ELF file has no loadable segment");
	return 0;
}

/* Notes are 4-byte aligned records: namesz, descsz, type, name, desc (the
 * x86 ELF64 kernels of interest use 4-byte alignment too, as the gABI's
 * SHT_NOTE rule for ELF64 was never followed by Linux). */
static int elf_note_in(const uint8_t *p, uint64_t len, const char *name, uint32_t type,
		       const uint8_t **desc, uint32_t *desc_len)
{
	size_t nlen = strlen(name) + 1;

	for (uint64_t o = 0; o <= len && len - o >= 12;) {
		uint32_t n[3];
		uint64_t name_end, desc_end;

		memcpy(n, p + o, sizeof(n));
		name_end = o + 12 + (((uint64_t)n[0] + 3) & ~3ull);
		desc_end = name_end + (((uint64_t)n[1] + 3) & ~3ull);
		if (name_end > len || desc_end > len || name_end - o - 12 < n[0] ||
		    desc_end - name_end < n[1])
			return -ENOENT;
		if (n[0] == nlen && !memcmp(p + o + 12, name, nlen) &&
		    (type == ELF_NOTE_ANY || n[2] == type)) {
			*desc = p + name_end;
			*desc_len = n[1];
			return 0;
		}
		o = desc_end;
	}
	return -ENOENT;
}

int elf_note(const struct elf_file *f, const char *name, uint32_t type, const uint8_t **desc,
	     uint32_t *desc_len)
{
	struct elf_hdr h = elf_hdr(f);
	size_t want = f->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

	if (h.phentsize != want || !elf_fits(f, h.phoff, h.phnum, h.phentsize))
		return -ENOENT;
	for (unsigned i = 0; i < h.phnum; i++) {
		uint32_t t;
		struct elf_seg s = elf_seg_at(f, f->buf + h.phoff + (uint64_t)i * h.phentsize, &t);

		if (t == PT_NOTE && elf_fits(f, s.off, 1, s.filesz) &&
		    elf_note_in(f->buf + s.off, s.filesz, name, type, desc, desc_len) == 0)
			return 0;
	}
	return -ENOENT;
}

struct elf_shdr {
	uint32_t type, link;
	uint64_t off, size, entsize;
};

static bool elf_section(const struct elf_file *f, const struct elf_hdr *h, unsigned i,
			struct elf_shdr *s)
{
	const uint8_t *p = f->buf + h->shoff + (uint64_t)i * h->shentsize;

	if (f->is64) {
		Elf64_Shdr sh;
		memcpy(&sh, p, sizeof(sh));
		*s = (struct elf_shdr){ sh.sh_type, sh.sh_link, sh.sh_offset, sh.sh_size,
					sh.sh_entsize };
	} else {
		Elf32_Shdr sh;
		memcpy(&sh, p, sizeof(sh));
		*s = (struct elf_shdr){ sh.sh_type, sh.sh_link, sh.sh_offset, sh.sh_size,
					sh.sh_entsize };
	}
	return elf_fits(f, s->off, 1, s->size);
}

static const char *elf_name(const struct elf_file *f, const struct elf_shdr *strtab,
			    uint32_t off)
{
	const char *s;

	if (off >= strtab->size)
		return "";
	s = (const char *)f->buf + strtab->off + off;
	/* The name must end inside the string table. */
	return memchr(s, '\0', strtab->size - off) ? s : "";
}

/* Calls FN for each symbol with a name (any type when ANY, else functions
 * with a size), as an elf_func. */
static unsigned elf_symbols(const struct elf_file *f, bool any,
			    int (*fn)(void *ctx, const struct elf_func *s), void *ctx)
{
	struct elf_hdr h = elf_hdr(f);
	size_t shsz = f->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	size_t symsz = f->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	struct elf_shdr sym, str;
	unsigned visited = 0;

	if (h.shentsize != shsz || !elf_fits(f, h.shoff, h.shnum, h.shentsize))
		return 0;
	for (unsigned i = 0; i < h.shnum; i++) {
		if (!elf_section(f, &h, i, &sym) || sym.type != SHT_SYMTAB || sym.entsize != symsz)
			continue;
		if (sym.link >= h.shnum || !elf_section(f, &h, sym.link, &str))
			return 0;
		for (uint64_t j = 0; j < sym.size / symsz; j++) {
			const uint8_t *p = f->buf + sym.off + j * symsz;
			struct elf_func fs;
			unsigned char info;
			uint32_t name;

			if (f->is64) {
				Elf64_Sym s;
				memcpy(&s, p, sizeof(s));
				info = s.st_info, name = s.st_name;
				fs = (struct elf_func){ s.st_value, s.st_size, NULL };
			} else {
				Elf32_Sym s;
				memcpy(&s, p, sizeof(s));
				info = s.st_info, name = s.st_name;
				fs = (struct elf_func){ s.st_value, s.st_size, NULL };
			}
			if (!any && (ELF64_ST_TYPE(info) != STT_FUNC || !fs.size))
				continue;
			fs.name = elf_name(f, &str, name);
			visited++;
			if (fn(ctx, &fs))
				return visited;
		}
		return visited;
	}
	return 0;
}

unsigned elf_functions(const struct elf_file *f, int (*fn)(void *ctx, const struct elf_func *s),
		       void *ctx)
{
	return elf_symbols(f, false, fn, ctx);
}

struct elf_find {
	const char *name;
	uint64_t value;
	bool found;
};

static int elf_find_cb(void *ctx, const struct elf_func *s)
{
	struct elf_find *q = ctx;

	if (strcmp(s->name, q->name))
		return 0;
	q->value = s->vaddr;
	q->found = true;
	return 1;
}

int elf_symbol(const struct elf_file *f, const char *name, uint64_t *value)
{
	struct elf_find q = { name, 0, false };

	elf_symbols(f, true, elf_find_cb, &q);
	if (!q.found)
		return -ENOENT;
	*value = q.value;
	return 0;
}
