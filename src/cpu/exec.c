/* exec.c: decoded-block cache and the interpreter's run loop.
 *
 * Code is decoded once into blocks of struct insn that end at a control
 * transfer, a state-changing instruction or the end of a page, and cached
 * by guest-physical address in a direct-mapped table. A write to a RAM page
 * that holds decoded code bumps that page's generation, which invalidates
 * its blocks (Linux patches its own text). Events (interrupts, virtual-time
 * deadlines, stop requests) are checked between blocks.
 *
 * A block runs as a chain of tail calls (cpu.h, insn_next()) that ends in
 * a terminator after its last instruction. To stop a block early
 * (cpu_break()), the instruction after the current one is made a
 * terminator until the run loop next attends to events.
 */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "cet.h"
#include "decode.h"
#include "fast.h"
#include "jit.h"
#include "block.h"
#include "ops.h"

#define BLOCK_MAX 32
#define BC_HASH_BITS 16
#define BC_ARENA (64u << 20)
#define JIT_ARENA (64u << 20)

struct block_cache {
	struct decode_table *dt;
	struct jit *jit; /* NULL: no native code (-accel emu,jit=off) */
	u8 *arena;
	size_t used;
	struct block *table[1u << BC_HASH_BITS];
	/* The instruction exec_stop_block() made a terminator, and its exec. */
	struct insn *stopped;
	insn_fn stopped_exec;
	struct insn one[2]; /* a block's first instruction, alone (run_first()) */
};

/* Stand-ins for what did not decode: too long (#GP), an architecturally
 * invalid form (#UD), or an opcode cetvm lacks (#UD, logged once). */
static void op_toolong(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_gp(cpu, 0);
}

static void op_invalid(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

static void op_unknown(struct cpu *cpu, const struct insn *in)
{
	cpu_unimplemented(cpu, in);
}

/* The terminator after a block's last instruction: back to the run loop,
 * which goes on after cpu->cur_insn. */
static void op_block_done(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in - 1;
}

void exec_set_terminator(struct insn *in)
{
	memset(in, 0, sizeof(*in));
	in->exec = op_block_done;
}

void exec_stop_block(struct cpu *cpu)
{
	struct block_cache *bc = cpu->bc;
	struct insn *next = (struct insn *)(cpu->cur_insn + 1);
	if (next->exec == op_block_done)
		return;
	bc->stopped = next;
	bc->stopped_exec = next->exec;
	next->exec = op_block_done;
}

/* Undo exec_stop_block(): before any block runs again. */
static void resume_blocks(struct block_cache *bc)
{
	if (bc->stopped) {
		bc->stopped->exec = bc->stopped_exec;
		bc->stopped = NULL;
	}
}

int exec_cache_create(struct cpu *cpu)
{
	struct block_cache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -1;
	bc->dt = decode_table_create();
	bc->arena = malloc(BC_ARENA);
	if (!cpu->env->no_jit)
		bc->jit = jit_create(JIT_ARENA); /* without it, interpreted */
	if (!bc->dt || !bc->arena) {
		jit_destroy(bc->jit);
		decode_table_destroy(bc->dt);
		free(bc->arena);
		free(bc);
		return -1;
	}
	cpu->bc = bc;
	return 0;
}

void exec_cache_destroy(struct cpu *cpu)
{
	if (!cpu->bc)
		return;
	decode_table_destroy(cpu->bc->dt);
	jit_destroy(cpu->bc->jit);
	free(cpu->bc->arena);
	free(cpu->bc);
	cpu->bc = NULL;
}

const struct decode_table *exec_decode_table(const struct cpu *cpu)
{
	return cpu->bc->dt;
}

void exec_cache_flush(struct cpu *cpu)
{
	cpu->jc_epoch++;
	cpu->bc->stopped = NULL; /* its block is gone */
	memset(cpu->bc->table, 0, sizeof(cpu->bc->table));
	memset(cpu->code_pages, 0, (cpu->ram_size + 0xfff) >> 12);
	cpu->bc->used = 0;
	if (cpu->bc->jit)
		jit_reset(cpu->bc->jit);
}

void cpu_code_written(struct cpu *cpu, u64 pfn)
{
	cpu->page_gen[pfn]++;
	cpu->jc_epoch++; /* jump-cache hits skip the generation check */
	cpu->code_pages[pfn] = 0;
	cpu_break(cpu);
}

static unsigned bc_hash(u64 pa, unsigned code_size)
{
	u64 h = (pa ^ (pa >> BC_HASH_BITS) ^ ((u64)code_size << 7)) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> (64 - BC_HASH_BITS));
}

