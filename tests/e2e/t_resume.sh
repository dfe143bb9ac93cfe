#!/usr/bin/env bash
# kill -9 in the middle of the images stage, then resume: no request that had been answered and
# recorded is made again. SIGINT: exit 3, run_end interrupted, and the next run finishes.
source "$(dirname "$0")/lib.sh"
# calls take 1.5 s: a kill after the 2nd image lands mid-run however slow the machine is
fake_start --latency-ms 1500
job=$(new_job killed)

# wait until some images are recorded, then kill -9
"$GEMFLOW" run -q "${FAST[@]}" "$job" >/dev/null 2>"$T_DIR/run1.err" &
pid=$!
wait_for "two images recorded" 300 \
    eval '[ "$(grep -c "\"event\":\"item_done\",\"stage\":\"images\"" "$job/progress.jsonl" 2>/dev/null)" -ge 2 ]' ||
    fail "the images never came"
kill -9 $pid
wait $pid 2>/dev/null
fake_settle # the calls cut off by the kill are logged when they end there
recorded=$(grep -c '"event":"item_done"' "$job/progress.jsonl")
answered=$(fake_count '.status == 200 and .completed')
items=$(api_items "$job") # the images ran: the analysis is there
[ "$recorded" -ge 4 ] && [ "$recorded" -lt "$items" ] && ok "killed mid-run with $recorded of $items items recorded" \
    || fail "the kill did not land mid-run ($recorded recorded)"
check "answered but unrecorded calls are at most the 8 in flight" test $((answered - recorded)) -le 8

before=$(fake_count true)
gf run "$job"
assert_eq "resume exits 0" 0 "$GF_RC"
resumed=$(( $(fake_count true) - before ))
assert_eq "resume calls exactly the $((items - recorded)) unrecorded items" $((items - recorded)) "$resumed"
assert_eq "all $((items + 2)) artifacts recorded ($items calls, the video and its subtitles)" $((items + 2)) "$(jq '.artifacts | length' "$job/manifest.json")"
for f in "$job"/images/*.jpg; do [ "$(png_size "$f")" = "1376x768" ] || fail "$f does not decode"; done
ok "every image decodes after the crash"
assert_eq "no temporary files left" 0 "$(find "$job" -name '.*.tmp-*' | wc -l)"

# a lost manifest is rebuilt from the progress log, media facts included, with no call
rm "$job/manifest.json"
before=$(fake_count true)
gf run "$job"
assert_eq "rebuilding the manifest calls nothing" 0 $(( $(fake_count true) - before ))
assert_eq "the manifest is rebuilt with every artifact" $((items + 2)) "$(jq '.artifacts | length' "$job/manifest.json")"
assert_eq "rebuilt entries keep the video's facts" '"video/mp4" "application/x-subrip"' "$(jq -r '[.artifacts[] | select(.stage == "video")] | sort_by(.path) | reverse | map(.media.type | tojson) | join(" ")' "$job/manifest.json")"
assert_eq "rebuilt entries keep image sizes" 8 "$(jq '[.artifacts[] | select(.media.width == 1376)] | length' "$job/manifest.json")"

# SIGINT mid-run: exit 3, interrupted, then resume
job2=$(new_job interrupted)
before=$(fake_count true)
"$GEMFLOW" run "${FAST[@]}" "$job2" >/dev/null 2>"$T_DIR/int.err" &
pid=$!
wait_for "four items recorded" 300 \
    eval '[ "$(grep -c "\"event\":\"item_done\"" "$job2/progress.jsonl" 2>/dev/null)" -ge 4 ]' ||
    fail "no item was recorded"
kill -INT $pid
wait $pid
assert_eq "SIGINT exits 3" 3 "$?"
assert_eq "run_end says interrupted" '"interrupted"' "$(jq -s 'map(select(.event=="run_end")) | last | .state' "$job2/progress.jsonl")"
assert_file_contains "the user is told it is stopping" "stopping" "$T_DIR/int.err"
done_at_stop=$(grep -c '"event":"item_done"' "$job2/progress.jsonl")
started=$(( $(fake_count true) - before ))
assert_eq "every call started before the signal was finished and recorded" "$started" "$done_at_stop"
gf run "$job2"
assert_eq "run after SIGINT exits 0" 0 "$GF_RC"
assert_eq "run after SIGINT calls only what was left" "$(api_items "$job2")" $(( $(fake_count true) - before ))
finish
