/* cet_xfer.h: the shadow-stack steps of far transfers (spec/cet.md 5.4,
 * 5.6-5.11; SDM Vol. 1 17.2, Vol. 2 CALL, RET, INT n, IRET, SYSCALL).
 *
 * The helpers work on an SSP value held by the caller and touch only
 * shadow-stack memory, so a handler runs them after its last normal-stack
 * access and before its commit: a later fault then leaves cpu->cet.ssp as
 * it was, while token busy bits already written stay written ("prematurely
 * busy", spec 5.9).
 */
#ifndef CETVM_CET_XFER_H
#define CETVM_CET_XFER_H

#include "cpu.h"

/* The ACC_* of a shadow-stack access done at CPL cpl (spec 5.2). */
static inline unsigned cet_ss_acc(unsigned cpl)
{
	return ACC_SHSTK | (cpl == 3 ? ACC_USER : ACC_SUPER);
}

/* The linear return address of CS.base + ip (spec 5.4: 32 bits outside
 * 64-bit code). */
static inline u64 cet_lip(u64 cs_base, u64 ip, bool m64)
{
	return m64 ? ip : (u32)(cs_base + ip);
}

/* #GP(0) when a non-64-bit target would run with ssp[63:32] != 0 (spec 5.1,
 * 5.6, 5.8, 5.11). */
void cet_check_ssp32(struct cpu *cpu, u64 ssp, bool target64);

/* switch_to(N) (spec 5.4): #GP(0) unless N is 8-aligned, fits the target
 * mode and holds a free supervisor token, which becomes busy. Returns N. */
u64 cet_switch_to(struct cpu *cpu, u64 n, bool target64);

/* push_frame(cs, lip, old) at CPL cpl on the stack at ssp (spec 5.4), with
 * the 4-byte alignment hole; returns the new SSP. */
u64 cet_push_frame(struct cpu *cpu, u64 ssp, unsigned cpl, u16 cs, u64 lip, u64 old);

/* restore_frame (spec 5.4) at CPL cpl: checks the frame at *ssp against
 * the selector cs and lip (#CP(2)), advances *ssp by 24 and returns the
 * saved SSP (#GP(0) if it does not fit a non-64-bit target). */
u64 cet_restore_frame(struct cpu *cpu, u64 *ssp, unsigned cpl, u16 cs, u64 lip,
		      bool target64);

/* The token address of IST entry ist: an ordinary supervisor data read of
 * INT_SSP_TAB + 8 * ist (spec 5.9). */
u64 cet_ist_ssp(struct cpu *cpu, unsigned ist);

/* Far RET or IRET to the outer privilege of selector sel (spec 5.8): the
 * frame is popped for a return to CPL 1 or 2, PL3_SSP serves CPL 3, and
 * the token the inner shadow stack was entered on is freed. Returns the
 * SSP to commit; only shadow-stack memory changes here. */
u64 cet_ret_outer(struct cpu *cpu, u16 sel, u64 lip, bool target64);

/* Raise #CP(code), logging why under -trace cet. */
__attribute__((noreturn)) void cet_cp_far(struct cpu *cpu, const char *why, u64 a, u64 b);

#endif
