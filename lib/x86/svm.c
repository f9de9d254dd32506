/* SVM setup and the VMRUN loop (AMD APM Vol. 2 chapter 15). */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "report.h"
#include "smp.h"
#include "svm.h"

_Static_assert(offsetof(struct vmcb_control, intercepts) == 0x00c, "VMCB layout");
_Static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x040, "VMCB layout");
_Static_assert(offsetof(struct vmcb_control, int_ctl) == 0x060, "VMCB layout");
_Static_assert(offsetof(struct vmcb_control, event_inj) == 0x0a8, "VMCB layout");
_Static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8, "VMCB layout");
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.cpl) == 0x4cb, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.efer) == 0x4d0, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.cr4) == 0x548, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.rip) == 0x578, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.rsp) == 0x5d8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.cr2) == 0x640, "VMCB layout");
_Static_assert(offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB layout");
_Static_assert(offsetof(struct svm_gprs, rdi) == 32 && offsetof(struct svm_gprs, r15) == 104,
	       "svm_entry.S uses these offsets");

void svm_vmrun(struct svm_gprs *gprs, uint64_t vmcb_pa, uint64_t host_area_pa);

/* Per CPU: the area svm_vmrun() saves the host's VMSAVE state to (smp.h). */
static void *host_areas[SMP_MAX_CPUS];
#define host_area (host_areas[this_cpu_id()])

bool svm_supported(const char **why_not)
{
	uint64_t vm_cr;

	if (!cpu_has(X86_FEATURE_SVM)) {
		*why_not = "no SVM (CPUID 8000_0001h ECX[2])";
		return false;
	}
	/*
	 * VM_CR exists wherever SVM does (APM Vol. 2 15.30.1); a hypervisor that
	 * faults on it cannot have set SVMDIS, so a fault reads as "enabled".
	 */
	if (!rdmsr_checked(MSR_VM_CR, &vm_cr).raised && (vm_cr & VM_CR_SVMDIS)) {
		*why_not = "SVM disabled by VM_CR.SVMDIS";
		return false;
	}
	return true;
}

bool svm_has(enum svm_feature feature)
{
	if (cpuid_max(0x80000000) < 0x8000000a)
		return false;
	return cpuid(0x8000000a).d & (1u << feature);
}

const char *svm_feature_name(enum svm_feature feature)
{
	switch (feature) {
	case SVM_FEATURE_NPT: return "nested paging (CPUID 8000_000Ah EDX[0])";
	case SVM_FEATURE_LBRV: return "LBR virtualization (CPUID 8000_000Ah EDX[1])";
	case SVM_FEATURE_SVML: return "SVM lock (CPUID 8000_000Ah EDX[2])";
	case SVM_FEATURE_NRIPS: return "NRIP save (CPUID 8000_000Ah EDX[3])";
	case SVM_FEATURE_TSC_RATE: return "TSC rate control (CPUID 8000_000Ah EDX[4])";
	case SVM_FEATURE_VMCB_CLEAN: return "VMCB clean bits (CPUID 8000_000Ah EDX[5])";
	case SVM_FEATURE_FLUSH_BY_ASID: return "flush by ASID (CPUID 8000_000Ah EDX[6])";
	case SVM_FEATURE_DECODE_ASSISTS: return "decode assists (CPUID 8000_000Ah EDX[7])";
	case SVM_FEATURE_PAUSE_FILTER: return "pause filter (CPUID 8000_000Ah EDX[10])";
	case SVM_FEATURE_PAUSE_THRESHOLD: return "pause filter threshold (CPUID 8000_000Ah EDX[12])";
	case SVM_FEATURE_AVIC: return "AVIC (CPUID 8000_000Ah EDX[13])";
	case SVM_FEATURE_VLS: return "virtual VMLOAD/VMSAVE (CPUID 8000_000Ah EDX[15])";
	case SVM_FEATURE_VGIF: return "virtual GIF (CPUID 8000_000Ah EDX[16])";
	}
	return "an SVM feature";
}

uint32_t svm_asid_count(void)
{
	return cpuid_max(0x80000000) < 0x8000000a ? 0 : cpuid(0x8000000a).b;
}

void svm_enable(void)
{
	const char *why_not;

	if (!svm_supported(&why_not))
		report_abort("svm_enable: %s", why_not);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)alloc_page());
	if (!host_area)
		host_area = alloc_page();
}

static const char *svm_unusable = "svm_test_setup() was not called";

