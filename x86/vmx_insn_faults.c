/*
 * What VMX instructions check before they do anything, and the two
 * instructions next to them in the VMX chapters (SDM Vol. 3C chapter 31,
 * "VMX Instruction Reference", each instruction's Operation):
 *  - CPL: every VMX instruction (and INVPCID) at CPL 3 raises #GP(0), after
 *    the same instruction's CPL 0 result in the same state (cpl3.*);
 *  - the mode: VMCALL in compatibility mode raises #UD (vmcall_compat);
 *  - blocking by MOV SS: VMLAUNCH/VMRESUME fail with VMfailValid(26) (movss.*);
 *  - GETSEC with CR4.SMXE = 0 (#UD, in VMX root and non-root operation) and
 *    with it set (VM exit 13) (getsec.*; SDM Vol. 2D GETSEC, 26.1.2);
 *  - INVPCID's faults and the flush of each type (invpcid.*; SDM Vol. 2B).
 * The rest of the VMX instructions' behaviour is x86/vmx_insn.c.
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "pagetable.h"
#include "test.h"
#include "usermode.h"
#include "vmx.h"

/* From vmx_test_setup(): NULL when the CPU offers no VMX (vmx_require_vmx() says why). */
static struct vmx_vcpu *vcpu;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

static void setup(void)
{
	vcpu = vmx_test_setup();
}

VMX_L2_CODE(l2_vmcall, "");

/* ------------------------------------------------------------ CPL 3 */

/*
 * Each VMX instruction's pseudocode (31.3) tests, after its #UD conditions
 * and the VM exit of VMX non-root operation, "ELSIF CPL > 0 THEN #GP(0)",
 * before any VMfail; VMXON outside VMX operation too ("IF (CPL > 0) or ...
 * THEN #GP(0)").  INVPCID raises #GP(0) at CPL > 0 (Vol. 2B INVPCID).  Each
 * case runs its instruction first at CPL 0 in the same state (the expected
 * VMsucceed or VMfail proves the state), then at CPL 3 (usermode.h).  The
 * VMfail that CPL 0 meets is chosen so that an implementation that forgot
 * the CPL test fails instead of entering a guest or leaving VMX operation.
 */
struct cpl3_case {
	const char *name;
	bool (*prepare)(void);			/* false: skip or error recorded */
	struct vmx_result (*exec)(void);
	enum vmx_outcome cpl0;			/* at CPL 0, and cpl0_error then */
	uint32_t cpl0_error;
	void (*undo)(void);			/* after a VMsucceed (either CPL) */
};

static uint32_t *cpl3_other;			/* a VMCS region that is never current */

static bool prepare_off(void)
{
	vmx_ensure_off();
	return true;
}

static bool prepare_on(void)
{
	if (!vmx_ensure_on(&vcpu))
		return false;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (!cpl3_other)
		cpl3_other = vmx_region_alloc();
	return true;
}

/* Launched current VMCS: VMLAUNCH fails with 4 (31.3 VMLAUNCH). */
static bool prepare_launched(void)
{
	uint32_t reason;

	if (!prepare_on())
		return false;
	reason = vmx_run(vcpu);
	if (reason != VMX_EXIT_VMCALL)
		test_error("", "the VM entry that launches the VMCS: exit %#x, entry %s", reason,
			   RES(vcpu->entry));
	return reason == VMX_EXIT_VMCALL;
}

/* VMCLEARed current VMCS, so that VMXOFF leaves no VMCS data in the processor (24.11). */
static bool prepare_cleared(void)
{
	if (!prepare_on())
		return false;
	vmclear_checked((uint64_t)vcpu->vmcs);
	return true;
}

/* VMX operation where the secondary control @proc2 and the IA32_VMX_EPT_VPID_CAP @bits exist. */
static bool prepare_with_cap(uint32_t proc2, uint64_t bits, const char *missing)
{
	uint64_t cap = vmx_ctls_supported(VMX_CTLS_PROC2, proc2) ?
		       rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;

	if ((cap & bits) != bits) {
		skip("", "%s", missing);
		return false;
	}
	return prepare_on();
}

