/* test_jit.c: the native-code tier (jit.c) against the interpreter and the
 * host CPU. Random blocks (test_jit_gen.h) over registers, a memory window
 * with a read-only and an absent page, and a stack in that window are laid
 * out as build_block() would (exec.c) and run from the same state three
 * ways: through the exec handlers, through jit_compile()'s code, and on the
 * host. Registers, flags, memory, faults, where the block stopped and
 * where it goes next must agree.
 *
 * The host runs the block at the linear address the interpreter gives it,
 * so RIP-relative operands and pushed return addresses are the same, with
 * RSP switched to the guest's; a taken branch jumps, on the host, to the
 * end of the block, and a RET runs there only where the interpreter says it
 * returns to that end. Flags the SDM leaves undefined are not compared, and
 * a block that reads them is not run on the host. A probe behind each exec
 * handler counts how far the JIT's code ran natively; a mismatching block
 * is reduced to the instructions it needs and printed. */
#include "test_jit_gen.h"

#include "cpu/cet.h"
#include "cpu/fast_ops.h"
#include "cpu/jit.h"
#include "cpu/ops.h"

#define N_BLOCKS 1200
#define RC_SIGNAL 1000 /* struct res.rc: a host signal in the run */

static const struct mix mixes[] = {
	/* mov movi ld st alur alum lea set cmov jcc misc shift imul bmi stack call out */
	{ "registers", { 3, 2, 0, 0, 6, 0, 2, 1, 1, 1, 1 }, 0, 0 },
	{ "memory", { 1, 1, 4, 4, 1, 4, 1, 1, 1, 0, 0 }, 3, 0 },
	{ "mixed", { 2, 2, 2, 2, 3, 2, 2, 1, 1, 1, 1 }, 5, 0 },
	{ "branches", { 1, 1, 1, 1, 4, 1, 0, 1, 1, 4, 1 }, 3, 0 },
	{ "faults", { 1, 1, 3, 3, 1, 3, 1, 1, 1, 1, 0 }, 35, 0 },
	{ "shifts, imul, inc/dec", { 1, 1, 0, 0, 2, 0, 0, 2, 2, 2, 0, 6, 3, 0, 0, 0, 3 }, 0, 0 },
	{ "shlx/shrx/sarx", { 1, 1, 0, 0, 2, 0, 0, 1, 1, 1, 0, 3, 0, 5 }, 0, 0 },
	{ "stack", { 1, 1, 1, 1, 2, 0, 1, 1, 0, 1, 0, 0, 0, 0, 6, 2, 1 }, 5, 0 },
	{ "shadow stack", { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 3, 0 }, 0, 100 },
	{ "call-outs", { 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 7 }, 10, 0 },
};

static struct jit *J;
static struct insn blk[MAX_INSNS + 1];
static u8 w_before[WIN_BYTES], w_host[WIN_BYTES], w_emu[WIN_BYTES], w_jit[WIN_BYTES];
static char why[512], first[3 * CODE_MAX + sizeof(why) + 4];
static const u64 dummy_block; /* cpu->cur_block: any block */
/* Group counters. */
static unsigned n_blocks, n_insns, n_run, n_native, n_compiled, n_faulting, n_taken, n_fails,
	n_shown, n_host, n_callouts, n_stack_native, n_copy_faults, n_sse;

/* --------------------------------------------------------------- blocks */

/* The instructions as build_block() prepares them (exec.c). */
static bool decode_block(const struct gblk *g, const struct layout *L)
{
	for (unsigned k = 0; k < g->n; k++) {
		struct insn *in = &blk[k];
		int r = decode_insn(T.dt, L->guest + L->off[k], L->len - L->off[k], 8, in);
		if (r != (int)g->in[k].e.n)
			return false;
		in->next_off = (s16)L->end[k];
		in->nth = (u8)(k + 1);
		in->run = 0;
		if (!fast_variant(in, 8)) {
			in->exec = exec_wrapped;
			in->run = RUN_WRAPPED | RUN_NEXT;
		}
		bool on = k + 1 < g->n;
		if (on && g->in[k].jcc >= 0 && !fast_can_go_on(in))
			return false;
		fast_after(k ? in - 1 : NULL, in, 8, on);
	}
	exec_set_terminator(&blk[g->n]);
	return true;
}

