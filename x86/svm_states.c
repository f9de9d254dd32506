/*
 * Seeded VMCB states along VMRUN's consistency-check boundary (AMD APM Vol. 2
 * 15.5.1, 15.20, 15.25.4), judged by the rule table of lib/x86/svm_rules.c:
 *  - each case (lib/states.h) starts from the valid VMCB of svm_rules.h, or
 *    from the VMCB the previous case left ("carry over"), and changes 1 to 3
 *    fields to a boundary value of a rule: just legal, just illegal, all ones,
 *    zero, above MAXPHYADDR, a reserved bit, non-canonical, or flips a control
 *    another rule depends on;
 *  - the table predicts VMEXIT_INVALID when any rule holds; otherwise VMRUN
 *    enters and L2 (a NOP, then VMMCALL) exits with VMMCALL, or first takes the
 *    injected event through its own IDT (15.20) and exits from the stub;
 *  - after a predicted exit the state-save area must hold what was loaded
 *    (15.5.1, 15.6): CR0, CR3, CR4, EFER (LMA set in long mode), RSP, RAX, IDTR.
 * Only values whose legal form leaves L2's run predictable are generated; a
 * state the model cannot predict shows up as a mismatch, never as a skip.
 *
 * Carry-over: a VMCB that a successful #VMEXIT wrote (L2's state at the exit,
 * APM Vol. 2 15.6) is kept as it is.  What VMEXIT_INVALID leaves in the
 * state-save area the APM does not define (hypervisors write the L1 state
 * there), so after a refused VMRUN the VMCB is restored to what the case
 * handed to VMRUN, and the next case carries that.
 */
#include "alloc.h"
#include "msr.h"
#include "processor.h"
#include "states.h"
#include "svm.h"
#include "svm_rules.h"
#include "svm_util.h"
#include "test.h"

SVM_L2_CODE(l2_states, "nop");

static struct svm_vcpu *vcpu;
static struct svm_valid_vmcb valid;
static const struct svm_caps *caps;
static uint16_t valid_cs_attrib;	/* the valid VMCB's CS attributes (64-bit code) */
static uint64_t valid_efer, valid_cr4;

/* Outcomes (struct states_outcome.kind). */
enum {
	OUT_INVALID,	/* VMEXIT_INVALID; code 0 */
	OUT_EXIT,	/* entered; L2 exited with EXITCODE code where expected, state as loaded */
	OUT_EVENT,	/* entered; L2 took the event of vector code through its IDT, then VMMCALL */
	OUT_WRONG_STATE, /* entered and exited as predicted, but saved field code differs */
	OUT_STRAY,	/* entered; exit code elsewhere or after other events */
};

/* ------------------------------------------------------------------ state */

static void reset(void)
{
	svm_valid_reset(&valid, l2_states);
}

static void apply(const struct states_mutation *m)
{
	struct svm_mutation sm = { (enum svm_field)m->field, (enum svm_op)m->op, m->value };

	svm_mutate(vcpu->vmcb, &sm);
}

/* -------------------------------------------------------------- generator */

/* Draws one of @n values. */
#define PICK(rng, ...)                                                         \
	({                                                                     \
		const uint64_t pick_[] = { __VA_ARGS__ };                      \
		pick_[prng_below(rng, ARRAY_SIZE(pick_))];                     \
	})

struct draw {
	enum svm_field field;
	enum svm_op op;
	uint64_t value;
};

static uint64_t top(void)
{
	return BIT(caps->maxphy);
}

/* A set bit of @mask chosen at random, as a mask (0 when @mask is empty). */
static uint64_t random_bit(struct prng *rng, uint64_t mask)
{
	unsigned bit = prng_bit_of(rng, mask);

	return bit < 64 ? BIT(bit) : 0;
}

static uint64_t lowest_bit(uint64_t mask)
{
	return mask ? mask & -mask : 0;
}

static uint64_t highest_bit(uint64_t mask)
{
	return mask ? BIT(63 - __builtin_clzll(mask)) : 0;
}

