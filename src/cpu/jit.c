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

size_t jit_used(const struct jit *j)
{
	return j->used;
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

void jit_exit_jmp(struct jit_tr *t)
{
	fix(t, x64_jmp(&t->e));
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

insn_fn jit_compile(struct jit *j, const struct insn *insn, unsigned n)
{
	if (!jit_room(j))
		return NULL;
	struct jit_tr *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	u8 *start = j->mem + j->used;
	t->e = (struct x64){ start, j->mem + j->size, false };
	t->insn = insn;
	t->n = n;
	t->flags_of = -1;
	t->nfix = t->nstub = 0;
	enum jit_result r = JIT_NO;
	for (t->k = 0; t->k < n; t->k++)
		if ((r = jit_insn(t)) != JIT_OK)
			break;
	unsigned covered = t->k + (r == JIT_END);
	if (r != JIT_END)
		emit_exit(t, t->k); /* the rest of the block, or its terminator */
	for (unsigned i = 0; i < t->nstub; i++)
		emit_stub(t, &t->stub[i]);
	emit_exits(t);
	bool ok = covered > 0 && !t->e.full;
	if (ok)
		j->used = (size_t)(t->e.p - j->mem + 15) & ~(size_t)15;
	free(t);
	return ok ? (insn_fn)(void *)start : NULL;
}
