/* TSS and IDT setup, and the dispatcher that isr.S calls for every vector. */
#include "alloc.h"
#include "desc.h"
#include "fault_internal.h"
#include "processor.h"
#include "report.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __packed;

#define IST_STACK_SIZE 8192

static struct tss64 bsp_tss;
static struct idt_gate idt[256] __aligned(16);
static irq_handler_t irq_handlers[256];
static uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
static uint8_t ring0_stack[16384] __aligned(16);

extern const uint8_t isr_stubs[];

bool vector_has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

const char *vector_name(unsigned v)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
		"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
		"#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};

	return v < 32 ? names[v] : "IRQ";
}

static void set_gate(unsigned vector, uint64_t handler, unsigned ist, unsigned dpl)
{
	struct idt_gate *g = &idt[vector];

	g->offset_low = handler & 0xffff;
	g->selector = KERNEL_CS64;
	g->ist = ist;
	g->type_attr = 0x80 | (dpl << 5) | 0xe;	/* present, 64-bit interrupt gate */
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_high = handler >> 32;
	g->reserved = 0;
}

/*
 * Loads @tss into the GDT @gdt and TR, with a ring-0 stack and IST stacks of
 * its own: one per CPU, as LTR marks the descriptor busy (SDM Vol. 3A 8.2.3).
 */
static void load_tss(struct tss64 *tss, uint64_t *gdt, uint8_t *ring0_top, uint8_t (*ist)[IST_STACK_SIZE])
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;
	unsigned slot = TSS_SELECTOR / 8;

	tss->rsp[0] = (uint64_t)ring0_top;
	tss->ist[IST_DF - 1] = (uint64_t)ist[0] + IST_STACK_SIZE;
	tss->ist[IST_NMI - 1] = (uint64_t)ist[1] + IST_STACK_SIZE;
	tss->ist[IST_MC - 1] = (uint64_t)ist[2] + IST_STACK_SIZE;
	tss->iomap_base = sizeof(*tss);	/* no I/O permission bitmap */

	/* 64-bit TSS descriptor, 16 bytes (SDM Vol. 3A 8.2.3): available, present. */
	gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		    ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[slot + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(TSS_SELECTOR));
}

static void load_idt(void)
{
	struct dtr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	asm volatile("lidt %0" : : "m"(idtr));
}

void desc_setup(void)
{
	for (unsigned v = 0; v < 256; v++) {
		unsigned ist = v == X86_VEC_DF ? IST_DF : v == X86_VEC_NMI ? IST_NMI :
			       v == X86_VEC_MC ? IST_MC : 0;
		/* INT3 and INTO may be used from ring 3. */
		unsigned dpl = (v == X86_VEC_BP || v == X86_VEC_OF) ? 3 : 0;

		set_gate(v, (uint64_t)isr_stubs + 16 * v, ist, dpl);
	}
	load_tss(&bsp_tss, gdt64, ring0_stack + sizeof(ring0_stack), ist_stacks);
	load_idt();
}

void desc_setup_ap(void)
{
	/* One page holds the GDT copy and the TSS; the stacks come separately. */
	uint8_t *page = alloc_page();
	uint64_t *gdt = (uint64_t *)page;
	struct tss64 *ap_tss = (struct tss64 *)(page + 2048);
	uint8_t *ring0 = alloc_pages(sizeof(ring0_stack) / PAGE_SIZE, PAGE_SIZE);
	uint8_t (*ist)[IST_STACK_SIZE] = alloc_pages(3 * IST_STACK_SIZE / PAGE_SIZE, PAGE_SIZE);
	size_t size = (gdt64_end - gdt64) * sizeof(*gdt);
	struct dtr gdtr = { size - 1, (uint64_t)gdt };

	memcpy(gdt, gdt64, size);
	asm volatile("lgdt %0" : : "m"(gdtr));
	load_tss(ap_tss, gdt, ring0 + sizeof(ring0_stack), ist);
	load_idt();
}

uint64_t *gdt_current(void)
{
	struct dtr gdtr;

	asm volatile("sgdt %0" : "=m"(gdtr));
	return (uint64_t *)gdtr.base;
}

void irq_set_handler(unsigned vector, irq_handler_t handler)
{
	if (vector < 32 || vector > 255)
		report_abort("irq_set_handler: vector %u is not an interrupt vector", vector);
	irq_handlers[vector] = handler;
}

void x86_interrupt_dispatch(struct ex_regs *regs);
void x86_interrupt_dispatch(struct ex_regs *regs)
{
	unsigned v = regs->vector;

	if (v >= 32 && irq_handlers[v]) {
		irq_handlers[v](regs);
		return;
	}
	if (v < 32 && fault_recover(regs))
		return;
	fault_unexpected(regs);
}
