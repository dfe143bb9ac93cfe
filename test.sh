#!/usr/bin/env bash
# test.sh: install what is missing, build, run the tests.
#
#   ./test.sh            one build, every test at quick sizes (about 9 minutes on 2 cores)
#   ./test.sh --full     also the ASan/UBSan build, the fuzz runs, the long torture, the Slurm
#                        cluster (t_slurm) and the larger sizes (GEMFLOW_TEST_FULL=1); what
#                        CI runs
#   ./test.sh --werror   compiler warnings fail the build (CI sets it)
#   ./test.sh -R REGEX   only the tests whose name matches (passed to ctest)
#
# The compiler's warnings are shown, not hidden. Each step says how long it took; after each
# build's tests, the figures they measured ("# figures:" lines: rates against the limits, 429s,
# repeated requests) are printed.
set -euo pipefail
cd "$(dirname "$0")"

full=0 werror=OFF
ctest_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --full) full=1 ;;
    --werror) werror=ON ;;
    -R) ctest_args+=(-R "$2"); shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option '$1' (see ./test.sh --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$full" = 1 ]; then bash tools/deps.sh --full; else bash tools/deps.sh; fi
jobs=$(nproc 2>/dev/null || echo 2)
export GEMFLOW_TEST_FULL=$full
start=$SECONDS
step() { # NAME: print a step header with the time so far
    echo "== $1 ($((SECONDS - start))s)"
}

variants=(build)
[ "$full" = 1 ] && variants+=(build-asan)
for variant in "${variants[@]}"; do
    if [ "$variant" = build-asan ]; then
        flags=(-DGEMFLOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
    else
        flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    fi
    step "$variant: configure and build (warnings as errors: $werror)"
    cmake -S . -B "$variant" "${flags[@]}" -DGEMFLOW_WERROR=$werror >/dev/null
    # show the compiler's diagnostics, not the progress lines
    cmake --build "$variant" -j "$jobs" 2>&1 | { grep -v -E '^\[ *[0-9]+%\] ' || true; }
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "test.sh: the $variant build failed" >&2; exit 1; }
    step "$variant: ctest"
    (cd "$variant" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$jobs" ${ctest_args[@]+"${ctest_args[@]}"})
    # what the tests measured (ctest shows a passed test's output only in its log): requests
    # per minute against the limit, 429s, repeated requests, drops and jobs
    step "$variant: figures"
    grep -h '^# figures: ' "$variant/Testing/Temporary/LastTest.log" | sed 's/^# figures: /  /' || true
done

# Fuzzing (--full), when clang is there: a build with libFuzzer, each target run FUZZ_SECONDS
# (default 60) from its seeds (tests/fuzz/README.md). The crashers kept so far are replayed by
# ctest in every build above (fuzz/*).
if [ "$full" = 1 ]; then
    fuzz_probe=$(mktemp -d)
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$fuzz_probe/p.c"
    if command -v clang >/dev/null &&
        clang -fsanitize=fuzzer,address,undefined "$fuzz_probe/p.c" -o "$fuzz_probe/p" 2>/dev/null; then
        rm -rf "$fuzz_probe"
        step "build-fuzz: configure, build, run each fuzz target ${FUZZ_SECONDS:-60}s"
        cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGEMFLOW_FUZZ=ON -DGEMFLOW_TESTS=OFF \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build build-fuzz -j "$jobs" >/dev/null
        bash tests/fuzz/run.sh -t "${FUZZ_SECONDS:-60}" -j "$jobs" build-fuzz
    else
        rm -rf "$fuzz_probe"
        step "build-fuzz: skipped, no clang with libFuzzer (the fuzz regressions still ran under ctest)"
    fi
fi
step "all tests passed ($([ "$full" = 1 ] && echo "full: normal and ASan/UBSan builds, fuzzing" || echo "quick sizes, normal build"))"
