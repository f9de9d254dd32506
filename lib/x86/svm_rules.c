/* VMRUN's consistency checks as a table (see svm_rules.h). */
#include "alloc.h"
#include "msr.h"
#include "npt.h"
#include "processor.h"
#include "svm_rules.h"
#include "svm_util.h"

/* ------------------------------------------------------------ valid VMCB */

struct svm_vcpu *svm_valid_setup(struct svm_valid_vmcb *v)
{
	struct svm_vcpu *vcpu = svm_test_setup();

	if (!vcpu)
		return NULL;
	v->vcpu = vcpu;
	v->l2_idt = l2_idt_create();
	v->iopm = vcpu->vmcb->control.iopm_base_pa;
	v->msrpm = vcpu->vmcb->control.msrpm_base_pa;
	v->ncr3 = 0;
	if (svm_has(SVM_FEATURE_NPT)) {
		struct pagetable npt = npt_create_identity(npt_ram_end(), 2ull << 20);

		v->ncr3 = (uint64_t)npt.root;
	}
	return vcpu;
}

void svm_valid_reset(const struct svm_valid_vmcb *v, void *rip)
{
	struct vmcb *vmcb = v->vcpu->vmcb;

	/* svm_vcpu_reset() keeps the maps it finds: give it the vCPU's own. */
	vmcb->control.iopm_base_pa = v->iopm;
	vmcb->control.msrpm_base_pa = v->msrpm;
	svm_vcpu_reset(v->vcpu, rip);
	l2_idt_prepare(v->vcpu, v->l2_idt);
	svm_intercept(v->vcpu, SVM_INTERCEPT_SHUTDOWN, true);
	vmcb->control.nested_cr3 = v->ncr3;
	l2_event_reset();
}

/* ------------------------------------------------------------ capabilities */

/* A register bit that CPUID reports for a feature that defines an EFER or CR4 bit. */
struct defining_feature {
	unsigned bit;		/* the EFER or CR4 bit */
	struct cpu_feature feature;
	const char *name;	/* "FSGSBASE (CPUID 7.0 EBX[0])" */
};

/* APM Vol. 2 3.1.7 (EFER) and the CPUID bits of Vol. 3 Appendix E. */
static const struct defining_feature efer_features[] = {
	{ 0, CPU_FEATURE(0x80000001, 0, 3, 11), "SYSCALL (CPUID 8000_0001h EDX[11])" },
	{ 8, CPU_FEATURE(0x80000001, 0, 3, 29), "long mode (CPUID 8000_0001h EDX[29])" },
	{ 10, CPU_FEATURE(0x80000001, 0, 3, 29), "long mode (CPUID 8000_0001h EDX[29])" },
	{ 11, CPU_FEATURE(0x80000001, 0, 3, 20), "NX (CPUID 8000_0001h EDX[20])" },
	{ 12, CPU_FEATURE(0x80000001, 0, 2, 2), "SVM (CPUID 8000_0001h ECX[2])" },
	{ 14, CPU_FEATURE(0x80000001, 0, 3, 25), "FFXSR (CPUID 8000_0001h EDX[25])" },
	{ 15, CPU_FEATURE(0x80000001, 0, 2, 17), "TCE (CPUID 8000_0001h ECX[17])" },
	{ 17, CPU_FEATURE(0x80000008, 0, 1, 8), "MCOMMIT (CPUID 8000_0008h EBX[8])" },
	{ 18, CPU_FEATURE(0x80000008, 0, 1, 9), "INT_WBINVD (CPUID 8000_0008h EBX[9])" },
	{ 20, CPU_FEATURE(0x80000021, 0, 0, 7), "upper address ignore (CPUID 8000_0021h EAX[7])" },
	{ 21, CPU_FEATURE(0x80000021, 0, 0, 8), "automatic IBRS (CPUID 8000_0021h EAX[8])" },
};

