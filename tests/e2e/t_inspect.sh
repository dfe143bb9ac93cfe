#!/usr/bin/env bash
# gemflow inspect: the call record of a done, a retried, a failed and a refused item, and of an
# item recorded while its job still runs: the request as sent (media as size + sha256 + path),
# the response (text, finish reason, safety ratings, usage), attempts with errors and delays,
# timings; --raw is the record's JSON; the API key never appears anywhere.
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
export GEMINI_API_KEY="gf-test-SECRET-key-7d3f91"

cat >"$T_DIR/faults.json" <<'JSON'
[{"model": "gemini-3.8-flash-tts", "kind": "503", "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "safety", "skip": 4, "times": 1}]
JSON
fake_start --faults "$T_DIR/faults.json"
job=$(fast_job mixed)
gf run "$job"
assert_eq "the run with faults exits 1" 1 "$GF_RC"
log="$job/progress.jsonl"
all_out="$T_DIR/all-outputs.txt"
: >"$all_out"
jqe() { jq -e "$@" >/dev/null; }
keep() { cat "$T_DIR/last.out" "$T_DIR/last.err" >>"$all_out"; }

# a done image: prompt as sent, the image as size + sha256 + path, finish reason, usage
done_item=$(jq -rs '[.[] | select(.event=="item_done" and .stage=="images")] | first | .item' "$log")
gf inspect "$job" images "$done_item"
keep
assert_eq "inspect exits 0" 0 "$GF_RC"
out=$(cat "$T_DIR/last.out")
assert_contains "header: item and state" "images/$done_item  done" "$out"
prompt=$(jq -r --arg id "$done_item" '.scenes[] | select(.id == $id) | .image_prompt' "$job/prompts.json")
assert_contains "the prompt as sent" "$prompt" "$out"
png="$job/images/$done_item.jpg"
# the image models send JPEG, part of it labelled image/png: inspect shows the label and, when it
# lies, what the bytes are
label=$(jq -r '[.response.body.candidates[0].content.parts[] | .inlineData.mimeType // empty][0]' \
    "$job/.gemflow/calls/images/$done_item.json")
case "$label" in image/jpeg) seen="image/jpeg" ;; *) seen="$label (the bytes are jpeg)" ;; esac
assert_contains "the image as label, size, sha256 and path" \
    "$seen, $(stat -c %s "$png") bytes, sha256 $(sha256sum "$png" | cut -d' ' -f1), saved as images/$done_item.jpg" "$out"
assert_contains "the finish reason" "finish reason STOP" "$out"
tokens=$(jq -rs --arg id "$done_item" '[.[] | select(.event=="call_end" and .stage=="images" and .item==$id)] | last | .tokens.total' "$log")
assert_contains "the usage the API reported" "total $tokens tokens" "$out"
assert_contains "the artifact is as recorded" "(on disk as recorded)" "$out"
assert_contains "the settings sent" '"aspectRatio":"16:9"' "$out"
check "timings are shown" grep -Eq "started 20[0-9-]+T.*, ended .*, .* in all" "$T_DIR/last.out"
check "no base64 media in the output" bash -c "! grep -Eq '[A-Za-z0-9+/]{200}' '$T_DIR/last.out'"

# --raw: the record's JSON
gf inspect --raw "$job" images "$done_item"
keep
check "--raw is JSON" jqe . "$T_DIR/last.out"
assert_eq "--raw is the record" "$(jq -S . "$job/.gemflow/calls/images/$done_item.json")" "$(jq -S . "$T_DIR/last.out")"

# a retried narration: both attempts, the first with the API's words and the delay before the next
retried=$(jq -rs 'map(select(.event=="retry")) | first | .item' "$log")
delay=$(jq -rs 'map(select(.event=="retry")) | first | .delay_ms' "$log")
gf inspect "$job" narration "$retried"
keep
check "attempt 1: HTTP 503 with the API's words" grep -Eq "^   1  HTTP 503 after .*: The model is overloaded" "$T_DIR/last.out"
check "attempt 1: the delay before attempt 2" grep -Eq "^   1  .*; retried after [0-9.]+(s| ms) \(backoff with jitter\)" "$T_DIR/last.out"
check "attempt 2: HTTP 200" grep -Eq "^   2  HTTP 200 after" "$T_DIR/last.out"
assert_contains "attempt 1: the logged delay" "retried after $(awk -v d="$delay" 'BEGIN { if (d < 1000) printf "%d ms", d; else printf "%.1fs", d / 1000 }')" "$(cat "$T_DIR/last.out")"

