#!/usr/bin/env bash
# t_portraits.sh: consistent characters in the bundled workflow, on the fake. The analysis lists
# a cast and each scene's characters; the portraits stage makes one portrait per character; every
# scene image request carries exactly the portraits of its scene's characters (the fake's logged
# inputs against the files' SHA-256); editing one portrait redoes exactly the scene images that
# sent it and the video, nothing else (requests counted); `plan` says which reference changed;
# --set portraits.enabled=false makes no portrait and sends no reference.
source "$(dirname "$0")/lib.sh"
fake_start
job=$(new_job lighthouse)

PORTRAIT='.prompt | startswith("A character reference portrait")'
IMAGE='(.model | test("banana")) and (.prompt | startswith("A character reference portrait") | not)'
TTS='.model | test("tts")'

# portrait_shas JOB SCENE: the SHA-256 of the portraits of the scene's characters, in order
portrait_shas() {
    local c
    for c in $(jq -r --arg id "$2" '.scenes[] | select(.id == $id) | .characters[]' "$1/analysis.json"); do
        sha256sum "$1/portraits/$c.jpg" | cut -d' ' -f1
    done | paste -sd' '
}
# sent_shas JOB SCENE: the SHA-256 of the inputs of the last image request for the scene (found
# by its prompt, which the fake logs cut to 200 characters)
sent_shas() {
    local prompt
    prompt=$(jq -r --arg id "$2" '.scenes[] | select(.id == $id) | .image_prompt' "$1/prompts.json")
    jq -rs --arg p "$prompt" '[.[] | select(.method == "POST" and .prompt != null) | . as $e |
            select(($e.prompt | length) > 40 and ($p | startswith($e.prompt)))] | last | .inputs | map(.sha256) | join(" ")' \
        "$FAKE_LOG"
}

# ---- the sample job with portraits ----
gf run "$job"
assert_eq "run exits 0" 0 "$GF_RC"
[ "$GF_RC" = 0 ] || cat "$T_DIR/last.err" >&2
scenes=$(jq '.scenes | length' "$job/analysis.json")
chars=$(jq '.characters | length' "$job/analysis.json")
check "the analysis lists characters ($chars)" test "$chars" -ge 2
assert_eq "every character id is a slug" 0 \
    "$(jq '[.characters[].id | select(test("^[a-z0-9]+(-[a-z0-9]+)*$") | not)] | length' "$job/analysis.json")"
assert_eq "every scene names only characters of the cast" 0 \
    "$(jq '[.characters[].id] as $ids | [.scenes[].characters[] | select(IN($ids[]) | not)] | length' "$job/analysis.json")"
assert_eq "some scene shows nobody, some several" "true true" \
    "$(jq -r '[any(.scenes[]; .characters == []), any(.scenes[]; (.characters | length) > 1)] | map(tostring) | join(" ")' "$job/analysis.json")"
assert_eq "every scene has a motion sentence" "$scenes" \
    "$(jq '[.scenes[] | select((.motion | length) > 10)] | length' "$job/analysis.json")"
assert_eq "prompts.json carries each scene's characters" \
    "$(jq -c '[.scenes[] | {id, characters}]' "$job/analysis.json")" \
    "$(jq -c '[.scenes[] | {id, characters}]' "$job/prompts.json")"
assert_eq "one portrait per character" \
    "$(jq -r '[.characters[].id + ".jpg"] | sort | join(" ")' "$job/analysis.json")" \
    "$(ls "$job/portraits" | sort | paste -sd' ')"
assert_eq "one portrait request per character, without references" "$chars 0" \
    "$(fake_count "$PORTRAIT") $(fake_count "($PORTRAIT) and (.inputs | length) > 0")"
assert_eq "requests: analysis, prompts, $chars portraits, $scenes images, $scenes narrations" \
    "$((2 + chars + 2 * scenes))" "$(fake_count)"
bad=0
for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    want=$(portrait_shas "$job" "$id")
    got=$(sent_shas "$job" "$id")
    [ "$want" = "$got" ] || { bad=$((bad + 1)); echo "# $id: sent [$got], its portraits [$want]" >&2; }
