#!/usr/bin/env bash
# t_fake_refs.sh: end-to-end checks of the fake Gemini server's inline media inputs (reference
# images sent beside the prompt, tests/fake/fake_inputs.c) with curl and jq: the part shapes
# (camelCase and snake_case, images before or after the text), the request log's `inputs`
# (mime, bytes, sha256, format in request order), images that follow their references, the
# refusals with the real API's status and words (MIME types, base64, undecodable bytes, the
# per-model image count, the request size), and the characters of an analysis JSON.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in curl jq sha256sum base64; do
    command -v "$tool" >/dev/null || { echo "not ok: $tool is needed" >&2; exit 1; }
done

KEY="fk-refs-key-3Vd9"
R="$T_DIR/resp.json"
NB=gemini-nano-banana-2.1
UNABLE="Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"

# post MODEL BODY-FILE [curl args]: generateContent with the key; prints the status, reply in $R.
post() {
    local model=$1 body=$2
    shift 2
    curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' \
        "$@" "$FAKE_URL/v1beta/models/$model:generateContent" --data-binary @"$body"
}
# last_log [jq filter]: a field of the last request-log line.
last_log() {
    fake_settle >/dev/null
    tail -n 1 "$FAKE_LOG" | jq -c "${1:-.}"
}
jqe() {
    jq -e "$@" >/dev/null
}
# b64 FILE: the file as one line of base64.
b64() {
    base64 -w0 "$1"
}
# entry MIME FILE FORMAT: the log entry the fake should write for FILE sent as MIME.
entry() {
    jq -cn --arg m "$1" --argjson b "$(wc -c <"$2")" --arg s "$(sha256sum "$2" | cut -d' ' -f1)" \
        --arg f "$3" '{mime: $m, bytes: $b, sha256: $s, format: $f}'
}
# scene OUT PROMPT [MIME FILE]...: an image request: the text part, then each file inline
# (camelCase, as the REST API and the SDK send it), answer IMAGE only, 16:9.
scene() {
    local out=$1 prompt=$2
    shift 2
    jq -n --arg t "$prompt" '{contents: [{role: "user", parts: [{text: $t}]}],
        generationConfig: {responseModalities: ["IMAGE"], imageConfig: {aspectRatio: "16:9"}}}' >"$out"
    while [ $# -ge 2 ]; do
        b64 "$2" >"$T_DIR/part.b64"
        jq --arg m "$1" --rawfile d "$T_DIR/part.b64" \
            '.contents[0].parts += [{inlineData: {mimeType: $m, data: $d}}]' "$out" >"$out.tmp" &&
            mv "$out.tmp" "$out"
        shift 2
    done
}
# image_sha: the SHA-256 of the image in the last reply.
image_sha() {
    jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
        base64 -d | sha256sum | cut -d' ' -f1
}

fake_start --key "$KEY"

# ---- portraits to send as references: made by the fake's image model, as gemflow would ----
for who in elias mara; do
    scene "$T_DIR/p.json" "Portrait of $who, head and shoulders, plain background"
    assert_eq "portrait $who: 200" 200 "$(post $NB "$T_DIR/p.json")"
    jq -r '.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data' "$R" |
        base64 -d >"$T_DIR/$who.jpg"
done
check "portraits differ" test "$(sha256sum <"$T_DIR/elias.jpg")" != "$(sha256sum <"$T_DIR/mara.jpg")"
cp "$SRC_DIR/tests/data/media/rgb_8x6.png" "$T_DIR/small.png"
assert_eq "log: inputs [] for a request without inline parts" '[]' "$(last_log .inputs)"
assert_eq "log: models.get has inputs null" 200 \
    "$(curl -s -o "$R" -w '%{http_code}' -H "x-goog-api-key: $KEY" "$FAKE_URL/v1beta/models/$NB")"
assert_eq "log: inputs null off generateContent" null "$(last_log .inputs)"

# ---- a scene with two references: accepted, logged in order, counted as image tokens ----
SCENE="Elias Marr lights the lamp while Mara watches from the stairs"
scene "$T_DIR/s1.json" "$SCENE" image/jpeg "$T_DIR/elias.jpg" image/jpeg "$T_DIR/mara.jpg"
assert_eq "two references: 200" 200 "$(post $NB "$T_DIR/s1.json")"
assert_eq "two references: logged in request order" \
    "[$(entry image/jpeg "$T_DIR/elias.jpg" jpeg),$(entry image/jpeg "$T_DIR/mara.jpg" jpeg)]" \
    "$(last_log .inputs)"
assert_eq "two references: 2 x 258 IMAGE prompt tokens" 516 \
    "$(jq '.usageMetadata.promptTokensDetails[] | select(.modality == "IMAGE") | .tokenCount' "$R")"
assert_eq "two references: the prompt is logged" "\"$SCENE\"" "$(last_log .prompt)"
with_refs=$(image_sha)
post $NB "$T_DIR/s1.json" >/dev/null
assert_eq "same request, same image" "$with_refs" "$(image_sha)"

