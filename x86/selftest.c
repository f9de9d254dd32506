/*
 * The harness checks itself: fault catching for each kind of exception, the
 * result counts, command-line parsing, formatted output, and interrupts from
 * the local APIC.  Everything else stands on these.
 */
#include "alloc.h"
#include "apic.h"
#include "desc.h"
#include "fault.h"
#include "pagetable.h"
#include "prng.h"
#include "processor.h"
#include "test.h"
#include "usermode.h"

#define TEST_VECTOR 0x40
#define WAIT_SPINS 100000000ul

static char fault_text[96];

static bool expect_fault(const char *name, struct fault f, unsigned vector, uint32_t error_code,
			 uint64_t rip)
{
	return check_msg(fault_is(&f, vector, error_code) && f.rip == rip, name,
			 "expected %s(%#x) at rip %#lx, got %s", vector_name(vector), error_code,
			 rip, fault_str(&f, fault_text, sizeof(fault_text)));
}

static __noinline_noclone void check_catch_ud(void)
{
	struct fault f;

	fault_clear();
	asm volatile(FAULT_TRY("selftest_ud: ud2"));
	f = fault_take();
	expect_fault("", f, X86_VEC_UD, 0, ASM_LABEL_ADDR("selftest_ud"));
}

static void check_catch_gp(void)
{
	uint8_t v;
	struct fault f = read_byte_checked((void *)0x8000000000000000ull, &v);

	/* A non-canonical data address raises #GP(0) (SDM Vol. 3A 4.5, 6.15). */
	check_msg(fault_is(&f, X86_VEC_GP, 0), "noncanonical", "expected #GP(0), got %s",
		  fault_str(&f, fault_text, sizeof(fault_text)));

	/* A selector beyond the GDT limit raises #GP(selector) (SDM Vol. 2B, MOV). */
	fault_clear();
	asm volatile(FAULT_TRY("mov %0, %%fs") : : "r"(0x1000));
	f = fault_take();
	check_msg(fault_is(&f, X86_VEC_GP, 0x1000), "selector_error_code",
		  "expected #GP(0x1000), got %s", fault_str(&f, fault_text, sizeof(fault_text)));
	asm volatile("mov %0, %%fs" : : "r"(0));
}

static __noinline_noclone void check_catch_de(void)
{
	uint64_t rax = 1, rdx = 0, divisor = 0;
	struct fault f;

	fault_clear();
	asm volatile(FAULT_TRY("selftest_div: divq %2") : "+a"(rax), "+d"(rdx) : "r"(divisor));
	f = fault_take();
	expect_fault("", f, X86_VEC_DE, 0, ASM_LABEL_ADDR("selftest_div"));
}

static __noinline_noclone void breakpoint(void *arg)
{
	asm volatile("int3\nselftest_after_int3:");
}

static void check_catch_bp(void)
{
	struct fault f = catch_fault(breakpoint, NULL);

	/* #BP is a trap: the frame's RIP is the instruction after INT3 (SDM Vol. 3A 6.5). */
	expect_fault("", f, X86_VEC_BP, 0, ASM_LABEL_ADDR("selftest_after_int3"));
}

/* Faulting page for the #PF checks, mapped per check with the flags under test. */
static uint8_t *pf_page;

static uint64_t *pf_pte(void)
{
	if (!pf_page)
		pf_page = alloc_page();
	return pt_entry(paging_current(), (uint64_t)pf_page, 1);
}

static void check_catch_pf(void)
{
	uint64_t *pte = pf_pte();
	uint64_t saved = *pte;
	uint8_t v;
	struct fault f;

	*pte &= ~PTE_P;
	invlpg(pf_page);
	f = read_byte_checked(pf_page + 5, &v);
	check_msg(fault_is(&f, X86_VEC_PF, 0) && f.cr2 == (uint64_t)pf_page + 5, "not_present_read",
		  "expected #PF(0) with CR2 %p, got %s, CR2 %#lx", pf_page + 5,
		  fault_str(&f, fault_text, sizeof(fault_text)), f.cr2);

	f = write_byte_checked(pf_page + 7, 1);
	check_msg(fault_is(&f, X86_VEC_PF, X86_PFEC_W) && f.cr2 == (uint64_t)pf_page + 7,
		  "not_present_write", "expected #PF(0x2) with CR2 %p, got %s, CR2 %#lx",
		  pf_page + 7, fault_str(&f, fault_text, sizeof(fault_text)), f.cr2);

	/* Read-only with CR0.WP set: a supervisor write faults (SDM Vol. 3A 4.6.1). */
	*pte = saved & ~PTE_W;
	invlpg(pf_page);
	f = write_byte_checked(pf_page + 9, 1);
	check_msg(fault_is(&f, X86_VEC_PF, X86_PFEC_P | X86_PFEC_W) &&
		  f.cr2 == (uint64_t)pf_page + 9, "write_protect",
		  "expected #PF(0x3) with CR2 %p, got %s, CR2 %#lx", pf_page + 9,
		  fault_str(&f, fault_text, sizeof(fault_text)), f.cr2);

	*pte = saved;
	invlpg(pf_page);
	f = write_byte_checked(pf_page + 9, 1);
	check_msg(!f.raised && pf_page[9] == 1, "restored", "write after restoring the PTE: %s",
		  fault_str(&f, fault_text, sizeof(fault_text)));
}