/* ------------------------------------------------------------------- runs */

/* The outcome of one run of a block. */
struct res {
	int rc; /* 0, or EMU_FAULT(vector) */
	struct xs s;
	u32 error;
	u64 cr2, ssp;
	int last;      /* cpu->cur_insn's index: where the block stopped */
	bool copy;     /* cpu->cur_insn is a call-out's copy of insn[last] */
	bool has_next; /* it has RUN_NEXT: next_rip says where the block goes */
	u64 next_rip;
};

/* The host: RSP switched to the guest's around the block through two slots
 * at the end of the (32-bit addressable) code page. */
static u64 *rsp_slot, *host_rsp_slot;
static volatile u64 fault_rsp;

static void jit_host_handler(int sig, siginfo_t *si, void *ucv)
{
	fault_rsp = (u64)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RSP];
	host_handler(sig, si, ucv);
}

/* mov [slot], rsp (0x89) or mov rsp, [slot] (0x8b). */
static void put_rsp_move(u8 *p, u8 op, const u64 *slot)
{
	const u8 b[4] = { 0x48, op, 0x24, 0x25 };
	memcpy(p, b, 4);
	put_le(p + 4, (u64)(uintptr_t)slot, 4);
}

static void host_block(const struct layout *L, const struct xs *s0, struct res *o)
{
	u8 code[CODE_MAX + 32];
	put_rsp_move(code, 0x89, host_rsp_slot);
	put_rsp_move(code + 8, 0x8b, rsp_slot);
	memcpy(code + 16, L->host, L->len);
	put_rsp_move(code + 16 + L->len, 0x89, rsp_slot);
	put_rsp_move(code + 24 + L->len, 0x8b, host_rsp_slot);
	o->s = *s0;
	*rsp_slot = s0->r[R_SP];
	int sig = host_run(code, L->len + 32, &o->s);
	o->s.r[R_SP] = sig ? fault_rsp : *rsp_slot;
	o->rc = sig == 0			    ? 0
		: sig == SIGSEGV || sig == SIGBUS ? EMU_FAULT(X86_EXC_PF)
		: sig == SIGFPE			    ? EMU_FAULT(X86_EXC_DE)
						    : RC_SIGNAL + sig;
}

/* Shadow stacks on or off (CR4.CET and S_CET.SH_STK_EN at CPL 0). */
static void set_sse(bool on)
{
	struct cpu *c = T.cpu;
	u64 cr4 = on ? c->cr4 | X86_CR4_CET : c->cr4 & ~X86_CR4_CET;
	if (cr4 == c->cr4)
		return;
	c->cr4 = cr4;
	c->cet.s_cet = on ? CET_SHSTK_EN : 0;
	cet_refresh(c);
	cpu_tlb_flush(c);
}

/* Where cpu->cur_insn stopped: an index into blk, or for a call-out's
 * copy, the index of the instruction it copies (-2 if it is none). */
static int stopped_at(const struct gblk *g, const struct insn *ci, bool *copy)
{
	uintptr_t p = (uintptr_t)ci, b = (uintptr_t)blk;
	*copy = false;
	if (!ci)
		return -1;
	if (p >= b && p <= (uintptr_t)&blk[g->n])
		return (int)((p - b) / sizeof(*ci));
	*copy = true;
	int k = (int)ci->nth - 1;
	if (k < 0 || k >= (int)g->n || ci->next_off != blk[k].next_off || ci->len != blk[k].len)
		return -2;
	return k;
}