static bool prepare_invept(void)
{
	return prepare_with_cap(VMX_PROC2_EPT, VMX_EPT_INVEPT | VMX_EPT_INVEPT_ALL,
				"no all-context INVEPT (IA32_VMX_EPT_VPID_CAP[20], [26])");
}

static bool prepare_invvpid(void)
{
	return prepare_with_cap(VMX_PROC2_VPID, VMX_VPID_INVVPID | VMX_VPID_ALL,
				"no all-context INVVPID (IA32_VMX_EPT_VPID_CAP[32], [42])");
}

static bool prepare_invpcid(void)
{
	if (!cpu_has(X86_FEATURE_INVPCID)) {
		skip("", "no INVPCID (CPUID.(EAX=7,ECX=0):EBX[10])");
		return false;
	}
	return prepare_on();
}

static struct vmx_result exec_vmxon(void)
{
	return vmxon_checked((uint64_t)vmx_vmxon_region());
}

static struct vmx_result exec_vmxoff(void)
{
	return vmxoff_checked();
}

static struct vmx_result exec_vmclear(void)
{
	return vmclear_checked((uint64_t)cpl3_other);
}

static struct vmx_result exec_vmptrld(void)
{
	return vmptrld_checked((uint64_t)vcpu->vmcs);
}

static struct vmx_result exec_vmptrst(void)
{
	uint64_t ptr;

	return vmptrst_checked(&ptr);
}

static struct vmx_result exec_vmread(void)
{
	uint64_t v;

	return vmread_checked(VMCS_GUEST_RIP, &v);
}

static struct vmx_result exec_vmwrite(void)
{
	return vmwrite_checked(VMCS_GUEST_RIP, (uint64_t)l2_vmcall);
}

static struct vmx_result exec_vmlaunch(void)
{
	return vmlaunch_checked();
}

static struct vmx_result exec_vmresume(void)
{
	return vmresume_checked();
}

static struct vmx_result exec_vmcall(void)
{
	return vmcall_checked();
}

static struct vmx_result exec_invept(void)
{
	return invept_checked(2, 0, 0);
}

static struct vmx_result exec_invvpid(void)
{
	return invvpid_checked(2, 0, 0);
}

static struct vmx_result exec_invpcid(void)
{
	struct fault f = invpcid_checked(2, 0, 0);

	return vmx_result_from(0, f);
}

/* Back in VMX operation with the vCPU's VMCS current after a VMXOFF that worked. */
static void undo_vmxoff(void)
{
	vmxon_checked((uint64_t)vmx_vmxon_region());
	vmx_vcpu_load(vcpu);
}

static void undo_vmxon(void)
{
	vmxoff_checked();
}

static const struct cpl3_case cpl3_cases[] = {
	{ "vmxon_outside", prepare_off, exec_vmxon, VMX_SUCCEED, 0, undo_vmxon },
	{ "vmxon", prepare_on, exec_vmxon, VMX_FAIL_VALID, VMXERR_VMXON_IN_ROOT, NULL },
	{ "vmclear", prepare_on, exec_vmclear, VMX_SUCCEED, 0, NULL },
	{ "vmptrld", prepare_on, exec_vmptrld, VMX_SUCCEED, 0, NULL },
	{ "vmptrst", prepare_on, exec_vmptrst, VMX_SUCCEED, 0, NULL },
	{ "vmread", prepare_on, exec_vmread, VMX_SUCCEED, 0, NULL },
	{ "vmwrite", prepare_on, exec_vmwrite, VMX_SUCCEED, 0, NULL },
	{ "vmlaunch", prepare_launched, exec_vmlaunch, VMX_FAIL_VALID, VMXERR_VMLAUNCH_NOT_CLEAR, NULL },
	{ "vmresume", prepare_on, exec_vmresume, VMX_FAIL_VALID, VMXERR_VMRESUME_NOT_LAUNCHED, NULL },
	/* A launched VMCS: VMCALL in root is VMfailValid(1) (vmcall_root_launched). */
	{ "vmcall", prepare_launched, exec_vmcall, VMX_FAIL_VALID, VMXERR_VMCALL_ROOT, NULL },
	{ "invept", prepare_invept, exec_invept, VMX_SUCCEED, 0, NULL },
	{ "invvpid", prepare_invvpid, exec_invvpid, VMX_SUCCEED, 0, NULL },
	{ "invpcid", prepare_invpcid, exec_invpcid, VMX_SUCCEED, 0, NULL },
	{ "vmxoff", prepare_cleared, exec_vmxoff, VMX_SUCCEED, 0, undo_vmxoff },
};

