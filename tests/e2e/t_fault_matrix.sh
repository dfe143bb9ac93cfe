#!/usr/bin/env bash
# Fault matrix: one fresh sample job per fault the real API or the wire can produce, injected
# into the first matching request(s) by the fake server. Each case states the outcome: retried
# and done (exit 0), or that one item failed with the API's or the model's own words in status,
# the call record and progress.jsonl (exit 1) while every independent item still completes.
# docs/fault-matrix.md is the table of these cases.
# The faults are in the API calls, so the cases leave the video stage out (video.enabled=false):
# an encode per case was two thirds of this test's time. That a retried image or narration makes
# a real video is t_faults' subject (seeded faults in every stage, then the video checked).
source "$(dirname "$0")/lib.sh"
fake_start --retry-delay 0.3s --retry-after 1 --hang-ms 6000
IMG=gemini-nano-banana-2.1
TTS=gemini-3.8-flash-tts
TXT=gemini-3.8-flash

set_rules() {
    curl -sf -X POST "$FAKE_URL/_fake/reset" >/dev/null &&
        curl -sf -X POST --data-binary "$1" "$FAKE_URL/_fake/faults" >/dev/null ||
        fail "cannot set fake rules: $1"
}

# case NAME MODEL KIND TIMES EXPECT_RC EXPECT (retried|failed:<error.kind>) WORDS [extra run args...]
n_case=0
case_run() {
    local name=$1 model=$2 kind=$3 times=$4 want_rc=$5 expect=$6 words=$7
    shift 7
    n_case=$((n_case + 1))
    local match=""
    # image faults hit the scene images (16:9), not the portraits made before them (3:4)
    [ "$model" = "$IMG" ] && match=", \"match\": \"16:9\""
    [ -n "${MATCH:-}" ] && match=", \"match\": \"$MATCH\""
    set_rules "[{\"model\": \"$model\", \"kind\": \"$kind\", \"times\": $times$match}]"
    local job
    job=$(new_job "case$n_case")
    local before
    before=$(fake_count true)
    gf run --set video.enabled=false "$@" "$job"
    local rc=$GF_RC log="$job/progress.jsonl"
    LAST_REQS=$(( $(fake_count true) - before ))
    local retries failed_kind msg
    retries=$(events "$log" retry)
    failed_kind=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.kind // ""' "$log")
    msg=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.message // ""' "$log")
    local ok_case=1
    [ "$rc" = "$want_rc" ] || { fail "$name: exit $rc, expected $want_rc"; ok_case=0; }
    case "$expect" in
    retried)
        [ "$retries" -ge 1 ] || [ "$kind" = reset ] || { fail "$name: no retry logged"; ok_case=0; }
        [ "$(jq '.artifacts | length' "$job/manifest.json")" = "$(api_items "$job")" ] || { fail "$name: not every artifact made"; ok_case=0; }
        [ -z "$words" ] || jq -s -e --arg w "$words" 'map(select(.event=="retry" and (.reason | test($w; "i")))) | length > 0' "$log" >/dev/null ||
            { fail "$name: retry reason lacks '$words'"; ok_case=0; }
        ;;
    failed:*)
        [ "$failed_kind" = "${expect#failed:}" ] || { fail "$name: failed kind '$failed_kind', expected '${expect#failed:}'"; ok_case=0; }
        case "$msg" in *"$words"*) ;; *) fail "$name: message '$msg' lacks '$words'"; ok_case=0 ;; esac
        local item stage
        item=$(jq -rs 'map(select(.event=="item_failed")) | first | .item' "$log")
        stage=$(jq -rs 'map(select(.event=="item_failed")) | first | .stage' "$log")
        [ "$(jq -r '.status' "$job/.gemflow/calls/$stage/$item.json")" = failed ] || { fail "$name: call record not failed"; ok_case=0; }
        jq -e --arg w "$words" '.error.message | contains($w)' "$job/.gemflow/calls/$stage/$item.json" >/dev/null || { fail "$name: call record lacks the words"; ok_case=0; }
        gf status "$job"
        grep -qF -- "$words" "$T_DIR/last.out" || { fail "$name: status lacks the words"; ok_case=0; }
        ;;
    esac
    # independent work completes: with a failed image or narration item, every other call's
    # artifact is made (the video, which needs them all, is not)
    if [ "$expect" != retried ] && [ "$model" != "$TXT" ] && [ "$kind" != 429-daily ]; then
        [ "$(jq '.artifacts | length' "$job/manifest.json")" = $(($(api_items "$job") - 1)) ] || { fail "$name: other items did not complete"; ok_case=0; }
    fi
    [ "$ok_case" = 1 ] && ok "$name"
    printf '# | %-28s | %-18s | %s | exit %s | %s retries | %s\n' "$name" "$kind x$times" "$expect" "$rc" "$retries" "${msg:0:90}"
}

