/*
 * VMX on more than one CPU (Intel SDM Vol. 3C):
 *  - every CPU enters VMX operation with its own VMXON region and runs an L2
 *    from its own VMCS (24.1, 25.1), and that L2 reads its own CPU's local APIC;
 *  - an IPI from CPU 0 to CPU 1 while CPU 1 runs L2: with external-interrupt
 *    exiting it exits with reason 1 and, with "acknowledge interrupt on
 *    exit", the vector in the exit interruption information (26.2, 28.2.2);
 *    without it L2 takes the interrupt through its own IDT;
 *  - an INIT to a CPU in VMX non-root operation exits with reason 3 (26.2,
 *    "Other Causes of VM Exits"), and the CPU stays in VMX root operation;
 *  - VPID isolation: CPU 0 and CPU 1 run L2 with the same VPID and page
 *    tables that map one linear address to different pages; each sees its
 *    own mapping without an INVVPID after the other ran (29.1, 29.4: cached
 *    mappings belong to the logical processor that made them);
 *  - a SIPI to a CPU whose L2 is in the wait-for-SIPI activity state exits
 *    with reason 4 and the SIPI's vector in the exit qualification (26.2,
 *    28.2.1), where IA32_VMX_MISC bit 8 offers that state (A.6, 25.4.2).
 * CPU 0 drives each check and reports; CPU 1 only runs L2 and records.
 */
#include "apic.h"
#include "desc.h"
#include "alloc.h"
#include "bootinfo.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "smp.h"
#include "test.h"
#include "vmx.h"
#include "vmx_irq_util.h"

#define IPI_VECTOR	0x62
#define SIPI_VECTOR	0x12
#define TARGET_CPU	1
#define WAIT_SPINS	200000000ul
#define SIPI_RETRIES	200
#define ACTIVITY_WAIT_SIPI	3
#define VMX_MISC_ACT_WAIT_SIPI	BIT(8)

/* L2 on the target: says it runs, then spins a bounded while before VMCALL. */
VMX_L2_CODE(l2_vsmp_spin, "movl $1, l2_vsmp_running(%rip)\n"
	    "movq $20000000, %rcx\n"
	    "1: pause\n dec %rcx\n jnz 1b");
/* L2 reads the local APIC ID register at RDI into EAX. */
VMX_L2_CODE(l2_vsmp_read_apic_id, "movl (%rdi), %eax");
VMX_L2_CODE(l2_vsmp_nop, "nop");
/* L2 reads the 64-bit word at RDI into RAX. */
VMX_L2_CODE(l2_vsmp_read64, "mov (%rdi), %rax");

volatile int l2_vsmp_running;

struct cpu_vmx {
	struct vmx_vcpu *vcpu;
	uint64_t vmxon_pa;
};

static struct cpu_vmx cpus[SMP_MAX_CPUS];
static bool cpu_ready[SMP_MAX_CPUS];	/* cpu_setup() ran since the CPU started */
static const char *vmx_missing;
/*
 * The target never came back from L2.  INIT-SIPI-SIPI cannot restart it:
 * INIT is blocked in VMX root operation (SDM Vol. 3C 24.8).
 */
static bool target_lost;

/* How the target runs L2 once, and what its L1 saw. */
struct target_run {
	void *rip;
	uint32_t pin_set, exit_set, exit_clear;
	bool l2_idt;		/* L2's own IDT, whose handlers EOI and VMCALL */
	unsigned activity;
	int *started;		/* set by the target right before VM entry, if not NULL */
	uint32_t reason;
	uint64_t qualification, intr_info;
	bool irr_after, isr_after;
};

static void cpu_setup(void *unused)
{
	struct cpu_vmx *c = &cpus[this_cpu_id()];

	vmx_enable();
	c->vmxon_pa = (uint64_t)vmx_vmxon_region();
	if (!c->vcpu)
		c->vcpu = vmx_vcpu_create();
}

static void setup(void)
{
	if (!vmx_supported(&vmx_missing))
		return;
	cpu_setup(NULL);
	cpu_ready[0] = true;
}