/* APM Vol. 2 3.1.3 (CR4), with the bits only Intel defines (SDM Vol. 3A 2.5) where CPUID reports them. */
static const struct defining_feature cr4_features[] = {
	{ 0, CPU_FEATURE(1, 0, 3, 1), "VME (CPUID 1 EDX[1])" },
	{ 1, CPU_FEATURE(1, 0, 3, 1), "VME (CPUID 1 EDX[1])" },
	{ 2, CPU_FEATURE(1, 0, 3, 4), "TSC (CPUID 1 EDX[4])" },
	{ 3, CPU_FEATURE(1, 0, 3, 2), "DE (CPUID 1 EDX[2])" },
	{ 4, CPU_FEATURE(1, 0, 3, 3), "PSE (CPUID 1 EDX[3])" },
	{ 5, CPU_FEATURE(1, 0, 3, 6), "PAE (CPUID 1 EDX[6])" },
	{ 6, CPU_FEATURE(1, 0, 3, 7), "MCE (CPUID 1 EDX[7])" },
	{ 7, CPU_FEATURE(1, 0, 3, 13), "PGE (CPUID 1 EDX[13])" },
	{ 9, CPU_FEATURE(1, 0, 3, 24), "FXSR (CPUID 1 EDX[24])" },
	{ 10, CPU_FEATURE(1, 0, 3, 25), "SSE (CPUID 1 EDX[25])" },
	{ 11, CPU_FEATURE(7, 0, 2, 2), "UMIP (CPUID 7.0 ECX[2])" },
	{ 12, CPU_FEATURE(7, 0, 2, 16), "LA57 (CPUID 7.0 ECX[16])" },
	{ 13, CPU_FEATURE(1, 0, 2, 5), "VMX (CPUID 1 ECX[5])" },
	{ 14, CPU_FEATURE(1, 0, 2, 6), "SMX (CPUID 1 ECX[6])" },
	{ 16, CPU_FEATURE(7, 0, 1, 0), "FSGSBASE (CPUID 7.0 EBX[0])" },
	{ 17, CPU_FEATURE(1, 0, 2, 17), "PCID (CPUID 1 ECX[17])" },
	{ 18, CPU_FEATURE(1, 0, 2, 26), "XSAVE (CPUID 1 ECX[26])" },
	{ 19, CPU_FEATURE(7, 0, 2, 23), "Key Locker (CPUID 7.0 ECX[23])" },
	{ 20, X86_FEATURE_SMEP, "SMEP (CPUID 7.0 EBX[7])" },
	{ 21, X86_FEATURE_SMAP, "SMAP (CPUID 7.0 EBX[20])" },
	{ 22, CPU_FEATURE(7, 0, 2, 3), "PKU (CPUID 7.0 ECX[3])" },
	{ 23, CPU_FEATURE(7, 0, 2, 7), "CET shadow stacks (CPUID 7.0 ECX[7])" },
	{ 24, CPU_FEATURE(7, 0, 2, 31), "PKS (CPUID 7.0 ECX[31])" },
	{ 25, CPU_FEATURE(7, 0, 3, 5), "UINTR (CPUID 7.0 EDX[5])" },
	{ 27, CPU_FEATURE(7, 1, 0, 6), "LASS (CPUID 7.1 EAX[6])" },
	{ 28, CPU_FEATURE(7, 1, 0, 26), "LAM (CPUID 7.1 EAX[26])" },
	{ 32, CPU_FEATURE(7, 1, 0, 17), "FRED (CPUID 7.1 EAX[17])" },
};

static const char *feature_of(const struct defining_feature *table, size_t n, unsigned bit)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].bit == bit)
			return table[i].name;
	return NULL;
}

const char *svm_efer_bit_feature(unsigned bit)
{
	return feature_of(efer_features, ARRAY_SIZE(efer_features), bit);
}

const char *svm_cr4_bit_feature(unsigned bit)
{
	return feature_of(cr4_features, ARRAY_SIZE(cr4_features), bit);
}

static const char *const efer_names[64] = {
	[0] = "sce", [8] = "lme", [10] = "lma", [11] = "nxe", [12] = "svme", [13] = "lmsle",
	[14] = "ffxsr", [15] = "tce", [17] = "mcommit", [18] = "intwb", [20] = "uaie", [21] = "aibrse",
};

static const char *const cr4_names[64] = {
	[0] = "vme", [1] = "pvi", [2] = "tsd", [3] = "de", [4] = "pse", [5] = "pae", [6] = "mce",
	[7] = "pge", [8] = "pce", [9] = "osfxsr", [10] = "osxmmexcpt", [11] = "umip", [12] = "la57",
	[13] = "vmxe", [14] = "smxe", [16] = "fsgsbase", [17] = "pcide", [18] = "osxsave",
	[20] = "smep", [21] = "smap", [22] = "pke", [23] = "cet", [24] = "pks", [25] = "uintr",
	[27] = "lass", [28] = "lam_sup", [32] = "fred",
};

