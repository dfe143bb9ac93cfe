#!/usr/bin/env bash
# GNU parallel fans jobs out over processes on one machine, as README "Running many jobs" shows:
#   parallel gemflow run ::: jobs/*
# 4 processes at a time, one key, one model limited by the fake's --rpm and set alike in
# limits.rpm: they share the budget through the quota directory, so no 429 and together at
# least 0.95 of the limit (counted from the fake's log over the busy part: see t_quota_shared
# for the margins; a fake minute of 20 s at 60 requests spaces them as 10 s at 30 would, with
# 230 ms instead of 100 ms for a start in gemflow to reach the fake). Run again, the same line
# calls nothing.
source "$(dirname "$0")/lib.sh"
command -v parallel >/dev/null || { echo "not ok: GNU parallel is not installed (tools/deps.sh installs it)" >&2; exit 1; }
MODEL=gemini-3.8-flash
R=60
MIN_MS=20000
export GEMFLOW_MINUTE_MS=$MIN_MS
WF=$(bench_wf text-calls)
fake_start --latency-ms 80 --rpm $MODEL=$R --minute-ms $MIN_MS
mkdir -p "$T_DIR/jobs"
for j in $(seq 1 8); do
    mkdir -p "$T_DIR/jobs/film-$j"
    {
        echo "Film $j"
        for i in $(seq 1 11); do
            printf '\nSCENE %d — PIER %d\nOn pier %d of film %d the tide turns.\n' "$i" "$i" "$i" "$j"
        done
    } >"$T_DIR/jobs/film-$j/script.txt"
done
parallel --will-cite -j4 "$GEMFLOW" run -q --workflow "$WF" --set limits.rpm.$MODEL=$R ::: \
    "$T_DIR"/jobs/* >"$T_DIR/parallel.out" 2>"$T_DIR/parallel.err"
assert_eq "parallel: every job done (exit 0)" 0 "$?"
fake_settle
m=$(bash "$SRC_DIR/tests/tools/fake-rate.sh" "$FAKE_LOG" $MIN_MS $MODEL)
rate_figures "t_quota_parallel: parallel -j4, 8 jobs, $MODEL" $R "$m"
assert_eq "96 requests answered (12 per job)" 96 "$(jq .ok <<<"$m")"
assert_eq "no 429" 0 "$(jq .n429 <<<"$m")"
assert_eq "no request sent twice" 0 "$(jq .repeats <<<"$m")"
check "at most $R in any fake minute (saw $(jq .max_window <<<"$m"))" test "$(jq .max_window <<<"$m")" -le $R
check "together at least 0.95 of the limit: $(jq .rate <<<"$m") per fake minute of $R" \
    awk -v r="$(jq .rate <<<"$m")" -v R=$R 'BEGIN { exit !(r >= 0.95 * R) }'
# the most runs under way at one moment (run_start to run_end over the jobs' logs)
most=$(jq -s '[.[] | select(.event == "run_start" or .event == "run_end")
              | {ts, d: (if .event == "run_start" then 1 else -1 end)}] | sort_by(.ts, .d)
              | reduce .[] as $x ({n: 0, m: 0}; .n += $x.d | .m = ([.m, .n] | max)) | .m' \
    "$T_DIR"/jobs/*/progress.jsonl)
assert_eq "4 processes ran at once (parallel -j4)" 4 "$most"
before=$(fake_count)
parallel --will-cite -j4 "$GEMFLOW" run -q --workflow "$WF" --set limits.rpm.$MODEL=$R ::: \
    "$T_DIR"/jobs/* >/dev/null 2>&1
assert_eq "the same line again: exit 0" 0 "$?"
assert_eq "and no request" "$before" "$(fake_count)"
finish
