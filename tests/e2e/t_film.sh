#!/usr/bin/env bash
# t_film.sh: the bundled script-to-film workflow on the fake: analysis, prompts, portraits,
# scene images sending their characters' portraits, narration, one clip per scene made from its
# image and the analysis' motion sentence, and a video whose scenes are those clips (moving
# pictures: frames within a scene differ, where a still without Ken Burns would not). Every
# request is made once; a second run makes none. A portrait edited by hand redoes exactly the
# scene images that sent it, their clips, and the segments of those scenes, the crossfades
# touching them and the sound track (counted from the fake's log and the progress log).
source "$(dirname "$0")/lib.sh"
fake_start --render-ms 300
job=$(new_job film)
printf 'version: 1\nuse: script-to-film\n' >"$job/workflow.yaml"

gf run "$job"
assert_eq "script-to-film runs: exit 0" 0 "$GF_RC"
[ "$GF_RC" = 0 ] || tail -20 "$T_DIR/last.err" >&2
fake_settle
scenes=$(jq '.scenes | length' "$job/analysis.json")
chars=$(jq '.characters | length' "$job/analysis.json")
check "the analysis has scenes ($scenes) and characters ($chars)" test "$scenes" -ge 2 -a "$chars" -ge 1
generate=$(fake_count '.verb != "interactions.create" and .verb != "interactions.get"')
assert_eq "generateContent calls: analysis, prompts, a portrait per character, an image and a narration per scene" \
    "$(api_items "$job")" "$generate"
assert_eq "one clip created per scene, each once" "$scenes $scenes" \
    "$(fake_count '.verb == "interactions.create" and .status == 200') $(jq -sr '[.[] | select(.verb == "interactions.create" and .status == 200) | .body_sha256] | unique | length' "$FAKE_LOG")"
for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    check "clips/$id.mp4 is a video ffprobe reads" \
        test "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_type -of csv=p=0 "$job/clips/$id.mp4")" = video
done
# each clip was made from its scene's image and motion: the create's recorded input names the
# image and its SHA-256 (checked again when sent), which is the image file's on disk
sha() { sha256sum "$1" | cut -d' ' -f1; }
want="" sent=""
for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    want="$want gemflow-ref:sha256:$(sha "$job/images/$id.jpg"):images/$id.jpg"
    sent="$sent $(jq -r '.request.body.input[] | select(.type == "image") | .data' "$job/.gemflow/calls/clips/$id.json")"
done
check "there are scene images to compare ($(wc -w <<<"$want"))" test "$(wc -w <<<"$want")" = "$scenes"
assert_eq "each create sent its scene's image" "$want" "$sent"
assert_eq "and its scene's motion as the prompt" "$(jq -r '.scenes[0].motion' "$job/analysis.json")" \
    "$(jq -r '.request.body.input[] | select(.type == "text") | .text' "$job/.gemflow/calls/clips/$(jq -r '.scenes[0].id' "$job/analysis.json").json")"
# every scene image request that shows a character sent that character's portrait
missing=0 shown=0
for id in $(jq -r '.scenes[].id' "$job/analysis.json"); do
    for c in $(jq -r --arg id "$id" '.scenes[] | select(.id == $id) | .characters[]' "$job/analysis.json"); do
        s=$(sha "$job/portraits/$c.jpg")
        shown=$((shown + 1))
        jq -se --arg s "$s" '[.[] | select(.inputs != null and .verb != "interactions.create") | .inputs[].sha256] | index($s) != null' \
            "$FAKE_LOG" >/dev/null || missing=$((missing + 1))
    done
done
check "some scenes show characters ($shown appearances)" test "$shown" -gt 0
assert_eq "every character's portrait was sent with the scenes that show it" 0 "$missing"
# the video shows the clips: no scene fell back to its still
assert_eq "the encode used a clip for every scene" "[]" \
    "$(jq -sc '[.[] | select(.event == "encode_start")] | last | .clips_missing' "$job/progress.jsonl")"
