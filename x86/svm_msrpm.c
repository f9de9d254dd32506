/*
 * SVM MSR intercepts (AMD APM Vol. 2 15.11): with MSR_PROT set, RDMSR and
 * WRMSR exit (0x7C) before they run when the MSR permission map says so: two
 * bits per MSR, the read bit at the even position and the write bit at the odd
 * one, for MSRs 0000_0000h-0000_1FFFh (map bytes 0x000-0x7FF), C000_0000h-
 * C000_1FFFh (0x800-0xFFF) and C001_0000h-C001_1FFFh (0x1000-0x17FF).  An MSR
 * outside those ranges is always intercepted.  EXITINFO1 is 0 for RDMSR and 1
 * for WRMSR; L2's ECX names the MSR (only ECX counts, RCX[63:32] is ignored).
 * With MSR_PROT clear the map is not consulted.
 *
 * L2 runs with #GP intercepted and an IDT of not-present gates, so that an MSR
 * access that does run natively can never reach L1's handlers.
 */
#include "alloc.h"
#include "msr.h"
#include "processor.h"
#include "svm.h"
#include "test.h"

SVM_L2_CODE(l2_rdmsr, "rdmsr");
SVM_L2_CODE(l2_wrmsr, "wrmsr");

enum { RD, WR };

struct msr_case {
	uint32_t msr;		/* in ECX */
	uint32_t upper;		/* RCX[63:32] */
	int insn;		/* RD or WR */
	uint32_t map_msr;	/* the map entry to set */
	bool map_read, map_write;
	bool prot;		/* MSR_PROT */
	bool exits;
	bool native_ok;		/* the access is safe to run in L2 */
};

static struct svm_vcpu *vcpu;

static void setup(void)
{
	vcpu = svm_test_setup();
}

static void run_msr(const struct msr_case *c)
{
	const char *code = c->insn == RD ? l2_rdmsr : l2_wrmsr;
	const char *end = c->insn == RD ? l2_rdmsr_end : l2_wrmsr_end;
	uint64_t exit, value = 0;

	if (!svm_require())
		return;
	svm_vcpu_reset(vcpu, (void *)code);
	svm_isolate_exceptions(vcpu);
	svm_intercept_exception(vcpu, X86_VEC_GP, true);
	svm_msrpm_clear(vcpu);
	if ((c->map_read || c->map_write) && !svm_msrpm_set(vcpu, c->map_msr, c->map_read, c->map_write)) {
		test_error("", "MSR %#x is outside the map", c->map_msr);
		return;
	}
	svm_intercept(vcpu, SVM_INTERCEPT_MSR_PROT, c->prot);
	vcpu->regs.rcx = ((uint64_t)c->upper << 32) | c->msr;
	if (c->insn == WR) {
		/* WRMSR of the value L1 reads (the MSR is L2's own or shared with L1). */
		if (c->native_ok)
			value = rdmsr(c->msr);
		vcpu->vmcb->save.rax = (uint32_t)value;
		vcpu->regs.rdx = value >> 32;
		if (c->msr == MSR_EFER)
			vcpu->vmcb->save.rax = (uint32_t)vcpu->vmcb->save.efer;
	}
	if (!c->exits && !c->native_ok) {
		test_error("", "MSR %#x is not safe to access in L2", c->msr);
		return;
	}
	exit = svm_run(vcpu);
	if (!c->exits) {
		check_msg(exit == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)end,
			  "not_intercepted", "exit code %#lx (EXITINFO1 %#lx) at rip %#lx, expected "
			  "VMMCALL at %p", exit, vcpu->vmcb->control.exit_info1,
			  vcpu->vmcb->save.rip, end);
		return;
	}
	check_msg(exit == SVM_EXIT_MSR && vcpu->vmcb->save.rip == (uint64_t)code, "exit",
		  "exit code %#lx at rip %#lx, expected MSR (0x7c) at rip %p", exit,
		  vcpu->vmcb->save.rip, code);
	if (exit != SVM_EXIT_MSR)
		return;
	check_eq("exitinfo1", vcpu->vmcb->control.exit_info1, c->insn);
	check_eq("ecx", vcpu->regs.rcx, ((uint64_t)c->upper << 32) | c->msr);
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else
		check_eq("next_rip", vcpu->vmcb->control.next_rip, (uint64_t)end);
}

