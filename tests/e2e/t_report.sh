#!/usr/bin/env bash
# gemflow report: report.html is one self-contained page; in a real headless Chromium every image
# decodes and every audio element has a duration, also after the job directory is copied
# elsewhere; no network request; model text is escaped; failures quote the API; edits marked.
source "$(dirname "$0")/lib.sh"
# speed_up DIR: give the job a workflow.yaml carrying the test speed-ups of lib.sh (FAST), so
# that status, plan, accept and report compute the same requests as the runs do; prints DIR
speed_up() {
    local s
    {
        printf 'version: 1\nuse: script-to-media\nset:\n'
        for s in "${FAST[@]}"; do [ "$s" = --set ] || printf '  %s: %s\n' "${s%%=*}" "${s#*=}"; done
    } >"$1/workflow.yaml"
    echo "$1"
}
# fast_job NAME: a copy of the sample job with those speed-ups
fast_job() { speed_up "$(new_job "$1")"; }
CHECK="$SRC_DIR/tests/browser/check-media.js"
command -v chromium >/dev/null || { fail "chromium is not installed (tools/deps.sh installs it)"; finish; }
command -v node >/dev/null || { fail "node is not installed (tools/deps.sh installs it)"; finish; }

# browse PAGE OUT [node options...]: load PAGE in chromium, results as JSON in OUT
browse() {
    local page=$1 out=$2
    shift 2
    node "$CHECK" "$page" "$@" >"$out" 2>"$out.err" || { fail "browser check of $page: $(cat "$out.err")"; echo '{}' >"$out"; }
}
jqr() { jq -r "$1" "$2"; }

fake_start
job=$(fast_job done)
gf run "$job"
assert_eq "run exits 0" 0 "$GF_RC"
# a job's own price table; the image model has no price in it, so its cost must stay unknown
cat >"$job/prices.yaml" <<'YAML'
version: 1
currency: USD
models:
  gemini-3.8-flash: { input: 2.00, output: 4.00 }
  gemini-3.8-flash-tts: { input: 1.00, output: 10.00 }
YAML
gf report "$job"
assert_eq "report exits 0" 0 "$GF_RC"
page="$job/report.html"
# cost STAGE IN OUT: the cost of a stage's recorded tokens at these prices, as the page prints it
cost() {
    jq -rs --arg s "$1" --argjson i "$2" --argjson o "$3" \
        '[.[] | select(.event == "call_end" and .stage == $s) | .tokens]
         | ((map(.prompt // 0) | add) * $i + (map(.output // 0) | add) * $o) / 1e6' "$job/progress.jsonl"
}
row() { grep -o "<tr><td>$1</td>.*</tr>" "$page"; }
narration_usd=$(cost narration 1 10)
text_usd=$(awk -v a="$(cost analysis 2 4)" -v b="$(cost prompts 2 4)" 'BEGIN { printf "%.10f", a + b }')
assert_contains "narration's cost at the job's prices" "$(printf '$%.4f' "$narration_usd")" "$(row narration)"
assert_contains "analysis's cost" "$(printf '$%.4f' "$(cost analysis 2 4)")" "$(row analysis)"
assert_contains "images: no price, so no cost" "unknown<br><small>no price known for this model" "$(row images)"
assert_contains "the job's cost is what is known, and says what is not" \
    "unknown: at least $(printf '$%.4f' "$(awk -v a="$narration_usd" -v b="$text_usd" 'BEGIN { print a + b }')"), and no estimate for gemini-nano-banana-2.1 (see" \
    "$(grep -o 'cost <b>[^<]*</b>' "$page")"
assert_contains "the page names the price table" "$job/prices.yaml" "$(cat "$page")"
check "report.html written" test -s "$page"
assert_contains "report says where it wrote" "$page" "$(cat "$T_DIR/last.out")"

# what the page must show, counted from the job itself
# the scene images and the character portraits
n_images=$(jq '[.artifacts[] | select(.stage == "images" or .stage == "portraits")] | length' "$job/manifest.json")
n_audio=$(jq '[.artifacts[] | select(.stage == "narration")] | length' "$job/manifest.json")
title=$(jq -r '.title' "$job/analysis.json")
first_prompt=$(jq -r '.scenes[0].image_prompt' "$job/prompts.json")

# static checks: nothing fetched from the network, every media path relative and present
check "no http(s) reference in the page" bash -c "! grep -Eio '(src|href)=\"[a-z]+://' '$page'"
check "no script in the page" bash -c "! grep -qi '<script' '$page'"
for src in $(grep -o 'src="[^"]*"' "$page" | sed 's/^src="//; s/"$//'); do
    [ -f "$job/$src" ] || fail "media $src referenced but not in the job"
done
ok "every media path is relative to the job and exists"

browse "$page" "$T_DIR/done.json" --screenshot "$T_DIR/report.png" --contains "$title" --contains "$first_prompt"
assert_eq "every image is in the page" "$n_images" "$(jqr '.images | length' "$T_DIR/done.json")"
assert_eq "every image decoded (naturalWidth > 0)" "$n_images" "$(jqr '[.images[] | select(.naturalWidth > 0)] | length' "$T_DIR/done.json")"
assert_eq "images decode at the size ffprobe reads" "$(png_size "$job/images/s01.jpg") $(png_size "$job/portraits/$(jq -r '.characters[0].id' "$job/analysis.json").jpg")" \
    "$(jqr '.images | map("\(.naturalWidth)x\(.naturalHeight)") | unique | sort_by(. | test("^1376") | not) | join(" ")' "$T_DIR/done.json")"
assert_eq "every narration has an audio player" "$n_audio" "$(jqr '.audio | length' "$T_DIR/done.json")"
assert_eq "every audio element has a duration > 0" "$n_audio" "$(jqr '[.audio[] | select(.duration > 0 and .error == null)] | length' "$T_DIR/done.json")"
frames=$(wav_frames "$job/audio/s01.wav")
rate=$(jq -r '.artifacts[] | select(.path == "audio/s01.wav") | .media.sample_rate' "$job/manifest.json")
browser_s=$(jqr '.audio[] | select(.src == "audio/s01.wav") | .duration' "$T_DIR/done.json")
check "the browser's duration ($browser_s s) is the WAV's ($frames frames at $rate Hz)" \
    awk -v f="$frames" -v r="$rate" -v d="$browser_s" 'BEGIN { x = f / r - d; exit !(r > 0 && x < 0.05 && x > -0.05) }'
assert_eq "no network request" 0 "$(jqr '.network | length' "$T_DIR/done.json")"
assert_eq "no script ran" 0 "$(jqr '.scripts' "$T_DIR/done.json")"
assert_eq "the analysis title is shown" true "$(jq --arg t "$title" '.contains[$t]' "$T_DIR/done.json")"
assert_eq "the image prompt is shown" true "$(jq --arg t "$first_prompt" '.contains[$t]' "$T_DIR/done.json")"
check "a screenshot was saved" bash -c "head -c 8 '$T_DIR/report.png' | od -An -c | grep -q 'P   N   G'"
# the prompt sits in the same scene card as its image
scene1=$(awk '/<article class="scene" id="scene-s01">/,/<\/article>/' "$page")
assert_contains "scene s01 holds its image" 'src="images/s01.jpg"' "$scene1"
assert_contains "scene s01 holds its narration" 'src="audio/s01.wav"' "$scene1"

# the page works when the job directory is copied elsewhere
mkdir -p "$T_DIR/elsewhere"
cp -r "$job" "$T_DIR/elsewhere/copied"
rm -rf "$job/images" "$job/audio" # the original media are gone: only the copy's can load
browse "$T_DIR/elsewhere/copied/report.html" "$T_DIR/copied.json"
assert_eq "copied: every image decodes" "$n_images" "$(jqr '[.images[] | select(.naturalWidth > 0)] | length' "$T_DIR/copied.json")"
assert_eq "copied: every audio has a duration" "$n_audio" "$(jqr '[.audio[] | select(.duration > 0)] | length' "$T_DIR/copied.json")"

# an edited image is marked; the stage table counts it
copy="$T_DIR/elsewhere/copied"
cp "$copy/images/s02.jpg" "$copy/images/s01.jpg"
gf report "$copy"
assert_eq "one edited badge" 1 "$(grep -o 'class="badge edited"' "$copy/report.html" | wc -l)"
scene1=$(awk '/<article class="scene" id="scene-s01">/,/<\/article>/' "$copy/report.html")
assert_contains "the edit is marked on its scene" 'badge edited' "$scene1"

# model output is escaped: markup in the script comes back in the analysis as text, never as HTML
mkjob() { mkdir -p "$T_DIR/$1" && printf '%s\n' "${@:2}" >"$T_DIR/$1/script.txt" && speed_up "$T_DIR/$1"; }
evil=$(mkjob evil "SCENE 1 - The <b>keeper</b> & \"his\" lamp" \
    "He writes <img src=x onerror=\"document.title='pwned'\"> on the wall & <script>document.title='pwned'</script> waits." \
    "" "SCENE 2 - Morning" "The sun comes up over the point.")
gf run "$evil"
assert_eq "the markup job runs" 0 "$GF_RC"
check "the analysis really carries the markup" grep -q 'onerror' "$evil/analysis.json"
gf report "$evil"
browse "$evil/report.html" "$T_DIR/evil.json" --contains "<img src=x onerror="
assert_eq "escaped: no injected script" 0 "$(jqr '.scripts' "$T_DIR/evil.json")"
assert_eq "escaped: title untouched" "evil · gemflow report" "$(jqr '.title' "$T_DIR/evil.json")"
assert_eq "escaped: only the 2 real images and the portraits" $((2 + $(jq '.characters | length' "$evil/analysis.json"))) "$(jqr '.images | length' "$T_DIR/evil.json")"
assert_eq "escaped: the markup shows as text" true "$(jqr '.contains["<img src=x onerror="]' "$T_DIR/evil.json")"

# a failed job: the failure is shown in the API's words, the other media still play
fake_stop
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1}]' >"$T_DIR/f400.json"
fake_start --faults "$T_DIR/f400.json"
bad=$(fast_job failed)
gf run "$bad"
assert_eq "the failed run exits 1" 1 "$GF_RC"
failed_item=$(jq -rs 'map(select(.event=="item_failed")) | first | .item' "$bad/progress.jsonl")
api_words=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.message' "$bad/progress.jsonl")
gf report "$bad"
assert_eq "report of a failed job exits 0" 0 "$GF_RC"
browse "$bad/report.html" "$T_DIR/bad.json" --contains "$api_words" --contains "HTTP 400"
assert_eq "the API's words are on the page" true "$(jq --arg t "$api_words" '.contains[$t]' "$T_DIR/bad.json")"
assert_eq "the HTTP status is on the page" true "$(jqr '.contains["HTTP 400"]' "$T_DIR/bad.json")"
assert_eq "the failed scene has no image" $((n_images - 1)) "$(jqr '.images | length' "$T_DIR/bad.json")"
assert_eq "the other images decode" $((n_images - 1)) "$(jqr '[.images[] | select(.naturalWidth > 0)] | length' "$T_DIR/bad.json")"
scene=$(awk "/<article class=\"scene\" id=\"scene-$failed_item\">/,/<\/article>/" "$bad/report.html")
assert_contains "the failure is on its own scene" 'badge failed' "$scene"
check "the failures section names the item" grep -q "<b>images/$failed_item</b>" "$bad/report.html"

# a job in progress (one image request hangs, so it surely runs): the page shows what is done
# so far, and says the job is running
fake_stop
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "timeout", "times": 1}]' >"$T_DIR/hang.json"
fake_start --faults "$T_DIR/hang.json" --hang-ms 60000
live=$(fast_job live)
"$GEMFLOW" run -q "${FAST[@]}" "$live" >/dev/null 2>&1 &
pid=$!
wait_for "seven images recorded" 300 \
    eval '[ "$(grep -c "\"event\":\"item_done\",\"stage\":\"images\"" "$live/progress.jsonl" 2>/dev/null)" -ge 7 ]' ||
    fail "the images never came"
gf report "$live"
assert_eq "report while the job runs exits 0" 0 "$GF_RC"
check "the job was still running" kill -0 $pid
assert_contains "the page says running" 'class="badge running"' "$(head -c 20000 "$live/report.html")"
n_live=$(grep -o '<img ' "$live/report.html" | wc -l)
assert_eq "the 7 finished images and the portraits are on the page" $((7 + $(jq '.characters | length' "$live/analysis.json"))) "$n_live"
browse "$live/report.html" "$T_DIR/live.json"
assert_eq "running: every image on the page decodes" "$n_live" "$(jqr '[.images[] | select(.naturalWidth > 0)] | length' "$T_DIR/live.json")"
assert_contains "running: the hanging image is not there yet" "not generated for this request yet" "$(cat "$live/report.html")"
kill -9 $pid
wait $pid 2>/dev/null

# usage errors
gf report
assert_eq "no job: exit 2" 2 "$GF_RC"
gf report "$T_DIR/nope"
assert_eq "no such job: exit 2" 2 "$GF_RC"
finish
