/*
 * Events and interrupts under SVM (AMD APM Vol. 2 15.20-15.21):
 *  - EVENTINJ delivers an exception, NMI, interrupt or software interrupt
 *    through L2's own IDT on VMRUN, pushing an error code exactly when EV is
 *    set (15.20); an event whose delivery faults into an intercepted exception
 *    leaves itself in EXITINTINFO (15.7.2), whether injected or raised by L2;
 *  - physical INTR and NMI intercepts, GIF (15.17, 15.21.1); with
 *    V_INTR_MASKING the host's IF at VMRUN, not L2's, masks physical
 *    interrupts, and #VMEXIT restores the host's IF (15.6, 15.21.1);
 *  - virtual interrupts: V_IRQ, V_INTR_PRIO against V_TPR, V_IGN_TPR,
 *    V_INTR_MASKING, the VINTR intercept, vGIF (15.21.4-15.21.5, 15.33); CR8
 *    accesses reaching V_TPR, not the physical TPR (15.21.2);
 *  - the interrupt shadow in the VMCB (15.21.5): reported on exit after STI
 *    and MOV SS, and honoured on entry.
 * Injection checks intercept no exception: L2's IDT stubs (svm_util.h) record
 * what arrives and exit with VMMCALL.
 */
#include "apic.h"
#include "desc.h"
#include "fault.h"
#include "msr.h"
#include "processor.h"
#include "svm.h"
#include "svm_util.h"
#include "test.h"

#define INTR_VECTOR	0x41
#define VIRQ_VECTOR	0x52
#define WAIT_SPINS	10000000ul

SVM_L2_CODE(l2_ev_nop, "nop");
SVM_L2_CODE(l2_ev_two_nops, "nop\n .globl l2_ev_second\n l2_ev_second: nop");
SVM_L2_CODE(l2_ev_sti, "sti\n .globl l2_ev_after_sti\n l2_ev_after_sti: nop\n"
	    ".globl l2_ev_after_nop\n l2_ev_after_nop: nop");
SVM_L2_CODE(l2_ev_sti_cpuid, "sti\n cpuid");
SVM_L2_CODE(l2_ev_movss_cpuid, "mov %ss, %ax\n mov %ax, %ss\n cpuid");
SVM_L2_CODE(l2_ev_nop_cpuid, "nop\n cpuid");
SVM_L2_CODE(l2_ev_stgi, "stgi\n .globl l2_ev_after_stgi\n l2_ev_after_stgi: nop");
SVM_L2_CODE(l2_ev_clgi, "clgi");
SVM_L2_CODE(l2_ev_cr8, "mov %cr8, %r8\n mov %r9, %cr8");
extern char l2_ev_second[], l2_ev_after_sti[], l2_ev_after_nop[], l2_ev_after_stgi[];

static struct svm_vcpu *vcpu;
static void *l2_idt;
static volatile unsigned l1_irqs;

static void l1_irq(struct ex_regs *regs)
{
	l1_irqs++;
	apic_eoi();
}

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
	l2_idt = l2_idt_create();
	irq_set_handler(INTR_VECTOR, l1_irq);
}

static struct vmcb *prepare(void *rip)
{
	svm_vcpu_reset(vcpu, rip);
	l2_idt_prepare(vcpu, l2_idt);
	l2_event_reset();
	return vcpu->vmcb;
}

static uint64_t run(void)
{
	return svm_run(vcpu);
}

static const char *exit_str(uint64_t code)
{
	static char buf[48];

	return svm_exit_text(code, buf, sizeof(buf));
}

/* ---------------------------------------------------------------- EVENTINJ */

#define EVTINJ(type, vector) (SVM_EVTINJ_VALID | (type) | (vector))

/*
 * Checks one delivery through L2's IDT: the gate @vector, an error code
 * @error_code pushed when @has_ec, and the return address @ret.
 */
static void check_delivery(const char *name, uint64_t code, unsigned vector, bool has_ec,
			   uint32_t error_code, uint64_t ret)
{
	uint64_t depth = l2_stack_top(vcpu) - l2_event.rsp;
	uint64_t want_depth = has_ec ? 48 : 40;
	uint64_t got_ret = l2_event.frame[has_ec ? 1 : 0];
	char delivered[96], frame[96];

	/* Two results: that one delivery happened, then what it pushed. */
	snprintf(delivered, sizeof(delivered), "%s%sdelivered", name, *name ? "." : "");
	snprintf(frame, sizeof(frame), "%s%sframe", name, *name ? "." : "");
	if (!check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1, delivered,
		       "exit %s after %lu deliveries: expected one delivery through L2's IDT",
		       exit_str(code), l2_event.count))
		return;
	check_msg(l2_event.vector == vector && depth == want_depth &&
		  (!has_ec || l2_event.frame[0] == error_code) && got_ret == ret, frame,
		  "gate %lu, frame of %lu bytes, error code %#lx, return %#lx; expected gate %u, "
		  "%lu bytes, %s%#x, return %#lx", l2_event.vector, depth,
		  has_ec ? l2_event.frame[0] : 0, got_ret, vector, want_depth,
		  has_ec ? "error code " : "no error code ", has_ec ? error_code : 0, ret);
}

/*
 * APM Vol. 2 15.20: TYPE 3 injects the exception at VECTOR; with EV the
 * ERRORCODE is pushed.  A fault's return address is the VMCB's RIP.  Every
 * architectural exception vector is tried with the error code its kind pushes.
 */
static void check_exceptions(void)
{
	static const uint8_t vectors[] = { 0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19 };

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		unsigned v = vectors[i];
		bool ec = vector_has_error_code(v);
		uint32_t error_code = v == X86_VEC_DF ? 0 : 0xbe00 | v;
		struct vmcb *vmcb = prepare(l2_ev_nop);
		char name[16];

		vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, v) |
			(ec ? SVM_EVTINJ_ERROR_VALID | ((uint64_t)error_code << 32) : 0);
		snprintf(name, sizeof(name), "%s", vector_name(v) + 1);
		for (char *c = name; *c; c++)
			*c = *c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c;
		check_delivery(name, run(), v, ec, error_code, (uint64_t)l2_ev_nop);
	}
}

