#!/usr/bin/env bash
# Image and audio replies are decoded, checked and written on worker threads
# (GEMFLOW_CHECK_THREADS, default: the CPUs, up to 4) or on the loop's thread (0). Both ways
# write the same artifacts, records and checkpoint, and a bad reply fails the same way.
source "$(dirname "$0")/lib.sh"
fake_start
WF=(--workflow "$(bench_wf media)" --set limits.concurrency=16)

for n in 0 3; do
    job=$(new_job "threads-$n")
    : >"$FAKE_LOG"
    GEMFLOW_CHECK_THREADS=$n gf run "${WF[@]}" "$job"
    assert_eq "GEMFLOW_CHECK_THREADS=$n: run exits 0" 0 "$GF_RC"
    [ "$GF_RC" = 0 ] || cat "$T_DIR/last.err" >&2
    assert_eq "GEMFLOW_CHECK_THREADS=$n: call_end.bytes add up to what the server sent" \
        "$(jq -s '[.[] | select(.method == "POST" and .status == 200) | .response_bytes] | add' "$FAKE_LOG")" \
        "$(jq -s '[.[] | select(.event == "call_end") | .bytes] | add' "$job/progress.jsonl")"
done
a=$T_DIR/threads-0 b=$T_DIR/threads-3

digests() { # job: "path sha256" of every image and audio file, sorted
    (cd "$1" && sha256sum images/* audio/* | awk '{ print $2, $1 }' | sort)
}
assert_eq "16 images and audio files each way" "16 16" "$(digests "$a" | wc -l) $(digests "$b" | wc -l)"
assert_eq "the same bytes either way" "$(digests "$a")" "$(digests "$b")"
for j in "$a" "$b"; do
    bad=0
    while read -r path sha; do
        [ "$(sha256sum "$j/$path" | cut -d' ' -f1)" = "$sha" ] || bad=$((bad + 1))
    done < <(jq -r '.artifacts[] | "\(.path) \(.sha256)"' "$j/manifest.json")
    assert_eq "$(basename "$j"): every manifest sha256 matches its file" 0 "$bad"
    assert_eq "$(basename "$j"): one item_done per call" "$(jq '2 + 2 * (.scenes | length)' "$j/analysis.json")" "$(events "$j/progress.jsonl" item_done)"
    assert_eq "$(basename "$j"): item_done sha256 = file" 0 "$(jq -r 'select(.event == "item_done") | .outputs[] | "\(.path) \(.sha256)"' "$j/progress.jsonl" |
        while read -r path sha; do [ "$(sha256sum "$j/$path" | cut -d' ' -f1)" = "$sha" ] || echo bad; done | wc -l)"
    rec=$j/.gemflow/calls/images/s01.json
    assert_eq "$(basename "$j"): image record holds the file's digest, not the base64" \
        "$(sha256sum "$j/images/s01.jpg" | cut -d' ' -f1) images/s01.jpg" \
        "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | "\(.inlineData.data.sha256) \(.inlineData.data.saved_as)"' "$rec")"
    arec=$j/.gemflow/calls/narration/s01.json
    assert_eq "$(basename "$j"): the WAV reply's record holds the file's digest" \
        "$(sha256sum "$j/audio/s01.wav" | cut -d' ' -f1) $(stat -c %s "$j/audio/s01.wav")" \
        "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | "\(.inlineData.data.sha256) \(.inlineData.data.bytes)"' "$arec")"
    assert_eq "$(basename "$j"): no base64 PNG left in any record" 0 "$(grep -rl 'iVBORw0KGgo' "$j/.gemflow/calls" | wc -l)"
    assert_eq "$(basename "$j"): image media facts in the manifest" 8 "$(jq '[.artifacts[] | select(.media.width > 0 and .media.height > 0)] | length' "$j/manifest.json")"
done

# A TTS model that sends raw PCM: the WAV is made from it, so the record digests the PCM.
for n in 0 3; do
    job=$(new_job "pcm-$n")
    GEMFLOW_CHECK_THREADS=$n gf run "${WF[@]}" --set narration.model=gemini-2.5-flash-preview-tts --set narration.style= "$job"
    assert_eq "PCM, threads=$n: run exits 0" 0 "$GF_RC"
    assert_eq "PCM, threads=$n: the record digests the PCM sent (2 bytes a frame), not the WAV" \
        "$((2 * $(wav_frames "$job/audio/s01.wav"))) false" \
        "$(jq -r --arg wav "$(sha256sum "$job/audio/s01.wav" | cut -d' ' -f1)" '.response.body.candidates[0].content.parts[] | select(.inlineData) | "\(.inlineData.data.bytes) \(.inlineData.data.sha256 == $wav)"' "$job/.gemflow/calls/narration/s01.json")"
done
assert_eq "PCM: the same WAVs either way" "$(cd "$T_DIR/pcm-0" && sha256sum audio/*)" "$(cd "$T_DIR/pcm-3" && sha256sum audio/*)"

# Broken PNGs from the server fail their items the same way with and without workers.
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "bad-png"}]' >"$T_DIR/faults.json"
fake_start --faults "$T_DIR/faults.json"
for n in 0 3; do
    job=$(new_job "broken-$n")
    : >"$FAKE_LOG"
    GEMFLOW_CHECK_THREADS=$n gf run "${WF[@]}" --set images.paid_retries=0 "$job"
    assert_eq "broken PNGs, threads=$n: exit 1" 1 "$GF_RC"
    assert_contains "broken PNGs, threads=$n: the cause is named" "PNG does not decode" "$(cat "$T_DIR/last.err")"
    assert_eq "broken PNGs, threads=$n: no image written" 0 "$(find "$job/images" -type f 2>/dev/null | wc -l)"
    assert_eq "broken PNGs, threads=$n: 8 item_failed" 8 "$(events "$job/progress.jsonl" item_failed)"
    assert_eq "broken PNGs, threads=$n: the narration is all there" 8 "$(ls "$job/audio" | wc -l)"
    assert_eq "broken PNGs, threads=$n: failed records give each PNG's size as the server sent it" \
        "$(jq -r 'select(.method == "POST" and .model == "gemini-nano-banana-2.1") | .media.bytes' "$FAKE_LOG" | sort -n | paste -sd,)" \
        "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | .inlineData.data.bytes' "$job"/.gemflow/calls/images/*.json | sort -n | paste -sd,)"
    assert_eq "broken PNGs, threads=$n: failed records say why" 8 "$(grep -l 'PNG does not decode' "$job"/.gemflow/calls/images/*.json | wc -l)"
done
# Image data that is not base64: decoded in place, the text is gone by the time the record is
# written, so the record must still say what it was, as the item's error does.
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "bad-base64"}]' >"$T_DIR/faults.json"
fake_start --faults "$T_DIR/faults.json"
job=$(new_job "bad-base64")
gf run "${WF[@]}" --set images.paid_retries=0 "$job"
assert_eq "bad base64: exit 1" 1 "$GF_RC"
rec=$job/.gemflow/calls/images/s01.json
chars=$(jq -r '.error.message' "$rec" | sed -n 's/.*not valid base64 (byte [0-9]* of \([0-9]*\)).*/\1/p')
assert_eq "bad base64: the record says so, with the length the error gives" "not valid base64 $chars" \
    "$(jq -r '.response.body.candidates[0].content.parts[] | select(.inlineData) | "\(.inlineData.data.error) \(.inlineData.data.base64_chars)"' "$rec")"
check "bad base64: a length was given" test -n "$chars"
finish
