#!/usr/bin/env bash
# What `gemflow run` prints while it runs. On a terminal (a pty from script(1)): live bars with
# real counts, redrawn at most 10 times a second, fitted to the terminal's width when it
# changes, colour unless NO_COLOR, the final state left on screen with the same percent as the
# last progress event, the cursor given back (also after SIGINT). Not on a terminal: plain
# timestamped lines without escape codes. --quiet: failures and the final line; --verbose: a
# line per call.
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "not ok: script(1) (bsdutils) is missing" >&2; exit 1; }
fake_start --latency-ms 300
# The bundled workflow's API stages (analysis, prompts, 8 images, 8 narrations), without any
# local stage after them: this test is about what the bars show of calls.
cp -r "$SRC_DIR/workflows" "$T_DIR/wf"
sed -i '/^  video:/,$d' "$T_DIR/wf/script-to-media.yaml"
# calls finish one after another, so the bars go through intermediate counts
SLOW=(--workflow "$T_DIR/wf/script-to-media.yaml" --set limits.concurrency=2)
# lift the bundled rpm pacing (lib.sh's FAST also sets video.*, which this workflow lacks)
if declare -p FAST_RPM >/dev/null 2>&1; then RPM=("${FAST_RPM[@]}"); else RPM=("${FAST[@]}"); fi
# gfr ARGS...: like gf, without gf's extra settings
gfr() {
    "$GEMFLOW" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
}
# helpers run beside gemflow on the terminal, driven by its progress log (bounded waits)
cat >"$T_DIR/resize.sh" <<'SH'
# resize.sh JOB: once JOB has its first image, narrow the terminal to 60 columns
for i in $(seq 6000); do grep -q '"event":"item_done","stage":"images"' "$1/progress.jsonl" 2>/dev/null && break; sleep 0.05; done
[ "$i" -lt 6000 ] || echo "# resize.sh: timed out after 300s waiting for the first image" >&2
stty cols 60 </dev/tty
SH
cat >"$T_DIR/stop.sh" <<'SH'
# stop.sh JOB: once JOB has 3 images, SIGINT the gemflow running it
for i in $(seq 6000); do
    n=$(grep -c '"event":"item_done","stage":"images"' "$1/progress.jsonl" 2>/dev/null)
    [ "${n:-0}" -ge 3 ] && break
    sleep 0.05
done
[ "$i" -lt 6000 ] || echo "# stop.sh: timed out after 300s waiting for 3 images" >&2
kill -INT "$(jq -s 'map(select(.event == "run_start")) | last | .pid' "$1/progress.jsonl")"
SH

# tty_run NAME SHELL-COMMAND: run it on a 110x40 pseudo-terminal. The bytes the terminal got
# are in $T_DIR/NAME.tty, script's timing of them in NAME.tim; the exit status in TTY_RC.
tty_run() {
    local raw="$T_DIR/$1.raw"
    script -q -e --log-out "$raw" --log-timing "$T_DIR/$1.tim" \
        -c "stty cols 110 rows 40; $2" </dev/null >/dev/null 2>&1
    TTY_RC=$?
    # drop script's header line and the "\nScript done" footer
    perl -0777 -ne 's/\A[^\n]*\n//; s/\n?Script done[^\n]*\n?\z//; print' "$raw" >"$T_DIR/$1.tty"
}
# visible FILE: the text lines written, escape sequences and carriage returns removed
visible() { perl -pe 's/\e\[[0-9;?]*[A-Za-z]//g; s/\r//g' "$1"; }
# final_block FILE: what was written after the last redraw started (the bars left on screen)
final_block() {
    perl -0777 -ne '@f = split /\e\[\?25l/; $_ = $f[-1]; s/\e\[[0-9;?]*[A-Za-z]//g; s/\r//g; print' "$1"
}
# widths: the visible width of each line on stdin (UTF-8 characters)
widths() { perl -ne 'utf8::decode($_); chomp; print length($_), "\n"'; }
# bar_lines: the lines on stdin that are bars (not the timestamped notes)
bar_lines() { grep -vE '^[0-9]{2}:[0-9]{2}:[0-9]{2} gemflow: ' | grep -v '^$'; }
# frame_times NAME: the time (s since start) at which each redraw reached the terminal
frame_times() {
    perl -e '
        open my $t, "<", $ARGV[0] or die; open my $r, "<", $ARGV[1] or die;
        local $/; my $data = <$r>; $data =~ s/\A[^\n]*\n//;
        $/ = "\n"; my ($pos, $now, @chunks) = (0, 0);
        while (<$t>) { my ($d, $n) = split; $now += $d; push @chunks, [$pos + $n, $now]; $pos += $n }
        my $i = 0;
        while (($i = index($data, "\e[?25l", $i)) >= 0) {
            for my $c (@chunks) { if ($i < $c->[0]) { printf "%.6f\n", $c->[1]; last } }
            $i++;
        }' "$T_DIR/$1.tim" "$T_DIR/$1.raw"
}
last_percent() { jq -s 'map(select(.event == "progress")) | last | .percent' "$1/progress.jsonl"; }
same_number() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }
gfq() { printf '%q ' "$GEMFLOW" "$@"; }

