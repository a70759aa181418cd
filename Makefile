# cgiwrap: PHP-style connection handling for any CGI program.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CC	?= cc
CFLAGS	?= -O2 -g
O	?= build

PKGS	 = libconfuse fcgi
WARN	 = -Isrc -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2
# libconfuse reads the configuration file, libfcgi serves FastCGI mode:
# a dynamic build opens each when its part first runs (src/libs.c), so
# that CGI mode, an exec per request, loads neither while the cache of
# its configuration is fresh.  A static build cannot open them:
# LIBS_LINKED=yes links them in, the default under STATIC and LIBS_STATIC.
LIBS_LINKED ?= $(if $(STATIC)$(LIBS_STATIC),yes)
ALL_CFLAGS = $(WARN) -D_GNU_SOURCE $(if $(LIBS_LINKED),-DLIBS_LINKED) \
	     $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Linked dynamically, as Debian wants; STATIC=-static saves the dynamic
# loader's work at every request (README, "Install"), but glibc then warns
# that libconfuse's getpwnam, libfcgi's gethostbyname and our getaddrinfo
# need its shared NSS modules at run time anyway.  LIBS_STATIC=yes links
# only libconfuse and libfcgi statically, glibc shared.
STATIC	?=
LIBS_STATIC ?=
PKGLIBS	 = $(if $(LIBS_LINKED),$(shell pkg-config $(if $(STATIC),--static) \
	     --libs $(PKGS) 2>/dev/null || echo -lconfuse -lfcgi))
# Every symbol bound once at load, before the supervisor's fork: bound
# lazily, front and supervisor would each look up the functions they call
# first, and copy the page of the table they write (0.1 ms a request).
# The build ID, which Debian's toolchain writes anyway, marks the
# configuration's cache as this binary's (src/cfgcache.c).
ALL_LDFLAGS = $(STATIC) -Wl,-z,now -Wl,--build-id $(LDFLAGS)
# Linked dynamically, libc comes first in the loader's search: every
# symbol we and the libraries import is libc's.
SHARED_LIBS = -lc $(PKGLIBS)
LINKED_IN = -Wl,-Bstatic $(PKGLIBS) -Wl,-Bdynamic
ALL_LDLIBS = $(if $(STATIC),$(PKGLIBS),$(if $(LIBS_STATIC),$(LINKED_IN),\
	     $(SHARED_LIBS))) $(LDLIBS)

