#!/usr/bin/env bash
# Command-line contract: help, usage errors, no key, locked job, unknown job.
source "$(dirname "$0")/lib.sh"

gf --help
assert_eq "--help exits 0" 0 "$GF_RC"
assert_file_contains "--help lists run" "run " "$T_DIR/last.out"
gf help run
assert_eq "help run exits 0" 0 "$GF_RC"
assert_file_contains "help run shows usage" "usage: gemflow run" "$T_DIR/last.out"
gf run --help
assert_eq "run --help exits 0" 0 "$GF_RC"
gf frobnicate
assert_eq "unknown command exits 2" 2 "$GF_RC"
assert_file_contains "unknown command is named" "'frobnicate' is not a gemflow command" "$T_DIR/last.err"
gf run
assert_eq "run without a job exits 2" 2 "$GF_RC"
gf --version
assert_contains "--version prints the version" "gemflow " "$(cat "$T_DIR/last.out")"

# no key: exit 2 before anything else happens (no request, no file written)
fake_start
job=$(new_job nokey)
env -u GEMINI_API_KEY -u GOOGLE_API_KEY "$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "no key exits 2" 2 "$?"
assert_file_contains "no key says how to set it" "GEMINI_API_KEY" "$T_DIR/last.err"
assert_eq "no key makes no request" 0 "$(fake_count true)"
check "no key writes nothing into the job" test ! -e "$job/progress.jsonl" -a ! -e "$job/.gemflow"

# GOOGLE_API_KEY is accepted too
env -u GEMINI_API_KEY GOOGLE_API_KEY=other-key "$GEMFLOW" plan "$job" >/dev/null 2>&1
assert_eq "plan needs no key" 0 "$?"
assert_eq "with one, plan checks the models (free GETs) and pays for nothing" "0 3" \
    "$(fake_count) $(fake_count_all '.method == "GET"')"

# --api-key-file: refused when others can read it
echo "file-key" >"$T_DIR/key"
chmod 644 "$T_DIR/key"
gf run --api-key-file "$T_DIR/key" "$job"
assert_eq "world-readable key file exits 2" 2 "$GF_RC"
assert_file_contains "world-readable key file is explained" "chmod 600" "$T_DIR/last.err"

# a locked job: exit 4 naming the holder's pid
mkdir -p "$job/.gemflow"
# the holder keeps the lock until the run has ended, however slow it is (e.g. under valgrind)
flock "$job/.gemflow/lock" \
    -c "echo 424242 > '$job/.gemflow/lock'; until [ -e '$T_DIR/unlock' ]; do sleep 0.05; done" &
holder=$!
wait_for "the holder to take the lock" 300 grep -q 424242 "$job/.gemflow/lock"
gf run "$job"
assert_eq "locked job exits 4" 4 "$GF_RC"
assert_file_contains "locked job names the pid" "pid 424242" "$T_DIR/last.err"
touch "$T_DIR/unlock"
wait $holder

# not a directory
gf run "$T_DIR/does-not-exist"
assert_eq "missing job exits 2" 2 "$GF_RC"

# missing and invalid script
job2=$(new_job empty)
: >"$job2/script.txt"
gf run "$job2"
assert_eq "empty script exits 2" 2 "$GF_RC"
assert_file_contains "empty script is named" "is empty" "$T_DIR/last.err"
rm "$job2/script.txt"
gf run "$job2"
assert_file_contains "missing script is named" "script.txt' is missing" "$T_DIR/last.err"
printf 'ok line\n\xff\xfe binary\n' >"$job2/script.txt"
gf run "$job2"
assert_file_contains "non-UTF-8 script gives line:col" "script.txt:2:1" "$T_DIR/last.err"
assert_eq "bad inputs made no request (the 3 are plan's model checks)" 3 "$(fake_count_all true)"
finish
