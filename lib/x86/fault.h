/**
 * @file fault.h
 * Catching exceptions: run a piece of code and learn whether it faulted, with
 * the vector, error code, faulting RIP and CR2.
 *
 * Two forms share one handler and one record:
 *  - catch_fault(fn, arg) runs a function; a fault anywhere in it unwinds back.
 *  - FAULT_TRY("insn") wraps a single instruction in inline assembly through the
 *    exception table; execution resumes after it.  The *_checked() helpers below
 *    use it.
 * An exception that nothing expects ends the run as ERROR with a register dump.
 */
#ifndef HVT_X86_FAULT_H
#define HVT_X86_FAULT_H

#include "libhvt.h"
#include "processor.h"

/** What an instruction or function raised. */
struct fault {
	bool raised;		/**< false: it completed without an exception */
	uint8_t vector;
	uint32_t error_code;
	uint64_t rip;		/**< RIP in the exception frame (faults: the instruction; traps: the next) */
	uint64_t cr2;		/**< CR2 at the time of a #PF */
	uint64_t dr6;		/**< DR6 at the time of a #DB */
};

/** Code that a catch_fault() runs. */
typedef void (*fault_fn_t)(void *arg);

/** Runs @fn(@arg); returns the first exception it raised (raised == false if none). */
struct fault catch_fault(fault_fn_t fn, void *arg);

/** Expands to "insn" with an exception-table entry that resumes right after it. */
#define FAULT_TRY(insn)                                                        \
	"1: " insn "\n2:\n"                                                    \
	".pushsection .ex_table, \"a\"\n"                                      \
	".balign 8\n"                                                          \
	".quad 1b, 2b\n"                                                       \
	".popsection\n"

/**
 * The address of a global label defined in inline assembly, for checks of the
 * RIP an exception reports.  Functions defining such labels must be
 * __noinline_noclone so that the label exists once.
 */
#define ASM_LABEL_ADDR(label) ({ uint64_t a_; asm("lea " label "(%%rip), %0" : "=r"(a_)); a_; })
#define __noinline_noclone __attribute__((noinline, noclone))

/** Clears the record before a FAULT_TRY. */
void fault_clear(void);
/** The record after a FAULT_TRY (raised == false if it completed). */
struct fault fault_take(void);

/** "#GP(0x0)" style text for messages; uses a static buffer per call site pair. */
const char *fault_str(const struct fault *f, char *buf, size_t size);

/** True when @f is exactly exception @vector with @error_code. */
static inline bool fault_is(const struct fault *f, unsigned vector, uint32_t error_code)
{
	return f->raised && f->vector == vector && f->error_code == error_code;
}

static inline struct fault rdmsr_checked(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	fault_clear();
	asm volatile(FAULT_TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*value = lo | ((uint64_t)hi << 32);
	return fault_take();
}

static inline struct fault wrmsr_checked(uint32_t msr, uint64_t value)
{
	fault_clear();
	asm volatile(FAULT_TRY("wrmsr")
		     : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
	return fault_take();
}

static inline struct fault write_cr4_checked(uint64_t value)
{
	fault_clear();
	asm volatile(FAULT_TRY("mov %0, %%cr4") : : "r"(value) : "memory");
	return fault_take();
}

static inline struct fault write_cr0_checked(uint64_t value)
{
	fault_clear();
	asm volatile(FAULT_TRY("mov %0, %%cr0") : : "r"(value) : "memory");
	return fault_take();
}

/** INVPCID of @type with the descriptor {@pcid_etc, @addr} (SDM Vol. 2B INVPCID). */
static inline struct fault invpcid_checked(uint64_t type, uint64_t pcid_etc, uint64_t addr)
{
	uint64_t desc[2] = { pcid_etc, addr };

	fault_clear();
	asm volatile(FAULT_TRY("invpcid %0, %1") : : "m"(desc), "r"(type) : "memory");
	return fault_take();
}

/** Reads a byte at @addr, catching #PF and friends. */
static inline struct fault read_byte_checked(const volatile void *addr, uint8_t *value)
{
	uint8_t v = 0;

	fault_clear();
	asm volatile(FAULT_TRY("movb (%1), %0") : "+q"(v) : "r"(addr) : "memory");
	*value = v;
	return fault_take();
}

/** Writes a byte at @addr, catching #PF and friends. */
static inline struct fault write_byte_checked(volatile void *addr, uint8_t value)
{
	fault_clear();
	asm volatile(FAULT_TRY("movb %1, (%0)") : : "r"(addr), "q"(value) : "memory");
	return fault_take();
}

#endif
