/*
 * VM exits caused by instruction execution (SDM Vol. 3C 26.1, "Instructions
 * That Cause VM Exits": 26.1.2 unconditionally, 26.1.3 conditionally), with
 * the information the exit saves (28.2.1, "Basic VM-Exit Information":
 * exit reason, exit qualification, VM-exit instruction length; 28.2.5 for
 * the VM-exit instruction-information field) and the guest RIP pointing at
 * the exiting instruction (28.3.3, faults-like: RIP not advanced).
 *
 * For each instruction: NAME.reason, NAME.rip, NAME.len (and .qual.*,
 * .info.* where defined) with the control set; NAME.clear: with the control
 * clear the instruction runs in L2 and L2 reaches its VMCALL (only where
 * running it there is safe: not HLT, MWAIT, LGDT/LIDT/LLDT/LTR).
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

static struct vmx_vcpu *vcpu;
static char mem[64] __aligned(16);	/* memory operands of L2 */

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
}

/* A fresh VMCS at @code with @set/@clear in control word @which; false (skipped) when unavailable. */
static bool prepare(void *code, enum vmx_ctls which, uint32_t set, uint32_t clear)
{
	if (!vmx_require_vmx())
		return false;
	vmx_vcpu_reset(vcpu, code);
	if (!set && !clear)
		return true;
	if (!vmx_require("", which, set))
		return false;
	if (!vmx_vcpu_set_ctls(vcpu, which, set, clear)) {
		skip("", "control bits %#x of control word %d cannot be 0 (allowed-0 settings)",
		     clear, which);
		return false;
	}
	return true;
}

static bool has_feature(struct cpu_feature f, const char *what)
{
	if (!cpu_has(f))
		skip("", "CPUID lacks %s", what);
	return cpu_has(f);
}

/* ------------------------------------------------------------ unconditional (26.1.2) */

VMX_L2_CODE(l2_cpuid, "cpuid");
VMX_L2_CODE(l2_invd, "invd");
VMX_L2_CODE(l2_xsetbv, "xsetbv");
VMX_L2_CODE(l2_vmcall, "");

/* CPUID exits unconditionally (26.1.2), reason 10. */
static void check_cpuid(void)
{
	if (prepare(l2_cpuid, VMX_CTLS_PROC, 0, 0))
		vmx_check_exit(vcpu, VMX_EXIT_CPUID, l2_cpuid, 2);
}

/* CPUID exits whatever leaf is asked for, also leaves beyond the maximum. */
static void check_cpuid_leaf(void)
{
	if (!prepare(l2_cpuid, VMX_CTLS_PROC, 0, 0))
		return;
	vcpu->regs.rax = 0x4fffffff;
	vcpu->regs.rcx = 7;
	vmx_check_exit(vcpu, VMX_EXIT_CPUID, l2_cpuid, 2);
	check_eq("rax_untouched", vcpu->regs.rax, 0x4fffffff);
}

/* INVD exits unconditionally, reason 13. */
static void check_invd(void)
{
	if (prepare(l2_invd, VMX_CTLS_PROC, 0, 0))
		vmx_check_exit(vcpu, VMX_EXIT_INVD, l2_invd, 2);
}

/* XSETBV exits unconditionally, reason 55 (with CR4.OSXSAVE = 1 in L2, else #UD first). */
static void check_xsetbv(void)
{
	if (!prepare(l2_xsetbv, VMX_CTLS_PROC, 0, 0) || !has_feature(X86_FEATURE_XSAVE, "XSAVE"))
		return;
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & X86_CR4_OSXSAVE)) {
		skip("", "IA32_VMX_CR4_FIXED1 does not allow CR4.OSXSAVE");
		return;
	}
	vmcs_update(VMCS_GUEST_CR4, 0, X86_CR4_OSXSAVE);
	vcpu->regs.rax = 1;	/* XCR0 = x87 only */
	vmx_check_exit(vcpu, VMX_EXIT_XSETBV, l2_xsetbv, 3);
}

/* VMCALL in VMX non-root operation exits, reason 18 (26.1.2; 31.3 VMCALL). */
static void check_vmcall(void)
{
	if (prepare(l2_vmcall, VMX_CTLS_PROC, 0, 0))
		vmx_check_exit(vcpu, VMX_EXIT_VMCALL, l2_vmcall, 3);
}

/* ------------------------------------------------------------ primary controls (26.1.3) */

VMX_L2_CODE(l2_hlt, "hlt");
VMX_L2_CODE(l2_invlpg, "invlpg (%rax)");
VMX_L2_CODE(l2_invlpg_r9, "invlpg 0x40(%r9)");
VMX_L2_CODE(l2_rdtsc, "rdtsc");
VMX_L2_CODE(l2_rdtscp, "rdtscp");
VMX_L2_CODE(l2_rdpmc, "rdpmc");
VMX_L2_CODE(l2_monitor, "monitor");
VMX_L2_CODE(l2_mwait, "mwait");
VMX_L2_CODE(l2_pause, "pause");
VMX_L2_CODE(l2_pause_loop, "1: pause; dec %ecx; jnz 1b");

/* HLT exiting: reason 12.  (HLT with the control clear would halt L2: not run.) */
static void check_hlt(void)
{
	if (prepare(l2_hlt, VMX_CTLS_PROC, VMX_PROC_HLT_EXIT, 0))
		vmx_check_exit(vcpu, VMX_EXIT_HLT, l2_hlt, 1);
}

/* INVLPG exiting: reason 14, qualification = the linear-address operand (28.2.1). */
static void check_invlpg(void)
{
	if (!prepare(l2_invlpg, VMX_CTLS_PROC, VMX_PROC_INVLPG_EXIT, 0))
		return;
	vcpu->regs.rax = 0x12345678abcull;
	if (vmx_check_exit(vcpu, VMX_EXIT_INVLPG, l2_invlpg, 3))
		check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), 0x12345678abcull);
}

