/* cpu.h: the architectural x86-64 CPU of the emu accelerator.
 *
 * One struct cpu holds all architectural state. Instructions are decoded
 * once into struct insn (decode.c), grouped into blocks cached by
 * guest-physical address (exec.c), and executed by handlers with the single
 * signature `void op_xxx(struct cpu *, const struct insn *)`.
 *
 * Contract for handlers:
 *  - On entry cpu->rip is the address of the instruction and cpu->next_rip
 *    the address after it. Branches write cpu->next_rip. (The specialized
 *    handlers of fast.c are the exception: inside a block RIP is implicit
 *    for them, see insn_rip() and cpu_sync_rip().)
 *  - Architectural faults call cpu_fault() (or the cpu_gp/cpu_ud helpers),
 *    which does not return. RIP is rolled back automatically because it is
 *    only advanced after the handler returns. A handler must not commit
 *    register state (RSP in particular) before its last access that can
 *    fault, or it must record a rollback with cpu_save_rollback().
 *  - Flags are lazy: arithmetic records an operation with cpu_set_cc(); code
 *    that needs EFLAGS calls cpu_get_rflags() / cpu_cond().
 */
#ifndef CETVM_CPU_H
#define CETVM_CPU_H

#include <setjmp.h>

#include "../accel/accel.h"
#include "../mem.h"
#include "../types.h"
#include "x86.h"

struct cpu;
struct insn;

