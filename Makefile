# portwarden: build the BPF object, its skeleton and the one static binary.
# `make` builds, `sudo make run` traces, `sudo make test` runs every test.
# V=1 shows full commands.

# SANITIZE=1 builds with ASan+UBSan into its own directory so instrumented
# and plain objects never mix.
ifeq ($(SANITIZE),1)
OUTPUT ?= build/san
endif
OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
DESTDIR ?=
# systemd unit directory (make install); /usr/local/lib/systemd/system is on systemd's path.
UNITDIR ?= $(PREFIX)/lib/systemd/system
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := vmlinux/$(ARCH)
LIBBPF_A ?= $(firstword $(wildcard /usr/lib/$(shell $(CC) -dumpmachine 2>/dev/null)/libbpf.a /usr/lib64/libbpf.a /usr/lib/libbpf.a))

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE
CPPFLAGS += -Iinclude -Isrc -I$(OUTPUT) -MMD -MP
BPF_CFLAGS ?= -g -O2 -Wall -Wextra -Wno-unused-parameter
LDLIBS += -lelf -lz

ifeq ($(SANITIZE),1)
# -fno-sanitize-recover: a UBSan finding ends the run, so the test fails.
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all
export UBSAN_OPTIONS ?= print_stacktrace=1
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Userspace modules, one job each (see README "Where things live").
LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
# The embedded IANA service table, generated from the committed data file.
LIB_OBJS += $(OUTPUT)/services_table.o
BIN := $(OUTPUT)/portwarden
SKEL := $(OUTPUT)/portwarden.skel.h
BPF_OBJ := $(OUTPUT)/portwarden.bpf.o

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.PHONY: all deps test-deps run test unit integration vmlinux clean install check-root vmtest valgrind fuzz fuzz-regress soak bench bench-undelivered