/* Run blk from g's state through fn: insn[0].exec, or the JIT's code. */
static void emu_block(insn_fn fn, const struct gblk *g, struct res *o)
{
	struct cpu *c = T.cpu;
	jmp_buf jb;
	memcpy(c->r, g->s.r, sizeof(c->r));
	c->eflags = (g->s.fl & FL_ARITH) | X86_EFLAGS_FIXED;
	c->cc_op = CC_EAGER;
	c->cur_block = (const struct block *)(const void *)&dummy_block;
	c->rip = c->cur_block_rip = code_la;
	c->next_rip = 0;
	c->cur_insn = NULL;
	c->cr2 = 0;
	c->brk = false;
	c->cet.ssp = g->ssp;
	c->seg[SEG_FS].base = g->seg_base[0];
	c->seg[SEG_GS].base = g->seg_base[1];
	c->fault.error = 0;
	c->fault_jmp = &jb;
	o->rc = 0;
	if (setjmp(jb)) {
		o->rc = EMU_FAULT(c->fault.vector);
	} else if (sigsetjmp(host_jb, 1)) {
		o->rc = RC_SIGNAL + host_signal; /* a host fault: wrong host address */
	} else {
		in_host = 1;
		fn(c, blk);
	}
	in_host = 0;
	c->cur_block = NULL;
	c->fault_jmp = NULL;
	memcpy(o->s.r, c->r, sizeof(c->r));
	o->s.fl = cpu_get_rflags(c);
	o->error = c->fault.error;
	o->cr2 = c->cr2;
	o->ssp = c->cet.ssp;
	o->last = stopped_at(g, c->cur_insn, &o->copy);
	o->has_next = !o->rc && c->cur_insn && (c->cur_insn->run & RUN_NEXT);
	o->next_rip = o->has_next ? c->next_rip : 0;
}

/* ------------------------------------------------------------ comparing */

static const char *const reg_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
					    "rsi", "rdi", "r8",	 "r9",	"r10", "r11",
					    "r12", "r13", "r14", "r15" };

static bool same_state(const char *who, const struct xs *a, const struct xs *b, u64 flmask)
{
	for (int r = 0; r < 16; r++)
		if (a->r[r] != b->r[r]) {
			snprintf(why, sizeof(why), "%s: %s %#llx vs %#llx", who, reg_names[r],
				 (unsigned long long)a->r[r], (unsigned long long)b->r[r]);
			return false;
		}
	if (!((a->fl ^ b->fl) & flmask))
		return true;
	snprintf(why, sizeof(why), "%s: rflags %#llx vs %#llx", who, (unsigned long long)a->fl,
		 (unsigned long long)b->fl);
	return false;
}

/* The windows after two runs, but page `skip`. */
static bool same_mem(const char *who, const u8 *a, const u8 *b, unsigned skip)
{
	long i = win_cmp(a, b, skip);
	if (i >= 0)
		snprintf(why, sizeof(why), "%s: memory at window+%#lx: %02x vs %02x", who, i, a[i],
			 b[i]);
	return i < 0;
}

static const char *rc_name(int rc)
{
	static char b[4][24];
	static unsigned i;
	char *p = b[i++ % 4];
	if (rc >= RC_SIGNAL)
		snprintf(p, sizeof(b[0]), "signal %d", rc - RC_SIGNAL);
	else if (rc)
		snprintf(p, sizeof(b[0]), "fault %d", rc - 100);
	else
		snprintf(p, sizeof(b[0]), "ok");
	return p;
}

/* The interpreter against the JIT's code: everything. */
static bool jit_agrees(const struct res *e, const struct res *x)
{
	const char *who = "interpreter/jit";
	if (e->rc != x->rc || e->last != x->last)
		snprintf(why, sizeof(why), "%s: %s at insn %d vs %s at insn %d", who,
			 rc_name(e->rc), e->last, rc_name(x->rc), x->last);
	else if (e->rc && (e->error != x->error || e->cr2 != x->cr2))
		snprintf(why, sizeof(why), "%s: error %#x cr2 %#llx vs error %#x cr2 %#llx", who,
			 e->error, (unsigned long long)e->cr2, x->error,
			 (unsigned long long)x->cr2);
	else if (e->has_next != x->has_next || e->next_rip != x->next_rip)
		snprintf(why, sizeof(why), "%s: next_rip %#llx (%d) vs %#llx (%d)", who,
			 (unsigned long long)e->next_rip, e->has_next,
			 (unsigned long long)x->next_rip, x->has_next);
	else if (e->ssp != x->ssp)
		snprintf(why, sizeof(why), "%s: ssp %#llx vs %#llx", who,
			 (unsigned long long)e->ssp, (unsigned long long)x->ssp);
	else
		return same_state(who, &e->s, &x->s, ~0ull) &&
		       same_mem(who, w_emu, w_jit, WIN_PAGES);
	return false;
}

