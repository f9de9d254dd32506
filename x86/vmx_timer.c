/*
 * The VMX-preemption timer and the monitor trap flag (SDM Vol. 3C):
 *  - the VMX-preemption timer (pin-based control 6; 26.5.1, "VMX-Preemption
 *    Timer"; A.6: it counts down by 1 each time bit X of the TSC changes, X =
 *    IA32_VMX_MISC[4:0]): exit reason 52 when it reaches zero, a value of 0
 *    exits before the first instruction (27.7.4), "save VMX-preemption timer
 *    value" (exit control 22; 28.3.4) stores what remains, and without it
 *    every VM entry loads the field's value again;
 *  - the monitor trap flag (primary control 27; 26.5.2, "Monitor Trap Flag";
 *    28.1): exit reason 37 on the boundary after each instruction, before the
 *    first instruction of the handler of an injected event, after HLT (MTF
 *    exits are not blocked in the HLT state), and for an injected "pending
 *    MTF VM exit" (type 7, vector 0; 27.6.2).
 */
#include "processor.h"
#include "test.h"
#include "vmx.h"
#include "vmx_irq_util.h"

#define INJ_VECTOR	0x65

static struct vmx_vcpu *vcpu;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
}

/* L2 counts loop iterations in R9; R8 = iterations before giving up (no hang). */
VMX_L2_CODE(l2_count, "movq %r8, %rcx\n"
		      ".globl l2_count_loop\nl2_count_loop: inc %r9\ndec %rcx\njnz l2_count_loop");
/* Three rounds of R8 iterations, each ended by CPUID. */
VMX_L2_CODE(l2_rounds, "movq %r8, %rcx\n1: inc %r9\ndec %rcx\njnz 1b\ncpuid\n"
		       "movq %r8, %rcx\n2: inc %r9\ndec %rcx\njnz 2b\ncpuid\n"
		       "movq %r8, %rcx\n3: inc %r9\ndec %rcx\njnz 3b\ncpuid");
VMX_L2_CODE(l2_inc, "inc %rax");
VMX_L2_CODE(l2_cpuid, "cpuid");
VMX_L2_CODE(l2_steps, "nop\n.globl l2_steps_1\nl2_steps_1: movl $1, %eax\n"
		      ".globl l2_steps_2\nl2_steps_2: inc %rax\n.globl l2_steps_3\nl2_steps_3: nop");
VMX_L2_CODE(l2_hlt, "hlt\n.globl l2_hlt_after\nl2_hlt_after: nop");
extern char l2_steps_1[], l2_steps_2[], l2_steps_3[], l2_hlt_after[], l2_count_loop[];

#define GIVE_UP 20000000ull

static unsigned rate_shift(void)
{
	return vmx_misc() & 0x1f;
}

static bool timer_setup(void *code, uint32_t value, bool save)
{
	if (!vmx_require("", VMX_CTLS_PIN, VMX_PIN_PREEMPTION_TIMER) ||
	    (save && !vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_SAVE_PREEMPT)))
		return false;
	vmx_irq_vcpu_reset(vcpu, code);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, VMX_PIN_PREEMPTION_TIMER, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, save ? VMX_EXIT_SAVE_PREEMPT : 0,
			  save ? 0 : VMX_EXIT_SAVE_PREEMPT);
	vmcs_write(VMCS_PREEMPTION_TIMER, value);
	vcpu->regs.r8 = GIVE_UP;
	return true;
}

/* ------------------------------------------------ VMX-preemption timer */

/* A value of 0: the exit comes before L2's first instruction (27.7.4). */
static void check_timer_zero(void)
{
	if (!vmx_require_vmx() || !timer_setup(l2_inc, 0, false))
		return;
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_PREEMPTION_TIMER))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_inc);
	check_eq("not_executed", vcpu->regs.rax, 0);
}

/* Runs L2's counting loop under a timer of @value; the iterations, or 0 when no exit 52 came. */
static uint64_t timed_count(uint32_t value, uint64_t *tsc)
{
	uint64_t t0;
	uint32_t reason;

	if (!timer_setup(l2_count, value, false))
		return 0;
	t0 = rdtsc();
	reason = vmx_run(vcpu);
	*tsc = rdtsc() - t0;
	return reason == VMX_EXIT_PREEMPTION_TIMER ? vcpu->regs.r9 : 0;
}

static uint32_t base_value(void)
{
	/* About 2^20 TSC cycles. */
	return (1u << 20) >> rate_shift() ? (1u << 20) >> rate_shift() : 1;
}

static uint64_t calibrated;	/* loop iterations in base_value() */

/* The timer expires while L2 runs: exit 52 inside the loop. */
static void check_timer_expires(void)
{
	uint64_t rip;
	uint32_t reason;

	if (!vmx_require_vmx() || !timer_setup(l2_count, base_value(), false))
		return;
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_PREEMPTION_TIMER, "reason",
		       "exit %#x after %lu of %llu iterations: expected the timer's exit 52", reason,
		       vcpu->regs.r9, GIVE_UP))
		return;
	rip = vmcs_read(VMCS_GUEST_RIP);
	check_msg(rip >= (uint64_t)l2_count && rip < (uint64_t)l2_count_end, "rip",
		  "RIP %#lx: expected inside L2's loop", rip);
	calibrated = vcpu->regs.r9;
	check_msg(calibrated > 0, "ran", "L2 executed no iteration before the exit");
}

