/* The VM-entry checks as one table (see vmx_rules.h; SDM Vol. 3C chapter 27). */
#include "msr.h"
#include "processor.h"
#include "report.h"
#include "vmx_rules.h"

/* ------------------------------------------------------------ evaluation state */

static struct vr_caps caps;
static bool caps_read;

/* The rule being evaluated, its environment, and the VMCS values read so far. */
static const struct vmx_rule *cur;
static const struct vr_env *env;
static struct { uint32_t enc; uint64_t val; } cache[192];
static unsigned cached;

static uint64_t vmcs_value(uint32_t enc)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < cached; i++)
		if (cache[i].enc == enc)
			return cache[i].val;
	/* A field the processor lacks reads as 0 (its control is then 0 too). */
	if (vmread_checked(enc, &v).outcome != VMX_SUCCEED)
		v = 0;
	if (cached < ARRAY_SIZE(cache))
		cache[cached++] = (typeof(cache[0])){ enc, v };
	return v;
}

/* A field of the rule's own list: a predicate reads nothing else. */
static uint64_t F(uint32_t enc)
{
	for (unsigned i = 0; i < cur->nfields; i++)
		if (cur->fields[i] == enc)
			return vmcs_value(enc);
	report_abort("vmx_rules: rule %s reads VMCS field %#x that its row does not name",
		     cur->name, enc);
}

/* The control words, which every rule may read. */
#define PIN	((uint32_t)vmcs_value(VMCS_PIN_CONTROLS))
#define PROC	((uint32_t)vmcs_value(VMCS_PROC_CONTROLS))
/* The secondary controls act as 0 when PROC[31] is 0 (SDM Vol. 3C 25.6.2). */
#define PROC2	((PROC & VMX_PROC_SECONDARY) ? (uint32_t)vmcs_value(VMCS_PROC_CONTROLS2) : 0u)
#define EXITC	((uint32_t)vmcs_value(VMCS_EXIT_CONTROLS))
#define ENTRYC	((uint32_t)vmcs_value(VMCS_ENTRY_CONTROLS))
#define HOLDS(cond) return !(cond)

const struct vr_caps *vr_caps(void)
{
	struct cpuid c;

	if (caps_read)
		return &caps;
	for (unsigned w = 0; w < VMX_CTLS_COUNT; w++)
		caps.allowed[w] = vmx_ctls_allowed(w);
	caps.basic = rdmsr(MSR_IA32_VMX_BASIC);
	caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (caps.allowed[VMX_CTLS_PROC2].may_be_1 & VMX_PROC2_VMFUNC)
		caps.vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
	/* The 64-bit tertiary and secondary exit controls: allowed-1 settings only (A.3.4, A.4.2). */
	if (caps.allowed[VMX_CTLS_PROC].may_be_1 & VMX_PROC_TERTIARY)
		caps.proc3_allowed = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3);
	if (caps.allowed[VMX_CTLS_EXIT].may_be_1 & VMX_EXIT_SECONDARY)
		caps.exit2_allowed = rdmsr(MSR_IA32_VMX_EXIT_CTLS2);
	if (caps.allowed[VMX_CTLS_PROC2].may_be_1 & (VMX_PROC2_EPT | VMX_PROC2_VPID))
		caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	/* IA32_VMX_BASIC[48]: VMX physical addresses are limited to 32 bits (A.1). */
	caps.maxphyaddr = (caps.basic & VMX_BASIC_32BIT_ADDRS) ? 32 : vmx_maxphyaddr();
	caps.linear_bits = cpuid_max(0x80000000) >= 0x80000008 ? (cpuid(0x80000008).a >> 8) & 0xff : 48;
	caps.efer_allowed = (cpu_has(X86_FEATURE_SYSCALL) ? EFER_SCE : 0) |
			    (cpu_has(X86_FEATURE_LM) ? EFER_LME | EFER_LMA : 0) |
			    (cpu_has(X86_FEATURE_NX) ? EFER_NXE : 0);
	/* IA32_PERF_GLOBAL_CTRL: one enable bit per counter (SDM Vol. 3B 21.2.2). */
	if (cpuid_max(0) >= 0xa) {
		c = cpuid(0xa);
		if (c.a & 0xff) {
			unsigned gp = (c.a >> 8) & 0xff, fixed = c.d & 0x1f;

			caps.perf_global_allowed = (BIT(gp) - 1) | ((BIT(fixed) - 1) << 32);
		}
	}
	if (cpuid_max(0) >= 7) {
		c = cpuid_count(7, 0);
		caps.sgx = c.b & BIT(2);
		caps.rtm = c.b & BIT(11);
		caps.cet = (c.c & BIT(7)) || (c.d & BIT(20));
	}
	caps_read = true;
	return &caps;
}

/* ------------------------------------------------------------ helpers */

static bool canonical(uint64_t v)
{
	unsigned n = caps.linear_bits;

	return n >= 64 || (uint64_t)((int64_t)(v << (64 - n)) >> (64 - n)) == v;
}

/* Bits at or above MAXPHYADDR are set. */
static bool beyond_phys(uint64_t addr)
{
	return caps.maxphyaddr < 64 && (addr >> caps.maxphyaddr);
}

static bool page_addr_ok(uint64_t addr)
{
	return !(addr & 0xfff) && !beyond_phys(addr);
}

/*
 * A read of physical memory that the test maps (its identity map covers the
 * low 4 GiB); elsewhere all ones, what a read of nothing returns.
 */
static uint64_t phys_read64(uint64_t pa)
{
	if (pa >= BIT(32) - 8)
		return ~0ull;
	return *(volatile uint64_t *)pa;
}

static uint32_t phys_read32(uint64_t pa)
{
	return pa >= BIT(32) - 4 ? ~0u : *(volatile uint32_t *)pa;
}

/* Each byte of a PAT value is a memory type: 0, 1, 4, 5, 6 or 7 (SDM Vol. 3A 13.12.2). */
static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* Guest segment fields by register: 0 ES ... 5 GS, 6 LDTR, 7 TR (Appendix B). */
enum { ES, CS, SS, DS, FS, GS, LDTR, TR };
#define G_SEL(s)	(VMCS_GUEST_ES_SEL + 2 * (s))
#define G_BASE(s)	(VMCS_GUEST_ES_BASE + 2 * (s))
#define G_LIMIT(s)	(VMCS_GUEST_ES_LIMIT + 2 * (s))
#define G_AR(s)		(VMCS_GUEST_ES_AR + 2 * (s))
#define ALL_SEL		G_SEL(ES), G_SEL(CS), G_SEL(SS), G_SEL(DS), G_SEL(FS), G_SEL(GS)
#define ALL_BASE	G_BASE(ES), G_BASE(CS), G_BASE(SS), G_BASE(DS), G_BASE(FS), G_BASE(GS)
#define ALL_LIMIT	G_LIMIT(ES), G_LIMIT(CS), G_LIMIT(SS), G_LIMIT(DS), G_LIMIT(FS), G_LIMIT(GS)
#define ALL_AR		G_AR(ES), G_AR(CS), G_AR(SS), G_AR(DS), G_AR(FS), G_AR(GS)
#define DATA_AR		G_AR(ES), G_AR(DS), G_AR(FS), G_AR(GS)
#define DATA_LIMIT	G_LIMIT(ES), G_LIMIT(DS), G_LIMIT(FS), G_LIMIT(GS)

/* Access rights (25.4.1, Table 25-2) */
#define AR_TYPE(ar)	((ar) & 0xf)
#define AR_S		BIT(4)
#define AR_DPL(ar)	(((ar) >> 5) & 3)
#define AR_P		BIT(7)
#define AR_RESERVED	0xfffe0f00ull	/* bits 11:8 and 31:17 */
#define AR_L		BIT(13)
#define AR_DB		BIT(14)
#define AR_G		BIT(15)

static const unsigned data_segs[] = { ES, DS, FS, GS };

static bool usable(unsigned s)
{
	return !(F(G_AR(s)) & VMX_AR_UNUSABLE);
}

/* A limit with a 0 in bits 11:0 needs G = 0; a 1 in bits 31:20 needs G = 1 (27.3.1.2). */
static bool limit_g_ok(uint32_t limit, uint64_t ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & AR_G))
		return false;
	return !(limit & 0xfff00000u) || (ar & AR_G);
}

static bool ia32e_guest(void) { return ENTRYC & VMX_ENTRY_IA32E; }
static bool unrestricted(void) { return PROC2 & VMX_PROC2_UNRESTRICTED; }
static bool v86(void) { return F(VMCS_GUEST_RFLAGS) & X86_EFLAGS_VM; }
static bool guest_pe(void) { return F(VMCS_GUEST_CR0) & X86_CR0_PE; }

/* The event being injected (25.8.3): valid, type, vector. */
static uint32_t intr_info(void) { return F(VMCS_ENTRY_INTR_INFO); }
static bool injecting(void) { return intr_info() & VMX_INTR_INFO_VALID; }
static unsigned intr_type(void) { return (intr_info() >> 8) & 7; }
static unsigned intr_vector(void) { return intr_info() & 0xff; }
enum { T_EXT = 0, T_RSVD = 1, T_NMI = 2, T_HW = 3, T_SOFT_INT = 4, T_PRIV = 5, T_SOFT_EXC = 6, T_OTHER = 7 };

#define INTR_STI	BIT(0)
#define INTR_MOVSS	BIT(1)
#define INTR_SMI	BIT(2)
#define INTR_NMI	BIT(3)
#define INTR_ENCLAVE	BIT(4)
enum { ACT_ACTIVE, ACT_HLT, ACT_SHUTDOWN, ACT_SIPI };

/* ------------------------------------------------------------ 27.1 the instruction */

static uint32_t insn_current_vmcs(void) { HOLDS(!env->no_current_vmcs); }
static uint32_t insn_current_not_shadow(void) { HOLDS(!env->current_is_shadow); }
static uint32_t insn_mov_ss(void) { HOLDS(!env->after_mov_ss); }
static uint32_t insn_vmlaunch_clear(void) { HOLDS(env->resume || !env->launched); }
static uint32_t insn_vmresume_launched(void) { HOLDS(!env->resume || env->launched); }

/* ------------------------------------------------------------ 27.2.1.1 VM-execution controls */

static bool ctl_allowed(enum vmx_ctls w, uint32_t v)
{
	struct vmx_allowed a = caps.allowed[w];

	return (v & a.must_be_1) == a.must_be_1 && !(v & ~a.may_be_1);
}

static uint32_t ctl_pin_allowed(void) { HOLDS(ctl_allowed(VMX_CTLS_PIN, PIN)); }
static uint32_t ctl_proc_allowed(void) { HOLDS(ctl_allowed(VMX_CTLS_PROC, PROC)); }
static uint32_t ctl_proc2_allowed(void)
{
	if (!(PROC & VMX_PROC_SECONDARY))
		return 0;
	HOLDS(ctl_allowed(VMX_CTLS_PROC2, F(VMCS_PROC_CONTROLS2)));
}
/* With "activate tertiary controls", no tertiary control that IA32_VMX_PROCBASED_CTLS3 does not allow. */
static uint32_t ctl_proc3_allowed(void)
{
	HOLDS(!(PROC & VMX_PROC_TERTIARY) || !(F(VMCS_PROC_CONTROLS3) & ~caps.proc3_allowed));
}
/* At most the number IA32_VMX_MISC[24:16] gives (4 on processors so far; A.6). */
static uint32_t ctl_cr3_target_count(void)
{
	HOLDS(F(VMCS_CR3_TARGET_COUNT) <= ((caps.misc >> 16) & 0x1ff));
}

#define ADDR_RULES(fn, cond, field, align)                                     \
	static uint32_t fn##_aligned(void)                                     \
	{                                                                      \
		if (!(cond))                                                   \
			return 0;                                              \
		HOLDS(!(F(field) & ((align) - 1)));                            \
	}                                                                      \
	static uint32_t fn##_maxphyaddr(void)                                  \
	{                                                                      \
		if (!(cond))                                                   \
			return 0;                                              \
		HOLDS(!beyond_phys(F(field)));                                 \
	}
ADDR_RULES(ctl_io_a, PROC & VMX_PROC_IO_BITMAPS, VMCS_IO_BITMAP_A, 4096)
ADDR_RULES(ctl_io_b, PROC & VMX_PROC_IO_BITMAPS, VMCS_IO_BITMAP_B, 4096)
ADDR_RULES(ctl_msr_bitmap, PROC & VMX_PROC_MSR_BITMAPS, VMCS_MSR_BITMAP, 4096)
ADDR_RULES(ctl_vapic, PROC & VMX_PROC_TPR_SHADOW, VMCS_VIRTUAL_APIC_ADDR, 4096)
ADDR_RULES(ctl_apic_access, PROC2 & VMX_PROC2_VIRT_APIC_ACCESS, VMCS_APIC_ACCESS_ADDR, 4096)

