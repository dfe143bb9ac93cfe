#!/usr/bin/env bash
# The bad-input catalog (docs/bad-inputs.md), end to end through the gemflow binary: every row
# of the table below is one case run on a copy of a finished job. Every case must exit with its
# documented code and print its message (which names the place: file:line:column, the file, the
# option or the stage/item). Then, whatever the case:
#   - exit 2 (nothing could start): no request was made and the job directory is byte-identical;
#   - otherwise: every artifact is byte-identical, progress.jsonl only grew (every line JSON),
#     manifest.json is valid JSON.
# The case-specific facts (requests made, retries, what the call records say) are the last
# column, a shell condition.
source "$(dirname "$0")/lib.sh"
fake_start

# The finished job every case starts from: three scenes, so that copying it is cheap.
BASE=$(new_job base)
cat >"$BASE/script.txt" <<'EOF'
The Last Keeper of Gull Point

SCENE 1 — DAWN OVER THE POINT
For one hundred and twelve years a light has turned on Gull Point.

SCENE 2 — THE STORM
A fishing boat, late and low in the water, runs for the harbour.

SCENE 3 — THE LAST NIGHT
Elias switches off the light and goes down the ninety-one steps.
EOF
gf run "$BASE"
assert_eq "the finished job to copy runs" 0 "$GF_RC"
SCENES=$(jq '.scenes | length' "$BASE/analysis.json")
assert_eq "it has three scenes" 3 "$SCENES"
PNG="$SRC_DIR/tests/data/media/rgb_8x6.png"

