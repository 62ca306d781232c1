/* pcihost.c: PCI configuration mechanism #1, the host bridge at 00:00.0, and 0xcf9. */
#include "pcihost.h"

#define CONFIG_ADDRESS_MASK 0x80fffffcu
#define CONFIG_ENABLE 0x80000000u
#define CONFIG_BDF_MASK 0x00ffff00u /* bus, device, function: 0 is the host bridge */
#define DATA_OFFSET 4
#define RC_OFFSET 1 /* 0xcf9 */
#define RC_RST_CPU 0x04
#define RC_WRITABLE 0x0e

/* Configuration header fields (PCI Local Bus 3.0 §6.1). */
#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_REVISION 0x08
#define CFG_CLASS 0x09
#define HOST_REVISION 0x02
#define CMD_WRITABLE 0x0146 /* memory space, bus master, parity, SERR# enables */

void pcihost_init(struct pcihost *p, void (*request_reset)(void *opaque), void *opaque)
{
	p->request_reset = request_reset;
	p->opaque = opaque;
	pcihost_reset(p);
}

void pcihost_reset(struct pcihost *p)
{
	p->config_address = 0;
	p->reset_control = 0;
	p->command = 0x0006; /* memory space and bus master, as after firmware */
}

/* One byte of the host bridge's configuration space. */
static u8 host_config_byte(const struct pcihost *p, unsigned reg)
{
	u32 v;
	switch (reg & ~3u) {
	case CFG_VENDOR:
		v = PCIHOST_VENDOR | (u32)PCIHOST_DEVICE << 16;
		break;
	case CFG_COMMAND:
		v = p->command; /* status: 0 */
		break;
	case CFG_REVISION:
		v = HOST_REVISION | (u32)PCIHOST_CLASS << 8;
		break;
	default:
		v = 0; /* header type 0, no BARs, no capabilities */
		break;
	}
	return (u8)(v >> (8 * (reg & 3)));
}

/* The function CONFIG_ADDRESS selects: true if it is the host bridge. */
static bool selects_host(const struct pcihost *p)
{
	return (p->config_address & CONFIG_ENABLE) && !(p->config_address & CONFIG_BDF_MASK);
}

static u64 config_read(const struct pcihost *p, unsigned lane, unsigned size)
{
	if (!selects_host(p))
		return ~0ull >> (64 - 8 * size); /* master abort */
	unsigned reg = (p->config_address & 0xfc) + lane;
	u64 v = 0;
	for (unsigned i = 0; i < size && reg + i < 256; i++)
		v |= (u64)host_config_byte(p, reg + i) << (8 * i);
	return v;
}

static void config_write(struct pcihost *p, unsigned lane, unsigned size, u64 value)
{
	if (!selects_host(p))
		return;
	unsigned reg = (p->config_address & 0xfc) + lane;
	for (unsigned i = 0; i < size; i++, value >>= 8) {
		if (reg + i == CFG_COMMAND)
			p->command = (u16)((p->command & 0xff00) | ((u8)value & CMD_WRITABLE));
		else if (reg + i == CFG_COMMAND + 1)
			p->command = (u16)((p->command & 0xff) | (((u8)value << 8) & CMD_WRITABLE));
	}
}

u64 pcihost_io_read(void *opaque, u64 offset, unsigned size)
{
	struct pcihost *p = opaque;
	if (offset == 0 && size == 4)
		return p->config_address;
	if (offset == RC_OFFSET && size == 1)
		return p->reset_control;
	if (offset >= DATA_OFFSET)
		return config_read(p, (unsigned)offset - DATA_OFFSET, size);
	return ~0ull;
}

void pcihost_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct pcihost *p = opaque;
	if (offset == 0 && size == 4) {
		p->config_address = (u32)value & CONFIG_ADDRESS_MASK;
	} else if (offset == RC_OFFSET && size == 1) {
		p->reset_control = (u8)value & RC_WRITABLE;
		if ((value & RC_RST_CPU) && p->request_reset)
			p->request_reset(p->opaque);
	} else if (offset >= DATA_OFFSET) {
		config_write(p, (unsigned)offset - DATA_OFFSET, size, value);
	}
}