/* The qualification is the effective linear address (base + displacement). */
static void check_invlpg_disp(void)
{
	if (!prepare(l2_invlpg_r9, VMX_CTLS_PROC, VMX_PROC_INVLPG_EXIT, 0))
		return;
	vcpu->regs.r9 = 0x7000;
	if (vmx_check_exit(vcpu, VMX_EXIT_INVLPG, l2_invlpg_r9, 5))
		check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), 0x7040);
}

static void check_invlpg_clear(void)
{
	if (!prepare(l2_invlpg, VMX_CTLS_PROC, 0, VMX_PROC_INVLPG_EXIT))
		return;
	vcpu->regs.rax = (uint64_t)mem;
	vmx_check_runs_to(vcpu, "", l2_invlpg_end);
}

/* RDTSC exiting: reason 16. */
static void check_rdtsc(void)
{
	if (prepare(l2_rdtsc, VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT, 0))
		vmx_check_exit(vcpu, VMX_EXIT_RDTSC, l2_rdtsc, 2);
}

static void check_rdtsc_clear(void)
{
	if (!prepare(l2_rdtsc, VMX_CTLS_PROC, 0, VMX_PROC_RDTSC_EXIT))
		return;
	vcpu->regs.rax = vcpu->regs.rdx = 0xdead;
	if (vmx_check_runs_to(vcpu, "", l2_rdtsc_end))
		check(vcpu->regs.rdx != 0xdead || vcpu->regs.rax != 0xdead, "loaded");
}

/* RDTSCP exits with reason 51 when "RDTSC exiting" and "enable RDTSCP" are 1. */
static void check_rdtscp(void)
{
	if (!prepare(l2_rdtscp, VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT, 0) ||
	    !has_feature(X86_FEATURE_RDTSCP, "RDTSCP") ||
	    !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_RDTSCP))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_RDTSCP, 0);
	vmx_check_exit(vcpu, VMX_EXIT_RDTSCP, l2_rdtscp, 3);
}

static void check_rdtscp_clear(void)
{
	if (!prepare(l2_rdtscp, VMX_CTLS_PROC, 0, VMX_PROC_RDTSC_EXIT) ||
	    !has_feature(X86_FEATURE_RDTSCP, "RDTSCP") ||
	    !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_RDTSCP))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_RDTSCP, 0);
	vmx_check_runs_to(vcpu, "", l2_rdtscp_end);
}

/* "Enable RDTSCP" = 0: RDTSCP raises #UD (25.6.2), here an exception exit with vector 6. */
static void check_rdtscp_disabled(void)
{
	uint32_t r;

	if (!prepare(l2_rdtscp, VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT, 0) ||
	    !has_feature(X86_FEATURE_RDTSCP, "RDTSCP"))
		return;
	if (vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY))
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, 0, VMX_PROC2_RDTSCP);
	r = vmx_run(vcpu);
	check_msg(r == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & (VMX_INTR_INFO_VALID | 0xff)) ==
			  (VMX_INTR_INFO_VALID | X86_VEC_UD), "",
		  "expected an exception exit with #UD, got %s", vmx_exit_str(vcpu, r));
}

/* RDPMC exiting: reason 15. */
static void check_rdpmc(void)
{
	if (prepare(l2_rdpmc, VMX_CTLS_PROC, VMX_PROC_RDPMC_EXIT, 0))
		vmx_check_exit(vcpu, VMX_EXIT_RDPMC, l2_rdpmc, 2);
}

/*
 * With the control clear RDPMC does not exit with reason 15: it runs (or
 * raises #GP for a counter that does not exist, an exception exit here).
 */
static void check_rdpmc_clear(void)
{
	uint32_t r;

	if (!prepare(l2_rdpmc, VMX_CTLS_PROC, 0, VMX_PROC_RDPMC_EXIT))
		return;
	r = vmx_run(vcpu);
	check_msg(r == VMX_EXIT_VMCALL || r == VMX_EXIT_EXCEPTION, "",
		  "expected RDPMC to run (or fault) in L2, got %s", vmx_exit_str(vcpu, r));
}

/* MONITOR exiting: reason 39. */
static void check_monitor(void)
{
	if (!prepare(l2_monitor, VMX_CTLS_PROC, VMX_PROC_MONITOR_EXIT, 0) ||
	    !has_feature(CPU_FEATURE(1, 0, 2, 3), "MONITOR/MWAIT (CPUID.1:ECX[3])"))
		return;
	vcpu->regs.rax = (uint64_t)mem;
	vmx_check_exit(vcpu, VMX_EXIT_MONITOR, l2_monitor, 3);
}

static void check_monitor_clear(void)
{
	if (!prepare(l2_monitor, VMX_CTLS_PROC, 0, VMX_PROC_MONITOR_EXIT) ||
	    !has_feature(CPU_FEATURE(1, 0, 2, 3), "MONITOR/MWAIT (CPUID.1:ECX[3])"))
		return;
	vcpu->regs.rax = (uint64_t)mem;
	vmx_check_runs_to(vcpu, "", l2_monitor_end);
}

/* MWAIT exiting: reason 36.  (MWAIT with the control clear may sleep: not run.) */
static void check_mwait(void)
{
	if (!prepare(l2_mwait, VMX_CTLS_PROC, VMX_PROC_MWAIT_EXIT, 0) ||
	    !has_feature(CPU_FEATURE(1, 0, 2, 3), "MONITOR/MWAIT (CPUID.1:ECX[3])"))
		return;
	vmx_check_exit(vcpu, VMX_EXIT_MWAIT, l2_mwait, 3);
}

/* PAUSE exiting: reason 40. */
static void check_pause(void)
{
	if (prepare(l2_pause, VMX_CTLS_PROC, VMX_PROC_PAUSE_EXIT, 0))
		vmx_check_exit(vcpu, VMX_EXIT_PAUSE, l2_pause, 2);
}

