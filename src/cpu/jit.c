/* jit.c: the arena of native code and the block translator's driver (jit.h).
 *
 * A block's code is its instructions' code back to back (jit_ops.c), then
 * the cold parts: the second half of the TLB checks of accesses that may
 * be misaligned, and one exit per instruction that some check leaves from.
 */
#include "jit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "block.h"
#include "jit_int.h"

/* The most code one block can take: BLOCK_MAX instructions of the
 * longest translations, their stubs and exits. */
#define JIT_BLOCK_ROOM (32u << 10)

struct jit {
	u8 *mem;
	size_t size, used;
};

struct jit *jit_create(size_t size)
{
	struct jit *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (m == MAP_FAILED) {
		free(j);
		return NULL;
	}
	j->mem = m;
	j->size = size;
	return j;
}

void jit_destroy(struct jit *j)
{
	if (!j)
		return;
	munmap(j->mem, j->size);
	free(j);
}

void jit_reset(struct jit *j)
{
	j->used = 0;
}

bool jit_room(const struct jit *j)
{
	return j->size - j->used >= JIT_BLOCK_ROOM;
}

static void fix(struct jit_tr *t, u8 *at)
{
	if (t->nfix == JIT_MAX_FIX) {
		t->e.full = true; /* drop the block */
		return;
	}
	t->fix[t->nfix++] = (struct jit_fix){ at, t->k };
}

void jit_exit_if(struct jit_tr *t, unsigned cc)
{
	fix(t, x64_jcc(&t->e, cc));
}

/* Leave to the exec handler of insn[k] (RSI = &insn[k], as the chain
 * passes it): exec is the first member of struct insn. */
static void emit_exit(struct jit_tr *t, unsigned k)
{
	_Static_assert(offsetof(struct insn, exec) == 0, "exec leads struct insn");
	x64_mov_imm(&t->e, XSI, (u64)(uintptr_t)&t->insn[k]);
	x64_rm(&t->e, 8, XOP_JMP_RM, 4, xm(XSI, 0));
}

void jit_set_cur(struct jit_tr *t, const struct insn *in)
{
	x64_mov_imm(&t->e, XAX, (u64)(uintptr_t)in);
	x64_rm(&t->e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(cur_insn)));
}

bool jit_ea(struct jit_tr *t, const struct insn *in)
{
	struct x64 *e = &t->e;
	s64 disp = (s32)in->disp;
	if (in->base == REG_RIP) {
		x64_rm(e, 8, XOP_MOV_LD, XAX, xm(XDI, OFF(cur_block_rip)));
		disp += in->next_off; /* s32 + s16: lea takes it if it fits */
	} else if (in->base < 16) {
		x64_rm(e, 8, XOP_MOV_LD, XAX, xm(XDI, OFF_R(in->base)));
	} else {
		x64_mov_imm(e, XAX, 0);
	}
	if (in->index != REG_NONE) {
		x64_rm(e, 8, XOP_MOV_LD, XCX, xm(XDI, OFF_R(in->index)));
		if ((s32)disp == disp) {
			x64_rm(e, 8, XOP_LEA, XAX, xmi(XAX, XCX, in->scale, (s32)disp));
			return true;
		}
		x64_rm(e, 8, XOP_LEA, XAX, xmi(XAX, XCX, in->scale, 0));
	}
	if (disp == 0)
		return true;
	if ((s32)disp == disp) {
		x64_rm(e, 8, XOP_LEA, XAX, xm(XAX, (s32)disp));
		return true;
	}
	x64_mov_imm(e, XCX, (u64)disp);
	x64_rr(e, 8, XOP_ALU_RM_R, XCX, XAX); /* add rax, rcx */
	return false;
}

/* cpu_seg_lin() in 64-bit mode: FS and GS add their base. A non-canonical
 * address never hits the TLB, whose tags are canonical: the exit then
 * raises the fault. */
void jit_la(struct jit_tr *t, const struct insn *in)
{
	jit_ea(t, in);
	if (in->seg == SEG_FS || in->seg == SEG_GS)
		x64_rm(&t->e, 8, 0x03, XAX,
		       xm(XDI, OFF(seg) + (s32)(in->seg * sizeof(struct seg) +
						offsetof(struct seg, base))));
}

/* cpu_tlb_entry() and tlb_hit() (cpu.h): RDX = the entry of RAX's page,
 * then one compare for an aligned access; a misaligned one that stays in
 * its page passes the stub's second compare. */
void jit_tlb(struct jit_tr *t, unsigned size, s32 tag_off)
{
	struct x64 *e = &t->e;
	_Static_assert(sizeof(struct tlb_entry) == 32, "TLB entries are 32 bytes");
	x64_rr(e, 8, XOP_MOV_ST, XAX, XDX);                 /* mov rdx, rax */
	x64_ri(e, 8, XOP_SHIFT_I, 5, XDX, 12 - 5, 1);       /* shr rdx, 7 */
	x64_ri(e, 4, XOP_GRP1, 4, XDX, (TLB_SIZE - 1) << 5, 4); /* and edx, mask */
	x64_rm(e, 8, 0x03, XDX, xm(XDI, OFF(tlb_cur)));     /* add rdx, [tlb_cur] */
	x64_rr(e, 8, XOP_MOV_ST, XAX, XCX);                 /* mov rcx, rax */
	x64_ri(e, 8, XOP_GRP1, 4, XCX, (u32)(~0xfffu | (size - 1)), 4); /* and */
	x64_rm(e, 8, 0x3b, XCX, xm(XDX, tag_off));          /* cmp rcx, [rdx+tag] */
	if (size == 1) {
		jit_exit_if(t, 5); /* jne */
	} else if (t->nstub < JIT_MAX_STUB) {
		t->stub[t->nstub++] = (struct jit_stub){ x64_jcc(e, 5), NULL, t->k, size, tag_off };
		t->stub[t->nstub - 1].back = e->p;
	} else {
		e->full = true;
	}
	x64_rm(e, 8, XOP_MOV_LD, X8, xm(XDX, (s32)offsetof(struct tlb_entry, addend)));
	x64_rr(e, 8, XOP_ALU_RM_R, XAX, X8);                /* add r8, rax */
}

/* The misaligned case: the page must match and the bytes stay in it. */
static void emit_stub(struct jit_tr *t, const struct jit_stub *s)
{
	struct x64 *e = &t->e;
	x64_patch(s->at, e->p);
	t->k = s->k;
	x64_rr(e, 8, XOP_MOV_ST, XAX, XCX);
	x64_ri(e, 8, XOP_GRP1, 4, XCX, ~0xfffu, 4);
	x64_rm(e, 8, 0x3b, XCX, xm(XDX, s->tag));
	jit_exit_if(t, 5);                                   /* jne */
	x64_rr(e, 4, XOP_MOV_ST, XAX, XCX);                 /* mov ecx, eax */
	x64_ri(e, 4, XOP_GRP1, 4, XCX, 0xfff, 4);
	x64_ri(e, 4, XOP_GRP1, 7, XCX, 0x1000 - s->size, 4); /* cmp */
	jit_exit_if(t, 7);                                   /* ja */
	x64_patch(x64_jmp(e), s->back);
}

/* One exit per instruction left from, all jumps to it patched. */
static void emit_exits(struct jit_tr *t)
{
	for (unsigned i = 0; i < t->nfix; i++) {
		if (!t->fix[i].at)
			continue;
		unsigned k = t->fix[i].k;
		u8 *here = t->e.p;
		emit_exit(t, k);
		for (unsigned j = i; j < t->nfix; j++)
			if (t->fix[j].k == k && t->fix[j].at) {
				x64_patch(t->fix[j].at, here);
				t->fix[j].at = NULL;
			}
	}
}

/* run_chain()'s checks between blocks (exec.c): the deadline or an event,
 * the link (relinked through the jump cache, as relink() does), the IBT
 * tracker. On to the next block with RSI = its first instruction, as the
 * run loop would call it; RAX holds its RIP. */
