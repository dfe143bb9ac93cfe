#!/usr/bin/env bash
# kill -9 at random moments while clips are made (some while the fake renders them), then
# resume: no interaction is created twice for one item's request, and every clip is done in
# the end. KILLS kills (20 with GEMFLOW_TEST_FULL=1, else 3; CLIP_KILLS overrides). Kill moments
# come from the progress log: after a random number of new lines, or (every other kill) the
# moment a new op_started is logged. A job that ends before the kills are used up is followed
# by another (a script of its own, so no request body is shared between jobs). A create whose
# answer a kill cut off is an item failure (op_lost) the user sees, and stays one at every
# plain resume: only `gemflow rerun JOB clips/ID`, the user's decision, creates it again. Such a
# create may never have reached the API (a kill between its op_create and the send), so the
# fake has it once or twice; every other clip's body exactly once.
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
    if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
        # done, or all it can do without the user (an op_lost): the next kills go to a new job
        new_round
    else
        fail "a run ended with exit status $rc"
        break
    fi
done
echo "# $kills kills, $rendering_kills while a clip rendered, over $round jobs"
check "some kills while a clip rendered" test "$rendering_kills" -ge 1 -o "$KILLS" -lt 3

# resume every job with plain runs: each ends done, or failed with op_lost items only; a second
# plain run changes nothing and creates nothing
declare -A lost_of # job -> its op_lost items, "clips/ID ..."
for J in "${JOBS[@]}"; do
    "$GEMFLOW" run "$J" >>"$T_DIR/runs.log" 2>&1
    rc=$?
    check "$(basename "$J"): a plain resume ends done or with op_lost failures (exit $rc)" \
        test "$rc" = 0 -o "$rc" = 1
    check "$(basename "$J"): every failure is an op_lost (a cut-off create)" jq -se \
        '[.[] | select(.event == "item_failed" and .error.kind != "op_lost")] | length == 0' \
        "$J/progress.jsonl"
    if [ "$rc" = 1 ]; then
        fake_settle
        creates=$(fake_count_all '.verb == "interactions.create"')
        "$GEMFLOW" run "$J" >"$T_DIR/again.out" 2>"$T_DIR/again.err"
        rc=$?
        assert_eq "$(basename "$J"): another plain run still fails" 1 "$rc"
        fake_settle
        assert_eq "$(basename "$J"): ...and creates nothing" "$creates" \
            "$(fake_count_all '.verb == "interactions.create"')"
        assert_file_contains "$(basename "$J"): ...saying how to create it anew" \
            "gemflow rerun $J clips/" "$T_DIR/again.err"
        for id in $(jq -rs '[.[] | select(.event == "item_done" and .stage == "clips") | .item] as $done
                | [.[] | select(.event == "item_failed" and .error.kind == "op_lost") | .item]
                | unique - $done | .[]' "$J/progress.jsonl"); do
            lost_of[$J]+="clips/$id "
            lost=$((lost + 1))
        done
    fi
done
fake_settle
per_body=$(creates_per_body)
twice=$(tr ' ' '\n' <<<"$per_body" | awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }')
echo "# creates per request body: $per_body; op_lost items left to the user: $lost"
assert_eq "no interaction created twice by kills and plain resumes" 0 "$twice"

# the user's decision: gemflow rerun JOB clips/ID... creates each lost clip anew: exactly one
# create more per lost clip. A job with two or more lost clips is asked one at a time first:
# the others stay lost (exit 1, still naming them), then the rest at once, and the job ends done.
before_reruns=$(fake_count_all '.verb == "interactions.create" and .status == 200')
for J in "${!lost_of[@]}"; do
    read -ra items <<<"${lost_of[$J]}"
    if [ "${#items[@]}" -gt 1 ]; then
        "$GEMFLOW" rerun "$J" "${items[0]}" >>"$T_DIR/runs.log" 2>"$T_DIR/one.err"
        rc=$?
        assert_eq "$(basename "$J"): gemflow rerun ${items[0]} alone leaves the other lost clips failed" 1 "$rc"
        assert_file_contains "$(basename "$J"): ...naming how to create ${items[1]} anew" \
            "gemflow rerun $J ${items[1]}" "$T_DIR/one.err"
        items=("${items[@]:1}")
    fi
    "$GEMFLOW" rerun "$J" "${items[@]}" >>"$T_DIR/runs.log" 2>&1
    rc=$?
    assert_eq "$(basename "$J"): gemflow rerun ${items[*]} ends done" 0 "$rc"
done
for J in "${JOBS[@]}"; do
    "$GEMFLOW" run "$J" >>"$T_DIR/runs.log" 2>&1
    rc=$?
    assert_eq "$(basename "$J"): the job ends done" 0 "$rc"
    n=$(jq '.scenes | length' "$J/scenes.json")
    done_clips=0
    for id in $(jq -r '.scenes[].id' "$J/scenes.json"); do
        if [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_type -of csv=p=0 \
            "$J/clips/$id.mp4" 2>/dev/null)" = video ]; then done_clips=$((done_clips + 1)); fi
    done
    assert_eq "$(basename "$J"): every clip on disk, a video ffprobe reads" "$n" "$done_clips"
done
fake_settle
clips=0
for J in "${JOBS[@]}"; do clips=$((clips + $(jq '.scenes | length' "$J/scenes.json"))); done
# A lost create may never have reached the API (killed between its op_create and the send), so
# the lost ones count once or twice per body; every other clip exactly once.
assert_eq "one create per lost clip the user asked again" "$lost" \
    "$(($(fake_count_all '.verb == "interactions.create" and .status == 200') - before_reruns))"
assert_eq "one request body per clip" "$clips" "$(creates_per_body | wc -w)"
check "a body created twice only for a lost clip" \
    test "$(creates_per_body | tr ' ' '\n' | grep -cx 2)" -le "$lost"
check "never three creates for one item" test -z "$(creates_per_body | tr ' ' '\n' | awk '$1 > 2')"
check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
finish
