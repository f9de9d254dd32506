/**
 * @file processor.h
 * Instructions as C: CPUID, MSRs, control registers, flags, port I/O, TSC.
 * Faulting variants (rdmsr_checked() and friends) live in fault.h.
 */
#ifndef HVT_X86_PROCESSOR_H
#define HVT_X86_PROCESSOR_H

#include "libhvt.h"

/* CR0 (SDM Vol. 3A 2.5) */
#define X86_CR0_PE BIT(0)
#define X86_CR0_MP BIT(1)
#define X86_CR0_EM BIT(2)
#define X86_CR0_TS BIT(3)
#define X86_CR0_ET BIT(4)
#define X86_CR0_NE BIT(5)
#define X86_CR0_WP BIT(16)
#define X86_CR0_AM BIT(18)
#define X86_CR0_NW BIT(29)
#define X86_CR0_CD BIT(30)
#define X86_CR0_PG BIT(31)

/* CR4 */
#define X86_CR4_VME BIT(0)
#define X86_CR4_PVI BIT(1)
#define X86_CR4_TSD BIT(2)
#define X86_CR4_DE BIT(3)
#define X86_CR4_PSE BIT(4)
#define X86_CR4_PAE BIT(5)
#define X86_CR4_MCE BIT(6)
#define X86_CR4_PGE BIT(7)
#define X86_CR4_PCE BIT(8)
#define X86_CR4_OSFXSR BIT(9)
#define X86_CR4_OSXMMEXCPT BIT(10)
#define X86_CR4_UMIP BIT(11)
#define X86_CR4_LA57 BIT(12)
#define X86_CR4_VMXE BIT(13)
#define X86_CR4_SMXE BIT(14)
#define X86_CR4_FSGSBASE BIT(16)
#define X86_CR4_PCIDE BIT(17)
#define X86_CR4_OSXSAVE BIT(18)
#define X86_CR4_SMEP BIT(20)
#define X86_CR4_SMAP BIT(21)
#define X86_CR4_PKE BIT(22)

/* RFLAGS */
#define X86_EFLAGS_CF BIT(0)
#define X86_EFLAGS_FIXED BIT(1)
#define X86_EFLAGS_ZF BIT(6)
#define X86_EFLAGS_TF BIT(8)
#define X86_EFLAGS_IF BIT(9)
#define X86_EFLAGS_DF BIT(10)
#define X86_EFLAGS_IOPL (3ull << 12)
#define X86_EFLAGS_NT BIT(14)
#define X86_EFLAGS_RF BIT(16)
#define X86_EFLAGS_VM BIT(17)
#define X86_EFLAGS_AC BIT(18)

/* DR6 */
#define X86_DR6_BS BIT(14)

/* Exception vectors (SDM Vol. 3A 6.3.1) */
enum {
	X86_VEC_DE = 0, X86_VEC_DB = 1, X86_VEC_NMI = 2, X86_VEC_BP = 3, X86_VEC_OF = 4,
	X86_VEC_BR = 5, X86_VEC_UD = 6, X86_VEC_NM = 7, X86_VEC_DF = 8, X86_VEC_TS = 10,
	X86_VEC_NP = 11, X86_VEC_SS = 12, X86_VEC_GP = 13, X86_VEC_PF = 14, X86_VEC_MF = 16,
	X86_VEC_AC = 17, X86_VEC_MC = 18, X86_VEC_XM = 19, X86_VEC_VE = 20, X86_VEC_CP = 21,
};

/* Page-fault error code (SDM Vol. 3A 4.7) */
#define X86_PFEC_P BIT(0)
#define X86_PFEC_W BIT(1)
#define X86_PFEC_U BIT(2)
#define X86_PFEC_RSVD BIT(3)
#define X86_PFEC_I BIT(4)

struct cpuid {
	uint32_t a, b, c, d;
};

static inline struct cpuid cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid r;

	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

/** Highest basic (0) or extended (0x80000000) leaf. */
static inline uint32_t cpuid_max(uint32_t base)
{
	return cpuid(base).a;
}

