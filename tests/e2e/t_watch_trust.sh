#!/usr/bin/env bash
# gemflow watch --allow-job-workflows: a dropped workflow.yaml never chooses the endpoint (a
# second fake stands for the one a drop names, and never sees a request); `set` (the default)
# lets a drop change content fields of the operator's workflow and nothing else, `full` runs a
# drop's whole workflow minus the endpoint, `none` refuses drops that bring one. The operator's
# --workflow (whose endpoint is the real fake here: no --endpoint, no $GEMINI_BASE_URL) is what
# drops build on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/watch_lib.sh"
fake_start --model gemini-3.5-pro:text # the model drops switch to, served whatever the catalogue
attacker_start
unset GEMINI_BASE_URL # the endpoint comes from the operator's workflow alone
out=$T_DIR/outside
mkdir -p "$out"
ops=$T_DIR/ops.yaml
one_stage_workflow "$ops"
echo "endpoint: $FAKE_URL" >>"$ops"

# drop INBOX NAME WORKFLOW: move a directory NAME with a script and the given workflow.yaml in
drop() {
    mkdir -p "$out/$2"
    echo "script of $2" >"$out/$2/script.txt"
    [ -n "$3" ] && printf '%s\n' "$3" >"$out/$2/workflow.yaml"
    mv "$out/$2" "$1/"
}
whole() { # a whole workflow with prompt prefix $1 and extra top-level lines $2
    printf 'version: 1\n%binputs: {script: script.txt}\ndefaults: {model: gemini-3.5-flash}\nstages:\n  summary: {kind: text, prompt: "%s: {{script}}", output: summary.txt}\n' "${2:-}" "$1"
}

gf watch --allow-job-workflows some "$T_DIR" --jobs "$T_DIR"
assert_eq "a bad --allow-job-workflows exits 2" 2 "$GF_RC"
assert_file_contains "...naming the words" "none, set or full" "$T_DIR/last.err"

# --- set (the default)
inbox=$T_DIR/inbox-set
jobs=$T_DIR/jobs-set
mkdir -p "$inbox" "$jobs"
watch_start set --workflow "$ops" "$inbox" --jobs "$jobs"
wait_until 60 has "$T_DIR/set.err" "watching"
drop "$inbox" whole-endpoint "$(whole Evil "endpoint: $ATTACK_URL\n")"
drop "$inbox" use-endpoint "$(printf 'version: 1\nuse: one-text\nset:\n  endpoint: %s\n' "$ATTACK_URL")"
drop "$inbox" use-limits "$(printf 'version: 1\nuse: one-text\nset:\n  limits.concurrency: 1000\n')"
drop "$inbox" use-bundled "$(printf 'version: 1\nuse: script-to-media\n')"
drop "$inbox" content "$(printf 'version: 1\nuse: one-text\nset:\n  summary.prompt: "Custom: {{script}}"\n  summary.model: gemini-3.5-pro\n')"
drop "$inbox" plain ""
for j in whole-endpoint use-endpoint use-limits use-bundled; do
    check "set: '$j' is a failed job" wait_until 60 job_failed "$jobs/$j"
done
assert_contains "set: a whole workflow's endpoint is refused at its place" \
    "workflow.yaml:2:1: 'endpoint' cannot be set by a dropped job (--allow-job-workflows set)" \
    "$(run_error "$jobs/whole-endpoint")"
assert_contains "set: so are its stages" "'stages' cannot be set by a dropped job" \
    "$(run_error "$jobs/whole-endpoint")"
assert_contains "set: an endpoint in set: is refused" \
    "workflow.yaml:4:3: 'endpoint' cannot be set by a dropped job (--allow-job-workflows set)" \
    "$(run_error "$jobs/use-endpoint")"
assert_contains "set: limits.concurrency is refused" \
    "'limits.concurrency' cannot be set by a dropped job (--allow-job-workflows set)" \
    "$(run_error "$jobs/use-limits")"
assert_contains "set: only the operator's workflow may be used" \
    "may only use 'one-text', the watcher's workflow" "$(run_error "$jobs/use-bundled")"
check "set: content fields change the operator's workflow" wait_until 120 job_done "$jobs/content"
assert_eq "...the drop's prompt and model were sent, to the operator's endpoint" 1 \
    "$(fake_count '.prompt == "Custom: script of content\n" and .model == "gemini-3.5-pro"')"
check "set: a drop without a workflow runs the operator's" wait_until 120 job_done "$jobs/plain"
assert_eq "...with its prompt" 1 "$(fake_count '.prompt == "Summarize: script of plain\n"')"
watch_stop $W_PID

