/*
 * EPT (SDM Vol. 3C 29.3, "The Extended Page Table Mechanism"): EPT violations
 * with their exit qualification (28.2.1, Table 28-7) for not-present,
 * read-only and no-execute entries at each level of the EPT walk, for the
 * final access and for L2's own page walk (also its write of a PTE's accessed
 * flag through a read-only mapping); execute-only pages; 2 MiB and
 * 1 GiB leaves; EPT misconfigurations (29.3.3.1); the accessed and dirty
 * flags (29.3.5); page-modification logging (29.3.6); EPTP switching with
 * VMFUNC (26.5.6.3); INVEPT (31.3, "INVEPT"; 29.4.3.1); and an EPT that starts
 * empty and is filled on violations, with an MMIO hole left unmapped.
 *
 * Layout: the EPT identity-maps RAM and the first 4 GiB, and an alias window
 * at GPA 512 GiB (EPT PML4 index 1) maps chosen host pages again at
 * ALIAS + HPA.  L2 runs on page tables of its own (identity, plus TEST_GVA
 * -> ALIAS + the data page, through a page table that L2 reaches at its alias
 * GPA), so a check breaks an alias entry at any EPT level and never L2's
 * code, stack or identity data.
 *
 * Names: LEVEL.KIND.ACCESS[.reason|.qual|.gpa|.gla] for violations,
 * walk.*, walk_accessed.*, exec_only.*, leaf2m.*, leaf1g.*, misconfig.*, ad.*,
 * pml.*, vmfunc.*, invept.*, lazy.*.
 */
#include "alloc.h"
#include "bootinfo.h"
#include "ept.h"
#include "processor.h"
#include "test.h"
#include "vmx.h"

#define GIB		(1ull << 30)
#define ALIAS		(1ull << 39)		/* EPT PML4 index 1 */
#define TEST_GVA	(2ull << 39)		/* L2 PML4 index 2 */
#define DATA_OFF	0x128
#define CODE_OFF	0x80
#define DATA_VALUE	0x5a5a00c0ffee0001ull
#define WRITE_VALUE	0x1234567887654321ull

/* Exit qualification of an EPT violation (SDM Vol. 3C 28.2.1, Table 28-7). */
#define QUAL_READ	BIT(0)
#define QUAL_WRITE	BIT(1)
#define QUAL_FETCH	BIT(2)
#define QUAL_PERM_SHIFT	3		/* bits 5:3: AND of R, W, X over the walk */
#define QUAL_UEXEC	BIT(6)		/* with mode-based execute control */
#define QUAL_GLA_VALID	BIT(7)
#define QUAL_TRANSL	BIT(8)		/* 1: the final access; 0: a paging-structure entry */
#define QUAL_CHECKED	(0x1bfull)	/* bits 8:7 and 5:0; bit 6 only with MBEC */

#define PROC2_MBEC	BIT(22)
#define EPT_UX		BIT(10)		/* user-mode execute, with MBEC */

static const char *missing;
static struct vmx_vcpu *vcpu;
static struct pagetable ept, gpt;
static uint64_t ram_end;
static uint8_t *data;		/* the page L2 reaches at TEST_GVA */
static uint64_t *l2pt;		/* L2's page table that maps TEST_GVA */
static uint64_t *l2pte;		/* its entry for TEST_GVA */
static uint64_t *l2pde;		/* L2's PDE that names l2pt */
static uint64_t ept_cap;

VMX_L2_CODE(l2_read, "mov (%rdi), %rax");
VMX_L2_CODE(l2_write, "mov %rsi, (%rdi)");
VMX_L2_CODE(l2_exec, "jmp *%rdi");

static const char *const level_names[] = { "", "pte", "pde", "pdpte", "pml4e" };

static uint64_t alias(const void *p)
{
	return ALIAS + (uint64_t)p;
}

static void setup(void)
{
	if (!ept_supported(&missing))
		return;
	if (vmx_maxphyaddr() < 40) {
		missing = "MAXPHYADDR below 40 (CPUID 8000_0008h): no room for the alias window";
		return;
	}
	ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	info("IA32_VMX_EPT_VPID_CAP %#lx, MAXPHYADDR %u", ept_cap, vmx_maxphyaddr());
	vmx_enable();
	vcpu = vmx_vcpu_create();

	ram_end = 4 * GIB;
	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		ram_end = MAX(ram_end, bootinfo.ram[i].end);
	ram_end = ALIGN_UP(ram_end, pt_level_size(2));
	ept = ept_create_identity(ept_largest_page());

	data = alloc_page();
	gpt = pt_create(&pt_format_x86);
	pt_map(&gpt, 0, 0, ram_end, pt_level_size(2), PTE_P | PTE_W);
	/* TEST_GVA -> the data page's alias; the PDE names the page table's alias. */
	l2pte = pt_entry(&gpt, TEST_GVA, 1);
	*l2pte = alias(data) | PTE_P | PTE_W | PTE_A | PTE_D;
	l2pt = (uint64_t *)ALIGN_DOWN((uint64_t)l2pte, PAGE_SIZE);
	l2pde = pt_lookup(&gpt, TEST_GVA, 2);
}

/*
 * L2's PDE for TEST_GVA names its page table at the table's identity GPA
 * (@via_alias false: only the final access goes through the alias window)
 * or at its alias GPA (true: L2's own walk does too).
 */
static void walk_via_alias(bool via_alias)
{
	*l2pde = (via_alias ? alias(l2pt) : (uint64_t)l2pt) | PTE_P | PTE_W | PTE_U | PTE_A;
}

static bool need_ept(void)
{
	if (missing)
		skip("", "%s", missing);
	return !missing;
}

static bool cap_or_skip(const char *name, uint64_t bit, const char *what)
{
	if (ept_cap & bit)
		return true;
	skip(name, "no %s (IA32_VMX_EPT_VPID_CAP[%u])", what, __builtin_ctzll(bit));
	return false;
}

/* ------------------------------------------------------------ the alias window */

static uint64_t eptp_of(const struct pagetable *t, bool ad)
{
	return ept_eptp(t, ad);
}

static void flush(struct pagetable *t, bool ad)
{
	if (!ept_invalidate(eptp_of(t, ad)))
		test_error("", "INVEPT to flush a changed EPT did not succeed");
}

/*
 * Rebuilds the alias window with leaves of @size: the data page with @flags,
 * L2's page table with EPT_LEAF_WB (both share a large leaf when they fall
 * in one; then the data flags win).
 */