static uint32_t ctl_tpr_threshold_reserved(void)
{
	if (!(PROC & VMX_PROC_TPR_SHADOW) || (PROC2 & VMX_PROC2_VIRT_INTR_DELIVERY))
		return 0;
	HOLDS(!(F(VMCS_TPR_THRESHOLD) & ~0xfull));
}
/* Threshold bits 3:0 not above VTPR[7:4], the byte at offset 80H of the virtual-APIC page. */
static uint32_t ctl_tpr_threshold_vtpr(void)
{
	uint64_t vapic;

	if (!(PROC & VMX_PROC_TPR_SHADOW) ||
	    (PROC2 & (VMX_PROC2_VIRT_INTR_DELIVERY | VMX_PROC2_VIRT_APIC_ACCESS)))
		return 0;
	vapic = F(VMCS_VIRTUAL_APIC_ADDR);
	if (!page_addr_ok(vapic))
		return 0;	/* the address rules fail instead */
	HOLDS((F(VMCS_TPR_THRESHOLD) & 0xf) <= ((phys_read32(vapic + 0x80) >> 4) & 0xf));
}
static uint32_t ctl_x2apic_needs_tpr(void)
{
	HOLDS((PROC & VMX_PROC_TPR_SHADOW) || !(PROC2 & VMX_PROC2_VIRT_X2APIC));
}
static uint32_t ctl_regvirt_needs_tpr(void)
{
	HOLDS((PROC & VMX_PROC_TPR_SHADOW) || !(PROC2 & VMX_PROC2_APIC_REG_VIRT));
}
static uint32_t ctl_vid_needs_tpr(void)
{
	HOLDS((PROC & VMX_PROC_TPR_SHADOW) || !(PROC2 & VMX_PROC2_VIRT_INTR_DELIVERY));
}
static uint32_t ctl_vnmi_needs_nmi_exit(void)
{
	HOLDS((PIN & VMX_PIN_NMI_EXIT) || !(PIN & VMX_PIN_VIRTUAL_NMIS));
}
static uint32_t ctl_nmi_window_needs_vnmi(void)
{
	HOLDS((PIN & VMX_PIN_VIRTUAL_NMIS) || !(PROC & VMX_PROC_NMI_WINDOW_EXIT));
}
static uint32_t ctl_x2apic_and_apic_access(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_VIRT_X2APIC) || !(PROC2 & VMX_PROC2_VIRT_APIC_ACCESS));
}
static uint32_t ctl_vid_needs_ext_intr_exit(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_VIRT_INTR_DELIVERY) || (PIN & VMX_PIN_EXT_INTR_EXIT));
}
static uint32_t ctl_posted_needs_vid(void)
{
	HOLDS(!(PIN & VMX_PIN_POSTED_INTR) || (PROC2 & VMX_PROC2_VIRT_INTR_DELIVERY));
}
static uint32_t ctl_posted_needs_ack(void)
{
	HOLDS(!(PIN & VMX_PIN_POSTED_INTR) || (EXITC & VMX_EXIT_ACK_INTR));
}
static uint32_t ctl_posted_vector(void)
{
	HOLDS(!(PIN & VMX_PIN_POSTED_INTR) || !(F(VMCS_POSTED_INTR_NV) & 0xff00));
}
static uint32_t ctl_posted_desc(void)
{
	uint64_t a;

	if (!(PIN & VMX_PIN_POSTED_INTR))
		return 0;
	a = F(VMCS_POSTED_INTR_DESC_ADDR);
	HOLDS(!(a & 0x3f) && !beyond_phys(a));
}
static uint32_t ctl_vpid_nonzero(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_VPID) || (F(VMCS_VPID) & 0xffff));
}

/* EPTP (25.6.11): memory type bits 2:0, walk length - 1 in bits 5:3, A/D bit 6. */
static bool ept_on(void) { return PROC2 & VMX_PROC2_EPT; }
static uint32_t ctl_eptp_memtype(void)
{
	uint64_t mt;

	if (!ept_on())
		return 0;
	mt = F(VMCS_EPT_POINTER) & 7;
	HOLDS((mt == 0 && (caps.ept_vpid & VMX_EPT_UC)) || (mt == 6 && (caps.ept_vpid & VMX_EPT_WB)));
}
static uint32_t ctl_eptp_walk(void)
{
	uint64_t w;

	if (!ept_on())
		return 0;
	w = (F(VMCS_EPT_POINTER) >> 3) & 7;
	/* 4 levels with EPT_VPID_CAP[6], 5 levels with [7] (A.10). */
	HOLDS((w == 3 && (caps.ept_vpid & VMX_EPT_WALK4)) || (w == 4 && (caps.ept_vpid & BIT(7))));
}
static uint32_t ctl_eptp_ad(void)
{
	HOLDS(!ept_on() || !(F(VMCS_EPT_POINTER) & BIT(6)) || (caps.ept_vpid & VMX_EPT_AD));
}
/* Bits 11:8 reserved; bit 7 (supervisor shadow-stack control) only with EPT_VPID_CAP[23]. */
static uint32_t ctl_eptp_reserved(void)
{
	uint64_t rsvd = 0xf00 | ((caps.ept_vpid & BIT(23)) ? 0 : BIT(7));

	HOLDS(!ept_on() || !(F(VMCS_EPT_POINTER) & rsvd));
}
static uint32_t ctl_eptp_maxphyaddr(void)
{
	HOLDS(!ept_on() || !beyond_phys(F(VMCS_EPT_POINTER)));
}
static uint32_t ctl_pml_needs_ept(void) { HOLDS(!(PROC2 & VMX_PROC2_PML) || ept_on()); }
static uint32_t ctl_pml_addr(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_PML) || page_addr_ok(F(VMCS_PML_ADDRESS)));
}
static uint32_t ctl_ug_needs_ept(void) { HOLDS(!unrestricted() || ept_on()); }
/* Mode-based execute control for EPT is secondary control 22. */
static uint32_t ctl_mbec_needs_ept(void) { HOLDS(!(PROC2 & VMX_PROC2_MBEC) || ept_on()); }
static uint32_t ctl_vmfunc_allowed(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_VMFUNC) || !(F(VMCS_VMFUNC_CONTROLS) & ~caps.vmfunc));
}
/* VM function 0 (EPTP switching) needs EPT and a 4-KiB-aligned EPTP list. */
static bool eptp_switching(void)
{
	return (PROC2 & VMX_PROC2_VMFUNC) && (F(VMCS_VMFUNC_CONTROLS) & 1);
}
static uint32_t ctl_eptp_switch_needs_ept(void) { HOLDS(!eptp_switching() || ept_on()); }
static uint32_t ctl_eptp_list(void)
{
	HOLDS(!eptp_switching() || page_addr_ok(F(VMCS_EPTP_LIST_ADDR)));
}
static uint32_t ctl_shadow_bitmaps(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_VMCS_SHADOWING) ||
	      (page_addr_ok(F(VMCS_VMREAD_BITMAP)) && page_addr_ok(F(VMCS_VMWRITE_BITMAP))));
}
static uint32_t ctl_ve_info(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_EPT_VE) || page_addr_ok(F(VMCS_VE_INFO_ADDR)));
}
/*
 * "Sub-page write permissions for EPT" needs "enable EPT", and the SPPTP
 * (25.6.21) has bits 11:0 clear and no bit at or above MAXPHYADDR.
 */
static uint32_t ctl_spp_needs_ept(void) { HOLDS(!(PROC2 & VMX_PROC2_SPP) || ept_on()); }
static uint32_t ctl_spptp(void)
{
	HOLDS(!(PROC2 & VMX_PROC2_SPP) || page_addr_ok(F(VMCS_SPP_TABLE_PTR)));
}

/* ------------------------------------------------------------ 27.2.1.2 VM-exit controls */

static uint32_t ctl_exit_allowed(void) { HOLDS(ctl_allowed(VMX_CTLS_EXIT, EXITC)); }
/* With "activate secondary controls", no secondary exit control that IA32_VMX_EXIT_CTLS2 does not allow. */
static uint32_t ctl_exit2_allowed(void)
{
	HOLDS(!(EXITC & VMX_EXIT_SECONDARY) || !(F(VMCS_EXIT_CONTROLS2) & ~caps.exit2_allowed));
}
static uint32_t ctl_save_preempt(void)
{
	HOLDS((PIN & VMX_PIN_PREEMPTION_TIMER) || !(EXITC & VMX_EXIT_SAVE_PREEMPT));
}

/* An MSR area of @count 16-byte entries: 16-byte aligned, every byte below MAXPHYADDR. */
static bool area_aligned(uint32_t count_field, uint32_t addr_field)
{
	return !F(count_field) || !(F(addr_field) & 0xf);
}
static bool area_in_phys(uint32_t count_field, uint32_t addr_field)
{
	uint64_t n = F(count_field) & 0xffffffff, a = F(addr_field);

	return !n || (!beyond_phys(a) && !beyond_phys(a + 16 * n - 1));
}
static uint32_t ctl_exit_store_aligned(void)
{
	HOLDS(area_aligned(VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR));
}
static uint32_t ctl_exit_store_phys(void)
{
	HOLDS(area_in_phys(VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR));
}
static uint32_t ctl_exit_load_aligned(void)
{
	HOLDS(area_aligned(VMCS_EXIT_MSR_LOAD_COUNT, VMCS_EXIT_MSR_LOAD_ADDR));
}
static uint32_t ctl_exit_load_phys(void)
{
	HOLDS(area_in_phys(VMCS_EXIT_MSR_LOAD_COUNT, VMCS_EXIT_MSR_LOAD_ADDR));
}

/* ------------------------------------------------------------ 27.2.1.3 VM-entry controls */

static uint32_t ctl_entry_allowed(void) { HOLDS(ctl_allowed(VMX_CTLS_ENTRY, ENTRYC)); }
/* Outside SMM (the test never enters it). */
static uint32_t ctl_entry_smm(void) { HOLDS(!(ENTRYC & VMX_ENTRY_SMM)); }
static uint32_t ctl_entry_dual(void) { HOLDS(!(ENTRYC & VMX_ENTRY_DUAL_MONITOR)); }

/* Type 1 is reserved. */
static uint32_t ctl_inject_type(void) { HOLDS(!injecting() || intr_type() != T_RSVD); }
/* Type 7 (other event) needs the 1-setting of the monitor trap flag. */
static uint32_t ctl_inject_other(void)
{
	HOLDS(!injecting() || intr_type() != T_OTHER ||
	      (caps.allowed[VMX_CTLS_PROC].may_be_1 & VMX_PROC_MTF));
}
static uint32_t ctl_inject_vector(void)
{
	unsigned t, v;

	if (!injecting())
		return 0;
	t = intr_type();
	v = intr_vector();
	HOLDS((t != T_NMI || v == 2) && (t != T_HW || v <= 31) && (t != T_OTHER || v == 0));
}
/* #DF, #TS, #NP, #SS, #GP, #PF, #AC deliver an error code; #CP too where CET exists. */
static bool error_code_vector(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || (v == 21 && caps.cet);
}
static uint32_t ctl_inject_ec0(void)
{
	bool b56 = caps.basic & BIT(56);

	if (!injecting() || !(intr_info() & VMX_INTR_INFO_ERROR_VALID))
		return 0;
	HOLDS(intr_type() == T_HW && guest_pe() && (b56 || error_code_vector(intr_vector())));
}
static uint32_t ctl_inject_ec1(void)
{
	if (!injecting() || (intr_info() & VMX_INTR_INFO_ERROR_VALID) || (caps.basic & BIT(56)))
		return 0;
	HOLDS(!(intr_type() == T_HW && guest_pe() && error_code_vector(intr_vector())));
}
static uint32_t ctl_inject_reserved(void) { HOLDS(!injecting() || !(intr_info() & 0x7ffff000u)); }
static uint32_t ctl_inject_ec_bits(void)
{
	if (!injecting() || !(intr_info() & VMX_INTR_INFO_ERROR_VALID))
		return 0;
	HOLDS(!(F(VMCS_ENTRY_EXCEPTION_ERROR) & 0xffff0000u));
}
/* Software interrupts and exceptions: length 1-15; 0 with IA32_VMX_MISC[30]. */
static uint32_t ctl_inject_length(void)
{
	unsigned t;
	uint64_t len;

	if (!injecting())
		return 0;
	t = intr_type();
	if (t != T_SOFT_INT && t != T_PRIV && t != T_SOFT_EXC)
		return 0;
	len = F(VMCS_ENTRY_INSN_LEN);
	HOLDS(len <= 15 && (len || (caps.misc & BIT(30))));
}
static uint32_t ctl_entry_load_aligned(void)
{
	HOLDS(area_aligned(VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR));
}
static uint32_t ctl_entry_load_phys(void)
{
	HOLDS(area_in_phys(VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR));
}

/* ------------------------------------------------------------ 27.2.2-27.2.4 host state */

