# hamf — plain Makefile. `make` builds build/hamf and build/libhamf.a.
#   make demo        install deps, build, run the HAMF workflow on sample data
#   make check       install deps, build, run every test
#   make check-asan  the same suite under ASan+UBSan (build-asan/)
#   make install     PREFIX=/usr/local DESTDIR=: binary, library, hamf.h,
#                    hamf.pc and deploy/ under share/hamf
#   CC=clang make    any C11 compiler; -Wall -Wextra -Werror always on
#   V=1 make         show every compiler command (quiet by default)

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/.*hamf_version(void) { return "\([0-9.]*\)".*/\1/p' src/util/err.c)
# Quiet, parallel builds: one short line per file; V=1 prints the commands.
ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-6s %s\n' $(1) $(2)
endif
ifeq (,$(filter -j%,$(MAKEFLAGS)))
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
BUILD   ?= build
PKGS    := sqlite3 libpq libmicrohttpd libcurl libcrypt
SAN     ?=
OPT     ?= -O2

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) -Iinclude -Isrc -I$(BUILD)/gen \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread -lm

SANFLAGS :=
ifeq ($(SAN),1)
SANFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# examples/*.c: programs using only include/hamf.h and libhamf.a (run by the tests)
EXAMPLE_BIN := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))
# bench/predict/predict_bench.c: scoring speed through the public API;
# bench/learn/parse_floor.c: the bare-minimum CSV parse (a floor)
BENCH_BIN := $(BUILD)/bench/predict_bench $(BUILD)/bench/parse_floor
# The web UI (web/*) is compiled into the library as byte arrays by tools/embed.c.
WEB_FILES := $(sort $(wildcard web/*))
LIB_OBJ  += $(BUILD)/obj/gen/web_assets.o
GEN_SRC  := $(sort $(wildcard $(BUILD)/gen/*.c))

.PHONY: all deps check check-asan check-run demo demo-clean install uninstall clean fuzz bench bench-csv
all: $(BUILD)/hamf $(BUILD)/libhamf.a $(TEST_BIN) $(EXAMPLE_BIN) $(BENCH_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/web_assets.c: $(BUILD)/tools/embed $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(call quiet,EMBED,web/)
	$(Q)$(BUILD)/tools/embed $@ $(WEB_FILES)

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libhamf.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/hamf: $(CLI_OBJ) $(BUILD)/libhamf.a
	$(call quiet,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libhamf.a $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(BUILD)/libhamf.a
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/libhamf.a $(LDLIBS_ALL)

$(BUILD)/examples/%: examples/%.c include/hamf.h $(BUILD)/libhamf.a
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -Iinclude -o $@ $< $(BUILD)/libhamf.a $(LDLIBS_ALL)

$(BUILD)/bench/predict_bench: bench/predict/predict_bench.c include/hamf.h $(BUILD)/libhamf.a
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -Iinclude -o $@ $< $(BUILD)/libhamf.a $(LDLIBS_ALL)

$(BUILD)/bench/parse_floor: bench/learn/parse_floor.c src/util/num.h $(BUILD)/libhamf.a
	@mkdir -p $(dir $@)
	$(call quiet,LINK,$@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -Isrc -Iinclude -o $@ $< $(BUILD)/libhamf.a $(LDLIBS_ALL)

deps:
	@bash scripts/install-deps.sh

# The suite: unit test binaries, then the shell tests under tests/cli and
# tests/server, each in its own temp dir. Prints "N passed, N failed".
check-run: all
	@bash tests/run.sh $(BUILD)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-run

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) --no-print-directory BUILD=build-asan SAN=1 check-run

SERVE ?= 1
demo: deps
	@$(MAKE) --no-print-directory all
	@SERVE=$(SERVE) bash scripts/demo.sh $(BUILD)

# libFuzzer targets fuzz/fuzz_*.c -> build-fuzz/fuzz_* (clang, ASan+UBSan).
# Run one: build-fuzz/fuzz_csv -max_total_time=600 fuzz/corpus/csv
FUZZ_SAN := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" build-fuzz/libhamf.a
	@for f in fuzz/fuzz_*.c; do t=$$(basename $$f .c); echo "fuzz: build-fuzz/$$t"; \
	  clang -std=c11 -D_GNU_SOURCE $(FUZZ_SAN) -fsanitize=fuzzer -Iinclude -Isrc $$f build-fuzz/libhamf.a \
	    $(LDLIBS_ALL) -o build-fuzz/$$t || exit 1; done

# Benchmarks: each bench/NAME has an executable `run` (taking the build dir)
# and a RESULTS.md (date, machine, commit, figures). `make bench` lists them;
# `make bench B=server` runs one. They stay out of `make check`.
B ?=
bench: all
	@if [ -z "$(B)" ]; then \
	  echo "benches (make bench B=NAME):"; \
	  for d in bench/*/; do n=$$(basename $$d); \
	    if [ -x $$d/run ]; then echo "  $$n"; else echo "  $$n (no bench/$$n/run yet)"; fi; done; \
	elif [ -x bench/$(B)/run ]; then bench/$(B)/run $(BUILD); \
	else echo "make bench: no bench/$(B)/run" >&2; exit 2; fi

# CSV benchmark: hamf preprocess vs pandas vs cat on a 1M-row generated file.
bench-csv: all
	@bash bench/csv/run.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: what a user or a package needs.
# The binary finds the deploy files at PREFIX/share/hamf/deploy.
install: $(BUILD)/hamf $(BUILD)/libhamf.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/hamf
	install -m 755 $(BUILD)/hamf $(DESTDIR)$(PREFIX)/bin/hamf
	install -m 644 $(BUILD)/libhamf.a $(DESTDIR)$(PREFIX)/lib/libhamf.a
	install -m 644 include/hamf.h $(DESTDIR)$(PREFIX)/include/hamf.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@DEPLIBS@|$(shell pkg-config --libs $(PKGS))|g' hamf.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hamf.pc
	rm -rf $(DESTDIR)$(PREFIX)/share/hamf/deploy
	cp -R deploy $(DESTDIR)$(PREFIX)/share/hamf/deploy
	@echo "installed hamf $(VERSION) under $(DESTDIR)$(PREFIX) (binary: $(PREFIX)/bin/hamf)"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hamf $(DESTDIR)$(PREFIX)/lib/libhamf.a $(DESTDIR)$(PREFIX)/include/hamf.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/hamf.pc
	rm -rf $(DESTDIR)$(PREFIX)/share/hamf

# The demo keeps everything under demo/ (store, artifacts, data, models).
demo-clean:
	rm -rf demo

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
