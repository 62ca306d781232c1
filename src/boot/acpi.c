/* acpi.c: build the RSDP, RSDT, XSDT, FADT, FACS, MADT and DSDT (ACPI 6.5 §5.2). */
#include "acpi.h"

#include <string.h>

#include "loader.h"

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276
#define FADT_REVISION 6
#define MADT_REVISION 4
#define DSDT_REVISION 2

/* FADT fields (ACPI 6.5 Table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140

#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define FLAG_WBINVD (1u << 0)
#define FLAG_PROC_C1 (1u << 2)
#define FLAG_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FLAG_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FLAG_TMR_VAL_EXT (1u << 8)
#define FLAG_RESET_REG_SUP (1u << 10)
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MADT structures (ACPI 6.5 §5.2.12). */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MPS_INTI_LEVEL_HIGH 0x000d /* active high, level triggered */
#define LAPIC_ENABLED 1u

/* AML (ACPI 6.5 §20). */
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0a

/* Tables are appended to a buffer the guest sees at gpa. */
struct acpi_buf {
	u8 *p;
	size_t used, room;
	u64 gpa;
	bool full;
};

u8 acpi_checksum(const u8 *p, size_t len)
{
	u8 sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return (u8)-sum;
}

/* Room for len bytes at the next `align` boundary; NULL once full. */
static u8 *take(struct acpi_buf *b, size_t len, size_t align, u64 *gpa)
{
	size_t at = (b->used + align - 1) & ~(align - 1);
	if (b->full || at > b->room || len > b->room - at) {
		b->full = true;
		return NULL;
	}
	memset(b->p + at, 0, len);
	b->used = at + len;
	*gpa = b->gpa + at;
	return b->p + at;
}

static void put16(u8 *p, u16 v)
{
	memcpy(p, &v, 2);
}

static void put_header(u8 *t, const char *sig, u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	boot_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "CETVM ", 6);
	memcpy(t + 16, "CETVM", 5);
	memcpy(t + 21, sig, 3);
	boot_put32(t + 24, 1);
	memcpy(t + 28, "CETV", 4);
	boot_put32(t + 32, 1);
}

static void seal(u8 *t, u32 len)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

static u64 build_facs(struct acpi_buf *b)
{
	u64 at = 0;
	u8 *t = take(b, FACS_LEN, 64, &at);
	if (t) {
		memcpy(t, "FACS", 4);
		boot_put32(t + 4, FACS_LEN);
		t[32] = 2; /* version */
	}
	return at;
}

/* \_S5: Name (_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }). */
static u64 build_dsdt(struct acpi_buf *b)
{
	static const u8 aml[] = {
		AML_NAME_OP, '_', 'S', '5', '_', AML_PACKAGE_OP, 10, 4,
		AML_BYTE_PREFIX, ACPI_SLP_TYP_S5, AML_BYTE_PREFIX, ACPI_SLP_TYP_S5,
		AML_BYTE_PREFIX, 0, AML_BYTE_PREFIX, 0,
	};
	u64 at = 0;
	u8 *t = take(b, HDR_LEN + sizeof(aml), 16, &at);
	if (t) {
		put_header(t, "DSDT", HDR_LEN + sizeof(aml), DSDT_REVISION);
		memcpy(t + HDR_LEN, aml, sizeof(aml));
		seal(t, HDR_LEN + sizeof(aml));
	}
	return at;
}

static void put_gas_io(u8 *g, u8 bits, u64 port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[3] = GAS_ACCESS_BYTE;
	boot_put64(g + 4, port);
}

static void fill_fadt(u8 *t, u64 facs, u64 dsdt)
{
	put_header(t, "FACP", FADT_LEN, FADT_REVISION);
	boot_put32(t + FADT_FIRMWARE_CTRL, (u32)facs);
	boot_put32(t + FADT_DSDT, (u32)dsdt);
	put16(t + FADT_SCI_INT, ACPI_SCI_IRQ);
	boot_put32(t + FADT_PM1A_EVT_BLK, ACPI_PM_IO_BASE);
	boot_put32(t + FADT_PM1A_CNT_BLK, ACPI_PM_IO_BASE + 4);
	boot_put32(t + FADT_PM_TMR_BLK, ACPI_PM_IO_BASE + 8);
	t[FADT_PM1_EVT_LEN] = 4;
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	put16(t + FADT_P_LVL2_LAT, 101);  /* > 100: no C2 */
	put16(t + FADT_P_LVL3_LAT, 1001); /* > 1000: no C3 */
	t[FADT_CENTURY] = ACPI_RTC_CENTURY;
	put16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_NO_VGA);
	boot_put32(t + FADT_FLAGS, FLAG_WBINVD | FLAG_PROC_C1 | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON |
					   FLAG_TMR_VAL_EXT | FLAG_RESET_REG_SUP);
	put_gas_io(t + FADT_RESET_REG, 8, ACPI_RESET_PORT);
	t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
	/* X_FIRMWARE_CTRL stays 0: FIRMWARE_CTRL already reaches the FACS. */
	boot_put64(t + FADT_X_DSDT, dsdt);
	seal(t, FADT_LEN);
}

