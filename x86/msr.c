/*
 * Architectural MSRs: what WRMSR stores, RDMSR returns (SDM Vol. 4; APM Vol. 2
 * Appendix A), and the #GP(0) that WRMSR and RDMSR raise for an unimplemented
 * MSR, a reserved bit or a non-canonical address (SDM Vol. 2B, RDMSR/WRMSR).
 */
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "test.h"

static char fault_text[96];

/*
 * Who implements an MSR (or whose manual defines the rule checked): everyone,
 * or CPUs with a feature, or one vendor.
 */
enum availability { ALWAYS, NEEDS_FEATURE, AMD_ONLY, INTEL_ONLY };

struct msr_case {
	const char *name;
	uint32_t index;
	enum availability availability;
	struct cpu_feature feature;	/* with NEEDS_FEATURE */
	const char *feature_name;
};

#define MSR_ALWAYS(n, i) { n, i, ALWAYS, { 0 }, NULL }
#define MSR_FEATURE(n, i, f) { n, i, NEEDS_FEATURE, X86_FEATURE_##f, #f }
#define MSR_AMD(n, i) { n, i, AMD_ONLY, { 0 }, NULL }
#define MSR_INTEL(n, i) { n, i, INTEL_ONLY, { 0 }, NULL }

/* Checks availability; records a skip named @name when absent. */
static bool available(const struct msr_case *m, const char *name)
{
	switch (m->availability) {
	case NEEDS_FEATURE:
		if (!cpu_has(m->feature)) {
			skip(name, "no %s in CPUID", m->feature_name);
			return false;
		}
		return true;
	case AMD_ONLY:
		if (!cpu_is_amd()) {
			skip(name, "%s is an AMD MSR", m->name);
			return false;
		}
		return true;
	case INTEL_ONLY:
		if (cpu_is_amd()) {
			skip(name, "checked on Intel only");
			return false;
		}
		return true;
	default:
		return true;
	}
}

/* ------------------------------------------------------------ round trips */

struct roundtrip_case {
	struct msr_case msr;
	uint64_t values[2];
};

static const struct roundtrip_case roundtrips[] = {
	{ MSR_FEATURE("sysenter_cs", MSR_IA32_SYSENTER_CS, SEP), { 0x10, 0x0 } },
	{ MSR_FEATURE("sysenter_esp", MSR_IA32_SYSENTER_ESP, SEP), { 0x12345678, 0x0 } },
	{ MSR_FEATURE("sysenter_eip", MSR_IA32_SYSENTER_EIP, SEP), { 0x87654320, 0x0 } },
	{ MSR_FEATURE("star", MSR_STAR, SYSCALL), { 0x0023001000000000ull, 0x0 } },
	{ MSR_FEATURE("lstar", MSR_LSTAR, SYSCALL), { 0xffffffff81000000ull, 0x00007fffffff0000ull } },
	{ MSR_AMD("cstar", MSR_CSTAR), { 0xffffffff82000000ull, 0x0 } },
	{ MSR_FEATURE("sfmask", MSR_SFMASK, SYSCALL), { 0x47700, 0x0 } },
	{ MSR_ALWAYS("fs_base", MSR_FS_BASE), { 0xffff800012345000ull, 0x00007fffffffe000ull } },
	{ MSR_ALWAYS("gs_base", MSR_GS_BASE), { 0xffff800012346000ull, 0x00007ffffffff000ull } },
	{ MSR_ALWAYS("kernel_gs_base", MSR_KERNEL_GS_BASE), { 0xffff800012347000ull, 0x1000 } },
	{ MSR_FEATURE("tsc_aux", MSR_TSC_AUX, RDTSCP), { 0x12345, 0xffffffff } },
	{ MSR_FEATURE("pat", MSR_IA32_PAT, PAT), { 0x0001050406070400ull, 0x0007040600070406ull } },
	/* DEBUGCTL.BTF (bit 1) on both vendors (SDM Vol. 3B 18.4.1; APM Vol. 2 13.1.1.6). */
	{ MSR_ALWAYS("debugctl", MSR_IA32_DEBUGCTL), { 0x2, 0x0 } },
};

