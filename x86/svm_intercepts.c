/*
 * SVM instruction intercepts (AMD APM Vol. 2 15.9-15.13, exit codes in
 * Appendix C): with its intercept bit set, each instruction exits to L1 with
 * its exit code before it executes, with the VMCB's RIP at the instruction and,
 * with NRIP save, next_rip after it (APM Vol. 2 15.7.1); with the bit clear it
 * executes in L2 (where that is safe to try).  With decode assists, INTn and
 * INVLPG also report their operand in EXITINFO1 (APM Vol. 2 15.35).  At CPL 3
 * the SVM instructions' #GP comes before their intercepts (insn.cpl3).
 *
 * Each instruction is one entry of the table (insn.NAME), with the results
 * exit, next_rip, exitinfo1 and not_intercepted.  L2 runs with an IDT of
 * not-present gates (svm_isolate_exceptions()), so an exception that the
 * hypervisor lets through shows as #VMEXIT(#NP) rather than crashing L1.
 */
#include "alloc.h"
#include "desc.h"
#include "l2_modes.h"
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
SVM_L2_CODE(l2_vmmcall, "vmmcall");
SVM_L2_CODE(l2_vmload, "vmload %rax");
SVM_L2_CODE(l2_vmsave, "vmsave %rax");
SVM_L2_CODE(l2_stgi, "stgi");
SVM_L2_CODE(l2_clgi, "clgi");
SVM_L2_CODE(l2_skinit, "skinit %eax");
SVM_L2_CODE(l2_vmrun, "vmrun %rax");
SVM_L2_CODE(l2_icebp, ".byte 0xf1");
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

/* What EXITINFO1 holds with decode assists (APM Vol. 2 15.35.3-15.35.4). */
enum exitinfo {
	EXITINFO_NONE,
	EXITINFO_VECTOR,	/* INTn: the vector, 0x80 */
	EXITINFO_RAX,		/* INVLPG: the linear address, RAX */
};

struct intercept_case {
	const char *name;
	enum svm_intercept intercept;
	uint64_t exit_code;
	const char *code, *code_end;
	enum l2_setup setup;
	bool runs_natively;	/* safe to execute in L2 with the intercept clear */
	enum exitinfo exitinfo;
	struct cpu_feature feature;
	const char *feature_name;	/* NULL: architectural */
};

#define X86_FEATURE_MONITOR CPU_FEATURE(1, 0, 2, 3)
#define NO_FEATURE { 0 }, NULL
#define FEATURE(f) X86_FEATURE_##f, #f

/*
 * The table: NAME, intercept and exit code, L2 setup, whether it runs natively,
 * what EXITINFO1 holds, the CPUID feature the instruction needs.
 */
