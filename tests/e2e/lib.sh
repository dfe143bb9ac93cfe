# lib.sh: helpers for end-to-end tests. Source it first thing in a tests/e2e/t_*.sh script.
# Environment (set by CTest, or by hand): GEMFLOW, FAKE_GEMINI (binaries), SRC_DIR (source tree).
set -u
: "${SRC_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${GEMFLOW:=$SRC_DIR/build/gemflow}"
: "${FAKE_GEMINI:=$SRC_DIR/build/tests/fake-gemini}"
export GEMFLOW_WORKFLOWS="${GEMFLOW_WORKFLOWS:-$SRC_DIR/workflows}"

T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gemflow-$T_NAME.XXXXXX")
T_FAILS=0
T_CHECKS=0
# Each test has a quota directory of its own (the shared API quota, runner/quota.h), so that
# what one test's fake taught is not another's, and no test writes to the user's state.
export GEMFLOW_QUOTA_DIR="$T_DIR/quota"
unset GEMFLOW_MINUTE_MS
FAKE_PID=""

t_cleanup() {
    fake_stop
    if [ "$T_FAILS" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then
        rm -rf "$T_DIR"
    else
        echo "# kept $T_DIR" >&2
    fi
}
trap t_cleanup EXIT

# fail MESSAGE: record a failed check and go on.
fail() {
    T_FAILS=$((T_FAILS + 1))
    echo "not ok: $*" >&2
}
# ok MESSAGE: record a passed check.
ok() {
    T_CHECKS=$((T_CHECKS + 1))
    echo "ok: $*"
}
# check DESCRIPTION COMMAND...: run COMMAND, pass when it exits 0.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
# assert_eq DESCRIPTION EXPECTED ACTUAL
assert_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
# assert_contains DESCRIPTION NEEDLE HAYSTACK
assert_contains() {
    case "$3" in
    *"$2"*) ok "$1" ;;
    *) fail "$1: '$2' not found in: $3" ;;
    esac
}
# assert_file_contains DESCRIPTION NEEDLE FILE
assert_file_contains() {
    if grep -qF -- "$2" "$3" 2>/dev/null; then ok "$1"; else fail "$1: '$2' not in $3"; fi
}
# finish: print a summary and exit 1 when any check failed (or none ran).
finish() {
    if [ "$T_CHECKS" -eq 0 ] && [ "$T_FAILS" -eq 0 ]; then
        echo "not ok: no checks ran" >&2
        exit 1
    fi
    echo "# $T_NAME: $T_CHECKS passed, $T_FAILS failed"
    [ "$T_FAILS" -eq 0 ]
    exit $?
}

