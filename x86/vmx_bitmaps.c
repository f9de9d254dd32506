/*
 * MSR bitmaps and I/O bitmaps (SDM Vol. 3C 25.6.4, "I/O-Bitmap Addresses";
 * 25.6.9, "MSR-Bitmap Address"; 26.1.3, "Instructions That Cause VM Exits
 * Conditionally": RDMSR, WRMSR, IN/INS/OUT/OUTS; 26.1.1 for their priority),
 * with the exit information (28.2.1: exit reasons 30, 31, 32, the I/O exit
 * qualification of Table 28-5, the guest-linear-address field for INS/OUTS;
 * 28.2.5: instruction information for INS/OUTS when IA32_VMX_BASIC[54]).
 *
 * MSRs used without an exit are switched by the VMCS (SYSENTER_ESP/CS,
 * FS/GS base), so L2 reading or writing them does not disturb L1.  Ports
 * used without an exit are 80h (POST) and unassigned ports.
 */
#include "alloc.h"
#include "msr.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

static struct vmx_vcpu *vcpu;
static void *msr_bm;
static struct vmx_io_bitmaps io_bm;
static uint8_t buf[64] __aligned(16);	/* string I/O operands */

static void setup(void)
{
	vcpu = vmx_test_setup();
	if (!vcpu)
		return;
	msr_bm = vmx_msr_bitmap_alloc(false);
	io_bm = vmx_io_bitmaps_alloc(false);
}

VMX_L2_CODE(l2_rdmsr, "rdmsr");
VMX_L2_CODE(l2_wrmsr, "wrmsr");

/* ------------------------------------------------------------ MSR bitmaps */

/*
 * A fresh VMCS at @code using the MSR bitmap with exactly the bits
 * @set_msr/@how set (@how 0: none), ECX = @msr.
 */
static bool msr_prepare(void *code, uint32_t msr, uint32_t set_msr, unsigned how)
{
	if (!vmx_require_vmx())
		return false;
	if (!vmx_require("", VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS))
		return false;
	vmx_vcpu_reset(vcpu, code);
	memset(msr_bm, 0, PAGE_SIZE);
	if (how && !vmx_msr_bitmap_set(msr_bm, set_msr, how, true)) {
		test_error("", "MSR %#x outside the bitmap ranges", set_msr);
		return false;
	}
	vmx_vcpu_use_msr_bitmap(vcpu, msr_bm);
	vcpu->regs.rcx = msr;
	vcpu->regs.rax = 0x1234abcd;
	vcpu->regs.rdx = 0x5678;
	return true;
}

/* RDMSR/WRMSR exits with reason 31/32 at the instruction, ECX untouched in L2. */
static void msr_exits(uint32_t msr, bool write)
{
	if (!vmx_check_exit(vcpu, write ? VMX_EXIT_WRMSR : VMX_EXIT_RDMSR, write ? l2_wrmsr : l2_rdmsr, 2))
		return;
	check_eq("ecx", vcpu->regs.rcx, msr);
	if (!write)
		check_eq("edx_eax", (vcpu->regs.rdx << 32) | vcpu->regs.rax, 0x56781234abcdull);
}

static void msr_case(uint32_t msr, bool write, uint32_t set_msr, unsigned how, bool exit)
{
	if (!msr_prepare(write ? l2_wrmsr : l2_rdmsr, msr, set_msr, how))
		return;
	if (write && !exit) {
		/* Write back the guest's own value: RDMSR in L1 of the same MSR. */
		uint64_t v = msr == MSR_IA32_SYSENTER_ESP ? vmcs_read(VMCS_GUEST_SYSENTER_ESP)
			   : msr == MSR_FS_BASE ? vmcs_read(VMCS_GUEST_FS_BASE) : rdmsr(msr);

		vcpu->regs.rax = (uint32_t)v;
		vcpu->regs.rdx = v >> 32;
	}
	if (exit)
		msr_exits(msr, write);
	else
		vmx_check_runs_to(vcpu, "", write ? l2_wrmsr_end : l2_rdmsr_end);
}

