/*
 * SVM control- and debug-register intercepts (AMD APM Vol. 2 15.9, 15.9.1,
 * 15.35.2; exit codes in Appendix C):
 *  - MOV from/to CRn exits with 0x00+n / 0x10+n when bit n / 16+n of the CR
 *    intercept vector is set, before the instruction runs; with decode assists
 *    EXITINFO1[63] = 1 and EXITINFO1[3:0] = the GPR (15.35.2);
 *  - MOV from/to DRn likewise with 0x20+n / 0x30+n;
 *  - SMSW is a CR0 read, LMSW and CLTS are CR0 writes (15.9);
 *  - the selective CR0 write intercept (exit 0x65) is taken by a MOV to CR0 or
 *    LMSW that changes a bit other than CR0.TS and CR0.MP, never by CLTS, and the
 *    CR0 write intercept has priority over it (15.9.1).
 *  - an unintercepted MOV that sets a reserved bit of CR3 or CR4 raises #GP(0)
 *    in L2 (cr.reserved).
 * Entries: cr.read.crN, cr.write.crN, dr.read.drN, dr.write.drN, cr0_sel.*,
 * cr0.*, cr.reserved.  L2 runs with an IDT of not-present gates (svm_isolate_exceptions()).
 */
#include "alloc.h"
#include "processor.h"
#include "svm.h"
#include "test.h"

/* MOV from CRn into a different GPR each, so that EXITINFO1[3:0] tells them apart. */
SVM_L2_CODE(l2_rd_cr0, "mov %cr0, %rbx");
SVM_L2_CODE(l2_rd_cr2, "mov %cr2, %rsi");
SVM_L2_CODE(l2_rd_cr3, "mov %cr3, %r9");
SVM_L2_CODE(l2_rd_cr4, "mov %cr4, %r13");
SVM_L2_CODE(l2_rd_cr8, "mov %cr8, %rdx");
/* MOV to CRn of the value it holds (read first, into the same GPR). */
SVM_L2_CODE(l2_wr_cr0, "mov %cr0, %rdi\n.globl l2_wr_cr0_at\nl2_wr_cr0_at: mov %rdi, %cr0");
SVM_L2_CODE(l2_wr_cr2, "mov %cr2, %rbp\n.globl l2_wr_cr2_at\nl2_wr_cr2_at: mov %rbp, %cr2");
SVM_L2_CODE(l2_wr_cr3, "mov %cr3, %r10\n.globl l2_wr_cr3_at\nl2_wr_cr3_at: mov %r10, %cr3");
SVM_L2_CODE(l2_wr_cr4, "mov %cr4, %r14\n.globl l2_wr_cr4_at\nl2_wr_cr4_at: mov %r14, %cr4");
SVM_L2_CODE(l2_wr_cr8, "mov %cr8, %rcx\n.globl l2_wr_cr8_at\nl2_wr_cr8_at: mov %rcx, %cr8");
extern char l2_wr_cr0_at[], l2_wr_cr2_at[], l2_wr_cr3_at[], l2_wr_cr4_at[], l2_wr_cr8_at[];

SVM_L2_CODE(l2_rd_dr0, "mov %dr0, %rbx");
SVM_L2_CODE(l2_rd_dr1, "mov %dr1, %rsi");
SVM_L2_CODE(l2_rd_dr2, "mov %dr2, %r8");
SVM_L2_CODE(l2_rd_dr3, "mov %dr3, %r11");
SVM_L2_CODE(l2_rd_dr6, "mov %dr6, %r12");
SVM_L2_CODE(l2_rd_dr7, "mov %dr7, %r15");
SVM_L2_CODE(l2_wr_dr0, "mov %dr0, %rdi\n.globl l2_wr_dr0_at\nl2_wr_dr0_at: mov %rdi, %dr0");
SVM_L2_CODE(l2_wr_dr1, "mov %dr1, %rbp\n.globl l2_wr_dr1_at\nl2_wr_dr1_at: mov %rbp, %dr1");
SVM_L2_CODE(l2_wr_dr2, "mov %dr2, %r9\n.globl l2_wr_dr2_at\nl2_wr_dr2_at: mov %r9, %dr2");
SVM_L2_CODE(l2_wr_dr3, "mov %dr3, %r10\n.globl l2_wr_dr3_at\nl2_wr_dr3_at: mov %r10, %dr3");
SVM_L2_CODE(l2_wr_dr6, "mov %dr6, %r13\n.globl l2_wr_dr6_at\nl2_wr_dr6_at: mov %r13, %dr6");
SVM_L2_CODE(l2_wr_dr7, "mov %dr7, %r14\n.globl l2_wr_dr7_at\nl2_wr_dr7_at: mov %r14, %dr7");
extern char l2_wr_dr0_at[], l2_wr_dr1_at[], l2_wr_dr2_at[], l2_wr_dr3_at[], l2_wr_dr6_at[],
	l2_wr_dr7_at[];

/* CR0 writes for the selective intercept: RAX = the new CR0 (set by L1). */
SVM_L2_CODE(l2_mov_cr0, "mov %rax, %cr0");
SVM_L2_CODE(l2_lmsw, "lmsw %ax");
SVM_L2_CODE(l2_clts, "clts");
SVM_L2_CODE(l2_smsw, "smsw %rax");

enum { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
       GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15 };

struct mov_case {
	bool dr;		/* a debug register, else a control register */
	bool write;
	unsigned reg;		/* n of CRn/DRn */
	const char *code, *at, *end;	/* the snippet, the MOV, after the MOV */
	unsigned gpr;		/* the MOV's GPR, for EXITINFO1 */
};

static struct svm_vcpu *vcpu;

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
}

static void prepare(const char *code)
{
	svm_vcpu_reset(vcpu, (void *)code);
	svm_isolate_exceptions(vcpu);
}

static void check_next_rip(uint64_t code, uint64_t want_code, const char *next)
{
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else if (code == want_code)
		check_eq("next_rip", vcpu->vmcb->control.next_rip, (uint64_t)next);
}

static uint64_t l2_gpr(unsigned gpr)
{
	const struct svm_gprs *r = &vcpu->regs;
	const uint64_t v[16] = {
		vcpu->vmcb->save.rax, r->rcx, r->rdx, r->rbx, vcpu->vmcb->save.rsp, r->rbp,
		r->rsi, r->rdi, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
	};

	return v[gpr];
}

/* The guest's value of CRn/DRn as L1 set it up in the VMCB (or shares it). */
static uint64_t l2_reg_value(const struct mov_case *c)
{
	const struct vmcb_save *s = &vcpu->vmcb->save;

	if (!c->dr) {
		switch (c->reg) {
		case 0: return s->cr0;
		case 2: return s->cr2;
		case 3: return s->cr3;
		case 4: return s->cr4;
		}
		return read_cr8();	/* without V_INTR_MASKING, the TPR itself */
	}
	switch (c->reg) {
	case 6: return s->dr6;
	case 7: return s->dr7;
	}
	return (uint64_t)-1;	/* DR0-DR3 are not in the VMCB: not compared */
}