/* VMX on CPU 0 and at least two CPUs: otherwise a skip naming what is missing. */
static bool require_two_vmx_cpus(void)
{
	if (vmx_missing) {
		skip("", "%s", vmx_missing);
		return false;
	}
	if (target_lost) {
		test_error("", "CPU %u did not come back from an earlier check's L2", TARGET_CPU);
		return false;
	}
	return smp_require_prepared(2, cpu_ready, cpu_setup);
}

static const char *reason_str(uint32_t reason)
{
	const char *name = vmx_exit_name(reason);
	static char buf[48];

	snprintf(buf, sizeof(buf), "%#x (%s)", reason, name ? name : "?");
	return buf;
}

/* On the target CPU: one run of L2 as @arg says, with L1's IF = 0 throughout. */
static void target_run(void *arg)
{
	struct target_run *r = arg;
	struct vmx_vcpu *v = cpus[this_cpu_id()].vcpu;

	irq_disable();
	if (r->l2_idt) {
		vmx_irq_vcpu_reset(v, r->rip);
		l2_irq.eoi = true;
		l2_irq.vmcall = true;
	} else {
		vmx_vcpu_reset(v, r->rip);
	}
	vmx_vcpu_set_ctls(v, VMX_CTLS_PIN, r->pin_set, 0);
	vmx_vcpu_set_ctls(v, VMX_CTLS_EXIT, r->exit_set, r->exit_clear);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, r->activity);
	if (r->started)
		__atomic_store_n(r->started, 1, __ATOMIC_RELEASE);
	r->reason = vmx_run(v);
	r->qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	r->intr_info = vmcs_read(VMCS_EXIT_INTR_INFO);
	r->irr_after = apic_irr_test(IPI_VECTOR);
	r->isr_after = apic_isr_test(IPI_VECTOR);
	apic_eoi_if_in_service(IPI_VECTOR);
	l1_drain(IPI_VECTOR);
}

/* Whether @cpu becomes idle within WAIT_SPINS. */
static bool wait_idle(unsigned cpu)
{
	for (unsigned long i = 0; i < WAIT_SPINS && !smp_cpu_idle(cpu); i++)
		cpu_relax();
	return smp_cpu_idle(cpu);
}

/* Starts @r on the target and waits until its L2 says it runs; false (an error) if it never does. */
static bool start_target_l2(struct target_run *r)
{
	if (on_cpu_async_started(TARGET_CPU, target_run, r, &l2_vsmp_running))
		return true;
	test_error("", "L2 on CPU %u never started", TARGET_CPU);
	target_lost = !wait_idle(TARGET_CPU);
	return false;
}

/* Sends IPI_VECTOR to the target and waits until its L2 run is over. */
static void send_ipi_and_wait(void)
{
	apic_send_ipi(smp_apic_id(TARGET_CPU), APIC_DM_FIXED | APIC_ICR_ASSERT | IPI_VECTOR);
	smp_wait(TARGET_CPU);
}

/* The IPI exits the target's L2 with reason 1 (external interrupt). */
static bool ipi_exits_with_extint(struct target_run *r)
{
	send_ipi_and_wait();
	return check_msg(r->reason == VMX_EXIT_EXT_INTR, "reason", "exit %s on CPU %u, expected 1",
			 reason_str(r->reason), TARGET_CPU);
}

struct apic_id_run {
	uint32_t reason;
	uint64_t rax;
};

/* On each CPU: L2 reads the local APIC ID register. */
static void run_apic_id_reader(void *arg)
{
	struct apic_id_run *run = arg;
	struct vmx_vcpu *v = cpus[this_cpu_id()].vcpu;

	vmx_vcpu_reset(v, l2_vsmp_read_apic_id);
	v->regs.rdi = (rdmsr(MSR_IA32_APIC_BASE) & ~0xfffull) + APIC_ID;
	run->reason = vmx_run(v);
	run->rax = v->regs.rax;
}

/*
 * SDM Vol. 3C 24.11.5, 25.1: each logical processor has its own VMXON
 * region and current VMCS; the L2 each CPU runs sees that CPU's local APIC
 * (no APIC virtualization: the xAPIC page is an ordinary access).
 */
