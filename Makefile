# agilesim — top-level entry points. `make demo` and `make test` work on a fresh machine.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps demo test test-asan bench fuzz clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Install what the build needs when it is missing (Debian; we run as root).
deps:
	@missing=""; \
	for t in cmake:cmake cc:gcc python3:python3 valgrind:valgrind; do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; \
	done; \
	for h in zlib.h:zlib1g-dev lzma.h:liblzma-dev zstd.h:libzstd-dev; do \
	  [ -f /usr/include/$${h%%:*} ] || missing="$$missing $${h##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing; \
	fi

demo: all
	./$(BUILD)/agilesim compare --svg $(BUILD)/demo.svg --json $(BUILD)/demo.json

test: all
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	@$(MAKE) --no-print-directory test-asan

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DAGS_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS)

bench: all
	./$(BUILD)/ags_bench

# libFuzzer targets, one per trace reader; FUZZ_SECONDS per target (default 60)
fuzz:
	bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