/*
 * APM Vol. 2 15.20: EV alone decides whether an error code is pushed: #GP
 * without EV pushes none, #UD with EV pushes ERRORCODE.
 */
static void check_ev(void)
{
	struct vmcb *vmcb;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_GP);
	check_delivery("gp_without_ev", run(), X86_VEC_GP, false, 0, (uint64_t)l2_ev_nop);
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_UD) |
				  SVM_EVTINJ_ERROR_VALID | (0x5aull << 32);
	check_delivery("ud_with_ev", run(), X86_VEC_UD, true, 0x5a, (uint64_t)l2_ev_nop);
}

/* APM Vol. 2 15.20: injecting #PF does not write CR2; the VMM sets the guest's CR2. */
static void check_pf_cr2(void)
{
	struct vmcb *vmcb;
	uint64_t code;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_nop);
	vmcb->save.cr2 = 0xc2c2000;
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_PF) |
				  SVM_EVTINJ_ERROR_VALID | (0x2ull << 32);
	code = run();
	if (code != SVM_EXIT_VMMCALL || l2_event.count != 1) {
		test_error("", "#PF not delivered (exit %s)", exit_str(code));
		return;
	}
	check_eq("", vmcb->save.cr2, 0xc2c2000);
}

/* APM Vol. 2 15.20: "If TYPE is 2 (NMI), the VECTOR field is ignored": delivery through gate 2. */
static void check_nmi(void)
{
	struct vmcb *vmcb;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_NMI, 2);
	check_delivery("vector2", run(), X86_VEC_NMI, false, 0, (uint64_t)l2_ev_nop);
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_NMI, 0x77);
	check_delivery("vector_ignored", run(), X86_VEC_NMI, false, 0, (uint64_t)l2_ev_nop);
}

/* APM Vol. 2 15.20: TYPE 0 (INTR) delivers the external interrupt VECTOR, whatever L2's IF. */
static void check_intr(void)
{
	struct vmcb *vmcb;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_INTR, 0x40);
	check_delivery("vector0x40", run(), 0x40, false, 0, (uint64_t)l2_ev_nop);
	vmcb = prepare(l2_ev_nop);
	vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_INTR, 0xfe);
	check_delivery("vector0xfe", run(), 0xfe, false, 0, (uint64_t)l2_ev_nop);
}

/*
 * APM Vol. 2 15.20: TYPE 4 is a software interrupt (INTn).  Its return address
 * is the next instruction's, which the processor takes from the VMCB's NextRIP
 * (15.7.1); without NRIP save software interrupts cannot be injected properly.
 * INT3 and INTO injected as TYPE 4 follow the same rule.  #BP injected as TYPE 3
 * is delivered through gate 3 without an error code; which return address it
 * pushes the manual leaves open, so it is only reported.
 */
static void check_soft(void)
{
	static const struct { const char *name; uint64_t type; unsigned vector; } cases[] = {
		{ "int0x80", SVM_EVTINJ_TYPE_SOFT, 0x80 },
		{ "int3", SVM_EVTINJ_TYPE_SOFT, X86_VEC_BP },
		{ "into", SVM_EVTINJ_TYPE_SOFT, X86_VEC_OF },
		{ "bp_exception", SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_BP },
	};
	bool nrips;

	if (!svm_require())
		return;
	nrips = svm_has(SVM_FEATURE_NRIPS);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb *vmcb = prepare(l2_ev_two_nops);
		bool soft = cases[i].type == SVM_EVTINJ_TYPE_SOFT;
		uint64_t code;

		vmcb->control.event_inj = EVTINJ(cases[i].type, cases[i].vector);
		vmcb->control.next_rip = (uint64_t)l2_ev_second;
		code = run();
		if (soft && !nrips) {
			check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 &&
				  l2_event.vector == cases[i].vector, cases[i].name,
				  "exit %s, %lu deliveries through gate %lu: expected gate %u",
				  exit_str(code), l2_event.count, l2_event.vector, cases[i].vector);
			skip(cases[i].name, "return address: no %s",
			     svm_feature_name(SVM_FEATURE_NRIPS));
			continue;
		}
		if (!soft) {
			check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 &&
				  l2_event.vector == cases[i].vector &&
				  l2_stack_top(vcpu) - l2_event.rsp == 40, cases[i].name,
				  "exit %s, %lu deliveries through gate %lu: expected gate %u, no error code",
				  exit_str(code), l2_event.count, l2_event.vector, cases[i].vector);
			info("TYPE 3 #BP returned to %#lx (RIP %p, NextRIP %p)", l2_event.frame[0],
			     l2_ev_two_nops, l2_ev_second);
			continue;
		}
		check_delivery(cases[i].name, code, cases[i].vector, false, 0, (uint64_t)l2_ev_second);
	}
}

/*
 * APM Vol. 2 15.7.2: when an intercepted exception interrupts the delivery of
 * an event, EXITINTINFO holds that event.  The injected event's gate is not
 * present, so its delivery raises #NP(vector * 8 + IDT + EXT), intercepted.
 */