/* Low range, read half: a set bit makes RDMSR exit, the MSR's other bits do not. */
static void check_msr_low_read(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, false, MSR_IA32_SYSENTER_ESP, VMX_MSR_INTERCEPT_READ, true);
}

static void check_msr_low_read_clear(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, false, 0, 0, false);
}

/* The bit of the neighbouring MSR does not make this one exit. */
static void check_msr_low_read_neighbour(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, false, MSR_IA32_SYSENTER_CS, VMX_MSR_INTERCEPT_RW, false);
}

/* The write half does not make RDMSR exit. */
static void check_msr_low_read_write_bit(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, false, MSR_IA32_SYSENTER_ESP, VMX_MSR_INTERCEPT_WRITE, false);
}

static void check_msr_low_write(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, true, MSR_IA32_SYSENTER_ESP, VMX_MSR_INTERCEPT_WRITE, true);
}

static void check_msr_low_write_clear(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, true, 0, 0, false);
}

/* The read half does not make WRMSR exit. */
static void check_msr_low_write_read_bit(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, true, MSR_IA32_SYSENTER_ESP, VMX_MSR_INTERCEPT_READ, false);
}

static void check_msr_high_read(void)
{
	msr_case(MSR_FS_BASE, false, MSR_FS_BASE, VMX_MSR_INTERCEPT_READ, true);
}

static void check_msr_high_read_clear(void)
{
	msr_case(MSR_FS_BASE, false, 0, 0, false);
}

static void check_msr_high_read_neighbour(void)
{
	msr_case(MSR_FS_BASE, false, MSR_GS_BASE, VMX_MSR_INTERCEPT_RW, false);
}

static void check_msr_high_write(void)
{
	msr_case(MSR_FS_BASE, true, MSR_FS_BASE, VMX_MSR_INTERCEPT_WRITE, true);
}

static void check_msr_high_write_clear(void)
{
	msr_case(MSR_FS_BASE, true, 0, 0, false);
}

static void check_msr_high_write_read_bit(void)
{
	msr_case(MSR_FS_BASE, true, MSR_FS_BASE, VMX_MSR_INTERCEPT_READ, false);
}

/* The low and high bitmaps are distinct: bit n of one range does not cover MSR n of the other. */
static void check_msr_low_not_high(void)
{
	msr_case(MSR_FS_BASE, false, MSR_FS_BASE & 0x1fff, VMX_MSR_INTERCEPT_RW, false);
}

static void check_msr_high_not_low(void)
{
	msr_case(MSR_IA32_SYSENTER_ESP, false, VMX_MSR_RANGE_HIGH_BASE | MSR_IA32_SYSENTER_ESP,
		 VMX_MSR_INTERCEPT_RW, false);
}

/* The first and last bits of each range: an exit takes priority over the #GP of an absent MSR. */
static void check_msr_low_first(void)
{
	msr_case(0, false, 0, VMX_MSR_INTERCEPT_READ, true);
}

static void check_msr_low_last(void)
{
	msr_case(VMX_MSR_RANGE_LOW_END, true, VMX_MSR_RANGE_LOW_END, VMX_MSR_INTERCEPT_WRITE, true);
}

static void check_msr_high_first(void)
{
	msr_case(VMX_MSR_RANGE_HIGH_BASE, true, VMX_MSR_RANGE_HIGH_BASE, VMX_MSR_INTERCEPT_WRITE,
		 true);
}

static void check_msr_high_last(void)
{
	msr_case(VMX_MSR_RANGE_HIGH_END, false, VMX_MSR_RANGE_HIGH_END, VMX_MSR_INTERCEPT_READ, true);
}

