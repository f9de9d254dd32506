/* Events for VMX interrupt tests: L2's IDT, APIC helpers (see vmx_irq_util.h). */
#include "alloc.h"
#include "apic.h"
#include "desc.h"
#include "msr.h"
#include "processor.h"
#include "report.h"
#include "vmx_irq_util.h"

struct l2_irq_log l2_irq;
_Static_assert(offsetof(struct l2_irq_log, vmcall) == 33, "the stub reads l2_irq.vmcall at +33");

/* 256 stubs, 16 bytes apart: push the vector, join the common path. */
asm(".pushsection .text\n"
    ".balign 16\n"
    "vmx_irq_l2_stubs:\n"
    ".set vmx_irq_i, 0\n"
    ".rept 256\n"
    ".balign 16\n"
    "pushq $vmx_irq_i\n"
    "jmp vmx_irq_l2_common\n"
    ".set vmx_irq_i, vmx_irq_i + 1\n"
    ".endr\n"
    "vmx_irq_l2_common:\n"
    "pushq %rax\n"
    "pushq %rcx\n"
    "pushq %rdx\n"
    "pushq %rsi\n"
    "pushq %rdi\n"
    "pushq %r8\n"
    "pushq %r9\n"
    "pushq %r10\n"
    "pushq %r11\n"
    "movq %rsp, %rdi\n"
    "subq $8, %rsp\n"
    "cld\n"
    "call vmx_irq_l2_record\n"
    "addq $8, %rsp\n"
    "popq %r11\n"
    "popq %r10\n"
    "popq %r9\n"
    "popq %r8\n"
    "popq %rdi\n"
    "popq %rsi\n"
    "popq %rdx\n"
    "popq %rcx\n"
    "popq %rax\n"
    "addq $8, %rsp\n"
    "cmpb $0, l2_irq+33(%rip)\n"
    "je 1f\n"
    "vmcall\n"
    "1: iretq\n"
    ".popsection\n");
extern char vmx_irq_l2_stubs[];

void vmx_irq_l2_record(uint64_t *frame);

/* frame: 9 saved GPRs, the vector, then RIP, CS, RFLAGS, RSP, SS. */
void vmx_irq_l2_record(uint64_t *frame)
{
	l2_irq.vector = frame[9];
	l2_irq.rip = frame[10];
	l2_irq.rflags = frame[12];
	l2_irq.count++;
	if (l2_irq.eoi && frame[9] >= 32)
		apic_eoi();
}

void l2_irq_reset(void)
{
	memset((void *)&l2_irq, 0, sizeof(l2_irq));
}

uint64_t l2_idt_handler(unsigned vector)
{
	return (uint64_t)vmx_irq_l2_stubs + 16 * vector;
}

static uint64_t *l2_idt;
static void *msr_bitmap;

static void build_l2_idt(void)
{
	uint16_t cs = read_cs();

	l2_idt = alloc_pages(2, PAGE_SIZE);
	for (unsigned v = 0; v < 256; v++) {
		uint64_t h = l2_idt_handler(v);

		/* 64-bit interrupt gate, DPL 0, present, IST 0 (SDM Vol. 3A 6.14.1). */
		l2_idt[2 * v] = (h & 0xffff) | ((uint64_t)cs << 16) | (0x8eull << 40) |
				((h >> 16 & 0xffff) << 48);
		l2_idt[2 * v + 1] = h >> 32;
	}
}

void vmx_irq_vcpu_reset(struct vmx_vcpu *vcpu, void *rip)
{
	if (!l2_idt)
		build_l2_idt();
	vmx_vcpu_reset(vcpu, rip);
	vmcs_write(VMCS_GUEST_IDTR_BASE, (uint64_t)l2_idt);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 256 * 16 - 1);
	if (vmx_ctls_supported(VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS)) {
		if (!msr_bitmap)
			msr_bitmap = alloc_page();
		vmx_vcpu_set_ctls(vcpu, VMX_CTLS_PROC, VMX_PROC_MSR_BITMAPS, 0);
		vmcs_write(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	}
	l2_irq_reset();
}

void apic_self_nmi(void)
{
	uint32_t id = apic_id();

	/* Delivery mode NMI (100b), physical destination, no shorthand (SDM Vol. 3A 12.6.1). */
	if (apic_is_x2apic()) {
		wrmsr(MSR_X2APIC_BASE + APIC_ICR / 16, (uint64_t)id << 32 | 0x400 | BIT(14));
		return;
	}
	apic_write(APIC_ICR2, id << 24);
	apic_write(APIC_ICR, 0x400 | BIT(14));
}

bool apic_pend(uint8_t vector)
{
	irq_disable();
	apic_self_ipi(vector);
	for (unsigned i = 0; i < 1000000; i++)
		if (apic_irr_test(vector))
			return true;
	return false;
}

static volatile unsigned l1_count;

static void l1_handler(struct ex_regs *regs)
{
	l1_count++;
	apic_eoi();
}

unsigned l1_drain(uint8_t vector)
{
	l1_count = 0;
	irq_set_handler(vector, l1_handler);
	irq_enable();
	for (unsigned i = 0; i < 10000 && !l1_count; i++)
		cpu_relax();
	irq_disable();
	irq_set_handler(vector, NULL);
	return l1_count;
}

void apic_eoi_if_in_service(uint8_t vector)
{
	if (apic_isr_test(vector))
		apic_eoi();
}

void l1_iret_self(void)
{
	asm volatile("movl %%ss, %%eax\n"
		     "pushq %%rax\n"
		     "leaq 8(%%rsp), %%rax\n"
		     "pushq %%rax\n"
		     "pushfq\n"
		     "movl %%cs, %%eax\n"
		     "pushq %%rax\n"
		     "leaq 1f(%%rip), %%rax\n"
		     "pushq %%rax\n"
		     "iretq\n"
		     "1:"
		     : : : "rax", "memory");
}

uint64_t vmx_misc(void)
{
	return rdmsr(MSR_IA32_VMX_MISC);
}