static void alias_reset(uint64_t size, uint64_t flags)
{
	uint64_t pt = ALIGN_DOWN((uint64_t)l2pt, size), d = ALIGN_DOWN((uint64_t)data, size);

	ept.root[1] = 0;
	ept_map(&ept, ALIAS + pt, pt, size, size, EPT_LEAF_WB);
	ept_map(&ept, ALIAS + d, d, size, size, flags);
	memset(data, 0, PAGE_SIZE);
	*(uint64_t *)(data + DATA_OFF) = DATA_VALUE;
	/* VMCALL at CODE_OFF: a fetch that the EPT allows ends there. */
	memcpy(data + CODE_OFF, "\x0f\x01\xc1", 3);
	*l2pte = alias(data) | PTE_P | PTE_W | PTE_A | PTE_D;
	walk_via_alias(false);
}

/* L2 on its own tables and the test's EPT, with RIP = @rip. */
static void prepare(void *rip, bool ad)
{
	vmx_vcpu_reset(vcpu, rip);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_EPT, 0);
	vmcs_write(VMCS_EPT_POINTER, eptp_of(&ept, ad));
	vmcs_write(VMCS_GUEST_CR3, (uint64_t)gpt.root);
	flush(&ept, ad);
}

enum access { READ, WRITE, FETCH };
static const char *const access_names[] = { "read", "write", "fetch" };

static uint32_t run_access(enum access a, uint64_t gva, bool ad)
{
	static void *const code[] = { l2_read, l2_write, l2_exec };

	prepare(code[a], ad);
	vcpu->regs.rdi = gva;
	vcpu->regs.rsi = WRITE_VALUE;
	return vmx_run(vcpu);
}

static uint64_t access_gva(enum access a)
{
	return TEST_GVA + (a == FETCH ? CODE_OFF : DATA_OFF);
}

static uint64_t access_qual(enum access a)
{
	return a == READ ? QUAL_READ : a == WRITE ? QUAL_WRITE : QUAL_FETCH;
}

/* The access went through: read gave the data, write stored, fetch reached the VMCALL. */
static void expect_completed(const char *name, enum access a, uint32_t reason)
{
	bool ok = reason == VMX_EXIT_VMCALL;

	if (ok && a == READ)
		ok = vcpu->regs.rax == DATA_VALUE;
	if (ok && a == WRITE)
		ok = *(uint64_t *)(data + DATA_OFF) == WRITE_VALUE;
	if (ok && a == FETCH)
		ok = vmcs_read(VMCS_GUEST_RIP) == TEST_GVA + CODE_OFF;
	check_msg(ok, name, "%s should complete: exit %u (%s), rax %#lx, rip %#lx",
		  access_names[a], reason, vmx_exit_name(reason) ?: "?", vcpu->regs.rax,
		  vmcs_read(VMCS_GUEST_RIP));
}

/*
 * An EPT violation (reason 48) whose qualification has the access bits
 * @acc, permissions @perm (bits 2:0 of the AND over the walk), a valid
 * guest-linear address @gla and bit 8 = @transl; GPA field @gpa.
 */
static void expect_violation_but(const char *name, uint32_t reason, uint64_t acc, uint64_t perm,
				 bool transl, uint64_t gpa, uint64_t gla, uint64_t unchecked)
{
	uint64_t want = acc | (perm << QUAL_PERM_SHIFT) | QUAL_GLA_VALID | (transl ? QUAL_TRANSL : 0);
	uint64_t qual, mask = QUAL_CHECKED & ~unchecked;

	report_prefix_push("%s", name);
	if (!check_msg(reason == VMX_EXIT_EPT_VIOLATION, "reason",
		       "expected EPT violation (48), got %u (%s)", reason,
		       vmx_exit_name(reason) ?: "?")) {
		report_prefix_pop();
		return;
	}
	qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_msg((qual & mask) == (want & mask), "qual",
		  "exit qualification %#lx, expected %#lx under mask %#lx (Table 28-7)", qual,
		  want & mask, mask);
	check_eq("gpa", vmcs_read(VMCS_GUEST_PHYSICAL_ADDR), gpa);
	check_eq("gla", vmcs_read(VMCS_GUEST_LINEAR_ADDR), gla);
	report_prefix_pop();
}

static void expect_violation(const char *name, uint32_t reason, uint64_t acc, uint64_t perm,
			     bool transl, uint64_t gpa, uint64_t gla)
{
	expect_violation_but(name, reason, acc, perm, transl, gpa, gla, 0);
}

/* ------------------------------------------------------------ violations by level */

/*
 * The entry at @level of the data page's alias walk loses permissions:
 * KIND not_present (no R/W/X: every access violates, permissions 000),
 * read_only (R|X: writes violate, reads complete), no_exec (R|W: fetches
 * violate, reads complete).  SDM Vol. 3C 29.3.3.2: an access violates when
 * any entry of the walk lacks its permission; the qualification's bits 5:3
 * are the AND of the entries' bits 2:0.
 */
static void violation_case(unsigned level, const char *kind, uint64_t rwx)
{
	for (enum access a = READ; a <= FETCH; a++) {
		char name[48];
		uint32_t reason;
		bool allowed = (a == READ && (rwx & EPT_R)) || (a == WRITE && (rwx & EPT_W)) ||
			       (a == FETCH && (rwx & EPT_X));

		/* Each kind checks the accesses it takes away, plus a read that must pass. */
		if (rwx && a != READ && allowed)
			continue;
		snprintf(name, sizeof(name), "%s.%s", kind, access_names[a]);
		alias_reset(PAGE_SIZE, EPT_LEAF_WB);
		ept_set_perms(ept_lookup(&ept, alias(data), level), rwx);
		reason = run_access(a, access_gva(a), false);
		if (allowed)
			expect_completed(name, a, reason);
		else
			expect_violation(name, reason, access_qual(a), rwx, true,
					 alias(data) + (a == FETCH ? CODE_OFF : DATA_OFF), access_gva(a));
	}
}

static void check_level(unsigned level)
{
	if (!need_ept())
		return;
	violation_case(level, "not_present", 0);
	violation_case(level, "read_only", EPT_R | EPT_X);
	violation_case(level, "no_exec", EPT_R | EPT_W);
}

static void check_pml4e(void) { check_level(4); }
static void check_pdpte(void) { check_level(3); }
static void check_pde(void) { check_level(2); }
static void check_pte(void) { check_level(1); }

/* ------------------------------------------------------------ L2's own page walk */

