/*
 * Interrupts and NMIs under VMX (SDM Vol. 3C):
 *  - external-interrupt exiting (25.6.1, pin-based control 0; 26.2, "Other
 *    Causes of VM Exits"; 26.3, "Event blocking"): exit reason 1; with
 *    "acknowledge interrupt on exit" (25.7.1) the processor acknowledges the
 *    interrupt controller and the exit interruption information holds the
 *    vector (28.2.2), without it the interrupt stays pending (IRR) for L1;
 *  - NMI exiting (pin-based control 3): exit reason 0 with interruption type
 *    NMI (2), vector 2 (28.2.2);
 *  - virtual NMIs (pin-based control 5; 26.4.1 / 27.7.1): an injected NMI sets
 *    virtual-NMI blocking (bit 3 of the interruptibility state), IRET in L2
 *    clears it, NMI-window exiting (26.7.6) waits for that;
 *  - the HLT activity state (25.4.2; 27.7.4, "Activity State"; 28.1,
 *    "Architectural State Before a VM Exit"): an entry in HLT runs no
 *    instruction until an event arrives; an injected event wakes it (27.6.2,
 *    event injection and activity state); external interrupts and interrupt
 *    windows end it with a VM exit; HLT exiting is about the instruction only.
 *  - posted-interrupt processing (30.6): the notification vector moves the
 *    posted vectors into the virtual APIC and delivers them in L2.
 * Interrupts come from the local APIC (self-IPI, timer, an NMI sent to the own
 * APIC ID through the ICR).  L2 has an IDT of its own (vmx_irq_util.h); L1 runs
 * with RFLAGS.IF = 0.
 */
#include "alloc.h"
#include "apic.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"
#include "vmx_irq_util.h"

#define EXT_VECTOR	0x62
#define TIMER_VECTOR	0x63
#define INJ_VECTOR	0x64
#define TIMER_TICKS	20000

static struct vmx_vcpu *vcpu;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
}

static bool have_hlt_state(void)
{
	if (vmx_misc() & VMX_MISC_ACT_HLT)
		return true;
	skip("", "activity state HLT not supported (IA32_VMX_MISC[6])");
	return false;
}

#define ENTRY_FAIL_GUEST ((uint32_t)(VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE))

VMX_L2_CODE(l2_nop, "nop");
/* A bounded spin (about 10^7 instructions) so that a missing exit ends in VMCALL, not a hang. */
VMX_L2_CODE(l2_spin, "movl $5000000, %ecx\n.globl l2_spin_loop\nl2_spin_loop: dec %ecx\njnz l2_spin_loop\n"
		     ".globl l2_spin_end\nl2_spin_end:");
VMX_L2_CODE(l2_sti_nops, "sti\nnop\nnop\ncli");
VMX_L2_CODE(l2_cpuid, "cpuid");
/* Sends itself an NMI, then waits for it (RCX iterations). */
VMX_L2_CODE(l2_self_nmi, "call apic_self_nmi\n"
			 "movl $1000000, %ecx\n"
			 ".globl l2_self_nmi_wait\nl2_self_nmi_wait: dec %ecx\njnz l2_self_nmi_wait\n"
			 ".globl l2_self_nmi_wait_end\nl2_self_nmi_wait_end:");
/* IRET to the next instruction (unblocks virtual NMIs), then a NOP. */
VMX_L2_CODE(l2_iret, "nop\n"
		     "movl %ss, %eax\npushq %rax\nleaq 8(%rsp), %rax\npushq %rax\npushfq\n"
		     "movl %cs, %eax\npushq %rax\nleaq l2_iret_done(%rip), %rax\npushq %rax\niretq\n"
		     ".globl l2_iret_done\nl2_iret_done: nop");
/* HLT without HLT exiting: L2 sleeps until an interrupt. */
VMX_L2_CODE(l2_hlt, ".globl l2_hlt_at\nl2_hlt_at: hlt\n.globl l2_hlt_after\nl2_hlt_after: nop");
extern char l2_spin_loop[], l2_spin_end[], l2_self_nmi_wait[], l2_self_nmi_wait_end[],
	l2_iret_done[], l2_hlt_at[], l2_hlt_after[];

static void prepare(void *code)
{
	vmx_irq_vcpu_reset(vcpu, code);
}

static uint64_t exit_info(void)
{
	return vmcs_read(VMCS_EXIT_INTR_INFO);
}

