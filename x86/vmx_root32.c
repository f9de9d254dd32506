/*
 * VMX operation from a 32-bit host: L1 in 32-bit protected mode with PAE
 * paging (IA32_EFER.LMA = 0) runs VMXON, VMPTRLD, VMREAD/VMWRITE in their
 * 32-bit register and memory forms, a round trip through a 32-bit L2
 * ("IA-32e mode guest" 0, "host address-space size" 0), INVEPT/INVVPID with
 * a 32-bit register operand, the host-state checks that apply to a 32-bit
 * host (SDM Vol. 3C 27.2.3, 27.2.4), VMCLEAR and VMXOFF.
 *
 * The instructions run as one script (lib/x86/vmx_root32.h) during the
 * first check; each check then reads what its instructions did.  The VMCSs
 * are prepared here in 64-bit mode, VMCLEARed (so their data is in memory,
 * 25.11.3) and loaded again by the 32-bit host's VMPTRLD.  Afterwards the
 * test re-enters VMX operation in 64-bit mode and reads the fields the
 * 32-bit host wrote, with all 64 bits.
 */
#include "alloc.h"
#include "desc.h"
#include "ept.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "test.h"
#include "vmx_root32.h"
#include "vmx_rules.h"

VMX_L2_CODE32(l2_root32, "");
/* MOV to CR3 with PAE paging loads the PDPTEs from memory (SDM Vol. 3A 4.4.1). */
VMX_L2_CODE32(l2_root32_cr3, "mov %cr3, %eax\n mov %eax, %cr3");

/*
 * L2 runs VMREAD and VMWRITE with 32-bit operands.  VM entry keeps the GPRs,
 * so ESI is the VMLAUNCH/VMRESUME op of the script, whose mem names the
 * struct l2_mailbox with the field, the value to write and the results.
 */
struct l2_mailbox {
	uint32_t field, value;		/* in */
	uint32_t read_value, read_flags, write_flags;	/* out */
};
#define STR_(x) #x
#define STR(x) STR_(x)
VMX_L2_CODE32(l2_root32_vmx,
	      "movl " STR(R32_MEM) "(%esi), %edi\n"
	      "movl 0(%edi), %ecx\n"
	      "movl $0xa5a5a5a5, %eax\n"
	      "vmread %ecx, %eax\n"
	      "pushfl\n popl 12(%edi)\n movl %eax, 8(%edi)\n"
	      "movl 4(%edi), %eax\n"
	      "vmwrite %eax, %ecx\n"
	      "pushfl\n popl 16(%edi)");
static struct l2_mailbox mailbox, mailbox_vmwrite_exit;
#define SHADOWED_FIELD		VMCS_CR0_READ_SHADOW
#define SHADOW_VALUE		0xdead000000001234ull
#define L2_WRITE_VALUE		0x5678u

/* An encoding no VMCS field has: bits 31:15 are reserved (25.11.2). */
#define FIELD_NONE		0x00010000u
/* 64-bit fields: the "high" access type (bit 0) reaches bits 63:32 (25.11.2). */
#define FIELD_HIGH(f)		((f) | 1u)
#define INV_ALL_CONTEXT		2u	/* INVEPT/INVVPID type (31.3) */
#define INVVPID_TYPE_RESERVED	4u
#define GUEST_CS32_AR		0xc09bu	/* KERNEL_CS32: code, accessed, P, D/B, G */
#define SENTINEL		0xa5a5a5a5u

extern char __image_start[], __image_end[];	/* image.lds */

static struct vmx_vcpu *vcpu_a, *vcpu_b, *vcpu_c, *vcpu_d;
static struct pagetable pae;
static uint64_t *bad_pdpt;	/* the PAE root with a reserved bit in PDPTE 3 */
static uint32_t host_cr4, exit_ctls, entry_ctls;
static bool pcide_allowed, invept_all, invvpid_all, ept_pae, ran;
static const char *why_no_ept_pae;
static void *shadow_vmcs, *shadow_bitmap;	/* the bitmap: no field exits (VMREAD and VMWRITE) */
static void *exit_bitmap;			/* every field exits */
static uint32_t proc_ctls_shadow, proc2_ctls_shadow;
static uint64_t back_shadow_field;
static const char *why_not_32;	/* why the 32-bit host cannot be set up (a skip) */
static const char *setup_error;	/* why the test cannot run here (an error) */

#define MAX_OPS 96
static struct root32_op ops[MAX_OPS];
static unsigned nops;

/* Ops the checks read, by what they do. */
static struct {
	int vmxon, read_nocur, write_nocur, ptrld_a, ptrst, launch, reason, len, rip_mem;
	int resume, reason2, read_nat, write_nat, write_nat_mem, read_nat_mem_back;
	int write_full, write_high, read_full, read_high, read_none, write_none, write_ro;
	int invept_all, invept_bad, invvpid_all, invvpid_bad, clear_a;
	int b_launch, b_addr_space, b_ia32e, b_pcide, b_ss_null, b_pdpte_mem, b_pdpte_mem_reason;
	int b_pdpte_mem_qual, b_after, b_reason;
	int d_pdpte_field, d_pdpte_field_reason, d_pdpte_field_qual, d_launch, d_reason;
	int d_pdpte_saved;
	int l2_vmread_exit, l2_vmread_exit_reason, l2_shadow, l2_shadow_reason, l2_shadow_value;
	int l2_vmwrite_exit, l2_vmwrite_exit_reason;
	int c_read_rip, c_launch, c_write_rip, c_relaunch, vmxoff;
} at;

/* 64-bit values read back after the script. */
static uint64_t back_cr0_shadow, back_cr4_shadow, back_tsc_offset, back_host_rip_c;

static int add(uint32_t code, uint32_t field, uint32_t value)
{
	struct root32_op *op = &ops[nops];

	if (nops == MAX_OPS - 1)
		report_abort("vmx_root32: more than %d ops", MAX_OPS - 1);
	op->code = code;
	op->field = field;
	op->value = value;
	return nops++;
}

static int add_mem(uint32_t code, uint32_t field, uint64_t mem)
{
	int i = add(code, field, 0);

	ops[i].mem = mem;
	return i;
}

