/*
 * Seeded VMCS states along the VM-entry consistency-check boundary (SDM Vol.
 * 3C chapter 27), each judged by the rule table lib/x86/vmx_rules.h.
 *
 * A case starts from the valid VMCS below (or keeps the previous case's, see
 * lib/states.h), applies 1-3 mutations drawn from its seed, asks the table
 * which outcomes the manual allows, runs VMLAUNCH or VMRESUME and compares:
 * the VMfail number, the VM-entry failure's exit reason and qualification,
 * or, for an entry that succeeds, what the guest did.  A mutation is
 *  - a field set to a boundary value of a rule (just legal, just illegal,
 *    all ones, zero, non-canonical, beyond MAXPHYADDR, a reserved bit),
 *  - a control bit flipped: one the capability MSRs pin (allowed-0/allowed-1)
 *    or one that other rules depend on,
 *  - memory a rule reads (the VMCS link pointer's header, the MSR-load area,
 *    the virtual-APIC page's VTPR),
 *  - the instruction: VMRESUME instead of VMLAUNCH, no current VMCS, or a
 *    shadow VMCS as the current one.
 * The launch state carries over with the state (a launched VMCS makes
 * VMLAUNCH fail with error 4).
 *
 * A successful entry of a "plain" state (one whose guest runs the test's L2
 * code as the valid one does) must reach the VMCALL with the loaded state the
 * SDM gives (27.3.2: RSP, RFLAGS, CR0, CR4 as L2 saw them; 28.5 on the exit:
 * the host FS/GS bases, SYSENTER MSRs, EFER and PAT); other successful
 * entries must exit without a VM-entry failure.  docs/states-vmx.md says
 * which states the generator keeps away from and why.
 */
#include "alloc.h"
#include "ept.h"
#include "msr.h"
#include "processor.h"
#include "states.h"
#include "test.h"
#include "vmx_rules.h"

/* L2: what it saw of the loaded state, in RAX, RBX, RCX, RDX. */
VMX_L2_CODE(l2_report, "mov %rsp, %rax; pushfq; pop %rbx; mov %cr0, %rcx; mov %cr4, %rdx");

static struct vmx_vcpu *vcpu;
static struct pagetable ept;
static uint64_t *msr_load_area, *exit_load_area, *exit_store_area;
static uint8_t *vapic;
static uint32_t *link_vmcs;
static void *pages[8];		/* bitmaps and other pages the controls name */

/* ------------------------------------------------------------ outcomes */

/*
 * kind: enum vr_kind.  code: the VM-instruction error; for a VM-entry
 * failure reason << 32 | qualification; for an entry that succeeded one of:
 */
enum {
	ENTERED_TO_VMCALL = 0,	/* a plain state: VMCALL reached, loaded state right */
	ENTERED = 1,		/* any exit that is no VM-entry failure (not plain) */
	ENTERED_WRONG = 2,	/* a plain state that did not reach VMCALL, or loaded wrong */
};

static void describe(const struct states_outcome *o, char *buf, size_t size)
{
	struct vr_outcome v = { o->kind, o->code, 0 };
	char text[48];

	if (o->kind == VR_ENTRY_FAIL) {
		v.code = o->code >> 32;
		v.qual = o->code & 0xffffffff;
	}
	if (o->kind != VR_ENTERS) {
		snprintf(buf, size, "%s", vr_outcome_str(&v, text, sizeof(text)));
		return;
	}
	snprintf(buf, size, "%s", o->code == ENTERED_TO_VMCALL ? "enters, VMCALL with the loaded state"
		 : o->code == ENTERED ? "enters" : "enters, wrong guest run or loaded state");
}

static struct states_outcome to_states(const struct vr_outcome *v, bool plain)
{
	struct states_outcome o = { v->kind, v->code };

	if (v->kind == VR_ENTRY_FAIL)
		o.code = (uint64_t)v->code << 32 | (v->qual & 0xffffffff);
	if (v->kind == VR_ENTERS)
		o.code = plain ? ENTERED_TO_VMCALL : ENTERED;
	return o;
}

/* ------------------------------------------------------------ the valid state */

static struct vr_env env;
static bool launched;		/* the launch state of the VMCS, as the model tracks it */

/* L1's own values that a legal host-state mutation (or an MSR-load entry) may change. */
static const uint32_t l1_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_IA32_PAT,
};
enum { L1_KERNEL_GS = 2, L1_SYSENTER_CS = 3 };
static struct {
	uint64_t msr[ARRAY_SIZE(l1_msrs)];
	uint16_t ss, ds, es, fs, gs;
} l1;

static void l1_save(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(l1_msrs); i++)
		l1.msr[i] = rdmsr(l1_msrs[i]);
	asm volatile("mov %%ss, %0; mov %%ds, %1; mov %%es, %2; mov %%fs, %3; mov %%gs, %4"
		     : "=r"(l1.ss), "=r"(l1.ds), "=r"(l1.es), "=r"(l1.fs), "=r"(l1.gs));
}

/* Selectors first: loading FS and GS also sets their bases. */
static void l1_restore(void)
{
	asm volatile("mov %0, %%ss; mov %1, %%ds; mov %2, %%es; mov %3, %%fs; mov %4, %%gs"
		     : : "r"(l1.ss), "r"(l1.ds), "r"(l1.es), "r"(l1.fs), "r"(l1.gs));
	for (unsigned i = 0; i < ARRAY_SIZE(l1_msrs); i++)
		wrmsr(l1_msrs[i], l1.msr[i]);
}

/* A field the processor may lack (its feature's control then stays 0). */
static void write_if(uint32_t field, uint64_t value)
{
	const struct vmcs_field_info *f = vmcs_field_find(field);

	if (f && vmcs_field_supported(f))
		vmcs_write(field, value);
}

/*
 * The MSR areas, with entries that load what the MSRs hold (harmless when
 * loaded).  The VM-entry MSR-load area has 4 such entries and zeros after
 * them (a fifth entry fails).  The VM-exit areas are valid throughout, and
 * their counts and addresses stay where they are valid: a failure to load or
 * store MSRs at the VM exit is a VMX abort (28.7), which shuts the processor
 * down.
 */
static void fill_msr_areas(void)
{
	memset(msr_load_area, 0, PAGE_SIZE);
	for (unsigned i = 0; i < 4; i++) {
		msr_load_area[2 * i] = i & 1 ? MSR_IA32_SYSENTER_CS : MSR_KERNEL_GS_BASE;
		msr_load_area[2 * i + 1] = l1.msr[i & 1 ? L1_SYSENTER_CS : L1_KERNEL_GS];
	}
	for (unsigned i = 0; i < PAGE_SIZE / 16; i++) {
		exit_load_area[2 * i] = exit_store_area[2 * i] = MSR_KERNEL_GS_BASE;
		exit_load_area[2 * i + 1] = l1.msr[L1_KERNEL_GS];
	}
}