static inline u64 size_mask(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/* Register numbers (SDM encoding). */
enum {
	R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};
#define REG_NONE 0xff
#define REG_RIP 0xfe /* base register of a RIP-relative operand */

/* Segment registers (SDM encoding), then the system segments. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* insn.flags */
#define IF_REP 0x01      /* F3 (REP/REPE) */
#define IF_REPNE 0x02    /* F2 */
#define IF_LOCK 0x04
#define IF_REX 0x08      /* any REX prefix present (selects SPL..DIL) */
#define IF_NOTRACK 0x10  /* last segment override was 3E (spec 7.2) */
#define IF_OPSIZE 0x20   /* 66 prefix present */
#define IF_SEGOVR 0x40   /* explicit segment override */
#define IF_MEM 0x80      /* ModRM selects memory (mod != 3) */

/* insn.run: how the run loop treats an instruction (exec.c, fast.c). */
#define RUN_WRAPPED 0x01 /* exec sets cpu->rip and next_rip, then calls fn */
#define RUN_NEXT 0x02    /* leaves cpu->next_rip authoritative (branches) */

/* A decoded instruction. Plain named fields, filled by decode.c. */
struct insn {
	insn_fn exec; /* what runs it and the rest of its block (insn_next()) */
	insn_fn fn;   /* the opcode table's handler */
	s32 disp;
	s16 next_off; /* the next instruction's address minus the block's */
	u8 run;       /* RUN_* */
	u8 len;
	u8 opsize;   /* operand size in bytes: 1, 2, 4, 8 */
	u8 addrsize; /* address size in bytes: 2, 4, 8 */
	u8 flags;    /* IF_* */
	u8 reg;      /* ModRM.reg with REX.R, or register in opcode bits */
	u8 rm;       /* ModRM.rm with REX.B (register form) */
	u8 base;     /* memory form: base register, REG_NONE or REG_RIP */
	u8 index;    /* memory form: index register or REG_NONE */
	u8 scale;    /* shift count 0..3 */
	u8 seg;      /* effective segment for the memory operand */
	u8 op;       /* last opcode byte */
	u8 map;      /* 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A */
	u8 modrm;    /* raw ModRM byte (0 if none) */
	u8 sub;      /* handler-specific: ALU op, condition code, ... */
	u16 imm2;    /* second immediate: ENTER level, far selector */
	u8 vex_l;    /* reserved for VEX-encoded (BMI) forms: L bit */
	u8 vex_v;    /* VEX.vvvv register (inverted back), REG_NONE if none */
	u16 def;     /* index of the opcode-table entry (decode_name) */
	u8 nth;      /* position in its block, from 1: instructions done with it */
	u64 imm;     /* immediate (sign-extended where the SDM says so) */
};

/* Cached segment register: the hidden part, as in the VMCS. */
struct seg {
	u16 sel;
	u64 base;
	u32 limit; /* byte granular */
	u32 attr;  /* SEG_ATTR_* bits below (VMCS access-rights layout) */
};
#define SEG_ATTR_TYPE 0xf
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_AVL (1u << 12)
#define SEG_ATTR_L (1u << 13)
#define SEG_ATTR_DB (1u << 14)
#define SEG_ATTR_G (1u << 15)
#define SEG_ATTR_UNUSABLE (1u << 16)

struct dtable {
	u64 base;
	u16 limit;
};

/* Lazy-flags operations (flags.c). */
enum cc_op {
	CC_EAGER, /* cpu->eflags holds the arithmetic flags */
	CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC,
	CC_SHL, CC_SHR, CC_SAR, CC_MUL, CC_NEG,
	CC_ROL, CC_ROR, /* over another lazy op: cpu_record_rotate() */
	CC_COUNT,
};

/* Software TLB (mmu.c). One array per access class. */
#define TLB_BITS 9
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_TOUCHED 128
/* Entries pushed out of the TLB, per class, searched on a miss (mmu.c). */
#define TLB_VICTIMS 8
/* MMU_SLOW never holds entries: every access takes the slow path (#AC checks). */
enum { MMU_SUP, MMU_USER, MMU_SLOW, MMU_COUNT };
struct tlb_entry {
	u64 rtag;  /* page linear address if readable via the fast path, else ~0 */
	u64 wtag;  /* page linear address if writable via the fast path, else ~0 */
	u64 sstag; /* page linear address if a shadow-stack page for this class */
	uintptr_t addend; /* host address = linear address + addend (all tags
			   * name the same page) */
};

/* A one-page cache in front of the software TLB for the stack and the
 * shadow stack (CALL, RET, PUSH, POP: fast_ops.c): a copy of one entry of
 * the current access class, the page of its wtag (sstag) and its addend.
 * Whatever changes the TLB or the access class empties it first (mmu.c:
 * tlb_changed()), so a hit means exactly what the entry's hit would. */
struct page_cache {
	u64 page; /* linear page, or ~0 */
	uintptr_t addend;
};

/* Code-fetch TLB entry: linear page -> guest-physical page. */
struct itlb_entry {
	u64 tag;
	u64 phys;
};

/* An exception being raised or delivered. */
struct cpu_event {
	u8 vector;
	bool has_error;
	u32 error;
};

/* Values restored if the current instruction faults (see header comment). */
struct cpu_rollback {
	bool valid;
	u64 rsp;
	u64 ssp;
	u8 cpl;
};

struct xmm {
	u64 q[2];
};

struct fpu_state {
	u16 fcw, fsw, ftw; /* ftw: full tag word, 2 bits per register */
	u16 fop;
	u64 fip, fdp;
	u8 top;
	long double st[8]; /* physical registers R0..R7 */
	u32 mxcsr;
	struct xmm xmm[16];
	struct xmm ymmh[16]; /* upper halves when AVX state is enabled */
};

struct cet_state {
	u64 u_cet, s_cet;
	u64 pl_ssp[4];
	u64 int_ssp_tab;
	u64 ssp;
};

struct block;
struct block_cache;

/* Jump cache: linear RIP -> decoded block, valid while the epoch matches.
 * The epoch moves whenever translation, CPL or CS changes (exec.c). */
#define JC_BITS 12
struct jc_entry {
	u64 rip;
	u64 epoch;
	struct block *b;
};

struct cpu {
	/* Hot state first. */
	u64 r[16];
	u64 rip, next_rip;
	u64 cc_dst, cc_src, cc_src2;
	struct tlb_entry *tlb_cur; /* tlb[mmu_idx] */
	enum cc_op cc_op;
	u8 cc_size;   /* operand size of the recorded cc op, bytes */
	u8 cc_cf_op;  /* INC/DEC: the op whose CF they keep (cpu_set_cc_incdec) */
	u8 cc_cf_size;
	u8 cc_rot_prev; /* ROL/ROR: the op whose SF ZF AF PF stand (cc_dst, cc_size...) */
	u8 cc_rot_size; /* ROL/ROR: operand size; cc_rot: the result */
	u64 cc_rot;
	u8 cpl;
	u8 mmu_idx;   /* MMU_SUP or MMU_USER for data accesses */
	bool m64;     /* 64-bit mode: EFER.LMA && CS.L */
	bool sse_cur; /* shadow stack enabled at the current CPL (cet.c) */
	union {
		struct {
			bool ibt_wait;    /* IBT enabled and tracker WAIT at the current CPL */
			bool ibt_pending; /* WAIT not yet in the tracker (cet_settle()) */
		};
		u16 ibt_track; /* either: the next block must start with ENDBR */
	};
	bool ibt_arm;  /* IBT enabled and not SUPPRESSed at the current CPL */
	const struct block *cur_block; /* the block being run, else NULL */
	const struct insn *cur_insn;  /* see insn_next() */
	u64 cur_block_rip;            /* RIP of the first instruction of cur_block */
	union {
		struct {
			bool brk;        /* stop executing the current block after this insn */
			bool poll_irq;   /* ask the interrupt controllers before the next block */
			bool irq_shadow; /* STI / MOV SS shadow: no interrupt before the next insn */
			bool attn_pad;
		};
		u32 attention; /* any of the above: the run loop takes its slow path */
	};
	u64 eflags;   /* all bits; arithmetic bits valid only if cc_op == CC_EAGER */
	u64 icount;   /* guest instructions retired */
	u64 deadline; /* icount at which run() returns (virtual time) */
	u64 stop_at;  /* deadline, or 0 while attention is set: one compare for both */

	struct seg seg[SEG_COUNT];
	struct dtable gdtr, idtr;
	u64 cr0, cr2, cr3, cr4, cr8;
	u64 efer;
	u64 xcr0, xss;
	u64 dr[8];

	/* MSR storage owned by the CPU (msr.c). */
	u64 star, lstar, cstar, fmask;
	u64 kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 tsc_offset; /* TSC = icount + tsc_offset */
	u64 tsc_aux;
	u64 pat;
	u64 misc_enable;
	u64 mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	u64 spec_ctrl;
	u32 pkru;
	u64 smbase;

	struct cet_state cet;
	struct fpu_state fpu;

	/* Interrupt state. */
	bool halted;
	bool nmi_pending;
	bool shutdown;       /* triple fault happened */
	bool delivered;      /* cpu_deliver() ran (single-step bookkeeping) */

	/* Faults. */
	jmp_buf *fault_jmp;
	struct cpu_event fault; /* the fault being raised */
	int fault_nesting;      /* 0 none, 1 delivering, 2 delivering #DF */
	struct cpu_event delivering;
	struct cpu_rollback rollback;

	/* Memory. */
	struct tlb_entry tlb[MMU_COUNT][TLB_SIZE];
	struct tlb_entry victim[MMU_COUNT][TLB_VICTIMS];
	u8 victim_next[MMU_COUNT];
	struct itlb_entry itlb[2][TLB_SIZE]; /* [user] */
	bool tlb_large; /* some entry came from a large page */
	/* Entries filled since the last flush, which then clears just these
	 * (cpu_tlb_touch()); more than TLB_TOUCHED: all of them. */
	u16 tlb_touched[TLB_TOUCHED];
	u16 n_touched;
	struct page_cache sp_cache; /* RSP's page, writable (wtag) */
	struct page_cache ss_cache; /* SSP's page, a shadow-stack page (sstag) */
	u8 *ram;
	u64 ram_size; /* host bytes at ram (mem.h layout) */
	u64 ram_high; /* of which this many sit at 4 GiB */
	u64 phys_mask; /* MAXPHYADDR mask */
	/* Both indexed by RAM offset >> 12 (cpu_ram_offset), not by gpa. */
	u8 *code_pages; /* one byte per RAM page: 1 if decoded code lives there */
	u32 *page_gen;  /* per RAM page: bumped when its code is invalidated */
	struct block_cache *bc;
	u64 jc_epoch;
	struct jc_entry jc[1u << JC_BITS];

	/* Configuration. */
	struct vcpu_cpuid cpuid;
	u32 feat[5][4]; /* [FL_*][FR_*]: cached feature words of the guest CPUID */
	u64 xcr0_mask; /* settable XCR0 bits */
	u64 xss_mask;  /* settable XSS bits */
	unsigned trace;
	const struct accel_env *env;
	u64 unimpl_logged[8]; /* opcode bitmap of #UD already logged */
};

/* Stop the current block after this instruction and have the run loop
 * look at cpu->attention before the next one. */
void exec_stop_block(struct cpu *cpu);
static inline void cpu_break(struct cpu *cpu)
{
	cpu->brk = true;
	cpu->stop_at = 0;
	if (cpu->cur_block)
		exec_stop_block(cpu);
}

/* Have the run loop ask the interrupt controllers before the next block. */
static inline void cpu_poll_irq(struct cpu *cpu)
{
	cpu->poll_irq = true;
	cpu->stop_at = 0;
}

/* STI / MOV SS: no interrupt before the next instruction completes. */
static inline void cpu_set_irq_shadow(struct cpu *cpu)
{
	cpu->irq_shadow = true;
	cpu->stop_at = 0;
}

/* The run loop returns at icount d (VCPU_EXIT_DEADLINE). */
static inline void cpu_set_deadline(struct cpu *cpu, u64 d)
{
	cpu->deadline = d;
	cpu->stop_at = cpu->attention ? 0 : d;
}

/* The instructions of a block run as a chain of tail calls: each exec
 * handler ends by running the next one, up to a terminator after the last
 * that returns to the run loop (exec.c). A handler may also return early,
 * having set cpu->cur_insn to itself (a branch ends its block anyway): the
 * run loop goes on after cpu->cur_insn.
 * cpu->cur_insn is otherwise set only where an instruction may fault or
 * stop its block: before a generic handler runs (the wrappers of exec.c
 * and fast.c). Specialized fast paths do neither. */
static inline void insn_next(struct cpu *cpu, const struct insn *in)
{
	in[1].exec(cpu, in + 1);
}

/* Inside a block the specialized handlers (fast.c) run without cpu->rip
 * and cpu->next_rip being set: the address of an instruction is the block
 * start plus its offset. */
static inline u64 insn_next_rip(const struct cpu *cpu, const struct insn *in)
{
	return cpu->cur_block_rip + (u64)(s64)in->next_off;
}
static inline u64 insn_rip(const struct cpu *cpu, const struct insn *in)
{
	return insn_next_rip(cpu, in) - in->len;
}
/* Make cpu->rip and cpu->next_rip hold the current instruction's addresses
 * if the run loop left them implicit: before a specialized handler falls
 * back to a generic one, in slow paths, and when a fault unwinds. */
static inline void cpu_sync_rip(struct cpu *cpu)
{
	const struct insn *in = cpu->cur_insn;
	if (cpu->cur_block && !(in->run & RUN_WRAPPED)) {
		cpu->next_rip = insn_next_rip(cpu, in);
		cpu->rip = cpu->next_rip - in->len;
	}
}

/* ---- lifecycle (cpu.c) ---- */
int cpu_create(struct cpu **out, const struct accel_env *env);
void cpu_destroy(struct cpu *cpu);
void cpu_reset(struct cpu *cpu, bool init); /* RESET, or INIT when init */
void cpu_set_cpuid(struct cpu *cpu, const struct vcpu_cpuid *cpuid);
/* Everything this CPU implements (cpuid.c). */
void cpu_supported_cpuid(struct vcpu_cpuid *out);
const struct vcpu_cpuid_entry *cpu_cpuid_entry(const struct cpu *cpu, u32 leaf, u32 sub);
/* Run until an exit; fills *exit. */
void cpu_run(struct cpu *cpu, struct vcpu_exit *exit);

/* ---- faults (except.c) ---- */
__attribute__((noreturn)) void cpu_fault(struct cpu *cpu, int vector, u32 error);
__attribute__((noreturn)) void cpu_fault_noerr(struct cpu *cpu, int vector);
#define cpu_gp(cpu, e) cpu_fault(cpu, X86_EXC_GP, (e))
#define cpu_ud(cpu) cpu_fault_noerr(cpu, X86_EXC_UD)
/* #UD for an opcode cetvm does not implement: logged once with its bytes. */
__attribute__((noreturn)) void cpu_unimplemented(struct cpu *cpu, const struct insn *in);
static inline void cpu_save_rollback(struct cpu *cpu)
{
	cpu->rollback.valid = true;
	cpu->rollback.rsp = cpu->r[R_SP];
	cpu->rollback.ssp = cpu->cet.ssp;
	cpu->rollback.cpl = cpu->cpl;
}
/* The run loop's catch: deliver cpu->fault (double fault, triple fault). */
void cpu_handle_fault(struct cpu *cpu);
/* Trace bits (same values as vm.h TRACE_*). */
#define CPU_TRACE_CET (1u << 0)
#define CPU_TRACE_EXC (1u << 1)
#define CPU_TRACE_UNIMPL (1u << 2)
/* Deliver an interrupt or exception through the IDT now.
 * kind: EV_EXCEPTION (fault/trap: next_rip must already be set for traps),
 * EV_SOFT (INT n: DPL check, return to next_rip), EV_EXTERNAL. */
enum ev_kind { EV_EXCEPTION, EV_SOFT, EV_SOFT_EXC, EV_EXTERNAL, EV_PRIV_SOFT };
void cpu_deliver(struct cpu *cpu, int vector, bool has_error, u32 error,
		 enum ev_kind kind, u64 return_rip);

/* ---- flags (flags.c) ---- */
u64 cpu_get_rflags(struct cpu *cpu);
/* Load RFLAGS (all bits the caller is allowed to change, already merged). */
void cpu_set_rflags(struct cpu *cpu, u64 v);
bool cpu_cond(struct cpu *cpu, unsigned cc); /* Jcc/SETcc/CMOVcc condition 0..15 */
/* Condition cc after CMP/SUB (cc_op CC_SUB) straight from the operands, or
 * -1 for O, NO, P and NP (cpu_cond()). */
static inline int cpu_sub_cond(const struct cpu *cpu, unsigned cc)
{
	unsigned sh = 64 - cpu->cc_size * 8;
	u64 a = cpu->cc_src2 << sh, b = cpu->cc_src << sh;
	bool r;
	switch (cc >> 1) {
	case 1: r = a < b; break;
	case 2: r = a == b; break;
	case 3: r = a <= b; break;
	case 6: r = (s64)a < (s64)b; break;
	case 7: r = (s64)a <= (s64)b; break;
	default: return -1;
	}
	return r ^ (cc & 1);
}
bool cpu_get_cf_slow(struct cpu *cpu);
/* CF of the current op into eflags.CF and cc_op = CC_EAGER, the other
 * arithmetic flags left stale: only for INC/DEC, which record theirs next. */
void cpu_keep_cf_eager(struct cpu *cpu);
/* CF of INC/DEC: that of the op before them, kept lazily (flags.c): op is
 * CC_EAGER (eflags.CF), CC_ADD or CC_SUB (from cc_src and cc_src2 at
 * size), or CC_LOGIC. */
static inline bool cpu_kept_cf(const struct cpu *cpu)
{
	u64 m = size_mask(cpu->cc_cf_size);
	u64 a = cpu->cc_src2 & m, b = cpu->cc_src & m;
	switch (cpu->cc_cf_op) {
	case CC_ADD: return b > m - a; /* a + b carries out of size */
	case CC_SUB: return a < b;
	case CC_LOGIC: return false;
	default: return cpu->eflags & X86_EFLAGS_CF;
	}
}
/* CF alone, cheaply for the ops that usually precede INC/DEC/ADC/SBB. */
static inline bool cpu_get_cf(struct cpu *cpu)
{
	switch (cpu->cc_op) {
	case CC_EAGER: return cpu->eflags & X86_EFLAGS_CF;
	case CC_INC: case CC_DEC: return cpu_kept_cf(cpu);
	case CC_MUL: return cpu->cc_src & 1;
	case CC_LOGIC: return false;
	case CC_ADD: return (cpu->cc_dst & size_mask(cpu->cc_size)) < (cpu->cc_src2 & size_mask(cpu->cc_size));
	case CC_SUB: return (cpu->cc_src2 & size_mask(cpu->cc_size)) < (cpu->cc_src & size_mask(cpu->cc_size));
	default: return cpu_get_cf_slow(cpu);
	}
}
static inline void cpu_set_cc(struct cpu *cpu, enum cc_op op, unsigned size,
			      u64 dst, u64 src, u64 src2)
{
	cpu->cc_op = op;
	cpu->cc_size = (u8)size;
	cpu->cc_dst = dst;
	cpu->cc_src = src;
	cpu->cc_src2 = src2;
}
/* INC/DEC (op) with result r: every flag but CF from r, CF unchanged. The
 * ops that CF can be derived from later (CC_EAGER/ADD/SUB/LOGIC) stay in
 * cc_cf_op with their size, cc_src and cc_src2, which INC/DEC leave
 * alone; after any other, CF moves into eflags first (cpu_keep_cf_eager). */
#define CC_CF_KEPT ((1u << CC_INC) | (1u << CC_DEC))
#define CC_CF_LAZY ((1u << CC_EAGER) | (1u << CC_ADD) | (1u << CC_SUB) | (1u << CC_LOGIC))
static inline bool cpu_cf_keepable(const struct cpu *cpu)
{
	return (1u << cpu->cc_op) & (CC_CF_KEPT | CC_CF_LAZY);
}
/* cpu_set_cc_incdec() once cpu_cf_keepable() holds. */
static inline void cpu_record_incdec(struct cpu *cpu, enum cc_op op, unsigned size, u64 r)
{
	if (!((1u << cpu->cc_op) & CC_CF_KEPT)) {
		cpu->cc_cf_op = (u8)cpu->cc_op;
		cpu->cc_cf_size = cpu->cc_size;
	}
	cpu->cc_op = op;
	cpu->cc_size = (u8)size;
	cpu->cc_dst = r;
}
/* CF and OF of a ROL (CC_ROL) or ROR of size bytes with result r (SDM
 * "RCL/RCR/ROL/ROR": OF is the MSB XOR CF after ROL, the two top bits' XOR
 * after ROR; cetvm gives that for every count that is not 0). */
static inline bool cpu_rot_cf(enum cc_op op, unsigned size, u64 r)
{
	return op == CC_ROL ? r & 1 : (r >> (size * 8 - 1)) & 1;
}
static inline bool cpu_rot_of(enum cc_op op, unsigned size, u64 r)
{
	bool msb = (r >> (size * 8 - 1)) & 1;
	return msb ^ (op == CC_ROL ? r & 1 : (r >> (size * 8 - 2)) & 1);
}
/* ROL/ROR (op) with result r and a count that is not 0: CF and OF from r,
 * the other arithmetic flags as they were: lazily, over the op before
 * (kept in cc_rot_prev with its cc_dst, cc_src, cc_src2 and cc_size). */
static inline void cpu_record_rotate(struct cpu *cpu, enum cc_op op, unsigned size, u64 r)
{
	if (cpu->cc_op == CC_EAGER) {
		u64 f = (cpu_rot_cf(op, size, r) ? X86_EFLAGS_CF : 0) |
			(cpu_rot_of(op, size, r) ? X86_EFLAGS_OF : 0);
		cpu->eflags = (cpu->eflags & ~(X86_EFLAGS_CF | X86_EFLAGS_OF)) | f;
		return;
	}
	if (cpu->cc_op != CC_ROL && cpu->cc_op != CC_ROR)
		cpu->cc_rot_prev = (u8)cpu->cc_op;
	cpu->cc_op = op;
	cpu->cc_rot = r;
	cpu->cc_rot_size = (u8)size;
}
static inline void cpu_set_cc_incdec(struct cpu *cpu, enum cc_op op, unsigned size, u64 r)
{
	if (unlikely(!cpu_cf_keepable(cpu)))
		cpu_keep_cf_eager(cpu);
	cpu_record_incdec(cpu, op, size, r);
}
/* Make eflags hold the arithmetic flags and switch to CC_EAGER. */
void cpu_flags_materialize(struct cpu *cpu);

/* ---- memory (mmu.c) ---- */
/* Access kinds for the slow path and the page walker. */
#define ACC_READ 0
#define ACC_WRITE 1u
#define ACC_EXEC 2u
#define ACC_USER 4u    /* force a user access (WRUSS) */
#define ACC_SUPER 8u   /* force a supervisor (implicit) access */
#define ACC_SHSTK 16u  /* shadow-stack access (spec 5.2) */
#define ACC_NOFAULT 32u

u64 cpu_read_slow(struct cpu *cpu, u64 la, unsigned size, unsigned acc);
void cpu_write_slow(struct cpu *cpu, u64 la, unsigned size, u64 v, unsigned acc);
/* Translate for a fetch; returns guest-physical address (faults on error). */
u64 cpu_translate(struct cpu *cpu, u64 la, unsigned acc);
/* Walk without side effects or faults; false if not mapped. */
bool cpu_probe(struct cpu *cpu, u64 la, unsigned acc, u64 *phys);
void cpu_tlb_flush(struct cpu *cpu);
void cpu_tlb_flush_page(struct cpu *cpu, u64 la);
/* The TLB or victim-TLB entry through which an ordinary read (write) of la's
 * page takes the fast path, or NULL; nothing moves (string spans, whose two
 * sides may share a TLB index). */
const struct tlb_entry *cpu_tlb_find(struct cpu *cpu, u64 la, bool write);
/* WRPKRU, XRSTOR: a new PKRU flushes the TLB, whose tags include it. */
void cpu_set_pkru(struct cpu *cpu, u32 v);
void cpu_tlb_drop_writes(struct cpu *cpu);
void cpu_update_mmu_idx(struct cpu *cpu);
/* Guest-physical accesses (RAM or MMIO bus). */
u64 cpu_phys_read(struct cpu *cpu, u64 pa, unsigned size);
void cpu_phys_write(struct cpu *cpu, u64 pa, unsigned size, u64 v);
/* Called when the RAM page at offset pfn << 12 was written and holds
 * decoded code. */
void cpu_code_written(struct cpu *cpu, u64 pfn);

/* Offset in cpu->ram of guest-physical [pa, pa + len) when all of it is
 * RAM (mem.h), else MEM_NONE, which is >= ram_size. The hole below 4 GiB
 * and everything past RAM is MMIO. */
static inline u64 cpu_ram_offset(const struct cpu *cpu, u64 pa, u64 len)
{
	return mem_offset(cpu->ram_size - cpu->ram_high, cpu->ram_high, pa, len);
}

static inline u64 load_le(const u8 *p, unsigned size)
{
	switch (size) {
	case 1: return *p;
	case 2: { u16 v; __builtin_memcpy(&v, p, 2); return v; }
	case 4: { u32 v; __builtin_memcpy(&v, p, 4); return v; }
	default: { u64 v; __builtin_memcpy(&v, p, 8); return v; }
	}
}

static inline void store_le(u8 *p, unsigned size, u64 v)
{
	switch (size) {
	case 1: *p = (u8)v; break;
	case 2: { u16 x = (u16)v; __builtin_memcpy(p, &x, 2); break; }
	case 4: { u32 x = (u32)v; __builtin_memcpy(p, &x, 4); break; }
	default: __builtin_memcpy(p, &v, 8); break;
	}
}

/* Note that entry i of TLB array `which` (a class of cpu->tlb, or
 * MMU_COUNT + user for cpu->itlb) is being filled. */
static inline void cpu_tlb_touch(struct cpu *cpu, unsigned which, unsigned i)
{
	if (cpu->n_touched < TLB_TOUCHED)
		cpu->tlb_touched[cpu->n_touched] = (u16)(which << TLB_BITS | i);
	if (cpu->n_touched <= TLB_TOUCHED)
		cpu->n_touched++;
}

/* The software-TLB entry for la in the current access class. */
static inline const struct tlb_entry *cpu_tlb_entry(const struct cpu *cpu, u64 la)
{
	/* &tlb_cur[(la >> 12) % TLB_SIZE], with one shift fewer */
	size_t at = (size_t)(la >> (12 - 5)) & ((TLB_SIZE - 1) << 5);
	_Static_assert(sizeof(struct tlb_entry) == 1 << 5, "TLB entries are 32 bytes");
	return (const struct tlb_entry *)((const u8 *)cpu->tlb_cur + at);
}

/* True if tag (one of an entry's tags) names la's page and the bytes
 * la..la+size-1 do not leave it. An aligned access needs one compare: its
 * low bits must be zero like the tag's. */
static inline bool tlb_hit(u64 tag, u64 la, unsigned size)
{
	return likely((la & (~0xfffull | (size - 1))) == tag) ||
	       ((la & ~0xfffull) == tag && (la & 0xfff) <= 0x1000 - size);
}

static inline u8 *tlb_ptr(const struct tlb_entry *e, u64 la)
{
	return (u8 *)(la + e->addend);
}

/* Host address of la..la+size-1 through tag, or NULL. */
static inline u8 *tlb_host(const struct tlb_entry *e, u64 tag, u64 la, unsigned size)
{
	return tlb_hit(tag, la, size) ? tlb_ptr(e, la) : NULL;
}

/* Host address of the aligned 8 bytes at la through a page cache, or NULL. */
static inline u8 *page_cache_hit(const struct page_cache *pc, u64 la)
{
	return likely((la & ~0xff8ull) == pc->page) ? (u8 *)(la + pc->addend) : NULL;
}

/* Host address of 8 bytes at la through the entry's tag `tag` (wtag or
 * sstag: offsetof), or NULL; a hit becomes what pc caches. */
static inline u8 *page_cache_fill(struct cpu *cpu, struct page_cache *pc, size_t tag, u64 la)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	u64 t = *(const u64 *)((const u8 *)e + tag);
	if (unlikely(!tlb_hit(t, la, 8)))
		return NULL;
	pc->page = t;
	pc->addend = e->addend;
	return tlb_ptr(e, la);
}

