# watch_lib.sh: helpers for the watcher's end-to-end tests (t_watch*.sh). Source after lib.sh.
# Every wait is a poll for an event with a generous limit, never a measured time.

# one_stage_workflow FILE [PREFIX]: a one-stage text workflow, so that a job is one call whose
# prompt (in the fake's request log) is "PREFIX: <script>".
one_stage_workflow() {
    cat >"$1" <<EOF
version: 1
name: one-text
inputs:
  script: script.txt
defaults:
  model: gemini-3.8-flash
  retries: 2
stages:
  summary:
    kind: text
    prompt: "${2:-Summarize}: {{script}}"
    output: summary.txt
EOF
}

# watch_start NAME ARGS...: start `gemflow watch ARGS...` in the background; its stderr goes to
# $T_DIR/NAME.err. Sets W_PID.
watch_start() {
    local name=$1
    shift
    "$GEMFLOW" watch "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
    W_PID=$!
}

# wait_until SECONDS COMMAND...: wait_for (lib.sh) with COMMAND as its description.
wait_until() {
    local limit=$1
    shift
    wait_for "$*" "$limit" "$@"
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() {
    grep -qF -- "$2" "$1" 2>/dev/null
}

# run_state JOB: the state of the job's last run_end ("none" when it has none).
run_state() {
    if [ -f "$1/progress.jsonl" ]; then
        jq -rs 'map(select(.event == "run_end")) | last | .state // "none"' "$1/progress.jsonl" \
            2>/dev/null || echo none
    else
        echo none
    fi
}
job_done() {
    [ "$(run_state "$1")" = done ]
}
job_failed() {
    [ "$(run_state "$1")" = failed ]
}

# wait_exit PID SECONDS: wait for a background process to end; its exit status goes to W_RC
# (255 and a kill -9 when it did not end within SECONDS).
wait_exit() {
    if wait_until "$2" eval "! kill -0 $1 2>/dev/null"; then
        wait "$1" 2>/dev/null
        W_RC=$?
    else
        kill -9 "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        W_RC=255
    fi
}

# watch_stop PID: SIGTERM, then wait (exit status in W_RC).
watch_stop() {
    kill -TERM "$1" 2>/dev/null
    wait_exit "$1" 120
}

# count_lines FILE TEXT: how many lines of FILE contain TEXT.
count_lines() {
    local n
    n=$(grep -cF -- "$2" "$1" 2>/dev/null)
    echo "${n:-0}"
}

# attacker_start: a second fake server on its own port, standing for an endpoint a drop names;
# it must never receive a request. Sets ATTACK_URL, ATTACK_LOG, ATTACK_PID; stopped at exit.
attacker_start() {
    ATTACK_LOG="$T_DIR/attacker-requests.jsonl"
    local portfile="$T_DIR/attacker.port"
    "$FAKE_GEMINI" --port 0 --port-file "$portfile" --log "$ATTACK_LOG" --quiet \
        >"$T_DIR/attacker.out" 2>"$T_DIR/attacker.err" &
    ATTACK_PID=$!
    trap 'attacker_stop; t_cleanup' EXIT
    wait_until 30 test -s "$portfile" || { echo "the attacker's fake did not start" >&2; exit 1; }
    ATTACK_URL="http://127.0.0.1:$(cat "$portfile")"
}
attacker_stop() {
    if [ -n "${ATTACK_PID:-}" ]; then
        kill "$ATTACK_PID" 2>/dev/null
        wait "$ATTACK_PID" 2>/dev/null
        ATTACK_PID=""
    fi
}
# attacker_requests: how many requests reached the attacker's fake (0 when it logged none).
attacker_requests() {
    if [ -s "$ATTACK_LOG" ]; then wc -l <"$ATTACK_LOG"; else echo 0; fi
}

# run_error JOB: the message of the error its last run_end recorded ("" when none).
run_error() {
    jq -rs 'map(select(.event == "run_end")) | last | .error.message // ""' \
        "$1/progress.jsonl" 2>/dev/null
}
