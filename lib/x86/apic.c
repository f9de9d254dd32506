/* Local APIC access, hiding the xAPIC/x2APIC difference (SDM Vol. 3A 12.12). */
#include "apic.h"
#include "desc.h"
#include "msr.h"
#include "pagetable.h"
#include "processor.h"
#include "report.h"

#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

static volatile uint8_t *xapic_mmio;
static bool x2apic_mode;

bool apic_is_x2apic(void)
{
	return x2apic_mode;
}

uint32_t apic_read(unsigned reg)
{
	if (x2apic_mode)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + reg / 16);
	return *(volatile uint32_t *)(xapic_mmio + reg);
}

void apic_write(unsigned reg, uint32_t value)
{
	if (x2apic_mode)
		wrmsr(MSR_X2APIC_BASE + reg / 16, value);
	else
		*(volatile uint32_t *)(xapic_mmio + reg) = value;
}

uint32_t apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return x2apic_mode ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_self_ipi(uint8_t vector)
{
	if (x2apic_mode) {
		wrmsr(MSR_X2APIC_BASE + APIC_SELF_IPI / 16, vector);
		return;
	}
	/* Fixed delivery, assert, destination shorthand "self" (SDM Vol. 3A 12.6.1). */
	apic_write(APIC_ICR2, 0);
	apic_write(APIC_ICR, vector | BIT(14) | (1u << 18));
}

static bool test_vector_bit(unsigned base, uint8_t vector)
{
	return apic_read(base + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

bool apic_irr_test(uint8_t vector)
{
	return test_vector_bit(APIC_IRR, vector);
}

bool apic_isr_test(uint8_t vector)
{
	return test_vector_bit(APIC_ISR, vector);
}

void apic_timer_oneshot(uint8_t vector, uint32_t count)
{
	apic_write(APIC_TIMER_DCR, 0xb);	/* divide by 1 */
	apic_write(APIC_LVT_TIMER, vector);
	apic_write(APIC_TIMER_ICR, count);
}

void apic_timer_stop(void)
{
	apic_write(APIC_TIMER_ICR, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

bool apic_enable_x2apic(void)
{
	if (!cpu_has(X86_FEATURE_X2APIC))
		return false;
	wrmsr(MSR_IA32_APIC_BASE, rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	x2apic_mode = true;
	return true;
}

static void spurious_interrupt(struct ex_regs *regs)
{
	/* A spurious interrupt needs no EOI (SDM Vol. 3A 12.9). */
}

void apic_setup(void)
{
	uint64_t base;

	if (!cpu_has(X86_FEATURE_APIC))
		return;
	base = rdmsr(MSR_IA32_APIC_BASE);
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	x2apic_mode = base & APIC_BASE_X2APIC;
	xapic_mmio = (volatile uint8_t *)(base & APIC_BASE_ADDR_MASK);
	if (!x2apic_mode) {
		/* Register space is uncacheable whatever the MTRRs say. */
		uint64_t *pte = pt_entry(paging_current(), (uint64_t)xapic_mmio, 1);

		*pte |= PTE_PCD | PTE_PWT;
		invlpg(xapic_mmio);
	}
	irq_set_handler(APIC_SPURIOUS_VECTOR, spurious_interrupt);
	apic_write(APIC_SVR, BIT(8) | APIC_SPURIOUS_VECTOR);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
}