/* The flags the host defines at the end of what ran; false if something
 * that ran read a flag the host leaves undefined (its result, or where a
 * branch went, may then differ). */
static bool host_flags(const struct gblk *g, const struct res *e, u64 *mask)
{
	int end = e->rc ? e->last : e->last + 1;
	u64 m = FL_ARITH;
	for (int k = 0; k < end; k++) {
		if (g->in[k].reads & ~m)
			return false;
		m = (m & g->in[k].kept) | g->in[k].def;
	}
	*mask = m;
	return true;
}

/* The host runs a block only where it reads no undefined flag, and a
 * final RET, CALL r or JMP r only where it faults on the stack or goes to
 * the block end (as the interpreter says). */
static bool host_may_run(const struct gblk *g, const struct layout *L, const struct res *e)
{
	u64 m;
	if (e->last < 0 || !host_flags(g, e, &m))
		return false;
	for (unsigned k = 0; k < g->n; k++)
		if (g->in[k].seg)
			return false;
	if (g->sse && e->rc) { /* not a fault of the shadow stack */
		unsigned k = (unsigned)((e->cr2 - win) >> 12);
		if (e->rc != EMU_FAULT(X86_EXC_PF) || k == SS_PAGE - 1 || k == SS_PAGE)
			return false;
	}
	if (!g->in[g->n - 1].ret || e->last + 1 < (int)g->n)
		return true;
	if (e->rc)
		return e->rc == EMU_FAULT(X86_EXC_PF);
	return e->next_rip == code_la + L->len;
}

/* The host against the interpreter (but the shadow stack, which the host
 * does not have); where a block that ended at a branch goes, from the
 * host's flags. */
static bool host_agrees(const struct gblk *g, const struct layout *L, const struct res *h,
			const struct res *e)
{
	const char *who = "host/interpreter";
	u64 m = 0;
	if (h->rc != e->rc) {
		snprintf(why, sizeof(why), "%s: %s vs %s at insn %d", who, rc_name(h->rc),
			 rc_name(e->rc), e->last);
		return false;
	}
	host_flags(g, e, &m);
	if (!same_state(who, &h->s, &e->s, m) || !same_mem(who, w_host, w_emu, SS_PAGE))
		return false;
	if (e->rc || e->last < 0 || g->in[e->last].jcc < 0)
		return true;
	const struct gins *j = &g->in[e->last];
	u64 next = code_la + L->end[e->last];
	const u8 *r = L->guest + L->off[e->last] + j->rel_at;
	u64 rel = j->rel_size == 1 ? (u64)(s8)r[0] : (u64)(s64)(s32)load_le(r, 4);
	bool taken = j->jcc == JMP_ALWAYS || fast_eflags_cond(h->s.fl, (unsigned)j->jcc);
	u64 want = taken ? next + rel : next;
	if (e->has_next && e->next_rip == want)
		return true;
	snprintf(why, sizeof(why), "%s: branch at insn %d goes to %#llx, host flags say %#llx",
		 who, e->last, (unsigned long long)e->next_rip, (unsigned long long)want);
	return false;
}

/* Which instruction the JIT's code left to: each exec handler, behind a
 * probe for the JIT's run (the code calls insn[k].exec to go on; a
 * call-out runs a copy, which the probe does not see). */
static insn_fn real_exec[MAX_INSNS + 1];
static int first_exit;

static void op_probe(struct cpu *cpu, const struct insn *in)
{
	unsigned k = (unsigned)(in - blk);
	if (first_exit < 0)
		first_exit = (int)k;
	real_exec[k](cpu, in);
}

