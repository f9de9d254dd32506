/* Table-driven VM-entry checks (see vmx_entry_util.h; SDM Vol. 3C chapter 27). */
#include "alloc.h"
#include "ept.h"
#include "processor.h"
#include "report.h"
#include "vmx_entry_util.h"

VMX_L2_CODE(ve_l2_vmcall, "");

struct vmx_vcpu *ve_vcpu;
static const char *ve_missing;
static char rbuf[96];

void ve_setup(void)
{
	if (!vmx_supported(&ve_missing))
		return;
	vmx_enable();
	ve_vcpu = vmx_vcpu_create();
}

bool ve_usable(void)
{
	if (ve_missing)
		skip("", "%s", ve_missing);
	return !ve_missing;
}

/* ------------------------------------------------------------ VMCS snapshot */

static struct { uint32_t enc; uint64_t val; } snap[256];
static size_t snap_n;
static uint32_t writable[256];
static size_t writable_n;

static void snapshot(void)
{
	if (!writable_n) {
		for (size_t i = 0; i < vmcs_field_count && writable_n < ARRAY_SIZE(writable); i++) {
			const struct vmcs_field_info *f = &vmcs_fields[i];

			if (vmcs_field_type(f->encoding) != VMCS_TYPE_RO && vmcs_field_supported(f))
				writable[writable_n++] = f->encoding;
		}
	}
	snap_n = 0;
	for (size_t i = 0; i < writable_n; i++) {
		uint64_t v;

		if (vmread_checked(writable[i], &v).outcome == VMX_SUCCEED) {
			snap[snap_n].enc = writable[i];
			snap[snap_n++].val = v;
		}
	}
}

static void restore(void)
{
	for (size_t i = 0; i < snap_n; i++)
		vmwrite_checked(snap[i].enc, snap[i].val);
}

/* ------------------------------------------------------------ memory undo log */

static struct { void *p; uint64_t old; uint8_t size; } undo[16];
static size_t undo_n;

void ve_poke64(uint64_t *p, uint64_t v)
{
	if (undo_n < ARRAY_SIZE(undo))
		undo[undo_n++] = (typeof(undo[0])){ p, *p, 8 };
	*p = v;
}

void ve_poke32(uint32_t *p, uint32_t v)
{
	if (undo_n < ARRAY_SIZE(undo))
		undo[undo_n++] = (typeof(undo[0])){ p, *p, 4 };
	*p = v;
}

static void undo_all(void)
{
	while (undo_n) {
		undo_n--;
		if (undo[undo_n].size == 8)
			*(uint64_t *)undo[undo_n].p = undo[undo_n].old;
		else
			*(uint32_t *)undo[undo_n].p = undo[undo_n].old;
	}
}

/* ------------------------------------------------------------ running a case */

static const char *reason_str(uint32_t r, char *buf, size_t size)
{
	const char *n = vmx_exit_name(r);

	if (r == VMX_EXIT_VMFAIL)
		return vmx_result_str(&ve_vcpu->entry, buf, size);
	snprintf(buf, size, "exit %#x (%s%s)", r, r & VMX_EXIT_ENTRY_FAILURE ? "entry failure: " : "",
		 n ? n : "?");
	return buf;
}

static bool fresh(bool (*prepare)(void))
{
	undo_all();
	vmx_vcpu_reset(ve_vcpu, ve_l2_vmcall);
	return !prepare || prepare();
}

static uint32_t base_reason(uint32_t base)
{
	return base ? base & 0xffff : VMX_EXIT_VMCALL;
}

/* The VMLAUNCH that every case runs: a VMCS fresh from VMCLEAR (25.11.3). */
static const struct vr_env launch_clear = { .resume = false, .launched = false };
static char pbuf[320];

bool ve_run_valid(bool (*prepare)(void), uint32_t base)
{
	struct vr_prediction p;
	uint32_t got, want = base_reason(base);
	const char *w = vmx_exit_name(want);

	if (!fresh(prepare))
		return false;
	vr_predict(&launch_clear, &p);
	if (p.nviolated) {
		test_error("valid", "the rule table finds the valid VMCS broken: %s",
			   vr_prediction_str(&p, pbuf, sizeof(pbuf)));
		return false;
	}
	got = vmx_run(ve_vcpu);
	return check_msg(got == want, "valid",
			 "the valid VMCS must enter and exit with %#x (%s): %s", want, w ? w : "?",
			 reason_str(got, rbuf, sizeof(rbuf)));
}

static void break_it(const struct ve_case *c)
{
	if (c->brk)
		c->brk();
	else
		vmcs_update(c->field, c->clear, c->set);
}

/*
 * What the table expects of the broken VMCS: the case's rule broken (or kept,
 * for .legal) and a single outcome.  False after a test_error().
 */
static bool expected_outcome(const struct ve_case *c, struct vr_outcome *want)
{
	const struct vmx_rule *r = &vmx_rules[c->rule];
	struct vr_prediction p;
	const char *name = c->legal ? "enters" : "fails";

	vr_predict(&launch_clear, &p);
	if (!vr_violated(c->rule, &launch_clear) == !c->legal) {
		test_error(name, "the change %s rule %s (SDM Vol. 3C %s), the table says: %s",
			   c->legal ? "breaks" : "does not break", r->name, r->section,
			   vr_prediction_str(&p, pbuf, sizeof(pbuf)));
		return false;
	}
	if (p.n != 1 || (c->legal && p.allowed[0].kind != VR_ENTERS)) {
		test_error(name, "the table allows more than the case's outcome: %s",
			   vr_prediction_str(&p, pbuf, sizeof(pbuf)));
		return false;
	}
	*want = p.allowed[0];
	return true;
}

