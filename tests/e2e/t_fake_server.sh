#!/usr/bin/env bash
# t_fake_server.sh: end-to-end checks of the fake Gemini server (tests/fake) itself, with curl
# and jq: auth, text, JSON that follows the schema and the script, images (JPEG, some labelled
# PNG), speech (speechMetadata, voice ids), predict, the model catalog of 2026-12-04 (shut-down
# ids, rerouted ids, paged ListModels), the SDK fixtures replayed (reference images among them),
# fault kinds and triggers, the --rpm limit and the request log.
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
    post "${2:-gemini-3.8-flash}:generateContent" "${3:-$HELLO}" -H "X-Fake-Fault: $1"
}
# last_log [jq filter]: a field of the last request-log line.
last_log() {
    fake_settle >/dev/null
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
# img_of REPLY OUT: decode the first inline image of a generateContent reply into OUT.
img_of() {
    jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$1" |
        base64 -d >"$2"
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

# Legacy paths (the 2.5 image size table, Imagen's predict) need shut-down models back: --model.
fake_start --key "$KEY" --retry-delay 0.3s --retry-after 2 --hang-ms 1000 --seed 7 \
    --model gemini-2.5-flash-image:image --model imagen-4.0-generate-001:imagen \
    --model imagen-4.0-fast-generate-001:imagen
API="$FAKE_URL/v1beta/models"
HELLO='{"contents":[{"role":"user","parts":[{"text":"Say hello to the keeper."}]}]}'

# ---- auth ----
code=$(curl -s -o "$R" -w '%{http_code}' "$API/gemini-3.8-flash:generateContent" -d "$HELLO")
assert_eq "no key: 403" 403 "$code"
assert_contains "no key: real message" "Method doesn't allow unregistered callers" "$(cat "$R")"
assert_eq "no key: PERMISSION_DENIED" PERMISSION_DENIED "$(jq -r .error.status "$R")"
code=$(curl -s -o "$R" -w '%{http_code}' -H 'x-goog-api-key: wrong' \
    "$API/gemini-3.8-flash:generateContent" -d "$HELLO")
assert_eq "wrong key: 400 API_KEY_INVALID" "400 API_KEY_INVALID" \
    "$code $(jq -r '.error.details[0].reason' "$R")"
code=$(curl -s -o "$R" -w '%{http_code}' "$API/gemini-3.8-flash:generateContent?key=$KEY" \
    -d "$HELLO")
assert_eq "?key= query accepted" 200 "$code"
assert_eq "log path has no query string" '"/v1beta/models/gemini-3.8-flash:generateContent"' \
    "$(last_log .path)"

# ---- text ----
assert_eq "text: 200" 200 "$(post gemini-3.8-flash:generateContent "$HELLO")"
assert_eq "text: role model, STOP, index 0" '"model STOP 0"' \
    "$(jq '.candidates[0] | "\(.content.role) \(.finishReason) \(.index)"' "$R")"
check "text: non-empty answer" jqe '.candidates[0].content.parts[0].text | length > 10' "$R"
check "text: usage total = prompt + candidates" jqe '.usageMetadata |
    .totalTokenCount == .promptTokenCount + .candidatesTokenCount' "$R"
check "text: responseId has 22 chars" jqe '.responseId | test("^[A-Za-z0-9_-]{22}$")' "$R"
first=$(jq -r '.candidates[0].content.parts[0].text' "$R")
post gemini-3.8-flash:generateContent "$HELLO" >/dev/null
assert_eq "text: deterministic for a prompt" "$first" \
    "$(jq -r '.candidates[0].content.parts[0].text' "$R")"
post gemini-3.8-flash:generateContent '{"contents":[{"parts":[{"text":"hi"}]}],
  "generationConfig":{"thinkingConfig":{"includeThoughts":true}}}' >/dev/null
assert_eq "text: thought part first" "true null" \
    "$(jq -r '[.candidates[0].content.parts[].thought] | "\(.[0]) \(.[1])"' "$R")"

# ---- JSON: analysis of the lighthouse script, then one prompt per scene ----
jq -n --rawfile script "$SCRIPT" --slurpfile schema "$SCHEMAS/analysis.json" \
    '{contents: [{role: "user", parts: [{text: ("Divide this script into scenes.\n\nScript:\n---\n"
       + $script + "\n---\n")}]}],
      generationConfig: {responseMimeType: "application/json", responseJsonSchema: $schema[0]}}' \
    >"$T_DIR/analysis-req.json"
assert_eq "analysis: 200" 200 "$(post gemini-3.8-flash:generateContent @"$T_DIR/analysis-req.json")"
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
assert_eq "prompts: 200" 200 "$(post gemini-3.8-flash:generateContent @"$T_DIR/prompts-req.json")"
jq -r '.candidates[0].content.parts[0].text' "$R" >"$T_DIR/prompts.json"
check "prompts: conforms to prompts.json" conforms "$SCHEMAS/prompts.json" "$T_DIR/prompts.json"
assert_eq "prompts: mirrors the analysis ids" "$(jq -c '[.scenes[].id]' "$T_DIR/analysis.json")" \
    "$(jq -c '[.scenes[].id]' "$T_DIR/prompts.json")"