all: $(BIN)

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/portwarden.bpf.c $(wildcard bpf/*.h) include/portwarden.h $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Iinclude -I$(VMLINUX_DIR) -c $< -o $(OUTPUT)/portwarden.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(OUTPUT)/portwarden.tmp.bpf.o

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name portwarden_bpf > $@

# Objects that include the skeleton must wait for it.
$(OUTPUT)/loader.o $(OUTPUT)/main.o: $(SKEL)

$(OUTPUT)/%.o: src/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUTPUT)/services_table.c: data/iana-services.tsv scripts/gen-services.sh | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)scripts/gen-services.sh $< > $@

$(OUTPUT)/services_table.o: $(OUTPUT)/services_table.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BIN): $(OUTPUT)/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBBPF_A) $(LDLIBS) -o $@

# Unit tests: each tests/unit/test_X.c links against every module but main.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) $(LIBBPF_A) $(LDLIBS) -lcmocka -o $@

# Regenerate the committed vmlinux.h from this machine's kernel BTF.
vmlinux:
	$(Q)mkdir -p $(VMLINUX_DIR)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_DIR)/vmlinux.h

# Install the Debian packages the build (deps) and the tests (test-deps) need;
# when not root, print the apt-get command instead.
deps:
	$(Q)scripts/deps.sh build

test-deps:
	$(Q)scripts/deps.sh test

run: deps all check-root
	$(BIN) $(ARGS)

check-root:
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "portwarden: loading BPF programs needs root (CAP_BPF, CAP_PERFMON): run 'sudo make $(MAKECMDGOALS)'" >&2; exit 1; fi

unit: $(UNIT_BINS)
	$(Q)scripts/run-unit.sh $(UNIT_BINS)

# Every unit test under valgrind memcheck: any error or leak fails it.
VALGRIND ?= valgrind -q --error-exitcode=1 --leak-check=full
valgrind:
	$(Q)if [ "$(SANITIZE)" = 1 ]; then echo "valgrind: not with SANITIZE=1 (ASan binaries do not run under valgrind)" >&2; exit 2; fi
	$(Q)scripts/deps.sh valgrind
	$(Q)$(MAKE) --no-print-directory $(UNIT_BINS)
	$(Q)UNIT_WRAPPER="$(VALGRIND)" scripts/run-unit.sh $(UNIT_BINS)

# libFuzzer targets (tests/fuzz/fuzz_*.c): clang with ASan+UBSan, every
# module built again with coverage into $(FUZZ_DIR). `make fuzz` runs each for
# FUZZ_SECONDS; `make fuzz-regress` replays the committed corpora once.
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJS := $(patsubst $(OUTPUT)/%.o,$(FUZZ_DIR)/obj/%.o,$(LIB_OBJS))
.SECONDARY: $(FUZZ_LIB_OBJS)

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/loader.o: $(SKEL)

$(FUZZ_DIR)/obj/%.o: src/%.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(CPPFLAGS) -Wall -Wextra -std=gnu11 -D_GNU_SOURCE $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/services_table.o: $(OUTPUT)/services_table.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(CPPFLAGS) -std=gnu11 $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(CPPFLAGS) -MF $@.d -Wall -Wextra -std=gnu11 -D_GNU_SOURCE $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		$< $(FUZZ_LIB_OBJS) $(LIBBPF_A) $(LDLIBS) -o $@

fuzz:
	$(Q)scripts/deps.sh fuzz
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)
	$(Q)scripts/run-fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_DIR)/work $(FUZZ_BINS)

fuzz-regress:
	$(Q)scripts/deps.sh fuzz
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)
	$(Q)scripts/run-fuzz.sh regress $(FUZZ_BINS)

# Small C peers the integration tests run (e.g. io_uring binds).
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(OUTPUT)/tests/helpers/%,$(wildcard tests/helpers/*.c))

$(OUTPUT)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# The benchmark's connection storm doubles as a test peer (test_nesting.py).
STORM := $(OUTPUT)/bench/storm
$(STORM): bench/storm.c
	$(Q)$(MAKE) --no-print-directory -f bench/bench.mk OUTPUT=$(OUTPUT) $@

integration: $(BIN) $(TEST_HELPERS) $(STORM) check-root
	$(Q)PORTWARDEN=$(abspath $(BIN)) PW_HELPERS=$(abspath $(OUTPUT))/tests/helpers \
		PW_STORM=$(abspath $(STORM)) PW_INSTRUMENTED=$(if $(SANITIZE),1,) \
		$(PYTHON) -m pytest -q tests/integration

# Benchmarks against no tracer, the floor and the peers (docs/performance.md);
# not part of `make test`. BENCH_ARGS=--quick for a smoke run.
bench: $(BIN) $(LIB_OBJS) check-root
	$(Q)$(MAKE) --no-print-directory -f bench/bench.mk OUTPUT=$(OUTPUT) LIB_OBJS="$(LIB_OBJS)"
	$(Q)$(PYTHON) bench/run.py --build $(OUTPUT) $(BENCH_ARGS)

# Which state changes reach no BPF program, and in whose context: portwarden
# beside ftrace on the same storms (docs/performance.md, "Changes the kernel
# does not deliver"). UNDELIVERED_ARGS="--runs 20 --load" for more.
UNDELIVERED_ARGS ?= --runs 10 --load
bench-undelivered: $(BIN) check-root
	$(Q)$(MAKE) --no-print-directory -f bench/bench.mk OUTPUT=$(OUTPUT) $(OUTPUT)/bench/storm
	$(Q)$(PYTHON) bench/undelivered.py --build $(OUTPUT) $(UNDELIVERED_ARGS)

# Minutes of connection storm under the tracer: RSS over time and loss
# (issue 7). Not part of `make test`. SOAK_MINUTES=5 by default.
SOAK_MINUTES ?= 5
soak: $(BIN) check-root
	$(Q)$(MAKE) --no-print-directory -f bench/bench.mk OUTPUT=$(OUTPUT) $(OUTPUT)/bench/storm
	$(Q)$(PYTHON) scripts/soak.py --tracer $(BIN) --storm $(OUTPUT)/bench/storm \
		--minutes $(SOAK_MINUTES) --out $(OUTPUT)/soak/result.json

# The integration suite again on Debian's 6.1 kernel under qemu; not part of
# `make test` (see docs/vmtest.md). VMTEST_ARGS="--kernel PKG" picks another.
# Unattended from a fresh clone: build packages first, then the binary and
# the test helpers the guest runs; the script installs qemu and debootstrap.
vmtest: check-root
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory $(BIN) $(TEST_HELPERS) $(STORM)
	$(Q)PORTWARDEN=$(abspath $(BIN)) VMTEST_DIR=$(abspath $(OUTPUT))/vmtest scripts/vmtest.sh $(VMTEST_ARGS)

# `sudo make test` is what CI runs (.ci/run): build, unit tests, the
# integration suite on this kernel; then, unless TEST_QUICK=1 (or under
# SANITIZE=1, which is one of the steps), unit tests under valgrind, the fuzz
# regression corpora and a short fuzz pass, and everything again under
# ASan+UBSan. The second kernel (make vmtest, 6-8 minutes of emulation that
# needs a Debian mirror) is run apart, see docs/vmtest.md.
CI_FUZZ_SECONDS ?= 10
test: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration
ifneq ($(SANITIZE)$(TEST_QUICK),)
	$(Q)echo "test: quick set done (SANITIZE=$(SANITIZE) TEST_QUICK=$(TEST_QUICK))"
else
	$(Q)echo "== valgrind: unit tests under memcheck"
	$(Q)$(MAKE) --no-print-directory valgrind
	$(Q)echo "== fuzz: committed corpora, then $(CI_FUZZ_SECONDS) s per target"
	$(Q)$(MAKE) --no-print-directory fuzz-regress
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
	$(Q)echo "== SANITIZE=1: build, unit and integration under ASan+UBSan"
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 test
	$(Q)echo "test: all passed"
endif

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/portwarden
	install -d $(DESTDIR)$(UNITDIR)
	sed 's#/usr/local/sbin/portwarden#$(PREFIX)/sbin/portwarden#' dist/portwarden.service \
		> $(DESTDIR)$(UNITDIR)/portwarden.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/portwarden.service

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d)
-include $(wildcard $(OUTPUT)/fuzz/obj/*.d $(OUTPUT)/fuzz/*.d)