/* ------------------------------------------------ external-interrupt exiting */

static bool ext_setup(void *code, bool ack)
{
	if (!vmx_require("", VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT) ||
	    (ack && !vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR)))
		return false;
	prepare(code);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, ack ? VMX_EXIT_ACK_INTR : 0, ack ? 0 : VMX_EXIT_ACK_INTR);
	/* L2 with RFLAGS.IF = 1 (extint.l2_if_clear_exits covers IF = 0). */
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	return true;
}

static bool pend(uint8_t vector)
{
	if (apic_pend(vector))
		return true;
	test_error("", "self-IPI %#x never became pending in the IRR", vector);
	return false;
}

/*
 * Acknowledge interrupt on exit: the exit interruption information is valid
 * with type 0 and the vector, the interrupt moved from IRR to ISR (28.2.2;
 * 26.2).  The exit comes before L2's first instruction (L2 runs with
 * RFLAGS.IF = 1 here; extint.l2_if_clear_exits covers IF = 0).
 */
static void check_ext_ack(void)
{
	if (!vmx_require_vmx() || !ext_setup(l2_nop, true) || !pend(EXT_VECTOR))
		return;
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXT_INTR)) {
		check_eq("info", exit_info(), evt_info(EVT_EXT_INTR, EXT_VECTOR));
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nop);
		check_msg(!apic_irr_test(EXT_VECTOR), "irr", "IRR still holds the acknowledged vector");
		check_msg(apic_isr_test(EXT_VECTOR), "isr", "the acknowledged vector is not in service");
	}
	apic_eoi_if_in_service(EXT_VECTOR);
	check_eq("l1_not_redelivered", l1_drain(EXT_VECTOR), 0);
}

/* Without acknowledgement: info invalid, the interrupt still pending for L1 (28.2.2). */
static void check_ext_noack(void)
{
	if (!vmx_require_vmx() || !ext_setup(l2_nop, false) || !pend(EXT_VECTOR))
		return;
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXT_INTR)) {
		check_msg(!(exit_info() & VMX_INTR_INFO_VALID), "info_invalid",
			  "exit interruption information %#lx: expected the valid bit clear", exit_info());
		check_msg(apic_irr_test(EXT_VECTOR), "irr", "the interrupt is no longer pending in the IRR");
		check_msg(!apic_isr_test(EXT_VECTOR), "isr", "the interrupt was acknowledged");
	}
	check_eq("l1_delivered", l1_drain(EXT_VECTOR), 1);
}

/* RFLAGS.IF = 0 in L2 does not block the exit: "RFLAGS.IF does not control the blocking" (26.3). */
static void check_ext_l2_if_clear_exits(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !ext_setup(l2_nop, true) || !pend(EXT_VECTOR))
		return;
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_EXT_INTR, "", "exit %#x with L2 RFLAGS.IF = 0: expected "
		  "external-interrupt exit 1 before L2's first instruction", reason);
	apic_eoi_if_in_service(EXT_VECTOR);
	l1_drain(EXT_VECTOR);
}

/* An interrupt that arrives while L2 runs (the APIC timer): exit 1 with L2's RIP in its loop. */
static void check_ext_timer(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !ext_setup(l2_spin, true))
		return;
	apic_timer_oneshot(TIMER_VECTOR, TIMER_TICKS);
	reason = vmx_run(vcpu);
	apic_timer_stop();
	if (check_eq("reason", reason, VMX_EXIT_EXT_INTR)) {
		check_eq("info", exit_info(), evt_info(EVT_EXT_INTR, TIMER_VECTOR));
		uint64_t rip = vmcs_read(VMCS_GUEST_RIP);

		check_msg(rip >= (uint64_t)l2_spin_loop && rip < (uint64_t)l2_spin_end, "rip",
			  "RIP %#lx: expected inside L2's loop", rip);
	}
	apic_eoi_if_in_service(TIMER_VECTOR);
	l1_drain(TIMER_VECTOR);
}

/* Without external-interrupt exiting the interrupt goes through L2's IDT once L2 has IF = 1. */
static void check_ext_to_l2(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	prepare(l2_sti_nops);
	l2_irq.eoi = true;
	if (!pend(EXT_VECTOR))
		return;
	reason = vmx_run(vcpu);
	if (check_eq("reason", reason, VMX_EXIT_VMCALL))
		check_msg(l2_irq.count == 1 && l2_irq.vector == EXT_VECTOR, "delivered",
			  "L2 handler count %u vector %#lx: expected one %#x", l2_irq.count,
			  l2_irq.vector, EXT_VECTOR);
	l1_drain(EXT_VECTOR);
}

