#!/usr/bin/env bash
# The API key is written nowhere: whole jobs with a canary key, with retries, failures, a
# rejected key and every reporting command, then a scan of every file in the job directories,
# everything gemflow printed, and /proc/<pid>/cmdline of a running gemflow: zero hits.
source "$(dirname "$0")/lib.sh"
CANARY="GFCANARY-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export GEMINI_API_KEY="$CANARY"
cat >"$T_DIR/faults.json" <<'JSON'
[{"model": "gemini-3.8-flash-tts", "kind": "503", "times": 2},
 {"model": "gemini-nano-banana-2.1", "kind": "429", "times": 1},
 {"model": "gemini-nano-banana-2.1", "kind": "400", "skip": 3, "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "truncated", "times": 1}]
JSON
fake_start --faults "$T_DIR/faults.json" --retry-delay 0.2s --latency-ms 200
out="$T_DIR/out"
mkdir -p "$out"

job=$(new_job secret)
"$GEMFLOW" run -v "${FAST[@]}" "$job" >"$out/run.out" 2>"$out/run.err" &
pid=$!
cmdlines=0
for _ in $(seq 1 50); do
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" >>"$out/cmdline.txt"
        echo >>"$out/cmdline.txt"
        cmdlines=$((cmdlines + 1))
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
wait $pid
assert_eq "the run with a failing item exits 1" 1 "$?"
check "the running process' cmdline was read ($cmdlines times)" test "$cmdlines" -gt 0
check "retries happened" test "$(events "$job/progress.jsonl" retry)" -ge 3

# the key from a file, and a key the server rejects (the error must not echo it)
printf '%s\n' "$CANARY" >"$T_DIR/api.key"
chmod 600 "$T_DIR/api.key"
job2=$(new_job keyfile)
env -u GEMINI_API_KEY "$GEMFLOW" run "${FAST[@]}" --api-key-file "$T_DIR/api.key" "$job2" >"$out/file.out" 2>"$out/file.err"
assert_eq "a job with the key from a file completes" 0 "$?"
fake_stop
fake_start --key "the-right-key"
job3=$(new_job rejected)
"$GEMFLOW" run "${FAST[@]}" "$job3" >"$out/rejected.out" 2>"$out/rejected.err"
assert_eq "a rejected key stops the run at the free model check (exit 2, nothing paid)" 2 "$?"
assert_file_contains "the user sees the API's words" "API key not valid" "$out/rejected.err"
fake_stop

for j in "$job" "$job2" "$job3"; do
    for cmd in status plan log inspect report; do
        case $cmd in
        inspect) args=(images) ;;
        *) args=() ;;
        esac
        "$GEMFLOW" $cmd "$j" "${args[@]}" >>"$out/$cmd.out" 2>>"$out/$cmd.err" || true
    done
    "$GEMFLOW" status --json "$j" >>"$out/status-json.out" 2>&1 || true
done

files=$(find "$job" "$job2" "$job3" "$out" -type f | wc -l)
hits=$(grep -rlF -- "$CANARY" "$job" "$job2" "$job3" "$out" 2>/dev/null | grep -v "^$T_DIR/api.key$" | wc -l)
echo "# secrets: scanned $files files (job directories, stdout, stderr, $cmdlines cmdlines): $hits hits"
assert_eq "zero canary hits in every job file, output and cmdline" 0 "$hits"
# the scan itself can find the canary: it is in the key file
assert_eq "the scan finds the canary where it really is" 1 "$(grep -rlF -- "$CANARY" "$T_DIR/api.key" | wc -l)"
finish