static bool host_64(void) { return EXITC & VMX_EXIT_HOST_ADDR_SPACE; }
static uint32_t host_cr0_fixed0(void) { HOLDS((F(VMCS_HOST_CR0) & caps.cr0_fixed0) == caps.cr0_fixed0); }
static uint32_t host_cr0_fixed1(void) { HOLDS(!(F(VMCS_HOST_CR0) & ~caps.cr0_fixed1)); }
static uint32_t host_cr4_fixed0(void) { HOLDS((F(VMCS_HOST_CR4) & caps.cr4_fixed0) == caps.cr4_fixed0); }
static uint32_t host_cr4_fixed1(void) { HOLDS(!(F(VMCS_HOST_CR4) & ~caps.cr4_fixed1)); }
static uint32_t host_cr3(void) { HOLDS(!beyond_phys(F(VMCS_HOST_CR3))); }
static uint32_t host_sysenter_esp(void) { HOLDS(canonical(F(VMCS_HOST_SYSENTER_ESP))); }
static uint32_t host_sysenter_eip(void) { HOLDS(canonical(F(VMCS_HOST_SYSENTER_EIP))); }
static uint32_t host_perf_global(void)
{
	HOLDS(!(EXITC & VMX_EXIT_LOAD_PERF_GLOBAL) ||
	      !(F(VMCS_HOST_PERF_GLOBAL_CTRL) & ~caps.perf_global_allowed));
}
static uint32_t host_pat(void) { HOLDS(!(EXITC & VMX_EXIT_LOAD_PAT) || pat_valid(F(VMCS_HOST_PAT))); }
static uint32_t host_efer_reserved(void)
{
	HOLDS(!(EXITC & VMX_EXIT_LOAD_EFER) || !(F(VMCS_HOST_EFER) & ~caps.efer_allowed));
}
static uint32_t host_efer_lma(void)
{
	HOLDS(!(EXITC & VMX_EXIT_LOAD_EFER) || !(F(VMCS_HOST_EFER) & EFER_LMA) == !host_64());
}
static uint32_t host_efer_lme(void)
{
	HOLDS(!(EXITC & VMX_EXIT_LOAD_EFER) || !(F(VMCS_HOST_EFER) & EFER_LME) == !host_64());
}
static uint32_t host_sel_rpl_ti(void)
{
	static const uint32_t sels[] = { VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL,
					 VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL,
					 VMCS_HOST_TR_SEL };

	for (unsigned i = 0; i < ARRAY_SIZE(sels); i++)
		if (F(sels[i]) & 7)
			return 1;
	return 0;
}
static uint32_t host_cs_null(void) { HOLDS(F(VMCS_HOST_CS_SEL) & 0xffff); }
static uint32_t host_tr_null(void) { HOLDS(F(VMCS_HOST_TR_SEL) & 0xffff); }
static uint32_t host_ss_null(void) { HOLDS(host_64() || (F(VMCS_HOST_SS_SEL) & 0xffff)); }
static uint32_t host_bases(void)
{
	HOLDS(canonical(F(VMCS_HOST_FS_BASE)) && canonical(F(VMCS_HOST_GS_BASE)) &&
	      canonical(F(VMCS_HOST_GDTR_BASE)) && canonical(F(VMCS_HOST_IDTR_BASE)) &&
	      canonical(F(VMCS_HOST_TR_BASE)));
}
/* 27.2.4: "host address-space size" equals IA32_EFER.LMA of the processor (L1). */
static uint32_t host_addr_space(void) { HOLDS(host_64() == !!(rdmsr(MSR_EFER) & EFER_LMA)); }
static uint32_t host_pae(void) { HOLDS(!host_64() || (F(VMCS_HOST_CR4) & X86_CR4_PAE)); }
static uint32_t host_pcide(void) { HOLDS(host_64() || !(F(VMCS_HOST_CR4) & X86_CR4_PCIDE)); }
static uint32_t host_rip(void)
{
	uint64_t rip = F(VMCS_HOST_RIP);

	HOLDS(host_64() ? canonical(rip) : !(rip >> 32));
}
/* 27.2.4: outside IA-32e mode (IA32_EFER.LMA = 0 in L1), "IA-32e mode guest" is 0. */
static uint32_t host_ia32e_guest_32bit(void)
{
	HOLDS((rdmsr(MSR_EFER) & EFER_LMA) || !ia32e_guest());
}

/* ------------------------------------------------------------ CET, PKS, UINTR (27.2.2, 27.3.1.1, 27.3.1.5) */

#define CR4_CET		BIT(23)
/* IA32_S_CET (SDM Vol. 3A 18.3.1, Vol. 4 Table 2-2): bits 9:6 reserved, 10 SUPPRESS, 11 TRACKER. */
#define S_CET_RESERVED	0x3c0ull
#define S_CET_SUPPRESS	BIT(10)
#define S_CET_TRACKER	BIT(11)

static bool exit_cet(void) { return EXITC & VMX_EXIT_LOAD_CET; }
static bool entry_cet(void) { return ENTRYC & VMX_ENTRY_LOAD_CET; }
/* Bits 63:N identical, N the linear-address width: one bit more than canonical. */
static bool high_bits_identical(uint64_t v)
{
	unsigned n = caps.linear_bits + 1;

	return n >= 64 || (uint64_t)((int64_t)(v << (64 - n)) >> (64 - n)) == v;
}
/* 64-bit host: canonical; else bits 63:32 are 0 (27.2.2). */
static bool host_addr_ok(uint64_t v) { return host_64() ? canonical(v) : !(v >> 32); }
static bool s_cet_suppress_tracker_ok(uint64_t v)
{
	return (v & (S_CET_SUPPRESS | S_CET_TRACKER)) != (S_CET_SUPPRESS | S_CET_TRACKER);
}

/* "If bit 23 in the CR4 field (corresponding to CET) is 1, bit 16 in the CR0 field (WP) must also be 1." */
static uint32_t host_cr4_cet_wp(void)
{
	HOLDS(!(F(VMCS_HOST_CR4) & CR4_CET) || (F(VMCS_HOST_CR0) & X86_CR0_WP));
}
static uint32_t host_s_cet_canonical(void) { HOLDS(!exit_cet() || host_addr_ok(F(VMCS_HOST_S_CET))); }
static uint32_t host_s_cet_reserved(void) { HOLDS(!exit_cet() || !(F(VMCS_HOST_S_CET) & S_CET_RESERVED)); }
static uint32_t host_s_cet_suppress_tracker(void)
{
	HOLDS(!exit_cet() || s_cet_suppress_tracker_ok(F(VMCS_HOST_S_CET)));
}
static uint32_t host_ssp_canonical(void) { HOLDS(!exit_cet() || host_addr_ok(F(VMCS_HOST_SSP))); }
static uint32_t host_ssp_aligned(void) { HOLDS(!exit_cet() || !(F(VMCS_HOST_SSP) & 3)); }
static uint32_t host_isst_canonical(void)
{
	HOLDS(!exit_cet() || canonical(F(VMCS_HOST_INTR_SSP_TABLE)));
}
static uint32_t host_pkrs(void) { HOLDS(!(EXITC & VMX_EXIT_LOAD_PKRS) || !(F(VMCS_HOST_PKRS) >> 32)); }

static uint32_t guest_cr4_cet_wp(void)
{
	HOLDS(!(F(VMCS_GUEST_CR4) & CR4_CET) || (F(VMCS_GUEST_CR0) & X86_CR0_WP));
}
static uint32_t guest_s_cet_reserved(void)
{
	HOLDS(!entry_cet() || !(F(VMCS_GUEST_S_CET) & S_CET_RESERVED));
}
static uint32_t guest_s_cet_suppress_tracker(void)
{
	HOLDS(!entry_cet() || s_cet_suppress_tracker_ok(F(VMCS_GUEST_S_CET)));
}
/* The guest SSP need not be canonical: only bits 63:N must be identical (27.3.1.1). */
static uint32_t guest_ssp_high(void) { HOLDS(!entry_cet() || high_bits_identical(F(VMCS_GUEST_SSP))); }
static uint32_t guest_ssp_aligned(void) { HOLDS(!entry_cet() || !(F(VMCS_GUEST_SSP) & 3)); }
static uint32_t guest_isst_canonical(void)
{
	HOLDS(!entry_cet() || canonical(F(VMCS_GUEST_INTR_SSP_TABLE)));
}
static uint32_t guest_pkrs(void) { HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_PKRS) || !(F(VMCS_GUEST_PKRS) >> 32)); }
/* 27.3.1.5: with "load UINV", bits 15:8 of the guest UINV field are 0. */
static uint32_t guest_uinv(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_UINV) || !(F(VMCS_GUEST_UINV) & 0xff00));
}

/* ------------------------------------------------------------ 27.3.1.1 guest CRs, DRs, MSRs */

/* PE and PG are exempt from CR0 FIXED0 with unrestricted guest. */
static uint32_t guest_cr0_fixed0(void)
{
	uint64_t need = caps.cr0_fixed0 & ~(unrestricted() ? X86_CR0_PE | X86_CR0_PG : 0);

	HOLDS((F(VMCS_GUEST_CR0) & need) == need);
}
static uint32_t guest_cr0_fixed1(void) { HOLDS(!(F(VMCS_GUEST_CR0) & ~caps.cr0_fixed1)); }
static uint32_t guest_cr0_pg_pe(void)
{
	uint64_t cr0 = F(VMCS_GUEST_CR0);

	HOLDS(!(cr0 & X86_CR0_PG) || (cr0 & X86_CR0_PE));
}
static uint32_t guest_cr4_fixed0(void)
{
	HOLDS((F(VMCS_GUEST_CR4) & caps.cr4_fixed0) == caps.cr4_fixed0);
}
static uint32_t guest_cr4_fixed1(void) { HOLDS(!(F(VMCS_GUEST_CR4) & ~caps.cr4_fixed1)); }
/* IA32_DEBUGCTL: bits 5:2 and 63:16 reserved (SDM Vol. 3B 19.4.1, 17.4.1). */
static uint32_t guest_debugctl(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_DEBUG) || !(F(VMCS_GUEST_DEBUGCTL) & ~0xffc3ull));
}
static uint32_t guest_ia32e_pg(void) { HOLDS(!ia32e_guest() || (F(VMCS_GUEST_CR0) & X86_CR0_PG)); }
static uint32_t guest_ia32e_pae(void) { HOLDS(!ia32e_guest() || (F(VMCS_GUEST_CR4) & X86_CR4_PAE)); }
static uint32_t guest_pcide(void) { HOLDS(ia32e_guest() || !(F(VMCS_GUEST_CR4) & X86_CR4_PCIDE)); }
static uint32_t guest_cr3(void) { HOLDS(!beyond_phys(F(VMCS_GUEST_CR3))); }
static uint32_t guest_dr7(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_DEBUG) || !(F(VMCS_GUEST_DR7) >> 32));
}
static uint32_t guest_sysenter_esp(void) { HOLDS(canonical(F(VMCS_GUEST_SYSENTER_ESP))); }
static uint32_t guest_sysenter_eip(void) { HOLDS(canonical(F(VMCS_GUEST_SYSENTER_EIP))); }
static uint32_t guest_perf_global(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_PERF_GLOBAL) ||
	      !(F(VMCS_GUEST_PERF_GLOBAL_CTRL) & ~caps.perf_global_allowed));
}
static uint32_t guest_pat(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_PAT) || pat_valid(F(VMCS_GUEST_PAT)));
}
static uint32_t guest_efer_reserved(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_EFER) || !(F(VMCS_GUEST_EFER) & ~caps.efer_allowed));
}
static uint32_t guest_efer_lma(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_LOAD_EFER) || !(F(VMCS_GUEST_EFER) & EFER_LMA) == !ia32e_guest());
}
static uint32_t guest_efer_lme(void)
{
	uint64_t efer;

	if (!(ENTRYC & VMX_ENTRY_LOAD_EFER) || !(F(VMCS_GUEST_CR0) & X86_CR0_PG))
		return 0;
	efer = F(VMCS_GUEST_EFER);
	HOLDS(!(efer & EFER_LME) == !(efer & EFER_LMA));
}

/* ------------------------------------------------------------ 27.3.1.2 guest segments */

static uint32_t guest_tr_ti(void) { HOLDS(!(F(G_SEL(TR)) & 4)); }
static uint32_t guest_ldtr_ti(void) { HOLDS(!usable(LDTR) || !(F(G_SEL(LDTR)) & 4)); }
static uint32_t guest_ss_rpl(void)
{
	HOLDS(v86() || unrestricted() || (F(G_SEL(SS)) & 3) == (F(G_SEL(CS)) & 3));
}
/* Virtual-8086 guest: base = selector * 16, limit FFFFH, access rights F3H. */
static bool v86_base_ok(unsigned s) { return F(G_BASE(s)) == (F(G_SEL(s)) & 0xffff) << 4; }
static bool v86_limit_ok(unsigned s) { return F(G_LIMIT(s)) == 0xffff; }
static bool v86_ar_ok(unsigned s) { return F(G_AR(s)) == 0xf3; }
static uint32_t v86_segs_fail(bool (*ok)(unsigned s))
{
	if (!v86())
		return 0;
	for (unsigned s = ES; s <= GS; s++)
		if (!ok(s))
			return 1;
	return 0;
}
static uint32_t guest_v86_base(void) { return v86_segs_fail(v86_base_ok); }
static uint32_t guest_v86_limit(void) { return v86_segs_fail(v86_limit_ok); }
static uint32_t guest_v86_ar(void) { return v86_segs_fail(v86_ar_ok); }
static uint32_t guest_tr_base(void) { HOLDS(canonical(F(G_BASE(TR)))); }
static uint32_t guest_fs_gs_base(void) { HOLDS(canonical(F(G_BASE(FS))) && canonical(F(G_BASE(GS)))); }
static uint32_t guest_ldtr_base(void) { HOLDS(!usable(LDTR) || canonical(F(G_BASE(LDTR)))); }
static uint32_t guest_cs_base(void) { HOLDS(!(F(G_BASE(CS)) >> 32)); }
static uint32_t guest_ss_ds_es_base(void)
{
	static const unsigned segs[] = { SS, DS, ES };

	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++)
		if (usable(segs[i]) && (F(G_BASE(segs[i])) >> 32))
			return 1;
	return 0;
}