/*
 * With its bit clear, RDMSR of 1FFFh (in range, no such MSR) does not exit
 * for the MSR: it raises #GP in L2, an exception exit here.
 */
static void check_msr_low_last_clear(void)
{
	uint32_t r;

	if (!msr_prepare(l2_rdmsr, VMX_MSR_RANGE_LOW_END, 0, 0))
		return;
	r = vmx_run(vcpu);
	check_msg(r == VMX_EXIT_EXCEPTION &&
		  (vmcs_read(VMCS_EXIT_INTR_INFO) & (VMX_INTR_INFO_VALID | 0xff)) ==
			  (VMX_INTR_INFO_VALID | X86_VEC_GP), "",
		  "expected #GP in L2 (exception exit), got %s", vmx_exit_str(vcpu, r));
}

/* MSRs outside both ranges exit whatever the bitmap holds (26.1.3). */
static void check_msr_outside(uint32_t msr, bool write)
{
	msr_case(msr, write, 0, 0, true);
}

static void check_msr_outside_2000_read(void)
{
	check_msr_outside(0x2000, false);
}

static void check_msr_outside_2000_write(void)
{
	check_msr_outside(0x2000, true);
}

static void check_msr_outside_c0002000_read(void)
{
	check_msr_outside(0xc0002000, false);
}

static void check_msr_outside_c0002000_write(void)
{
	check_msr_outside(0xc0002000, true);
}

static void check_msr_outside_40000000_read(void)
{
	check_msr_outside(0x40000000, false);
}

static void check_msr_outside_bfffffff_write(void)
{
	check_msr_outside(0xbfffffff, true);
}

static void check_msr_outside_ffffffff_read(void)
{
	check_msr_outside(0xffffffff, false);
}

/* "Use MSR bitmaps" = 0: every RDMSR and WRMSR exits, whatever the bitmap holds. */
static void check_msr_no_bitmaps(void)
{
	if (!msr_prepare(l2_rdmsr, MSR_IA32_SYSENTER_ESP, 0, 0))
		return;
	vmx_vcpu_use_msr_bitmap(vcpu, NULL);
	report_prefix_push("rdmsr");
	msr_exits(MSR_IA32_SYSENTER_ESP, false);
	report_prefix_pop();
	if (!msr_prepare(l2_wrmsr, MSR_FS_BASE, 0, 0))
		return;
	vmx_vcpu_use_msr_bitmap(vcpu, NULL);
	report_prefix_push("wrmsr");
	msr_exits(MSR_FS_BASE, true);
	report_prefix_pop();
}

/* Without an exit RDMSR reads and WRMSR writes the guest's MSR (the VMCS's SYSENTER_ESP). */
static void check_msr_passthrough_values(void)
{
	if (!msr_prepare(l2_rdmsr, MSR_IA32_SYSENTER_ESP, 0, 0))
		return;
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0xffff800012345678ull);
	if (vmx_check_runs_to(vcpu, "read", l2_rdmsr_end))
		check_eq("read.value", (vcpu->regs.rdx << 32) | (uint32_t)vcpu->regs.rax,
			 0xffff800012345678ull);
	if (!msr_prepare(l2_wrmsr, MSR_IA32_SYSENTER_ESP, 0, 0))
		return;
	vcpu->regs.rax = 0x9abc0000;
	vcpu->regs.rdx = 0xffff8000;
	if (vmx_check_runs_to(vcpu, "write", l2_wrmsr_end))
		check_eq("write.value", vmcs_read(VMCS_GUEST_SYSENTER_ESP), 0xffff80009abc0000ull);
}

/* ------------------------------------------------------------ I/O bitmaps */

