#!/usr/bin/env bash
# Changes redo exactly what they affect: a hand-edited prompt in prompts.json regenerates that
# one image and keeps the edited file; junk written over an image fails that item (the image
# check's words, no call, the file untouched, the video not run) and a valid edit is kept; a new
# voice redoes only narration; --set images.model calls that model.
source "$(dirname "$0")/lib.sh"
fake_start
job=$(new_job edit)
gf run "$job"
assert_eq "first run exits 0" 0 "$GF_RC"

# edit one scene's prompt by hand
jq '.scenes[2].image_prompt = "A lone lighthouse keeper polishing a giant Fresnel lens, seen from below, hand-edited prompt"' \
    "$job/prompts.json" >"$T_DIR/p.json" && cp "$T_DIR/p.json" "$job/prompts.json"
edited_sha=$(sha256sum "$job/prompts.json" | cut -d' ' -f1)
old_s02=$(sha256sum "$job/images/s02.jpg" | cut -d' ' -f1)
old_s03=$(sha256sum "$job/images/s03.jpg" | cut -d' ' -f1)

gf plan "$job"
assert_file_contains "plan shows the edited file" "edited by hand" "$T_DIR/last.out"
assert_file_contains "plan says why s03 is called" "request changed" "$T_DIR/last.out"
before=$(fake_count true)
gf run "$job"
assert_eq "run after the edit exits 0" 0 "$GF_RC"
assert_eq "exactly one request" 1 $(( $(fake_count true) - before ))
assert_contains "it is the edited scene's image" "hand-edited prompt" "$(jq -rs 'map(select(.method == "POST")) | last | .prompt' "$FAKE_LOG")"
assert_eq "the edited prompts.json is kept" "$edited_sha" "$(sha256sum "$job/prompts.json" | cut -d' ' -f1)"
assert_eq "other images untouched" "$old_s02" "$(sha256sum "$job/images/s02.jpg" | cut -d' ' -f1)"
[ "$old_s03" != "$(sha256sum "$job/images/s03.jpg" | cut -d' ' -f1)" ] && ok "s03.jpg regenerated" || fail "s03.jpg not regenerated"
assert_eq "manifest marks prompts.json edited" true "$(jq '.artifacts[] | select(.path=="prompts.json") | .edited' "$job/manifest.json")"
gf status "$job"
assert_file_contains "status shows the edit" "prompts.json edited by hand" "$T_DIR/last.out"

# junk written over an image: the image check refuses it, so that item fails with the check's
# words and how to fix it, no call replaces the file, and the video that shows it does not run
echo junk >"$job/images/s08.jpg"
junk_sha=$(sha256sum "$job/images/s08.jpg" | cut -d' ' -f1)
video_sha=$(sha256sum "$job/video.mp4" | cut -d' ' -f1)
why="'images/s08.jpg' was edited by hand and is not a usable image output: not a JPEG (bad signature); fix the file, or delete it so the next run generates it again"
gf plan "$job"
assert_contains "plan: the junk image is an unusable edit" "s08              edited by hand, not usable: $why" \
    "$(cat "$T_DIR/last.out")"
lines=$(wc -l <"$job/progress.jsonl")
before=$(fake_count true)
gf run "$job"
assert_eq "junk image: the run exits 1" 1 "$GF_RC"
assert_contains "junk image: the item fails naming the file, the check's words and the fix" \
    "images/s08 failed (edited): $why" "$(cat "$T_DIR/last.err")"
