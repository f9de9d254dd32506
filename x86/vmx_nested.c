/*
 * Nested VMX from L1's seat: every VMX instruction that L2 executes causes a
 * VM exit (SDM Vol. 3C 26.1.2, "Instructions That Cause VM Exits
 * Unconditionally"; exit reasons in Appendix C) with the exit qualification
 * (28.2.1, "Exit Qualification for VM Exits Due to Instructions...": the
 * memory operand's displacement, sign-extended; 0 for a register operand)
 * and the VM-exit instruction information (28.2.5, "Information for VM
 * Exits Due to Instruction Execution": the tables "Format of the VM-Exit
 * Instruction-Information Field as Used for INVEPT, INVPCID, and INVVPID",
 * "... for VMCLEAR, VMPTRLD, VMPTRST, VMXON, XRSTORS, and XSAVES" and "...
 * for VMREAD and VMWRITE"), VMFUNC (26.5.6, "VM Functions"; exit 59), and VMCS
 * shadowing (25.10, "VMCS Types: Ordinary and Shadow"; 26.3, VMREAD and
 * VMWRITE in VMX non-root operation; 25.6.15, "VMCS Shadowing Bitmap
 * Addresses").
 *
 * Names: exit.INSN[.VARIANT].{reason,rip,len,qual,info}, vmfunc.*, shadow.*
 * (shadow.{read,write,bit1}.WIDTH: one field of each width, natural, 16-,
 * 32- and 64-bit, .ar, a guest segment access-rights field, and .64bit_high,
 * the high half of a 64-bit field).
 */
#include "alloc.h"
#include "ept.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

static struct vmx_vcpu *vcpu;
static uint64_t *scratch;
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
	scratch = alloc_page();
}

/* ------------------------------------------------------------ exits of VMX instructions */

/* Register numbers of the instruction information (28.2.5). */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, NONE = -1 };
/* Segment registers. */
enum { ES, CS, SS, DS, FS, GS };
/* Address sizes (bits 9:7). */
enum { A16, A32, A64 };

VMX_L2_CODE(l2_vmcall, "vmcall");
VMX_L2_CODE(l2_vmlaunch, "vmlaunch");
VMX_L2_CODE(l2_vmresume, "vmresume");
VMX_L2_CODE(l2_vmxoff, "vmxoff");
VMX_L2_CODE(l2_vmclear, "vmclear 0x38(%rbx,%rsi,4)");
VMX_L2_CODE(l2_vmclear32, "vmclear 0x40(%ebx)");
VMX_L2_CODE(l2_vmptrld, "vmptrld 0x10(%rsp)");
VMX_L2_CODE(l2_vmptrst, "vmptrst %fs:-8(%rcx,%rdi,8)");
VMX_L2_CODE(l2_vmxon, "vmxon 0x12345678(,%rdx,2)");
VMX_L2_CODE(l2_vmxon_rbp, "vmxon 0x7f(%rbp)");
VMX_L2_CODE(l2_invept, "invept 0x20(%rbx,%rsi,1), %rdx");
VMX_L2_CODE(l2_invvpid, "invvpid %gs:0x30(%r8,%r9,2), %r10");
VMX_L2_CODE(l2_vmread_reg, "vmread %rax, %rbx");
VMX_L2_CODE(l2_vmread_mem, "vmread %rcx, -0x48(%rbx)");
VMX_L2_CODE(l2_vmwrite_reg, "vmwrite %r11, %r12");
VMX_L2_CODE(l2_vmwrite_mem, "vmwrite 0x58(%rbx,%rcx,8), %rdx");

/* What an instruction's information field holds. */
enum info_format {
	INFO_NONE,	/* no instruction information */
	INFO_MEM,	/* VMCLEAR, VMPTRLD, VMPTRST, VMXON */
	INFO_INV,	/* INVEPT, INVVPID (with Reg2, bits 31:28) */
	INFO_RW_MEM,	/* VMREAD/VMWRITE with a memory operand (with Reg2) */
	INFO_RW_REG,	/* VMREAD/VMWRITE with a register operand (Reg1, Reg2) */
};

struct insn_case {
	const char *name;
	char *code, *end;
	uint32_t reason;
	enum info_format format;
	int scale, asize, seg, index, base, reg1, reg2;
	uint64_t disp;		/* the qualification: the displacement, sign-extended */
	uint64_t cap;		/* an EPT_VPID_CAP bit the instruction needs, or 0 */
};

#define MEM(sc, as, sg, ix, bs) .scale = sc, .asize = as, .seg = sg, .index = ix, .base = bs

static const struct insn_case insn_cases[] = {
	{ "vmcall", l2_vmcall, l2_vmcall_end, VMX_EXIT_VMCALL, INFO_NONE },
	{ "vmlaunch", l2_vmlaunch, l2_vmlaunch_end, VMX_EXIT_VMLAUNCH, INFO_NONE },
	{ "vmresume", l2_vmresume, l2_vmresume_end, VMX_EXIT_VMRESUME, INFO_NONE },
	{ "vmxoff", l2_vmxoff, l2_vmxoff_end, VMX_EXIT_VMXOFF, INFO_NONE },
	{ "vmclear", l2_vmclear, l2_vmclear_end, VMX_EXIT_VMCLEAR, INFO_MEM,
	  MEM(2, A64, DS, RSI, RBX), .disp = 0x38 },
	{ "vmclear.addr32", l2_vmclear32, l2_vmclear32_end, VMX_EXIT_VMCLEAR, INFO_MEM,
	  MEM(0, A32, DS, NONE, RBX), .disp = 0x40 },
	{ "vmptrld", l2_vmptrld, l2_vmptrld_end, VMX_EXIT_VMPTRLD, INFO_MEM,
	  MEM(0, A64, SS, NONE, RSP), .disp = 0x10 },
	{ "vmptrst", l2_vmptrst, l2_vmptrst_end, VMX_EXIT_VMPTRST, INFO_MEM,
	  MEM(3, A64, FS, RDI, RCX), .disp = -8ull },
	{ "vmxon", l2_vmxon, l2_vmxon_end, VMX_EXIT_VMXON, INFO_MEM,
	  MEM(1, A64, DS, RDX, NONE), .disp = 0x12345678 },
	{ "vmxon.rbp", l2_vmxon_rbp, l2_vmxon_rbp_end, VMX_EXIT_VMXON, INFO_MEM,
	  MEM(0, A64, SS, NONE, RBP), .disp = 0x7f },
	{ "invept", l2_invept, l2_invept_end, VMX_EXIT_INVEPT, INFO_INV,
	  MEM(0, A64, DS, RSI, RBX), .reg2 = RDX, .disp = 0x20, .cap = VMX_EPT_INVEPT },
	{ "invvpid", l2_invvpid, l2_invvpid_end, VMX_EXIT_INVVPID, INFO_INV,
	  MEM(1, A64, GS, R9, R8), .reg2 = R10, .disp = 0x30, .cap = VMX_VPID_INVVPID },
	{ "vmread.reg", l2_vmread_reg, l2_vmread_reg_end, VMX_EXIT_VMREAD, INFO_RW_REG,
	  .reg1 = RBX, .reg2 = RAX, .disp = 0 },
	{ "vmread.mem", l2_vmread_mem, l2_vmread_mem_end, VMX_EXIT_VMREAD, INFO_RW_MEM,
	  MEM(0, A64, DS, NONE, RBX), .reg2 = RCX, .disp = -0x48ull },
	{ "vmwrite.reg", l2_vmwrite_reg, l2_vmwrite_reg_end, VMX_EXIT_VMWRITE, INFO_RW_REG,
	  .reg1 = R11, .reg2 = R12, .disp = 0 },
	{ "vmwrite.mem", l2_vmwrite_mem, l2_vmwrite_mem_end, VMX_EXIT_VMWRITE, INFO_RW_MEM,
	  MEM(3, A64, DS, RCX, RBX), .reg2 = RDX, .disp = 0x58 },
};

