/*
 * Exception catching.  The dispatcher asks fault_recover() first: an exception at
 * an instruction listed in the exception table resumes at its fixup; otherwise,
 * inside catch_fault(), it unwinds to the catch_fault() call like longjmp.
 */
#include "fault.h"
#include "fault_internal.h"
#include "report.h"
#include "smp.h"

struct extable_entry {
	uint64_t insn, fixup;
};

/* Callee-saved state, as isr.S catch_save() writes it. */
struct catch_context {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};

extern const struct extable_entry __start_ex_table[], __stop_ex_table[];
int catch_save(struct catch_context *ctx) __attribute__((returns_twice));

/* Per CPU: each catches its own faults (smp.h). */
static struct fault last_faults[SMP_MAX_CPUS];
static struct catch_context *active_catches[SMP_MAX_CPUS];
#define last_fault (last_faults[this_cpu_id()])
#define active_catch (active_catches[this_cpu_id()])

void fault_clear(void)
{
	last_fault = (struct fault){ 0 };
}

struct fault fault_take(void)
{
	struct fault f = last_fault;

	fault_clear();
	return f;
}

static void record(const struct ex_regs *regs)
{
	last_fault = (struct fault){
		.raised = true,
		.vector = regs->vector,
		.error_code = regs->error_code,
		.rip = regs->rip,
	};
	if (regs->vector == X86_VEC_PF)
		last_fault.cr2 = read_cr2();
	if (regs->vector == X86_VEC_DB)
		last_fault.dr6 = read_dr6();
}

struct fault catch_fault(fault_fn_t fn, void *arg)
{
	struct catch_context ctx;
	struct catch_context *volatile outer = active_catch;

	fault_clear();
	if (!catch_save(&ctx)) {
		active_catch = &ctx;
		fn(arg);
	}
	active_catch = outer;
	return fault_take();
}

bool fault_recover(struct ex_regs *regs)
{
	for (const struct extable_entry *e = __start_ex_table; e < __stop_ex_table; e++) {
		if (e->insn == regs->rip) {
			record(regs);
			regs->rip = e->fixup;
			return true;
		}
	}

	if (active_catch) {
		const struct catch_context *c = active_catch;

		record(regs);
		active_catch = NULL;
		regs->rbx = c->rbx, regs->rbp = c->rbp;
		regs->r12 = c->r12, regs->r13 = c->r13, regs->r14 = c->r14, regs->r15 = c->r15;
		regs->rsp = c->rsp;
		regs->rip = c->rip;
		regs->rflags = c->rflags;
		regs->cs = KERNEL_CS64;
		regs->ss = KERNEL_DS;
		regs->rax = 1;	/* catch_save() "returns" 1 */
		return true;
	}
	return false;
}

const char *fault_str(const struct fault *f, char *buf, size_t size)
{
	if (!f->raised)
		snprintf(buf, size, "no exception");
	else if (vector_has_error_code(f->vector))
		snprintf(buf, size, "%s(%#x) at rip %#lx", vector_name(f->vector), f->error_code, f->rip);
	else
		snprintf(buf, size, "%s at rip %#lx", vector_name(f->vector), f->rip);
	return buf;
}

void fault_unexpected(struct ex_regs *regs)
{
	static bool dumping;

	if (dumping) {
		/* An exception while reporting one: say so and stop without more output. */
		printf("\n# nested unexpected exception %lu at rip %#lx\n", regs->vector, regs->rip);
		platform_exit(3);
	}
	dumping = true;
	printf("# unexpected %s (vector %lu) error code %#lx\n", vector_name(regs->vector),
	       regs->vector, regs->error_code);
	printf("# rip %016lx cs %04lx rflags %016lx rsp %016lx ss %04lx\n",
	       regs->rip, regs->cs, regs->rflags, regs->rsp, regs->ss);
	printf("# rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
	       regs->rax, regs->rbx, regs->rcx, regs->rdx);
	printf("# rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n",
	       regs->rsi, regs->rdi, regs->rbp, regs->r8);
	printf("# r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n",
	       regs->r9, regs->r10, regs->r11, regs->r12);
	printf("# r13 %016lx r14 %016lx r15 %016lx\n", regs->r13, regs->r14, regs->r15);
	printf("# cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx\n",
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
	report_abort("unexpected %s (vector %lu, error code %#lx) at rip %#lx",
		     vector_name(regs->vector), regs->vector, regs->error_code, regs->rip);
}