/* Outside virtual-8086 mode, CS, SS, DS, ES, FS, GS access rights field by field. */
static uint32_t guest_cs_type(void)
{
	unsigned t = AR_TYPE(F(G_AR(CS)));

	HOLDS(v86() || t == 9 || t == 11 || t == 13 || t == 15 || (unrestricted() && t == 3));
}
static uint32_t guest_cs_s(void) { HOLDS(v86() || (F(G_AR(CS)) & AR_S)); }
static uint32_t guest_cs_dpl(void)
{
	uint64_t cs = F(G_AR(CS)), ss = F(G_AR(SS));
	unsigned t = AR_TYPE(cs);

	if (v86())
		return 0;
	if (t == 3)
		HOLDS(AR_DPL(cs) == 0);
	if (t == 9 || t == 11)
		HOLDS(AR_DPL(cs) == AR_DPL(ss));
	if (t == 13 || t == 15)
		HOLDS(AR_DPL(cs) <= AR_DPL(ss));
	return 0;	/* another type: guest.cs.type fails */
}
static uint32_t guest_cs_p(void) { HOLDS(v86() || (F(G_AR(CS)) & AR_P)); }
static uint32_t guest_cs_reserved(void) { HOLDS(v86() || !(F(G_AR(CS)) & AR_RESERVED)); }
static uint32_t guest_cs_db(void)
{
	uint64_t ar = F(G_AR(CS));

	HOLDS(v86() || !ia32e_guest() || !(ar & AR_L) || !(ar & AR_DB));
}
static uint32_t guest_cs_g(void) { HOLDS(v86() || limit_g_ok(F(G_LIMIT(CS)), F(G_AR(CS)))); }
static uint32_t guest_ss_type(void)
{
	unsigned t = AR_TYPE(F(G_AR(SS)));

	HOLDS(v86() || !usable(SS) || t == 3 || t == 7);
}
static uint32_t guest_ss_s(void) { HOLDS(v86() || !usable(SS) || (F(G_AR(SS)) & AR_S)); }
static uint32_t guest_ss_dpl_rpl(void)
{
	HOLDS(v86() || unrestricted() || AR_DPL(F(G_AR(SS))) == (F(G_SEL(SS)) & 3));
}
static uint32_t guest_ss_dpl_zero(void)
{
	if (v86() || (AR_TYPE(F(G_AR(CS))) != 3 && guest_pe()))
		return 0;
	HOLDS(AR_DPL(F(G_AR(SS))) == 0);
}
static uint32_t guest_ss_p(void) { HOLDS(v86() || !usable(SS) || (F(G_AR(SS)) & AR_P)); }
static uint32_t guest_ss_reserved(void)
{
	HOLDS(v86() || !usable(SS) || !(F(G_AR(SS)) & AR_RESERVED));
}
static uint32_t guest_ss_g(void)
{
	HOLDS(v86() || !usable(SS) || limit_g_ok(F(G_LIMIT(SS)), F(G_AR(SS))));
}

/* DS, ES, FS, GS: every usable one meets @ok. */
static uint32_t data_segs_fail(bool (*ok)(unsigned s, uint64_t ar))
{
	if (v86())
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(data_segs); i++)
		if (usable(data_segs[i]) && !ok(data_segs[i], F(G_AR(data_segs[i]))))
			return 1;
	return 0;
}
/* Accessed; a code segment is readable. */
static bool data_type_ok(unsigned s, uint64_t ar)
{
	(void)s;
	return (ar & 1) && (!(ar & 8) || (ar & 2));
}
static bool data_s_ok(unsigned s, uint64_t ar) { (void)s; return ar & AR_S; }
/* DPL not below RPL for data and non-conforming code (types 0-11) without unrestricted guest. */
static bool data_dpl_ok(unsigned s, uint64_t ar)
{
	return unrestricted() || AR_TYPE(ar) > 11 || AR_DPL(ar) >= (F(G_SEL(s)) & 3);
}
static bool data_p_ok(unsigned s, uint64_t ar) { (void)s; return ar & AR_P; }
static bool data_reserved_ok(unsigned s, uint64_t ar) { (void)s; return !(ar & AR_RESERVED); }
static bool data_g_ok(unsigned s, uint64_t ar) { return limit_g_ok(F(G_LIMIT(s)), ar); }
static uint32_t guest_data_type(void) { return data_segs_fail(data_type_ok); }
static uint32_t guest_data_s(void) { return data_segs_fail(data_s_ok); }
static uint32_t guest_data_dpl(void) { return data_segs_fail(data_dpl_ok); }
static uint32_t guest_data_p(void) { return data_segs_fail(data_p_ok); }
static uint32_t guest_data_reserved(void) { return data_segs_fail(data_reserved_ok); }
static uint32_t guest_data_g(void) { return data_segs_fail(data_g_ok); }

/* TR: busy 64-bit TSS (11) in IA-32e mode, else busy 16- or 32-bit TSS (3, 11). */
static uint32_t guest_tr_type(void)
{
	unsigned t = AR_TYPE(F(G_AR(TR)));

	HOLDS(t == 11 || (!ia32e_guest() && t == 3));
}
static uint32_t guest_tr_s(void) { HOLDS(!(F(G_AR(TR)) & AR_S)); }
static uint32_t guest_tr_p(void) { HOLDS(F(G_AR(TR)) & AR_P); }
static uint32_t guest_tr_reserved(void) { HOLDS(!(F(G_AR(TR)) & AR_RESERVED)); }
static uint32_t guest_tr_g(void) { HOLDS(limit_g_ok(F(G_LIMIT(TR)), F(G_AR(TR)))); }
static uint32_t guest_tr_usable(void) { HOLDS(usable(TR)); }
static uint32_t guest_ldtr_type(void) { HOLDS(!usable(LDTR) || AR_TYPE(F(G_AR(LDTR))) == 2); }
static uint32_t guest_ldtr_s(void) { HOLDS(!usable(LDTR) || !(F(G_AR(LDTR)) & AR_S)); }
static uint32_t guest_ldtr_p(void) { HOLDS(!usable(LDTR) || (F(G_AR(LDTR)) & AR_P)); }
static uint32_t guest_ldtr_reserved(void)
{
	HOLDS(!usable(LDTR) || !(F(G_AR(LDTR)) & AR_RESERVED));
}
static uint32_t guest_ldtr_g(void)
{
	HOLDS(!usable(LDTR) || limit_g_ok(F(G_LIMIT(LDTR)), F(G_AR(LDTR))));
}

/* ------------------------------------------------------------ 27.3.1.3, 27.3.1.4 */

