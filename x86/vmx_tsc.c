/*
 * The time-stamp counter in VMX non-root operation (Intel SDM Vol. 3C 26.3,
 * "Changes to Instruction Behavior in VMX Non-Root Operation", RDTSC, RDTSCP
 * and RDMSR; 25.6.5, "Time-Stamp Counter Offset and Multiplier"; 26.6.5):
 *  - "use TSC offsetting": RDTSC, RDTSCP and RDMSR of IA32_TIME_STAMP_COUNTER
 *    in L2 return L1's TSC plus the offset (64-bit wrap-around, so negative
 *    offsets too), bounded by L1's TSC read just before the entry and just
 *    after the exit; without the control the field is ignored;
 *  - "use TSC scaling" where the secondary control exists: the TSC is first
 *    multiplied by the 48.16 fixed-point multiplier (bits 63:48 integer);
 *  - "RDTSC exiting" takes precedence: RDTSC exits with reason 16, RDTSCP with
 *    reason 51 (26.1.3), and RDMSR is not affected by it (only by the MSR
 *    bitmap); RDTSCP without "enable RDTSCP" raises #UD;
 *  - RDTSCP returns IA32_TSC_AUX in ECX.
 */
#include "alloc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

static struct vmx_vcpu *vcpu;
static void *msr_bitmap;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
	msr_bitmap = alloc_page();
}

VMX_L2_CODE(l2_rdtsc, ".globl l2_rdtsc_insn\nl2_rdtsc_insn: rdtsc\n"
		      "shl $32, %rdx; or %rdx, %rax; mov %rax, %r8");
VMX_L2_CODE(l2_rdtscp, ".globl l2_rdtscp_insn\nl2_rdtscp_insn: rdtscp\n"
		       "shl $32, %rdx; or %rdx, %rax; mov %rax, %r8; mov %rcx, %r9");
VMX_L2_CODE(l2_rdmsr_tsc, "mov $0x10, %ecx\n.globl l2_rdmsr_tsc_insn\nl2_rdmsr_tsc_insn: rdmsr\n"
			  "shl $32, %rdx; or %rdx, %rax; mov %rax, %r8");
extern char l2_rdtsc_insn[], l2_rdtscp_insn[], l2_rdmsr_tsc_insn[];

enum reader { RD_RDTSC, RD_RDTSCP, RD_RDMSR };
static const char *const reader_names[] = { "rdtsc", "rdtscp", "rdmsr" };

static bool rdtscp_usable(const char *name)
{
	if (!cpu_has(X86_FEATURE_RDTSCP)) {
		skip(name, "no RDTSCP (CPUID 80000001h:EDX[27])");
		return false;
	}
	return vmx_require(name, VMX_CTLS_PROC2, VMX_PROC2_RDTSCP);
}

/* A VMCS at the reader's code, with offsetting as asked and RDMSR let through. */
static bool prep(enum reader rd, const char *name, bool offsetting, uint64_t offset)
{
	static char *const code[] = { l2_rdtsc, l2_rdtscp, l2_rdmsr_tsc };

	vmx_vcpu_reset(vcpu, code[rd]);
	if (rd == RD_RDTSCP) {
		if (!rdtscp_usable(name))
			return false;
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_RDTSCP, 0);
	}
	if (!vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS, 0)) {
		test_error(name, "no MSR bitmaps");
		return false;
	}
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	if (offsetting && !vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_TSC_OFFSET, 0)) {
		vmx_require(name, VMX_CTLS_PROC, VMX_PROC_TSC_OFFSET);
		return false;
	}
	if (!offsetting)
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, 0, VMX_PROC_TSC_OFFSET | VMX_PROC_RDTSC_EXIT);
	vmcs_write(VMCS_TSC_OFFSET, offset);
	return true;
}

/* (tsc * mult) >> 48 with a 128-bit product (mult 0: no scaling). */
static uint64_t scale(uint64_t tsc, uint64_t mult)
{
	if (!mult)
		return tsc;
	return (uint64_t)(((unsigned __int128)tsc * mult) >> 48);
}

