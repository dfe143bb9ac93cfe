#!/usr/bin/env bash
# run.sh: run the libFuzzer targets of a GEMFLOW_FUZZ=ON build, each for a time limit, from its
# seed corpus plus the repository's fixtures. New inputs go to BUILD/fuzz-work/<target>/corpus;
# a crash leaves BUILD/fuzz-work/<target>/crash-* and makes this script exit 1 (keep the file
# under tests/fuzz/regressions/<target>/ once fixed).
#   tests/fuzz/run.sh [-t SECONDS] [-j PARALLEL] BUILD_DIR [TARGET...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
seconds=60
parallel=1
while getopts "t:j:" o; do
    case $o in
    t) seconds=$OPTARG ;;
    j) parallel=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-j PARALLEL] BUILD_DIR [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-t SECONDS] [-j PARALLEL] BUILD_DIR [TARGET...]" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(workflow template gemini joblog imgcodec)

seeds() {
    case $1 in
    workflow) echo "$here/corpus/workflow $src/tests/data/workflows $src/workflows" ;;
    template) echo "$here/corpus/template $src/workflows/prompts" ;;
    gemini) echo "$here/corpus/gemini $src/tests/data/replies" ;;
    joblog) echo "$here/corpus/joblog" ;;
    imgcodec) echo "$here/corpus/imgcodec $src/tests/data/media" ;;
    esac
}

# The longest input worth trying: a workflow or a reply with media needs room, a log line not;
# an image small enough to convert in every run fits in 16 KB.
max_len() {
    case $1 in
    workflow) echo 65536 ;; # also its CPU-time bound per byte: README.md, "Slow inputs"
    template) echo 4096 ;;
    gemini) echo 65536 ;;
    joblog) echo 8192 ;;
    imgcodec) echo 16384 ;;
    esac
}

run_one() {
    local t=$1 bin="$build/tests/fuzz/fuzz-$1" work="$build/fuzz-work/$1"
    [ -x "$bin" ] || { echo "fuzz: no $bin (configure with -DGEMFLOW_FUZZ=ON)" >&2; return 1; }
    mkdir -p "$work/corpus"
    local dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    # shellcheck disable=SC2046
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$work/" "${dict[@]}" \
        "$work/corpus" $(seeds "$t") $(ls -d "$here/regressions/$t" 2>/dev/null) \
        >"$work/log" 2>&1
    local rc=$?
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
    if [ $rc -eq 0 ]; then
        echo "fuzz $t: ${seconds}s, ${execs:-?} runs, no finding"
    else
        echo "fuzz $t: FAILED (exit $rc); see $work/log and $work/crash-* / leak-* / timeout-*" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' "$work/log" | head -5 >&2
    fi
    return $rc
}

failed=0
pids=()
names=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    if [ ${#pids[@]} -ge "$parallel" ]; then
        wait "${pids[0]}" || failed=1
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || failed=1
done
exit $failed
