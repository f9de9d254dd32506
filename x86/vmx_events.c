/*
 * Exceptions and events between L1 and L2 (Intel SDM Vol. 3C):
 *  - the exception bitmap (25.6.3, "Exception Bitmap"; 26.2, "Other Causes of
 *    VM Exits"): an exception whose bit is 1 exits with reason 0 and the
 *    VM-exit interruption information (25.9.2: vector, type 3 hardware
 *    exception or 6 software exception for INT3/INTO, error-code valid) and
 *    error code; with the bit 0 it is delivered through L2's IDT;
 *  - #PF and the page-fault error-code mask and match (25.6.3): with bit 14
 *    set, a #PF exits iff (PFEC & mask) == match; with bit 14 clear, iff not;
 *  - event injection (27.6, "Event Injection"; checks in 27.2.1.3 and
 *    27.3.1.4): each interruption type, with and without error code,
 *    delivered through L2's own IDT (vmx_event_util.h) with the return
 *    address = guest RIP + VM-entry instruction length for software types
 *    (27.6.1.1); the valid bit cleared at the next exit (25.8.3);
 *  - IDT-vectoring information (28.2.4, "Information for VM Exits That Occur
 *    During Event Delivery"): an event whose delivery meets a not-present gate
 *    (#NP in the exception bitmap) or a gate beyond the IDT limit (#GP) is
 *    recorded there, injected or raised by L2 itself (INT n, #DE, #GP with its
 *    error code), and the reinjection idiom (copy it to the VM-entry
 *    interruption information and resume) completes it (28.2.4, 27.6);
 *  - SMEP and SMAP in L2 (SDM Vol. 3A 4.6.1): a supervisor fetch from a user
 *    page, and a supervisor data access to one with RFLAGS.AC = 0, exit with
 *    #PF, its error code and the address in the qualification.
 *
 * Exceptions that this L2 cannot raise have no entry: NMI (vector 2, not an
 * exception of the bitmap), 9 and 15 (reserved), #TS (task switches do not
 * exist in IA-32e mode), #AC (needs CPL 3 and user pages), #MC, #VE (needs
 * EPT-violation #VE), #CP (needs CET) and 22-31 (reserved).
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "pagetable.h"
#include "processor.h"
#include "smep_smap.h"
#include "test.h"
#include "vmx.h"
#include "vmx_event_util.h"

static struct vmx_vcpu *vcpu;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

/* Linear addresses for #PF: one never mapped, one mapped read-only. */
#define PF_UNMAPPED	0x00007f0000000000ull
#define PF_READONLY	0x00007f0000200000ull

static bool paging_ready;

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
	vmx_l2_idt_init();
}

static bool pf_pages(void)
{
	unsigned level;

	if (paging_ready)
		return true;
	if (pt_find(paging_current(), PF_UNMAPPED, &level) ||
	    pt_find(paging_current(), PF_READONLY, &level)) {
		test_error("", "the #PF test addresses are already mapped");
		return false;
	}
	pt_map(paging_current(), PF_READONLY, (uint64_t)alloc_page(), PAGE_SIZE, PAGE_SIZE, PTE_P);
	invlpg((void *)PF_READONLY);
	paging_ready = true;
	return true;
}

static uint64_t stack_top(void)
{
	return (uint64_t)vcpu->stack + PAGE_SIZE;
}

/* A fresh VMCS at @rip with L2's own IDT (every gate present) and an empty exception bitmap. */
static void prep(void *rip)
{
	vmx_vcpu_reset(vcpu, rip);
	vmx_l2_idt_reset();
	vmx_l2_idt_use();
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
}

/* 32-bit compatibility mode: CS = the GDT's 32-bit code segment, IA-32e guest. */
static void use_compat_cs(void)
{
	uint64_t d = gdt64[KERNEL_CS32 / 8];
	uint32_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	if (d & BIT(55))
		limit = (limit << 12) | 0xfff;
	vmcs_write(VMCS_GUEST_CS_SEL, KERNEL_CS32);
	vmcs_write(VMCS_GUEST_CS_BASE, 0);
	vmcs_write(VMCS_GUEST_CS_LIMIT, limit);
	vmcs_write(VMCS_GUEST_CS_AR, (((d >> 40) & 0xff) | 1) | (((d >> 52) & 0xf) << 12));
}

/* L2 leaves x87 and SSE state as L1 found it (L1 shares the registers). */
VMX_L2_CODE(l2_fpu_restore, "push $0x1f80; ldmxcsr (%rsp); pop %rax; fninit");

