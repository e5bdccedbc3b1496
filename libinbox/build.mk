# libinbox: the core, as a static library (position independent, so the
# nginx module can link it), a sanitized copy for the unit tests, and
# inboxctl.

LIBINBOX_SRC   := $(wildcard libinbox/src/*.c)
LIBINBOX_HDR   := $(wildcard libinbox/include/inbox/*.h libinbox/src/*.h)
LIBINBOX_OBJ   := $(LIBINBOX_SRC:libinbox/src/%.c=$(BUILD)/obj/libinbox/%.o)
LIBINBOX_ASAN  := $(LIBINBOX_SRC:libinbox/src/%.c=$(BUILD)/asan/libinbox/%.o)

LIBINBOX       := $(BUILD)/libinbox.a
LIBINBOX_SAN   := $(BUILD)/asan/libinbox.a
INBOXCTL       := $(BUILD)/inboxctl

all: $(LIBINBOX) $(INBOXCTL)

$(BUILD)/obj/libinbox/%.o: libinbox/src/%.c $(LIBINBOX_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilibinbox/src -c $< -o $@

$(BUILD)/asan/libinbox/%.o: libinbox/src/%.c $(LIBINBOX_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) -Ilibinbox/src -c $< -o $@

# The build's name (inbox_build, build.h): build.c is compiled again
# whenever `git describe` changes, as the file written here only then does.
INBOX_BUILD_ID := $(shell git describe --always --dirty 2>/dev/null \
                    || echo unknown)
INBOX_BUILD_FILE := $(BUILD)/build-id

$(INBOX_BUILD_FILE): FORCE
	@mkdir -p $(@D)
	@echo '$(INBOX_BUILD_ID)' | cmp -s - $@ \
	    || echo '$(INBOX_BUILD_ID)' > $@

$(BUILD)/obj/libinbox/build.o $(BUILD)/asan/libinbox/build.o: \
    $(INBOX_BUILD_FILE)
$(BUILD)/obj/libinbox/build.o $(BUILD)/asan/libinbox/build.o: \
    CFLAGS += -DINBOX_BUILD_ID='"$(INBOX_BUILD_ID)"'

.PHONY: FORCE
FORCE:

$(LIBINBOX): $(LIBINBOX_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBINBOX_SAN): $(LIBINBOX_ASAN)
	@rm -f $@
	ar rcs $@ $^

$(INBOXCTL): libinbox/cli/inboxctl.c $(LIBINBOX)
	$(CC) $(CFLAGS) $< -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread
