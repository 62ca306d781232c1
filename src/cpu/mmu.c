/* mmu.c: linear-to-physical translation, permission checks and the software TLB.
 *
 * One page-walk function (walk()) implements every paging mode (none,
 * 32-bit, PAE, 4-level, 5-level) and every check of SDM Vol. 3 4.6: U/S,
 * R/W with CR0.WP, NX, SMEP, SMAP, protection keys, and the shadow-stack
 * page rules of spec/cet.md 5.2. The TLB caches host pointers for accesses
 * that need no further checks; everything else takes the slow path here.
 */
#include "cpu.h"

#include <string.h>

struct walk {
	u64 phys;       /* physical address of the accessed byte */
	bool user;      /* U/S = 1 at every level */
	bool writable;  /* R/W = 1 at every level */
	bool nx;        /* XD at some level (with EFER.NXE) */
	bool dirty;     /* leaf D bit (after this access) */
	bool nonleaf_rw; /* R/W = 1 at every non-leaf level */
	bool leaf_rw;
	bool large;
	unsigned pkey;
};

static bool is_user_access(const struct cpu *cpu, unsigned acc)
{
	if (acc & ACC_USER)
		return true;
	if (acc & ACC_SUPER)
		return false;
	return cpu->cpl == 3;
}

static u64 pte_addr_mask(const struct cpu *cpu)
{
	return cpu->phys_mask & ~0xfffull;
}

static u64 read_pte(struct cpu *cpu, u64 pa, bool wide)
{
	return cpu_phys_read(cpu, pa, wide ? 8 : 4);
}

/* Reserved bits of a paging entry at `level` (1 = PTE) in PAE/4-level form. */
static bool pte_reserved(const struct cpu *cpu, u64 e, int level, bool leaf)
{
	u64 rsvd = ~cpu->phys_mask & 0x000ffffffffff000ull;
	if (!(cpu->efer & EFER_NXE))
		rsvd |= PTE_NX;
	if (leaf && level == 2)
		rsvd |= 0x1fe000ull; /* 2 MiB page: bits 20:13 */
	if (leaf && level == 3)
		rsvd |= 0x3fffe000ull; /* 1 GiB page: bits 29:13 */
	return e & rsvd;
}

static u32 pf_error(const struct cpu *cpu, unsigned acc, bool present)
{
	u32 err = present ? PF_P : 0;
	if (acc & ACC_WRITE)
		err |= PF_W;
	if (is_user_access(cpu, acc))
		err |= PF_U;
	if ((acc & ACC_EXEC) && ((cpu->efer & EFER_NXE) || (cpu->cr4 & X86_CR4_SMEP)))
		err |= PF_I;
	if (acc & ACC_SHSTK)
		err |= PF_SS;
	return err;
}

/* Raise #PF for la with error code err (unless the caller only probes). */
static bool page_fault(struct cpu *cpu, u64 la, unsigned acc, u32 err)
{
	if (acc & ACC_NOFAULT)
		return false;
	cpu->cr2 = la;
	cpu_fault(cpu, X86_EXC_PF, err);
}

/* Set A (and D on the leaf for writes) where not already set. */
static void set_ad(struct cpu *cpu, u64 pa, u64 e, u64 bits, bool wide)
{
	if ((e & bits) != bits)
		cpu_phys_write(cpu, pa, wide ? 8 : 4, e | bits);
}

struct level_walk {
	u64 pa[5], e[5];
	int levels, leaf;
	bool wide;
};

/* Walk the tables; fills lw and the permission summary. Returns 0, or a
 * #PF error code bit set (PF_P if present-but-reserved, 0x100 for
 * not-present) on failure. */
