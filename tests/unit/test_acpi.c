/* test_acpi.c: the ACPI tables the Linux loader writes: signatures, lengths,
 * checksums, the pointers between tables, the FADT's and MADT's view of
 * the board, and that it matches the devices in src/dev. */
#include <string.h>

#include "boot/acpi.h"
#include "dev/acpipm.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/pcihost.h"
#include "dev/rtc.h"
#include "unit.h"

#define GPA 0xf0000u
#define ROOM 0x10000u

static u8 buf[ROOM];

static u16 rd16(const u8 *p)
{
	u16 v;
	memcpy(&v, p, 2);
	return v;
}

static u32 rd32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

static u64 rd64(const u8 *p)
{
	u64 v;
	memcpy(&v, p, 8);
	return v;
}

static bool sums_to_zero(const u8 *p, size_t len)
{
	u8 s = 0;
	for (size_t i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s == 0;
}

/* The table at guest address gpa, if it lies in buf with its whole length
 * and carries `sig`; NULL otherwise. */
static const u8 *table(u64 gpa, const char *sig)
{
	if (gpa < GPA || gpa + 36 > GPA + ROOM)
		return NULL;
	const u8 *t = buf + (gpa - GPA);
	if (memcmp(t, sig, 4) || gpa + rd32(t + 4) > GPA + ROOM)
		return NULL;
	return t;
}

static bool table_ok(const u8 *t, const char *sig, u8 rev)
{
	return t && !memcmp(t, sig, 4) && t[8] == rev && sums_to_zero(t, rd32(t + 4)) &&
	       !memcmp(t + 10, "CETVM ", 6);
}

static void test_rsdp(size_t used)
{
	report(used > 0 && used < 0x1000, "tables built (%zu bytes)", used);
	report(!memcmp(buf, "RSD PTR ", 8) && buf[15] == 2 && rd32(buf + 20) == 36,
	       "RSDP first, revision 2, length 36");
	report(sums_to_zero(buf, 20) && sums_to_zero(buf, 36), "RSDP checksum and extended checksum");
	report(table_ok(table(rd32(buf + 16), "RSDT"), "RSDT", 1), "RSDT valid at the RSDP's address");
	report(table_ok(table(rd64(buf + 24), "XSDT"), "XSDT", 1), "XSDT valid at the RSDP's address");
}

/* The RSDT and the XSDT list the same two tables: FACP and APIC. */
static void test_sdts(void)
{
	const u8 *r = table(rd32(buf + 16), "RSDT"), *x = table(rd64(buf + 24), "XSDT");
	if (!r || !x)
		return;
	report(rd32(r + 4) == 36 + 8 && rd32(x + 4) == 36 + 16, "RSDT and XSDT each list two tables");
	report(rd32(r + 36) == rd64(x + 36) && rd32(r + 40) == rd64(x + 44),
	       "RSDT and XSDT point at the same tables");
	report(table_ok(table(rd64(x + 36), "FACP"), "FACP", 6), "FADT revision 6, checksum");
	report(table_ok(table(rd64(x + 44), "APIC"), "APIC", 4), "MADT revision 4, checksum");
}

static void test_fadt(const u8 *f)
{
	report(rd32(f + 4) == 276, "FADT length 276 (ACPI 6)");
	u32 facs = rd32(f + 36);
	const u8 *fs = table(facs, "FACS");
	report(fs && facs % 64 == 0 && rd32(fs + 4) == 64 && rd64(f + 132) == 0,
	       "FACS at FIRMWARE_CTRL, 64-byte aligned, no X_FIRMWARE_CTRL");
	const u8 *d = table(rd32(f + 40), "DSDT");
	report(table_ok(d, "DSDT", 2) && rd64(f + 140) == rd32(f + 40), "DSDT valid, X_DSDT agrees");
	static const u8 s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 10, 4, 0x0a, ACPIPM_SLP_TYP_S5 };
	report(d && rd32(d + 4) >= 36 + sizeof(s5) && !memcmp(d + 36, s5, sizeof(s5)),
	       "DSDT: Name (_S5, Package (4) { SLP_TYP_S5, ... })");
	report(rd16(f + 46) == ACPI_SCI_IRQ && rd32(f + 48) == 0, "SCI on IRQ 9; no SMI command port");
	report(rd32(f + 56) == ACPIPM_IO_BASE && rd32(f + 64) == ACPIPM_IO_BASE + 4 &&
		       rd32(f + 76) == ACPIPM_IO_BASE + 8,
	       "PM1a event, PM1a control and PM timer blocks in the acpi-pm device");
	report(f[88] == 4 && f[89] == 2 && f[91] == 4 && f[92] == 0 && rd32(f + 80) == 0,
	       "block lengths 4/2/4, no GPE block");
	u32 flags = rd32(f + 112);
	report((flags & 0x105) == 0x105 && !(flags & (1u << 20)),
	       "flags: WBINVD, C1, TMR_VAL_EXT; not hardware-reduced");
	report((flags & (1u << 10)) && f[116] == 1 && f[117] == 8 &&
		       rd64(f + 120) == PCIHOST_IO_BASE + 1 && f[128] == 0x06,
	       "reset register: I/O port 0xcf9, value 6 (RST_CPU | SYS_RST)");
	report(rd16(f + 109) == 0x5, "IA-PC boot flags: legacy devices, no 8042, no VGA");
	report(f[108] == RTC_CENTURY, "century byte at CMOS %#x", RTC_CENTURY);
}