struct svm_vcpu *svm_test_setup(void)
{
	if (!svm_supported(&svm_unusable))
		return NULL;
	svm_enable();
	svm_unusable = NULL;
	return svm_vcpu_create();
}

bool svm_require(void)
{
	if (svm_unusable)
		skip("", "%s", svm_unusable);
	return !svm_unusable;
}

/* Attributes of a GDT descriptor in the VMCB's packed form (APM Vol. 2 15.5.1). */
static uint16_t segment_attrib(uint16_t selector)
{
	uint64_t d = gdt64[selector / 8];

	return ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8);
}

static void set_flat_segment(struct vmcb_seg *seg, uint16_t selector)
{
	seg->selector = selector;
	seg->attrib = segment_attrib(selector);
	seg->limit = 0xffffffff;
	seg->base = 0;
}

void svm_vcpu_reset(struct svm_vcpu *vcpu, void *rip)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr, idtr;
	uint64_t iopm = vmcb->control.iopm_base_pa, msrpm = vmcb->control.msrpm_base_pa;

	memset(vmcb, 0, sizeof(*vmcb));
	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	/* FS, GS, TR, LDTR and the SYSCALL/SYSENTER MSRs: the test's own. */
	asm volatile("vmsave %0" : : "a"(vmcb) : "memory");

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	set_flat_segment(&vmcb->save.cs, KERNEL_CS64);
	set_flat_segment(&vmcb->save.ss, KERNEL_DS);
	set_flat_segment(&vmcb->save.ds, KERNEL_DS);
	set_flat_segment(&vmcb->save.es, KERNEL_DS);
	vmcb->save.gdtr.base = gdtr.base;
	vmcb->save.gdtr.limit = gdtr.limit;
	vmcb->save.idtr.base = idtr.base;
	vmcb->save.idtr.limit = idtr.limit;
	vmcb->save.cpl = 0;
	vmcb->save.efer = rdmsr(MSR_EFER);
	vmcb->save.cr0 = read_cr0();
	vmcb->save.cr3 = read_cr3();
	vmcb->save.cr4 = read_cr4();
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	vmcb->save.rflags = X86_EFLAGS_FIXED;
	vmcb->save.rip = (uint64_t)rip;
	vmcb->save.rsp = (uint64_t)vcpu->stack + PAGE_SIZE;
	vmcb->save.g_pat = rdmsr(MSR_IA32_PAT);

	/* VMRUN must be intercepted (APM Vol. 2 15.5.1); VMMCALL ends L2 code. */
	vmcb->control.intercepts = BIT(SVM_INTERCEPT_VMRUN) | BIT(SVM_INTERCEPT_VMMCALL);
	vmcb->control.asid = 1;
	vmcb->control.iopm_base_pa = iopm;
	vmcb->control.msrpm_base_pa = msrpm;
}

void svm_vcpu_set_pm32(struct svm_vcpu *vcpu)
{
	struct vmcb_save *s = &vcpu->vmcb->save;

	set_flat_segment(&s->cs, KERNEL_CS32);
	set_flat_segment(&s->ss, KERNEL_DS);
	set_flat_segment(&s->ds, KERNEL_DS);
	set_flat_segment(&s->es, KERNEL_DS);
	s->efer &= ~(EFER_LME | EFER_LMA);
	s->cr0 &= ~X86_CR0_PG;
	s->cr4 &= ~(X86_CR4_PAE | X86_CR4_PCIDE);
}

struct svm_vcpu *svm_vcpu_create(void)
{
	static struct svm_vcpu vcpus[MAX(4, SMP_MAX_CPUS)];
	static unsigned count;
	struct svm_vcpu *vcpu;

	if (count == ARRAY_SIZE(vcpus))
		report_abort("svm_vcpu_create: more than %zu vCPUs", ARRAY_SIZE(vcpus));
	vcpu = &vcpus[count++];
	vcpu->vmcb = alloc_page();
	vcpu->stack = alloc_page();
	/* Empty permission maps: no I/O port and no MSR is intercepted until a check says so. */
	vcpu->vmcb->control.iopm_base_pa = (uint64_t)alloc_pages(3, PAGE_SIZE);
	vcpu->vmcb->control.msrpm_base_pa = (uint64_t)alloc_pages(2, PAGE_SIZE);
	svm_vcpu_reset(vcpu, NULL);
	return vcpu;
}