/* ... and stays pending while L2 has IF = 0. */
static void check_ext_l2_if_clear(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_nop);
	if (!pend(EXT_VECTOR))
		return;
	check_eq("reason", vmx_run(vcpu), VMX_EXIT_VMCALL);
	check_eq("l2_handler", l2_irq.count, 0);
	check_msg(apic_irr_test(EXT_VECTOR), "irr", "the interrupt is no longer pending");
	l1_drain(EXT_VECTOR);
}

/* ------------------------------------------------ NMIs */

/* NMI exiting: reason 0, interruption information NMI (type 2), vector 2 (28.2.2). */
static void check_nmi_exit(void)
{
	uint64_t rip;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_NMI_EXIT))
		return;
	prepare(l2_self_nmi);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, VMX_PIN_NMI_EXIT, 0);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXCEPTION)) {
		check_eq("info", exit_info() & ~BIT(12), evt_info(EVT_NMI, 2));
		/* The NMI may arrive inside apic_self_nmi() or in the wait: anywhere before the VMCALL. */
		rip = vmcs_read(VMCS_GUEST_RIP);
		check_msg(rip != (uint64_t)l2_self_nmi_end, "before_vmcall",
			  "RIP %#lx: L2 finished its wait, the NMI exit came late", rip);
		check_eq("l2_handler", l2_irq.count, 0);
	}
	l1_iret_self();
}

/* Without NMI exiting the NMI goes through L2's IDT, vector 2. */
static void check_nmi_to_l2(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_self_nmi);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_VMCALL))
		check_msg(l2_irq.count == 1 && l2_irq.vector == 2, "delivered",
			  "L2 handler count %u vector %#lx: expected one NMI", l2_irq.count, l2_irq.vector);
}

static bool vnmi_setup(void *code)
{
	uint32_t pin = VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS;

	if (!vmx_require("", VMX_CTLS_PIN, pin))
		return false;
	prepare(code);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, pin, 0);
	return true;
}

/*
 * An injected NMI with virtual NMIs sets virtual-NMI blocking, seen at an exit
 * from inside the handler; the handler's IRET clears it (26.4.1, 27.6.1.2).
 */
static void check_vnmi_inject(void)
{
	if (!vmx_require_vmx() || !vnmi_setup(l2_cpuid))
		return;
	l2_irq.vmcall = true;
	vmcs_write(VMCS_ENTRY_INTR_INFO, evt_info(EVT_NMI, 2));
	if (!check_eq("handler_exit", vmx_run(vcpu), VMX_EXIT_VMCALL))
		return;
	check_eq("handler_vector", l2_irq.vector, 2);
	check_msg(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, "blocked_in_handler",
		  "interruptibility %#lx: expected virtual-NMI blocking", vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
	vmx_skip_insn();
	l2_irq.vmcall = false;
	if (!check_eq("after_iret_exit", vmx_run(vcpu), VMX_EXIT_CPUID))
		return;
	check_msg(!(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI), "unblocked_by_iret",
		  "interruptibility %#lx: IRET must end virtual-NMI blocking", vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
}

/* With virtual-NMI blocking loaded and no IRET the blocking is saved again at the exit. */
static void check_vnmi_kept(void)
{
	if (!vmx_require_vmx() || !vnmi_setup(l2_cpuid))
		return;
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_NMI);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID))
		check_msg(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, "blocking",
			  "interruptibility %#lx: expected virtual-NMI blocking kept",
			  vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
}

/* NMI-window exiting (26.7.6): an exit before the first instruction without virtual-NMI blocking ... */
static void check_nmi_window_open(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT) ||
	    !vnmi_setup(l2_iret))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT, 0);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_NMI_WINDOW))
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_iret);
}

/* ... and, with virtual-NMI blocking, right after the IRET that ends it. */
static void check_nmi_window_iret(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT) ||
	    !vnmi_setup(l2_iret))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_NMI);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_NMI_WINDOW))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_iret_done);
	check_eq("blocking", vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, 0);
}

/* ------------------------------------------------ activity state HLT */