# fake_start [fake-gemini options...]: start the fake server on a free port (or $FAKE_PORT)
# with a request log (appended to across restarts). Sets FAKE_URL, FAKE_LOG, FAKE_PID.
fake_start() {
    fake_stop # one fake at a time: a second start replaces the first
    FAKE_LOG="$T_DIR/fake-requests.jsonl"
    local portfile="$T_DIR/fake.port"
    rm -f "$portfile"
    "$FAKE_GEMINI" --port "${FAKE_PORT:-0}" --port-file "$portfile" --log "$FAKE_LOG" --quiet "$@" \
        >"$T_DIR/fake.out" 2>"$T_DIR/fake.err" &
    FAKE_PID=$!
    if ! wait_for "the fake server to write its port" 60 test -s "$portfile"; then
        cat "$T_DIR/fake.err" >&2
        exit 1
    fi
    FAKE_URL="http://127.0.0.1:$(cat "$portfile")"
    export GEMINI_BASE_URL="$FAKE_URL"
}
# fake_restart [options...]: a new fake with other options on the same port, so that the
# request keys (they hold the endpoint's origin) stay the same.
fake_restart() {
    local port=${FAKE_URL##*:}
    FAKE_PORT=$port fake_start "$@"
}
# wait_for DESCRIPTION SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds (0), or
# until SECONDS of wall clock have passed: then say what was waited for, and return 1. The
# bound is generous on purpose: a busy machine makes a test slower, never wrong.
wait_for() {
    local what=$1 limit=$2
    shift 2
    local end=$((SECONDS + limit))
    while ! "$@"; do
        if [ "$SECONDS" -ge "$end" ]; then
            echo "# timed out after ${limit}s waiting for $what" >&2
            return 1
        fi
        sleep 0.05
    done
    return 0
}
# fake_settle: wait until the fake has logged every request it received (it logs a request when
# it ends; a call cut off by a kill ends a moment later).
fake_settle() {
    wait_for "the fake to log every request it received" 60 \
        eval '[ "$(curl -s "$FAKE_URL/_fake/stats" | jq .open)" = 0 ]'
}
fake_stop() {
    if [ -n "$FAKE_PID" ]; then
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=""
    fi
}
# fake_count [jq filter]: number of logged paid calls (POST: generateContent, predict, ...)
# matching a jq select() condition. The free model checks (GET models.get/list) a run makes
# before paying are left out; fake_count_all counts every logged request.
fake_count() {
    local cond=${1:-true}
    [ -f "$FAKE_LOG" ] || { echo 0; return; }
    jq -s "[.[] | select(.method == \"POST\") | select($cond)] | length" "$FAKE_LOG"
}
fake_count_all() {
    local cond=${1:-true}
    [ -f "$FAKE_LOG" ] || { echo 0; return; }
    jq -s "[.[] | select($cond)] | length" "$FAKE_LOG"
}

# bench_wf NAME: the path of bench/workflows/NAME.yaml copied with the bundled prompts/ and
# schemas/ beside it (a workflow reads its files from its own directory only).
bench_wf() {
    mkdir -p "$T_DIR/wf"
    cp "$SRC_DIR/bench/workflows/$1.yaml" "$T_DIR/wf/"
    [ -d "$T_DIR/wf/prompts" ] || cp -r "$SRC_DIR/workflows/prompts" "$SRC_DIR/workflows/schemas" "$T_DIR/wf/"
    echo "$T_DIR/wf/$1.yaml"
}
# new_job NAME [SAMPLE]: copy a sample job (default lighthouse) to $T_DIR/NAME; prints the path.
new_job() {
    local dir="$T_DIR/$1"
    rm -rf "$dir"
    cp -r "$SRC_DIR/samples/${2:-lighthouse}" "$dir"
    echo "$dir"
}
# gf ARGS...: run gemflow with a test key; stdout/stderr go to $T_DIR/last.out / last.err,
# the exit status to $GF_RC (and as the return value).
export GEMINI_API_KEY="${GEMINI_API_KEY:-test-key-e2e}"
# The bundled workflow sets no rpm (the server's 429s pace it), so nothing needs lifting; the
# array stays for tests that pass "${FAST_RPM[@]}" with a workflow of their own.
FAST_RPM=()
# Its last stage encodes a 1080p video with FFmpeg; FAST_VIDEO makes that a small, quick encode
# (still real). FAST (both) needs a workflow with a 'video' stage (others refuse --set video.*):
# pass FAST_RPM alone with such a workflow, as gf does with --workflow. A test about the video
# itself passes its own video settings.
FAST_VIDEO=(--set video.resolution=320x180 --set video.fps=10 --set video.preset=ultrafast)
FAST=("${FAST_RPM[@]}" "${FAST_VIDEO[@]}")
gf() {
    local cmd=$1
    shift
    case "$cmd" in
    run | rerun)
        case " $* " in
        *" --workflow "*) set -- "$cmd" "${FAST_RPM[@]}" "$@" ;; # maybe no video stage
        *) set -- "$cmd" "${FAST[@]}" "$@" ;;
        esac
        ;;
    *) set -- "$cmd" "$@" ;;
    esac
    "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
    return $GF_RC
}
# png_size FILE: "WIDTHxHEIGHT" of an image (PNG, JPEG, WebP) as decoded by ffprobe (independent
# of gemflow's own checks).
png_size() {
    ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$1"
}
# wav_frames FILE: the number of audio samples per channel as decoded by ffprobe.
wav_frames() {
    ffprobe -v error -count_packets -select_streams a:0 -show_entries stream=duration_ts \
        -of csv=p=0 "$1"
}
# api_items JOB: the API calls a whole run of the bundled workflow makes for JOB, from its
# analysis.json: the analysis, the prompts, a portrait per character, an image and a narration
# per scene (the video is no call). Its artifacts are these and video.mp4 and subtitles.srt.
api_items() {
    jq '2 + (.characters | length) + 2 * (.scenes | length)' "$1/analysis.json"
}
# events FILE NAME: number of events NAME in a progress log
events() {
    jq -s --arg e "$2" '[.[] | select(.event == $e)] | length' "$1"
}
# rate_figures WHAT LIMIT JSON: print a test's figures from tests/tools/fake-rate.sh's JSON as
# one "# figures:" line (test.sh prints these lines of every test after ctest, passed or not):
# requests per fake minute against the limit, the most in any one minute, 429s, repeats.
rate_figures() {
    jq -r --arg what "$1" --argjson lim "$2" '"# figures: \($what): \(.rate) requests per minute of the limit \($lim) (\(if $lim > 0 then (.rate / $lim * 1000 | round / 10) else 0 end) %), at most \(.max_window) in any minute; \(.n429) x 429; \(.repeats) repeated requests; \(.ok) answered over \(.minutes) minutes"' <<<"$3"
}