/* It counts at the TSC rate divided by 2^IA32_VMX_MISC[4:0] (26.5.1, A.6). */
static void check_timer_rate(void)
{
	uint32_t v;
	uint64_t tsc = 0, lo, hi;

	if (!vmx_require_vmx())
		return;
	v = base_value();
	if (!timed_count(v, &tsc)) {
		if (vmx_ctls_supported(VMX_CTLS_PIN, VMX_PIN_PREEMPTION_TIMER))
			test_error("", "no timer exit to measure (see timer.expires)");
		return;
	}
	lo = (uint64_t)(v - 1) << rate_shift();
	hi = 4 * ((uint64_t)(v + 1) << rate_shift()) + 400000;
	info("timer.rate: value %u, shift %u, %lu TSC cycles from entry to exit", v, rate_shift(), tsc);
	check_msg(tsc >= lo, "not_early", "%lu TSC cycles: the timer of %u << %u expired early", tsc,
		  v, rate_shift());
	check_msg(tsc <= hi, "not_late", "%lu TSC cycles: expected at most about %lu", tsc, hi);
}

/* Four times the value: about four times the work in L2. */
static void check_timer_scales(void)
{
	uint64_t tsc, c1, c4;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_PREEMPTION_TIMER))
		return;
	c1 = timed_count(base_value(), &tsc);
	c4 = timed_count(4 * base_value(), &tsc);
	if (!c1 || !c4) {
		test_error("", "no timer exit to compare (see timer.expires)");
		return;
	}
	check_msg(c4 >= 2 * c1 && c4 <= 8 * c1, "", "%lu iterations for 4x the value, %lu for 1x: "
		  "expected about 4x", c4, c1);
}

/* "Save VMX-preemption timer value": an early exit stores what remains (0 < saved < loaded). */
static void check_timer_save_early(void)
{
	uint32_t v = 1u << 28, saved;

	if (!vmx_require_vmx() || !timer_setup(l2_cpuid, v, true))
		return;
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID))
		return;
	saved = vmcs_read(VMCS_PREEMPTION_TIMER);
	check_msg(saved < v, "decreased", "saved %#x: expected below the loaded %#x", saved, v);
	check_msg(saved > 0, "nonzero", "saved 0 although the timer had not expired");
}

/* ... and 0 when the exit is the timer's. */
static void check_timer_save_expired(void)
{
	if (!vmx_require_vmx() || !timer_setup(l2_count, base_value(), true))
		return;
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_PREEMPTION_TIMER))
		check_eq("saved", vmcs_read(VMCS_PREEMPTION_TIMER), 0);
}

/* Without the save control the field is left as loaded. */
static void check_timer_nosave_field(void)
{
	uint32_t v = 1u << 28;

	if (!vmx_require_vmx() || !timer_setup(l2_cpuid, v, false))
		return;
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID))
		check_eq("field", vmcs_read(VMCS_PREEMPTION_TIMER), v);
}

/*
 * Three rounds of 0.6 x the calibrated work, each ended by a CPUID exit: each
 * VM entry loads the field again, so without the save control the timer never
 * expires; with it the remaining value carries over and it expires on the way.
 */
static void timer_rounds(bool save)
{
	unsigned cpuid_exits = 0;
	uint32_t reason;

	if (!vmx_require_vmx() || !timer_setup(l2_rounds, base_value(), save))
		return;
	if (!calibrated) {
		test_error("", "no calibration (timer.expires did not run or failed)");
		return;
	}
	vcpu->regs.r8 = calibrated * 6 / 10;
	while ((reason = vmx_run(vcpu)) == VMX_EXIT_CPUID && cpuid_exits < 3) {
		cpuid_exits++;
		vmx_skip_insn();
	}
	if (save)
		check_msg(reason == VMX_EXIT_PREEMPTION_TIMER && cpuid_exits < 2, "",
			  "exit %#x after %u CPUID exits: the saved value must carry over and expire "
			  "in the second round", reason, cpuid_exits);
	else
		check_msg(reason == VMX_EXIT_VMCALL && cpuid_exits == 3, "",
			  "exit %#x after %u CPUID exits: every entry reloads the value, expected "
			  "three rounds and the VMCALL", reason, cpuid_exits);
}

static void check_timer_reload(void)
{
	timer_rounds(false);
}

static void check_timer_carry(void)
{
	timer_rounds(true);
}

/* The timer also ends the HLT activity state (26.5.1; 28.1: unblocked events wake). */
static void check_timer_hlt(void)
{
	if (!vmx_require_vmx())
		return;
	if (!(vmx_misc() & VMX_MISC_ACT_HLT)) {
		skip("", "activity state HLT not supported (IA32_VMX_MISC[6])");
		return;
	}
	if (!timer_setup(l2_inc, base_value(), false))
		return;
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_PREEMPTION_TIMER))
		check_eq("not_executed", vcpu->regs.rax, 0);
}

