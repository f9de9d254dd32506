/*
 * SVM I/O intercepts (AMD APM Vol. 2 15.10): with IOIO_PROT set, an IN, OUT,
 * INS or OUTS exits (0x7B) before it runs when the I/O permission map has the
 * bit of any port byte the access covers set (15.10.1): a word access to port
 * p checks bits p and p+1, a dword access p to p+3; the map is 12 KiB so that
 * accesses starting at up to 0xFFFF find their last bits in its third page.
 * EXITINFO1 describes the access (15.10.2, Figure 15-2): bit 0 IN, bit 2
 * string, bit 3 REP, bits 6:4 the size, bits 9:7 the address size, with
 * decode assists bits 12:10 the segment, bits 31:16 the port; EXITINFO2 is
 * the RIP of the next instruction.
 */
#include "alloc.h"
#include "processor.h"
#include "svm.h"
#include "test.h"

/* RDX = the port, RSI/RDI = a scratch buffer, RCX = 4 (set by L1). */
SVM_L2_CODE(l2_in_b, "inb %dx, %al");
SVM_L2_CODE(l2_in_w, "inw %dx, %ax");
SVM_L2_CODE(l2_in_d, "inl %dx, %eax");
SVM_L2_CODE(l2_out_b, "outb %al, %dx");
SVM_L2_CODE(l2_out_w, "outw %ax, %dx");
SVM_L2_CODE(l2_out_d, "outl %eax, %dx");
SVM_L2_CODE(l2_in_b_imm, "inb $0x80, %al");
SVM_L2_CODE(l2_in_w_imm, "inw $0x80, %ax");
SVM_L2_CODE(l2_in_d_imm, "inl $0x80, %eax");
SVM_L2_CODE(l2_out_b_imm, "outb %al, $0x80");
SVM_L2_CODE(l2_out_w_imm, "outw %ax, $0x80");
SVM_L2_CODE(l2_out_d_imm, "outl %eax, $0x80");
SVM_L2_CODE(l2_insb, "insb");
SVM_L2_CODE(l2_insw, "insw");
SVM_L2_CODE(l2_insd, "insl");
SVM_L2_CODE(l2_outsb, "outsb");
SVM_L2_CODE(l2_outsw, "outsw");
SVM_L2_CODE(l2_outsd, "outsl");
SVM_L2_CODE(l2_rep_insb, "rep insb");
SVM_L2_CODE(l2_rep_outsw, "rep outsw");
SVM_L2_CODE(l2_a32_insb, "addr32 insb");
SVM_L2_CODE(l2_a32_rep_outsb, "addr32 rep outsb");
SVM_L2_CODE(l2_fs_outsb, "outsb %fs:(%rsi), (%dx)");
SVM_L2_CODE(l2_gs_outsd, "outsl %gs:(%rsi), (%dx)");

#define PORT	0x80		/* a harmless port (POST codes) */
#define PORT_B	0x1230		/* an unassigned port, for the bit-coverage cases */

/* EXITINFO1 without the port */
#define IN8	(SVM_IOIO_IN | SVM_IOIO_SZ8)
#define IN16	(SVM_IOIO_IN | SVM_IOIO_SZ16)
#define IN32	(SVM_IOIO_IN | SVM_IOIO_SZ32)
#define OUT8	SVM_IOIO_SZ8
#define OUT16	SVM_IOIO_SZ16
#define OUT32	SVM_IOIO_SZ32
#define STR	SVM_IOIO_STR
#define REP	SVM_IOIO_REP
#define SEG(s)	((uint64_t)(s) << SVM_IOIO_SEG_SHIFT)
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

struct io_case {
	const char *code, *end;
	uint32_t port;		/* in RDX (the imm forms use PORT) */
	int32_t bits[2];	/* map bits to set, -1: none */
	bool exits;
	uint64_t info;		/* EXITINFO1 bits 9:0 */
	unsigned asize;		/* 16, 32 or 64 */
	int seg;		/* with decode assists, -1: not checked */
};

static struct svm_vcpu *vcpu;
static uint8_t *buffer;

static void setup(void)
{
	vcpu = svm_test_setup();
	if (!vcpu)
		return;
	buffer = alloc_page();
}

static void prepare(const struct io_case *c, bool prot)
{
	svm_vcpu_reset(vcpu, (void *)c->code);
	svm_isolate_exceptions(vcpu);
	svm_iopm_clear(vcpu);
	for (unsigned i = 0; i < 2; i++)
		if (c->bits[i] >= 0)
			svm_iopm_set(vcpu, c->bits[i], true);
	svm_intercept(vcpu, SVM_INTERCEPT_IOIO_PROT, prot);
	vcpu->regs.rdx = c->port;
	vcpu->regs.rsi = (uint64_t)buffer;
	vcpu->regs.rdi = (uint64_t)buffer;
	vcpu->regs.rcx = 4;
	vcpu->vmcb->save.rax = 0;
}

