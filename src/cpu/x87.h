/* x87.h: x87 FPU state helpers shared by x87*.c, sse.c and xsave.c.
 *
 * State lives in cpu->fpu (cpu.h). Conventions of this family:
 *  - fpu.fsw holds every status bit except TOP (bits 13:11), which lives in
 *    fpu.top; x87_get_fsw() merges them.
 *  - fpu.ftw has 2 bits per *physical* register; only "3 = empty" versus
 *    "not empty" is significant. The full tag (valid/zero/special) is
 *    derived from the register contents when it is saved (FNSTENV, FNSAVE),
 *    which is also what FLDENV/FRSTOR imply (SDM Vol. 1 8.1.7).
 *  - fpu.st[] are physical registers R0..R7 in the host's 80-bit
 *    long double format; ST(i) is R[(top + i) & 7].
 */
#ifndef CETVM_X87_H
#define CETVM_X87_H

#include "cpu.h"

/* FPU status word (SDM Vol. 1 8.1.3). */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_EXC 0x003fu
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* FPU control word (SDM Vol. 1 8.1.5). */
#define FCW_EXC_MASKS 0x003fu
#define FCW_PC 0x0300u
#define FCW_RC 0x0c00u
#define FCW_DEFAULT 0x037fu

/* Tag values (SDM Vol. 1 8.1.7). */
#define TAG_VALID 0
#define TAG_ZERO 1
#define TAG_SPECIAL 2
#define TAG_EMPTY 3

static inline u16 x87_get_fsw(const struct cpu *cpu)
{
	return (u16)((cpu->fpu.fsw & ~FSW_TOP) | ((cpu->fpu.top & 7u) << 11));
}

static inline void x87_set_fsw(struct cpu *cpu, u16 v)
{
	cpu->fpu.fsw = v & ~FSW_TOP;
	cpu->fpu.top = (v >> 11) & 7;
}

/* Full tag word, computed from the contents of non-empty registers. */
u16 x87_full_tag_word(const struct cpu *cpu);
/* FXSAVE abridged tag: bit i = 1 iff physical register i is not empty. */
u8 x87_abridged_tag(const struct cpu *cpu);
void x87_set_abridged_tag(struct cpu *cpu, u8 tag);
/* Load a full tag word: only "empty" is kept (see header comment). */
void x87_set_full_tag_word(struct cpu *cpu, u16 ftw);
/* FNINIT: control/status/tag words, FIP/FDP/FOP. Registers are kept. */
void x87_finit(struct cpu *cpu);
/* XSAVE init configuration of component 0: FNINIT state and ST0..7 = 0. */
void x87_init_component(struct cpu *cpu);
/* Is the x87 state in its XSAVE init configuration (for XINUSE[0])? */
bool x87_in_init_state(const struct cpu *cpu);

/* ST(i) as 10 bytes (80-bit format), stack order. */
void x87_get_st80(const struct cpu *cpu, unsigned i, u8 out[10]);
void x87_set_st80(struct cpu *cpu, unsigned i, const u8 in[10]);

/* ---- family internals (x87.c, x87_arith.c, x87_host.c) ---- */

/* Start of an x87 instruction: CR0.EM/TS -> #NM; for waiting instructions
 * a pending unmasked exception -> #MF; non-control instructions record
 * FIP/FOP (and FDP for memory operands) (SDM Vol. 1 8.1.8). */
enum { X87_CONTROL = 0, X87_WAIT = 1, X87_RECORD = 2 };
void x87_begin(struct cpu *cpu, const struct insn *in, unsigned how);

static inline unsigned x87_phys(const struct cpu *cpu, unsigned i)
{
	return (cpu->fpu.top + i) & 7;
}
static inline bool x87_empty(const struct cpu *cpu, unsigned i)
{
	return ((cpu->fpu.ftw >> (2 * x87_phys(cpu, i))) & 3) == TAG_EMPTY;
}
/* Copy ST(i) in or out (raw 80-bit copies, never host arithmetic). */
void x87_get(const struct cpu *cpu, unsigned i, long double *v);
void x87_put(struct cpu *cpu, unsigned i, const long double *v);
void x87_push(struct cpu *cpu, const long double *v);
void x87_pop(struct cpu *cpu);
/* The QNaN floating-point indefinite (SDM Vol. 1 4.8.3.7). */
void x87_indefinite(long double *v);