static bool hlt_setup(void *code)
{
	if (!have_hlt_state())
		return false;
	prepare(code);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	return true;
}

/* An injected external interrupt wakes L2: the handler runs and returns to RIP (27.6.2... 27.7.4). */
static void check_hlt_inject_intr(void)
{
	if (!vmx_require_vmx() || !hlt_setup(l2_nop))
		return;
	/* Injecting an external interrupt needs RFLAGS.IF = 1 (27.3.1.4). */
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_ENTRY_INTR_INFO, evt_info(EVT_EXT_INTR, INJ_VECTOR));
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_VMCALL))
		return;
	check_msg(l2_irq.count == 1 && l2_irq.vector == INJ_VECTOR, "delivered",
		  "L2 handler count %u vector %#lx: expected the injected %#x", l2_irq.count,
		  l2_irq.vector, INJ_VECTOR);
	check_eq("return_rip", l2_irq.rip, (uint64_t)l2_nop);
	check_eq("activity", vmcs_read(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
}

static void check_hlt_inject_nmi(void)
{
	if (!vmx_require_vmx() || !hlt_setup(l2_nop))
		return;
	vmcs_write(VMCS_ENTRY_INTR_INFO, evt_info(EVT_NMI, 2));
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_VMCALL))
		check_msg(l2_irq.count == 1 && l2_irq.vector == 2, "delivered",
			  "L2 handler count %u vector %#lx: expected the injected NMI", l2_irq.count,
			  l2_irq.vector);
	l1_iret_self();
}

/* In HLT only external interrupts, NMIs, #DB, #MC and MTF may be injected (27.3.1.5): #UD fails. */
static void check_hlt_inject_ud(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !hlt_setup(l2_nop))
		return;
	vmcs_write(VMCS_ENTRY_INTR_INFO, evt_info(EVT_HW_EXC, X86_VEC_UD));
	reason = vmx_run(vcpu);
	check_msg(reason == ENTRY_FAIL_GUEST, "", "expected VM-entry failure %#x, got exit %#x",
		  ENTRY_FAIL_GUEST, reason);
}

/*
 * Without an event L2 runs nothing: the APIC timer ends the HLT state with an
 * external-interrupt exit (reason 1, not L2's VMCALL), RIP unchanged and
 * activity state HLT saved (28.3.4).  HLT exiting does not matter: no HLT
 * instruction is executed.
 */
static void hlt_extint(bool hlt_exiting)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !have_hlt_state() || !ext_setup(l2_nop, true))
		return;
	if (hlt_exiting && !vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_HLT_EXIT, 0)) {
		vmx_require("", VMX_CTLS_PROC, VMX_PROC_HLT_EXIT);
		return;
	}
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	apic_timer_oneshot(TIMER_VECTOR, TIMER_TICKS);
	reason = vmx_run(vcpu);
	apic_timer_stop();
	if (check_eq("reason", reason, VMX_EXIT_EXT_INTR)) {
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nop);
		check_eq("activity", vmcs_read(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	}
	apic_eoi_if_in_service(TIMER_VECTOR);
	l1_drain(TIMER_VECTOR);
}

static void check_hlt_extint(void)
{
	hlt_extint(false);
}

static void check_hlt_extint_hlt_exiting(void)
{
	hlt_extint(true);
}

/*
 * An open interrupt window (RFLAGS.IF = 1) ends the HLT state with exit 7:
 * the exit comes right after VM entry (26.7.5, 27.7.5) and unblocked events
 * take the processor out of an inactive state (28.1).  The APIC timer with
 * external-interrupt exiting is armed as a watchdog, so that a missing exit
 * ends as exit 1 instead of a hang.
 */
static void check_hlt_intr_window(void)
{
	uint32_t reason, left;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT) ||
	    !have_hlt_state() || !ext_setup(l2_nop, true))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	apic_timer_oneshot(TIMER_VECTOR, 50 * TIMER_TICKS);
	reason = vmx_run(vcpu);
	left = apic_read(APIC_TIMER_CCR);
	apic_timer_stop();
	if (check_eq("reason", reason, VMX_EXIT_INTR_WINDOW)) {
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nop);
		/* Right after VM entry, not once the watchdog's interrupt woke the processor. */
		check_msg(left != 0 && !apic_irr_test(TIMER_VECTOR), "immediate",
			  "the exit came only after the watchdog timer expired (current count %u)", left);
	}
	apic_eoi_if_in_service(TIMER_VECTOR);
	l1_drain(TIMER_VECTOR);
}