/*
 * L2's page table lives at an alias GPA whose EPT walk is broken at @level:
 * the walk's read of the PTE is the access that violates (bit 8 = 0, "an
 * access to a paging-structure entry"), the GPA is that PTE's, the linear
 * address the one L2 translated (SDM Vol. 3C 28.2.1, Table 28-7).
 */
static void walk_case(unsigned level)
{
	uint32_t reason;
	char name[32];

	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	ept_set_perms(ept_lookup(&ept, alias(l2pt), level), 0);
	reason = run_access(READ, access_gva(READ), false);
	snprintf(name, sizeof(name), "%s", level_names[level]);
	expect_violation(name, reason, QUAL_READ, 0, false, alias(l2pte), access_gva(READ));
}

static void check_walk(void)
{
	if (!need_ept())
		return;
	for (unsigned level = 4; level >= 1; level--)
		walk_case(level);
}

/* ------------------------------------------------------------ execute-only */

/*
 * EPT_VPID_CAP[0]: an entry with X alone is execute-only (29.3.2): a fetch
 * completes, a read violates with permissions 100b.
 */
static void check_exec_only(void)
{
	uint32_t reason;

	if (!need_ept() || !cap_or_skip("", VMX_EPT_EXEC_ONLY, "execute-only EPT"))
		return;
	alias_reset(PAGE_SIZE, EPT_X | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	reason = run_access(FETCH, access_gva(FETCH), false);
	expect_completed("fetch", FETCH, reason);
	alias_reset(PAGE_SIZE, EPT_X | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	reason = run_access(READ, access_gva(READ), false);
	expect_violation("read", reason, QUAL_READ, EPT_X, true, alias(data) + DATA_OFF,
			 access_gva(READ));
	alias_reset(PAGE_SIZE, EPT_X | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	reason = run_access(WRITE, access_gva(WRITE), false);
	expect_violation("write", reason, QUAL_WRITE, EPT_X, true, alias(data) + DATA_OFF,
			 access_gva(WRITE));
	/* A non-leaf entry with X alone: the AND over the walk is X alone too. */
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	ept_set_perms(ept_lookup(&ept, alias(data), 2), EPT_X);
	reason = run_access(READ, access_gva(READ), false);
	expect_violation("pde_read", reason, QUAL_READ, EPT_X, true, alias(data) + DATA_OFF,
			 access_gva(READ));
}

/*
 * Mode-based execute control (secondary control 22): bit 2 of an entry is
 * supervisor-mode execute, bit 10 user-mode execute, and qualification bit 6
 * is the AND of bits 10 (Table 28-7).
 */
static void check_mbec(void)
{
	uint32_t reason;
	uint64_t qual;

	if (!need_ept() || !vmx_require("", VMX_CTLS_PROC2, PROC2_MBEC))
		return;
	alias_reset(PAGE_SIZE, EPT_R | EPT_X | EPT_UX | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	/* Bit 10 is a permission of every entry of the walk. */
	for (unsigned level = 4; level >= 2; level--)
		*ept_lookup(&ept, alias(data), level) |= EPT_UX;
	prepare(l2_write, false);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, PROC2_MBEC, 0);
	vcpu->regs.rdi = access_gva(WRITE);
	reason = vmx_run(vcpu);
	if (!check_msg(reason == VMX_EXIT_EPT_VIOLATION, "reason", "got exit %u", reason))
		return;
	qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_msg((qual & 0x1ff) == (QUAL_WRITE | QUAL_UEXEC | QUAL_GLA_VALID | QUAL_TRANSL |
				     ((uint64_t)(EPT_R | EPT_X) << QUAL_PERM_SHIFT)),
		  "qual", "qualification %#lx: expected R, supervisor X (bit 5), user X (bit 6)", qual);
}

/* ------------------------------------------------------------ large leaves */

/*
 * The data page's alias inside a 2 MiB or 1 GiB leaf (29.3.2, Tables 29-2,
 * 29-4): reads and writes complete through it; a read-only large leaf makes
 * a write violate with the exact GPA and permissions R|X.
 */
static void large_leaf(uint64_t size)
{
	uint32_t reason;

	alias_reset(size, EPT_LEAF_WB);
	reason = run_access(READ, access_gva(READ), false);
	expect_completed("read", READ, reason);
	alias_reset(size, EPT_LEAF_WB);
	reason = run_access(WRITE, access_gva(WRITE), false);
	expect_completed("write", WRITE, reason);
	alias_reset(size, EPT_LEAF_WB);
	reason = run_access(FETCH, access_gva(FETCH), false);
	expect_completed("fetch", FETCH, reason);
	alias_reset(size, EPT_R | EPT_X | ((uint64_t)EPT_MT_WB << EPT_MT_SHIFT));
	reason = run_access(WRITE, access_gva(WRITE), false);
	expect_violation("read_only.write", reason, QUAL_WRITE, EPT_R | EPT_X, true,
			 alias(data) + DATA_OFF, access_gva(WRITE));
	alias_reset(size, 0);
	reason = run_access(READ, access_gva(READ), false);
	expect_violation("not_present.read", reason, QUAL_READ, 0, true, alias(data) + DATA_OFF,
			 access_gva(READ));
}

static void check_leaf2m(void)
{
	if (need_ept() && cap_or_skip("", VMX_EPT_2M, "2 MiB EPT pages"))
		large_leaf(pt_level_size(2));
}

static void check_leaf1g(void)
{
	if (need_ept() && cap_or_skip("", VMX_EPT_1G, "1 GiB EPT pages"))
		large_leaf(pt_level_size(3));
}

/* ------------------------------------------------------------ misconfigurations */

/*
 * An EPT misconfiguration (reason 49, SDM Vol. 3C 29.3.3.1) with the GPA of
 * the access in the guest-physical address field (28.2.1), after the entry at
 * @level of the data page's alias walk (leaves of @size) gets the bits @set
 * in place of @clear.
 */
static void misconfig_case(const char *name, uint64_t size, unsigned level, uint64_t set,
			   uint64_t clear)
{
	uint64_t *e;
	uint32_t reason;

	alias_reset(size, EPT_LEAF_WB);
	e = ept_lookup(&ept, alias(data), level);
	if (!e) {
		test_error(name, "no EPT entry at level %u", level);
		return;
	}
	*e = (*e & ~clear) | set;
	reason = run_access(READ, access_gva(READ), false);
	report_prefix_push("%s", name);
	if (check_msg(reason == VMX_EXIT_EPT_MISCONFIG, "reason",
		      "expected EPT misconfiguration (49), got %u (%s)", reason,
		      vmx_exit_name(reason) ?: "?"))
		check_eq("gpa", vmcs_read(VMCS_GUEST_PHYSICAL_ADDR), alias(data) + DATA_OFF);
	report_prefix_pop();
}

static void check_misconfig_rsvd(void)
{
	unsigned maxphy = vmx_maxphyaddr();
	char name[48];

	if (!need_ept())
		return;
	/* Bits 51:MAXPHYADDR of any entry (29.3.2). */
	for (unsigned level = 4; level >= 1; level--) {
		snprintf(name, sizeof(name), "%s.maxphyaddr", level_names[level]);
		if (maxphy >= 52)
			skip(name, "MAXPHYADDR is 52: no bit above it");
		else
			misconfig_case(name, PAGE_SIZE, level, BIT(maxphy), 0);
		snprintf(name, sizeof(name), "%s.bit51", level_names[level]);
		if (maxphy >= 52)
			skip(name, "MAXPHYADDR is 52");
		else
			misconfig_case(name, PAGE_SIZE, level, BIT(51), 0);
	}
	/* PML4E: bits 7:3 reserved (Table 29-1). */
	misconfig_case("pml4e.bit7", PAGE_SIZE, 4, BIT(7), 0);
	misconfig_case("pml4e.bit3", PAGE_SIZE, 4, BIT(3), 0);
	misconfig_case("pml4e.bit6", PAGE_SIZE, 4, BIT(6), 0);
	/* Entries that reference a table: bits 6:3 reserved (Tables 29-3, 29-5). */
	misconfig_case("pdpte.bit3", PAGE_SIZE, 3, BIT(3), 0);
	misconfig_case("pdpte.bit6", PAGE_SIZE, 3, BIT(6), 0);
	misconfig_case("pde.bit3", PAGE_SIZE, 2, BIT(3), 0);
	misconfig_case("pde.bit5", PAGE_SIZE, 2, BIT(5), 0);
	/* Large leaves: bits 29:12 (1 GiB) and 20:12 (2 MiB) reserved (Tables 29-2, 29-4). */
	for (unsigned b = 12; b <= 29; b += 17) {
		snprintf(name, sizeof(name), "leaf1g.bit%u", b);
		if (ept_cap & VMX_EPT_1G)
			misconfig_case(name, pt_level_size(3), 3, BIT(b), 0);
		else
			skip(name, "no 1 GiB EPT pages (IA32_VMX_EPT_VPID_CAP[17])");
	}
	for (unsigned b = 12; b <= 20; b += 8) {
		snprintf(name, sizeof(name), "leaf2m.bit%u", b);
		if (ept_cap & VMX_EPT_2M)
			misconfig_case(name, pt_level_size(2), 2, BIT(b), 0);
		else
			skip(name, "no 2 MiB EPT pages (IA32_VMX_EPT_VPID_CAP[16])");
	}
	/* A PDPTE with bit 7 set is reserved when 1 GiB pages are not supported. */
	if (ept_cap & VMX_EPT_1G)
		skip("pdpte.large_unsupported", "the processor has 1 GiB EPT pages");
	else
		misconfig_case("pdpte.large_unsupported", PAGE_SIZE, 3, EPT_LARGE, 0);
}

/* Bits 2:0: write without read, and execute-only where it is not supported (29.3.3.1). */
static void check_misconfig_perms(void)
{
	char name[48];

	if (!need_ept())
		return;
	for (unsigned level = 4; level >= 1; level--) {
		snprintf(name, sizeof(name), "%s.write_only", level_names[level]);
		misconfig_case(name, PAGE_SIZE, level, EPT_W, EPT_RWX);
		snprintf(name, sizeof(name), "%s.write_exec", level_names[level]);
		misconfig_case(name, PAGE_SIZE, level, EPT_W | EPT_X, EPT_RWX);
		snprintf(name, sizeof(name), "%s.exec_only", level_names[level]);
		if (ept_cap & VMX_EPT_EXEC_ONLY)
			skip(name, "execute-only is supported (IA32_VMX_EPT_VPID_CAP[0])");
		else
			misconfig_case(name, PAGE_SIZE, level, EPT_X, EPT_RWX);
	}
}

/* A leaf's memory type 2, 3 or 7 is reserved (29.3.3.1; Table 29-6 bits 5:3). */
static void check_misconfig_memtype(void)
{
	static const unsigned types[] = { EPT_MT_RSVD2, EPT_MT_RSVD3, EPT_MT_RSVD7 };
	char name[32];

	if (!need_ept())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		snprintf(name, sizeof(name), "pte.memtype%u", types[i]);
		misconfig_case(name, PAGE_SIZE, 1, (uint64_t)types[i] << EPT_MT_SHIFT, EPT_MT_MASK);
	}
	if (ept_cap & VMX_EPT_2M)
		misconfig_case("leaf2m.memtype7", pt_level_size(2), 2,
			       (uint64_t)EPT_MT_RSVD7 << EPT_MT_SHIFT, EPT_MT_MASK);
	else
		skip("leaf2m.memtype7", "no 2 MiB EPT pages (IA32_VMX_EPT_VPID_CAP[16])");
	if (ept_cap & VMX_EPT_1G)
		misconfig_case("leaf1g.memtype2", pt_level_size(3), 3,
			       (uint64_t)EPT_MT_RSVD2 << EPT_MT_SHIFT, EPT_MT_MASK);
	else
		skip("leaf1g.memtype2", "no 1 GiB EPT pages (IA32_VMX_EPT_VPID_CAP[17])");
	/* The valid types (0 UC, 1 WC, 4 WT, 5 WP, 6 WB) translate: a read completes. */
	alias_reset(PAGE_SIZE, EPT_RWX | (4ull << EPT_MT_SHIFT));
	expect_completed("pte.memtype4_valid", READ, run_access(READ, access_gva(READ), false));
}

/* ------------------------------------------------------------ accessed and dirty */

static bool need_ad(void)
{
	return need_ept() && cap_or_skip("", VMX_EPT_AD, "EPT accessed and dirty flags");
}

static uint64_t *alias_entry(const void *p, unsigned level)
{
	return ept_lookup(&ept, alias(p), level);
}

static void clear_ad(const void *p)
{
	for (unsigned level = 4; level >= 1; level--)
		*alias_entry(p, level) &= ~(EPT_A | EPT_D);
}

/*
 * With EPTP[6] (29.3.5): each EPT entry used by an access gets its accessed
 * flag; a read leaves the leaf's dirty flag clear, a write sets it.
 */
static void check_ad_read(void)
{
	char name[32];
	uint32_t reason;

	if (!need_ad())
		return;
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	clear_ad(data);
	reason = run_access(READ, access_gva(READ), true);
	expect_completed("completes", READ, reason);
	for (unsigned level = 4; level >= 1; level--) {
		snprintf(name, sizeof(name), "accessed.%s", level_names[level]);
		check_msg(*alias_entry(data, level) & EPT_A, name, "entry %#lx: accessed flag clear",
			  *alias_entry(data, level));
	}
	check_msg(!(*alias_entry(data, 1) & EPT_D), "leaf_not_dirty", "leaf %#lx: dirty after a read",
		  *alias_entry(data, 1));
}

static void check_ad_write(void)
{
	uint32_t reason;

	if (!need_ad())
		return;
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	clear_ad(data);
	reason = run_access(WRITE, access_gva(WRITE), true);
	expect_completed("completes", WRITE, reason);
	check_msg(*alias_entry(data, 1) & EPT_D, "leaf_dirty", "leaf %#lx: dirty flag clear after a write",
		  *alias_entry(data, 1));
	check_msg(*alias_entry(data, 1) & EPT_A, "leaf_accessed", "leaf %#lx", *alias_entry(data, 1));
	/* Dirty is a leaf flag only: bit 9 of a non-leaf entry is ignored, never set. */
	check_msg(!(*alias_entry(data, 2) & EPT_D), "pde_not_dirty", "pde %#lx",
		  *alias_entry(data, 2));
}

/*
 * 29.3.3.2: with EPT A/D enabled, the processor's accesses to guest
 * paging-structure entries are writes for EPT.  L2's PTE (at its alias GPA)
 * is read by the walk: the EPT leaf that maps it becomes dirty; when that
 * leaf is read-only the walk violates with both bits 0 and 1 (Table 28-7).
 */
static void check_ad_walk(void)
{
	uint32_t reason;
	uint64_t want_gpa = alias(l2pte);

	if (!need_ad())
		return;
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	clear_ad(l2pt);
	reason = run_access(READ, access_gva(READ), true);
	expect_completed("completes", READ, reason);
	check_msg(*alias_entry(l2pt, 1) & EPT_D, "walk_dirty",
		  "EPT leaf of L2's page table %#lx: a walk with A/D enabled is a write",
		  *alias_entry(l2pt, 1));
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	ept_set_perms(alias_entry(l2pt, 1), EPT_R | EPT_X);
	reason = run_access(READ, access_gva(READ), true);
	expect_violation("walk_read_only", reason, QUAL_READ | QUAL_WRITE, EPT_R | EPT_X, false,
			 want_gpa, access_gva(READ));
	/* Without A/D in the EPTP the same walk only reads: it completes. */
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	ept_set_perms(alias_entry(l2pt, 1), EPT_R | EPT_X);
	reason = run_access(READ, access_gva(READ), false);
	expect_completed("walk_read_only_no_ad", READ, reason);
}

/*
 * L2's walk sets the accessed flag of its PTE (SDM Vol. 3A 4.8), a write to
 * that paging-structure entry also without EPT A/D flags (SDM Vol. 3C
 * 29.3.3.2): with the EPT leaf of L2's page table read-only (R|X), the A
 * update violates with bit 1 (write) and bit 8 = 0, at the PTE's GPA (28.2.1,
 * Table 28-7; bit 0 may also be set for the read half and is not checked).
 * First the same walk with a writable leaf, which completes and sets A.
 */
static void check_walk_accessed(void)
{
	uint32_t reason;

	if (!need_ept())
		return;
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	*l2pte &= ~PTE_A;
	reason = run_access(READ, access_gva(READ), false);
	expect_completed("writable", READ, reason);
	check_msg(*l2pte & PTE_A, "writable.accessed",
		  "L2's PTE %#lx: A clear after a read through it", *l2pte);

	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	walk_via_alias(true);
	*l2pte &= ~PTE_A;
	ept_set_perms(alias_entry(l2pt, 1), EPT_R | EPT_X);
	reason = run_access(READ, access_gva(READ), false);
	expect_violation_but("read_only", reason, QUAL_WRITE, EPT_R | EPT_X, false, alias(l2pte),
			     access_gva(READ), QUAL_READ);
	check_msg(!(*l2pte & PTE_A), "read_only.unchanged",
		  "L2's PTE %#lx: A set through a read-only EPT mapping", *l2pte);
}

/* EPTP[6] clear: the processor sets no EPT flag (29.3.5). */
static void check_ad_disabled(void)
{
	uint32_t reason;
	bool touched = false;

	if (!need_ad())
		return;
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	clear_ad(data);
	reason = run_access(WRITE, access_gva(WRITE), false);
	expect_completed("completes", WRITE, reason);
	for (unsigned level = 4; level >= 1; level--)
		touched |= !!(*alias_entry(data, level) & (EPT_A | EPT_D));
	check_msg(!touched, "untouched", "an A or D flag was set with EPTP[6] = 0 (leaf %#lx)",
		  *alias_entry(data, 1));
}

/* ------------------------------------------------------------ page-modification logging */

/*
 * PML (SDM Vol. 3C 29.3.6): with EPT A/D flags and "enable PML", a write that
 * sets a dirty flag that was clear first logs the guest-physical address of
 * the page (bits 11:0 clear) at the PML address + 8 * PML index and
 * decrements the index; with the index outside 0-511 the write is not done
 * and a page-modification log-full event exits with reason 62.  No other
 * access logs: a write to a page already dirty, a read.
 */
static uint64_t *pml_log;

/* A log entry is the page's address: say whether a wrong one names the page and what 11:0 hold. */
static void check_pml_entry(const char *name, uint64_t logged, uint64_t page)
{
	check_msg(logged == page, name, "logged %#lx (%s page, bits 11:0 %#lx): expected the page "
		  "address %#lx", logged, (logged & ~0xfffull) == page ? "the right" : "another",
		  logged & 0xfff, page);
}

static uint32_t run_pml(enum access a, uint16_t index)
{
	static void *const code[] = { l2_read, l2_write, l2_exec };

	prepare(code[a], true);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_PML, 0);
	vmcs_write(VMCS_PML_ADDRESS, (uint64_t)pml_log);
	vmcs_write(VMCS_GUEST_PML_INDEX, index);
	vcpu->regs.rdi = access_gva(a);
	vcpu->regs.rsi = WRITE_VALUE;
	return vmx_run(vcpu);
}

static uint64_t pml_index(void)
{
	return vmcs_read(VMCS_GUEST_PML_INDEX);
}

static void check_pml(void)
{
	uint64_t page = alias(data);
	uint32_t reason;

	if (!need_ad() || !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_PML))
		return;
	if (!pml_log)
		pml_log = alloc_page();
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	/* A first run dirties every page L2 touches besides the data page. */
	run_pml(WRITE, 511);

	memset(pml_log, 0, PAGE_SIZE);
	clear_ad(data);
	reason = run_pml(WRITE, 511);
	expect_completed("first_write.completes", WRITE, reason);
	check_eq("first_write.index", pml_index(), 510);
	check_pml_entry("first_write.gpa", pml_log[511], page);

	reason = run_pml(WRITE, 510);
	expect_completed("dirty_write.completes", WRITE, reason);
	check_eq("dirty_write.index", pml_index(), 510);

	clear_ad(data);
	*(uint64_t *)(data + DATA_OFF) = DATA_VALUE;
	reason = run_pml(READ, 510);
	expect_completed("read.completes", READ, reason);
	check_eq("read.index", pml_index(), 510);

	/* Index 0 logs into entry 0, and the index wraps to FFFFH. */
	clear_ad(data);
	reason = run_pml(WRITE, 0);
	expect_completed("last_entry.completes", WRITE, reason);
	check_pml_entry("last_entry.gpa", pml_log[0], page);
	check_eq("last_entry.index", pml_index(), 0xffff);

	/* A read with the index out of range logs nothing, so it is no log-full event. */
	clear_ad(data);
	*(uint64_t *)(data + DATA_OFF) = DATA_VALUE;
	reason = run_pml(READ, 0xffff);
	expect_completed("full.read_completes", READ, reason);

	clear_ad(data);
	*(uint64_t *)(data + DATA_OFF) = DATA_VALUE;
	reason = run_pml(WRITE, 0xffff);
	if (!check_msg(reason == VMX_EXIT_PML_FULL, "full.exit",
		       "write with PML index FFFFH: expected exit 62 (page-modification log full), "
		       "got %u (%s)", reason, vmx_exit_name(reason) ?: "?"))
		return;
	check_eq("full.qual", vmcs_read(VMCS_EXIT_QUALIFICATION), 0);
	check_eq("full.rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_write);
	check_eq("full.no_write", *(uint64_t *)(data + DATA_OFF), DATA_VALUE);
	check_msg(!(*alias_entry(data, 1) & EPT_D), "full.not_dirty",
		  "leaf %#lx: dirty flag set by a write that did not happen", *alias_entry(data, 1));
}

/* ------------------------------------------------------------ EPTP switching */

/*
 * VM function 0 (SDM Vol. 3C 26.5.6.3): VMFUNC with EAX = 0 and ECX < 512
 * loads entry ECX of the EPTP list into the EPT pointer when that entry is a
 * valid EPTP; an index of 512 or more, or an invalid entry, exits with reason
 * 59 (VMFUNC) and leaves the EPTP alone.  Entry 1's EPT maps the data page's
 * alias to another page, so the read after VMFUNC shows which EPT it used.
 */
VMX_L2_CODE(l2_vmfunc_read, "xor %eax, %eax\n vmfunc\n mov (%rdi), %rax");

static struct pagetable ept_other;
static uint64_t *eptp_list;
#define OTHER_VALUE	0x0123456789abcdefull

static uint32_t run_vmfunc(uint64_t index)
{
	prepare(l2_vmfunc_read, false);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_VMFUNC, 0);
	vmcs_write(VMCS_VMFUNC_CONTROLS, BIT(0));
	vmcs_write(VMCS_EPTP_LIST_ADDR, (uint64_t)eptp_list);
	vcpu->regs.rcx = index;
	vcpu->regs.rdi = access_gva(READ);
	vcpu->regs.rax = 0;
	return vmx_run(vcpu);
}

