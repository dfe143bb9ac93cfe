#!/usr/bin/env bash
# Request shapes checked against the official SDK: gemflow makes the six requests captured from
# @google/genai 3.3.0 in tests/data/sdk/ (TTS with speechMetadata.style, a designed voice id, a
# two-speaker dialogue, JSON with thinkingLevel, serviceTier flex, an image on the current image
# model), and each request body as sent (its call record) has the fixture's fields, no more and
# no fewer; values aside. The model and verb of the path match too.
source "$(dirname "$0")/lib.sh"
fake_start
job="$T_DIR/shapes"
mkdir -p "$job"
cp "$SRC_DIR/tests/data/shapes/workflow.yaml" "$SRC_DIR/tests/data/shapes/script.txt" "$job/"
gf run --workflow "$job/workflow.yaml" "$job"
assert_eq "the six requests succeed against the fake" 0 "$GF_RC"
# leaf paths of a JSON document, array indices folded: "contents[].parts[].speechMetadata.style"
leaves='[paths(scalars) | map(if type == "number" then "[]" else . end) | join(".")] | unique | join(" ")'
for stage in tts_style tts_voice_id tts_multi_speaker json_thinking flex image_nano_banana; do
    fixture="$SRC_DIR/tests/data/sdk/$stage.json"
    record="$job/.gemflow/calls/$stage/$stage.json"
    want=$(jq -r ".body | $leaves" "$fixture")
    got=$(jq -r ".request.body | $leaves" "$record")
    assert_eq "$stage: the body has the SDK's fields" "$want" "$got"
    want_path=$(jq -r '.path | sub("^/v1(beta)?/"; "")' "$fixture")
    got_path=$(jq -r '.request.url | sub("^https?://[^/]+/v1(beta)?/"; "")' "$record")
    assert_eq "$stage: the same model and verb" "$want_path" "$got_path"
done
# the values that carry meaning, where gemflow's spelling must be the SDK's
rec="$job/.gemflow/calls"
assert_eq "serviceTier is lowercase at the top level" "flex" "$(jq -r '.request.body.serviceTier' "$rec/flex/flex.json")"
assert_eq "thinkingLevel is uppercase" "LOW" "$(jq -r '.request.body.generationConfig.thinkingConfig.thinkingLevel' "$rec/json_thinking/json_thinking.json")"
assert_eq "a voice id goes in voiceConfig.voice" "voice_abc123" "$(jq -r '.request.body.generationConfig.speechConfig.voiceConfig.voice' "$rec/tts_voice_id/tts_voice_id.json")"
assert_eq "the dialogue names its speakers per part" "Keeper Child" "$(jq -r '[.request.body.contents[0].parts[].speechMetadata.speaker] | join(" ")' "$rec/tts_multi_speaker/tts_multi_speaker.json")"
assert_eq "the words alone are recited" "The lighthouse keeper climbed the stairs one last time." "$(jq -r '.request.body.contents[0].parts[0].text' "$rec/tts_style/tts_style.json")"
# a dialogue turn that names a speaker the stage does not have fails its item before any call
before=$(fake_count)
gf run --workflow "$job/workflow.yaml" --set "tts_multi_speaker.turns='[{\"speaker\": \"Nobody\", \"text\": \"Hello?\"}]'" "$job"
assert_eq "an unknown speaker fails the run" 1 "$GF_RC"
assert_eq "without a call" "$before" "$(fake_count)"
assert_contains "naming the speaker and the stage's speakers" "turn 1 names speaker 'Nobody', who is not in the stage's speakers ('Keeper', 'Child')" "$(cat "$T_DIR/last.err")"
# inline vocal tags pass through untouched
gf run --workflow "$job/workflow.yaml" --set 'tts_style.text=<sigh> The lamp is lit.' "$job"
assert_eq "a vocal tag is recited as written" "<sigh> The lamp is lit." \
    "$(jq -r '.request.body.contents[0].parts[0].text' "$rec/tts_style/tts_style.json")"
finish