static unsigned code_size(const struct cpu *cpu)
{
	if (cpu->m64)
		return 8;
	if ((cpu->cr0 & X86_CR0_PE) && !(cpu->eflags & X86_EFLAGS_VM) &&
	    (cpu->seg[SEG_CS].attr & SEG_ATTR_DB))
		return 4;
	return 2;
}

/* Linear address of RIP, with the CS limit or canonical check (#GP(0)). */
static u64 fetch_la(struct cpu *cpu)
{
	if (cpu->m64) {
		if (cpu_canonical(cpu->rip) != cpu->rip)
			cpu_gp(cpu, 0);
		return cpu->rip;
	}
	if (cpu->rip > cpu->seg[SEG_CS].limit && (cpu->cr0 & X86_CR0_PE))
		cpu_gp(cpu, 0);
	return (cpu->seg[SEG_CS].base + cpu->rip) & 0xffffffffull;
}

/* The RAM offset of la's physical address (blocks and code pages are
 * indexed by it), or MEM_NONE (>= ram_size) outside RAM. */
static u64 fetch_phys(struct cpu *cpu, u64 la)
{
	bool user = cpu->cpl == 3;
	struct itlb_entry *e = &cpu->itlb[user][(la >> 12) & (TLB_SIZE - 1)];
	if (likely(e->tag == (la & ~0xfffull)))
		return e->phys | (la & 0xfff);
	u64 pa = cpu_ram_offset(cpu, cpu_translate(cpu, la, ACC_EXEC), 1);
	if (pa >= cpu->ram_size)
		return pa; /* not cached: executing outside RAM is refused below */
	cpu_tlb_touch(cpu, MMU_COUNT + user, (la >> 12) & (TLB_SIZE - 1));
	e->tag = la & ~0xfffull;
	e->phys = pa & ~0xfffull;
	return pa;
}

static void mark_code_page(struct cpu *cpu, u64 pfn)
{
	if (!cpu->code_pages[pfn]) {
		cpu->code_pages[pfn] = 1;
		cpu_tlb_drop_writes(cpu);
	}
}

static struct block *alloc_block(struct cpu *cpu)
{
	size_t need = sizeof(struct block) + (BLOCK_MAX + 1) * sizeof(struct insn);
	if (cpu->bc->used + need > BC_ARENA || (cpu->bc->jit && !jit_room(cpu->bc->jit)))
		exec_cache_flush(cpu);
	struct block *b = (struct block *)(cpu->bc->arena + cpu->bc->used);
	return b;
}

/* Decode an instruction that straddles the end of the page (only as the
 * first of a block, so that a fetch fault is raised for it). */
static int decode_straddling(struct cpu *cpu, u64 la, u64 pa, unsigned cs, struct insn *in,
			     struct block *b)
{
	u8 tmp[16];
	unsigned first = 0x1000 - (unsigned)(pa & 0xfff);
	u64 pa2 = cpu_translate(cpu, (la & ~0xfffull) + 0x1000, ACC_EXEC) & ~0xfffull;
	pa2 = cpu_ram_offset(cpu, pa2, 0x1000);
	if (pa2 >= cpu->ram_size)
		cpu_gp(cpu, 0);
	memcpy(tmp, cpu->ram + pa, first);
	memcpy(tmp + first, cpu->ram + pa2, 16 - first);
	b->phys2 = pa2;
	mark_code_page(cpu, pa2 >> 12);
	b->gen2 = cpu->page_gen[pa2 >> 12];
	return decode_insn(cpu->bc->dt, tmp, 15, cs, in);
}