struct deep_call {
	int depth;
	volatile int reached;
};

static void fault_deep(void *arg)
{
	struct deep_call *d = arg;

	if (d->depth-- > 0) {
		fault_deep(d);
		return;
	}
	d->reached = 1;
	asm volatile("ud2");
	d->reached = 2;
}

static void no_fault(void *arg)
{
	*(int *)arg = 42;
}

static void check_catch_function(void)
{
	struct deep_call d = { .depth = 5 };
	uint64_t callee_saved = 0x1234567890abcdefull;
	int value = 0;
	struct fault f;

	/* The value lives in a callee-saved register across the unwinding. */
	asm volatile("" : "+b"(callee_saved));
	f = catch_fault(fault_deep, &d);
	asm volatile("" : "+b"(callee_saved));
	check_msg(f.raised && f.vector == X86_VEC_UD && d.reached == 1, "unwinds",
		  "expected #UD from a nested call, got %s (reached %d)",
		  fault_str(&f, fault_text, sizeof(fault_text)), d.reached);
	check_eq("callee_saved_restored", callee_saved, 0x1234567890abcdefull);

	f = catch_fault(no_fault, &value);
	check_msg(!f.raised && value == 42, "no_fault", "got %s, value %d",
		  fault_str(&f, fault_text, sizeof(fault_text)), value);
}

static void check_counts(void)
{
	struct report_counts before = report_counts(), after;

	check(true, "pass_counted");
	after = report_counts();
	check_msg(after.pass == before.pass + 1 && after.fail == before.fail &&
		  after.skip == before.skip && after.error == before.error, "", 
		  "counts moved from %u/%u/%u/%u to %u/%u/%u/%u", before.pass, before.fail,
		  before.skip, before.error, after.pass, after.fail, after.skip, after.error);
}

static void check_cmdline(void)
{
	char line[] = "  catch.*  -catch.bp\tkey=0x10 ";
	char *words[8];
	int n = args_split(line, words, 8);
	uint64_t v;
	const char *probe;

	check_msg(n == 3 && !strcmp(words[0], "catch.*") && !strcmp(words[1], "-catch.bp") &&
		  !strcmp(words[2], "key=0x10"), "split", "split into %d words", n);
	check(glob_match("catch.*", "catch.ud") && glob_match("*.u?", "catch.ud") &&
	      !glob_match("catch.*", "catchud") && glob_match("*", ""), "glob");
	check(parse_u64("0x10", &v) && v == 16 && parse_u64("0b101", &v) && v == 5 &&
	      parse_u64("017", &v) && v == 15 && !parse_u64("12a", &v) &&
	      !parse_u64("0x1ffffffffffffffff", &v), "numbers");

	/* unittests.cfg passes probe=0x5eed: the command line reached the guest intact. */
	probe = arg_get("probe");
	if (!probe)
		skip("probe", "no probe= option on the command line");
	else
		check_eq("probe", arg_get_u64("probe", 0), 0x5eed);
}

/*
 * The state tests name a case by its seed and number alone (docs/states.md):
 * the generator's sequence is pinned, so that a change to it, which would
 * renumber every case, cannot go unnoticed.
 */
static void check_prng(void)
{
	struct prng rng;
	uint64_t first, second, seen = 0;
	bool in_range = true, only_set = true;

	prng_seed(&rng, 1, 0);
	first = prng_next(&rng);
	second = prng_next(&rng);
	check_eq("sequence.s1_c0", first, 0x861af22a00649db9ull);
	check_eq("sequence.s1_c0.second", second, 0x8a26c94077cf2dfeull);
	prng_seed(&rng, 1, 417);
	check_eq("sequence.s1_c417", prng_next(&rng), 0x73ee889e72840f4full);
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t r = prng_below(&rng, 7);
		unsigned bit = prng_bit_of(&rng, 0x8000000000010004ull);

		in_range &= r < 7;
		seen |= BIT(r);
		only_set &= bit == 2 || bit == 16 || bit == 63;
	}
	check_msg(in_range && seen == 0x7f, "below", "prng_below(7): every value in [0, 7), all seen (mask %#lx)", seen);
	check_msg(only_set && prng_bit_of(&rng, 0) == 64, "bit_of", "prng_bit_of picks a set bit, 64 for none");
}

static void check_printf(void)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%d %u %x %#lx %5s|%-4d|%03d %c %%", -7, 7u, 255u, 0xabcul, "ab",
		 3, 5, 'z');
	check_msg(!strcmp(buf, "-7 7 ff 0xabc    ab|3   |005 z %"), "format", "got '%s'", buf);
	check_eq("truncation", snprintf(buf, 4, "%s", "abcdef"), 6);
	check_msg(!strcmp(buf, "abc"), "truncated_text", "got '%s'", buf);
}

