# A thin driver over CMake. The two commands of the README's quick start,
# `make demo` and `make test`, do all set-up themselves on a fresh Debian 12.
#   build/          debug build under ASan+UBSan: tests, demo, build/sluice
#   build-release/  optimised build: benchmarks
#   build-fuzz/     clang + libFuzzer
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build release test demo bench fuzz format lint clean

all: build

deps:
	@sh scripts/install-deps

build/CMakeCache.txt: | deps
	cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	    -DSLUICE_SANITIZE=address,undefined -DSLUICE_BUILD_TESTS=ON

build: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS)

release: deps
	cmake -S . -B build-release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
	    -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=ON
	cmake --build build-release -j $(JOBS)

test: build
	cd build && ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	    ctest --output-on-failure -j $(JOBS)

demo: build
	@sh examples/demo.sh build/sluice

bench: release
	@sh bench/run.sh build-release

fuzz:
	@sh scripts/install-deps --fuzz
	CC=clang cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	    -DSLUICE_SANITIZE=address,undefined -DSLUICE_BUILD_FUZZ=ON \
	    -DSLUICE_BUILD_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS)
	@sh scripts/run-fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGET)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	clang-tidy -p build $$(git ls-files 'src/*.c') -- -Iinclude -Isrc -Ibuild/include

clean:
	rm -rf build build-release build-fuzz