static void run_mov(const struct mov_case *c)
{
	uint32_t bit = c->write ? BIT(16 + c->reg) : BIT(c->reg);
	uint64_t want = (c->dr ? 0x20 : 0x00) + (c->write ? 0x10 : 0) + c->reg, code;

	if (!svm_require())
		return;
	prepare(c->code);
	if (c->dr)
		vcpu->vmcb->control.intercept_dr |= bit;
	else
		vcpu->vmcb->control.intercept_cr |= bit;
	code = svm_run(vcpu);
	check_msg(code == want && vcpu->vmcb->save.rip == (uint64_t)c->at, "exit",
		  "exit code %#lx at rip %#lx, expected %#lx at rip %p", code,
		  vcpu->vmcb->save.rip, want, c->at);
	check_next_rip(code, want, c->end);
	if (!svm_has(SVM_FEATURE_DECODE_ASSISTS))
		skip("exitinfo1", "no %s", svm_feature_name(SVM_FEATURE_DECODE_ASSISTS));
	else if (code == want)
		/* APM 15.35.2: bit 63 marks a MOV CRn (LMSW/CLTS clear it); MOV DRn has the GPR only. */
		check_eq("exitinfo1", vcpu->vmcb->control.exit_info1 &
			 ((c->dr ? 0 : SVM_EXITINFO_MOV_CR) | SVM_EXITINFO_GPR_MASK),
			 (c->dr ? 0 : SVM_EXITINFO_MOV_CR) | c->gpr);

	/* Intercept clear: the MOV runs; a read returns the guest's value. */
	prepare(c->code);
	code = svm_run(vcpu);
	if (!c->write && l2_reg_value(c) != (uint64_t)-1)
		check_msg(code == SVM_EXIT_VMMCALL && l2_gpr(c->gpr) == l2_reg_value(c),
			  "not_intercepted", "exit code %#lx, L2 read %#lx, expected VMMCALL after "
			  "reading %#lx", code, l2_gpr(c->gpr), l2_reg_value(c));
	else
		check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)c->end,
			  "not_intercepted", "exit code %#lx at rip %#lx, expected VMMCALL at %p",
			  code, vcpu->vmcb->save.rip, c->end);
}

#define IS_DR_cr false
#define IS_DR_dr true
#define IS_LMSW_lmsw true
#define IS_LMSW_mov_cr0 false
#define IS_LMSW_clts false

