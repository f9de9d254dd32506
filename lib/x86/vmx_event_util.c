/* An IDT of L2's own whose stubs exit with VMCALL (vmx_event_util.h). */
#include <string.h>
#include "desc.h"
#include "vmx_event_util.h"

/* 256 stubs of 8 bytes: VMCALL (3 bytes), UD2, padding. */
asm(".pushsection .text\n"
    ".balign 8\n"
    ".globl vmx_l2_stubs\n"
    "vmx_l2_stubs:\n"
    ".rept 256\n"
    "vmcall\n"
    "ud2\n"
    ".balign 8\n"
    ".endr\n"
    ".globl vmx_l2_stubs_end\n"
    "vmx_l2_stubs_end:\n"
    ".popsection\n");
extern char vmx_l2_stubs[], vmx_l2_stubs_end[];

static uint64_t l2_idt[512] __aligned(4096);
static bool built;

/* A 64-bit interrupt gate (SDM Vol. 3A 7.14.1, Figure 7-8). */
static void set_gate(unsigned v, bool present)
{
	uint64_t off = (uint64_t)vmx_l2_stubs + 8 * v;

	l2_idt[2 * v] = (off & 0xffff) | ((uint64_t)KERNEL_CS64 << 16) | (0xeull << 40) |
			(3ull << 45) | ((present ? 1ull : 0) << 47) |
			(((off >> 16) & 0xffff) << 48);
	l2_idt[2 * v + 1] = off >> 32;
}

void vmx_l2_idt_reset(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, true);
	built = true;
}

void vmx_l2_idt_init(void)
{
	if (!built)
		vmx_l2_idt_reset();
}

void vmx_l2_idt_use(void)
{
	vmx_l2_idt_init();
	vmcs_write(VMCS_GUEST_IDTR_BASE, (uint64_t)l2_idt);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, sizeof(l2_idt) - 1);
}

void vmx_l2_idt_set_present(unsigned vector, bool present)
{
	vmx_l2_idt_init();
	set_gate(vector, present);
}

void vmx_l2_event_read(struct vmx_vcpu *vcpu, uint64_t rsp0, struct vmx_l2_event *ev)
{
	uint64_t rip = vmcs_read(VMCS_GUEST_RIP), rsp = vmcs_read(VMCS_GUEST_RSP);
	uint64_t top = rsp0 & ~15ull;
	const uint64_t *f = (const uint64_t *)rsp;

	memset(ev, 0, sizeof(*ev));
	if (vcpu->exit_reason != VMX_EXIT_VMCALL || rip < (uint64_t)vmx_l2_stubs ||
	    rip >= (uint64_t)vmx_l2_stubs_end)
		return;
	ev->delivered = true;
	ev->vector = (rip - (uint64_t)vmx_l2_stubs) / 8;
	ev->handler_rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	if (rsp == top - 48) {
		ev->has_error = true;
		ev->error = *f++;
	} else if (rsp != top - 40) {
		return;
	}
	ev->frame_ok = true;
	ev->rip = f[0];
	ev->cs = f[1];
	ev->rflags = f[2];
	ev->rsp = f[3];
	ev->ss = f[4];
}
