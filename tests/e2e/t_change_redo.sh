#!/usr/bin/env bash
# Changes redo exactly what they affect: a hand-edited prompt in prompts.json regenerates that
# one image and keeps the edited file; a new voice redoes only narration; --set images.model
# calls that model.
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