/*
 * Runs L2's reader and checks that what it saw lies in
 * [scale(before) + offset, scale(after) + offset], modulo 2^64.
 */
static void run_bounded(const char *name, enum reader rd, uint64_t offset, uint64_t mult)
{
	uint64_t before, after, lo, hi, got;
	uint32_t r;

	before = rdtsc();
	r = vmx_run(vcpu);
	after = rdtsc();
	if (r != VMX_EXIT_VMCALL) {
		test_error(name, "%s in L2: expected VMCALL after it, got exit %#x (%s)",
			   reader_names[rd], r, vmx_exit_name(r) ?: "?");
		return;
	}
	got = vcpu->regs.r8;
	lo = scale(before, mult) + offset;
	hi = scale(after, mult) + offset;
	check_msg(got - lo <= hi - lo, name,
		  "%s in L2 = %#lx; expected TSC%s + offset %#lx in [%#lx, %#lx] (L1 TSC %#lx..%#lx)",
		  reader_names[rd], got, mult ? " * multiplier" : "", offset, lo, hi, before, after);
}

/* ------------------------------------------------------------ offsetting */

static uint64_t offset_of(int kind)
{
	switch (kind) {
	case 0: return 1ull << 40;			/* positive */
	case 1: return -(rdtsc() / 2);			/* negative, result stays positive */
	default: return -rdtsc() - (1ull << 30);	/* negative: the sum wraps around 2^64 */
	}
}

static const char *const offset_names[] = { "positive", "negative", "wrap" };

/* 26.3: RDTSC/RDTSCP/RDMSR(IA32_TSC) return the TSC plus the TSC offset. */
static void run_offset(enum reader rd)
{
	if (!vmx_require_vmx())
		return;
	for (int k = 0; k < 3; k++) {
		uint64_t off = offset_of(k);

		if (!prep(rd, offset_names[k], true, off))
			return;
		run_bounded(offset_names[k], rd, off, 0);
	}
	/* The field without the control: ignored (25.6.5). */
	if (prep(rd, "disabled", false, 1ull << 40))
		run_bounded("disabled", rd, 0, 0);
}

static void check_offset_rdtsc(void) { run_offset(RD_RDTSC); }
static void check_offset_rdtscp(void) { run_offset(RD_RDTSCP); }
static void check_offset_rdmsr(void) { run_offset(RD_RDMSR); }

/* RDTSCP returns IA32_TSC_AUX[31:0] in ECX (SDM Vol. 2B RDTSCP). */
static void check_rdtscp_aux(void)
{
	uint64_t old;

	if (!vmx_require_vmx())
		return;
	if (!prep(RD_RDTSCP, "", true, 0))
		return;
	old = rdmsr(MSR_TSC_AUX);
	wrmsr(MSR_TSC_AUX, 0x5a5a1);
	vcpu->regs.r9 = 0;
	if (vmx_run(vcpu) == VMX_EXIT_VMCALL)
		check_eq("", vcpu->regs.r9, 0x5a5a1);
	else
		test_error("", "RDTSCP in L2 did not reach VMCALL: exit %#x", vcpu->exit_reason);
	wrmsr(MSR_TSC_AUX, old);
}

/* "enable RDTSCP" = 0: RDTSCP raises #UD (26.3). */
static void check_rdtscp_disabled(void)
{
	uint32_t r;

	if (!vmx_require_vmx())
		return;
	vmx_vcpu_reset(vcpu, l2_rdtscp);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, 0, VMX_PROC2_RDTSCP);
	r = vmx_run(vcpu);
	check_msg(r == VMX_EXIT_EXCEPTION && (vmcs_read(VMCS_EXIT_INTR_INFO) & 0xff) == X86_VEC_UD,
		  "", "expected a #UD exit (reason 0, vector 6), got exit %#x info %#lx", r,
		  vmcs_read(VMCS_EXIT_INTR_INFO));
}

/* ------------------------------------------------------------ RDTSC exiting */

