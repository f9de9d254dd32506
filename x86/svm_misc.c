/*
 * SVM odds and ends (AMD APM Vol. 2 chapter 15):
 *  - NRIP save for the MSR and IOIO intercepts (15.7.1);
 *  - TSC_OFFSET added to what RDTSC, RDTSCP and RDMSR(TSC) return in L2
 *    (15.30.4); the TSC ratio MSR where CPUID reports it (15.30.5);
 *  - VMSAVE writes, and VMLOAD loads, exactly FS, GS, TR, LDTR (hidden state
 *    included) and KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and the three
 *    SYSENTER MSRs (APM Vol. 3 VMLOAD, VMSAVE; 15.5.2);
 *  - LBR virtualization where CPUID reports it (15.23);
 *  - #VMEXIT disables the host's breakpoints in DR7 (15.6);
 *  - INVLPGA of the host's ASID 0 flushes the mapping at rAX, EAX with 67h
 *    (Vol. 3 INVLPGA);
 *  - VM_CR.SVMDIS makes EFER.SVME MBZ (15.30.1).
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "svm.h"
#include "svm_util.h"
#include "test.h"

#define MSR_TSC_RATIO	0xc0000104
#define TSC_RATIO_ONE	BIT(32)	/* 8.32 fixed point 1.0 (APM Vol. 2 15.30.5) */
#define TSC_OFFSET	BIT(40)

SVM_L2_CODE(l2_misc_rdtsc, "rdtsc");
SVM_L2_CODE(l2_misc_rdtscp, "rdtscp");
SVM_L2_CODE(l2_misc_rdmsr, "rdmsr");
SVM_L2_CODE(l2_misc_in, "inb %dx, %al");
SVM_L2_CODE(l2_misc_out_imm, "outb %al, $0x80");
SVM_L2_CODE(l2_misc_rdtsc_twice, "rdtsc\n mov %rax, %r8\n mov %rdx, %r9\n"
	    "mov $100000, %ecx\n 1: loop 1b\n rdtsc");
SVM_L2_CODE(l2_misc_read_dbgctl, "mov $0x1d9, %ecx\n rdmsr\n mov %rax, %r8");
/* A taken JMP, then DBGCTL = BTF alone (LBR off, so nothing later is recorded). */
SVM_L2_CODE(l2_misc_branch_write_dbgctl,
	    ".globl l2_misc_jmp\n l2_misc_jmp: jmp l2_misc_jmp_target\n nop\n"
	    ".globl l2_misc_jmp_target\n l2_misc_jmp_target: mov $0x1d9, %ecx\n"
	    "mov $0x2, %eax\n xor %edx, %edx\n wrmsr");
extern char l2_misc_jmp[], l2_misc_jmp_target[];

static struct svm_vcpu *vcpu;

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
}

static const char *exit_str(uint64_t code)
{
	static char buf[48];

	return svm_exit_text(code, buf, sizeof(buf));
}

/* ---------------------------------------------------------------- NRIP save */

/*
 * APM Vol. 2 15.7.1: with NRIP save, an intercepted instruction's #VMEXIT
 * writes the next instruction's RIP to NextRIP: RDMSR with the MSRPM read bit
 * of the TSC set, IN and OUT with their IOPM bit set.
 */