# mirroring, not numbering: 7 scenes with other ids
jq '.scenes |= (.[1:] | map(.id |= "x" + .))' "$T_DIR/analysis.json" >"$T_DIR/analysis7.json"
jq --rawfile a "$T_DIR/analysis7.json" '.contents[0].parts[0].text = "Analysis:\n" + $a' \
    "$T_DIR/prompts-req.json" >"$T_DIR/prompts7-req.json"
post gemini-3.8-flash:generateContent @"$T_DIR/prompts7-req.json" >/dev/null
assert_eq "prompts: mirrors other ids and count" "$(jq -c '[.scenes[].id]' "$T_DIR/analysis7.json")" \
    "$(jq -r '.candidates[0].content.parts[0].text' "$R" | jq -c '[.scenes[].id]')"
check "prompts: 40-80 words each" jqe \
    'all(.scenes[]; (.image_prompt | split(" ") | length) as $n | $n >= 40 and $n <= 80)' \
    "$T_DIR/prompts.json"
# the OpenAPI-subset responseSchema (uppercase types), with an id array of 3 in the prompt
post gemini-3.6-flash:generateContent '{"contents":[{"parts":[{"text":"Scenes: {\"s\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]}"}]}],
  "generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"ARRAY",
  "items":{"type":"OBJECT","properties":{"id":{"type":"STRING"},"n":{"type":"INTEGER"}},
  "required":["id","n"]}}}}' >/dev/null
assert_eq "responseSchema: mirrored ids, typed fields" '[["a","number"],["b","number"],["c","number"]]' \
    "$(jq -c '.candidates[0].content.parts[0].text | fromjson | map([.id, (.n | type)])' "$R")"

# ---- images ----
IMG='{"contents":[{"parts":[{"text":"A lighthouse at dawn"}]}],"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"aspectRatio":"16:9"}}}'
assert_eq "image 3.1: 200" 200 "$(post gemini-3.1-flash-image:generateContent "$IMG")"
assert_eq "image 3.1: thought then image only" '[true,true]' \
    "$(jq -c '[.candidates[0].content.parts[0].thought, (.candidates[0].content.parts[1].inlineData.mimeType | test("^image/(png|jpeg)$"))]' "$R")"
img_of "$R" "$T_DIR/img.jpg"
assert_eq "image 3.1 16:9: 1376x768" 1376x768 "$(png_size "$T_DIR/img.jpg")"
assert_contains "image: file sees a baseline JPEG" "JPEG image data" "$(file "$T_DIR/img.jpg")"
assert_contains "image: baseline" "baseline" "$(file "$T_DIR/img.jpg")"
assert_eq "image: log media" '{"format":"jpeg","width":1376,"height":768}' \
    "$(last_log '.media | {format, width, height}')"
assert_eq "image: log mime = the label sent" "\"$(jq -r '.candidates[0].content.parts[1].inlineData.mimeType' "$R")\"" \
    "$(last_log .media.mime)"
assert_eq "image: log bytes = JPEG size" "$(wc -c <"$T_DIR/img.jpg")" "$(last_log .media.bytes)"
assert_eq "image: 1290 IMAGE tokens" '[1290,"IMAGE"]' \
    "$(jq -c '[.usageMetadata.candidatesTokenCount, .usageMetadata.candidatesTokensDetails[0].modality]' "$R")"
post gemini-2.5-flash-image:generateContent "$IMG" >/dev/null
img_of "$R" "$T_DIR/img25.jpg"
assert_eq "image 2.5 (--model) 16:9: 1344x768" 1344x768 "$(png_size "$T_DIR/img25.jpg")"
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
# 12 served by default (fake README's table) + the 3 brought back with --model
assert_eq "models.list: 16 models" "200 16" "$code $(jq '.models | length' "$R")"
check "models.list: names and methods" jqe 'all(.models[]; (.name | startswith("models/"))
    and (.supportedGenerationMethods | length > 0) and .inputTokenLimit > 0)' "$R"
assert_eq "countTokens" 200 "$(post gemini-3.8-flash:countTokens "$HELLO")"
check "countTokens: totalTokens" jqe '.totalTokens > 0 and .promptTokensDetails[0].modality == "TEXT"' "$R"

# ---- 404 and validation ----
assert_eq "unknown model: 404" 404 "$(post nope-1:generateContent "$HELLO")"
assert_eq "unknown model: real text" "models/nope-1 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods." \
    "$(jq -r .error.message "$R")"
post imagen-4.0-generate-001:generateContent "$HELLO" >/dev/null
assert_contains "imagen via generateContent: 404" "is not supported for generateContent" "$(jq -r .error.message "$R")"
assert_eq "unknown field: 400" 400 "$(post gemini-3.8-flash:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"top_k":1}')"
assert_eq "unknown field: real message" 'Invalid JSON payload received. Unknown name "top_k": Cannot find field.' \
    "$(jq -r .error.message "$R")"
post gemini-3.8-flash:generateContent '{"contents":[{"parts":[{"text":"x"}]}],"system_instruction":{"parts":[{"text":"y"}]},"generation_config":{"max_output_tokens":900}}' >/dev/null
assert_eq "snake_case names accepted" STOP "$(jq -r '.candidates[0].finishReason' "$R")"
post gemini-3.8-flash:generateContent '{"contents":[{"parts":[]}]}' >/dev/null
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
    "$API/gemini-3.8-flash:generateContent" -d "$HELLO" | tr -d '\r')
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
    "$API/gemini-3.8-flash:generateContent" -d "$HELLO"