struct cpl3_run {
	const struct cpl3_case *c;
	struct vmx_result r;
	unsigned cpl;
};

static void cpl3_exec(void *arg)
{
	struct cpl3_run *run = arg;

	run->cpl = current_cpl();
	run->r = run->c->exec();
}

static void check_cpl3_case(const struct cpl3_case *c)
{
	struct cpl3_run run = { c, { 0 }, 0 };
	struct vmx_result want = { c->cpl0, c->cpl0_error, { 0 } };
	char wbuf[64];
	struct fault f;

	report_prefix_push("%s", c->name);
	if (!c->prepare())
		goto out;
	run.r = c->exec();
	if (run.r.outcome == VMX_SUCCEED && c->undo)
		c->undo();
	check_msg(run.r.outcome == c->cpl0 && run.r.error == c->cpl0_error, "cpl0",
		  "CPL 0: expected %s, got %s", vmx_result_str(&want, wbuf, sizeof(wbuf)), RES(run.r));
	/* What the CPL 3 check needs from CPL 0: the same state raises no exception. */
	if (run.r.outcome == VMX_FAULT)
		goto out;
	if (!c->prepare())
		goto out;
	f = usermode_call(cpl3_exec, &run);
	if (f.raised || run.cpl != 3) {
		test_error("", "the CPL 3 call: %s, CPL %u", fault_str(&f, rbuf, sizeof(rbuf)), run.cpl);
		goto out;
	}
	/* The error number of a VMfailValid is only readable at CPL 0. */
	if (run.r.outcome == VMX_FAIL_VALID)
		run.r.error = vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	if (run.r.outcome == VMX_SUCCEED && c->undo)
		c->undo();
	check_msg(run.r.outcome == VMX_FAULT && fault_is(&run.r.fault, X86_VEC_GP, 0), "",
		  "CPL 3: expected #GP(0), got %s", RES(run.r));
out:
	report_prefix_pop();
}

static void check_cpl3(void)
{
	if (!vmx_require_vmx())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(cpl3_cases); i++)
		check_cpl3_case(&cpl3_cases[i]);
}

/* ------------------------------------------------------------ compatibility mode */

/*
 * 31.3 VMCALL: in VMX root operation, "ELSIF (RFLAGS.VM = 1) or (IA32_EFER.LMA
 * = 1 and CS.L = 0) THEN #UD", before the CPL and the VMfail.  The code runs
 * in compatibility mode through a far call to KERNEL_CS32 (the image and its
 * stack lie below 4 GiB); the #UD unwinds through catch_fault() to 64-bit
 * mode, while a VMCALL that completes returns with a 32-bit far return.
 */
extern const char compat_vmcall[];
asm(".pushsection .text\n"
    ".code32\n"
    "compat_vmcall:\n"
    "	vmcall\n"
    "	lret\n"
    ".code64\n"
    ".popsection\n");

