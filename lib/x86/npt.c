/* Nested page tables for SVM (see npt.h; AMD APM Vol. 2 15.25). */
#include "bootinfo.h"
#include "msr.h"
#include "npt.h"
#include "processor.h"
#include "report.h"

bool npt_supported(const char **why_not)
{
	if (!svm_supported(why_not))
		return false;
	if (!svm_has(SVM_FEATURE_NPT)) {
		*why_not = "no nested paging (CPUID 8000_000Ah EDX[0])";
		return false;
	}
	return true;
}

bool npt_has_1g_pages(void)
{
	return cpu_has(X86_FEATURE_GBPAGES);
}

unsigned npt_maxphyaddr(void)
{
	if (cpuid_max(0x80000000) < 0x80000008)
		return 36;
	return cpuid(0x80000008).a & 0xff;
}

struct pagetable npt_create(void)
{
	return pt_create(&pt_format_x86);
}

void npt_map(struct pagetable *npt, uint64_t gpa, uint64_t hpa, uint64_t size,
	     uint64_t page_size)
{
	pt_map(npt, gpa, hpa, size, page_size, NPT_FLAGS);
}

struct pagetable npt_create_identity(uint64_t end, uint64_t page_size)
{
	struct pagetable npt = npt_create();

	npt_map(&npt, 0, 0, ALIGN_UP(end, page_size), page_size);
	return npt;
}

uint64_t npt_ram_end(void)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < bootinfo.ram_count; i++)
		end = MAX(end, bootinfo.ram[i].end);
	return end;
}

uint64_t *npt_entry(struct pagetable *npt, uint64_t gpa, unsigned level)
{
	return pt_entry(npt, gpa, level);
}

uint64_t npt_update(struct pagetable *npt, uint64_t gpa, unsigned level,
		    uint64_t clear, uint64_t set)
{
	uint64_t *e = npt_entry(npt, gpa, level), old = *e;

	*e = (old & ~clear) | set;
	return old;
}

uint64_t npt_reserved_bit(unsigned level)
{
	if (npt_maxphyaddr() < 52)
		return BIT(51);
	if (level == 4)
		return PTE_PS;
	report_abort("npt_reserved_bit: MAXPHYADDR 52 leaves no reserved bit at level %u", level);
}

void npt_enable(struct vmcb *vmcb, const struct pagetable *npt)
{
	vmcb->control.nested_ctl |= SVM_NESTED_PAGING;
	vmcb->control.nested_cr3 = (uint64_t)npt->root;
	vmcb->control.tlb_control = SVM_TLB_FLUSH_ALL;
	vmcb->save.g_pat = rdmsr(MSR_IA32_PAT);
}