/* Host address of the 8 bytes at la on the stack (writable) or the shadow
 * stack, or NULL: the cache first, then the TLB. */
static inline u8 *cpu_stack_host(struct cpu *cpu, u64 la)
{
	u8 *p = page_cache_hit(&cpu->sp_cache, la);
	return p ? p : page_cache_fill(cpu, &cpu->sp_cache, offsetof(struct tlb_entry, wtag), la);
}

static inline u8 *cpu_shstk_host(struct cpu *cpu, u64 la)
{
	u8 *p = page_cache_hit(&cpu->ss_cache, la);
	return p ? p : page_cache_fill(cpu, &cpu->ss_cache, offsetof(struct tlb_entry, sstag), la);
}

/* Linear-address data accesses at the current privilege. */
static inline u64 cpu_read_lin(struct cpu *cpu, u64 la, unsigned size)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (likely(tlb_hit(e->rtag, la, size)))
		return load_le(tlb_ptr(e, la), size);
	return cpu_read_slow(cpu, la, size, ACC_READ);
}

static inline void cpu_write_lin(struct cpu *cpu, u64 la, unsigned size, u64 v)
{
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (likely(tlb_hit(e->wtag, la, size))) {
		store_le(tlb_ptr(e, la), size, v);
		return;
	}
	cpu_write_slow(cpu, la, size, v, ACC_WRITE);
}

