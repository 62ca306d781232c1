# cetvm: one plain Makefile. `make`, `make run`, `make check`, `make bench`.
# SANITIZE=1 builds everything with ASan+UBSan into build-san/.

CC      ?= gcc
WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
           -Wstrict-prototypes -Wwrite-strings -Wundef
CFLAGS  := -std=gnu11 -O3 -g $(WARN) -D_GNU_SOURCE -fno-strict-aliasing
LDFLAGS :=
LDLIBS  := -lm

ifeq ($(SANITIZE),1)
B       := build-san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BIN     := $(B)/cetvm
else
B       := build
BIN     := cetvm
endif

SRCS      := $(sort $(wildcard src/*.c src/*/*.c))
OBJS      := $(SRCS:%.c=$(B)/%.o)
LIB_OBJS  := $(filter-out $(B)/src/main.o,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/unit/%)

all: $(BIN) guests

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libcetvm.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/unit/%: tests/unit/%.c $(B)/libcetvm.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(B)/libcetvm.a $(LDLIBS)

-include $(OBJS:.o=.d)

# Guests are built by guest/guest.mk, included here (same make, no recursion).
include guest/guest.mk

unit: $(UNIT_BINS)

# Test tools (tests/tools/NAME.c -> $(B)/tools/NAME), used by the tiers.
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(wildcard tests/tools/*.c))
$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

tools: $(TOOL_BINS)

run: $(BIN) guests
	./$(BIN) -kernel $(GUEST_B)/demo.elf -serial stdio \
	    -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot; \
	    s=$$?; [ $$s -eq 1 ] || [ $$s -eq 0 ] || exit $$s

check: $(BIN) guests unit tools
	@CETVM=./$(BIN) B=$(B) GUEST_B=$(GUEST_B) tests/run-all

bench: cetvm guests
	bench/run

clean:
	rm -rf build build-san cetvm

.PHONY: all unit tools run check bench clean guests