/*
 * The library's valid VMCS (vmx_vcpu_reset(): VMCLEAR, VMPTRLD, a 64-bit
 * guest running l2_report) plus valid values for what optional controls
 * read, so that turning one of them on alone stays valid: bitmap and page
 * addresses, an identity EPT, VPID 1, a preemption timer that does not
 * expire, MSR areas with count 0, a VMCS link region (the pointer stays all
 * ones).
 */
static void reset(void)
{
	vmx_vcpu_reset(vcpu, l2_report);
	launched = false;
	env = (struct vr_env){ 0 };
	fill_msr_areas();
	vapic[0x80] = 0x20;
	*link_vmcs = vmx_revision();
	write_if(VMCS_IO_BITMAP_A, (uint64_t)pages[0]);
	write_if(VMCS_IO_BITMAP_B, (uint64_t)pages[1]);
	write_if(VMCS_MSR_BITMAP, (uint64_t)pages[2]);
	write_if(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)vapic);
	write_if(VMCS_TPR_THRESHOLD, 0);
	write_if(VMCS_APIC_ACCESS_ADDR, (uint64_t)pages[3]);
	write_if(VMCS_VPID, 1);
	write_if(VMCS_PREEMPTION_TIMER, 0xffffffff);
	write_if(VMCS_PML_ADDRESS, (uint64_t)pages[4]);
	write_if(VMCS_VMREAD_BITMAP, (uint64_t)pages[5]);
	write_if(VMCS_VMWRITE_BITMAP, (uint64_t)pages[6]);
	write_if(VMCS_VE_INFO_ADDR, (uint64_t)pages[7]);
	write_if(VMCS_POSTED_INTR_NV, 0xf0);
	write_if(VMCS_POSTED_INTR_DESC_ADDR, (uint64_t)pages[7] + 0x800);
	write_if(VMCS_HOST_PERF_GLOBAL_CTRL, 0);
	write_if(VMCS_GUEST_PERF_GLOBAL_CTRL, 0);
	if (ept.root)
		write_if(VMCS_EPT_POINTER, ept_eptp(&ept, false));
	vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)msr_load_area);
	vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)exit_load_area);
	vmcs_write(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)exit_store_area);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ull);
}

/* ------------------------------------------------------------ mutation targets */

enum op { OP_SET, OP_OR, OP_CLEAR, OP_XOR };
enum target_kind {
	T_FIELD,	/* a VMCS field */
	T_MSR_ENTRY,	/* an entry of the VM-entry MSR-load area (field: entry index) */
	T_LINK_HEADER,	/* the header of the VMCS link region */
	T_VTPR,		/* the VTPR byte of the virtual-APIC page */
	T_RESUME,	/* VMRESUME instead of VMLAUNCH */
	T_NO_VMCS,	/* VMCLEAR of the current VMCS: no current VMCS */
	T_SHADOW,	/* the VMCS made a shadow VMCS (header bit 31) and current again */
	T_MODE,		/* the guest moved out of IA-32e mode (field: enum vmx_guest_mode) */
};

/* How a target's values are drawn. */
enum draw {
	D_CTL_PIN, D_CTL_PROC, D_CTL_PROC2, D_CTL_EXIT, D_CTL_ENTRY,	/* enum vmx_ctls order */
	D_CANON,	/* a canonical-boundary address; legal values too */
	D_CANON_BAD,	/* only non-canonical values (a legal change would hurt L1) */
	D_PAGE,		/* a 4-KiB page address: misaligned, beyond MAXPHYADDR, page 0 */
	D_AREA,		/* an MSR-area address: 16-byte alignment, MAXPHYADDR */
	D_EXIT_AREA,	/* the same, legal values only inside the valid area */
	D_COUNT,	/* the VM-entry MSR-load count */
	D_EXIT_COUNT,	/* a VM-exit MSR-area count, within the valid area */
	D_HIGH,		/* bits 63:32 set */
	D_GUEST_CR0, D_GUEST_CR4, D_HOST_CR0, D_HOST_CR4,
	D_CR3,		/* beyond MAXPHYADDR, and (guest) a legal bit 63 clear change */
	D_SEL,		/* RPL/TI bits, null */
	D_AR,		/* one access-rights bit */
	D_LIMIT,	/* limit boundaries */
	D_DTR_LIMIT,	/* bits 31:16 */
	D_RFLAGS, D_RIP, D_INTR_STATE, D_ACTIVITY, D_PENDING_DBG, D_DEBUGCTL, D_DR7,
	D_EFER, D_HOST_EFER, D_PAT, D_INTR_INFO, D_ERROR_CODE, D_INSN_LEN, D_EPTP, D_VPID,
	D_TPR_THRESHOLD, D_CR3_COUNT, D_LINK, D_POSTED_NV, D_VMFUNC,
	D_MSR_ENTRY, D_LINK_HEADER, D_VTPR, D_NONE,
};

struct target {
	const char *name;
	uint8_t kind;
	uint8_t draw;
	uint32_t field;
};

#define FLD(n, f, d)	{ n, T_FIELD, d, f }
enum { ES, CS, SS, DS, FS, GS, LDTR, TR };
#define GSEG(n, s)							\
	FLD(n "_sel", VMCS_GUEST_ES_SEL + 2 * (s), D_SEL),		\
	FLD(n "_base", VMCS_GUEST_ES_BASE + 2 * (s), D_CANON),		\
	FLD(n "_limit", VMCS_GUEST_ES_LIMIT + 2 * (s), D_LIMIT),	\
	FLD(n "_ar", VMCS_GUEST_ES_AR + 2 * (s), D_AR)