static void restore_fpu(void)
{
	prep(l2_fpu_restore);
	vmcs_update(VMCS_GUEST_CR0, X86_CR0_TS | X86_CR0_EM, 0);
	vmcs_update(VMCS_GUEST_CR4, 0, X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	if (vmx_run(vcpu) != VMX_EXIT_VMCALL)
		test_error("restore_fpu", "L2 could not reset x87/SSE state: exit %#x", vcpu->exit_reason);
}

/* ------------------------------------------------------------ exception bitmap */

VMX_L2_CODE(l2_de, "xor %edx, %edx; xor %eax, %eax; xor %ecx, %ecx\n"
		   ".globl l2_de_insn\nl2_de_insn: div %ecx");
VMX_L2_CODE(l2_db, "pushfq; orq $0x100, (%rsp); popfq\n"
		   "nop\n.globl l2_db_after\nl2_db_after: nop; nop");
VMX_L2_CODE(l2_bp, ".globl l2_bp_insn\nl2_bp_insn: int3");
VMX_L2_CODE32(l2_of, "mov $0x7fffffff, %eax; add $1, %eax\n.globl l2_of_insn\nl2_of_insn: into");
VMX_L2_CODE32(l2_br, "xor %eax, %eax\n.globl l2_br_insn\nl2_br_insn: bound %eax, (%ebx)");
VMX_L2_CODE(l2_ud, ".globl l2_ud_insn\nl2_ud_insn: ud2");
VMX_L2_CODE(l2_nm, ".globl l2_nm_insn\nl2_nm_insn: fninit");
VMX_L2_CODE(l2_gp, "movabs $0x8000000000000000, %rax\n.globl l2_gp_insn\nl2_gp_insn: mov (%rax), %rax");
VMX_L2_CODE(l2_np, ".globl l2_np_insn\nl2_np_insn: int $0x50");
VMX_L2_CODE(l2_ss, "movabs $0x8000000000000000, %rbp\n.globl l2_ss_insn\nl2_ss_insn: mov (%rbp), %rax");
VMX_L2_CODE(l2_pf, ".globl l2_pf_insn\nl2_pf_insn: mov (%rbx), %rax");
VMX_L2_CODE(l2_pfw, ".globl l2_pfw_insn\nl2_pfw_insn: mov %rax, (%rbx)");
VMX_L2_CODE(l2_mf, "fninit; push $0x340; fldcw (%rsp); pop %rax; fldz; fldz; fdivp\n"
		   ".globl l2_mf_insn\nl2_mf_insn: fwait");
VMX_L2_CODE(l2_xm, "push $0; ldmxcsr (%rsp); pop %rax; xorps %xmm0, %xmm0\n"
		   ".globl l2_xm_insn\nl2_xm_insn: divss %xmm0, %xmm0");
extern char l2_de_insn[], l2_db_after[], l2_bp_insn[], l2_of_insn[], l2_br_insn[], l2_ud_insn[],
	l2_nm_insn[], l2_gp_insn[], l2_np_insn[], l2_ss_insn[], l2_pf_insn[], l2_pfw_insn[],
	l2_mf_insn[], l2_xm_insn[];

static const int32_t br_bounds[2] = { 1, 2 };

enum {
	F_COMPAT = BIT(0),	/* 32-bit compatibility-mode code */
	F_CR0_TS = BIT(1),
	F_SSE = BIT(2),		/* CR4.OSFXSR and OSXMMEXCPT */
	F_NO_GP_GATE = BIT(3),	/* gates 11 and 13 not present: #GP then #NP, so #DF */
	F_NO_50_GATE = BIT(4),
	F_PF = BIT(5),		/* RBX = the unmapped address */
	F_FPU = BIT(6),		/* restore x87/SSE afterwards */
	F_TRAP = BIT(7),	/* a trap: the frame's RIP is the next instruction */
};

struct exc_case {
	const char *name;
	unsigned vector, type;
	int error;		/* -1: none */
	char *code;		/* L2 entry point */
	char *insn;		/* the RIP the exit reports */
	unsigned insn_len;	/* VM-exit instruction length for software exceptions, else 0 */
	unsigned flags;
};

static const struct exc_case excs[] = {
	{ "de", X86_VEC_DE, VMX_INTR_HW_EXC, -1, l2_de, l2_de_insn, 0, 0 },
	{ "db", X86_VEC_DB, VMX_INTR_HW_EXC, -1, l2_db, l2_db_after, 0, F_TRAP },
	{ "bp", X86_VEC_BP, VMX_INTR_SW_EXC, -1, l2_bp, l2_bp_insn, 1, F_TRAP },
	{ "of", X86_VEC_OF, VMX_INTR_SW_EXC, -1, l2_of, l2_of_insn, 1, F_COMPAT | F_TRAP },
	{ "br", X86_VEC_BR, VMX_INTR_HW_EXC, -1, l2_br, l2_br_insn, 0, F_COMPAT },
	{ "ud", X86_VEC_UD, VMX_INTR_HW_EXC, -1, l2_ud, l2_ud_insn, 0, 0 },
	{ "nm", X86_VEC_NM, VMX_INTR_HW_EXC, -1, l2_nm, l2_nm_insn, 0, F_CR0_TS },
	{ "df", X86_VEC_DF, VMX_INTR_HW_EXC, 0, l2_gp, NULL, 0, F_NO_GP_GATE },
	{ "np", X86_VEC_NP, VMX_INTR_HW_EXC, 0x50 * 8 + 2, l2_np, l2_np_insn, 0, F_NO_50_GATE },
	{ "ss", X86_VEC_SS, VMX_INTR_HW_EXC, 0, l2_ss, l2_ss_insn, 0, 0 },
	{ "gp", X86_VEC_GP, VMX_INTR_HW_EXC, 0, l2_gp, l2_gp_insn, 0, 0 },
	{ "pf", X86_VEC_PF, VMX_INTR_HW_EXC, 0, l2_pf, l2_pf_insn, 0, F_PF },
	{ "mf", X86_VEC_MF, VMX_INTR_HW_EXC, -1, l2_mf, l2_mf_insn, 0, F_FPU },
	{ "xm", X86_VEC_XM, VMX_INTR_HW_EXC, -1, l2_xm, l2_xm_insn, 0, F_SSE | F_FPU },
};

static void exc_prep(const struct exc_case *c, uint32_t bitmap)
{
	prep(c->code);
	vmcs_write(VMCS_EXCEPTION_BITMAP, bitmap);
	vcpu->regs.rbx = (c->flags & F_PF) ? PF_UNMAPPED : (uint64_t)br_bounds;
	if (c->flags & F_COMPAT)
		use_compat_cs();
	if (c->flags & F_CR0_TS)
		vmcs_update(VMCS_GUEST_CR0, 0, X86_CR0_TS);
	if (c->flags & F_SSE)
		vmcs_update(VMCS_GUEST_CR4, 0, X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	if (c->flags & F_NO_GP_GATE) {
		vmx_l2_idt_set_present(X86_VEC_GP, false);
		vmx_l2_idt_set_present(X86_VEC_NP, false);
	}
	if (c->flags & F_NO_50_GATE)
		vmx_l2_idt_set_present(0x50, false);
}

/*
 * The exception's bit set: VM exit with reason 0 and the interruption
 * information of the exception (26.2; 28.2.2, "Information for VM Exits Due
 * to Vectored Events"); RIP is that of the faulting instruction, and for
 * INT3/INTO the instruction itself, whose length the exit reports (28.2.5).
 * Bit clear: L2's IDT gets it.
 */
static void run_exc(const struct exc_case *c)
{
	uint32_t want = vmx_intr_info(c->vector, c->type, c->error >= 0), info;
	struct vmx_l2_event ev;
	uint32_t reason;

	if (!vmx_require_vmx() || ((c->flags & F_PF) && !pf_pages()))
		return;

	/* Only the exception's own bit: the others must not matter. */
	exc_prep(c, BIT(c->vector));
	write_cr2(0x5a5a000);
	reason = vmx_run(vcpu);
	info = vmcs_read(VMCS_EXIT_INTR_INFO);
	if (check_msg(reason == VMX_EXIT_EXCEPTION, "exit.reason",
		      "exception bitmap bit %u set: expected exit reason 0, got %#x (%s), RIP %#lx",
		      c->vector, reason, vmx_exit_name(reason) ?: "?",
		      vmcs_read(VMCS_GUEST_RIP))) {
		check_msg((info & 0x80000fff) == want, "exit.info",
			  "VM-exit interruption information %#x, expected %#x (vector %u type %u)",
			  info, want, c->vector, c->type);
		if (c->error >= 0)
			check_eq("exit.error", vmcs_read(VMCS_EXIT_INTR_ERROR), c->error);
		if (c->insn)
			check_eq("exit.rip", vmcs_read(VMCS_GUEST_RIP), c->insn);
		if (c->insn_len)
			check_eq("exit.insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), c->insn_len);
		if (c->vector == X86_VEC_PF) {
			/* Exit qualification: the linear address; CR2 is not written (28.2.1). */
			check_eq("exit.qual", vmcs_read(VMCS_EXIT_QUALIFICATION), PF_UNMAPPED);
			check_eq("exit.cr2_kept", read_cr2(), 0x5a5a000);
		}
		if (c->vector == X86_VEC_DB)
			check_msg(vmcs_read(VMCS_EXIT_QUALIFICATION) & X86_DR6_BS, "exit.qual",
				  "qualification %#lx: expected BS (bit 14) for a single-step trap",
				  vmcs_read(VMCS_EXIT_QUALIFICATION));
	}

	/*
	 * Every other bit set, its own clear: delivered to L2's gate (for #DF,
	 * the #GP and #NP on the way must not exit either).
	 */
	exc_prep(c, ~(uint32_t)BIT(c->vector) &
		    ((c->flags & F_NO_GP_GATE) ? ~(uint32_t)(BIT(X86_VEC_GP) | BIT(X86_VEC_NP)) : ~0u));
	vmx_run(vcpu);
	vmx_l2_event_read(vcpu, stack_top(), &ev);
	if (check_msg(ev.delivered && ev.vector == c->vector, "clear.delivered",
		      "bit %u clear: expected delivery through L2's gate %u, got exit %#x at RIP %#lx (stub %d)",
		      c->vector, c->vector, vcpu->exit_reason, vmcs_read(VMCS_GUEST_RIP),
		      ev.delivered ? (int)ev.vector : -1)) {
		check_msg(ev.frame_ok && ev.has_error == (c->error >= 0) &&
			  (c->error < 0 || ev.error == (uint64_t)c->error), "clear.error",
			  "frame %s error code %#lx, expected %s %#x", ev.has_error ? "with" : "without",
			  ev.error, c->error >= 0 ? "with" : "without", c->error);
		if (c->insn)
			check_eq("clear.rip", ev.rip,
				 (uint64_t)c->insn + ((c->flags & F_TRAP) && c->insn_len ? c->insn_len : 0));
		if (c->vector == X86_VEC_PF)
			check_eq("clear.cr2", read_cr2(), PF_UNMAPPED);
	}
	if (c->flags & (F_FPU | F_CR0_TS))
		restore_fpu();
}

#define EXC_FN(i) static void check_exc_##i(void) { run_exc(&excs[i]); }
EXC_FN(0) EXC_FN(1) EXC_FN(2) EXC_FN(3) EXC_FN(4) EXC_FN(5) EXC_FN(6)
EXC_FN(7) EXC_FN(8) EXC_FN(9) EXC_FN(10) EXC_FN(11) EXC_FN(12) EXC_FN(13)
_Static_assert(ARRAY_SIZE(excs) == 14, "one function per case");

/* ------------------------------------------------------------ #PF error-code mask/match */

struct pf_case {
	const char *name;
	bool bit14;
	uint32_t mask, match;
	bool write, present;	/* the access: write or read, to the read-only page or unmapped */
	bool exits;
};

/*
 * 25.6.3: "if bit 14 is 1, a #PF causes a VM exit iff PFEC & MASK == MATCH;
 * if bit 14 is 0, iff they differ".  PFEC: 0 read not present, 2 write not
 * present, 3 write to a read-only page (CR0.WP = 1).
 */
static const struct pf_case pf_cases[] = {
	{ "set.any.read_np", true, 0, 0, false, false, true },
	{ "set.never.read_np", true, 0, 0xffff, false, false, false },
	{ "set.w.write_np", true, X86_PFEC_W, X86_PFEC_W, true, false, true },
	{ "set.w.read_np", true, X86_PFEC_W, X86_PFEC_W, false, false, false },
	{ "set.p.write_ro", true, X86_PFEC_P, X86_PFEC_P, true, true, true },
	{ "set.p.write_np", true, X86_PFEC_P, X86_PFEC_P, true, false, false },
	{ "clear.equal.read_np", false, 0, 0, false, false, false },
	{ "clear.differ.read_np", false, 0, 0xffff, false, false, true },
	{ "clear.w.write_np", false, X86_PFEC_W, X86_PFEC_W, true, false, false },
	{ "clear.w.read_np", false, X86_PFEC_W, X86_PFEC_W, false, false, true },
	{ "clear.pw.write_ro", false, X86_PFEC_P | X86_PFEC_W, X86_PFEC_P | X86_PFEC_W, true, true, false },
	{ "clear.pw.write_np", false, X86_PFEC_P | X86_PFEC_W, X86_PFEC_P | X86_PFEC_W, true, false, true },
};

static void check_pf_filter(void)
{
	if (!vmx_require_vmx() || !pf_pages())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(pf_cases); i++) {
		const struct pf_case *c = &pf_cases[i];
		uint32_t pfec = (c->write ? X86_PFEC_W : 0) | (c->present ? X86_PFEC_P : 0);
		struct vmx_l2_event ev;
		uint32_t reason;
		bool exited, delivered;

		prep(c->write ? l2_pfw : l2_pf);
		vmcs_write(VMCS_EXCEPTION_BITMAP, c->bit14 ? BIT(X86_VEC_PF) : 0);
		vmcs_write(VMCS_PF_ERROR_MASK, c->mask);
		vmcs_write(VMCS_PF_ERROR_MATCH, c->match);
		vmcs_update(VMCS_GUEST_CR0, 0, X86_CR0_WP);
		vcpu->regs.rbx = c->present ? PF_READONLY : PF_UNMAPPED;
		reason = vmx_run(vcpu);
		vmx_l2_event_read(vcpu, stack_top(), &ev);
		exited = reason == VMX_EXIT_EXCEPTION &&
			 (vmcs_read(VMCS_EXIT_INTR_INFO) & 0xff) == X86_VEC_PF &&
			 vmcs_read(VMCS_EXIT_INTR_ERROR) == pfec;
		delivered = ev.delivered && ev.vector == X86_VEC_PF && ev.error == pfec;
		check_msg(c->exits ? exited : delivered, c->name,
			  "bit 14 %u, mask %#x, match %#x, PFEC %#x: expected %s; got exit %#x "
			  "(error %#lx), L2 gate %d (error %#lx)", c->bit14, c->mask, c->match, pfec,
			  c->exits ? "a VM exit" : "delivery in L2", reason,
			  vmcs_read(VMCS_EXIT_INTR_ERROR), ev.delivered ? (int)ev.vector : -1, ev.error);
	}
}

/* ------------------------------------------------------------ SMEP and SMAP */

/*
 * A CPL-0 L2 and a user page (U = 1 at every level) with CR4.SMEP or CR4.SMAP
 * (SDM Vol. 3A 4.6.1, 4.7): a fetch from it, or a data access with
 * RFLAGS.AC = 0, raises #PF with P (and I/D for the fetch, W for a write) and
 * U/S clear; with AC = 1 (STAC) the data access completes.  #PF is in the
 * bitmap, so the exit reports the error code and, in the qualification, the
 * linear address (28.2.1).  Each first runs the same access without the CR4
 * bit, which must complete.
 */
#define USER_PAGE	0x00007f0000400000ull
#define WRITE_MARK	0x1234567887654321ull	/* RAX: what the write stores */

VMX_L2_CODE(l2_user_fetch, "jmp *%rbx");
VMX_L2_CODE(l2_stac_read, "stac\n.globl l2_stac_read_insn\nl2_stac_read_insn: mov (%rbx), %rax");
extern char l2_stac_read_insn[];

static uint8_t *user_page;

/* One access to the user page with #PF in the bitmap and @cr4 added; *@at: the faulting RIP. */
static uint32_t run_user_access(const struct user_case *c, uint64_t cr4, uint64_t *addr,
				uint64_t *at)
{
	static char *const code[] = { l2_user_fetch, l2_pf, l2_pfw, l2_stac_read };
	static char *const insn[] = { NULL, l2_pf_insn, l2_pfw_insn, l2_stac_read_insn };

	*addr = USER_PAGE + (c->access == USER_FETCH ? USER_CODE_OFF : USER_DATA_OFF);
	*at = c->access == USER_FETCH ? *addr : (uint64_t)insn[c->access];
	*(uint64_t *)(user_page + USER_DATA_OFF) = USER_VALUE;
	prep(code[c->access]);
	vmcs_write(VMCS_EXCEPTION_BITMAP, BIT(X86_VEC_PF));
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_update(VMCS_GUEST_CR4, X86_CR4_SMEP | X86_CR4_SMAP, cr4);
	vcpu->regs.rbx = *addr;
	vcpu->regs.rax = WRITE_MARK;
	invlpg((void *)USER_PAGE);
	return vmx_run(vcpu);
}

static void run_user_case(const struct user_case *c)
{
	static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1, 0x0f, 0x0b };
	uint64_t addr, at;
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	user_page = user_case_page(c, USER_PAGE, vmcall, sizeof(vmcall));
	if (!user_page)
		return;
	if (!(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & c->cr4_bit)) {
		skip("", "IA32_VMX_CR4_FIXED1 fixes %s to 0", user_case_bit_name(c));
		return;
	}

	reason = run_user_access(c, 0, &addr, &at);
	if (!check_msg(reason == VMX_EXIT_VMCALL, "allowed",
		       "without %s: exit %#x (%s) at RIP %#lx, expected VMCALL",
		       user_case_bit_name(c), reason, vmx_exit_name(reason) ?: "?",
		       vmcs_read(VMCS_GUEST_RIP)))
		return;
	if (c->access == USER_FETCH)
		check_eq("allowed.rip", vmcs_read(VMCS_GUEST_RIP), addr);
	else if (c->access == USER_WRITE)
		check_eq("allowed.data", *(uint64_t *)(user_page + USER_DATA_OFF), WRITE_MARK);
	else
		check_eq("allowed.data", vcpu->regs.rax, USER_VALUE);

	reason = run_user_access(c, c->cr4_bit, &addr, &at);
	if (!c->faults) {
		if (check_msg(reason == VMX_EXIT_VMCALL, "completes",
			      "with %s: exit %#x (%s) at RIP %#lx, expected VMCALL",
			      user_case_bit_name(c), reason, vmx_exit_name(reason) ?: "?",
			      vmcs_read(VMCS_GUEST_RIP)))
			check_eq("data", vcpu->regs.rax, USER_VALUE);
		return;
	}
	if (!check_msg(reason == VMX_EXIT_EXCEPTION &&
		       (vmcs_read(VMCS_EXIT_INTR_INFO) & 0x80000fff) ==
			       vmx_intr_info(X86_VEC_PF, VMX_INTR_HW_EXC, true) &&
		       vmcs_read(VMCS_GUEST_RIP) == at, "exit",
		       "exit %#x (%s), interruption information %#lx at RIP %#lx; expected #PF "
		       "(reason 0, %#x) at %#lx", reason, vmx_exit_name(reason) ?: "?",
		       vmcs_read(VMCS_EXIT_INTR_INFO), vmcs_read(VMCS_GUEST_RIP),
		       vmx_intr_info(X86_VEC_PF, VMX_INTR_HW_EXC, true), at))
		return;
	check_eq("error", vmcs_read(VMCS_EXIT_INTR_ERROR), c->error);
	check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), addr);
	if (c->access == USER_WRITE)
		check_eq("unwritten", *(uint64_t *)(user_page + USER_DATA_OFF), USER_VALUE);
}

