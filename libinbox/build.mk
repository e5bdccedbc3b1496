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

$(LIBINBOX): $(LIBINBOX_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBINBOX_SAN): $(LIBINBOX_ASAN)
	@rm -f $@
	ar rcs $@ $^

$(INBOXCTL): libinbox/cli/inboxctl.c $(LIBINBOX)
	$(CC) $(CFLAGS) $< -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread
