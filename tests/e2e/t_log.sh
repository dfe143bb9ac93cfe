#!/usr/bin/env bash
# gemflow log: one readable line per event of a finished and of a failed job (retries with their
# delay, failures in the API's words), --json gives the lines as they are, colour only on a
# terminal, a torn last line is not shown, and -f follows a running job to its end.
source "$(dirname "$0")/lib.sh"
# speed_up DIR: give the job a workflow.yaml carrying the test speed-ups of lib.sh (FAST), so
# that status, plan, accept and report compute the same requests as the runs do; prints DIR
speed_up() {
    local s
    {
        printf 'version: 1\nuse: script-to-media\nset:\n'
        for s in "${FAST[@]}"; do [ "$s" = --set ] || printf '  %s: %s\n' "${s%%=*}" "${s#*=}"; done
    } >"$1/workflow.yaml"
    echo "$1"
}
# fast_job NAME: a copy of the sample job with those speed-ups
fast_job() { speed_up "$(new_job "$1")"; }
# events_in FILE: complete event lines of a progress log
events_in() { jq -c 'select(.event)' "$1" | wc -l; }

cat >"$T_DIR/faults.json" <<'JSON'
[{"model": "gemini-3.8-flash-tts", "kind": "503", "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1}]
JSON
fake_start --faults "$T_DIR/faults.json"
job=$(fast_job failed)
gf run "$job"
assert_eq "the run with a 400 exits 1" 1 "$GF_RC"
log="$job/progress.jsonl"

gf log "$job"
assert_eq "log exits 0" 0 "$GF_RC"
out="$T_DIR/log.txt"
grep -v '^-- ' "$T_DIR/last.out" >"$out"
assert_eq "one line per event" "$(events_in "$log")" "$(wc -l <"$out")"
for ev in run_start stage_start call_start call_end item_done retry item_failed stage_failed run_end; do
    assert_eq "every $ev is shown" "$(events "$log" "$ev")" "$(grep -c "^[0-9:.]*  $ev " "$out")"
done
check "a date separator comes first" grep -Eq '^-- [0-9]{4}-[0-9]{2}-[0-9]{2} --$' <(head -1 "$T_DIR/last.out")
check "times are local clock times with ms" grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}  run_start' "$out"
failed_item=$(jq -rs 'map(select(.event=="item_failed")) | first | .item' "$log")
api_msg=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.message' "$log")
assert_contains "the failure line: item, status, the API's words" \
    "item_failed       images/$failed_item" "$(grep item_failed "$out")"
assert_contains "the failure line quotes the API" "HTTP 400 INVALID_ARGUMENT after 1 attempt: $api_msg" "$(grep item_failed "$out")"
retry_ms=$(jq -rs 'map(select(.event=="retry")) | first | .delay_ms' "$log")
retry_item=$(jq -rs 'map(select(.event=="retry")) | first | "\(.stage)/\(.item)"' "$log")
assert_contains "the retry line: item and reason" "retry             $retry_item" "$(grep ' retry ' "$out")"
assert_contains "the retry quotes the API" "overloaded" "$(grep ' retry ' "$out")"
check "the retry line gives the delay ($retry_ms ms)" grep -Eq "attempt 2 in [0-9.]+(s| ms): " "$out"
assert_contains "call_end shows status and tokens" "HTTP 200 in" "$(grep 'call_end          analysis' "$out")"
assert_contains "run_end shows the state" "failed in" "$(grep run_end "$out")"
check "columns are aligned" awk 'substr($0, 13, 2) != "  " || substr($0, 32, 1) != " " { bad++ } END { exit bad > 0 }' "$out"

# --json: the lines as they are
gf log --json "$job"
check "--json gives the log's lines as they are" cmp -s "$T_DIR/last.out" "$log"

# colour only on a terminal, and not with NO_COLOR
check "no colour into a file" bash -c "! grep -q $'\e' '$T_DIR/last.out'"
script -qec "$GEMFLOW log '$job'" /dev/null >"$T_DIR/tty.out" 2>&1
check "colour on a terminal" grep -q $'\e\[31mitem_failed' "$T_DIR/tty.out"
NO_COLOR=1 script -qec "$GEMFLOW log '$job'" /dev/null >"$T_DIR/tty.out" 2>&1
check "NO_COLOR: no colour" bash -c "! grep -q $'\e\[' '$T_DIR/tty.out'"
gf log --color=always "$job"
check "--color=always colours a file" grep -q $'\e\[' "$T_DIR/last.out"

# a torn last line (a crash mid-write) is not shown and is no error
printf '{"ts":"2026-11-25T12:00:00.000Z","event":"call_st' >>"$log"
gf log "$job"
assert_eq "torn log: exit 0" 0 "$GF_RC"
assert_eq "torn log: the torn line is not shown" "$(wc -l <"$out")" "$(grep -vc '^-- ' "$T_DIR/last.out")"

# -f follows a running job from before its start to its run_end
fake_stop
fake_start --latency-ms 400
live=$(fast_job live)
"$GEMFLOW" log -f "$live" >"$T_DIR/follow.out" 2>"$T_DIR/follow.err" &
follower=$!
"$GEMFLOW" run -q "${FAST[@]}" "$live" >/dev/null 2>&1 &
runner=$!
wait_for "log -f to show an item_done" 300 grep -q " item_done " "$T_DIR/follow.out"
check "-f shows events while the job runs" kill -0 $runner
wait $runner
assert_eq "the followed run exits 0" 0 "$?"
wait_for "log -f to show the run_end" 300 grep -q " run_end " "$T_DIR/follow.out"
check "-f is still following after the run ended" kill -0 $follower
kill $follower
wait $follower 2>/dev/null
assert_eq "-f showed every event" "$(events_in "$live/progress.jsonl")" "$(grep -vc '^-- ' "$T_DIR/follow.out")"
assert_eq "-f printed no error" "" "$(cat "$T_DIR/follow.err")"

# usage
gf log
assert_eq "no job: exit 2" 2 "$GF_RC"
gf log "$T_DIR/nope"
assert_eq "no such job: exit 2" 2 "$GF_RC"
fresh=$(fast_job fresh)
gf log "$fresh"
assert_eq "a job that never ran: exit 2" 2 "$GF_RC"
assert_contains "it says so" "never ran" "$(cat "$T_DIR/last.err")"
finish
