#!/usr/bin/env bash
# references: job files sent as inline media parts. What is sent is the files' bytes, in order,
# after the prompt, with the type their bytes say (not their extension); each file's SHA-256 is in
# the request key, so editing one redoes exactly the items that sent it and plan names it; a
# reference written by another stage makes that stage a dependency; bad references (outside the
# job, not an image, a link out of the job, too many, too large) fail before any call, naming
# the file.
source "$(dirname "$0")/lib.sh"
fake_start
FAST=() # no video stage here
job="$T_DIR/refs"
mkdir -p "$job/photos"
cat >"$job/workflow.yaml" <<'YAML'
version: 1
name: refs
defaults:
  model: gemini-nano-banana-2.1
stages:
  portrait:
    kind: image
    prompt: "A portrait of the keeper, an old man with a grey beard"
    output: portraits/keeper.png
  scene:
    kind: image
    prompt: "The keeper climbs the lighthouse stairs"
    references: portraits/keeper.png
    output: scene.png
  sea:
    kind: image
    prompt: "The sea at night, like the photograph"
    references: [photos/sea.jpg, photos/sky.dat]
    output: sea.png
YAML
solid() { # COLOUR FILE CODEC: a small real image (mjpeg or png), whatever the file's name
    ffmpeg -v error -nostdin -y -f lavfi -i "color=c=$1:s=64x48" -frames:v 1 -c:v "$3" -f image2 "$2"
}
solid navy "$job/photos/sea.jpg" mjpeg
solid skyblue "$job/photos/sky.dat" png # a PNG under a name that does not say so
sha() { sha256sum "$1" | cut -d' ' -f1; }
inputs_of() { # STAGE-PROMPT-WORD: the logged inputs of the last request whose prompt has it
    jq -sc --arg w "$1" '[.[] | select(.method == "POST" and (.prompt // "" | contains($w)))] | last | [.inputs[] | {mime, sha256}]' "$FAKE_LOG"
}

# plan's estimate counts each reference image as 1120 input tokens (Gemini 3's most for an
# image) beside the request's text: sea sends two, scene one (not expanded yet: one per entry)
gf plan "$job"
est_in() { # STAGE: the input tokens of the stage's estimate line in plan's output
    awk -v s="$1" '$1 == s { on = 1; next } on && /estimate:/ { sub(/.*~/, "", $2); print $2; exit }
        on && /^  [a-z]/ { exit }' "$T_DIR/last.out" | tr -d '~'
}
check "plan: sea's estimate holds its two references ($(est_in sea) in)" \
    awk -v n="$(est_in sea)" 'BEGIN { exit !(n >= 2240 && n < 2240 + 500) }'
check "plan: scene's estimate holds its reference ($(est_in scene) in)" \
    awk -v n="$(est_in scene)" 'BEGIN { exit !(n >= 1120 && n < 1120 + 500) }'
check "plan: portrait's estimate has no reference ($(est_in portrait) in)" \
    awk -v n="$(est_in portrait)" 'BEGIN { exit !(n > 0 && n < 500) }'
assert_contains "plan says how a reference is counted" "1120 per reference image" "$(cat "$T_DIR/last.out")"

gf run "$job"
assert_eq "the job runs: exit 0" 0 "$GF_RC"
fake_settle
assert_eq "three image calls" 3 "$(fake_count)"
assert_eq "the scene sent the portrait the portrait stage wrote" \
    "[{\"mime\":\"image/png\",\"sha256\":\"$(sha "$job/portraits/keeper.png")\"}]" "$(inputs_of stairs)"
assert_eq "the sea sent both files, in order, typed by their bytes" \
    "[{\"mime\":\"image/jpeg\",\"sha256\":\"$(sha "$job/photos/sea.jpg")\"},{\"mime\":\"image/png\",\"sha256\":\"$(sha "$job/photos/sky.dat")\"}]" \
    "$(inputs_of photograph)"