#define READ(kind, n, g)                                                         \
	static void check_rd_##kind##n(void)                                     \
	{                                                                        \
		static const struct mov_case c = { IS_DR_##kind, false, n,     \
			l2_rd_##kind##n, l2_rd_##kind##n, l2_rd_##kind##n##_end, g }; \
		run_mov(&c);                                                     \
	}
#define WRITE(kind, n, g)                                                        \
	static void check_wr_##kind##n(void)                                     \
	{                                                                        \
		static const struct mov_case c = { IS_DR_##kind, true, n,      \
			l2_wr_##kind##n, l2_wr_##kind##n##_at, l2_wr_##kind##n##_end, g }; \
		run_mov(&c);                                                     \
	}

READ(cr, 0, GPR_RBX) READ(cr, 2, GPR_RSI) READ(cr, 3, GPR_R9) READ(cr, 4, GPR_R13)
READ(cr, 8, GPR_RDX)
WRITE(cr, 0, GPR_RDI) WRITE(cr, 2, GPR_RBP) WRITE(cr, 3, GPR_R10) WRITE(cr, 4, GPR_R14)
WRITE(cr, 8, GPR_RCX)
READ(dr, 0, GPR_RBX) READ(dr, 1, GPR_RSI) READ(dr, 2, GPR_R8) READ(dr, 3, GPR_R11)
READ(dr, 6, GPR_R12) READ(dr, 7, GPR_R15)
WRITE(dr, 0, GPR_RDI) WRITE(dr, 1, GPR_RBP) WRITE(dr, 2, GPR_R9) WRITE(dr, 3, GPR_R10)
WRITE(dr, 6, GPR_R13) WRITE(dr, 7, GPR_R14)

/*
 * CR0 writes and the two CR0 write intercepts (APM Vol. 2 15.9.1).  L1 sets
 * L2's CR0 to @old and RAX to @value (MOV to CR0 and LMSW use it).
 */
struct cr0_case {
	const char *name;
	const char *code, *end;
	uint64_t set, clear;	/* @value = old | set & ~clear */
	bool write_intercept, sel_intercept;
	uint64_t want;		/* the exit, VMMCALL when none */
	bool lmsw;		/* EXITINFO1[63] clear with decode assists */
};

static void run_cr0(const struct cr0_case *c)
{
	uint64_t old, value, code;

	if (!svm_require())
		return;
	prepare(c->code);
	old = vcpu->vmcb->save.cr0 | X86_CR0_MP;	/* MP set, TS and EM clear */
	old &= ~(X86_CR0_TS | X86_CR0_EM | X86_CR0_AM);
	vcpu->vmcb->save.cr0 = old;
	value = (old | c->set) & ~c->clear;
	vcpu->vmcb->save.rax = value;
	if (c->write_intercept)
		vcpu->vmcb->control.intercept_cr |= SVM_CR_WRITE(0);
	svm_intercept(vcpu, SVM_INTERCEPT_CR0_SEL_WRITE, c->sel_intercept);
	code = svm_run(vcpu);
	if (c->want == SVM_EXIT_VMMCALL) {
		check_msg(code == SVM_EXIT_VMMCALL, "not_intercepted",
			  "exit code %#lx at rip %#lx, expected the write to complete (VMMCALL)",
			  code, vcpu->vmcb->save.rip);
		return;
	}
	check_msg(code == c->want && vcpu->vmcb->save.rip == (uint64_t)c->code, "exit",
		  "exit code %#lx at rip %#lx, expected %#lx at rip %p", code,
		  vcpu->vmcb->save.rip, c->want, c->code);
	if (code == c->want)
		check_msg(vcpu->vmcb->save.cr0 == old, "not_written",
			  "L2's CR0 %#lx after the exit, expected the old %#lx",
			  vcpu->vmcb->save.cr0, old);
	check_next_rip(code, c->want, c->end);
	if (c->code == l2_clts)
		return;		/* CLTS has no operand to decode */
	if (!svm_has(SVM_FEATURE_DECODE_ASSISTS))
		skip("exitinfo1", "no %s", svm_feature_name(SVM_FEATURE_DECODE_ASSISTS));
	else if (code == c->want)
		check_eq("exitinfo1", vcpu->vmcb->control.exit_info1 &
			 (SVM_EXITINFO_MOV_CR | SVM_EXITINFO_GPR_MASK),
			 c->lmsw ? 0 : SVM_EXITINFO_MOV_CR | GPR_RAX);
}

#define CR0(n, insn, s, clr, wr, sel, exit)                                      \
	static void check_cr0_##n(void)                                          \
	{                                                                        \
		static const struct cr0_case c = { #n, l2_##insn, l2_##insn##_end, \
			s, clr, wr, sel, SVM_EXIT_##exit, IS_LMSW_##insn };  \
		run_cr0(&c);                                                     \
	}

/* Selective CR0 write: only bits other than TS and MP count (15.9.1). */
CR0(sel_ts_only, mov_cr0, X86_CR0_TS, 0, false, true, VMMCALL)
CR0(sel_mp_only, mov_cr0, 0, X86_CR0_MP, false, true, VMMCALL)
CR0(sel_same_value, mov_cr0, 0, 0, false, true, VMMCALL)
CR0(sel_am, mov_cr0, X86_CR0_AM, 0, false, true, CR0_SEL_WRITE)
CR0(sel_wp, mov_cr0, 0, X86_CR0_WP, false, true, CR0_SEL_WRITE)
CR0(sel_ts_and_am, mov_cr0, X86_CR0_TS | X86_CR0_AM, 0, false, true, CR0_SEL_WRITE)
CR0(sel_off, mov_cr0, X86_CR0_AM, 0, false, false, VMMCALL)
CR0(sel_lmsw_em, lmsw, X86_CR0_EM, 0, false, true, CR0_SEL_WRITE)
CR0(sel_lmsw_ts_only, lmsw, X86_CR0_TS, 0, false, true, VMMCALL)
CR0(sel_clts, clts, X86_CR0_TS, 0, false, true, VMMCALL)
/* The CR0 write intercept has priority over the selective one. */
CR0(write_priority, mov_cr0, X86_CR0_AM, 0, true, true, WRITE_CR(0))
CR0(write_ts_only, mov_cr0, X86_CR0_TS, 0, true, false, WRITE_CR(0))
/* LMSW and CLTS are CR0 writes (15.9). */
CR0(write_lmsw, lmsw, X86_CR0_TS, 0, true, false, WRITE_CR(0))
CR0(write_clts, clts, 0, 0, true, false, WRITE_CR(0))

/* CLTS with TS set in L2's CR0: the CR0 write intercept takes it. */
static void check_cr0_clts_ts_set(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(l2_clts);
	vcpu->vmcb->save.cr0 |= X86_CR0_TS;
	vcpu->vmcb->control.intercept_cr |= SVM_CR_WRITE(0);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_WRITE_CR(0) && vcpu->vmcb->save.rip == (uint64_t)l2_clts &&
		  (vcpu->vmcb->save.cr0 & X86_CR0_TS), "",
		  "exit code %#lx at rip %#lx, CR0 %#lx; expected 0x10 at %p with TS still set",
		  code, vcpu->vmcb->save.rip, vcpu->vmcb->save.cr0, l2_clts);
}

/* SMSW reads CR0: the CR0 read intercept takes it (15.9). */
static void check_cr0_read_smsw(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(l2_smsw);
	vcpu->vmcb->control.intercept_cr |= SVM_CR_READ(0);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_READ_CR(0) && vcpu->vmcb->save.rip == (uint64_t)l2_smsw, "exit",
		  "exit code %#lx at rip %#lx, expected 0x0 at %p", code, vcpu->vmcb->save.rip,
		  l2_smsw);
	prepare(l2_smsw);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rax == vcpu->vmcb->save.cr0,
		  "not_intercepted", "exit code %#lx, RAX %#lx; expected VMMCALL with CR0 %#lx",
		  code, vcpu->vmcb->save.rax, vcpu->vmcb->save.cr0);
}

