/* string.c: string instructions MOVS CMPS SCAS LODS STOS INS OUTS (A4-AF,
 * 6C-6F) with REP/REPE/REPNE (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * rSI/rDI/rCX have the address size; the source segment may be overridden,
 * ES:rDI may not. A repeated instruction commits rSI, rDI and rCX after
 * every element, so a fault leaves them at the element that faulted with
 * RIP at the instruction, architecturally restartable. After REP_BUDGET
 * units of work it stops with RIP still at the instruction and the
 * registers updated: the next execution resumes, and interrupts can be
 * taken in between, as on hardware.
 *
 * REP MOVS and REP STOS copy/fill whole page spans through the TLB's host
 * pointers when both sides are plain RAM, upward (DF = 0) or downward
 * (DF = 1: memmove's backward copy).
 */
#include <string.h>

#include "alu.h"
#include "ops.h"

#define REP_BUDGET 4096u  /* units per execution: 1 per element ... */
#define REP_SPAN_COST 64u /* ... and 64 per page span of the fast path */

enum { STR_MOVS, STR_CMPS, STR_SCAS, STR_LODS, STR_STOS, STR_INS, STR_OUTS };

static u64 areg(const struct cpu *cpu, const struct insn *in, unsigned reg)
{
	return cpu->r[reg] & size_mask(in->addrsize);
}

static void set_areg(struct cpu *cpu, const struct insn *in, unsigned reg, u64 v)
{
	cpu_set_reg(cpu, reg, in->addrsize, false, v);
}

/* Step rSI or rDI by one element in the DF direction. */
static void advance(struct cpu *cpu, const struct insn *in, unsigned reg, u64 elems)
{
	u64 step = elems * in->opsize;
	u64 v = cpu->r[reg];
	set_areg(cpu, in, reg, (cpu->eflags & X86_EFLAGS_DF) ? v - step : v + step);
}

static u64 read_at(struct cpu *cpu, int seg, u64 off, unsigned size)
{
	return cpu_read_lin(cpu, cpu_seg_lin(cpu, seg, off, size, false), size);
}

static void write_at(struct cpu *cpu, int seg, u64 off, unsigned size, u64 v)
{
	cpu_write_lin(cpu, cpu_seg_lin(cpu, seg, off, size, true), size, v);
}

/* INS: make sure the store cannot fault once the port has been read. */
static u64 ins_target(struct cpu *cpu, const struct insn *in, unsigned size)
{
	u64 la = cpu_seg_lin(cpu, SEG_ES, areg(cpu, in, R_DI), size, true);
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (!tlb_host(e, e->wtag, la, size)) {
		cpu_translate(cpu, la, ACC_WRITE);
		cpu_translate(cpu, la + size - 1, ACC_WRITE);
	}
	return la;
}

/* One element. Returns "the compared values are equal" (CMPS/SCAS). */
static bool string_step(struct cpu *cpu, const struct insn *in, unsigned kind)
{
	unsigned size = in->opsize;
	u64 a, b;
	switch (kind) {
	case STR_MOVS:
		a = read_at(cpu, in->seg, areg(cpu, in, R_SI), size);
		write_at(cpu, SEG_ES, areg(cpu, in, R_DI), size, a);
		advance(cpu, in, R_SI, 1);
		advance(cpu, in, R_DI, 1);
		return false;
	case STR_CMPS:
		a = read_at(cpu, in->seg, areg(cpu, in, R_SI), size);
		b = read_at(cpu, SEG_ES, areg(cpu, in, R_DI), size);
		advance(cpu, in, R_SI, 1);
		advance(cpu, in, R_DI, 1);
		cpu_set_cc(cpu, CC_SUB, size, a - b, b, a);
		return a == b;
	case STR_SCAS:
		a = cpu->r[R_AX] & size_mask(size);
		b = read_at(cpu, SEG_ES, areg(cpu, in, R_DI), size);
		advance(cpu, in, R_DI, 1);
		cpu_set_cc(cpu, CC_SUB, size, a - b, b, a);
		return a == b;
	case STR_LODS:
		a = read_at(cpu, in->seg, areg(cpu, in, R_SI), size);
		cpu_set_reg(cpu, R_AX, size, false, a);
		advance(cpu, in, R_SI, 1);
		return false;
	case STR_STOS:
		write_at(cpu, SEG_ES, areg(cpu, in, R_DI), size, cpu->r[R_AX]);
		advance(cpu, in, R_DI, 1);
		return false;
	case STR_INS: {
		u64 la = ins_target(cpu, in, size);
		cpu_write_lin(cpu, la, size, cpu_port_read(cpu, (u16)cpu->r[R_DX], size));
		advance(cpu, in, R_DI, 1);
		return false;
	}
	default: /* STR_OUTS */
		a = read_at(cpu, in->seg, areg(cpu, in, R_SI), size);
		cpu_port_write(cpu, (u16)cpu->r[R_DX], size, a);
		advance(cpu, in, R_SI, 1);
		return false;
	}
}

