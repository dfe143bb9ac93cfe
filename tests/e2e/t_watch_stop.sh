#!/usr/bin/env bash
# gemflow watch as a service: start-up checks (exit 2), SIGTERM mid-job (claims stop, calls in
# flight finish and are recorded, exit 3, a new watcher resumes and repeats no call), the grace
# period abandoning a hung call, start-up catch-up (inbox, unfinished jobs, a claim left by a
# dead watcher; finished jobs untouched), and SIGHUP reloading the workflow.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
fake_start --latency-ms 300 --hang-ms 600000
inbox=$T_DIR/inbox
jobs=$T_DIR/jobs
out=$T_DIR/outside
mkdir -p "$inbox" "$jobs" "$out"
wf=$T_DIR/one.yaml
one_stage_workflow "$wf"

# --- start-up checks: usage and configuration errors exit 2 before anything happens
gf watch
assert_eq "no inbox exits 2" 2 "$GF_RC"
gf watch "$inbox"
assert_eq "no --jobs exits 2" 2 "$GF_RC"
assert_file_contains "...and says so" "--jobs DIR is required" "$T_DIR/last.err"
gf watch -j 0 "$inbox" --jobs "$jobs"
assert_eq "-j 0 exits 2" 2 "$GF_RC"
gf watch --grace soon "$inbox" --jobs "$jobs"
assert_eq "a bad --grace exits 2" 2 "$GF_RC"
env -u GEMINI_API_KEY -u GOOGLE_API_KEY "$GEMFLOW" watch "$inbox" --jobs "$jobs" \
    >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "no key exits 2" 2 "$?"
assert_file_contains "...saying how to set one" "GEMINI_API_KEY" "$T_DIR/last.err"
gf watch "$T_DIR/nowhere" --jobs "$jobs"
assert_eq "a missing inbox exits 2" 2 "$GF_RC"
printf 'version: 1\nstages:\n  x:\n    kind: nonsense\n' >"$T_DIR/bad.yaml"
gf watch --workflow "$T_DIR/bad.yaml" "$inbox" --jobs "$jobs"
assert_eq "a bad workflow exits 2" 2 "$GF_RC"
assert_file_contains "...with file:line:column" "bad.yaml:4:" "$T_DIR/last.err"
other=/dev/shm
if [ "$(stat -c %d "$other")" != "$(stat -c %d "$T_DIR")" ]; then
    xinbox=$(mktemp -d "$other/gemflow-watch-inbox.XXXXXX")
    gf watch "$xinbox" --jobs "$jobs"
    assert_eq "inbox and jobs on different filesystems exits 2" 2 "$GF_RC"
    assert_file_contains "...explaining why" "different filesystems" "$T_DIR/last.err"
    check "...leaving no probe behind" test -z "$(ls -A "$xinbox")"
    rm -rf "$xinbox"
else
    fail "cannot test a cross-filesystem pair: $other is on the same filesystem as $T_DIR"
fi
assert_eq "no check made a request" 0 "$(fake_count true)"
assert_eq "no check wrote a job" 0 "$(ls -A "$jobs" | wc -l)"

# --- SIGTERM in the middle of a job: exit 3, every started call finished and recorded. Calls
# take 3 s here, so the 14 calls left after the 4th item_done need two more rounds of 8 in
# flight: the stop lands mid-job however slowly this machine runs the test.
fake_restart --latency-ms 3000 --hang-ms 600000
cp "$SRC_DIR/samples/lighthouse/script.txt" "$out/lighthouse.txt"
watch_start w1 "${FAST[@]}" --grace 120s "$inbox" --jobs "$jobs"
w1=$W_PID
mv "$out/lighthouse.txt" "$inbox/"
log=$jobs/lighthouse/progress.jsonl
wait_until 120 eval '[ "$(count_lines "$log" "\"event\":\"item_done\"")" -ge 4 ]'
kill -TERM $w1
wait_until 60 has "$T_DIR/w1.err" "stopping"
echo "dropped while stopping" >"$out/late.txt"
mv "$out/late.txt" "$inbox/"
wait_exit $w1 120
assert_eq "SIGTERM mid-job exits 3" 3 "$W_RC"
assert_eq "the job's run_end says interrupted" interrupted "$(run_state "$jobs/lighthouse")"
recorded=$(count_lines "$log" '"event":"item_done"')
fake_settle
items=$(api_items "$jobs/lighthouse")
check "the stop landed mid-job ($recorded of $items recorded)" test "$recorded" -ge 4 -a "$recorded" -lt "$items"
assert_eq "every call started before the stop was finished and recorded" "$recorded" "$(fake_count true)"
check "a drop made while stopping is not claimed" test -f "$inbox/late.txt" -a ! -e "$jobs/late"
fake_restart --latency-ms 300 --hang-ms 600000

# --- a new watcher: a claim left half done by a dead watcher, finished jobs, catch-up
host=$(uname -n | tr -c 'A-Za-z0-9._\n-' '-' | cut -c1-64)
sleep 0 &
dead=$!
wait $dead
stage="$jobs/.gfclaim+$host+$dead+1+crashed"
mkdir "$stage"
echo "claimed by a watcher that died" >"$stage/script.txt"
for s in done failed; do
    mkdir "$jobs/old-$s"
    echo "old $s" >"$jobs/old-$s/script.txt"
    printf '{"ts":"2026-01-01T00:00:00.000Z","event":"run_start","pid":1}\n{"ts":"2026-01-01T00:00:01.000Z","event":"run_end","state":"%s"}\n' \
        "$s" >"$jobs/old-$s/progress.jsonl"