static uint32_t low32(const void *p)
{
	return (uint32_t)(uint64_t)p;
}

/* ------------------------------------------------------------ the 32-bit VMCS */

/*
 * @vcpu's VMCS for a 32-bit host and guest: "host address-space size" and
 * "IA-32e mode guest" 0 (27.2.4 requires both outside IA-32e mode), no
 * IA32_EFER loading (the exit then clears EFER.LME/LMA itself, 28.5.1), the
 * PAE tables as host and guest CR3, KERNEL_CS32 as host and guest CS; the
 * guest runs l2_root32 with PAE paging (its PDPTEs load from CR3, 27.3.2.4).
 */
static bool prepare_32bit(struct vmx_vcpu *vcpu)
{
	vmx_vcpu_reset(vcpu, l2_root32);
	if (!vmx_vcpu_set_ctls(vcpu, VMX_CTLS_EXIT, 0,
			       VMX_EXIT_HOST_ADDR_SPACE | VMX_EXIT_LOAD_EFER | VMX_EXIT_SAVE_EFER) ||
	    !vmx_vcpu_set_ctls(vcpu, VMX_CTLS_ENTRY, 0, VMX_ENTRY_IA32E | VMX_ENTRY_LOAD_EFER))
		return false;
	/* The same for every vCPU: the values the host-state cases restore. */
	exit_ctls = vmcs_read(VMCS_EXIT_CONTROLS);
	entry_ctls = vmcs_read(VMCS_ENTRY_CONTROLS);
	vmcs_write(VMCS_HOST_CR3, (uint64_t)pae.root);
	vmcs_write(VMCS_HOST_CR4, host_cr4);
	vmcs_write(VMCS_HOST_CS_SEL, KERNEL_CS32);
	vmcs_write(VMCS_HOST_RIP, (uint64_t)root32_host_exit);
	vmcs_write(VMCS_GUEST_CR3, (uint64_t)pae.root);
	vmcs_write(VMCS_GUEST_CR4, host_cr4);
	vmcs_write(VMCS_GUEST_CS_SEL, KERNEL_CS32);
	vmcs_write(VMCS_GUEST_CS_AR, GUEST_CS32_AR);
	vmcs_write(VMCS_GUEST_CS_LIMIT, 0xffffffff);
	vmcs_write(VMCS_GUEST_CS_BASE, 0);
	return true;
}

/*
 * vcpu_d: the PAE guest under EPT, whose PDPTEs come from the VMCS fields
 * (27.3.1.6, 27.3.2.4) and are saved there at a VM exit (28.3.4).  The fields
 * start as the PAE root's entries but with PDPTE 2 not present; L2 reloads
 * CR3, which loads the root's PDPTE 2.
 */
static void prepare_ept_pae(void)
{
	static struct pagetable ept;
	const char *why;

	if (!ept_supported(&why)) {
		why_no_ept_pae = why;
		return;
	}
	if (!prepare_32bit(vcpu_d) || !vmx_vcpu_set_ctls(vcpu_d, VMX_CTLS_PROC2, VMX_PROC2_EPT, 0) ||
	    !vmx_vcpu_set_ctls(vcpu_d, VMX_CTLS_PROC, 0, VMX_PROC_CR3_LOAD_EXIT)) {
		why_no_ept_pae = "EPT with CR3-load exiting 0 (IA32_VMX_PROCBASED_CTLS2[33], "
				 "IA32_VMX_TRUE_PROCBASED_CTLS[15] allowed-0)";
		return;
	}
	if (!ept.root)
		ept = ept_create_identity(ept_largest_page());
	vmcs_write(VMCS_EPT_POINTER, ept_eptp(&ept, false));
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_root32_cr3);
	for (unsigned i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, i == 2 ? 0 : pae.root[i]);
	ept_pae = true;
}

/*
 * VMCS shadowing (25.10): a shadow VMCS (revision with bit 31) holding
 * SHADOW_VALUE in SHADOWED_FIELD, an all-zero VMREAD/VMWRITE bitmap, and the
 * control words with "VMCS shadowing" for the 32-bit host to VMWRITE.
 */
static void prepare_shadow(void)
{
	if (!vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY) ||
	    !vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING))
		return;
	shadow_vmcs = vmx_region_alloc();
	shadow_bitmap = alloc_page();
	exit_bitmap = alloc_page();
	memset(exit_bitmap, 0xff, PAGE_SIZE);
	*(uint32_t *)shadow_vmcs = vmx_revision() | BIT(31);
	if (vmptrld_checked((uint64_t)shadow_vmcs).outcome != VMX_SUCCEED) {
		setup_error = "VMPTRLD of a shadow VMCS failed";
		return;
	}
	vmcs_write(SHADOWED_FIELD, SHADOW_VALUE);
	vmclear_checked((uint64_t)shadow_vmcs);
	vmx_vcpu_load(vcpu_b);
	proc_ctls_shadow = vmcs_read(VMCS_PROC_CONTROLS) | VMX_PROC_SECONDARY;
	proc2_ctls_shadow = vmx_ctls_adjust(VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING);
}

static bool below_4g(const void *p, size_t size)
{
	return (uint64_t)p + size <= BIT(32);
}

