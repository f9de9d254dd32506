/*
 * SVM on more than one CPU (AMD APM Vol. 2 chapter 15):
 *  - every CPU runs its own L2: its own host save area (VM_HSAVE_PA, 15.30.4)
 *    and VMCB, and L2 reads its own CPU's local APIC;
 *  - an IPI from CPU 0 to CPU 1 while CPU 1 runs L2: with the INTR intercept
 *    it exits with #VMEXIT(INTR) and stays pending for L1 (15.21.1); without
 *    the intercept and with V_INTR_MASKING = 0, L2's IF = 1 lets L2 take it
 *    through L2's IDT;
 *  - ASID isolation: CPU 0 and CPU 1 run L2 with the same ASID and different
 *    nested tables; each sees its own translation without a TLB flush after
 *    the other ran (TLBs are per processor, 15.16);
 *  - an INIT sent to CPU 1 while it runs L2 with the INIT intercept ends in
 *    #VMEXIT(INIT) (15.13.4) and stays pending while GIF = 0, to be taken
 *    at STGI (15.17); CPU 1 is restarted afterwards.
 * CPU 0 drives each check and reports; CPU 1 only runs L2 and records.
 */
#include "apic.h"
#include "desc.h"
#include "alloc.h"
#include "msr.h"
#include "npt.h"
#include "processor.h"
#include "smp.h"
#include "svm.h"
#include "svm_util.h"
#include "test.h"

#define IPI_VECTOR	0x61
#define TARGET_CPU	1
#define EXIT_NONE	0xdeadull	/* no exit code: set before VMRUN */
#define WAIT_SPINS	200000000ul
#define AFTER_EXIT_SPINS 1000000ul	/* ample for the few instructions from #VMEXIT to STGI */
/* What L2 leaves in R15: svm_vmrun() stores it to the GPR block after #VMEXIT, before STGI. */
#define L2_MARK		0x5a17
#define L2_MARK_STR	"0x5a17"

/* L2 on the target: says it runs, then spins a bounded while before VMMCALL. */
SVM_L2_CODE(l2_smp_spin, "movq $" L2_MARK_STR ", %r15\n"
	    "movl $1, l2_smp_running(%rip)\n"
	    "movq $20000000, %rcx\n"
	    "1: pause\n dec %rcx\n jnz 1b");
/* L2 reads the 32-bit word at RDI into EAX (the local APIC ID register, a test page). */
SVM_L2_CODE(l2_smp_read32, "movl (%rdi), %eax");

volatile int l2_smp_running;

struct cpu_svm {
	struct svm_vcpu *vcpu;
	void *l2_idt;
	uint64_t hsave_pa;
};

static struct cpu_svm cpus[SMP_MAX_CPUS];
static bool cpu_ready[SMP_MAX_CPUS];	/* cpu_setup() ran since the CPU started */
static const char *svm_missing;

/* What the target's L1 saw of one L2 run. */
struct target_run {
	void *rip;
	bool intr_intercept, init_intercept, l2_idt;
	uint64_t exit_code;
	bool irr_after;		/* IPI_VECTOR pending in the IRR after the exit */
	bool isr_after;		/* IPI_VECTOR in service after the exit */
	int returned;		/* set when svm_run() came back */
};

static void cpu_setup(void *unused)
{
	struct cpu_svm *c = &cpus[this_cpu_id()];

	svm_enable();
	c->hsave_pa = rdmsr(MSR_VM_HSAVE_PA);
	if (!c->vcpu) {
		c->vcpu = svm_vcpu_create();
		c->l2_idt = l2_idt_create();
	}
}

static void setup(void)
{
	if (!svm_supported(&svm_missing))
		return;
	cpu_setup(NULL);
	cpu_ready[0] = true;
}

/* SVM on CPU 0 and at least two CPUs: otherwise a skip naming what is missing. */
static bool require_two_svm_cpus(void)
{
	if (svm_missing) {
		skip("", "%s", svm_missing);
		return false;
	}
	return smp_require_prepared(2, cpu_ready, cpu_setup);
}

static const char *exit_str(uint64_t code)
{
	static char buf[48];

	return code == EXIT_NONE ? "none" : svm_exit_text(code, buf, sizeof(buf));
}