/* EFER: reserved bits (lowest, highest, any), SVME, defined bits that leave L2 alone, 0, ~0. */
static struct draw draw_efer(struct prng *rng)
{
	uint64_t reserved = ~caps->efer_defined & ~SVM_EFER_RAZ;	/* MBZ: RAZ bits decide nothing */
	/* SCE, NXE (the tables carry no NX bit), FFXSR, TCE, LMSLE where defined. */
	uint64_t harmless = caps->efer_defined &
			    (EFER_SCE | EFER_NXE | EFER_FFXSR | EFER_TCE | EFER_LMSLE);

	switch (prng_below(rng, 7)) {
	case 0: return (struct draw){ SVM_F_EFER, SVM_OP_SET, lowest_bit(reserved) };
	case 1: return (struct draw){ SVM_F_EFER, SVM_OP_SET, highest_bit(reserved) };
	case 2: return (struct draw){ SVM_F_EFER, SVM_OP_SET, random_bit(rng, reserved) };
	case 3: return (struct draw){ SVM_F_EFER, SVM_OP_CLEAR, EFER_SVME };
	case 4: return (struct draw){ SVM_F_EFER, SVM_OP_SET, random_bit(rng, harmless) };
	case 5: return (struct draw){ SVM_F_EFER, SVM_OP_CLEAR, random_bit(rng, harmless) };
	default: return (struct draw){ SVM_F_EFER, SVM_OP_ASSIGN, PICK(rng, 0, ~0ull) };
	}
}

/* CR0: NW, CD, PE, the upper half, bits that leave L2 alone. */
static struct draw draw_cr0(struct prng *rng)
{
	uint64_t harmless = X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM;

	switch (prng_below(rng, 7)) {
	case 0: return (struct draw){ SVM_F_CR0, SVM_OP_SET, X86_CR0_NW };
	case 1: return (struct draw){ SVM_F_CR0, SVM_OP_SET, X86_CR0_CD };
	case 2: return (struct draw){ SVM_F_CR0, SVM_OP_CLEAR, X86_CR0_PE };
	case 3: return (struct draw){ SVM_F_CR0, SVM_OP_SET, PICK(rng, BIT(32), BIT(63), ~0ull << 32) };
	case 4: return (struct draw){ SVM_F_CR0, SVM_OP_SET, BIT(32 + prng_below(rng, 32)) };
	case 5: return (struct draw){ SVM_F_CR0, SVM_OP_SET, random_bit(rng, harmless) };
	default: return (struct draw){ SVM_F_CR0, SVM_OP_CLEAR, random_bit(rng, harmless) };
	}
}

/* CR3: MAXPHYADDR and above (just illegal to all ones), PWT/PCD (legal). */
static struct draw draw_cr3(struct prng *rng)
{
	switch (prng_below(rng, 4)) {
	case 0: return (struct draw){ SVM_F_CR3, SVM_OP_SET, top() };
	case 1: return (struct draw){ SVM_F_CR3, SVM_OP_SET, PICK(rng, BIT(51), BIT(52), BIT(63), ~0ull << 52) };
	case 2: return (struct draw){ SVM_F_CR3, SVM_OP_SET, random_bit(rng, ~0ull << caps->maxphy) };
	default: return (struct draw){ SVM_F_CR3, SVM_OP_SET, PICK(rng, BIT(3), BIT(4), BIT(3) | BIT(4)) };
	}
}

/*
 * CR4 bits whose setting leaves L2 (NOP, VMMCALL in supervisor code on pages
 * without U) running as before: not LA57 (paging), CET, PKS, FRED, LASS, LAM, UINTR, KL.
 */
#define CR4_HARMLESS (X86_CR4_TSD | X86_CR4_DE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE |      \
		      X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_UMIP | X86_CR4_FSGSBASE |   \
		      X86_CR4_PCIDE | X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE)

static struct draw draw_cr4(struct prng *rng)
{
	uint64_t reserved = ~caps->cr4_defined, harmless = caps->cr4_defined & CR4_HARMLESS;