/* Find MADT structure `n` of `type`; NULL if absent. */
static const u8 *madt_find(const u8 *m, u8 type, int n)
{
	for (u32 at = 44; at + 2 <= rd32(m + 4) && m[at + 1] >= 2; at += m[at + 1])
		if (m[at] == type && n-- == 0)
			return m + at;
	return NULL;
}

static void test_madt(const u8 *m)
{
	report(rd32(m + 36) == LAPIC_MMIO_BASE && (rd32(m + 40) & 1), "local APIC address, PCAT_COMPAT");
	const u8 *l = madt_find(m, 0, 0), *io = madt_find(m, 1, 0);
	report(l && l[1] == 8 && l[3] == 0 && (rd32(l + 4) & 1), "one enabled local APIC, ID 0");
	report(!madt_find(m, 0, 1), "no second processor");
	report(io && io[1] == 12 && rd32(io + 4) == IOAPIC_MMIO_BASE && rd32(io + 8) == 0,
	       "I/O APIC at the ioapic device, GSI base 0");
	const u8 *o0 = madt_find(m, 2, 0), *o1 = madt_find(m, 2, 1);
	report(o0 && o0[2] == 0 && o0[3] == 0 && rd32(o0 + 4) == 2 && rd16(o0 + 8) == 0,
	       "override: ISA IRQ0 -> GSI 2, bus-conforming");
	report(o1 && o1[3] == ACPI_SCI_IRQ && rd32(o1 + 4) == ACPI_SCI_IRQ && rd16(o1 + 8) == 0xd,
	       "override: IRQ 9 (SCI) level, active high");
	const u8 *nmi = madt_find(m, 4, 0);
	report(nmi && nmi[2] == 0xff && nmi[5] == 1, "LINT1 is NMI on every processor");
}

static void test_board_agrees(void)
{
	report(ACPI_LAPIC_ADDR == LAPIC_MMIO_BASE && ACPI_IOAPIC_ADDR == IOAPIC_MMIO_BASE &&
		       ACPI_IOAPIC_PINS == IOAPIC_NPINS,
	       "acpi.h and the APIC devices agree");
	report(ACPI_PM_IO_BASE == ACPIPM_IO_BASE && ACPI_SLP_TYP_S5 == ACPIPM_SLP_TYP_S5 &&
		       ACPI_RESET_PORT == PCIHOST_IO_BASE + 1 && ACPI_RTC_CENTURY == RTC_CENTURY,
	       "acpi.h and the PM, PCI host and RTC devices agree");
}

int main(void)
{
	memset(buf, 0xcc, sizeof(buf));
	size_t used = acpi_build(buf, ROOM, GPA);
	test_rsdp(used);
	test_sdts();
	const u8 *x = table(rd64(buf + 24), "XSDT");
	const u8 *f = x ? table(rd64(x + 36), "FACP") : NULL;
	const u8 *m = x ? table(rd64(x + 44), "APIC") : NULL;
	if (f)
		test_fadt(f);
	if (m)
		test_madt(m);
	test_board_agrees();
	report(acpi_build(buf, used - 1, GPA) == 0 && acpi_build(buf, 0, GPA) == 0,
	       "too little room: nothing built");
	u8 ones[4] = { 1, 2, 3, 250 };
	report(acpi_checksum(ones, 4) == 0 && acpi_checksum(ones, 3) == 250, "acpi_checksum");
	return 0;
}