/* On the target CPU: one run of L2 as @arg says, with L1's IF = 0 throughout. */
static void target_run(void *arg)
{
	struct target_run *r = arg;
	struct cpu_svm *c = &cpus[this_cpu_id()];
	struct vmcb *vmcb = c->vcpu->vmcb;

	irq_disable();
	svm_vcpu_reset(c->vcpu, r->rip);
	if (r->l2_idt) {
		l2_idt_prepare(c->vcpu, c->l2_idt);
		l2_event_reset();
	}
	vmcb->save.rflags |= X86_EFLAGS_IF;
	svm_intercept(c->vcpu, SVM_INTERCEPT_INTR, r->intr_intercept);
	svm_intercept(c->vcpu, SVM_INTERCEPT_INIT, r->init_intercept);
	vmcb->control.exit_code = EXIT_NONE;
	c->vcpu->regs.r15 = 0;
	r->exit_code = svm_run(c->vcpu);
	__atomic_store_n(&r->returned, 1, __ATOMIC_RELEASE);
	r->irr_after = apic_irr_test(IPI_VECTOR);
	r->isr_after = apic_isr_test(IPI_VECTOR);
	/* Whatever L2 left in service or pending is L1's to end. */
	while (apic_isr_test(IPI_VECTOR) || apic_irr_test(IPI_VECTOR)) {
		if (apic_isr_test(IPI_VECTOR))
			apic_eoi();
		asm volatile("sti; nop; nop; cli" : : : "memory");
	}
}

/* Starts @r on the target and waits until its L2 says it runs; false (an error) if it never does. */
static bool start_target_l2(struct target_run *r)
{
	if (on_cpu_async_started(TARGET_CPU, target_run, r, &l2_smp_running))
		return true;
	test_error("", "L2 on CPU %u never started", TARGET_CPU);
	smp_wait(TARGET_CPU);
	return false;
}

/* Sends IPI_VECTOR to the target and waits until its L2 run is over. */
static void send_ipi_and_wait(void)
{
	apic_send_ipi(smp_apic_id(TARGET_CPU), APIC_DM_FIXED | APIC_ICR_ASSERT | IPI_VECTOR);
	smp_wait(TARGET_CPU);
}

static volatile unsigned l1_ipis;

static void l1_ipi(struct ex_regs *regs)
{
	l1_ipis++;
	apic_eoi();
}

struct apic_id_run {
	uint64_t exit_code, rax;
};

/* On each CPU: L2 reads the local APIC ID register. */
static void run_apic_id_reader(void *arg)
{
	struct apic_id_run *run = arg;
	struct svm_vcpu *v = cpus[this_cpu_id()].vcpu;

	svm_vcpu_reset(v, l2_smp_read32);
	v->regs.rdi = (rdmsr(MSR_IA32_APIC_BASE) & ~0xfffull) + APIC_ID;
	run->exit_code = svm_run(v);
	run->rax = v->vmcb->save.rax;
}

/*
 * APM Vol. 2 15.30.4: VM_HSAVE_PA is per processor; each CPU's reads back
 * what that CPU wrote, and the L2 each CPU runs sees that CPU's local APIC
 * (no AVIC, the APIC page shared untranslated).
 */
static void check_each_cpu_runs_l2(void)
{
	struct apic_id_run runs[SMP_MAX_CPUS];

	if (!require_two_svm_cpus())
		return;
	if (apic_is_x2apic()) {
		skip("", "the APIC is in x2APIC mode: L2 reads the xAPIC page");
		return;
	}
	for (unsigned cpu = 0; cpu < smp_cpu_count(); cpu++)
		on_cpu(cpu, run_apic_id_reader, &runs[cpu]);
	for (unsigned cpu = 0; cpu < smp_cpu_count(); cpu++) {
		report_prefix_push("cpu%u", cpu);
		check_msg(runs[cpu].exit_code == SVM_EXIT_VMMCALL, "exit", "exit %s, expected VMMCALL",
			  exit_str(runs[cpu].exit_code));
		check_msg((runs[cpu].rax >> 24) == smp_apic_id(cpu), "apic_id",
			  "L2 read APIC ID %lu, expected %u (the CPU it runs on)",
			  runs[cpu].rax >> 24, smp_apic_id(cpu));
		for (unsigned other = 0; other < cpu; other++)
			check_msg(cpus[cpu].hsave_pa != cpus[other].hsave_pa, "hsave_own",
				  "VM_HSAVE_PA %#lx reads the same as CPU %u's", cpus[cpu].hsave_pa,
				  other);
		report_prefix_pop();
	}
}