# ---- the image depends on the references ----
scene "$T_DIR/s0.json" "$SCENE"
post $NB "$T_DIR/s0.json" >/dev/null
check "no references: another image" test "$(image_sha)" != "$with_refs"
scene "$T_DIR/s2.json" "$SCENE" image/jpeg "$T_DIR/mara.jpg" image/jpeg "$T_DIR/elias.jpg"
post $NB "$T_DIR/s2.json" >/dev/null
check "references swapped: another image" test "$(image_sha)" != "$with_refs"
scene "$T_DIR/s3.json" "$SCENE" image/jpeg "$T_DIR/elias.jpg" image/png "$T_DIR/small.png"
post $NB "$T_DIR/s3.json" >/dev/null
check "one reference changed: another image" test "$(image_sha)" != "$with_refs"
assert_eq "second reference changed: logged" "$(entry image/png "$T_DIR/small.png" png)" \
    "$(last_log '.inputs[1]')"

# ---- part shapes: snake_case as the REST samples write it; images before the text ----
jq '.contents[0].parts |= map(if .inlineData then {inline_data: {mime_type: .inlineData.mimeType,
    data: .inlineData.data}} else . end)' "$T_DIR/s1.json" >"$T_DIR/snake.json"
assert_eq "snake_case inline_data/mime_type: 200" 200 "$(post $NB "$T_DIR/snake.json")"
assert_eq "snake_case: same image as camelCase" "$with_refs" "$(image_sha)"
jq '.contents[0].parts |= (.[1:] + .[:1])' "$T_DIR/s1.json" >"$T_DIR/after.json"
assert_eq "images first, text last: 200" 200 "$(post $NB "$T_DIR/after.json")"
assert_eq "images first: logged in request order, prompt found" \
    "[\"$(sha256sum "$T_DIR/elias.jpg" | cut -d' ' -f1)\",\"$SCENE\"]" \
    "$(last_log '[.inputs[0].sha256, .prompt]')"
jq '.contents[0].parts[1].inlineData.displayName = "elias.jpg"' "$T_DIR/s1.json" >"$T_DIR/dn.json"
assert_eq "Blob.displayName (an SDK field) accepted" 200 "$(post $NB "$T_DIR/dn.json")"
jq '.contents[0].parts[1].inlineData.label = "x"' "$T_DIR/s1.json" >"$T_DIR/unk.json"
assert_eq "unknown name in inlineData: 400" 400 "$(post $NB "$T_DIR/unk.json")"
assert_eq "unknown name in inlineData: the real wording" \
    "Invalid JSON payload received. Unknown name \"label\" at 'contents[0].parts[1].inline_data': Cannot find field." \
    "$(jq -r .error.message "$R")"

# ---- declared type and bytes ----
scene "$T_DIR/mis.json" "$SCENE" image/jpeg "$T_DIR/small.png"
assert_eq "PNG bytes declared image/jpeg: taken (the model reads the bytes)" 200 \
    "$(post $NB "$T_DIR/mis.json")"
assert_eq "mislabelled: log keeps the label, format tells the bytes" '["image/jpeg","png"]' \
    "$(last_log '[.inputs[0].mime, .inputs[0].format]')"
for mime in image/gif image/jpg image/bmp; do
    scene "$T_DIR/g.json" "$SCENE" "$mime" "$T_DIR/small.png"
    assert_eq "$mime: 400 INVALID_ARGUMENT" "400 INVALID_ARGUMENT" \
        "$(post $NB "$T_DIR/g.json") $(jq -r .error.status "$R")"
    assert_eq "$mime: the real wording" "Unsupported MIME type: $mime" "$(jq -r .error.message "$R")"
done
jq '.contents[0].parts[1].inlineData |= del(.mimeType)' "$T_DIR/s1.json" >"$T_DIR/nomime.json"
assert_eq "no mimeType: 400" 400 "$(post $NB "$T_DIR/nomime.json")"
printf 'not a picture at all' >"$T_DIR/text.bin"
scene "$T_DIR/t.json" "$SCENE" image/png "$T_DIR/text.bin"
assert_eq "text bytes declared image/png: 400" 400 "$(post $NB "$T_DIR/t.json")"
assert_eq "undecodable image: the real wording" "$UNABLE" "$(jq -r .error.message "$R")"
assert_eq "undecodable image: still logged, format other" '{"mime":"image/png","format":"other"}' \
    "$(last_log '.inputs[0] | {mime, format}')"
head -c 20 "$T_DIR/elias.jpg" >"$T_DIR/cut.jpg"
scene "$T_DIR/cut.json" "$SCENE" image/jpeg "$T_DIR/cut.jpg"
assert_eq "JPEG cut before its frame header: 400" "400 $UNABLE" \
    "$(post $NB "$T_DIR/cut.json") $(jq -r .error.message "$R")"
jq '.contents[0].parts[1].inlineData.data = "not*base64!"' "$T_DIR/s1.json" >"$T_DIR/b64.json"
assert_eq "bad base64: 400" 400 "$(post $NB "$T_DIR/b64.json")"
assert_eq "bad base64: the real wording with the value" \
    "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed for \"not*base64!\"" \
    "$(jq -r .error.message "$R")"