rc=$?
check "fault reset: no response (curl $rc)" test "$rc" = 52 -o "$rc" = 56
fake_settle
assert_eq "fault reset: log status 0, not completed" '[0,false,"reset"]' "$(last_log '[.status, .completed, .fault]')"
curl -s -o "$R" -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: truncated' \
    "$API/gemini-3.8-flash:generateContent" -d "$HELLO"
assert_eq "fault truncated: curl sees a partial body" 18 $?
fake_settle
assert_eq "fault truncated: log 200, not completed" '[200,false]' "$(last_log '[.status, .completed]')"
assert_eq "fault badjson: 200" 200 "$(fault badjson)"
check "fault badjson: body is not JSON" test "$(jq -e . "$R" >/dev/null 2>&1; echo $?)" != 0
start=$(date +%s%N)
curl -s -m 10 -o /dev/null -H "x-goog-api-key: $KEY" -H 'X-Fake-Fault: timeout' \
    "$API/gemini-3.8-flash:generateContent" -d "$HELLO"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "fault timeout: held ~1s then closed (curl $rc, ${ms}ms)" test "$rc" = 52 -a "$ms" -ge 900
assert_eq "fault safety (image model)" '"IMAGE_SAFETY" null HIGH' \
    "$(fault safety gemini-nano-banana-2.1 "$IMG" >/dev/null; jq -r '.candidates[0] | "\(.finishReason | tojson) \(.content) \(.safetyRatings[] | select(.probability == "HIGH") | .probability)"' "$R")"
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
fault schema-break gemini-3.8-flash @"$T_DIR/analysis-req.json" >/dev/null
jq -r '.candidates[0].content.parts[0].text' "$R" >"$T_DIR/broken.json"
check "fault schema-break: valid JSON" jqe . "$T_DIR/broken.json"
check "fault schema-break: no longer conforms" test "$(conforms "$SCHEMAS/analysis.json" "$T_DIR/broken.json"; echo $?)" != 0
fault max-tokens gemini-3.8-flash @"$T_DIR/analysis-req.json" >/dev/null
assert_eq "fault max-tokens: MAX_TOKENS" MAX_TOKENS "$(jq -r '.candidates[0].finishReason' "$R")"
check "fault max-tokens: JSON cut off" test "$(jq -r '.candidates[0].content.parts[0].text' "$R" | jq -e . >/dev/null 2>&1; echo $?)" != 0

# ---- faults by body marker, and by rule ----
MARK='{"contents":[{"parts":[{"text":"Narrate this. [[fault:503*2]]"}]}]}'
assert_eq "marker 503*2: 503, 503, then 200" "503 503 200" \
    "$(post gemini-3.8-flash:generateContent "$MARK") $(post gemini-3.8-flash:generateContent "$MARK") $(post gemini-3.8-flash:generateContent "$MARK")"
assert_eq "marker: counted per model" 503 "$(post gemini-3.6-flash:generateContent "$MARK")"
code=$(curl -s -o "$R" -w '%{http_code}' -X POST "$FAKE_URL/_fake/faults" \
    -d '[{"match":"RULED","kind":"500","skip":1,"times":1}]')
assert_eq "control: rules set" "200 1" "$code $(jq .rules "$R")"
RULED='{"contents":[{"parts":[{"text":"RULED"}]}]}'
assert_eq "rule skip 1 times 1: 200, 500, 200" "200 500 200" \
    "$(post gemini-3.8-flash:generateContent "$RULED") $(post gemini-3.8-flash:generateContent "$RULED") $(post gemini-3.8-flash:generateContent "$RULED")"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
assert_eq "control: reset clears marker counters" 503 "$(post gemini-3.8-flash:generateContent "$MARK")"
curl -s "$FAKE_URL/_fake/stats" >"$R"
check "control: stats per status and model" jqe '.by_status["503"] >= 4 and .by_model["gemini-3.8-flash"].requests > 10' "$R"

# ---- the log ----
lines=$(wc -l <"$FAKE_LOG")
assert_eq "log: one line per API request, as counted by stats" "$(jq .requests "$R")" "$lines"
assert_eq "log: control calls not logged" 0 "$(fake_count '.path | startswith("/_fake")')"
check "log: every field on every line" jqe -s 'all(.[]; has("seq") and has("ts") and has("method")
    and has("path") and has("model") and has("verb") and has("status") and has("fault")
    and has("body_sha256") and has("body_bytes") and has("prompt") and has("key_present")
    and has("response_bytes") and has("completed") and has("ms") and has("media")
    and has("scenes") and has("inputs"))' "$FAKE_LOG"
check "log: seq 1..N" jqe -s '[.[].seq] | sort == [range(1; length + 1)]' "$FAKE_LOG"
check "log: RFC3339 ms time stamps" jqe -s 'all(.[]; .ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"))' "$FAKE_LOG"
assert_eq "log: one keyless request" 1 "$(fake_count '.key_present == false')"
check "log: prompt recorded" jqe -s 'any(.[]; .prompt == "Say hello to the keeper.")' "$FAKE_LOG"
assert_eq "log: the key never appears" 0 "$(grep -c -- "$KEY" "$FAKE_LOG")"
stop_clean

# ==== the model catalog of 2026-12-04, the SDK fixtures, JPEG images, 3.8 TTS ====
rm -f "$FAKE_LOG"
fake_start --key "$KEY"
API="$FAKE_URL/v1beta/models"
# get PATH: GET with the key; prints the status, the reply goes to $R.
get() {
    curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" "$FAKE_URL/$1"
}
GONE="no longer available. Please update your code to use a newer model"