/* "bitN" for the bits without a name. */
static const char *bit_name(const char *const names[64], unsigned bit)
{
	static char numbered[64][6];

	if (bit >= 64)
		return "?";
	if (names[bit])
		return names[bit];
	if (!numbered[bit][0])
		snprintf(numbered[bit], sizeof(numbered[bit]), "bit%u", bit);
	return numbered[bit];
}

const char *svm_efer_bit_name(unsigned bit)
{
	return bit_name(efer_names, bit);
}

const char *svm_cr4_bit_name(unsigned bit)
{
	/* svm_vmrun's historical names: bit 19 (Key Locker) is "bit19". */
	return bit == 19 ? "bit19" : bit_name(cr4_names, bit);
}

static uint64_t defined_bits(const struct defining_feature *table, size_t n)
{
	uint64_t bits = 0;

	for (size_t i = 0; i < n; i++)
		if (cpu_has(table[i].feature))
			bits |= BIT(table[i].bit);
	return bits;
}

/* EFER.LMSLE (bit 13) exists unless CPUID 8000_0008h EBX[20] says it does not (APM Vol. 2 3.1.7). */
static bool lmsle_supported(void)
{
	return cpuid_max(0x80000000) >= 0x80000001 &&
	       !cpu_has(CPU_FEATURE(0x80000008, 0, 1, 20)) && cpu_has(X86_FEATURE_LM);
}

const struct svm_caps *svm_rules_caps(void)
{
	static struct svm_caps caps;
	static bool probed;

	if (probed)
		return &caps;
	caps.maxphy = cpu_physical_address_bits();
	caps.efer_defined = defined_bits(efer_features, ARRAY_SIZE(efer_features));
	if (lmsle_supported())
		caps.efer_defined |= EFER_LMSLE;
	/* CR4.PCE has no CPUID bit: every processor with CR4 defines it. */
	caps.cr4_defined = defined_bits(cr4_features, ARRAY_SIZE(cr4_features)) | X86_CR4_PCE;
	caps.long_mode = cpu_has(X86_FEATURE_LM);
	caps.npt = svm_has(SVM_FEATURE_NPT);
	caps.asids = svm_asid_count();
	probed = true;
	return &caps;
}

/* ------------------------------------------------------------------ fields */

static const struct {
	const char *name;
	size_t offset, size;
} fields[SVM_FIELD_COUNT] = {
	[SVM_F_EFER] = { "efer", offsetof(struct vmcb, save.efer), 8 },
	[SVM_F_CR0] = { "cr0", offsetof(struct vmcb, save.cr0), 8 },
	[SVM_F_CR3] = { "cr3", offsetof(struct vmcb, save.cr3), 8 },
	[SVM_F_CR4] = { "cr4", offsetof(struct vmcb, save.cr4), 8 },
	[SVM_F_DR6] = { "dr6", offsetof(struct vmcb, save.dr6), 8 },
	[SVM_F_DR7] = { "dr7", offsetof(struct vmcb, save.dr7), 8 },
	[SVM_F_CS_ATTRIB] = { "cs.attrib", offsetof(struct vmcb, save.cs.attrib), 2 },
	[SVM_F_INTERCEPTS] = { "intercepts", offsetof(struct vmcb, control.intercepts), 8 },
	[SVM_F_ASID] = { "asid", offsetof(struct vmcb, control.asid), 4 },
	[SVM_F_IOPM] = { "iopm_base", offsetof(struct vmcb, control.iopm_base_pa), 8 },
	[SVM_F_MSRPM] = { "msrpm_base", offsetof(struct vmcb, control.msrpm_base_pa), 8 },
	[SVM_F_EVENTINJ] = { "eventinj", offsetof(struct vmcb, control.event_inj), 8 },
	[SVM_F_NESTED_CTL] = { "nested_ctl", offsetof(struct vmcb, control.nested_ctl), 8 },
	[SVM_F_NCR3] = { "ncr3", offsetof(struct vmcb, control.nested_cr3), 8 },
	[SVM_F_GPAT] = { "g_pat", offsetof(struct vmcb, save.g_pat), 8 },
	[SVM_F_RFLAGS] = { "rflags", offsetof(struct vmcb, save.rflags), 8 },
};

const char *svm_field_name(enum svm_field f)
{
	return f < SVM_FIELD_COUNT ? fields[f].name : "?";
}

/* The VMCB is packed: fields are read and written by offset, never through member pointers. */
uint64_t svm_field_get(const struct vmcb *vmcb, enum svm_field f)
{
	uint64_t v = 0;

	memcpy(&v, (const uint8_t *)vmcb + fields[f].offset, fields[f].size);
	return v;
}

