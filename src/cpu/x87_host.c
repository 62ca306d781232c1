/* x87_host.c: guest x87 arithmetic executed by the host's own x87 unit.
 *
 * The host is x86-64, so its x87 unit has exactly the guest's semantics
 * (80-bit formats, precision and rounding control, NaN and denormal
 * precedence, condition codes, FPREM partial remainders). Each helper
 * loads an environment holding the guest FCW with every exception masked
 * and the guest's condition codes (so codes an instruction leaves alone
 * stay the guest's), runs one instruction on operands passed in memory,
 * reads FSW and restores the host FCW. The helpers are noinline and leave
 * the host register stack empty as they found it, so the compiler never has
 * x87 values live across them.
 */
#include "x87.h"

/* START empties the host stack under the guest FCW; the operands are then
 * pushed, and SETENV reloads the environment with the guest's condition
 * codes (the pushes themselves would have changed C1). */
#define START "fnstcw %[sv]\n\tfldenv %[env0]\n\t"
#define SETENV "fldenv %[env]\n\t"
#define PRE START
#define POST "\n\tfnclex\n\tfldcw %[sv]"
#define M80(p) (*(long double *)(p))
#define IO_CW [sv] "=m"(sv), [sw] "=m"(sw)
#define ENV [env0] "m"(env0), [env] "m"(env)
#define ENVS(n)                                                                              \
	struct host_env env0 = guest_env(cpu, 0), env = guest_env(cpu, n)

/* 28-byte protected-mode environment: FCW (exceptions masked), FSW with the
 * guest's C0-C3 and TOP = 8 - n, FTW with the n registers R(8-n)..R7
 * valid and the rest empty; pointers zero. */
struct host_env {
	u32 w[7];
};

static struct host_env guest_env(const struct cpu *cpu, unsigned n)
{
	u32 top = (8 - n) & 7, ftw = 0xffffu >> (2 * n);
	struct host_env e = { { (u32)(cpu->fpu.fcw | FCW_EXC_MASKS),
				(cpu->fpu.fsw & FSW_CC) | (top << 11), ftw, 0, 0, 0, 0 } };
	return e;
}

/* a in ST(0), b in ST(1); the result replaces ST(0); both popped. */
#define BIN(insn)                                                                            \
	asm volatile(PRE "fldt %[b]\n\tfldt %[a]\n\t" SETENV insn "\n\tfnstsw %[sw]\n\t"            \
			 "fstpt %[r]\n\tfstp %%st(0)" POST                                   \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : [a] "m"(M80(a)), [b] "m"(M80(b)), ENV)
/* The instruction writes ST(1) and pops (FYL2X, FYL2XP1, FPATAN). */
#define BIN_POP(insn)                                                                        \
	asm volatile(PRE "fldt %[b]\n\tfldt %[a]\n\t" SETENV insn "\n\tfnstsw %[sw]\n\t"            \
			 "fstpt %[r]" POST                                                   \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : [a] "m"(M80(a)), [b] "m"(M80(b)), ENV)

__attribute__((noinline)) u16 x87_host_binop(const struct cpu *cpu, enum x87_binop op, const long double *a,
					     const long double *b, long double *r)
{
	u16 sv, sw = 0;
	ENVS(2);
	switch (op) {
	case XB_ADD: BIN("fadd %%st(1), %%st"); break;
	case XB_MUL: BIN("fmul %%st(1), %%st"); break;
	case XB_SUB: BIN("fsub %%st(1), %%st"); break;   /* ST0 = a - b */
	case XB_SUBR: BIN("fsubr %%st(1), %%st"); break; /* ST0 = b - a */
	case XB_DIV: BIN("fdiv %%st(1), %%st"); break;
	case XB_DIVR: BIN("fdivr %%st(1), %%st"); break;
	case XB_PREM: BIN("fprem"); break;
	case XB_PREM1: BIN("fprem1"); break;
	case XB_SCALE: BIN("fscale"); break;
	case XB_COM: BIN("fcom %%st(1)"); break;
	case XB_UCOM: BIN("fucom %%st(1)"); break;
	case XB_YL2X: BIN_POP("fyl2x"); break;
	case XB_YL2XP1: BIN_POP("fyl2xp1"); break;
	case XB_PATAN: BIN_POP("fpatan"); break;
	}
	return sw;
}

