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
