#!/usr/bin/env bash
# gemflow status on a finished, a failed, a running, a killed, an interrupted and a new job, one
# by one and with --jobs DIR; every --json output is validated against docs/status.schema.json.
source "$(dirname "$0")/lib.sh"
# speed_up DIR: give the job a workflow.yaml carrying the test speed-ups of lib.sh (FAST), so
# that status, plan, accept and report compute the same requests as the runs do; prints DIR
speed_up() {
    local s
    {
        printf 'version: 1\nuse: script-to-media\nset:\n'
        for s in "${FAST[@]}"; do [ "$s" = --set ] || printf '  %s: %s\n' "${s%%=*}" "${s#*=}"; done
    } >"$1/workflow.yaml"
    echo "$1"
}
# fast_job NAME: a copy of the sample job with those speed-ups
fast_job() { speed_up "$(new_job "$1")"; }
SCHEMA="$SRC_DIR/docs/status.schema.json"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# valid FILE: the JSON in FILE matches the schema (python3-jsonschema, Draft 2020-12)
valid() {
    "$PY" - "$SCHEMA" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    print("schema: %s at %s" % (e.message, "/".join(map(str, e.absolute_path))), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}
# sj JOB... : status --json into $T_DIR/st.json, checked against the schema
sj() {
    "$GEMFLOW" status --json "$@" >"$T_DIR/st.json" 2>"$T_DIR/st.err"
    valid "$T_DIR/st.json" || fail "status --json $* does not match the schema"
}
jqe() { jq -e "$@" >/dev/null; }
stage() { jq -r --arg s "$1" ".jobs[0].stages[] | select(.name == \$s) | $2" "$T_DIR/st.json"; }

# the schema rejects what it must reject (so validating against it means something)
echo '{"version": 1, "jobs": [{"job": "x", "state": "bogus", "error": "y"}]}' >"$T_DIR/bad1.json"
if valid "$T_DIR/bad1.json" 2>/dev/null; then fail "schema accepts state 'bogus'"; else ok "schema rejects state 'bogus'"; fi
echo '{"version": 1, "jobs": [{"job": "x", "name": "x", "state": "done"}]}' >"$T_DIR/bad2.json"
if valid "$T_DIR/bad2.json" 2>/dev/null; then fail "schema accepts a job without stages"; else ok "schema rejects a job without stages"; fi

# one server for every job (the endpoint is part of each request's key); a 'timeout' fault holds
# a request for a minute, so a job can be looked at while it surely runs
fake_start --latency-ms 300 --hang-ms 60000
job=$(fast_job done)
gf run "$job"
assert_eq "run exits 0" 0 "$GF_RC"

# a finished job
sj "$job"
assert_eq "finished: state done" done "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"
assert_eq "finished: no pid" null "$(jq -r '.jobs[0].pid' "$T_DIR/st.json")"
assert_eq "finished: last run done" done "$(jq -r '.jobs[0].last_run.state' "$T_DIR/st.json")"
assert_eq "finished: calls as the server counted them" "$(fake_count true)" "$(jq -r '.jobs[0].calls' "$T_DIR/st.json")"
assert_eq "finished: tokens as the calls reported them" \
    "$(jq -s '[.[] | select(.event == "call_end") | .tokens.total // 0] | add' "$job/progress.jsonl")" \
    "$(jq -r '.jobs[0].tokens' "$T_DIR/st.json")"
assert_eq "finished: every item done" "$(jq '[.artifacts[] | select(.stage != "video")] | length' "$job/manifest.json")" \
    "$(jq '[.jobs[0].stages[] | select(.name != "video") | .done] | add' "$T_DIR/st.json")"
assert_eq "finished: every stage done" 0 "$(jq '[.jobs[0].stages[] | select(.state != "done")] | length' "$T_DIR/st.json")"
assert_eq "finished: image stage tokens are the calls' tokens" \
    "$(jq -s '[.[] | select(.event == "call_end" and .stage == "images") | .tokens.total] | add' "$job/progress.jsonl")" \
    "$(stage images .tokens.total)"
assert_eq "finished: image stage time is its stage_done's" \
    "$(jq -s '[.[] | select(.event == "stage_done" and .stage == "images")] | last | .ms' "$job/progress.jsonl")" \
    "$(stage images .ms)"
assert_eq "finished: image calls (the portraits are a stage of their own)" \
    "$(fake_count '.model == "gemini-nano-banana-2.1" and (.prompt | startswith("A character reference portrait") | not)')" \
    "$(stage images .calls)"
gf status "$job"
assert_contains "text: job state" "$job: done" "$(cat "$T_DIR/last.out")"
check "text: images row" grep -Eq "^  images +done +8/8 " "$T_DIR/last.out"
check "text: no colour when not a terminal" bash -c "! grep -q $'\e' '$T_DIR/last.out'"
script -qec "$GEMFLOW status '$job'" /dev/null >"$T_DIR/tty.out" 2>&1
check "text: colour on a terminal" grep -q $'\e\[32m' "$T_DIR/tty.out"
NO_COLOR=1 script -qec "$GEMFLOW status '$job'" /dev/null >"$T_DIR/tty.out" 2>&1
check "text: NO_COLOR turns colour off" bash -c "! grep -q $'\e\[3' '$T_DIR/tty.out'"

# a failed job: the item, the HTTP status and the API's message
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1}]' >"$T_DIR/f400.json"
curl -sf -X POST --data-binary @"$T_DIR/f400.json" "$FAKE_URL/_fake/faults" >/dev/null || fail "cannot set fault rules"
bad=$(fast_job failed)
gf run "$bad"
curl -sf -X POST "$FAKE_URL/_fake/reset" >/dev/null || fail "cannot reset fault rules"
assert_eq "the failing run exits 1" 1 "$GF_RC"
failed_item=$(jq -rs 'map(select(.event=="item_failed")) | first | .item' "$bad/progress.jsonl")
sj "$bad"
assert_eq "failed: state failed" failed "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"
assert_eq "failed: images failed" failed "$(stage images .state)"
assert_eq "failed: one failure" 1 "$(stage images '.failures | length')"
assert_eq "failed: the item" "$failed_item" "$(stage images '.failures[0].item')"
assert_eq "failed: the HTTP status the server sent" "$(jq -s 'map(select(.status >= 400)) | first | .status' "$FAKE_LOG")" \
    "$(stage images '.failures[0].http_status')"
assert_eq "failed: the API's status" INVALID_ARGUMENT "$(stage images '.failures[0].status')"
assert_eq "failed: the API's message" "Request contains an invalid argument." "$(stage images '.failures[0].message')"
assert_eq "failed: narration still done" done "$(stage narration .state)"
gf status "$bad"
assert_contains "text: the failure line" "$failed_item: HTTP 400 INVALID_ARGUMENT: Request contains an invalid argument." "$(cat "$T_DIR/last.out")"

# a new job, never run
fresh=$(fast_job fresh)
sj "$fresh"
assert_eq "new: state new" new "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"
assert_eq "new: no last run" null "$(jq -r '.jobs[0].last_run' "$T_DIR/st.json")"
assert_eq "new: downstream waits for analysis" analysis "$(stage images .after)"

# a job in progress: one image request hangs, so the images stage is surely running
echo '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "timeout", "times": 1}]' >"$T_DIR/hang.json"
curl -sf -X POST --data-binary @"$T_DIR/hang.json" "$FAKE_URL/_fake/faults" >/dev/null || fail "cannot set fault rules"
slow=$(fast_job running)
"$GEMFLOW" run -q "${FAST[@]}" "$slow" >/dev/null 2>"$T_DIR/slow.err" &
pid=$!
wait_for "the first image call" 300 grep -q '"event":"call_start","stage":"images"' "$slow/progress.jsonl"
sj "$slow"
assert_eq "running: state running" running "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"
assert_eq "running: the pid of the run" "$pid" "$(jq -r '.jobs[0].pid' "$T_DIR/st.json")"
assert_eq "running: images is running" running "$(stage images .state)"
check "running: calls in flight are counted" test "$(stage images .in_flight)" -ge 1
assert_eq "running: last run has not ended" null "$(jq -r '.jobs[0].last_run.ended' "$T_DIR/st.json")"
assert_eq "running: the last run is running, not killed" running "$(jq -r '.jobs[0].last_run.state' "$T_DIR/st.json")"
gf status "$slow"
assert_contains "text: running with its pid" "running (workflow script-to-media, pid $pid" "$(cat "$T_DIR/last.out")"
assert_contains "text: the last run is in progress" "; last run: running since " "$(cat "$T_DIR/last.out")"
check "text: in flight shown" grep -q "in flight" "$T_DIR/last.out"
# kill -9 mid-run: the run never ends, status says killed
kill -9 $pid
wait $pid 2>/dev/null
curl -sf -X POST "$FAKE_URL/_fake/reset" >/dev/null || fail "cannot reset fault rules"
sj "$slow"
assert_eq "killed: state killed" killed "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"
assert_eq "killed: no pid any more" null "$(jq -r '.jobs[0].pid' "$T_DIR/st.json")"
assert_eq "killed: the last run was killed" killed "$(jq -r '.jobs[0].last_run.state' "$T_DIR/st.json")"
assert_eq "killed: nothing in flight" 0 "$(jq '[.jobs[0].stages[].in_flight] | add' "$T_DIR/st.json")"