# ---- shut-down ids: 404 on every verb and on models.get, absent from ListModels ----
for id in gemini-3.1-flash-image-preview gemini-3-pro-image-preview gemini-2.5-flash-image \
    gemini-2.5-flash gemini-3-pro-preview imagen-4.0-generate-001 imagen-4.0-ultra-generate-001; do
    assert_eq "shut down $id: GET 404" "404 NOT_FOUND" "$(get "v1beta/models/$id") $(jq -r .error.status "$R")"
    assert_eq "shut down $id: GET names it" "This model models/$id is $GONE for the latest features and improvements." \
        "$(jq -r .error.message "$R")"
    verb=generateContent
    case $id in imagen-*) verb=predict ;; esac
    assert_eq "shut down $id: $verb 404" 404 "$(post "$id:$verb" "$HELLO")"
    assert_contains "shut down $id: $verb body" "models/$id is $GONE" "$(jq -r .error.message "$R")"
done
assert_eq "shut down: countTokens 404" 404 "$(post gemini-2.5-flash:countTokens "$HELLO")"
assert_eq "shut down: streamGenerateContent 404" 404 \
    "$(post 'gemini-3-pro-preview:streamGenerateContent?alt=sse' "$HELLO")"
assert_eq "shut down: v1 path too" 404 "$(get v1/models/gemini-2.5-flash)"
assert_eq "unknown id: still the not-found text" "models/gemini-9-nope is not found for API version v1beta, or is not supported for get. Call ListModels to see the list of available models and their supported methods." \
    "$(get v1beta/models/gemini-9-nope >/dev/null; jq -r .error.message "$R")"

# ---- ListModels: served models only, with methods and limits ----
SERVED='["gemini-2.5-flash-preview-tts","gemini-3-pro-image","gemini-3.1-flash-image","gemini-3.1-flash-lite","gemini-3.1-flash-lite-image","gemini-3.1-flash-tts-preview","gemini-3.5-flash-lite","gemini-3.6-flash","gemini-3.8-flash","gemini-3.8-flash-lite-tts","gemini-3.8-flash-tts","gemini-nano-banana-2.1","gemini-omni-1.1-flash"]'
assert_eq "models.list: one page of the served models" "200 $SERVED null" \
    "$(get v1beta/models) $(jq -c '[.models[].name | ltrimstr("models/")] | sort' "$R") $(jq .nextPageToken "$R")"
check "models.list: methods, limits, names, versions" jqe 'all(.models[];
    .supportedGenerationMethods == if .name == "models/gemini-omni-1.1-flash"
        then ["generateContent","countTokens"] # Omni: the Interactions API only (README)
        else ["generateContent","countTokens","streamGenerateContent"] end
    and .inputTokenLimit > 0 and .outputTokenLimit > 0 and (.displayName | length > 0)
    and (.version | length > 0))' "$R"
assert_eq "models.list: page of 5 then a token" "5 true" \
    "$(get 'v1beta/models?pageSize=5' >/dev/null; jq -r '"\(.models | length) \(.nextPageToken | type == "string")"' "$R")"
assert_eq "models.list: a foreign page token is 400" 400 "$(get 'v1beta/models?pageToken=page-2-token')"

# ---- rerouted ids (retired 2026-10-08, still accepted) ----
for pair in gemini-3.5-flash=gemini-3.6-flash gemini-3.7-flash=gemini-3.8-flash; do
    from=${pair%=*} to=${pair#*=}
    assert_eq "rerouted $from: 200, modelVersion $to" "200 $to" \
        "$(post "$from:generateContent" "$HELLO") $(jq -r .modelVersion "$R")"
    assert_eq "rerouted $from: logged served_by" "[\"$from\",\"$to\"]" "$(last_log '[.model, .served_by]')"
    assert_eq "rerouted $from: GET 200 names the id" "200 models/$from" \
        "$(get "v1beta/models/$from") $(jq -r .name "$R")"
done
assert_eq "not rerouted: modelVersion is the model" "200 gemini-3.6-flash null" \
    "$(post gemini-3.6-flash:generateContent "$HELLO") $(jq -r .modelVersion "$R") $(last_log .served_by)"

# ---- images are JPEG bytes; a deterministic share is labelled image/png ----
labels=""
for i in $(seq 1 12); do
    p="{\"contents\":[{\"parts\":[{\"text\":\"Lighthouse number $i at dusk\"}]}],\"generationConfig\":{\"responseModalities\":[\"IMAGE\"]}}"
    post gemini-nano-banana-2.1:generateContent "$p" >/dev/null
    img_of "$R" "$T_DIR/n$i.img"
    labels="$labels $(jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.mimeType' "$R")"
    assert_eq "nano-banana $i: JPEG bytes (SOI marker)" "ffd8ff" "$(od -An -tx1 -N3 "$T_DIR/n$i.img" | tr -d ' ')"
done
npng=$(echo "$labels" | tr ' ' '\n' | grep -c '^image/png$')
njpg=$(echo "$labels" | tr ' ' '\n' | grep -c '^image/jpeg$')
check "images: some labelled image/png, others image/jpeg, nothing else ($npng/$njpg)" \
    test "$npng" -gt 0 -a "$njpg" -gt 0 -a $((npng + njpg)) = 12
i=$(echo "$labels" | tr ' ' '\n' | sed '/^$/d' | grep -n '^image/png$' | head -n 1 | cut -d: -f1)
assert_eq "images: ffprobe decodes one labelled png as a JPEG (n$i)" mjpeg \
    "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$T_DIR/n$i.img")"
