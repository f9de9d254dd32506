/**
 * @file svm_rules.h
 * VMRUN's consistency checks as one table (AMD APM Vol. 2 15.5.1 "Canonicalization
 * and Consistency Checks", 15.20 for EVENTINJ, 15.25.4 for nested paging): each
 * row names the rule, its section, the VMCB fields it reads and a predicate over
 * a VMCB; a VMCB that violates any row makes VMRUN exit with VMEXIT_INVALID.  The
 * APM fixes no order among the checks, and every row has the same outcome, so a
 * VMCB violating several rows has that one outcome.
 *
 * Capability-dependent rows (EFER and CR4 bits a feature defines, MAXPHYADDR,
 * long mode) read CPUID at run time through svm_rules_caps().
 *
 * Probes: the values x86/svm_vmrun.c sets, one check each, named as its checks
 * are; the table, not the test, says whether a probe's VMCB must be refused.
 */
#ifndef HVT_X86_SVM_RULES_H
#define HVT_X86_SVM_RULES_H

#include "libhvt.h"
#include "svm.h"

/**
 * The valid VMCB the rules are checked from: svm_vcpu_reset()'s long-mode
 * guest at @rip, L2's own IDT of recording stubs (svm_util.h), SHUTDOWN
 * intercepted and no exception, the vCPU's own I/O and MSR maps, and nCR3
 * pointing at an identity nested table with NP_ENABLE clear (so that setting
 * NP_ENABLE alone gives a legal VMCB where nested paging exists).
 */
struct svm_valid_vmcb {
	struct svm_vcpu *vcpu;
	void *l2_idt;
	uint64_t iopm, msrpm, ncr3;
};

/**
 * For a test's setup: svm_test_setup(), then what svm_valid_reset() needs
 * (IDT, nested table).  @return the vCPU, or NULL without SVM (svm_require()
 * then skips).
 */
struct svm_vcpu *svm_valid_setup(struct svm_valid_vmcb *v);

/** Makes @v's vCPU's VMCB the valid one, running L2 code at @rip; clears l2_event. */
void svm_valid_reset(const struct svm_valid_vmcb *v, void *rip);

/** What the rules read of the CPU, probed once. */
struct svm_caps {
	unsigned maxphy;	/* MAXPHYADDR (CPUID 8000_0008h EAX[7:0]) */
	uint64_t efer_defined;	/* EFER bits this CPU defines (APM Vol. 2 3.1.7) */
	uint64_t cr4_defined;	/* CR4 bits this CPU defines (APM Vol. 2 3.1.3) */
	bool long_mode;		/* CPUID 8000_0001h EDX[29] */
	bool npt;		/* CPUID 8000_000Ah EDX[0] */
	uint32_t asids;		/* CPUID 8000_000Ah EBX */
};

const struct svm_caps *svm_rules_caps(void);

/** The VMCB fields the rules read and the state tests change. */
enum svm_field {
	SVM_F_EFER, SVM_F_CR0, SVM_F_CR3, SVM_F_CR4, SVM_F_DR6, SVM_F_DR7, SVM_F_CS_ATTRIB,
	SVM_F_INTERCEPTS, SVM_F_ASID, SVM_F_IOPM, SVM_F_MSRPM, SVM_F_EVENTINJ,
	SVM_F_NESTED_CTL, SVM_F_NCR3, SVM_F_GPAT, SVM_F_RFLAGS,
	SVM_FIELD_COUNT
};

/** "cr4", "cs.attrib", ... */
const char *svm_field_name(enum svm_field f);
uint64_t svm_field_get(const struct vmcb *vmcb, enum svm_field f);
void svm_field_set(struct vmcb *vmcb, enum svm_field f, uint64_t value);

enum svm_op { SVM_OP_SET, SVM_OP_CLEAR, SVM_OP_ASSIGN };

/** field |= value, field &= ~value, or field = value. */
struct svm_mutation {
	enum svm_field field;
	enum svm_op op;
	uint64_t value;
};

void svm_mutate(struct vmcb *vmcb, const struct svm_mutation *m);

/** "cr4|=0x80000" into @buf. */
const char *svm_mutation_text(const struct svm_mutation *m, char *buf, size_t size);

/** One consistency check. */
struct svm_rule {
	const char *name;	/* "cr0.nw_without_cd"; a leading part of svm_vmrun's check names */
	const char *section;	/* "APM Vol. 2 15.5.1" */
	const char *fields;	/* the fields the predicate reads */
	const char *text;	/* the illegal combination, as the APM states it */
	bool (*violated)(const struct vmcb *vmcb, const struct svm_caps *caps);
};

extern const struct svm_rule svm_rules[];
extern const size_t svm_rule_count;

/** The rule named @name, or NULL. */
const struct svm_rule *svm_rule_find(const char *name);

/** Puts up to @max rules that @vmcb violates into @out; returns how many it violates. */
unsigned svm_rules_violated(const struct vmcb *vmcb, const struct svm_rule **out, unsigned max);

/* Short names of EFER and CR4 bits ("ffxsr", "pcide", "bit15"), as svm_vmrun's checks use them. */
const char *svm_efer_bit_name(unsigned bit);
const char *svm_cr4_bit_name(unsigned bit);

/* The feature names of the EFER and CR4 bits that depend on one ("FSGSBASE (CPUID 7.0 EBX[0])"). */
const char *svm_efer_bit_feature(unsigned bit);
const char *svm_cr4_bit_feature(unsigned bit);

/** A probe's value is relative to 2^MAXPHYADDR (added to it, modulo 2^64). */
#define SVM_PROBE_PHYS		BIT(0)
/** The probe needs MAXPHYADDR below 52 (an unimplemented address bit under bit 52). */
#define SVM_PROBE_BELOW_52	BIT(1)
/** The probe needs nested paging. */
#define SVM_PROBE_NPT		BIT(2)
/**
 * The value is only a probe where it is illegal: where the table finds it
 * legal it would change how L2 runs (CR4.LA57: the paging mode), so the check
 * skips naming the capability that makes it legal.
 */
#define SVM_PROBE_ILLEGAL_ONLY	BIT(3)
/**
 * No rule decides the value: the check only says what VMRUN did, as an
 * info line (EFER bits 7:1 are RAZ, not MBZ: APM Vol. 2 3.1.7, Figure 3-8,
 * and 15.5.1 refuses only MBZ bits).
 */
#define SVM_PROBE_UNDECIDED	BIT(4)

/** EFER bits 7:1: read as zero (APM Vol. 2 3.1.7, Figure 3-8), neither defined nor MBZ. */
#define SVM_EFER_RAZ		0xfeull

/** One value of svm_vmrun: its check name and up to two changes to the valid VMCB. */
struct svm_probe {
	const char *check;	/* "efer.mbz.bit1" */
	const char *what;	/* "EFER[1] (reserved) set" */
	struct svm_mutation m[2];	/* m[1] is used when nm is 2 (an intercept the rule reads) */
	unsigned nm;
	unsigned flags;
};

extern const struct svm_probe svm_probes[];
extern const size_t svm_probe_count;

/** Applies @p to @vmcb, with SVM_PROBE_PHYS values resolved. */
void svm_probe_apply(const struct svm_probe *p, struct vmcb *vmcb);

/**
 * Whether @p can run here; otherwise *@why names the missing capability
 * (e.g. "MAXPHYADDR is 52: no unimplemented address bit below bit 52").
 */
bool svm_probe_usable(const struct svm_probe *p, const char **why);

#endif
