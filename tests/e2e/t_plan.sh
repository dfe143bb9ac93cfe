#!/usr/bin/env bash
# plan calls nothing and says, for every item it would call, why: new, which part of the request
# changed (model, prompt text and where it comes from, voice, aspect ratio), output missing,
# failed last time; with token and cost estimates from the price table.
source "$(dirname "$0")/lib.sh"
fake_start
job=$(new_job planned)

gf plan "$job"
assert_eq "plan exits 0" 0 "$GF_RC"
assert_contains "a fresh job's analysis is new" "analysis         new" "$(cat "$T_DIR/last.out")"
assert_file_contains "stages after it wait" "after analysis" "$T_DIR/last.out"
assert_eq "the video stage is local: no tokens, no price" "runs ffmpeg here: no API call, no cost" \
    "$(grep -A1 '^  video' "$T_DIR/last.out" | sed -n 's/.*estimate: //p')"
api=$(grep -cE '^  [a-z_-]+ +(json|text|image|speech) ' "$T_DIR/last.out")
assert_eq "one call per API stage ($api), the video not among them" \
    "calls: 1 now, about $((api - 1)) more once upstream stages are done" \
    "$(grep '^calls:' "$T_DIR/last.out")"
check "portraits are priced per image (one: 1290 tokens, the image model's price; the most: 12 x 1290)" \
    grep -qE 'estimate: ~[0-9]+ in / ~1290 out tokens, ~\$0\.0[0-9]+ for 1, ~[0-9]+ in / ~15480 out tokens, ~\$0\.[0-9]+ for 12$' \
    <(grep -A1 '^  portraits' "$T_DIR/last.out")
assert_contains "a fresh job's scene stages: from 1 to the analysis schema's maxItems" \
    "after analysis (1 to 64 items: the most its schema allows)" "$(grep '^  images' "$T_DIR/last.out")"
check "and the total says how far it can go" \
    grep -qE '^ +up to ~[0-9]+ in / ~[0-9]+ out tokens, ~\$[0-9.]+ \([0-9]+ calls\) if the lists not made yet are as long as their schemas allow$' \
    "$T_DIR/last.out"
assert_eq "plan pays for nothing" 0 "$(fake_count '.method == "POST"')"
assert_eq "plan checks each model it would call once, with the free models.get" \
    "/v1beta/models/gemini-3.8-flash /v1beta/models/gemini-3.8-flash-tts /v1beta/models/gemini-nano-banana-2.1" \
    "$(jq -rs '[.[] | select(.method == "GET") | .path] | sort | join(" ")' "$FAKE_LOG")"
assert_contains "plan says the models are served" "gemini-nano-banana-2.1         served, supports generateContent" "$(cat "$T_DIR/last.out")"
check "plan writes nothing into the job" test ! -e "$job/progress.jsonl" -a ! -e "$job/.gemflow"

gf run "$job"
assert_eq "the run exits 0" 0 "$GF_RC"
before=$(fake_count '.method == "POST"')
gf plan "${FAST[@]}" "$job"
assert_file_contains "a finished job has nothing to call" "calls: 0 now" "$T_DIR/last.out"
assert_file_contains "nothing to call costs nothing" "estimate: nothing to call" "$T_DIR/last.out"

# each kind of change is named
jq '.scenes[2].image_prompt = "A hand-edited prompt for scene three"' "$job/prompts.json" >"$T_DIR/p.json"
cp "$T_DIR/p.json" "$job/prompts.json"
rm "$job/images/s05.jpg"
gf plan "${FAST[@]}" --set narration.voice=Puck "$job"
out=$(cat "$T_DIR/last.out")
assert_contains "an edited upstream file is named as the source of the prompt change" \
    "s03              request changed: prompt text (rendered from prompts)" "$out"
