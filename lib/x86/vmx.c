/* VMX setup, VMCS access and the VM entry loop (see vmx.h; SDM Vol. 3C chapters 24-31). */
#include "alloc.h"
#include "desc.h"
#include "ept.h"
#include "fault.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "report.h"
#include "smp.h"
#include "vmx.h"

_Static_assert(offsetof(struct vmx_gprs, rdi) == 40 && offsetof(struct vmx_gprs, rbp) == 48 &&
	       offsetof(struct vmx_gprs, r15) == 112, "vmx_entry.S uses these offsets");

uint64_t vmx_enter(struct vmx_gprs *gprs, int resume);
extern char vmx_exit_point[];

/* Per CPU (smp.h): each has its own VMXON region and VMX operation. */
static void *vmxon_regions[SMP_MAX_CPUS];
static bool vmx_operation[SMP_MAX_CPUS];
#define vmxon_region (vmxon_regions[this_cpu_id()])
#define in_vmx_operation (vmx_operation[this_cpu_id()])

/* ------------------------------------------------------------ instructions */

static uint32_t raw_vm_instruction_error(void)
{
	uint64_t v = 0, field = VMCS_VM_INSTRUCTION_ERROR;
	uint64_t fl;

	fault_clear();
	asm volatile(FAULT_TRY("vmread %[f], %[v]") "pushfq; popq %[fl]"
		     : [v] "+r"(v), [fl] "=r"(fl) : [f] "r"(field) : "cc", "memory");
	if (fault_take().raised || (fl & (X86_EFLAGS_CF | X86_EFLAGS_ZF)))
		return 0;
	return v;
}

/* The outcome from RFLAGS after the instruction (SDM Vol. 3C 31.2). */
struct vmx_result vmx_result_from(uint64_t rflags, struct fault f)
{
	struct vmx_result r = { .outcome = VMX_SUCCEED };

	if (f.raised) {
		r.outcome = VMX_FAULT;
		r.fault = f;
	} else if (rflags & X86_EFLAGS_CF) {
		r.outcome = VMX_FAIL_INVALID;
	} else if (rflags & X86_EFLAGS_ZF) {
		r.outcome = VMX_FAIL_VALID;
		r.error = raw_vm_instruction_error();
	}
	return r;
}

#define VMX_INSN(insn, ...)                                                    \
	({                                                                     \
		uint64_t fl_ = 0;                                              \
		fault_clear();                                                 \
		asm volatile(FAULT_TRY(insn) "pushfq; popq %[fl]"              \
			     : [fl] "+r"(fl_) __VA_ARGS__);                     \
		vmx_result_from(fl_, fault_take());                            \
	})

struct vmx_result vmxon_checked(uint64_t pa)
{
	return VMX_INSN("vmxon %[pa]", : [pa] "m"(pa) : "cc", "memory");
}

struct vmx_result vmxoff_checked(void)
{
	return VMX_INSN("vmxoff", : : "cc", "memory");
}

struct vmx_result vmclear_checked(uint64_t pa)
{
	return VMX_INSN("vmclear %[pa]", : [pa] "m"(pa) : "cc", "memory");
}

struct vmx_result vmptrld_checked(uint64_t pa)
{
	return VMX_INSN("vmptrld %[pa]", : [pa] "m"(pa) : "cc", "memory");
}

struct vmx_result vmptrst_checked(uint64_t *pa)
{
	uint64_t v = 0;
	struct vmx_result r = VMX_INSN("vmptrst %[v]", , [v] "+m"(v) : : "cc", "memory");

	*pa = v;
	return r;
}

struct vmx_result vmread_checked(uint64_t field, uint64_t *value)
{
	uint64_t v = 0;
	struct vmx_result r = VMX_INSN("vmread %[f], %[v]", , [v] "+r"(v) : [f] "r"(field)
				       : "cc", "memory");

	*value = v;
	return r;
}

struct vmx_result vmwrite_checked(uint64_t field, uint64_t value)
{
	return VMX_INSN("vmwrite %[v], %[f]", : [f] "r"(field), [v] "r"(value) : "cc", "memory");
}

struct vmx_result vmread_mem_checked(uint64_t field, uint64_t *value)
{
	return VMX_INSN("vmread %[f], %[v]", , [v] "+m"(*value) : [f] "r"(field) : "cc", "memory");
}

struct vmx_result vmwrite_mem_checked(uint64_t field, const uint64_t *value)
{
	return VMX_INSN("vmwrite %[v], %[f]", : [f] "r"(field), [v] "m"(*value) : "cc", "memory");
}

struct vmx_result vmcall_checked(void)
{
	return VMX_INSN("vmcall", : : "cc", "memory");
}

struct vmx_result vmlaunch_checked(void)
{
	return VMX_INSN("vmlaunch", : : "cc", "memory");
}

struct vmx_result vmresume_checked(void)
{
	return VMX_INSN("vmresume", : : "cc", "memory");
}

struct vmx_result invept_checked(uint64_t type, uint64_t lo, uint64_t hi)
{
	uint64_t desc[2] = { lo, hi };

