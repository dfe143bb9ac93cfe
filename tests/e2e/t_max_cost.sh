#!/usr/bin/env bash
# Money before it is spent: `run --max-cost USD` and `limits.max_cost` refuse to start a job whose
# spending so far plus the estimate of what the run would call is over the budget: exit 2,
# nothing called (not even the free model checks), the estimate and the budget named; the
# estimate is plan's. A model without a price cannot be held to a budget: exit 2 naming it.
source "$(dirname "$0")/lib.sh"
fake_start
job=$(new_job budget)

gf plan "$job"
est=$(sed -n 's/^estimate: .*~\$\([0-9.]*\).*/\1/p' "$T_DIR/last.out")
check "plan gives a priced estimate for the sample job (\$$est)" awk -v e="$est" 'BEGIN { exit !(e > 0) }'
low=$(awk -v e="$est" 'BEGIN { printf "%.4f", e / 2 }')
asked=$(fake_count_all) # plan's free model checks

gf run --max-cost "$low" "$job"
assert_eq "over the budget: exit 2" 2 "$GF_RC"
assert_eq "nothing was called, not even a free model check" "$asked" "$(fake_count_all)"
err=$(cat "$T_DIR/last.err")
assert_contains "the estimate is plan's" "estimated at ~\$$est" "$err"
assert_contains "the budget is named" "over the budget of \$$(printf '%.2f' "$low")" "$err"
assert_contains "and where it came from" "--max-cost or limits.max_cost" "$err"
check "nothing was written to the job's log" test ! -s "$job/progress.jsonl"

gf run --set limits.max_cost="$low" "$job"
assert_eq "limits.max_cost alike: exit 2" 2 "$GF_RC"
assert_eq "still nothing called" "$asked" "$(fake_count_all)"
gf run --set limits.max_cost="$low" --max-cost 1000 "$job"
assert_eq "the smaller of the two budgets holds" 2 "$GF_RC"

gf run --max-cost abc "$job"
assert_eq "a bad amount is a usage error" 2 "$GF_RC"
assert_contains "saying what it takes" "--max-cost takes an amount of US dollars above 0, got 'abc'" "$(cat "$T_DIR/last.err")"
gf run --max-cost 0 "$job"
assert_eq "zero is refused too" 2 "$GF_RC"
gf validate --set limits.max_cost=-1 "$job"
assert_eq "a negative limits.max_cost is a load error" 2 "$GF_RC"
assert_contains "with its place" "'max_cost' must be a number > 0" "$(cat "$T_DIR/last.err")"

# a model with no price cannot be held to a budget
gf run --max-cost 1000 --set images.model=gemini-unpriced-image "$job"
assert_eq "an unpriced model under a budget: exit 2" 2 "$GF_RC"
assert_contains "naming the model" "no price for model 'gemini-unpriced-image'" "$(cat "$T_DIR/last.err")"
assert_eq "and nothing called" "$asked" "$(fake_count_all)"

# within the budget the job runs; afterwards what was spent counts against the budget
high=10 # well above what the job costs
gf run --max-cost "$high" "$job"
assert_eq "within the budget: the job runs to the end" 0 "$GF_RC"
check "and made its calls" test "$(fake_count)" -gt 0
# status and the report show the money spent, per stage
gf status --json "$job"
cp "$T_DIR/last.out" "$T_DIR/status.json"
spent=$(jq '.jobs[0].cost_usd // .cost_usd' "$T_DIR/status.json")
check "status: the job spent money (\$$spent)" awk -v c="$spent" 'BEGIN { exit !(c > 0) }'
check "status: every stage that called the API spent some, the video none" \
    jq -e '[(.jobs[0] // .).stages[] | select(.calls > 0) | .cost_usd > 0] | all' "$T_DIR/status.json"
assert_eq "status: the video stage cost nothing" 0 "$(jq '[(.jobs[0] // .).stages[] | select(.kind == "video") | .cost_usd] | add' "$T_DIR/status.json")"
check "status: the stages add up to the job" \
    jq -e '(.jobs[0] // .) as $j | ([$j.stages[].cost_usd] | add) - $j.cost_usd | fabs < 0.00001' "$T_DIR/status.json"
gf status "$job"
assert_contains "status text names the spending" "$(printf '$%.4f over' "$spent")" "$(cat "$T_DIR/last.out")"
gf report "$job"
assert_contains "the report's cost is the same" "$(printf 'cost <b>$%.4f</b>' "$spent")" "$(cat "$job/report.html")"

gf run --max-cost 0.000001 "$job"
assert_eq "a finished job calls nothing, so no budget stops it" 0 "$GF_RC"
rm "$job/audio/s01.wav"
gf run --max-cost "$low" "$job"
assert_eq "one narration to redo, but what was spent already is over the budget: exit 2" 2 "$GF_RC"
assert_contains "naming the spending so far" "already spent" "$(cat "$T_DIR/last.err")"
check "the audio was not bought again" test ! -e "$job/audio/s01.wav"
# the budget is checked again as each stage's items become known: a fresh job whose first
# estimate fits (the images are not known yet) stops when the scenes are, before buying them
fresh=$(new_job fresh)
mid=$(awk -v e="$est" 'BEGIN { printf "%.4f", e * 2 }')
before=$(fake_count)
gf run --max-cost "$mid" "$fresh"
assert_eq "stopped inside the run at the budget: exit 2" 2 "$GF_RC"
assert_contains "saying so" "stopped before going over the budget" "$(cat "$T_DIR/last.err")"
after=$(fake_count)
assert_eq "only the analysis was bought: the scenes' calls were not started" 1 "$((after - before))"
assert_eq "the log says where it stopped" 1 "$(jq -s '[.[] | select(.event == "budget_exceeded")] | length' "$fresh/progress.jsonl")"
gf status "$fresh"
assert_contains "status shows why the run stopped" "the last run stopped:" "$(cat "$T_DIR/last.out")"
gf run "$fresh"
assert_eq "without the budget the job goes on" 0 "$GF_RC"
assert_eq "and the analysis is not bought again" 0 "$(jq -s '[.[] | select(.event == "call_end" and .stage == "analysis")] | length - 1' "$fresh/progress.jsonl")"
finish