/*
 * APM Vol. 2 15.21.1: with the INTR intercept, V_INTR_MASKING = 0 and L2's
 * IF = 1, a physical interrupt (here a fixed IPI from CPU 0) exits with
 * INTR and is not acknowledged: it is still pending in the IRR for L1.
 */
static void check_ipi_intr_intercept(void)
{
	struct target_run r = { .rip = l2_smp_spin, .intr_intercept = true };

	if (!require_two_svm_cpus() || !start_target_l2(&r))
		return;
	send_ipi_and_wait();
	check_msg(r.exit_code == SVM_EXIT_INTR, "exit", "exit %s on CPU %u, expected INTR",
		  exit_str(r.exit_code), TARGET_CPU);
	check_msg(r.irr_after && !r.isr_after, "still_pending",
		  "after the exit IRR %d ISR %d, expected the IPI pending, not in service",
		  r.irr_after, r.isr_after);
}

/*
 * APM Vol. 2 15.21.1: without the INTR intercept, with V_INTR_MASKING = 0,
 * L2's IF = 1 admits the physical interrupt into L2, through L2's IDT.
 */
static void check_ipi_taken_by_l2(void)
{
	struct target_run r = { .rip = l2_smp_spin, .l2_idt = true };

	if (!require_two_svm_cpus() || !start_target_l2(&r))
		return;
	send_ipi_and_wait();
	check_msg(r.exit_code == SVM_EXIT_VMMCALL && l2_event.count == 1 &&
		  l2_event.vector == IPI_VECTOR, "",
		  "exit %s, %lu deliveries in L2 (last vector %#lx): expected L2's IDT to take "
		  "vector %#x and exit with VMMCALL", exit_str(r.exit_code), l2_event.count,
		  l2_event.vector, IPI_VECTOR);
	check_msg(r.isr_after && !r.irr_after, "in_service",
		  "after the exit IRR %d ISR %d, expected the IPI in service (L2 took it)",
		  r.irr_after, r.isr_after);
}

/*
 * APM Vol. 2 15.13.4 ("INIT Intercept"): with the INIT intercept set, an
 * INIT to a CPU running L2 causes #VMEXIT(INIT), and the INIT stays pending.
 * 15.17 (GIF): #VMEXIT clears GIF and an INIT is held pending while GIF = 0,
 * so L1 runs on after the exit until STGI, where the INIT is taken and
 * resets the CPU.  Observed from CPU 0: the exit code in the VMCB; L2's R15,
 * which svm_vmrun() stores after #VMEXIT and before STGI; and that svm_run()
 * does not return.  The CPU is restarted afterwards in any case.
 */
static void check_init_intercept(void)
{
	struct target_run r = { .rip = l2_smp_spin, .init_intercept = true };
	struct svm_vcpu *v = cpus[TARGET_CPU].vcpu;
	uint64_t code = EXIT_NONE;

	if (!require_two_svm_cpus() || !start_target_l2(&r))
		return;
	v = cpus[TARGET_CPU].vcpu;
	apic_send_ipi(smp_apic_id(TARGET_CPU), APIC_DM_INIT | APIC_ICR_LEVEL | APIC_ICR_ASSERT);
	/* The VMCB has the exit code whether or not the target comes back to C. */
	for (unsigned long i = 0; i < WAIT_SPINS && code == EXIT_NONE; i++) {
		code = __atomic_load_n(&v->vmcb->control.exit_code, __ATOMIC_ACQUIRE);
		cpu_relax();
	}
	if (check_msg(code == SVM_EXIT_INIT, "", "exit %s on CPU %u, expected INIT",
		      exit_str(code), TARGET_CPU)) {
		for (unsigned long i = 0; i < AFTER_EXIT_SPINS && v->regs.r15 != L2_MARK; i++)
			cpu_relax();
		check_msg(v->regs.r15 == L2_MARK, "held_while_gif_clear",
			  "L1 never stored L2's registers after #VMEXIT(INIT) (R15 %#lx, expected "
			  "%#x): the INIT was taken with GIF = 0", v->regs.r15, L2_MARK);
		smp_wait_flag(&r.returned, AFTER_EXIT_SPINS);
		check_msg(!r.returned, "taken_at_stgi",
			  "svm_run() returned on CPU %u: the intercepted INIT was not taken once "
			  "STGI set GIF", TARGET_CPU);
	}
	cpu_ready[TARGET_CPU] = false;
	if (!smp_restart_cpu(TARGET_CPU))
		test_error("restart", "CPU %u did not come back after INIT-SIPI-SIPI", TARGET_CPU);
}