	return VMX_INSN("invept %[d], %[t]", : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
}

struct vmx_result invvpid_checked(uint64_t type, uint64_t lo, uint64_t hi)
{
	uint64_t desc[2] = { lo, hi };

	return VMX_INSN("invvpid %[d], %[t]", : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
}

const char *vmx_result_str(const struct vmx_result *r, char *buf, size_t size)
{
	switch (r->outcome) {
	case VMX_SUCCEED:
		return "VMsucceed";
	case VMX_FAIL_INVALID:
		return "VMfailInvalid";
	case VMX_FAIL_VALID: {
		const char *n = vmx_insn_error_name(r->error);

		snprintf(buf, size, "VMfailValid(%u: %s)", r->error, n ? n : "?");
		return buf;
	}
	case VMX_FAULT:
		return fault_str(&r->fault, buf, size);
	}
	return "?";
}

/* ------------------------------------------------------------ capabilities */

bool vmx_supported(const char **why_not)
{
	uint64_t fc;

	if (!cpu_has(X86_FEATURE_VMX)) {
		*why_not = "no VMX (CPUID.1:ECX[5])";
		return false;
	}
	if (rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc).raised) {
		*why_not = "IA32_FEATURE_CONTROL not readable";
		return false;
	}
	if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		*why_not = "VMX outside SMX disabled and locked by IA32_FEATURE_CONTROL";
		return false;
	}
	return true;
}

static const uint32_t ctls_msrs[VMX_CTLS_COUNT][2] = {
	[VMX_CTLS_PIN] = { MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS },
	[VMX_CTLS_PROC] = { MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS },
	[VMX_CTLS_PROC2] = { MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_PROCBASED_CTLS2 },
	[VMX_CTLS_EXIT] = { MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS },
	[VMX_CTLS_ENTRY] = { MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS },
};

uint32_t vmx_ctls_msr(enum vmx_ctls which)
{
	return ctls_msrs[which][!!(rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS)];
}

struct vmx_allowed vmx_ctls_allowed(enum vmx_ctls which)
{
	uint64_t v;

	/* PROCBASED_CTLS2 exists only when PROC[31] may be 1 (A.3.3). */
	if (which == VMX_CTLS_PROC2 && !vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY))
		return (struct vmx_allowed){ 0, 0 };
	v = rdmsr(vmx_ctls_msr(which));
	return (struct vmx_allowed){ (uint32_t)v, (uint32_t)(v >> 32) };
}

uint32_t vmx_ctls_adjust(enum vmx_ctls which, uint32_t want)
{
	struct vmx_allowed a = vmx_ctls_allowed(which);

	return (want | a.must_be_1) & a.may_be_1;
}

bool vmx_ctls_supported(enum vmx_ctls which, uint32_t bits)
{
	return (vmx_ctls_allowed(which).may_be_1 & bits) == bits;
}

uint32_t vmx_ctls_field(enum vmx_ctls which)
{
	static const uint32_t fields[VMX_CTLS_COUNT] = {
		VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, VMCS_PROC_CONTROLS2,
		VMCS_EXIT_CONTROLS, VMCS_ENTRY_CONTROLS,
	};

	return fields[which];
}

bool vmx_cap_has(struct vmx_cap cap)
{
	switch (cap.msr) {
	case VMX_CAP_NONE:
		return false;
	case VMX_CAP_ALWAYS:
		return true;
	case VMX_CAP_PIN:
	case VMX_CAP_PROC:
	case VMX_CAP_PROC2:
	case VMX_CAP_EXIT:
	case VMX_CAP_ENTRY:
		return vmx_ctls_supported(cap.msr - VMX_CAP_PIN, 1u << cap.bit);
	case VMX_CAP_VMFUNC:
		return vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_VMFUNC) &&
		       (rdmsr(MSR_IA32_VMX_VMFUNC) & BIT(cap.bit));
	case VMX_CAP_BASIC:
		return rdmsr(MSR_IA32_VMX_BASIC) & BIT(cap.bit);
	case VMX_CAP_MISC:
		return rdmsr(MSR_IA32_VMX_MISC) & BIT(cap.bit);
	case VMX_CAP_EPT_VPID:
		return vmx_ctls_supported(VMX_CTLS_PROC2, 0) &&
		       vmx_ctls_allowed(VMX_CTLS_PROC2).may_be_1 & (VMX_PROC2_EPT | VMX_PROC2_VPID) &&
		       (rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & BIT(cap.bit));
	}
	return false;
}

