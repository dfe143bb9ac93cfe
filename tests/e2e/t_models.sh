#!/usr/bin/env bash
# Other model families: imagen-* through :predict (shut down on the Gemini API in 2026-08, still
# served elsewhere: the fake brings it back with --model), its PNG converted to the workflow's
# .jpg; 2.5 TTS returning raw L16 PCM (wrapped into WAV at the rate from the mime type); and
# content failures that must not be retried.
source "$(dirname "$0")/lib.sh"
fake_start --model imagen-4.0-fast-generate-001:imagen
job=$(new_job families)
# imagen takes no reference images: the portraits are turned off
gf run --set images.model=imagen-4.0-fast-generate-001 --set portraits.enabled=false \
    --set narration.model=gemini-2.5-flash-preview-tts --set narration.style= "$job"
assert_eq "imagen + L16 TTS job exits 0" 0 "$GF_RC"
assert_eq "8 :predict requests" 8 "$(fake_count '.path == "/v1beta/models/imagen-4.0-fast-generate-001:predict"')"
assert_eq "imagen 16:9 images decode at 1408x768" "1408x768" "$(png_size "$job/images/s01.jpg")"
assert_eq "imagen's PNG was converted into the JPEG the path names" "JPEG image data" \
    "$(file -b "$job/images/s01.jpg" | cut -d, -f1)"
assert_eq "the manifest says what came and what was written" "png jpeg true" \
    "$(jq -r '.artifacts[] | select(.path=="images/s01.jpg") | .media | "\(.source_format) \(.format) \(.converted)"' "$job/manifest.json")"
frames=$(wav_frames "$job/audio/s02.wav")
assert_eq "WAV wrapped from L16 has the fake's frame count" \
    "$(jq -s '[.[] | select(.model=="gemini-2.5-flash-preview-tts" and .media.mime=="audio/L16;codec=pcm;rate=24000") | .media.frames] | index('"$frames"') != null' "$FAKE_LOG")" true
assert_eq "the WAV is 24 kHz mono" "24000,1" "$(ffprobe -v error -show_entries stream=sample_rate,channels -of csv=p=0 "$job/audio/s02.wav")"
assert_eq "manifest keeps the source type" "audio/L16;codec=pcm;rate=24000" \
    "$(jq -r '.artifacts[] | select(.path=="audio/s02.wav") | .media.source_type' "$job/manifest.json")"

# content refusals and missing media: failed at once with the model's reason, never retried
fake_stop
cat >"$T_DIR/faults.json" <<'JSON'
[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "safety", "skip": 0, "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "text-only", "skip": 0, "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "blocked", "times": 1}]
JSON
fake_start --faults "$T_DIR/faults.json"
job2=$(new_job refused)
gf run "$job2"
assert_eq "refusals exit 1" 1 "$GF_RC"
assert_eq "three items failed" 3 "$(events "$job2/progress.jsonl" item_failed)"
assert_eq "none retried" 0 "$(events "$job2/progress.jsonl" retry)"
assert_eq "image safety is named" 1 "$(jq -s '[.[] | select(.event=="item_failed" and .error.kind=="refused" and .error.finish_reason=="IMAGE_SAFETY")] | length' "$job2/progress.jsonl")"
assert_eq "text-only keeps the model's words" 1 "$(jq -s '[.[] | select(.event=="item_failed" and .error.kind=="no_output" and (.error.message|test("the model said")))] | length' "$job2/progress.jsonl")"
assert_eq "a blocked prompt names its reason" 1 "$(jq -s '[.[] | select(.event=="item_failed" and .error.kind=="blocked" and .error.block_reason=="SAFETY")] | length' "$job2/progress.jsonl")"
assert_eq "every other call's artifact was made" $(($(api_items "$job2") - 3)) "$(jq '.artifacts | length' "$job2/manifest.json")"

# broken transfers and broken media are retried and then succeed
fake_stop
cat >"$T_DIR/faults2.json" <<'JSON'
[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "truncated", "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "bad-png", "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "bad-base64", "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "reset", "times": 1},
 {"model": "gemini-3.8-flash", "kind": "badjson", "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "timeout", "times": 1}]
JSON
fake_start --faults "$T_DIR/faults2.json" --hang-ms 5000
job3=$(new_job broken)
gf run --set narration.timeout=2s "$job3"
assert_eq "broken replies are retried to success" 0 "$GF_RC"
# a connection reset before any reply byte may be retried inside libcurl (a fresh connection,
# the request never answered); every other fault shows up as a retry event
retries=$(events "$job3/progress.jsonl" retry)
check "five or six retries ($retries)" test "$retries" -ge 5 -a "$retries" -le 6
assert_eq "every artifact (each call's, the video and its subtitles)" $(($(api_items "$job3") + 2)) "$(jq '.artifacts | length' "$job3/manifest.json")"
assert_eq "a corrupt PNG is retried" 1 "$(jq -s '[.[] | select(.event=="retry" and (.reason|test("PNG does not decode")))] | length' "$job3/progress.jsonl")"
assert_eq "invalid base64 is retried" 1 "$(jq -s '[.[] | select(.event=="retry" and (.reason|test("base64")))] | length' "$job3/progress.jsonl")"
assert_eq "a timeout is retried" 1 "$(jq -s '[.[] | select(.event=="retry" and (.reason|test("[Tt]imeout|timed out")))] | length' "$job3/progress.jsonl")"
finish
