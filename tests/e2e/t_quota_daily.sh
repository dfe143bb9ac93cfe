#!/usr/bin/env bash
# A per-day quota: the 429 that says it is used up is kept in the quota directory, so the run
# and every later one wait for its reset at midnight Pacific ("waiting for quota" in status and
# in the live bars, with the reset time, and no ETA) instead of collecting more 429s;
# --no-wait-quota fails the items with the reason instead, without a request.
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "not ok: script(1) (bsdutils) is missing" >&2; exit 1; }
MODEL=gemini-3.8-flash-tts
# every narration after the first two gets the per-day 429 (quotaValue 250)
echo '[{"model": "'$MODEL'", "kind": "429-daily", "skip": 2}]' >"$T_DIR/faults.json"
fake_start --faults "$T_DIR/faults.json" --retry-delay 40s
# the next Pacific midnight, from the time zone database (not gemflow's own rules)
midnight=$(TZ=America/Los_Angeles date -d "$(TZ=America/Los_Angeles date -d tomorrow +%F) 00:00" +%s)
reset=$(date -u -d "@$midnight" +%Y-%m-%dT%H:%M:%S)
echo "# the next midnight Pacific is $reset UTC"

# The first run is on a terminal (a 110x40 pty from script(1)) in India's time zone (+05:30), so
# it draws the live bars; script writes what reached the terminal to waits.raw as it comes.
zone=Asia/Kolkata
at=$(TZ=$zone date -d "@$midnight" '+%H:%M %Z')
echo "# that is $at on the terminal's clock"
# visible: the text of stdin's frames, escape sequences and carriage returns removed
visible() { perl -pe 's/\e\[[0-9;?]*[A-Za-z]//g; s/\r//g'; }
# frames_from_wait: the frames drawn from the first that shows the wait on, one per line
# (each starts by hiding the cursor)
frames_from_wait() {
    perl -0777 -ne 'my @f = split /\e\[\?25l/; my $on = 0;
        for (@f) { s/\e\[[0-9;?]*[A-Za-z]//g; s/\r//g; $on ||= /waiting for quota until/;
                   if ($on) { s/\n/|/g; print "$_\n" } }' "$T_DIR/waits.raw"
}
# one call at a time: the per-day 429 is the only one (with more in flight, each would get one)
job=$(new_job waits)
script -q -f -e --log-out "$T_DIR/waits.raw" -c "stty cols 110 rows 40; exec env TZ=$zone LC_ALL=C.UTF-8 \
    $(printf '%q ' "$GEMFLOW" run "${FAST[@]}" --set limits.concurrency=1 "$job")" </dev/null >/dev/null 2>&1 &
spid=$!
state() { "$GEMFLOW" status --json "$1" | jq -r '.jobs[0].state'; }
if wait_for "status to say the job waits for quota" 120 eval '[ "$(state "$job")" = "waiting for quota" ]'; then
    ok "status: waiting for quota"
else
    fail "status never said waiting for quota: $(state "$job")"
fi
st=$("$GEMFLOW" status --json "$job")
pid=$(jq -r '.jobs[0].pid' <<<"$st")
assert_eq "until the reset at midnight Pacific" "$reset" "$(jq -r '.jobs[0].quota_wait.until | .[0:19]' <<<"$st")"
assert_eq "for the speech model" $MODEL "$(jq -r '.jobs[0].quota_wait.model' <<<"$st")"
assert_eq "with the host running it" "$(hostname)" "$(jq -r '.jobs[0].host' <<<"$st")"
assert_eq "the last run is running, not killed" running "$(jq -r '.jobs[0].last_run.state' <<<"$st")"
text=$("$GEMFLOW" status "$job")
assert_contains "the text says so too" "waiting for quota until" "$text"
assert_contains "the text: the last run is in progress" "pid $pid on $(hostname); last run: running since " "$text"
# the live bars: the stage and the job line say until when (local time), twice (a redraw)
waiting_frames() { frames_from_wait | grep -cE "\|  narration +[^|]* [0-9]+/[0-9]+  [^|]*waiting for quota until $at \(in [0-9][^)]*\)"; }
if wait_for "two frames of the live bars showing the wait" 60 eval '[ "$(waiting_frames)" -ge 2 ]'; then
    ok "live bars: the narration line says 'waiting for quota until $at'"
else
    fail "live bars: no narration line waiting for quota until $at: $(visible <"$T_DIR/waits.raw" | grep -E '^  narration' | tail -1)"
fi
check "live bars: the job line too" grep -qE "^waits +.*waiting for quota until $at" <(frames_from_wait | tr '|' '\n')
assert_contains "live bars: the note above them says why" "waiting for quota: model '$MODEL'" "$(visible <"$T_DIR/waits.raw")"
assert_eq "one per-day 429, not one per item" 1 "$(fake_count '.status == 429')"
q=$("$GEMFLOW" quota --json)
assert_eq "gemflow quota: the day's limit learned" 250 \
    "$(jq ".keys[0].models[] | select(.model == \"$MODEL\") | .day_limit" <<<"$q")"
assert_eq "gemflow quota: used up" true \
    "$(jq ".keys[0].models[] | select(.model == \"$MODEL\") | .day_used_up" <<<"$q")"
assert_contains "gemflow quota: where it came from" "$job narration/" \
    "$(jq -r ".keys[0].models[] | select(.model == \"$MODEL\") | .limits.rpd.source" <<<"$q")"
kill -TERM "$pid"
wait "$spid"
assert_eq "SIGTERM while waiting: interrupted (exit 3)" 3 "$?"
frames_from_wait >"$T_DIR/waits.frames"
assert_eq "live bars: no ETA from the first frame of the wait on" 0 "$(grep -cE '(,|  )eta ([0-9]|<1s)' "$T_DIR/waits.frames")"

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

# a day with some requests left, but fewer than the job needs: every item refused says the
# same (the need when the day was found short, not a count that drops as the items fail)
rec=$(ls "$GEMFLOW_QUOTA_DIR"/*/"$MODEL.quota")
jq -c '.day_used_up = false | .day_count = 247' "$rec" >"$T_DIR/rec.json" && cp "$T_DIR/rec.json" "$rec"
job4=$(new_job short-day)
gf run --no-wait-quota "$job4"
assert_eq "--no-wait-quota, 3 left: the stage fails (exit 1)" 1 "$GF_RC"
f=$(jq -s '[.[] | select(.event == "item_failed" and .stage == "narration")]' "$job4/progress.jsonl")
check "every narration item failed ($(jq length <<<"$f"))" test "$(jq length <<<"$f")" -ge 2
assert_eq "...all with one reason" 1 "$(jq '[.[].error.message] | unique | length' <<<"$f")"
assert_contains "...which says what is left and what the job needs" \
    "has 3 of its 250 requests per day left" "$(jq -r '.[0].error.message' <<<"$f")"

# not on a terminal: the wait is one timestamped line with why and the reset, said once
job3=$(new_job plain)
"$GEMFLOW" run "${FAST[@]}" "$job3" >"$T_DIR/plain.out" 2>"$T_DIR/plain.err" &
pid=$!
wait_for "the plain line about the wait" 120 grep -q 'waiting for quota' "$T_DIR/plain.err"
check "plain: the line says why and when the quota resets" grep -qE \
    "^[0-9]{2}:[0-9]{2}:[0-9]{2} gemflow: plain: stage narration waiting for quota: model '$MODEL' .*resets at ${reset:0:16}Z" "$T_DIR/plain.err"
kill -TERM "$pid"
wait "$pid"
assert_eq "plain: SIGTERM while waiting exits 3" 3 "$?"
assert_eq "plain: the wait is said once" 1 "$(grep -c 'waiting for quota' "$T_DIR/plain.err")"
assert_eq "plain: no escape codes" 0 "$(grep -c $'\e' "$T_DIR/plain.err")"
finish
