#!/usr/bin/env bash
# t_fake_server.sh: end-to-end checks of the fake Gemini server (tests/fake) itself, with curl
# and jq: auth, text, JSON that follows the schema and the script, images, speech, predict, the
# 404 for unknown models, fault kinds and triggers, the --rpm limit and the request log.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    echo "not ok: curl and jq are needed" >&2
    exit 1
fi

KEY="fk-test-key-Zq81xR"
SCHEMAS="$SRC_DIR/workflows/schemas"
SCRIPT="$SRC_DIR/samples/lighthouse/script.txt"
R="$T_DIR/resp.json"

# post PATH BODY [curl args...]: POST a JSON body (a string, or @file) with the key; prints the
# HTTP status, the reply goes to $R.
post() {
    local path=$1 data=$2
    shift 2
    curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" \
        -H 'Content-Type: application/json' "$@" "$API/$path" --data-binary "$data"
}
# fault KIND [MODEL] [BODY]: the status of a generateContent call carrying X-Fake-Fault: KIND.
fault() {
    post "${2:-gemini-3.5-flash}:generateContent" "${3:-$HELLO}" -H "X-Fake-Fault: $1"
}
# last_log [jq filter]: a field of the last request-log line.
last_log() {
    tail -n 1 "$FAKE_LOG" | jq -c "${1:-.}"
}
# stop_clean: stop the fake server and check it wrote nothing to stderr (sanitizer reports).
stop_clean() {
    fake_stop
    check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
}
# jqe ARGS...: jq -e without output, for check.
jqe() {
    jq -e "$@" >/dev/null
}
# png_dims FILE: "WIDTHxHEIGHT" read from the IHDR chunk.
png_dims() {
    od -An -tu1 -j16 -N8 "$1" | awk '{printf "%dx%d", $1*16777216+$2*65536+$3*256+$4,
                                                     $5*16777216+$6*65536+$7*256+$8}'
}
# conforms SCHEMA-FILE DOC-FILE: a small JSON Schema check (type, required, properties, items,
# enum, minItems, maxItems) in jq.
conforms() {
    jq -e --slurpfile s "$1" '
      def ok($s):
        . as $v
        | ($s.type // "") as $t
        | (if $t == "object" then ($v | type) == "object"
           elif $t == "array" then ($v | type) == "array"
           elif $t == "string" then ($v | type) == "string"
           elif $t == "integer" then ($v | type) == "number" and ($v | floor) == $v
           elif $t == "number" then ($v | type) == "number"
           elif $t == "boolean" then ($v | type) == "boolean"
           else true end)
        and (if $s.enum then any($s.enum[]; . == $v) else true end)
        and (if $s.required then all($s.required[]; . as $k | $v | has($k)) else true end)
        and (if $s.properties then all($s.properties | to_entries[];
               .key as $k | .value as $p | ($v | has($k) | not) or ($v[$k] | ok($p)))
             else true end)
        and (if $s.items then all($v[]; ok($s.items)) else true end)
        and (if $s.minItems then ($v | length) >= $s.minItems else true end)
        and (if $s.maxItems then ($v | length) <= $s.maxItems else true end);
      ok($s[0])' "$2" >/dev/null
}

fake_start --key "$KEY" --retry-delay 0.3s --retry-after 2 --hang-ms 1000 --seed 7
API="$FAKE_URL/v1beta/models"
HELLO='{"contents":[{"role":"user","parts":[{"text":"Say hello to the keeper."}]}]}'

# ---- auth ----
code=$(curl -s -o "$R" -w '%{http_code}' "$API/gemini-3.5-flash:generateContent" -d "$HELLO")
assert_eq "no key: 403" 403 "$code"
assert_contains "no key: real message" "Method doesn't allow unregistered callers" "$(cat "$R")"
assert_eq "no key: PERMISSION_DENIED" PERMISSION_DENIED "$(jq -r .error.status "$R")"
code=$(curl -s -o "$R" -w '%{http_code}' -H 'x-goog-api-key: wrong' \
    "$API/gemini-3.5-flash:generateContent" -d "$HELLO")
assert_eq "wrong key: 400 API_KEY_INVALID" "400 API_KEY_INVALID" \
    "$code $(jq -r '.error.details[0].reason' "$R")"
code=$(curl -s -o "$R" -w '%{http_code}' "$API/gemini-3.5-flash:generateContent?key=$KEY" \
    -d "$HELLO")
assert_eq "?key= query accepted" 200 "$code"
assert_eq "log path has no query string" '"/v1beta/models/gemini-3.5-flash:generateContent"' \
    "$(last_log .path)"

# ---- text ----
assert_eq "text: 200" 200 "$(post gemini-3.5-flash:generateContent "$HELLO")"
assert_eq "text: role model, STOP, index 0" '"model STOP 0"' \
    "$(jq '.candidates[0] | "\(.content.role) \(.finishReason) \(.index)"' "$R")"
check "text: non-empty answer" jqe '.candidates[0].content.parts[0].text | length > 10' "$R"
check "text: usage total = prompt + candidates" jqe '.usageMetadata |
    .totalTokenCount == .promptTokenCount + .candidatesTokenCount' "$R"
check "text: responseId has 22 chars" jqe '.responseId | test("^[A-Za-z0-9_-]{22}$")' "$R"
first=$(jq -r '.candidates[0].content.parts[0].text' "$R")
post gemini-3.5-flash:generateContent "$HELLO" >/dev/null
assert_eq "text: deterministic for a prompt" "$first" \
    "$(jq -r '.candidates[0].content.parts[0].text' "$R")"
post gemini-3.5-flash:generateContent '{"contents":[{"parts":[{"text":"hi"}]}],
  "generationConfig":{"thinkingConfig":{"includeThoughts":true}}}' >/dev/null