# the failed image: HTTP status, the API's status and words, in the error and in the response
failed=$(jq -rs 'map(select(.event=="item_failed" and .error.http_status == 400)) | first | .item' "$log")
gf inspect "$job" images "$failed"
keep
out=$(cat "$T_DIR/last.out")
assert_contains "failed: state" "images/$failed  failed" "$out"
assert_contains "failed: the error line" "HTTP 400 INVALID_ARGUMENT, http: Request contains an invalid argument." "$out"
assert_contains "failed: the API's error body" "error 400 INVALID_ARGUMENT: Request contains an invalid argument." "$out"

# the refused image: finish reason and safety ratings
refused=$(jq -rs 'map(select(.event=="item_failed" and .error.kind == "refused")) | first | .item' "$log")
gf inspect "$job" images "$refused"
keep
out=$(cat "$T_DIR/last.out")
assert_contains "refused: the finish reason" "finish reason IMAGE_SAFETY" "$out"
check "refused: the safety ratings" grep -Eq "safety ratings: .*HARM_CATEGORY_[A-Z_]+ HIGH" "$T_DIR/last.out"

# without ITEM: a single-item stage shows its item, a foreach stage lists its items
gf inspect "$job" analysis
keep
assert_contains "single-item stage" "analysis/analysis  done" "$(cat "$T_DIR/last.out")"
gf inspect "$job" images
keep
assert_eq "one line per recorded image" "$(ls "$job/.gemflow/calls/images" | wc -l)" "$(wc -l <"$T_DIR/last.out")"
check "the failed one says why" grep -Eq "^$failed +failed +HTTP 400 .*Request contains an invalid argument" "$T_DIR/last.out"

# an edited artifact is told apart
other=$(jq -rs '[.[] | select(.event=="item_done" and .stage=="images")] | last | .item' "$log")
cp "$png" "$job/images/$other.jpg"
[ "$other" != "$done_item" ] || fail "need two done images"
gf inspect "$job" images "$other"
assert_contains "an edited artifact is marked" "(edited by hand since)" "$(cat "$T_DIR/last.out")"

# errors
gf inspect "$job" imagez
keep
assert_eq "unknown stage: exit 2" 2 "$GF_RC"
assert_contains "the recorded stages are listed" "recorded stages: analysis, images, narration, portraits, prompts" "$(cat "$T_DIR/last.err")"
gf inspect "$job" images s99
keep
assert_eq "unknown item: exit 2" 2 "$GF_RC"
assert_contains "the recorded items are listed" "recorded items: s01" "$(cat "$T_DIR/last.err")"
gf inspect "$job" images ../../../etc/passwd
assert_eq "a path is no item name: exit 2" 2 "$GF_RC"
gf inspect "$job"
assert_eq "no stage: exit 2" 2 "$GF_RC"

# a job in progress: the items recorded so far can be inspected while it runs
fake_stop
fake_start --latency-ms 1500
live=$(fast_job live)
"$GEMFLOW" run -q "${FAST[@]}" "$live" >/dev/null 2>&1 &
pid=$!
wait_for "the analysis to be done" 300 grep -q '"event":"item_done","stage":"analysis"' "$live/progress.jsonl"
gf inspect "$live" analysis
keep
assert_eq "inspect while the job runs exits 0" 0 "$GF_RC"
assert_contains "the recorded item is shown" "analysis/analysis  done" "$(cat "$T_DIR/last.out")"
check "the job was still running" kill -0 $pid
wait $pid

check "the API key appears in no output" bash -c "! grep -qF '$GEMINI_API_KEY' '$all_out'"
check "the API key appears in no call record" bash -c "! grep -rqF '$GEMINI_API_KEY' '$job/.gemflow' '$live/.gemflow'"
check "the key was really used (the server saw one)" jqe -s 'all(.key_present)' "$FAKE_LOG"
finish
