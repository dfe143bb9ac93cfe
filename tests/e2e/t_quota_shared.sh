#!/usr/bin/env bash
# The shared quota: two gemflow processes on one key and one model draw from one quota
# directory, so together they stay within the server's requests per minute (no 429) and still
# use it (at least 0.95 of it); a limit a 429 stated is kept there, so a later start paces to
# it without a new 429.
#
# Time is scaled down: the fake's "minute" is MIN_MS long (--minute-ms) and gemflow is told so
# (GEMFLOW_MINUTE_MS, read for per-minute limits only). A minute of 10 s leaves the pacing's
# margin (2 % of a minute, less 1 % caught up after a late start) at 100 ms for the time between
# a start in gemflow and the arrival at the fake: scheduling on a loaded 2-core machine stays
# well within that. The rate is counted from the fake's own log (arrival times), over the busy
# part only: gemflow paces at 1/1.02 = 0.98 of the limit, so the 0.95 asked for leaves 3 % for
# start-up and wake-up delays.
source "$(dirname "$0")/lib.sh"
MODEL=gemini-3.8-flash
R=30
MIN_MS=10000
export GEMFLOW_MINUTE_MS=$MIN_MS
RATE="$SRC_DIR/tests/tools/fake-rate.sh"
WF=$(bench_wf text-calls)

# make_job DIR SCENES: a job whose analysis has SCENES scenes (one caption call each)
make_job() {
    mkdir -p "$1"
    {
        echo "A test film of $2 scenes ($(basename "$1"))"
        for i in $(seq 1 "$2"); do
            printf '\nSCENE %d — STATION %d\nAt station %d of %s the light changes.\n' \
                "$i" "$i" "$i" "$(basename "$1")"
        done
    } >"$1/script.txt"
}
field() { jq -r ".$1" <<<"$2"; }

# --- two processes, one key, one model, limits.rpm at the server's limit ----------------------
fake_start --latency-ms 80 --rpm $MODEL=$R --minute-ms $MIN_MS
make_job "$T_DIR/a" 44
make_job "$T_DIR/b" 44
for j in a b; do
    "$GEMFLOW" run -q --workflow "$WF" --set limits.rpm.$MODEL=$R "$T_DIR/$j" \
        >"$T_DIR/$j.out" 2>"$T_DIR/$j.err" &
    eval "pid_$j=$!"
done
wait "$pid_a"
rc_a=$?
wait "$pid_b"
rc_b=$?
assert_eq "process a ends done" 0 "$rc_a"
assert_eq "process b ends done" 0 "$rc_b"
fake_settle
m=$(bash "$RATE" "$FAKE_LOG" $MIN_MS $MODEL)
rate_figures "t_quota_shared: two processes, one key, $MODEL" $R "$m"
assert_eq "90 requests answered (45 per job)" 90 "$(field ok "$m")"
assert_eq "no 429 from the server's $R per minute" 0 "$(field n429 "$m")"
assert_eq "no request sent twice" 0 "$(field repeats "$m")"
check "at most $R in any fake minute (saw $(field max_window "$m"))" \
    test "$(field max_window "$m")" -le $R
check "together at least 0.95 of the limit: $(field rate "$m") per fake minute of $R" \
    awk -v r="$(field rate "$m")" -v R=$R 'BEGIN { exit !(r >= 0.95 * R) }'
# both drew from the quota directory's one record, which counted every request
rec=$(ls "$GEMFLOW_QUOTA_DIR"/*/$MODEL.quota)
assert_eq "one record for the key and the model" 1 "$(echo "$rec" | wc -l)"
assert_eq "the record counted the 90 requests" 90 "$(jq .total "$rec")"
check "the key is not in the quota directory" \
    sh -c "! grep -rqF -- '$GEMINI_API_KEY' '$GEMFLOW_QUOTA_DIR'"

# --- a limit learned from a 429, then paced to at the next start ------------------------------
fake_restart --latency-ms 80 --rpm $MODEL=$R --minute-ms $MIN_MS
export GEMFLOW_QUOTA_DIR="$T_DIR/quota-learn"
skip=$(wc -l <"$FAKE_LOG")
make_job "$T_DIR/c" 44
# no limits.rpm: the first run meets the server's limit, is told R by the 429, and paces to it
"$GEMFLOW" run -q --workflow "$WF" "$T_DIR/c" >"$T_DIR/c.out" 2>"$T_DIR/c.err"
assert_eq "the run without a limit ends done" 0 "$?"
fake_settle
first=$(bash "$RATE" "$FAKE_LOG" $MIN_MS $MODEL "$skip")
rate_figures "t_quota_shared: first run, no limit set (429s expected)" $R "$first"
check "the first run met the server's limit (429s: $(field n429 "$first"))" \
    test "$(field n429 "$first")" -ge 1
rec=$(ls "$GEMFLOW_QUOTA_DIR"/*/$MODEL.quota)
assert_eq "the 429's quotaValue is kept as the model's requests per minute" $R \
    "$(jq '.limits.rpm.value' "$rec")"
assert_eq "with the quota id it came with" GenerateRequestsPerMinutePerProjectPerModel \
    "$(jq -r '.limits.rpm.quota_id' "$rec")"
assert_contains "and which call got it" "$T_DIR/c " "$(jq -r '.limits.rpm.source' "$rec")"
# a new process, a new job: it paces to the learned limit from its first call
skip=$(wc -l <"$FAKE_LOG")
make_job "$T_DIR/d" 44
"$GEMFLOW" run -q --workflow "$WF" "$T_DIR/d" >"$T_DIR/d.out" 2>"$T_DIR/d.err"
assert_eq "the next start ends done" 0 "$?"
fake_settle
next=$(bash "$RATE" "$FAKE_LOG" $MIN_MS $MODEL "$skip")
rate_figures "t_quota_shared: next start, limit learned earlier" $R "$next"
assert_eq "the next start gets no 429" 0 "$(field n429 "$next")"
assert_eq "its 45 requests answered" 45 "$(field ok "$next")"
check "it paces at the learned limit: $(field rate "$next") per fake minute of $R" \
    awk -v r="$(field rate "$next")" -v R=$R 'BEGIN { exit !(r >= 0.95 * R && r <= R) }'
finish