	switch (prng_below(rng, 8)) {
	case 0: return (struct draw){ SVM_F_CR4, SVM_OP_SET, lowest_bit(reserved) };
	case 1: return (struct draw){ SVM_F_CR4, SVM_OP_SET, highest_bit(reserved & 0xffffffff) };
	case 2: return (struct draw){ SVM_F_CR4, SVM_OP_SET, random_bit(rng, reserved) };
	case 3: return (struct draw){ SVM_F_CR4, SVM_OP_CLEAR, X86_CR4_PAE };
	case 4: return (struct draw){ SVM_F_CR4, SVM_OP_ASSIGN, PICK(rng, 0, ~0ull) };
	case 5:
	case 6: return (struct draw){ SVM_F_CR4, SVM_OP_SET, random_bit(rng, harmless) };
	default: return (struct draw){ SVM_F_CR4, SVM_OP_CLEAR, random_bit(rng, harmless) };
	}
}

/* DR6 and DR7: the upper half (illegal), bits of the lower half that change nothing for L2. */
static struct draw draw_dr(struct prng *rng)
{
	enum svm_field f = prng_percent(rng, 50) ? SVM_F_DR6 : SVM_F_DR7;

	switch (prng_below(rng, 4)) {
	case 0: return (struct draw){ f, SVM_OP_SET, PICK(rng, BIT(32), BIT(63), ~0ull << 32) };
	case 1: return (struct draw){ f, SVM_OP_SET, BIT(32 + prng_below(rng, 32)) };
	/* DR6.B0-B3 (status only); DR7.LE and GE (no breakpoint enabled). */
	default: return (struct draw){ f, SVM_OP_SET, f == SVM_F_DR6 ? 0xf : 0x300 };
	}
}

/* CS: L and D together (illegal in long mode); D without L (legal: compatibility mode). */
#define ATTR_L	BIT(9)
#define ATTR_DB	BIT(10)

static struct draw draw_cs(struct prng *rng)
{
	if (prng_percent(rng, 50))
		return (struct draw){ SVM_F_CS_ATTRIB, SVM_OP_SET, ATTR_L | ATTR_DB };
	return (struct draw){ SVM_F_CS_ATTRIB, SVM_OP_ASSIGN, (valid_cs_attrib & ~ATTR_L) | ATTR_DB };
}

/* Intercepts that L2's NOP and VMMCALL never meet, and the controls the rules read. */
static struct draw draw_intercepts(struct prng *rng)
{
	switch (prng_below(rng, 4)) {
	case 0: return (struct draw){ SVM_F_INTERCEPTS, SVM_OP_CLEAR, BIT(SVM_INTERCEPT_VMRUN) };
	case 1: return (struct draw){ SVM_F_INTERCEPTS, SVM_OP_SET, BIT(SVM_INTERCEPT_IOIO_PROT) };
	case 2: return (struct draw){ SVM_F_INTERCEPTS, SVM_OP_SET, BIT(SVM_INTERCEPT_MSR_PROT) };
	default:
		return (struct draw){ SVM_F_INTERCEPTS, SVM_OP_SET,
				      BIT(PICK(rng, SVM_INTERCEPT_CPUID, SVM_INTERCEPT_HLT,
					       SVM_INTERCEPT_RDTSC, SVM_INTERCEPT_INVD,
					       SVM_INTERCEPT_PAUSE, SVM_INTERCEPT_VMLOAD,
					       SVM_INTERCEPT_STGI, SVM_INTERCEPT_WBINVD)) };
	}
}

/* ASID: zero (illegal), 1 and the highest the CPU reports (legal). */
static struct draw draw_asid(struct prng *rng)
{
	uint64_t highest = caps->asids > 1 ? caps->asids - 1 : 1;

	return (struct draw){ SVM_F_ASID, SVM_OP_ASSIGN, PICK(rng, 0, 1, highest) };
}

/*
 * The I/O (12 KB) and MSR (8 KB) maps around 2^MAXPHYADDR: the last base that
 * fits (legal), one page higher (illegal), the last page, 2^MAXPHYADDR, all
 * ones, non-canonical; the ignored low 12 bits set on a legal base.  With the
 * map's intercept on or off: the APM's rule does not depend on it.
 */