/* Drawn uniformly; a target listed twice is drawn twice as often (the control words, ...). */
static const struct target targets[] = {
	FLD("pin", VMCS_PIN_CONTROLS, D_CTL_PIN),
	FLD("proc", VMCS_PROC_CONTROLS, D_CTL_PROC),
	FLD("proc2", VMCS_PROC_CONTROLS2, D_CTL_PROC2),
	FLD("exit", VMCS_EXIT_CONTROLS, D_CTL_EXIT),
	FLD("entry", VMCS_ENTRY_CONTROLS, D_CTL_ENTRY),
	FLD("pin", VMCS_PIN_CONTROLS, D_CTL_PIN),
	FLD("proc", VMCS_PROC_CONTROLS, D_CTL_PROC),
	FLD("proc2", VMCS_PROC_CONTROLS2, D_CTL_PROC2),
	FLD("entry", VMCS_ENTRY_CONTROLS, D_CTL_ENTRY),
	FLD("cr3_target_count", VMCS_CR3_TARGET_COUNT, D_CR3_COUNT),
	FLD("io_bitmap_a", VMCS_IO_BITMAP_A, D_PAGE),
	FLD("io_bitmap_b", VMCS_IO_BITMAP_B, D_PAGE),
	FLD("msr_bitmap", VMCS_MSR_BITMAP, D_PAGE),
	FLD("vapic", VMCS_VIRTUAL_APIC_ADDR, D_PAGE),
	FLD("tpr_threshold", VMCS_TPR_THRESHOLD, D_TPR_THRESHOLD),
	FLD("apic_access", VMCS_APIC_ACCESS_ADDR, D_PAGE),
	FLD("posted_nv", VMCS_POSTED_INTR_NV, D_POSTED_NV),
	FLD("posted_desc", VMCS_POSTED_INTR_DESC_ADDR, D_AREA),
	FLD("vpid", VMCS_VPID, D_VPID),
	FLD("eptp", VMCS_EPT_POINTER, D_EPTP),
	FLD("pml", VMCS_PML_ADDRESS, D_PAGE),
	FLD("vmfunc", VMCS_VMFUNC_CONTROLS, D_VMFUNC),
	FLD("vmread_bitmap", VMCS_VMREAD_BITMAP, D_PAGE),
	FLD("ve_info", VMCS_VE_INFO_ADDR, D_PAGE),
	FLD("exit_store_addr", VMCS_EXIT_MSR_STORE_ADDR, D_EXIT_AREA),
	FLD("exit_store_count", VMCS_EXIT_MSR_STORE_COUNT, D_EXIT_COUNT),
	FLD("exit_load_addr", VMCS_EXIT_MSR_LOAD_ADDR, D_EXIT_AREA),
	FLD("exit_load_count", VMCS_EXIT_MSR_LOAD_COUNT, D_EXIT_COUNT),
	FLD("entry_load_addr", VMCS_ENTRY_MSR_LOAD_ADDR, D_AREA),
	FLD("entry_load_count", VMCS_ENTRY_MSR_LOAD_COUNT, D_COUNT),
	FLD("entry_load_count", VMCS_ENTRY_MSR_LOAD_COUNT, D_COUNT),
	FLD("intr_info", VMCS_ENTRY_INTR_INFO, D_INTR_INFO),
	FLD("intr_info", VMCS_ENTRY_INTR_INFO, D_INTR_INFO),
	FLD("intr_error", VMCS_ENTRY_EXCEPTION_ERROR, D_ERROR_CODE),
	FLD("intr_len", VMCS_ENTRY_INSN_LEN, D_INSN_LEN),
	FLD("host_cr0", VMCS_HOST_CR0, D_HOST_CR0),
	FLD("host_cr3", VMCS_HOST_CR3, D_CR3),
	FLD("host_cr4", VMCS_HOST_CR4, D_HOST_CR4),
	FLD("host_sysenter_esp", VMCS_HOST_SYSENTER_ESP, D_CANON),
	FLD("host_sysenter_eip", VMCS_HOST_SYSENTER_EIP, D_CANON),
	FLD("host_efer", VMCS_HOST_EFER, D_HOST_EFER),
	FLD("host_pat", VMCS_HOST_PAT, D_PAT),
	FLD("host_perf_global", VMCS_HOST_PERF_GLOBAL_CTRL, D_HIGH),
	FLD("host_cs_sel", VMCS_HOST_CS_SEL, D_SEL),
	FLD("host_ss_sel", VMCS_HOST_SS_SEL, D_SEL),
	FLD("host_ds_sel", VMCS_HOST_DS_SEL, D_SEL),
	FLD("host_tr_sel", VMCS_HOST_TR_SEL, D_SEL),
	FLD("host_fs_base", VMCS_HOST_FS_BASE, D_CANON),
	FLD("host_gs_base", VMCS_HOST_GS_BASE, D_CANON),
	FLD("host_gdtr_base", VMCS_HOST_GDTR_BASE, D_CANON_BAD),
	FLD("host_tr_base", VMCS_HOST_TR_BASE, D_CANON_BAD),
	FLD("host_rip", VMCS_HOST_RIP, D_CANON_BAD),
	FLD("guest_cr0", VMCS_GUEST_CR0, D_GUEST_CR0),
	FLD("guest_cr0", VMCS_GUEST_CR0, D_GUEST_CR0),
	FLD("guest_cr3", VMCS_GUEST_CR3, D_CR3),
	FLD("guest_cr4", VMCS_GUEST_CR4, D_GUEST_CR4),
	FLD("guest_cr4", VMCS_GUEST_CR4, D_GUEST_CR4),
	FLD("guest_debugctl", VMCS_GUEST_DEBUGCTL, D_DEBUGCTL),
	FLD("guest_dr7", VMCS_GUEST_DR7, D_DR7),
	FLD("guest_sysenter_esp", VMCS_GUEST_SYSENTER_ESP, D_CANON),
	FLD("guest_sysenter_eip", VMCS_GUEST_SYSENTER_EIP, D_CANON),
	FLD("guest_pat", VMCS_GUEST_PAT, D_PAT),
	FLD("guest_efer", VMCS_GUEST_EFER, D_EFER),
	FLD("guest_perf_global", VMCS_GUEST_PERF_GLOBAL_CTRL, D_HIGH),
	GSEG("guest_cs", CS), GSEG("guest_ss", SS), GSEG("guest_ds", DS), GSEG("guest_es", ES),
	GSEG("guest_fs", FS), GSEG("guest_gs", GS), GSEG("guest_tr", TR), GSEG("guest_ldtr", LDTR),
	FLD("guest_cs_ar", VMCS_GUEST_CS_AR, D_AR),
	FLD("guest_ss_ar", VMCS_GUEST_SS_AR, D_AR),
	FLD("guest_tr_ar", VMCS_GUEST_TR_AR, D_AR),
	FLD("guest_gdtr_base", VMCS_GUEST_GDTR_BASE, D_CANON_BAD),
	FLD("guest_idtr_base", VMCS_GUEST_IDTR_BASE, D_CANON_BAD),
	FLD("guest_gdtr_limit", VMCS_GUEST_GDTR_LIMIT, D_DTR_LIMIT),
	FLD("guest_idtr_limit", VMCS_GUEST_IDTR_LIMIT, D_DTR_LIMIT),
	FLD("guest_rip", VMCS_GUEST_RIP, D_RIP),
	FLD("guest_rflags", VMCS_GUEST_RFLAGS, D_RFLAGS),
	FLD("guest_rflags", VMCS_GUEST_RFLAGS, D_RFLAGS),
	FLD("guest_intr_state", VMCS_GUEST_INTERRUPTIBILITY, D_INTR_STATE),
	FLD("guest_intr_state", VMCS_GUEST_INTERRUPTIBILITY, D_INTR_STATE),
	FLD("guest_activity", VMCS_GUEST_ACTIVITY_STATE, D_ACTIVITY),
	FLD("guest_pending_dbg", VMCS_GUEST_PENDING_DBG, D_PENDING_DBG),
	FLD("link", VMCS_VMCS_LINK_PTR, D_LINK),
	FLD("guest_pdpte0", VMCS_GUEST_PDPTE0, D_HIGH),
	{ "msr_entry0", T_MSR_ENTRY, D_MSR_ENTRY, 0 },
	{ "msr_entry1", T_MSR_ENTRY, D_MSR_ENTRY, 1 },
	{ "link_header", T_LINK_HEADER, D_LINK_HEADER, 0 },
	{ "vtpr", T_VTPR, D_VTPR, 0 },
	{ "vmresume", T_RESUME, D_NONE, 0 },
	{ "vmresume", T_RESUME, D_NONE, 0 },
	{ "no_current_vmcs", T_NO_VMCS, D_NONE, 0 },
	{ "shadow_current", T_SHADOW, D_NONE, 0 },
	{ "mode_prot32", T_MODE, D_NONE, VMX_GUEST_PROT32 },
	{ "mode_real", T_MODE, D_NONE, VMX_GUEST_REAL },
};