#define USER_FN(i) static void check_user_##i(void) { run_user_case(&user_cases[i]); }
USER_FN(0) USER_FN(1) USER_FN(2) USER_FN(3) USER_FN(4)
_Static_assert(USER_CASE_COUNT == 5, "one function per case");

/* ------------------------------------------------------------ event injection */

VMX_L2_CODE(l2_nops, "nop; nop; nop; nop; nop; nop; nop; nop");
VMX_L2_CODE(l2_int62, ".globl l2_int62_insn\nl2_int62_insn: int $0x62");
extern char l2_int62_insn[];

struct inj_case {
	const char *name;
	unsigned vector, type;
	int error;		/* -1: none */
	unsigned len;		/* VM-entry instruction length */
};

static bool software_type(unsigned type)
{
	return type == VMX_INTR_SW_INT || type == VMX_INTR_PRIV_SW_EXC || type == VMX_INTR_SW_EXC;
}

static const struct inj_case injs[] = {
	{ "ext_intr", 0x40, VMX_INTR_EXT, -1, 0 },
	{ "ext_intr_vec13", 13, VMX_INTR_EXT, -1, 0 },	/* no error code: not an exception */
	{ "nmi", 2, VMX_INTR_NMI, -1, 0 },
	{ "hw_de", X86_VEC_DE, VMX_INTR_HW_EXC, -1, 0 },
	{ "hw_ud", X86_VEC_UD, VMX_INTR_HW_EXC, -1, 0 },
	{ "hw_df", X86_VEC_DF, VMX_INTR_HW_EXC, 0, 0 },
	{ "hw_gp", X86_VEC_GP, VMX_INTR_HW_EXC, 0x5a5a, 0 },
	{ "hw_pf", X86_VEC_PF, VMX_INTR_HW_EXC, 0x3, 0 },
	{ "hw_ac", X86_VEC_AC, VMX_INTR_HW_EXC, 0x1234, 0 },
	{ "sw_int", 0x41, VMX_INTR_SW_INT, -1, 2 },
	{ "sw_int_len7", 0x42, VMX_INTR_SW_INT, -1, 7 },
	{ "priv_sw_exc", 1, VMX_INTR_PRIV_SW_EXC, -1, 1 },
	{ "sw_exc_bp", X86_VEC_BP, VMX_INTR_SW_EXC, -1, 1 },
	{ "sw_exc_of", X86_VEC_OF, VMX_INTR_SW_EXC, -1, 1 },
};

