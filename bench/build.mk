# bench: the webhook load tool (build/webhook-load), the store's own
# ingest timer (build/store-ingest), the large store's maker for the
# thread list's measures (build/store-generate, bench/search) and its
# timer in the store alone (build/store-search).  `make bench` builds everything and
# runs bench/run: nginx with the inbox module on a fresh store, measured.
# `make bench-replies` runs bench/replies (replies end to end),
# `make bench-campaign` bench/campaign (a 100,000-recipient campaign).

WEBHOOK_LOAD      := $(BUILD)/webhook-load
WEBHOOK_LOAD_SRC  := bench/webhook_load.c bench/load_request.c \
                     bench/load_response.c bench/load_stats.c \
                     bench/load_selftest.c
WEBHOOK_LOAD_HDR  := $(wildcard bench/*.h)
WEBHOOK_LOAD_OBJ  := $(WEBHOOK_LOAD_SRC:bench/%.c=$(BUILD)/obj/bench/%.o)
STORE_INGEST      := $(BUILD)/store-ingest
STORE_GENERATE    := $(BUILD)/store-generate
STORE_SEARCH      := $(BUILD)/store-search

.PHONY: bench bench-replies bench-campaign

$(BUILD)/obj/bench/%.o: bench/%.c $(WEBHOOK_LOAD_HDR) $(LIBINBOX_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(WEBHOOK_LOAD): $(WEBHOOK_LOAD_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ \
	    $(shell pkg-config --libs openssl yajl) -lpthread

$(STORE_INGEST): $(BUILD)/obj/bench/store_ingest.o $(LIBINBOX)
	$(CC) $(CFLAGS) $< -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread

$(STORE_GENERATE): $(BUILD)/obj/bench/store_generate.o $(LIBINBOX)
	$(CC) $(CFLAGS) $< -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread

$(STORE_SEARCH): $(BUILD)/obj/bench/store_search.o $(LIBINBOX)
	$(CC) $(CFLAGS) $< -o $@ $(LIBINBOX) $(PKG_LIBS) -lpthread

bench:
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory all $(WEBHOOK_LOAD) $(STORE_INGEST)
	bench/run

# The realtime push bench (bench/wsbench, see its ORIGIN.md): ws-server
# beside nginx + nchan and a null floor.  nchan comes with
# scripts/install-deps --bench, not with `make test`.
.PHONY: bench-ws
bench-ws:
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory all
	bench/wsbench/run-inbox.sh rates
	bench/wsbench/run-inbox.sh memory

# replies end to end through the sender and the carrier simulator
# (bench/replies; about a minute); it exits non-zero when a reply was
# lost, sent twice, or its delivered frame never reached the socket
bench-replies:
	@$(MAKE) --no-print-directory all
	bench/replies

# a campaign through the sender and the carrier simulator while the inbox
# is in use (bench/campaign; RECIPIENTS=5000 for a short run, 100,000 by
# default); it exits non-zero unless every recipient got it exactly once
bench-campaign:
	@$(MAKE) --no-print-directory all
	bench/campaign