VMX_L2_CODE(l2_outb_imm, "outb %al, $0x80");
VMX_L2_CODE(l2_inb_imm, "inb $0x80, %al");
VMX_L2_CODE(l2_outb_dx, "outb %al, %dx");
VMX_L2_CODE(l2_outw_dx, "outw %ax, %dx");
VMX_L2_CODE(l2_inw_dx, "inw %dx, %ax");
VMX_L2_CODE(l2_inl_dx, "inl %dx, %eax");
VMX_L2_CODE(l2_outl_imm, "outl %eax, $0x80");
VMX_L2_CODE(l2_outsb, "outsb");
VMX_L2_CODE(l2_rep_outsb, "rep outsb");
VMX_L2_CODE(l2_insw, "insw");
VMX_L2_CODE(l2_rep_insl, "rep insl");
VMX_L2_CODE(l2_outsb_addr32, "addr32 outsb");
VMX_L2_CODE(l2_outsb_fs, "outsb %fs:(%rsi), (%dx)");

/*
 * A fresh VMCS at @code; @bitmaps: use the I/O bitmaps, cleared but for the
 * ports @set .. @set + @count - 1; @uncond: unconditional I/O exiting.
 */
static bool io_prepare(void *code, bool bitmaps, bool uncond, uint16_t set, unsigned count)
{
	if (!vmx_require_vmx())
		return false;
	if (bitmaps && !vmx_require("", VMX_CTLS_PROC, VMX_PROC_IO_BITMAPS))
		return false;
	if (uncond && !vmx_require("", VMX_CTLS_PROC, VMX_PROC_UNCOND_IO_EXIT))
		return false;
	vmx_vcpu_reset(vcpu, code);
	memset(io_bm.a, 0, PAGE_SIZE);
	memset(io_bm.b, 0, PAGE_SIZE);
	vmx_io_bitmap_set(&io_bm, set, count, true);
	vmx_vcpu_use_io_bitmaps(vcpu, bitmaps ? &io_bm : NULL);
	if (!vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, uncond ? VMX_PROC_UNCOND_IO_EXIT : 0,
			       uncond ? 0 : VMX_PROC_UNCOND_IO_EXIT) && !bitmaps) {
		skip("", "unconditional I/O exiting cannot be 0");
		return false;
	}
	memset(buf, 0x5a, sizeof(buf));
	vcpu->regs.rsi = vcpu->regs.rdi = (uint64_t)buf;
	vcpu->regs.rax = 0;
	return true;
}

/* The I/O exit qualification (Table 28-5). */
static void io_qual(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	check_eq("qual.size", VMX_QUAL_IO_SIZE(q), size);
	check_eq("qual.in", !!(q & VMX_QUAL_IO_IN), in);
	check_eq("qual.string", !!(q & VMX_QUAL_IO_STRING), string);
	check_eq("qual.rep", !!(q & VMX_QUAL_IO_REP), rep);
	check_eq("qual.imm", !!(q & VMX_QUAL_IO_IMM), imm);
	check_eq("qual.port", VMX_QUAL_IO_PORT(q), port);
}

/* Bitmap A: the bit of port 80h makes OUT 80h exit (reason 30). */
static void check_io_a_set(void)
{
	if (io_prepare(l2_outb_imm, true, false, 0x80, 1) &&
	    vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outb_imm, 2))
		io_qual(1, false, false, false, true, 0x80);
}

static void check_io_a_in(void)
{
	if (io_prepare(l2_inb_imm, true, false, 0x80, 1) &&
	    vmx_check_exit(vcpu, VMX_EXIT_IO, l2_inb_imm, 2))
		io_qual(1, true, false, false, true, 0x80);
}

static void check_io_a_clear(void)
{
	if (io_prepare(l2_outb_imm, true, false, 0x81, 1))
		vmx_check_runs_to(vcpu, "", l2_outb_imm_end);
}

/* Bitmap B: port 8080h, DX operand encoding. */
static void check_io_b_set(void)
{
	if (!io_prepare(l2_outb_dx, true, false, 0x8080, 1))
		return;
	vcpu->regs.rdx = 0x8080;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outb_dx, 1))
		io_qual(1, false, false, false, false, 0x8080);
}