/* Merge exception flags (FSW bits 6:0). Unmasked ones set ES and B and,
 * for the pre-computation exceptions (IE, DE, ZE), return true: the
 * instruction must then leave its destination and the stack unchanged. */
bool x87_raise(struct cpu *cpu, u16 exc);
static inline void x87_set_c1(struct cpu *cpu, bool c1)
{
	cpu->fpu.fsw = (u16)((cpu->fpu.fsw & ~FSW_C1) | (c1 ? FSW_C1 : 0));
}
/* Take C0-C3 from a host status word (x87_host.c hands the guest's codes
 * to the host, so codes an instruction leaves undefined match hardware). */
static inline void x87_set_cc(struct cpu *cpu, u16 sw)
{
	cpu->fpu.fsw = (u16)((cpu->fpu.fsw & ~FSW_CC) | (sw & FSW_CC));
}
/* Stack underflow (reading an empty register): IE|SF, C1=0. Returns true
 * if the instruction must stop (unmasked); otherwise the caller uses the
 * indefinite as the result. */
bool x87_underflow(struct cpu *cpu);
/* Push-side overflow check: false if a push may proceed normally; when ST(7)
 * is in use raises IE|SF with C1=1 and returns true; the caller then pushes
 * the indefinite if the exception is masked (check x87_masked_ie()). */
bool x87_overflow(struct cpu *cpu);
static inline bool x87_masked_ie(const struct cpu *cpu)
{
	return cpu->fpu.fcw & FSW_IE;
}

/* Host x87 execution (x87_host.c): each runs one host instruction with the
 * guest's precision and rounding control, the guest's condition codes and
 * every exception masked, and returns the host status word after it
 * (exception flags, C0-C3). */
enum x87_binop { XB_ADD, XB_MUL, XB_SUB, XB_SUBR, XB_DIV, XB_DIVR, XB_PREM, XB_PREM1,
		 XB_SCALE, XB_YL2X, XB_YL2XP1, XB_PATAN, XB_COM, XB_UCOM };
u16 x87_host_binop(const struct cpu *cpu, enum x87_binop op, const long double *a,
		   const long double *b, long double *r);
/* FCOMI/FUCOMI: f[0..2] = ZF, PF, CF. */
u16 x87_host_comi(const struct cpu *cpu, bool unordered, const long double *a,
		  const long double *b, u8 f[3]);
/* Memory formats: m32fp, m64fp, m16int, m32int, m64int, m80bcd. */
enum x87_mem { XM_F32, XM_F64, XM_I16, XM_I32, XM_I64, XM_BCD };
/* ST(0) op memory (XB_ADD..XB_DIVR, XB_COM) for m32fp, m64fp, m32int, m16int. */
u16 x87_host_binop_mem(const struct cpu *cpu, enum x87_binop op, enum x87_mem kind,
		       const long double *a, const void *mem, long double *r);
enum x87_unop { XU_SQRT, XU_RNDINT, XU_F2XM1, XU_SIN, XU_COS, XU_TST, XU_CHS, XU_ABS,
		XU_PTAN, XU_SINCOS, XU_XTRACT };
/* r2 is the pushed second result of PTAN/SINCOS/XTRACT (C2 = 0 only). */
u16 x87_host_unop(const struct cpu *cpu, enum x87_unop op, const long double *a,
		  long double *r, long double *r2);
u16 x87_host_load(const struct cpu *cpu, enum x87_mem kind, const void *mem, long double *r);
/* Store with rounding (FST/FIST/FBSTP) or truncation (trunc: FISTTP). */
u16 x87_host_store(const struct cpu *cpu, enum x87_mem kind, bool trunc, const long double *a,
		   void *mem);
/* FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ: index 0..6. */
u16 x87_host_const(const struct cpu *cpu, unsigned which, long double *r);

#endif