/* The exec handler for a handler that expects cpu->rip and cpu->next_rip
 * (every handler but the specializations of fast.c). */
void exec_wrapped(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in;
	cpu->next_rip = insn_next_rip(cpu, in);
	cpu->rip = cpu->next_rip - in->len;
	in->fn(cpu, in);
	insn_next(cpu, in);
}

/* Pick what the run loop calls for a freshly decoded instruction. */
static void prepare_insn(struct insn *in, unsigned cs, int next_off)
{
	in->next_off = (s16)next_off;
	in->run = 0;
	if (fast_variant(in, cs))
		return;
	in->exec = exec_wrapped;
	in->run = RUN_WRAPPED | RUN_NEXT;
}

/* Where the block goes on after in (off: the page offset after it), or -1
 * where it ends at in: at the next instruction; in 64-bit code also past a
 * Jcc (a taken one leaves the block) and through a direct JMP or CALL whose
 * target is in the same page. Offsets from the block start stay within a
 * page either way (insn.next_off). */
static int follow(const struct insn *in, unsigned off)
{
	bool end = (decode_opflags(in) & OPF_END) || off >= 0x1000;
	if (!end)
		return (int)off;
	if (!fast_can_go_on(in))
		return -1;
	s64 to = in->fn == op_jcc ? (s64)off : (s64)off + (s64)in->imm;
	return to >= 0 && to < 0x1000 ? (int)to : -1;
}

/* Runs of a 64-bit block before it gets native code, unless
 * -accel emu,jit-threshold= says: most code that runs only a few times
 * (start-up) would cost more to translate than to interpret. */
#define JIT_HEAT 8

/* The entry of a 64-bit block without native code yet: counts its runs,
 * translates it at the last (unless the arena is full: building the next
 * block flushes it then), and runs it through its first exec. */
static void op_warm(struct cpu *cpu, const struct insn *in)
{
	struct block *b = (struct block *)(void *)((u8 *)in - offsetof(struct block, insn));
	if (--b->heat == 0) {
		insn_fn fn = jit_compile_block(cpu->bc->jit, b);
		b->entry = fn ? fn : in->exec;
	}
	in->exec(cpu, in);
}

static struct block *build_block(struct cpu *cpu, u64 la, u64 pa, unsigned cs)
{
	struct block *b = alloc_block(cpu);
	unsigned off = (unsigned)(pa & 0xfff), start = off;
	mark_code_page(cpu, pa >> 12);
	b->phys = pa;
	b->phys2 = ~0ull;
	b->gen = cpu->page_gen[pa >> 12];
	b->code_size = (u8)cs;
	b->n = 0;
	b->link = NULL;
	b->link_rip = b->link_epoch = ~0ull; /* the epoch never gets there */
	while (b->n < BLOCK_MAX) {
		struct insn *in = &b->insn[b->n];
		unsigned avail = 0x1000 - off;
		int r = decode_insn(cpu->bc->dt, cpu->ram + (pa & ~0xfffull) + off, avail, cs, in);
		if (r == DEC_NEED) {
			if (b->n > 0)
				break;
			r = decode_straddling(cpu, la, pa, cs, in, b);
		}
		b->n++;
		in->nth = b->n;
		if (r < 0) {
			in->fn = r == DEC_TOOLONG ? op_toolong : r == DEC_INVALID ? op_invalid : op_unknown;
			prepare_insn(in, 0, (int)(off + in->len) - (int)start);
			break;
		}
		off += in->len;
		prepare_insn(in, cs, (int)off - (int)start);
		int to = follow(in, off);
		fast_after(b->n > 1 ? in - 1 : NULL, in, cs, to >= 0);
		if (to < 0)
			break;
		off = (unsigned)to;
	}
	exec_set_terminator(&b->insn[b->n]);
	b->endbr = cet_is_endbr(cpu, &b->insn[0]); /* code_size says whether m64 */
	b->entry = cs == 8 && cpu->bc->jit ? op_warm : b->insn[0].exec;
	b->heat = cpu->env->jit_threshold ? cpu->env->jit_threshold : JIT_HEAT;
	cpu->bc->used += sizeof(struct block) + (b->n + 1) * sizeof(struct insn);
	cpu->bc->used = (cpu->bc->used + 15) & ~(size_t)15;
	cpu->bc->table[bc_hash(pa, cs)] = b;
	return b;
}