static void run_io(const struct io_case *c)
{
	struct vmcb_control *ctl = &vcpu->vmcb->control;
	uint64_t code, asz, port = c->port;

	if (!svm_require())
		return;
	prepare(c, true);
	code = svm_run(vcpu);
	if (!c->exits) {
		check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)c->end,
			  "not_intercepted", "exit code %#lx (EXITINFO1 %#lx) at rip %#lx, expected "
			  "VMMCALL at %p", code, ctl->exit_info1, vcpu->vmcb->save.rip, c->end);
		return;
	}
	check_msg(code == SVM_EXIT_IOIO && vcpu->vmcb->save.rip == (uint64_t)c->code, "exit",
		  "exit code %#lx at rip %#lx, expected IOIO (0x7b) at rip %p", code,
		  vcpu->vmcb->save.rip, c->code);
	if (code != SVM_EXIT_IOIO)
		return;
	/* Type, string, REP, size and port; the address size and segment apart. */
	check_eq("exitinfo1", ctl->exit_info1 & ~(0x3full << 7),
		 c->info | (port << SVM_IOIO_PORT_SHIFT));
	asz = c->asize == 16 ? SVM_IOIO_A16 : c->asize == 32 ? SVM_IOIO_A32 : SVM_IOIO_A64;
	check_eq("asize", ctl->exit_info1 & (7ull << 7), asz);
	if (c->seg >= 0) {
		if (!svm_has(SVM_FEATURE_DECODE_ASSISTS))
			skip("segment", "no %s", svm_feature_name(SVM_FEATURE_DECODE_ASSISTS));
		else
			check_eq("segment", (ctl->exit_info1 & SVM_IOIO_SEG_MASK) >> SVM_IOIO_SEG_SHIFT,
				 c->seg);
	}
	check_eq("exitinfo2", ctl->exit_info2, (uint64_t)c->end);
	if (c->info & REP)	/* the exit comes before the first iteration */
		check_msg(vcpu->regs.rcx == 4 && vcpu->regs.rdi == (uint64_t)buffer &&
			  vcpu->regs.rsi == (uint64_t)buffer, "before_first_iteration",
			  "RCX %#lx RSI %#lx RDI %#lx at the exit, expected 4 and %p", vcpu->regs.rcx,
			  vcpu->regs.rsi, vcpu->regs.rdi, buffer);
	if (!svm_has(SVM_FEATURE_NRIPS))
		skip("next_rip", "no %s", svm_feature_name(SVM_FEATURE_NRIPS));
	else
		check_eq("next_rip", ctl->next_rip, (uint64_t)c->end);

	/* IOIO_PROT clear: the map is not consulted (15.10). */
	prepare(c, false);
	code = svm_run(vcpu);
	check_msg(code == SVM_EXIT_VMMCALL && vcpu->vmcb->save.rip == (uint64_t)c->end,
		  "prot_off", "exit code %#lx at rip %#lx with IOIO_PROT clear, expected VMMCALL at %p",
		  code, vcpu->vmcb->save.rip, c->end);
}

#define NB -1
/*
 * ID, NAME, code, port in RDX, map bits, exits, EXITINFO1 bits 9:0 but the
 * address size, the address size, the segment (-1: not checked).
 */
