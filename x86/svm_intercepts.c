/*
 * SVM instruction intercepts (AMD APM Vol. 2 15.9-15.13, exit codes in
 * Appendix C): with its intercept bit set, each instruction exits to L1 with
 * its exit code before it executes, with the VMCB's RIP at the instruction and,
 * with NRIP save, next_rip after it (APM Vol. 2 15.7.1); with the bit clear it
 * executes in L2 (where that is safe to try).
 */
#include "alloc.h"
#include "processor.h"
#include "svm.h"
#include "test.h"

SVM_L2_CODE(l2_cpuid, "cpuid");
SVM_L2_CODE(l2_hlt, "hlt");
SVM_L2_CODE(l2_invlpg, "invlpg (%rax)");
SVM_L2_CODE(l2_invlpga, "invlpga %rax, %ecx");
SVM_L2_CODE(l2_rdtsc, "rdtsc");
SVM_L2_CODE(l2_rdtscp, "rdtscp");
SVM_L2_CODE(l2_rdpmc, "rdpmc");
SVM_L2_CODE(l2_pause, "pause");
SVM_L2_CODE(l2_monitor, "monitor %rax, %ecx, %edx");
SVM_L2_CODE(l2_mwait, "mwait %eax, %ecx");
SVM_L2_CODE(l2_xsetbv, "xsetbv");
SVM_L2_CODE(l2_wbinvd, "wbinvd");
SVM_L2_CODE(l2_invd, "invd");
SVM_L2_CODE(l2_vmload, "vmload %rax");
SVM_L2_CODE(l2_vmsave, "vmsave %rax");
SVM_L2_CODE(l2_stgi, "stgi");
SVM_L2_CODE(l2_clgi, "clgi");
SVM_L2_CODE(l2_skinit, "skinit %eax");
SVM_L2_CODE(l2_rsm, "rsm");
SVM_L2_CODE(l2_iret, "iretq");
SVM_L2_CODE(l2_intn, "int $0x80");
SVM_L2_CODE(l2_pushf, "pushfq");
SVM_L2_CODE(l2_popf, "popfq");
SVM_L2_CODE(l2_sidt, "sidt (%rax)");
SVM_L2_CODE(l2_sgdt, "sgdt (%rax)");
SVM_L2_CODE(l2_sldt, "sldt (%rax)");
SVM_L2_CODE(l2_str, "str (%rax)");
SVM_L2_CODE(l2_lidt, "lidt (%rax)");
SVM_L2_CODE(l2_lgdt, "lgdt (%rax)");
SVM_L2_CODE(l2_lldt, "lldt %cx");
SVM_L2_CODE(l2_ltr, "ltr %cx");

/* What L2's registers hold when the instruction runs. */
enum l2_setup {
	SETUP_NONE,
	SETUP_SCRATCH,		/* RAX = a scratch page, RCX = RDX = 0 */
	SETUP_DESCRIPTORS,	/* RAX = a copy of the current IDTR/GDTR, RCX = 0 */
	SETUP_XCR0,		/* XSETBV of XCR0's own value */
	SETUP_OWN_VMCB,		/* RAX = L2's VMCB: VMLOAD/VMSAVE of the same state */
};

struct intercept_case {
	const char *name;
	enum svm_intercept intercept;
	uint64_t exit_code;
	const char *code, *code_end;
	enum l2_setup setup;
	bool runs_natively;	/* safe to execute in L2 with the intercept clear */
	struct cpu_feature feature;
	const char *feature_name;	/* NULL: architectural */
};