/* The defined bits of the instruction information and their expected value. */
static void expected_info(const struct insn_case *c, uint32_t *want, uint32_t *mask)
{
	uint32_t w = 0, m = 0;

	if (c->format == INFO_RW_REG) {
		/* Reg1 (6:3), bit 10 = 1 (register), Reg2 (31:28); the rest is undefined. */
		*want = ((uint32_t)c->reg1 << 3) | BIT(10) | ((uint32_t)c->reg2 << 28);
		*mask = (0xfu << 3) | BIT(10) | (0xfu << 28);
		return;
	}
	w |= (uint32_t)c->asize << 7;
	m |= 7u << 7;
	m |= BIT(10);		/* 0: "cleared to 0", or "memory" for VMREAD/VMWRITE */
	w |= (uint32_t)c->seg << 15;
	m |= 7u << 15;
	if (c->index == NONE) {
		w |= BIT(22);
		m |= BIT(22);
	} else {
		w |= (uint32_t)c->scale | ((uint32_t)c->index << 18);
		m |= 3u | (0xfu << 18) | BIT(22);
	}
	if (c->base == NONE) {
		w |= BIT(27);
		m |= BIT(27);
	} else {
		w |= (uint32_t)c->base << 23;
		m |= (0xfu << 23) | BIT(27);
	}
	if (c->format == INFO_INV || c->format == INFO_RW_MEM) {
		w |= (uint32_t)c->reg2 << 28;
		m |= 0xfu << 28;
	}
	*want = w;
	*mask = m;
}

static void insn_exit(const struct insn_case *c)
{
	uint32_t reason, want, mask, info;
	uint64_t caps;

	report_prefix_push("%s", c->name);
	caps = vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_EPT) ||
	       vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VPID)
		       ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	if (c->cap && !(caps & c->cap)) {
		/* Without the instruction, L2's execution is #UD, not an exit (31.3). */
		skip("", "no %s (IA32_VMX_EPT_VPID_CAP[%u])", c->name, __builtin_ctzll(c->cap));
		report_prefix_pop();
		return;
	}
	vmx_vcpu_reset(vcpu, c->code);
	vcpu->regs.rbx = (uint64_t)scratch;
	vcpu->regs.rax = VMCS_GUEST_RIP;
	vcpu->regs.rcx = VMCS_GUEST_RIP;
	vcpu->regs.r12 = VMCS_GUEST_RIP;
	vcpu->regs.rdx = 1;
	vcpu->regs.r10 = 1;
	vcpu->regs.r8 = (uint64_t)scratch;
	reason = vmx_run(vcpu);
	if (!check_msg(reason == c->reason, "reason", "expected exit %u (%s), got %#x (%s)", c->reason,
		       vmx_exit_name(c->reason), reason, vmx_exit_name(reason) ?: "?")) {
		report_prefix_pop();
		return;
	}
	/* A VMX instruction's exit is fault-like: RIP is the instruction's (27.1). */
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)c->code);
	check_eq("len", vmcs_read(VMCS_EXIT_INSN_LEN), (uint64_t)(c->end - c->code));
	if (c->format == INFO_NONE) {
		report_prefix_pop();
		return;
	}
	check_eq("qual", vmcs_read(VMCS_EXIT_QUALIFICATION), c->disp);
	expected_info(c, &want, &mask);
	info = vmcs_read(VMCS_EXIT_INSN_INFO);
	check_msg((info & mask) == want, "info",
		  "instruction information %#x: defined bits (mask %#x) expected %#x", info, mask, want);
	report_prefix_pop();
}

static void check_exits(void)
{
	if (!vmx_require_vmx())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(insn_cases); i++)
		insn_exit(&insn_cases[i]);
}

/* ------------------------------------------------------------ VMFUNC */

VMX_L2_CODE(l2_vmfunc, "vmfunc");

/*
 * VMFUNC with "enable VM functions" 0 is #UD (31.3 VMFUNC; the exception
 * bitmap turns it into exit 0, vector 6); with it 1 and the function's
 * VM-function control bit 0, a VM exit with reason 59 (26.5.6).
 */
