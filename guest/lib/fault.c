/* fault.c: exception expectations (FAULT_TRY, fault_run*) and CPL 3 runs. */
#include "fault.h"

#include "desc.h"
#include "x86.h"

u64 ctx_call(struct kctx *k, u64 (*fn)(u64), u64 arg);
u64 ctx_enter(struct kctx *k, const struct regs *r);
void ctx_landing(void);

/* One active fault_run*; they form a stack through prev. */
struct fault_try {
	struct kctx k;
	struct fault f;
	bool caught;
	struct fault_try *prev;
};

volatile u64 fault_resume, fault_insn;
static struct fault fault_last = { .vector = FAULT_NONE };
static struct fault_try *fault_cur;

static u8 user_stack[16384] __aligned(16);

static void record(struct fault *f, const struct regs *r)
{
	f->vector = r->vector;
	f->error_code = r->error_code;
	f->rip = r->rip;
	f->cs = r->cs;
	f->rflags = r->rflags;
	f->rsp = r->rsp;
	f->ss = r->ss;
	f->cr2 = read_cr2();
	f->regs = *r;
}

/* Make the handler's IRETQ land in ctx_landing, which returns from the
 * ctx_call/ctx_enter of t with 0 on t's stack. */
static void unwind(struct regs *r, struct fault_try *t)
{
	t->caught = true;
	fault_cur = t->prev;
	r->rip = (u64)ctx_landing;
	r->cs = KERNEL_CS;
	r->ss = KERNEL_DS;
	r->rsp = t->k.rsp;
	r->rflags = t->k.rflags;
	r->rdi = (u64)&t->k;
	r->rax = 0;
}

/* The run ends normally with RAX as its value. */
static void end_run(struct regs *r, struct fault_try *t)
{
	t->f.vector = FAULT_NONE;
	t->f.value = r->rax;
	t->f.regs = *r;
	unwind(r, t);
}

bool fault_catch(struct regs *r)
{
	/* RET into fault_exit_stub (its UD2, see ctx.S) or INT 0x81. */
	if (fault_cur && ((r->vector == UD_VECTOR && r->rip == (u64)fault_exit_stub) ||
			  r->vector == FAULT_EXIT_VECTOR)) {
		end_run(r, fault_cur);
		return true;
	}
	if (fault_resume) {
		record(&fault_last, r);
		fault_last.insn = fault_insn;
		r->rip = fault_resume;
		r->rflags &= ~X86_EFLAGS_TF; /* the experiment ends here */
		fault_resume = 0;
		return true;
	}
	if (!fault_cur)
		return false;
	record(&fault_cur->f, r);
	unwind(r, fault_cur);
	return true;
}

struct fault fault_take(void)
{
	struct fault f = fault_last;

	if (fault_resume)
		f = (struct fault){ .vector = FAULT_NONE, .insn = fault_insn };
	fault_resume = 0;
	fault_last.vector = FAULT_NONE;
	return f;
}

struct fault fault_run(u64 (*fn)(u64), u64 arg)
{
	struct fault_try t = { .f.vector = FAULT_NONE, .prev = fault_cur };

	fault_cur = &t;
	u64 v = ctx_call(&t.k, fn, arg);
	if (!t.caught) {
		fault_cur = t.prev;
		t.f.value = v;
	}
	return t.f;
}

struct fault fault_run_regs(const struct regs *r)
{
	struct fault_try t = { .f.vector = FAULT_NONE, .prev = fault_cur };

	fault_cur = &t;
	ctx_enter(&t.k, r);
	return t.f;
}

struct regs fault_user_regs(u64 rip, u16 cs)
{
	u64 *sp = (u64 *)(user_stack + sizeof(user_stack)) - 1;

	*sp = (u64)fault_exit_stub;
	return (struct regs){
		.rip = rip,
		.cs = cs,
		.rflags = X86_EFLAGS_FIXED | X86_EFLAGS_IF,
		.rsp = (u64)sp,
		.ss = USER_DS,
	};
}

struct fault fault_run_user(u64 (*fn)(u64), u64 arg)
{
	struct regs r = fault_user_regs((u64)fn, USER_CS);

	r.rdi = arg;
	return fault_run_regs(&r);
}
