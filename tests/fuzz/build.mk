# Fuzz targets (tests/fuzz/fuzz_*.c).  make test builds each with
# replay.c under ASan and UBSan as build/tests/test_fuzz_TARGET, which
# replays its seeds like a unit test.  make fuzz builds them for libFuzzer
# with clang (scripts/install-deps --fuzz installs it) against a libinbox
# instrumented for coverage, and runs each for FUZZ_SECONDS
# (tests/fuzz/run).

FUZZ_SRC      := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS  := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY   := $(FUZZ_TARGETS:%=$(BUILD)/tests/test_fuzz_%)
FUZZ_SECONDS  ?= 60

# ws-server's Origin check is a target too: its one file, linked in
FUZZ_EXTRA    := ws-server/ws_origin.c

test-build: $(FUZZ_REPLAY)

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c \
        tests/fuzz/fuzz.h $(FUZZ_EXTRA) $(LIBINBOX_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Iws-server -Itests/fuzz \
	    -DFUZZ_SEEDS='"tests/fuzz/seeds/$*"' $< tests/fuzz/replay.c \
	    $(FUZZ_EXTRA) -o $@ $(LIBINBOX_SAN) $(PKG_LIBS) -lpthread

FUZZ_CC       := clang
FUZZ_FLAGS    := -O1 -g -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ  := $(LIBINBOX_SRC:libinbox/src/%.c=$(BUILD)/fuzz/libinbox/%.o)
FUZZ_LIB      := $(BUILD)/fuzz/libinbox.a
FUZZ_BIN      := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

$(BUILD)/fuzz/libinbox/%.o: libinbox/src/%.c $(LIBINBOX_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS) \
	    -fsanitize=fuzzer-no-link -Ilibinbox/src -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_EXTRA) \
        $(FUZZ_LIB)
	$(FUZZ_CC) $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	    -Iws-server -Itests/fuzz $< $(FUZZ_EXTRA) -o $@ $(FUZZ_LIB) \
	    $(PKG_LIBS) -lpthread

# Installs clang when it is missing, builds, then tests/fuzz/run.
fuzz:
	@scripts/install-deps --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)