/* A write intercept does not take reads, nor a read intercept writes. */
static void check_cr_read_vs_write(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare(l2_rd_cr4);
	vcpu->vmcb->control.intercept_cr = SVM_CR_WRITE(4);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL, "read_with_write_intercept",
		  "exit code %#lx, expected MOV from CR4 to run (VMMCALL)", code);
	prepare(l2_wr_cr4);
	vcpu->vmcb->control.intercept_cr = SVM_CR_WRITE(3) | SVM_CR_READ(0);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL, "other_registers",
		  "exit code %#lx, expected MOV CR4 to run with only CR3 write and CR0 read "
		  "intercepted (VMMCALL)", code);
}

/* ---------------------------------------------------------------- reserved bits */

SVM_L2_CODE(l2_set_cr3, "mov %rax, %cr3");
SVM_L2_CODE(l2_set_cr4, "mov %rax, %cr4");

/*
 * APM Vol. 3 MOV CRn: writing a 1 to a reserved bit of CR3 or CR4 raises
 * #GP(0); in long mode CR3 bits 63:52 are reserved (APM Vol. 2 3.1.2), CR4
 * bit 63 is reserved (3.1.3).  In L2 with neither CR write intercepted but #GP
 * intercepted, the MOV exits with #GP (0x4D, error code 0 in EXITINFO1) at
 * the MOV, and the register keeps its value.  The control: the same MOV of
 * the register's own value runs (VMMCALL).
 */