static void check_nrip(void)
{
	static const struct { const char *name; char *code, *end; uint64_t exit; } cases[] = {
		{ "msr", l2_misc_rdmsr, l2_misc_rdmsr_end, SVM_EXIT_MSR },
		{ "in_dx", l2_misc_in, l2_misc_in_end, SVM_EXIT_IOIO },
		{ "out_imm", l2_misc_out_imm, l2_misc_out_imm_end, SVM_EXIT_IOIO },
	};

	if (!svm_require())
		return;
	if (!svm_has(SVM_FEATURE_NRIPS)) {
		skip("", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb *vmcb;
		uint8_t *msrpm, *iopm;
		uint64_t code;

		svm_vcpu_reset(vcpu, cases[i].code);
		vmcb = vcpu->vmcb;
		msrpm = (uint8_t *)vmcb->control.msrpm_base_pa;
		iopm = (uint8_t *)vmcb->control.iopm_base_pa;
		/* MSR 0x10: bit 2 * 0x10 (read) of the first 2 KiB (APM Vol. 2 15.11). */
		msrpm[0x20 / 8] |= 1;
		iopm[0x80 / 8] |= 1;
		svm_intercept(vcpu, SVM_INTERCEPT_MSR_PROT, true);
		svm_intercept(vcpu, SVM_INTERCEPT_IOIO_PROT, true);
		vcpu->regs.rcx = MSR_IA32_TSC;
		vcpu->regs.rdx = 0x80;
		code = svm_run(vcpu);
		msrpm[0x20 / 8] = 0;
		iopm[0x80 / 8] = 0;
		if (code != cases[i].exit) {
			test_error(cases[i].name, "exit %s, expected %s", exit_str(code),
				   svm_exit_name(cases[i].exit));
			continue;
		}
		check_msg(vmcb->control.next_rip == (uint64_t)cases[i].end, cases[i].name,
			  "NextRIP %#lx, expected %p", vmcb->control.next_rip, cases[i].end);
	}
}

/* ---------------------------------------------------------------- TSC */

/* Runs @code (ending with RDTSC, RDTSCP or RDMSR) and returns EDX:EAX, with L1's TSC around it. */
static bool run_tsc(char *code, uint64_t offset, uint64_t *before, uint64_t *l2, uint64_t *after)
{
	uint64_t exit;

	svm_vcpu_reset(vcpu, code);
	vcpu->vmcb->control.tsc_offset = offset;
	vcpu->regs.rcx = MSR_IA32_TSC;
	*before = rdtsc();
	exit = svm_run(vcpu);
	*after = rdtsc();
	*l2 = (uint32_t)vcpu->vmcb->save.rax | (vcpu->regs.rdx << 32);
	if (exit != SVM_EXIT_VMMCALL) {
		test_error("", "exit %s, expected VMMCALL", exit_str(exit));
		return false;
	}
	return true;
}

/*
 * APM Vol. 2 15.30.4: in the guest, RDTSC, RDTSCP and RDMSR of the TSC return
 * the TSC plus TSC_OFFSET: between L1's readings before and after VMRUN, plus
 * the offset.  A negative offset (two's complement) subtracts.
 */
static void check_tsc_offset(void)
{
	static const struct { const char *name; char *code; } cases[] = {
		{ "rdtsc", l2_misc_rdtsc },
		{ "rdtscp", l2_misc_rdtscp },
		{ "rdmsr", l2_misc_rdmsr },
	};

	if (!svm_require())
		return;
	info("L1's RDMSR(IA32_TSC) reads %#lx, RDTSC %#lx", rdmsr(MSR_IA32_TSC), rdtsc());
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t before, l2, after, neg;
		char name[32];

		if (i == 1 && !cpu_has(X86_FEATURE_RDTSCP)) {
			skip(cases[i].name, "no RDTSCP (CPUID 8000_0001h EDX[27])");
			continue;
		}
		snprintf(name, sizeof(name), "%s.positive", cases[i].name);
		if (!run_tsc(cases[i].code, TSC_OFFSET, &before, &l2, &after))
			continue;
		check_msg(l2 >= before + TSC_OFFSET && l2 <= after + TSC_OFFSET, name,
			  "L2 read %#lx; L1 read %#lx and %#lx around it, offset %#lx", l2, before,
			  after, (uint64_t)TSC_OFFSET);
		/* An offset of minus (roughly) L1's TSC: L2 sees a small count. */
		snprintf(name, sizeof(name), "%s.negative", cases[i].name);
		neg = -(rdtsc() / 2);
		if (!run_tsc(cases[i].code, neg, &before, &l2, &after))
			continue;
		check_msg(l2 >= before + neg && l2 <= after + neg, name,
			  "L2 read %#lx; L1 read %#lx and %#lx around it, offset %#lx", l2, before,
			  after, neg);
	}
}

