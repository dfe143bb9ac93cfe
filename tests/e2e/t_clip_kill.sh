#!/usr/bin/env bash
# kill -9 at random moments while clips are made (some while the fake renders them), then
# resume: no interaction is created twice for one item's request, and every clip is done in
# the end. KILLS kills (20 with GEMFLOW_TEST_FULL=1, else 3; CLIP_KILLS overrides). Kill moments
# come from the progress log: after a random number of new lines, or (every other kill) the
# moment a new op_started is logged. A job that ends before the kills are used up is followed
# by another (a script of its own, so no request body is shared between jobs). A create whose
# answer a kill cut off is an item failure (op_lost) the user sees; only such an item may be
# created a second time, by the next run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clip_lib.sh"
if [ "${GEMFLOW_TEST_FULL:-0}" = 1 ]; then KILLS=${CLIP_KILLS:-20}; else KILLS=${CLIP_KILLS:-3}; fi
SCENES=5
fake_start --render-ms 2500 --state "$T_DIR/state.json"

alive() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null)
    [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}
lines() { if [ -f "$1/progress.jsonl" ]; then wc -l <"$1/progress.jsonl"; else echo 0; fi; }
# count_ev JOB EVENT: events EVENT in the job's progress log so far
count_ev() {
    if [ -f "$1/progress.jsonl" ]; then grep -c "\"event\":\"$2\"" "$1/progress.jsonl"; else echo 0; fi
}
# rendering_now JOB: some clip has an op_started and no item_done after it
rendering_now() {
    jq -se '[.[] | select(.stage == "clips" and (.event == "op_started" or .event == "item_done"))]
            | group_by(.item) | map(last.event) | index("op_started") != null' \
        "$1/progress.jsonl" >/dev/null 2>&1
}

kills=0 rendering_kills=0 round=0 lost=0
JOBS=()
new_round() {
    round=$((round + 1))
    J=$(clip_job "k$round" "$SCENES")
    sed -i "s/step \([0-9]*\), slowly/step \1 of round $round, slowly/" "$J/script.txt"
    JOBS+=("$J")
}
new_round
while [ "$kills" -lt "$KILLS" ]; do
    start=$(lines "$J")
    ops=$(count_ev "$J" op_started)
    "$GEMFLOW" run "$J" >>"$T_DIR/runs.log" 2>&1 &
    pid=$!
    if [ $((kills % 2)) = 1 ]; then
        what="a new op_started"
        moment() { ! alive "$pid" || [ "$(count_ev "$J" op_started)" -gt "$ops" ]; }
    else
        step=$((RANDOM % 10 + 1))
        what="$step new lines in the progress log"
        moment() { ! alive "$pid" || [ "$(lines "$J")" -ge $((start + step)) ]; }
    fi
    wait_for "$what (or the run's end)" 120 moment
    if alive "$pid"; then
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        if rendering_now "$J"; then rendering_kills=$((rendering_kills + 1)); fi
        continue
    fi
    wait "$pid"
    rc=$?
    if [ "$rc" = 0 ]; then
        new_round # done before the kills were used up: the next kills go to a new job
    elif [ "$rc" != 1 ]; then
        fail "a run ended with exit status $rc"
        break
    fi
done
echo "# $kills kills, $rendering_kills while a clip rendered, over $round jobs"
check "some kills while a clip rendered" test "$rendering_kills" -ge 1 -o "$KILLS" -lt 3

# resume every job to its end; an op_lost failure (exit 1) is followed by one more run
for J in "${JOBS[@]}"; do
    for try in 1 2 3 4; do
        "$GEMFLOW" run "$J" >>"$T_DIR/runs.log" 2>&1
        rc=$?
        [ "$rc" = 0 ] && break
    done
    assert_eq "$(basename "$J"): the resume ends done" 0 "$rc"
    n=$(jq '.scenes | length' "$J/scenes.json")
    done_clips=0
    for id in $(jq -r '.scenes[].id' "$J/scenes.json"); do
        if [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_type -of csv=p=0 \
            "$J/clips/$id.mp4" 2>/dev/null)" = video ]; then done_clips=$((done_clips + 1)); fi
    done
    assert_eq "$(basename "$J"): every clip on disk, a video ffprobe reads" "$n" "$done_clips"
    l=$(jq -s '[.[] | select(.event == "item_failed" and .error.kind == "op_lost")] | length' \
        "$J/progress.jsonl")
    lost=$((lost + l))
    check "$(basename "$J"): every failure was an op_lost (a cut-off create)" jq -se \
        '[.[] | select(.event == "item_failed" and .error.kind != "op_lost")] | length == 0' \
        "$J/progress.jsonl"
done
fake_settle
per_body=$(creates_per_body)
twice=$(tr ' ' '\n' <<<"$per_body" | awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }')
echo "# creates per request body: $per_body; op_lost failures: $lost"
check "no interaction created twice for one item, but after a reported op_lost ($twice extra, $lost lost)" \
    test "$twice" -le "$lost"
check "never three creates for one item" test -z "$(tr ' ' '\n' <<<"$per_body" | awk '$1 > 2')"
clips=0
for J in "${JOBS[@]}"; do clips=$((clips + $(jq '.scenes | length' "$J/scenes.json"))); done
assert_eq "accepted creates = clips + creates cut off" "$((clips + twice))" \
    "$(fake_count_all '.verb == "interactions.create" and .status == 200')"
check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
finish
