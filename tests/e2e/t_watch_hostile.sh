#!/usr/bin/env bash
# gemflow watch over the adversarial drops of tests/data/drops (see its README): each drop is
# refused, fails with its reason, or runs as far as --allow-job-workflows allows; a second fake
# server stands for the endpoint drops name and never receives a request; nothing from outside
# a job is sent; good drops dropped alongside run; a drop whose reading never ends (the stall
# shim) keeps neither other drops nor SIGTERM waiting; the job is the watcher's copy, out of
# reach of a dropper who kept descriptors. Then a restart: jobs that failed to load are left
# alone, the abandoned claim is finished, and a failed job whose files were fixed runs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
CORPUS=$SRC_DIR/tests/data/drops
STALL=${STALL:-$(dirname "$GEMFLOW")/tests/libstall.so}
[ -f "$STALL" ] || { echo "not ok: no stall shim at $STALL (build target stall)" >&2; exit 1; }
export GEMINI_API_KEY="GFCANARY-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
fake_start --model gemini-3.5-pro:text # the model drops switch to, served whatever the catalogue
attacker_start
unset GEMINI_BASE_URL # every job's endpoint is the operator's workflow's
outside=$T_DIR/outside
stage=$T_DIR/stage # drops are made here, then moved in whole
mkdir -p "$outside" "$stage"
echo "SECRET-PROMPT from outside the job: {{script}}" >"$outside/secret.md"
echo '{"type": "object", "description": "SECRET-SCHEMA", "properties": {"x": {"type": "string"}}}' \
    >"$outside/secret-schema.json"
echo "SECRET-KEYFILE" >"$outside/keyfile"
ops=$T_DIR/ops.yaml
one_stage_workflow "$ops"
echo "endpoint: $FAKE_URL" >>"$ops"

inbox() { echo "$T_DIR/inbox-$1"; }
jobs() { echo "$T_DIR/jobs-$1"; }
for m in set full none; do mkdir -p "$(inbox $m)" "$(jobs $m)"; done

# the set watcher reads drops through the stall shim: opening slow-open's script never ends
start_set_watcher() {
    env LD_PRELOAD="$STALL" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        STALL_MATCH="+slow-open/drop/script.txt" STALL_NOTE="$T_DIR/stalled" \
        "$GEMFLOW" watch -j 4 --grace 5s --workflow "$ops" "$(inbox set)" --jobs "$(jobs set)" \
        >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" &
    W_PID=$!
}
start_set_watcher set
wset=$W_PID
watch_start full -j 4 --allow-job-workflows full --workflow "$ops" "$(inbox full)" --jobs "$(jobs full)"
wfull=$W_PID
watch_start none -j 4 --allow-job-workflows none --workflow "$ops" "$(inbox none)" --jobs "$(jobs none)"
wnone=$W_PID
for m in set full none; do
    check "the $m watcher is up" wait_until 60 has "$T_DIR/$m.err" "watching"
done
assert_file_contains "the watcher says where requests go" "requests go to '$FAKE_URL'" "$T_DIR/set.err"

# --- the drops the test makes (see each case's `generate`)
entry_name() {
    case $1 in
    fifo-top) echo "fifo-top.txt" ;;
    control-name) printf 'evil\033[31m\a' ;;
    dotdot-name) echo "..evil" ;;
    *) echo "$1" ;;
    esac
}
held_pid=""
generate() { # CASE DIR: make the drop of CASE at DIR (in $stage), or directly in the inbox
    local c=$1 d=$2 mode=$3
    case $c in
    fifo-top)
        mkfifo "$(inbox "$mode")/fifo-top.txt"
        return 1 # made in place: nothing to move
        ;;
    esac
    mkdir -p "$d"
    echo "a script for $c" >"$d/script.txt"
    case $c in
    symlink-inside) ln -s "$outside/secret.md" "$d/notes.md" ;;
    fifo-inside) mkfifo "$d/notes.txt" ;;
    hardlink) rm "$d/script.txt" && ln "$outside/keyfile" "$d/script.txt" ;;
    huge-workflow)
        { printf 'version: 1\nuse: one-text\n'; yes '# padding padding padding padding padding' |
            head -c $((20 * 1024 * 1024)); } >"$d/workflow.yaml"
        ;;
    stages-100k)
        { printf 'version: 1\ninputs: {script: script.txt}\ndefaults: {model: gemini-3.5-flash}\nstages:\n'
            seq 1 100000 | awk '{printf "  s%d: {kind: text, prompt: \"x {{script}}\", output: o%d.txt}\n", $1, $1}'
        } >"$d/workflow.yaml"
        ;;
    held-open)
        echo "original text" >"$d/script.txt"
        exec 9<>"$d/script.txt" # the dropper keeps it open for writing
        # ...and keeps the directory as its working directory, to plant a link once it ran
        (cd "$d" && wait_until 120 job_done "$(jobs set)/held-open" &&
            ln -s "$outside/secret.md" planted.md 2>/dev/null
            : >"$T_DIR/holder.done") &
        held_pid=$!
        ;;
    esac
    return 0
}