static void setup(void)
{
	uint64_t cr4_fixed1;

	vcpu_a = vmx_test_setup();
	if (!vcpu_a)
		return;
	if (read_cr4() & X86_CR4_PCIDE) {
		why_not_32 = "CR4.PCIDE is set: long mode cannot be left (SDM Vol. 3A 4.10.1)";
		return;
	}
	vcpu_b = vmx_vcpu_create();
	vcpu_c = vmx_vcpu_create();
	vcpu_d = vmx_vcpu_create();
	if (!below_4g(__image_start, __image_end - __image_start) ||
	    !below_4g((void *)read_cr3(), PAGE_SIZE) || !below_4g(vcpu_a->stack, PAGE_SIZE) ||
	    !below_4g(vcpu_b->stack, PAGE_SIZE) || !below_4g(vcpu_c->stack, PAGE_SIZE) ||
	    !below_4g(vcpu_a->vmcs, PAGE_SIZE) || !below_4g(vcpu_b->vmcs, PAGE_SIZE) ||
	    !below_4g(vcpu_c->vmcs, PAGE_SIZE) || !below_4g(vmx_vmxon_region(), PAGE_SIZE) ||
	    !below_4g(vcpu_d->stack, PAGE_SIZE) || !below_4g(vcpu_d->vmcs, PAGE_SIZE)) {
		setup_error = "the image, its stacks or VMX regions lie above 4 GiB";
		return;
	}
	/* The PAE tables: the first 4 GiB identity-mapped with 2 MiB pages. */
	pae = pt_create(&pt_format_pae);
	pt_map(&pae, 0, 0, BIT(32), pt_level_size(2), PTE_P | PTE_W);
	host_cr4 = read_cr4();
	bad_pdpt = alloc_page();
	memcpy(bad_pdpt, pae.root, 4 * sizeof(*bad_pdpt));
	bad_pdpt[3] |= PTE_W;	/* bits 2:1 of a PDPTE are reserved (SDM Vol. 3A 4.4.1) */
	if (!below_4g(bad_pdpt, PAGE_SIZE) || !below_4g(pae.root, PAGE_SIZE))
		report_abort("vmx_root32: PAE tables above 4 GiB");

	cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	pcide_allowed = cr4_fixed1 & X86_CR4_PCIDE;
	invept_all = vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_EPT) &&
		     vmx_cap_has((struct vmx_cap){ VMX_CAP_EPT_VPID, 20 }) &&
		     vmx_cap_has((struct vmx_cap){ VMX_CAP_EPT_VPID, 26 });
	invvpid_all = vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VPID) &&
		      vmx_cap_has((struct vmx_cap){ VMX_CAP_EPT_VPID, 32 }) &&
		      vmx_cap_has((struct vmx_cap){ VMX_CAP_EPT_VPID, 42 });

	if (!prepare_32bit(vcpu_b) || !prepare_32bit(vcpu_c) || !prepare_32bit(vcpu_a)) {
		why_not_32 = "a 32-bit host needs \"host address-space size\", \"IA-32e mode guest\" "
			     "and \"load IA32_EFER\" 0 (IA32_VMX_EXIT/ENTRY_CTLS allowed-0)";
		return;
	}
	prepare_ept_pae();
	prepare_shadow();
	/* vcpu_c: HOST_RIP bits 63:32 set, which only a 64-bit VMWRITE can do. */
	vmx_vcpu_load(vcpu_c);
	vmcs_write(VMCS_HOST_RIP, BIT(32) | (uint64_t)root32_host_exit);
	/* vcpu_a: fields whose high halves the 32-bit VMWRITEs must clear. */
	vmx_vcpu_load(vcpu_a);
	vmcs_write(VMCS_CR0_READ_SHADOW, 0xdead000000000011ull);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0xdead000000000000ull);
	vmcs_write(VMCS_TSC_OFFSET, 0xffffffff00000000ull);
	if (vmclear_checked((uint64_t)vcpu_a->vmcs).outcome != VMX_SUCCEED ||
	    vmclear_checked((uint64_t)vcpu_b->vmcs).outcome != VMX_SUCCEED ||
	    vmclear_checked((uint64_t)vcpu_c->vmcs).outcome != VMX_SUCCEED ||
	    vmclear_checked((uint64_t)vcpu_d->vmcs).outcome != VMX_SUCCEED)
		setup_error = "VMCLEAR of the prepared VMCSs failed";
}

/* ------------------------------------------------------------ the script */

