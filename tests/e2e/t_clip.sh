#!/usr/bin/env bash
# The clip kind on the operation executor, against the fake's Interactions API: clips/*.mp4
# that ffprobe accepts, one create per item (op_create, op_started in the log), nothing called
# again; plan names a changed clip setting by its field with both values; the create body is
# byte for byte what @google/genai 3.3.0 sends; an interaction that fails or expires is an item
# failure with the API's words (exit 1), and the next run creates it anew (a counted paid
# attempt); a create whose answer was lost is created anew only by `gemflow rerun JOB
# clips/ID`; status shows "rendering" for an accepted clip, and a run killed while clips render
# resumes by polling, never creating again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clip_lib.sh"
for tool in jq ffprobe curl; do
    command -v "$tool" >/dev/null || { echo "not ok: $tool is needed" >&2; exit 1; }
done
FX="$SRC_DIR/tests/data/sdk/interaction_create.json"
# run ARGS...: gemflow run (the workflow has no video stage for lib.sh's FAST settings)
run() {
    "$GEMFLOW" run "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
}
jqe() { jq -e "$@" >/dev/null; }
fake_start --render-ms 500 --state "$T_DIR/state.json"

# ==== a run makes every clip, once ====
J=$(clip_job a)
run "$J"
assert_eq "run: exit 0" 0 "$GF_RC"
n=$(jq '.scenes | length' "$J/scenes.json")
assert_eq "three scenes" 3 "$n"
for id in $(jq -r '.scenes[].id' "$J/scenes.json"); do
    check "clips/$id.mp4: ffprobe finds a video stream" \
        test "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_type -of csv=p=0 "$J/clips/$id.mp4")" = video
    check "clips/$id.mp4: 4 s (±0.1)" near "$(clip_secs "$J/clips/$id.mp4")" 4 0.1
done
assert_eq "one op_create and one op_started per clip" "3 3" \
    "$(events "$J/progress.jsonl" op_create) $(events "$J/progress.jsonl" op_started)"
check "op_started: item key and interaction id, after its op_create" jqe -s '
    [.[] | select(.event == "op_started")] | all(.key | test("^[0-9a-f]{64}$")) and
    all(.[]; .operation | startswith("v1_"))' "$J/progress.jsonl"
assert_eq "the fake: each create body once" "1 1 1" "$(creates_per_body)"
assert_eq "manifest: clips are video/mp4 with their duration" '["video/mp4",4,4,4]' \
    "$(jq -c '[.artifacts[] | select(.stage == "clips") | .media] | [.[0].type] + map(.duration_s)' "$J/manifest.json")"
before=$(fake_count_all '.verb == "interactions.create"')
run "$J"
assert_eq "second run: exit 0, nothing created" "0 $before" \
    "$GF_RC $(fake_count_all '.verb == "interactions.create"')"
gf plan "$J"
assert_contains "plan: clips cached" "3 items: 3 cached" "$(cat "$T_DIR/last.out")"
# a clip setting no named part covers is explained by its field, with both values
gf plan --set clips.duration=6 "$J"
assert_contains "plan: a changed duration is named with both values" \
    "s01              request changed: response_format.duration (4s -> 6s)" "$(cat "$T_DIR/last.out")"
gf plan --set clips.duration=6 --set clips.resolution=1080p --set 'clips.prompt=Waves, {{item.id}}.' "$J"
assert_contains "plan: the prompt is named as before, the clip's own fields beside it" \
    "s02              request changed: prompt text (rendered from scenes), response_format.resolution (720p -> 1080p), response_format.duration (4s -> 6s)" \
    "$(cat "$T_DIR/last.out")"

# ==== the create body is the SDK's ====
F="$T_DIR/fx"
mkdir -p "$F/images"
jq -r '.body.input[0].data' "$FX" | base64 -d >"$F/images/frame.png"
echo "unused" >"$F/script.txt"
jq -r '"version: 1\nname: fixture\ninputs:\n  script: script.txt\nstages:\n  clip:\n    kind: clip\n    image: images/frame.png\n    prompt: \(.body.input[1].text | tojson)\n    duration: 6\n    resolution: 720p\n    aspect_ratio: \"16:9\"\n    output: clip.mp4"' "$FX" >"$F/workflow.yaml"
run "$F"
assert_eq "fixture job: exit 0" 0 "$GF_RC"
fake_settle
want=$(jq -cj .body "$FX" | sha256sum | cut -d' ' -f1)
assert_eq "create body = tests/data/sdk/interaction_create.json's body, byte for byte" "$want" \
    "$(jq -sr '[.[] | select(.verb == "interactions.create")] | last | .body_sha256' "$FAKE_LOG")"
check "fixture clip: 6 s (±0.1)" near "$(clip_secs "$F/clip.mp4")" 6 0.1

# ==== failed: the API's words, exit 1; the next run creates anew ====
B=$(clip_job b 1)
run "$B" --set 'clips.prompt=Waves. [[fault:op-failed]]'
assert_eq "op failed: exit 1 (a stage failed)" 1 "$GF_RC"
assert_eq "op failed: item_failed kind op_failed" op_failed \
    "$(jq -sr '[.[] | select(.event == "item_failed")] | last | .error.kind' "$B/progress.jsonl")"
check "op failed: the API's words in the event" jqe -s '[.[] | select(.event == "item_failed")]
    | last | .error.message | test("ended failed: api_error: Video generation failed")' "$B/progress.jsonl"
gf status "$B" --set 'clips.prompt=Waves. [[fault:op-failed]]'
assert_contains "status: the API's words" "Video generation failed" "$(cat "$T_DIR/last.out")"
check "op failed: op_ended failed" jqe -s '[.[] | select(.event == "op_ended")] | last | .status == "failed"' \
    "$B/progress.jsonl"