#define CASE(n, i, e, s, native) \
	{ #n, SVM_INTERCEPT_##i, SVM_EXIT_##e, l2_##n, l2_##n##_end, s, native, { 0 }, NULL }
#define CASE_F(n, i, e, s, native, f) \
	{ #n, SVM_INTERCEPT_##i, SVM_EXIT_##e, l2_##n, l2_##n##_end, s, native, X86_FEATURE_##f, #f }

#define X86_FEATURE_MONITOR CPU_FEATURE(1, 0, 2, 3)

static const struct intercept_case cases[] = {
	CASE(cpuid, CPUID, CPUID, SETUP_NONE, true),
	CASE(hlt, HLT, HLT, SETUP_NONE, false),
	CASE(invlpg, INVLPG, INVLPG, SETUP_SCRATCH, true),
	CASE(invlpga, INVLPGA, INVLPGA, SETUP_SCRATCH, true),
	CASE(rdtsc, RDTSC, RDTSC, SETUP_NONE, true),
	CASE_F(rdtscp, RDTSCP, RDTSCP, SETUP_NONE, true, RDTSCP),
	CASE(rdpmc, RDPMC, RDPMC, SETUP_SCRATCH, false),
	CASE(pause, PAUSE, PAUSE, SETUP_NONE, true),
	CASE_F(monitor, MONITOR, MONITOR, SETUP_SCRATCH, true, MONITOR),
	CASE_F(mwait, MWAIT, MWAIT, SETUP_SCRATCH, false, MONITOR),
	CASE_F(xsetbv, XSETBV, XSETBV, SETUP_XCR0, true, XSAVE),
	CASE(wbinvd, WBINVD, WBINVD, SETUP_NONE, true),
	CASE(invd, INVD, INVD, SETUP_NONE, false),
	CASE(vmload, VMLOAD, VMLOAD, SETUP_OWN_VMCB, true),
	CASE(vmsave, VMSAVE, VMSAVE, SETUP_OWN_VMCB, true),
	CASE(stgi, STGI, STGI, SETUP_NONE, true),
	CASE(clgi, CLGI, CLGI, SETUP_NONE, true),
	CASE(skinit, SKINIT, SKINIT, SETUP_SCRATCH, false),
	CASE(rsm, RSM, RSM, SETUP_NONE, false),
	CASE(iret, IRET, IRET, SETUP_NONE, false),
	CASE(intn, INTN, SWINT, SETUP_NONE, false),
	CASE(pushf, PUSHF, PUSHF, SETUP_NONE, true),
	CASE(popf, POPF, POPF, SETUP_NONE, false),
	CASE(sidt, IDTR_READ, IDTR_READ, SETUP_SCRATCH, true),
	CASE(sgdt, GDTR_READ, GDTR_READ, SETUP_SCRATCH, true),
	CASE(sldt, LDTR_READ, LDTR_READ, SETUP_SCRATCH, true),
	CASE(str, TR_READ, TR_READ, SETUP_SCRATCH, true),
	CASE(lidt, IDTR_WRITE, IDTR_WRITE, SETUP_DESCRIPTORS, true),
	CASE(lgdt, GDTR_WRITE, GDTR_WRITE, SETUP_DESCRIPTORS, true),
	CASE(lldt, LDTR_WRITE, LDTR_WRITE, SETUP_DESCRIPTORS, true),
	CASE(ltr, TR_WRITE, TR_WRITE, SETUP_DESCRIPTORS, false),
};

static struct svm_vcpu *vcpu;
static uint8_t *scratch;
static const char *svm_missing;

static void setup(void)
{
	if (!svm_supported(&svm_missing))
		return;
	svm_enable();
	vcpu = svm_vcpu_create();
	scratch = alloc_page();
}

static uint64_t read_xcr0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((uint64_t)hi << 32);
}

static void prepare(const struct intercept_case *c, bool intercepted)
{
	struct vmcb *vmcb = vcpu->vmcb;

	svm_vcpu_reset(vcpu, (void *)c->code);
	svm_intercept(vcpu, c->intercept, intercepted);
	switch (c->setup) {
	case SETUP_NONE:
		break;
	case SETUP_SCRATCH:
		vmcb->save.rax = (uint64_t)scratch;
		break;
	case SETUP_DESCRIPTORS:
		/* LIDT/LGDT reload what SIDT/SGDT stored: the same tables. */
		asm volatile("sidt (%0)" : : "r"(scratch) : "memory");
		vmcb->save.rax = (uint64_t)scratch;
		break;
	case SETUP_XCR0:
		/* XSETBV needs CR4.OSXSAVE in L2 (APM Vol. 3, XSETBV). */
		vmcb->save.cr4 |= X86_CR4_OSXSAVE;
		write_cr4(read_cr4() | X86_CR4_OSXSAVE);
		vmcb->save.rax = (uint32_t)read_xcr0();
		vcpu->regs.rdx = read_xcr0() >> 32;
		break;
	case SETUP_OWN_VMCB:
		vmcb->save.rax = (uint64_t)vmcb;
		break;
	}
}

static const char *exit_text(uint64_t code, char *buf, size_t size)
{
	const char *name = svm_exit_name(code);

	snprintf(buf, size, "%#lx (%s)", code, name ? name : "?");
	return buf;
}

static void run_case(const struct intercept_case *c)
{
	uint64_t code, insn = (uint64_t)c->code, next = (uint64_t)c->code_end;
	char got[48];

	report_prefix_push("%s", c->name);
	if (c->feature_name && !cpu_has(c->feature)) {
		skip("", "no %s in CPUID", c->feature_name);
		report_prefix_pop();
		return;
	}

	prepare(c, true);
	code = svm_run(vcpu);
	check_msg(code == c->exit_code && vcpu->vmcb->save.rip == insn, "exit",
		  "exit code %s at rip %#lx, expected %#lx (%s) at rip %#lx",
		  exit_text(code, got, sizeof(got)), vcpu->vmcb->save.rip, c->exit_code,
		  svm_exit_name(c->exit_code), insn);
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else if (code == c->exit_code)
		check_msg(vcpu->vmcb->control.next_rip == next, "next_rip",
			  "next_rip %#lx, expected %#lx (the instruction is %lu bytes)",
			  vcpu->vmcb->control.next_rip, next, next - insn);

	if (c->runs_natively) {
		prepare(c, false);
		code = svm_run(vcpu);
		check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == next,
			  "not_intercepted", "exit code %s at rip %#lx, expected VMMCALL at %#lx",
			  exit_text(code, got, sizeof(got)), vcpu->vmcb->save.rip, next);
	}
	if (c->setup == SETUP_XCR0)
		write_cr4(read_cr4() & ~X86_CR4_OSXSAVE);
	report_prefix_pop();
}

static void check_instructions(void)
{
	if (svm_missing) {
		skip("", "%s", svm_missing);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static const struct check_entry checks[] = {
	{ "insn", check_instructions },
};

DEFINE_TEST("svm_intercepts", checks, .setup = setup);
