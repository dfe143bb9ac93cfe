#!/usr/bin/env bash
# gemflow watch: what becomes a job and when. A slow write is taken only after its close; mv,
# cp and an editor-style save each make exactly one job; temporary names wait until renamed;
# symlinks, FIFOs and oversized scripts are refused into .rejected/ with a reason; a directory
# moved in runs its own workflow; a taken name gets a suffix; a bad script is a failed job with
# its reason and the watcher goes on; a deleted inbox stops the watcher with an error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
fake_start
inbox=$T_DIR/inbox
jobs=$T_DIR/jobs
out=$T_DIR/outside # same filesystem, outside the inbox
mkdir -p "$inbox" "$jobs" "$out"
wf=$T_DIR/one.yaml
one_stage_workflow "$wf"
# a file written slowly, in 10 chunks, from before the watcher starts until after: its start-up
# catch-up must not take it while it is open
exec 7>"$inbox/slow.txt"
echo "chunk 1" >&7
echo "chunk 2" >&7
watch_start w -j 2 --allow-job-workflows full --workflow "$wf" "$inbox" --jobs "$jobs" 7>&- # the watcher must not hold it
pid=$W_PID
wait_until 60 has "$T_DIR/w.err" "watching"
check "the watcher is up" kill -0 $pid

# sync DROP: drop a marker script and wait until its job is done: every event before it has
# been handled by then (the inbox's events are read in order).
n_sync=0
sync_point() {
    n_sync=$((n_sync + 1))
    echo "marker $n_sync" >"$out/marker$n_sync.txt"
    mv "$out/marker$n_sync.txt" "$inbox/"
    wait_until 120 job_done "$jobs/marker$n_sync"
}

# --- a file written slowly, in 10 chunks, is taken only after its close
sync_point
assert_file_contains "at start the open file is left to its writer" \
    "ignoring 'slow.txt': still open for writing" "$T_DIR/w.err"
for i in 3 4 5; do
    echo "chunk $i" >&7
    sleep 0.05
done
sync_point
check "while the slow file is open it stays in the inbox" test -f "$inbox/slow.txt"
check "while the slow file is open no job is made from it" test ! -e "$jobs/slow"
for i in 6 7 8 9 10; do
    echo "chunk $i" >&7
    sleep 0.05
done
exec 7>&-
check "after the close the slow file becomes a job" wait_until 120 job_done "$jobs/slow"
assert_eq "the job holds all 10 chunks" 10 "$(grep -c '^chunk ' "$jobs/slow/script.txt")"
assert_eq "the slow file made one job" 1 "$(find "$jobs" -maxdepth 1 -name 'slow*' | wc -l)"
assert_eq "the slow script was sent whole" 1 \
    "$(fake_count '.prompt != null and (.prompt | startswith("Summarize: chunk 1\nchunk 2") and contains("chunk 10"))')"

# --- mv in, cp in, editor-style save: one job each
printf 'moved in\n' >"$out/moved.txt"
mv "$out/moved.txt" "$inbox/"
printf 'copied in\n' >"$out/copied-src.txt"
cp "$out/copied-src.txt" "$inbox/copied.txt"
printf 'saved by an editor\n' >"$inbox/.edited.txt.swp"
mv "$inbox/.edited.txt.swp" "$inbox/edited.txt"
printf 'downloaded\n' >"$inbox/video.txt.crdownload"
printf 'partial\n' >"$inbox/draft.md.part"
printf 'backup\n' >"$inbox/notes.txt~"
sync_point
for j in moved copied edited; do
    check "'$j' became a job" wait_until 120 job_done "$jobs/$j"
    assert_eq "'$j' made exactly one job" 1 "$(find "$jobs" -maxdepth 1 -name "$j*" | wc -l)"
done
assert_eq "each of them was called once" 1 "$(fake_count '.prompt == "Summarize: moved in\n"')"
assert_eq "the copy was called once" 1 "$(fake_count '.prompt == "Summarize: copied in\n"')"
assert_eq "the editor save was called once" 1 \
    "$(fake_count '.prompt == "Summarize: saved by an editor\n"')"
for f in video.txt.crdownload draft.md.part 'notes.txt~'; do
    check "temporary '$f' is left alone" test -f "$inbox/$f"
done
check "no job from temporary names" test ! -e "$jobs/video" -a ! -e "$jobs/draft" -a ! -e "$jobs/notes"
mv "$inbox/video.txt.crdownload" "$inbox/video.txt"
mv "$inbox/draft.md.part" "$inbox/draft.md"
check "a finished download becomes a job once renamed" wait_until 120 job_done "$jobs/video"
check "a .md script becomes a job once renamed" wait_until 120 job_done "$jobs/draft"

# --- empty files wait for their content; other extensions are not scripts
: >"$inbox/empty.txt"
printf 'a picture\n' >"$inbox/picture.jpg"
sync_point
check "an empty file waits in the inbox" test -f "$inbox/empty.txt" -a ! -e "$jobs/empty"
check "a file that is not a script stays" test -f "$inbox/picture.jpg" -a ! -e "$jobs/picture"
printf 'now with words\n' >"$inbox/empty.txt"
check "once written, the empty file becomes a job" wait_until 120 job_done "$jobs/empty"

# --- refused: a symlink, a FIFO, an oversized script
echo "secret" >"$out/secret.txt"
ln -s "$out/secret.txt" "$inbox/link.txt"
mkfifo "$inbox/pipe.txt"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$out/huge.txt"
mv "$out/huge.txt" "$inbox/"
check "the symlink is moved to .rejected/" wait_until 60 test -L "$inbox/.rejected/link.txt"
check "the FIFO is moved to .rejected/" wait_until 60 test -p "$inbox/.rejected/pipe.txt"
check "the oversized script is moved to .rejected/" wait_until 60 test -f "$inbox/.rejected/huge.txt"
# the reason is written just after the move: wait for it rather than race it
for f in link pipe huge; do wait_until 60 test -f "$inbox/.rejected/$f.txt.why"; done
assert_file_contains "the symlink's .why names the reason" "a symbolic link" "$inbox/.rejected/link.txt.why"
assert_file_contains "the FIFO's .why names the reason" "a FIFO" "$inbox/.rejected/pipe.txt.why"
assert_file_contains "the oversized script's .why names the limit" "16 MB limit" "$inbox/.rejected/huge.txt.why"
assert_file_contains "the refusal is logged with its reason" "refused 'link.txt': a symbolic link" "$T_DIR/w.err"
check "nothing refused left in the inbox" test ! -e "$inbox/link.txt" -a ! -e "$inbox/pipe.txt" -a ! -e "$inbox/huge.txt"
check "no job from refused drops" test ! -e "$jobs/link" -a ! -e "$jobs/pipe" -a ! -e "$jobs/huge"
assert_eq "the symlink's target was never sent" 0 "$(fake_count '.prompt != null and (.prompt | contains("secret"))')"
ln -s "$out/secret.txt" "$inbox/link.txt"
check "a second refused 'link.txt' gets a suffix" wait_until 60 test -L "$inbox/.rejected/link-2.txt"
check "...with its own .why" wait_until 60 test -f "$inbox/.rejected/link-2.txt.why"

# --- a directory moved in is a job as it is, with its own workflow
mkdir -p "$out/own-dir"
echo "a directory drop" >"$out/own-dir/script.txt"
one_stage_workflow "$out/own-dir/workflow.yaml" "Own"
mv "$out/own-dir" "$inbox/"
check "a directory moved in becomes a job" wait_until 120 job_done "$jobs/own-dir"
assert_eq "it ran its own workflow" 1 "$(fake_count '.prompt == "Own: a directory drop\n"')"
mkdir -p "$out/no-script"
echo "x" >"$out/no-script/readme.md"
mv "$out/no-script" "$inbox/"
check "a directory without script.txt is refused" wait_until 60 test -d "$inbox/.rejected/no-script"
mkdir -p "$out/linky"
echo "linky" >"$out/linky/script.txt"
ln -s /etc "$out/linky/etc"
mv "$out/linky" "$inbox/"
check "a directory holding a symlink is refused" wait_until 60 test -d "$inbox/.rejected/linky"
wait_until 60 test -f "$inbox/.rejected/linky.why"
assert_file_contains "...saying which entry" "'etc' is a symbolic link" "$inbox/.rejected/linky.why"
check "...and is not a job" test ! -e "$jobs/linky"

# --- a taken name gets a suffix; nothing is overwritten
printf 'moved in again\n' >"$out/moved.txt"
mv "$out/moved.txt" "$inbox/"
check "a second 'moved.txt' becomes 'moved-2'" wait_until 120 job_done "$jobs/moved-2"
assert_eq "the first job's script is untouched" "moved in" "$(cat "$jobs/moved/script.txt")"
assert_eq "the second job has the new script" "moved in again" "$(cat "$jobs/moved-2/script.txt")"
printf 'odd name\n' >"$out/src"
mv "$out/src" "$inbox/My Video (final)!.fountain"
check "a name with spaces and signs becomes a safe job name" wait_until 120 job_done "$jobs/My-Video-final"

# --- a bad script is a failed job with its reason; the watcher goes on
printf 'binary\0data\n' >"$out/binary.txt"
mv "$out/binary.txt" "$inbox/"
check "a binary script is a failed job" wait_until 60 job_failed "$jobs/binary"
assert_eq "its reason is in the log" "input" \
    "$(jq -rs 'map(select(.event == "run_end")) | last | .error.kind' "$jobs/binary/progress.jsonl")"
assert_file_contains "...with the cause" "is not text" "$jobs/binary/progress.jsonl"
mkdir -p "$out/bad-flow"
echo "fine script" >"$out/bad-flow/script.txt"
printf 'version: 1\nstages:\n  x:\n    kind: nonsense\n' >"$out/bad-flow/workflow.yaml"
mv "$out/bad-flow" "$inbox/"
check "a directory with a broken workflow.yaml is a failed job" wait_until 60 job_failed "$jobs/bad-flow"
assert_eq "...recorded as a configuration error" config \
    "$(jq -rs 'map(select(.event == "run_end")) | last | .error.kind' "$jobs/bad-flow/progress.jsonl")"
assert_file_contains "...naming the file and line" "workflow.yaml:4:" "$jobs/bad-flow/progress.jsonl"
sync_point
check "the watcher goes on after failed jobs (claiming is not paused)" kill -0 $pid
"$GEMFLOW" status --json --workflow "$wf" --jobs "$jobs" >"$T_DIR/status.json" 2>"$T_DIR/status.err"
st() {
    jq -r --arg j "$jobs/$1" '.jobs[] | select(.job == $j) | .'"$2" "$T_DIR/status.json"
}
assert_contains "status --jobs shows why the bad job failed" "is not text" "$(st binary error)"
assert_eq "status --jobs shows a watched job done" done "$(st moved-2 state)"
assert_eq "status --jobs lists every job made" "$(ls "$jobs" | wc -l)" "$(jq '.jobs | length' "$T_DIR/status.json")"
check "no staging directory is left" test -z "$(find "$jobs" -maxdepth 1 -name '.gfclaim*')"

# --- the inbox is deleted: a clear error and an exit, not a spin
rm -rf "$inbox"
wait_exit $pid 60
assert_eq "a deleted inbox stops the watcher with exit 2" 2 "$W_RC"
assert_file_contains "...saying why" "inbox '$inbox' was deleted" "$T_DIR/w.err"
finish