assert_eq "text: thought part first" "true null" \
    "$(jq -r '[.candidates[0].content.parts[].thought] | "\(.[0]) \(.[1])"' "$R")"

# ---- JSON: analysis of the lighthouse script, then one prompt per scene ----
jq -n --rawfile script "$SCRIPT" --slurpfile schema "$SCHEMAS/analysis.json" \
    '{contents: [{role: "user", parts: [{text: ("Divide this script into scenes.\n\nScript:\n---\n"
       + $script + "\n---\n")}]}],
      generationConfig: {responseMimeType: "application/json", responseJsonSchema: $schema[0]}}' \
    >"$T_DIR/analysis-req.json"
assert_eq "analysis: 200" 200 "$(post gemini-3.5-flash:generateContent @"$T_DIR/analysis-req.json")"
jq -r '.candidates[0].content.parts[0].text' "$R" >"$T_DIR/analysis.json"
check "analysis: conforms to analysis.json" conforms "$SCHEMAS/analysis.json" "$T_DIR/analysis.json"
assert_eq "analysis: 8 scenes" 8 "$(jq '.scenes | length' "$T_DIR/analysis.json")"
assert_eq "analysis: ids s01..s08" '["s01","s02","s03","s04","s05","s06","s07","s08"]' \
    "$(jq -c '[.scenes[].id]' "$T_DIR/analysis.json")"
assert_eq "analysis: narration is the script's scene text" \
    "$(sed -n '/^SCENE 4/{n;p}' "$SCRIPT")" "$(jq -r '.scenes[3].narration' "$T_DIR/analysis.json")"
assert_eq "analysis: log counts 8 scenes" 8 "$(last_log .scenes)"
assert_eq "analysis: sha256 of the body logged" \
    "\"$(sha256sum "$T_DIR/analysis-req.json" | cut -d' ' -f1)\"" "$(last_log .body_sha256)"
jq -n --rawfile a "$T_DIR/analysis.json" --slurpfile schema "$SCHEMAS/prompts.json" \
    '{contents: [{role: "user", parts: [{text: ("Here is the scene analysis as JSON:\n\n" + $a
       + "\n\nWrite one image prompt per scene, same order and ids.")}]}],
      generationConfig: {responseMimeType: "application/json", responseJsonSchema: $schema[0]}}' \
    >"$T_DIR/prompts-req.json"
assert_eq "prompts: 200" 200 "$(post gemini-3.5-flash:generateContent @"$T_DIR/prompts-req.json")"
jq -r '.candidates[0].content.parts[0].text' "$R" >"$T_DIR/prompts.json"
check "prompts: conforms to prompts.json" conforms "$SCHEMAS/prompts.json" "$T_DIR/prompts.json"
assert_eq "prompts: mirrors the analysis ids" "$(jq -c '[.scenes[].id]' "$T_DIR/analysis.json")" \
    "$(jq -c '[.scenes[].id]' "$T_DIR/prompts.json")"