static void check_pause_clear(void)
{
	if (prepare(l2_pause, VMX_CTLS_PROC, 0, VMX_PROC_PAUSE_EXIT))
		vmx_check_runs_to(vcpu, "", l2_pause_end);
}

/*
 * PAUSE-loop exiting (secondary, CPL 0 only): a loop of PAUSEs whose gaps stay
 * within PLE_Gap exits with reason 40 once it has lasted longer than
 * PLE_Window (26.1.3).  The loop is bounded: finishing it means no exit.
 */
static void check_pause_loop(void)
{
	if (!prepare(l2_pause_loop, VMX_CTLS_PROC, 0, VMX_PROC_PAUSE_EXIT) ||
	    !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_PAUSE_LOOP_EXIT))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_PAUSE_LOOP_EXIT, 0);
	vmcs_write(VMCS_PLE_GAP, 0x100000);
	vmcs_write(VMCS_PLE_WINDOW, 0x1000);
	vcpu->regs.rcx = 2000000;
	if (vmx_check_exit(vcpu, VMX_EXIT_PAUSE, l2_pause_loop, 2))
		check_msg(vcpu->regs.rcx > 0, "in_loop", "exit after the loop ended");
}

/* ------------------------------------------------------------ control registers and DRs */

VMX_L2_CODE(l2_mov_to_cr3, "mov %rbx, %cr3");
VMX_L2_CODE(l2_mov_from_cr3, "mov %cr3, %rcx");
VMX_L2_CODE(l2_mov_to_cr8, "mov %rdx, %cr8");
VMX_L2_CODE(l2_mov_from_cr8, "mov %cr8, %rsi");
VMX_L2_CODE(l2_mov_to_cr8_r12, "mov %r12, %cr8");
VMX_L2_CODE(l2_mov_to_dr0, "mov %rbx, %dr0");
VMX_L2_CODE(l2_mov_from_dr7, "mov %dr7, %rdx");
VMX_L2_CODE(l2_mov_from_dr3_r10, "mov %dr3, %r10");

static void check_cr_qual(unsigned cr, unsigned type, unsigned gpr)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	check_eq("qual.cr", VMX_QUAL_CR_NUM(q), cr);
	check_eq("qual.type", VMX_QUAL_CR_TYPE(q), type);
	check_eq("qual.gpr", VMX_QUAL_CR_GPR(q), gpr);
}

/* CR3-load exiting: MOV to CR3 exits with reason 28, CR 3, type 0 (MOV to CR), the GPR. */
static void check_cr3_load(void)
{
	if (!prepare(l2_mov_to_cr3, VMX_CTLS_PROC, VMX_PROC_CR3_LOAD_EXIT, 0))
		return;
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vcpu->regs.rbx = read_cr3();
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_to_cr3, 3))
		check_cr_qual(3, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RBX);
}

static void check_cr3_load_clear(void)
{
	if (!prepare(l2_mov_to_cr3, VMX_CTLS_PROC, 0, VMX_PROC_CR3_LOAD_EXIT))
		return;
	vcpu->regs.rbx = read_cr3();
	vmx_check_runs_to(vcpu, "", l2_mov_to_cr3_end);
}

/*
 * The CR3-target list: MOV to CR3 of a value among the first CR3-target-count
 * targets does not exit; other values, and targets beyond the count, do.
 * @slot: the target that holds the value L2 loads (-1: none).
 */
static void cr3_target(unsigned count, int slot, bool hit)
{
	unsigned max;

	if (!prepare(l2_mov_to_cr3, VMX_CTLS_PROC, VMX_PROC_CR3_LOAD_EXIT, 0))
		return;
	max = (rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff;
	if (max < 4) {
		skip("", "IA32_VMX_MISC[24:16] allows %u CR3 targets, the check needs 4", max);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_CR3_TARGET0 + 2 * i, 0x1000 * (i + 1));
	if (slot >= 0)
		vmcs_write(VMCS_CR3_TARGET0 + 2 * slot, read_cr3());
	vmcs_write(VMCS_CR3_TARGET_COUNT, count);
	vcpu->regs.rbx = read_cr3();
	if (hit)
		vmx_check_runs_to(vcpu, "", l2_mov_to_cr3_end);
	else if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_to_cr3, 3))
		check_cr_qual(3, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RBX);
}

static void check_cr3_target0(void)
{
	cr3_target(1, 0, true);
}

static void check_cr3_target3(void)
{
	cr3_target(4, 3, true);
}

static void check_cr3_target_beyond_count(void)
{
	cr3_target(3, 3, false);
}

static void check_cr3_target_miss(void)
{
	cr3_target(4, -1, false);
}

/* CR3-store exiting: MOV from CR3 exits with reason 28, CR 3, type 1 (MOV from CR), the GPR. */
static void check_cr3_store(void)
{
	if (!prepare(l2_mov_from_cr3, VMX_CTLS_PROC, VMX_PROC_CR3_STORE_EXIT, 0))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_from_cr3, 3))
		check_cr_qual(3, VMX_QUAL_CR_TYPE_MOV_FROM, VMX_GPR_RCX);
}

static void check_cr3_store_clear(void)
{
	if (!prepare(l2_mov_from_cr3, VMX_CTLS_PROC, 0, VMX_PROC_CR3_STORE_EXIT))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_mov_from_cr3_end))
		check_eq("value", vcpu->regs.rcx, vmcs_read(VMCS_GUEST_CR3));
}

/* CR8-load/store exiting (64-bit L2, no TPR shadow): reason 28 with CR 8. */
static void check_cr8_load(void)
{
	if (!prepare(l2_mov_to_cr8, VMX_CTLS_PROC, VMX_PROC_CR8_LOAD_EXIT, VMX_PROC_TPR_SHADOW))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_to_cr8, 4))
		check_cr_qual(8, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RDX);
}