/* ------------------------------------------------------------ drawing values */

/* Bit 63 set, bits 62:47 clear: outside the canonical range whatever the width. */
#define NONCANONICAL	0x8000000000000000ull

#define PICK(rng, ...)                                                         \
	({                                                                     \
		const uint64_t v_[] = { __VA_ARGS__ };                         \
		v_[prng_below(rng, ARRAY_SIZE(v_))];                           \
	})

/* Control bits that other rules depend on, per control word. */
static const uint32_t dependent_bits[VMX_CTLS_COUNT] = {
	[VMX_CTLS_PIN] = VMX_PIN_EXT_INTR_EXIT | VMX_PIN_NMI_EXIT | VMX_PIN_VIRTUAL_NMIS |
			 VMX_PIN_PREEMPTION_TIMER | VMX_PIN_POSTED_INTR,
	[VMX_CTLS_PROC] = VMX_PROC_SECONDARY | VMX_PROC_TPR_SHADOW | VMX_PROC_IO_BITMAPS |
			  VMX_PROC_MSR_BITMAPS | VMX_PROC_NMI_WINDOW_EXIT | VMX_PROC_MTF |
			  VMX_PROC_INTR_WINDOW_EXIT | VMX_PROC_HLT_EXIT,
	[VMX_CTLS_PROC2] = VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED | VMX_PROC2_VPID |
			   VMX_PROC2_VIRT_APIC_ACCESS | VMX_PROC2_VIRT_X2APIC |
			   VMX_PROC2_APIC_REG_VIRT | VMX_PROC2_VIRT_INTR_DELIVERY |
			   VMX_PROC2_PML | VMX_PROC2_VMFUNC | VMX_PROC2_VMCS_SHADOWING |
			   VMX_PROC2_EPT_VE | BIT(22),
	[VMX_CTLS_EXIT] = VMX_EXIT_HOST_ADDR_SPACE | VMX_EXIT_LOAD_EFER | VMX_EXIT_LOAD_PAT |
			  VMX_EXIT_SAVE_PREEMPT | VMX_EXIT_ACK_INTR | VMX_EXIT_LOAD_PERF_GLOBAL,
	[VMX_CTLS_ENTRY] = VMX_ENTRY_IA32E | VMX_ENTRY_LOAD_EFER | VMX_ENTRY_LOAD_PAT |
			   VMX_ENTRY_LOAD_DEBUG | VMX_ENTRY_SMM | VMX_ENTRY_DUAL_MONITOR |
			   VMX_ENTRY_LOAD_PERF_GLOBAL,
};

/* A control bit: one the capability MSR pins (an allowed-setting violation) or a dependency. */
static void draw_ctl(struct prng *rng, enum vmx_ctls w, unsigned *op, uint64_t *v)
{
	struct vmx_allowed a = vr_caps()->allowed[w];
	uint32_t pinned = a.must_be_1 | ~a.may_be_1;

	*op = OP_XOR;
	if (prng_percent(rng, 30) && pinned)
		*v = BIT(prng_bit_of(rng, pinned));
	else
		*v = BIT(prng_bit_of(rng, dependent_bits[w]));
}

static uint64_t canonical_boundary(struct prng *rng, bool legal_too)
{
	unsigned n = vr_caps()->linear_bits;
	/* The lowest and the highest non-canonical addresses. */
	uint64_t first_bad = BIT(n - 1), last_bad = (~0ull << n) | (BIT(n - 1) - 1);

	if (legal_too && prng_percent(rng, 40))
		return PICK(rng, 0, BIT(n - 1) - 1, ~0ull << (n - 1), 0x1000);
	switch (prng_below(rng, 3)) {
	case 0: return first_bad;
	case 1: return last_bad;
	default: return NONCANONICAL;
	}
}