static void check_vmfunc_eptp_switch(void)
{
	uint8_t *other;
	uint32_t reason;
	uint64_t first = eptp_of(&ept, false);

	if (!need_ept() || !vmx_require("", VMX_CTLS_PROC2, VMX_PROC2_VMFUNC))
		return;
	if (!(rdmsr(MSR_IA32_VMX_VMFUNC) & BIT(0))) {
		skip("", "no EPTP switching (IA32_VMX_VMFUNC[0])");
		return;
	}
	if (!eptp_list) {
		eptp_list = alloc_page();
		other = alloc_page();
		*(uint64_t *)(other + DATA_OFF) = OTHER_VALUE;
		ept_other = ept_create_identity(ept_largest_page());
		ept_map(&ept_other, ALIAS + ALIGN_DOWN((uint64_t)l2pt, PAGE_SIZE),
			ALIGN_DOWN((uint64_t)l2pt, PAGE_SIZE), PAGE_SIZE, PAGE_SIZE, EPT_LEAF_WB);
		ept_map(&ept_other, alias(data), (uint64_t)other, PAGE_SIZE, PAGE_SIZE, EPT_LEAF_WB);
	}
	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	memset(eptp_list, 0, PAGE_SIZE);
	eptp_list[0] = first;
	eptp_list[1] = eptp_of(&ept_other, false);
	flush(&ept_other, false);

	/* Entry 0 is the current EPTP: the read sees the data page. */
	reason = run_vmfunc(0);
	check_msg(reason == VMX_EXIT_VMCALL && vcpu->regs.rax == DATA_VALUE, "index0.same_ept",
		  "VMFUNC(0, 0) then a read: exit %u (%s), rax %#lx, expected VMCALL and %#llx",
		  reason, vmx_exit_name(reason) ?: "?", vcpu->regs.rax, DATA_VALUE);

	reason = run_vmfunc(1);
	check_msg(reason == VMX_EXIT_VMCALL && vcpu->regs.rax == OTHER_VALUE, "index1.switched",
		  "VMFUNC(0, 1) then a read: exit %u (%s), rax %#lx, expected VMCALL and %#llx "
		  "(the page of entry 1's EPT)", reason, vmx_exit_name(reason) ?: "?",
		  vcpu->regs.rax, OTHER_VALUE);
	check_eq("index1.eptp", vmcs_read(VMCS_EPT_POINTER), eptp_list[1]);
	/* The EPTP-index field exists where "EPT-violation #VE" does (25.6.20). */
	if (vmx_ctls_allowed(VMX_CTLS_PROC2).may_be_1 & VMX_PROC2_EPT_VE)
		check_eq("index1.eptp_index", vmcs_read(VMCS_EPTP_INDEX), 1);
	else
		skip("index1.eptp_index", "no EPTP-index field (IA32_VMX_PROCBASED_CTLS2[50], EPT-violation #VE)");

	reason = run_vmfunc(512);
	check_msg(reason == VMX_EXIT_VMFUNC, "index512.exit",
		  "VMFUNC(0, 512): expected exit 59 (VMFUNC), got %u (%s)", reason,
		  vmx_exit_name(reason) ?: "?");
	check_eq("index512.rip", vmcs_read(VMCS_GUEST_RIP), (uint64_t)l2_vmfunc_read + 2);
	check_eq("index512.eptp", vmcs_read(VMCS_EPT_POINTER), first);

	/* Entry 2 is 0: a memory type of UC is fine, a walk length of 1 is not a valid EPTP. */
	reason = run_vmfunc(2);
	check_msg(reason == VMX_EXIT_VMFUNC, "invalid_entry.exit",
		  "VMFUNC(0, 2) with list entry 0: expected exit 59 (VMFUNC), got %u (%s)", reason,
		  vmx_exit_name(reason) ?: "?");
	check_eq("invalid_entry.eptp", vmcs_read(VMCS_EPT_POINTER), first);
}

/* ------------------------------------------------------------ INVEPT */

static char rbuf[96];
#define RES(r) vmx_result_str(&(r), rbuf, sizeof(rbuf))

/* INVEPT types 1 (single-context) and 2 (all-context) succeed when supported (31.3 INVEPT). */
static void check_invept_types(void)
{
	struct vmx_result r;

	if (!need_ept())
		return;
	if (ept_cap & VMX_EPT_INVEPT_SINGLE) {
		r = invept_checked(1, eptp_of(&ept, false), 0);
		check_msg(r.outcome == VMX_SUCCEED, "single", "INVEPT type 1: %s", RES(r));
	} else {
		r = invept_checked(1, eptp_of(&ept, false), 0);
		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "single",
			  "type 1 unsupported (EPT_VPID_CAP[25] = 0): expected VMfailValid(28), got %s",
			  RES(r));
	}
	if (ept_cap & VMX_EPT_INVEPT_ALL) {
		r = invept_checked(2, 0, 0);
		check_msg(r.outcome == VMX_SUCCEED, "all", "INVEPT type 2: %s", RES(r));
	} else {
		r = invept_checked(2, 0, 0);
		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "all",
			  "type 2 unsupported (EPT_VPID_CAP[26] = 0): expected VMfailValid(28), got %s",
			  RES(r));
	}
}

/* Types 0 and 3 and above are never INVEPT types: VMfailValid(28). */
static void check_invept_bad_type(void)
{
	static const uint64_t types[] = { 0, 3, 4, 0x80000001ull };
	static const char *const names[] = { "type0", "type3", "type4", "type_high" };

	if (!need_ept())
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		struct vmx_result r = invept_checked(types[i], eptp_of(&ept, false), 0);

		check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), names[i],
			  "INVEPT type %#lx: expected VMfailValid(28), got %s", types[i], RES(r));
	}
}

/*
 * Single-context INVEPT with an EPTP that VM entry would reject (a walk
 * length of 2, bits 5:3 = 1; a reserved memory type): VMfailValid(28).
 */
static void check_invept_bad_eptp(void)
{
	uint64_t good;
	struct vmx_result r;

	if (!need_ept() || !cap_or_skip("", VMX_EPT_INVEPT_SINGLE, "single-context INVEPT"))
		return;
	good = eptp_of(&ept, false);
	r = invept_checked(1, (good & ~0x38ull) | (1 << 3), 0);
	check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "walk_length",
		  "EPTP walk length 2: expected VMfailValid(28), got %s", RES(r));
	r = invept_checked(1, (good & ~7ull) | 2, 0);
	check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "memtype",
		  "EPTP memory type 2: expected VMfailValid(28), got %s", RES(r));
	r = invept_checked(1, good | BIT(vmx_maxphyaddr()), 0);
	check_msg(vmx_failed_with(&r, VMXERR_INVALID_INVEPT_INVVPID), "maxphyaddr",
		  "EPTP above MAXPHYADDR: expected VMfailValid(28), got %s", RES(r));
}

/*
 * A permission taken away is seen after INVEPT (29.4.3.1): L2 writes once
 * (the translation may be cached), L1 makes the leaf read-only and
 * invalidates, L2's next write violates.
 */
static void invept_change(uint64_t type)
{
	uint64_t eptp = eptp_of(&ept, false);
	struct vmx_result r;
	uint32_t reason;

	alias_reset(PAGE_SIZE, EPT_LEAF_WB);
	reason = run_access(WRITE, access_gva(WRITE), false);
	expect_completed("first_write", WRITE, reason);
	/* Same VMCS, resumed at the write: VMRESUME keeps what the TLB holds. */
	ept_set_perms(alias_entry(data, 1), EPT_R | EPT_X);
	r = invept_checked(type, type == 1 ? eptp : 0, 0);
	if (r.outcome != VMX_SUCCEED) {
		test_error("", "INVEPT type %lu: %s", type, RES(r));
		return;
	}
	vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_write);
	reason = vmx_run(vcpu);
	expect_violation("second_write", reason, QUAL_WRITE, EPT_R | EPT_X, true,
			 alias(data) + DATA_OFF, access_gva(WRITE));
}

static void check_invept_single_change(void)
{
	if (need_ept() && cap_or_skip("", VMX_EPT_INVEPT_SINGLE, "single-context INVEPT"))
		invept_change(1);
}

static void check_invept_all_change(void)
{
	if (need_ept() && cap_or_skip("", VMX_EPT_INVEPT_ALL, "all-context INVEPT"))
		invept_change(2);
}

/* ------------------------------------------------------------ lazy population */

#define LAZY_PAGES	6
#define LAZY_MAX_FAULTS	64
#define MMIO_HOLE	0xfeb00000ull		/* below 4 GiB, never RAM, L1 never maps it */
#define HOLE_REPEAT	3

/*
 * L2: sums every qword of LAZY_PAGES pages (rdi = array of their addresses,
 * rcx = count), then reads the MMIO hole (rsi) once; L1 moves RIP past that
 * read after seeing it fault HOLE_REPEAT times.
 */
asm(".pushsection .text\n"
    ".globl l2_lazy\n"
    "l2_lazy:\n"
    "	xor %rax, %rax\n"
    "1:	mov (%rdi), %rdx\n"
    "	xor %r8, %r8\n"
    "2:	add (%rdx,%r8,8), %rax\n"
    "	inc %r8\n"
    "	cmp $512, %r8\n"
    "	jne 2b\n"
    "	add $8, %rdi\n"
    "	dec %rcx\n"
    "	jnz 1b\n"
    "	mov %rax, %rbx\n"
    ".globl l2_lazy_hole\n"
    "l2_lazy_hole:\n"
    "	mov (%rsi), %rax\n"
    ".globl l2_lazy_after\n"
    "l2_lazy_after:\n"
    "	vmcall\n"
    "	ud2\n"
    ".popsection\n");
