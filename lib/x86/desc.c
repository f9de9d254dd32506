/* TSS and IDT setup, and the dispatcher that isr.S calls for every vector. */
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

static struct tss64 tss;
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

static void load_tss(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	unsigned slot = TSS_SELECTOR / 8;

	tss.rsp[0] = (uint64_t)ring0_stack + sizeof(ring0_stack);
	tss.ist[IST_DF - 1] = (uint64_t)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[1] + IST_STACK_SIZE;
	tss.ist[IST_MC - 1] = (uint64_t)ist_stacks[2] + IST_STACK_SIZE;
	tss.iomap_base = sizeof(tss);	/* no I/O permission bitmap */

	/* 64-bit TSS descriptor, 16 bytes (SDM Vol. 3A 8.2.3): available, present. */
	gdt64[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		      ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt64[slot + 1] = base >> 32;
	asm volatile("ltr %w0" : : "r"(TSS_SELECTOR));
}

void desc_setup(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned v = 0; v < 256; v++) {
		unsigned ist = v == X86_VEC_DF ? IST_DF : v == X86_VEC_NMI ? IST_NMI :
			       v == X86_VEC_MC ? IST_MC : 0;
		/* INT3 and INTO may be used from ring 3. */
		unsigned dpl = (v == X86_VEC_BP || v == X86_VEC_OF) ? 3 : 0;

		set_gate(v, (uint64_t)isr_stubs + 16 * v, ist, dpl);
	}
	load_tss();
	asm volatile("lidt %0" : : "m"(idtr));
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