static volatile unsigned irq_count;
static volatile uint64_t irq_vector;

static void count_irq(struct ex_regs *regs)
{
	irq_count++;
	irq_vector = regs->vector;
	apic_eoi();
}

/* Waits with interrupts enabled until @count interrupts arrived; false on timeout. */
static bool wait_irqs(unsigned count)
{
	irq_enable();
	for (uint64_t i = 0; i < WAIT_SPINS && irq_count < count; i++)
		cpu_relax();
	irq_disable();
	return irq_count >= count;
}

static void check_apic_interrupts(void)
{
	irq_count = 0;
	irq_set_handler(TEST_VECTOR, count_irq);

	apic_self_ipi(TEST_VECTOR);
	check_msg(wait_irqs(1) && irq_vector == TEST_VECTOR, "self_ipi",
		  "%u interrupts, last vector %#lx", irq_count, irq_vector);

	irq_count = 0;
	apic_timer_oneshot(TEST_VECTOR, 100000);
	check_msg(wait_irqs(1) && irq_vector == TEST_VECTOR, "timer",
		  "%u timer interrupts, last vector %#lx", irq_count, irq_vector);
	apic_timer_stop();

	irq_set_handler(TEST_VECTOR, NULL);
}

static void check_xapic(void)
{
	if (apic_is_x2apic()) {
		skip("", "the firmware left the APIC in x2APIC mode");
		return;
	}
	check_apic_interrupts();
}

static void check_x2apic(void)
{
	if (!apic_enable_x2apic()) {
		skip("", "no x2APIC (CPUID.1:ECX[21])");
		return;
	}
	check_apic_interrupts();
}

/*
 * usermode_call(): code at CPL 3 returns; MOV from CR0 there raises #GP(0)
 * (SDM Vol. 2B MOV); a fault caught inside resumes at CPL 3; CPL 0 after.
 */
static void user_nothing(void *arg)
{
	*(unsigned *)arg = current_cpl();
}

static void user_read_cr0(void *arg)
{
	uint64_t cr0;

	*(unsigned *)arg = current_cpl();
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
}

/* A FAULT_TRY at CPL 3 resumes there: the fault, then the CPL after it. */
struct user_try {
	struct fault f;
	unsigned cpl_after;
};

static void user_try_ud(void *arg)
{
	struct user_try *t = arg;

	fault_clear();
	asm volatile(FAULT_TRY("ud2") : : : "memory");
	t->f = fault_take();
	t->cpl_after = current_cpl();
}

static void check_usermode(void)
{
	struct user_try t = { { 0 }, 0 };
	char buf[96];
	unsigned cpl = 0;
	struct fault f = usermode_call(user_nothing, &cpl);

	check_msg(!f.raised && cpl == 3, "returns", "%s, CPL %u",
		  fault_str(&f, buf, sizeof(buf)), cpl);
	cpl = 0;
	f = usermode_call(user_read_cr0, &cpl);
	check_msg(fault_is(&f, X86_VEC_GP, 0) && cpl == 3, "gp", "MOV from CR0 at CPL %u: %s",
		  cpl, fault_str(&f, buf, sizeof(buf)));
	f = usermode_call(user_try_ud, &t);
	check_msg(!f.raised && fault_is(&t.f, X86_VEC_UD, 0) && t.cpl_after == 3, "fault_try",
		  "call: %s; inside: #UD caught %d, then CPL %u", fault_str(&f, buf, sizeof(buf)),
		  fault_is(&t.f, X86_VEC_UD, 0), t.cpl_after);
	check_eq("cpl0_after", current_cpl(), 0);
}

/*
 * The harness's own error path, on request only: an exception that nothing
 * expects must end the run as ERROR with a register dump, keeping the
 * verdicts already printed (scripts/tests/harness-tests.sh looks).
 */
static void raise_unexpected_ud(void)
{
	asm volatile("ud2");
	test_error("", "execution continued after an unexpected #UD");
}

static void raise_unexpected_pf(void)
{
	(void)*(volatile uint8_t *)0x8000000000ull;	/* beyond the identity map */
	test_error("", "execution continued after an unexpected #PF");
}

static const struct check_entry selftest_checks[] = {
	{ "catch.ud", check_catch_ud },
	{ "catch.gp", check_catch_gp },
	{ "catch.de", check_catch_de },
	{ "catch.bp", check_catch_bp },
	{ "catch.pf", check_catch_pf },
	{ "catch.function", check_catch_function },
	{ "counts", check_counts },
	{ "cmdline", check_cmdline },
	{ "printf", check_printf },
	{ "prng", check_prng },
	{ "usermode", check_usermode },
	{ "apic.xapic", check_xapic },
	/* Last: x2APIC mode cannot be left without disabling the APIC. */
	{ "apic.x2apic", check_x2apic },
	{ "unexpected.ud", raise_unexpected_ud, .on_request = true },
	{ "unexpected.pf", raise_unexpected_pf, .on_request = true },
};

DEFINE_TEST("selftest", selftest_checks, .options = "probe");