extern char l2_lazy[], l2_lazy_hole[], l2_lazy_after[];

static bool in_ram(uint64_t pa)
{
	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		if (pa >= bootinfo.ram[i].start && pa < bootinfo.ram[i].end)
			return true;
	return false;
}

/*
 * An EPT that starts empty: L1 maps each page on its first violation (the
 * exit names the GPA, 28.2.1) and resumes; L2 then completes with the data
 * L1 wrote.  Each faulting page must be reported once: after L1 maps a page
 * (not-present -> present needs no invalidation, 29.4.3.3) the access
 * completes.  The MMIO hole stays unmapped and faults each time.
 */
static void check_lazy(void)
{
	static uint64_t faults[LAZY_MAX_FAULTS];
	uint64_t *pages[LAZY_PAGES], *list = alloc_page();
	struct pagetable lazy = ept_create();
	unsigned nfaults = 0, hole_hits = 0, data_hits = 0, dup = 0;
	uint64_t want = 0, hole_qual = 0, hole_gla = 0, dup_gpa = 0;
	bool bad_hole = false, bad_data_gpa = false, other_exit = false;
	uint32_t reason;

	if (!need_ept())
		return;
	for (unsigned i = 0; i < LAZY_PAGES; i++) {
		pages[i] = alloc_page();
		for (unsigned j = 0; j < 512; j++) {
			pages[i][j] = ((uint64_t)i << 40) ^ (j * 0x9e3779b97f4a7c15ull);
			want += pages[i][j];
		}
		list[i] = (uint64_t)pages[i];
	}
	vmx_vcpu_reset(vcpu, l2_lazy);
	vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC2, VMX_PROC2_EPT, 0);
	vmcs_write(VMCS_EPT_POINTER, ept_eptp(&lazy, false));
	ept_invalidate(ept_eptp(&lazy, false));
	vcpu->regs.rdi = (uint64_t)list;
	vcpu->regs.rcx = LAZY_PAGES;
	vcpu->regs.rsi = MMIO_HOLE;
	for (;;) {
		uint64_t gpa, page;

		reason = vmx_run(vcpu);
		if (reason != VMX_EXIT_EPT_VIOLATION)
			break;
		gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDR);
		page = ALIGN_DOWN(gpa, PAGE_SIZE);
		if (page == MMIO_HOLE) {
			if (vmcs_read(VMCS_GUEST_RIP) != (uint64_t)l2_lazy_hole || gpa != MMIO_HOLE)
				bad_hole = true;
			hole_qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
			hole_gla = vmcs_read(VMCS_GUEST_LINEAR_ADDR);
			if (++hole_hits == HOLE_REPEAT)
				vmcs_write(VMCS_GUEST_RIP, (uint64_t)l2_lazy_after);
			continue;
		}
		if (!in_ram(page) || nfaults == LAZY_MAX_FAULTS) {
			other_exit = true;
			break;
		}
		for (unsigned i = 0; i < nfaults; i++)
			if (faults[i] == page) {
				dup++;
				dup_gpa = gpa;
			}
		faults[nfaults++] = page;
		for (unsigned i = 0; i < LAZY_PAGES; i++)
			if (page == (uint64_t)pages[i]) {
				data_hits++;
				/* The first access to each data page is its qword 0. */
				bad_data_gpa |= gpa != page;
			}
		ept_map(&lazy, page, page, PAGE_SIZE, PAGE_SIZE, EPT_LEAF_WB);
	}
	info("lazy: %u pages mapped on violations, hole reported %u times", nfaults, hole_hits);
	if (other_exit) {
		check_msg(false, "exits", "a violation outside RAM (GPA %#lx) or too many (%u)",
			  vmcs_read(VMCS_GUEST_PHYSICAL_ADDR), nfaults);
		return;
	}
	check_msg(reason == VMX_EXIT_VMCALL, "completes", "L2 ended with exit %u (%s)", reason,
		  vmx_exit_name(reason) ?: "?");
	check_msg(vcpu->regs.rbx == want, "data", "L2's checksum %#lx, L1 wrote pages summing to %#lx",
		  vcpu->regs.rbx, want);
	check_msg(!dup, "once", "%u violations repeated a page already mapped (last GPA %#lx)", dup,
		  dup_gpa);
	check_eq("data_pages", data_hits, LAZY_PAGES);
	check_msg(!bad_data_gpa, "data_gpa", "a data page was reported at a GPA other than its qword 0");
	check_eq("hole.repeats", hole_hits, HOLE_REPEAT);
	check_msg(!bad_hole, "hole.gpa", "the hole's violation named another GPA or RIP");
	check_eq("hole.qual", hole_qual & QUAL_CHECKED, QUAL_READ | QUAL_GLA_VALID | QUAL_TRANSL);
	check_eq("hole.gla", hole_gla, MMIO_HOLE);
}

static const struct check_entry checks[] = {
	{ "pml4e", check_pml4e },
	{ "pdpte", check_pdpte },
	{ "pde", check_pde },
	{ "pte", check_pte },
	{ "walk", check_walk },
	{ "walk_accessed", check_walk_accessed },
	{ "exec_only", check_exec_only },
	{ "mbec", check_mbec },
	{ "leaf2m", check_leaf2m },
	{ "leaf1g", check_leaf1g },
	{ "misconfig.rsvd", check_misconfig_rsvd },
	{ "misconfig.perms", check_misconfig_perms },
	{ "misconfig.memtype", check_misconfig_memtype },
	{ "ad.read", check_ad_read },
	{ "ad.write", check_ad_write },
	{ "ad.walk", check_ad_walk },
	{ "ad.disabled", check_ad_disabled },
	{ "pml", check_pml },
	{ "vmfunc.eptp_switch", check_vmfunc_eptp_switch },
	{ "invept.types", check_invept_types },
	{ "invept.bad_type", check_invept_bad_type },
	{ "invept.bad_eptp", check_invept_bad_eptp },
	{ "invept.single_change", check_invept_single_change },
	{ "invept.all_change", check_invept_all_change },
	{ "lazy", check_lazy },
};

DEFINE_TEST("vmx_ept", checks, .setup = setup);
