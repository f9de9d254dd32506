/* EPT on the shared page-table builder (see ept.h; SDM Vol. 3C 29.3). */
#include "bootinfo.h"
#include "ept.h"
#include "processor.h"
#include "report.h"
#include "vmx.h"

const struct pt_format pt_format_ept = {
	.name = "ept",
	.present_mask = EPT_RWX,
	/* A non-leaf entry: R/W/X, no memory type (bits 7:3 reserved, Table 29-3). */
	.table_flags = EPT_RWX,
	.large_bit = EPT_LARGE,
};

static uint64_t ept_cap(void)
{
	return vmx_cap_has((struct vmx_cap){ VMX_CAP_PROC2, 1 }) ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
}

bool ept_supported(const char **why_not)
{
	uint64_t cap;

	if (!vmx_supported(why_not))
		return false;
	if (!vmx_cap_has((struct vmx_cap){ VMX_CAP_PROC2, 1 })) {
		*why_not = "no EPT (IA32_VMX_PROCBASED_CTLS2[33])";
		return false;
	}
	cap = ept_cap();
	if (!(cap & VMX_EPT_WALK4)) {
		*why_not = "no 4-level EPT walk (IA32_VMX_EPT_VPID_CAP[6])";
		return false;
	}
	if (!(cap & (VMX_EPT_WB | VMX_EPT_UC))) {
		*why_not = "no EPTP memory type (IA32_VMX_EPT_VPID_CAP[8], [14])";
		return false;
	}
	return true;
}

bool ept_has_2m(void)
{
	return ept_cap() & VMX_EPT_2M;
}

bool ept_has_1g(void)
{
	return ept_cap() & VMX_EPT_1G;
}

bool ept_has_ad(void)
{
	return ept_cap() & VMX_EPT_AD;
}

struct pagetable ept_create(void)
{
	return pt_create(&pt_format_ept);
}

void ept_map(struct pagetable *ept, uint64_t gpa, uint64_t hpa, uint64_t size,
	     uint64_t page_size, uint64_t flags)
{
	pt_map(ept, gpa, hpa, size, page_size, flags);
}

uint64_t ept_largest_page(void)
{
	return ept_has_1g() ? pt_level_size(3) : ept_has_2m() ? pt_level_size(2) : pt_level_size(1);
}

struct pagetable ept_create_identity(uint64_t page_size)
{
	struct pagetable ept = ept_create();
	uint64_t end = 1ull << 32;

	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		end = MAX(end, bootinfo.ram[i].end);
	ept_map(&ept, 0, 0, ALIGN_UP(end, page_size), page_size, EPT_LEAF_WB);
	return ept;
}

uint64_t ept_eptp(const struct pagetable *ept, bool ad)
{
	uint64_t mt = (ept_cap() & VMX_EPT_WB) ? EPT_MT_WB : EPT_MT_UC;

	return (uint64_t)ept->root | mt | EPTP_WALK4 | (ad ? EPTP_AD : 0);
}

uint64_t *ept_entry(struct pagetable *ept, uint64_t gpa, unsigned level)
{
	return pt_entry(ept, gpa, level);
}

uint64_t *ept_lookup(const struct pagetable *ept, uint64_t gpa, unsigned level)
{
	return pt_lookup(ept, gpa, level);
}

void ept_set_perms(uint64_t *entry, uint64_t rwx)
{
	*entry = (*entry & ~(uint64_t)EPT_RWX) | (rwx & EPT_RWX);
}

void ept_set_memtype(uint64_t *entry, unsigned mt)
{
	*entry = (*entry & ~EPT_MT_MASK) | ((uint64_t)(mt & 7) << EPT_MT_SHIFT);
}

uint64_t ept_reserved_bits(unsigned level, bool leaf)
{
	unsigned maxphy = vmx_maxphyaddr();
	uint64_t mask = maxphy < 52 ? (BIT(52) - 1) & ~(BIT(maxphy) - 1) : 0;

	if (level == 4)
		return mask | 0xf8;
	if (!leaf && level > 1)
		return mask | 0x78;
	if (level == 3)
		return mask | ((BIT(30) - 1) & ~(BIT(12) - 1));
	if (level == 2)
		return mask | ((BIT(21) - 1) & ~(BIT(12) - 1));
	return mask;
}

bool ept_invalidate(uint64_t eptp)
{
	uint64_t cap = ept_cap();
	struct vmx_result r;

	if (cap & VMX_EPT_INVEPT_SINGLE)
		r = invept_checked(1, eptp, 0);
	else if (cap & VMX_EPT_INVEPT_ALL)
		r = invept_checked(2, 0, 0);
	else
		return false;
	return r.outcome == VMX_SUCCEED;
}