static void call_compat_vmcall(void *arg)
{
	struct { uint32_t offset; uint16_t selector; } __packed target = {
		(uint32_t)(uint64_t)compat_vmcall, KERNEL_CS32,
	};

	asm volatile("lcall *%0" : : "m"(target) : "memory", "cc");
}

static void check_vmcall_compat(void)
{
	struct fault f;
	struct vmx_result r;

	/* A launched VMCS, as for cpl3.vmcall: in 64-bit mode, VMCALL fails without an exception. */
	if (!vmx_require_vmx() || !prepare_launched())
		return;
	r = vmcall_checked();
	if (!check_msg(r.outcome != VMX_FAULT, "long_mode",
		       "VMCALL in 64-bit mode: expected VMfail, got %s", RES(r)))
		return;
	f = catch_fault(call_compat_vmcall, NULL);
	check_msg(fault_is(&f, X86_VEC_UD, 0) && f.rip == (uint64_t)compat_vmcall, "",
		  "VMCALL in compatibility mode at %p: expected #UD there, got %s", compat_vmcall,
		  fault_str(&f, rbuf, sizeof(rbuf)));
}

/* ------------------------------------------------------------ blocking by MOV SS */

/* VMLAUNCH or VMRESUME right after a MOV to SS, in the MOV's shadow. */
static __noinline_noclone struct vmx_result launch_after_mov_ss(bool resume)
{
	uint64_t fl = 0;

	fault_clear();
	if (resume)
		asm volatile("mov %%ss, %%eax\n\tmov %%eax, %%ss\n\t" FAULT_TRY("vmresume")
			     "pushfq; popq %[fl]" : [fl] "+r"(fl) : : "rax", "cc", "memory");
	else
		asm volatile("mov %%ss, %%eax\n\tmov %%eax, %%ss\n\t" FAULT_TRY("vmlaunch")
			     "pushfq; popq %[fl]" : [fl] "+r"(fl) : : "rax", "cc", "memory");
	return vmx_result_from(fl, fault_take());
}

/*
 * 31.3 VMLAUNCH/VMRESUME: "ELSIF events are being blocked by MOV SS THEN
 * VMfailValid(VM entry with events blocked by MOV SS)", error 26, tested
 * before the launch state and the checks of 27.2.  The VMCS has a CR3-target
 * count above IA32_VMX_MISC[24:16], so the same instruction without the MOV
 * fails with 7 (27.2.1.1), and so would one that ignored the blocking.
 */
