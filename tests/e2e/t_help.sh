#!/usr/bin/env bash
# Help, git style: `gemflow --help`, `gemflow help CMD` and `gemflow CMD --help` for every
# command; the man page documents every command and renders without warnings; the bash
# completion offers commands, options, job directories, stage names and item ids; `cmake
# --install` installs the man page and the completion.
source "$(dirname "$0")/lib.sh"
# speed_up DIR: give the job a workflow.yaml carrying the test speed-ups of lib.sh (FAST), so
# that status, plan, accept and report compute the same requests as the runs do; prints DIR
speed_up() {
    local s
    {
        printf 'version: 1\nuse: script-to-media\nset:\n'
        for s in "${FAST[@]}"; do [ "$s" = --set ] || printf '  %s: %s\n' "${s%%=*}" "${s#*=}"; done
    } >"$1/workflow.yaml"
    echo "$1"
}
# fast_job NAME: a copy of the sample job with those speed-ups
fast_job() { speed_up "$(new_job "$1")"; }

"$GEMFLOW" --help >"$T_DIR/help.out" 2>"$T_DIR/help.err"
assert_eq "--help exits 0" 0 "$?"
assert_eq "--help writes to stdout only" "" "$(cat "$T_DIR/help.err")"
cmds=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' "$T_DIR/help.out")
check "--help lists the commands" test "$(echo "$cmds" | wc -l)" -ge 10
for c in run rerun plan accept status log inspect report watch validate; do
    echo "$cmds" | grep -qx "$c" || fail "--help does not list '$c'"
done
ok "--help lists the commands of the design"
"$GEMFLOW" >/dev/null 2>"$T_DIR/none.err"
assert_eq "no command: exit 2" 2 "$?"
assert_contains "no command: the help on stderr" "usage: gemflow" "$(cat "$T_DIR/none.err")"

for c in $cmds; do
    "$GEMFLOW" "$c" --help >"$T_DIR/a.out" 2>"$T_DIR/a.err"
    rc=$?
    "$GEMFLOW" help "$c" >"$T_DIR/b.out" 2>&1
    "$GEMFLOW" "$c" -h >"$T_DIR/c.out" 2>&1
    if [ $rc -ne 0 ] || ! head -1 "$T_DIR/a.out" | grep -q "^usage: gemflow $c" || [ -s "$T_DIR/a.err" ]; then
        fail "gemflow $c --help: exit $rc, $(head -1 "$T_DIR/a.out")"
    elif ! cmp -s "$T_DIR/a.out" "$T_DIR/b.out" || ! cmp -s "$T_DIR/a.out" "$T_DIR/c.out"; then
        fail "gemflow help $c, $c --help and $c -h differ"
    else
        ok "help of $c (--help, -h, help $c)"
    fi
done
# One option table: every option a command parses (its list in the command table, printed by
# `gemflow __complete options CMD`) is in its --help, and its --help offers no other.
# has_opt OPTION TEXT: whether TEXT names OPTION as a word ("--tier TIER", "-q, --quiet",
# "--color[=WHEN]", "; --no-color is never")
has_opt() { grep -qE -- "(^|[ ,(\"])$1([ =,.;)\"[]|\$)" <<<"$2"; }
for c in $cmds; do
    opts=$("$GEMFLOW" __complete options "$c" | awk '{ print $1 }')
    if [ -z "$opts" ]; then
        fail "gemflow __complete options $c: no options"
        continue
    fi
    help=$("$GEMFLOW" "$c" --help)
    missing="" extra=""
    for o in $opts; do has_opt "$o" "$help" || missing+=" $o"; done
    for o in $(grep -oE '^  (-[a-zA-Z], )?--?[a-z][a-z-]*' <<<"$help" | sed -E 's/^ +//; s/, /\n/'); do
        grep -qx -- "$o" <<<"$opts" || extra+=" $o"
    done
    assert_eq "$c --help names every option it takes" "" "$missing"
    assert_eq "$c --help offers no option it does not take" "" "$extra"
