#!/usr/bin/env bash
# Untrusted data choosing item ids and paths (docs/bad-inputs.md, "Model output and edited
# artifacts"): model output (a JSON stage whose answer mirrors the ids embedded in its prompt)
# and a hand-edited analysis.json name items '../../etc/x', '/abs', a 10 kB id, an empty id and
# duplicate ids. Nothing may be written outside the job directory; an id that cannot name a file
# fails that item with a message naming the stage/item and the element; the other items go on;
# exit 1. A hand edit that drops a field a template uses fails that item with the template's
# file:line:column.
source "$(dirname "$0")/lib.sh"
fake_start
LONG_ID=$(head -c 10240 /dev/zero | tr '\0' 'x')

# outside_writes MARKER JOB: files under $T_DIR newer than MARKER that are not inside JOB (the
# fake's request log and gemflow's captured output aside, and the quota directory, which every
# paid call writes by design: its file names are key fingerprints and model ids, never item ids).
outside_writes() {
    find "$T_DIR" -newer "$1" -type f ! -path "$2/*" ! -path "$GEMFLOW_QUOTA_DIR/*" \
        ! -name 'last.*' ! -name 'fake*' -print
}
# failed_msg JOB STAGE ITEM: the error message of the item's latest item_failed.
failed_msg() {
    jq -rs --arg s "$2" --arg i "$3" \
        '[.[] | select(.event == "item_failed" and .stage == $s and .item == $i)] | last | .error.message' \
        "$1/progress.jsonl"
}

# shots_workflow IDS_JSON: the start of a workflow whose json stage 'shots' answers with the
# ids its prompt lists (the fake mirrors them); the caller appends the stages that use them
shots_workflow() {
    cat <<EOF
version: 1
defaults: {model: gemini-3.8-flash}
inputs: {script: script.txt}
stages:
  shots:
    kind: json
    prompt: |
      Number the shots of this script exactly as listed below.
      {"shots": $1}
      {{script}}
    schema:
      type: object
      properties:
        shots:
          type: array
          items:
            type: object
            properties: {id: {type: string}, caption: {type: string}}
            required: [id, caption]
      required: [shots]
    output: shots.json
EOF
}

# --- model output: a workflow whose JSON stage answers with the ids its prompt lists ----------
job=$(new_job model-ids)
{
    shots_workflow '[{"id": "../../etc/x"}, {"id": "/abs"}, {"id": "'"$LONG_ID"'"}, {"id": ""}, {"id": "s05"}, {"id": "s05"}, {"id": "s07"}]'
    cat <<'EOF'
  captions:
    kind: text
    foreach: shots.shots
    prompt: "Write a one-line caption for: {{item.caption}}"
    output: captions/{{item.id}}.txt
EOF
} >"$job/workflow.yaml"
touch "$T_DIR/marker"
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "model-chosen bad ids: exit 1" 1 "$?"
assert_eq "the model answered with the ids of the prompt" 7 "$(jq '.shots | length' "$job/shots.json")"
assert_eq "the model's first id is '../../etc/x'" "../../etc/x" "$(jq -r '.shots[0].id' "$job/shots.json")"
assert_eq "nothing was written outside the job directory" "" "$(outside_writes "$T_DIR/marker" "$job")"
check "no file at /etc/x.txt" test ! -e /etc/x.txt
check "'../../etc/x' became a file name inside captions/" test -s "$job/captions/_._.._etc_x.txt"
check "'/abs' became a file name inside captions/" test -s "$job/captions/_abs.txt"
assert_contains "a 10 kB id fails its item, saying so" "element 3 of shots.shots cannot be an item: its id is 10240 bytes long (at most 64)" "$(failed_msg "$job" captions 3)"
assert_contains "an empty id fails its item" "element 4 of shots.shots cannot be an item: its id is empty" "$(failed_msg "$job" captions 4)"
assert_contains "a duplicate id fails the second item" "element 6 of shots.shots has the same id 's05' as element 5" "$(failed_msg "$job" captions 's05~6')"
assert_file_contains "the user sees stage/item and the element" "captions/3 failed (input): element 3 of shots.shots" "$T_DIR/last.err"
assert_eq "the terminal does not get the 10 kB id" "" "$(awk 'length > 2000' "$T_DIR/last.err")"
assert_eq "the other four items are done" 4 "$(ls "$job/captions" | wc -l)"
assert_eq "three items failed" 3 "$(events "$job/progress.jsonl" item_failed)"
check "every progress.jsonl line is JSON" jq -e . "$job/progress.jsonl" >/dev/null
gf status "$job"
assert_file_contains "status shows the failed id" "its id is empty" "$T_DIR/last.out"
"$GEMFLOW" plan "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "plan of the job: exit 0" 0 "$?"
assert_file_contains "plan: the three bad ids are not calls, they cannot be built" \
    "7 items: 4 cached, 0 to call, 3 cannot be called (below)" "$T_DIR/last.out"
