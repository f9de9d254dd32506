/*
 * SVM nested paging (AMD APM Vol. 2 15.25): nested page faults at every level
 * of the nested walk (not present, read-only, NX, U/S clear, reserved bits),
 * for the guest's own page-table accesses and for the final access; the
 * fault's EXITINFO1 (a #PF error code with bit 32 "final physical address"
 * and bit 33 "guest page table", APM Vol. 2 15.25.6) and
 * EXITINFO2 (the faulting GPA); nested A/D bits; large nested pages; each
 * guest paging mode under NPT; a lazily populated nested table; and virtual
 * VMLOAD/VMSAVE, which translates the guest's rAX through the nested tables
 * (15.33.1), against VMLOAD/VMSAVE without it, which does not.
 *
 * Layout: the nested tables identity-map the first 4 GiB, and an "alias
 * window" at GPA 512 GiB (PML4 index 1) maps chosen host pages again with
 * 4 KiB leaves, so that breaking an alias entry at any level leaves L2's code,
 * stack and identity data alone.
 */
#include "alloc.h"
#include "desc.h"
#include "l2_modes.h"
#include "msr.h"
#include "npt.h"
#include "processor.h"
#include "svm.h"
#include "test.h"

#define GIB		(1ull << 30)
#define ALIAS		(1ull << 39)		/* nested PML4 index 1 */
#define TEST_GVA	(2ull << 39)		/* guest PML4 index 2 */
#define DATA_OFF	0x128			/* the accessed offset in the data page */
#define CODE_OFF	0x80			/* where the exec target sits in the data page */
#define DATA_VALUE	0x5a5a00c0ffee0001ull
#define WRITE_VALUE	0x1234567887654321ull

static struct svm_vcpu *vcpu;
static const char *missing;

SVM_L2_CODE(l2_read, "mov (%rdi), %rax");
SVM_L2_CODE(l2_write, "mov %rsi, (%rdi)");
SVM_L2_CODE(l2_exec, "jmp *%rdi");

static const char *const level_names[] = { "", "pte", "pde", "pdpte", "pml4e" };

static void setup(void)
{
	if (!npt_supported(&missing))
		return;
	if (npt_maxphyaddr() < 40) {
		missing = "MAXPHYADDR below 40 (CPUID 8000_0008h): no room for the alias window";
		return;
	}
	svm_enable();
	vcpu = svm_vcpu_create();
}

static bool need_npt(void)
{
	if (missing)
		skip("", "%s", missing);
	return !missing;
}

/* ---------------------------------------------------------------- L2 setup */

/* A long-mode L2 on nested tables @npt, with its own page tables @gcr3 (0: L1's). */
static void l2_prepare(const struct pagetable *npt, void *rip, uint64_t gcr3)
{
	svm_vcpu_reset(vcpu, rip);
	if (gcr3)
		vcpu->vmcb->save.cr3 = gcr3;
	/* Any exception in L2 exits to L1 rather than running L1's handlers. */
	vcpu->vmcb->control.intercept_exceptions = ~0u;
	npt_enable(vcpu->vmcb, npt);
}

/* L2's own long-mode tables: the first 4 GiB identity-mapped with 2 MiB pages. */
static struct pagetable guest_tables(void)
{
	struct pagetable gpt = pt_create(&pt_format_x86);

	pt_map(&gpt, 0, 0, 4 * GIB, pt_level_size(2), PTE_P | PTE_W);
	return gpt;
}

/* A data page holding DATA_VALUE at DATA_OFF and "vmmcall; ud2" at CODE_OFF. */
static uint8_t *data_page(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xd9, 0x0f, 0x0b };
	uint8_t *page = alloc_page();

	*(uint64_t *)(page + DATA_OFF) = DATA_VALUE;
	memcpy(page + CODE_OFF, code, sizeof(code));
	return page;
}

static const char *exit_str(uint64_t code, char *buf, size_t size)
{
	const char *name = svm_exit_name(code);

	snprintf(buf, size, "%#lx (%s)", code, name ? name : "?");
	return buf;
}

/* ---------------------------------------------------------------- the fault matrix */

/*
 * The broken nested entries: not present; read-only (a write faults); NX (a
 * fetch faults, EFER.NXE is L1's); U/S clear (every nested access is a user
 * access, APM Vol. 2 15.25.5, so a supervisor-only entry faults with U in the
 * error code); and reserved bits (APM Vol. 2 5.3.1, 5.7): the highest address
 * bit (51), the lowest above MAXPHYADDR, and PS in a PML4E.
 */
enum kind { NOT_PRESENT, READ_ONLY, NO_EXECUTE, SUPERVISOR, RESERVED, RESERVED_MAXPHY,
	    RESERVED_PS, KIND_COUNT };
static const char *const kind_names[] = { "not_present", "read_only", "nx", "supervisor",
					  "rsvd", "rsvd_maxphy", "rsvd_ps" };

enum access { READ, WRITE, EXEC };

/* The access that meets each kind of broken entry at the final GPA. */
static enum access kind_access(enum kind k)
{
	return k == READ_ONLY ? WRITE : k == NO_EXECUTE ? EXEC : READ;
}

static bool kind_reserved(enum kind k)
{
	return k == RESERVED || k == RESERVED_MAXPHY || k == RESERVED_PS;
}

/* Whether kind @k exists at @level on this CPU (below the PML4, PS makes a large page). */
static bool kind_applies(enum kind k, unsigned level)
{
	if (k == RESERVED_PS)
		return level == 4;
	if (k == RESERVED_MAXPHY)
		return npt_maxphyaddr() < 51;	/* else it is bit 51, or none */
	return true;
}

/* The bits that breaking an entry with kind @k clears and sets. */
static void kind_bits(enum kind k, unsigned level, uint64_t *clear, uint64_t *set)
{
	static const uint64_t clears[] = { PTE_P, PTE_W, 0, PTE_U, 0, 0, 0 };

	*clear = clears[k];
	*set = k == NO_EXECUTE ? PTE_NX : k == RESERVED ? npt_reserved_bit(level) :
	       k == RESERVED_MAXPHY ? BIT(npt_maxphyaddr()) : k == RESERVED_PS ? PTE_PS : 0;
}

static void break_entry(struct pagetable *npt, uint64_t gpa, unsigned level, enum kind k)
{
	uint64_t clear, set;

	kind_bits(k, level, &clear, &set);
	npt_update(npt, gpa, level, clear, set);
}

static void repair_entry(struct pagetable *npt, uint64_t gpa, unsigned level, enum kind k)
{
	uint64_t clear, set;

	kind_bits(k, level, &clear, &set);
	npt_update(npt, gpa, level, set, clear);
}

/* The #PF-style error-code bits of a nested fault (APM Vol. 2 15.25.6, 8.4.2). */
static uint64_t error_bits(enum kind k, enum access a)
{
	uint64_t e = NPF_U;	/* nested accesses are user accesses (APM Vol. 2 15.25.5) */

	if (k != NOT_PRESENT)
		e |= NPF_P;
	if (kind_reserved(k))
		e |= NPF_RSVD;
	if (a == WRITE)
		e |= NPF_W;
	if (a == EXEC)
		e |= NPF_ID;
	return e;
}

/* Points L2 at the access @a to @gva; returns the RIP of the accessing instruction. */
static uint64_t l2_access(const struct pagetable *npt, uint64_t gcr3, enum access a, uint64_t gva)
{
	switch (a) {
	case READ:
		l2_prepare(npt, l2_read, gcr3);
		vcpu->regs.rdi = gva + DATA_OFF;
		return (uint64_t)l2_read;
	case WRITE:
		l2_prepare(npt, l2_write, gcr3);
		vcpu->regs.rdi = gva + DATA_OFF;
		vcpu->regs.rsi = WRITE_VALUE;
		return (uint64_t)l2_write;
	case EXEC:
		l2_prepare(npt, l2_exec, gcr3);
		vcpu->regs.rdi = gva + CODE_OFF;
		return gva + CODE_OFF;
	}
	return 0;
}

static uint64_t access_offset(enum access a)
{
	return a == EXEC ? CODE_OFF : DATA_OFF;
}

/* After the fault was repaired, the access completes with the right data. */
static void check_completion(enum access a, const uint8_t *data, uint64_t gva)
{
	char got[48];
	uint64_t code;

	vcpu->vmcb->control.tlb_control = SVM_TLB_FLUSH_ALL;
	code = svm_run(vcpu);
	if (!check_msg(code == SVM_EXIT_VMMCALL, "retry",
		       "after repairing the nested entry: exit %s, expected VMMCALL",
		       exit_str(code, got, sizeof(got))))
		return;
	switch (a) {
	case READ:
		check_eq("retry.data", vcpu->vmcb->save.rax, DATA_VALUE);
		break;
	case WRITE:
		check_eq("retry.data", *(const uint64_t *)(data + DATA_OFF), WRITE_VALUE);
		break;
	case EXEC:
		check_eq("retry.rip", vcpu->vmcb->save.rip, gva + CODE_OFF);
		break;
	}
}

/* Checks an #NPF exit: code, EXITINFO1 (bits @mask of it), EXITINFO2, RIP. */
static bool check_npf(uint64_t code, uint64_t info1, uint64_t mask, uint64_t gpa, uint64_t rip)
{
	struct vmcb_control *c = &vcpu->vmcb->control;
	char got[48];

	if (!check_msg(code == SVM_EXIT_NPF, "exit", "exit %s, expected #NPF (0x400)",
		       exit_str(code, got, sizeof(got))))
		return false;
	check_msg((c->exit_info1 & mask) == info1, "exitinfo1",
		  "EXITINFO1 %#lx, expected %#lx (under mask %#lx)", c->exit_info1, info1, mask);
	check_msg(c->exit_info2 == gpa, "exitinfo2", "EXITINFO2 (GPA) %#lx, expected %#lx",
		  c->exit_info2, gpa);
	check_msg(vcpu->vmcb->save.rip == rip, "rip",
		  "guest RIP %#lx, expected the faulting instruction at %#lx",
		  vcpu->vmcb->save.rip, rip);
	return true;
}

/*
 * The final access (bit 32): L2's own walk succeeds and its leaf points at a
 * GPA in the alias window whose nested walk is broken at @level.
 */
static void final_case(unsigned level, enum kind k)
{
	struct pagetable npt = npt_create_identity(4 * GIB, pt_level_size(2));
	struct pagetable gpt = guest_tables();
	uint8_t *data = data_page();
	uint64_t gpa = ALIAS + (uint64_t)data;
	enum access a = kind_access(k);
	uint64_t rip, code;

	npt_map(&npt, gpa, (uint64_t)data, PAGE_SIZE, PAGE_SIZE);
	pt_map(&gpt, TEST_GVA, gpa, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
	break_entry(&npt, gpa, level, k);

	report_prefix_push("%s.%s", level_names[level], kind_names[k]);
	rip = l2_access(&npt, (uint64_t)gpt.root, a, TEST_GVA);
	code = svm_run(vcpu);
	if (check_npf(code, error_bits(k, a) | NPF_FINAL, ~0ull, gpa + access_offset(a), rip)) {
		repair_entry(&npt, gpa, level, k);
		check_completion(a, data, TEST_GVA);
	}
	report_prefix_pop();
}

/*
 * A guest page-table access (bit 33): the guest PDPT, PD and PT of TEST_GVA
 * live in the alias window, and the nested walk of the PT's alias is broken
 * at @level; the first guest-table access that falls in the broken region
 * faults, with its GPA (the guest entry's own address).
 */
static void walk_case(unsigned level, enum kind k)
{
	struct pagetable npt = npt_create_identity(4 * GIB, pt_level_size(2));
	struct pagetable gpt = guest_tables();
	uint8_t *data = data_page();
	uint64_t *entry[5], table[5], steps[3], broken, expected = 0;
	uint64_t rip, code, mask;

	pt_map(&gpt, TEST_GVA, (uint64_t)data, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W | PTE_A | PTE_D);
	/* entry[l] is the guest entry at level l; table[l] the table holding it. */
	for (unsigned l = 4; l >= 1; l--) {
		entry[l] = pt_lookup(&gpt, TEST_GVA, l);
		table[l] = (uint64_t)entry[l] & ~(PAGE_SIZE - 1);
	}
	/* Set A in the guest entries: the walk has nothing to update, yet it is a write. */
	for (unsigned l = 4; l >= 2; l--)
		*entry[l] |= PTE_A;
	for (unsigned l = 3; l >= 1; l--) {
		npt_map(&npt, ALIAS + table[l], table[l], PAGE_SIZE, PAGE_SIZE);
		*entry[l + 1] += ALIAS;		/* the guest entry now names the alias GPA */
		steps[3 - l] = ALIAS + (uint64_t)entry[l];
	}
	broken = ALIGN_DOWN(ALIAS + table[1], pt_level_size(level));
	for (unsigned i = 0; i < 3 && !expected; i++)
		if (ALIGN_DOWN(steps[i], pt_level_size(level)) == broken)
			expected = steps[i];
	break_entry(&npt, ALIAS + table[1], level, k);

	report_prefix_push("%s.%s", level_names[level], kind_names[k]);
	rip = l2_access(&npt, (uint64_t)gpt.root, READ, TEST_GVA);
	code = svm_run(vcpu);
	if (k == NO_EXECUTE) {
		char got[48];

		/* Guest page-table accesses are data accesses: NX does not apply to them. */
		if (check_msg(code == SVM_EXIT_VMMCALL, "completes",
			      "exit %s, expected VMMCALL: NX in the nested walk of a guest table",
			      exit_str(code, got, sizeof(got))))
			check_eq("data", vcpu->vmcb->save.rax, DATA_VALUE);
	} else {
		/*
		 * A guest page-table access is a user write for the nested walk
		 * (APM Vol. 2 15.25.5): W is checked where the entry is read-only.
		 */
		mask = k == READ_ONLY ? ~0ull : ~NPF_W;
		if (check_npf(code, (error_bits(k, READ) | NPF_WALK | (k == READ_ONLY ? NPF_W : 0)) & mask,
			      mask, expected, rip)) {
			repair_entry(&npt, ALIAS + table[1], level, k);
			check_completion(READ, data, TEST_GVA);
		}
	}
	report_prefix_pop();
}

static void check_final(void)
{
	if (!need_npt())
		return;
	for (unsigned level = 4; level >= 1; level--)
		for (enum kind k = NOT_PRESENT; k < KIND_COUNT; k++)
			if (kind_applies(k, level))
				final_case(level, k);
}

static void check_walk(void)
{
	if (!need_npt())
		return;
	for (unsigned level = 4; level >= 1; level--)
		for (enum kind k = NOT_PRESENT; k < KIND_COUNT; k++)
			if (kind_applies(k, level))
				walk_case(level, k);
}

/* ---------------------------------------------------------------- A/D bits */

/*
 * The nested walk sets A in every nested entry it uses and D in the leaf of a
 * write, as in the guest's own tables (APM Vol. 2 15.25.5; 5.4.2).
 */
static void check_accessed_dirty(void)
{
	struct pagetable npt, gpt;
	uint8_t *data;
	uint64_t gpa, code;
	char got[48];

	if (!need_npt())
		return;
	npt = npt_create_identity(4 * GIB, pt_level_size(2));
	gpt = guest_tables();
	data = data_page();
	gpa = ALIAS + (uint64_t)data;
	npt_map(&npt, gpa, (uint64_t)data, PAGE_SIZE, PAGE_SIZE);
	pt_map(&gpt, TEST_GVA, gpa, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);

	l2_access(&npt, (uint64_t)gpt.root, READ, TEST_GVA);
	code = svm_run(vcpu);
	if (!check_msg(code == SVM_EXIT_VMMCALL, "read", "exit %s, expected VMMCALL",
		       exit_str(code, got, sizeof(got))))
		return;
	for (unsigned l = 4; l >= 1; l--)
		check_msg(*pt_lookup(&npt, gpa, l) & PTE_A, "read.%s.accessed",
			  "nested %s %#lx: A clear after a read through it", level_names[l],
			  *pt_lookup(&npt, gpa, l));
	check_msg(!(*pt_lookup(&npt, gpa, 1) & PTE_D), "read.pte.clean",
		  "nested PTE %#lx: D set by a read", *pt_lookup(&npt, gpa, 1));

	l2_access(&npt, (uint64_t)gpt.root, WRITE, TEST_GVA);
	code = svm_run(vcpu);
	if (!check_msg(code == SVM_EXIT_VMMCALL, "write", "exit %s, expected VMMCALL",
		       exit_str(code, got, sizeof(got))))
		return;
	check_msg(*pt_lookup(&npt, gpa, 1) & PTE_D, "write.pte.dirty",
		  "nested PTE %#lx: D clear after a write", *pt_lookup(&npt, gpa, 1));
}

/* ---------------------------------------------------------------- large nested pages */

/* The alias window mapped by one nested leaf of @level covering the data page. */
static void large_case(unsigned level)
{
	uint64_t size = pt_level_size(level);
	struct pagetable npt = npt_create_identity(4 * GIB, size);
	struct pagetable gpt = guest_tables();
	uint8_t *data = data_page();
	uint64_t gpa = ALIAS + (uint64_t)data, code, rip, *leaf;
	unsigned found;
	char got[48];

	npt_map(&npt, ALIGN_DOWN(gpa, size), ALIGN_DOWN((uint64_t)data, size), size, size);
	pt_map(&gpt, TEST_GVA, gpa, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
	leaf = pt_find(&npt, gpa, &found);
	if (!leaf || found != level) {
		test_error("", "nested leaf for %#lx not at level %u", gpa, level);
		return;
	}

	l2_access(&npt, (uint64_t)gpt.root, READ, TEST_GVA);
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "read", "exit %s, expected VMMCALL",
		      exit_str(code, got, sizeof(got)))) {
		check_eq("read.data", vcpu->vmcb->save.rax, DATA_VALUE);
		check_msg(*leaf & PTE_A, "read.accessed", "nested leaf %#lx: A clear", *leaf);
	}

	*leaf &= ~PTE_W;
	rip = l2_access(&npt, (uint64_t)gpt.root, WRITE, TEST_GVA);
	report_prefix_push("read_only");
	check_npf(svm_run(vcpu), NPF_P | NPF_W | NPF_U | NPF_FINAL, ~0ull, gpa + DATA_OFF, rip);
	report_prefix_pop();
	*leaf |= PTE_W;

	*leaf |= PTE_NX;
	rip = l2_access(&npt, (uint64_t)gpt.root, EXEC, TEST_GVA);
	report_prefix_push("nx");
	check_npf(svm_run(vcpu), NPF_P | NPF_ID | NPF_U | NPF_FINAL, ~0ull, gpa + CODE_OFF, rip);
	report_prefix_pop();
	*leaf &= ~PTE_NX;

	*leaf &= ~PTE_P;
	rip = l2_access(&npt, (uint64_t)gpt.root, READ, TEST_GVA);
	report_prefix_push("not_present");
	check_npf(svm_run(vcpu), NPF_U | NPF_FINAL, ~0ull, gpa + DATA_OFF, rip);
	report_prefix_pop();
	*leaf |= PTE_P;

	/*
	 * PAT (bit 12) of a large leaf is not an address bit; the address bits
	 * below the page's alignment are reserved: 20:13 of a 2 MiB leaf, 29:13
	 * of a 1 GiB leaf (APM Vol. 2 5.3.4, 5.7): the lowest and the highest.
	 */
	const unsigned rsvd_bits[] = { 13, 12 + 9 * (level - 1) - 1 };

	for (size_t i = 0; i < ARRAY_SIZE(rsvd_bits); i++) {
		unsigned bit = rsvd_bits[i];

		*leaf |= BIT(bit);
		rip = l2_access(&npt, (uint64_t)gpt.root, READ, TEST_GVA);
		report_prefix_push("rsvd_bit%u", bit);
		check_npf(svm_run(vcpu), NPF_P | NPF_RSVD | NPF_U | NPF_FINAL, ~0ull,
			  gpa + DATA_OFF, rip);
		report_prefix_pop();
		*leaf &= ~BIT(bit);
	}
}

static void check_large_2m(void)
{
	if (need_npt())
		large_case(2);
}

static void check_large_1g(void)
{
	if (!need_npt())
		return;
	if (!npt_has_1g_pages()) {
		skip("", "no 1 GiB pages (CPUID 8000_0001h EDX[26])");
		return;
	}
	large_case(3);
}

/* An identity nested map with leaves of @size: L2 on L1's own tables reads and writes. */
static void identity_case(uint64_t size)
{
	struct pagetable npt = npt_create_identity(MAX(npt_ram_end(), 4 * GIB), size);
	uint8_t *data = data_page();
	uint64_t code;
	char got[48];

	l2_access(&npt, 0, WRITE, (uint64_t)data);
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "write", "exit %s, expected VMMCALL",
		      exit_str(code, got, sizeof(got))))
		check_eq("write.data", *(uint64_t *)(data + DATA_OFF), WRITE_VALUE);
	l2_access(&npt, 0, READ, (uint64_t)data);
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "read", "exit %s, expected VMMCALL",
		      exit_str(code, got, sizeof(got))))
		check_eq("read.data", vcpu->vmcb->save.rax, WRITE_VALUE);
}

static void check_identity_4k(void)
{
	struct pagetable npt;
	uint8_t *data;
	uint64_t code;
	char got[48];

	if (!need_npt())
		return;
	/* 4 KiB leaves over RAM only: 4 GiB of them would take 8 MiB of tables. */
	npt = npt_create_identity(npt_ram_end(), PAGE_SIZE);
	data = data_page();
	l2_access(&npt, 0, READ, (uint64_t)data);
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "read", "exit %s, expected VMMCALL",
		      exit_str(code, got, sizeof(got))))
		check_eq("read.data", vcpu->vmcb->save.rax, DATA_VALUE);
}

static void check_identity_2m(void)
{
	if (need_npt())
		identity_case(pt_level_size(2));
}

static void check_identity_1g(void)
{
	if (!need_npt())
		return;
	if (!npt_has_1g_pages()) {
		skip("", "no 1 GiB pages (CPUID 8000_0001h EDX[26])");
		return;
	}
	identity_case(pt_level_size(3));
}

/* ---------------------------------------------------------------- nested CR3 */

/*
 * nCR3 naming a table beyond MAXPHYADDR: the first nested walk cannot read
 * its PML4.  The VMRUN fails its consistency checks (VMEXIT_INVALID, APM
 * Vol. 2 15.5.1) or the walk reports #NPF; L2 never runs to its VMMCALL.
 */
static void check_ncr3_beyond_maxphyaddr(void)
{
	struct pagetable npt;
	uint64_t code;
	char got[48];

	if (!need_npt())
		return;
	npt = npt_create_identity(4 * GIB, pt_level_size(2));
	l2_access(&npt, 0, READ, (uint64_t)data_page());
	vcpu->vmcb->control.nested_cr3 = 1ull << npt_maxphyaddr();
	code = svm_run(vcpu);
	info("nCR3 %#lx: exit %s, EXITINFO1 %#lx, EXITINFO2 %#lx",
	     vcpu->vmcb->control.nested_cr3, exit_str(code, got, sizeof(got)),
	     vcpu->vmcb->control.exit_info1, vcpu->vmcb->control.exit_info2);
	check_msg(code == SVM_EXIT_INVALID || code == SVM_EXIT_NPF, "",
		  "exit %s, expected VMEXIT_INVALID or #NPF", exit_str(code, got, sizeof(got)));
}

/* ---------------------------------------------------------------- guest paging modes */

/* A 32-bit protected-mode L2 (CS = KERNEL_CS32, EFER.LME/LMA clear) with CR0.PG @paging. */
static void l2_prepare_pm32(const struct pagetable *npt, void *rip, bool paging, bool pae,
			    uint64_t gcr3)
{
	struct vmcb_save *s = &vcpu->vmcb->save;

	l2_prepare(npt, rip, 0);
	svm_vcpu_set_pm32(vcpu);
	if (paging)
		s->cr0 |= X86_CR0_PG;
	s->cr4 &= ~X86_CR4_PSE;
	s->cr4 |= pae ? X86_CR4_PAE : X86_CR4_PSE;
	s->cr3 = gcr3;
}

/* 32-bit paging: 4 MiB identity pages, and GVA @gva through a 4 KiB table to @data. */
static uint64_t legacy32_tables(uint64_t gva, const uint8_t *data, uint64_t *pt_entry_gpa)
{
	uint32_t *pd = alloc_page(), *pt = alloc_page();

	for (unsigned i = 0; i < 1024; i++)
		pd[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
	pd[gva >> 22] = (uint32_t)(uint64_t)pt | PTE_P | PTE_W;
	pt[(gva >> 12) & 1023] = (uint32_t)(uint64_t)data | PTE_P | PTE_W;
	*pt_entry_gpa = (uint64_t)&pt[(gva >> 12) & 1023];
	return (uint64_t)pd;
}

/* PAE: the low 4 GiB identity-mapped with 2 MiB pages, and GVA @gva through a 4 KiB leaf to @data. */
static uint64_t pae_tables(uint64_t gva, const uint8_t *data, uint64_t *pt_entry_gpa)
{
	struct pagetable pae = pt_create(&pt_format_pae);
	unsigned level;

	pt_map(&pae, 0, 0, BIT(32), pt_level_size(2), PTE_P | PTE_W);
	pt_map(&pae, gva, (uint64_t)data, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
	*pt_entry_gpa = (uint64_t)pt_find(&pae, gva, &level);
	return (uint64_t)pae.root;
}

enum mode { MODE_NONE, MODE_LEGACY32, MODE_PAE, MODE_LONG };

#define MODE_GVA 0xc0005000ull	/* below 4 GiB: 32-bit modes can reach it */

/*
 * One guest paging mode under NPT (APM Vol. 2 15.25.1: NPT translates the
 * guest's physical addresses whatever its paging mode): a read that succeeds,
 * a final-access #NPF with its GPA, and (with paging) a guest-walk #NPF.
 */
static void mode_case(enum mode m)
{
	struct pagetable npt = npt_create_identity(4 * GIB, pt_level_size(2));
	uint8_t *data = data_page();
	uint64_t gva = m == MODE_NONE ? (uint64_t)data : MODE_GVA;
	uint64_t gcr3 = 0, pte_gpa = 0, code;
	void *rip = m == MODE_LONG ? (void *)l2_read : (void *)l2_pm32_read;
	char got[48];

	if (m == MODE_LEGACY32)
		gcr3 = legacy32_tables(gva, data, &pte_gpa);
	else if (m == MODE_PAE)
		gcr3 = pae_tables(gva, data, &pte_gpa);
	else if (m == MODE_LONG) {
		struct pagetable gpt = guest_tables();

		pt_map(&gpt, gva, (uint64_t)data, PAGE_SIZE, PAGE_SIZE, PTE_P | PTE_W);
		pte_gpa = (uint64_t)pt_lookup(&gpt, gva, 1);
		gcr3 = (uint64_t)gpt.root;
	}

#define PREPARE()                                                              \
	do {                                                                   \
		if (m == MODE_LONG)                                            \
			l2_prepare(&npt, rip, gcr3);                           \
		else                                                           \
			l2_prepare_pm32(&npt, rip, m != MODE_NONE, m == MODE_PAE, gcr3); \
		vcpu->regs.rdi = gva + DATA_OFF;                               \
	} while (0)

	PREPARE();
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "read", "exit %s at rip %#lx, expected VMMCALL",
		      exit_str(code, got, sizeof(got)), vcpu->vmcb->save.rip))
		check_eq("read.data", m == MODE_LONG ? vcpu->vmcb->save.rax :
			 (uint32_t)vcpu->vmcb->save.rax, m == MODE_LONG ? DATA_VALUE :
			 (uint32_t)DATA_VALUE);

	npt_update(&npt, (uint64_t)data, 1, PTE_P, 0);
	PREPARE();
	report_prefix_push("final");
	check_npf(svm_run(vcpu), NPF_U | NPF_FINAL, ~0ull, (uint64_t)data + DATA_OFF,
		  (uint64_t)rip);
	report_prefix_pop();
	npt_update(&npt, (uint64_t)data, 1, 0, PTE_P);

	if (pte_gpa) {
		npt_update(&npt, pte_gpa, 1, PTE_P, 0);
		PREPARE();
		report_prefix_push("walk");
		check_npf(svm_run(vcpu), NPF_U | NPF_WALK, ~NPF_W, pte_gpa, (uint64_t)rip);
		report_prefix_pop();
	}
#undef PREPARE
}

static void check_mode_none(void)
{
	if (need_npt())
		mode_case(MODE_NONE);
}

static void check_mode_legacy32(void)
{
	if (need_npt())
		mode_case(MODE_LEGACY32);
}

static void check_mode_pae(void)
{
	if (need_npt())
		mode_case(MODE_PAE);
}

static void check_mode_long(void)
{
	if (need_npt())
		mode_case(MODE_LONG);
}

/* ---------------------------------------------------------------- lazy population */

#define LAZY_PAGES	16
#define LAZY_MMIO	5
#define MMIO_HOLE	0xc0000000ull	/* never mapped by L1: an emulated device */
#define MMIO_OFF	0x40
#define MAX_EXITS	2000

static uint64_t lazy_list[LAZY_PAGES];
static uint64_t seen[1024];

/*
 * RDI = the list of page addresses, RCX = its length, RSI = the MMIO address,
 * RDX = MMIO reads.  RAX = sum of every page's first word and every MMIO value;
 * each page's second word gets the running sum.
 */
SVM_L2_CODE(l2_lazy,
	    "xor %eax, %eax\n"
	    "1: mov (%rdi), %rbx\n"
	    "add (%rbx), %rax\n"
	    "mov %rax, 8(%rbx)\n"
	    "add $8, %rdi\n"
	    "dec %rcx\n"
	    "jnz 1b\n"
	    "2:\n"
	    ".globl l2_lazy_mmio\n"
	    "l2_lazy_mmio: mov (%rsi), %rbx\n"
	    ".globl l2_lazy_mmio_end\n"
	    "l2_lazy_mmio_end: add %rbx, %rax\n"
	    "dec %rdx\n"
	    "jnz 2b");
extern char l2_lazy_mmio[], l2_lazy_mmio_end[];

static uint64_t mmio_value(unsigned i)
{
	return 0xd0d0000000ull + i * 0x101;
}

/*
 * L1 starts L2 on an empty nested table and maps each 4 KiB page at its first
 * #NPF (identity), as a hypervisor populates its guest's memory on demand; the
 * MMIO hole stays unmapped and faults on every access, which L1 emulates.
 */
static void check_lazy(void)
{
	struct pagetable npt;
	unsigned nseen = 0, dups = 0, mmio = 0, walks = 0, bad_gpa = 0, bad_info = 0, bad_rip = 0;
	uint64_t code = 0, sum = 0, want_written[LAZY_PAGES];
	char got[48];

	if (!need_npt())
		return;
	npt = npt_create();
	for (unsigned i = 0; i < LAZY_PAGES; i++) {
		uint64_t *p = alloc_page();

		p[0] = 0x1111ull * (i + 1) << 8;
		sum += p[0];
		want_written[i] = sum;
		lazy_list[i] = (uint64_t)p;
	}
	for (unsigned i = 0; i < LAZY_MMIO; i++)
		sum += mmio_value(i);

	l2_prepare(&npt, l2_lazy, 0);
	vcpu->regs.rdi = (uint64_t)lazy_list;
	vcpu->regs.rcx = LAZY_PAGES;
	vcpu->regs.rsi = MMIO_HOLE + MMIO_OFF;
	vcpu->regs.rdx = LAZY_MMIO;
	for (unsigned n = 0; n < MAX_EXITS; n++) {
		uint64_t gpa, page, info1;

		code = svm_run(vcpu);
		vcpu->vmcb->control.tlb_control = 0;
		if (code != SVM_EXIT_NPF)
			break;
		gpa = vcpu->vmcb->control.exit_info2;
		info1 = vcpu->vmcb->control.exit_info1;
		page = ALIGN_DOWN(gpa, PAGE_SIZE);
		if (page == MMIO_HOLE) {
			bad_gpa += gpa != MMIO_HOLE + MMIO_OFF;
			bad_info += info1 != (NPF_U | NPF_FINAL);
			bad_rip += vcpu->vmcb->save.rip != (uint64_t)l2_lazy_mmio;
			/* Emulate the device read and skip the instruction. */
			vcpu->regs.rbx = mmio_value(mmio++);
			vcpu->vmcb->save.rip += l2_lazy_mmio_end - l2_lazy_mmio;
			continue;
		}
		walks += !!(info1 & NPF_WALK);
		for (unsigned i = 0; i < nseen; i++)
			dups += seen[i] == page;
		if (nseen == ARRAY_SIZE(seen)) {
			test_error("", "more than %zu distinct faulting pages", ARRAY_SIZE(seen));
			return;
		}
		seen[nseen++] = page;
		npt_map(&npt, page, page, PAGE_SIZE, PAGE_SIZE);
	}
	info("lazy: %u pages mapped on demand (%u from guest page-table accesses), %u MMIO exits",
	     nseen, walks, mmio);
	if (!check_msg(code == SVM_EXIT_VMMCALL, "completes", "L2 ended with exit %s, expected VMMCALL",
		       exit_str(code, got, sizeof(got))))
		return;
	check_eq("checksum", vcpu->vmcb->save.rax, sum);
	for (unsigned i = 0; i < LAZY_PAGES; i++) {
		uint64_t written = ((uint64_t *)lazy_list[i])[1];
		bool reported = false;

		for (unsigned j = 0; j < nseen; j++)
			reported |= seen[j] == lazy_list[i];
		report_prefix_push("page%u", i);
		check_msg(written == want_written[i] && reported, "",
			  "page %#lx: second word %#lx (expected %#lx), %s", lazy_list[i],
			  written, want_written[i], reported ? "reported" : "never reported by #NPF");
		report_prefix_pop();
	}
	check_msg(dups == 0, "each_gpa_once", "%u #NPF exits repeated an already mapped page", dups);
	check_msg(walks > 0, "walk_faults",
		  "no #NPF with EXITINFO1[33] while L2's page tables were unmapped");
	check_eq("mmio.count", mmio, LAZY_MMIO);
	check_msg(bad_gpa == 0, "mmio.gpa", "%u MMIO exits reported another GPA than %#llx",
		  bad_gpa, MMIO_HOLE + MMIO_OFF);
	check_msg(bad_info == 0, "mmio.exitinfo1", "%u MMIO exits had EXITINFO1 other than %#llx",
		  bad_info, NPF_U | NPF_FINAL);
	check_msg(bad_rip == 0, "mmio.rip", "%u MMIO exits had RIP other than %p", bad_rip,
		  l2_lazy_mmio);
}

/* ---------------------------------------------------------------- virtual VMLOAD/VMSAVE */

#define VLS_ENABLE	BIT(1)			/* VMCB 0B8h bit 1 (APM Vol. 2 15.33.1) */
#define VLS_MARK	((uint64_t)0x0023001000c1a000)	/* STAR values: VMLOAD checks none */
#define VLS_MARK_MAPPED	((uint64_t)0x0023001000c1b000)

SVM_L2_CODE(l2_vls_vmsave, "vmsave %rax");
SVM_L2_CODE(l2_vls_vmload, "vmload %rax");
/* The same for a 32-bit protected-mode L2 (l2_prepare_pm32()). */
asm(".pushsection .text\n.code32\n"
    "l2_vls_vmsave32: vmsave %eax\n vmmcall\n ud2\n"
    "l2_vls_vmload32: vmload %eax\n vmmcall\n ud2\n"
    ".code64\n.popsection\n");
extern char l2_vls_vmsave32[], l2_vls_vmload32[];

/*
 * The page L2 names in rAX (@identity, a GPA that is also a host address) and
 * the host page the nested tables map that GPA to instead (@mapped).
 */
struct vls_layout {
	struct pagetable npt;
	uint8_t *identity, *mapped;
};

static struct vls_layout vls_layout(void)
{
	struct vls_layout l = { npt_create_identity(4 * GIB, pt_level_size(2)), alloc_page(),
				alloc_page() };

	npt_update(&l.npt, (uint64_t)l.identity, 1, PTE_ADDR_MASK, (uint64_t)l.mapped);
	return l;
}

static bool all_bytes(const uint8_t *page, uint8_t value)
{
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (page[i] != value)
			return false;
	return true;
}

/*
 * L2 (long mode, or 32-bit protected mode without paging when @legacy; nested
 * paging on, VMLOAD and VMSAVE not intercepted) executes VMSAVE, then VMLOAD,
 * with rAX = l->identity, with VIRTUAL_VMLOAD_VMSAVE_ENABLE @enabled.  @target
 * is the page the state must go to and come from; the other page must stay as
 * it was.  The state followed is STAR, which L2 gets from its VMCB.
 */
static void vls_prepare(struct vls_layout *l, bool enabled, bool legacy, bool load)
{
	if (legacy)
		l2_prepare_pm32(&l->npt, load ? l2_vls_vmload32 : l2_vls_vmsave32, false, false, 0);
	else
		l2_prepare(&l->npt, load ? l2_vls_vmload : l2_vls_vmsave, 0);
	if (enabled)
		vcpu->vmcb->control.virt_ext |= VLS_ENABLE;
	vcpu->vmcb->save.rax = (uint64_t)l->identity;
}

static void vls_case(struct vls_layout *l, bool enabled, bool legacy, const uint8_t *target)
{
	const uint8_t *other = target == l->identity ? l->mapped : l->identity;
	struct vmcb *vmcb = vcpu->vmcb;
	uint64_t code, star;
	char got[48];

	/* VMSAVE: L2's STAR (VLS_MARK, loaded from its VMCB) lands in @target. */
	memset(l->identity, 0xa5, PAGE_SIZE);
	memset(l->mapped, 0xa5, PAGE_SIZE);
	vls_prepare(l, enabled, legacy, false);
	vmcb->save.star = VLS_MARK;
	code = svm_run(vcpu);
	if (check_msg(code == SVM_EXIT_VMMCALL, "vmsave.exit",
		      "exit %s (EXITINFO1 %#lx), expected VMMCALL; EXITCODE in the page at rAX: %#lx",
		      exit_str(code, got, sizeof(got)), vmcb->control.exit_info1,
		      ((const struct vmcb *)l->identity)->control.exit_code)) {
		star = ((const struct vmcb *)target)->save.star;
		check_msg(star == VLS_MARK, "vmsave.target",
			  "STAR field of the %s page %#lx, expected L2's %#lx",
			  target == l->identity ? "identity" : "NPT-mapped", star, VLS_MARK);
		check_msg(all_bytes(other, 0xa5), "vmsave.other_untouched", "VMSAVE wrote to the %s page",
			  other == l->identity ? "identity" : "NPT-mapped");
	}

	/* VMLOAD: both pages hold L1's state, each with its own STAR. */
	memset(l->identity, 0, PAGE_SIZE);
	asm volatile("vmsave %%rax" : : "a"(l->identity) : "memory");
	memcpy(l->mapped, l->identity, PAGE_SIZE);
	((struct vmcb *)l->identity)->save.star = VLS_MARK;
	((struct vmcb *)l->mapped)->save.star = VLS_MARK_MAPPED;
	vls_prepare(l, enabled, legacy, true);
	vmcb->save.star = 0;
	code = svm_run(vcpu);
	/* svm_run()'s VMSAVE after #VMEXIT stores what L2 loaded into its VMCB. */
	if (check_msg(code == SVM_EXIT_VMMCALL, "vmload.exit",
		      "exit %s (EXITINFO1 %#lx), expected VMMCALL; EXITCODE in the page at rAX: %#lx",
		      exit_str(code, got, sizeof(got)), vmcb->control.exit_info1,
		      ((const struct vmcb *)l->identity)->control.exit_code))
		check_msg(vmcb->save.star == ((const struct vmcb *)target)->save.star, "vmload.source",
			  "L2's STAR %#lx after VMLOAD; the identity page holds %#lx, the "
			  "NPT-mapped one %#lx: expected the %s page's", vmcb->save.star,
			  VLS_MARK, VLS_MARK_MAPPED, target == l->identity ? "identity" : "NPT-mapped");
}

/*
 * APM Vol. 3 VMLOAD, VMSAVE: rAX holds the physical address of the state, and
 * without virtual VMLOAD/VMSAVE a guest's unintercepted VMLOAD or VMSAVE takes
 * it as a system physical address like the host's, untranslated by the nested
 * tables (APM Vol. 2 15.33.1 makes the translation the feature's doing).  So
 * with VIRTUAL_VMLOAD_VMSAVE_ENABLE clear the state goes to and comes from the
 * page at rAX itself, not the page the nested tables map rAX to: in a
 * long-mode L2, and in a 32-bit protected-mode one (legacy32: paging off,
 * nested paging on), where VMLOAD and VMSAVE are legal too (#UD only in real
 * or virtual-8086 mode or with EFER.SVME clear, APM Vol. 3) and nothing makes
 * them exit while their intercepts are clear.
 */
static void check_vls_disabled(void)
{
	struct vls_layout l;

	if (!need_npt())
		return;
	l = vls_layout();
	vls_case(&l, false, false, l.identity);
	report_prefix_push("legacy32");
	l = vls_layout();
	vls_case(&l, false, true, l.identity);
	report_prefix_pop();
}

static bool need_vls(void)
{
	if (!need_npt())
		return false;
	if (!svm_has(SVM_FEATURE_VLS)) {
		skip("", "no %s", svm_feature_name(SVM_FEATURE_VLS));
		return false;
	}
	return true;
}

/*
 * APM Vol. 2 15.33.1: with virtual VMLOAD/VMSAVE enabled (VMCB 0B8h bit 1,
 * nested paging on, the instructions not intercepted) a guest's VMLOAD and
 * VMSAVE take rAX as a guest physical address and translate it through the
 * nested tables: the state goes to and comes from the host page they map.
 */
static void check_vls_enabled(void)
{
	struct vls_layout l;

	if (!need_vls())
		return;
	l = vls_layout();
	vls_case(&l, true, false, l.mapped);
}

/*
 * APM Vol. 2 15.33.1 and 15.25.6: the translated access is a guest access
 * through the nested tables, so a GPA they do not map ends in #NPF at the
 * instruction: EXITINFO2 a GPA in rAX's page, EXITINFO1 a final-address fault
 * (bit 32) on a not-present entry (P = 0, a user access), with W for VMSAVE's
 * writes and without it for VMLOAD's reads.
 */
static void check_vls_npf(void)
{
	static const struct { const char *name; char *code; uint64_t w; } cases[] = {
		{ "vmsave", l2_vls_vmsave, NPF_W },
		{ "vmload", l2_vls_vmload, 0 },
	};

	if (!need_vls())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vls_layout l = vls_layout();
		struct vmcb_control *c = &vcpu->vmcb->control;
		uint64_t code, want = NPF_U | NPF_FINAL | cases[i].w;
		uint64_t mask = NPF_P | NPF_W | NPF_U | NPF_RSVD | NPF_ID | NPF_FINAL | NPF_WALK;
		char got[48];

		asm volatile("vmsave %%rax" : : "a"(l.mapped) : "memory");	/* a loadable image */
		npt_update(&l.npt, (uint64_t)l.identity, 1, PTE_P, 0);
		report_prefix_push("%s", cases[i].name);
		l2_prepare(&l.npt, cases[i].code, 0);
		vcpu->vmcb->control.virt_ext |= VLS_ENABLE;
		vcpu->vmcb->save.rax = (uint64_t)l.identity;
		code = svm_run(vcpu);
		if (check_msg(code == SVM_EXIT_NPF, "exit", "exit %s, expected #NPF (0x400)",
			      exit_str(code, got, sizeof(got)))) {
			check_msg((c->exit_info1 & mask) == want, "exitinfo1",
				  "EXITINFO1 %#lx, expected %#lx (under mask %#lx)", c->exit_info1,
				  want, mask);
			check_msg(ALIGN_DOWN(c->exit_info2, PAGE_SIZE) == (uint64_t)l.identity,
				  "exitinfo2", "EXITINFO2 (GPA) %#lx, expected one in the page %p",
				  c->exit_info2, l.identity);
			check_msg(vcpu->vmcb->save.rip == (uint64_t)cases[i].code, "rip",
				  "guest RIP %#lx, expected the instruction at %p",
				  vcpu->vmcb->save.rip, cases[i].code);
		}
		report_prefix_pop();
	}
}

static const struct check_entry checks[] = {
	{ "final", check_final },
	{ "walk", check_walk },
	{ "ad", check_accessed_dirty },
	{ "large.2m", check_large_2m },
	{ "large.1g", check_large_1g },
	{ "identity.4k", check_identity_4k },
	{ "identity.2m", check_identity_2m },
	{ "identity.1g", check_identity_1g },
	{ "ncr3.beyond_maxphyaddr", check_ncr3_beyond_maxphyaddr },
	{ "mode.none", check_mode_none },
	{ "mode.legacy32", check_mode_legacy32 },
	{ "mode.pae", check_mode_pae },
	{ "mode.long", check_mode_long },
	{ "lazy", check_lazy },
	{ "vls.disabled", check_vls_disabled },
	{ "vls.enabled", check_vls_enabled },
	{ "vls.npf", check_vls_npf },
};

DEFINE_TEST("svm_npt", checks, .setup = setup);