# mirroring, not numbering: 7 scenes with other ids
jq '.scenes |= (.[1:] | map(.id |= "x" + .))' "$T_DIR/analysis.json" >"$T_DIR/analysis7.json"
jq --rawfile a "$T_DIR/analysis7.json" '.contents[0].parts[0].text = "Analysis:\n" + $a' \
    "$T_DIR/prompts-req.json" >"$T_DIR/prompts7-req.json"
post gemini-3.5-flash:generateContent @"$T_DIR/prompts7-req.json" >/dev/null
assert_eq "prompts: mirrors other ids and count" "$(jq -c '[.scenes[].id]' "$T_DIR/analysis7.json")" \
    "$(jq -r '.candidates[0].content.parts[0].text' "$R" | jq -c '[.scenes[].id]')"
check "prompts: 40-80 words each" jqe \
    'all(.scenes[]; (.image_prompt | split(" ") | length) as $n | $n >= 40 and $n <= 80)' \
    "$T_DIR/prompts.json"
# the OpenAPI-subset responseSchema (uppercase types), with an id array of 3 in the prompt
post gemini-2.5-flash:generateContent '{"contents":[{"parts":[{"text":"Scenes: {\"s\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]}"}]}],
  "generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"ARRAY",
  "items":{"type":"OBJECT","properties":{"id":{"type":"STRING"},"n":{"type":"INTEGER"}},
  "required":["id","n"]}}}}' >/dev/null
assert_eq "responseSchema: mirrored ids, typed fields" '[["a","number"],["b","number"],["c","number"]]' \
    "$(jq -c '.candidates[0].content.parts[0].text | fromjson | map([.id, (.n | type)])' "$R")"

# ---- images ----
IMG='{"contents":[{"parts":[{"text":"A lighthouse at dawn"}]}],"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"aspectRatio":"16:9"}}}'
assert_eq "image 3.1: 200" 200 "$(post gemini-3.1-flash-image-preview:generateContent "$IMG")"
assert_eq "image 3.1: thought then image only" '[true,"image/png"]' \
    "$(jq -c '[.candidates[0].content.parts[0].thought, .candidates[0].content.parts[1].inlineData.mimeType]' "$R")"
jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
    base64 -d >"$T_DIR/img.png"
assert_eq "image 3.1 16:9: 1376x768 PNG" 1376x768 "$(png_dims "$T_DIR/img.png")"
assert_contains "image: file sees a PNG" "PNG image data, 1376 x 768, 8-bit/color RGB" \
    "$(file "$T_DIR/img.png")"
assert_eq "image: log media" '{"mime":"image/png","width":1376,"height":768}' \
    "$(last_log '.media | {mime, width, height}')"
assert_eq "image: log bytes = PNG size" "$(wc -c <"$T_DIR/img.png")" "$(last_log .media.bytes)"
assert_eq "image: 1290 IMAGE tokens" '[1290,"IMAGE"]' \
    "$(jq -c '[.usageMetadata.candidatesTokenCount, .usageMetadata.candidatesTokensDetails[0].modality]' "$R")"
post gemini-2.5-flash-image:generateContent "$IMG" >/dev/null
jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
    base64 -d >"$T_DIR/img25.png"
assert_eq "image 2.5 16:9: 1344x768" 1344x768 "$(png_dims "$T_DIR/img25.png")"
post gemini-3.1-flash-image:generateContent '{"contents":[{"parts":[{"text":"x"}]}],
  "generationConfig":{"imageConfig":{"aspectRatio":"3:4","imageSize":"2K"}}}' >/dev/null
assert_eq "image 2K 3:4: text part and 1792x2400" "Here 1792x2400" \
    "$(jq -r '.candidates[0].content.parts[1].text | split(" ")[0]' "$R") $(last_log '.media | "\(.width)x\(.height)"' | tr -d '"')"

