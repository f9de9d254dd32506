/*
 * VMX aborts (Intel SDM Vol. 3C 28.7) from failed MSR switching at VM exit:
 *  - 28.4, "Saving MSRs": storing a VM-exit MSR-store entry fails for an
 *    x2APIC MSR (bits 31:8 = 000008H), an MSR readable only in SMM
 *    (IA32_SMBASE), bits 63:32 of the entry not 0, or an MSR whose RDMSR
 *    would raise #GP at CPL 0;
 *  - 28.6, "Loading MSRs": loading a VM-exit MSR-load entry fails for
 *    IA32_FS_BASE or IA32_GS_BASE, an x2APIC MSR, an MSR writable only in SMM
 *    (IA32_SMM_MONITOR_CTL), bits 63:32 not 0, or a value whose WRMSR would
 *    raise #GP at CPL 0;
 *  - 28.7: either failure is a VMX abort: the processor writes the
 *    VMX-abort indicator (bits 31:0 at offset 4 of the VMCS region: 1 for a
 *    failure saving guest MSRs, 4 for one loading host MSRs) and enters the
 *    VMX-abort shutdown state, which only RESET leaves: INIT, SIPIs, NMIs,
 *    external interrupts, SMIs and machine checks do not affect it.
 * A CPU in that state cannot report, so CPU 1 runs the L2 whose exit
 * aborts and CPU 0 watches: the indicator within a bounded wait, CPU 1 never
 * back from its VM entry, and INIT-SIPI-SIPI leaving it where it is.  Since
 * nothing but RESET brings CPU 1 back, a boot has one abort: each case
 * CASE has its own cfg entry (vmx_abort_*) that runs the positive case
 * "valid" (the same L2 with good areas), then CASE (the abort, its indicator
 * and no VM exit) and CASE.init_sipi_ignored (INIT-SIPI-SIPI afterwards).
 */
#include "alloc.h"
#include "apic.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "smp.h"
#include "test.h"
#include "vmx.h"

#define TARGET_CPU		1
#define MSR_IA32_SMM_MONITOR_CTL	0x9b
#define MSR_IA32_SMBASE		0x9e
#define MSR_X2APIC_TPR		0x808
/* No such MSR on Intel processors (checked: RDMSR must raise #GP in L1). */
#define MSR_UNIMPLEMENTED	0xc0001fffu
#define NONCANONICAL		0x8000000000000000ull

/* What CPU 0 writes into the VMX-abort indicator before a run (software may write it, 28.7). */
#define INDICATOR_SENTINEL	0xa5a5a5a5u
#define ABORT_SAVING_GUEST_MSRS	1	/* 28.7 */
#define ABORT_LOADING_HOST_MSRS	4
#define INDICATOR_OFFSET	4

/* Bounded waits, in spins of CPU 0 */
#define WAIT_OUTCOME_SPINS	50000000ul	/* for the indicator or a normal exit */
#define WAIT_STAYS_DOWN_SPINS	10000000ul	/* after the abort: CPU 1 must not return */

#define GUEST_STAR		0x0023001000000000ull	/* loaded at VM entry, stored at exit */

VMX_L2_CODE(l2_abort_vmcall, "nop");

/* One entry of an MSR area (SDM Vol. 3C 25.7.2, Table 25-15). */
struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

enum fault_probe { PROBE_NONE, PROBE_RDMSR, PROBE_WRMSR };

/* A second entry of the store or load area, after a good first one. */
struct abort_case {
	const char *name;
	bool store;		/* in the VM-exit MSR-store area, else the MSR-load area */
	uint32_t index, reserved;
	uint64_t value;		/* load: what the entry writes */
	bool value_is_l1;	/* load: CPU 1's own value of the MSR instead */
	enum fault_probe probe;	/* the entry is bad because RDMSR/WRMSR of it faults in L1 */
	const char *rule;
};

static const struct abort_case cases[] = {
	{ "store.x2apic", true, MSR_X2APIC_TPR, 0, 0, false, PROBE_NONE,
	  "an x2APIC MSR (bits 31:8 = 000008H)" },
	{ "store.reserved_bits", true, MSR_STAR, 1, 0, false, PROBE_NONE,
	  "bits 63:32 of the entry not 0" },
	{ "store.smbase", true, MSR_IA32_SMBASE, 0, 0, false, PROBE_NONE,
	  "IA32_SMBASE, readable only in SMM" },
	{ "store.rdmsr_faults", true, MSR_UNIMPLEMENTED, 0, 0, false, PROBE_RDMSR,
	  "an MSR whose RDMSR raises #GP" },
	{ "load.fs_base", false, MSR_FS_BASE, 0, 0, true, PROBE_NONE, "IA32_FS_BASE" },
	{ "load.gs_base", false, MSR_GS_BASE, 0, 0, true, PROBE_NONE, "IA32_GS_BASE" },
	{ "load.x2apic", false, MSR_X2APIC_TPR, 0, 0, false, PROBE_NONE,
	  "an x2APIC MSR (bits 31:8 = 000008H)" },
	{ "load.smm_monitor_ctl", false, MSR_IA32_SMM_MONITOR_CTL, 0, 0, false, PROBE_NONE,
	  "IA32_SMM_MONITOR_CTL, writable only in SMM" },
	{ "load.reserved_bits", false, MSR_STAR, 1, 0, true, PROBE_NONE,
	  "bits 63:32 of the entry not 0" },
	{ "load.wrmsr_faults", false, MSR_LSTAR, 0, NONCANONICAL, false, PROBE_WRMSR,
	  "a value whose WRMSR raises #GP (non-canonical IA32_LSTAR)" },
};

/* What CPU 1 did with one L2 run, as CPU 0 sees it. */
struct target_run {
	const struct abort_case *bad;	/* NULL: both areas good */
	int started;			/* set right before the VM entry */
	int exited;			/* set when vmx_run() returned: a normal VM exit */
	uint32_t reason;
	uint64_t star_stored;		/* store area entry 1 after the exit */
	unsigned count;			/* entries of @bad's area to process; 0: both */
	uint64_t second_after;		/* store: entry 2's value after the exit; load: RDMSR */
	uint64_t star_after, star_l1;	/* CPU 1's STAR after the exit and before the entry */
	bool x2apic;			/* CPU 1's local APIC is in x2APIC mode */
	uint64_t fs_base_l1;		/* CPU 1's IA32_FS_BASE before the entry */
	uint64_t kernel_gs_base_l1;	/* and IA32_KERNEL_GS_BASE, put back after the exit */
};

static struct vmx_vcpu *target_vcpu;
static struct msr_entry *entry_area, *store_area, *load_area;
static bool cpu_ready[SMP_MAX_CPUS];
static const char *vmx_missing;
/* The check after whose run CPU 1 did not come back (the abort it took). */
static const char *target_down_since;

static void cpu_setup(void *unused)
{
	vmx_enable();
	if (this_cpu_id() == TARGET_CPU && !target_vcpu)
		target_vcpu = vmx_vcpu_create();
}

static void setup(void)
{
	if (!vmx_supported(&vmx_missing))
		return;
	vmx_enable();
	cpu_ready[0] = true;
	entry_area = alloc_page();
	store_area = alloc_page();
	load_area = alloc_page();
}

/* VMX, two CPUs, CPU 1 running and in VMX operation: otherwise a skip (or error) saying why. */
static bool require_target(void)
{
	if (vmx_missing) {
		skip("", "%s", vmx_missing);
		return false;
	}
	if (target_down_since) {
		skip("", "CPU %u is in the VMX-abort shutdown state since %s, which only RESET "
		     "leaves (SDM Vol. 3C 28.7): one abort a boot, each abort check has its own "
		     "cfg entry", TARGET_CPU, target_down_since);
		return false;
	}
	return smp_require_prepared(2, cpu_ready, cpu_setup);
}

static volatile uint32_t *abort_indicator(void)
{
	return (volatile uint32_t *)((char *)target_vcpu->vmcs + INDICATOR_OFFSET);
}

/*
 * On CPU 1: a VMCS whose VM entry loads STAR = GUEST_STAR, whose exit stores
 * STAR (and a second MSR) and loads back CPU 1's STAR (and a second one);
 * @r->bad replaces the second entry of one of the exit areas.
 */
static void target_run(void *arg)
{
	struct target_run *r = arg;
	struct vmx_vcpu *v = target_vcpu;
	const struct abort_case *bad = r->bad;
	struct vmx_result clear = vmclear_checked((uint64_t)v->vmcs);

	if (clear.outcome != VMX_SUCCEED)
		test_error("", "VMCLEAR of CPU %u's VMCS failed", TARGET_CPU);
	/* The VMCS is not active here: an ordinary write of the indicator is fine. */
	*abort_indicator() = INDICATOR_SENTINEL;
	vmx_vcpu_reset(v, l2_abort_vmcall);
	r->star_l1 = rdmsr(MSR_STAR);
	r->x2apic = apic_is_x2apic();
	r->fs_base_l1 = rdmsr(MSR_FS_BASE);
	r->kernel_gs_base_l1 = rdmsr(MSR_KERNEL_GS_BASE);
	entry_area[0] = (struct msr_entry){ MSR_STAR, 0, GUEST_STAR };
	store_area[0] = (struct msr_entry){ MSR_STAR, 0, 0 };
	store_area[1] = (struct msr_entry){ MSR_LSTAR, 0, 0 };
	load_area[0] = (struct msr_entry){ MSR_STAR, 0, r->star_l1 };
	load_area[1] = (struct msr_entry){ MSR_LSTAR, 0, rdmsr(MSR_LSTAR) };
	if (bad) {
		struct msr_entry e = { bad->index, bad->reserved, bad->value };

		if (bad->value_is_l1)
			e.value = rdmsr(bad->index);
		if (bad->store)
			store_area[1] = e;
		else
			load_area[1] = e;
	}
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)entry_area);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)store_area);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, bad && bad->store && r->count ? r->count : 2);
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)load_area);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, bad && !bad->store && r->count ? r->count : 2);
	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	r->reason = vmx_run(v);
	r->star_stored = store_area[0].value;
	r->star_after = rdmsr(MSR_STAR);
	if (bad)
		r->second_after = bad->store ? store_area[1].value : rdmsr(bad->index);
	wrmsr(MSR_KERNEL_GS_BASE, r->kernel_gs_base_l1);
	__atomic_store_n(&r->exited, 1, __ATOMIC_RELEASE);
}

/* Starts @r on CPU 1; false (an error, CPU 1 given up) when it never reaches its VM entry. */
static bool start_target(struct target_run *r)
{
	if (on_cpu_async_started(TARGET_CPU, target_run, r, &r->started))
		return true;
	test_error("", "CPU %u never reached its VM entry", TARGET_CPU);
	target_down_since = "a run that never started";
	return false;
}

/* Waits until CPU 1's run is over or the indicator changed; @return whether either happened. */
static bool wait_outcome(struct target_run *r)
{
	for (unsigned long i = 0; i < WAIT_OUTCOME_SPINS; i++) {
		if (__atomic_load_n(&r->exited, __ATOMIC_ACQUIRE) ||
		    *abort_indicator() != INDICATOR_SENTINEL)
			return true;
		cpu_relax();
	}
	return false;
}

/*
 * Runs @r on CPU 1, whose exit must not abort: checks "exit" (L2's VMCALL
 * came back) and "indicator" (not written).  @return whether the exit came.
 */
static bool run_without_abort(struct target_run *r, const char *name)
{
	if (!require_target() || !start_target(r))
		return false;
	if (!wait_outcome(r) || !smp_wait_flag(&r->exited, WAIT_OUTCOME_SPINS)) {
		check_msg(false, "exit", "CPU %u never came back from L2 (VMX-abort indicator %#x)",
			  TARGET_CPU, *abort_indicator());
		target_down_since = name;
		return false;
	}
	smp_wait(TARGET_CPU);
	check_eq("indicator", *abort_indicator(), INDICATOR_SENTINEL);
	return check_msg(r->reason == VMX_EXIT_VMCALL, "exit", "exit %#x (%s), expected VMCALL",
			 r->reason, vmx_exit_name(r->reason) ?: "?");
}

/*
 * Positive case: the same VMCS with both exit areas good.  L2 reaches its
 * VMCALL, the store area has the guest's STAR (the one VM entry loaded,
 * 28.4), CPU 1 has its own STAR back (28.6), the indicator is untouched.
 */
static void check_valid(void)
{
	static struct target_run r;

	r = (struct target_run){ 0 };
	if (!run_without_abort(&r, "valid"))
		return;
	check_eq("stored", r.star_stored, GUEST_STAR);
	check_eq("loaded", r.star_after, r.star_l1);
}