/*
 * APM Vol. 2 15.30.5: TSC_RATIO (MSR C000_0104h) resets to 1.0 (0000_0001_0000_0000h);
 * bits 63:40 are reserved (#GP on WRMSR); with ratio 2.0 the guest's TSC runs
 * at twice L1's rate.
 */
static void check_tsc_ratio(void)
{
	uint64_t ratio = 0, d1, d2, t0, t1, l2a, l2b;
	struct fault f;
	char buf[64];

	if (!svm_require())
		return;
	if (!svm_has(SVM_FEATURE_TSC_RATE)) {
		skip("", "no %s", svm_feature_name(SVM_FEATURE_TSC_RATE));
		return;
	}
	f = rdmsr_checked(MSR_TSC_RATIO, &ratio);
	check_msg(!f.raised && ratio == TSC_RATIO_ONE, "default", "RDMSR: %s, value %#lx, expected %#lx",
		  fault_str(&f, buf, sizeof(buf)), ratio, (uint64_t)TSC_RATIO_ONE);
	f = wrmsr_checked(MSR_TSC_RATIO, BIT(40) | TSC_RATIO_ONE);
	check_msg(fault_is(&f, X86_VEC_GP, 0), "reserved", "WRMSR bit 40: %s, expected #GP(0)",
		  fault_str(&f, buf, sizeof(buf)));
	wrmsr(MSR_TSC_RATIO, 2 * TSC_RATIO_ONE);
	svm_vcpu_reset(vcpu, l2_misc_rdtsc_twice);
	t0 = rdtsc();
	svm_run(vcpu);
	t1 = rdtsc();
	wrmsr(MSR_TSC_RATIO, TSC_RATIO_ONE);
	l2a = (uint32_t)vcpu->regs.r8 | (vcpu->regs.r9 << 32);
	l2b = (uint32_t)vcpu->vmcb->save.rax | (vcpu->regs.rdx << 32);
	d1 = t1 - t0;
	d2 = l2b - l2a;
	/* L2's interval lies inside L1's: at ratio 2 it may be at most twice as long. */
	check_msg(d2 > 0 && d2 <= 2 * d1 && l2a > t0, "double",
		  "L2 interval %lu ticks inside L1's %lu; L2 start %#lx vs L1 %#lx", d2, d1, l2a, t0);
}

/* ---------------------------------------------------------------- VMLOAD / VMSAVE */

#define FILL 0xa5a5a5a5a5a5a5a5ull

/* The VMCB bytes that VMLOAD/VMSAVE move (APM Vol. 3 VMLOAD): FS, GS, TR, LDTR and the MSRs. */
static bool moved_by_vmsave(size_t off)
{
	size_t fs = offsetof(struct vmcb, save.fs), gs_end = fs + 2 * sizeof(struct vmcb_seg);
	size_t ldtr = offsetof(struct vmcb, save.ldtr), tr = offsetof(struct vmcb, save.tr);
	size_t msrs = offsetof(struct vmcb, save.star), msrs_end = offsetof(struct vmcb, save.cr2);

	return (off >= fs && off < gs_end) || (off >= ldtr && off < ldtr + sizeof(struct vmcb_seg)) ||
	       (off >= tr && off < tr + sizeof(struct vmcb_seg)) || (off >= msrs && off < msrs_end);
}

struct msr_field {
	const char *name;
	uint32_t msr;
	size_t off;
	uint64_t value;		/* what VMLOAD loads in check vmload */
};

static const struct msr_field msr_fields[] = {
	{ "fs_base", MSR_FS_BASE, offsetof(struct vmcb, save.fs.base), 0x7f0000001000 },
	{ "gs_base", MSR_GS_BASE, offsetof(struct vmcb, save.gs.base), 0x7f0000002000 },
	{ "kernel_gs_base", MSR_KERNEL_GS_BASE, offsetof(struct vmcb, save.kernel_gs_base), 0x7f0000003000 },
	{ "star", MSR_STAR, offsetof(struct vmcb, save.star), 0x0023001000000000 },
	{ "lstar", MSR_LSTAR, offsetof(struct vmcb, save.lstar), 0xffff800000004000 },
	{ "cstar", MSR_CSTAR, offsetof(struct vmcb, save.cstar), 0xffff800000005000 },
	{ "sfmask", MSR_SFMASK, offsetof(struct vmcb, save.sfmask), 0x47700 },
	{ "sysenter_cs", MSR_IA32_SYSENTER_CS, offsetof(struct vmcb, save.sysenter_cs), 0x10 },
	{ "sysenter_esp", MSR_IA32_SYSENTER_ESP, offsetof(struct vmcb, save.sysenter_esp), 0xffff800000006000 },
	{ "sysenter_eip", MSR_IA32_SYSENTER_EIP, offsetof(struct vmcb, save.sysenter_eip), 0xffff800000007000 },
};