assert_file_contains "plan: ...saying why" "cannot be built: element 4 of shots.shots cannot be an item: its id is empty" "$T_DIR/last.out"
assert_file_contains "plan: no call now" "calls: 0 now" "$T_DIR/last.out"

# --- hand-edited data: analysis.json rewritten with the same ids --------------------------------
# narration walks analysis.scenes (the edit itself); images walk prompts.scenes, which the
# prompts stage (model output) writes again, mirroring the edited ids.
job=$(new_job edited-ids)
gf run "$job"
assert_eq "the job to edit runs" 0 "$GF_RC"
for f in "$job"/audio/*.wav; do cp "$f" "$T_DIR/$(basename "$f").before"; done
jq --arg long "$LONG_ID" '.scenes[0].id = "../../etc/x" | .scenes[1].id = "/abs" | .scenes[2].id = $long
    | .scenes[3].id = "" | .scenes[5].id = "s05"' "$job/analysis.json" >"$T_DIR/analysis.json"
cp "$T_DIR/analysis.json" "$job/analysis.json"
touch "$T_DIR/marker"
gf run "$job"
assert_eq "edited bad ids: exit 1" 1 "$GF_RC"
assert_eq "nothing was written outside the job directory" "" "$(outside_writes "$T_DIR/marker" "$job")"
check "the edited analysis.json is kept byte-identical" cmp -s "$T_DIR/analysis.json" "$job/analysis.json"
assert_eq "the prompts stage mirrored the edited ids" "../../etc/x" "$(jq -r '.scenes[0].id' "$job/prompts.json")"
for stage in narration images; do
    src=$([ $stage = narration ] && echo analysis.scenes || echo prompts.scenes)
    assert_contains "$stage: a 10 kB id fails its item" "element 3 of $src cannot be an item: its id is 10240 bytes long" "$(failed_msg "$job" $stage 3)"
    assert_contains "$stage: an empty id fails its item" "element 4 of $src cannot be an item: its id is empty" "$(failed_msg "$job" $stage 4)"
    assert_contains "$stage: a duplicate id fails the second" "element 6 of $src has the same id 's05' as element 5" "$(failed_msg "$job" $stage 's05~6')"
done
check "narration of '../../etc/x' is inside audio/" test -s "$job/audio/_._.._etc_x.wav"
check "image of '/abs' is inside images/" test -s "$job/images/_abs.jpg"
for id in s07 s08; do
    check "untouched scene $id keeps its narration byte-identical" cmp -s "$T_DIR/$id.wav.before" "$job/audio/$id.wav"
done
check "every progress.jsonl line is JSON" jq -e . "$job/progress.jsonl" >/dev/null

# --- model-chosen ids that name the job's own files (docs/security.md, "Outputs cannot collide")
# The ids 'script' and 's03' render captions' outputs onto the job's input script.txt and onto
# s03.txt, which the notes stage writes; each of those items fails naming both, before any call,
# and both files keep what they held. 'shots' is free there (shots.json is another file), but
# renders labels' output 'shots' onto the directory of extra's shots/extra.txt.
job=$(new_job own-files)
cp "$job/script.txt" "$T_DIR/own-script.before"
{
    shots_workflow '[{"id": "script"}, {"id": "shots"}, {"id": "s03"}]'
    cat <<'EOF2'
  notes:
    kind: text
    prompt: "Write production notes for this script: {{script}}"
    output: s03.txt
  captions:
    kind: text
    foreach: shots.shots
    prompt: "Write a one-line caption for: {{item.caption}}"
    output: "{{item.id}}.txt"
  extra:
    kind: text
    prompt: "Write a logline for this script: {{script}}"
    output: shots/extra.txt
  labels:
    kind: text
    foreach: shots.shots
    prompt: "Write a one-word label for: {{item.caption}}"
    output: "{{item.id}}"
EOF2
} >"$job/workflow.yaml"
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "ids naming the job's own files: exit 1" 1 "$?"
assert_eq "the model answered with those ids" "script shots s03" "$(jq -r '[.shots[].id] | join(" ")' "$job/shots.json")"
check "the input script.txt is byte-identical" cmp -s "$T_DIR/own-script.before" "$job/script.txt"
assert_eq "s03.txt is still the notes stage's (the manifest's digest)" \
    "notes $(sha256sum "$job/s03.txt" | cut -d' ' -f1)" \
    "$(jq -r '.artifacts[] | select(.path == "s03.txt") | "\(.stage) \(.sha256)"' "$job/manifest.json")"
assert_eq "captions/script fails naming the input" \
    "output path 'script.txt' is the job's input 'script' ('script.txt'): it is never overwritten" \
    "$(failed_msg "$job" captions script)"
assert_eq "captions/s03 fails naming the other stage's item" \
    "output path 's03.txt' is also the output of notes/notes" "$(failed_msg "$job" captions s03)"
assert_file_contains "the user sees the stage/item" "captions/s03 failed (input): output path 's03.txt'" "$T_DIR/last.err"
assert_eq "labels/shots fails: a file where another stage writes a directory of files" \
    "output path 'shots' overlaps 'shots/extra.txt', the output of extra/extra" "$(failed_msg "$job" labels shots)"
check "extra's file is written" test -s "$job/shots/extra.txt"
assert_eq "calls: shots, notes, extra, and the free captions and labels" \
    "captions/shots extra/extra labels/s03 labels/script notes/notes shots/shots" \
    "$(jq -rs '[.[] | select(.event == "call_start") | "\(.stage)/\(.item)"] | sort | join(" ")' "$job/progress.jsonl")"
check "the free caption is written" test -s "$job/shots.txt"

# --- the same with what an earlier run wrote, and with a prompt file of the job --------------
# Run 1: id 'foo' (captions writes foo.txt, notes writes nfoo.txt). Run 2: ids 'foo' and 'nfoo':
# captions/nfoo would overwrite the nfoo.txt that notes/foo wrote in run 1; and id 'cap' would
# write prompts/cap.md, the prompt file the notes stage reads.
job=$(new_job earlier-files)
mkdir -p "$job/prompts"
printf 'Write a note on: {{item.caption}}\n' >"$job/prompts/cap.md"
earlier_wf() { # IDS_JSON
    {
        shots_workflow "$1"
        cat <<'EOF2'
  captions:
    kind: text
    foreach: shots.shots
    prompt: "Write a one-line caption for: {{item.caption}}"
    output: "{{item.id}}.txt"
  notes:
    kind: text
    foreach: shots.shots
    prompt: prompts/cap.md
    output: "n{{item.id}}.txt"
  drafts:
    kind: text
    foreach: shots.shots
    prompt: "Draft a prompt for: {{item.caption}}"
    output: "prompts/{{item.id}}.md"
EOF2
    } >"$job/workflow.yaml"
}
earlier_wf '[{"id": "foo"}]'
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "earlier files: run 1 exit 0" 0 "$?"
cp "$job/nfoo.txt" "$T_DIR/nfoo.before"
cp "$job/prompts/cap.md" "$T_DIR/cap.before"
earlier_wf '[{"id": "foo"}, {"id": "nfoo"}, {"id": "cap"}]'
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "earlier files: run 2 exit 1" 1 "$?"
assert_eq "captions/nfoo fails naming what notes/foo wrote in run 1" \
    "output path 'nfoo.txt' is also the output of notes/foo" "$(failed_msg "$job" captions nfoo)"
check "...and nfoo.txt is notes/foo's still" cmp -s "$T_DIR/nfoo.before" "$job/nfoo.txt"
assert_eq "drafts/cap fails naming the prompt file the workflow reads" \
    "output path 'prompts/cap.md' is a file the workflow reads ('prompts/cap.md'): it is never overwritten" \
    "$(failed_msg "$job" drafts cap)"
check "...and the prompt file is unchanged" cmp -s "$T_DIR/cap.before" "$job/prompts/cap.md"

# --- a hand edit that removes a field a template uses --------------------------------------------
job=$(new_job edited-field)
cat >"$job/workflow.yaml" <<'EOF'
version: 1
defaults: {model: gemini-3.8-flash}
inputs: {script: script.txt}
stages:
  shots:
    kind: json
    prompt: "List the shots of this script, one per scene: {{script}}"
    schema:
      type: object
      properties:
        shots:
          type: array
          items:
            type: object
            properties: {id: {type: string}, caption: {type: string}}
            required: [id]
      required: [shots]
    output: shots.json
  captions:
    kind: text
    foreach: shots.shots
    prompt: "Write a one-line caption for: {{item.caption}}"
    output: captions/{{item.id}}.txt
EOF
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "the captions job runs" 0 "$?"
n=$(jq '.shots | length' "$job/shots.json")
second=$(jq -r '.shots[1].id' "$job/shots.json")
cp "$job/captions/$second.txt" "$T_DIR/second.before"
jq 'del(.shots[1].caption)' "$job/shots.json" >"$T_DIR/shots.json" && cp "$T_DIR/shots.json" "$job/shots.json"
requests=$(fake_count true)
"$GEMFLOW" run "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "a missing template field: exit 1" 1 "$?"
assert_file_contains "the failure names the template's place and the path" \
    "$job/workflow.yaml:22:44: " "$T_DIR/last.err"
assert_contains "the failure says which field is missing" "caption" "$(failed_msg "$job" captions "$second")"
assert_eq "no request (the other items are unchanged and cached)" "$requests" "$(fake_count true)"
assert_eq "the other captions are done, that one failed" "$((n - 1)) 1" \
    "$(jq -rs '[.[] | select(.event == "stage_failed" and .stage == "captions")] | last | "\(.done) \(.failed)"' "$job/progress.jsonl")"
check "the item's old caption is kept" cmp -s "$T_DIR/second.before" "$job/captions/$second.txt"
finish
