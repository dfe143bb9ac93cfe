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
echo "== all tests passed (normal and ASan/UBSan builds)"
