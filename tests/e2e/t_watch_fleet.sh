#!/usr/bin/env bash
# Many watchers, one inbox: 4 `gemflow watch` processes share an inbox and a jobs directory
# (and, through the quota directory, the model's requests per minute), and 100 drops arrive in
# bursts of three kinds: files moved in at once, files written in place, directories moved in.
# Every drop becomes exactly one job, each job runs once, no drop is left behind, every script
# is sent once, and the four together stay within the fake's rpm (no 429). bench/watch-fleet
# does the same with 1000 drops and prints its figures.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
MODEL=gemini-3.8-flash
# A fake minute of 10 s: the 100 calls take 1.25 of them at R, so the pacing shows, and a
# request may reach the fake up to 136 ms late (2 % of a minute, less half a request's
# interval caught up after a late start) without a 429
R=80
MIN_MS=10000
export GEMFLOW_MINUTE_MS=$MIN_MS
BURSTS=5
PER=20
N=$((BURSTS * PER))
fake_start --latency-ms 40 --rpm $MODEL=$R --minute-ms $MIN_MS
inbox=$T_DIR/inbox
jobs=$T_DIR/jobs
out=$T_DIR/outside
mkdir -p "$inbox" "$jobs" "$out"
wf=$T_DIR/one.yaml
one_stage_workflow "$wf"
W=()
for w in a b c d; do
    watch_start "$w" -j 4 --workflow "$wf" --set limits.rpm.$MODEL=$R "$inbox" --jobs "$jobs"
    W+=("$W_PID")
done
for w in a b c d; do wait_until 60 has "$T_DIR/$w.err" "watching"; done

claimed() { # how many drops the four watchers claimed so far
    local n=0 w
    for w in a b c d; do n=$((n + $(count_lines "$T_DIR/$w.err" "claimed '"))); done
    echo "$n"
}
# move_in DIR NAME...: rename each DIR/NAME into the inbox from one process, as fast as it can
# (mv with many sources stats each target after its rename, and a watcher may have claimed it
# already: mv would call that an error)
move_in() {
    perl -e 'my ($from, $to) = splice(@ARGV, 0, 2);
             rename("$from/$_", "$to/$_") or die "cannot move $_: $!\n" for @ARGV' "$1" "$inbox" "${@:2}"
}
for b in $(seq 1 $BURSTS); do
    names=()
    case $((b % 3)) in
    1) # files moved in at once: a burst of IN_MOVED_TO
        for i in $(seq -w 1 $PER); do
            echo "fleet script $b-$i" >"$out/drop$b-$i.txt"
            names+=("drop$b-$i.txt")
        done
        move_in "$out" "${names[@]}"
        ;;
    2) # files written in place, all open at once, then closed: a burst of IN_CLOSE_WRITE
        writers=()
        for i in $(seq -w 1 $PER); do
            echo "fleet script $b-$i" >"$inbox/drop$b-$i.txt" &
            writers+=($!)
        done
        wait "${writers[@]}" # only the writers: the watchers and the fake are children too
        ;;
    0) # job directories moved in
        for i in $(seq -w 1 $PER); do
            mkdir -p "$out/drop$b-$i"
            echo "fleet script $b-$i" >"$out/drop$b-$i/script.txt"
            names+=("drop$b-$i")
        done
        move_in "$out" "${names[@]}"
        ;;
    esac
    # the next burst comes while this one is being claimed and run
    wait_until 60 eval "[ \$(claimed) -ge $(((b - 1) * PER + 1)) ]"
done
all_done() {
    [ "$(grep -lF '"event":"run_end","state":"done"' "$jobs"/*/progress.jsonl 2>/dev/null | wc -l)" -ge $N ]
}
check "$N jobs are done" wait_until 180 all_done
for i in "${!W[@]}"; do
    watch_stop "${W[$i]}"
    assert_eq "watcher $i exits 3 on SIGTERM" 3 "$W_RC"
done

assert_eq "no drop left in the inbox" "" "$(ls -A "$inbox")"
assert_eq "exactly $N job directories" $N "$(find "$jobs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)"
assert_eq "no job directory twice (no suffixed name)" 0 \
    "$(find "$jobs" -mindepth 1 -maxdepth 1 -name 'drop*-*-*' | wc -l)"
bad=0 runs=0
for b in $(seq 1 $BURSTS); do
    for i in $(seq -w 1 $PER); do
        [ "$(cat "$jobs/drop$b-$i/script.txt" 2>/dev/null)" = "fleet script $b-$i" ] || bad=$((bad + 1))
        runs=$((runs + $(events "$jobs/drop$b-$i/progress.jsonl" run_start 2>/dev/null || echo 0)))
    done
done
assert_eq "every job holds its own script" 0 "$bad"
assert_eq "each job ran once: $N runs" $N "$runs"
assert_eq "the claims add up to $N" $N "$(claimed)"
echo "# figures: t_watch_fleet: $N drops, $(find "$jobs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l) jobs, $runs runs, $(ls -A "$inbox" | wc -l) left in the inbox; claims a $(count_lines "$T_DIR/a.err" "claimed '"), b $(count_lines "$T_DIR/b.err" "claimed '"), c $(count_lines "$T_DIR/c.err" "claimed '"), d $(count_lines "$T_DIR/d.err" "claimed '")"
fake_settle
m=$(bash "$SRC_DIR/tests/tools/fake-rate.sh" "$FAKE_LOG" $MIN_MS $MODEL)
rate_figures "t_watch_fleet: 4 watchers, $N drops in $BURSTS bursts, $MODEL" $R "$m"
assert_eq "every script sent and answered once" $N "$(jq .ok <<<"$m")"
assert_eq "no request sent twice" 0 "$(jq .repeats <<<"$m")"
assert_eq "the four watchers share the rpm: no 429" 0 "$(jq .n429 <<<"$m")"
check "at most $R in any fake minute (saw $(jq .max_window <<<"$m"))" test "$(jq .max_window <<<"$m")" -le $R
finish