const char *vmx_cap_str(struct vmx_cap cap, char *buf, size_t size)
{
	static const char *const names[] = {
		[VMX_CAP_PIN] = "PINBASED_CTLS", [VMX_CAP_PROC] = "PROCBASED_CTLS",
		[VMX_CAP_PROC2] = "PROCBASED_CTLS2", [VMX_CAP_EXIT] = "EXIT_CTLS",
		[VMX_CAP_ENTRY] = "ENTRY_CTLS", [VMX_CAP_VMFUNC] = "VMFUNC",
		[VMX_CAP_BASIC] = "BASIC", [VMX_CAP_MISC] = "MISC",
		[VMX_CAP_EPT_VPID] = "EPT_VPID_CAP",
	};
	/* Control words: the allowed-1 half, bits 63:32 (A.3-A.5). */
	unsigned bit = cap.bit + (cap.msr >= VMX_CAP_PIN && cap.msr <= VMX_CAP_ENTRY ? 32 : 0);

	if (cap.msr < VMX_CAP_PIN || cap.msr >= ARRAY_SIZE(names))
		return cap.msr == VMX_CAP_ALWAYS ? "VMX" : "nothing";
	snprintf(buf, size, "IA32_VMX_%s[%u]", names[cap.msr], bit);
	return buf;
}

/* ------------------------------------------------------------ VMX operation */

uint32_t vmx_revision(void)
{
	return rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_REVISION_MASK;
}

uint32_t vmx_region_size(void)
{
	return (rdmsr(MSR_IA32_VMX_BASIC) >> VMX_BASIC_SIZE_SHIFT) & 0x1fff;
}

unsigned vmx_maxphyaddr(void)
{
	return cpu_physical_address_bits();
}

void *vmx_region_alloc(void)
{
	uint32_t *region;

	/* At most 4 KiB (A.1); alloc_page() gives a zeroed, 4 KiB-aligned, WB page. */
	if (vmx_region_size() > PAGE_SIZE)
		report_abort("IA32_VMX_BASIC region size %u above 4096", vmx_region_size());
	region = alloc_page();
	region[0] = vmx_revision();
	return region;
}

bool vmx_feature_control_setup(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCK)
		return fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	return true;
}

void vmx_apply_fixed_bits(void)
{
	/* SDM Vol. 3C 24.8, "Restrictions on VMX Operation"; A.7, A.8. */
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | rdmsr(MSR_IA32_VMX_CR4_FIXED0) | X86_CR4_VMXE) &
		  rdmsr(MSR_IA32_VMX_CR4_FIXED1));
}

void *vmx_vmxon_region(void)
{
	if (!vmxon_region)
		vmxon_region = vmx_region_alloc();
	return vmxon_region;
}

void vmx_enable(void)
{
	const char *why_not;
	struct vmx_result r;
	char buf[64];

	if (!vmx_supported(&why_not))
		report_abort("vmx_enable: %s", why_not);
	if (!vmx_feature_control_setup())
		report_abort("vmx_enable: IA32_FEATURE_CONTROL locked without VMX outside SMX");
	vmx_apply_fixed_bits();
	r = vmxon_checked((uint64_t)vmx_vmxon_region());
	if (r.outcome != VMX_SUCCEED)
		report_abort("vmx_enable: VMXON: %s", vmx_result_str(&r, buf, sizeof(buf)));
	in_vmx_operation = true;
}

void vmx_disable(void)
{
	struct vmx_result r = vmxoff_checked();
	char buf[64];

	if (r.outcome != VMX_SUCCEED)
		report_abort("vmx_disable: VMXOFF: %s", vmx_result_str(&r, buf, sizeof(buf)));
	write_cr4(read_cr4() & ~X86_CR4_VMXE);
	in_vmx_operation = false;
}

bool vmx_enabled(void)
{
	return in_vmx_operation;
}

bool vmx_ensure_on(struct vmx_vcpu **vcpu)
{
	if (!vmx_enabled()) {
		if (!vmx_feature_control_setup()) {
			test_error("", "IA32_FEATURE_CONTROL locked without VMX outside SMX");
			return false;
		}
		vmx_enable();
	}
	if (!*vcpu)
		*vcpu = vmx_vcpu_create();
	else
		vmx_vcpu_load(*vcpu);
	return true;
}

void vmx_ensure_off(void)
{
	if (vmx_enabled())
		vmx_disable();
	vmx_apply_fixed_bits();
}

/* ------------------------------------------------------------ VMCS access */

#define NEED_NONE	{ VMX_CAP_NONE, 0 }
#define NEED_ALWAYS	{ VMX_CAP_ALWAYS, 0 }
#define NEED_PIN(b)	{ VMX_CAP_PIN, b }
#define NEED_PROC(b)	{ VMX_CAP_PROC, b }
#define NEED_PROC2(b)	{ VMX_CAP_PROC2, b }
#define NEED_EXIT(b)	{ VMX_CAP_EXIT, b }
#define NEED_ENTRY(b)	{ VMX_CAP_ENTRY, b }
#define NEED_VMFUNC(b)	{ VMX_CAP_VMFUNC, b }
#define NEED_BASIC(b)	{ VMX_CAP_BASIC, b }
#define FIELD_ENTRY(n, enc, need1, need2) { enc, #n, { NEED_##need1, NEED_##need2 } },

const struct vmcs_field_info vmcs_fields[] = {
	VMCS_FIELD_LIST(FIELD_ENTRY)
};
const size_t vmcs_field_count = ARRAY_SIZE(vmcs_fields);

const struct vmcs_field_info *vmcs_field_find(uint32_t encoding)
{
	for (size_t i = 0; i < vmcs_field_count; i++)
		if (vmcs_fields[i].encoding == encoding)
			return &vmcs_fields[i];
	return NULL;
}

