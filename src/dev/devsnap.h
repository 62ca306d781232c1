/* devsnap.h: the saved state of each device, as tables of fields.
 *
 * A layout lists the fields of one device struct that make up its state
 * (never its callbacks or wiring). Saving writes them in table order;
 * loading reads them into a copy of the device, checks every field
 * against its limit (array indices, counters, bools), and only then
 * replaces the device: a bad field leaves the device as it was.
 */
#ifndef CETVM_DEV_DEVSNAP_H
#define CETVM_DEV_DEVSNAP_H

#include <stddef.h>

#include "../snap.h"

struct snap_field {
	size_t off, size; /* the whole field; arrays are checked element-wise */
	size_t elem;      /* element size: 1, 2, 4 or 8 */
	u64 max;          /* largest valid element value */
};

struct dev_layout {
	const char *name;
	size_t size; /* sizeof the device struct */
	const struct snap_field *fields;
	int nfields;
};

extern const struct dev_layout devsnap_pic_chip, devsnap_pit, devsnap_pit_channel, devsnap_rtc,
	devsnap_uart, devsnap_lapic, devsnap_ioapic, devsnap_fwcfg, devsnap_port92,
	devsnap_pcihost, devsnap_acpipm;

/* Bytes of state a layout saves. */
size_t devsnap_size(const struct dev_layout *l);
void devsnap_save(const struct dev_layout *l, const void *dev, struct snap_buf *b);
/* Reads devsnap_size(l) bytes; false (device untouched) if a field is out
 * of range or the cursor runs out. */
bool devsnap_load(const struct dev_layout *l, void *dev, struct snap_cur *c);

#endif