static uint32_t guest_dtr_base(void)
{
	HOLDS(canonical(F(VMCS_GUEST_GDTR_BASE)) && canonical(F(VMCS_GUEST_IDTR_BASE)));
}
static uint32_t guest_dtr_limit(void)
{
	HOLDS(!(F(VMCS_GUEST_GDTR_LIMIT) >> 16) && !(F(VMCS_GUEST_IDTR_LIMIT) >> 16));
}
static bool guest_64bit(void) { return ia32e_guest() && (F(G_AR(CS)) & AR_L); }
static uint32_t guest_rip_high(void) { HOLDS(guest_64bit() || !(F(VMCS_GUEST_RIP) >> 32)); }
static uint32_t guest_rip_canonical(void) { HOLDS(!guest_64bit() || canonical(F(VMCS_GUEST_RIP))); }
/* Bits 63:22, 15, 5, 3 are 0 and bit 1 is 1. */
static uint32_t guest_rflags_reserved(void)
{
	uint64_t rf = F(VMCS_GUEST_RFLAGS);

	HOLDS(!(rf & (~0x3fffffull | BIT(15) | BIT(5) | BIT(3))) && (rf & X86_EFLAGS_FIXED));
}
static uint32_t guest_rflags_vm(void) { HOLDS((!ia32e_guest() && guest_pe()) || !v86()); }
static uint32_t guest_rflags_if(void)
{
	HOLDS(!injecting() || intr_type() != T_EXT || (F(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF));
}

/* ------------------------------------------------------------ 27.3.1.5 non-register state */

static uint64_t activity(void) { return F(VMCS_GUEST_ACTIVITY_STATE); }
static uint64_t intr_state(void) { return F(VMCS_GUEST_INTERRUPTIBILITY); }

/* 0 active, or a state IA32_VMX_MISC[6 + state - 1] supports (A.6). */
static uint32_t guest_activity_valid(void)
{
	uint64_t a = activity();

	HOLDS(a == ACT_ACTIVE || (a <= ACT_SIPI && (caps.misc & BIT(5 + a))));
}
static uint32_t guest_activity_hlt_dpl(void)
{
	HOLDS(activity() != ACT_HLT || AR_DPL(F(G_AR(SS))) == 0);
}
static uint32_t guest_activity_blocking(void)
{
	HOLDS(!(intr_state() & (INTR_STI | INTR_MOVSS)) || activity() == ACT_ACTIVE);
}
/*
 * HLT: only external interrupts, NMI, #DB, #MC and pending MTF (other event,
 * vector 0) may be injected; shutdown: NMI and #MC; wait-for-SIPI: nothing.
 */
static uint32_t guest_activity_injection(void)
{
	uint64_t a = activity();
	unsigned t, v;

	if (!injecting() || a == ACT_ACTIVE)
		return 0;
	t = intr_type();
	v = intr_vector();
	if (a == ACT_HLT)
		HOLDS(t == T_EXT || t == T_NMI || (t == T_HW && (v == 1 || v == 18)) ||
		      (t == T_OTHER && v == 0));
	if (a == ACT_SHUTDOWN)
		HOLDS(t == T_NMI || (t == T_HW && v == 18));
	return a == ACT_SIPI;
}
/* Not wait-for-SIPI with "entry to SMM" (that control fails first outside SMM, 27.2.1.3). */
static uint32_t guest_activity_smm_sipi(void)
{
	HOLDS(!(ENTRYC & VMX_ENTRY_SMM) || activity() != ACT_SIPI);
}
static uint32_t guest_intr_reserved(void) { HOLDS(!(intr_state() & ~0x1full)); }
static uint32_t guest_intr_enclave(void) { HOLDS(caps.sgx || !(intr_state() & INTR_ENCLAVE)); }
static uint32_t guest_intr_sti_movss(void)
{
	HOLDS((intr_state() & (INTR_STI | INTR_MOVSS)) != (INTR_STI | INTR_MOVSS));
}
static uint32_t guest_intr_sti_if(void)
{
	HOLDS((F(VMCS_GUEST_RFLAGS) & X86_EFLAGS_IF) || !(intr_state() & INTR_STI));
}
static uint32_t guest_intr_ext_intr(void)
{
	HOLDS(!injecting() || intr_type() != T_EXT || !(intr_state() & (INTR_STI | INTR_MOVSS)));
}
static uint32_t guest_intr_nmi_movss(void)
{
	HOLDS(!injecting() || intr_type() != T_NMI || !(intr_state() & INTR_MOVSS));
}
/* Implementation-specific (27.3.1.5): some processors fail an NMI injection under STI blocking. */
static uint32_t guest_intr_nmi_sti(void)
{
	HOLDS(!injecting() || intr_type() != T_NMI || !(intr_state() & INTR_STI));
}
/* Outside SMM, blocking by SMI is 0. */
static uint32_t guest_intr_smi(void) { HOLDS(!(intr_state() & INTR_SMI)); }
static uint32_t guest_intr_vnmi(void)
{
	HOLDS(!(PIN & VMX_PIN_VIRTUAL_NMIS) || !injecting() || intr_type() != T_NMI ||
	      !(intr_state() & INTR_NMI));
}
/* Bits 11:4, 13, 15, 63:17 are 0; bit 16 (RTM) only where RTM exists. */
static uint32_t guest_pdbg_reserved(void)
{
	uint64_t rsvd = 0xff0ull | BIT(13) | BIT(15) | (~0ull << 17) | (caps.rtm ? 0 : BIT(16));

	HOLDS(!(F(VMCS_GUEST_PENDING_DBG) & rsvd));
}
/* With STI or MOV-SS blocking or in HLT: BS = 1 exactly when RFLAGS.TF = 1 and DEBUGCTL.BTF = 0. */
static uint32_t guest_pdbg_bs(void)
{
	bool tf, btf, bs;

	if (!(intr_state() & (INTR_STI | INTR_MOVSS)) && activity() != ACT_HLT)
		return 0;
	tf = F(VMCS_GUEST_RFLAGS) & X86_EFLAGS_TF;
	btf = F(VMCS_GUEST_DEBUGCTL) & BIT(1);
	bs = F(VMCS_GUEST_PENDING_DBG) & X86_DR6_BS;
	HOLDS(bs == (tf && !btf));
}

/* VMCS link pointer other than all ones: a 4-KiB-aligned VMCS of the right revision. */
static bool link_used(void) { return F(VMCS_VMCS_LINK_PTR) != ~0ull; }
static uint32_t guest_link_aligned(void) { HOLDS(!link_used() || !(F(VMCS_VMCS_LINK_PTR) & 0xfff)); }
static uint32_t guest_link_phys(void) { HOLDS(!link_used() || !beyond_phys(F(VMCS_VMCS_LINK_PTR))); }
static uint32_t link_header(bool *readable)
{
	uint64_t p = F(VMCS_VMCS_LINK_PTR);

	*readable = link_used() && page_addr_ok(p);
	return *readable ? phys_read32(p) : 0;
}
static uint32_t guest_link_revision(void)
{
	bool ok;
	uint32_t h = link_header(&ok);

	HOLDS(!ok || (h & 0x7fffffff) == (caps.basic & VMX_BASIC_REVISION_MASK));
}
/* Bit 31 of the header (shadow-VMCS indicator) equals "VMCS shadowing". */
static uint32_t guest_link_shadow(void)
{
	bool ok;
	uint32_t h = link_header(&ok);

	HOLDS(!ok || !(h & BIT(31)) == !(PROC2 & VMX_PROC2_VMCS_SHADOWING));
}
/*
 * Outside SMM the pointer is not the current-VMCS pointer (the rule for SMM
 * without "entry to SMM", the executive-VMCS pointer, does not arise here).
 */
static uint32_t guest_link_current(void)
{
	uint64_t current = ~0ull;

	if (vmptrst_checked(&current).outcome != VMX_SUCCEED)
		return 0;
	HOLDS(!link_used() || F(VMCS_VMCS_LINK_PTR) != current);
}

/* ------------------------------------------------------------ PDPTEs (27.3.1.6, 27.3.2.4) */

static bool pae_paging(void)
{
	return !ia32e_guest() && (F(VMCS_GUEST_CR0) & X86_CR0_PG) && (F(VMCS_GUEST_CR4) & X86_CR4_PAE);
}
/* A present PDPTE has bits 2:1, 8:5 and MAXPHYADDR and up clear (SDM Vol. 3A 5.4.1). */
static bool pdpte_ok(uint64_t e)
{
	return !(e & 1) || (!(e & 0x1e6) && !beyond_phys(e & ~(BIT(63))) && !(e & BIT(63)));
}
static uint32_t guest_pdpte_fields(void)
{
	if (!pae_paging() || !ept_on())
		return 0;
	HOLDS(pdpte_ok(F(VMCS_GUEST_PDPTE0)) && pdpte_ok(F(VMCS_GUEST_PDPTE1)) &&
	      pdpte_ok(F(VMCS_GUEST_PDPTE2)) && pdpte_ok(F(VMCS_GUEST_PDPTE3)));
}
static uint32_t load_pdpte_memory(void)
{
	uint64_t table;

	if (!pae_paging() || ept_on())
		return 0;
	table = F(VMCS_GUEST_CR3) & 0xffffffe0u;
	for (unsigned i = 0; i < 4; i++)
		if (!pdpte_ok(phys_read64(table + 8 * i)))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ 27.4 MSR loading */

/* The index from 1 of the first entry of the VM-entry MSR-load area that @bad says fails. */
static uint32_t msr_first(bool (*bad)(uint32_t index, uint32_t high, uint64_t value))
{
	uint64_t n = F(VMCS_ENTRY_MSR_LOAD_COUNT) & 0xffffffff, a = F(VMCS_ENTRY_MSR_LOAD_ADDR);

	for (uint64_t i = 0; i < n && i < 512; i++) {
		uint64_t lo = phys_read64(a + 16 * i), value = phys_read64(a + 16 * i + 8);

		if (bad(lo, lo >> 32, value))
			return i + 1;
	}
	return 0;
}
static bool msr_reserved_bad(uint32_t index, uint32_t high, uint64_t value)
{
	(void)index, (void)value;
	return high != 0;
}
static bool msr_fs_gs_bad(uint32_t index, uint32_t high, uint64_t value)
{
	(void)high, (void)value;
	return index == MSR_FS_BASE || index == MSR_GS_BASE;
}
static bool msr_x2apic_bad(uint32_t index, uint32_t high, uint64_t value)
{
	(void)high, (void)value;
	return index >> 8 == MSR_X2APIC_BASE >> 8;
}
/* IA32_SMM_MONITOR_CTL (9BH) can be written only in SMM. */
static bool msr_smm_bad(uint32_t index, uint32_t high, uint64_t value)
{
	(void)high, (void)value;
	return index == 0x9b;
}
/* IA32_BIOS_UPDT_TRIG (79H) cannot be loaded on VM entry (model-specific, SDM Vol. 4). */
static bool msr_ucode_bad(uint32_t index, uint32_t high, uint64_t value)
{
	(void)high, (void)value;
	return index == 0x79;
}
/*
 * WRMSR of the value would fault: a PAT byte that is no memory type, a
 * non-canonical address MSR, TSC_AUX above 32 bits, EFER reserved bits, or an
 * MSR that RDMSR does not know.
 */
static bool msr_wrmsr_bad(uint32_t index, uint32_t high, uint64_t value)
{
	uint64_t v;

	(void)high;
	switch (index) {
	case MSR_IA32_PAT:
		return !pat_valid(value);
	case MSR_KERNEL_GS_BASE: case MSR_LSTAR: case MSR_CSTAR:
	case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		return !canonical(value);
	case MSR_TSC_AUX:
		return value >> 32;
	case MSR_EFER:
		return value & ~caps.efer_allowed;
	}
	return rdmsr_checked(index, &v).raised;
}
static uint32_t msr_reserved(void) { return msr_first(msr_reserved_bad); }
static uint32_t msr_fs_gs(void) { return msr_first(msr_fs_gs_bad); }
static uint32_t msr_x2apic(void) { return msr_first(msr_x2apic_bad); }
static uint32_t msr_smm(void) { return msr_first(msr_smm_bad); }
static uint32_t msr_ucode(void) { return msr_first(msr_ucode_bad); }
static uint32_t msr_wrmsr(void) { return msr_first(msr_wrmsr_bad); }

/* ------------------------------------------------------------ the table */

/* Parenthesized so that they pass through the row macros whole. */
#define OUT_INVALID	((struct vr_outcome){ VR_VMFAIL_INVALID, 0, 0 })
#define OUT_VALID(n)	((struct vr_outcome){ VR_VMFAIL_VALID, n, 0 })
#define OUT_GUEST(q)	((struct vr_outcome){ VR_ENTRY_FAIL, VMX_EXIT_INVALID_GUEST_STATE, q })
#define OUT_MSR		((struct vr_outcome){ VR_ENTRY_FAIL, VMX_EXIT_MSR_LOAD_FAIL, 0 })

/* The field count from the list (VPID's encoding is 0, so no terminator). */
#define NFIELDS(...)	(sizeof((uint32_t[]){ 0, ##__VA_ARGS__ }) / sizeof(uint32_t) - 1)
#define ROW(id, nm, sec, stg, out, fn, ...)                                    \
	[id] = { .name = nm, .section = sec, .stage = stg, .violated = fn,     \
		 .fail = out, .nfields = NFIELDS(__VA_ARGS__), .fields = { __VA_ARGS__ } }
#define INSN(id, nm, out, fn)	ROW(id, nm, "27.1", VR_STAGE_INSN, out, fn)
#define CTL(id, nm, sec, fn, ...) \
	ROW(id, nm, sec, VR_STAGE_CONTROL, OUT_VALID(VMXERR_ENTRY_INVALID_CONTROL), fn, __VA_ARGS__)
#define HOST(id, nm, sec, fn, ...) \
	ROW(id, nm, sec, VR_STAGE_HOST, OUT_VALID(VMXERR_ENTRY_INVALID_HOST), fn, __VA_ARGS__)
#define GUEST(id, nm, sec, fn, ...) ROW(id, nm, sec, VR_STAGE_GUEST, OUT_GUEST(0), fn, __VA_ARGS__)
#define LINK(id, nm, fn)							\
	ROW(id, nm, "27.3.1.5", VR_STAGE_GUEST, OUT_GUEST(4), fn, VMCS_VMCS_LINK_PTR)
#define MSRL(id, nm, fn)							\
	ROW(id, nm, "27.4", VR_STAGE_MSR_LOAD, OUT_MSR, fn, VMCS_ENTRY_MSR_LOAD_COUNT,	\
	    VMCS_ENTRY_MSR_LOAD_ADDR)

#define INTR_F		VMCS_ENTRY_INTR_INFO
#define SEG_F(s)	G_SEL(s), G_BASE(s), G_LIMIT(s), G_AR(s)
#define RFL		VMCS_GUEST_RFLAGS

const struct vmx_rule vmx_rules[VR_RULE_COUNT] = {
	INSN(VR_INSN_CURRENT_VMCS, "insn.current_vmcs", OUT_INVALID, insn_current_vmcs),
	INSN(VR_INSN_CURRENT_NOT_SHADOW, "insn.current_not_shadow", OUT_INVALID,
	     insn_current_not_shadow),
	INSN(VR_INSN_MOV_SS, "insn.mov_ss_blocking", OUT_VALID(VMXERR_ENTRY_MOV_SS), insn_mov_ss),
	INSN(VR_INSN_VMLAUNCH_CLEAR, "insn.vmlaunch_clear", OUT_VALID(VMXERR_VMLAUNCH_NOT_CLEAR),
	     insn_vmlaunch_clear),
	INSN(VR_INSN_VMRESUME_LAUNCHED, "insn.vmresume_launched",
	     OUT_VALID(VMXERR_VMRESUME_NOT_LAUNCHED), insn_vmresume_launched),

	CTL(VR_CTL_PIN_ALLOWED, "ctl.pin.allowed", "27.2.1.1", ctl_pin_allowed),
	CTL(VR_CTL_PROC_ALLOWED, "ctl.proc.allowed", "27.2.1.1", ctl_proc_allowed),
	CTL(VR_CTL_PROC2_ALLOWED, "ctl.proc2.allowed", "27.2.1.1", ctl_proc2_allowed,
	    VMCS_PROC_CONTROLS2),
	CTL(VR_CTL_PROC3_ALLOWED, "ctl.proc3.allowed", "27.2.1.1", ctl_proc3_allowed,
	    VMCS_PROC_CONTROLS3),
	CTL(VR_CTL_CR3_TARGET_COUNT, "ctl.cr3_target_count", "27.2.1.1", ctl_cr3_target_count,
	    VMCS_CR3_TARGET_COUNT),
	CTL(VR_CTL_IO_BITMAP_A_ALIGNED, "ctl.io_bitmap_a.aligned", "27.2.1.1", ctl_io_a_aligned,
	    VMCS_IO_BITMAP_A),
	CTL(VR_CTL_IO_BITMAP_A_MAXPHYADDR, "ctl.io_bitmap_a.maxphyaddr", "27.2.1.1",
	    ctl_io_a_maxphyaddr, VMCS_IO_BITMAP_A),
	CTL(VR_CTL_IO_BITMAP_B_ALIGNED, "ctl.io_bitmap_b.aligned", "27.2.1.1", ctl_io_b_aligned,
	    VMCS_IO_BITMAP_B),
	CTL(VR_CTL_IO_BITMAP_B_MAXPHYADDR, "ctl.io_bitmap_b.maxphyaddr", "27.2.1.1",
	    ctl_io_b_maxphyaddr, VMCS_IO_BITMAP_B),
	CTL(VR_CTL_MSR_BITMAP_ALIGNED, "ctl.msr_bitmap.aligned", "27.2.1.1",
	    ctl_msr_bitmap_aligned, VMCS_MSR_BITMAP),
	CTL(VR_CTL_MSR_BITMAP_MAXPHYADDR, "ctl.msr_bitmap.maxphyaddr", "27.2.1.1",
	    ctl_msr_bitmap_maxphyaddr, VMCS_MSR_BITMAP),
	CTL(VR_CTL_VAPIC_ALIGNED, "ctl.tpr_shadow.vapic_aligned", "27.2.1.1", ctl_vapic_aligned,
	    VMCS_VIRTUAL_APIC_ADDR),
	CTL(VR_CTL_VAPIC_MAXPHYADDR, "ctl.tpr_shadow.vapic_maxphyaddr", "27.2.1.1",
	    ctl_vapic_maxphyaddr, VMCS_VIRTUAL_APIC_ADDR),
	CTL(VR_CTL_TPR_THRESHOLD_RESERVED, "ctl.tpr_shadow.threshold_reserved", "27.2.1.1",
	    ctl_tpr_threshold_reserved, VMCS_TPR_THRESHOLD),
	CTL(VR_CTL_TPR_THRESHOLD_VTPR, "ctl.tpr_shadow.threshold_vtpr", "27.2.1.1",
	    ctl_tpr_threshold_vtpr, VMCS_TPR_THRESHOLD, VMCS_VIRTUAL_APIC_ADDR),
	CTL(VR_CTL_X2APIC_NEEDS_TPR_SHADOW, "ctl.tpr_shadow.x2apic_needs", "27.2.1.1",
	    ctl_x2apic_needs_tpr),
	CTL(VR_CTL_REGVIRT_NEEDS_TPR_SHADOW, "ctl.tpr_shadow.regvirt_needs", "27.2.1.1",
	    ctl_regvirt_needs_tpr),
	CTL(VR_CTL_VID_NEEDS_TPR_SHADOW, "ctl.tpr_shadow.vid_needs", "27.2.1.1", ctl_vid_needs_tpr),
	CTL(VR_CTL_VNMI_NEEDS_NMI_EXIT, "ctl.nmi.vnmi_needs_nmi_exit", "27.2.1.1",
	    ctl_vnmi_needs_nmi_exit),
	CTL(VR_CTL_NMI_WINDOW_NEEDS_VNMI, "ctl.nmi.window_needs_vnmi", "27.2.1.1",
	    ctl_nmi_window_needs_vnmi),
	CTL(VR_CTL_APIC_ACCESS_ALIGNED, "ctl.apic_access.aligned", "27.2.1.1",
	    ctl_apic_access_aligned, VMCS_APIC_ACCESS_ADDR),
	CTL(VR_CTL_APIC_ACCESS_MAXPHYADDR, "ctl.apic_access.maxphyaddr", "27.2.1.1",
	    ctl_apic_access_maxphyaddr, VMCS_APIC_ACCESS_ADDR),
	CTL(VR_CTL_X2APIC_AND_APIC_ACCESS, "ctl.apic_access.x2apic_exclusive", "27.2.1.1",
	    ctl_x2apic_and_apic_access),
	CTL(VR_CTL_VID_NEEDS_EXT_INTR_EXIT, "ctl.vid.needs_ext_intr_exit", "27.2.1.1",
	    ctl_vid_needs_ext_intr_exit),
	CTL(VR_CTL_POSTED_NEEDS_VID, "ctl.posted.needs_vid", "27.2.1.1", ctl_posted_needs_vid),
	CTL(VR_CTL_POSTED_NEEDS_ACK, "ctl.posted.needs_ack_intr", "27.2.1.1", ctl_posted_needs_ack),
	CTL(VR_CTL_POSTED_VECTOR, "ctl.posted.vector", "27.2.1.1", ctl_posted_vector,
	    VMCS_POSTED_INTR_NV),
	CTL(VR_CTL_POSTED_DESC_ADDR, "ctl.posted.desc_addr", "27.2.1.1", ctl_posted_desc,
	    VMCS_POSTED_INTR_DESC_ADDR),
	CTL(VR_CTL_VPID_NONZERO, "ctl.vpid.nonzero", "27.2.1.1", ctl_vpid_nonzero, VMCS_VPID),
	CTL(VR_CTL_EPTP_MEMTYPE, "ctl.eptp.memtype", "27.2.1.1", ctl_eptp_memtype, VMCS_EPT_POINTER),
	CTL(VR_CTL_EPTP_WALK_LENGTH, "ctl.eptp.walk_length", "27.2.1.1", ctl_eptp_walk,
	    VMCS_EPT_POINTER),
	CTL(VR_CTL_EPTP_AD, "ctl.eptp.ad", "27.2.1.1", ctl_eptp_ad, VMCS_EPT_POINTER),
	CTL(VR_CTL_EPTP_RESERVED, "ctl.eptp.reserved", "27.2.1.1", ctl_eptp_reserved,
	    VMCS_EPT_POINTER),
	CTL(VR_CTL_EPTP_MAXPHYADDR, "ctl.eptp.maxphyaddr", "27.2.1.1", ctl_eptp_maxphyaddr,
	    VMCS_EPT_POINTER),
	CTL(VR_CTL_PML_NEEDS_EPT, "ctl.pml.needs_ept", "27.2.1.1", ctl_pml_needs_ept),
	CTL(VR_CTL_PML_ADDR, "ctl.pml.addr", "27.2.1.1", ctl_pml_addr, VMCS_PML_ADDRESS),
	CTL(VR_CTL_UG_NEEDS_EPT, "ctl.unrestricted.needs_ept", "27.2.1.1", ctl_ug_needs_ept),
	CTL(VR_CTL_MBEC_NEEDS_EPT, "ctl.mbec.needs_ept", "27.2.1.1", ctl_mbec_needs_ept),
	CTL(VR_CTL_VMFUNC_ALLOWED, "ctl.vmfunc.allowed", "27.2.1.1", ctl_vmfunc_allowed,
	    VMCS_VMFUNC_CONTROLS),
	CTL(VR_CTL_EPTP_SWITCH_NEEDS_EPT, "ctl.vmfunc.eptp_switch_needs_ept", "27.2.1.1",
	    ctl_eptp_switch_needs_ept, VMCS_VMFUNC_CONTROLS),
	CTL(VR_CTL_EPTP_LIST_ADDR, "ctl.vmfunc.eptp_list_addr", "27.2.1.1", ctl_eptp_list,
	    VMCS_VMFUNC_CONTROLS, VMCS_EPTP_LIST_ADDR),
	CTL(VR_CTL_SHADOW_BITMAPS, "ctl.shadowing.bitmaps", "27.2.1.1", ctl_shadow_bitmaps,
	    VMCS_VMREAD_BITMAP, VMCS_VMWRITE_BITMAP),
	CTL(VR_CTL_VE_INFO_ADDR, "ctl.ept_ve.info_addr", "27.2.1.1", ctl_ve_info, VMCS_VE_INFO_ADDR),
	CTL(VR_CTL_SPP_NEEDS_EPT, "ctl.spp.needs_ept", "27.2.1.1", ctl_spp_needs_ept),
	CTL(VR_CTL_SPPTP_ADDR, "ctl.spp.spptp_addr", "27.2.1.1", ctl_spptp, VMCS_SPP_TABLE_PTR),

	CTL(VR_CTL_EXIT_ALLOWED, "ctl.exit.allowed", "27.2.1.2", ctl_exit_allowed),
	CTL(VR_CTL_EXIT2_ALLOWED, "ctl.exit2.allowed", "27.2.1.2", ctl_exit2_allowed,
	    VMCS_EXIT_CONTROLS2),
	CTL(VR_CTL_SAVE_PREEMPT_NEEDS_TIMER, "ctl.exit.save_preempt_needs_timer", "27.2.1.2",
	    ctl_save_preempt),
	CTL(VR_CTL_EXIT_STORE_ALIGNED, "ctl.msr_area.exit_store_aligned", "27.2.1.2",
	    ctl_exit_store_aligned, VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR),
	CTL(VR_CTL_EXIT_STORE_MAXPHYADDR, "ctl.msr_area.exit_store_maxphyaddr", "27.2.1.2",
	    ctl_exit_store_phys, VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR),
	CTL(VR_CTL_EXIT_LOAD_ALIGNED, "ctl.msr_area.exit_load_aligned", "27.2.1.2",
	    ctl_exit_load_aligned, VMCS_EXIT_MSR_LOAD_COUNT, VMCS_EXIT_MSR_LOAD_ADDR),
	CTL(VR_CTL_EXIT_LOAD_MAXPHYADDR, "ctl.msr_area.exit_load_maxphyaddr", "27.2.1.2",
	    ctl_exit_load_phys, VMCS_EXIT_MSR_LOAD_COUNT, VMCS_EXIT_MSR_LOAD_ADDR),

	CTL(VR_CTL_ENTRY_ALLOWED, "ctl.entry.allowed", "27.2.1.3", ctl_entry_allowed),
	CTL(VR_CTL_ENTRY_SMM, "ctl.entry.smm", "27.2.1.3", ctl_entry_smm),
	CTL(VR_CTL_ENTRY_DUAL_MONITOR, "ctl.entry.dual_monitor", "27.2.1.3", ctl_entry_dual),
	CTL(VR_CTL_INJECT_TYPE, "ctl.inject.type_reserved", "27.2.1.3", ctl_inject_type, INTR_F),
	CTL(VR_CTL_INJECT_OTHER_NEEDS_MTF, "ctl.inject.other_needs_mtf", "27.2.1.3", ctl_inject_other,
	    INTR_F),
	CTL(VR_CTL_INJECT_VECTOR, "ctl.inject.vector", "27.2.1.3", ctl_inject_vector, INTR_F),
	CTL(VR_CTL_INJECT_ERROR_CODE_MUST_BE_0, "ctl.inject.error_code_must_be_0", "27.2.1.3",
	    ctl_inject_ec0, INTR_F, VMCS_GUEST_CR0),
	CTL(VR_CTL_INJECT_ERROR_CODE_MUST_BE_1, "ctl.inject.error_code_must_be_1", "27.2.1.3",
	    ctl_inject_ec1, INTR_F, VMCS_GUEST_CR0),
	CTL(VR_CTL_INJECT_RESERVED, "ctl.inject.reserved", "27.2.1.3", ctl_inject_reserved, INTR_F),
	CTL(VR_CTL_INJECT_ERROR_CODE_BITS, "ctl.inject.error_code_bits", "27.2.1.3",
	    ctl_inject_ec_bits, INTR_F, VMCS_ENTRY_EXCEPTION_ERROR),
	CTL(VR_CTL_INJECT_LENGTH, "ctl.inject.length", "27.2.1.3", ctl_inject_length, INTR_F,
	    VMCS_ENTRY_INSN_LEN),
	CTL(VR_CTL_ENTRY_LOAD_ALIGNED, "ctl.msr_area.entry_load_aligned", "27.2.1.3",
	    ctl_entry_load_aligned, VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR),
	CTL(VR_CTL_ENTRY_LOAD_MAXPHYADDR, "ctl.msr_area.entry_load_maxphyaddr", "27.2.1.3",
	    ctl_entry_load_phys, VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR),

	HOST(VR_HOST_CR0_FIXED0, "host.cr0.fixed0", "27.2.2", host_cr0_fixed0, VMCS_HOST_CR0),
	HOST(VR_HOST_CR0_FIXED1, "host.cr0.fixed1", "27.2.2", host_cr0_fixed1, VMCS_HOST_CR0),
	HOST(VR_HOST_CR4_FIXED0, "host.cr4.fixed0", "27.2.2", host_cr4_fixed0, VMCS_HOST_CR4),
	HOST(VR_HOST_CR4_FIXED1, "host.cr4.fixed1", "27.2.2", host_cr4_fixed1, VMCS_HOST_CR4),
	HOST(VR_HOST_CR3_MAXPHYADDR, "host.cr3.maxphyaddr", "27.2.2", host_cr3, VMCS_HOST_CR3),
	HOST(VR_HOST_SYSENTER_ESP, "host.sysenter_esp.canonical", "27.2.2", host_sysenter_esp,
	     VMCS_HOST_SYSENTER_ESP),
	HOST(VR_HOST_SYSENTER_EIP, "host.sysenter_eip.canonical", "27.2.2", host_sysenter_eip,
	     VMCS_HOST_SYSENTER_EIP),
	HOST(VR_HOST_PERF_GLOBAL, "host.perf_global_ctrl.reserved", "27.2.2", host_perf_global,
	     VMCS_HOST_PERF_GLOBAL_CTRL),
	HOST(VR_HOST_PAT, "host.pat.valid", "27.2.2", host_pat, VMCS_HOST_PAT),
	HOST(VR_HOST_EFER_RESERVED, "host.efer.reserved", "27.2.2", host_efer_reserved,
	     VMCS_HOST_EFER),
	HOST(VR_HOST_EFER_LMA, "host.efer.lma", "27.2.2", host_efer_lma, VMCS_HOST_EFER),
	HOST(VR_HOST_EFER_LME, "host.efer.lme", "27.2.2", host_efer_lme, VMCS_HOST_EFER),
	HOST(VR_HOST_SEL_RPL_TI, "host.sel.rpl_ti", "27.2.3", host_sel_rpl_ti, VMCS_HOST_ES_SEL,
	     VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL,
	     VMCS_HOST_GS_SEL, VMCS_HOST_TR_SEL),
	HOST(VR_HOST_CS_NULL, "host.sel.cs_nonnull", "27.2.3", host_cs_null, VMCS_HOST_CS_SEL),
	HOST(VR_HOST_TR_NULL, "host.sel.tr_nonnull", "27.2.3", host_tr_null, VMCS_HOST_TR_SEL),
	HOST(VR_HOST_SS_NULL, "host.sel.ss_nonnull_32bit", "27.2.3", host_ss_null,
	     VMCS_HOST_SS_SEL),
	HOST(VR_HOST_BASES, "host.bases.canonical", "27.2.3", host_bases, VMCS_HOST_FS_BASE,
	     VMCS_HOST_GS_BASE, VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE, VMCS_HOST_TR_BASE),
	HOST(VR_HOST_ADDR_SPACE, "host.addr_space.ia32e", "27.2.4", host_addr_space),
	HOST(VR_HOST_PAE, "host.addr_space.cr4_pae", "27.2.4", host_pae, VMCS_HOST_CR4),
	HOST(VR_HOST_PCIDE, "host.addr_space.cr4_pcide_32bit", "27.2.4", host_pcide, VMCS_HOST_CR4),
	HOST(VR_HOST_RIP, "host.addr_space.rip", "27.2.4", host_rip, VMCS_HOST_RIP),
	HOST(VR_HOST_IA32E_GUEST_32BIT, "host.addr_space.ia32e_guest_32bit", "27.2.4",
	     host_ia32e_guest_32bit),

	/* CET, PKS, UINTR */
	HOST(VR_HOST_CR4_CET_WP, "host.cr4.cet_needs_wp", "27.2.2", host_cr4_cet_wp, VMCS_HOST_CR4,
	     VMCS_HOST_CR0),
	HOST(VR_HOST_S_CET_CANONICAL, "host.cet.s_cet_canonical", "27.2.2", host_s_cet_canonical,
	     VMCS_HOST_S_CET),
	HOST(VR_HOST_S_CET_RESERVED, "host.cet.s_cet_reserved", "27.2.2", host_s_cet_reserved,
	     VMCS_HOST_S_CET),
	HOST(VR_HOST_S_CET_SUPPRESS_TRACKER, "host.cet.s_cet_suppress_tracker", "27.2.2",
	     host_s_cet_suppress_tracker, VMCS_HOST_S_CET),
	HOST(VR_HOST_SSP_CANONICAL, "host.cet.ssp_canonical", "27.2.2", host_ssp_canonical,
	     VMCS_HOST_SSP),
	HOST(VR_HOST_SSP_ALIGNED, "host.cet.ssp_aligned", "27.2.2", host_ssp_aligned, VMCS_HOST_SSP),
	HOST(VR_HOST_ISST_CANONICAL, "host.cet.isst_canonical", "27.2.2", host_isst_canonical,
	     VMCS_HOST_INTR_SSP_TABLE),
	HOST(VR_HOST_PKRS_RESERVED, "host.pkrs.reserved", "27.2.2", host_pkrs, VMCS_HOST_PKRS),
	GUEST(VR_GUEST_CR4_CET_WP, "guest.cr4.cet_needs_wp", "27.3.1.1", guest_cr4_cet_wp,
	      VMCS_GUEST_CR4, VMCS_GUEST_CR0),
	GUEST(VR_GUEST_S_CET_RESERVED, "guest.cet.s_cet_reserved", "27.3.1.1", guest_s_cet_reserved,
	      VMCS_GUEST_S_CET),
	GUEST(VR_GUEST_S_CET_SUPPRESS_TRACKER, "guest.cet.s_cet_suppress_tracker", "27.3.1.1",
	      guest_s_cet_suppress_tracker, VMCS_GUEST_S_CET),
	GUEST(VR_GUEST_SSP_HIGH, "guest.cet.ssp_high_bits", "27.3.1.1", guest_ssp_high, VMCS_GUEST_SSP),
	GUEST(VR_GUEST_SSP_ALIGNED, "guest.cet.ssp_aligned", "27.3.1.1", guest_ssp_aligned,
	      VMCS_GUEST_SSP),
	GUEST(VR_GUEST_ISST_CANONICAL, "guest.cet.isst_canonical", "27.3.1.1", guest_isst_canonical,
	      VMCS_GUEST_INTR_SSP_TABLE),
	GUEST(VR_GUEST_PKRS_RESERVED, "guest.pkrs.reserved", "27.3.1.1", guest_pkrs, VMCS_GUEST_PKRS),
	GUEST(VR_GUEST_UINV_RESERVED, "guest.uinv.reserved", "27.3.1.5", guest_uinv, VMCS_GUEST_UINV),

	GUEST(VR_GUEST_CR0_FIXED0, "guest.cr0.fixed0", "27.3.1.1", guest_cr0_fixed0, VMCS_GUEST_CR0),
	GUEST(VR_GUEST_CR0_FIXED1, "guest.cr0.fixed1", "27.3.1.1", guest_cr0_fixed1, VMCS_GUEST_CR0),
	GUEST(VR_GUEST_CR0_PG_NEEDS_PE, "guest.cr0.pg_needs_pe", "27.3.1.1", guest_cr0_pg_pe,
	      VMCS_GUEST_CR0),
	GUEST(VR_GUEST_CR4_FIXED0, "guest.cr4.fixed0", "27.3.1.1", guest_cr4_fixed0, VMCS_GUEST_CR4),
	GUEST(VR_GUEST_CR4_FIXED1, "guest.cr4.fixed1", "27.3.1.1", guest_cr4_fixed1, VMCS_GUEST_CR4),
	GUEST(VR_GUEST_DEBUGCTL, "guest.debugctl.reserved", "27.3.1.1", guest_debugctl,
	      VMCS_GUEST_DEBUGCTL),
	GUEST(VR_GUEST_IA32E_PG, "guest.ia32e.cr0_pg", "27.3.1.1", guest_ia32e_pg, VMCS_GUEST_CR0),
	GUEST(VR_GUEST_IA32E_PAE, "guest.ia32e.cr4_pae", "27.3.1.1", guest_ia32e_pae, VMCS_GUEST_CR4),
	GUEST(VR_GUEST_PCIDE, "guest.ia32e.pcide_outside", "27.3.1.1", guest_pcide, VMCS_GUEST_CR4),
	GUEST(VR_GUEST_CR3_MAXPHYADDR, "guest.cr3.maxphyaddr", "27.3.1.1", guest_cr3, VMCS_GUEST_CR3),
	GUEST(VR_GUEST_DR7, "guest.dr7.high", "27.3.1.1", guest_dr7, VMCS_GUEST_DR7),
	GUEST(VR_GUEST_SYSENTER_ESP, "guest.sysenter_esp.canonical", "27.3.1.1",
	      guest_sysenter_esp, VMCS_GUEST_SYSENTER_ESP),
	GUEST(VR_GUEST_SYSENTER_EIP, "guest.sysenter_eip.canonical", "27.3.1.1",
	      guest_sysenter_eip, VMCS_GUEST_SYSENTER_EIP),
	GUEST(VR_GUEST_PERF_GLOBAL, "guest.perf_global_ctrl.reserved", "27.3.1.1",
	      guest_perf_global, VMCS_GUEST_PERF_GLOBAL_CTRL),
	GUEST(VR_GUEST_PAT, "guest.pat.valid", "27.3.1.1", guest_pat, VMCS_GUEST_PAT),
	GUEST(VR_GUEST_EFER_RESERVED, "guest.efer.reserved", "27.3.1.1", guest_efer_reserved,
	      VMCS_GUEST_EFER),
	GUEST(VR_GUEST_EFER_LMA, "guest.efer.lma", "27.3.1.1", guest_efer_lma, VMCS_GUEST_EFER),
	GUEST(VR_GUEST_EFER_LME, "guest.efer.lme", "27.3.1.1", guest_efer_lme, VMCS_GUEST_EFER,
	      VMCS_GUEST_CR0),

	GUEST(VR_GUEST_TR_TI, "guest.tr.ti", "27.3.1.2", guest_tr_ti, G_SEL(TR)),
	GUEST(VR_GUEST_LDTR_TI, "guest.ldtr.ti", "27.3.1.2", guest_ldtr_ti, G_SEL(LDTR), G_AR(LDTR)),
	GUEST(VR_GUEST_SS_RPL, "guest.ss.rpl_cs", "27.3.1.2", guest_ss_rpl, RFL, G_SEL(SS),
	      G_SEL(CS)),
	GUEST(VR_GUEST_V86_BASE, "guest.v86.base", "27.3.1.2", guest_v86_base, RFL, ALL_SEL, ALL_BASE),
	GUEST(VR_GUEST_V86_LIMIT, "guest.v86.limit", "27.3.1.2", guest_v86_limit, RFL, ALL_LIMIT),
	GUEST(VR_GUEST_V86_AR, "guest.v86.ar", "27.3.1.2", guest_v86_ar, RFL, ALL_AR),
	GUEST(VR_GUEST_TR_BASE, "guest.tr.base", "27.3.1.2", guest_tr_base, G_BASE(TR)),
	GUEST(VR_GUEST_FS_GS_BASE, "guest.fs_gs.base", "27.3.1.2", guest_fs_gs_base, G_BASE(FS),
	      G_BASE(GS)),
	GUEST(VR_GUEST_LDTR_BASE, "guest.ldtr.base", "27.3.1.2", guest_ldtr_base, G_BASE(LDTR),
	      G_AR(LDTR)),
	GUEST(VR_GUEST_CS_BASE, "guest.cs.base", "27.3.1.2", guest_cs_base, G_BASE(CS)),
	GUEST(VR_GUEST_SS_DS_ES_BASE, "guest.ss_ds_es.base", "27.3.1.2", guest_ss_ds_es_base,
	      G_BASE(SS), G_BASE(DS), G_BASE(ES), G_AR(SS), G_AR(DS), G_AR(ES)),
	GUEST(VR_GUEST_CS_TYPE, "guest.cs.type", "27.3.1.2", guest_cs_type, RFL, G_AR(CS)),
	GUEST(VR_GUEST_CS_S, "guest.cs.s", "27.3.1.2", guest_cs_s, RFL, G_AR(CS)),
	GUEST(VR_GUEST_CS_DPL, "guest.cs.dpl", "27.3.1.2", guest_cs_dpl, RFL, G_AR(CS), G_AR(SS)),
	GUEST(VR_GUEST_CS_P, "guest.cs.p", "27.3.1.2", guest_cs_p, RFL, G_AR(CS)),
	GUEST(VR_GUEST_CS_RESERVED, "guest.cs.reserved", "27.3.1.2", guest_cs_reserved, RFL,
	      G_AR(CS)),
	GUEST(VR_GUEST_CS_DB, "guest.cs.db_64bit", "27.3.1.2", guest_cs_db, RFL, G_AR(CS)),
	GUEST(VR_GUEST_CS_G, "guest.cs.g", "27.3.1.2", guest_cs_g, RFL, G_AR(CS), G_LIMIT(CS)),
	GUEST(VR_GUEST_SS_TYPE, "guest.ss.type", "27.3.1.2", guest_ss_type, RFL, G_AR(SS)),
	GUEST(VR_GUEST_SS_S, "guest.ss.s", "27.3.1.2", guest_ss_s, RFL, G_AR(SS)),
	GUEST(VR_GUEST_SS_DPL_RPL, "guest.ss.dpl_rpl", "27.3.1.2", guest_ss_dpl_rpl, RFL, G_AR(SS),
	      G_SEL(SS)),
	GUEST(VR_GUEST_SS_DPL_ZERO, "guest.ss.dpl_zero", "27.3.1.2", guest_ss_dpl_zero, RFL,
	      G_AR(SS), G_AR(CS), VMCS_GUEST_CR0),
	GUEST(VR_GUEST_SS_P, "guest.ss.p", "27.3.1.2", guest_ss_p, RFL, G_AR(SS)),
	GUEST(VR_GUEST_SS_RESERVED, "guest.ss.reserved", "27.3.1.2", guest_ss_reserved, RFL,
	      G_AR(SS)),
	GUEST(VR_GUEST_SS_G, "guest.ss.g", "27.3.1.2", guest_ss_g, RFL, G_AR(SS), G_LIMIT(SS)),
	GUEST(VR_GUEST_DATA_TYPE, "guest.data.type", "27.3.1.2", guest_data_type, RFL, DATA_AR),
	GUEST(VR_GUEST_DATA_S, "guest.data.s", "27.3.1.2", guest_data_s, RFL, DATA_AR),
	GUEST(VR_GUEST_DATA_DPL, "guest.data.dpl", "27.3.1.2", guest_data_dpl, RFL, DATA_AR,
	      G_SEL(ES), G_SEL(DS), G_SEL(FS), G_SEL(GS)),
	GUEST(VR_GUEST_DATA_P, "guest.data.p", "27.3.1.2", guest_data_p, RFL, DATA_AR),
	GUEST(VR_GUEST_DATA_RESERVED, "guest.data.reserved", "27.3.1.2", guest_data_reserved, RFL,
	      DATA_AR),
	GUEST(VR_GUEST_DATA_G, "guest.data.g", "27.3.1.2", guest_data_g, RFL, DATA_AR, DATA_LIMIT),
	GUEST(VR_GUEST_TR_TYPE, "guest.tr.type", "27.3.1.2", guest_tr_type, G_AR(TR)),
	GUEST(VR_GUEST_TR_S, "guest.tr.s", "27.3.1.2", guest_tr_s, G_AR(TR)),
	GUEST(VR_GUEST_TR_P, "guest.tr.p", "27.3.1.2", guest_tr_p, G_AR(TR)),
	GUEST(VR_GUEST_TR_RESERVED, "guest.tr.reserved", "27.3.1.2", guest_tr_reserved, G_AR(TR)),
	GUEST(VR_GUEST_TR_G, "guest.tr.g", "27.3.1.2", guest_tr_g, G_AR(TR), G_LIMIT(TR)),
	GUEST(VR_GUEST_TR_USABLE, "guest.tr.usable", "27.3.1.2", guest_tr_usable, G_AR(TR)),
	GUEST(VR_GUEST_LDTR_TYPE, "guest.ldtr.type", "27.3.1.2", guest_ldtr_type, G_AR(LDTR)),
	GUEST(VR_GUEST_LDTR_S, "guest.ldtr.s", "27.3.1.2", guest_ldtr_s, G_AR(LDTR)),
	GUEST(VR_GUEST_LDTR_P, "guest.ldtr.p", "27.3.1.2", guest_ldtr_p, G_AR(LDTR)),
	GUEST(VR_GUEST_LDTR_RESERVED, "guest.ldtr.reserved", "27.3.1.2", guest_ldtr_reserved,
	      G_AR(LDTR)),
	GUEST(VR_GUEST_LDTR_G, "guest.ldtr.g", "27.3.1.2", guest_ldtr_g, G_AR(LDTR), G_LIMIT(LDTR)),

	GUEST(VR_GUEST_GDTR_IDTR_BASE, "guest.gdtr_idtr.base", "27.3.1.3", guest_dtr_base,
	      VMCS_GUEST_GDTR_BASE, VMCS_GUEST_IDTR_BASE),
	GUEST(VR_GUEST_GDTR_IDTR_LIMIT, "guest.gdtr_idtr.limit", "27.3.1.3", guest_dtr_limit,
	      VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_LIMIT),

	GUEST(VR_GUEST_RIP_HIGH, "guest.rip.high", "27.3.1.4", guest_rip_high, VMCS_GUEST_RIP,
	      G_AR(CS)),
	GUEST(VR_GUEST_RIP_CANONICAL, "guest.rip.canonical", "27.3.1.4", guest_rip_canonical,
	      VMCS_GUEST_RIP, G_AR(CS)),
	GUEST(VR_GUEST_RFLAGS_RESERVED, "guest.rflags.reserved", "27.3.1.4", guest_rflags_reserved,
	      RFL),
	GUEST(VR_GUEST_RFLAGS_VM, "guest.rflags.vm", "27.3.1.4", guest_rflags_vm, RFL,
	      VMCS_GUEST_CR0),
	GUEST(VR_GUEST_RFLAGS_IF, "guest.rflags.if_ext_intr", "27.3.1.4", guest_rflags_if, RFL,
	      INTR_F),

	GUEST(VR_GUEST_ACTIVITY_VALID, "guest.activity.valid", "27.3.1.5", guest_activity_valid,
	      VMCS_GUEST_ACTIVITY_STATE),
	GUEST(VR_GUEST_ACTIVITY_HLT_DPL, "guest.activity.hlt_ss_dpl", "27.3.1.5",
	      guest_activity_hlt_dpl, VMCS_GUEST_ACTIVITY_STATE, G_AR(SS)),
	GUEST(VR_GUEST_ACTIVITY_BLOCKING, "guest.activity.blocking_active", "27.3.1.5",
	      guest_activity_blocking, VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_INTERRUPTIBILITY),
	GUEST(VR_GUEST_ACTIVITY_INJECTION, "guest.activity.injection", "27.3.1.5",
	      guest_activity_injection, VMCS_GUEST_ACTIVITY_STATE, INTR_F),
	GUEST(VR_GUEST_ACTIVITY_SMM_SIPI, "guest.activity.sipi_entry_smm", "27.3.1.5",
	      guest_activity_smm_sipi, VMCS_GUEST_ACTIVITY_STATE),
	GUEST(VR_GUEST_INTR_RESERVED, "guest.intr_state.reserved", "27.3.1.5", guest_intr_reserved,
	      VMCS_GUEST_INTERRUPTIBILITY),
	GUEST(VR_GUEST_INTR_ENCLAVE, "guest.intr_state.enclave", "27.3.1.5", guest_intr_enclave,
	      VMCS_GUEST_INTERRUPTIBILITY),
	GUEST(VR_GUEST_INTR_STI_MOVSS, "guest.intr_state.sti_and_movss", "27.3.1.5",
	      guest_intr_sti_movss, VMCS_GUEST_INTERRUPTIBILITY),
	GUEST(VR_GUEST_INTR_STI_IF, "guest.intr_state.sti_needs_if", "27.3.1.5", guest_intr_sti_if,
	      VMCS_GUEST_INTERRUPTIBILITY, RFL),
	GUEST(VR_GUEST_INTR_EXT_INTR, "guest.intr_state.ext_intr", "27.3.1.5", guest_intr_ext_intr,
	      VMCS_GUEST_INTERRUPTIBILITY, INTR_F),
	GUEST(VR_GUEST_INTR_NMI_MOVSS, "guest.intr_state.nmi_movss", "27.3.1.5",
	      guest_intr_nmi_movss, VMCS_GUEST_INTERRUPTIBILITY, INTR_F),
	[VR_GUEST_INTR_NMI_STI] = { .name = "guest.intr_state.nmi_sti", .section = "27.3.1.5",
				    .stage = VR_STAGE_GUEST, .optional = true,
				    .violated = guest_intr_nmi_sti, .fail = OUT_GUEST(3), .nfields = 2,
				    .fields = { VMCS_GUEST_INTERRUPTIBILITY, INTR_F } },
	GUEST(VR_GUEST_INTR_SMI, "guest.intr_state.smi", "27.3.1.5", guest_intr_smi,
	      VMCS_GUEST_INTERRUPTIBILITY),
	GUEST(VR_GUEST_INTR_VNMI, "guest.intr_state.nmi_blocking_vnmi", "27.3.1.5", guest_intr_vnmi,
	      VMCS_GUEST_INTERRUPTIBILITY, INTR_F),
	GUEST(VR_GUEST_PDBG_RESERVED, "guest.pending_dbg.reserved", "27.3.1.5", guest_pdbg_reserved,
	      VMCS_GUEST_PENDING_DBG),
	GUEST(VR_GUEST_PDBG_BS, "guest.pending_dbg.bs", "27.3.1.5", guest_pdbg_bs,
	      VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE, RFL, VMCS_GUEST_DEBUGCTL,
	      VMCS_GUEST_PENDING_DBG),
	LINK(VR_GUEST_LINK_ALIGNED, "guest.link.aligned", guest_link_aligned),
	LINK(VR_GUEST_LINK_MAXPHYADDR, "guest.link.maxphyaddr", guest_link_phys),
	LINK(VR_GUEST_LINK_REVISION, "guest.link.revision", guest_link_revision),
	LINK(VR_GUEST_LINK_SHADOW, "guest.link.shadow_indicator", guest_link_shadow),
	LINK(VR_GUEST_LINK_CURRENT, "guest.link.not_current_vmcs", guest_link_current),

	ROW(VR_GUEST_PDPTE_FIELDS, "guest.pdpte.fields", "27.3.1.6", VR_STAGE_GUEST, OUT_GUEST(2),
	    guest_pdpte_fields, VMCS_GUEST_CR0, VMCS_GUEST_CR4, VMCS_GUEST_PDPTE0,
	    VMCS_GUEST_PDPTE1, VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3),
	ROW(VR_LOAD_PDPTE_MEMORY, "load.pdpte.memory", "27.3.2.4", VR_STAGE_GUEST_LOAD,
	    OUT_GUEST(2), load_pdpte_memory, VMCS_GUEST_CR0, VMCS_GUEST_CR4, VMCS_GUEST_CR3),

	MSRL(VR_MSR_RESERVED, "msr_load.reserved", msr_reserved),
	MSRL(VR_MSR_FS_GS_BASE, "msr_load.fs_gs_base", msr_fs_gs),
	MSRL(VR_MSR_X2APIC, "msr_load.x2apic", msr_x2apic),
	MSRL(VR_MSR_SMM_ONLY, "msr_load.smm_monitor_ctl", msr_smm),
	MSRL(VR_MSR_UCODE_TRIGGER, "msr_load.bios_updt_trig", msr_ucode),
	MSRL(VR_MSR_WRMSR_FAULT, "msr_load.wrmsr_faults", msr_wrmsr),
};

/* ------------------------------------------------------------ prediction */

static void table_sane(void)
{
	static bool checked;

	if (checked)
		return;
	for (unsigned i = 0; i < VR_RULE_COUNT; i++)
		if (!vmx_rules[i].name || !vmx_rules[i].violated)
			report_abort("vmx_rules: row %u has no rule", i);
	checked = true;
}

static void eval_begin(const struct vr_env *e)
{
	table_sane();
	vr_caps();
	env = e;
	cached = 0;
}

static uint32_t eval(const struct vmx_rule *r)
{
	uint32_t v;

	cur = r;
	v = r->violated();
	cur = NULL;
	return v;
}

uint32_t vr_violated(enum vr_rule_id id, const struct vr_env *e)
{
	eval_begin(e);
	return eval(&vmx_rules[id]);
}

static void allow(struct vr_prediction *p, struct vr_outcome o)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->allowed[i].kind == o.kind && p->allowed[i].code == o.code &&
		    p->allowed[i].qual == o.qual)
			return;
	if (p->n < ARRAY_SIZE(p->allowed))
		p->allowed[p->n++] = o;
}