done
for c in run rerun watch plan; do
    for o in --tier --no-model-check; do
        has_opt "$o" "$("$GEMFLOW" "$c" --help)" || fail "$c --help lacks $o"
    done
done
ok "run, rerun, watch and plan --help name --tier and --no-model-check"
assert_contains "plan --help says that with a key it checks the models (free)" "free models.get" \
    "$("$GEMFLOW" plan --help | tr '\n' ' ' | tr -s ' ')"
assert_contains "accept --help names the image formats accept takes" "PNG, JPEG or WebP" \
    "$("$GEMFLOW" accept --help | tr '\n' ' ' | tr -s ' ')"

"$GEMFLOW" help nosuch >"$T_DIR/x.out" 2>"$T_DIR/x.err"
assert_eq "help of an unknown command: exit 2" 2 "$?"
assert_eq "help of an unknown command: nothing on stdout" "" "$(cat "$T_DIR/x.out")"
assert_contains "help of an unknown command: says so" "'nosuch' is not a gemflow command" "$(cat "$T_DIR/x.err")"
"$GEMFLOW" nosuch >/dev/null 2>&1
assert_eq "an unknown command: exit 2" 2 "$?"
"$GEMFLOW" status --bogus >/dev/null 2>"$T_DIR/x.err"
assert_eq "an unknown option: exit 2" 2 "$?"
assert_contains "an unknown option points to the help" "see 'gemflow status --help'" "$(cat "$T_DIR/x.err")"
# one parser: every command words the same mistake the same way
for c in $cmds; do
    "$GEMFLOW" "$c" --frobnicate x >/dev/null 2>"$T_DIR/x.err"
    rc=$?
    if [ "$rc" != 2 ] || ! grep -qx "gemflow: unknown option '--frobnicate'" "$T_DIR/x.err"; then
        fail "$c --frobnicate: exit $rc, said: $(head -c 300 "$T_DIR/x.err")"
    fi
    "$GEMFLOW" "$c" -Z x >/dev/null 2>"$T_DIR/x.err"
    grep -qx "gemflow: unknown option '-Z'" "$T_DIR/x.err" || fail "$c -Z said: $(head -c 300 "$T_DIR/x.err")"
done
ok "every command: the same words for an unknown option"
for c in run rerun plan validate status accept report watch; do
    "$GEMFLOW" "$c" --workflow >/dev/null 2>"$T_DIR/x.err"
    grep -qx "gemflow: option '--workflow' needs a value" "$T_DIR/x.err" ||
        fail "$c --workflow (no value) said: $(head -c 300 "$T_DIR/x.err")"
done
ok "every job command: the same words for a missing value"

# the man page
man1="$SRC_DIR/docs/gemflow.1"
for c in $cmds; do
    grep -q "^\.SS \"$c " "$man1" || fail "the man page has no section for '$c'"
done
ok "the man page has a section per command"
# ... and names every option of each command: in its section (rerun's says "as for run"), or,
# for --set, --workflow and --endpoint, in JOB OPTIONS when that names the command
man_section() { # CMD: its .SS section as text (\- is -, fonts dropped)
    awk -v c="$1" 'index($0, ".SS \"" c " ") == 1 { on = 1; next } on && /^\.S[SH] / { exit } on' "$man1" |
        sed 's/\\-/-/g; s/\\f[BIRP]//g'
}
job_opts_cmds=$(sed -n '/^\.SH JOB OPTIONS/,/^take:/p' "$man1" | tr -d '".,' | tr ' ' '\n')
for c in $cmds; do
    sect=$(man_section "$c")
    case $sect in *"Options as for"*) sect+=$(man_section run) ;; esac
    missing=""
    for o in $("$GEMFLOW" __complete options "$c" | awk '{ print $1 }'); do
        case $o in --set | --workflow | --endpoint) grep -qx "$c" <<<"$job_opts_cmds" && continue ;; esac
        has_opt "$o" "$sect" || missing+=" $o"
    done
    assert_eq "the man page names every option of $c" "" "$missing"