# --- live bars on a terminal, in colour, resized mid-run -----------------------------------
job=$(new_job live)
tty_run live "sh $(printf %q "$T_DIR/resize.sh") $(printf %q "$job") & exec env -u NO_COLOR LC_ALL=C.UTF-8 $(gfq run "${RPM[@]}" "${SLOW[@]}" "$job")"
assert_eq "run on a terminal exits 0" 0 "$TTY_RC"
out="$T_DIR/live.tty"
visible "$out" >"$T_DIR/live.txt"
final_block "$out" >"$T_DIR/live.final"
check "bars were drawn (cursor hidden while drawing)" grep -q $'\e\\[?25l' "$out"
assert_eq "the cursor is shown again at the end" 1 "$(perl -0777 -ne 'print /\e\[\?25h(?!.*\e\[\?25l)/s ? 1 : 0' "$out")"
check "images end at 8/8 on screen" grep -qE '^  images +(.* )?8/8  done in [0-9.]+s' "$T_DIR/live.final"
check "narration ends at 8/8 on screen" grep -qE '^  narration +(.* )?8/8  done in' "$T_DIR/live.final"
n=$(api_items "$job")
check "the job line ends at 100.0% with $n/$n items" grep -qE "^live +.*100\.0%  $n/$n items  done in" "$T_DIR/live.final"
check "an intermediate image count was shown while running" grep -qE '^  images +.* [1-7]/8  ' "$T_DIR/live.txt"
check "calls in flight were shown" grep -qE '^  (images|narration) +.* [0-7]/8  .*[12] in flight' "$T_DIR/live.txt"
check "an ETA was shown once calls had answered" grep -qE '^live +.*eta ([0-9]+s|<1s)' "$T_DIR/live.txt"
first_frame=$(perl -0777 -ne '@f = split /\e\[\?25l/; $_ = $f[1]; s/\e\[[0-9;?]*[A-Za-z]//g; print' "$out")
# before the analysis, one item is expected per API stage (the video is local)
api_stages=$("$GEMFLOW" validate "$job" | grep -oE '\((json|text|image|speech), ' | wc -l)
assert_contains "the first frame counts what is known" "0/~$api_stages items" "$first_frame"
case "$first_frame" in *eta*) fail "an ETA before any call answered: $first_frame" ;; *) ok "no ETA before any call answered" ;; esac
assert_contains "colour on a terminal" $'\e[32m' "$(cat "$out")"
assert_eq "the last progress event and the bars agree on the percent" 1 \
    "$(same_number "$(last_percent "$job")" "$(grep -oE '^live +.* ([0-9.]+)%' "$T_DIR/live.final" | grep -oE '[0-9.]+%$' | tr -d %)" && echo 1)"
