/*
 * VMRUN's checks (AMD APM Vol. 2 15.5.1 "Canonicalization and Consistency
 * Checks", 15.20 for EVENTINJ; Vol. 3 VMRUN, VMLOAD, VMSAVE, STGI, CLGI):
 *  - each check makes an otherwise valid VMCB illegal in exactly one element;
 *    VMRUN must then #VMEXIT at once with exit code VMEXIT_INVALID (-1), L1
 *    resuming after its VMRUN;
 *  - the unchanged VMCB runs L2 to its VMMCALL (the control);
 *  - the SVM instructions raise #UD with EFER.SVME clear and #GP(0) for a
 *    VMCB address that is not page aligned or beyond the physical address width.
 * L2 runs with every exception and SHUTDOWN intercepted and an IDT of its own,
 * so a hypervisor that accepts an illegal VMCB shows as a FAIL, not a crash.
 */
#include "alloc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "svm.h"
#include "svm_util.h"
#include "test.h"

SVM_L2_CODE(l2_vmrun_nop, "nop");

static struct svm_vcpu *vcpu;
static void *l2_idt;
static unsigned maxphy;
static uint64_t iopm_pa, msrpm_pa;	/* the vCPU's own maps (svm_vcpu_reset() keeps what it finds) */

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
	l2_idt = l2_idt_create();
	maxphy = cpu_physical_address_bits();
	iopm_pa = vcpu->vmcb->control.iopm_base_pa;
	msrpm_pa = vcpu->vmcb->control.msrpm_base_pa;
}

/* The valid VMCB every check starts from. */
static void prepare(void)
{
	struct vmcb *vmcb = vcpu->vmcb;

	vmcb->control.iopm_base_pa = iopm_pa;
	vmcb->control.msrpm_base_pa = msrpm_pa;
	svm_vcpu_reset(vcpu, l2_vmrun_nop);
	l2_idt_prepare(vcpu, l2_idt);
	vmcb->control.intercept_exceptions = 0xffffffff;
	svm_intercept(vcpu, SVM_INTERCEPT_SHUTDOWN, true);
	l2_event_reset();
}

/*
 * Runs the prepared VMCB and checks that VMRUN refused it.  Only EXITCODE's low
 * half is compared: that the whole 64-bit field reads -1 is check exitcode.
 */
static void expect_invalid(const char *name, const char *what)
{
	uint64_t code = svm_run(vcpu);
	char buf[48];

	check_msg((uint32_t)code == (uint32_t)SVM_EXIT_INVALID, name,
		  "%s: expected VMEXIT_INVALID (-1), got exit %s at rip %#lx (L2 %s)", what,
		  svm_exit_text(code, buf, sizeof(buf)), vcpu->vmcb->save.rip,
		  l2_event.count ? "took an event" : "ran");
}

/* APM Vol. 2 15.5.1: the unchanged VMCB is legal: L2 runs to VMMCALL. */
static void check_valid(void)
{
	uint64_t code;
	char buf[48];

	if (!svm_require())
		return;
	prepare();
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)l2_vmrun_nop_end,
		  "", "exit %s at rip %#lx, expected VMMCALL at %p",
		  svm_exit_text(code, buf, sizeof(buf)), vcpu->vmcb->save.rip, l2_vmrun_nop_end);
}

/* One illegal element: field = (field & ~clear) | set. */
enum vmcb_field { F_EFER, F_CR0, F_CR3, F_CR4, F_DR6, F_DR7, F_CS_ATTRIB, F_INTERCEPTS,
		  F_ASID, F_IOPM, F_MSRPM, F_EVENTINJ };

struct illegal_case {
	const char *name;
	enum vmcb_field field;
	uint64_t set, clear;
	const char *rule;
};

/* The field's offset in the VMCB (the structure is packed: no pointers to members). */
static size_t field_offset(enum vmcb_field f)
{
	switch (f) {
	case F_EFER: return offsetof(struct vmcb, save.efer);
	case F_CR0: return offsetof(struct vmcb, save.cr0);
	case F_CR3: return offsetof(struct vmcb, save.cr3);
	case F_CR4: return offsetof(struct vmcb, save.cr4);
	case F_DR6: return offsetof(struct vmcb, save.dr6);
	case F_DR7: return offsetof(struct vmcb, save.dr7);
	case F_INTERCEPTS: return offsetof(struct vmcb, control.intercepts);
	case F_IOPM: return offsetof(struct vmcb, control.iopm_base_pa);
	case F_MSRPM: return offsetof(struct vmcb, control.msrpm_base_pa);
	case F_EVENTINJ: return offsetof(struct vmcb, control.event_inj);
	default: return 0;
	}
}

