/* test_fast.c: the Jcc handlers specialized for the instruction before them
 * in a block (fast_jcc.c) against the generic Jcc, for every producer,
 * operand size and condition, from random operands and flags. The generic
 * condition code itself is checked against the host by test_alu. And
 * INC/DEC after each flag producer, against the host: their CF is the
 * producer's, kept lazily. */
#include "test_alu.h"

#include "cpu/fast_ops.h"

#define N_CASES 400

/* The producer's register form: op r/m, reg (or FF /n for INC/DEC). */
struct producer {
	const char *name;
	u8 op8, opv;
	int ext; /* ModRM.reg extension, or -1 */
};

static const struct producer producers[] = {
	{ "cmp", 0x38, 0x39, -1 }, { "sub", 0x28, 0x29, -1 }, { "and", 0x20, 0x21, -1 },
	{ "or", 0x08, 0x09, -1 },  { "xor", 0x30, 0x31, -1 }, { "test", 0x84, 0x85, -1 },
	{ "add", 0x00, 0x01, -1 }, { "inc", 0xfe, 0xff, 0 },  { "dec", 0xfe, 0xff, 1 },
};

/* Run `code` (one instruction) with the generic handler from state s. */
static bool run_generic(const u8 *code, unsigned len, const struct xs *s)
{
	struct cpu *c = T.cpu;
	struct insn in;
	if (decode_insn(T.dt, code, len, 8, &in) != (int)len)
		return false;
	memcpy(c->r, s->r, sizeof(c->r));
	c->eflags = (s->fl & FL_ARITH) | X86_EFLAGS_FIXED;
	c->cc_op = CC_EAGER;
	c->rip = 0x400000;
	c->next_rip = c->rip + len;
	in.exec(c, &in);
	return true;
}

/* Where Jcc cc goes after the producer: generic, then specialized. */
static bool jcc_agrees(const struct insn *prev, unsigned cc, bool *covered)
{
	static const u8 jcc_bytes[16][2] = {
		{ 0x70, 0x10 }, { 0x71, 0x10 }, { 0x72, 0x10 }, { 0x73, 0x10 },
		{ 0x74, 0x10 }, { 0x75, 0x10 }, { 0x76, 0x10 }, { 0x77, 0x10 },
		{ 0x78, 0x10 }, { 0x79, 0x10 }, { 0x7a, 0x10 }, { 0x7b, 0x10 },
		{ 0x7c, 0x10 }, { 0x7d, 0x10 }, { 0x7e, 0x10 }, { 0x7f, 0x10 },
	};
	struct cpu *c = T.cpu, saved;
	struct insn j, blk[2]; /* the Jcc and a terminator */
	if (decode_insn(T.dt, jcc_bytes[cc], 2, 8, &j) != 2)
		return false;
	saved = *c;
	u64 at = 0x400010;
	c->rip = at;
	c->next_rip = at + 2;
	j.exec(c, &j);
	u64 generic = c->next_rip;
	*c = saved;
	bool ok = true;
	/* Both handlers: for a block that ends at the Jcc, and one that goes
	 * on past it (not taken: on to the terminator after it). */
	for (int on = 0; on < 2; on++) {
		insn_fn fn = fast_jcc_after(prev, &j, on);
		*covered = fn != NULL;
		if (!fn)
			return true;
		/* The Jcc as the second instruction of a block starting 16 bytes
		 * earlier. */
		c->cur_block_rip = at - 16;
		blk[0] = j;
		blk[0].next_off = 18;
		exec_set_terminator(&blk[1]);
		c->cur_insn = NULL;
		fn(c, &blk[0]);
		ok &= c->next_rip == generic && c->cur_insn == &blk[0];
		*c = saved;
	}
	return ok;
}

static void test_jcc_after(void)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	for (unsigned p = 0; p < ARRAY_SIZE(producers); p++) {
		const struct producer *pr = &producers[p];
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si], covered = 0;
			group_begin(pr->name, size);
			for (unsigned i = 0; i < N_CASES; i++) {
				struct xs s;
				rnd_state(&s);
				for (int r = 0; r < 16; r++)
					s.r[r] = rnd_val(size);
				unsigned reg = pr->ext >= 0 ? (unsigned)pr->ext : rnd_reg(size, true);
				unsigned rm = rnd_reg(size, true);
				if (i % 5 == 0 && pr->ext < 0)
					rm = reg; /* equal operands: CMP/SUB give ZF, XOR zero */
				struct enc e = enc_rr(size, 0, 0, size == 1 ? pr->op8 : pr->opv, reg, rm,
						      size == 1);
				struct insn prev;
				decode_insn(T.dt, e.b, e.n, 8, &prev);
				for (unsigned cc = 0; cc < 16; cc++) {
					bool cov = false, ok = run_generic(e.b, e.n, &s) &&
							       jcc_agrees(&prev, cc, &cov);
					covered += cov;
					T.gruns++;
					if (!ok && T.gfails++ == 0)
						snprintf(T.gfirst, sizeof(T.gfirst),
							 "condition %u after %02x %02x ...", cc, e.b[0],
							 e.b[1]);
				}
			}
			report(covered > 0, "%s/%u: some conditions have a specialized Jcc", pr->name,
			       size * 8);
			group_end();
		}
	}
}

