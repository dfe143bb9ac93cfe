#!/usr/bin/env bash
# Terminal escapes in text gemflow did not write itself (docs/security.md, "Text printed for
# people is sanitized"): an API error message carrying a window-title OSC with BEL, a
# clear-screen CSI, a carriage return, the C1 CSI U+009B and DEL (the fake's 400-controls), and
# a hand-written progress log full of them. What run (plain lines, and live bars on a pty),
# status, log and inspect print holds none of those bytes, yet still shows the words around
# them; --json output stays data (escaped JSON).
source "$(dirname "$0")/lib.sh"
export NO_COLOR=1

# controls FILE: the C0 controls other than \n and \t, DEL, C1 controls and stray bytes found in
# FILE, as hex ("" when none).
controls() {
    LC_ALL=C grep -aoP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1" | od -An -tx1 | tr -s ' \n' ' '
}
# clean WHAT FILE: FILE holds no control byte, and does hold the words of the message.
clean() {
    assert_eq "$1: no control character is printed" "" "$(controls "$2" | tr -d ' ')"
}

cat >"$T_DIR/faults.json" <<'JSON'
[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400-controls"}]
JSON
fake_start --faults "$T_DIR/faults.json"
job=$(new_job hostile)
gf run -v "$job"
assert_eq "the images fail with the API's 400" 1 "$GF_RC"
# the error parser already blanks C0 controls and DEL; the C1 CSI is recorded as it came
check "the API's message reached progress.jsonl with a raw C1 control" \
    test -n "$(controls "$job/progress.jsonl")"
clean "run (plain lines)" "$T_DIR/last.err"
assert_file_contains "run: the API's words are still shown" "OVERWRITTEN ?31mC1-CSI" "$T_DIR/last.err"

for cmd in status log; do
    gf $cmd --color=never "$job"
    clean "$cmd" "$T_DIR/last.out"
    cat "$T_DIR/last.err" >>"$T_DIR/stderr.all"
done
gf status --color=never "$job"
assert_file_contains "status: the words survive" "OVERWRITTEN ?31mC1-CSI" "$T_DIR/last.out"
gf log --color=never "$job"
assert_file_contains "log: the words survive" "OVERWRITTEN ?31mC1-CSI" "$T_DIR/last.out"
gf inspect --color=never "$job" images
clean "inspect (the list)" "$T_DIR/last.out"
assert_file_contains "inspect: the words survive" "OVERWRITTEN ?31mC1-CSI" "$T_DIR/last.out"
gf inspect --color=never "$job" images s01
clean "inspect (one record)" "$T_DIR/last.out"
for json in "status --json" "log --json" "inspect --raw"; do
    case $json in inspect*) args=(images s01) ;; *) args=() ;; esac
    gf $json "$job" "${args[@]}"
    clean "$json (the control escaped)" "$T_DIR/last.out"
    check "$json: still JSON" jq -e . "$T_DIR/last.out" >/dev/null
done
gf status --json "$job"
assert_eq "status --json: the message decodes to the C1 control it carried" "c2 9b" \
    "$(jq -j '[.. | strings | select(test("OVERWRITTEN"))][0]' "$T_DIR/last.out" |
        LC_ALL=C grep -aoP '\xc2\x9b' | head -c 2 | od -An -tx1 | sed 's/^ //')"

# live bars on a pseudo-terminal: our own escape sequences only
if command -v script >/dev/null; then
    job2=$(new_job hostile-live)
    cmd="exec env -u NO_COLOR $(printf %q "$GEMFLOW") run -v ${FAST[*]} $(printf %q "$job2")"
    script -q -e --log-out "$T_DIR/live.tty" -c "$cmd" </dev/null >/dev/null 2>&1
    assert_eq "live run: the images fail" 1 "$?"
    check "live: no OSC (window title) from the message" \
        test -z "$(LC_ALL=C grep -aoP '\x1b\]' "$T_DIR/live.tty")"
    check "live: no BEL" test -z "$(LC_ALL=C grep -aoP '\x07' "$T_DIR/live.tty")"
    check "live: no clear-screen" test -z "$(LC_ALL=C grep -aoP '\x1b\[2J' "$T_DIR/live.tty")"
    check "live: no C1 control" test -z "$(LC_ALL=C grep -aoP '\xc2[\x80-\x9f]' "$T_DIR/live.tty")"
    check "live: no DEL" test -z "$(LC_ALL=C grep -aoP '\x7f' "$T_DIR/live.tty")"
    assert_file_contains "live: the words are shown" "OVERWRITTEN ?31mC1-CSI" "$T_DIR/live.tty"
fi
fake_stop

# a progress log written by hand (a job dropped with one): stage, item and messages of controls
job3="$T_DIR/handmade"
mkdir -p "$job3"
cp "$SRC_DIR/samples/lighthouse/script.txt" "$job3/"
esc=$'\x1b' bel=$'\x07' cr=$'\r' csi=$'\xc2\x9b' del=$'\x7f'
{
    printf '{"ts":"2026-12-04T10:00:00.000Z","event":"run_start","pid":1,"workflow":"x%s]0;t%s","version":"0.1.0"}\n' "$esc" "$bel"
    printf '{"ts":"2026-12-04T10:00:01.000Z","event":"stage_start","stage":"analysis","items":1,"cached":0}\n'
    printf '{"ts":"2026-12-04T10:00:02.000Z","event":"item_failed","stage":"analysis","item":"analysis","attempts":1,"error":{"kind":"http","http_status":400,"status":"INVALID_ARGUMENT","message":"bad %s[2J%sCR %s31m C1 %s DEL","finish_reason":null,"block_reason":null}}\n' "$esc" "$cr" "$csi" "$del"
    printf 'not json %s]0;raw-line%s %s\n' "$esc" "$bel" "$csi"
    printf '{"ts":"2026-12-04T10:00:03.000Z","event":"run_end","state":"failed","ms":3000,"calls":1,"tokens":0,"cost_estimate":0}\n'
} >"$job3/progress.jsonl"
check "the hand-made log really holds the controls" test -n "$(controls "$job3/progress.jsonl")"
gf status --color=never "$job3"
clean "status of a hand-made log" "$T_DIR/last.out"
gf log --color=never "$job3"
clean "log of a hand-made log" "$T_DIR/last.out"
assert_file_contains "log: the broken line is shown, sanitized" "?]0;raw-line? ?" "$T_DIR/last.out"
clean "stderr of status and log" "$T_DIR/stderr.all"
finish