static void draw(struct prng *rng, const struct target *t, unsigned *op, uint64_t *v)
{
	const struct vr_caps *c = vr_caps();
	uint64_t beyond = BIT(c->maxphyaddr);

	*op = OP_SET;
	*v = 0;
	switch (t->draw) {
	case D_CTL_PIN: case D_CTL_PROC: case D_CTL_PROC2: case D_CTL_EXIT: case D_CTL_ENTRY:
		draw_ctl(rng, (enum vmx_ctls)(t->draw - D_CTL_PIN), op, v);
		break;
	case D_CANON:
		*v = canonical_boundary(rng, true);
		break;
	case D_CANON_BAD:
		*v = canonical_boundary(rng, false);
		break;
	case D_PAGE:
		switch (prng_below(rng, 5)) {
		case 0: *op = OP_OR; *v = PICK(rng, 0x800, 0x10, 1); break;
		case 1: *v = beyond; break;
		case 2: *op = OP_OR; *v = BIT(63); break;
		case 3: *v = beyond - 0x1000; break;
		default: *v = 0; break;
		}
		break;
	case D_AREA:
		switch (prng_below(rng, 4)) {
		case 0: *op = OP_OR; *v = PICK(rng, 8, 4, 0x20); break;
		case 1: *v = beyond; break;
		case 2: *v = beyond - 0x10; break;
		default: *op = OP_OR; *v = 0x40; break;
		}
		break;
	case D_EXIT_AREA:
		*op = OP_OR;
		*v = PICK(rng, 8, 4, 0x40, beyond);
		break;
	case D_COUNT:
		/* At most 512 entries (IA32_VMX_MISC[27:25], A.6): more is undefined. */
		*v = PICK(rng, 1, 2, 4, 5, 512);
		break;
	case D_EXIT_COUNT:
		*v = PICK(rng, 1, 2, 4);
		break;
	case D_HIGH:
		*op = OP_OR;
		*v = BIT(prng_below(rng, 64));
		break;
	case D_GUEST_CR0: case D_HOST_CR0: {
		uint64_t fixed = c->cr0_fixed0, free = c->cr0_fixed1 & ~c->cr0_fixed0;

		switch (prng_below(rng, 3)) {
		case 0: *op = OP_CLEAR; *v = BIT(prng_bit_of(rng, fixed)); break;
		case 1: *op = OP_OR; *v = BIT(prng_bit_of(rng, ~c->cr0_fixed1)); break;
		default:
			*op = OP_XOR;
			*v = BIT(prng_bit_of(rng, t->draw == D_GUEST_CR0 ? free | X86_CR0_PE | X86_CR0_PG
					      : X86_CR0_CD | X86_CR0_NW));
			break;
		}
		break;
	}
	case D_GUEST_CR4: case D_HOST_CR4: {
		uint64_t fixed = c->cr4_fixed0, free = c->cr4_fixed1 & ~c->cr4_fixed0;

		switch (prng_below(rng, 3)) {
		case 0: *op = OP_CLEAR; *v = BIT(prng_bit_of(rng, fixed)); break;
		case 1: *op = OP_OR; *v = BIT(prng_bit_of(rng, ~c->cr4_fixed1)); break;
		default:
			*op = OP_XOR;
			/* Host: PAE only, a legal change would stay with L1 after the exit. */
			*v = t->draw == D_GUEST_CR4 ? BIT(prng_bit_of(rng, free)) : X86_CR4_PAE;
			break;
		}
		break;
	}
	case D_CR3:
		*op = OP_OR;
		*v = t->field == VMCS_GUEST_CR3 ? PICK(rng, beyond, BIT(63), BIT(51)) : beyond;
		break;
	case D_SEL:
		if (t->field >= VMCS_HOST_ES_SEL && t->field <= VMCS_HOST_TR_SEL && prng_percent(rng, 60)) {
			*op = OP_OR;
			*v = BIT(prng_below(rng, 3));
		} else if (prng_percent(rng, 50)) {
			*op = OP_OR;
			*v = PICK(rng, 1, 2, 3, 4);
		}
		break;
	case D_AR:
		*op = OP_XOR;
		*v = BIT(PICK(rng, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16, 17, 31));
		break;
	case D_LIMIT:
		*v = PICK(rng, 0, 0xfff, 0xffff, 0xfffff, 0x100000, 0xffffffff, 0x67);
		break;
	case D_DTR_LIMIT:
		*op = OP_OR;
		*v = BIT(16 + prng_below(rng, 16));
		break;
	case D_RFLAGS:
		*op = OP_XOR;
		*v = BIT(PICK(rng, 1, 3, 5, 8, 9, 9, 15, 16, 17, 22, 63));
		break;
	case D_RIP:
		/* Legal values are unmapped, so L2 faults (and exits) instead of running memory. */
		*v = prng_percent(rng, 40) ? PICK(rng, BIT(32) | 0x1000, vr_caps()->linear_bits == 48 ?
						  0x00007ffffffff000ull : BIT(32) | 0x2000)
					   : canonical_boundary(rng, false);
		break;
	case D_INTR_STATE:
		*op = OP_OR;
		*v = BIT(PICK(rng, 0, 0, 1, 1, 2, 3, 3, 4, 5, 31));
		break;
	case D_ACTIVITY:
		/* HLT, shutdown, wait-for-SIPI (each with a wake-up, see wake_up()), reserved states. */
		*v = PICK(rng, 1, 1, 2, 3, 4, 0xffffffff);
		break;
	case D_PENDING_DBG:
		*op = OP_OR;
		*v = BIT(PICK(rng, 0, 4, 11, 12, 13, 14, 14, 15, 16, 17, 63));
		break;
	case D_DEBUGCTL:
		*op = OP_OR;
		*v = BIT(PICK(rng, 0, 1, 1, 2, 6, 16, 32));
		break;
	case D_DR7:
		*op = OP_OR;
		*v = BIT(PICK(rng, 32, 63, 13));
		break;
	case D_EFER:
		*op = PICK(rng, OP_CLEAR, OP_CLEAR, OP_OR);
		*v = *op == OP_OR ? PICK(rng, BIT(1), BIT(9), BIT(12), BIT(63)) :
		     PICK(rng, EFER_LMA, EFER_LME, EFER_LMA | EFER_LME);
		break;
	case D_HOST_EFER:
		*op = PICK(rng, OP_CLEAR, OP_OR);
		*v = *op == OP_OR ? PICK(rng, BIT(1), BIT(9), BIT(12)) : PICK(rng, EFER_LMA, EFER_LME);
		break;
	case D_PAT:
		*op = OP_XOR;
		*v = PICK(rng, 2, 3, 0x0800, 0x060000, 0x07ull << 56, 0x40ull << 48, 0x04);
		break;
	case D_INTR_INFO: {
		unsigned type = PICK(rng, 0, 1, 2, 3, 3, 3, 4, 5, 6, 7);
		unsigned vec = type == 2 ? PICK(rng, 2, 2, 3) : type == 7 ? PICK(rng, 0, 0, 1)
			       : PICK(rng, 0, 1, 6, 8, 13, 14, 17, 18, 21, 31, 32, 0x30);

		*v = VMX_INTR_INFO_VALID | type << 8 | vec |
		     (prng_percent(rng, 40) ? VMX_INTR_INFO_ERROR_VALID : 0) |
		     (prng_percent(rng, 10) ? BIT(12 + prng_below(rng, 19)) : 0);
		break;
	}
	case D_ERROR_CODE:
		*v = PICK(rng, 0, 0xffff, 0x10000, 0xffffffff);
		break;
	case D_INSN_LEN:
		*v = PICK(rng, 0, 1, 2, 15, 16);
		break;
	case D_EPTP:
		switch (prng_below(rng, 5)) {
		case 0: *op = OP_XOR; *v = PICK(rng, 6, 1, 2, 4, 7); break;	/* memory type */
		case 1: *op = OP_XOR; *v = PICK(rng, 1, 2, 7) << 3; break;	/* walk length */
		case 2: *op = OP_XOR; *v = BIT(prng_below(rng, 6) + 6); break;	/* A/D, 11:7 */
		default: *op = OP_OR; *v = beyond; break;
		}
		break;
	case D_VPID:
		*v = PICK(rng, 0, 0xffff);
		break;
	case D_TPR_THRESHOLD:
		*v = PICK(rng, 1, 2, 3, 0xf, 0x10, 0x80000000);
		break;
	case D_CR3_COUNT:
		*v = PICK(rng, 3, 4, 5, 0x1ff);
		break;
	case D_LINK:
		switch (prng_below(rng, 4)) {
		case 0: *v = (uint64_t)link_vmcs; break;
		case 1: *v = (uint64_t)link_vmcs + PICK(rng, 0x40, 0x800, 1); break;
		case 2: *v = beyond | (uint64_t)link_vmcs; break;
		default: *v = 0; break;
		}
		break;
	case D_POSTED_NV:
		*v = PICK(rng, 0xff, 0x100, 0xffff);
		break;
	case D_VMFUNC:
		*v = PICK(rng, 1, 2, BIT(63));
		break;
	case D_MSR_ENTRY:
		/* op: 0 index, 1 reserved high bits, 2 value */
		*op = prng_below(rng, 3);
		if (*op == 0)
			*v = PICK(rng, MSR_FS_BASE, MSR_GS_BASE, 0x808, 0x800, 0x8ff, 0x79, 0x9b,
				  0x12345678, MSR_IA32_PAT, MSR_IA32_SYSENTER_ESP);
		else if (*op == 1)
			*v = BIT(32 + prng_below(rng, 32));
		else
			*v = PICK(rng, NONCANONICAL, 0x0202020202020202ull, 0x0007040600070406ull, 0);
		break;
	case D_LINK_HEADER:
		*op = OP_XOR;
		*v = PICK(rng, 1, BIT(31), 0x100);
		break;
	case D_VTPR:
		*v = PICK(rng, 0, 0x10, 0xf0);
		break;
	}
}

