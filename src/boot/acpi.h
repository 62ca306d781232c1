/* acpi.h: the ACPI tables cetvm's firmware area gives a Linux guest.
 *
 * ACPI 6.5 §5.2: an RSDP ("RSD PTR ", revision 2) on a 16-byte boundary
 * in the BIOS area (0xe0000-0xfffff, where an OS without EFI searches for
 * it), pointing at an RSDT and an XSDT; both list the FADT and the MADT.
 * The FADT (revision 6, not hardware-reduced) points at a FACS and a DSDT
 * and describes the PC board:
 *   - PM1a event block (PM1_STS, PM1_EN) at ACPI_PM_IO_BASE, PM1a control
 *     at +4, the 32-bit PM timer at +8 (TMR_VAL_EXT); SCI on ISA IRQ 9;
 *     no SMI command port, so the machine is always in ACPI mode;
 *   - the reset register: port 0xcf9, value 6 (RESET_REG_SUP);
 *   - IA-PC boot flags: legacy ISA devices present, no 8042 (the board
 *     answers only the 0xfe reset command at port 0x64), no VGA;
 *   - C1 through HLT only; the RTC's century byte at CMOS 0x32.
 * The MADT (PCAT_COMPAT: the 8259 pair is present) lists the local APIC
 * (ID 0), the I/O APIC (ID 0, GSI 0-23), the interrupt source overrides
 * ISA IRQ0 -> GSI 2 (the PIT) and IRQ 9 -> GSI 9 level/active-high (the
 * SCI), and LINT1 as NMI on every processor. The DSDT holds only \_S5
 * (SLP_TYP ACPI_SLP_TYP_S5), so the guest can power off.
 *
 * The addresses below are those of the board's devices (src/dev); the
 * loader may not include device headers, so tests/unit/test_acpi.c checks
 * that the two agree.
 */
#ifndef CETVM_BOOT_ACPI_H
#define CETVM_BOOT_ACPI_H

#include <stddef.h>

#include "../types.h"

#define ACPI_TABLES_ADDR 0xf0000ull /* in the E820-reserved BIOS area */
#define ACPI_TABLES_ROOM 0x10000ull
#define ACPI_LAPIC_ADDR 0xfee00000u
#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_IOAPIC_PINS 24
#define ACPI_PM_IO_BASE 0x600u
#define ACPI_SCI_IRQ 9
#define ACPI_RESET_PORT 0xcf9u
#define ACPI_RESET_VALUE 0x06
#define ACPI_RTC_CENTURY 0x32
#define ACPI_SLP_TYP_S5 0

/* Write the tables into buf (room bytes), which the guest sees at
 * guest-physical address gpa; the RSDP comes first, at gpa. Returns the
 * bytes used, or 0 if room is too small. */
size_t acpi_build(u8 *buf, size_t room, u64 gpa);

/* The byte that makes the sum of len bytes zero (ACPI checksum). */
u8 acpi_checksum(const u8 *p, size_t len);

#endif