static int walk_tables(struct cpu *cpu, u64 la, struct walk *w, struct level_walk *lw)
{
	int levels;
	bool wide = true;
	u64 table;
	if (!(cpu->cr4 & X86_CR4_PAE)) {
		levels = 2;
		wide = false;
		table = cpu->cr3 & 0xfffff000ull;
	} else if (cpu->efer & EFER_LMA) {
		levels = (cpu->cr4 & X86_CR4_LA57) ? 5 : 4;
		table = cpu->cr3 & pte_addr_mask(cpu);
	} else {
		/* PAE: the PDPTE acts as a level-3 entry without U/S, R/W, XD. */
		u64 pdpte = read_pte(cpu, (cpu->cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8, true);
		if (!(pdpte & PTE_P))
			return 0x100;
		if (pdpte & 0x1e6ull)
			return PF_RSVD | PF_P;
		levels = 2;
		table = pdpte & pte_addr_mask(cpu);
	}
	lw->levels = levels;
	lw->wide = wide;
	w->user = w->writable = w->nonleaf_rw = true;
	w->nx = false;
	for (int lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = wide ? 12 + 9 * (lvl - 1) : 12 + 10 * (lvl - 1);
		unsigned idx = wide ? (la >> shift) & 511 : (la >> shift) & 1023;
		u64 pa = table + idx * (wide ? 8 : 4);
		u64 e = read_pte(cpu, pa, wide);
		lw->pa[lvl - 1] = pa;
		lw->e[lvl - 1] = e;
		if (!(e & PTE_P))
			return 0x100;
		bool leaf = lvl == 1 || ((e & PTE_PS) && (lvl == 2 || (lvl == 3 && wide)));
		if (!wide && leaf && lvl == 2 && !(cpu->cr4 & X86_CR4_PSE))
			leaf = false;
		if (wide && pte_reserved(cpu, e, lvl, leaf))
			return PF_RSVD | PF_P;
		if (wide && lvl >= 4 && (e & PTE_PS))
			return PF_RSVD | PF_P;
		w->user &= !!(e & PTE_U);
		w->writable &= !!(e & PTE_W);
		if (wide && (cpu->efer & EFER_NXE) && (e & PTE_NX))
			w->nx = true;
		if (leaf) {
			u64 page = 1ull << shift;
			u64 base = wide ? e & pte_addr_mask(cpu) & ~(page - 1)
					: lvl == 2 ? ((e & 0xffc00000ull) | ((e & 0x1fe000ull) << 19))
						   : e & 0xfffff000ull;
			w->phys = base + (la & (page - 1));
			w->leaf_rw = e & PTE_W;
			w->dirty = e & PTE_D;
			w->large = lvl > 1;
			w->pkey = wide ? (unsigned)((e >> 59) & 15) : 0;
			lw->leaf = lvl;
			return 0;
		}
		w->nonleaf_rw &= !!(e & PTE_W);
		table = wide ? e & pte_addr_mask(cpu) : e & 0xfffff000ull;
	}
	return 0x100;
}

/* Protection-key check (SDM 4.6.2): returns true if the access is denied. */
static bool pkey_denies(const struct cpu *cpu, const struct walk *w, unsigned acc, bool user)
{
	if (!(cpu->cr4 & X86_CR4_PKE) || !(cpu->efer & EFER_LMA) || !w->user)
		return false;
	if (acc & (ACC_EXEC | ACC_SHSTK))
		return false;
	u32 bits = cpu->pkru >> (2 * w->pkey);
	if (bits & 1)
		return true;
	if ((acc & ACC_WRITE) && (bits & 2) && (user || (cpu->cr0 & X86_CR0_WP)))
		return true;
	return false;
}

/* Access rights of a successful walk (SDM 4.6, spec 5.2). */
static bool access_denied(const struct cpu *cpu, const struct walk *w, unsigned acc)
{
	bool user = is_user_access(cpu, acc);
	if (acc & ACC_SHSTK) {
		/* Shadow-stack page: non-leaf R/W=1, leaf R/W=0 and D=1. */
		if (!w->nonleaf_rw || w->leaf_rw || !w->dirty)
			return true;
		return user ? !w->user : w->user;
	}
	if (acc & ACC_EXEC) {
		if (w->nx)
			return true;
		if (user)
			return !w->user;
		return w->user && (cpu->cr4 & X86_CR4_SMEP);
	}
	if (user) {
		if (!w->user)
			return true;
		if ((acc & ACC_WRITE) && !w->writable)
			return true;
	} else {
		if (w->user && (cpu->cr4 & X86_CR4_SMAP) &&
		    ((acc & ACC_SUPER) || !(cpu->eflags & X86_EFLAGS_AC) || cpu->cpl == 3))
			return true;
		if ((acc & ACC_WRITE) && !w->writable && (cpu->cr0 & X86_CR0_WP))
			return true;
	}
	return false;
}

/* Translate la for an access; on failure raise #PF (or return false when
 * ACC_NOFAULT). Sets accessed/dirty bits on success. */
static bool translate(struct cpu *cpu, u64 la, unsigned acc, struct walk *w)
{
	struct level_walk lw;
	if (!(cpu->cr0 & X86_CR0_PG)) {
		memset(w, 0, sizeof(*w));
		w->phys = la & 0xffffffffull;
		w->user = w->writable = w->dirty = w->nonleaf_rw = true;
		return true;
	}
	int r = walk_tables(cpu, la, w, &lw);
	if (r) {
		u32 err = pf_error(cpu, acc, r != 0x100);
		if (r & PF_RSVD)
			err |= PF_RSVD;
		return page_fault(cpu, la, acc, err);
	}
	if (access_denied(cpu, w, acc))
		return page_fault(cpu, la, acc, pf_error(cpu, acc, true));
	if (pkey_denies(cpu, w, acc, is_user_access(cpu, acc)))
		return page_fault(cpu, la, acc, pf_error(cpu, acc, true) | PF_PK);
	if (acc & ACC_NOFAULT)
		return true;
	for (int lvl = lw.levels; lvl > lw.leaf; lvl--)
		set_ad(cpu, lw.pa[lvl - 1], lw.e[lvl - 1], PTE_A, lw.wide);
	/* Never set D through an entry with R/W=0 (spec 5.2); shadow-stack
	 * pages already have D=1. */
	u64 leaf_bits = PTE_A | ((acc & ACC_WRITE) && w->leaf_rw ? PTE_D : 0);
	set_ad(cpu, lw.pa[lw.leaf - 1], lw.e[lw.leaf - 1], leaf_bits, lw.wide);
	if (leaf_bits & PTE_D)
		w->dirty = true;
	return true;
}

u64 cpu_translate(struct cpu *cpu, u64 la, unsigned acc)
{
	struct walk w;
	translate(cpu, la, acc, &w);
	return w.phys;
}

bool cpu_probe(struct cpu *cpu, u64 la, unsigned acc, u64 *phys)
{
	struct walk w;
	if (!translate(cpu, la, acc | ACC_NOFAULT, &w))
		return false;
	*phys = w.phys;
	return true;
}

/* Every change to a TLB entry or to the access class goes through here
 * first: the stack page caches (cpu.h) copy an entry. */
static void tlb_changed(struct cpu *cpu)
{
	cpu->sp_cache.page = cpu->ss_cache.page = ~0ull;
}

/* ---- victim TLB ----
 * An entry that a fill pushes out of the direct-mapped TLB moves to a small
 * fully associative victim TLB of its class; a miss looks there before it
 * walks the page tables and swaps a hit back in. Two pages that share a TLB
 * index (a copy between buffers 2 MiB apart) then cost a swap, not a walk. */

static u64 entry_page(const struct tlb_entry *e)
{
	return e->rtag != ~0ull ? e->rtag : e->wtag != ~0ull ? e->wtag : e->sstag;
}

/* e is about to describe page: keep what it described before. */
static void victim_push(struct cpu *cpu, const struct tlb_entry *e, u64 page)
{
	u64 old = entry_page(e);
	if (old == ~0ull || old == page)
		return;
	unsigned m = cpu->mmu_idx;
	cpu->victim[m][cpu->victim_next[m]++ % TLB_VICTIMS] = *e;
}

/* The tag an access of kind acc hits through. */
static size_t tag_of(unsigned acc)
{
	if (acc & ACC_SHSTK)
		return offsetof(struct tlb_entry, sstag);
	return (acc & ACC_WRITE) ? offsetof(struct tlb_entry, wtag) : offsetof(struct tlb_entry, rtag);
}

/* The victim of the current class whose tag at offset `tag` names la's
 * page, or NULL. */
static struct tlb_entry *victim_find(struct cpu *cpu, u64 la, size_t tag)
{
	if (cpu->mmu_idx == MMU_SLOW)
		return NULL;
	u64 page = la & ~0xfffull;
	struct tlb_entry *v = cpu->victim[cpu->mmu_idx];
	for (unsigned i = 0; i < TLB_VICTIMS; i++)
		if (*(const u64 *)((const u8 *)&v[i] + tag) == page)
			return &v[i];
	return NULL;
}

const struct tlb_entry *cpu_tlb_find(struct cpu *cpu, u64 la, bool write)
{
	size_t tag = tag_of(write ? ACC_WRITE : ACC_READ);
	const struct tlb_entry *e = cpu_tlb_entry(cpu, la);
	if (*(const u64 *)((const u8 *)e + tag) == (la & ~0xfffull))
		return e;
	return victim_find(cpu, la, tag);
}

/* Host address of the size bytes at la (inside one page) through a victim
 * that serves an access of kind acc, swapped into the TLB; or NULL. */
static u8 *victim_hit(struct cpu *cpu, u64 la, unsigned size, unsigned acc)
{
	if ((acc & (ACC_USER | ACC_SUPER)) || (la & 0xfff) > 0x1000 - size)
		return NULL;
	struct tlb_entry *v = victim_find(cpu, la, tag_of(acc));
	if (!v)
		return NULL;
	struct tlb_entry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (TLB_SIZE - 1)];
	struct tlb_entry t = *e;
	tlb_changed(cpu);
	cpu_tlb_touch(cpu, cpu->mmu_idx, (la >> 12) & (TLB_SIZE - 1));
	*e = *v;
	*v = t;
	return tlb_ptr(e, la);
}

