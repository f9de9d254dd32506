/*
 * Interrupt shadows in the plain guest (SDM Vol. 3A 6.8.3, Vol. 2B STI):
 *  - an interrupt pending when STI sets IF is taken only after the next instruction;
 *  - STI followed by CLI takes no interrupt at all;
 *  - STI; HLT wakes from HLT, with the interrupt's return address after HLT;
 *  - MOV SS holds a single-step #DB until after the next instruction.
 * Each uses a real interrupt from the local APIC (self-IPI or timer) and
 * compares the RIP the interrupt frame reports with the label where the
 * architecture says delivery happens.
 */
#include "apic.h"
#include "desc.h"
#include "fault.h"
#include "processor.h"
#include "test.h"

#define SHADOW_VECTOR	0x50
#define WATCHDOG_VECTOR	0x51
#define WAIT_SPINS	50000000ul

static volatile unsigned irq_count;
static volatile uint64_t irq_rip, irq_rax;

static void record_irq(struct ex_regs *regs)
{
	irq_count++;
	irq_rip = regs->rip;
	irq_rax = regs->rax;
	apic_eoi();
}

static void watchdog_irq(struct ex_regs *regs)
{
	apic_eoi();
}

static void setup(void)
{
	irq_set_handler(SHADOW_VECTOR, record_irq);
	irq_set_handler(WATCHDOG_VECTOR, watchdog_irq);
}

/* Makes SHADOW_VECTOR pending in the IRR with IF = 0; false if it never arrives. */
static bool make_pending(bool use_timer)
{
	irq_disable();
	irq_count = 0;
	irq_rip = irq_rax = 0;
	if (use_timer)
		apic_timer_oneshot(SHADOW_VECTOR, 1000);
	else
		apic_self_ipi(SHADOW_VECTOR);
	for (uint64_t i = 0; i < WAIT_SPINS; i++)
		if (apic_irr_test(SHADOW_VECTOR))
			return true;
	return false;
}

/* STI; INC EAX: the interrupt must see EAX incremented and return to the label after INC. */
static __noinline_noclone uint64_t sti_then_inc(void)
{
	uint64_t rax = 0;

	asm volatile("sti\n"
		     "shadow_sti_inc: inc %%eax\n"
		     "shadow_sti_after: nop\n"
		     "cli"
		     : "+a"(rax) : : "memory");
	return rax;
}

static void check_sti_next_instruction(bool use_timer)
{
	uint64_t after = ASM_LABEL_ADDR("shadow_sti_after");

	if (!make_pending(use_timer)) {
		test_error("", "the %s interrupt never became pending in the IRR",
			   use_timer ? "timer" : "self-IPI");
		return;
	}
	sti_then_inc();
	check_msg(irq_count == 1 && irq_rip == after && irq_rax == 1, "",
		  "%u interrupts; taken at rip %#lx with eax %lu, expected rip %#lx (after the "
		  "instruction following STI) with eax 1", irq_count, irq_rip, irq_rax, after);
	apic_timer_stop();
}

static void check_sti_self_ipi(void)
{
	check_sti_next_instruction(false);
}

static void check_sti_timer(void)
{
	check_sti_next_instruction(true);
}

static __noinline_noclone void sti_then_cli(void)
{
	asm volatile("sti\ncli" : : : "memory");
}

static void check_sti_cli(void)
{
	if (!make_pending(false)) {
		test_error("", "the self-IPI never became pending in the IRR");
		return;
	}
	sti_then_cli();
	check_msg(irq_count == 0 && apic_irr_test(SHADOW_VECTOR), "blocked",
		  "%u interrupts taken between STI and CLI (rip %#lx), expected none", irq_count,
		  irq_rip);
	/* The interrupt is still pending and arrives at the next window. */
	sti_then_inc();
	check_msg(irq_count == 1, "delivered_later", "%u interrupts after the next STI",
		  irq_count);
}

static __noinline_noclone void sti_then_hlt(void)
{
	asm volatile("sti\n"
		     "shadow_hlt: hlt\n"
		     "shadow_hlt_after: cli" : : : "memory");
}

static void check_sti_hlt(void)
{
	uint64_t after = ASM_LABEL_ADDR("shadow_hlt_after");

	if (!make_pending(false)) {
		test_error("", "the self-IPI never became pending in the IRR");
		return;
	}
	/*
	 * Delivered before HLT, the interrupt would return to HLT and sleep for
	 * good: the watchdog timer wakes it so that the check fails instead.
	 */
	apic_timer_oneshot(WATCHDOG_VECTOR, 200000000);
	sti_then_hlt();
	apic_timer_stop();
	check_msg(irq_count == 1 && irq_rip == after, "",
		  "%u interrupts; taken at rip %#lx, expected %#lx (after HLT; HLT at %#lx)",
		  irq_count, irq_rip, after, ASM_LABEL_ADDR("shadow_hlt"));
}

/* Sets TF with POPF; the next instruction is under test, as selected by @movss. */
static __noinline_noclone void single_step_movss(void *arg)
{
	asm volatile("mov %%ss, %%eax\n"
		     "pushfq\n"
		     "orq $0x100, (%%rsp)\n"
		     "popfq\n"
		     "mov %%eax, %%ss\n"
		     "shadow_movss_next: nop\n"
		     "shadow_movss_after: nop\n"
		     "nop\n"
		     : : : "rax", "memory", "cc");
}

static __noinline_noclone void single_step_plain(void *arg)
{
	asm volatile("pushfq\n"
		     "orq $0x100, (%%rsp)\n"
		     "popfq\n"
		     "mov %%eax, %%ecx\n"
		     "shadow_plain_next: nop\n"
		     "nop\n"
		     : : : "rax", "rcx", "memory", "cc");
}

static char fault_text[96];

static void check_single_step(const char *name, fault_fn_t fn, uint64_t expected_rip)
{
	struct fault f;

	write_dr6(0xffff0ff0);
	f = catch_fault(fn, NULL);
	check_msg(f.raised && f.vector == X86_VEC_DB && f.rip == expected_rip &&
		  (f.dr6 & X86_DR6_BS), name,
		  "expected single-step #DB at rip %#lx with DR6.BS, got %s, DR6 %#lx",
		  expected_rip, fault_str(&f, fault_text, sizeof(fault_text)), f.dr6);
}

static void check_movss_single_step(void)
{
	/* Without a shadow the trap follows the first instruction after POPF. */
	check_single_step("plain", single_step_plain, ASM_LABEL_ADDR("shadow_plain_next"));
	/* MOV SS inhibits it until the instruction after the next one (SDM Vol. 3A 6.8.3). */
	check_single_step("held", single_step_movss, ASM_LABEL_ADDR("shadow_movss_after"));
}

static const struct check_entry intr_shadow_checks[] = {
	{ "sti.self_ipi", check_sti_self_ipi },
	{ "sti.timer", check_sti_timer },
	{ "sti.cli", check_sti_cli },
	{ "sti.hlt", check_sti_hlt },
	{ "movss.single_step", check_movss_single_step },
};

DEFINE_TEST("intr_shadow", intr_shadow_checks, .setup = setup);