/* The case's precondition: RDMSR or WRMSR of its entry faults in L1 (on CPU 0, the same model). */
static bool probe_faults(const struct abort_case *c)
{
	uint64_t value = 0, old;
	struct fault f;

	switch (c->probe) {
	case PROBE_NONE:
		return true;
	case PROBE_RDMSR:
		f = rdmsr_checked(c->index, &value);
		if (f.raised)
			return true;
		test_error("", "RDMSR %#x did not fault in L1 (read %#lx): no faulting entry to use",
			   c->index, value);
		return false;
	case PROBE_WRMSR:
		old = rdmsr(c->index);
		f = wrmsr_checked(c->index, c->value);
		if (f.raised)
			return true;
		wrmsr(c->index, old);
		test_error("", "WRMSR %#x <- %#lx did not fault in L1: no faulting entry to use",
			   c->index, c->value);
		return false;
	}
	return false;
}

/*
 * SDM Vol. 3C 28.4/28.6 and 28.7: the bad entry makes the VM exit abort.
 * CPU 0 sees the indicator (1 for the store area, 4 for the load area)
 * within a bounded wait, and CPU 1 never returns from its VM entry.
 */
static void run_abort(const struct abort_case *c)
{
	/* static: CPU 1 may write it long after this check gave up on it */
	static struct target_run r;
	uint32_t want = c->store ? ABORT_SAVING_GUEST_MSRS : ABORT_LOADING_HOST_MSRS;
	uint32_t indicator;
	bool exited;

	r = (struct target_run){ .bad = c };
	if (!require_target() || !probe_faults(c) || !start_target(&r))
		return;
	wait_outcome(&r);
	exited = smp_wait_flag(&r.exited, WAIT_STAYS_DOWN_SPINS);
	info("%s: entry 2 of the VM-exit MSR-%s area = {%#x, %#x, ...}: %s; CPU %u's APIC in %s mode",
	     c->name, c->store ? "store" : "load", c->index, c->reserved, c->rule, TARGET_CPU,
	     r.x2apic ? "x2APIC" : "xAPIC");
	indicator = *abort_indicator();
	check_msg(indicator == want, "indicator", "VMX-abort indicator %#x%s, expected %u (%s)",
		  indicator, indicator == INDICATOR_SENTINEL ? " (not written)" : "", want,
		  c->store ? "failure saving guest MSRs" : "failure loading host MSRs");
	if (!check_msg(!exited, "no_exit", "CPU %u came back from L2 with exit %#x (%s): "
		       "expected a VMX abort, no VM exit completing", TARGET_CPU, r.reason,
		       vmx_exit_name(r.reason) ?: "?")) {
		smp_wait(TARGET_CPU);
		return;
	}
	target_down_since = c->name;
}

/*
 * SDM Vol. 3C 28.7: after the abort of @c, INIT and SIPIs do not affect
 * CPU 1.  CPU 0 puts the sentinel back and sends INIT-SIPI-SIPI
 * (smp_restart_cpu()): CPU 1 must neither come back nor write the indicator
 * again.  Where it comes back it was reset and runs again, fresh.
 */
static void run_init_sipi_ignored(const struct abort_case *c)
{
	bool back;

	if (vmx_missing) {
		skip("", "%s", vmx_missing);
		return;
	}
	if (!target_down_since || strcmp(target_down_since, c->name)) {
		skip("", "needs CPU %u in the VMX-abort shutdown state after check %s of this boot",
		     TARGET_CPU, c->name);
		return;
	}
	*abort_indicator() = INDICATOR_SENTINEL;
	back = smp_restart_cpu(TARGET_CPU);
	check_msg(!back && *abort_indicator() == INDICATOR_SENTINEL, "",
		  "after INIT-SIPI-SIPI CPU %u %s, VMX-abort indicator %#x (CPU 0 wrote %#x): "
		  "expected no effect, the VMX-abort shutdown state is left only by RESET",
		  TARGET_CPU, back ? "came back" : "stayed down", *abort_indicator(),
		  INDICATOR_SENTINEL);
	if (back) {
		target_down_since = NULL;
		cpu_ready[TARGET_CPU] = false;
	}
}