static void build_script(void)
{
	uint64_t a = (uint64_t)vcpu_a->vmcs, b = (uint64_t)vcpu_b->vmcs, c = (uint64_t)vcpu_c->vmcs;
	struct root32_op *op;

	at.vmxon = add_mem(ROOT32_VMXON, 0, (uint64_t)vmx_vmxon_region());
	/* VMXON leaves the current-VMCS pointer invalid (31.3 VMXON). */
	at.read_nocur = add(ROOT32_VMREAD_REG, VMCS_GUEST_RIP, SENTINEL);
	at.write_nocur = add(ROOT32_VMWRITE_REG, VMCS_CR0_READ_SHADOW, 1);
	at.ptrld_a = add_mem(ROOT32_VMPTRLD, 0, a);
	at.ptrst = add_mem(ROOT32_VMPTRST, 0, ~0ull);

	/* The positive case first: a round trip through L2 and back to this host. */
	at.launch = add(ROOT32_VMLAUNCH, 0, 0);
	at.reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
	at.len = add(ROOT32_VMREAD_REG, VMCS_EXIT_INSN_LEN, SENTINEL);
	at.rip_mem = add_mem(ROOT32_VMREAD_MEM, VMCS_GUEST_RIP, 0xa5a5a5a5a5a5a5a5ull);
	/* RIP still at the VMCALL: VMRESUME runs it again. */
	at.resume = add(ROOT32_VMRESUME, 0, 0);
	at.reason2 = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);

	/* VMREAD/VMWRITE with 32-bit operands (31.3). */
	at.read_nat = add(ROOT32_VMREAD_REG, VMCS_CR0_READ_SHADOW, SENTINEL);
	at.write_nat = add(ROOT32_VMWRITE_REG, VMCS_CR0_READ_SHADOW, 0x33);
	at.write_nat_mem = add_mem(ROOT32_VMWRITE_MEM, VMCS_CR4_READ_SHADOW, 0xffffffff12345678ull);
	at.read_nat_mem_back = add(ROOT32_VMREAD_REG, VMCS_CR4_READ_SHADOW, SENTINEL);
	at.write_full = add(ROOT32_VMWRITE_REG, VMCS_TSC_OFFSET, 0x89abcdef);
	at.write_high = add_mem(ROOT32_VMWRITE_MEM, FIELD_HIGH(VMCS_TSC_OFFSET), 0x01234567);
	at.read_full = add(ROOT32_VMREAD_REG, VMCS_TSC_OFFSET, SENTINEL);
	at.read_high = add(ROOT32_VMREAD_REG, FIELD_HIGH(VMCS_TSC_OFFSET), SENTINEL);
	at.read_none = add(ROOT32_VMREAD_REG, FIELD_NONE, SENTINEL);
	at.write_none = add(ROOT32_VMWRITE_REG, FIELD_NONE, 0);
	at.write_ro = add(ROOT32_VMWRITE_REG, VMCS_EXIT_REASON, VMX_EXIT_VMCALL);

	/* INVEPT/INVVPID: only where they exist (else #UD, which 32-bit mode cannot catch). */
	at.invept_all = at.invept_bad = at.invvpid_all = at.invvpid_bad = -1;
	if (invept_all) {
		at.invept_all = add(ROOT32_INVEPT, INV_ALL_CONTEXT, 0);
		at.invept_bad = add(ROOT32_INVEPT, 0, 0);	/* type 0 is reserved */
	}
	if (invvpid_all) {
		at.invvpid_all = add(ROOT32_INVVPID, INV_ALL_CONTEXT, 0);
		at.invvpid_bad = add(ROOT32_INVVPID, INVVPID_TYPE_RESERVED, 0);
	}
	at.clear_a = add_mem(ROOT32_VMCLEAR, 0, a);

	/* Host-state checks on vcpu_b: valid first, then one rule broken at a time. */
	add_mem(ROOT32_VMPTRLD, 0, b);
	at.b_launch = add(ROOT32_VMLAUNCH, 0, 0);
	add_mem(ROOT32_VMCLEAR, 0, b);
	add_mem(ROOT32_VMPTRLD, 0, b);
	add(ROOT32_VMWRITE_REG, VMCS_EXIT_CONTROLS, exit_ctls | VMX_EXIT_HOST_ADDR_SPACE);
	at.b_addr_space = add(ROOT32_VMLAUNCH, 0, 0);
	add(ROOT32_VMWRITE_REG, VMCS_EXIT_CONTROLS, exit_ctls);
	add(ROOT32_VMWRITE_REG, VMCS_ENTRY_CONTROLS, entry_ctls | VMX_ENTRY_IA32E);
	at.b_ia32e = add(ROOT32_VMLAUNCH, 0, 0);
	add(ROOT32_VMWRITE_REG, VMCS_ENTRY_CONTROLS, entry_ctls);
	at.b_pcide = -1;
	if (pcide_allowed) {
		add(ROOT32_VMWRITE_REG, VMCS_HOST_CR4, host_cr4 | X86_CR4_PCIDE);
		at.b_pcide = add(ROOT32_VMLAUNCH, 0, 0);
		add(ROOT32_VMWRITE_REG, VMCS_HOST_CR4, host_cr4);
	}
	add(ROOT32_VMWRITE_REG, VMCS_HOST_SS_SEL, 0);
	at.b_ss_null = add(ROOT32_VMLAUNCH, 0, 0);
	add(ROOT32_VMWRITE_REG, VMCS_HOST_SS_SEL, KERNEL_DS);
	/* A guest PDPTE in memory with a reserved bit: entry failure 33, qualification 2. */
	add(ROOT32_VMWRITE_REG, VMCS_GUEST_CR3, low32(bad_pdpt));
	at.b_pdpte_mem = add(ROOT32_VMLAUNCH, 0, 0);
	at.b_pdpte_mem_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
	at.b_pdpte_mem_qual = add(ROOT32_VMREAD_REG, VMCS_EXIT_QUALIFICATION, SENTINEL);
	add(ROOT32_VMWRITE_REG, VMCS_GUEST_CR3, low32(pae.root));
	/* Every change undone and the launch state still clear: it enters. */
	at.b_after = add(ROOT32_VMLAUNCH, 0, 0);
	at.b_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
	add_mem(ROOT32_VMCLEAR, 0, b);

	/* vcpu_b again: a 32-bit L2's VMREAD exits, then with VMCS shadowing it does not. */
	mailbox = (struct l2_mailbox){ .field = SHADOWED_FIELD, .value = L2_WRITE_VALUE,
				       .read_value = SENTINEL };
	mailbox_vmwrite_exit = mailbox;
	add_mem(ROOT32_VMPTRLD, 0, b);
	add(ROOT32_VMWRITE_REG, VMCS_GUEST_RIP, low32(l2_root32_vmx));
	at.l2_vmread_exit = add_mem(ROOT32_VMLAUNCH, 0, (uint64_t)&mailbox);
	at.l2_vmread_exit_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
	if (shadow_vmcs) {
		/* 32-bit VMWRITEs of 64-bit fields: the full encodings, bits 63:32 cleared. */
		add(ROOT32_VMWRITE_REG, VMCS_PROC_CONTROLS, proc_ctls_shadow);
		add(ROOT32_VMWRITE_REG, VMCS_PROC_CONTROLS2, proc2_ctls_shadow);
		add(ROOT32_VMWRITE_REG, VMCS_VMREAD_BITMAP, low32(shadow_bitmap));
		add(ROOT32_VMWRITE_REG, VMCS_VMWRITE_BITMAP, low32(shadow_bitmap));
		add(ROOT32_VMWRITE_REG, VMCS_VMCS_LINK_PTR, low32(shadow_vmcs));
		/* From the start again: the exit kept no L2 GPR (VM exits switch none). */
		add(ROOT32_VMWRITE_REG, VMCS_GUEST_RIP, low32(l2_root32_vmx));
		at.l2_shadow = add_mem(ROOT32_VMRESUME, 0, (uint64_t)&mailbox);
		at.l2_shadow_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
		/* The field's VMWRITE-bitmap bit 1: the VMREAD still runs, the VMWRITE exits. */
		add(ROOT32_VMWRITE_REG, VMCS_VMWRITE_BITMAP, low32(exit_bitmap));
		add(ROOT32_VMWRITE_REG, VMCS_GUEST_RIP, low32(l2_root32_vmx));
		at.l2_vmwrite_exit = add_mem(ROOT32_VMRESUME, 0, (uint64_t)&mailbox_vmwrite_exit);
		at.l2_vmwrite_exit_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
		add_mem(ROOT32_VMCLEAR, 0, b);
		add_mem(ROOT32_VMPTRLD, 0, (uint64_t)shadow_vmcs);
		at.l2_shadow_value = add(ROOT32_VMREAD_REG, SHADOWED_FIELD, SENTINEL);
		add_mem(ROOT32_VMCLEAR, 0, (uint64_t)shadow_vmcs);
	} else {
		add_mem(ROOT32_VMCLEAR, 0, b);
	}

	/* vcpu_c: HOST_RIP above 4 GiB, then a 32-bit VMWRITE of HOST_RIP. */
	add_mem(ROOT32_VMPTRLD, 0, c);
	at.c_read_rip = add(ROOT32_VMREAD_REG, VMCS_HOST_RIP, SENTINEL);
	at.c_launch = add(ROOT32_VMLAUNCH, 0, 0);
	at.c_write_rip = add(ROOT32_VMWRITE_REG, VMCS_HOST_RIP, low32(root32_host_exit));
	at.c_relaunch = add(ROOT32_VMLAUNCH, 0, 0);
	add_mem(ROOT32_VMCLEAR, 0, c);

	/* vcpu_d: PDPTE fields under EPT, the round trip first, then a broken field. */
	if (ept_pae) {
		add_mem(ROOT32_VMPTRLD, 0, (uint64_t)vcpu_d->vmcs);
		at.d_launch = add(ROOT32_VMLAUNCH, 0, 0);
		at.d_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
		at.d_pdpte_saved = add(ROOT32_VMREAD_REG, VMCS_GUEST_PDPTE2, SENTINEL);
		add_mem(ROOT32_VMCLEAR, 0, (uint64_t)vcpu_d->vmcs);
		add_mem(ROOT32_VMPTRLD, 0, (uint64_t)vcpu_d->vmcs);
		add(ROOT32_VMWRITE_REG, VMCS_GUEST_PDPTE3, (uint32_t)pae.root[3] | PTE_W);
		at.d_pdpte_field = add(ROOT32_VMLAUNCH, 0, 0);
		at.d_pdpte_field_reason = add(ROOT32_VMREAD_REG, VMCS_EXIT_REASON, SENTINEL);
		at.d_pdpte_field_qual = add(ROOT32_VMREAD_REG, VMCS_EXIT_QUALIFICATION, SENTINEL);
		add_mem(ROOT32_VMCLEAR, 0, (uint64_t)vcpu_d->vmcs);
	}
	at.vmxoff = add(ROOT32_VMXOFF, 0, 0);
	add(ROOT32_END, 0, 0);

	for (op = ops; op < ops + nops; op++)
		if (op->code == ROOT32_VMREAD_MEM)
			op->mem = 0xa5a5a5a5a5a5a5a5ull;
}