/* Values of the test page in the host pages that nested tables A and B map it to. */
#define PAGE_VALUE_GPA	0x0c0c0c0c
#define PAGE_VALUE_A	0x0a0a0a0a
#define PAGE_VALUE_B	0x0b0b0b0b

struct asid_run {
	struct pagetable *npt;
	uint64_t gpa;
	bool flush;
	uint64_t exit_code, value;
};

/* On the CPU it is given to: L2 with ASID 1 and @arg's nested tables reads the test page. */
static void run_asid_reader(void *arg)
{
	struct asid_run *run = arg;
	struct svm_vcpu *v = cpus[this_cpu_id()].vcpu;

	svm_vcpu_reset(v, l2_smp_read32);
	npt_enable(v->vmcb, run->npt);
	v->vmcb->control.asid = 1;
	v->vmcb->control.tlb_control = run->flush ? SVM_TLB_FLUSH_ALL : 0;
	v->regs.rdi = run->gpa;
	run->exit_code = svm_run(v);
	run->value = (uint32_t)v->vmcb->save.rax;
}

static bool asid_step(const char *name, unsigned cpu, struct asid_run *run, uint32_t want)
{
	on_cpu(cpu, run_asid_reader, run);
	return check_msg(run->exit_code == SVM_EXIT_VMMCALL && run->value == want, name,
			 "CPU %u, ASID 1, %s: exit %s, L2 read %#lx, expected VMMCALL and %#x",
			 cpu, run->flush ? "TLB flushed" : "no flush", exit_str(run->exit_code),
			 run->value, want);
}

/*
 * APM Vol. 2 15.16: TLB entries are tagged with the ASID, and each processor
 * has its own TLB, flushed through its own VMCB's TLB_CONTROL.  CPU 0 and
 * CPU 1 use ASID 1 with nested tables A and B that map one guest page to
 * different host pages.  With a flush each sees its own page (the setup
 * works); then, without flushing, CPU 0 still sees A after CPU 1 ran with B,
 * and CPU 1 still sees B: neither uses the other's translations.
 */
static void check_asid_isolation(void)
{
	static struct pagetable npt_a, npt_b;
	const char *why;
	uint32_t *gpa_page, *page_a, *page_b;
	struct asid_run a, b;

	if (!require_two_svm_cpus())
		return;
	if (!npt_supported(&why)) {
		skip("", "%s", why);
		return;
	}
	gpa_page = alloc_page();
	page_a = alloc_page();
	page_b = alloc_page();
	*gpa_page = PAGE_VALUE_GPA;
	*page_a = PAGE_VALUE_A;
	*page_b = PAGE_VALUE_B;
	if (!npt_a.root) {
		npt_a = npt_create_identity(npt_ram_end(), pt_level_size(2));
		npt_b = npt_create_identity(npt_ram_end(), pt_level_size(2));
	}
	npt_map(&npt_a, (uint64_t)gpa_page, (uint64_t)page_a, PAGE_SIZE, PAGE_SIZE);
	npt_map(&npt_b, (uint64_t)gpa_page, (uint64_t)page_b, PAGE_SIZE, PAGE_SIZE);

	a = (struct asid_run){ .npt = &npt_a, .gpa = (uint64_t)gpa_page, .flush = true };
	b = (struct asid_run){ .npt = &npt_b, .gpa = (uint64_t)gpa_page, .flush = true };
	if (!asid_step("setup.cpu0", 0, &a, PAGE_VALUE_A) ||
	    !asid_step("setup.cpu1", TARGET_CPU, &b, PAGE_VALUE_B))
		return;
	a.flush = b.flush = false;
	asid_step("cpu0_after_cpu1", 0, &a, PAGE_VALUE_A);
	asid_step("cpu1_after_cpu0", TARGET_CPU, &b, PAGE_VALUE_B);
}

static void ipi_setup(void)
{
	irq_set_handler(IPI_VECTOR, l1_ipi);
}

static void test_setup(void)
{
	setup();
	ipi_setup();
}

static const struct check_entry checks[] = {
	{ "each_cpu", check_each_cpu_runs_l2 },
	{ "ipi.intr_intercept", check_ipi_intr_intercept },
	{ "ipi.taken_by_l2", check_ipi_taken_by_l2 },
	{ "asid.isolation", check_asid_isolation },
	{ "init.intercept", check_init_intercept },
};

DEFINE_TEST("svm_smp", checks, .setup = test_setup);