/* The stages in the manual's order; CONTROL and HOST form one group (any order). */
static unsigned group_of(unsigned stage)
{
	return stage == VR_STAGE_HOST ? VR_STAGE_CONTROL : stage;
}

void vr_predict(const struct vr_env *e, struct vr_prediction *p)
{
	static const uint8_t groups[] = { VR_STAGE_INSN, VR_STAGE_CONTROL, VR_STAGE_GUEST,
					  VR_STAGE_GUEST_LOAD, VR_STAGE_MSR_LOAD };
	uint32_t result[VR_RULE_COUNT];

	eval_begin(e);
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < VR_RULE_COUNT; i++) {
		result[i] = eval(&vmx_rules[i]);
		if (result[i] && p->nviolated < ARRAY_SIZE(p->violated))
			p->violated[p->nviolated++] = i;
	}
	for (unsigned g = 0; g < ARRAY_SIZE(groups); g++) {
		bool decided = false;
		uint32_t first_msr = 0;

		for (unsigned i = 0; i < VR_RULE_COUNT; i++) {
			const struct vmx_rule *r = &vmx_rules[i];
			struct vr_outcome o = r->fail;

			if (!result[i] || group_of(r->stage) != groups[g])
				continue;
			if (r->stage == VR_STAGE_INSN) {
				/* 27.1 is ordered: the first violated row decides. */
				allow(p, o);
				return;
			}
			if (r->stage == VR_STAGE_MSR_LOAD) {
				if (!first_msr || result[i] < first_msr)
					first_msr = result[i];
				continue;
			}
			allow(p, o);
			if (!r->optional)
				decided = true;
		}
		if (first_msr) {
			struct vr_outcome o = { VR_ENTRY_FAIL, VMX_EXIT_MSR_LOAD_FAIL, first_msr };

			allow(p, o);
			return;
		}
		if (decided)
			return;
	}
	allow(p, (struct vr_outcome){ VR_ENTERS, 0, 0 });
}

