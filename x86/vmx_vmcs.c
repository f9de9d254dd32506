/*
 * VMCS access (SDM Vol. 3C chapter 25, "Virtual Machine Control Structures";
 * 25.11, "Software Use of the VMCS and Related Structures"; field encodings in
 * Appendix B; VMREAD/VMWRITE in 31.3): every field of the table that the
 * processor supports can be written and read back, the fields it lacks and
 * malformed encodings fail with error 12, read-only fields with error 13
 * (unless IA32_VMX_MISC[29]), field widths, and the contents of a VMCS across
 * VMCLEAR and VMPTRLD.
 *
 * Names: rw.FIELD, absent.FIELD, ro.FIELD, persist.FIELD, then width.*,
 * encoding.*, no_current.*, copy.*.
 */
#include "alloc.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

static const char *vmx_missing;
static void *vmcs;		/* the current VMCS of the checks */
static char rbuf[96];

#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

static void setup(void)
{
	if (!vmx_supported(&vmx_missing))
		return;
	vmx_enable();
	vmcs = vmx_region_alloc();
	if (vmptrld_checked((uint64_t)vmcs).outcome != VMX_SUCCEED)
		test_error("", "VMPTRLD of a fresh VMCS failed");
}

static bool vmx_usable(void)
{
	if (vmx_missing)
		skip("", "%s", vmx_missing);
	return !vmx_missing;
}

static uint64_t width_mask(uint32_t enc)
{
	switch (vmcs_field_width(enc)) {
	case VMCS_WIDTH_16: return 0xffff;
	case VMCS_WIDTH_32: return 0xffffffff;
	default: return ~0ull;
	}
}

/* A value distinct for each field, within the field's width. */
static uint64_t pattern(uint32_t enc, unsigned salt)
{
	uint64_t v = 0x5a5a0000a5a50000ull ^ ((uint64_t)enc << 32) ^ enc ^ ((uint64_t)salt << 8);

	return v & width_mask(enc);
}

static bool read_only(const struct vmcs_field_info *f)
{
	return vmcs_field_type(f->encoding) == VMCS_TYPE_RO;
}

static const char *need_str(const struct vmcs_field_info *f, char *buf, size_t size)
{
	return vmx_cap_str(f->need[0], buf, size);
}

/*
 * Every supported, writable field: VMWRITE then VMREAD give the value back
 * (31.3 VMREAD/VMWRITE; the field is as wide as its encoding says, 25.11.2).
 */
static void check_rw(void)
{
	if (!vmx_usable())
		return;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_fields[i];
		uint64_t want = pattern(f->encoding, 1), got = 0;
		struct vmx_result w, r;
		char cap[48];

		if (read_only(f))
			continue;
		if (!vmcs_field_supported(f)) {
			skip(f->name, "field needs %s", need_str(f, cap, sizeof(cap)));
			continue;
		}
		w = vmwrite_checked(f->encoding, want);
		r = vmread_checked(f->encoding, &got);
		check_msg(w.outcome == VMX_SUCCEED && r.outcome == VMX_SUCCEED && got == want, f->name,
			  "VMWRITE %#lx: %s; VMREAD %#lx: %s", want, RES(w), got,
			  vmx_result_str(&r, cap, sizeof(cap)));
	}
}

/*
 * A field that the processor does not support (its control's allowed-1 bit
 * is 0, or its index is above IA32_VMX_VMCS_ENUM[9:1]): VMREAD and VMWRITE
 * fail with error 12 (31.3).
 */
static void check_absent(void)
{
	unsigned n = 0;

	if (!vmx_usable())
		return;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_fields[i];
		uint64_t v;
		struct vmx_result r, w;

		if (vmcs_field_supported(f))
			continue;
		n++;
		r = vmread_checked(f->encoding, &v);
		w = vmwrite_checked(f->encoding, 0);
		check_msg(vmx_failed_with(&r, VMXERR_UNSUPPORTED_FIELD) &&
			  vmx_failed_with(&w, VMXERR_UNSUPPORTED_FIELD), f->name,
			  "VMREAD: %s, VMWRITE: %s; expected error 12 for both", RES(r),
			  vmx_result_str(&w, (char[64]){ 0 }, 64));
	}
	if (!n)
		skip("", "the processor supports every field of the table");
}

