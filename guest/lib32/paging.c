/* paging.c (32-bit kit): 32-bit paging with 4 MiB pages, 4 KiB where asked. */
#include "paging.h"

#include "boot.h"
#include "printf.h"
#include "x86.h"

#define MAX_TABLES 4
#define MAX_SS_PAGES 8
#define SS_VA_BASE 0x40000000u /* shadow-stack mappings: 1 GiB up */

static u32 pd[1024] __aligned(4096);
static u32 tables[MAX_TABLES][1024] __aligned(4096);
static int tables_used;
static u8 ss_frames[MAX_SS_PAGES][4096] __aligned(4096);
static int ss_used;

void paging_on(void)
{
	for (u32 i = 0; i < 1024; i++)
		pd[i] = i << 22 | PTE_PS | PTE_W | PTE_P;
	write_cr4(read_cr4() | X86_CR4_PSE);
	write_cr3((uintptr_t)pd);
	write_cr0(read_cr0() | X86_CR0_PG);
}

void paging_off(void)
{
	write_cr0(read_cr0() & ~X86_CR0_PG);
}

/* The page table for va, made from its 4 MiB page the first time. */
static u32 *table_for(u32 va)
{
	u32 *pde = &pd[va >> 22];
	if (!(*pde & PTE_PS))
		return (u32 *)(uintptr_t)(*pde & ~0xfffu);
	if (tables_used == MAX_TABLES) {
		printf("FAIL: paging: out of page tables\n");
		exit(3);
	}
	u32 *t = tables[tables_used++];
	for (u32 i = 0; i < 1024; i++)
		t[i] = (*pde & 0xffc00000u) + (i << 12) + (PTE_W | PTE_P);
	*pde = (uintptr_t)t | PTE_W | PTE_P;
	write_cr3(read_cr3());
	return t;
}

void pt_map_4k(u32 va, u32 pa, u32 flags)
{
	table_for(va)[(va >> 12) & 1023] = (pa & ~0xfffu) | flags;
	invlpg((void *)(uintptr_t)va);
}

struct ss_page ss_page_new(void)
{
	if (ss_used == MAX_SS_PAGES) {
		printf("FAIL: paging: out of shadow-stack pages\n");
		exit(3);
	}
	u8 *frame = ss_frames[ss_used];
	struct ss_page p = { SS_VA_BASE + ss_used * 0x2000, (volatile u32 *)frame };
	ss_used++;
	for (int i = 0; i < 1024; i++)
		p.alias[i] = 0;
	pt_map_4k(p.va, (uintptr_t)frame, PTE_P | PTE_D | PTE_A);
	return p;
}

u32 ss_page_token(const struct ss_page *p)
{
	u32 tok = p->va + 4096 - 8;
	p->alias[1022] = tok;
	p->alias[1023] = 0;
	return tok;
}