/*
 * Entries that must not abort.  28.4 and 28.6 process entries "up to the
 * number specified in the count": a bad entry past the count is never
 * looked at.  Only loading forbids IA32_FS_BASE and IA32_GS_BASE: storing
 * them is fine, and so is loading their neighbour IA32_KERNEL_GS_BASE.
 */
static const struct abort_case edge_x2apic_store = { "edge.store_beyond_count", true,
	MSR_X2APIC_TPR, 0, 0x5a5a5a5a5a5a5a5aull };
static const struct abort_case edge_fs_load = { "edge.load_beyond_count", false,
	MSR_FS_BASE, 1, 0, true };
static const struct abort_case edge_fs_store = { "edge.store_fs_base", true, MSR_FS_BASE };
static const struct abort_case edge_kgs_load = { "edge.load_kernel_gs_base", false,
	MSR_KERNEL_GS_BASE, 0, 0x00007f0000345000ull };

/* Entry 2 (an x2APIC MSR) past a store count of 1: not stored, no abort (28.4). */
static void check_store_beyond_count(void)
{
	static struct target_run r;

	r = (struct target_run){ .bad = &edge_x2apic_store, .count = 1 };
	if (run_without_abort(&r, edge_x2apic_store.name))
		check_eq("untouched", r.second_after, edge_x2apic_store.value);
}

/* Entry 2 (IA32_FS_BASE, bits 63:32 of its index set) past a load count of 1: no abort (28.6). */
static void check_load_beyond_count(void)
{
	static struct target_run r;

	r = (struct target_run){ .bad = &edge_fs_load, .count = 1 };
	run_without_abort(&r, edge_fs_load.name);
}

/* Storing IA32_FS_BASE is allowed (28.4 lists no base MSR): the guest's value, L1's here. */
static void check_store_fs_base(void)
{
	static struct target_run r;

	r = (struct target_run){ .bad = &edge_fs_store };
	if (run_without_abort(&r, edge_fs_store.name))
		check_eq("stored", r.second_after, r.fs_base_l1);
}

/* Loading IA32_KERNEL_GS_BASE (C0000102H) is allowed: only C0000100H/C0000101H fail (28.6). */
static void check_load_kernel_gs_base(void)
{
	static struct target_run r;

	r = (struct target_run){ .bad = &edge_kgs_load };
	if (run_without_abort(&r, edge_kgs_load.name))
		check_eq("loaded", r.second_after, edge_kgs_load.value);
}

#define CASE_FNS(i)                                                            \
	static void check_abort_##i(void) { run_abort(&cases[i]); }            \
	static void check_init_sipi_##i(void) { run_init_sipi_ignored(&cases[i]); }
CASE_FNS(0) CASE_FNS(1) CASE_FNS(2) CASE_FNS(3) CASE_FNS(4)
CASE_FNS(5) CASE_FNS(6) CASE_FNS(7) CASE_FNS(8) CASE_FNS(9)
_Static_assert(ARRAY_SIZE(cases) == 10, "two functions per case");

#define CASE_ENTRIES(i, name)                                                  \
	{ name, check_abort_##i }, { name ".init_sipi_ignored", check_init_sipi_##i }

static const struct check_entry checks[] = {
	{ "valid", check_valid },
	{ "edge.store_beyond_count", check_store_beyond_count },
	{ "edge.load_beyond_count", check_load_beyond_count },
	{ "edge.store_fs_base", check_store_fs_base },
	{ "edge.load_kernel_gs_base", check_load_kernel_gs_base },
	CASE_ENTRIES(0, "store.x2apic"),
	CASE_ENTRIES(1, "store.reserved_bits"),
	CASE_ENTRIES(2, "store.smbase"),
	CASE_ENTRIES(3, "store.rdmsr_faults"),
	CASE_ENTRIES(4, "load.fs_base"),
	CASE_ENTRIES(5, "load.gs_base"),
	CASE_ENTRIES(6, "load.x2apic"),
	CASE_ENTRIES(7, "load.smm_monitor_ctl"),
	CASE_ENTRIES(8, "load.reserved_bits"),
	CASE_ENTRIES(9, "load.wrmsr_faults"),
};

DEFINE_TEST("vmx_abort", checks, .setup = setup);
