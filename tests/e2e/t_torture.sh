#!/usr/bin/env bash
# Crash torture: run 32-scene jobs (64 with GEMFLOW_TEST_FULL=1, as ./test.sh --full sets it)
# against a slow fake server and kill -9 the runner at random moments, TORTURE_KILLS times
# (default 8; 50 with GEMFLOW_TEST_FULL=1), resuming each time. After every resume, every
# artifact matches its manifest entry and decodes (gf-verify, independent of gemflow's code) and
# progress.jsonl parses line by line except at most a torn last line. At the end, the fake's
# request log shows no successful request repeated beyond the calls in flight at the kills.
# Run alone: TORTURE_KILLS=200 bash tests/e2e/t_torture.sh
source "$(dirname "$0")/lib.sh"
: "${GF_VERIFY:=$SRC_DIR/build/tests/gf-verify}"
if [ "${GEMFLOW_TEST_FULL:-0}" = 1 ]; then KILLS=${TORTURE_KILLS:-50} SCENES=64; else KILLS=${TORTURE_KILLS:-8} SCENES=32; fi
SEED=${TORTURE_SEED:-$$}
RANDOM=$SEED
echo "# torture: $KILLS kills, seed $SEED"
fake_start --latency-ms 250 --latency-jitter-ms 200

make_job() {
    local dir="$T_DIR/$1"
    mkdir -p "$dir"
    {
        echo "$SCENES scenes, torture job $1"
        for i in $(seq 1 "$SCENES"); do
            echo
            echo "SCENE $i — PLACE NUMBER $i"
            echo "In $1 the camera finds landmark number $i at hour $((i % 24)) and lingers on detail $((i * 7))."
        done
    } >"$dir/script.txt"
    echo "$dir"
}

# calls in flight at the kill in the last run segment of a log: a call_start whose outcome was
# not recorded (no item_done, item_failed or retry after it; a call_end alone is not a record)
# (line by line: a torn last line is skipped, as the runner's replay skips it)
inflight_of_last_segment() {
    local n
    n=$(jq -nR '[inputs | fromjson? // empty] |
      (to_entries | map(select(.value.event == "run_start")) | last | .key) as $from
      | .[$from:] | reduce .[] as $e ({};
          if $e.event == "call_start" then .[$e.stage + "/" + $e.item] = 1
          elif ($e.event == "item_done" or $e.event == "item_failed" or $e.event == "retry")
          then del(.[$e.stage + "/" + $e.item]) else . end) | length' "$1" 2>/dev/null)
    echo "${n:-0}"
}

jobs_made=0
new_torture_job() {
    jobs_made=$((jobs_made + 1))
    job=$(make_job "j$jobs_made")
}
new_torture_job
kills=0 finished=0 verify_fail=0 inflight_total=0 torn_seen=0
while [ "$kills" -lt "$KILLS" ]; do
    "$GEMFLOW" run -q "${FAST[@]}" "$job" >/dev/null 2>>"$T_DIR/runs.err" &
    pid=$!
    # a random moment between 0.05 s and 1.55 s
    sleep "$(printf '0.%02d' $((RANDOM % 100)))"
    [ $((RANDOM % 2)) -eq 0 ] && sleep 0.5
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        kills=$((kills + 1))
        inflight_total=$((inflight_total + $(inflight_of_last_segment "$job/progress.jsonl")))
    else
        wait $pid
        rc=$?
        [ "$rc" = 0 ] || fail "a run between kills exited $rc"
        finished=$((finished + 1))
    fi
    out=$("$GF_VERIFY" "$job" 2>&1) || { verify_fail=$((verify_fail + 1)); echo "$out" | head -5 >&2; }
    case "$out" in *torn=1*) torn_seen=$((torn_seen + 1)) ;; esac
    if [ -f "$job/progress.jsonl" ] && [ "$(jq -s 'map(select(.event=="run_end" and .state=="done")) | length' "$job/progress.jsonl" 2>/dev/null)" != 0 ]; then
        new_torture_job
    fi
done
# finish every job that is left
all_items=0
for j in $(seq 1 $jobs_made); do
    gf run "$T_DIR/j$j"
    [ "$GF_RC" = 0 ] || fail "final run of j$j exited $GF_RC: $(tail -2 "$T_DIR/last.err")"
    "$GF_VERIFY" "$T_DIR/j$j" >/dev/null || verify_fail=$((verify_fail + 1))
    n=$(jq '.artifacts | length' "$T_DIR/j$j/manifest.json")
    items=$(api_items "$T_DIR/j$j") # analysis, prompts, a portrait per character, 2 per scene
    all_items=$((all_items + items))
    [ "$n" = $((items + 2)) ] || fail "j$j has $n artifacts, expected $((items + 2)) ($items calls, video.mp4, subtitles.srt)"
done
fake_settle
dups=$(jq -s '[.[] | select(.status == 200 and .verb == "generateContent")] | group_by(.body_sha256)
              | map(length - 1) | add // 0' "$FAKE_LOG")
total_ok=$(fake_count '.status == 200')
echo "# torture: kills=$kills finished_between_kills=$finished jobs=$jobs_made requests=$(fake_count true) successful=$total_ok repeated_successful=$dups in_flight_at_kills=$inflight_total corrupt=$verify_fail torn_lines_seen=$torn_seen"
assert_eq "$KILLS kills survived" "$KILLS" "$kills"
assert_eq "no corrupt or unmatched artifact, no unparseable log line, after any kill" 0 "$verify_fail"
check "repeated successful requests ($dups) <= calls in flight at the kills ($inflight_total)" \
    test "$dups" -le "$inflight_total"
check "the jobs had items to call ($all_items)" test "$all_items" -ge $((jobs_made * (2 * SCENES + 2)))
assert_eq "every job's items were each answered at least once" "$all_items" \
    "$(jq -s '[.[] | select(.method == "POST" and .status == 200)] | group_by(.body_sha256) | length' "$FAKE_LOG")"
finish
