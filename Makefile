# ftx - verified file transfer.  See README.md.
#
#   make          build build/ftxd and build/ftx
#   make run      start ftxd in the foreground serving ./server_files on
#                 127.0.0.1 (ARGS='--bind 0.0.0.0' for the network)
#   make test     unit + integration tests (JOBS=N: suites at once,
#                 default 4; the cluster suites SKIP without their
#                 packages: make deps-cluster installs them)
#   make deps-cluster  what the cluster suites need (haproxy, redis-server;
#                 radosgw ceph-mon ceph-osd ceph-common curl for t_cluster)
#   make asan     the same tests built with ASan+UBSan (into build/asan)
#   make tsan     the same tests built with ThreadSanitizer (into build/tsan)
#   make valgrind unit tests and the smaller integration suites under memcheck
#   make lint     cppcheck and clang-tidy (.clang-tidy)
#   make fuzz     libFuzzer targets for FUZZ_SECONDS each (clang)
#   make cert     a self-signed TLS key and certificate in ./certs
#   make bench    benchmarks (not part of make test); see docs/BENCHMARKS.md
#   make bench-attack  control latency under stalled transfers (BENCH_BASE=DIR)
#   make bench-tree    trees of small files: ftx vs rsync, lftp, scp
#                      (BENCH_TREE_FILES=1000 for a quick run)
#   make bench-chatbus chat latency over Redis vs one node (redis-server)
#   make bench-cluster S3 backend vs local disk vs curl, the HAProxy hop, chat across nodes
#   make install  PREFIX=/usr/local DESTDIR=

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PKG_CONFIG ?= pkg-config

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wno-unused-parameter
HARDEN_CFLAGS = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS = -pie -Wl,-z,relro,-z,now
OPT ?= -O2 -g
SAN ?=

SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libssl libcrypto 2>/dev/null)
SSL_LIBS := $(shell $(PKG_CONFIG) --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)
# hiredis (ftxd's chat bus, --chat-redis): libhiredis-dev 0.14.
HIREDIS_CFLAGS := $(shell $(PKG_CONFIG) --cflags hiredis 2>/dev/null)
HIREDIS_LIBS := $(shell $(PKG_CONFIG) --libs hiredis 2>/dev/null || echo -lhiredis)
# libcurl (ftxd's S3 backend, --store s3://): libcurl4-openssl-dev 7.88.
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(HARDEN_CFLAGS) $(SAN) \
             -iquote shared -MMD -MP $(SSL_CFLAGS) $(HIREDIS_CFLAGS) $(CURL_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(SAN) $(LDFLAGS)
LIBS = $(SSL_LIBS) -lpthread

SHARED_SRC = $(wildcard shared/*.c)
FTXD_SRC = $(wildcard ftxd/*.c)
FTX_SRC = $(wildcard ftx/*.c)
TOOL_SRC = $(wildcard tests/tools/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
SHARED_OBJ = $(call obj,$(SHARED_SRC))
# ftxd objects except main.o can be linked into unit tests.
FTXD_LIB_OBJ = $(call obj,$(filter-out ftxd/main.c,$(FTXD_SRC)))
FTX_LIB_OBJ = $(call obj,$(filter-out ftx/main.c,$(FTX_SRC)))
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BIN = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.PHONY: all deps deps-cluster run cert fuzz test unit integration asan tsan valgrind lint bench bench-chatbus bench-scale bench-attack bench-tree \
        install uninstall clean format check-format tools

all: $(BUILD)/ftxd $(BUILD)/ftx

# Install missing build dependencies (libssl-dev, libcmocka-dev,
# libhiredis-dev, pkg-config).
deps:
	@sh deploy/deps.sh

# And what the cluster suites need (haproxy, redis-server; radosgw,
# ceph-mon, ceph-osd, ceph-common and curl for t_cluster); without them
# they SKIP (CI sets FTX_REQUIRE_CLUSTER: there they fail).
deps-cluster:
	@sh deploy/deps.sh cluster

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/ftxd: $(call obj,$(FTXD_SRC)) $(SHARED_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(HIREDIS_LIBS) $(CURL_LIBS) $(LIBS)

$(BUILD)/ftx: $(call obj,$(FTX_SRC)) $(SHARED_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lm

# Unit tests link static archives, so each pulls in only the modules it
# uses (ftxd and ftx may share a module prefix).
$(BUILD)/libshared.a: $(SHARED_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libftxd.a: $(FTXD_LIB_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libftx.a: $(FTX_LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libftxd.a $(BUILD)/libftx.a $(BUILD)/libshared.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -iquote ftxd -iquote ftx $(ALL_LDFLAGS) -o $@ $^ \
	    $(CMOCKA_LIBS) $(HIREDIS_LIBS) $(CURL_LIBS) $(LIBS) -lm

$(BUILD)/tools/%: tests/tools/%.c $(SHARED_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lm

tools: $(TOOL_BIN)

# `make run` is a developer's foreground server: on 127.0.0.1 only,
# unless ARGS (more ftxd options, after the defaults, so they win) says
# --bind; RUN_ROOT is the directory it serves.  As root, ftxd refuses to
# serve without --user or --allow-root, so it says --allow-root then.
# Like make test, it first installs missing build dependencies (deps).
RUN_ROOT ?= ./server_files
RUN_BIND ?= 127.0.0.1
ARGS ?=
run: deps
	@$(MAKE) --no-print-directory -s all
	@mkdir -p $(RUN_ROOT)
	$(if $(findstring --bind,$(ARGS)),,@echo "make run: serving $(RUN_BIND) only (this machine); to serve the network: make run ARGS='--bind 0.0.0.0'")
	exec $(BUILD)/ftxd --bind $(RUN_BIND) --root $(RUN_ROOT) $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(ARGS)

# A self-signed key and certificate for first use, in ./certs.
cert: all
	./$(BUILD)/ftxd --gen-cert ./certs

# libFuzzer targets (clang) over the control-line parser, the chat
# grammar and the path check, FUZZ_SECONDS each, from the seed corpus in
# tests/fuzz.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CC=$(FUZZ_CC) BUILD=$(BUILD) sh tests/fuzz/run.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

# Integration suites run JOBS at a time (make test JOBS=4); empty: run.sh's
# default (FTX_TEST_JOBS from the environment, else 4).
JOBS ?=
integration: all $(TOOL_BIN)
	@FTX_BUILD=$(BUILD) $(if $(JOBS),FTX_TEST_JOBS=$(JOBS)) bash tests/integration/run.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TOOL_BIN)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# A sanitized process needs several times the CPU: two suites at once
# (unless JOBS says otherwise) keep the timing checks meaningful.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    HARDEN_CFLAGS="-fPIE" JOBS=$(or $(JOBS),2) test

tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT="-O1 -g" \
	    SAN="-fsanitize=thread" HARDEN_CFLAGS="-fPIE" JOBS=$(or $(JOBS),2) test

# Memcheck: every unit test, and the integration suites below with ftxd
# under valgrind (the rest move gigabytes, which takes too long there).
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full \
	   --errors-for-leak-kinds=definite --show-leak-kinds=definite
VALGRIND_SUITES ?= commands lines names limits storage chat rtt
valgrind: all $(UNIT_BIN) $(TOOL_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; \
	    timeout 900 $(VALGRIND) $$t || exit 1; done
	@FTX_WRAP="$(VALGRIND)" FTX_TEST_TIMEOUT=600 FTX_BUILD=$(BUILD) \
	    bash tests/integration/run.sh $(VALGRIND_SUITES)

# Static analysis: cppcheck, then clang-tidy with the checks in .clang-tidy.
LINT_SRC = $(SHARED_SRC) $(FTXD_SRC) $(FTX_SRC)
lint:
	cppcheck --quiet --std=c11 -D_GNU_SOURCE --enable=warning,portability,performance \
	    --inline-suppr --error-exitcode=1 --suppress=missingIncludeSystem \
	    -I shared -I ftxd -I ftx shared ftxd ftx tests/tools bench
	printf '%s\n' $(LINT_SRC) | xargs -P 2 -n 4 sh -c 'clang-tidy --quiet "$$@" \
	    -- -std=c11 -D_GNU_SOURCE -iquote shared -iquote ftxd -iquote ftx $(SSL_CFLAGS) $(HIREDIS_CFLAGS)' clang-tidy

# Load and scale rows (10,000 idle sessions, 200 clients x 20 ops,
# 64 parallel downloads); prints a markdown section.
bench-scale: all $(TOOL_BIN)
	@FTX_BUILD=$(BUILD) bash bench/scale.sh

# Chat delivery latency through the chat bus (redis-server) against one
# node without it (docs/SCALING.md, "Chat across nodes").
bench-chatbus: all
	@FTX_BUILD=$(BUILD) bash bench/chatbus.sh

# Issue 15 in one run: ftxd --store s3:// against the local disk and curl
# to the same radosgw, through haproxy against direct, chat across nodes
# (bench/cluster.sh; radosgw, haproxy, redis-server: make deps-cluster).
.PHONY: bench-cluster
bench-cluster: all
	@FTX_BUILD=$(BUILD) bash bench/cluster.sh

# Includes the tree rows (bench/tree.sh) unless BENCH_ONLY leaves them out.
bench: all $(TOOL_BIN)
	@FTX_BUILD=$(BUILD) bash bench/run.sh

# Trees of small files (issue 13): ftx put -r/get -r/sync against rsync
# (daemon and ssh), lftp mirror + vsftpd and scp -r.
bench-tree: all
	@FTX_BUILD=$(BUILD) bash bench/tree.sh

# LIST/HASH latency under 130 stalled uploads; BENCH_BASE=DIR adds rows
# for an older build directory (e.g. a worktree of an earlier commit).
bench-attack: all $(TOOL_BIN)
	@FTX_BUILD=$(BUILD) bash bench/attack.sh $(BENCH_BASE)

MANDIR ?= $(PREFIX)/share/man
# Shell completion (deploy/completion): bash-completion loads the first
# on demand; zsh finds the second on its $fpath.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/ftx $(DESTDIR)$(PREFIX)/bin/ftx
	install -m 0755 $(BUILD)/ftxd $(DESTDIR)$(PREFIX)/sbin/ftxd
	install -m 0644 docs/ftx.1 $(DESTDIR)$(MANDIR)/man1/ftx.1
	install -m 0644 docs/ftxd.8 $(DESTDIR)$(MANDIR)/man8/ftxd.8
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 deploy/completion/ftx.bash $(DESTDIR)$(BASHCOMPDIR)/ftx
	sed 's|@BASHCOMP@|$(BASHCOMPDIR)/ftx|' deploy/completion/_ftx \
	    >$(DESTDIR)$(ZSHCOMPDIR)/_ftx
	chmod 0644 $(DESTDIR)$(ZSHCOMPDIR)/_ftx

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ftx $(DESTDIR)$(PREFIX)/sbin/ftxd \
	    $(DESTDIR)$(MANDIR)/man1/ftx.1 $(DESTDIR)$(MANDIR)/man8/ftxd.8 \
	    $(DESTDIR)$(BASHCOMPDIR)/ftx $(DESTDIR)$(ZSHCOMPDIR)/_ftx

format:
	clang-format -i shared/*.[ch] ftxd/*.[ch] ftx/*.[ch] tests/unit/*.c tests/tools/*.c

check-format:
	@clang-format --dry-run --Werror shared/*.[ch] ftxd/*.[ch] ftx/*.[ch] tests/unit/*.c tests/tools/*.c

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