/* Runs the script once, then reads back in 64-bit mode what it wrote. */
static bool ran_32bit(void)
{
	static struct root32_ctx ctx;
	uint64_t fs_base, gs_base;

	if (!vmx_require_vmx())
		return false;
	if (setup_error) {
		test_error("", "%s", setup_error);
		return false;
	}
	if (why_not_32) {
		skip("", "%s", why_not_32);
		return false;
	}
	if (ran)
		return true;
	ran = true;
	build_script();
	ctx.cr3 = low32(pae.root);
	ctx.ops = low32(ops);
	ctx.stack_top = low32(alloc_page()) + PAGE_SIZE;
	ctx.trace = arg_get_u64("trace", 0);
	fs_base = rdmsr(MSR_FS_BASE);
	gs_base = rdmsr(MSR_GS_BASE);
	vmx_disable();
	root32_run(&ctx);
	wrmsr(MSR_FS_BASE, fs_base);
	wrmsr(MSR_GS_BASE, gs_base);
	if (ctx.trace)
		info("back in long mode");

	vmx_enable();
	vmx_vcpu_load(vcpu_a);
	back_cr0_shadow = vmcs_read(VMCS_CR0_READ_SHADOW);
	back_cr4_shadow = vmcs_read(VMCS_CR4_READ_SHADOW);
	back_tsc_offset = vmcs_read(VMCS_TSC_OFFSET);
	vmx_vcpu_load(vcpu_c);
	back_host_rip_c = vmcs_read(VMCS_HOST_RIP);
	if (shadow_vmcs && vmptrld_checked((uint64_t)shadow_vmcs).outcome == VMX_SUCCEED) {
		back_shadow_field = vmcs_read(SHADOWED_FIELD);
		vmclear_checked((uint64_t)shadow_vmcs);
	}
	return true;
}

/* ------------------------------------------------------------ outcomes */

static struct vmx_result op_result(const struct root32_op *op)
{
	struct vmx_result r = { .outcome = VMX_SUCCEED };

	if (op->eflags & X86_EFLAGS_CF)
		r.outcome = VMX_FAIL_INVALID;
	else if (op->eflags & X86_EFLAGS_ZF) {
		r.outcome = VMX_FAIL_VALID;
		r.error = op->error;
	}
	return r;
}

static struct vmx_result result_of(int i)
{
	return op_result(&ops[i]);
}

static const char *result_str_of(const struct root32_op *op, char *buf, size_t size)
{
	struct vmx_result r = op_result(op);

	if (!op->done)
		return "not reached";
	if ((op->code == ROOT32_VMLAUNCH || op->code == ROOT32_VMRESUME) && op->out[0])
		return "VM entry (and an exit)";
	return vmx_result_str(&r, buf, size);
}

static const char *result_str(int i)
{
	static char buf[4][80];
	static unsigned n;

	return result_str_of(&ops[i], buf[n++ % 4], sizeof(buf[0]));
}

/* Check @name: op @i did VMsucceed. */
static bool check_succeeds(const char *name, int i)
{
	return check_msg(ops[i].done && result_of(i).outcome == VMX_SUCCEED, name,
			 "expected VMsucceed, got %s", result_str(i));
}

static bool check_fails_invalid(const char *name, int i)
{
	return check_msg(ops[i].done && result_of(i).outcome == VMX_FAIL_INVALID, name,
			 "expected VMfailInvalid (no current VMCS), got %s", result_str(i));
}

static bool check_fails_valid(const char *name, int i, uint32_t error)
{
	struct vmx_result r = result_of(i);

	return check_msg(ops[i].done && vmx_failed_with(&r, error), name,
			 "expected VMfailValid(%u: %s), got %s", error, vmx_insn_error_name(error),
			 result_str(i));
}