static uint32_t inject_prep(void *rip, unsigned vector, unsigned type, int error, unsigned len)
{
	prep(rip);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_ENTRY_INTR_INFO, vmx_intr_info(vector, type, error >= 0));
	vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error >= 0 ? (uint32_t)error : 0);
	vmcs_write(VMCS_ENTRY_INSN_LEN, len);
	return vmx_run(vcpu);
}

/*
 * 27.6.1: the event is delivered as if it occurred right after VM entry,
 * through L2's IDT; the frame's RIP is the guest RIP, plus the VM-entry
 * instruction length for software interrupts and exceptions (27.6.1.1); an
 * interrupt gate clears IF; the exit afterwards finds the valid bit of the
 * VM-entry interruption information clear (25.8.3) and no IDT-vectoring info.
 */
static void run_inj(const struct inj_case *c)
{
	struct vmx_l2_event ev;
	uint64_t want_rip = (uint64_t)l2_nops + (software_type(c->type) ? c->len : 0);

	if (!vmx_require_vmx())
		return;
	inject_prep(l2_nops, c->vector, c->type, c->error, c->len);
	vmx_l2_event_read(vcpu, stack_top(), &ev);
	if (!check_msg(ev.delivered && ev.vector == c->vector, "delivered",
		       "injected vector %u type %u: expected delivery through gate %u, got exit %#x "
		       "(%s) at RIP %#lx, stub %d", c->vector, c->type, c->vector, vcpu->exit_reason,
		       vmx_exit_name(vcpu->exit_reason) ?: "?", vmcs_read(VMCS_GUEST_RIP),
		       ev.delivered ? (int)ev.vector : -1))
		return;
	check_msg(ev.frame_ok && ev.has_error == (c->error >= 0) &&
		  (c->error < 0 || ev.error == (uint64_t)c->error), "error",
		  "frame %s error code %#lx (frame ok %d), expected %s %#x",
		  ev.has_error ? "with" : "without", ev.error, ev.frame_ok,
		  c->error >= 0 ? "with" : "without", c->error);
	check_eq("rip", ev.rip, want_rip);
	check_eq("cs", ev.cs, KERNEL_CS64);
	check_eq("rflags", ev.rflags & ~X86_EFLAGS_RF, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	check_msg(!(ev.handler_rflags & X86_EFLAGS_IF), "gate_clears_if",
		  "RFLAGS in the interrupt-gate handler %#lx: IF should be 0", ev.handler_rflags);
	check_msg(!(vmcs_read(VMCS_ENTRY_INTR_INFO) & VMX_INTR_INFO_VALID), "entry_info_cleared",
		  "VM-entry interruption information %#lx after the exit: valid bit should be 0",
		  vmcs_read(VMCS_ENTRY_INTR_INFO));
	check_msg(!(vmcs_read(VMCS_IDT_VECTORING_INFO) & VMX_INTR_INFO_VALID), "no_vectoring",
		  "IDT-vectoring information %#lx at the stub's VMCALL: should be invalid",
		  vmcs_read(VMCS_IDT_VECTORING_INFO));
}

#define INJ_FN(i) static void check_inj_##i(void) { run_inj(&injs[i]); }
INJ_FN(0) INJ_FN(1) INJ_FN(2) INJ_FN(3) INJ_FN(4) INJ_FN(5) INJ_FN(6)
INJ_FN(7) INJ_FN(8) INJ_FN(9) INJ_FN(10) INJ_FN(11) INJ_FN(12) INJ_FN(13)
_Static_assert(ARRAY_SIZE(injs) == 14, "one function per case");

/* A VM entry that the injection checks of 27.2.1.3 reject: VMfailValid(7). */
static void expect_bad_ctl(const char *name, uint32_t info, uint32_t error, uint32_t len,
			   const char *rule)
{
	uint32_t r;

	prep(l2_nops);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
	vmcs_write(VMCS_ENTRY_INSN_LEN, len);
	r = vmx_run(vcpu);
	check_msg(r == VMX_EXIT_VMFAIL && vmx_failed_with(&vcpu->entry, VMXERR_ENTRY_INVALID_CONTROL),
		  name, "%s (info %#x, error %#x, length %u): expected VMfailValid(7), got %s "
		  "(exit %#x)", rule, info, error, len, RES(vcpu->entry), r);
}

/* 27.2.1.3, "Checks on VM-Entry Control Fields", VM-entry interruption information. */
static void check_inject_bad(void)
{
	uint64_t basic, misc;

	if (!vmx_require_vmx())
		return;
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	misc = rdmsr(MSR_IA32_VMX_MISC);
	expect_bad_ctl("type_1", vmx_intr_info(0x40, 1, false), 0, 0,
		       "interruption type 1 is reserved");
	expect_bad_ctl("reserved_bit_12", vmx_intr_info(0x40, VMX_INTR_EXT, false) | BIT(12), 0, 0,
		       "bits 30:12 are reserved");
	expect_bad_ctl("nmi_vector_3", vmx_intr_info(3, VMX_INTR_NMI, false), 0, 0,
		       "an NMI has vector 2");
	expect_bad_ctl("hw_vector_32", vmx_intr_info(32, VMX_INTR_HW_EXC, false), 0, 0,
		       "a hardware exception has a vector below 32");
	expect_bad_ctl("ext_with_error", vmx_intr_info(0x40, VMX_INTR_EXT, true), 0, 0,
		       "deliver-error-code only for hardware exceptions");
	if (basic & BIT(56)) {
		skip("gp_without_error", "IA32_VMX_BASIC[56]: error codes are free for hardware exceptions");
		skip("ud_with_error", "IA32_VMX_BASIC[56]: error codes are free for hardware exceptions");
	} else {
		expect_bad_ctl("gp_without_error", vmx_intr_info(13, VMX_INTR_HW_EXC, false), 0, 0,
			       "#GP in protected mode must deliver an error code");
		expect_bad_ctl("ud_with_error", vmx_intr_info(6, VMX_INTR_HW_EXC, true), 0, 0,
			       "#UD has no error code");
	}
	expect_bad_ctl("error_bits_31_16", vmx_intr_info(13, VMX_INTR_HW_EXC, true), 0x10000, 0,
		       "bits 31:16 of the VM-entry exception error code must be 0");
	expect_bad_ctl("sw_len_16", vmx_intr_info(0x41, VMX_INTR_SW_INT, false), 0, 16,
		       "the VM-entry instruction length is at most 15");
	if (misc & BIT(30))
		skip("sw_len_0", "IA32_VMX_MISC[30]: length 0 is allowed for software events");
	else
		expect_bad_ctl("sw_len_0", vmx_intr_info(0x41, VMX_INTR_SW_INT, false), 0, 0,
			       "length 0 needs IA32_VMX_MISC[30]");

	/* 27.3.1.4: IF must be 1 to inject an external interrupt (invalid guest state). */
	prep(l2_nops);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(VMCS_ENTRY_INTR_INFO, vmx_intr_info(0x40, VMX_INTR_EXT, false));
	check_eq("ext_if_clear", vmx_run(vcpu), VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE);
}

/*
 * Type 7 (other event, a pending MTF VM exit) takes vector 0 only, and exists
 * only with the "monitor trap flag" control (27.2.1.3): vector 1 is rejected.
 * Its own entry: an emulator that does not check it may stop.
 */
static void check_inject_other(void)
{
	if (!vmx_require_vmx())
		return;
	expect_bad_ctl("vector_1", vmx_intr_info(1, VMX_INTR_OTHER, false), 0, 0,
		       "type 7 (other event) has vector 0");
}

/* ------------------------------------------------------------ IDT-vectoring information */

struct vec_case {
	const char *name;
	unsigned vector, type;
	int error;
	unsigned len;
	int ext;		/* the #NP error code's EXT bit: 1, 0, or -1 not checked */
	char *l2_code, *l2_insn;	/* raised by L2 at l2_insn, not injected (NULL) */
	bool short_idt;		/* the gate lies beyond the IDT limit: #GP, not #NP */
};

/* L2 loads DS with a selector into its unusable LDT: #GP(1234h) (SDM Vol. 3A 6.15, "MOV"). */
VMX_L2_CODE(l2_ldt_ds, "mov $0x1234, %ecx\n.globl l2_ldt_ds_insn\nl2_ldt_ds_insn: mov %cx, %ds");
extern char l2_ldt_ds_insn[];

static const struct vec_case vecs[] = {
	{ "ext_intr", 0x60, VMX_INTR_EXT, -1, 0, 1, false },
	{ "nmi", 2, VMX_INTR_NMI, -1, 0, 1, false },
	{ "hw_ud", X86_VEC_UD, VMX_INTR_HW_EXC, -1, 0, 1, false },
	{ "hw_ac", X86_VEC_AC, VMX_INTR_HW_EXC, 0x1234, 0, 1, false },
	{ "sw_int", 0x61, VMX_INTR_SW_INT, -1, 2, 0, false },
	{ "priv_sw_exc", 1, VMX_INTR_PRIV_SW_EXC, -1, 1, -1, false },
	{ "sw_exc_bp", X86_VEC_BP, VMX_INTR_SW_EXC, -1, 1, 0, false },
	{ "l2_int", 0x62, VMX_INTR_SW_INT, -1, 2, 0, l2_int62, l2_int62_insn },
	/* 27.2.4 covers any event L2's own execution starts, with its error code. */
	{ "l2_de", X86_VEC_DE, VMX_INTR_HW_EXC, -1, 0, 1, l2_de, l2_de_insn },
	{ "l2_gp", X86_VEC_GP, VMX_INTR_HW_EXC, 0x1234, 0, 1, l2_ldt_ds, l2_ldt_ds_insn },
	{ "l2_int_idt_limit", 0x62, VMX_INTR_SW_INT, -1, 2, 0, l2_int62, l2_int62_insn, true },
	{ "l2_de_idt_limit", X86_VEC_DE, VMX_INTR_HW_EXC, -1, 0, 1, l2_de, l2_de_insn, true },
};

/*
 * The event's gate is not present and #NP is in the exception bitmap: the
 * #NP exits (reason 0, error = gate index * 8 + 2 + EXT, SDM Vol. 3A 7.13)
 * and the IDT-vectoring information holds the original event, its error
 * code, and for software events the instruction length (28.2.4, 28.2.5); RIP
 * is still that of the event.  Then the idiom of 28.2.4: write the
 * IDT-vectoring fields into the VM-entry interruption fields, make the gate
 * present, resume: the event completes in L2.
 */
static void run_vec(const struct vec_case *c, bool reinject)
{
	uint32_t want_idt = vmx_intr_info(c->vector, c->type, c->error >= 0);
	uint64_t rip0 = c->l2_code ? (uint64_t)c->l2_insn : (uint64_t)l2_nops;
	uint32_t reason, idt, want_err = c->vector * 8 + 2;
	unsigned second = c->short_idt ? X86_VEC_GP : X86_VEC_NP;
	const char *second_name = c->short_idt ? "gp" : "np";
	struct vmx_l2_event ev;
	char name[16];

	if (!vmx_require_vmx())
		return;
	prep(c->l2_code ? c->l2_code : l2_nops);
	/* Gate 0 cannot lie wholly beyond a limit: half of it does with limit 7. */
	if (c->short_idt)
		vmcs_write(VMCS_GUEST_IDTR_LIMIT, c->vector ? c->vector * 16 - 1 : 7);
	else
		vmx_l2_idt_set_present(c->vector, false);
	vmcs_write(VMCS_EXCEPTION_BITMAP, BIT(second));
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF);
	if (!c->l2_code) {
		/* inject_prep() with the gate gone and #NP intercepted */
		vmcs_write(VMCS_ENTRY_INTR_INFO, want_idt);
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, c->error >= 0 ? (uint32_t)c->error : 0);
		vmcs_write(VMCS_ENTRY_INSN_LEN, c->len);
	}
	reason = vmx_run(vcpu);
	snprintf(name, sizeof(name), "%s_exit", second_name);
	if (!check_msg(reason == VMX_EXIT_EXCEPTION &&
		       (vmcs_read(VMCS_EXIT_INTR_INFO) & 0x80000fff) ==
			       vmx_intr_info(second, VMX_INTR_HW_EXC, true),
		       name, "expected a #%s exit (reason 0, info %#x), got exit %#x info %#lx",
		       c->short_idt ? "GP" : "NP", vmx_intr_info(second, VMX_INTR_HW_EXC, true),
		       reason, vmcs_read(VMCS_EXIT_INTR_INFO)))
		return;
	if (!reinject) {
		uint32_t err = vmcs_read(VMCS_EXIT_INTR_ERROR);

		snprintf(name, sizeof(name), "%s_error", second_name);
		if (c->ext < 0)
			check_msg((err & ~1u) == want_err, name, "#NP error %#x, expected %#x (+EXT)",
				  err, want_err);
		else
			check_eq(name, err, want_err | c->ext);
		idt = vmcs_read(VMCS_IDT_VECTORING_INFO);
		check_msg((idt & 0x80000fff) == want_idt, "idt_info",
			  "IDT-vectoring information %#x, expected %#x (valid, type %u, vector %#x%s)",
			  idt, want_idt, c->type, c->vector, c->error >= 0 ? ", error code" : "");
		if (c->error >= 0)
			check_eq("idt_error", vmcs_read(VMCS_IDT_VECTORING_ERROR), c->error);
		if (software_type(c->type))
			check_eq("insn_len", vmcs_read(VMCS_EXIT_INSN_LEN), c->len);
		check_eq("rip", vmcs_read(VMCS_GUEST_RIP), rip0);
		return;
	}
	/* the reinjection idiom */
	vmx_l2_idt_set_present(c->vector, true);
	vmx_l2_idt_use();
	vmcs_write(VMCS_ENTRY_INTR_INFO, vmcs_read(VMCS_IDT_VECTORING_INFO) & 0x80000fffu);
	vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, vmcs_read(VMCS_IDT_VECTORING_ERROR));
	vmcs_write(VMCS_ENTRY_INSN_LEN, vmcs_read(VMCS_EXIT_INSN_LEN));
	vmx_run(vcpu);
	vmx_l2_event_read(vcpu, stack_top(), &ev);
	if (!check_msg(ev.delivered && ev.vector == c->vector, "delivered",
		       "reinjected event: expected delivery through gate %#x, got exit %#x at RIP %#lx",
		       c->vector, vcpu->exit_reason, vmcs_read(VMCS_GUEST_RIP)))
		return;
	check_msg(ev.frame_ok && ev.has_error == (c->error >= 0) &&
		  (c->error < 0 || ev.error == (uint64_t)c->error), "error",
		  "frame %s error code %#lx, expected %s %#x", ev.has_error ? "with" : "without",
		  ev.error, c->error >= 0 ? "with" : "without", c->error);
	check_eq("rip", ev.rip, rip0 + (software_type(c->type) ? c->len : 0));
}

