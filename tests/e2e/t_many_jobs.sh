#!/usr/bin/env bash
# Several jobs in one `gemflow run`: they share one concurrency limit (the largest
# limits.concurrency among them) and the per-model rate limits, so the server never sees more
# calls at once, or faster, than one job's settings allow.
source "$(dirname "$0")/lib.sh"
# the fake allows the image model 10 requests per (scaled) 1-second minute and answers 429 above
fake_start --latency-ms 150 --rpm gemini-nano-banana-2.1=10 --minute-ms 1000
jobs=()
for j in 1 2 3; do jobs+=("$(new_job "j$j")"); done
# 600 rpm = 10 per second, as the fake allows; concurrency 3 for each job and for the process
"$GEMFLOW" run -q "${FAST[@]}" --set limits.concurrency=3 \
    --set limits.rpm.gemini-nano-banana-2.1=600 "${jobs[@]}" >"$T_DIR/out" 2>"$T_DIR/err"
assert_eq "three jobs in one run exit 0" 0 "$?"
for j in "${jobs[@]}"; do
    assert_eq "$(basename "$j"): every artifact" $(($(api_items "$j") + 2)) "$(jq '.artifacts | length' "$j/manifest.json")"
done
n=$(($(api_items "${jobs[0]}") * ${#jobs[@]}))
assert_eq "$n requests, none repeated" "$n" "$(fake_count '.status == 200')"
# the most calls open at one moment over the three jobs, from the fake's own record: each paid
# request arrived at `ts` and was held there for the 150 ms of latency before any answer, so
# [ts, ts + 150 ms) lies inside the client's call wherever the client's clocks put it (the
# progress log's call_start and call_end, written around the transfer, once counted a fourth
# call on a loaded machine where the fake saw three)
fake_settle
most=$(bash "$SRC_DIR/tests/tools/max-in-flight.sh" --fake 150 "$FAKE_LOG")
check "at most 3 calls in flight over the three jobs (saw $most; 9 if each job had its own 3)" test "$most" -le 3
check "the shared limit is used (saw $most in flight at once)" test "$most" -ge 2
assert_eq "the image model's rate held across the jobs: no 429" 0 "$(fake_count '.status == 429')"
finish