order=$(jq -s '[.[] | select(.method == "POST") | .prompt] | map(if test("portrait") then "p" elif test("stairs") then "s" else "x" end) | join("")' "$FAKE_LOG")
check "the portrait was made before the scene that sends it ($order)" \
    awk -v o="$order" 'BEGIN { exit !(index(o, "p") < index(o, "s")) }'
check "the call record keeps a placeholder, not the image's base64" \
    grep -q "gemflow-ref:sha256:$(sha "$job/portraits/keeper.png"):portraits/keeper.png" -r "$job/.gemflow"

gf run "$job"
assert_eq "a second run calls nothing" 3 "$(fake_count)"

# edit one reference: plan names it, the run redoes exactly the item that sent it
solid maroon "$job/photos/sea.jpg" mjpeg
gf plan "$job"
assert_contains "plan names the changed reference" "reference photos/sea.jpg changed" "$(cat "$T_DIR/last.out")"
gf run "$job"
assert_eq "the edited reference redoes one item: exit 0" 0 "$GF_RC"
assert_eq "exactly one more call, the sea" "4 1" "$(fake_count) $(fake_count '.prompt | contains("photograph")' | awk '{ print $1 - 1 }')"
# editing the portrait by hand redoes the scene that sends it (the portrait itself is kept)
solid olive "$job/portraits/keeper.png" png
gf plan "$job"
assert_contains "plan names the edited portrait as the scene's reason" "reference portraits/keeper.png changed" "$(cat "$T_DIR/last.out")"
gf run "$job"
assert_eq "one more call, the scene" "5 2" "$(fake_count) $(fake_count '.prompt | contains("stairs")')"

# bad references fail their item before any call, naming the file; the rest goes on
n=$(fake_count)
printf 'not an image\n' >"$job/photos/sky.dat"
gf run "$job"
assert_eq "a reference that is not an image: exit 1" 1 "$GF_RC"
assert_contains "naming it" "reference 'photos/sky.dat' is not a PNG, JPEG or WebP image (by its bytes)" "$(cat "$T_DIR/last.err")"
assert_eq "no call for it" "$n" "$(fake_count)"
rm "$job/photos/sky.dat"
ln -s /etc/hostname "$job/photos/sky.dat"
gf run "$job"
assert_eq "a link out of the job: exit 1" 1 "$GF_RC"
assert_contains "naming it" "reference 'photos/sky.dat'" "$(cat "$T_DIR/last.err")"
assert_eq "no call for it" "$n" "$(fake_count)"
rm "$job/photos/sky.dat"
gf run "$job"
assert_eq "a missing reference: exit 1" 1 "$GF_RC"
assert_contains "naming it" "reference 'photos/sky.dat'" "$(cat "$T_DIR/last.err")"
# too large: one file whose base64 passes the request's inline limit (20,000,000 bytes)
head -c 16000000 /dev/urandom >"$T_DIR/noise"
{ printf '\x89PNG\r\n\x1a\n'; cat "$T_DIR/noise"; } >"$job/photos/sky.dat"
gf run "$job"
assert_eq "too large: exit 1" 1 "$GF_RC"
assert_contains "naming the file and the limit" "reference 'photos/sky.dat' (16000008 bytes) takes the request's inline data past 20000000 bytes" "$(cat "$T_DIR/last.err")"
assert_eq "no call for it" "$n" "$(fake_count)"

# a path outside the job is a load error with its place
sed -i 's|references: \[photos/sea.jpg, photos/sky.dat\]|references: [photos/sea.jpg, ../secret.png]|' "$job/workflow.yaml"
gf validate "$job"
assert_eq "a reference outside the job: exit 2" 2 "$GF_RC"
assert_contains "with its place and why" "workflow.yaml:18:34: reference '../secret.png' is not a file inside the job directory" "$(cat "$T_DIR/last.err" "$T_DIR/last.out")"
finish