static void check_mov_ss(bool resume)
{
	unsigned n;
	struct vmx_result r;

	if (!vmx_require_vmx() || !vmx_ensure_on(&vcpu))
		return;
	n = (rdmsr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff;
	vmx_vcpu_reset(vcpu, l2_vmcall);
	if (resume && !vmx_check_run_exit(vcpu, "launched", VMX_EXIT_VMCALL))
		return;
	vmcs_write(VMCS_CR3_TARGET_COUNT, n + 1);
	vmx_check_fail_valid("unblocked", resume ? vmresume_checked() : vmlaunch_checked(),
		     VMXERR_ENTRY_INVALID_CONTROL);
	r = launch_after_mov_ss(resume);
	vmx_check_fail_valid("", r, VMXERR_ENTRY_MOV_SS);
}

static void check_mov_ss_vmlaunch(void)
{
	check_mov_ss(false);
}

static void check_mov_ss_vmresume(void)
{
	check_mov_ss(true);
}

/* ------------------------------------------------------------ GETSEC */

/*
 * GETSEC with CR4.SMXE = 0 raises #UD (Vol. 2D GETSEC), in VMX root
 * operation and in VMX non-root operation alike: GETSEC exits
 * unconditionally (26.1.2) only where it does not fault first (26.1.1: the
 * #UD of CR4.SMXE = 0 comes before the exit), so L2's #UD, with bit 6 of the
 * exception bitmap, exits as exception 6 (reason 0), not GETSEC (reason 11).
 */
static __noinline_noclone struct fault getsec_checked(void)
{
	fault_clear();
	asm volatile(".globl getsec_insn\ngetsec_insn:\n\t" FAULT_TRY("getsec")
		     : : "a"(0), "b"(0) : "rcx", "rdx", "memory");
	return fault_take();
}

static void check_getsec_root(void)
{
	uint64_t cr4;
	struct fault f;

	if (!vmx_require_vmx() || !vmx_ensure_on(&vcpu))
		return;
	cr4 = read_cr4();
	write_cr4(cr4 & ~X86_CR4_SMXE);
	f = getsec_checked();
	write_cr4(cr4);
	check_msg(fault_is(&f, X86_VEC_UD, 0) && f.rip == ASM_LABEL_ADDR("getsec_insn"), "",
		  "GETSEC with CR4.SMXE = 0: expected #UD at %#lx, got %s",
		  ASM_LABEL_ADDR("getsec_insn"), fault_str(&f, rbuf, sizeof(rbuf)));
}

VMX_L2_CODE(l2_getsec, "getsec");

static void check_getsec_l2(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !vmx_ensure_on(&vcpu))
		return;
	vmx_vcpu_reset(vcpu, l2_getsec);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) & ~X86_CR4_SMXE);
	vmcs_write(VMCS_EXCEPTION_BITMAP, vmcs_read(VMCS_EXCEPTION_BITMAP) | BIT(X86_VEC_UD));
	vcpu->regs.rax = 0;		/* CAPABILITIES */
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_EXCEPTION, "reason",
		       "exit reason %u (%s), expected 0 (exception #UD)", reason,
		       vmx_exit_name(reason) ?: "?"))
		return;
	check_eq("intr_info", vmcs_read(VMCS_EXIT_INTR_INFO),
		 VMX_INTR_INFO_VALID | (3u << 8) | X86_VEC_UD);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_getsec);
}

/*
 * With CR4.SMXE = 1 in L2 (allowed by IA32_VMX_CR4_FIXED1[14] where CPUID
 * offers SMX), GETSEC exits with reason 11 (26.1.2), RIP at the instruction.
 */
static void check_getsec_smxe1_l2(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !vmx_ensure_on(&vcpu))
		return;
	if (!cpu_has(X86_FEATURE_SMX)) {
		skip("", "no SMX (CPUID.1:ECX[6])");
		return;
	}
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & X86_CR4_SMXE)) {
		skip("", "CR4.SMXE fixed to 0 in VMX operation (IA32_VMX_CR4_FIXED1[14])");
		return;
	}
	vmx_vcpu_reset(vcpu, l2_getsec);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) | X86_CR4_SMXE);
	vcpu->regs.rax = 0;		/* CAPABILITIES */
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_GETSEC, "reason", "exit reason %#x (%s), expected 11 (GETSEC)",
		       reason, vmx_exit_name(reason) ?: "?"))
		return;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_getsec);
	check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), 2);
}

/* ------------------------------------------------------------ INVPCID */

/*
 * INVPCID (Vol. 2B; SDM Vol. 3A 4.10.4.1) in VMX root operation, CR4.PCIDE
 * = 0 (PCID 0 current).  Faults, #GP(0): type above 3; descriptor bits 63:12
 * not 0; type 0 with a non-canonical address; type 0 or 1 with a PCID other
 * than 0 while CR4.PCIDE = 0.  Each beside the same descriptor without the
 * fault, which must complete.
 */
#define INVPCID_NONCANONICAL	0x0000800000000000ull

struct invpcid_fault_case {
	const char *name;
	uint64_t type, pcid_etc, addr;		/* the faulting form */
	uint64_t ok_type, ok_pcid_etc, ok_addr;	/* the same without the fault */
	bool rex_w;				/* encoded with REX.W */
};

/*
 * In 64-bit mode the type register has 64 bits, with or without REX.W
 * (Vol. 2B INVPCID: "In 64-bit mode, the register operand has 64 bits"):
 * type 1_00000002H is above 3, not type 2.
 */