void svm_field_set(struct vmcb *vmcb, enum svm_field f, uint64_t value)
{
	memcpy((uint8_t *)vmcb + fields[f].offset, &value, fields[f].size);
}

void svm_mutate(struct vmcb *vmcb, const struct svm_mutation *m)
{
	uint64_t v = svm_field_get(vmcb, m->field);

	switch (m->op) {
	case SVM_OP_SET:
		v |= m->value;
		break;
	case SVM_OP_CLEAR:
		v &= ~m->value;
		break;
	case SVM_OP_ASSIGN:
		v = m->value;
		break;
	}
	svm_field_set(vmcb, m->field, v);
}

const char *svm_mutation_text(const struct svm_mutation *m, char *buf, size_t size)
{
	static const char *const ops[] = { "|=", "&=~", "=" };

	snprintf(buf, size, "%s%s%#lx", svm_field_name(m->field), ops[m->op], m->value);
	return buf;
}

/* ------------------------------------------------------------------- rules */

/* VMCB segment attributes: descriptor bits 55:52 and 47:40 packed (APM Vol. 2 15.5.1). */
#define ATTR_L		BIT(9)
#define ATTR_DB		BIT(10)

#define EVTINJ_TYPE(e)	(((e) >> 8) & 7)

static bool lme_and_pg(const struct vmcb *v)
{
	return (v->save.efer & EFER_LME) && (v->save.cr0 & X86_CR0_PG);
}

/* Address bits from MAXPHYADDR up: MBZ in a physical address (APM Vol. 2 5.3.3, 3.1.2). */
static uint64_t above_maxphy(const struct svm_caps *c)
{
	return c->maxphy >= 64 ? 0 : ~0ull << c->maxphy;
}

/* Does a table of @size bytes at @base (bits 11:0 ignored) reach 2^MAXPHYADDR or beyond? */
static bool table_beyond(uint64_t base, uint64_t size, const struct svm_caps *c)
{
	uint64_t page = base & ~0xfffull, top = BIT(c->maxphy);

	return page >= top || page > top - size;
}

static bool efer_svme_clear(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return !(v->save.efer & EFER_SVME);
}

/* Bits 7:1 are RAZ, not MBZ (APM Vol. 2 3.1.7, Figure 3-8): no rule reads them. */
static bool efer_mbz(const struct vmcb *v, const struct svm_caps *c)
{
	return v->save.efer & ~c->efer_defined & ~SVM_EFER_RAZ;
}

static bool efer_no_long_mode(const struct vmcb *v, const struct svm_caps *c)
{
	return (v->save.efer & (EFER_LME | EFER_LMA)) && !c->long_mode;
}

static bool cr0_nw_without_cd(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return (v->save.cr0 & X86_CR0_NW) && !(v->save.cr0 & X86_CR0_CD);
}

static bool cr0_upper(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return v->save.cr0 >> 32;
}

/*
 * CR3 in long mode (EFER.LME and CR0.PG; APM Vol. 2 3.1.2, Figure 3-6): bits
 * 63:52 are MBZ and the table base may not exceed MAXPHYADDR.  In legacy modes
 * CR3 is a 32-bit register whose bits are all defined (PAE: Figure 3-5), so the
 * 64-bit field's upper half is checked by no row the APM gives.
 */
static bool cr3_mbz(const struct vmcb *v, const struct svm_caps *c)
{
	return lme_and_pg(v) && (v->save.cr3 & above_maxphy(c));
}

static bool cr4_mbz(const struct vmcb *v, const struct svm_caps *c)
{
	return v->save.cr4 & ~c->cr4_defined;
}

static bool dr6_upper(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return v->save.dr6 >> 32;
}

static bool dr7_upper(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return v->save.dr7 >> 32;
}

static bool lme_pg_without_pae(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return lme_and_pg(v) && !(v->save.cr4 & X86_CR4_PAE);
}

static bool lme_pg_without_pe(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return lme_and_pg(v) && !(v->save.cr0 & X86_CR0_PE);
}

static bool cs_l_and_d(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return lme_and_pg(v) && (v->save.cr4 & X86_CR4_PAE) && (v->save.cs.attrib & ATTR_L) &&
	       (v->save.cs.attrib & ATTR_DB);
}

static bool vmrun_intercept_clear(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return !(v->control.intercepts & BIT(SVM_INTERCEPT_VMRUN));
}