static unsigned generate(struct prng *rng, struct states_mutation *m, unsigned max)
{
	unsigned n = 1 + prng_below(rng, max), i;

	if (max == 0)
		return 0;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		const struct target *t = &targets[prng_below(rng, ARRAY_SIZE(targets))];
		static const char *const ops[] = { "=", "|=", "&=~", "^=" };
		unsigned op;
		uint64_t v;

		draw(rng, t, &op, &v);
		m[i].field = t - targets;
		m[i].op = op;
		m[i].value = v;
		if (t->draw == D_NONE)
			snprintf(m[i].name, sizeof(m[i].name), "%s", t->name);
		else if (t->kind == T_MSR_ENTRY)
			snprintf(m[i].name, sizeof(m[i].name), "%s.%s=%#lx", t->name,
				 op == 0 ? "index" : op == 1 ? "high" : "value", v);
		else
			snprintf(m[i].name, sizeof(m[i].name), "%s%s%#lx", t->name, ops[op], v);
	}
	return n;
}

/* ------------------------------------------------------------ applying */

static uint64_t apply_op(uint64_t old, unsigned op, uint64_t v)
{
	switch (op) {
	case OP_OR: return old | v;
	case OP_CLEAR: return old & ~v;
	case OP_XOR: return old ^ v;
	}
	return v;
}

static void apply(const struct states_mutation *m)
{
	const struct target *t = &targets[m->field];
	uint64_t old = 0;

	switch (t->kind) {
	case T_FIELD:
		/* A field the processor lacks, or no current VMCS: the change does not happen. */
		if (vmread_checked(t->field, &old).outcome == VMX_SUCCEED)
			vmwrite_checked(t->field, apply_op(old, m->op, m->value));
		/*
		 * An injected event is delivered through the guest IDT, which is
		 * L1's: with its limit 0 the delivery faults and exits instead.
		 */
		if (t->field == VMCS_ENTRY_INTR_INFO)
			vmwrite_checked(VMCS_GUEST_IDTR_LIMIT, 0);
		break;
	case T_MSR_ENTRY: {
		uint64_t *e = &msr_load_area[2 * t->field];

		if (m->op == 0)
			e[0] = (e[0] & ~0xffffffffull) | (uint32_t)m->value;
		else if (m->op == 1)
			e[0] |= m->value;
		else
			e[1] = m->value;
		break;
	}
	case T_LINK_HEADER:
		*link_vmcs ^= m->value;
		break;
	case T_VTPR:
		vapic[0x80] = m->value;
		break;
	case T_RESUME:
		env.resume = true;
		break;
	case T_NO_VMCS:
		vmclear_checked((uint64_t)vcpu->vmcs);
		env.no_current_vmcs = true;
		launched = false;
		break;
	case T_SHADOW:
		/*
		 * VMPTRLD takes a shadow VMCS where VMCS shadowing exists (25.10);
		 * elsewhere it fails (error 11) and no VMCS is current.
		 */
		vmclear_checked((uint64_t)vcpu->vmcs);
		launched = false;
		*(uint32_t *)vcpu->vmcs |= BIT(31);
		env.current_is_shadow = vmptrld_checked((uint64_t)vcpu->vmcs).outcome == VMX_SUCCEED;
		env.no_current_vmcs = !env.current_is_shadow;
		break;
	case T_MODE:
		/*
		 * The library's 32-bit protected or real mode (unrestricted guest
		 * with EPT; unchanged without them).  l2_report's instructions
		 * decode harmlessly there (48H is DEC, the rest MOV, PUSHF, POP)
		 * and end in its VMCALL.  With RFLAGS.VM flipped as well, the
		 * virtual-8086 rules (27.3.1.2) decide.
		 */
		if (!env.no_current_vmcs && !env.current_is_shadow)
			vmx_vcpu_set_mode(vcpu, (enum vmx_guest_mode)t->field, l2_report);
		break;
	}
}

/* ------------------------------------------------------------ prediction */

/*
 * An inactive state needs a wake-up.  HLT: the VMX-preemption timer at 0
 * (26.5.1 counts it down in HLT).  Shutdown and wait-for-SIPI without an
 * injected event: an injected NMI (with IDT limit 0 its delivery exits),
 * which shutdown allows and wait-for-SIPI does not (27.3.1.5), since the
 * timer does not end wait-for-SIPI.  Part of the state, so it is set before
 * the prediction.
 */
static void wake_up(void)
{
	uint64_t act, pin, info;

	if (env.no_current_vmcs || vmread_checked(VMCS_GUEST_ACTIVITY_STATE, &act).outcome ||
	    act < 1 || act > 3)
		return;
	info = vmcs_read(VMCS_ENTRY_INTR_INFO);
	if (info & VMX_INTR_INFO_VALID)
		return;
	if (act != 1) {
		vmcs_write(VMCS_ENTRY_INTR_INFO, VMX_INTR_INFO_VALID | 2 << 8 | 2);
		vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
		return;
	}
	pin = vmcs_read(VMCS_PIN_CONTROLS);
	if (vr_caps()->allowed[VMX_CTLS_PIN].may_be_1 & VMX_PIN_PREEMPTION_TIMER) {
		vmcs_write(VMCS_PIN_CONTROLS, pin | VMX_PIN_PREEMPTION_TIMER);
		vmcs_write(VMCS_PREEMPTION_TIMER, 0);
	}
}

/* The valid state's values of what decides whether L2 runs its code as in the valid state. */
static struct {
	uint64_t rip, rsp, cr0, cr3, cr4, efer, cs_ar, cs_sel, ss_ar, eptp, timer;
	uint32_t entry;
} valid;

static void remember_valid(void)
{
	valid.rip = vmcs_read(VMCS_GUEST_RIP);
	valid.rsp = vmcs_read(VMCS_GUEST_RSP);
	valid.cr0 = vmcs_read(VMCS_GUEST_CR0);
	valid.cr3 = vmcs_read(VMCS_GUEST_CR3);
	valid.cr4 = vmcs_read(VMCS_GUEST_CR4);
	valid.efer = vmcs_read(VMCS_GUEST_EFER);
	valid.cs_ar = vmcs_read(VMCS_GUEST_CS_AR);
	valid.cs_sel = vmcs_read(VMCS_GUEST_CS_SEL);
	valid.ss_ar = vmcs_read(VMCS_GUEST_SS_AR);
	valid.entry = vmcs_read(VMCS_ENTRY_CONTROLS);
	vmread_checked(VMCS_EPT_POINTER, &valid.eptp);
	vmread_checked(VMCS_PREEMPTION_TIMER, &valid.timer);
}

