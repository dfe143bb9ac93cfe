#!/usr/bin/env bash
# Images as the API sends them, and paid replies. The bytes decide the format (JPEG labelled
# image/png is a JPEG), the output path decides what is written (converted when it differs), and
# a 200 reply whose content is unusable is asked again at most paid_retries times, its content
# kept under .gemflow/rejected/, counted in status, plan and the report. A format gemflow can
# convert is never a reason to pay again. The same holds for a 3.8 TTS WAV with a bad header.
source "$(dirname "$0")/lib.sh"
WF=(--workflow "$(bench_wf images-only)")
small() { # NAME: a job with a three-scene script
    local j
    j=$(new_job "$1")
    printf 'SCENE 1\nThe keeper climbs.\n\nSCENE 2\nThe lamp turns.\n\nSCENE 3\nThe sea answers.\n' >"$j/script.txt"
    echo "$j"
}
# A JPEG to a .png path: converted (losslessly decoded, written by libpng), not paid again
fake_start --mislabel-rate 1
job=$(small topng)
images_before=$(fake_count '.model == "gemini-nano-banana-2.1"')
gf run "${WF[@]}" --set 'images.output=images/{{item.id}}.png' "$job"
assert_eq "JPEG replies written to .png paths: exit 0" 0 "$GF_RC"
assert_eq "3 image calls, none repeated" 3 "$(($(fake_count '.model == "gemini-nano-banana-2.1"') - images_before))"
assert_eq "the files are PNGs" "PNG PNG PNG" "$(for f in "$job"/images/*.png; do file -b "$f" | cut -d' ' -f1; done | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the manifest: a JPEG came, labelled image/png, converted to png" "jpeg image/png true png true" \
    "$(jq -r '.artifacts[] | select(.path == "images/s01.png") | .media | "\(.source_format) \(.source_label) \(.label_mismatch) \(.format) \(.converted)"' "$job/manifest.json")"
"$GF_VERIFY" "$job" >"$T_DIR/verify.out" 2>&1
assert_eq "gf-verify agrees with every artifact" 0 "$?"
assert_eq "the record says what the bytes were" "jpeg" \
    "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data.format' "$job/.gemflow/calls/images/s01.json")"
fake_stop

# WebP (a real lossless one) and PNG replies to .jpg paths: converted at quality 95
cat >"$T_DIR/faults.json" <<'JSON'
[{"match": "The keeper climbs", "model": "gemini-nano-banana-2.1", "kind": "webp"},
 {"match": "The lamp turns", "model": "gemini-nano-banana-2.1", "kind": "png"}]
JSON
fake_start --faults "$T_DIR/faults.json"
job=$(small tojpg)
images_before=$(fake_count '.model == "gemini-nano-banana-2.1"')
gf run "${WF[@]}" "$job"
assert_eq "WebP and PNG replies to .jpg paths: exit 0" 0 "$GF_RC"
assert_eq "3 image calls, none repeated" 3 "$(($(fake_count '.model == "gemini-nano-banana-2.1"') - images_before))"
assert_eq "every file is a JPEG" 3 "$(file -b "$job"/images/*.jpg | grep -c '^JPEG image data')"
assert_eq "what came: a PNG and a WebP converted, a JPEG as it was" "jpeg,png,webp" \
    "$(jq -r '[.artifacts[] | select(.stage == "images") | .media.source_format] | sort | join(",")' "$job/manifest.json")"
fake_stop

# Unusable paid replies: a corrupt JPEG, then a good one: one paid retry, the rejected bytes kept
cat >"$T_DIR/faults.json" <<'JSON'
[{"match": "The keeper climbs", "model": "gemini-nano-banana-2.1", "kind": "bad-jpeg", "times": 1},
 {"match": "The lamp turns", "model": "gemini-nano-banana-2.1", "kind": "huge-image", "times": 2},
 {"model": "gemini-3.8-flash", "kind": "schema-break", "times": 1}]
JSON
fake_start --faults "$T_DIR/faults.json"
job=$(small paid)
gf run "${WF[@]}" "$job"
log="$job/progress.jsonl"
assert_eq "the run ends failed: one image was unusable twice" 1 "$GF_RC"
assert_eq "paid retries logged as paid" 3 "$(jq -s '[.[] | select(.event == "retry" and .paid)] | length' "$log")"
assert_eq "the schema break was retried once and then was fine" "done" \
    "$(jq -rs 'map(select(.stage == "analysis" and (.event == "item_done" or .event == "item_failed"))) | last | .event | sub("item_"; "")' "$log")"
