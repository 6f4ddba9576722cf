"""A git repository of a small flaky kernel, for the bisect test and the
bisect benchmark: written and built here with the host gcc.

The kernel (a plain ELF64, entered in long mode) ticks the PIT at 1 kHz
and, for 6 ticks, polls a device: two reads of port 0x61 with a flag set in
between.  Good commits keep interrupts off around the pair (cli/sti); the
culprit drops them, so a tick that lands at the second read finds the flag
set and the kernel prints RACE and exits with status 3.  One commit does
not build.
"""
import os
import subprocess

KERNEL_LD = """ENTRY(_start)
SECTIONS
{
	. = 0x100000;
	.text : { *(.text*) }
	. = ALIGN(4096);
	.data : { *(.rodata*) *(.data*) }
	.bss : { *(.bss*) *(COMMON) }
	/DISCARD/ : { *(.note*) *(.comment) }
}
"""
BUILD_SH = """set -e
gcc -m64 -c flaky.S -o flaky.o
ld -m elf_x86_64 --no-warn-rwx-segments -T kernel.ld -o flaky.elf flaky.o
"""

def kernel(racy, broken=False, ticks=6, spin=300, note=""):
    window = "" if racy else "\tcli\n"
    window_end = "" if racy else "\tsti\n"
    return f"""/* flaky: a tiny multiboot kernel whose main loop reads two device ports
 * with a flag set in between, while the PIT ticks at 1 kHz. {note} */
	.text
	.globl _start
_start:
	mov $stack_top, %rsp
	mov %cs, %bx
	mov $idt, %edi
	mov $256, %ecx
1:	mov $bad_vector, %eax
	call set_gate
	add $16, %edi
	loop 1b
	mov $idt + 16 * 0x20, %edi
	mov $irq0, %eax
	call set_gate
	lidt idt_desc
	call pic_init
	call pit_init
	sti
main_loop:
	mov ${spin}, %ecx
2:	dec %ecx
	jnz 2b                 /* the work between two polls: no exits */
	inb $0x61, %al          /* poll the status */
{window}	inb $0x61, %al          /* the first read of the pair */
	movl $1, busy
	nop
	nop
	inb $0x61, %al          /* the second read */
	movl $0, busy
{window_end}	cmpl ${ticks}, ticks
	jb main_loop
	mov $msg_ok, %rsi
	call puts
	movb $0, %al
	outb %al, $0xf4
{"	this does not assemble" if broken else ""}

/* A 64-bit interrupt gate at RDI for handler EAX (below 4 GiB), code
 * selector BX. */
set_gate:
	mov %ax, (%rdi)
	mov %bx, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shr $16, %eax
	mov %ax, 6(%rdi)
	movl $0, 8(%rdi)
	movl $0, 12(%rdi)
	ret

pic_init:
	mov $0x11, %al
	outb %al, $0x20
	outb %al, $0xa0
	mov $0x20, %al
	outb %al, $0x21
	mov $0x28, %al
	outb %al, $0xa1
	mov $0x04, %al
	outb %al, $0x21
	mov $0x02, %al
	outb %al, $0xa1
	mov $0x01, %al
	outb %al, $0x21
	outb %al, $0xa1
	mov $0xfe, %al          /* IRQ0 only */
	outb %al, $0x21
	mov $0xff, %al
	outb %al, $0xa1
	ret

pit_init:
	mov $0x34, %al          /* channel 0, lobyte/hibyte, rate generator */
	outb %al, $0x43
	mov $0xa9, %al          /* 1193 = 1193182 Hz / 1 kHz */
	outb %al, $0x40
	mov $0x04, %al
	outb %al, $0x40
	ret

puts:
	lodsb
	test %al, %al
	jz 1f
	mov $0x3f8, %dx
	outb %al, %dx
	jmp puts
1:	ret

irq0:
	push %rax
	push %rsi
	push %rdx
	cmpl $0, busy
	je 1f
	mov $msg_race, %rsi     /* the tick landed between the two reads */
	call puts
	movb $1, %al
	outb %al, $0xf4
1:	incl ticks
	mov $0x20, %al
	outb %al, $0x20
	pop %rdx
	pop %rsi
	pop %rax
	iretq

bad_vector:
	mov $msg_bad, %rsi
	call puts
	movb $2, %al
	outb %al, $0xf4

	.data
	.align 8
idt_desc:
	.word 256 * 16 - 1
	.quad idt
msg_ok:	.asciz "flaky: ok\\n"
msg_race: .asciz "flaky: RACE: the tick landed between the two reads\\n"
msg_bad: .asciz "flaky: unexpected exception\\n"
	.bss
	.align 8
busy:	.long 0
ticks:	.long 0
idt:	.space 256 * 16
	.space 4096
stack_top:
"""


# (subject, racy, broken, note): the history, oldest first.  The culprit is
# commit 7.
HISTORY = [
    ("flaky: a kernel that polls a device while the PIT ticks", False, False, ""),
    ("flaky: say what the loop polls", False, False, "It polls port 0x61."),
    ("flaky: document the tick rate", False, False, "1 kHz, 6 ticks."),
    ("flaky: note the exit statuses", False, False, "Exits 0 when done, 1 on a race."),
    ("flaky: comment the gates", False, False, "Gates are interrupt gates."),
    ("flaky: start a refactor (does not build)", False, True, "Refactor."),
    ("flaky: finish the refactor", False, False, "Refactored."),
    ("flaky: poll without cli/sti, it is faster", True, False, "No cli: faster."),
    ("flaky: comment the handler", True, False, "The handler checks busy."),
    ("flaky: spell out the PIC setup", True, False, "PIC: IRQ0 only."),
    ("flaky: more notes", True, False, "More notes."),
    ("flaky: last touches", True, False, "Last touches."),
]
CULPRIT = 7  # index in HISTORY; the first midpoint of the bisection, 5, does not build
BROKEN = 5


def run(args, cwd=None, timeout=120, **kw):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def git(repo, *args):
    p = run(["git", *args], cwd=repo)
    return p.stdout.strip()


def make_repo(repo):
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@rrvm")
    git(repo, "config", "user.name", "rrvm test")
    open(os.path.join(repo, "kernel.ld"), "w").write(KERNEL_LD)
    open(os.path.join(repo, "build.sh"), "w").write(BUILD_SH)
    open(os.path.join(repo, ".gitignore"), "w").write("*.o\n*.elf\n")
    shas = []
    for subject, racy, broken, note in HISTORY:
        open(os.path.join(repo, "flaky.S"), "w").write(kernel(racy, broken, note=note))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", subject)
        shas.append(git(repo, "rev-parse", "HEAD"))
    return shas


def build_at(repo, sha, out):
    """The kernel of commit SHA, built into OUT (a copy)."""
    git(repo, "checkout", "-q", sha)
    p = run(["sh", "build.sh"], cwd=repo)
    git(repo, "checkout", "-q", "main")
    if p.returncode:
        return None
    os.replace(os.path.join(repo, "flaky.elf"), out)
    return out
