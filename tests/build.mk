# Unit tests: every tests/unit/test_*.c is one program, linked against the
# sanitized libinbox.  tests/run runs them and the Node.js suites.

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The wire tests' driver: one store operation against a URI, sanitized too
# (tests/wire/test_mongo_wire.py plays the MongoDB server).
WIRE_BIN   := $(BUILD)/tests/wire/store_op

# Libraries a test preloads into a process (LD_PRELOAD) to make a call
# fail that nothing outside can make fail.
SHIM_SRC   := $(wildcard tests/shim/*.c)
SHIM_LIB   := $(SHIM_SRC:tests/shim/%.c=$(BUILD)/tests/shim/%.so)

.PHONY: test-build
test-build: $(UNIT_BIN) $(WIRE_BIN) $(SHIM_LIB)

$(BUILD)/tests/shim/%.so: tests/shim/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared $< -o $@ -ldl

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(LIBINBOX_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Ilibinbox/src -Itests/unit $< -o $@ \
	    $(LIBINBOX_SAN) $(PKG_LIBS) -lpthread

# The sender's own parts, tested without its loop.
$(BUILD)/tests/test_sender_rate: tests/unit/test_sender_rate.c \
        sender/sender_rate.c sender/sender_rate.h tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Isender -Itests/unit $< \
	    sender/sender_rate.c -o $@

$(BUILD)/tests/test_sender_window: tests/unit/test_sender_window.c \
        sender/sender_window.c sender/sender_window.h tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Isender -Itests/unit $< \
	    sender/sender_window.c -o $@

$(BUILD)/tests/test_sender_refusals: tests/unit/test_sender_refusals.c \
        sender/sender_refusals.c sender/sender_refusals.h tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Isender -Itests/unit $< \
	    sender/sender_refusals.c -o $@

# The sender's carrier opt-outs, on a real SQLite store (sender.c, the
# process, not linked: the test has its own publish and log).
$(BUILD)/tests/test_sender_optouts: tests/unit/test_sender_optouts.c \
        sender/sender_optouts.c $(SENDER_HDR) tests/unit/check.h \
        $(LIBINBOX_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Isender -Itests/unit $< \
	    sender/sender_optouts.c -o $@ $(LIBINBOX_SAN) $(PKG_LIBS) -lpthread

# The sender's HTTP exchanges on its loop (libcurl's multi), against a
# carrier on loopback that the test plays.
$(BUILD)/tests/test_sender_transfer: tests/unit/test_sender_transfer.c \
        sender/sender_transfer.c sender/sender_loop.c \
        sender/sender_transfer.h sender/sender_loop.h tests/unit/check.h \
        $(LIBINBOX_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Isender -Itests/unit $< \
	    sender/sender_transfer.c sender/sender_loop.c -o $@ \
	    $(LIBINBOX_SAN) $(PKG_LIBS) -lpthread

# ws-server's wire frames, without libwebsockets.
$(BUILD)/tests/test_ws_frame: tests/unit/test_ws_frame.c \
        ws-server/ws_frame.c ws-server/ws_frame.h tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Iws-server -Itests/unit $< \
	    ws-server/ws_frame.c -o $@

# The rate limits' bucket arithmetic, without nginx.
$(BUILD)/tests/test_limit_bucket: tests/unit/test_limit_bucket.c \
        ngx_inbox_module/ngx_http_inbox_bucket.h tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Ingx_inbox_module -Itests/unit $< -o $@

$(WIRE_BIN): tests/wire/store_op.c $(LIBINBOX_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) $< -o $@ $(LIBINBOX_SAN) $(PKG_LIBS) \
	    -lpthread

include tests/fuzz/build.mk