/* The broken entry from a clear launch state, then the launch-state check. */
static void broken(const struct ve_case *c)
{
	const struct vmx_rule *r = &vmx_rules[c->rule];
	struct vr_outcome want, got_o;
	uint32_t got;
	char exp[64], obs[64];

	vmcs_write(VMCS_GUEST_RIP, (uint64_t)ve_l2_vmcall);
	snapshot();
	break_it(c);
	ve_vcpu->launched = false;
	if (!expected_outcome(c, &want)) {
		undo_all();
		return;
	}
	got = vmx_run(ve_vcpu);
	got_o = vr_observe(ve_vcpu, got);
	if (want.kind == VR_ENTERS)
		check_msg(got == VMX_EXIT_VMCALL, "enters",
			  "the entry must succeed and reach VMCALL (rule %s, SDM Vol. 3C %s): %s",
			  r->name, r->section, reason_str(got, rbuf, sizeof(rbuf)));
	else
		check_msg(got_o.kind == want.kind && got_o.code == want.code &&
			  got_o.qual == want.qual, "fails",
			  "rule %s (SDM Vol. 3C %s) broken: expected %s, got %s (%s)", r->name,
			  r->section, vr_outcome_str(&want, exp, sizeof(exp)),
			  vr_outcome_str(&got_o, obs, sizeof(obs)), reason_str(got, rbuf, sizeof(rbuf)));
	undo_all();
	if (got_o.kind == VR_ENTERS)
		return;
	/* A failed entry leaves the launch state clear: VMRESUME fails with error 5. */
	restore();
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)ve_l2_vmcall);
	ve_vcpu->launched = true;
	got = vmx_run(ve_vcpu);
	check_msg(vmx_failed_with(&ve_vcpu->entry, VMXERR_VMRESUME_NOT_LAUNCHED), "launch_state",
		  "after the failed VMLAUNCH the launch state must still be clear (VMRESUME: "
		  "VMfailValid(5)), got %s", reason_str(got, rbuf, sizeof(rbuf)));
	ve_vcpu->launched = false;
}

void ve_run(const struct ve_case *c)
{
	if (!ve_usable())
		return;
	/*
	 * The valid VMCS first (it ends launched), then the broken one from
	 * vmx_vcpu_reset(): VMCLEAR makes the launch state clear (25.11.3).
	 */
	if (ve_run_valid(c->prepare, c->base))
		ve_run_broken(c);
}

void ve_run_broken(const struct ve_case *c)
{
	if (!fresh(c->prepare))
		return;
	broken(c);
}

/* ------------------------------------------------------------ prepare helpers */

bool ve_ctls(enum vmx_ctls which, uint32_t set)
{
	if (!vmx_require("", which, set))
		return false;
	if (!vmx_vcpu_set_ctls(ve_vcpu, which, set, 0)) {
		test_error("", "control bits %#x could not be set", set);
		return false;
	}
	return true;
}

bool ve_ctls_field(enum vmx_ctls which, uint32_t set, uint32_t field, uint64_t value)
{
	if (!ve_ctls(which, set))
		return false;
	vmcs_write(field, value);
	return true;
}

bool ve_ept(void)
{
	static struct pagetable ept;
	const char *why;

	if (!ept_supported(&why)) {
		skip("", "%s", why);
		return false;
	}
	if (!ept.root)
		ept = ept_create_identity(ept_largest_page());
	if (!ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_EPT))
		return false;
	vmcs_write(VMCS_EPT_POINTER, ept_eptp(&ept, false));
	return true;
}

bool ve_unrestricted(void)
{
	return ve_ept() && ve_ctls(VMX_CTLS_PROC2, VMX_PROC2_UNRESTRICTED);
}

void ve_inject(uint32_t info, uint32_t err, uint32_t len)
{
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
	vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, err);
	vmcs_write(VMCS_ENTRY_INSN_LEN, len);
}

uint64_t ve_beyond_maxphyaddr(void)
{
	return 1ull << vmx_maxphyaddr();
}

void *ve_page(unsigned n)
{
	static void *pages[16];

	if (n >= ARRAY_SIZE(pages))
		report_abort("ve_page(%u)", n);
	if (!pages[n])
		pages[n] = alloc_page();
	return pages[n];
}

void ve_check_fixed_bits(uint32_t field, uint32_t fixed0_msr, uint32_t fixed1_msr,
			 bool must_be_1, enum vr_rule_id rule)
{
	uint64_t fixed0, fixed1;
	unsigned n = 0;

	if (!ve_usable() || !ve_run_valid(NULL, 0))
		return;
	fixed0 = rdmsr(fixed0_msr);
	fixed1 = rdmsr(fixed1_msr);
	for (unsigned bit = 0; bit < 64; bit++) {
		struct ve_case c = { .field = field, .rule = rule };

		if (must_be_1 ? !(fixed0 & BIT(bit)) : (fixed1 & BIT(bit)))
			continue;
		if (must_be_1)
			c.clear = BIT(bit);
		else
			c.set = BIT(bit);
		report_prefix_push("bit%u", bit);
		ve_run_broken(&c);
		report_prefix_pop();
		n++;
	}
	if (!n)
		skip("", "MSR %#x pins no bit", must_be_1 ? fixed0_msr : fixed1_msr);
}