static void check_vmfunc_disabled(void)
{
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	vmx_vcpu_reset(vcpu, l2_vmfunc);
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & VMX_INTR_INFO_VECTOR_MASK) == 6, "",
		  "expected #UD (exit 0, vector 6), got exit %u, interruption info %#lx", reason,
		  vmcs_read(VMCS_EXIT_INTR_INFO));
}

static void check_vmfunc_exit(void)
{
	uint32_t reason;

	if (!vmx_require_vmx() || !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VMFUNC))
		return;
	vmx_vcpu_reset(vcpu, l2_vmfunc);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VMFUNC, 0);
	vmcs_write(VMCS_VMFUNC_CONTROLS, 0);
	vcpu->regs.rax = 0;
	reason = vmx_run(vcpu);
	check_eq("reason", reason, VMX_EXIT_VMFUNC);
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_vmfunc);
	/* EAX above 63 is #UD, not an exit (31.3 VMFUNC, exceptions). */
	vmx_vcpu_reset(vcpu, l2_vmfunc);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VMFUNC, 0);
	vmcs_write(VMCS_VMFUNC_CONTROLS, 0);
	vcpu->regs.rax = 64;
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & VMX_INTR_INFO_VECTOR_MASK) == 6, "func64_ud",
		  "EAX 64: expected #UD (exit 0, vector 6), got exit %u", reason);
}

/*
 * EPTP switching (VM function 0, 26.5.6.3): with the list, ECX = 1 loads the
 * list's entry 1 into the EPTP field without an exit; ECX >= 512 exits.
 */
static void check_vmfunc_eptp(void)
{
	static struct pagetable ept;
	uint64_t *list, *root2;
	const char *why;
	uint32_t reason;

	if (!vmx_require_vmx())
		return;
	if (!ept_supported(&why)) {
		skip("", "%s", why);
		return;
	}
	if (!vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VMFUNC | VMX_PROC2_EPT))
		return;
	if (!(rdmsr(MSR_IA32_VMX_VMFUNC) & 1)) {
		skip("", "no EPTP switching (IA32_VMX_VMFUNC[0])");
		return;
	}
	if (!ept.root)
		ept = ept_create_identity(ept_largest_page());
	list = alloc_page();
	list[0] = ept_eptp(&ept, false);
	/* Entry 1: a second root (a copy of the PML4) over the same identity tables. */
	root2 = alloc_page();
	memcpy(root2, ept.root, PAGE_SIZE);
	list[1] = (uint64_t)root2 | (list[0] & 0xfff);
	vmx_vcpu_reset(vcpu, l2_vmfunc);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VMFUNC | VMX_PROC2_EPT, 0);
	vmcs_write(VMCS_EPT_POINTER, list[0]);
	vmcs_write(VMCS_VMFUNC_CONTROLS, 1);
	vmcs_write(VMCS_EPTP_LIST_ADDR, (uint64_t)list);
	ept_invalidate(list[0]);
	vcpu->regs.rax = 0;
	vcpu->regs.rcx = 1;
	reason = vmx_run(vcpu);
	if (check_msg(reason == VMX_EXIT_VMCALL, "switch", "ECX 1: expected no exit until VMCALL, got %u",
		      reason))
		check_eq("switch.eptp", vmcs_read(VMCS_EPT_POINTER), list[1]);
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_vmfunc);
	vcpu->regs.rcx = 512;
	check_eq("index512", vmx_run(vcpu), VMX_EXIT_VMFUNC);
}

/* ------------------------------------------------------------ VMCS shadowing */

/*
 * The shadowed fields, one of each width (25.11.2, "VMREAD, VMWRITE, and
 * Encodings of VMCS Fields": bits 14:13 of the encoding): both bitmap bits 0.
 * The shadow VMCS holds @shadow_value; L2 reads it and writes @write_value.
 */
struct shadow_field {
	const char *width;
	uint32_t field;
	uint64_t shadow_value, write_value;
};