b64 "$T_DIR/elias.jpg" | tr '+/' '-_' | tr -d '=' >"$T_DIR/url.b64"
jq --rawfile d "$T_DIR/url.b64" '.contents[0].parts[1].inlineData.data = $d' "$T_DIR/s1.json" \
    >"$T_DIR/url.json"
assert_eq "URL-safe base64 without padding (proto3 JSON): 200" 200 "$(post $NB "$T_DIR/url.json")"
assert_eq "URL-safe base64: the same bytes" "\"$(sha256sum "$T_DIR/elias.jpg" | cut -d' ' -f1)\"" \
    "$(last_log '.inputs[0].sha256')"

# ---- what each model kind takes ----
printf '%%PDF-1.4\n%%EOF\n' >"$T_DIR/doc.pdf"
b64 "$T_DIR/doc.pdf" >"$T_DIR/doc.b64"
b64 "$T_DIR/elias.jpg" >"$T_DIR/elias.b64"
jq -n --rawfile d "$T_DIR/doc.b64" --rawfile i "$T_DIR/elias.b64" \
    '{contents: [{parts: [{text: "Describe the keeper in the picture and the document."},
      {inlineData: {mimeType: "image/jpeg", data: $i}},
      {inlineData: {mimeType: "application/pdf", data: $d}}]}]}' >"$T_DIR/pdf.json"
assert_eq "text model: an image and a PDF inline: 200" 200 "$(post gemini-3.8-flash "$T_DIR/pdf.json")"
assert_eq "text model: both logged" '["jpeg","other"]' "$(last_log '[.inputs[].format]')"
assert_eq "image model: a PDF is refused" "400 Unsupported MIME type: application/pdf" \
    "$(post $NB "$T_DIR/pdf.json") $(jq -r .error.message "$R")"
jq -n --rawfile i "$T_DIR/elias.b64" '{contents: [{parts: [{text: "Read this."},
      {inlineData: {mimeType: "image/jpeg", data: $i}}]}],
    generationConfig: {responseModalities: ["AUDIO"]}}' >"$T_DIR/tts.json"
assert_eq "speech model: an inline image is refused" 400 "$(post gemini-3.8-flash-tts "$T_DIR/tts.json")"
assert_contains "speech model: says text only" "accepts text input only" "$(jq -r .error.message "$R")"

# ---- the per-model image count: 14 on the Gemini 3 image models ----
# many N OUT: a scene request with N references (the small PNG).
many() {
    local args=() i
    for ((i = 0; i < $1; i++)); do args+=(image/png "$T_DIR/small.png"); done
    scene "$2" "$SCENE" "${args[@]}"
}
many 14 "$T_DIR/m14.json"
assert_eq "14 references on $NB: 200" 200 "$(post $NB "$T_DIR/m14.json")"
many 15 "$T_DIR/m15.json"
assert_eq "15 references on $NB: 400" 400 "$(post $NB "$T_DIR/m15.json")"
assert_eq "15 references: names the limit" \
    "\"* GenerateContentRequest.contents: models/$NB takes at most 14 input images per request; this request has 15.\\n\"" \
    "$(jq .error.message "$R")"
assert_eq "15 references: all 15 logged" 15 "$(last_log '.inputs | length')"
jq '.generationConfig = {}' "$T_DIR/m15.json" >"$T_DIR/m15t.json"
assert_eq "15 images on a text model (3,600 allowed): 200" 200 "$(post gemini-3.8-flash "$T_DIR/m15t.json")"

# ---- the request size limit: 100 MB, or --max-body ----
code=$(head -c 104857601 /dev/zero | tr '\0' ' ' | curl -s -o "$R" -w '%{http_code}' \
    -H "x-goog-api-key: $KEY" -H 'Content-Type: application/json' \
    "$FAKE_URL/v1beta/models/gemini-3.8-flash:generateContent" --data-binary @-)
assert_eq "a body over 100 MB: 400 with the real wording" \
    "400 Request payload size exceeds the limit: 104857600 bytes." "$code $(jq -r .error.message "$R")"
fake_restart --key "$KEY" --max-body 4096 --mime-strict
scene "$T_DIR/big.json" "$SCENE" image/jpeg "$T_DIR/elias.jpg"
assert_eq "--max-body 4096: a portrait is too large" \
    "400 INVALID_ARGUMENT Request payload size exceeds the limit: 4096 bytes." \
    "$(post $NB "$T_DIR/big.json") $(jq -r '"\(.error.status) \(.error.message)"' "$R")"
scene "$T_DIR/sm.json" "$SCENE" image/png "$T_DIR/small.png"
assert_eq "--max-body 4096: a small reference fits" 200 "$(post $NB "$T_DIR/sm.json")"
assert_eq "--mime-strict: PNG bytes declared image/jpeg refused" "400 $UNABLE" \
    "$(post $NB "$T_DIR/mis.json") $(jq -r .error.message "$R")"
fake_stop
check "fake server: empty stderr" test ! -s "$T_DIR/fake.err"

finish