static void check_each_cpu_runs_l2(void)
{
	struct apic_id_run runs[SMP_MAX_CPUS];

	if (!require_two_vmx_cpus())
		return;
	if (apic_is_x2apic()) {
		skip("", "the APIC is in x2APIC mode: L2 reads the xAPIC page");
		return;
	}
	for (unsigned cpu = 0; cpu < smp_cpu_count(); cpu++)
		on_cpu(cpu, run_apic_id_reader, &runs[cpu]);
	for (unsigned cpu = 0; cpu < smp_cpu_count(); cpu++) {
		report_prefix_push("cpu%u", cpu);
		check_msg(runs[cpu].reason == VMX_EXIT_VMCALL, "exit", "exit %s, expected VMCALL",
			  reason_str(runs[cpu].reason));
		check_msg((runs[cpu].rax >> 24) == smp_apic_id(cpu), "apic_id",
			  "L2 read APIC ID %lu, expected %u (the CPU it runs on)",
			  runs[cpu].rax >> 24, smp_apic_id(cpu));
		for (unsigned other = 0; other < cpu; other++)
			check_msg(cpus[cpu].vmxon_pa != cpus[other].vmxon_pa, "vmxon_own",
				  "the VMXON region %#lx is CPU %u's too", cpus[cpu].vmxon_pa, other);
		report_prefix_pop();
	}
}

/*
 * SDM Vol. 3C 26.2, 28.2.2: with external-interrupt exiting and "acknowledge
 * interrupt on exit", the IPI exits with reason 1, the exit interruption
 * information valid with type 0 and the vector, and the vector in service.
 */
static void check_ipi_extint_ack(void)
{
	struct target_run r = {
		.rip = l2_vsmp_spin, .pin_set = VMX_PIN_EXT_INTR_EXIT, .exit_set = VMX_EXIT_ACK_INTR,
	};

	if (!require_two_vmx_cpus() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT) ||
	    !vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR) || !start_target_l2(&r))
		return;
	if (!ipi_exits_with_extint(&r))
		return;
	check_eq("info", r.intr_info, (uint64_t)evt_info(EVT_EXT_INTR, IPI_VECTOR));
	check_msg(r.isr_after && !r.irr_after, "isr",
		  "after the exit IRR %d ISR %d, expected the vector acknowledged (in service)",
		  r.irr_after, r.isr_after);
}

/* Without "acknowledge interrupt on exit": reason 1, information invalid, still pending (28.2.2). */
static void check_ipi_extint_noack(void)
{
	struct target_run r = {
		.rip = l2_vsmp_spin, .pin_set = VMX_PIN_EXT_INTR_EXIT, .exit_clear = VMX_EXIT_ACK_INTR,
	};

	if (!require_two_vmx_cpus() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT) ||
	    !start_target_l2(&r))
		return;
	if (!ipi_exits_with_extint(&r))
		return;
	check_msg(!(r.intr_info & VMX_INTR_INFO_VALID), "info_invalid",
		  "exit interruption information %#lx: expected the valid bit clear", r.intr_info);
	check_msg(r.irr_after && !r.isr_after, "irr",
		  "after the exit IRR %d ISR %d, expected the IPI still pending", r.irr_after,
		  r.isr_after);
}

/* Without external-interrupt exiting, L2 with RFLAGS.IF = 1 takes the IPI through its IDT (26.3). */
static void check_ipi_taken_by_l2(void)
{
	struct target_run r = { .rip = l2_vsmp_spin, .l2_idt = true };

	if (!require_two_vmx_cpus() || !start_target_l2(&r))
		return;
	send_ipi_and_wait();
	check_msg(r.reason == VMX_EXIT_VMCALL && l2_irq.count == 1 && l2_irq.vector == IPI_VECTOR,
		  "", "exit %s, %u deliveries in L2 (last vector %#lx): expected L2's handler of "
		  "%#x to VMCALL", reason_str(r.reason), l2_irq.count, l2_irq.vector, IPI_VECTOR);
}

/*
 * SDM Vol. 3C 26.2: an INIT signal to a processor in VMX non-root operation
 * causes a VM exit with reason 3; the processor stays in VMX root operation
 * (INIT is blocked there, 24.8), so it can enter its L2 again.
 */