case_run "503 burst"                $TTS 503 3 0 retried "overloaded"
case_run "500 burst"                $IMG 500 2 0 retried "internal error"
case_run "502 (HTML body)"          $IMG 502 1 0 retried "502"
case_run "504 deadline"             $TTS 504 2 0 retried "deadline"
case_run "429 with RetryInfo"       $IMG 429 2 0 retried "quota"
case_run "429 with Retry-After"     $IMG 429-retry-after 1 0 retried "quota"
case_run "timeout"                  $TTS timeout 1 0 retried "timed out" --set narration.timeout=2s
case_run "connection reset"         $IMG reset 1 0 retried ""
case_run "truncated body"           $IMG truncated 1 0 retried "transfer closed|partial"
case_run "unparseable body"         $TXT badjson 1 0 retried "not valid JSON"
case_run "invalid base64"           $IMG bad-base64 1 0 retried "base64"
case_run "PNG does not decode"      $IMG bad-png 1 0 retried "PNG does not decode"
case_run "odd-length PCM"           gemini-2.5-flash-preview-tts odd-pcm 1 0 retried "multiple of 2" --set narration.model=gemini-2.5-flash-preview-tts --set narration.style=
case_run "JSON breaks the schema"   $TXT schema-break 1 0 retried "does not match the schema"
case_run "JSON cut at MAX_TOKENS"   $TXT max-tokens 1 0 retried "MAX_TOKENS"
# A per-day 429 ends the model's day for every process on the key: a run waits for midnight
# Pacific (t_quota_daily); --no-wait-quota fails instead (the model's calls already in flight
# still end). The day is kept in a quota directory of its own, or the later cases on $TTS
# would wait for midnight.
case_run "per-day quota 429"        $TTS 429-daily 1 1 failed:quota_daily "daily quota" \
    --no-wait-quota --quota-dir "$T_DIR/quota-daily"
# how many of the model's items were still to send when the day ended depends on timing: each
# narration item is made or failed for the day, and the images are all made
of_stage() { jq --arg s "$2" '[.artifacts[] | select(.stage == $s)] | length' "$1/manifest.json"; }
daily=$T_DIR/case$n_case
assert_eq "per-day: every narration item made or failed for the day" "$(of_stage "$T_DIR/case1" narration)" \
    "$(($(of_stage "$daily" narration) + $(jq -s '[.[] | select(.event == "item_failed" and .stage == "narration"
        and .error.kind == "quota_daily")] | map(.item) | unique | length' "$daily/progress.jsonl")))"
assert_eq "per-day: the images are all made" "$(of_stage "$T_DIR/case1" images)" "$(of_stage "$daily" images)"
case_run "text where image asked"   $IMG text-only 1 1 failed:no_output "the model said"
case_run "no parts in reply"        $TTS empty-parts 1 1 failed:no_output "no audio"
case_run "IMAGE_SAFETY finish"      $IMG safety 1 1 failed:refused "IMAGE_SAFETY"
case_run "prompt blocked"           $TTS blocked 1 1 failed:blocked "blockReason SAFETY"
case_run "400 INVALID_ARGUMENT"     $IMG 400 1 1 failed:http "invalid argument"
case_run "401 UNAUTHENTICATED"      $IMG 401 1 1 failed:http "authentication"
case_run "403 PERMISSION_DENIED"    $TTS 403 1 1 failed:http "does not have permission"
case_run "404 model not found"      $IMG 404 1 1 failed:http "is not found for API version v1beta"
MATCH="Fresnel" case_run "503 that never ends"      $TTS 503 100 1 failed:http "overloaded" --set narration.retries=2
case_run "SAFETY on the analysis"   $TXT safety 1 1 failed:refused "SAFETY"

# a refused analysis blocks every stage after it: one request in that case, nothing made
job=$T_DIR/case$n_case
assert_eq "a refused analysis makes no other request" 1 "$LAST_REQS"
assert_eq "nothing downstream of a failed analysis exists" 0 "$(find "$job" -name '*.jpg' -o -name '*.wav' | wc -l)"
assert_eq "the never-ending 503 was tried 3 times (retries=2)" 3 \
    "$(jq '.attempts | length' "$T_DIR/case$((n_case - 1))/.gemflow/calls/narration/s03.json")"
finish
