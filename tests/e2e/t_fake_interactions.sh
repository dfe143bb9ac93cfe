#!/usr/bin/env bash
# t_fake_interactions.sh: end-to-end checks of the fake Gemini server's Interactions API (Gemini
# Omni Flash image-to-video, tests/fake/fake_interactions.c) with curl, jq and ffprobe: create,
# in_progress, completed after the render time, the MP4 itself, URI delivery and the Files API,
# failed / expired / cancelled interactions, unknown ids, bad bodies, faults while polling, the
# SDK fixtures replayed, the request log and stats, and interactions that outlive a restart of
# the fake with --state.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in curl jq ffprobe; do
    command -v "$tool" >/dev/null || { echo "not ok: $tool is needed" >&2; exit 1; }
done

KEY="fk-omni-key-7Tq2"
OMNI=gemini-omni-1.1-flash
R="$T_DIR/resp.json"
STATE="$T_DIR/state.json"
FX="$SRC_DIR/tests/data/sdk"
RENDER_MS=1500
CREATED=0 # interactions the fake accepted (200 on create), counted as the test goes

# call METHOD PATH [BODY]: an API call with the key; prints the HTTP status, reply in $R.
call() {
    local method=$1 path=$2
    shift 2
    curl -s -o "$R" -w '%{http_code}' -X "$method" -H "x-goog-api-key: $KEY" \
        -H 'Content-Type: application/json' "$FAKE_URL/$path" ${1:+--data-binary "$1"}
}
# create BODY-FILE [curl args]: POST /v1beta/interactions; the status goes to $CODE, the
# reply to $R (not run in $(...), so that CREATED counts).
create() {
    local body=$1
    shift
    CODE=$(curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" \
        -H 'Content-Type: application/json' "$@" "$FAKE_URL/v1beta/interactions" \
        --data-binary @"$body")
    if [ "$CODE" = 200 ]; then CREATED=$((CREATED + 1)); fi
}
# uri_ok URI: the fake's own Files download URI.
uri_ok() {
    case $1 in "$FAKE_URL"/v1beta/files/*:download\?alt=media) return 0 ;; esac
    return 1
}
jqe() {
    jq -e "$@" >/dev/null
}
# status_is ID STATUS: GET the interaction (reply kept in $T_DIR/poll.json), true at STATUS.
status_is() {
    curl -s -o "$T_DIR/poll.json" -H "x-goog-api-key: $KEY" "$FAKE_URL/v1beta/interactions/$1"
    [ "$(jq -r .status "$T_DIR/poll.json" 2>/dev/null)" = "$2" ]
}
# hold: later creates render until released (a day); release: every render done now, and the
# render time back to $RENDER_MS. What a test sees "right after create" is then its own doing,
# not a race with the clock on a busy machine.
hold() {
    curl -s -X POST "$FAKE_URL/_fake/interactions" -d '{"render_ms": 86400000}' >/dev/null
}
release() {
    curl -s -X POST "$FAKE_URL/_fake/interactions" -d "{\"finish\": true, \"render_ms\": $RENDER_MS}" >"$T_DIR/release.json"
}
# clip_of REPLY OUT: decode the inline video of a completed interaction into OUT.
clip_of() {
    jq -r '.steps[] | select(.type == "model_output") | .content[] | select(.type == "video")
           | .data' "$1" | base64 -d >"$2"
}
# stream_secs FILE TYPE: the duration of the first stream of TYPE (video, audio).
stream_secs() {
    ffprobe -v error -select_streams "${2:0:1}:0" -show_entries stream=duration -of csv=p=0 "$1"
}
# near A B: |A - B| <= 0.1
near() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 0.1) }'
}
# body DURATION RATIO PROMPT [TASK]: an image-to-video create body (the fixture's image).
body() {
    jq --arg d "$1" --arg r "$2" --arg p "$3" --arg t "${4:-image_to_video}" '.body
        | .input[1].text = $p | .response_format.duration = $d
        | .response_format.aspect_ratio = $r | .generation_config.video_config.task = $t' \
        "$FX/interaction_create.json"
}
last_log() {
    tail -n 1 "$FAKE_LOG" | jq -c "${1:-.}"
}

fake_start --key "$KEY" --render-ms "$RENDER_MS" --state "$STATE" --seed 3

# ==== the catalog: Omni is a model, served only through the Interactions API ====
assert_eq "models.get $OMNI: 200" 200 "$(call GET "v1beta/models/$OMNI")"
assert_eq "models.get $OMNI: advertises generateContent and countTokens" \
    '["generateContent","countTokens"]' "$(jq -c .supportedGenerationMethods "$R")"
assert_eq "generateContent on $OMNI: 400, the live words" \
    "400 This model only supports Interactions API." \
    "$(call POST "v1beta/models/$OMNI:generateContent" '{"contents":[{"parts":[{"text":"x"}]}]}') $(jq -r .error.message "$R")"
assert_eq "models.get gemini-omni-flash-preview (shut down 2026-09-30): 404" 404 \
    "$(call GET v1beta/models/gemini-omni-flash-preview)"

# ==== create -> in_progress -> completed, the clip ====
body 6s 16:9 "A lighthouse beam sweeps the sea. Single continuous shot." >"$T_DIR/a.json"
hold
create "$T_DIR/a.json"
assert_eq "create (background): 200" 200 "$CODE"
cp "$R" "$T_DIR/a-created.json"
A=$(jq -r .id "$R")
check "create: id is v1_ and base64url" jqe '.id | test("^v1_[A-Za-z0-9_-]{40,}$")' "$R"
assert_eq "create: answers at once, in_progress" \
    '{"status":"in_progress","object":"interaction","model":"gemini-omni-1.1-flash"}' \
    "$(jq -c '{status, object, model}' "$R")"
check "create: no output yet" jqe 'has("steps") | not' "$R"
fake_settle
assert_eq "create: log verb, id, state, model, duration" \
    "{\"verb\":\"interactions.create\",\"model\":\"$OMNI\",\"id\":\"$A\",\"state\":\"in_progress\",\"duration_s\":6}" \
    "$(last_log '{verb, model, id: .interaction.id, state: .interaction.state, duration_s: .interaction.duration_s}')"
check "get right after create: in_progress" status_is "$A" in_progress
fake_settle
assert_eq "get: log verb and state" '["interactions.get","in_progress"]' \
    "$(last_log '[.verb, .interaction.state]')"
release
assert_eq "the control released the one render held" 1 "$(jq .finished "$T_DIR/release.json")"
check "get: completed after the render time" \
    wait_for "interaction A to complete" 60 status_is "$A" completed
cp "$T_DIR/poll.json" "$T_DIR/a-done.json"
assert_eq "completed: steps user_input, thought, model_output" \
    '["user_input","thought","model_output"]' "$(jq -c '[.steps[].type]' "$T_DIR/a-done.json")"
assert_eq "completed: one inline video/mp4 content" '["video/mp4",true]' \
    "$(jq -c '[.steps[2].content[0] | .mime_type, (.data | length > 1000)]' "$T_DIR/a-done.json")"
# both are RFC 3339 to the second, and a render released at once can end in its creation's second
check "completed: updated is not before created" jqe '.updated >= .created' "$T_DIR/a-done.json"
check "completed: usage counts 5792 video tokens a second (720p)" jqe \
    '.usage.output_tokens_by_modality[0] == {"modality": "video", "tokens": (5792 * 6)}' \
    "$T_DIR/a-done.json"
clip_of "$T_DIR/a-done.json" "$T_DIR/a.mp4"
assert_eq "clip: h264 video + aac audio" "h264 aac" \
    "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$T_DIR/a.mp4" | paste -sd' ')"
check "clip: video lasts 6 s (±0.1)" near "$(stream_secs "$T_DIR/a.mp4" video)" 6
check "clip: audio lasts 6 s (±0.1)" near "$(stream_secs "$T_DIR/a.mp4" audio)" 6
check "clip: landscape for 16:9" jqe '.streams[0] | .width > .height' \
    <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of json "$T_DIR/a.mp4")
check "clip: decodes to the end" ffmpeg -v error -nostdin -i "$T_DIR/a.mp4" -f null -
fake_settle
assert_eq "get completed: log media bytes = the clip's" "$(stat -c %s "$T_DIR/a.mp4")" \
    "$(last_log .media.bytes)"

# a 9:16 clip of 4 s, another prompt: another clip
body 4s 9:16 "A gull lands on the lighthouse rail." >"$T_DIR/b.json"
create "$T_DIR/b.json"
assert_eq "create 9:16 4s: 200" 200 "$CODE"
B=$(jq -r .id "$R")
check "9:16: completes" wait_for "interaction B to complete" 60 status_is "$B" completed
clip_of "$T_DIR/poll.json" "$T_DIR/b.mp4"
check "9:16 clip: portrait" jqe '.streams[0] | .width < .height' \
    <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of json "$T_DIR/b.mp4")
check "9:16 clip: video 4 s (±0.1)" near "$(stream_secs "$T_DIR/b.mp4" video)" 4
check "9:16 clip: audio 4 s (±0.1)" near "$(stream_secs "$T_DIR/b.mp4" audio)" 4
body 6s 16:9 "A storm rolls over the cliffs." >"$T_DIR/c.json"
create "$T_DIR/c.json"
C=$(jq -r .id "$R")
check "third clip: completes" wait_for "interaction C to complete" 60 status_is "$C" completed
clip_of "$T_DIR/poll.json" "$T_DIR/c.mp4"
check "clips of two prompts differ" test "$(sha256sum <"$T_DIR/a.mp4")" != "$(sha256sum <"$T_DIR/c.mp4")"

# the same body twice: two interactions, the same clip; the log shows the body twice
create "$T_DIR/a.json"
assert_eq "same body again: 200" 200 "$CODE"
A2=$(jq -r .id "$R")
check "same body again: a new id" test "$A2" != "$A"
check "same body again: completes" wait_for "interaction A2 to complete" 60 status_is "$A2" completed
clip_of "$T_DIR/poll.json" "$T_DIR/a2.mp4"
check "same prompt: the same clip bytes" cmp -s "$T_DIR/a.mp4" "$T_DIR/a2.mp4"
fake_settle
assert_eq "log: body_sha256 of a repeated create shows twice, the others once" '[1,1,2]' \
    "$(jq -sc '[.[] | select(.verb == "interactions.create" and .status == 200)]
               | group_by(.body_sha256) | map(length) | sort' "$FAKE_LOG")"
assert_eq "stats: creates counted per model" "$CREATED" \
    "$(curl -s "$FAKE_URL/_fake/stats" | jq ".interactions_created[\"$OMNI\"]")"

# ==== URI delivery: a unary create waits for the render; the Files API serves the bytes ====
jq '.body' "$FX/interaction_create_uri.json" >"$T_DIR/uri.json"
create "$T_DIR/uri.json"
assert_eq "unary create with delivery uri: 200 completed" "200 completed" \
    "$CODE $(jq -r .status "$R")"
U=$(jq -r .id "$R")
URI=$(jq -r '.steps[] | select(.type == "model_output") | .content[0].uri' "$R")
check "uri: the fake's own Files URI, :download?alt=media" uri_ok "$URI"
check "uri: no inline data beside it" jqe '[.steps[2].content[0] | has("data")] == [false]' "$R"
FID=$(sed 's|.*/files/||; s|:download.*||' <<<"$URI")
assert_eq "files.get: 200 ACTIVE video/mp4" "200 ACTIVE video/mp4" \
    "$(call GET "v1beta/files/$FID") $(jq -r '"\(.state) \(.mimeType)"' "$R")"
assert_eq "files.download with the key: 200" 200 \
    "$(curl -s -o "$T_DIR/u.mp4" -w '%{http_code}' -H "x-goog-api-key: $KEY" "$URI")"
assert_eq "downloaded: the size files.get announced" "$(jq -r .sizeBytes "$R")" \
    "$(stat -c %s "$T_DIR/u.mp4")"
check "downloaded: 4 s of video (±0.1)" near "$(stream_secs "$T_DIR/u.mp4" video)" 4
check "downloaded: portrait (9:16)" jqe '.streams[0] | .width < .height' \
    <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of json "$T_DIR/u.mp4")
assert_eq "files.download without a key: 403" 403 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URI")"
assert_eq "get of a uri interaction: the video inline (the guide's note)" true \
    "$(call GET "v1beta/interactions/$U" >/dev/null; jq '.steps[2].content[0] | has("data")' "$R")"
assert_eq "unknown file: 403 PERMISSION_DENIED" "403 PERMISSION_DENIED" \
    "$(call GET v1beta/files/nosuchfile0) $(jq -r .error.status "$R")"

# ==== failed, expired, cancelled ====
body 5s 16:9 "A ship sinks. [[fault:op-failed]]" >"$T_DIR/f.json"
create "$T_DIR/f.json"
assert_eq "op-failed marker: create 200 in_progress" "200 in_progress" "$CODE $(jq -r .status "$R")"
F=$(jq -r .id "$R")
check "op-failed: ends failed" wait_for "interaction F to fail" 60 status_is "$F" failed
check "failed: carries its error" jqe '.errors[0] | (.code | length > 0) and (.message | test("failed"))' \
    "$T_DIR/poll.json"
check "failed: no video" jqe 'has("steps") | not' "$T_DIR/poll.json"
body 5s 16:9 "A fog bank rolls in." >"$T_DIR/h.json"
create "$T_DIR/h.json" -H 'X-Fake-Fault: op-failed'
assert_eq "X-Fake-Fault: op-failed header: create 200" 200 "$CODE"
H=$(jq -r .id "$R")
check "op-failed header: ends failed" wait_for "interaction H to fail" 60 status_is "$H" failed
echo '[{"match": "harbour", "kind": "op-expired"}]' >"$T_DIR/rules.json"
curl -s "$FAKE_URL/_fake/faults" --data-binary @"$T_DIR/rules.json" >/dev/null
body 5s 16:9 "Night over the harbour." >"$T_DIR/e.json"
hold
create "$T_DIR/e.json"
assert_eq "op-expired rule: create 200" 200 "$CODE"
E=$(jq -r .id "$R")
check "op-expired: in_progress first" status_is "$E" in_progress
release
expired() {
    [ "$(call GET "v1beta/interactions/$E")" = 404 ]
}
check "op-expired: gone (404) after the render time" wait_for "interaction E to expire" 60 expired
assert_eq "expired: not_found body" "not_found" "$(jq -r .error.code "$R")"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
body 8s 16:9 "A keeper waits." >"$T_DIR/k.json"
create "$T_DIR/k.json"
K=$(jq -r .id "$R")
assert_eq "cancel a running interaction: 200 cancelled" "200 cancelled" \
    "$(call POST "v1beta/interactions/$K/cancel") $(jq -r .status "$R")"
create "$T_DIR/h.json" # made after K: once it is done, so is K's render time
L=$(jq -r .id "$R")
check "an interaction made after the cancel completes" \
    wait_for "interaction L to complete" 60 status_is "$L" completed
check "cancelled: still cancelled after its render time" status_is "$K" cancelled
assert_eq "cancel again: 400 invalid_request" "400 invalid_request" \
    "$(call POST "v1beta/interactions/$K/cancel") $(jq -r .error.code "$R")"

# ==== unknown ids ====
CAPTURED=$(jq -r '.path | sub("^/v1/interactions/"; "") | sub("\\?.*"; "")' "$FX/interaction_get.json")
assert_eq "unknown id: 404 not_found (Interactions error form)" '404 {"message":"Requested entity was not found.","code":"not_found"}' \
    "$(call GET "v1beta/interactions/$CAPTURED") $(jq -c .error "$R")"
assert_eq "malformed id: 400 invalid_request" "400 invalid_request" \
    "$(call GET "v1beta/interactions/not-an-id") $(jq -r .error.code "$R")"

# ==== bad bodies ====
bad() { # bad DESCRIPTION STATUS CODE JQ-EDIT: the fixture body edited, its status and code
    jq ".body | $4" "$FX/interaction_create.json" >"$T_DIR/bad.json"
    create "$T_DIR/bad.json"
    assert_eq "$1" "$2 $3" "$CODE $(jq -r .error.code "$R")"
}
bad "unknown top-level field: 400 parameter_unknown" 400 parameter_unknown '.colour = "red"'
bad "unknown field in response_format: 400 parameter_unknown" 400 parameter_unknown \
    '.response_format.fps = 24'
bad "a text model: 400 invalid_request" 400 invalid_request '.model = "gemini-3.8-flash"'
bad "an unknown model: 404 model_not_found" 404 model_not_found '.model = "gemini-omni-9-flash"'
bad "shut-down gemini-omni-flash-preview: 404 model_not_found" 404 model_not_found \
    '.model = "gemini-omni-flash-preview"'
bad "image_to_video without an image: 400 invalid_request" 400 invalid_request 'del(.input[0])'
assert_eq "no image: the message says why" true "$(jq '.error.message | test("image")' "$R")"
bad "duration 2s: 400" 400 invalid_request '.response_format.duration = "2s"'
assert_eq "duration 2s: the API's words" \
    "Requested video duration 2s 0ns is less than the minimum allowed 3s 0ns" "$(jq -r .error.message "$R")"
bad "duration 12s: 400" 400 invalid_request '.response_format.duration = "12s"'
assert_eq "duration 12s: the API's words" \
    "Requested video duration 12s 0ns exceeds the maximum allowed 10s 0ns" "$(jq -r .error.message "$R")"
bad "duration as a number: 400" 400 invalid_request '.response_format.duration = 6'
bad "aspect ratio 1:1: 400" 400 invalid_request '.response_format.aspect_ratio = "1:1"'
assert_eq "aspect ratio: lists the supported values" true \
    "$(jq '.error.message | test("Supported values: .16:9., .9:16.")' "$R")"
bad "resolution 8k: 400" 400 invalid_request '.response_format.resolution = "8k"'
bad "unknown task: 400" 400 invalid_request '.generation_config.video_config.task = "dance"'
bad "image data not base64: 400" 400 invalid_request '.input[0].data = "%%%"'
bad "JPEG label on PNG bytes: 400" 400 invalid_request '.input[0].mime_type = "image/jpeg"'
bad "audio input: 400" 400 invalid_request '.input[0] = {type: "audio", data: "AAAA", mime_type: "audio/wav"}'
bad "temperature: 400 (not supported by Omni)" 400 invalid_request '.generation_config.temperature = 1'
bad "background without store: 400" 400 invalid_request '.store = false'
bad "empty input: 400" 400 invalid_request '.input = []'
printf '{"model": ' >"$T_DIR/bad.json"
create "$T_DIR/bad.json"
assert_eq "broken JSON: 400 invalid_request" "400 invalid_request" "$CODE $(jq -r .error.code "$R")"
assert_eq "no key: 401 authentication" "401 authentication" \
    "$(curl -s -o "$R" -w '%{http_code}' "$FAKE_URL/v1beta/interactions" \
        --data-binary @"$T_DIR/a.json") $(jq -r .error.code "$R")"
assert_eq "bad bodies made no interaction" "$CREATED" \
    "$(jq '.interactions | length' "$STATE")"

# ==== faults while polling ====
echo '[{"match": "/interactions/", "kind": "503", "times": 1}]' >"$T_DIR/rules.json"
curl -s "$FAKE_URL/_fake/faults" --data-binary @"$T_DIR/rules.json" >/dev/null
assert_eq "a 503 rule on get: 503 unavailable" "503 unavailable" \
    "$(call GET "v1beta/interactions/$A") $(jq -r .error.code "$R")"
assert_eq "the next get: 200 completed" "200 completed" \
    "$(call GET "v1beta/interactions/$A") $(jq -r .status "$R")"
create "$T_DIR/k.json" -H 'X-Fake-Fault: 429'
assert_eq "X-Fake-Fault 429 on create: 429 rate_limit_exceeded" "429 rate_limit_exceeded" \
    "$CODE $(jq -r .error.code "$R")"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null

# ==== the SDK fixtures (@google/genai 3.3.0) replayed ====
jq .body "$FX/interaction_create.json" >"$T_DIR/fx.json"
code=$(curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' \
    "$FAKE_URL$(jq -r .path "$FX/interaction_create.json")" --data-binary @"$T_DIR/fx.json")
assert_eq "sdk fixture interaction_create (POST /v1/interactions): 200 in_progress" \
    "200 in_progress" "$code $(jq -r .status "$R")"
CREATED=$((CREATED + 1))
X=$(jq -r .id "$R")
path=$(jq -r .path "$FX/interaction_get.json") # the capture's id replaced by the fake's
assert_eq "sdk fixture interaction_get (?stream=false): 200" 200 \
    "$(call GET "$(sed "s|$CAPTURED|$X|; s|^/||" <<<"$path")")"
for f in file_get file_download; do
    path=$(jq -r .path "$FX/$f.json" | sed "s|/files/[a-z0-9]*|/files/$FID|; s|^/||")
    assert_eq "sdk fixture $f: 200" 200 "$(call GET "$path")"
done
jq .body "$FX/interaction_create_uri.json" >"$T_DIR/fx.json"
create "$T_DIR/fx.json"
assert_eq "sdk fixture interaction_create_uri: 200" 200 "$CODE"

# ==== --state: interactions outlive a restart of the fake ====
body 7s 16:9 "A lighthouse beam sweeps the sea. Single continuous shot." >"$T_DIR/s.json"
create "$T_DIR/s.json"
S=$(jq -r .id "$R")
check "state file: valid JSON that holds the new interaction" \
    jqe --arg id "$S" '.interactions | map(.id) | index($id) != null' "$STATE"
fake_restart --key "$KEY" --render-ms "$RENDER_MS" --state "$STATE" --seed 3
check "after a restart with --state: the running one completes" \
    wait_for "interaction S to complete after the restart" 60 status_is "$S" completed
clip_of "$T_DIR/poll.json" "$T_DIR/s.mp4"
check "after the restart: 7 s of video (±0.1)" near "$(stream_secs "$T_DIR/s.mp4" video)" 7
assert_eq "after the restart: an old completed one still answers, same bytes" \
    "$(sha256sum <"$T_DIR/a.mp4")" \
    "$(status_is "$A" completed && clip_of "$T_DIR/poll.json" "$T_DIR/a3.mp4"; sha256sum <"$T_DIR/a3.mp4")"
check "after the restart: the failed one is still failed" status_is "$F" failed
create "$T_DIR/s.json"
check "after the restart: a repeated body still gets a new id" test "$(jq -r .id "$R")" != "$S"
fake_restart --key "$KEY" --render-ms "$RENDER_MS" --seed 3
assert_eq "a restart without --state forgets them: 404" 404 "$(call GET "v1beta/interactions/$A")"

# ==== --op-fail-rate: a repeatable share fails ====
fake_restart --key "$KEY" --render-ms 0 --op-fail-rate 0.5 --seed 3
for i in 1 2 3 4 5 6 7 8 9 10; do
    body 3s 16:9 "Clip number $i." >"$T_DIR/r.json"
    create "$T_DIR/r.json"
    status_is "$(jq -r .id "$R")" completed
    jq -r .status "$T_DIR/poll.json"
done >"$T_DIR/rate1.txt"
check "op-fail-rate 0.5: some fail" grep -q '^failed$' "$T_DIR/rate1.txt"
check "op-fail-rate 0.5: some complete" grep -q '^completed$' "$T_DIR/rate1.txt"
fake_restart --key "$KEY" --render-ms 0 --op-fail-rate 0.5 --seed 3
for i in 1 2 3 4 5 6 7 8 9 10; do
    body 3s 16:9 "Clip number $i." >"$T_DIR/r.json"
    create "$T_DIR/r.json"
    status_is "$(jq -r .id "$R")" completed
    jq -r .status "$T_DIR/poll.json"
done >"$T_DIR/rate2.txt"
check "op-fail-rate: the same seed and bodies fail the same ones" cmp -s "$T_DIR/rate1.txt" "$T_DIR/rate2.txt"

fake_stop
check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
finish