static void probe(unsigned n, bool on)
{
	first_exit = on ? -1 : first_exit;
	for (unsigned k = 0; k <= n; k++) {
		if (on)
			real_exec[k] = blk[k].exec;
		blk[k].exec = on ? op_probe : real_exec[k];
	}
}

/* The group's numbers for a block whose JIT run (x) ran `native`
 * instructions before leaving to a handler. */
static void count_block(const struct gblk *g, bool fn, const struct res *e,
			const struct res *x, bool host)
{
	unsigned native = !fn ? 0 : first_exit >= 0 ? (unsigned)first_exit : (unsigned)x->last + 1;
	n_blocks++;
	n_insns += g->n;
	n_compiled += fn;
	n_run += (unsigned)(e->last + (e->rc == 0));
	n_native += native;
	n_faulting += e->rc != 0;
	n_taken += e->has_next && e->last + 1 < (int)g->n;
	n_host += host;
	n_sse += g->sse;
	n_copy_faults += fn && x->rc && x->copy;
	for (unsigned k = 0; k < native && k < g->n; k++) {
		u8 kind = g->in[k].kind;
		n_stack_native += kind == K_STACK || kind == K_CALL;
		bool incdec = (blk[k].fn == op_inc_rm || blk[k].fn == op_dec_rm) &&
			      blk[k].opsize == 8 && !(blk[k].flags & IF_MEM); /* translated */
		n_callouts += (kind == K_OUT || g->in[k].end_at >= 0) && !incdec &&
			      k + 1 < g->n && !(blk[k].run & RUN_NEXT);
	}
}

/* Run g three ways; false with why[] set on a mismatch. `count`: add to
 * the group's numbers. */
static bool check_block(struct gblk *g, bool count)
{
	struct layout L;
	struct res h, e, x = { .last = -1 };
	lay_out(g, &L);
	if (!decode_block(g, &L)) {
		snprintf(why, sizeof(why), "the block does not decode as generated");
		return false;
	}
	if (!jit_room(J))
		jit_reset(J);
	insn_fn fn = jit_compile(J, blk, g->n);
	set_sse(g->sse);
	win_save(w_before);
	if (g->flush_emu)
		cpu_tlb_flush(T.cpu);
	emu_block(blk[0].exec, g, &e);
	win_save(w_emu);
	win_load(w_before);
	bool ok = true, host = host_may_run(g, &L, &e);
	if (fn) {
		if (g->flush_jit)
			cpu_tlb_flush(T.cpu);
		if (g->fill_jit) /* the stack cache on RSP's page, if the TLB has it */
			cpu_stack_host(T.cpu, g->s.r[R_SP] - 8);
		probe(g->n, true);
		emu_block(fn, g, &x);
		probe(g->n, false);
		win_save(w_jit);
		win_load(w_before);
		ok = jit_agrees(&e, &x);
	}
	if (host) {
		host_block(&L, &g->s, &h);
		win_save(w_host);
		win_load(w_before);
		ok = ok && host_agrees(g, &L, &h, &e);
	}
	if (count)
		count_block(g, fn != NULL, &e, &x, host);
	return ok;
}

/* Drop the instructions the mismatch does not need. */
static void shrink(struct gblk *g)
{
	for (unsigned k = 0; k < g->n && g->n > 1;) {
		struct gblk t = *g;
		memmove(&t.in[k], &t.in[k + 1], (t.n - k - 1) * sizeof(t.in[0]));
		t.n--;
		if (!check_block(&t, false))
			*g = t;
		else
			k++;
	}
	check_block(g, false);
}