#define INVPCID_TYPE_HIGH	(BIT(32) | 2)

static const struct invpcid_fault_case invpcid_fault_cases[] = {
	{ "type4", 4, 0, 0, 3, 0, 0 },
	{ "type_bit32", INVPCID_TYPE_HIGH, 0, 0, 2, 0, 0 },
	{ "type_bit32_rexw", INVPCID_TYPE_HIGH, 0, 0, 2, 0, 0, true },
	{ "reserved_bit12", 2, BIT(12), 0, 2, 0, 0 },
	{ "reserved_bit63", 3, BIT(63), 0, 3, 0, 0 },
	{ "noncanonical", 0, 0, INVPCID_NONCANONICAL, 0, 0, 0x1000 },
	{ "pcid_type0", 0, 1, 0x1000, 0, 0, 0x1000 },
	{ "pcid_type1", 1, 0xfff, 0, 1, 0, 0 },
};

static bool invpcid_usable(void)
{
	if (!cpu_has(X86_FEATURE_INVPCID)) {
		skip("", "no INVPCID (CPUID.(EAX=7,ECX=0):EBX[10])");
		return false;
	}
	if (read_cr4() & X86_CR4_PCIDE) {
		test_error("", "CR4.PCIDE is set: these checks want PCID 0 only");
		return false;
	}
	/* In VMX root operation where VMX exists; INVPCID itself does not need it. */
	return !vcpu || vmx_ensure_on(&vcpu);
}

/* INVPCID (%rdx), %rax with REX.W: 66 48 0F 38 82 /r, ModRM 02h. */
static struct fault invpcid_rexw_checked(uint64_t type, uint64_t pcid_etc, uint64_t addr)
{
	uint64_t desc[2] = { pcid_etc, addr };

	fault_clear();
	asm volatile(FAULT_TRY(".byte 0x66, 0x48, 0x0f, 0x38, 0x82, 0x02")
		     : : "a"(type), "d"(desc), "m"(desc) : "memory");
	return fault_take();
}

static struct fault invpcid_case_exec(const struct invpcid_fault_case *c, bool faulting)
{
	uint64_t type = faulting ? c->type : c->ok_type;
	uint64_t pcid_etc = faulting ? c->pcid_etc : c->ok_pcid_etc;
	uint64_t addr = faulting ? c->addr : c->ok_addr;

	return c->rex_w ? invpcid_rexw_checked(type, pcid_etc, addr)
			: invpcid_checked(type, pcid_etc, addr);
}

static void check_invpcid_faults(void)
{
	char buf[64];

	if (!invpcid_usable())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(invpcid_fault_cases); i++) {
		const struct invpcid_fault_case *c = &invpcid_fault_cases[i];
		struct fault f;

		report_prefix_push("%s", c->name);
		f = invpcid_case_exec(c, false);
		if (check_msg(!f.raised, "valid", "type %#lx, descriptor {%#lx, %#lx}: %s", c->ok_type,
			      c->ok_pcid_etc, c->ok_addr, fault_str(&f, buf, sizeof(buf)))) {
			f = invpcid_case_exec(c, true);
			check_msg(fault_is(&f, X86_VEC_GP, 0), "",
				  "type %#lx, descriptor {%#lx, %#lx}: expected #GP(0), got %s",
				  c->type, c->pcid_etc, c->addr, fault_str(&f, buf, sizeof(buf)));
		}
		report_prefix_pop();
	}
}

/*
 * Each type removes a translation that the TLB still holds after its PTE
 * changed (4.10.4.1: type 0 for its address, 1 for its PCID, 2 for all
 * PCIDs with global translations, 3 for all PCIDs without them): a test page
 * maps frame A, is read (cached), is re-pointed to frame B in memory without
 * INVLPG; the read must see B after the INVPCID.  Type 2 gets a global
 * translation (CR4.PGE = 1, PTE.G = 1), which types 0, 1 and 3 may keep.
 * Where the read before the INVPCID already sees B, no stale translation
 * exists and the case cannot tell a flush: a skip.
 */
