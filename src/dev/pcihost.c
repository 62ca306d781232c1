/* pcihost.c: PCI configuration mechanism #1 with an empty bus, and 0xcf9. */
#include "pcihost.h"

#define CONFIG_ADDRESS_MASK 0x80fffffcu
#define RC_OFFSET 1     /* 0xcf9 */
#define RC_RST_CPU 0x04
#define RC_WRITABLE 0x0e

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
}

u64 pcihost_io_read(void *opaque, u64 offset, unsigned size)
{
	struct pcihost *p = opaque;
	if (offset == 0 && size == 4)
		return p->config_address;
	if (offset == RC_OFFSET && size == 1)
		return p->reset_control;
	return ~0ull; /* config data: no device at any address */
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
	}
}