assert_contains "a voice change is named with both voices" "s01              request changed: voice (Kore -> Puck)" "$out"
assert_contains "a deleted output is named" "s05              output missing (images/s05.jpg)" "$out"
assert_contains "the edited file is shown as kept" "prompts          edited by hand: kept" "$out"
# gemini-3.1-flash-image is served but has no entry in workflows/prices.yaml
gf plan "${FAST[@]}" --set images.model=gemini-3.1-flash-image "$job"
assert_contains "a model without a price says so instead of guessing" \
    "cost unknown (no price known for this model)" "$(grep -A10 '^  images' "$T_DIR/last.out")"
assert_eq "unchanged images are not listed" 0 "$(grep -c '^      s0[1246-8]  *request changed: prompt\|^      s0[1246-8]  *output' "$T_DIR/last.out")"
gf plan "${FAST[@]}" --set images.aspect_ratio=1:1 "$job"
assert_file_contains "an aspect ratio change is named with both values" "s01              request changed: aspect ratio (16:9 -> 1:1)" "$T_DIR/last.out"
gf plan "${FAST[@]}" --set images.model=gemini-2.5-flash-image "$job"
assert_file_contains "a model change is named" "request changed: model (gemini-nano-banana-2.1 -> gemini-2.5-flash-image)" "$T_DIR/last.out"
# cost: 8 images on gemini-2.5-flash-image at $30 per 1M output tokens, each as many output
# tokens as this job's images used on average (from its manifest), plus input at $0.30 per 1M:
# 1120 tokens per portrait a scene sends as a reference (the placeholders in the 8 requests'
# call records) and the prompts' text (a few hundred tokens: under $0.001)
mean_out=$(jq '[.artifacts[] | select(.stage == "images") | .tokens.output] | add / length' "$job/manifest.json")
refs=$(cat "$job"/.gemflow/calls/images/s0[1-8].json | grep -o 'gemflow-ref:sha256:[0-9a-f]*:' | wc -l)
want=$(awk -v m="$mean_out" -v r="$refs" 'BEGIN { printf "%.4f", 8 * m * 30 / 1e6 + r * 1120 * 0.30 / 1e6 }')
cost=$(grep "^      .*estimate: " "$T_DIR/last.out" | sed -n 's/.*~\$\([0-9.]*\).*/\1/p' | head -1)
check "the 8-image estimate is \$$want ($refs references) plus under \$0.001 of input (got \$$cost)" \
    awk -v c="$cost" -v w="$want" 'BEGIN { exit !(c >= w - 0.0001 && c < w + 0.001) }'

# a failure is remembered with the API's words
curl -sf -X POST --data-binary '[{"model": "gemini-3.8-flash-tts", "kind": "400", "times": 1}]' "$FAKE_URL/_fake/faults" >/dev/null
gf run --set narration.voice=Zephyr "$job"
gf plan "${FAST[@]}" --set narration.voice=Zephyr "$job"
assert_file_contains "a failed item says so with the API's words" "failed last time: Request contains an invalid argument." "$T_DIR/last.out"

# prices: an override file, and a malformed one reported with file:line:column
cat >"$T_DIR/prices.yaml" <<'YAML'
version: 1
models:
  gemini-3.8-flash-tts:
    input: 1000000
    output: 0
YAML
gf plan "${FAST[@]}" --set narration.voice=Fenrir --prices "$T_DIR/prices.yaml" "$job"
assert_file_contains "an override price table is used" "prices: $T_DIR/prices.yaml" "$T_DIR/last.out"
printf 'version: 1\nmodels:\n  m:\n    output: lots\n' >"$T_DIR/bad.yaml"
gf plan --prices "$T_DIR/bad.yaml" "$job"
assert_eq "a malformed price table exits 2" 2 "$GF_RC"
assert_file_contains "it is reported with its place" "bad.yaml:4:13: 'output' must be a number" "$T_DIR/last.err"
# the only requests since the finished run are the 10 of the run with the new voice (8 narration,
# the edited scene's image, the deleted image): the plans made none
assert_eq "plans made no paid request" 10 "$(( $(fake_count '.method == "POST"') - before ))"
finish