static const struct shadow_field shadow_fields[] = {
	{ "natural", VMCS_GUEST_CR3, 0x0000000012345000ull, 0x00000000000a5000ull },
	{ "16bit", VMCS_GUEST_ES_SEL, 0x1238, 0x5a58 },
	{ "32bit", VMCS_GUEST_ES_LIMIT, 0x00abcdef, 0x0a5a5a5a },
	{ "64bit", VMCS_GUEST_DEBUGCTL, 0x0000001234567801ull, 0x000000a5a5a5a500ull },
	/*
	 * A 32-bit field with a layout of its own: a guest segment's access
	 * rights (25.4.1, Table 25-2: bits 11:8 and 31:17 reserved), read and
	 * written as its 32 bits like any other field (25.11.2); the values
	 * keep the reserved bits 0 and set P, DPL, S, type, D/B, G or L, AVL.
	 */
	{ "ar", VMCS_GUEST_ES_AR, 0x000050f3, 0x0000b09b },
	/*
	 * The high half of a 64-bit field: its own encoding (bit 0, access type
	 * "high", 25.11.2) and bitmap bit, its 32 bits read and written alone.
	 */
	{ "64bit_high", VMCS_TSC_OFFSET | 1, 0x00010203, 0x00040506 },
};

/* Read-only fields (VM-exit information) whose VMWRITE-bitmap bit is 0. */
static const struct shadow_field shadow_ro_fields[] = {
	{ "natural", VMCS_EXIT_QUALIFICATION, 0, 0x00000000000a5a5aull },
	{ "32bit", VMCS_EXIT_REASON, 0, 0x00005a5a },
};

#define SHADOW_BAD_FIELD	0x2ffeu			/* bit 12 reserved: unsupported */

/* L2: the VMX instruction, then RFLAGS into RCX. */
VMX_L2_CODE(l2_shadow_read, "vmread %rax, %rbx\n pushfq\n popq %rcx");
VMX_L2_CODE(l2_shadow_write, "vmwrite %rbx, %rax\n pushfq\n popq %rcx");

static void *shadow;
static uint8_t *read_bitmap, *write_bitmap;

static bool need_shadowing(void)
{
	return vmx_require_vmx() && vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING);
}

static void bitmap_set_bit(uint8_t *bm, uint32_t field, bool one)
{
	field &= 0x7fff;
	if (one)
		bm[field / 8] |= 1u << (field % 8);
	else
		bm[field / 8] &= ~(1u << (field % 8));
}

static void bitmap_clear(uint8_t *bm, uint32_t field)
{
	bitmap_set_bit(bm, field, false);
}

/*
 * A shadow VMCS (revision with bit 31, the shadow-VMCS indicator, 25.10)
 * that L1 fills through VMPTRLD/VMWRITE, and bitmaps with every bit 1 but
 * those of the shadowed fields.  Leaves the shadow VMCS clear (VMCLEAR).
 */
static bool shadow_prepare(void)
{
	struct vmx_result r;

	if (!shadow) {
		shadow = vmx_region_alloc();
		read_bitmap = alloc_page();
		write_bitmap = alloc_page();
	}
	*(uint32_t *)shadow = vmx_revision() | BIT(31);
	memset(read_bitmap, 0xff, PAGE_SIZE);
	memset(write_bitmap, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_fields); i++) {
		bitmap_clear(read_bitmap, shadow_fields[i].field);
		bitmap_clear(write_bitmap, shadow_fields[i].field);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_ro_fields); i++)
		bitmap_clear(write_bitmap, shadow_ro_fields[i].field);
	bitmap_clear(read_bitmap, SHADOW_BAD_FIELD);
	r = vmclear_checked((uint64_t)shadow);
	if (r.outcome == VMX_SUCCEED)
		r = vmptrld_checked((uint64_t)shadow);
	if (r.outcome != VMX_SUCCEED) {
		test_error("", "VMPTRLD of a shadow VMCS: %s", RES(r));
		return false;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_fields); i++)
		vmcs_write(shadow_fields[i].field, shadow_fields[i].shadow_value);
	r = vmclear_checked((uint64_t)shadow);
	if (r.outcome != VMX_SUCCEED) {
		test_error("", "VMCLEAR of the shadow VMCS: %s", RES(r));
		return false;
	}
	return true;
}

