/*
 * CPL 3 in L1: IRETQ to a user trampoline that calls the function and ends
 * with INT3 (the one gate of DPL 3 besides INTO, desc.c), whose #BP unwinds
 * through catch_fault() back to CPL 0 like any other exception would.  The
 * privilege change takes the ring-0 stack from TSS.RSP0 (SDM Vol. 3A 6.12.1,
 * 6.14.2); IRETQ to CPL 3 nulls DS and ES, whose descriptors have DPL 0
 * (6.14.3), so they are reloaded afterwards.
 */
#include "usermode.h"
#include "alloc.h"
#include "desc.h"
#include "pagetable.h"
#include "processor.h"

#define USER_STACK_PAGES 4

struct user_call {
	fault_fn_t fn;
	void *arg;
	uint64_t stack_top;
};

/* At CPL 3: RSI = the function, RDI = its argument. */
extern const char usermode_entry[], usermode_done[];
asm(".pushsection .text\n"
    "usermode_entry:\n"
    "	call *%rsi\n"
    "	int3\n"
    "usermode_done:\n"
    "	ud2\n"			/* not reached: the #BP unwinds */
    ".popsection\n");

static void __noreturn enter_user(void *p)
{
	const struct user_call *c = p;
	uint64_t flags = X86_EFLAGS_FIXED | (read_rflags() & X86_EFLAGS_IF);

	asm volatile("pushq %[ss]\n\t"
		     "pushq %[rsp]\n\t"
		     "pushq %[flags]\n\t"
		     "pushq %[cs]\n\t"
		     "pushq %[rip]\n\t"
		     "iretq"
		     : : [ss] "i"(USER_DS), [rsp] "r"(c->stack_top), [flags] "r"(flags),
		       [cs] "i"(USER_CS64), [rip] "r"((uint64_t)usermode_entry),
		       "D"(c->arg), "S"(c->fn)
		     : "memory");
	__builtin_unreachable();
}

struct fault usermode_call(fault_fn_t fn, void *arg)
{
	/* One user view of one set of tables at a time (the BSP's, normally). */
	static uint64_t source_root, user_root;
	static uint8_t *stack;
	uint64_t cr3 = read_cr3(), cr4 = read_cr4();
	struct user_call call = { fn, arg, 0 };
	struct fault f;

	if (!stack)
		stack = alloc_pages(USER_STACK_PAGES, PAGE_SIZE);
	if (source_root != (cr3 & PTE_ADDR_MASK)) {
		source_root = cr3 & PTE_ADDR_MASK;
		user_root = (uint64_t)pt_copy(paging_current(), PTE_U).root;
	}
	call.stack_top = (uint64_t)stack + USER_STACK_PAGES * PAGE_SIZE;

	/* Supervisor code runs on user pages meanwhile (the handlers): no SMEP, no SMAP. */
	write_cr4(cr4 & ~(X86_CR4_SMEP | X86_CR4_SMAP));
	write_cr3(user_root | (cr3 & ~PTE_ADDR_MASK));
	f = catch_fault(enter_user, &call);
	write_cr3(cr3);
	write_cr4(cr4);
	asm volatile("mov %0, %%ds\n\tmov %0, %%es" : : "r"(KERNEL_DS));

	if (f.raised && f.vector == X86_VEC_BP && f.rip == (uint64_t)usermode_done)
		f = (struct fault){ 0 };
	return f;
}
