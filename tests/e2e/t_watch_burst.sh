#!/usr/bin/env bash
# gemflow watch: N scripts (500 with GEMFLOW_TEST_FULL=1, else 150) dropped in one burst into an
# inbox that two watchers share become N jobs, each claimed exactly once: no job directory twice,
# no file left, every job done, every script sent once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
# 500 drops in the full run (./test.sh --full), 150 in the quick one
if [ "${GEMFLOW_TEST_FULL:-0}" = 1 ]; then N=500; else N=150; fi
fake_start
inbox=$T_DIR/inbox
jobs=$T_DIR/jobs
out=$T_DIR/outside
mkdir -p "$inbox" "$jobs" "$out"
wf=$T_DIR/one.yaml
one_stage_workflow "$wf"
watch_start a -j 8 --workflow "$wf" "$inbox" --jobs "$jobs"
wa=$W_PID
watch_start b -j 8 --workflow "$wf" "$inbox" --jobs "$jobs"
wb=$W_PID
wait_until 60 has "$T_DIR/a.err" "watching"
wait_until 60 has "$T_DIR/b.err" "watching"

for i in $(seq -w 1 $N); do
    echo "burst script $i" >"$out/drop$i.txt"
done
mv "$out"/drop*.txt "$inbox/" # one burst of IN_MOVED_TO

all_done() {
    [ "$(grep -lF '"event":"run_end","state":"done"' "$jobs"/*/progress.jsonl 2>/dev/null | wc -l)" -ge $N ]
}
check "$N jobs are done" wait_until 400 all_done
watch_stop $wa
assert_eq "watcher a exits 3 on SIGTERM" 3 "$W_RC"
watch_stop $wb
assert_eq "watcher b exits 3 on SIGTERM" 3 "$W_RC"

assert_eq "the inbox is empty" "" "$(ls -A "$inbox")"
assert_eq "exactly $N job directories" $N "$(find "$jobs" -mindepth 1 -maxdepth 1 -type d | wc -l)"
assert_eq "no job directory twice (no suffixed name)" 0 \
    "$(find "$jobs" -mindepth 1 -maxdepth 1 -name 'drop*-*' | wc -l)"
assert_eq "no staging directory left" 0 "$(find "$jobs" -maxdepth 1 -name '.gfclaim*' | wc -l)"
bad=0
for i in $(seq -w 1 $N); do
    [ "$(cat "$jobs/drop$i/script.txt" 2>/dev/null)" = "burst script $i" ] || bad=$((bad + 1))
done
assert_eq "every job holds its own script" 0 "$bad"
assert_eq "the fake saw $N requests" $N "$(fake_count true)"
assert_eq "every script was sent exactly once" $N \
    "$(jq -rs 'map(select(.method == "POST") | .prompt) | unique | map(select(startswith("Summarize: burst script "))) | length' "$FAKE_LOG")"
claims=$(($(count_lines "$T_DIR/a.err" "claimed '") + $(count_lines "$T_DIR/b.err" "claimed '")))
assert_eq "the two watchers claimed $N drops between them" $N "$claims"
echo "# watcher a claimed $(count_lines "$T_DIR/a.err" "claimed '"), b $(count_lines "$T_DIR/b.err" "claimed '")"
finish
