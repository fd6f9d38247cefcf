# agilesim — top-level entry points. `make demo` and `make test` work on a fresh machine.
BUILD       ?= build
BUILD_CLANG ?= build-clang
BUILD_ASAN  ?= build-asan
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps demo validate test test-gcc test-clang test-asan bench bench-record fuzz install clean

# A plain library + CLI build needs only cmake, a C compiler and the zlib, xz and zstd headers.
all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DAGS_WERROR=OFF >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Install what the demo, the tests and `agilesim record` need when it is missing (Debian; as
# root). Nothing is installed when everything is there.
deps:
	@missing=""; \
	for t in cmake:cmake cc:gcc clang:clang python3:python3 valgrind:valgrind pkg-config:pkg-config groff:groff-base col:bsdextrautils parallel:parallel; do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; \
	done; \
	for h in zlib.h:zlib1g-dev lzma.h:liblzma-dev zstd.h:libzstd-dev; do \
	  [ -f /usr/include/$${h%%:*} ] || missing="$$missing $${h##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: missing:$$missing (install them as root)"; exit 1; fi; \
	  echo "installing:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing; \
	fi

# the built-in suite and the real-program traces of traces/ (recorded with agilesim record)
demo: all
	./$(BUILD)/agilesim compare --workload suite traces/pipeline.agt traces/perl-hash.agt traces/sqlite-index.agt \
	  --svg $(BUILD)/demo.svg --json $(BUILD)/demo.json

# Record real programs (redis, memcached, a make -j2 build, python), simulate them, and regenerate
# docs/validation.md and docs/validation/*.svg (installs redis-server, redis-tools, memcached and
# libmemcached-tools when missing; about 30 minutes on 2 cores). VALIDATE_FLAGS=--quick: minutes,
# written under build/validate-quick/ instead.
validate: all
	python3 validate/validate.py $(BUILD) $(VALIDATE_FLAGS)

# CI: gcc and clang with -Werror, then the whole suite again under ASan+UBSan.
test: test-gcc test-clang test-asan

test-gcc: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DAGS_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-clang: deps
	@CC=clang cmake -S . -B $(BUILD_CLANG) -DCMAKE_BUILD_TYPE=Release -DAGS_WERROR=ON >/dev/null
	@cmake --build $(BUILD_CLANG) -j$(JOBS)
	cd $(BUILD_CLANG) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DAGS_WERROR=ON -DAGS_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS)

bench: all
	./$(BUILD)/ags_bench
	python3 bench/sim.py $(BUILD)

# recording speed: agilesim's Valgrind tool vs the Lackey path vs the native program
bench-record: all
	bash bench/record.sh $(BUILD)

# PREFIX=/usr/local by default: the library, headers, CLI and agilesim.pc
PREFIX ?= /usr/local
install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

# libFuzzer targets, one per trace reader; FUZZ_SECONDS per target (default 60)
fuzz:
	bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(BUILD_CLANG) $(BUILD_ASAN)
