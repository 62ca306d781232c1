/* accel.c: looking up an accelerator by name. */
#include <string.h>

#include "accel.h"

const struct accel_ops *accel_find(const char *name)
{
	static const struct accel_ops *const all[] = { &accel_emu, &accel_kvm };
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
