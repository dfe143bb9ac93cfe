#!/usr/bin/env bash
# Symbolic links planted inside a job between runs never redirect a write (docs/security.md,
# "Writes stay beneath the job directory"): an output directory, .gemflow/lock, progress.jsonl,
# .gemflow/ itself, the call records' directory, an artifact, manifest.json and report.html
# pointing outside. Each write through a link fails naming it (the item, or the whole run when
# it is the lock or the log), a link in the place of a file is replaced rather than followed,
# and nothing outside the job is created or changed. The job directory itself may be a link.
source "$(dirname "$0")/lib.sh"
fake_start
out="$T_DIR/outside"
mkdir -p "$out"
printf 'precious victim bytes\n' >"$T_DIR/victim"
victim_sum=$(sha256sum <"$T_DIR/victim")

# outside_untouched WHAT: nothing was written outside the job.
outside_untouched() {
    assert_eq "$1: nothing was created in the directory outside" "" "$(ls -A "$out")"
    assert_eq "$1: the victim file is unchanged" "$victim_sum" "$(sha256sum <"$T_DIR/victim")"
}
# refused WHAT REL: the last command's stderr names REL as a symbolic link it did not write through.
refused() {
    assert_file_contains "$1: the error names the link" \
        "'$2' in '$job' is a symbolic link: refusing to write through it" "$T_DIR/last.err"
}

job=$(new_job links)
gf run "$job"
assert_eq "the job runs to the end first" 0 "$GF_RC"

# an output directory replaced by a link to a directory outside
mv "$job/images" "$T_DIR/images.kept"
ln -s "$out" "$job/images"
gf rerun "$job" images
assert_eq "images -> outside: the stage fails" 1 "$GF_RC"
refused "images -> outside" images
assert_eq "images -> outside: every image item failed with that message" 8 \
    "$(jq -s '[.[] | select(.event == "item_failed" and .stage == "images") |
        select(.error.message | test("symbolic link: refusing to write through it"))] | length' \
        "$job/progress.jsonl")"
outside_untouched "images -> outside"
rm "$job/images"
mv "$T_DIR/images.kept" "$job/images"

mv "$job/audio" "$T_DIR/audio.kept"
ln -s "$out" "$job/audio"
gf rerun "$job" narration
assert_eq "audio -> elsewhere: the stage fails" 1 "$GF_RC"
refused "audio -> elsewhere" audio
outside_untouched "audio -> elsewhere"
rm "$job/audio"
mv "$T_DIR/audio.kept" "$job/audio"

# the lock and the log: the run cannot start
rm "$job/.gemflow/lock"
ln -s "$T_DIR/victim" "$job/.gemflow/lock"
gf run "$job"
assert_eq ".gemflow/lock -> victim: the run stops with exit 2" 2 "$GF_RC"
refused ".gemflow/lock -> victim" .gemflow/lock
outside_untouched ".gemflow/lock -> victim"
rm "$job/.gemflow/lock"

mv "$job/progress.jsonl" "$T_DIR/progress.kept"
ln -s "$T_DIR/victim" "$job/progress.jsonl"
gf run "$job"
assert_eq "progress.jsonl -> victim: the run stops with exit 2" 2 "$GF_RC"
refused "progress.jsonl -> victim" progress.jsonl
outside_untouched "progress.jsonl -> victim"
rm "$job/progress.jsonl"
mv "$T_DIR/progress.kept" "$job/progress.jsonl"

mv "$job/.gemflow" "$T_DIR/gemflow.kept"
ln -s "$out" "$job/.gemflow"
gf run "$job"
assert_eq ".gemflow -> outside: the run stops with exit 2" 2 "$GF_RC"
refused ".gemflow -> outside" .gemflow
outside_untouched ".gemflow -> outside"
rm "$job/.gemflow"
mv "$T_DIR/gemflow.kept" "$job/.gemflow"

# the call records' directory: the items are saved, their records are not written outside
mv "$job/.gemflow/calls" "$T_DIR/calls.kept"
ln -s "$out" "$job/.gemflow/calls"
gf run "$job"
assert_eq ".gemflow/calls -> outside: the failed items are done again" 0 "$GF_RC"
refused ".gemflow/calls -> outside" .gemflow/calls
outside_untouched ".gemflow/calls -> outside"
rm "$job/.gemflow/calls"
mv "$T_DIR/calls.kept" "$job/.gemflow/calls"

# files replaced by links: an atomic write replaces the link, never writes through it
rm "$job/manifest.json" "$job/subtitles.srt"
ln -s "$T_DIR/victim" "$job/manifest.json"
ln -s "$T_DIR/victim" "$job/subtitles.srt"
gf rerun "$job" video
assert_eq "manifest.json, subtitles.srt -> victim: the run succeeds" 0 "$GF_RC"
check "manifest.json is a regular file again" test -f "$job/manifest.json" -a ! -L "$job/manifest.json"
check "subtitles.srt is a regular file again" test -f "$job/subtitles.srt" -a ! -L "$job/subtitles.srt"
outside_untouched "manifest.json, subtitles.srt -> victim"
ln -s "$T_DIR/victim" "$job/report.html"
gf report "$job"
assert_eq "report.html -> victim: the report is written" 0 "$GF_RC"
check "report.html is a regular file" test -f "$job/report.html" -a ! -L "$job/report.html"
outside_untouched "report.html -> victim"

# the start-up sweep of temporary files does not follow a link out of the job
mkdir -p "$T_DIR/swept"
touch "$T_DIR/swept/.x.png.tmp-12345"
ln -s "$T_DIR/swept" "$job/junk"
gf run "$job"
assert_eq "a run with a linked directory inside succeeds" 0 "$GF_RC"
check "the sweep left the temporary-looking file outside alone" test -f "$T_DIR/swept/.x.png.tmp-12345"

# the job directory itself may be a link the user gave
ln -s "$job" "$T_DIR/job-link"
gf rerun "$T_DIR/job-link" images
assert_eq "a job given through a symbolic link runs" 0 "$GF_RC"
if [ -n "${GF_VERIFY:-}" ]; then
    check "the artifacts match the manifest (gf-verify)" "$GF_VERIFY" "$job"
fi
finish