/* VMWRITE to a read-only field: error 13, unless IA32_VMX_MISC[29] (A.6) allows it. */
static void check_read_only(void)
{
	bool any;

	if (!vmx_usable())
		return;
	any = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY;
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_fields[i];
		uint64_t want = pattern(f->encoding, 2), got = 0;
		struct vmx_result w, r;

		if (!read_only(f) || !vmcs_field_supported(f))
			continue;
		w = vmwrite_checked(f->encoding, want);
		if (any) {
			r = vmread_checked(f->encoding, &got);
			check_msg(w.outcome == VMX_SUCCEED && r.outcome == VMX_SUCCEED && got == want,
				  f->name, "IA32_VMX_MISC[29]: VMWRITE %#lx: %s, read back %#lx",
				  want, RES(w), got);
		} else {
			check_msg(vmx_failed_with(&w, VMXERR_VMWRITE_READ_ONLY), f->name,
				  "expected VMfailValid(13), got %s", RES(w));
		}
	}
}

/*
 * Contents survive VMCLEAR then VMPTRLD (25.11.1, "Software Use of Virtual-
 * Machine Control Structures": VMCLEAR writes the data to the region; this is
 * how a VMCS migrates between processors).
 */
static void check_persist(void)
{
	if (!vmx_usable())
		return;
	vmclear_checked((uint64_t)vmcs);
	vmptrld_checked((uint64_t)vmcs);
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_fields[i];

		if (!read_only(f) && vmcs_field_supported(f))
			vmwrite_checked(f->encoding, pattern(f->encoding, 3));
	}
	if (vmclear_checked((uint64_t)vmcs).outcome != VMX_SUCCEED ||
	    vmptrld_checked((uint64_t)vmcs).outcome != VMX_SUCCEED) {
		test_error("", "VMCLEAR/VMPTRLD of the VMCS failed");
		return;
	}
	for (size_t i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_fields[i];
		uint64_t got = 0, want = pattern(f->encoding, 3);
		struct vmx_result r;

		if (read_only(f) || !vmcs_field_supported(f))
			continue;
		r = vmread_checked(f->encoding, &got);
		check_msg(r.outcome == VMX_SUCCEED && got == want, f->name,
			  "after VMCLEAR/VMPTRLD: %#lx (%s), written %#lx", got, RES(r), want);
	}
}

/*
 * A copy of a cleared VMCS region: the SDM fixes only the first 8 bytes of
 * the region (25.2, "Format of the VMCS Region": revision identifier, abort
 * indicator) and says the rest is implementation-specific, so VMPTRLD of the
 * copy must pass its revision check and make the copy current; whether the
 * field values follow the copy is not architectural and is only reported.
 */
static void check_copy(void)
{
	void *copy;
	uint64_t ptr = 0, v = 0;
	struct vmx_result r;

	if (!vmx_usable())
		return;
	copy = alloc_page();
	vmptrld_checked((uint64_t)vmcs);
	vmwrite_checked(VMCS_GUEST_RIP, 0x1234567);
	vmclear_checked((uint64_t)vmcs);
	memcpy(copy, vmcs, PAGE_SIZE);
	check_eq("revision", *(uint32_t *)copy & 0x7fffffff, vmx_revision());
	r = vmptrld_checked((uint64_t)copy);
	check_msg(r.outcome == VMX_SUCCEED, "vmptrld", "VMPTRLD of the copy: %s", RES(r));
	vmptrst_checked(&ptr);
	check_eq("current", ptr, (uint64_t)copy);
	if (vmread_checked(VMCS_GUEST_RIP, &v).outcome == VMX_SUCCEED)
		info("copy.data: GUEST_RIP in the copy reads %#lx (written 0x1234567; not architectural)", v);
	vmclear_checked((uint64_t)copy);
	vmptrld_checked((uint64_t)vmcs);
}

/* VMREAD/VMWRITE without a current VMCS: VMfailInvalid (31.3). */
static void check_no_current(void)
{
	uint64_t v;
	struct vmx_result r;

	if (!vmx_usable())
		return;
	vmclear_checked((uint64_t)vmcs);
	r = vmread_checked(VMCS_GUEST_RIP, &v);
	check_msg(r.outcome == VMX_FAIL_INVALID, "vmread", "expected VMfailInvalid, got %s", RES(r));
	r = vmwrite_checked(VMCS_GUEST_RIP, 0);
	check_msg(r.outcome == VMX_FAIL_INVALID, "vmwrite", "expected VMfailInvalid, got %s", RES(r));
	vmptrld_checked((uint64_t)vmcs);
}

/* Encodings that name no field: error 12 (Appendix B; 25.11.2; 31.3). */
static void check_encodings(void)
{
	if (!vmx_usable())
		return;
	/* IA32_VMX_VMCS_ENUM exists only with VMX: read it after the check. */
	unsigned max_index = (rdmsr(MSR_IA32_VMX_VMCS_ENUM) >> 1) & 0x1ff;
	const struct { const char *name; uint64_t enc; } cases[] = {
		{ "reserved_bit12", VMCS_GUEST_RIP | BIT(12) },
		{ "reserved_bit15", VMCS_GUEST_RIP | BIT(15) },
		{ "reserved_bit31", VMCS_GUEST_ES_SEL | BIT(31) },
		{ "bits_63_32", VMCS_GUEST_RIP | BIT(32) },
		{ "high_16bit", VMCS_GUEST_ES_SEL | VMCS_HIGH },
		{ "high_32bit", VMCS_GUEST_ES_LIMIT | VMCS_HIGH },
		{ "high_natural", VMCS_GUEST_RIP | VMCS_HIGH },
		{ "index_above_enum", 0x4000 | ((max_index + 1) << 1) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v;
		struct vmx_result r = vmread_checked(cases[i].enc, &v);
		struct vmx_result w = vmwrite_checked(cases[i].enc, 0);

		if (cases[i].enc == (0x4000 | ((max_index + 1) << 1)) && max_index >= 0x1ff) {
			skip(cases[i].name, "IA32_VMX_VMCS_ENUM reports the highest index");
			continue;
		}
		check_msg(vmx_failed_with(&r, VMXERR_UNSUPPORTED_FIELD) &&
			  vmx_failed_with(&w, VMXERR_UNSUPPORTED_FIELD), cases[i].name,
			  "encoding %#lx: VMREAD %s, VMWRITE %s; expected error 12", cases[i].enc,
			  RES(r), vmx_result_str(&w, (char[64]){ 0 }, 64));
	}
}

/*
 * Widths (31.3 VMREAD/VMWRITE; 25.11.2): VMWRITE ignores source bits beyond
 * the field, VMREAD zero-extends; the high-access encoding of a 64-bit field
 * reads and writes its bits 63:32 only.
 */
static void check_width(void)
{
	uint64_t v = 0, m = ~0ull;

	if (!vmx_usable())
		return;
	vmptrld_checked((uint64_t)vmcs);
	vmcs_write(VMCS_GUEST_ES_SEL, ~0ull);
	check_eq("16bit", vmcs_read(VMCS_GUEST_ES_SEL), 0xffff);
	vmcs_write(VMCS_GUEST_ES_LIMIT, ~0ull);
	check_eq("32bit", vmcs_read(VMCS_GUEST_ES_LIMIT), 0xffffffff);
	vmcs_write(VMCS_GUEST_ES_BASE, 0xfedcba9876543210ull);
	check_eq("natural", vmcs_read(VMCS_GUEST_ES_BASE), 0xfedcba9876543210ull);
	vmcs_write(VMCS_VMCS_LINK_PTR, 0x1122334455667788ull);
	check_eq("64bit_full", vmcs_read(VMCS_VMCS_LINK_PTR), 0x1122334455667788ull);
	check_eq("64bit_high_read", vmcs_read(VMCS_VMCS_LINK_PTR | VMCS_HIGH), 0x11223344);
	vmcs_write(VMCS_VMCS_LINK_PTR | VMCS_HIGH, 0xffffffffaabbccddull);
	check_eq("64bit_high_write", vmcs_read(VMCS_VMCS_LINK_PTR), 0xaabbccdd55667788ull);
	/* Memory operands are 64 bits in 64-bit mode: a 16-bit field reads zero-extended. */
	vmcs_write(VMCS_GUEST_CS_SEL, 0x1234);
	v = ~0ull;
	vmread_mem_checked(VMCS_GUEST_CS_SEL, &v);
	check_eq("mem_read_16bit", v, 0x1234);
	vmwrite_mem_checked(VMCS_GUEST_CS_LIMIT, &m);
	check_eq("mem_write_32bit", vmcs_read(VMCS_GUEST_CS_LIMIT), 0xffffffff);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ull);
}

static const struct check_entry checks[] = {
	{ "rw", check_rw },
	{ "absent", check_absent },
	{ "ro", check_read_only },
	{ "width", check_width },
	{ "encoding", check_encodings },
	{ "no_current", check_no_current },
	{ "persist", check_persist },
	{ "copy", check_copy },
};

DEFINE_TEST("vmx_vmcs", checks, .setup = setup);