# --- drop every case, the one that stalls first
cases=(slow-open)
for d in "$CORPUS"/*/; do
    c=$(basename "$d")
    [ "$c" = slow-open ] || cases+=("$c")
done
declare -A mode_of expect_of
for c in "${cases[@]}"; do
    line=$(head -n1 "$CORPUS/$c/expect")
    line=${line//@OUTSIDE@/$outside}
    mode_of[$c]=${line%% *}
    expect_of[$c]=${line#* }
    name=$(entry_name "$c")
    dst=$stage/$name
    if [ -d "$CORPUS/$c/drop" ]; then
        cp -r "$CORPUS/$c/drop" "$dst"
        find "$dst" -type f -exec sed -i -e "s|@ATTACKER@|$ATTACK_URL|g" -e "s|@OUTSIDE@|$outside|g" {} +
    elif ! generate "$c" "$dst" "${mode_of[$c]}"; then
        continue
    fi
    mv "$dst" "$(inbox "${mode_of[$c]}")/"
    if [ "$c" = slow-open ]; then
        check "slow-open: reading it stalls (the shim holds it)" wait_until 60 test -s "$T_DIR/stalled"
    fi
done

# --- check every expectation
# verdict CASE DESCRIPTION COMMAND...: one check of a case's expectation
verdict() {
    local c=$1 what=$2
    shift 2
    if "$@"; then
        ok "$c: $what"
    else
        fail "$c: $what"
    fi
}
job_dir_of() { echo "$(jobs "${mode_of[$1]}")/$1"; }
sent_prompt() { # TEXT: the fake received exactly this prompt (the script's newline added)
    [ "$(jq -s --arg p "$1"$'\n' '[.[] | select(.prompt == $p)] | length' "$FAKE_LOG")" -ge 1 ]
}
error_has() { run_error "$1" | grep -qF -- "$2"; }
job_ended() { [ "$(run_state "$1")" != none ]; }
# settled WHY DIR: the drop was refused (its .why is written) or its job ended
settled() { [ -f "$1" ] || job_ended "$2"; }
for c in "${cases[@]}"; do
    e=${expect_of[$c]}
    outcome=${e%%:*}
    text=""
    case $e in *:*) text=${e#*: } ;; esac
    mode=${mode_of[$c]}
    name=$(entry_name "$c")
    dir=$(job_dir_of "$c")
    why="$(inbox "$mode")/.rejected/$name.why"
    case $outcome in refused | failed | done) wait_until 120 settled "$why" "$dir" ;; esac
    case $outcome in
    refused)
        verdict "$c" "refused into .rejected/" test -f "$why"
        verdict "$c" "...saying: $text" grep -qF -- "$text" "$why"
        verdict "$c" "...and no job" test ! -e "$dir"
        ;;
    failed)
        verdict "$c" "a failed job" job_failed "$dir"
        [ -n "$text" ] && verdict "$c" "...saying: $text" error_has "$dir" "$text"
        verdict "$c" "...that called nothing" test "$(count_lines "$dir/progress.jsonl" call_start)" = 0
        ;;
    done)
        verdict "$c" "done" job_done "$dir"
        verdict "$c" "...sending: $text" sent_prompt "$text"
        ;;
    esac
done

# held-open: what the dropper did with what it kept reaches the original only
check "held-open: the holder ran" wait_until 120 test -f "$T_DIR/holder.done"
printf 'EVIL' >&9
exec 9>&-
assert_eq "held-open: a write through the kept descriptor leaves the job's script alone" \
    "original text" "$(cat "$(jobs set)/held-open/script.txt")"
check "held-open: a link planted from the kept working directory is not in the job" \
    test ! -e "$(jobs set)/held-open/planted.md" -a ! -L "$(jobs set)/held-open/planted.md"
check "held-open: the job's script is no hard link to the original" \
    test "$(stat -c %h "$(jobs set)/held-open/script.txt")" = 1

# the watchers went on: ignored names stay, and a drop made now still runs
for m in set full none; do
    echo "late $m" >"$stage/late-$m.txt"
    mv "$stage/late-$m.txt" "$(inbox $m)/"
    check "the $m watcher still claims drops (one stalls)" wait_until 120 job_done "$(jobs $m)/late-$m"
done
check "dotdot-name: a '..' name is left in the inbox" test -d "$(inbox set)/..evil"
check "dotdot-name: ...and is no job" test -z "$(find "$(jobs set)" -maxdepth 1 -name '*evil*')"
assert_file_contains "control-name: the log shows the name escaped" 'evil\x1b[31m\x07' "$T_DIR/set.err"
check "control-name: no escape sequence reaches the log" test "$(grep -c $'\033' "$T_DIR/set.err")" = 0

assert_eq "no request ever reached the endpoint drops named" 0 "$(attacker_requests)"
assert_eq "no secret from outside a job was sent" 0 \
    "$(fake_count '.prompt != null and (.prompt | contains("SECRET"))')"
assert_eq "every request carried the key (to the operator's endpoint only)" 0 \
    "$(fake_count '.key_present != true')"

# --- SIGTERM while a drop is being read: the watcher does not wait for it
kill -TERM "$wset"
wait_exit "$wset" 60
assert_eq "SIGTERM ends the watcher though a drop is still being read (exit 3)" 3 "$W_RC"
assert_file_contains "...saying it abandons that one" "abandoning 1 job still being claimed or opened" \
    "$T_DIR/set.err"
check "...whose claim is kept for the next start" \
    test -n "$(find "$(jobs set)" -maxdepth 1 -name '.gfclaim*slow-open')"
watch_stop "$wfull"
assert_eq "the full watcher stops (exit 3)" 3 "$W_RC"
watch_stop "$wnone"
assert_eq "the none watcher stops (exit 3)" 3 "$W_RC"

# --- a restart: failed jobs are left alone until their files change
failed_set=()
for c in "${cases[@]}"; do
    [ "${mode_of[$c]}" = set ] && [ -f "$(job_dir_of "$c")/progress.jsonl" ] && job_failed "$(job_dir_of "$c")" &&
        failed_set+=("$c")
done
check "some set drops failed to load" test "${#failed_set[@]}" -ge 5
# a job made from a drop loads for every command as its watcher loaded it (the drop marker)
"$GEMFLOW" status "$(jobs set)/concurrency-set" >"$T_DIR/status.out" 2>"$T_DIR/status.err"
assert_file_contains "gemflow status shows why a drop failed" \
    "'limits.concurrency' cannot be set by a dropped job" "$T_DIR/status.err"
"$GEMFLOW" status --json --jobs "$(jobs set)" >"$T_DIR/status.json" 2>/dev/null
st() { jq -r --arg j "$(jobs set)/$1" '.jobs[] | select(.job == $j) | .'"$2" "$T_DIR/status.json"; }
assert_contains "...and status --json, with the diagnostics" \
    "workflow.yaml:4:3: 'limits.concurrency' cannot be set by a dropped job" "$(st concurrency-set error)"
assert_eq "a job made from a drop that ran is done for status too" done "$(st good-set state)"
"$GEMFLOW" run "$(jobs set)/endpoint-use-set" >"$T_DIR/run.out" 2>"$T_DIR/run.err"
assert_eq "gemflow run by hand on a drop that named an endpoint: the same refusal (exit 2)" 2 "$?"
assert_file_contains "...saying why" "'endpoint' cannot be set by a dropped job" "$T_DIR/run.err"

watch_start set2 -j 4 --grace 5s --workflow "$ops" "$(inbox set)" --jobs "$(jobs set)"
w2=$W_PID
check "the restarted watcher finishes the abandoned claim" wait_until 120 job_done "$(jobs set)/slow-open"
check "...and leaves no claim behind" test -z "$(find "$(jobs set)" -maxdepth 1 -name '.gfclaim*')"
for c in "${failed_set[@]}"; do
    assert_eq "$c: not loaded again at the restart" 1 "$(events "$(job_dir_of "$c")/progress.jsonl" run_start)"
done
check "...nor said to be resumed" test "$(count_lines "$T_DIR/set2.err" "resuming job")" = 0
watch_stop "$w2"

# fixed by hand: what decided the failure changed, so the next start tries it again
printf 'version: 1\nuse: one-text\nset:\n  summary.prompt: "Fixed: {{script}}"\n' \
    >"$(jobs set)/concurrency-set/workflow.yaml"
watch_start set3 -j 4 --grace 5s --workflow "$ops" "$(inbox set)" --jobs "$(jobs set)"
w3=$W_PID
check "a failed job whose workflow was fixed runs at the next start" \
    wait_until 120 job_done "$(jobs set)/concurrency-set"
assert_file_contains "...saying why it is tried again" "concurrency-set' failed to load, and its files" \
    "$T_DIR/set3.err"
check "...with the fixed prompt" sent_prompt "Fixed: a script for concurrency-set"
for c in "${failed_set[@]}"; do
    [ "$c" = concurrency-set ] && continue
    assert_eq "$c: still left alone" 1 "$(events "$(job_dir_of "$c")/progress.jsonl" run_start)"
done
watch_stop "$w3"
[ -n "$held_pid" ] && wait "$held_pid" 2>/dev/null
assert_eq "still no request to the endpoint drops named" 0 "$(attacker_requests)"
assert_eq "the key is written nowhere (logs, jobs, rejected drops, claims)" "" \
    "$(grep -rlaF -- "$GEMINI_API_KEY" "$T_DIR" 2>/dev/null)"
finish