/* The vCPU at @rip with VMCS shadowing on, linked to the shadow VMCS. */
static void shadow_vcpu(void *rip)
{
	vmx_vcpu_reset(vcpu, rip);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VMCS_SHADOWING, 0);
	vmcs_write(VMCS_VMCS_LINK_PTR, (uint64_t)shadow);
	vmcs_write(VMCS_VMREAD_BITMAP, (uint64_t)read_bitmap);
	vmcs_write(VMCS_VMWRITE_BITMAP, (uint64_t)write_bitmap);
}

/* Reads @field of the shadow VMCS from L1 (VMPTRLD of it, then back to the vCPU's). */
static uint64_t shadow_read(uint32_t field)
{
	uint64_t v = 0;
	struct vmx_result r = vmptrld_checked((uint64_t)shadow);

	if (r.outcome == VMX_SUCCEED)
		v = vmcs_read(field);
	else
		test_error("", "VMPTRLD of the shadow VMCS: %s", RES(r));
	vmclear_checked((uint64_t)shadow);
	vmx_vcpu_load(vcpu);
	return v;
}

#define FLAGS_FAIL (X86_EFLAGS_CF | X86_EFLAGS_ZF)

/*
 * 26.3 / 31.3 VMREAD: in VMX non-root operation with shadowing, a field whose
 * VMREAD-bitmap bit is 0 is read from the VMCS that the link pointer names,
 * without a VM exit; a field narrower than the register is zero-extended.
 */
static void shadow_read_field(const struct shadow_field *f)
{
	uint32_t reason;

	report_prefix_push("%s", f->width);
	shadow_vcpu(l2_shadow_read);
	/* The ordinary VMCS must differ, or the value would not tell the VMCSes apart. */
	if (vmcs_read(f->field) == f->shadow_value) {
		test_error("", "ordinary VMCS field %#x already holds %#lx", f->field, f->shadow_value);
		report_prefix_pop();
		return;
	}
	vcpu->regs.rax = f->field;
	vcpu->regs.rbx = ~0ull;
	reason = vmx_run(vcpu);
	if (check_msg(reason == VMX_EXIT_VMCALL, "no_exit",
		      "VMREAD of field %#x whose bit is 0: expected no exit, got %u (%s)", f->field,
		      reason, vmx_exit_name(reason) ?: "?")) {
		check_msg(!(vcpu->regs.rcx & FLAGS_FAIL), "succeeds", "RFLAGS %#lx: VMREAD failed",
			  vcpu->regs.rcx);
		check_eq("value", vcpu->regs.rbx, f->shadow_value);
	}
	report_prefix_pop();
}

static void check_shadow_read(void)
{
	if (!need_shadowing() || !shadow_prepare())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_fields); i++)
		shadow_read_field(&shadow_fields[i]);
}

/* VMWRITE with bit 0 writes the shadow VMCS, not the ordinary one. */
static void shadow_write_field(const struct shadow_field *f)
{
	uint64_t ordinary;
	uint32_t reason;

	report_prefix_push("%s", f->width);
	shadow_vcpu(l2_shadow_write);
	ordinary = vmcs_read(f->field);
	vcpu->regs.rax = f->field;
	vcpu->regs.rbx = f->write_value;
	reason = vmx_run(vcpu);
	if (check_msg(reason == VMX_EXIT_VMCALL, "no_exit",
		      "VMWRITE of field %#x whose bit is 0: expected no exit, got %u (%s)", f->field,
		      reason, vmx_exit_name(reason) ?: "?")) {
		check_msg(!(vcpu->regs.rcx & FLAGS_FAIL), "succeeds", "RFLAGS %#lx: VMWRITE failed",
			  vcpu->regs.rcx);
		check_eq("ordinary_unchanged", vmcs_read(f->field), ordinary);
		check_eq("shadow_value", shadow_read(f->field), f->write_value);
	}
	report_prefix_pop();
}