bool vmcs_field_supported(const struct vmcs_field_info *f)
{
	unsigned max_index = (rdmsr(MSR_IA32_VMX_VMCS_ENUM) >> 1) & 0x1ff;

	if (vmcs_field_index(f->encoding) > max_index)
		return false;
	return vmx_cap_has(f->need[0]) || vmx_cap_has(f->need[1]);
}

static const char *field_name(uint32_t field)
{
	const struct vmcs_field_info *f = vmcs_field_find(field & ~VMCS_HIGH);

	return f ? f->name : "?";
}

uint64_t vmcs_read(uint32_t field)
{
	uint64_t v;
	struct vmx_result r = vmread_checked(field, &v);
	char buf[64];

	if (r.outcome != VMX_SUCCEED) {
		test_error("vmcs", "VMREAD %s (%#x): %s", field_name(field), field,
			   vmx_result_str(&r, buf, sizeof(buf)));
		return 0;
	}
	return v;
}

void vmcs_write(uint32_t field, uint64_t value)
{
	struct vmx_result r = vmwrite_checked(field, value);
	char buf[64];

	if (r.outcome != VMX_SUCCEED)
		test_error("vmcs", "VMWRITE %s (%#x) = %#lx: %s", field_name(field), field, value,
			   vmx_result_str(&r, buf, sizeof(buf)));
}

void vmcs_update(uint32_t field, uint64_t clear, uint64_t set)
{
	vmcs_write(field, (vmcs_read(field) & ~clear) | set);
}

const char *vmx_insn_error_name(uint32_t error)
{
	static const char *const names[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[19] = "VMCALL with non-clear VMCS",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with incorrect MSEG revision identifier",
		[23] = "VMXOFF under dual-monitor treatment",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};

	return error < ARRAY_SIZE(names) ? names[error] : NULL;
}

const char *vmx_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		"EXCEPTION", "EXT_INTR", "TRIPLE_FAULT", "INIT", "SIPI", "IO_SMI", "OTHER_SMI",
		"INTR_WINDOW", "NMI_WINDOW", "TASK_SWITCH", "CPUID", "GETSEC", "HLT", "INVD",
		"INVLPG", "RDPMC", "RDTSC", "RSM", "VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD",
		"VMPTRST", "VMREAD", "VMRESUME", "VMWRITE", "VMXOFF", "VMXON", "CR_ACCESS",
		"DR_ACCESS", "IO", "RDMSR", "WRMSR", "INVALID_GUEST_STATE", "MSR_LOAD_FAIL",
		NULL, "MWAIT", "MTF", NULL, "MONITOR", "PAUSE", "MACHINE_CHECK", NULL,
		"TPR_BELOW_THRESHOLD", "APIC_ACCESS", "EOI_INDUCED", "GDTR_IDTR", "LDTR_TR",
		"EPT_VIOLATION", "EPT_MISCONFIG", "INVEPT", "RDTSCP", "PREEMPTION_TIMER",
		"INVVPID", "WBINVD", "XSETBV", "APIC_WRITE", "RDRAND", "INVPCID", "VMFUNC",
		"ENCLS", "RDSEED", "PML_FULL", "XSAVES", "XRSTORS",
	};

	if (reason == VMX_EXIT_VMFAIL)
		return "VMfail";
	reason &= 0xffff;
	return reason < ARRAY_SIZE(names) ? names[reason] : NULL;
}

/* ------------------------------------------------------------ the vCPU */

/* Base of the 16-byte system descriptor (TSS) at @sel in the GDT (SDM Vol. 3A 8.2.3). */
static uint64_t system_desc_base(uint16_t sel)
{
	uint64_t *gdt = gdt_current(), lo = gdt[sel / 8], hi = gdt[sel / 8 + 1];

	return ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | ((hi & 0xffffffff) << 32);
}

static uint32_t desc_limit(uint64_t d)
{
	uint32_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	return (d & BIT(55)) ? (limit << 12) | 0xfff : limit;
}

/* VMCS access rights of a GDT descriptor (SDM Vol. 3C 25.4.1, Table 25-2). */
static uint32_t desc_ar(uint64_t d)
{
	return ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12);
}

static uint16_t read_sel(int which)
{
	uint16_t v = 0;

	switch (which) {
	case 0: asm volatile("mov %%ds, %0" : "=r"(v)); break;
	case 1: asm volatile("mov %%es, %0" : "=r"(v)); break;
	case 2: asm volatile("mov %%fs, %0" : "=r"(v)); break;
	case 3: asm volatile("mov %%gs, %0" : "=r"(v)); break;
	case 4: asm volatile("str %0" : "=r"(v)); break;
	}
	return v;
}

/* Guest segment @n (0 ES ... 5 GS, 6 LDTR, 7 TR): fields at 2-step encodings. */
static void guest_seg(unsigned n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmcs_write(VMCS_GUEST_ES_SEL + 2 * n, sel);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * n, base);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
	vmcs_write(VMCS_GUEST_ES_AR + 2 * n, ar);
}

static void guest_gdt_seg(unsigned n, uint16_t sel)
{
	uint64_t d = gdt64[sel / 8];

	if (!sel)
		guest_seg(n, 0, 0, 0, VMX_AR_UNUSABLE);
	else
		guest_seg(n, sel, 0, desc_limit(d), desc_ar(d));
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static void write_host_state(void)
{
	struct dtr gdtr, idtr;
	uint32_t exit = vmcs_read(VMCS_EXIT_CONTROLS);
	uint16_t tr = read_sel(4);

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	/* SDM Vol. 3C 25.5, "Host-State Area"; checks in 27.2.2-27.2.4. */
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, read_cs());
	vmcs_write(VMCS_HOST_SS_SEL, read_ss());
	vmcs_write(VMCS_HOST_DS_SEL, read_sel(0));
	vmcs_write(VMCS_HOST_ES_SEL, read_sel(1));
	vmcs_write(VMCS_HOST_FS_SEL, read_sel(2));
	vmcs_write(VMCS_HOST_GS_SEL, read_sel(3));
	vmcs_write(VMCS_HOST_TR_SEL, tr);
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(VMCS_HOST_TR_BASE, system_desc_base(tr));
	vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmcs_write(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmcs_write(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	if (exit & VMX_EXIT_LOAD_EFER)
		vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	if (exit & VMX_EXIT_LOAD_PAT)
		vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_point);
	/* HOST_RSP: written by vmx_enter() right before each entry. */
}

static void write_guest_state(struct vmx_vcpu *vcpu, void *rip)
{
	struct dtr gdtr, idtr;
	uint32_t entry = vmcs_read(VMCS_ENTRY_CONTROLS);
	uint16_t tr = read_sel(4);
	uint64_t trd = gdt_current()[tr / 8];

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	/* SDM Vol. 3C 25.4, "Guest-State Area"; checks in 27.3.1. */
	vmcs_write(VMCS_GUEST_CR0, read_cr0());
	vmcs_write(VMCS_GUEST_CR3, read_cr3());
	vmcs_write(VMCS_GUEST_CR4, read_cr4());
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_RSP, (uint64_t)vcpu->stack + PAGE_SIZE);
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)rip);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	guest_gdt_seg(SEG_CS, read_cs());
	guest_gdt_seg(SEG_SS, read_ss());
	guest_gdt_seg(SEG_DS, read_sel(0));
	guest_gdt_seg(SEG_ES, read_sel(1));
	guest_gdt_seg(SEG_FS, read_sel(2));
	guest_gdt_seg(SEG_GS, read_sel(3));
	vmcs_write(VMCS_GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
	guest_seg(SEG_LDTR, 0, 0, 0, VMX_AR_UNUSABLE);
	guest_seg(SEG_TR, tr, system_desc_base(tr), desc_limit(trd), desc_ar(trd));
	vmcs_write(VMCS_GUEST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, idtr.limit);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	if (entry & VMX_ENTRY_LOAD_EFER)
		vmcs_write(VMCS_GUEST_EFER, rdmsr(MSR_EFER));
	if (entry & VMX_ENTRY_LOAD_PAT)
		vmcs_write(VMCS_GUEST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ull);
}

void vmx_vcpu_load(struct vmx_vcpu *vcpu)
{
	struct vmx_result r = vmptrld_checked((uint64_t)vcpu->vmcs);
	char buf[64];

	if (r.outcome != VMX_SUCCEED)
		test_error("vmcs", "VMPTRLD %p: %s", vcpu->vmcs, vmx_result_str(&r, buf, sizeof(buf)));
}

void vmx_vcpu_reset(struct vmx_vcpu *vcpu, void *rip)
{
	struct vmx_result r = vmclear_checked((uint64_t)vcpu->vmcs);
	uint32_t exit, entry;
	char buf[64];

	if (r.outcome != VMX_SUCCEED)
		test_error("vmcs", "VMCLEAR %p: %s", vcpu->vmcs, vmx_result_str(&r, buf, sizeof(buf)));
	/* The region's revision identifier may have been changed by a check. */
	*(uint32_t *)vcpu->vmcs = vmx_revision();
	vmx_vcpu_load(vcpu);
	vcpu->launched = false;
	memset(&vcpu->regs, 0, sizeof(vcpu->regs));

	/* SDM Vol. 3C 25.6-25.8; allowed settings per A.3-A.5. */
	exit = VMX_EXIT_HOST_ADDR_SPACE | VMX_EXIT_SAVE_EFER | VMX_EXIT_LOAD_EFER |
	       VMX_EXIT_SAVE_PAT | VMX_EXIT_LOAD_PAT;
	entry = VMX_ENTRY_IA32E | VMX_ENTRY_LOAD_EFER | VMX_ENTRY_LOAD_PAT;
	if (!vmx_ctls_supported(VMX_CTLS_EXIT, VMX_EXIT_HOST_ADDR_SPACE) ||
	    !vmx_ctls_supported(VMX_CTLS_ENTRY, VMX_ENTRY_IA32E))
		report_abort("vmx: no 64-bit host/guest (host address-space size, IA-32e mode guest)");
	vmcs_write(VMCS_PIN_CONTROLS, vmx_ctls_adjust(VMX_CTLS_PIN, 0));
	vmcs_write(VMCS_PROC_CONTROLS, vmx_ctls_adjust(VMX_CTLS_PROC, 0));
	if (vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY))
		vmcs_write(VMCS_PROC_CONTROLS2, vmx_ctls_adjust(VMX_CTLS_PROC2, 0));
	vmcs_write(VMCS_EXIT_CONTROLS, vmx_ctls_adjust(VMX_CTLS_EXIT, exit));
	vmcs_write(VMCS_ENTRY_CONTROLS, vmx_ctls_adjust(VMX_CTLS_ENTRY, entry));
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0xffffffff);
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	write_host_state();
	write_guest_state(vcpu, rip);
}