static void run_illegal(const struct illegal_case *c)
{
	struct vmcb *vmcb = vcpu->vmcb;

	prepare();
	switch (c->field) {
	case F_CS_ATTRIB:
		vmcb->save.cs.attrib = (vmcb->save.cs.attrib & ~c->clear) | c->set;
		break;
	case F_ASID:
		vmcb->control.asid = (vmcb->control.asid & ~c->clear) | c->set;
		break;
	default: {
		uint8_t *p = (uint8_t *)vmcb + field_offset(c->field);
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		v = (v & ~c->clear) | c->set;
		memcpy(p, &v, sizeof(v));
	}
	}
	expect_invalid(c->name, c->rule);
}

static void run_table(const struct illegal_case *cases, size_t n)
{
	if (!svm_require())
		return;
	for (size_t i = 0; i < n; i++)
		run_illegal(&cases[i]);
}

/* APM Vol. 2 15.5.1: "EFER.SVME is zero"; any MBZ bit of EFER set (APM Vol. 2 3.1.7). */
static void check_efer(void)
{
	static const struct illegal_case always[] = {
		{ "svme_clear", F_EFER, 0, EFER_SVME, "EFER.SVME = 0" },
		{ "mbz.bit1", F_EFER, BIT(1), 0, "EFER[1] (reserved) set" },
		{ "mbz.bit7", F_EFER, BIT(7), 0, "EFER[7] (reserved) set" },
		{ "mbz.bit9", F_EFER, BIT(9), 0, "EFER[9] (reserved) set" },
		{ "mbz.bit16", F_EFER, BIT(16), 0, "EFER[16] (reserved) set" },
		{ "mbz.bit32", F_EFER, BIT(32), 0, "EFER[32] (reserved) set" },
		{ "mbz.bit63", F_EFER, BIT(63), 0, "EFER[63] (reserved) set" },
	};
	static const struct illegal_case ffxsr = {
		"mbz.ffxsr", F_EFER, EFER_FFXSR, 0, "EFER.FFXSR set without FFXSR (CPUID 8000_0001h EDX[25])"
	};
	static const struct illegal_case tce = {
		"mbz.tce", F_EFER, EFER_TCE, 0, "EFER.TCE set without TCE (CPUID 8000_0001h ECX[17])"
	};

	run_table(always, ARRAY_SIZE(always));
	if (!vcpu)
		return;
	/* A feature's enable bit is reserved where CPUID does not report the feature. */
	if (cpu_has(CPU_FEATURE(0x80000001, 0, 3, 25)))
		skip("mbz.ffxsr", "EFER.FFXSR is defined here (CPUID 8000_0001h EDX[25])");
	else
		run_illegal(&ffxsr);
	if (cpu_has(CPU_FEATURE(0x80000001, 0, 2, 17)))
		skip("mbz.tce", "EFER.TCE is defined here (CPUID 8000_0001h ECX[17])");
	else
		run_illegal(&tce);
}

/* APM Vol. 2 15.5.1: CR0.CD = 0 with CR0.NW = 1; CR0[63:32] not zero. */
static void check_cr0(void)
{
	static const struct illegal_case cases[] = {
		{ "nw_without_cd", F_CR0, X86_CR0_NW, X86_CR0_CD, "CR0.NW = 1 with CR0.CD = 0" },
		{ "bit32", F_CR0, BIT(32), 0, "CR0[32] set" },
		{ "bit63", F_CR0, BIT(63), 0, "CR0[63] set" },
	};

	run_table(cases, ARRAY_SIZE(cases));
}

/* APM Vol. 2 15.5.1: any MBZ bit of CR3 set (long mode: bits 63:52 and those above MAXPHYADDR). */
static void check_cr3(void)
{
	static const struct illegal_case bit52 = { "mbz.bit52", F_CR3, BIT(52), 0, "CR3[52] set" };
	struct illegal_case above = { "mbz.maxphyaddr", F_CR3, 0, 0, "CR3 bit MAXPHYADDR set" };

	if (!svm_require())
		return;
	run_illegal(&bit52);
	if (maxphy >= 52) {
		skip("mbz.maxphyaddr", "MAXPHYADDR is 52: no CR3 bit above it below bit 52");
		return;
	}
	above.set = BIT(maxphy);
	run_illegal(&above);
}

/* A CR4 bit and the CPUID feature that defines it (none: reserved on AMD). */
struct cr4_bit {
	unsigned bit;
	const char *name;
	struct cpu_feature feature;
	bool always_reserved;
};