# redraws: at most 10 a second. gemflow spaces them >= 100 ms on its own clock; script(1)
# may read two frames late and together, so any 11 consecutive frames must span >= 0.75 s.
frame_times live >"$T_DIR/live.frames"
n_frames=$(wc -l <"$T_DIR/live.frames")
check "enough redraws to judge the rate ($n_frames)" test "$n_frames" -ge 15
too_fast=$(awk '{ t[NR] = $1 } END { n = 0; for (i = 1; i + 10 <= NR; i++) if (t[i + 10] - t[i] < 0.75) n++; print n }' "$T_DIR/live.frames")
assert_eq "never more than 10 redraws a second" 0 "$too_fast"
# resized from 110 to 60 columns after the first image: bars were wider before, fit after
max_before=$(bar_lines <"$T_DIR/live.txt" | widths | sort -n | tail -1)
check "bars used the 110-column width ($max_before)" test "$max_before" -gt 60 -a "$max_before" -le 109
max_after=$(bar_lines <"$T_DIR/live.final" | widths | sort -n | tail -1)
check "bars fit the resized 60 columns ($max_after)" test "$max_after" -le 59 -a "$max_after" -gt 30

# --- NO_COLOR, ASCII bars, a failed image and retries ------------------------------------
curl -s -X POST --data '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "503", "times": 2}]' "$FAKE_URL/_fake/faults" >/dev/null
job2=$(new_job nocolor)
tty_run nocolor "exec env -u LC_ALL -u LC_CTYPE LANG=C NO_COLOR=1 $(gfq run "${RPM[@]}" "${SLOW[@]}" "$job2")"
assert_eq "a failed image exits 1 on a terminal too" 1 "$TTY_RC"
out="$T_DIR/nocolor.tty"
final_block "$out" >"$T_DIR/nocolor.final"
check "bars were drawn" grep -q $'\e\\[?25l' "$out"
assert_eq "NO_COLOR: no colour escapes" 0 "$(grep -c $'\e\\[[0-9;]*m' "$out")"
check "ASCII bars without a UTF-8 locale" grep -qE '^  narration +\[#+\] 8/8  ' "$T_DIR/nocolor.final"
check "the failed stage shows 7/8 and its failure" grep -qE '^  images +\[#+x+\] 7/8  1 failed, .*stage failed after' "$T_DIR/nocolor.final"
check "narration shows its 2 retries" grep -qE '^  narration +.* 8/8  2 retries, done in' "$T_DIR/nocolor.final"
check "the API's words reach the terminal" grep -q "invalid argument" "$out"
assert_eq "failed job: the last progress event and the bars agree on the percent" 1 \
    "$(same_number "$(last_percent "$job2")" "$(grep -oE '^nocolor +.* ([0-9.]+)%' "$T_DIR/nocolor.final" | grep -oE '[0-9.]+%$' | tr -d %)" && echo 1)"

# --- SIGINT: the bars stop where the log stops, and the cursor comes back -------------------
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
job3=$(new_job stopped)
tty_run stopped "sh $(printf %q "$T_DIR/stop.sh") $(printf %q "$job3") & exec $(gfq run "${RPM[@]}" "${SLOW[@]}" "$job3")"
assert_eq "SIGINT on a terminal exits 3" 3 "$TTY_RC"
final_block "$T_DIR/stopped.tty" >"$T_DIR/stopped.final"
bar_pct=$(grep -oE '^stopped +.* ([0-9.]+)%' "$T_DIR/stopped.final" | grep -oE '[0-9.]+%$' | tr -d %)
log_pct=$(last_percent "$job3")
check "interrupted: the bars stop short of 100% ($bar_pct)" awk -v p="$bar_pct" 'BEGIN { exit !(p > 0 && p < 100) }'
assert_eq "interrupted: the bars show the last progress event's percent" 1 "$(same_number "$log_pct" "$bar_pct" && echo 1)"
check "interrupted: the job line says so" grep -qE '^stopped +.*interrupted in' "$T_DIR/stopped.final"
check "interrupted: an unfinished stage says stopped" grep -qE '^  (images|narration) +.*stopped$' "$T_DIR/stopped.final"
assert_eq "interrupted: no ETA left on screen" 0 "$(grep -c 'eta ' "$T_DIR/stopped.final")"
assert_eq "the cursor is shown again after SIGINT" 1 "$(perl -0777 -ne 'print /\e\[\?25h(?!.*\e\[\?25l)/s ? 1 : 0' "$T_DIR/stopped.tty")"