#define IO_CASES(X)                                                                         \
	X(size_in_b, "size.in_b", in_b, PORT, PORT, NB, true, IN8, 64, -1)                                \
	X(size_in_w, "size.in_w", in_w, PORT, PORT, NB, true, IN16, 64, -1)                               \
	X(size_in_d, "size.in_d", in_d, PORT, PORT, NB, true, IN32, 64, -1)                               \
	X(size_out_b, "size.out_b", out_b, PORT, PORT, NB, true, OUT8, 64, -1)                             \
	X(size_out_w, "size.out_w", out_w, PORT, PORT, NB, true, OUT16, 64, -1)                            \
	X(size_out_d, "size.out_d", out_d, PORT, PORT, NB, true, OUT32, 64, -1)                            \
	X(imm_in_b, "imm.in_b", in_b_imm, PORT, PORT, NB, true, IN8, 64, -1)                             \
	X(imm_in_w, "imm.in_w", in_w_imm, PORT, PORT, NB, true, IN16, 64, -1)                            \
	X(imm_in_d, "imm.in_d", in_d_imm, PORT, PORT, NB, true, IN32, 64, -1)                            \
	X(imm_out_b, "imm.out_b", out_b_imm, PORT, PORT, NB, true, OUT8, 64, -1)                          \
	X(imm_out_w, "imm.out_w", out_w_imm, PORT, PORT, NB, true, OUT16, 64, -1)                         \
	X(imm_out_d, "imm.out_d", out_d_imm, PORT, PORT, NB, true, OUT32, 64, -1)                         \
	X(bits_byte_own, "bits.byte_own", in_b, PORT_B, PORT_B, NB, true, IN8, 64, -1)                        \
	X(bits_byte_neighbors, "bits.byte_neighbors", in_b, PORT_B, PORT_B - 1, PORT_B + 1, false, 0, 64, -1)       \
	X(bits_word_first, "bits.word_first", in_w, PORT_B, PORT_B, NB, true, IN16, 64, -1)                     \
	X(bits_word_second, "bits.word_second", in_w, PORT_B, PORT_B + 1, NB, true, IN16, 64, -1)                \
	X(bits_word_neighbors, "bits.word_neighbors", in_w, PORT_B, PORT_B - 1, PORT_B + 2, false, 0, 64, -1)       \
	X(bits_dword_first, "bits.dword_first", in_d, PORT_B, PORT_B, NB, true, IN32, 64, -1)                    \
	X(bits_dword_second, "bits.dword_second", in_d, PORT_B, PORT_B + 1, NB, true, IN32, 64, -1)               \
	X(bits_dword_third, "bits.dword_third", in_d, PORT_B, PORT_B + 2, NB, true, IN32, 64, -1)                \
	X(bits_dword_fourth, "bits.dword_fourth", out_d, PORT_B, PORT_B + 3, NB, true, OUT32, 64, -1)             \
	X(bits_dword_neighbors, "bits.dword_neighbors", out_d, PORT_B, PORT_B - 1, PORT_B + 4, false, 0, 64, -1)     \
	X(bits_unaligned_word, "bits.unaligned_word", in_w, PORT_B + 7, PORT_B + 8, NB, true, IN16, 64, -1)         \
	X(bits_empty_map, "bits.empty_map", in_d, PORT_B, NB, NB, false, 0, 64, -1)                            \
	X(boundary_port_0, "boundary.port_0", in_b, 0, 0, NB, true, IN8, 64, -1)                                \
	X(boundary_port_0_word_neighbor, "boundary.port_0_word_neighbor", in_b, 0, 1, NB, false, 0, 64, -1)                   \
	X(boundary_port_ffff, "boundary.port_ffff", in_b, 0xffff, 0xffff, NB, true, IN8, 64, -1)                   \
	X(boundary_word_ffff_third_page, "boundary.word_ffff_third_page", in_w, 0xffff, 0x10000, NB, true, IN16, 64, -1)      \
	X(boundary_dword_fffe_third_page, "boundary.dword_fffe_third_page", in_d, 0xfffe, 0x10001, NB, true, IN32, 64, -1)     \
	X(boundary_dword_fffd_third_page, "boundary.dword_fffd_third_page", in_d, 0xfffd, 0x10000, NB, true, IN32, 64, -1)     \
	X(boundary_word_fffe_below, "boundary.word_fffe_below", in_w, 0xfffe, 0xfffd, 0x10000, false, 0, 64, -1)         \
	X(string_insb, "string.insb", insb, PORT, PORT, NB, true, IN8 | STR, 64, SEG_ES)                    \
	X(string_insw, "string.insw", insw, PORT, PORT, NB, true, IN16 | STR, 64, SEG_ES)                   \
	X(string_insd, "string.insd", insd, PORT, PORT, NB, true, IN32 | STR, 64, SEG_ES)                   \
	X(string_outsb, "string.outsb", outsb, PORT, PORT, NB, true, OUT8 | STR, 64, SEG_DS)                 \
	X(string_outsw, "string.outsw", outsw, PORT, PORT, NB, true, OUT16 | STR, 64, SEG_DS)                \
	X(string_outsd, "string.outsd", outsd, PORT, PORT, NB, true, OUT32 | STR, 64, SEG_DS)                \
	X(string_rep_insb, "string.rep_insb", rep_insb, PORT, PORT, NB, true, IN8 | STR | REP, 64, SEG_ES)      \
	X(string_rep_outsw, "string.rep_outsw", rep_outsw, PORT_B, PORT_B + 1, NB, true, OUT16 | STR | REP, 64, SEG_DS) \
	X(string_a32_insb, "string.a32_insb", a32_insb, PORT, PORT, NB, true, IN8 | STR, 32, SEG_ES)            \
	X(string_a32_rep_outsb, "string.a32_rep_outsb", a32_rep_outsb, PORT, PORT, NB, true, OUT8 | STR | REP, 32, SEG_DS) \
	X(string_fs_outsb, "string.fs_outsb", fs_outsb, PORT, PORT, NB, true, OUT8 | STR, 64, SEG_FS)           \
	X(string_gs_outsd, "string.gs_outsd", gs_outsd, PORT_B, PORT_B + 3, NB, true, OUT32 | STR, 64, SEG_GS)  \
	X(string_insb_not_intercepted, "string.insb_not_intercepted", insb, PORT, PORT + 1, NB, false, 0, 64, -1)

#define DEFINE_CASE(id, n, insn, p, b0, b1, ex, info, as, sg)                        \
	static void check_##id(void)                                                   \
	{                                                                              \
		static const struct io_case c = { l2_##insn, l2_##insn##_end, p,        \
						  { b0, b1 }, ex, info, as, sg };      \
		run_io(&c);                                                            \
	}
IO_CASES(DEFINE_CASE)

#define TABLE_ENTRY(id, n, ...) { "io." n, check_##id },

static const struct check_entry checks[] = {
	IO_CASES(TABLE_ENTRY)
};

DEFINE_TEST("svm_iopm", checks, .setup = setup);