static uint64_t vmcb_u64(const void *vmcb, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)vmcb + off, sizeof(v));
	return v;
}

/*
 * APM Vol. 3 VMSAVE: each MSR's VMCB field receives the value WRMSR gave it;
 * FS and GS selectors are saved; no byte outside the moved state changes.
 */
static void check_vmsave(void)
{
	uint8_t *page, *saved;
	uint64_t old[ARRAY_SIZE(msr_fields)];
	size_t stray = 0, first = 0;
	char name[40];

	if (!svm_require())
		return;
	page = alloc_page();
	saved = alloc_page();
	asm volatile("vmsave %%rax" : : "a"(saved) : "memory");	/* L1's state, to restore */
	memset(page, 0xa5, PAGE_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++) {
		old[i] = rdmsr(msr_fields[i].msr);
		wrmsr(msr_fields[i].msr, msr_fields[i].value + 8);
	}
	asm volatile("vmsave %%rax" : : "a"(page) : "memory");
	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++)
		wrmsr(msr_fields[i].msr, old[i]);
	asm volatile("vmload %%rax" : : "a"(saved) : "memory");

	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++) {
		snprintf(name, sizeof(name), "msr.%s", msr_fields[i].name);
		check_eq(name, vmcb_u64(page, msr_fields[i].off), msr_fields[i].value + 8);
	}
	{
		struct vmcb *v = (struct vmcb *)page;
		uint16_t tr, ldtr, fs, gs;
		uint64_t d = gdt64[TSS_SELECTOR / 8], tss_base = ((d >> 16) & 0xffffff) |
			((d >> 56) << 24) | (gdt64[TSS_SELECTOR / 8 + 1] << 32);

		asm volatile("str %0; sldt %1; mov %%fs, %2; mov %%gs, %3"
			     : "=r"(tr), "=r"(ldtr), "=r"(fs), "=r"(gs));
		check_msg(v->save.tr.selector == tr && v->save.tr.base == tss_base &&
			  v->save.tr.limit == ((d & 0xffff) | ((d >> 48 & 0xf) << 16)) &&
			  (v->save.tr.attrib & 0xff) == 0x8b, "tr",
			  "TR %#x base %#lx limit %#x attrib %#x; expected %#x base %#lx, busy TSS "
			  "(attrib 0x8b; the GDT descriptor's type byte is %#lx)",
			  v->save.tr.selector, v->save.tr.base, v->save.tr.limit, v->save.tr.attrib,
			  tr, tss_base, (d >> 40) & 0xff);
		check_eq("ldtr.selector", v->save.ldtr.selector, ldtr);
		check_eq("fs.selector", v->save.fs.selector, fs);
		check_eq("gs.selector", v->save.gs.selector, gs);
	}
	for (size_t off = 0; off < PAGE_SIZE; off++) {
		if (!moved_by_vmsave(off) && page[off] != 0xa5) {
			if (!stray++)
				first = off;
		}
	}
	check_msg(stray == 0, "only_its_fields",
		  "%zu bytes outside FS/GS/TR/LDTR/MSRs changed, the first at VMCB %#zx", stray, first);
}

/*
 * APM Vol. 3 VMLOAD: the MSRs read back what the VMCB held; FS and LDTR
 * selectors are loaded; a second VMSAVE returns the loaded hidden state
 * (bases, limits, attributes of FS, GS, TR, LDTR) unchanged.
 */