/* MOV to CR8 from R12: REX.R form, GPR 12 in the qualification. */
static void check_cr8_load_r12(void)
{
	if (!prepare(l2_mov_to_cr8_r12, VMX_CTLS_PROC, VMX_PROC_CR8_LOAD_EXIT, VMX_PROC_TPR_SHADOW))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_to_cr8_r12, 4))
		check_cr_qual(8, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_R12);
}

static void check_cr8_store(void)
{
	if (!prepare(l2_mov_from_cr8, VMX_CTLS_PROC, VMX_PROC_CR8_STORE_EXIT, VMX_PROC_TPR_SHADOW))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_from_cr8, 4))
		check_cr_qual(8, VMX_QUAL_CR_TYPE_MOV_FROM, VMX_GPR_RSI);
}

static void check_cr8_clear(void)
{
	if (!prepare(l2_mov_from_cr8, VMX_CTLS_PROC, 0,
		     VMX_PROC_CR8_LOAD_EXIT | VMX_PROC_CR8_STORE_EXIT | VMX_PROC_TPR_SHADOW))
		return;
	vcpu->regs.rsi = 0xdead;
	if (vmx_check_runs_to(vcpu, "store", l2_mov_from_cr8_end))
		check_eq("store.value", vcpu->regs.rsi, read_cr8());
	vmx_vcpu_reset(vcpu, l2_mov_to_cr8);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, 0,
			  VMX_PROC_CR8_LOAD_EXIT | VMX_PROC_CR8_STORE_EXIT | VMX_PROC_TPR_SHADOW);
	vcpu->regs.rdx = read_cr8();
	vmx_check_runs_to(vcpu, "load", l2_mov_to_cr8_end);
}

/*
 * With "use TPR shadow" (and the CR8 exits clear) MOV from CR8 reads bits 7:4
 * of VTPR in the virtual-APIC page and MOV to CR8 writes them, without an
 * exit (29.3, "Virtualizing CR8-Based TPR Accesses"); the CR8-store exiting
 * control still makes MOV from CR8 exit.
 */
static bool tpr_shadow_prepare(void *code, uint8_t **vapic, uint32_t set)
{
	if (!prepare(code, VMX_CTLS_PROC, VMX_PROC_TPR_SHADOW | set,
		     (VMX_PROC_CR8_LOAD_EXIT | VMX_PROC_CR8_STORE_EXIT) & ~set))
		return false;
	*vapic = alloc_page();
	(*vapic)[0x80] = 0x50;
	vmcs_write(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)*vapic);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
	return true;
}

static void check_tpr_shadow_read(void)
{
	uint8_t *vapic;

	if (!tpr_shadow_prepare(l2_mov_from_cr8, &vapic, 0))
		return;
	if (vmx_check_runs_to(vcpu, "", l2_mov_from_cr8_end))
		check_eq("value", vcpu->regs.rsi, 5);
	free_page(vapic);
}

static void check_tpr_shadow_write(void)
{
	uint8_t *vapic;

	if (!tpr_shadow_prepare(l2_mov_to_cr8, &vapic, 0))
		return;
	vcpu->regs.rdx = 3;
	if (vmx_check_runs_to(vcpu, "", l2_mov_to_cr8_end))
		check_eq("vtpr", vapic[0x80], 0x30);
	free_page(vapic);
}

static void check_tpr_shadow_store_exit(void)
{
	uint8_t *vapic;

	if (!tpr_shadow_prepare(l2_mov_from_cr8, &vapic, VMX_PROC_CR8_STORE_EXIT))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_from_cr8, 4))
		check_cr_qual(8, VMX_QUAL_CR_TYPE_MOV_FROM, VMX_GPR_RSI);
	free_page(vapic);
}

/* With the TPR shadow, CR8-load exiting still makes MOV to CR8 exit. */
static void check_tpr_shadow_load_exit(void)
{
	uint8_t *vapic;

	if (!tpr_shadow_prepare(l2_mov_to_cr8, &vapic, VMX_PROC_CR8_LOAD_EXIT))
		return;
	vcpu->regs.rdx = 3;
	if (vmx_check_exit(vcpu, VMX_EXIT_CR_ACCESS, l2_mov_to_cr8, 4)) {
		check_cr_qual(8, VMX_QUAL_CR_TYPE_MOV_TO, VMX_GPR_RDX);
		check_eq("vtpr_kept", vapic[0x80], 0x50);
	}
	free_page(vapic);
}

/*
 * With the TPR shadow, a MOV to CR8 that drops VTPR[7:4] below TPR-threshold
 * bits 3:0 completes, then exits with reason 43 (trap-like: RIP past the
 * instruction) (29.1.2, "TPR Virtualization").
 */
static void check_tpr_shadow_below_threshold(void)
{
	uint8_t *vapic;
	uint32_t r;

	if (!tpr_shadow_prepare(l2_mov_to_cr8, &vapic, 0))
		return;
	vmcs_write(VMCS_TPR_THRESHOLD, 4);
	vcpu->regs.rdx = 2;
	r = vmx_run(vcpu);
	if (check_msg(r == VMX_EXIT_TPR_BELOW_THRESHOLD, "reason",
		      "expected exit reason 43, got %s", vmx_exit_str(vcpu, r))) {
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_mov_to_cr8_end);
		check_eq("vtpr", vapic[0x80], 0x20);
	}
	free_page(vapic);
}

/* MOV-DR exiting: reason 29, qualification DR number, direction (bit 4: 1 = MOV from DR), GPR. */
static void check_dr_qual(unsigned dr, bool from, unsigned gpr)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	check_eq("qual.dr", VMX_QUAL_DR_NUM(q), dr);
	check_eq("qual.from", !!(q & VMX_QUAL_DR_FROM), from);
	check_eq("qual.gpr", VMX_QUAL_DR_GPR(q), gpr);
}

static void check_mov_to_dr0(void)
{
	if (!prepare(l2_mov_to_dr0, VMX_CTLS_PROC, VMX_PROC_MOV_DR_EXIT, 0))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_DR_ACCESS, l2_mov_to_dr0, 3))
		check_dr_qual(0, false, VMX_GPR_RBX);
}