/* CR0/CR4 bits whose change leaves L2's few instructions alone. */
#define CR0_HARMLESS (X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE | X86_CR0_WP | \
		      X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_ET)
#define CR4_HARMLESS (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_MCE | \
		      X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |      \
		      X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_OSXSAVE | X86_CR4_SMEP |     \
		      X86_CR4_SMAP | X86_CR4_PKE)

static uint64_t rd(uint32_t field)
{
	uint64_t v = 0;

	vmread_checked(field, &v);
	return v;
}

/*
 * Plain: the guest runs l2_report as in the valid state, so a successful
 * entry must reach its VMCALL: no event injected, active, no pending debug
 * exception or single step, the same RIP, RSP, CR3, CS, CPL, EFER and
 * IA-32e mode, CR0/CR4 changed in harmless bits only, no exiting control
 * that fires before the VMCALL (MTF, interrupt/NMI window, a preemption
 * timer other than the valid one), the valid EPT.
 */
static bool plain_state(void)
{
	uint32_t proc = rd(VMCS_PROC_CONTROLS), pin = rd(VMCS_PIN_CONTROLS);
	uint32_t proc2 = proc & VMX_PROC_SECONDARY ? rd(VMCS_PROC_CONTROLS2) : 0;
	uint32_t entry = rd(VMCS_ENTRY_CONTROLS);

	if (rd(VMCS_ENTRY_INTR_INFO) & VMX_INTR_INFO_VALID || rd(VMCS_GUEST_ACTIVITY_STATE) ||
	    (rd(VMCS_GUEST_PENDING_DBG) & 0x500f) ||
	    (rd(VMCS_GUEST_RFLAGS) & (X86_EFLAGS_TF | X86_EFLAGS_VM)))
		return false;
	if (rd(VMCS_GUEST_RIP) != valid.rip || rd(VMCS_GUEST_RSP) != valid.rsp ||
	    rd(VMCS_GUEST_CR3) != valid.cr3 || rd(VMCS_GUEST_CS_AR) != valid.cs_ar ||
	    rd(VMCS_GUEST_CS_SEL) != valid.cs_sel ||
	    ((rd(VMCS_GUEST_SS_AR) ^ valid.ss_ar) & (3 << 5)) ||
	    ((entry ^ valid.entry) & VMX_ENTRY_IA32E) ||
	    ((entry & VMX_ENTRY_LOAD_EFER) && rd(VMCS_GUEST_EFER) != valid.efer))
		return false;
	if (((rd(VMCS_GUEST_CR0) ^ valid.cr0) & ~CR0_HARMLESS) ||
	    ((rd(VMCS_GUEST_CR4) ^ valid.cr4) & ~CR4_HARMLESS))
		return false;
	if (proc & (VMX_PROC_MTF | VMX_PROC_INTR_WINDOW_EXIT | VMX_PROC_NMI_WINDOW_EXIT))
		return false;
	if ((pin & VMX_PIN_PREEMPTION_TIMER) && rd(VMCS_PREEMPTION_TIMER) != valid.timer)
		return false;
	return !(proc2 & VMX_PROC2_EPT) || rd(VMCS_EPT_POINTER) == valid.eptp;
}

static bool plain;

/* A tag for exclusions (lib/states.h states_tag()). */
#define TAG_PENDING_DBG_HIGH "guest.pending_dbg.reserved.high"
/* A usable SS with a null selector (its checks apply all the same, 27.3.1.2). */
#define TAG_SS_NULL_USABLE "guest.ss.null_selector_usable"
/* guest.activity.injection broken in HLT; in shutdown by an event with vector 18 but no #MC. */
#define TAG_HLT_INJECTION "guest.activity.injection.hlt"
#define TAG_SHUTDOWN_VECTOR18 "guest.activity.injection.shutdown_vector18"

/* Whether @p has a rule on a usable SS's fields broken (DS/ES bases too: one rule). */
static bool ss_rule_broken(const struct vr_prediction *p)
{
	for (unsigned k = 0; k < p->nviolated; k++)
		switch (p->violated[k]) {
		case VR_GUEST_SS_TYPE: case VR_GUEST_SS_S: case VR_GUEST_SS_P:
		case VR_GUEST_SS_RESERVED: case VR_GUEST_SS_G: case VR_GUEST_SS_DS_ES_BASE:
			return true;
		}
	return false;
}

static void predict(struct states_prediction *sp)
{
	struct vr_prediction p;

	wake_up();
	vr_predict(&env, &p);
	plain = !env.no_current_vmcs && !env.current_is_shadow && plain_state();
	for (unsigned i = 0; i < p.n; i++) {
		struct states_outcome o = to_states(&p.allowed[i], plain);
		const char *because = "";

		/* The first violated rule with this outcome (MSR loading: any entry). */
		for (unsigned k = 0; k < p.nviolated && p.allowed[i].kind != VR_ENTERS; k++) {
			const struct vmx_rule *r = &vmx_rules[p.violated[k]];

			if (r->fail.kind == p.allowed[i].kind && r->fail.code == p.allowed[i].code &&
			    (r->stage == VR_STAGE_MSR_LOAD || r->fail.qual == p.allowed[i].qual)) {
				because = r->name;
				break;
			}
		}
		states_allow(sp, o.kind, o.code, because);
	}
	/* Every violated rule, also those of stages the entry does not reach. */
	for (unsigned k = 0; k < p.nviolated; k++)
		states_tag(sp, vmx_rules[p.violated[k]].name);
	/* Finer than guest.pending_dbg.reserved: a reserved bit above bit 31 is set. */
	if (!env.no_current_vmcs && (rd(VMCS_GUEST_PENDING_DBG) >> 32))
		states_tag(sp, TAG_PENDING_DBG_HIGH);
	if (!env.no_current_vmcs && !(rd(VMCS_GUEST_SS_SEL) & ~3ull) &&
	    !(rd(VMCS_GUEST_SS_AR) & VMX_AR_UNUSABLE) && ss_rule_broken(&p))
		states_tag(sp, TAG_SS_NULL_USABLE);
	if (!env.no_current_vmcs && vr_violated(VR_GUEST_ACTIVITY_INJECTION, &env)) {
		uint64_t info = rd(VMCS_ENTRY_INTR_INFO);

		if (rd(VMCS_GUEST_ACTIVITY_STATE) == 1)
			states_tag(sp, TAG_HLT_INJECTION);
		else if (rd(VMCS_GUEST_ACTIVITY_STATE) == 2 && (info & 0xff) == 18)
			states_tag(sp, TAG_SHUTDOWN_VECTOR18);
	}
}

/* ------------------------------------------------------------ running */

