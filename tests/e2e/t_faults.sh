#!/usr/bin/env bash
# Faults: a 503/429 burst completes with retries and the 429 delay obeyed; a 400 on one image
# fails that item with the API's own message (exit 1) while narration completes.
source "$(dirname "$0")/lib.sh"
cat >"$T_DIR/faults.json" <<'JSON'
[{"model": "gemini-3.8-flash-tts", "kind": "503", "times": 3},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "429", "times": 2}]
JSON
fake_start --faults "$T_DIR/faults.json" --retry-delay 0.7s
job=$(new_job burst)
gf run "$job"
assert_eq "a 503/429 burst completes" 0 "$GF_RC"
assert_eq "every artifact made (each call's, the video and its subtitles)" $(($(api_items "$job") + 2)) "$(jq '.artifacts | length' "$job/manifest.json")"
assert_eq "5 retries logged" 5 "$(events "$job/progress.jsonl" retry)"
assert_eq "503 retries quote the API" 3 "$(jq -s '[.[] | select(.event=="retry" and (.reason|test("overloaded")))] | length' "$job/progress.jsonl")"
assert_eq "429 retries wait the advised 0.7s" 2 "$(jq -s '[.[] | select(.event=="retry" and .stage=="images" and .delay_ms == 700)] | length' "$job/progress.jsonl")"
# after each 429, no image call starts before the advised 0.7 s have passed (gemflow's own clock:
# the retry event is written when the 429 is read)
gap_ok=$(jq -rs '
  def t: (.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (.ts | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber / 1000);
  [.[] | select(.stage == "images")] as $ev
  | [$ev[] | select(.event == "retry") | t] as $pauses
  | [$pauses[] as $p | ($ev | map(select(.event == "call_start" and t > $p)) | map(t) | min) - $p]
  | all(. >= 0.69)' "$job/progress.jsonl")
assert_eq "no image request before the advised delay" true "$gap_ok"
assert_eq "call records list every attempt (8 + 2 retried)" 10 "$(jq -s 'map(.attempts | length) | add' "$job"/.gemflow/calls/images/*.json)"

# a 400 on one image: that item fails with the API's words; narration completes; exit 1
fake_stop
cat >"$T_DIR/faults400.json" <<'JSON'
[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1}]
JSON
fake_start --faults "$T_DIR/faults400.json"
job2=$(new_job bad400)
gf run "$job2"
assert_eq "a 400 on one image exits 1" 1 "$GF_RC"
assert_eq "one item_failed" 1 "$(events "$job2/progress.jsonl" item_failed)"
msg=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.message' "$job2/progress.jsonl")
status=$(jq -rs 'map(select(.event=="item_failed")) | first | .error.status' "$job2/progress.jsonl")
assert_eq "the failure carries the API status" INVALID_ARGUMENT "$status"
assert_contains "the failure carries the API's words" "invalid argument" "$msg"
assert_file_contains "the user sees the API's words" "invalid argument" "$T_DIR/last.err"
assert_eq "no retry of a 400" 1 "$(fake_count '.status == 400')"
assert_eq "narration completed" 8 "$(ls "$job2/audio" | wc -l)"
assert_eq "7 images made" 7 "$(ls "$job2/images" | wc -l)"
failed_item=$(jq -rs 'map(select(.event=="item_failed")) | first | .item' "$job2/progress.jsonl")
assert_eq "call record says failed" '"failed"' "$(jq '.status' "$job2/.gemflow/calls/images/$failed_item.json")"
assert_contains "call record keeps the API body" "INVALID_ARGUMENT" "$(jq -c '.response.body' "$job2/.gemflow/calls/images/$failed_item.json")"
gf status "$job2"
assert_file_contains "status shows the failure" "HTTP 400 INVALID_ARGUMENT" "$T_DIR/last.out"
# next run retries only the failed item (the fault was one-shot)
before=$(fake_count true)
gf run "$job2"
assert_eq "the rerun completes" 0 "$GF_RC"
assert_eq "the rerun calls only the failed item" 1 $(( $(fake_count true) - before ))
finish