static void check_mov_from_dr7(void)
{
	if (!prepare(l2_mov_from_dr7, VMX_CTLS_PROC, VMX_PROC_MOV_DR_EXIT, 0))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_DR_ACCESS, l2_mov_from_dr7, 3))
		check_dr_qual(7, true, VMX_GPR_RDX);
}

static void check_mov_from_dr3_r10(void)
{
	if (!prepare(l2_mov_from_dr3_r10, VMX_CTLS_PROC, VMX_PROC_MOV_DR_EXIT, 0))
		return;
	if (vmx_check_exit(vcpu, VMX_EXIT_DR_ACCESS, l2_mov_from_dr3_r10, 4))
		check_dr_qual(3, true, VMX_GPR_R10);
}

/*
 * With MOV-DR exiting clear, MOV from DR7 reads the guest's DR7, which VM
 * entry loaded from the VMCS ("load debug controls", 27.3.2.1).
 */
static void check_mov_dr_clear(void)
{
	if (!prepare(l2_mov_from_dr7, VMX_CTLS_PROC, 0, VMX_PROC_MOV_DR_EXIT) ||
	    !vmx_require("", VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_DEBUG))
		return;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, VMX_ENTRY_LOAD_DEBUG, 0);
	vmcs_write(VMCS_GUEST_DR7, 0x401);
	if (vmx_check_runs_to(vcpu, "", l2_mov_from_dr7_end))
		check_eq("value", vcpu->regs.rdx, 0x401);
}

/* ------------------------------------------------------------ secondary controls */

VMX_L2_CODE(l2_wbinvd, "wbinvd");
VMX_L2_CODE(l2_rdrand_ecx, "rdrand %ecx");
VMX_L2_CODE(l2_rdrand_r9, "rdrand %r9");
VMX_L2_CODE(l2_rdrand_dx, "rdrand %dx");
VMX_L2_CODE(l2_rdseed_rdx, "rdseed %rdx");
VMX_L2_CODE(l2_rdseed_r14d, "rdseed %r14d");
VMX_L2_CODE(l2_rdseed_ax, "rdseed %ax");

static bool prepare2(void *code, uint32_t set, uint32_t clear)
{
	if (!vmx_require_vmx())
		return false;
	vmx_vcpu_reset(vcpu, code);
	if (!vmx_require("", VMX_CTLS_PROC2, set | clear))
		return false;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, set, clear);
	return true;
}

/* WBINVD exiting: reason 54. */
static void check_wbinvd(void)
{
	if (prepare2(l2_wbinvd, VMX_PROC2_WBINVD_EXIT, 0))
		vmx_check_exit(vcpu, VMX_EXIT_WBINVD, l2_wbinvd, 2);
}

static void check_wbinvd_clear(void)
{
	if (prepare2(l2_wbinvd, 0, VMX_PROC2_WBINVD_EXIT))
		vmx_check_runs_to(vcpu, "", l2_wbinvd_end);
}

/*
 * RDRAND/RDSEED exiting: reasons 57/61; instruction information bits 6:3 the
 * destination register, bits 12:11 the operand size (0 16-bit, 1 32-bit,
 * 2 64-bit) (28.2.5, Table 28-13).
 */
static void rand_exit(void *code, uint32_t ctl, uint32_t reason, unsigned len, unsigned reg,
		      unsigned opsize, bool seed)
{
	struct vmx_insn_info ii;

	if (!has_feature(seed ? CPU_FEATURE(7, 0, 1, 18) : CPU_FEATURE(1, 0, 2, 30),
			 seed ? "RDSEED" : "RDRAND") || !prepare2(code, ctl, 0))
		return;
	if (!vmx_check_exit(vcpu, reason, code, len))
		return;
	ii = vmx_exit_insn_info();
	check_eq("info.reg", ii.reg1, reg);
	check_eq("info.opsize", ii.rdrand_opsize, opsize);
}

static void check_rdrand_ecx(void)
{
	rand_exit(l2_rdrand_ecx, VMX_PROC2_RDRAND_EXIT, VMX_EXIT_RDRAND, 3, VMX_GPR_RCX, 1, false);
}

static void check_rdrand_r9(void)
{
	rand_exit(l2_rdrand_r9, VMX_PROC2_RDRAND_EXIT, VMX_EXIT_RDRAND, 4, VMX_GPR_R9, 2, false);
}

static void check_rdrand_dx(void)
{
	rand_exit(l2_rdrand_dx, VMX_PROC2_RDRAND_EXIT, VMX_EXIT_RDRAND, 4, VMX_GPR_RDX, 0, false);
}

static void check_rdseed_rdx(void)
{
	rand_exit(l2_rdseed_rdx, VMX_PROC2_RDSEED_EXIT, VMX_EXIT_RDSEED, 4, VMX_GPR_RDX, 2, true);
}

static void check_rdseed_r14d(void)
{
	rand_exit(l2_rdseed_r14d, VMX_PROC2_RDSEED_EXIT, VMX_EXIT_RDSEED, 4, VMX_GPR_R14, 1, true);
}

static void check_rdseed_ax(void)
{
	rand_exit(l2_rdseed_ax, VMX_PROC2_RDSEED_EXIT, VMX_EXIT_RDSEED, 4, VMX_GPR_RAX, 0, true);
}

static void check_rdrand_clear(void)
{
	if (!has_feature(CPU_FEATURE(1, 0, 2, 30), "RDRAND") ||
	    !prepare2(l2_rdrand_ecx, 0, VMX_PROC2_RDRAND_EXIT))
		return;
	vmx_check_runs_to(vcpu, "", l2_rdrand_ecx_end);
}