static bool same(const struct vr_outcome *a, const struct vr_outcome *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == VR_VMFAIL_VALID)
		return a->code == b->code;
	if (a->kind == VR_ENTRY_FAIL)
		return a->code == b->code && a->qual == b->qual;
	return true;
}

bool vr_allows(const struct vr_prediction *p, const struct vr_outcome *o)
{
	for (unsigned i = 0; i < p->n; i++)
		if (same(&p->allowed[i], o))
			return true;
	return false;
}

bool vr_predicts_only(const struct vr_prediction *p, const struct vr_outcome *o)
{
	return p->n == 1 && same(&p->allowed[0], o);
}

struct vr_outcome vr_observe(const struct vmx_vcpu *vcpu, uint32_t reason)
{
	if (reason == VMX_EXIT_VMFAIL) {
		if (vcpu->entry.outcome == VMX_FAIL_INVALID)
			return (struct vr_outcome){ VR_VMFAIL_INVALID, 0, 0 };
		return (struct vr_outcome){ VR_VMFAIL_VALID, vcpu->entry.error, 0 };
	}
	if (reason & VMX_EXIT_ENTRY_FAILURE)
		return (struct vr_outcome){ VR_ENTRY_FAIL, reason & 0xffff,
					    vmcs_read(VMCS_EXIT_QUALIFICATION) };
	return (struct vr_outcome){ VR_ENTERS, 0, 0 };
}