/* APM Vol. 2 15.10.1: the IOPM is 12 KB; 15.11: the MSRPM 8 KB. */
static bool iopm_beyond(const struct vmcb *v, const struct svm_caps *c)
{
	return table_beyond(v->control.iopm_base_pa, 3 * PAGE_SIZE, c);
}

static bool msrpm_beyond(const struct vmcb *v, const struct svm_caps *c)
{
	return table_beyond(v->control.msrpm_base_pa, 2 * PAGE_SIZE, c);
}

static bool asid_zero(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	return v->control.asid == 0;
}

/* APM Vol. 2 15.20: TYPE 0 INTR, 2 NMI, 3 exception, 4 software interrupt; 1 and 5-7 are illegal. */
static bool eventinj_type(const struct vmcb *v, const struct svm_caps *c)
{
	unsigned type = EVTINJ_TYPE(v->control.event_inj);

	(void)c;
	return (v->control.event_inj & SVM_EVTINJ_VALID) && (type == 1 || type >= 5);
}

/* APM Vol. 2 15.20: an exception (TYPE 3) with vector 2 (NMI) or above 31 is illegal. */
static bool eventinj_exception_vector(const struct vmcb *v, const struct svm_caps *c)
{
	unsigned vector = v->control.event_inj & SVM_EVTINJ_VECTOR_MASK;

	(void)c;
	return (v->control.event_inj & SVM_EVTINJ_VALID) && EVTINJ_TYPE(v->control.event_inj) == 3 &&
	       (vector == 2 || vector > 31);
}

static bool np_enabled(const struct vmcb *v)
{
	return v->control.nested_ctl & SVM_NESTED_PAGING;
}

/* APM Vol. 2 15.25.4: with NP_ENABLE, any MBZ bit of nCR3 (the long-mode CR3 format). */
static bool ncr3_mbz(const struct vmcb *v, const struct svm_caps *c)
{
	return np_enabled(v) && (v->control.nested_cr3 & above_maxphy(c));
}

/*
 * APM Vol. 2 15.25.4: with NP_ENABLE, a G_PAT entry with an unsupported type
 * (2, 3, 8 and above; 7.8.1) or a reserved bit (7:3 of each byte) set.
 */
static bool gpat_invalid(const struct vmcb *v, const struct svm_caps *c)
{
	(void)c;
	if (!np_enabled(v))
		return false;
	for (unsigned i = 0; i < 8; i++) {
		unsigned type = (v->save.g_pat >> (8 * i)) & 0xff;

		if (type == 2 || type == 3 || type > 7)
			return true;
	}
	return false;
}

