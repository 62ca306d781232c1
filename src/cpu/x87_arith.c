/* x87_arith.c: x87 arithmetic, comparisons, FXAM and the transcendental instructions (SDM Vol. 1 8.3). */
#include "x87.h"

#include <string.h>

#include "ops.h"
#include "sse.h"

#define FSW_CMP (FSW_C0 | FSW_C2 | FSW_C3)

/* Memory source of D8 (m32fp), DA (m32int), DC (m64fp), DE (m16int). */
static enum x87_mem mem_operand(struct cpu *cpu, const struct insn *in, u8 *buf)
{
	static const u8 kind[4] = { XM_F32, XM_I32, XM_F64, XM_I16 };
	static const u8 size[4] = { 4, 4, 8, 2 };
	unsigned k = (in->op >> 1) & 3;
	sse_read_mem(cpu, sse_lin(cpu, in, size[k], false, 0), buf, size[k]);
	return (enum x87_mem)kind[k];
}

/* A masked stack fault in a comparison reports "unordered". */
static void cmp_unordered(struct cpu *cpu)
{
	cpu->fpu.fsw |= FSW_CMP;
}

/* Check ST(0) and ST(i) for a two-operand instruction. Returns 0 if both
 * hold values, 1 on a masked stack fault (use the indefinite), -1 to stop. */
static int check_two(struct cpu *cpu, unsigned i)
{
	if (!x87_empty(cpu, 0) && !x87_empty(cpu, i))
		return 0;
	return x87_underflow(cpu) ? -1 : 1;
}

static const enum x87_binop arith_ops[8] = { XB_ADD, XB_MUL, XB_COM, XB_COM,
					     XB_SUB, XB_SUBR, XB_DIV, XB_DIVR };

/* D8, DC, DA, DE: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR and their
 * integer/popping forms. By ModRM.reg the value is a+b, a*b, a-b, b-a,
 * a/b, b/a with a = ST(0) and b the other operand, in every form; only the
 * destination differs (ST(0) for D8 and memory, ST(i) for DC/DE). Memory
 * forms run as one host instruction, so NaN and denormal precedence
 * between the operands is the hardware's. */
void op_x87_arith(struct cpu *cpu, const struct insn *in)
{
	unsigned reg = (in->modrm >> 3) & 7, i = in->modrm & 7;
	bool mem = in->flags & IF_MEM, cmp = reg == 2 || reg == 3;
	bool pop = cmp ? reg == 3 || (!mem && in->op == 0xde) : !mem && in->op == 0xde;
	unsigned dst = mem || in->op == 0xd8 ? 0 : i;
	enum x87_mem kind = XM_F32;
	long double a, b, r;
	u8 buf[8];
	u16 sw;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (mem)
		kind = mem_operand(cpu, in, buf);
	int fault = check_two(cpu, mem ? 0 : i);
	if (fault < 0)
		return;
	if (fault) {
		x87_indefinite(&r);
		if (cmp)
			cmp_unordered(cpu);
		else
			x87_put(cpu, dst, &r);
	} else {
		x87_get(cpu, 0, &a);
		if (mem) {
			sw = x87_host_binop_mem(cpu, arith_ops[reg], kind, &a, buf, &r);
		} else {
			x87_get(cpu, i, &b);
			sw = x87_host_binop(cpu, arith_ops[reg], &a, &b, &r);
		}
		if (x87_raise(cpu, sw))
			return;
		x87_set_cc(cpu, sw);
		if (!cmp)
			x87_put(cpu, dst, &r);
	}
	if (pop)
		x87_pop(cpu);
}

/* Compare ST(0) with ST(i) (FCOM rules, or FUCOM's if unordered). Returns
 * false when an unmasked exception stops the instruction. */
