# The nginx dynamic module, built by nginx's own build system from the
# installed nginx's sources and configure flags (so the module's signature
# matches the nginx binary), and linked with libinbox.
#
# NGX_SRC is the nginx source tree, Debian's nginx-dev by default; for
# another nginx, its own version's sources, with NGINX naming its binary
# (configure-nginx takes its flags from `nginx -V` when the sources have
# no conf_flags):  make NGX_SRC=/src/nginx-1.26.2 NGINX=/opt/nginx/sbin/nginx
#
# nginx is configured once; later runs only recompile what changed and
# relink, also when only libinbox.a changed (another NGX_SRC: remove
# build/nginx-src first).

NGX_SRC         ?= /usr/share/nginx/src
NGINX           ?= nginx
NGX_BUILD       := $(BUILD)/nginx-src
NGX_INBOX_SO    := $(BUILD)/ngx_http_inbox_module.so
NGX_INBOX_SRC   := $(wildcard ngx_inbox_module/*.c ngx_inbox_module/*.h)

all: $(NGX_INBOX_SO)

# configure writes into the source tree: work on a copy, made once.
$(NGX_BUILD)/configure:
	@mkdir -p $(NGX_BUILD)
	cp -r $(NGX_SRC)/. $(NGX_BUILD)/

$(NGX_BUILD)/objs/Makefile: ngx_inbox_module/config \
                            ngx_inbox_module/configure-nginx \
                            $(NGX_BUILD)/configure
	cd $(NGX_BUILD) && INBOX_LIBINBOX=$(abspath $(LIBINBOX)) \
	    NGINX='$(NGINX)' $(CURDIR)/ngx_inbox_module/configure-nginx \
	        $(CURDIR)/ngx_inbox_module \
	    > configure.log 2>&1 || { tail -20 configure.log; exit 1; }

# Removing the old .so makes nginx's make link it again against libinbox.a
# (its own rules know only the module's objects).  The new file is renamed
# into place: writing over a running nginx's mapped module crashes it.
$(NGX_INBOX_SO): $(NGX_BUILD)/objs/Makefile $(NGX_INBOX_SRC) $(LIBINBOX)
	rm -f $(NGX_BUILD)/objs/ngx_http_inbox_module.so
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile -j2 modules
	cp $(NGX_BUILD)/objs/ngx_http_inbox_module.so $@.tmp
	mv -f $@.tmp $@