static bool block_valid(const struct cpu *cpu, const struct block *b)
{
	return b->gen == cpu->page_gen[b->phys >> 12] &&
	       (b->phys2 == ~0ull || b->gen2 == cpu->page_gen[b->phys2 >> 12]);
}

static struct block *lookup_block(struct cpu *cpu)
{
	u64 la = fetch_la(cpu);
	u64 pa = fetch_phys(cpu, la);
	unsigned cs = code_size(cpu);
	if (unlikely(pa >= cpu->ram_size))
		return NULL;
	struct block *b = cpu->bc->table[bc_hash(pa, cs)];
	if (likely(b && b->phys == pa && b->code_size == cs && block_valid(cpu, b)))
		return b;
	return build_block(cpu, la, pa, cs);
}

/* The block at RIP: the jump cache first, then the physical lookup. */
static struct block *find_block(struct cpu *cpu)
{
	struct jc_entry *e = &cpu->jc[(cpu->rip ^ (cpu->rip >> JC_BITS)) & ((1u << JC_BITS) - 1)];
	if (likely(e->rip == cpu->rip && e->epoch == cpu->jc_epoch))
		return e->b;
	struct block *b = lookup_block(cpu);
	if (b) {
		/* Building may have flushed the cache (and moved the epoch). */
		e->rip = cpu->rip;
		e->epoch = cpu->jc_epoch;
		e->b = b;
	}
	return b;
}

/* The block at RIP after prev ran (NULL if it did not): prev's link if it
 * still holds, else find_block(), which then becomes prev's link. */
static struct block *next_block(struct cpu *cpu, struct block *prev)
{
	if (prev && prev->link_epoch == cpu->jc_epoch && prev->link_rip == cpu->rip)
		return prev->link;
	u64 epoch = cpu->jc_epoch;
	struct block *b = find_block(cpu);
	/* A moved epoch may mean a flushed cache, where prev is gone. */
	if (prev && b && cpu->jc_epoch == epoch) {
		prev->link = b;
		prev->link_rip = cpu->rip;
		prev->link_epoch = epoch;
	}
	return b;
}

/* Run the instructions of a block through entry: from its first (entry is
 * b->entry: jit.c's code, or the first exec) or from one[0] alone; returns
 * the last one that ran. RIP stays implicit while a block runs (cpu.h,
 * insn_rip()): cpu->cur_block_rip must hold its address. */
static inline __attribute__((always_inline)) const struct insn *
run_insns(struct cpu *cpu, const struct block *b, insn_fn entry, const struct insn *in)
{
	cpu->cur_block = b;
	entry(cpu, in);
	return cpu->cur_insn; /* insn_next() */
}

/* The address after the last instruction of a block that ran. */
static inline u64 end_rip(const struct cpu *cpu, const struct insn *last)
{
	return (last->run & RUN_NEXT) ? cpu->next_rip : insn_next_rip(cpu, last);
}

/* Run the first instruction of b (at cpu->rip) alone: the slow path's way
 * to honour an interrupt shadow or single-step. */
