# guest/guest.mk: the freestanding test guests. Included by the top Makefile
# (no recursive make). Every program is linked at 1 MiB as an ELF64
# ($(GUEST_B)/elf64/NAME.elf, for gdb/objdump) and converted to the ELF32
# multiboot image that -kernel boots ($(GUEST_B)/NAME.elf).
#
#   guest/tests/NAME.c  one test guest each (tests/tier-guest runs them)
#   guest/bench/NAME.c  benchmark guests (bench/ runs them)
#   guest/demo.c        the tour shown by `make run`
#   guest/lib/          the library linked into every guest

GUEST_B       := $(B)/guest
GUEST_CC      ?= gcc
GUEST_OBJCOPY ?= objcopy

GUEST_CFLAGS := -std=gnu11 -m64 -ffreestanding -fno-pic -fno-pie -mcmodel=small \
	-mno-red-zone -fcf-protection=full -mshstk -O2 -g -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing $(WARN) -Iguest/lib
GUEST_LDFLAGS := -m64 -nostdlib -static -no-pie -Wl,-T,guest/guest.ld \
	-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments

# C code may not touch SSE/x87 registers, except in programs listed in
# GUEST_FPU_PROGS (the library enables SSE at boot, so they may).
GUEST_FPU       := -mgeneral-regs-only
GUEST_FPU_PROGS := xsave

GUEST_LIB_SRCS := $(sort $(wildcard guest/lib/*.c guest/lib/*.S))
GUEST_LIB_OBJS := $(patsubst guest/%,$(GUEST_B)/obj/%.o,$(basename $(GUEST_LIB_SRCS)))
GUEST_TESTS    := $(sort $(basename $(notdir $(wildcard guest/tests/*.c))))
GUEST_BENCHES  := $(sort $(basename $(notdir $(wildcard guest/bench/*.c))))
GUEST_PROGS    := $(GUEST_TESTS) $(GUEST_BENCHES) demo
GUEST_ELFS     := $(GUEST_PROGS:%=$(GUEST_B)/%.elf)

guests: $(GUEST_ELFS)

$(foreach p,$(GUEST_FPU_PROGS),$(GUEST_B)/obj/tests/$(p).o): GUEST_FPU :=

$(GUEST_B)/obj/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_FPU) -MMD -MP -c -o $@ $<

$(GUEST_B)/obj/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

GUEST_LINK = @mkdir -p $(dir $@) && \
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_TESTS:%=$(GUEST_B)/elf64/%.elf): $(GUEST_B)/elf64/%.elf: \
		$(GUEST_B)/obj/tests/%.o $(GUEST_LIB_OBJS) guest/guest.ld
	$(GUEST_LINK)

$(GUEST_BENCHES:%=$(GUEST_B)/elf64/%.elf): $(GUEST_B)/elf64/%.elf: \
		$(GUEST_B)/obj/bench/%.o $(GUEST_LIB_OBJS) guest/guest.ld
	$(GUEST_LINK)

$(GUEST_B)/elf64/demo.elf: $(GUEST_B)/obj/demo.o $(GUEST_LIB_OBJS) guest/guest.ld
	$(GUEST_LINK)

# The 32-bit kit: guests that stay in 32-bit protected mode (legacy
# mode), for what exists only there or on CPUs without long mode, e.g.
# task switches. guest/tests32/NAME.c is linked with the portable part of
# guest/lib and guest/lib32 (startup, GDT/TSS, IDT, FAULT_TRY, 32-bit
# paging) straight into the ELF32 image $(GUEST_B)/NAME.elf. lib32's
# headers come first, so "desc.h", "idt.h", "fault.h" and "paging.h" are
# the 32-bit ones. No libgcc: 32-bit guest code must not divide u64.
GUEST32_CFLAGS  := $(filter-out -m64 -mcmodel=small -Iguest/lib,$(GUEST_CFLAGS)) \
	-m32 -Iguest/lib32 -Iguest/lib
GUEST32_LDFLAGS := $(filter-out -m64,$(GUEST_LDFLAGS)) -m32
GUEST32_SHARED  := boot alloc gdt pic printf report serial string
GUEST32_LIB_SRCS := $(GUEST32_SHARED:%=guest/lib/%.c) \
	$(sort $(wildcard guest/lib32/*.c guest/lib32/*.S))
GUEST32_LIB_OBJS := $(patsubst guest/%,$(GUEST_B)/obj32/%.o,$(basename $(GUEST32_LIB_SRCS)))
GUEST32_TESTS    := $(sort $(basename $(notdir $(wildcard guest/tests32/*.c))))

guests: $(GUEST32_TESTS:%=$(GUEST_B)/%.elf)

$(GUEST_B)/obj32/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST32_CFLAGS) $(GUEST_FPU) -MMD -MP -c -o $@ $<

$(GUEST_B)/obj32/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST32_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST32_TESTS:%=$(GUEST_B)/%.elf): $(GUEST_B)/%.elf: \
		$(GUEST_B)/obj32/tests32/%.o $(GUEST32_LIB_OBJS) guest/guest.ld
	@mkdir -p $(dir $@) && $(GUEST_CC) $(GUEST32_LDFLAGS) -o $@ $(filter %.o,$^)

# Multiboot loaders (QEMU's included) take ELF32 only; the 64-bit code is
# carried as is, and the program headers keep their (identity) addresses.
$(GUEST_B)/%.elf: $(GUEST_B)/elf64/%.elf
	$(GUEST_OBJCOPY) -O elf32-i386 --strip-debug $< $@

-include $(wildcard $(GUEST_B)/obj/*.d $(GUEST_B)/obj/*/*.d $(GUEST_B)/obj32/*/*.d)
