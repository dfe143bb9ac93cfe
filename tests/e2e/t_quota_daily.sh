#!/usr/bin/env bash
# A per-day quota: the 429 that says it is used up is kept in the quota directory, so the run
# and every later one wait for its reset at midnight Pacific ("waiting for quota" in status,
# with the reset time) instead of collecting more 429s; --no-wait-quota fails the items with the
# reason instead, without a request.
source "$(dirname "$0")/lib.sh"
MODEL=gemini-3.8-flash-tts
# every narration after the first two gets the per-day 429 (quotaValue 250)
echo '[{"model": "'$MODEL'", "kind": "429-daily", "skip": 2}]' >"$T_DIR/faults.json"
fake_start --faults "$T_DIR/faults.json" --retry-delay 40s
# the next Pacific midnight, from the time zone database (not gemflow's own rules)
midnight=$(TZ=America/Los_Angeles date -d "$(TZ=America/Los_Angeles date -d tomorrow +%F) 00:00" +%s)
reset=$(date -u -d "@$midnight" +%Y-%m-%dT%H:%M:%S)
echo "# the next midnight Pacific is $reset UTC"

# one call at a time: the per-day 429 is the only one (with more in flight, each would get one)
job=$(new_job waits)
"$GEMFLOW" run "${FAST[@]}" --set limits.concurrency=1 "$job" >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
pid=$!
state() { "$GEMFLOW" status --json "$1" | jq -r '.jobs[0].state'; }
if wait_for "status to say the job waits for quota" 120 eval '[ "$(state "$job")" = "waiting for quota" ]'; then
    ok "status: waiting for quota"
else
    fail "status never said waiting for quota: $(state "$job")"
fi
st=$("$GEMFLOW" status --json "$job")
assert_eq "until the reset at midnight Pacific" "$reset" "$(jq -r '.jobs[0].quota_wait.until | .[0:19]' <<<"$st")"
assert_eq "for the speech model" $MODEL "$(jq -r '.jobs[0].quota_wait.model' <<<"$st")"
assert_eq "with the host running it" "$(hostname)" "$(jq -r '.jobs[0].host' <<<"$st")"
assert_contains "the text says so too" "waiting for quota until" "$("$GEMFLOW" status "$job")"
assert_contains "the run's log line says why" "waiting for quota: model '$MODEL'" "$(cat "$T_DIR/run.err")"
assert_eq "one per-day 429, not one per item" 1 "$(fake_count '.status == 429')"
q=$("$GEMFLOW" quota --json)
assert_eq "gemflow quota: the day's limit learned" 250 \
    "$(jq ".keys[0].models[] | select(.model == \"$MODEL\") | .day_limit" <<<"$q")"
assert_eq "gemflow quota: used up" true \
    "$(jq ".keys[0].models[] | select(.model == \"$MODEL\") | .day_used_up" <<<"$q")"
assert_contains "gemflow quota: where it came from" "$job narration/" \
    "$(jq -r ".keys[0].models[] | select(.model == \"$MODEL\") | .limits.rpd.source" <<<"$q")"
kill -TERM "$pid"
wait "$pid"
assert_eq "SIGTERM while waiting: interrupted (exit 3)" 3 "$?"

# a new process learns it at its start: no request for the model at all
job2=$(new_job second)
n=$(fake_count "select(.model == \"$MODEL\")")
gf run --no-wait-quota "$job2"
assert_eq "--no-wait-quota: the stage fails (exit 1)" 1 "$GF_RC"
assert_eq "without a request to the model" "$n" "$(fake_count "select(.model == \"$MODEL\")")"
f=$(jq -s '[.[] | select(.event == "item_failed" and .stage == "narration")]' "$job2/progress.jsonl")
assert_eq "every narration item failed for the quota" quota_daily "$(jq -r '[.[].error.kind] | unique | join(",")' <<<"$f")"
assert_contains "with the reason and the reset" "resets at ${reset:0:16}Z (midnight Pacific); not waiting (--no-wait-quota)" \
    "$(jq -r '.[0].error.message' <<<"$f")"
assert_eq "the images (another model) were made" done \
    "$("$GEMFLOW" status --json "$job2" | jq -r '.jobs[0].stages[] | select(.name == "images") | .state')"
finish