# SIGINT: interrupted
intr=$(fast_job interrupted)
"$GEMFLOW" run -q "${FAST[@]}" "$intr" >/dev/null 2>&1 &
pid=$!
wait_for "the first call" 300 grep -q '"event":"call_start"' "$intr/progress.jsonl"
kill -INT $pid
wait $pid
assert_eq "SIGINT run exits 3" 3 "$?"
sj "$intr"
assert_eq "interrupted: state interrupted" interrupted "$(jq -r '.jobs[0].state' "$T_DIR/st.json")"

# --jobs DIR: one line per job with its age; a directory that is no job is shown as invalid
jobs="$T_DIR/jobs"
mkdir -p "$jobs/not-a-job"
mv "$job" "$bad" "$fresh" "$slow" "$intr" "$jobs/"
gf status --jobs "$jobs"
assert_eq "--jobs exits 0" 0 "$GF_RC"
out=$(cat "$T_DIR/last.out")
for pair in done:done failed:failed fresh:new running:killed interrupted:interrupted not-a-job:invalid; do
    name=${pair%%:*} state=${pair#*:}
    check "--jobs: $name is $state" grep -Eq "^$name +$state " "$T_DIR/last.out"
done
check "--jobs: ages are shown" grep -Eq "^done +done +[0-9]+/[0-9]+ +[0-9/]+ +(just now|[0-9]+[smhd] ago)" "$T_DIR/last.out"
assert_contains "--jobs: the failure is quoted" "images/$failed_item: HTTP 400" "$out"
"$GEMFLOW" status --json --jobs "$jobs" >"$T_DIR/all.json" 2>/dev/null
check "--jobs --json matches the schema" valid "$T_DIR/all.json"
assert_eq "--jobs --json: every directory, sorted" "done failed fresh interrupted not-a-job running" \
    "$(jq -r '[.jobs[].job | split("/") | last] | join(" ")' "$T_DIR/all.json")"
check "--jobs --json: ages are numbers" jqe '[.jobs[] | select(.state != "invalid" and .state != "new") | .age_s | numbers] | length == 4' "$T_DIR/all.json"

# usage
gf status
assert_eq "no job: exit 2" 2 "$GF_RC"
gf status "$T_DIR/nope"
assert_eq "no such job: exit 2" 2 "$GF_RC"
gf status --jobs "$T_DIR/nope"
assert_eq "no such jobs dir: exit 2" 2 "$GF_RC"
finish