static struct draw draw_map(struct prng *rng)
{
	bool io = prng_percent(rng, 50);
	uint64_t size = io ? 3 * PAGE_SIZE : 2 * PAGE_SIZE;
	uint64_t own = io ? valid.iopm : valid.msrpm;

	return (struct draw){ io ? SVM_F_IOPM : SVM_F_MSRPM, SVM_OP_ASSIGN,
			      PICK(rng, top() - size, top() - size + PAGE_SIZE, top() - PAGE_SIZE,
				   top(), ~0ull, own | BIT(63), own | 0xfff,
				   top() - size + 0xfff) };
}

#define EVTINJ(type, vector) (SVM_EVTINJ_VALID | ((uint64_t)(type) << 8) | (vector))

/* EVENTINJ: legal events, reserved types, exception vectors at the boundary, V clear. */
static struct draw draw_eventinj(struct prng *rng)
{
	uint64_t v;

	switch (prng_below(rng, 8)) {
	case 0: v = EVTINJ(0, 32 + prng_below(rng, 224)); break;		/* INTR */
	case 1: v = EVTINJ(2, 2); break;						/* NMI */
	case 2: v = EVTINJ(3, PICK(rng, 0, 1, 3, 6, 13, 30, 31)); break;	/* exceptions */
	case 3: v = EVTINJ(3, 14) | SVM_EVTINJ_ERROR_VALID; break;		/* #PF, error code 0 */
	case 4: v = EVTINJ(4, PICK(rng, 3, 0x80, 0xff)); break;			/* software interrupt */
	case 5: v = EVTINJ(PICK(rng, 1, 5, 6, 7), 0x40); break;			/* reserved TYPE */
	case 6: v = EVTINJ(3, PICK(rng, 2, 32, 255, 32 + prng_below(rng, 224))); break;
	default: v = EVTINJ(PICK(rng, 1, 3, 7), 255) & ~SVM_EVTINJ_VALID; break;	/* V clear */
	}
	return (struct draw){ SVM_F_EVENTINJ, SVM_OP_ASSIGN, v };
}

/* Nested paging: NP_ENABLE (with the valid identity table), nCR3 and G_PAT at their boundaries. */
static struct draw draw_npt(struct prng *rng)
{
	switch (prng_below(rng, 5)) {
	case 0:
	case 1: return (struct draw){ SVM_F_NESTED_CTL, SVM_OP_SET, SVM_NESTED_PAGING };
	case 2: return (struct draw){ SVM_F_NCR3, SVM_OP_SET, PICK(rng, top(), BIT(51), BIT(63), BIT(3) | BIT(4)) };
	case 3: return (struct draw){ SVM_F_GPAT, SVM_OP_ASSIGN,
				      PICK(rng, 0x0007040600070406ull, 0x0606060606060606ull,
					   0x0007040600070402ull, 0x0807040600070406ull,
					   0x0007040600070446ull, ~0ull, 0) };
	default: return (struct draw){ SVM_F_GPAT, SVM_OP_SET, BIT(8 * prng_below(rng, 8) + 3 + prng_below(rng, 5)) };
	}
}

static struct draw (*const draws[])(struct prng *) = {
	draw_efer, draw_efer, draw_cr0, draw_cr0, draw_cr3, draw_cr4, draw_cr4, draw_dr,
	draw_cs, draw_intercepts, draw_asid, draw_map, draw_map, draw_eventinj, draw_eventinj,
	draw_npt,
};

static unsigned generate(struct prng *rng, struct states_mutation *m, unsigned max)
{
	unsigned n = 1 + prng_below(rng, max);

	if (max < STATES_MAX_MUTATIONS)		/* a carry-over is the first */
		n = prng_below(rng, max + 1);
	for (unsigned i = 0; i < n; i++) {
		struct draw d;
		struct svm_mutation sm;

		do
			d = draws[prng_below(rng, ARRAY_SIZE(draws))](rng);
		while ((!caps->npt && (d.field == SVM_F_NESTED_CTL)) || (d.op != SVM_OP_ASSIGN && !d.value));
		m[i].field = d.field;
		m[i].op = d.op;
		m[i].value = d.value;
		sm = (struct svm_mutation){ d.field, d.op, d.value };
		svm_mutation_text(&sm, m[i].name, sizeof(m[i].name));
	}
	return n;
}

