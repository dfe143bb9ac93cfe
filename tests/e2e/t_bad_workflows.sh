#!/usr/bin/env bash
# Bad workflows end to end (docs/bad-inputs.md, "Workflow files"): every fixture under
# tests/data/workflows/bad through `gemflow validate` and through `gemflow run` as a job's
# workflow.yaml, plus workflow files that are empty, a directory, binary or not UTF-8. Each
# must exit 2 with every diagnostic its "# expect:" lines name, as file:line:column, make no
# request, and leave a finished job byte-identical.
source "$(dirname "$0")/lib.sh"
BAD="$SRC_DIR/tests/data/workflows/bad"
fake_start

# tree_sum DIR: one line per file (path and sha256), the job's workflow files excluded.
tree_sum() {
    (cd "$1" && find . -type f ! -name workflow.yaml ! -path './files/*' -print0 | sort -z |
        xargs -0 sha256sum)
}

job=$(new_job finished)
gf run "$job"
assert_eq "the finished job runs" 0 "$GF_RC"
before_sum=$(tree_sum "$job")
requests=$(fake_count true)

# expectations FIXTURE [JOB]: the diagnostics the fixture expects, one per line, "LINE:COL: msg"
# written as "FIXTURE:LINE:COL: msg". With JOB (the fixture is JOB/workflow.yaml, its files in
# JOB/files) the paths in the messages are the job's. Expectations of a "--set" without '='
# are left out: the command line refuses those before the loader sees them (case below).
expectations() {
    local f=$1 job=${2:-} want arg
    sed -n 's/^# expect: //p' "$f" | while IFS= read -r want; do
        case $want in
        --set\ *)
            arg=${want#--set }
            case ${arg%%: *} in *=*) ;; *) continue ;; esac
            ;;
        [0-9]*:[0-9]*:\ *) want="$f:$want" ;;
        esac
        if [ -n "$job" ]; then
            want=${want//"$f"/"$job/workflow.yaml"}
            want=${want//"'files/"/"'$job/files/"}
            case $want in files/*) want="$job/$want" ;; esac
        fi
        printf '%s\n' "$want"
    done
}
# sets FIXTURE: the --set options its "# set:" lines ask for (those with '=', see above).
sets() {
    local s
    SETS=()
    while IFS= read -r s; do
        case $s in *=*) SETS+=(--set "$s") ;; esac
    done < <(sed -n 's/^# set: //p' "$1")
}
# all_found WHAT FILE: every line of stdin is in FILE.
all_found() {
    local what=$1 file=$2 want missing=0
    while IFS= read -r want; do
        if ! grep -qF -- "$want" "$file"; then
            fail "$what: missing diagnostic: $want"
            missing=1
        fi
    done
    if [ $missing -eq 0 ]; then ok "$what: every expected diagnostic"; fi
}

n_fixtures=0
cd "$BAD" || exit 1
for f in [0-9]*.yaml; do
    n_fixtures=$((n_fixtures + 1))
    name=${f%.yaml}
    sets "$f"
    # validate, from inside the fixture directory so paths read as a user would type them
    gf validate "${SETS[@]}" "$f"
    assert_eq "$name: validate exits 2" 2 "$GF_RC"
    all_found "$name: validate" "$T_DIR/last.err" < <(expectations "$f")
    assert_file_contains "$name: validate counts the errors" "error" "$T_DIR/last.err"
    check "$name: validate writes nothing on stdout" test ! -s "$T_DIR/last.out"

    # run: the fixture as the finished job's workflow.yaml (with the files it refers to)
    cp "$f" "$job/workflow.yaml"
    rm -rf "$job/files" && cp -r "$BAD/files" "$job/files"
    "$GEMFLOW" run "${SETS[@]}" "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    assert_eq "$name: run exits 2" 2 "$?"
    all_found "$name: run" "$T_DIR/last.err" < <(expectations "$f" "$job")
    assert_file_contains "$name: run says the workflow has errors" "has errors" "$T_DIR/last.err"
done
cd "$T_DIR" || exit 1
check "there are at least 62 workflow fixtures ($n_fixtures)" test "$n_fixtures" -ge 62

# a --set without '=' (fixture 43 has one) is refused by the command line itself
gf validate --set nothing "$BAD/43-cli-set-errors.yaml"
assert_eq "--set without '=' exits 2" 2 "$GF_RC"
assert_file_contains "--set without '=' is explained" "--set needs KEY=VALUE, got 'nothing'" "$T_DIR/last.err"

# workflow files that are not workflows at all
: >"$job/workflow.yaml"
gf run "$job"
assert_eq "empty workflow.yaml exits 2" 2 "$GF_RC"
assert_file_contains "empty workflow.yaml is named" "$job/workflow.yaml: the workflow is empty" "$T_DIR/last.err"

rm -f "$job/workflow.yaml" && mkdir "$job/workflow.yaml"
gf run "$job"
assert_eq "workflow.yaml that is a directory exits 2" 2 "$GF_RC"
assert_file_contains "workflow.yaml that is a directory is named" "$job/workflow.yaml: cannot read the workflow: Is a directory" "$T_DIR/last.err"
rmdir "$job/workflow.yaml"

head -c 64 "$SRC_DIR/tests/data/media/rgb_8x6.png" >"$job/workflow.yaml"
gf run "$job"
assert_eq "binary workflow.yaml exits 2" 2 "$GF_RC"
assert_file_contains "binary workflow.yaml gives line:column" "$job/workflow.yaml:1:" "$T_DIR/last.err"

# files that never end or never answer: a device behind a symlink, a FIFO nobody writes to
rm -f "$job/workflow.yaml" && ln -s /dev/zero "$job/workflow.yaml"
timeout 120 "$GEMFLOW" validate "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "workflow.yaml -> /dev/zero: exits 2 (and does not hang)" 2 "$?"
assert_file_contains "workflow.yaml -> /dev/zero: explained" "$job/workflow.yaml:1:1: the workflow is too large (more than 1048576 bytes" "$T_DIR/last.err"
rm -f "$job/workflow.yaml" && mkfifo "$job/workflow.yaml"
timeout 120 "$GEMFLOW" validate "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "workflow.yaml a FIFO: exits 2 (and does not hang)" 2 "$?"
assert_file_contains "workflow.yaml a FIFO: explained" "$job/workflow.yaml: the workflow is empty" "$T_DIR/last.err"
rm -f "$job/workflow.yaml"
printf 'version: 1\nuse: script-to-media\nset:\n  analysis.prompt: my-prompt.md\n' >"$job/workflow.yaml"
ln -s /dev/zero "$job/my-prompt.md"
timeout 120 "$GEMFLOW" validate "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "a prompt file -> /dev/zero: exits 2 (and does not hang)" 2 "$?"
assert_file_contains "a prompt file -> /dev/zero: refused as a link" "$job/workflow.yaml:4:20: cannot read prompt file '$job/my-prompt.md': 'my-prompt.md' in '$job' is a symbolic link: refusing to read through it" "$T_DIR/last.err"
rm -f "$job/my-prompt.md" && mkfifo "$job/my-prompt.md"
timeout 120 "$GEMFLOW" validate "$job" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
assert_eq "a prompt file that is a FIFO: exits 2 (and does not hang)" 2 "$?"
assert_file_contains "a prompt file that is a FIFO: explained" "prompt file '$job/my-prompt.md' is empty" "$T_DIR/last.err"
rm -f "$job/my-prompt.md"

# prompt and schema files from outside the workflow's directory (docs/security.md): another
# job's script through "..", an absolute path, a link to it, a linked directory; nothing is sent
victim=$(new_job victim)
printf 'SECRET-VICTIM-SCRIPT\n' >"$victim/script.txt"
mkdir -p "$T_DIR/elsewhere" && printf '{"type": "object"}\n' >"$T_DIR/elsewhere/schema.json"
outside_case() { # WHAT SET-LINE EXPECTED-MESSAGE
    printf 'version: 1\nuse: script-to-media\nset:\n  %s\n' "$2" >"$job/workflow.yaml"
    gf run "$job"
    assert_eq "$1: run exits 2" 2 "$GF_RC"
    assert_file_contains "$1: explained at its place" "$job/workflow.yaml:4:" "$T_DIR/last.err"
    assert_file_contains "$1: explained" "$3" "$T_DIR/last.err"
}
outside_case "prompt ../victim/script.txt" "analysis.prompt: ../victim/script.txt" \
    "prompt file '../victim/script.txt' is outside the workflow's directory"
outside_case "prompt by absolute path" "analysis.prompt: $victim/script.txt" \
    "prompt file '$victim/script.txt' is outside the workflow's directory"
outside_case "schema ../" "analysis.schema: ../elsewhere/schema.json" \
    "schema file '../elsewhere/schema.json' is outside the workflow's directory"
ln -s "$victim/script.txt" "$job/stolen.txt"
outside_case "prompt -> another job's script" "analysis.prompt: stolen.txt" \
    "'stolen.txt' in '$job' is a symbolic link: refusing to read through it"
rm "$job/stolen.txt"
ln -s "$T_DIR/elsewhere" "$job/schemas"
outside_case "schema in a linked directory" "analysis.schema: schemas/schema.json" \
    "'schemas' in '$job' is a symbolic link: refusing to read through it"
rm "$job/schemas"
gf validate "$SRC_DIR/workflows/script-to-media.yaml"
assert_eq "the bundled workflow's own prompt files still load" 0 "$GF_RC"
rm -rf "$victim" "$job/workflow.yaml"

# limits no workflow meets (docs/security.md): each a file:line:column error, at once
{
    printf 'version: 1\nname: big\njunk:\n'
    for i in $(seq 1 40000); do printf '  k%d: v\n' "$i"; done
} >"$T_DIR/keys.yaml"
gf validate "$T_DIR/keys.yaml"
assert_eq "40,000 keys in a mapping: exits 2" 2 "$GF_RC"
assert_file_contains "40,000 keys in a mapping: the limit, where it was crossed" \
    "$T_DIR/keys.yaml:1004:3: too many keys in one mapping (more than 1000" "$T_DIR/last.err"
{
    printf 'version: 1\ndefaults:\n  model: gemini-3.5-flash\nstages:\n'
    for i in $(seq 0 64); do printf '  s%d:\n    kind: text\n    prompt: hi\n    output: s%d.txt\n' "$i" "$i"; done
} >"$T_DIR/stages.yaml"
gf validate "$T_DIR/stages.yaml"
assert_eq "65 stages: exits 2" 2 "$GF_RC"
assert_file_contains "65 stages: the 65th named" "$T_DIR/stages.yaml:261:3: too many stages (more than 64" "$T_DIR/last.err"

printf 'version: 1\nuse: script-to-media\n# caf\xe9\n' >"$job/workflow.yaml"
gf validate "$job/workflow.yaml"
assert_eq "non-UTF-8 workflow.yaml exits 2" 2 "$GF_RC"
assert_file_contains "non-UTF-8 workflow.yaml gives its line" "$job/workflow.yaml:3:" "$T_DIR/last.err"

printf 'version: 1\nuse: script-to-media\nset:\n  images.model: [a, b\n' >"$job/workflow.yaml"
gf plan "$job"
assert_eq "plan of a malformed workflow exits 2" 2 "$GF_RC"
assert_file_contains "plan names the place" "$job/workflow.yaml:5:1:" "$T_DIR/last.err"

gf run --workflow "$T_DIR/no-such.yaml" "$job"
assert_eq "--workflow FILE that is missing exits 2" 2 "$GF_RC"
assert_file_contains "--workflow FILE that is missing is named" "$T_DIR/no-such.yaml: cannot read the workflow" "$T_DIR/last.err"

# nothing of all this touched the finished job or called the API
rm -rf "$job/workflow.yaml" "$job/files"
assert_eq "the finished job is byte-identical" "$before_sum" "$(tree_sum "$job")"
assert_eq "no bad workflow made a request" "$requests" "$(fake_count true)"
gf run "$job"
assert_eq "the finished job still runs" 0 "$GF_RC"
assert_eq "and makes no call" "$requests" "$(fake_count true)"
finish