#define INSN_CASES(X)                                                                  \
	X(cpuid, CPUID, CPUID, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)            \
	X(hlt, HLT, HLT, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)                 \
	X(invlpg, INVLPG, INVLPG, SETUP_SCRATCH, true, EXITINFO_RAX, NO_FEATURE)       \
	X(invlpga, INVLPGA, INVLPGA, SETUP_SCRATCH, true, EXITINFO_NONE, NO_FEATURE)   \
	X(rdtsc, RDTSC, RDTSC, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)            \
	X(rdtscp, RDTSCP, RDTSCP, SETUP_NONE, true, EXITINFO_NONE, FEATURE(RDTSCP))    \
	X(rdpmc, RDPMC, RDPMC, SETUP_SCRATCH, false, EXITINFO_NONE, NO_FEATURE)        \
	X(pause, PAUSE, PAUSE, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)            \
	X(monitor, MONITOR, MONITOR, SETUP_SCRATCH, true, EXITINFO_NONE, FEATURE(MONITOR)) \
	X(mwait, MWAIT, MWAIT, SETUP_SCRATCH, false, EXITINFO_NONE, FEATURE(MONITOR))  \
	X(xsetbv, XSETBV, XSETBV, SETUP_XCR0, true, EXITINFO_NONE, FEATURE(XSAVE))     \
	X(wbinvd, WBINVD, WBINVD, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)         \
	X(invd, INVD, INVD, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)              \
	X(vmmcall, VMMCALL, VMMCALL, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)     \
	X(vmload, VMLOAD, VMLOAD, SETUP_OWN_VMCB, true, EXITINFO_NONE, NO_FEATURE)      \
	X(vmsave, VMSAVE, VMSAVE, SETUP_OWN_VMCB, true, EXITINFO_NONE, NO_FEATURE)      \
	X(stgi, STGI, STGI, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)               \
	X(clgi, CLGI, CLGI, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)               \
	X(skinit, SKINIT, SKINIT, SETUP_SCRATCH, false, EXITINFO_NONE, NO_FEATURE)     \
	X(icebp, ICEBP, ICEBP, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)           \
	X(rsm, RSM, RSM, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)                 \
	X(iret, IRET, IRET, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)              \
	X(intn, INTN, SWINT, SETUP_NONE, false, EXITINFO_VECTOR, NO_FEATURE)           \
	X(pushf, PUSHF, PUSHF, SETUP_NONE, true, EXITINFO_NONE, NO_FEATURE)            \
	X(popf, POPF, POPF, SETUP_NONE, false, EXITINFO_NONE, NO_FEATURE)              \
	X(sidt, IDTR_READ, IDTR_READ, SETUP_SCRATCH, true, EXITINFO_NONE, NO_FEATURE)  \
	X(sgdt, GDTR_READ, GDTR_READ, SETUP_SCRATCH, true, EXITINFO_NONE, NO_FEATURE)  \
	X(sldt, LDTR_READ, LDTR_READ, SETUP_SCRATCH, true, EXITINFO_NONE, NO_FEATURE)  \
	X(str, TR_READ, TR_READ, SETUP_SCRATCH, true, EXITINFO_NONE, NO_FEATURE)       \
	X(lidt, IDTR_WRITE, IDTR_WRITE, SETUP_DESCRIPTORS, true, EXITINFO_NONE, NO_FEATURE) \
	X(lgdt, GDTR_WRITE, GDTR_WRITE, SETUP_DESCRIPTORS, true, EXITINFO_NONE, NO_FEATURE) \
	X(lldt, LDTR_WRITE, LDTR_WRITE, SETUP_DESCRIPTORS, true, EXITINFO_NONE, NO_FEATURE) \
	X(ltr, TR_WRITE, TR_WRITE, SETUP_DESCRIPTORS, false, EXITINFO_NONE, NO_FEATURE)

#define DEFINE_CASE(n, i, e, s, native, ei, ...)                                       \
	static const struct intercept_case case_##n = {                                \
		#n, SVM_INTERCEPT_##i, SVM_EXIT_##e, l2_##n, l2_##n##_end, s, native,  \
		ei, __VA_ARGS__                                                        \
	};
INSN_CASES(DEFINE_CASE)

static struct svm_vcpu *vcpu;
static uint8_t *scratch;

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
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
	svm_isolate_exceptions(vcpu);
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
	uint64_t info1, want;
	char got[48];

	if (!svm_require())
		return;
	if (c->feature_name && !cpu_has(c->feature)) {
		skip("", "no %s in CPUID", c->feature_name);
		return;
	}

	prepare(c, true);
	code = svm_run(vcpu);
	info1 = vcpu->vmcb->control.exit_info1;
	/* EXITINFO1 names the gate of an exception that ended in #VMEXIT(#NP). */
	check_msg(code == c->exit_code && vcpu->vmcb->save.rip == insn, "exit",
		  "exit code %s (EXITINFO1 %#lx) at rip %#lx, expected %#lx (%s) at rip %#lx",
		  exit_text(code, got, sizeof(got)), info1, vcpu->vmcb->save.rip, c->exit_code,
		  svm_exit_name(c->exit_code), insn);
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else if (code == c->exit_code)
		check_msg(vcpu->vmcb->control.next_rip == next, "next_rip",
			  "next_rip %#lx, expected %#lx (the instruction is %lu bytes)",
			  vcpu->vmcb->control.next_rip, next, next - insn);
	if (c->exitinfo != EXITINFO_NONE) {
		want = c->exitinfo == EXITINFO_VECTOR ? 0x80 : (uint64_t)scratch;
		if (!svm_has(SVM_FEATURE_DECODE_ASSISTS))
			skip("exitinfo1", "no %s", svm_feature_name(SVM_FEATURE_DECODE_ASSISTS));
		else if (code == c->exit_code)
			check_eq("exitinfo1", info1, want);
	}
	if (c->setup == SETUP_XCR0)
		write_cr4(read_cr4() & ~X86_CR4_OSXSAVE);

	if (c->runs_natively) {
		prepare(c, false);
		code = svm_run(vcpu);
		check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == next,
			  "not_intercepted", "exit code %s at rip %#lx, expected VMMCALL at %#lx",
			  exit_text(code, got, sizeof(got)), vcpu->vmcb->save.rip, next);
		if (c->setup == SETUP_XCR0)
			write_cr4(read_cr4() & ~X86_CR4_OSXSAVE);
	}
}