/* A 64-bit TSS (APM Vol. 2 12.2.5): RSP0 at offset 4; the I/O map base past its limit. */
#define TSS64_RSP0	4
#define TSS64_IOMAP	0x66
#define TSS64_LIMIT	0x67
#define TSS_TYPE_BUSY64	0x8b	/* present, DPL 0, busy 64-bit TSS */

void svm_vcpu_set_user_mode(struct svm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;

	if (!vcpu->user_cr3) {
		uint8_t *tss = alloc_page();
		uint8_t *kernel_stack = alloc_page();
		uint64_t rsp0 = (uint64_t)kernel_stack + PAGE_SIZE;

		memcpy(tss + TSS64_RSP0, &rsp0, sizeof(rsp0));
		*(uint16_t *)(tss + TSS64_IOMAP) = TSS64_LIMIT + 1;
		vcpu->user_tss = tss;
		vcpu->user_cr3 = (uint64_t)pt_copy(paging_current(), PTE_U).root;
	}
	set_flat_segment(&vmcb->save.cs, USER_CS64);
	set_flat_segment(&vmcb->save.ss, USER_DS);
	set_flat_segment(&vmcb->save.ds, USER_DS);
	set_flat_segment(&vmcb->save.es, USER_DS);
	vmcb->save.cpl = 3;
	vmcb->save.cr3 = vcpu->user_cr3;
	vmcb->save.cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP);
	vmcb->save.tr.selector = TSS_SELECTOR;
	vmcb->save.tr.attrib = TSS_TYPE_BUSY64;
	vmcb->save.tr.limit = TSS64_LIMIT;
	vmcb->save.tr.base = (uint64_t)vcpu->user_tss;
	vmcb->control.tlb_control = 1;	/* L2's TLB may hold the supervisor view */
}

void svm_intercept(struct svm_vcpu *vcpu, enum svm_intercept which, bool on)
{
	if (on)
		vcpu->vmcb->control.intercepts |= BIT(which);
	else
		vcpu->vmcb->control.intercepts &= ~BIT(which);
}

void svm_intercept_exception(struct svm_vcpu *vcpu, unsigned vector, bool on)
{
	if (on)
		vcpu->vmcb->control.intercept_exceptions |= 1u << vector;
	else
		vcpu->vmcb->control.intercept_exceptions &= ~(1u << vector);
}

void svm_isolate_exceptions(struct svm_vcpu *vcpu)
{
	static uint64_t *empty_idt;

	if (!empty_idt) {
		/*
		 * 256 64-bit interrupt gates (type 0xE) with P clear: a gate of
		 * another type would raise #GP before the present check (APM Vol. 2
		 * 8.9.1), so the type is valid and only P is missing.
		 */
		empty_idt = alloc_page();
		for (unsigned v = 0; v < 256; v++)
			empty_idt[2 * v] = (0xeull << 40) | ((uint64_t)KERNEL_CS64 << 16);
	}
	vcpu->vmcb->save.idtr.base = (uint64_t)empty_idt;
	vcpu->vmcb->save.idtr.limit = PAGE_SIZE - 1;
	svm_intercept_exception(vcpu, 11, true);	/* #NP */
	svm_intercept(vcpu, SVM_INTERCEPT_SHUTDOWN, true);
}

#define SVM_IOPM_SIZE	(3 * PAGE_SIZE)
#define SVM_MSRPM_SIZE	(2 * PAGE_SIZE)

void svm_iopm_clear(struct svm_vcpu *vcpu)
{
	memset((void *)vcpu->vmcb->control.iopm_base_pa, 0, SVM_IOPM_SIZE);
}

void svm_iopm_set(struct svm_vcpu *vcpu, uint32_t port, bool on)
{
	uint8_t *map = (uint8_t *)vcpu->vmcb->control.iopm_base_pa;

	if (port / 8 >= SVM_IOPM_SIZE)
		report_abort("svm_iopm_set: port %#x beyond the map", port);
	if (on)
		map[port / 8] |= 1u << (port % 8);
	else
		map[port / 8] &= ~(1u << (port % 8));
}

void svm_msrpm_clear(struct svm_vcpu *vcpu)
{
	memset((void *)vcpu->vmcb->control.msrpm_base_pa, 0, SVM_MSRPM_SIZE);
}