done
watch_start w2 "${FAST[@]}" "$inbox" --jobs "$jobs"
w2=$W_PID
check "the interrupted job is resumed to the end" wait_until 120 job_done "$jobs/lighthouse"
check "the drop that waited in the inbox is taken at start" wait_until 120 job_done "$jobs/late"
check "the half-done claim is finished as a job" wait_until 120 job_done "$jobs/crashed"
check "...and its staging directory is gone" test ! -e "$stage"
assert_file_contains "the resume is logged" "resuming job '$jobs/lighthouse'" "$T_DIR/w2.err"
assert_eq "the finished claim is opened once" 1 "$(count_lines "$T_DIR/w2.err" "as job '$jobs/crashed'")"
assert_eq "...and not resumed as well" 0 "$(count_lines "$T_DIR/w2.err" "resuming job '$jobs/crashed'")"
check "...and never found locked by ourselves" test "$(count_lines "$T_DIR/w2.err" "is locked")" = 0
for s in done failed; do
    assert_eq "a job whose last run ended $s is left alone" 2 "$(wc -l <"$jobs/old-$s/progress.jsonl")"
done
assert_eq "the resumed run called only the $((items - recorded)) items not recorded" $((items - recorded)) \
    "$(jq -s '(map(.event == "run_start") | rindex(true)) as $i | .[$i:]
              | map(select(.event == "call_start")) | length' "$log")"
all_calls=0
for j in "$jobs"/*/; do
    all_calls=$((all_calls + $(count_lines "$j/progress.jsonl" '"event":"call_start"')))
done
assert_eq "every request the fake saw is a call some job logged" "$all_calls" "$(fake_count true)"
assert_eq "no request was sent twice" 0 \
    "$(jq -s 'map(select(.method == "POST")) | group_by(.path + .body_sha256) | map(select(length > 1)) | length' "$FAKE_LOG")"
watch_stop $w2
assert_eq "SIGTERM with nothing running exits 3" 3 "$W_RC"

# --- the grace period: a call that hangs is abandoned, the job ends interrupted
ginbox=$T_DIR/ginbox
gjobs=$T_DIR/gjobs
mkdir -p "$ginbox" "$gjobs"
curl -s -X POST -d '[{"match": "hang-me", "kind": "timeout"}]' "$FAKE_URL/_fake/faults" >/dev/null
watch_start w3 --grace 1s --workflow "$wf" "$ginbox" --jobs "$gjobs"
w3=$W_PID
echo "hang-me please" >"$out/hang.txt"
mv "$out/hang.txt" "$ginbox/"
wait_until 120 has "$gjobs/hang/progress.jsonl" '"event":"call_start"'
kill -TERM $w3
wait_exit $w3 120
assert_eq "a hung call is abandoned after the grace period: exit 3" 3 "$W_RC"
assert_eq "...the job ends interrupted" interrupted "$(run_state "$gjobs/hang")"
assert_file_contains "...saying it abandoned the call" "abandoning 1 call" "$T_DIR/w3.err"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
watch_start w4 --workflow "$wf" "$ginbox" --jobs "$gjobs"
w4=$W_PID
check "the next watcher finishes the abandoned job" wait_until 120 job_done "$gjobs/hang"
watch_stop $w4

# --- SIGHUP: the workflow is loaded again; while it does not load, drops wait
hinbox=$T_DIR/hinbox
hjobs=$T_DIR/hjobs
hwf=$T_DIR/hup.yaml
mkdir -p "$hinbox" "$hjobs"
one_stage_workflow "$hwf" Alpha
watch_start w5 --workflow "$hwf" "$hinbox" --jobs "$hjobs"
w5=$W_PID
echo "first" >"$out/a.txt"
mv "$out/a.txt" "$hinbox/"
check "a drop runs the workflow as started" wait_until 120 job_done "$hjobs/a"
assert_eq "...with its prompt" 1 "$(fake_count '.prompt == "Alpha: first\n"')"
cp "$T_DIR/bad.yaml" "$hwf"
echo "second" >"$out/b.txt"
mv "$out/b.txt" "$hinbox/"
check "a workflow broken on disk pauses claiming" wait_until 60 has "$T_DIR/w5.err" "drops wait in the inbox"
kill -HUP $w5
wait_until 60 eval '[ "$(count_lines "$T_DIR/w5.err" "drops wait in the inbox")" -ge 2 ]'
echo "third" >"$out/c.txt"
mv "$out/c.txt" "$hinbox/"
check "while paused a new drop is said to wait" wait_until 60 has "$T_DIR/w5.err" "'c.txt' waits in the inbox"
check "...and the drops are still in the inbox" test -f "$hinbox/b.txt" -a -f "$hinbox/c.txt"
check "...with no job made" test ! -e "$hjobs/b" -a ! -e "$hjobs/c"
one_stage_workflow "$hwf" Beta
kill -HUP $w5
check "after SIGHUP with a good workflow the waiting drops run" wait_until 120 job_done "$hjobs/b"
check "...all of them" wait_until 120 job_done "$hjobs/c"
assert_eq "...with the reloaded workflow" 2 "$(fake_count '.prompt != null and (.prompt | startswith("Beta: "))')"
check "the watcher is still running" kill -0 $w5
watch_stop $w5
assert_eq "SIGTERM exits 3" 3 "$W_RC"
finish