/* APM Vol. 2 15.5.1: any MBZ bit of CR4 set; APM Vol. 2 3.1.3 lists CR4's bits. */
static void check_cr4(void)
{
	static const struct cr4_bit bits[] = {
		{ 11, "umip", CPU_FEATURE(7, 0, 2, 2), false },
		{ 12, "la57", CPU_FEATURE(7, 0, 2, 16), false },
		{ 13, "vmxe", CPU_FEATURE(1, 0, 2, 5), false },
		{ 14, "smxe", CPU_FEATURE(1, 0, 2, 6), false },
		{ 15, "bit15", { 0 }, true },
		{ 16, "fsgsbase", CPU_FEATURE(7, 0, 1, 0), false },
		{ 17, "pcide", CPU_FEATURE(1, 0, 2, 17), false },
		{ 18, "osxsave", CPU_FEATURE(1, 0, 2, 26), false },
		{ 19, "bit19", CPU_FEATURE(7, 0, 2, 23), false },
		{ 20, "smep", CPU_FEATURE(7, 0, 1, 7), false },
		{ 21, "smap", CPU_FEATURE(7, 0, 1, 20), false },
		{ 22, "pke", CPU_FEATURE(7, 0, 2, 3), false },
		{ 23, "cet", CPU_FEATURE(7, 0, 2, 7), false },
		{ 26, "bit26", { 0 }, true },
		{ 31, "bit31", { 0 }, true },
		{ 32, "bit32", { 0 }, true },
		{ 63, "bit63", { 0 }, true },
	};

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		const struct cr4_bit *b = &bits[i];
		char name[32], rule[64];
		struct illegal_case c = { name, F_CR4, BIT(b->bit), 0, rule };

		snprintf(name, sizeof(name), "mbz.%s", b->name);
		if (!b->always_reserved && cpu_has(b->feature)) {
			skip(name, "CR4[%u] is defined on this CPU (CPUID %#x.%u reg %u bit %u)",
			     b->bit, b->feature.leaf, b->feature.subleaf, b->feature.reg,
			     b->feature.bit);
			continue;
		}
		snprintf(rule, sizeof(rule), "CR4[%u] (reserved here) set", b->bit);
		run_illegal(&c);
	}
}

/* APM Vol. 2 15.5.1: DR6[63:32] or DR7[63:32] not zero. */
static void check_dr(void)
{
	static const struct illegal_case cases[] = {
		{ "dr6.bit32", F_DR6, BIT(32), 0, "DR6[32] set" },
		{ "dr6.bit63", F_DR6, BIT(63), 0, "DR6[63] set" },
		{ "dr7.bit32", F_DR7, BIT(32), 0, "DR7[32] set" },
		{ "dr7.bit63", F_DR7, BIT(63), 0, "DR7[63] set" },
	};

	run_table(cases, ARRAY_SIZE(cases));
}

/* VMCB segment attribute bits 9 (L) and 10 (D/B): descriptor bits 53 and 54 packed. */
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)

/*
 * APM Vol. 2 15.5.1: EFER.LME and CR0.PG with CR4.PAE clear; EFER.LME and
 * CR0.PG with CR0.PE clear; EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set.
 */
static const struct illegal_case long_mode_cases[] = {
	{ "", F_CR4, 0, X86_CR4_PAE, "EFER.LME = CR0.PG = 1, CR4.PAE = 0" },
	{ "", F_CR0, 0, X86_CR0_PE, "EFER.LME = CR0.PG = 1, CR0.PE = 0" },
	{ "", F_CS_ATTRIB, SEG_ATTR_L | SEG_ATTR_DB, 0,
	  "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set" },
};

/* One table entry each, so that one case can be left out where it stops a hypervisor. */
static void check_lme_pg_without_pae(void)
{
	run_table(&long_mode_cases[0], 1);
}

static void check_lme_pg_without_pe(void)
{
	run_table(&long_mode_cases[1], 1);
}

static void check_cs_l_and_d(void)
{
	run_table(&long_mode_cases[2], 1);
}

/*
 * APM Vol. 2 15.5.1: the VMRUN intercept bit clear; ASID 0; the MSR or IOIO
 * permission map extending to a physical address >= the maximum.  The maps are
 * put at the last page below 2^MAXPHYADDR (the IOPM is 12 KiB, the MSRPM 8 KiB)
 * with their intercepts on.
 */