/* ---- INC/DEC keep CF lazily from the op before them (cpu.h:
 * cpu_set_cc_incdec): the pair on the host against the pair run back to
 * back by the interpreter, generic and specialized, flags read after. ---- */

struct cf_producer {
	const char *name;
	u8 op8, opv;
	int ext;   /* ModRM.reg extension (then no register source), or -1 */
	int imm;   /* bytes of immediate (a shift count), 0 if none */
};

static const struct cf_producer cf_producers[] = {
	{ "add", 0x00, 0x01, -1, 0 }, { "adc", 0x10, 0x11, -1, 0 }, { "sub", 0x28, 0x29, -1, 0 },
	{ "sbb", 0x18, 0x19, -1, 0 }, { "cmp", 0x38, 0x39, -1, 0 }, { "and", 0x20, 0x21, -1, 0 },
	{ "xor", 0x30, 0x31, -1, 0 }, { "test", 0x84, 0x85, -1, 0 }, { "neg", 0xf6, 0xf7, 3, 0 },
	{ "shl", 0xc0, 0xc1, 4, 1 },  { "shr", 0xc0, 0xc1, 5, 1 },  { "inc", 0xfe, 0xff, 0, 0 },
	{ "dec", 0xfe, 0xff, 1, 0 },
};

/* Run n instructions one after another as a block would (each specialized
 * for the one before it when fast). */
static void emu_seq(const struct enc *e, unsigned n, struct xs *s, bool fast)
{
	struct cpu *c = T.cpu;
	struct insn in[4], blk[2]; /* each instruction runs alone, up to a terminator */
	u16 off = 0;
	for (unsigned k = 0; k < n; k++) {
		decode_insn(T.dt, e[k].b, e[k].n, 8, &in[k]);
		off = (u16)(off + e[k].n);
		in[k].next_off = (s16)off;
		if (fast) {
			fast_variant(&in[k], 8);
			fast_after(k ? &in[k - 1] : NULL, &in[k], 8, false);
		}
	}
	memcpy(c->r, s->r, sizeof(c->r));
	c->eflags = (s->fl & FL_ARITH) | X86_EFLAGS_FIXED;
	c->cc_op = CC_EAGER;
	c->rip = c->cur_block_rip = 0x400000;
	for (unsigned k = 0; k < n; k++) {
		c->next_rip = c->rip + e[k].n;
		blk[0] = in[k];
		exec_set_terminator(&blk[1]);
		blk[0].exec(c, &blk[0]);
		c->rip = c->next_rip;
	}
	memcpy(s->r, c->r, sizeof(c->r));
	s->fl = cpu_get_rflags(c);
}

/* Run e[0..n) from s0 on the host and back to back under the interpreter
 * (with the generic handlers too unless fast_only), and count a mismatch of
 * the registers or of the flags in `flags`. */
static void check_seq(const struct enc *e, unsigned n, const struct xs *s0, u64 flags,
		      bool fast_only)
{
	struct enc all = e[0];
	for (unsigned j = 1; j < n; j++)
		for (unsigned i = 0; i < e[j].n; i++)
			enc_put(&all, e[j].b[i]);
	struct xs h = *s0;
	host_run(all.b, all.n, &h);
	for (int fast = fast_only; fast < 2; fast++) {
		struct xs x = *s0;
		emu_seq(e, n, &x, fast);
		T.gruns++;
		if (memcmp(x.r, h.r, sizeof(h.r)) == 0 && !((x.fl ^ h.fl) & flags))
			continue;
		if (T.gfails++ == 0)
			hex_bytes(T.gfirst, sizeof(T.gfirst), all.b, all.n);
	}
}

/* The producer pr at size on RAX (and RBX), and a state for it. */
static struct enc producer_enc(const struct cf_producer *pr, unsigned size, struct xs *s0)
{
	u8 op = size == 1 ? pr->op8 : pr->opv;
	unsigned count = 1 + (unsigned)(rnd() % (size * 8 - 1));
	rnd_state(s0);
	s0->r[R_AX] = rnd_val(size);
	s0->r[R_BX] = rnd() & 3 ? rnd_val(size) : s0->r[R_AX];
	s0->r[R_CX] = rnd_val(8);
	s0->r[R_DX] = rnd_val(8);
	s0->r[R_SI] = rnd_val(8);
	return enc_gen(size, 0, 0, op, pr->ext >= 0 ? (unsigned)pr->ext : R_BX, R_AX, false,
		       count, (unsigned)pr->imm);
}

