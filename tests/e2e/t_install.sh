#!/usr/bin/env bash
# A build a packager would accept: `cmake --install` into a temporary prefix, then the installed
# gemflow runs the sample job with no help from the source tree (no $GEMFLOW_WORKFLOWS): it finds
# the bundled workflow and the price table under the prefix, and no path of the build machine is
# in the binary.
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$GEMFLOW")
prefix="$T_DIR/prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$T_DIR/install.log" 2>&1
assert_eq "cmake --install succeeds" 0 "$?"
bin="$prefix/bin/gemflow"
check "the binary is installed" test -x "$bin"
check "the bundled workflow is installed" test -f "$prefix/share/gemflow/workflows/script-to-media.yaml"
check "the price table is installed" test -f "$prefix/share/gemflow/workflows/prices.yaml"
check "the manual page is installed" test -f "$prefix/share/man/man1/gemflow.1"

# no path of the source or build tree in the binary (strings, debug information included)
src_real=$(cd "$SRC_DIR" && pwd -P)
build_real=$(cd "$build_dir" && pwd -P)
leaks=$(strings -a "$bin" | grep -c -e "$src_real" -e "$build_real")
assert_eq "strings shows no source or build path in the installed binary" 0 "$leaks"

# the installed binary, alone: everything it reads comes from the prefix
fake_start
job=$(new_job installed)
# a short script keeps the encode quick; the request path is the same
printf 'SCENE 1\nThe lighthouse keeper climbs the stairs at dusk.\n\nSCENE 2\nThe lamp turns and the sea answers.\n' >"$job/script.txt"
(
    unset GEMFLOW_WORKFLOWS
    cd "$T_DIR" || exit 1
    "$bin" plan "$job" >"$T_DIR/plan.out" 2>"$T_DIR/plan.err"
    "$bin" run "${FAST_VIDEO[@]}" "$job" >"$T_DIR/run.out" 2>"$T_DIR/run.err"
)
rc=$?
assert_eq "the installed gemflow runs the sample job to the end" 0 "$rc"
assert_file_contains "plan priced the stages from the installed price table" \
    "$prefix/share/gemflow/workflows/prices.yaml" "$T_DIR/plan.out"
assert_eq "the run used the installed bundled workflow" "script-to-media" \
    "$(jq -r 'select(.event=="run_start") | .workflow' "$job/progress.jsonl" | tail -1)"
check "video.mp4 was made" test -s "$job/video.mp4"
finish