check "video.mp4 exists" test -s "$job/video.mp4"
# moving pictures: two frames inside the first scene differ (the stills are shown without motion)
frame() { ffmpeg -v error -nostdin -ss "$1" -i "$job/video.mp4" -frames:v 1 -f rawvideo -pix_fmt gray - | md5sum; }
check "the first scene moves (frames at 0.5 s and 2.0 s differ)" test "$(frame 0.5)" != "$(frame 2.0)"

n=$(fake_count)
gf run "$job"
assert_eq "a second run: exit 0" 0 "$GF_RC"
fake_settle
assert_eq "and makes no request at all" "$n" "$(fake_count)"

# --- one portrait edited by hand: exactly the scene images that sent it are made again, their
# clips, and the segments of those scenes, the crossfades touching them and the sound (the
# clips' own sound is mixed under the narration); nothing else
c=$(jq -r '[.scenes[].characters[]] | group_by(.) | min_by(length) | .[0]' "$job/analysis.json")
mapfile -t S < <(jq -r --arg c "$c" '.scenes[] | select(.characters | index($c)) | .id' "$job/analysis.json")
check "character $c appears in some scenes but not all (${#S[@]} of $scenes)" \
    test "${#S[@]}" -ge 1 -a "${#S[@]}" -lt "$scenes"
ffmpeg -v error -nostdin -y -i "$job/portraits/$c.jpg" -q:v 9 "$T_DIR/edited.jpg"
cp "$T_DIR/edited.jpg" "$job/portraits/$c.jpg"
gf plan "$job"
for id in "${S[@]}"; do
    assert_file_contains "plan names the reference for images/$id" "reference portraits/$c.jpg changed" \
        "$T_DIR/last.out"
done
n=$(fake_count_all true)
gf run "$job"
assert_eq "the run after the edit: exit 0" 0 "$GF_RC"
fake_settle
new_requests() { jq -sr --argjson n "$n" '[.[] | select(.seq > $n)]' "$FAKE_LOG"; }
assert_eq "generateContent requests: ${#S[@]} scene images, nothing else" "${#S[@]}" \
    "$(new_requests | jq '[.[] | select(.verb == "generateContent")] | length')"
assert_eq "...all to the image model" "${#S[@]}" \
    "$(new_requests | jq '[.[] | select(.verb == "generateContent" and (.model | test("banana")))] | length')"
assert_eq "clip creates: ${#S[@]}, accepted" "${#S[@]}" \
    "$(new_requests | jq '[.[] | select(.verb == "interactions.create" and .status == 200)] | length')"
assert_eq "the images made again are those scenes'" "$(printf '%s\n' "${S[@]}" | sort | tr '\n' ' ')" \
    "$(jq -rs --arg t "$(jq -rs '[.[] | select(.event == "run_start")] | last | .ts' "$job/progress.jsonl")" \
        '[.[] | select(.event == "item_done" and .stage == "images" and .ts >= $t) | .item] | sort | join(" ")' \
        "$job/progress.jsonl") "
want_segs=$(jq -r --arg c "$c" '[.scenes[].id] as $ids
    | [.scenes[] | .characters | index($c) != null] as $hit
    | ([range(0; $ids | length) | select($hit[.]) | $ids[.]]
       + [range(0; ($ids | length) - 1) | select($hit[.] or $hit[. + 1]) | "\($ids[.])>\($ids[. + 1])"]
       + ["sound"]) | sort | join(" ")' "$job/analysis.json")
assert_eq "segments encoded again: those scenes, their crossfades and the sound" "$want_segs" \
    "$(jq -rs --arg t "$(jq -rs '[.[] | select(.event == "run_start")] | last | .ts' "$job/progress.jsonl")" \
        '[.[] | select(.event == "segment_done" and .ts >= $t) | .segment] | sort | join(" ")' \
        "$job/progress.jsonl")"
finish