/*
 * "RDTSC exiting" with "use TSC offsetting": RDTSC exits (reason 16) and
 * RDTSCP exits (reason 51) before reading anything (26.1.3); RIP is the
 * instruction, and the length is reported (28.2.5).  RDMSR of IA32_TSC obeys
 * only the MSR bitmap and still sees the offset.
 */
static void check_rdtsc_exiting(void)
{
	static const struct {
		const char *name;
		enum reader rd;
		uint32_t reason;
		char *insn;
		unsigned len;
	} cases[] = {
		{ "rdtsc", RD_RDTSC, VMX_EXIT_RDTSC, l2_rdtsc_insn, 2 },
		{ "rdtscp", RD_RDTSCP, VMX_EXIT_RDTSCP, l2_rdtscp_insn, 3 },
	};
	char name[48];

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t r;

		if (!prep(cases[i].rd, cases[i].name, true, 1ull << 40))
			continue;
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT, 0);
		r = vmx_run(vcpu);
		snprintf(name, sizeof(name), "%s.reason", cases[i].name);
		if (!check_eq(name, r, cases[i].reason))
			continue;
		snprintf(name, sizeof(name), "%s.rip", cases[i].name);
		check_eq(name, vmcs_read(VMCS_GUEST_RIP), cases[i].insn);
		snprintf(name, sizeof(name), "%s.insn_len", cases[i].name);
		check_eq(name, vmcs_read(VMCS_EXIT_INSN_LEN), cases[i].len);
	}
	if (prep(RD_RDMSR, "rdmsr", true, 1ull << 40)) {
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_RDTSC_EXIT, 0);
		run_bounded("rdmsr", RD_RDMSR, 1ull << 40, 0);
	}
	/* without the MSR bitmap, RDMSR of IA32_TSC exits (reason 31) despite offsetting */
	if (prep(RD_RDMSR, "rdmsr_no_bitmap", true, 1ull << 40)) {
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, 0, VMX_PROC_MSR_BITMAPS);
		if (check_eq("rdmsr_no_bitmap.reason", vmx_run(vcpu), VMX_EXIT_RDMSR))
			check_eq("rdmsr_no_bitmap.rip", vmcs_read(VMCS_GUEST_RIP), l2_rdmsr_tsc_insn);
	}
}

/* ------------------------------------------------------------ scaling */

/*
 * "use TSC scaling" (with "use TSC offsetting"): the value is
 * (TSC * multiplier) >> 48 + offset (25.6.5; 26.3).  2.0 doubles the rate,
 * 1.0 changes nothing, 0.5 halves it.
 */
static void run_scaling(enum reader rd)
{
	static const struct { const char *name; uint64_t mult, off; } m[] = {
		{ "x2", 2ull << 48, 0 },
		{ "x2_offset", 2ull << 48, 1ull << 40 },
		{ "x1", 1ull << 48, 0 },
		{ "x0_5", 1ull << 47, 0 },
	};

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_TSC_SCALING))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		if (!prep(rd, m[i].name, true, m[i].off))
			return;
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_TSC_SCALING, 0);
		vmcs_write(VMCS_TSC_MULTIPLIER, m[i].mult);
		run_bounded(m[i].name, rd, m[i].off, m[i].mult);
	}
}

static void check_scaling_rdtsc(void) { run_scaling(RD_RDTSC); }
static void check_scaling_rdtscp(void) { run_scaling(RD_RDTSCP); }
static void check_scaling_rdmsr(void) { run_scaling(RD_RDMSR); }

static const struct check_entry checks[] = {
	{ "offset.rdtsc", check_offset_rdtsc },
	{ "offset.rdtscp", check_offset_rdtscp },
	{ "offset.rdmsr", check_offset_rdmsr },
	{ "rdtscp_aux", check_rdtscp_aux },
	{ "rdtscp_disabled", check_rdtscp_disabled },
	{ "rdtsc_exiting", check_rdtsc_exiting },
	{ "scaling.rdtsc", check_scaling_rdtsc },
	{ "scaling.rdtscp", check_scaling_rdtscp },
	{ "scaling.rdmsr", check_scaling_rdmsr },
};

DEFINE_TEST("vmx_tsc", checks, .setup = setup);