done
groff -man -ww -z "$man1" >"$T_DIR/groff.out" 2>&1
assert_eq "the man page renders without warnings" "" "$(cat "$T_DIR/groff.out")"
for code in $(grep -oE '[0-9] [a-z]' "$T_DIR/help.out" | cut -c1 | sort -u); do
    grep -A1 '^\.TP' "$man1" | grep -qx "\.B $code" || fail "the man page does not document exit status $code"
done
ok "the man page documents every exit status --help names"

# the bash completion
fake_start
job=$(fast_job done)
gf run "$job"
assert_eq "a job to complete on" 0 "$GF_RC"
# comp WORD...: the completions of the last word (empty string: a new word)
comp() {
    (
        cd "$T_DIR" || exit 1
        source "$SRC_DIR/contrib/gemflow.bash-completion"
        COMP_WORDS=("$GEMFLOW" "$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _gemflow
        printf '%s\n' "${COMPREPLY[@]}" | sort
    )
}
check "completion is registered for gemflow" bash -c "source '$SRC_DIR/contrib/gemflow.bash-completion' && complete -p gemflow | grep -q _gemflow"
assert_eq "commands" "$(printf '%s\n' $cmds help --help --version | sort)" "$(comp "")"
assert_eq "a command prefix" "$(echo "$cmds" | grep '^re' | sort)" "$(comp re)"
assert_eq "options of status" "--jobs
--json" "$(comp status --j)"
assert_eq "job directories" "done" "$(comp status d)"
stages=$("$GEMFLOW" status --json "$job" | jq -r '.jobs[0].stages[].name' | sort)
assert_eq "stage names for accept" "$stages" "$(comp accept done "")"
assert_eq "stage names for rerun" "$stages" "$(comp rerun done "")"
assert_eq "item ids for accept" "$(jq -r '.scenes[].id' "$job/prompts.json" | sort)" "$(comp accept done images "")"
assert_eq "recorded stages for inspect" "$(ls "$job/.gemflow/calls" | sort)" "$(comp inspect done "")"
assert_eq "recorded items for inspect" "$(ls "$job/.gemflow/calls/narration" | sed 's/\.json$//' | sort)" "$(comp inspect done narration "")"
assert_eq "option values are skipped" "$stages" "$(comp accept --set images.aspect_ratio=1:1 done "")"
assert_eq "--color values" "always" "$(comp log --color al)"
assert_eq "--allow-job-workflows values" "set" "$(comp watch --allow-job-workflows s)"
assert_eq "watch offers --allow-job-workflows" "--allow-job-workflows" "$(comp watch --allow)"
for c in run rerun watch; do
    assert_eq "$c offers --tier, --strict-models and --no-model-check" \
        "--tier --strict-models --no-model-check" "$(echo $(comp "$c" --ti) $(comp "$c" --st) $(comp "$c" --no-m))"
done
assert_eq "plan offers --tier and --prices" "--tier --prices" "$(echo $(comp plan --ti) $(comp plan --pr))"
assert_eq "--tier values" "flex" "$(comp run --tier f)"
assert_eq "the value of --tier is not a job" "$stages" "$(comp rerun --tier flex done "")"

# cmake --install puts the man page and the completion in place
build=${GEMFLOW_BUILD_DIR:-$(dirname "$GEMFLOW")} # the CMake build holding gemflow
if [ -f "$build/CMakeCache.txt" ]; then
    cmake --install "$build" --prefix "$T_DIR/prefix" >"$T_DIR/install.out" 2>&1
    assert_eq "cmake --install exits 0" 0 "$?"
    check "the man page is installed" cmp -s "$man1" "$T_DIR/prefix/share/man/man1/gemflow.1"
    check "the completion is installed" cmp -s "$SRC_DIR/contrib/gemflow.bash-completion" \
        "$T_DIR/prefix/share/bash-completion/completions/gemflow"
    check "the status schema is installed" cmp -s "$SRC_DIR/docs/status.schema.json" \
        "$T_DIR/prefix/share/gemflow/status.schema.json"
else
    fail "no CMake build directory next to $GEMFLOW"
fi
finish