static void check_vmload(void)
{
	uint8_t *saved, *load, *back;
	uint64_t got[ARRAY_SIZE(msr_fields)];
	uint16_t fs, ldtr;
	struct vmcb *l;
	char name[40];

	if (!svm_require())
		return;
	saved = alloc_page();
	load = alloc_page();
	back = alloc_page();
	asm volatile("vmsave %%rax" : : "a"(saved) : "memory");
	memcpy(load, saved, PAGE_SIZE);
	l = (struct vmcb *)load;
	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++)
		memcpy(load + msr_fields[i].off, &msr_fields[i].value, sizeof(uint64_t));
	l->save.fs.selector = KERNEL_DS;
	l->save.fs.limit = 0x12345;
	l->save.fs.attrib = 0x093;
	l->save.gs.limit = 0xabcde;
	l->save.ldtr.selector = 0x50;
	l->save.ldtr.base = 0x7e0000;
	l->save.ldtr.limit = 0xff;
	l->save.ldtr.attrib = 0x082;

	asm volatile("vmload %%rax" : : "a"(load) : "memory");
	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++)
		got[i] = rdmsr(msr_fields[i].msr);
	asm volatile("mov %%fs, %0; sldt %1" : "=r"(fs), "=r"(ldtr));
	asm volatile("vmsave %%rax" : : "a"(back) : "memory");
	asm volatile("vmload %%rax" : : "a"(saved) : "memory");

	for (size_t i = 0; i < ARRAY_SIZE(msr_fields); i++) {
		snprintf(name, sizeof(name), "msr.%s", msr_fields[i].name);
		check_eq(name, got[i], msr_fields[i].value);
	}
	check_eq("fs.selector", fs, KERNEL_DS);
	check_eq("ldtr.selector", ldtr, 0x50);
	check_msg(!memcmp(back + offsetof(struct vmcb, save.fs), load + offsetof(struct vmcb, save.fs),
			  2 * sizeof(struct vmcb_seg)), "fs_gs.hidden",
		  "VMSAVE after VMLOAD: FS/GS differ (FS limit %#x attrib %#x, GS limit %#x)",
		  ((struct vmcb *)back)->save.fs.limit, ((struct vmcb *)back)->save.fs.attrib,
		  ((struct vmcb *)back)->save.gs.limit);
	check_msg(!memcmp(back + offsetof(struct vmcb, save.ldtr),
			  load + offsetof(struct vmcb, save.ldtr), sizeof(struct vmcb_seg)),
		  "ldtr.hidden", "VMSAVE after VMLOAD: LDTR base %#lx limit %#x attrib %#x",
		  ((struct vmcb *)back)->save.ldtr.base, ((struct vmcb *)back)->save.ldtr.limit,
		  ((struct vmcb *)back)->save.ldtr.attrib);
}

/* ---------------------------------------------------------------- LBR virtualization */

#define DEBUGCTL_LBR BIT(0)
#define DEBUGCTL_BTF BIT(1)

/*
 * APM Vol. 2 15.23.1: with LBR virtualization (VMCB 0B8h bit 0) VMRUN loads
 * DebugCtl, LastBranchFromIP/ToIP and LastIntFromIP/ToIP from the VMCB and
 * #VMEXIT saves them there (and reloads the host's).  So L2 reads the VMCB's
 * DBGCTL (dbgctl.loaded), a value L2 writes comes back in the VMCB
 * (dbgctl.saved), L2's taken JMP with DBGCTL.LBR = 1 shows in BR_FROM/BR_TO
 * (branch), and L1 has its own DebugCtl again (host_dbgctl).  L2 runs with
 * isolated exceptions: an RDMSR or WRMSR that faults ends in #VMEXIT(#NP).
 */