/* ---- segmentation (seg.c) ---- */
/* Linear address of seg:off for an access of `size` bytes; checks limits
 * and canonical form, raising #GP(0) or #SS(0). */
u64 cpu_seg_lin_slow(struct cpu *cpu, int seg, u64 off, unsigned size, bool write);
static inline u64 cpu_canonical(u64 la)
{
	return (u64)((s64)(la << 16) >> 16);
}
static inline u64 cpu_seg_lin(struct cpu *cpu, int seg, u64 off, unsigned size, bool write)
{
	if (likely(cpu->m64)) {
		u64 la = off + (seg >= SEG_FS ? cpu->seg[seg].base : 0);
		if (likely(cpu_canonical(la) == la))
			return la;
	}
	return cpu_seg_lin_slow(cpu, seg, off, size, write);
}
/* Load a segment register from a selector with the protected-mode checks
 * of MOV/POP (SDM Vol. 2 MOV). */
void cpu_load_seg(struct cpu *cpu, int seg, u16 sel);
/* Load the hidden part directly (real mode, VM86, SYSCALL...). */
void cpu_set_seg_real(struct cpu *cpu, int seg, u16 sel);
/* Read an 8-byte descriptor from GDT/LDT; faults with #GP(sel) on limit. */
u64 cpu_read_desc(struct cpu *cpu, u16 sel, int err_vec);
void cpu_desc_to_seg(struct seg *s, u16 sel, u64 desc);
void cpu_update_mode(struct cpu *cpu); /* after CS, CR0 or EFER changes */

