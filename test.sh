#!/usr/bin/env bash
# test.sh: install what is missing, build a normal and an ASan/UBSan build, run ctest on both.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

for variant in build build-asan; do
    if [ "$variant" = build-asan ]; then
        flags=(-DGEMFLOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
    else
        flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    fi
    echo "== $variant: configure and build"
    cmake -S . -B "$variant" "${flags[@]}" >/dev/null
    cmake --build "$variant" -j "$jobs" >/dev/null
    echo "== $variant: ctest"
    (cd "$variant" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$jobs")
done
# Fuzzing, when clang is there: a third build with libFuzzer, each target run FUZZ_SECONDS
# (default 60) from its seeds (tests/fuzz/README.md). The crashers kept so far are replayed
# by ctest in both builds above (fuzz/*).
fuzz_probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$fuzz_probe/p.c"
if command -v clang >/dev/null &&
    clang -fsanitize=fuzzer,address,undefined "$fuzz_probe/p.c" -o "$fuzz_probe/p" 2>/dev/null; then
    rm -rf "$fuzz_probe"
    echo "== build-fuzz: configure, build, run each fuzz target ${FUZZ_SECONDS:-60}s"
    cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGEMFLOW_FUZZ=ON -DGEMFLOW_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build-fuzz -j "$jobs" >/dev/null
    bash tests/fuzz/run.sh -t "${FUZZ_SECONDS:-60}" -j "$jobs" build-fuzz
else
    rm -rf "$fuzz_probe"
    echo "== build-fuzz: skipped, no clang with libFuzzer (the fuzz regressions still ran under ctest)"
fi
echo "== all tests passed (normal and ASan/UBSan builds)"