struct vmx_vcpu *vmx_vcpu_create(void)
{
	static struct vmx_vcpu vcpus[MAX(4, SMP_MAX_CPUS)];
	static unsigned count;
	struct vmx_vcpu *vcpu;

	if (count == ARRAY_SIZE(vcpus))
		report_abort("vmx_vcpu_create: more than %zu vCPUs", ARRAY_SIZE(vcpus));
	vcpu = &vcpus[count++];
	vcpu->vmcs = vmx_region_alloc();
	vcpu->stack = alloc_page();
	vmx_vcpu_reset(vcpu, NULL);
	return vcpu;
}

bool vmx_vcpu_set_ctls(struct vmx_vcpu *vcpu, enum vmx_ctls which, uint32_t set, uint32_t clear)
{
	uint32_t field = vmx_ctls_field(which), v;

	(void)vcpu;
	if (which == VMX_CTLS_PROC2) {
		if (!vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY))
			return !set;
		if (set)
			vmcs_update(VMCS_PROC_CONTROLS, 0, VMX_PROC_SECONDARY);
	}
	v = vmx_ctls_adjust(which, (vmcs_read(field) & ~clear) | set);
	vmcs_write(field, v);
	return (v & set) == set && !(v & clear);
}

bool vmx_require(const char *name, enum vmx_ctls which, uint32_t bits)
{
	uint32_t missing = bits & ~vmx_ctls_allowed(which).may_be_1;
	char buf[48];

	if (!missing)
		return true;
	snprintf(buf, sizeof(buf), "%#x", vmx_ctls_msr(which));
	skip(name, "control bits %#x not allowed-1 (MSR %s bits 63:32%s)", missing, buf,
	     which == VMX_CTLS_PROC2 && !vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_SECONDARY)
		     ? ", no secondary controls" : "");
	return false;
}

bool vmx_vcpu_set_mode(struct vmx_vcpu *vcpu, enum vmx_guest_mode mode, void *rip)
{
	static struct pagetable ept;
	const char *why;
	uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0);
	uint32_t entry = vmcs_read(VMCS_ENTRY_CONTROLS);

	if (mode == VMX_GUEST_LONG64) {
		vmcs_write(VMCS_GUEST_RIP, (uint64_t)rip);
		return true;
	}
	/* Unrestricted guest needs EPT (SDM Vol. 3C 27.2.1.1). */
	if (!ept_supported(&why) ||
	    !vmx_ctls_supported(VMX_CTLS_PROC2, VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED))
		return false;
	if ((uint64_t)rip >= BIT(32) || (uint64_t)vcpu->stack >= BIT(32))
		report_abort("vmx_vcpu_set_mode: L2 code or stack above 4 GiB");
	if (!ept.root)
		ept = ept_create_identity(ept_largest_page());
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED, 0);
	vmcs_write(VMCS_EPT_POINTER, ept_eptp(&ept, false));
	vmcs_write(VMCS_ENTRY_CONTROLS, entry & ~VMX_ENTRY_IA32E);
	if (entry & VMX_ENTRY_LOAD_EFER)
		vmcs_update(VMCS_GUEST_EFER, EFER_LME | EFER_LMA, 0);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) & ~X86_CR4_PCIDE);
	if (mode == VMX_GUEST_PROT32) {
		vmcs_write(VMCS_GUEST_CR0, cr0 & ~X86_CR0_PG);
		guest_gdt_seg(SEG_CS, KERNEL_CS32);
		vmcs_write(VMCS_GUEST_RIP, (uint64_t)rip);
		return true;
	}
	/* Real mode: CS base = the code, 64 KiB segments (27.3.1.2 with unrestricted guest). */
	vmcs_write(VMCS_GUEST_CR0, cr0 & ~(X86_CR0_PG | X86_CR0_PE));
	guest_seg(SEG_CS, 0, (uint64_t)rip, 0xffff, 0x9b);
	guest_seg(SEG_SS, 0, (uint64_t)vcpu->stack, 0xffff, 0x93);
	guest_seg(SEG_DS, 0, 0, 0xffff, 0x93);
	guest_seg(SEG_ES, 0, 0, 0xffff, 0x93);
	guest_seg(SEG_FS, 0, 0, 0xffff, 0x93);
	guest_seg(SEG_GS, 0, 0, 0xffff, 0x93);
	vmcs_write(VMCS_GUEST_RIP, 0);
	vmcs_write(VMCS_GUEST_RSP, PAGE_SIZE);
	return true;
}