/* a in ST(0) with a memory source (FADD m32fp, FIMUL m16int, ...). */
#define BINM(insn, type)                                                                     \
	asm volatile(PRE "fldt %[a]\n\t" SETENV insn " %[m]\n\tfnstsw %[sw]\n\tfstpt %[r]" POST     \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : [a] "m"(M80(a)), [m] "m"(*(const type *)mem), ENV)
#define BINM4(f32, f64, i32, i16)                                                            \
	do {                                                                                 \
		switch (kind) {                                                              \
		case XM_F32: BINM(f32, float); break;                                        \
		case XM_F64: BINM(f64, double); break;                                       \
		case XM_I32: BINM(i32, s32); break;                                          \
		default: BINM(i16, s16); break;                                              \
		}                                                                            \
	} while (0)

__attribute__((noinline)) u16 x87_host_binop_mem(const struct cpu *cpu, enum x87_binop op,
						 enum x87_mem kind, const long double *a,
						 const void *mem, long double *r)
{
	u16 sv, sw = 0;
	ENVS(1);
	switch (op) {
	case XB_ADD: BINM4("fadds", "faddl", "fiaddl", "fiadds"); break;
	case XB_MUL: BINM4("fmuls", "fmull", "fimull", "fimuls"); break;
	case XB_SUB: BINM4("fsubs", "fsubl", "fisubl", "fisubs"); break;
	case XB_SUBR: BINM4("fsubrs", "fsubrl", "fisubrl", "fisubrs"); break;
	case XB_DIV: BINM4("fdivs", "fdivl", "fidivl", "fidivs"); break;
	case XB_DIVR: BINM4("fdivrs", "fdivrl", "fidivrl", "fidivrs"); break;
	default: BINM4("fcoms", "fcoml", "ficoml", "ficoms"); break;
	}
	return sw;
}

/* FCOMI/FUCOMI ST(0), b: ZF, PF, CF into f[0..2]. */
#define COMI(insn)                                                                           \
	asm volatile(PRE "fldt %[b]\n\tfldt %[a]\n\t" SETENV insn " %%st(1), %%st\n\t"              \
			 "setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\tfnstsw %[sw]\n\t"              \
			 "fstp %%st(0)\n\tfstp %%st(0)" POST                                \
		     : [z] "=m"(f[0]), [p] "=m"(f[1]), [c] "=m"(f[2]), IO_CW                  \
		     : [a] "m"(M80(a)), [b] "m"(M80(b)), ENV                                  \
		     : "cc")

__attribute__((noinline)) u16 x87_host_comi(const struct cpu *cpu, bool unordered,
					    const long double *a, const long double *b, u8 f[3])
{
	u16 sv, sw = 0;
	ENVS(2);
	if (unordered)
		COMI("fucomi");
	else
		COMI("fcomi");
	return sw;
}

#define UN(insn)                                                                             \
	asm volatile(PRE "fldt %[a]\n\t" SETENV insn "\n\tfnstsw %[sw]\n\tfstpt %[r]" POST          \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : [a] "m"(M80(a)), ENV)
/* Two results: r2 the pushed new ST(0), r the new ST(1). FPTAN and FSINCOS
 * push nothing when they set C2 (operand out of range). */
#define UN2(insn)                                                                            \
	asm volatile(PRE "fldt %[a]\n\t" SETENV insn "\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t"      \
			 "testw $0x400, %%ax\n\tjnz 1f\n\tfstpt %[r2]\n"                     \
			 "1:\n\tfstpt %[r]" POST                                             \
		     : [r] "=m"(M80(r)), [r2] "=m"(M80(r2)), IO_CW                           \
		     : [a] "m"(M80(a)), ENV                                         \
		     : "ax")
