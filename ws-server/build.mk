# ws-server: the libwebsockets push server (build/ws-server).  It links the
# position independent libinbox for tickets and event frames.

WS_SERVER_SRC  := $(wildcard ws-server/*.c)
WS_SERVER_HDR  := $(wildcard ws-server/*.h libinbox/include/inbox/*.h)
WS_SERVER_OBJ  := $(WS_SERVER_SRC:ws-server/%.c=$(BUILD)/obj/ws-server/%.o)
WS_SERVER      := $(BUILD)/ws-server

WS_SERVER_CFLAGS = $(shell pkg-config --cflags libwebsockets libuv 2>/dev/null)
WS_SERVER_LIBS   = $(shell pkg-config --libs libwebsockets libuv 2>/dev/null)

all: $(WS_SERVER)

$(BUILD)/obj/ws-server/%.o: ws-server/%.c $(WS_SERVER_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WS_SERVER_CFLAGS) -c $< -o $@

$(WS_SERVER): $(WS_SERVER_OBJ) $(LIBINBOX)
	$(CC) $(CFLAGS) $(WS_SERVER_OBJ) -o $@ $(LIBINBOX) $(PKG_LIBS) \
	    $(WS_SERVER_LIBS) -lpthread