/* Fill the data TLB after a successful walk of an ordinary access. */
static void tlb_fill(struct cpu *cpu, u64 la, const struct walk *w)
{
	u64 page = la & ~0xfffull, off = cpu_ram_offset(cpu, w->phys & ~0xfffull, 0x1000);
	if (off == MEM_NONE || cpu->mmu_idx == MMU_SLOW)
		return;
	struct tlb_entry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (TLB_SIZE - 1)];
	bool user = cpu->mmu_idx == MMU_USER;
	tlb_changed(cpu);
	cpu_tlb_touch(cpu, cpu->mmu_idx, (la >> 12) & (TLB_SIZE - 1));
	victim_push(cpu, e, page);
	/* Protection keys with PKRU as it is now: a new PKRU flushes the TLB
	 * (cpu_set_pkru()). */
	bool readable = (user ? w->user : !(w->user && (cpu->cr4 & X86_CR4_SMAP))) &&
			!pkey_denies(cpu, w, ACC_READ, user);
	bool writable = readable && w->dirty && !cpu->code_pages[off >> 12] &&
			(w->writable || (!user && !(cpu->cr0 & X86_CR0_WP))) &&
			!pkey_denies(cpu, w, ACC_WRITE, user);
	e->rtag = readable ? page : ~0ull;
	e->wtag = writable ? page : ~0ull;
	if (e->sstag != page)
		e->sstag = ~0ull;
	e->addend = (uintptr_t)(cpu->ram + off) - page;
	if (w->large)
		cpu->tlb_large = true;
}

/* Fill the shadow-stack tag after a successful shadow-stack access at the
 * current privilege (spec 5.2 checks done by the walk). Shadow-stack pages
 * always have D=1, so writes need no further bookkeeping, but code pages
 * stay on the slow path to keep decoded code coherent. */
static void tlb_fill_ss(struct cpu *cpu, u64 la, const struct walk *w)
{
	u64 page = la & ~0xfffull, off = cpu_ram_offset(cpu, w->phys & ~0xfffull, 0x1000);
	if (off == MEM_NONE || cpu->mmu_idx == MMU_SLOW || cpu->code_pages[off >> 12])
		return;
	struct tlb_entry *e = &cpu->tlb[cpu->mmu_idx][(la >> 12) & (TLB_SIZE - 1)];
	tlb_changed(cpu);
	cpu_tlb_touch(cpu, cpu->mmu_idx, (la >> 12) & (TLB_SIZE - 1));
	victim_push(cpu, e, page);
	if (e->rtag != page)
		e->rtag = ~0ull;
	if (e->wtag != page)
		e->wtag = ~0ull;
	e->sstag = page;
	e->addend = (uintptr_t)(cpu->ram + off) - page;
	if (w->large)
		cpu->tlb_large = true;
}

static void fill(struct cpu *cpu, u64 la, const struct walk *w, unsigned acc)
{
	if (acc & (ACC_USER | ACC_SUPER))
		return;
	if (acc & ACC_SHSTK)
		tlb_fill_ss(cpu, la, w);
	else
		tlb_fill(cpu, la, w);
}

static void check_alignment(struct cpu *cpu, u64 la, unsigned size, unsigned acc)
{
	/* #AC: CR0.AM, EFLAGS.AC, CPL 3 (SDM Vol. 3 6.15, vector 17). */
	if (cpu->mmu_idx == MMU_SLOW && !(acc & (ACC_SUPER | ACC_SHSTK)) && (la & (size - 1)) &&
	    size <= 8)
		cpu_fault(cpu, X86_EXC_AC, 0);
}

static u64 read_part(struct cpu *cpu, u64 la, unsigned size, unsigned acc)
{
	struct walk w;
	translate(cpu, la, acc, &w);
	fill(cpu, la, &w, acc);
	return cpu_phys_read(cpu, w.phys, size);
}

u64 cpu_read_slow(struct cpu *cpu, u64 la, unsigned size, unsigned acc)
{
	cpu_sync_rip(cpu); /* MMIO and #PF see the current instruction's RIP */
	check_alignment(cpu, la, size, acc);
	u8 *p = victim_hit(cpu, la, size, acc);
	if (p)
		return load_le(p, size);
	unsigned first = 0x1000 - (unsigned)(la & 0xfff);
	if (first >= size)
		return read_part(cpu, la, size, acc);
	u64 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= read_part(cpu, la + i, 1, acc) << (8 * i);
	return v;
}

void cpu_write_slow(struct cpu *cpu, u64 la, unsigned size, u64 v, unsigned acc)
{
	struct walk w1, w2;
	cpu_sync_rip(cpu);
	acc |= ACC_WRITE;
	check_alignment(cpu, la, size, acc);
	u8 *p = victim_hit(cpu, la, size, acc);
	if (p) {
		store_le(p, size, v);
		return;
	}
	unsigned first = 0x1000 - (unsigned)(la & 0xfff);
	translate(cpu, la, acc, &w1);
	if (first >= size) {
		fill(cpu, la, &w1, acc);
		cpu_phys_write(cpu, w1.phys, size, v);
		return;
	}
	/* Page-crossing write: check both pages before writing either. */
	translate(cpu, la + first, acc, &w2);
	for (unsigned i = 0; i < size; i++) {
		u64 pa = i < first ? w1.phys + i : w2.phys + (i - first);
		cpu_phys_write(cpu, pa, 1, (v >> (8 * i)) & 0xff);
	}
}

u64 cpu_phys_read(struct cpu *cpu, u64 pa, unsigned size)
{
	u64 off = cpu_ram_offset(cpu, pa, size);
	if (likely(off != MEM_NONE))
		return load_le(cpu->ram + off, size);
	cpu_poll_irq(cpu);
	return bus_read(cpu->env->mmio, pa, size);
}