#define VEC_FN(i)                                                              \
	static void check_vec_##i(void) { run_vec(&vecs[i], false); }          \
	static void check_reinj_##i(void) { run_vec(&vecs[i], true); }
VEC_FN(0) VEC_FN(1) VEC_FN(2) VEC_FN(3) VEC_FN(4) VEC_FN(5) VEC_FN(6) VEC_FN(7)
VEC_FN(8) VEC_FN(9) VEC_FN(10) VEC_FN(11)
_Static_assert(ARRAY_SIZE(vecs) == 12, "one function per case");

static const struct check_entry checks[] = {
	{ "bitmap.de", check_exc_0 },
	{ "bitmap.db", check_exc_1 },
	{ "bitmap.bp", check_exc_2 },
	{ "bitmap.of", check_exc_3 },
	{ "bitmap.br", check_exc_4 },
	{ "bitmap.ud", check_exc_5 },
	{ "bitmap.nm", check_exc_6 },
	{ "bitmap.df", check_exc_7 },
	{ "bitmap.np", check_exc_8 },
	{ "bitmap.ss", check_exc_9 },
	{ "bitmap.gp", check_exc_10 },
	{ "bitmap.pf", check_exc_11 },
	{ "bitmap.mf", check_exc_12 },
	{ "bitmap.xm", check_exc_13 },
	{ "pf_filter", check_pf_filter },
	{ "smep.fetch", check_user_0 },
	{ "smep.read", check_user_1 },
	{ "smap.read", check_user_2 },
	{ "smap.write", check_user_3 },
	{ "smap.read_stac", check_user_4 },
	{ "inject.ext_intr", check_inj_0 },
	{ "inject.ext_intr_vec13", check_inj_1 },
	{ "inject.nmi", check_inj_2 },
	{ "inject.hw_de", check_inj_3 },
	{ "inject.hw_ud", check_inj_4 },
	{ "inject.hw_df", check_inj_5 },
	{ "inject.hw_gp", check_inj_6 },
	{ "inject.hw_pf", check_inj_7 },
	{ "inject.hw_ac", check_inj_8 },
	{ "inject.sw_int", check_inj_9 },
	{ "inject.sw_int_len7", check_inj_10 },
	{ "inject.priv_sw_exc", check_inj_11 },
	{ "inject.sw_exc_bp", check_inj_12 },
	{ "inject.sw_exc_of", check_inj_13 },
	{ "inject_bad", check_inject_bad },
	{ "inject_other", check_inject_other },
	{ "vectoring.ext_intr", check_vec_0 },
	{ "vectoring.nmi", check_vec_1 },
	{ "vectoring.hw_ud", check_vec_2 },
	{ "vectoring.hw_ac", check_vec_3 },
	{ "vectoring.sw_int", check_vec_4 },
	{ "vectoring.priv_sw_exc", check_vec_5 },
	{ "vectoring.sw_exc_bp", check_vec_6 },
	{ "vectoring.l2_int", check_vec_7 },
	{ "vectoring.l2_de", check_vec_8 },
	{ "vectoring.l2_gp", check_vec_9 },
	{ "vectoring.l2_int_idt_limit", check_vec_10 },
	{ "vectoring.l2_de_idt_limit", check_vec_11 },
	{ "reinject.ext_intr", check_reinj_0 },
	{ "reinject.nmi", check_reinj_1 },
	{ "reinject.hw_ud", check_reinj_2 },
	{ "reinject.hw_ac", check_reinj_3 },
	{ "reinject.sw_int", check_reinj_4 },
	{ "reinject.priv_sw_exc", check_reinj_5 },
	{ "reinject.sw_exc_bp", check_reinj_6 },
	{ "reinject.l2_int", check_reinj_7 },
	{ "reinject.l2_de", check_reinj_8 },
	{ "reinject.l2_gp", check_reinj_9 },
	{ "reinject.l2_int_idt_limit", check_reinj_10 },
	{ "reinject.l2_de_idt_limit", check_reinj_11 },
};

DEFINE_TEST("vmx_events", checks, .setup = setup);
