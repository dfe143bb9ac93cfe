#!/usr/bin/env bash
# gemflow accept: after a cosmetic prompt edit, adopting the artifacts on disk makes the next run
# call nothing for them; accepted items are logged as such and shown by status; a missing or
# unusable artifact, an unknown stage or item, a stage whose input is not ready and a locked job
# are refused without writing anything.
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
fake_start
job=$(fast_job accept)
gf run "$job"
assert_eq "first run exits 0" 0 "$GF_RC"
log="$job/progress.jsonl"
n_images=$(jq '[.artifacts[] | select(.stage == "images")] | length' "$job/manifest.json")

# a cosmetic edit: a trailing space in the image prompt changes every image request
echo '  images.prompt: "{{item.image_prompt}} "' >>"$job/workflow.yaml"
gf plan "$job"
assert_eq "plan sees every image request changed" "$n_images" "$(grep -c 'request changed' "$T_DIR/last.out")"

# refusals first: nothing may be written by any of them
lines=$(wc -l <"$log")
mv "$job/images/s03.jpg" "$T_DIR/s03.jpg"
gf accept "$job" images
assert_eq "a missing output is refused (exit 2)" 2 "$GF_RC"
assert_contains "the refusal names the missing file" "'images/s03.jpg' does not exist" "$(cat "$T_DIR/last.err")"
mv "$T_DIR/s03.jpg" "$job/images/s03.jpg"
cp "$job/images/s04.jpg" "$T_DIR/s04.jpg"
head -c 100 "$T_DIR/s04.jpg" >"$job/images/s04.jpg"
gf accept "$job" images s04
assert_eq "a broken PNG is refused" 2 "$GF_RC"
assert_contains "the refusal says why" "not a usable image output" "$(cat "$T_DIR/last.err")"
cp "$T_DIR/s04.jpg" "$job/images/s04.jpg"
gf accept "$job" imagez
assert_eq "an unknown stage is refused" 2 "$GF_RC"
assert_contains "the stages are listed" "stages: analysis, prompts, portraits, images" "$(cat "$T_DIR/last.err")"
gf accept "$job" images s99
assert_eq "an unknown item is refused" 2 "$GF_RC"
assert_contains "the items are listed" "items: s01" "$(cat "$T_DIR/last.err")"
assert_eq "the refusals wrote nothing" "$lines" "$(wc -l <"$log")"

# accept two items, then the rest
gf accept "$job" images s01 s02
assert_eq "accept of two items exits 0" 0 "$GF_RC"
assert_eq "two accepted item_done events" 2 "$(jq -s '[.[] | select(.event=="item_done" and .accepted == true)] | length' "$log")"
sha=$(sha256sum "$job/images/s01.jpg" | cut -d' ' -f1)
assert_eq "the event records the file's sha256" "$sha" \
    "$(jq -rs '[.[] | select(.event=="item_done" and .item=="s01" and .accepted)] | last | .outputs[0].sha256' "$log")"
assert_eq "the event records the file's size" "$(stat -c %s "$job/images/s01.jpg")" \
    "$(jq -rs '[.[] | select(.event=="item_done" and .item=="s01" and .accepted)] | last | .outputs[0].bytes' "$log")"
gf plan "$job"
assert_eq "plan now calls only the other images" $((n_images - 2)) "$(grep -c 'request changed' "$T_DIR/last.out")"
gf accept "$job" images
assert_eq "accepting the rest exits 0" 0 "$GF_RC"
assert_contains "already accepted items are left alone" "2 already done" "$(cat "$T_DIR/last.out")"
assert_eq "one accepted event per image" "$n_images" "$(jq -s '[.[] | select(.event=="item_done" and .accepted == true)] | length' "$log")"
assert_eq "the manifest marks them accepted" "$n_images" "$(jq '[.artifacts[] | select(.stage=="images" and .accepted == true)] | length' "$job/manifest.json")"

# the proof: the edited workflow now runs with no image call, and status shows the accepted items
before=$(fake_count true)
gf run "$job"
assert_eq "the run after accept exits 0" 0 "$GF_RC"
assert_eq "the run after accept makes no call at all" "$before" "$(fake_count true)"
gf status --json "$job"
assert_eq "status counts the accepted images" "$n_images" "$(jq '.jobs[0].stages[] | select(.name=="images") | .accepted' "$T_DIR/last.out")"
assert_eq "status lists them" "images/s01.jpg" "$(jq -r '.jobs[0].stages[] | select(.name=="images") | .accepted_items[0].path' "$T_DIR/last.out")"
gf status "$job"
assert_contains "status text shows accepted items" "images/s01.jpg accepted without a call" "$(cat "$T_DIR/last.out")"
gf log "$job"
assert_contains "log says accepted" "accepted without a call" "$(cat "$T_DIR/last.out")"

# a stage whose input is not ready cannot be accepted: its requests cannot be computed
fresh=$(fast_job fresh)
gf accept "$fresh" images
assert_eq "accept before upstream exists is refused" 2 "$GF_RC"
assert_contains "it says what it waits for" "waits for" "$(cat "$T_DIR/last.err")"
check "nothing was logged for the fresh job" bash -c "! grep -q item_done '$fresh/progress.jsonl' 2>/dev/null"

# a json stage: the file must match the stage's schema
echo '{"scenes": "not an array"}' >"$job/prompts.json"
gf accept "$job" prompts
assert_eq "json that breaks the schema is refused" 2 "$GF_RC"
assert_contains "the schema problem is named" "not a usable json output: \$.scenes" "$(cat "$T_DIR/last.err")"

# a locked job: accept waits for nobody and changes nothing
fake_stop
fake_start --latency-ms 2000
slow=$(fast_job slow)
"$GEMFLOW" run -q "${FAST[@]}" "$slow" >/dev/null 2>&1 &
pid=$!
wait_for "the slow run's first call" 300 grep -q '"call_start"' "$slow/progress.jsonl"
gf accept "$slow" analysis
assert_eq "accept on a running job exits 4" 4 "$GF_RC"
assert_contains "it names the process" "pid $pid" "$(cat "$T_DIR/last.err")"
kill -INT $pid
wait $pid
finish