void cpu_phys_write(struct cpu *cpu, u64 pa, unsigned size, u64 v)
{
	u64 off = cpu_ram_offset(cpu, pa, size);
	if (likely(off != MEM_NONE)) {
		store_le(cpu->ram + off, size, v);
		if (unlikely(cpu->code_pages[off >> 12]))
			cpu_code_written(cpu, off >> 12);
		if (unlikely(cpu->code_pages[(off + size - 1) >> 12]))
			cpu_code_written(cpu, (off + size - 1) >> 12);
		return;
	}
	cpu_poll_irq(cpu);
	bus_write(cpu->env->mmio, pa, size, v);
	cpu_break(cpu); /* a device may have asked to stop */
}

/* Empty the entries filled since the last flush (cpu_tlb_touch()): the
 * others are empty already. */
static void clear_touched(struct cpu *cpu)
{
	for (unsigned k = 0; k < cpu->n_touched; k++) {
		unsigned which = cpu->tlb_touched[k] >> TLB_BITS;
		unsigned i = cpu->tlb_touched[k] & (TLB_SIZE - 1);
		if (which < MMU_COUNT)
			memset(&cpu->tlb[which][i], 0xff, sizeof(cpu->tlb[which][i]));
		else
			cpu->itlb[which - MMU_COUNT][i].tag = ~0ull;
	}
}

void cpu_tlb_flush(struct cpu *cpu)
{
	cpu->jc_epoch++;
	tlb_changed(cpu);
	memset(cpu->victim, 0xff, sizeof(cpu->victim));
	if (cpu->n_touched > TLB_TOUCHED) {
		memset(cpu->tlb, 0xff, sizeof(cpu->tlb));
		memset(cpu->itlb, 0xff, sizeof(cpu->itlb));
	} else {
		clear_touched(cpu);
	}
	cpu->n_touched = 0;
	cpu->tlb_large = false;
}

void cpu_set_pkru(struct cpu *cpu, u32 v)
{
	if (v == cpu->pkru)
		return;
	cpu->pkru = v;
	cpu_tlb_flush(cpu); /* the fast path's tags include the keys' rights */
}

void cpu_tlb_flush_page(struct cpu *cpu, u64 la)
{
	cpu->jc_epoch++;
	if (cpu->tlb_large) {
		cpu_tlb_flush(cpu);
		return;
	}
	unsigned i = (la >> 12) & (TLB_SIZE - 1);
	tlb_changed(cpu);
	for (int m = 0; m < MMU_COUNT; m++) {
		cpu->tlb[m][i].rtag = cpu->tlb[m][i].wtag = cpu->tlb[m][i].sstag = ~0ull;
		for (unsigned k = 0; k < TLB_VICTIMS; k++)
			if (entry_page(&cpu->victim[m][k]) == (la & ~0xfffull))
				memset(&cpu->victim[m][k], 0xff, sizeof(cpu->victim[m][k]));
	}
	cpu->itlb[0][i].tag = cpu->itlb[1][i].tag = ~0ull;
}

/* Drop fast-path write entries: a page just became code (exec.c). */
void cpu_tlb_drop_writes(struct cpu *cpu)
{
	tlb_changed(cpu);
	for (int m = 0; m < MMU_COUNT; m++) {
		for (unsigned i = 0; i < TLB_SIZE; i++)
			cpu->tlb[m][i].wtag = cpu->tlb[m][i].sstag = ~0ull;
		for (unsigned k = 0; k < TLB_VICTIMS; k++)
			cpu->victim[m][k].wtag = cpu->victim[m][k].sstag = ~0ull;
	}
}

void cpu_update_mmu_idx(struct cpu *cpu)
{
	tlb_changed(cpu);
	if (cpu->cpl != 3)
		cpu->mmu_idx = MMU_SUP;
	else if ((cpu->cr0 & X86_CR0_AM) && (cpu->eflags & X86_EFLAGS_AC))
		cpu->mmu_idx = MMU_SLOW;
	else
		cpu->mmu_idx = MMU_USER;
	cpu->tlb_cur = cpu->tlb[cpu->mmu_idx];
}