const struct svm_rule svm_rules[] = {
	{ "efer.svme_clear", "APM Vol. 2 15.5.1", "EFER.SVME", "EFER.SVME is zero", efer_svme_clear },
	{ "efer.mbz", "APM Vol. 2 15.5.1, 3.1.7", "EFER; CPUID", "any MBZ bit of EFER is set", efer_mbz },
	{ "efer.long_mode_unsupported", "APM Vol. 2 15.5.1", "EFER.LMA, EFER.LME; CPUID",
	  "EFER.LMA or EFER.LME set without long mode", efer_no_long_mode },
	{ "cr0.nw_without_cd", "APM Vol. 2 15.5.1", "CR0.CD, CR0.NW", "CR0.CD is zero and CR0.NW is set",
	  cr0_nw_without_cd },
	{ "cr0.upper", "APM Vol. 2 15.5.1", "CR0[63:32]", "CR0[63:32] are not zero", cr0_upper },
	{ "cr3.mbz", "APM Vol. 2 15.5.1, 3.1.2", "CR3, EFER.LME, CR0.PG; MAXPHYADDR",
	  "any MBZ bit of CR3 is set (long mode: bits 63:MAXPHYADDR)", cr3_mbz },
	{ "cr4.mbz", "APM Vol. 2 15.5.1, 3.1.3", "CR4; CPUID", "any MBZ bit of CR4 is set", cr4_mbz },
	{ "dr.dr6", "APM Vol. 2 15.5.1", "DR6[63:32]", "DR6[63:32] are not zero", dr6_upper },
	{ "dr.dr7", "APM Vol. 2 15.5.1", "DR7[63:32]", "DR7[63:32] are not zero", dr7_upper },
	{ "long_mode.lme_pg_without_pae", "APM Vol. 2 15.5.1", "EFER.LME, CR0.PG, CR4.PAE",
	  "EFER.LME and CR0.PG are both set and CR4.PAE is zero", lme_pg_without_pae },
	{ "long_mode.lme_pg_without_pe", "APM Vol. 2 15.5.1", "EFER.LME, CR0.PG, CR0.PE",
	  "EFER.LME and CR0.PG are both non-zero and CR0.PE is zero", lme_pg_without_pe },
	{ "long_mode.cs_l_and_d", "APM Vol. 2 15.5.1", "EFER.LME, CR0.PG, CR4.PAE, CS.L, CS.D",
	  "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all non-zero", cs_l_and_d },
	{ "controls.vmrun_intercept_clear", "APM Vol. 2 15.5.1", "intercept VMRUN",
	  "the VMRUN intercept bit is clear", vmrun_intercept_clear },
	{ "controls.iopm_beyond_maxphyaddr", "APM Vol. 2 15.5.1, 15.10.1", "IOPM_BASE_PA; MAXPHYADDR",
	  "the IOIO intercept table (12 KB) extends to or beyond MAXPHYADDR", iopm_beyond },
	{ "controls.msrpm_beyond_maxphyaddr", "APM Vol. 2 15.5.1, 15.11", "MSRPM_BASE_PA; MAXPHYADDR",
	  "the MSR intercept table (8 KB) extends to or beyond MAXPHYADDR", msrpm_beyond },
	{ "controls.asid_zero", "APM Vol. 2 15.5.1", "ASID", "ASID is equal to zero", asid_zero },
	{ "eventinj.type", "APM Vol. 2 15.20", "EVENTINJ.V, EVENTINJ.TYPE",
	  "EVENTINJ with a reserved TYPE (1, 5-7)", eventinj_type },
	{ "eventinj.exception_vector", "APM Vol. 2 15.20", "EVENTINJ.V, TYPE, VECTOR",
	  "EVENTINJ exception (TYPE 3) with vector 2 or above 31", eventinj_exception_vector },
	{ "npt.ncr3_mbz", "APM Vol. 2 15.25.4", "NP_ENABLE, N_CR3; MAXPHYADDR",
	  "with nested paging, any MBZ bit of nCR3 is set", ncr3_mbz },
	{ "npt.g_pat", "APM Vol. 2 15.25.4, 7.8.1", "NP_ENABLE, G_PAT",
	  "with nested paging, a G_PAT field has an unsupported type or a reserved bit", gpat_invalid },
};

const size_t svm_rule_count = ARRAY_SIZE(svm_rules);

const struct svm_rule *svm_rule_find(const char *name)
{
	for (size_t i = 0; i < svm_rule_count; i++)
		if (!strcmp(svm_rules[i].name, name))
			return &svm_rules[i];
	return NULL;
}