static void check_roundtrip(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(roundtrips); i++) {
		const struct roundtrip_case *c = &roundtrips[i];
		uint64_t saved, value;
		struct fault f;

		if (!available(&c->msr, c->msr.name))
			continue;
		f = rdmsr_checked(c->msr.index, &saved);
		if (!check_msg(!f.raised, c->msr.name, "RDMSR %#x raised %s", c->msr.index,
			       fault_str(&f, fault_text, sizeof(fault_text))))
			continue;
		report_prefix_push("%s", c->msr.name);
		for (size_t v = 0; v < ARRAY_SIZE(c->values); v++) {
			f = wrmsr_checked(c->msr.index, c->values[v]);
			if (f.raised) {
				check_msg(false, v ? "second" : "first", "WRMSR %#x <- %#lx raised %s",
					  c->msr.index, c->values[v],
					  fault_str(&f, fault_text, sizeof(fault_text)));
				continue;
			}
			value = rdmsr(c->msr.index);
			check_msg(value == c->values[v], v ? "second" : "first",
				  "MSR %#x: wrote %#lx, read %#lx", c->msr.index, c->values[v], value);
		}
		report_prefix_pop();
		wrmsr(c->msr.index, saved);
	}
}

/* RDTSCP returns IA32_TSC_AUX in ECX (SDM Vol. 2B, RDTSCP). */
static void run_rdtscp(void *aux)
{
	uint32_t lo, hi;

	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*(uint32_t *)aux));
}

/*
 * RDTSCP returns IA32_TSC_AUX in ECX (SDM Vol. 2B RDTSCP); with CPUID
 * 8000_0001h EDX[27] set it must not fault at CPL0, so a fault is the
 * hypervisor's deviation, reported as a failure.
 */
static void check_rdtscp_aux(void)
{
	uint32_t aux = 0;
	uint64_t saved;
	struct fault f;
	char buf[64];

	if (!cpu_has(X86_FEATURE_RDTSCP)) {
		skip("", "no RDTSCP in CPUID");
		return;
	}
	saved = rdmsr(MSR_TSC_AUX);
	wrmsr(MSR_TSC_AUX, 0xabcde);
	f = catch_fault(run_rdtscp, &aux);
	wrmsr(MSR_TSC_AUX, saved);
	if (!check_msg(!f.raised, "no_fault", "RDTSCP raised %s", fault_str(&f, buf, sizeof(buf))))
		return;
	check_eq("ecx", aux, 0xabcde);
}

/* EFER.SCE toggles and reads back; the other bits stay. */
static void check_efer_sce(void)
{
	uint64_t efer = rdmsr(MSR_EFER), value;

	if (!cpu_has(X86_FEATURE_SYSCALL)) {
		skip("", "no SYSCALL in CPUID");
		return;
	}
	wrmsr(MSR_EFER, efer ^ EFER_SCE);
	value = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer);
	check_eq("", value, efer ^ EFER_SCE);
}

/* A written TSC value is where counting resumes (SDM Vol. 3B 18.17). */
static void check_tsc_write(void)
{
	const uint64_t start = 1ull << 40;
	uint64_t saved = rdtsc(), value;

	wrmsr(MSR_IA32_TSC, start);
	value = rdmsr(MSR_IA32_TSC);
	wrmsr(MSR_IA32_TSC, saved);
	check_msg(value >= start && value - start < (1ull << 36), "",
		  "wrote %#lx, read back %#lx", start, value);
}

/* ------------------------------------------------------------ #GP cases */

static bool expect_gp(const char *name, struct fault f, const char *what)
{
	return check_msg(fault_is(&f, X86_VEC_GP, 0), name, "%s: expected #GP(0), got %s", what,
			 fault_str(&f, fault_text, sizeof(fault_text)));
}

/* Indices outside every range that either vendor defines. */
static const uint32_t unimplemented_msrs[] = {
	0x00002fff, 0x10000000, 0x80000000, 0xbfffffff, 0xc0003000, 0xdeadbeef, 0xffffffff,
};