done
assert_eq "each scene image request carries exactly its characters' portraits, in order" 0 "$bad"
assert_eq "every reference went as image/jpeg" 0 \
    "$(jq -s "[.[] | select(.method == \"POST\") | select($IMAGE) | .inputs[] | select(.mime != \"image/jpeg\" or .format != \"jpeg\")] | length" "$FAKE_LOG")"
assert_eq "the portraits stage waits for the analysis only; images wait for the portraits" true \
    "$(jq -s '(map(select(.event == "call_start" and .stage == "portraits")) | map(.ts) | max) <
              (map(select(.event == "call_start" and .stage == "images")) | map(.ts) | min)' "$job/progress.jsonl")"

# ---- editing one portrait: plan names it; the rerun redoes the scene images that sent it ----
who=$(jq -r '.characters[0].id' "$job/analysis.json")
using=$(jq -r --arg c "$who" '[.scenes[] | select(.characters | index($c)) | .id] | join(" ")' "$job/analysis.json")
n_using=$(echo "$using" | wc -w)
check "'$who' is in some scenes but not all ($n_using of $scenes)" test "$n_using" -ge 1 -a "$n_using" -lt "$scenes"
for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    sha256sum "$job/images/$id.jpg"
done >"$T_DIR/images.before"
ffmpeg -v error -y -i "$job/portraits/$who.jpg" -q:v 9 "$T_DIR/edited.jpg" &&
    cp "$T_DIR/edited.jpg" "$job/portraits/$who.jpg"
gf plan "$job"
assert_eq "plan exits 0" 0 "$GF_RC"
assert_eq "plan: 'reference portraits/$who.jpg changed' for exactly the scenes that show $who" "$using" \
    "$(grep -F "request changed: reference portraits/$who.jpg changed" "$T_DIR/last.out" | awk '{ print $1 }' | paste -sd' ')"
assert_file_contains "plan: the edited portrait is kept" "$who            edited by hand: kept" "$T_DIR/last.out"
assert_eq "plan: $n_using calls now" "calls: $n_using now" "$(grep '^calls:' "$T_DIR/last.out")"

before_all=$(fake_count) before_img=$(fake_count "$IMAGE") before_tts=$(fake_count "$TTS")
before_por=$(fake_count "$PORTRAIT") encodes=$(events "$job/progress.jsonl" encode_start)
gf run "$job"
assert_eq "rerun exits 0" 0 "$GF_RC"
assert_eq "rerun: $n_using image requests, no portrait, no narration, nothing else" \
    "$n_using 0 0 $n_using" \
    "$(($(fake_count "$IMAGE") - before_img)) $(($(fake_count "$PORTRAIT") - before_por)) $(($(fake_count "$TTS") - before_tts)) $(($(fake_count) - before_all))"
assert_eq "rerun: the video is encoded again, once" $((encodes + 1)) "$(events "$job/progress.jsonl" encode_start)"
assert_eq "rerun: the portrait edited by hand is kept" "$(sha256sum <"$T_DIR/edited.jpg")" "$(sha256sum <"$job/portraits/$who.jpg")"
changed=$(for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    grep -qF "$(sha256sum "$job/images/$id.jpg")" "$T_DIR/images.before" || echo "$id"
done | paste -sd' ')
assert_eq "rerun: exactly the images of the scenes that show $who changed" "$using" "$changed"
bad=0
for id in $using; do
    [ "$(portrait_shas "$job" "$id")" = "$(sent_shas "$job" "$id")" ] || bad=$((bad + 1))
done
assert_eq "rerun: each redone image sent the edited portrait" 0 "$bad"
n=$(fake_count)
gf run "$job"
assert_eq "a third run calls nothing" "0 $n" "$GF_RC $(fake_count)"

# ---- the off switch: no portrait, no reference ----
off=$(new_job off)
gf plan --set portraits.enabled=false "$off"
assert_file_contains "plan says portraits is disabled" \
    "portraits    disabled (enabled: false): not run; images sends none of its files as references" \
    "$T_DIR/last.out"
n=$(fake_count) n_por=$(fake_count "$PORTRAIT") n_refs=$(fake_count '(.inputs | length) > 0')
gf run --set portraits.enabled=false "$off"
assert_eq "off: run exits 0" 0 "$GF_RC"
assert_eq "off: no portrait request, no request with inputs" "0 0" \
    "$(($(fake_count "$PORTRAIT") - n_por)) $(($(fake_count '(.inputs | length) > 0') - n_refs))"
assert_eq "off: 2 + 2 x $scenes requests" $((2 + 2 * scenes)) "$(($(fake_count) - n))"
check "off: no portraits directory" test ! -e "$off/portraits"
check "off: the video is made" test -s "$off/video.mp4"
gf rerun --set portraits.enabled=false "$off" portraits
assert_eq "off: rerun of the disabled stage is a usage error" 2 "$GF_RC"
assert_file_contains "off: rerun says why" "is disabled (enabled: false): there is nothing to rerun" \
    "$T_DIR/last.err"

# turning it off on a job that has portraits redoes the images that sent some (plan says so)
gf plan --set portraits.enabled=false "$job"
assert_eq "off on a job with portraits: the images that sent one are asked again" \
    "$(jq '[.scenes[] | select(.characters != [])] | length' "$job/analysis.json")" \
    "$(grep -c 'request changed: reference portraits/.* removed' "$T_DIR/last.out")"
finish