/* Bit 80h of bitmap B is port 8080h, not port 80h. */
static void check_io_b_not_a(void)
{
	if (!io_prepare(l2_outb_dx, true, false, 0x8080, 1))
		return;
	vcpu->regs.rdx = 0x80;
	vmx_check_runs_to(vcpu, "", l2_outb_dx_end);
}

static void check_io_b_clear(void)
{
	if (!io_prepare(l2_inw_dx, true, false, 0x80, 1))
		return;
	vcpu->regs.rdx = 0x8080;
	vmx_check_runs_to(vcpu, "", l2_inw_dx_end);
}

/* Last port of B (FFFFh) with its bit set. */
static void check_io_b_last(void)
{
	if (!io_prepare(l2_outb_dx, true, false, 0xffff, 1))
		return;
	vcpu->regs.rdx = 0xffff;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outb_dx, 1))
		io_qual(1, false, false, false, false, 0xffff);
}

/* Every byte of a multi-byte access is looked up: the bit of port 81h makes a word OUT to 80h exit. */
static void check_io_word_second_byte(void)
{
	if (!io_prepare(l2_outw_dx, true, false, 0x81, 1))
		return;
	vcpu->regs.rdx = 0x80;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outw_dx, 2))
		io_qual(2, false, false, false, false, 0x80);
}

static void check_io_dword_fourth_byte(void)
{
	if (io_prepare(l2_outl_imm, true, false, 0x83, 1) &&
	    vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outl_imm, 2))
		io_qual(4, false, false, false, true, 0x80);
}

/* A dword access to 80h with only port 84h's bit set: no exit. */
static void check_io_dword_beyond(void)
{
	if (io_prepare(l2_outl_imm, true, false, 0x84, 1))
		vmx_check_runs_to(vcpu, "", l2_outl_imm_end);
}

/* An access across the A/B boundary (7FFFh-8000h) exits on the bit of 8000h in B. */
static void check_io_cross_ab(void)
{
	if (!io_prepare(l2_inw_dx, true, false, 0x8000, 1))
		return;
	vcpu->regs.rdx = 0x7fff;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_inw_dx, 2))
		io_qual(2, true, false, false, false, 0x7fff);
}

/* An access that wraps (FFFFh, 0000h) exits whatever the bitmaps hold (26.1.3). */
static void check_io_wrap_word(void)
{
	if (!io_prepare(l2_inw_dx, true, false, 0x1000, 1))
		return;
	vcpu->regs.rdx = 0xffff;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_inw_dx, 2))
		io_qual(2, true, false, false, false, 0xffff);
}

static void check_io_wrap_dword(void)
{
	if (!io_prepare(l2_inl_dx, true, false, 0x1000, 1))
		return;
	vcpu->regs.rdx = 0xfffe;
	if (vmx_check_exit(vcpu, VMX_EXIT_IO, l2_inl_dx, 1))
		io_qual(4, true, false, false, false, 0xfffe);
}

/* Unconditional I/O exiting with "use I/O bitmaps" = 0: every I/O instruction exits. */
static void check_io_uncond(void)
{
	if (io_prepare(l2_outb_imm, false, true, 0, 0) && vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outb_imm, 2))
		io_qual(1, false, false, false, true, 0x80);
}

/* "Use I/O bitmaps" = 1: unconditional I/O exiting is ignored (26.1.3). */
static void check_io_bitmaps_precedence(void)
{
	if (io_prepare(l2_outb_imm, true, true, 0, 0))
		vmx_check_runs_to(vcpu, "", l2_outb_imm_end);
}

/* Neither control: I/O runs in L2. */
static void check_io_no_exiting(void)
{
	if (io_prepare(l2_inb_imm, false, false, 0, 0))
		vmx_check_runs_to(vcpu, "", l2_inb_imm_end);
}