/* ---- operand helpers (operand.c; fast paths inline) ---- */
static inline u64 cpu_ea(const struct cpu *cpu, const struct insn *in)
{
	u64 ea = (u64)(s64)in->disp;
	if (in->base < 16)
		ea += cpu->r[in->base];
	else if (in->base == REG_RIP)
		ea += cpu->next_rip;
	if (in->index != REG_NONE)
		ea += cpu->r[in->index] << in->scale;
	return in->addrsize == 8 ? ea : ea & size_mask(in->addrsize);
}

/* Byte registers 4..7 without REX are AH, CH, DH, BH. */
static inline u64 cpu_get_reg(const struct cpu *cpu, unsigned reg, unsigned size, bool rex)
{
	if (size == 1 && !rex && reg >= 4 && reg < 8)
		return (cpu->r[reg - 4] >> 8) & 0xff;
	return cpu->r[reg] & size_mask(size);
}

static inline void cpu_set_reg(struct cpu *cpu, unsigned reg, unsigned size, bool rex, u64 v)
{
	u64 *r;
	switch (size) {
	case 1:
		if (!rex && reg >= 4 && reg < 8) {
			r = &cpu->r[reg - 4];
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		} else {
			r = &cpu->r[reg];
			*r = (*r & ~0xffull) | (v & 0xff);
		}
		break;
	case 2:
		r = &cpu->r[reg];
		*r = (*r & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		cpu->r[reg] = (u32)v; /* 32-bit writes zero-extend (SDM Vol. 1 3.4.1.1) */
		break;
	default:
		cpu->r[reg] = v;
		break;
	}
}


static inline u64 cpu_mem_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	u64 la = cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, false);
	return cpu_read_lin(cpu, la, size);
}