/*
 * After the VMCALL of a plain state: L2 saw the loaded RSP, RFLAGS, CR0 (but
 * ET, CD, NW, which entry does not load: 27.3.2.1) and CR4; the exit loaded
 * the host MSRs of the VMCS (28.5.1).  @return false with @detail on a
 * difference.
 */
static bool loaded_state_ok(const uint64_t *guest, char *detail, size_t size)
{
	const uint64_t cr0_loaded = ~(uint64_t)(X86_CR0_ET | X86_CR0_CD | X86_CR0_NW);
	uint32_t exit = rd(VMCS_EXIT_CONTROLS);
	struct { const char *what; uint64_t got, want; } c[] = {
		{ "L2 RSP", vcpu->regs.rax, guest[0] },
		{ "L2 RFLAGS", vcpu->regs.rbx & ~X86_EFLAGS_RF, guest[1] & ~X86_EFLAGS_RF },
		{ "L2 CR0", vcpu->regs.rcx & cr0_loaded, guest[2] & cr0_loaded },
		{ "L2 CR4", vcpu->regs.rdx, guest[3] },
		{ "host FS base", rdmsr(MSR_FS_BASE), rd(VMCS_HOST_FS_BASE) },
		{ "host GS base", rdmsr(MSR_GS_BASE), rd(VMCS_HOST_GS_BASE) },
		{ "host SYSENTER_CS", rdmsr(MSR_IA32_SYSENTER_CS), rd(VMCS_HOST_SYSENTER_CS) & 0xffffffff },
		{ "host SYSENTER_ESP", rdmsr(MSR_IA32_SYSENTER_ESP), rd(VMCS_HOST_SYSENTER_ESP) },
		{ "host SYSENTER_EIP", rdmsr(MSR_IA32_SYSENTER_EIP), rd(VMCS_HOST_SYSENTER_EIP) },
		{ "host PAT", rdmsr(MSR_IA32_PAT), exit & VMX_EXIT_LOAD_PAT ? rd(VMCS_HOST_PAT) : rdmsr(MSR_IA32_PAT) },
		{ "host EFER", rdmsr(MSR_EFER), exit & VMX_EXIT_LOAD_EFER ? rd(VMCS_HOST_EFER) : rdmsr(MSR_EFER) },
		{ "guest RIP", rd(VMCS_GUEST_RIP), (uint64_t)l2_report_end },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(c); i++)
		if (c[i].got != c[i].want) {
			snprintf(detail, size, "%s %#lx, expected %#lx", c[i].what, c[i].got, c[i].want);
			return false;
		}
	return true;
}

static void run(struct states_observation *o)
{
	uint64_t guest[4] = { rd(VMCS_GUEST_RSP), rd(VMCS_GUEST_RFLAGS), rd(VMCS_GUEST_CR0),
			      rd(VMCS_GUEST_CR4) };
	struct vr_outcome v;
	uint32_t reason = 0;
	char buf[64];

	if (env.no_current_vmcs) {
		/* Straight to the instruction: vmx_run() would first VMWRITE HOST_RSP. */
		struct vmx_result r = env.resume ? vmresume_checked() : vmlaunch_checked();

		v = (struct vr_outcome){ r.outcome == VMX_FAIL_INVALID ? VR_VMFAIL_INVALID
					 : r.outcome == VMX_FAIL_VALID ? VR_VMFAIL_VALID : VR_ENTERS,
					 r.error, 0 };
		snprintf(o->detail, sizeof(o->detail), "%s", vmx_result_str(&r, buf, sizeof(buf)));
	} else {
		vcpu->launched = env.resume;
		memset(&vcpu->regs, 0, sizeof(vcpu->regs));
		reason = vmx_run(vcpu);
		v = vr_observe(vcpu, reason);
		snprintf(o->detail, sizeof(o->detail), "%s", vmx_exit_str(vcpu, reason));
	}
	o->outcome = to_states(&v, plain);
	if (v.kind == VR_ENTERS) {
		launched = true;
		if (plain && (reason != VMX_EXIT_VMCALL ||
			      !loaded_state_ok(guest, o->detail, sizeof(o->detail))))
			o->outcome.code = ENTERED_WRONG;
	}
	l1_restore();
	env.resume = false;
	env.launched = launched;
}

/* The rules, then the tags predict() adds. */
static const char *rule_name(size_t i)
{
	static const char *const tags[] = { TAG_PENDING_DBG_HIGH, TAG_SS_NULL_USABLE,
					    TAG_HLT_INJECTION, TAG_SHUTDOWN_VECTOR18 };

	return i < VR_RULE_COUNT ? vmx_rules[i].name : tags[i - VR_RULE_COUNT];
}

/* Measured: a few seconds on Bochs 2.7 and 3.0 (docs/states.md). */
static const uint64_t seeds[] = { 1, 2, 3, 4 };

static const struct states_arch vmx_arch = {
	.seeds = seeds, .nseeds = ARRAY_SIZE(seeds), .count = 100,
	.reset = reset, .generate = generate, .apply = apply, .predict = predict, .run = run,
	.describe = describe, .nrules = VR_RULE_COUNT + 4, .rule_name = rule_name,
};

/* ------------------------------------------------------------ checks */

static const char *missing;

static void setup(void)
{
	const char *why;

	if (!vmx_supported(&missing))
		return;
	vmx_enable();
	vcpu = vmx_vcpu_create();
	l1_save();
	msr_load_area = alloc_page();
	exit_load_area = alloc_page();
	exit_store_area = alloc_page();
	vapic = alloc_page();
	link_vmcs = alloc_page();
	for (unsigned i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = alloc_page();
	if (ept_supported(&why))
		ept = ept_create_identity(ept_largest_page());
	reset();
	remember_valid();
}

/* The valid state: the table finds no rule broken, and it enters and reaches the VMCALL. */
static void check_valid(void)
{
	/* Static, as in the driver: a prediction is large. */
	static struct states_prediction p;
	static struct states_observation o;
	char want[64], got[64];

	if (missing) {
		skip("", "%s", missing);
		return;
	}
	reset();
	memset(&p, 0, sizeof(p));
	predict(&p);
	if (p.nrules || p.count != 1 || !plain) {
		test_error("", "the rule table judges the valid VMCS: %u rules broken (%s), plain %d",
			   p.nrules, p.nrules ? p.rules[0] : "", plain);
		return;
	}
	run(&o);
	describe(&p.allowed[0], want, sizeof(want));
	describe(&o.outcome, got, sizeof(got));
	check_msg(states_allows(&p, &o.outcome), "", "expected %s, got %s [%s]", want, got, o.detail);
}

static void run_cases(void)
{
	if (missing) {
		skip("", "%s", missing);
		return;
	}
	states_run(&vmx_arch);
}

static bool knows(const char *pattern)
{
	return states_knows_pattern(&vmx_arch, pattern);
}

static const struct check_entry checks[] = {
	{ "valid", check_valid },
	{ "cases", run_cases },
};

DEFINE_TEST("vmx_states", checks, .setup = setup, .options = STATES_OPTIONS, .knows_pattern = knows);