unsigned svm_rules_violated(const struct vmcb *vmcb, const struct svm_rule **out, unsigned max)
{
	const struct svm_caps *caps = svm_rules_caps();
	unsigned n = 0;

	for (size_t i = 0; i < svm_rule_count; i++) {
		if (!svm_rules[i].violated(vmcb, caps))
			continue;
		if (n < max)
			out[n] = &svm_rules[i];
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ probes */

#define SET(f, v)	{ (f), SVM_OP_SET, (v) }
#define CLEAR(f, v)	{ (f), SVM_OP_CLEAR, (v) }
#define ASSIGN(f, v)	{ (f), SVM_OP_ASSIGN, (v) }
#define EVTINJ(type, vector) (SVM_EVTINJ_VALID | ((uint64_t)(type) << 8) | (vector))
#define CR4_PROBE(bit, name) \
	{ "cr4.mbz." name, "CR4[" #bit "] set", { SET(SVM_F_CR4, BIT(bit)) }, 1, 0 }

const struct svm_probe svm_probes[] = {
	{ "efer.svme_clear", "EFER.SVME = 0", { CLEAR(SVM_F_EFER, EFER_SVME) }, 1, 0 },
	{ "efer.raz.bit1", "EFER[1] (RAZ) set", { SET(SVM_F_EFER, BIT(1)) }, 1, SVM_PROBE_UNDECIDED },
	{ "efer.raz.bit7", "EFER[7] (RAZ) set", { SET(SVM_F_EFER, BIT(7)) }, 1, SVM_PROBE_UNDECIDED },
	{ "efer.mbz.bit9", "EFER[9] (reserved) set", { SET(SVM_F_EFER, BIT(9)) }, 1, 0 },
	{ "efer.mbz.bit16", "EFER[16] (reserved) set", { SET(SVM_F_EFER, BIT(16)) }, 1, 0 },
	{ "efer.mbz.bit32", "EFER[32] (reserved) set", { SET(SVM_F_EFER, BIT(32)) }, 1, 0 },
	{ "efer.mbz.bit63", "EFER[63] (reserved) set", { SET(SVM_F_EFER, BIT(63)) }, 1, 0 },
	{ "efer.mbz.ffxsr", "EFER.FFXSR set", { SET(SVM_F_EFER, EFER_FFXSR) }, 1, 0 },
	{ "efer.mbz.tce", "EFER.TCE set", { SET(SVM_F_EFER, EFER_TCE) }, 1, 0 },
	{ "efer.mbz.lmsle", "EFER.LMSLE set", { SET(SVM_F_EFER, EFER_LMSLE) }, 1, 0 },
	{ "cr0.nw_without_cd", "CR0.NW = 1 with CR0.CD = 0",
	  { SET(SVM_F_CR0, X86_CR0_NW), CLEAR(SVM_F_CR0, X86_CR0_CD) }, 2, 0 },
	{ "cr0.bit32", "CR0[32] set", { SET(SVM_F_CR0, BIT(32)) }, 1, 0 },
	{ "cr0.bit63", "CR0[63] set", { SET(SVM_F_CR0, BIT(63)) }, 1, 0 },
	{ "cr3.mbz.bit52", "CR3[52] set", { SET(SVM_F_CR3, BIT(52)) }, 1, 0 },
	{ "cr3.mbz.maxphyaddr", "CR3 bit MAXPHYADDR set", { SET(SVM_F_CR3, 0) }, 1,
	  SVM_PROBE_PHYS | SVM_PROBE_BELOW_52 },
	CR4_PROBE(0, "vme"), CR4_PROBE(1, "pvi"), CR4_PROBE(11, "umip"),
	/* Where LA57 is defined, setting it would switch L2 to 5-level paging: no entry check then. */
	{ "cr4.mbz.la57", "CR4[12] set", { SET(SVM_F_CR4, BIT(12)) }, 1, SVM_PROBE_ILLEGAL_ONLY }, CR4_PROBE(13, "vmxe"), CR4_PROBE(14, "smxe"),
	CR4_PROBE(15, "bit15"), CR4_PROBE(16, "fsgsbase"), CR4_PROBE(17, "pcide"),
	CR4_PROBE(18, "osxsave"), CR4_PROBE(19, "bit19"), CR4_PROBE(20, "smep"),
	CR4_PROBE(21, "smap"), CR4_PROBE(22, "pke"), CR4_PROBE(23, "cet"), CR4_PROBE(26, "bit26"),
	CR4_PROBE(31, "bit31"), CR4_PROBE(32, "bit32"), CR4_PROBE(63, "bit63"),
	{ "dr.dr6.bit32", "DR6[32] set", { SET(SVM_F_DR6, BIT(32)) }, 1, 0 },
	{ "dr.dr6.bit63", "DR6[63] set", { SET(SVM_F_DR6, BIT(63)) }, 1, 0 },
	{ "dr.dr7.bit32", "DR7[32] set", { SET(SVM_F_DR7, BIT(32)) }, 1, 0 },
	{ "dr.dr7.bit63", "DR7[63] set", { SET(SVM_F_DR7, BIT(63)) }, 1, 0 },
	{ "long_mode.lme_pg_without_pae", "EFER.LME = CR0.PG = 1, CR4.PAE = 0",
	  { CLEAR(SVM_F_CR4, X86_CR4_PAE) }, 1, 0 },
	{ "long_mode.lme_pg_without_pe", "EFER.LME = CR0.PG = 1, CR0.PE = 0",
	  { CLEAR(SVM_F_CR0, X86_CR0_PE) }, 1, 0 },
	{ "long_mode.cs_l_and_d", "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set",
	  { SET(SVM_F_CS_ATTRIB, ATTR_L | ATTR_DB) }, 1, 0 },
	{ "controls.vmrun_intercept_clear", "VMRUN intercept clear",
	  { CLEAR(SVM_F_INTERCEPTS, BIT(SVM_INTERCEPT_VMRUN)) }, 1, 0 },
	{ "controls.asid_zero", "ASID 0", { ASSIGN(SVM_F_ASID, 0) }, 1, 0 },
	/* The last page below 2^MAXPHYADDR, with the map's intercept on. */
	{ "controls.iopm_beyond_maxphyaddr", "IOPM extends beyond MAXPHYADDR",
	  { ASSIGN(SVM_F_IOPM, -PAGE_SIZE), SET(SVM_F_INTERCEPTS, BIT(SVM_INTERCEPT_IOIO_PROT)) }, 2,
	  SVM_PROBE_PHYS },
	{ "controls.msrpm_beyond_maxphyaddr", "MSRPM extends beyond MAXPHYADDR",
	  { ASSIGN(SVM_F_MSRPM, -PAGE_SIZE), SET(SVM_F_INTERCEPTS, BIT(SVM_INTERCEPT_MSR_PROT)) }, 2,
	  SVM_PROBE_PHYS },
	/* The last bases at which the maps still end below 2^MAXPHYADDR: legal. */
	{ "controls.iopm_at_top", "IOPM ending at 2^MAXPHYADDR - 1",
	  { ASSIGN(SVM_F_IOPM, -3 * PAGE_SIZE), SET(SVM_F_INTERCEPTS, BIT(SVM_INTERCEPT_IOIO_PROT)) }, 2,
	  SVM_PROBE_PHYS },
	{ "controls.msrpm_at_top", "MSRPM ending at 2^MAXPHYADDR - 1",
	  { ASSIGN(SVM_F_MSRPM, -2 * PAGE_SIZE), SET(SVM_F_INTERCEPTS, BIT(SVM_INTERCEPT_MSR_PROT)) }, 2,
	  SVM_PROBE_PHYS },
	{ "eventinj.type1", "EVENTINJ TYPE 1 (reserved)", { ASSIGN(SVM_F_EVENTINJ, EVTINJ(1, 0x40)) }, 1, 0 },
	{ "eventinj.type5", "EVENTINJ TYPE 5 (reserved)", { ASSIGN(SVM_F_EVENTINJ, EVTINJ(5, 0x40)) }, 1, 0 },
	{ "eventinj.type6", "EVENTINJ TYPE 6 (reserved)", { ASSIGN(SVM_F_EVENTINJ, EVTINJ(6, 0x40)) }, 1, 0 },
	{ "eventinj.type7", "EVENTINJ TYPE 7 (reserved)", { ASSIGN(SVM_F_EVENTINJ, EVTINJ(7, 0x40)) }, 1, 0 },
	{ "eventinj.exception_vector2", "exception with vector 2 (NMI)",
	  { ASSIGN(SVM_F_EVENTINJ, EVTINJ(3, 2)) }, 1, 0 },
	{ "eventinj.exception_vector32", "exception with vector 32",
	  { ASSIGN(SVM_F_EVENTINJ, EVTINJ(3, 32)) }, 1, 0 },
	{ "eventinj.exception_vector255", "exception with vector 255",
	  { ASSIGN(SVM_F_EVENTINJ, EVTINJ(3, 255)) }, 1, 0 },
	{ "npt.ncr3_mbz", "nested paging with nCR3 bit MAXPHYADDR set",
	  { SET(SVM_F_NCR3, 0), SET(SVM_F_NESTED_CTL, SVM_NESTED_PAGING) }, 2,
	  SVM_PROBE_PHYS | SVM_PROBE_BELOW_52 | SVM_PROBE_NPT },
	{ "npt.g_pat", "nested paging with G_PAT entry 0 of type 2 (reserved)",
	  { ASSIGN(SVM_F_GPAT, 0x0007040600070402ull), SET(SVM_F_NESTED_CTL, SVM_NESTED_PAGING) }, 2,
	  SVM_PROBE_NPT },
};

const size_t svm_probe_count = ARRAY_SIZE(svm_probes);

void svm_probe_apply(const struct svm_probe *p, struct vmcb *vmcb)
{
	for (unsigned i = 0; i < p->nm; i++) {
		struct svm_mutation m = p->m[i];

		/* Only the first change is relative to 2^MAXPHYADDR; the second sets a control. */
		if (i == 0 && (p->flags & SVM_PROBE_PHYS))
			m.value += BIT(svm_rules_caps()->maxphy);
		svm_mutate(vmcb, &m);
	}
}

bool svm_probe_usable(const struct svm_probe *p, const char **why)
{
	const struct svm_caps *caps = svm_rules_caps();

	if ((p->flags & SVM_PROBE_BELOW_52) && caps->maxphy >= 52) {
		*why = "MAXPHYADDR is 52: no unimplemented address bit below bit 52";
		return false;
	}
	if ((p->flags & SVM_PROBE_NPT) && !caps->npt) {
		*why = "no nested paging (CPUID 8000_000Ah EDX[0])";
		return false;
	}
	return true;
}