/* The HLT instruction with HLT exiting: exit 12 at the HLT, nothing executed (26.1.3). */
static void check_hlt_exiting_insn(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_HLT_EXIT))
		return;
	prepare(l2_hlt);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_HLT_EXIT, 0);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_HLT))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_hlt_at);
	check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), 1);
	check_eq("activity", vmcs_read(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
}

/*
 * HLT in L2 without HLT exiting: L2 sleeps; the timer interrupt exits with
 * RIP after the HLT and activity state HLT (28.3.4).
 */
static void check_hlt_insn_sleeps(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !ext_setup(l2_hlt, true))
		return;
	apic_timer_oneshot(TIMER_VECTOR, TIMER_TICKS);
	reason = vmx_run(vcpu);
	apic_timer_stop();
	if (check_eq("reason", reason, VMX_EXIT_EXT_INTR)) {
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_hlt_after);
		check_eq("activity", vmcs_read(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	}
	apic_eoi_if_in_service(TIMER_VECTOR);
	l1_drain(TIMER_VECTOR);
}

VMX_L2_CODE(l2_sti_hlt, "sti\nhlt\n.globl l2_sti_hlt_after\nl2_sti_hlt_after: cli");
extern char l2_sti_hlt_after[];

/* L2 with IF = 1 halts and the timer interrupt (no external-interrupt exiting) wakes it in L2. */
static void check_hlt_insn_wakes_l2(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	prepare(l2_sti_hlt);
	l2_irq.eoi = true;
	apic_timer_oneshot(TIMER_VECTOR, TIMER_TICKS);
	reason = vmx_run(vcpu);
	apic_timer_stop();
	if (check_eq("reason", reason, VMX_EXIT_VMCALL)) {
		check_msg(l2_irq.count == 1 && l2_irq.vector == TIMER_VECTOR, "delivered",
			  "L2 handler count %u vector %#lx: expected the timer %#x", l2_irq.count,
			  l2_irq.vector, TIMER_VECTOR);
		check_eq("return_rip", l2_irq.rip, (uint64_t)l2_sti_hlt_after);
	}
	l1_drain(TIMER_VECTOR);
}

/* ------------------------------------------------ posted interrupts */

/*
 * Posted-interrupt processing (SDM Vol. 3C 30.6): with "process posted
 * interrupts", an external interrupt with the notification vector that
 * arrives in VMX non-root operation causes no VM exit; the processor
 * acknowledges it, clears the descriptor's outstanding-notification bit
 * (bit 256), writes 0 to the local APIC's EOI register, moves the PIR (bits
 * 255:0) into VIRR and RVI, and evaluates pending virtual interrupts (30.2.1),
 * which delivers the posted vector through L2's IDT (30.2.2: VIRR bit
 * cleared, VISR bit set, SVI = the vector).  Another vector still exits.
 */
#define NOTIFY_VECTOR	0x65
#define POSTED_VECTOR	0x66

static uint8_t *vapic;
static uint64_t *pi_desc;

static bool vapic_bit(unsigned offset, uint8_t vector)
{
	return *(volatile uint32_t *)(vapic + offset + 0x10 * (vector / 32)) & BIT(vector % 32);
}

static bool posted_setup(void)
{
	if (!vmx_require("", VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT | VMX_PIN_POSTED_INTR) ||
	    !vmx_require("", VMX_CTLS_PROC, VMX_PROC_TPR_SHADOW) ||
	    !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VIRT_INTR_DELIVERY) ||
	    !vmx_require("", VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR))
		return false;
	if (!vapic) {
		vapic = alloc_page();
		pi_desc = alloc_page();
	}
	memset(vapic, 0, PAGE_SIZE);
	memset(pi_desc, 0, 64);
	pi_desc[POSTED_VECTOR / 64] |= BIT(POSTED_VECTOR % 64);
	pi_desc[4] |= BIT(0);		/* ON */
	prepare(l2_nop);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT | VMX_PIN_POSTED_INTR, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_TPR_SHADOW, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VIRT_INTR_DELIVERY, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR, 0);
	vmcs_write(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)vapic);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_EOI_EXIT_BITMAP0 + 2 * i, 0);
	vmcs_write(VMCS_GUEST_INTR_STATUS, 0);
	vmcs_write(VMCS_POSTED_INTR_NV, NOTIFY_VECTOR);
	vmcs_write(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)pi_desc);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	return true;
}