const char *vr_outcome_str(const struct vr_outcome *o, char *buf, size_t size)
{
	switch (o->kind) {
	case VR_ENTERS:
		return "enters";
	case VR_VMFAIL_INVALID:
		return "VMfailInvalid";
	case VR_VMFAIL_VALID:
		snprintf(buf, size, "VMfailValid(%u)", o->code);
		return buf;
	case VR_ENTRY_FAIL:
		snprintf(buf, size, "entry failure %u qual %lu", o->code, o->qual);
		return buf;
	}
	return "?";
}

const char *vr_prediction_str(const struct vr_prediction *p, char *buf, size_t size)
{
	size_t len = 0;
	char one[48];

	buf[0] = 0;
	for (unsigned i = 0; i < p->n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? "|" : "",
				vr_outcome_str(&p->allowed[i], one, sizeof(one)));
	for (unsigned i = 0; i < p->nviolated && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? "," : " (violated: ",
				vmx_rules[p->violated[i]].name);
	if (p->nviolated && len < size)
		snprintf(buf + len, size - len, ")");
	return buf;
}

const struct vmx_rule *vr_find(const char *name)
{
	for (unsigned i = 0; i < VR_RULE_COUNT; i++)
		if (vmx_rules[i].name && !strcmp(vmx_rules[i].name, name))
			return &vmx_rules[i];
	return NULL;
}