/* -------------------------------------------------------------- the model */

/* Where L2 must exit with VMMCALL: after its NOP, or at the VMMCALL a previous exit stopped on. */
static uint64_t expected_rip(const struct vmcb *vmcb)
{
	return vmcb->save.rip == (uint64_t)l2_states ? (uint64_t)l2_states_end : vmcb->save.rip;
}

/*
 * Tags (lib/states.h): properties of a state finer than the rules, which
 * errata data names to leave out the states exposing a known deviation.
 */
enum { TAG_MBZ, TAG_SET, TAG_KINDS };

static char efer_tags[TAG_KINDS][64][24], cr4_tags[TAG_KINDS][64][24];

static const char *const fixed_tags[] = {
	"controls.iopm_beyond_maxphyaddr.base", "controls.iopm_beyond_maxphyaddr.extent",
	"controls.iopm_at_top", "controls.msrpm_beyond_maxphyaddr.base",
	"controls.msrpm_beyond_maxphyaddr.extent", "controls.msrpm_at_top",
	"eventinj.exception_vector31",
};

static void tags_init(void)
{
	static const char *const kind[TAG_KINDS] = { "mbz", "set" };

	if (efer_tags[0][0][0])
		return;
	for (unsigned k = 0; k < TAG_KINDS; k++) {
		for (unsigned b = 0; b < 64; b++) {
			snprintf(efer_tags[k][b], sizeof(efer_tags[k][b]), "efer.%s.%s", kind[k],
				 svm_efer_bit_name(b));
			snprintf(cr4_tags[k][b], sizeof(cr4_tags[k][b]), "cr4.%s.%s", kind[k],
				 svm_cr4_bit_name(b));
		}
	}
}

/* X.mbz.BIT for each reserved bit set, X.set.BIT for each defined bit set beyond the valid VMCB's. */
static void tag_bits(struct states_prediction *p, char tags[TAG_KINDS][64][24], uint64_t value,
		     uint64_t defined, uint64_t valid_value)
{
	for (unsigned b = 0; b < 64; b++) {
		if (!(value & BIT(b)))
			continue;
		if (!(defined & BIT(b)))
			states_tag(p, tags[TAG_MBZ][b]);
		else if (!(valid_value & BIT(b)))
			states_tag(p, tags[TAG_SET][b]);
	}
}

/* A map of @size at @base: beyond MAXPHYADDR by its base page or only by its extent, or ending at the top. */
static void tag_map(struct states_prediction *p, uint64_t base, uint64_t size, const char *const tags[3])
{
	uint64_t page = base & ~0xfffull;

	if (page >= top())
		states_tag(p, tags[0]);
	else if (page > top() - size)
		states_tag(p, tags[1]);
	else if (page == top() - size)
		states_tag(p, tags[2]);
}

static void tag_state(struct states_prediction *p, const struct vmcb *vmcb)
{
	uint64_t inj = vmcb->control.event_inj;

	tags_init();
	tag_bits(p, efer_tags, vmcb->save.efer, caps->efer_defined, valid_efer);
	tag_bits(p, cr4_tags, vmcb->save.cr4, caps->cr4_defined, valid_cr4);
	tag_map(p, vmcb->control.iopm_base_pa, 3 * PAGE_SIZE, &fixed_tags[0]);
	tag_map(p, vmcb->control.msrpm_base_pa, 2 * PAGE_SIZE, &fixed_tags[3]);
	if ((inj & SVM_EVTINJ_VALID) && ((inj >> SVM_EVTINJ_TYPE_SHIFT) & 7) == 3 &&
	    (inj & SVM_EVTINJ_VECTOR_MASK) == 31)
		states_tag(p, fixed_tags[6]);
}

static void predict(struct states_prediction *p)
{
	const struct svm_rule *rules[32];
	unsigned n = svm_rules_violated(vcpu->vmcb, rules, ARRAY_SIZE(rules));
	uint64_t inj = vcpu->vmcb->control.event_inj;

	/* Rules first: a prediction keeps STATES_MAX_RULES names, and the rules must be among them. */
	for (unsigned i = 0; i < n && i < ARRAY_SIZE(rules); i++)
		states_allow(p, OUT_INVALID, 0, rules[i]->name);
	tag_state(p, vcpu->vmcb);
	if (n)
		return;
	/* APM Vol. 2 15.20: a legal injected event is delivered through L2's IDT before its first instruction. */
	if (inj & SVM_EVTINJ_VALID) {
		unsigned type = (inj >> SVM_EVTINJ_TYPE_SHIFT) & 7;

		states_allow(p, OUT_EVENT, type == 2 ? 2 : inj & SVM_EVTINJ_VECTOR_MASK, "");
		return;
	}
	states_allow(p, OUT_EXIT, SVM_EXIT_VMMCALL, "");
}

/* The saved fields a successful exit must leave as they were loaded (APM Vol. 2 15.6). */
static const struct {
	const char *name;
	size_t offset;
} saved_fields[] = {
	{ "cr0", offsetof(struct vmcb, save.cr0) }, { "cr3", offsetof(struct vmcb, save.cr3) },
	{ "cr4", offsetof(struct vmcb, save.cr4) }, { "efer", offsetof(struct vmcb, save.efer) },
	{ "rsp", offsetof(struct vmcb, save.rsp) }, { "rax", offsetof(struct vmcb, save.rax) },
	{ "idtr.base", offsetof(struct vmcb, save.idtr.base) },
};

static uint64_t read_at(const struct vmcb *vmcb, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)vmcb + offset, sizeof(v));
	return v;
}

static void describe(const struct states_outcome *o, char *buf, size_t size)
{
	char code[48];

	switch (o->kind) {
	case OUT_INVALID:
		snprintf(buf, size, "VMEXIT_INVALID");
		break;
	case OUT_EXIT:
		snprintf(buf, size, "exit %s", svm_exit_text(o->code, code, sizeof(code)));
		break;
	case OUT_EVENT:
		snprintf(buf, size, "event %lu in L2, then VMMCALL", o->code);
		break;
	case OUT_WRONG_STATE:
		snprintf(buf, size, "VMMCALL with saved %s not as loaded",
			 o->code < ARRAY_SIZE(saved_fields) ? saved_fields[o->code].name : "?");
		break;
	default:
		snprintf(buf, size, "stray exit %s", svm_exit_text(o->code, code, sizeof(code)));
		break;
	}
}