/* ------------------------------------------------ monitor trap flag */

static bool mtf_setup(void *code)
{
	if (!vmx_require("", VMX_CTLS_PROC, VMX_PROC_MTF))
		return false;
	vmx_irq_vcpu_reset(vcpu, code);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_MTF, 0);
	return true;
}

/* One exit after each instruction, RIP on the next instruction boundary (26.5.2). */
static void check_mtf_steps(void)
{
	static const char *names[] = { "step1", "step2", "step3" };
	uint64_t want[] = { (uint64_t)l2_steps_1, (uint64_t)l2_steps_2, (uint64_t)l2_steps_3 };

	if (!vmx_require_vmx() || !mtf_setup(l2_steps))
		return;
	for (unsigned i = 0; i < 3; i++) {
		uint32_t reason = vmx_run(vcpu);
		uint64_t rip = vmcs_read(VMCS_GUEST_RIP);

		if (!check_msg(reason == VMX_EXIT_MTF && rip == want[i], names[i],
			       "exit %#x at RIP %#lx: expected MTF exit 37 at %#lx", reason, rip, want[i]))
			return;
	}
	check_eq("executed", vcpu->regs.rax, 2);
}

/* Without the control the same code runs to its VMCALL. */
static void check_mtf_off(void)
{
	if (!vmx_require_vmx())
		return;
	vmx_irq_vcpu_reset(vcpu, l2_steps);
	check_eq("", vmx_run(vcpu), VMX_EXIT_VMCALL);
}

/* An instruction that exits by itself exits with its own reason, not MTF. */
static void check_mtf_cpuid(void)
{
	if (!vmx_require_vmx() || !mtf_setup(l2_cpuid))
		return;
	check_eq("", vmx_run(vcpu), VMX_EXIT_CPUID);
}

/*
 * Injected event with MTF: the exit is pending "on the instruction boundary
 * before the first instruction following the VM entry", i.e. after delivery:
 * RIP = the handler's first instruction, the handler not yet run (26.5.2).
 */
static void check_mtf_inject(void)
{
	uint64_t rsp, top;

	if (!vmx_require_vmx() || !mtf_setup(l2_inc))
		return;
	top = vmcs_read(VMCS_GUEST_RSP);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_ENTRY_INTR_INFO, evt_info(EVT_EXT_INTR, INJ_VECTOR));
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_MTF))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), l2_idt_handler(INJ_VECTOR));
	check_eq("handler_not_run", l2_irq.count, 0);
	rsp = vmcs_read(VMCS_GUEST_RSP);
	if (check_eq("frame", rsp, top - 40))
		check_eq("frame_rip", *(uint64_t *)rsp, (uint64_t)l2_inc);
	check_eq("insn_not_run", vcpu->regs.rax, 0);
}

/* An injected pending MTF VM exit (type 7, vector 0) exits before any instruction, MTF control 0 (27.6.2). */
static void check_mtf_pending_injected(void)
{
	if (!vmx_require_vmx())
		return;
	if (!vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_MTF)) {
		vmx_require("", VMX_CTLS_PROC, VMX_PROC_MTF);
		return;
	}
	vmx_irq_vcpu_reset(vcpu, l2_inc);
	vmcs_write(VMCS_ENTRY_INTR_INFO, VMX_INTR_INFO_VALID | (7u << VMX_INTR_INFO_TYPE_SHIFT));
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_MTF))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_inc);
	check_eq("not_executed", vcpu->regs.rax, 0);
}

/* HLT with MTF: the exit follows the HLT, in the HLT state (28.1: MTF exits are not blocked by HLT). */
static void check_mtf_hlt(void)
{
	if (!vmx_require_vmx() || !mtf_setup(l2_hlt))
		return;
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_MTF))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_hlt_after);
	check_eq("activity", vmcs_read(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
}

static const struct check_entry checks[] = {
	{ "timer.zero", check_timer_zero },
	{ "timer.expires", check_timer_expires },
	{ "timer.rate", check_timer_rate },
	{ "timer.scales", check_timer_scales },
	{ "timer.save_early", check_timer_save_early },
	{ "timer.save_expired", check_timer_save_expired },
	{ "timer.nosave_field", check_timer_nosave_field },
	{ "timer.reload", check_timer_reload },
	{ "timer.carry_over", check_timer_carry },
	{ "timer.hlt", check_timer_hlt },
	{ "mtf.steps", check_mtf_steps },
	{ "mtf.off", check_mtf_off },
	{ "mtf.cpuid", check_mtf_cpuid },
	{ "mtf.inject", check_mtf_inject },
	{ "mtf.pending_injected", check_mtf_pending_injected },
	{ "mtf.hlt", check_mtf_hlt },
};

DEFINE_TEST("vmx_timer", checks, .setup = setup);
