#!/usr/bin/env bash
# A job directory gemflow cannot write (docs/bad-inputs.md, "The job directory"): read-only (a
# read-only bind mount as root, chmod otherwise, and the fsfault shim's EROFS in any case) and
# a full disk (the fsfault LD_PRELOAD shim: writes under the job fail with ENOSPC after N bytes;
# no test hook in gemflow). Each says what failed and where, exits 2 when nothing could start
# and 1 when a stage failed, keeps every finished artifact byte-identical, never leaves a torn
# or half-written file, and the next run with space again repeats no call whose result was
# recorded.
source "$(dirname "$0")/lib.sh"
FSFAULT=${FSFAULT:-$(dirname "$GEMFLOW")/tests/libfsfault.so}
[ -f "$FSFAULT" ] || { echo "not ok: no fsfault shim at $FSFAULT (build target fsfault)" >&2; exit 1; }
fake_start

# tree DIR: every file under DIR with its sha256.
tree() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# faulty ENV... -- ARGS...: gemflow ARGS (with the pacing overrides for run) under the shim.
faulty() {
    local env=()
    while [ "$1" != "--" ]; do
        env+=("$1")
        shift
    done
    shift
    local cmd=$1
    shift
    case $cmd in run | rerun) set -- "$cmd" "${FAST[@]}" "$@" ;; *) set -- "$cmd" "$@" ;; esac
    env "${env[@]}" LD_PRELOAD="$FSFAULT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
}
# verify JOB WHAT: gf-verify (independent of gemflow) finds every manifest entry intact and
# progress.jsonl all JSON; and no temporary file is left.
verify() {
    if [ -n "${GF_VERIFY:-}" ]; then
        check "$2: artifacts match the manifest (gf-verify)" "$GF_VERIFY" "$1"
    fi
    check "$2: every progress.jsonl line is JSON" jq -e . "$1/progress.jsonl" >/dev/null
    assert_eq "$2: no temporary file left" "" "$(find "$1" -name '.*.tmp-*')"
}
# recorded_ok JOB WHAT: every output an item_done records exists with its size and sha256.
recorded_ok() {
    local sums bad=""
    sums=$(jq -r 'select(.event == "item_done") | .outputs[] | "\(.sha256)  \(.path)"' \
        "$1/progress.jsonl")
    [ -z "$sums" ] || bad=$(cd "$1" && printf '%s\n' "$sums" | sha256sum --quiet -c - 2>&1)
    assert_eq "$2: every recorded output is on disk as recorded" "" "$bad"
}

# small_job NAME: a new job of three scenes (cheap to run many times).
small_job() {
    local dir
    dir=$(new_job "$1")
    cat >"$dir/script.txt" <<'EOF'
The Last Keeper of Gull Point

SCENE 1 — DAWN OVER THE POINT
For one hundred and twelve years a light has turned on Gull Point.

SCENE 2 — THE STORM
A fishing boat, late and low in the water, runs for the harbour.

SCENE 3 — THE LAST NIGHT
Elias switches off the light and goes down the ninety-one steps.
EOF
    echo "$dir"
}

base=$(small_job base)
gf run "$base"
assert_eq "the finished job runs" 0 "$GF_RC"
base_sum=$(tree "$base")
SCENES=$(jq '.scenes | length' "$base/analysis.json")
assert_eq "it has three scenes" 3 "$SCENES"
# what gemflow itself leaves on disk after a whole run (a run writes more: call records are
# rewritten, events appended); the video and its segments are written by FFmpeg, a process of
# its own
JOB_BYTES=$(find "$base" -type f ! -name 'video.mp4' ! -name '.*' ! -path '*/.gemflow/segments/*' -printf '%s\n' |
    awk '{ s += $1 } END { print s }')

# --- read-only -----------------------------------------------------------------------------
# The strongest way this machine allows: root ignores permissions, so root uses a read-only
# bind mount in a private mount namespace; others use chmod.
if [ "$(id -u)" != 0 ]; then
    RO_HOW=chmod
elif unshare -m sh -c "mount --bind '$T_DIR' '$T_DIR' && mount -o remount,ro,bind '$T_DIR' '$T_DIR'" 2>/dev/null; then
    RO_HOW=mount
else
    RO_HOW=shim
fi
echo "# read-only job directories by: $RO_HOW (and the shim)"
# ro_gf HOW DIR ARGS...: gemflow ARGS with DIR read-only.
ro_gf() {
    local how=$1 dir=$2
    shift 2
    case $how in
    chmod)
        chmod -R a-w "$dir"
        "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
        GF_RC=$?
        chmod -R u+w "$dir"
        ;;
    mount)
        unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"' \
            sh "$dir" "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
        GF_RC=$?
        ;;
    shim) faulty FSFAULT_DIR="$dir" FSFAULT_EROFS=1 -- "$@" ;;
    esac
}

for how in "$RO_HOW" shim; do
    job="$T_DIR/ro-$how"
    cp -a "$base" "$job"
    requests=$(fake_count true)
    ro_gf "$how" "$job" run "${FAST[@]}" "$job"
    assert_eq "read-only ($how) finished job: run exits 2" 2 "$GF_RC"
    assert_file_contains "read-only ($how): says gemflow must write into the job" \
        "gemflow must be able to write into the job directory '$job'" "$T_DIR/last.err"
    assert_file_contains "read-only ($how): names the file" "$job/.gemflow" "$T_DIR/last.err"
    ro_gf "$how" "$job" rerun "${FAST[@]}" "$job" images
    assert_eq "read-only ($how): rerun exits 2" 2 "$GF_RC"
    ro_gf "$how" "$job" plan "$job"
    assert_eq "read-only ($how): plan works" 0 "$GF_RC"
    ro_gf "$how" "$job" status "$job"
    assert_eq "read-only ($how): status works" 0 "$GF_RC"
    assert_eq "read-only ($how): no request" "$requests" "$(fake_count true)"
    assert_eq "read-only ($how): the job is byte-identical" "$base_sum" "$(tree "$job")"

    fresh=$(small_job "ro-fresh-$how")
    ro_gf "$how" "$fresh" run "${FAST[@]}" "$fresh"
    assert_eq "read-only ($how) new job: run exits 2" 2 "$GF_RC"
    assert_file_contains "read-only ($how) new job: explained" "cannot create directory '$fresh/.gemflow'" "$T_DIR/last.err"
    check "read-only ($how) new job: nothing created" test ! -e "$fresh/.gemflow" -a ! -e "$fresh/progress.jsonl"
    assert_eq "read-only ($how) new job: no request" "$requests" "$(fake_count true)"
done

# --- disk full -------------------------------------------------------------------------------
# Nothing can be written at all: the lock's pid cannot be written, nothing starts (exit 2).
job=$(small_job full-at-start)
requests=$(fake_count true)
faulty FSFAULT_DIR="$job" FSFAULT_ENOSPC_AFTER=0 -- run "$job"
assert_eq "disk full at start: exit 2" 2 "$GF_RC"
assert_file_contains "disk full at start: explained" "No space left on device" "$T_DIR/last.err"
assert_file_contains "disk full at start: names the file" "$job/.gemflow/lock" "$T_DIR/last.err"
assert_eq "disk full at start: no request" "$requests" "$(fake_count true)"

# The disk fills up part way through a run, at several points: the run fails (exit 1) naming
# the file it could not write; what was recorded is intact; the next run with space calls
# exactly the items not recorded as done.
CHARS=$(jq '.characters | length' "$base/analysis.json")
# analysis, prompts, a portrait per character, an image and a narration per scene
API_ITEMS=$((2 + CHARS + 2 * SCENES))
for permille in 2 20 250 500 800; do
    budget=$((JOB_BYTES * permille / 1000))
    job=$(small_job "full-$budget")
    requests=$(fake_count true)
    faulty FSFAULT_DIR="$job" FSFAULT_ENOSPC_AFTER=$budget -- run "$job"
    made=$(($(fake_count true) - requests))
    assert_eq "disk full after $budget bytes: exit 1" 1 "$GF_RC"
    assert_file_contains "disk full after $budget bytes: says so" "No space left on device" "$T_DIR/last.err"
    check "disk full after $budget bytes: names a file of the job" \
        grep -qE "(cannot write|cannot append to|cannot fsync|cannot create) '[^']*'" "$T_DIR/last.err"
    check "disk full after $budget bytes: every progress.jsonl line is JSON" jq -e . "$job/progress.jsonl" >/dev/null
    recorded_ok "$job" "disk full after $budget bytes"
    done_api=$(jq -s '[.[] | select(.event == "item_done" and .stage != "video") | "\(.stage)/\(.item)"] | unique | length' "$job/progress.jsonl")
    requests=$(fake_count true)
    gf run "$job"
    assert_eq "disk full after $budget bytes: the next run completes" 0 "$GF_RC"
    again=$(($(fake_count true) - requests))
    assert_eq "disk full after $budget bytes: it calls only what was not recorded" \
        $((API_ITEMS - done_api)) "$again"
    echo "# disk full after $budget bytes: $made calls made, $done_api recorded, $again made again"
    verify "$job" "disk full after $budget bytes, then space"
done

# A rerun of a finished job on a full disk: the new images cannot be written, the old ones stay
# byte-identical (atomic replace), the log stays clean; with space again the rerun completes.
job="$T_DIR/full-rerun"
cp -a "$base" "$job"
faulty FSFAULT_DIR="$job" FSFAULT_ENOSPC_AFTER=6000 -- rerun "$job" images
assert_eq "disk full during rerun: exit 1" 1 "$GF_RC"
assert_file_contains "disk full during rerun: names an image" "images/" "$T_DIR/last.err"
for f in "$base"/images/*.jpg; do
    check "disk full during rerun: $(basename "$f") unchanged" cmp -s "$f" "$job/images/$(basename "$f")"
done
check "disk full during rerun: every progress.jsonl line is JSON" jq -e . "$job/progress.jsonl" >/dev/null
assert_eq "disk full during rerun: no temporary file left" "" "$(find "$job" -name '.*.tmp-*')"
gf rerun "$job" images
assert_eq "disk full during rerun: with space the rerun completes" 0 "$GF_RC"
verify "$job" "disk full during rerun, then space"
finish
