#!/usr/bin/env bash
# Two gemflow processes on one job: one runs, the other exits 4 naming the first's pid; a stale
# lock left by a killed process is taken over at once.
source "$(dirname "$0")/lib.sh"
fake_start --latency-ms 400
job=$(new_job locked)
"$GEMFLOW" run -q "${FAST[@]}" "$job" >/dev/null 2>"$T_DIR/a.err" &
a=$!
wait_for "the first run to start its log" 300 test -s "$job/progress.jsonl"
gf run "$job"
assert_eq "the second process exits 4" 4 "$GF_RC"
assert_file_contains "it names the holder's pid" "pid $a" "$T_DIR/last.err"
gf status --json "$job"
assert_eq "status shows the job running with its pid" "running $a" "$(jq -r '.jobs[0] | "\(.state) \(.pid)"' "$T_DIR/last.out")"
kill -9 $a
wait $a 2>/dev/null
gf status --json "$job"
state=$(jq -r '.jobs[0].state' "$T_DIR/last.out")
case "$state" in
killed | interrupted) ok "after the kill, status says the run was cut short ($state)" ;;
*) fail "after the kill, status says '$state'" ;;
esac
gf run "$job"
assert_eq "a stale lock from a killed process is taken over" 0 "$GF_RC"
assert_eq "the job is done" $(($(api_items "$job") + 2)) "$(jq '.artifacts | length' "$job/manifest.json")"
finish