static void check_unimplemented(void)
{
	char name[48], what[48];

	for (size_t i = 0; i < ARRAY_SIZE(unimplemented_msrs); i++) {
		uint32_t index = unimplemented_msrs[i];
		uint64_t value;

		snprintf(name, sizeof(name), "%#x.read", index);
		snprintf(what, sizeof(what), "RDMSR %#x", index);
		expect_gp(name, rdmsr_checked(index, &value), what);
		snprintf(name, sizeof(name), "%#x.write", index);
		snprintf(what, sizeof(what), "WRMSR %#x", index);
		expect_gp(name, wrmsr_checked(index, 0), what);
	}
}

/*
 * The reserved bits of an MSR as each vendor's manual defines them.  The SDM
 * makes WRMSR raise #GP(0) for any reserved bit (SDM Vol. 2B WRMSR).  The APM
 * qualifies reserved bits (APM Vol. 1-3, "Conventions and Definitions"): an
 * MBZ bit makes WRMSR raise #GP(0) (APM Vol. 3 WRMSR); a RAZ bit reads as zero
 * whatever was written, and what a write of 1 does is left open (software is
 * to write back what it read).
 */
struct reserved_bit_case {
	struct msr_case msr;
	uint64_t intel_gp;	/* SDM: reserved, #GP(0) */
	uint64_t amd_gp;	/* APM: MBZ, #GP(0) */
	uint64_t amd_raz;	/* APM: RAZ, reads as zero */
};

/*
 * EFER: Intel reserves bits 7:1, 9 and 63:12 (SDM Vol. 3A 2.2.1, Figure 2-4);
 * AMD marks bits 7:1 RAZ and bits 9, 16 and 63:32 MBZ (APM Vol. 2 3.1.7,
 * Figure 3-8); only bits that neither vendor assigns are tried.  TSC_AUX: bits
 * 63:32 are reserved on Intel (SDM Vol. 4 Table 2-2); the APM does not define
 * them for WRMSR or RDMSR (APM Vol. 3 RDTSCP only says that RCX gets bits
 * 31:0), so AMD has no rule to check here: check_tsc_aux_high reports what
 * happens.  PAT: bits 7:3 of each entry on both (SDM Vol. 3A 13.12.2, APM Vol. 2
 * 7.8.1).  MTRRdefType: bits 63:12 and 9:8 on both (SDM Vol. 3A 13.11.2.1, APM
 * Vol. 2 7.7).
 */
static const struct reserved_bit_case reserved_bits[] = {
	{ MSR_ALWAYS("efer", MSR_EFER), 0xffffffff000102feull, 0xffffffff00010200ull, 0xfeull },
	{ MSR_FEATURE("tsc_aux", MSR_TSC_AUX, RDTSCP), 0xffffffff00000000ull, 0, 0 },
	{ MSR_FEATURE("pat", MSR_IA32_PAT, PAT), 0xf8f8f8f8f8f8f8f8ull, 0xf8f8f8f8f8f8f8f8ull, 0 },
	{ MSR_FEATURE("mtrr_def_type", MSR_MTRR_DEF_TYPE, MTRR), 0xfffffffffffff300ull,
	  0xfffffffffffff300ull, 0 },
};

/* WRMSR of the saved value with @bit flipped raises #GP(0); a write that went through is undone. */
static void expect_gp_bit(const struct reserved_bit_case *c, uint64_t saved, unsigned bit)
{
	uint64_t value = saved ^ BIT(bit);
	char name[64], what[64];
	struct fault f;

	snprintf(name, sizeof(name), "%s.bit_%u", c->msr.name, bit);
	snprintf(what, sizeof(what), "WRMSR %#x <- %#lx", c->msr.index, value);
	f = wrmsr_checked(c->msr.index, value);
	expect_gp(name, f, what);
	if (!f.raised)
		wrmsr(c->msr.index, saved);
}