# --- full: a whole workflow of its own, never its endpoint
inbox=$T_DIR/inbox-full
jobs=$T_DIR/jobs-full
mkdir -p "$inbox" "$jobs"
watch_start full --allow-job-workflows full --workflow "$ops" "$inbox" --jobs "$jobs"
wait_until 60 has "$T_DIR/full.err" "watching"
drop "$inbox" own "$(whole Own)"
drop "$inbox" own-endpoint "$(whole Evil "endpoint: $ATTACK_URL\n")"
drop "$inbox" set-endpoint "$(printf 'version: 1\nuse: script-to-media\nset: {endpoint: "%s"}\n' "$ATTACK_URL")"
check "full: a whole workflow runs" wait_until 120 job_done "$jobs/own"
assert_eq "...its own prompt, sent to the operator's endpoint" 1 \
    "$(fake_count '.prompt == "Own: script of own\n"')"
check "full: a whole workflow with an endpoint fails" wait_until 60 job_failed "$jobs/own-endpoint"
assert_contains "...saying why" \
    "'endpoint' cannot be set by a dropped job (--allow-job-workflows full)" \
    "$(run_error "$jobs/own-endpoint")"
check "full: an endpoint in set: fails too" wait_until 60 job_failed "$jobs/set-endpoint"
watch_stop $W_PID

# --- none: a drop with a workflow.yaml is refused; one without runs the operator's
inbox=$T_DIR/inbox-none
jobs=$T_DIR/jobs-none
mkdir -p "$inbox" "$jobs"
watch_start none --allow-job-workflows none --workflow "$ops" "$inbox" --jobs "$jobs"
wait_until 60 has "$T_DIR/none.err" "watching"
drop "$inbox" brings-one "$(printf 'version: 1\nuse: one-text\n')"
drop "$inbox" brings-none ""
check "none: a drop with a workflow.yaml is refused" wait_until 60 test -f "$inbox/.rejected/brings-one.why"
assert_file_contains "...saying why" "--allow-job-workflows none" "$inbox/.rejected/brings-one.why"
check "...and is no job" test ! -e "$jobs/brings-one"
check "none: a drop without one runs the operator's" wait_until 120 job_done "$jobs/brings-none"
watch_stop $W_PID

# --- the watcher's own writes in the inbox never go through a link a dropper planted
# (review of issue 13): the start-up probe at the name the old code used (host and pid guessed:
# the shell's pid is the watcher's after exec), and a .rejected swapped for a link or made by
# another user
inbox=$T_DIR/inbox-links
jobs=$T_DIR/jobs-links
mkdir -p "$inbox" "$jobs" "$T_DIR/elsewhere"
echo "victim data" >"$T_DIR/victim"
host=$(hostname | tr -c 'A-Za-z0-9._\n-' '-')
bash -c 'ln -s "$1" "$2/.gemflow-probe+$3+$$"; exec "$4" watch --workflow "$5" "$2" --jobs "$6"' \
    _ "$T_DIR/victim" "$inbox" "$host" "$GEMFLOW" "$ops" "$jobs" >"$T_DIR/links.out" \
    2>"$T_DIR/links.err" &
W_PID=$!
check "links: the watcher starts" wait_until 60 has "$T_DIR/links.err" "watching"
assert_eq "links: the planted probe link's target is untouched" "victim data" "$(cat "$T_DIR/victim")"
ln -s "$T_DIR/elsewhere" "$inbox/.rejected"
mkfifo "$inbox/pipe.txt"
check "links: a refusal through a .rejected link fails, saying why" \
    wait_until 60 has "$T_DIR/links.err" "cannot refuse 'pipe.txt'"
check "...and nothing landed where the link points" test -z "$(ls -A "$T_DIR/elsewhere")"
rm "$inbox/.rejected"
mkdir "$inbox/.rejected"
chown nobody "$inbox/.rejected"
mkfifo "$inbox/pipe2.txt"
check "links: a .rejected made by another user is not used" \
    wait_until 60 has "$T_DIR/links.err" "belongs to uid $(id -u nobody), not to this watcher"
check "...and holds nothing" test -z "$(ls -A "$inbox/.rejected")"
watch_stop $W_PID

assert_eq "no request ever reached the endpoint a drop named" 0 "$(attacker_requests)"
assert_eq "the operator's endpoint served every job that ran" 4 \
    "$(fake_count '.verb == "generateContent"')"
finish