uint32_t vmx_run(struct vmx_vcpu *vcpu)
{
	uint64_t flags = read_rflags(), fl;
	uint32_t reason;
	struct dtr gdtr, idtr;

	if (!in_vmx_operation)
		report_abort("vmx_run before vmx_enable");
	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	fl = vmx_enter(&vcpu->regs, vcpu->launched);
	/*
	 * A VM exit sets the GDTR and IDTR limits to FFFFh (SDM Vol. 3C 28.5.2,
	 * "Loading Host Segment and Descriptor-Table Registers"): restore them.
	 */
	if (!fl)
		asm volatile("lgdt %0; lidt %1" : : "m"(gdtr), "m"(idtr) : "memory");
	/* A VM exit clears RFLAGS (SDM Vol. 3C 28.5.3): restore IF. */
	if (flags & X86_EFLAGS_IF)
		irq_enable();
	if (fl) {
		vcpu->entry = vmx_result_from(fl, (struct fault){ 0 });
		vcpu->exit_reason = VMX_EXIT_VMFAIL;
		return VMX_EXIT_VMFAIL;
	}
	vcpu->entry = (struct vmx_result){ .outcome = VMX_SUCCEED };
	reason = vmcs_read(VMCS_EXIT_REASON);
	/* A VM-entry failure leaves the launch state alone (SDM Vol. 3C 27.8). */
	if (!(reason & VMX_EXIT_ENTRY_FAILURE))
		vcpu->launched = true;
	vcpu->exit_reason = reason;
	return reason;
}

void vmx_skip_insn(void)
{
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_EXIT_INSN_LEN));
}

/* ------------------------------------------------------------ MSR and I/O bitmaps */

/* Byte offset of the bitmap for @msr and @how (SDM Vol. 3C 25.6.9), or -1. */
static long msr_bitmap_base(uint32_t msr, unsigned how)
{
	long base = how == VMX_MSR_INTERCEPT_WRITE ? 0x800 : 0;

	if (msr <= VMX_MSR_RANGE_LOW_END)
		return base;
	if (msr >= VMX_MSR_RANGE_HIGH_BASE && msr <= VMX_MSR_RANGE_HIGH_END)
		return base + 0x400;
	return -1;
}

void *vmx_msr_bitmap_alloc(bool intercept_all)
{
	void *p = alloc_page();

	if (intercept_all)
		memset(p, 0xff, PAGE_SIZE);
	return p;
}

bool vmx_msr_bitmap_covers(uint32_t msr)
{
	return msr_bitmap_base(msr, VMX_MSR_INTERCEPT_READ) >= 0;
}

bool vmx_msr_bitmap_set(void *bitmap, uint32_t msr, unsigned how, bool intercept)
{
	uint8_t *bm = bitmap;
	uint32_t n = msr & 0x1fff;

	if (!vmx_msr_bitmap_covers(msr))
		return false;
	for (unsigned h = VMX_MSR_INTERCEPT_READ; h <= VMX_MSR_INTERCEPT_WRITE; h <<= 1) {
		uint8_t *byte;

		if (!(how & h))
			continue;
		byte = bm + msr_bitmap_base(msr, h) + n / 8;
		if (intercept)
			*byte |= 1u << (n % 8);
		else
			*byte &= ~(1u << (n % 8));
	}
	return true;
}

bool vmx_msr_bitmap_test(const void *bitmap, uint32_t msr, unsigned how)
{
	const uint8_t *bm = bitmap;
	long base = msr_bitmap_base(msr, how);
	uint32_t n = msr & 0x1fff;

	return base >= 0 && (bm[base + n / 8] & (1u << (n % 8)));
}

bool vmx_vcpu_use_msr_bitmap(struct vmx_vcpu *vcpu, void *bitmap)
{
	if (!bitmap)
		return vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, 0, VMX_PROC_MSR_BITMAPS);
	if (!vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS))
		return false;
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)bitmap);
	return vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS, 0);
}

struct vmx_io_bitmaps vmx_io_bitmaps_alloc(bool intercept_all)
{
	struct vmx_io_bitmaps io = { alloc_page(), alloc_page() };

	if (intercept_all) {
		memset(io.a, 0xff, PAGE_SIZE);
		memset(io.b, 0xff, PAGE_SIZE);
	}
	return io;
}

static uint8_t *io_bitmap_byte(const struct vmx_io_bitmaps *io, uint16_t port)
{
	return (port & 0x8000 ? io->b : io->a) + (port & 0x7fff) / 8;
}

void vmx_io_bitmap_set(struct vmx_io_bitmaps *io, uint16_t port, unsigned count, bool intercept)
{
	for (unsigned i = 0; i < count; i++, port++) {
		uint8_t *byte = io_bitmap_byte(io, port);

		if (intercept)
			*byte |= 1u << (port % 8);
		else
			*byte &= ~(1u << (port % 8));
	}
}