/*
 * String I/O: the qualification has string = 1, REP for a REP prefix, DX
 * encoding; the guest-linear-address field holds the linear address of the
 * memory operand (DS:RSI for OUTS, ES:RDI for INS); instruction
 * information (IA32_VMX_BASIC[54]) the address size and, for OUTS, the
 * segment (28.2.5, Table 28-9).
 */
static void io_string_info(unsigned addr_size, int seg)
{
	struct vmx_insn_info ii;

	if (!(rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_INS_OUTS_INFO)) {
		skip("info", "IA32_VMX_BASIC[54] clear: no instruction information for INS/OUTS");
		return;
	}
	ii = vmx_exit_insn_info();
	check_eq("info.addr_size", ii.addr_size, addr_size);
	if (seg >= 0)
		check_eq("info.seg", ii.seg, seg);
}

static void check_io_outsb(void)
{
	if (!io_prepare(l2_outsb, true, false, 0x80, 1))
		return;
	vcpu->regs.rdx = 0x80;
	vcpu->regs.rsi = (uint64_t)buf + 3;
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outsb, 1))
		return;
	io_qual(1, false, true, false, false, 0x80);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf + 3);
	io_string_info(2, VMX_SEG_DS);
}

static void check_io_rep_outsb(void)
{
	if (!io_prepare(l2_rep_outsb, true, false, 0x8081, 1))
		return;
	vcpu->regs.rdx = 0x8081;
	vcpu->regs.rcx = 5;
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_rep_outsb, 2))
		return;
	io_qual(1, false, true, true, false, 0x8081);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf);
	check_eq("rcx", vcpu->regs.rcx, 5);
}

static void check_io_insw(void)
{
	if (!io_prepare(l2_insw, true, false, 0x81, 1))
		return;
	vcpu->regs.rdx = 0x80;
	vcpu->regs.rdi = (uint64_t)buf + 8;
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_insw, 2))
		return;
	io_qual(2, true, true, false, false, 0x80);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf + 8);
	check_eq("memory_untouched", buf[8], 0x5a);
	io_string_info(2, -1);
}

static void check_io_rep_insl(void)
{
	if (!io_prepare(l2_rep_insl, true, false, 0x9002, 1))
		return;
	vcpu->regs.rdx = 0x9000;
	vcpu->regs.rcx = 2;
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_rep_insl, 2))
		return;
	io_qual(4, true, true, true, false, 0x9000);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf);
}

/* 32-bit address size (67h prefix): ESI, address size 1. */
static void check_io_outsb_addr32(void)
{
	if (!io_prepare(l2_outsb_addr32, true, false, 0x80, 1))
		return;
	if ((uint64_t)buf >= BIT(32)) {
		test_error("", "buffer above 4 GiB");
		return;
	}
	vcpu->regs.rdx = 0x80;
	vcpu->regs.rsi = (uint64_t)buf | 0xabcd00000000ull;	/* bits 63:32 ignored */
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outsb_addr32, 2))
		return;
	io_qual(1, false, true, false, false, 0x80);
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf);
	io_string_info(1, VMX_SEG_DS);
}

/* FS override: segment 4 in the instruction information, FS base in the linear address. */
static void check_io_outsb_fs(void)
{
	if (!io_prepare(l2_outsb_fs, true, false, 0x80, 1))
		return;
	vmcs_write(VMCS_GUEST_FS_BASE, 0x100000);
	vcpu->regs.rdx = 0x80;
	if (!vmx_check_exit(vcpu, VMX_EXIT_IO, l2_outsb_fs, 2))
		return;
	check_eq("linear_addr", vmcs_read(VMCS_GUEST_LINEAR_ADDR), (uint64_t)buf + 0x100000);
	io_string_info(2, VMX_SEG_FS);
}