static void check_lbrv(void)
{
	uint64_t host_dbgctl = 0;
	struct fault f;
	struct vmcb *vmcb;
	uint64_t code;

	if (!svm_require())
		return;
	if (!svm_has(SVM_FEATURE_LBRV)) {
		skip("", "no %s", svm_feature_name(SVM_FEATURE_LBRV));
		return;
	}
	svm_vcpu_reset(vcpu, l2_misc_read_dbgctl);
	svm_isolate_exceptions(vcpu);
	vmcb = vcpu->vmcb;
	vmcb->control.virt_ext |= 1;
	vmcb->save.dbgctl = DEBUGCTL_LBR;
	vcpu->regs.r8 = ~0ull;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->regs.r8 == DEBUGCTL_LBR, "dbgctl.loaded",
		  "exit %s, L2's RDMSR DBGCTL read %#lx: expected VMMCALL and the VMCB's %#lx",
		  exit_str(code), vcpu->regs.r8, (uint64_t)DEBUGCTL_LBR);

	svm_vcpu_reset(vcpu, l2_misc_branch_write_dbgctl);
	svm_isolate_exceptions(vcpu);
	vmcb->control.virt_ext |= 1;
	vmcb->save.dbgctl = DEBUGCTL_LBR;
	vmcb->save.br_from = vmcb->save.br_to = 0;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vmcb->save.dbgctl == DEBUGCTL_BTF, "dbgctl.saved",
		  "exit %s, VMCB DBGCTL %#lx: expected VMMCALL and L2's last WRMSR value %#lx",
		  exit_str(code), vmcb->save.dbgctl, (uint64_t)DEBUGCTL_BTF);
	check_msg(vmcb->save.br_from == (uint64_t)l2_misc_jmp &&
		  vmcb->save.br_to == (uint64_t)l2_misc_jmp_target, "branch",
		  "exit %s, BR_FROM %#lx BR_TO %#lx: expected L2's JMP, %p to %p", exit_str(code),
		  vmcb->save.br_from, vmcb->save.br_to, l2_misc_jmp, l2_misc_jmp_target);

	/* L1's own DebugCtl is back after #VMEXIT; the MSR exists wherever LBR virtualization does. */
	f = rdmsr_checked(MSR_IA32_DEBUGCTL, &host_dbgctl);
	check_msg(!f.raised && !(host_dbgctl & (DEBUGCTL_LBR | DEBUGCTL_BTF)), "host_dbgctl",
		  "RDMSR DBGCTL (0x1d9) in L1: %s, value %#lx; expected L1's value, LBR and BTF clear",
		  f.raised ? "raised an exception" : "no exception", host_dbgctl);
}

/* ---------------------------------------------------------------- INVLPGA */

#define INVLPGA_OLD	((uint64_t)0x1111111111111111)
#define INVLPGA_NEW	((uint64_t)0x2222222222222222)
#define INVLPGA_GARBAGE	0xdeadbeef00000000ull	/* RAX[63:32] that 67h must ignore */

/*
 * APM Vol. 3 INVLPGA: invalidates the TLB mapping of the virtual address in rAX
 * for the ASID in ECX, where ASID 0 is the host's (APM Vol. 2 15.16.1).  L1
 * reads a page through a 4 KiB PTE (filling the TLB), points the PTE at
 * another page and executes INVLPGA for ASID 0: the next read must see the
 * other page (rax64).  With the address-size prefix 67h rAX is EAX, so RAX's
 * upper half holds garbage (addr32).  Whether a read before INVLPGA still sees
 * the old page is the TLB's business, so that is only reported.
 */
static void check_invlpga(void)
{
	static const char *const names[] = { "rax64", "addr32" };
	uint64_t *page, *other, *pte, old_pte;

	if (!svm_require())
		return;
	page = alloc_page();
	other = alloc_page();
	if ((uint64_t)page >> 32) {
		skip("", "the test page lies above 4 GiB: EAX cannot address it");
		return;
	}
	*page = INVLPGA_OLD;
	*other = INVLPGA_NEW;
	pte = pt_entry(paging_current(), (uint64_t)page, 1);
	old_pte = *pte;
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		uint64_t before, after;

		invlpg(page);
		before = *(volatile uint64_t *)page;	/* the TLB now maps page to itself */
		*pte = (old_pte & ~PTE_ADDR_MASK) | (uint64_t)other;
		info("%s: before INVLPGA the remapped page reads %#lx (%s)", names[i],
		     *(volatile uint64_t *)page,
		     *(volatile uint64_t *)page == INVLPGA_OLD ? "the TLB kept the old mapping" :
		     "the TLB had dropped it");
		if (i == 0)
			asm volatile("invlpga %%rax, %%ecx" : : "a"(page), "c"(0) : "memory");
		else
			asm volatile("invlpga %%eax, %%ecx"
				     : : "a"((uint64_t)page | INVLPGA_GARBAGE), "c"(0) : "memory");
		after = *(volatile uint64_t *)page;
		*pte = old_pte;
		invlpg(page);
		check_msg(before == INVLPGA_OLD && after == INVLPGA_NEW, names[i],
			  "read %#lx before remapping, %#lx after INVLPGA of ASID 0: expected %#lx, "
			  "then the new page's %#lx", before, after, INVLPGA_OLD, INVLPGA_NEW);
	}
}