# ---- speech ----
SAY='{"contents":[{"parts":[{"text":"The light turns for the last time."}]}],"generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Kore"}}}}}'
frames=$(awk 'BEGIN { printf "%d", (0.4 + 0.06 * 34) * 24000 + 0.5 }')
for model in gemini-2.5-flash-preview-tts gemini-3.1-flash-tts-preview gemini-3.8-flash-tts; do
    assert_eq "speech $model: 200" 200 "$(post "$model:generateContent" "$SAY")"
    jq -r '.candidates[0].content.parts[0].inlineData.data' "$R" | base64 -d >"$T_DIR/a.bin"
    mime=$(jq -r '.candidates[0].content.parts[0].inlineData.mimeType' "$R")
    bytes=$(wc -c <"$T_DIR/a.bin")
    pcm=$(last_log .media.pcm_bytes)
    assert_eq "speech $model: pcm_bytes follows the text" $((frames * 2)) "$pcm"
    case $model in
    gemini-3.8-*)
        assert_eq "speech $model: audio/wav" audio/wav "$mime"
        assert_eq "speech $model: WAV = 44 + pcm_bytes" $((pcm + 44)) "$bytes"
        assert_contains "speech $model: RIFF/WAVE" "WAVE audio, Microsoft PCM, 16 bit, mono 24000 Hz" \
            "$(file "$T_DIR/a.bin")"
        ;;
    *)
        assert_eq "speech $model: L16" "audio/L16;codec=pcm;rate=24000" "$mime"
        assert_eq "speech $model: bytes = log pcm_bytes" "$pcm" "$bytes"
        ;;
    esac
done
check "speech: not silence" test "$(od -An -tu1 -v "$T_DIR/a.bin" | tr -s ' ' '\n' | sort -u | wc -l)" -gt 100
assert_eq "speech: AUDIO tokens" AUDIO "$(jq -r '.usageMetadata.candidatesTokensDetails[0].modality' "$R")"

# ---- predict, models, countTokens ----
assert_eq "predict: 200" 200 "$(post imagen-4.0-generate-001:predict \
    '{"instances":[{"prompt":"A lighthouse"}],"parameters":{"sampleCount":2,"aspectRatio":"9:16"}}')"
assert_eq "predict: 2 PNG predictions" '["image/png","image/png"]' "$(jq -c '[.predictions[].mimeType]' "$R")"
jq -r '.predictions[1].bytesBase64Encoded' "$R" | base64 -d >"$T_DIR/p.png"
assert_eq "predict 9:16: 768x1408" 768x1408 "$(png_dims "$T_DIR/p.png")"
post imagen-4.0-fast-generate-001:predict '{"instances":[{"prompt":"x"}]}' >/dev/null
assert_eq "predict: sampleCount defaults to 4" 4 "$(jq '.predictions | length' "$R")"
assert_eq "predict: sampleCount 5 is 400" 400 "$(post imagen-4.0-generate-001:predict \
    '{"instances":[{"prompt":"x"}],"parameters":{"sampleCount":5}}')"
code=$(curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" "$API")
assert_eq "models.list: 14 models" "200 14" "$code $(jq '.models | length' "$R")"
check "models.list: names and methods" jqe 'all(.models[]; (.name | startswith("models/"))
    and (.supportedGenerationMethods | length > 0) and .inputTokenLimit > 0)' "$R"
assert_eq "countTokens" 200 "$(post gemini-3.5-flash:countTokens "$HELLO")"
check "countTokens: totalTokens" jqe '.totalTokens > 0 and .promptTokensDetails[0].modality == "TEXT"' "$R"

# ---- 404 and validation ----
assert_eq "unknown model: 404" 404 "$(post nope-1:generateContent "$HELLO")"
assert_eq "unknown model: real text" "models/nope-1 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods." \
    "$(jq -r .error.message "$R")"
post imagen-4.0-generate-001:generateContent "$HELLO" >/dev/null
assert_contains "imagen via generateContent: 404" "is not supported for generateContent" "$(jq -r .error.message "$R")"
assert_eq "unknown field: 400" 400 "$(post gemini-3.5-flash:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"top_k":1}')"
assert_eq "unknown field: real message" 'Invalid JSON payload received. Unknown name "top_k": Cannot find field.' \
    "$(jq -r .error.message "$R")"
post gemini-3.5-flash:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"system_instruction":{"parts":[{"text":"y"}]},"generation_config":{"max_output_tokens":900}}' >/dev/null
assert_eq "snake_case names accepted" STOP "$(jq -r '.candidates[0].finishReason' "$R")"
post gemini-3.5-flash:generateContent '{"contents":[{"parts":[]}]}' >/dev/null
assert_eq "empty parts: real message" '"* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"' \
    "$(jq .error.message "$R")"
