/* cet_rows.h: the CET rows of KVM's MSR test table from inside a guest:
 * PL0-3_SSP (canonical 0x123456789000 accepted, 0xaaaaaaaaaaaaaaaa and
 * misaligned values refused), INT_SSP_TAB, and U_CET/S_CET (each
 * feature's bits refused without the feature, reserved bits 9:6, bitmap
 * bits 13:12, SUPPRESS with TRACKER), for the CPU model the guest has.
 * tests/unit/test_vcpu_cet.c walks the same rows from the host side. */
#ifndef GUEST_CET_ROWS_H
#define GUEST_CET_ROWS_H

/* One report line per row; `model` names the CPU model in them. */
void cet_msr_rows(const char *model);

#endif