/* Op @i, a VMREAD_REG, succeeded and read @want. */
static bool check_read(const char *name, int i, uint32_t want)
{
	char sub[64];

	snprintf(sub, sizeof(sub), "%s%soutcome", name, *name ? "." : "");
	return check_succeeds(sub, i) && check_eq(name, ops[i].out[0], want);
}

/* Op @i, a VMLAUNCH/VMRESUME, entered the guest and the exit came back. */
static bool check_entered(const char *name, int i)
{
	return check_msg(ops[i].done && ops[i].out[0] == 1, name,
			 "expected a VM entry and the VM exit back to the 32-bit host, got %s",
			 result_str(i));
}

/* The entry of op @i fails as rule @id (a host-state rule: VMfailValid(8)) predicts. */
static void check_rule(int i, enum vr_rule_id id)
{
	const struct vmx_rule *rule = &vmx_rules[id];
	struct vmx_result r;

	if (!ran_32bit())
		return;
	if (i < 0) {
		skip("", "CR4.PCIDE not allowed in VMX operation (IA32_VMX_CR4_FIXED1[17])");
		return;
	}
	r = result_of(i);
	check_msg(ops[i].done && rule->fail.kind == VR_VMFAIL_VALID &&
		  vmx_failed_with(&r, rule->fail.code), "",
		  "%s (SDM %s) broken: expected VMfailValid(%u), got %s", rule->name,
		  rule->section, rule->fail.code, result_str(i));
}

/* ------------------------------------------------------------ checks */

static void check_vmxon(void)
{
	if (ran_32bit())
		check_succeeds("", at.vmxon);
}

static void check_no_current_vmcs(void)
{
	if (!ran_32bit())
		return;
	/* 31.3 VMREAD/VMWRITE: without a current VMCS, VMfailInvalid. */
	check_fails_invalid("vmread", at.read_nocur);
	check_eq("vmread.dest_unchanged", ops[at.read_nocur].out[0], SENTINEL);
	check_fails_invalid("vmwrite", at.write_nocur);
}

static void check_vmptrst(void)
{
	if (ran_32bit() && check_succeeds("vmptrld", at.ptrld_a) && check_succeeds("outcome", at.ptrst))
		check_eq("", ops[at.ptrst].mem, (uint64_t)vcpu_a->vmcs);	/* m64 in any mode */
}

/*
 * The round trip: VMLAUNCH enters the 32-bit L2, its VMCALL exits (18) with
 * the RIP of the VMCALL and length 3, and the exit lands on the 32-bit host
 * (28.5): IA32_EFER.LME and LMA 0 with "host address-space size" 0 and no
 * EFER loading (28.5.1), CR0/CR4 from the host fields, GDTR and IDTR limits
 * FFFFh with the host bases (28.5.2).
 */
static void check_launch(void)
{
	const struct root32_op *op;
	struct dtr32 { uint16_t limit; uint32_t base; } __packed gdtr, idtr;

	if (!ran_32bit() || !check_entered("", at.launch))
		return;
	op = &ops[at.launch];
	check_read("exit_reason", at.reason, VMX_EXIT_VMCALL);
	check_read("exit_insn_len", at.len, 3);
	check_eq("host_efer.lme", op->out[1] & EFER_LME, 0);
	check_eq("host_efer.lma", op->out[1] & EFER_LMA, 0);
	check_eq("host_cr0", op->out[2], read_cr0() & 0xffffffff);
	check_eq("host_cr4", op->out[3], host_cr4);
	memcpy(&gdtr, &op->desc[0], sizeof(gdtr));
	memcpy(&idtr, &op->desc[1], sizeof(idtr));
	check_eq("host_gdtr.limit", gdtr.limit, 0xffff);
	check_eq("host_gdtr.base", gdtr.base, low32(gdt64));
	check_eq("host_idtr.limit", idtr.limit, 0xffff);
}

static void check_resume(void)
{
	if (ran_32bit() && check_entered("", at.resume))
		check_read("exit_reason", at.reason2, VMX_EXIT_VMCALL);
}

/* VMREAD m32: the low 32 bits of GUEST_RIP; the 4 bytes after the operand untouched. */
static void check_vmread_mem(void)
{
	uint64_t m;

	if (!ran_32bit() || !check_succeeds("outcome", at.rip_mem))
		return;
	m = ops[at.rip_mem].mem;
	check_eq("value", m & 0xffffffff, low32(l2_root32_end));
	check_eq("operand_size", m >> 32, SENTINEL);
}

/* VMREAD r32 of a natural-width field: its low 32 bits (the field holds 0xdead0000_00000011). */
static void check_vmread_reg(void)
{
	if (ran_32bit())
		check_read("", at.read_nat, 0x11);
}

/* VMWRITE r32 of a natural-width field: the field's bits 63:32 become 0 (read in 64-bit mode). */
static void check_vmwrite_reg(void)
{
	if (ran_32bit() && check_succeeds("outcome", at.write_nat))
		check_eq("", back_cr0_shadow, 0x33);
}

/* VMWRITE m32: 4 bytes read from memory (not the 0xffffffff after them), bits 63:32 cleared. */
static void check_vmwrite_mem(void)
{
	if (!ran_32bit() || !check_succeeds("outcome", at.write_nat_mem))
		return;
	check_read("read_back", at.read_nat_mem_back, 0x12345678);
	check_eq("", back_cr4_shadow, 0x12345678);
}

/* A 64-bit field: "full" takes bits 31:0 and clears 63:32, "high" reaches 63:32 (25.11.2). */
static void check_field_64bit(void)
{
	if (!ran_32bit())
		return;
	if (!vmcs_field_supported(vmcs_field_find(VMCS_TSC_OFFSET))) {
		skip("", "no TSC_OFFSET field (IA32_VMX_PROCBASED_CTLS[35])");
		return;
	}
	check_succeeds("write_full", at.write_full);
	check_succeeds("write_high", at.write_high);
	check_read("read_full", at.read_full, 0x89abcdef);
	check_read("read_high", at.read_high, 0x01234567);
	check_eq("", back_tsc_offset, 0x0123456789abcdefull);
}