/* FXTRACT always pushes (its C2 is undefined, so it cannot be tested). */
#define UN2_ALWAYS(insn)                                                                     \
	asm volatile(PRE "fldt %[a]\n\t" SETENV insn "\n\tfnstsw %[sw]\n\tfstpt %[r2]\n\t"        \
			 "fstpt %[r]" POST                                                   \
		     : [r] "=m"(M80(r)), [r2] "=m"(M80(r2)), IO_CW                           \
		     : [a] "m"(M80(a)), ENV)

__attribute__((noinline)) u16 x87_host_unop(const struct cpu *cpu, enum x87_unop op, const long double *a,
					    long double *r, long double *r2)
{
	u16 sv, sw = 0;
	ENVS(1);
	switch (op) {
	case XU_SQRT: UN("fsqrt"); break;
	case XU_RNDINT: UN("frndint"); break;
	case XU_F2XM1: UN("f2xm1"); break;
	case XU_SIN: UN("fsin"); break;
	case XU_COS: UN("fcos"); break;
	case XU_TST: UN("ftst"); break;
	case XU_CHS: UN("fchs"); break;
	case XU_ABS: UN("fabs"); break;
	case XU_PTAN: UN2("fptan"); break;
	case XU_SINCOS: UN2("fsincos"); break;
	case XU_XTRACT: UN2_ALWAYS("fxtract"); break;
	}
	return sw;
}

#define LD(insn, type)                                                                       \
	asm volatile(PRE insn " %[m]\n\tfnstsw %[sw]\n\tfstpt %[r]" POST                     \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : [m] "m"(*(const type *)mem), ENV)

struct bcd80 {
	u8 b[10];
};

__attribute__((noinline)) u16 x87_host_load(const struct cpu *cpu, enum x87_mem kind, const void *mem,
					    long double *r)
{
	u16 sv, sw = 0;
	ENVS(0);
	switch (kind) {
	case XM_F32: LD("flds", float); break;
	case XM_F64: LD("fldl", double); break;
	case XM_I16: LD("filds", s16); break;
	case XM_I32: LD("fildl", s32); break;
	case XM_I64: LD("fildll", s64); break;
	case XM_BCD: LD("fbld", struct bcd80); break;
	}
	return sw;
}

#define ST(insn, type)                                                                       \
	asm volatile(PRE "fldt %[a]\n\t" SETENV insn " %[m]\n\tfnstsw %[sw]" POST                   \
		     : [m] "=m"(*(type *)mem), IO_CW                                         \
		     : [a] "m"(M80(a)), ENV)

__attribute__((noinline)) u16 x87_host_store(const struct cpu *cpu, enum x87_mem kind, bool trunc,
					     const long double *a, void *mem)
{
	u16 sv, sw = 0;
	ENVS(1);
	switch (kind) {
	case XM_F32: ST("fstps", float); break;
	case XM_F64: ST("fstpl", double); break;
	case XM_I16:
		if (trunc)
			ST("fisttps", s16);
		else
			ST("fistps", s16);
		break;
	case XM_I32:
		if (trunc)
			ST("fisttpl", s32);
		else
			ST("fistpl", s32);
		break;
	case XM_I64:
		if (trunc)
			ST("fisttpll", s64);
		else
			ST("fistpll", s64);
		break;
	case XM_BCD: ST("fbstp", struct bcd80); break;
	}
	return sw;
}

#define CONST(insn)                                                                          \
	asm volatile(PRE insn "\n\tfnstsw %[sw]\n\tfstpt %[r]" POST                          \
		     : [r] "=m"(M80(r)), IO_CW                                               \
		     : ENV)

__attribute__((noinline)) u16 x87_host_const(const struct cpu *cpu, unsigned which, long double *r)
{
	u16 sv, sw = 0;
	ENVS(0);
	switch (which) {
	case 0: CONST("fld1"); break;
	case 1: CONST("fldl2t"); break;
	case 2: CONST("fldl2e"); break;
	case 3: CONST("fldpi"); break;
	case 4: CONST("fldlg2"); break;
	case 5: CONST("fldln2"); break;
	default: CONST("fldz"); break;
	}
	return sw;
}