static void run(struct states_observation *o)
{
	static struct vmcb before;
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t code, want_rip;
	bool long_mode;

	memcpy(&before, vmcb, sizeof(before));
	want_rip = expected_rip(vmcb);
	long_mode = (vmcb->save.efer & EFER_LME) && (vmcb->save.cr0 & X86_CR0_PG);
	l2_event_reset();
	code = svm_run(vcpu);
	/* Only EXITCODE's low half: that all 64 bits read -1 is svm_vmrun's check exitcode. */
	if ((uint32_t)code == (uint32_t)SVM_EXIT_INVALID) {
		o->outcome = (struct states_outcome){ OUT_INVALID, 0 };
		snprintf(o->detail, sizeof(o->detail), "EXITCODE %#lx", code);
		/* The state-save area after VMEXIT_INVALID is undefined: carry what VMRUN was given. */
		memcpy(vmcb, &before, sizeof(before));
		vmcb->control.exit_code = code;
		return;
	}
	snprintf(o->detail, sizeof(o->detail), "exit %#lx at rip %#lx (expected %#lx), %lu L2 event%s (vector %lu)",
		 code, vmcb->save.rip, want_rip, l2_event.count, l2_event.count == 1 ? "" : "s",
		 l2_event.vector);
	if (l2_event.count) {
		bool one = l2_event.count == 1 && code == SVM_EXIT_VMMCALL;

		o->outcome = (struct states_outcome){ one ? OUT_EVENT : OUT_STRAY,
						      one ? l2_event.vector : code };
		return;
	}
	if (code != SVM_EXIT_VMMCALL || vmcb->save.rip != want_rip) {
		o->outcome = (struct states_outcome){ OUT_STRAY, code };
		return;
	}
	o->outcome = (struct states_outcome){ OUT_EXIT, code };
	for (unsigned i = 0; i < ARRAY_SIZE(saved_fields); i++) {
		uint64_t loaded = read_at(&before, saved_fields[i].offset);
		uint64_t saved = read_at(vmcb, saved_fields[i].offset);

		/* EFER.LMA is EFER.LME && CR0.PG after VMRUN (APM Vol. 2 14.6.2). */
		if (saved_fields[i].offset == offsetof(struct vmcb, save.efer))
			loaded = long_mode ? loaded | EFER_LMA : loaded & ~EFER_LMA;
		if (saved != loaded) {
			o->outcome = (struct states_outcome){ OUT_WRONG_STATE, i };
			snprintf(o->detail, sizeof(o->detail), "saved %s %#lx, loaded %#lx",
				 saved_fields[i].name, saved, loaded);
			return;
		}
	}
}

/* The rules, then the tags. */
static const char *rule_name(size_t i)
{
	tags_init();
	if (i < svm_rule_count)
		return svm_rules[i].name;
	i -= svm_rule_count;
	if (i < ARRAY_SIZE(fixed_tags))
		return fixed_tags[i];
	i -= ARRAY_SIZE(fixed_tags);
	if (i < 2 * 64)
		return efer_tags[i / 64][i % 64];
	i -= 2 * 64;
	return cr4_tags[i / 64][i % 64];
}

/* Seeds and cases per seed: a few seconds on QEMU TCG and on Bochs (docs/states.md). */
static const uint64_t default_seeds[] = { 1, 2, 3 };

static struct states_arch svm_states_arch = {
	.seeds = default_seeds,
	.nseeds = ARRAY_SIZE(default_seeds),
	.count = 300,
	.reset = reset,
	.generate = generate,
	.apply = apply,
	.predict = predict,
	.run = run,
	.describe = describe,
	.rule_name = rule_name,
};

/* The arch with its rule count (not a constant expression: the table lives in svm_rules.c). */
static const struct states_arch *arch(void)
{
	svm_states_arch.nrules = svm_rule_count + ARRAY_SIZE(fixed_tags) + 4 * 64;
	return &svm_states_arch;
}

static void setup(void)
{
	vcpu = svm_valid_setup(&valid);
	if (!vcpu)
		return;
	caps = svm_rules_caps();
	reset();
	valid_cs_attrib = vcpu->vmcb->save.cs.attrib;
	valid_efer = vcpu->vmcb->save.efer;
	valid_cr4 = vcpu->vmcb->save.cr4;
}

/* The valid VMCB enters and L2 runs to its VMMCALL: the model's starting point holds. */
static void check_valid(void)
{
	struct states_observation o = { 0 };
	char seen[64];

	if (!svm_require())
		return;
	reset();
	run(&o);
	describe(&o.outcome, seen, sizeof(seen));
	check_msg(o.outcome.kind == OUT_EXIT && o.outcome.code == SVM_EXIT_VMMCALL, "",
		  "the valid VMCB: expected exit VMMCALL with the state as loaded, got %s [%s]", seen,
		  o.detail);
}

static void run_cases(void)
{
	if (svm_require())
		states_run(arch());
}

static bool knows_pattern(const char *pattern)
{
	return states_knows_pattern(arch(), pattern);
}

static const struct check_entry checks[] = {
	{ "valid", check_valid },
	{ "cases", run_cases },
};

DEFINE_TEST("svm_states", checks, .setup = setup, .options = STATES_OPTIONS,
	    .knows_pattern = knows_pattern);
