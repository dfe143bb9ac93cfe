#!/usr/bin/env bash
# Cost controls that exist today: thinking levels (generationConfig.thinkingConfig.thinkingLevel)
# and service tiers (the request's serviceTier: flex at half price). The tier is how much is paid,
# not what is asked: it is not part of the request key, so changing it re-buys nothing.
# validate warns about sampling settings the 3.6+ models ignore. Thinking tokens count as output.
source "$(dirname "$0")/lib.sh"
fake_start
WF=(--workflow "$(bench_wf text-calls)")
job=$(new_job tiers)
printf 'SCENE 1\nThe keeper climbs.\n\nSCENE 2\nThe lamp turns.\n' >"$job/script.txt"

gf run "${WF[@]}" --tier flex "$job"
assert_eq "a flex run exits 0" 0 "$GF_RC"
n=$(fake_count)
assert_eq "every request asked for flex" "$n" "$(fake_count '.service_tier == "flex"')"
assert_eq "every call_end says flex" "$n" "$(jq -s '[.[] | select(.event == "call_end" and .service_tier == "flex")] | length' "$job/progress.jsonl")"
gf plan "${WF[@]}" --tier flex "$job"
before=$(fake_count)
gf run "${WF[@]}" --tier standard "$job"
assert_eq "the same requests at another tier are not bought again" "$before" "$(fake_count)"
gf run "${WF[@]}" "$job"
assert_eq "nor without a tier" "$before" "$(fake_count)"

# plan prices flex at half the standard rate: the same fresh job, both ways
fresh=$(new_job fresh)
cp "$job/script.txt" "$fresh/script.txt"
gf plan "${WF[@]}" "$fresh"
std=$(sed -n 's/^estimate: .*~\$\([0-9.]*\).*/\1/p' "$T_DIR/last.out")
gf plan "${WF[@]}" --tier flex "$fresh"
flex=$(sed -n 's/^estimate: .*~\$\([0-9.]*\).*/\1/p' "$T_DIR/last.out")
check "plan: flex (\$$flex) is half of standard (\$$std)" \
    awk -v f="$flex" -v s="$std" 'BEGIN { exit !(s > 0 && f > 0 && (f * 2 - s) < 0.0002 && (s - f * 2) < 0.0002) }'
assert_contains "plan says why" "flex tier: half price" "$(cat "$T_DIR/last.out")"
gf plan "${WF[@]}" --tier bogus "$fresh"
assert_eq "a bad tier is a usage error" 2 "$GF_RC"
assert_contains "naming the tiers" "--tier takes flex, standard or priority" "$(cat "$T_DIR/last.err")"

# the report prices each call at the tier it was made at: the flex job costs half the same
# calls at the standard tier (the tokens are the fake's, the same for the same requests)
std_job=$(new_job std)
cp "$job/script.txt" "$std_job/script.txt"
gf run "${WF[@]}" "$std_job"
report_cost() { # JOB: the job's cost in the report's header
    gf report "${WF[@]}" "$1"
    sed -n 's/.*cost <b>\$\([0-9.]*\)<\/b>.*/\1/p' "$1/report.html" | head -1
}
c_flex=$(report_cost "$job")
c_std=$(report_cost "$std_job")
check "report: the flex job (\$$c_flex) cost half the standard one (\$$c_std)" \
    awk -v f="$c_flex" -v s="$c_std" 'BEGIN { exit !(s > 0 && (f * 2 - s) < 0.0002 && (s - f * 2) < 0.0002) }'

# thinking levels go where the SDK puts them; a wrong one is a load error with its place
thinking_job=$(new_job thinking)
cp "$job/script.txt" "$thinking_job/script.txt"
gf run "${WF[@]}" --set captions.thinking=high "$thinking_job"
assert_eq "thinking: HIGH sent as the level" "HIGH" "$(jq -rs 'map(select(.thinking_level)) | .[0].thinking_level' "$FAKE_LOG")"
gf validate --set captions.thinking=lots "$(bench_wf text-calls)"
assert_eq "a bad level is an error" 2 "$GF_RC"
assert_contains "naming the levels" "bad thinking 'lots' (one of MINIMAL, LOW, MEDIUM, HIGH)" "$(cat "$T_DIR/last.err")"

# thinking tokens are output tokens: status counts them in its output (as the bill does), and
# the thinking part alone is in each call record and inspect (README "Seeing a job's thinking
# tokens"). The fake's Gemini 3 image model thinks before it draws (thoughtsTokenCount).
img_job=$(new_job thoughts)
cp "$job/script.txt" "$img_job/script.txt"
IMG_WF=(--workflow "$(bench_wf images-only)")
gf run "${IMG_WF[@]}" "$img_job"
assert_eq "an image run exits 0" 0 "$GF_RC"
recs=("$img_job"/.gemflow/calls/images/*.json)
thoughts=$(jq -s 'map(.response.body.usageMetadata.thoughtsTokenCount // 0) | add' "${recs[@]}")
check "the call records keep thoughtsTokenCount ($thoughts)" test "$thoughts" -gt 0
gf status --json "${IMG_WF[@]}" "$img_job"
assert_eq "status --json: output tokens = candidates + thoughts" \
    "$(jq -s 'map(.response.body.usageMetadata | .candidatesTokenCount + .thoughtsTokenCount) | add' "${recs[@]}")" \
    "$(jq '.jobs[0].stages[] | select(.name == "images") | .tokens.output' "$T_DIR/last.out")"
gf inspect "$img_job" images s01
assert_contains "inspect shows the thinking apart" \
    "+ $(jq '.response.body.usageMetadata.thoughtsTokenCount' "$img_job/.gemflow/calls/images/s01.json") thoughts" \
    "$(cat "$T_DIR/last.out")"

# validate warns where temperature, top_p or top_k are set for a model that ignores them
gf validate --set defaults.temperature=0.3 --set captions.top_k=5 "$(bench_wf text-calls)"
assert_eq "warnings do not fail validate" 0 "$GF_RC"
assert_contains "temperature is named with its place" "warning: stage 'captions': 'temperature' has no effect on model 'gemini-3.8-flash'" "$(cat "$T_DIR/last.err")"
assert_contains "top_k too" "'top_k' has no effect" "$(cat "$T_DIR/last.err")"
gf validate --set defaults.temperature=0.3 --set defaults.model=gemini-2.5-flash "$(bench_wf text-calls)"
case "$(cat "$T_DIR/last.err")" in *warning*) fail "a model that uses temperature got a warning" ;; *) ok "no warning for a model that uses temperature" ;; esac
finish