static bool compare_st(struct cpu *cpu, unsigned i, bool unordered)
{
	long double a, b, junk;
	int fault = check_two(cpu, i);
	if (fault)
		return fault > 0 ? (cmp_unordered(cpu), true) : false;
	x87_get(cpu, 0, &a);
	x87_get(cpu, i, &b);
	u16 sw = x87_host_binop(cpu, unordered ? XB_UCOM : XB_COM, &a, &b, &junk);
	if (x87_raise(cpu, sw))
		return false;
	x87_set_cc(cpu, sw);
	return true;
}

/* DE D9 FCOMPP, DA E9 FUCOMPP: compare ST(0) with ST(1), pop twice. */
void op_x87_fcompp(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (!compare_st(cpu, 1, in->op == 0xda))
		return;
	x87_pop(cpu);
	x87_pop(cpu);
}

/* DD E0+i FUCOM, DD E8+i FUCOMP. */
void op_x87_fucom(struct cpu *cpu, const struct insn *in)
{
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (compare_st(cpu, in->modrm & 7, true) && (in->modrm & 8))
		x87_pop(cpu);
}

/* DB F0+i FCOMI, DB E8+i FUCOMI, DF F0+i FCOMIP, DF E8+i FUCOMIP: ZF, PF,
 * CF from the comparison; OF, SF, AF cleared (SDM Vol. 2 FCOMI). */
void op_x87_fcomi(struct cpu *cpu, const struct insn *in)
{
	long double a, b;
	u8 f[3] = { 1, 1, 1 };
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	int fault = check_two(cpu, in->modrm & 7);
	if (fault < 0)
		return;
	if (!fault) {
		x87_get(cpu, 0, &a);
		x87_get(cpu, in->modrm & 7, &b);
		u16 sw = x87_host_comi(cpu, ((in->modrm >> 3) & 7) == 5, &a, &b, f);
		if (x87_raise(cpu, sw))
			return;
		x87_set_cc(cpu, sw);
	}
	cpu_flags_materialize(cpu);
	cpu->eflags &= ~X86_EFLAGS_ARITH;
	cpu->eflags |= (f[0] ? X86_EFLAGS_ZF : 0) | (f[1] ? X86_EFLAGS_PF : 0) |
		       (f[2] ? X86_EFLAGS_CF : 0);
	if (in->op == 0xdf)
		x87_pop(cpu);
}

/* D9 E4: FTST compares ST(0) with +0.0. */
void op_x87_ftst(struct cpu *cpu, const struct insn *in)
{
	long double a, junk;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (x87_empty(cpu, 0)) {
		if (!x87_underflow(cpu))
			cmp_unordered(cpu);
		return;
	}
	x87_get(cpu, 0, &a);
	u16 sw = x87_host_unop(cpu, XU_TST, &a, &junk, NULL);
	if (x87_raise(cpu, sw))
		return;
	x87_set_cc(cpu, sw);
}

/* D9 E5: FXAM classifies ST(0) in C3,C2,C0; C1 = sign (SDM Vol. 2 FXAM). */
void op_x87_fxam(struct cpu *cpu, const struct insn *in)
{
	u8 v[10];
	u16 cc;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	x87_get_st80(cpu, 0, v);
	u64 m = load_le(v, 8);
	unsigned exp = (unsigned)load_le(v + 8, 2) & 0x7fff;
	if (x87_empty(cpu, 0))
		cc = FSW_C3 | FSW_C0;
	else if (exp == 0x7fff)
		cc = !(m >> 63) ? 0 : (m << 1) ? FSW_C0 : FSW_C2 | FSW_C0;
	else if (exp == 0)
		cc = m ? FSW_C3 | FSW_C2 : FSW_C3;
	else
		cc = (m >> 63) ? FSW_C2 : 0; /* J = 0: unnormal, unsupported */
	cpu->fpu.fsw = (u16)((cpu->fpu.fsw & ~FSW_CC) | cc | ((v[9] & 0x80) ? FSW_C1 : 0));
}

/* D9 E0 FCHS, E1 FABS, F0 F2XM1, FA FSQRT, FC FRNDINT, FE FSIN, FF FCOS:
 * ST(0) = f(ST(0)). FSIN/FCOS set C2 and leave ST(0) alone when
 * |x| >= 2^63. */