/* ---------------------------------------------------------------- host DR7 at #VMEXIT */

#define DR7_ENABLES	0xffull		/* L0-L3, G0-G3 */
#define DR7_L0		BIT(0)		/* with R/W0 = LEN0 = 0: an instruction breakpoint at DR0 */
#define DR7_FIXED	0x400ull	/* bit 10 reads as 1 */

/*
 * APM Vol. 2 15.6: among what #VMEXIT does besides reloading the host's state,
 * it "disables all breakpoints in the host DR7".  L1 enters with an instruction
 * breakpoint enabled (L0 at DR0 = 0, never executed); after #VMEXIT L1's DR7
 * must have every enable bit (7:0) clear.  L2's own DR7 comes from the VMCB.
 */
static void check_host_dr7(void)
{
	uint64_t code, dr7;

	if (!svm_require())
		return;
	svm_vcpu_reset(vcpu, l2_misc_rdtsc);
	write_dr0(0);
	write_dr7(DR7_FIXED | DR7_L0);
	code = svm_run(vcpu);
	dr7 = read_dr7();
	write_dr7(DR7_FIXED);
	if (code != SVM_EXIT_VMMCALL) {
		test_error("", "exit %s, expected VMMCALL", exit_str(code));
		return;
	}
	check_msg(!(dr7 & DR7_ENABLES), "", "L1's DR7 %#lx after #VMEXIT (%#lx at VMRUN): "
		  "expected the breakpoint enables 7:0 clear", dr7, (uint64_t)(DR7_FIXED | DR7_L0));
}

/* ---------------------------------------------------------------- VM_CR.SVMDIS */

/*
 * APM Vol. 2 15.30.1: while VM_CR.LOCK (bit 3) is clear, VM_CR.SVMDIS (bit 4)
 * can be written; while SVMDIS is set, writes to EFER treat SVME as MBZ
 * (#GP(0)); and setting SVMDIS while EFER.SVME is 1 raises #GP(0) whatever
 * LOCK holds.  So, with SVME = 1: WRMSR VM_CR with SVMDIS faults and leaves it
 * clear (svmdis_with_svme).  With SVME cleared (nothing runs SVM meanwhile):
 * setting SVME works while SVMDIS is clear (svme_writable, the positive case),
 * SVMDIS can be set and reads back (svmdis.set), EFER with SVME then raises
 * #GP(0) and SVME stays clear (svme_mbz), and after clearing SVMDIS
 * (svmdis.clear) SVME can be set again (svme_writable_again).  L1's VM_CR and
 * EFER are restored at the end (SVME clear while VM_CR is written).
 */