static void check_exitintinfo(void)
{
	static const struct { const char *name; uint64_t event; unsigned vector; } cases[] = {
		{ "intr", EVTINJ(SVM_EVTINJ_TYPE_INTR, INTR_VECTOR), INTR_VECTOR },
		{ "gp", EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_GP) | SVM_EVTINJ_ERROR_VALID |
			(0x1234ull << 32), X86_VEC_GP },
		{ "nmi", EVTINJ(SVM_EVTINJ_TYPE_NMI, 2), X86_VEC_NMI },
	};
	char name[32];

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb *vmcb = prepare(l2_ev_nop);
		uint32_t want_ec = cases[i].vector * 8 + 2 + 1;
		uint64_t code;

		vmcb->control.intercept_exceptions = BIT(X86_VEC_NP);
		vmcb->control.event_inj = cases[i].event;
		l2_idt_set_present(l2_idt, cases[i].vector, false);
		code = run();
		l2_idt_set_present(l2_idt, cases[i].vector, true);
		snprintf(name, sizeof(name), "%s.exit", cases[i].name);
		if (!check_msg(code == SVM_EXIT_EXCP(X86_VEC_NP), name,
			       "exit %s: expected #NP intercept (0x4b)", exit_str(code)))
			continue;
		snprintf(name, sizeof(name), "%s.error_code", cases[i].name);
		check_msg(vmcb->control.exit_info1 == want_ec, name,
			  "EXITINFO1 %#lx, expected #NP error code %#x (vector %u, IDT, EXT)",
			  vmcb->control.exit_info1, want_ec, cases[i].vector);
		snprintf(name, sizeof(name), "%s.exitintinfo", cases[i].name);
		check_msg((vmcb->control.exit_int_info & ~0x7ffff000ull) ==
			  (cases[i].event & ~0x7ffff000ull) &&
			  (((vmcb->control.exit_int_info >> 8) & 7) != 2 ||
			   (vmcb->control.exit_int_info & 0xff) == 2), name,
			  "EXITINTINFO %#lx, expected the injected event %#lx",
			  vmcb->control.exit_int_info, cases[i].event);
	}
	/* An exit that interrupts no event delivery leaves EXITINTINFO invalid. */
	{
		struct vmcb *vmcb = prepare(l2_ev_nop);
		uint64_t code;

		vmcb->control.exit_int_info = SVM_EVTINJ_VALID | 0x33;
		vmcb->control.event_inj = EVTINJ(SVM_EVTINJ_TYPE_INTR, 0x40);
		code = run();
		if (code != SVM_EXIT_VMMCALL)
			test_error("clear", "exit %s, expected VMMCALL", exit_str(code));
		else
			check_msg(!(vmcb->control.exit_int_info & SVM_EVTINJ_VALID), "clear",
				  "EXITINTINFO %#lx after a delivered event and VMMCALL: expected V = 0",
				  vmcb->control.exit_int_info);
	}
}

/*
 * APM Vol. 2 15.7.2: EXITINTINFO records any event whose delivery an
 * intercepted exception interrupts, also one that L2 raised itself, not only
 * an injected one.  L2 executes INT 41h, divides by zero (#DE) or loads DS
 * with a selector into its null LDT (#GP(1234h): an original event with an
 * error code), while the event's gate is not present (#NP(vector * 8 + IDT +
 * EXT), #NP intercepted) or lies beyond the IDT limit (#GP with that error
 * code, #GP intercepted; the whole 16-byte gate must lie within it, APM Vol. 2
 * 8.4.1, 8.9.1).  EXT is set for the hardware exceptions, clear for INTn.  The
 * positive run first: the same code with the gate present is delivered
 * through L2's IDT and leaves EXITINTINFO invalid.  Bits 30:12 are reserved
 * and not compared.
 */
SVM_L2_CODE(l2_ev_int41, ".globl l2_ev_int41_at\n l2_ev_int41_at: int $0x41");
SVM_L2_CODE(l2_ev_div0, "xor %ecx, %ecx\n xor %edx, %edx\n"
	    ".globl l2_ev_div0_at\n l2_ev_div0_at: div %ecx");
SVM_L2_CODE(l2_ev_ldt_ds, "mov $0x1234, %ecx\n"
	    ".globl l2_ev_ldt_ds_at\n l2_ev_ldt_ds_at: mov %cx, %ds");
extern char l2_ev_int41_at[], l2_ev_div0_at[], l2_ev_ldt_ds_at[];

#define LDT_SELECTOR	0x1234	/* TI = 1: LDTR is null, so #GP(selector) (APM Vol. 2 4.5.3) */

struct l2_raised_case {
	const char *name;
	void *code, *at;
	unsigned vector;
	uint64_t event;		/* the EXITINTINFO the original event makes */
	bool ext;		/* EXT in the second fault's error code */
	bool short_idt;		/* gate beyond the IDT limit (#GP) instead of not present (#NP) */
};

static void run_l2_raised(const struct l2_raised_case *c)
{
	unsigned second = c->short_idt ? X86_VEC_GP : X86_VEC_NP;
	uint32_t want_ec = c->vector * 8 + 2 + c->ext;
	struct vmcb *vmcb;
	uint64_t code;

	report_prefix_push("%s", c->name);
	/* Positive: the gate is there, the event arrives, nothing is left in EXITINTINFO. */
	vmcb = prepare(c->code);
	vmcb->control.intercept_exceptions = BIT(second);
	code = run();
	if (!check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 &&
		       l2_event.vector == c->vector && !(vmcb->control.exit_int_info & SVM_EVTINJ_VALID),
		       "delivered", "exit %s, %lu deliveries through gate %lu, EXITINTINFO %#lx: "
		       "expected one delivery through gate %u", exit_str(code), l2_event.count,
		       l2_event.vector, vmcb->control.exit_int_info, c->vector))
		goto out;

	vmcb = prepare(c->code);
	vmcb->control.intercept_exceptions = BIT(second);
	/* Gate 0 cannot lie wholly beyond a limit: half of it does with limit 7. */
	if (c->short_idt)
		vmcb->save.idtr.limit = c->vector ? c->vector * 16 - 1 : 7;
	else
		l2_idt_set_present(l2_idt, c->vector, false);
	code = run();
	l2_idt_set_present(l2_idt, c->vector, true);
	if (!check_msg(code == SVM_EXIT_EXCP(second) && vmcb->save.rip == (uint64_t)c->at, "exit",
		       "exit %s at RIP %#lx: expected the %s intercept (%#x) at %p", exit_str(code),
		       vmcb->save.rip, second == X86_VEC_GP ? "#GP" : "#NP", SVM_EXIT_EXCP(second),
		       c->at))
		goto out;
	check_msg(vmcb->control.exit_info1 == want_ec, "error_code",
		  "EXITINFO1 %#lx, expected error code %#x (vector %#x, IDT%s)",
		  vmcb->control.exit_info1, want_ec, c->vector, c->ext ? ", EXT" : "");
	check_msg((vmcb->control.exit_int_info & ~0x7ffff000ull) == c->event, "exitintinfo",
		  "EXITINTINFO %#lx, expected %#lx (V, type %lu, vector %#x, %s)",
		  vmcb->control.exit_int_info, c->event,
		  (c->event >> SVM_EVTINJ_TYPE_SHIFT) & 7, c->vector,
		  c->event & SVM_EVTINJ_ERROR_VALID ? "EV and the error code in bits 63:32" : "EV clear");