# --- helpers the table uses ---------------------------------------------------------------
# gfw ARGS...: gf without the bundled workflow's pacing overrides, for jobs with their own
# workflow (the overrides name stages those workflows do not have).
gfw() {
    "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
    return $GF_RC
}
# fresh: make $JOB a job that never ran (the sample's script only).
fresh() {
    rm -rf "$JOB"
    cp -r "$SRC_DIR/samples/lighthouse" "$JOB"
}
# keyfile MODE TEXT: $T_DIR/key holding TEXT, with MODE.
keyfile() {
    printf '%s' "$2" >"$T_DIR/key"
    chmod "$1" "$T_DIR/key"
}
# nokey CMD...: run CMD with neither GEMINI_API_KEY nor GOOGLE_API_KEY set.
nokey() {
    (
        unset GEMINI_API_KEY GOOGLE_API_KEY
        "$@"
    )
    GF_RC=$?
}
# script_of BYTES: a script.txt of about BYTES bytes of plain English.
script_of() {
    local line="Elias climbs the ninety-one iron steps and polishes the great lens. "
    local n=$(($1 / ${#line} + 1))
    yes "$line" | head -n "$n" >"$JOB/script.txt"
}
# job_workflow TEXT: $JOB/workflow.yaml holding TEXT.
job_workflow() {
    printf '%s\n' "$1" >"$JOB/workflow.yaml"
}
TEXT_WF='version: 1
defaults: {model: gemini-3.8-flash}
inputs: {script: script.txt}
stages:
  summary: {kind: text, prompt: "Summarise: {{script}}", output: summary.txt}'
ENDPOINT_WF="$TEXT_WF
endpoint: generativelanguage.googleapis.com"
SPEECH_WF='version: 1
inputs: {script: script.txt}
stages:
  read: {kind: speech, model: gemini-3.8-flash-tts, text: "{{script}}", voice: Kore, output: read.wav}'
# damage_log: the item_done of narration s01 gets a size no file can have (1e300).
damage_log() {
    jq -c 'if .event == "item_done" and .stage == "narration" and .item == "s01"
           then .outputs[0].bytes = 1e300 else . end' "$JOB/progress.jsonl" >"$T_DIR/damaged"
    cat "$T_DIR/damaged" >"$JOB/progress.jsonl"
}
# calls [JQ-CONDITION]: requests the fake received since the case started.
calls() {
    [ -f "$FAKE_LOG" ] || { echo 0; return; }
    tail -n +$((CASE_REQUESTS + 1)) "$FAKE_LOG" | jq -s "[.[] | select(.method == \"POST\") | select(${1:-true})] | length"
}
# new_events NAME: events NAME appended to $JOB/progress.jsonl by the case.
new_events() {
    tail -c +$((CASE_LOG_BYTES + 1)) "$JOB/progress.jsonl" | jq -s --arg e "$1" \
        '[.[] | select(.event == $e)] | length'
}
# failures_say TEXT: every item_failed the case appended carries TEXT in its error message.
failures_say() {
    tail -c +$((CASE_LOG_BYTES + 1)) "$JOB/progress.jsonl" | jq -se --arg t "$1" \
        '[.[] | select(.event == "item_failed")] | length > 0 and all(.error.message | contains($t))' \
        >/dev/null
}

# --- the catalog ----------------------------------------------------------------------------
# id | exit | message (a fragment; @JOB@ = the job directory, @T@ = the test directory) |
# setup (eval'd, $JOB exists) | command (eval'd) | condition (eval'd after, must hold)
CATALOG=$(
    cat <<'EOF'
cli-unknown-option|2|unknown option '--frobnicate'||gf run --frobnicate "$JOB"|
cli-option-needs-value|2|option '--set' needs a value||gf run "$JOB" --set|
cli-no-job|2|no job given||gf run|
cli-unknown-command|2|'frobnicate' is not a gemflow command||gf frobnicate "$JOB"|
cli-validate-two-targets|2|give one workflow file or job directory||gf validate "$JOB" "$JOB"|
cli-validate-unknown-option|2|unknown option '--frobnicate'||gf validate --frobnicate "$JOB"|
cli-job-twice|2|job '@JOB@/.' is given twice (as '@JOB@' and '@JOB@/.')||gf run "$JOB" "$JOB/."|
cli-rerun-unknown-stage|2|no stage 'imagez' in job '@JOB@' (stages: analysis, prompts, portraits, images, narration||gf rerun "$JOB" imagez|
cli-job-missing|2|'@T@/no-such-job' is not a job directory (no such directory)||gf run "$T_DIR/no-such-job"|
cli-job-is-file|2|'@JOB@/script.txt' is not a job directory (it is a file||gf run "$JOB/script.txt"|
cli-workflow-option-missing|2|@T@/no-such.yaml: cannot read the workflow: No such file or directory||gf run --workflow "$T_DIR/no-such.yaml" "$JOB"|
set-no-equals|2|--set needs KEY=VALUE, got 'images.model'||gf run --set images.model "$JOB"|
set-unknown-stage|2|--set imagez.model=x: unknown stage 'imagez' (did you mean 'images'?)||gf run --set imagez.model=x "$JOB"|
set-unknown-field|2|--set images.modle=x: unknown field 'modle' in stage 'images' (did you mean 'model'?)||gf run --set images.modle=x "$JOB"|
set-bad-retries|2|--set defaults.retries=-1: 'retries' must be a whole number from 0 to 20, got '-1'||gf run --set defaults.retries=-1 "$JOB"|
set-bad-concurrency|2|--set limits.concurrency=0: 'concurrency' must be a whole number >= 1, got '0'||gf run --set limits.concurrency=0 "$JOB"|
set-bad-rpm|2|--set limits.rpm.gemini-3.8-flash=fast: 'rpm' must be a number > 0, got 'fast'||gf run --set limits.rpm.gemini-3.8-flash=fast "$JOB"|
set-bad-duration|2|--set defaults.timeout=soon: bad duration 'soon' (use e.g. 30s, 500ms, 2m)||gf run --set defaults.timeout=soon "$JOB"|
set-empty-model|2|--set images.model=: 'model' has no value||gf run --set images.model= "$JOB"|
set-bad-model-id|2|--set images.model=foo/bar: bad model id 'foo/bar'||gf run --set images.model=foo/bar "$JOB"|
set-model-prefix|2|(drop the 'models/' prefix: 'gemini-3-pro-image-preview')||gf run --set images.model=models/gemini-3-pro-image-preview "$JOB"|
set-bad-aspect-ratio|2|--set images.aspect_ratio=7:3: bad aspect ratio '7:3'||gf run --set images.aspect_ratio=7:3 "$JOB"|
set-not-for-kind|2|--set images.voice=Kore: 'voice' does not apply to a stage of kind image||gf run --set images.voice=Kore "$JOB"|
set-template-unknown-name|2|--set images.prompt={{nope}}: unknown name 'nope' in template||gf run --set 'images.prompt={{nope}}' "$JOB"|
set-input-escape|2|--set inputs.script=../x.txt: input 'script': path '../x.txt' leaves the job directory||gf run --set inputs.script=../x.txt "$JOB"|
key-none|2|no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or pass --api-key-file FILE||nokey gf run "$JOB"|
key-file-missing|2|cannot open API key file '@T@/no-key': No such file or directory||gf run --api-key-file "$T_DIR/no-key" "$JOB"|
key-file-world-readable|2|API key file '@T@/key' can be read by other users (mode 0644); refusing to use it. Run: chmod 600 '@T@/key'|keyfile 644 test-key-e2e|gf run --api-key-file "$T_DIR/key" "$JOB"|
key-file-group-readable|2|can be read by other users (mode 0640)|keyfile 640 test-key-e2e|gf run --api-key-file "$T_DIR/key" "$JOB"|
key-file-empty|2|API key file '@T@/key' does not hold a key on its first line|keyfile 600 ""|gf run --api-key-file "$T_DIR/key" "$JOB"|
key-file-directory|2|API key file '@T@' is not a regular file||gf run --api-key-file "$T_DIR" "$JOB"|
key-env-bad-characters|2|$GEMINI_API_KEY holds characters an API key cannot have||GEMINI_API_KEY="two words" gf run "$JOB"|
endpoint-option-not-url|2|--endpoint: endpoint 'localhost:1234' is not an http:// or https:// URL||gf run --endpoint localhost:1234 "$JOB"|
endpoint-env-not-url|2|$GEMINI_BASE_URL: endpoint 'ftp://example.com' is not an http:// or https:// URL||GEMINI_BASE_URL=ftp://example.com gf run "$JOB"|
endpoint-query|2|--endpoint: endpoint 'http://127.0.0.1:9/?key=x' must not hold a query||gf run --endpoint 'http://127.0.0.1:9/?key=x' "$JOB"|
endpoint-no-host|2|--endpoint: endpoint 'http:///v1beta' has no host||gf run --endpoint http:///v1beta "$JOB"|
endpoint-workflow-not-url|2|@JOB@/workflow.yaml:6:11: bad endpoint 'generativelanguage.googleapis.com' (use an http:// or https:// URL)|job_workflow "$ENDPOINT_WF"|GEMINI_BASE_URL= gfw run "$JOB"|
input-missing|2|@JOB@/script.txt: input 'script.txt' is missing (the workflow reads it as {{script}})|rm "$JOB/script.txt"|gf run "$JOB"|
input-empty|2|@JOB@/script.txt: input 'script' is empty|: >"$JOB/script.txt"|gf run "$JOB"|
input-blank|2|@JOB@/script.txt: input 'script' is empty|printf ' \n\t\r\n' >"$JOB/script.txt"|gf run "$JOB"|
input-nul-byte|2|@JOB@/script.txt:2:4: input 'script' is not text: a NUL byte (is it a binary file?)|printf 'one\nabc\0def\n' >"$JOB/script.txt"|gf run "$JOB"|
input-binary-png|2|@JOB@/script.txt:1:1: input 'script' is not text|cp "$PNG" "$JOB/script.txt"|gf run "$JOB"|
input-latin1|2|@JOB@/script.txt:2:4: input 'script' is not text: a byte that is not UTF-8|printf 'SCENE 1\ncaf\xe9 au lait\n' >"$JOB/script.txt"|gf run "$JOB"|
input-truncated-utf8|2|@JOB@/script.txt:1:7: input 'script' is not text: a byte that is not UTF-8|printf 'price \xe2\x82' >"$JOB/script.txt"|gf run "$JOB"|
input-overlong-utf8|2|@JOB@/script.txt:1:2: input 'script' is not text: a byte that is not UTF-8|printf 'a\xc0\xafb\n' >"$JOB/script.txt"|gf run "$JOB"|
input-overlong-3-byte|2|@JOB@/script.txt:1:2: input 'script' is not text: an overlong or out-of-range sequence|printf 'a\xe0\x80\xafb\n' >"$JOB/script.txt"|gf run "$JOB"|
input-surrogate|2|@JOB@/script.txt:1:3: input 'script' is not text: an encoded UTF-16 surrogate|printf 'ab\xed\xa0\x80\n' >"$JOB/script.txt"|gf run "$JOB"|
input-beyond-unicode|2|@JOB@/script.txt:1:1: input 'script' is not text: an overlong or out-of-range sequence|printf '\xf4\x90\x80\x80\n' >"$JOB/script.txt"|gf run "$JOB"|
input-directory|2|@JOB@/script.txt: input 'script' is not a regular file|rm "$JOB/script.txt"; mkdir "$JOB/script.txt"|gf run "$JOB"|
input-fifo|2|@JOB@/script.txt: input 'script' is not a regular file|rm "$JOB/script.txt"; mkfifo "$JOB/script.txt"|gf run "$JOB"|
input-dangling-symlink|2|@JOB@/script.txt: input 'script.txt' is missing|rm "$JOB/script.txt"; ln -s nowhere.txt "$JOB/script.txt"|gf run "$JOB"|
input-over-16-mb|2|@JOB@/script.txt: input 'script' is 17825792 bytes, more than the 16 MB limit|truncate -s 17M "$JOB/script.txt"|gf run "$JOB"|
input-over-model-limit|2|@JOB@/script.txt: input 'script' is too long for model 'gemini-3.8-flash' of stage 'analysis': about|script_of 4500000|gf run "$JOB"|
input-over-model-limit-plan|2|over its input limit of 1048576 tokens|script_of 4500000|gf plan "$JOB"|
input-over-tts-limit|2|input 'script' is too long for model 'gemini-3.8-flash-tts' of stage 'read'|job_workflow "$SPEECH_WF"; script_of 40000|gfw run "$JOB"|
input-under-limit-runs|0||job_workflow "$SPEECH_WF"; script_of 500|gfw run "$JOB"|[ "$(calls)" = 1 ] && test -s "$JOB/read.wav"
model-unknown|2|stage 'images': model 'gemini-9-flash-image' is not served (HTTP 404 NOT_FOUND: models/gemini-9-flash-image is not found for API version v1beta||gf run --set images.model=gemini-9-flash-image "$JOB"|[ "$(calls)" = 0 ] && grep -qF "models this key can use for an image stage: gemini-nano-banana-2.1" "$T_DIR/last.err"
model-unknown-first-stage|2|model 'gemini-0-nope' is not served|fresh|gf run --set defaults.model=gemini-0-nope "$JOB"|[ "$(calls)" = 0 ] && [ "$(new_events model_unavailable)" = 2 ] && jq -se 'map(select(.event == "run_end")) | last | .error | contains("gemini-0-nope")' "$JOB/progress.jsonl" >/dev/null
model-wrong-kind|1|The requested combination of response modalities (TEXT, IMAGE) is not supported by the model. models/gemini-3.8-flash||gf run --set images.model=gemini-3.8-flash "$JOB"|[ "$(calls)" = "$SCENES" ] && [ "$(new_events retry)" = 0 ]
voice-unknown|1|Voice 'Nobody' is not supported||gf run --set narration.voice=Nobody "$JOB"|[ "$(calls)" = "$SCENES" ] && [ "$(new_events retry)" = 0 ] && failures_say "Nobody"
endpoint-refused|1|cannot check model 'gemini-3.8-flash' after 4 attempts (Failed to connect to 127.0.0.1 port 9|fresh|gf run --endpoint http://127.0.0.1:9 "$JOB"|[ "$(calls)" = 0 ] && [ "$(new_events call_start)" = 0 ] && jq -se 'map(select(.event == "run_end")) | last | .state == "failed"' "$JOB/progress.jsonl" >/dev/null
edited-analysis-not-json|1|case: analysis/analysis failed (edited): 'analysis.json' was edited by hand and is not a usable json output: not valid JSON (line 1, column 10); fix the file, or delete it so the next run generates it again|printf '{"title": ' >"$JOB/analysis.json"|gf run "$JOB"|[ "$(calls)" = 0 ] && [ "$(printf '{"title": ')" = "$(cat "$JOB/analysis.json")" ]
edited-analysis-breaks-schema|1|case: analysis/analysis failed (edited): 'analysis.json' was edited by hand and is not a usable json output: $.scenes[0]: missing required property "narration"; fix the file|jq 'del(.scenes[0].narration)' "$BASE/analysis.json" >"$JOB/analysis.json"|gf run "$JOB"|[ "$(calls)" = 0 ]
edited-analysis-no-array|1|'analysis.json' was edited by hand and is not a usable json output: $.scenes: expected an array|jq '.scenes = "eight"' "$BASE/analysis.json" >"$JOB/analysis.json"|gf run "$JOB"|[ "$(calls)" = 0 ]
log-torn-tail|0|progress.jsonl ended in a torn line (a crash mid-write); it was cut off|printf '{"ts":"2026-11-25T12:00:00.000Z","event":"item_do' >>"$JOB/progress.jsonl"|gf run "$JOB"|[ "$(calls)" = 0 ]
log-damaged-item-done|0||damage_log|gf run "$JOB"|[ "$(calls)" = 1 ] && [ "$(calls '.model == "gemini-3.8-flash-tts"')" = 1 ]
manifest-corrupt|0||echo 'not json' >"$JOB/manifest.json"|gf run "$JOB"|[ "$(calls)" = 0 ] && [ "$(jq '.artifacts | length' "$JOB/manifest.json")" = "$(jq '.artifacts | length' "$BASE/manifest.json")" ]
EOF
)

# --- the checks -----------------------------------------------------------------------------
# tree DIR: every file under DIR with its sha256 (the whole job, .gemflow/ included).
tree() {
    (cd "$1" && find . \( -type f -o -type l \) -print0 | sort -z | xargs -0 -r sha256sum 2>/dev/null)
}
# artifacts DIR: the same, without the files gemflow keeps for itself.
artifacts() {
    tree "$1" | grep -v -e ' \./progress\.jsonl$' -e ' \./manifest\.json$' -e ' \./\.gemflow/'
}

JOB="$T_DIR/case"
n_cases=0
while IFS='|' read -r id want needle setup cmd cond; do
    [ -n "$id" ] || continue
    [ -z "${ONLY:-}" ] || [ "$id" = "$ONLY" ] || continue # ONLY=ID runs one case
    n_cases=$((n_cases + 1))
    rm -rf "$JOB"
    cp -a "$BASE" "$JOB"
    [ -z "$setup" ] || eval "$setup"
    before=$(tree "$JOB")
    artifacts "$JOB" | sort >"$T_DIR/artifacts.before"
    CASE_REQUESTS=$(wc -l <"$FAKE_LOG" 2>/dev/null || echo 0) # lines of the fake's request log
    CASE_LOG_BYTES=$(stat -c %s "$JOB/progress.jsonl" 2>/dev/null || echo 0)
    # the log as it must still begin after the case: without a torn last line
    cp "$JOB/progress.jsonl" "$T_DIR/log.before" 2>/dev/null || : >"$T_DIR/log.before"
    if [ -s "$T_DIR/log.before" ] && [ "$(tail -c 1 "$T_DIR/log.before" | od -An -tx1)" != " 0a" ]; then
        sed -i '$d' "$T_DIR/log.before"
    fi

    eval "$cmd"
    rc=$GF_RC
    # CATALOG_DUMP=FILE collects what the user saw, to keep docs/bad-inputs.md up to date
    [ -z "${CATALOG_DUMP:-}" ] || printf '%s|%s|%s\n' "$id" "$rc" \
        "$(grep -v '^gemflow: the workflow of job' "$T_DIR/last.err" | head -n 1)" >>"$CATALOG_DUMP"
    assert_eq "$id: exit status" "$want" "$rc"
    needle=${needle//@JOB@/$JOB}
    needle=${needle//@T@/$T_DIR}
    if [ -n "$needle" ]; then
        assert_file_contains "$id: says what and where" "$needle" "$T_DIR/last.err"
    fi
    # A model that is not served is found by the free check after the run started: exit 2,
    # nothing paid for, and the log says why (status shows it); the rest as for exit 2.
    halted=$([ "$want" = 2 ] && [ "$(new_events model_unavailable 2>/dev/null)" != 0 ] && echo yes)
    if [ "$want" = 2 ] && [ -z "$halted" ]; then
        assert_eq "$id: no request" 0 "$(calls)"
        if [ "$before" = "$(tree "$JOB")" ]; then
            ok "$id: job directory untouched"
        else
            fail "$id: job directory changed: $(diff <(echo "$before") <(tree "$JOB") | head -5)"
        fi
    else
        lost=$(comm -23 "$T_DIR/artifacts.before" <(artifacts "$JOB" | sort))
        assert_eq "$id: every artifact kept byte-identical" "" "$lost"
        check "$id: progress.jsonl only grew" cmp -s "$T_DIR/log.before" \
            <(head -c "$(stat -c %s "$T_DIR/log.before")" "$JOB/progress.jsonl")
        check "$id: every progress.jsonl line is JSON" jq -e . "$JOB/progress.jsonl" >/dev/null
        if [ -e "$BASE/manifest.json" ] && [ -e "$T_DIR/artifacts.before" ] && [ -s "$JOB/progress.jsonl" ] &&
            grep -q '"item_done"' "$JOB/progress.jsonl"; then
            check "$id: manifest.json is JSON" jq -e .artifacts "$JOB/manifest.json" >/dev/null
        fi
    fi
    if [ -n "$cond" ]; then
        if eval "$cond"; then ok "$id: $cond"; else fail "$id: does not hold: $cond"; fi
    fi
done <<<"$CATALOG"
[ -n "${ONLY:-}" ] || check "the catalog has at least 60 cases ($n_cases)" test "$n_cases" -ge 60
finish