#define INVPCID_TEST_VA		0x0000008000000000ull	/* 512 GiB: PML4 slot 1 */
#define FRAME_A_VALUE		0xaaaa0000aaaa0001ull
#define FRAME_B_VALUE		0xbbbb0000bbbb0002ull

struct invpcid_flush_case {
	const char *name;
	uint64_t type;
	bool global;
};

static const struct invpcid_flush_case invpcid_flush_cases[] = {
	{ "type0", 0, false },
	{ "type1", 1, false },
	{ "type2_global", 2, true },
	{ "type3", 3, false },
};

static void invpcid_flush_case(const struct invpcid_flush_case *c, uint64_t *pte,
			       uint64_t *frame_a, uint64_t *frame_b)
{
	volatile uint64_t *va = (volatile uint64_t *)INVPCID_TEST_VA;
	uint64_t flags = PTE_P | PTE_W | (c->global ? PTE_G : 0), cr4 = read_cr4(), before, after;
	struct fault f;

	report_prefix_push("%s", c->name);
	if (c->global)
		write_cr4(cr4 | X86_CR4_PGE);
	*pte = (uint64_t)frame_a | flags;
	invlpg(va);
	(void)*va;
	*pte = (uint64_t)frame_b | flags;
	before = *va;
	f = invpcid_checked(c->type, 0, INVPCID_TEST_VA);
	after = *va;
	write_cr4(cr4);		/* clearing PGE again flushes the global translation (4.10.4.1) */
	invlpg(va);
	if (before != FRAME_A_VALUE)
		skip("", "no stale translation after the PTE change (read %#lx): nothing to flush",
		     before);
	else if (check_msg(!f.raised, "completes", "%s", fault_str(&f, rbuf, sizeof(rbuf))))
		check_msg(after == FRAME_B_VALUE, "", "after INVPCID type %lu: read %#lx (frame %s), "
			  "expected %#llx", c->type, after, after == FRAME_A_VALUE ? "A, stale" : "?",
			  FRAME_B_VALUE);
	report_prefix_pop();
}

static void check_invpcid_flush(void)
{
	static uint64_t *frame_a, *frame_b;
	struct pagetable *pt = paging_current();
	uint64_t *pte;
	unsigned level;

	if (!invpcid_usable())
		return;
	if (!frame_a) {
		if (pt_find(pt, INVPCID_TEST_VA, &level)) {
			test_error("", "the test address %#llx is mapped already", INVPCID_TEST_VA);
			return;
		}
		frame_a = alloc_page();
		frame_b = alloc_page();
		*frame_a = FRAME_A_VALUE;
		*frame_b = FRAME_B_VALUE;
		pt_map(pt, INVPCID_TEST_VA, (uint64_t)frame_a, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
	}
	pte = pt_find(pt, INVPCID_TEST_VA, &level);
	for (unsigned i = 0; i < ARRAY_SIZE(invpcid_flush_cases); i++)
		invpcid_flush_case(&invpcid_flush_cases[i], pte, frame_a, frame_b);
}

static const struct check_entry checks[] = {
	{ "cpl3", check_cpl3 },
	{ "vmcall_compat", check_vmcall_compat },
	{ "movss.vmlaunch", check_mov_ss_vmlaunch },
	{ "movss.vmresume", check_mov_ss_vmresume },
	{ "getsec.smxe0.root", check_getsec_root },
	{ "getsec.smxe0.l2", check_getsec_l2 },
	{ "getsec.smxe1.l2", check_getsec_smxe1_l2 },
	{ "invpcid.fault", check_invpcid_faults },
	{ "invpcid.flush", check_invpcid_flush },
};

DEFINE_TEST("vmx_insn_faults", checks, .setup = setup);