static u64 build_fadt(struct acpi_buf *b, u64 facs, u64 dsdt)
{
	u64 at = 0;
	u8 *t = take(b, FADT_LEN, 16, &at);
	if (t)
		fill_fadt(t, facs, dsdt);
	return at;
}

/* One MADT interrupt controller structure of `len` bytes. */
static u8 *madt_entry(u8 *p, u8 type, u8 len)
{
	p[0] = type;
	p[1] = len;
	return p + len;
}

/* Interrupt source override: ISA `irq` arrives on `gsi` with MPS INTI flags. */
static u8 *madt_iso(u8 *p, u8 irq, u32 gsi, u16 flags)
{
	p[3] = irq; /* p[2]: bus 0, ISA */
	boot_put32(p + 4, gsi);
	put16(p + 8, flags);
	return madt_entry(p, MADT_ISO, 10);
}

/* The MADT's interrupt controller structures, after its 44-byte head. */
static size_t madt_entries(u8 *e)
{
	u8 *p = e;
	boot_put32(p + 4, LAPIC_ENABLED); /* processor UID 0, APIC ID 0 */
	p = madt_entry(p, MADT_LAPIC, 8);
	boot_put32(p + 4, ACPI_IOAPIC_ADDR); /* I/O APIC ID 0, GSI base 0 */
	p = madt_entry(p, MADT_IOAPIC, 12);
	p = madt_iso(p, 0, 2, 0); /* the PIT; flags: conforms to the bus */
	p = madt_iso(p, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_INTI_LEVEL_HIGH);
	p[2] = 0xff; /* every processor; flags 0 (conforming); LINT1 */
	p[5] = 1;
	p = madt_entry(p, MADT_LAPIC_NMI, 6);
	return (size_t)(p - e);
}

static u64 build_madt(struct acpi_buf *b)
{
	u8 e[64] = { 0 };
	size_t n = madt_entries(e);
	u32 len = (u32)(HDR_LEN + 8 + n);
	u64 at = 0;
	u8 *t = take(b, len, 16, &at);
	if (t) {
		put_header(t, "APIC", len, MADT_REVISION);
		boot_put32(t + HDR_LEN, ACPI_LAPIC_ADDR);
		boot_put32(t + HDR_LEN + 4, MADT_PCAT_COMPAT);
		memcpy(t + HDR_LEN + 8, e, n);
		seal(t, len);
	}
	return at;
}

/* RSDT (32-bit entries) or XSDT (64-bit entries) listing n tables. */
static u64 build_sdt(struct acpi_buf *b, const char *sig, unsigned width, const u64 *tables,
		     unsigned n)
{
	u32 len = HDR_LEN + width * n;
	u64 at = 0;
	u8 *t = take(b, len, 16, &at);
	if (!t)
		return 0;
	put_header(t, sig, len, 1);
	for (unsigned i = 0; i < n; i++) {
		if (width == 4)
			boot_put32(t + HDR_LEN + 4 * i, (u32)tables[i]);
		else
			boot_put64(t + HDR_LEN + 8 * i, tables[i]);
	}
	seal(t, len);
	return at;
}

static void fill_rsdp(u8 *r, u64 rsdt, u64 xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "CETVM ", 6);
	r[15] = 2; /* ACPI 2.0+: XSDT present */
	boot_put32(r + 16, (u32)rsdt);
	boot_put32(r + 20, RSDP_LEN);
	boot_put64(r + 24, xsdt);
	r[8] = acpi_checksum(r, 20);
	r[32] = acpi_checksum(r, RSDP_LEN);
}

size_t acpi_build(u8 *buf, size_t room, u64 gpa)
{
	struct acpi_buf b = { buf, 0, room, gpa, false };
	u64 at = 0;
	u8 *rsdp = take(&b, RSDP_LEN, 16, &at);
	u64 facs = build_facs(&b);
	u64 dsdt = build_dsdt(&b);
	u64 tables[2] = { build_fadt(&b, facs, dsdt), build_madt(&b) };
	u64 rsdt = build_sdt(&b, "RSDT", 4, tables, 2);
	u64 xsdt = build_sdt(&b, "XSDT", 8, tables, 2);
	if (b.full)
		return 0;
	fill_rsdp(rsdp, rsdt, xsdt);
	return b.used;
}