post gemini-2.5-flash-preview-tts:generateContent "$HELLO" >/dev/null
assert_contains "TTS without AUDIO" "The requested combination of response modalities (TEXT) is not supported" \
    "$(jq -r .error.message "$R")"
post gemini-3.8-flash-tts:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Nova"}}}}}' >/dev/null
assert_eq "unknown voice: 400" 400 "$(jq .error.code "$R")"
post gemini-3.1-flash-image:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"aspectRatio":"7:3"}}}' >/dev/null
assert_contains "bad aspect ratio: 400" "aspect_ratio must be one of" "$(jq -r .error.message "$R")"

# ---- faults by header ----
assert_eq "fault 429" "429 0.3s" "$(fault 429) $(jq -r '.error.details[] | select(."@type" | endswith("RetryInfo")) | .retryDelay' "$R")"
check "fault 429: QuotaFailure PerMinute" jqe '.error.details[0].violations[0].quotaId | test("PerMinute")' "$R"
hdr=$(curl -s -D - -o /dev/null -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: 429-retry-after' \
    "$API/gemini-3.5-flash:generateContent" -d "$HELLO" | tr -d '\r')
assert_contains "fault 429-retry-after: header" "Retry-After: 2" "$hdr"
assert_eq "fault 429-daily" "429 GenerateRequestsPerDayPerProjectPerModel-FreeTier" \
    "$(fault 429-daily) $(jq -r '.error.details[0].violations[0].quotaId' "$R")"
assert_eq "fault 500" "500 INTERNAL" "$(fault 500) $(jq -r .error.status "$R")"
assert_eq "fault 502 (HTML page)" 502 "$(fault 502)"
assert_contains "fault 502: Google's page" "Error 502 (Server Error)" "$(cat "$R")"
assert_eq "fault 503" "503 The model is overloaded. Please try again later." \
    "$(fault 503) $(jq -r .error.message "$R")"
assert_eq "fault 504" "504 DEADLINE_EXCEEDED" "$(fault 504) $(jq -r .error.status "$R")"
assert_eq "fault 400" "400 INVALID_ARGUMENT" "$(fault 400) $(jq -r .error.status "$R")"
assert_eq "fault 401" "401 UNAUTHENTICATED" "$(fault 401) $(jq -r .error.status "$R")"
assert_eq "fault 403" "403 PERMISSION_DENIED" "$(fault 403) $(jq -r .error.status "$R")"
assert_eq "fault 404" "404 NOT_FOUND" "$(fault 404) $(jq -r .error.status "$R")"
assert_eq "fault logged" '"404"' "$(last_log .fault)"
curl -s -o /dev/null -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: reset' \
    "$API/gemini-3.5-flash:generateContent" -d "$HELLO"
rc=$?
check "fault reset: no response (curl $rc)" test "$rc" = 52 -o "$rc" = 56
sleep 0.2
assert_eq "fault reset: log status 0, not completed" '[0,false,"reset"]' "$(last_log '[.status, .completed, .fault]')"
curl -s -o "$R" -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: truncated' \
    "$API/gemini-3.5-flash:generateContent" -d "$HELLO"
assert_eq "fault truncated: curl sees a partial body" 18 $?
sleep 0.2
assert_eq "fault truncated: log 200, not completed" '[200,false]' "$(last_log '[.status, .completed]')"
assert_eq "fault badjson: 200" 200 "$(fault badjson)"
check "fault badjson: body is not JSON" test "$(jq -e . "$R" >/dev/null 2>&1; echo $?)" != 0
start=$(date +%s%N)
curl -s -m 10 -o /dev/null -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: timeout' \
    "$API/gemini-3.5-flash:generateContent" -d "$HELLO"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "fault timeout: held ~1s then closed (curl $rc, ${ms}ms)" test "$rc" = 52 -a "$ms" -ge 900
assert_eq "fault safety (image model)" '"IMAGE_SAFETY" null HIGH' \
    "$(fault safety gemini-2.5-flash-image "$IMG" >/dev/null; jq -r '.candidates[0] | "\(.finishReason | tojson) \(.content) \(.safetyRatings[] | select(.probability == "HIGH") | .probability)"' "$R")"
assert_eq "fault blocked" 'SAFETY false' \
    "$(fault blocked >/dev/null; jq -r '"\(.promptFeedback.blockReason) \(has("candidates"))"' "$R")"
assert_eq "fault text-only" '["text"]' \
    "$(fault text-only gemini-2.5-flash-image "$IMG" >/dev/null; jq -c '[.candidates[0].content.parts[] | keys[]]' "$R")"
assert_eq "fault empty-parts" '{"role":"model"}' \
    "$(fault empty-parts >/dev/null; jq -c '.candidates[0].content' "$R")"
fault bad-base64 gemini-2.5-flash-image "$IMG" >/dev/null
jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
    base64 -d >/dev/null 2>&1
check "fault bad-base64: does not decode" test $? != 0
fault bad-png gemini-2.5-flash-image "$IMG" >/dev/null
jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
    base64 -d >"$T_DIR/bad.png"
assert_eq "fault bad-png: PNG signature and IHDR intact" 1344x768 "$(png_dims "$T_DIR/bad.png")"
assert_eq "fault bad-png: zlib header broken" "255 255" \
    "$(od -An -tu1 -j41 -N2 "$T_DIR/bad.png" | xargs)"
fault odd-pcm gemini-3.8-flash-tts "$SAY" >/dev/null
jq -r '.candidates[0].content.parts[0].inlineData.data' "$R" | base64 -d >"$T_DIR/odd.pcm"
assert_eq "fault odd-pcm: odd L16 byte count" "1 audio/L16;codec=pcm;rate=24000" \
    "$(($(wc -c <"$T_DIR/odd.pcm") % 2)) $(jq -r '.candidates[0].content.parts[0].inlineData.mimeType' "$R")"
fault schema-break gemini-3.5-flash @"$T_DIR/analysis-req.json" >/dev/null
jq -r '.candidates[0].content.parts[0].text' "$R" >"$T_DIR/broken.json"
check "fault schema-break: valid JSON" jqe . "$T_DIR/broken.json"
check "fault schema-break: no longer conforms" test "$(conforms "$SCHEMAS/analysis.json" "$T_DIR/broken.json"; echo $?)" != 0
fault max-tokens gemini-3.5-flash @"$T_DIR/analysis-req.json" >/dev/null
assert_eq "fault max-tokens: MAX_TOKENS" MAX_TOKENS "$(jq -r '.candidates[0].finishReason' "$R")"
check "fault max-tokens: JSON cut off" test "$(jq -r '.candidates[0].content.parts[0].text' "$R" | jq -e . >/dev/null 2>&1; echo $?)" != 0

# ---- faults by body marker, and by rule ----
MARK='{"contents":[{"parts":[{"text":"Narrate this. [[fault:503*2]]"}]}]}'
assert_eq "marker 503*2: 503, 503, then 200" "503 503 200" \
    "$(post gemini-3.5-flash:generateContent "$MARK") $(post gemini-3.5-flash:generateContent "$MARK") $(post gemini-3.5-flash:generateContent "$MARK")"
assert_eq "marker: counted per model" 503 "$(post gemini-2.5-flash:generateContent "$MARK")"
code=$(curl -s -o "$R" -w '%{http_code}' -X POST "$FAKE_URL/_fake/faults" \
    -d '[{"match":"RULED","kind":"500","skip":1,"times":1}]')
assert_eq "control: rules set" "200 1" "$code $(jq .rules "$R")"
RULED='{"contents":[{"parts":[{"text":"RULED"}]}]}'
assert_eq "rule skip 1 times 1: 200, 500, 200" "200 500 200" \
    "$(post gemini-3.5-flash:generateContent "$RULED") $(post gemini-3.5-flash:generateContent "$RULED") $(post gemini-3.5-flash:generateContent "$RULED")"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
assert_eq "control: reset clears marker counters" 503 "$(post gemini-3.5-flash:generateContent "$MARK")"
curl -s "$FAKE_URL/_fake/stats" >"$R"
check "control: stats per status and model" jqe '.by_status["503"] >= 4 and .by_model["gemini-3.5-flash"].requests > 10' "$R"

# ---- the log ----
lines=$(wc -l <"$FAKE_LOG")
assert_eq "log: one line per API request, as counted by stats" "$(jq .requests "$R")" "$lines"
assert_eq "log: control calls not logged" 0 "$(fake_count '.path | startswith("/_fake")')"
check "log: every field on every line" jqe -s 'all(.[]; has("seq") and has("ts") and has("method")
    and has("path") and has("model") and has("verb") and has("status") and has("fault")
    and has("body_sha256") and has("body_bytes") and has("prompt") and has("key_present")
    and has("response_bytes") and has("completed") and has("ms") and has("media")
    and has("scenes"))' "$FAKE_LOG"
