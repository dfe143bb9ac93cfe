#!/usr/bin/env bash
# The API key is written nowhere: whole jobs with a canary key, with retries, failures, a
# rejected key and every reporting command, then a scan of every file in the job directories,
# everything gemflow printed, and /proc/<pid>/cmdline of a running gemflow: zero hits.
# FFmpeg (a stand-in first on PATH that records its environment, then runs the real one) gets
# no *_API_KEY variable. Key files that must be refused: a FIFO (without hanging), a symbolic
# link, group- or other-readable, another user's (as root: chown nobody), too large.
source "$(dirname "$0")/lib.sh"
CANARY="GFCANARY-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export GEMINI_API_KEY="$CANARY"
cat >"$T_DIR/faults.json" <<'JSON'
[{"model": "gemini-3.8-flash-tts", "kind": "503", "times": 2},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "429", "times": 1},
 {"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 3, "times": 1},
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
# the stand-in ffmpeg: its environment into $T_DIR/ffenv/, then the real one
real_ffmpeg=$(command -v ffmpeg)
mkdir -p "$T_DIR/fakebin" "$T_DIR/ffenv"
cat >"$T_DIR/fakebin/ffmpeg" <<SH
#!/bin/sh
env >"$T_DIR/ffenv/env.\$\$"
exec "$real_ffmpeg" "\$@"
SH
chmod +x "$T_DIR/fakebin/ffmpeg"
env -u GEMINI_API_KEY GOOGLE_API_KEY="$CANARY" OTHER_SERVICE_API_KEY="$CANARY" \
    GEMFLOW_TEST_MARK=passed-on PATH="$T_DIR/fakebin:$PATH" \
    "$GEMFLOW" run "${FAST[@]}" --api-key-file "$T_DIR/api.key" "$job2" >"$out/file.out" 2>"$out/file.err"
assert_eq "a job with the key from a file completes" 0 "$?"
check "the stand-in ffmpeg ran" test -n "$(ls -A "$T_DIR/ffenv")"
check "ffmpeg got the rest of the environment" grep -qx 'GEMFLOW_TEST_MARK=passed-on' "$T_DIR"/ffenv/env.*
assert_eq "ffmpeg got no *_API_KEY variable" "" "$(grep -h '^[A-Za-z0-9_]*_API_KEY=' "$T_DIR"/ffenv/env.* | cut -d= -f1 | sort -u | tr '\n' ' ')"
assert_eq "ffmpeg's environment holds no canary" 0 "$(grep -lF -- "$CANARY" "$T_DIR"/ffenv/env.* | wc -l)"
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

# key files that are refused, each with its reason and exit 2, none waiting for anything
keyjob=$(new_job keyfiles)
keycase() { # WHAT EXPECTED-MESSAGE KEYFILE
    timeout 20 env -u GEMINI_API_KEY "$GEMFLOW" run --api-key-file "$3" "$keyjob" \
        >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    assert_eq "$1: exits 2 (and does not hang)" 2 "$?"
    assert_file_contains "$1: says why" "$2" "$T_DIR/last.err"
    check "$1: nothing ran" test ! -e "$keyjob/progress.jsonl"
}
mkfifo "$T_DIR/key.fifo"
chmod 600 "$T_DIR/key.fifo"
keycase "a FIFO" "API key file '$T_DIR/key.fifo' is not a regular file" "$T_DIR/key.fifo"
ln -s "$T_DIR/api.key" "$T_DIR/key.link"
keycase "a symbolic link" "API key file '$T_DIR/key.link' is a symbolic link: refusing it" "$T_DIR/key.link"
cp "$T_DIR/api.key" "$T_DIR/key.group" && chmod 640 "$T_DIR/key.group"
keycase "group-readable" "can be read by other users (mode 0640); refusing to use it" "$T_DIR/key.group"
cp "$T_DIR/api.key" "$T_DIR/key.other" && chmod 604 "$T_DIR/key.other"
keycase "other-readable" "can be read by other users (mode 0604)" "$T_DIR/key.other"
{ printf '%s\n' "$CANARY"; head -c 2048 /dev/zero | tr '\0' x; } >"$T_DIR/key.big" && chmod 600 "$T_DIR/key.big"
keycase "too large" "API key file '$T_DIR/key.big' is too large to be a key file" "$T_DIR/key.big"
if [ "$(id -u)" = 0 ]; then
    cp "$T_DIR/api.key" "$T_DIR/key.nobody" && chmod 600 "$T_DIR/key.nobody"
    chown nobody "$T_DIR/key.nobody"
    keycase "another user's (0600, owned by nobody)" \
        "API key file '$T_DIR/key.nobody' belongs to uid $(id -u nobody), not to this user (uid 0)" \
        "$T_DIR/key.nobody"
else
    echo "# not root: the other-user case needs chown (skipped)"
fi

files=$(find "$job" "$job2" "$job3" "$out" -type f | wc -l)
hits=$(grep -rlF -- "$CANARY" "$job" "$job2" "$job3" "$out" "$keyjob" 2>/dev/null | grep -v "^$T_DIR/api.key$" | wc -l)
echo "# secrets: scanned $files files (job directories, stdout, stderr, $cmdlines cmdlines): $hits hits"
assert_eq "zero canary hits in every job file, output and cmdline" 0 "$hits"
# the scan itself can find the canary: it is in the key file
assert_eq "the scan finds the canary where it really is" 1 "$(grep -rlF -- "$CANARY" "$T_DIR/api.key" | wc -l)"
finish