void op_x87_unary(struct cpu *cpu, const struct insn *in)
{
	long double a, r;
	enum x87_unop op;
	switch (in->modrm) {
	case 0xe0: op = XU_CHS; break;
	case 0xe1: op = XU_ABS; break;
	case 0xf0: op = XU_F2XM1; break;
	case 0xfa: op = XU_SQRT; break;
	case 0xfc: op = XU_RNDINT; break;
	case 0xfe: op = XU_SIN; break;
	default: op = XU_COS; break;
	}
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	if (x87_empty(cpu, 0)) {
		if (op == XU_SIN || op == XU_COS)
			cpu->fpu.fsw &= ~FSW_C2; /* as hardware does on a stack fault */
		if (!x87_underflow(cpu)) {
			x87_indefinite(&r);
			x87_put(cpu, 0, &r);
		}
		return;
	}
	x87_get(cpu, 0, &a);
	u16 sw = x87_host_unop(cpu, op, &a, &r, NULL);
	if (x87_raise(cpu, sw))
		return;
	x87_set_cc(cpu, sw);
	x87_put(cpu, 0, &r);
}

/* D9 F2 FPTAN, FB FSINCOS, F4 FXTRACT: replace ST(0), then push a second
 * result (1.0, cos, significand). FPTAN/FSINCOS out of range set C2 only. */
void op_x87_push2(struct cpu *cpu, const struct insn *in)
{
	long double a, r, r2;
	enum x87_unop op = in->modrm == 0xf2 ? XU_PTAN : in->modrm == 0xfb ? XU_SINCOS : XU_XTRACT;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	bool fault = x87_empty(cpu, 0);
	if (fault)
		x87_underflow(cpu);
	else
		fault = x87_overflow(cpu);
	if (fault) {
		cpu->fpu.fsw &= ~FSW_C2;
		if (!x87_masked_ie(cpu))
			return;
		x87_indefinite(&r);
		x87_put(cpu, 0, &r);
		x87_push(cpu, &r);
		return;
	}
	x87_get(cpu, 0, &a);
	u16 sw = x87_host_unop(cpu, op, &a, &r, &r2);
	if (x87_raise(cpu, sw))
		return;
	x87_set_cc(cpu, sw);
	if (op != XU_XTRACT && (sw & FSW_C2))
		return;
	x87_put(cpu, 0, &r);
	x87_push(cpu, &r2);
}

/* D9 F8 FPREM, F5 FPREM1, FD FSCALE (ST(0) = f(ST(0), ST(1))) and F1 FYL2X,
 * F9 FYL2XP1, F3 FPATAN (ST(1) = f(ST(0), ST(1)), then pop). */
void op_x87_binstack(struct cpu *cpu, const struct insn *in)
{
	long double a, b, r;
	enum x87_binop op;
	switch (in->modrm) {
	case 0xf8: op = XB_PREM; break;
	case 0xf5: op = XB_PREM1; break;
	case 0xfd: op = XB_SCALE; break;
	case 0xf1: op = XB_YL2X; break;
	case 0xf9: op = XB_YL2XP1; break;
	default: op = XB_PATAN; break;
	}
	bool pops = op == XB_YL2X || op == XB_YL2XP1 || op == XB_PATAN;
	x87_begin(cpu, in, X87_WAIT | X87_RECORD);
	int fault = check_two(cpu, 1);
	if (fault < 0)
		return;
	if (fault) {
		cpu->fpu.fsw &= ~FSW_C2;
		x87_indefinite(&r);
	} else {
		x87_get(cpu, 0, &a);
		x87_get(cpu, 1, &b);
		u16 sw = x87_host_binop(cpu, op, &a, &b, &r);
		if (x87_raise(cpu, sw))
			return;
		x87_set_cc(cpu, sw); /* FPREM/FPREM1: quotient bits and C2 */
	}
	x87_put(cpu, pops ? 1 : 0, &r);
	if (pops)
		x87_pop(cpu);
}
