# inbox: an SMS conversations inbox embedded in nginx.
#
#   make run    install what is missing, build, seed a demo and serve it
#   make test   install the test dependencies, build, run every test
#   make fuzz   fuzz the parsers of untrusted input (FUZZ_SECONDS each)
#
# Each part keeps its own rules in its build.mk; everything builds under
# build/ and runs under var/.

BUILD   := build
CC      ?= cc
PKGS    := yajl sqlite3 libmongoc-1.0 libbson-1.0 openssl libsodium libcurl \
           icu-uc icu-i18n

PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -fPIC $(WARN) \
           -Ilibinbox/include $(PKG_CFLAGS)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

.PHONY: all deps test-deps run test clean distclean
.DEFAULT_GOAL := all

all:

include libinbox/build.mk
include ws-server/build.mk
include sender/build.mk
include ngx_inbox_module/build.mk
include tests/build.mk
include bench/build.mk

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run

test: test-deps
	@$(MAKE) --no-print-directory all test-build
	@tests/run

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf var tests/node_modules
