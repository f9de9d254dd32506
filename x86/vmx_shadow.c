/*
 * Interrupt shadows under VMX (SDM Vol. 3C):
 *  - the interruptibility-state field saved at a VM exit (25.4.2, Table 25-3;
 *    28.3.4, "Saving Non-Register State"): blocking by STI after STI with
 *    RFLAGS.IF = 0, blocking by MOV SS after MOV SS, clear otherwise;
 *  - the field loaded by VM entry holds events for one instruction (27.7.1,
 *    "Interruptibility State"; 26.7.5, "Interrupt-Window Exiting and
 *    Virtual-Interrupt Delivery"; 26.7.6, "NMI-Window Exiting"; 26.3, "Event
 *    blocking": external-interrupt exiting ignores RFLAGS.IF, not the shadows);
 *  - the VM-entry checks that tie interruptibility to RFLAGS.IF, to the
 *    activity state, to the pending debug exceptions and to event injection
 *    (27.3.1.5, "Checks on Guest Non-Register State"): a violation is a
 *    VM-entry failure with exit reason 33 (27.8);
 *  - MOV SS and single-step: the #DB is held until after the next instruction
 *    (Vol. 3A 6.8.3) and a VM exit inside that shadow saves it as pending
 *    (BS in the pending debug exceptions field, 28.3.4).
 * L2 shares the test's address space but has an IDT of its own
 * (vmx_irq_util.h); every exception of L2 exits (exception bitmap all ones).
 */
#include "apic.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"
#include "vmx_irq_util.h"

#define SHADOW_VECTOR	0x61

static struct vmx_vcpu *vcpu;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
}

#define ENTRY_FAIL_GUEST ((uint32_t)(VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE))

/* L2 snippets: labels mark the instruction boundaries the checks expect. */
VMX_L2_CODE(l2_sti_cpuid, "sti\n.globl l2_sti_cpuid_at\nl2_sti_cpuid_at: cpuid");
VMX_L2_CODE(l2_movss_cpuid, "mov %eax, %ss\n.globl l2_movss_cpuid_at\nl2_movss_cpuid_at: cpuid");
VMX_L2_CODE(l2_cpuid, "cpuid");
VMX_L2_CODE(l2_sti_nop_cpuid, "sti\nnop\ncpuid");
VMX_L2_CODE(l2_movss_nop_cpuid, "mov %eax, %ss\nnop\ncpuid");
VMX_L2_CODE(l2_nops, "nop\n.globl l2_nops_1\nl2_nops_1: nop\n.globl l2_nops_2\nl2_nops_2: nop\nnop");
VMX_L2_CODE(l2_sti_nops, "sti\nnop\n.globl l2_sti_nops_2\nl2_sti_nops_2: nop\nnop\ncli");
VMX_L2_CODE(l2_sti_cli, "sti\ncli\nnop\nnop");
VMX_L2_CODE(l2_movss_nops, "mov %eax, %ss\nnop\n.globl l2_movss_nops_2\nl2_movss_nops_2: nop\nnop");
VMX_L2_CODE(l2_sti_tf, "sti\n.globl l2_sti_tf_1\nl2_sti_tf_1: nop\nnop");
extern char l2_sti_cpuid_at[], l2_movss_cpuid_at[], l2_nops_1[], l2_nops_2[], l2_sti_nops_2[],
	l2_movss_nops_2[], l2_sti_tf_1[];

static void prepare(void *code)
{
	vmx_irq_vcpu_reset(vcpu, code);
	vcpu->regs.rax = read_ss();	/* for "mov %eax, %ss": the same selector */
}

static uint32_t intr_state(void)
{
	return vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
}

/* ------------------------------------------------ the field saved at VM exits */

/* STI with IF = 0 then CPUID: the exit is inside the STI shadow (Table 25-3, 28.3.4). */
static void check_exit_sti(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_sti_cpuid);
	check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_sti_cpuid_at);
	check_msg((intr_state() & 3) == INTR_BLOCK_STI, "blocking",
		  "interruptibility %#lx: expected blocking by STI only", vmcs_read(VMCS_GUEST_INTERRUPTIBILITY));
	check_msg(vmcs_read(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF, "rflags_if", "STI executed: RFLAGS.IF must be 1");
}

/* MOV SS then CPUID: blocking by MOV SS at the exit. */
static void check_exit_movss(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_movss_cpuid);
	check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_movss_cpuid_at);
	check_msg((intr_state() & 3) == INTR_BLOCK_MOV_SS, "blocking",
		  "interruptibility %#x: expected blocking by MOV SS only", intr_state());
}

/* No shadow: a plain exiting instruction, or one instruction after STI / MOV SS. */
static void check_exit_clear(const char *name, void *code, uint64_t rflags)
{
	prepare(code);
	vmcs_write(VMCS_GUEST_RFLAGS, rflags);
	if (vmx_run(vcpu) != VMX_EXIT_CPUID) {
		test_error(name, "expected a CPUID exit, got %#x", vcpu->exit_reason);
		return;
	}
	check_msg((intr_state() & 3) == 0, name, "interruptibility %#x: expected no STI/MOV SS blocking",
		  intr_state());
}

static void check_exit_none(void)
{
	if (!vmx_require_vmx())
		return;
	check_exit_clear("plain", l2_cpuid, X86_EFLAGS_FIXED);
	check_exit_clear("after_sti_nop", l2_sti_nop_cpuid, X86_EFLAGS_FIXED);
	check_exit_clear("after_movss_nop", l2_movss_nop_cpuid, X86_EFLAGS_FIXED);
	/* STI with IF already 1 makes no shadow (Vol. 2B STI). */
	check_exit_clear("sti_if_already_set", l2_sti_cpuid, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
}

/* ------------------------------------------------ the field loaded by VM entry */

/*
 * Interrupt-window exiting with RFLAGS.IF = 1: an exit before the first
 * instruction unless blocking by STI or MOV SS holds it for one (26.7.5).
 */
static void check_entry_window(uint32_t blocking, uint64_t want_rip)
{
	if (!vmx_require("", VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT))
		return;
	prepare(l2_nops);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, blocking);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_INTR_WINDOW))
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), want_rip);
}

static void check_entry_window_none(void)
{
	if (vmx_require_vmx())
		check_entry_window(0, (uint64_t)l2_nops);
}

static void check_entry_window_sti(void)
{
	if (vmx_require_vmx())
		check_entry_window(INTR_BLOCK_STI, (uint64_t)l2_nops_1);
}

static void check_entry_window_movss(void)
{
	if (vmx_require_vmx())
		check_entry_window(INTR_BLOCK_MOV_SS, (uint64_t)l2_nops_1);
}

/* RFLAGS.IF = 0: no interrupt window at all; L2 runs to its VMCALL. */
static void check_entry_window_if_clear(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT))
		return;
	prepare(l2_nops);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT, 0);
	check_eq("", vmx_run(vcpu), VMX_EXIT_VMCALL);
}

/*
 * A pending external interrupt with external-interrupt exiting: RFLAGS.IF does
 * not block it but blocking by STI does (26.3, "Event blocking"), so the exit
 * comes after the first instruction.
 */
static void check_entry_sti_extint(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT))
		return;
	prepare(l2_nops);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, VMX_PIN_EXT_INTR_EXIT, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, VMX_EXIT_ACK_INTR, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI);
	if (!apic_pend(SHADOW_VECTOR)) {
		test_error("", "self-IPI %#x never became pending", SHADOW_VECTOR);
		return;
	}
	reason = vmx_run(vcpu);
	if (check_eq("reason", reason, VMX_EXIT_EXT_INTR))
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nops_1);
	apic_eoi_if_in_service(SHADOW_VECTOR);
	l1_drain(SHADOW_VECTOR);
}

/* ------------------------------------------------ shadows created inside L2 */

/* STI in L2 with interrupt-window exiting: the exit comes after the instruction following STI. */
static void check_l2_sti_window(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT))
		return;
	prepare(l2_sti_nops);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT, 0);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_INTR_WINDOW))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_sti_nops_2);
	check_eq("blocking", intr_state() & 3, 0);
}

/* STI; CLI: IF is 0 again when the shadow ends, so no interrupt window opens. */
static void check_l2_sti_cli(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT))
		return;
	prepare(l2_sti_cli);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_INTR_WINDOW_EXIT, 0);
	check_eq("", vmx_run(vcpu), VMX_EXIT_VMCALL);
}

