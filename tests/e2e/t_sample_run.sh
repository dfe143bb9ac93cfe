#!/usr/bin/env bash
# The bundled sample job runs end to end against the fake server, which answers like today's API
# (gemini-3.8-flash, gemini-nano-banana-2.1 sending JPEG with a share labelled image/png, 3.8 TTS
# sending WAV), every artifact is real and verified independently (ffprobe, jq), exactly
# 2 + 2 x scenes generation requests are paid for, and a second run makes zero requests.
source "$(dirname "$0")/lib.sh"
fake_start
job=$(new_job lighthouse)

gf run "$job"
assert_eq "first run exits 0" 0 "$GF_RC"
[ "$GF_RC" = 0 ] || cat "$T_DIR/last.err" >&2
scenes=$(jq '.scenes | length' "$job/analysis.json")
assert_eq "exactly 2 + 2 x $scenes generation requests, every one answered 200" \
    "$((2 + 2 * scenes)) $((2 + 2 * scenes))" "$(fake_count) $(fake_count '.status == 200')"
assert_eq "the free model checks: one models.get per model, before the first paid call" \
    "3 GET GET GET" "$(fake_count_all '.method == "GET"') $(jq -rs 'sort_by(.seq) | .[:3] | map(.method) | join(" ")' "$FAKE_LOG")"
check "video.mp4 was made" test -s "$job/video.mp4"
mislabelled=$(jq '[.artifacts[] | select(.stage == "images" and .media.label_mismatch)] | length' "$job/manifest.json")
check "some JPEGs came labelled image/png ($mislabelled), none was paid for twice" test "$mislabelled" -ge 1
assert_eq "every image written as the JPEG it came as" "$scenes" \
    "$(jq '[.artifacts[] | select(.stage == "images" and .media.format == "jpeg" and .media.source_format == "jpeg" and (.media.converted | not))] | length' "$job/manifest.json")"
assert_eq "the narration recites the script's words alone; the mood is its style" "$scenes" \
    "$(jq -s --slurpfile a "$job/analysis.json" '[.[] | select(.speech) | select(.speech.texts[0] as $t | $a[0].scenes | any(.narration == $t)) | select(.speech.styles[0] as $m | $a[0].scenes | any(.mood == $m))] | length' "$FAKE_LOG")"

# analysis.json: 8 scenes (the script has 8), every required field, moods from the enum
check "analysis.json is JSON" jq -e . "$job/analysis.json" >/dev/null
assert_eq "analysis has one scene per SCENE heading" 8 "$(jq '.scenes | length' "$job/analysis.json")"
assert_eq "every scene has every required field" 8 "$(jq '[.scenes[] | select(.id and .title and .summary and .narration and .mood and .visual_description)] | length' "$job/analysis.json")"
assert_eq "moods come from the schema's enum" 0 "$(jq '[.scenes[].mood | select(IN("calm","hopeful","tense","somber","joyful","mysterious","dramatic") | not)] | length' "$job/analysis.json")"
assert_eq "top-level fields present" true "$(jq '(.title|type=="string") and (.logline|type=="string") and (.style|type=="string")' "$job/analysis.json")"
ids=$(jq -r '.scenes[].id' "$job/analysis.json" | tr '\n' ' ')
assert_eq "prompts.json has the analysis' ids in order" "$ids" "$(jq -r '.scenes[].id' "$job/prompts.json" | tr '\n' ' ')"
assert_eq "every prompt is non-empty" 8 "$(jq '[.scenes[] | select((.image_prompt|length) > 20)] | length' "$job/prompts.json")"

# one decodable image of the asked size (16:9 on gemini-nano-banana-2.1: 1376x768) per scene
for id in $ids; do
    size=$(png_size "$job/images/$id.jpg")
    [ "$size" = "1376x768" ] || fail "images/$id.jpg decodes as '$size', expected 1376x768"
done
ok "8 JPEGs decode at 1376x768"
assert_eq "no other images" 8 "$(ls "$job/images" | wc -l)"