first_label=$(echo "$labels" | awk '{print $1}')
post gemini-nano-banana-2.1:generateContent '{"contents":[{"parts":[{"text":"Lighthouse number 1 at dusk"}]}],"generationConfig":{"responseModalities":["IMAGE"]}}' >/dev/null
assert_eq "images: the same prompt gets the same label" "$first_label" \
    "$(jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.mimeType' "$R")"
assert_eq "images: log keeps label and format apart" "[\"$first_label\",\"jpeg\"]" "$(last_log '[.media.mime, .media.format]')"
NB='{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"aspectRatio":"1:8","imageSize":"2K"}}}'
assert_eq "nano-banana 1:8 at 2K: 768x6144" "200 768x6144" \
    "$(post gemini-nano-banana-2.1:generateContent "$NB") $(img_of "$R" "$T_DIR/nb.jpg"; png_size "$T_DIR/nb.jpg")"
assert_eq "nano-banana: no 512" 400 "$(post gemini-nano-banana-2.1:generateContent "${NB/2K/512}")"
assert_eq "3.1-flash-image: 512 halves 1K (1:8 -> 192x1536)" "200 192x1536" \
    "$(post gemini-3.1-flash-image:generateContent "${NB/2K/512}") $(img_of "$R" "$T_DIR/s512.jpg"; png_size "$T_DIR/s512.jpg")"
assert_eq "3-pro-image: no 1:8" 400 "$(post gemini-3-pro-image:generateContent "$NB")"

# ---- image and audio fault kinds ----
IMG='{"contents":[{"parts":[{"text":"A lighthouse at dawn"}]}],"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"aspectRatio":"16:9"}}}'
fault png gemini-nano-banana-2.1 "$IMG" >/dev/null
img_of "$R" "$T_DIR/f.png"
assert_eq "fault png: a real PNG labelled image/png" "image/png PNG image data, 1376 x 768" \
    "$(jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.mimeType' "$R") $(file -b "$T_DIR/f.png" | cut -d, -f1-2)"
fault webp gemini-nano-banana-2.1 "$IMG" >/dev/null
img_of "$R" "$T_DIR/f.webp"
assert_eq "fault webp: RIFF WEBP, lossless (VP8L), labelled image/webp" "image/webp RIFF WEBP VP8L" \
    "$(jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.mimeType' "$R") $(head -c 4 "$T_DIR/f.webp") $(tail -c +9 "$T_DIR/f.webp" | head -c 4) $(tail -c +13 "$T_DIR/f.webp" | head -c 4)"
assert_eq "fault webp: ffprobe sees 1376x768" 1376x768 "$(png_size "$T_DIR/f.webp")"
fault bad-jpeg gemini-nano-banana-2.1 "$IMG" >/dev/null
img_of "$R" "$T_DIR/bad.jpg"
assert_eq "fault bad-jpeg: SOI and EOI intact" "ffd8 ffd9" \
    "$(od -An -tx1 -N2 "$T_DIR/bad.jpg" | tr -d ' ') $(tail -c 2 "$T_DIR/bad.jpg" | od -An -tx1 | tr -d ' ')"
assert_eq "fault bad-jpeg: header still says 1376x768" 1376x768 "$(png_size "$T_DIR/bad.jpg")"
check "fault bad-jpeg: a decoder reports corrupt data" test -n \
    "$(ffmpeg -nostdin -v error -i "$T_DIR/bad.jpg" -f null - 2>&1)"
check "a good JPEG decodes without a word" test -z \
    "$(ffmpeg -nostdin -v error -i "$T_DIR/img.jpg" -f null - 2>&1)"
fault huge-image gemini-nano-banana-2.1 "$IMG" >/dev/null
img_of "$R" "$T_DIR/huge.png"
assert_eq "fault huge-image: a 16384x16384 PNG" 16384x16384 "$(png_dims "$T_DIR/huge.png")"
check "fault huge-image: small on the wire ($(wc -c <"$T_DIR/huge.png") bytes)" test "$(wc -c <"$T_DIR/huge.png")" -lt 1000000
assert_eq "fault huge-image: logged size" '[16384,16384,"png"]' "$(last_log '[.media.width, .media.height, .media.format]')"
SAY='{"contents":[{"parts":[{"text":"The light turns for the last time."}]}],"generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Kore"}}}}}'
for model in gemini-3.8-flash-tts gemini-2.5-flash-preview-tts; do
    fault wav-1hz "$model" "$SAY" >/dev/null
    jq -r '.candidates[0].content.parts[0].inlineData.data' "$R" | base64 -d >"$T_DIR/1hz.wav"
    assert_eq "fault wav-1hz ($model): audio/wav, header rate 1" "audio/wav RIFF 1" \
        "$(jq -r '.candidates[0].content.parts[0].inlineData.mimeType' "$R") $(head -c 4 "$T_DIR/1hz.wav") $(od -An -tu4 -j24 -N4 "$T_DIR/1hz.wav" | tr -d ' ')"
done
assert_contains "fault wav-1hz: file reads 1 Hz" "mono 1 Hz" "$(file "$T_DIR/1hz.wav")"