/* CPU features as (leaf, subleaf, register, bit), for cpu_has(). */
struct cpu_feature {
	uint32_t leaf, subleaf;
	uint8_t reg;		/* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint8_t bit;
};

#define CPU_FEATURE(l, s, r, b) ((struct cpu_feature){ (l), (s), (r), (b) })
#define X86_FEATURE_VMX		CPU_FEATURE(1, 0, 2, 5)
#define X86_FEATURE_SMX		CPU_FEATURE(1, 0, 2, 6)
#define X86_FEATURE_X2APIC	CPU_FEATURE(1, 0, 2, 21)
#define X86_FEATURE_TSC_DEADLINE CPU_FEATURE(1, 0, 2, 24)
#define X86_FEATURE_XSAVE	CPU_FEATURE(1, 0, 2, 26)
#define X86_FEATURE_MSR		CPU_FEATURE(1, 0, 3, 5)
#define X86_FEATURE_APIC	CPU_FEATURE(1, 0, 3, 9)
#define X86_FEATURE_SEP		CPU_FEATURE(1, 0, 3, 11)
#define X86_FEATURE_MTRR	CPU_FEATURE(1, 0, 3, 12)
#define X86_FEATURE_PAT		CPU_FEATURE(1, 0, 3, 16)
#define X86_FEATURE_FSGSBASE	CPU_FEATURE(7, 0, 1, 0)
#define X86_FEATURE_SMEP	CPU_FEATURE(7, 0, 1, 7)
#define X86_FEATURE_INVPCID	CPU_FEATURE(7, 0, 1, 10)
#define X86_FEATURE_SMAP	CPU_FEATURE(7, 0, 1, 20)
#define X86_FEATURE_RDPID	CPU_FEATURE(7, 0, 2, 22)
#define X86_FEATURE_LA57	CPU_FEATURE(7, 0, 2, 16)
#define X86_FEATURE_SVM		CPU_FEATURE(0x80000001, 0, 2, 2)
#define X86_FEATURE_SYSCALL	CPU_FEATURE(0x80000001, 0, 3, 11)
#define X86_FEATURE_NX		CPU_FEATURE(0x80000001, 0, 3, 20)
#define X86_FEATURE_GBPAGES	CPU_FEATURE(0x80000001, 0, 3, 26)
#define X86_FEATURE_RDTSCP	CPU_FEATURE(0x80000001, 0, 3, 27)
#define X86_FEATURE_LM		CPU_FEATURE(0x80000001, 0, 3, 29)

static inline bool cpu_has(struct cpu_feature f)
{
	struct cpuid r;
	uint32_t regs[4];

	if (cpuid_max(f.leaf & 0x80000000u) < f.leaf)
		return false;
	r = cpuid_count(f.leaf, f.subleaf);
	regs[0] = r.a, regs[1] = r.b, regs[2] = r.c, regs[3] = r.d;
	return regs[f.reg] & (1u << f.bit);
}

static inline bool cpu_is_amd(void)
{
	struct cpuid r = cpuid(0);

	/* "AuthenticAMD" (or Hygon's "HygonGenuine", which follows AMD) */
	return (r.b == 0x68747541 && r.d == 0x69746e65 && r.c == 0x444d4163) ||
	       (r.b == 0x6f677948 && r.d == 0x6e65476e && r.c == 0x656e6975);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((uint64_t)hi << 32);
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
		     : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                                 \
	static inline uint64_t read_cr##n(void)                                \
	{                                                                      \
		uint64_t v;                                                    \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));                  \
		return v;                                                      \
	}                                                                      \
	static inline void write_cr##n(uint64_t v)                             \
	{                                                                      \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");         \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
DEFINE_CR_ACCESSORS(8)
#undef DEFINE_CR_ACCESSORS

#define DEFINE_DR_ACCESSORS(n)                                                 \
	static inline uint64_t read_dr##n(void)                                \
	{                                                                      \
		uint64_t v;                                                    \
		asm volatile("mov %%dr" #n ", %0" : "=r"(v));                  \
		return v;                                                      \
	}                                                                      \
	static inline void write_dr##n(uint64_t v)                             \
	{                                                                      \
		asm volatile("mov %0, %%dr" #n : : "r"(v));                    \
	}
DEFINE_DR_ACCESSORS(0)
DEFINE_DR_ACCESSORS(6)
DEFINE_DR_ACCESSORS(7)
#undef DEFINE_DR_ACCESSORS

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	asm volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void write_rflags(uint64_t f)
{
	asm volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

static inline void irq_enable(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((uint64_t)hi << 32);
}

static inline uint16_t read_cs(void)
{
	uint16_t v;

	asm volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static inline uint16_t read_ss(void)
{
	uint16_t v;

	asm volatile("mov %%ss, %0" : "=r"(v));
	return v;
}

/** Number of implemented linear-address bits (CPUID 0x80000008 EAX[15:8]). */
static inline unsigned cpu_linear_address_bits(void)
{
	if (cpuid_max(0x80000000) < 0x80000008)
		return 48;
	return (cpuid(0x80000008).a >> 8) & 0xff;
}

/** Number of physical-address bits (CPUID 0x80000008 EAX[7:0]). */
static inline unsigned cpu_physical_address_bits(void)
{
	if (cpuid_max(0x80000000) < 0x80000008)
		return 36;
	return cpuid(0x80000008).a & 0xff;
}

#endif
