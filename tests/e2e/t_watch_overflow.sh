#!/usr/bin/env bash
# gemflow watch: when the kernel's inotify queue overflows (IN_Q_OVERFLOW) events are lost; the
# watcher rescans the inbox and no drop is lost. A real overflow: the watcher is stopped
# (SIGSTOP) while more events than fs.inotify.max_queued_events pile up, then scripts are dropped,
# whose events the full queue discards; then it continues (SIGCONT).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
fake_start
inbox=$T_DIR/inbox
jobs=$T_DIR/jobs
out=$T_DIR/outside
mkdir -p "$inbox" "$jobs" "$out"
wf=$T_DIR/one.yaml
one_stage_workflow "$wf"
watch_start w -j 4 --workflow "$wf" "$inbox" --jobs "$jobs"
pid=$W_PID
wait_until 60 has "$T_DIR/w.err" "watching"

queue=$(cat /proc/sys/fs/inotify/max_queued_events)
# each hidden file written in place queues two events (IN_CREATE, IN_CLOSE_WRITE)
junk=$((queue / 2 + 1000))
if [ "$junk" -gt 300000 ]; then
    fail "fs.inotify.max_queued_events is $queue: too large to overflow in a test"
    finish
fi
for i in 1 2 3; do
    echo "before the stop $i" >"$out/early$i.txt"
    mv "$out/early$i.txt" "$inbox/"
done
wait_until 120 job_done "$jobs/early3"
kill -STOP $pid
for ((i = 0; i < junk; i++)); do
    : >"$inbox/.junk$i"
done
for i in 1 2 3 4 5; do
    echo "lost event $i" >"$out/lost$i.txt"
    mv "$out/lost$i.txt" "$inbox/"
done
kill -CONT $pid
for i in 1 2 3 4 5; do
    check "drop $i, whose event the full queue lost, becomes a job" wait_until 200 job_done "$jobs/lost$i"
done
assert_file_contains "the overflow is noticed and the inbox rescanned" "overflowed" "$T_DIR/w.err"
assert_eq "no script is left in the inbox" 0 "$(find "$inbox" -maxdepth 1 -name '*.txt' | wc -l)"
assert_eq "each drop was sent once" 5 \
    "$(jq -rs 'map(.prompt) | map(select(. != null and startswith("Summarize: lost event"))) | unique | length' "$FAKE_LOG")"
assert_eq "8 requests in all" 8 "$(fake_count true)"
echo "after" >"$out/after.txt"
mv "$out/after.txt" "$inbox/"
check "events are handled again after the rescan" wait_until 120 job_done "$jobs/after"
watch_stop $pid
assert_eq "SIGTERM exits 3" 3 "$W_RC"
finish