static void report_mismatch(struct gblk *g)
{
	char bytes[3 * CODE_MAX + 1], regs[600] = "";
	struct layout L;
	shrink(g);
	lay_out(g, &L);
	hex_bytes(bytes, sizeof(bytes), L.guest, L.len);
	if (n_fails++ == 0)
		snprintf(first, sizeof(first), "[%s] %s", bytes, why);
	if (n_shown >= 6)
		return;
	n_shown++;
	for (int r = 0; r < 16; r++)
		snprintf(regs + strlen(regs), sizeof(regs) - strlen(regs), "%s=%#llx ",
			 reg_names[r], (unsigned long long)g->s.r[r]);
	printf("  jit %s mismatch: [%s] %s\n    from %sfl=%#llx rip=%#llx window=%#llx%s\n",
	       M->name, bytes, why, regs, (unsigned long long)g->s.fl,
	       (unsigned long long)code_la, (unsigned long long)win,
	       g->sse ? " (shadow stack on)" : "");
}

static void run_group(const struct mix *mx)
{
	M = mx;
	n_blocks = n_insns = n_run = n_native = n_compiled = n_faulting = n_taken = 0;
	n_fails = n_shown = n_host = n_callouts = n_stack_native = n_copy_faults = n_sse = 0;
	first[0] = 0;
	win_fill_random();
	for (unsigned i = 0; i < N_BLOCKS; i++) {
		struct gblk g;
		gen_block(&g);
		if (!check_block(&g, true))
			report_mismatch(&g);
	}
	set_sse(false);
	T.cpu->seg[SEG_FS].base = T.cpu->seg[SEG_GS].base = 0;
	report(n_fails == 0,
	       "jit %s: %u blocks of %u instructions (%u run, %u natively, %u of them call-outs, "
	       "%u stack operations), %u compiled, %u faulting (%u in a call-out), %u left at a "
	       "taken branch, %u on the host too, %u with shadow stacks%s%s",
	       mx->name, n_blocks, n_insns, n_run, n_native, n_callouts, n_stack_native,
	       n_compiled, n_faulting, n_copy_faults, n_taken, n_host, n_sse,
	       n_fails ? ", first mismatch: " : "", first);
	report(n_compiled > 0, "jit %s: some blocks compile", mx->name);
}

/* Where host_run() puts a block's first byte: LEA RAX, [RIP] tells. */
static u64 host_code_la(void)
{
	static const u8 lea[7] = { 0x48, 0x8d, 0x05, 0, 0, 0, 0 };
	struct xs s;
	memset(&s, 0, sizeof(s));
	host_run(lea, sizeof(lea), &s);
	return s.r[R_AX] - sizeof(lea);
}

/* Host code below 2 GiB, as the window is: RIP-relative operands reach it;
 * the RSP slots at its end. Host faults on the alternate signal stack (RSP
 * may be anywhere in the window). */
static bool host_setup(void)
{
	static u8 altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, old;
	struct sigaction sa;
	munmap(T.jit, 4096);
	T.jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (T.jit == MAP_FAILED)
		return false;
	rsp_slot = (u64 *)(void *)(T.jit + 4096 - 8);
	host_rsp_slot = rsp_slot - 1;
	if (sigaltstack(NULL, &old) || ((old.ss_flags & SS_DISABLE) && sigaltstack(&ss, NULL)))
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = jit_host_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER | SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	code_la = host_code_la() + 16; /* after the switch to the guest's RSP */
	return true;
}

int main(void)
{
	harness_init();
	if (!host_setup()) {
		perror("test_jit: host setup");
		return 1;
	}
	win = (u64)(uintptr_t)T.win;
	win_init();
	/* SS_PAGE: a shadow-stack page in the guest (R/W=0, D=1), writable
	 * on the host (only the interpreter writes it, through guest RAM). */
	pt_at(0x3000)[((win >> 12) & 511) + SS_PAGE] &= ~(u64)PTE_W;
	cpu_tlb_flush(T.cpu);
	host_bmi2 = HOST_BMI2;
	J = jit_create(1u << 20);
	if (!report(J != NULL, "jit_create"))
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(mixes); i++)
		if (mixes[i].w[K_BMI] && !host_bmi2)
			report_skip("jit %s (the host CPU lacks BMI2)", mixes[i].name);
		else
			run_group(&mixes[i]);
	jit_destroy(J);
	return 0;
}