/* After WRMSR with RAZ bit @bit set, whether it faulted or not, RDMSR returns the bit as 0. */
static void expect_raz_bit(const struct reserved_bit_case *c, uint64_t saved, unsigned bit)
{
	uint64_t value = saved | BIT(bit), got;
	char name[64];
	struct fault f;

	snprintf(name, sizeof(name), "%s.bit_%u", c->msr.name, bit);
	f = wrmsr_checked(c->msr.index, value);
	got = rdmsr(c->msr.index);
	wrmsr(c->msr.index, saved);
	check_msg(!(got & BIT(bit)), name,
		  "WRMSR %#x <- %#lx (%s), then RDMSR read %#lx: bit %u is RAZ, it must read 0",
		  c->msr.index, value, f.raised ? "faulted" : "no fault", got, bit);
}

/*
 * The bits each vendor reserves: reserved_bits.MSR.bit_N must raise #GP(0),
 * raz_bits.MSR.bit_N must read as zero (AMD only).
 */
static void check_reserved_bits(void)
{
	bool amd = cpu_is_amd();

	for (size_t i = 0; i < ARRAY_SIZE(reserved_bits); i++) {
		const struct reserved_bit_case *c = &reserved_bits[i];
		uint64_t gp = amd ? c->amd_gp : c->intel_gp, saved;

		if (!gp || !available(&c->msr, c->msr.name))
			continue;
		saved = rdmsr(c->msr.index);
		for (unsigned bit = 0; bit < 64; bit++)
			if (gp & BIT(bit))
				expect_gp_bit(c, saved, bit);
	}
}

static void check_raz_bits(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_bits); i++) {
		const struct reserved_bit_case *c = &reserved_bits[i];
		uint64_t saved;

		if (!c->amd_raz)
			continue;
		if (!cpu_is_amd()) {
			skip(c->msr.name, "RAZ bits are an AMD rule; the SDM reserves them with #GP");
			continue;
		}
		if (!available(&c->msr, c->msr.name))
			continue;
		saved = rdmsr(c->msr.index);
		for (unsigned bit = 0; bit < 64; bit++)
			if (c->amd_raz & BIT(bit))
				expect_raz_bit(c, saved, bit);
	}
}

/* RDTSCP with RCX preset to all ones: the aux value it returns, all 64 bits of RCX. */
static void run_rdtscp_rcx(void *rcx)
{
	uint64_t a, d, c = ~0ull;

	asm volatile("rdtscp" : "=a"(a), "=d"(d), "+c"(c));
	*(uint64_t *)rcx = c;
}

/*
 * AMD: the APM leaves TSC_AUX bits 63:32 undefined for WRMSR and RDMSR (current
 * AMD processors drop them and read them as zero, but no manual says so), so
 * what WRMSR and RDMSR do with them is reported, not judged.  What the APM does
 * say is checked: RDTSCP loads RCX with TSC_AUX[31:0], zero-extended (APM Vol.
 * 3 RDTSCP), whatever the upper half holds.
 */
static void check_tsc_aux_high(void)
{
	const uint64_t value = 0xffffffff00000000ull | 0x5a5a5, low = (uint32_t)value;
	uint64_t saved, got = 0, rcx = 0;
	struct fault f;
	char buf[64];

	if (!cpu_has(X86_FEATURE_RDTSCP)) {
		skip("", "no RDTSCP in CPUID");
		return;
	}
	if (!cpu_is_amd()) {
		skip("", "on Intel bits 63:32 are reserved: reserved_bits.tsc_aux checks the #GP");
		return;
	}
	saved = rdmsr(MSR_TSC_AUX);
	f = wrmsr_checked(MSR_TSC_AUX, value);
	if (f.raised) {
		info("TSC_AUX: WRMSR <- %#lx raised %s (the APM does not define bits 63:32)", value,
		     fault_str(&f, buf, sizeof(buf)));
		skip("rdtscp", "WRMSR refused bits 63:32, so RDTSCP has no upper half to ignore");
		return;
	}
	got = rdmsr(MSR_TSC_AUX);
	info("TSC_AUX: WRMSR <- %#lx, RDMSR reads %#lx: bits 63:32 %s (the APM does not define "
	     "them)", value, got,
	     got == value ? "stored" : (got & ~0xffffffffull) ? "changed" : "dropped");
	f = catch_fault(run_rdtscp_rcx, &rcx);
	wrmsr(MSR_TSC_AUX, saved);
	check_msg(!f.raised && rcx == low, "rdtscp",
		  "RDTSCP with TSC_AUX = %#lx: %s, RCX %#lx; expected TSC_AUX[31:0] zero-extended, %#lx",
		  got, fault_str(&f, buf, sizeof(buf)), rcx, low);
}