static void check_rdseed_clear(void)
{
	if (!has_feature(CPU_FEATURE(7, 0, 1, 18), "RDSEED") ||
	    !prepare2(l2_rdseed_rdx, 0, VMX_PROC2_RDSEED_EXIT))
		return;
	vmx_check_runs_to(vcpu, "", l2_rdseed_rdx_end);
}

/* RDRAND exiting does not make RDSEED exit (each has its own control). */
static void check_rdseed_not_rdrand(void)
{
	if (!has_feature(CPU_FEATURE(7, 0, 1, 18), "RDSEED") ||
	    !prepare2(l2_rdseed_rdx, VMX_PROC2_RDRAND_EXIT, VMX_PROC2_RDSEED_EXIT))
		return;
	vmx_check_runs_to(vcpu, "", l2_rdseed_rdx_end);
}

/*
 * Descriptor-table exiting: SGDT/SIDT/LGDT/LIDT exit with reason 46,
 * SLDT/STR/LLDT/LTR with 47; the qualification holds the displacement of a
 * memory operand (28.2.1); instruction information: scale, address size,
 * register/memory, segment, index, base, identity in bits 29:28 (Tables
 * 28-10, 28-11).
 */
VMX_L2_CODE(l2_sgdt, "sgdt 0x10(%rbx,%rsi,4)");
VMX_L2_CODE(l2_sidt_fs, "sidt %fs:(%rax)");
VMX_L2_CODE(l2_lgdt, "lgdt (%rdi)");
VMX_L2_CODE(l2_lidt, "lidt -8(%r11,%r12,8)");
VMX_L2_CODE(l2_sldt, "sldt %eax");
VMX_L2_CODE(l2_str_r13, "str %r13d");
VMX_L2_CODE(l2_lldt, "lldt %dx");
VMX_L2_CODE(l2_ltr, "ltr (%rcx)");
VMX_L2_CODE(l2_sgdt_addr32, "addr32 sgdt (%ebx)");

struct desc_case {
	void *code;
	uint32_t reason;
	unsigned len;
	unsigned identity;
	bool is_reg;
	unsigned reg;			/* register operand */
	int base, index;		/* -1: invalid */
	unsigned scale, seg, addr_size;
	uint64_t disp;
};

static void desc_exit(const struct desc_case *c)
{
	struct vmx_insn_info ii;

	if (!prepare2(c->code, VMX_PROC2_DESC_TABLE_EXIT, 0))
		return;
	vcpu->regs.rbx = vcpu->regs.rsi = vcpu->regs.rax = vcpu->regs.rdi = (uint64_t)mem;
	vcpu->regs.rcx = vcpu->regs.r11 = (uint64_t)mem;
	if (!vmx_check_exit(vcpu, c->reason, c->code, c->len))
		return;
	ii = vmx_exit_insn_info();
	check_eq("info.identity", ii.identity, c->identity);
	check_eq("info.is_reg", ii.is_reg, c->is_reg);
	if (c->is_reg) {
		check_eq("info.reg", ii.reg1, c->reg);
		return;
	}
	check_eq("info.addr_size", ii.addr_size, c->addr_size);
	check_eq("info.seg", ii.seg, c->seg);
	check_eq("info.base_valid", ii.base_valid, c->base >= 0);
	if (c->base >= 0)
		check_eq("info.base", ii.base, c->base);
	check_eq("info.index_valid", ii.index_valid, c->index >= 0);
	if (c->index >= 0) {
		check_eq("info.index", ii.index, c->index);
		check_eq("info.scale", ii.scale, c->scale);
	}
	check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), c->disp);
}

static void check_desc_sgdt(void)
{
	desc_exit(&(struct desc_case){ l2_sgdt, VMX_EXIT_GDTR_IDTR, 5, VMX_INSN_SGDT, false, 0,
				       VMX_GPR_RBX, VMX_GPR_RSI, 2, VMX_SEG_DS, 2, 0x10 });
}

static void check_desc_sidt(void)
{
	desc_exit(&(struct desc_case){ l2_sidt_fs, VMX_EXIT_GDTR_IDTR, 4, VMX_INSN_SIDT, false, 0,
				       VMX_GPR_RAX, -1, 0, VMX_SEG_FS, 2, 0 });
}

static void check_desc_lgdt(void)
{
	desc_exit(&(struct desc_case){ l2_lgdt, VMX_EXIT_GDTR_IDTR, 3, VMX_INSN_LGDT, false, 0,
				       VMX_GPR_RDI, -1, 0, VMX_SEG_DS, 2, 0 });
}

static void check_desc_lidt(void)
{
	desc_exit(&(struct desc_case){ l2_lidt, VMX_EXIT_GDTR_IDTR, 6, VMX_INSN_LIDT, false, 0,
				       VMX_GPR_R11, VMX_GPR_R12, 3, VMX_SEG_DS, 2,
				       (uint64_t)-8 });
}

static void check_desc_sgdt_addr32(void)
{
	desc_exit(&(struct desc_case){ l2_sgdt_addr32, VMX_EXIT_GDTR_IDTR, 4, VMX_INSN_SGDT,
				       false, 0, VMX_GPR_RBX, -1, 0, VMX_SEG_DS, 1, 0 });
}

static void check_desc_sldt(void)
{
	desc_exit(&(struct desc_case){ l2_sldt, VMX_EXIT_LDTR_TR, 3, VMX_INSN_SLDT, true,
				       VMX_GPR_RAX });
}

static void check_desc_str(void)
{
	desc_exit(&(struct desc_case){ l2_str_r13, VMX_EXIT_LDTR_TR, 4, VMX_INSN_STR, true,
				       VMX_GPR_R13 });
}

static void check_desc_lldt(void)
{
	desc_exit(&(struct desc_case){ l2_lldt, VMX_EXIT_LDTR_TR, 3, VMX_INSN_LLDT, true,
				       VMX_GPR_RDX });
}

static void check_desc_ltr(void)
{
	desc_exit(&(struct desc_case){ l2_ltr, VMX_EXIT_LDTR_TR, 3, VMX_INSN_LTR, false, 0,
				       VMX_GPR_RCX, -1, 0, VMX_SEG_DS, 2, 0 });
}