/* 31.3: an encoding of no field is VMfailValid(12), and VMREAD leaves its destination alone. */
static void check_unsupported(void)
{
	if (!ran_32bit())
		return;
	check_fails_valid("vmread", at.read_none, VMXERR_UNSUPPORTED_FIELD);
	check_eq("vmread.dest_unchanged", ops[at.read_none].out[0], SENTINEL);
	check_fails_valid("vmwrite", at.write_none, VMXERR_UNSUPPORTED_FIELD);
}

/* 31.3 VMWRITE: a VM-exit information field is read-only unless IA32_VMX_MISC[29]. */
static void check_read_only(void)
{
	if (!ran_32bit())
		return;
	if (rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY)
		check_succeeds("", at.write_ro);
	else
		check_fails_valid("", at.write_ro, VMXERR_VMWRITE_READ_ONLY);
}

/* INVEPT/INVVPID with the type in a 32-bit register: all-context works, a reserved type fails (28). */
static void check_inv(const char *name, int all, int bad, bool have, const char *cap)
{
	if (!ran_32bit())
		return;
	if (!have) {
		skip("", "no all-context %s (%s)", name, cap);
		return;
	}
	check_succeeds("all_context", all);
	check_fails_valid("reserved_type", bad, VMXERR_INVALID_INVEPT_INVVPID);
}

static void check_invept(void)
{
	check_inv("invept", at.invept_all, at.invept_bad, invept_all, "IA32_VMX_EPT_VPID_CAP[20,26]");
}

static void check_invvpid(void)
{
	check_inv("invvpid", at.invvpid_all, at.invvpid_bad, invvpid_all,
		  "IA32_VMX_EPT_VPID_CAP[32,42]");
}

static void check_vmclear(void)
{
	if (ran_32bit())
		check_succeeds("", at.clear_a);
}

static void check_entry_valid(void)
{
	if (ran_32bit())
		check_entered("", at.b_launch);
}

static void check_addr_space(void) { check_rule(at.b_addr_space, VR_HOST_ADDR_SPACE); }
static void check_ia32e_guest(void) { check_rule(at.b_ia32e, VR_HOST_IA32E_GUEST_32BIT); }
static void check_pcide(void) { check_rule(at.b_pcide, VR_HOST_PCIDE); }
static void check_ss_null(void) { check_rule(at.b_ss_null, VR_HOST_SS_NULL); }
static void check_rip_high(void) { check_rule(at.c_launch, VR_HOST_RIP); }

/* After the failed entries, with every field restored, VMLAUNCH enters: the launch state stayed clear (27.8). */
static void check_after_failures(void)
{
	if (ran_32bit() && check_entered("", at.b_after))
		check_read("exit_reason", at.b_reason, VMX_EXIT_VMCALL);
}

/*
 * HOST_RIP with bit 32 set: a 32-bit VMREAD sees bits 31:0; a 32-bit VMWRITE
 * of bits 31:0 clears 63:32 (31.3), so the next VMLAUNCH enters.
 */
static void check_natural_clears_high(void)
{
	if (!ran_32bit())
		return;
	check_read("read", at.c_read_rip, low32(root32_host_exit));
	if (check_succeeds("write", at.c_write_rip))
		check_entered("enters", at.c_relaunch);
	check_eq("", back_host_rip_c, (uint64_t)root32_host_exit);
}

/* An entry that fails on rule @id of the guest state: the exit of op @i (reason @reason_op, qualification @qual_op). */
static void check_guest_rule(int i, int reason_op, int qual_op, enum vr_rule_id id)
{
	const struct vmx_rule *rule = &vmx_rules[id];

	if (!check_msg(ops[i].done && ops[i].out[0], "exits",
		       "%s (SDM %s) broken: expected a VM-entry failure exit, got %s", rule->name,
		       rule->section, result_str(i)))
		return;
	check_read("reason", reason_op, VMX_EXIT_ENTRY_FAILURE | rule->fail.code);
	check_read("qualification", qual_op, rule->fail.qual);
}

/* 27.3.2.4: without EPT the entry loads the PDPTEs from guest CR3; a reserved bit fails it. */
static void check_pdpte_memory(void)
{
	if (ran_32bit())
		check_guest_rule(at.b_pdpte_mem, at.b_pdpte_mem_reason, at.b_pdpte_mem_qual,
				 VR_LOAD_PDPTE_MEMORY);
}

static bool need_ept_pae(void)
{
	if (!ran_32bit())
		return false;
	if (!ept_pae)
		skip("", "%s", why_no_ept_pae ? why_no_ept_pae : "no EPT");
	return ept_pae;
}

/* 27.3.1.6: with EPT the PDPTE fields are checked instead; a reserved bit fails the entry. */
static void check_pdpte_fields(void)
{
	if (need_ept_pae())
		check_guest_rule(at.d_pdpte_field, at.d_pdpte_field_reason, at.d_pdpte_field_qual,
				 VR_GUEST_PDPTE_FIELDS);
}

/*
 * 28.3.4: with EPT and PAE paging the exit saves the PDPTEs in use: those
 * L2's MOV to CR3 loaded from memory (PDPTE 2 present), not the field's 0.
 */
static void check_pdpte_saved(void)
{
	if (!need_ept_pae() || !check_entered("enters", at.d_launch))
		return;
	check_read("exit_reason", at.d_reason, VMX_EXIT_VMCALL);
	check_read("", at.d_pdpte_saved, (uint32_t)pae.root[2]);
}

static bool need_shadowing(void)
{
	if (!ran_32bit())
		return false;
	if (!shadow_vmcs)
		skip("", "no VMCS shadowing (IA32_VMX_PROCBASED_CTLS2[46])");
	return shadow_vmcs;
}

/* 26.1.3: VMREAD in VMX non-root operation without VMCS shadowing exits (23). */
static void check_l2_vmread_exits(void)
{
	if (ran_32bit() && check_entered("enters", at.l2_vmread_exit))
		check_read("", at.l2_vmread_exit_reason, VMX_EXIT_VMREAD);
}

/*
 * 26.3, 31.3: with VMCS shadowing and the field's bitmap bits 0, L2's VMREAD
 * and VMWRITE use the shadow VMCS the link pointer names, without an exit;
 * with 32-bit operands VMREAD returns the natural-width field's bits 31:0 and
 * VMWRITE clears its bits 63:32.
 */