static void check_init_exit(void)
{
	struct target_run r = { .rip = l2_vsmp_spin };
	struct target_run again = { .rip = l2_vsmp_nop };

	if (!require_two_vmx_cpus() || !start_target_l2(&r))
		return;
	apic_send_ipi(smp_apic_id(TARGET_CPU), APIC_DM_INIT | APIC_ICR_LEVEL | APIC_ICR_ASSERT);
	if (!wait_idle(TARGET_CPU)) {
		check_msg(false, "", "CPU %u never returned to L1 after the INIT", TARGET_CPU);
		target_lost = true;
		return;
	}
	check_msg(r.reason == VMX_EXIT_INIT, "", "exit %s on CPU %u, expected 3 (INIT signal)",
		  reason_str(r.reason), TARGET_CPU);
	on_cpu(TARGET_CPU, target_run, &again);
	check_msg(again.reason == VMX_EXIT_VMCALL, "l1_alive",
		  "the next L2 run on CPU %u ended with exit %s, expected VMCALL", TARGET_CPU,
		  reason_str(again.reason));
}

/*
 * SDM Vol. 3C 25.4.2, 26.2, 28.2.1: an L2 entered in the wait-for-SIPI
 * activity state (3) leaves it on a SIPI with exit reason 4, the SIPI's
 * vector in exit qualification bits 7:0.  A SIPI that reaches the target
 * before its VM entry is ignored (it is not waiting for one), so CPU 0
 * repeats it until the target exits.
 */
static void check_sipi_exit(void)
{
	int started = 0;
	struct target_run r = { .rip = l2_vsmp_spin, .activity = ACTIVITY_WAIT_SIPI,
				.started = &started };

	if (!require_two_vmx_cpus())
		return;
	if (!(rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_ACT_WAIT_SIPI)) {
		skip("", "no wait-for-SIPI activity state (IA32_VMX_MISC bit 8)");
		return;
	}
	if (!on_cpu_async_started(TARGET_CPU, target_run, &r, &started)) {
		test_error("", "CPU %u never reached its VM entry", TARGET_CPU);
		target_lost = true;
		return;
	}
	for (unsigned i = 0; i < SIPI_RETRIES && !smp_cpu_idle(TARGET_CPU); i++) {
		apic_send_ipi(smp_apic_id(TARGET_CPU), APIC_DM_STARTUP | SIPI_VECTOR);
		for (unsigned long s = 0; s < WAIT_SPINS / SIPI_RETRIES && !smp_cpu_idle(TARGET_CPU); s++)
			cpu_relax();
	}
	if (!smp_cpu_idle(TARGET_CPU)) {
		check_msg(false, "", "CPU %u never left wait-for-SIPI after %u SIPIs", TARGET_CPU,
			  SIPI_RETRIES);
		target_lost = true;
		return;
	}
	if (!check_msg(r.reason == VMX_EXIT_SIPI, "reason", "exit %s on CPU %u, expected 4 (SIPI)",
		       reason_str(r.reason), TARGET_CPU))
		return;
	check_eq("vector", r.qualification & 0xff, (uint64_t)SIPI_VECTOR);
}

#define VPID_GVA	(2ull << 39)		/* PML4 index 2: unused by L1 */
#define VPID_VALUE_A	0xaaaa5a5aaaaa0001ul
#define VPID_VALUE_B	0xbbbb5a5abbbb0002ul
#define SHARED_VPID	1

struct vpid_run {
	uint64_t cr3;
	bool invvpid;		/* INVVPID single-context (or all-context) for the VPID first */
	uint32_t reason;
	uint64_t value;
};

/* On the CPU it is given to: L2 with VPID 1 and @arg's CR3 reads VPID_GVA. */
static void run_vpid_reader(void *arg)
{
	struct vpid_run *run = arg;
	struct vmx_vcpu *v = cpus[this_cpu_id()].vcpu;
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);

	vmx_vcpu_reset(v, l2_vsmp_read64);
	vmx_vcpu_set_ctls(v, VMX_CTLS_PROC2, VMX_PROC2_VPID, 0);
	vmcs_write(VMCS_VPID, SHARED_VPID);
	vmcs_write(VMCS_GUEST_CR3, run->cr3);
	if (run->invvpid)
		invvpid_checked((cap & VMX_VPID_SINGLE) ? 1 : 2, SHARED_VPID, 0);
	v->regs.rdi = VPID_GVA;
	run->reason = vmx_run(v);
	run->value = v->regs.rax;
}