/* Without external-interrupt exiting a pending interrupt goes to L2 after STI's shadow. */
static void check_l2_sti_delivery(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	prepare(l2_sti_nops);
	l2_irq.eoi = true;
	if (!apic_pend(SHADOW_VECTOR)) {
		test_error("", "self-IPI %#x never became pending", SHADOW_VECTOR);
		return;
	}
	reason = vmx_run(vcpu);
	if (reason != VMX_EXIT_VMCALL) {
		test_error("", "expected L2 to reach VMCALL, exit %#x", reason);
		l1_drain(SHADOW_VECTOR);
		return;
	}
	if (check_eq("count", l2_irq.count, 1)) {
		check_eq("vector", l2_irq.vector, SHADOW_VECTOR);
		check_eq("rip", l2_irq.rip, (uint64_t)l2_sti_nops_2);
	}
	l1_drain(SHADOW_VECTOR);
}

/* ------------------------------------------------ VM-entry checks (27.3.1.5) */

struct entry_case {
	uint32_t intr;
	uint64_t rflags;
	uint32_t inject;	/* VM-entry interruption information */
	uint32_t activity;
	uint64_t pending_dbg;
	uint32_t pin;		/* pin-based controls to set */
};

static uint32_t entry_try(const struct entry_case *c, void *code)
{
	prepare(code);
	if (c->pin)
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, c->pin, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, c->intr);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | c->rflags);
	vmcs_write(VMCS_ENTRY_INTR_INFO, c->inject);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, c->activity);
	vmcs_write(VMCS_GUEST_PENDING_DBG, c->pending_dbg);
	return vmx_run(vcpu);
}

static void entry_fails(const char *what, const struct entry_case *c)
{
	uint32_t reason = entry_try(c, l2_nops);

	check_msg(reason == ENTRY_FAIL_GUEST, "", "%s: expected VM-entry failure %#x, got exit %#x", what,
		  ENTRY_FAIL_GUEST, reason);
	l2_irq_reset();
}

static void check_ec_sti_if_clear(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by STI with RFLAGS.IF = 0",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI });
}

/* Injecting an external interrupt needs RFLAGS.IF = 1 (27.3.1.4, "Checks on Guest RIP, RFLAGS"). */
static void check_ec_extint_if_clear(void)
{
	if (vmx_require_vmx())
		entry_fails("injected external interrupt with RFLAGS.IF = 0",
			    &(struct entry_case){ .inject = evt_info(EVT_EXT_INTR, SHADOW_VECTOR) });
}

static void check_ec_sti_and_movss(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by STI and by MOV SS together",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI | INTR_BLOCK_MOV_SS,
						  .rflags = X86_EFLAGS_IF });
}

static void check_ec_reserved(void)
{
	if (vmx_require_vmx())
		entry_fails("interruptibility bit 5 (reserved) set",
			    &(struct entry_case){ .intr = BIT(5) });
}

static void check_ec_smi_outside_smm(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by SMI outside SMM",
			    &(struct entry_case){ .intr = INTR_BLOCK_SMI });
}

static void check_ec_sti_extint(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by STI with an injected external interrupt",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI, .rflags = X86_EFLAGS_IF,
						  .inject = evt_info(EVT_EXT_INTR, SHADOW_VECTOR) });
}

static void check_ec_movss_extint(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by MOV SS with an injected external interrupt",
			    &(struct entry_case){ .intr = INTR_BLOCK_MOV_SS, .rflags = X86_EFLAGS_IF,
						  .inject = evt_info(EVT_EXT_INTR, SHADOW_VECTOR) });
}

static void check_ec_movss_nmi(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by MOV SS with an injected NMI",
			    &(struct entry_case){ .intr = INTR_BLOCK_MOV_SS,
						  .inject = evt_info(EVT_NMI, 2) });
}

/*
 * Blocking by STI with an injected NMI: "a processor may require bit 0 to be 0
 * ... other processors may not make this requirement" (27.3.1.5).  Either the
 * entry fails with reason 33, or it succeeds and the NMI is delivered (the
 * injection ignores blocking, 27.6; a vectoring entry has no STI blocking, 27.7.1).
 */