bool svm_msrpm_set(struct svm_vcpu *vcpu, uint32_t msr, bool read, bool write)
{
	static const struct { uint32_t first; uint32_t offset; } ranges[] = {
		{ 0x00000000, 0x0000 }, { 0xc0000000, 0x0800 }, { 0xc0010000, 0x1000 },
	};
	uint8_t *map = (uint8_t *)vcpu->vmcb->control.msrpm_base_pa;

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		uint32_t bit;

		if (msr - ranges[i].first >= 0x2000)
			continue;
		bit = ranges[i].offset * 8 + (msr - ranges[i].first) * 2;
		map[bit / 8] &= ~(3u << (bit % 8));
		map[bit / 8] |= ((read ? 1u : 0) | (write ? 2u : 0)) << (bit % 8);
		return true;
	}
	return false;
}

uint64_t svm_run(struct svm_vcpu *vcpu)
{
	if (!host_area)
		report_abort("svm_run before svm_enable");
	svm_vmrun(&vcpu->regs, (uint64_t)vcpu->vmcb, (uint64_t)host_area);
	return vcpu->vmcb->control.exit_code;
}

const char *svm_exit_name(uint64_t code)
{
	static const char *const names[] = {
		[SVM_EXIT_INTR] = "INTR", [SVM_EXIT_NMI] = "NMI", [SVM_EXIT_SMI] = "SMI",
		[SVM_EXIT_INIT] = "INIT", [SVM_EXIT_VINTR] = "VINTR",
		[SVM_EXIT_CR0_SEL_WRITE] = "CR0_SEL_WRITE", [SVM_EXIT_IDTR_READ] = "IDTR_READ",
		[SVM_EXIT_GDTR_READ] = "GDTR_READ", [SVM_EXIT_LDTR_READ] = "LDTR_READ",
		[SVM_EXIT_TR_READ] = "TR_READ", [SVM_EXIT_IDTR_WRITE] = "IDTR_WRITE",
		[SVM_EXIT_GDTR_WRITE] = "GDTR_WRITE", [SVM_EXIT_LDTR_WRITE] = "LDTR_WRITE",
		[SVM_EXIT_TR_WRITE] = "TR_WRITE", [SVM_EXIT_RDTSC] = "RDTSC",
		[SVM_EXIT_RDPMC] = "RDPMC", [SVM_EXIT_PUSHF] = "PUSHF", [SVM_EXIT_POPF] = "POPF",
		[SVM_EXIT_CPUID] = "CPUID", [SVM_EXIT_RSM] = "RSM", [SVM_EXIT_IRET] = "IRET",
		[SVM_EXIT_SWINT] = "SWINT", [SVM_EXIT_INVD] = "INVD", [SVM_EXIT_PAUSE] = "PAUSE",
		[SVM_EXIT_HLT] = "HLT", [SVM_EXIT_INVLPG] = "INVLPG", [SVM_EXIT_INVLPGA] = "INVLPGA",
		[SVM_EXIT_IOIO] = "IOIO", [SVM_EXIT_MSR] = "MSR",
		[SVM_EXIT_TASK_SWITCH] = "TASK_SWITCH", [SVM_EXIT_FERR_FREEZE] = "FERR_FREEZE",
		[SVM_EXIT_SHUTDOWN] = "SHUTDOWN", [SVM_EXIT_VMRUN] = "VMRUN",
		[SVM_EXIT_VMMCALL] = "VMMCALL", [SVM_EXIT_VMLOAD] = "VMLOAD",
		[SVM_EXIT_VMSAVE] = "VMSAVE", [SVM_EXIT_STGI] = "STGI", [SVM_EXIT_CLGI] = "CLGI",
		[SVM_EXIT_SKINIT] = "SKINIT", [SVM_EXIT_RDTSCP] = "RDTSCP", [SVM_EXIT_ICEBP] = "ICEBP",
		[SVM_EXIT_WBINVD] = "WBINVD", [SVM_EXIT_MONITOR] = "MONITOR",
		[SVM_EXIT_MWAIT] = "MWAIT", [SVM_EXIT_MWAIT_ARMED] = "MWAIT_ARMED",
		[SVM_EXIT_XSETBV] = "XSETBV", [SVM_EXIT_RDPRU] = "RDPRU",
	};

	if (code == SVM_EXIT_INVALID)
		return "INVALID";
	if (code == SVM_EXIT_NPF)
		return "NPF";
	if (code < 0x10)
		return "READ_CR";
	if (code < 0x20)
		return "WRITE_CR";
	if (code < 0x30)
		return "READ_DR";
	if (code < 0x40)
		return "WRITE_DR";
	if (code < 0x60)
		return "EXCEPTION";
	if (code < ARRAY_SIZE(names) && names[code])
		return names[code];
	return NULL;
}