/* L2 page tables: RAM identity-mapped, and VPID_GVA -> @page. */
static uint64_t vpid_tables(uint64_t *page)
{
	struct pagetable pt = pt_create(&pt_format_x86);
	uint64_t end = 4ull << 30;

	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		end = MAX(end, bootinfo.ram[i].end);
	pt_map(&pt, 0, 0, ALIGN_UP(end, pt_level_size(2)), pt_level_size(2), PTE_P | PTE_W);
	*pt_entry(&pt, VPID_GVA, 1) = (uint64_t)page | PTE_P | PTE_W;
	return (uint64_t)pt.root;
}

static bool vpid_step(const char *name, unsigned cpu, struct vpid_run *run, uint64_t want)
{
	on_cpu(cpu, run_vpid_reader, run);
	return check_msg(run->reason == VMX_EXIT_VMCALL && run->value == want, name,
			 "CPU %u, VPID %u, %s: exit %s, L2 read %#lx, expected VMCALL and %#lx",
			 cpu, SHARED_VPID, run->invvpid ? "after INVVPID" : "no INVVPID",
			 reason_str(run->reason), run->value, want);
}

/*
 * SDM Vol. 3C 29.1, 29.4.1: a logical processor caches linear mappings
 * tagged with the VPID, and INVVPID invalidates the current logical
 * processor's.  CPU 0 and CPU 1 use VPID 1 with page tables A and B that map
 * VPID_GVA to different pages.  After INVVPID each sees its own page (the
 * setup works); then, without INVVPID, CPU 0 still sees A after CPU 1 ran
 * with B, and CPU 1 still sees B: neither uses the other's mappings.
 */
static void check_vpid_isolation(void)
{
	static uint64_t cr3_a, cr3_b;
	uint64_t cap;
	struct vpid_run a, b;

	if (!require_two_vmx_cpus() || !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VPID))
		return;
	cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!(cap & VMX_VPID_INVVPID) || !(cap & (VMX_VPID_SINGLE | VMX_VPID_ALL))) {
		skip("", "no INVVPID single- or all-context (IA32_VMX_EPT_VPID_CAP %#lx bits 32, 41, 42)",
		     cap);
		return;
	}
	if (!cr3_a) {
		uint64_t *page_a = alloc_page(), *page_b = alloc_page();

		*page_a = VPID_VALUE_A;
		*page_b = VPID_VALUE_B;
		cr3_a = vpid_tables(page_a);
		cr3_b = vpid_tables(page_b);
	}
	a = (struct vpid_run){ .cr3 = cr3_a, .invvpid = true };
	b = (struct vpid_run){ .cr3 = cr3_b, .invvpid = true };
	if (!vpid_step("setup.cpu0", 0, &a, VPID_VALUE_A) ||
	    !vpid_step("setup.cpu1", TARGET_CPU, &b, VPID_VALUE_B))
		return;
	a.invvpid = b.invvpid = false;
	vpid_step("cpu0_after_cpu1", 0, &a, VPID_VALUE_A);
	vpid_step("cpu1_after_cpu0", TARGET_CPU, &b, VPID_VALUE_B);
}

static const struct check_entry checks[] = {
	{ "each_cpu", check_each_cpu_runs_l2 },
	{ "ipi.extint_ack", check_ipi_extint_ack },
	{ "ipi.extint_noack", check_ipi_extint_noack },
	{ "ipi.taken_by_l2", check_ipi_taken_by_l2 },
	{ "vpid.isolation", check_vpid_isolation },
	{ "sipi.exit", check_sipi_exit },
	/* Last: a hypervisor that keeps the INIT pending makes every later entry on CPU 1 exit. */
	{ "init.exit", check_init_exit },
};

DEFINE_TEST("vmx_smp", checks, .setup = setup);