# ---- the SDK fixtures (tests/data/sdk, @google/genai 3.3.0) replayed: all 200 ----
for f in "$SRC_DIR"/tests/data/sdk/*.json; do
    name=$(basename "$f" .json)
    case $name in interaction_* | file_*) continue ;; esac # t_fake_interactions.sh replays them
    path=$(jq -r .path "$f")
    if [ "$name" = models_list_2 ]; then # the capture server's token: use the fake's own
        get "$(jq -r .path "$SRC_DIR/tests/data/sdk/models_list.json" | cut -c2-)" >/dev/null
        path="${path%%pageToken=*}pageToken=$(jq -r .nextPageToken "$R")"
    fi
    if [ "$(jq -r .method "$f")" = POST ]; then
        jq .body "$f" >"$T_DIR/fx.json"
        code=$(curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" \
            -H 'Content-Type: application/json' "$FAKE_URL$path" --data-binary @"$T_DIR/fx.json")
    else
        code=$(get "${path#/}")
    fi
    assert_eq "sdk fixture $name: 200" 200 "$code"
    case $name in
    flex) assert_eq "sdk flex: serviceTier logged" '"flex"' "$(last_log .service_tier)" ;;
    json_thinking)
        assert_eq "sdk json_thinking: thinkingLevel logged" '"LOW"' "$(last_log .thinking_level)"
        check "sdk json_thinking: JSON answer with the schema's keys" jqe \
            '.candidates[0].content.parts[0].text | fromjson | has("title") and has("scenes")' "$R"
        ;;
    image_nano_banana) assert_eq "sdk image: 16:9 1K" '[1376,768]' "$(last_log '[.media.width, .media.height]')" ;;
    image_refs | json_image) # inline reference images: each logged with the SHA-256 of its bytes
        shas=$(jq -r '.body.contents[0].parts[] | select(.inlineData) | .inlineData.data' "$f" |
            while read -r d; do printf '%s' "$d" | base64 -d | sha256sum | cut -d' ' -f1; done |
            jq -Rsc 'split("\n") | map(select(. != ""))')
        assert_eq "sdk $name: inputs logged in order" "$shas" "$(last_log '[.inputs[].sha256]')"
        check "sdk $name: JPEG references, 258 image tokens each" jqe --argjson n \
            "$(jq '[.body.contents[0].parts[] | select(.inlineData)] | length' "$f")" \
            '.usageMetadata.promptTokensDetails[] | select(.modality == "IMAGE") | .tokenCount == 258 * $n' "$R"
        assert_eq "sdk $name: formats" "$(jq -c '[.body.contents[0].parts[] | select(.inlineData) | "jpeg"]' "$f")" \
            "$(last_log '[.inputs[].format]')"
        ;;&
    image_refs) assert_eq "sdk image_refs: an image of 16:9 1K" '[1376,768]' "$(last_log '[.media.width, .media.height]')" ;;
    json_image)
        check "sdk json_image: JSON with name and look" jqe \
            '.candidates[0].content.parts[0].text | fromjson | (.name | type) == "string" and (.look | type) == "string"' "$R"
        ;;
    tts_style)
        assert_eq "sdk tts_style: style logged, not spoken" \
            "$(jq -c '.body.contents[0].parts | {texts: map(.text), styles: map(.speechMetadata.style)}' "$f")" \
            "$(last_log '.speech | {texts, styles}')"
        style_pcm=$(last_log .media.pcm_bytes)
        ;;
    tts_voice_id) assert_eq "sdk tts_voice_id: voice id logged" '"voice_abc123"' "$(last_log '.speech.voices[0].voice')" ;;
    tts_multi_speaker)
        assert_eq "sdk tts_multi_speaker: speakers and styles logged" \
            "$(jq -c '.body.contents[0].parts | {speakers: map(.speechMetadata.speaker), styles: map(.speechMetadata.style)}' "$f")" \
            "$(last_log '.speech | {speakers, styles}')"
        ;;
    models_list_2) check "sdk models_list_2: a second page" jqe '.models | length == 2' "$R" ;;
    esac
done
jq '.body | del(.contents[0].parts[0].speechMetadata)' "$SRC_DIR/tests/data/sdk/tts_style.json" >"$T_DIR/nostyle.json"
post gemini-3.8-flash-tts:generateContent @"$T_DIR/nostyle.json" >/dev/null
assert_eq "tts: the style does not lengthen the audio" "$style_pcm" "$(last_log .media.pcm_bytes)"

# ---- 3.8 TTS: speakers, voice ids, metadata names ----
MULTI="$SRC_DIR/tests/data/sdk/tts_multi_speaker.json"
jq '.body | .contents[0].parts[1].speechMetadata.speaker = "Narrator"' "$MULTI" >"$T_DIR/m.json"
assert_eq "speaker not configured: 400" 400 "$(post gemini-3.8-flash-tts:generateContent @"$T_DIR/m.json")"
assert_eq "speaker not configured: names it and the speakers" "* GenerateContentRequest.contents[0].parts[1].speech_metadata.speaker: speaker 'Narrator' is not one of the speakers of speech_config.multi_speaker_voice_config: 'Keeper', 'Child'." \
    "$(jq -r .error.message "$R")"
jq '.body | .contents[0].parts |= map(del(.speechMetadata.speaker))' "$MULTI" >"$T_DIR/m2.json"
assert_eq "multi-speaker parts without a speaker: 200" 200 "$(post gemini-3.8-flash-tts:generateContent @"$T_DIR/m2.json")"
jq '.body | .contents[0].parts[0].speechMetadata.speaker = "Keeper"' "$SRC_DIR/tests/data/sdk/tts_style.json" >"$T_DIR/m3.json"
assert_eq "a speaker without multi-speaker config: 400" 400 "$(post gemini-3.8-flash-tts:generateContent @"$T_DIR/m3.json")"
jq '.body | .contents[0].parts[0].speechMetadata.mood = "calm"' "$SRC_DIR/tests/data/sdk/tts_style.json" >"$T_DIR/m4.json"
assert_eq "unknown speechMetadata name: the real 400" "400 Invalid JSON payload received. Unknown name \"mood\" at 'contents[0].parts[0].speech_metadata': Cannot find field." \
    "$(post gemini-3.8-flash-tts:generateContent @"$T_DIR/m4.json") $(jq -r .error.message "$R")"
VOICE="$SRC_DIR/tests/data/sdk/tts_voice_id.json"
for v in voicekey_Ab-9 "voice abc" "voice/../x" ""; do
    jq --arg v "$v" '.body | .generationConfig.speechConfig.voiceConfig.voice = $v' "$VOICE" >"$T_DIR/v.json"
    want=400
    case $v in voicekey_Ab-9) want=200 ;; esac
    assert_eq "voice id '$v': $want" $want "$(post gemini-3.8-flash-tts:generateContent @"$T_DIR/v.json")"
done
jq '.body | del(.contents[0].parts[0].speechMetadata)' "$VOICE" >"$T_DIR/v2.json"
assert_eq "voice ids only on 3.8 TTS" 400 "$(post gemini-2.5-flash-preview-tts:generateContent @"$T_DIR/v2.json")"
assert_eq "speechMetadata only on 3.8 TTS" 400 \
    "$(post gemini-2.5-flash-preview-tts:generateContent @"$SRC_DIR/tests/data/sdk/tts_style.json")"

# ---- serviceTier and thinkingLevel ----
tier() { post gemini-3.8-flash:generateContent "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"serviceTier\":$1}"; }
assert_eq "serviceTier flex/standard/priority: 200" "200 200 200" "$(tier '"flex"') $(tier '"standard"') $(tier '"priority"')"
assert_eq "serviceTier cheap: 400, invalid value" "400 Invalid value at 'service_tier' (type.googleapis.com/google.ai.generativelanguage.v1beta.ServiceTier), \"cheap\"" \
    "$(tier '"cheap"') $(jq -r .error.message "$R")"
level() { post "$1:generateContent" "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"thinkingConfig\":{\"thinkingLevel\":\"$2\"}}}"; }
assert_eq "thinkingLevel on 3.8-flash: LOW MEDIUM HIGH 200" "200 200 200" \
    "$(level gemini-3.8-flash LOW) $(level gemini-3.8-flash MEDIUM) $(level gemini-3.8-flash HIGH)"
assert_eq "thinkingLevel logged as sent" '"HIGH"' "$(last_log .thinking_level)"
assert_eq "MINIMAL on 3.8-flash: the real 400" "400 Thinking level MINIMAL is not supported for this model. Please retry with other thinking level." \
    "$(level gemini-3.8-flash MINIMAL) $(jq -r .error.message "$R")"
assert_eq "MINIMAL on 3.7-flash (rerouted to 3.8): 400" 400 "$(level gemini-3.7-flash MINIMAL)"
assert_eq "MINIMAL on 3.6-flash and 3.5-flash-lite: 200" "200 200" \
    "$(level gemini-3.6-flash MINIMAL) $(level gemini-3.5-flash-lite MINIMAL)"
assert_eq "thinkingLevel SUPER: 400 invalid value" "400 true" \
    "$(level gemini-3.6-flash SUPER) $(jq '.error.message | startswith("Invalid value at '"'"'generation_config.thinking_config.thinking_level'"'"'")' "$R")"
assert_eq "TTS still refuses thinking config" "400 Thinking level is not supported for this model." \
    "$(post gemini-3.8-flash-tts:generateContent "$(jq -c '.generationConfig.thinkingConfig = {thinkingLevel: "LOW"}' <<<"$SAY")") $(jq -r .error.message "$R")"
assert_eq "fields the SDK sends are accepted (continuationToken, partMetadata)" 200 \
    "$(post gemini-3.8-flash:generateContent '{"contents":[{"role":"user","parts":[{"text":"x","partMetadata":{"k":"v"}}]}],"continuationToken":"t","generationConfig":{}}')"
check "log: new fields on every line" jqe -s 'all(.[]; has("served_by") and has("service_tier")
    and has("thinking_level") and has("speech"))' "$FAKE_LOG"
assert_eq "log: the key never appears" 0 "$(grep -c -- "$KEY" "$FAKE_LOG")"
stop_clean

# ---- options: --page-size-max, --retire, --model back, --reroute, --mislabel-rate ----
fake_start --key "$KEY" --page-size-max 4 --retire gemini-3.1-flash-lite \
    --model gemini-3-pro-image-preview:image --reroute gemini-old-flash=gemini-3.8-flash \
    --mislabel-rate 1
API="$FAKE_URL/v1beta/models"
names="" tok="" pages=0
while :; do
    get "v1beta/models?pageSize=100${tok:+&pageToken=$tok}" >/dev/null
    pages=$((pages + 1))
    check "paging: page $pages has at most 4 models" jqe '.models | length <= 4 and length > 0' "$R"
    names="$names $(jq -r '.models[].name' "$R")"
    tok=$(jq -r '.nextPageToken // empty' "$R")
    if [ -z "$tok" ] || [ "$pages" -ge 20 ]; then break; fi
done
listed=$(echo "$names" | tr ' ' '\n' | sed -n 's|^models/||p' | sort)
want=$(jq -r '.[]' <<<"$SERVED" | grep -vx gemini-3.1-flash-lite | { cat; echo gemini-3-pro-image-preview; } | sort)
assert_eq "paging: every served model once, over 4 pages" "4 $want" "$pages $listed"
check "paging: no shut-down or rerouted id listed" test -z \
    "$(echo "$listed" | grep -E '^(gemini-3.1-flash-lite|gemini-2.5-flash|gemini-3.5-flash|gemini-3.7-flash|gemini-old-flash|imagen-)$')"
assert_eq "--retire: 404 on GET and generateContent" "404 404" \
    "$(get v1beta/models/gemini-3.1-flash-lite) $(post gemini-3.1-flash-lite:generateContent "$HELLO")"
assert_eq "--retire a rerouting target: 3.5-flash is refused at start" 2 \
    "$("$FAKE_GEMINI" --retire gemini-3.6-flash --quiet --port 0 2>/dev/null; echo $?)"
assert_eq "--model brings a shut-down id back" 200 \
    "$(post gemini-3-pro-image-preview:generateContent "$IMG")"
assert_eq "--mislabel-rate 1: every JPEG labelled image/png" "image/png jpeg" \
    "$(jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.mimeType' "$R") $(last_log .media.format | tr -d '"')"
assert_eq "--reroute: modelVersion of the target" "200 gemini-3.8-flash" \
    "$(post gemini-old-flash:generateContent "$HELLO") $(jq -r .modelVersion "$R")"
stop_clean
rm -f "$FAKE_LOG"
fake_start --key "$KEY" --mislabel-rate 0
API="$FAKE_URL/v1beta/models"
for i in 1 2 3 4 5 6; do
    post gemini-3.1-flash-image:generateContent "{\"contents\":[{\"parts\":[{\"text\":\"Sea $i\"}]}],\"generationConfig\":{\"responseModalities\":[\"IMAGE\"]}}" >/dev/null
done
assert_eq "--mislabel-rate 0: every image labelled image/jpeg" 6 "$(fake_count '.media.mime == "image/jpeg"')"
stop_clean

# ---- rate limit (--rpm), latency and concurrency, seeded fault rate ----
rm -f "$FAKE_LOG"
fake_start --key "$KEY" --rpm gemini-3.8-flash=2 --minute-ms 2500 --latency-ms 400
API="$FAKE_URL/v1beta/models"
assert_eq "rpm 2: 200 200 429" "200 200 429" \
    "$(post gemini-3.8-flash:generateContent "$HELLO") $(post gemini-3.8-flash:generateContent "$HELLO") $(post gemini-3.8-flash:generateContent "$HELLO")"
check "rpm: PerMinute quota and retryDelay like 0.123s" jqe '(.error.details[0].violations[0].quotaId | test("PerMinute"))
    and ([.error.details[] | select(."@type" | endswith("RetryInfo")) | .retryDelay | test("^[0-9]+\\.[0-9]{3}s$")] == [true])' "$R"
assert_eq "rpm: logged as fault rpm" '"rpm"' "$(last_log .fault)"
sleep 2.6
assert_eq "rpm: window frees" 200 "$(post gemini-3.8-flash:generateContent "$HELLO")"
pids=""
for _ in 1 2 3 4; do
    post gemini-3.6-flash:generateContent "$HELLO" >/dev/null &
    pids="$pids $!"
done
# shellcheck disable=SC2086 # a list of pids; a bare wait would wait for the fake server too
wait $pids
fake_settle
# The fake's own record says when each request began (ts) and how long it lasted (ms): served
# concurrently, the four intervals share a moment (the last start is before the first end); one
# at a time, each would begin after the one before ended. No wall-clock bound on this side.
jq -s '[.[] | select(.model == "gemini-3.6-flash")
        | ((.ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
           + (.ts | capture("\\.(?<f>[0-9]{3})").f | tonumber)) as $t
        | {start: $t, end: ($t + .ms), ms}]' "$FAKE_LOG" >"$T_DIR/latency.json"
assert_eq "latency: 4 requests logged" 4 "$(jq length "$T_DIR/latency.json")"
check "latency: each lasted at least the 400 ms asked for" jqe 'all(.ms >= 400)' "$T_DIR/latency.json"
check "latency: the 4 were served concurrently (their intervals overlap)" \
    jqe '(map(.start) | max) < (map(.end) | min)' "$T_DIR/latency.json"
stop_clean
codes() {
    local out="" _
    for _ in $(seq 12); do out="$out $(post gemini-3.8-flash:generateContent "$HELLO")"; done
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
wait_for "the fake's listening line" 60 grep -q listening "$T_DIR/line.txt"
kill "$pid"
wait "$pid"
check "listening line on stdout" grep -Eq '^fake-gemini: listening on http://127\.0\.0\.1:[0-9]+$' "$T_DIR/line.txt"

finish