static void check_cr_reserved(void)
{
	static const struct { const char *name; const char *code; unsigned reg; uint64_t bit; } cases[] = {
		{ "cr3.bit52", l2_set_cr3, 3, BIT(52) },
		{ "cr4.bit63", l2_set_cr4, 4, BIT(63) },
	};

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb_save *save = &vcpu->vmcb->save;
		uint64_t code, before;
		char name[48];

		prepare(cases[i].code);
		before = cases[i].reg == 3 ? save->cr3 : save->cr4;
		save->rax = before;
		code = svm_run(vcpu);
		snprintf(name, sizeof(name), "control.%s", cases[i].name);
		if (!check_msg(code == SVM_EXIT_VMMCALL, name,
			       "MOV of CR%u's own value: exit code %#lx, expected VMMCALL",
			       cases[i].reg, code))
			continue;

		prepare(cases[i].code);
		svm_intercept_exception(vcpu, X86_VEC_GP, true);
		save->rax = before | cases[i].bit;
		code = svm_run(vcpu);
		check_msg(code == SVM_EXIT_EXCP(X86_VEC_GP) && vcpu->vmcb->control.exit_info1 == 0 &&
			  save->rip == (uint64_t)cases[i].code &&
			  (cases[i].reg == 3 ? save->cr3 : save->cr4) == before, cases[i].name,
			  "MOV to CR%u of its value | %#lx: exit code %#lx (EXITINFO1 %#lx) at rip %#lx, "
			  "CR%u %s; expected #GP(0) (0x4d) at %p with CR%u kept", cases[i].reg,
			  cases[i].bit, code, vcpu->vmcb->control.exit_info1, save->rip, cases[i].reg,
			  (cases[i].reg == 3 ? save->cr3 : save->cr4) == before ? "kept" : "changed",
			  cases[i].code, cases[i].reg);
	}
}

#define E(name, fn) { name, fn },

static const struct check_entry checks[] = {
	E("cr.read.cr0", check_rd_cr0) E("cr.read.cr2", check_rd_cr2)
	E("cr.read.cr3", check_rd_cr3) E("cr.read.cr4", check_rd_cr4)
	E("cr.read.cr8", check_rd_cr8)
	E("cr.write.cr0", check_wr_cr0) E("cr.write.cr2", check_wr_cr2)
	E("cr.write.cr3", check_wr_cr3) E("cr.write.cr4", check_wr_cr4)
	E("cr.write.cr8", check_wr_cr8)
	E("cr.selectivity", check_cr_read_vs_write)
	E("cr.reserved", check_cr_reserved)
	E("dr.read.dr0", check_rd_dr0) E("dr.read.dr1", check_rd_dr1)
	E("dr.read.dr2", check_rd_dr2) E("dr.read.dr3", check_rd_dr3)
	E("dr.read.dr6", check_rd_dr6) E("dr.read.dr7", check_rd_dr7)
	E("dr.write.dr0", check_wr_dr0) E("dr.write.dr1", check_wr_dr1)
	E("dr.write.dr2", check_wr_dr2) E("dr.write.dr3", check_wr_dr3)
	E("dr.write.dr6", check_wr_dr6) E("dr.write.dr7", check_wr_dr7)
	E("cr0_sel.ts_only", check_cr0_sel_ts_only)
	E("cr0_sel.mp_only", check_cr0_sel_mp_only)
	E("cr0_sel.same_value", check_cr0_sel_same_value)
	E("cr0_sel.am", check_cr0_sel_am)
	E("cr0_sel.wp", check_cr0_sel_wp)
	E("cr0_sel.ts_and_am", check_cr0_sel_ts_and_am)
	E("cr0_sel.off", check_cr0_sel_off)
	E("cr0_sel.lmsw_em", check_cr0_sel_lmsw_em)
	E("cr0_sel.lmsw_ts_only", check_cr0_sel_lmsw_ts_only)
	E("cr0_sel.clts", check_cr0_sel_clts)
	E("cr0.write_priority", check_cr0_write_priority)
	E("cr0.write_ts_only", check_cr0_write_ts_only)
	E("cr0.lmsw", check_cr0_write_lmsw)
	E("cr0.clts", check_cr0_write_clts)
	E("cr0.clts_ts_set", check_cr0_clts_ts_set)
	E("cr0.smsw", check_cr0_read_smsw)
};

DEFINE_TEST("svm_crdr", checks, .setup = setup);