bool vmx_io_bitmap_test(const struct vmx_io_bitmaps *io, uint16_t port)
{
	return *io_bitmap_byte(io, port) & (1u << (port % 8));
}

bool vmx_vcpu_use_io_bitmaps(struct vmx_vcpu *vcpu, const struct vmx_io_bitmaps *io)
{
	if (!io)
		return vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, 0, VMX_PROC_IO_BITMAPS);
	if (!vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_IO_BITMAPS))
		return false;
	vmcs_write(VMCS_IO_BITMAP_A, (uint64_t)io->a);
	vmcs_write(VMCS_IO_BITMAP_B, (uint64_t)io->b);
	return vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_IO_BITMAPS, 0);
}

/* ------------------------------------------------------------ instruction information */

struct vmx_insn_info vmx_insn_info_decode(uint32_t raw)
{
	/* SDM Vol. 3C 28.2.5, Tables 28-8 to 28-14. */
	return (struct vmx_insn_info){
		.raw = raw,
		.scale = raw & 3,
		.reg1 = (raw >> 3) & 0xf,
		.addr_size = (raw >> 7) & 7,
		.is_reg = raw & BIT(10),
		.opsize32 = (raw >> 11) & 1,
		.rdrand_opsize = (raw >> 11) & 3,
		.seg = (raw >> 15) & 7,
		.index = (raw >> 18) & 0xf,
		.index_valid = !(raw & BIT(22)),
		.base = (raw >> 23) & 0xf,
		.base_valid = !(raw & BIT(27)),
		.identity = (raw >> 28) & 3,
		.reg2 = (raw >> 28) & 0xf,
	};
}

struct vmx_insn_info vmx_exit_insn_info(void)
{
	return vmx_insn_info_decode(vmcs_read(VMCS_EXIT_INSN_INFO));
}

static const char *vmx_unusable = "vmx_test_setup() was not called";

struct vmx_vcpu *vmx_test_setup(void)
{
	if (!vmx_supported(&vmx_unusable))
		return NULL;
	vmx_enable();
	vmx_unusable = NULL;
	return vmx_vcpu_create();
}

bool vmx_require_vmx(void)
{
	if (vmx_unusable)
		skip("", "%s", vmx_unusable);
	return !vmx_unusable;
}

const char *vmx_exit_str(const struct vmx_vcpu *vcpu, uint32_t reason)
{
	static char buf[96];
	const char *name = vmx_exit_name(reason);

	if (reason == VMX_EXIT_EXCEPTION)
		snprintf(buf, sizeof(buf), "%u (EXCEPTION, interruption info %#lx)", reason,
			 vmcs_read(VMCS_EXIT_INTR_INFO));
	else if (reason == VMX_EXIT_VMFAIL)
		snprintf(buf, sizeof(buf), "VMfail (error %u)", vcpu->entry.error);
	else
		snprintf(buf, sizeof(buf), "%#x (%s)", reason, name ? name : "?");
	return buf;
}

bool vmx_check_exit(struct vmx_vcpu *vcpu, uint32_t reason, void *at, unsigned len)
{
	uint32_t r = vmx_run(vcpu);
	const char *n = vmx_exit_name(reason);

	if (!check_msg(r == reason, "reason", "expected exit reason %u (%s), got %s", reason,
		       n ? n : "?", vmx_exit_str(vcpu, r)))
		return false;
	check_eq("rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)at);
	check_eq("len", vmcs_read(VMCS_EXIT_INSN_LEN), len);
	return true;
}

bool vmx_check_runs_to(struct vmx_vcpu *vcpu, const char *name, void *end)
{
	uint32_t r = vmx_run(vcpu);
	uint64_t rip = r == VMX_EXIT_VMCALL ? vmcs_read(VMCS_GUEST_RIP) : 0;

	return check_msg(r == VMX_EXIT_VMCALL && rip == (uint64_t)end, name,
			 "expected no exit before the VMCALL at %p, got %s at %#lx", end,
			 vmx_exit_str(vcpu, r), vmcs_read(VMCS_GUEST_RIP));
}

bool vmx_check_run_exit(struct vmx_vcpu *vcpu, const char *name, uint32_t reason)
{
	char buf[64];
	uint32_t r = vmx_run(vcpu);
	const char *got = vmx_exit_name(r), *want = vmx_exit_name(reason);

	return check_msg(r == reason, name, "exit reason %#x (%s), expected %#x (%s); entry %s", r,
			 got ? got : "?", reason, want ? want : "?",
			 vmx_result_str(&vcpu->entry, buf, sizeof(buf)));
}

bool vmx_check_fail_valid(const char *name, struct vmx_result r, uint32_t error)
{
	char buf[64];
	const char *n = vmx_insn_error_name(error);

	return check_msg(vmx_failed_with(&r, error), name, "expected VMfailValid(%u: %s), got %s",
			 error, n ? n : "?", vmx_result_str(&r, buf, sizeof(buf)));
}