# one WAV per scene whose length is the PCM the fake sent
for id in $ids; do
    frames=$(wav_frames "$job/audio/$id.wav")
    prompt_text=$(jq -r --arg id "$id" '.scenes[] | select(.id == $id) | .narration' "$job/analysis.json")
    sent=$(jq -s --arg n "$prompt_text" '[.[] | select(.verb == "generateContent" and (.model | test("tts"))
              and (.prompt | contains($n[0:60])))][0].media.frames' "$FAKE_LOG")
    [ -n "$frames" ] && [ "$frames" = "$sent" ] || fail "audio/$id.wav has $frames frames, the fake sent $sent"
done
ok "8 WAVs decode with the fake's frame counts"

# the video stage ends the job: video.mp4 with one stream of each kind, as long as the
# narrations minus the 7 crossfades of 0.5 s (t_video.sh checks it in depth)
assert_eq "video.mp4: a video and an audio stream" "video,audio" "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$job/video.mp4" | paste -sd,)"
narrated=$(for id in $ids; do ffprobe -v error -show_entries format=duration -of csv=p=0 "$job/audio/$id.wav"; done | awk '{ s += $1 } END { printf "%.3f", s - 7 * 0.5 }')
check "video.mp4 lasts the narrations minus the crossfades ($narrated s)" awk -v a="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$job/video.mp4")" -v b="$narrated" 'BEGIN { d = a - b; exit !(d < 0.1 && d > -0.1) }'
assert_eq "subtitles.srt: one cue per scene" 8 "$(grep -c -- '-->' "$job/subtitles.srt")"

# manifest.json lists every artifact with its real sha256 (18 from the API, video.mp4, subtitles.srt)
assert_eq "manifest lists 20 artifacts" 20 "$(jq '.artifacts | length' "$job/manifest.json")"
bad=0
while read -r path sha; do
    [ "$(sha256sum "$job/$path" | cut -d' ' -f1)" = "$sha" ] || bad=$((bad + 1))
done < <(jq -r '.artifacts[] | "\(.path) \(.sha256)"' "$job/manifest.json")
assert_eq "every manifest sha256 matches the file" 0 "$bad"
assert_eq "image entries carry width/height" 8 "$(jq '[.artifacts[] | select(.media.width == 1376 and .media.height == 768)] | length' "$job/manifest.json")"

# progress.jsonl: valid JSON lines, the right events
check "progress.jsonl parses line by line" jq -e . "$job/progress.jsonl" >/dev/null
assert_eq "19 item_done events (18 calls and the video)" 19 "$(events "$job/progress.jsonl" item_done)"
assert_eq "run ends done" '"done"' "$(jq -s 'map(select(.event=="run_end")) | last | .state' "$job/progress.jsonl")"
assert_eq "18 requests made" 18 "$(fake_count true)"
assert_eq "call records for every item" 19 "$(find "$job/.gemflow/calls" -name '*.json' | wc -l)"
assert_eq "call record keeps no base64 image" 0 "$(grep -c 'iVBORw0KGgo' "$job/.gemflow/calls/images/s01.json")"
assert_eq "call record keeps the image's size and digest in place of its data" \
    "$(sha256sum "$job/images/s01.jpg" | cut -d' ' -f1)" \
    "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data.sha256' "$job/.gemflow/calls/images/s01.json")"
assert_eq "call record points at the saved file" '"images/s01.jpg"' "$(jq '.saved_as' "$job/.gemflow/calls/images/s01.json")"
assert_eq "images and narration overlap in time" true "$(jq -s '
    (map(select(.event=="call_start" and .stage=="narration")) | first | .ts) <
    (map(select(.event=="call_start" and .stage=="images")) | last | .ts)' "$job/progress.jsonl")"

# a second run makes zero requests
before=$(fake_count true)
gf run "$job"
assert_eq "second run exits 0" 0 "$GF_RC"
assert_eq "second run makes 0 requests" "$before" "$(fake_count true)"
assert_eq "second run encodes nothing" 1 "$(events "$job/progress.jsonl" encode_start)"
assert_eq "second run records no call_start" 0 "$(jq -s '(map(select(.event=="run_start")) | length) as $n | [foreach .[] as $e (0; if $e.event=="run_start" then .+1 else . end; select(. == $n) | $e) | select(.event=="call_start")] | length' "$job/progress.jsonl")"
finish
