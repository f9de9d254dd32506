/*
 * VMRUN's checks (AMD APM Vol. 2 15.5.1 "Canonicalization and Consistency
 * Checks", 15.20 for EVENTINJ, 15.25.4 for nested paging; Vol. 3 VMRUN,
 * VMLOAD, VMSAVE, STGI, CLGI):
 *  - each probe of the rule table (lib/x86/svm_rules.h) changes one element of
 *    an otherwise valid VMCB; the table says whether VMRUN must then #VMEXIT at
 *    once with VMEXIT_INVALID (-1), L1 resuming after its VMRUN, or enter (a
 *    bit this CPU defines, a map that just fits): then L2 runs to its VMMCALL
 *    with the changed register loaded;
 *  - the unchanged VMCB runs L2 to its VMMCALL (the control);
 *  - the SVM instructions raise #UD with EFER.SVME clear and #GP(0) for a
 *    VMCB address that is not page aligned or beyond the physical address width;
 *  - with a 32-bit address size (67h, or compatibility mode) VMRUN, VMLOAD
 *    and VMSAVE take EAX, not RAX.
 * L2 runs with every exception and SHUTDOWN intercepted and an IDT of its own,
 * so a hypervisor that accepts an illegal VMCB shows as a FAIL, not a crash.
 */
#include "alloc.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "svm.h"
#include "svm_rules.h"
#include "svm_util.h"
#include "test.h"

SVM_L2_CODE(l2_vmrun_nop, "nop");

static struct svm_vcpu *vcpu;
static struct svm_valid_vmcb valid;
static unsigned maxphy;

static void setup(void)
{
	vcpu = svm_valid_setup(&valid);
	if (!vcpu)
		return;
	maxphy = cpu_physical_address_bits();
}

/*
 * The valid VMCB every check starts from (svm_rules.h), with every exception
 * intercepted: an accepted illegal VMCB ends in an exit, not in L2's handlers.
 */
static void prepare(void)
{
	svm_valid_reset(&valid, l2_vmrun_nop);
	vcpu->vmcb->control.intercept_exceptions = 0xffffffff;
}

/*
 * Runs the prepared VMCB and checks that VMRUN refused it.  Only EXITCODE's low
 * half is compared: that the whole 64-bit field reads -1 is check exitcode.
 */
static void expect_invalid(const char *name, const char *what)
{
	uint64_t code = svm_run(vcpu);
	char buf[48];

	check_msg((uint32_t)code == (uint32_t)SVM_EXIT_INVALID, name,
		  "%s: expected VMEXIT_INVALID (-1), got exit %s at rip %#lx (L2 %s)", what,
		  svm_exit_text(code, buf, sizeof(buf)), vcpu->vmcb->save.rip,
		  l2_event.count ? "took an event" : "ran");
}

/* APM Vol. 2 15.5.1: the unchanged VMCB is legal: L2 runs to VMMCALL. */
static void check_valid(void)
{
	uint64_t code;
	char buf[48];

	if (!svm_require())
		return;
	prepare();
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)l2_vmrun_nop_end,
		  "", "exit %s at rip %#lx, expected VMMCALL at %p",
		  svm_exit_text(code, buf, sizeof(buf)), vcpu->vmcb->save.rip, l2_vmrun_nop_end);
}

/*
 * The rule table's prediction for the prepared VMCB: the rules it violates
 * (svm_rules.h) as text, or NULL when it violates none.
 */
static const char *violated_rules(char *buf, size_t size)
{
	const struct svm_rule *rules[4];
	unsigned n = svm_rules_violated(vcpu->vmcb, rules, ARRAY_SIZE(rules));
	size_t len = 0;

	if (!n)
		return NULL;
	buf[0] = '\0';
	for (unsigned i = 0; i < n && i < ARRAY_SIZE(rules) && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s (%s)", i ? ", " : "", rules[i]->text,
				rules[i]->section);
	return buf;
}

/*
 * A probe the table finds legal here (a bit a feature of this CPU defines):
 * VMRUN must enter, L2 reach its VMMCALL, and the changed register read back
 * from the state-save area as it was loaded (APM Vol. 2 15.5.1, 15.6).
 */
static void expect_entry(const char *name, const struct svm_probe *p)
{
	enum svm_field f = p->m[0].field;
	uint64_t loaded = svm_field_get(vcpu->vmcb, f), code, saved;
	bool save_area = f == SVM_F_CR0 || f == SVM_F_CR3 || f == SVM_F_CR4 || f == SVM_F_EFER;
	char buf[48];

	code = svm_run(vcpu);
	saved = svm_field_get(vcpu->vmcb, f);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)l2_vmrun_nop_end &&
			  (!save_area || saved == loaded),
		  name, "%s is legal on this CPU (no rule of the table holds): expected L2 to run to VMMCALL at %p with %s %#lx, got exit %s at rip %#lx, %s %#lx",
		  p->what, l2_vmrun_nop_end, svm_field_name(f), loaded,
		  svm_exit_text(code, buf, sizeof(buf)), vcpu->vmcb->save.rip, svm_field_name(f), saved);
}

/* Why a probe the table finds legal cannot run: the capability that makes it legal. */
static const char *legal_because(const struct svm_probe *p, char *buf, size_t size)
{
	uint64_t bits = p->m[0].value;
	unsigned bit = bits ? (unsigned)__builtin_ctzll(bits) : 0;
	const char *feature = p->m[0].field == SVM_F_CR4 ? svm_cr4_bit_feature(bit) :
			      p->m[0].field == SVM_F_EFER ? svm_efer_bit_feature(bit) : NULL;

	snprintf(buf, size, "%s is legal here (%s): the MBZ case needs a CPU without it, and setting it would change how L2 runs",
		 p->what, feature ? feature : "defined on this CPU");
	return buf;
}

/*
 * Runs the probes of the table (svm_rules.h) whose check names start with the
 * running entry's name: each changes the valid VMCB, and the rule table says
 * whether VMRUN must refuse it (VMEXIT_INVALID) or enter.
 */
static void run_probes(void)
{
	const char *entry = report_entry();
	size_t elen = strlen(entry);

	if (!svm_require())
		return;
	for (size_t i = 0; i < svm_probe_count; i++) {
		const struct svm_probe *p = &svm_probes[i];
		const char *own = p->check + elen, *why;
		char rules[200];

		if (strncmp(p->check, entry, elen) || (*own && *own != '.'))
			continue;
		if (*own == '.')
			own++;
		if (!svm_probe_usable(p, &why)) {
			skip(own, "%s", why);
			continue;
		}
		prepare();
		svm_probe_apply(p, vcpu->vmcb);
		if (p->flags & SVM_PROBE_UNDECIDED) {
			char buf[48];

			info("%s: %s: no rule decides (RAZ, not MBZ: APM Vol. 2 3.1.7, 15.5.1); VMRUN gave exit %s",
			     own, p->what, svm_exit_text(svm_run(vcpu), buf, sizeof(buf)));
		} else if (violated_rules(rules, sizeof(rules))) {
			char what[300];

			snprintf(what, sizeof(what), "%s: %s", p->what, rules);
			expect_invalid(own, what);
		} else if (p->flags & SVM_PROBE_ILLEGAL_ONLY) {
			skip(own, "%s", legal_because(p, rules, sizeof(rules)));
		} else {
			expect_entry(own, p);
		}
	}
}

#define EVTINJ(type, vector) (SVM_EVTINJ_VALID | ((uint64_t)(type) << 8) | (vector))

/*
 * APM Vol. 2 15.20: the probes of eventinj.* (reserved TYPEs, exceptions with
 * vector 2 or above 31), then the controls: legal exceptions (#UD, and vector
 * 31, the highest legal one) are delivered through L2's IDT.
 */