reason=$(jq -rs 'map(select(.event == "retry" and .paid and .stage == "images")) | .[0].reason' "$log")
assert_contains "a corrupt JPEG is named" "JPEG" "$reason"
failed=$(jq -rs 'map(select(.event == "item_failed")) | .[0]' "$log")
assert_eq "the image too large for any video fails after 1 + paid_retries calls" "2" "$(jq -r '.attempts' <<<"$failed")"
assert_contains "and says why" "16384x16384 pixels" "$(jq -r '.error.message' <<<"$failed")"
rejected=$(jq -r '.error.rejected' <<<"$failed")
check "its last reply is kept under .gemflow/rejected/ ($rejected)" test -s "$job/$rejected"
assert_eq "the kept bytes are the image the server sent" "PNG" "$(file -b "$job/$rejected" | cut -d' ' -f1)"
n_rejected=$(find "$job/.gemflow/rejected" -type f | wc -l)
assert_eq "every unusable paid reply was kept: 1 JPEG, 2 huge PNGs, 1 JSON" 4 "$n_rejected"
gf inspect "$job" images "$(jq -r '.item' <<<"$failed")"
assert_contains "inspect points at the kept content" ".gemflow/rejected/" "$(cat "$T_DIR/last.out")"
gf status --json "${WF[@]}" "$job"
assert_eq "status counts the paid retries per stage" "1 2" \
    "$(jq -r '.jobs[0].stages | map(select(.name == "analysis" or .name == "images")) | sort_by(.name) | map(.paid_retries) | join(" ")' "$T_DIR/last.out")"
gf plan "${WF[@]}" "$job"
assert_contains "plan's estimate counts the paid retries seen in this job" "paid retries per" "$(cat "$T_DIR/last.out")"
gf report "${WF[@]}" "$job"
assert_file_contains "the report shows them" "paid retries" "$job/report.html"

# paid_retries: 0 fails at once; the transport retries are counted apart
job=$(small nopaid)
cat >"$T_DIR/faults2.json" <<'JSON'
[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "503", "times": 2},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "bad-jpeg", "times": 1}]
JSON
curl -sf -X POST --data-binary @"$T_DIR/faults2.json" "$FAKE_URL/_fake/faults" >/dev/null
gf run "${WF[@]}" --set images.paid_retries=0 --set images.retries=2 "$job"
log="$job/progress.jsonl"
assert_eq "two 503s retried, the unusable reply not" "2 0" \
    "$(jq -s '[.[] | select(.event == "retry" and (.paid | not))] | length' "$log") $(jq -s '[.[] | select(.event == "retry" and .paid)] | length' "$log")"
assert_eq "one item failed with a bad_output" "bad_output" "$(jq -r 'select(.event == "item_failed") | .error.kind' "$log")"

# A 3.8 TTS reply is a whole WAV, checked as it came: one whose header says 1 Hz (its samples
# are the usual 24 kHz) is unusable, so it is paid for and asked again once; the bad bytes are
# kept, the WAV written is the second reply
SPEECH=(--workflow "$(bench_wf speech-only)" --set narration.model=gemini-3.8-flash-tts)
curl -sf -X POST --data-binary \
    '[{"match": "The lamp turns", "model": "gemini-3.8-flash-tts", "kind": "wav-1hz", "times": 1}]' \
    "$FAKE_URL/_fake/faults" >/dev/null || fail "cannot set the wav-1hz rule"
job=$(small wav1hz)
lamp='.model == "gemini-3.8-flash-tts" and ((.prompt // "") | contains("The lamp turns"))'
before=$(fake_count "$lamp")
gf run "${SPEECH[@]}" "$job"
log="$job/progress.jsonl"
assert_eq "a 1 Hz WAV once: the run ends done" 0 "$GF_RC"
fake_settle
assert_eq "the 1 Hz reply was sent once" 1 "$(fake_count_all "$lamp and .fault == \"wav-1hz\"")"
assert_eq "exactly one paid retry: 2 paid calls for that scene" 2 "$(($(fake_count "$lamp") - before))"
retry=$(jq -cs 'map(select(.event == "retry"))' "$log")
assert_eq "one retry, paid, of narration/s02" '1 true narration/s02' \
    "$(jq -r 'length as $n | .[0] | "\($n) \(.paid) \(.stage)/\(.item)"' <<<"$retry")"
assert_contains "the retry says why" "WAV sample rate 1 Hz" "$(jq -r '.[0].reason' <<<"$retry")"
rejected=$(jq -r '.[0].rejected // ""' <<<"$retry")
case $rejected in .gemflow/rejected/narration/*) ok "the rejected reply is kept under .gemflow/rejected/" ;;
*) fail "the rejected reply is not under .gemflow/rejected/: '$rejected'" ;; esac
assert_eq "the kept bytes are the WAV the server sent, header rate 1" "RIFF 1" \
    "$(head -c 4 "$job/$rejected" 2>/dev/null) $(od -An -tu4 -j24 -N4 "$job/$rejected" 2>/dev/null | tr -d ' ')"
rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$job/audio/s02.wav")
check "audio/s02.wav is a WAV ffprobe reads at 8000..192000 Hz (${rate:-none})" \
    test "${rate:-0}" -ge 8000 -a "${rate:-0}" -le 192000
gf status --json "${SPEECH[@]}" "$job"
assert_eq "status counts 1 paid retry for the narration" 1 \
    "$(jq -r '.jobs[0].stages[] | select(.name == "narration") | .paid_retries' "$T_DIR/last.out")"
finish