#define DEFINE_CHECK(n, ...) static void check_##n(void) { run_case(&case_##n); }
INSN_CASES(DEFINE_CHECK)

/* VMMCALL with its intercept clear raises #UD in the guest (APM Vol. 3, VMMCALL). */
static void check_vmmcall_ud(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(&case_vmmcall, false);
	svm_intercept_exception(vcpu, X86_VEC_UD, true);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_EXCP(X86_VEC_UD) && vcpu->vmcb->save.rip == (uint64_t)l2_vmmcall,
		  "", "exit code %#lx at rip %#lx, expected #UD (0x46) at rip %p",
		  code, vcpu->vmcb->save.rip, l2_vmmcall);
}

/*
 * RSM outside SMM with its intercept clear raises #UD (APM Vol. 3 RSM).  With
 * the intercept set, insn.rsm exits instead: the RSM intercept takes priority
 * over any exception (APM Vol. 2 15.9, Table 15-7).
 */
static void check_rsm_ud(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(&case_rsm, false);
	svm_intercept_exception(vcpu, X86_VEC_UD, true);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_EXCP(X86_VEC_UD) && vcpu->vmcb->save.rip == (uint64_t)l2_rsm,
		  "", "exit code %#lx at rip %#lx, expected #UD (0x46) at rip %p", code,
		  vcpu->vmcb->save.rip, l2_rsm);
}

/*
 * RDTSCP has its own intercept (vector 4 bit 7, exit 0x87); the RDTSC
 * intercept does not cover it (APM Vol. 2 15.9, Table B-1).
 */
static void check_rdtscp_not_rdtsc(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	if (!cpu_has(X86_FEATURE_RDTSCP)) {
		skip("", "no RDTSCP in CPUID");
		return;
	}
	prepare(&case_rdtscp, false);
	svm_intercept(vcpu, SVM_INTERCEPT_RDTSC, true);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL, "", "exit code %#lx, expected RDTSCP to run (VMMCALL)",
		  code);
}

/* RDTSC is not covered by the RDTSCP intercept either. */
static void check_rdtsc_not_rdtscp(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(&case_rdtsc, false);
	svm_intercept(vcpu, SVM_INTERCEPT_RDTSCP, true);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL, "", "exit code %#lx, expected RDTSC to run (VMMCALL)",
		  code);
}

/* WBINVD is not covered by the INVD intercept (APM Vol. 2 15.9). */
static void check_wbinvd_not_invd(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(&case_wbinvd, false);
	svm_intercept(vcpu, SVM_INTERCEPT_INVD, true);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL, "", "exit code %#lx, expected WBINVD to run (VMMCALL)",
		  code);
}

/*
 * VMRUN in L2 always exits with 0x80: its intercept must be set for VMRUN to
 * enter L2 at all (APM Vol. 2 15.5.1, 15.9).  rAX names a valid, aligned VMCB
 * (L2's own), so no #GP comes first; with NRIP save next_rip follows VMRUN.
 */
static void check_vmrun_exit(void)
{
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t code;
	char got[48];

	if (!svm_require())
		return;
	svm_vcpu_reset(vcpu, l2_vmrun);
	svm_isolate_exceptions(vcpu);
	vmcb->save.rax = (uint64_t)vmcb;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMRUN && vmcb->save.rip == (uint64_t)l2_vmrun, "exit",
		  "exit code %s (EXITINFO1 %#lx) at rip %#lx, expected 0x80 (VMRUN) at rip %p",
		  exit_text(code, got, sizeof(got)), vmcb->control.exit_info1, vmcb->save.rip,
		  l2_vmrun);
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else if (code == SVM_EXIT_VMRUN)
		check_msg(vmcb->control.next_rip == (uint64_t)l2_vmrun_end, "next_rip",
			  "next_rip %#lx, expected %p", vmcb->control.next_rip, l2_vmrun_end);
}