SRCS	 = $(wildcard src/*.c)
OBJS	 = $(SRCS:%.c=$(O)/%.o)
UNITS	 = $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(wildcard tests/unit/t_*.c))

BIN	 = $(if $(filter build,$(O)),cgiwrap,$(O)/cgiwrap)

SAN	 = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all

all: $(BIN)

# What the objects of $(O) were built and linked with: another STATIC,
# LIBS_STATIC, LIBS_LINKED or CFLAGS in the same place rebuilds them.
FLAGS	 = $(ALL_CFLAGS) $(CPPFLAGS) $(ALL_LDFLAGS) $(ALL_LDLIBS)
$(O)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS)' | cmp -s - $@ || echo '$(FLAGS)' > $@
FORCE:

$(BIN): $(O)/cgiwrap.o $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(O)/%.o: %.c $(wildcard src/*.h) $(O)/flags | libs
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# The libraries' Debian packages (pkg-config name:package), checked before
# the compiler would stop at a missing header.
DEBPKGS	 = libconfuse:libconfuse-dev fcgi:libfcgi-dev
libs:
	@missing=; command -v pkg-config >/dev/null || missing=" pkg-config"; \
	for p in $(DEBPKGS); do \
		pkg-config --exists $${p%%:*} 2>/dev/null || \
		    missing="$$missing $${p#*:}"; \
	done; \
	[ -z "$$missing" ] || { \
		echo "missing Debian packages:$$missing" >&2; \
		echo "install them with: make deps (as root)," \
		    "or apt-get install$$missing" >&2; \
		exit 1; }

# The unit tests link dynamically, so valgrind can check them.
$(O)/tests/unit/%: tests/unit/%.c tests/unit/tap.h $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJS) $(PKGLIBS)

units: $(UNITS)

# The Debian packages the build and the tests need (installed when missing).
deps:
	@tests/deps.sh

# Unit tests, then the integration suite, with the plain build and again
# with AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	@$(MAKE) --no-print-directory all units
	@$(MAKE) --no-print-directory sanitize-build
	@tests/run.sh build build/asan

# The main job end to end: a real Apache on 127.0.0.1:8080 (DEMO_PORT)
# runs three legacy scripts through cgiwrap, walked through one request
# each, then serves until Ctrl-C (DEMO_KEEP=0: stops after the walk).
demo: deps
	@$(MAKE) --no-print-directory all
	@perl etc/demo/demo.pl

test: all units
	@tests/run.sh build

# The edit-test loop: the units and the tests that play the server
# themselves (no web server, no fuzzing), in one mode (pipes, as mod_cgi).
check-quick: all units
	@CGIWRAP=$(CURDIR)/cgiwrap CGIWRAP_UNITS=$(CURDIR)/build/tests/unit \
	    HARNESS_MODES=pipes prove -j2 tests/unit/*.t \
	    $$(grep -l 'use Harness;' tests/integ/core-*.t \
	    tests/integ/faults-*.t tests/integ/control.t)

sanitize-build:
	@$(MAKE) --no-print-directory O=build/asan CFLAGS="$(SAN)" \
	    LDFLAGS="$(SAN)" STATIC= all units

sanitize: deps sanitize-build
	@tests/run.sh build/asan

# Figures side by side with their targets (not part of check).
# The tests' packages and cgit (tests/deps.sh bench), then the build.
bench:
	@tests/deps.sh bench
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.pl

# The Debian package, built in a copy of the tree (dpkg-buildpackage
# cleans the tree it builds in and writes beside it), copied to DEBOUT.
DEBDIR	?= $(O)/deb
DEBOUT	?= .
deb:
	@tests/deps.sh deb
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/src
	tar -cf - --exclude=./build --exclude=./cgiwrap --exclude='./*.deb' \
	    --exclude=./.git . | tar -xf - -C $(DEBDIR)/src
	cd $(DEBDIR)/src && dpkg-buildpackage -us -uc -b
	cp $(DEBDIR)/cgiwrap_*.deb $(DEBOUT)/

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 0755 cgiwrap $(DESTDIR)$(BINDIR)/cgiwrap
	install -m 0644 man/cgiwrap.8 $(DESTDIR)$(MANDIR)/man8/cgiwrap.8
	install -m 0644 man/cgiwrap.conf.5 $(DESTDIR)$(MANDIR)/man5/cgiwrap.conf.5

# Apache's suEXEC helper (cgiwrap.8, SUEXEC MODE): an alternative for
# SUEXEC_LINK, below the priority of Debian's apache2-suexec-* packages (10),
# setuid root and runnable by the web server's group only, as Debian's.
SUEXEC_LINK ?= /usr/lib/apache2/suexec
SUEXEC_BIN ?= $(PREFIX)/lib/cgiwrap/suexec
SUEXEC_GROUP ?= www-data
SUEXEC_PRIORITY ?= 5

install-suexec: all
	install -d $(DESTDIR)$(dir $(SUEXEC_BIN))
	install -o root -g $(SUEXEC_GROUP) -m 4754 cgiwrap \
	    $(DESTDIR)$(SUEXEC_BIN)
	update-alternatives --install $(SUEXEC_LINK) suexec $(SUEXEC_BIN) \
	    $(SUEXEC_PRIORITY)

uninstall-suexec:
	update-alternatives --remove suexec $(SUEXEC_BIN)
	rm -f $(DESTDIR)$(SUEXEC_BIN)
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(dir $(SUEXEC_BIN))

clean:
	rm -rf build cgiwrap

.PHONY: all units libs deps check check-quick demo test sanitize FORCE \
	sanitize-build deb install install-suexec uninstall-suexec clean

# Fuzzing (libFuzzer, clang): make fuzz FUZZ_SECONDS=N
-include tests/fuzz/fuzz.mk