check "log: seq 1..N" jqe -s '[.[].seq] | sort == [range(1; length + 1)]' "$FAKE_LOG"
check "log: RFC3339 ms time stamps" jqe -s 'all(.[]; .ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"))' "$FAKE_LOG"
assert_eq "log: one keyless request" 1 "$(fake_count '.key_present == false')"
check "log: prompt recorded" jqe -s 'any(.[]; .prompt == "Say hello to the keeper.")' "$FAKE_LOG"
assert_eq "log: the key never appears" 0 "$(grep -c -- "$KEY" "$FAKE_LOG")"
stop_clean

# ---- rate limit (--rpm), latency and concurrency, seeded fault rate ----
rm -f "$FAKE_LOG"
fake_start --key "$KEY" --rpm gemini-3.5-flash=2 --minute-ms 2500 --latency-ms 400
API="$FAKE_URL/v1beta/models"
assert_eq "rpm 2: 200 200 429" "200 200 429" \
    "$(post gemini-3.5-flash:generateContent "$HELLO") $(post gemini-3.5-flash:generateContent "$HELLO") $(post gemini-3.5-flash:generateContent "$HELLO")"
check "rpm: PerMinute quota and retryDelay like 0.123s" jqe '(.error.details[0].violations[0].quotaId | test("PerMinute"))
    and ([.error.details[] | select(."@type" | endswith("RetryInfo")) | .retryDelay | test("^[0-9]+\\.[0-9]{3}s$")] == [true])' "$R"