static void check_ec_sti_nmi(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	reason = entry_try(&(struct entry_case){ .intr = INTR_BLOCK_STI, .rflags = X86_EFLAGS_IF,
						 .inject = evt_info(EVT_NMI, 2) }, l2_nops);
	if (reason == ENTRY_FAIL_GUEST)
		info("entry_check.sti_nmi: this processor requires no STI blocking for NMI injection");
	check_msg(reason == ENTRY_FAIL_GUEST ||
		  (reason == VMX_EXIT_VMCALL && l2_irq.count == 1 && l2_irq.vector == 2), "",
		  "exit %#x, L2 handler count %u vector %#lx: expected entry failure 33, or the NMI "
		  "delivered to L2 and its VMCALL", reason, l2_irq.count, l2_irq.vector);
}

/* Pending debug exceptions: bits 11:4, 13, 15 and 63:17 are reserved. */
static void check_ec_pending_dbg_reserved(void)
{
	if (vmx_require_vmx())
		entry_fails("pending debug exceptions bit 4 (reserved) set",
			    &(struct entry_case){ .pending_dbg = BIT(4) });
}

/* Virtual NMIs: virtual-NMI blocking and an injected NMI cannot go together. */
static void check_ec_vnmi_blocked_nmi(void)
{
	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PIN, VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS))
		return;
	entry_fails("virtual-NMI blocking with an injected NMI",
		    &(struct entry_case){ .intr = INTR_BLOCK_NMI, .inject = evt_info(EVT_NMI, 2),
					  .pin = VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS });
}

static bool have_hlt_state(void)
{
	if (vmx_misc() & VMX_MISC_ACT_HLT)
		return true;
	skip("", "activity state HLT not supported (IA32_VMX_MISC[6])");
	return false;
}

/* An activity state other than active with blocking by STI or MOV SS fails. */
static void check_ec_hlt_sti(void)
{
	if (vmx_require_vmx() && have_hlt_state())
		entry_fails("activity HLT with blocking by STI",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI, .rflags = X86_EFLAGS_IF,
						  .activity = ACTIVITY_HLT });
}

static void check_ec_hlt_movss(void)
{
	if (vmx_require_vmx() && have_hlt_state())
		entry_fails("activity HLT with blocking by MOV SS",
			    &(struct entry_case){ .intr = INTR_BLOCK_MOV_SS, .activity = ACTIVITY_HLT });
}

/* Shadow with RFLAGS.TF = 1 (DEBUGCTL.BTF = 0): pending BS must be 1 ... */
static void check_ec_tf_without_bs(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by STI, RFLAGS.TF = 1, pending BS = 0",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI,
						  .rflags = X86_EFLAGS_IF | X86_EFLAGS_TF });
}

/* ... and 0 when RFLAGS.TF = 0. */
static void check_ec_bs_without_tf(void)
{
	if (vmx_require_vmx())
		entry_fails("blocking by STI, RFLAGS.TF = 0, pending BS = 1",
			    &(struct entry_case){ .intr = INTR_BLOCK_STI, .rflags = X86_EFLAGS_IF,
						  .pending_dbg = PENDING_DBG_BS });
}

/* The consistent combination enters: the pending single-step is delivered after the first instruction. */
static void check_ec_tf_with_bs(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	reason = entry_try(&(struct entry_case){ .intr = INTR_BLOCK_STI,
						 .rflags = X86_EFLAGS_IF | X86_EFLAGS_TF,
						 .pending_dbg = PENDING_DBG_BS }, l2_nops);
	if (!check_eq("reason", reason, VMX_EXIT_EXCEPTION))
		return;
	check_eq("vector", vmcs_read(VMCS_EXIT_INTR_INFO) & 0x7ff, (EVT_HW_EXC << 8) | X86_VEC_DB);
}

/* ------------------------------------------------ NMI window and MOV SS (26.7.6) */

static void check_nmi_window_movss(void)
{
	uint32_t pin = VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PIN, pin) ||
	    !vmx_require("", VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT))
		return;
	prepare(l2_nops);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PIN, pin, 0);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_NMI_WINDOW_EXIT, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS);
	if (check_eq("reason", vmx_run(vcpu), VMX_EXIT_NMI_WINDOW))
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nops_1);
}

/* ------------------------------------------------ MOV SS and single-step (Vol. 3A 6.8.3) */