/* With the control clear SGDT and SLDT run in L2 (SGDT stores the guest's GDTR). */
static void check_desc_clear(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed *d = (void *)(mem + 0x10);

	if (!prepare2(l2_sgdt, 0, VMX_PROC2_DESC_TABLE_EXIT))
		return;
	memset(mem, 0, sizeof(mem));
	vcpu->regs.rbx = (uint64_t)mem;
	vcpu->regs.rsi = 0;
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0x2f7);
	if (vmx_check_runs_to(vcpu, "sgdt", l2_sgdt_end)) {
		check_eq("sgdt.limit", d->limit, 0x2f7);
		check_eq("sgdt.base", d->base, vmcs_read(VMCS_GUEST_GDTR_BASE));
	}
	vmx_vcpu_reset(vcpu, l2_sldt);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, 0, VMX_PROC2_DESC_TABLE_EXIT);
	vcpu->regs.rax = 0x1234;
	if (vmx_check_runs_to(vcpu, "sldt", l2_sldt_end))
		check_eq("sldt.value", vcpu->regs.rax, 0);
}

/*
 * INVPCID (24.6.2, secondary control 12 "enable INVPCID"; 26.1.3): with the
 * control 0 INVPCID is #UD, whatever "INVLPG exiting" says; with it 1 and
 * "INVLPG exiting" 1 it exits with reason 58, the qualification = the
 * displacement, sign-extended (28.2.1), and the instruction information of
 * Table 28-14 (INVEPT, INVPCID, INVVPID: Reg2 = the type register); with
 * "INVLPG exiting" 0 it runs in L2.
 */
VMX_L2_CODE(l2_invpcid, "invpcid 0x18(%rbx,%rsi,4), %rdx");
VMX_L2_CODE(l2_invpcid_fs, "invpcid %fs:-0x10(%r8), %r11");
VMX_L2_CODE(l2_invpcid_run, "invpcid (%rbx), %rdx");

/* INVPCID_DESC (Vol. 2A INVPCID): PCID in bits 11:0, linear address in 127:64. */
static uint64_t invpcid_desc[2] __aligned(16);

static bool invpcid_prepare(void *code, bool enable, bool invlpg_exit)
{
	uint32_t proc = VMX_PROC_INVLPG_EXIT;

	if (!vmx_require_vmx() ||
	    !has_feature(CPU_FEATURE(7, 0, 1, 10), "INVPCID (CPUID 7.0 EBX[10])") ||
	    !prepare(code, VMX_CTLS_PROC, invlpg_exit ? proc : 0, invlpg_exit ? 0 : proc))
		return false;
	/* The control's allowed-1 setting makes 0 a choice rather than the only setting. */
	if (!vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_INVPCID))
		return false;
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, enable ? VMX_PROC2_INVPCID : 0,
			  enable ? 0 : VMX_PROC2_INVPCID);
	vcpu->regs.rbx = vcpu->regs.r8 = (uint64_t)invpcid_desc;
	vcpu->regs.rsi = 0;
	vcpu->regs.rdx = vcpu->regs.r11 = 2;
	return true;
}

static void invpcid_ud(bool invlpg_exit)
{
	uint32_t reason;

	if (!invpcid_prepare(l2_invpcid, false, invlpg_exit))
		return;
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & VMX_INTR_INFO_VECTOR_MASK) == 6 &&
		  vmcs_read(VMCS_GUEST_RIP) == (uint64_t)l2_invpcid, "",
		  "expected #UD (exit 0, vector 6) at the INVPCID, got %s", vmx_exit_str(vcpu, reason));
}

static void check_invpcid_disabled(void)
{
	invpcid_ud(false);
}

/* The #UD has priority over the exit that "INVLPG exiting" would cause. */
static void check_invpcid_disabled_invlpg_exit(void)
{
	invpcid_ud(true);
}

struct invpcid_case {
	void *code, *end;
	unsigned seg, base, reg2, scale;
	int index;			/* -1: none */
	uint64_t disp;
};

static void invpcid_exit(const struct invpcid_case *c)
{
	struct vmx_insn_info ii;

	if (!invpcid_prepare(c->code, true, true))
		return;
	if (!vmx_check_exit(vcpu, VMX_EXIT_INVPCID, c->code, (char *)c->end - (char *)c->code))
		return;
	check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), c->disp);
	ii = vmx_exit_insn_info();
	check_eq("info.is_reg", ii.is_reg, false);
	check_eq("info.addr_size", ii.addr_size, 2);
	check_eq("info.seg", ii.seg, c->seg);
	check_eq("info.base_valid", ii.base_valid, true);
	check_eq("info.base", ii.base, c->base);
	check_eq("info.index_valid", ii.index_valid, c->index >= 0);
	if (c->index >= 0) {
		check_eq("info.index", ii.index, c->index);
		check_eq("info.scale", ii.scale, c->scale);
	}
	check_eq("info.reg2", ii.reg2, c->reg2);
}

static void check_invpcid_exit(void)
{
	static const struct invpcid_case c = {
		l2_invpcid, l2_invpcid_end, VMX_SEG_DS, VMX_GPR_RBX, VMX_GPR_RDX, 2, VMX_GPR_RSI, 0x18,
	};

	invpcid_exit(&c);
}

static void check_invpcid_exit_fs(void)
{
	static const struct invpcid_case c = {
		l2_invpcid_fs, l2_invpcid_fs_end, VMX_SEG_FS, VMX_GPR_R8, VMX_GPR_R11, 0, -1, -0x10ull,
	};

	invpcid_exit(&c);
}