/* ---- fast path: page spans of plain RAM ---- */

/* Is [off, off + len) inside the segment limit? Only answers "yes" for the
 * easy expand-up case; anything else takes the element-wise path, which
 * faults exactly where hardware would. */
static bool seg_range_ok(const struct cpu *cpu, int seg, u64 off, u64 len)
{
	const struct seg *s = &cpu->seg[seg];
	bool data = (s->attr & SEG_ATTR_S) && !(s->attr & 8);
	if (data && (s->attr & 4))
		return false; /* expand-down */
	return off + len - 1 <= s->limit;
}

/* Host pointer to up to `max` bytes at seg:off within one page; returns the
 * number of bytes available (0: take the slow path). The first byte's
 * segment check may fault, which is right: it is the next access. */
static u64 host_span(struct cpu *cpu, int seg, u64 off, u64 max, bool write, u8 **host)
{
	u64 la = cpu_seg_lin(cpu, seg, off, 1, write);
	u64 n = 0x1000 - (la & 0xfff);
	const struct tlb_entry *e = cpu_tlb_find(cpu, la, write);
	if (n > max)
		n = max;
	if (!e)
		return 0;
	if (!cpu->m64 && !seg_range_ok(cpu, seg, off, n))
		return 0;
	*host = (u8 *)(la + e->addend);
	return n;
}

/* Bytes the next span may cover: the remaining count, and no wrap of the
 * address-size registers. */
static u64 span_limit(const struct cpu *cpu, const struct insn *in, u64 count, bool two)
{
	u64 am = size_mask(in->addrsize), size = in->opsize;
	u64 n = count < 0x10000 ? count * size : 0x10000;
	u64 di_room = am - areg(cpu, in, R_DI) + 1;
	if (di_room && di_room < n)
		n = di_room;
	if (two) {
		u64 si_room = am - areg(cpu, in, R_SI) + 1;
		if (si_room && si_room < n)
			n = si_room;
	}
	return n;
}

/* Copy elements forward as MOVS does one at a time: an overlapping
 * destination just above the source replicates the pattern. */
static void copy_forward(u8 *dst, const u8 *src, u64 bytes, unsigned size)
{
	if (dst <= src || dst >= src + bytes) {
		memmove(dst, src, bytes);
		return;
	}
	for (u64 i = 0; i < bytes; i += size)
		store_le(dst + i, size, load_le(src + i, size));
}

/* Is the low `size` bytes of v one byte repeated? */
static bool fill_byte(u64 v, unsigned size)
{
	u64 m = size_mask(size);
	return (v & m) == ((v & 0xff) * 0x0101010101010101ull & m);
}

/* DF = 1: host pointer to the element of `size` bytes at seg:off, which
 * must lie in one page, and the bytes from the start of that page up to its
 * end (at most `max`) that the span may cover going down; 0: take the slow
 * path. As in host_span(), the element's own checks may fault. */
static u64 host_span_down(struct cpu *cpu, int seg, u64 off, unsigned size, u64 max, bool write,
			  u8 **top)
{
	u64 la = cpu_seg_lin(cpu, seg, off, size, write);
	const struct tlb_entry *e = cpu_tlb_find(cpu, la, write);
	if ((la & 0xfff) > 0x1000 - size || !e)
		return 0;
	u64 n = (la & 0xfff) + size;
	if (n > max)
		n = max;
	if (!cpu->m64 && !seg_range_ok(cpu, seg, off + size - n, n))
		return 0;
	*top = (u8 *)(la + e->addend);
	return n;
}

/* DF = 1: bytes the next span may cover: the remaining count, and no wrap
 * of the address-size registers below 0. */
static u64 span_limit_down(const struct cpu *cpu, const struct insn *in, u64 count, bool two)
{
	u64 size = in->opsize;
	u64 n = count < 0x10000 ? count * size : 0x10000;
	if (areg(cpu, in, R_DI) + size < n)
		n = areg(cpu, in, R_DI) + size;
	if (two && areg(cpu, in, R_SI) + size < n)
		n = areg(cpu, in, R_SI) + size;
	return n;
}

/* Copy elements downward as MOVS with DF = 1 does one at a time, from the
 * ones at dtop/stop: memmove, unless the destination overlaps just below
 * the source, which replicates the pattern downward. */
static void copy_backward(u8 *dtop, const u8 *stop, u64 elems, unsigned size)
{
	u64 bytes = elems * size;
	u8 *dst = dtop + size - bytes;
	const u8 *src = stop + size - bytes;
	if (dst >= src || dst + bytes <= src) {
		memmove(dst, src, bytes);
		return;
	}
	for (u64 i = 0; i < elems; i++)
		store_le(dtop - i * size, size, load_le(stop - i * size, size));
}