static void check_vm_cr_svmdis(void)
{
	uint64_t vm_cr = 0, efer = rdmsr(MSR_EFER), v = 0, svmdis, efer_on, efer_off;
	struct fault f;
	char buf[64];

	if (!svm_require())
		return;
	f = rdmsr_checked(MSR_VM_CR, &vm_cr);
	if (!check_msg(!f.raised, "rdmsr", "RDMSR VM_CR (C001_0114h): %s; it exists wherever "
		       "SVM does", fault_str(&f, buf, sizeof(buf))))
		return;
	if (vm_cr & VM_CR_LOCK) {
		skip("", "VM_CR.LOCK (bit 3) is set: SVMDIS cannot be written (VM_CR %#lx)", vm_cr);
		return;
	}

	svmdis = vm_cr | VM_CR_SVMDIS;
	efer_on = efer | EFER_SVME;
	efer_off = efer & ~EFER_SVME;
	f = wrmsr_checked(MSR_VM_CR, svmdis);
	rdmsr_checked(MSR_VM_CR, &v);
	check_msg(fault_is(&f, X86_VEC_GP, 0) && !(v & VM_CR_SVMDIS), "svmdis_with_svme",
		  "WRMSR VM_CR %#lx with EFER.SVME = 1: %s, VM_CR then %#lx; expected #GP(0), "
		  "SVMDIS clear", svmdis, fault_str(&f, buf, sizeof(buf)), v);

	/* SVME off first: a VM_CR that took SVMDIS above can then be cleared. */
	wrmsr(MSR_EFER, efer_off);
	wrmsr_checked(MSR_VM_CR, vm_cr);
	f = wrmsr_checked(MSR_EFER, efer_on);
	v = rdmsr(MSR_EFER);
	check_msg(!f.raised && (v & EFER_SVME), "svme_writable",
		  "WRMSR EFER %#lx with SVMDIS clear: %s, EFER then %#lx; expected SVME set",
		  efer_on, fault_str(&f, buf, sizeof(buf)), v);
	wrmsr(MSR_EFER, efer_off);

	f = wrmsr_checked(MSR_VM_CR, svmdis);
	v = 0;
	rdmsr_checked(MSR_VM_CR, &v);
	if (!check_msg(!f.raised && (v & VM_CR_SVMDIS), "svmdis.set",
		       "WRMSR VM_CR %#lx with LOCK and EFER.SVME clear: %s, VM_CR then %#lx; "
		       "expected SVMDIS set", svmdis,
		       fault_str(&f, buf, sizeof(buf)), v))
		goto restore;

	f = wrmsr_checked(MSR_EFER, efer_on);
	v = rdmsr(MSR_EFER);
	check_msg(fault_is(&f, X86_VEC_GP, 0) && !(v & EFER_SVME), "svme_mbz",
		  "WRMSR EFER %#lx with VM_CR.SVMDIS set: %s, EFER then %#lx; expected #GP(0), "
		  "SVME clear", efer_on, fault_str(&f, buf, sizeof(buf)), v);
	wrmsr(MSR_EFER, efer_off);

	f = wrmsr_checked(MSR_VM_CR, vm_cr);
	rdmsr_checked(MSR_VM_CR, &v);
	if (!check_msg(!f.raised && !(v & VM_CR_SVMDIS), "svmdis.clear",
		       "WRMSR VM_CR %#lx: %s, VM_CR then %#lx; expected SVMDIS clear", vm_cr,
		       fault_str(&f, buf, sizeof(buf)), v))
		goto restore;
	f = wrmsr_checked(MSR_EFER, efer_on);
	v = rdmsr(MSR_EFER);
	check_msg(!f.raised && (v & EFER_SVME), "svme_writable_again",
		  "WRMSR EFER %#lx after clearing SVMDIS: %s, EFER then %#lx; expected SVME set",
		  efer_on, fault_str(&f, buf, sizeof(buf)), v);
restore:
	wrmsr_checked(MSR_EFER, efer_off);
	wrmsr_checked(MSR_VM_CR, vm_cr);
	f = wrmsr_checked(MSR_EFER, efer);
	if (f.raised || rdmsr(MSR_EFER) != efer)
		test_error("restore", "could not restore EFER %#lx (%s): SVM stays off",
			   efer, fault_str(&f, buf, sizeof(buf)));
}

static const struct check_entry checks[] = {
	{ "nrip", check_nrip },
	{ "tsc_offset", check_tsc_offset },
	{ "tsc_ratio", check_tsc_ratio },
	{ "vmsave", check_vmsave },
	{ "vmload", check_vmload },
	{ "lbrv", check_lbrv },
	{ "host_dr7", check_host_dr7 },
	{ "invlpga", check_invlpga },
	{ "vm_cr_svmdis", check_vm_cr_svmdis },
};

DEFINE_TEST("svm_misc", checks, .setup = setup);
