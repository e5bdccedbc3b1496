# The nginx dynamic module, built by nginx's own build system from the
# installed nginx's sources and configure flags (so the module's signature
# matches the nginx binary), and linked with libinbox.
#
# nginx is configured once; later runs only recompile what changed and
# relink, also when only libinbox.a changed.

NGX_SRC         := /usr/share/nginx/src
NGX_BUILD       := $(BUILD)/nginx-src
NGX_INBOX_SO    := $(BUILD)/ngx_http_inbox_module.so
NGX_INBOX_SRC   := $(wildcard ngx_inbox_module/*.c ngx_inbox_module/*.h)

all: $(NGX_INBOX_SO)

# configure writes into the source tree: work on a copy, made once.
$(NGX_BUILD)/configure:
	@mkdir -p $(NGX_BUILD)
	cp -r $(NGX_SRC)/. $(NGX_BUILD)/

$(NGX_BUILD)/objs/Makefile: ngx_inbox_module/config $(NGX_BUILD)/configure
	cd $(NGX_BUILD) && INBOX_LIBINBOX=$(abspath $(LIBINBOX)) bash -c \
	    '. ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR)/ngx_inbox_module' \
	    > configure.log 2>&1 || { tail -20 configure.log; exit 1; }

# Removing the old .so makes nginx's make link it again against libinbox.a
# (its own rules know only the module's objects).  The new file is renamed
# into place: writing over a running nginx's mapped module crashes it.
$(NGX_INBOX_SO): $(NGX_BUILD)/objs/Makefile $(NGX_INBOX_SRC) $(LIBINBOX)
	rm -f $(NGX_BUILD)/objs/ngx_http_inbox_module.so
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile -j2 modules
	cp $(NGX_BUILD)/objs/ngx_http_inbox_module.so $@.tmp
	mv -f $@.tmp $@