out:
	report_prefix_pop();
}

static void check_exitintinfo_l2(void)
{
	static const struct l2_raised_case cases[] = {
		{ "soft_int_np", l2_ev_int41, l2_ev_int41_at, 0x41,
		  EVTINJ(SVM_EVTINJ_TYPE_SOFT, 0x41), false, false },
		{ "exc_de_np", l2_ev_div0, l2_ev_div0_at, X86_VEC_DE,
		  EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_DE), true, false },
		{ "exc_gp_np", l2_ev_ldt_ds, l2_ev_ldt_ds_at, X86_VEC_GP,
		  EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_GP) | SVM_EVTINJ_ERROR_VALID |
		  ((uint64_t)LDT_SELECTOR << SVM_EVTINJ_ERROR_SHIFT), true, false },
		{ "soft_int_idt_limit", l2_ev_int41, l2_ev_int41_at, 0x41,
		  EVTINJ(SVM_EVTINJ_TYPE_SOFT, 0x41), false, true },
		{ "exc_de_idt_limit", l2_ev_div0, l2_ev_div0_at, X86_VEC_DE,
		  EVTINJ(SVM_EVTINJ_TYPE_EXCEPTION, X86_VEC_DE), true, true },
	};

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_l2_raised(&cases[i]);
}

/* ---------------------------------------------------------------- physical interrupts */

/* Makes INTR_VECTOR pending in L1's APIC with IF = 0; false if it never shows in the IRR. */
static bool make_intr_pending(void)
{
	irq_disable();
	l1_irqs = 0;
	apic_self_ipi(INTR_VECTOR);
	for (uint64_t i = 0; i < WAIT_SPINS; i++)
		if (apic_irr_test(INTR_VECTOR))
			return true;
	return false;
}

/*
 * For a check: prepare(@rip) with INTR_VECTOR pending in L1's APIC and IF = 0;
 * NULL (the check skipped or in error) when SVM is missing or the interrupt
 * never became pending.
 */
static struct vmcb *prepare_with_intr_pending(void *rip)
{
	if (!svm_require())
		return NULL;
	if (!make_intr_pending()) {
		test_error("", "self-IPI %#x never became pending", INTR_VECTOR);
		return NULL;
	}
	return prepare(rip);
}

/* Opens an interrupt window in L1 and closes it again. */
static void l1_window(void)
{
	asm volatile("sti; nop; nop; cli" : : : "memory");
}

/*
 * APM Vol. 2 15.21.1: with the INTR intercept and V_INTR_MASKING = 0, a
 * physical interrupt that L2's IF = 1 admits exits with INTR; the interrupt
 * is not acknowledged: it stays pending for L1.
 */
static void check_intr_intercept(void)
{
	struct vmcb *vmcb;
	uint64_t code;
	bool pending;

	vmcb = prepare_with_intr_pending(l2_ev_nop);
	if (!vmcb)
		return;
	vmcb->save.rflags |= X86_EFLAGS_IF;
	svm_intercept(vcpu, SVM_INTERCEPT_INTR, true);
	code = run();
	pending = apic_irr_test(INTR_VECTOR);
	l1_window();
	check_msg(code == SVM_EXIT_INTR && vmcb->save.rip == (uint64_t)l2_ev_nop, "exit",
		  "exit %s at rip %#lx, expected INTR at %p", exit_str(code), vmcb->save.rip,
		  l2_ev_nop);
	check_msg(pending, "still_pending", "the interrupt left the IRR at the INTR exit");
	check_msg(l1_irqs == 1, "taken_by_l1", "L1 took %u interrupts in its window, expected 1",
		  l1_irqs);
}

/*
 * APM Vol. 2 15.21.1: with V_INTR_MASKING = 1 the host's IF (L1's, at VMRUN)
 * masks physical interrupts while L2 runs, not L2's IF: with L1's IF = 0 the
 * pending interrupt neither exits nor reaches L2.
 */
static void check_intr_masked_by_host_if(void)
{
	struct vmcb *vmcb;
	uint64_t code;

	vmcb = prepare_with_intr_pending(l2_ev_nop);
	if (!vmcb)
		return;
	vmcb->save.rflags |= X86_EFLAGS_IF;
	vmcb->control.int_ctl = SVM_V_INTR_MASKING;
	svm_intercept(vcpu, SVM_INTERCEPT_INTR, true);
	code = run();
	l1_window();
	check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 0, "",
		  "exit %s, %lu deliveries in L2: expected L2 to run to VMMCALL undisturbed",
		  exit_str(code), l2_event.count);
}

/*
 * APM Vol. 2 15.21.1 and 15.17: with V_INTR_MASKING = 1 it is the host's IF,
 * saved at VMRUN, that masks physical interrupts while L2 runs; L2's IF masks
 * only virtual ones.  So with L1's IF = 1 at VMRUN a pending physical interrupt
 * exits with INTR before L2's first instruction although L2 runs with IF = 0
 * (exit).  #VMEXIT restores L1's RFLAGS from the host save area (15.6), IF = 1
 * included (if_restored), and as GIF was clear from #VMEXIT to svm_run()'s
 * STGI, L1 takes the still-pending interrupt right at that STGI (taken_by_l1).
 * VMRUN gets IF = 1 with GIF already clear (CLGI, then STI), so L1 cannot take
 * the interrupt before L2 runs.
 */