static void check_posted_delivers(void)
{
	uint64_t status;

	if (!vmx_require_vmx() || !posted_setup() || !pend(NOTIFY_VECTOR))
		return;
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_VMCALL)) {
		apic_eoi_if_in_service(NOTIFY_VECTOR);
		l1_drain(NOTIFY_VECTOR);
		return;
	}
	check_msg(l2_irq.count == 1 && l2_irq.vector == POSTED_VECTOR, "delivered",
		  "L2 handler count %u vector %#lx: expected one %#x", l2_irq.count, l2_irq.vector,
		  POSTED_VECTOR);
	check_msg(!(pi_desc[POSTED_VECTOR / 64] & BIT(POSTED_VECTOR % 64)), "pir_cleared",
		  "PIR bit %#x still set", POSTED_VECTOR);
	check_msg(!(pi_desc[4] & BIT(0)), "on_cleared", "outstanding-notification bit still set");
	status = vmcs_read(VMCS_GUEST_INTR_STATUS);
	check_eq("svi", status >> 8, POSTED_VECTOR);
	check_eq("rvi", status & 0xff, 0);
	check_msg(vapic_bit(0x100, POSTED_VECTOR) && !vapic_bit(0x200, POSTED_VECTOR), "visr",
		  "virtual-APIC page: VISR bit %u, VIRR bit %u; expected VISR set, VIRR clear",
		  vapic_bit(0x100, POSTED_VECTOR), vapic_bit(0x200, POSTED_VECTOR));
	check_msg(!apic_irr_test(NOTIFY_VECTOR) && !apic_isr_test(NOTIFY_VECTOR), "notify_eoi",
		  "L1's APIC: the notification vector is still pending (IRR %u) or in service (ISR %u)",
		  apic_irr_test(NOTIFY_VECTOR), apic_isr_test(NOTIFY_VECTOR));
	apic_eoi_if_in_service(NOTIFY_VECTOR);
	check_eq("l1_not_redelivered", l1_drain(NOTIFY_VECTOR), 0);
}

static void check_posted_other_vector(void)
{
	if (!vmx_require_vmx() || !posted_setup() || !pend(EXT_VECTOR))
		return;
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXT_INTR)) {
		check_eq("info", exit_info(), evt_info(EVT_EXT_INTR, EXT_VECTOR));
		check_eq("l2_handler", l2_irq.count, 0);
		check_msg(pi_desc[4] & BIT(0), "on_kept", "outstanding-notification bit cleared");
	}
	apic_eoi_if_in_service(EXT_VECTOR);
	l1_drain(EXT_VECTOR);
}

static const struct check_entry checks[] = {
	{ "extint.ack", check_ext_ack },
	{ "extint.noack", check_ext_noack },
	{ "extint.l2_if_clear_exits", check_ext_l2_if_clear_exits },
	{ "extint.timer", check_ext_timer },
	{ "extint.to_l2", check_ext_to_l2 },
	{ "extint.l2_if_clear", check_ext_l2_if_clear },
	{ "nmi.exit", check_nmi_exit },
	{ "nmi.to_l2", check_nmi_to_l2 },
	{ "vnmi.inject", check_vnmi_inject },
	{ "vnmi.kept", check_vnmi_kept },
	{ "vnmi.window_open", check_nmi_window_open },
	{ "vnmi.window_after_iret", check_nmi_window_iret },
	{ "hlt_state.inject_intr", check_hlt_inject_intr },
	{ "hlt_state.inject_nmi", check_hlt_inject_nmi },
	{ "hlt_state.inject_ud", check_hlt_inject_ud },
	{ "hlt_state.extint", check_hlt_extint },
	{ "hlt_state.extint_hlt_exiting", check_hlt_extint_hlt_exiting },
	{ "hlt_state.intr_window", check_hlt_intr_window },
	{ "hlt_insn.exiting", check_hlt_exiting_insn },
	{ "hlt_insn.sleeps", check_hlt_insn_sleeps },
	{ "hlt_insn.wakes_l2", check_hlt_insn_wakes_l2 },
	{ "posted.delivers", check_posted_delivers },
	{ "posted.other_vector_exits", check_posted_other_vector },
};

DEFINE_TEST("vmx_interrupts", checks, .setup = setup);
