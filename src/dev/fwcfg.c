/* fwcfg.c: fw_cfg items as little-endian byte strings. */
#include "fwcfg.h"

#include <string.h>

static void add_le(struct fwcfg *f, u16 key, u64 value, unsigned len)
{
	struct fwcfg_item *it = &f->items[f->n++];
	it->key = key;
	it->len = (u8)len;
	for (unsigned i = 0; i < len; i++)
		it->data[i] = (u8)(value >> (8 * i));
}

void fwcfg_init(struct fwcfg *f, u64 ram_size, int ncpus)
{
	memset(f, 0, sizeof(*f));
	/* "QEMU" read byte by byte: 'Q' first. */
	add_le(f, FWCFG_SIGNATURE, 'Q' | 'E' << 8 | 'M' << 16 | (u64)'U' << 24, 4);
	add_le(f, FWCFG_ID, 1, 4); /* bit 0: traditional interface */
	add_le(f, FWCFG_RAM_SIZE, ram_size, 8);
	add_le(f, FWCFG_NB_CPUS, (u16)ncpus, 2);
	add_le(f, FWCFG_MAX_CPUS, (u16)ncpus, 2);
	add_le(f, FWCFG_MAX_RAM, ram_size, 8);
}

void fwcfg_reset(struct fwcfg *f)
{
	f->selector = 0;
	f->offset = 0;
}

static const struct fwcfg_item *find_item(const struct fwcfg *f, u16 key)
{
	for (int i = 0; i < f->n; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

static u8 read_data(struct fwcfg *f)
{
	const struct fwcfg_item *it = find_item(f, f->selector & FWCFG_ENTRY_MASK);
	/* Arch-local keys (bit 15) are not ours: they read as unknown. */
	if (f->selector & 0x8000)
		it = NULL;
	if (!it || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

/* Offset 0: selector (16-bit); offset 1: data (byte). */
u64 fwcfg_io_read(void *opaque, u64 offset, unsigned size)
{
	struct fwcfg *f = opaque;
	if (offset == 1 && size == 1)
		return read_data(f);
	return 0;
}

void fwcfg_io_write(void *opaque, u64 offset, unsigned size, u64 value)
{
	struct fwcfg *f = opaque;
	(void)size;
	if (offset == 0) {
		f->selector = (u16)value;
		f->offset = 0;
	}
}