/*
 * APM Vol. 2 15.9: instruction intercepts are checked after simple exceptions
 * such as the #GP of a wrong CPL, and VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT
 * and INVLPGA raise #GP(0) at CPL > 0 (APM Vol. 3, each instruction's
 * exceptions).  So in L2 at CPL 3 with the instruction's intercept set, each
 * raises #GP(0): intercepted, exit 0x4D with error code 0 in EXITINFO1 at the
 * instruction, not the instruction's own exit.  VMMCALL, legal at any CPL,
 * exits with VMMCALL there (vmmcall, the control).
 */
static void check_cpl3(void)
{
	static const struct { const char *name; enum svm_intercept intercept; const char *code; } cases[] = {
		{ "vmrun", SVM_INTERCEPT_VMRUN, l2_vmrun },
		{ "vmload", SVM_INTERCEPT_VMLOAD, l2_vmload },
		{ "vmsave", SVM_INTERCEPT_VMSAVE, l2_vmsave },
		{ "stgi", SVM_INTERCEPT_STGI, l2_stgi },
		{ "clgi", SVM_INTERCEPT_CLGI, l2_clgi },
		{ "skinit", SVM_INTERCEPT_SKINIT, l2_skinit },
		{ "invlpga", SVM_INTERCEPT_INVLPGA, l2_invlpga },
		{ "vmmcall", SVM_INTERCEPT_VMMCALL, l2_vmmcall },
	};
	char got[48];

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool control = cases[i].intercept == SVM_INTERCEPT_VMMCALL;
		uint64_t code, want = control ? SVM_EXIT_VMMCALL : SVM_EXIT_EXCP(X86_VEC_GP);
		struct vmcb *vmcb = vcpu->vmcb;

		svm_vcpu_reset(vcpu, (void *)cases[i].code);
		svm_vcpu_set_user_mode(vcpu);
		svm_isolate_exceptions(vcpu);
		svm_intercept_exception(vcpu, X86_VEC_GP, true);
		svm_intercept(vcpu, cases[i].intercept, true);
		vmcb->save.rax = (uint64_t)vmcb;	/* a valid, aligned VMCB address */
		code = svm_run(vcpu);
		check_msg(code == want && vmcb->save.rip == (uint64_t)cases[i].code &&
			  (control || vmcb->control.exit_info1 == 0), cases[i].name,
			  "CPL 3: exit %s (EXITINFO1 %#lx) at rip %#lx, expected %s at %p",
			  exit_text(code, got, sizeof(got)), vmcb->control.exit_info1,
			  vmcb->save.rip, control ? "VMMCALL (0x81)" : "#GP(0) (0x4d, EXITINFO1 0)",
			  cases[i].code);
	}
}

/* ---------------------------------------------------------------- task switches */

/*
 * L2's GDT for task switches: a copy of L1's with two 32-bit TSS descriptors
 * (APM Vol. 2 12.2, the legacy TSS): the current task's (busy) and a
 * target (available).
 */
#define TS_OLD_TSS	0x50
#define TS_NEW_TSS	0x58
#define TS_GDT_LIMIT	(TS_NEW_TSS + 7)
#define TSS32_LIMIT	0x67
#define TSS_TYPE_AVAIL32	0x9
#define TSS_TYPE_BUSY32		0xb
/* 32-bit (legacy) TSS fields (APM Vol. 2 12.2) */
#define TSS32_CR3	0x1c
#define TSS32_EIP	0x20
#define TSS32_EFLAGS	0x24
#define TSS32_ESP	0x38
#define TSS32_ES	0x48	/* then CS, SS, DS, FS, GS, 4 bytes apart */
#define TSS32_IOMAP	0x66

/* EXITINFO2 of #VMEXIT(TASK_SWITCH) (APM Vol. 2 15.14.1) */
#define TS_INFO2_IRET		BIT(36)
#define TS_INFO2_JMP		BIT(38)
#define TS_INFO2_ERROR_CODE	BIT(44)