static inline void cpu_mem_write(struct cpu *cpu, const struct insn *in, unsigned size, u64 v)
{
	u64 la = cpu_seg_lin(cpu, in->seg, cpu_ea(cpu, in), size, true);
	cpu_write_lin(cpu, la, size, v);
}

/* The r/m operand, register or memory, of `size` bytes. */
static inline u64 cpu_rm_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (!(in->flags & IF_MEM))
		return size == 8 ? cpu->r[in->rm] : cpu_get_reg(cpu, in->rm, size, in->flags & IF_REX);
	return cpu_mem_read(cpu, in, size);
}

static inline void cpu_rm_write(struct cpu *cpu, const struct insn *in, unsigned size, u64 v)
{
	if (in->flags & IF_MEM)
		cpu_mem_write(cpu, in, size, v);
	else if (size == 8)
		cpu->r[in->rm] = v;
	else
		cpu_set_reg(cpu, in->rm, size, in->flags & IF_REX, v);
}

/* Stack: push/pop at SS:RSP with the current stack size. */
void cpu_push_slow(struct cpu *cpu, u64 v, unsigned size);
u64 cpu_pop_slow(struct cpu *cpu, unsigned size);
unsigned cpu_stack_size(const struct cpu *cpu); /* 2, 4 or 8 bytes of RSP */
/* Set RSP, ESP or SP as the stack size says (upper bits kept for SP). */
void cpu_set_sp(struct cpu *cpu, u64 sp);