static void go_on(struct jit_tr *t, const struct insn *in, bool indirect, u8 **back)
{
	struct x64 *e = &t->e;
	x64_rm(e, 8, XOP_MOV_LD, XCX, xm(XDI, OFF(icount)));
	x64_rm(e, 8, XOP_LEA, XCX, xm(XCX, in->nth));
	x64_rm(e, 8, 0x3b, XCX, xm(XDI, OFF(stop_at)));
	back[0] = x64_jcc(e, 3);                                   /* jae */
	x64_mov_imm(e, XDX, (u64)(uintptr_t)t->block);
	x64_rm(e, 8, XOP_MOV_LD, X8, xm(XDI, OFF(jc_epoch)));
	x64_rm(e, 8, 0x3b, XAX, xm(XDX, (s32)offsetof(struct block, link_rip)));
	u8 *miss1 = x64_jcc(e, 5);
	x64_rm(e, 8, 0x3b, X8, xm(XDX, (s32)offsetof(struct block, link_epoch)));
	u8 *miss2 = x64_jcc(e, 5);
	x64_rm(e, 8, XOP_MOV_LD, X9, xm(XDX, (s32)offsetof(struct block, link)));
	u8 *linked = e->p;
	/* IBT: a WAIT in the tracker is the run loop's; one pending after an
	 * indirect branch (R11B) goes if the next block starts with ENDBR. */
	x64_mi(e, 1, 0x80, 7, xm(XDI, OFF(ibt_wait)), 0, 1);
	back[1] = x64_jcc(e, 5);
	if (indirect) {
		x64_rr(e, 1, 0x84, X11, X11);                      /* test r11b */
		u8 *idle = x64_jcc(e, 4);
		x64_mi(e, 1, 0x80, 7, xm(X9, (s32)offsetof(struct block, endbr)), 0, 1);
		back[2] = x64_jcc(e, 4);
		x64_patch(idle, e->p);
	}
	x64_rm(e, 8, XOP_MOV_ST, XCX, xm(XDI, OFF(icount)));
	x64_rm(e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(cur_block_rip)));
	x64_rm(e, 8, XOP_MOV_ST, X9, xm(XDI, OFF(cur_block)));
	x64_rm(e, 8, XOP_LEA, XSI, xm(X9, (s32)offsetof(struct block, insn)));
	x64_rm(e, 8, XOP_JMP_RM, 4, xm(X9, (s32)offsetof(struct block, entry)));
	/* The link does not hold: the jump cache's entry for RAX, if any,
	 * becomes it (exec.c, relink()). */
	x64_patch(miss1, e->p);
	x64_patch(miss2, e->p);
	_Static_assert(sizeof(struct jc_entry) == 24, "jump-cache entries are 24 bytes");
	x64_rr(e, 8, XOP_MOV_ST, XAX, X9);
	x64_ri(e, 8, XOP_SHIFT_I, 5, X9, JC_BITS, 1);              /* shr */
	x64_rr(e, 8, 0x31, XAX, X9);                               /* xor r9, rax */
	x64_ri(e, 4, XOP_GRP1, 4, X9, (1u << JC_BITS) - 1, 4);     /* and */
	x64_rm(e, 8, XOP_LEA, X9, xmi(X9, X9, 1, 0));              /* * 3 */
	x64_rm(e, 8, XOP_LEA, X9, xmi(XDI, X9, 3, OFF(jc)));       /* * 8 */
	x64_rm(e, 8, 0x3b, XAX, xm(X9, (s32)offsetof(struct jc_entry, rip)));
	back[3] = x64_jcc(e, 5);
	x64_rm(e, 8, 0x3b, X8, xm(X9, (s32)offsetof(struct jc_entry, epoch)));
	back[4] = x64_jcc(e, 5);
	x64_rm(e, 8, XOP_MOV_LD, X9, xm(X9, (s32)offsetof(struct jc_entry, b)));
	x64_rm(e, 8, XOP_MOV_ST, X9, xm(XDX, (s32)offsetof(struct block, link)));
	x64_rm(e, 8, XOP_MOV_ST, XAX, xm(XDX, (s32)offsetof(struct block, link_rip)));
	x64_rm(e, 8, XOP_MOV_ST, X8, xm(XDX, (s32)offsetof(struct block, link_epoch)));
	x64_patch(x64_jmp(e), linked);
}

void jit_end_block(struct jit_tr *t, const struct insn *in, bool indirect)
{
	u8 *back[5] = { NULL, NULL, NULL, NULL, NULL };
	if (t->block)
		go_on(t, in, indirect, back);
	for (unsigned i = 0; i < 5; i++)
		x64_patch(back[i], t->e.p);
	if (indirect) /* the run loop settles it (cet_settle()) */
		x64_rm(&t->e, 1, XOP_MOV_ST - 1, X11, xm(XDI, OFF(ibt_pending)));
	x64_rm(&t->e, 8, XOP_MOV_ST, XAX, xm(XDI, OFF(next_rip)));
	jit_set_cur(t, in);
	x64_ret(&t->e);
}