# --- not a terminal: plain timestamped lines ---------------------------------------------
curl -s -X POST --data '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "skip": 2, "times": 1},
 {"model": "gemini-3.8-flash-tts", "kind": "503", "times": 1}]' "$FAKE_URL/_fake/faults" >/dev/null
job4=$(new_job plain)
gfr run "${RPM[@]}" "${SLOW[@]}" "$job4"
assert_eq "a failed image exits 1" 1 "$GF_RC"
err="$T_DIR/last.err"
cp "$err" "$T_DIR/plain.err"
assert_eq "no escape codes when not a terminal" 0 "$(grep -c $'\e' "$err")"
assert_eq "every line is timestamped" 0 "$(grep -cvE '^[0-9]{2}:[0-9]{2}:[0-9]{2} gemflow: plain: ' "$err")"
check "stage starts are told" grep -qE 'gemflow: plain: stage images: 8 items, 0 cached, 8 to call$' "$err"
check "the retry is told with the API's words" grep -qE 'narration/[^:]+: retry 2 in [0-9.]+s: .*overloaded' "$err"
check "the failed item is told with the API's words" grep -qE 'images/[^ ]+ failed: HTTP 400 INVALID_ARGUMENT: .*invalid argument' "$err"
check "the failed stage is told" grep -qE 'stage images failed: 7 done, 1 failed$' "$err"
check "the run end is told (every call and the retry)" grep -qE "gemflow: plain: failed in [0-9.]+s: $(($(api_items "$job4") + 1)) calls" "$err"
assert_eq "no per-call lines without --verbose" 0 "$(grep -c 'calling ' "$err")"

# --quiet: the failures and the final line, nothing else
curl -s -X POST --data '[{"match": "16:9", "model": "gemini-nano-banana-2.1", "kind": "400", "times": 1}]' "$FAKE_URL/_fake/faults" >/dev/null
gfr run -q "${RPM[@]}" "${SLOW[@]}" "$job4"
assert_eq "the image fails again" 1 "$GF_RC"
assert_eq "--quiet: two failure lines and the final line" 3 "$(wc -l <"$T_DIR/last.err")"
check "--quiet: the failure" grep -qE 'images/[^ ]+ failed: HTTP 400' "$T_DIR/last.err"
check "--quiet: the final line" grep -qE 'plain: failed in [0-9.]+s: 1 call' "$T_DIR/last.err"
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
# --quiet on a terminal: no bars either
tty_run quiet "exec $(gfq rerun -q "${RPM[@]}" "${SLOW[@]}" "$job" narration)"
assert_eq "quiet rerun on a terminal exits 0" 0 "$TTY_RC"
assert_eq "--quiet on a terminal: no bars" 0 "$(grep -c $'\e\\[?25l' "$T_DIR/quiet.tty")"
visible "$T_DIR/quiet.tty" | grep -v '^$' >"$T_DIR/quiet.txt"
assert_eq "--quiet on a terminal: only the final line" 1 "$(wc -l <"$T_DIR/quiet.txt")"
check "--quiet: it is the final line" grep -qE 'live: done in [0-9.]+s: 8 calls' "$T_DIR/quiet.txt"

# --verbose: a line per call start and end; --color forces colour off a terminal
before=$(fake_count true)
gfr rerun -v --color "${RPM[@]}" "${SLOW[@]}" "$job" images
assert_eq "verbose rerun exits 0" 0 "$GF_RC"
calls=$(( $(fake_count true) - before ))
assert_eq "--verbose: a line per call start" "$calls" "$(grep -c 'images/[^:]*: calling gemini-nano-banana-2.1 (attempt 1)' "$T_DIR/last.err")"
assert_eq "--verbose: a line per call end" "$calls" "$(grep -cE 'images/[^:]*: HTTP 200 in [0-9.]+s, [0-9]+ tokens' "$T_DIR/last.err")"
check "--verbose: progress lines with percent" grep -qE "live: progress 100\.0%, $n/$n items" "$T_DIR/last.err"
check "--color: colour even when not a terminal" grep -q $'\e\\[' "$T_DIR/last.err"
finish