#define SYSENTER_CS	0x174
#define STAR		0xc0000081
#define VM_HSAVE	0xc0010117

/*
 * ID, NAME, ECX, RCX[63:32], RDMSR/WRMSR, map entry, read bit, write bit,
 * MSR_PROT, exits, safe to run natively.
 */
#define MSR_CASES(X)                                                                               \
	X(r0_read, "range0.read", SYSENTER_CS, 0, RD, SYSENTER_CS, 1, 0, 1, 1, 1)                     \
	X(r0_write, "range0.write", SYSENTER_CS, 0, WR, SYSENTER_CS, 0, 1, 1, 1, 1)                   \
	X(r0_read_bit_wrmsr, "range0.read_bit_only.wrmsr", SYSENTER_CS, 0, WR, SYSENTER_CS, 1, 0, 1, 0, 1) \
	X(r0_write_bit_rdmsr, "range0.write_bit_only.rdmsr", SYSENTER_CS, 0, RD, SYSENTER_CS, 0, 1, 1, 0, 1) \
	X(r0_prev_rd, "range0.neighbor_below.rdmsr", SYSENTER_CS, 0, RD, SYSENTER_CS - 1, 1, 1, 1, 0, 1) \
	X(r0_next_rd, "range0.neighbor_above.rdmsr", SYSENTER_CS, 0, RD, SYSENTER_CS + 1, 1, 1, 1, 0, 1) \
	X(r0_next_wr, "range0.neighbor_above.wrmsr", SYSENTER_CS, 0, WR, SYSENTER_CS + 1, 1, 1, 1, 0, 1) \
	X(r0_odd_read, "range0.odd_msr.read", SYSENTER_CS + 1, 0, RD, SYSENTER_CS + 1, 1, 0, 1, 1, 1) \
	X(r0_odd_write, "range0.odd_msr.write", SYSENTER_CS + 1, 0, WR, SYSENTER_CS + 1, 0, 1, 1, 1, 1) \
	X(r0_first, "range0.first.read", 0, 0, RD, 0, 1, 0, 1, 1, 0)                                   \
	X(r0_last, "range0.last.write", 0x1fff, 0, WR, 0x1fff, 0, 1, 1, 1, 0)                         \
	X(r1_read, "range1.read", STAR, 0, RD, STAR, 1, 0, 1, 1, 1)                                  \
	X(r1_write, "range1.write", STAR, 0, WR, STAR, 0, 1, 1, 1, 1)                                \
	X(r1_read_bit_wrmsr, "range1.read_bit_only.wrmsr", STAR, 0, WR, STAR, 1, 0, 1, 0, 1)         \
	X(r1_write_bit_rdmsr, "range1.write_bit_only.rdmsr", STAR, 0, RD, STAR, 0, 1, 1, 0, 1)       \
	X(r1_prev_rd, "range1.neighbor_below.rdmsr", STAR, 0, RD, STAR - 1, 1, 1, 1, 0, 1)           \
	X(r1_next_wr, "range1.neighbor_above.wrmsr", STAR, 0, WR, STAR + 1, 1, 1, 1, 0, 1)           \
	X(r1_efer_read, "range1.efer.read", MSR_EFER, 0, RD, MSR_EFER, 1, 0, 1, 1, 1)                \
	X(r1_first, "range1.first.read", 0xc0000000, 0, RD, 0xc0000000, 1, 0, 1, 1, 0)               \
	X(r1_last, "range1.last.write", 0xc0001fff, 0, WR, 0xc0001fff, 0, 1, 1, 1, 0)                \
	X(r2_read, "range2.read", VM_HSAVE, 0, RD, VM_HSAVE, 1, 0, 1, 1, 1)                                \
	X(r2_write, "range2.write", VM_HSAVE, 0, WR, VM_HSAVE, 0, 1, 1, 1, 0)                        \
	X(r2_write_bit_rdmsr, "range2.write_bit_only.rdmsr", VM_HSAVE, 0, RD, VM_HSAVE, 0, 1, 1, 0, 1)     \
	X(r2_neighbors_rd, "range2.neighbor_above.rdmsr", VM_HSAVE, 0, RD, VM_HSAVE + 1, 1, 1, 1, 0, 1)    \
	X(r2_first, "range2.first.read", 0xc0010000, 0, RD, 0xc0010000, 1, 0, 1, 1, 0)               \
	X(r2_last, "range2.last.write", 0xc0011fff, 0, WR, 0xc0011fff, 0, 1, 1, 1, 0)                \
	X(out_2000_rd, "outside.0x2000.rdmsr", 0x2000, 0, RD, 0, 0, 0, 1, 1, 0)                       \
	X(out_2000_wr, "outside.0x2000.wrmsr", 0x2000, 0, WR, 0, 0, 0, 1, 1, 0)                       \
	X(out_40000000_rd, "outside.0x40000000.rdmsr", 0x40000000, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(out_40000000_wr, "outside.0x40000000.wrmsr", 0x40000000, 0, WR, 0, 0, 0, 1, 1, 0)           \
	X(out_bfffffff_rd, "outside.0xbfffffff.rdmsr", 0xbfffffff, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(out_c0002000_rd, "outside.0xc0002000.rdmsr", 0xc0002000, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(out_c0002000_wr, "outside.0xc0002000.wrmsr", 0xc0002000, 0, WR, 0, 0, 0, 1, 1, 0)           \
	X(out_c000ffff_rd, "outside.0xc000ffff.rdmsr", 0xc000ffff, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(out_c0012000_rd, "outside.0xc0012000.rdmsr", 0xc0012000, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(out_c0012000_wr, "outside.0xc0012000.wrmsr", 0xc0012000, 0, WR, 0, 0, 0, 1, 1, 0)           \
	X(out_ffffffff_rd, "outside.0xffffffff.rdmsr", 0xffffffff, 0, RD, 0, 0, 0, 1, 1, 0)           \
	X(rcx_high_hit, "rcx_high.intercepted", SYSENTER_CS, 0xdead, RD, SYSENTER_CS, 1, 0, 1, 1, 1) \
	X(rcx_high_miss, "rcx_high.not_intercepted", SYSENTER_CS, 0xdead, RD, 0, 0, 0, 1, 0, 1)      \
	X(empty_map_rd, "empty_map.rdmsr", SYSENTER_CS, 0, RD, 0, 0, 0, 1, 0, 1)                      \
	X(empty_map_wr, "empty_map.wrmsr", STAR, 0, WR, 0, 0, 0, 1, 0, 1)                             \
	X(prot_off_rd, "prot_off.rdmsr", SYSENTER_CS, 0, RD, SYSENTER_CS, 1, 1, 0, 0, 1)             \
	X(prot_off_wr, "prot_off.wrmsr", STAR, 0, WR, STAR, 1, 1, 0, 0, 1)

#define DEFINE_CASE(id, n, ecx, up, insn, map, r, w, prot, ex, native)                       \
	static void check_##id(void)                                                         \
	{                                                                                    \
		static const struct msr_case c = { ecx, up, insn, map, r, w, prot, ex, native }; \
		run_msr(&c);                                                                 \
	}
MSR_CASES(DEFINE_CASE)

#define TABLE_ENTRY(id, n, ...) { "msr." n, check_##id },

static const struct check_entry checks[] = {
	MSR_CASES(TABLE_ENTRY)
};

DEFINE_TEST("svm_msrpm", checks, .setup = setup);