/* What a call-out's copy runs after the instruction: back to the code. */
static void op_call_return(struct cpu *cpu, const struct insn *in)
{
	(void)cpu;
	(void)in;
}

bool jit_call_out(struct jit_tr *t)
{
	struct x64 *e = &t->e;
	const struct insn *in = &t->insn[t->k];
	/* A branch (RUN_NEXT without the wrapper) ends its block: not here.
	 * A wrapped handler's next_rip counts only if it stops the block. */
	bool branch = (in->run & (RUN_NEXT | RUN_WRAPPED)) == RUN_NEXT;
	if (t->k + 1 >= t->n || branch || t->ncall == JIT_MAX_CALL)
		return false;
	t->cc_now = -1; /* whatever the handler records */
	x64_push(e, XDI); /* which also aligns the stack for the call */
	t->call[t->ncall++] = (struct jit_call){ x64_mov_imm64_field(e, XSI), t->k };
	x64_rm(e, 4, 0xff, 2, xm(XSI, 0)); /* call [rsi]: exec */
	x64_pop(e, XDI);
	x64_mi(e, 1, 0x80, 7, xm(XDI, OFF(brk)), 0, 1);
	u8 *go_on = x64_jcc(e, 4); /* je */
	jit_set_cur(t, in);
	x64_ret(e);
	x64_patch(go_on, e->p);
	return true;
}

/* The copies the call-outs run: each instruction, then one whose exec
 * returns. cpu_break() may make that one a terminator (exec.c) until the
 * run loop attends, which is why they are writable data. */
static void place_copies(struct jit_tr *t)
{
	struct x64 *e = &t->e;
	e->p = (u8 *)(((uintptr_t)e->p + 15) & ~(uintptr_t)15);
	size_t need = t->ncall * 2 * sizeof(struct insn);
	if (e->full || (size_t)(e->end - e->p) < need) {
		e->full = true;
		return;
	}
	for (unsigned i = 0; i < t->ncall; i++) {
		struct insn *copy = (struct insn *)(void *)e->p;
		copy[0] = t->insn[t->call[i].k];
		memset(&copy[1], 0, sizeof(copy[1]));
		copy[1].exec = op_call_return;
		uintptr_t at = (uintptr_t)copy;
		if (t->call[i].field)
			memcpy(t->call[i].field, &at, 8);
		e->p += 2 * sizeof(struct insn);
	}
}

static insn_fn compile(struct jit *j, const struct insn *insn, unsigned n,
		       const struct block *b)
{
	if (!jit_room(j))
		return NULL;
	struct jit_tr *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	u8 *start = j->mem + j->used;
	t->e = (struct x64){ start, j->mem + j->size, false };
	t->insn = insn;
	t->block = b;
	t->n = n;
	t->flags_of = t->cc_now = -1;
	t->nfix = t->nstub = t->ncall = 0;
	enum jit_result r = JIT_NO;
	for (t->k = 0; t->k < n; t->k++)
		if ((r = jit_insn(t)) != JIT_OK)
			break;
	unsigned covered = t->k + (r == JIT_END);
	if (r == JIT_OK) { /* all of it: on at the address after the last */
		x64_rm(&t->e, 8, XOP_MOV_LD, XAX, xm(XDI, OFF(cur_block_rip)));
		x64_rm(&t->e, 8, XOP_LEA, XAX, xm(XAX, insn[n - 1].next_off));
		jit_end_block(t, &insn[n - 1], false);
	} else if (r == JIT_NO) {
		emit_exit(t, t->k); /* the rest of the block */
	}
	for (unsigned i = 0; i < t->nstub; i++)
		emit_stub(t, &t->stub[i]);
	emit_exits(t);
	place_copies(t);
	bool ok = covered > 0 && !t->e.full;
	if (ok)
		j->used = (size_t)(t->e.p - j->mem + 15) & ~(size_t)15;
	free(t);
	return ok ? (insn_fn)(void *)start : NULL;
}

insn_fn jit_compile(struct jit *j, const struct insn *insn, unsigned n)
{
	return compile(j, insn, n, NULL);
}

insn_fn jit_compile_block(struct jit *j, const struct block *b)
{
	return compile(j, b->insn, b->n, b);
}