static void check_l2_shadow(void)
{
	if (!need_shadowing())
		return;
	if (!check_entered("enters", at.l2_shadow) ||
	    !check_read("exit_reason", at.l2_shadow_reason, VMX_EXIT_VMCALL))
		return;
	check_eq("vmread.flags", mailbox.read_flags & (X86_EFLAGS_CF | X86_EFLAGS_ZF), 0);
	check_eq("vmread", mailbox.read_value, (uint32_t)SHADOW_VALUE);
	check_eq("vmwrite.flags", mailbox.write_flags & (X86_EFLAGS_CF | X86_EFLAGS_ZF), 0);
	check_read("vmwrite", at.l2_shadow_value, L2_WRITE_VALUE);
	check_eq("vmwrite.high_cleared", back_shadow_field, L2_WRITE_VALUE);
}

/* 26.1.3: with VMCS shadowing, VMWRITE exits (25) when the field's VMWRITE-bitmap bit is 1. */
static void check_l2_vmwrite_exits(void)
{
	if (!need_shadowing())
		return;
	if (check_entered("enters", at.l2_vmwrite_exit))
		check_read("", at.l2_vmwrite_exit_reason, VMX_EXIT_VMWRITE);
}

static void check_vmxoff(void)
{
	if (ran_32bit())
		check_succeeds("", at.vmxoff);
}

/* ------------------------------------------------------------ compatibility mode */

/* Runs @op alone in compatibility mode; @return what it raised. */
static struct fault run_compat(struct root32_op *op)
{
	static struct root32_op script[2];
	static struct root32_ctx ctx;

	script[0] = *op;
	script[1] = (struct root32_op){ .code = ROOT32_END };
	ctx.ops = low32(script);
	ctx.stack_top = low32(vcpu_b->stack) + PAGE_SIZE;
	ctx.compat = 1;
	fault_clear();
	root32_run(&ctx);
	*op = script[0];
	return fault_take();
}

/*
 * 31.3: every VMX instruction is #UD in compatibility mode (IA32_EFER.LMA = 1
 * and CS.L = 0), in VMX root operation with a current VMCS.  The 32-bit host
 * above ran the same instructions without a fault.
 */
static void check_compat_ud(void)
{
	static const struct { const char *name; uint32_t code, field; } insns[] = {
		{ "vmread_reg", ROOT32_VMREAD_REG, VMCS_GUEST_RIP },
		{ "vmread_mem", ROOT32_VMREAD_MEM, VMCS_GUEST_RIP },
		{ "vmwrite_reg", ROOT32_VMWRITE_REG, VMCS_CR0_READ_SHADOW },
		{ "vmwrite_mem", ROOT32_VMWRITE_MEM, VMCS_CR0_READ_SHADOW },
		{ "vmptrst", ROOT32_VMPTRST },
		{ "vmptrld", ROOT32_VMPTRLD },
		{ "vmclear", ROOT32_VMCLEAR },
		{ "vmxon", ROOT32_VMXON },
		{ "invept", ROOT32_INVEPT, INV_ALL_CONTEXT },
		{ "invvpid", ROOT32_INVVPID, INV_ALL_CONTEXT },
	};
	char buf[64];

	if (!ran_32bit())
		return;
	vmx_vcpu_load(vcpu_a);
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		struct root32_op op = { .code = insns[i].code, .field = insns[i].field };
		struct fault f;

		if ((op.code == ROOT32_INVEPT && !invept_all) ||
		    (op.code == ROOT32_INVVPID && !invvpid_all)) {
			skip(insns[i].name, "no all-context %s", insns[i].name);
			continue;
		}
		op.mem = op.code == ROOT32_VMPTRLD ? (uint64_t)vcpu_a->vmcs :
			 op.code == ROOT32_VMCLEAR ? (uint64_t)vcpu_b->vmcs :
			 op.code == ROOT32_VMXON ? (uint64_t)vmx_vmxon_region() : 0;
		f = run_compat(&op);
		check_msg(op.done && fault_is(&f, X86_VEC_UD, 0), insns[i].name,
			  "expected #UD, got %s", f.raised ? fault_str(&f, buf, sizeof(buf)) :
			  result_str_of(&op, buf, sizeof(buf)));
	}
}

static const struct check_entry checks[] = {
	{ "root32.vmxon", check_vmxon },
	{ "root32.no_current_vmcs", check_no_current_vmcs },
	{ "root32.vmptrst", check_vmptrst },
	{ "root32.launch", check_launch },
	{ "root32.resume", check_resume },
	{ "root32.vmread.reg", check_vmread_reg },
	{ "root32.vmread.mem", check_vmread_mem },
	{ "root32.vmwrite.reg", check_vmwrite_reg },
	{ "root32.vmwrite.mem", check_vmwrite_mem },
	{ "root32.field_64bit", check_field_64bit },
	{ "root32.unsupported", check_unsupported },
	{ "root32.vmwrite.read_only", check_read_only },
	{ "root32.invept", check_invept },
	{ "root32.invvpid", check_invvpid },
	{ "root32.vmclear", check_vmclear },
	{ "root32.entry.valid", check_entry_valid },
	{ "root32.entry.host_addr_space_size", check_addr_space },
	{ "root32.entry.ia32e_guest", check_ia32e_guest },
	{ "root32.entry.host_cr4_pcide", check_pcide },
	{ "root32.entry.host_ss_null", check_ss_null },
	{ "root32.entry.guest_pdpte_memory", check_pdpte_memory },
	{ "root32.entry.launch_state_clear", check_after_failures },
	{ "root32.entry.host_rip_high", check_rip_high },
	{ "root32.vmwrite.natural_clears_high", check_natural_clears_high },
	{ "root32.ept.pdpte_saved", check_pdpte_saved },
	{ "root32.ept.guest_pdpte_fields", check_pdpte_fields },
	{ "root32.l2.vmread_exits", check_l2_vmread_exits },
	{ "root32.l2.shadow", check_l2_shadow },
	{ "root32.l2.vmwrite_exits", check_l2_vmwrite_exits },
	{ "root32.vmxoff", check_vmxoff },
	{ "root32.compat_ud", check_compat_ud },
};

DEFINE_TEST("vmx_root32", checks, .setup = setup, .options = "trace");