assert_eq "junk image: no request" 0 $(($(fake_count true) - before))
assert_eq "junk image: item_failed kind edited" "edited" \
    "$(jq -rs ".[$lines:] | map(select(.event == \"item_failed\" and .item == \"s08\")) | last | .error.kind" "$job/progress.jsonl")"
assert_eq "junk image: the file is left as it is" "$junk_sha" "$(sha256sum "$job/images/s08.jpg" | cut -d' ' -f1)"
assert_eq "junk image: the video does not run" "0 $video_sha" \
    "$(jq -s ".[$lines:] | map(select(.stage == \"video\" and (.event == \"stage_start\" or .event == \"item_done\" or .event == \"item_failed\"))) | length" "$job/progress.jsonl") $(sha256sum "$job/video.mp4" | cut -d' ' -f1)"
gf status "$job"
assert_contains "status: the failure with the check's words" "s08: (edited) $why" "$(cat "$T_DIR/last.out")"
assert_contains "status: the edit is not usable" "images/s08.jpg edited by hand, not usable" "$(cat "$T_DIR/last.out")"
gf status --json "$job"
assert_eq "status --json: edited_items says usable false" '{"item":"s08","path":"images/s08.jpg","usable":false}' \
    "$(jq -c '.jobs[0].stages[] | select(.name == "images") | .edited_items[0]' "$T_DIR/last.out")"

# a valid edit (the image re-encoded) is kept as edited, and the failure is forgotten
ffmpeg -v error -y -i "$job/images/s07.jpg" -q:v 9 "$T_DIR/s08.jpg"
cp "$T_DIR/s08.jpg" "$job/images/s08.jpg"
before=$(fake_count true)
gf run "$job"
assert_eq "re-encoded image: the run exits 0" 0 "$GF_RC"
assert_eq "re-encoded image: no request" 0 $(($(fake_count true) - before))
assert_contains "re-encoded image: kept" "images/s08: 'images/s08.jpg' was edited by hand; kept" "$(cat "$T_DIR/last.err")"
check "re-encoded image: the file is the edit" cmp -s "$T_DIR/s08.jpg" "$job/images/s08.jpg"
gf status --json "$job"
assert_eq "status --json: no failure, the edit usable" '[] true' \
    "$(jq -c '.jobs[0].stages[] | select(.name == "images") | .failures, .edited_items[0].usable' "$T_DIR/last.out" | tr '\n' ' ' | sed 's/ $//')"

# a new voice redoes narration only
before=$(fake_count true)
gf run --set narration.voice=Puck "$job"
assert_eq "voice change exits 0" 0 "$GF_RC"
assert_eq "voice change makes 8 requests" 8 $(( $(fake_count true) - before ))
assert_eq "all of them to the TTS model" 8 "$(jq -s "map(select(.method == \"POST\")) | .[$before:] | map(select(.model == \"gemini-3.8-flash-tts\")) | length" "$FAKE_LOG")"
before=$(fake_count true)
gf run --set narration.voice=Puck "$job"
assert_eq "same voice again: 0 requests" 0 $(( $(fake_count true) - before ))

# --set images.model=X calls X
job2=$(new_job model)
before=$(fake_count true)
gf run --set images.model=gemini-3-pro-image "$job2"
assert_eq "run with another image model exits 0" 0 "$GF_RC"
assert_eq "8 requests to models/gemini-3-pro-image:generateContent" 8 \
    "$(fake_count '.path == "/v1beta/models/gemini-3-pro-image:generateContent"')"
assert_eq "to the default image model only the portraits (their own stage's model)" \
    "$(jq '.characters | length' "$job2/analysis.json") 0" \
    "$(jq -rs "map(select(.method == \"POST\")) | .[$before:] | map(select(.model == \"gemini-nano-banana-2.1\")) |
        [length, map(select(.prompt | startswith(\"A character reference portrait\") | not)) | length] | join(\" \")" "$FAKE_LOG")"
assert_eq "the manifest records the model used" 8 "$(jq '[.artifacts[] | select(.model == "gemini-3-pro-image")] | length' "$job2/manifest.json")"

# rerun regenerates a stage, edited or not
before=$(fake_count true)
gf rerun --set narration.voice=Puck "$job" images
assert_eq "rerun images exits 0" 0 "$GF_RC"
assert_eq "rerun images makes 8 requests" 8 $(( $(fake_count true) - before ))
gf rerun "$job" nonesuch
assert_eq "rerun of an unknown stage exits 2" 2 "$GF_RC"
assert_file_contains "rerun names the stages" "stages: analysis" "$T_DIR/last.err"
finish