/* Without "INVLPG exiting", INVPCID runs in L2: @type with the descriptor for @addr. */
static void invpcid_runs(uint64_t type, uint64_t addr)
{
	if (!invpcid_prepare(l2_invpcid_run, true, false))
		return;
	invpcid_desc[0] = 0;		/* PCID 0: valid with CR4.PCIDE 0 */
	invpcid_desc[1] = addr;
	vcpu->regs.rdx = type;
	vmx_check_runs_to(vcpu, "", l2_invpcid_run_end);
}

static void check_invpcid_clear_all(void)
{
	invpcid_runs(2, 0);
}

static void check_invpcid_clear_address(void)
{
	invpcid_runs(0, (uint64_t)mem);
}

/*
 * That it runs, not skips: L2's INVPCID checks its operands (Vol. 2A INVPCID,
 * protected-mode exceptions): a type above 3 or, for type 0, a non-canonical
 * address is #GP(0).
 */
static void invpcid_gp(uint64_t type, uint64_t addr)
{
	uint32_t reason;

	if (!invpcid_prepare(l2_invpcid_run, true, false))
		return;
	invpcid_desc[0] = 0;
	invpcid_desc[1] = addr;
	vcpu->regs.rdx = type;
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & VMX_INTR_INFO_VECTOR_MASK) == 13 &&
		  vmcs_read(VMCS_GUEST_RIP) == (uint64_t)l2_invpcid_run, "",
		  "type %lu, address %#lx: expected #GP (exit 0, vector 13) at the INVPCID, got %s",
		  type, addr, vmx_exit_str(vcpu, reason));
}

static void check_invpcid_bad_type(void)
{
	invpcid_gp(4, 0);
}

static void check_invpcid_noncanonical(void)
{
	invpcid_gp(0, 0x8000000000000000ull);
}

static const struct check_entry checks[] = {
	{ "cpuid", check_cpuid },
	{ "cpuid_leaf", check_cpuid_leaf },
	{ "invd", check_invd },
	{ "xsetbv", check_xsetbv },
	{ "vmcall", check_vmcall },
	{ "hlt", check_hlt },
	{ "invlpg", check_invlpg },
	{ "invlpg_disp", check_invlpg_disp },
	{ "invlpg_clear", check_invlpg_clear },
	{ "rdtsc", check_rdtsc },
	{ "rdtsc_clear", check_rdtsc_clear },
	{ "rdtscp", check_rdtscp },
	{ "rdtscp_clear", check_rdtscp_clear },
	{ "rdtscp_disabled", check_rdtscp_disabled },
	{ "rdpmc", check_rdpmc },
	{ "rdpmc_clear", check_rdpmc_clear },
	{ "monitor", check_monitor },
	{ "monitor_clear", check_monitor_clear },
	{ "mwait", check_mwait },
	{ "pause", check_pause },
	{ "pause_clear", check_pause_clear },
	{ "pause_loop", check_pause_loop },
	{ "cr3_load", check_cr3_load },
	{ "cr3_load_clear", check_cr3_load_clear },
	{ "cr3_target0", check_cr3_target0 },
	{ "cr3_target3", check_cr3_target3 },
	{ "cr3_target_beyond_count", check_cr3_target_beyond_count },
	{ "cr3_target_miss", check_cr3_target_miss },
	{ "cr3_store", check_cr3_store },
	{ "cr3_store_clear", check_cr3_store_clear },
	{ "cr8_load", check_cr8_load },
	{ "cr8_load_r12", check_cr8_load_r12 },
	{ "cr8_store", check_cr8_store },
	{ "cr8_clear", check_cr8_clear },
	{ "tpr_shadow_read", check_tpr_shadow_read },
	{ "tpr_shadow_write", check_tpr_shadow_write },
	{ "tpr_shadow_store_exit", check_tpr_shadow_store_exit },
	{ "tpr_shadow_load_exit", check_tpr_shadow_load_exit },
	{ "tpr_shadow_below_threshold", check_tpr_shadow_below_threshold },
	{ "mov_to_dr0", check_mov_to_dr0 },
	{ "mov_from_dr7", check_mov_from_dr7 },
	{ "mov_from_dr3_r10", check_mov_from_dr3_r10 },
	{ "mov_dr_clear", check_mov_dr_clear },
	{ "wbinvd", check_wbinvd },
	{ "wbinvd_clear", check_wbinvd_clear },
	{ "rdrand_ecx", check_rdrand_ecx },
	{ "rdrand_r9", check_rdrand_r9 },
	{ "rdrand_dx", check_rdrand_dx },
	{ "rdrand_clear", check_rdrand_clear },
	{ "rdseed_rdx", check_rdseed_rdx },
	{ "rdseed_r14d", check_rdseed_r14d },
	{ "rdseed_ax", check_rdseed_ax },
	{ "rdseed_clear", check_rdseed_clear },
	{ "rdseed_not_rdrand", check_rdseed_not_rdrand },
	{ "desc.sgdt", check_desc_sgdt },
	{ "desc.sidt", check_desc_sidt },
	{ "desc.lgdt", check_desc_lgdt },
	{ "desc.lidt", check_desc_lidt },
	{ "desc.sgdt_addr32", check_desc_sgdt_addr32 },
	{ "desc.sldt", check_desc_sldt },
	{ "desc.str", check_desc_str },
	{ "desc.lldt", check_desc_lldt },
	{ "desc.ltr", check_desc_ltr },
	{ "desc.clear", check_desc_clear },
	{ "invpcid.disabled", check_invpcid_disabled },
	{ "invpcid.disabled_invlpg_exit", check_invpcid_disabled_invlpg_exit },
	{ "invpcid.exit", check_invpcid_exit },
	{ "invpcid.exit_fs", check_invpcid_exit_fs },
	{ "invpcid.run.all_contexts", check_invpcid_clear_all },
	{ "invpcid.run.address", check_invpcid_clear_address },
	{ "invpcid.run.bad_type_gp", check_invpcid_bad_type },
	{ "invpcid.run.noncanonical_gp", check_invpcid_noncanonical },
};

DEFINE_TEST("vmx_exits", checks, .setup = setup);
