/* An IDT of L2's own with recording stubs (AMD APM Vol. 2 15.20), exit-code text. */
#include "alloc.h"
#include "desc.h"
#include "svm_util.h"

volatile struct l2_event_record l2_event;

/*
 * One 16-byte stub per vector pushes the vector and joins the common part,
 * which records the vector, RSP at the gate and the six words above it, counts
 * the delivery and exits.  RAX is L2's to clobber: the VMCB holds it.
 */
asm(".pushsection .text\n"
    ".balign 16\n"
    "l2_idt_stubs:\n"
    "vector = 0\n"
    ".rept 256\n"
    ".balign 16\n"
    "pushq $vector\n"
    "jmp l2_idt_common\n"
    "vector = vector + 1\n"
    ".endr\n"
    "l2_idt_common:\n"
    "popq l2_event+8(%rip)\n"
    "movq %rsp, l2_event+16(%rip)\n"
    "movq 0(%rsp), %rax\n movq %rax, l2_event+24(%rip)\n"
    "movq 8(%rsp), %rax\n movq %rax, l2_event+32(%rip)\n"
    "movq 16(%rsp), %rax\n movq %rax, l2_event+40(%rip)\n"
    "movq 24(%rsp), %rax\n movq %rax, l2_event+48(%rip)\n"
    "movq 32(%rsp), %rax\n movq %rax, l2_event+56(%rip)\n"
    "movq 40(%rsp), %rax\n movq %rax, l2_event+64(%rip)\n"
    "lock incq l2_event(%rip)\n"
    "vmmcall\n"
    "ud2\n"
    ".popsection\n");
extern const char l2_idt_stubs[];

void *l2_idt_create(void)
{
	uint64_t *idt = alloc_page();

	for (unsigned v = 0; v < 256; v++) {
		uint64_t handler = (uint64_t)l2_idt_stubs + 16 * v;

		/* 64-bit interrupt gate, present, DPL 0, no IST (APM Vol. 2 4.8.4). */
		idt[2 * v] = (handler & 0xffff) | ((uint64_t)KERNEL_CS64 << 16) | (0x8eull << 40) |
			     ((handler >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = handler >> 32;
	}
	return idt;
}

void l2_idt_set_present(void *idt, unsigned vector, bool present)
{
	uint64_t *gate = (uint64_t *)idt + 2 * vector;

	if (present)
		*gate |= BIT(47);
	else
		*gate &= ~BIT(47);
}

void l2_idt_prepare(struct svm_vcpu *vcpu, void *idt)
{
	vcpu->vmcb->save.idtr.base = (uint64_t)idt;
	vcpu->vmcb->save.idtr.limit = 256 * 16 - 1;
	vcpu->vmcb->save.rsp = l2_stack_top(vcpu);
}

uint64_t l2_stack_top(struct svm_vcpu *vcpu)
{
	return (uint64_t)vcpu->stack + PAGE_SIZE - L2_STACK_SLACK;
}

void l2_event_reset(void)
{
	memset((void *)&l2_event, 0, sizeof(l2_event));
}

const char *svm_exit_text(uint64_t code, char *buf, size_t size)
{
	const char *name = svm_exit_name(code);

	snprintf(buf, size, "%#lx (%s)", code, name ? name : "?");
	return buf;
}