static void check_shadow_write(void)
{
	if (!need_shadowing() || !shadow_prepare())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_fields); i++)
		shadow_write_field(&shadow_fields[i]);
}

/* With the field's own bitmap bit 1, VMREAD exits with reason 23, VMWRITE with 25. */
static void shadow_bit1_field(const struct shadow_field *f)
{
	report_prefix_push("%s", f->width);
	bitmap_set_bit(read_bitmap, f->field, true);
	shadow_vcpu(l2_shadow_read);
	vcpu->regs.rax = f->field;
	check_eq("vmread", vmx_run(vcpu), VMX_EXIT_VMREAD);
	bitmap_set_bit(read_bitmap, f->field, false);
	bitmap_set_bit(write_bitmap, f->field, true);
	shadow_vcpu(l2_shadow_write);
	vcpu->regs.rax = f->field;
	vcpu->regs.rbx = f->write_value;
	check_eq("vmwrite", vmx_run(vcpu), VMX_EXIT_VMWRITE);
	bitmap_set_bit(write_bitmap, f->field, false);
	report_prefix_pop();
}

/* A field whose bitmap bit is 1 exits with reason 23 / 25; so does an encoding above 7FFFH. */
static void check_shadow_bit1(void)
{
	if (!need_shadowing() || !shadow_prepare())
		return;
	shadow_vcpu(l2_shadow_read);
	vcpu->regs.rax = VMCS_GUEST_RIP;
	check_eq("vmread", vmx_run(vcpu), VMX_EXIT_VMREAD);
	shadow_vcpu(l2_shadow_write);
	vcpu->regs.rax = VMCS_GUEST_RIP;
	check_eq("vmwrite", vmx_run(vcpu), VMX_EXIT_VMWRITE);
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_fields); i++)
		shadow_bit1_field(&shadow_fields[i]);
	/* Bits 63:15 of the encoding not all 0: an exit whatever the bitmap says. */
	shadow_vcpu(l2_shadow_read);
	vcpu->regs.rax = BIT(15) | shadow_fields[0].field;
	check_eq("vmread_high_encoding", vmx_run(vcpu), VMX_EXIT_VMREAD);
	shadow_vcpu(l2_shadow_write);
	vcpu->regs.rax = BIT(32) | shadow_fields[0].field;
	check_eq("vmwrite_high_encoding", vmx_run(vcpu), VMX_EXIT_VMWRITE);
	/* Shadowing control 0: every VMREAD exits (26.1.3). */
	vmx_vcpu_reset(vcpu, l2_shadow_read);
	vcpu->regs.rax = shadow_fields[0].field;
	check_eq("control_off", vmx_run(vcpu), VMX_EXIT_VMREAD);
}

/*
 * Failures inside L2 without an exit (31.3 VMREAD/VMWRITE pseudocode):
 * link pointer FFFFFFFF_FFFFFFFFH -> VMfailInvalid; an unsupported field ->
 * VMfailValid; VMWRITE of a read-only field without IA32_VMX_MISC[29] ->
 * VMfailValid.
 */
static void shadow_read_only_field(const struct shadow_field *f)
{
	uint32_t reason;

	report_prefix_push("%s", f->width);
	shadow_vcpu(l2_shadow_write);
	vcpu->regs.rax = f->field;
	vcpu->regs.rbx = f->write_value;
	reason = vmx_run(vcpu);
	if (rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY)
		check_msg(reason == VMX_EXIT_VMCALL && !(vcpu->regs.rcx & FLAGS_FAIL) &&
			  shadow_read(f->field) == f->write_value, "",
			  "IA32_VMX_MISC[29]: expected VMsucceed and the value in the shadow VMCS: "
			  "exit %u, RFLAGS %#lx", reason, vcpu->regs.rcx);
	else
		check_msg(reason == VMX_EXIT_VMCALL && (vcpu->regs.rcx & FLAGS_FAIL) == X86_EFLAGS_ZF,
			  "", "expected VMfailValid (ZF) in L2: exit %u, RFLAGS %#lx", reason,
			  vcpu->regs.rcx);
	report_prefix_pop();
}

static void check_shadow_fail(void)
{
	uint32_t reason;

	if (!need_shadowing() || !shadow_prepare())
		return;
	shadow_vcpu(l2_shadow_read);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ull);
	vcpu->regs.rax = shadow_fields[0].field;
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_VMCALL && (vcpu->regs.rcx & X86_EFLAGS_CF), "link_invalid",
		  "expected VMfailInvalid (CF) in L2 without an exit: exit %u, RFLAGS %#lx", reason,
		  vcpu->regs.rcx);

	shadow_vcpu(l2_shadow_read);
	vcpu->regs.rax = SHADOW_BAD_FIELD;
	reason = vmx_run(vcpu);
	check_msg(reason == VMX_EXIT_VMCALL && (vcpu->regs.rcx & FLAGS_FAIL) == X86_EFLAGS_ZF,
		  "unsupported_field", "expected VMfailValid (ZF) in L2: exit %u, RFLAGS %#lx", reason,
		  vcpu->regs.rcx);

	report_prefix_push("read_only");
	for (unsigned i = 0; i < ARRAY_SIZE(shadow_ro_fields); i++)
		shadow_read_only_field(&shadow_ro_fields[i]);
	report_prefix_pop();
}

/*
 * 27.3.1.5: with shadowing, the link pointer's VMCS must carry the
 * shadow-VMCS indicator; without it VM entry fails (reason 33 | bit 31,
 * qualification 4, "VMCS link pointer", 27.8).
 */
static void check_shadow_link_indicator(void)
{
	uint32_t reason;

	if (!need_shadowing() || !shadow_prepare())
		return;
	*(uint32_t *)shadow = vmx_revision();
	shadow_vcpu(l2_shadow_read);
	reason = vmx_run(vcpu);
	check_msg(reason == (VMX_EXIT_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE) &&
		  vmcs_read(VMCS_EXIT_QUALIFICATION) == 4, "",
		  "expected entry failure 33 with qualification 4: reason %#x, qualification %#lx",
		  reason, vmcs_read(VMCS_EXIT_QUALIFICATION));
	*(uint32_t *)shadow = vmx_revision() | BIT(31);
}

/*
 * 31.3 VMLAUNCH: a shadow VMCS as the current VMCS -> VMfailInvalid.  L1 may
 * VMPTRLD it (shadowing supported) and VMREAD/VMWRITE it.
 */
static void check_shadow_current(void)
{
	struct vmx_result r;

	if (!need_shadowing() || !shadow_prepare())
		return;
	r = vmptrld_checked((uint64_t)shadow);
	if (!check_msg(r.outcome == VMX_SUCCEED, "vmptrld", "VMPTRLD of a shadow VMCS: %s", RES(r)))
		return;
	r = vmlaunch_checked();
	check_msg(r.outcome == VMX_FAIL_INVALID, "vmlaunch", "expected VMfailInvalid, got %s", RES(r));
	vmclear_checked((uint64_t)shadow);
	vmx_vcpu_load(vcpu);
}

static const struct check_entry checks[] = {
	{ "exit", check_exits },
	{ "vmfunc.disabled", check_vmfunc_disabled },
	{ "vmfunc.exit", check_vmfunc_exit },
	{ "vmfunc.eptp", check_vmfunc_eptp },
	{ "shadow.read", check_shadow_read },
	{ "shadow.write", check_shadow_write },
	{ "shadow.bit1", check_shadow_bit1 },
	{ "shadow.fail", check_shadow_fail },
	{ "shadow.link_indicator", check_shadow_link_indicator },
	{ "shadow.current", check_shadow_current },
};

DEFINE_TEST("vmx_nested", checks, .setup = setup);