static void check_intr_host_if_set(void)
{
	struct vmcb *vmcb;
	uint64_t code, rflags;
	unsigned taken;

	vmcb = prepare_with_intr_pending(l2_ev_nop);
	if (!vmcb)
		return;
	vmcb->save.rflags &= ~X86_EFLAGS_IF;
	vmcb->control.int_ctl = SVM_V_INTR_MASKING;
	svm_intercept(vcpu, SVM_INTERCEPT_INTR, true);
	asm volatile("clgi; sti" : : : "memory");
	code = run();
	rflags = read_rflags();
	taken = l1_irqs;
	irq_disable();
	l1_window();
	check_msg(code == SVM_EXIT_INTR && vmcb->save.rip == (uint64_t)l2_ev_nop, "exit",
		  "exit %s at rip %#lx, %lu deliveries in L2: expected INTR at %p (L1's IF = 1 "
		  "at VMRUN, L2's IF = 0)", exit_str(code), vmcb->save.rip, l2_event.count, l2_ev_nop);
	check_msg(rflags & X86_EFLAGS_IF, "if_restored",
		  "L1's RFLAGS %#lx after #VMEXIT: expected IF = 1 as at VMRUN", rflags);
	check_msg(taken == 1, "taken_by_l1",
		  "L1 took %u interrupts between #VMEXIT and the end of svm_run(), expected 1 at its STGI",
		  taken);
}

/*
 * APM Vol. 2 15.6: #VMEXIT loads L1's RFLAGS from the host save area, so
 * L1's IF = 0 at VMRUN is IF = 0 after #VMEXIT even when L2 ran with IF = 1
 * (from the VMCB) and set it again with STI.
 */
static void check_host_if_clear_restored(void)
{
	struct vmcb *vmcb;
	uint64_t code, rflags;

	if (!svm_require())
		return;
	irq_disable();
	vmcb = prepare(l2_ev_sti);
	vmcb->save.rflags |= X86_EFLAGS_IF;
	code = run();
	rflags = read_rflags();
	check_msg(code == SVM_EXIT_VMMCALL && (vmcb->save.rflags & X86_EFLAGS_IF), "l2_if",
		  "exit %s, L2's RFLAGS %#lx: expected VMMCALL with L2's IF = 1", exit_str(code),
		  vmcb->save.rflags);
	check_msg(!(rflags & X86_EFLAGS_IF), "if_restored",
		  "L1's RFLAGS %#lx after #VMEXIT: expected IF = 0 as at VMRUN", rflags);
	irq_disable();
}

/* Sends an NMI to this CPU (fixed destination: the self shorthand excludes NMI on some APICs). */
static void self_nmi(void)
{
	if (apic_is_x2apic()) {
		wrmsr(MSR_X2APIC_BASE + APIC_ICR / 16, ((uint64_t)apic_id() << 32) | 0x4400);
		return;
	}
	apic_write(APIC_ICR2, apic_id() << 24);
	apic_write(APIC_ICR, 0x4400);	/* delivery mode NMI, assert */
}

/* The NMI unwinds L1 out of svm_run() at its STGI: the exit code is read from the VMCB. */
static void run_catching_nmi(void *arg)
{
	/* GIF = 0: the NMI waits for VMRUN, which sets GIF. */
	asm volatile("clgi");
	self_nmi();
	run();
}

/*
 * APM Vol. 2 15.21.2 and 15.17: an NMI held while GIF = 0 is taken once VMRUN
 * sets GIF; with the NMI intercept it exits with NMI before L2's first
 * instruction, and stays pending for L1, which takes it after STGI.
 */
static void check_nmi_intercept(void)
{
	struct fault f;
	uint64_t code;
	char buf[48];

	if (!svm_require())
		return;
	prepare(l2_ev_nop)->control.exit_code = 0xdead;
	svm_intercept(vcpu, SVM_INTERCEPT_NMI, true);
	f = catch_fault(run_catching_nmi, NULL);
	asm volatile("stgi");
	code = vcpu->vmcb->control.exit_code;
	check_msg(code == SVM_EXIT_NMI && vcpu->vmcb->save.rip == (uint64_t)l2_ev_nop, "exit",
		  "exit %s at rip %#lx, expected NMI at %p", exit_str(code), vcpu->vmcb->save.rip,
		  l2_ev_nop);
	check_msg(f.raised && f.vector == X86_VEC_NMI, "taken_by_l1",
		  "after the exit L1 saw %s, expected the NMI", fault_str(&f, buf, sizeof(buf)));
}

static void gif_hold_intr(void *arg)
{
	unsigned *seen = arg;

	asm volatile("clgi; sti" : : : "memory");
	apic_self_ipi(INTR_VECTOR);
	for (uint64_t i = 0; i < WAIT_SPINS && !apic_irr_test(INTR_VECTOR); i++)
		cpu_relax();
	for (int i = 0; i < 1000; i++)
		cpu_relax();
	*seen = l1_irqs;
	asm volatile("stgi; nop; nop; cli" : : : "memory");
}

static void gif_hold_nmi(void *arg)
{
	volatile unsigned *reached = arg;

	asm volatile("clgi" : : : "memory");
	self_nmi();
	for (int i = 0; i < 100000; i++)
		cpu_relax();
	*reached = 1;		/* still here: the NMI waited */
	asm volatile("stgi; nop; nop" : : : "memory");
	*reached = 2;		/* the NMI should have unwound before this */
}

/*
 * APM Vol. 2 15.17: GIF = 0 (after CLGI) holds interrupts and NMIs, whatever
 * RFLAGS.IF; STGI releases them.
 */
