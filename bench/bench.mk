# Builds the benchmark programs; invoked by `make bench` in the top Makefile,
# which has built build/portwarden and the library objects first.
# Outputs go to $(OUTPUT)/bench; bench/run.py runs them.

OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
LIBBPF_A ?= $(firstword $(wildcard /usr/lib/$(shell $(CC) -dumpmachine 2>/dev/null)/libbpf.a /usr/lib64/libbpf.a /usr/lib/libbpf.a))
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE
BPF_CFLAGS ?= -g -O2 -Wall -Wextra -Wno-unused-parameter
LDLIBS += -lelf -lz

B := $(OUTPUT)/bench
# The top Makefile passes its LIB_OBJS; this default is for running bench.mk alone.
LIB_OBJS ?= $(patsubst src/%.c,$(OUTPUT)/%.o,$(filter-out src/main.c,$(wildcard src/*.c))) \
	$(wildcard $(OUTPUT)/services_table.o)

.DELETE_ON_ERROR:
.PHONY: all
all: $(B)/storm $(B)/floor $(B)/replay

$(B):
	@mkdir -p $@

$(B)/storm: bench/storm.c | $(B)
	$(CC) $(CFLAGS) $< -o $@

$(B)/floor.bpf.o: bench/floor.bpf.c include/portwarden.h | $(B)
	$(CLANG) $(BPF_CFLAGS) -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) \
		-c $< -o $(B)/floor.tmp.bpf.o
	$(BPFTOOL) gen object $@ $(B)/floor.tmp.bpf.o

$(B)/floor.skel.h: $(B)/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(B)/floor: bench/floor.c $(B)/floor.skel.h
	$(CC) $(CFLAGS) -I$(B) $< $(LIBBPF_A) $(LDLIBS) -o $@

# The replay links the tracer's own library objects: the code it measures.
$(B)/replay: bench/replay.c $(LIB_OBJS) | $(B)
	$(CC) $(CFLAGS) -Iinclude -Isrc $< $(LIB_OBJS) $(LIBBPF_A) $(LDLIBS) -o $@