/* Fill elems elements of `size` bytes with v from dst up. */
static void fill(u8 *dst, u64 elems, unsigned size, u64 v)
{
	if (size == 1 || fill_byte(v, size)) {
		memset(dst, (int)(v & 0xff), elems * size); /* e.g. clearing a page */
		return;
	}
	for (u64 i = 0; i < elems; i++)
		store_le(dst + i * size, size, v);
}

/* One span of REP MOVS/STOS with DF = 1; returns the elements done. */
static u64 fast_span_down(struct cpu *cpu, const struct insn *in, unsigned kind, u64 count)
{
	unsigned size = in->opsize;
	u8 *src = NULL, *dst;
	u64 n = span_limit_down(cpu, in, count, kind == STR_MOVS);
	if (kind == STR_MOVS) {
		n = host_span_down(cpu, in->seg, areg(cpu, in, R_SI), size, n, false, &src);
		if (n < size)
			return 0;
	}
	n = host_span_down(cpu, SEG_ES, areg(cpu, in, R_DI), size, n, true, &dst);
	u64 elems = n / size;
	if (elems == 0)
		return 0;
	if (kind == STR_MOVS) {
		copy_backward(dst, src, elems, size);
		advance(cpu, in, R_SI, elems);
	} else {
		fill(dst + size - elems * size, elems, size, cpu->r[R_AX]);
	}
	advance(cpu, in, R_DI, elems);
	return elems;
}

/* One span of REP MOVS/STOS; returns the elements done (0: none). */
static u64 fast_span(struct cpu *cpu, const struct insn *in, unsigned kind, u64 count)
{
	unsigned size = in->opsize;
	u8 *src = NULL, *dst;
	u64 n = span_limit(cpu, in, count, kind == STR_MOVS);
	if (kind == STR_MOVS) {
		n = host_span(cpu, in->seg, areg(cpu, in, R_SI), n, false, &src);
		if (n < size)
			return 0;
	}
	n = host_span(cpu, SEG_ES, areg(cpu, in, R_DI), n, true, &dst);
	u64 elems = n / size;
	if (elems == 0)
		return 0;
	if (kind == STR_MOVS) {
		copy_forward(dst, src, elems * size, size);
		advance(cpu, in, R_SI, elems);
	} else {
		fill(dst, elems, size, cpu->r[R_AX]);
	}
	advance(cpu, in, R_DI, elems);
	return elems;
}

/* ---- the REP loop ---- */

static bool rep_stops(const struct insn *in, unsigned kind, bool equal)
{
	if (kind != STR_CMPS && kind != STR_SCAS)
		return false;
	/* REPE (F3) stops when ZF = 0, REPNE (F2) when ZF = 1. */
	return (in->flags & IF_REPNE) ? equal : !equal;
}

/* A device (port or MMIO access of the last element) asked the machine to
 * stop: leave the rest of the loop for after the exit. */
static bool device_wants_stop(const struct cpu *cpu)
{
	return cpu->brk && cpu->env && cpu->env->stop && *cpu->env->stop;
}

static void string_rep(struct cpu *cpu, const struct insn *in, unsigned kind)
{
	u64 count = areg(cpu, in, R_CX);
	unsigned budget = REP_BUDGET;
	bool fast = kind == STR_MOVS || kind == STR_STOS, down = cpu->eflags & X86_EFLAGS_DF;
	if (count && (kind == STR_INS || kind == STR_OUTS))
		cpu_io_check(cpu, (u16)cpu->r[R_DX], in->opsize);
	while (count) {
		if (budget == 0 || device_wants_stop(cpu)) {
			cpu->next_rip = cpu->rip; /* resume here */
			cpu_break(cpu);
			return;
		}
		u64 done = !fast ? 0
			 : down ? fast_span_down(cpu, in, kind, count)
				: fast_span(cpu, in, kind, count);
		if (done) {
			budget = budget > REP_SPAN_COST ? budget - REP_SPAN_COST : 0;
		} else {
			bool eq = string_step(cpu, in, kind);
			done = 1;
			budget--;
			if (rep_stops(in, kind, eq)) {
				set_areg(cpu, in, R_CX, count - 1);
				return;
			}
		}
		count -= done;
		set_areg(cpu, in, R_CX, count);
	}
}

static void string_op(struct cpu *cpu, const struct insn *in, unsigned kind)
{
	if (in->flags & (IF_REP | IF_REPNE)) {
		string_rep(cpu, in, kind);
		return;
	}
	if (kind == STR_INS || kind == STR_OUTS)
		cpu_io_check(cpu, (u16)cpu->r[R_DX], in->opsize);
	string_step(cpu, in, kind);
}

void op_movs(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_MOVS); }
void op_cmps(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_CMPS); }
void op_scas(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_SCAS); }
void op_lods(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_LODS); }
void op_stos(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_STOS); }
void op_ins(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_INS); }
void op_outs(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, STR_OUTS); }
