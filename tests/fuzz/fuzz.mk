# libFuzzer harnesses (clang), included by the Makefile.
#
#   make fuzz-build          build every fuzzer into $(FUZZ_O)
#   make fuzz FUZZ_SECONDS=N run each for N seconds (default 60)
#
# The fuzzers are built with clang and -fsanitize=fuzzer,address,undefined
# from their own objects (FUZZ_O/obj), with the warning flags of the
# Makefile.  `make fuzz` grows a corpus per target in FUZZ_O/corpus from
# the seeds in tests/fuzz/corpus/TARGET and the regression inputs in
# tests/fuzz/regress/TARGET; a crash stops it, its input is left in
# FUZZ_O/artifacts/TARGET: fix the bug, then keep the input as
# tests/fuzz/regress/TARGET/NAME.  tests/integ/fuzz.t runs every fuzzer
# for a few seconds and every regression input once (make check).

FUZZ_CC		?= clang
FUZZ_O		?= build/fuzz
FUZZ_SECONDS	?= 60
FUZZ_TARGETS	 = cgihdr control values config handler

FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	 = $(WARN) -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
		   $(FUZZ_SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

# What the harnesses reach, with coverage instrumentation.
FUZZ_LIBSRC	 = src/parse.c src/cgihdr.c src/config.c src/cfgfile.c \
		   src/status.c src/policy.c src/target.c src/env.c src/log.c \
		   src/io.c src/libs.c
FUZZ_LIBOBJ	 = $(FUZZ_LIBSRC:%.c=$(FUZZ_O)/obj/%.o)
FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_LIBOBJ): $(FUZZ_O)/obj/%.o: %.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBOBJ) \
    $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBOBJ)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    corpus=$(FUZZ_O)/corpus/$$t art=$(FUZZ_O)/artifacts/$$t; \
	    mkdir -p $$corpus $$art || exit 1; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    regress=; [ -d tests/fuzz/regress/$$t ] && regress=tests/fuzz/regress/$$t; \
	    echo "== fuzz_$$t, $(FUZZ_SECONDS) s"; \
	    $(FUZZ_O)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-print_final_stats=1 -artifact_prefix=$$art/ $$dict \
		$$corpus tests/fuzz/corpus/$$t $$regress </dev/null || { \
		echo "fuzz_$$t failed; its input is in $$art/:"; ls $$art; \
		echo "fix the bug, then keep the input in" \
		    "tests/fuzz/regress/$$t/"; exit 1; }; \
	done

.PHONY: fuzz fuzz-build