static void check_controls(void)
{
	static const struct illegal_case cases[] = {
		{ "vmrun_intercept_clear", F_INTERCEPTS, 0, BIT(SVM_INTERCEPT_VMRUN),
		  "VMRUN intercept clear" },
		{ "asid_zero", F_ASID, 0, 0xffffffff, "ASID 0" },
	};
	struct illegal_case iopm = { "iopm_beyond_maxphyaddr", F_IOPM, 0, ~0ull,
				     "IOPM extends beyond MAXPHYADDR" };
	struct illegal_case msrpm = { "msrpm_beyond_maxphyaddr", F_MSRPM, 0, ~0ull,
				      "MSRPM extends beyond MAXPHYADDR" };

	run_table(cases, ARRAY_SIZE(cases));
	if (!vcpu)
		return;
	iopm.set = msrpm.set = BIT(maxphy) - PAGE_SIZE;
	prepare();
	svm_intercept(vcpu, SVM_INTERCEPT_IOIO_PROT, true);
	vcpu->vmcb->control.iopm_base_pa = iopm.set;
	expect_invalid(iopm.name, iopm.rule);
	prepare();
	svm_intercept(vcpu, SVM_INTERCEPT_MSR_PROT, true);
	vcpu->vmcb->control.msrpm_base_pa = msrpm.set;
	expect_invalid(msrpm.name, msrpm.rule);
}

#define EVTINJ(type, vector) (SVM_EVTINJ_VALID | ((uint64_t)(type) << 8) | (vector))

/*
 * APM Vol. 2 15.20: VMRUN exits with VMEXIT_INVALID for a reserved TYPE (1,
 * 5-7) and for TYPE 3 (exception) with a vector that is no exception: NMI's
 * vector 2 and every vector above 31.
 */
static void check_eventinj(void)
{
	static const struct illegal_case cases[] = {
		{ "type1", F_EVENTINJ, EVTINJ(1, 0x40), 0, "EVENTINJ TYPE 1 (reserved)" },
		{ "type5", F_EVENTINJ, EVTINJ(5, 0x40), 0, "EVENTINJ TYPE 5 (reserved)" },
		{ "type6", F_EVENTINJ, EVTINJ(6, 0x40), 0, "EVENTINJ TYPE 6 (reserved)" },
		{ "type7", F_EVENTINJ, EVTINJ(7, 0x40), 0, "EVENTINJ TYPE 7 (reserved)" },
		{ "exception_vector2", F_EVENTINJ, EVTINJ(3, 2), 0, "exception with vector 2 (NMI)" },
		{ "exception_vector32", F_EVENTINJ, EVTINJ(3, 32), 0, "exception with vector 32" },
		{ "exception_vector255", F_EVENTINJ, EVTINJ(3, 255), 0, "exception with vector 255" },
	};
	uint64_t code;
	char buf[48];

	run_table(cases, ARRAY_SIZE(cases));
	if (!vcpu)
		return;
	/* The control: a legal exception (#UD, vector 6) is delivered through L2's IDT. */
	prepare();
	vcpu->vmcb->control.event_inj = EVTINJ(3, X86_VEC_UD);
	vcpu->vmcb->control.intercept_exceptions = 0;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 && l2_event.vector == X86_VEC_UD,
		  "exception_vector6_valid", "exit %s, %lu deliveries, vector %lu: expected #UD delivered",
		  svm_exit_text(code, buf, sizeof(buf)), l2_event.count, l2_event.vector);
}

/* ---------------------------------------------------------------- instruction faults */

enum svm_insn { INSN_VMRUN, INSN_VMLOAD, INSN_VMSAVE, INSN_STGI, INSN_CLGI };

static const char *const insn_names[] = { "vmrun", "vmload", "vmsave", "stgi", "clgi" };

/*
 * Executes one SVM instruction with RAX = @rax and returns what it raised.  A
 * VMRUN that runs (no fault) comes back at its #VMEXIT with GIF clear: the
 * caller sets it again once EFER.SVME is back.
 */
static struct fault exec_insn(enum svm_insn insn, uint64_t rax)
{
	struct fault f;

	fault_clear();
	switch (insn) {
	case INSN_VMRUN:
		asm volatile(FAULT_TRY("vmrun %%rax") : "+a"(rax) : : "memory", "rbx", "rcx", "rdx",
			     "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
		f = fault_take();
		return f;
	case INSN_VMLOAD:
		asm volatile(FAULT_TRY("vmload %%rax") : : "a"(rax) : "memory");
		break;
	case INSN_VMSAVE:
		asm volatile(FAULT_TRY("vmsave %%rax") : : "a"(rax) : "memory");
		break;
	case INSN_STGI:
		asm volatile(FAULT_TRY("stgi") : : : "memory");
		break;
	case INSN_CLGI:
		asm volatile(FAULT_TRY("clgi") : : : "memory");
		break;
	}
	return fault_take();
}

/* A VMCB that runs L2 to VMMCALL, with the state VMLOAD/VMSAVE move being L1's own. */
static uint64_t valid_vmcb(void)
{
	prepare();
	return (uint64_t)vcpu->vmcb;
}

/*
 * APM Vol. 3 VMRUN, VMLOAD, VMSAVE, CLGI: #UD when EFER.SVME = 0.  STGI: #UD
 * with EFER.SVME = 0 only when neither SVM Lock (CPUID 8000_000Ah EDX[2]) nor
 * SKINIT (CPUID 8000_0001h ECX[12]) is available.
 */
static void check_ud(void)
{
	uint64_t efer;
	struct fault f[5];
	char buf[64];

	if (!svm_require())
		return;
	efer = rdmsr(MSR_EFER);
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++) {
		uint64_t rax = valid_vmcb();

		wrmsr(MSR_EFER, efer & ~EFER_SVME);
		f[i] = exec_insn(i, rax);
		wrmsr(MSR_EFER, efer);
		asm volatile("stgi");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++) {
		if (i == INSN_STGI && (svm_has(SVM_FEATURE_SVML) ||
				       cpu_has(CPU_FEATURE(0x80000001, 0, 2, 12)))) {
			skip(insn_names[i], "STGI is legal with EFER.SVME = 0 with SVM Lock or SKINIT");
			continue;
		}
		check_msg(f[i].raised && f[i].vector == X86_VEC_UD, insn_names[i],
			  "EFER.SVME = 0: expected #UD, got %s", fault_str(&f[i], buf, sizeof(buf)));
	}
}

/*
 * APM Vol. 3 VMRUN, VMLOAD, VMSAVE: #GP(0) when rAX is not 4-KiB aligned or
 * holds a physical address beyond the implemented width.  The unaligned
 * address lies in the middle of a valid VMCB's page, so that a hypervisor that
 * ignores the low bits runs (or loads) something harmless.
 */
static void check_gp(void)
{
	char name[48], buf[64];

	if (!svm_require())
		return;
	for (unsigned i = INSN_VMRUN; i <= INSN_VMSAVE; i++) {
		struct fault f = exec_insn(i, valid_vmcb() + 0x800);

		asm volatile("stgi");

		snprintf(name, sizeof(name), "%s.unaligned", insn_names[i]);
		check_msg(fault_is(&f, X86_VEC_GP, 0), name, "rAX not page aligned: expected #GP(0), got %s",
			  fault_str(&f, buf, sizeof(buf)));
		if (i != INSN_VMRUN)
			/* Whatever a VMLOAD that did not fault loaded: L1's own state back. */
			asm volatile("vmload %%rax" : : "a"(valid_vmcb()) : "memory");
	}
	for (unsigned i = INSN_VMRUN; i <= INSN_VMSAVE; i++) {
		struct fault f;

		snprintf(name, sizeof(name), "%s.beyond_maxphyaddr", insn_names[i]);
		if (maxphy >= 52) {
			skip(name, "MAXPHYADDR is 52: no unimplemented physical address");
			continue;
		}
		f = exec_insn(i, BIT(maxphy));
		asm volatile("stgi");
		check_msg(fault_is(&f, X86_VEC_GP, 0), name,
			  "rAX = 2^MAXPHYADDR (%u): expected #GP(0), got %s", maxphy,
			  fault_str(&f, buf, sizeof(buf)));
		if (i != INSN_VMRUN)
			asm volatile("vmload %%rax" : : "a"(valid_vmcb()) : "memory");
	}
}

/*
 * APM Vol. 2 Table B-1: EXITCODE (VMCB 070h) is 64 bits; Appendix C:
 * VMEXIT_INVALID is -1, so all 64 bits are set (ASID 0 makes the VMCB illegal).
 */
static void check_exitcode(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare();
	vcpu->vmcb->control.asid = 0;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_INVALID, "", "EXITCODE %#lx, expected -1 in all 64 bits", code);
}

static const struct check_entry checks[] = {
	{ "valid", check_valid },
	{ "exitcode", check_exitcode },
	{ "efer", check_efer },
	{ "cr0", check_cr0 },
	{ "cr3", check_cr3 },
	{ "cr4", check_cr4 },
	{ "dr", check_dr },
	{ "long_mode.lme_pg_without_pae", check_lme_pg_without_pae },
	{ "long_mode.lme_pg_without_pe", check_lme_pg_without_pe },
	{ "long_mode.cs_l_and_d", check_cs_l_and_d },
	{ "controls", check_controls },
	{ "eventinj", check_eventinj },
	{ "ud", check_ud },
	{ "gp", check_gp },
};

DEFINE_TEST("svm_vmrun", checks, .setup = setup);