/* PAT memory types 2 and 3 are reserved, and so is 8 and above (SDM Vol. 3A 13.12.2). */
static void check_pat_types(void)
{
	static const uint8_t bad_types[] = { 2, 3, 8 };
	char name[32], what[64];
	uint64_t saved;

	if (!cpu_has(X86_FEATURE_PAT)) {
		skip("", "no PAT in CPUID");
		return;
	}
	saved = rdmsr(MSR_IA32_PAT);
	for (size_t i = 0; i < ARRAY_SIZE(bad_types); i++) {
		for (unsigned entry = 0; entry < 8; entry += 7) {
			uint64_t value = (saved & ~(0xffull << (8 * entry))) |
					 ((uint64_t)bad_types[i] << (8 * entry));
			struct fault f;

			snprintf(name, sizeof(name), "pa%u.type_%u", entry, bad_types[i]);
			snprintf(what, sizeof(what), "WRMSR PAT <- %#lx", value);
			f = wrmsr_checked(MSR_IA32_PAT, value);
			expect_gp(name, f, what);
			if (!f.raised)
				wrmsr(MSR_IA32_PAT, saved);
		}
	}
}

/*
 * Base and entry-point MSRs hold linear addresses: a non-canonical value makes
 * WRMSR raise #GP(0) (SDM Vol. 2B, WRMSR; APM Vol. 3, WRMSR).  Canonical is
 * checked against the CPU's linear-address width, so the value has only the
 * bit just above the canonical range set.
 */
static const struct msr_case address_msrs[] = {
	MSR_ALWAYS("fs_base", MSR_FS_BASE),
	MSR_ALWAYS("gs_base", MSR_GS_BASE),
	MSR_ALWAYS("kernel_gs_base", MSR_KERNEL_GS_BASE),
	MSR_FEATURE("lstar", MSR_LSTAR, SYSCALL),
	MSR_AMD("cstar", MSR_CSTAR),
	MSR_INTEL("sysenter_esp", MSR_IA32_SYSENTER_ESP),
	MSR_INTEL("sysenter_eip", MSR_IA32_SYSENTER_EIP),
};

static void check_noncanonical(void)
{
	uint64_t value = 1ull << (cpu_linear_address_bits() - 1);
	char what[64];

	for (size_t i = 0; i < ARRAY_SIZE(address_msrs); i++) {
		const struct msr_case *m = &address_msrs[i];
		uint64_t saved;
		struct fault f;

		if (!available(m, m->name))
			continue;
		saved = rdmsr(m->index);
		snprintf(what, sizeof(what), "WRMSR %#x <- %#lx", m->index, value);
		f = wrmsr_checked(m->index, value);
		expect_gp(m->name, f, what);
		wrmsr(m->index, saved);
	}
}

static const struct check_entry msr_checks[] = {
	{ "roundtrip", check_roundtrip },
	{ "rdtscp_aux", check_rdtscp_aux },
	{ "efer_sce", check_efer_sce },
	{ "tsc_write", check_tsc_write },
	{ "unimplemented", check_unimplemented },
	{ "reserved_bits", check_reserved_bits },
	{ "raz_bits", check_raz_bits },
	{ "tsc_aux_high", check_tsc_aux_high },
	{ "pat_types", check_pat_types },
	{ "noncanonical", check_noncanonical },
};

DEFINE_TEST("msr", msr_checks);