assert_eq "rpm: logged as fault rpm" '"rpm"' "$(last_log .fault)"
sleep 2.6
assert_eq "rpm: window frees" 200 "$(post gemini-3.5-flash:generateContent "$HELLO")"
start=$(date +%s%N)
pids=""
for _ in 1 2 3 4; do
    post gemini-2.5-flash:generateContent "$HELLO" >/dev/null &
    pids="$pids $!"
done
# shellcheck disable=SC2086 # a list of pids; a bare wait would wait for the fake server too
wait $pids
ms=$((($(date +%s%N) - start) / 1000000))
check "latency: 4 parallel 400ms requests served concurrently (${ms}ms)" test "$ms" -ge 400 -a "$ms" -lt 1300
stop_clean
codes() {
    local out="" _
    for _ in $(seq 12); do out="$out $(post gemini-3.5-flash:generateContent "$HELLO")"; done
    echo "$out"
}
fake_start --key "$KEY" --seed 11 --fault-rate 0.5 --fault-kinds 503,500
API="$FAKE_URL/v1beta/models"
run1=$(codes)
stop_clean
fake_start --key "$KEY" --seed 11 --fault-rate 0.5 --fault-kinds 503,500
API="$FAKE_URL/v1beta/models"
run2=$(codes)
assert_eq "fault rate: same seed, same faults" "$run1" "$run2"
check "fault rate: some faults and some successes ($run1)" test "$(echo "$run1" | grep -c 200)" = 1 -a \
    "$(echo "$run1" | tr ' ' '\n' | grep -c '^50[03]$')" -gt 0

# ---- CLI ----
kill "$FAKE_PID"
wait "$FAKE_PID"
assert_eq "SIGTERM: exit 0" 0 $?
FAKE_PID=""
check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"
"$FAKE_GEMINI" --help >"$T_DIR/help.txt"
assert_eq "--help: exit 0" 0 $?
assert_contains "--help: lists --fault-kinds" "--fault-kinds" "$(cat "$T_DIR/help.txt")"
"$FAKE_GEMINI" --bogus 2>/dev/null
assert_eq "bad option: exit 2" 2 $?
"$FAKE_GEMINI" --port 0 >"$T_DIR/line.txt" 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q listening "$T_DIR/line.txt" && break; sleep 0.05; done
kill "$pid"
wait "$pid"
check "listening line on stdout" grep -Eq '^fake-gemini: listening on http://127\.0\.0\.1:[0-9]+$' "$T_DIR/line.txt"

finish