/* Control: with TF = 1 and no shadow, #DB follows the first instruction. */
static void check_tf_plain(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_nops);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_TF);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXCEPTION))
		return;
	check_eq("vector", vmcs_read(VMCS_EXIT_INTR_INFO) & 0xff, X86_VEC_DB);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_nops_1);
}

/* MOV SS with TF = 1: the single-step #DB comes after the instruction following MOV SS. */
static void check_tf_movss(void)
{
	uint64_t qual;

	if (!vmx_require_vmx())
		return;
	prepare(l2_movss_nops);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_TF);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXCEPTION))
		return;
	check_eq("vector", vmcs_read(VMCS_EXIT_INTR_INFO) & 0xff, X86_VEC_DB);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_movss_nops_2);
	/* Exit qualification of #DB: DR6 bits, BS = bit 14 (28.2.1). */
	qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_msg(qual & PENDING_DBG_BS, "qual_bs", "exit qualification %#lx: expected BS", qual);
}

/* A VM exit inside the MOV SS shadow saves the held single-step as pending (BS) (28.3.4). */
static void check_tf_movss_pending(void)
{
	uint64_t pend;

	if (!vmx_require_vmx())
		return;
	prepare(l2_movss_cpuid);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_TF);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_CPUID))
		return;
	check_eq("blocking", intr_state() & 3, INTR_BLOCK_MOV_SS);
	pend = vmcs_read(VMCS_GUEST_PENDING_DBG);
	check_msg(pend & PENDING_DBG_BS, "pending_bs", "pending debug exceptions %#lx: expected BS", pend);
}

/* STI does not hold debug exceptions: #DB right after STI. */
static void check_tf_sti(void)
{
	if (!vmx_require_vmx())
		return;
	prepare(l2_sti_tf);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_TF);
	if (!check_eq("reason", vmx_run(vcpu), VMX_EXIT_EXCEPTION))
		return;
	check_eq("vector", vmcs_read(VMCS_EXIT_INTR_INFO) & 0xff, X86_VEC_DB);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_sti_tf_1);
}

static const struct check_entry checks[] = {
	{ "exit_state.sti", check_exit_sti },
	{ "exit_state.movss", check_exit_movss },
	{ "exit_state.clear", check_exit_none },
	{ "entry_window.none", check_entry_window_none },
	{ "entry_window.sti", check_entry_window_sti },
	{ "entry_window.movss", check_entry_window_movss },
	{ "entry_window.if_clear", check_entry_window_if_clear },
	{ "entry_extint.sti", check_entry_sti_extint },
	{ "l2_sti.window", check_l2_sti_window },
	{ "l2_sti.cli", check_l2_sti_cli },
	{ "l2_sti.delivery", check_l2_sti_delivery },
	{ "entry_check.sti_if_clear", check_ec_sti_if_clear },
	{ "entry_check.sti_and_movss", check_ec_sti_and_movss },
	{ "entry_check.extint_if_clear", check_ec_extint_if_clear },
	{ "entry_check.reserved_bit5", check_ec_reserved },
	{ "entry_check.smi_outside_smm", check_ec_smi_outside_smm },
	{ "entry_check.sti_extint", check_ec_sti_extint },
	{ "entry_check.movss_extint", check_ec_movss_extint },
	{ "entry_check.movss_nmi", check_ec_movss_nmi },
	{ "entry_check.sti_nmi", check_ec_sti_nmi },
	{ "entry_check.pending_dbg_reserved", check_ec_pending_dbg_reserved },
	{ "entry_check.vnmi_blocked_nmi", check_ec_vnmi_blocked_nmi },
	{ "entry_check.hlt_sti", check_ec_hlt_sti },
	{ "entry_check.hlt_movss", check_ec_hlt_movss },
	{ "entry_check.tf_without_bs", check_ec_tf_without_bs },
	{ "entry_check.bs_without_tf", check_ec_bs_without_tf },
	{ "entry_check.tf_with_bs", check_ec_tf_with_bs },
	{ "nmi_window.movss", check_nmi_window_movss },
	{ "single_step.plain", check_tf_plain },
	{ "single_step.movss", check_tf_movss },
	{ "single_step.movss_exit_pending", check_tf_movss_pending },
	{ "single_step.sti", check_tf_sti },
};

DEFINE_TEST("vmx_shadow", checks, .setup = setup);
