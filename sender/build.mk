# sender: the process that talks to carriers (build/sender), on libcurl's
# multi interface.  It links libinbox for the store, the carriers' wire
# formats and the event datagrams.

SENDER_SRC  := $(wildcard sender/*.c)
SENDER_HDR  := $(wildcard sender/*.h libinbox/include/inbox/*.h)
SENDER_OBJ  := $(SENDER_SRC:sender/%.c=$(BUILD)/obj/sender/%.o)
SENDER      := $(BUILD)/sender

all: $(SENDER)

$(BUILD)/obj/sender/%.o: sender/%.c $(SENDER_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(SENDER): $(SENDER_OBJ) $(LIBINBOX)
	$(CC) $(CFLAGS) $(SENDER_OBJ) -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread
