/*
 * SVM exception intercepts (AMD APM Vol. 2 15.12; exit codes 0x40 + vector,
 * Appendix C): with bit v of the exception intercept vector (VMCB 0x008) set,
 * an exception v that L2 raises exits to L1 instead of being delivered, with
 * EXITINFO1 = the error code for exceptions that push one and, for #PF,
 * EXITINFO2 = the faulting address (15.12.15).  A fault exits with the VMCB's
 * RIP at the faulting instruction, a trap with RIP after it.
 *
 * L2 runs with an IDT of not-present gates (svm_isolate_exceptions()): with
 * the vector's bit clear the exception is delivered through that IDT, which
 * raises #NP on its gate — the not_intercepted result checks that exit.  The
 * error code of an IDT fault names the gate by its vector in bits 15:3, with
 * bit 1 (IDT) set (APM Vol. 2 8.4.1): excp.np and excp.gp_idt check it.
 *
 * #AC needs CPL 3 (APM Vol. 2 8.2.18): excp.ac runs L2 in user mode
 * (svm_vcpu_set_user_mode()).
 *
 * smep.* and smap.* run a CPL-0 L2 against a user page (U = 1 at every level)
 * with CR4.SMEP or CR4.SMAP (APM Vol. 2 5.6.4, 5.6.5): a fetch from it, or a
 * data access with RFLAGS.AC = 0, raises #PF with P (and I/D for the fetch,
 * W for a write) and U clear; with AC = 1 (STAC) the data access completes.
 * Each first runs the same access without the CR4 bit, which must complete.
 *
 * Not tested: #OF and #BR (INTO and BOUND are invalid in 64-bit mode), #TS
 * (needs a task switch), #MC, #NMI, #VE/#CP/#VC.
 */
#include "alloc.h"
#include "desc.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "smep_smap.h"
#include "svm.h"
#include "test.h"

#define L2_AT(name, pre, insn, post)                                             \
	SVM_L2_CODE(name, pre "\n.globl " #name "_at\n" #name "_at: " insn "\n"  \
		    ".globl " #name "_after\n" #name "_after:\n" post);            \
	extern char name##_at[], name##_after[]

L2_AT(l2_de, "xor %ecx, %ecx", "div %ecx", "");
L2_AT(l2_db, "pushfq; orl $0x100, (%rsp); popfq", "nop", "");
L2_AT(l2_bp, "", "int3", "");
L2_AT(l2_ud, "", "ud2", "");
L2_AT(l2_nm_ts, "", "fwait", "");
L2_AT(l2_nm_em, "", "fninit", "");
L2_AT(l2_df, "", "ud2", "");
L2_AT(l2_np, "", "int $0x81", "");
L2_AT(l2_ss, "", "mov (%rsp,%rax), %rcx", "");
L2_AT(l2_gp, "", "mov (%rax), %rcx", "");
L2_AT(l2_gp_sel, "", "mov %cx, %ds", "");
L2_AT(l2_gp_idt, "", "int $0x80", "");
L2_AT(l2_pf_read, "", "mov (%rax), %rcx", "");
L2_AT(l2_pf_write, "", "mov %rcx, (%rax)", "");
L2_AT(l2_pf_prot, "", "mov %rcx, (%rax)", "");
L2_AT(l2_mf, "fninit; fldcw (%rax); fldz; fldz; fdivp %st, %st(1)", "fwait", "");
L2_AT(l2_xm, "ldmxcsr (%rax); xorps %xmm0, %xmm0", "divss %xmm0, %xmm0", "");
L2_AT(l2_ac, "", "mov (%rax), %rcx", "");

enum setup {
	SETUP_NONE,
	SETUP_TS,		/* CR0.TS and CR0.MP set */
	SETUP_EM,		/* CR0.EM set */
	SETUP_NO_IDT,		/* IDT limit 0, only #DF and SHUTDOWN intercepted */
	SETUP_NONCANONICAL,	/* RAX = 1 << 63 */
	SETUP_BAD_SELECTOR,	/* RCX = a selector beyond the GDT's limit */
	SETUP_SHORT_IDT,	/* IDT limit 0x7ff: vectors 0x00-0x7f */
	SETUP_UNMAPPED,		/* RAX = a linear address that no page maps */
	SETUP_READ_ONLY,	/* RAX = a present read-only page, CR0.WP set */
	SETUP_X87,		/* RAX = an x87 control word unmasking every exception, CR0.NE */
	SETUP_SSE,		/* RAX = an MXCSR unmasking every exception, CR4.OSFXSR|OSXMMEXCPT */
	SETUP_USER_AC,		/* CPL 3, CR0.AM, RFLAGS.AC, RAX = a misaligned address */
};

struct excp_case {
	const char *name;
	unsigned vector;
	const char *code, *at, *after;
	enum setup setup;
	bool trap;		/* RIP after the instruction */
	bool has_error;
	uint32_t error;		/* the error code (#PF: see setup) */
};

static struct svm_vcpu *vcpu;
static uint8_t *scratch, *read_only;
static uint64_t unmapped, user_gva;

static void setup(void)
{
	struct pagetable *pt;
	unsigned level;

	vcpu = svm_test_setup();
	if (!vcpu)
		return;
	scratch = alloc_page();
	read_only = alloc_page();
	/*
	 * Two 512 GiB regions that the test's own tables leave unmapped: one
	 * stays so (the #PF cases), one gets the user page (smep.*, smap.*).
	 */
	pt = paging_current();
	for (uint64_t a = 1ull << 39; a < 1ull << 46 && !user_gva; a += 1ull << 39)
		if (!pt_find(pt, a, &level)) {
			if (!unmapped)
				unmapped = a + 0x123000;
			else
				user_gva = a;
		}
}

static uint16_t gdt_limit(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr;

	asm volatile("sgdt %0" : "=m"(gdtr));
	return gdtr.limit;
}

static bool prepare(const struct excp_case *c, bool intercepted)
{
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t *pte;
	unsigned level;

	svm_vcpu_reset(vcpu, (void *)c->code);
	svm_isolate_exceptions(vcpu);
	vmcb->control.tlb_control = 1;	/* flush L2's TLB: the tables may have changed */
	switch (c->setup) {
	case SETUP_NONE:
		break;
	case SETUP_TS:
		vmcb->save.cr0 = (vmcb->save.cr0 | X86_CR0_TS | X86_CR0_MP) & ~X86_CR0_EM;
		break;
	case SETUP_EM:
		vmcb->save.cr0 |= X86_CR0_EM;
		break;
	case SETUP_NO_IDT:
		vmcb->save.idtr.limit = 0;
		svm_intercept_exception(vcpu, X86_VEC_NP, false);
		break;
	case SETUP_NONCANONICAL:
		vmcb->save.rax = 1ull << 63;
		break;
	case SETUP_BAD_SELECTOR:
		if (gdt_limit() >= 0xfff8) {
			test_error("", "the GDT is 64 KiB: no selector lies beyond its limit");
			return false;
		}
		vcpu->regs.rcx = 0xfff8;
		break;
	case SETUP_SHORT_IDT:
		vmcb->save.idtr.limit = 0x80 * 16 - 1;
		break;
	case SETUP_UNMAPPED:
		if (!unmapped) {
			test_error("", "no unmapped linear address below 2^46");
			return false;
		}
		vmcb->save.rax = unmapped;
		break;
	case SETUP_READ_ONLY:
		pte = pt_entry(paging_current(), (uint64_t)read_only, 1);
		*pte &= ~PTE_W;
		invlpg(read_only);
		(void)level;
		vmcb->save.cr0 |= X86_CR0_WP;
		vmcb->save.rax = (uint64_t)read_only;
		break;
	case SETUP_X87:
		*(uint16_t *)scratch = 0x0340;	/* x87 exceptions unmasked */
		vmcb->save.cr0 = (vmcb->save.cr0 | X86_CR0_NE) & ~(X86_CR0_EM | X86_CR0_TS);
		vmcb->save.rax = (uint64_t)scratch;
		break;
	case SETUP_SSE:
		*(uint32_t *)scratch = 0;	/* SIMD exceptions unmasked */
		vmcb->save.cr0 &= ~(X86_CR0_EM | X86_CR0_TS);
		vmcb->save.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
		vmcb->save.rax = (uint64_t)scratch;
		break;
	case SETUP_USER_AC:
		/* An 8-byte load at an odd address with CR0.AM, RFLAGS.AC and CPL 3 (APM Vol. 2 8.2.18). */
		svm_vcpu_set_user_mode(vcpu);
		vmcb->save.cr0 |= X86_CR0_AM;
		vmcb->save.rflags |= X86_EFLAGS_AC;
		vmcb->save.rax = (uint64_t)scratch + 1;
		break;
	}
	svm_intercept_exception(vcpu, c->vector, intercepted);
	return true;
}

static void cleanup(const struct excp_case *c)
{
	if (c->setup == SETUP_READ_ONLY) {
		*pt_entry(paging_current(), (uint64_t)read_only, 1) |= PTE_W;
		invlpg(read_only);
	}
	if (c->setup == SETUP_X87)
		asm volatile("fnclex; fninit");
}

static void run_case(const struct excp_case *c)
{
	uint64_t want = SVM_EXIT_EXCP(c->vector), code, rip;
	const char *at = c->trap ? c->after : c->at;
	struct vmcb *vmcb = vcpu->vmcb;

	if (!svm_require())
		return;
	if (c->setup == SETUP_SSE && !cpu_has(CPU_FEATURE(1, 0, 3, 25))) {
		skip("", "no SSE in CPUID");
		return;
	}
	if (!prepare(c, true))
		return;
	code = svm_run(vcpu);
	rip = vmcb->save.rip;
	if (c->setup == SETUP_NO_IDT)	/* #DF: the saved RIP is undefined (APM Vol. 2 8.2.9) */
		check_msg(code == want, "exit", "exit code %#lx (EXITINFO1 %#lx), expected %#lx",
			  code, vmcb->control.exit_info1, want);
	else
		check_msg(code == want && rip == (uint64_t)at, "exit",
			  "exit code %#lx (EXITINFO1 %#lx) at rip %#lx, expected %#lx at rip %p",
			  code, vmcb->control.exit_info1, rip, want, at);
	if (code == want && c->has_error)
		check_eq("exitinfo1", vmcb->control.exit_info1, c->error);
	if (code == want && c->vector == X86_VEC_PF)
		check_eq("exitinfo2", vmcb->control.exit_info2, vmcb->save.rax);
	cleanup(c);

	if (c->setup == SETUP_NO_IDT || c->setup == SETUP_SHORT_IDT || c->vector == X86_VEC_NP)
		return;		/* the empty IDT cannot show these */
	if (!prepare(c, false))
		return;
	code = svm_run(vcpu);
	/* The #NP's error code is checked once, by excp.np.exitinfo1. */
	check_msg(code == SVM_EXIT_EXCP(X86_VEC_NP) && vmcb->save.rip == (uint64_t)at,
		  "not_intercepted",
		  "exit code %#lx, EXITINFO1 %#lx at rip %#lx; expected delivery through L2's IDT "
		  "(#NP on its not-present gate for vector %u) at rip %p", code,
		  vmcb->control.exit_info1, vmcb->save.rip, c->vector, at);
	cleanup(c);
}

/* ---------------------------------------------------------------- SMEP and SMAP */

#define WRITE_MARK	0x1234567887654321ull	/* RCX: what the write stores */

L2_AT(l2_user_fetch, "", "jmp *%rax", "");
L2_AT(l2_stac_read, "stac", "mov (%rax), %rcx", "");

static uint8_t *user_page;

/* One access by the CPL-0 L2 to the user page, with #PF intercepted and @cr4 added. */
static uint64_t run_user_access(const struct user_case *c, uint64_t cr4, uint64_t *addr,
				uint64_t *at)
{
	static char *const code[] = { l2_user_fetch, l2_pf_read, l2_pf_write, l2_stac_read };
	static char *const insn[] = { NULL, l2_pf_read_at, l2_pf_write_at, l2_stac_read_at };
	struct vmcb *vmcb = vcpu->vmcb;

	*addr = user_gva + (c->access == USER_FETCH ? USER_CODE_OFF : USER_DATA_OFF);
	*at = c->access == USER_FETCH ? *addr : (uint64_t)insn[c->access];
	*(uint64_t *)(user_page + USER_DATA_OFF) = USER_VALUE;
	svm_vcpu_reset(vcpu, code[c->access]);
	svm_isolate_exceptions(vcpu);
	svm_intercept_exception(vcpu, X86_VEC_PF, true);
	vmcb->control.tlb_control = 1;
	vmcb->save.cr4 = (vmcb->save.cr4 & ~(X86_CR4_SMEP | X86_CR4_SMAP)) | cr4;
	vmcb->save.rax = *addr;
	vcpu->regs.rcx = WRITE_MARK;
	return svm_run(vcpu);
}

static void run_user_case(const struct user_case *c)
{
	static const uint8_t vmmcall[] = { 0x0f, 0x01, 0xd9, 0x0f, 0x0b };
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t code, addr, at;

	if (!svm_require())
		return;
	user_page = user_case_page(c, user_gva, vmmcall, sizeof(vmmcall));
	if (!user_page)
		return;

	code = run_user_access(c, 0, &addr, &at);
	if (!check_msg(code == SVM_EXIT_VMMCALL, "allowed",
		       "without %s: exit %#lx (EXITINFO1 %#lx, EXITINFO2 %#lx) at rip %#lx, "
		       "expected VMMCALL", user_case_bit_name(c), code, vmcb->control.exit_info1,
		       vmcb->control.exit_info2, vmcb->save.rip))
		return;
	if (c->access == USER_FETCH)
		check_eq("allowed.rip", vmcb->save.rip, addr);
	else if (c->access == USER_WRITE)
		check_eq("allowed.data", *(uint64_t *)(user_page + USER_DATA_OFF), WRITE_MARK);
	else
		check_eq("allowed.data", vcpu->regs.rcx, USER_VALUE);

	code = run_user_access(c, c->cr4_bit, &addr, &at);
	if (!c->faults) {
		if (check_msg(code == SVM_EXIT_VMMCALL, "completes",
			      "with %s: exit %#lx (EXITINFO1 %#lx) at rip %#lx, expected VMMCALL",
			      user_case_bit_name(c), code, vmcb->control.exit_info1, vmcb->save.rip))
			check_eq("data", vcpu->regs.rcx, USER_VALUE);
		return;
	}
	if (!check_msg(code == SVM_EXIT_EXCP(X86_VEC_PF) && vmcb->save.rip == at, "exit",
		       "exit %#lx (EXITINFO1 %#lx) at rip %#lx, expected #PF (0x4e) at rip %#lx",
		       code, vmcb->control.exit_info1, vmcb->save.rip, at))
		return;
	check_eq("exitinfo1", vmcb->control.exit_info1, c->error);
	check_eq("exitinfo2", vmcb->control.exit_info2, addr);
	if (c->access == USER_WRITE)
		check_eq("unwritten", *(uint64_t *)(user_page + USER_DATA_OFF), USER_VALUE);
}

#define USER_FN(i) static void check_user_##i(void) { run_user_case(&user_cases[i]); }
USER_FN(0) USER_FN(1) USER_FN(2) USER_FN(3) USER_FN(4)
_Static_assert(USER_CASE_COUNT == 5, "one function per case");

/* NAME, vector, setup, trap, error code (-1: none) */
#define EXCP_CASES(X)                                                              \
	X(de, X86_VEC_DE, SETUP_NONE, false, -1)                                   \
	X(db, X86_VEC_DB, SETUP_NONE, true, -1)                                    \
	X(bp, X86_VEC_BP, SETUP_NONE, false, -1)                                   \
	X(ud, X86_VEC_UD, SETUP_NONE, false, -1)                                   \
	X(nm_ts, X86_VEC_NM, SETUP_TS, false, -1)                                  \
	X(nm_em, X86_VEC_NM, SETUP_EM, false, -1)                                  \
	X(df, X86_VEC_DF, SETUP_NO_IDT, false, 0)                                  \
	X(np, X86_VEC_NP, SETUP_NONE, false, 0x81 * 8 + 2)                         \
	X(ss, X86_VEC_SS, SETUP_NONCANONICAL, false, 0)                            \
	X(gp, X86_VEC_GP, SETUP_NONCANONICAL, false, 0)                            \
	X(gp_sel, X86_VEC_GP, SETUP_BAD_SELECTOR, false, 0xfff8)                   \
	X(gp_idt, X86_VEC_GP, SETUP_SHORT_IDT, false, 0x80 * 8 + 2)                \
	X(pf_read, X86_VEC_PF, SETUP_UNMAPPED, false, 0)                           \
	X(pf_write, X86_VEC_PF, SETUP_UNMAPPED, false, X86_PFEC_W)                 \
	X(pf_prot, X86_VEC_PF, SETUP_READ_ONLY, false, X86_PFEC_P | X86_PFEC_W)    \
	X(mf, X86_VEC_MF, SETUP_X87, false, -1)                                    \
	X(xm, X86_VEC_XM, SETUP_SSE, false, -1)                                    \
	X(ac, X86_VEC_AC, SETUP_USER_AC, false, 0)

#define DEFINE_CASE(n, v, s, trap, err)                                            \
	static void check_##n(void)                                                \
	{                                                                          \
		static const struct excp_case c = { #n, v, l2_##n, l2_##n##_at,     \
			l2_##n##_after, s, trap, (err) != -1, (uint32_t)(err) };                                         \
		run_case(&c);                                                      \
	}
EXCP_CASES(DEFINE_CASE)

#define TABLE_ENTRY(n, ...) { "excp." #n, check_##n },

static const struct check_entry checks[] = {
	EXCP_CASES(TABLE_ENTRY)
	{ "smep.fetch", check_user_0 },
	{ "smep.read", check_user_1 },
	{ "smap.read", check_user_2 },
	{ "smap.write", check_user_3 },
	{ "smap.read_stac", check_user_4 },
};

DEFINE_TEST("svm_exceptions", checks, .setup = setup);