static void check_gif(void)
{
	unsigned seen = ~0u;
	volatile unsigned reached = 0;
	struct fault f;
	char buf[48];

	if (!svm_require())
		return;
	irq_disable();
	l1_irqs = 0;
	gif_hold_intr(&seen);
	check_msg(seen == 0, "clgi_holds_intr", "%u interrupts taken with GIF = 0 and IF = 1", seen);
	check_msg(l1_irqs == 1, "stgi_releases_intr", "%u interrupts after STGI, expected 1", l1_irqs);
	f = catch_fault(gif_hold_nmi, (void *)&reached);
	asm volatile("stgi");
	check_msg(reached == 1 && f.raised && f.vector == X86_VEC_NMI, "clgi_holds_nmi",
		  "progress %u, %s: expected the NMI after STGI, not before", reached,
		  fault_str(&f, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------- virtual interrupts */

static uint64_t v_irq_ctl(unsigned prio, unsigned tpr)
{
	return SVM_V_INTR_MASKING | SVM_V_IRQ | ((uint64_t)prio << SVM_V_INTR_PRIO_SHIFT) |
	       tpr | ((uint64_t)VIRQ_VECTOR << SVM_V_INTR_VECTOR_SHIFT);
}

/* Runs L2 (two NOPs) with a virtual interrupt set up by @int_ctl and L2's IF @l2_if. */
static uint64_t run_v_irq(uint64_t int_ctl, bool l2_if)
{
	struct vmcb *vmcb = prepare(l2_ev_two_nops);

	vmcb->control.int_ctl = int_ctl;
	if (l2_if)
		vmcb->save.rflags |= X86_EFLAGS_IF;
	return run();
}

static bool v_irq_taken(uint64_t code)
{
	return code == SVM_EXIT_VMMCALL && l2_event.count == 1 && l2_event.vector == VIRQ_VECTOR;
}

static bool v_irq_held(uint64_t code)
{
	return code == SVM_EXIT_VMMCALL && l2_event.count == 0;
}

/*
 * A held virtual interrupt proves nothing where none is ever delivered: each
 * "held" result is judged only after a control run, the same setup made
 * deliverable, delivered one.  @control_taken says whether it did; if not,
 * @name is recorded as a skip naming the control.
 */
static bool delivery_proven(bool control_taken, const char *name, const char *control)
{
	if (!control_taken)
		skip(name, "the control (%s) failed: no virtual interrupt was taken or recognized "
		     "in the same setup, so a held one says nothing", control);
	return control_taken;
}

/*
 * APM Vol. 2 15.21.4: V_IRQ with L2's IF = 1 delivers V_INTR_VECTOR through
 * L2's IDT before its first instruction, and the processor clears V_IRQ; with
 * IF = 0 it is held and V_IRQ stays set.  The delivery is the control of the
 * held case.
 */
static void check_v_irq(void)
{
	uint64_t code;
	bool taken;

	if (!svm_require())
		return;
	code = run_v_irq(v_irq_ctl(0xf, 0), true);
	taken = v_irq_taken(code);
	check_msg(taken && l2_event.frame[0] == (uint64_t)l2_ev_two_nops, "delivered",
		  "exit %s, %lu deliveries, gate %lu, return %#lx: expected gate %#x before %p",
		  exit_str(code), l2_event.count, l2_event.vector, l2_event.frame[0], VIRQ_VECTOR,
		  l2_ev_two_nops);
	check_msg(!(vcpu->vmcb->control.int_ctl & SVM_V_IRQ), "v_irq_cleared",
		  "int_ctl %#lx after delivery: expected V_IRQ clear", vcpu->vmcb->control.int_ctl);
	code = run_v_irq(v_irq_ctl(0xf, 0), false);
	if (delivery_proven(taken, "held_by_if", "v_irq.delivered, L2's IF = 1"))
		check_msg(v_irq_held(code), "held_by_if", "exit %s, %lu deliveries with L2's IF = 0",
			  exit_str(code), l2_event.count);
	if (delivery_proven(taken, "v_irq_kept", "v_irq.delivered, L2's IF = 1"))
		check_msg(vcpu->vmcb->control.int_ctl & SVM_V_IRQ, "v_irq_kept",
			  "int_ctl %#lx: V_IRQ cleared though nothing was delivered",
			  vcpu->vmcb->control.int_ctl);
}

/*
 * APM Vol. 2 15.21.4: a virtual interrupt is taken only when V_INTR_PRIO is
 * above V_TPR; V_IGN_TPR makes the priority irrelevant.  The interrupt above
 * V_TPR is the control of the held ones.
 */
static void check_v_tpr(void)
{
	static const char control[] = "v_tpr.above_taken, prio 3 above TPR 2";
	uint64_t code;
	bool taken;

	if (!svm_require())
		return;
	code = run_v_irq(v_irq_ctl(3, 2), true);
	taken = v_irq_taken(code);
	check_msg(taken, "above_taken", "prio 3, TPR 2: exit %s, %lu deliveries", exit_str(code),
		  l2_event.count);
	code = run_v_irq(v_irq_ctl(3, 3), true);
	if (delivery_proven(taken, "equal_held", control))
		check_msg(v_irq_held(code), "equal_held", "prio 3, TPR 3: exit %s, %lu deliveries",
			  exit_str(code), l2_event.count);
	code = run_v_irq(v_irq_ctl(3, 5), true);
	if (delivery_proven(taken, "below_held", control))
		check_msg(v_irq_held(code), "below_held", "prio 3, TPR 5: exit %s, %lu deliveries",
			  exit_str(code), l2_event.count);
	code = run_v_irq(v_irq_ctl(3, 0xf) | SVM_V_IGN_TPR, true);
	check_msg(v_irq_taken(code), "ign_tpr", "prio 3, TPR 15, V_IGN_TPR: exit %s, %lu deliveries",
		  exit_str(code), l2_event.count);
}

static volatile unsigned l1_virq_deliveries;

static void l1_virq(struct ex_regs *regs)
{
	l1_virq_deliveries++;
}

/*
 * APM Vol. 2 15.6: #VMEXIT "clears the V_IRQ and V_INTR_MASKING bits inside
 * the processor".  L2 exits with a virtual interrupt still pending (held by
 * L2's IF = 0, V_IRQ set in its VMCB): L1, opening an interrupt window, must
 * not take it (no_v_irq_in_host); and L1's MOV to CR8 must reach the physical
 * TPR (APIC TPR = CR8 << 4), not a virtual one (no_v_intr_masking_in_host).
 * The first is judged only if the same virtual interrupt reaches L2 when its
 * IF is 1 (v_irq.delivered's setup).
 */
static void check_exit_clears_v_irq(void)
{
	uint64_t code, tpr, host_tpr;
	bool taken;
	unsigned seen;

	if (!svm_require())
		return;
	irq_disable();
	taken = v_irq_taken(run_v_irq(v_irq_ctl(0xf, 0), true));
	code = run_v_irq(v_irq_ctl(0xf, 0), false);
	if (!v_irq_held(code) || !(vcpu->vmcb->control.int_ctl & SVM_V_IRQ)) {
		test_error("", "exit %s, int_ctl %#lx, %lu deliveries: expected VMMCALL with V_IRQ "
			   "still pending", exit_str(code), vcpu->vmcb->control.int_ctl, l2_event.count);
		return;
	}
	irq_set_handler(VIRQ_VECTOR, l1_virq);
	l1_virq_deliveries = 0;
	l1_window();
	seen = l1_virq_deliveries;
	host_tpr = read_cr8();
	write_cr8(3);
	tpr = apic_read(APIC_TPR);
	write_cr8(host_tpr);
	irq_set_handler(VIRQ_VECTOR, NULL);
	if (delivery_proven(taken, "no_v_irq_in_host", "v_irq.delivered, L2's IF = 1"))
		check_msg(seen == 0, "no_v_irq_in_host",
			  "L1 took vector %#x %u times in its interrupt window after #VMEXIT, expected 0",
			  VIRQ_VECTOR, seen);
	check_msg((tpr & 0xf0) == 0x30, "no_v_intr_masking_in_host",
		  "APIC TPR %#lx after L1's MOV to CR8 of 3: expected 0x30", tpr);
}

#define L2_TPR_INITIAL	5
#define L2_TPR_WRITTEN	9

/*
 * APM Vol. 2 15.21.2 (virtualizing APIC.TPR): with V_INTR_MASKING = 1
 * L2's MOV from CR8 reads V_TPR (read), its MOV to CR8 writes V_TPR, which
 * #VMEXIT writes back to the VMCB's int_ctl (written_back), and the physical
 * TPR, L1's CR8, stays as it was (host_tpr_kept).
 */
static void check_v_tpr_cr8(void)
{
	struct vmcb *vmcb;
	uint64_t code, host_tpr;

	if (!svm_require())
		return;
	irq_disable();
	host_tpr = read_cr8();
	vmcb = prepare(l2_ev_cr8);
	vmcb->control.int_ctl = SVM_V_INTR_MASKING | L2_TPR_INITIAL;
	vcpu->regs.r8 = ~0ull;
	vcpu->regs.r9 = L2_TPR_WRITTEN;
	code = run();
	if (code != SVM_EXIT_VMMCALL) {
		test_error("", "exit %s, expected VMMCALL", exit_str(code));
		write_cr8(host_tpr);
		return;
	}
	check_msg(vcpu->regs.r8 == L2_TPR_INITIAL, "read", "L2's MOV from CR8 read %#lx, expected V_TPR %#x",
		  vcpu->regs.r8, L2_TPR_INITIAL);
	check_msg((vmcb->control.int_ctl & SVM_V_TPR_MASK) == L2_TPR_WRITTEN, "written_back",
		  "int_ctl %#lx after #VMEXIT: expected V_TPR %#x, L2's MOV to CR8",
		  vmcb->control.int_ctl, L2_TPR_WRITTEN);
	check_msg(read_cr8() == host_tpr, "host_tpr_kept", "L1's CR8 %#lx after L2 wrote %#x, expected %#lx",
		  read_cr8(), L2_TPR_WRITTEN, host_tpr);
	write_cr8(host_tpr);
}

/*
 * APM Vol. 2 15.21.4 and Appendix C: with the VINTR intercept, a pending
 * virtual interrupt that L2 could take exits with VINTR (0x64) instead of
 * being delivered; after STI the exit waits for the instruction after STI.
 */
static void check_vintr(void)
{
	struct vmcb *vmcb;
	uint64_t code;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_two_nops);
	vmcb->control.int_ctl = v_irq_ctl(0xf, 0);
	vmcb->save.rflags |= X86_EFLAGS_IF;
	svm_intercept(vcpu, SVM_INTERCEPT_VINTR, true);
	code = run();
	check_msg(code == SVM_EXIT_VINTR && vmcb->save.rip == (uint64_t)l2_ev_two_nops &&
		  l2_event.count == 0, "exit", "exit %s at rip %#lx, %lu deliveries: expected VINTR at %p",
		  exit_str(code), vmcb->save.rip, l2_event.count, l2_ev_two_nops);
	/* V_IRQ after the exit says something only if the virtual interrupt was recognized. */
	if (delivery_proven(code == SVM_EXIT_VINTR, "v_irq_kept", "vintr.exit, the VINTR exit"))
		check_msg(vmcb->control.int_ctl & SVM_V_IRQ, "v_irq_kept",
			  "int_ctl %#lx after the VINTR exit: expected V_IRQ still set",
			  vmcb->control.int_ctl);

	vmcb = prepare(l2_ev_sti);
	vmcb->control.int_ctl = v_irq_ctl(0xf, 0);
	svm_intercept(vcpu, SVM_INTERCEPT_VINTR, true);
	code = run();
	check_msg(code == SVM_EXIT_VINTR && vmcb->save.rip == (uint64_t)l2_ev_after_nop, "after_sti",
		  "exit %s at rip %#lx: expected VINTR at %p (after STI and one instruction)",
		  exit_str(code), vmcb->save.rip, l2_ev_after_nop);
}

/*
 * APM Vol. 2 15.33 (virtual GIF): with V_GIF_ENABLE, L2's STGI and CLGI set
 * and clear V_GIF without an exit, and V_GIF = 0 holds virtual interrupts.
 */
static void check_vgif(void)
{
	struct vmcb *vmcb;
	uint64_t code;

	if (!svm_require())
		return;
	if (!svm_has(SVM_FEATURE_VGIF)) {
		skip("", "no %s", svm_feature_name(SVM_FEATURE_VGIF));
		return;
	}
	/* V_GIF = 0: the virtual interrupt waits; STGI in L2 releases it after STGI. */
	vmcb = prepare(l2_ev_stgi);
	vmcb->control.int_ctl = v_irq_ctl(0xf, 0) | SVM_V_GIF_ENABLE;
	vmcb->save.rflags |= X86_EFLAGS_IF;
	code = run();
	check_msg(code == SVM_EXIT_VMMCALL && l2_event.count == 1 && l2_event.vector == VIRQ_VECTOR &&
		  l2_event.frame[0] == (uint64_t)l2_ev_after_stgi, "stgi_releases",
		  "exit %s, %lu deliveries, return %#lx: expected gate %#x returning to %p",
		  exit_str(code), l2_event.count, l2_event.frame[0], VIRQ_VECTOR, l2_ev_after_stgi);
	check_msg(vmcb->control.int_ctl & SVM_V_GIF, "stgi_sets_v_gif",
		  "int_ctl %#lx: expected V_GIF set", vmcb->control.int_ctl);

	vmcb = prepare(l2_ev_clgi);
	vmcb->control.int_ctl = SVM_V_GIF_ENABLE | SVM_V_GIF;
	code = run();
	check_msg(code == SVM_EXIT_VMMCALL && !(vmcb->control.int_ctl & SVM_V_GIF), "clgi_clears_v_gif",
		  "exit %s, int_ctl %#lx: expected VMMCALL with V_GIF clear", exit_str(code),
		  vmcb->control.int_ctl);
}

/* ---------------------------------------------------------------- interrupt shadow */

/*
 * APM Vol. 2 15.21.5: INTERRUPT_SHADOW (VMCB 068h bit 0) reports on #VMEXIT
 * that L2 was in an interrupt shadow: after STI that set IF, or after MOV SS;
 * not after a plain instruction.  CPUID is intercepted right behind it.
 */
static void check_shadow_exit(void)
{
	static const struct { const char *name; char *code; bool shadow; } cases[] = {
		{ "sti", l2_ev_sti_cpuid, true },
		{ "movss", l2_ev_movss_cpuid, true },
		{ "none", l2_ev_nop_cpuid, false },
	};

	if (!svm_require())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb *vmcb = prepare(cases[i].code);
		uint64_t code;

		svm_intercept(vcpu, SVM_INTERCEPT_CPUID, true);
		code = run();
		if (code != SVM_EXIT_CPUID) {
			test_error(cases[i].name, "exit %s, expected CPUID", exit_str(code));
			continue;
		}
		check_msg(!!(vmcb->control.int_state & SVM_INTERRUPT_SHADOW) == cases[i].shadow,
			  cases[i].name, "int_state %#lx at the CPUID exit: expected the shadow %s",
			  vmcb->control.int_state, cases[i].shadow ? "set" : "clear");
	}
}

/*
 * APM Vol. 2 15.21.5: VMRUN with INTERRUPT_SHADOW set starts L2 in a shadow:
 * a virtual interrupt waits for L2's first instruction, returning to the second.
 */
static void check_shadow_entry(void)
{
	struct vmcb *vmcb;
	uint64_t code;

	if (!svm_require())
		return;
	vmcb = prepare(l2_ev_two_nops);
	vmcb->control.int_ctl = v_irq_ctl(0xf, 0);
	vmcb->control.int_state = SVM_INTERRUPT_SHADOW;
	vmcb->save.rflags |= X86_EFLAGS_IF;
	code = run();
	check_msg(v_irq_taken(code) && l2_event.frame[0] == (uint64_t)l2_ev_second, "v_irq_held_one",
		  "exit %s, %lu deliveries, return %#lx: expected gate %#x returning to %p",
		  exit_str(code), l2_event.count, l2_event.frame[0], VIRQ_VECTOR, l2_ev_second);
}

static const struct check_entry checks[] = {
	{ "exception", check_exceptions },
	{ "ev", check_ev },
	{ "pf_cr2", check_pf_cr2 },
	{ "nmi", check_nmi },
	{ "intr", check_intr },
	{ "soft", check_soft },
	{ "exitintinfo", check_exitintinfo },
	{ "exitintinfo_l2", check_exitintinfo_l2 },
	{ "intr_intercept", check_intr_intercept },
	{ "intr_host_if", check_intr_masked_by_host_if },
	{ "intr_host_if_set", check_intr_host_if_set },
	{ "host_if_clear", check_host_if_clear_restored },
	{ "nmi_intercept", check_nmi_intercept },
	{ "gif", check_gif },
	{ "v_irq", check_v_irq },
	{ "v_tpr", check_v_tpr },
	{ "v_tpr_cr8", check_v_tpr_cr8 },
	{ "exit_clears_v_irq", check_exit_clears_v_irq },
	{ "vintr", check_vintr },
	{ "vgif", check_vgif },
	{ "shadow_exit", check_shadow_exit },
	{ "shadow_entry", check_shadow_entry },
};

DEFINE_TEST("svm_events", checks, .setup = setup);