static void run_first(struct cpu *cpu, const struct block *b)
{
	struct insn *one = cpu->bc->one;
	one[0] = b->insn[0];
	exec_set_terminator(&one[1]);
	cpu->cur_block_rip = cpu->rip;
	const struct insn *last = run_insns(cpu, b, one[0].exec, one);
	cpu->cur_block = NULL;
	cpu->icount += last->nth;
	cpu->rip = end_rip(cpu, last);
	cet_settle(cpu);
}

/* The block at rip after b from the jump cache, which then becomes b's
 * link, or NULL: the run loop finds it. */
static __attribute__((noinline)) struct block *relink(struct cpu *cpu, struct block *b, u64 rip)
{
	struct jc_entry *e = &cpu->jc[(rip ^ (rip >> JC_BITS)) & ((1u << JC_BITS) - 1)];
	if (e->rip != rip || e->epoch != cpu->jc_epoch)
		return NULL;
	b->link = e->b;
	b->link_rip = rip;
	b->link_epoch = e->epoch;
	return e->b;
}

/* Run b and then the blocks it links to, whole, for as long as nothing
 * needs the run loop's attention: an event, a deadline, a link that does
 * not hold and a jump-cache miss, or an IBT tracker that waits at
 * something other than ENDBR.
 * The instruction count moves once per block; cpu->rip is written once at
 * the end (a fault accounts for itself: count_faulted_block). Returns the
 * last block that ran, for next_block(). */
static struct block *run_chain(struct cpu *cpu, struct block *b)
{
	u64 rip = cpu->rip;
	for (;;) {
		cpu->cur_block_rip = rip;
		const struct insn *last = run_insns(cpu, b, b->entry, b->insn);
		b = (struct block *)cpu->cur_block; /* native code may have gone on */
		cpu->icount += last->nth;
		rip = end_rip(cpu, last);
		if (unlikely(cpu->icount >= cpu->stop_at))
			break;
		struct block *next = b->link;
		if (unlikely(b->link_rip != rip || b->link_epoch != cpu->jc_epoch) &&
		    !(next = relink(cpu, b, rip)))
			break;
		if (unlikely(cpu->ibt_track)) {
			if (!next->endbr)
				break; /* cet_check_endbr() may fault: not here */
			if (cpu->ibt_wait)
				cet_endbr_retire(cpu);
			cpu->ibt_pending = false; /* WAIT, then ENDBR: as it was */
		}
		b = next;
	}
	cpu->cur_block = NULL;
	cpu->rip = rip;
	cet_settle(cpu);
	return b;
}

/* TF was set when the instruction began: run it alone, then raise the
 * single-step #DB trap with DR6.BS (SDM Vol. 3 18.3.1.4), unless the
 * instruction itself delivered an event (which clears TF). */
static void single_step(struct cpu *cpu, const struct block *b)
{
	cpu->delivered = false;
	run_first(cpu, b);
	if (cpu->delivered)
		return;
	cpu->dr[6] |= 1u << 14;
	cpu_deliver(cpu, X86_EXC_DB, false, 0, EV_EXCEPTION, cpu->rip);
}

/* Deliver a pending external interrupt if the CPU can take one now. */
static void check_irq(struct cpu *cpu)
{
	if (!cpu->poll_irq)
		return;
	if (!(cpu->eflags & X86_EFLAGS_IF)) {
		cpu->poll_irq = false; /* setting IF asks again (cpu_set_rflags) */
		return;
	}
	int v = cpu->env->irq_peek(cpu->env->ctx);
	if (v < 0) {
		cpu->poll_irq = false;
		return;
	}
	v = cpu->env->irq_ack(cpu->env->ctx);
	if (v < 0)
		return;
	cpu->halted = false;
	cpu_deliver(cpu, v, false, 0, EV_EXTERNAL, cpu->rip);
}