static inline void cpu_push(struct cpu *cpu, u64 v, unsigned size)
{
	if (likely(cpu->m64)) {
		u64 sp = cpu->r[R_SP] - size;
		if (likely(cpu_canonical(sp) == sp)) {
			cpu_write_lin(cpu, sp, size, v);
			cpu->r[R_SP] = sp;
			return;
		}
	}
	cpu_push_slow(cpu, v, size);
}

static inline u64 cpu_pop(struct cpu *cpu, unsigned size)
{
	if (likely(cpu->m64)) {
		u64 sp = cpu->r[R_SP];
		if (likely(cpu_canonical(sp) == sp)) {
			u64 v = cpu_read_lin(cpu, sp, size);
			cpu->r[R_SP] = sp + size;
			return v;
		}
	}
	return cpu_pop_slow(cpu, size);
}

/* ---- misc ---- */
u64 cpu_tsc(const struct cpu *cpu);
/* Advance the TSC by `ticks` beyond the instruction count (an instruction
 * that takes longer than one tick), keeping the deadline where it is in
 * TSC time. */
void cpu_add_tsc(struct cpu *cpu, u64 ticks);
static inline bool cpu_has_feature(const struct cpu *cpu, int f) /* X86_FEATURE_* */
{
	return (cpu->feat[f >> 8][(f >> 5) & 3] >> (f & 31)) & 1;
}
/* Branch to a near target (checks canonical / CS limit, #GP(0)). */
void cpu_jump_slow(struct cpu *cpu, u64 target, unsigned opsize);
static inline void cpu_jump(struct cpu *cpu, u64 target, unsigned opsize)
{
	if (likely(cpu->m64 && cpu_canonical(target) == target))
		cpu->next_rip = target;
	else
		cpu_jump_slow(cpu, target, opsize);
}
/* I/O permission for IN/OUT/INS/OUTS: IOPL, then the TSS bitmap (#GP(0)). */
void cpu_io_check(struct cpu *cpu, u16 port, unsigned size);
/* Port I/O through the machine's bus (exec.c). */
u64 cpu_port_read(struct cpu *cpu, u16 port, unsigned size);
void cpu_port_write(struct cpu *cpu, u16 port, unsigned size, u64 v);
/* MSR access by the guest (msr.c): false means #GP(0). */
bool cpu_msr_read(struct cpu *cpu, u32 index, u64 *value);
bool cpu_msr_write(struct cpu *cpu, u32 index, u64 value);
/* Control registers with their reserved-bit and interlock checks
 * (system.c): false means #GP(0). */
bool cpu_write_cr0(struct cpu *cpu, u64 v);
bool cpu_write_cr3(struct cpu *cpu, u64 v);
bool cpu_write_cr4(struct cpu *cpu, u64 v);
/* CR8, which is the local APIC's TPR[7:4] when the machine has one. */
u64 cpu_read_cr8(const struct cpu *cpu);
bool cpu_write_cr8(struct cpu *cpu, u64 v);
bool cpu_write_efer(struct cpu *cpu, u64 v);

#endif