struct task_switch_setup {
	uint64_t *gdt;
	uint8_t *old_tss, *new_tss;
};

static uint64_t tss32_descriptor(const void *tss, unsigned type)
{
	uint64_t base = (uint64_t)tss;

	return TSS32_LIMIT | (base & 0xffffff) << 16 | (uint64_t)type << 40 | BIT(47) |
	       (base >> 24) << 56;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * A 32-bit protected-mode L2 at @code (paging off) on its own GDT, with TR the
 * busy TS_OLD_TSS and a target task at TS_NEW_TSS whose EIP is VMMCALL; EDI
 * points at a far pointer to TS_NEW_TSS (offset 0).  For a return (IRET with
 * NT) the target is busy, as a nested task is, and TS_OLD_TSS links to it
 * (APM Vol. 2 12.3.2).
 */
static struct task_switch_setup task_switch_prepare(const char *code, bool nested_return)
{
	static struct task_switch_setup t;
	struct vmcb *vmcb = vcpu->vmcb;
	uint8_t *ptr = scratch + 0x100;

	if (!t.gdt) {
		t.gdt = alloc_page();
		t.old_tss = alloc_page();
		t.new_tss = alloc_page();
	}
	memset(t.gdt, 0, PAGE_SIZE);
	memcpy(t.gdt, gdt64, (uint8_t *)gdt64_end - (uint8_t *)gdt64);
	t.gdt[TS_OLD_TSS / 8] = tss32_descriptor(t.old_tss, TSS_TYPE_BUSY32);
	t.gdt[TS_NEW_TSS / 8] = tss32_descriptor(t.new_tss, nested_return ? TSS_TYPE_BUSY32 :
									   TSS_TYPE_AVAIL32);
	memset(t.old_tss, 0, PAGE_SIZE);
	memset(t.new_tss, 0, PAGE_SIZE);
	if (nested_return)
		*(uint16_t *)t.old_tss = TS_NEW_TSS;	/* the link field */
	put32(t.new_tss + TSS32_CR3, (uint32_t)read_cr3());
	put32(t.new_tss + TSS32_EIP, (uint32_t)(uint64_t)l2_pm32_vmmcall);
	put32(t.new_tss + TSS32_EFLAGS, X86_EFLAGS_FIXED);
	put32(t.new_tss + TSS32_ESP, (uint32_t)((uint64_t)vcpu->stack + PAGE_SIZE));
	for (unsigned i = 0; i < 6; i++)
		put32(t.new_tss + TSS32_ES + 4 * i, i == 1 ? KERNEL_CS32 : KERNEL_DS);
	*(uint16_t *)(t.new_tss + TSS32_IOMAP) = TSS32_LIMIT + 1;
	*(uint16_t *)(t.old_tss + TSS32_IOMAP) = TSS32_LIMIT + 1;

	svm_vcpu_reset(vcpu, (void *)code);
	svm_vcpu_set_pm32(vcpu);
	svm_isolate_exceptions(vcpu);
	vmcb->save.gdtr.base = (uint64_t)t.gdt;
	vmcb->save.gdtr.limit = TS_GDT_LIMIT;
	vmcb->save.tr.selector = TS_OLD_TSS;
	vmcb->save.tr.attrib = 0x80 | TSS_TYPE_BUSY32;
	vmcb->save.tr.limit = TSS32_LIMIT;
	vmcb->save.tr.base = (uint64_t)t.old_tss;
	vmcb->save.ldtr.selector = 0;
	vmcb->save.ldtr.attrib = 0;
	put32(ptr, 0);
	*(uint16_t *)(ptr + 4) = TS_NEW_TSS;
	vcpu->regs.rdi = (uint64_t)ptr;
	return t;
}

/*
 * A task gate for #GP in L2's IDT (APM Vol. 2 8.9.2, 12.3.4): the other
 * vectors are 32-bit interrupt gates with P clear, so any other exception
 * ends in the intercepted #NP instead of a second task switch.
 */
#define TS_BAD_SELECTOR	0x1233		/* beyond TS_GDT_LIMIT */
#define TS_GP_ERROR	(TS_BAD_SELECTOR & ~3u)	/* the selector's error code, EXT/IDT clear */

static void task_switch_gate_gp(void)
{
	static uint64_t *idt;
	struct vmcb *vmcb = vcpu->vmcb;

	if (!idt)
		idt = alloc_page();
	for (unsigned v = 0; v < 32; v++)
		idt[v] = (0xeull << 40) | ((uint64_t)KERNEL_CS32 << 16);
	idt[X86_VEC_GP] = (0x5ull << 40) | BIT(47) | ((uint64_t)TS_NEW_TSS << 16);
	vmcb->save.idtr.base = (uint64_t)idt;
	vmcb->save.idtr.limit = 32 * 8 - 1;
	vcpu->regs.rsi = TS_BAD_SELECTOR;
}

struct task_switch_case {
	const char *code, *insn;	/* L2's code; the instruction that switches */
	bool nested_return;		/* the target is busy and linked (IRET) */
	bool via_gate;			/* a #GP through the task gate of task_switch_gate_gp */
	uint64_t info2;			/* EXITINFO2's bits 36, 38 and 44 */
};

/*
 * APM Vol. 2 15.14.1 (Task Switch Intercept): with the TASK_SWITCH intercept
 * set, a task switch in L2 exits with 7Dh before it happens: EXITINFO1 holds
 * the target TSS selector, EXITINFO2 bit 36 is set for IRET, bit 38 for a far
 * JMP, bit 44 (with the code in 31:0) when an error code would be pushed.  A
 * far JMP or CALL to a TSS descriptor outside long mode switches tasks
 * (APM Vol. 2 12.3); task switches exist only outside long mode, so L2 runs
 * in 32-bit protected mode.  First, without the intercept, the switch runs
 * (not_intercepted: the new task's VMMCALL, TR the target, and for an
 * exception its error code pushed on the new task's stack); then with it:
 * the exit at the instruction that switches (exit), EXITINFO1 (exitinfo1),
 * the source bits of EXITINFO2 (exitinfo2: JMP sets 38 alone of 36, 38 and
 * 44, IRET 36 alone, CALL none, an exception with an error code 44 and the
 * code in 31:0), for an exception the event being delivered in EXITINTINFO
 * (exitintinfo: 15.7.2, the intercept happened during its delivery through
 * the IDT), and no switch (tr_unchanged: TR and the target's type stay).
 */
static void task_switch_run(const struct task_switch_case *c)
{
	struct task_switch_setup t;
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t exit, info2, bits = TS_INFO2_IRET | TS_INFO2_JMP | TS_INFO2_ERROR_CODE;
	uint64_t new_rsp = (uint64_t)vcpu->stack + PAGE_SIZE - (c->via_gate ? 4 : 0);
	unsigned new_type, want_type = c->nested_return ? TSS_TYPE_BUSY32 : TSS_TYPE_AVAIL32;
	char got[48];

	if (!svm_require())
		return;
	t = task_switch_prepare(c->code, c->nested_return);
	if (((uint64_t)scratch | (uint64_t)vcpu->stack | (uint64_t)t.gdt | (uint64_t)t.old_tss |
	     (uint64_t)t.new_tss) >> 32) {
		skip("", "test pages above 4 GiB: a 32-bit L2 cannot reach them");
		return;
	}
	if (c->via_gate)
		task_switch_gate_gp();
	exit = svm_run(vcpu);
	check_msg(exit == SVM_EXIT_VMMCALL && vmcb->save.rip == (uint64_t)l2_pm32_vmmcall &&
		  vmcb->save.tr.selector == TS_NEW_TSS && (uint32_t)vmcb->save.rsp == new_rsp &&
		  (!c->via_gate || *(uint32_t *)new_rsp == TS_GP_ERROR), "not_intercepted",
		  "exit %s at rip %#lx, TR %#x, ESP %#x: expected VMMCALL in the new task at %p, "
		  "TR %#x, ESP %#lx%s", exit_text(exit, got, sizeof(got)), vmcb->save.rip,
		  vmcb->save.tr.selector, (uint32_t)vmcb->save.rsp, l2_pm32_vmmcall, TS_NEW_TSS,
		  new_rsp, c->via_gate ? " holding the error code" : "");

	t = task_switch_prepare(c->code, c->nested_return);
	if (c->via_gate)
		task_switch_gate_gp();
	svm_intercept(vcpu, SVM_INTERCEPT_TASK_SWITCH, true);
	exit = svm_run(vcpu);
	if (!check_msg(exit == SVM_EXIT_TASK_SWITCH && vmcb->save.rip == (uint64_t)c->insn, "exit",
		       "exit %s (EXITINFO1 %#lx) at rip %#lx, TR %#x: expected 0x7d (TASK_SWITCH) "
		       "at %p", exit_text(exit, got, sizeof(got)), vmcb->control.exit_info1,
		       vmcb->save.rip, vmcb->save.tr.selector, c->insn))
		return;
	check_eq("exitinfo1", vmcb->control.exit_info1, TS_NEW_TSS);
	info2 = vmcb->control.exit_info2;
	check_msg((info2 & bits) == c->info2 &&
		  (!(c->info2 & TS_INFO2_ERROR_CODE) || (uint32_t)info2 == TS_GP_ERROR),
		  "exitinfo2", "EXITINFO2 %#lx: expected bits 36 (IRET), 38 (JMP), 44 (error "
		  "code) to be %#lx%s", info2, c->info2,
		  c->info2 & TS_INFO2_ERROR_CODE ? " and the error code 0x1230 in 31:0" : "");
	if (c->via_gate)
		check_eq("exitintinfo", vmcb->control.exit_int_info,
			 X86_VEC_GP | SVM_EVTINJ_TYPE_EXCEPTION | SVM_EVTINJ_ERROR_VALID |
			 SVM_EVTINJ_VALID | (uint64_t)TS_GP_ERROR << SVM_EVTINJ_ERROR_SHIFT);
	new_type = (t.gdt[TS_NEW_TSS / 8] >> 40) & 0xf;
	check_msg(vmcb->save.tr.selector == TS_OLD_TSS && vmcb->save.tr.base ==
		  (uint64_t)t.old_tss && new_type == want_type, "tr_unchanged",
		  "TR %#x base %#lx, target descriptor type %#x: expected TR %#x base %p and the "
		  "target's type unchanged (%#x)", vmcb->save.tr.selector, vmcb->save.tr.base,
		  new_type, TS_OLD_TSS, t.old_tss, want_type);
}

static void check_task_switch_jmp(void)
{
	task_switch_run(&(struct task_switch_case){ l2_pm32_ljmp, l2_pm32_ljmp,
		.info2 = TS_INFO2_JMP });
}

static void check_task_switch_call(void)
{
	task_switch_run(&(struct task_switch_case){ l2_pm32_lcall, l2_pm32_lcall });
}

static void check_task_switch_iret(void)
{
	task_switch_run(&(struct task_switch_case){ l2_pm32_iret_nt, l2_pm32_iret_nt_insn,
		.nested_return = true, .info2 = TS_INFO2_IRET });
}

/* #GP(selector) raised by L2, delivered through a task gate: an error code is pushed */
static void check_task_switch_gate_error_code(void)
{
	task_switch_run(&(struct task_switch_case){ l2_pm32_load_ds, l2_pm32_load_ds_insn,
		.via_gate = true, .info2 = TS_INFO2_ERROR_CODE });
}

#define TABLE_ENTRY(n, ...) { "insn." #n, check_##n },

static const struct check_entry checks[] = {
	INSN_CASES(TABLE_ENTRY)
	{ "insn.vmmcall_ud", check_vmmcall_ud },
	{ "insn.rsm_ud", check_rsm_ud },
	{ "insn.rdtscp_not_rdtsc", check_rdtscp_not_rdtsc },
	{ "insn.rdtsc_not_rdtscp", check_rdtsc_not_rdtscp },
	{ "insn.wbinvd_not_invd", check_wbinvd_not_invd },
	{ "insn.vmrun", check_vmrun_exit },
	{ "insn.cpl3", check_cpl3 },
	{ "task_switch.jmp", check_task_switch_jmp },
	{ "task_switch.call", check_task_switch_call },
	{ "task_switch.iret", check_task_switch_iret },
	{ "task_switch.gate_error_code", check_task_switch_gate_error_code },
};

DEFINE_TEST("svm_intercepts", checks, .setup = setup);