run "$B" --set 'clips.prompt=Waves. [[fault:op-failed]]'
assert_eq "rerun: creates anew, a second counted attempt" "1 2" \
    "$GF_RC $(events "$B/progress.jsonl" op_create)"

# ==== expired (404): the API's words ====
E=$(clip_job e 1)
curl -s "$FAKE_URL/_fake/faults" --data-binary '[{"match": "harbour", "kind": "op-expired"}]' >/dev/null
run "$E" --set 'clips.prompt=Night over the harbour.'
assert_eq "op expired: exit 1" 1 "$GF_RC"
check "op expired: kind op_expired, HTTP 404 not_found and the API's words" jqe -s '
    [.[] | select(.event == "item_failed")] | last | .error |
    .kind == "op_expired" and .http_status == 404 and (.message | test("not_found: Requested entity was not found"))' \
    "$E/progress.jsonl"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null

# ==== lost: the create's connection is cut after the whole request left; only the user's
# `gemflow rerun JOB clips/ID` buys it again, a plain run never does. Both clips' creates are
# cut; a rerun of one leaves the other failed, still naming how to create it ====
L=$(clip_job l 2)
LP='clips.prompt=Lanterns along the quay.'
curl -s "$FAKE_URL/_fake/faults" --data-binary '[{"match": "Lanterns along", "kind": "reset", "times": 2}]' >/dev/null
run "$L" --set "$LP"
assert_eq "op lost: exit 1" 1 "$GF_RC"
check "op lost: kind op_lost, and op_ended lost" jqe -s '
    ([.[] | select(.event == "item_failed")] | last | .error.kind == "op_lost") and
    ([.[] | select(.event == "op_ended")] | last | .status == "lost")' "$L/progress.jsonl"
lid=$(jq -r '.scenes[0].id' "$L/scenes.json")
assert_file_contains "op lost: the user is told how to create it anew" \
    "\`gemflow rerun $L clips/$lid\` creates it anew (a new paid attempt)" "$T_DIR/last.err"
fake_settle
creates=$(fake_count_all '.verb == "interactions.create"')
run "$L" --set "$LP"
fake_settle
assert_eq "op lost, a plain run again: exit 1, and no create" "1 $creates" \
    "$GF_RC $(fake_count_all '.verb == "interactions.create"')"
lid2=$(jq -r '.scenes[1].id' "$L/scenes.json")
"$GEMFLOW" rerun "$L" "clips/$lid" --set "$LP" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
GF_RC=$?
fake_settle
assert_eq "gemflow rerun JOB clips/ID of one of two lost: exit 1, one create more" "1 $((creates + 1))" \
    "$GF_RC $(fake_count_all '.verb == "interactions.create"')"
assert_eq "...logged as item_reset of that item" "clips/$lid" \
    "$(jq -rs '[.[] | select(.event == "item_reset")] | last | "\(.stage)/\(.item)"' "$L/progress.jsonl")"
check "...that clip is on disk now" test -s "$L/clips/$lid.mp4"
assert_file_contains "...the other is still lost, and named" "gemflow rerun $L clips/$lid2" "$T_DIR/last.err"
"$GEMFLOW" rerun "$L" "clips/$lid2" --set "$LP" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
GF_RC=$?
fake_settle
assert_eq "gemflow rerun JOB clips/ID of the other: exit 0, one create more" "0 $((creates + 2))" \
    "$GF_RC $(fake_count_all '.verb == "interactions.create"')"
"$GEMFLOW" rerun "$L" clips/nosuch >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "rerun of an item never made or tried: exit 2" 2 "$?"
assert_file_contains "...naming it" "no item 'nosuch' of stage 'clips' was made or tried" "$T_DIR/last.err"

# ==== rendering: status shows it; a kill -9 then a resume polls, never creates again ====
fake_restart --render-ms 8000 --state "$T_DIR/state.json"
R=$(clip_job r 2)
"$GEMFLOW" run "$R" >"$T_DIR/r.out" 2>"$T_DIR/r.err" &
pid=$!
rendering() { [ "$(events "$R/progress.jsonl" op_started 2>/dev/null)" = 2 ]; }
check "both clips accepted (op_started) while the fake renders" wait_for "two op_started events" 120 rendering
gf status "$R"
check "status: 'clips' items rendering, with their age" grep -Eq 's0[12]: rendering, ([0-9]+s|<1s)' "$T_DIR/last.out"
gf status --json "$R"
assert_eq "status --json: rendering_items" 2 \
    "$(jq '.jobs[0].stages[] | select(.name == "clips") | .rendering_items | length' "$T_DIR/last.out")"
kill -9 "$pid"
wait "$pid" 2>/dev/null
gf status "$R"
check "status after kill -9: still rendering" grep -q 'rendering, ' "$T_DIR/last.out"
fake_restart --render-ms 8000 --state "$T_DIR/state.json" # the renders go on meanwhile
created=$(fake_count_all '.verb == "interactions.create"')
run "$R"
assert_eq "resume: exit 0" 0 "$GF_RC"
assert_eq "resume: op_resumed twice, no create" "2 $created" \
    "$(events "$R/progress.jsonl" op_resumed) $(fake_count_all '.verb == "interactions.create"')"
check "resume: both clips on disk" test -s "$R/clips/s01.mp4" -a -s "$R/clips/s02.mp4"
assert_contains "resume: says it polls, not creates" "polled, not created again" "$(cat "$T_DIR/last.err")"

check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
finish