/* String I/O without an exit runs: OUTSB advances RSI. */
static void check_io_outsb_clear(void)
{
	if (!io_prepare(l2_rep_outsb, true, false, 0x81, 1))
		return;
	vcpu->regs.rdx = 0x80;
	vcpu->regs.rcx = 3;
	if (vmx_check_runs_to(vcpu, "", l2_rep_outsb_end)) {
		check_eq("rsi", vcpu->regs.rsi, (uint64_t)buf + 3);
		check_eq("rcx", vcpu->regs.rcx, 0);
	}
}

static const struct check_entry checks[] = {
	{ "msr.low_read", check_msr_low_read },
	{ "msr.low_read_clear", check_msr_low_read_clear },
	{ "msr.low_read_neighbour", check_msr_low_read_neighbour },
	{ "msr.low_read_write_bit", check_msr_low_read_write_bit },
	{ "msr.low_write", check_msr_low_write },
	{ "msr.low_write_clear", check_msr_low_write_clear },
	{ "msr.low_write_read_bit", check_msr_low_write_read_bit },
	{ "msr.high_read", check_msr_high_read },
	{ "msr.high_read_clear", check_msr_high_read_clear },
	{ "msr.high_read_neighbour", check_msr_high_read_neighbour },
	{ "msr.high_write", check_msr_high_write },
	{ "msr.high_write_clear", check_msr_high_write_clear },
	{ "msr.high_write_read_bit", check_msr_high_write_read_bit },
	{ "msr.low_not_high", check_msr_low_not_high },
	{ "msr.high_not_low", check_msr_high_not_low },
	{ "msr.low_first", check_msr_low_first },
	{ "msr.low_last", check_msr_low_last },
	{ "msr.low_last_clear", check_msr_low_last_clear },
	{ "msr.high_first", check_msr_high_first },
	{ "msr.high_last", check_msr_high_last },
	{ "msr.outside_2000_read", check_msr_outside_2000_read },
	{ "msr.outside_2000_write", check_msr_outside_2000_write },
	{ "msr.outside_c0002000_read", check_msr_outside_c0002000_read },
	{ "msr.outside_c0002000_write", check_msr_outside_c0002000_write },
	{ "msr.outside_40000000_read", check_msr_outside_40000000_read },
	{ "msr.outside_bfffffff_write", check_msr_outside_bfffffff_write },
	{ "msr.outside_ffffffff_read", check_msr_outside_ffffffff_read },
	{ "msr.no_bitmaps", check_msr_no_bitmaps },
	{ "msr.passthrough_values", check_msr_passthrough_values },
	{ "io.a_set", check_io_a_set },
	{ "io.a_in", check_io_a_in },
	{ "io.a_clear", check_io_a_clear },
	{ "io.b_set", check_io_b_set },
	{ "io.b_not_a", check_io_b_not_a },
	{ "io.b_clear", check_io_b_clear },
	{ "io.b_last", check_io_b_last },
	{ "io.word_second_byte", check_io_word_second_byte },
	{ "io.dword_fourth_byte", check_io_dword_fourth_byte },
	{ "io.dword_beyond", check_io_dword_beyond },
	{ "io.cross_ab", check_io_cross_ab },
	{ "io.wrap_word", check_io_wrap_word },
	{ "io.wrap_dword", check_io_wrap_dword },
	{ "io.uncond", check_io_uncond },
	{ "io.bitmaps_precedence", check_io_bitmaps_precedence },
	{ "io.no_exiting", check_io_no_exiting },
	{ "io.outsb", check_io_outsb },
	{ "io.rep_outsb", check_io_rep_outsb },
	{ "io.insw", check_io_insw },
	{ "io.rep_insl", check_io_rep_insl },
	{ "io.outsb_addr32", check_io_outsb_addr32 },
	{ "io.outsb_fs", check_io_outsb_fs },
	{ "io.outsb_clear", check_io_outsb_clear },
};

DEFINE_TEST("vmx_bitmaps", checks, .setup = setup);