static void test_incdec_cf(void)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	for (unsigned p = 0; p < ARRAY_SIZE(cf_producers); p++) {
		const struct cf_producer *pr = &cf_producers[p];
		for (unsigned si = 0; si < 4; si++) {
			unsigned size = sizes[si];
			group_begin(pr->name, size);
			for (unsigned k = 0; k < N_CASES; k++) {
				struct xs s0;
				struct enc e[2];
				e[0] = producer_enc(pr, size, &s0);
				e[1] = enc_gen(rnd() & 1 ? 8 : size, 0, 0, size == 1 ? 0xfe : 0xff,
					       (unsigned)(rnd() & 1), R_DX, false, 0, 0);
				check_seq(e, 2, &s0, FL_ARITH, false);
			}
			group_end();
		}
	}
}

/* ---- SETcc and CMOVcc read the lazy flags a producer left (fast_cond()):
 * the pair on the host against the pair run back to back, all 16
 * conditions. ---- */

static void test_cond_consumers(void)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	static const char *const names[3] = { "setcc after", "cmovcc/32 after",
					       "cmovcc/64 after" };
	for (unsigned kind = 0; kind < 3; kind++) {
		for (unsigned p = 0; p < ARRAY_SIZE(cf_producers); p++) {
			const struct cf_producer *pr = &cf_producers[p];
			char name[48];
			snprintf(name, sizeof(name), "%s %s", names[kind], pr->name);
			for (unsigned si = 0; si < 4; si++) {
				unsigned size = sizes[si];
				group_begin(name, size);
				for (unsigned k = 0; k < N_CASES; k++) {
					/* After a shift, OF (count > 1) and AF are undefined:
					 * no condition on OF, no comparison of either. */
					bool shift = pr->imm != 0;
					unsigned cc = shift ? 2 + (unsigned)(rnd() % 10)
							    : (unsigned)(rnd() % 16);
					u64 flags = shift ? FL_ARITH & ~(X86_EFLAGS_OF | X86_EFLAGS_AF)
							  : FL_ARITH;
					struct xs s0;
					struct enc e[2];
					e[0] = producer_enc(pr, size, &s0);
					e[1] = kind == 0
						? enc_rr(1, 0, 1, (u8)(0x90 + cc), 0, R_DX, false)
						: enc_rr(kind == 1 ? 4 : 8, 0, 1, (u8)(0x40 + cc),
							 R_DX, R_SI, false);
					check_seq(e, 2, &s0, flags, true);
				}
				group_end();
			}
		}
	}
}

/* ---- ROL/ROR keep SF ZF AF PF of the op before them lazily
 * (cpu_record_rotate()): producer, rotate, then nothing, INC or another
 * rotate, on the host and back to back, generic and specialized. ---- */

static struct enc rotate(unsigned size, unsigned count)
{
	bool right = rnd() & 1;
	if (count == 1 && (rnd() & 1))
		return enc_gen(size, 0, 0, size == 1 ? 0xd0 : 0xd1, right, R_CX, false, 0, 0);
	return enc_gen(size, 0, 0, size == 1 ? 0xc0 : 0xc1, right, R_CX, false, count, 1);
}

static void test_rotate_lazy(void)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	static const char *const after[3] = { "rol/ror after", "rol/ror, inc after",
					       "rol/ror twice after" };
	for (unsigned kind = 0; kind < 3; kind++) {
		for (unsigned p = 0; p < ARRAY_SIZE(cf_producers); p++) {
			const struct cf_producer *pr = &cf_producers[p];
			char name[48];
			snprintf(name, sizeof(name), "%s %s", after[kind], pr->name);
			for (unsigned si = 0; si < 4; si++) {
				unsigned size = sizes[si];
				group_begin(name, size);
				for (unsigned k = 0; k < N_CASES; k++) {
					struct xs s0;
					struct enc e[3];
					unsigned n = kind == 0 ? 2 : 3;
					unsigned rsize = sizes[rnd() % 4];
					unsigned rcount = rnd() & 1 ? 1 : 1 + (unsigned)(rnd() % (rsize * 8 - 1));
					e[0] = producer_enc(pr, size, &s0);
					e[1] = rotate(rsize, rcount);
					/* OF is the last rotate's (defined for a count of 1); AF
					 * the producer's (undefined after a shift). INC sets both. */
					u64 flags = FL_ARITH;
					if (kind == 1) {
						e[2] = enc_gen(8, 0, 0, 0xff, (unsigned)(rnd() & 1), R_DX, false, 0, 0);
					} else {
						if (kind == 2) {
							rsize = sizes[rnd() % 4];
							rcount = rnd() & 1 ? 1 : 1 + (unsigned)(rnd() % (rsize * 8 - 1));
							e[2] = rotate(rsize, rcount);
						}
						if (rcount != 1)
							flags &= ~(u64)X86_EFLAGS_OF;
						if (pr->imm)
							flags &= ~(u64)X86_EFLAGS_AF;
					}
					check_seq(e, n, &s0, flags, false);
				}
				group_end();
			}
		}
	}
}

int main(void)
{
	harness_init();
	test_jcc_after();
	test_incdec_cf();
	test_cond_consumers();
	test_rotate_lazy();
	return 0;
}