static void check_eventinj(void)
{
	uint64_t code;
	char buf[48];

	static const unsigned legal[] = { X86_VEC_UD, 31 };

	run_probes();
	if (!vcpu)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(legal); i++) {
		prepare();
		vcpu->vmcb->control.event_inj = EVTINJ(3, legal[i]);
		vcpu->vmcb->control.intercept_exceptions = 0;
		code = svm_run(vcpu);
		check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 && l2_event.vector == legal[i],
			  legal[i] == 31 ? "exception_vector31_valid" : "exception_vector6_valid",
			  "exit %s, %lu deliveries, vector %lu: expected exception %u delivered (vectors 0-31 but 2 are legal)",
			  svm_exit_text(code, buf, sizeof(buf)), l2_event.count, l2_event.vector, legal[i]);
	}
}

/* ---------------------------------------------------------------- instruction faults */

enum svm_insn { INSN_VMRUN, INSN_VMLOAD, INSN_VMSAVE, INSN_STGI, INSN_CLGI };

static const char *const insn_names[] = { "vmrun", "vmload", "vmsave", "stgi", "clgi" };

/*
 * Executes one SVM instruction with RAX = @rax and returns what it raised.  A
 * VMRUN that runs (no fault) comes back at its #VMEXIT with GIF clear: the
 * caller sets it again once EFER.SVME is back.
 */
static struct fault exec_insn(enum svm_insn insn, uint64_t rax)
{
	struct fault f;

	fault_clear();
	switch (insn) {
	case INSN_VMRUN:
		asm volatile(FAULT_TRY("vmrun %%rax") : "+a"(rax) : : "memory", "rbx", "rcx", "rdx",
			     "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
		f = fault_take();
		return f;
	case INSN_VMLOAD:
		asm volatile(FAULT_TRY("vmload %%rax") : : "a"(rax) : "memory");
		break;
	case INSN_VMSAVE:
		asm volatile(FAULT_TRY("vmsave %%rax") : : "a"(rax) : "memory");
		break;
	case INSN_STGI:
		asm volatile(FAULT_TRY("stgi") : : : "memory");
		break;
	case INSN_CLGI:
		asm volatile(FAULT_TRY("clgi") : : : "memory");
		break;
	}
	return fault_take();
}

/* A VMCB that runs L2 to VMMCALL, with the state VMLOAD/VMSAVE move being L1's own. */
static uint64_t valid_vmcb(void)
{
	prepare();
	return (uint64_t)vcpu->vmcb;
}

/*
 * APM Vol. 3 VMRUN, VMLOAD, VMSAVE, CLGI: #UD when EFER.SVME = 0.  STGI: #UD
 * with EFER.SVME = 0 only when neither SVM Lock (CPUID 8000_000Ah EDX[2]) nor
 * SKINIT (CPUID 8000_0001h ECX[12]) is available.
 */
static void check_ud(void)
{
	uint64_t efer;
	struct fault f[5];
	char buf[64];

	if (!svm_require())
		return;
	efer = rdmsr(MSR_EFER);
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++) {
		uint64_t rax = valid_vmcb();

		wrmsr(MSR_EFER, efer & ~EFER_SVME);
		f[i] = exec_insn(i, rax);
		wrmsr(MSR_EFER, efer);
		asm volatile("stgi");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++) {
		if (i == INSN_STGI && (svm_has(SVM_FEATURE_SVML) ||
				       cpu_has(CPU_FEATURE(0x80000001, 0, 2, 12)))) {
			skip(insn_names[i], "STGI is legal with EFER.SVME = 0 with SVM Lock or SKINIT");
			continue;
		}
		check_msg(f[i].raised && f[i].vector == X86_VEC_UD, insn_names[i],
			  "EFER.SVME = 0: expected #UD, got %s", fault_str(&f[i], buf, sizeof(buf)));
	}
}

/*
 * APM Vol. 3 VMRUN, VMLOAD, VMSAVE: #GP(0) when rAX is not 4-KiB aligned or
 * holds a physical address beyond the implemented width.  The unaligned
 * address lies in the middle of a valid VMCB's page, so that a hypervisor that
 * ignores the low bits runs (or loads) something harmless.
 */
static void check_gp(void)
{
	char name[48], buf[64];

	if (!svm_require())
		return;
	for (unsigned i = INSN_VMRUN; i <= INSN_VMSAVE; i++) {
		struct fault f = exec_insn(i, valid_vmcb() + 0x800);

		asm volatile("stgi");

		snprintf(name, sizeof(name), "%s.unaligned", insn_names[i]);
		check_msg(fault_is(&f, X86_VEC_GP, 0), name, "rAX not page aligned: expected #GP(0), got %s",
			  fault_str(&f, buf, sizeof(buf)));
		if (i != INSN_VMRUN)
			/* Whatever a VMLOAD that did not fault loaded: L1's own state back. */
			asm volatile("vmload %%rax" : : "a"(valid_vmcb()) : "memory");
	}
	for (unsigned i = INSN_VMRUN; i <= INSN_VMSAVE; i++) {
		struct fault f;

		snprintf(name, sizeof(name), "%s.beyond_maxphyaddr", insn_names[i]);
		if (maxphy >= 52) {
			skip(name, "MAXPHYADDR is 52: no unimplemented physical address");
			continue;
		}
		f = exec_insn(i, BIT(maxphy));
		asm volatile("stgi");
		check_msg(fault_is(&f, X86_VEC_GP, 0), name,
			  "rAX = 2^MAXPHYADDR (%u): expected #GP(0), got %s", maxphy,
			  fault_str(&f, buf, sizeof(buf)));
		if (i != INSN_VMRUN)
			asm volatile("vmload %%rax" : : "a"(valid_vmcb()) : "memory");
	}
}

/* ---------------------------------------------------------------- 32-bit address size */

/* Bits 63:32 of RAX: used as part of the address, they would lie beyond any MAXPHYADDR. */
#define RAX_UPPER_GARBAGE	0xdeadbeef00000000ull
#define ADDR32_KERNEL_GS_BASE	0x00007f00add32000ull

/*
 * Executes VMRUN, VMLOAD or VMSAVE with a 67h prefix (32-bit effective address
 * size in 64-bit mode: "vmrun %eax"), RAX = @rax.  A VMRUN that runs returns
 * with GIF clear, as in exec_insn().
 */
static struct fault exec_insn_addr32(enum svm_insn insn, uint64_t rax)
{
	fault_clear();
	switch (insn) {
	case INSN_VMRUN:
		asm volatile(FAULT_TRY("vmrun %%eax") : "+a"(rax) : : "memory", "rbx", "rcx", "rdx",
			     "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
		break;
	case INSN_VMLOAD:
		asm volatile(FAULT_TRY("vmload %%eax") : : "a"(rax) : "memory");
		break;
	case INSN_VMSAVE:
		asm volatile(FAULT_TRY("vmsave %%eax") : : "a"(rax) : "memory");
		break;
	default:
		report_abort("exec_insn_addr32: %s takes no address", insn_names[insn]);
	}
	return fault_take();
}

/*
 * void compat_vmsave_vmload(uint64_t load, uint64_t rax): VMSAVE (@load 0) or
 * VMLOAD (@load 1) with RAX = @rax from a compatibility-mode code segment
 * (KERNEL_CS32: L = 0, D = 1, so the address size is 32 bits, APM Vol. 2 4.8.1).
 * It goes there and back with far returns; in compatibility mode the stack is
 * ESP, so the caller's stack must lie below 4 GiB.  Each instruction has an
 * exception-table entry, as FAULT_TRY() makes, resuming at the way back.
 */
asm(".pushsection .text\n"
    "compat_vmsave_vmload:\n"
    "push %rbx\n"
    "mov %rsp, %rbx\n"
    "mov %rsi, %rax\n"
    "pushq $" stringify(KERNEL_CS32) "\n"
    "lea compat_insn_code32(%rip), %rcx\n"
    "pushq %rcx\n"
    "lretq\n"
    ".code32\n"
    "compat_insn_code32:\n"
    "test %edi, %edi\n"
    "jnz compat_insn_vmload\n"
    "compat_insn_vmsave: vmsave %eax\n"
    "jmp compat_insn_back\n"
    "compat_insn_vmload: vmload %eax\n"
    "compat_insn_back:\n"
    "pushl $" stringify(KERNEL_CS64) "\n"
    "pushl $compat_insn_code64\n"
    "lretl\n"
    ".code64\n"
    "compat_insn_code64:\n"
    "mov %rbx, %rsp\n"
    "pop %rbx\n"
    "ret\n"
    ".pushsection .ex_table, \"a\"\n"
    ".balign 8\n"
    ".quad compat_insn_vmsave, compat_insn_back\n"
    ".quad compat_insn_vmload, compat_insn_back\n"
    ".popsection\n"
    ".popsection\n");
void compat_vmsave_vmload(uint64_t load, uint64_t rax);

static struct fault exec_insn_compat(enum svm_insn insn, uint64_t rax)
{
	fault_clear();
	compat_vmsave_vmload(insn == INSN_VMLOAD, rax);
	return fault_take();
}

/*
 * The three ways of check addr32 to execute an instruction: in 64-bit mode
 * with RAX (the control: the garbage must make it fault), with 67h, and from
 * compatibility mode (VMLOAD and VMSAVE only).
 */
enum addr_mode { ADDR_RAX64, ADDR_PREFIX67, ADDR_COMPAT };

static struct fault exec_in_mode(enum addr_mode mode, enum svm_insn insn, uint64_t rax)
{
	switch (mode) {
	case ADDR_RAX64:
		return exec_insn(insn, rax);
	case ADDR_PREFIX67:
		return exec_insn_addr32(insn, rax);
	case ADDR_COMPAT:
		break;
	}
	return exec_insn_compat(insn, rax);
}

/*
 * APM Vol. 3 VMRUN, VMLOAD, VMSAVE: the VMCB's physical address is in rAX, a
 * register of the effective address size (Vol. 3 1.2.3, 2.5.6): with the
 * address-size prefix 67h in 64-bit mode it is EAX, and bits 63:32 of RAX are
 * ignored.  Those bits hold garbage that, were it used, would make the address
 * exceed MAXPHYADDR (#GP(0), check gp).  VMRUN must run the VMCB at EAX (L2
 * reaches its VMMCALL), VMSAVE must store into the page at EAX (its STAR field
 * then holds L1's STAR), and VMLOAD must load from it (KernelGsBase).  The same
 * holds for VMLOAD and VMSAVE from a compatibility-mode code segment, whose
 * address size is 32 bits (compat).  The control (rax64_gp): without the
 * prefix, in 64-bit mode, the same RAX raises #GP(0).
 */
static void check_addr32(void)
{
	static const char *const mode_names[] = { "rax64_gp", "prefix67", "compat" };
	uint8_t *page;
	uint64_t stack = (uint64_t)__builtin_frame_address(0);
	char name[48], buf[64];

	if (!svm_require())
		return;
	page = alloc_page();
	if ((uint64_t)page >> 32 || (uint64_t)vcpu->vmcb >> 32 || stack >> 32) {
		skip("", "the VMCB, the scratch page or the stack lies above 4 GiB: EAX cannot address it");
		return;
	}
	for (enum addr_mode mode = ADDR_RAX64; mode <= ADDR_COMPAT; mode++) {
		uint64_t saved_kgs, loaded, star;
		struct fault f;
		bool want_gp = mode == ADDR_RAX64;

		if (mode != ADDR_COMPAT) {
			snprintf(name, sizeof(name), "vmrun.%s", mode_names[mode]);
			prepare();
			vcpu->vmcb->control.exit_code = 0;
			f = exec_in_mode(mode, INSN_VMRUN, (uint64_t)vcpu->vmcb | RAX_UPPER_GARBAGE);
			asm volatile("stgi");
			if (want_gp)
				check_msg(fault_is(&f, X86_VEC_GP, 0), name,
					  "VMRUN, RAX = the VMCB | %#lx: %s; expected #GP(0)",
					  (uint64_t)RAX_UPPER_GARBAGE, fault_str(&f, buf, sizeof(buf)));
			else
				check_msg(!f.raised && vcpu->vmcb->control.exit_code == SVM_EXIT_VMMCALL,
					  name, "VMRUN, EAX = the VMCB, RAX[63:32] = %#lx: %s, VMCB EXITCODE "
					  "%#lx; expected L2 to run to VMMCALL (0x81)",
					  (uint64_t)(RAX_UPPER_GARBAGE >> 32),
					  fault_str(&f, buf, sizeof(buf)), vcpu->vmcb->control.exit_code);
		}

		snprintf(name, sizeof(name), "vmsave.%s", mode_names[mode]);
		memset(page, 0xa5, PAGE_SIZE);
		star = rdmsr(MSR_STAR);
		f = exec_in_mode(mode, INSN_VMSAVE, (uint64_t)page | RAX_UPPER_GARBAGE);
		if (want_gp)
			check_msg(fault_is(&f, X86_VEC_GP, 0), name,
				  "VMSAVE, RAX = a page | %#lx: %s; expected #GP(0)",
				  (uint64_t)RAX_UPPER_GARBAGE, fault_str(&f, buf, sizeof(buf)));
		else
			check_msg(!f.raised && ((struct vmcb *)page)->save.star == star, name,
				  "VMSAVE: %s, STAR field %#lx; expected L1's STAR %#lx in the page at EAX",
				  fault_str(&f, buf, sizeof(buf)), ((struct vmcb *)page)->save.star, star);

		/* The page holds L1's own state: load it with KernelGsBase changed. */
		snprintf(name, sizeof(name), "vmload.%s", mode_names[mode]);
		asm volatile("vmsave %%rax" : : "a"(page) : "memory");
		saved_kgs = ((struct vmcb *)page)->save.kernel_gs_base;
		((struct vmcb *)page)->save.kernel_gs_base = ADDR32_KERNEL_GS_BASE;
		f = exec_in_mode(mode, INSN_VMLOAD, (uint64_t)page | RAX_UPPER_GARBAGE);
		loaded = rdmsr(MSR_KERNEL_GS_BASE);
		wrmsr(MSR_KERNEL_GS_BASE, saved_kgs);
		if (want_gp)
			check_msg(fault_is(&f, X86_VEC_GP, 0) && loaded == saved_kgs, name,
				  "VMLOAD, RAX = a page | %#lx: %s, KernelGsBase %#lx; expected #GP(0) "
				  "and L1's %#lx kept", (uint64_t)RAX_UPPER_GARBAGE,
				  fault_str(&f, buf, sizeof(buf)), loaded, saved_kgs);
		else
			check_msg(!f.raised && loaded == ADDR32_KERNEL_GS_BASE, name,
				  "VMLOAD: %s, KernelGsBase %#lx; expected %#lx from the page at EAX",
				  fault_str(&f, buf, sizeof(buf)), loaded,
				  (uint64_t)ADDR32_KERNEL_GS_BASE);
	}
}

/*
 * APM Vol. 2 Table B-1: EXITCODE (VMCB 070h) is 64 bits; Appendix C:
 * VMEXIT_INVALID is -1, so all 64 bits are set (ASID 0 makes the VMCB illegal).
 */
static void check_exitcode(void)
{
	uint64_t code;

	if (!svm_require())
		return;
	prepare();
	vcpu->vmcb->control.asid = 0;
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_INVALID, "", "EXITCODE %#lx, expected -1 in all 64 bits", code);
}

static const struct check_entry checks[] = {
	{ "valid", check_valid },
	{ "exitcode", check_exitcode },
	{ "efer", run_probes },
	{ "cr0", run_probes },
	{ "cr3", run_probes },
	{ "cr4", run_probes },
	{ "dr", run_probes },
	/* One entry each, so that one can be left out where it stops a hypervisor. */
	{ "long_mode.lme_pg_without_pae", run_probes },
	{ "long_mode.lme_pg_without_pe", run_probes },
	{ "long_mode.cs_l_and_d", run_probes },
	{ "controls", run_probes },
	{ "eventinj", check_eventinj },
	{ "npt", run_probes },
	{ "ud", check_ud },
	{ "gp", check_gp },
	{ "addr32", check_addr32 },
};

DEFINE_TEST("svm_vmrun", checks, .setup = setup);