static bool should_exit(struct cpu *cpu, struct vcpu_exit *exit)
{
	if (cpu->shutdown)
		exit->reason = VCPU_EXIT_SHUTDOWN;
	else if (cpu->env->stop && *cpu->env->stop)
		exit->reason = VCPU_EXIT_STOP;
	else if (cpu->icount >= cpu->deadline)
		exit->reason = VCPU_EXIT_DEADLINE;
	else
		return false;
	return true;
}

static void internal_error(struct cpu *cpu, struct vcpu_exit *exit)
{
	exit->reason = VCPU_EXIT_INTERNAL;
	snprintf(exit->internal.message, sizeof(exit->internal.message),
		 "instruction fetch outside RAM at rip %#llx", (unsigned long long)cpu->rip);
}

/* How the next block runs: linked to the ones after it, or only its first
 * instruction (an interrupt shadow), or that under single-step. */
enum run_mode { MODE_CHAIN, MODE_ONE, MODE_STEP };

/* Everything between blocks that is rarely needed. Returns false to leave
 * cpu_run(); else sets *mode. */
static bool attend(struct cpu *cpu, struct vcpu_exit *exit, enum run_mode *mode)
{
	cpu->brk = false;
	resume_blocks(cpu->bc);
	if (should_exit(cpu, exit))
		return false;
	bool shadow = cpu->irq_shadow;
	cpu->irq_shadow = false;
	if (!shadow)
		check_irq(cpu);
	if (cpu->halted) {
		exit->reason = VCPU_EXIT_HLT;
		return false;
	}
	*mode = (cpu->eflags & X86_EFLAGS_TF) ? MODE_STEP : shadow ? MODE_ONE : MODE_CHAIN;
	cpu->stop_at = cpu->attention ? 0 : cpu->deadline;
	return true;
}

/* A fault unwound out of a block: count the instructions that completed
 * before it, and the faulting one, so that virtual time (and deadlines)
 * advance even in a guest that does nothing but fault; and make RIP that
 * of the faulting instruction if it was implicit. */
static void count_faulted_block(struct cpu *cpu)
{
	cpu_sync_rip(cpu);
	cpu->icount += cpu->cur_block ? cpu->cur_insn->nth : 1;
	cpu->cur_block = NULL;
}

/* Blocks one after another until an exit; a fault unwinds out of here. */
static void run_loop(struct cpu *cpu, struct vcpu_exit *exit)
{
	struct block *b = NULL;
	for (;;) {
		enum run_mode mode = MODE_CHAIN;
		if (unlikely(cpu->icount >= cpu->stop_at)) {
			if (!attend(cpu, exit, &mode))
				break;
			b = NULL; /* an event may have moved RIP: do not link to it */
		}
		b = next_block(cpu, b);
		if (unlikely(!b)) {
			internal_error(cpu, exit);
			break;
		}
		if (unlikely(cet_tracker_armed(cpu)))
			cet_block_start(cpu, &b->insn[0]);
		if (unlikely(mode == MODE_STEP))
			single_step(cpu, b);
		else if (unlikely(mode == MODE_ONE))
			run_first(cpu, b);
		else
			b = run_chain(cpu, b);
	}
}

void cpu_run(struct cpu *cpu, struct vcpu_exit *exit)
{
	jmp_buf jb;
	cpu->fault_jmp = &jb;
	exit->reason = VCPU_EXIT_NONE;
	cpu_poll_irq(cpu);
	cpu->cur_block = NULL;
	if (setjmp(jb)) {
		count_faulted_block(cpu);
		cpu_handle_fault(cpu);
		cpu_break(cpu);
	}
	run_loop(cpu, exit);
	cpu->fault_jmp = NULL;
}

u64 cpu_port_read(struct cpu *cpu, u16 port, unsigned size)
{
	cpu_poll_irq(cpu);
	return bus_read(cpu->env->pio, port, size);
}

void cpu_port_write(struct cpu *cpu, u16 port, unsigned size, u64 v)
{
	cpu_poll_irq(cpu);
	cpu_break(cpu);
	bus_write(cpu->env->pio, port, size, v);
}
